//! `GET /summary` (what waits and why, at a glance) and `GET /rejections`.

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::Json;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{json, Value};

use super::auth::Staff;
use super::error::ApiError;
use super::views::{central_view, PrinterStateView, RejectionView};
use super::ApiState;
use crate::domain::job::JobState;
use crate::journal::StateOverview;

/// Rejections shown in the summary.
const LATEST_REJECTIONS: u32 = 5;
const MAX_REJECTIONS: u32 = 500;

/// Why jobs wait, grouped the way staff ask: for central, for a printer, for staff.
const WAITING: [(&str, &[JobState]); 3] = [
    ("authorization", &[JobState::Received, JobState::AwaitingAuthorization]),
    ("printing", &[JobState::Authorized, JobState::Rendered, JobState::Printing]),
    ("staff", &[JobState::Held, JobState::Failed, JobState::Unknown]),
];

fn waiting(overview: &BTreeMap<JobState, StateOverview>, states: &[JobState]) -> Value {
    let of = |state: &JobState| overview.get(state);
    let count: i64 = states.iter().filter_map(of).map(|o| o.count).sum();
    let oldest: Option<DateTime<Utc>> = states.iter().filter_map(of).filter_map(|o| o.oldest_received_at).min();
    json!({ "count": count, "oldest_received_at": oldest, "states": states.iter().map(|s| s.as_str()).collect::<Vec<_>>() })
}

pub async fn summary(State(state): State<Arc<ApiState>>, _staff: Staff) -> Result<Json<Value>, ApiError> {
    let overview = state.journal.state_overview().await?;
    let (distinct, deliveries) = state.journal.rejection_counts().await?;
    let latest = state.journal.rejections(LATEST_REJECTIONS).await?;
    let by_state: serde_json::Map<String, Value> = JobState::ALL
        .iter()
        .map(|s| {
            let entry = overview.get(s);
            (
                s.as_str().to_owned(),
                json!({
                    "count": entry.map_or(0, |o| o.count),
                    "oldest_received_at": entry.and_then(|o| o.oldest_received_at),
                }),
            )
        })
        .collect();
    let waiting: serde_json::Map<String, Value> =
        WAITING.iter().map(|(why, states)| ((*why).to_owned(), waiting(&overview, states))).collect();
    let intake = state.intake.as_ref().map(|stats| {
        json!({
            "admitted": stats.admitted.load(Ordering::Relaxed),
            "duplicates": stats.duplicates.load(Ordering::Relaxed),
            "rejected": stats.rejected.load(Ordering::Relaxed),
            "reconnects": stats.reconnects.load(Ordering::Relaxed),
            "acks_lost": stats.acks_lost.load(Ordering::Relaxed),
        })
    });
    let stock = state.journal.blank_stock().await?;
    let (unpublished, oldest_unpublished) = state.journal.outbox_backlog().await?;
    let central = match &state.central {
        Some(monitor) => Some(super::central::live_snapshot(&state, monitor).await?),
        None => None,
    };
    let printers = state.printers.as_ref().map(|printers| {
        printers
            .snapshot()
            .iter()
            .map(|view| PrinterStateView::with_stock(view, &stock, state.stock_levels))
            .collect::<Vec<_>>()
    });
    Ok(Json(json!({
        "at": state.clock.now(),
        "jobs": {
            "total": overview.values().map(|o| o.count).sum::<i64>(),
            "by_state": by_state,
        },
        "waiting": waiting,
        "rejections": {
            "distinct": distinct,
            "deliveries": deliveries,
            "latest": latest.iter().map(RejectionView::from).collect::<Vec<_>>(),
        },
        "intake": intake,
        "status_events": {
            "unpublished": unpublished,
            "oldest_unpublished_at": oldest_unpublished,
            "held_back": state.status_events.as_ref().and_then(|stats| stats.current()),
        },
        "printers": printers,
        "central": central.as_ref().map(central_view),
        "central_off": state.central_off,
        "office": { "zone": state.office_zone.name(), "utc_offset_minutes": state.office_zone.utc_offset_minutes() },
    })))
}

/// A list's one parameter: how many to show.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitParams {
    pub limit: Option<u32>,
}

/// `limit` as asked, or `default`; within 1 to `max`.
///
/// # Errors
/// [`ApiError::BadRequest`] for 0 or more than `max`.
pub fn checked_limit(limit: Option<u32>, default: u32, max: u32) -> Result<u32, ApiError> {
    let limit = limit.unwrap_or(default);
    if limit == 0 || limit > max {
        return Err(ApiError::BadRequest(format!("limit must be 1 to {max}")));
    }
    Ok(limit)
}

pub async fn rejections(
    State(state): State<Arc<ApiState>>,
    _staff: Staff,
    params: Result<Query<LimitParams>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let Query(params) = params.map_err(|rejection| ApiError::BadRequest(rejection.body_text()))?;
    let limit = checked_limit(params.limit, 50, MAX_REJECTIONS)?;
    let (distinct, deliveries) = state.journal.rejection_counts().await?;
    let records = state.journal.rejections(limit).await?;
    Ok(Json(json!({
        "distinct": distinct,
        "deliveries": deliveries,
        "rejections": records.iter().map(RejectionView::from).collect::<Vec<_>>(),
    })))
}
