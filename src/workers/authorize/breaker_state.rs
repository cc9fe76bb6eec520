//! Central's breaker kept in the journal: saved whenever it changes (a restart keeps its
//! caution), and shared by the instances on one journal (one probe between them, a recovery
//! seen by one adopted by all).

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use tracing::{debug, info, warn};

use crate::central::{Breaker, BreakerPolicy, CentralState, Phase};
use crate::config::CentralConfig;
use crate::journal::{CentralBreakerRow, JournalError};

use super::Shared;

impl Shared {
    /// Instances sharing the journal send one probe between them: this one probes only if it
    /// takes the probe in the journal; otherwise it adopts the breaker the journal holds (another
    /// instance probed, or found central back). Without a saved breaker (nothing failed in a
    /// way worth saving yet) it probes on its own say.
    pub(super) async fn claim_probe(&self) -> Result<bool, JournalError> {
        let now = self.clock.now();
        let breaker = self.monitor.breaker();
        let interval = match breaker.phase {
            Phase::CredentialsRefused => breaker.policy.credentials_probe_interval,
            _ => breaker.policy.probe_interval,
        };
        let next = now + chrono::Duration::from_std(interval).unwrap_or(chrono::TimeDelta::MAX);
        if self.io(self.journal.claim_central_probe(now, next, breaker.probe_requested)).await? {
            return Ok(true);
        }
        let Some(row) = self.io(self.journal.central_breaker()).await? else { return Ok(true) };
        // The saved probe time as it stands: a changed configuration is a restart's business.
        let saved = restore(&row, breaker.policy, &row.config_fingerprint, now);
        debug!(phase = saved.phase.as_str(), next_probe_at = ?saved.next_probe_at, "another instance probes central");
        self.monitor.adopt(saved, now);
        Ok(false)
    }

    /// While this instance's breaker is open, another instance sharing the journal may have
    /// found central back (its probe answered): the saved breaker says so, and this one closes
    /// too rather than wait for a probe of its own.
    pub(super) async fn adopt_recovery(&self, now: DateTime<Utc>) -> Result<(), JournalError> {
        let breaker = self.monitor.breaker();
        if breaker.phase == Phase::Closed || breaker.probe_in_flight {
            return Ok(());
        }
        let Some(row) = self.io(self.journal.central_breaker()).await? else { return Ok(()) };
        if Phase::parse(&row.phase) == Some(Phase::Closed) {
            info!("another instance found central answering again");
            let saved = restore(&row, breaker.policy, &row.config_fingerprint, now);
            self.monitor.adopt(saved, now);
        }
        Ok(())
    }

    pub(super) async fn persist_breaker(&self, now: DateTime<Utc>) {
        let _one_at_a_time = self.persist.lock().await;
        let row = to_row(&self.monitor.breaker(), &self.fingerprint);
        if let Err(error) = self.io(self.journal.save_central_breaker(&row, now)).await {
            warn!(%error, "cannot save central's breaker; it is kept in memory");
        }
    }
}

/// Names the `[central]` configuration the breaker was saved under: after a restart with a
/// changed one (the fix for refused credentials, say) a held breaker probes at once.
pub(super) fn fingerprint(config: &CentralConfig) -> String {
    let digest = Sha256::digest(format!("{}\n{}\n{}", config.url, config.office, config.public_key).as_bytes());
    hex::encode(&digest[..8])
}

pub(super) fn to_row(breaker: &Breaker, fingerprint: &str) -> CentralBreakerRow {
    CentralBreakerRow {
        phase: breaker.phase.as_str().to_owned(),
        state: breaker.state.as_str().to_owned(),
        state_since: breaker.state_since,
        consecutive_failures: i64::from(breaker.consecutive_failures),
        next_probe_at: breaker.next_probe_at,
        paused_until: breaker.paused_until,
        last_error: breaker.last_error.clone(),
        last_error_at: breaker.last_error_at,
        last_success_at: breaker.last_success_at,
        alert: breaker.alert.clone(),
        config_fingerprint: fingerprint.to_owned(),
    }
}

pub(super) fn restore(
    row: &CentralBreakerRow,
    policy: BreakerPolicy,
    fingerprint: &str,
    now: DateTime<Utc>,
) -> Breaker {
    let mut breaker = Breaker::new(policy, now);
    let Some(phase) = Phase::parse(&row.phase) else {
        // Unreadable: be cautious, one probe and then whatever central says.
        warn!(phase = %row.phase, "central's saved breaker is unreadable; probing before anything else");
        breaker.phase = Phase::Open;
        breaker.next_probe_at = Some(now);
        breaker.probe_requested = true;
        breaker.refresh_state(now);
        return breaker;
    };
    breaker.phase = phase;
    breaker.state = CentralState::parse(&row.state).unwrap_or(CentralState::Unknown);
    breaker.state_since = row.state_since;
    breaker.consecutive_failures = u32::try_from(row.consecutive_failures).unwrap_or(u32::MAX);
    breaker.next_probe_at = row.next_probe_at;
    breaker.paused_until = row.paused_until;
    breaker.last_error.clone_from(&row.last_error);
    breaker.last_error_at = row.last_error_at;
    breaker.last_success_at = row.last_success_at;
    breaker.alert.clone_from(&row.alert);
    if phase != Phase::Closed && breaker.next_probe_at.is_none() {
        breaker.next_probe_at = Some(now);
    }
    if phase == Phase::CredentialsRefused && row.config_fingerprint != fingerprint {
        info!("[central] configuration changed since central refused the credentials: checking at once");
        breaker.next_probe_at = Some(now);
        // At once even if other instances (on the old configuration) scheduled it later.
        breaker.probe_requested = true;
    }
    breaker
}
