//! Builds the adapters, starts the workers, waits for shutdown. The only module that knows
//! every part.

use std::future::Future;
use std::sync::Arc;

use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{error, info};

use crate::clock::Clock;
use crate::config::{CentralConfig, Config};
use std::time::Duration;

use crate::central::Verifier;
use crate::http::Api;
use crate::journal::{Journal, JournalError};
use crate::printer::PrinterError;
use crate::render::{RenderError, TemplateStore};
use crate::workers::authorize::{AuthorizeError, Authorizer};
use crate::workers::cards::TemplateCards;
use crate::workers::dispatch::Dispatch;
use crate::workers::intake::{Intake, IntakeError};
use crate::workers::notify::{Notify, NotifyError};
use crate::workers::retention::Retention;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error(transparent)]
    Journal(#[from] JournalError),
    #[error(transparent)]
    Intake(#[from] IntakeError),
    #[error(transparent)]
    Notify(#[from] NotifyError),
    #[error(transparent)]
    Authorize(#[from] AuthorizeError),
    #[error(transparent)]
    Render(#[from] RenderError),
    #[error(transparent)]
    Printer(#[from] PrinterError),
    #[error("cannot listen for the API on {addr}: {source}")]
    Api { addr: std::net::SocketAddr, source: std::io::Error },
    #[error("cannot serve the API over TLS with {cert} and {key}: {source}")]
    ApiTls { cert: String, key: String, source: std::io::Error },
}

/// Runs the spooler until `shutdown` completes, then stops taking new work, lets the work in
/// hand reach a safe state (commits finish, committed deliveries are acked) and returns.
///
/// # Errors
/// [`AppError::Journal`] when the journal cannot be opened; [`AppError::Render`] when the
/// templates directory cannot be read; [`AppError::Printer`] for a printer that cannot be set
/// up; [`AppError::Intake`] when intake stops for a reason retrying cannot fix (a bad broker URL).
pub async fn run(config: Config, shutdown: impl Future<Output = ()> + Send) -> Result<(), AppError> {
    let journal = Journal::open(&config.journal.url, config.journal.max_connections).await?;
    let instance = config.journal.instance_id();
    info!(journal = ?journal.backend(), %instance, "journal open");
    let clock = Clock::system();
    let token = CancellationToken::new();
    let tasks = TaskTracker::new();

    // Everything that can refuse the configuration is built before any task starts.
    // Without a key to trust, the spooler fails closed: events are still taken in (nothing is
    // lost), but nothing is authorized, drawn or printed, and it says why.
    let margin = Duration::from_secs(config.central.expiry_margin_s);
    let central = config.central.usable_public_key().and_then(|public_key| {
        let verifier = Verifier::from_base64(&public_key, margin).map_err(|error| error.to_string())?;
        Ok((CentralConfig { public_key, public_key_file: None, ..config.central.clone() }, verifier))
    });
    let (central, verifier, central_off) = match central {
        Ok((central, verifier)) => (Some(central), Some(verifier), None),
        Err(reason) => {
            error!(%reason, "no usable central key: jobs are taken in, but none is authorized or printed until there is");
            (None, None, Some(reason))
        }
    };
    let templates = Arc::new(
        TemplateStore::load(&config.render.templates_dir)?
            .with_default_template(config.intake.default_template.clone()),
    );
    for problem in templates.problems() {
        // A bad template is reported and left out; the others keep printing.
        error!(%problem, "template not loaded");
    }
    let renderer = Arc::new(TemplateCards::new(
        Arc::clone(&templates),
        config.render.issue_place.clone(),
        config.ledger_offset_minutes(),
        config.intake.image_limits(),
        config.central.office.clone(),
        verifier,
    ));
    let dispatch = Dispatch::from_config(&config, journal.clone(), renderer, clock)?;
    let authorizer = match &central {
        Some(central) => Some(
            Authorizer::over_http(central, journal.clone(), clock).await?.leased_as(&instance, config.journal.lease()),
        ),
        None => None,
    };

    let intake = Intake::new(config.amqp.clone(), &config.intake, journal.clone(), clock);
    let status_events = Arc::new(crate::telemetry::StatusEventStats::default());

    // The staff API (health, metrics, JSON API, dashboard), bound before any work starts so a
    // taken port stops the spooler at once.
    let api_error = |source| AppError::Api { addr: config.api.listen, source };
    let listener = crate::http::bind(config.api.listen).await.map_err(api_error)?;
    let scheme = if config.api.tls_cert_file.is_some() { "https" } else { "http" };
    // The address last: tools and tests read it from the end of this line.
    info!(scheme = %scheme, addr = %listener.local_addr().map_err(api_error)?, "api listening");
    let api = Api::new(journal.clone(), &config.api.tokens, clock)
        .with_nik_searches_per_hour(config.api.nik_searches_per_hour)
        .with_office_zone(config.office.zone)
        .with_office_code(&config.central.office)
        .with_stock_levels(config.printing.low_stock, config.printing.reserve_stock)
        .with_intake_stats(intake.stats.clone())
        .with_status_event_stats(status_events.clone())
        .with_printing(dispatch.printers().clone(), Arc::new(dispatch.clone()))
        .with_templates(templates);
    let api = match (&config.api.tls_cert_file, &config.api.tls_key_file) {
        (Some(cert), Some(key)) => api.with_tls(cert, key).await.map_err(|source| AppError::ApiTls {
            cert: cert.display().to_string(),
            key: key.display().to_string(),
            source,
        })?,
        _ => api,
    };
    let api = match (&authorizer, central_off) {
        (Some(authorizer), _) => {
            let monitor = authorizer.monitor();
            monitor.set_office_zone(config.office.zone);
            api.with_central(monitor)
        }
        (None, Some(reason)) => api.with_central_off(reason),
        (None, None) => api,
    };
    let api_task = tasks.spawn(api.serve(listener, token.child_token().cancelled_owned()));

    // Intake and notify only end early for a broker configuration that can never work; the
    // spooler then stops as a whole rather than run on without them.
    let stop_all = token.clone();
    let intake_task = tasks.spawn(stop_on_error(intake.run(token.child_token()), stop_all.clone()));
    let notify = Notify {
        amqp: config.amqp.clone(),
        journal: journal.clone(),
        clock,
        instance: instance.clone(),
        lease: config.journal.lease(),
        stats: status_events,
        held_back_retry: crate::workers::notify::HELD_BACK_RETRY,
    };
    let notify_task = tasks.spawn(stop_on_error(notify.run(token.child_token()), stop_all));
    tasks.spawn(dispatch.run(token.child_token()));
    tasks.spawn(Retention::new(&config.journal, journal.clone(), clock).run(token.child_token()));
    let authorize_task = authorizer.map(|authorizer| tasks.spawn(authorizer.run(token.child_token())));
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
    match notify_task.await {
        Ok(result) => result?,
        Err(join_error) => error!(error = %join_error, "notify task panicked"),
    }
    if let Some(task) = authorize_task {
        match task.await {
            Ok(result) => result?,
            Err(join_error) => error!(error = %join_error, "authorize task panicked"),
        }
    }
    match api_task.await {
        Ok(Ok(())) => {}
        Ok(Err(io_error)) => error!(error = %io_error, "the API stopped with an error"),
        Err(join_error) => error!(error = %join_error, "API task panicked"),
    }
    info!("stopped");
    Ok(())
}

async fn stop_on_error<E>(work: impl Future<Output = Result<(), E>>, stop_all: CancellationToken) -> Result<(), E> {
    let result = work.await;
    if result.is_err() {
        stop_all.cancel();
    }
    result
}
