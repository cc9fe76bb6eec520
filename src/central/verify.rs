//! Checking central's authorizations: the signature with central's configured public key, then
//! that it names this card (NIK and enrollment) and is still valid.

use std::collections::{HashSet, VecDeque};
use std::sync::{Arc, Mutex};

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use chrono::{DateTime, Utc};
use ed25519_dalek::{Signature, VerifyingKey};
use sha2::{Digest as _, Sha256};

use super::wire::{key_id, SignedAuthorization, SignedDenial};
use super::CentralError;

/// An authorization whose signature, card and validity were checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedAuthorization {
    pub authorization: SignedAuthorization,
    pub issued_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

impl VerifiedAuthorization {
    /// The form stored with the job (the `authorization` column): central's answer as JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string(&self.authorization).expect("plain strings serialise")
    }
}

/// Why an authorization cannot be used. Every message is meant for staff.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthorizationProblem {
    #[error("the authorization is not readable: {0}")]
    Unreadable(String),
    #[error(
        "the authorization was signed with key {got}, but the configured central key is {expected} \
         (check [central] public_key)"
    )]
    UnknownKey { got: String, expected: String },
    #[error("the authorization's signature does not verify with central's configured key")]
    BadSignature,
    #[error("the authorization is for another NIK")]
    WrongNik,
    #[error("the authorization is for another enrollment ({got})")]
    WrongEnrollment { got: String },
    #[error("the authorization is for another card: its data (name, photo, signature, ...) differs from what central authorized")]
    WrongCard,
    #[error("the authorization was issued to office {got:?}, not this one")]
    WrongOffice { got: String },
    #[error("the authorization expired at {expires_at}")]
    Expired { expires_at: DateTime<Utc> },
}

impl AuthorizationProblem {
    /// Only expiry is cured by asking again; every other problem says central (or our
    /// configuration) is wrong.
    pub fn is_expiry(&self) -> bool {
        matches!(self, AuthorizationProblem::Expired { .. })
    }

    /// A genuine authorization for another card, person or office: asking central again for
    /// the same card would not make it this card's. Staff must look.
    pub fn names_another_card(&self) -> bool {
        matches!(
            self,
            AuthorizationProblem::WrongNik
                | AuthorizationProblem::WrongEnrollment { .. }
                | AuthorizationProblem::WrongOffice { .. }
                | AuthorizationProblem::WrongCard
        )
    }
}

/// The card an authorization must name: what the spooler is about to print.
#[derive(Debug, Clone, Copy)]
pub struct CardFacts<'a> {
    /// `None` where only the card's digest is at hand: the digest covers the NIK.
    pub nik: Option<&'a str>,
    pub enrollment_id: &'a str,
    pub office: &'a str,
    /// `domain::card_digest` of the card.
    pub card_digest: &'a str,
}

impl CardFacts<'_> {
    /// Whether central's signed answer names this card: its NIK, enrollment, office and digest.
    fn is_named_by(
        &self,
        nik: &str,
        enrollment_id: &str,
        office: &str,
        card_digest: &str,
    ) -> Result<(), AuthorizationProblem> {
        if self.nik.is_some_and(|ours| ours != nik) {
            return Err(AuthorizationProblem::WrongNik);
        }
        if enrollment_id != self.enrollment_id {
            return Err(AuthorizationProblem::WrongEnrollment { got: enrollment_id.to_owned() });
        }
        if office != self.office {
            return Err(AuthorizationProblem::WrongOffice { got: office.to_owned() });
        }
        if card_digest != self.card_digest {
            return Err(AuthorizationProblem::WrongCard);
        }
        Ok(())
    }
}

/// Checks authorizations against central's public key.
#[derive(Debug, Clone)]
pub struct Verifier {
    key: VerifyingKey,
    key_id: String,
    /// An authorization expiring within this margin is treated as expired: it would not last
    /// until the card reaches the printer.
    margin: chrono::Duration,
    /// Shared by the verifier's clones.
    good: Arc<GoodSignatures>,
}

/// How many good signatures a verifier remembers, about half a megabyte: in a steady flow more
/// than the cards between central's answer and the printer. When a backlog is authorized faster
/// than it prints, the oldest are forgotten and checked in full again, as before.
const GOOD_SIGNATURES_KEPT: usize = 8192;

/// Signatures found good under this key, by the SHA-256 of what was signed and the signature.
///
/// A card's authorization is checked when central answers, again before the card is drawn and
/// again before it is printed (the journal may have been changed in between). Each Ed25519
/// check costs about a tenth of a millisecond on the development machine, three per card 5% of
/// the spooler's CPU; the same bytes need it once. Only good signatures are kept: anything
/// changed (text or signature) has another digest and is checked in full.
#[derive(Default)]
struct GoodSignatures {
    kept: Mutex<Kept>,
    #[cfg(test)]
    curve_checks: std::sync::atomic::AtomicUsize,
}

impl std::fmt::Debug for GoodSignatures {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The count only: thousands of digests say nothing in a log line.
        let kept = self.kept.lock().map_or(0, |kept| kept.1.len());
        f.debug_struct("GoodSignatures").field("kept", &kept).finish_non_exhaustive()
    }
}

/// The digests, and the order they came in (the oldest is forgotten first).
type Kept = (HashSet<[u8; 32]>, VecDeque<[u8; 32]>);

impl GoodSignatures {
    fn digest(text: &[u8], signature: &Signature) -> [u8; 32] {
        // The text never holds a line break (`canonical_text`), so the separator is unambiguous;
        // the signature has a fixed length anyway.
        Sha256::new().chain_update(text).chain_update(b"\n").chain_update(signature.to_bytes()).finalize().into()
    }

    fn contains(&self, digest: &[u8; 32]) -> bool {
        self.kept.lock().expect("never poisoned: no panic while held").0.contains(digest)
    }

    fn remember(&self, digest: [u8; 32]) {
        let mut kept = self.kept.lock().expect("never poisoned: no panic while held");
        let (set, order) = &mut *kept;
        if set.insert(digest) {
            order.push_back(digest);
            if order.len() > GOOD_SIGNATURES_KEPT {
                if let Some(oldest) = order.pop_front() {
                    set.remove(&oldest);
                }
            }
        }
    }
}

impl Verifier {
    /// A verifier for the base64 public key of `[central] public_key`.
    ///
    /// # Errors
    /// [`CentralError::PublicKey`] when the key is missing or not a 32-byte Ed25519 key.
    pub fn from_base64(public_key: &str, margin: std::time::Duration) -> Result<Verifier, CentralError> {
        let invalid = |why: &str| CentralError::PublicKey(why.to_owned());
        if public_key.trim().is_empty() {
            return Err(invalid("is not set: put central's Ed25519 public key (base64) in [central] public_key"));
        }
        let bytes = BASE64.decode(public_key.trim()).map_err(|_| invalid("is not valid base64"))?;
        let bytes: [u8; 32] = bytes.try_into().map_err(|_| invalid("must be 32 bytes (an Ed25519 public key)"))?;
        let key = VerifyingKey::from_bytes(&bytes).map_err(|_| invalid("is not a valid Ed25519 public key"))?;
        Ok(Verifier {
            key_id: key_id(&key),
            key,
            margin: chrono::Duration::from_std(margin).unwrap_or(chrono::TimeDelta::MAX),
            good: Arc::default(),
        })
    }

    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    /// Checks an authorization for `card` at time `now`.
    ///
    /// The signature is checked first: an unsigned claim says nothing, not even "expired".
    ///
    /// # Errors
    /// The first [`AuthorizationProblem`] found.
    pub fn check(
        &self,
        authorization: &SignedAuthorization,
        card: &CardFacts<'_>,
        now: DateTime<Utc>,
    ) -> Result<VerifiedAuthorization, AuthorizationProblem> {
        let verified = self.check_signature(authorization)?;
        card.is_named_by(
            &authorization.nik,
            &authorization.enrollment_id,
            &authorization.office,
            &authorization.card_digest,
        )?;
        if verified.expires_at <= now + self.margin {
            return Err(AuthorizationProblem::Expired { expires_at: verified.expires_at });
        }
        Ok(verified)
    }

    /// Checks an authorization as stored with a job (its JSON), for the stages that print.
    ///
    /// # Errors
    /// As [`Verifier::check`]; [`AuthorizationProblem::Unreadable`] when the JSON is not one.
    pub fn check_stored(
        &self,
        stored_json: &str,
        card: &CardFacts<'_>,
        now: DateTime<Utc>,
    ) -> Result<VerifiedAuthorization, AuthorizationProblem> {
        let authorization: SignedAuthorization =
            serde_json::from_str(stored_json).map_err(|e| AuthorizationProblem::Unreadable(e.to_string()))?;
        self.check(&authorization, card, now)
    }

    /// Checks a denial: signed with central's key, and for `card`.
    ///
    /// # Errors
    /// The first [`AuthorizationProblem`] found.
    pub fn check_denial(&self, denial: &SignedDenial, card: &CardFacts<'_>) -> Result<(), AuthorizationProblem> {
        if denial.key_id != self.key_id {
            return Err(AuthorizationProblem::UnknownKey { got: denial.key_id.clone(), expected: self.key_id.clone() });
        }
        let text = denial
            .canonical_text()
            .ok_or_else(|| AuthorizationProblem::Unreadable("a field contains a line break".into()))?;
        self.verify(&text, &denial.signature)?;
        card.is_named_by(&denial.nik, &denial.enrollment_id, &denial.office, &denial.card_digest)
    }

    fn verify(&self, text: &[u8], signature: &str) -> Result<(), AuthorizationProblem> {
        let signature = BASE64
            .decode(signature)
            .ok()
            .and_then(|bytes| Signature::from_slice(&bytes).ok())
            .ok_or(AuthorizationProblem::BadSignature)?;
        let digest = GoodSignatures::digest(text, &signature);
        if self.good.contains(&digest) {
            return Ok(());
        }
        #[cfg(test)]
        self.good.curve_checks.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.key.verify_strict(text, &signature).map_err(|_| AuthorizationProblem::BadSignature)?;
        self.good.remember(digest);
        Ok(())
    }

    /// The signature and the times only, whatever card it names.
    fn check_signature(
        &self,
        authorization: &SignedAuthorization,
    ) -> Result<VerifiedAuthorization, AuthorizationProblem> {
        if authorization.key_id != self.key_id {
            return Err(AuthorizationProblem::UnknownKey {
                got: authorization.key_id.clone(),
                expected: self.key_id.clone(),
            });
        }
        let text = authorization
            .canonical_text()
            .ok_or_else(|| AuthorizationProblem::Unreadable("a field contains a line break".into()))?;
        self.verify(&text, &authorization.signature)?;
        let time = |field: &str, value: &str| {
            DateTime::parse_from_rfc3339(value)
                .map(|t| t.with_timezone(&Utc))
                .map_err(|_| AuthorizationProblem::Unreadable(format!("{field} {value:?} is not an RFC 3339 time")))
        };
        Ok(VerifiedAuthorization {
            authorization: authorization.clone(),
            issued_at: time("issued_at", &authorization.issued_at)?,
            expires_at: time("expires_at", &authorization.expires_at)?,
        })
    }
}

/// Signs an authorization's canonical text (the simulator's side, and tests').
///
/// # Panics
/// When a field contains a line break: the caller builds the fields.
pub fn sign(authorization: &mut SignedAuthorization, key: &ed25519_dalek::SigningKey) {
    use ed25519_dalek::Signer as _;
    let text = authorization.canonical_text().expect("signed fields without line breaks");
    authorization.signature = BASE64.encode(key.sign(&text).to_bytes());
}

/// Signs a denial's canonical text (the simulator's side, and tests').
///
/// # Panics
/// When a field contains a line break: the caller builds the fields.
pub fn sign_denial(denial: &mut SignedDenial, key: &ed25519_dalek::SigningKey) {
    use ed25519_dalek::Signer as _;
    let text = denial.canonical_text().expect("signed fields without line breaks");
    denial.signature = BASE64.encode(key.sign(&text).to_bytes());
}

/// A genuine authorization of HAMIDAH's card (NIK `1502015203850001`, enrollment `e1`,
/// office `1502`, request `r1`) for `card_digest`, signed with `key`: for unit tests.
#[cfg(test)]
pub(crate) fn signed_example(
    key: &ed25519_dalek::SigningKey,
    card_digest: &str,
    expires_at: &str,
) -> SignedAuthorization {
    let mut authorization = SignedAuthorization {
        authorization_id: "a1".into(),
        request_id: "r1".into(),
        office: "1502".into(),
        nik: "1502015203850001".into(),
        enrollment_id: "e1".into(),
        card_digest: card_digest.into(),
        issued_at: "2026-11-27T02:12:00Z".into(),
        expires_at: expires_at.into(),
        key_id: key_id(&key.verifying_key()),
        signature: String::new(),
    };
    sign(&mut authorization, key);
    authorization
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::SigningKey;

    const NIK: &str = "1502015203850001";

    fn key() -> SigningKey {
        SigningKey::from_bytes(&[7; 32])
    }

    fn verifier() -> Verifier {
        Verifier::from_base64(&BASE64.encode(key().verifying_key().as_bytes()), std::time::Duration::from_secs(60))
            .unwrap()
    }

    fn signed(expires_at: &str) -> SignedAuthorization {
        signed_example(&key(), DIGEST, expires_at)
    }

    const DIGEST: &str = "5d2b0f7d6b3b2a0c5e9f1d4c3b2a1f0e9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b4a";

    fn card<'a>(nik: &'a str, enrollment_id: &'a str) -> CardFacts<'a> {
        CardFacts { nik: Some(nik), enrollment_id, office: "1502", card_digest: DIGEST }
    }

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn a_genuine_authorization_for_this_card_passes() {
        let verified =
            verifier().check(&signed("2026-12-04T02:12:00Z"), &card(NIK, "e1"), at("2026-11-28T00:00:00Z")).unwrap();
        assert_eq!(verified.expires_at, at("2026-12-04T02:12:00Z"));
        let again = verifier().check_stored(&verified.to_json(), &card(NIK, "e1"), at("2026-11-28T00:00:00Z")).unwrap();
        assert_eq!(again, verified);
    }

    #[test]
    fn every_tampering_is_caught() {
        let now = at("2026-11-28T00:00:00Z");
        let genuine = signed("2026-12-04T02:12:00Z");
        let mut later = genuine.clone();
        later.expires_at = "2027-12-04T02:12:00Z".into();
        assert_eq!(verifier().check(&later, &card(NIK, "e1"), now), Err(AuthorizationProblem::BadSignature));
        let mut other_card = genuine.clone();
        other_card.nik = "1502015203850002".into();
        assert_eq!(
            verifier().check(&other_card, &card("1502015203850002", "e1"), now),
            Err(AuthorizationProblem::BadSignature)
        );
        let mut garbage = genuine.clone();
        garbage.signature = "not base64!".into();
        assert_eq!(verifier().check(&garbage, &card(NIK, "e1"), now), Err(AuthorizationProblem::BadSignature));
        let mut foreign = genuine.clone();
        foreign.key_id = "ffffffffffffffff".into();
        assert!(matches!(
            verifier().check(&foreign, &card(NIK, "e1"), now),
            Err(AuthorizationProblem::UnknownKey { .. })
        ));
    }

    #[test]
    fn a_genuine_authorization_for_another_card_or_expired_is_refused() {
        let genuine = signed("2026-12-04T02:12:00Z");
        let now = at("2026-11-28T00:00:00Z");
        assert_eq!(
            verifier().check(&genuine, &card("1502015203850002", "e1"), now),
            Err(AuthorizationProblem::WrongNik)
        );
        assert!(matches!(
            verifier().check(&genuine, &card(NIK, "e2"), now),
            Err(AuthorizationProblem::WrongEnrollment { .. })
        ));
        let elsewhere = CardFacts { office: "1503", ..card(NIK, "e1") };
        assert!(matches!(verifier().check(&genuine, &elsewhere, now), Err(AuthorizationProblem::WrongOffice { .. })));
        let other_photo = CardFacts { card_digest: &"6".repeat(64), ..card(NIK, "e1") };
        assert_eq!(verifier().check(&genuine, &other_photo, now), Err(AuthorizationProblem::WrongCard));
        let problem = verifier().check(&genuine, &card(NIK, "e1"), at("2026-12-04T02:11:30Z")).unwrap_err();
        assert!(problem.is_expiry(), "within the margin counts as expired: {problem}");
    }

    #[test]
    fn a_signature_is_checked_once_and_a_changed_one_in_full() {
        let verifier = verifier();
        let now = at("2026-11-28T00:00:00Z");
        let checks = || verifier.good.curve_checks.load(std::sync::atomic::Ordering::Relaxed);
        let genuine = signed("2026-12-04T02:12:00Z");
        verifier.check(&genuine, &card(NIK, "e1"), now).unwrap();
        // A clone (the stage that draws, the one that prints) shares what was checked.
        let drawing = verifier.clone();
        drawing.check_stored(&serde_json::to_string(&genuine).unwrap(), &card(NIK, "e1"), now).unwrap();
        verifier.check(&genuine, &card(NIK, "e1"), now).unwrap();
        assert_eq!(checks(), 1);

        // What is remembered is the signature over these exact bytes: nothing else passes.
        let mut later = genuine.clone();
        later.expires_at = "2027-12-04T02:12:00Z".into();
        assert_eq!(drawing.check(&later, &card(NIK, "e1"), now), Err(AuthorizationProblem::BadSignature));
        let mut swapped = signed("2026-12-05T02:12:00Z");
        swapped.signature = genuine.signature.clone();
        assert_eq!(drawing.check(&swapped, &card(NIK, "e1"), now), Err(AuthorizationProblem::BadSignature));
        assert_eq!(drawing.check(&later, &card(NIK, "e1"), now), Err(AuthorizationProblem::BadSignature));
        assert_eq!(checks(), 4, "a bad signature is checked every time: never remembered");
        // The card, the office and the expiry are checked every time.
        assert_eq!(
            verifier.check(&genuine, &card(NIK, "e2"), now).map(drop).unwrap_err().to_string(),
            AuthorizationProblem::WrongEnrollment { got: "e1".into() }.to_string()
        );
        assert!(verifier.check(&genuine, &card(NIK, "e1"), at("2026-12-04T02:12:00Z")).unwrap_err().is_expiry());
        assert_eq!(checks(), 4);
    }

    #[test]
    fn the_good_signatures_kept_are_bounded_and_the_oldest_goes_first() {
        let good = GoodSignatures::default();
        for n in 0..GOOD_SIGNATURES_KEPT + 10 {
            let mut digest = [0; 32];
            digest[..8].copy_from_slice(&(n as u64).to_le_bytes());
            good.remember(digest);
            good.remember(digest);
        }
        let kept = good.kept.lock().unwrap();
        assert_eq!((kept.0.len(), kept.1.len()), (GOOD_SIGNATURES_KEPT, GOOD_SIGNATURES_KEPT));
        assert!(!kept.0.contains(&[0; 32]), "the first one was forgotten");
    }

    #[test]
    fn a_bad_public_key_is_named() {
        for bad in ["", "%%%", "AAAA"] {
            let error = Verifier::from_base64(bad, std::time::Duration::ZERO).unwrap_err();
            assert!(matches!(error, CentralError::PublicKey(_)), "{bad:?}");
        }
    }
}
