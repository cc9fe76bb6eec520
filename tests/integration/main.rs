//! The integration tests: one crate, a module per area, against the real things (RabbitMQ,
//! PostgreSQL, SQLite, ippeveprinter, the central simulator, poppler, headless Chromium).
//!
//! One crate rather than one per file: the shared support and the dependencies are compiled and
//! linked once. `scripts/test` runs it with the library's `test-hooks` feature (the paused-clock
//! tests need it). The tests that must run alone (service restarts, the fault campaign, allocation counting) are a target of their own (`tests/serial.rs`):
//! it stops the RabbitMQ every test here uses, and cargo runs test targets one after another.

mod support;

mod api;
mod central;
mod contract;
mod dashboard;
mod demo;
mod deploy;
mod instances;
mod intake;
mod journal;
mod parts;
mod printing;
mod render;
mod soak;
mod status_events;
mod tls;
