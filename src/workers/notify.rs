//! Notify: status events from the journal's outbox to the `cardspool.status` exchange.
//!
//! Each status event was written in the same transaction as the state change it announces, so
//! none is lost when the broker is away; this loop publishes them in order with publisher
//! confirms and `mandatory`, and marks them published only once confirmed and taken by a queue.
//! A crash between the confirm and the mark publishes an event twice: consumers deduplicate by
//! `message_id`. An event no queue takes (upstream has bound none yet) stays in the outbox and
//! holds back the ones after it: it is tried again alone every [`HELD_BACK_RETRY`], counted,
//! and shown to staff until a queue takes it.

use crate::i18n::Lang;
use crate::tr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use lapin::types::FieldTable;
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

use crate::amqp::{self, AmqpError, ConfirmedPublisher, Publication, PublishError};
use crate::clock::Clock;
use crate::config::AmqpConfig;
use crate::journal::{Journal, JournalError};
use crate::telemetry::StatusEventStats;

/// Status events published per round trip to the journal.
const BATCH: u32 = 200;
/// How often the outbox is looked at when it was found empty and no commit woke us: a safety
/// net (another instance's commits, a missed wake-up); commits of this process wake at once.
const IDLE_POLL: Duration = Duration::from_secs(2);
/// How often a status event no queue took is offered again: binding a queue is a person's
/// act, so there is no hurry, and the broker is not flooded meanwhile.
pub const HELD_BACK_RETRY: Duration = Duration::from_secs(30);

#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    #[error(transparent)]
    Amqp(#[from] AmqpError),
    #[error(transparent)]
    Publish(#[from] PublishError),
    #[error(transparent)]
    Journal(#[from] JournalError),
}

impl NotifyError {
    pub fn is_retryable(&self) -> bool {
        match self {
            NotifyError::Amqp(error) => error.is_retryable(),
            NotifyError::Publish(error) => error.is_retryable(),
            NotifyError::Journal(error) => error.is_retryable(),
        }
    }
}

pub struct Notify {
    pub amqp: AmqpConfig,
    pub journal: Journal,
    pub clock: Clock,
    /// The name this instance claims status events under (`[journal] instance`), and for how
    /// long: instances sharing a journal publish each status event once.
    pub instance: String,
    pub lease: Duration,
    pub stats: Arc<StatusEventStats>,
    /// How long a status event no queue took waits before it is offered again
    /// ([`HELD_BACK_RETRY`]).
    pub held_back_retry: Duration,
}

impl Notify {
    /// Runs until `shutdown`; reconnects to the broker forever.
    ///
    /// # Errors
    /// Only for a broker URL that can never work.
    pub async fn run(self, shutdown: CancellationToken) -> Result<(), NotifyError> {
        amqp::supervise(
            &self.amqp,
            &shutdown,
            "status events paused; retrying",
            NotifyError::is_retryable,
            || {},
            |connected| self.session(&shutdown, connected),
        )
        .await
    }

    async fn session(&self, shutdown: &CancellationToken, connected: Arc<AtomicBool>) -> Result<(), NotifyError> {
        let connection = tokio::select! {
            () = shutdown.cancelled() => return Ok(()),
            connection = amqp::connect(&self.amqp, "cardspool-notify") => connection?,
        };
        let result = self.publish_loop(&connection, shutdown, &connected).await;
        amqp::close_quietly(&connection, "cardspool notify stopping").await;
        result
    }

    async fn publish_loop(
        &self,
        connection: &lapin::Connection,
        shutdown: &CancellationToken,
        connected: &AtomicBool,
    ) -> Result<(), NotifyError> {
        let publisher = ConfirmedPublisher::open(connection).await?;
        amqp::declare_topology(publisher.channel(), &self.amqp).await?;
        connected.store(true, Ordering::Relaxed);
        info!(exchange = %self.amqp.status_exchange, "status events flowing");
        let wakers = self.journal.wakers();
        while !shutdown.is_cancelled() {
            let now = self.clock.now();
            let until = now + chrono::Duration::from_std(self.lease).unwrap_or_default();
            // While one is held back, it goes alone: the others would be sent again with it.
            let batch = if self.stats.current().is_some() { 1 } else { BATCH };
            let pending = self.journal.claim_unpublished(&self.instance, now, until, batch).await?;
            if pending.is_empty() {
                tokio::select! {
                    () = shutdown.cancelled() => break,
                    () = wakers.outbox.notified() => continue,
                    () = tokio::time::sleep(IDLE_POLL) => continue,
                }
            }
            let publications: Vec<Publication> = pending
                .iter()
                .map(|message| Publication {
                    exchange: self.amqp.status_exchange.clone(),
                    routing_key: message.routing_key.clone(),
                    body: message.body.clone().into_bytes(),
                    message_id: Some(message.id.clone()),
                    headers: FieldTable::default(),
                    mandatory: true,
                })
                .collect();
            let results = publisher.publish_all(&publications).await;
            // Every event a queue took is marked, even behind one that failed: it was delivered.
            let delivered: Vec<String> = pending
                .iter()
                .zip(&results)
                .filter(|(_, result)| result.is_ok())
                .map(|(message, _)| message.id.clone())
                .collect();
            self.journal.mark_published(&delivered, self.clock.now()).await?;
            debug!(published = delivered.len(), "status events published");
            match results.into_iter().find_map(Result::err) {
                None => {
                    if self.stats.flowing() {
                        info!("a queue takes the status events again; the ones held back are going out");
                    }
                }
                Some(PublishError::NotRouted { exchange, routing_key }) => {
                    let reason = tr!(
                        Lang::En,
                        "said-status-events-unroutable",
                        exchange = &exchange,
                        routing_key = &routing_key
                    );
                    if self.stats.held_back(&routing_key, &reason, self.clock.now()) {
                        warn!(%exchange, %routing_key, retry_in_s = self.held_back_retry.as_secs(), "status events held back: {reason}");
                    }
                    tokio::select! {
                        () = shutdown.cancelled() => break,
                        () = tokio::time::sleep(self.held_back_retry) => {}
                    }
                }
                Some(error) => return Err(error.into()),
            }
        }
        // Closed before its connection: lapin reports a connection closed under open channels
        // as an error.
        let _ = publisher.channel().close(200, "cardspool notify stopping".into()).await;
        Ok(())
    }
}
