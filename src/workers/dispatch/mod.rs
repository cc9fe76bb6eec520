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
//!
//! Here: the worker, its loop and the spool sweep. `render.rs`: authorized jobs into the spool.
//! `print.rs`: the printers' queue, sending, following and settling a card. `reconcile.rs`:
//! cards left on printers (after a crash, or by an instance whose lease expired) and the leases
//! of the cards followed. `test_card.rs`: test cards for staff.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{error, info, warn};

use crate::clock::Clock;
use crate::config::PrintingConfig;
use crate::domain::job::{JobId, JobState};
use crate::journal::{JobRecord, JobUpdate, Journal, JournalError, NewCard, Step};
use crate::printer::pool::Printers;
use crate::printer::spool::Spool;
use crate::printer::{FollowPolicy, PrinterError, RemoteJobStatus};

/// Jobs looked at per pass over the queue.
const BATCH: u32 = 64;
/// Cards drawn at once per core (see [`Dispatch::render_authorized`]): two, so that a core
/// has the next card to draw while the task of the last one wakes.
const RENDERS_PER_CORE: usize = 2;

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
    /// A fault that passes by itself (the journal unreachable, the spool's disk full): the job
    /// waits and is tried again, rather than go to staff.
    pub passing: bool,
}

impl RenderFailure {
    /// A fault of the card's data or template: final until someone changes something.
    pub fn lasting(reason: String, bad_data: bool) -> RenderFailure {
        RenderFailure { reason, bad_data, reauthorize: false, passing: false }
    }

    /// A fault that passes by itself: the job is tried again later.
    pub fn passing(reason: String) -> RenderFailure {
        RenderFailure { reason, bad_data: false, reauthorize: false, passing: true }
    }
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

    /// Whether the job's authorization still lets its card go to a printer at `at`: checked
    /// again at the last moment (it may have expired since the card was drawn, or the journal's
    /// copy been altered). `reauthorize` when central can cure it by authorizing again.
    ///
    /// # Errors
    /// [`RenderFailure`] saying why the card may not be printed now.
    fn authorization_holds(&self, job: &JobRecord, at: DateTime<Utc>) -> Result<(), RenderFailure>;

    /// A test card for a printer of `pool`: a made-up holder on the pool's layout, so staff
    /// see what a real card would look like on that printer. `None` when no template prints
    /// to the pool.
    fn test_card(&self, pool: &str, at: DateTime<Utc>) -> Option<Result<Vec<u8>, RenderFailure>>;

    /// Every template this renderer draws, with its pool: when a pool has as many cards drawn
    /// and waiting as it may, its templates' authorized jobs wait undrawn.
    fn templates(&self) -> Vec<(String, String)>;

    /// Whether this renderer can check central's signatures. Without it no job's card is drawn
    /// or printed: jobs wait in `authorized` and `rendered` (fail closed).
    fn checks_authorizations(&self) -> bool {
        true
    }
}

pub use crate::printer::test_card::{TestCardError, TestCardSent, TestCards};

/// The step back to central for a card whose authorization no longer holds: the old answer is
/// dropped and a new round of asking begins (a new request id, so central authorizes anew).
fn ask_central_again(from: JobState, reason: String, at: DateTime<Utc>) -> Step {
    Step::system(from, JobState::AwaitingAuthorization, reason, at).with(JobUpdate {
        next_attempt_at: Some(None),
        authorization: Some(None),
        new_authorization_round: true,
        ..JobUpdate::default()
    })
}

mod print;
mod reconcile;
mod render;
mod test_card;

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
    /// Rung when a printer slot frees up: the printers' queue is looked at now rather than at
    /// the next `queue_poll_ms` tick, so a printer is not left idle between cards.
    more_work: Arc<tokio::sync::Notify>,
    /// Permits to draw a card: the drawing, not the cards waiting for the spool or the
    /// journal, is what the cores bound.
    drawing: Arc<tokio::sync::Semaphore>,
    /// This instance's name in the journal's leases, and how long a lease lasts unrenewed.
    instance: Arc<str>,
    lease: Duration,
    /// Counts the claims made template by template (drawing while some pool is full; the
    /// printers' queue with several pools), to start each at another template of a pool: one
    /// template's waiting jobs do not starve another's.
    claim_turn: Arc<std::sync::atomic::AtomicUsize>,
}

/// How a job on a printer ended, as far as dispatch can tell.
#[derive(Debug, Clone)]
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
            drawing: Arc::new(tokio::sync::Semaphore::new(
                RENDERS_PER_CORE * std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get),
            )),
            instance: crate::config::JournalConfig::default().instance_id().into(),
            lease: crate::config::JournalConfig::default().lease(),
            claim_turn: Arc::default(),
        }
    }

    /// Claims due jobs in `state` of `templates` only, up to `limit`, template by template,
    /// starting each call at the next template (`claim_turn`): one template's waiting jobs do
    /// not starve another's.
    async fn claim_templates_in_turn(
        &self,
        state: JobState,
        mut templates: Vec<String>,
        limit: u32,
    ) -> Result<Vec<JobRecord>, JournalError> {
        if templates.is_empty() {
            return Ok(Vec::new());
        }
        let turn = self.claim_turn.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let first = turn % templates.len();
        templates.rotate_left(first);
        let now = self.clock.now();
        self.journal.claim_due_of_templates(state, &self.instance, now, self.lease_until(), limit, templates).await
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
        // The ledger's days follow the office's zone unless set apart.
        let printing = PrintingConfig {
            ledger_utc_offset_minutes: Some(config.ledger_offset_minutes()),
            ..config.printing.clone()
        };
        Ok(Dispatch::new(journal, printers, spool, renderer, printing, clock)
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
            utc_offset_minutes: self.config.ledger_offset_minutes(),
        }
    }

    /// Runs until `shutdown`: reconciles, then renders and prints. Jobs being followed when
    /// shutdown comes stay `printing` and are reconciled at the next start; a card being sent
    /// is sent to the end first.
    ///
    /// Drawing and the printers' queue are two loops side by side, each woken by its own work:
    /// when one loop did both in turn, the printers waited for a whole batch of drawings before
    /// the next cards were given to them.
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
        if let Err(error) = self.fail_cards_of_unknown_templates().await {
            warn!(%error, "cannot look for drawn cards of templates this spooler does not have");
        }
        tokio::join!(self.render_loop(&shutdown), self.print_loop(&tasks, &shutdown), self.sweep_loop(&shutdown));
        tasks.close();
        tasks.wait().await;
        info!("dispatch stopped");
    }

    /// Draws authorized jobs into the spool, a batch per pass.
    async fn render_loop(&self, shutdown: &CancellationToken) {
        let mut queue_poll = tokio::time::interval(Duration::from_millis(self.config.queue_poll_ms.max(10)));
        queue_poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let wakers = self.journal.wakers();
        // A full batch handled means more may be waiting: then the next pass runs at once.
        let mut more_waiting = false;
        // Held at a pool's bound of drawn cards: new authorizations (the stage's wake-ups, many a
        // second while a backlog drains) cannot change that; the printers can, at their pace, so
        // the next look is at the next tick.
        let mut held_by_bound = false;
        loop {
            if shutdown.is_cancelled() {
                break;
            }
            if held_by_bound {
                tokio::select! {
                    () = shutdown.cancelled() => break,
                    _ = queue_poll.tick() => {}
                }
            } else if !more_waiting {
                tokio::select! {
                    () = shutdown.cancelled() => break,
                    _ = queue_poll.tick() => {}
                    () = wakers.render.notified() => {}
                }
            }
            // No card is drawn on an authorization nobody can check (a journal from a run that
            // had the key, a key taken out since): they wait until the key is back.
            if !self.renderer.checks_authorizations() {
                more_waiting = false;
                continue;
            }
            (more_waiting, held_by_bound) = match self.render_authorized().await {
                Ok(pass) => (pass.handled >= BATCH as usize, pass.held_by_bound),
                Err(error) => {
                    warn!(%error, "rendering pass failed");
                    (false, false)
                }
            };
        }
    }

    /// Deletes the spool's cards that may go, every [`spool_sweep_interval`]. A loop of its own:
    /// in the printers' loop, a sweep of a spool of 300,000 waiting cards held up printing for
    /// 10 to 30 s each minute (RELIABILITY.md, the soak).
    async fn sweep_loop(&self, shutdown: &CancellationToken) {
        let mut spool_sweep = tokio::time::interval(spool_sweep_interval(self.config.retention_s));
        spool_sweep.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                () = shutdown.cancelled() => break,
                _ = spool_sweep.tick() => {}
            }
            // A sweep of a large spool takes a while; it may stop anywhere (each card is
            // deleted on its own), so shutdown does not wait for it.
            tokio::select! {
                () = shutdown.cancelled() => break,
                swept = self.sweep_spool() => {
                    if let Err(error) = swept {
                        warn!(%error, "spool sweep failed");
                    }
                }
            }
        }
    }

    /// Gives rendered jobs to free printers, and keeps the printers' state and the leases of the
    /// cards on printers.
    async fn print_loop(&self, tasks: &TaskTracker, shutdown: &CancellationToken) {
        let mut status_poll = tokio::time::interval(Duration::from_millis(self.config.status_poll_ms.max(10)));
        let mut queue_poll = tokio::time::interval(Duration::from_millis(self.config.queue_poll_ms.max(10)));
        // A third of a lease: a renewal may fail twice before the lease runs out.
        let mut lease_tick = tokio::time::interval(self.lease / 3);
        for interval in [&mut status_poll, &mut queue_poll, &mut lease_tick] {
            interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        }
        let wakers = self.journal.wakers();
        loop {
            tokio::select! {
                () = shutdown.cancelled() => break,
                _ = status_poll.tick() => self.printers.poll(self.clock.now()).await,
                _ = queue_poll.tick() => self.print_pass(tasks, shutdown).await,
                () = self.more_work.notified() => self.print_pass(tasks, shutdown).await,
                () = wakers.print.notified() => self.print_pass(tasks, shutdown).await,
                _ = lease_tick.tick() => {
                    if let Err(error) = self.renew_leases().await {
                        warn!(%error, "cannot renew the leases of the cards on printers");
                    }
                    // Cards of an instance that stopped renewing (it died, or lost the journal).
                    if let Err(error) = self.reconcile(tasks, shutdown).await {
                        warn!(%error, "cannot look for cards left by another instance");
                    }
                }
            }
        }
    }

    /// One pass over the printers' queue: rendered jobs given to free printers.
    async fn print_pass(&self, tasks: &TaskTracker, shutdown: &CancellationToken) {
        crate::telemetry::panic_if_asked("dispatch", b"");
        // As for drawing: no card leaves on an authorization nobody can check.
        if !self.renderer.checks_authorizations() {
            return;
        }
        if let Err(error) = self.assign_rendered(tasks, shutdown).await {
            warn!(%error, "dispatch pass failed");
        }
    }

    /// Deletes spooled PDFs of jobs that are done with their printer and past the retention
    /// window (kept that long for a reprint), and of jobs the journal does not know. The spool
    /// is looked at a chunk at a time: listed and looked up whole, a spool of 250,000 waiting
    /// cards took tens of MB at each sweep, and the spooler's memory grew with the backlog
    /// (RELIABILITY.md, the soak).
    async fn sweep_spool(&self) -> Result<(), JournalError> {
        let Ok(mut listing) = self.spool.listing().await else { return Ok(()) };
        let retention = chrono::Duration::seconds(i64::try_from(self.config.retention_s).unwrap_or(i64::MAX));
        let ended_by = self.clock.now() - retention;
        loop {
            let spooled = match listing.next_chunk(SPOOL_SWEEP_CHUNK).await {
                Ok(spooled) if !spooled.is_empty() => spooled,
                Ok(_) => return Ok(()),
                Err(error) => {
                    warn!(%error, "cannot read the spool to sweep it");
                    return Ok(());
                }
            };
            for job_id in self.journal.spooled_to_delete(&spooled, ended_by).await? {
                if let Err(error) = self.spool.remove(job_id).await {
                    warn!(%error, %job_id, "cannot delete a spooled card");
                }
            }
        }
    }
}

/// Spooled cards looked up in the journal at once by a sweep: one statement's worth of ids
/// (the journal asks about at most 500 jobs a statement).
const SPOOL_SWEEP_CHUNK: usize = 500;

/// How often the spool is swept. With no retention a printed card is deleted as it is settled,
/// and the sweep only finds what that missed (a crash in between, a cancelled or rejected job):
/// once a minute. Otherwise within a minute of its retention's end, and no more often than
/// every second. A sweep lists the whole spool, which holds every card drawn and waiting for a
/// printer: with a backlog of 20,000 it held 20,000 (docs/performance.md).
fn spool_sweep_interval(retention_s: u64) -> Duration {
    const SAFETY_NET_S: u64 = 60;
    Duration::from_secs(if retention_s == 0 { SAFETY_NET_S } else { retention_s.clamp(1, SAFETY_NET_S) })
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
