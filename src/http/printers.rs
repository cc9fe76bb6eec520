//! `GET /printers`, `POST /printers/{name}/pause|resume|test`, through the dispatch worker's
//! [`Printers`] handle (and the worker itself for a test card).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use tracing::info;

use super::actions::MAX_REASON_CHARS;
use super::auth::Staff;
use super::error::{optional_json, ApiError};
use super::views::PrinterStateView;
use super::ApiState;
use crate::config::StaffRole;
use crate::printer::pool::Printers;
use crate::printer::test_card::TestCardError;

fn printers(state: &ApiState) -> Result<&Printers, ApiError> {
    state.printers.as_ref().ok_or_else(|| ApiError::Unavailable("printing does not run in this spooler".into()))
}

pub async fn list(State(state): State<Arc<ApiState>>, _staff: Staff) -> Result<Json<Value>, ApiError> {
    let views: Vec<PrinterStateView> = printers(&state)?.snapshot().iter().map(PrinterStateView::from).collect();
    Ok(Json(json!({ "printers": views })))
}

pub async fn act(
    State(state): State<Arc<ApiState>>,
    staff: Staff,
    Path((name, action)): Path<(String, String)>,
    body: Bytes,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    if !matches!(action.as_str(), "pause" | "resume" | "test") {
        return Err(ApiError::NotFound(format!("no printer action {action:?}: pause, resume, test")));
    }
    staff.require(StaffRole::Operator, &format!("{action} a printer"))?;
    if action == "test" {
        return test_card(&state, &staff, &name, &body).await;
    }
    let printers = printers(&state)?;
    let now = state.clock.now();
    let known = if action == "pause" {
        printers.pause(&name, &staff.name, now)
    } else {
        printers.resume(&name, &staff.name, now)
    };
    if !known {
        return Err(ApiError::NotFound(format!("no printer {name:?}")));
    }
    info!(printer = %name, action = %action, staff = %staff.name, "staff printer action");
    let view = printers.view(&name).ok_or_else(|| ApiError::NotFound(format!("no printer {name:?}")))?;
    Ok((StatusCode::OK, Json(json!({ "printer": PrinterStateView::from(&view) }))))
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct TestCardRequest {
    #[serde(default)]
    reason: Option<String>,
}

/// Sends a test card: 202 once the printer was found ready and the card made; the card is
/// followed in the background and enters the blank-card ledger as `test`.
async fn test_card(
    state: &ApiState,
    staff: &Staff,
    name: &str,
    body: &[u8],
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let request: TestCardRequest = optional_json(body)?;
    let reason = request.reason.as_deref().map(str::trim).filter(|r| !r.is_empty());
    if reason.is_some_and(|r| r.chars().count() > MAX_REASON_CHARS) {
        return Err(ApiError::BadRequest(format!("the reason is longer than {MAX_REASON_CHARS} characters")));
    }
    let dispatch = state
        .test_cards
        .as_ref()
        .ok_or_else(|| ApiError::Unavailable("printing does not run in this spooler".into()))?;
    let wording = match reason {
        Some(reason) => format!("test card by {}: {reason}", staff.name),
        None => format!("test card by {}", staff.name),
    };
    let sent = dispatch.send_test_card(name, wording).await.map_err(|error| match error {
        TestCardError::UnknownPrinter(_) => ApiError::NotFound(error.to_string()),
        TestCardError::NotReady { .. } | TestCardError::NoTemplate(_) | TestCardError::Render(_) => {
            ApiError::Conflict(error.to_string())
        }
    })?;
    info!(printer = %name, job_name = %sent.job_name, staff = %staff.name, "staff sent a test card");
    Ok((StatusCode::ACCEPTED, Json(json!({ "printer": sent.printer, "test_card": sent.job_name }))))
}
