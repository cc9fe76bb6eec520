//! The card layout template: its hand-edited TOML form, and the validated model.
//!
//! A template is read completely and checked before anything is drawn with it: every error
//! found is reported with its line and the path of the field (`page[1].item[4].min_size`), so
//! a print room can fix a layout from the message alone. Parsing takes the file's text; reading
//! the file is the render adapter's job.

use std::collections::BTreeMap;
use std::fmt;

use serde::Deserialize;
use toml::Spanned;

use super::fit::{BoxMm, HorizontalAlign, TextStyle, VerticalAlign};

/// ID-1 (ISO/IEC 7810), the size of every bank card and of the e-KTP.
pub const ID1_WIDTH_MM: f32 = 85.60;
pub const ID1_HEIGHT_MM: f32 = 53.98;

/// One problem in a template. `line` is 1-based; `field` is a path such as `page[1].item[3].size`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateError {
    pub line: Option<usize>,
    pub field: String,
    pub message: String,
}

impl fmt::Display for TemplateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "line {line}: {}: {}", self.field, self.message),
            None => write!(f, "{}: {}", self.field, self.message),
        }
    }
}

/// An sRGB colour, components 0-1.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rgb {
    pub r: f32,
    pub g: f32,
    pub b: f32,
}

impl Rgb {
    pub const BLACK: Rgb = Rgb { r: 0.0, g: 0.0, b: 0.0 };
    pub const WHITE: Rgb = Rgb { r: 1.0, g: 1.0, b: 1.0 };

    /// Parses `#RRGGBB`.
    fn parse(value: &str) -> Result<Rgb, String> {
        let hex = value.strip_prefix('#').filter(|h| h.len() == 6 && h.bytes().all(|b| b.is_ascii_hexdigit()));
        let Some(hex) = hex else {
            return Err(format!("must be a colour #RRGGBB, got {value:?}"));
        };
        let channel = |i: usize| f32::from(u8::from_str_radix(&hex[i..i + 2], 16).expect("checked hex")) / 255.0;
        Ok(Rgb { r: channel(0), g: channel(2), b: channel(4) })
    }
}

/// The values a text or QR item can show. Names follow the event contract (`address.street`),
/// plus values derived for the card (`province_heading`) and facts of the print job.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Field {
    Nik,
    Name,
    BirthPlace,
    BirthDate,
    Sex,
    BloodType,
    Street,
    RtRw,
    Village,
    District,
    Regency,
    Province,
    ProvinceHeading,
    RegencyHeading,
    Religion,
    MaritalStatus,
    Occupation,
    Citizenship,
    ValidUntil,
    IssuePlace,
    IssueDate,
    JobId,
    AuthorizationId,
    CardRef,
}

impl Field {
    /// Every field with its placeholder name and what it holds.
    pub const ALL: &'static [(Field, &'static str, &'static str)] = &[
        (Field::Nik, "nik", "the 16-digit NIK"),
        (Field::Name, "name", "the holder's name"),
        (Field::BirthPlace, "birth_place", "place of birth"),
        (Field::BirthDate, "birth_date", "date of birth, DD-MM-YYYY"),
        (Field::Sex, "sex", "LAKI-LAKI or PEREMPUAN"),
        (Field::BloodType, "blood_type", "A, B, AB, O or -"),
        (Field::Street, "address.street", "street address"),
        (Field::RtRw, "address.rt_rw", "RT/RW, NNN/NNN"),
        (Field::Village, "address.village", "kelurahan/desa"),
        (Field::District, "address.district", "kecamatan"),
        (Field::Regency, "address.regency", "kabupaten/kota as sent"),
        (Field::Province, "address.province", "province as sent"),
        (Field::ProvinceHeading, "province_heading", "PROVINSI <province>"),
        (
            Field::RegencyHeading,
            "regency_heading",
            "KABUPATEN <regency>, or the regency as sent when it starts with KOTA/KABUPATEN",
        ),
        (Field::Religion, "religion", "religion"),
        (Field::MaritalStatus, "marital_status", "marital status"),
        (Field::Occupation, "occupation", "occupation"),
        (Field::Citizenship, "citizenship", "WNI or WNA"),
        (Field::ValidUntil, "valid_until", "DD-MM-YYYY or SEUMUR HIDUP"),
        (Field::IssuePlace, "issue_place", "where the card is issued (the office's regency)"),
        (Field::IssueDate, "issue_date", "date of issue, DD-MM-YYYY"),
        (Field::JobId, "job_id", "the print job's id"),
        (Field::AuthorizationId, "authorization_id", "central's authorization id (empty without one)"),
        (Field::CardRef, "card_ref", "the authorization id, or the job id when there is none"),
    ];

    /// What a QR code may carry: identifiers only, never the person's record.
    pub const QR_ALLOWED: &'static [Field] = &[Field::Nik, Field::JobId, Field::AuthorizationId, Field::CardRef];

    pub fn name(self) -> &'static str {
        Self::ALL.iter().find(|(field, _, _)| *field == self).map(|(_, name, _)| *name).expect("every field listed")
    }

    fn from_name(name: &str) -> Option<Field> {
        Self::ALL.iter().find(|(_, n, _)| *n == name).map(|(field, _, _)| *field)
    }
}

/// A text with `{field}` placeholders; `{{` and `}}` are literal braces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextTemplate {
    pieces: Vec<Piece>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Literal(String),
    Field(Field),
}

impl TextTemplate {
    /// Parses `source`; unknown placeholders and lone braces are errors.
    ///
    /// # Errors
    /// A message naming the problem.
    pub fn parse(source: &str) -> Result<TextTemplate, String> {
        let mut pieces = Vec::new();
        let mut literal = String::new();
        let mut chars = source.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '{' if chars.peek() == Some(&'{') => {
                    chars.next();
                    literal.push('{');
                }
                '}' if chars.peek() == Some(&'}') => {
                    chars.next();
                    literal.push('}');
                }
                '{' => {
                    let name: String = chars.by_ref().take_while(|&c| c != '}').collect();
                    let field = Field::from_name(name.trim()).ok_or_else(|| {
                        let known: Vec<&str> = Field::ALL.iter().map(|(_, n, _)| *n).collect();
                        format!("unknown placeholder {{{name}}}; known: {}", known.join(", "))
                    })?;
                    if !literal.is_empty() {
                        pieces.push(Piece::Literal(std::mem::take(&mut literal)));
                    }
                    pieces.push(Piece::Field(field));
                }
                '}' => return Err("a lone `}` (write `}}` for a literal brace)".into()),
                c if c.is_control() => return Err("must not contain control characters (line breaks, tabs)".into()),
                c => literal.push(c),
            }
        }
        if !literal.is_empty() {
            pieces.push(Piece::Literal(literal));
        }
        Ok(TextTemplate { pieces })
    }

    /// The fields this text shows, in order.
    pub fn fields(&self) -> impl Iterator<Item = Field> + '_ {
        self.pieces.iter().filter_map(|p| match p {
            Piece::Field(field) => Some(*field),
            Piece::Literal(_) => None,
        })
    }

    /// The text itself when it has no placeholders (a label).
    pub fn as_static(&self) -> Option<String> {
        self.pieces
            .iter()
            .map(|p| match p {
                Piece::Literal(text) => Some(text.as_str()),
                Piece::Field(_) => None,
            })
            .collect()
    }

    /// Fills the placeholders.
    pub fn expand<'a>(&self, value_of: impl Fn(Field) -> &'a str) -> String {
        let mut out = String::new();
        for piece in &self.pieces {
            match piece {
                Piece::Literal(text) => out.push_str(text),
                Piece::Field(field) => out.push_str(value_of(*field)),
            }
        }
        out
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageSource {
    Photo,
    Signature,
}

/// How an image meets a box of another shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageFit {
    /// Whole image, as large as fits, centred (bands of the box stay uncovered).
    Contain,
    /// Box filled, centred, the overflow cut off (a photo crop).
    Cover,
    /// Box filled, aspect ignored.
    Stretch,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QrEcl {
    L,
    M,
    Q,
    H,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Fill {
    Solid(Rgb),
    /// The e-KTP photo background: red for odd birth years, blue for even ones.
    ByBirthYear {
        odd: Rgb,
        even: Rgb,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct TextItem {
    pub text: TextTemplate,
    pub bx: BoxMm,
    /// Index into [`Template::fonts`].
    pub font: usize,
    pub style: TextStyle,
    pub color: Rgb,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RectItem {
    pub bx: BoxMm,
    pub fill: Option<Fill>,
    pub stroke: Option<Rgb>,
    pub stroke_width_pt: f32,
}

#[derive(Debug, Clone, PartialEq)]
pub struct LineItem {
    pub from: (f32, f32),
    pub to: (f32, f32),
    pub width_pt: f32,
    pub color: Rgb,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ImageItem {
    pub source: ImageSource,
    pub bx: BoxMm,
    pub fit: ImageFit,
}

#[derive(Debug, Clone, PartialEq)]
pub struct QrItem {
    pub payload: TextTemplate,
    pub bx: BoxMm,
    /// Module size in whole printer dots, so every module prints as the same number of dots.
    pub module_dots: u32,
    pub dpi: u32,
    pub ecl: QrEcl,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ItemKind {
    Text(TextItem),
    Rect(RectItem),
    Line(LineItem),
    Image(ImageItem),
    Qr(QrItem),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    /// `page[1].item[3]`, for messages.
    pub path: String,
    pub line: usize,
    pub kind: ItemKind,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    pub side: String,
    pub background: Option<Rgb>,
    pub items: Vec<Item>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct FontRef {
    pub key: String,
    /// Relative to the templates directory.
    pub file: String,
}

/// A checked template. Structure only: fitting the static texts needs the fonts and happens
/// in [`super::Layout::prepare`].
#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    pub name: String,
    pub title: String,
    pub pool: String,
    pub width_mm: f32,
    pub height_mm: f32,
    /// How far backgrounds reach past the card's edge (card printers print slightly oversize).
    pub bleed_mm: f32,
    pub fonts: Vec<FontRef>,
    pub pages: Vec<Page>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTemplate {
    title: Option<String>,
    pool: Spanned<String>,
    width_mm: Spanned<f32>,
    height_mm: Spanned<f32>,
    bleed_mm: Option<Spanned<f32>>,
    fonts: Spanned<BTreeMap<String, Spanned<String>>>,
    #[serde(default)]
    page: Vec<Spanned<RawPage>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPage {
    side: String,
    background: Option<String>,
    #[serde(default)]
    item: Vec<Spanned<RawItem>>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum RawFill {
    Solid(String),
    ByBirthYear { odd_birth_year: String, even_birth_year: String },
}

/// Every key any item may have; which apply depends on `type` (checked after parsing, so that
/// serde keeps exact spans and `deny_unknown_fields` catches typos).
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawItem {
    #[serde(rename = "type")]
    kind: String,
    #[serde(rename = "box")]
    bx: Option<[f32; 4]>,
    text: Option<String>,
    font: Option<String>,
    size: Option<f32>,
    min_size: Option<f32>,
    max_lines: Option<u32>,
    line_height: Option<f32>,
    align: Option<String>,
    valign: Option<String>,
    color: Option<String>,
    fill: Option<RawFill>,
    stroke: Option<String>,
    stroke_width: Option<f32>,
    from: Option<[f32; 2]>,
    to: Option<[f32; 2]>,
    width: Option<f32>,
    source: Option<String>,
    fit: Option<String>,
    payload: Option<String>,
    module_dots: Option<u32>,
    dpi: Option<u32>,
    ecl: Option<String>,
}

impl RawItem {
    /// The keys that are set, for "does not apply to" checks.
    fn keys_set(&self) -> Vec<&'static str> {
        let flags = [
            ("box", self.bx.is_some()),
            ("text", self.text.is_some()),
            ("font", self.font.is_some()),
            ("size", self.size.is_some()),
            ("min_size", self.min_size.is_some()),
            ("max_lines", self.max_lines.is_some()),
            ("line_height", self.line_height.is_some()),
            ("align", self.align.is_some()),
            ("valign", self.valign.is_some()),
            ("color", self.color.is_some()),
            ("fill", self.fill.is_some()),
            ("stroke", self.stroke.is_some()),
            ("stroke_width", self.stroke_width.is_some()),
            ("from", self.from.is_some()),
            ("to", self.to.is_some()),
            ("width", self.width.is_some()),
            ("source", self.source.is_some()),
            ("fit", self.fit.is_some()),
            ("payload", self.payload.is_some()),
            ("module_dots", self.module_dots.is_some()),
            ("dpi", self.dpi.is_some()),
            ("ecl", self.ecl.is_some()),
        ];
        flags.into_iter().filter(|(_, set)| *set).map(|(key, _)| key).collect()
    }
}

const TEXT_KEYS: &[&str] =
    &["box", "text", "font", "size", "min_size", "max_lines", "line_height", "align", "valign", "color"];
const RECT_KEYS: &[&str] = &["box", "fill", "stroke", "stroke_width"];
const LINE_KEYS: &[&str] = &["from", "to", "width", "color"];
const IMAGE_KEYS: &[&str] = &["box", "source", "fit"];
const QR_KEYS: &[&str] = &["box", "payload", "module_dots", "dpi", "ecl"];

/// Parses and checks a template's TOML text. `name` is the file's stem.
///
/// # Errors
/// Every problem found, each with its line and field.
pub fn parse_template(name: &str, source: &str) -> Result<Template, Vec<TemplateError>> {
    let line_of = |offset: usize| source[..offset.min(source.len())].matches('\n').count() + 1;
    let raw: RawTemplate = toml::from_str(source).map_err(|error| {
        let line = error.span().map(|span| line_of(span.start));
        // The offending key is on that line (`key = value`): name it as the field.
        let field = error
            .span()
            .and_then(|span| {
                let start = source[..span.start].rfind('\n').map_or(0, |i| i + 1);
                let text = source[start..].lines().next()?;
                text.split_once('=').map(|(key, _)| key.trim().to_owned())
            })
            .unwrap_or_else(|| "(document)".into());
        vec![TemplateError { line, field, message: error.message().to_owned() }]
    })?;

    let mut errors = Vec::new();
    let mut fail = |line: usize, field: &str, message: String| {
        errors.push(TemplateError { line: Some(line), field: field.to_owned(), message });
    };

    if !(1..=32).contains(&name.len())
        || !name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
    {
        fail(1, "(file name)", format!("template name {name:?} must be 1-32 of a-z, 0-9, '-', '_'"));
    }
    let pool = raw.pool.get_ref().trim().to_owned();
    if pool.is_empty() {
        fail(line_of(raw.pool.span().start), "pool", "must name the printer pool".into());
    }
    let width_mm = *raw.width_mm.get_ref();
    let height_mm = *raw.height_mm.get_ref();
    for (value, span, field) in
        [(width_mm, raw.width_mm.span(), "width_mm"), (height_mm, raw.height_mm.span(), "height_mm")]
    {
        if !(10.0..=300.0).contains(&value) {
            fail(line_of(span.start), field, format!("must be 10 to 300 mm, got {value}"));
        }
    }
    let bleed_mm = match &raw.bleed_mm {
        Some(bleed) if !(0.0..=5.0).contains(bleed.get_ref()) => {
            fail(line_of(bleed.span().start), "bleed_mm", format!("must be 0 to 5 mm, got {}", bleed.get_ref()));
            0.0
        }
        Some(bleed) => *bleed.get_ref(),
        None => 1.0,
    };

    let mut fonts = Vec::new();
    if raw.fonts.get_ref().is_empty() {
        fail(line_of(raw.fonts.span().start), "fonts", "must name at least one font file".into());
    }
    for (key, file) in raw.fonts.get_ref() {
        let path = file.get_ref();
        let escapes = path.starts_with('/') || path.contains('\\') || path.split('/').any(|part| part == "..");
        if path.is_empty() || escapes {
            fail(
                line_of(file.span().start),
                &format!("fonts.{key}"),
                format!("must be a path inside the templates directory, got {path:?}"),
            );
        }
        fonts.push(FontRef { key: key.clone(), file: path.clone() });
    }

    if raw.page.is_empty() {
        fail(1, "page", "a template needs at least one [[page]]".into());
    }
    let page_box = BoxMm { x: 0.0, y: 0.0, width: width_mm, height: height_mm };
    let bleed_box =
        BoxMm { x: -bleed_mm, y: -bleed_mm, width: width_mm + 2.0 * bleed_mm, height: height_mm + 2.0 * bleed_mm };
    let mut pages = Vec::new();
    for (page_index, raw_page) in raw.page.iter().enumerate() {
        let page_path = format!("page[{}]", page_index + 1);
        let page_line = line_of(raw_page.span().start);
        let raw_page = raw_page.get_ref();
        let background = raw_page.background.as_deref().and_then(|value| {
            Rgb::parse(value).map_err(|message| fail(page_line, &format!("{page_path}.background"), message)).ok()
        });
        let mut items = Vec::new();
        for (item_index, raw_item) in raw_page.item.iter().enumerate() {
            let path = format!("{page_path}.item[{}]", item_index + 1);
            let line = line_of(raw_item.span().start);
            let mut checker = ItemChecker { path: &path, line, fail: &mut fail };
            if let Some(kind) = checker.item(raw_item.get_ref(), &fonts, page_box, bleed_box) {
                items.push(Item { path: path.clone(), line, kind });
            }
        }
        pages.push(Page { side: raw_page.side.clone(), background, items });
    }

    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(Template {
        name: name.to_owned(),
        title: raw.title.unwrap_or_else(|| name.to_owned()),
        pool,
        width_mm,
        height_mm,
        bleed_mm,
        fonts,
        pages,
    })
}

struct ItemChecker<'a, F: FnMut(usize, &str, String)> {
    path: &'a str,
    line: usize,
    fail: &'a mut F,
}

impl<F: FnMut(usize, &str, String)> ItemChecker<'_, F> {
    fn error(&mut self, key: &str, message: impl Into<String>) {
        (self.fail)(self.line, &format!("{}.{key}", self.path), message.into());
    }

    fn item(&mut self, raw: &RawItem, fonts: &[FontRef], page: BoxMm, bleed: BoxMm) -> Option<ItemKind> {
        let allowed = match raw.kind.as_str() {
            "text" => TEXT_KEYS,
            "rect" => RECT_KEYS,
            "line" => LINE_KEYS,
            "image" => IMAGE_KEYS,
            "qr" => QR_KEYS,
            other => {
                self.error("type", format!("must be one of text, rect, line, image, qr; got {other:?}"));
                return None;
            }
        };
        for key in raw.keys_set() {
            if !allowed.contains(&key) {
                self.error(key, format!("does not apply to a {} item (it takes {})", raw.kind, allowed.join(", ")));
            }
        }
        match raw.kind.as_str() {
            "text" => self.text(raw, fonts, page).map(ItemKind::Text),
            "rect" => self.rect(raw, bleed).map(ItemKind::Rect),
            "line" => self.line_item(raw, bleed).map(ItemKind::Line),
            "image" => self.image(raw, page).map(ItemKind::Image),
            _ => self.qr(raw, page).map(ItemKind::Qr),
        }
    }

    fn bx(&mut self, raw: &RawItem, within: BoxMm) -> Option<BoxMm> {
        let Some([x, y, width, height]) = raw.bx else {
            self.error("box", "is required: [x, y, width, height] in mm from the top-left corner");
            return None;
        };
        // TOML has `nan`, and NaN passes every comparison below (found by fuzzing).
        if ![x, y, width, height].iter().all(|v| v.is_finite()) {
            self.error("box", format!("must be numbers, got [{x}, {y}, {width}, {height}]"));
            return None;
        }
        if width <= 0.0 || height <= 0.0 {
            self.error("box", format!("width and height must be positive, got {width} x {height}"));
            return None;
        }
        let bx = BoxMm { x, y, width, height };
        let tolerance = 1e-3;
        if bx.x < within.x - tolerance
            || bx.y < within.y - tolerance
            || bx.right() > within.right() + tolerance
            || bx.bottom() > within.bottom() + tolerance
        {
            self.error(
                "box",
                format!(
                    "[{x}, {y}, {width}, {height}] reaches outside the area allowed ({:.2}..{:.2} x {:.2}..{:.2} mm)",
                    within.x,
                    within.right(),
                    within.y,
                    within.bottom()
                ),
            );
            return None;
        }
        Some(bx)
    }

    fn color(&mut self, key: &str, value: Option<&str>, default: Rgb) -> Option<Rgb> {
        match value {
            None => Some(default),
            Some(value) => Rgb::parse(value).map_err(|message| self.error(key, message)).ok(),
        }
    }

    fn text(&mut self, raw: &RawItem, fonts: &[FontRef], page: BoxMm) -> Option<TextItem> {
        let bx = self.bx(raw, page);
        let text = match raw.text.as_deref() {
            None | Some("") => {
                self.error("text", "is required (a label, or placeholders such as {name})");
                None
            }
            Some(source) => TextTemplate::parse(source).map_err(|message| self.error("text", message)).ok(),
        };
        let font = match raw.font.as_deref() {
            None => {
                self.error("font", "is required (a key of [fonts])");
                None
            }
            Some(key) => {
                let index = fonts.iter().position(|f| f.key == key);
                if index.is_none() {
                    let known: Vec<&str> = fonts.iter().map(|f| f.key.as_str()).collect();
                    self.error("font", format!("{key:?} is not in [fonts] ({})", known.join(", ")));
                }
                index
            }
        };
        let size = raw.size.unwrap_or(0.0);
        if !(2.0..=72.0).contains(&size) {
            self.error("size", format!("is required, 2 to 72 pt, got {size}"));
        }
        let min_size = raw.min_size.unwrap_or(size);
        // NaN passes both comparisons (the others here are `contains`, which refuses it).
        if min_size.is_nan() || min_size < 2.0 || min_size > size {
            self.error("min_size", format!("must be 2 pt or more and at most size ({size}), got {min_size}"));
        }
        let max_lines = raw.max_lines.unwrap_or(1);
        if !(1..=10).contains(&max_lines) {
            self.error("max_lines", format!("must be 1 to 10, got {max_lines}"));
        }
        let line_height = raw.line_height.unwrap_or(1.15);
        if !(0.8..=3.0).contains(&line_height) {
            self.error("line_height", format!("must be 0.8 to 3 (times the size), got {line_height}"));
        }
        let align = match raw.align.as_deref() {
            None | Some("left") => Some(HorizontalAlign::Left),
            Some("center") => Some(HorizontalAlign::Center),
            Some("right") => Some(HorizontalAlign::Right),
            Some(other) => {
                self.error("align", format!("must be left, center or right; got {other:?}"));
                None
            }
        };
        let valign = match raw.valign.as_deref() {
            None | Some("top") => Some(VerticalAlign::Top),
            Some("middle") => Some(VerticalAlign::Middle),
            Some("bottom") => Some(VerticalAlign::Bottom),
            Some(other) => {
                self.error("valign", format!("must be top, middle or bottom; got {other:?}"));
                None
            }
        };
        let color = self.color("color", raw.color.as_deref(), Rgb::BLACK);
        Some(TextItem {
            text: text?,
            bx: bx?,
            font: font?,
            style: TextStyle {
                size,
                min_size,
                max_lines: max_lines as usize,
                line_height,
                align: align?,
                valign: valign?,
            },
            color: color?,
        })
    }

    fn rect(&mut self, raw: &RawItem, bleed: BoxMm) -> Option<RectItem> {
        let bx = self.bx(raw, bleed);
        let fill = match &raw.fill {
            None => Some(None),
            Some(RawFill::Solid(value)) => self.color("fill", Some(value), Rgb::BLACK).map(|c| Some(Fill::Solid(c))),
            Some(RawFill::ByBirthYear { odd_birth_year, even_birth_year }) => {
                let odd = self.color("fill.odd_birth_year", Some(odd_birth_year), Rgb::BLACK);
                let even = self.color("fill.even_birth_year", Some(even_birth_year), Rgb::BLACK);
                Some(Some(Fill::ByBirthYear { odd: odd?, even: even? }))
            }
        };
        let stroke = match raw.stroke.as_deref() {
            None => Some(None),
            Some(value) => self.color("stroke", Some(value), Rgb::BLACK).map(Some),
        };
        let stroke_width_pt = raw.stroke_width.unwrap_or(0.5);
        if !(0.05..=10.0).contains(&stroke_width_pt) {
            self.error("stroke_width", format!("must be 0.05 to 10 pt, got {stroke_width_pt}"));
        }
        let (fill, stroke) = (fill?, stroke?);
        if fill.is_none() && stroke.is_none() {
            self.error("fill", "a rect needs a fill, a stroke, or both");
            return None;
        }
        Some(RectItem { bx: bx?, fill, stroke, stroke_width_pt })
    }

    fn line_item(&mut self, raw: &RawItem, bleed: BoxMm) -> Option<LineItem> {
        let mut point = |key: &str, value: Option<[f32; 2]>| match value {
            None => {
                self.error(key, "is required: [x, y] in mm");
                None
            }
            // A NaN (TOML's `nan`) passes the comparisons: it is off the card too (found by fuzzing).
            Some([x, y])
                if !x.is_finite()
                    || !y.is_finite()
                    || x < bleed.x
                    || y < bleed.y
                    || x > bleed.right()
                    || y > bleed.bottom() =>
            {
                self.error(key, format!("[{x}, {y}] is off the card"));
                None
            }
            Some([x, y]) => Some((x, y)),
        };
        let from = point("from", raw.from);
        let to = point("to", raw.to);
        let width_pt = raw.width.unwrap_or(0.5);
        if !(0.05..=10.0).contains(&width_pt) {
            self.error("width", format!("must be 0.05 to 10 pt, got {width_pt}"));
        }
        let color = self.color("color", raw.color.as_deref(), Rgb::BLACK);
        Some(LineItem { from: from?, to: to?, width_pt, color: color? })
    }

    fn image(&mut self, raw: &RawItem, page: BoxMm) -> Option<ImageItem> {
        let bx = self.bx(raw, page);
        let source = match raw.source.as_deref() {
            Some("photo") => Some(ImageSource::Photo),
            Some("signature") => Some(ImageSource::Signature),
            other => {
                self.error("source", format!("must be photo or signature, got {other:?}"));
                None
            }
        };
        let fit = match raw.fit.as_deref() {
            None | Some("contain") => Some(ImageFit::Contain),
            Some("cover") => Some(ImageFit::Cover),
            Some("stretch") => Some(ImageFit::Stretch),
            Some(other) => {
                self.error("fit", format!("must be contain, cover or stretch; got {other:?}"));
                None
            }
        };
        Some(ImageItem { source: source?, bx: bx?, fit: fit? })
    }

    fn qr(&mut self, raw: &RawItem, page: BoxMm) -> Option<QrItem> {
        let bx = self.bx(raw, page);
        let payload = match raw.payload.as_deref() {
            None | Some("") => {
                self.error("payload", "is required, e.g. \"{nik}|{card_ref}\"");
                None
            }
            Some(source) => match TextTemplate::parse(source) {
                Err(message) => {
                    self.error("payload", message);
                    None
                }
                Ok(template) => {
                    let private: Vec<&str> =
                        template.fields().filter(|f| !Field::QR_ALLOWED.contains(f)).map(Field::name).collect();
                    if private.is_empty() {
                        Some(template)
                    } else {
                        let allowed: Vec<&str> = Field::QR_ALLOWED.iter().map(|f| f.name()).collect();
                        self.error(
                            "payload",
                            format!(
                                "may carry only identifiers ({}), not {}: a QR code must not copy the record",
                                allowed.join(", "),
                                private.join(", ")
                            ),
                        );
                        None
                    }
                }
            },
        };
        let module_dots = raw.module_dots.unwrap_or(3);
        if !(1..=20).contains(&module_dots) {
            self.error("module_dots", format!("must be 1 to 20 printer dots, got {module_dots}"));
        }
        let dpi = raw.dpi.unwrap_or(300);
        if !(150..=1200).contains(&dpi) {
            self.error("dpi", format!("must be the printer's resolution, 150 to 1200, got {dpi}"));
        }
        let ecl = match raw.ecl.as_deref() {
            Some("L") => Some(QrEcl::L),
            None | Some("M") => Some(QrEcl::M),
            Some("Q") => Some(QrEcl::Q),
            Some("H") => Some(QrEcl::H),
            Some(other) => {
                self.error("ecl", format!("must be L, M, Q or H; got {other:?}"));
                None
            }
        };
        Some(QrItem { payload: payload?, bx: bx?, module_dots, dpi, ecl: ecl? })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r##"
pool = "ektp"
width_mm = 85.60
height_mm = 53.98

[fonts]
regular = "fonts/LiberationSans-Regular.ttf"

[[page]]
side = "front"
background = "#FFFFFF"

[[page.item]]
type = "text"
text = "Nama"
box = [2.0, 10.0, 20.0, 3.0]
font = "regular"
size = 6
"##;

    fn errors(source: &str) -> Vec<TemplateError> {
        parse_template("t", source).unwrap_err()
    }

    #[test]
    fn minimal_template_parses() {
        let template = parse_template("t", MINIMAL).unwrap();
        assert_eq!(template.pool, "ektp");
        assert!((template.bleed_mm - 1.0).abs() < f32::EPSILON);
        assert_eq!(template.pages[0].items[0].line, 13);
        let ItemKind::Text(text) = &template.pages[0].items[0].kind else { panic!() };
        assert_eq!(text.text.as_static().as_deref(), Some("Nama"));
    }

    #[test]
    fn a_typo_names_line_and_key() {
        let source = MINIMAL.replace("size = 6", "sise = 6");
        let error = &errors(&source)[0];
        assert_eq!(error.line, Some(18));
        assert_eq!(error.field, "sise");
        assert!(error.message.contains("unknown field"), "{error}");
    }

    #[test]
    fn a_wrong_type_names_line_and_key() {
        let source = MINIMAL.replace("size = 6", "size = \"big\"");
        let error = &errors(&source)[0];
        assert_eq!((error.line, error.field.as_str()), (Some(18), "size"), "{error}");
    }

    #[test]
    fn every_semantic_problem_is_reported_with_its_item() {
        let source = MINIMAL
            .replace("size = 6", "size = 6\nmin_size = 9\nalign = \"middle\"\nfill = \"#000000\"")
            .replace("text = \"Nama\"", "text = \"{nama}\"")
            .replace("font = \"regular\"", "font = \"bold\"");
        let found = errors(&source);
        let fields: Vec<&str> = found.iter().map(|e| e.field.as_str()).collect();
        for expected in [
            "page[1].item[1].min_size",
            "page[1].item[1].align",
            "page[1].item[1].fill",
            "page[1].item[1].text",
            "page[1].item[1].font",
        ] {
            assert!(fields.contains(&expected), "{expected} missing from {found:?}");
        }
        assert!(found.iter().all(|e| e.line == Some(13)), "{found:?}");
    }

    #[test]
    fn qr_payload_may_not_carry_the_record() {
        let source = format!(
            "{MINIMAL}\n[[page.item]]\ntype = \"qr\"\nbox = [60, 20, 20, 20]\npayload = \"{{nik}}|{{name}}|{{address.street}}\"\n"
        );
        let found = errors(&source);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].message.contains("name, address.street"), "{}", found[0]);
    }

    #[test]
    fn boxes_must_stay_on_the_card() {
        let source = MINIMAL.replace("[2.0, 10.0, 20.0, 3.0]", "[80.0, 10.0, 20.0, 3.0]");
        assert_eq!(errors(&source)[0].field, "page[1].item[1].box");
    }

    #[test]
    fn nan_is_refused_wherever_a_number_goes() {
        // Found by fuzzing (domain::fuzz): each was accepted with a NaN in it.
        let source = MINIMAL.replace("[2.0, 10.0, 20.0, 3.0]", "[nan, 10.0, 20.0, 3.0]");
        assert_eq!(errors(&source)[0].field, "page[1].item[1].box");
        let source = MINIMAL.replace("[2.0, 10.0, 20.0, 3.0]", "[2.0, 10.0, nan, 3.0]");
        assert_eq!(errors(&source)[0].field, "page[1].item[1].box");
        let line = format!("{MINIMAL}\n[[page.item]]\ntype = \"line\"\nfrom = [2, nan]\nto = [10, 10]\n");
        assert_eq!(errors(&line)[0].field, "page[1].item[2].from");
        let min_size = MINIMAL.replace("size = 6", "size = 6\nmin_size = nan");
        assert_eq!(errors(&min_size)[0].field, "page[1].item[1].min_size");
    }

    #[test]
    fn text_templates() {
        let template = TextTemplate::parse("PROVINSI {address.province} {{x}}").unwrap();
        assert_eq!(template.fields().collect::<Vec<_>>(), vec![Field::Province]);
        assert_eq!(template.expand(|_| "JAMBI"), "PROVINSI JAMBI {x}");
        assert!(TextTemplate::parse("a } b").is_err());
        assert!(TextTemplate::parse("{unknown}").unwrap_err().contains("unknown placeholder"));
    }

    #[test]
    fn fill_by_birth_year() {
        let source = format!(
            "{MINIMAL}\n[[page.item]]\ntype = \"rect\"\nbox = [60, 10, 20, 26]\nfill = {{ odd_birth_year = \"#FF0000\", even_birth_year = \"#0000FF\" }}\n"
        );
        let template = parse_template("t", &source).unwrap();
        let ItemKind::Rect(rect) = &template.pages[0].items[1].kind else { panic!() };
        assert_eq!(
            rect.fill,
            Some(Fill::ByBirthYear { odd: Rgb { r: 1.0, g: 0.0, b: 0.0 }, even: Rgb { r: 0.0, g: 0.0, b: 1.0 } })
        );
    }
}
