//! Fonts for a template: parsed once, cut down to the characters a card can hold, measured.
//!
//! The font files are whole families' worth of glyphs (Liberation Sans: 2,600 glyphs, 400 KB,
//! with large shaping tables). printpdf clones the parsed font and subsets it on every save, and
//! both cost in proportion to the font. So each template font is first subset here, once, to the
//! Latin repertoire names and addresses use (Basic Latin, Latin-1, Latin Extended-A/B and
//! Additional, general punctuation); each card's PDF then carries a further subset of that, with
//! only the glyphs the card uses.

use std::collections::BTreeMap;
use std::path::Path;

use printpdf::{FontId, ParsedFont};

use crate::domain::layout::FontMetrics;

/// The characters a card may contain. A character outside it is refused by fit-to-box with a
/// message naming it and the field, never drawn as a missing-glyph box.
const REPERTOIRE: &[(u32, u32)] = &[
    (0x0020, 0x007E), // Basic Latin
    (0x00A0, 0x024F), // Latin-1 Supplement, Latin Extended-A and -B
    (0x0300, 0x036F), // combining marks without a precomposed letter (values are NFC)
    (0x1E00, 0x1EFF), // Latin Extended Additional (Vietnamese and others)
    (0x2010, 0x2027), // dashes, quotes (’ in names), ellipsis
    (0x2030, 0x203A),
    (0x20AC, 0x20AC),
];

/// A template font ready for cards: the cut-down font printpdf embeds, and its metrics.
#[derive(Debug, Clone)]
pub(crate) struct PreparedFont {
    pub id: FontId,
    pub parsed: ParsedFont,
    pub metrics: FontMetrics,
}

/// Loads, subsets and measures one font file.
///
/// # Errors
/// A message for the template's `fonts.KEY` field.
pub(crate) fn prepare_font(path: &Path, index: usize) -> Result<PreparedFont, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let mut warnings = Vec::new();
    let full = ParsedFont::from_bytes(&bytes, 0, &mut warnings)
        .ok_or_else(|| format!("{} is not a TrueType/OpenType font", path.display()))?;
    let units_per_em = f32::from(full.font_metrics.units_per_em.max(1));

    let mut glyphs: BTreeMap<u16, String> = BTreeMap::new();
    let mut advances = Vec::new();
    for &(first, last) in REPERTOIRE {
        for c in (first..=last).filter_map(char::from_u32) {
            if let Some(gid) = full.lookup_glyph_index(u32::from(c)).filter(|&gid| gid != 0) {
                glyphs.entry(gid).or_insert_with(|| c.to_string());
                advances.push((c, f32::from(full.get_horizontal_advance(gid)) / units_per_em));
            }
        }
    }
    if advances.iter().all(|(c, _)| *c != 'A') {
        return Err(format!("{} has no Latin letters", path.display()));
    }
    let subset = printpdf::subset_font(&full, &glyphs).map_err(|e| format!("cannot subset {}: {e}", path.display()))?;
    let parsed = ParsedFont::from_bytes(&subset.bytes, 0, &mut warnings)
        .ok_or_else(|| format!("the subset of {} does not parse", path.display()))?;

    let name = full.font_name.clone().unwrap_or_else(|| path.display().to_string());
    // hhea ascender/descender: what the font's designers reserve for a line.
    let ascent = full.font_metrics.ascent / units_per_em;
    let descent = full.font_metrics.descent.abs() / units_per_em;
    let metrics = FontMetrics::new(name, ascent, descent, advances);
    Ok(PreparedFont { id: FontId(format!("F{index}")), parsed, metrics })
}
