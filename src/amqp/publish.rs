//! Publishing with publisher confirms: a message counts as sent only once the broker confirmed
//! it *and* a queue took it (`mandatory`; an unroutable message comes back as
//! `Confirmation::Ack(Some(returned))`, not as a failure, so that case is checked here).

use lapin::options::{BasicPublishOptions, ConfirmSelectOptions};
use lapin::types::FieldTable;
use lapin::{BasicProperties, Channel, Confirmation, Connection, PublisherConfirm};

use super::AmqpError;

#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error("no queue is bound to take routing key {routing_key:?} on exchange {exchange:?}")]
    NotRouted { exchange: String, routing_key: String },
    #[error("the broker refused the message (nack)")]
    Nacked,
    #[error(transparent)]
    Amqp(#[from] AmqpError),
}

impl PublishError {
    /// An unroutable message stays unroutable until someone fixes the bindings; a nack or a
    /// channel failure may pass on another try.
    pub fn is_retryable(&self) -> bool {
        !matches!(self, PublishError::NotRouted { .. })
    }
}

impl From<lapin::Error> for PublishError {
    fn from(error: lapin::Error) -> Self {
        PublishError::Amqp(AmqpError::Channel(error))
    }
}

/// One message to publish.
#[derive(Debug, Clone)]
pub struct Publication {
    pub exchange: String,
    pub routing_key: String,
    pub body: Vec<u8>,
    pub message_id: Option<String>,
    pub headers: FieldTable,
    /// Whether a message no queue takes is a failure ([`PublishError::NotRouted`]). Events for
    /// the spooler are; status events nobody subscribed to yet are not.
    pub mandatory: bool,
}

impl Publication {
    fn properties(&self) -> BasicProperties {
        let mut properties = BasicProperties::default()
            .with_content_type("application/json".into())
            .with_delivery_mode(2)
            .with_headers(self.headers.clone());
        if let Some(id) = &self.message_id {
            properties = properties.with_message_id(id.as_str().into());
        }
        properties
    }
}

/// A channel in confirm mode.
#[derive(Debug, Clone)]
pub struct ConfirmedPublisher {
    channel: Channel,
}

impl ConfirmedPublisher {
    /// Opens a channel on `connection` and puts it in confirm mode.
    ///
    /// # Errors
    /// [`AmqpError::Channel`] when the channel cannot be opened.
    pub async fn open(connection: &Connection) -> Result<ConfirmedPublisher, AmqpError> {
        let channel = connection.create_channel().await?;
        channel.confirm_select(ConfirmSelectOptions::default()).await?;
        Ok(ConfirmedPublisher { channel })
    }

    pub fn channel(&self) -> &Channel {
        &self.channel
    }

    async fn send(&self, publication: &Publication) -> Result<PublisherConfirm, PublishError> {
        Ok(self
            .channel
            .basic_publish(
                publication.exchange.as_str().into(),
                publication.routing_key.as_str().into(),
                BasicPublishOptions { mandatory: publication.mandatory, ..BasicPublishOptions::default() },
                &publication.body,
                publication.properties(),
            )
            .await?)
    }

    /// Publishes one message and waits for its confirm.
    ///
    /// # Errors
    /// [`PublishError::NotRouted`] when no queue took it, [`PublishError::Nacked`] when the
    /// broker refused it, [`PublishError::Amqp`] when the channel failed.
    pub async fn publish(&self, publication: &Publication) -> Result<(), PublishError> {
        let confirm = self.send(publication).await?;
        check(publication, confirm.await?)
    }

    /// Publishes many messages with all their confirms in flight at once, and reports each.
    /// Results are in the order of `publications`.
    ///
    /// # Errors
    /// Each element as for [`ConfirmedPublisher::publish`].
    pub async fn publish_all(&self, publications: &[Publication]) -> Vec<Result<(), PublishError>> {
        let mut pending = Vec::with_capacity(publications.len());
        for publication in publications {
            pending.push(self.send(publication).await);
        }
        let mut results = Vec::with_capacity(publications.len());
        for (publication, sent) in publications.iter().zip(pending) {
            let result = match sent {
                Err(error) => Err(error),
                Ok(confirm) => match confirm.await {
                    Ok(confirmation) => check(publication, confirmation),
                    Err(error) => Err(error.into()),
                },
            };
            results.push(result);
        }
        results
    }
}

fn check(publication: &Publication, confirmation: Confirmation) -> Result<(), PublishError> {
    match confirmation {
        Confirmation::Ack(None) => Ok(()),
        Confirmation::Ack(Some(_returned)) => Err(PublishError::NotRouted {
            exchange: publication.exchange.clone(),
            routing_key: publication.routing_key.clone(),
        }),
        // Confirm mode is always selected before publishing, so NotRequested cannot mean
        // success here: treat it like a nack rather than assume delivery.
        Confirmation::Nack(_) | Confirmation::NotRequested => Err(PublishError::Nacked),
    }
}

/// Connects, declares the topology, publishes and waits for every confirm: what `cardspool
/// publish` and the tests do as an upstream service would.
///
/// # Errors
/// [`AmqpError`] when the broker cannot be reached; per-message failures are in the results.
pub async fn publish_confirmed(
    config: &crate::config::AmqpConfig,
    publications: &[Publication],
) -> Result<Vec<Result<(), PublishError>>, AmqpError> {
    let connection = super::connect(config, "cardspool-publish").await?;
    let publisher = ConfirmedPublisher::open(&connection).await?;
    super::declare_enrollments_exchange(publisher.channel(), config).await?;
    let results = publisher.publish_all(publications).await;
    // Every confirm is in hand: a failed close only means the broker already dropped us.
    super::close_quietly(&connection, "done").await;
    Ok(results)
}
