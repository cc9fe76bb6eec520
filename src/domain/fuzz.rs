//! Fuzzing the two parsers of untrusted text (issue 11): [`parse_event`] reads every payload a
//! publisher sends, [`parse_template`] every template a print room edits. Each is fed arbitrary
//! input and mutations of the real files (`samples/events/*.json`, `templates/ektp.toml`). The
//! property is the same for all: no panic, `Ok` or `Err` both fine, and what is accepted keeps
//! the invariants the later stages rely on.
//!
//! `cargo test` runs 300 to 2,000 cases per property (about 15 s in a debug build). A long run
//! sets `PROPTEST_CASES`, one property at a time, in release mode (RELIABILITY.md, "Fuzzing"):
//! `PROPTEST_CASES=500000 cargo test --release --lib domain::fuzz::event_from_arbitrary_bytes`.
//! Allocation is measured in `tests/alloc_limits.rs`: a counting allocator is a whole binary's.

use std::path::Path;
use std::sync::OnceLock;

use base64::Engine as _;
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::TestCaseError;
use serde_json::Value;

use super::event::{parse_event, Citizenship, EnrollmentEvent, ImageFormat, ImageLimits, ValidUntil, MAX_NAME_CHARS};
use super::layout::template::{parse_template, Field, ItemKind, Template};
use super::layout::BoxMm;

/// The property's configuration: `ProptestConfig::default()` already takes `PROPTEST_CASES` from
/// the environment; without it, `cases` keeps `cargo test` short.
fn config(cases: u32) -> ProptestConfig {
    let mut config = ProptestConfig::default();
    if std::env::var_os("PROPTEST_CASES").is_none() {
        config.cases = cases;
    }
    config
}

fn base64_encode(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn base64_decode(text: &str) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD.decode(text).expect("the samples' images are base64")
}

/// The sample events, parsed once: the mutations start from their JSON or from their bytes.
fn sample_events() -> &'static [(Vec<u8>, Value)] {
    static SAMPLES: OnceLock<Vec<(Vec<u8>, Value)>> = OnceLock::new();
    SAMPLES.get_or_init(|| {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/events");
        let mut paths: Vec<_> = std::fs::read_dir(&dir)
            .expect("samples/events")
            .map(|entry| entry.expect("a directory entry").path())
            .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
            .collect();
        paths.sort();
        let samples: Vec<_> = paths
            .iter()
            .map(|path| {
                let bytes = std::fs::read(path).expect("a sample event");
                let value = serde_json::from_slice(&bytes).expect("a sample is JSON");
                (bytes, value)
            })
            .collect();
        assert!(!samples.is_empty(), "no sample events in {}", dir.display());
        samples
    })
}

fn ektp_template() -> &'static str {
    static TEMPLATE: OnceLock<String> = OnceLock::new();
    TEMPLATE.get_or_init(|| {
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("templates/ektp.toml"))
            .expect("templates/ektp.toml")
    })
}

/// The limits intake runs with by default, and small ones that the samples' photos (400x300,
/// 13 KB) exceed, so that both the header checks and the decoders are reached.
fn limits() -> impl Strategy<Value = ImageLimits> {
    prop_oneof![
        3 => Just(ImageLimits::default()),
        1 => Just(ImageLimits {
            photo_max_bytes: 64 * 1024,
            photo_max_pixels: 100_000,
            signature_max_bytes: 16 * 1024,
            signature_max_pixels: 100_000,
        }),
    ]
}

// ---------------------------------------------------------------------------------- bytes ---

/// Byte sequences that mean something to a JSON parser, a base64 decoder or UTF-8.
const JSON_TOKENS: &[&[u8]] = &[
    b"\"",
    b"\\",
    b"\\u0000",
    b"\\ud800",
    b"\\uDFFF\\uD800",
    b"{",
    b"}",
    b"[",
    b"]",
    b",",
    b":",
    b"null",
    b"true",
    b"-0",
    b"1e999",
    b"-1e999",
    b"18446744073709551616",
    b"-9223372036854775809",
    b"1e-400",
    b"0.",
    b"\xEF\xBB\xBF",
    b"\xFF",
    b"\xC3",
    b"\xED\xA0\x80",
    b"\x00",
    b"\t",
    b"\n",
    b"=",
    b"==",
    b"\"name\":\"X\",",
    b"\"address\":{},",
    b"\"photo\":\"\",",
    b"/9j/",
    b"iVBORw0KGgo",
];

/// One change to a byte string. Offsets are [`Index`]es, resolved against the length the bytes
/// have when the edit is applied; `head` puts the offset in the first KiB, where a sample event's
/// fields other than the images are (the images are nine tenths of its bytes).
#[derive(Debug, Clone)]
enum Edit {
    FlipBit {
        at: Index,
        head: bool,
        bit: u8,
    },
    SetByte {
        at: Index,
        head: bool,
        byte: u8,
    },
    Insert {
        at: Index,
        head: bool,
        bytes: Vec<u8>,
    },
    Delete {
        at: Index,
        head: bool,
        len: usize,
    },
    /// A run copied in place: a key, a value or a segment twice.
    Duplicate {
        at: Index,
        head: bool,
        len: usize,
    },
    /// Everything from the offset on cut off, as by a transfer that stopped.
    Truncate {
        at: Index,
    },
}

const HEAD_BYTES: usize = 1024;

fn offset(at: Index, head: bool, len: usize) -> usize {
    let span = if head { len.min(HEAD_BYTES) } else { len };
    at.index(span + 1)
}

impl Edit {
    fn apply(&self, bytes: &mut Vec<u8>) {
        let len = bytes.len();
        match self {
            Edit::FlipBit { at, head, bit } if len > 0 => {
                let i = offset(*at, *head, len - 1);
                bytes[i] ^= 1 << (bit % 8);
            }
            Edit::SetByte { at, head, byte } if len > 0 => {
                let i = offset(*at, *head, len - 1);
                bytes[i] = *byte;
            }
            Edit::FlipBit { .. } | Edit::SetByte { .. } => {}
            Edit::Insert { at, head, bytes: inserted } => {
                let i = offset(*at, *head, len);
                bytes.splice(i..i, inserted.iter().copied());
            }
            Edit::Delete { at, head, len: run } => {
                let i = offset(*at, *head, len);
                bytes.drain(i..(i + run).min(len));
            }
            Edit::Duplicate { at, head, len: run } => {
                let i = offset(*at, *head, len);
                let copy = bytes[i..(i + run).min(len)].to_vec();
                bytes.splice(i..i, copy);
            }
            Edit::Truncate { at } => bytes.truncate(at.index(len + 1)),
        }
    }
}

fn edit() -> impl Strategy<Value = Edit> {
    let inserted = prop_oneof![
        proptest::sample::select(JSON_TOKENS).prop_map(<[u8]>::to_vec),
        proptest::collection::vec(any::<u8>(), 1..16),
    ];
    prop_oneof![
        3 => (any::<Index>(), any::<bool>(), any::<u8>()).prop_map(|(at, head, bit)| Edit::FlipBit { at, head, bit }),
        3 => (any::<Index>(), any::<bool>(), any::<u8>()).prop_map(|(at, head, byte)| Edit::SetByte { at, head, byte }),
        3 => (any::<Index>(), any::<bool>(), inserted).prop_map(|(at, head, bytes)| Edit::Insert { at, head, bytes }),
        2 => (any::<Index>(), any::<bool>(), 1..64usize).prop_map(|(at, head, len)| Edit::Delete { at, head, len }),
        2 => (any::<Index>(), any::<bool>(), 1..256usize).prop_map(|(at, head, len)| Edit::Duplicate { at, head, len }),
        1 => any::<Index>().prop_map(|at| Edit::Truncate { at }),
    ]
}

fn edits(most: usize) -> impl Strategy<Value = Vec<Edit>> {
    proptest::collection::vec(edit(), 1..=most)
}

// ----------------------------------------------------------------------------------- JSON ---

/// Every field an event has, as JSON pointers, and some it does not have.
const EVENT_FIELDS: &[&str] = &[
    "/schema",
    "/event_id",
    "/type",
    "/occurred_at",
    "/office",
    "/template",
    "/priority",
    "/nik",
    "/name",
    "/birth_place",
    "/birth_date",
    "/sex",
    "/blood_type",
    "/address",
    "/address/street",
    "/address/rt_rw",
    "/address/village",
    "/address/district",
    "/address/regency",
    "/address/province",
    "/religion",
    "/marital_status",
    "/occupation",
    "/citizenship",
    "/valid_until",
    "/photo",
    "/signature",
    "/unknown",
    "/address/unknown",
    "/",
];

/// Strings that pass or nearly pass some field's check, so that accepted events vary too.
fn plausible_string() -> impl Strategy<Value = String> {
    const LABELS: &[&str] = &[
        "LAKI-LAKI",
        "PEREMPUAN",
        "A",
        "B",
        "AB",
        "O",
        "-",
        "ISLAM",
        "KRISTEN",
        "KEPERCAYAAN TERHADAP TUHAN YME",
        "BELUM KAWIN",
        "KAWIN",
        "CERAI MATI",
        "WNI",
        "WNA",
        "SEUMUR HIDUP",
        "normal",
        "urgent",
        "enrollment.completed",
        "ektp",
        "",
        " ",
    ];
    prop_oneof![
        "[0-9]{16}",
        "[0-9]{4}-[0-9]{2}-[0-9]{2}",
        "[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]{1,12})?(Z|[+-][0-9]{2}:[0-9]{2})",
        "[0-9]{3}/[0-9]{3}",
        "[0-9]{4}",
        "[a-z0-9_-]{0,40}",
        "[A-Z .,'`’\u{300}-\u{36F}-]{1,70}",
        "[\\PC]{1,130}",
        proptest::sample::select(LABELS).prop_map(str::to_owned),
    ]
}

/// Any characters, control characters and unpaired-surrogate neighbours included.
fn wild_string() -> impl Strategy<Value = String> {
    proptest::collection::vec(any::<char>(), 0..48).prop_map(String::from_iter)
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        prop_oneof![Just(f64::MAX), Just(f64::MIN_POSITIVE), Just(-0.0), any::<f64>()].prop_map(Value::from),
        plausible_string().prop_map(Value::String),
        wild_string().prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            proptest::collection::vec((wild_string(), inner), 0..6)
                .prop_map(|entries| Value::Object(entries.into_iter().collect())),
        ]
    })
}

/// A change to an event's JSON. The last three cannot be made on a `serde_json::Value` (it keeps
/// one value per key, and nests at most 128 deep when parsed): they are made on its text.
#[derive(Debug, Clone)]
enum Change {
    Set { field: &'static str, value: Value },
    Remove { field: &'static str },
    LongString { field: &'static str, len: usize, fill: char },
    DuplicateKey { field: &'static str, value: Value },
    DeepNesting { field: &'static str, depth: usize, closed: bool },
}

/// Stands in a `Value` for text spliced in after serialization.
const PLACEHOLDER: &str = "\u{1}splice\u{1}";

fn set(event: &mut Value, pointer: &str, value: Value) {
    let (parent, key) = pointer.rsplit_once('/').expect("pointers start with /");
    if let Some(Value::Object(object)) = event.pointer_mut(parent) {
        object.insert(key.to_owned(), value);
    }
}

fn remove(event: &mut Value, pointer: &str) {
    let (parent, key) = pointer.rsplit_once('/').expect("pointers start with /");
    if let Some(Value::Object(object)) = event.pointer_mut(parent) {
        object.remove(key);
    }
}

/// Applies `changes` to an event and serializes it.
fn changed_event(event: &Value, changes: &[Change]) -> Vec<u8> {
    let mut event = event.clone();
    let mut splices = Vec::new();
    for change in changes {
        match change {
            Change::Set { field, value } => set(&mut event, field, value.clone()),
            Change::Remove { field } => remove(&mut event, field),
            Change::LongString { field, len, fill } => {
                set(&mut event, field, Value::String(std::iter::repeat_n(*fill, *len).collect()));
            }
            Change::DuplicateKey { field, value } => {
                let key = field.rsplit_once('/').expect("pointers start with /").1;
                let first = event.pointer(field).cloned().unwrap_or(Value::Null);
                // `"key": first, "key": value`, in the key's place.
                splices.push(format!("{first},{}:{value}", Value::from(key)));
                set(&mut event, field, Value::from(PLACEHOLDER));
            }
            Change::DeepNesting { field, depth, closed } => {
                let closing = if *closed { "]".repeat(*depth) } else { String::new() };
                splices.push(format!("{}{closing}", "[".repeat(*depth)));
                set(&mut event, field, Value::from(PLACEHOLDER));
            }
        }
    }
    let mut text = serde_json::to_string(&event).expect("a Value serializes");
    let placeholder = serde_json::to_string(PLACEHOLDER).expect("a string serializes");
    for splice in splices {
        // A later change may have replaced the placeholder: then the splice has nowhere to go.
        text = text.replacen(&placeholder, &splice, 1);
    }
    text.into_bytes()
}

fn change() -> impl Strategy<Value = Change> {
    let field = || proptest::sample::select(EVENT_FIELDS);
    prop_oneof![
        8 => (field(), json_value()).prop_map(|(field, value)| Change::Set { field, value }),
        2 => field().prop_map(|field| Change::Remove { field }),
        1 => (field(), 1_000..300_000usize, prop_oneof![Just('A'), Just('9'), Just('é'), Just('\u{0}'), any::<char>()])
            .prop_map(|(field, len, fill)| Change::LongString { field, len, fill }),
        2 => (field(), json_value()).prop_map(|(field, value)| Change::DuplicateKey { field, value }),
        1 => (field(), prop_oneof![1..200usize, Just(10_000usize), 10_000..20_000usize], any::<bool>())
            .prop_map(|(field, depth, closed)| Change::DeepNesting { field, depth, closed }),
    ]
}

// --------------------------------------------------------------------------------- images ---

/// A change to one of an event's images, made on its decoded bytes and encoded again, so that
/// the image decoders (not the base64 decoder) meet the damage.
#[derive(Debug, Clone)]
enum ImageChange {
    Bytes(Edit),
    /// The header's width and height rewritten (a PNG's IHDR with its CRC made right again, so
    /// that the claim itself is what is checked).
    Dimensions {
        width: u32,
        height: u32,
    },
}

fn dimension() -> impl Strategy<Value = u32> {
    prop_oneof![Just(0), Just(1), Just(60_000), Just(65_535), Just(u32::MAX), 0..4_000u32, any::<u32>()]
}

fn image_change() -> impl Strategy<Value = ImageChange> {
    prop_oneof![
        4 => edit().prop_map(ImageChange::Bytes),
        1 => (dimension(), dimension()).prop_map(|(width, height)| ImageChange::Dimensions { width, height }),
    ]
}

fn set_dimensions(image: &mut [u8], width: u32, height: u32) {
    if image.starts_with(b"\x89PNG\r\n\x1a\n") && image.len() >= 33 && &image[12..16] == b"IHDR" {
        image[16..20].copy_from_slice(&width.to_be_bytes());
        image[20..24].copy_from_slice(&height.to_be_bytes());
        let crc = crc32fast::hash(&image[12..29]);
        image[29..33].copy_from_slice(&crc.to_be_bytes());
    } else if let Some(sof) = image.windows(2).position(|pair| matches!(pair, [0xFF, 0xC0..=0xC2])) {
        // SOFn: marker, length (2), precision (1), height (2), width (2).
        if let Some(fields) = image.get_mut(sof + 5..sof + 9) {
            fields[..2].copy_from_slice(&(height as u16).to_be_bytes());
            fields[2..].copy_from_slice(&(width as u16).to_be_bytes());
        }
    }
}

fn changed_image(image: &[u8], changes: &[ImageChange]) -> Vec<u8> {
    let mut image = image.to_vec();
    for change in changes {
        match change {
            ImageChange::Bytes(edit) => edit.apply(&mut image),
            ImageChange::Dimensions { width, height } => set_dimensions(&mut image, *width, *height),
        }
    }
    image
}

// ----------------------------------------------------------------------------- invariants ---

fn is_card_text(text: &str) -> bool {
    !text.is_empty() && text.trim() == text && !text.chars().any(char::is_control)
}

/// What an accepted event guarantees the later stages (render, journal, central).
fn accepted_event_is_sound(event: &EnrollmentEvent, limits: &ImageLimits) -> Result<(), TestCaseError> {
    let nik = event.nik.as_str();
    prop_assert!(nik.len() == 16 && nik.bytes().all(|b| b.is_ascii_digit()), "NIK {nik:?}");
    let id = event.event_id.as_str();
    prop_assert!((1..=128).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_graphic()), "event id {id:?}");
    prop_assert!(event.office.len() == 4 && event.office.bytes().all(|b| b.is_ascii_digit()));
    let address = &event.address;
    for text in [
        &event.name,
        &event.birth_place,
        &event.occupation,
        &address.street,
        &address.village,
        &address.district,
        &address.regency,
        &address.province,
    ] {
        prop_assert!(is_card_text(text), "text {text:?}");
    }
    prop_assert!(event.name.chars().count() <= MAX_NAME_CHARS);
    let rt_rw = address.rt_rw.as_bytes();
    prop_assert!(
        rt_rw.len() == 7 && rt_rw.iter().enumerate().all(|(i, b)| if i == 3 { *b == b'/' } else { b.is_ascii_digit() }),
        "rt_rw {:?}",
        address.rt_rw
    );
    let enrolled = event.occurred_at.date_naive();
    prop_assert!(event.birth_date <= enrolled);
    match event.valid_until {
        ValidUntil::Lifetime => prop_assert_eq!(event.citizenship, Citizenship::Wni),
        ValidUntil::Date(until) => prop_assert!(until >= enrolled),
    }
    prop_assert_eq!(event.signature.format, ImageFormat::Png);
    for (image, max_bytes, max_pixels) in [
        (&event.photo, limits.photo_max_bytes, limits.photo_max_pixels),
        (&event.signature, limits.signature_max_bytes, limits.signature_max_pixels),
    ] {
        prop_assert!(image.bytes.len() <= max_bytes, "{image:?}");
        let pixels = u64::from(image.width) * u64::from(image.height);
        prop_assert!(pixels > 0 && pixels <= max_pixels, "{image:?}");
    }
    Ok(())
}

/// `Ok` or `Err`, both fine: the property is that it returns, and what it accepts is sound.
fn check_event(payload: &[u8], limits: &ImageLimits) -> Result<(), TestCaseError> {
    match parse_event(payload, limits) {
        Ok(event) => accepted_event_is_sound(&event, limits),
        Err(_) => Ok(()),
    }
}

fn is_sound_box(bx: BoxMm) -> bool {
    [bx.x, bx.y, bx.width, bx.height].iter().all(|v| v.is_finite()) && bx.width > 0.0 && bx.height > 0.0
}

/// What an accepted template guarantees the layout: finite geometry on the card, sizes in range,
/// fonts that exist, QR codes that carry identifiers only.
fn accepted_template_is_sound(template: &Template) -> Result<(), TestCaseError> {
    prop_assert!((10.0..=300.0).contains(&template.width_mm) && (10.0..=300.0).contains(&template.height_mm));
    prop_assert!((0.0..=5.0).contains(&template.bleed_mm));
    prop_assert!(!template.fonts.is_empty() && !template.pages.is_empty());
    for item in template.pages.iter().flat_map(|page| &page.items) {
        let path = &item.path;
        match &item.kind {
            ItemKind::Text(text) => {
                prop_assert!(is_sound_box(text.bx), "{path}: {:?}", text.bx);
                prop_assert!(text.font < template.fonts.len(), "{path}");
                let style = &text.style;
                prop_assert!((2.0..=72.0).contains(&style.size) && (2.0..=style.size).contains(&style.min_size));
                prop_assert!((1..=10).contains(&style.max_lines) && style.line_height.is_finite());
            }
            ItemKind::Rect(rect) => {
                prop_assert!(is_sound_box(rect.bx), "{path}: {:?}", rect.bx);
                prop_assert!(rect.stroke_width_pt.is_finite());
            }
            ItemKind::Line(line) => {
                let (from, to) = (line.from, line.to);
                prop_assert!([from.0, from.1, to.0, to.1].iter().all(|v| v.is_finite()), "{path}: {from:?} {to:?}");
                prop_assert!(line.width_pt.is_finite());
            }
            ItemKind::Image(image) => prop_assert!(is_sound_box(image.bx), "{path}: {:?}", image.bx),
            ItemKind::Qr(qr) => {
                prop_assert!(is_sound_box(qr.bx), "{path}: {:?}", qr.bx);
                prop_assert!(qr.payload.fields().all(|field| Field::QR_ALLOWED.contains(&field)), "{path}");
            }
        }
    }
    Ok(())
}

fn check_template(name: &str, source: &str) -> Result<(), TestCaseError> {
    match parse_template(name, source) {
        Ok(template) => accepted_template_is_sound(&template),
        Err(errors) => {
            prop_assert!(!errors.is_empty(), "refused without a reason");
            Ok(())
        }
    }
}

// ------------------------------------------------------------------------------ templates ---

/// Pieces of a template's TOML, for text that gets past the TOML parser into the checks.
const TOML_TOKENS: &[&str] = &[
    "[[page]]\n",
    "[[page.item]]\n",
    "[fonts]\n",
    "pool = \"ektp\"\n",
    "width_mm = 85.6\n",
    "height_mm = 53.98\n",
    "bleed_mm = ",
    "regular = \"fonts/x.ttf\"\n",
    "side = \"front\"\n",
    "type = ",
    "\"text\"",
    "\"rect\"",
    "\"line\"",
    "\"image\"",
    "\"qr\"",
    "box = ",
    "from = ",
    "text = \"{name}\"\n",
    "font = \"regular\"\n",
    "size = ",
    "payload = \"{nik}|{card_ref}\"\n",
    "fill = ",
    "{ odd_birth_year = \"#FF0000\", even_birth_year = \"#0000FF\" }",
    "source = \"photo\"\n",
    "\"#FFFFFF\"",
    "[",
    "]",
    "{",
    "}",
    ",",
    "=",
    "\n",
    "\"",
    "'''",
    "\"\"\"",
    "nan",
    "-inf",
    "inf",
    "1e39",
    "-0.0",
    "0",
    "20.0",
    "4294967296",
    "\u{0}",
    "\\",
    "é",
    "#",
    " ",
];

/// A TOML value for a `key = value` line: numbers at and past every edge (f32 and u32 overflow,
/// NaN), strings of any characters, placeholders, arrays, inline tables.
fn toml_value() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => toml_number(),
        2 => wild_string().prop_map(|s| toml::Value::String(s).to_string()),
        2 => proptest::collection::vec(toml_number(), 0..6).prop_map(|values| format!("[{}]", values.join(", "))),
        1 => (1..5_000usize).prop_map(|depth| format!("{}{}", "[".repeat(depth), "]".repeat(depth))),
    ]
}

fn toml_number() -> impl Strategy<Value = String> {
    const SPECIAL: &[&str] = &[
        "nan",
        "+nan",
        "-nan",
        "inf",
        "-inf",
        "1e39",
        "-1e39",
        "1e-45",
        "3.4028235e38",
        "0",
        "-0.0",
        "-1",
        "0x10",
        "1_000",
        "99999999999999999999",
        "4294967296",
        "true",
        "\"{name}\"",
        "\"{nik}|{name}\"",
        "\"{{}}\"",
        "\"{\"",
        "\"}\"",
        "\"#FF0000\"",
        "\"#GG0000\"",
        "\"fonts/../../etc/passwd\"",
        "\"/abs.ttf\"",
        "\"photo\"",
        "\"cover\"",
        "\"center\"",
        "\"H\"",
        "{}",
        "[]",
        "{ odd_birth_year = \"#FF0000\", even_birth_year = \"#0000FF\" }",
    ];
    prop_oneof![
        proptest::sample::select(SPECIAL).prop_map(str::to_owned),
        any::<f32>().prop_map(|v| toml::Value::Float(f64::from(v)).to_string()),
        (-100.0f32..400.0).prop_map(|v| v.to_string()),
        any::<i64>().prop_map(|v| v.to_string()),
    ]
}

#[derive(Debug, Clone)]
enum TemplateChange {
    DeleteLine(Index),
    DuplicateLine(Index),
    SwapLines(Index, Index),
    /// The value of a `key = value` line replaced (the line left alone if it has none).
    ReplaceValue {
        line: Index,
        value: String,
    },
    /// One number of an array value (`box = [x, y, w, h]`, `from = [x, y]`) replaced.
    ReplaceElement {
        line: Index,
        element: Index,
        value: String,
    },
    InsertLine {
        at: Index,
        line: String,
    },
    /// A byte edit, the text then read back as UTF-8 (lossily, as a `&str` is needed).
    Bytes(Edit),
}

fn template_change() -> impl Strategy<Value = TemplateChange> {
    let toml_line = prop_oneof![
        proptest::collection::vec(proptest::sample::select(TOML_TOKENS), 1..8).prop_map(|tokens| tokens.concat()),
        ("[a-z_]{1,12}", toml_value()).prop_map(|(key, value)| format!("{key} = {value}")),
    ];
    prop_oneof![
        2 => any::<Index>().prop_map(TemplateChange::DeleteLine),
        2 => any::<Index>().prop_map(TemplateChange::DuplicateLine),
        1 => (any::<Index>(), any::<Index>()).prop_map(|(a, b)| TemplateChange::SwapLines(a, b)),
        5 => (any::<Index>(), toml_value()).prop_map(|(line, value)| TemplateChange::ReplaceValue { line, value }),
        3 => (any::<Index>(), any::<Index>(), toml_number())
            .prop_map(|(line, element, value)| TemplateChange::ReplaceElement { line, element, value }),
        2 => (any::<Index>(), toml_line).prop_map(|(at, line)| TemplateChange::InsertLine { at, line }),
        2 => edit().prop_map(TemplateChange::Bytes),
    ]
}

fn changed_template(source: &str, changes: &[TemplateChange]) -> String {
    let mut lines: Vec<String> = source.lines().map(str::to_owned).collect();
    for change in changes {
        if lines.is_empty() {
            lines.push(String::new());
        }
        let n = lines.len();
        match change {
            TemplateChange::DeleteLine(at) => {
                lines.remove(at.index(n));
            }
            TemplateChange::DuplicateLine(at) => {
                let i = at.index(n);
                lines.insert(i, lines[i].clone());
            }
            TemplateChange::SwapLines(a, b) => lines.swap(a.index(n), b.index(n)),
            TemplateChange::ReplaceValue { line, value } => {
                let i = line.index(n);
                if let Some((key, _)) = lines[i].split_once('=') {
                    lines[i] = format!("{key}= {value}");
                }
            }
            TemplateChange::ReplaceElement { line, element, value } => {
                let i = line.index(n);
                let replaced = lines[i].split_once('=').and_then(|(key, rest)| {
                    let inner = rest.trim().strip_prefix('[')?.strip_suffix(']')?;
                    let mut elements: Vec<&str> = inner.split(',').collect();
                    let j = element.index(elements.len());
                    elements[j] = value;
                    Some(format!("{key}= [{}]", elements.join(",")))
                });
                if let Some(replaced) = replaced {
                    lines[i] = replaced;
                }
            }
            TemplateChange::InsertLine { at, line } => lines.insert(at.index(n + 1), line.clone()),
            TemplateChange::Bytes(edit) => {
                let mut bytes = lines.join("\n").into_bytes();
                edit.apply(&mut bytes);
                lines = String::from_utf8_lossy(&bytes).lines().map(str::to_owned).collect();
            }
        }
    }
    lines.join("\n")
}

// ----------------------------------------------------------------------------- properties ---

proptest! {
    #![proptest_config(config(2_000))]

    /// Arbitrary bytes, and byte soups of JSON's punctuation (which get further into a parser).
    #[test]
    fn event_from_arbitrary_bytes(
        payload in prop_oneof![
            proptest::collection::vec(any::<u8>(), 0..2048),
            proptest::collection::vec(proptest::sample::select(JSON_TOKENS), 0..64).prop_map(|tokens| tokens.concat()),
        ],
        limits in limits(),
    ) {
        check_event(&payload, &limits)?;
    }

    /// Random JSON documents, most of them objects with the contract's keys.
    #[test]
    fn event_from_random_json(
        fields in proptest::collection::vec((proptest::sample::select(EVENT_FIELDS), json_value()), 0..24),
        other in json_value(),
        object in any::<bool>(),
        limits in limits(),
    ) {
        let mut event = if object { Value::Object(serde_json::Map::new()) } else { other };
        for (field, value) in fields {
            set(&mut event, field, value);
        }
        check_event(&serde_json::to_vec(&event).expect("a Value serializes"), &limits)?;
    }
}

proptest! {
    #![proptest_config(config(300))]

    /// A sample event with bytes flipped, inserted, deleted, copied or cut off, anywhere
    /// (mostly in the images' base64) or in the first KiB (the other fields).
    #[test]
    fn event_from_mutated_sample_bytes(sample in any::<Index>(), edits in edits(8), limits in limits()) {
        let mut payload = sample.get(sample_events()).0.clone();
        for edit in &edits {
            edit.apply(&mut payload);
        }
        check_event(&payload, &limits)?;
    }

    /// A sample event with fields replaced by any JSON, removed, made huge, written twice or
    /// nested thousands deep; then, sometimes, a byte edit or two on the text.
    #[test]
    fn event_from_mutated_sample_fields(
        sample in any::<Index>(),
        changes in proptest::collection::vec(change(), 1..4),
        edits in proptest::collection::vec(edit(), 0..=2),
        limits in limits(),
    ) {
        let mut payload = changed_event(&sample.get(sample_events()).1, &changes);
        for edit in &edits {
            edit.apply(&mut payload);
        }
        check_event(&payload, &limits)?;
    }

    /// A sample event whose photo or signature is damaged after decoding (bytes, truncation,
    /// dimensions such as 60000x60000 in the header) and encoded again as valid base64; now and
    /// then the photo and the signature trade places (a PNG photo, a JPEG signature).
    #[test]
    fn event_with_mutated_images(
        sample in any::<Index>(),
        photo_changes in proptest::collection::vec(image_change(), 0..4),
        signature_changes in proptest::collection::vec(image_change(), 0..4),
        swap in proptest::bool::weighted(0.1),
        limits in limits(),
    ) {
        let mut event = sample.get(sample_events()).1.clone();
        let image = |event: &Value, field: &str| base64_decode(event[field].as_str().expect("an image"));
        let (mut photo, mut signature) = (image(&event, "photo"), image(&event, "signature"));
        if swap {
            std::mem::swap(&mut photo, &mut signature);
        }
        event["photo"] = Value::from(base64_encode(&changed_image(&photo, &photo_changes)));
        event["signature"] = Value::from(base64_encode(&changed_image(&signature, &signature_changes)));
        check_event(&serde_json::to_vec(&event).expect("a Value serializes"), &limits)?;
    }
}

proptest! {
    #![proptest_config(config(1_000))]

    /// Arbitrary text, and soups of a template's TOML pieces; any file name.
    #[test]
    fn template_from_arbitrary_text(
        source in prop_oneof![
            wild_string(),
            proptest::collection::vec(proptest::sample::select(TOML_TOKENS), 0..96).prop_map(|tokens| tokens.concat()),
        ],
        name in prop_oneof![Just("ektp".to_owned()), "[a-z0-9_-]{0,40}", wild_string()],
    ) {
        check_template(&name, &source)?;
    }

    /// The e-KTP template with lines deleted, duplicated, swapped or inserted, values replaced
    /// (NaN, overflowing numbers, any string, deep arrays) and bytes edited.
    #[test]
    fn template_from_mutated_ektp(changes in proptest::collection::vec(template_change(), 1..4)) {
        check_template("ektp", &changed_template(ektp_template(), &changes))?;
    }
}

/// The samples themselves pass: the mutations start from valid input, so that what they reach
/// is the checks after the first (a broken sample would only test the first refusal).
#[test]
fn the_unmutated_inputs_are_accepted() {
    for (payload, _) in sample_events() {
        let event = parse_event(payload, &ImageLimits::default()).expect("a sample event is valid");
        accepted_event_is_sound(&event, &ImageLimits::default()).expect("sound");
    }
    let template = parse_template("ektp", ektp_template()).expect("templates/ektp.toml is valid");
    accepted_template_is_sound(&template).expect("sound");
    // The mutation helpers leave an input alone when there is nothing to change.
    let (bytes, value) = &sample_events()[0];
    assert!(parse_event(&changed_event(value, &[]), &ImageLimits::default()).is_ok());
    assert!(!bytes.is_empty());
}
