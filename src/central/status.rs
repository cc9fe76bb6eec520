//! Central's state, kept in one place and offered to the rest of the spooler.
//!
//! The authorize worker is the only writer; the API, the dashboard and status events read a
//! [`CentralStatus`] snapshot or subscribe to changes. Staff's one action on central, "check
//! now", goes through here too ([`CentralMonitor::probe_now`]).

use crate::domain::office_time::OfficeZone;
use crate::i18n::Lang;
use crate::tr;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

use chrono::{DateTime, Utc};
use serde::Serialize;
use tokio::sync::{watch, Notify};

use super::breaker::{Breaker, CentralState, Gate, Phase, Verdict};

/// What staff see of central.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CentralStatus {
    /// Where central is (its URL).
    pub central: String,
    pub state: CentralState,
    /// Since when `state` holds.
    pub since: DateTime<Utc>,
    pub breaker: Phase,
    pub consecutive_failures: u32,
    pub last_error: Option<String>,
    pub last_error_at: Option<DateTime<Utc>>,
    pub last_success_at: Option<DateTime<Utc>>,
    /// When the breaker lets the next probe through (open, or credentials refused).
    pub next_probe_at: Option<DateTime<Utc>>,
    /// Central's `Retry-After`: nothing is asked before then.
    pub paused_until: Option<DateTime<Utc>>,
    /// Needs staff: refused credentials, or answers that do not verify with the configured key.
    pub alert: Option<String>,
    /// Jobs received or waiting for authorization.
    pub jobs_waiting: u64,
    /// When the oldest of them arrived.
    pub oldest_waiting_since: Option<DateTime<Utc>>,
    /// One sentence for a dashboard banner or a CLI line.
    pub summary: String,
}

struct Shared {
    breaker: Breaker,
    jobs_waiting: u64,
    oldest_waiting_since: Option<DateTime<Utc>>,
    /// The zone staff read the summary's times in.
    zone: OfficeZone,
}

struct Inner {
    central: String,
    // A std mutex: held for a few field updates, never across an await.
    shared: Mutex<Shared>,
    status: watch::Sender<CentralStatus>,
    wake: Notify,
    /// Central's answers to this process, by kind (`Outcome::kind`), for `/metrics`.
    answers: Mutex<BTreeMap<&'static str, u64>>,
}

/// The handle on central's state. Cheap to clone; all clones see the same state.
#[derive(Clone)]
pub struct CentralMonitor {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for CentralMonitor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("CentralMonitor").field(&self.snapshot().summary).finish()
    }
}

impl CentralMonitor {
    pub fn new(central: String, breaker: Breaker) -> CentralMonitor {
        let shared = Shared { breaker, jobs_waiting: 0, oldest_waiting_since: None, zone: OfficeZone::default() };
        let status = watch::Sender::new(render(&central, &shared));
        CentralMonitor {
            inner: Arc::new(Inner {
                central,
                shared: Mutex::new(shared),
                status,
                wake: Notify::new(),
                answers: Mutex::new(BTreeMap::new()),
            }),
        }
    }

    /// Writes the summary's times in the office's zone (`01-12-2026 22:36 WIB`).
    pub fn set_office_zone(&self, zone: OfficeZone) {
        let mut shared = self.lock();
        shared.zone = zone;
        self.publish(&shared);
    }

    /// Central's state now.
    pub fn snapshot(&self) -> CentralStatus {
        self.inner.status.borrow().clone()
    }

    /// Every change of central's state, for status events and live dashboards.
    pub fn subscribe(&self) -> watch::Receiver<CentralStatus> {
        self.inner.status.subscribe()
    }

    /// Staff ask for a check of central now (after fixing the office's credentials, say): the
    /// next probe goes at once instead of at its scheduled time. Returns `false` when the
    /// breaker is closed (requests are flowing anyway).
    pub fn probe_now(&self, now: DateTime<Utc>) -> bool {
        let changed = self.update(|breaker| breaker.probe_now(now));
        if changed {
            self.inner.wake.notify_one();
        }
        changed
    }

    /// The breaker as it stands (to persist it).
    pub fn breaker(&self) -> Breaker {
        self.lock().breaker.clone()
    }

    pub fn gate(&self, now: DateTime<Utc>) -> Gate {
        self.lock().breaker.gate(now)
    }

    pub fn begin_probe(&self, now: DateTime<Utc>) -> bool {
        self.update(|breaker| breaker.begin_probe(now))
    }

    /// Takes the breaker another instance sharing the journal saved (it probed central
    /// meanwhile), keeping what only this process knows (a probe of its own in flight).
    pub fn adopt(&self, mut saved: Breaker, now: DateTime<Utc>) {
        self.update(|breaker| {
            saved.probe_in_flight = breaker.probe_in_flight;
            saved.refresh_state(now);
            *breaker = saved;
        });
    }

    pub fn abandon_probe(&self) {
        self.update(Breaker::abandon_probe);
    }

    /// Takes in one exchange's verdict; returns whether the breaker should be persisted.
    pub fn record(&self, verdict: &Verdict, was_probe: bool, now: DateTime<Utc>) -> bool {
        self.update(|breaker| breaker.record(verdict, was_probe, now))
    }

    /// Counts one answer from central (or one exchange that got none), by its kind.
    pub fn count_answer(&self, kind: &'static str) {
        *self.inner.answers.lock().unwrap_or_else(std::sync::PoisonError::into_inner).entry(kind).or_default() += 1;
    }

    /// Central's answers to this process so far, by kind.
    pub fn answer_counts(&self) -> Vec<(&'static str, u64)> {
        let answers = self.inner.answers.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        answers.iter().map(|(kind, count)| (*kind, *count)).collect()
    }

    /// The backlog's size and age, refreshed by the worker.
    pub fn set_waiting(&self, jobs_waiting: u64, oldest_waiting_since: Option<DateTime<Utc>>, now: DateTime<Utc>) {
        let mut shared = self.lock();
        shared.jobs_waiting = jobs_waiting;
        shared.oldest_waiting_since = oldest_waiting_since;
        shared.breaker.refresh_state(now);
        self.publish(&shared);
    }

    /// The backlog counted by someone else than the worker (the API, so that central's count
    /// agrees with the job lists); leaves the breaker to the worker's clock.
    pub fn set_backlog(&self, jobs_waiting: u64, oldest_waiting_since: Option<DateTime<Utc>>) {
        let mut shared = self.lock();
        shared.jobs_waiting = jobs_waiting;
        shared.oldest_waiting_since = oldest_waiting_since;
        self.publish(&shared);
    }

    /// Completes when staff asked for a check ([`CentralMonitor::probe_now`]).
    pub async fn woken(&self) {
        self.inner.wake.notified().await;
    }

    fn update<T>(&self, change: impl FnOnce(&mut Breaker) -> T) -> T {
        let mut shared = self.lock();
        let result = change(&mut shared.breaker);
        self.publish(&shared);
        result
    }

    fn publish(&self, shared: &Shared) {
        let status = render(&self.inner.central, shared);
        self.inner.status.send_if_modified(|current| {
            if *current == status {
                return false;
            }
            *current = status;
            true
        });
    }

    fn lock(&self) -> MutexGuard<'_, Shared> {
        // A panic while holding this lock leaves plain data behind, still consistent enough to
        // show staff; poisoning would only turn one failure into many.
        self.inner.shared.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

fn render(central: &str, shared: &Shared) -> CentralStatus {
    let breaker = &shared.breaker;
    let time = |at: DateTime<Utc>| shared.zone.format(at);
    // Each addition wraps the sentence so far: the catalogue restates it layer by layer.
    let since = time(breaker.state_since);
    let mut summary = match breaker.state {
        CentralState::Unknown => tr!(Lang::En, "said-central-not-contacted"),
        CentralState::Up => tr!(Lang::En, "said-central-up-since", since = &since),
        CentralState::Degraded => tr!(Lang::En, "said-central-degraded-since", since = &since),
        CentralState::Down => tr!(Lang::En, "said-central-down-since", since = &since),
        CentralState::CredentialsRefused => tr!(Lang::En, "said-central-credentials-since", since = &since),
    };
    if breaker.state != CentralState::Up {
        if let Some(error) = &breaker.last_error {
            summary = tr!(Lang::En, "said-central-last-error", situation = summary, error = error);
        }
    }
    if let (Some(at), Phase::Open | Phase::CredentialsRefused) = (breaker.next_probe_at, breaker.phase) {
        summary = tr!(Lang::En, "said-central-next-check", situation = summary, at = time(at));
    }
    if shared.jobs_waiting > 0 {
        summary = tr!(Lang::En, "said-central-cards-waiting", situation = summary, count = shared.jobs_waiting);
        if let Some(oldest) = shared.oldest_waiting_since {
            summary = tr!(Lang::En, "said-central-oldest", situation = summary, since = time(oldest));
        }
    }
    CentralStatus {
        central: central.to_owned(),
        state: breaker.state,
        since: breaker.state_since,
        breaker: breaker.phase,
        consecutive_failures: breaker.consecutive_failures,
        last_error: breaker.last_error.clone(),
        last_error_at: breaker.last_error_at,
        last_success_at: breaker.last_success_at,
        next_probe_at: breaker.next_probe_at,
        paused_until: breaker.paused_until,
        alert: breaker.alert.clone(),
        jobs_waiting: shared.jobs_waiting,
        oldest_waiting_since: shared.oldest_waiting_since,
        summary,
    }
}
