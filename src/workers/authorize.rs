//! Authorize: asks central for each job's print authorization, and keeps jobs waiting, for
//! minutes or for weeks, without hammering central and without losing any.
//!
//! One loop, one circuit breaker for all jobs:
//! - jobs `received` are moved to `awaiting_authorization` (staff and upstream see them wait);
//! - while the breaker is closed, due jobs (`Journal::due`, urgent first) are asked for, paced
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

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use rand::Rng as _;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinSet;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tracing::{debug, error, info, info_span, warn, Instrument};

use crate::central::wire::SignedAuthorization;
use crate::central::{
    AuthorizationRequest, Breaker, BreakerPolicy, CentralClient, CentralError, CentralMonitor, CentralState,
    CentralTransport, Gate, HttpTransport, Outcome, Phase, Verdict, Verifier,
};
use crate::clock::Clock;
use crate::config::CentralConfig;
use crate::domain::job::{JobId, JobState};
use crate::journal::{CentralBreakerRow, JobRecord, JobUpdate, Journal, JournalError, StageWakers, Step};

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

/// The event fields central needs; the rest of the payload is not read here.
#[derive(Deserialize)]
struct EventForCentral {
    event_id: String,
    nik: String,
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
        let transport = HttpTransport::new(
            &config.url,
            Duration::from_millis(config.connect_timeout_ms),
            Duration::from_millis(config.request_timeout_ms),
        )?;
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

    fn spawn(&mut self, shared: &Arc<Shared>, job: JobRecord, probe: bool, permit: OwnedSemaphorePermit) {
        let job_id = job.id;
        let handle = self.tasks.spawn(shared.clone().attempt(job, probe, permit));
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
                            in_flight.spawn(self, job, false, permit);
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
                    in_flight.spawn(self, job, true, permit);
                }
                Ok(Next::Continue)
            }
            Gate::AwaitProbe => Ok(Next::Sleep(None)),
            Gate::WaitUntil(at) => Ok(Next::Sleep(Some(at))),
        }
    }

    /// Instances sharing the journal send one probe between them: this one probes only if it
    /// takes the probe in the journal; otherwise it adopts the breaker the journal holds (another
    /// instance probed, or found central back). Without a saved breaker (nothing failed in a
    /// way worth saving yet) it probes on its own say.
    async fn claim_probe(&self) -> Result<bool, JournalError> {
        let now = self.clock.now();
        let breaker = self.monitor.breaker();
        let interval = match breaker.phase {
            Phase::CredentialsRefused => self.config.credentials_probe_interval_s,
            _ => self.config.probe_interval_s,
        };
        let next = now + chrono::Duration::seconds(i64::try_from(interval).unwrap_or(i64::MAX));
        if self.io(self.journal.claim_central_probe(now, next, breaker.probe_requested)).await? {
            return Ok(true);
        }
        let Some(row) = self.io(self.journal.central_breaker()).await? else { return Ok(true) };
        let policy = BreakerPolicy {
            threshold: self.config.breaker_threshold,
            probe_interval: Duration::from_secs(self.config.probe_interval_s),
            credentials_probe_interval: Duration::from_secs(self.config.credentials_probe_interval_s),
        };
        // The saved probe time as it stands: a changed configuration is a restart's business.
        let saved = restore(&row, policy, &row.config_fingerprint, now);
        debug!(phase = saved.phase.as_str(), next_probe_at = ?saved.next_probe_at, "another instance probes central");
        self.monitor.adopt(saved, now);
        Ok(false)
    }

    /// While this instance's breaker is open, another instance sharing the journal may have
    /// found central back (its probe answered): the saved breaker says so, and this one closes
    /// too rather than wait for a probe of its own.
    async fn adopt_recovery(&self, now: DateTime<Utc>) -> Result<(), JournalError> {
        let breaker = self.monitor.breaker();
        if breaker.phase == Phase::Closed || breaker.probe_in_flight {
            return Ok(());
        }
        let Some(row) = self.io(self.journal.central_breaker()).await? else { return Ok(()) };
        if Phase::parse(&row.phase) == Some(Phase::Closed) {
            info!("another instance found central answering again");
            let saved = restore(&row, breaker.policy, &row.config_fingerprint, now);
            self.monitor.adopt(saved, now);
        }
        Ok(())
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
        let since = status.since.format("%Y-%m-%d %H:%M UTC");
        let reason = match status.state {
            CentralState::Down => format!("waiting for central's authorization (central down since {since})"),
            CentralState::CredentialsRefused => {
                format!("waiting for central's authorization (central refused this office's credentials since {since})")
            }
            _ => "waiting for central's authorization".to_owned(),
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
            metrics::gauge!("cardspool_central_jobs_waiting").set(waiting as f64);
            let status = self.monitor.snapshot();
            for state in
                [CentralState::Up, CentralState::Degraded, CentralState::Down, CentralState::CredentialsRefused]
            {
                let value = if status.state == state { 1.0 } else { 0.0 };
                metrics::gauge!("cardspool_central_state", "state" => state.as_str()).set(value);
            }
            housekeeping.next_backlog_refresh = Some(instant + BACKLOG_REFRESH);
        }
        Ok(())
    }

    /// One request for one job, and its outcome journaled.
    async fn attempt(self: Arc<Self>, job: JobRecord, probe: bool, _permit: OwnedSemaphorePermit) -> JobId {
        let job_id = job.id;
        let span = info_span!("authorize", %job_id, probe, attempt = job.attempts + 1);
        async move {
            let request = match self.request_for(&job).await {
                Ok(request) => request,
                Err(error) => {
                    if probe {
                        self.monitor.abandon_probe();
                    }
                    self.unreadable(&job, &error).await;
                    return;
                }
            };
            let outcome = self.client.authorize(&request, self.clock.now()).await;
            let now = self.clock.now();
            metrics::counter!("cardspool_central_answers_total", "outcome" => outcome.kind()).increment(1);
            if self.monitor.record(&Verdict::of(&outcome), probe, now) {
                self.persist_breaker(now).await;
            }
            match &outcome {
                Outcome::Authorized(_) | Outcome::Pending { .. } => {
                    debug!(outcome = outcome.kind(), "central answered");
                }
                Outcome::Denied { .. } => info!(reason = %outcome.reason(), "central denied the print"),
                _ => info!(outcome = outcome.kind(), reason = %outcome.reason(), "no authorization"),
            }
            self.apply(&job, &outcome, now).await;
        }
        .instrument(span)
        .await;
        job_id
    }

    async fn request_for(&self, job: &JobRecord) -> Result<AuthorizationRequest, RequestProblem> {
        let payload = self.io(self.journal.payload(job.id)).await.map_err(RequestProblem::Journal)?;
        let event: EventForCentral =
            serde_json::from_slice(&payload).map_err(|e| RequestProblem::Unreadable(e.to_string()))?;
        Ok(AuthorizationRequest {
            request_id: request_id(job),
            nik: event.nik,
            enrollment_id: event.event_id,
            office: self.config.office.clone(),
        })
    }

    async fn unreadable(&self, job: &JobRecord, problem: &RequestProblem) {
        match problem {
            // The journal will be back; the job stays due and is asked for then.
            RequestProblem::Journal(error) => warn!(%error, "cannot read the job's event"),
            RequestProblem::Unreadable(detail) => {
                let reason = format!("the job's event cannot be read to ask central ({detail}); needs staff");
                let step = Step::system(job.state, JobState::Failed, reason, self.clock.now());
                if let Err(error) = self.io(self.journal.transition(job.id, &step)).await {
                    warn!(%error, "cannot record the failure");
                }
            }
        }
    }

    /// Journals what central's answer means for the job.
    async fn apply(&self, job: &JobRecord, outcome: &Outcome, now: DateTime<Utc>) {
        let attempts = job.attempts + 1;
        let retry_at = |delay: Duration| now + chrono::Duration::from_std(delay).unwrap_or(chrono::TimeDelta::MAX);
        let waiting = |next: Option<DateTime<Utc>>, authorization: Option<String>| JobUpdate {
            attempts: Some(attempts),
            next_attempt_at: next.map(Some),
            authorization: authorization.map(Some),
            ..JobUpdate::default()
        };
        // While the breaker is open the job's own backoff means nothing (it waits for the
        // breaker): it is due again at the next probe, so that it drains at once when central
        // is back instead of sitting out a backoff earned by central's outage.
        let breaker = self.monitor.snapshot();
        let backoff = match (breaker.breaker, breaker.next_probe_at) {
            (Phase::Open | Phase::CredentialsRefused, Some(next_probe)) => next_probe,
            _ => retry_at(self.backoff(job.attempts)),
        };
        let (to, reason, update) = match outcome {
            Outcome::Authorized(verified) => (
                JobState::Authorized,
                outcome.reason(),
                JobUpdate {
                    attempts: Some(attempts),
                    next_attempt_at: Some(None),
                    authorization: Some(Some(verified.to_json())),
                    ..JobUpdate::default()
                },
            ),
            Outcome::Denied { .. } => (
                JobState::Rejected,
                outcome.reason(),
                JobUpdate { attempts: Some(attempts), next_attempt_at: Some(None), ..JobUpdate::default() },
            ),
            Outcome::Expired { authorization, .. } => {
                // Kept so that the next request goes under a new request id.
                let kept = serde_json::to_string(authorization).expect("plain strings serialise");
                (
                    JobState::AwaitingAuthorization,
                    self.waiting_reason(outcome, backoff),
                    waiting(Some(backoff), Some(kept)),
                )
            }
            Outcome::Pending { retry_after } | Outcome::RateLimited { retry_after } => {
                let at = retry_at(*retry_after);
                (JobState::AwaitingAuthorization, self.waiting_reason(outcome, at), waiting(Some(at), None))
            }
            Outcome::Unavailable { retry_after, .. } => {
                let at = backoff.max(retry_at(retry_after.unwrap_or_default()));
                (JobState::AwaitingAuthorization, self.waiting_reason(outcome, at), waiting(Some(at), None))
            }
            Outcome::Malformed { .. } => {
                (JobState::AwaitingAuthorization, self.waiting_reason(outcome, backoff), waiting(Some(backoff), None))
            }
            // Held with everything else: no next attempt of its own, the breaker decides.
            Outcome::BadCredentials { .. } => (JobState::AwaitingAuthorization, outcome.reason(), waiting(None, None)),
        };
        let step = Step::system(job.state, to, reason, now).with(update);
        match self.io(self.journal.transition(job.id, &step)).await {
            Ok(()) => {}
            Err(JournalError::Conflict { actual, .. }) => {
                info!(now_in = %actual, outcome = outcome.kind(), "the job was moved meanwhile; central's answer is not applied");
            }
            // Not journaled: the job stays due and asks again under the same request id, and
            // central replays the same answer.
            Err(error) => warn!(%error, outcome = outcome.kind(), "cannot journal central's answer"),
        }
    }

    fn waiting_reason(&self, outcome: &Outcome, next: DateTime<Utc>) -> String {
        let status = self.monitor.snapshot();
        match (status.state, status.next_probe_at) {
            (CentralState::Down, Some(probe)) => format!(
                "{}; waiting for central (down since {}), next check {}",
                outcome.reason(),
                status.since.format("%Y-%m-%d %H:%M UTC"),
                probe.format("%Y-%m-%d %H:%M:%S UTC")
            ),
            _ => format!("{}; asking again at {}", outcome.reason(), next.format("%Y-%m-%d %H:%M:%S UTC")),
        }
    }

    /// Full jitter: uniform in `[0, min(cap, base * 2^attempts)]`.
    fn backoff(&self, attempts: i64) -> Duration {
        let exponent = u32::try_from(attempts.clamp(0, 30)).unwrap_or(30);
        let ceiling = self.config.backoff_base_ms.saturating_mul(1 << exponent).min(self.config.backoff_cap_ms);
        Duration::from_millis(rand::thread_rng().gen_range(0..=ceiling))
    }

    async fn persist_breaker(&self, now: DateTime<Utc>) {
        let _one_at_a_time = self.persist.lock().await;
        let row = to_row(&self.monitor.breaker(), &self.fingerprint);
        if let Err(error) = self.io(self.journal.save_central_breaker(&row, now)).await {
            warn!(%error, "cannot save central's breaker; it is kept in memory");
        }
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

enum RequestProblem {
    Journal(JournalError),
    Unreadable(String),
}

/// Stable across retries of one request, new once the job held an authorization.
fn request_id(job: &JobRecord) -> String {
    let previous = job
        .authorization
        .as_deref()
        .and_then(|json| serde_json::from_str::<SignedAuthorization>(json).ok())
        .map(|authorization| authorization.authorization_id)
        .unwrap_or_default();
    let digest = Sha256::digest(format!("cardspool/{}/{previous}", job.id).as_bytes());
    hex::encode(&digest[..16])
}

/// Names the `[central]` configuration the breaker was saved under: after a restart with a
/// changed one (the fix for refused credentials, say) a held breaker probes at once.
fn fingerprint(config: &CentralConfig) -> String {
    let digest = Sha256::digest(format!("{}\n{}\n{}", config.url, config.office, config.public_key).as_bytes());
    hex::encode(&digest[..8])
}

fn to_row(breaker: &Breaker, fingerprint: &str) -> CentralBreakerRow {
    CentralBreakerRow {
        phase: breaker.phase.as_str().to_owned(),
        state: breaker.state.as_str().to_owned(),
        state_since: breaker.state_since,
        consecutive_failures: i64::from(breaker.consecutive_failures),
        next_probe_at: breaker.next_probe_at,
        paused_until: breaker.paused_until,
        last_error: breaker.last_error.clone(),
        last_error_at: breaker.last_error_at,
        last_success_at: breaker.last_success_at,
        alert: breaker.alert.clone(),
        config_fingerprint: fingerprint.to_owned(),
    }
}

fn restore(row: &CentralBreakerRow, policy: BreakerPolicy, fingerprint: &str, now: DateTime<Utc>) -> Breaker {
    let mut breaker = Breaker::new(policy, now);
    let Some(phase) = Phase::parse(&row.phase) else {
        // Unreadable: be cautious, one probe and then whatever central says.
        warn!(phase = %row.phase, "central's saved breaker is unreadable; probing before anything else");
        breaker.phase = Phase::Open;
        breaker.next_probe_at = Some(now);
        breaker.probe_requested = true;
        breaker.refresh_state(now);
        return breaker;
    };
    breaker.phase = phase;
    breaker.state = CentralState::parse(&row.state).unwrap_or(CentralState::Unknown);
    breaker.state_since = row.state_since;
    breaker.consecutive_failures = u32::try_from(row.consecutive_failures).unwrap_or(u32::MAX);
    breaker.next_probe_at = row.next_probe_at;
    breaker.paused_until = row.paused_until;
    breaker.last_error.clone_from(&row.last_error);
    breaker.last_error_at = row.last_error_at;
    breaker.last_success_at = row.last_success_at;
    breaker.alert.clone_from(&row.alert);
    if phase != Phase::Closed && breaker.next_probe_at.is_none() {
        breaker.next_probe_at = Some(now);
    }
    if phase == Phase::CredentialsRefused && row.config_fingerprint != fingerprint {
        info!("[central] configuration changed since central refused the credentials: checking at once");
        breaker.next_probe_at = Some(now);
        // At once even if other instances (on the old configuration) scheduled it later.
        breaker.probe_requested = true;
    }
    breaker
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

    fn job(authorization: Option<&str>) -> JobRecord {
        let now = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        JobRecord {
            id: "01936b8e-8f3a-7c00-8000-000000000001".parse().unwrap(),
            event_id: "e1".into(),
            state: JobState::AwaitingAuthorization,
            office: "1502".into(),
            template: "ektp".into(),
            urgent: false,
            nik_masked: "1502**********01".into(),
            name: "HAMIDAH".into(),
            warnings: vec![],
            reason: String::new(),
            held_from: None,
            attempts: 3,
            next_attempt_at: None,
            authorization: authorization.map(str::to_owned),
            printer: None,
            printer_job_id: None,
            created_at: now,
            updated_at: now,
            version: 4,
            owner: None,
            lease_until: None,
        }
    }

    #[test]
    fn request_ids_are_stable_until_an_authorization_was_held() {
        let first = request_id(&job(None));
        assert_eq!(first, request_id(&job(None)), "retries reuse the id");
        let held = r#"{"authorization_id":"a1","nik":"x","enrollment_id":"e1","issued_at":"","expires_at":"","key_id":"","signature":""}"#;
        let second = request_id(&job(Some(held)));
        assert_ne!(first, second, "asking again after an authorization is a new request");
        assert_eq!(second, request_id(&job(Some(held))));
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!(human_duration(Duration::from_secs(7 * 86_400)), "7 d");
        assert_eq!(human_duration(Duration::from_secs(7_200)), "2 h");
        assert_eq!(human_duration(Duration::from_secs(90)), "90 s");
    }
}
