//! The daily report: one office day of the print room, per printer and for the jobs, as the
//! supervisor signs it. Pure: the journal gathers the figures, `render::report` draws the PDF,
//! this holds them and writes the CSV.

use std::fmt::Write as _;

use chrono::{DateTime, NaiveDate, Utc};

use super::office_time::OfficeZone;

/// One printer's day.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PrinterDay {
    pub printer: String,
    pub printed: i64,
    pub spoiled: i64,
    /// Why each spoiled card was spoiled (the ledger's reasons), one entry per card.
    pub spoiled_reasons: Vec<String>,
    pub test: i64,
    /// Cards whose fate is not known yet (in doubt, or still on the printer).
    pub unsettled: i64,
    pub blanks_loaded: i64,
    /// Blanks in the printer at the end of the day; `None` while its stock is not counted.
    pub stock_at_day_end: Option<i64>,
}

/// The jobs' day.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JobsDay {
    pub received: i64,
    pub printed: i64,
    pub rejected: i64,
    /// Events refused at intake (not jobs: they never were).
    pub refused_at_intake: i64,
    /// Jobs not ended when the report was made, and since when the oldest waits.
    pub still_waiting: i64,
    pub oldest_waiting_since: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DailyReport {
    pub office: String,
    pub date: NaiveDate,
    pub zone: OfficeZone,
    pub made_at: DateTime<Utc>,
    pub printers: Vec<PrinterDay>,
    pub jobs: JobsDay,
    /// Cards printed in each hour of the office's day, 00 to 23.
    pub printed_per_hour: [i64; 24],
}

impl DailyReport {
    /// The day as `01-12-2026`.
    pub fn day(&self) -> String {
        self.date.format("%d-%m-%Y").to_string()
    }

    /// CSV, one figure a row: `section,subject,figure,value` (RFC 4180 quoting), in the order
    /// of the PDF: the day, each printer, the jobs, the hours.
    pub fn to_csv(&self) -> String {
        let mut out = String::from("section,subject,figure,value\r\n");
        let mut row = |section: &str, subject: &str, figure: &str, value: &str| {
            let _ = write!(out, "{},{},{},{}\r\n", csv(section), csv(subject), csv(figure), csv(value));
        };
        row("day", &self.office, "date", &self.date.to_string());
        row("day", &self.office, "zone", self.zone.name());
        row("day", &self.office, "made_at", &self.zone.format(self.made_at));
        for printer in &self.printers {
            let name = printer.printer.as_str();
            row("printer", name, "printed", &printer.printed.to_string());
            row("printer", name, "spoiled", &printer.spoiled.to_string());
            for reason in &printer.spoiled_reasons {
                row("printer", name, "spoiled_reason", reason);
            }
            row("printer", name, "test", &printer.test.to_string());
            row("printer", name, "unsettled", &printer.unsettled.to_string());
            row("printer", name, "blanks_loaded", &printer.blanks_loaded.to_string());
            let stock = printer.stock_at_day_end.map_or_else(String::new, |n| n.to_string());
            row("printer", name, "stock_at_day_end", &stock);
        }
        let jobs = &self.jobs;
        row("jobs", "", "received", &jobs.received.to_string());
        row("jobs", "", "printed", &jobs.printed.to_string());
        row("jobs", "", "rejected", &jobs.rejected.to_string());
        row("jobs", "", "refused_at_intake", &jobs.refused_at_intake.to_string());
        row("jobs", "", "still_waiting", &jobs.still_waiting.to_string());
        let oldest = jobs.oldest_waiting_since.map_or_else(String::new, |at| self.zone.format(at));
        row("jobs", "", "oldest_waiting_since", &oldest);
        for (hour, printed) in self.printed_per_hour.iter().enumerate() {
            row("hour", &format!("{hour:02}"), "printed", &printed.to_string());
        }
        out
    }
}

/// A CSV field, quoted when it holds a comma, a quote or a line break.
fn csv(field: &str) -> String {
    if field.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", field.replace('"', "\"\""))
    } else {
        field.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone as _;

    use super::*;

    #[test]
    fn the_csv_has_a_row_per_figure_and_quotes_what_needs_it() {
        let mut hours = [0; 24];
        hours[9] = 3;
        let report = DailyReport {
            office: "1502".into(),
            date: NaiveDate::from_ymd_opt(2026, 12, 1).unwrap(),
            zone: OfficeZone::Wib,
            made_at: Utc.with_ymd_and_hms(2026, 12, 1, 10, 0, 0).unwrap(),
            printers: vec![PrinterDay {
                printer: "card-1".into(),
                printed: 3,
                spoiled: 1,
                spoiled_reasons: vec!["photo smeared, \"badly\"".into()],
                test: 1,
                unsettled: 0,
                blanks_loaded: 100,
                stock_at_day_end: Some(95),
            }],
            jobs: JobsDay { received: 5, printed: 3, still_waiting: 2, ..JobsDay::default() },
            printed_per_hour: hours,
        };
        let csv = report.to_csv();
        assert!(csv.starts_with("section,subject,figure,value\r\nday,1502,date,2026-12-01\r\n"), "{csv}");
        assert!(csv.contains("printer,card-1,spoiled_reason,\"photo smeared, \"\"badly\"\"\"\r\n"), "{csv}");
        assert!(csv.contains("printer,card-1,stock_at_day_end,95\r\n"));
        assert!(csv.contains("jobs,,still_waiting,2\r\n") && csv.contains("hour,09,printed,3\r\n"), "{csv}");
        assert!(csv.contains("day,1502,made_at,01-12-2026 17:00 WIB"));
        assert_eq!(report.day(), "01-12-2026");
    }
}
