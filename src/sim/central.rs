//! `cardspool central-sim`: the reference central authorization service.
//!
//! It speaks the contract of `crate::central` (`POST /v1/print-authorizations`,
//! `GET /v1/public-key`), signs with its own Ed25519 key, and is idempotent on `request_id`:
//! the same id always gets the same authorization or denial. Faults are set at start or at
//! run time (`PUT /admin/fault`); `GET /admin/stats` counts what it received.
//!
//! The decisions live in [`CentralSimCore`], which needs no network: the HTTP server
//! ([`CentralSimServer`]) and the in-process transport ([`InProcessCentral`], for tests under
//! tokio's paused clock, where real sockets would let simulated time run away) both call it.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Extension, Json, Router};
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use chrono::SecondsFormat;
use ed25519_dalek::SigningKey;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use rand::rngs::StdRng;
use rand::{Rng as _, SeedableRng as _};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::Digest as _;
use tokio::net::TcpListener;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

use crate::central::client::{CentralTransport, RawAnswer, TransportError, TransportFuture};
use crate::central::verify::{sign, sign_denial};
use crate::central::wire::{
    key_id, AuthorizationRequest, PublicKeyAnswer, SignedAuthorization, SignedDenial, AUTHORIZATIONS_PATH,
    PUBLIC_KEY_PATH,
};
use crate::clock::Clock;
use crate::domain::card_digest::card_digest;
use crate::domain::event::{parse_event, ImageLimits};

#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error("cannot read or write the key file {path}: {source}")]
    KeyFile { path: String, source: std::io::Error },
    #[error("cannot read the office token file {path}: {source}")]
    TokenFile { path: String, source: std::io::Error },
    #[error("the key file {0} does not hold a base64 Ed25519 secret key (32 bytes)")]
    BadKey(String),
    #[error("cannot listen on {addr}: {source}")]
    Listen { addr: SocketAddr, source: std::io::Error },
    #[error("invalid fault {0}")]
    BadFault(String),
    #[error("cannot read the registry {path}: {source}")]
    RegistryFile { path: String, source: std::io::Error },
    #[error("the registry {path}, line {line}: {reason}")]
    BadRecord { path: String, line: usize, reason: String },
}

impl SimError {
    pub fn is_retryable(&self) -> bool {
        matches!(self, SimError::Listen { .. })
    }
}

/// How `down` fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum DownHow {
    /// The connection is closed without an answer.
    #[default]
    #[serde(rename = "drop")]
    Drop,
    /// `503 Service Unavailable`.
    #[serde(rename = "503")]
    Unavailable,
}

/// A fault to inject: the body of `PUT /admin/fault`, `{"mode": ..., parameters}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "mode", rename_all = "snake_case", deny_unknown_fields)]
pub enum Fault {
    /// Authorize everything.
    None,
    /// The authorization route fails (the admin routes stay up).
    Down {
        #[serde(default)]
        how: DownHow,
        /// With `how = "503"`: a `Retry-After` header.
        #[serde(default)]
        retry_after_s: Option<u64>,
    },
    /// Answer after a delay.
    Slow {
        #[serde(default = "default_latency_ms")]
        latency_ms: u64,
    },
    /// Answer `202 pending` this many times per `request_id`, then authorize.
    Pending {
        #[serde(default = "default_pending_times")]
        times: u32,
        #[serde(default = "default_retry_after_s")]
        retry_after_s: u64,
    },
    /// Deny every new request (`403`, or `409`).
    Deny {
        #[serde(default = "default_deny_reason")]
        reason: String,
        #[serde(default = "default_deny_status")]
        status: u16,
    },
    /// Fail (`503`, no `Retry-After`) this fraction of requests.
    Flaky {
        #[serde(default = "default_failure_rate")]
        failure_rate: f64,
        /// Makes the failures reproducible.
        #[serde(default)]
        seed: Option<u64>,
    },
    /// `429 Too Many Requests` with `Retry-After`.
    RateLimited {
        #[serde(default = "default_retry_after_s")]
        retry_after_s: u64,
    },
    /// `401`: this office's credentials are refused.
    Unauthorized,
    /// Issue authorizations that have already expired.
    Expired,
    /// Answer with authorizations whose signature does not verify.
    BadSignature,
}

fn default_latency_ms() -> u64 {
    5_000
}
fn default_pending_times() -> u32 {
    3
}
fn default_retry_after_s() -> u64 {
    30
}
fn default_deny_reason() -> String {
    "duplicate record: this NIK already has a card in print (simulated)".to_owned()
}
fn default_deny_status() -> u16 {
    403
}
fn default_failure_rate() -> f64 {
    0.5
}

impl Fault {
    /// Reads `--fault`: a mode name with default parameters (`down`, `pending`, ...) or a JSON
    /// object as for `PUT /admin/fault`.
    ///
    /// # Errors
    /// [`SimError::BadFault`] naming what is wrong.
    pub fn parse(text: &str) -> Result<Fault, SimError> {
        let text = text.trim();
        let value = if text.starts_with('{') {
            serde_json::from_str(text).map_err(|e| SimError::BadFault(format!("{text}: {e}")))?
        } else {
            json!({ "mode": text })
        };
        let fault: Fault = serde_json::from_value(value).map_err(|e| SimError::BadFault(format!("{text}: {e}")))?;
        fault.check()?;
        Ok(fault)
    }

    fn check(&self) -> Result<(), SimError> {
        match self {
            Fault::Deny { status, .. } if !matches!(status, 403 | 409) => {
                Err(SimError::BadFault(format!("deny status must be 403 or 409, not {status}")))
            }
            Fault::Flaky { failure_rate, .. } if !(0.0..=1.0).contains(failure_rate) => {
                Err(SimError::BadFault(format!("failure_rate must be within 0..1, not {failure_rate}")))
            }
            _ => Ok(()),
        }
    }
}

/// What the simulator received and answered, for tests (`GET /admin/stats`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SimStats {
    /// Every authorization request, whatever became of it.
    pub requests: u64,
    /// Distinct valid authorizations issued (replays not counted).
    pub authorized: u64,
    /// Answers repeated for a known `request_id`.
    pub replayed: u64,
    pub pending: u64,
    pub denied: u64,
    /// `503` answers.
    pub unavailable: u64,
    /// Connections dropped without an answer.
    pub dropped: u64,
    pub rate_limited: u64,
    pub unauthorized: u64,
    /// Authorizations issued already expired (fault `expired`).
    pub expired_issued: u64,
    /// Answers sent with a broken signature (fault `bad_signature`).
    pub bad_signatures: u64,
    /// Requests refused as invalid (`400`, `422`).
    pub invalid: u64,
}

/// One answer of the simulator, before it goes on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimReply {
    pub status: u16,
    pub retry_after_s: Option<u64>,
    pub body: String,
    /// Wait this long before answering (fault `slow`).
    pub delay: Duration,
    /// Close the connection instead of answering (fault `down` with `drop`).
    pub drop_connection: bool,
}

impl SimReply {
    fn json(status: u16, body: &serde_json::Value) -> SimReply {
        SimReply { status, retry_after_s: None, body: body.to_string(), delay: Duration::ZERO, drop_connection: false }
    }
}

#[derive(Debug, Clone)]
enum Answer {
    Authorized(Box<SignedAuthorization>),
    Denied { status: u16, denial: Box<SignedDenial> },
}

#[derive(Debug)]
struct Issued {
    request: AuthorizationRequest,
    answer: Answer,
}

struct SimState {
    fault: Fault,
    rng: StdRng,
    issued: HashMap<String, Issued>,
    pending_asks: HashMap<String, u32>,
    stats: SimStats,
}

/// The simulator's decisions, shared by its HTTP server and the in-process transport.
pub struct CentralSimCore {
    signing: SigningKey,
    key_id: String,
    clock: Clock,
    validity: chrono::Duration,
    /// `--registry`: central's records, as the card digest of each NIK's record. Without it,
    /// the simulator signs whatever card it is asked for.
    registry: Option<HashMap<String, String>>,
    /// `--office-token-file`: the SHA-256 of the bearer token an office must present; without
    /// it, no credentials are asked for.
    office_token: Option<[u8; 32]>,
    // A std mutex: every decision is a few map operations, never held across an await.
    state: Mutex<SimState>,
}

impl std::fmt::Debug for CentralSimCore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CentralSimCore").field("key_id", &self.key_id).finish_non_exhaustive()
    }
}

impl CentralSimCore {
    /// A simulator signing with `signing`, reading time from `clock`, authorizing everything
    /// (fault `none`) for 7 days each.
    pub fn new(signing: SigningKey, clock: Clock) -> CentralSimCore {
        CentralSimCore {
            key_id: key_id(&signing.verifying_key()),
            signing,
            clock,
            validity: chrono::Duration::days(7),
            registry: None,
            office_token: None,
            state: Mutex::new(SimState {
                fault: Fault::None,
                rng: StdRng::from_entropy(),
                issued: HashMap::new(),
                pending_asks: HashMap::new(),
                stats: SimStats::default(),
            }),
        }
    }

    /// A simulator with a fresh random key.
    pub fn generate(clock: Clock) -> CentralSimCore {
        CentralSimCore::new(SigningKey::generate(&mut rand::rngs::OsRng), clock)
    }

    #[must_use]
    pub fn with_validity(mut self, validity: Duration) -> CentralSimCore {
        self.validity = chrono::Duration::from_std(validity).unwrap_or(chrono::TimeDelta::MAX);
        self
    }

    /// Answers as central with these records would: a request for a NIK it has no record of,
    /// or for a card whose digest differs from its record's, is denied.
    #[must_use]
    pub fn with_registry(mut self, registry: HashMap<String, String>) -> CentralSimCore {
        self.registry = Some(registry);
        self
    }

    /// Asks every office for this bearer token, as the registry's service asks for an office's
    /// credentials: a request without it, or with another, is refused (401).
    #[must_use]
    pub fn with_office_token(mut self, token: &str) -> CentralSimCore {
        self.office_token = Some(sha2::Sha256::digest(token.trim().as_bytes()).into());
        self
    }

    /// Whether `presented` (the request's bearer token) is what this simulator asks for.
    fn credentials_accepted(&self, presented: Option<&str>) -> bool {
        let Some(expected) = &self.office_token else { return true };
        let presented: [u8; 32] = sha2::Sha256::digest(presented.unwrap_or_default().as_bytes()).into();
        presented.iter().zip(expected).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
    }

    /// Decides the answer to one request that presented `bearer` as the office's credentials.
    pub fn handle_with_credentials(&self, body: &[u8], bearer: Option<&str>) -> SimReply {
        if self.credentials_accepted(bearer) {
            return self.handle(body);
        }
        let mut state = self.lock();
        state.stats.requests += 1;
        state.stats.unauthorized += 1;
        SimReply::json(401, &json!({"status": "unauthorized", "reason": "this office's credentials are refused"}))
    }

    /// The public key, base64: the value for `[central] public_key`.
    pub fn public_key_base64(&self) -> String {
        BASE64.encode(self.signing.verifying_key().as_bytes())
    }

    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    pub fn public_key_answer(&self) -> PublicKeyAnswer {
        PublicKeyAnswer {
            algorithm: "ed25519".into(),
            key_id: self.key_id.clone(),
            public_key: self.public_key_base64(),
        }
    }

    pub fn set_fault(&self, fault: Fault) {
        let mut state = self.lock();
        if let Fault::Flaky { seed: Some(seed), .. } = fault {
            state.rng = StdRng::seed_from_u64(seed);
        }
        info!(?fault, "central-sim fault set");
        state.fault = fault;
    }

    pub fn fault(&self) -> Fault {
        self.lock().fault.clone()
    }

    pub fn stats(&self) -> SimStats {
        self.lock().stats
    }

    fn lock(&self) -> MutexGuard<'_, SimState> {
        self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Decides the answer to one `POST /v1/print-authorizations` body.
    pub fn handle(&self, body: &[u8]) -> SimReply {
        let mut state = self.lock();
        state.stats.requests += 1;
        let fault = state.fault.clone();
        let mut reply = self.decide(&mut state, &fault, body);
        if let Fault::Slow { latency_ms } = fault {
            reply.delay = Duration::from_millis(latency_ms);
        }
        reply
    }

    fn decide(&self, state: &mut SimState, fault: &Fault, body: &[u8]) -> SimReply {
        match fault {
            Fault::Down { how: DownHow::Drop, .. } => {
                state.stats.dropped += 1;
                return SimReply { drop_connection: true, ..SimReply::json(503, &json!({})) };
            }
            Fault::Down { how: DownHow::Unavailable, retry_after_s } => {
                state.stats.unavailable += 1;
                let body = json!({"status": "unavailable", "reason": "central is down (simulated)"});
                return SimReply { retry_after_s: *retry_after_s, ..SimReply::json(503, &body) };
            }
            Fault::Unauthorized => {
                state.stats.unauthorized += 1;
                let body =
                    json!({"status": "unauthorized", "reason": "this office's credentials are refused (simulated)"});
                return SimReply::json(401, &body);
            }
            Fault::RateLimited { retry_after_s } => {
                state.stats.rate_limited += 1;
                let body =
                    json!({"status": "rate_limited", "reason": "too many requests from this office (simulated)"});
                return SimReply { retry_after_s: Some(*retry_after_s), ..SimReply::json(429, &body) };
            }
            Fault::Flaky { failure_rate, .. } if state.rng.gen::<f64>() < *failure_rate => {
                state.stats.unavailable += 1;
                return SimReply::json(
                    503,
                    &json!({"status": "unavailable", "reason": "transient failure (simulated)"}),
                );
            }
            _ => {}
        }
        let request = match parse_request(body) {
            Ok(request) => request,
            Err(reason) => {
                state.stats.invalid += 1;
                return SimReply::json(400, &json!({"status": "invalid", "reason": reason}));
            }
        };
        let answer = if let Some(issued) = state.issued.get(&request.request_id) {
            if issued.request != request {
                state.stats.invalid += 1;
                let reason = "request_id already used for a different request";
                return SimReply::json(422, &json!({"status": "invalid", "reason": reason}));
            }
            state.stats.replayed += 1;
            issued.answer.clone()
        } else {
            if let Fault::Pending { times, retry_after_s } = fault {
                let asked = state.pending_asks.entry(request.request_id.clone()).or_insert(0);
                if *asked < *times {
                    *asked += 1;
                    state.stats.pending += 1;
                    let body = json!({"status": "pending", "retry_after_s": retry_after_s});
                    return SimReply { retry_after_s: Some(*retry_after_s), ..SimReply::json(202, &body) };
                }
            }
            let unlike_the_record = self.registry.as_ref().and_then(|registry| match registry.get(&request.nik) {
                None => Some((403, "no record of this NIK in the registry")),
                Some(digest) if *digest != request.card_digest => {
                    Some((409, "the card's data differs from the registry's record for this NIK"))
                }
                Some(_) => None,
            });
            let answer = match (fault, unlike_the_record) {
                (_, Some((status, reason))) => {
                    state.stats.denied += 1;
                    Answer::Denied { status, denial: Box::new(self.deny(&request, reason)) }
                }
                (Fault::Deny { reason, status }, None) => {
                    state.stats.denied += 1;
                    Answer::Denied { status: *status, denial: Box::new(self.deny(&request, reason)) }
                }
                (Fault::Expired, None) => {
                    state.stats.expired_issued += 1;
                    let issued_at = self.clock.now() - self.validity - chrono::Duration::hours(1);
                    Answer::Authorized(Box::new(self.issue(&request, issued_at)))
                }
                _ => {
                    state.stats.authorized += 1;
                    Answer::Authorized(Box::new(self.issue(&request, self.clock.now())))
                }
            };
            let issued = Issued { request: request.clone(), answer: answer.clone() };
            state.issued.insert(request.request_id.clone(), issued);
            answer
        };
        match answer {
            Answer::Authorized(mut authorization) => {
                if *fault == Fault::BadSignature {
                    state.stats.bad_signatures += 1;
                    authorization.signature = corrupt(&authorization.signature);
                }
                SimReply {
                    status: 201,
                    retry_after_s: None,
                    body: serde_json::to_string(&authorization).expect("plain strings serialise"),
                    delay: Duration::ZERO,
                    drop_connection: false,
                }
            }
            Answer::Denied { status, denial } => SimReply {
                status,
                retry_after_s: None,
                body: serde_json::to_string(&denial).expect("plain strings serialise"),
                delay: Duration::ZERO,
                drop_connection: false,
            },
        }
    }

    /// Central's signed refusal of the card `request` asks for.
    fn deny(&self, request: &AuthorizationRequest, reason: &str) -> SignedDenial {
        let mut denial = SignedDenial {
            status: "denied".into(),
            // A reason on one line: the signed text has one field a line.
            reason: reason.replace(['\n', '\r'], " "),
            request_id: request.request_id.clone(),
            office: request.office.clone(),
            nik: request.nik.clone(),
            enrollment_id: request.enrollment_id.clone(),
            card_digest: request.card_digest.clone(),
            denied_at: self.clock.now().to_rfc3339_opts(SecondsFormat::Secs, true),
            key_id: self.key_id.clone(),
            signature: String::new(),
        };
        sign_denial(&mut denial, &self.signing);
        denial
    }

    fn issue(&self, request: &AuthorizationRequest, issued_at: chrono::DateTime<chrono::Utc>) -> SignedAuthorization {
        let mut authorization = SignedAuthorization {
            authorization_id: uuid::Uuid::new_v4().to_string(),
            request_id: request.request_id.clone(),
            office: request.office.clone(),
            nik: request.nik.clone(),
            enrollment_id: request.enrollment_id.clone(),
            card_digest: request.card_digest.clone(),
            issued_at: issued_at.to_rfc3339_opts(SecondsFormat::Secs, true),
            expires_at: (issued_at + self.validity).to_rfc3339_opts(SecondsFormat::Secs, true),
            key_id: self.key_id.clone(),
            signature: String::new(),
        };
        sign(&mut authorization, &self.signing);
        authorization
    }
}

fn parse_request(body: &[u8]) -> Result<AuthorizationRequest, String> {
    let request: AuthorizationRequest = serde_json::from_slice(body).map_err(|e| format!("not a request: {e}"))?;
    if request.nik.len() != 16 || !request.nik.bytes().all(|b| b.is_ascii_digit()) {
        return Err("nik must be 16 digits".into());
    }
    if request.card_digest.len() != 64 || !request.card_digest.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return Err("card_digest must be 64 lowercase hex digits".into());
    }
    for (field, value) in
        [("request_id", &request.request_id), ("enrollment_id", &request.enrollment_id), ("office", &request.office)]
    {
        if value.trim().is_empty() || value.contains(['\n', '\r']) {
            return Err(format!("{field} must be a non-empty single line"));
        }
    }
    Ok(request)
}

/// Reads `--registry`: JSON lines, each an enrollment event in the event contract's form
/// standing for central's record of its NIK; the card digest of each, with its template (or
/// `ektp`, the spooler's default).
///
/// # Errors
/// [`SimError::RegistryFile`] when the file cannot be read, [`SimError::BadRecord`] for a line
/// that is not a valid event.
pub fn load_registry(path: &Path) -> Result<HashMap<String, String>, SimError> {
    let text = std::fs::read_to_string(path)
        .map_err(|source| SimError::RegistryFile { path: path.display().to_string(), source })?;
    let mut registry = HashMap::new();
    for (index, line) in text.lines().enumerate().filter(|(_, line)| !line.trim().is_empty()) {
        let event = parse_event(line.as_bytes(), &ImageLimits::default()).map_err(|error| SimError::BadRecord {
            path: path.display().to_string(),
            line: index + 1,
            reason: error.to_string(),
        })?;
        let template = event.template.clone().unwrap_or_else(|| "ektp".to_owned());
        registry.insert(event.nik.as_str().to_owned(), card_digest(&event, &template));
    }
    Ok(registry)
}

/// A signature that still decodes but does not verify.
fn corrupt(signature: &str) -> String {
    let mut bytes = BASE64.decode(signature).unwrap_or_else(|_| vec![0; 64]);
    if let Some(first) = bytes.first_mut() {
        *first ^= 0x5a;
    }
    BASE64.encode(bytes)
}

/// Reads the simulator's secret key from `path` (base64 of the 32-byte Ed25519 seed), or
/// generates one and saves it there (mode 0600) when the file does not exist.
/// Returns the key and whether it was created.
///
/// # Errors
/// [`SimError::KeyFile`] when the file cannot be read or written, [`SimError::BadKey`] when it
/// holds something else.
pub fn load_or_create_key(path: &Path) -> Result<(SigningKey, bool), SimError> {
    let io_error = |source| SimError::KeyFile { path: path.display().to_string(), source };
    match std::fs::read_to_string(path) {
        Ok(text) => {
            let bytes = BASE64.decode(text.trim()).map_err(|_| SimError::BadKey(path.display().to_string()))?;
            let seed: [u8; 32] = bytes.try_into().map_err(|_| SimError::BadKey(path.display().to_string()))?;
            Ok((SigningKey::from_bytes(&seed), false))
        }
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            let key = SigningKey::generate(&mut rand::rngs::OsRng);
            if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                std::fs::create_dir_all(parent).map_err(io_error)?;
            }
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            let mut file = options.open(path).map_err(io_error)?;
            std::io::Write::write_all(&mut file, format!("{}\n", BASE64.encode(key.to_bytes())).as_bytes())
                .map_err(io_error)?;
            Ok((key, true))
        }
        Err(error) => Err(io_error(error)),
    }
}

/// The simulator as a transport, without a network: for tests under tokio's paused clock.
#[derive(Debug, Clone)]
pub struct InProcessCentral {
    core: Arc<CentralSimCore>,
}

impl InProcessCentral {
    pub fn new(core: Arc<CentralSimCore>) -> InProcessCentral {
        InProcessCentral { core }
    }
}

impl CentralTransport for InProcessCentral {
    fn post_authorization<'a>(&'a self, request: &'a AuthorizationRequest) -> TransportFuture<'a> {
        Box::pin(async move {
            let body = serde_json::to_vec(request).expect("plain strings serialise");
            let reply = self.core.handle(&body);
            if !reply.delay.is_zero() {
                tokio::time::sleep(reply.delay).await;
            }
            if reply.drop_connection {
                return Err(TransportError::Connection("central closed the connection without answering".into()));
            }
            Ok(RawAnswer {
                status: reply.status,
                retry_after: reply.retry_after_s.map(Duration::from_secs),
                body: reply.body.into_bytes(),
            })
        })
    }

    fn describe(&self) -> String {
        "in-process central simulator".to_owned()
    }
}

/// Closes the one connection it belongs to (fault `down` with `drop`).
#[derive(Clone)]
struct ConnectionKill(Arc<Notify>);

/// The simulator serving HTTP.
#[derive(Debug)]
pub struct CentralSimServer {
    core: Arc<CentralSimCore>,
    addr: SocketAddr,
    token: CancellationToken,
    task: tokio::task::JoinHandle<()>,
}

impl CentralSimServer {
    /// Listens on `listen` (port 0 picks a free one) and serves until [`CentralSimServer::stop`].
    ///
    /// # Errors
    /// [`SimError::Listen`] when the address cannot be bound.
    pub async fn start(listen: SocketAddr, core: Arc<CentralSimCore>) -> Result<CentralSimServer, SimError> {
        let listener = TcpListener::bind(listen).await.map_err(|source| SimError::Listen { addr: listen, source })?;
        let addr = listener.local_addr().map_err(|source| SimError::Listen { addr: listen, source })?;
        let token = CancellationToken::new();
        let task = tokio::spawn(serve(listener, router(core.clone()), token.clone()));
        Ok(CentralSimServer { core, addr, token, task })
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn core(&self) -> &Arc<CentralSimCore> {
        &self.core
    }

    pub fn public_key(&self) -> String {
        self.core.public_key_base64()
    }

    pub fn set_fault(&self, fault: Fault) {
        self.core.set_fault(fault);
    }

    pub fn stats(&self) -> SimStats {
        self.core.stats()
    }

    /// Stops listening and closes every connection.
    pub async fn stop(self) {
        self.token.cancel();
        let _ = self.task.await;
    }
}

async fn serve(listener: TcpListener, router: Router, token: CancellationToken) {
    loop {
        let (stream, peer) = tokio::select! {
            () = token.cancelled() => return,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of file descriptors and the like: pause rather than spin.
                    warn!(%error, "central-sim cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let kill = Arc::new(Notify::new());
        let service = TowerToHyperService::new(router.clone().layer(Extension(ConnectionKill(kill.clone()))));
        let token = token.clone();
        tokio::spawn(async move {
            let connection = hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), service);
            // Dropping the connection future closes the socket with no answer on the wire.
            tokio::select! {
                result = connection => if let Err(error) = result { debug!(%peer, %error, "central-sim connection ended") },
                () = kill.notified() => debug!(%peer, "central-sim dropped a connection (fault down)"),
                () = token.cancelled() => {}
            }
        });
    }
}

fn router(core: Arc<CentralSimCore>) -> Router {
    Router::new()
        .route(AUTHORIZATIONS_PATH, post(authorize))
        .route(PUBLIC_KEY_PATH, get(public_key))
        .route("/admin/fault", put(set_fault).get(get_fault))
        .route("/admin/stats", get(stats))
        .with_state(core)
}

async fn authorize(
    State(core): State<Arc<CentralSimCore>>,
    Extension(kill): Extension<ConnectionKill>,
    headers: axum::http::HeaderMap,
    body: Bytes,
) -> Response {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "));
    let reply = core.handle_with_credentials(&body, bearer);
    if !reply.delay.is_zero() {
        tokio::time::sleep(reply.delay).await;
    }
    if reply.drop_connection {
        kill.0.notify_one();
        // The connection is being dropped, and this future with it.
        std::future::pending::<()>().await;
    }
    let status = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = (status, [(header::CONTENT_TYPE, "application/json")], reply.body).into_response();
    if let Some(seconds) = reply.retry_after_s {
        response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    }
    response
}

async fn public_key(State(core): State<Arc<CentralSimCore>>) -> Json<PublicKeyAnswer> {
    Json(core.public_key_answer())
}

async fn set_fault(State(core): State<Arc<CentralSimCore>>, Json(fault): Json<Fault>) -> Response {
    if let Err(error) = fault.check() {
        return (StatusCode::UNPROCESSABLE_ENTITY, Json(json!({"error": error.to_string()}))).into_response();
    }
    core.set_fault(fault.clone());
    Json(fault).into_response()
}

async fn get_fault(State(core): State<Arc<CentralSimCore>>) -> Json<Fault> {
    Json(core.fault())
}

async fn stats(State(core): State<Arc<CentralSimCore>>) -> Json<SimStats> {
    Json(core.stats())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn core() -> CentralSimCore {
        CentralSimCore::new(SigningKey::from_bytes(&[3; 32]), Clock::system())
    }

    fn body(request_id: &str) -> Vec<u8> {
        serde_json::to_vec(&json!({
            "request_id": request_id, "nik": "1502015203850001", "enrollment_id": "e1", "office": "1502",
            "card_digest": "d".repeat(64)
        }))
        .unwrap()
    }

    #[test]
    fn faults_parse_from_a_name_or_json() {
        assert_eq!(Fault::parse("down").unwrap(), Fault::Down { how: DownHow::Drop, retry_after_s: None });
        assert_eq!(
            Fault::parse(r#"{"mode":"down","how":"503","retry_after_s":9}"#).unwrap(),
            Fault::Down { how: DownHow::Unavailable, retry_after_s: Some(9) }
        );
        assert_eq!(Fault::parse("pending").unwrap(), Fault::Pending { times: 3, retry_after_s: 30 });
        assert_eq!(Fault::parse("bad_signature").unwrap(), Fault::BadSignature);
        assert!(Fault::parse("sideways").is_err());
        assert!(Fault::parse(r#"{"mode":"deny","status":500}"#).is_err());
        assert!(Fault::parse(r#"{"mode":"slow","latency":5}"#).is_err(), "unknown parameters are refused");
    }

    #[test]
    fn the_same_request_id_gets_the_same_authorization() {
        let core = core();
        let first = core.handle(&body("r1"));
        let again = core.handle(&body("r1"));
        assert_eq!((first.status, &first.body), (201, &again.body));
        assert_eq!(core.handle(&body("r2")).status, 201);
        let stats = core.stats();
        assert_eq!((stats.requests, stats.authorized, stats.replayed), (3, 2, 1));
        let mut other = serde_json::from_slice::<serde_json::Value>(&body("r1")).unwrap();
        other["enrollment_id"] = json!("e2");
        assert_eq!(core.handle(&serde_json::to_vec(&other).unwrap()).status, 422);
        assert_eq!(core.handle(b"{}").status, 400);
    }

    #[test]
    fn pending_then_authorized_per_request_id() {
        let core = core();
        core.set_fault(Fault::Pending { times: 2, retry_after_s: 5 });
        assert_eq!(core.handle(&body("r1")).status, 202);
        let second = core.handle(&body("r1"));
        assert_eq!((second.status, second.retry_after_s), (202, Some(5)));
        assert_eq!(core.handle(&body("r1")).status, 201);
        assert_eq!(core.handle(&body("r2")).status, 202);
    }

    #[test]
    fn a_denial_is_final_and_faults_answer_as_documented() {
        let core = core();
        core.set_fault(Fault::Deny { reason: "duplicate".into(), status: 409 });
        assert_eq!(core.handle(&body("r1")).status, 409);
        core.set_fault(Fault::None);
        assert_eq!(core.handle(&body("r1")).status, 409, "idempotent: still denied");
        for (fault, status) in [
            (Fault::Down { how: DownHow::Unavailable, retry_after_s: Some(3) }, 503),
            (Fault::Unauthorized, 401),
            (Fault::RateLimited { retry_after_s: 7 }, 429),
            (Fault::Flaky { failure_rate: 1.0, seed: Some(1) }, 503),
            (Fault::Flaky { failure_rate: 0.0, seed: Some(1) }, 201),
        ] {
            core.set_fault(fault.clone());
            assert_eq!(core.handle(&body("r9")).status, status, "{fault:?}");
        }
        core.set_fault(Fault::Down { how: DownHow::Drop, retry_after_s: None });
        assert!(core.handle(&body("r9")).drop_connection);
        core.set_fault(Fault::Slow { latency_ms: 1500 });
        assert_eq!(core.handle(&body("r9")).delay, Duration::from_millis(1500));
    }

    #[test]
    fn a_key_file_is_created_once_then_reused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys/central.key");
        let (created, was_created) = load_or_create_key(&path).unwrap();
        let (loaded, was_created_again) = load_or_create_key(&path).unwrap();
        assert!(was_created && !was_created_again);
        assert_eq!(created.to_bytes(), loaded.to_bytes());
        std::fs::write(&path, "nonsense").unwrap();
        assert!(matches!(load_or_create_key(&path), Err(SimError::BadKey(_))));
    }
}
