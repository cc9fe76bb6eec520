//! The blank-card ledger's vocabulary: what became of each blank a printer took.

use std::str::FromStr;

/// What became of a card's blank.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CardOutcome {
    /// On the printer; not settled yet.
    Sent,
    Printed,
    /// The blank is used up and the card unusable (a jam, or marked spoiled by staff).
    Spoiled,
    /// The printer stopped before it took a blank (empty hopper or ribbon, open cover).
    NotFed,
    /// Cancelled at the printer.
    Cancelled,
    /// The printer cannot say whether the card printed.
    Unknown,
    /// A test card.
    Test,
}

impl CardOutcome {
    pub const ALL: [CardOutcome; 7] = [
        CardOutcome::Sent,
        CardOutcome::Printed,
        CardOutcome::Spoiled,
        CardOutcome::NotFed,
        CardOutcome::Cancelled,
        CardOutcome::Unknown,
        CardOutcome::Test,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CardOutcome::Sent => "sent",
            CardOutcome::Printed => "printed",
            CardOutcome::Spoiled => "spoiled",
            CardOutcome::NotFed => "not_fed",
            CardOutcome::Cancelled => "cancelled",
            CardOutcome::Unknown => "unknown",
            CardOutcome::Test => "test",
        }
    }

    /// Whether the outcome used up a blank for certain.
    pub fn used_a_blank(self) -> bool {
        matches!(self, CardOutcome::Printed | CardOutcome::Spoiled | CardOutcome::Test)
    }

    /// A card the printer gave up on: spoiled when it had taken the blank, not fed otherwise.
    pub fn of_aborted_card(blank_consumed: bool) -> CardOutcome {
        if blank_consumed {
            CardOutcome::Spoiled
        } else {
            CardOutcome::NotFed
        }
    }
}

/// A ledger outcome that is not one of [`CardOutcome::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown card outcome {0:?}")]
pub struct UnknownOutcome(pub String);

impl FromStr for CardOutcome {
    type Err = UnknownOutcome;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        CardOutcome::ALL.into_iter().find(|outcome| outcome.as_str() == s).ok_or_else(|| UnknownOutcome(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcomes_read_back_as_written() {
        for outcome in CardOutcome::ALL {
            assert_eq!(outcome.as_str().parse::<CardOutcome>().unwrap(), outcome);
        }
        assert_eq!("burnt".parse::<CardOutcome>(), Err(UnknownOutcome("burnt".into())));
    }
}
