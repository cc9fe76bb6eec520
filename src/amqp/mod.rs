//! RabbitMQ through lapin: connecting (with a timeout and a heartbeat), the topology, and
//! publishing with confirms.
//!
//! lapin's own auto-recovery is not used: it can leave a connection silent for good once its
//! retries run out (lapin issue #450). Callers run their own supervisor loop instead: connect,
//! declare, consume; on the first error, end of stream or error event, drop everything and
//! reconnect with [`reconnect_backoff`].
//!
//! Architecture invariant: AMQP types (properties, headers, field tables) stay in this module
//! and in the workers that consume; the domain never sees them.

mod publish;
mod topology;

use std::future::Future;
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use backon::{BackoffBuilder, ExponentialBuilder};
use lapin::uri::AMQPUri;
use lapin::{Connection, ConnectionProperties};
use tokio_util::sync::CancellationToken;
use tracing::warn;

use crate::config::AmqpConfig;

pub use publish::{publish_confirmed, ConfirmedPublisher, Publication, PublishError};
pub use topology::{declare_enrollments_exchange, declare_topology, INTAKE_BINDING, REJECTION_HEADER};

#[derive(Debug, thiserror::Error)]
pub enum AmqpError {
    #[error("invalid AMQP URL: {0}")]
    Url(String),
    #[error("cannot read amqp.tls_ca_file {path}: {source}")]
    TlsCa { path: String, source: std::io::Error },
    #[error("cannot reach RabbitMQ at {endpoint} within {timeout_ms} ms")]
    ConnectTimeout { endpoint: String, timeout_ms: u64 },
    #[error("RabbitMQ at {endpoint}: {}", connect_problem(source))]
    Connect { endpoint: String, source: lapin::Error },
    #[error(
        "RabbitMQ refused to declare {what}: {source}. If it exists with other arguments, delete it or \
         change its settings through a policy (queue arguments cannot change after declaration)"
    )]
    Topology { what: String, source: lapin::Error },
    #[error("RabbitMQ channel error: {0}")]
    Channel(#[from] lapin::Error),
    #[error("the consumer stream ended (the broker cancelled the consumer or closed the channel)")]
    ConsumerEnded,
}

/// What went wrong connecting, in the words of the configuration a person can fix; lapin's
/// own text (a protocol dump) only when the case is not one of the usual ones.
fn connect_problem(source: &lapin::Error) -> String {
    let detail = source.to_string();
    if detail.contains("ACCESS_REFUSED") || detail.contains("ACCESS-REFUSED") {
        "the user name or password in amqp.url was refused".to_owned()
    } else if detail.contains("NOT_ALLOWED - vhost") && detail.contains("not found") {
        "the vhost in amqp.url does not exist (a URL's vhost `/` is written %2f)".to_owned()
    } else if detail.contains("NOT_ALLOWED") {
        "this user may not use the vhost in amqp.url".to_owned()
    } else if detail.contains("Connection refused") {
        "connection refused: is RabbitMQ running there, and is amqp.url right?".to_owned()
    } else {
        detail
    }
}

impl AmqpError {
    /// Every broker error is worth another connection attempt except a bad URL: the broker may
    /// come back, a policy may be fixed. The supervisor logs each and keeps trying.
    pub fn is_retryable(&self) -> bool {
        !matches!(self, AmqpError::Url(_) | AmqpError::TlsCa { .. })
    }
}

/// Declares the spooler's whole topology on a connection of its own, then closes it: for a
/// process that publishes before any spooler ran on the broker (the demo, tests).
///
/// # Errors
/// As [`connect`] and [`declare_topology`].
pub async fn declare_spooler_topology(config: &AmqpConfig) -> Result<(), AmqpError> {
    let connection = connect(config, "cardspool-topology").await?;
    let channel = connection.create_channel().await?;
    let declared = declare_topology(&channel, config).await;
    close_quietly(&connection, "declared").await;
    declared
}

/// Declares a queue bound to every status event (`card.#`), as upstream would to read them,
/// holding at most `max_length` (the oldest are dropped beyond): for the demo, which plays
/// upstream too. A real upstream declares its own (`deploy/rabbitmq/definitions.json`).
///
/// # Errors
/// [`AmqpError::Topology`] when the broker refuses the queue or its binding.
pub async fn declare_status_queue(config: &AmqpConfig, queue: &str, max_length: i64) -> Result<(), AmqpError> {
    use lapin::options::{QueueBindOptions, QueueDeclareOptions};
    use lapin::types::{AMQPValue, FieldTable};
    let connection = connect(config, "cardspool-status-queue").await?;
    let channel = connection.create_channel().await?;
    let mut arguments = FieldTable::default();
    arguments.insert("x-max-length".into(), AMQPValue::LongLongInt(max_length));
    let topology_error = |source| AmqpError::Topology { what: format!("queue {queue}"), source };
    let declared = async {
        declare_topology(&channel, config).await?;
        let options = QueueDeclareOptions { durable: true, ..QueueDeclareOptions::default() };
        channel.queue_declare(queue.into(), options, arguments).await.map_err(topology_error)?;
        channel
            .queue_bind(
                queue.into(),
                config.status_exchange.as_str().into(),
                "card.#".into(),
                QueueBindOptions::default(),
                FieldTable::default(),
            )
            .await
            .map_err(topology_error)?;
        Ok(())
    }
    .await;
    close_quietly(&connection, "declared").await;
    declared
}

/// The broker's address without credentials, for log lines and error messages.
pub fn endpoint(url: &str) -> String {
    match AMQPUri::from_str(url) {
        Ok(uri) if uri.vhost == "/" => format!("{}:{}", uri.authority.host, uri.authority.port),
        Ok(uri) => format!("{}:{} (vhost {})", uri.authority.host, uri.authority.port, uri.vhost),
        Err(_) => "<invalid url>".to_owned(),
    }
}

/// Opens a connection with a timeout (lapin has none) and the configured heartbeat, so a dead
/// peer is noticed within about two heartbeats.
///
/// # Errors
/// [`AmqpError::Url`] for a URL that does not parse, [`AmqpError::ConnectTimeout`] or
/// [`AmqpError::Connect`] when the broker cannot be reached or refuses us.
pub async fn connect(config: &AmqpConfig, connection_name: &str) -> Result<Connection, AmqpError> {
    let mut uri = AMQPUri::from_str(&config.url).map_err(AmqpError::Url)?;
    if uri.query.heartbeat.is_none() {
        uri.query.heartbeat = Some(config.heartbeat_s);
    }
    let endpoint = endpoint(&config.url);
    let properties = ConnectionProperties::default().with_connection_name(connection_name.into());
    let timeout = Duration::from_millis(config.connect_timeout_ms);
    let mut tls = lapin::tcp::OwnedTLSConfig::default();
    if let Some(path) = &config.tls_ca_file {
        let ca = std::fs::read_to_string(path)
            .map_err(|source| AmqpError::TlsCa { path: path.display().to_string(), source })?;
        tls.cert_chain = Some(ca);
    }
    let runtime = lapin::runtime::default_runtime()
        .map_err(|source| AmqpError::Connect { endpoint: endpoint.clone(), source })?;
    match tokio::time::timeout(timeout, Connection::connect_uri_with_config(uri, properties, tls, runtime)).await {
        Err(_) => Err(AmqpError::ConnectTimeout { endpoint, timeout_ms: config.connect_timeout_ms }),
        Ok(Err(source)) => Err(AmqpError::Connect { endpoint, source }),
        Ok(Ok(connection)) => Ok(connection),
    }
}

/// The supervisor loop every long-lived AMQP user runs instead of lapin's auto-recovery: runs
/// `session` until it returns `Ok` (it saw `shutdown`) or an error `is_retryable` calls final;
/// after any other error, waits a jittered, capped, growing pause and starts a new session.
/// The pause starts small again after a session that got as far as setting its `connected`
/// flag, so one lost connection after hours of work is retried at once.
///
/// # Errors
/// The first error `is_retryable` calls final.
pub async fn supervise<E, F, Fut>(
    config: &AmqpConfig,
    shutdown: &CancellationToken,
    lost: &str,
    is_retryable: fn(&E) -> bool,
    mut on_reconnect: impl FnMut(),
    mut session: F,
) -> Result<(), E>
where
    E: std::fmt::Display,
    F: FnMut(Arc<AtomicBool>) -> Fut,
    Fut: Future<Output = Result<(), E>>,
{
    let endpoint = endpoint(&config.url);
    let mut backoff = reconnect_backoff(config);
    loop {
        let connected = Arc::new(AtomicBool::new(false));
        match session(connected.clone()).await {
            Ok(()) => return Ok(()),
            Err(error) if !is_retryable(&error) => return Err(error),
            Err(error) => {
                if connected.load(Ordering::Relaxed) {
                    backoff = reconnect_backoff(config);
                }
                on_reconnect();
                let pause = backoff.next().unwrap_or(Duration::from_secs(30));
                warn!(%endpoint, error = %error, retry_in_ms = pause.as_millis() as u64, "{lost}");
                tokio::select! {
                    () = shutdown.cancelled() => return Ok(()),
                    () = tokio::time::sleep(pause) => {}
                }
            }
        }
    }
}

/// How long a call is waited for on a connection the broker may just have closed (a restart
/// closes every connection). lapin can leave such a call pending for good (amqp-rs/lapin#409);
/// a supervisor waiting on it would never reconnect.
pub const CALL_ON_CLOSING_CONNECTION_TIMEOUT: Duration = Duration::from_secs(5);

/// Closes `connection`, which returns its unacked deliveries to the queue at once rather than at
/// heartbeat timeout. A failure or a timeout only means the connection is already gone.
pub async fn close_quietly(connection: &Connection, reason: &str) {
    let _ = tokio::time::timeout(CALL_ON_CLOSING_CONNECTION_TIMEOUT, connection.close(200, reason.into())).await;
}

/// The pauses between reconnection attempts: exponential from 100 ms, full jitter, capped at
/// the configured maximum, never giving up.
pub fn reconnect_backoff(config: &AmqpConfig) -> impl Iterator<Item = Duration> {
    ExponentialBuilder::default()
        .with_min_delay(Duration::from_millis(100))
        .with_max_delay(Duration::from_millis(config.reconnect_max_backoff_ms.max(100)))
        .with_jitter()
        .without_max_times()
        .build()
}
