//! The printing side of the journal: the printer's own id for a job on it, and the blank-card
//! ledger (every card sent to a printer, with what became of its blank), queryable per
//! printer and per day.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, FixedOffset, Utc};
use sqlx::any::AnyRow;
use sqlx::Row;

use super::writer::{Placeholders, Write, Written, ROWS_PER_STATEMENT};
use super::{from_millis, millis, parse_job_id, why_unmatched, Journal, JournalError, Step};
use crate::domain::job::{JobId, JobState};
pub use crate::domain::ledger::CardOutcome;

/// A card as it enters the ledger.
#[derive(Debug, Clone)]
pub struct NewCard<'a> {
    /// `None` for a test card.
    pub job_id: Option<JobId>,
    pub printer: &'a str,
    pub printer_job_id: Option<i64>,
    pub at: DateTime<Utc>,
    /// The office's offset from UTC, which decides the card's day.
    pub utc_offset_minutes: i32,
}

/// One line of the ledger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerEntry {
    pub id: String,
    pub job_id: Option<JobId>,
    pub printer: String,
    pub printer_job_id: Option<i64>,
    pub sent_at: DateTime<Utc>,
    /// The office's local date the card was sent on, `YYYY-MM-DD`.
    pub day: String,
    pub outcome: CardOutcome,
    pub reason: String,
    pub settled_at: Option<DateTime<Utc>>,
}

/// Cards sent to one printer on one day, by outcome.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DailyCardCount {
    pub printer: String,
    pub day: String,
    pub by_outcome: BTreeMap<CardOutcome, i64>,
}

impl DailyCardCount {
    pub fn count(&self, outcome: CardOutcome) -> i64 {
        self.by_outcome.get(&outcome).copied().unwrap_or(0)
    }

    /// Blanks used for certain (printed, spoiled, test); `unknown` ones are counted apart.
    pub fn blanks_used(&self) -> i64 {
        self.by_outcome.iter().filter(|(outcome, _)| outcome.used_a_blank()).map(|(_, n)| n).sum()
    }
}

/// The office-local date of an instant, `YYYY-MM-DD`.
pub fn ledger_day(at: DateTime<Utc>, utc_offset_minutes: i32) -> String {
    let offset = FixedOffset::east_opt(utc_offset_minutes * 60).unwrap_or(FixedOffset::east_opt(0).expect("UTC"));
    at.with_timezone(&offset).date_naive().to_string()
}

const LEDGER_COLUMNS: &str = "id, job_id, printer, printer_job_id, sent_at, print_day, outcome, reason, settled_at";

impl LedgerEntry {
    fn from_row(row: &AnyRow) -> Result<LedgerEntry, JournalError> {
        Ok(LedgerEntry {
            id: row.try_get("id")?,
            job_id: row.try_get::<Option<String>, _>("job_id")?.as_deref().map(parse_job_id).transpose()?,
            printer: row.try_get("printer")?,
            printer_job_id: row.try_get("printer_job_id")?,
            sent_at: from_millis(row.try_get("sent_at")?),
            day: row.try_get("print_day")?,
            outcome: row.try_get::<String, _>("outcome")?.parse()?,
            reason: row.try_get("reason")?,
            settled_at: row.try_get::<Option<i64>, _>("settled_at")?.map(from_millis),
        })
    }
}

/// A [`NewCard`] the writer can keep.
#[derive(Debug, Clone)]
pub(super) struct OwnedCard {
    pub job_id: Option<JobId>,
    pub printer: String,
    pub printer_job_id: Option<i64>,
    pub at: DateTime<Utc>,
    pub utc_offset_minutes: i32,
}

impl From<&NewCard<'_>> for OwnedCard {
    fn from(card: &NewCard<'_>) -> OwnedCard {
        OwnedCard {
            job_id: card.job_id,
            printer: card.printer.to_owned(),
            printer_job_id: card.printer_job_id,
            at: card.at,
            utc_offset_minutes: card.utc_offset_minutes,
        }
    }
}

/// The ledger line of the card a job has on `printer` that is not settled yet, if any.
async fn open_card(tx: &mut sqlx::AnyConnection, job_id: JobId, printer: &str) -> Result<Option<String>, JournalError> {
    Ok(sqlx::query_scalar(
        "SELECT id FROM card_ledger WHERE job_id = $1 AND printer = $2 AND outcome = 'sent' ORDER BY sent_at DESC LIMIT 1",
    )
    .bind(job_id.to_string())
    .bind(printer)
    .fetch_optional(tx)
    .await?)
}

/// New ledger lines, one per card, each taking a blank from its printer's stock (when it is
/// counted): one statement for the lines, one per printer for the stock.
async fn insert_cards(
    connection: &mut sqlx::AnyConnection,
    cards: &[(&OwnedCard, CardOutcome, &str)],
) -> Result<(), JournalError> {
    for chunk in cards.chunks(ROWS_PER_STATEMENT) {
        let sql = format!(
            "INSERT INTO card_ledger (id, job_id, printer, printer_job_id, sent_at, print_day, outcome, reason, settled_at)
             VALUES {}",
            Placeholders::for_connection(connection).groups(chunk.len(), 9)
        );
        // One card's statement is always the same text, kept prepared; longer ones are not.
        let mut query = sqlx::query(&sql).persistent(chunk.len() == 1);
        for (card, outcome, reason) in chunk {
            query = query
                .bind(uuid::Uuid::now_v7().to_string())
                .bind(card.job_id.map(|j| j.to_string()))
                .bind(card.printer.as_str())
                .bind(card.printer_job_id)
                .bind(millis(card.at))
                .bind(ledger_day(card.at, card.utc_offset_minutes))
                .bind(outcome.as_str())
                .bind(*reason)
                .bind((*outcome != CardOutcome::Sent).then(|| millis(card.at)));
        }
        query.execute(&mut *connection).await?;
    }
    let mut used: BTreeMap<&str, (i64, DateTime<Utc>)> = BTreeMap::new();
    for (card, ..) in cards {
        let (count, latest) = used.entry(card.printer.as_str()).or_insert((0, card.at));
        *count += 1;
        *latest = (*latest).max(card.at);
    }
    for (printer, (count, latest)) in used {
        sqlx::query("UPDATE printer_stock SET blanks = blanks - $1, updated_at = $2 WHERE printer = $3")
            .bind(count)
            .bind(millis(latest))
            .bind(printer)
            .execute(&mut *connection)
            .await?;
    }
    Ok(())
}

impl Journal {
    /// Records that a printer took a job's card: the printer's id for the job goes on the job
    /// (which must be `printing` on that printer) and a `sent` line into the ledger, together.
    /// Recording the same card again (reconciliation after a crash) adds no second line.
    ///
    /// # Errors
    /// [`JournalError::Conflict`] when the job is no longer `printing` on that printer.
    pub async fn record_card_sent(&self, job_id: JobId, card: &NewCard<'_>) -> Result<(), JournalError> {
        self.writer.write(Write::CardSent { job_id, card: card.into() }).await.map(drop)
    }

    /// Settles the card a job has on `printer` (its open `sent` line) with its outcome. When
    /// there is none (the spooler died before recording it), a settled line is added, so
    /// that every blank the printer took is in the ledger.
    ///
    /// # Errors
    /// [`JournalError::Database`] when the ledger cannot be written.
    pub async fn settle_card(
        &self,
        job_id: JobId,
        card: &NewCard<'_>,
        outcome: CardOutcome,
        reason: &str,
    ) -> Result<(), JournalError> {
        let write = Write::Settle { job_id, card: card.into(), outcome, reason: reason.to_owned(), then: None };
        self.writer.write(write).await.map(drop)
    }

    /// Settles a job's card as [`Journal::settle_card`] does and takes the job's step that
    /// goes with it, in one transaction: a card's fate and the job's state never disagree.
    /// The ledger line is written even when the step finds the job moved meanwhile.
    ///
    /// # Errors
    /// [`JournalError::Conflict`] (the card settled, the step not taken) when the job is no
    /// longer in `step.from`; [`JournalError::Database`] when nothing could be written.
    pub async fn settle_card_and_step(
        &self,
        job_id: JobId,
        card: &NewCard<'_>,
        outcome: CardOutcome,
        reason: &str,
        step: &Step,
    ) -> Result<(), JournalError> {
        step.from.transition(step.to, &step.actor)?;
        if crate::telemetry::fail_if_asked("settle") {
            return Err(JournalError::Database(sqlx::Error::PoolTimedOut));
        }
        let write =
            Write::Settle { job_id, card: card.into(), outcome, reason: reason.to_owned(), then: Some(step.clone()) };
        match self.writer.write(write).await? {
            Written::Stepped(stepped) => stepped,
            _ => Ok(()),
        }
    }

    /// Records a test card (no job) on a printer.
    ///
    /// # Errors
    /// [`JournalError::Database`] when the ledger cannot be written.
    pub async fn record_test_card(&self, card: &NewCard<'_>, reason: &str) -> Result<(), JournalError> {
        let _gate = self.write_lock().await;
        let mut connection = self.pool.acquire().await?;
        let card = OwnedCard { job_id: None, ..card.into() };
        insert_cards(&mut connection, &[(&card, CardOutcome::Test, reason)]).await?;
        Ok(())
    }

    /// Staff found a printed card unusable: its latest `printed` line becomes `spoiled`.
    /// `false` when the job has no printed card in the ledger.
    ///
    /// # Errors
    /// [`JournalError::Database`] when the ledger cannot be written.
    pub async fn mark_card_spoiled(
        &self,
        job_id: JobId,
        reason: &str,
        at: DateTime<Utc>,
    ) -> Result<bool, JournalError> {
        self.settle_latest_card(job_id, &[CardOutcome::Printed], CardOutcome::Spoiled, reason, at).await
    }

    /// The job's latest card line whose outcome is one of `from` takes outcome `to`, with
    /// `reason`, settled `at`; in one transaction. `false` (and nothing written) when the job
    /// has no such line.
    pub(super) async fn settle_latest_card(
        &self,
        job_id: JobId,
        from: &[CardOutcome],
        to: CardOutcome,
        reason: &str,
        at: DateTime<Utc>,
    ) -> Result<bool, JournalError> {
        let settle = LatestCard { from: from.to_vec(), to, reason: reason.to_owned(), at };
        match self.writer.write(Write::SettleLatest { job_id, step: None, settle }).await? {
            Written::Settled(settled) => Ok(settled),
            other => Err(JournalError::Corrupt(format!("the writer answered a ledger change with {other:?}"))),
        }
    }

    /// A staff step and the ledger change that goes with it, in one transaction: the job's
    /// latest card line whose outcome is one of `from` takes outcome `to` (a printed card
    /// found spoiled, a card in doubt settled). `Ok(false)`: the step was taken, the job has
    /// no such line and the ledger is left as it is.
    ///
    /// # Errors
    /// [`JournalError::Conflict`] (nothing written) when the job is no longer in `step.from`.
    pub async fn step_settling_latest_card(
        &self,
        job_id: JobId,
        step: &Step,
        from: &[CardOutcome],
        to: CardOutcome,
    ) -> Result<bool, JournalError> {
        step.from.transition(step.to, &step.actor)?;
        let settle = LatestCard { from: from.to_vec(), to, reason: step.reason.clone(), at: step.at };
        match self.writer.write(Write::SettleLatest { job_id, step: Some(step.clone()), settle }).await? {
            Written::Settled(settled) => Ok(settled),
            other => Err(JournalError::Corrupt(format!("the writer answered a ledger change with {other:?}"))),
        }
    }

    /// A job's cards, oldest first.
    ///
    /// # Errors
    /// [`JournalError::Database`] on a read failure.
    pub async fn cards_of_job(&self, job_id: JobId) -> Result<Vec<LedgerEntry>, JournalError> {
        let rows =
            sqlx::query(&format!("SELECT {LEDGER_COLUMNS} FROM card_ledger WHERE job_id = $1 ORDER BY sent_at, id"))
                .bind(job_id.to_string())
                .fetch_all(&self.pool)
                .await?;
        rows.iter().map(LedgerEntry::from_row).collect()
    }

    /// The cards one printer was sent on one day, oldest first.
    ///
    /// # Errors
    /// [`JournalError::Database`] on a read failure.
    pub async fn cards_of_printer_day(&self, printer: &str, day: &str) -> Result<Vec<LedgerEntry>, JournalError> {
        let rows = sqlx::query(&format!(
            "SELECT {LEDGER_COLUMNS} FROM card_ledger WHERE printer = $1 AND print_day = $2 ORDER BY sent_at, id"
        ))
        .bind(printer)
        .bind(day)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(LedgerEntry::from_row).collect()
    }

    /// Every ledger line of the office day `day` (`YYYY-MM-DD`), all printers, in order.
    ///
    /// # Errors
    /// [`JournalError::Database`] on a read failure.
    pub async fn cards_of_day(&self, day: &str) -> Result<Vec<LedgerEntry>, JournalError> {
        let rows =
            sqlx::query(&format!("SELECT {LEDGER_COLUMNS} FROM card_ledger WHERE print_day = $1 ORDER BY sent_at, id"))
                .bind(day)
                .fetch_all(&self.pool)
                .await?;
        rows.iter().map(LedgerEntry::from_row).collect()
    }

    /// Counts per printer and per day, for days `from..=to` (`YYYY-MM-DD`), by printer then day.
    ///
    /// # Errors
    /// [`JournalError::Database`] on a read failure.
    pub async fn card_counts(&self, from: &str, to: &str) -> Result<Vec<DailyCardCount>, JournalError> {
        let rows = sqlx::query(
            "SELECT printer, print_day, outcome, COUNT(*) AS n FROM card_ledger
             WHERE print_day >= $1 AND print_day <= $2 GROUP BY printer, print_day, outcome",
        )
        .bind(from)
        .bind(to)
        .fetch_all(&self.pool)
        .await?;
        let mut counts: BTreeMap<(String, String), DailyCardCount> = BTreeMap::new();
        for row in &rows {
            let printer: String = row.try_get("printer")?;
            let day: String = row.try_get("print_day")?;
            let outcome: CardOutcome = row.try_get::<String, _>("outcome")?.parse()?;
            let count = counts.entry((printer.clone(), day.clone())).or_insert_with(|| DailyCardCount {
                printer,
                day,
                by_outcome: BTreeMap::new(),
            });
            *count.by_outcome.entry(outcome).or_insert(0) += row.try_get::<i64, _>("n")?;
        }
        Ok(counts.into_values().collect())
    }

    /// How many of a job's cards were spoiled by its printers (for the requeue policy).
    ///
    /// # Errors
    /// [`JournalError::Database`] on a read failure.
    pub async fn spoiled_cards_of_job(&self, job_id: JobId) -> Result<i64, JournalError> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM card_ledger WHERE job_id = $1 AND outcome = 'spoiled'")
            .bind(job_id.to_string())
            .fetch_one(&self.pool)
            .await?;
        Ok(n)
    }
}

/// A change to a job's latest card line: see [`Journal::step_settling_latest_card`].
#[derive(Debug, Clone)]
pub(super) struct LatestCard {
    pub from: Vec<CardOutcome>,
    pub to: CardOutcome,
    pub reason: String,
    pub at: DateTime<Utc>,
}

/// The writer's half of [`Journal::step_settling_latest_card`]'s ledger change.
pub(super) async fn apply_settle_latest(
    connection: &mut sqlx::AnyConnection,
    job_id: JobId,
    settle: &LatestCard,
) -> Result<bool, JournalError> {
    // The outcomes are the enum's own words, never input: safe to write into the query.
    let from = settle.from.iter().map(|outcome| format!("'{}'", outcome.as_str())).collect::<Vec<_>>().join(", ");
    let latest: Option<String> = sqlx::query_scalar(&format!(
        "SELECT id FROM card_ledger WHERE job_id = $1 AND outcome IN ({from})
         ORDER BY sent_at DESC, id DESC LIMIT 1"
    ))
    .bind(job_id.to_string())
    .fetch_optional(&mut *connection)
    .await?;
    let Some(id) = latest else { return Ok(false) };
    sqlx::query("UPDATE card_ledger SET outcome = $1, reason = $2, settled_at = $3 WHERE id = $4")
        .bind(settle.to.as_str())
        .bind(&settle.reason)
        .bind(millis(settle.at))
        .bind(id)
        .execute(&mut *connection)
        .await?;
    Ok(true)
}

/// The writer's half of [`Journal::record_card_sent`].
pub(super) async fn apply_card_sent(
    connection: &mut sqlx::AnyConnection,
    job_id: JobId,
    card: &OwnedCard,
) -> Result<(), JournalError> {
    let updated = sqlx::query(
        "UPDATE jobs SET printer_job_id = COALESCE($1, printer_job_id) WHERE id = $2 AND state = $3 AND printer = $4",
    )
    .bind(card.printer_job_id)
    .bind(job_id.to_string())
    .bind(JobState::Printing.as_str())
    .bind(&card.printer)
    .execute(&mut *connection)
    .await?;
    if updated.rows_affected() == 0 {
        return Err(why_unmatched(connection, job_id, JobState::Printing).await);
    }
    match open_card(connection, job_id, &card.printer).await? {
        Some(id) => {
            sqlx::query("UPDATE card_ledger SET printer_job_id = COALESCE($1, printer_job_id) WHERE id = $2")
                .bind(card.printer_job_id)
                .bind(id)
                .execute(&mut *connection)
                .await?;
        }
        None => {
            insert_cards(connection, &[(card, CardOutcome::Sent, "")]).await?;
        }
    }
    Ok(())
}

/// Cards' ledger lines settled, for distinct jobs: a card's open line on its printer (the latest
/// `sent` one, as `open_card` finds it) takes the outcome; a card without one gets a new line
/// and takes a blank. The open lines are found with one query, settled with one statement, the
/// others inserted with one, and each printer's stock counted down once.
pub(super) async fn apply_settle_cards(
    connection: &mut sqlx::AnyConnection,
    cards: &[(JobId, &OwnedCard, CardOutcome, &str)],
) -> Result<(), JournalError> {
    // Each job's latest `sent` line on each of its printers. A job has one or two, so a list
    // beats a map keyed by an owned copy of the printer's name.
    struct OpenLine {
        printer: String,
        sent_at: i64,
        id: String,
    }
    let mut open: HashMap<JobId, Vec<OpenLine>> = HashMap::new();
    for chunk in cards.chunks(ROWS_PER_STATEMENT) {
        let sql = format!(
            "SELECT id, job_id, printer, sent_at FROM card_ledger WHERE outcome = 'sent' AND job_id IN ({})",
            Placeholders::for_connection(connection).list(chunk.len())
        );
        // One card's statements are always the same text, kept prepared; longer ones are not.
        let mut query = sqlx::query(&sql).persistent(chunk.len() == 1);
        for (job_id, ..) in chunk {
            query = query.bind(job_id.to_string());
        }
        for row in query.fetch_all(&mut *connection).await? {
            let job_id = parse_job_id(&row.try_get::<String, _>("job_id")?)?;
            let line =
                OpenLine { printer: row.try_get("printer")?, sent_at: row.try_get("sent_at")?, id: row.try_get("id")? };
            let lines = open.entry(job_id).or_default();
            match lines.iter_mut().find(|known| known.printer == line.printer) {
                Some(latest) if (line.sent_at, &line.id) > (latest.sent_at, &latest.id) => *latest = line,
                Some(_) => {}
                None => lines.push(line),
            }
        }
    }
    let mut settled = Vec::new();
    let mut new = Vec::new();
    for &(job_id, card, outcome, reason) in cards {
        match open.get(&job_id).and_then(|lines| lines.iter().find(|line| line.printer == card.printer)) {
            Some(open_line) => settled.push((open_line.id.as_str(), card, outcome, reason)),
            None => new.push((card, outcome, reason)),
        }
    }
    for chunk in settled.chunks(ROWS_PER_STATEMENT) {
        let sql = format!(
            "UPDATE card_ledger SET outcome = v.column2, reason = v.column3, settled_at = v.column4,
                printer_job_id = COALESCE(printer_job_id, v.column5)
             FROM (VALUES {}) AS v WHERE card_ledger.id = v.column1",
            Placeholders::for_connection(connection).groups(chunk.len(), 5)
        );
        let mut query = sqlx::query(&sql).persistent(chunk.len() == 1);
        for (open_line, card, outcome, reason) in chunk {
            query = query
                .bind(*open_line)
                .bind(outcome.as_str())
                .bind(*reason)
                .bind(millis(card.at))
                .bind(card.printer_job_id);
        }
        query.execute(&mut *connection).await?;
    }
    insert_cards(connection, &new).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn days_are_the_office_s() {
        let late_evening_utc = Utc.with_ymd_and_hms(2026, 11, 27, 18, 30, 0).unwrap();
        assert_eq!(ledger_day(late_evening_utc, 0), "2026-11-27");
        assert_eq!(ledger_day(late_evening_utc, 7 * 60), "2026-11-28", "01:30 WIB the next day");
    }
}
