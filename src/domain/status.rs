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
        }
    }

    /// The status event a step announces, if any. A retry while waiting for central is not
    /// news to upstream: only entering the waiting state is.
    pub fn for_step(from: Option<JobState>, to: JobState) -> Option<StatusEvent> {
        match to {
            JobState::Received => Some(StatusEvent::Queued),
            JobState::AwaitingAuthorization if from != Some(JobState::AwaitingAuthorization) => {
                Some(StatusEvent::AwaitingAuthorization)
            }
            JobState::Printed => Some(StatusEvent::Printed),
            JobState::Rejected => Some(StatusEvent::Rejected),
            JobState::Failed => Some(StatusEvent::Failed),
            JobState::Cancelled => Some(StatusEvent::Cancelled),
            JobState::Spoiled => Some(StatusEvent::Spoiled),
            _ => None,
        }
    }
}
