//! Drawings to printpdf operations, and one card's PDF document.
//!
//! Coordinates: the layout measures in millimetres from the card's top-left corner, PDF in
//! points from the bottom-left; the flip happens here and nowhere else. Text is placed with
//! absolute text matrices (`Tm`): printpdf's `SetTextCursor` moves relative to the previous
//! position, which silently drifts when a run is added or removed.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use printpdf::{
    Color, DictItem, ExternalStream, ExternalXObject, FontId, Line, LinePoint, Mm, Op, PaintMode, PdfFontHandle, Point,
    Pt, Rect, TextItem, TextMatrix, WindingOrder, XObjectId, XObjectTransform,
};

use crate::domain::layout::{BoxMm, Drawing, ImageSource, PlacedQr, Rgb, QUIET_ZONE_MODULES};

fn pt(mm: f32) -> Pt {
    Mm(mm).into_pt()
}

fn color(rgb: Rgb) -> Color {
    Color::Rgb(printpdf::Rgb { r: rgb.r, g: rgb.g, b: rgb.b, icc_profile: None })
}

/// The XObject name an image is drawn under on every card.
pub(crate) fn image_id(source: ImageSource) -> XObjectId {
    XObjectId(match source {
        ImageSource::Photo => "Photo".into(),
        ImageSource::Signature => "Signature".into(),
    })
}

/// Appends the operations for drawings to a page's operation list; a QR code becomes a form
/// XObject of its own ([`OpWriter::into_forms`]).
pub(crate) struct OpWriter<'a> {
    ops: &'a mut Vec<Op>,
    page_height: f32,
    fonts: &'a [FontId],
    /// The QR codes drawn, as form XObjects the page's operations use by these names.
    forms: Vec<(XObjectId, ExternalXObject)>,
    /// How many QR codes the card had before this writer's (names stay unique across pages).
    forms_before: usize,
}

impl<'a> OpWriter<'a> {
    /// A writer for a card on which `forms_before` QR codes were drawn already.
    pub(crate) fn new(ops: &'a mut Vec<Op>, page_height: f32, fonts: &'a [FontId], forms_before: usize) -> Self {
        OpWriter { ops, page_height, fonts, forms: Vec::new(), forms_before }
    }

    /// The QR codes' form XObjects, for the document's resources.
    pub(crate) fn into_forms(self) -> Vec<(XObjectId, ExternalXObject)> {
        self.forms
    }

    /// A box in layout coordinates as a PDF rectangle.
    fn rect(&self, bx: BoxMm, mode: PaintMode) -> Rect {
        Rect {
            x: pt(bx.x),
            y: pt(self.page_height - bx.bottom()),
            width: pt(bx.width),
            height: pt(bx.height),
            mode: Some(mode),
            winding_order: Some(WindingOrder::NonZero),
        }
    }

    fn point(&self, x: f32, y: f32) -> LinePoint {
        LinePoint { p: Point { x: pt(x), y: pt(self.page_height - y) }, bezier: false }
    }

    pub(crate) fn draw_all(&mut self, drawings: &[Drawing]) {
        // Consecutive text runs share one text object (BT ... ET), and font and colour are set
        // only when they change: fewer operators, smaller files.
        let mut in_text: Option<(usize, u32, Rgb)> = None;
        for drawing in drawings {
            if let Drawing::Text { font, size, x, baseline, text, color: rgb } = drawing {
                let size_key = (size * 100.0).round() as u32;
                if in_text.is_none() {
                    self.ops.push(Op::StartTextSection);
                }
                let current_font = in_text.map(|(f, s, _)| (f, s));
                let current_rgb = in_text.map(|(_, _, c)| c);
                if current_font != Some((*font, size_key)) {
                    self.ops.push(Op::SetFont {
                        font: PdfFontHandle::External(self.fonts[*font].clone()),
                        size: Pt(*size),
                    });
                }
                if current_rgb != Some(*rgb) {
                    self.ops.push(Op::SetFillColor { col: color(*rgb) });
                }
                in_text = Some((*font, size_key, *rgb));
                self.ops
                    .push(Op::SetTextMatrix { matrix: TextMatrix::Translate(pt(*x), pt(self.page_height - baseline)) });
                self.ops.push(Op::ShowText { items: vec![TextItem::Text(text.clone())] });
                continue;
            }
            if in_text.take().is_some() {
                self.ops.push(Op::EndTextSection);
            }
            self.draw_graphic(drawing);
        }
        if in_text.is_some() {
            self.ops.push(Op::EndTextSection);
        }
    }

    fn draw_graphic(&mut self, drawing: &Drawing) {
        match drawing {
            Drawing::Rect { bx, fill, stroke } => {
                if let Some(fill) = fill {
                    self.ops.push(Op::SetFillColor { col: color(*fill) });
                }
                if let Some((stroke, width)) = stroke {
                    self.ops.push(Op::SetOutlineColor { col: color(*stroke) });
                    self.ops.push(Op::SetOutlineThickness { pt: Pt(*width) });
                }
                let mode = match (fill, stroke) {
                    (Some(_), Some(_)) => PaintMode::FillStroke,
                    (None, Some(_)) => PaintMode::Stroke,
                    _ => PaintMode::Fill,
                };
                self.ops.push(Op::DrawRectangle { rectangle: self.rect(*bx, mode) });
            }
            Drawing::Line { from, to, width_pt, color: rgb } => {
                self.ops.push(Op::SetOutlineColor { col: color(*rgb) });
                self.ops.push(Op::SetOutlineThickness { pt: Pt(*width_pt) });
                let line = Line { points: vec![self.point(from.0, from.1), self.point(to.0, to.1)], is_closed: false };
                self.ops.push(Op::DrawLine { line });
            }
            Drawing::Image { source, placement, clip } => {
                if let Some(clip) = clip {
                    self.ops.push(Op::SaveGraphicsState);
                    self.ops.push(Op::DrawRectangle { rectangle: self.rect(*clip, PaintMode::Clip) });
                }
                let at = self.rect(*placement, PaintMode::Fill);
                self.ops.push(Op::UseXobject {
                    id: image_id(*source),
                    transform: XObjectTransform {
                        translate_x: Some(at.x),
                        translate_y: Some(at.y),
                        scale_x: Some(at.width.0),
                        scale_y: Some(at.height.0),
                        no_auto_scale: true,
                        ..XObjectTransform::default()
                    },
                });
                if clip.is_some() {
                    self.ops.push(Op::RestoreGraphicsState);
                }
            }
            Drawing::Qr(qr) => self.draw_qr(qr),
            Drawing::Text { .. } => unreachable!("text is handled by draw_all"),
        }
    }

    /// The quiet zone as a white square, then the dark modules as filled rectangles (runs merged
    /// across rows): vectors, so the printer's own dots decide the edges.
    /// They are written in module units (origin at the symbol's top-left module, y downwards,
    /// every operand a small whole number) into a form XObject's content stream here, and the
    /// page draws the form under one transformation. As printpdf's operations, each converted
    /// to lopdf's and its operands formatted as reals, the QR's 200-odd rectangles were 440 of
    /// the card's 620 operators and a fifth of its drawing time (docs/performance.md).
    fn draw_qr(&mut self, qr: &PlacedQr) {
        let module = pt(qr.module_mm).0;
        let quiet = QUIET_ZONE_MODULES;
        let origin_x = pt(qr.x + quiet as f32 * qr.module_mm).0;
        let origin_y = pt(self.page_height - (qr.y + quiet as f32 * qr.module_mm)).0;
        let id = XObjectId(format!("Qr{}", self.forms_before + self.forms.len()));
        self.forms.push((id.clone(), qr_form(qr)));
        self.ops.push(Op::UseXobject {
            id,
            transform: XObjectTransform {
                translate_x: Some(Pt(origin_x)),
                translate_y: Some(Pt(origin_y)),
                scale_x: Some(module),
                scale_y: Some(-module),
                no_auto_scale: true,
                ..XObjectTransform::default()
            },
        });
    }
}

/// A QR code as a form XObject in module units: its quiet zone white, its dark modules black.
fn qr_form(qr: &PlacedQr) -> ExternalXObject {
    let quiet = QUIET_ZONE_MODULES as i64;
    let size = qr.matrix.size() as i64;
    let rects = qr.matrix.dark_rects();
    let mut content = String::with_capacity(32 + rects.len() * 16);
    let with_quiet_zone = size + 2 * quiet;
    // `writeln!` into a String cannot fail.
    let _ = writeln!(content, "1 1 1 rg\n{} {} {with_quiet_zone} {with_quiet_zone} re f\n0 0 0 rg", -quiet, -quiet);
    // A fill per rectangle: one fill for them all draws the same modules, but poppler then
    // shades the dots along every module's edge (2,341 pixels of a card at 300 dpi).
    for (row, column, width, height) in rects {
        let _ = writeln!(content, "{column} {row} {width} {height} re f");
    }
    let int = |value: i64| DictItem::Int(value);
    let dict = BTreeMap::from([
        ("Type".to_owned(), DictItem::Name(b"XObject".to_vec())),
        ("Subtype".to_owned(), DictItem::Name(b"Form".to_vec())),
        ("BBox".to_owned(), DictItem::Array(vec![int(-quiet), int(-quiet), int(size + quiet), int(size + quiet)])),
        ("Resources".to_owned(), DictItem::Dict { map: BTreeMap::new() }),
    ]);
    ExternalXObject {
        stream: ExternalStream { dict, content: content.into_bytes(), compress: false },
        width: None,
        height: None,
        dpi: None,
    }
}

/// The page's operations without state that is already in force: a text object that ends only
/// for the next one to begin (text runs always set their own absolute matrix), and a font or fill
/// colour set again to what it already is. Static segments are converted once per template and
/// the card's values per card, each on its own, so every segment begins by setting its state;
/// across the page most of that repeats what the previous segment left. Fewer operators for
/// printpdf to translate and lopdf to format, and the same drawing: font and colour persist
/// across text objects, and `q`/`Q` save and restore them.
pub(crate) fn without_repeated_state(ops: Vec<Op>) -> Vec<Op> {
    let mut out: Vec<Op> = Vec::with_capacity(ops.len());
    let mut font: Option<(PdfFontHandle, f32)> = None;
    let mut fill: Option<Color> = None;
    let mut saved = Vec::new();
    for op in ops {
        match &op {
            Op::StartTextSection if matches!(out.last(), Some(Op::EndTextSection)) => {
                out.pop();
                continue;
            }
            Op::SetFont { font: handle, size } => {
                // The same bits: the operator would write the same number.
                let same = |(current, current_size): &(PdfFontHandle, f32)| {
                    current == handle && current_size.to_bits() == size.0.to_bits()
                };
                if font.as_ref().is_some_and(same) {
                    continue;
                }
                font = Some((handle.clone(), size.0));
            }
            Op::SetFillColor { col } => {
                if fill.as_ref() == Some(col) {
                    continue;
                }
                fill = Some(col.clone());
            }
            Op::SaveGraphicsState => saved.push((font.clone(), fill.clone())),
            Op::RestoreGraphicsState => {
                if let Some((saved_font, saved_fill)) = saved.pop() {
                    (font, fill) = (saved_font, saved_fill);
                }
            }
            _ => {}
        }
        out.push(op);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text_run(font: &str, rgb: Rgb) -> Vec<Op> {
        vec![
            Op::StartTextSection,
            Op::SetFont { font: PdfFontHandle::External(FontId(font.into())), size: Pt(6.0) },
            Op::SetFillColor { col: color(rgb) },
            Op::SetTextMatrix { matrix: TextMatrix::Translate(Pt(1.0), Pt(2.0)) },
            Op::ShowText { items: vec![TextItem::Text("NIK".into())] },
            Op::EndTextSection,
        ]
    }

    #[test]
    fn repeated_state_is_dropped_and_saved_state_restored() {
        let mut ops = text_run("F0", Rgb::BLACK);
        ops.extend(text_run("F0", Rgb::BLACK));
        ops.extend([Op::SaveGraphicsState, Op::SetFillColor { col: color(Rgb::WHITE) }, Op::RestoreGraphicsState]);
        ops.extend(text_run("F0", Rgb::BLACK));
        ops.extend(text_run("F1", Rgb::WHITE));
        let kept = without_repeated_state(ops);
        let count = |wanted: fn(&Op) -> bool| kept.iter().filter(|op| wanted(op)).count();
        // The second run joins the first text object; after `Q` black is in force again.
        assert_eq!(count(|op| matches!(op, Op::StartTextSection)), 2);
        assert_eq!(count(|op| matches!(op, Op::EndTextSection)), 2);
        assert_eq!(count(|op| matches!(op, Op::SetFont { .. })), 2);
        assert_eq!(count(|op| matches!(op, Op::SetFillColor { .. })), 3);
        assert_eq!(count(|op| matches!(op, Op::ShowText { .. })), 4);
        assert_eq!(count(|op| matches!(op, Op::SetTextMatrix { .. })), 4);
    }
}
