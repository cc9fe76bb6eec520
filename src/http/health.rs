//! The operator's endpoints: `GET /healthz` (the process answers and every part runs), `GET /readyz` (and so does
//! the journal, and central's key is usable), `GET /metrics` (Prometheus text). Unauthenticated and read-only.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::Json;
use serde_json::json;

use super::views::redact_niks;
use super::ApiState;

/// A journal that takes longer than this to answer `SELECT 1` is not ready.
const READY_TIMEOUT: Duration = Duration::from_secs(2);

/// 200 while every part of the spooler runs; 503 naming the parts that stopped (the spooler
/// is stopping then, with a non-zero exit status, for its supervisor to restart it).
pub async fn healthz(State(state): State<Arc<ApiState>>) -> impl IntoResponse {
    let down = state.parts.as_ref().map(|parts| parts.down_parts()).unwrap_or_default();
    if down.is_empty() {
        (StatusCode::OK, Json(json!({ "status": "ok" })))
    } else {
        let down: serde_json::Map<String, serde_json::Value> =
            down.into_iter().map(|(part, why)| (part.to_owned(), json!(redact_niks(&why)))).collect();
        (StatusCode::SERVICE_UNAVAILABLE, Json(json!({ "status": "down", "down": down })))
    }
}

pub async fn readyz(State(state): State<Arc<ApiState>>) -> impl IntoResponse {
    let problem = match tokio::time::timeout(READY_TIMEOUT, state.journal.ping()).await {
        Ok(Ok(())) => None,
        Ok(Err(error)) => Some(error.to_string()),
        Err(_) => Some(format!("the journal did not answer within {} s", READY_TIMEOUT.as_secs())),
    };
    // Without a usable central key nothing can be printed: running, but not ready for work.
    match (problem, &state.central_off) {
        (None, None) => (StatusCode::OK, Json(json!({ "status": "ready" }))),
        (journal, central) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({
                "status": "not ready",
                "journal": journal.map(|problem| redact_niks(&problem).into_owned()),
                "central": central,
            })),
        ),
    }
}

pub async fn metrics(State(state): State<Arc<ApiState>>) -> impl IntoResponse {
    let text = state.metrics.render(&state).await;
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], text)
}
