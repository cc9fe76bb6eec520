//! What the API shows of the spooler's records: the wire forms, translated here at the edge.
//!
//! Architecture invariant: no view carries an event's payload, photo or signature, central's
//! stored authorization (it holds the full NIK), or a full NIK. Free text that could quote one
//! (reasons, messages) goes through [`redact_niks`] on its way out.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::actions::JobAction;
use crate::central::CentralStatus;
use crate::domain::job::{Actor, JobState};
pub use crate::domain::nik::redact_niks;
use crate::journal::{JobRecord, LedgerEntry, RejectionRecord, TransitionRecord};
use crate::printer::pool::{Health, PrinterView};

fn redacted(text: &str) -> String {
    redact_niks(text).into_owned()
}

/// Who took a step: `{"kind": "system"}` or `{"kind": "staff", "name": "rina"}`.
#[derive(Debug, Serialize)]
pub struct ActorView {
    pub kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

impl From<&Actor> for ActorView {
    fn from(actor: &Actor) -> Self {
        match actor {
            Actor::System => ActorView { kind: "system", name: None },
            Actor::Staff(name) => ActorView { kind: "staff", name: Some(name.clone()) },
        }
    }
}

/// What staff see of central's authorization for a job (never the stored document).
#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct AuthorizationView {
    pub authorization_id: Option<String>,
    pub issued_at: Option<String>,
    pub expires_at: Option<String>,
}

impl AuthorizationView {
    fn of(stored: &str) -> AuthorizationView {
        let value: serde_json::Value = serde_json::from_str(stored).unwrap_or_default();
        let field = |name: &str| value.get(name).and_then(serde_json::Value::as_str).map(redacted);
        AuthorizationView {
            authorization_id: field("authorization_id"),
            issued_at: field("issued_at"),
            expires_at: field("expires_at"),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct JobView {
    pub id: String,
    pub event_id: String,
    pub state: &'static str,
    pub office: String,
    pub template: String,
    pub urgent: bool,
    /// Masked: the region and the last two digits.
    pub nik: String,
    pub name: String,
    /// Why the job is where it is.
    pub reason: String,
    pub warnings: Vec<String>,
    pub held_from: Option<&'static str>,
    pub attempts: i64,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub authorization: Option<AuthorizationView>,
    pub printer: Option<String>,
    pub printer_job_id: Option<i64>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
    /// When the job's payload was purged (its retention ended): it cannot be reprinted.
    pub payload_purged_at: Option<DateTime<Utc>>,
    /// The staff actions the job's state allows now (`POST /jobs/{id}/{action}`).
    pub actions: Vec<&'static str>,
}

impl From<&JobRecord> for JobView {
    fn from(job: &JobRecord) -> Self {
        JobView {
            id: job.id.to_string(),
            event_id: job.event_id.clone(),
            state: job.state.as_str(),
            office: job.office.clone(),
            template: job.template.clone(),
            urgent: job.urgent,
            nik: job.nik_masked.clone(),
            name: job.name.clone(),
            reason: redacted(&job.reason),
            warnings: job.warnings.iter().map(|w| redacted(w)).collect(),
            held_from: job.held_from.map(JobState::as_str),
            attempts: job.attempts,
            next_attempt_at: job.next_attempt_at,
            authorization: job.authorization.as_deref().map(AuthorizationView::of),
            printer: job.printer.clone(),
            printer_job_id: job.printer_job_id,
            created_at: job.created_at,
            updated_at: job.updated_at,
            version: job.version,
            payload_purged_at: job.payload_purged_at,
            // A purged job cannot be drawn again: reprint and retry are not offered.
            actions: JobAction::ALL
                .into_iter()
                .filter(|action| action.available(job.state, job.held_from))
                .filter(|action| {
                    job.payload_purged_at.is_none() || !matches!(action, JobAction::Reprint | JobAction::Retry)
                })
                .map(JobAction::as_str)
                .collect(),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct TransitionView {
    pub seq: i64,
    pub at: DateTime<Utc>,
    pub from: Option<&'static str>,
    pub to: &'static str,
    pub reason: String,
    pub actor: ActorView,
}

impl From<&TransitionRecord> for TransitionView {
    fn from(record: &TransitionRecord) -> Self {
        TransitionView {
            seq: record.seq,
            at: record.at,
            from: record.from.map(JobState::as_str),
            to: record.to.as_str(),
            reason: redacted(&record.reason),
            actor: ActorView::from(&record.actor),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct CardView {
    pub printer: String,
    pub printer_job_id: Option<i64>,
    pub sent_at: DateTime<Utc>,
    pub day: String,
    pub outcome: &'static str,
    pub reason: String,
    pub settled_at: Option<DateTime<Utc>>,
}

impl From<&LedgerEntry> for CardView {
    fn from(entry: &LedgerEntry) -> Self {
        CardView {
            printer: entry.printer.clone(),
            printer_job_id: entry.printer_job_id,
            sent_at: entry.sent_at,
            day: entry.day.clone(),
            outcome: entry.outcome.as_str(),
            reason: redacted(&entry.reason),
            settled_at: entry.settled_at,
        }
    }
}

#[derive(Debug, Serialize)]
pub struct RejectionView {
    pub id: String,
    pub event_id: Option<String>,
    pub routing_key: String,
    pub reason: String,
    pub payload_sha256: String,
    pub payload_size: i64,
    pub first_at: DateTime<Utc>,
    pub last_at: DateTime<Utc>,
    pub times: i64,
}

impl From<&RejectionRecord> for RejectionView {
    fn from(record: &RejectionRecord) -> Self {
        RejectionView {
            id: record.id.clone(),
            event_id: record.event_id.as_deref().map(redacted),
            routing_key: record.routing_key.clone(),
            reason: redacted(&record.reason),
            payload_sha256: record.payload_sha256.clone(),
            payload_size: record.payload_size,
            first_at: record.first_at,
            last_at: record.last_at,
            times: record.times,
        }
    }
}

#[derive(Debug, Serialize)]
pub struct PauseView {
    pub by: String,
    pub since: DateTime<Utc>,
    pub reason: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct PrinterStateView {
    pub name: String,
    pub pool: String,
    pub uri: String,
    /// `unchecked` (not asked yet), `ready`, `faulted`, `paused`: whether it takes jobs, and
    /// if not, the first reason why.
    pub status: &'static str,
    pub faults: Vec<String>,
    pub faulted_since: Option<DateTime<Utc>>,
    pub paused: Option<PauseView>,
    pub max_jobs: u32,
    pub in_flight: u32,
    /// The printer's own state reasons as last reported.
    pub reasons: Vec<String>,
    /// Reasons staff resumed the printer over.
    pub acknowledged: Vec<String>,
    pub message: Option<String>,
    pub checked_at: Option<DateTime<Utc>>,
    /// Blank cards in the printer, once staff recorded a load; `null` while not counted.
    pub blanks: Option<i64>,
    /// `ok`, `low` (at or below `printing.low_stock`) or `reserve` (at or below
    /// `printing.reserve_stock`: urgent cards only); `null` while not counted.
    pub stock: Option<&'static str>,
}

/// How staff should read a printer's count of blanks.
#[derive(Debug, Clone, Copy)]
pub struct StockLevels {
    pub low: u32,
    pub reserve: u32,
}

impl StockLevels {
    pub fn word(self, blanks: i64) -> &'static str {
        if blanks <= i64::from(self.reserve) {
            "reserve"
        } else if blanks <= i64::from(self.low) {
            "low"
        } else {
            "ok"
        }
    }
}

impl PrinterStateView {
    /// The view with the printer's count of blanks from `stock`, read with `levels`.
    pub fn with_stock(
        view: &PrinterView,
        stock: &std::collections::BTreeMap<String, i64>,
        levels: StockLevels,
    ) -> PrinterStateView {
        let mut shown = PrinterStateView::from(view);
        shown.blanks = stock.get(&view.name).copied();
        shown.stock = shown.blanks.map(|blanks| levels.word(blanks));
        shown
    }
}

impl From<&PrinterView> for PrinterStateView {
    fn from(view: &PrinterView) -> Self {
        let (faults, faulted_since) = match &view.health {
            Health::Faulted { faults, since } => (faults.iter().map(|f| redacted(&f.label())).collect(), Some(*since)),
            _ => (Vec::new(), None),
        };
        let status = match (&view.health, &view.paused) {
            (Health::Faulted { .. }, _) => "faulted",
            (_, Some(_)) => "paused",
            (Health::Unchecked, None) => "unchecked",
            (Health::Ready, None) => "ready",
        };
        PrinterStateView {
            name: view.name.clone(),
            pool: view.pool.clone(),
            uri: view.uri.clone(),
            status,
            faults,
            faulted_since,
            paused: view.paused.as_ref().map(|p| PauseView {
                by: p.by.clone(),
                since: p.since,
                reason: p.reason.as_deref().map(redacted),
            }),
            max_jobs: view.max_jobs,
            in_flight: view.in_flight,
            reasons: view.reasons.clone(),
            acknowledged: view.acknowledged.clone(),
            message: view.message.as_deref().map(redacted),
            checked_at: view.checked_at,
            blanks: None,
            stock: None,
        }
    }
}

/// Central's state as staff see it: the monitor's snapshot, its free text redacted.
pub fn central_view(status: &CentralStatus) -> serde_json::Value {
    let mut value = serde_json::to_value(status).unwrap_or_default();
    if let Some(fields) = value.as_object_mut() {
        for field in fields.values_mut() {
            if let serde_json::Value::String(text) = field {
                *text = redacted(text);
            }
        }
    }
    value
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_authorization_shows_its_id_and_validity_only() {
        let stored = r#"{"authorization_id":"a-1","nik":"1502015203850001","enrollment_id":"e","issued_at":"2026-11-27T02:00:00Z","expires_at":"2026-11-28T02:00:00Z","key_id":"k","signature":"c2ln"}"#;
        let view = AuthorizationView::of(stored);
        assert_eq!(view.authorization_id.as_deref(), Some("a-1"));
        assert_eq!(view.expires_at.as_deref(), Some("2026-11-28T02:00:00Z"));
        let json = serde_json::to_string(&view).unwrap();
        assert!(!json.contains("1502015203850001") && !json.contains("c2ln"), "{json}");
    }
}
