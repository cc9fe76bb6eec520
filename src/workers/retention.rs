//! The retention loop: once an hour (and at start), the payloads of jobs that ended more than
//! `[journal] payload_retention_days` ago are purged, and status events published more than
//! `[journal] outbox_retention_days` ago deleted (`journal/retention.rs` says what stays).

use std::time::Duration;

use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use crate::clock::Clock;
use crate::config::JournalConfig;
use crate::journal::{Journal, JournalError};

/// How often the journal is looked at for what may be forgotten.
const EVERY: Duration = Duration::from_secs(3600);
/// Payloads purged per transaction.
const BATCH: u32 = 200;

pub struct Retention {
    journal: Journal,
    clock: Clock,
    payloads: Option<chrono::Duration>,
    outbox: Option<chrono::Duration>,
}

impl Retention {
    pub fn new(config: &JournalConfig, journal: Journal, clock: Clock) -> Retention {
        let days = |days: u32| (days > 0).then(|| chrono::Duration::days(i64::from(days)));
        Retention {
            journal,
            clock,
            payloads: days(config.payload_retention_days),
            outbox: days(config.outbox_retention_days),
        }
    }

    /// Runs until `shutdown`: a pass at start, then one every hour.
    pub async fn run(self, shutdown: CancellationToken) {
        if self.payloads.is_none() && self.outbox.is_none() {
            // Nothing to purge, but a part ends only when asked: the spooler watches for that.
            shutdown.cancelled().await;
            return;
        }
        let mut every = tokio::time::interval(EVERY);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                () = shutdown.cancelled() => return,
                _ = every.tick() => {}
            }
            if let Err(error) = self.pass(&shutdown).await {
                // The next pass tries again; nothing is half-purged (one transaction a batch).
                warn!(%error, "retention pass failed");
            }
        }
    }

    /// One pass: every payload and status event past its retention, a batch at a time.
    /// How many payloads and status events it removed.
    ///
    /// # Errors
    /// The journal's, when it cannot be read or written.
    pub async fn pass(&self, shutdown: &CancellationToken) -> Result<(usize, u64), JournalError> {
        let now = self.clock.now();
        let mut payloads = 0;
        if let Some(retention) = self.payloads {
            loop {
                let purged = self.journal.purge_ended_payloads(now - retention, now, BATCH).await?;
                payloads += purged;
                if purged < BATCH as usize || shutdown.is_cancelled() {
                    break;
                }
            }
        }
        let outbox = match self.outbox {
            Some(retention) => self.journal.purge_published_outbox(now - retention).await?,
            None => 0,
        };
        if payloads > 0 || outbox > 0 {
            info!(
                payloads,
                status_events = outbox,
                "retention: payloads of ended jobs purged, published status events deleted"
            );
        }
        Ok((payloads, outbox))
    }
}
