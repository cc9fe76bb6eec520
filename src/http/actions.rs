//! Staff actions on a job over HTTP: who may take each (roles), the request's body, and the
//! domain's plan ([`crate::domain::staff::plan`]) as a step for the journal.

use crate::i18n::Lang;
use crate::tr;
use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::auth::Staff;
use super::error::ApiError;
use crate::config::StaffRole;
use crate::domain::staff::{self, ActionAsk, ActionRefused};
pub use crate::domain::staff::{JobAction, ResolveOutcome, MAX_REASON_CHARS};
use crate::journal::{JobRecord, JobUpdate, Step};

/// The least role that may take `action`.
pub fn required_role(action: JobAction) -> StaffRole {
    match action {
        JobAction::Reprint | JobAction::Resolve => StaffRole::Supervisor,
        _ => StaffRole::Operator,
    }
}

/// The body of `POST /jobs/{id}/{action}`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActionRequest {
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default)]
    pub outcome: Option<ResolveOutcome>,
}

/// Works out the step `action` takes on `job` as it stands.
///
/// # Errors
/// [`ApiError::Forbidden`] for a role too low, [`ApiError::BadRequest`] for a missing reason
/// or outcome, [`ApiError::Conflict`] when the state machine refuses the step.
pub fn plan(
    action: JobAction,
    job: &JobRecord,
    request: &ActionRequest,
    staff: &Staff,
    at: DateTime<Utc>,
) -> Result<Step, ApiError> {
    staff.require(required_role(action), action.as_str())?;
    let ask = ActionAsk { reason: request.reason.as_deref(), outcome: request.outcome };
    let plan =
        staff::plan(action, job.id, job.state, job.held_from, ask, &staff.name).map_err(|refused| match refused {
            ActionRefused::BadAsk(message) => ApiError::BadRequest(message),
            ActionRefused::Conflict(message) => ApiError::Conflict(message),
        })?;
    let effects = plan.effects;
    if let (true, Some(purged_at)) = (effects.ask_central_afresh, job.payload_purged_at) {
        return Err(ApiError::Conflict(tr!(
            Lang::En,
            "said-payload-purged",
            job = job.id.to_string(),
            day = purged_at.format("%Y-%m-%d").to_string()
        )));
    }
    let mut update = JobUpdate { held_from: effects.held_from, ..JobUpdate::default() };
    if effects.due_now {
        update.next_attempt_at = Some(None);
    }
    if effects.ask_central_afresh {
        update.attempts = Some(0);
        update.authorization = Some(None);
        update.new_authorization_round = true;
    }
    if effects.forget_printer {
        update.printer = Some(None);
        update.printer_job_id = Some(None);
    }
    Ok(Step {
        from: plan.from,
        to: plan.to,
        reason: plan.reason,
        upstream_reason: Some(plan.upstream_reason),
        actor: plan.actor,
        at,
        update,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::job::{Actor, JobState};

    fn job(state: JobState) -> JobRecord {
        JobRecord { attempts: 3, printer: Some("card-1".into()), printer_job_id: Some(4), ..JobRecord::example(state) }
    }

    fn staff(role: StaffRole) -> Staff {
        Staff { name: "rina".into(), role }
    }

    fn reason(text: &str) -> ActionRequest {
        ActionRequest { reason: Some(text.into()), outcome: None }
    }

    #[test]
    fn hold_remembers_where_from_and_release_goes_back() {
        let waiting = job(JobState::AwaitingAuthorization);
        let step =
            plan(JobAction::Hold, &waiting, &reason("citizen asked"), &staff(StaffRole::Operator), Utc::now()).unwrap();
        assert_eq!((step.from, step.to), (JobState::AwaitingAuthorization, JobState::Held));
        assert_eq!(step.update.held_from, Some(Some(JobState::AwaitingAuthorization)));
        assert_eq!(step.reason, "held by rina: citizen asked");
        assert_eq!(step.upstream_reason.as_deref(), Some("held by staff: citizen asked"));
        assert_eq!(step.actor, Actor::Staff("rina".into()));
        let mut held = job(JobState::Held);
        held.held_from = Some(JobState::Rendered);
        let step = plan(JobAction::Release, &held, &ActionRequest::default(), &staff(StaffRole::Operator), Utc::now())
            .unwrap();
        assert_eq!(step.to, JobState::Rendered);
        assert_eq!(step.update.held_from, Some(None));
        assert_eq!(step.reason, "released by rina");
    }

    #[test]
    fn roles_and_reasons_are_checked_before_the_state_machine() {
        let printed = job(JobState::Printed);
        assert!(matches!(
            plan(JobAction::Reprint, &printed, &reason("lost"), &staff(StaffRole::Operator), Utc::now()),
            Err(ApiError::Forbidden { .. })
        ));
        assert!(matches!(
            plan(JobAction::Reprint, &printed, &ActionRequest::default(), &staff(StaffRole::Supervisor), Utc::now()),
            Err(ApiError::BadRequest(_))
        ));
        let step = plan(JobAction::Reprint, &printed, &reason("card lost"), &staff(StaffRole::Supervisor), Utc::now())
            .unwrap();
        assert_eq!(step.to, JobState::AwaitingAuthorization);
        assert_eq!(step.update.printer, Some(None));
        assert_eq!(step.update.authorization, Some(None));
        assert!(matches!(
            plan(
                JobAction::Hold,
                &job(JobState::Received),
                &ActionRequest::default(),
                &staff(StaffRole::Viewer),
                Utc::now()
            ),
            Err(ApiError::Forbidden { .. })
        ));
        assert!(matches!(
            plan(JobAction::Hold, &job(JobState::Received), &reason("a\nb"), &staff(StaffRole::Operator), Utc::now()),
            Err(ApiError::BadRequest(_))
        ));
    }

    #[test]
    fn illegal_steps_are_conflicts() {
        for (action, state) in [
            (JobAction::Hold, JobState::Printing),
            (JobAction::Cancel, JobState::Printed),
            (JobAction::Release, JobState::Rendered),
            (JobAction::Retry, JobState::Printed),
            (JobAction::Spoiled, JobState::Rendered),
            (JobAction::Spoiled, JobState::Printing),
            (JobAction::Resolve, JobState::Printing),
        ] {
            let request = ActionRequest { reason: Some("r".into()), outcome: Some(ResolveOutcome::Printed) };
            let request = if action == JobAction::Resolve { request } else { reason("r") };
            let result = plan(action, &job(state), &request, &staff(StaffRole::Supervisor), Utc::now());
            assert!(matches!(result, Err(ApiError::Conflict(_))), "{action:?} from {state}: {result:?}");
            assert!(!action.available(state, None), "{action:?} offered from {state}");
        }
    }

    #[test]
    fn resolve_needs_an_outcome_and_maps_it() {
        let unknown = job(JobState::Unknown);
        let supervisor = staff(StaffRole::Supervisor);
        assert!(matches!(
            plan(JobAction::Resolve, &unknown, &reason("looked"), &supervisor, Utc::now()),
            Err(ApiError::BadRequest(_))
        ));
        for (outcome, to) in [
            (ResolveOutcome::Printed, JobState::Printed),
            (ResolveOutcome::NotPrinted, JobState::Rendered),
            (ResolveOutcome::Spoiled, JobState::Spoiled),
        ] {
            let request = ActionRequest { reason: Some("tray checked".into()), outcome: Some(outcome) };
            let step = plan(JobAction::Resolve, &unknown, &request, &supervisor, Utc::now()).unwrap();
            assert_eq!(step.to, to);
        }
        assert!(JobAction::Resolve.available(unknown.state, None));
        assert!(JobAction::Cancel.available(unknown.state, None));
        assert!(!JobAction::Hold.available(unknown.state, None));
    }
}
