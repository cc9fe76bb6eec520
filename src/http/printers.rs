//! `GET /printers`, `POST /printers/{name}/pause|resume`, through the dispatch worker's
//! [`Printers`] handle.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::Json;
use serde_json::{json, Value};
use tracing::info;

use super::auth::Staff;
use super::error::ApiError;
use super::views::PrinterStateView;
use super::ApiState;
use crate::config::StaffRole;
use crate::printer::pool::Printers;

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
) -> Result<Json<Value>, ApiError> {
    if !matches!(action.as_str(), "pause" | "resume") {
        return Err(ApiError::NotFound(format!("no printer action {action:?}: pause, resume")));
    }
    staff.require(StaffRole::Operator, &format!("{action} a printer"))?;
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
    Ok(Json(json!({ "printer": PrinterStateView::from(&view) })))
}
