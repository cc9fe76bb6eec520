//! From a template and one card's values to a list of things to draw.
//!
//! [`Layout::prepare`] runs once per template: it fits every static text (labels) with the real
//! font metrics, so a label that overflows is a template error at load, and it splits each page
//! into runs of static drawing (the same on every card, which the renderer converts once) and
//! runs of items that depend on the card. [`Layout::draw_dynamic`] then lays out one card's
//! values, in the template's order, so the z-order is the template's.

use chrono::{Datelike, NaiveDate};
use unicode_normalization::UnicodeNormalization as _;

use super::fit::{fit_text, BoxMm, FitError, FontMetrics};
use super::qr::{place_qr, PlacedQr};
use super::template::{
    Field, Fill, ImageFit, ImageSource, Item, ItemKind, QrItem, Rgb, Template, TemplateError, TextItem,
};
use crate::domain::event::{EnrollmentEvent, ValidUntil};
use crate::domain::job::JobId;

/// What the print job adds to the event's data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardContext {
    pub job_id: JobId,
    /// Central's authorization, when the card has one (a preview has none).
    pub authorization_id: Option<String>,
    /// Where the card is issued: printed above the signature.
    pub issue_place: String,
    pub issue_date: NaiveDate,
}

/// The values of one card, formatted as the card shows them.
#[derive(Debug, Clone)]
pub struct CardValues {
    values: Vec<String>,
    birth_year: i32,
    photo_size: (u32, u32),
    signature_size: (u32, u32),
}

fn card_date(date: NaiveDate) -> String {
    date.format("%d-%m-%Y").to_string()
}

impl CardValues {
    pub fn new(event: &EnrollmentEvent, context: &CardContext) -> CardValues {
        let address = &event.address;
        let heading = |prefixes: &[&str], value: &str, prefix: &str| {
            if prefixes.iter().any(|p| value.starts_with(p)) {
                value.to_owned()
            } else {
                format!("{prefix} {value}")
            }
        };
        let value = |field: Field| -> String {
            match field {
                Field::Nik => event.nik.as_str().to_owned(),
                Field::Name => event.name.clone(),
                Field::BirthPlace => event.birth_place.clone(),
                Field::BirthDate => card_date(event.birth_date),
                Field::Sex => event.sex.label().to_owned(),
                Field::BloodType => event.blood_type.label().to_owned(),
                Field::Street => address.street.clone(),
                Field::RtRw => address.rt_rw.clone(),
                Field::Village => address.village.clone(),
                Field::District => address.district.clone(),
                Field::Regency => address.regency.clone(),
                Field::Province => address.province.clone(),
                Field::ProvinceHeading => heading(&["PROVINSI "], &address.province, "PROVINSI"),
                Field::RegencyHeading => heading(&["KABUPATEN ", "KOTA "], &address.regency, "KABUPATEN"),
                Field::Religion => event.religion.label().to_owned(),
                Field::MaritalStatus => event.marital_status.label().to_owned(),
                Field::Occupation => event.occupation.clone(),
                Field::Citizenship => event.citizenship.label().to_owned(),
                Field::ValidUntil => match event.valid_until {
                    ValidUntil::Lifetime => ValidUntil::LIFETIME_LABEL.to_owned(),
                    ValidUntil::Date(date) => card_date(date),
                },
                Field::IssuePlace => context.issue_place.clone(),
                Field::IssueDate => card_date(context.issue_date),
                Field::JobId => context.job_id.to_string(),
                Field::AuthorizationId => context.authorization_id.clone().unwrap_or_default(),
                Field::CardRef => context.authorization_id.clone().unwrap_or_else(|| context.job_id.to_string()),
            }
        };
        CardValues {
            // NFC: a name sent as `E` + combining acute is drawn with the font's `É`.
            values: Field::ALL.iter().map(|(field, _, _)| value(*field).nfc().collect()).collect(),
            birth_year: event.birth_date.year(),
            photo_size: (event.photo.width, event.photo.height),
            signature_size: (event.signature.width, event.signature.height),
        }
    }

    pub fn get(&self, field: Field) -> &str {
        let index = Field::ALL.iter().position(|(f, _, _)| *f == field).expect("every field listed");
        &self.values[index]
    }
}

/// One thing to draw, in millimetres from the card's top-left corner.
#[derive(Debug, Clone, PartialEq)]
pub enum Drawing {
    Rect {
        bx: BoxMm,
        fill: Option<Rgb>,
        stroke: Option<(Rgb, f32)>,
    },
    Line {
        from: (f32, f32),
        to: (f32, f32),
        width_pt: f32,
        color: Rgb,
    },
    /// One line of text; `font` indexes [`Template::fonts`].
    Text {
        font: usize,
        size: f32,
        x: f32,
        baseline: f32,
        text: String,
        color: Rgb,
    },
    /// An image drawn into `placement`, cut to `clip` when it overflows its box.
    Image {
        source: ImageSource,
        placement: BoxMm,
        clip: Option<BoxMm>,
    },
    /// A QR symbol on a light quiet zone.
    Qr(PlacedQr),
}

/// A run of a page: drawn the same on every card, or item indices to lay out per card.
#[derive(Debug, Clone, PartialEq)]
pub enum Segment {
    Static(Vec<Drawing>),
    Dynamic(Vec<usize>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct PagePlan {
    pub segments: Vec<Segment>,
}

/// A value of this card that the template cannot show: final, the data or the template must
/// change.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{item} (line {line}) showing {}: {message}", fields_label(.fields))]
pub struct LayoutError {
    pub item: String,
    pub line: usize,
    /// The event fields the item shows (`name`, `address.street`, ...).
    pub fields: Vec<&'static str>,
    pub message: String,
}

fn fields_label(fields: &[&'static str]) -> String {
    if fields.is_empty() {
        "static text".into()
    } else {
        fields.join(", ")
    }
}

/// A template prepared for drawing cards.
#[derive(Debug, Clone)]
pub struct Layout {
    template: Template,
    pages: Vec<PagePlan>,
}

/// Values at their longest for the checks made at load (QR sizes).
const SAMPLE_NIK: &str = "1502015203850001";
const SAMPLE_UUID: &str = "0190f1c2-aaaa-7bbb-8ccc-0123456789ab";

impl Layout {
    /// Checks the template against its fonts and splits it into static and per-card runs.
    ///
    /// `fonts[i]` are the metrics of `template.fonts[i]`.
    ///
    /// # Errors
    /// Every static text that does not fit or uses a character its font lacks, every literal
    /// character of a dynamic text its font lacks, every QR box too small for its payload.
    pub fn prepare(template: Template, fonts: &[FontMetrics]) -> Result<Layout, Vec<TemplateError>> {
        assert_eq!(fonts.len(), template.fonts.len(), "one FontMetrics per template font");
        let mut errors = Vec::new();
        let mut pages = Vec::new();
        for page in &template.pages {
            let mut segments = Vec::new();
            let mut statics = Vec::new();
            if let Some(background) = page.background {
                let bleed = template.bleed_mm;
                let bx = BoxMm {
                    x: -bleed,
                    y: -bleed,
                    width: template.width_mm + 2.0 * bleed,
                    height: template.height_mm + 2.0 * bleed,
                };
                statics.push(Drawing::Rect { bx, fill: Some(background), stroke: None });
            }
            let mut dynamics = Vec::new();
            for (index, item) in page.items.iter().enumerate() {
                let error = |field: &str, message: String| TemplateError {
                    line: Some(item.line),
                    field: format!("{}.{field}", item.path),
                    message,
                };
                match static_drawing(&template, item, fonts) {
                    StaticCheck::Static(Ok(drawings)) => {
                        if !dynamics.is_empty() {
                            segments.push(Segment::Dynamic(std::mem::take(&mut dynamics)));
                        }
                        statics.extend(drawings);
                    }
                    StaticCheck::Static(Err(message)) => errors.push(error("text", message)),
                    StaticCheck::Dynamic => {
                        if let Err((field, message)) = check_dynamic(item, fonts) {
                            errors.push(error(field, message));
                        }
                        if !statics.is_empty() {
                            segments.push(Segment::Static(std::mem::take(&mut statics)));
                        }
                        dynamics.push(index);
                    }
                }
            }
            if !statics.is_empty() {
                segments.push(Segment::Static(statics));
            }
            if !dynamics.is_empty() {
                segments.push(Segment::Dynamic(dynamics));
            }
            pages.push(PagePlan { segments });
        }
        if errors.is_empty() {
            Ok(Layout { template, pages })
        } else {
            Err(errors)
        }
    }

    pub fn template(&self) -> &Template {
        &self.template
    }

    pub fn pages(&self) -> &[PagePlan] {
        &self.pages
    }

    /// Lays out the items of one dynamic segment for one card, appending to `out`.
    ///
    /// # Errors
    /// [`LayoutError`] naming the item and the fields of a value that cannot be shown.
    pub fn draw_dynamic(
        &self,
        page: usize,
        items: &[usize],
        values: &CardValues,
        fonts: &[FontMetrics],
        out: &mut Vec<Drawing>,
    ) -> Result<(), LayoutError> {
        let page = &self.template.pages[page];
        for &index in items {
            let item = &page.items[index];
            draw_item(&self.template, item, values, fonts, out)?;
        }
        Ok(())
    }
}

enum StaticCheck {
    Static(Result<Vec<Drawing>, String>),
    Dynamic,
}

fn static_drawing(template: &Template, item: &Item, fonts: &[FontMetrics]) -> StaticCheck {
    match &item.kind {
        ItemKind::Text(text) => match text.text.as_static() {
            Some(label) => {
                StaticCheck::Static(text_drawings(&label, text, fonts).map_err(|e| format!("{label:?} {e}")))
            }
            None => StaticCheck::Dynamic,
        },
        ItemKind::Rect(rect) => match rect.fill {
            Some(Fill::ByBirthYear { .. }) => StaticCheck::Dynamic,
            Some(Fill::Solid(fill)) => StaticCheck::Static(Ok(vec![rect_drawing(template, rect.bx, Some(fill), rect)])),
            None => StaticCheck::Static(Ok(vec![rect_drawing(template, rect.bx, None, rect)])),
        },
        ItemKind::Line(line) => StaticCheck::Static(Ok(vec![Drawing::Line {
            from: line.from,
            to: line.to,
            width_pt: line.width_pt,
            color: line.color,
        }])),
        ItemKind::Image(_) | ItemKind::Qr(_) => StaticCheck::Dynamic,
    }
}

fn check_dynamic(item: &Item, fonts: &[FontMetrics]) -> Result<(), (&'static str, String)> {
    match &item.kind {
        ItemKind::Text(text) => {
            let literals = text.text.expand(|_| "");
            let font = &fonts[text.font];
            font.width_em(&literals)
                .map(|_| ())
                .map_err(|c| ("text", FitError::MissingGlyph(c, font.name().to_owned()).to_string()))
        }
        ItemKind::Qr(qr) => {
            let sample = qr.payload.expand(|field| match field {
                Field::Nik => SAMPLE_NIK,
                _ => SAMPLE_UUID,
            });
            place_qr(&sample, qr).map(|_| ()).map_err(|message| ("box", message))
        }
        _ => Ok(()),
    }
}

fn text_drawings(value: &str, item: &TextItem, fonts: &[FontMetrics]) -> Result<Vec<Drawing>, FitError> {
    let fitted = fit_text(value, &fonts[item.font], &item.style, item.bx)?;
    Ok(fitted
        .lines
        .into_iter()
        .map(|line| Drawing::Text {
            font: item.font,
            size: fitted.size,
            x: line.x,
            baseline: line.baseline,
            text: line.text,
            color: item.color,
        })
        .collect())
}

/// A filled rect that reaches an edge of the card reaches over the bleed too, so that a card
/// printed slightly oversize shows colour, not a white hairline, at its edge.
fn rect_drawing(template: &Template, bx: BoxMm, fill: Option<Rgb>, rect: &super::template::RectItem) -> Drawing {
    let mut bx = bx;
    if fill.is_some() {
        let (bleed, width, height) = (template.bleed_mm, template.width_mm, template.height_mm);
        let near = |a: f32, b: f32| (a - b).abs() < 0.01;
        if near(bx.x, 0.0) {
            bx.x -= bleed;
            bx.width += bleed;
        }
        if near(bx.y, 0.0) {
            bx.y -= bleed;
            bx.height += bleed;
        }
        if near(bx.right(), width) {
            bx.width += bleed;
        }
        if near(bx.bottom(), height) {
            bx.height += bleed;
        }
    }
    Drawing::Rect { bx, fill, stroke: rect.stroke.map(|color| (color, rect.stroke_width_pt)) }
}

fn draw_item(
    template: &Template,
    item: &Item,
    values: &CardValues,
    fonts: &[FontMetrics],
    out: &mut Vec<Drawing>,
) -> Result<(), LayoutError> {
    let fail = |fields: Vec<&'static str>, message: String| LayoutError {
        item: item.path.clone(),
        line: item.line,
        fields,
        message,
    };
    match &item.kind {
        ItemKind::Text(text) => {
            let value = text.text.expand(|field| values.get(field));
            let drawings = text_drawings(&value, text, fonts).map_err(|e| {
                fail(text.text.fields().map(Field::name).collect(), format!("{:?} {e}", redact(&value, text, values)))
            })?;
            out.extend(drawings);
        }
        ItemKind::Rect(rect) => {
            let fill = match rect.fill {
                Some(Fill::ByBirthYear { odd, even }) => Some(if values.birth_year % 2 == 0 { even } else { odd }),
                Some(Fill::Solid(color)) => Some(color),
                None => None,
            };
            out.push(rect_drawing(template, rect.bx, fill, rect));
        }
        ItemKind::Line(line) => {
            out.push(Drawing::Line { from: line.from, to: line.to, width_pt: line.width_pt, color: line.color });
        }
        ItemKind::Image(image) => {
            let (width, height) = match image.source {
                ImageSource::Photo => values.photo_size,
                ImageSource::Signature => values.signature_size,
            };
            let (placement, clip) = place_image(image.bx, image.fit, width, height);
            out.push(Drawing::Image { source: image.source, placement, clip });
        }
        ItemKind::Qr(qr) => out.push(Drawing::Qr(
            draw_qr(qr, values).map_err(|message| fail(qr.payload.fields().map(Field::name).collect(), message))?,
        )),
    }
    Ok(())
}

/// A refused value goes into the job's error, which staff read and the journal keeps: show it,
/// except the NIK, which is masked like everywhere else outside the card itself.
fn redact(value: &str, text: &TextItem, values: &CardValues) -> String {
    let nik = values.get(Field::Nik);
    if text.text.fields().any(|f| f == Field::Nik) && nik.len() == 16 {
        value.replace(nik, &format!("{}**********{}", &nik[..4], &nik[14..]))
    } else {
        value.to_owned()
    }
}

fn draw_qr(qr: &QrItem, values: &CardValues) -> Result<PlacedQr, String> {
    place_qr(&qr.payload.expand(|field| values.get(field)), qr)
}

/// Where an image of `width` x `height` pixels goes in `bx`, and the clip when it overflows.
pub fn place_image(bx: BoxMm, fit: ImageFit, width: u32, height: u32) -> (BoxMm, Option<BoxMm>) {
    let image_aspect = width as f32 / height.max(1) as f32;
    let box_aspect = bx.width / bx.height;
    let scaled = |wider: bool| {
        if wider {
            let h = bx.width / image_aspect;
            BoxMm { x: bx.x, y: bx.y + (bx.height - h) / 2.0, width: bx.width, height: h }
        } else {
            let w = bx.height * image_aspect;
            BoxMm { x: bx.x + (bx.width - w) / 2.0, y: bx.y, width: w, height: bx.height }
        }
    };
    match fit {
        ImageFit::Stretch => (bx, None),
        ImageFit::Contain => (scaled(image_aspect > box_aspect), None),
        ImageFit::Cover => {
            let placement = scaled(image_aspect < box_aspect);
            let overflows = placement.width > bx.width + 1e-4 || placement.height > bx.height + 1e-4;
            (placement, overflows.then_some(bx))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contain_and_cover() {
        let bx = BoxMm { x: 0.0, y: 0.0, width: 20.0, height: 26.0 };
        // A square photo in a tall box.
        let (placement, clip) = place_image(bx, ImageFit::Contain, 400, 400);
        assert_eq!((placement.width, placement.height, clip), (20.0, 20.0, None));
        assert!((placement.y - 3.0).abs() < 1e-5);
        let (placement, clip) = place_image(bx, ImageFit::Cover, 400, 400);
        assert_eq!((placement.width, placement.height, clip), (26.0, 26.0, Some(bx)));
        assert!((placement.x + 3.0).abs() < 1e-5);
        // Same aspect as the box: no clip needed.
        let (_, clip) = place_image(bx, ImageFit::Cover, 200, 260);
        assert_eq!(clip, None);
    }
}
