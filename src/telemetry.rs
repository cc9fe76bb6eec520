//! Logging set-up: human-readable lines by default, JSON objects per line with `--log-json`
//! (or `[log] format = "json"`). `RUST_LOG` overrides the configured filter. And what the
//! workers share with the API and `/metrics` (`IntakeStats`, `StatusEventStats`, `PartsHealth`),
//! so that the API reads them without depending on the workers; and the `test-hooks` feature's
//! fault points.
//!
//! What may appear in a log line is a rule of the whole crate: event ids, job ids, masked NIKs
//! (`Nik::masked`), never a full NIK, a photo or a signature.

use std::io::IsTerminal as _;
use std::sync::atomic::AtomicU64;
use std::sync::Mutex;

use chrono::{DateTime, Utc};

use tracing_subscriber::EnvFilter;

use crate::config::LogFormat;

/// Installs the global subscriber. Safe to call more than once (later calls do nothing), so
/// tests and the binary can share it.
pub fn init(format: LogFormat, filter: &str) {
    init_for(format, filter, false);
}

/// As [`init`]; `one_shot`: a command that does one thing and exits (publish, the staff
/// commands), whose errors are one sentence on stderr: lapin's own error lines (protocol dumps
/// of a refused login) are left out unless `RUST_LOG` asks for them.
pub fn init_for(format: LogFormat, filter: &str, one_shot: bool) {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| {
            let filter = EnvFilter::new(filter);
            if one_shot {
                filter.add_directive("lapin=off".parse().expect("a valid directive"))
            } else {
                filter
            }
        })
        // lapin logs a message the broker returned (unroutable) with its whole body: an
        // event's NIK, photo and signature. Never, whatever the filter asks; cardspool reports
        // each returned message itself, without its body.
        .add_directive("lapin::returned_messages=off".parse().expect("a valid directive"));
    // Colours only for a person at a terminal: a log file or a collector gets plain text.
    let ansi = std::io::stderr().is_terminal();
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_ansi(ansi).with_writer(std::io::stderr);
    let _already_set = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).with_current_span(true).try_init(),
    };
}

/// Counters of what intake did, shared with the API and metrics.
#[derive(Debug, Default)]
pub struct IntakeStats {
    pub admitted: AtomicU64,
    pub duplicates: AtomicU64,
    pub rejected: AtomicU64,
    pub reconnects: AtomicU64,
    /// Acks the broker never got (connection lost after the commit): each is redelivered and
    /// then recognised as a duplicate.
    pub acks_lost: AtomicU64,
}

/// What the status events' publisher met, shared with the API and metrics.
#[derive(Debug, Default)]
pub struct StatusEventStats {
    /// Status events the broker returned because no queue took them (each try counts).
    pub unroutable: AtomicU64,
    held_back: Mutex<Option<HeldBack>>,
}

/// Why the status events are not going out: the first one no queue takes holds back those
/// after it, so that upstream receives each job's events in order.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct HeldBack {
    pub routing_key: String,
    pub since: DateTime<Utc>,
    pub reason: String,
}

impl StatusEventStats {
    /// Records that `routing_key` was not routed; keeps the first `since` of a run of refusals.
    /// Returns whether this starts the run (for a log line once, not at every retry).
    pub fn held_back(&self, routing_key: &str, reason: &str, now: DateTime<Utc>) -> bool {
        self.unroutable.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let mut held = self.held_back.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let starts = held.is_none();
        let since = held.as_ref().filter(|h| h.routing_key == routing_key).map_or(now, |h| h.since);
        *held = Some(HeldBack { routing_key: routing_key.to_owned(), since, reason: reason.to_owned() });
        starts
    }

    /// Records that status events go out again; returns whether they had been held back.
    pub fn flowing(&self) -> bool {
        self.held_back.lock().unwrap_or_else(std::sync::PoisonError::into_inner).take().is_some()
    }

    pub fn current(&self) -> Option<HeldBack> {
        self.held_back.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }
}

/// The parts of a running spooler that stopped when they should not have (a panic, an error
/// retrying cannot fix), with why: `/healthz` answers 503 naming them while the spooler stops.
#[derive(Debug, Default)]
pub struct PartsHealth {
    down: Mutex<std::collections::BTreeMap<&'static str, String>>,
}

impl PartsHealth {
    pub fn down(&self, part: &'static str, why: String) {
        self.down.lock().unwrap_or_else(std::sync::PoisonError::into_inner).insert(part, why);
    }

    /// The parts down, by name, with why.
    pub fn down_parts(&self) -> std::collections::BTreeMap<&'static str, String> {
        self.down.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }
}

/// What a caught panic said, for the log and for staff.
pub fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".to_owned())
}

/// Makes a part panic where the tests ask for it (the `test-hooks` feature): when
/// `CARDSPOOL_TEST_PANIC` is `point` or `point:TEXT` and `subject` holds TEXT. Does nothing in
/// a build without the feature.
#[inline]
pub fn panic_if_asked(point: &str, subject: &[u8]) {
    #[cfg(feature = "test-hooks")]
    if let Ok(asked) = std::env::var("CARDSPOOL_TEST_PANIC") {
        let (asked_point, text) = asked.split_once(':').unwrap_or((asked.as_str(), ""));
        let holds = text.is_empty() || subject.windows(text.len()).any(|w| w == text.as_bytes());
        assert!(!(asked_point == point && holds), "test hook: a panic in {point}, as CARDSPOOL_TEST_PANIC asked");
    }
    #[cfg(not(feature = "test-hooks"))]
    let _ = (point, subject);
}

/// Whether a journal write at `point` should fail as if the database were restarting (the
/// `test-hooks` feature): when `CARDSPOOL_TEST_FAIL` is `point:N`, the first N calls fail.
/// Always `false` in a build without the feature.
#[inline]
pub fn fail_if_asked(point: &str) -> bool {
    #[cfg(feature = "test-hooks")]
    {
        static FAILED: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let Ok(asked) = std::env::var("CARDSPOOL_TEST_FAIL") else { return false };
        let Some((asked_point, times)) = asked.split_once(':') else { return false };
        let times: u32 = times.parse().unwrap_or(0);
        asked_point == point && FAILED.fetch_add(1, std::sync::atomic::Ordering::Relaxed) < times
    }
    #[cfg(not(feature = "test-hooks"))]
    {
        let _ = point;
        false
    }
}
