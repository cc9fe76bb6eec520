//! Builds the adapters, starts the workers, waits for shutdown. The only module that knows
//! every part.

use std::future::Future;

use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{error, info};

use crate::clock::Clock;
use crate::config::Config;
use crate::journal::{Journal, JournalError};
use crate::workers::authorize::{AuthorizeError, Authorizer};
use crate::workers::intake::{Intake, IntakeError};

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error(transparent)]
    Journal(#[from] JournalError),
    #[error(transparent)]
    Intake(#[from] IntakeError),
    #[error(transparent)]
    Authorize(#[from] AuthorizeError),
}

/// Runs the spooler until `shutdown` completes, then stops taking new work, lets the work in
/// hand reach a safe state (commits finish, committed deliveries are acked) and returns.
///
/// # Errors
/// [`AppError::Journal`] when the journal cannot be opened; [`AppError::Intake`] when intake
/// stops for a reason retrying cannot fix (a bad broker URL); [`AppError::Authorize`] when
/// `[central] public_key` is missing or invalid.
pub async fn run(config: Config, shutdown: impl Future<Output = ()> + Send) -> Result<(), AppError> {
    let journal = Journal::open(&config.journal.url, config.journal.max_connections).await?;
    info!(journal = ?journal.backend(), "journal open");
    let clock = Clock::system();
    let token = CancellationToken::new();
    let tasks = TaskTracker::new();

    let intake = Intake::new(config.amqp.clone(), &config.intake, journal.clone(), clock);
    let intake_task = tasks.spawn(intake.run(token.child_token()));

    // --- authorize: central's print authorization (workers::authorize) ---
    // `central_status` is central's state for the API and status events: `.snapshot()` or
    // `.subscribe()`; `authorizer.waker()` can be notified by intake after each admission.
    let authorizer = Authorizer::over_http(&config.central, journal.clone(), clock).await?;
    let _central_status = authorizer.monitor();
    let authorize_task = tasks.spawn(authorizer.run(token.child_token()));
    // --- end authorize ---
    tasks.close();

    tokio::select! {
        () = shutdown => info!("shutdown requested: finishing the work in hand"),
        () = token.cancelled() => {}
    }
    token.cancel();
    tasks.wait().await;
    journal.close().await;
    match intake_task.await {
        Ok(result) => result?,
        Err(join_error) => error!(error = %join_error, "intake task panicked"),
    }
    match authorize_task.await {
        Ok(result) => result?,
        Err(join_error) => error!(error = %join_error, "authorize task panicked"),
    }
    info!("stopped");
    Ok(())
}
