//! Staff actions on a job: which step each one asks of the journal, who may take it, and what
//! it needs said. Pure: the handler carries the plan out; the domain's state machine decides
//! whether the step is legal (checked here for a clear answer, and again by the journal).

use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::auth::Staff;
use super::error::ApiError;
use crate::config::StaffRole;
use crate::domain::job::JobState;
use crate::journal::{CardOutcome, JobRecord, JobUpdate, Step};

/// A reason is a sentence for the audit trail, not a document.
pub const MAX_REASON_CHARS: usize = 500;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobAction {
    Hold,
    Release,
    Cancel,
    Retry,
    Reprint,
    Spoiled,
    Resolve,
}

impl JobAction {
    pub const ALL: [JobAction; 7] = [
        JobAction::Hold,
        JobAction::Release,
        JobAction::Cancel,
        JobAction::Retry,
        JobAction::Reprint,
        JobAction::Spoiled,
        JobAction::Resolve,
    ];

    pub fn parse(name: &str) -> Option<JobAction> {
        JobAction::ALL.into_iter().find(|action| action.as_str() == name)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            JobAction::Hold => "hold",
            JobAction::Release => "release",
            JobAction::Cancel => "cancel",
            JobAction::Retry => "retry",
            JobAction::Reprint => "reprint",
            JobAction::Spoiled => "spoiled",
            JobAction::Resolve => "resolve",
        }
    }

    /// The least role that may take the action.
    pub fn role(self) -> StaffRole {
        match self {
            JobAction::Reprint | JobAction::Resolve => StaffRole::Supervisor,
            _ => StaffRole::Operator,
        }
    }

    /// Actions that use up or settle a blank, or print a card again, need a reason.
    pub fn needs_reason(self) -> bool {
        matches!(self, JobAction::Reprint | JobAction::Spoiled | JobAction::Resolve)
    }

    /// How the audit trail words it: "held by rina: ...".
    fn past_tense(self) -> &'static str {
        match self {
            JobAction::Hold => "held",
            JobAction::Release => "released",
            JobAction::Cancel => "cancelled",
            JobAction::Retry => "retried",
            JobAction::Reprint => "reprint ordered",
            JobAction::Spoiled => "marked spoiled",
            JobAction::Resolve => "resolved",
        }
    }

    /// The state the action moves a job to, when that does not depend on the job (release goes
    /// back to where the job was held from; resolve to what staff found).
    fn target(self) -> Option<JobState> {
        match self {
            JobAction::Hold => Some(JobState::Held),
            JobAction::Cancel => Some(JobState::Cancelled),
            JobAction::Retry | JobAction::Reprint => Some(JobState::AwaitingAuthorization),
            JobAction::Spoiled => Some(JobState::Spoiled),
            JobAction::Release | JobAction::Resolve => None,
        }
    }

    /// Whether the state machine lets staff take this action on `job` now (for listing the
    /// actions a job offers; the journal decides for real).
    pub fn available(self, job: &JobRecord) -> bool {
        let staff = crate::domain::job::Actor::Staff(String::new());
        let allows = |to: JobState| job.state.allows(to, &staff);
        match self {
            // Reprint only for a card that was printed or spoiled; retry for one that was not.
            JobAction::Retry => {
                matches!(job.state, JobState::Failed | JobState::Rejected) && allows(JobState::AwaitingAuthorization)
            }
            JobAction::Reprint => {
                matches!(job.state, JobState::Printed | JobState::Spoiled) && allows(JobState::AwaitingAuthorization)
            }
            JobAction::Release => job.state == JobState::Held && job.held_from.is_some_and(allows),
            JobAction::Resolve => job.state == JobState::Unknown,
            JobAction::Spoiled => job.state == JobState::Printed && allows(JobState::Spoiled),
            other => other.target().is_some_and(allows),
        }
    }
}

/// What staff decided a job in doubt became, after looking at the printer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResolveOutcome {
    /// The card came out fine: the job is printed.
    Printed,
    /// No card came out: the job goes back to the queue to be printed.
    NotPrinted,
    /// A card came out unusable: the blank is spoiled.
    Spoiled,
}

impl ResolveOutcome {
    fn state(self) -> JobState {
        match self {
            ResolveOutcome::Printed => JobState::Printed,
            ResolveOutcome::NotPrinted => JobState::Rendered,
            ResolveOutcome::Spoiled => JobState::Spoiled,
        }
    }

    /// The blank's fate in the ledger.
    pub fn card_outcome(self) -> CardOutcome {
        match self {
            ResolveOutcome::Printed => CardOutcome::Printed,
            ResolveOutcome::NotPrinted => CardOutcome::NotFed,
            ResolveOutcome::Spoiled => CardOutcome::Spoiled,
        }
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
    staff.require(action.role(), action.as_str())?;
    let reason = request.reason.as_deref().map(str::trim).filter(|r| !r.is_empty());
    if let Some(reason) = reason {
        if reason.chars().count() > MAX_REASON_CHARS {
            return Err(ApiError::BadRequest(format!("the reason is longer than {MAX_REASON_CHARS} characters")));
        }
        if reason.chars().any(char::is_control) {
            return Err(ApiError::BadRequest("the reason must be one line of text".into()));
        }
    }
    if action.needs_reason() && reason.is_none() {
        return Err(ApiError::BadRequest(format!("{} needs a reason", action.as_str())));
    }
    if action != JobAction::Resolve && request.outcome.is_some() {
        return Err(ApiError::BadRequest("only resolve takes an outcome".into()));
    }
    let from = job.state;
    let mut update = JobUpdate::default();
    let to = match action {
        JobAction::Hold => {
            update.held_from = Some(Some(from));
            JobState::Held
        }
        JobAction::Release => {
            if from != JobState::Held {
                return Err(ApiError::Conflict(format!("job {} is {from}, not held", job.id)));
            }
            let back = job
                .held_from
                .ok_or_else(|| ApiError::Conflict(format!("job {} is held but not from a known state", job.id)))?;
            update.held_from = Some(None);
            // Released work is due at once; a backoff from before the hold no longer applies.
            update.next_attempt_at = Some(None);
            back
        }
        JobAction::Cancel => {
            if from == JobState::Held {
                update.held_from = Some(None);
            }
            JobState::Cancelled
        }
        JobAction::Retry | JobAction::Reprint => {
            if action == JobAction::Retry && !matches!(from, JobState::Failed | JobState::Rejected) {
                return Err(ApiError::Conflict(format!(
                    "job {} is {from}: retry is for failed or rejected jobs{}",
                    job.id,
                    if matches!(from, JobState::Printed | JobState::Spoiled) {
                        " (a printed card needs a reprint)"
                    } else {
                        ""
                    }
                )));
            }
            if action == JobAction::Reprint && !matches!(from, JobState::Printed | JobState::Spoiled) {
                return Err(ApiError::Conflict(format!(
                    "job {} is {from}: only a printed or spoiled card can be reprinted",
                    job.id
                )));
            }
            // Central is asked afresh: an old authorization is not reused for another card.
            update.attempts = Some(0);
            update.next_attempt_at = Some(None);
            update.authorization = Some(None);
            if action == JobAction::Reprint {
                update.printer = Some(None);
                update.printer_job_id = Some(None);
            }
            JobState::AwaitingAuthorization
        }
        JobAction::Spoiled => {
            // The state machine also lets a card go spoiled while printing, but that is the
            // printer's word to give: staff marking it then would race the printer's answer
            // (and the ledger line it settles). A card in doubt is resolved instead.
            if from != JobState::Printed {
                return Err(ApiError::Conflict(format!(
                    "job {} is {from}: only a printed card can be marked spoiled{}",
                    job.id,
                    match from {
                        JobState::Printing => " (wait for the printer to finish)",
                        JobState::Unknown => " (resolve the job in doubt with outcome spoiled)",
                        _ => "",
                    }
                )));
            }
            JobState::Spoiled
        }
        JobAction::Resolve => {
            if from != JobState::Unknown {
                return Err(ApiError::Conflict(format!(
                    "job {} is {from}: only a job in doubt (unknown) is resolved",
                    job.id
                )));
            }
            let outcome = request.outcome.ok_or_else(|| {
                ApiError::BadRequest("resolve needs an outcome: printed, not_printed or spoiled".into())
            })?;
            if outcome == ResolveOutcome::NotPrinted {
                update.printer = Some(None);
                update.printer_job_id = Some(None);
                update.next_attempt_at = Some(None);
            }
            outcome.state()
        }
    };
    let actor = staff.actor();
    from.transition(to, &actor)?;
    // The audit trail names the staff member; the status event upstream reads says "staff".
    let wording = |who: &str| {
        let mut wording = format!("{} by {who}", action.past_tense());
        if let (JobAction::Resolve, Some(outcome)) = (action, request.outcome) {
            wording.push_str(match outcome {
                ResolveOutcome::Printed => " as printed",
                ResolveOutcome::NotPrinted => " as not printed",
                ResolveOutcome::Spoiled => " as spoiled",
            });
        }
        if let Some(reason) = reason {
            wording.push_str(": ");
            wording.push_str(reason);
        }
        wording
    };
    Ok(Step { from, to, reason: wording(&staff.name), upstream_reason: Some(wording("staff")), actor, at, update })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::job::{Actor, JobId};

    fn job(state: JobState) -> JobRecord {
        JobRecord {
            id: JobId::new(),
            event_id: "e".into(),
            state,
            office: "1502".into(),
            template: "ektp".into(),
            urgent: false,
            nik_masked: "1502**********01".into(),
            name: "HAMIDAH".into(),
            warnings: Vec::new(),
            reason: String::new(),
            held_from: None,
            attempts: 3,
            next_attempt_at: None,
            authorization: None,
            authorization_id: None,
            authorization_expires_at: None,
            printer: Some("card-1".into()),
            printer_job_id: Some(4),
            created_at: Utc::now(),
            updated_at: Utc::now(),
            version: 1,
            owner: None,
            lease_until: None,
        }
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
            assert!(!action.available(&job(state)), "{action:?} offered from {state}");
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
        assert!(JobAction::Resolve.available(&unknown));
        assert!(JobAction::Cancel.available(&unknown));
        assert!(!JobAction::Hold.available(&unknown));
    }
}
