//! Stored English texts shown in the reader's language.
//!
//! The spooler writes what it stores (reasons, audit entries) with the English `said-*`
//! messages. Each such message is read here as a pattern — literal text and `{ $variables }` —
//! and a stored text that one of them matches whole is written again in the reader's language,
//! its variables restated in turn (a reason may quote another: `cannot render: <why>`).

use std::borrow::Cow;
use std::sync::LazyLock;

use fluent_syntax::ast::{Entry, Expression, InlineExpression, PatternElement};

use super::{sources, text, Arg, Lang};
use crate::domain::job::JobState;
use crate::domain::office_time::OfficeZone;

/// Variables whose value is a whole number: a text that is not one does not match them, which
/// tells apart sayings that differ only in a count (`…; 5 cards waiting`).
pub(super) const NUMBER_VARIABLES: &[&str] =
    &["count", "bytes", "hours", "limit", "attempts", "blanks", "spoiled", "max"];

/// Variables that hold a job state's code (`awaiting_authorization`), shown by its name.
const STATE_VARIABLES: &[&str] = &["state", "from", "to", "expected", "actual"];

/// The variable that holds what a person typed (a reason given with an action).
const TYPED: &str = "typed";

fn fits(name: &str, value: &str) -> bool {
    let number = || value.bytes().all(|b| b.is_ascii_digit());
    // A field of the event contract, as a rejection names it: `nik`, `address.rt_rw`.
    let field = || value.bytes().all(|b| b.is_ascii_lowercase() || b == b'_' || b == b'.');
    !value.is_empty() && (!NUMBER_VARIABLES.contains(&name) || number()) && (name != "field" || field())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Part {
    Literal(&'static str),
    Variable(&'static str),
}

#[derive(Debug)]
pub(super) struct Saying {
    pub(super) key: &'static str,
    parts: Vec<Part>,
}

/// The English `said-*` messages as patterns, the most literal text first (so that a specific
/// saying wins over a general one that would also match).
pub(super) static SAYINGS: LazyLock<Vec<Saying>> = LazyLock::new(|| {
    let source = sources(Lang::En).find(|(file, _)| *file == "said").map_or("", |(_, text)| text);
    let resource = fluent_syntax::parser::parse(source).unwrap_or_else(|(partial, _)| partial);
    let mut sayings: Vec<Saying> = resource
        .body
        .into_iter()
        .filter_map(|entry| match entry {
            Entry::Message(message) if message.id.name.starts_with("said-") => {
                let parts = pattern_parts(&message.value?.elements)?;
                Some(Saying { key: message.id.name, parts })
            }
            _ => None,
        })
        .collect();
    sayings.sort_by_key(|saying| std::cmp::Reverse(literal_len(&saying.parts)));
    sayings
});

/// Literal text and variables; `None` for anything else (a selector, a message reference).
pub(super) fn pattern_parts(elements: &[PatternElement<&'static str>]) -> Option<Vec<Part>> {
    let mut parts: Vec<Part> = Vec::new();
    for element in elements {
        match element {
            PatternElement::TextElement { value } => match parts.last_mut() {
                // Fluent splits multi-line text into several elements; one literal is simpler.
                Some(Part::Literal(_)) => return None,
                _ => parts.push(Part::Literal(value)),
            },
            PatternElement::Placeable {
                expression: Expression::Inline(InlineExpression::VariableReference { id }),
            } => {
                parts.push(Part::Variable(id.name));
            }
            PatternElement::Placeable { .. } => return None,
        }
    }
    Some(parts)
}

fn literal_len(parts: &[Part]) -> usize {
    parts.iter().map(|part| if let Part::Literal(text) = part { text.len() } else { 0 }).sum()
}

/// Whether `parts` match all of `text`; the variables' values if so. A variable takes the
/// shortest text that lets the rest match (never empty).
fn matches<'t>(parts: &[Part], text: &'t str, values: &mut Vec<(&'static str, &'t str)>) -> bool {
    match parts {
        [] => text.is_empty(),
        [Part::Literal(literal), rest @ ..] => {
            text.strip_prefix(literal).is_some_and(|rest_text| matches(rest, rest_text, values))
        }
        [Part::Variable(name)] => {
            let fitting = fits(name, text);
            if fitting {
                values.push((name, text));
            }
            fitting
        }
        [Part::Variable(name), Part::Literal(next), ..] => {
            let mut from = 1;
            while let Some(found) = text.get(from..).and_then(|tail| tail.find(next)) {
                let end = from + found;
                if fits(name, &text[..end]) {
                    values.push((name, &text[..end]));
                    if matches(&parts[1..], &text[end..], values) {
                        return true;
                    }
                    values.pop();
                }
                from = end + 1;
                while !text.is_char_boundary(from) {
                    from += 1;
                }
            }
            false
        }
        // Two variables side by side cannot be told apart; the catalogue test refuses them.
        [Part::Variable(_), Part::Variable(_), ..] => false,
    }
}

/// The `said-*` message that wrote `stored`, with its variables' values.
pub(super) fn recognise(stored: &str) -> Option<(&'static str, Vec<(&'static str, &str)>)> {
    SAYINGS.iter().find_map(|saying| {
        let mut values = Vec::new();
        matches(&saying.parts, stored, &mut values).then_some((saying.key, values))
    })
}

/// `stored` (English, as the spooler wrote it) in `lang`: the same saying in that language, or
/// the text as it is when no saying wrote it.
pub fn restate(lang: Lang, stored: &str) -> Cow<'_, str> {
    restate_in(lang, None, stored)
}

/// As [`restate`], and with the UTC times the spooler stores (`2026-12-01 15:36 UTC`) written
/// in the office's zone the Indonesian way (`01-12-2026 22:36 WIB`), in either language.
pub fn restate_in(lang: Lang, zone: Option<OfficeZone>, stored: &str) -> Cow<'_, str> {
    if lang == Lang::En && zone.is_none() {
        return Cow::Borrowed(stored);
    }
    if let Some(at) = zone.and_then(|zone| utc_time(stored).map(|at| zone.format(at))) {
        return Cow::Owned(at);
    }
    match recognise(stored) {
        Some((key, values)) => {
            let args: Vec<(&str, Arg)> = values
                .into_iter()
                .map(|(name, value)| {
                    // What a person typed is theirs: shown as typed, in whatever language.
                    let shown = match value.parse::<JobState>() {
                        _ if name == TYPED => value.to_owned(),
                        Ok(state) if STATE_VARIABLES.contains(&name) => super::state_name(lang, state),
                        _ => restate_in(lang, zone, value).into_owned(),
                    };
                    (name, Arg::Text(shown))
                })
                .collect();
            Cow::Owned(text(lang, key, &args))
        }
        // Several findings joined into one text (an event's problems, a job's warnings).
        None if stored.contains("; ") => {
            let parts: Vec<Cow<'_, str>> = stored.split("; ").map(|part| restate_in(lang, zone, part)).collect();
            if parts.iter().all(|part| matches!(part, Cow::Borrowed(_))) {
                Cow::Borrowed(stored)
            } else {
                Cow::Owned(parts.join("; "))
            }
        }
        // A list of things each of which the catalogue knows (a printer's faults).
        None if stored.contains(", ") => {
            let parts: Vec<&str> = stored.split(", ").collect();
            if parts.iter().all(|part| recognise(part).is_some()) {
                Cow::Owned(parts.iter().map(|part| restate_in(lang, zone, part)).collect::<Vec<_>>().join(", "))
            } else {
                Cow::Borrowed(stored)
            }
        }
        None => Cow::Borrowed(stored),
    }
}

/// A time as the spooler stores it in a text: `2026-12-01 15:36 UTC` or `2026-12-01 15:36:07 UTC`.
fn utc_time(text: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    let naive = text.strip_suffix(" UTC")?;
    ["%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M"]
        .iter()
        .find_map(|format| chrono::NaiveDateTime::parse_from_str(naive, format).ok())
        .map(|at| at.and_utc())
}

#[cfg(test)]
pub(super) fn two_variables_side_by_side(parts: &[Part]) -> bool {
    parts.windows(2).any(|pair| matches!(pair, [Part::Variable(_), Part::Variable(_)]))
}

#[cfg(test)]
pub(super) fn variables(parts: &[Part]) -> Vec<&'static str> {
    parts.iter().filter_map(|part| if let Part::Variable(name) = part { Some(*name) } else { None }).collect()
}
