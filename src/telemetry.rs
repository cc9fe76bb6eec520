//! Logging set-up: human-readable lines by default, JSON objects per line with `--log-json`
//! (or `[log] format = "json"`). `RUST_LOG` overrides the configured filter. And the counters
//! the workers keep for the API and `/metrics` (`IntakeStats`), so that the API reads them
//! without depending on the workers.
//!
//! What may appear in a log line is a rule of the whole crate: event ids, job ids, masked NIKs
//! (`Nik::masked`), never a full NIK, a photo or a signature.

use std::io::IsTerminal as _;
use std::sync::atomic::AtomicU64;

use tracing_subscriber::EnvFilter;

use crate::config::LogFormat;

/// Installs the global subscriber. Safe to call more than once (later calls do nothing), so
/// tests and the binary can share it.
pub fn init(format: LogFormat, filter: &str) {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new(filter))
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
