//! `GET /reports/daily?date=YYYY-MM-DD&format=pdf|csv`: the office day as the supervisor signs
//! it (a PDF by default, or CSV for a spreadsheet). `GET /ledger?printer=&from=&to=`: the
//! blank-card ledger, cards per printer and day by outcome.

use crate::i18n::Lang;
use crate::tr;
use std::sync::Arc;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::NaiveDate;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::domain::ledger::CardOutcome;

use super::auth::Staff;
use super::error::ApiError;
use super::ApiState;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DailyParams {
    /// The office day, `YYYY-MM-DD`; today (in the office's zone) when absent.
    date: Option<String>,
    /// `pdf` (default) or `csv`.
    format: Option<String>,
}

/// The longest ledger asked for at once: a year of days.
const MAX_LEDGER_DAYS: i64 = 366;

/// An office day from a query parameter, `YYYY-MM-DD`; today in the office's zone when absent.
fn office_day(state: &ApiState, name: &str, value: Option<&str>) -> Result<NaiveDate, ApiError> {
    match value.filter(|d| !d.is_empty()) {
        None => Ok(state.clock.now().with_timezone(&state.office_zone.offset()).date_naive()),
        Some(date) => NaiveDate::parse_from_str(date, "%Y-%m-%d").map_err(|_| {
            ApiError::BadRequest(tr!(Lang::En, "said-day-format", name = name, date = format!("{date:?}")))
        }),
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LedgerParams {
    /// Only this printer's cards.
    printer: Option<String>,
    /// The first office day, `YYYY-MM-DD`; `to` when absent.
    from: Option<String>,
    /// The last office day, `YYYY-MM-DD`; today when absent.
    to: Option<String>,
}

/// Cards per printer and office day by outcome (test cards included), with the totals.
pub async fn ledger(
    State(state): State<Arc<ApiState>>,
    _staff: Staff,
    params: Result<Query<LedgerParams>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let Query(params) = params.map_err(|rejection| ApiError::BadRequest(rejection.body_text()))?;
    let to = office_day(&state, "to", params.to.as_deref())?;
    let from = match params.from.as_deref().filter(|d| !d.is_empty()) {
        None => to,
        Some(from) => office_day(&state, "from", Some(from))?,
    };
    if from > to {
        return Err(ApiError::BadRequest(tr!(
            Lang::En,
            "said-day-order",
            from = from.to_string(),
            to = to.to_string()
        )));
    }
    if (to - from).num_days() >= MAX_LEDGER_DAYS {
        return Err(ApiError::BadRequest(tr!(Lang::En, "said-ledger-days", max = MAX_LEDGER_DAYS)));
    }
    let printer = params.printer.filter(|p| !p.is_empty());
    let counts = state.journal.card_counts(&from.to_string(), &to.to_string()).await?;
    let mut totals: serde_json::Map<String, Value> =
        CardOutcome::ALL.iter().map(|outcome| (outcome.as_str().to_owned(), json!(0))).collect();
    let mut blanks_used = 0;
    let days: Vec<Value> = counts
        .iter()
        .filter(|count| printer.as_ref().is_none_or(|p| *p == count.printer))
        .map(|count| {
            let mut line = serde_json::Map::new();
            line.insert("printer".into(), json!(count.printer));
            line.insert("day".into(), json!(count.day));
            for outcome in CardOutcome::ALL {
                let n = count.count(outcome);
                line.insert(outcome.as_str().into(), json!(n));
                totals[outcome.as_str()] = json!(totals[outcome.as_str()].as_i64().unwrap_or(0) + n);
            }
            line.insert("blanks_used".into(), json!(count.blanks_used()));
            blanks_used += count.blanks_used();
            Value::Object(line)
        })
        .collect();
    totals.insert("blanks_used".into(), json!(blanks_used));
    Ok(Json(json!({
        "from": from.to_string(),
        "to": to.to_string(),
        "printer": printer,
        "days": days,
        "totals": totals,
    })))
}

pub async fn daily(
    State(state): State<Arc<ApiState>>,
    _staff: Staff,
    params: Result<Query<DailyParams>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(params) = params.map_err(|rejection| ApiError::BadRequest(rejection.body_text()))?;
    let now = state.clock.now();
    let date = office_day(&state, "date", params.date.as_deref())?;
    let pdf = match params.format.as_deref() {
        None | Some("" | "pdf") => true,
        Some("csv") => false,
        Some(other) => {
            return Err(ApiError::BadRequest(tr!(Lang::En, "said-report-format", format = format!("{other:?}"))))
        }
    };
    let printers: Vec<String> = state
        .printers
        .as_ref()
        .map(|printers| printers.snapshot().into_iter().map(|view| view.name).collect())
        .unwrap_or_default();
    let report = state.journal.daily_report(&state.office_code, date, state.office_zone, &printers, now).await?;
    let name = format!("laporan-harian-{}-{date}", state.office_code);
    let (body, content_type, extension) = if pdf {
        (crate::render::report::daily_report_pdf(&report), "application/pdf", "pdf")
    } else {
        (report.to_csv().into_bytes(), "text/csv; charset=utf-8", "csv")
    };
    Ok((
        [
            (header::CONTENT_TYPE, content_type.to_owned()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}.{extension}\"")),
        ],
        body,
    )
        .into_response())
}
