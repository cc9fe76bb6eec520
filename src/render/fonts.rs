//! Fonts for a template: parsed once, cut down to the characters a card can hold, measured; and
//! per card, cut down again to the glyphs the card uses.
//!
//! The font files are whole families' worth of glyphs (Liberation Sans: 2,600 glyphs, 400 KB,
//! with large shaping tables). Each template font is first subset here, once, to the Latin
//! repertoire names and addresses use (Basic Latin, Latin-1, Latin Extended-A/B and Additional,
//! general punctuation), without hinting; each card's PDF then embeds a subset of that with only
//! the glyphs the card uses ([`PreparedFont::for_card`]).
//!
//! Subsetting is allsorts' (the font library printpdf itself is built on); printpdf embeds the
//! card's subset as it is given. printpdf's own subsetting would need its `text_layout` feature,
//! which brings a whole text-layout engine (azul) that cardspool does not use: the layout is the
//! domain's.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use allsorts::binary::read::ReadScope;
use allsorts::font_data::FontData;
use allsorts::subset::prince::PrinceCmapTarget;
use allsorts::subset::{CmapTarget, SubsetProfile};
use allsorts::tables::{FontTableProvider, NameTable};
use allsorts::tag;
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

/// Basic Latin and Latin-1: the characters of nearly every card. A card that uses only these is
/// subset from a font of about 200 glyphs instead of the whole repertoire's 1,000 (allsorts reads
/// every glyph record of the font it subsets, per card).
const COMMON: &[(u32, u32)] = &[(0x0020, 0x007E), (0x00A0, 0x00FF)];

/// A template font ready for cards: the cut-down font, parsed (its character map and advances),
/// and its metrics for the layout.
#[derive(Debug, Clone)]
pub(crate) struct PreparedFont {
    pub id: FontId,
    pub parsed: ParsedFont,
    pub metrics: FontMetrics,
    /// The same font cut down further to [`COMMON`]: what nearly every card is subset from.
    common: ParsedFont,
}

impl PreparedFont {
    /// The font one card embeds: only the glyphs of `chars` (and `.notdef`), renumbered, named
    /// `TAG+Name` (the PDF convention for a subset font).
    ///
    /// # Errors
    /// A message when the font cannot be subset (it was subset once already at load, so this
    /// means a fault in the font library).
    pub fn for_card(&self, chars: &[char], tag: &str) -> Result<ParsedFont, String> {
        let common = chars.iter().all(|&c| self.common.lookup_glyph_index(u32::from(c)).is_some_and(|g| g != 0));
        let source = if common { &self.common } else { &self.parsed };
        // New glyph id = position in `glyphs` (allsorts renumbers in input order); 0 stays
        // `.notdef`, which allsorts requires first.
        let mut glyphs: Vec<u16> = vec![0];
        let mut renumbered: BTreeMap<u16, u16> = BTreeMap::from([(0, 0)]);
        let mut codepoint_to_glyph = BTreeMap::new();
        for &c in chars {
            let Some(original) = source.lookup_glyph_index(u32::from(c)) else { continue };
            let new = *renumbered.entry(original).or_insert_with(|| {
                glyphs.push(original);
                (glyphs.len() - 1) as u16
            });
            codepoint_to_glyph.insert(u32::from(c), new);
        }
        let glyph_widths = renumbered
            .iter()
            .filter_map(|(&original, &new)| source.get_glyph_width(original).map(|width| (new, width)))
            .collect();
        let bytes = card_subset(&source.original_bytes, &glyphs)?;
        Ok(ParsedFont {
            original_bytes: bytes,
            font_index: 0,
            font_name: Some(format!("{tag}+{}", self.metrics.name())),
            codepoint_to_glyph,
            glyph_widths,
            units_per_em: self.parsed.units_per_em,
            font_metrics: self.parsed.font_metrics.clone(),
            font_type: self.parsed.font_type,
            pdf_font_metrics: self.parsed.pdf_font_metrics.clone(),
        })
    }
}

/// The sfnt `font` cut down to `glyphs` (`.notdef` first), renumbered in that order, with a
/// Unicode character map for them.
fn subset(font: &[u8], glyphs: &[u16], profile: &SubsetProfile) -> Result<Vec<u8>, String> {
    let data = ReadScope::new(font).read::<FontData<'_>>().map_err(|e| e.to_string())?;
    let provider = data.table_provider(0).map_err(|e| e.to_string())?;
    allsorts::subset::subset(&provider, glyphs, profile, CmapTarget::Unicode).map_err(|e| e.to_string())
}

/// The per-card subset of a template font. A TrueType font goes without its `cmap`: the card's
/// text is Identity-H glyph ids, which a reader maps to glyphs without the font's own character
/// map (ISO 32000-1, 9.7.4.2; the ToUnicode map is what makes the text searchable), and building
/// a cmap means walking the template font's whole character map for every card. A CFF font
/// keeps the general path, which writes it as an OpenType font printpdf knows how to embed.
fn card_subset(font: &[u8], glyphs: &[u16]) -> Result<Vec<u8>, String> {
    let data = ReadScope::new(font).read::<FontData<'_>>().map_err(|e| e.to_string())?;
    let provider = data.table_provider(0).map_err(|e| e.to_string())?;
    if !provider.has_table(tag::GLYF) {
        return subset(font, glyphs, &SubsetProfile::Pdf);
    }
    allsorts::subset::prince::subset(&provider, glyphs, PrinceCmapTarget::Omit, false).map_err(|e| e.to_string())
}

/// The font's PostScript name (`LiberationSans-Bold`), as PDF readers show it.
fn postscript_name(font: &[u8]) -> Option<String> {
    let data = ReadScope::new(font).read::<FontData<'_>>().ok()?;
    let provider = data.table_provider(0).ok()?;
    let names = provider.read_table_data(tag::NAME).ok()?;
    let name = allsorts::get_name::fontcode_get_name(&names, NameTable::POSTSCRIPT_NAME).ok()??;
    name.into_string().ok().filter(|name| !name.is_empty())
}

/// TrueType hinting: grid-fitting for screens at small pixel sizes. A card printer at 300 dpi
/// does not need it, and without it every card's subset is smaller and quicker to make.
const HINTING_TABLES: &[&[u8; 4]] = &[b"fpgm", b"prep", b"cvt "];

/// The sfnt `font` without the tables named in `drop` (table checksums stay valid; the font's
/// whole-file checksum adjustment goes stale, which no PDF reader checks).
fn without_tables(font: &[u8], drop: &[&[u8; 4]]) -> Option<Vec<u8>> {
    let count = usize::from(u16::from_be_bytes(font.get(4..6)?.try_into().ok()?));
    let records = font.get(12..12 + 16 * count)?;
    let kept: Vec<&[u8]> =
        records.chunks_exact(16).filter(|record| !drop.iter().any(|tag| record[..4] == tag[..])).collect();
    let mut out = Vec::with_capacity(font.len());
    out.extend_from_slice(&font[..4]);
    let kept_count = kept.len() as u16;
    let entry_selector = 15 - kept_count.max(1).leading_zeros() as u16;
    let search_range = (1u16 << entry_selector) * 16;
    for value in [kept_count, search_range, entry_selector, kept_count * 16 - search_range] {
        out.extend_from_slice(&value.to_be_bytes());
    }
    let mut offset = 12 + 16 * kept.len();
    let mut data = Vec::new();
    for record in &kept {
        let start = u32::from_be_bytes(record[8..12].try_into().ok()?) as usize;
        let length = u32::from_be_bytes(record[12..16].try_into().ok()?) as usize;
        let table = font.get(start..start + length)?;
        out.extend_from_slice(&record[..8]);
        out.extend_from_slice(&(offset as u32).to_be_bytes());
        out.extend_from_slice(&record[12..16]);
        data.extend_from_slice(table);
        let padding = (4 - length % 4) % 4;
        data.extend(std::iter::repeat_n(0, padding));
        offset += length + padding;
    }
    out.extend_from_slice(&data);
    Some(out)
}

/// The font file cut down to `glyphs` (and `.notdef`) without hinting, parsed: what per-card
/// subsets are made from. `Minimal` keeps a valid font with its character map, which they read.
fn template_subset(path: &Path, bytes: &[u8], glyphs: BTreeSet<u16>) -> Result<ParsedFont, String> {
    let ids: Vec<u16> = std::iter::once(0).chain(glyphs).collect();
    let subset =
        subset(bytes, &ids, &SubsetProfile::Minimal).map_err(|e| format!("cannot subset {}: {e}", path.display()))?;
    let subset = without_tables(&subset, HINTING_TABLES)
        .ok_or_else(|| format!("the subset of {} is not a valid sfnt", path.display()))?;
    let mut warnings = Vec::new();
    ParsedFont::from_bytes(&subset, 0, &mut warnings)
        .ok_or_else(|| format!("the subset of {} does not parse", path.display()))
}

/// Subsets and measures one font file's `bytes` (`path` names it in messages).
///
/// # Errors
/// A message for the template's `fonts.KEY` field.
pub(crate) fn prepare_font(path: &Path, bytes: &[u8], index: usize) -> Result<PreparedFont, String> {
    let mut warnings = Vec::new();
    let full = ParsedFont::from_bytes(bytes, 0, &mut warnings)
        .ok_or_else(|| format!("{} is not a TrueType/OpenType font", path.display()))?;
    let units_per_em = f32::from(full.units_per_em.max(1));

    let mut glyphs: BTreeSet<u16> = BTreeSet::new();
    let mut advances = Vec::new();
    for &(first, last) in REPERTOIRE {
        for c in (first..=last).filter_map(char::from_u32) {
            if let Some(gid) = full.lookup_glyph_index(u32::from(c)).filter(|&gid| gid != 0) {
                glyphs.insert(gid);
                advances.push((c, f32::from(full.get_glyph_width(gid).unwrap_or(0)) / units_per_em));
            }
        }
    }
    if advances.iter().all(|(c, _)| *c != 'A') {
        return Err(format!("{} has no Latin letters", path.display()));
    }
    let parsed = template_subset(path, bytes, glyphs)?;
    let common_glyphs = COMMON
        .iter()
        .flat_map(|&(first, last)| first..=last)
        .filter_map(|c| full.lookup_glyph_index(c).filter(|&gid| gid != 0))
        .collect();
    let common = template_subset(path, bytes, common_glyphs)?;

    let name = postscript_name(bytes)
        .unwrap_or_else(|| path.file_stem().map_or_else(|| path.display().to_string(), |s| s.to_string_lossy().into()));
    // hhea ascender/descender: what the font's designers reserve for a line.
    let ascent = f32::from(full.font_metrics.ascent) / units_per_em;
    let descent = f32::from(full.font_metrics.descent).abs() / units_per_em;
    let metrics = FontMetrics::new(name, ascent, descent, advances);
    Ok(PreparedFont { id: FontId(format!("F{index}")), parsed, metrics, common })
}
