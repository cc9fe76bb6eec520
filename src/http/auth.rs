//! Bearer tokens and roles. Each configured token belongs to one named staff member; the name
//! is what the audit trail records for every step they take.

use std::sync::Arc;

use axum::extract::FromRequestParts;
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
        let header = parts.headers.get(AUTHORIZATION).and_then(|value| value.to_str().ok());
        let token = header
            .and_then(|value| value.split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, token)| token.trim())
            .ok_or(ApiError::Unauthenticated)?;
        state.tokens.find(token).ok_or(ApiError::Unauthenticated)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
