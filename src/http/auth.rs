//! Bearer tokens and roles. Each configured token belongs to one named staff member; the name
//! is what the audit trail records for every step they take.

use crate::i18n::Lang;
use crate::tr;
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use sha2::{Digest, Sha256};

use super::error::ApiError;
use super::ApiState;
use crate::config::{ApiToken, StaffRole};
use crate::domain::job::Actor;

/// The configured tokens, kept as SHA-256 digests: a presented token is hashed and compared
/// with every digest in constant time, so neither the comparison nor the lookup leaks how much
/// of a token was right.
pub struct Tokens {
    entries: Vec<([u8; 32], String, StaffRole)>,
}

impl Tokens {
    pub fn new(tokens: &[ApiToken]) -> Tokens {
        Tokens {
            entries: tokens
                .iter()
                .map(|token| (Sha256::digest(token.token.as_bytes()).into(), token.name.clone(), token.role))
                .collect(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn find(&self, presented: &str) -> Option<Staff> {
        let digest: [u8; 32] = Sha256::digest(presented.as_bytes()).into();
        let mut found = None;
        for (known, name, role) in &self.entries {
            let difference = known.iter().zip(&digest).fold(0u8, |acc, (a, b)| acc | (a ^ b));
            if difference == 0 {
                found = Some(Staff { name: name.clone(), role: *role });
            }
        }
        found
    }
}

/// Wrong tokens allowed from one address per window; beyond them every request from it is
/// refused, right token or not, until the window ends (so guessing cannot go on in the
/// background of a refused stream).
const WRONG_TOKENS_PER_WINDOW: u32 = 10;
const WRONG_TOKEN_WINDOW: Duration = Duration::from_secs(60);
/// Addresses remembered at most; beyond it, the ones whose window ended are forgotten.
const REMEMBERED_ADDRESSES: usize = 10_000;

/// Wrong-token attempts per client address, in fixed windows.
///
/// Behind a reverse proxy every request comes from the proxy's address: the limit is then the
/// office's, not a client's (`docs/security.md`).
#[derive(Default)]
pub struct WrongTokens {
    by_address: Mutex<HashMap<IpAddr, (tokio::time::Instant, u32)>>,
}

impl WrongTokens {
    /// How long `address` must still wait, when it used up its wrong tokens.
    fn blocked(&self, address: IpAddr) -> Option<Duration> {
        let now = tokio::time::Instant::now();
        let by_address = self.by_address.lock().expect("not poisoned");
        let (since, wrong) = by_address.get(&address)?;
        let left = (*since + WRONG_TOKEN_WINDOW).saturating_duration_since(now);
        (*wrong >= WRONG_TOKENS_PER_WINDOW && !left.is_zero()).then_some(left)
    }

    fn count(&self, address: IpAddr) {
        let now = tokio::time::Instant::now();
        let mut by_address = self.by_address.lock().expect("not poisoned");
        if by_address.len() >= REMEMBERED_ADDRESSES {
            by_address.retain(|_, (since, _)| *since + WRONG_TOKEN_WINDOW > now);
        }
        let (since, wrong) = by_address.entry(address).or_insert((now, 0));
        if *since + WRONG_TOKEN_WINDOW <= now {
            (*since, *wrong) = (now, 0);
        }
        *wrong += 1;
    }
}

/// The staff member behind a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Staff {
    pub name: String,
    pub role: StaffRole,
}

impl Staff {
    /// # Errors
    /// [`ApiError::Forbidden`] when the staff member's role is below `needed`.
    pub fn require(&self, needed: StaffRole, action: &str) -> Result<(), ApiError> {
        if self.role >= needed {
            Ok(())
        } else {
            Err(ApiError::Forbidden { action: action.to_owned(), needed, has: self.role, name: self.name.clone() })
        }
    }

    pub fn actor(&self) -> Actor {
        Actor::Staff(self.name.clone())
    }
}

impl FromRequestParts<Arc<ApiState>> for Staff {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &Arc<ApiState>) -> Result<Self, Self::Rejection> {
        if state.tokens.is_empty() {
            return Err(ApiError::NoTokensConfigured);
        }
        // Served without connection info (a test's router), there is no address to limit.
        let address = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|info| info.0.ip());
        if let Some(retry_after) = address.and_then(|address| state.wrong_tokens.blocked(address)) {
            return Err(ApiError::TooMany { what: tr!(Lang::En, "said-api-wrong-tokens"), retry_after });
        }
        let header = parts.headers.get(AUTHORIZATION).and_then(|value| value.to_str().ok());
        let token = header
            .and_then(|value| value.split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, token)| token.trim())
            .ok_or(ApiError::Unauthenticated)?;
        let staff = state.tokens.find(token);
        if let (None, Some(address)) = (&staff, address) {
            state.wrong_tokens.count(address);
        }
        staff.ok_or(ApiError::Unauthenticated)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn an_address_that_guessed_too_often_waits_out_the_window() {
        let wrong = WrongTokens::default();
        let (guesser, other): (IpAddr, IpAddr) = ("192.0.2.7".parse().unwrap(), "192.0.2.8".parse().unwrap());
        for _ in 0..WRONG_TOKENS_PER_WINDOW - 1 {
            wrong.count(guesser);
        }
        assert_eq!(wrong.blocked(guesser), None, "nine wrong tokens are a typing staff member");
        wrong.count(guesser);
        assert_eq!(wrong.blocked(guesser), Some(WRONG_TOKEN_WINDOW));
        assert_eq!(wrong.blocked(other), None, "per address");
        tokio::time::advance(Duration::from_secs(45)).await;
        assert_eq!(wrong.blocked(guesser), Some(Duration::from_secs(15)));
        tokio::time::advance(Duration::from_secs(15)).await;
        assert_eq!(wrong.blocked(guesser), None);
        wrong.count(guesser);
        assert_eq!(wrong.blocked(guesser), None, "a new window starts from zero");
    }

    #[test]
    fn tokens_name_their_staff_and_roles_are_ordered() {
        let tokens = Tokens::new(&[
            ApiToken { name: "rina".into(), token: "operator-token-0001".into(), role: StaffRole::Operator },
            ApiToken { name: "budi".into(), token: "viewer-token-00001".into(), role: StaffRole::Viewer },
        ]);
        let rina = tokens.find("operator-token-0001").unwrap();
        assert_eq!(rina.name, "rina");
        assert!(tokens.find("operator-token-000").is_none());
        assert!(rina.require(StaffRole::Viewer, "look").is_ok());
        assert!(rina.require(StaffRole::Operator, "hold").is_ok());
        assert!(matches!(rina.require(StaffRole::Supervisor, "reprint"), Err(ApiError::Forbidden { .. })));
        assert_eq!(rina.actor(), Actor::Staff("rina".into()));
    }
}
