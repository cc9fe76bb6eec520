//! `cardspool publish FILE...`: publish enrollment events as an upstream service would, with
//! publisher confirms. Files are sent as they are (no validation here: the spooler is the
//! judge, and tests publish bad events on purpose).

use std::path::PathBuf;

use crate::amqp::{publish_confirmed, AmqpError, Publication};
use crate::config::AmqpConfig;
use crate::domain::event;

#[derive(Debug, thiserror::Error)]
pub enum PublishCommandError {
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error(transparent)]
    Amqp(#[from] AmqpError),
}

/// What happened to one file.
#[derive(Debug)]
pub struct FileOutcome {
    pub path: PathBuf,
    pub result: Result<(), String>,
}

/// Publishes every file to the enrollments exchange with `routing_key`, the event's id as the
/// message id, and waits for all confirms.
///
/// # Errors
/// When a file cannot be read (nothing is published then) or the broker cannot be reached.
pub async fn publish_files(
    config: &AmqpConfig,
    files: &[PathBuf],
    routing_key: &str,
) -> Result<Vec<FileOutcome>, PublishCommandError> {
    let mut publications = Vec::with_capacity(files.len());
    for path in files {
        let body = std::fs::read(path).map_err(|source| PublishCommandError::Read { path: path.clone(), source })?;
        publications.push(Publication {
            exchange: config.enrollments_exchange.clone(),
            routing_key: routing_key.to_owned(),
            message_id: event::peek_event_id(&body),
            body,
            headers: lapin::types::FieldTable::default(),
            mandatory: true,
        });
    }
    let results = publish_confirmed(config, &publications).await?;
    Ok(files
        .iter()
        .zip(results)
        .map(|(path, result)| FileOutcome { path: path.clone(), result: result.map_err(|e| e.to_string()) })
        .collect())
}
