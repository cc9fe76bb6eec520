//! Cards left on printers: this instance's own at start (a crash, or a shutdown while they
//! were followed), another instance's once its lease expired; and the leases of the cards this
//! instance follows, renewed.

use crate::i18n::Lang;
use crate::tr;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{error, info, info_span, warn, Instrument};

use crate::domain::job::{JobId, JobState};
use crate::journal::{JobRecord, JournalError};
use crate::printer::RemoteJob;

use super::{Dispatch, BATCH};

impl Dispatch {
    /// Extends the leases of the cards this instance follows.
    pub(super) async fn renew_leases(&self) -> Result<(), JournalError> {
        let in_hand: Vec<JobId> =
            self.in_hand.lock().unwrap_or_else(std::sync::PoisonError::into_inner).iter().copied().collect();
        self.journal.renew_leases(&self.instance, &in_hand, self.lease_until()).await
    }

    /// Every job left `printing` that nobody follows is taken up again with its printer, each
    /// in its own task holding a slot on that printer: this instance's own at once (a crash, or
    /// a shutdown while they were followed), another instance's only once its lease expired.
    pub(super) async fn reconcile(
        &self,
        tasks: &TaskTracker,
        shutdown: &CancellationToken,
    ) -> Result<(), JournalError> {
        let mut after = None;
        loop {
            let jobs = self.journal.jobs_in_state(JobState::Printing, after, BATCH).await?;
            let Some(last) = jobs.last() else { return Ok(()) };
            after = Some(last.id);
            for job in jobs {
                let now = self.clock.now();
                let held_by_another = job.owner.as_deref().is_some_and(|owner| owner != &*self.instance)
                    && job.lease_until.is_some_and(|until| until >= now);
                if held_by_another {
                    continue;
                }
                let Some(in_hand) = self.take(job.id) else { continue };
                if !self.journal.claim_printing(job.id, &self.instance, self.lease_until(), now).await? {
                    continue;
                }
                if job.owner.as_deref().is_some_and(|owner| owner != &*self.instance) {
                    warn!(job_id = %job.id, owner = job.owner.as_deref().unwrap_or_default(), "taking over a card whose instance stopped renewing its lease");
                }
                let this = self.clone();
                let shutdown = shutdown.clone();
                let span = info_span!("reconcile", job_id = %job.id, printer = job.printer.as_deref().unwrap_or("?"));
                tasks.spawn(
                    async move {
                        let _in_hand = in_hand;
                        if let Err(error) = this.reconcile_job(&job, &shutdown).await {
                            error!(%error, "reconciliation failed; the job stays printing until the next lease tick tries again");
                        }
                    }
                    .instrument(span),
                );
            }
        }
    }

    pub(super) async fn reconcile_job(
        &self,
        job: &JobRecord,
        shutdown: &CancellationToken,
    ) -> Result<(), JournalError> {
        let Some(printer_name) = job.printer.clone() else {
            return self.to_unknown(job.id, None, &tr!(Lang::En, "said-left-printing-no-printer")).await;
        };
        let Some(lease) = self.printers.occupy(&printer_name) else {
            let reason = tr!(Lang::En, "said-left-printing-unconfigured", printer = &printer_name);
            return self.to_unknown(job.id, Some(&printer_name), &reason).await;
        };
        info!("asking the printer about a job left printing");
        let remote = RemoteJob { printer_job_id: job.printer_job_id, job_name: job.id.to_string() };
        let settlement = self.settle_on_printer(job.id, &lease, remote, true, shutdown).await;
        self.write_about_card("the card's outcome", shutdown, || self.conclude(job.id, &lease, settlement.clone()))
            .await
    }
}
