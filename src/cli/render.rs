//! `cardspool render EVENT.json -o card.pdf` (a layout preview, no printing) and
//! `cardspool template check|list`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;

use crate::config::Config;
use crate::domain::event::{parse_event, EventError};
use crate::domain::job::JobId;
use crate::render::{specimen, CardContext, RenderError, TemplateStore};

#[derive(Debug, thiserror::Error)]
pub enum RenderCommandError {
    #[error("cannot read {}: {source}", path.display())]
    Read { path: PathBuf, source: std::io::Error },
    #[error("cannot write {}: {source}", path.display())]
    Write { path: PathBuf, source: std::io::Error },
    #[error("{} is not a valid enrollment event: {source}", path.display())]
    Event { path: PathBuf, source: EventError },
    #[error(transparent)]
    Render(#[from] RenderError),
}

/// The options of `cardspool render`.
#[derive(Debug, Clone, clap::Args)]
pub struct RenderArgs {
    /// The enrollment event (JSON, as published).
    pub event: PathBuf,
    /// Where to write the PDF.
    #[arg(long, short)]
    pub output: PathBuf,
    /// Template to use instead of the event's own (or the default).
    #[arg(long)]
    pub template: Option<String>,
    /// Templates directory (default: `render.templates_dir` of the configuration).
    #[arg(long)]
    pub templates_dir: Option<PathBuf>,
    /// The job id printed on the card and in its QR code (default: a new one).
    #[arg(long)]
    pub job_id: Option<JobId>,
    /// An authorization id, as central would give, for the QR code.
    #[arg(long)]
    pub authorization_id: Option<String>,
    /// Date of issue, YYYY-MM-DD (default: today).
    #[arg(long)]
    pub issue_date: Option<NaiveDate>,
}

/// `cardspool template ...`.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum TemplateCommand {
    /// Check a template (structure, fonts, every label fitted) and render a specimen card with it.
    Check {
        /// The template's name (`ektp`).
        name: String,
        /// Templates directory (default: `render.templates_dir` of the configuration).
        #[arg(long)]
        templates_dir: Option<PathBuf>,
        /// Also write the specimen card here.
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
    /// List the templates, with their pools, and the problems of those that cannot be used.
    List {
        /// Templates directory (default: `render.templates_dir` of the configuration).
        #[arg(long)]
        templates_dir: Option<PathBuf>,
        /// Print JSON (name, pool, title, file; and the problems) instead of lines.
        #[arg(long)]
        json: bool,
    },
    /// Write the built-in templates and their fonts into DIR, to edit them there (then set
    /// `[render] templates_dir = DIR`: a template there overrides the built-in one of its name).
    /// Never writes over an existing file.
    Export {
        /// Where to write them (created if missing).
        dir: PathBuf,
    },
}

fn templates_dir(config: &Config, given: Option<&Path>) -> PathBuf {
    given.map_or_else(|| config.render.templates_dir.clone(), Path::to_path_buf)
}

/// Renders one event file to a PDF file; returns a line for the operator.
///
/// # Errors
/// [`RenderCommandError`]: the file, the event, the template or the card.
pub fn render_file(config: &Config, args: &RenderArgs) -> Result<String, RenderCommandError> {
    let payload =
        std::fs::read(&args.event).map_err(|source| RenderCommandError::Read { path: args.event.clone(), source })?;
    let event = parse_event(&payload, &config.intake.image_limits())
        .map_err(|source| RenderCommandError::Event { path: args.event.clone(), source })?;
    let store = TemplateStore::load(&templates_dir(config, args.templates_dir.as_deref()))?
        .with_default_template(config.intake.default_template.clone());
    let name = args.template.clone().unwrap_or_else(|| store.template_name_for(&event).to_owned());
    if let Some(problem) = store.problem(&name) {
        return Err(RenderCommandError::Render(clone_template_error(problem)));
    }
    let template = store.template(&name)?;
    let context = CardContext {
        job_id: args.job_id.unwrap_or_default(),
        authorization_id: args.authorization_id.clone(),
        issue_place: config.render.issue_place.clone(),
        issue_date: args.issue_date.unwrap_or_else(|| chrono::Local::now().date_naive()),
    };
    let pdf = template.render(&event, &context)?;
    std::fs::write(&args.output, &pdf)
        .map_err(|source| RenderCommandError::Write { path: args.output.clone(), source })?;
    Ok(format!(
        "rendered {} with template {} (pool {}, {} pages, {} bytes)",
        args.output.display(),
        template.name(),
        template.pool(),
        template.page_count(),
        pdf.len()
    ))
}

/// A template's load problem, re-made so it can be returned by value.
fn clone_template_error(problem: &RenderError) -> RenderError {
    match problem {
        RenderError::Template { file, errors } => RenderError::Template { file: file.clone(), errors: errors.clone() },
        other => RenderError::UnknownTemplate { name: other.to_string(), known: String::new() },
    }
}

/// Runs a template subcommand; returns its report and whether everything was fine.
///
/// # Errors
/// When the templates directory cannot be read, or the specimen cannot be written.
pub fn template_command(config: &Config, command: &TemplateCommand) -> Result<(String, bool), RenderCommandError> {
    match command {
        TemplateCommand::Export { dir } => {
            let written = crate::render::built_in::export(dir)
                .map_err(|source| RenderCommandError::Write { path: dir.clone(), source })?;
            let mut report = format!("wrote the built-in templates into {}:\n", dir.display());
            for path in written {
                let _ = writeln!(report, "  {}", path.display());
            }
            let _ = write!(
                report,
                "edit them there, then set [render] templates_dir = {:?} (a template there overrides the built-in one)",
                dir.display().to_string()
            );
            Ok((report, true))
        }
        TemplateCommand::Check { name, templates_dir: dir, output } => {
            let store = TemplateStore::load(&templates_dir(config, dir.as_deref()))?;
            if let Some(problem) = store.problem(name) {
                return Ok((format!("template {name} has problems:\n{problem}"), false));
            }
            let template = match store.template(name) {
                Ok(template) => template,
                Err(error) => return Ok((error.to_string(), false)),
            };
            let event = specimen::event();
            let context = CardContext { issue_place: config.render.issue_place.clone(), ..specimen::context() };
            let pdf = match template.render(&event, &context) {
                Ok(pdf) => pdf,
                Err(error) => return Ok((format!("template {name} cannot render the specimen card: {error}"), false)),
            };
            if let Some(path) = output {
                std::fs::write(path, &pdf)
                    .map_err(|source| RenderCommandError::Write { path: path.clone(), source })?;
            }
            let (width, height) = template.page_size_mm();
            Ok((
                format!(
                    "template {name} is fine: {}, pool {}, {} pages of {width:.2} x {height:.2} mm; specimen card {} bytes",
                    template.file().display(),
                    template.pool(),
                    template.page_count(),
                    pdf.len()
                ),
                true,
            ))
        }
        TemplateCommand::List { templates_dir: dir, json } => {
            let store = TemplateStore::load(&templates_dir(config, dir.as_deref()))?;
            if *json {
                let templates: Vec<serde_json::Value> = store
                    .names()
                    .filter_map(|name| store.get(name))
                    .map(|t| {
                        serde_json::json!({
                            "name": t.name(), "pool": t.pool(), "title": t.title(),
                            "file": t.file().display().to_string(),
                        })
                    })
                    .collect();
                let problems: Vec<String> = store.problems().iter().map(ToString::to_string).collect();
                let listing = serde_json::json!({ "templates": templates, "problems": problems });
                return Ok((serde_json::to_string_pretty(&listing).unwrap_or_default(), store.problems().is_empty()));
            }
            let mut lines: Vec<String> = store
                .names()
                .filter_map(|name| store.get(name))
                .map(|t| format!("{}\tpool {}\t{}\t{}", t.name(), t.pool(), t.title(), t.file().display()))
                .collect();
            lines.extend(store.problems().iter().map(|problem| format!("NOT USABLE:\n{problem}")));
            Ok((lines.join("\n"), store.problems().is_empty()))
        }
    }
}
