//! Retention: what the journal forgets once it is no longer needed. A job's payload (the event,
//! with the photo, the signature, the address and the full NIK) is purged a configured time
//! after the job ended; published status events are deleted after theirs.
//!
//! What a purge keeps: the job's row (state, masked NIK, name, the card's digest), its whole
//! audit trail and ledger lines, and the payload's SHA-256, so that a copy kept elsewhere can
//! still be matched to the job.

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use sqlx::Row;

use super::{millis, Journal, JournalError};

/// The states a job ends in: its payload may be purged once it has rested there long enough.
/// (A reprint or a retry leaves them, and needs the payload: refused after the purge.)
const ENDED: &str = "('printed', 'cancelled', 'rejected', 'spoiled')";

impl Journal {
    /// Purges the payloads of up to `limit` jobs that ended (printed, cancelled, rejected,
    /// spoiled) before `ended_before`, oldest first; how many it purged. Each keeps the
    /// payload's SHA-256 and `at` as when it was purged, and loses its full NIK.
    ///
    /// # Errors
    /// [`JournalError::Database`] when the journal cannot be read or written (nothing is
    /// purged then: one transaction).
    pub async fn purge_ended_payloads(
        &self,
        ended_before: DateTime<Utc>,
        at: DateTime<Utc>,
        limit: u32,
    ) -> Result<usize, JournalError> {
        let _gate = self.write_lock().await;
        let mut transaction = self.pool.begin().await?;
        let rows = sqlx::query(&format!(
            "SELECT jobs.id, job_payloads.payload FROM jobs JOIN job_payloads ON job_payloads.job_id = jobs.id
             WHERE jobs.payload_purged_at IS NULL AND jobs.state IN {ENDED} AND jobs.updated_at < $1
             ORDER BY jobs.updated_at LIMIT $2"
        ))
        .bind(millis(ended_before))
        .bind(i64::from(limit))
        .fetch_all(&mut *transaction)
        .await?;
        let mut purged = 0;
        for row in &rows {
            let job_id: String = row.try_get("id")?;
            let payload: String = row.try_get("payload")?;
            // Only if the job is still where it ended (a reprint may have taken it meanwhile).
            let marked = sqlx::query(&format!(
                "UPDATE jobs SET payload_sha256 = $1, payload_purged_at = $2, nik = NULL
                 WHERE id = $3 AND payload_purged_at IS NULL AND state IN {ENDED}"
            ))
            .bind(hex::encode(Sha256::digest(payload.as_bytes())))
            .bind(millis(at))
            .bind(&job_id)
            .execute(&mut *transaction)
            .await?;
            if marked.rows_affected() == 1 {
                sqlx::query("DELETE FROM job_payloads WHERE job_id = $1")
                    .bind(&job_id)
                    .execute(&mut *transaction)
                    .await?;
                purged += 1;
            }
        }
        transaction.commit().await?;
        Ok(purged)
    }

    /// Deletes status events published before `published_before`; how many.
    ///
    /// # Errors
    /// [`JournalError::Database`] when the journal cannot be written.
    pub async fn purge_published_outbox(&self, published_before: DateTime<Utc>) -> Result<u64, JournalError> {
        let _gate = self.write_lock().await;
        let deleted = sqlx::query("DELETE FROM outbox WHERE published_at IS NOT NULL AND published_at < $1")
            .bind(millis(published_before))
            .execute(&self.pool)
            .await?;
        Ok(deleted.rows_affected())
    }

    /// The SHA-256 the payload of a purged job had (hex), `None` while it is kept.
    ///
    /// # Errors
    /// [`JournalError::Database`] on a read failure, [`JournalError::NotFound`] for an unknown job.
    pub async fn purged_payload_digest(
        &self,
        job_id: crate::domain::job::JobId,
    ) -> Result<Option<String>, JournalError> {
        let row = sqlx::query("SELECT payload_sha256 FROM jobs WHERE id = $1")
            .bind(job_id.to_string())
            .fetch_optional(&self.pool)
            .await?
            .ok_or(JournalError::NotFound(job_id))?;
        Ok(row.try_get("payload_sha256")?)
    }
}
