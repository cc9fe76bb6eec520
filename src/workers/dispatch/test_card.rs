//! Test cards: the specimen holder on a printer's pool layout, for staff, counted `test` in the
//! blank-card ledger.

use std::sync::Arc;

use tracing::{error, info, info_span, warn, Instrument};

use crate::journal::NewCard;
use crate::printer::pool::Lease;
use crate::printer::{RemoteJobState, Submission};

use super::{Dispatch, TestCardError, TestCardSent, TestCards};

impl Dispatch {
    /// Sends a test card (the specimen holder on the printer's pool layout) to the named
    /// printer, if it could take a job now. The card is sent and followed in the background;
    /// it enters the blank-card ledger as `test` once the printer took it, with `reason`.
    ///
    /// # Errors
    /// [`TestCardError`]: no such printer, not ready now, no layout for its pool, render failure.
    pub async fn send_test_card(&self, name: &str, reason: String) -> Result<TestCardSent, TestCardError> {
        let Some(view) = self.printers.view(name) else {
            return Err(TestCardError::UnknownPrinter(name.to_owned()));
        };
        let not_ready = || TestCardError::NotReady { name: name.to_owned(), status: view.status_text() };
        let lease = self.printers.acquire_named(name).ok_or_else(not_ready)?;
        let renderer = Arc::clone(&self.renderer);
        let pool = lease.pool().to_owned();
        let at = self.clock.now();
        let pdf = tokio::task::spawn_blocking(move || renderer.test_card(&pool, at))
            .await
            .map_err(|join_error| TestCardError::Render(join_error.to_string()))?
            .ok_or_else(|| TestCardError::NoTemplate(lease.pool().to_owned()))?
            .map_err(|failure| TestCardError::Render(failure.reason))?;
        let job_name = format!("test-{}", uuid::Uuid::now_v7());
        let sent = TestCardSent { printer: name.to_owned(), job_name: job_name.clone() };
        let this = self.clone();
        let span = info_span!("test_card", printer = %name, job_name = %job_name);
        tokio::spawn(async move { this.print_test_card(lease, job_name, pdf, reason).await }.instrument(span));
        Ok(sent)
    }

    pub(super) async fn print_test_card(&self, lease: Lease, job_name: String, pdf: Vec<u8>, reason: String) {
        let printer = lease.printer();
        if let Err(error) = printer.validate(&job_name).await {
            warn!(%error, "the printer would not take the test card");
            return;
        }
        let submission = Submission { job_name: job_name.clone(), pdf, submitted_at: self.clock.now(), spooled: None };
        let remote = match printer.submit(&submission).await {
            Ok(remote) => remote,
            Err(error) => {
                // Without the printer's word, the blank is not counted: a test card is nobody's
                // card, and staff see the printer's own counter.
                warn!(%error, "the test card was not sent");
                return;
            }
        };
        let card = NewCard {
            job_id: None,
            printer: lease.name(),
            printer_job_id: remote.printer_job_id,
            at: self.clock.now(),
            utc_offset_minutes: self.config.ledger_offset_minutes(),
        };
        if let Err(error) = self.journal.record_test_card(&card, &reason).await {
            error!(%error, "the test card is not in the blank-card ledger");
        }
        info!(printer_job_id = ?remote.printer_job_id, "test card sent");
        match printer.follow(&remote, self.follow_policy()).await {
            Ok(status) if status.state == RemoteJobState::Completed => info!("test card printed"),
            Ok(status) => warn!(state = status.state.as_str(), reasons = ?status.reasons, "test card did not complete"),
            Err(error) => warn!(%error, "lost track of the test card"),
        }
    }
}

impl TestCards for Dispatch {
    fn send_test_card<'a>(
        &'a self,
        printer: &'a str,
        reason: String,
    ) -> futures_util::future::BoxFuture<'a, Result<TestCardSent, TestCardError>> {
        Box::pin(Dispatch::send_test_card(self, printer, reason))
    }
}
