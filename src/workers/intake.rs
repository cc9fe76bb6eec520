//! Intake: enrollment events from RabbitMQ into the journal, each exactly once.
//!
//! The supervisor loop connects, declares the topology and consumes; on any error it drops the
//! connection and reconnects with jittered backoff, forever. Deliveries are taken in batches of
//! what has arrived; each is handled to the end, also when shutdown comes: validated, committed
//! to the journal (or recorded as a rejection and copied to the dead-letter exchange with its
//! reason), and only then acked, with one `multiple` ack per batch, the batches in the order they
//! arrived. A batch is validated while the one before it is being committed. A delivery whose
//! ack was lost with the connection comes back and is recognised by its `event_id`.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures_util::{FutureExt as _, StreamExt};
use lapin::message::Delivery;
use lapin::options::{BasicAckOptions, BasicCancelOptions, BasicConsumeOptions, BasicQosOptions};
use lapin::types::{AMQPValue, FieldTable, ShortString};
use lapin::{Connection, Consumer, Event};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tracing::{debug, error, info, info_span, warn, Instrument};

use crate::amqp::{self, AmqpError, ConfirmedPublisher, Publication, PublishError, REJECTION_HEADER};
use crate::clock::Clock;
use crate::config::{AmqpConfig, IntakeConfig};
use crate::domain::event::{self, EnrollmentEvent, EventError, ImageLimits};
use crate::domain::nik::redact_niks;
use crate::journal::{Admission, Journal, JournalError, NewJob, NewRejection};

#[derive(Debug, thiserror::Error)]
pub enum IntakeError {
    #[error(transparent)]
    Amqp(#[from] AmqpError),
    #[error("cannot dead-letter a rejected event: {0}")]
    DeadLetter(#[from] PublishError),
}

impl IntakeError {
    /// The supervisor retries everything but a configuration error.
    pub fn is_retryable(&self) -> bool {
        match self {
            IntakeError::Amqp(error) => error.is_retryable(),
            IntakeError::DeadLetter(error) => error.is_retryable(),
        }
    }
}

pub use crate::telemetry::IntakeStats;

/// How many batches the prefetch is shared among: one being validated, the others waiting for
/// or in the commit. A slow commit (a disk slow to flush) then has several batches' validation
/// to finish in before the cores run out of deliveries; the batches that waited meanwhile are
/// committed together.
const BATCHES_IN_FLIGHT: usize = 4;
/// Admissions handed to the journal's writer and not yet acked.
const ADMISSIONS_IN_FLIGHT: usize = 2;

/// A batch of deliveries, validated, on its way to the journal.
struct Validated {
    valid: Vec<(Delivery, EnrollmentEvent, String)>,
    invalid: Vec<(Delivery, EventError)>,
}

pub struct Intake {
    pub amqp: AmqpConfig,
    pub limits: ImageLimits,
    /// Larger events are refused unparsed.
    pub max_event_bytes: usize,
    pub default_template: String,
    pub journal: Journal,
    pub clock: Clock,
    pub stats: Arc<IntakeStats>,
}

impl Intake {
    pub fn new(amqp: AmqpConfig, intake: &IntakeConfig, journal: Journal, clock: Clock) -> Intake {
        Intake {
            amqp,
            limits: intake.image_limits(),
            max_event_bytes: intake.max_event_bytes,
            default_template: intake.default_template.clone(),
            journal,
            clock,
            stats: Arc::new(IntakeStats::default()),
        }
    }

    /// Runs until `shutdown` is cancelled. Never gives up on the broker.
    ///
    /// # Errors
    /// Only for a configuration the broker can never accept (an unparseable URL).
    pub async fn run(self, shutdown: CancellationToken) -> Result<(), IntakeError> {
        let stats = self.stats.clone();
        amqp::supervise(
            &self.amqp,
            &shutdown,
            "intake lost RabbitMQ; reconnecting",
            IntakeError::is_retryable,
            || {
                stats.reconnects.fetch_add(1, Ordering::Relaxed);
            },
            |connected| self.session(&shutdown, connected),
        )
        .await
    }

    async fn session(&self, shutdown: &CancellationToken, connected: Arc<AtomicBool>) -> Result<(), IntakeError> {
        let connection = tokio::select! {
            () = shutdown.cancelled() => {
                info!("intake stopped before it consumed");
                return Ok(());
            }
            connection = amqp::connect(&self.amqp, "cardspool-intake") => connection?,
        };
        let result = self.consume(&connection, shutdown, &connected).await;
        amqp::close_quietly(&connection, "cardspool intake stopping").await;
        result
    }

    async fn consume(
        &self,
        connection: &Connection,
        shutdown: &CancellationToken,
        connected: &AtomicBool,
    ) -> Result<(), IntakeError> {
        let mut events = connection.events_listener();
        let channel = connection.create_channel().await.map_err(AmqpError::from)?;
        amqp::declare_topology(&channel, &self.amqp).await?;
        channel.basic_qos(self.amqp.prefetch, BasicQosOptions { global: false }).await.map_err(AmqpError::from)?;
        let dead_letters = ConfirmedPublisher::open(connection).await?;
        let tag = format!("cardspool-intake-{}", uuid::Uuid::new_v4());
        let mut consumer: Consumer = channel
            .basic_consume(
                self.amqp.intake_queue.as_str().into(),
                tag.as_str().into(),
                BasicConsumeOptions::default(),
                FieldTable::default(),
            )
            .await
            .map_err(AmqpError::from)?;
        connected.store(true, Ordering::Relaxed);
        info!(endpoint = %amqp::endpoint(&self.amqp.url), queue = %self.amqp.intake_queue, prefetch = self.amqp.prefetch, "intake consuming");
        // Batches are committed while the next are validated: validation is CPU work on the
        // cores, a commit mostly waits for the disk. The committer takes batches in order (those
        // that waited, together) and acks each commit only after every earlier one, so one
        // `multiple` ack covers exactly what it committed.
        let (to_commit, committing) = mpsc::channel::<Validated>(BATCHES_IN_FLIGHT - 1);
        let (received, committed) = tokio::join!(
            self.receive(&mut consumer, &mut events, shutdown, to_commit),
            self.commit_in_order(committing, &dead_letters, shutdown),
        );
        if shutdown.is_cancelled() {
            let _ = channel.basic_cancel(tag.as_str().into(), BasicCancelOptions::default()).await;
            // Channels closed before their connection: lapin reports a connection closed under
            // open channels as an error.
            let _ = channel.close(200, "cardspool intake stopping".into()).await;
            let _ = dead_letters.channel().close(200, "cardspool intake stopping".into()).await;
            info!("intake stopped consuming");
        }
        committed.and(received)
    }

    /// Takes deliveries as they come, in batches of what has already arrived, validates each
    /// batch and hands it to the committer, until shutdown or an error of the channel. A batch
    /// holds at most a [`BATCHES_IN_FLIGHT`]th of the prefetch, so that the next ones can arrive
    /// and be validated while it is being committed.
    async fn receive(
        &self,
        consumer: &mut Consumer,
        events: &mut (impl futures_util::Stream<Item = Event> + Unpin),
        shutdown: &CancellationToken,
        to_commit: mpsc::Sender<Validated>,
    ) -> Result<(), IntakeError> {
        let batch_limit = usize::from(self.amqp.prefetch).div_ceil(BATCHES_IN_FLIGHT).max(1);
        loop {
            // Only the wait for the next delivery is raced against shutdown; deliveries in
            // hand are handled to their ack first (the committer drains what it was given).
            let delivery = tokio::select! {
                biased;
                () = shutdown.cancelled() => return Ok(()),
                // The committer stopped on an error of its own (which it reports): the session
                // ends now, not at the next delivery.
                () = to_commit.closed() => return Ok(()),
                event = events.next() => match event {
                    Some(Event::Error(error)) => return Err(AmqpError::Channel(error).into()),
                    Some(other) => { debug!(event = ?other, "connection event"); continue; }
                    None => return Err(AmqpError::ConsumerEnded.into()),
                },
                delivery = consumer.next() => match delivery {
                    Some(Ok(delivery)) => delivery,
                    Some(Err(error)) => return Err(AmqpError::Channel(error).into()),
                    None => return Err(AmqpError::ConsumerEnded.into()),
                },
            };
            // Whatever else has already arrived joins this batch: one journal transaction (one
            // disk flush) for all of it. Never waits for more, so a lone event is not delayed.
            let mut batch = vec![delivery];
            let mut stream_error = None;
            while batch.len() < batch_limit {
                match consumer.next().now_or_never() {
                    Some(Some(Ok(delivery))) => batch.push(delivery),
                    Some(Some(Err(error))) => {
                        stream_error = Some(AmqpError::Channel(error));
                        break;
                    }
                    Some(None) => {
                        stream_error = Some(AmqpError::ConsumerEnded);
                        break;
                    }
                    None => break,
                }
            }
            let validated = self.validate(batch).await;
            if to_commit.send(validated).await.is_err() {
                // The committer stopped on an error of its own, which it reports.
                return Ok(());
            }
            if let Some(error) = stream_error {
                return Err(error.into());
            }
        }
    }

    /// Validates a batch's deliveries in parallel, off the async threads (image decoding is CPU
    /// work).
    async fn validate(&self, batch: Vec<Delivery>) -> Validated {
        // One blocking task per core: more would only add threads, each with its own allocator
        // arena holding decoded images (the spooler's memory grew with the backlog), and a task
        // per event costs a thread wake-up per event. The tasks take the batch's deliveries one
        // at a time from a shared queue rather than a fixed share each: the cores also run the
        // journal's and the broker's threads, and a task that lost its core to them left the
        // other waiting at the end of the batch with a fixed share (docs/performance.md).
        let cores = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
        let workers = cores.min(batch.len());
        let queue = Arc::new(std::sync::Mutex::new(batch.into_iter().enumerate()));
        let mut tasks = Vec::with_capacity(workers);
        for _ in 0..workers {
            let queue = queue.clone();
            let limits = self.limits;
            let max_bytes = self.max_event_bytes;
            tasks.push(tokio::task::spawn_blocking(move || {
                let mut checked = Vec::new();
                loop {
                    // The lock is held only to take the next delivery; a poisoned one cannot
                    // happen (nothing panics while holding it) and would still hold the queue.
                    let next = queue.lock().unwrap_or_else(std::sync::PoisonError::into_inner).next();
                    let Some((index, delivery)) = next else { break };
                    checked.push((index, check_delivery(delivery, &limits, max_bytes)));
                }
                checked
            }));
        }
        let mut parsed = Vec::new();
        for task in tasks {
            // `check_delivery` catches the validation's panics; nothing else in the task can panic.
            parsed.extend(task.await.expect("the validation task returns its deliveries"));
        }
        // In the order they arrived, as before the tasks shared them out.
        parsed.sort_unstable_by_key(|(index, _)| *index);
        let mut validated = Validated { valid: Vec::new(), invalid: Vec::new() };
        for (_, (delivery, parsed)) in parsed {
            match parsed {
                Ok(event) => {
                    let template = event.template.clone().unwrap_or_else(|| self.default_template.clone());
                    validated.valid.push((delivery, event, template));
                }
                Err(error) => validated.invalid.push((delivery, error)),
            }
        }
        validated
    }

    /// Commits validated batches in the order they were received, each to its ack, until the
    /// receiver stops and every batch it handed over is done.
    async fn commit_in_order(
        &self,
        mut committing: mpsc::Receiver<Validated>,
        dead_letters: &ConfirmedPublisher,
        shutdown: &CancellationToken,
    ) -> Result<(), IntakeError> {
        // Admissions in flight, oldest first. The next batch is handed to the journal's writer
        // while the last one is committed, logged and acked: with one at a time the writer
        // idled through every ack and its log lines, and the committer was the limit
        // (docs/performance.md). The writer commits them in the order handed over, and they
        // are acked in that order.
        let mut admitting = futures_util::stream::FuturesOrdered::new();
        let mut receiving = true;
        loop {
            tokio::select! {
                biased;
                Some(admitted) = admitting.next(), if !admitting.is_empty() => {
                    let Some((batch, admissions)) = admitted else { return Ok(()) };
                    self.settle(batch, admissions, dead_letters, shutdown).await?;
                }
                next = committing.recv(), if receiving && admitting.len() < ADMISSIONS_IN_FLIGHT => {
                    let Some(mut batch) = next else {
                        receiving = false;
                        continue;
                    };
                    // Batches validated while the last admission was being made go in this one
                    // together: the longer a commit takes, the more events share the next flush.
                    while let Ok(Validated { valid, invalid }) = committing.try_recv() {
                        batch.valid.extend(valid);
                        batch.invalid.extend(invalid);
                    }
                    admitting.push_back(self.admit(batch, shutdown));
                }
                else => return Ok(()),
            }
        }
    }

    /// Admits a batch's valid events in one transaction. `None` when shutting down with the
    /// journal unreachable: the batch is left unacked, and the broker gives it back when the
    /// channel closes.
    async fn admit(&self, batch: Validated, shutdown: &CancellationToken) -> Option<(Validated, Vec<Admission>)> {
        if batch.valid.is_empty() {
            return Some((batch, Vec::new()));
        }
        let jobs: Vec<NewJob<'_>> = batch
            .valid
            .iter()
            .map(|(delivery, event, template)| NewJob { event, payload: &delivery.data, template })
            .collect();
        let admissions =
            self.retry_journal("admit events", shutdown, || self.journal.admit_all(&jobs, self.clock.now())).await?;
        drop(jobs);
        Some((batch, admissions))
    }

    /// After a batch's admission: says what became of each event, dead-letters the bad ones,
    /// then acks them all.
    async fn settle(
        &self,
        batch: Validated,
        admissions: Vec<Admission>,
        dead_letters: &ConfirmedPublisher,
        shutdown: &CancellationToken,
    ) -> Result<(), IntakeError> {
        let Validated { valid, invalid } = batch;
        for ((delivery, event, template), admission) in valid.iter().zip(admissions) {
            let _span = info_span!("intake", event_id = %event.event_id, job_id = %admission.job_id()).entered();
            match admission {
                Admission::Admitted(job_id) => {
                    self.stats.admitted.fetch_add(1, Ordering::Relaxed);
                    info!(%job_id, nik = %event.nik, template = %template, warnings = event.warnings.len(), redelivered = delivery.redelivered, "job received");
                    for warning in &event.warnings {
                        warn!(%job_id, warning = %warning, "event accepted with a warning");
                    }
                }
                Admission::Duplicate(job_id) => {
                    self.stats.duplicates.fetch_add(1, Ordering::Relaxed);
                    info!(%job_id, redelivered = delivery.redelivered, "duplicate event: already journaled, acking without a second job");
                }
            }
        }
        for (delivery, error) in &invalid {
            // An oversize event is not parsed at all, not even for its id.
            let event_id = if matches!(error, EventError::TooLarge { .. }) {
                String::new()
            } else {
                event::peek_event_id(&delivery.data).unwrap_or_default()
            };
            self.reject(delivery, &event_id, error, dead_letters, shutdown)
                .instrument(info_span!("intake", event_id = %event_id))
                .await?;
        }
        // Every delivery of the batch is now committed or dead-lettered, and every earlier
        // batch was acked before this one: one `multiple` ack of the newest delivery acks
        // exactly this batch.
        let newest = valid.iter().map(|(delivery, ..)| delivery).chain(invalid.iter().map(|(delivery, _)| delivery));
        if let Some(newest) = newest.max_by_key(|delivery| delivery.delivery_tag) {
            self.ack(newest, valid.len() + invalid.len()).await;
        }
        Ok(())
    }

    async fn reject(
        &self,
        delivery: &Delivery,
        event_id: &str,
        error: &EventError,
        dead_letters: &ConfirmedPublisher,
        shutdown: &CancellationToken,
    ) -> Result<(), IntakeError> {
        let reason = redact_niks(&error.to_string()).into_owned();
        let mut headers = delivery.properties.headers().clone().unwrap_or_default();
        headers.insert(ShortString::from(REJECTION_HEADER), AMQPValue::LongString(reason.as_str().into()));
        headers.insert(
            ShortString::from("x-cardspool-routing-key"),
            AMQPValue::LongString(delivery.routing_key.as_str().into()),
        );
        // The copy with its reason is confirmed before the original is acked: if we crash in
        // between, the event comes back and is rejected again (at least once, never lost).
        dead_letters
            .publish(&Publication {
                exchange: self.amqp.dead_letter_exchange.clone(),
                routing_key: delivery.routing_key.to_string(),
                body: delivery.data.clone(),
                message_id: delivery.properties.message_id().as_ref().map(ToString::to_string),
                headers,
                mandatory: true,
            })
            .await?;
        let rejection = NewRejection {
            payload: &delivery.data,
            event_id: (!event_id.is_empty()).then(|| event_id.to_owned()),
            routing_key: delivery.routing_key.to_string(),
            reason: reason.clone(),
        };
        let recorded = self
            .retry_journal("record rejection", shutdown, || self.journal.record_rejection(&rejection, self.clock.now()))
            .await;
        self.stats.rejected.fetch_add(1, Ordering::Relaxed);
        // The reasons name fields and rules, never values: safe to log.
        warn!(reason = %reason, bytes = delivery.data.len(), recorded = recorded.is_some(), "event rejected to the dead-letter queue");
        Ok(())
    }

    /// Acks `newest` and every delivery before it on the channel (`deliveries` of them).
    async fn ack(&self, newest: &Delivery, deliveries: usize) {
        // Ok(false), an error or no answer: the connection went away after our commit. The
        // broker redelivers, and the event id makes the redelivery a no-op.
        let acked = tokio::time::timeout(
            amqp::CALL_ON_CLOSING_CONNECTION_TIMEOUT,
            newest.acker.ack(BasicAckOptions { multiple: true }),
        )
        .await;
        if !matches!(acked, Ok(Ok(true))) {
            self.stats.acks_lost.fetch_add(deliveries as u64, Ordering::Relaxed);
            warn!("ack not delivered (connection lost); the event will be redelivered and deduplicated");
        }
    }

    /// Retries a journal write while it fails for a retryable reason, until it succeeds or the
    /// spooler shuts down (`None`). The delivery stays unacked meanwhile.
    async fn retry_journal<T, F, Fut>(&self, what: &str, shutdown: &CancellationToken, mut attempt: F) -> Option<T>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T, JournalError>>,
    {
        let mut backoff = amqp::reconnect_backoff(&self.amqp);
        loop {
            match attempt().await {
                Ok(value) => return Some(value),
                Err(error) => {
                    let pause = backoff.next().unwrap_or(Duration::from_secs(30));
                    if error.is_retryable() {
                        warn!(error = %error, retry_in_ms = pause.as_millis() as u64, "journal write failed ({what}); retrying");
                    } else {
                        error!(error = %error, "journal write failed ({what}) for a reason retrying will not fix; retrying anyway so nothing is lost");
                    }
                    tokio::select! {
                        () = shutdown.cancelled() => return None,
                        () = tokio::time::sleep(pause) => {}
                    }
                }
            }
        }
    }
}

/// Checks one delivery as an event. A panic in a decoder must not take the delivery with it (a
/// later `multiple` ack would then ack it unseen): it is set aside as a failed check instead.
fn check_delivery(
    delivery: Delivery,
    limits: &ImageLimits,
    max_bytes: usize,
) -> (Delivery, Result<EnrollmentEvent, EventError>) {
    let bytes = delivery.data.len();
    let parsed = if bytes > max_bytes {
        Err(EventError::TooLarge { bytes, limit: max_bytes })
    } else {
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            crate::telemetry::panic_if_asked("validation", &delivery.data);
            event::parse_event(&delivery.data, limits)
        }))
        .unwrap_or_else(|panic| {
            let what = crate::telemetry::panic_message(panic.as_ref());
            error!(panic = %what, "checking an event panicked; it is dead-lettered with the reason");
            Err(EventError::CheckFailed(what))
        })
    };
    (delivery, parsed)
}
