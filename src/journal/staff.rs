//! The journal as staff look at it: job lists with filters and keyset pagination, a search that
//! finds a card by the citizen's full NIK without the NIK ever leaving the journal, per-state
//! overviews for the dashboard, and the ledger side of a staff decision on a job in doubt.

use std::collections::BTreeMap;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use sqlx::Row;

use super::records::{JobRecord, JOB_COLUMNS};
use super::{from_millis, Journal, JournalError};
use crate::domain::job::{JobId, JobState};

/// One staff search by a full NIK, as the audit keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NikSearchRecord {
    pub at: DateTime<Utc>,
    pub staff: String,
    pub nik_masked: String,
    /// How many jobs the search found.
    pub found: i64,
}

/// The most jobs one page may hold.
pub const MAX_PAGE: u32 = 500;

/// What a staff search (`q`) looks for, read from its shape.
#[derive(Clone, PartialEq, Eq)]
pub enum JobSearch {
    /// A UUID: a job id or an event id.
    Id(String),
    /// Sixteen digits: the citizen's NIK. Matched against the jobs' `nik` column, never returned.
    Nik(String),
    /// A masked NIK as staff lists show it (`1502**********01`).
    MaskedNik(String),
    /// Anything else: part of the name (case-insensitive) or the start of an event id.
    Text(String),
}

impl std::fmt::Debug for JobSearch {
    // A full NIK must not reach a log line through a Debug print of a query.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            JobSearch::Id(id) => f.debug_tuple("Id").field(id).finish(),
            JobSearch::Nik(nik) => f.debug_tuple("Nik").field(&mask_nik(nik)).finish(),
            JobSearch::MaskedNik(masked) => f.debug_tuple("MaskedNik").field(masked).finish(),
            JobSearch::Text(text) => f.debug_tuple("Text").field(text).finish(),
        }
    }
}

/// `1502015203850001` → `1502**********01`, the form [`crate::domain::nik::Nik::masked`] gives.
fn mask_nik(nik: &str) -> String {
    format!("{}**********{}", &nik[..4], &nik[14..])
}

impl JobSearch {
    /// The NIK searched for, masked, when this is a full-NIK search (one that is audited).
    pub fn masked_nik(&self) -> Option<String> {
        match self {
            JobSearch::Nik(nik) => Some(mask_nik(nik)),
            _ => None,
        }
    }

    /// Reads a search from what staff typed; `None` for blank input.
    pub fn parse(q: &str) -> Option<JobSearch> {
        let q = q.trim();
        if q.is_empty() {
            return None;
        }
        // Bytes, not string slices: a multibyte character (an accented name) must not land a
        // slice inside a character.
        let bytes = q.as_bytes();
        let is_masked = bytes.len() == 16
            && bytes[..4].iter().all(u8::is_ascii_digit)
            && bytes[4..14].iter().all(|b| *b == b'*')
            && bytes[14..].iter().all(u8::is_ascii_digit);
        Some(if q.len() == 16 && q.bytes().all(|b| b.is_ascii_digit()) {
            JobSearch::Nik(q.to_owned())
        } else if is_masked {
            JobSearch::MaskedNik(q.to_owned())
        } else if uuid::Uuid::parse_str(q).is_ok() {
            JobSearch::Id(q.to_ascii_lowercase())
        } else {
            JobSearch::Text(q.to_owned())
        })
    }
}

/// Newest first (the default for lists) or oldest first (for a queue's head).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ListOrder {
    #[default]
    NewestFirst,
    OldestFirst,
}

/// Which jobs a staff list shows.
#[derive(Debug, Clone, Default)]
pub struct JobFilter {
    /// Any of these states; empty for all.
    pub states: Vec<JobState>,
    pub office: Option<String>,
    pub search: Option<JobSearch>,
    /// The keyset cursor: the last job of the previous page.
    pub after: Option<JobId>,
    pub order: ListOrder,
    /// At most this many (capped at [`MAX_PAGE`]).
    pub limit: u32,
}

/// One page of a list. `next` is the cursor for the following page, `None` on the last.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobPage {
    pub jobs: Vec<JobRecord>,
    pub next: Option<JobId>,
}

/// How many jobs are in a state and since when the oldest of them was received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateOverview {
    pub count: i64,
    pub oldest_received_at: Option<DateTime<Utc>>,
}

/// A query's text and its bound values, built together so the placeholders line up.
struct Query {
    sql: String,
    values: Vec<String>,
}

impl Query {
    fn bind(&mut self, value: impl Into<String>) -> String {
        self.values.push(value.into());
        format!("${}", self.values.len())
    }
}

/// Marks that spellings of one name differ by (`NUR'AINI`, `NURAINI`, `NUR-AINI`): a name search
/// ignores them on both sides, as it ignores case.
const NAME_PUNCTUATION: [char; 6] = ['\'', '\u{2019}', '`', '.', '-', ','];

fn without_name_punctuation(text: &str) -> String {
    text.chars().filter(|c| !NAME_PUNCTUATION.contains(c)).collect()
}

fn like_pattern(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len() + 2);
    for c in text.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

/// The list query for `filter`: the columns asked for, at most `limit` rows.
fn filtered(filter: &JobFilter, columns: &str, limit: u32) -> Query {
    let mut query = Query { sql: String::new(), values: Vec::new() };
    let mut conditions = Vec::new();
    if !filter.states.is_empty() {
        let placeholders: Vec<String> = filter.states.iter().map(|state| query.bind(state.as_str())).collect();
        conditions.push(format!("state IN ({})", placeholders.join(", ")));
    }
    if let Some(office) = &filter.office {
        conditions.push(format!("office = {}", query.bind(office.as_str())));
    }
    match &filter.search {
        None => {}
        Some(JobSearch::Id(id)) => {
            let (a, b) = (query.bind(id.as_str()), query.bind(id.as_str()));
            conditions.push(format!("(id = {a} OR event_id = {b})"));
        }
        Some(JobSearch::MaskedNik(masked)) => conditions.push(format!("nik_masked = {}", query.bind(masked.as_str()))),
        Some(JobSearch::Nik(nik)) => conditions.push(format!("nik = {}", query.bind(nik.as_str()))),
        Some(JobSearch::Text(text)) => {
            let contains = query.bind(format!("%{}%", like_pattern(&without_name_punctuation(text))));
            let starts = query.bind(format!("{}%", like_pattern(text)));
            // Job ids are written in lower case: the first characters of one find it, as git
            // finds a commit.
            let id_starts = query.bind(format!("{}%", like_pattern(text)));
            let mut name = "LOWER(name)".to_owned();
            for mark in NAME_PUNCTUATION {
                name = format!("REPLACE({name}, '{}', '')", mark.to_string().replace('\'', "''"));
            }
            conditions.push(format!(
                "({name} LIKE {contains} ESCAPE '\\' OR LOWER(event_id) LIKE {starts} ESCAPE '\\' \
                 OR id LIKE {id_starts} ESCAPE '\\')"
            ));
        }
    }
    let direction = match filter.order {
        ListOrder::NewestFirst => "DESC",
        ListOrder::OldestFirst => "ASC",
    };
    if let Some(after) = filter.after {
        let comparison = if filter.order == ListOrder::NewestFirst { "<" } else { ">" };
        conditions.push(format!("id {comparison} {}", query.bind(after.to_string())));
    }
    let conditions = if conditions.is_empty() { String::new() } else { format!(" WHERE {}", conditions.join(" AND ")) };
    query.sql = format!("SELECT {columns} FROM jobs{conditions} ORDER BY id {direction} LIMIT {limit}");
    query
}

impl Journal {
    /// Jobs for a staff list: filtered, ordered by id (which is creation order), one page.
    ///
    /// # Errors
    /// [`JournalError::Database`] on a read failure.
    pub async fn staff_jobs(&self, filter: &JobFilter) -> Result<JobPage, JournalError> {
        let limit = filter.limit.clamp(1, MAX_PAGE);
        let mut jobs = Vec::new();
        if filter.states.len() > 1 {
            // One query per state, each walking the (state, id) index, merged here: a single
            // `state IN (...)` query would sort every job of those states.
            for state in &filter.states {
                let one = JobFilter { states: vec![*state], ..filter.clone() };
                let rows = self.fetch(&filtered(&one, JOB_COLUMNS, limit + 1)).await?;
                for row in &rows {
                    jobs.push(JobRecord::from_row(row)?);
                }
            }
            jobs.sort_by_key(|job| job.id);
            if filter.order == ListOrder::NewestFirst {
                jobs.reverse();
            }
            jobs.truncate(limit as usize + 1);
        } else {
            let rows = self.fetch(&filtered(filter, JOB_COLUMNS, limit + 1)).await?;
            for row in &rows {
                jobs.push(JobRecord::from_row(row)?);
            }
        }
        let next = if jobs.len() > limit as usize {
            jobs.truncate(limit as usize);
            jobs.last().map(|job| job.id)
        } else {
            None
        };
        Ok(JobPage { jobs, next })
    }

    /// Records a staff member's search by a full NIK, with the NIK masked.
    ///
    /// # Errors
    /// [`JournalError::Database`] when the journal cannot be written.
    pub async fn record_nik_search(
        &self,
        staff: &str,
        nik_masked: &str,
        found: usize,
        at: DateTime<Utc>,
    ) -> Result<(), JournalError> {
        let _gate = self.write_lock().await;
        sqlx::query("INSERT INTO nik_searches (id, at, staff, nik_masked, found) VALUES ($1, $2, $3, $4, $5)")
            .bind(uuid::Uuid::now_v7().to_string())
            .bind(super::millis(at))
            .bind(staff)
            .bind(nik_masked)
            .bind(i64::try_from(found).unwrap_or(i64::MAX))
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// How many full-NIK searches `staff` made at or after `since`, and when the first of them was.
    ///
    /// # Errors
    /// [`JournalError::Database`] on a read failure.
    pub async fn nik_searches_since(
        &self,
        staff: &str,
        since: DateTime<Utc>,
    ) -> Result<(i64, Option<DateTime<Utc>>), JournalError> {
        let row = sqlx::query(
            "SELECT COUNT(*) AS searches, MIN(at) AS first FROM nik_searches WHERE staff = $1 AND at >= $2",
        )
        .bind(staff)
        .bind(super::millis(since))
        .fetch_one(&self.pool)
        .await?;
        let first: Option<i64> = row.try_get("first")?;
        Ok((row.try_get("searches")?, first.map(from_millis)))
    }

    /// The latest full-NIK searches, newest first.
    ///
    /// # Errors
    /// [`JournalError::Database`] on a read failure.
    pub async fn nik_searches(&self, limit: u32) -> Result<Vec<NikSearchRecord>, JournalError> {
        let rows =
            sqlx::query("SELECT at, staff, nik_masked, found FROM nik_searches ORDER BY at DESC, id DESC LIMIT $1")
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await?;
        rows.iter()
            .map(|row| {
                Ok(NikSearchRecord {
                    at: from_millis(row.try_get("at")?),
                    staff: row.try_get("staff")?,
                    nik_masked: row.try_get("nik_masked")?,
                    found: row.try_get("found")?,
                })
            })
            .collect()
    }

    async fn fetch(&self, query: &Query) -> Result<Vec<sqlx::any::AnyRow>, JournalError> {
        let mut statement = sqlx::query(&query.sql);
        for value in &query.values {
            statement = statement.bind(value.as_str());
        }
        Ok(statement.fetch_all(&self.pool).await?)
    }

    /// Per state: how many jobs, and since when the oldest was received. States without jobs
    /// are absent. Reads the `(state, id)` index only, then one row per state: ids are UUIDv7,
    /// so the smallest id of a state is its oldest job.
    ///
    /// # Errors
    /// [`JournalError::Database`] on a read failure.
    pub async fn state_overview(&self) -> Result<BTreeMap<JobState, StateOverview>, JournalError> {
        let rows = sqlx::query("SELECT state, COUNT(*) AS n, MIN(id) AS oldest FROM jobs GROUP BY state")
            .fetch_all(&self.pool)
            .await?;
        let mut overview = BTreeMap::new();
        for row in &rows {
            let state: String = row.try_get("state")?;
            let state = JobState::from_str(&state).map_err(|e| JournalError::Corrupt(e.to_string()))?;
            let oldest: Option<String> = row.try_get("oldest")?;
            let oldest_received_at = match oldest {
                Some(id) => sqlx::query_scalar::<_, i64>("SELECT created_at FROM jobs WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await?
                    .map(from_millis),
                None => None,
            };
            overview.insert(state, StateOverview { count: row.try_get("n")?, oldest_received_at });
        }
        Ok(overview)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn searches_are_read_from_their_shape() {
        assert_eq!(JobSearch::parse("  "), None);
        assert_eq!(JobSearch::parse("1502015203850001"), Some(JobSearch::Nik("1502015203850001".into())));
        assert_eq!(JobSearch::parse("1502**********01"), Some(JobSearch::MaskedNik("1502**********01".into())));
        // 16 bytes with a two-byte character across the fourth: a name search, not a panic.
        assert_eq!(JobSearch::parse("123é45678901234"), Some(JobSearch::Text("123é45678901234".into())));
        assert_eq!(JobSearch::parse("NUR'AÏNI"), Some(JobSearch::Text("NUR'AÏNI".into())));
        assert_eq!(
            JobSearch::parse("7A38B07E-1F59-444A-A430-BE5B7F885CD9"),
            Some(JobSearch::Id("7a38b07e-1f59-444a-a430-be5b7f885cd9".into()))
        );
        assert_eq!(JobSearch::parse("hamidah"), Some(JobSearch::Text("hamidah".into())));
        assert_eq!(JobSearch::parse("150201520385000"), Some(JobSearch::Text("150201520385000".into())));
    }

    #[test]
    fn a_full_nik_never_shows_in_debug() {
        let debug = format!("{:?}", JobSearch::parse("1502015203850001").unwrap());
        assert!(!debug.contains("1502015203850001"), "{debug}");
        assert!(debug.contains("1502**********01"), "{debug}");
    }

    #[test]
    fn like_wildcards_are_taken_literally() {
        assert_eq!(like_pattern("A_b%c\\"), "a\\_b\\%c\\\\");
    }
}
