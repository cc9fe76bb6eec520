//! The enrollment event (contract version 1) and its validation.
//!
//! The event arrives as JSON; [`parse_event`] checks every field and returns either a typed
//! [`EnrollmentEvent`] or *all* the field-level errors at once, so an upstream service learns
//! everything that is wrong with a payload from one rejection. The JSON Schema in
//! `schemas/enrollment-event.v1.json` describes the same contract for publishers; the checks
//! here are stricter where a schema cannot express the rule (NIK dates, image contents).

use std::fmt;
use std::io::Cursor;

use base64::Engine as _;
use chrono::{DateTime, FixedOffset, NaiveDate};
use serde_json::{Map, Value};

use super::nik::Nik;

/// The contract version this module reads.
pub const SCHEMA_VERSION: u64 = 1;
/// The only event type of version 1.
pub const EVENT_TYPE: &str = "enrollment.completed";
/// Longest name the card and the registry accept.
pub const MAX_NAME_CHARS: usize = 60;

/// The idempotency key chosen by the publisher. Opaque: a UUID in practice, but any
/// 1-128 printable ASCII characters without spaces are accepted.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EventId(String);

impl EventId {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    fn parse(value: &str) -> Result<Self, String> {
        if value.is_empty() || value.len() > 128 {
            return Err("must be 1 to 128 characters".into());
        }
        if !value.bytes().all(|b| b.is_ascii_graphic()) {
            return Err("must be printable ASCII without spaces".into());
        }
        Ok(EventId(value.to_owned()))
    }
}

impl fmt::Display for EventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

macro_rules! vocabulary {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $label:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name { $($variant),+ }

        impl $name {
            /// Every value, in the contract's order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The contract's (and the card's) spelling.
            pub fn label(self) -> &'static str {
                match self { $($name::$variant => $label),+ }
            }

            fn from_label(label: &str) -> Option<Self> {
                match label { $($label => Some($name::$variant),)+ _ => None }
            }

            fn expected() -> String {
                let labels: Vec<String> = Self::ALL.iter().map(|v| format!("{:?}", v.label())).collect();
                format!("must be one of {}", labels.join(", "))
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.label())
            }
        }
    };
}

vocabulary!(Sex { Male = "LAKI-LAKI", Female = "PEREMPUAN" });
vocabulary!(
    /// `-` is "unknown", common on real cards.
    BloodType { A = "A", B = "B", AB = "AB", O = "O", Unknown = "-" }
);
vocabulary!(Religion {
    Islam = "ISLAM",
    Kristen = "KRISTEN",
    Katolik = "KATOLIK",
    Hindu = "HINDU",
    Buddha = "BUDDHA",
    Khonghucu = "KHONGHUCU",
    Kepercayaan = "KEPERCAYAAN TERHADAP TUHAN YME",
});
/// Spellings of a vocabulary's values that real upstream systems send, read as the card's
/// spelling (the event is accepted with a warning naming the change). Only misspellings of
/// one value: a synonym (`MUSLIM`, `MENIKAH`) or another case is still refused, as the contract
/// says, because it may mean something else in another registry.
const RELIGION_SPELLINGS: &[(&str, Religion)] = &[
    ("KONGHUCU", Religion::Khonghucu),
    ("KONG HU CU", Religion::Khonghucu),
    ("KHONG HU CU", Religion::Khonghucu),
    ("KHONGHUCHU", Religion::Khonghucu),
    ("BUDHA", Religion::Buddha),
    ("BUDDA", Religion::Buddha),
    ("KATHOLIK", Religion::Katolik),
    ("KHATOLIK", Religion::Katolik),
    ("KRISTEN PROTESTAN", Religion::Kristen),
    ("PROTESTAN", Religion::Kristen),
    ("KEPERCAYAAN TERHADAP TUHAN YANG MAHA ESA", Religion::Kepercayaan),
    ("KEPERCAYAAN", Religion::Kepercayaan),
];
const SEX_SPELLINGS: &[(&str, Sex)] = &[("LAKI LAKI", Sex::Male), ("LAKI - LAKI", Sex::Male)];

vocabulary!(MaritalStatus {
    BelumKawin = "BELUM KAWIN",
    Kawin = "KAWIN",
    CeraiHidup = "CERAI HIDUP",
    CeraiMati = "CERAI MATI",
});
vocabulary!(Citizenship { Wni = "WNI", Wna = "WNA" });
vocabulary!(Priority { Normal = "normal", Urgent = "urgent" });

/// `valid_until`: a date, or for life (the rule since 2013 for citizens).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValidUntil {
    Lifetime,
    Date(NaiveDate),
}

impl ValidUntil {
    pub const LIFETIME_LABEL: &'static str = "SEUMUR HIDUP";
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Address {
    pub street: String,
    pub rt_rw: String,
    pub village: String,
    pub district: String,
    pub regency: String,
    pub province: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageFormat {
    Jpeg,
    Png,
}

/// A decoded-and-checked image, kept in its original encoding (the renderer passes a JPEG
/// through untouched). `Debug` prints only the shape, never the bytes.
#[derive(Clone, PartialEq, Eq)]
pub struct EncodedImage {
    pub format: ImageFormat,
    pub width: u32,
    pub height: u32,
    pub bytes: Vec<u8>,
}

impl fmt::Debug for EncodedImage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?} {}x{} ({} bytes)", self.format, self.width, self.height, self.bytes.len())
    }
}

/// A valid enrollment event. `Debug` masks the NIK and omits the images' bytes.
#[derive(Debug, Clone)]
pub struct EnrollmentEvent {
    pub event_id: EventId,
    pub occurred_at: DateTime<FixedOffset>,
    pub office: String,
    pub template: Option<String>,
    pub priority: Priority,
    pub nik: Nik,
    pub name: String,
    pub birth_place: String,
    pub birth_date: NaiveDate,
    pub sex: Sex,
    pub blood_type: BloodType,
    pub address: Address,
    pub religion: Religion,
    pub marital_status: MaritalStatus,
    pub occupation: String,
    pub citizenship: Citizenship,
    pub valid_until: ValidUntil,
    pub photo: EncodedImage,
    pub signature: EncodedImage,
    /// Findings that do not stop the card (a NIK whose date or sex disagrees with the stated
    /// ones: a NIK never changes even when a birth date is corrected).
    pub warnings: Vec<String>,
}

/// Limits on the images an event may carry. Checked on the encoded size, then on the header's
/// dimensions *before* decoding, so a decompression bomb is refused without being inflated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImageLimits {
    pub photo_max_bytes: usize,
    pub photo_max_pixels: u64,
    pub signature_max_bytes: usize,
    pub signature_max_pixels: u64,
}

impl Default for ImageLimits {
    fn default() -> Self {
        ImageLimits {
            photo_max_bytes: 1024 * 1024,
            photo_max_pixels: 2000 * 2500,
            signature_max_bytes: 256 * 1024,
            signature_max_pixels: 2000 * 1000,
        }
    }
}

/// One thing wrong with one field. `field` is a JSON path such as `address.rt_rw`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

/// Why an event was refused. Always final: the same bytes will be refused again.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EventError {
    #[error("payload is not JSON: {0}")]
    NotJson(String),
    #[error("payload is not a JSON object")]
    NotAnObject,
    /// Refused before it is parsed at all.
    #[error("payload is {bytes} bytes, more than the limit of {limit}")]
    TooLarge { bytes: usize, limit: usize },
    /// Two values for one key: which one a reader takes differs between JSON parsers, so the
    /// event could mean one card here and another upstream.
    #[error("payload has the key {0:?} twice in one object")]
    DuplicateKey(String),
    #[error("{}", join_errors(.0))]
    Invalid(Vec<FieldError>),
    /// Checking the event failed inside the spooler (a bug, not the event's fault as far as
    /// anyone can tell): it is set aside with this reason rather than lost or retried forever.
    #[error("the spooler failed while checking this event ({0}); publish it again once that is fixed")]
    CheckFailed(String),
}

fn join_errors(errors: &[FieldError]) -> String {
    errors.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ")
}

impl EventError {
    /// The field-level errors; empty when the payload was not a JSON object at all.
    pub fn field_errors(&self) -> &[FieldError] {
        match self {
            EventError::Invalid(errors) => errors,
            _ => &[],
        }
    }
}

const KNOWN_FIELDS: &[&str] = &[
    "schema",
    "event_id",
    "type",
    "occurred_at",
    "office",
    "template",
    "priority",
    "nik",
    "name",
    "birth_place",
    "birth_date",
    "sex",
    "blood_type",
    "address",
    "religion",
    "marital_status",
    "occupation",
    "citizenship",
    "valid_until",
    "photo",
    "signature",
];
const ADDRESS_FIELDS: &[&str] = &["street", "rt_rw", "village", "district", "regency", "province"];

/// Reads the `event_id` of a payload without validating the rest, so that even a rejected
/// event can be named in the rejection record.
pub fn peek_event_id(payload: &[u8]) -> Option<String> {
    let value: Value = serde_json::from_slice(payload).ok()?;
    let id = value.get("event_id")?.as_str()?;
    EventId::parse(id).ok().map(|id| id.0)
}

/// Parses and validates one event payload.
///
/// # Errors
/// [`EventError`] with every field-level problem found.
pub fn parse_event(payload: &[u8], limits: &ImageLimits) -> Result<EnrollmentEvent, EventError> {
    parse(payload, limits, true)
}

/// Parses an event that intake validated before journaling it (the journal's copy), for the
/// stages after intake: every field is read and checked as by [`parse_event`], but the images
/// are not decoded again (intake decoded each in full; decoding is most of the cost of
/// validation). Their headers are still read for the format and size.
///
/// # Errors
/// [`EventError`] when the rules changed since intake and the event no longer passes them.
pub fn parse_admitted_event(payload: &[u8], limits: &ImageLimits) -> Result<EnrollmentEvent, EventError> {
    parse(payload, limits, false)
}

fn parse(payload: &[u8], limits: &ImageLimits, decode_images: bool) -> Result<EnrollmentEvent, EventError> {
    let value: Value = serde_json::from_slice(payload).map_err(|e| EventError::NotJson(e.to_string()))?;
    if decode_images {
        // Only at intake: an admitted event was checked then.
        if let Err(error) = serde_json::from_slice::<NoDuplicateKeys>(payload) {
            let message = error.to_string();
            let key = message.strip_prefix(DUPLICATE_KEY).and_then(|rest| rest.split('\u{0}').next());
            // Named only when it is one of the contract's: a reason never quotes the payload.
            let key = key
                .filter(|key| KNOWN_FIELDS.contains(key) || ADDRESS_FIELDS.contains(key))
                .unwrap_or("(not a field of the contract)");
            return Err(EventError::DuplicateKey(key.to_owned()));
        }
    }
    let Value::Object(object) = value else {
        return Err(EventError::NotAnObject);
    };
    let mut checker = Checker { errors: Vec::new(), prefix: "", decode_images };
    let event = checker.event(&object, limits);
    match event {
        Some(event) if checker.errors.is_empty() => Ok(event),
        _ => Err(EventError::Invalid(checker.errors)),
    }
}

/// The start of the error [`NoDuplicateKeys`] raises, followed by the key and a NUL.
const DUPLICATE_KEY: &str = "duplicate key: ";

/// Walks a JSON document, keeping nothing, and fails on an object with a key twice
/// (`serde_json::Value` silently keeps the last).
struct NoDuplicateKeys;

impl<'de> serde::Deserialize<'de> for NoDuplicateKeys {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(NoDuplicateKeysVisitor)
    }
}

struct NoDuplicateKeysVisitor;

impl<'de> serde::de::Visitor<'de> for NoDuplicateKeysVisitor {
    type Value = NoDuplicateKeys;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
        Ok(NoDuplicateKeys)
    }

    fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
        Ok(NoDuplicateKeys)
    }

    fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
        Ok(NoDuplicateKeys)
    }

    fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
        Ok(NoDuplicateKeys)
    }

    fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
        Ok(NoDuplicateKeys)
    }

    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(NoDuplicateKeys)
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<NoDuplicateKeys>()?.is_some() {}
        Ok(NoDuplicateKeys)
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut keys = std::collections::HashSet::new();
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            map.next_value::<NoDuplicateKeys>()?;
            if !keys.insert(key.clone()) {
                return Err(serde::de::Error::custom(format_args!("{DUPLICATE_KEY}{key}\u{0}")));
            }
        }
        Ok(NoDuplicateKeys)
    }
}

struct Checker {
    errors: Vec<FieldError>,
    prefix: &'static str,
    /// Decode every image in full (intake), or trust the journal's copy (see
    /// [`parse_admitted_event`]).
    decode_images: bool,
}

impl Checker {
    fn fail(&mut self, field: &str, message: impl Into<String>) {
        self.errors.push(FieldError { field: format!("{}{field}", self.prefix), message: message.into() });
    }

    fn unknown_fields(&mut self, object: &Map<String, Value>, known: &[&str]) {
        let unknown: Vec<&String> = object.keys().filter(|key| !known.contains(&key.as_str())).collect();
        // The reasons travel in an AMQP header: a payload with thousands of stray keys must not
        // make a reason too large to publish.
        let cut = |key: &str| key.chars().take(MAX_SHOWN_CHARS).collect::<String>();
        for key in unknown.iter().take(MAX_UNKNOWN_FIELDS_REPORTED) {
            self.fail(&cut(key), "is not a field of the contract (check the spelling)");
        }
        if let Some(next) = unknown.get(MAX_UNKNOWN_FIELDS_REPORTED) {
            let more = unknown.len() - MAX_UNKNOWN_FIELDS_REPORTED;
            self.fail(&cut(next), format!("is not a field of the contract, nor are {} more", more - 1));
        }
    }

    fn string<'v>(&mut self, object: &'v Map<String, Value>, field: &str) -> Option<&'v str> {
        match object.get(field) {
            None | Some(Value::Null) => {
                self.fail(field, "is required");
                None
            }
            Some(Value::String(s)) => Some(s),
            Some(other) => {
                self.fail(field, format!("must be a string, got {}", json_type(other)));
                None
            }
        }
    }

    /// `Some(None)` when absent or null, `None` when present with the wrong type (reported).
    #[allow(clippy::option_option)]
    fn optional_string<'v>(&mut self, object: &'v Map<String, Value>, field: &str) -> Option<Option<&'v str>> {
        match object.get(field) {
            None | Some(Value::Null) => Some(None),
            Some(Value::String(s)) => Some(Some(s)),
            Some(other) => {
                self.fail(field, format!("must be a string, got {}", json_type(other)));
                None
            }
        }
    }

    /// A printable line of card text: trimmed, not empty, no control characters, bounded.
    fn text(&mut self, object: &Map<String, Value>, field: &str, max_chars: usize) -> Option<String> {
        let raw = self.string(object, field)?;
        // Checked before trimming: a line break at the end is a fault of the publisher's, not
        // padding to forgive (and the schema refuses it anywhere).
        if raw.chars().any(char::is_control) {
            self.fail(field, "must not contain control characters (line breaks, tabs)");
            return None;
        }
        let value = raw.trim();
        if value.is_empty() {
            self.fail(field, "must not be empty");
            return None;
        }
        let chars = value.chars().count();
        if chars > max_chars {
            self.fail(field, format!("must be at most {max_chars} characters, got {chars}"));
            return None;
        }
        Some(value.to_owned())
    }

    fn vocabulary<T>(
        &mut self,
        object: &Map<String, Value>,
        field: &str,
        from_label: fn(&str) -> Option<T>,
        expected: fn() -> String,
    ) -> Option<T> {
        let value = self.string(object, field)?;
        let parsed = from_label(value);
        if parsed.is_none() {
            self.fail(field, format!("{}, got {}", expected(), shown(value)));
        }
        parsed
    }

    /// As [`Checker::vocabulary`], also reading the known other `spellings` of its values; a
    /// value read that way is noted in `respelled` (a warning on the job).
    fn vocabulary_spelt<T: fmt::Display + Copy>(
        &mut self,
        object: &Map<String, Value>,
        field: &str,
        from_label: fn(&str) -> Option<T>,
        expected: fn() -> String,
        spellings: &[(&str, T)],
        respelled: &mut Vec<String>,
    ) -> Option<T> {
        let value = self.string(object, field)?;
        if let Some(parsed) = from_label(value) {
            return Some(parsed);
        }
        if let Some((_, parsed)) = spellings.iter().find(|(spelling, _)| *spelling == value) {
            respelled.push(format!("{field}: {value} read as {parsed}"));
            return Some(*parsed);
        }
        self.fail(field, format!("{}, got {}", expected(), shown(value)));
        None
    }

    fn date(&mut self, object: &Map<String, Value>, field: &str) -> Option<NaiveDate> {
        let value = self.string(object, field)?;
        let parsed = parse_iso_date(value);
        if parsed.is_none() {
            self.fail(field, format!("must be a date YYYY-MM-DD, got {}", shown(value)));
        }
        parsed
    }

    fn image(&mut self, object: &Map<String, Value>, field: &str, limits: ImageCheck) -> Option<EncodedImage> {
        let encoded = self.string(object, field)?;
        // base64 grows by 4/3: refuse an oversize payload before decoding it.
        if encoded.len() > limits.max_bytes.div_ceil(3) * 4 + 4 {
            self.fail(field, format!("is larger than {} bytes", limits.max_bytes));
            return None;
        }
        let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(encoded.trim()) else {
            self.fail(field, "is not valid base64 (standard alphabet, with padding)");
            return None;
        };
        match check_image(bytes, limits, self.decode_images) {
            Ok(image) => Some(image),
            Err(message) => {
                self.fail(field, message);
                None
            }
        }
    }

    #[allow(clippy::similar_names)]
    fn event(&mut self, object: &Map<String, Value>, limits: &ImageLimits) -> Option<EnrollmentEvent> {
        self.unknown_fields(object, KNOWN_FIELDS);

        match object.get("schema") {
            Some(Value::Number(n)) if n.as_u64() == Some(SCHEMA_VERSION) => {}
            None => self.fail("schema", "is required"),
            Some(Value::Number(n)) => {
                self.fail("schema", format!("must be {SCHEMA_VERSION}, got {}", shown(&n.to_string())));
            }
            Some(other) => {
                self.fail("schema", format!("must be the number {SCHEMA_VERSION}, got {}", json_type(other)));
            }
        }
        let event_id = self.string(object, "event_id").and_then(|id| match EventId::parse(id) {
            Ok(id) => Some(id),
            Err(message) => {
                self.fail("event_id", message);
                None
            }
        });
        if let Some(kind) = self.string(object, "type") {
            if kind != EVENT_TYPE {
                self.fail("type", format!("must be {EVENT_TYPE:?}, got {}", shown(kind)));
            }
        }
        let occurred_at = self.string(object, "occurred_at").and_then(|value| {
            // chrono also takes a space for the `T`, which RFC 3339 (and the schema) do not.
            let parsed = DateTime::parse_from_rfc3339(value)
                .ok()
                .filter(|_| matches!(value.as_bytes().get(10), Some(b'T' | b't')));
            if parsed.is_none() {
                self.fail("occurred_at", format!("must be an RFC 3339 time with offset, got {}", shown(value)));
            }
            parsed
        });
        let office = self.string(object, "office").and_then(|value| {
            if value.len() == 4 && value.bytes().all(|b| b.is_ascii_digit()) {
                Some(value.to_owned())
            } else {
                self.fail("office", format!("must be the office's 4-digit regency code, got {}", shown(value)));
                None
            }
        });
        let template = self.optional_string(object, "template").and_then(|value| match value {
            None => Some(None),
            Some(name) if is_template_name(name) => Some(Some(name.to_owned())),
            Some(name) => {
                self.fail("template", format!("must be 1-32 of a-z, 0-9, '-', '_', got {}", shown(name)));
                None
            }
        });
        let priority = self.optional_string(object, "priority").and_then(|value| match value {
            None => Some(Priority::Normal),
            Some(label) => {
                let parsed = Priority::from_label(label);
                if parsed.is_none() {
                    self.fail("priority", format!("{}, got {}", Priority::expected(), shown(label)));
                }
                parsed
            }
        });
        let nik = self.string(object, "nik").and_then(|value| match Nik::parse(value) {
            Ok(nik) => Some(nik),
            Err(error) => {
                self.fail("nik", error.to_string());
                None
            }
        });
        let name = self.text(object, "name", MAX_NAME_CHARS).and_then(|name| {
            if name.chars().all(is_name_char) {
                Some(name)
            } else {
                self.fail("name", "may contain only letters (with their accents), spaces and . , ' ` ’ -");
                None
            }
        });
        let birth_place = self.text(object, "birth_place", 40);
        let birth_date = self.date(object, "birth_date");
        if let Some(born) = birth_date {
            if born < NaiveDate::from_ymd_opt(1900, 1, 1).expect("valid") {
                self.fail("birth_date", "is before 1900");
            } else if occurred_at.is_some_and(|occurred| born > occurred.date_naive()) {
                self.fail("birth_date", "is after the enrollment (occurred_at)");
            }
        }
        let mut respelled = Vec::new();
        let sex = self.vocabulary_spelt(object, "sex", Sex::from_label, Sex::expected, SEX_SPELLINGS, &mut respelled);
        let blood_type = self.vocabulary(object, "blood_type", BloodType::from_label, BloodType::expected);
        let address = self.address(object);
        let religion = self.vocabulary_spelt(
            object,
            "religion",
            Religion::from_label,
            Religion::expected,
            RELIGION_SPELLINGS,
            &mut respelled,
        );
        let marital_status =
            self.vocabulary(object, "marital_status", MaritalStatus::from_label, MaritalStatus::expected);
        let occupation = self.text(object, "occupation", 40);
        let citizenship = self.vocabulary(object, "citizenship", Citizenship::from_label, Citizenship::expected);
        let valid_until = self.string(object, "valid_until").and_then(|value| {
            if value == ValidUntil::LIFETIME_LABEL {
                return Some(ValidUntil::Lifetime);
            }
            let parsed = parse_iso_date(value);
            if parsed.is_none() {
                self.fail(
                    "valid_until",
                    format!("must be a date YYYY-MM-DD or \"SEUMUR HIDUP\", got {}", shown(value)),
                );
            }
            parsed.map(ValidUntil::Date)
        });
        match (valid_until, citizenship) {
            // A foreigner's card ends with the residence permit (KITAP); only citizens' cards are
            // for life.
            (Some(ValidUntil::Lifetime), Some(Citizenship::Wna)) => {
                self.fail(
                    "valid_until",
                    "must be the residence permit's end date for citizenship WNA, not \"SEUMUR HIDUP\"",
                );
            }
            (Some(ValidUntil::Date(until)), _) if occurred_at.is_some_and(|at| until < at.date_naive()) => {
                self.fail(
                    "valid_until",
                    "is before the enrollment (occurred_at): the card would be expired when printed",
                );
            }
            _ => {}
        }
        let photo = self.image(
            object,
            "photo",
            ImageCheck {
                formats: &[ImageFormat::Jpeg, ImageFormat::Png],
                max_bytes: limits.photo_max_bytes,
                max_pixels: limits.photo_max_pixels,
            },
        );
        let signature = self.image(
            object,
            "signature",
            ImageCheck {
                formats: &[ImageFormat::Png],
                max_bytes: limits.signature_max_bytes,
                max_pixels: limits.signature_max_pixels,
            },
        );

        let mut warnings = respelled;
        if let (Some(nik), Some(born)) = (&nik, birth_date) {
            if !nik.matches_birth_date(born) {
                let (d, m, y) = nik.birth_day_month_year();
                warnings.push(format!(
                    "the NIK encodes birth date {d:02}-{m:02}-{y:02}, the event states {}",
                    born.format("%d-%m-%Y")
                ));
            }
        }
        if let (Some(nik), Some(sex)) = (&nik, sex) {
            if nik.sex() != sex {
                warnings.push(format!("the NIK encodes sex {}, the event states {sex}", nik.sex()));
            }
        }

        Some(EnrollmentEvent {
            event_id: event_id?,
            occurred_at: occurred_at?,
            office: office?,
            template: template?,
            priority: priority?,
            nik: nik?,
            name: name?,
            birth_place: birth_place?,
            birth_date: birth_date?,
            sex: sex?,
            blood_type: blood_type?,
            address: address?,
            religion: religion?,
            marital_status: marital_status?,
            occupation: occupation?,
            citizenship: citizenship?,
            valid_until: valid_until?,
            photo: photo?,
            signature: signature?,
            warnings,
        })
    }

    fn address(&mut self, object: &Map<String, Value>) -> Option<Address> {
        let address = match object.get("address") {
            None | Some(Value::Null) => {
                self.fail("address", "is required");
                return None;
            }
            Some(Value::Object(address)) => address,
            Some(other) => {
                self.fail("address", format!("must be an object, got {}", json_type(other)));
                return None;
            }
        };
        let outer = std::mem::replace(&mut self.prefix, "address.");
        self.unknown_fields(address, ADDRESS_FIELDS);
        let street = self.text(address, "street", 80);
        let rt_rw = self.string(address, "rt_rw").and_then(|value| {
            let ok = value.len() == 7
                && value.as_bytes()[3] == b'/'
                && value.bytes().enumerate().all(|(i, b)| i == 3 || b.is_ascii_digit());
            if ok {
                Some(value.to_owned())
            } else {
                self.fail("rt_rw", format!("must be NNN/NNN (e.g. \"001/002\"), got {}", shown(value)));
                None
            }
        });
        let village = self.text(address, "village", 40);
        let district = self.text(address, "district", 40);
        let regency = self.text(address, "regency", 40);
        let province = self.text(address, "province", 40);
        self.prefix = outer;
        Some(Address {
            street: street?,
            rt_rw: rt_rw?,
            village: village?,
            district: district?,
            regency: regency?,
            province: province?,
        })
    }
}

/// A calendar date written exactly `YYYY-MM-DD` (chrono alone also takes signs, spaces and
/// one-digit months).
fn parse_iso_date(value: &str) -> Option<NaiveDate> {
    let bytes = value.as_bytes();
    let shaped = bytes.len() == 10
        && bytes.iter().enumerate().all(|(i, b)| if i == 4 || i == 7 { *b == b'-' } else { b.is_ascii_digit() });
    if !shaped {
        return None;
    }
    NaiveDate::parse_from_str(value, "%Y-%m-%d").ok()
}

/// Letters (accented ones too, precomposed or as combining marks: a name typed on a Mac
/// arrives decomposed), the space and the punctuation names carry.
fn is_name_char(c: char) -> bool {
    c.is_alphabetic() || ('\u{0300}'..='\u{036F}').contains(&c) || " '.,-`’".contains(c)
}

/// How much of a refused value an error quotes, and how many unknown fields it lists: enough to
/// recognise the mistake, bounded so that a hostile payload cannot inflate the reason header.
const MAX_SHOWN_CHARS: usize = 40;
const MAX_UNKNOWN_FIELDS_REPORTED: usize = 10;

/// A refused value as an error quotes it: debug-escaped, cut to [`MAX_SHOWN_CHARS`].
fn shown(value: &str) -> String {
    if value.chars().count() <= MAX_SHOWN_CHARS {
        format!("{value:?}")
    } else {
        let head: String = value.chars().take(MAX_SHOWN_CHARS).collect();
        format!("{head:?}... ({} characters)", value.chars().count())
    }
}

fn is_template_name(name: &str) -> bool {
    (1..=32).contains(&name.len())
        && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[derive(Clone, Copy)]
struct ImageCheck {
    formats: &'static [ImageFormat],
    max_bytes: usize,
    max_pixels: u64,
}

fn check_image(bytes: Vec<u8>, check: ImageCheck, decode: bool) -> Result<EncodedImage, String> {
    if bytes.len() > check.max_bytes {
        return Err(format!("is {} bytes, more than the limit of {}", bytes.len(), check.max_bytes));
    }
    let format = if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        ImageFormat::Jpeg
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        ImageFormat::Png
    } else {
        return Err("is neither a JPEG nor a PNG image".into());
    };
    if !check.formats.contains(&format) {
        return Err(format!("must be {}, got {format:?}", format_names(check.formats)));
    }
    let (width, height) = match format {
        ImageFormat::Jpeg => check_jpeg(&bytes, check.max_pixels, decode)?,
        ImageFormat::Png => check_png(&bytes, check.max_pixels, decode)?,
    };
    Ok(EncodedImage { format, width, height, bytes })
}

/// Refuses an image of more than `max_pixels` or of none, from its header alone.
fn within_pixel_limit(width: u32, height: u32, max_pixels: u64) -> Result<u64, String> {
    let pixels = u64::from(width) * u64::from(height);
    if pixels > max_pixels {
        return Err(format!("is {width}x{height} pixels, more than the limit of {max_pixels} pixels"));
    }
    if width == 0 || height == 0 {
        return Err("has no pixels".into());
    }
    Ok(pixels)
}

/// A JPEG is read with zune-jpeg itself rather than through `image`, in strict mode: by default
/// the decoder logs a broken entropy-coded stream, fills the rest of the picture with grey and
/// reports success, so a photo damaged in transit would pass and print garbled. Here every error
/// in the scan refuses the photo. The header is parsed once for both the size check and the
/// decoding. (Decoding a YCbCr photo to its luma alone runs 26% fewer instructions under
/// callgrind, yet was slower in wall time in each of three alternated rounds; RGB is kept.)
fn check_jpeg(bytes: &[u8], max_pixels: u64, decode: bool) -> Result<(u32, u32), String> {
    use zune_core::bytestream::ZCursor;
    use zune_core::colorspace::ColorSpace;
    use zune_core::options::DecoderOptions;
    // Held to the largest side the pixel limit allows, so the decoder refuses a bomb itself too.
    let side = usize::try_from(max_pixels).unwrap_or(usize::MAX);
    let options = DecoderOptions::default().set_strict_mode(true).set_max_width(side).set_max_height(side);
    let mut decoder = zune_jpeg::JpegDecoder::new_with_options(ZCursor::new(bytes), options);
    let unreadable = |e: zune_jpeg::errors::DecodeErrors| format!("cannot be read as Jpeg: {e}");
    decoder.decode_headers().map_err(unreadable)?;
    let (width, height) = decoder.dimensions().ok_or("cannot be read as Jpeg: no frame header")?;
    let (width, height) = (u32::try_from(width).unwrap_or(u32::MAX), u32::try_from(height).unwrap_or(u32::MAX));
    within_pixel_limit(width, height, max_pixels)?;
    if !decode {
        return Ok((width, height));
    }
    // As `image` would: grey stays grey, everything else (CMYK included) becomes RGB.
    let out_colour_space = match decoder.input_colorspace() {
        Some(ColorSpace::Luma) => ColorSpace::Luma,
        _ => ColorSpace::RGB,
    };
    decoder.set_options(decoder.options().jpeg_set_out_colorspace(out_colour_space));
    let buffer_len = decoder.output_buffer_size().ok_or("cannot be decoded as Jpeg: too large")?;
    let mut samples = vec![0; buffer_len];
    decoder.decode_into(&mut samples).map_err(|e| format!("cannot be decoded as Jpeg: {e}"))?;
    // A scan cut short still decodes (grey fills the rest): a photo cut off in transit would
    // print half blank.
    if !jpeg_reaches_end(bytes) {
        return Err("is a truncated JPEG (no end-of-image marker after the image data)".into());
    }
    Ok((width, height))
}

fn check_png(bytes: &[u8], max_pixels: u64, decode: bool) -> Result<(u32, u32), String> {
    let reader = || image::ImageReader::with_format(Cursor::new(bytes), image::ImageFormat::Png);
    // The header alone gives the dimensions: a bomb is refused here, before any inflating. The
    // header's reading is held to the most a decoding may take, as it inflates a PNG's colour
    // profile (iCCP): under image's default cap (512 MiB) a 64 KiB PNG made the reader allocate
    // 99 MiB (found by fuzzing, tests/alloc_limits.rs).
    let mut header = reader();
    header.limits(decoder_limits(max_pixels));
    let (width, height) = header.into_dimensions().map_err(|e| format!("cannot be read as Png: {e}"))?;
    let pixels = within_pixel_limit(width, height, max_pixels)?;
    if decode {
        let mut limits = decoder_limits(pixels);
        limits.max_image_width = Some(width);
        limits.max_image_height = Some(height);
        let mut decoder = reader();
        decoder.limits(limits);
        decoder.decode().map_err(|e| format!("cannot be decoded as Png: {e}"))?;
    }
    Ok((width, height))
}

/// What a decoder may allocate for an image of `pixels`: 8 bytes a pixel (RGBA with 16-bit
/// samples at most) and 1 MiB for its tables and metadata. The renderer decodes a PNG again
/// under the same limits.
pub fn decoder_limits(pixels: u64) -> image::Limits {
    let mut limits = image::Limits::default();
    limits.max_alloc = Some(pixels.saturating_mul(8).saturating_add(1024 * 1024));
    limits
}

/// Whether a JPEG's marker structure runs, segment by segment, to its end-of-image marker.
/// Walking the segments (rather than searching for `FF D9`) skips an EXIF thumbnail's own EOI.
fn jpeg_reaches_end(bytes: &[u8]) -> bool {
    let mut i = 2; // after SOI
    loop {
        if bytes.get(i) != Some(&0xFF) {
            return false;
        }
        // Any number of 0xFF fill bytes may precede a marker.
        while bytes.get(i + 1) == Some(&0xFF) {
            i += 1;
        }
        let Some(&marker) = bytes.get(i + 1) else { return false };
        i += 2;
        match marker {
            0xD9 => return true,
            0x01 | 0xD0..=0xD7 => continue,
            _ => {}
        }
        let Some(length) = bytes.get(i..i + 2).map(|b| usize::from(u16::from_be_bytes([b[0], b[1]]))) else {
            return false;
        };
        if length < 2 {
            return false;
        }
        i += length;
        if marker == 0xDA {
            // Entropy-coded data: 0xFF appears only stuffed (FF 00) or as a restart marker, so
            // the next other marker ends the scan.
            loop {
                match (bytes.get(i), bytes.get(i + 1)) {
                    (Some(0xFF), Some(0x00 | 0xD0..=0xD7)) => i += 2,
                    (Some(0xFF), Some(_)) => break,
                    (Some(_), _) => i += 1,
                    (None, _) => return false,
                }
            }
        }
    }
}

fn format_names(formats: &[ImageFormat]) -> String {
    formats.iter().map(|f| format!("{f:?}")).collect::<Vec<_>>().join(" or ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{ImageEncoder, Rgb, RgbImage, Rgba, RgbaImage};
    use serde_json::json;

    fn jpeg(width: u32, height: u32) -> Vec<u8> {
        let img = RgbImage::from_fn(width, height, |x, y| Rgb([(x * 7) as u8, (y * 5) as u8, 90]));
        let mut out = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 80).encode_image(&img).unwrap();
        out
    }

    fn png(width: u32, height: u32) -> Vec<u8> {
        let img = RgbaImage::from_fn(width, height, |x, _| Rgba([10, 20, 80, if x % 3 == 0 { 255 } else { 0 }]));
        let mut out = Vec::new();
        image::codecs::png::PngEncoder::new(&mut out)
            .write_image(&img, width, height, image::ExtendedColorType::Rgba8)
            .unwrap();
        out
    }

    fn b64(bytes: &[u8]) -> String {
        base64::engine::general_purpose::STANDARD.encode(bytes)
    }

    fn valid_event() -> Value {
        json!({
            "schema": 1,
            "event_id": "6f1c2b9e-3d2a-4f7e-9c51-0b8d7a6e4f21",
            "type": "enrollment.completed",
            "occurred_at": "2026-11-27T09:12:00+07:00",
            "office": "1502",
            "nik": "1502015203850001",
            "name": "HAMIDAH",
            "birth_place": "BANGKO",
            "birth_date": "1985-03-12",
            "sex": "PEREMPUAN",
            "blood_type": "O",
            "address": {"street": "JL. SUDIRMAN NO. 1", "rt_rw": "001/002", "village": "PASAR BANGKO",
                        "district": "BANGKO", "regency": "MERANGIN", "province": "JAMBI"},
            "religion": "ISLAM",
            "marital_status": "KAWIN",
            "occupation": "WIRASWASTA",
            "citizenship": "WNI",
            "valid_until": "SEUMUR HIDUP",
            "photo": b64(&jpeg(30, 40)),
            "signature": b64(&png(40, 16)),
        })
    }

    fn parse(event: &Value) -> Result<EnrollmentEvent, EventError> {
        parse_event(&serde_json::to_vec(event).unwrap(), &ImageLimits::default())
    }

    /// Applies `edit` to a valid event and checks the outcome: `Ok(warnings)` when it must be
    /// accepted with exactly those warnings (matched by a fragment), `Err(fields)` when it must be
    /// refused naming exactly those fields.
    #[track_caller]
    fn check(edit: impl FnOnce(&mut Value), expected: Result<&[&str], &[&str]>) {
        let mut event = valid_event();
        edit(&mut event);
        match (parse(&event), expected) {
            (Ok(parsed), Ok(warnings)) => {
                assert_eq!(parsed.warnings.len(), warnings.len(), "warnings: {:?}", parsed.warnings);
                for (got, fragment) in parsed.warnings.iter().zip(warnings) {
                    assert!(got.contains(fragment), "warning {got:?} lacks {fragment:?}");
                }
            }
            (Err(error), Err(fields)) => {
                let named: Vec<&str> = error.field_errors().iter().map(|e| e.field.as_str()).collect();
                assert_eq!(named, fields, "{error}");
            }
            (outcome, expected) => panic!("expected {expected:?}, got {outcome:?}"),
        }
    }

    #[test]
    fn the_design_example_is_accepted_without_warnings() {
        check(|_| {}, Ok(&[]));
        let event = parse(&valid_event()).unwrap();
        assert_eq!(event.priority, Priority::Normal);
        assert_eq!(event.template, None);
        assert_eq!(event.valid_until, ValidUntil::Lifetime);
        assert_eq!((event.photo.format, event.photo.width, event.photo.height), (ImageFormat::Jpeg, 30, 40));
    }

    #[test]
    fn other_spellings_of_a_religion_are_read_as_the_card_s_with_a_warning() {
        for (sent, card) in [
            ("KONGHUCU", Religion::Khonghucu),
            ("KONG HU CU", Religion::Khonghucu),
            ("BUDHA", Religion::Buddha),
            ("KATHOLIK", Religion::Katolik),
            ("PROTESTAN", Religion::Kristen),
            ("KEPERCAYAAN TERHADAP TUHAN YANG MAHA ESA", Religion::Kepercayaan),
        ] {
            let mut event = valid_event();
            event["religion"] = json!(sent);
            let parsed = parse(&event).unwrap_or_else(|e| panic!("{sent}: {e}"));
            assert_eq!(parsed.religion, card, "{sent}");
            assert_eq!(parsed.warnings, [format!("religion: {sent} read as {card}")]);
        }
        check(|e| e["sex"] = json!("LAKI LAKI"), Ok(&["sex: LAKI LAKI read as LAKI-LAKI", "the NIK encodes sex"]));
        // Synonyms and other cases stay refused: they may mean something else elsewhere.
        check(|e| e["religion"] = json!("MUSLIM"), Err(&["religion"]));
        check(|e| e["religion"] = json!("konghucu"), Err(&["religion"]));
        check(|e| e["marital_status"] = json!("MENIKAH"), Err(&["marital_status"]));
    }

    #[test]
    fn nik_disagreeing_with_birth_date_or_sex_is_a_warning() {
        check(|e| e["birth_date"] = json!("1985-12-03"), Ok(&["birth date 12-03-85"]));
        check(|e| e["sex"] = json!("LAKI-LAKI"), Ok(&["sex PEREMPUAN"]));
        // Only the year differs (the NIK's two-digit year is read in either century).
        check(|e| e["nik"] = json!("1502015203050001"), Ok(&["birth date 12-03-05"]));
    }

    #[test]
    fn nik_day_beyond_71_is_refused_even_when_it_is_a_day_mod_40() {
        check(|e| e["nik"] = json!("1502018503850001"), Err(&["nik"]));
    }

    #[test]
    fn dates_must_be_exactly_yyyy_mm_dd() {
        for bad in ["1985-3-12", "+985-03-12", " 1985-03-12", "1985-03-12 ", "1985/03/12", "85-03-12", "1985-02-29"] {
            check(|e| e["birth_date"] = json!(bad), Err(&["birth_date"]));
        }
        check(|e| e["birth_date"] = json!("1984-02-29"), Ok(&["birth date 12-03-85"]));
    }

    #[test]
    fn birth_date_before_1900_is_refused_even_when_occurred_at_is_bad() {
        check(
            |e| {
                e["birth_date"] = json!("1899-12-31");
                e["occurred_at"] = json!("yesterday");
            },
            Err(&["occurred_at", "birth_date"]),
        );
    }

    #[test]
    fn occurred_at_is_rfc_3339_with_offset() {
        for good in ["2026-11-27T09:12:00+07:00", "2026-11-27t02:12:00Z", "2026-11-27T09:12:00.250+07:00"] {
            check(|e| e["occurred_at"] = json!(good), Ok(&[]));
        }
        for bad in ["2026-11-27 09:12:00+07:00", "2026-11-27T09:12:00", "2026-11-27", "27/11/2026 09:12"] {
            check(|e| e["occurred_at"] = json!(bad), Err(&["occurred_at"]));
        }
    }

    #[test]
    fn text_is_trimmed_but_control_characters_are_refused_anywhere() {
        check(|e| e["birth_place"] = json!("  BANGKO "), Ok(&[]));
        assert_eq!(parse(&valid_event()).unwrap().birth_place, "BANGKO");
        for bad in ["BANGKO\n", "\tBANGKO", "BAN\u{7}GKO"] {
            check(|e| e["birth_place"] = json!(bad), Err(&["birth_place"]));
        }
    }

    #[test]
    fn valid_until_rules() {
        let wna = |e: &mut Value, until: &str| {
            e["citizenship"] = json!("WNA");
            e["valid_until"] = json!(until);
        };
        check(|e| wna(e, "2031-03-14"), Ok(&[]));
        check(|e| wna(e, "2026-11-27"), Ok(&[]));
        check(|e| wna(e, "2026-11-26"), Err(&["valid_until"]));
        check(|e| wna(e, "SEUMUR HIDUP"), Err(&["valid_until"]));
        check(|e| e["valid_until"] = json!("31-12-2030"), Err(&["valid_until"]));
    }

    #[test]
    fn names_with_apostrophes_and_accents_precomposed_or_combining() {
        for name in
            ["SITI NUR'AINI", "FRANÇOIS ÉMILE LEFÈVRE", "FRANC\u{327}OIS E\u{301}MILE", "KIM JI-YEON", "ST. AISYAH"]
        {
            check(|e| e["name"] = json!(name), Ok(&[]));
        }
        for name in ["HAMIDAH 2", "HAMIDAH_", "HAMIDAH@"] {
            check(|e| e["name"] = json!(name), Err(&["name"]));
        }
        let sixty = "A".repeat(MAX_NAME_CHARS);
        check(|e| e["name"] = json!(sixty), Ok(&[]));
        check(|e| e["name"] = json!(format!("{sixty}B")), Err(&["name"]));
        // Characters, not bytes: 60 accented letters are 120 bytes of UTF-8.
        check(|e| e["name"] = json!("É".repeat(MAX_NAME_CHARS)), Ok(&[]));
    }

    #[test]
    fn truncated_jpeg_is_refused_though_decoders_accept_it() {
        let photo = jpeg(120, 160);
        let cut = &photo[..photo.len() * 2 / 3];
        check(|e| e["photo"] = json!(b64(cut)), Err(&["photo"]));
        // Bytes after the end-of-image marker (some cameras append data) are harmless.
        let mut trailing = photo.clone();
        trailing.extend_from_slice(b"trailer");
        check(|e| e["photo"] = json!(b64(&trailing)), Ok(&[]));
        check(|e| e["photo"] = json!(b64(&png(30, 40))), Ok(&[]));
    }

    #[test]
    fn a_photo_whose_scan_is_damaged_is_refused_though_decoders_paint_it_grey() {
        let photo = jpeg(120, 160);
        let scan = photo.windows(2).position(|pair| pair == [0xFF, 0xDA]).expect("a scan") + 20;
        let middle = scan + (photo.len() - scan) / 2;
        // Bits all ones (stuffed, so still no marker) are no Huffman code of a JPEG.
        let mut damaged = photo.clone();
        damaged[middle..middle + 8].copy_from_slice(&[0xFF, 0x00, 0xFF, 0x00, 0xFF, 0x00, 0xFF, 0x00]);
        assert!(jpeg_reaches_end(&damaged), "the damage is inside the scan, not a cut");
        let lenient = image::load_from_memory_with_format(&damaged, image::ImageFormat::Jpeg);
        assert!(lenient.is_ok(), "image's own decoding accepts the damage, so the check must be stricter");
        check(|e| e["photo"] = json!(b64(&damaged)), Err(&["photo"]));
    }

    #[test]
    fn an_admitted_event_reads_the_same_without_decoding_its_images() {
        let payload = serde_json::to_vec(&valid_event()).unwrap();
        let limits = ImageLimits::default();
        let (admitted, validated) =
            (parse_admitted_event(&payload, &limits).unwrap(), parse_event(&payload, &limits).unwrap());
        assert_eq!(format!("{admitted:?}"), format!("{validated:?}"));
        assert_eq!(admitted.photo.bytes, validated.photo.bytes);
        // The images are not decoded again: a body intake would refuse passes on its header.
        let mut event = valid_event();
        let photo = jpeg(120, 160);
        event["photo"] = json!(b64(&photo[..photo.len() * 2 / 3]));
        let payload = serde_json::to_vec(&event).unwrap();
        assert!(parse_event(&payload, &limits).is_err());
        assert!(parse_admitted_event(&payload, &limits).is_ok());
        // Every other rule still holds.
        event["nik"] = json!("123");
        let payload = serde_json::to_vec(&event).unwrap();
        let error = parse_admitted_event(&payload, &limits).unwrap_err();
        assert_eq!(error.field_errors()[0].field, "nik");
    }

    #[test]
    fn jpeg_end_is_found_by_walking_segments() {
        let photo = jpeg(16, 16);
        assert!(jpeg_reaches_end(&photo));
        assert!(!jpeg_reaches_end(&photo[..photo.len() - 1]));
        assert!(!jpeg_reaches_end(&photo[..2]));
        // An APP segment holding an FF D9 (as an EXIF thumbnail does) does not end the image.
        let mut with_app = photo[..2].to_vec();
        with_app.extend_from_slice(&[0xFF, 0xE1, 0x00, 0x06, 0xFF, 0xD8, 0xFF, 0xD9]);
        with_app.extend_from_slice(&photo[2..photo.len() / 2]);
        assert!(!jpeg_reaches_end(&with_app));
    }

    #[test]
    fn pixel_limits_are_checked_from_the_header() {
        let limits = ImageLimits { photo_max_pixels: 100 * 100, ..ImageLimits::default() };
        let mut event = valid_event();
        event["photo"] = json!(b64(&jpeg(101, 100)));
        let error = parse_event(&serde_json::to_vec(&event).unwrap(), &limits).unwrap_err();
        assert_eq!(error.field_errors()[0].field, "photo");
        assert!(error.to_string().contains("101x100 pixels"), "{error}");
    }

    #[test]
    fn a_hostile_payload_cannot_inflate_the_reasons() {
        let mut event = valid_event();
        let long = "X".repeat(100_000);
        for field in ["sex", "blood_type", "religion", "office", "occurred_at", "birth_date", "valid_until", "type"] {
            event[field] = json!(long);
        }
        event["address"]["rt_rw"] = json!(long);
        for i in 0..2_000 {
            event[format!("{}{i}", &long[..1_000])] = json!(1);
        }
        let error = parse(&event).unwrap_err();
        let reasons = error.to_string();
        assert!(reasons.len() < 8_000, "{} bytes of reasons", reasons.len());
        assert!(reasons.contains("(100000 characters)"), "{}", &reasons[..200]);
        assert!(reasons.contains("nor are 1989 more"), "unknown fields summarised");
        assert_eq!(error.field_errors().iter().filter(|e| e.field.starts_with('X')).count(), 11);
    }

    #[test]
    fn a_key_twice_in_one_object_is_refused() {
        let valid = serde_json::to_string(&valid_event()).unwrap();
        let twice = valid.replacen('{', "{\"name\":\"SOMEONE ELSE\",", 1);
        assert_eq!(
            parse_event(twice.as_bytes(), &ImageLimits::default()).unwrap_err(),
            EventError::DuplicateKey("name".into())
        );
        let nested = valid.replacen("\"street\":", "\"rt_rw\":\"009/009\",\"street\":", 1);
        assert!(nested.contains("\"rt_rw\":\"009/009\""));
        assert_eq!(
            parse_event(nested.as_bytes(), &ImageLimits::default()).unwrap_err(),
            EventError::DuplicateKey("rt_rw".into())
        );
        assert!(parse_event(valid.as_bytes(), &ImageLimits::default()).is_ok());
    }

    #[test]
    fn every_error_is_reported_at_once() {
        check(
            |e| {
                e["nik"] = json!("123");
                e["sex"] = json!("X");
                e["address"]["rt_rw"] = json!("1/2");
                e["extra"] = json!(true);
            },
            Err(&["extra", "nik", "sex", "address.rt_rw"]),
        );
    }
}
