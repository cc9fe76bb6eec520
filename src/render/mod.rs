//! The render adapter: card templates from a directory, cards to PDF with printpdf.
//!
//! [`TemplateStore::load`] reads every `*.toml` in the templates directory, checks each one
//! completely (structure, fonts, every static text fitted), and prepares what does not change
//! from card to card: the parsed and cut-down fonts, their metrics, and the static drawing
//! (backgrounds, labels, rules) as ready printpdf operations. A bad template is reported with
//! its file, line and field and left out; the others stay usable. [`TemplateStore::render`]
//! then only lays out the card's own values, adds its images and writes the PDF.
//!
//! Architecture invariant: layout decisions (sizes, wrapping, placement, the photo background
//! rule, the QR payload) are the domain's (`domain::layout`); this module reads files, embeds
//! fonts and images, and speaks printpdf.

pub mod built_in;
mod fonts;
mod images;
mod pdf;
pub mod report;
pub mod specimen;

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use printpdf::{Mm, Op, PdfDocument, PdfFont, PdfPage, PdfSaveOptions, XObject};

use crate::domain::event::EnrollmentEvent;
pub use crate::domain::layout::CardContext;
use crate::domain::layout::{
    parse_template, CardValues, Drawing, FontMetrics, ImageSource, Layout, LayoutError, Segment, TemplateError,
};
use fonts::PreparedFont;
use pdf::OpWriter;

/// The template used when an event names none.
pub const DEFAULT_TEMPLATE: &str = "ektp";

/// Why a card was not rendered, or a template not loaded.
///
/// Nothing here is retryable: rendering is a pure function of the template, the event and the
/// job, so the same inputs fail the same way. A job that fails to render needs staff (fix the
/// template and reload, or correct the data), not a retry loop.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("cannot read templates directory {}: {source}", dir.display())]
    TemplatesDir { dir: PathBuf, source: std::io::Error },
    #[error("{}", template_errors(file, errors))]
    Template { file: PathBuf, errors: Vec<TemplateError> },
    #[error("no usable template named {name:?} (loaded: {known})")]
    UnknownTemplate { name: String, known: String },
    /// A value of this card cannot be shown (too long even at the minimum size, a character the
    /// font lacks, a QR payload too long for its box). Names the item and the event fields.
    #[error("template {template}: {error}")]
    Layout { template: String, error: LayoutError },
    #[error("{field} cannot be embedded: {message}")]
    Image { field: &'static str, message: String },
    #[error("font {font} cannot be embedded: {message}")]
    Font { font: String, message: String },
}

fn template_errors(file: &Path, errors: &[TemplateError]) -> String {
    let lines: Vec<String> = errors
        .iter()
        .map(|e| match e.line {
            Some(line) => format!("{}:{line}: {}: {}", file.display(), e.field, e.message),
            None => format!("{}: {}: {}", file.display(), e.field, e.message),
        })
        .collect();
    lines.join("\n")
}

impl RenderError {
    /// Always `false`: see the type's documentation.
    pub fn is_retryable(&self) -> bool {
        false
    }
}

/// A template ready to render cards: checked, fonts prepared, static drawing converted once.
#[derive(Debug)]
pub struct PreparedTemplate {
    file: PathBuf,
    layout: Layout,
    fonts: Vec<PreparedFont>,
    metrics: Vec<FontMetrics>,
    font_ids: Vec<printpdf::FontId>,
    /// Per page, per segment: the operations of a static segment (`None` for dynamic ones).
    static_ops: Vec<Vec<Option<Vec<Op>>>>,
    /// Per font: the characters the static texts use (sorted, no repeats).
    static_chars: Vec<Vec<char>>,
}

impl PreparedTemplate {
    /// Reads, checks and prepares one template file. Font paths are relative to `dir`.
    ///
    /// # Errors
    /// [`RenderError::Template`] with every problem found.
    pub fn load(dir: &Path, file: &Path) -> Result<PreparedTemplate, RenderError> {
        let source = std::fs::read_to_string(file).map_err(|e| RenderError::Template {
            file: file.to_owned(),
            errors: vec![TemplateError { line: None, field: "(file)".into(), message: format!("cannot be read: {e}") }],
        })?;
        PreparedTemplate::prepare(file, &source, |font: &str| {
            let path = dir.join(font);
            std::fs::read(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))
        })
    }

    /// Prepares a template built into the binary ([`built_in::FILES`]).
    ///
    /// # Errors
    /// [`RenderError::Template`]: a built-in template is checked like any other.
    fn built_in(file_name: &str, source: &str) -> Result<PreparedTemplate, RenderError> {
        let file = Path::new(built_in::LABEL).join(file_name);
        PreparedTemplate::prepare(&file, source, |font: &str| {
            built_in::file(font).map(<[u8]>::to_vec).ok_or_else(|| format!("{font} is not built in"))
        })
    }

    fn prepare(
        file: &Path,
        source: &str,
        read_font: impl Fn(&str) -> Result<Vec<u8>, String>,
    ) -> Result<PreparedTemplate, RenderError> {
        let fail = |errors| RenderError::Template { file: file.to_owned(), errors };
        let name = file.file_stem().and_then(|s| s.to_str()).unwrap_or_default().to_owned();
        let template = parse_template(&name, source).map_err(fail)?;

        let mut fonts = Vec::new();
        let mut errors = Vec::new();
        for (index, font) in template.fonts.iter().enumerate() {
            let prepared =
                read_font(&font.file).and_then(|bytes| fonts::prepare_font(Path::new(&font.file), &bytes, index));
            match prepared {
                Ok(prepared) => fonts.push(prepared),
                Err(message) => errors.push(TemplateError {
                    line: line_of_key(source, &font.key),
                    field: format!("fonts.{}", font.key),
                    message,
                }),
            }
        }
        if !errors.is_empty() {
            return Err(fail(errors));
        }
        let metrics: Vec<FontMetrics> = fonts.iter().map(|f| f.metrics.clone()).collect();
        let layout = Layout::prepare(template, &metrics).map_err(fail)?;
        let font_ids: Vec<printpdf::FontId> = fonts.iter().map(|f| f.id.clone()).collect();
        let height = layout.template().height_mm;
        let mut static_chars = vec![Vec::new(); fonts.len()];
        let static_ops = layout
            .pages()
            .iter()
            .map(|page| {
                page.segments
                    .iter()
                    .map(|segment| match segment {
                        Segment::Static(drawings) => {
                            collect_chars(drawings, &mut static_chars);
                            let mut ops = Vec::new();
                            let mut writer = OpWriter::new(&mut ops, height, &font_ids, 0);
                            writer.draw_all(drawings);
                            // A QR code is always the card's own (`StaticCheck::Dynamic`).
                            debug_assert!(writer.into_forms().is_empty(), "a QR code in a static segment");
                            Some(ops)
                        }
                        Segment::Dynamic(_) => None,
                    })
                    .collect()
            })
            .collect();
        for chars in &mut static_chars {
            chars.sort_unstable();
            chars.dedup();
        }
        Ok(PreparedTemplate { file: file.to_owned(), layout, fonts, metrics, font_ids, static_ops, static_chars })
    }

    pub fn name(&self) -> &str {
        &self.layout.template().name
    }

    pub fn title(&self) -> &str {
        &self.layout.template().title
    }

    /// The printer pool this template's cards go to.
    pub fn pool(&self) -> &str {
        &self.layout.template().pool
    }

    pub fn file(&self) -> &Path {
        &self.file
    }

    /// Page size in millimetres (the card, without bleed).
    pub fn page_size_mm(&self) -> (f32, f32) {
        let template = self.layout.template();
        (template.width_mm, template.height_mm)
    }

    pub fn page_count(&self) -> usize {
        self.layout.template().pages.len()
    }

    /// The checked template.
    pub fn template(&self) -> &crate::domain::layout::Template {
        self.layout.template()
    }

    /// Everything one card draws, per page, in drawing order (static and per-card items): what
    /// [`PreparedTemplate::render`] writes, for previews in other formats and for comparisons.
    ///
    /// # Errors
    /// [`RenderError::Layout`], as for [`PreparedTemplate::render`].
    pub fn drawings(&self, event: &EnrollmentEvent, context: &CardContext) -> Result<Vec<Vec<Drawing>>, RenderError> {
        let values = CardValues::new(event, context);
        let mut pages = Vec::new();
        for (page_index, page) in self.layout.pages().iter().enumerate() {
            let mut drawings = Vec::new();
            for segment in &page.segments {
                match segment {
                    Segment::Static(statics) => drawings.extend_from_slice(statics),
                    Segment::Dynamic(items) => self
                        .layout
                        .draw_dynamic(page_index, items, &values, &self.metrics, &mut drawings)
                        .map_err(|error| RenderError::Layout { template: self.name().to_owned(), error })?,
                }
            }
            pages.push(drawings);
        }
        Ok(pages)
    }

    /// Renders one card as PDF bytes.
    ///
    /// # Errors
    /// [`RenderError::Layout`] naming the field that cannot be shown, [`RenderError::Image`]
    /// for an image that cannot be embedded.
    pub fn render(&self, event: &EnrollmentEvent, context: &CardContext) -> Result<Vec<u8>, RenderError> {
        let template = self.layout.template();
        let values = CardValues::new(event, context);
        let mut document = PdfDocument::new(&format!("{} {}", template.title, context.job_id));
        let info = &mut document.metadata.info;
        let now = printpdf::OffsetDateTime::from_unix_timestamp(chrono::Utc::now().timestamp())
            .unwrap_or_else(|_| printpdf::OffsetDateTime::now_utc());
        info.creation_date = now;
        info.modification_date = now;
        info.metadata_date = now;
        info.producer = concat!("cardspool ", env!("CARGO_PKG_VERSION"), " (printpdf)").into();
        info.creator = format!("cardspool template {}", template.name);
        info.subject = format!("job {}", context.job_id);
        let mut drawings = Vec::new();
        let mut card_chars = self.static_chars.clone();
        let mut qr_forms = 0;
        for (page_index, page) in self.layout.pages().iter().enumerate() {
            let mut ops = Vec::with_capacity(256);
            for (segment_index, segment) in page.segments.iter().enumerate() {
                match segment {
                    Segment::Static(_) => {
                        let cached = self.static_ops[page_index][segment_index].as_ref().expect("prepared");
                        ops.extend_from_slice(cached);
                    }
                    Segment::Dynamic(items) => {
                        drawings.clear();
                        self.layout
                            .draw_dynamic(page_index, items, &values, &self.metrics, &mut drawings)
                            .map_err(|error| RenderError::Layout { template: template.name.clone(), error })?;
                        add_images(&mut document, &drawings, event)?;
                        collect_chars(&drawings, &mut card_chars);
                        let mut writer = OpWriter::new(&mut ops, template.height_mm, &self.font_ids, qr_forms);
                        writer.draw_all(&drawings);
                        for (id, form) in writer.into_forms() {
                            document.resources.xobjects.map.insert(id, XObject::External(form));
                            qr_forms += 1;
                        }
                    }
                }
            }
            document.pages.push(PdfPage::new(
                Mm(template.width_mm),
                Mm(template.height_mm),
                pdf::without_repeated_state(ops),
            ));
        }

        // Each font is embedded as a subset of the glyphs this card uses, named `ABCDEF+Name`.
        // The tag comes from those glyphs: a printer that caches fonts by name across jobs then
        // never mixes up two different subsets.
        let tags = subset_tags(&self.fonts, &mut card_chars);
        for page in &mut document.pages {
            for op in &mut page.ops {
                if let Op::SetFont { font: printpdf::PdfFontHandle::External(id), .. } = op {
                    if let Some(index) = self.font_ids.iter().position(|known| known == id) {
                        id.clone_from(&tags[index]);
                    }
                }
            }
        }
        for ((font, tag), chars) in self.fonts.iter().zip(tags).zip(&card_chars) {
            let subset = font
                .for_card(chars, &tag.0)
                .map_err(|message| RenderError::Font { font: font.metrics.name().to_owned(), message })?;
            document.resources.fonts.map.insert(tag, PdfFont::new(subset));
        }

        // No stream compression: printpdf compresses at level 9, which costs more than the
        // whole rest of the card. The fonts arrive subset per card (`for_card`, so no subsetting
        // by printpdf) and images arrive compressed, so the file stays small (see
        // docs/rendering.md).
        let options = PdfSaveOptions { optimize: false, subset_fonts: false, secure: true, image_optimization: None };
        let mut warnings = Vec::new();
        let bytes = document.save(&options, &mut warnings);
        for warning in warnings.iter().filter(|w| w.severity == printpdf::PdfParseErrorSeverity::Error) {
            tracing::warn!(template = %template.name, message = %warning.msg, "printpdf reported a problem");
        }
        Ok(bytes)
    }
}

fn collect_chars(drawings: &[Drawing], chars: &mut [Vec<char>]) {
    for drawing in drawings {
        if let Drawing::Text { font, text, .. } = drawing {
            chars[*font].extend(text.chars());
        }
    }
}

/// A six-letter subset tag per font, from a hash of the font's name and the characters used.
fn subset_tags(fonts: &[PreparedFont], chars: &mut [Vec<char>]) -> Vec<printpdf::FontId> {
    let mut tags: Vec<printpdf::FontId> = Vec::with_capacity(fonts.len());
    for (index, (font, used)) in fonts.iter().zip(chars.iter_mut()).enumerate() {
        used.sort_unstable();
        used.dedup();
        // FNV-1a: tiny, stable across builds and platforms (std's hasher is neither promised).
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        let bytes = font.metrics.name().bytes().chain(used.iter().flat_map(|c| u32::from(*c).to_le_bytes()));
        for byte in bytes.chain([index as u8]) {
            hash = (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3);
        }
        loop {
            let mut value = hash;
            let tag: String = (0..6)
                .map(|_| {
                    let letter = char::from(b'A' + (value % 26) as u8);
                    value /= 26;
                    letter
                })
                .collect();
            // Two fonts of one card must not share a resource name.
            if tags.iter().all(|other| other.0 != tag) {
                tags.push(printpdf::FontId(tag));
                break;
            }
            hash = hash.rotate_left(7) ^ 0x9e37_79b9_7f4a_7c15;
        }
    }
    tags
}

/// Adds the images a segment draws, once per card.
fn add_images(document: &mut PdfDocument, drawings: &[Drawing], event: &EnrollmentEvent) -> Result<(), RenderError> {
    for drawing in drawings {
        let Drawing::Image { source, .. } = drawing else { continue };
        let id = pdf::image_id(*source);
        if document.resources.xobjects.map.contains_key(&id) {
            continue;
        }
        let (field, image) = match source {
            ImageSource::Photo => ("photo", &event.photo),
            ImageSource::Signature => ("signature", &event.signature),
        };
        let xobject = images::image_xobject(image).map_err(|message| RenderError::Image { field, message })?;
        document.resources.xobjects.map.insert(id, XObject::External(xobject));
    }
    Ok(())
}

/// The line of `key = ...` inside `[fonts]`, for a font that fails to load.
fn line_of_key(source: &str, key: &str) -> Option<usize> {
    let mut in_fonts = false;
    for (index, line) in source.lines().enumerate() {
        let trimmed = line.trim();
        if trimmed.starts_with('[') {
            in_fonts = trimmed == "[fonts]";
        } else if in_fonts && trimmed.split('=').next().map(str::trim) == Some(key) {
            return Some(index + 1);
        }
    }
    None
}

/// Every template of a directory, prepared; and the problems of those that are not usable.
pub struct TemplateStore {
    dir: PathBuf,
    templates: BTreeMap<String, PreparedTemplate>,
    problems: Vec<RenderError>,
    default_template: String,
}

impl fmt::Debug for TemplateStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TemplateStore")
            .field("dir", &self.dir)
            .field("templates", &self.templates.keys().collect::<Vec<_>>())
            .field("problems", &self.problems.len())
            .finish_non_exhaustive()
    }
}

impl TemplateStore {
    /// The built-in templates ([`built_in`]), then every `*.toml` in `dir`, which adds
    /// templates or overrides a built-in one of the same name. A missing `dir` leaves the
    /// built-in ones. A template with problems is left out and its problems kept in
    /// [`TemplateStore::problems`]; the rest are usable.
    ///
    /// # Errors
    /// [`RenderError::TemplatesDir`] only when `dir` exists but cannot be read.
    pub fn load(dir: &Path) -> Result<TemplateStore, RenderError> {
        let mut templates = BTreeMap::new();
        let mut problems = Vec::new();
        let mut keep = |loaded: Result<PreparedTemplate, RenderError>, problems: &mut Vec<RenderError>| match loaded {
            Ok(template) => {
                templates.insert(template.name().to_owned(), template);
            }
            Err(error) => {
                tracing::error!(%error, "card template refused");
                problems.push(error);
            }
        };
        for (file_name, source) in built_in::templates() {
            keep(PreparedTemplate::built_in(file_name, source), &mut problems);
        }
        let fail = |source| RenderError::TemplatesDir { dir: dir.to_owned(), source };
        let mut files: Vec<PathBuf> = match std::fs::read_dir(dir) {
            Ok(entries) => entries.map(|entry| entry.map(|e| e.path())).collect::<Result<_, _>>().map_err(fail)?,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                tracing::debug!(dir = %dir.display(), "no templates directory: the built-in templates only");
                Vec::new()
            }
            Err(error) => return Err(fail(error)),
        };
        files.retain(|path| path.extension().is_some_and(|ext| ext == "toml") && path.is_file());
        files.sort();
        for file in files {
            keep(PreparedTemplate::load(dir, &file), &mut problems);
        }
        // A directory's template that overrides a built-in one and has problems leaves neither:
        // the office meant its own, and must see why it is not used.
        for problem in &problems {
            if let RenderError::Template { file, .. } = problem {
                if let Some(name) = file.file_stem().and_then(|s| s.to_str()) {
                    if !file.starts_with(built_in::LABEL) {
                        templates.remove(name);
                    }
                }
            }
        }
        for template in templates.values() {
            tracing::info!(template = template.name(), pool = template.pool(), file = %template.file().display(), "card template loaded");
        }
        Ok(TemplateStore { dir: dir.to_owned(), templates, problems, default_template: DEFAULT_TEMPLATE.into() })
    }

    /// Uses `name` for events that name no template (the default is [`DEFAULT_TEMPLATE`]).
    #[must_use]
    pub fn with_default_template(mut self, name: impl Into<String>) -> Self {
        self.default_template = name.into();
        self
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The usable templates' names, sorted.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.templates.keys().map(String::as_str)
    }

    pub fn get(&self, name: &str) -> Option<&PreparedTemplate> {
        self.templates.get(name)
    }

    /// The template a printer pool's test card is made with: the default template when it
    /// prints to that pool, else the first (by name) that does.
    pub fn template_for_pool(&self, pool: &str) -> Option<&PreparedTemplate> {
        self.templates
            .get(&self.default_template)
            .filter(|template| template.pool() == pool)
            .or_else(|| self.templates.values().find(|template| template.pool() == pool))
    }

    /// The problems of the templates that could not be loaded.
    pub fn problems(&self) -> &[RenderError] {
        &self.problems
    }

    /// The problem that kept template `name` out, if it is the one.
    pub fn problem(&self, name: &str) -> Option<&RenderError> {
        self.problems.iter().find(|problem| match problem {
            RenderError::Template { file, .. } => file.file_stem().and_then(|s| s.to_str()) == Some(name),
            _ => false,
        })
    }

    /// The template an event is printed with: its own choice, or the default.
    pub fn template_name_for<'a>(&'a self, event: &'a EnrollmentEvent) -> &'a str {
        event.template.as_deref().unwrap_or(&self.default_template)
    }

    /// The printer pool for an event's card.
    ///
    /// # Errors
    /// [`RenderError::UnknownTemplate`].
    pub fn pool_for(&self, event: &EnrollmentEvent) -> Result<&str, RenderError> {
        self.template(self.template_name_for(event)).map(PreparedTemplate::pool)
    }

    /// The usable template `name`.
    ///
    /// # Errors
    /// [`RenderError::UnknownTemplate`].
    pub fn template(&self, name: &str) -> Result<&PreparedTemplate, RenderError> {
        self.templates.get(name).ok_or_else(|| RenderError::UnknownTemplate {
            name: name.to_owned(),
            known: self.templates.keys().cloned().collect::<Vec<_>>().join(", "),
        })
    }

    /// Renders an event's card with its template (or the default one): the PDF bytes.
    ///
    /// # Errors
    /// See [`PreparedTemplate::render`]; [`RenderError::UnknownTemplate`].
    pub fn render(&self, event: &EnrollmentEvent, context: &CardContext) -> Result<Vec<u8>, RenderError> {
        self.template(self.template_name_for(event))?.render(event, context)
    }

    /// Renders with a named template, whatever the event asks for (previews).
    ///
    /// # Errors
    /// As [`TemplateStore::render`].
    pub fn render_with(
        &self,
        template: &str,
        event: &EnrollmentEvent,
        context: &CardContext,
    ) -> Result<Vec<u8>, RenderError> {
        self.template(template)?.render(event, context)
    }
}
