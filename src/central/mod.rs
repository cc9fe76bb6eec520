//! Central's print authorization: the client (over HTTP, or any [`CentralTransport`]), the
//! check of central's signed answers, the circuit breaker, and central's state for staff.
//!
//! The contract: `POST /v1/print-authorizations` with `{request_id, nik, enrollment_id,
//! office}`, idempotent on `request_id`; `201` a signed authorization, `202` pending, `403` /
//! `409` denied, `401` bad credentials, `429` / `503` with `Retry-After`, anything else
//! unreachable or malformed. Every answer becomes an [`Outcome`] with a reason staff can read.
//!
//! Architecture invariant: nothing here touches the journal or moves a job; the authorize
//! worker combines this module with the journal.

pub mod breaker;
pub mod client;
pub mod http;
pub mod status;
pub mod verify;
pub mod wire;

pub use breaker::{Breaker, BreakerPolicy, CentralState, Gate, Phase, Verdict};
pub use client::{CentralClient, CentralTransport, Outcome, RawAnswer, TransportError};
pub use http::{fetch_public_key, HttpTransport};
pub use status::{CentralMonitor, CentralStatus};
pub use verify::{AuthorizationProblem, CardFacts, VerifiedAuthorization, Verifier};
pub use wire::{AuthorizationRequest, SignedAuthorization, SignedDenial};

#[derive(Debug, thiserror::Error)]
pub enum CentralError {
    #[error("[central] public_key {0}")]
    PublicKey(String),
    #[error("cannot build the HTTP client for central: {0}")]
    Client(String),
    #[error("cannot read central's public key: {0}")]
    Fetch(String),
    /// `central.token_file` cannot be read, or is empty.
    #[error("central.token_file {path}: {problem}")]
    OfficeToken { path: String, problem: String },
}

impl CentralError {
    /// A bad key or client set-up is not cured by waiting; central not answering may be.
    pub fn is_retryable(&self) -> bool {
        matches!(self, CentralError::Fetch(_))
    }
}
