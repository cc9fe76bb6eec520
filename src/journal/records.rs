//! Rows of the journal as Rust values.

use std::str::FromStr;

use chrono::{DateTime, Utc};
use sqlx::any::AnyRow;
use sqlx::Row;

use super::{from_millis, parse_job_id, JournalError};
use crate::domain::job::{Actor, JobId, JobState};

pub(super) const JOB_COLUMNS: &str = "id, event_id, state, office, template, priority, nik_masked, name, warnings,
     reason, held_from, attempts, next_attempt_at, authorization_json, printer, printer_job_id, created_at,
     updated_at, version, owner, lease_until, authorization_id, authorization_expires_at, authorization_round,
     card_digest, payload_purged_at";

/// A job as the journal holds it (without the event payload, which [`super::Journal::payload`]
/// reads on demand).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobRecord {
    pub id: JobId,
    pub event_id: String,
    pub state: JobState,
    pub office: String,
    pub template: String,
    pub urgent: bool,
    /// The NIK as staff lists may show it; the full number is only in the payload.
    pub nik_masked: String,
    pub name: String,
    pub warnings: Vec<String>,
    /// Why the job is where it is (the reason of its last transition).
    pub reason: String,
    /// The state a held job returns to on release.
    pub held_from: Option<JobState>,
    pub attempts: i64,
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// Central's signed authorization (its JSON, as central sent it), as stored by the
    /// authorize stage: checked again before the card is made.
    pub authorization: Option<String>,
    /// The stored authorization's id and expiry, read without parsing it.
    pub authorization_id: Option<String>,
    pub authorization_expires_at: Option<DateTime<Utc>>,
    /// How many times the job started asking central for a new authorization (a reprint, a
    /// retry, an expiry): part of the request id, so no print reuses an earlier answer.
    pub authorization_round: i64,
    /// The SHA-256 of the card's canonical data (`domain::card_digest`), from admission:
    /// what central's authorization must name.
    pub card_digest: Option<String>,
    pub printer: Option<String>,
    pub printer_job_id: Option<i64>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
    /// The spooler instance holding the job while it is `printing` (see migration 0006).
    pub owner: Option<String>,
    /// Until when `owner` holds it; after that another instance may take the job over.
    pub lease_until: Option<DateTime<Utc>>,
    /// When the job's payload (photo, signature, address, full NIK) was purged, its retention
    /// over: the card can no longer be drawn again from this job.
    pub payload_purged_at: Option<DateTime<Utc>>,
}

pub(super) fn state(row: &AnyRow, column: &str) -> Result<JobState, JournalError> {
    let stored: String = row.try_get(column)?;
    JobState::from_str(&stored).map_err(|e| JournalError::Corrupt(e.to_string()))
}

fn optional_state(row: &AnyRow, column: &str) -> Result<Option<JobState>, JournalError> {
    let stored: Option<String> = row.try_get(column)?;
    stored.map(|s| JobState::from_str(&s).map_err(|e| JournalError::Corrupt(e.to_string()))).transpose()
}

impl JobRecord {
    pub(super) fn from_row(row: &AnyRow) -> Result<JobRecord, JournalError> {
        let warnings: String = row.try_get("warnings")?;
        Ok(JobRecord {
            id: parse_job_id(&row.try_get::<String, _>("id")?)?,
            event_id: row.try_get("event_id")?,
            state: state(row, "state")?,
            office: row.try_get("office")?,
            template: row.try_get("template")?,
            urgent: row.try_get::<i64, _>("priority")? > 0,
            nik_masked: row.try_get("nik_masked")?,
            name: row.try_get("name")?,
            warnings: warnings.lines().map(str::to_owned).collect(),
            reason: row.try_get("reason")?,
            held_from: optional_state(row, "held_from")?,
            attempts: row.try_get("attempts")?,
            next_attempt_at: row.try_get::<Option<i64>, _>("next_attempt_at")?.map(from_millis),
            authorization: row.try_get("authorization_json")?,
            authorization_id: row.try_get("authorization_id")?,
            authorization_expires_at: row.try_get::<Option<i64>, _>("authorization_expires_at")?.map(from_millis),
            authorization_round: row.try_get("authorization_round")?,
            card_digest: row.try_get("card_digest")?,
            printer: row.try_get("printer")?,
            printer_job_id: row.try_get("printer_job_id")?,
            created_at: from_millis(row.try_get("created_at")?),
            updated_at: from_millis(row.try_get("updated_at")?),
            version: row.try_get("version")?,
            owner: row.try_get("owner")?,
            lease_until: row.try_get::<Option<i64>, _>("lease_until")?.map(from_millis),
            payload_purged_at: row.try_get::<Option<i64>, _>("payload_purged_at")?.map(from_millis),
        })
    }
}

#[cfg(test)]
impl JobRecord {
    /// A job as unit tests start from: HAMIDAH's card, in `state`, nothing else set.
    pub(crate) fn example(state: JobState) -> JobRecord {
        let now = DateTime::from_timestamp(1_800_000_000, 0).expect("a valid time");
        JobRecord {
            id: JobId::new(),
            event_id: "e1".into(),
            state,
            office: "1502".into(),
            template: "ektp".into(),
            urgent: false,
            nik_masked: "1502**********01".into(),
            name: "HAMIDAH".into(),
            warnings: Vec::new(),
            reason: String::new(),
            held_from: None,
            attempts: 0,
            next_attempt_at: None,
            authorization: None,
            authorization_id: None,
            authorization_expires_at: None,
            authorization_round: 0,
            card_digest: None,
            printer: None,
            printer_job_id: None,
            created_at: now,
            updated_at: now,
            version: 1,
            owner: None,
            lease_until: None,
            payload_purged_at: None,
        }
    }
}

/// Columns a transition may change besides the state. `None` leaves a column as it is;
/// `Some(None)` clears it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JobUpdate {
    pub attempts: Option<i64>,
    pub next_attempt_at: Option<Option<DateTime<Utc>>>,
    pub authorization: Option<Option<StoredAuthorization>>,
    /// The job asks central for a new authorization from now on (under a new request id).
    pub new_authorization_round: bool,
    pub printer: Option<Option<String>>,
    pub printer_job_id: Option<Option<i64>>,
    pub held_from: Option<Option<JobState>>,
    /// The instance and the time a `printing` job is held until. Leaving `printing` always
    /// clears both (the journal does it), whatever this says.
    pub lease: Option<(String, DateTime<Utc>)>,
}

/// Central's authorization as a job keeps it: the JSON central sent (signed; checked again
/// before printing) and the fields the stages read without parsing it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredAuthorization {
    pub json: String,
    pub id: String,
    pub expires_at: DateTime<Utc>,
}

impl StoredAuthorization {
    /// The id and expiry read from a stored JSON answer (journals written before the typed
    /// columns); `None` when it has neither.
    pub(super) fn from_json(json: &str) -> Option<StoredAuthorization> {
        let value: serde_json::Value = serde_json::from_str(json).ok()?;
        let expires_at = DateTime::parse_from_rfc3339(value.get("expires_at")?.as_str()?).ok()?;
        Some(StoredAuthorization {
            json: json.to_owned(),
            id: value.get("authorization_id")?.as_str()?.to_owned(),
            expires_at: expires_at.with_timezone(&Utc),
        })
    }
}

/// One entry of a job's audit trail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransitionRecord {
    pub seq: i64,
    pub at: DateTime<Utc>,
    pub from: Option<JobState>,
    pub to: JobState,
    pub reason: String,
    pub actor: Actor,
}

impl TransitionRecord {
    pub(super) fn from_row(row: &AnyRow) -> Result<TransitionRecord, JournalError> {
        Ok(TransitionRecord {
            seq: row.try_get("seq")?,
            at: from_millis(row.try_get("at")?),
            from: optional_state(row, "from_state")?,
            to: state(row, "to_state")?,
            reason: row.try_get("reason")?,
            actor: Actor::decode(&row.try_get::<String, _>("actor")?),
        })
    }
}

/// An event refused at intake, as staff see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RejectionRecord {
    pub id: String,
    pub payload_sha256: String,
    pub payload_size: i64,
    pub event_id: Option<String>,
    pub routing_key: String,
    pub reason: String,
    pub first_at: DateTime<Utc>,
    pub last_at: DateTime<Utc>,
    /// Deliveries of this same payload refused so far (redeliveries, republishing).
    pub times: i64,
}

impl RejectionRecord {
    pub(super) fn from_row(row: &AnyRow) -> Result<RejectionRecord, JournalError> {
        Ok(RejectionRecord {
            id: row.try_get("id")?,
            payload_sha256: row.try_get("payload_sha256")?,
            payload_size: row.try_get("payload_size")?,
            event_id: row.try_get("event_id")?,
            routing_key: row.try_get("routing_key")?,
            reason: row.try_get("reason")?,
            first_at: from_millis(row.try_get("first_at")?),
            last_at: from_millis(row.try_get("last_at")?),
            times: row.try_get("times")?,
        })
    }
}

/// A status event waiting in the outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxMessage {
    pub id: String,
    pub routing_key: String,
    pub body: String,
}

impl OutboxMessage {
    pub(super) fn from_row(row: &AnyRow) -> Result<OutboxMessage, JournalError> {
        Ok(OutboxMessage {
            id: row.try_get("id")?,
            routing_key: row.try_get("routing_key")?,
            body: row.try_get("body")?,
        })
    }
}
