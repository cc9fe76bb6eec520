//! `GET /jobs`, `GET /jobs/{id}`, `POST /jobs/{id}/{action}`.

use std::str::FromStr;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use tracing::info;

use super::actions::{self, ActionRequest, JobAction};
use super::auth::Staff;
use super::error::{optional_json, ApiError};
use super::views::{CardView, JobView, TransitionView};
use super::ApiState;
use crate::config::StaffRole;
use crate::domain::job::{JobId, JobState};
use crate::journal::{CardOutcome, JobFilter, JobSearch, ListOrder, MAX_PAGE};

const DEFAULT_PAGE: u32 = 50;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListParams {
    /// One state or several, comma-separated.
    state: Option<String>,
    office: Option<String>,
    q: Option<String>,
    cursor: Option<String>,
    limit: Option<u32>,
    /// `newest` (default) or `oldest`.
    order: Option<String>,
}

fn parse_filter(params: &ListParams) -> Result<JobFilter, ApiError> {
    let mut states = Vec::new();
    for name in params.state.iter().flat_map(|s| s.split(',')).map(str::trim).filter(|s| !s.is_empty()) {
        states.push(JobState::from_str(name).map_err(|e| ApiError::BadRequest(e.to_string()))?);
    }
    let after = params
        .cursor
        .as_deref()
        .filter(|c| !c.is_empty())
        .map(|cursor| {
            JobId::from_str(cursor).map_err(|_| ApiError::BadRequest("the cursor is not one this API gave".into()))
        })
        .transpose()?;
    let order = match params.order.as_deref() {
        None | Some("" | "newest") => ListOrder::NewestFirst,
        Some("oldest") => ListOrder::OldestFirst,
        Some(other) => return Err(ApiError::BadRequest(format!("order {other:?}: use newest or oldest"))),
    };
    let limit = params.limit.unwrap_or(DEFAULT_PAGE);
    if limit == 0 || limit > MAX_PAGE {
        return Err(ApiError::BadRequest(format!("limit must be 1 to {MAX_PAGE}")));
    }
    Ok(JobFilter {
        states,
        office: params.office.clone().filter(|o| !o.is_empty()),
        search: params.q.as_deref().and_then(JobSearch::parse),
        after,
        order,
        limit,
    })
}

pub async fn list(
    State(state): State<Arc<ApiState>>,
    staff: Staff,
    params: Result<Query<ListParams>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let Query(params) = params.map_err(|rejection| ApiError::BadRequest(rejection.body_text()))?;
    let filter = parse_filter(&params)?;
    let nik_searched = filter.search.as_ref().and_then(JobSearch::masked_nik);
    if nik_searched.is_some() {
        allow_nik_search(&state, &staff).await?;
    }
    let page = state.journal.staff_jobs(&filter).await?;
    if let Some(masked) = nik_searched {
        // Audited before anything is shown: a search that cannot be recorded finds nothing.
        state.journal.record_nik_search(&staff.name, &masked, page.jobs.len(), state.clock.now()).await?;
        info!(staff = %staff.name, nik = %masked, found = page.jobs.len(), "full-NIK search");
    }
    let jobs: Vec<JobView> = page.jobs.iter().map(JobView::from).collect();
    Ok(Json(json!({ "jobs": jobs, "next_cursor": page.next.map(|id| id.to_string()) })))
}

fn job_id(text: &str) -> Result<JobId, ApiError> {
    JobId::from_str(text).map_err(|_| ApiError::NotFound(format!("no job {text:?}")))
}

pub async fn show(
    State(state): State<Arc<ApiState>>,
    _staff: Staff,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let job_id = job_id(&id)?;
    let job = state.journal.job(job_id).await?.ok_or_else(|| ApiError::NotFound(format!("no job {job_id}")))?;
    let history = state.journal.history(job_id).await?;
    let cards = state.journal.cards_of_job(job_id).await?;
    let view = JobView::from(&job);
    Ok(Json(json!({
        "actions": view.actions,
        "job": view,
        "history": history.iter().map(TransitionView::from).collect::<Vec<_>>(),
        "cards": cards.iter().map(CardView::from).collect::<Vec<_>>(),
    })))
}

pub async fn act(
    State(state): State<Arc<ApiState>>,
    staff: Staff,
    Path((id, action)): Path<(String, String)>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let action = JobAction::parse(&action).ok_or_else(|| {
        ApiError::NotFound(format!("no job action {action:?}: {}", JobAction::ALL.map(JobAction::as_str).join(", ")))
    })?;
    staff.require(actions::required_role(action), action.as_str())?;
    let request: ActionRequest = optional_json(&body)?;
    let job_id = job_id(&id)?;
    let job = state.journal.job(job_id).await?.ok_or_else(|| ApiError::NotFound(format!("no job {job_id}")))?;
    let now = state.clock.now();
    let step = actions::plan(action, &job, &request, &staff, now)?;
    // The blank's fate follows the staff decision, in the step's own transaction.
    let ledger = match (action, request.outcome) {
        (JobAction::Spoiled, _) => {
            let settled = state
                .journal
                .step_settling_latest_card(job_id, &step, &[CardOutcome::Printed], CardOutcome::Spoiled)
                .await?;
            Some(if settled {
                "the printed card is recorded spoiled in the blank-card ledger"
            } else {
                "no printed card of this job is in the blank-card ledger"
            })
        }
        (JobAction::Resolve, Some(outcome)) => {
            let in_doubt = [CardOutcome::Sent, CardOutcome::Unknown];
            let settled =
                state.journal.step_settling_latest_card(job_id, &step, &in_doubt, outcome.card_outcome()).await?;
            Some(match (settled, outcome.card_outcome()) {
                (false, _) => "no card in doubt of this job is in the blank-card ledger",
                (true, CardOutcome::Printed) => "the card is recorded printed in the blank-card ledger",
                (true, CardOutcome::Spoiled) => "the card is recorded spoiled in the blank-card ledger",
                (true, _) => "the card is recorded not fed (no blank used) in the blank-card ledger",
            })
        }
        _ => {
            state.journal.transition(job_id, &step).await?;
            None
        }
    };
    let updated = state.journal.job(job_id).await?.ok_or_else(|| ApiError::NotFound(format!("no job {job_id}")))?;
    info!(%job_id, action = action.as_str(), staff = %staff.name, from = %step.from, to = %step.to, "staff action");
    Ok(Json(json!({ "job": JobView::from(&updated), "ledger": ledger })))
}

/// A staff member may look citizens up by their full NIK a limited number of times an hour
/// (`[api] nik_searches_per_hour`): a stolen token cannot walk the register.
async fn allow_nik_search(state: &ApiState, staff: &Staff) -> Result<(), ApiError> {
    if state.nik_searches_per_hour == 0 {
        return Err(ApiError::BadRequest(
            "searching by a full NIK is turned off on this spooler ([api] nik_searches_per_hour = 0)".into(),
        ));
    }
    let hour = chrono::Duration::hours(1);
    let now = state.clock.now();
    let (searches, first) = state.journal.nik_searches_since(&staff.name, now - hour).await?;
    if searches < i64::from(state.nik_searches_per_hour) {
        return Ok(());
    }
    let retry_after = first.map_or(hour, |first| first + hour - now).to_std().unwrap_or_default();
    Err(ApiError::TooMany {
        what: format!("{} made {searches} searches by full NIK in the last hour, the limit", staff.name),
        retry_after,
    })
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditParams {
    limit: Option<u32>,
}

/// `GET /audit/nik-searches`: who looked citizens up by their full NIK, newest first
/// (supervisors).
pub async fn nik_searches(
    State(state): State<Arc<ApiState>>,
    staff: Staff,
    params: Result<Query<AuditParams>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    staff.require(StaffRole::Supervisor, "reading the search audit")?;
    let Query(params) = params.map_err(|rejection| ApiError::BadRequest(rejection.body_text()))?;
    let limit = params.limit.unwrap_or(DEFAULT_PAGE);
    if limit == 0 || limit > MAX_PAGE {
        return Err(ApiError::BadRequest(format!("limit must be 1 to {MAX_PAGE}")));
    }
    let searches = state.journal.nik_searches(limit).await?;
    let searches: Vec<Value> = searches
        .iter()
        .map(
            |search| json!({ "at": search.at, "staff": search.staff, "nik": search.nik_masked, "found": search.found }),
        )
        .collect();
    Ok(Json(json!({ "searches": searches })))
}
