//! The status events of the contract (docs/event-contract.md): which step of a job upstream
//! hears of, and under which routing key. Pure: the journal writes the chosen event to its outbox
//! in the step's transaction.

use crate::domain::job::JobState;

/// The status events of the contract, each the routing key on `cardspool.status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusEvent {
    Queued,
    AwaitingAuthorization,
    Printed,
    Rejected,
    Failed,
    Cancelled,
    Spoiled,
    /// Staff stopped the job before it printed ("citizen asked to correct the address").
    Held,
    /// Staff let a held job go on from where it was held.
    Released,
}

impl StatusEvent {
    pub fn routing_key(self) -> &'static str {
        match self {
            StatusEvent::Queued => "card.queued",
            StatusEvent::AwaitingAuthorization => "card.awaiting_authorization",
            StatusEvent::Printed => "card.printed",
            StatusEvent::Rejected => "card.rejected",
            StatusEvent::Failed => "card.failed",
            StatusEvent::Cancelled => "card.cancelled",
            StatusEvent::Spoiled => "card.spoiled",
            StatusEvent::Held => "card.held",
            StatusEvent::Released => "card.released",
        }
    }

    /// Every status event, for the contract's tests.
    pub const ALL: [StatusEvent; 9] = [
        StatusEvent::Queued,
        StatusEvent::AwaitingAuthorization,
        StatusEvent::Printed,
        StatusEvent::Rejected,
        StatusEvent::Failed,
        StatusEvent::Cancelled,
        StatusEvent::Spoiled,
        StatusEvent::Held,
        StatusEvent::Released,
    ];

    /// The status event a step announces, if any. A retry while waiting for central is not
    /// news to upstream: only entering the waiting state is. A release announces itself, not
    /// the state the job goes back to (which upstream heard of before the hold).
    pub fn for_step(from: Option<JobState>, to: JobState) -> Option<StatusEvent> {
        match to {
            JobState::Received => Some(StatusEvent::Queued),
            JobState::Held => Some(StatusEvent::Held),
            JobState::Cancelled => Some(StatusEvent::Cancelled),
            _ if from == Some(JobState::Held) => Some(StatusEvent::Released),
            JobState::AwaitingAuthorization if from != Some(JobState::AwaitingAuthorization) => {
                Some(StatusEvent::AwaitingAuthorization)
            }
            JobState::Printed => Some(StatusEvent::Printed),
            JobState::Rejected => Some(StatusEvent::Rejected),
            JobState::Failed => Some(StatusEvent::Failed),
            JobState::Spoiled => Some(StatusEvent::Spoiled),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upstream_hears_of_holds_releases_and_reprints() {
        let held = StatusEvent::for_step(Some(JobState::Authorized), JobState::Held);
        assert_eq!(held, Some(StatusEvent::Held));
        for back in [JobState::AwaitingAuthorization, JobState::Authorized, JobState::Rendered, JobState::Failed] {
            assert_eq!(StatusEvent::for_step(Some(JobState::Held), back), Some(StatusEvent::Released), "{back:?}");
        }
        assert_eq!(StatusEvent::for_step(Some(JobState::Held), JobState::Cancelled), Some(StatusEvent::Cancelled));
        // A reprint goes back to central: upstream hears the job wait again, then print again.
        let reprint = StatusEvent::for_step(Some(JobState::Printed), JobState::AwaitingAuthorization);
        assert_eq!(reprint, Some(StatusEvent::AwaitingAuthorization));
        assert_eq!(StatusEvent::for_step(Some(JobState::Printing), JobState::Printed), Some(StatusEvent::Printed));
        // Retries while waiting and the print room's inner steps are not news.
        let retry = StatusEvent::for_step(Some(JobState::AwaitingAuthorization), JobState::AwaitingAuthorization);
        assert_eq!(retry, None);
        assert_eq!(StatusEvent::for_step(Some(JobState::Authorized), JobState::Rendered), None);
        let keys: std::collections::BTreeSet<_> = StatusEvent::ALL.iter().map(|e| e.routing_key()).collect();
        assert_eq!(keys.len(), StatusEvent::ALL.len());
    }
}
