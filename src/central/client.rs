//! Asking central for one authorization, and reading its answer as an [`Outcome`].
//!
//! The transport (HTTP, or the simulator in-process for paused-clock tests) only moves bytes;
//! everything that decides what an answer means lives here, so both transports share it.

use crate::i18n::Lang;
use crate::tr;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::verify::{AuthorizationProblem, CardFacts, VerifiedAuthorization, Verifier};
use super::wire::{AuthorizationRequest, PendingAnswer, RefusalAnswer, SignedAuthorization, SignedDenial};
use crate::domain::nik::redact_niks;

/// When central says "later" without saying when.
const DEFAULT_RETRY_AFTER: Duration = Duration::from_secs(60);
/// Answers longer than this are not central's.
pub const MAX_ANSWER_BYTES: usize = 64 * 1024;
/// The longest `Retry-After` honoured; a longer one is cut to this.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(24 * 3600);

/// Central's answer as the transport received it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawAnswer {
    pub status: u16,
    /// The `Retry-After` header, when present and readable.
    pub retry_after: Option<Duration>,
    pub body: Vec<u8>,
}

/// No answer at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransportError {
    #[error("no answer within {} ms", .0.as_millis())]
    Timeout(Duration),
    #[error("cannot connect: {0}")]
    Connect(String),
    #[error("the connection failed: {0}")]
    Connection(String),
}

pub type TransportFuture<'a> = Pin<Box<dyn Future<Output = Result<RawAnswer, TransportError>> + Send + 'a>>;

/// Moves an authorization request to central and its answer back.
pub trait CentralTransport: Send + Sync + 'static {
    fn post_authorization<'a>(&'a self, request: &'a AuthorizationRequest) -> TransportFuture<'a>;
    /// Where central is, for logs and staff (a URL).
    fn describe(&self) -> String;
}

/// What an answer means for the job and for central's state. Each variant's
/// [`Outcome::reason`] is written for staff.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// `201`: a verified authorization for this card.
    Authorized(VerifiedAuthorization),
    /// A genuine authorization for this card that has already expired: kept, and a fresh one
    /// asked for under a new request id.
    Expired { authorization: SignedAuthorization, expires_at: DateTime<Utc> },
    /// `202`: the record is still being cleared.
    Pending { retry_after: Duration },
    /// `403` / `409`: never to be printed.
    Denied { reason: String },
    /// `401`: this office's credentials are refused; retrying will not help.
    BadCredentials { detail: String },
    /// `429`: central asks this office to slow down.
    RateLimited { retry_after: Duration },
    /// `503`, other `5xx`, timeouts, refused or dropped connections.
    Unavailable { detail: String, retry_after: Option<Duration> },
    /// An answer that cannot be used: unreadable, badly signed, for another card, unexpected status.
    /// `suspect_key` when the signature does not verify with the configured key: then every
    /// answer will fail the same way, which staff must hear about.
    Malformed { detail: String, suspect_key: bool },
}

impl Outcome {
    /// Why the job is where it goes next, for staff.
    pub fn reason(&self) -> String {
        match self {
            Outcome::Authorized(verified) => tr!(
                Lang::En,
                "said-central-authorized",
                id = &verified.authorization.authorization_id,
                until = verified.expires_at.format("%Y-%m-%d %H:%M UTC").to_string()
            ),
            Outcome::Expired { authorization, expires_at } => tr!(
                Lang::En,
                "said-central-expired",
                id = &authorization.authorization_id,
                at = expires_at.format("%Y-%m-%d %H:%M UTC").to_string()
            ),
            Outcome::Pending { .. } => tr!(Lang::En, "said-central-pending"),
            Outcome::Denied { reason } => tr!(Lang::En, "said-central-denied", why = reason),
            Outcome::BadCredentials { detail } => tr!(Lang::En, "said-central-bad-credentials", detail = detail),
            Outcome::RateLimited { .. } => tr!(Lang::En, "said-central-rate-limited"),
            Outcome::Unavailable { detail, .. } => tr!(Lang::En, "said-central-unreachable", detail = detail),
            Outcome::Malformed { detail, .. } => tr!(Lang::En, "said-central-malformed", detail = detail),
        }
    }

    /// A short stable name, for logs and metrics.
    pub fn kind(&self) -> &'static str {
        match self {
            Outcome::Authorized(_) => "authorized",
            Outcome::Expired { .. } => "expired",
            Outcome::Pending { .. } => "pending",
            Outcome::Denied { .. } => "denied",
            Outcome::BadCredentials { .. } => "bad_credentials",
            Outcome::RateLimited { .. } => "rate_limited",
            Outcome::Unavailable { .. } => "unavailable",
            Outcome::Malformed { .. } => "malformed",
        }
    }
}

/// Asks central and reads its answers.
#[derive(Clone)]
pub struct CentralClient {
    transport: Arc<dyn CentralTransport>,
    verifier: Verifier,
    timeout: Duration,
}

impl std::fmt::Debug for CentralClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CentralClient").field("central", &self.transport.describe()).finish_non_exhaustive()
    }
}

impl CentralClient {
    /// `timeout` bounds the whole exchange, whatever the transport does on its own.
    pub fn new(transport: Arc<dyn CentralTransport>, verifier: Verifier, timeout: Duration) -> CentralClient {
        CentralClient { transport, verifier, timeout }
    }

    pub fn describe(&self) -> String {
        self.transport.describe()
    }

    pub fn verifier(&self) -> &Verifier {
        &self.verifier
    }

    /// Asks for one authorization; `now` judges its expiry. Never fails: every way it can go
    /// wrong is an [`Outcome`].
    pub async fn authorize(&self, request: &AuthorizationRequest, now: DateTime<Utc>) -> Outcome {
        let answer = match tokio::time::timeout(self.timeout, self.transport.post_authorization(request)).await {
            Ok(Ok(answer)) => answer,
            Ok(Err(error)) => return Outcome::Unavailable { detail: error.to_string(), retry_after: None },
            Err(_) => {
                let detail = TransportError::Timeout(self.timeout).to_string();
                return Outcome::Unavailable { detail, retry_after: None };
            }
        };
        interpret(&self.verifier, request, &answer, now)
    }
}

/// What an answer means, given the request it answers.
pub fn interpret(
    verifier: &Verifier,
    request: &AuthorizationRequest,
    answer: &RawAnswer,
    now: DateTime<Utc>,
) -> Outcome {
    let malformed = |detail: String| Outcome::Malformed { detail, suspect_key: false };
    if answer.body.len() > MAX_ANSWER_BYTES {
        return malformed(format!("HTTP {} with a {}-byte body", answer.status, answer.body.len()));
    }
    match answer.status {
        200 | 201 => {
            let authorization: SignedAuthorization = match serde_json::from_slice(&answer.body) {
                Ok(authorization) => authorization,
                Err(error) => return malformed(format!("HTTP {} without an authorization: {error}", answer.status)),
            };
            let card = CardFacts {
                nik: Some(&request.nik),
                enrollment_id: &request.enrollment_id,
                office: &request.office,
                card_digest: &request.card_digest,
            };
            match verifier.check(&authorization, &card, now) {
                Ok(checked) => Outcome::Authorized(checked),
                Err(AuthorizationProblem::Expired { expires_at }) => Outcome::Expired { authorization, expires_at },
                Err(problem) => Outcome::Malformed {
                    detail: problem.to_string(),
                    suspect_key: matches!(
                        problem,
                        AuthorizationProblem::BadSignature | AuthorizationProblem::UnknownKey { .. }
                    ),
                },
            }
        }
        202 => {
            let body: Option<PendingAnswer> = serde_json::from_slice(&answer.body).ok();
            let from_body = body.and_then(|b| b.retry_after_s).map(Duration::from_secs);
            Outcome::Pending { retry_after: answer.retry_after.or(from_body).unwrap_or(DEFAULT_RETRY_AFTER) }
        }
        403 | 409 => {
            // Only central's signed word rejects a job for good: an unsigned refusal may be a
            // proxy's error page, and the job waits for central instead.
            let card = CardFacts {
                nik: Some(&request.nik),
                enrollment_id: &request.enrollment_id,
                office: &request.office,
                card_digest: &request.card_digest,
            };
            let Ok(denial) = serde_json::from_slice::<SignedDenial>(&answer.body) else {
                let said = serde_json::from_slice::<RefusalAnswer>(&answer.body)
                    .ok()
                    .and_then(|b| b.reason)
                    .filter(|r| !r.trim().is_empty())
                    .map_or_else(String::new, |reason| format!(": {}", truncate(&reason, 200)));
                return Outcome::Malformed {
                    detail: format!(
                        "an unsigned refusal (HTTP {}){said}; not taken as central's denial",
                        answer.status
                    ),
                    suspect_key: true,
                };
            };
            match verifier.check_denial(&denial, &card) {
                // Central may quote the NIK it refused; the reason is logged, stored and sent upstream.
                Ok(()) => Outcome::Denied { reason: truncate(&redact_niks(&denial.reason), 500) },
                Err(problem) => Outcome::Malformed {
                    detail: format!("a denial (HTTP {}) that does not verify: {problem}", answer.status),
                    suspect_key: true,
                },
            }
        }
        401 => Outcome::BadCredentials { detail: refusal_detail(&answer.body, "no detail given") },
        429 => Outcome::RateLimited { retry_after: answer.retry_after.unwrap_or(DEFAULT_RETRY_AFTER) },
        503 => Outcome::Unavailable {
            detail: format!("HTTP 503 ({})", refusal_detail(&answer.body, "service unavailable")),
            retry_after: answer.retry_after,
        },
        status @ 500..=599 => Outcome::Unavailable {
            detail: format!("HTTP {status} ({})", refusal_detail(&answer.body, "server error")),
            retry_after: answer.retry_after,
        },
        status => malformed(format!("unexpected HTTP {status} ({})", refusal_detail(&answer.body, "no detail"))),
    }
}

fn refusal_detail(body: &[u8], fallback: &str) -> String {
    serde_json::from_slice::<RefusalAnswer>(body)
        .ok()
        .and_then(|b| b.reason)
        .map_or_else(|| fallback.to_owned(), |reason| truncate(&reason, 200))
}

fn truncate(text: &str, max_chars: usize) -> String {
    if text.chars().count() <= max_chars {
        return text.to_owned();
    }
    let mut cut: String = text.chars().take(max_chars).collect();
    cut.push('…');
    cut
}

/// Reads a `Retry-After` value: delay-seconds, or an HTTP date (judged against `now`).
pub fn parse_retry_after(value: &str, now: DateTime<Utc>) -> Option<Duration> {
    let value = value.trim();
    let asked = if let Ok(seconds) = value.parse::<u64>() {
        Duration::from_secs(seconds)
    } else {
        let at = DateTime::parse_from_rfc2822(value).ok()?.with_timezone(&Utc);
        (at - now).to_std().unwrap_or(Duration::ZERO)
    };
    // A proxy's or a broken central's "come back in 10^19 seconds" must neither overflow the
    // time arithmetic nor park the office's work for years.
    Some(asked.min(MAX_RETRY_AFTER))
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;
    use ed25519_dalek::SigningKey;

    use crate::central::wire::key_id;

    fn key() -> SigningKey {
        SigningKey::from_bytes(&[9; 32])
    }

    fn verifier() -> Verifier {
        let public = base64::engine::general_purpose::STANDARD.encode(key().verifying_key().as_bytes());
        Verifier::from_base64(&public, Duration::from_secs(60)).unwrap()
    }

    fn request() -> AuthorizationRequest {
        AuthorizationRequest {
            request_id: "r1".into(),
            nik: "1502015203850001".into(),
            enrollment_id: "e1".into(),
            office: "1502".into(),
            card_digest: "d".repeat(64),
        }
    }

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-28T00:00:00Z").unwrap().with_timezone(&Utc)
    }

    fn answer(status: u16, body: &str, retry_after: Option<u64>) -> RawAnswer {
        RawAnswer { status, retry_after: retry_after.map(Duration::from_secs), body: body.as_bytes().to_vec() }
    }

    fn authorization(expires_at: &str) -> String {
        serde_json::to_string(&crate::central::verify::signed_example(&key(), &"d".repeat(64), expires_at)).unwrap()
    }

    fn check(status: u16, body: &str, retry_after: Option<u64>) -> Outcome {
        interpret(&verifier(), &request(), &answer(status, body, retry_after), now())
    }

    #[test]
    fn a_huge_retry_after_is_clamped_not_a_panic() {
        assert_eq!(parse_retry_after("18446744073709551615", now()), Some(MAX_RETRY_AFTER));
        assert_eq!(parse_retry_after("Fri, 31 Dec 9999 23:59:59 GMT", now()), Some(MAX_RETRY_AFTER));
        assert_eq!(parse_retry_after("120", now()), Some(Duration::from_secs(120)));
    }

    #[test]
    fn every_answer_maps_to_its_outcome() {
        assert!(matches!(check(201, &authorization("2026-12-04T00:00:00Z"), None), Outcome::Authorized(_)));
        assert!(matches!(check(201, &authorization("2026-11-27T12:00:00Z"), None), Outcome::Expired { .. }));
        assert_eq!(
            check(202, r#"{"status":"pending","retry_after_s":30}"#, None),
            Outcome::Pending { retry_after: Duration::from_secs(30) }
        );
        assert_eq!(check(202, "", Some(5)), Outcome::Pending { retry_after: Duration::from_secs(5) });
        assert_eq!(
            check(403, &denial("duplicate record"), None),
            Outcome::Denied { reason: "duplicate record".into() }
        );
        assert_eq!(check(409, &denial("data differs"), None), Outcome::Denied { reason: "data differs".into() });
        assert_eq!(
            check(403, &denial("NIK 1502015203850001 is blocked"), None),
            Outcome::Denied { reason: "NIK 1502**********01 is blocked".into() },
            "a NIK quoted by central is masked before it is logged, stored or sent upstream"
        );
        assert!(matches!(check(401, "", None), Outcome::BadCredentials { .. }));
        assert_eq!(check(429, "", Some(120)), Outcome::RateLimited { retry_after: Duration::from_secs(120) });
        assert_eq!(check(429, "", None), Outcome::RateLimited { retry_after: DEFAULT_RETRY_AFTER });
        assert!(
            matches!(check(503, "", Some(7)), Outcome::Unavailable { retry_after: Some(d), .. } if d == Duration::from_secs(7))
        );
        assert!(matches!(check(502, "<html>", None), Outcome::Unavailable { retry_after: None, .. }));
        assert!(matches!(check(201, "{not json", None), Outcome::Malformed { .. }));
        assert!(matches!(check(404, "", None), Outcome::Malformed { .. }));
        let mut tampered: SignedAuthorization = serde_json::from_str(&authorization("2026-12-04T00:00:00Z")).unwrap();
        tampered.enrollment_id = "e2".into();
        let outcome = check(201, &serde_json::to_string(&tampered).unwrap(), None);
        assert!(
            matches!(&outcome, Outcome::Malformed { detail, suspect_key: true } if detail.contains("signature")),
            "{outcome:?}"
        );
    }

    fn denial(reason: &str) -> String {
        let mut denial = SignedDenial {
            status: "denied".into(),
            reason: reason.into(),
            request_id: "r1".into(),
            office: "1502".into(),
            nik: "1502015203850001".into(),
            enrollment_id: "e1".into(),
            card_digest: "d".repeat(64),
            denied_at: "2026-11-28T00:00:00Z".into(),
            key_id: key_id(&key().verifying_key()),
            signature: String::new(),
        };
        crate::central::verify::sign_denial(&mut denial, &key());
        serde_json::to_string(&denial).unwrap()
    }

    /// A proxy's 403 page, or a denial signed by someone else or for another card, keeps the
    /// job waiting (with a key alert) instead of rejecting it for good.
    #[test]
    fn only_central_s_signed_denial_of_this_card_rejects() {
        for unsigned in [r#"{"status":"denied","reason":"duplicate record"}"#, "", "<html>Forbidden</html>"] {
            let outcome = check(403, unsigned, None);
            assert!(
                matches!(&outcome, Outcome::Malformed { detail, suspect_key: true } if detail.contains("unsigned")),
                "{unsigned:?}: {outcome:?}"
            );
        }
        let mut forged: serde_json::Value = serde_json::from_str(&denial("duplicate record")).unwrap();
        forged["reason"] = "forged reason".into();
        let outcome = check(409, &forged.to_string(), None);
        assert!(matches!(&outcome, Outcome::Malformed { detail, .. } if detail.contains("signature")), "{outcome:?}");
        let mut other_card: serde_json::Value = serde_json::from_str(&denial("duplicate record")).unwrap();
        other_card["card_digest"] = "e".repeat(64).into();
        assert!(matches!(check(403, &other_card.to_string(), None), Outcome::Malformed { .. }));
    }

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        assert_eq!(parse_retry_after(" 120 ", now()), Some(Duration::from_secs(120)));
        assert_eq!(parse_retry_after("Sat, 28 Nov 2026 00:01:00 GMT", now()), Some(Duration::from_secs(60)));
        assert_eq!(parse_retry_after("Fri, 27 Nov 2026 00:01:00 GMT", now()), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("soon", now()), None);
    }
}
