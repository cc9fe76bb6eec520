//! A print job's life: its states, who may move it, and every allowed transition.
//!
//! The table in [`JobState::allows`] is the whole state machine; anything not listed there is an
//! [`IllegalTransition`]. The journal stores each transition with its time, reason and actor,
//! which makes the history the audit trail.

use std::fmt;
use std::str::FromStr;

use uuid::Uuid;

/// A job's identity: a UUIDv7, so ids sort by creation time. Sent to printers as `job-name`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct JobId(pub Uuid);

impl JobId {
    /// A fresh id. Takes no clock argument: v7 ids read the system clock, which only orders
    /// ids and never drives behaviour.
    pub fn new() -> JobId {
        JobId(Uuid::now_v7())
    }
}

impl Default for JobId {
    fn default() -> Self {
        JobId::new()
    }
}

impl fmt::Display for JobId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl FromStr for JobId {
    type Err = uuid::Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Uuid::parse_str(s).map(JobId)
    }
}

/// Where a job stands. The string forms are stable: the journal, the API and the status events
/// use them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum JobState {
    /// Taken in durably; nothing else done yet.
    Received,
    /// Waiting for central's print authorization (central down, unreachable, record pending).
    AwaitingAuthorization,
    /// Central authorized the print; the authorization is stored with the job.
    Authorized,
    /// The card's PDF exists in the spool.
    Rendered,
    /// Journaled as sent to a printer *before* submission, so a crash can be reconciled.
    Printing,
    /// The printer reported the job completed.
    Printed,
    /// Stopped by staff; released back to where it was.
    Held,
    /// Bad data or denied by central: never printed, never retried by the system.
    Rejected,
    /// Needs staff: the system gave up (maximum wait, repeated printer aborts, ...).
    Failed,
    /// Cancelled by staff before printing.
    Cancelled,
    /// Printed but unusable; the blank counts as used.
    Spoiled,
    /// A crash left it unclear whether the printer got it; reconciliation or staff resolve it.
    Unknown,
}

impl JobState {
    pub const ALL: &'static [JobState] = &[
        JobState::Received,
        JobState::AwaitingAuthorization,
        JobState::Authorized,
        JobState::Rendered,
        JobState::Printing,
        JobState::Printed,
        JobState::Held,
        JobState::Rejected,
        JobState::Failed,
        JobState::Cancelled,
        JobState::Spoiled,
        JobState::Unknown,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Received => "received",
            JobState::AwaitingAuthorization => "awaiting_authorization",
            JobState::Authorized => "authorized",
            JobState::Rendered => "rendered",
            JobState::Printing => "printing",
            JobState::Printed => "printed",
            JobState::Held => "held",
            JobState::Rejected => "rejected",
            JobState::Failed => "failed",
            JobState::Cancelled => "cancelled",
            JobState::Spoiled => "spoiled",
            JobState::Unknown => "unknown",
        }
    }

    /// States the system never leaves on its own (staff may still act on some).
    pub fn is_final(self) -> bool {
        matches!(self, JobState::Printed | JobState::Rejected | JobState::Cancelled | JobState::Spoiled)
    }

    /// States from which a job can be held and later released back.
    fn is_pre_print(self) -> bool {
        matches!(self, JobState::Received | JobState::AwaitingAuthorization | JobState::Authorized | JobState::Rendered)
    }

    /// The state machine. `actor` matters where only staff may take a step (hold, release,
    /// cancel, resolve, reprint): the system never makes those decisions.
    #[allow(clippy::match_same_arms)] // one arm per rule, each with its reason
    pub fn allows(self, to: JobState, actor: &Actor) -> bool {
        use JobState as S;
        let staff = actor.is_staff();
        match (self, to) {
            // The normal path; a retry while waiting is recorded as a self-transition.
            (S::Received, S::AwaitingAuthorization)
            | (S::AwaitingAuthorization, S::AwaitingAuthorization | S::Authorized)
            | (S::Authorized, S::Rendered)
            | (S::Rendered, S::Printing)
            | (S::Printing, S::Printed) => true,
            // An authorization that expired before printing is asked for again.
            (S::Authorized | S::Rendered, S::AwaitingAuthorization) => true,
            // Bad data found at any pre-print step, or central denied the print.
            (S::Received | S::AwaitingAuthorization | S::Authorized | S::Rendered, S::Rejected) => true,
            // The system gives up and hands over to staff.
            (S::Received | S::AwaitingAuthorization | S::Authorized | S::Rendered | S::Printing, S::Failed) => true,
            // A printer aborted the job (a jam) or it never reached the printer: back to the queue.
            (S::Printing, S::Rendered) => true,
            // The printer consumed a blank but the card is unusable.
            (S::Printing, S::Spoiled) => true,
            // A crash left it unclear and the printer cannot say: only staff decide from here.
            (S::Printing, S::Unknown) => true,
            // Staff only from here on.
            (from, S::Held) if staff => from.is_pre_print() || from == S::Failed,
            // Release returns a held job to where it was held from, a failed one included.
            (S::Held, back) if staff && (back.is_pre_print() || back == S::Failed) => true,
            (from, S::Cancelled) if staff => from.is_pre_print() || matches!(from, S::Held | S::Failed | S::Unknown),
            // Retry after a failure or a rejection: ask central again.
            (S::Failed | S::Rejected, S::AwaitingAuthorization) if staff => true,
            (S::Failed, S::Rendered) if staff => true,
            // Staff resolve an unknown job by hand (after looking at the printer's output tray),
            // or mark a printed card spoiled.
            (S::Unknown, S::Printed | S::Rendered | S::Spoiled | S::Failed) if staff => true,
            (S::Printed, S::Spoiled) if staff => true,
            // A reprint needs a fresh authorization.
            (S::Printed | S::Spoiled, S::AwaitingAuthorization) if staff => true,
            _ => false,
        }
    }

    /// Checks one step of the state machine.
    ///
    /// # Errors
    /// [`IllegalTransition`] when the table does not allow the step for this actor.
    pub fn transition(self, to: JobState, actor: &Actor) -> Result<JobState, IllegalTransition> {
        if self.allows(to, actor) {
            Ok(to)
        } else {
            Err(IllegalTransition { from: self, to, by_staff: actor.is_staff() })
        }
    }
}

impl fmt::Display for JobState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown job state {given:?}; the states are {}", JobState::ALL.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", "), given = .0)]
pub struct UnknownState(pub String);

impl FromStr for JobState {
    type Err = UnknownState;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        JobState::ALL.iter().copied().find(|state| state.as_str() == s).ok_or_else(|| UnknownState(s.to_owned()))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a job cannot go from {from} to {to}{}", if *.by_staff { "" } else { " without staff" })]
pub struct IllegalTransition {
    pub from: JobState,
    pub to: JobState,
    pub by_staff: bool,
}

/// Who made a transition: the spooler itself, or a named staff member.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Actor {
    System,
    Staff(String),
}

impl Actor {
    pub fn is_staff(&self) -> bool {
        matches!(self, Actor::Staff(_))
    }

    /// The stored form: `system` or `staff:<name>`.
    pub fn encode(&self) -> String {
        match self {
            Actor::System => "system".to_owned(),
            Actor::Staff(name) => format!("staff:{name}"),
        }
    }

    pub fn decode(stored: &str) -> Actor {
        match stored.strip_prefix("staff:") {
            Some(name) => Actor::Staff(name.to_owned()),
            None => Actor::System,
        }
    }
}

impl fmt::Display for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.encode())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn happy_path_is_allowed_for_the_system() {
        let path = [
            JobState::Received,
            JobState::AwaitingAuthorization,
            JobState::AwaitingAuthorization,
            JobState::Authorized,
            JobState::Rendered,
            JobState::Printing,
            JobState::Printed,
        ];
        for step in path.windows(2) {
            step[0].transition(step[1], &Actor::System).unwrap();
        }
    }

    #[test]
    fn system_cannot_take_staff_decisions() {
        let system = Actor::System;
        let staff = Actor::Staff("rina".into());
        for (from, to) in [
            (JobState::AwaitingAuthorization, JobState::Held),
            (JobState::Held, JobState::AwaitingAuthorization),
            (JobState::Rendered, JobState::Cancelled),
            (JobState::Printed, JobState::Spoiled),
            (JobState::Printed, JobState::AwaitingAuthorization),
            (JobState::Rejected, JobState::AwaitingAuthorization),
        ] {
            assert!(from.transition(to, &system).is_err(), "{from} -> {to}");
            assert!(from.transition(to, &staff).is_ok(), "{from} -> {to}");
        }
    }

    #[test]
    fn nobody_skips_the_printer_or_revives_a_cancelled_job() {
        let staff = Actor::Staff("rina".into());
        for actor in [Actor::System, staff] {
            for (from, to) in [
                (JobState::Received, JobState::Printed),
                (JobState::Authorized, JobState::Printing),
                (JobState::Printing, JobState::Cancelled),
                (JobState::Printing, JobState::Held),
                (JobState::Unknown, JobState::Printing),
            ] {
                assert!(from.transition(to, &actor).is_err(), "{from} -> {to}");
            }
            for to in JobState::ALL {
                assert!(JobState::Cancelled.transition(*to, &actor).is_err(), "cancelled -> {to}");
            }
        }
    }

    #[test]
    fn a_job_in_doubt_never_goes_straight_back_to_printing() {
        let staff = Actor::Staff("supervisor".into());
        for to in JobState::ALL {
            assert!(!JobState::Unknown.allows(*to, &Actor::System), "system: unknown -> {to}");
            assert_eq!(
                JobState::Unknown.allows(*to, &staff),
                matches!(
                    to,
                    JobState::Printed | JobState::Rendered | JobState::Spoiled | JobState::Failed | JobState::Cancelled
                ),
                "staff: unknown -> {to}"
            );
        }
    }

    #[test]
    fn staff_can_cancel_a_held_job() {
        let staff = Actor::Staff("rina".into());
        assert!(JobState::Held.allows(JobState::Cancelled, &staff));
        assert!(JobState::Held.allows(JobState::Rendered, &staff));
        assert!(!JobState::Held.allows(JobState::Printed, &staff));
        assert!(!JobState::Held.allows(JobState::Cancelled, &Actor::System));
    }

    #[test]
    fn a_job_held_from_failed_can_be_released_back_to_failed() {
        let staff = Actor::Staff("rina".into());
        JobState::Failed.transition(JobState::Held, &staff).unwrap();
        JobState::Held.transition(JobState::Failed, &staff).unwrap();
        assert!(JobState::Held.transition(JobState::Failed, &Actor::System).is_err());
    }

    #[test]
    fn names_round_trip() {
        for state in JobState::ALL {
            assert_eq!(state.as_str().parse::<JobState>().unwrap(), *state);
        }
        assert!("nonsense".parse::<JobState>().is_err());
        assert_eq!(Actor::decode(&Actor::Staff("a b".into()).encode()), Actor::Staff("a b".into()));
        assert_eq!(Actor::decode("system"), Actor::System);
    }
}
