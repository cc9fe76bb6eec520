//! `cardspool publish FILE...`: publish enrollment events as an upstream service would, with
//! publisher confirms. Files are sent as they are (no validation here: the spooler is the
//! judge, and tests publish bad events on purpose).

use std::path::PathBuf;

use crate::amqp::{publish_confirmed, AmqpError, Publication};
use crate::config::AmqpConfig;
use crate::domain::event;

#[derive(Debug, thiserror::Error)]
pub enum PublishCommandError {
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
/// message id, and waits for all confirms. A file that cannot be read is reported in its
/// outcome; the others are still published.
///
/// # Errors
/// When the broker cannot be reached.
pub async fn publish_files(
    config: &AmqpConfig,
    files: &[PathBuf],
    routing_key: &str,
) -> Result<Vec<FileOutcome>, PublishCommandError> {
    let mut publications = Vec::with_capacity(files.len());
    let mut unreadable = Vec::new();
    for (n, path) in files.iter().enumerate() {
        match std::fs::read(path) {
            Ok(body) => publications.push(Publication {
                exchange: config.enrollments_exchange.clone(),
                routing_key: routing_key.to_owned(),
                message_id: event::peek_event_id(&body),
                body,
                headers: lapin::types::FieldTable::default(),
                mandatory: true,
            }),
            Err(error) => unreadable.push((n, format!("cannot read it: {error}"))),
        }
    }
    let mut published = if publications.is_empty() {
        Vec::new().into_iter()
    } else {
        publish_confirmed(config, &publications).await?.into_iter()
    };
    let mut unreadable = unreadable.into_iter().peekable();
    Ok(files
        .iter()
        .enumerate()
        .map(|(n, path)| {
            let result = match unreadable.next_if(|(at, _)| *at == n) {
                Some((_, why)) => Err(why),
                None => published.next().map_or_else(|| Err("not sent".to_owned()), |r| r.map_err(|e| e.to_string())),
            };
            FileOutcome { path: path.clone(), result }
        })
        .collect())
}
