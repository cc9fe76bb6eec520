//! Dispatch: authorized jobs are rendered into the spool, sent to a printer of their
//! template's pool, and followed on the printer until it says completed, aborted or cancelled.
//!
//! No card printed twice: a job is journaled `printing` *with its printer* before its card is
//! sent, so after a crash the spooler knows whom to ask. At start-up every job left `printing`
//! is reconciled before anything else is sent: its printer is asked (by the printer's job id,
//! checked against the job name, else Get-Jobs by job name, completed jobs included); what the
//! printer says settles the job; when it cannot say (it never got the job, or has forgotten it)
//! the job goes to `unknown` for staff to decide, never back into the queue.
//!
//! A job is bound to a printer only when it is sent: until then it waits in the journal as
//! `rendered`, and any healthy printer of its pool may take it. So the jobs "waiting for" a
//! printer that stops are simply taken by the others, and only jobs the printer may have
//! received stay with it. A card the printer did not take (busy after the retries, connection
//! refused) goes back to `rendered`; a job the printer aborted goes back per the requeue policy,
//! with its blank counted spoiled when the fault eats cards (a jam).

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures_util::StreamExt as _;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{debug, error, info, info_span, warn, Instrument};

use crate::clock::Clock;
use crate::config::{AbortPolicy, PrintingConfig};
use crate::domain::job::{JobId, JobState};
use crate::journal::{CardOutcome, JobRecord, JobUpdate, Journal, JournalError, NewCard, Step};
use crate::printer::pool::{Lease, Printers};
use crate::printer::spool::Spool;
use crate::printer::{
    Fault, FollowPolicy, Lookup, PrinterError, RemoteJob, RemoteJobState, RemoteJobStatus, Submission,
};

/// Jobs looked at per pass over the queue.
const BATCH: u32 = 64;
/// Cards in hand per core while rendering (see [`Dispatch::render_authorized`]).
const RENDERS_PER_CORE: usize = 4;

/// Why a card could not be rendered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderFailure {
    pub reason: String,
    /// The event's data cannot make a card (the job is rejected); otherwise the template or
    /// the renderer is at fault (the job fails, for staff, and can be retried once fixed).
    pub bad_data: bool,
    /// The job's authorization cannot be printed on (expired, or no longer checks out): the job
    /// goes back to central for a new one instead of failing.
    pub reauthorize: bool,
}

/// What dispatch needs from rendering: a template's pool, and a job's card as PDF.
pub trait CardRenderer: Send + Sync + 'static {
    /// The printer pool a template prints to, `None` for an unknown template.
    fn pool(&self, template: &str) -> Option<String>;

    /// Renders a job's card from its event (`payload`, as received) and its record.
    ///
    /// # Errors
    /// [`RenderFailure`] saying whether the data or the template is at fault.
    fn render(&self, job: &JobRecord, payload: &[u8], at: DateTime<Utc>) -> Result<Vec<u8>, RenderFailure>;

    /// A test card for a printer of `pool`: a made-up holder on the pool's layout, so staff
    /// see what a real card would look like on that printer. `None` when no template prints
    /// to the pool.
    fn test_card(&self, pool: &str, at: DateTime<Utc>) -> Option<Result<Vec<u8>, RenderFailure>>;
}

pub use crate::printer::test_card::{TestCardError, TestCardSent, TestCards};

/// The dispatch worker. Cheap to clone: every part is shared.
#[derive(Clone)]
pub struct Dispatch {
    journal: Journal,
    printers: Printers,
    spool: Spool,
    renderer: Arc<dyn CardRenderer>,
    config: Arc<PrintingConfig>,
    clock: Clock,
    /// Jobs a task of this process is working on, so a pass over the queue skips them.
    in_hand: Arc<Mutex<HashSet<JobId>>>,
    /// Rung when a printer slot frees up or a pass left work behind: the next pass over the
    /// queue runs now rather than at the next `queue_poll_ms` tick, so a printer is not left
    /// idle between cards.
    more_work: Arc<tokio::sync::Notify>,
    /// This instance's name in the journal's leases, and how long a lease lasts unrenewed.
    instance: Arc<str>,
    lease: Duration,
}

/// How a job on a printer ended, as far as dispatch can tell.
enum Settlement {
    Finished(RemoteJobStatus),
    /// The printer does not know the job (never got it, or forgot it).
    CannotSay(String),
    /// The printer did not answer for the whole in-doubt timeout.
    Unreachable(String),
    /// Shutdown: the job stays `printing`, to be reconciled at the next start.
    Interrupted,
}

/// Removes a job from the in-hand set when its task ends, however it ends.
struct InHand {
    set: Arc<Mutex<HashSet<JobId>>>,
    job_id: JobId,
}

impl Drop for InHand {
    fn drop(&mut self) {
        self.set.lock().unwrap_or_else(std::sync::PoisonError::into_inner).remove(&self.job_id);
    }
}

impl Dispatch {
    pub fn new(
        journal: Journal,
        printers: Printers,
        spool: Spool,
        renderer: Arc<dyn CardRenderer>,
        config: PrintingConfig,
        clock: Clock,
    ) -> Dispatch {
        Dispatch {
            journal,
            printers,
            spool,
            renderer,
            config: Arc::new(config),
            clock,
            in_hand: Arc::new(Mutex::new(HashSet::new())),
            more_work: Arc::new(tokio::sync::Notify::new()),
            instance: crate::config::JournalConfig::default().instance_id().into(),
            lease: crate::config::JournalConfig::default().lease(),
        }
    }

    /// Holds the cards it sends under `instance`'s name for `lease` at a time (renewed while
    /// it follows them); by default the host name and `[journal] lease_s`'s default.
    #[must_use]
    pub fn leased_as(mut self, instance: &str, lease: Duration) -> Dispatch {
        self.instance = instance.into();
        self.lease = lease;
        self
    }

    fn lease_until(&self) -> DateTime<Utc> {
        self.clock.now() + chrono::Duration::from_std(self.lease).unwrap_or_default()
    }

    /// Builds the printers and the spool the configuration names.
    ///
    /// # Errors
    /// [`PrinterError::BadUri`] for an unusable printer URI, [`PrinterError::Io`] when the
    /// spool directory cannot be created.
    pub fn from_config(
        config: &crate::config::Config,
        journal: Journal,
        renderer: Arc<dyn CardRenderer>,
        clock: Clock,
    ) -> Result<Dispatch, PrinterError> {
        let printers = Printers::from_config(&config.printers, &config.printing)?;
        let spool = Spool::open(&config.printing.spool_dir)?;
        Ok(Dispatch::new(journal, printers, spool, renderer, config.printing.clone(), clock)
            .leased_as(&config.journal.instance_id(), config.journal.lease()))
    }

    /// The printers, for staff (pause, resume, status).
    pub fn printers(&self) -> &Printers {
        &self.printers
    }

    fn take(&self, job_id: JobId) -> Option<InHand> {
        let mut set = self.in_hand.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        set.insert(job_id).then(|| InHand { set: self.in_hand.clone(), job_id })
    }

    fn follow_policy(&self) -> FollowPolicy {
        FollowPolicy {
            poll: Duration::from_millis(self.config.follow_poll_ms.max(10)),
            unreachable_grace: Duration::from_secs(self.config.in_doubt_timeout_s),
        }
    }

    fn card<'a>(&self, job_id: JobId, printer: &'a str, printer_job_id: Option<i64>) -> NewCard<'a> {
        NewCard {
            job_id: Some(job_id),
            printer,
            printer_job_id,
            at: self.clock.now(),
            utc_offset_minutes: self.config.ledger_utc_offset_minutes,
        }
    }

    /// Runs until `shutdown`: reconciles, then renders and prints. Jobs being followed when
    /// shutdown comes stay `printing` and are reconciled at the next start; a card being sent
    /// is sent to the end first.
    pub async fn run(self, shutdown: CancellationToken) {
        let tasks = TaskTracker::new();
        self.printers.poll(self.clock.now()).await;
        if let Err(error) = self.reconcile(&tasks, &shutdown).await {
            error!(%error, "cannot read the jobs left printing; retrying before anything is sent");
            // Nothing may be sent before reconciliation: keep trying until it succeeds.
            loop {
                tokio::select! {
                    () = shutdown.cancelled() => { tasks.close(); tasks.wait().await; return; }
                    () = tokio::time::sleep(Duration::from_millis(self.config.queue_poll_ms.max(100))) => {}
                }
                if self.reconcile(&tasks, &shutdown).await.is_ok() {
                    break;
                }
            }
        }
        let mut status_poll = tokio::time::interval(Duration::from_millis(self.config.status_poll_ms.max(10)));
        let mut queue_poll = tokio::time::interval(Duration::from_millis(self.config.queue_poll_ms.max(10)));
        let mut spool_sweep = tokio::time::interval(Duration::from_secs(self.config.retention_s.clamp(1, 60)));
        // A third of a lease: a renewal may fail twice before the lease runs out.
        let mut lease_tick = tokio::time::interval(self.lease / 3);
        for interval in [&mut status_poll, &mut queue_poll, &mut spool_sweep, &mut lease_tick] {
            interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        }
        let wakers = self.journal.wakers();
        loop {
            tokio::select! {
                () = shutdown.cancelled() => break,
                _ = status_poll.tick() => self.printers.poll(self.clock.now()).await,
                _ = queue_poll.tick() => self.pass(&tasks, &shutdown).await,
                () = self.more_work.notified() => self.pass(&tasks, &shutdown).await,
                () = wakers.dispatch.notified() => self.pass(&tasks, &shutdown).await,
                _ = spool_sweep.tick() => {
                    if let Err(error) = self.sweep_spool().await {
                        warn!(%error, "spool sweep failed");
                    }
                }
                _ = lease_tick.tick() => {
                    if let Err(error) = self.renew_leases().await {
                        warn!(%error, "cannot renew the leases of the cards on printers");
                    }
                    // Cards of an instance that stopped renewing (it died, or lost the journal).
                    if let Err(error) = self.reconcile(&tasks, &shutdown).await {
                        warn!(%error, "cannot look for cards left by another instance");
                    }
                }
            }
        }
        tasks.close();
        tasks.wait().await;
        info!("dispatch stopped");
    }

    /// One pass over the queue: authorized jobs rendered, rendered jobs given to free printers.
    async fn pass(&self, tasks: &TaskTracker, shutdown: &CancellationToken) {
        match self.render_authorized().await {
            // A full batch handled means more may be waiting: go on without waiting for the tick.
            Ok(handled) if handled >= BATCH as usize => self.more_work.notify_one(),
            Ok(_) => {}
            Err(error) => warn!(%error, "rendering pass failed"),
        }
        if let Err(error) = self.assign_rendered(tasks, shutdown).await {
            warn!(%error, "dispatch pass failed");
        }
    }

    /// Extends the leases of the cards this instance follows.
    async fn renew_leases(&self) -> Result<(), JournalError> {
        let in_hand: Vec<JobId> =
            self.in_hand.lock().unwrap_or_else(std::sync::PoisonError::into_inner).iter().copied().collect();
        self.journal.renew_leases(&self.instance, &in_hand, self.lease_until()).await
    }

    /// Every job left `printing` that nobody follows is taken up again with its printer, each
    /// in its own task holding a slot on that printer: this instance's own at once (a crash, or
    /// a shutdown while they were followed), another instance's only once its lease expired.
    async fn reconcile(&self, tasks: &TaskTracker, shutdown: &CancellationToken) -> Result<(), JournalError> {
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
                            error!(%error, "reconciliation failed; the job stays printing until the next start");
                        }
                    }
                    .instrument(span),
                );
            }
        }
    }

    async fn reconcile_job(&self, job: &JobRecord, shutdown: &CancellationToken) -> Result<(), JournalError> {
        let Some(printer_name) = job.printer.clone() else {
            return self.to_unknown(job.id, None, "left printing without a printer on record").await;
        };
        let Some(lease) = self.printers.occupy(&printer_name) else {
            let reason = format!("left printing on {printer_name}, which is no longer configured");
            return self.to_unknown(job.id, Some(&printer_name), &reason).await;
        };
        info!("asking the printer about a job left printing");
        let remote = RemoteJob { printer_job_id: job.printer_job_id, job_name: job.id.to_string() };
        let settlement = self.settle_on_printer(job.id, &lease, remote, true, shutdown).await;
        self.conclude(job.id, &lease, settlement).await
    }

    /// Finds what became of a job on its printer and follows it to its end. `look_up` when
    /// the printer may have the job without us knowing its fate or id (after a crash, or a
    /// submission whose answer was lost): then the printer is asked first, by id and by name.
    async fn settle_on_printer(
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
                        return Settlement::CannotSay(format!(
                            "{} has no record of the job (it never got it, or has forgotten it)",
                            lease.name()
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
                Err(PrinterError::NoSuchJob(detail)) => Settlement::CannotSay(format!(
                    "{} lost track of the job ({detail})", lease.name()
                )),
                Err(error) => Settlement::Unreachable(error.to_string()),
            },
        }
    }

    /// Journals the end of a job on a printer.
    async fn conclude(&self, job_id: JobId, lease: &Lease, settlement: Settlement) -> Result<(), JournalError> {
        let printer = lease.name();
        match settlement {
            Settlement::Interrupted => Ok(()),
            Settlement::CannotSay(reason) => self.to_unknown(job_id, Some(printer), &reason).await,
            Settlement::Unreachable(detail) => {
                let reason = format!(
                    "{printer} did not answer for {} s while printing ({detail}); whether the card printed is unknown",
                    self.config.in_doubt_timeout_s
                );
                self.to_unknown(job_id, Some(printer), &reason).await
            }
            Settlement::Finished(status) => match status.state {
                RemoteJobState::Completed => self.printed(job_id, printer, &status).await,
                RemoteJobState::Aborted => self.aborted(job_id, lease, &status).await,
                _ => {
                    let reason = format!("cancelled at {printer}");
                    let card = self.card(job_id, printer, status.printer_job_id);
                    let step = Step::system(JobState::Printing, JobState::Failed, reason.clone(), card.at);
                    ignore_conflict(
                        self.journal.settle_card_and_step(job_id, &card, CardOutcome::Cancelled, &reason, &step).await,
                    )
                }
            },
        }
    }

    async fn printed(&self, job_id: JobId, printer: &str, status: &RemoteJobStatus) -> Result<(), JournalError> {
        let card = self.card(job_id, printer, status.printer_job_id);
        let step = Step::system(JobState::Printing, JobState::Printed, format!("printed on {printer}"), card.at);
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
    async fn aborted(&self, job_id: JobId, lease: &Lease, status: &RemoteJobStatus) -> Result<(), JournalError> {
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
        let outcome = if consumed { CardOutcome::Spoiled } else { CardOutcome::NotFed };
        // This card counts too, though its line is written with the step below.
        let spoiled = self.journal.spoiled_cards_of_job(job_id).await? + i64::from(consumed);
        let give_up =
            consumed && (self.config.on_abort == AbortPolicy::Fail || spoiled > i64::from(self.config.max_aborts));
        let step = if give_up {
            warn!(%cause, spoiled, "printer aborted the job; handing it to staff");
            Step::system(
                JobState::Printing,
                JobState::Failed,
                format!("aborted by {printer} ({cause}); {spoiled} blank(s) spoiled: staff decide"),
                now,
            )
        } else {
            warn!(%cause, spoiled, "printer aborted the job; back to the queue");
            let what = if consumed { "blank spoiled" } else { "no blank used" };
            Step::system(
                JobState::Printing,
                JobState::Rendered,
                format!("aborted by {printer} ({cause}, {what}): back to the queue"),
                now,
            )
            .with(JobUpdate { next_attempt_at: Some(None), ..JobUpdate::default() })
        };
        let reason = format!("aborted by {printer}: {cause}");
        ignore_conflict(self.journal.settle_card_and_step(job_id, &card, outcome, &reason, &step).await)
    }

    async fn to_unknown(&self, job_id: JobId, printer: Option<&str>, reason: &str) -> Result<(), JournalError> {
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

    /// Renders the authorized jobs due into the spool, a batch at a time: how many it handled.
    /// Each card is drawn on a blocking thread, then waits for the spool's flush and the
    /// journal's commit; with a few cards per core in hand, the cores draw while others wait.
    async fn render_authorized(&self) -> Result<usize, JournalError> {
        let now = self.clock.now();
        let jobs = self.journal.claim_due(JobState::Authorized, &self.instance, now, self.lease_until(), BATCH).await?;
        let parallel = RENDERS_PER_CORE * std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
        let taken: Vec<(JobRecord, InHand)> =
            jobs.into_iter().filter_map(|job| self.take(job.id).map(|in_hand| (job, in_hand))).collect();
        let handled = taken.len();
        let results: Vec<Result<(), JournalError>> = futures_util::stream::iter(taken)
            .map(|(job, in_hand)| async move {
                let _in_hand = in_hand;
                let span = info_span!("render", job_id = %job.id);
                self.render_one(&job).instrument(span).await
            })
            .buffer_unordered(parallel)
            .collect()
            .await;
        results.into_iter().collect::<Result<(), _>>()?;
        Ok(handled)
    }

    /// Renders one authorized job and journals where it goes next.
    async fn render_one(&self, job: &JobRecord) -> Result<(), JournalError> {
        let step = match self.render_into_spool(job).await {
            Ok(bytes) => Step::system(
                JobState::Authorized,
                JobState::Rendered,
                format!("rendered ({bytes} bytes)"),
                self.clock.now(),
            )
            .with(JobUpdate { next_attempt_at: Some(None), ..JobUpdate::default() }),
            Err(failure) if failure.reauthorize => {
                info!(reason = %failure.reason, "asking central again before printing");
                Step::system(JobState::Authorized, JobState::AwaitingAuthorization, failure.reason, self.clock.now())
                    .with(JobUpdate { next_attempt_at: Some(None), ..JobUpdate::default() })
            }
            Err(failure) => {
                let to = if failure.bad_data { JobState::Rejected } else { JobState::Failed };
                warn!(reason = %failure.reason, "cannot render the card");
                Step::system(JobState::Authorized, to, format!("cannot render: {}", failure.reason), self.clock.now())
            }
        };
        ignore_conflict(self.journal.transition(job.id, &step).await)
    }

    async fn render_into_spool(&self, job: &JobRecord) -> Result<usize, RenderFailure> {
        let payload = self.journal.payload(job.id).await.map_err(|e| RenderFailure {
            reason: e.to_string(),
            bad_data: false,
            reauthorize: false,
        })?;
        let renderer = self.renderer.clone();
        let record = job.clone();
        let at = self.clock.now();
        let pdf =
            tokio::task::spawn_blocking(move || renderer.render(&record, &payload, at)).await.map_err(|e| {
                RenderFailure { reason: format!("renderer crashed: {e}"), bad_data: false, reauthorize: false }
            })??;
        let bytes = pdf.len();
        self.spool.write(job.id, pdf).await.map_err(|e| RenderFailure {
            reason: e.to_string(),
            bad_data: false,
            reauthorize: false,
        })?;
        Ok(bytes)
    }

    /// Gives rendered jobs to free printers of their pools, each in a task of its own.
    async fn assign_rendered(&self, tasks: &TaskTracker, shutdown: &CancellationToken) -> Result<(), JournalError> {
        if shutdown.is_cancelled() {
            return Ok(());
        }
        let now = self.clock.now();
        let jobs = self.journal.claim_due(JobState::Rendered, &self.instance, now, self.lease_until(), BATCH).await?;
        // Claimed but not given to a printer now (no free slot): let another instance have them.
        let mut left = Vec::new();
        for job in jobs {
            let Some(pool) = self.renderer.pool(&job.template) else {
                let step = Step::system(
                    JobState::Rendered,
                    JobState::Failed,
                    format!("template {:?} is unknown: no printer pool", job.template),
                    self.clock.now(),
                );
                ignore_conflict(self.journal.transition(job.id, &step).await)?;
                continue;
            };
            if !self.printers.has_pool(&pool) {
                debug!(pool, "no printer configured for the pool");
                left.push(job.id);
                continue;
            }
            let Some(lease) = self.printers.acquire(&pool) else {
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

    /// Check, validate, journal `printing`, submit, follow, settle.
    async fn print(&self, job: &JobRecord, lease: Lease, shutdown: &CancellationToken) -> Result<(), JournalError> {
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
                match self.render_into_spool(job).await {
                    Ok(_) => self.spool.read(job.id).await.ok().flatten().unwrap_or_default(),
                    Err(failure) => {
                        let step = Step::system(
                            JobState::Rendered,
                            JobState::Failed,
                            format!("cannot render: {}", failure.reason),
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
        let sending = Step::system(JobState::Rendered, JobState::Printing, format!("sent to {name}"), self.clock.now())
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
        let submission = Submission { job_name: job_name.clone(), pdf, submitted_at: self.clock.now() };
        let (remote, look_up) = match printer.submit(&submission).await {
            Ok(remote) => {
                self.journal.record_card_sent(job.id, &self.card(job.id, &name, remote.printer_job_id)).await?;
                info!(printer_job_id = ?remote.printer_job_id, "card sent");
                (remote, false)
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
                    format!("not taken by {name}: {error}"),
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
                (RemoteJob { printer_job_id: None, job_name }, true)
            }
        };
        let settlement = self.settle_on_printer(job.id, &lease, remote, look_up, shutdown).await;
        self.conclude(job.id, &lease, settlement).await
    }

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

    async fn print_test_card(&self, lease: Lease, job_name: String, pdf: Vec<u8>, reason: String) {
        let printer = lease.printer();
        if let Err(error) = printer.validate(&job_name).await {
            warn!(%error, "the printer would not take the test card");
            return;
        }
        let submission = Submission { job_name: job_name.clone(), pdf, submitted_at: self.clock.now() };
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
            utc_offset_minutes: self.config.ledger_utc_offset_minutes,
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

    /// Deletes spooled PDFs of jobs that are done with their printer and past the retention
    /// window (kept that long for a reprint), and of jobs the journal does not know.
    async fn sweep_spool(&self) -> Result<(), JournalError> {
        let Ok(spooled) = self.spool.jobs().await else { return Ok(()) };
        let retention = chrono::Duration::seconds(i64::try_from(self.config.retention_s).unwrap_or(i64::MAX));
        let now = self.clock.now();
        for job_id in spooled {
            let delete = match self.journal.job(job_id).await? {
                None => true,
                Some(job) => {
                    matches!(
                        job.state,
                        JobState::Printed | JobState::Spoiled | JobState::Cancelled | JobState::Rejected
                    ) && job.updated_at + retention <= now
                }
            };
            if delete {
                if let Err(error) = self.spool.remove(job_id).await {
                    warn!(%error, %job_id, "cannot delete a spooled card");
                }
            }
        }
        Ok(())
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

/// Another worker or instance (or staff) moved the job first: nothing left to do here.
fn ignore_conflict(result: Result<(), JournalError>) -> Result<(), JournalError> {
    match result {
        Ok(()) => Ok(()),
        Err(JournalError::Conflict { job_id, actual, .. }) => {
            info!(%job_id, %actual, "job moved by someone else meanwhile");
            Ok(())
        }
        Err(error) => Err(error),
    }
}
