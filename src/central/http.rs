//! The HTTP transport to central (reqwest, with connect and overall timeouts).

use std::time::Duration;

use super::client::{
    parse_retry_after, CentralTransport, RawAnswer, TransportError, TransportFuture, MAX_ANSWER_BYTES,
};
use super::wire::{AuthorizationRequest, PublicKeyAnswer, AUTHORIZATIONS_PATH, PUBLIC_KEY_PATH};
use super::CentralError;

/// Central over HTTP(S).
#[derive(Debug, Clone)]
pub struct HttpTransport {
    client: reqwest::Client,
    base_url: String,
    timeout: Duration,
    /// This office's bearer token for central (`central.token_file`), sent with every request.
    office_token: Option<OfficeToken>,
}

/// A secret: its `Debug` never shows it.
#[derive(Clone)]
struct OfficeToken(String);

impl std::fmt::Debug for OfficeToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("OfficeToken(<hidden>)")
    }
}

impl HttpTransport {
    /// A transport to the central at `base_url` (e.g. `http://127.0.0.1:8470`).
    ///
    /// # Errors
    /// [`CentralError::Client`] when the HTTP client cannot be built (TLS set-up).
    pub fn new(base_url: &str, connect_timeout: Duration, timeout: Duration) -> Result<HttpTransport, CentralError> {
        install_crypto_provider();
        let client = reqwest::Client::builder()
            .connect_timeout(connect_timeout)
            .timeout(timeout)
            .user_agent(concat!("cardspool/", env!("CARGO_PKG_VERSION")))
            // A redirect is an answer to read, not an address to follow: central does not
            // redirect, and a proxy that does must not send the NIK elsewhere.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| CentralError::Client(e.to_string()))?;
        Ok(HttpTransport { client, base_url: base_url.trim_end_matches('/').to_owned(), timeout, office_token: None })
    }

    /// Sends `token` as this office's credentials (`Authorization: Bearer`) with every request.
    #[must_use]
    pub fn with_office_token(mut self, token: &str) -> HttpTransport {
        self.office_token = Some(OfficeToken(token.trim().to_owned()));
        self
    }

    async fn post(&self, request: &AuthorizationRequest) -> Result<RawAnswer, TransportError> {
        let url = format!("{}{AUTHORIZATIONS_PATH}", self.base_url);
        let mut post = self.client.post(&url).json(request);
        if let Some(OfficeToken(token)) = &self.office_token {
            post = post.bearer_auth(token);
        }
        let response = post.send().await.map_err(|e| transport_error(&e, self.timeout))?;
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| parse_retry_after(value, chrono::Utc::now()));
        // Capped while it streams (a body without Content-Length, or lying about it, is not read
        // to its end): one byte over the cap is enough to call it oversize.
        let mut response = response;
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| transport_error(&e, self.timeout))? {
            body.extend_from_slice(&chunk[..chunk.len().min(MAX_ANSWER_BYTES + 1 - body.len())]);
            if body.len() > MAX_ANSWER_BYTES {
                break;
            }
        }
        Ok(RawAnswer { status, retry_after, body })
    }
}

impl CentralTransport for HttpTransport {
    fn post_authorization<'a>(&'a self, request: &'a AuthorizationRequest) -> TransportFuture<'a> {
        Box::pin(self.post(request))
    }

    fn describe(&self) -> String {
        self.base_url.clone()
    }
}

fn transport_error(error: &reqwest::Error, timeout: Duration) -> TransportError {
    // reqwest's Display names only the outer layer ("error sending request"); the cause
    // (connection refused, reset) is what staff need.
    let mut detail = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        detail = format!("{detail}: {cause}");
        source = cause.source();
    }
    if error.is_timeout() {
        TransportError::Timeout(timeout)
    } else if error.is_connect() {
        TransportError::Connect(detail)
    } else {
        TransportError::Connection(detail)
    }
}

/// Reads central's public key (base64) from `GET /v1/public-key`: for the demo and tests.
/// A deployment configures the key it got from the registry, not one fetched over the wire.
///
/// # Errors
/// [`CentralError::Fetch`] when central cannot be asked or answers something else.
pub async fn fetch_public_key(base_url: &str) -> Result<PublicKeyAnswer, CentralError> {
    install_crypto_provider();
    let url = format!("{}{PUBLIC_KEY_PATH}", base_url.trim_end_matches('/'));
    let fail = |e: reqwest::Error| CentralError::Fetch(format!("GET {url}: {e}"));
    let response = reqwest::Client::new().get(&url).send().await.map_err(fail)?;
    response.error_for_status().map_err(fail)?.json().await.map_err(fail)
}

/// reqwest is built without a default TLS crypto provider; ring is ours. Installing twice is
/// harmless (the second attempt reports the first is in place).
fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}
