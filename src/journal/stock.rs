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
