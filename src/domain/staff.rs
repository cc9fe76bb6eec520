//! Staff actions on a job: the step each one asks of the state machine, what else it changes,
//! and how the audit trail words it. Pure: who may take an action is the API's concern (roles),
//! carrying the step out is the journal's (which checks the state again when it writes).

use crate::i18n::Lang;
use crate::tr;
use serde::Deserialize;

use super::job::{Actor, JobId, JobState};
use super::ledger::CardOutcome;

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

    /// Actions that use up or settle a blank, or print a card again, need a reason.
    pub fn needs_reason(self) -> bool {
        matches!(self, JobAction::Reprint | JobAction::Spoiled | JobAction::Resolve)
    }

    /// How the audit trail words it: "held by rina: ...".
    pub fn past_tense(self) -> String {
        match self {
            JobAction::Hold => tr!(Lang::En, "said-action-held"),
            JobAction::Release => tr!(Lang::En, "said-action-released"),
            JobAction::Cancel => tr!(Lang::En, "said-action-cancelled"),
            JobAction::Retry => tr!(Lang::En, "said-action-retried"),
            JobAction::Reprint => tr!(Lang::En, "said-action-reprint-ordered"),
            JobAction::Spoiled => tr!(Lang::En, "said-action-marked-spoiled"),
            JobAction::Resolve => tr!(Lang::En, "said-action-resolved"),
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

    /// Whether the state machine lets staff take this action on a job in `state` (held from
    /// `held_from`) now: for listing the actions a job offers; the journal decides for real.
    pub fn available(self, state: JobState, held_from: Option<JobState>) -> bool {
        let staff = Actor::Staff(String::new());
        let allows = |to: JobState| state.allows(to, &staff);
        match self {
            // Reprint only for a card that was printed or spoiled; retry for one that was not.
            JobAction::Retry => {
                matches!(state, JobState::Failed | JobState::Rejected) && allows(JobState::AwaitingAuthorization)
            }
            JobAction::Reprint => {
                matches!(state, JobState::Printed | JobState::Spoiled) && allows(JobState::AwaitingAuthorization)
            }
            JobAction::Release => state == JobState::Held && held_from.is_some_and(allows),
            JobAction::Resolve => state == JobState::Unknown,
            JobAction::Spoiled => state == JobState::Printed && allows(JobState::Spoiled),
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

/// What staff asked with an action: its reason, and for a resolve what they found.
#[derive(Debug, Clone, Copy, Default)]
pub struct ActionAsk<'a> {
    pub reason: Option<&'a str>,
    pub outcome: Option<ResolveOutcome>,
}

/// What an action changes besides the state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ActionEffects {
    /// `Some(Some(state))`: remember where a hold came from; `Some(None)`: forget it.
    pub held_from: Option<Option<JobState>>,
    /// Due at once: a backoff earned before no longer applies.
    pub due_now: bool,
    /// Central is asked afresh: attempts start again and the old authorization is dropped, so
    /// that it is not reused for another card.
    pub ask_central_afresh: bool,
    /// The printer and its job id are forgotten: the card goes to a printer again.
    pub forget_printer: bool,
}

/// The step an action takes, planned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionPlan {
    pub from: JobState,
    pub to: JobState,
    pub effects: ActionEffects,
    pub actor: Actor,
    /// For the audit trail: names the staff member ("held by rina: citizen asked").
    pub reason: String,
    /// For the status event upstream reads: says "staff" instead of a name.
    pub upstream_reason: String,
}

/// Why an action cannot be taken as asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ActionRefused {
    /// The ask itself is wrong (a missing or malformed reason, an outcome where none belongs).
    #[error("{0}")]
    BadAsk(String),
    /// The job is not in a state the action applies to.
    #[error("{0}")]
    Conflict(String),
}

/// Works out the step `action` takes on a job in `from` (held from `held_from`), taken by the
/// staff member `staff`.
///
/// # Errors
/// [`ActionRefused::BadAsk`] for a missing or malformed reason or outcome,
/// [`ActionRefused::Conflict`] when the job's state does not allow the action.
pub fn plan(
    action: JobAction,
    job_id: JobId,
    from: JobState,
    held_from: Option<JobState>,
    ask: ActionAsk<'_>,
    staff: &str,
) -> Result<ActionPlan, ActionRefused> {
    let bad = |message: String| Err(ActionRefused::BadAsk(message));
    let conflict = |message: String| Err(ActionRefused::Conflict(message));
    let reason = ask.reason.map(str::trim).filter(|r| !r.is_empty());
    if let Some(reason) = reason {
        if reason.chars().count() > MAX_REASON_CHARS {
            return bad(tr!(Lang::En, "said-reason-too-long", max = MAX_REASON_CHARS));
        }
        if reason.chars().any(char::is_control) {
            return bad(tr!(Lang::En, "said-reason-one-line"));
        }
    }
    if action.needs_reason() && reason.is_none() {
        return bad(tr!(Lang::En, "said-action-needs-reason", action = action.as_str()));
    }
    if action != JobAction::Resolve && ask.outcome.is_some() {
        return bad(tr!(Lang::En, "said-only-resolve-takes-outcome"));
    }
    let mut effects = ActionEffects::default();
    let to = match action {
        JobAction::Hold => {
            effects.held_from = Some(Some(from));
            JobState::Held
        }
        JobAction::Release => {
            if from != JobState::Held {
                return conflict(tr!(Lang::En, "said-not-held", job = job_id.to_string(), state = from.as_str()));
            }
            let Some(back) = held_from else {
                return conflict(tr!(Lang::En, "said-held-from-unknown", job = job_id.to_string()));
            };
            effects.held_from = Some(None);
            effects.due_now = true;
            back
        }
        JobAction::Cancel => {
            if from == JobState::Held {
                effects.held_from = Some(None);
            }
            JobState::Cancelled
        }
        JobAction::Retry | JobAction::Reprint => {
            if action == JobAction::Retry && !matches!(from, JobState::Failed | JobState::Rejected) {
                let (job, state) = (job_id.to_string(), from.as_str());
                return conflict(if matches!(from, JobState::Printed | JobState::Spoiled) {
                    tr!(Lang::En, "said-retry-refused-reprint", job = job, state = state)
                } else {
                    tr!(Lang::En, "said-retry-refused", job = job, state = state)
                });
            }
            if action == JobAction::Reprint && !matches!(from, JobState::Printed | JobState::Spoiled) {
                return conflict(tr!(
                    Lang::En,
                    "said-reprint-refused",
                    job = job_id.to_string(),
                    state = from.as_str()
                ));
            }
            effects.ask_central_afresh = true;
            effects.due_now = true;
            effects.forget_printer = action == JobAction::Reprint;
            JobState::AwaitingAuthorization
        }
        JobAction::Spoiled => {
            // The state machine also lets a card go spoiled while printing, but that is the
            // printer's word to give: staff marking it then would race the printer's answer
            // (and the ledger line it settles). A card in doubt is resolved instead.
            if from != JobState::Printed {
                let (job, state) = (job_id.to_string(), from.as_str());
                return conflict(match from {
                    JobState::Printing => tr!(Lang::En, "said-spoiled-refused-printing", job = job, state = state),
                    JobState::Unknown => tr!(Lang::En, "said-spoiled-refused-unknown", job = job, state = state),
                    _ => tr!(Lang::En, "said-spoiled-refused", job = job, state = state),
                });
            }
            JobState::Spoiled
        }
        JobAction::Resolve => {
            if from != JobState::Unknown {
                return conflict(tr!(
                    Lang::En,
                    "said-resolve-refused",
                    job = job_id.to_string(),
                    state = from.as_str()
                ));
            }
            let Some(outcome) = ask.outcome else {
                return bad(tr!(Lang::En, "said-resolve-needs-outcome"));
            };
            if outcome == ResolveOutcome::NotPrinted {
                effects.forget_printer = true;
                effects.due_now = true;
            }
            outcome.state()
        }
    };
    let actor = Actor::Staff(staff.to_owned());
    from.transition(to, &actor).map_err(|illegal| ActionRefused::Conflict(illegal.to_string()))?;
    let outcome = match (action, ask.outcome) {
        (JobAction::Resolve, Some(ResolveOutcome::Printed)) => Some(tr!(Lang::En, "said-outcome-printed")),
        (JobAction::Resolve, Some(ResolveOutcome::NotPrinted)) => Some(tr!(Lang::En, "said-outcome-not-printed")),
        (JobAction::Resolve, Some(ResolveOutcome::Spoiled)) => Some(tr!(Lang::En, "said-outcome-spoiled")),
        _ => None,
    };
    let done = action.past_tense();
    let wording = |who: &str| match (&outcome, reason) {
        (Some(outcome), Some(reason)) => {
            tr!(Lang::En, "said-resolved-by-because", staff = who, outcome = outcome, typed = reason)
        }
        (Some(outcome), None) => tr!(Lang::En, "said-resolved-by", staff = who, outcome = outcome),
        (None, Some(reason)) => tr!(Lang::En, "said-action-by-because", action = &done, staff = who, typed = reason),
        (None, None) => tr!(Lang::En, "said-action-by", action = &done, staff = who),
    };
    Ok(ActionPlan { from, to, effects, actor, reason: wording(staff), upstream_reason: wording("staff") })
}
