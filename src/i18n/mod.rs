//! The print room's words: Bahasa Indonesia (the default) and English, from one catalogue.
//!
//! The catalogue is Fluent (`locales/{id,en}/*.ftl`), built into the binary. Every text staff
//! read — the dashboard, the staff CLI, the reasons, central's situation, printer faults, errors
//! of actions — is a message there, asked for by key with [`tr!`]. Status events, logs and the
//! journal stay in English: they are read by programs and by whoever debugs, not by the print
//! room.
//!
//! Texts the spooler *stores* (a job's reason, an audit entry) are written in English through
//! the `said-*` messages, and put into the reader's language when shown ([`restate`]): the
//! journal keeps one language, old rows included, and the catalogue's English patterns are the
//! only place the wording lives. A stored text that no `said-*` message matches (free text a
//! person typed, a printer's own message) is shown as it is.
//!
//! Architecture invariant: no I/O. A missing key is a bug the tests catch
//! (`every_key_the_code_asks_for_is_in_both_catalogues`); at run time it shows the key itself.

mod restate;

use std::fmt;
use std::str::FromStr;
use std::sync::LazyLock;

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};
use serde::{Deserialize, Serialize};

pub use restate::{restate, restate_in};

/// A language of the print room. Bahasa Indonesia unless asked otherwise.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum Lang {
    #[default]
    #[serde(rename = "id")]
    Id,
    #[serde(rename = "en")]
    En,
}

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::Id, Lang::En];

    /// The BCP 47 code: `id`, `en`.
    pub fn code(self) -> &'static str {
        match self {
            Lang::Id => "id",
            Lang::En => "en",
        }
    }

    /// `id`, `id-ID`, `in` (the old code for Indonesian), `en`, `en-US`, …, any case.
    pub fn parse(text: &str) -> Option<Lang> {
        let primary = text.trim().split(['-', '_']).next().unwrap_or_default().to_ascii_lowercase();
        match primary.as_str() {
            "id" | "in" | "ind" => Some(Lang::Id),
            "en" | "eng" => Some(Lang::En),
            _ => None,
        }
    }

    /// The first language of an `Accept-Language` header this catalogue has, by the header's
    /// weights (`q=`); `None` when it names neither.
    pub fn from_accept_language(header: &str) -> Option<Lang> {
        let mut offered: Vec<(f32, usize, Lang)> = header
            .split(',')
            .enumerate()
            .filter_map(|(order, item)| {
                let mut parts = item.split(';');
                let lang = Lang::parse(parts.next()?)?;
                let weight = parts
                    .find_map(|p| p.trim().strip_prefix("q=").and_then(|q| q.trim().parse::<f32>().ok()))
                    .unwrap_or(1.0);
                (weight > 0.0).then_some((weight, order, lang))
            })
            .collect();
        offered.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        offered.first().map(|&(_, _, lang)| lang)
    }
}

impl fmt::Display for Lang {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

#[derive(Debug, thiserror::Error)]
#[error("unknown language {0:?}: use id (Bahasa Indonesia) or en (English)")]
pub struct UnknownLang(String);

impl FromStr for Lang {
    type Err = UnknownLang;

    fn from_str(text: &str) -> Result<Lang, UnknownLang> {
        Lang::parse(text).ok_or_else(|| UnknownLang(text.to_owned()))
    }
}

/// A value put into a message: text, or a number (which plural forms select on).
#[derive(Debug, Clone, PartialEq)]
pub enum Arg {
    Text(String),
    Number(f64),
}

macro_rules! number_args {
    ($($t:ty),*) => {$(
        impl From<$t> for Arg {
            #[allow(clippy::cast_precision_loss, clippy::cast_lossless)] // counts of cards, far below 2^52
            fn from(n: $t) -> Arg { Arg::Number(n as f64) }
        }
    )*};
}
number_args!(i32, i64, u32, u64, usize, f64);

impl From<String> for Arg {
    fn from(text: String) -> Arg {
        Arg::Text(text)
    }
}

impl From<&String> for Arg {
    fn from(text: &String) -> Arg {
        Arg::Text(text.clone())
    }
}

impl From<&str> for Arg {
    fn from(text: &str) -> Arg {
        Arg::Text(text.to_owned())
    }
}

impl From<std::borrow::Cow<'_, str>> for Arg {
    fn from(text: std::borrow::Cow<'_, str>) -> Arg {
        Arg::Text(text.into_owned())
    }
}

/// A message of the catalogue in `lang`: `tr!(lang, KEY)`, `tr!(lang, KEY, count = n, name = x)` with KEY
/// a string literal (so that the catalogue test finds it).
/// Argument values are anything [`Arg`] converts from (text, numbers); others with `.to_string()`.
#[macro_export]
macro_rules! tr {
    ($lang:expr, $key:literal $(, $name:ident = $value:expr)* $(,)?) => {
        $crate::i18n::text($lang, $key, &[$((stringify!($name), $crate::i18n::Arg::from($value))),*])
    };
}

/// The catalogue's files, per language. A new file is added to both lists.
const FILES: [(&str, &str, &str); 5] = [
    ("common", include_str!("../../locales/id/common.ftl"), include_str!("../../locales/en/common.ftl")),
    ("said", include_str!("../../locales/id/said.ftl"), include_str!("../../locales/en/said.ftl")),
    ("spooler", include_str!("../../locales/id/spooler.ftl"), include_str!("../../locales/en/spooler.ftl")),
    ("cli", include_str!("../../locales/id/cli.ftl"), include_str!("../../locales/en/cli.ftl")),
    ("dashboard", include_str!("../../locales/id/dashboard.ftl"), include_str!("../../locales/en/dashboard.ftl")),
];

/// The source texts of `lang`'s catalogue, file by file: `(file, text)`.
pub fn sources(lang: Lang) -> impl Iterator<Item = (&'static str, &'static str)> {
    FILES.iter().map(move |&(file, id, en)| (file, if lang == Lang::Id { id } else { en }))
}

struct Catalogue {
    bundle: FluentBundle<FluentResource>,
}

impl Catalogue {
    fn load(lang: Lang) -> Catalogue {
        let langid = lang.code().parse().expect("id and en are language identifiers");
        let mut bundle = FluentBundle::new_concurrent(vec![langid]);
        // No Unicode isolation marks around values: the texts go to terminals, CSV and tests,
        // and neither language is written right to left.
        bundle.set_use_isolating(false);
        for (file, source) in sources(lang) {
            // A broken file is caught by the tests; at run time what parsed is used.
            let resource = FluentResource::try_new(source.to_owned()).unwrap_or_else(|(partial, _)| partial);
            if let Err(errors) = bundle.add_resource(resource) {
                debug_assert!(errors.is_empty(), "{lang} {file}.ftl: {errors:?}");
            }
        }
        Catalogue { bundle }
    }
}

static CATALOGUES: LazyLock<[Catalogue; 2]> = LazyLock::new(|| [Catalogue::load(Lang::Id), Catalogue::load(Lang::En)]);

fn catalogue(lang: Lang) -> &'static Catalogue {
    &CATALOGUES[usize::from(lang == Lang::En)]
}

/// Whether `key` is a message of `lang`'s catalogue.
pub fn has(lang: Lang, key: &str) -> bool {
    catalogue(lang).bundle.has_message(key)
}

/// The message `key` in `lang` with `args`; the key itself when the catalogue lacks it.
pub fn text(lang: Lang, key: &str, args: &[(&str, Arg)]) -> String {
    let bundle = &catalogue(lang).bundle;
    let Some(pattern) = bundle.get_message(key).and_then(|message| message.value()) else {
        return key.to_owned();
    };
    let mut fluent_args = FluentArgs::with_capacity(args.len());
    for (name, value) in args {
        match value {
            Arg::Text(text) => fluent_args.set(*name, FluentValue::from(text.as_str())),
            Arg::Number(n) => fluent_args.set(*name, FluentValue::from(*n)),
        }
    }
    let mut errors = Vec::new();
    bundle.format_pattern(pattern, Some(&fluent_args), &mut errors).into_owned()
}

/// The variables a message's pattern uses, selectors and nested placeables included, each once
/// in the order of first use.
pub fn pattern_variables(pattern: &fluent_syntax::ast::Pattern<&'static str>) -> Vec<&'static str> {
    use fluent_syntax::ast::{Expression, InlineExpression, Pattern, PatternElement};

    fn in_inline(expression: &InlineExpression<&'static str>, names: &mut Vec<&'static str>) {
        match expression {
            InlineExpression::VariableReference { id } if !names.contains(&id.name) => names.push(id.name),
            InlineExpression::Placeable { expression } => in_expression(expression, names),
            _ => {}
        }
    }
    fn in_expression(expression: &Expression<&'static str>, names: &mut Vec<&'static str>) {
        match expression {
            Expression::Inline(inline) => in_inline(inline, names),
            Expression::Select { selector, variants } => {
                in_inline(selector, names);
                for variant in variants {
                    in_pattern(&variant.value, names);
                }
            }
        }
    }
    fn in_pattern(pattern: &Pattern<&'static str>, names: &mut Vec<&'static str>) {
        for element in &pattern.elements {
            if let PatternElement::Placeable { expression } = element {
                in_expression(expression, names);
            }
        }
    }
    let mut names = Vec::new();
    in_pattern(pattern, &mut names);
    names
}

/// A job state's name for staff (`menunggu otorisasi pusat`), from its stable code.
pub fn state_name(lang: Lang, state: crate::domain::job::JobState) -> String {
    use crate::domain::job::JobState;
    match state {
        JobState::Received => tr!(lang, "state-received"),
        JobState::AwaitingAuthorization => tr!(lang, "state-awaiting_authorization"),
        JobState::Authorized => tr!(lang, "state-authorized"),
        JobState::Rendered => tr!(lang, "state-rendered"),
        JobState::Printing => tr!(lang, "state-printing"),
        JobState::Printed => tr!(lang, "state-printed"),
        JobState::Held => tr!(lang, "state-held"),
        JobState::Rejected => tr!(lang, "state-rejected"),
        JobState::Failed => tr!(lang, "state-failed"),
        JobState::Cancelled => tr!(lang, "state-cancelled"),
        JobState::Spoiled => tr!(lang, "state-spoiled"),
        JobState::Unknown => tr!(lang, "state-unknown"),
    }
}

#[cfg(test)]
mod tests;
