//! `cardspool demo`: the whole system on one machine, for a first look. The spooler of
//! `cardspool run` with an in-process central simulator, a hot-folder printer and the sample
//! events published; prints where to look.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::amqp::Publication;
use crate::clock::Clock;
use crate::config::{ApiToken, Config, PrinterConfig, StaffRole};
use crate::sim::central::{CentralSimCore, CentralSimServer};

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("cannot prepare the demo folder {path}: {source}")]
    Folder { path: PathBuf, source: std::io::Error },
    #[error(transparent)]
    Sim(#[from] crate::sim::central::SimError),
    #[error(transparent)]
    Amqp(#[from] crate::amqp::AmqpError),
    #[error(transparent)]
    App(#[from] crate::app::AppError),
}

/// Where the demo keeps its journal, spool and printed cards.
pub const DEMO_DIR: &str = "cardspool-demo";
/// The queue the demo reads status events into, as an upstream service would.
pub const DEMO_STATUS_QUEUE: &str = "cardspool.demo.status";

/// The demo's configuration: `base` (file and environment, so the broker can be pointed
/// elsewhere) with its own journal, spool, a folder printer and the simulator as central.
pub fn demo_config(base: &Config, dir: &Path, central_url: String, central_key: String) -> Config {
    let mut config = base.clone();
    config.journal.url = format!("sqlite://{}", dir.join("journal.db").display());
    config.printing.spool_dir = dir.join("spool");
    config.central.url = central_url;
    config.central.public_key = central_key;
    if config.api.tokens.is_empty() {
        // A token for this run only, so the dashboard and the staff CLI work out of the box.
        config.api.tokens = vec![ApiToken {
            name: "demo".into(),
            token: format!("demo-{}", uuid::Uuid::new_v4().simple()),
            role: StaffRole::Supervisor,
        }];
    }
    config.printers = vec![PrinterConfig {
        name: "demo-folder".into(),
        uri: format!("dir://{}", dir.join("printed").display()),
        pool: default_pool(&config),
        max_jobs: 1,
        ignore_tls_errors: false,
    }];
    config
}

/// The pool of the default template, so the folder printer takes its cards.
fn default_pool(config: &Config) -> String {
    let template = &config.intake.default_template;
    crate::render::TemplateStore::load(&config.render.templates_dir)
        .ok()
        .and_then(|store| store.get(template).map(|prepared| prepared.pool().to_owned()))
        .unwrap_or_else(|| template.clone())
}

/// Runs the demo until `shutdown`.
///
/// # Errors
/// When the demo folder cannot be made, the simulator cannot bind, RabbitMQ cannot be reached
/// to publish the samples, or the spooler refuses its configuration.
pub async fn run(base: &Config, samples: &Path, shutdown: impl Future<Output = ()> + Send) -> Result<(), DemoError> {
    let dir =
        std::env::current_dir().map_err(|source| DemoError::Folder { path: DEMO_DIR.into(), source })?.join(DEMO_DIR);
    std::fs::create_dir_all(dir.join("printed")).map_err(|source| DemoError::Folder { path: dir.clone(), source })?;

    let core = Arc::new(CentralSimCore::generate(Clock::system()));
    let central = CentralSimServer::start(([127, 0, 0, 1], 0).into(), core.clone()).await?;
    let config = demo_config(base, &dir, central.url(), core.public_key_base64());

    let mut files: Vec<PathBuf> = std::fs::read_dir(samples)
        .map_err(|source| DemoError::Folder { path: samples.to_owned(), source })?
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .collect();
    files.sort();
    let publications: Vec<Publication> = files
        .iter()
        .filter_map(|path| std::fs::read(path).ok())
        .map(|body| Publication {
            exchange: config.amqp.enrollments_exchange.clone(),
            routing_key: "enrollment.completed".into(),
            message_id: crate::domain::event::peek_event_id(&body),
            body,
            headers: lapin::types::FieldTable::default(),
            mandatory: true,
        })
        .collect();
    // The demo is upstream and the spooler at once: the spooler's queue must exist before the
    // samples are published, or they would be returned as unroutable.
    crate::amqp::declare_spooler_topology(&config.amqp).await?;
    // ... and upstream's queue for the status events, or they would wait, held back.
    crate::amqp::declare_status_queue(&config.amqp, DEMO_STATUS_QUEUE, 10_000).await?;
    let results = crate::amqp::publish_confirmed(&config.amqp, &publications).await?;
    let confirmed = results.iter().filter(|result| result.is_ok()).count();

    println!("cardspool demo");
    println!("  published    {confirmed} of {} sample events from {}", publications.len(), samples.display());
    println!("  central      simulator at {} (try: curl -X PUT {}/admin/fault -d '{{\"mode\":\"down\"}}' -H 'content-type: application/json')", central.url(), central.url());
    println!("  printed      cards appear in {}", dir.join("printed").display());
    println!("  journal      {}", dir.join("journal.db").display());
    if let Some(token) = config.api.tokens.first() {
        println!("  dashboard    http://{}/#token={}", config.api.listen, token.token);
        println!(
            "  staff CLI    CARDSPOOL_TOKEN={} cardspool jobs list --api http://{}",
            token.token, config.api.listen
        );
    }
    println!("  broker       {}", crate::amqp::endpoint(&config.amqp.url));
    println!("  status       events to upstream in queue {DEMO_STATUS_QUEUE} (the latest 10,000)");
    println!("  stop         Ctrl-C (published events already journaled are kept; rerun to see none printed twice)");

    let result = crate::app::run(config, shutdown).await;
    central.stop().await;
    Ok(result?)
}
