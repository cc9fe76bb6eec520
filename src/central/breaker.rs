//! The circuit breaker for central, shared by all jobs, and the state staff see.
//!
//! Pure logic over wall-clock times passed in: no I/O, no clock of its own, so the worker, the
//! journal (which persists it) and the tests drive it alike.
//!
//! - **Closed**: requests flow (at the drain rate). Consecutive failures are counted; at the
//!   threshold the breaker opens. A `Retry-After` (429, or 503 with one) pauses all requests
//!   until then.
//! - **Open**: no per-job requests. One probe (a real request for one waiting job) at each
//!   probe interval, later if central's `Retry-After` says so. Any answer showing central is
//!   serving (authorized, pending, denied, rate-limited) closes it.
//! - **CredentialsRefused** (a 401): nothing is asked for; one probe per credentials-probe
//!   interval, or at once when staff ask ([`Breaker::probe_now`]), or after a restart with a
//!   changed `[central]` configuration. An alert stays up until central accepts us again.

use crate::i18n::Lang;
use crate::tr;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::client::Outcome;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BreakerPolicy {
    pub threshold: u32,
    pub probe_interval: Duration,
    pub credentials_probe_interval: Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    Closed,
    Open,
    CredentialsRefused,
}

impl Phase {
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Closed => "closed",
            Phase::Open => "open",
            Phase::CredentialsRefused => "credentials_refused",
        }
    }

    pub fn parse(stored: &str) -> Option<Phase> {
        [Phase::Closed, Phase::Open, Phase::CredentialsRefused].into_iter().find(|p| p.as_str() == stored)
    }
}

/// Central's state as staff see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CentralState {
    /// Not asked anything yet.
    Unknown,
    Up,
    /// Answering, but with recent failures, a rate limit or an alert.
    Degraded,
    /// The breaker is open: central is probed now and then.
    Down,
    /// Central refused this office's credentials (401): everything is held.
    CredentialsRefused,
}

impl CentralState {
    pub fn as_str(self) -> &'static str {
        match self {
            CentralState::Unknown => "unknown",
            CentralState::Up => "up",
            CentralState::Degraded => "degraded",
            CentralState::Down => "down",
            CentralState::CredentialsRefused => "credentials_refused",
        }
    }

    pub fn parse(stored: &str) -> Option<CentralState> {
        [
            CentralState::Unknown,
            CentralState::Up,
            CentralState::Degraded,
            CentralState::Down,
            CentralState::CredentialsRefused,
        ]
        .into_iter()
        .find(|s| s.as_str() == stored)
    }
}

/// What one exchange says about central (not about the job).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Central is serving: authorized, pending, denied.
    Healthy,
    /// Unreachable, a server error, or an unusable answer.
    Failed {
        detail: String,
        retry_after: Option<Duration>,
        alert: Option<String>,
    },
    RateLimited {
        retry_after: Duration,
    },
    CredentialsRefused {
        detail: String,
    },
}

impl Verdict {
    pub fn of(outcome: &Outcome) -> Verdict {
        match outcome {
            Outcome::Authorized(_) | Outcome::Pending { .. } | Outcome::Denied { .. } => Verdict::Healthy,
            // Central answered, but with an authorization no printer may use: if it keeps doing
            // that (clocks out of step), the breaker should slow us down like any failure.
            Outcome::Expired { .. } => Verdict::Failed { detail: outcome.reason(), retry_after: None, alert: None },
            Outcome::Unavailable { detail, retry_after } => {
                Verdict::Failed { detail: detail.clone(), retry_after: *retry_after, alert: None }
            }
            Outcome::Malformed { detail, suspect_key } => Verdict::Failed {
                detail: detail.clone(),
                retry_after: None,
                alert: suspect_key.then(|| {
                    format!(
                        "central's authorizations do not verify with the configured [central] public_key ({detail}); \
                         nothing can print until the key is corrected"
                    )
                }),
            },
            Outcome::RateLimited { retry_after } => Verdict::RateLimited { retry_after: *retry_after },
            Outcome::BadCredentials { detail } => Verdict::CredentialsRefused { detail: detail.clone() },
        }
    }
}

/// What the worker may do now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gate {
    /// Send per-job requests (at the drain rate).
    Send,
    /// Send one probe, after [`Breaker::begin_probe`].
    Probe,
    /// Nothing until then.
    WaitUntil(DateTime<Utc>),
    /// A probe is in flight: nothing until it ends.
    AwaitProbe,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Breaker {
    pub policy: BreakerPolicy,
    pub phase: Phase,
    /// The state staff see and since when it holds.
    pub state: CentralState,
    pub state_since: DateTime<Utc>,
    pub consecutive_failures: u32,
    pub next_probe_at: Option<DateTime<Utc>>,
    pub paused_until: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub last_error_at: Option<DateTime<Utc>>,
    pub last_success_at: Option<DateTime<Utc>>,
    pub alert: Option<String>,
    /// Not persisted: a probe in flight when the spooler stopped simply never answered.
    pub probe_in_flight: bool,
    /// Not persisted: staff asked for a check now, which goes even if another instance
    /// sharing the journal scheduled the next probe later.
    pub probe_requested: bool,
}

/// `now + delay`, saturating: a delay beyond what a date can hold is "never", not a panic.
pub(crate) fn after(now: DateTime<Utc>, delay: Duration) -> DateTime<Utc> {
    chrono::Duration::from_std(delay)
        .ok()
        .and_then(|delay| now.checked_add_signed(delay))
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

impl Breaker {
    /// A breaker that has not asked central anything yet.
    pub fn new(policy: BreakerPolicy, now: DateTime<Utc>) -> Breaker {
        Breaker {
            policy,
            phase: Phase::Closed,
            state: CentralState::Unknown,
            state_since: now,
            consecutive_failures: 0,
            next_probe_at: None,
            paused_until: None,
            last_error: None,
            last_error_at: None,
            last_success_at: None,
            alert: None,
            probe_in_flight: false,
            probe_requested: false,
        }
    }

    pub fn gate(&self, now: DateTime<Utc>) -> Gate {
        match self.phase {
            Phase::Closed => match self.paused_until {
                Some(until) if until > now => Gate::WaitUntil(until),
                _ => Gate::Send,
            },
            Phase::Open | Phase::CredentialsRefused if self.probe_in_flight => Gate::AwaitProbe,
            Phase::Open | Phase::CredentialsRefused => match self.next_probe_at {
                Some(at) if at > now => Gate::WaitUntil(at),
                _ => Gate::Probe,
            },
        }
    }

    /// Claims the probe [`Gate::Probe`] allowed; `false` if it is not (or no longer) allowed.
    pub fn begin_probe(&mut self, now: DateTime<Utc>) -> bool {
        if self.gate(now) != Gate::Probe {
            return false;
        }
        self.probe_in_flight = true;
        self.probe_requested = false;
        true
    }

    /// The probe could not be sent (its job vanished): the next one may go.
    pub fn abandon_probe(&mut self) {
        self.probe_in_flight = false;
    }

    /// Staff ask for a check now (after fixing credentials, say). Returns whether it changes
    /// anything: a closed breaker is already asking.
    pub fn probe_now(&mut self, now: DateTime<Utc>) -> bool {
        if self.phase == Phase::Closed {
            return false;
        }
        self.next_probe_at = Some(now);
        self.probe_requested = true;
        true
    }

    /// Takes in what one exchange said. Returns whether anything worth persisting changed
    /// (a success while all is well changes nothing, so the drain writes no breaker rows).
    pub fn record(&mut self, verdict: &Verdict, was_probe: bool, now: DateTime<Utc>) -> bool {
        if was_probe {
            self.probe_in_flight = false;
        }
        let persisted_before = self.persisted_fields();
        match verdict {
            Verdict::Healthy => {
                self.last_success_at = Some(now);
                if self.phase != Phase::Closed {
                    self.phase = Phase::Closed;
                    self.next_probe_at = None;
                }
                self.consecutive_failures = 0;
                self.alert = None;
                if self.paused_until.is_some_and(|until| until <= now) {
                    self.paused_until = None;
                }
            }
            Verdict::Failed { detail, retry_after, alert } => {
                self.last_error = Some(detail.clone());
                self.last_error_at = Some(now);
                self.consecutive_failures = self.consecutive_failures.saturating_add(1);
                if alert.is_some() {
                    self.alert.clone_from(alert);
                }
                let wait = retry_after.unwrap_or_default();
                match self.phase {
                    Phase::Closed => {
                        if let Some(retry_after) = retry_after {
                            self.pause(after(now, *retry_after));
                        }
                        if self.consecutive_failures >= self.policy.threshold {
                            self.phase = Phase::Open;
                            self.next_probe_at = Some(after(now, self.policy.probe_interval.max(wait)));
                        }
                    }
                    // Requests that were in flight when it opened do not move the probe.
                    Phase::Open if was_probe => {
                        self.next_probe_at = Some(after(now, self.policy.probe_interval.max(wait)));
                    }
                    Phase::CredentialsRefused if was_probe => {
                        self.next_probe_at = Some(after(now, self.policy.credentials_probe_interval.max(wait)));
                    }
                    Phase::Open | Phase::CredentialsRefused => {}
                }
            }
            Verdict::RateLimited { retry_after } => {
                let until = after(now, *retry_after);
                self.last_error = Some(format!(
                    "central asked this office to slow down (HTTP 429) until {}",
                    until.format("%Y-%m-%d %H:%M:%S UTC")
                ));
                self.last_error_at = Some(now);
                self.pause(until);
                match self.phase {
                    // Central is serving, only not us right now.
                    Phase::Open if was_probe => {
                        self.phase = Phase::Closed;
                        self.next_probe_at = None;
                        self.consecutive_failures = 0;
                    }
                    Phase::CredentialsRefused if was_probe => {
                        self.next_probe_at = Some(after(now, self.policy.credentials_probe_interval.max(*retry_after)));
                    }
                    _ => {}
                }
            }
            Verdict::CredentialsRefused { detail } => {
                self.last_error = Some(format!("HTTP 401: {detail}"));
                self.last_error_at = Some(now);
                self.phase = Phase::CredentialsRefused;
                self.next_probe_at = Some(after(now, self.policy.credentials_probe_interval));
                self.alert = Some(tr!(
                    Lang::En,
                    "said-central-credentials-alert",
                    detail = detail,
                    minutes = self.policy.credentials_probe_interval.as_secs().div_ceil(60)
                ));
            }
        }
        self.refresh_state(now);
        self.persisted_fields() != persisted_before
    }

    fn pause(&mut self, until: DateTime<Utc>) {
        self.paused_until = Some(self.paused_until.map_or(until, |current| current.max(until)));
    }

    /// Re-derives the state staff see; a pause running out changes it with time alone.
    pub fn refresh_state(&mut self, now: DateTime<Utc>) {
        let state = match self.phase {
            Phase::CredentialsRefused => CentralState::CredentialsRefused,
            Phase::Open => CentralState::Down,
            Phase::Closed
                if self.consecutive_failures > 0
                    || self.alert.is_some()
                    || self.paused_until.is_some_and(|until| until > now) =>
            {
                CentralState::Degraded
            }
            Phase::Closed if self.last_success_at.is_none() && self.last_error_at.is_none() => CentralState::Unknown,
            Phase::Closed => CentralState::Up,
        };
        if state != self.state {
            self.state = state;
            self.state_since = now;
        }
    }

    #[allow(clippy::type_complexity)]
    fn persisted_fields(
        &self,
    ) -> (Phase, CentralState, u32, Option<DateTime<Utc>>, Option<DateTime<Utc>>, Option<String>, Option<String>) {
        (
            self.phase,
            self.state,
            self.consecutive_failures,
            self.next_probe_at,
            self.paused_until,
            self.last_error.clone(),
            self.alert.clone(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_delay_beyond_any_date_saturates() {
        let now = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        assert_eq!(after(now, Duration::from_secs(u64::MAX)), DateTime::<Utc>::MAX_UTC);
        assert_eq!(after(now, Duration::from_secs(60)), now + chrono::Duration::seconds(60));
    }

    fn policy() -> BreakerPolicy {
        BreakerPolicy {
            threshold: 3,
            probe_interval: Duration::from_secs(60),
            credentials_probe_interval: Duration::from_secs(600),
        }
    }

    fn t(seconds: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + seconds, 0).unwrap()
    }

    fn failure() -> Verdict {
        Verdict::Failed { detail: "cannot connect".into(), retry_after: None, alert: None }
    }

    #[test]
    fn opens_after_the_threshold_then_one_probe_per_interval_then_closes() {
        let mut breaker = Breaker::new(policy(), t(0));
        assert_eq!(breaker.state, CentralState::Unknown);
        breaker.record(&Verdict::Healthy, false, t(1));
        assert_eq!((breaker.state, breaker.gate(t(1))), (CentralState::Up, Gate::Send));
        breaker.record(&failure(), false, t(2));
        breaker.record(&failure(), false, t(3));
        assert_eq!((breaker.state, breaker.gate(t(3))), (CentralState::Degraded, Gate::Send));
        assert!(breaker.record(&failure(), false, t(4)));
        assert_eq!((breaker.state, breaker.state_since), (CentralState::Down, t(4)));
        assert_eq!(breaker.gate(t(5)), Gate::WaitUntil(t(64)));
        // A late answer from a request already in flight does not move the probe.
        breaker.record(&failure(), false, t(6));
        assert_eq!(breaker.gate(t(63)), Gate::WaitUntil(t(64)));
        assert!(breaker.begin_probe(t(64)));
        assert_eq!(breaker.gate(t(65)), Gate::AwaitProbe);
        assert!(!breaker.begin_probe(t(65)), "one probe at a time");
        breaker.record(&failure(), true, t(66));
        assert_eq!(breaker.gate(t(67)), Gate::WaitUntil(t(126)));
        assert!(breaker.begin_probe(t(126)));
        assert!(breaker.record(&Verdict::Healthy, true, t(127)));
        assert_eq!((breaker.phase, breaker.state, breaker.gate(t(127))), (Phase::Closed, CentralState::Up, Gate::Send));
        assert!(!breaker.record(&Verdict::Healthy, false, t(128)), "a success while all is well persists nothing");
    }

    #[test]
    fn retry_after_pauses_everything_and_delays_the_probe() {
        let mut breaker = Breaker::new(policy(), t(0));
        breaker.record(&Verdict::RateLimited { retry_after: Duration::from_secs(30) }, false, t(0));
        assert_eq!((breaker.state, breaker.gate(t(10))), (CentralState::Degraded, Gate::WaitUntil(t(30))));
        assert_eq!(breaker.gate(t(30)), Gate::Send);
        for second in 31..34 {
            let verdict =
                Verdict::Failed { detail: "HTTP 503".into(), retry_after: Some(Duration::from_secs(300)), alert: None };
            breaker.record(&verdict, false, t(second));
        }
        assert_eq!(breaker.phase, Phase::Open);
        assert_eq!(breaker.gate(t(40)), Gate::WaitUntil(t(333)), "Retry-After beyond the probe interval wins");
    }

    #[test]
    fn a_rate_limited_probe_closes_the_breaker_but_keeps_the_pause() {
        let mut breaker = Breaker::new(policy(), t(0));
        for second in 0..3 {
            breaker.record(&failure(), false, t(second));
        }
        assert!(breaker.begin_probe(t(62)));
        breaker.record(&Verdict::RateLimited { retry_after: Duration::from_secs(20) }, true, t(62));
        assert_eq!((breaker.phase, breaker.gate(t(63))), (Phase::Closed, Gate::WaitUntil(t(82))));
    }

    #[test]
    fn bad_credentials_hold_everything_until_a_slow_probe_or_staff() {
        let mut breaker = Breaker::new(policy(), t(0));
        breaker.record(&Verdict::CredentialsRefused { detail: "office unknown".into() }, false, t(0));
        assert_eq!(breaker.state, CentralState::CredentialsRefused);
        assert!(breaker.alert.as_deref().unwrap().contains("office unknown"));
        assert_eq!(breaker.gate(t(1)), Gate::WaitUntil(t(600)));
        assert!(breaker.begin_probe(t(600)));
        breaker.record(&failure(), true, t(601));
        assert_eq!((breaker.state, breaker.gate(t(602))), (CentralState::CredentialsRefused, Gate::WaitUntil(t(1201))));
        assert!(breaker.probe_now(t(700)));
        assert!(breaker.begin_probe(t(700)));
        breaker.record(&Verdict::Healthy, true, t(701));
        assert_eq!((breaker.state, breaker.alert.clone(), breaker.gate(t(701))), (CentralState::Up, None, Gate::Send));
    }

    #[test]
    fn a_key_alert_shows_until_central_is_healthy_again() {
        let mut breaker = Breaker::new(policy(), t(0));
        let verdict = Verdict::of(&Outcome::Malformed { detail: "bad signature".into(), suspect_key: true });
        breaker.record(&verdict, false, t(0));
        assert_eq!(breaker.state, CentralState::Degraded);
        assert!(breaker.alert.as_deref().unwrap().contains("public_key"));
        breaker.record(&Verdict::Healthy, false, t(1));
        assert_eq!((breaker.state, breaker.alert.clone()), (CentralState::Up, None));
    }
}
