//! The journal's part in central authorization: the circuit breaker's persisted state, and
//! the questions the authorize worker asks about the backlog.

use chrono::{DateTime, Utc};
use sqlx::Row;

use super::{from_millis, millis, records, Journal, JournalError};
use crate::domain::job::JobState;
use crate::journal::JobRecord;

/// Central's circuit breaker as stored (one row). Plain values: the journal knows nothing of
/// the breaker's rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CentralBreakerRow {
    pub phase: String,
    pub state: String,
    pub state_since: DateTime<Utc>,
    pub consecutive_failures: i64,
    pub next_probe_at: Option<DateTime<Utc>>,
    pub paused_until: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub last_error_at: Option<DateTime<Utc>>,
    pub last_success_at: Option<DateTime<Utc>>,
    pub alert: Option<String>,
    /// Identifies the `[central]` configuration it was recorded under.
    pub config_fingerprint: String,
}

const BREAKER_ID: &str = "central";

fn optional_time(row: &sqlx::any::AnyRow, column: &str) -> Result<Option<DateTime<Utc>>, JournalError> {
    Ok(row.try_get::<Option<i64>, _>(column)?.map(from_millis))
}

impl Journal {
    /// The breaker as last saved, if ever.
    ///
    /// # Errors
    /// [`JournalError::Database`] on a read failure.
    pub async fn central_breaker(&self) -> Result<Option<CentralBreakerRow>, JournalError> {
        let row = sqlx::query(
            "SELECT phase, state, state_since, consecutive_failures, next_probe_at, paused_until, last_error,
                    last_error_at, last_success_at, alert, config_fingerprint
             FROM central_breaker WHERE id = $1",
        )
        .bind(BREAKER_ID)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        Ok(Some(CentralBreakerRow {
            phase: row.try_get("phase")?,
            state: row.try_get("state")?,
            state_since: from_millis(row.try_get("state_since")?),
            consecutive_failures: row.try_get("consecutive_failures")?,
            next_probe_at: optional_time(&row, "next_probe_at")?,
            paused_until: optional_time(&row, "paused_until")?,
            last_error: row.try_get("last_error")?,
            last_error_at: optional_time(&row, "last_error_at")?,
            last_success_at: optional_time(&row, "last_success_at")?,
            alert: row.try_get("alert")?,
            config_fingerprint: row.try_get("config_fingerprint")?,
        }))
    }

    /// Takes the next probe of central for this instance, among the instances sharing the
    /// journal: `true` when the saved breaker is open and its probe is due at `now` (or `forced`,
    /// staff asked for a check); the saved next probe then moves to `next_probe_at`, so the other
    /// instances wait for this one's answer. `false` when another instance took it, or the
    /// saved breaker is closed (central answered another instance).
    ///
    /// # Errors
    /// [`JournalError::Database`] when the journal cannot be written.
    pub async fn claim_central_probe(
        &self,
        now: DateTime<Utc>,
        next_probe_at: DateTime<Utc>,
        forced: bool,
    ) -> Result<bool, JournalError> {
        let _gate = self.write_lock().await;
        let claimed = sqlx::query(
            "UPDATE central_breaker SET next_probe_at = $1, updated_at = $2
             WHERE id = $3 AND phase <> 'closed' AND (next_probe_at IS NULL OR next_probe_at <= $2 OR $4 <> 0)",
        )
        .bind(millis(next_probe_at))
        .bind(millis(now))
        .bind(BREAKER_ID)
        .bind(i64::from(forced))
        .execute(&self.pool)
        .await?;
        Ok(claimed.rows_affected() == 1)
    }

    /// Saves the breaker (replacing the previous row).
    ///
    /// # Errors
    /// [`JournalError::Database`] when the journal cannot be written.
    pub async fn save_central_breaker(
        &self,
        breaker: &CentralBreakerRow,
        at: DateTime<Utc>,
    ) -> Result<(), JournalError> {
        let _gate = self.write_lock().await;
        sqlx::query(
            "INSERT INTO central_breaker (id, phase, state, state_since, consecutive_failures, next_probe_at,
                 paused_until, last_error, last_error_at, last_success_at, alert, config_fingerprint, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
             ON CONFLICT (id) DO UPDATE SET phase = excluded.phase, state = excluded.state,
                 state_since = excluded.state_since, consecutive_failures = excluded.consecutive_failures,
                 next_probe_at = excluded.next_probe_at, paused_until = excluded.paused_until,
                 last_error = excluded.last_error, last_error_at = excluded.last_error_at,
                 last_success_at = excluded.last_success_at, alert = excluded.alert,
                 config_fingerprint = excluded.config_fingerprint, updated_at = excluded.updated_at",
        )
        .bind(BREAKER_ID)
        .bind(&breaker.phase)
        .bind(&breaker.state)
        .bind(millis(breaker.state_since))
        .bind(breaker.consecutive_failures)
        .bind(breaker.next_probe_at.map(millis))
        .bind(breaker.paused_until.map(millis))
        .bind(breaker.last_error.as_deref())
        .bind(breaker.last_error_at.map(millis))
        .bind(breaker.last_success_at.map(millis))
        .bind(breaker.alert.as_deref())
        .bind(&breaker.config_fingerprint)
        .bind(millis(at))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Jobs not yet authorized (`received` or `awaiting_authorization`), and when the oldest of
    /// them was received.
    ///
    /// # Errors
    /// [`JournalError::Database`] on a read failure.
    pub async fn authorization_backlog(&self) -> Result<(i64, Option<DateTime<Utc>>), JournalError> {
        // Two queries, each answered from an index without reading the jobs' rows: the count,
        // and the oldest from the waiting jobs' entries in `jobs_by_claim_order`, sorted (on
        // SQLite 10 ms with 100,000 waiting and 100,000 printed, every `BACKLOG_REFRESH`).
        let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM jobs WHERE state IN ($1, $2)")
            .bind(JobState::Received.as_str())
            .bind(JobState::AwaitingAuthorization.as_str())
            .fetch_one(&self.pool)
            .await?;
        if count == 0 {
            return Ok((0, None));
        }
        let oldest: Option<i64> =
            sqlx::query_scalar("SELECT created_at FROM jobs WHERE state IN ($1, $2) ORDER BY created_at LIMIT 1")
                .bind(JobState::Received.as_str())
                .bind(JobState::AwaitingAuthorization.as_str())
                .fetch_optional(&self.pool)
                .await?;
        Ok((count, oldest.map(from_millis)))
    }

    /// Jobs awaiting authorization that started waiting (entered the state from another one)
    /// before `cutoff`, at most `limit`: candidates for the maximum wait.
    ///
    /// # Errors
    /// [`JournalError::Database`] on a read failure.
    pub async fn awaiting_since_before(
        &self,
        cutoff: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<JobRecord>, JournalError> {
        let awaiting = JobState::AwaitingAuthorization.as_str();
        // A job starts waiting when it is admitted (`created_at`) or later, so `created_at <
        // cutoff` loses no candidate, and spares the audit trail's subquery for every job that
        // came in since the cutoff: with 100,000 waiting and none overdue, 18 ms a sweep instead
        // of 309 (SQLite, performance.md).
        let rows = sqlx::query(&format!(
            "SELECT {} FROM jobs WHERE state = $1 AND created_at < $2 AND (
                 SELECT MAX(t.at) FROM job_transitions t
                 WHERE t.job_id = jobs.id AND t.to_state = $1 AND (t.from_state IS NULL OR t.from_state <> $1)
             ) < $2
             ORDER BY created_at LIMIT $3",
            records::JOB_COLUMNS
        ))
        .bind(awaiting)
        .bind(millis(cutoff))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(JobRecord::from_row).collect()
    }
}

impl Journal {
    /// A few jobs awaiting authorization, in the order of the `(state, next_attempt_at)` index:
    /// the candidates for a probe of central. Cheap however long the backlog, unlike
    /// [`Journal::due`], which sorts every due job by priority.
    ///
    /// # Errors
    /// [`JournalError::Database`] on a read failure.
    pub async fn probe_candidates(&self, limit: u32) -> Result<Vec<JobRecord>, JournalError> {
        let rows = sqlx::query(&format!(
            "SELECT {} FROM jobs WHERE state = $1 ORDER BY next_attempt_at LIMIT $2",
            records::JOB_COLUMNS
        ))
        .bind(JobState::AwaitingAuthorization.as_str())
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(JobRecord::from_row).collect()
    }
}
