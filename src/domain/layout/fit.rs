//! Fit-to-box: the size and line breaks that put a value inside its box, or a refusal.
//!
//! A value first shrinks, one line, from the template's size down to its minimum size; if it
//! still does not fit and the template allows more lines, it wraps (at spaces, and inside a
//! word only when the word alone is wider than the box), trying again from the full size for
//! each line count. What cannot fit even then is an error: the card never shows clipped or
//! overlapping text. Font metrics come in as a precomputed table (no font files here).

use std::collections::HashMap;

/// Millimetres per PostScript point.
pub const MM_PER_PT: f32 = 25.4 / 72.0;
/// Tolerance for "inside the box": far below a printer dot (0.085 mm at 300 dpi).
const EPSILON_MM: f32 = 1e-3;
/// Sizes tried when wrapping, from the template size down to the minimum.
const SIZE_STEP_PT: f32 = 0.25;

/// A rectangle in millimetres, measured from the card's top-left corner, y downwards.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BoxMm {
    pub x: f32,
    pub y: f32,
    pub width: f32,
    pub height: f32,
}

impl BoxMm {
    pub fn right(&self) -> f32 {
        self.x + self.width
    }

    pub fn bottom(&self) -> f32 {
        self.y + self.height
    }
}

/// The horizontal metrics of one font: advance widths in em per character, ascent and
/// descent in em (both positive). Built once per template by the render adapter.
#[derive(Debug, Clone)]
pub struct FontMetrics {
    name: String,
    ascent: f32,
    descent: f32,
    /// Characters up to U+024F (Latin) in a flat table: the hot path of every card.
    latin: Vec<Option<f32>>,
    other: HashMap<char, f32>,
}

const LATIN_END: usize = 0x250;

impl FontMetrics {
    pub fn new(
        name: impl Into<String>,
        ascent: f32,
        descent: f32,
        advances: impl IntoIterator<Item = (char, f32)>,
    ) -> Self {
        let mut latin = vec![None; LATIN_END];
        let mut other = HashMap::new();
        for (c, advance) in advances {
            match latin.get_mut(c as usize) {
                Some(slot) => *slot = Some(advance),
                None => {
                    other.insert(c, advance);
                }
            }
        }
        FontMetrics { name: name.into(), ascent, descent, latin, other }
    }

    /// The font's name, for error messages.
    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn ascent(&self) -> f32 {
        self.ascent
    }

    pub fn descent(&self) -> f32 {
        self.descent
    }

    /// The advance of `c` in em, or `None` when the font has no glyph for it.
    pub fn advance(&self, c: char) -> Option<f32> {
        match self.latin.get(c as usize) {
            Some(advance) => *advance,
            None => self.other.get(&c).copied(),
        }
    }

    /// Width of `text` in em.
    ///
    /// # Errors
    /// The first character the font cannot draw.
    pub fn width_em(&self, text: &str) -> Result<f32, char> {
        text.chars().try_fold(0.0, |width, c| self.advance(c).map(|advance| width + advance).ok_or(c))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HorizontalAlign {
    #[default]
    Left,
    Center,
    Right,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum VerticalAlign {
    #[default]
    Top,
    Middle,
    Bottom,
}

/// How a text item may be fitted.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TextStyle {
    /// Preferred size, points.
    pub size: f32,
    /// Smallest size allowed, points (`== size` when the value may not shrink).
    pub min_size: f32,
    /// Lines allowed (1: no wrapping).
    pub max_lines: usize,
    /// Baseline-to-baseline distance as a multiple of the size.
    pub line_height: f32,
    pub align: HorizontalAlign,
    pub valign: VerticalAlign,
}

/// One line of fitted text: where its baseline starts (mm, top-left origin) and how wide it is.
#[derive(Debug, Clone, PartialEq)]
pub struct FittedLine {
    pub text: String,
    pub x: f32,
    pub baseline: f32,
    pub width: f32,
}

#[derive(Debug, Clone, PartialEq)]
pub struct FittedText {
    /// The size chosen, points.
    pub size: f32,
    pub lines: Vec<FittedLine>,
    /// Top of the first line's ascent and bottom of the last line's descent, mm.
    pub top: f32,
    pub bottom: f32,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FitError {
    #[error("character {0:?} (U+{code:04X}) is not in font {1}", code = u32::from(*.0))]
    MissingGlyph(char, String),
    #[error(
        "does not fit its {width:.2} x {height:.2} mm box even at {min_size} pt on {max_lines} line(s) \
         ({chars} characters)"
    )]
    DoesNotFit { width: f32, height: f32, min_size: f32, max_lines: usize, chars: usize },
}

/// Fits `text` into `bx`.
///
/// # Errors
/// [`FitError::MissingGlyph`] when the font cannot draw a character, [`FitError::DoesNotFit`]
/// when no allowed size and line count holds the text.
pub fn fit_text(text: &str, font: &FontMetrics, style: &TextStyle, bx: BoxMm) -> Result<FittedText, FitError> {
    let width_em = font.width_em(text).map_err(|c| FitError::MissingGlyph(c, font.name.clone()))?;
    let extent_em = font.ascent + font.descent;

    // One line: the largest size that fits both ways, no larger than the preferred size.
    let mut size = style.size;
    if width_em > 0.0 {
        size = size.min(bx.width / (width_em * MM_PER_PT));
    }
    size = size.min(bx.height / (extent_em * MM_PER_PT));
    if size >= style.min_size - 1e-4 {
        // Quantise down to 0.05 pt for stable output, but never below the minimum, which fits.
        let size = ((size * 20.0).floor() / 20.0).max(style.min_size);
        return Ok(place(vec![(text.to_owned(), width_em)], size, font, style, bx));
    }

    if style.max_lines > 1 {
        let words: Vec<&str> = text.split_whitespace().collect();
        for line_count in 2..=style.max_lines {
            let mut size = style.size;
            loop {
                if let Some(lines) = wrap(&words, font, size, bx.width) {
                    let block = block_height(font, style, size, lines.len());
                    if lines.len() <= line_count && block <= bx.height + EPSILON_MM {
                        return Ok(place(lines, size, font, style, bx));
                    }
                }
                if size <= style.min_size {
                    break;
                }
                size = (size - SIZE_STEP_PT).max(style.min_size);
            }
        }
    }
    Err(FitError::DoesNotFit {
        width: bx.width,
        height: bx.height,
        min_size: style.min_size,
        max_lines: style.max_lines,
        chars: text.chars().count(),
    })
}

fn block_height(font: &FontMetrics, style: &TextStyle, size: f32, lines: usize) -> f32 {
    let extent = (font.ascent + font.descent) * size * MM_PER_PT;
    extent + (lines.saturating_sub(1)) as f32 * style.line_height * size * MM_PER_PT
}

/// Greedy line breaking at `size`: words joined by single spaces; a word wider than the line
/// is broken between characters (so every character is kept). `None` if a single character
/// is wider than the line.
fn wrap(words: &[&str], font: &FontMetrics, size: f32, max_width: f32) -> Option<Vec<(String, f32)>> {
    let scale = size * MM_PER_PT;
    let space = font.advance(' ').unwrap_or(0.25);
    let fits = |width_em: f32| width_em * scale <= max_width + EPSILON_MM;
    let mut lines: Vec<(String, f32)> = Vec::new();
    let mut current = String::new();
    let mut current_em = 0.0;
    for word in words {
        // Widths were checked for every character already: unwrap_or is never taken.
        let word_em: f32 = word.chars().map(|c| font.advance(c).unwrap_or(0.0)).sum();
        if !current.is_empty() && fits(current_em + space + word_em) {
            current.push(' ');
            current.push_str(word);
            current_em += space + word_em;
            continue;
        }
        if !current.is_empty() {
            lines.push((std::mem::take(&mut current), current_em));
            current_em = 0.0;
        }
        if fits(word_em) {
            current.push_str(word);
            current_em = word_em;
            continue;
        }
        for c in word.chars() {
            let advance = font.advance(c).unwrap_or(0.0);
            if !fits(advance) {
                return None;
            }
            if !current.is_empty() && !fits(current_em + advance) {
                lines.push((std::mem::take(&mut current), current_em));
                current_em = 0.0;
            }
            current.push(c);
            current_em += advance;
        }
    }
    if !current.is_empty() {
        lines.push((current, current_em));
    }
    Some(lines)
}

fn place(lines: Vec<(String, f32)>, size: f32, font: &FontMetrics, style: &TextStyle, bx: BoxMm) -> FittedText {
    let scale = size * MM_PER_PT;
    let block = block_height(font, style, size, lines.len());
    let top = match style.valign {
        VerticalAlign::Top => bx.y,
        VerticalAlign::Middle => bx.y + (bx.height - block) / 2.0,
        VerticalAlign::Bottom => bx.bottom() - block,
    };
    let first_baseline = top + font.ascent * scale;
    let fitted = lines
        .into_iter()
        .enumerate()
        .map(|(index, (text, width_em))| {
            let width = width_em * scale;
            let x = match style.align {
                HorizontalAlign::Left => bx.x,
                HorizontalAlign::Center => bx.x + (bx.width - width) / 2.0,
                HorizontalAlign::Right => bx.right() - width,
            };
            FittedLine { text, x, baseline: first_baseline + index as f32 * style.line_height * scale, width }
        })
        .collect();
    FittedText { size, lines: fitted, top, bottom: top + block }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A made-up font: every character 0.5 em wide, narrow space and 'i', wide 'W' and 'Ñ'.
    fn font() -> FontMetrics {
        let advances = (' '..='~').chain("ÑÉéñ'’".chars()).map(|c| {
            let advance = match c {
                ' ' | 'i' | '\'' => 0.25,
                'W' | 'Ñ' => 0.9,
                _ => 0.55,
            };
            (c, advance)
        });
        FontMetrics::new("Test", 0.9, 0.2, advances)
    }

    fn style(size: f32, min_size: f32, max_lines: usize) -> TextStyle {
        TextStyle {
            size,
            min_size,
            max_lines,
            line_height: 1.15,
            align: HorizontalAlign::Left,
            valign: VerticalAlign::Top,
        }
    }

    const BOX: BoxMm = BoxMm { x: 10.0, y: 5.0, width: 30.0, height: 3.0 };

    #[test]
    fn short_value_keeps_its_size() {
        let fitted = fit_text("HAMIDAH", &font(), &style(7.0, 5.0, 1), BOX).unwrap();
        assert!((fitted.size - 7.0).abs() < f32::EPSILON);
        assert_eq!(fitted.lines.len(), 1);
        assert!((fitted.lines[0].x - 10.0).abs() < f32::EPSILON);
    }

    #[test]
    fn long_value_shrinks_before_it_wraps() {
        // 7 pt: 40 chars * 0.55 em * 7 pt * 0.3528 mm = 54 mm; at 5 pt = 38.8 mm > 30 mm.
        let text = "A".repeat(28);
        let fitted = fit_text(&text, &font(), &style(7.0, 5.0, 1), BOX).unwrap();
        assert!(fitted.size < 7.0 && fitted.size >= 5.0, "{}", fitted.size);
        assert!(fitted.lines[0].width <= 30.0);
    }

    #[test]
    fn a_value_that_cannot_fit_is_an_error_not_a_clip() {
        let text = "A".repeat(60);
        let error = fit_text(&text, &font(), &style(7.0, 5.0, 1), BOX).unwrap_err();
        assert!(matches!(error, FitError::DoesNotFit { chars: 60, .. }), "{error}");
    }

    #[test]
    fn wraps_where_allowed() {
        let tall = BoxMm { height: 6.0, ..BOX };
        let text = "JL. SUDIRMAN NO. 1 KOMPLEKS PERUMAHAN GRIYA";
        let fitted = fit_text(text, &font(), &style(6.0, 5.5, 2), tall).unwrap();
        assert_eq!(fitted.lines.len(), 2);
        assert_eq!(fitted.lines.iter().map(|l| l.text.as_str()).collect::<Vec<_>>().join(" "), text);
    }

    #[test]
    fn missing_glyph_names_the_character() {
        let error = fit_text("ÆSIR", &font(), &style(7.0, 5.0, 1), BOX).unwrap_err();
        assert_eq!(error, FitError::MissingGlyph('Æ', "Test".into()));
        assert!(error.to_string().contains("U+00C6"), "{error}");
    }

    #[test]
    fn alignment() {
        let mut centred = style(7.0, 7.0, 1);
        centred.align = HorizontalAlign::Center;
        let fitted = fit_text("AB", &font(), &centred, BOX).unwrap();
        let line = &fitted.lines[0];
        assert!((line.x + line.width / 2.0 - 25.0).abs() < 1e-4);
        centred.align = HorizontalAlign::Right;
        let fitted = fit_text("AB", &font(), &centred, BOX).unwrap();
        assert!((fitted.lines[0].x + fitted.lines[0].width - 40.0).abs() < 1e-4);
    }

    fn text_strategy() -> impl Strategy<Value = String> {
        proptest::collection::vec(
            prop_oneof![
                6 => proptest::char::range('A', 'Z'),
                2 => Just(' '),
                1 => proptest::sample::select(vec!['i', 'W', 'Ñ', '\'', '’', '.', ',', '/', '-', '0']),
            ],
            1..90,
        )
        .prop_map(|chars| chars.into_iter().collect::<String>())
        .prop_filter("not blank", |s| !s.trim().is_empty())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        /// Whatever the text and the box: either every character is drawn inside the box, or
        /// the fit is refused. Never clipped, never spilled.
        #[test]
        fn fitted_text_stays_in_its_box_and_keeps_every_character(
            text in text_strategy(),
            x in 0.0f32..50.0,
            y in 0.0f32..30.0,
            width in 2.0f32..60.0,
            height in 1.5f32..12.0,
            size in 5.0f32..10.0,
            shrink in 0.0f32..4.0,
            max_lines in 1usize..4,
            align in prop_oneof![Just(HorizontalAlign::Left), Just(HorizontalAlign::Center), Just(HorizontalAlign::Right)],
            valign in prop_oneof![Just(VerticalAlign::Top), Just(VerticalAlign::Middle), Just(VerticalAlign::Bottom)],
        ) {
            let font = font();
            let bx = BoxMm { x, y, width, height };
            let style = TextStyle { size, min_size: size - shrink, max_lines, line_height: 1.15, align, valign };
            match fit_text(&text, &font, &style, bx) {
                Ok(fitted) => {
                    prop_assert!(fitted.size <= size + 1e-4 && fitted.size >= style.min_size - 1e-4);
                    prop_assert!(fitted.lines.len() <= max_lines);
                    prop_assert!(fitted.top >= bx.y - EPSILON_MM && fitted.bottom <= bx.bottom() + EPSILON_MM,
                        "vertical {}..{} outside {}..{}", fitted.top, fitted.bottom, bx.y, bx.bottom());
                    let scale = fitted.size * MM_PER_PT;
                    for line in &fitted.lines {
                        let measured = font.width_em(&line.text).unwrap() * scale;
                        prop_assert!((measured - line.width).abs() < 1e-3);
                        prop_assert!(line.x >= bx.x - EPSILON_MM && line.x + line.width <= bx.right() + EPSILON_MM,
                            "line {:?} at {}..{} outside {}..{}", line.text, line.x, line.x + line.width, bx.x, bx.right());
                        prop_assert!(line.baseline - font.ascent() * scale >= bx.y - EPSILON_MM);
                        prop_assert!(line.baseline + font.descent() * scale <= bx.bottom() + EPSILON_MM);
                    }
                    let drawn: String = fitted.lines.iter().flat_map(|l| l.text.chars()).filter(|c| !c.is_whitespace()).collect();
                    let given: String = text.chars().filter(|c| !c.is_whitespace()).collect();
                    prop_assert_eq!(drawn, given);
                }
                Err(FitError::DoesNotFit { .. }) => {
                    // Refused: then even the smallest size on one line must overflow the box.
                    let one_line = font.width_em(&text).unwrap() * style.min_size * MM_PER_PT;
                    let extent = (font.ascent() + font.descent()) * style.min_size * MM_PER_PT;
                    prop_assert!(one_line > bx.width || extent > bx.height);
                }
                Err(other) => prop_assert!(false, "unexpected {other}"),
            }
        }
    }
}
