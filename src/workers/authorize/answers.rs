//! Asking central for one job and journaling what its answer means: authorized, rejected, or
//! back to waiting with its next attempt (full-jitter backoff or central's `Retry-After`); the
//! request id that makes retries idempotent.

use crate::i18n::Lang;
use crate::tr;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use rand::Rng as _;
use sha2::{Digest, Sha256};
use tokio::sync::OwnedSemaphorePermit;
use tracing::{debug, info, info_span, warn, Instrument};

use crate::central::{AuthorizationRequest, CentralState, Outcome, Phase, Verdict};
use crate::domain::job::{JobId, JobState};
use crate::journal::{CardForCentral, JobRecord, JobUpdate, JournalError, Step, StoredAuthorization};

use super::Shared;

impl Shared {
    /// One request for one job, and its outcome journaled.
    pub(super) async fn attempt(
        self: Arc<Self>,
        job: JobRecord,
        card: Option<CardForCentral>,
        probe: bool,
        _permit: OwnedSemaphorePermit,
    ) -> JobId {
        let job_id = job.id;
        let span = info_span!("authorize", %job_id, probe, attempt = job.attempts + 1);
        async move {
            let request = match self.request_for(&job, card).await {
                Ok(request) => request,
                Err(error) => {
                    if probe {
                        self.monitor.abandon_probe();
                    }
                    self.unreadable(&job, &error).await;
                    return;
                }
            };
            let outcome = self.client.authorize(&request, self.clock.now()).await;
            let now = self.clock.now();
            self.monitor.count_answer(outcome.kind());
            if self.monitor.record(&Verdict::of(&outcome), probe, now) {
                self.persist_breaker(now).await;
            }
            match &outcome {
                Outcome::Authorized(_) | Outcome::Pending { .. } => {
                    debug!(outcome = outcome.kind(), "central answered");
                }
                Outcome::Denied { .. } => info!(reason = %outcome.reason(), "central denied the print"),
                _ => info!(outcome = outcome.kind(), reason = %outcome.reason(), "no authorization"),
            }
            self.apply(&job, &outcome, now).await;
        }
        .instrument(span)
        .await;
        job_id
    }

    /// Central's request for `job`, with its card as read with its batch, or read now.
    pub(super) async fn request_for(
        &self,
        job: &JobRecord,
        card: Option<CardForCentral>,
    ) -> Result<AuthorizationRequest, RequestProblem> {
        let card = match card {
            Some(card) => Some(card),
            None => self.io(self.journal.card_for_central(job.id)).await.map_err(RequestProblem::Journal)?,
        };
        let card =
            card.ok_or_else(|| RequestProblem::Unreadable("the journal holds no NIK or card digest for it".into()))?;
        Ok(AuthorizationRequest {
            request_id: request_id(job),
            nik: card.nik,
            enrollment_id: job.event_id.clone(),
            office: self.config.office.clone(),
            card_digest: card.card_digest,
        })
    }

    pub(super) async fn unreadable(&self, job: &JobRecord, problem: &RequestProblem) {
        match problem {
            // The journal will be back; the job stays due and is asked for then.
            RequestProblem::Journal(error) => warn!(%error, "cannot read the job's event"),
            RequestProblem::Unreadable(detail) => {
                let reason = tr!(Lang::En, "said-event-unreadable-for-central", detail = detail);
                let step = Step::system(job.state, JobState::Failed, reason, self.clock.now());
                if let Err(error) = self.io(self.journal.transition(job.id, &step)).await {
                    warn!(%error, "cannot record the failure");
                }
            }
        }
    }

    /// Journals what central's answer means for the job.
    pub(super) async fn apply(&self, job: &JobRecord, outcome: &Outcome, now: DateTime<Utc>) {
        let attempts = job.attempts + 1;
        let retry_at = |delay: Duration| crate::central::breaker::after(now, delay);
        let waiting = |next: Option<DateTime<Utc>>| JobUpdate {
            attempts: Some(attempts),
            next_attempt_at: next.map(Some),
            ..JobUpdate::default()
        };
        // While the breaker is open the job's own backoff means nothing (it waits for the
        // breaker): it is due again at the next probe, so that it drains at once when central
        // is back instead of sitting out a backoff earned by central's outage.
        let breaker = self.monitor.snapshot();
        let backoff = match (breaker.breaker, breaker.next_probe_at) {
            (Phase::Open | Phase::CredentialsRefused, Some(next_probe)) => next_probe,
            _ => retry_at(self.backoff(job.attempts)),
        };
        let (to, reason, update) = match outcome {
            Outcome::Authorized(verified) => (
                JobState::Authorized,
                outcome.reason(),
                JobUpdate {
                    attempts: Some(attempts),
                    next_attempt_at: Some(None),
                    authorization: Some(Some(StoredAuthorization {
                        json: verified.to_json(),
                        id: verified.authorization.authorization_id.clone(),
                        expires_at: verified.expires_at,
                    })),
                    ..JobUpdate::default()
                },
            ),
            Outcome::Denied { .. } => (
                JobState::Rejected,
                outcome.reason(),
                JobUpdate { attempts: Some(attempts), next_attempt_at: Some(None), ..JobUpdate::default() },
            ),
            Outcome::Expired { .. } => (
                JobState::AwaitingAuthorization,
                self.waiting_reason(outcome, backoff),
                // The next request is a new one: asking under this id again replays this answer.
                JobUpdate { new_authorization_round: true, ..waiting(Some(backoff)) },
            ),
            Outcome::Pending { retry_after } | Outcome::RateLimited { retry_after } => {
                let at = retry_at(*retry_after);
                (JobState::AwaitingAuthorization, self.waiting_reason(outcome, at), waiting(Some(at)))
            }
            Outcome::Unavailable { retry_after, .. } => {
                let at = backoff.max(retry_at(retry_after.unwrap_or_default()));
                (JobState::AwaitingAuthorization, self.waiting_reason(outcome, at), waiting(Some(at)))
            }
            Outcome::Malformed { .. } => {
                (JobState::AwaitingAuthorization, self.waiting_reason(outcome, backoff), waiting(Some(backoff)))
            }
            // Held with everything else: no next attempt of its own, the breaker decides.
            Outcome::BadCredentials { .. } => (JobState::AwaitingAuthorization, outcome.reason(), waiting(None)),
        };
        let step = Step::system(job.state, to, reason, now).with(update);
        match self.io(self.journal.transition(job.id, &step)).await {
            Ok(()) => {}
            Err(JournalError::Conflict { actual, .. }) => {
                info!(now_in = %actual, outcome = outcome.kind(), "the job was moved meanwhile; central's answer is not applied");
            }
            // Not journaled: the job stays due and asks again under the same request id, and
            // central replays the same answer.
            Err(error) => warn!(%error, outcome = outcome.kind(), "cannot journal central's answer"),
        }
    }

    pub(super) fn waiting_reason(&self, outcome: &Outcome, next: DateTime<Utc>) -> String {
        let status = self.monitor.snapshot();
        match (status.state, status.next_probe_at) {
            (CentralState::Down, Some(probe)) => tr!(
                Lang::En,
                "said-waiting-central-down",
                why = outcome.reason(),
                since = status.since.format("%Y-%m-%d %H:%M UTC").to_string(),
                at = probe.format("%Y-%m-%d %H:%M:%S UTC").to_string()
            ),
            _ => tr!(
                Lang::En,
                "said-asking-again",
                why = outcome.reason(),
                at = next.format("%Y-%m-%d %H:%M:%S UTC").to_string()
            ),
        }
    }

    /// Full jitter: uniform in `[0, min(cap, base * 2^attempts)]`.
    pub(super) fn backoff(&self, attempts: i64) -> Duration {
        let exponent = u32::try_from(attempts.clamp(0, 30)).unwrap_or(30);
        let ceiling = self.config.backoff_base_ms.saturating_mul(1 << exponent).min(self.config.backoff_cap_ms);
        Duration::from_millis(rand::thread_rng().gen_range(0..=ceiling))
    }
}

pub(super) enum RequestProblem {
    Journal(JournalError),
    Unreadable(String),
}

/// Stable across retries of one request (central answers a retry with the same answer), new
/// for each round of asking: a reprint, a retry by staff or an expired authorization asks for a
/// new authorization, never a replay of an earlier one.
pub(super) fn request_id(job: &JobRecord) -> String {
    let digest = Sha256::digest(format!("cardspool/{}/{}", job.id, job.authorization_round).as_bytes());
    hex::encode(&digest[..16])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(round: i64) -> JobRecord {
        JobRecord {
            id: "01936b8e-8f3a-7c00-8000-000000000001".parse().unwrap(),
            attempts: 3,
            authorization_round: round,
            ..JobRecord::example(JobState::AwaitingAuthorization)
        }
    }

    #[test]
    fn request_ids_are_stable_within_a_round_and_new_for_each() {
        let first = request_id(&job(0));
        assert_eq!(first, request_id(&job(0)), "retries reuse the id");
        let second = request_id(&job(1));
        assert_ne!(first, second, "a new round of asking is a new request");
        assert_eq!(second, request_id(&job(1)));
    }
}
