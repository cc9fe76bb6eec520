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
use crate::telemetry::{panic_message, PartsHealth};
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
    /// A part stopped while the spooler ran (a panic, or it ended without being asked): the
    /// spooler stops as a whole, so that its supervisor (systemd, Docker) restarts it.
    #[error("the {part} part of the spooler stopped: {why}")]
    PartStopped { part: &'static str, why: String },
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
        // Checked here, so that a key that cannot be used fails closed instead of stopping the start.
        Verifier::from_base64(&public_key, margin).map_err(|error| error.to_string())?;
        Ok(CentralConfig { public_key, public_key_file: None, ..config.central.clone() })
    });
    let (central, central_off) = match central {
        Ok(central) => (Some(central), None),
        Err(reason) => {
            error!(%reason, "no usable central key: jobs are taken in, but none is authorized or printed until there is");
            (None, Some(reason))
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
    let authorizer = match &central {
        Some(central) => Some(
            Authorizer::over_http(central, journal.clone(), clock).await?.leased_as(&instance, config.journal.lease()),
        ),
        None => None,
    };
    // The authorizer's verifier, with the signatures it found good: a card's authorization is
    // checked again before drawing and before printing, with no second curve check. None
    // without a usable key: then nothing is drawn or printed.
    let verifier = authorizer.as_ref().map(|authorizer| authorizer.verifier().clone());
    let renderer = Arc::new(TemplateCards::new(
        Arc::clone(&templates),
        config.render.issue_place.clone(),
        config.ledger_offset_minutes(),
        config.intake.image_limits(),
        config.central.office.clone(),
        verifier,
    ));
    let dispatch = Dispatch::from_config(&config, journal.clone(), renderer, clock)?;

    let intake = Intake::new(config.amqp.clone(), &config.intake, journal.clone(), clock);
    let status_events = Arc::new(crate::telemetry::StatusEventStats::default());
    let parts_health = Arc::new(PartsHealth::default());

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
        .with_language(config.api.language)
        .with_office_code(&config.central.office)
        .with_stock_levels(config.printing.low_stock, config.printing.reserve_stock)
        .with_intake_stats(intake.stats.clone())
        .with_status_event_stats(status_events.clone())
        .with_parts_health(parts_health.clone())
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
    let api_addr = config.api.listen;
    let serving = api.serve(listener, token.child_token().cancelled_owned());
    let api_task = tasks.spawn(watch(
        "api",
        async move { serving.await.map_err(|source| AppError::Api { addr: api_addr, source }) },
        parts_health.clone(),
        token.clone(),
    ));

    // Every part is watched: one that fails (a broker configuration that can never work), panics
    // or ends unasked stops the spooler as a whole, rather than let it run on without it, and
    // `/healthz` names it meanwhile.
    let stop_all = token.clone();
    let notify = Notify {
        amqp: config.amqp.clone(),
        journal: journal.clone(),
        clock,
        instance: instance.clone(),
        lease: config.journal.lease(),
        stats: status_events,
        held_back_retry: crate::workers::notify::HELD_BACK_RETRY,
    };
    let retention = Retention::new(&config.journal, journal.clone(), clock);
    let mut parts = vec![
        tasks.spawn(watch("intake", intake.run(token.child_token()), parts_health.clone(), stop_all.clone())),
        tasks.spawn(watch("notify", notify.run(token.child_token()), parts_health.clone(), stop_all.clone())),
        tasks.spawn(watch(
            "dispatch",
            ended(dispatch.run(token.child_token())),
            parts_health.clone(),
            stop_all.clone(),
        )),
        tasks.spawn(watch(
            "retention",
            ended(retention.run(token.child_token())),
            parts_health.clone(),
            stop_all.clone(),
        )),
    ];
    if let Some(authorizer) = authorizer {
        parts.push(tasks.spawn(watch(
            "authorize",
            authorizer.run(token.child_token()),
            parts_health.clone(),
            stop_all.clone(),
        )));
    }
    tasks.close();

    tokio::select! {
        () = shutdown => info!("shutdown requested: finishing the work in hand"),
        () = token.cancelled() => {}
    }
    token.cancel();
    tasks.wait().await;
    journal.close().await;
    // The first part that failed is the spooler's error (its exit status is not 0).
    let mut failed = None;
    for part in std::iter::once(api_task).chain(parts) {
        if let Ok(Err(error)) = part.await {
            failed.get_or_insert(error);
        }
    }
    if let Some(error) = failed {
        return Err(error);
    }
    info!("stopped");
    Ok(())
}

/// A part that cannot fail but may still panic or end.
async fn ended(work: impl Future<Output = ()>) -> Result<(), std::convert::Infallible> {
    work.await;
    Ok(())
}

/// Runs one part of the spooler as a task of its own and watches it: an error, a panic, or an
/// end before `stop_all` was cancelled marks the part down in `health` and stops every part.
async fn watch<E>(
    part: &'static str,
    work: impl Future<Output = Result<(), E>> + Send + 'static,
    health: Arc<PartsHealth>,
    stop_all: CancellationToken,
) -> Result<(), AppError>
where
    E: Into<AppError> + std::fmt::Display + Send + 'static,
{
    let outcome = tokio::spawn(work).await;
    let why = match outcome {
        Ok(Ok(())) if stop_all.is_cancelled() => return Ok(()),
        Ok(Ok(())) => "it ended without being asked to".to_owned(),
        Ok(Err(error)) => {
            let why = error.to_string();
            error!(part, error = %why, "a part of the spooler failed: stopping");
            health.down(part, why);
            stop_all.cancel();
            return Err(error.into());
        }
        Err(join_error) if join_error.is_panic() => {
            format!("it panicked: {}", panic_message(join_error.into_panic().as_ref()))
        }
        Err(join_error) => format!("its task was cancelled: {join_error}"),
    };
    error!(part, %why, "a part of the spooler stopped: stopping the spooler");
    health.down(part, why.clone());
    stop_all.cancel();
    Err(AppError::PartStopped { part, why })
}

impl From<std::convert::Infallible> for AppError {
    fn from(never: std::convert::Infallible) -> AppError {
        match never {}
    }
}
