//! The figures of the daily report, gathered from the ledger, the blank loads, the jobs and
//! their audit trail (`domain::report` holds and words them).

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, NaiveDate, Timelike as _, Utc};
use sqlx::Row;

use super::{from_millis, millis, CardOutcome, Journal, JournalError};
use crate::domain::office_time::OfficeZone;
use crate::domain::report::{DailyReport, JobsDay, PrinterDay};

impl Journal {
    /// The report of the office day `date` (in `zone`), made at `made_at`: every printer in
    /// `printers` (the configured ones) and any other the day's ledger names.
    ///
    /// # Errors
    /// [`JournalError::Database`] on a read failure.
    pub async fn daily_report(
        &self,
        office: &str,
        date: NaiveDate,
        zone: OfficeZone,
        printers: &[String],
        made_at: DateTime<Utc>,
    ) -> Result<DailyReport, JournalError> {
        let start = date
            .and_hms_opt(0, 0, 0)
            .and_then(|midnight| midnight.and_local_timezone(zone.offset()).single())
            .map(|local| local.with_timezone(&Utc))
            .ok_or_else(|| JournalError::Corrupt(format!("no midnight on {date}")))?;
        let end = start + Duration::days(1);
        let mut by_printer: BTreeMap<String, PrinterDay> = printers
            .iter()
            .map(|name| (name.clone(), PrinterDay { printer: name.clone(), ..PrinterDay::default() }))
            .collect();
        let mut printed_per_hour = [0_i64; 24];
        for card in self.cards_of_day(&date.to_string()).await? {
            let day = day_of(&mut by_printer, &card.printer);
            match card.outcome {
                CardOutcome::Printed => {
                    day.printed += 1;
                    let hour = card.sent_at.with_timezone(&zone.offset()).hour() as usize;
                    printed_per_hour[hour.min(23)] += 1;
                }
                CardOutcome::Spoiled => {
                    day.spoiled += 1;
                    day.spoiled_reasons.push(card.reason.clone());
                }
                CardOutcome::Test => day.test += 1,
                CardOutcome::Sent | CardOutcome::Unknown => day.unsettled += 1,
                CardOutcome::NotFed | CardOutcome::Cancelled => {}
            }
        }
        // Loads of the day; the stock at its end is today's count less what came after it.
        let per_printer = |sql: &'static str, from: DateTime<Utc>, to: Option<DateTime<Utc>>| async move {
            let mut query = sqlx::query(sql).bind(millis(from));
            if let Some(to) = to {
                query = query.bind(millis(to));
            }
            let rows = query.fetch_all(&self.pool).await?;
            rows.iter()
                .map(|row| Ok((row.try_get::<String, _>("printer")?, row.try_get::<i64, _>("n")?)))
                .collect::<Result<BTreeMap<String, i64>, JournalError>>()
        };
        let loaded = per_printer(
            "SELECT printer, CAST(SUM(cards) AS BIGINT) AS n FROM blank_loads WHERE at >= $1 AND at < $2 GROUP BY printer",
            start,
            Some(end),
        )
        .await?;
        let loaded_after = per_printer(
            "SELECT printer, CAST(SUM(cards) AS BIGINT) AS n FROM blank_loads WHERE at >= $1 GROUP BY printer",
            end,
            None,
        )
        .await?;
        let taken_after = per_printer(
            "SELECT printer, COUNT(*) AS n FROM card_ledger WHERE sent_at >= $1 GROUP BY printer",
            end,
            None,
        )
        .await?;
        let stock = self.blank_stock().await?;
        for (printer, now) in &stock {
            let day = day_of(&mut by_printer, printer);
            let after =
                loaded_after.get(printer).copied().unwrap_or(0) - taken_after.get(printer).copied().unwrap_or(0);
            day.stock_at_day_end = Some(now - after);
        }
        for (printer, cards) in loaded {
            day_of(&mut by_printer, &printer).blanks_loaded = cards;
        }

        let count = |sql: &'static str| async move {
            let row = sqlx::query(sql).bind(millis(start)).bind(millis(end)).fetch_one(&self.pool).await?;
            Ok::<i64, JournalError>(row.try_get("n")?)
        };
        let received = count("SELECT COUNT(*) AS n FROM jobs WHERE created_at >= $1 AND created_at < $2").await?;
        let printed = count(
            "SELECT COUNT(DISTINCT job_id) AS n FROM job_transitions WHERE to_state = 'printed' AND at >= $1 AND at < $2",
        )
        .await?;
        let rejected = count(
            "SELECT COUNT(DISTINCT job_id) AS n FROM job_transitions WHERE to_state = 'rejected' AND at >= $1 AND at < $2",
        )
        .await?;
        let refused_at_intake =
            count("SELECT COUNT(*) AS n FROM rejections WHERE first_at >= $1 AND first_at < $2").await?;
        let waiting = sqlx::query(
            "SELECT COUNT(*) AS n, MIN(created_at) AS oldest FROM jobs
             WHERE state NOT IN ('printed', 'cancelled', 'rejected', 'spoiled')",
        )
        .fetch_one(&self.pool)
        .await?;
        let oldest: Option<i64> = waiting.try_get("oldest")?;
        Ok(DailyReport {
            office: office.to_owned(),
            date,
            zone,
            made_at,
            printers: by_printer.into_values().collect(),
            jobs: JobsDay {
                received,
                printed,
                rejected,
                refused_at_intake,
                still_waiting: waiting.try_get("n")?,
                oldest_waiting_since: oldest.map(from_millis),
            },
            printed_per_hour,
        })
    }
}

/// `printer`'s day in the report being gathered, started empty on first mention.
fn day_of<'a>(days: &'a mut BTreeMap<String, PrinterDay>, printer: &str) -> &'a mut PrinterDay {
    days.entry(printer.to_owned())
        .or_insert_with(|| PrinterDay { printer: printer.to_owned(), ..PrinterDay::default() })
}
