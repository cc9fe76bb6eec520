//! `GET /central` (central's state and since when) and `POST /central/check` (ask central now,
//! after staff fixed what it complained about), through the authorize worker's monitor.

use crate::i18n::Lang;
use crate::tr;
use std::sync::Arc;

use axum::extract::State;
use axum::Json;
use serde_json::{json, Value};
use tracing::info;

use super::auth::Staff;
use super::error::ApiError;
use super::views::central_view;
use super::ApiState;
use crate::central::{CentralMonitor, CentralStatus};
use crate::config::StaffRole;

fn monitor(state: &ApiState) -> Result<&CentralMonitor, ApiError> {
    state.central.as_ref().ok_or_else(|| {
        ApiError::Unavailable(tr!(
            Lang::En,
            "said-central-off",
            why = state.central_off.as_deref().unwrap_or("no usable [central] public_key")
        ))
    })
}

/// Central's state with the cards waiting for it counted now, so that the count agrees with
/// the job lists (the worker refreshes its own count only every few seconds).
pub async fn live_snapshot(state: &ApiState, monitor: &CentralMonitor) -> Result<CentralStatus, ApiError> {
    let (waiting, oldest) = state.journal.authorization_backlog().await?;
    monitor.set_backlog(u64::try_from(waiting).unwrap_or(0), oldest);
    Ok(monitor.snapshot())
}

pub async fn status(State(state): State<Arc<ApiState>>, _staff: Staff) -> Result<Json<Value>, ApiError> {
    let monitor = monitor(&state)?;
    Ok(Json(central_view(&live_snapshot(&state, monitor).await?)))
}

pub async fn check(State(state): State<Arc<ApiState>>, staff: Staff) -> Result<Json<Value>, ApiError> {
    staff.require(StaffRole::Operator, "check central now")?;
    let monitor = monitor(&state)?;
    let scheduled = monitor.probe_now(state.clock.now());
    info!(staff = %staff.name, scheduled, "staff asked for a check of central");
    let note = if scheduled { tr!(Lang::En, "said-central-asked-now") } else { tr!(Lang::En, "said-central-flowing") };
    Ok(Json(
        json!({ "central": central_view(&live_snapshot(&state, monitor).await?), "note": note, "asked": scheduled }),
    ))
}
