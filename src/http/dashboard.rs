//! The dashboard: one static page, embedded in the binary, that polls the JSON API.

use std::sync::LazyLock;

use axum::http::header;
use axum::response::{Html, IntoResponse};
use base64::Engine;
use sha2::{Digest, Sha256};

const PAGE: &str = include_str!("dashboard.html");

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

/// `'sha256-…'` of the page's one inline `<tag>` element's text, as CSP hashes it.
fn inline_hash(page: &str, tag: &str) -> String {
    let open = format!("<{tag}>");
    let start = page.find(&open).map(|i| i + open.len()).expect("the dashboard has its inline element");
    let end = start + page[start..].find(&format!("</{tag}>")).expect("the inline element is closed");
    let digest = Sha256::digest(&page.as_bytes()[start..end]);
    format!("'sha256-{}'", base64::engine::general_purpose::STANDARD.encode(digest))
}

pub async fn page() -> impl IntoResponse {
    // The page holds no data (it fetches it with the staff member's token), but a stale copy
    // after an upgrade would talk to the API in an old way.
    (
        [(header::CACHE_CONTROL, "no-cache"), (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY.as_str())],
        Html(PAGE),
    )
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
}
