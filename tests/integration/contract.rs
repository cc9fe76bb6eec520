//! The event contract, data-driven: every sample event in `samples/events/` is valid for both
//! the JSON Schema published to upstream services (`schemas/enrollment-event.v1.json`) and the
//! spooler's own validation (`parse_event`), with warnings exactly where intended; every bad
//! event in `samples/invalid/` is refused by `parse_event` naming the field `expected.toml`
//! gives, and by the schema too unless the rule is one a schema cannot express.
//!
//! Needs nothing but the repository. Regenerate the samples with
//! `cargo run --example generate_samples`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use base64::Engine as _;
use cardspool::domain::event::{
    parse_event, BloodType, Citizenship, EnrollmentEvent, ImageFormat, ImageLimits, MaritalStatus, Religion, Sex,
};
use jsonschema::error::ValidationErrorKind;
use serde_json::Value;

const SAMPLES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/samples/events");
const INVALID: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/samples/invalid");
const SCHEMA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/schemas/enrollment-event.v1.json");

/// The samples that carry a deliberate NIK mismatch, and a fragment of the warning each gets.
const INTENDED_WARNINGS: &[(&str, &str)] = &[
    ("08-palembang-abdul-kadir.json", "the NIK encodes birth date 01-04-58"),
    ("23-palangka-raya-andrias-tingang.json", "the NIK encodes sex PEREMPUAN"),
];

/// The field path that stands for the payload as a whole (not JSON, or not an object).
const WHOLE_PAYLOAD: &str = "$";

#[derive(Debug)]
enum Outcome<'a> {
    Accepted { warning: Option<&'a str> },
    Refused { field: &'a str, schema_catches: bool },
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Expectation {
    field: String,
    schema: bool,
    why: String,
}

fn validator() -> &'static jsonschema::Validator {
    static VALIDATOR: OnceLock<jsonschema::Validator> = OnceLock::new();
    VALIDATOR.get_or_init(|| {
        let schema: Value =
            serde_json::from_slice(&std::fs::read(SCHEMA).expect("read the schema")).expect("schema is JSON");
        jsonschema::options()
            .with_draft(jsonschema::Draft::Draft202012)
            .should_validate_formats(true)
            .build(&schema)
            .expect("the schema compiles")
    })
}

/// The field paths the schema's errors point at, in `parse_event`'s notation (`address.rt_rw`,
/// `$` for the whole payload). A missing or unexpected property is reported on its parent
/// object, so its own name is appended.
fn schema_error_fields(instance: &Value) -> BTreeSet<String> {
    let mut fields = BTreeSet::new();
    for error in validator().iter_errors(instance) {
        let parent: Vec<&str> = error.instance_path.as_str().split('/').filter(|s| !s.is_empty()).collect();
        let path = |name: Option<&str>| {
            let parts: Vec<&str> = parent.iter().copied().chain(name).collect();
            if parts.is_empty() {
                WHOLE_PAYLOAD.to_owned()
            } else {
                parts.join(".")
            }
        };
        match &error.kind {
            ValidationErrorKind::Required { property } => {
                fields.insert(path(property.as_str()));
            }
            ValidationErrorKind::AdditionalProperties { unexpected } => {
                fields.extend(unexpected.iter().map(|name| path(Some(name))));
            }
            _ => {
                fields.insert(path(None));
            }
        }
    }
    fields
}

fn sorted_files(dir: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> =
        std::fs::read_dir(dir).expect("read samples dir").map(|entry| entry.expect("dir entry").path()).collect();
    files.sort();
    files
}

fn file_name(path: &Path) -> &str {
    path.file_name().and_then(|n| n.to_str()).expect("UTF-8 file name")
}

/// The one check every sample goes through: the schema's verdict and `parse_event`'s must both
/// match `outcome`. Returns the parsed event when it was accepted.
#[track_caller]
fn check(path: &Path, outcome: &Outcome) -> Option<EnrollmentEvent> {
    let name = file_name(path);
    let payload = std::fs::read(path).expect("read sample");
    let parsed = parse_event(&payload, &ImageLimits::default());
    let schema_fields = serde_json::from_slice::<Value>(&payload).ok().map(|instance| schema_error_fields(&instance));
    match *outcome {
        Outcome::Accepted { warning } => {
            assert_eq!(schema_fields, Some(BTreeSet::new()), "{name}: the schema must accept it");
            let event = parsed.unwrap_or_else(|e| panic!("{name}: parse_event refused it: {e}"));
            match warning {
                None => assert!(event.warnings.is_empty(), "{name}: unintended warnings {:?}", event.warnings),
                Some(fragment) => assert!(
                    event.warnings.len() == 1 && event.warnings[0].contains(fragment),
                    "{name}: expected one warning containing {fragment:?}, got {:?}",
                    event.warnings
                ),
            }
            Some(event)
        }
        Outcome::Refused { field, schema_catches } => {
            let Err(error) = parsed else { panic!("{name}: parse_event accepted it") };
            let named: Vec<&str> = error.field_errors().iter().map(|e| e.field.as_str()).collect();
            if field == WHOLE_PAYLOAD {
                assert!(named.is_empty(), "{name}: expected a whole-payload refusal, got {error}");
            } else {
                assert!(named.contains(&field), "{name}: the error must name {field:?}, got {error}");
                assert!(named.iter().all(|f| *f == field), "{name}: errors beyond {field:?}: {error}");
            }
            match schema_fields {
                // Not JSON: no schema can pass it.
                None => assert_eq!(field, WHOLE_PAYLOAD, "{name}: not JSON, but expected a field error"),
                Some(fields) if schema_catches => {
                    assert!(fields.contains(field), "{name}: the schema must refuse {field:?}, it named {fields:?}");
                }
                Some(fields) => {
                    assert!(
                        fields.is_empty(),
                        "{name}: marked beyond the schema, but the schema refuses it: {fields:?}"
                    );
                }
            }
            None
        }
    }
}

fn sample_events() -> Vec<(PathBuf, EnrollmentEvent)> {
    let files = sorted_files(SAMPLES);
    assert!(files.len() >= 24, "at least 24 sample events, found {}", files.len());
    files
        .into_iter()
        .map(|path| {
            let warning =
                INTENDED_WARNINGS.iter().find(|(file, _)| *file == file_name(&path)).map(|(_, fragment)| *fragment);
            let event = check(&path, &Outcome::Accepted { warning }).expect("accepted");
            (path, event)
        })
        .collect()
}

#[test]
fn every_sample_event_is_valid_with_warnings_only_where_intended() {
    let events = sample_events();
    let names: BTreeSet<&str> = events.iter().map(|(path, _)| file_name(path)).collect();
    for (file, _) in INTENDED_WARNINGS {
        assert!(names.contains(file), "{file} is missing from samples/events");
    }
    let ids: BTreeSet<&str> = events.iter().map(|(_, e)| e.event_id.as_str()).collect();
    assert_eq!(ids.len(), events.len(), "every sample has its own event_id");
}

#[test]
fn other_spellings_are_valid_for_the_schema_and_read_as_the_card_s() {
    let sample = sorted_files("samples/events").remove(0);
    let original: Value = serde_json::from_slice(&std::fs::read(&sample).unwrap()).unwrap();
    for (field, sent, card) in [
        ("religion", "KONGHUCU", "KHONGHUCU"),
        ("religion", "BUDHA", "BUDDHA"),
        ("religion", "KATHOLIK", "KATOLIK"),
        ("religion", "KEPERCAYAAN", "KEPERCAYAAN TERHADAP TUHAN YME"),
        ("sex", "LAKI LAKI", "LAKI-LAKI"),
    ] {
        let mut event = original.clone();
        event[field] = Value::from(sent);
        assert!(validator().is_valid(&event), "{field} {sent} is valid for the schema");
        let parsed = parse_event(&serde_json::to_vec(&event).unwrap(), &ImageLimits::default()).unwrap();
        let read = if field == "sex" { parsed.sex.to_string() } else { parsed.religion.to_string() };
        assert_eq!(read, card);
        assert!(
            parsed.warnings.iter().any(|w| w == &format!("{field}: {sent} read as {card}")),
            "{:?}",
            parsed.warnings
        );
    }
}

#[test]
fn samples_cover_the_vocabularies_and_the_edge_cases() {
    let events: Vec<EnrollmentEvent> = sample_events().into_iter().map(|(_, e)| e).collect();
    let covers = |what: &str, missing: Vec<String>| assert!(missing.is_empty(), "no sample with {what} {missing:?}");
    covers("sex", Sex::ALL.iter().filter(|v| !events.iter().any(|e| e.sex == **v)).map(ToString::to_string).collect());
    covers(
        "blood type",
        BloodType::ALL
            .iter()
            .filter(|v| !events.iter().any(|e| e.blood_type == **v))
            .map(ToString::to_string)
            .collect(),
    );
    covers(
        "religion",
        Religion::ALL.iter().filter(|v| !events.iter().any(|e| e.religion == **v)).map(ToString::to_string).collect(),
    );
    covers(
        "marital status",
        MaritalStatus::ALL
            .iter()
            .filter(|v| !events.iter().any(|e| e.marital_status == **v))
            .map(ToString::to_string)
            .collect(),
    );
    covers(
        "citizenship",
        Citizenship::ALL
            .iter()
            .filter(|v| !events.iter().any(|e| e.citizenship == **v))
            .map(ToString::to_string)
            .collect(),
    );
    let chars = |e: &EnrollmentEvent| e.name.chars().count();
    assert!(events.iter().any(|e| !e.name.contains(' ')), "a single-word name");
    assert!(events.iter().any(|e| chars(e) >= 55), "a name near the 60-character limit");
    assert!(events.iter().any(|e| e.name.contains('\'')), "a name with an apostrophe");
    assert!(events.iter().any(|e| !e.name.is_ascii()), "a name with diacritics");
    assert!(events.iter().any(|e| e.template.is_none()), "an event without template");
    assert!(events.iter().any(|e| e.priority == cardspool::domain::event::Priority::Urgent), "an urgent event");
    assert!(events.iter().any(|e| e.nik.as_str()[..4] != e.office), "a NIK from another regency than the office");
    let provinces: BTreeSet<&str> = events.iter().map(|e| &e.nik.as_str()[..2]).collect();
    assert!(provinces.len() >= 15, "samples from at least 15 provinces, got {}", provinces.len());
}

#[test]
fn sample_photos_and_signatures_have_the_card_shapes() {
    for (path, event) in sample_events() {
        let name = file_name(&path);
        assert_eq!(
            (event.photo.format, event.photo.width, event.photo.height),
            (ImageFormat::Jpeg, 300, 400),
            "{name}"
        );
        assert!(
            (8_000..=40_000).contains(&event.photo.bytes.len()),
            "{name}: photo of {} bytes",
            event.photo.bytes.len()
        );
        assert_eq!(event.signature.format, ImageFormat::Png, "{name}");
        // The e-KTP background: red for odd birth years, blue for even. Read at the top corner.
        let photo = image::load_from_memory(&event.photo.bytes).expect("decode photo").to_rgb8();
        let [r, _, b] = photo.get_pixel(5, 5).0;
        let odd_year = chrono::Datelike::year(&event.birth_date) % 2 != 0;
        assert_eq!(r > b, odd_year, "{name}: background {r}/{b} for birth year {}", event.birth_date);
        // The signature is ink on transparency.
        let signature = image::load_from_memory(&event.signature.bytes).expect("decode signature").to_rgba8();
        let transparent = signature.pixels().filter(|p| p.0[3] == 0).count();
        let inked = signature.pixels().filter(|p| p.0[3] == 255).count();
        let total = signature.pixels().count();
        assert!(transparent > total / 2 && inked > 500, "{name}: {transparent} transparent, {inked} inked of {total}");
        assert!(std::fs::metadata(&path).expect("metadata").len() < 100_000, "{name}: over 100 KB");
    }
}

fn manifest() -> BTreeMap<String, Expectation> {
    let text = std::fs::read_to_string(Path::new(INVALID).join("expected.toml")).expect("read expected.toml");
    toml::from_str(&text).expect("expected.toml parses")
}

#[test]
fn every_invalid_event_is_refused_naming_its_field() {
    let manifest = manifest();
    let files: Vec<PathBuf> = sorted_files(INVALID).into_iter().filter(|p| file_name(p) != "expected.toml").collect();
    let on_disk: BTreeSet<&str> = files.iter().map(|p| file_name(p)).collect();
    let listed: BTreeSet<&str> = manifest.keys().map(String::as_str).collect();
    assert_eq!(on_disk, listed, "expected.toml and samples/invalid/ must list the same files");
    for path in &files {
        let expectation = &manifest[file_name(path)];
        assert!(!expectation.why.is_empty(), "{}: say why it is bad", file_name(path));
        check(path, &Outcome::Refused { field: &expectation.field, schema_catches: expectation.schema });
    }
}

#[test]
fn invalid_corpus_covers_the_contract_rules() {
    let manifest = manifest();
    let fields: BTreeSet<&str> = manifest.values().map(|e| e.field.as_str()).collect();
    for field in [
        WHOLE_PAYLOAD,
        "schema",
        "event_id",
        "type",
        "occurred_at",
        "office",
        "template",
        "priority",
        "nik",
        "name",
        "birth_date",
        "sex",
        "blood_type",
        "religion",
        "marital_status",
        "citizenship",
        "valid_until",
        "address.rt_rw",
        "photo",
        "signature",
    ] {
        assert!(fields.contains(field), "no invalid sample for {field}");
    }
    let nik_cases = manifest.values().filter(|e| e.field == "nik").count();
    assert!(nik_cases >= 6, "length, digits, dates, serial: {nik_cases} NIK cases");
}

#[test]
fn the_decompression_bombs_are_small_files_refused_from_the_header() {
    let manifest = manifest();
    let bombs: Vec<&String> = manifest.keys().filter(|name| name.contains("bomb")).collect();
    assert!(bombs.len() >= 2, "a photo bomb and a signature bomb");
    for name in bombs {
        let payload: Value =
            serde_json::from_slice(&std::fs::read(Path::new(INVALID).join(name)).expect("read")).expect("JSON");
        let field = &manifest[name].field;
        let png =
            base64::engine::general_purpose::STANDARD.decode(payload[field].as_str().expect("string")).expect("b64");
        assert!(png.len() < 1024, "{name}: a bomb is small ({} bytes)", png.len());
        let started = std::time::Instant::now();
        let error = parse_event(&serde_json::to_vec(&payload).expect("json"), &ImageLimits::default()).unwrap_err();
        // Refused by the dimension check, which reads only the header: decoding 60000x60000
        // pixels would take gigabytes and seconds.
        assert!(error.to_string().contains("60000x60000 pixels"), "{name}: {error}");
        assert!(started.elapsed() < std::time::Duration::from_secs(1), "{name}: took {:?}", started.elapsed());
    }
}

/// Every relative link in the project's Markdown points to a file that exists.
#[test]
fn every_file_the_documentation_links_to_exists() {
    let mut documents: Vec<PathBuf> =
        ["README.md", "ARCHITECTURE.md", "RELIABILITY.md"].iter().map(PathBuf::from).collect();
    documents.extend(sorted_files("docs").into_iter().filter(|p| p.extension().is_some_and(|e| e == "md")));
    let mut dead = Vec::new();
    for document in &documents {
        let text = std::fs::read_to_string(document).unwrap();
        for link in text.split("](").skip(1).filter_map(|rest| rest.split(')').next()) {
            let target = link.split('#').next().unwrap_or_default();
            if target.is_empty() || target.contains("://") || target.starts_with("mailto:") {
                continue;
            }
            let resolved = document.parent().unwrap_or(Path::new("")).join(target);
            if !resolved.exists() {
                dead.push(format!("{}: {link}", document.display()));
            }
        }
    }
    assert!(dead.is_empty(), "links to files that do not exist:\n{}", dead.join("\n"));
}
