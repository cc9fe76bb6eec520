//! cardspool: the print room's spooler for e-KTP cards.
//!
//! A map of the crate, lower floors first (each imports only from floors below it):
//!
//! - [`domain`]: enrollment events and their validation, the NIK, the job state machine. No I/O.
//! - [`config`]: the whole configuration, one typed struct with defaults for every key.
//! - [`clock`]: the one place the spooler reads the time, so tests can pause it.
//! - [`journal`]: the system of record (SQLite or PostgreSQL through sqlx).
//! - [`render`]: card templates and the PDF renderer (printpdf).
//! - [`printer`]: IPP/IPPS and folder printers behind one boundary, pools, the spool.
//! - [`amqp`]: RabbitMQ through lapin: connecting, topology, publishing with confirms.
//! - [`central`]: central's print authorization: HTTP client, signature check, circuit breaker,
//!   central's state for staff.
//! - [`sim`]: the central simulator (`cardspool central-sim`), also usable in-process by tests.
//! - [`http`]: the staff API, health checks, metrics and the dashboard (axum).
//! - [`workers`]: the loops that move jobs along (intake, ...), combining domain and adapters.
//! - [`app`]: builds the adapters, starts the workers, waits for shutdown: [`run`].
//! - [`cli`]: the command line (its definition, [`cli::Cli`]) and the subcommands' own code;
//!   `main.rs` only parses and dispatches.
//! - [`telemetry`]: logging set-up, and what the workers share with the API (their counters,
//!   the parts' health).

pub mod amqp;
pub mod app;
pub mod central;
pub mod cli;
pub mod clock;
pub mod config;
pub mod domain;
pub mod http;
pub mod i18n;
pub mod journal;
pub mod printer;
pub mod render;
pub mod sim;
pub mod telemetry;
pub mod workers;

pub use app::run;
