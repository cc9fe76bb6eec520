//! The dashboard: one static page, embedded in the binary, that polls the JSON API, and the
//! catalogue's messages it shows, in the language staff chose.

use std::collections::BTreeMap;
use std::sync::{Arc, LazyLock};

use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{Html, IntoResponse};
use axum::Json;
use base64::Engine;
use fluent_syntax::ast::Entry;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{ApiError, ApiState};
use crate::i18n::{self, Arg, Lang};

const PAGE: &str = include_str!("dashboard.html");

/// How the page's root element opens in the source; served with the spooler's default language
/// instead, so that the page is marked right before its script has run.
const ROOT: &str = "<html lang=\"id\">";

/// The page's policy: its own inline script and style (by their SHA-256, so an injected one
/// does not run), data from this origin's API only, no framing (clickjacking a staff action),
/// no forms or plugins. `blob:` is the template preview, a PDF fetched with the token.
static CONTENT_SECURITY_POLICY: LazyLock<String> = LazyLock::new(|| {
    format!(
        "default-src 'none'; script-src {}; style-src {}; connect-src 'self'; img-src 'self' data: blob:; \
         frame-src blob:; object-src blob:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
        inline_hash(PAGE, "script"),
        inline_hash(PAGE, "style"),
    )
});

/// The page per default language. Only the root element differs, outside the inline script and
/// style, so one policy (one pair of hashes) holds for both.
static PAGES: LazyLock<[String; 2]> = LazyLock::new(|| Lang::ALL.map(page_in));

fn page_in(default: Lang) -> String {
    assert!(PAGE.contains(ROOT), "the dashboard opens with {ROOT}");
    PAGE.replacen(ROOT, &format!("<html lang=\"{0}\" data-default-lang=\"{0}\">", default.code()), 1)
}

/// `'sha256-…'` of the page's one inline `<tag>` element's text, as CSP hashes it.
fn inline_hash(page: &str, tag: &str) -> String {
    let open = format!("<{tag}>");
    let start = page.find(&open).map(|i| i + open.len()).expect("the dashboard has its inline element");
    let end = start + page[start..].find(&format!("</{tag}>")).expect("the inline element is closed");
    let digest = Sha256::digest(&page.as_bytes()[start..end]);
    format!("'sha256-{}'", base64::engine::general_purpose::STANDARD.encode(digest))
}

pub async fn page(State(state): State<Arc<ApiState>>) -> impl IntoResponse {
    // The page holds no data (it fetches it with the staff member's token), but a stale copy
    // after an upgrade would talk to the API in an old way.
    (
        [(header::CACHE_CONTROL, "no-cache"), (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY.as_str())],
        Html(PAGES[usize::from(state.language == Lang::En)].as_str()),
    )
}

/// The catalogue's files the page's texts come from.
const PAGE_FILES: [&str; 2] = ["dashboard", "common"];

#[derive(Debug, Deserialize)]
pub struct MessagesQuery {
    lang: Option<String>,
}

#[derive(Debug, Serialize)]
struct PageMessages {
    /// The language of `messages`: the one asked for, else the spooler's default.
    lang: Lang,
    /// `[api] language`: what the page speaks until staff choose.
    default: Lang,
    messages: &'static BTreeMap<&'static str, String>,
}

/// `GET /dashboard/messages?lang=id`: the page's texts in the language asked for, or in the
/// spooler's default one when the query names none. Only the query decides, not the browser's
/// `Accept-Language`: without a choice of its own the page speaks the office's language.
///
/// # Errors
/// A language the catalogue does not have.
pub async fn messages(
    State(state): State<Arc<ApiState>>,
    Query(query): Query<MessagesQuery>,
) -> Result<impl IntoResponse, ApiError> {
    let lang = match query.lang.as_deref() {
        None | Some("") => state.language,
        Some(asked) => asked.parse::<Lang>().map_err(|error| ApiError::BadRequest(error.to_string()))?,
    };
    let answer = PageMessages { lang, default: state.language, messages: &MESSAGES[usize::from(lang == Lang::En)] };
    Ok(([(header::CACHE_CONTROL, "no-cache")], Json(answer)))
}

static MESSAGES: LazyLock<[BTreeMap<&'static str, String>; 2]> = LazyLock::new(|| Lang::ALL.map(page_messages));

/// Every message of the page's files in `lang`, formatted with each variable given as the text
/// `{name}`: the page's `t(key, {name: value})` puts the values in. So the page needs no Fluent
/// of its own, and its messages have no selectors (a count reads right with `…-one`/`…-many`).
fn page_messages(lang: Lang) -> BTreeMap<&'static str, String> {
    i18n::sources(lang)
        .filter(|(file, _)| PAGE_FILES.contains(file))
        .flat_map(|(_, source)| {
            // A file that does not parse is caught by the catalogue's tests; what parsed is used.
            fluent_syntax::parser::parse(source).unwrap_or_else(|(partial, _)| partial).body
        })
        .filter_map(|entry| match entry {
            Entry::Message(message) => {
                Some((message.id.name, message.value.as_ref().map(i18n::pattern_variables).unwrap_or_default()))
            }
            _ => None,
        })
        .map(|(key, names)| {
            let placeholders: Vec<(&str, Arg)> =
                names.iter().map(|name| (*name, Arg::Text(format!("{{{name}}}")))).collect();
            (key, i18n::text(lang, key, &placeholders))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_policy_names_the_page_s_one_script_and_one_style() {
        assert_eq!(PAGE.matches("<script").count(), 1, "a second script would need its own hash");
        assert_eq!(PAGE.matches("<style").count(), 1);
        assert!(!PAGE.contains(" style=\""), "inline style attributes are refused by the policy");
        let policy = CONTENT_SECURITY_POLICY.as_str();
        assert!(policy.contains("script-src 'sha256-") && policy.contains("frame-ancestors 'none'"), "{policy}");
        assert_eq!(
            inline_hash("<p><script>x</script>", "script"),
            "'sha256-LXEWQrcmsEQBYnyp+6wy9chTD7GQPMTbAiWHF5IaSIE='"
        );
    }

    #[test]
    fn the_page_in_either_default_language_keeps_the_hashed_script_and_style() {
        for lang in Lang::ALL {
            let page = page_in(lang);
            assert!(page.starts_with(&format!("<!doctype html>\n<html lang=\"{lang}\" data-default-lang=\"{lang}\">")));
            assert_eq!(inline_hash(&page, "script"), inline_hash(PAGE, "script"));
            assert_eq!(inline_hash(&page, "style"), inline_hash(PAGE, "style"));
        }
    }

    #[test]
    fn the_page_s_messages_are_every_dashboard_and_common_message_with_placeholders() {
        for lang in Lang::ALL {
            let messages = page_messages(lang);
            let dashboard = i18n::sources(lang).find(|(file, _)| *file == "dashboard").unwrap().1;
            let keys: Vec<&str> = dashboard
                .lines()
                .filter_map(|line| line.split_once(" =").map(|(key, _)| key.trim()))
                .filter(|key| key.starts_with("dash-"))
                .collect();
            assert!(keys.len() > 50, "the dashboard's messages are found: {keys:?}");
            for key in keys {
                let text = messages.get(key).unwrap_or_else(|| panic!("{lang}: {key} is not sent to the page"));
                assert!(!text.contains("{ $") && !text.contains('$'), "{lang} {key}: {text}");
            }
            assert_eq!(messages["state-awaiting_authorization"], i18n::text(lang, "state-awaiting_authorization", &[]));
            assert!(!messages.keys().any(|key| key.starts_with("said-")), "the stored texts' words stay on the server");
        }
        assert_eq!(page_messages(Lang::En)["dash-updated"], "updated {when}");
        assert_eq!(page_messages(Lang::Id)["dash-updated"], "diperbarui {when}");
    }

    #[test]
    fn the_page_s_messages_have_no_selectors() {
        // The page fills placeholders in, and has no plural rules: a selector would be sent as its
        // default variant whatever the count.
        for lang in Lang::ALL {
            let source = i18n::sources(lang).find(|(file, _)| *file == "dashboard").unwrap().1;
            for entry in fluent_syntax::parser::parse(source).unwrap().body {
                let Entry::Message(message) = entry else { continue };
                let selects = message.value.iter().flat_map(|value| &value.elements).any(|element| {
                    use fluent_syntax::ast::{Expression, PatternElement};
                    matches!(element, PatternElement::Placeable { expression: Expression::Select { .. } })
                });
                assert!(!selects, "{lang} {}: use -one/-many keys instead of a selector", message.id.name);
            }
        }
    }
}
