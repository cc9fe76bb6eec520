//! `GET /templates` (the loaded card layouts and the problems of those refused) and
//! `GET /templates/{name}/preview` (the specimen card rendered with one of them, as a PDF).
//!
//! The preview uses [`crate::render::specimen`], a made-up holder, never a real job's data: a
//! layout can be checked from the dashboard without a person's card leaving the spooler.

use crate::i18n::Lang;
use crate::tr;
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use serde_json::{json, Value};

use super::auth::Staff;
use super::error::ApiError;
use super::ApiState;
use crate::render::{specimen, RenderError, TemplateStore};

#[derive(Debug, Serialize)]
pub struct TemplateView {
    pub name: String,
    pub title: String,
    pub pool: String,
    pub file: String,
    pub width_mm: f32,
    pub height_mm: f32,
    pub pages: usize,
}

#[derive(Debug, Serialize)]
pub struct TemplateProblemView {
    /// The file that was refused.
    pub file: String,
    /// Every problem found, each naming the file, the line and the field.
    pub error: String,
}

fn store(state: &ApiState) -> Result<&Arc<TemplateStore>, ApiError> {
    state.templates.as_ref().ok_or_else(|| ApiError::Unavailable(tr!(Lang::En, "said-rendering-not-running")))
}

pub async fn list(State(state): State<Arc<ApiState>>, _staff: Staff) -> Result<Json<Value>, ApiError> {
    let store = store(&state)?;
    let templates: Vec<TemplateView> = store
        .names()
        .filter_map(|name| store.get(name))
        .map(|template| {
            let (width_mm, height_mm) = template.page_size_mm();
            TemplateView {
                name: template.name().to_owned(),
                title: template.title().to_owned(),
                pool: template.pool().to_owned(),
                file: template.file().display().to_string(),
                width_mm,
                height_mm,
                pages: template.page_count(),
            }
        })
        .collect();
    let problems: Vec<TemplateProblemView> = store
        .problems()
        .iter()
        .map(|problem| TemplateProblemView {
            file: match problem {
                RenderError::Template { file, .. } => file.display().to_string(),
                _ => String::new(),
            },
            error: problem.to_string(),
        })
        .collect();
    Ok(Json(json!({ "templates": templates, "problems": problems })))
}

pub async fn preview(
    State(state): State<Arc<ApiState>>,
    _staff: Staff,
    Path(name): Path<String>,
) -> Result<Response, ApiError> {
    let store = Arc::clone(store(&state)?);
    if let Some(problem) = store.problem(&name) {
        return Err(ApiError::Conflict(format!("template {name:?} is not loaded: {problem}")));
    }
    if store.get(&name).is_none() {
        return Err(ApiError::NotFound(format!(
            "no template {name:?} (loaded: {})",
            store.names().collect::<Vec<_>>().join(", ")
        )));
    }
    // Rendering is CPU work of about a millisecond; it stays off the async workers regardless.
    let rendered = tokio::task::spawn_blocking(move || {
        let event = specimen::event();
        store.render_with(&name, &event, &specimen::context())
    })
    .await
    .map_err(|join_error| ApiError::Unavailable(format!("the preview could not be made: {join_error}")))?;
    match rendered {
        Ok(pdf) => Ok((
            [
                (header::CONTENT_TYPE, "application/pdf"),
                (header::CONTENT_DISPOSITION, "inline; filename=\"preview.pdf\""),
                (header::CACHE_CONTROL, "no-store"),
            ],
            pdf,
        )
            .into_response()),
        // The specimen is an ordinary card: a template that cannot lay it out is a template
        // staff must fix before it prints anyone's.
        Err(error) => Err(ApiError::Conflict(format!("the specimen card does not render: {error}"))),
    }
}
