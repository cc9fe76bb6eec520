//! `GET /printers`, `POST /printers/{name}/pause|resume|test`, through the dispatch worker's
//! [`Printers`] handle (and the worker itself for a test card).

use crate::i18n::Lang;
use crate::tr;
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
    state.printers.as_ref().ok_or_else(|| ApiError::Unavailable(tr!(Lang::En, "said-printing-not-running")))
}

pub async fn list(State(state): State<Arc<ApiState>>, _staff: Staff) -> Result<Json<Value>, ApiError> {
    let printers = printers(&state)?;
    let stock = state.journal.blank_stock().await?;
    let views: Vec<PrinterStateView> =
        printers.snapshot().iter().map(|view| PrinterStateView::with_stock(view, &stock, state.stock_levels)).collect();
    Ok(Json(json!({ "printers": views })))
}

/// The most blanks one load may record (a typo guard: hoppers hold a few hundred).
const MAX_LOAD: u32 = 10_000;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LoadRequest {
    cards: u32,
}

/// `POST /printers/{name}/load` `{"cards": N}`: staff put N blanks into the printer.
async fn load(state: &ApiState, staff: &Staff, name: &str, body: &[u8]) -> Result<(StatusCode, Json<Value>), ApiError> {
    let request: LoadRequest = serde_json::from_slice(body)
        .map_err(|error| ApiError::BadRequest(format!("body: {error} (expected {{\"cards\": N}})")))?;
    if request.cards == 0 || request.cards > MAX_LOAD {
        return Err(ApiError::BadRequest(tr!(Lang::En, "said-load-cards-range", max = MAX_LOAD)));
    }
    let printers = printers(state)?;
    let view = printers
        .view(name)
        .ok_or_else(|| ApiError::NotFound(tr!(Lang::En, "said-no-printer", printer = format!("{name:?}"))))?;
    let blanks = state.journal.load_blanks(name, request.cards, &staff.name, state.clock.now()).await?;
    info!(printer = %name, cards = request.cards, blanks, staff = %staff.name, "blanks loaded");
    let stock = std::iter::once((name.to_owned(), blanks)).collect();
    Ok((StatusCode::OK, Json(json!({ "printer": PrinterStateView::with_stock(&view, &stock, state.stock_levels) }))))
}

pub async fn act(
    State(state): State<Arc<ApiState>>,
    staff: Staff,
    Path((name, action)): Path<(String, String)>,
    body: Bytes,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    if !matches!(action.as_str(), "pause" | "resume" | "test" | "load") {
        return Err(ApiError::NotFound(format!("no printer action {action:?}: pause, resume, test, load")));
    }
    staff.require(StaffRole::Operator, &format!("{action} a printer"))?;
    if action == "test" {
        return test_card(&state, &staff, &name, &body).await;
    }
    if action == "load" {
        return load(&state, &staff, &name, &body).await;
    }
    let printers = printers(&state)?;
    let now = state.clock.now();
    let known = if action == "pause" {
        let request: ReasonRequest = optional_json(&body)?;
        let reason = request.reason.as_deref().map(str::trim).filter(|r| !r.is_empty());
        if reason.is_some_and(|r| r.chars().count() > MAX_REASON_CHARS || r.chars().any(char::is_control)) {
            return Err(ApiError::BadRequest(tr!(Lang::En, "said-reason-one-line-at-most", max = MAX_REASON_CHARS)));
        }
        let reason = reason.map(|r| crate::domain::nik::redact_niks(r).into_owned());
        printers.pause(&name, &staff.name, reason.as_deref(), now)
    } else {
        printers.resume(&name, &staff.name, now)
    };
    if !known {
        return Err(ApiError::NotFound(tr!(Lang::En, "said-no-printer", printer = format!("{name:?}"))));
    }
    info!(printer = %name, action = %action, staff = %staff.name, "staff printer action");
    let view = printers
        .view(&name)
        .ok_or_else(|| ApiError::NotFound(tr!(Lang::En, "said-no-printer", printer = format!("{name:?}"))))?;
    Ok((StatusCode::OK, Json(json!({ "printer": PrinterStateView::from(&view) }))))
}

/// The optional body of a pause or a test card: why.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ReasonRequest {
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
    let request: ReasonRequest = optional_json(body)?;
    let reason = request.reason.as_deref().map(str::trim).filter(|r| !r.is_empty());
    if reason.is_some_and(|r| r.chars().count() > MAX_REASON_CHARS) {
        return Err(ApiError::BadRequest(format!("the reason is longer than {MAX_REASON_CHARS} characters")));
    }
    let dispatch =
        state.test_cards.as_ref().ok_or_else(|| ApiError::Unavailable(tr!(Lang::En, "said-printing-not-running")))?;
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
