//! The printers' queue: rendered jobs given to free printers, each card journaled `printing`
//! with its printer before it is sent, then followed on the printer to its end and settled
//! (printed, aborted and requeued or failed, cancelled, or in doubt for staff).

use crate::i18n::Lang;
use crate::tr;
use std::collections::BTreeSet;
use std::time::Duration;

use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{debug, error, info, info_span, warn, Instrument};

use crate::config::AbortPolicy;
use crate::domain::job::{JobId, JobState};
use crate::journal::{CardOutcome, JobRecord, JobUpdate, JournalError, Step};
use crate::printer::pool::Lease;
use crate::printer::{Fault, Lookup, PrinterError, RemoteJob, RemoteJobState, RemoteJobStatus, Submission};

use super::{ask_central_again, ignore_conflict, Dispatch, Settlement, BATCH};

/// How long a journal write about a card on a printer is retried before the job is left to
/// the reconciliation: longer than a PostgreSQL restart takes.
const CARD_WRITE_PATIENCE: Duration = Duration::from_secs(120);

impl Dispatch {
    /// Gives rendered jobs to free printers of their pools, each in a task of its own.
    pub(super) async fn assign_rendered(
        &self,
        tasks: &TaskTracker,
        shutdown: &CancellationToken,
    ) -> Result<(), JournalError> {
        if shutdown.is_cancelled() {
            return Ok(());
        }
        let jobs = self.claim_for_free_slots().await?;
        if jobs.is_empty() {
            return Ok(());
        }
        // Blanks are scarce: a printer down to its reserve takes urgent cards only.
        let stock = self.journal.blank_stock().await?;
        let reserve = i64::from(self.config.reserve_stock);
        // Claimed but not given to a printer now (no free slot): let another instance have them.
        let mut left = Vec::new();
        for job in jobs {
            let Some(pool) = self.renderer.pool(&job.template) else {
                self.fail_for_unknown_template(&job).await?;
                continue;
            };
            if !self.printers.has_pool(&pool) {
                debug!(pool, "no printer configured for the pool");
                left.push(job.id);
                continue;
            }
            let above_reserve = |printer: &str| stock.get(printer).is_none_or(|blanks| *blanks > reserve);
            let Some(lease) = self.printers.acquire_where(&pool, |printer| job.urgent || above_reserve(printer)) else {
                left.push(job.id);
                continue;
            };
            let Some(in_hand) = self.take(job.id) else { continue };
            let this = self.clone();
            let shutdown = shutdown.clone();
            let span = info_span!("print", job_id = %job.id, printer = lease.name());
            tasks.spawn(
                async move {
                    if let Err(error) = this.print(&job, lease, &shutdown).await {
                        error!(%error, "printing the job failed; it is picked up again from the journal");
                    }
                    drop(in_hand);
                    // The lease went with `print`: the printer can take the next card now.
                    this.more_work.notify_one();
                }
                .instrument(span),
            );
        }
        self.journal.release_claims(&self.instance, &left).await
    }

    /// Claims the rendered jobs due for the pools whose printers can take a card now, pool by
    /// pool when there are several. One claim of the queue's head across pools would take the
    /// cards of a pool whose printers stopped (up to `printing.max_drawn_waiting` of them, ahead
    /// of the others' in the claim order), find them no slot and give them back, pass after
    /// pass, while the other pools' printers idled.
    ///
    /// A pool's claim takes as many jobs as its printers have slots, busy or free (at most a
    /// batch): a claim also returns the jobs this instance holds already (on their way to a
    /// printer, in the busy slots), and each free slot needs one job more. A whole batch at each
    /// pass, the rest given back, cost 12.9 job-row updates per card on PostgreSQL where this
    /// costs 7.2, on the writer every stage waits for; a claim of only the free slots' number
    /// (`a756d9b`) made more commits per card (docs/performance.md).
    async fn claim_for_free_slots(&self) -> Result<Vec<JobRecord>, JournalError> {
        let taking = self.printers.pools_taking_jobs();
        if taking.is_empty() {
            return Ok(Vec::new());
        }
        let up_to = |slots: u32| slots.clamp(1, BATCH);
        let templates = self.renderer.templates();
        let pools: BTreeSet<&str> = templates.iter().map(|(_, pool)| pool.as_str()).collect();
        if pools.len() <= 1 {
            // One pool, as in most offices: one claim. (It also takes cards of a template the
            // renderer no longer knows, which fail below.)
            let (now, until) = (self.clock.now(), self.lease_until());
            let limit = up_to(taking.values().sum());
            return self.journal.claim_due(JobState::Rendered, &self.instance, now, until, limit).await;
        }
        let mut jobs = Vec::new();
        for (pool, slots) in taking {
            let of_pool: Vec<String> =
                templates.iter().filter(|(_, of)| *of == pool).map(|(template, _)| template.clone()).collect();
            jobs.extend(self.claim_templates_in_turn(JobState::Rendered, of_pool, up_to(slots)).await?);
        }
        Ok(jobs)
    }

    /// Fails the drawn cards of templates this spooler does not have (a template removed
    /// between two starts), as the printers' queue did when it met them: with several pools it
    /// claims each pool's own templates only, so it would leave them waiting for good.
    pub(super) async fn fail_cards_of_unknown_templates(&self) -> Result<(), JournalError> {
        let known: BTreeSet<String> = self.renderer.templates().into_iter().map(|(template, _)| template).collect();
        let waiting = self.journal.count_in_state_by_template(JobState::Rendered).await?;
        let unknown: Vec<String> = waiting.into_keys().filter(|template| !known.contains(template)).collect();
        if unknown.is_empty() {
            return Ok(());
        }
        loop {
            let jobs = self.claim_templates_in_turn(JobState::Rendered, unknown.clone(), BATCH).await?;
            if jobs.is_empty() {
                return Ok(());
            }
            for job in jobs {
                warn!(job_id = %job.id, template = %job.template, "a drawn card of a template this spooler does not have");
                self.fail_for_unknown_template(&job).await?;
            }
        }
    }

    /// A drawn card whose template this spooler does not have: `failed`, saying which.
    async fn fail_for_unknown_template(&self, job: &JobRecord) -> Result<(), JournalError> {
        let why = tr!(Lang::En, "said-unknown-template", template = format!("{:?}", job.template));
        let step = Step::system(JobState::Rendered, JobState::Failed, why, self.clock.now());
        ignore_conflict(self.journal.transition(job.id, &step).await)
    }

    /// Check, validate, journal `printing`, submit, follow, settle.
    pub(super) async fn print(
        &self,
        job: &JobRecord,
        lease: Lease,
        shutdown: &CancellationToken,
    ) -> Result<(), JournalError> {
        let printer = lease.printer();
        let name = lease.name().to_owned();
        let job_name = job.id.to_string();
        let status = printer.status().await;
        self.printers.observe(&name, &status, self.clock.now());
        if !self.printers.view(&name).is_some_and(|v| v.health.is_ready()) {
            return Ok(());
        }
        if let Err(error) = printer.validate(&job_name).await {
            warn!(%error, "the printer would not take the job");
            if !matches!(error, PrinterError::Busy) {
                self.printers.fault(&name, vec![Fault::Other(format!("Validate-Job: {error}"))], self.clock.now());
            }
            return Ok(());
        }
        let pdf = match self.spool.read(job.id).await {
            Ok(Some(pdf)) => pdf,
            Ok(None) => {
                // The PDF went missing (a lost disk, a hand clean-up): render it again.
                warn!("the rendered card is missing from the spool; rendering it again");
                match self.render_into_spool(job, None).await {
                    Ok(_) => self.spool.read(job.id).await.ok().flatten().unwrap_or_default(),
                    Err(failure) if failure.passing => {
                        let now = self.clock.now();
                        let retry = chrono::Duration::from_std(super::render::PASSING_FAULT_RETRY).unwrap_or_default();
                        let reason = tr!(Lang::En, "said-render-again", why = &failure.reason);
                        warn!(reason = %failure.reason, "cannot render the card now; trying again");
                        return self.journal.defer(job.id, JobState::Rendered, now + retry, &reason, now).await;
                    }
                    Err(failure) => {
                        let step = Step::system(
                            JobState::Rendered,
                            JobState::Failed,
                            tr!(Lang::En, "said-cannot-render", why = &failure.reason),
                            self.clock.now(),
                        );
                        return ignore_conflict(self.journal.transition(job.id, &step).await);
                    }
                }
            }
            Err(error) => {
                warn!(%error, "cannot read the rendered card");
                return Ok(());
            }
        };
        if shutdown.is_cancelled() {
            return Ok(());
        }
        // The last moment before a blank is used: the authorization must still hold.
        if let Err(failure) = self.renderer.authorization_holds(job, self.clock.now()) {
            let step = if failure.reauthorize {
                info!(reason = %failure.reason, "asking central again before printing");
                ask_central_again(JobState::Rendered, failure.reason, self.clock.now())
            } else {
                warn!(reason = %failure.reason, "not printing");
                Step::system(JobState::Rendered, JobState::Failed, failure.reason, self.clock.now())
            };
            return ignore_conflict(self.journal.transition(job.id, &step).await);
        }
        let sending = Step::system(
            JobState::Rendered,
            JobState::Printing,
            tr!(Lang::En, "said-sent-to", printer = &name),
            self.clock.now(),
        )
        .with(JobUpdate {
            printer: Some(Some(name.clone())),
            printer_job_id: Some(None),
            lease: Some((self.instance.to_string(), self.lease_until())),
            ..JobUpdate::default()
        });
        match self.journal.transition(job.id, &sending).await {
            Ok(()) => {}
            Err(JournalError::Conflict { .. }) => return Ok(()),
            Err(error) => return Err(error),
        }
        // From here the card may be on the printer: only the printer's word settles the job.
        let submission = Submission {
            job_name: job_name.clone(),
            pdf,
            submitted_at: self.clock.now(),
            spooled: Some(self.spool.path(job.id)),
        };
        let settlement = match printer.submit(&submission).await {
            Ok(remote) => {
                if let Some(status) = printer.finished_at_submit(&remote) {
                    // Nothing to follow: the card's ledger line and the job's outcome go in one
                    // commit. A crash before it leaves the job `printing` without a line, as one
                    // just after the submission always did: the reconciliation asks the printer,
                    // which has the card, and settling adds the line.
                    info!("card handed over");
                    // The printer holds nothing more of the card: its slot takes the next card
                    // while this one's outcome is committed (that commit waited with the slot
                    // held, a third of a hot folder's turn under load).
                    lease.give_back_slot();
                    self.more_work.notify_one();
                    Settlement::Finished(status)
                } else {
                    let card = self.card(job.id, &name, remote.printer_job_id);
                    self.write_about_card("the card's ledger line", shutdown, || {
                        self.journal.record_card_sent(job.id, &card)
                    })
                    .await?;
                    info!(printer_job_id = ?remote.printer_job_id, "card sent");
                    self.settle_on_printer(job.id, &lease, remote, false, shutdown).await
                }
            }
            Err(error) if !error.may_have_taken_job() => {
                warn!(%error, "the printer did not take the card; back to the queue");
                if !matches!(error, PrinterError::Busy) {
                    let fault = match &error {
                        PrinterError::Unreachable(detail) => Fault::Unreachable(detail.clone()),
                        other => Fault::Other(other.to_string()),
                    };
                    self.printers.fault(&name, vec![fault], self.clock.now());
                }
                let step = Step::system(
                    JobState::Printing,
                    JobState::Rendered,
                    tr!(Lang::En, "said-not-taken", printer = &name, error = error.to_string()),
                    self.clock.now(),
                )
                .with(JobUpdate {
                    printer: Some(None),
                    next_attempt_at: Some(None),
                    ..JobUpdate::default()
                });
                return ignore_conflict(self.journal.transition(job.id, &step).await);
            }
            Err(error) => {
                warn!(%error, "no clear answer to the submission; asking the printer");
                let remote = RemoteJob { printer_job_id: None, job_name };
                self.settle_on_printer(job.id, &lease, remote, true, shutdown).await
            }
        };
        self.write_about_card("the card's outcome", shutdown, || self.conclude(job.id, &lease, settlement.clone()))
            .await
    }

    /// Finds what became of a job on its printer and follows it to its end. `look_up` when
    /// the printer may have the job without us knowing its fate or id (after a crash, or a
    /// submission whose answer was lost): then the printer is asked first, by id and by name.
    pub(super) async fn settle_on_printer(
        &self,
        job_id: JobId,
        lease: &Lease,
        mut remote: RemoteJob,
        look_up: bool,
        shutdown: &CancellationToken,
    ) -> Settlement {
        let policy = self.follow_policy();
        let printer = lease.printer();
        if look_up {
            let started = tokio::time::Instant::now();
            loop {
                let answer = match printer.job_status(&remote).await {
                    // The id may have been reused after a printer restart: look by name.
                    Err(PrinterError::NoSuchJob(_)) if remote.printer_job_id.is_some() => {
                        printer.find_jobs(&remote.job_name).await
                    }
                    Err(PrinterError::NoSuchJob(_)) => Ok(Lookup::CannotSay),
                    Ok(status) => Ok(Lookup::Found(vec![status])),
                    Err(error) => Err(error),
                };
                match answer {
                    Ok(Lookup::Found(found)) => {
                        if found.len() > 1 {
                            error!(copies = found.len(), "the printer holds this job more than once");
                        }
                        let status = found.into_iter().last().expect("found is never empty");
                        remote.printer_job_id = status.printer_job_id;
                        let card = self.card(job_id, lease.name(), status.printer_job_id);
                        if let Err(error) = self.journal.record_card_sent(job_id, &card).await {
                            warn!(%error, "cannot record the printer's job id");
                        }
                        if status.state.is_finished() {
                            return Settlement::Finished(status);
                        }
                        break;
                    }
                    Ok(Lookup::CannotSay) => {
                        return Settlement::CannotSay(tr!(
                            Lang::En,
                            "said-printer-has-no-record",
                            printer = lease.name()
                        ))
                    }
                    Err(error) if error.is_retryable() && started.elapsed() < policy.unreachable_grace => {
                        debug!(%error, "printer not answering about the job; asking again");
                    }
                    Err(error) => return Settlement::Unreachable(error.to_string()),
                }
                tokio::select! {
                    () = shutdown.cancelled() => return Settlement::Interrupted,
                    () = tokio::time::sleep(policy.poll) => {}
                }
            }
        }
        tokio::select! {
            () = shutdown.cancelled() => Settlement::Interrupted,
            result = printer.follow(&remote, policy) => match result {
                Ok(status) => Settlement::Finished(status),
                Err(PrinterError::NoSuchJob(detail)) => {
                    Settlement::CannotSay(tr!(Lang::En, "said-printer-lost-track", printer = lease.name(), detail = detail))
                }
                Err(error) => Settlement::Unreachable(error.to_string()),
            },
        }
    }

    /// Journals the end of a job on a printer.
    /// A journal write about a card that is on a printer (its ledger line, its outcome): a
    /// failure that may pass (the journal restarting) is retried with a growing pause for up to
    /// [`CARD_WRITE_PATIENCE`], so the card stays followed and ledgered. Past that, or at
    /// shutdown, the error is returned: the job stays `printing`, and the reconciliation at the
    /// next lease tick (or start) asks the printer again.
    pub(super) async fn write_about_card<T, F, Fut>(
        &self,
        what: &str,
        shutdown: &CancellationToken,
        mut write: F,
    ) -> Result<T, JournalError>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T, JournalError>>,
    {
        let started = tokio::time::Instant::now();
        let mut pause = Duration::from_millis(100);
        loop {
            match write().await {
                Err(error) if error.is_retryable() && started.elapsed() < CARD_WRITE_PATIENCE => {
                    warn!(%error, retry_in_ms = pause.as_millis() as u64, "cannot journal {what} of a card on a printer; retrying");
                    tokio::select! {
                        () = shutdown.cancelled() => return Err(error),
                        () = tokio::time::sleep(pause) => {}
                    }
                    pause = (pause * 2).min(Duration::from_secs(5));
                }
                outcome => return outcome,
            }
        }
    }

    pub(super) async fn conclude(
        &self,
        job_id: JobId,
        lease: &Lease,
        settlement: Settlement,
    ) -> Result<(), JournalError> {
        let printer = lease.name();
        match settlement {
            Settlement::Interrupted => Ok(()),
            Settlement::CannotSay(reason) => self.to_unknown(job_id, Some(printer), &reason).await,
            Settlement::Unreachable(detail) => {
                let reason = tr!(
                    Lang::En,
                    "said-printer-silent",
                    printer = printer,
                    seconds = self.config.in_doubt_timeout_s,
                    detail = detail
                );
                self.to_unknown(job_id, Some(printer), &reason).await
            }
            Settlement::Finished(status) => match status.state {
                RemoteJobState::Completed => self.printed(job_id, printer, &status).await,
                RemoteJobState::Aborted => self.aborted(job_id, lease, &status).await,
                _ => {
                    let reason = tr!(Lang::En, "said-cancelled-at", printer = printer);
                    let card = self.card(job_id, printer, status.printer_job_id);
                    let step = Step::system(JobState::Printing, JobState::Failed, reason.clone(), card.at);
                    ignore_conflict(
                        self.journal.settle_card_and_step(job_id, &card, CardOutcome::Cancelled, &reason, &step).await,
                    )
                }
            },
        }
    }

    pub(super) async fn printed(
        &self,
        job_id: JobId,
        printer: &str,
        status: &RemoteJobStatus,
    ) -> Result<(), JournalError> {
        let card = self.card(job_id, printer, status.printer_job_id);
        let step = Step::system(
            JobState::Printing,
            JobState::Printed,
            tr!(Lang::En, "said-printed-on", printer = printer),
            card.at,
        );
        ignore_conflict(self.journal.settle_card_and_step(job_id, &card, CardOutcome::Printed, "", &step).await)?;
        info!("card printed");
        if self.config.retention_s == 0 {
            if let Err(error) = self.spool.remove(job_id).await {
                warn!(%error, "cannot delete the printed card from the spool");
            }
        }
        Ok(())
    }

    /// The printer aborted the job: it is stopped for what it reports; the blank counts
    /// spoiled unless the fault stops a printer before it feeds a card; the job goes back to
    /// the queue or to staff per the policy.
    pub(super) async fn aborted(
        &self,
        job_id: JobId,
        lease: &Lease,
        status: &RemoteJobStatus,
    ) -> Result<(), JournalError> {
        let printer = lease.name();
        let now = self.clock.now();
        let faults = match lease.printer().status().await {
            Ok(printer_status) => printer_status.faults(&[]),
            Err(error) => vec![Fault::Unreachable(error.to_string())],
        };
        self.printers.fault(printer, faults.clone(), now);
        let cause = if faults.is_empty() {
            status.message.clone().unwrap_or_else(|| status.reasons.join(", "))
        } else {
            faults.iter().map(Fault::label).collect::<Vec<_>>().join(", ")
        };
        let consumed = faults.is_empty() || faults.iter().any(Fault::consumes_blank);
        let card = self.card(job_id, printer, status.printer_job_id);
        let outcome = CardOutcome::of_aborted_card(consumed);
        // This card counts too, though its line is written with the step below.
        let spoiled = self.journal.spoiled_cards_of_job(job_id).await? + i64::from(consumed);
        let give_up =
            consumed && (self.config.on_abort == AbortPolicy::Fail || spoiled > i64::from(self.config.max_aborts));
        let step = if give_up {
            warn!(%cause, spoiled, "printer aborted the job; handing it to staff");
            Step::system(
                JobState::Printing,
                JobState::Failed,
                tr!(Lang::En, "said-aborted-staff-decide", printer = printer, cause = &cause, spoiled = spoiled),
                now,
            )
        } else {
            warn!(%cause, spoiled, "printer aborted the job; back to the queue");
            let reason = if consumed {
                tr!(Lang::En, "said-aborted-blank-spoiled", printer = printer, cause = &cause)
            } else {
                tr!(Lang::En, "said-aborted-no-blank-used", printer = printer, cause = &cause)
            };
            Step::system(JobState::Printing, JobState::Rendered, reason, now)
                .with(JobUpdate { next_attempt_at: Some(None), ..JobUpdate::default() })
        };
        let reason = tr!(Lang::En, "said-aborted", printer = printer, cause = &cause);
        ignore_conflict(self.journal.settle_card_and_step(job_id, &card, outcome, &reason, &step).await)
    }

    pub(super) async fn to_unknown(
        &self,
        job_id: JobId,
        printer: Option<&str>,
        reason: &str,
    ) -> Result<(), JournalError> {
        warn!(reason, "whether the card printed is unknown: staff decide");
        let step = Step::system(JobState::Printing, JobState::Unknown, reason, self.clock.now());
        match printer {
            Some(printer) => {
                let card = self.card(job_id, printer, None);
                ignore_conflict(
                    self.journal.settle_card_and_step(job_id, &card, CardOutcome::Unknown, reason, &step).await,
                )
            }
            None => ignore_conflict(self.journal.transition(job_id, &step).await),
        }
    }
}
