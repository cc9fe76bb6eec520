//! The exchanges and queues cardspool relies on, declared idempotently on every (re)connect.
//!
//! ```text
//! cardspool.enrollments (topic) --enrollment.*--> cardspool.intake (quorum)
//!                                                      | x-delivery-limit (poison), and our own
//!                                                      v rejections with a reason header
//!                                      cardspool.dead (fanout) --> cardspool.dead (quorum)
//! cardspool.status (topic): status events back to upstream
//! ```

use lapin::options::{ExchangeDeclareOptions, QueueBindOptions, QueueDeclareOptions};
use lapin::types::{AMQPValue, FieldTable, ShortString};
use lapin::{Channel, ExchangeKind};

use super::AmqpError;
use crate::config::AmqpConfig;

/// The binding of the intake queue: every enrollment event type.
pub const INTAKE_BINDING: &str = "enrollment.*";
/// The header carrying the reasons an event was rejected.
pub const REJECTION_HEADER: &str = "x-cardspool-error";

fn durable_exchange() -> ExchangeDeclareOptions {
    ExchangeDeclareOptions { durable: true, ..ExchangeDeclareOptions::default() }
}

fn durable_queue() -> QueueDeclareOptions {
    QueueDeclareOptions { durable: true, ..QueueDeclareOptions::default() }
}

fn arg(table: &mut FieldTable, key: &str, value: AMQPValue) {
    table.insert(ShortString::from(key), value);
}

fn text(value: &str) -> AMQPValue {
    AMQPValue::LongString(value.into())
}

/// Declares the enrollments exchange, the one thing a publisher owns (`cardspool publish`,
/// upstream): never the spooler's queues, so an event nobody's queue takes is returned to the
/// publisher as unroutable instead of waiting in a queue the spooler never reads.
///
/// # Errors
/// [`AmqpError::Topology`] when the broker refuses the exchange (another kind, no permission).
pub async fn declare_enrollments_exchange(channel: &Channel, config: &AmqpConfig) -> Result<(), AmqpError> {
    channel
        .exchange_declare(
            config.enrollments_exchange.as_str().into(),
            ExchangeKind::Topic,
            durable_exchange(),
            FieldTable::default(),
        )
        .await
        .map_err(|source| AmqpError::Topology { what: format!("exchange {}", config.enrollments_exchange), source })
}

/// Declares the whole topology. Idempotent; safe to call from every process that connects.
///
/// The intake queue's arguments are fixed at its first declaration: RabbitMQ refuses a
/// redeclaration with other arguments (406). Tune a live queue through a policy instead.
///
/// # Errors
/// [`AmqpError::Topology`] naming the exchange or queue the broker refused.
pub async fn declare_topology(channel: &Channel, config: &AmqpConfig) -> Result<(), AmqpError> {
    let topology_error = |what: &str| {
        let what = what.to_owned();
        move |source| AmqpError::Topology { what, source }
    };
    let exchanges = [
        (&config.enrollments_exchange, ExchangeKind::Topic),
        (&config.dead_letter_exchange, ExchangeKind::Fanout),
        (&config.status_exchange, ExchangeKind::Topic),
    ];
    for (name, kind) in exchanges {
        channel
            .exchange_declare(name.as_str().into(), kind, durable_exchange(), FieldTable::default())
            .await
            .map_err(topology_error(&format!("exchange {name}")))?;
    }

    let mut dead_args = FieldTable::default();
    arg(&mut dead_args, "x-queue-type", text("quorum"));
    channel
        .queue_declare(config.dead_letter_queue.as_str().into(), durable_queue(), dead_args)
        .await
        .map_err(topology_error(&format!("queue {}", config.dead_letter_queue)))?;
    channel
        .queue_bind(
            config.dead_letter_queue.as_str().into(),
            config.dead_letter_exchange.as_str().into(),
            "#".into(),
            QueueBindOptions::default(),
            FieldTable::default(),
        )
        .await
        .map_err(topology_error(&format!("binding of queue {}", config.dead_letter_queue)))?;

    // At-least-once dead-lettering needs reject-publish overflow; without it RabbitMQ silently
    // falls back to at-most-once.
    let mut intake_args = FieldTable::default();
    arg(&mut intake_args, "x-queue-type", text("quorum"));
    arg(&mut intake_args, "x-dead-letter-exchange", text(&config.dead_letter_exchange));
    arg(&mut intake_args, "x-dead-letter-strategy", text("at-least-once"));
    arg(&mut intake_args, "x-overflow", text("reject-publish"));
    arg(&mut intake_args, "x-delivery-limit", AMQPValue::LongLongInt(i64::from(config.delivery_limit)));
    channel
        .queue_declare(config.intake_queue.as_str().into(), durable_queue(), intake_args)
        .await
        .map_err(topology_error(&format!("queue {}", config.intake_queue)))?;
    channel
        .queue_bind(
            config.intake_queue.as_str().into(),
            config.enrollments_exchange.as_str().into(),
            INTAKE_BINDING.into(),
            QueueBindOptions::default(),
            FieldTable::default(),
        )
        .await
        .map_err(topology_error(&format!("binding of queue {}", config.intake_queue)))?;
    Ok(())
}
