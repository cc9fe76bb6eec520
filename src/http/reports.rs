//! `GET /reports/daily?date=YYYY-MM-DD&format=pdf|csv`: the office day as the supervisor signs
//! it (a PDF by default, or CSV for a spreadsheet).

use std::sync::Arc;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use serde::Deserialize;

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

pub async fn daily(
    State(state): State<Arc<ApiState>>,
    _staff: Staff,
    params: Result<Query<DailyParams>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(params) = params.map_err(|rejection| ApiError::BadRequest(rejection.body_text()))?;
    let now = state.clock.now();
    let date = match params.date.as_deref().filter(|d| !d.is_empty()) {
        None => now.with_timezone(&state.office_zone.offset()).date_naive(),
        Some(date) => NaiveDate::parse_from_str(date, "%Y-%m-%d")
            .map_err(|_| ApiError::BadRequest(format!("date {date:?}: use YYYY-MM-DD")))?,
    };
    let pdf = match params.format.as_deref() {
        None | Some("" | "pdf") => true,
        Some("csv") => false,
        Some(other) => return Err(ApiError::BadRequest(format!("format {other:?}: use pdf or csv"))),
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
