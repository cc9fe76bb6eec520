//! The journal's writer: one task per process through which the stages' writes pass, so that
//! the writes of many jobs share one transaction (group commit).
//!
//! Callers hand a [`Write`] over and wait for its answer, which comes only after the commit
//! that made it durable (on SQLite, `synchronous = FULL`: on disk). While one batch commits,
//! the next gathers: the busier the spooler, the more jobs share a flush. A write that finds
//! its job moved by someone else (a conflict) changes nothing and does not disturb the others
//! of its batch; a database error rolls the batch back, and its writes are then tried once
//! each in a transaction of their own, so one bad write fails alone.
//!
//! After each commit the stages that have new work are woken ([`StageWakers`]).

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use sqlx::{AnyConnection, AnyPool, Row};
use tokio::sync::{mpsc, oneshot, Mutex, Notify};
use tracing::{debug, info, warn};

use super::printing::{apply_card_sent, apply_settle_cards, apply_settle_latest, LatestCard, OwnedCard};
use super::records::OutboxMessage;
use super::{millis, outbox_body, parse_job_id, why_unmatched, Admission, JournalError, Step};
use crate::domain::job::{Actor, JobId, JobState};
use crate::domain::nik::redact_niks;
use crate::domain::status::StatusEvent;

/// Writes in one transaction at most; a bound on how long the first caller of a batch waits.
const MAX_BATCH: usize = 512;

/// Wakes each stage when a commit gave it new work, so that stages wait on these rather than
/// poll the journal. One waiter per stage per process: a wake while nobody waits is kept.
#[derive(Debug, Default)]
pub struct StageWakers {
    /// Jobs entered `awaiting_authorization`.
    pub authorize: Notify,
    /// Jobs entered `authorized`: cards to draw.
    pub render: Notify,
    /// Jobs entered `rendered`: cards for the printers.
    pub print: Notify,
    /// Status events were written to the outbox.
    pub outbox: Notify,
}

impl StageWakers {
    pub(super) fn wake(&self, stages: Stages) {
        if stages.authorize {
            self.authorize.notify_one();
        }
        if stages.render {
            self.render.notify_one();
        }
        if stages.print {
            self.print.notify_one();
        }
        if stages.outbox {
            self.outbox.notify_one();
        }
    }
}

/// Which stages a commit gave work to. On PostgreSQL it travels to the other instances as the
/// payload of a notification on [`NOTIFY_CHANNEL`] (`authorize,render,print,outbox`).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
#[allow(clippy::struct_excessive_bools)] // one flag per stage, a set and nothing more
pub(super) struct Stages {
    authorize: bool,
    render: bool,
    print: bool,
    outbox: bool,
}

/// The PostgreSQL notification channel on which commits wake the other instances' stages.
pub(super) const NOTIFY_CHANNEL: &str = "cardspool_work";

impl Stages {
    pub(super) const ALL: Stages = Stages { authorize: true, render: true, print: true, outbox: true };

    fn after_step(to: JobState, status: bool) -> Stages {
        Stages {
            authorize: matches!(to, JobState::Received | JobState::AwaitingAuthorization),
            render: to == JobState::Authorized,
            print: to == JobState::Rendered,
            outbox: status,
        }
    }

    /// The stages a committed write gives work to.
    fn of(write: &Write, written: &Written) -> Stages {
        match (write, written) {
            (Write::Admit { .. }, Written::Admitted(admissions))
                if admissions.iter().any(|admission| matches!(admission, Admission::Admitted(_))) =>
            {
                Stages { authorize: true, outbox: true, ..Stages::default() }
            }
            (Write::Transition { step, .. } | Write::SettleLatest { step: Some(step), .. }, _)
            | (Write::Settle { then: Some(step), .. }, Written::Stepped(Ok(()))) => {
                Stages::after_step(step.to, StatusEvent::for_step(Some(step.from), step.to).is_some())
            }
            _ => Stages::default(),
        }
    }

    fn union(self, other: Stages) -> Stages {
        Stages {
            authorize: self.authorize || other.authorize,
            render: self.render || other.render,
            print: self.print || other.print,
            outbox: self.outbox || other.outbox,
        }
    }

    fn is_empty(self) -> bool {
        self == Stages::default()
    }

    pub(super) fn encode(self) -> String {
        let names =
            [(self.authorize, "authorize"), (self.render, "render"), (self.print, "print"), (self.outbox, "outbox")];
        names.iter().filter(|(on, _)| *on).map(|(_, name)| *name).collect::<Vec<_>>().join(",")
    }

    pub(super) fn decode(payload: &str) -> Stages {
        let has = |name| payload.split(',').any(|part| part == name);
        // `dispatch`: both, as an instance of an earlier version says it during an upgrade.
        Stages {
            authorize: has("authorize"),
            render: has("render") || has("dispatch"),
            print: has("print") || has("dispatch"),
            outbox: has("outbox"),
        }
    }
}

/// What the writer did since the process started, for `/metrics` (commits per card is a bar of
/// docs/performance.md).
#[derive(Debug, Default)]
pub struct WriterStats {
    /// Transactions committed.
    pub commits: AtomicU64,
    /// Writes answered (each a caller's admission batch, step, ledger line or published mark).
    pub writes: AtomicU64,
}

/// A new job's row, as admission writes it.
#[derive(Debug, Clone)]
pub(super) struct AdmitRow {
    pub job_id: JobId,
    pub event_id: String,
    pub office: String,
    pub template: String,
    pub urgent: bool,
    pub nik_masked: String,
    pub nik: String,
    pub card_digest: String,
    pub name: String,
    pub warnings: String,
    pub payload: String,
    pub reason: String,
}

/// One write, as the stages ask it.
#[derive(Debug, Clone)]
pub(super) enum Write {
    /// New jobs, each exactly once per event id.
    Admit { jobs: Vec<AdmitRow>, at: DateTime<Utc> },
    /// One step of one job, checked against its current state.
    Transition { job_id: JobId, step: Step },
    /// A printer took a job's card: its id on the job and a `sent` ledger line.
    CardSent { job_id: JobId, card: OwnedCard },
    /// A card's ledger line settled, and the job's step that goes with it (same transaction).
    Settle { job_id: JobId, card: OwnedCard, outcome: super::CardOutcome, reason: String, then: Option<Step> },
    /// Status events confirmed by the broker.
    Published { ids: Vec<String>, at: DateTime<Utc> },
    /// Up to `limit` jobs in `state` due at `now` claimed by `owner` until `until`: those
    /// nobody holds, `owner` holds, or whose claim expired; with `of_templates`, only jobs of
    /// those templates, taken template by template in the order given until `limit` is
    /// reached. `skip_locked` on PostgreSQL.
    ClaimDue {
        state: JobState,
        owner: String,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
        limit: u32,
        of_templates: Option<Vec<String>>,
        skip_locked: bool,
    },
    /// `owner`'s claims on `ids` given up (work it took and will not do now), unless the jobs
    /// moved meanwhile (a step ends a claim anyway).
    Release { owner: String, ids: Vec<JobId> },
    /// A job left in `state` to be tried again at `until` (a passing fault: the journal, a
    /// full disk), with `reason` for staff; its claim given up. No step, so no audit entry for
    /// every try; nothing if the job moved meanwhile.
    Defer { job_id: JobId, state: JobState, until: DateTime<Utc>, reason: String, at: DateTime<Utc> },
    /// A job's latest card line settled, after the job's step when there is one (same
    /// transaction; a refused step writes nothing).
    SettleLatest { job_id: JobId, step: Option<Step>, settle: LatestCard },
    /// The leases of `owner`'s `printing` jobs among `ids` extended to `until`.
    RenewLeases { owner: String, ids: Vec<JobId>, until: DateTime<Utc> },
    /// A `printing` job taken by `owner` until `until`: when it is `owner`'s already, has no
    /// owner, or its lease expired before `now`.
    ClaimPrinting { job_id: JobId, owner: String, until: DateTime<Utc>, now: DateTime<Utc> },
    /// Up to `limit` unpublished status events claimed by `owner` until `until`: those nobody
    /// holds, `owner` holds, or whose claim expired before `now`. `skip_locked` on PostgreSQL,
    /// where instances claim side by side.
    ClaimOutbox { owner: String, until: DateTime<Utc>, now: DateTime<Utc>, limit: u32, skip_locked: bool },
}

impl Write {
    /// Masks any NIK quoted in the write's free text (a staff reason, central's denial), so no
    /// full NIK reaches the audit trail, the outbox (upstream) or the writer's log line.
    fn redact_niks(&mut self) {
        fn redact(text: &mut String) {
            if let Cow::Owned(masked) = redact_niks(text) {
                *text = masked;
            }
        }
        fn redact_step(step: &mut Step) {
            redact(&mut step.reason);
            if let Some(upstream) = &mut step.upstream_reason {
                redact(upstream);
            }
        }
        match self {
            Write::Transition { step, .. } | Write::SettleLatest { step: Some(step), .. } => redact_step(step),
            Write::Settle { reason, then, .. } => {
                redact(reason);
                then.iter_mut().for_each(redact_step);
            }
            Write::Defer { reason, .. } => redact(reason),
            _ => {}
        }
        if let Write::SettleLatest { settle, .. } = self {
            redact(&mut settle.reason);
        }
    }
}

/// What a write did, for its caller.
#[derive(Debug)]
pub(super) enum Written {
    Admitted(Vec<Admission>),
    /// A step taken (`Ok`) or refused because the job had moved (`Err`); the ledger part of a
    /// [`Write::Settle`] stands either way.
    Stepped(Result<(), JournalError>),
    /// Whether a claim was granted.
    Claimed(bool),
    /// Whether a card line was found to settle.
    Settled(bool),
    Jobs(Vec<super::JobRecord>),
    Outbox(Vec<OutboxMessage>),
    Done,
}

struct Request {
    write: Write,
    reply: oneshot::Sender<Result<Written, JournalError>>,
}

/// The handle the journal keeps to its writer task.
#[derive(Debug, Clone)]
pub(super) struct Writer {
    requests: mpsc::Sender<Request>,
}

impl Writer {
    /// Starts the writer task on the current runtime. It ends when every handle is dropped.
    /// `notify_across`: tell the other instances sharing the journal which stages have work
    /// (PostgreSQL's NOTIFY, delivered at commit).
    pub(super) fn start(
        pool: AnyPool,
        gate: Option<Arc<Mutex<()>>>,
        wakers: Arc<StageWakers>,
        stats: Arc<WriterStats>,
        notify_across: bool,
    ) -> Writer {
        let (requests, inbox) = mpsc::channel(4 * MAX_BATCH);
        tokio::spawn(run(pool, gate, wakers, stats, notify_across, inbox));
        Writer { requests }
    }

    /// Hands `write` to the writer and waits for its answer, after the commit.
    pub(super) async fn write(&self, mut write: Write) -> Result<Written, JournalError> {
        write.redact_niks();
        let (reply, answer) = oneshot::channel();
        self.requests.send(Request { write, reply }).await.map_err(|_| JournalError::WriterStopped)?;
        answer.await.map_err(|_| JournalError::WriterStopped)?
    }
}

async fn run(
    pool: AnyPool,
    gate: Option<Arc<Mutex<()>>>,
    wakers: Arc<StageWakers>,
    stats: Arc<WriterStats>,
    notify_across: bool,
    mut inbox: mpsc::Receiver<Request>,
) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while inbox.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let gate_held = match &gate {
            Some(gate) => Some(gate.lock().await),
            None => None,
        };
        let writes: Vec<&Write> = batch.iter().map(|request| &request.write).collect();
        let outcomes = match commit_together(&pool, &writes, notify_across).await {
            Ok(outcomes) => {
                stats.commits.fetch_add(1, Ordering::Relaxed);
                outcomes
            }
            Err(error) => {
                warn!(%error, writes = writes.len(), "a group commit failed; trying its writes one by one");
                let mut outcomes = Vec::with_capacity(writes.len());
                for write in &writes {
                    let alone = commit_together(&pool, std::slice::from_ref(write), notify_across).await;
                    stats.commits.fetch_add(u64::from(alone.is_ok()), Ordering::Relaxed);
                    outcomes.push(alone.and_then(|mut one| one.pop().expect("one outcome per write")));
                }
                outcomes
            }
        };
        drop(gate_held);
        stats.writes.fetch_add(batch.len() as u64, Ordering::Relaxed);
        for (request, outcome) in batch.drain(..).zip(outcomes) {
            if let Ok(written) = &outcome {
                announce(&request.write, written, &wakers);
            }
            // A caller that stopped waiting (shutdown) no longer needs the answer.
            let _ = request.reply.send(outcome);
        }
    }
    debug!("journal writer stopped");
}

/// Runs `writes` in one transaction. `Err` when the transaction as a whole failed (then none
/// of them is written); otherwise each write's own outcome.
async fn commit_together(
    pool: &AnyPool,
    writes: &[&Write],
    notify_across: bool,
) -> Result<Vec<Result<Written, JournalError>>, JournalError> {
    let mut tx = pool.begin().await?;
    let mut outcomes = Vec::with_capacity(writes.len());
    let mut stages = Stages::default();
    // The audit entries and status events of consecutive steps, written together before any
    // other write and before the commit: two statements for a run of steps instead of two
    // for each of them.
    let mut trail = Trail::default();
    let mut next = 0;
    while next < writes.len() {
        // A run of steps of distinct jobs is one statement, whatever its length: each statement
        // is a hop to SQLite's thread or a round trip to PostgreSQL, and the writer, which every
        // stage waits for, spent most of its time on those hops with a statement per step.
        let run = steps_run(&writes[next..]);
        let settles = if run.is_empty() { settles_run(&writes[next..]) } else { Vec::new() };
        let outcomes_of_run: Vec<Result<Written, JournalError>> = if run.len() > 1 {
            update_jobs(&mut tx, &run, &mut trail).await?.into_iter().map(|step| step.map(|()| Written::Done)).collect()
        } else if settles.len() > 1 {
            settle_together(&mut tx, &settles, &mut trail).await?
        } else {
            if !matches!(writes[next], Write::Transition { .. }) {
                trail.write(&mut tx).await?;
            }
            vec![apply(&mut tx, writes[next], &mut trail).await]
        };
        for (write, outcome) in writes[next..].iter().zip(outcomes_of_run) {
            next += 1;
            match outcome {
                // A conflict or an illegal step writes nothing: the others go on.
                Err(error @ (JournalError::Conflict { .. } | JournalError::NotFound(_) | JournalError::Illegal(_))) => {
                    outcomes.push(Err(error));
                }
                Err(error) => return Err(error),
                Ok(written) => {
                    stages = stages.union(Stages::of(write, &written));
                    outcomes.push(Ok(written));
                }
            }
        }
    }
    trail.write(&mut tx).await?;
    if notify_across && !stages.is_empty() {
        // Delivered to the listeners at commit, and only if it commits.
        sqlx::query("SELECT pg_notify($1, $2)").bind(NOTIFY_CHANNEL).bind(stages.encode()).execute(&mut *tx).await?;
    }
    tx.commit().await?;
    Ok(outcomes)
}

/// Runs one write; a step's audit entry and status event go to `trail` (see [`commit_together`]).
async fn apply(connection: &mut AnyConnection, write: &Write, trail: &mut Trail) -> Result<Written, JournalError> {
    match write {
        Write::Admit { jobs, at } => admit(connection, jobs, *at).await.map(Written::Admitted),
        Write::Transition { job_id, step } => {
            update_job(connection, *job_id, step, trail).await.map(|()| Written::Done)
        }
        Write::CardSent { job_id, card } => apply_card_sent(connection, *job_id, card).await.map(|()| Written::Done),
        Write::Settle { job_id, card, outcome, reason, then } => {
            let settle = SettleOf { job_id: *job_id, card, outcome: *outcome, reason, then: then.as_ref() };
            settle_together(connection, &[settle], trail).await?.pop().expect("one outcome for one settlement")
        }
        Write::Published { ids, at } => {
            for chunk in ids.chunks(ROWS_PER_STATEMENT) {
                let mut placeholders = Placeholders::for_connection(connection);
                let sql = format!(
                    "UPDATE outbox SET published_at = {} WHERE id IN ({})",
                    placeholders.one(),
                    placeholders.list(chunk.len())
                );
                let mut query = sqlx::query(&sql).persistent(false).bind(millis(*at));
                for id in chunk {
                    query = query.bind(id.as_str());
                }
                query.execute(&mut *connection).await?;
            }
            Ok(Written::Done)
        }
        Write::ClaimDue { state, owner, now, until, limit, of_templates, skip_locked } => {
            let mut rows = Vec::new();
            match of_templates {
                None => {
                    rows = sqlx::query(&claim_due_sql(*skip_locked))
                        .bind(owner.as_str())
                        .bind(millis(*until))
                        .bind(state.as_str())
                        .bind(millis(*now))
                        .bind(i64::from(*limit))
                        .fetch_all(&mut *connection)
                        .await?;
                }
                Some(templates) => {
                    let sql = claim_due_of_template_sql(*state, *skip_locked);
                    for template in templates {
                        let left = i64::from(*limit) - rows.len() as i64;
                        if left <= 0 {
                            break;
                        }
                        rows.extend(
                            sqlx::query(&sql)
                                .bind(owner.as_str())
                                .bind(millis(*until))
                                .bind(template.as_str())
                                .bind(millis(*now))
                                .bind(left)
                                .fetch_all(&mut *connection)
                                .await?,
                        );
                    }
                }
            }
            let mut jobs = rows.iter().map(super::JobRecord::from_row).collect::<Result<Vec<_>, _>>()?;
            // RETURNING keeps no order: urgent first, then oldest due, as `Journal::due`.
            jobs.sort_by_key(|job| {
                (!job.urgent, job.next_attempt_at.map_or(0, |at| at.timestamp_millis()), job.created_at)
            });
            Ok(Written::Jobs(jobs))
        }
        Write::Release { owner, ids } => {
            for chunk in ids.chunks(ROWS_PER_STATEMENT) {
                let mut placeholders = Placeholders::for_connection(connection);
                let sql = format!(
                    "UPDATE jobs SET owner = NULL, lease_until = NULL WHERE owner = {} AND state <> 'printing' AND id IN ({})",
                    placeholders.one(),
                    placeholders.list(chunk.len())
                );
                let mut query = sqlx::query(&sql).persistent(false).bind(owner.as_str());
                for id in chunk {
                    query = query.bind(id.to_string());
                }
                query.execute(&mut *connection).await?;
            }
            Ok(Written::Done)
        }
        Write::Defer { job_id, state, until, reason, at } => {
            sqlx::query(
                "UPDATE jobs SET next_attempt_at = $1, reason = $2, updated_at = $3, owner = NULL, lease_until = NULL
                 WHERE id = $4 AND state = $5",
            )
            .bind(millis(*until))
            .bind(reason.as_str())
            .bind(millis(*at))
            .bind(job_id.to_string())
            .bind(state.as_str())
            .execute(&mut *connection)
            .await?;
            Ok(Written::Done)
        }
        Write::SettleLatest { job_id, step, settle } => {
            if let Some(step) = step {
                step_job(connection, *job_id, step).await?;
            }
            apply_settle_latest(connection, *job_id, settle).await.map(Written::Settled)
        }
        Write::RenewLeases { owner, ids, until } => {
            for chunk in ids.chunks(ROWS_PER_STATEMENT) {
                let mut placeholders = Placeholders::for_connection(connection);
                let sql = format!(
                    "UPDATE jobs SET lease_until = {} WHERE owner = {} AND state = {} AND id IN ({})",
                    placeholders.one(),
                    placeholders.one(),
                    placeholders.one(),
                    placeholders.list(chunk.len())
                );
                let mut query = sqlx::query(&sql)
                    .persistent(false)
                    .bind(millis(*until))
                    .bind(owner.as_str())
                    .bind(JobState::Printing.as_str());
                for id in chunk {
                    query = query.bind(id.to_string());
                }
                query.execute(&mut *connection).await?;
            }
            Ok(Written::Done)
        }
        Write::ClaimPrinting { job_id, owner, until, now } => {
            let claimed = sqlx::query(
                "UPDATE jobs SET owner = $1, lease_until = $2
                 WHERE id = $3 AND state = $4 AND (owner = $1 OR owner IS NULL OR lease_until IS NULL OR lease_until < $5)",
            )
            .bind(owner.as_str())
            .bind(millis(*until))
            .bind(job_id.to_string())
            .bind(JobState::Printing.as_str())
            .bind(millis(*now))
            .execute(&mut *connection)
            .await?;
            Ok(Written::Claimed(claimed.rows_affected() == 1))
        }
        Write::ClaimOutbox { owner, until, now, limit, skip_locked } => {
            let lock = if *skip_locked { " FOR UPDATE SKIP LOCKED" } else { "" };
            let rows = sqlx::query(&format!(
                "UPDATE outbox SET claimed_by = $1, claim_until = $2 WHERE id IN (
                     SELECT id FROM outbox
                     WHERE published_at IS NULL AND (claimed_by IS NULL OR claimed_by = $1 OR claim_until < $3)
                     ORDER BY id LIMIT $4{lock})
                 RETURNING id, routing_key, body"
            ))
            .bind(owner.as_str())
            .bind(millis(*until))
            .bind(millis(*now))
            .bind(i64::from(*limit))
            .fetch_all(&mut *connection)
            .await?;
            let mut claimed = rows.iter().map(OutboxMessage::from_row).collect::<Result<Vec<_>, _>>()?;
            // RETURNING keeps no order: publish oldest first.
            claimed.sort_by(|a, b| a.id.cmp(&b.id));
            Ok(Written::Outbox(claimed))
        }
    }
}

/// The log line and the wake-ups of a committed write: the one place every state change
/// passes, written once, after the commit made it true.
fn announce(write: &Write, written: &Written, wakers: &StageWakers) {
    if let (Write::Transition { job_id, step } | Write::SettleLatest { job_id, step: Some(step), .. }, _)
    | (Write::Settle { job_id, then: Some(step), .. }, Written::Stepped(Ok(()))) = (write, written)
    {
        info!(%job_id, from = %step.from, to = %step.to, actor = %step.actor, reason = %step.reason, "job state changed");
    }
    wakers.wake(Stages::of(write, written));
}

/// Listens, for as long as `stop` is not cancelled, to the commits of the other instances
/// sharing the PostgreSQL journal at `url`, and wakes this process's stages as they say.
/// Reconnects after any error; a notification missed meanwhile is made up for by waking every
/// stage once connected again (and the stages' slow polls remain a safety net).
pub(super) async fn listen_across_instances(
    url: String,
    wakers: Arc<StageWakers>,
    stop: tokio_util::sync::CancellationToken,
) {
    let mut pause = std::time::Duration::from_millis(500);
    while !stop.is_cancelled() {
        let listening = async {
            let mut listener = sqlx::postgres::PgListener::connect(&url).await?;
            listener.listen(NOTIFY_CHANNEL).await?;
            wakers.wake(Stages::ALL);
            loop {
                let notification = listener.recv().await?;
                wakers.wake(Stages::decode(notification.payload()));
            }
            #[allow(unreachable_code)]
            Ok::<(), sqlx::Error>(())
        };
        tokio::select! {
            () = stop.cancelled() => return,
            result = listening => {
                if let Err(error) = result {
                    warn!(%error, retry_in_ms = pause.as_millis() as u64, "not hearing the other instances' commits; reconnecting");
                }
            }
        }
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(pause) => {}
        }
        pause = (pause * 2).min(std::time::Duration::from_secs(30));
    }
}

/// Rows per multi-row statement: well within both backends' limit on bound values (SQLite's
/// 32,766, PostgreSQL's 65,535) at sixteen values a row.
pub(super) const ROWS_PER_STATEMENT: usize = 500;

/// Placeholders for a statement whose values are bound once each, in the order they appear.
/// PostgreSQL gets `$1, $2, ...`; SQLite gets anonymous `?`: SQLite finds a named (`$N`)
/// parameter by a linear search, once when parsing and once more when sqlx binds it, so a
/// statement of n named values costs O(n²) (measured: 5% of the spooler's CPU at intake, batches
/// of 100 events at 16 values each). Such statements are not kept prepared (`persistent(false)`):
/// kept, one per batch size, they filled sqlx's cache of prepared statements (100 a connection)
/// with programs of up to hundreds of KB each, 28 MB of the spooler's heap after 20,000 events
/// (heaptrack), growing with the backlog.
pub(super) struct Placeholders {
    anonymous: bool,
    bound: usize,
}

impl Placeholders {
    pub(super) fn for_connection(connection: &AnyConnection) -> Placeholders {
        Placeholders { anonymous: connection.backend_name() == "SQLite", bound: 0 }
    }

    pub(super) fn for_backend(backend: super::Backend) -> Placeholders {
        Placeholders { anonymous: backend == super::Backend::Sqlite, bound: 0 }
    }

    /// The next value's placeholder.
    fn one(&mut self) -> String {
        self.bound += 1;
        if self.anonymous {
            "?".to_owned()
        } else {
            format!("${}", self.bound)
        }
    }

    /// `count` values: `a, b, c`.
    pub(super) fn list(&mut self, count: usize) -> String {
        (0..count).map(|_| self.one()).collect::<Vec<_>>().join(", ")
    }

    /// `rows` groups of `width` values: `(a, b), (c, d), ...`.
    pub(super) fn groups(&mut self, rows: usize, width: usize) -> String {
        (0..rows).map(|_| format!("({})", self.list(width))).collect::<Vec<_>>().join(", ")
    }
}

/// New jobs with set-based statements: a handful of statements for the whole batch, whatever its
/// size (each statement is a round trip to PostgreSQL, and a hop to SQLite's thread).
async fn admit(
    connection: &mut AnyConnection,
    jobs: &[AdmitRow],
    at: DateTime<Utc>,
) -> Result<Vec<Admission>, JournalError> {
    let mut admitted_rows = 0;
    for chunk in jobs.chunks(ROWS_PER_STATEMENT) {
        let sql = format!(
            "INSERT INTO jobs (id, event_id, state, office, template, priority, nik_masked, nik, card_digest, name,
                               warnings, reason, created_at, updated_at, attempts, version)
             VALUES {}
             ON CONFLICT (event_id) DO NOTHING",
            Placeholders::for_connection(connection).groups(chunk.len(), 16)
        );
        let mut query = sqlx::query(&sql).persistent(false);
        for job in chunk {
            query = query
                .bind(job.job_id.to_string())
                .bind(&job.event_id)
                .bind(JobState::AwaitingAuthorization.as_str())
                .bind(&job.office)
                .bind(&job.template)
                .bind(i64::from(job.urgent))
                .bind(&job.nik_masked)
                .bind(&job.nik)
                .bind(&job.card_digest)
                .bind(&job.name)
                .bind(&job.warnings)
                .bind(&job.reason)
                .bind(millis(at))
                .bind(millis(at))
                .bind(0_i64)
                .bind(1_i64);
        }
        admitted_rows += query.execute(&mut *connection).await?.rows_affected();
    }
    // Usually every event is new, and nothing needs looking up (no row per job comes back:
    // each would be a hop from SQLite's thread). Otherwise the job of each event decides:
    // journaled before (a redelivery) or earlier in this very batch, it is not this one.
    let all_new = usize::try_from(admitted_rows).is_ok_and(|rows| rows == jobs.len());
    let mut existing = HashMap::new();
    let to_look_up: &[AdmitRow] = if all_new { &[] } else { jobs };
    for chunk in to_look_up.chunks(ROWS_PER_STATEMENT) {
        let sql = format!(
            "SELECT id, event_id FROM jobs WHERE event_id IN ({})",
            Placeholders::for_connection(connection).list(chunk.len())
        );
        let mut query = sqlx::query(&sql).persistent(false);
        for job in chunk {
            query = query.bind(&job.event_id);
        }
        for row in query.fetch_all(&mut *connection).await? {
            existing.insert(row.try_get::<String, _>("event_id")?, parse_job_id(&row.try_get::<String, _>("id")?)?);
        }
    }
    let is_new = |job: &AdmitRow| all_new || existing.get(&job.event_id) == Some(&job.job_id);
    let new: Vec<&AdmitRow> = jobs.iter().filter(|job| is_new(job)).collect();
    for chunk in new.chunks(ROWS_PER_STATEMENT) {
        let sql = format!(
            "INSERT INTO job_payloads (job_id, payload) VALUES {}",
            Placeholders::for_connection(connection).groups(chunk.len(), 2)
        );
        let mut query = sqlx::query(&sql).persistent(false);
        for job in chunk {
            query = query.bind(job.job_id.to_string()).bind(&job.payload);
        }
        query.execute(&mut *connection).await?;

        // The audit trail keeps the event's arrival; the job rests waiting for central at once.
        let mut trail = Trail::default();
        for job in chunk {
            trail.transitions.push(TrailEntry {
                job_id: job.job_id,
                seq: 1,
                from: None,
                to: JobState::AwaitingAuthorization,
                reason: job.reason.clone(),
                actor: Actor::System.encode(),
                at,
            });
            for status in [StatusEvent::Queued, StatusEvent::AwaitingAuthorization] {
                trail.statuses.push(OutboxRow::new(status, &job.event_id, job.job_id, &job.reason, at));
            }
        }
        trail.write(connection).await?;
    }
    jobs.iter()
        .map(|job| {
            if is_new(job) {
                Ok(Admission::Admitted(job.job_id))
            } else {
                existing
                    .get(&job.event_id)
                    .map(|id| Admission::Duplicate(*id))
                    .ok_or_else(|| JournalError::Corrupt(format!("event {} neither admitted nor found", job.event_id)))
            }
        })
        .collect()
}

/// One step of one job: the state check and the change are one statement, then its audit
/// entry and status event.
async fn step_job(connection: &mut AnyConnection, job_id: JobId, step: &Step) -> Result<(), JournalError> {
    let mut trail = Trail::default();
    update_job(connection, job_id, step, &mut trail).await?;
    trail.write(connection).await
}

/// Audit entries and status events of steps taken, not yet written.
#[derive(Default)]
struct Trail {
    transitions: Vec<TrailEntry>,
    statuses: Vec<OutboxRow>,
}

/// A status event as the outbox stores it.
struct OutboxRow {
    routing_key: &'static str,
    body: String,
    at: DateTime<Utc>,
}

impl OutboxRow {
    fn new(status: StatusEvent, event_id: &str, job_id: JobId, reason: &str, at: DateTime<Utc>) -> OutboxRow {
        OutboxRow { routing_key: status.routing_key(), body: outbox_body(status, event_id, job_id, reason, at), at }
    }
}

struct TrailEntry {
    job_id: JobId,
    seq: i64,
    /// `None` for the event's arrival.
    from: Option<JobState>,
    to: JobState,
    reason: String,
    actor: String,
    at: DateTime<Utc>,
}

impl Trail {
    /// A step taken: its audit entry (`version` is the job's new version, the entry's
    /// sequence number) and, where upstream cares, its status event.
    fn push_step(&mut self, job_id: JobId, step: &Step, version: i64, event_id: &str) {
        self.transitions.push(TrailEntry {
            job_id,
            seq: version,
            from: Some(step.from),
            to: step.to,
            reason: step.reason.clone(),
            actor: step.actor.encode(),
            at: step.at,
        });
        if let Some(status) = StatusEvent::for_step(Some(step.from), step.to) {
            let reason = step.upstream_reason.as_deref().unwrap_or(&step.reason);
            self.statuses.push(OutboxRow::new(status, event_id, job_id, reason, step.at));
        }
    }

    /// Writes what it holds with multi-row statements, and empties it.
    async fn write(&mut self, connection: &mut AnyConnection) -> Result<(), JournalError> {
        for chunk in self.transitions.chunks(ROWS_PER_STATEMENT) {
            let sql = format!(
                "INSERT INTO job_transitions (job_id, seq, at, from_state, to_state, reason, actor) VALUES {}",
                Placeholders::for_connection(connection).groups(chunk.len(), 7)
            );
            let mut query = sqlx::query(&sql).persistent(false);
            for entry in chunk {
                query = query
                    .bind(entry.job_id.to_string())
                    .bind(entry.seq)
                    .bind(millis(entry.at))
                    .bind(entry.from.map(JobState::as_str))
                    .bind(entry.to.as_str())
                    .bind(entry.reason.as_str())
                    .bind(entry.actor.as_str());
            }
            query.execute(&mut *connection).await?;
        }
        for chunk in self.statuses.chunks(ROWS_PER_STATEMENT) {
            let sql = format!(
                "INSERT INTO outbox (id, created_at, routing_key, body) VALUES {}",
                Placeholders::for_connection(connection).groups(chunk.len(), 4)
            );
            let mut query = sqlx::query(&sql).persistent(false);
            for row in chunk {
                query = query
                    .bind(uuid::Uuid::now_v7().to_string())
                    .bind(millis(row.at))
                    .bind(row.routing_key)
                    .bind(row.body.as_str());
            }
            query.execute(&mut *connection).await?;
        }
        self.transitions.clear();
        self.statuses.clear();
        Ok(())
    }
}

/// A job's step as one statement (the state check and the change); its audit entry and status
/// event go to `trail`.
async fn update_job(
    connection: &mut AnyConnection,
    job_id: JobId,
    step: &Step,
    trail: &mut Trail,
) -> Result<(), JournalError> {
    update_jobs(connection, &[(job_id, step)], trail).await?.pop().expect("one outcome for one step")
}

/// The steps at the head of `writes`, up to the first write that is not a step or whose job
/// already has a step among them (one statement updates a job once).
fn steps_run<'a>(writes: &[&'a Write]) -> Vec<(JobId, &'a Step)> {
    let mut jobs = std::collections::HashSet::new();
    writes
        .iter()
        .map_while(|write| match write {
            Write::Transition { job_id, step } if jobs.insert(*job_id) => Some((*job_id, step)),
            _ => None,
        })
        .collect()
}

/// A [`Write::Settle`], borrowed.
struct SettleOf<'a> {
    job_id: JobId,
    card: &'a OwnedCard,
    outcome: super::CardOutcome,
    reason: &'a str,
    then: Option<&'a Step>,
}

/// The settles at the head of `writes`, up to the first other write or the second of a job.
fn settles_run<'a>(writes: &[&'a Write]) -> Vec<SettleOf<'a>> {
    let mut jobs = std::collections::HashSet::new();
    writes
        .iter()
        .map_while(|write| match write {
            Write::Settle { job_id, card, outcome, reason, then } if jobs.insert(*job_id) => {
                Some(SettleOf { job_id: *job_id, card, outcome: *outcome, reason, then: then.as_ref() })
            }
            _ => None,
        })
        .collect()
}

/// Settles of distinct jobs with a few statements for all: the cards' ledger lines, then the
/// jobs' steps (as [`apply`] does for one). Each write's outcome, in order.
async fn settle_together(
    connection: &mut AnyConnection,
    settles: &[SettleOf<'_>],
    trail: &mut Trail,
) -> Result<Vec<Result<Written, JournalError>>, JournalError> {
    let cards: Vec<_> =
        settles.iter().map(|settle| (settle.job_id, settle.card, settle.outcome, settle.reason)).collect();
    apply_settle_cards(connection, &cards).await?;
    let steps: Vec<(JobId, &Step)> =
        settles.iter().filter_map(|settle| settle.then.map(|step| (settle.job_id, step))).collect();
    let mut stepped = update_jobs(connection, &steps, trail).await?.into_iter();
    Ok(settles
        .iter()
        .map(|settle| match settle.then {
            None => Ok(Written::Done),
            Some(_) => match stepped.next().expect("one outcome per step") {
                Ok(()) => Ok(Written::Stepped(Ok(()))),
                // The ledger line stands: the card's fate is the printer's word.
                Err(error @ (JournalError::Conflict { .. } | JournalError::NotFound(_))) => {
                    Ok(Written::Stepped(Err(error)))
                }
                Err(error) => Err(error),
            },
        })
        .collect())
}

/// The values each step binds in [`update_jobs`], in the order of `v.column1` ...
const STEP_VALUES: usize = 23;

/// Steps of distinct jobs, each checked against the state it expects, with one statement per
/// few hundred: what [`update_job`] does for one. Each step's outcome, in order; `Err` when the
/// statement failed as a whole.
async fn update_jobs(
    connection: &mut AnyConnection,
    steps: &[(JobId, &Step)],
    trail: &mut Trail,
) -> Result<Vec<Result<(), JournalError>>, JournalError> {
    let mut outcomes: Vec<Option<Result<(), JournalError>>> = steps
        .iter()
        .map(|(_, step)| step.from.transition(step.to, &step.actor).err().map(|illegal| Err(illegal.into())))
        .collect();
    let legal: Vec<usize> = (0..steps.len()).filter(|&index| outcomes[index].is_none()).collect();
    let mut updated: HashMap<String, (i64, String)> = HashMap::with_capacity(legal.len());
    for chunk in legal.chunks(ROWS_PER_STATEMENT / 2) {
        let sql = format!(
            "UPDATE jobs SET state = v.column3, reason = v.column4, updated_at = v.column5, version = version + 1,
                attempts = COALESCE(v.column6, attempts),
                next_attempt_at = CASE WHEN v.column7 <> 0 THEN v.column8 ELSE next_attempt_at END,
                authorization_json = CASE WHEN v.column9 <> 0 THEN v.column10 ELSE authorization_json END,
                authorization_id = CASE WHEN v.column9 <> 0 THEN v.column11 ELSE authorization_id END,
                authorization_expires_at = CASE WHEN v.column9 <> 0 THEN v.column12 ELSE authorization_expires_at END,
                authorization_round = authorization_round + v.column13,
                printer = CASE WHEN v.column14 <> 0 THEN v.column15 ELSE printer END,
                printer_job_id = CASE WHEN v.column16 <> 0 THEN v.column17 ELSE printer_job_id END,
                held_from = CASE WHEN v.column18 <> 0 THEN v.column19 ELSE held_from END,
                owner = CASE WHEN v.column20 <> 0 THEN NULL WHEN v.column21 <> 0 THEN v.column22 ELSE owner END,
                lease_until = CASE WHEN v.column20 <> 0 THEN NULL WHEN v.column21 <> 0 THEN v.column23 ELSE lease_until END
             FROM (VALUES {}) AS v
             WHERE jobs.id = v.column1 AND jobs.state = v.column2
             RETURNING id, version, event_id",
            Placeholders::for_connection(connection).groups(chunk.len(), STEP_VALUES)
        );
        // One step's statement is always the same text, kept prepared; longer ones are not
        // (see `Placeholders`).
        let mut query = sqlx::query(&sql).persistent(chunk.len() == 1);
        for &index in chunk {
            let (job_id, step) = steps[index];
            let update = &step.update;
            let authorization = update.authorization.iter().flatten().next();
            query = query
                .bind(job_id.to_string())
                .bind(step.from.as_str())
                .bind(step.to.as_str())
                .bind(step.reason.as_str())
                .bind(millis(step.at))
                .bind(update.attempts)
                .bind(i64::from(update.next_attempt_at.is_some()))
                .bind(update.next_attempt_at.flatten().map(millis))
                .bind(i64::from(update.authorization.is_some()))
                .bind(authorization.map(|a| a.json.as_str()))
                .bind(authorization.map(|a| a.id.as_str()))
                .bind(authorization.map(|a| millis(a.expires_at)))
                .bind(i64::from(update.new_authorization_round))
                .bind(i64::from(update.printer.is_some()))
                .bind(update.printer.clone().flatten())
                .bind(i64::from(update.printer_job_id.is_some()))
                .bind(update.printer_job_id.flatten())
                .bind(i64::from(update.held_from.is_some()))
                .bind(update.held_from.flatten().map(JobState::as_str))
                // A job holds a lease only while it is on a printer.
                .bind(i64::from(step.to != JobState::Printing))
                .bind(i64::from(update.lease.is_some()))
                .bind(update.lease.as_ref().map(|(owner, _)| owner.as_str()))
                .bind(update.lease.as_ref().map(|(_, until)| millis(*until)));
        }
        for row in query.fetch_all(&mut *connection).await? {
            updated.insert(row.try_get("id")?, (row.try_get("version")?, row.try_get("event_id")?));
        }
    }
    for index in legal {
        let (job_id, step) = steps[index];
        let Some((version, event_id)) = updated.remove(&job_id.to_string()) else {
            outcomes[index] = Some(Err(why_unmatched(connection, job_id, step.from).await));
            continue;
        };
        trail.push_step(job_id, step, version, &event_id);
        outcomes[index] = Some(Ok(()));
    }
    Ok(outcomes.into_iter().map(|outcome| outcome.expect("every step has its outcome")).collect())
}

/// A job is due when its next attempt is not after now (or it has none): followed by the time.
/// Written with the expression `jobs_by_claim_order` (migration 0011) holds, so the index
/// answers it; `NULL OR <=` would not.
pub(super) const DUE_BY: &str = "COALESCE(next_attempt_at, 0) <=";
/// The order stages take due jobs in: urgent first, then the oldest due, then the oldest job;
/// the order of `jobs_by_claim_order`, so a query in it walks the index and sorts nothing.
pub(super) const CLAIM_ORDER: &str = "priority DESC, COALESCE(next_attempt_at, 0), created_at";

/// The claim of a stage's due jobs: `$1` owner, `$2` lease end, `$3` state, `$4` now, `$5` the
/// limit. It walks `jobs_by_claim_order` from its head and stops after its batch, so it costs
/// the same with 100 jobs waiting as with 100,000.
pub(super) fn claim_due_sql(skip_locked: bool) -> String {
    let lock = if skip_locked { " FOR UPDATE SKIP LOCKED" } else { "" };
    format!(
        "UPDATE jobs SET owner = $1, lease_until = $2 WHERE id IN (
             SELECT id FROM jobs
             WHERE state = $3 AND {DUE_BY} $4
                 AND (owner IS NULL OR owner = $1 OR lease_until IS NULL OR lease_until < $4)
             ORDER BY {CLAIM_ORDER} LIMIT $5{lock})
         RETURNING {}",
        super::records::JOB_COLUMNS
    )
}

/// The claim of one template's due jobs in `state`: `$1` owner, `$2` lease end, `$3` the
/// template, `$4` now, `$5` the limit (in the order they first appear: SQLite numbers `$N`
/// parameters so). The state is written into the text (it is one of
/// [`JobState`]'s names) so that, for `authorized`, both backends' planners see that the partial
/// index `jobs_authorized_by_template` (migration 0012) holds every row the claim may take, and
/// walk it from the template's head: the claim then costs the same however many jobs of other
/// templates wait before this one's in the claim order.
pub(super) fn claim_due_of_template_sql(state: JobState, skip_locked: bool) -> String {
    let lock = if skip_locked { " FOR UPDATE SKIP LOCKED" } else { "" };
    format!(
        "UPDATE jobs SET owner = $1, lease_until = $2 WHERE id IN (
             SELECT id FROM jobs
             WHERE state = '{}' AND template = $3 AND {DUE_BY} $4
                 AND (owner IS NULL OR owner = $1 OR lease_until IS NULL OR lease_until < $4)
             ORDER BY {CLAIM_ORDER} LIMIT $5{lock})
         RETURNING {}",
        state.as_str(),
        super::records::JOB_COLUMNS
    )
}
