//! `GET /jobs`, `GET /jobs/{id}`, `POST /jobs/{id}/{action}`.

use super::language::Asked;
use crate::i18n::{state_name, Lang};
use crate::tr;
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
use super::summary::{checked_limit, LimitParams};
use super::views::{CardView, JobView, TransitionView};
use super::ApiState;
use crate::central::CentralState;
use crate::config::StaffRole;
use crate::domain::estimate::{Estimate, QueueFacts};
use crate::domain::job::{JobId, JobState};
use crate::domain::nik::redact_niks;
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
    let limit = checked_limit(params.limit, DEFAULT_PAGE, MAX_PAGE)?;
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
    JobId::from_str(text).map_err(|_| ApiError::NotFound(tr!(Lang::En, "said-no-job", job = format!("{text:?}"))))
}

pub async fn show(
    State(state): State<Arc<ApiState>>,
    _staff: Staff,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let job_id = job_id(&id)?;
    let job = state
        .journal
        .job(job_id)
        .await?
        .ok_or_else(|| ApiError::NotFound(tr!(Lang::En, "said-no-job", job = job_id.to_string())))?;
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
    let job = state
        .journal
        .job(job_id)
        .await?
        .ok_or_else(|| ApiError::NotFound(tr!(Lang::En, "said-no-job", job = job_id.to_string())))?;
    // What was asked is the case already (a second click, a retried command): said, not refused,
    // and nothing is written.
    let already = match (action, job.state) {
        (JobAction::Hold, JobState::Held) => Some(tr!(Lang::En, "said-already-held")),
        (JobAction::Cancel, JobState::Cancelled) => Some(tr!(Lang::En, "said-already-cancelled")),
        _ => None,
    };
    if let Some(note) = already {
        return Ok(Json(json!({ "job": JobView::from(&job), "ledger": null, "note": note })));
    }
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
                tr!(Lang::En, "said-ledger-printed-spoiled")
            } else {
                tr!(Lang::En, "said-ledger-no-printed-card")
            })
        }
        (JobAction::Resolve, Some(outcome)) => {
            let in_doubt = [CardOutcome::Sent, CardOutcome::Unknown];
            let settled =
                state.journal.step_settling_latest_card(job_id, &step, &in_doubt, outcome.card_outcome()).await?;
            Some(match (settled, outcome.card_outcome()) {
                (false, _) => tr!(Lang::En, "said-ledger-no-card-in-doubt"),
                (true, CardOutcome::Printed) => tr!(Lang::En, "said-ledger-printed"),
                (true, CardOutcome::Spoiled) => tr!(Lang::En, "said-ledger-spoiled"),
                (true, _) => tr!(Lang::En, "said-ledger-not-fed"),
            })
        }
        _ => {
            state.journal.transition(job_id, &step).await?;
            None
        }
    };
    let updated = state
        .journal
        .job(job_id)
        .await?
        .ok_or_else(|| ApiError::NotFound(tr!(Lang::En, "said-no-job", job = job_id.to_string())))?;
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
        what: tr!(Lang::En, "said-api-nik-search-limit", staff = &staff.name, count = searches),
        retry_after,
    })
}

/// `GET /audit/nik-searches`: who looked citizens up by their full NIK, newest first
/// (supervisors).
pub async fn nik_searches(
    State(state): State<Arc<ApiState>>,
    staff: Staff,
    params: Result<Query<LimitParams>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    staff.require(StaffRole::Supervisor, "reading the search audit")?;
    let Query(params) = params.map_err(|rejection| ApiError::BadRequest(rejection.body_text()))?;
    let limit = checked_limit(params.limit, DEFAULT_PAGE, MAX_PAGE)?;
    let searches = state.journal.nik_searches(limit).await?;
    let searches: Vec<Value> = searches
        .iter()
        .map(
            |search| json!({ "at": search.at, "staff": search.staff, "nik": search.nik_masked, "found": search.found }),
        )
        .collect();
    Ok(Json(json!({ "searches": searches })))
}

/// How far back a pool's pace is measured for an estimate.
const PACE_WINDOW_HOURS: i64 = 2;

/// `GET /jobs/{id}/estimate`: where the job stands and when its card is expected ("position
/// 37 of 112 for pool ektp; expected about 14:20 today"), for the citizen at the counter.
pub async fn estimate(
    State(state): State<Arc<ApiState>>,
    _staff: Staff,
    asked: Asked,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let job = job_named(&state, &id).await?;
    let now = state.clock.now();
    let estimate = estimate_for(&state, &job, now).await?;
    let (position, of, pool, expected_at) = match &estimate {
        Estimate::Queued { position, of, pool, expected } => {
            (Some(*position), Some(*of), Some(pool.clone()), expected.as_ref().ok().copied())
        }
        _ => (None, None, None, None),
    };
    Ok(Json(json!({
        "job_id": job.id.to_string(),
        "state": job.state.as_str(),
        "position": position,
        "of": of,
        "pool": pool,
        "expected_at": expected_at,
        // English unless asked: the answer a client that names no language always had.
        "text": redact_niks(&estimate.text(asked.or(Lang::En), state.office_zone, now)),
    })))
}

/// `GET /jobs/{id}/slip`: a one-page PDF for the citizen to take home, with the card's
/// reference, the name and masked NIK, the state and the estimate.
pub async fn slip(
    State(state): State<Arc<ApiState>>,
    _staff: Staff,
    asked: Asked,
    Path(id): Path<String>,
) -> Result<axum::response::Response, ApiError> {
    use axum::response::IntoResponse as _;
    let job = job_named(&state, &id).await?;
    let now = state.clock.now();
    let estimate = estimate_for(&state, &job, now).await?;
    // A document for the citizen: the office's language unless the request names one.
    let lang = asked.or(state.language);
    let slip = crate::render::report::Slip {
        office: state.office_code.clone(),
        job_id: job.id.to_string(),
        event_id: job.event_id.clone(),
        name: job.name.clone(),
        nik_masked: job.nik_masked.clone(),
        state: state_name(lang, job.state),
        estimate: redact_niks(&estimate.text(lang, state.office_zone, now)).into_owned(),
        made_at: state.office_zone.format(now),
    };
    Ok((
        [
            (axum::http::header::CONTENT_TYPE, "application/pdf".to_owned()),
            (axum::http::header::CONTENT_DISPOSITION, format!("inline; filename=\"slip-{}.pdf\"", job.id)),
        ],
        crate::render::report::slip_pdf(&slip),
    )
        .into_response())
}

async fn job_named(state: &ApiState, id: &str) -> Result<crate::journal::JobRecord, ApiError> {
    let job_id = JobId::from_str(id).map_err(|_| ApiError::BadRequest(format!("{id:?} is not a job id")))?;
    state
        .journal
        .job(job_id)
        .await?
        .ok_or_else(|| ApiError::NotFound(tr!(Lang::En, "said-no-job", job = job_id.to_string())))
}

/// Where `job` stands at `now` (see [`Estimate`]).
async fn estimate_for(
    state: &ApiState,
    job: &crate::journal::JobRecord,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Estimate, ApiError> {
    let pool = state.templates.as_ref().and_then(|t| t.get(&job.template)).map(|t| t.pool().to_owned());
    let templates_of_pool: Vec<String> = match (&state.templates, &pool) {
        (Some(templates), Some(pool)) => templates
            .names()
            .filter(|name| templates.get(name).is_some_and(|t| t.pool() == pool))
            .map(str::to_owned)
            .collect(),
        _ => Vec::new(),
    };
    let central_unavailable = match &state.central {
        None => Some((state.central_off.clone().unwrap_or_else(|| tr!(Lang::En, "said-central-not-running")), None)),
        Some(monitor) => {
            let central = monitor.snapshot();
            match central.state {
                CentralState::Down => Some((tr!(Lang::En, "said-central-is-down"), Some(central.since))),
                CentralState::CredentialsRefused => {
                    Some((tr!(Lang::En, "said-central-refuses-credentials"), Some(central.since)))
                }
                CentralState::Unknown | CentralState::Up | CentralState::Degraded => None,
            }
        }
    };
    let pool_printers: Vec<(String, bool)> = match (&state.printers, &pool) {
        (Some(printers), Some(pool)) => printers
            .snapshot()
            .iter()
            .filter(|view| &view.pool == pool)
            .map(|view| (view.name.clone(), view.health.is_ready() && view.paused.is_none()))
            .collect(),
        _ => Vec::new(),
    };
    let names: Vec<String> = pool_printers.iter().map(|(name, _)| name.clone()).collect();
    let (position, queue) =
        state.journal.queue_place(job.id, &templates_of_pool, central_unavailable.is_none()).await?;
    let window = chrono::Duration::hours(PACE_WINDOW_HOURS);
    let printed_in_window = state.journal.printed_since(&names, now - window).await?;
    let facts = QueueFacts {
        state: job.state,
        reason: job.reason.clone(),
        since: job.updated_at,
        central_unavailable,
        pool,
        position,
        queue,
        printed_in_window,
        window,
        printers_up: u32::try_from(pool_printers.iter().filter(|(_, up)| *up).count()).unwrap_or(u32::MAX),
    };
    Ok(Estimate::of(&facts, now))
}
