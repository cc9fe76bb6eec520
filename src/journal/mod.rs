//! The journal: the system of record for every job's life, on SQLite (embedded, the default)
//! or PostgreSQL (when several spooler instances share the work), chosen by URL.
//!
//! One set of migrations (`migrations/`) serves both: the SQL here uses only what both accept,
//! through sqlx's `Any` driver. Every state change is one transaction that updates the job,
//! appends to the audit trail (`job_transitions`) and, where upstream cares, writes a status
//! event to the outbox. A transition names the state it expects the job to be in; when another
//! worker or instance moved the job first, the step fails with [`JournalError::Conflict`] and
//! changes nothing.
//!
//! Architecture invariant: the journal checks every step against the domain's state machine
//! ([`JobState::transition`]) before writing it.

mod central;
mod migrations;
mod printing;
mod records;
mod report;
mod retention;
mod staff;
mod stock;
mod writer;

use crate::i18n::Lang;
use crate::tr;
use std::collections::{BTreeMap, HashMap};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, Row};
use tokio::sync::Mutex;

use crate::domain::card_digest::card_digest;
use crate::domain::event::{EnrollmentEvent, Priority};
use crate::domain::job::{Actor, IllegalTransition, JobId, JobState};
use crate::domain::nik::redact_niks;

pub use crate::domain::status::StatusEvent;
pub use central::CentralBreakerRow;
pub use printing::{ledger_day, CardOutcome, DailyCardCount, LedgerEntry, NewCard};
pub use records::{JobRecord, JobUpdate, OutboxMessage, RejectionRecord, StoredAuthorization, TransitionRecord};
pub use staff::{JobFilter, JobPage, JobSearch, ListOrder, NikSearchRecord, StateOverview, MAX_PAGE};
pub use writer::{StageWakers, WriterStats};

use writer::{AdmitRow, Write, Writer, Written};

#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    #[error("cannot open the journal at {url}: {source}")]
    Open { url: String, source: sqlx::Error },
    #[error("cannot prepare the journal's directory or file {path}: {source}")]
    Directory { path: String, source: std::io::Error },
    #[error("journal migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error(
        "the journal was migrated by a newer cardspool (it has migration {applied}; this build knows \
         migrations up to {known}): run that build or a later one, or restore the journal's backup \
         from before the upgrade"
    )]
    MigratedByNewer { applied: i64, known: i64 },
    #[error("journal query failed: {0}")]
    Database(#[from] sqlx::Error),
    #[error(transparent)]
    Illegal(#[from] IllegalTransition),
    #[error("job {0} not found")]
    NotFound(JobId),
    #[error("job {job_id} is no longer {expected} (now {actual}): it was moved by someone else")]
    Conflict { job_id: JobId, expected: JobState, actual: JobState },
    #[error("journal row is corrupt: {0}")]
    Corrupt(String),
    #[error("the journal's writer has stopped (the spooler is shutting down)")]
    WriterStopped,
}

impl From<crate::domain::ledger::UnknownOutcome> for JournalError {
    fn from(unknown: crate::domain::ledger::UnknownOutcome) -> Self {
        JournalError::Corrupt(unknown.to_string())
    }
}

impl JournalError {
    /// Whether trying the same operation again later may succeed (a lost connection, a busy
    /// database, a pool timeout), as opposed to a final answer about the data.
    pub fn is_retryable(&self) -> bool {
        match self {
            JournalError::Open { .. } | JournalError::Directory { .. } => true,
            JournalError::Database(error) => !matches!(
                error,
                sqlx::Error::RowNotFound | sqlx::Error::ColumnDecode { .. } | sqlx::Error::TypeNotFound { .. }
            ),
            _ => false,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// What admitting an event did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// A new job, waiting for central's authorization.
    Admitted(JobId),
    /// The event id was already journaled: no second job.
    Duplicate(JobId),
}

impl Admission {
    pub fn job_id(self) -> JobId {
        match self {
            Admission::Admitted(id) | Admission::Duplicate(id) => id,
        }
    }
}

/// An event to take in as a job.
#[derive(Debug, Clone, Copy)]
pub struct NewJob<'a> {
    pub event: &'a EnrollmentEvent,
    /// The event as it arrived, kept for the later stages.
    pub payload: &'a [u8],
    pub template: &'a str,
}

/// What central's request names of a job's card.
#[derive(Clone, PartialEq, Eq)]
pub struct CardForCentral {
    /// The full NIK. Never logged (no `Debug`).
    pub nik: String,
    /// `domain::card_digest` of the card, computed at admission.
    pub card_digest: String,
}

impl CardForCentral {
    /// The card of a row with `nik` and `card_digest`; `None` when the journal holds either
    /// not (an older job whose event could not be read).
    fn of_row(row: &sqlx::any::AnyRow) -> Result<Option<CardForCentral>, JournalError> {
        let nik: Option<String> = row.try_get("nik")?;
        let card_digest: Option<String> = row.try_get("card_digest")?;
        Ok(nik.zip(card_digest).map(|(nik, card_digest)| CardForCentral { nik, card_digest }))
    }
}

/// A refused event, as recorded for staff: never the payload itself, only its hash and size.
#[derive(Debug, Clone)]
pub struct NewRejection<'a> {
    pub payload: &'a [u8],
    pub event_id: Option<String>,
    pub routing_key: String,
    pub reason: String,
}

/// One step of a job's life, as asked of [`Journal::transition`].
#[derive(Debug, Clone)]
pub struct Step {
    pub from: JobState,
    pub to: JobState,
    /// Why, for the audit trail.
    pub reason: String,
    /// Why, as upstream services read it in the status event, when that differs from `reason`:
    /// a staff step says that staff acted, not who (the audit trail keeps the name).
    pub upstream_reason: Option<String>,
    pub actor: Actor,
    pub at: DateTime<Utc>,
    pub update: JobUpdate,
}

impl Step {
    /// A step taken by the spooler itself.
    pub fn system(from: JobState, to: JobState, reason: impl Into<String>, at: DateTime<Utc>) -> Step {
        Step {
            from,
            to,
            reason: reason.into(),
            upstream_reason: None,
            actor: Actor::System,
            at,
            update: JobUpdate::default(),
        }
    }

    #[must_use]
    pub fn with(mut self, update: JobUpdate) -> Step {
        self.update = update;
        self
    }
}

#[derive(Clone)]
pub struct Journal {
    pool: AnyPool,
    backend: Backend,
    /// SQLite has one writer at a time; a write transaction that started as a reader fails
    /// with SQLITE_BUSY instead of waiting. Serialising our own writes here avoids that; on
    /// PostgreSQL there is no gate and the row checks settle races.
    write_gate: Option<Arc<Mutex<()>>>,
    /// The stages' writes, committed together (see [`writer`]).
    writer: Writer,
    wakers: Arc<StageWakers>,
    writer_stats: Arc<WriterStats>,
    /// Ends the listener to the other instances' commits (PostgreSQL).
    stop_listening: tokio_util::sync::CancellationToken,
}

impl std::fmt::Debug for Journal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Journal").field("backend", &self.backend).finish_non_exhaustive()
    }
}

/// The SQLite journal holds people's data: its directory is created 0700 (one that exists is
/// left as it is: it may be shared), the file 0600, created here before SQLite opens it so that
/// its `-wal` and `-shm` files, which SQLite creates with the database's mode, are 0600 too. An
/// existing journal is made 0600.
fn private_journal_file(path: &std::path::Path) -> Result<(), JournalError> {
    use std::os::unix::fs::{DirBuilderExt as _, OpenOptionsExt as _, PermissionsExt as _};
    if path.as_os_str().is_empty() || path.to_str().is_some_and(|p| p.starts_with(':')) {
        return Ok(()); // in memory
    }
    let directory_error = |path: &std::path::Path| {
        let path = path.display().to_string();
        move |source| JournalError::Directory { path, source }
    };
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty() && !p.exists()) {
        std::fs::DirBuilder::new().recursive(true).mode(0o700).create(parent).map_err(directory_error(parent))?;
    }
    match std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path) {
        Ok(_) => {}
        Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => {
            let with_suffix = |suffix: &str| std::path::PathBuf::from(format!("{}{suffix}", path.display()));
            for file in [path.to_path_buf(), with_suffix("-wal"), with_suffix("-shm")] {
                if file.exists() {
                    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600))
                        .map_err(directory_error(&file))?;
                }
            }
        }
        Err(source) => return Err(directory_error(path)(source)),
    }
    Ok(())
}

fn millis(at: DateTime<Utc>) -> i64 {
    at.timestamp_millis()
}

fn from_millis(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or_default()
}

impl Journal {
    /// Opens (creating when needed) and migrates the journal at `url`.
    ///
    /// # Errors
    /// [`JournalError::Open`] when the database is unreachable or the file cannot be created,
    /// [`JournalError::Migrate`] when the schema cannot be brought up to date,
    /// [`JournalError::MigratedByNewer`] when a newer build already migrated it further.
    pub async fn open(url: &str, max_connections: u32) -> Result<Journal, JournalError> {
        sqlx::any::install_default_drivers();
        // The error is shown and logged: a password in the URL must not be.
        let open_error = |source| JournalError::Open { url: crate::config::url_without_secrets(url), source };
        let backend = if url.starts_with("sqlite:") { Backend::Sqlite } else { Backend::Postgres };
        let mut connect_url = url.to_owned();
        if backend == Backend::Sqlite {
            let path = url.trim_start_matches("sqlite:").trim_start_matches("//");
            let path = path.split('?').next().unwrap_or_default();
            private_journal_file(std::path::Path::new(path))?;
            if !connect_url.contains('?') {
                connect_url.push_str("?mode=rwc");
            }
        }
        let options = AnyConnectOptions::from_str(&connect_url).map_err(open_error)?;
        let mut pool_options =
            AnyPoolOptions::new().max_connections(max_connections).acquire_timeout(Duration::from_secs(30));
        if backend == Backend::Sqlite {
            // A local file: open every connection up front and keep them, and skip the ping
            // before each use. Then taking a connection never waits on the SQLite thread inside
            // sqlx's acquire timeout, which under tokio's paused clock (tests) would see
            // simulated time jump ahead and time out spuriously.
            pool_options = pool_options
                .min_connections(max_connections)
                .idle_timeout(None)
                .max_lifetime(None)
                .test_before_acquire(false)
                .acquire_timeout(Duration::from_secs(3600));
        }
        let pool = pool_options.connect_with(options).await.map_err(open_error)?;
        if backend == Backend::Sqlite {
            // WAL (persistent in the file): readers never wait for the writer. sqlx's SQLite
            // defaults already give synchronous=FULL (a commit is on disk before we ack the
            // delivery it came from) and a busy timeout.
            sqlx::query("PRAGMA journal_mode = WAL").execute(&pool).await.map_err(open_error)?;
        }
        migrations::migrate(&pool).await?;
        let write_gate = (backend == Backend::Sqlite).then(|| Arc::new(Mutex::new(())));
        let wakers = Arc::new(StageWakers::default());
        let writer_stats = Arc::new(WriterStats::default());
        let postgres = backend == Backend::Postgres;
        let writer = Writer::start(pool.clone(), write_gate.clone(), wakers.clone(), writer_stats.clone(), postgres);
        let stop_listening = tokio_util::sync::CancellationToken::new();
        if postgres {
            tokio::spawn(writer::listen_across_instances(url.to_owned(), wakers.clone(), stop_listening.clone()));
        }
        Ok(Journal { pool, backend, write_gate, writer, wakers, writer_stats, stop_listening })
    }

    /// What this process's writer did so far.
    pub fn writer_stats(&self) -> &WriterStats {
        &self.writer_stats
    }

    /// What wakes each stage when a commit gave it work.
    pub fn wakers(&self) -> Arc<StageWakers> {
        self.wakers.clone()
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    async fn write_lock(&self) -> Option<tokio::sync::MutexGuard<'_, ()>> {
        match &self.write_gate {
            Some(gate) => Some(gate.lock().await),
            None => None,
        }
    }

    /// Takes an event in as a new job, waiting for central's authorization, exactly once per
    /// `event_id`.
    ///
    /// # Errors
    /// As [`Journal::admit_all`].
    pub async fn admit(
        &self,
        event: &EnrollmentEvent,
        payload: &[u8],
        template: &str,
        at: DateTime<Utc>,
    ) -> Result<Admission, JournalError> {
        let admissions = self.admit_all(&[NewJob { event, payload, template }], at).await?;
        Ok(admissions[0])
    }

    /// Takes several events in, in one transaction, each exactly once per `event_id`; the
    /// admissions come back in the order of `jobs`. A new job rests in
    /// `awaiting_authorization` at once; its insert, first audit entry (the event's arrival)
    /// and its `card.queued` and `card.awaiting_authorization` status events commit together.
    ///
    /// # Errors
    /// [`JournalError::Database`] when the journal cannot be written (retryable): then none of
    /// the jobs is admitted.
    pub async fn admit_all(&self, jobs: &[NewJob<'_>], at: DateTime<Utc>) -> Result<Vec<Admission>, JournalError> {
        let rows = jobs
            .iter()
            .map(|NewJob { event, payload, template }| {
                let payload = std::str::from_utf8(payload).map_err(|e| JournalError::Corrupt(e.to_string()))?;
                let reason = if event.warnings.is_empty() {
                    tr!(Lang::En, "said-received")
                } else {
                    tr!(Lang::En, "said-received-with-warnings", warnings = event.warnings.join("; "))
                };
                Ok(AdmitRow {
                    job_id: JobId::new(),
                    event_id: event.event_id.as_str().to_owned(),
                    office: event.office.clone(),
                    template: (*template).to_owned(),
                    urgent: event.priority == Priority::Urgent,
                    nik_masked: event.nik.masked(),
                    nik: event.nik.as_str().to_owned(),
                    card_digest: card_digest(event, template),
                    name: event.name.clone(),
                    warnings: event.warnings.join("\n"),
                    payload: payload.to_owned(),
                    reason,
                })
            })
            .collect::<Result<Vec<_>, JournalError>>()?;
        match self.writer.write(Write::Admit { jobs: rows, at }).await? {
            Written::Admitted(admissions) => Ok(admissions),
            other => Err(JournalError::Corrupt(format!("the writer answered an admission with {other:?}"))),
        }
    }

    /// Records (or counts again) an event refused at intake.
    ///
    /// # Errors
    /// [`JournalError::Database`] when the journal cannot be written.
    pub async fn record_rejection(&self, rejection: &NewRejection<'_>, at: DateTime<Utc>) -> Result<(), JournalError> {
        let hash = hex::encode(Sha256::digest(rejection.payload));
        let _gate = self.write_lock().await;
        sqlx::query(
            "INSERT INTO rejections (id, payload_sha256, payload_size, event_id, routing_key, reason, first_at, last_at, times)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $7, 1)
             ON CONFLICT (payload_sha256) DO UPDATE SET times = rejections.times + 1, last_at = excluded.last_at",
        )
        .bind(uuid::Uuid::now_v7().to_string())
        .bind(hash)
        .bind(rejection.payload.len() as i64)
        .bind(rejection.event_id.as_deref())
        .bind(&rejection.routing_key)
        // Validation names fields and rules, but a reason quoting a value must not keep a NIK.
        .bind(redact_niks(&rejection.reason).as_ref())
        .bind(millis(at))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Moves a job one step, checked against the state machine and against the job's
    /// current state in the journal; returns after the commit.
    ///
    /// # Errors
    /// [`JournalError::Illegal`] when the state machine forbids the step,
    /// [`JournalError::Conflict`] when the job is no longer in `step.from`,
    /// [`JournalError::NotFound`] for an unknown id.
    pub async fn transition(&self, job_id: JobId, step: &Step) -> Result<(), JournalError> {
        step.from.transition(step.to, &step.actor)?;
        self.writer.write(Write::Transition { job_id, step: step.clone() }).await.map(drop)
    }

    /// One job, without its payload.
    ///
    /// # Errors
    /// [`JournalError::Database`] on a read failure.
    pub async fn job(&self, job_id: JobId) -> Result<Option<JobRecord>, JournalError> {
        let row = sqlx::query(&format!("SELECT {} FROM jobs WHERE id = $1", records::JOB_COLUMNS))
            .bind(job_id.to_string())
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(JobRecord::from_row).transpose()
    }

    /// The job made from an event, if any.
    ///
    /// # Errors
    /// [`JournalError::Database`] on a read failure.
    pub async fn job_by_event(&self, event_id: &str) -> Result<Option<JobRecord>, JournalError> {
        let row = sqlx::query(&format!("SELECT {} FROM jobs WHERE event_id = $1", records::JOB_COLUMNS))
            .bind(event_id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(JobRecord::from_row).transpose()
    }

    /// What central's request names of a job's card: its full NIK and the card's digest
    /// (`None` when the journal holds none: an older job whose event could not be read).
    ///
    /// # Errors
    /// [`JournalError::NotFound`] for an unknown job; [`JournalError::Database`] on a read failure.
    pub async fn card_for_central(&self, job_id: JobId) -> Result<Option<CardForCentral>, JournalError> {
        let row = sqlx::query("SELECT nik, card_digest FROM jobs WHERE id = $1")
            .bind(job_id.to_string())
            .fetch_optional(&self.pool)
            .await?
            .ok_or(JournalError::NotFound(job_id))?;
        CardForCentral::of_row(&row)
    }

    /// [`Journal::card_for_central`] of several jobs in one query: the authorize stage reads
    /// its claimed batch's cards together instead of one round trip per request. A job the
    /// journal holds no NIK or digest for is missing from the map.
    ///
    /// # Errors
    /// [`JournalError::Database`] on a read failure.
    pub async fn cards_for_central(&self, job_ids: &[JobId]) -> Result<HashMap<JobId, CardForCentral>, JournalError> {
        let mut cards = HashMap::with_capacity(job_ids.len());
        for row in self.rows_of_jobs("SELECT id, nik, card_digest FROM jobs WHERE id", job_ids).await? {
            if let Some(card) = CardForCentral::of_row(&row)? {
                cards.insert(parse_job_id(&row.try_get::<String, _>("id")?)?, card);
            }
        }
        Ok(cards)
    }

    /// The event as it arrived: the renderer and central need the full record.
    ///
    /// # Errors
    /// [`JournalError::NotFound`] for an unknown id.
    pub async fn payload(&self, job_id: JobId) -> Result<Vec<u8>, JournalError> {
        let payload: Option<String> = sqlx::query_scalar("SELECT payload FROM job_payloads WHERE job_id = $1")
            .bind(job_id.to_string())
            .fetch_optional(&self.pool)
            .await?;
        payload.map(String::into_bytes).ok_or(JournalError::NotFound(job_id))
    }

    /// The events of several jobs as they arrived, in one query: a stage that claimed a batch
    /// reads their payloads together instead of one round trip per job. A job without a
    /// payload is missing from the map.
    ///
    /// # Errors
    /// [`JournalError::Database`] on a read failure.
    pub async fn payloads(&self, job_ids: &[JobId]) -> Result<HashMap<JobId, Vec<u8>>, JournalError> {
        let mut payloads = HashMap::with_capacity(job_ids.len());
        for row in self.rows_of_jobs("SELECT job_id, payload FROM job_payloads WHERE job_id", job_ids).await? {
            let job_id = parse_job_id(&row.try_get::<String, _>("job_id")?)?;
            payloads.insert(job_id, row.try_get::<String, _>("payload")?.into_bytes());
        }
        Ok(payloads)
    }

    /// The rows `select` finds for `job_ids`, where `select` ends with the column to match
    /// (`... WHERE job_id`): a query per few hundred ids rather than one per job.
    async fn rows_of_jobs(&self, select: &str, job_ids: &[JobId]) -> Result<Vec<sqlx::any::AnyRow>, JournalError> {
        let mut rows = Vec::with_capacity(job_ids.len());
        for chunk in job_ids.chunks(writer::ROWS_PER_STATEMENT) {
            let sql = format!("{select} IN ({})", writer::Placeholders::for_backend(self.backend).list(chunk.len()));
            let mut query = sqlx::query(&sql).persistent(false);
            for job_id in chunk {
                query = query.bind(job_id.to_string());
            }
            rows.extend(query.fetch_all(&self.pool).await?);
        }
        Ok(rows)
    }

    /// Of `job_ids` (cards in the spool), those whose card may go: the journal does not know
    /// the job, or it ended (a final state: printed, spoiled, cancelled, rejected) at or before
    /// `ended_by`. A sweep over a spool of 20,000 waiting cards is then a few dozen queries, not
    /// 20,000.
    ///
    /// # Errors
    /// [`JournalError::Database`] on a read failure.
    pub async fn spooled_to_delete(
        &self,
        job_ids: &[JobId],
        ended_by: DateTime<Utc>,
    ) -> Result<Vec<JobId>, JournalError> {
        let mut known = HashMap::with_capacity(job_ids.len());
        for row in self.rows_of_jobs("SELECT id, state, updated_at FROM jobs WHERE id", job_ids).await? {
            let job_id = parse_job_id(&row.try_get::<String, _>("id")?)?;
            known.insert(job_id, (records::state(&row, "state")?, from_millis(row.try_get("updated_at")?)));
        }
        Ok(job_ids
            .iter()
            .filter(|job_id| match known.get(job_id) {
                None => true,
                Some((state, updated_at)) => state.is_final() && *updated_at <= ended_by,
            })
            .copied()
            .collect())
    }

    /// The job's audit trail, oldest first.
    ///
    /// # Errors
    /// [`JournalError::Database`] on a read failure.
    pub async fn history(&self, job_id: JobId) -> Result<Vec<TransitionRecord>, JournalError> {
        let rows = sqlx::query(
            "SELECT seq, at, from_state, to_state, reason, actor FROM job_transitions WHERE job_id = $1 ORDER BY seq",
        )
        .bind(job_id.to_string())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(TransitionRecord::from_row).collect()
    }

    /// Jobs in `state` whose next attempt is due at `now` (or that have none set), urgent first,
    /// then oldest due first. Bounded by `limit` so memory does not grow with the backlog.
    ///
    /// # Errors
    /// [`JournalError::Database`] on a read failure.
    pub async fn due(&self, state: JobState, now: DateTime<Utc>, limit: u32) -> Result<Vec<JobRecord>, JournalError> {
        let rows = sqlx::query(&format!(
            "SELECT {} FROM jobs WHERE state = $1 AND {} $2 ORDER BY {} LIMIT $3",
            records::JOB_COLUMNS,
            writer::DUE_BY,
            writer::CLAIM_ORDER
        ))
        .bind(state.as_str())
        .bind(millis(now))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(JobRecord::from_row).collect()
    }

    /// The earliest next attempt among jobs in `state`, so a worker can sleep until then.
    ///
    /// # Errors
    /// [`JournalError::Database`] on a read failure.
    pub async fn next_due_at(&self, state: JobState) -> Result<Option<DateTime<Utc>>, JournalError> {
        let next: Option<i64> = sqlx::query_scalar("SELECT MIN(next_attempt_at) FROM jobs WHERE state = $1")
            .bind(state.as_str())
            .fetch_one(&self.pool)
            .await?;
        Ok(next.map(from_millis))
    }

    /// Jobs in `state`, oldest first, after the `after` id (a keyset cursor), at most `limit`.
    ///
    /// # Errors
    /// [`JournalError::Database`] on a read failure.
    pub async fn jobs_in_state(
        &self,
        state: JobState,
        after: Option<JobId>,
        limit: u32,
    ) -> Result<Vec<JobRecord>, JournalError> {
        let rows = sqlx::query(&format!(
            "SELECT {} FROM jobs WHERE state = $1 AND id > $2 ORDER BY id LIMIT $3",
            records::JOB_COLUMNS
        ))
        .bind(state.as_str())
        .bind(after.map(|id| id.to_string()).unwrap_or_default())
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(JobRecord::from_row).collect()
    }

    /// How many jobs are in `state`. Answered from `jobs_by_claim_order` alone.
    ///
    /// # Errors
    /// [`JournalError::Database`] on a read failure.
    pub async fn count_in_state(&self, state: JobState) -> Result<i64, JournalError> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM jobs WHERE state = $1")
            .bind(state.as_str())
            .fetch_one(&self.pool)
            .await?)
    }

    /// How many jobs are in `state`, by template (templates with none are absent).
    ///
    /// # Errors
    /// [`JournalError::Database`] on a read failure.
    pub async fn count_in_state_by_template(&self, state: JobState) -> Result<HashMap<String, i64>, JournalError> {
        let rows = sqlx::query("SELECT template, COUNT(*) AS n FROM jobs WHERE state = $1 GROUP BY template")
            .bind(state.as_str())
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(|row| Ok((row.try_get("template")?, row.try_get("n")?))).collect()
    }

    /// How many jobs are in each state (states with none are absent).
    ///
    /// # Errors
    /// [`JournalError::Database`] on a read failure.
    pub async fn count_by_state(&self) -> Result<BTreeMap<JobState, i64>, JournalError> {
        let rows = sqlx::query("SELECT state, COUNT(*) AS n FROM jobs GROUP BY state").fetch_all(&self.pool).await?;
        let mut counts = BTreeMap::new();
        for row in &rows {
            let state: String = row.try_get("state")?;
            let state = JobState::from_str(&state).map_err(|e| JournalError::Corrupt(e.to_string()))?;
            counts.insert(state, row.try_get::<i64, _>("n")?);
        }
        Ok(counts)
    }

    /// The most recent rejections, newest first.
    ///
    /// # Errors
    /// [`JournalError::Database`] on a read failure.
    pub async fn rejections(&self, limit: u32) -> Result<Vec<RejectionRecord>, JournalError> {
        let rows = sqlx::query(
            "SELECT id, payload_sha256, payload_size, event_id, routing_key, reason, first_at, last_at, times
             FROM rejections ORDER BY last_at DESC, id DESC LIMIT $1",
        )
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(RejectionRecord::from_row).collect()
    }

    /// Distinct rejected payloads and the deliveries refused in all.
    ///
    /// # Errors
    /// [`JournalError::Database`] on a read failure.
    pub async fn rejection_counts(&self) -> Result<(i64, i64), JournalError> {
        let row =
            sqlx::query("SELECT COUNT(*) AS distinct_payloads, CAST(COALESCE(SUM(times), 0) AS BIGINT) AS deliveries FROM rejections")
                .fetch_one(&self.pool)
                .await?;
        Ok((row.try_get("distinct_payloads")?, row.try_get("deliveries")?))
    }

    /// Status events not yet confirmed by the broker, oldest first.
    ///
    /// # Errors
    /// [`JournalError::Database`] on a read failure.
    pub async fn unpublished(&self, limit: u32) -> Result<Vec<OutboxMessage>, JournalError> {
        let rows =
            sqlx::query("SELECT id, routing_key, body FROM outbox WHERE published_at IS NULL ORDER BY id LIMIT $1")
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await?;
        rows.iter().map(OutboxMessage::from_row).collect()
    }

    /// How many status events wait to be published, and since when the oldest.
    ///
    /// # Errors
    /// [`JournalError::Database`] on a read failure.
    pub async fn outbox_backlog(&self) -> Result<(i64, Option<DateTime<Utc>>), JournalError> {
        let row =
            sqlx::query("SELECT COUNT(*) AS waiting, MIN(created_at) AS oldest FROM outbox WHERE published_at IS NULL")
                .fetch_one(&self.pool)
                .await?;
        let oldest: Option<i64> = row.try_get("oldest")?;
        Ok((row.try_get("waiting")?, oldest.map(from_millis)))
    }

    /// Marks status events as confirmed by the broker.
    ///
    /// # Errors
    /// [`JournalError::Database`] when the journal cannot be written.
    pub async fn mark_published(&self, ids: &[String], at: DateTime<Utc>) -> Result<(), JournalError> {
        self.writer.write(Write::Published { ids: ids.to_vec(), at }).await.map(drop)
    }

    /// Up to `limit` status events to publish, claimed for `owner` until `until` so that no
    /// other instance publishes them meanwhile; oldest first. An instance's own claims come
    /// back to it (a publish that failed is tried again); another's only once expired.
    ///
    /// # Errors
    /// [`JournalError::Database`] when the journal cannot be written.
    pub async fn claim_unpublished(
        &self,
        owner: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<OutboxMessage>, JournalError> {
        let skip_locked = self.backend == Backend::Postgres;
        let write = Write::ClaimOutbox { owner: owner.to_owned(), until, now, limit, skip_locked };
        match self.writer.write(write).await? {
            Written::Outbox(claimed) => Ok(claimed),
            other => Err(JournalError::Corrupt(format!("the writer answered an outbox claim with {other:?}"))),
        }
    }

    /// Jobs in `state` due at `now` (as [`Journal::due`]: urgent first, then oldest due),
    /// at most `limit`, claimed for `owner` until `until`: several instances sharing the
    /// journal never take the same job at once. Jobs `owner` already holds come back to it; a
    /// step of the job ends the claim.
    ///
    /// # Errors
    /// [`JournalError::Database`] when the journal cannot be written.
    pub async fn claim_due(
        &self,
        state: JobState,
        owner: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<JobRecord>, JournalError> {
        self.claim(state, owner, now, until, limit, None).await
    }

    /// As [`Journal::claim_due`], only jobs of `templates` (those whose printers have room for
    /// more cards): the first template's due jobs, then the next one's, until `limit`. Each
    /// template's claim walks its own index (migration 0012, for `authorized`), so the jobs of
    /// other templates waiting ahead in the claim order cost it nothing.
    ///
    /// # Errors
    /// [`JournalError::Database`] when the journal cannot be written.
    pub async fn claim_due_of_templates(
        &self,
        state: JobState,
        owner: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
        limit: u32,
        templates: Vec<String>,
    ) -> Result<Vec<JobRecord>, JournalError> {
        self.claim(state, owner, now, until, limit, Some(templates)).await
    }

    async fn claim(
        &self,
        state: JobState,
        owner: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
        limit: u32,
        of_templates: Option<Vec<String>>,
    ) -> Result<Vec<JobRecord>, JournalError> {
        let skip_locked = self.backend == Backend::Postgres;
        let write = Write::ClaimDue { state, owner: owner.to_owned(), now, until, limit, of_templates, skip_locked };
        match self.writer.write(write).await? {
            Written::Jobs(jobs) => Ok(jobs),
            other => Err(JournalError::Corrupt(format!("the writer answered a claim with {other:?}"))),
        }
    }

    /// Leaves a job in `state` to be tried again at `until`, saying why (a passing fault such
    /// as a full spool disk): no step and no audit entry, the claim given up. Nothing happens
    /// if the job moved meanwhile.
    ///
    /// # Errors
    /// [`JournalError::Database`] when the journal cannot be written.
    pub async fn defer(
        &self,
        job_id: JobId,
        state: JobState,
        until: DateTime<Utc>,
        reason: &str,
        at: DateTime<Utc>,
    ) -> Result<(), JournalError> {
        let write = Write::Defer { job_id, state, until, reason: reason.to_owned(), at };
        self.writer.write(write).await.map(drop)
    }

    /// Gives up `owner`'s claims on `jobs` (taken, but not worked on now), so that another
    /// instance may take them at once. Jobs on a printer keep their lease.
    ///
    /// # Errors
    /// [`JournalError::Database`] when the journal cannot be written.
    pub async fn release_claims(&self, owner: &str, jobs: &[JobId]) -> Result<(), JournalError> {
        if jobs.is_empty() {
            return Ok(());
        }
        self.writer.write(Write::Release { owner: owner.to_owned(), ids: jobs.to_vec() }).await.map(drop)
    }

    /// Extends `owner`'s leases on those of `jobs` that are `printing` to `until`.
    ///
    /// # Errors
    /// [`JournalError::Database`] when the journal cannot be written.
    pub async fn renew_leases(&self, owner: &str, jobs: &[JobId], until: DateTime<Utc>) -> Result<(), JournalError> {
        if jobs.is_empty() {
            return Ok(());
        }
        self.writer.write(Write::RenewLeases { owner: owner.to_owned(), ids: jobs.to_vec(), until }).await.map(drop)
    }

    /// Takes a `printing` job for `owner` until `until`, if it is `owner`'s already, has no
    /// owner (journaled before leases), or its lease expired before `now`: `true` when taken.
    ///
    /// # Errors
    /// [`JournalError::Database`] when the journal cannot be written.
    pub async fn claim_printing(
        &self,
        job_id: JobId,
        owner: &str,
        until: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<bool, JournalError> {
        let write = Write::ClaimPrinting { job_id, owner: owner.to_owned(), until, now };
        match self.writer.write(write).await? {
            Written::Claimed(claimed) => Ok(claimed),
            other => Err(JournalError::Corrupt(format!("the writer answered a claim with {other:?}"))),
        }
    }

    /// Checks that the journal answers (for `/readyz`).
    ///
    /// # Errors
    /// [`JournalError::Database`] when it does not.
    pub async fn ping(&self) -> Result<(), JournalError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// Closes the pool, waiting for connections in use to be returned.
    pub async fn close(&self) {
        self.stop_listening.cancel();
        self.pool.close().await;
    }
}

/// Why a write conditioned on a job's state matched no row: the job is elsewhere than
/// `expected` (a conflict), or there is no such job.
async fn why_unmatched(connection: &mut sqlx::AnyConnection, job_id: JobId, expected: JobState) -> JournalError {
    let actual: Result<Option<String>, sqlx::Error> = sqlx::query_scalar("SELECT state FROM jobs WHERE id = $1")
        .bind(job_id.to_string())
        .fetch_optional(connection)
        .await;
    match actual {
        Err(error) => error.into(),
        Ok(None) => JournalError::NotFound(job_id),
        Ok(Some(actual)) => match JobState::from_str(&actual) {
            Ok(actual) => JournalError::Conflict { job_id, expected, actual },
            Err(error) => JournalError::Corrupt(error.to_string()),
        },
    }
}

/// `$first, $first+1, ...`: `count` numbered placeholders, for an `IN (...)` list.
fn numbered_placeholders(first: usize, count: usize) -> String {
    (first..first + count).map(|n| format!("${n}")).collect::<Vec<_>>().join(", ")
}

fn parse_job_id(stored: &str) -> Result<JobId, JournalError> {
    JobId::from_str(stored).map_err(|e| JournalError::Corrupt(format!("job id {stored:?}: {e}")))
}

/// A status event's body, as the contract gives it (docs/event-contract.md).
fn outbox_body(status: StatusEvent, event_id: &str, job_id: JobId, reason: &str, at: DateTime<Utc>) -> String {
    serde_json::json!({
        "type": status.routing_key(),
        "event_id": event_id,
        "job_id": job_id.to_string(),
        "at": at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        "reason": reason,
    })
    .to_string()
}
