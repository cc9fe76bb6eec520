//! The language of an answer's texts for people (reasons, errors, central's situation, printer
//! faults, estimates): `?lang=` if given, else the request's `Accept-Language`, else none — the
//! texts as the spooler stores them, in English, as the API has always answered. The dashboard
//! and the staff CLI always name one.
//!
//! The handlers build their JSON in English; [`restate_answers`] puts the fields staff read into
//! the asked language on the way out ([`crate::i18n::restate`]), so no view needs to know the
//! language and the stored texts stay one language.

use axum::body::Body;
use axum::extract::{FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use serde_json::Value;

use crate::domain::office_time::OfficeZone;
use crate::i18n::{restate_in, Lang};

/// The fields of the API's JSON that people read, wherever they are in an answer.
const FOR_PEOPLE: &[&str] =
    &["reason", "error", "summary", "alert", "faults", "warnings", "text", "central_off", "ledger", "note"];

/// The largest JSON answer restated; larger ones (none today) go out as they are.
const LARGEST_ANSWER: usize = 16 * 1024 * 1024;

/// The language a request asked for, if any.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Asked(pub Option<Lang>);

impl Asked {
    pub fn of(parts: &Parts) -> Asked {
        let from_query = parts
            .uri
            .query()
            .and_then(|query| query.split('&').find_map(|pair| pair.strip_prefix("lang=")).and_then(Lang::parse));
        let from_header = || {
            parts
                .headers
                .get(header::ACCEPT_LANGUAGE)
                .and_then(|v| v.to_str().ok())
                .and_then(Lang::from_accept_language)
        };
        Asked(from_query.or_else(from_header))
    }

    /// The asked language, or `default` when the request named none.
    pub fn or(self, default: Lang) -> Lang {
        self.0.unwrap_or(default)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Asked {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Asked, Self::Rejection> {
        Ok(Asked::of(parts))
    }
}

/// Middleware: a JSON answer's texts for people in the language the request asked for, the
/// times in them in the office's `zone`.
pub async fn restate_answers(zone: OfficeZone, request: Request, next: Next) -> Response {
    let (parts, body) = request.into_parts();
    let asked = Asked::of(&parts);
    let mut response = next.run(Request::from_parts(parts, body)).await;
    response.headers_mut().append(header::VARY, HeaderValue::from_static("accept-language"));
    let Some(lang) = asked.0 else { return response };
    response.headers_mut().insert(header::CONTENT_LANGUAGE, HeaderValue::from_static(lang.code()));
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !is_json {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, LARGEST_ANSWER).await else {
        // Only a failing body gets here; the client sees the failure as it would have.
        return Response::from_parts(parts, Body::empty());
    };
    let Ok(mut value) = serde_json::from_slice::<Value>(&bytes) else {
        return Response::from_parts(parts, Body::from(bytes));
    };
    restate_fields(lang, zone, &mut value);
    parts.headers.remove(header::CONTENT_LENGTH);
    let restated = serde_json::to_vec(&value).unwrap_or_else(|_| bytes.to_vec());
    Response::from_parts(parts, Body::from(restated))
}

fn restate_fields(lang: Lang, zone: OfficeZone, value: &mut Value) {
    match value {
        Value::Object(fields) => {
            for (name, field) in fields.iter_mut() {
                if FOR_PEOPLE.contains(&name.as_str()) {
                    restate_texts(lang, zone, field);
                } else {
                    restate_fields(lang, zone, field);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|item| restate_fields(lang, zone, item)),
        _ => {}
    }
}

/// A text, or the texts of a list or object under a field for people.
fn restate_texts(lang: Lang, zone: OfficeZone, value: &mut Value) {
    match value {
        Value::String(text) => {
            if let std::borrow::Cow::Owned(restated) = restate_in(lang, Some(zone), text) {
                *text = restated;
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|item| restate_texts(lang, zone, item)),
        Value::Object(_) => restate_fields(lang, zone, value),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn asked(uri: &str, accept: Option<&str>) -> Option<Lang> {
        let mut request = axum::http::Request::builder().uri(uri);
        if let Some(accept) = accept {
            request = request.header(header::ACCEPT_LANGUAGE, accept);
        }
        Asked::of(&request.body(()).unwrap().into_parts().0).0
    }

    #[test]
    fn the_query_wins_over_the_header_and_neither_means_none() {
        assert_eq!(asked("/api/v1/summary?lang=en", Some("id")), Some(Lang::En));
        assert_eq!(asked("/api/v1/jobs?state=held&lang=id", None), Some(Lang::Id));
        assert_eq!(asked("/api/v1/summary", Some("id-ID,id;q=0.9,en;q=0.8")), Some(Lang::Id));
        assert_eq!(asked("/api/v1/summary", Some("fr")), None);
        assert_eq!(asked("/api/v1/summary", None), None);
    }

    #[test]
    fn only_the_fields_people_read_are_restated() {
        let said = crate::tr!(Lang::En, "said-aborted", printer = "p1", cause = "media-jam");
        let mut answer = serde_json::json!({
            "jobs": [{ "name": said.clone(), "reason": said.clone(), "warnings": [said.clone()] }],
            "error": said.clone(),
        });
        restate_fields(Lang::Id, OfficeZone::Wib, &mut answer);
        assert_eq!(answer["jobs"][0]["name"], said.as_str(), "a name is data");
        assert_eq!(answer["jobs"][0]["reason"], "dihentikan oleh p1: kartu macet");
        assert_eq!(answer["jobs"][0]["warnings"][0], "dihentikan oleh p1: kartu macet");
        assert_eq!(answer["error"], "dihentikan oleh p1: kartu macet");
    }
}
