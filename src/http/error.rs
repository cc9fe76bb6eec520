//! The API's one error type and how each case maps to an HTTP status.

use crate::i18n::Lang;
use crate::tr;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use tracing::{error, warn};

use crate::config::StaffRole;
use crate::domain::job::IllegalTransition;
use crate::journal::JournalError;

use super::views::redact_niks;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// No `Authorization: Bearer` header, or a token no staff member has.
    #[error("a valid bearer token is needed (Authorization: Bearer <token>)")]
    Unauthenticated,
    /// The spooler has no staff tokens at all: no token could be right.
    #[error("this spooler has no staff tokens: add [[api.tokens]] to its configuration and restart it")]
    NoTokensConfigured,
    /// Too many of something from one client or staff member (wrong tokens, full-NIK searches).
    #[error("{what}: try again in {} s", .retry_after.as_secs().max(1))]
    TooMany { what: String, retry_after: std::time::Duration },
    #[error("{action} needs the {} role; {name} is {}", .needed.as_str(), .has.as_str())]
    Forbidden { action: String, needed: StaffRole, has: StaffRole, name: String },
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    BadRequest(String),
    /// The state machine refuses the step, or the job moved meanwhile.
    #[error("{0}")]
    Conflict(String),
    /// A part of the spooler this request needs is not running here.
    #[error("{0}")]
    Unavailable(String),
    #[error("journal: {0}")]
    Journal(JournalError),
}

impl From<JournalError> for ApiError {
    fn from(error: JournalError) -> Self {
        match error {
            JournalError::NotFound(job_id) => {
                ApiError::NotFound(tr!(Lang::En, "said-no-job", job = job_id.to_string()))
            }
            JournalError::Illegal(illegal) => illegal.into(),
            conflict @ JournalError::Conflict { .. } => ApiError::Conflict(conflict.to_string()),
            other => ApiError::Journal(other),
        }
    }
}

impl From<IllegalTransition> for ApiError {
    fn from(illegal: IllegalTransition) -> Self {
        ApiError::Conflict(illegal.to_string())
    }
}

impl ApiError {
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::Unauthenticated | ApiError::NoTokensConfigured => StatusCode::UNAUTHORIZED,
            ApiError::TooMany { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Forbidden { .. } => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Journal(error) if error.is_retryable() => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Journal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// A stable word for programs (the CLI, scripts) to branch on.
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::Unauthenticated => "unauthenticated",
            ApiError::NoTokensConfigured => "no_tokens_configured",
            ApiError::TooMany { .. } => "too_many",
            ApiError::Forbidden { .. } => "forbidden",
            ApiError::NotFound(_) => "not_found",
            ApiError::BadRequest(_) => "bad_request",
            ApiError::Conflict(_) => "conflict",
            ApiError::Unavailable(_) => "unavailable",
            ApiError::Journal(_) => "journal",
        }
    }

    /// Whether the same request may succeed later without anyone changing anything.
    pub fn is_retryable(&self) -> bool {
        match self {
            ApiError::Unavailable(_) | ApiError::TooMany { .. } => true,
            ApiError::Journal(error) => error.is_retryable(),
            _ => false,
        }
    }
}

/// A request body that may be left out: empty (or only whitespace) means the defaults, anything
/// else must be a JSON object of `T`'s fields and nothing else.
///
/// # Errors
/// [`ApiError::BadRequest`] naming what is wrong with the body.
pub fn optional_json<T: Default + serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        Ok(T::default())
    } else {
        serde_json::from_slice(body).map_err(|e| ApiError::BadRequest(format!("body: {e}")))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let retry_after = match &self {
            ApiError::TooMany { retry_after, .. } => Some(retry_after.as_secs().max(1)),
            _ => None,
        };
        let message = redact_niks(&self.to_string()).into_owned();
        if status.is_server_error() {
            error!(status = status.as_u16(), error = %message, "API request failed");
        } else if status == StatusCode::FORBIDDEN {
            warn!(error = %message, "API request refused");
        } else if retry_after.is_some() {
            warn!(error = %message, "API request limited");
        }
        let body = Json(serde_json::json!({ "error": message, "code": self.code() }));
        let mut response = (status, body).into_response();
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, header::HeaderValue::from_static("Bearer"));
        }
        if let Some(seconds) = retry_after {
            response.headers_mut().insert(header::RETRY_AFTER, header::HeaderValue::from(seconds));
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Default, PartialEq, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Request {
        reason: Option<String>,
    }

    #[test]
    fn an_empty_body_means_the_defaults_and_anything_else_is_parsed_strictly() {
        assert_eq!(optional_json::<Request>(b"").unwrap(), Request::default());
        assert_eq!(optional_json::<Request>(b" \n").unwrap(), Request::default());
        assert_eq!(optional_json::<Request>(br#"{"reason": "r"}"#).unwrap(), Request { reason: Some("r".into()) });
        let error = optional_json::<Request>(br#"{"reasn": "typo"}"#).unwrap_err();
        assert!(matches!(&error, ApiError::BadRequest(message) if message.starts_with("body: ")), "{error}");
        assert!(matches!(optional_json::<Request>(b"{"), Err(ApiError::BadRequest(_))));
    }
}
