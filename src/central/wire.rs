//! Central's authorization API on the wire (JSON), shared by the client and the simulator so
//! that both sign and check the very same bytes.
//!
//! The signature covers a canonical text, not the JSON: JSON has no single byte form (key order,
//! escapes, number formats), and re-serialising on one side would break signatures made on the
//! other. The canonical text is a fixed label and the signed fields, exactly as sent, one per
//! line; a field containing a line break is refused, so no two authorizations share a text.
//! The signed fields bind the authorization to one request of one office and to one card (the
//! digest of its canonical data, `domain::card_digest`).

use std::fmt;

use ed25519_dalek::VerifyingKey;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The route of the authorization request, relative to central's base URL.
pub const AUTHORIZATIONS_PATH: &str = "/v1/print-authorizations";
/// The route serving central's public key.
pub const PUBLIC_KEY_PATH: &str = "/v1/public-key";

/// The first line of every signed text: names the format and its version.
const CANONICAL_LABEL: &str = "cardspool.central.print-authorization.v2";

/// `POST /v1/print-authorizations`. Idempotent on `request_id`: asking again with the same id
/// returns the same answer, so a reply lost on the way never yields a second authorization.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthorizationRequest {
    pub request_id: String,
    /// The full NIK: central needs it. Never logged (see the `Debug` impl).
    pub nik: String,
    /// The enrollment event's id.
    pub enrollment_id: String,
    pub office: String,
    /// The SHA-256 of the card's canonical data (`domain::card_digest`), 64 hex digits: the
    /// authorization is for this card and no other.
    pub card_digest: String,
}

impl fmt::Debug for AuthorizationRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthorizationRequest")
            .field("request_id", &self.request_id)
            .field("nik", &mask(&self.nik))
            .field("enrollment_id", &self.enrollment_id)
            .field("office", &self.office)
            .field("card_digest", &self.card_digest)
            .finish()
    }
}

/// The `201` answer: central's signed permission to print one card.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedAuthorization {
    pub authorization_id: String,
    /// The request it answers (an authorization stored before v2 has none, and no longer
    /// verifies: its job asks again).
    #[serde(default)]
    pub request_id: String,
    /// The office it was issued to.
    #[serde(default)]
    pub office: String,
    pub nik: String,
    pub enrollment_id: String,
    /// The card it authorizes: the request's `card_digest`, signed.
    #[serde(default)]
    pub card_digest: String,
    /// RFC 3339, signed as sent.
    pub issued_at: String,
    /// RFC 3339, signed as sent.
    pub expires_at: String,
    /// Which of central's keys signed it: [`key_id`] of the public key.
    pub key_id: String,
    /// Ed25519 over [`SignedAuthorization::canonical_text`], base64 (standard alphabet).
    pub signature: String,
}

impl fmt::Debug for SignedAuthorization {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SignedAuthorization")
            .field("authorization_id", &self.authorization_id)
            .field("request_id", &self.request_id)
            .field("office", &self.office)
            .field("nik", &mask(&self.nik))
            .field("enrollment_id", &self.enrollment_id)
            .field("card_digest", &self.card_digest)
            .field("issued_at", &self.issued_at)
            .field("expires_at", &self.expires_at)
            .field("key_id", &self.key_id)
            .finish_non_exhaustive()
    }
}

impl SignedAuthorization {
    /// The bytes the signature covers, or `None` when a field holds a line break (which would
    /// make the text ambiguous; such an authorization is refused).
    pub fn canonical_text(&self) -> Option<Vec<u8>> {
        signed_text(
            CANONICAL_LABEL,
            &[
                &self.authorization_id,
                &self.request_id,
                &self.office,
                &self.nik,
                &self.enrollment_id,
                &self.card_digest,
                &self.issued_at,
                &self.expires_at,
                &self.key_id,
            ],
        )
    }
}

/// The first line of a denial's signed text.
const DENIAL_LABEL: &str = "cardspool.central.print-denial.v1";

/// The `403` / `409` answer: central's signed refusal to print this card. Only a denial whose
/// signature verifies rejects a job; anything else with those statuses (a proxy's error page)
/// leaves the job waiting and alerts staff.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedDenial {
    /// `"denied"`.
    pub status: String,
    pub reason: String,
    pub request_id: String,
    pub office: String,
    pub nik: String,
    pub enrollment_id: String,
    pub card_digest: String,
    /// RFC 3339, signed as sent.
    pub denied_at: String,
    pub key_id: String,
    /// Ed25519 over [`SignedDenial::canonical_text`], base64.
    pub signature: String,
}

impl fmt::Debug for SignedDenial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SignedDenial")
            .field("reason", &self.reason)
            .field("request_id", &self.request_id)
            .field("office", &self.office)
            .field("nik", &mask(&self.nik))
            .field("enrollment_id", &self.enrollment_id)
            .field("denied_at", &self.denied_at)
            .field("key_id", &self.key_id)
            .finish_non_exhaustive()
    }
}

impl SignedDenial {
    /// The bytes the signature covers (as for an authorization: the label, then one field a
    /// line), or `None` when a field holds a line break.
    pub fn canonical_text(&self) -> Option<Vec<u8>> {
        signed_text(
            DENIAL_LABEL,
            &[
                &self.request_id,
                &self.office,
                &self.nik,
                &self.enrollment_id,
                &self.card_digest,
                &self.reason,
                &self.denied_at,
                &self.key_id,
            ],
        )
    }
}

/// A label, then each field on a line of its own; `None` when a field holds a line break.
fn signed_text(label: &str, fields: &[&str]) -> Option<Vec<u8>> {
    if fields.iter().any(|field| field.contains(['\n', '\r'])) {
        return None;
    }
    let mut text = String::from(label);
    for field in fields {
        text.push('\n');
        text.push_str(field);
    }
    Some(text.into_bytes())
}

/// The `202` answer: the record is still being cleared.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingAnswer {
    pub status: String,
    #[serde(default)]
    pub retry_after_s: Option<u64>,
}

/// The `403` / `409` answer, and the body of other refusals.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefusalAnswer {
    pub status: String,
    #[serde(default)]
    pub reason: Option<String>,
}

/// `GET /v1/public-key`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicKeyAnswer {
    pub algorithm: String,
    pub key_id: String,
    /// The 32-byte Ed25519 public key, base64: the value for `[central] public_key`.
    pub public_key: String,
}

/// A key's short name: the first 16 hex digits of the SHA-256 of its 32 bytes.
pub fn key_id(key: &VerifyingKey) -> String {
    hex::encode(&Sha256::digest(key.as_bytes())[..8])
}

fn mask(nik: &str) -> String {
    match (nik.get(..4), nik.get(nik.len().saturating_sub(2)..)) {
        (Some(head), Some(tail)) if nik.len() == 16 => format!("{head}**********{tail}"),
        _ => "<hidden>".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> SignedAuthorization {
        SignedAuthorization {
            authorization_id: "a1".into(),
            request_id: "r1".into(),
            office: "1502".into(),
            nik: "1502015203850001".into(),
            enrollment_id: "e1".into(),
            card_digest: "c".repeat(64),
            issued_at: "2026-11-27T02:12:00Z".into(),
            expires_at: "2026-12-04T02:12:00Z".into(),
            key_id: "0011223344556677".into(),
            signature: String::new(),
        }
    }

    #[test]
    fn canonical_text_is_the_label_then_one_field_a_line() {
        let text = String::from_utf8(sample().canonical_text().unwrap()).unwrap();
        assert_eq!(
            text,
            format!(
                "cardspool.central.print-authorization.v2\na1\nr1\n1502\n1502015203850001\ne1\n{}\n\
                 2026-11-27T02:12:00Z\n2026-12-04T02:12:00Z\n0011223344556677",
                "c".repeat(64)
            )
        );
    }

    #[test]
    fn a_field_with_a_line_break_has_no_canonical_text() {
        let mut authorization = sample();
        authorization.enrollment_id = "e1\n1502015203850001".into();
        assert_eq!(authorization.canonical_text(), None);
    }

    #[test]
    fn debug_never_shows_the_nik() {
        let request = AuthorizationRequest {
            request_id: "r".into(),
            nik: "1502015203850001".into(),
            enrollment_id: "e".into(),
            office: "1502".into(),
            card_digest: "c".repeat(64),
        };
        let shown = format!("{request:?} {:?}", sample());
        assert!(!shown.contains("1502015203850001"), "{shown}");
        assert!(shown.contains("1502**********01"), "{shown}");
    }
}
