//! The dashboard: one static page, embedded in the binary, that polls the JSON API.

use axum::http::header;
use axum::response::{Html, IntoResponse};

const PAGE: &str = include_str!("dashboard.html");

pub async fn page() -> impl IntoResponse {
    // The page holds no data (it fetches it with the staff member's token), but a stale copy
    // after an upgrade would talk to the API in an old way.
    ([(header::CACHE_CONTROL, "no-cache")], Html(PAGE))
}
