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

use std::str::FromStr;
use std::time::Duration;

use backon::{BackoffBuilder, ExponentialBuilder};
use lapin::uri::AMQPUri;
use lapin::{Connection, ConnectionProperties};

use crate::config::AmqpConfig;

pub use publish::{publish_confirmed, ConfirmedPublisher, Publication, PublishError};
pub use topology::{declare_topology, INTAKE_BINDING, REJECTION_HEADER};

#[derive(Debug, thiserror::Error)]
pub enum AmqpError {
    #[error("invalid AMQP URL: {0}")]
    Url(String),
    #[error("cannot reach RabbitMQ at {endpoint} within {timeout_ms} ms")]
    ConnectTimeout { endpoint: String, timeout_ms: u64 },
    #[error("RabbitMQ at {endpoint}: {source}")]
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

impl AmqpError {
    /// Every broker error is worth another connection attempt except a bad URL: the broker may
    /// come back, a policy may be fixed. The supervisor logs each and keeps trying.
    pub fn is_retryable(&self) -> bool {
        !matches!(self, AmqpError::Url(_))
    }
}

/// The broker's address without credentials, for log lines and error messages.
pub fn endpoint(url: &str) -> String {
    match AMQPUri::from_str(url) {
        Ok(uri) => format!("{}:{}/{}", uri.authority.host, uri.authority.port, uri.vhost),
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
    match tokio::time::timeout(timeout, Connection::connect_uri(uri, properties)).await {
        Err(_) => Err(AmqpError::ConnectTimeout { endpoint, timeout_ms: config.connect_timeout_ms }),
        Ok(Err(source)) => Err(AmqpError::Connect { endpoint, source }),
        Ok(Ok(connection)) => Ok(connection),
    }
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
