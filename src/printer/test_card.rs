//! Test cards as the staff API asks for them: a narrow handle onto the dispatch worker, so that
//! the HTTP layer does not depend on the workers.

/// Sends a test card (the specimen holder on the printer's pool layout) to a named printer.
pub trait TestCards: Send + Sync + 'static {
    /// Sends a test card to `printer` if it could take a job now; `reason` goes into the
    /// blank-card ledger with it.
    fn send_test_card<'a>(
        &'a self,
        printer: &'a str,
        reason: String,
    ) -> futures_util::future::BoxFuture<'a, Result<TestCardSent, TestCardError>>;
}

/// Why a test card was not sent.
#[derive(Debug, thiserror::Error)]
pub enum TestCardError {
    #[error("no printer {0:?}")]
    UnknownPrinter(String),
    /// Faulted, paused or busy: a test card waits for nothing, it is simply not sent.
    #[error("printer {name} cannot take a card now ({status}); try again when it is ready")]
    NotReady { name: String, status: String },
    #[error("no template prints to pool {0:?}: there is no layout to test")]
    NoTemplate(String),
    #[error("the test card cannot be made: {0}")]
    Render(String),
}

impl TestCardError {
    /// Only a printer that is not ready now may take the card later.
    pub fn is_retryable(&self) -> bool {
        matches!(self, TestCardError::NotReady { .. })
    }
}

/// A test card on its way: the name the printer files it under.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestCardSent {
    pub printer: String,
    pub job_name: String,
}
