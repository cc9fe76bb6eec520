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
    #[error("{}", join_errors(.0))]
    Invalid(Vec<FieldError>),
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
    let value: Value = serde_json::from_slice(payload).map_err(|e| EventError::NotJson(e.to_string()))?;
    let Value::Object(object) = value else {
        return Err(EventError::NotAnObject);
    };
    let mut checker = Checker { errors: Vec::new(), prefix: "" };
    let event = checker.event(&object, limits);
    match event {
        Some(event) if checker.errors.is_empty() => Ok(event),
        _ => Err(EventError::Invalid(checker.errors)),
    }
}

struct Checker {
    errors: Vec<FieldError>,
    prefix: &'static str,
}

impl Checker {
    fn fail(&mut self, field: &str, message: impl Into<String>) {
        self.errors.push(FieldError { field: format!("{}{field}", self.prefix), message: message.into() });
    }

    fn unknown_fields(&mut self, object: &Map<String, Value>, known: &[&str]) {
        for key in object.keys() {
            if !known.contains(&key.as_str()) {
                self.fail(key, "is not a field of the contract (check the spelling)");
            }
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
        if value.chars().any(char::is_control) {
            self.fail(field, "must not contain control characters (line breaks, tabs)");
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
            self.fail(field, format!("{}, got {value:?}", expected()));
        }
        parsed
    }

    fn date(&mut self, object: &Map<String, Value>, field: &str) -> Option<NaiveDate> {
        let value = self.string(object, field)?;
        let parsed = NaiveDate::parse_from_str(value, "%Y-%m-%d").ok().filter(|_| value.len() == 10);
        if parsed.is_none() {
            self.fail(field, format!("must be a date YYYY-MM-DD, got {value:?}"));
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
        match check_image(bytes, limits) {
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
            Some(other) => self.fail("schema", format!("must be {SCHEMA_VERSION}, got {other}")),
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
                self.fail("type", format!("must be {EVENT_TYPE:?}, got {kind:?}"));
            }
        }
        let occurred_at = self.string(object, "occurred_at").and_then(|value| {
            let parsed = DateTime::parse_from_rfc3339(value).ok();
            if parsed.is_none() {
                self.fail("occurred_at", format!("must be an RFC 3339 time with offset, got {value:?}"));
            }
            parsed
        });
        let office = self.string(object, "office").and_then(|value| {
            if value.len() == 4 && value.bytes().all(|b| b.is_ascii_digit()) {
                Some(value.to_owned())
            } else {
                self.fail("office", format!("must be the office's 4-digit regency code, got {value:?}"));
                None
            }
        });
        let template = self.optional_string(object, "template").and_then(|value| match value {
            None => Some(None),
            Some(name) if is_template_name(name) => Some(Some(name.to_owned())),
            Some(name) => {
                self.fail("template", format!("must be 1-32 of a-z, 0-9, '-', '_', got {name:?}"));
                None
            }
        });
        let priority = self.optional_string(object, "priority").and_then(|value| match value {
            None => Some(Priority::Normal),
            Some(label) => {
                let parsed = Priority::from_label(label);
                if parsed.is_none() {
                    self.fail("priority", format!("{}, got {label:?}", Priority::expected()));
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
            if name.chars().all(|c| c.is_alphabetic() || " '.,-`’".contains(c)) {
                Some(name)
            } else {
                self.fail("name", "may contain only letters, spaces and . , ' -");
                None
            }
        });
        let birth_place = self.text(object, "birth_place", 40);
        let birth_date = self.date(object, "birth_date");
        if let (Some(born), Some(occurred)) = (birth_date, occurred_at) {
            if born > occurred.date_naive() {
                self.fail("birth_date", "is after the enrollment (occurred_at)");
            }
            if born < NaiveDate::from_ymd_opt(1900, 1, 1).expect("valid") {
                self.fail("birth_date", "is before 1900");
            }
        }
        let sex = self.vocabulary(object, "sex", Sex::from_label, Sex::expected);
        let blood_type = self.vocabulary(object, "blood_type", BloodType::from_label, BloodType::expected);
        let address = self.address(object);
        let religion = self.vocabulary(object, "religion", Religion::from_label, Religion::expected);
        let marital_status =
            self.vocabulary(object, "marital_status", MaritalStatus::from_label, MaritalStatus::expected);
        let occupation = self.text(object, "occupation", 40);
        let citizenship = self.vocabulary(object, "citizenship", Citizenship::from_label, Citizenship::expected);
        let valid_until = self.string(object, "valid_until").and_then(|value| {
            if value == ValidUntil::LIFETIME_LABEL {
                return Some(ValidUntil::Lifetime);
            }
            let parsed = NaiveDate::parse_from_str(value, "%Y-%m-%d").ok().filter(|_| value.len() == 10);
            if parsed.is_none() {
                self.fail("valid_until", format!("must be a date YYYY-MM-DD or \"SEUMUR HIDUP\", got {value:?}"));
            }
            parsed.map(ValidUntil::Date)
        });
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

        let mut warnings = Vec::new();
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
                self.fail("rt_rw", format!("must be NNN/NNN (e.g. \"001/002\"), got {value:?}"));
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

fn check_image(bytes: Vec<u8>, check: ImageCheck) -> Result<EncodedImage, String> {
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
    let image_format = match format {
        ImageFormat::Jpeg => image::ImageFormat::Jpeg,
        ImageFormat::Png => image::ImageFormat::Png,
    };
    let reader = || image::ImageReader::with_format(Cursor::new(bytes.as_slice()), image_format);
    // The header alone gives the dimensions: a bomb is refused here, before any inflating.
    let (width, height) = reader().into_dimensions().map_err(|e| format!("cannot be read as {format:?}: {e}"))?;
    let pixels = u64::from(width) * u64::from(height);
    if pixels > check.max_pixels {
        return Err(format!("is {width}x{height} pixels, more than the limit of {} pixels", check.max_pixels));
    }
    if width == 0 || height == 0 {
        return Err("has no pixels".into());
    }
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(width);
    limits.max_image_height = Some(height);
    limits.max_alloc = Some(pixels * 8 + 1024 * 1024);
    let mut decoder = reader();
    decoder.limits(limits);
    decoder.decode().map_err(|e| format!("cannot be decoded as {format:?}: {e}"))?;
    Ok(EncodedImage { format, width, height, bytes })
}

fn format_names(formats: &[ImageFormat]) -> String {
    formats.iter().map(|f| format!("{f:?}")).collect::<Vec<_>>().join(" or ")
}
