//! Blank cards in each printer: loads recorded by staff, one fewer for every card a printer
//! takes (`printing.rs` counts it with the card's ledger line, in the same transaction).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use sqlx::Row;

use super::{millis, Journal, JournalError};

impl Journal {
    /// Records `cards` blanks loaded into `printer` by `staff`; the printer's stock after it.
    /// The first load starts the printer's count.
    ///
    /// # Errors
    /// [`JournalError::Database`] when the journal cannot be written.
    pub async fn load_blanks(
        &self,
        printer: &str,
        cards: u32,
        staff: &str,
        at: DateTime<Utc>,
    ) -> Result<i64, JournalError> {
        let _gate = self.write_lock().await;
        let mut transaction = self.pool.begin().await?;
        sqlx::query("INSERT INTO blank_loads (id, printer, cards, at, staff) VALUES ($1, $2, $3, $4, $5)")
            .bind(uuid::Uuid::now_v7().to_string())
            .bind(printer)
            .bind(i64::from(cards))
            .bind(millis(at))
            .bind(staff)
            .execute(&mut *transaction)
            .await?;
        sqlx::query(
            "INSERT INTO printer_stock (printer, blanks, updated_at) VALUES ($1, $2, $3)
             ON CONFLICT (printer) DO UPDATE SET blanks = printer_stock.blanks + excluded.blanks,
                                                 updated_at = excluded.updated_at",
        )
        .bind(printer)
        .bind(i64::from(cards))
        .bind(millis(at))
        .execute(&mut *transaction)
        .await?;
        let blanks: i64 = sqlx::query("SELECT blanks FROM printer_stock WHERE printer = $1")
            .bind(printer)
            .fetch_one(&mut *transaction)
            .await?
            .try_get("blanks")?;
        transaction.commit().await?;
        Ok(blanks)
    }

    /// The blanks in each printer whose stock is counted (loaded at least once). A count below
    /// zero means cards were taken that no load recorded.
    ///
    /// # Errors
    /// [`JournalError::Database`] on a read failure.
    pub async fn blank_stock(&self) -> Result<BTreeMap<String, i64>, JournalError> {
        let rows = sqlx::query("SELECT printer, blanks FROM printer_stock").fetch_all(&self.pool).await?;
        rows.iter().map(|row| Ok((row.try_get("printer")?, row.try_get("blanks")?))).collect()
    }
}

impl Journal {
    /// A job's place among the cards the templates `templates` (one printer pool) will print:
    /// `(position, of)`, position 1 for the next. Ahead of it: the cards on a printer, then
    /// urgent before normal and older before newer, as dispatch takes them; with
    /// `with_waiting`, the jobs still waiting for central count too (central is answering).
    ///
    /// # Errors
    /// [`JournalError::Database`] on a read failure.
    pub async fn queue_place(
        &self,
        job_id: crate::domain::job::JobId,
        templates: &[String],
        with_waiting: bool,
    ) -> Result<(u64, u64), JournalError> {
        if templates.is_empty() {
            return Ok((0, 0));
        }
        let states = if with_waiting {
            "('awaiting_authorization', 'received', 'authorized', 'rendered', 'printing')"
        } else {
            "('authorized', 'rendered', 'printing')"
        };
        let in_templates = super::numbered_placeholders(2, templates.len());
        let queued = format!("template IN ({in_templates}) AND state IN {states}");
        let sql = format!(
            "SELECT
               (SELECT COUNT(*) FROM jobs WHERE {queued}) AS queue,
               (SELECT COUNT(*) FROM jobs, (SELECT priority AS own_priority FROM jobs WHERE id = $1) AS own
                 WHERE {queued} AND id <> $1
                   AND (state = 'printing' OR priority > own.own_priority
                        OR (priority = own.own_priority AND id < $1))) AS ahead"
        );
        let mut query = sqlx::query(&sql).bind(job_id.to_string());
        for template in templates {
            query = query.bind(template.as_str());
        }
        let row = query.fetch_one(&self.pool).await?;
        let queue: i64 = row.try_get("queue")?;
        let ahead: i64 = row.try_get("ahead")?;
        Ok((u64::try_from(ahead).unwrap_or(0) + 1, u64::try_from(queue).unwrap_or(0)))
    }

    /// Cards `printers` printed (their ledger lines settled `printed`) since `since`.
    ///
    /// # Errors
    /// [`JournalError::Database`] on a read failure.
    pub async fn printed_since(&self, printers: &[String], since: DateTime<Utc>) -> Result<u64, JournalError> {
        if printers.is_empty() {
            return Ok(0);
        }
        let sql = format!(
            "SELECT COUNT(*) AS printed FROM card_ledger WHERE outcome = 'printed' AND sent_at >= $1 AND printer IN ({})",
            super::numbered_placeholders(2, printers.len())
        );
        let mut query = sqlx::query(&sql).bind(millis(since));
        for printer in printers {
            query = query.bind(printer.as_str());
        }
        let printed: i64 = query.fetch_one(&self.pool).await?.try_get("printed")?;
        Ok(u64::try_from(printed).unwrap_or(0))
    }
}
