use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use fluent_syntax::ast::Entry;

use super::restate::{pattern_parts, recognise, two_variables_side_by_side, variables, NUMBER_VARIABLES, SAYINGS};
use super::*;

/// Every message of a file: its id and the variables it uses (in its value, selectors included).
fn messages(source: &'static str) -> BTreeMap<&'static str, BTreeSet<&'static str>> {
    let resource =
        fluent_syntax::parser::parse(source).unwrap_or_else(|(_, errors)| panic!("does not parse: {errors:?}"));
    let mut found = BTreeMap::new();
    for entry in resource.body {
        match entry {
            Entry::Message(message) => {
                let names: BTreeSet<&'static str> =
                    message.value.as_ref().map(pattern_variables).unwrap_or_default().into_iter().collect();
                assert!(found.insert(message.id.name, names).is_none(), "{} twice", message.id.name);
            }
            Entry::Junk { content } => panic!("not Fluent: {content}"),
            _ => {}
        }
    }
    found
}

#[test]
fn both_catalogues_have_the_same_messages_with_the_same_variables() {
    let mut all_keys = BTreeSet::new();
    for ((file, id_source), (_, en_source)) in sources(Lang::Id).zip(sources(Lang::En)) {
        let id = messages(id_source);
        let en = messages(en_source);
        let only_id: Vec<_> = id.keys().filter(|key| !en.contains_key(*key)).collect();
        let only_en: Vec<_> = en.keys().filter(|key| !id.contains_key(*key)).collect();
        assert!(
            only_id.is_empty() && only_en.is_empty(),
            "{file}.ftl: only in id: {only_id:?}; only in en: {only_en:?}"
        );
        for (key, variables) in &id {
            assert_eq!(variables, &en[key], "{file}.ftl: {key} uses other variables in id than in en");
            assert!(all_keys.insert(*key), "{key} is in two files");
        }
    }
}

#[test]
fn every_message_formats_without_errors_in_both_languages() {
    for lang in Lang::ALL {
        let bundle = &catalogue(lang).bundle;
        for (file, source) in sources(lang) {
            for (key, names) in messages(source) {
                for sample in [Arg::Number(1.0), Arg::Number(3.0), Arg::Text("x".into())] {
                    let mut args = FluentArgs::new();
                    for name in &names {
                        match &sample {
                            Arg::Number(n) => args.set(*name, FluentValue::from(*n)),
                            Arg::Text(t) => args.set(*name, FluentValue::from(t.as_str())),
                        }
                    }
                    let pattern = bundle.get_message(key).and_then(|m| m.value()).unwrap_or_else(|| panic!("{key}"));
                    let mut errors = Vec::new();
                    let formatted = bundle.format_pattern(pattern, Some(&args), &mut errors);
                    assert!(errors.is_empty(), "{lang} {file}.ftl {key}: {errors:?}");
                    assert!(!formatted.trim().is_empty(), "{lang} {key} is empty");
                }
            }
        }
    }
}

/// Keys in the code: `tr!(lang, KEY, …)` in Rust with KEY a string literal, `t(KEY, …)` in the
/// dashboard's script, `data-t=KEY` (and `data-t-title`, `data-t-placeholder`, …) in its markup.
fn keys_used_in(dir: &Path, found: &mut BTreeMap<String, String>) {
    let rust = regex::Regex::new(r#"tr!\(\s*[^,]+,\s*"([a-z0-9_-]+)""#).unwrap();
    let page = regex::Regex::new(r#"(?:\bt\(|data-t(?:-[a-z]+)?=)\s*"([a-z0-9_-]+)""#).unwrap();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            keys_used_in(&path, found);
            continue;
        }
        let pattern = match path.extension().and_then(|e| e.to_str()) {
            Some("rs") => &rust,
            Some("html") => &page,
            _ => continue,
        };
        let text = std::fs::read_to_string(&path).unwrap();
        for captures in pattern.captures_iter(&text) {
            found.entry(captures[1].to_owned()).or_insert_with(|| path.display().to_string());
        }
    }
}

#[test]
fn every_key_the_code_asks_for_is_in_both_catalogues() {
    let mut used = BTreeMap::new();
    keys_used_in(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"), &mut used);
    assert!(used.contains_key("state-held"), "the scan finds the keys: {used:?}");
    let missing: Vec<String> = used
        .iter()
        .flat_map(|(key, file)| {
            Lang::ALL
                .into_iter()
                .filter(|lang| !has(*lang, key))
                .map(move |lang| format!("{key} ({lang}, asked for in {file})"))
        })
        .collect();
    assert!(missing.is_empty(), "keys missing from the catalogue: {missing:#?}");
}

#[test]
fn every_said_message_is_a_pattern_its_english_text_is_recognised_by() {
    let source = sources(Lang::En).find(|(file, _)| *file == "said").unwrap().1;
    let resource = fluent_syntax::parser::parse(source).unwrap();
    let mut count = 0;
    for entry in &resource.body {
        let Entry::Message(message) = entry else { continue };
        count += 1;
        let parts = pattern_parts(&message.value.as_ref().unwrap().elements)
            .unwrap_or_else(|| panic!("{} is not plain text and variables", message.id.name));
        assert!(!two_variables_side_by_side(&parts), "{}: two variables side by side", message.id.name);
        let names = variables(&parts);
        let sample = |name: &str| match name {
            _ if NUMBER_VARIABLES.contains(&name) => "7".to_owned(),
            "field" => "address.rt_rw".to_owned(),
            _ => format!("<{name}>"),
        };
        let args: Vec<(&str, Arg)> = names.iter().map(|name| (*name, Arg::Text(sample(name)))).collect();
        let english = text(Lang::En, message.id.name, &args);
        let (key, values) = recognise(&english).unwrap_or_else(|| panic!("{english:?} is not recognised"));
        assert_eq!(key, message.id.name, "{english:?} is recognised as another saying");
        for (name, value) in values {
            assert_eq!(value, sample(name), "{key}: {name}");
        }
        // Words the office uses in both languages.
        if key != "said-role-operator" {
            assert_ne!(restate(Lang::Id, &english), english, "{key} reads the same in Indonesian");
        }
    }
    assert_eq!(count, SAYINGS.len());
}

#[test]
fn stored_texts_are_restated_with_their_quoted_reasons() {
    let jam = tr!(Lang::En, "said-fault-media-jam");
    let aborted = tr!(Lang::En, "said-aborted", printer = "evolis-1", cause = &jam);
    assert_eq!(aborted, "aborted by evolis-1: media-jam");
    assert_eq!(restate(Lang::Id, &aborted), "dihentikan oleh evolis-1: kartu macet");
    assert_eq!(restate(Lang::En, &aborted), aborted);
    let asking =
        tr!(Lang::En, "said-asking-again", why = tr!(Lang::En, "said-central-pending"), at = "2026-12-01 15:36:07 UTC");
    assert_eq!(
        restate_in(Lang::Id, Some(crate::domain::office_time::OfficeZone::Wita), &asking),
        "data belum selesai diverifikasi pusat (tertunda); ditanyakan lagi pada 01-12-2026 23:36 WITA"
    );
    assert_eq!(
        restate_in(Lang::En, Some(crate::domain::office_time::OfficeZone::Wib), &asking),
        "central has not cleared the record yet (pending); asking again at 01-12-2026 22:36 WIB"
    );
    let faults = format!("{jam}, {}", tr!(Lang::En, "said-fault-cover-open"));
    assert_eq!(restate(Lang::Id, &faults), "kartu macet, penutup printer terbuka");
    assert_eq!(
        restate(Lang::Id, "paper, scissors"),
        "paper, scissors",
        "a list is restated only when all of it is known"
    );
    assert_eq!(restate(Lang::Id, "Kartu rusak, tinta luntur"), "Kartu rusak, tinta luntur", "free text stays");
}

#[test]
fn languages_are_read_from_codes_and_accept_language_headers() {
    assert_eq!(Lang::default(), Lang::Id);
    assert_eq!("en-US".parse::<Lang>().unwrap(), Lang::En);
    assert_eq!("ID".parse::<Lang>().unwrap(), Lang::Id);
    assert!("fr".parse::<Lang>().unwrap_err().to_string().contains("use id"));
    assert_eq!(Lang::from_accept_language("fr-FR, en;q=0.5, id;q=0.9"), Some(Lang::Id));
    assert_eq!(Lang::from_accept_language("en-US,en;q=0.9"), Some(Lang::En));
    assert_eq!(Lang::from_accept_language("fr, de"), None);
    assert_eq!(Lang::from_accept_language("id;q=0, en"), Some(Lang::En));
}

#[test]
fn plural_counts_and_states_read_in_both_languages() {
    assert_eq!(tr!(Lang::Id, "state-held"), "ditahan");
    assert_eq!(tr!(Lang::En, "state-held"), "held");
    assert_eq!(state_name(Lang::Id, crate::domain::job::JobState::Unknown), "belum pasti (perlu diperiksa petugas)");
    assert_eq!(text(Lang::En, "no-such-key", &[]), "no-such-key", "a missing key shows itself");
}

/// Errors whose English is written by `thiserror` in their own module: the catalogue must still
/// recognise each, or staff would read it in English.
#[test]
fn the_errors_staff_meet_are_restated() {
    use crate::central::AuthorizationProblem;
    use crate::config::StaffRole;
    use crate::domain::job::{IllegalTransition, JobId, JobState};
    use crate::http::ApiError;
    use crate::journal::JournalError;
    use crate::printer::test_card::TestCardError;

    let at = chrono::DateTime::parse_from_rfc3339("2026-12-01T15:36:00Z").unwrap().with_timezone(&chrono::Utc);
    let job_id = JobId::new();
    let errors: Vec<String> = vec![
        ApiError::Unauthenticated.to_string(),
        ApiError::NoTokensConfigured.to_string(),
        ApiError::TooMany {
            what: tr!(Lang::En, "said-api-wrong-tokens"),
            retry_after: std::time::Duration::from_secs(30),
        }
        .to_string(),
        ApiError::Forbidden {
            action: tr!(Lang::En, "said-action-held"),
            needed: StaffRole::Operator,
            has: StaffRole::Viewer,
            name: "budi".into(),
        }
        .to_string(),
        IllegalTransition { from: JobState::Printed, to: JobState::Held, by_staff: true }.to_string(),
        IllegalTransition { from: JobState::Printed, to: JobState::Held, by_staff: false }.to_string(),
        JournalError::Conflict { job_id, expected: JobState::Held, actual: JobState::Printed }.to_string(),
        TestCardError::UnknownPrinter("evolis-9".into()).to_string(),
        TestCardError::NotReady { name: "evolis-1".into(), status: tr!(Lang::En, "said-printer-not-checked") }
            .to_string(),
        TestCardError::NoTemplate("ektp".into()).to_string(),
        TestCardError::Render("font".into()).to_string(),
        AuthorizationProblem::Unreadable("eof".into()).to_string(),
        AuthorizationProblem::UnknownKey { got: "k1".into(), expected: "k2".into() }.to_string(),
        AuthorizationProblem::BadSignature.to_string(),
        AuthorizationProblem::WrongNik.to_string(),
        AuthorizationProblem::WrongEnrollment { got: "e-1".into() }.to_string(),
        AuthorizationProblem::WrongCard.to_string(),
        AuthorizationProblem::WrongOffice { got: "1502".into() }.to_string(),
        AuthorizationProblem::Expired { expires_at: at }.to_string(),
        crate::printer::PrinterError::Unreachable("connection refused".into()).to_string(),
        crate::printer::PrinterError::Busy.to_string(),
        crate::config::CentralConfig::default().usable_public_key().unwrap_err(),
    ];
    for english in &errors {
        assert!(recognise(english).is_some(), "the catalogue does not recognise {english:?}");
        let restated = restate(Lang::Id, english);
        assert_ne!(&restated, english, "{english:?} reads the same in Indonesian");
    }
    let forbidden = restate(Lang::Id, &errors[3]);
    assert_eq!(forbidden, "ditahan memerlukan peran operator; budi berperan pemantau");
}

#[test]
fn an_event_s_refusal_is_restated_problem_by_problem() {
    use crate::domain::event::{parse_event, ImageLimits};

    let sample =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/samples/events/01-merangin-hamidah.json"))
            .unwrap();
    let mut event: serde_json::Value = serde_json::from_str(&sample).unwrap();
    event["nik"] = "15020152038500".into();
    event["religion"] = "SHINTO".into();
    event["name"] = "".into();
    event["address"]["rt_rw"] = "1/2".into();
    event["photo"] = "not base64!".into();
    event["colour"] = "blue".into();
    event.as_object_mut().unwrap().remove("birth_place");
    let english = parse_event(event.to_string().as_bytes(), &ImageLimits::default()).unwrap_err().to_string();
    let problems: Vec<&str> = english.split("; ").collect();
    assert!(problems.len() >= 7, "{english}");
    let indonesian = restate(Lang::Id, &english);
    let restated: Vec<&str> = indonesian.split("; ").collect();
    assert_eq!(restated.len(), problems.len(), "{indonesian}");
    for (before, after) in problems.iter().zip(&restated) {
        assert!(after.starts_with("kolom "), "{before:?} was not restated: {after:?}");
    }
    assert!(indonesian.contains("kolom nik: harus tepat 16 angka, ternyata 14 karakter"), "{indonesian}");
    assert!(indonesian.contains("kolom birth_place: wajib diisi"), "{indonesian}");
}

#[test]
fn states_quoted_in_a_text_are_named() {
    let refused = tr!(Lang::En, "said-not-held", job = "j-1", state = "awaiting_authorization");
    assert_eq!(restate(Lang::Id, &refused), "pekerjaan cetak j-1 berstatus menunggu otorisasi pusat, tidak ditahan");
    assert_eq!(restate(Lang::En, &refused), refused, "English keeps the codes the API documents");
}
