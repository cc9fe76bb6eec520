//! Authorize: asks central for each job's print authorization, and keeps jobs waiting, for
//! minutes or for weeks, without hammering central and without losing any.
//!
//! One loop, one circuit breaker for all jobs:
//! - jobs left `received` by an older version are moved to `awaiting_authorization` (new jobs
//!   are admitted there);
//! - while the breaker is closed, due jobs (`Journal::claim_due`, urgent first) are asked for, paced
//!   at `drain_rate_per_s` with at most `drain_concurrency` requests in flight: the same bound
//!   drains the backlog after an outage;
//! - while it is open, no per-job request: one probe (a real request for one waiting job) per
//!   probe interval; after a 401, one per credentials-probe interval or when staff ask;
//! - each answer moves its job (`Journal::transition`): `authorized` with the signed
//!   authorization, `rejected` when denied, or back to waiting with its next attempt in the
//!   journal (exponential backoff with full jitter and a cap, or central's `Retry-After`);
//! - the breaker is saved in the journal whenever it changes, so a restart keeps its caution;
//! - with `max_wait_s` set, a job waiting longer goes to `failed` with the reason.
//!
//! Idempotency: a job's `request_id` is derived from its id and the authorization it held
//! before (none at first), so every retry of one request reuses the id (a reply lost on the
//! way is replayed, not issued twice), while a job asking again after its authorization
//! expired, or for a reprint, asks under a new id.
//!
//! Here: the worker, its loop, pacing and housekeeping. `answers.rs`: one request and what its
//! answer means for the job. `breaker_state.rs`: the breaker kept in the journal and shared by
//! the instances on it.

use crate::i18n::Lang;
use crate::tr;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinSet;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tracing::{debug, error, info, warn};

use crate::central::{
    Breaker, BreakerPolicy, CentralClient, CentralError, CentralMonitor, CentralState, CentralTransport, Gate,
    HttpTransport, Phase, Verifier,
};
use crate::clock::Clock;
use crate::config::CentralConfig;
use crate::domain::job::{JobId, JobState};
use crate::journal::{CardForCentral, JobRecord, JobUpdate, Journal, JournalError, StageWakers, Step};

mod answers;
mod breaker_state;

use breaker_state::{fingerprint, restore};

/// Received jobs moved to waiting per loop turn.
const PROMOTE_BATCH: u32 = 256;
/// How often the backlog's size is counted for staff.
const BACKLOG_REFRESH: Duration = Duration::from_secs(5);
/// Longest pause after the journal failed.
const JOURNAL_BACKOFF_CAP: Duration = Duration::from_secs(30);

#[derive(Debug, thiserror::Error)]
pub enum AuthorizeError {
    #[error(transparent)]
    Central(#[from] CentralError),
    #[error(transparent)]
    Journal(#[from] JournalError),
}

impl AuthorizeError {
    pub fn is_retryable(&self) -> bool {
        match self {
            AuthorizeError::Central(error) => error.is_retryable(),
            AuthorizeError::Journal(error) => error.is_retryable(),
        }
    }
}

/// The authorize worker. Build it, keep its [`Authorizer::monitor`] for the API, then
/// [`Authorizer::run`] it.
pub struct Authorizer {
    shared: Arc<Shared>,
}

struct Shared {
    config: CentralConfig,
    journal: Journal,
    client: CentralClient,
    monitor: CentralMonitor,
    clock: Clock,
    /// Rung by the journal when jobs start waiting for central.
    wakers: Arc<StageWakers>,
    fingerprint: String,
    /// Serialises breaker saves, so that the last one written is the newest.
    persist: tokio::sync::Mutex<()>,
    /// The name this instance claims jobs under, and for how long (`[journal] instance`,
    /// `lease_s`).
    instance: String,
    lease: Duration,
    /// See [`Authorizer::hold_paused_clock`].
    #[cfg(feature = "test-hooks")]
    hold_clock: bool,
}

enum Next {
    /// Go round again at once.
    Continue,
    /// Nothing to do until then (or until woken, a task ends, or the poll interval passes).
    Sleep(Option<DateTime<Utc>>),
}

struct InFlight {
    jobs: HashSet<JobId>,
    tasks: JoinSet<JobId>,
    by_task: HashMap<tokio::task::Id, (JobId, bool)>,
}

/// Paces requests: at most one per interval, with no burst.
struct Pacer {
    interval: Duration,
    next: Instant,
}

impl Pacer {
    /// Waits for the next slot; `false` when cancelled meanwhile.
    async fn wait(&mut self, token: &CancellationToken) -> bool {
        if self.next > Instant::now() {
            tokio::select! {
                () = tokio::time::sleep_until(self.next) => {}
                () = token.cancelled() => return false,
            }
        }
        self.next = self.next.max(Instant::now()) + self.interval;
        true
    }
}

impl Authorizer {
    /// The worker asking central over HTTP at `config.url`.
    ///
    /// # Errors
    /// [`AuthorizeError::Central`] for a missing or invalid `[central] public_key`,
    /// [`AuthorizeError::Journal`] when the breaker's saved state cannot be read.
    pub async fn over_http(
        config: &CentralConfig,
        journal: Journal,
        clock: Clock,
    ) -> Result<Authorizer, AuthorizeError> {
        let mut transport = HttpTransport::new(
            &config.url,
            Duration::from_millis(config.connect_timeout_ms),
            Duration::from_millis(config.request_timeout_ms),
        )?;
        if let Some(path) = &config.token_file {
            let problem = |problem: String| CentralError::OfficeToken { path: path.display().to_string(), problem };
            let token = std::fs::read_to_string(path).map_err(|error| problem(format!("cannot be read: {error}")))?;
            if token.trim().is_empty() {
                return Err(problem("is empty".into()).into());
            }
            transport = transport.with_office_token(&token);
        }
        Authorizer::new(config, journal, Arc::new(transport), clock).await
    }

    /// The worker asking central through `transport` (tests pass the simulator in-process).
    /// Restores the breaker saved in the journal.
    ///
    /// # Errors
    /// As [`Authorizer::over_http`].
    pub async fn new(
        config: &CentralConfig,
        journal: Journal,
        transport: Arc<dyn CentralTransport>,
        clock: Clock,
    ) -> Result<Authorizer, AuthorizeError> {
        let verifier = Verifier::from_base64(&config.public_key, Duration::from_secs(config.expiry_margin_s))?;
        let client = CentralClient::new(transport, verifier, Duration::from_millis(config.request_timeout_ms));
        let policy = BreakerPolicy {
            threshold: config.breaker_threshold,
            probe_interval: Duration::from_secs(config.probe_interval_s),
            credentials_probe_interval: Duration::from_secs(config.credentials_probe_interval_s),
        };
        let fingerprint = fingerprint(config);
        let now = clock.now();
        let breaker = match journal.central_breaker().await? {
            Some(row) => restore(&row, policy, &fingerprint, now),
            None => Breaker::new(policy, now),
        };
        if breaker.phase != Phase::Closed {
            info!(phase = breaker.phase.as_str(), next_probe_at = ?breaker.next_probe_at, "central's breaker restored");
        }
        let monitor = CentralMonitor::new(client.describe(), breaker);
        let wakers = journal.wakers();
        Ok(Authorizer {
            shared: Arc::new(Shared {
                config: config.clone(),
                journal,
                client,
                monitor,
                clock,
                wakers,
                fingerprint,
                persist: tokio::sync::Mutex::new(()),
                instance: crate::config::JournalConfig::default().instance_id(),
                lease: crate::config::JournalConfig::default().lease(),
                #[cfg(feature = "test-hooks")]
                hold_clock: false,
            }),
        })
    }

    /// For tests under tokio's paused clock: keeps simulated time still while the journal
    /// works. sqlx runs SQLite on threads of its own, so while the worker waits for it the
    /// runtime looks idle and tokio would jump to the next timer, as if the query had taken
    /// that long. With this, each journal call is accompanied by a blocking task (which
    /// tokio counts as work in progress). Off by default: it costs a thread hop per call.
    #[cfg(feature = "test-hooks")]
    #[must_use]
    pub fn hold_paused_clock(mut self) -> Authorizer {
        Arc::get_mut(&mut self.shared).expect("not running yet").hold_clock = true;
        self
    }

    /// Claims the jobs it asks central for under `instance`'s name for `lease` at a time; by
    /// default the host name and `[journal] lease_s`'s default.
    #[must_use]
    pub fn leased_as(mut self, instance: &str, lease: Duration) -> Authorizer {
        let shared = Arc::get_mut(&mut self.shared).expect("not running yet");
        instance.clone_into(&mut shared.instance);
        shared.lease = lease;
        self
    }

    /// The checker of central's answers. Its clones share the signatures it found good, so
    /// the stages that draw and print a card do not check the same signature again.
    pub fn verifier(&self) -> &Verifier {
        self.shared.client.verifier()
    }

    /// Central's state, for the API, the dashboard and status events.
    pub fn monitor(&self) -> CentralMonitor {
        self.shared.monitor.clone()
    }

    /// Runs until `token` is cancelled, then lets the requests in flight finish (each within
    /// the request timeout) and journals their outcomes before returning.
    ///
    /// # Errors
    /// None so far: journal failures are logged and waited out. The `Result` leaves room for a
    /// failure that waiting cannot cure.
    pub async fn run(self, token: CancellationToken) -> Result<(), AuthorizeError> {
        let shared = self.shared;
        let config = &shared.config;
        info!(central = %shared.client.describe(), rate = config.drain_rate_per_s, concurrency = config.drain_concurrency,
              "authorize worker started");
        let permits = Arc::new(Semaphore::new(config.drain_concurrency as usize));
        let mut pacer = Pacer { interval: Duration::from_secs(1) / config.drain_rate_per_s, next: Instant::now() };
        let mut in_flight = InFlight { jobs: HashSet::new(), tasks: JoinSet::new(), by_task: HashMap::new() };
        let mut housekeeping = Housekeeping { next_sweep: None, next_backlog_refresh: None };
        let mut journal_failures: u32 = 0;
        loop {
            in_flight.reap(&shared.monitor);
            if token.is_cancelled() {
                break;
            }
            let next = match shared.step(&mut in_flight, &permits, &mut pacer, &mut housekeeping, &token).await {
                Ok(next) => {
                    journal_failures = 0;
                    next
                }
                Err(error) => {
                    journal_failures = journal_failures.saturating_add(1);
                    let pause = Duration::from_millis(100 << journal_failures.min(9)).min(JOURNAL_BACKOFF_CAP);
                    warn!(%error, pause_ms = pause.as_millis(), "authorize: the journal failed; pausing");
                    Next::Sleep(Some(shared.clock.now() + chrono::Duration::from_std(pause).unwrap_or_default()))
                }
            };
            if let Next::Sleep(until) = next {
                shared.idle(until, &mut in_flight, &token).await;
            }
        }
        while let Some(joined) = in_flight.tasks.join_next_with_id().await {
            in_flight.finished(joined, &shared.monitor);
        }
        shared.persist_breaker(shared.clock.now()).await;
        info!("authorize worker stopped");
        Ok(())
    }
}

struct Housekeeping {
    next_sweep: Option<DateTime<Utc>>,
    next_backlog_refresh: Option<Instant>,
}

impl InFlight {
    fn reap(&mut self, monitor: &CentralMonitor) {
        while let Some(joined) = self.tasks.try_join_next_with_id() {
            self.finished(joined, monitor);
        }
    }

    fn finished(&mut self, joined: Result<(tokio::task::Id, JobId), tokio::task::JoinError>, monitor: &CentralMonitor) {
        let task = match &joined {
            Ok((task, _)) => *task,
            Err(error) => error.id(),
        };
        if let Some((job_id, probe)) = self.by_task.remove(&task) {
            self.jobs.remove(&job_id);
            if let Err(error) = joined {
                error!(%job_id, %error, "authorization attempt panicked; the job stays waiting");
                if probe {
                    monitor.abandon_probe();
                }
            }
        }
    }

    /// Asks central about `job`; `card` is its NIK and digest when already read.
    fn spawn(
        &mut self,
        shared: &Arc<Shared>,
        job: JobRecord,
        card: Option<CardForCentral>,
        probe: bool,
        permit: OwnedSemaphorePermit,
    ) {
        let job_id = job.id;
        let handle = self.tasks.spawn(shared.clone().attempt(job, card, probe, permit));
        self.by_task.insert(handle.id(), (job_id, probe));
        self.jobs.insert(job_id);
    }
}

impl Shared {
    /// Awaits a journal call, holding a paused clock still meanwhile when asked to.
    async fn io<T>(&self, call: impl std::future::Future<Output = T>) -> T {
        #[cfg(feature = "test-hooks")]
        if self.hold_clock {
            return hold_paused_clock(call).await;
        }
        call.await
    }

    async fn step(
        self: &Arc<Self>,
        in_flight: &mut InFlight,
        permits: &Arc<Semaphore>,
        pacer: &mut Pacer,
        housekeeping: &mut Housekeeping,
        token: &CancellationToken,
    ) -> Result<Next, JournalError> {
        let now = self.clock.now();
        let promoted = self.promote_received(now).await?;
        self.housekeeping(now, housekeeping, &in_flight.jobs).await?;
        let batch = self.config.drain_concurrency.saturating_mul(4).max(16);
        match self.monitor.gate(now) {
            Gate::Send => {
                let until = now + chrono::Duration::from_std(self.lease).unwrap_or_default();
                let due: Vec<JobRecord> = self
                    .io(self.journal.claim_due(JobState::AwaitingAuthorization, &self.instance, now, until, batch))
                    .await?
                    .into_iter()
                    .filter(|job| !in_flight.jobs.contains(&job.id))
                    .collect();
                if due.is_empty() {
                    if promoted > 0 {
                        return Ok(Next::Continue);
                    }
                    // Due jobs that are all in flight come back when their task ends.
                    let next = self.io(self.journal.next_due_at(JobState::AwaitingAuthorization)).await?;
                    return Ok(Next::Sleep(next.filter(|at| *at > now)));
                }
                // The batch's cards in one read; should it fail, each request reads its own
                // (and meets the error there).
                let ids: Vec<JobId> = due.iter().map(|job| job.id).collect();
                let mut cards = self.io(self.journal.cards_for_central(&ids)).await.unwrap_or_else(|error| {
                    warn!(%error, "cannot read the batch's cards together; reading each on its own");
                    HashMap::new()
                });
                // Claimed and not asked for now (central's state changed, or shutdown): another
                // instance may take them.
                let mut left = Vec::new();
                for job in due {
                    if !left.is_empty() {
                        left.push(job.id);
                        continue;
                    }
                    let permit = self.take_slot(permits, pacer, token).await;
                    match permit {
                        Some(permit) if self.monitor.gate(self.clock.now()) == Gate::Send => {
                            let card = cards.remove(&job.id);
                            in_flight.spawn(self, job, card, false, permit);
                            in_flight.reap(&self.monitor);
                        }
                        _ => left.push(job.id),
                    }
                }
                self.io(self.journal.release_claims(&self.instance, &left)).await?;
                Ok(Next::Continue)
            }
            Gate::Probe => {
                // Any waiting job will do, due or not: the probe asks about central.
                let candidates = self.io(self.journal.probe_candidates(batch)).await?;
                let Some(job) = candidates.into_iter().find(|job| !in_flight.jobs.contains(&job.id)) else {
                    return Ok(Next::Sleep(None));
                };
                let Some(permit) = self.take_slot(permits, pacer, token).await else { return Ok(Next::Continue) };
                if !self.claim_probe().await? {
                    return Ok(Next::Continue);
                }
                if self.monitor.begin_probe(self.clock.now()) {
                    debug!(job_id = %job.id, "probing central");
                    in_flight.spawn(self, job, None, true, permit);
                }
                Ok(Next::Continue)
            }
            Gate::AwaitProbe => Ok(Next::Sleep(None)),
            Gate::WaitUntil(at) => Ok(Next::Sleep(Some(at))),
        }
    }

    /// A slot to send one request: paced, and within the concurrency bound.
    async fn take_slot(
        &self,
        permits: &Arc<Semaphore>,
        pacer: &mut Pacer,
        token: &CancellationToken,
    ) -> Option<OwnedSemaphorePermit> {
        let permit = tokio::select! {
            permit = permits.clone().acquire_owned() => permit.expect("the semaphore is never closed"),
            () = token.cancelled() => return None,
        };
        pacer.wait(token).await.then_some(permit)
    }

    async fn idle(&self, until: Option<DateTime<Utc>>, in_flight: &mut InFlight, token: &CancellationToken) {
        let poll = Duration::from_millis(self.config.poll_interval_ms.max(1));
        let now = self.clock.now();
        let pause = until.map_or(poll, |at| (at - now).to_std().unwrap_or(Duration::ZERO).min(poll));
        tokio::select! {
            () = token.cancelled() => {}
            () = tokio::time::sleep(pause) => {}
            () = self.wakers.authorize.notified() => {}
            () = self.monitor.woken() => {}
            Some(joined) = in_flight.tasks.join_next_with_id(), if !in_flight.tasks.is_empty() => {
                in_flight.finished(joined, &self.monitor);
            }
        }
    }

    /// Moves jobs left `received` (admitted by an older version, which rested them there) to
    /// waiting for central; returns how many.
    async fn promote_received(&self, now: DateTime<Utc>) -> Result<usize, JournalError> {
        let jobs = self.io(self.journal.due(JobState::Received, now, PROMOTE_BATCH)).await?;
        let status = self.monitor.snapshot();
        let since = status.since.format("%Y-%m-%d %H:%M UTC").to_string();
        let reason = match status.state {
            CentralState::Down => tr!(Lang::En, "said-awaiting-central-down", since = since),
            CentralState::CredentialsRefused => tr!(Lang::En, "said-awaiting-central-credentials", since = since),
            _ => tr!(Lang::En, "said-awaiting-central"),
        };
        for job in &jobs {
            let step = Step::system(JobState::Received, JobState::AwaitingAuthorization, reason.clone(), now);
            match self.io(self.journal.transition(job.id, &step)).await {
                Ok(()) | Err(JournalError::Conflict { .. }) => {}
                Err(error) => return Err(error),
            }
        }
        Ok(jobs.len())
    }

    /// The maximum-wait sweep and the backlog count, each at its own pace.
    async fn housekeeping(
        &self,
        now: DateTime<Utc>,
        housekeeping: &mut Housekeeping,
        in_flight: &HashSet<JobId>,
    ) -> Result<(), JournalError> {
        if let Some(max_wait_s) = self.config.max_wait_s {
            if housekeeping.next_sweep.is_none_or(|at| at <= now) {
                let max_wait = chrono::Duration::seconds(i64::try_from(max_wait_s).unwrap_or(i64::MAX));
                let overdue = self.io(self.journal.awaiting_since_before(now - max_wait, PROMOTE_BATCH)).await?;
                let full = overdue.len() == PROMOTE_BATCH as usize;
                for job in overdue.into_iter().filter(|job| !in_flight.contains(&job.id)) {
                    let reason = format!(
                        "waited more than {} for central's authorization; needs staff (last: {})",
                        human_duration(Duration::from_secs(max_wait_s)),
                        job.reason
                    );
                    let step = Step::system(JobState::AwaitingAuthorization, JobState::Failed, reason, now)
                        .with(JobUpdate { next_attempt_at: Some(None), ..JobUpdate::default() });
                    match self.io(self.journal.transition(job.id, &step)).await {
                        Ok(()) => warn!(job_id = %job.id, "gave up waiting for central (maximum wait)"),
                        Err(JournalError::Conflict { .. }) => {}
                        Err(error) => return Err(error),
                    }
                }
                let pace = Duration::from_secs((max_wait_s / 10).clamp(1, 60));
                housekeeping.next_sweep =
                    Some(if full { now } else { now + chrono::Duration::from_std(pace).unwrap_or_default() });
            }
        }
        let instant = Instant::now();
        if housekeeping.next_backlog_refresh.is_none_or(|at| at <= instant) {
            self.adopt_recovery(now).await?;
            let (waiting, oldest) = self.io(self.journal.authorization_backlog()).await?;
            self.monitor.set_waiting(u64::try_from(waiting).unwrap_or(0), oldest, now);
            housekeeping.next_backlog_refresh = Some(instant + BACKLOG_REFRESH);
        }
        Ok(())
    }
}

/// Awaits `call` while a blocking task keeps tokio's paused clock from auto-advancing (tokio
/// counts a running blocking task as work in progress). For tests that wait on real I/O (the
/// journal's SQLite threads) under a paused clock; without a paused clock it only costs a
/// thread hop.
#[cfg(feature = "test-hooks")]
pub async fn hold_paused_clock<T>(call: impl std::future::Future<Output = T>) -> T {
    let (done, wait) = std::sync::mpsc::channel::<()>();
    let holder = tokio::task::spawn_blocking(move || {
        let _ = wait.recv();
    });
    let output = call.await;
    drop(done);
    let _ = holder.await;
    output
}

fn human_duration(duration: Duration) -> String {
    let seconds = duration.as_secs();
    match seconds {
        s if s % 86_400 == 0 => format!("{} d", s / 86_400),
        s if s % 3_600 == 0 => format!("{} h", s / 3_600),
        s if s % 60 == 0 => format!("{} min", s / 60),
        s => format!("{s} s"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_naturally() {
        assert_eq!(human_duration(Duration::from_secs(7 * 86_400)), "7 d");
        assert_eq!(human_duration(Duration::from_secs(7_200)), "2 h");
        assert_eq!(human_duration(Duration::from_secs(90)), "90 s");
    }
}
