//! What the integration tests share, shaped by what they do:
//!
//! - [`services`]: the real RabbitMQ and PostgreSQL, a vhost or a database of its own per test,
//!   and a clear message naming the service and how to start it when one is missing;
//! - [`fixtures`]: valid events made up in code, and jobs journaled in any state;
//! - [`journal`]: the one way to open a test journal, and [`on_both_backends!`];
//! - [`wait`]: [`wait::eventually`] for real time, and its paused-clock form;
//! - the rigs: [`api`] (the staff API in-process), [`central`] (the authorize stage against the
//!   central simulator), [`spooler`] (`cardspool run` as a process), [`printer_sim`]
//!   (ippeveprinter as a card printer).
//!
//! The module is mounted at `crate::support` in both test crates (`integration` and
//! `serial`); the second uses only part of it.
#![allow(dead_code)]

pub mod api;
pub mod central;
pub mod fixtures;
pub mod journal;
pub mod printer_sim;
pub mod services;
pub mod spooler;
pub mod tls;
pub mod wait;

/// Runs each named scenario (`async fn NAME(journal: Journal)`) twice: on SQLite (a file in a
/// temporary directory) and on PostgreSQL (a database of its own), as `sqlite::NAME` and
/// `postgres::NAME`.
#[allow(unused_macros)] // the broker-restart crate mounts this module and uses no journal scenario
macro_rules! on_both_backends {
    ($($name:ident),+ $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $name() {
                    let (journal, _dir) = $crate::support::journal::sqlite().await;
                    super::$name(journal).await;
                }
            )+
        }
        mod postgres {
            $(
                #[tokio::test]
                async fn $name() {
                    let url = $crate::support::services::fresh_postgres().await;
                    super::$name($crate::support::journal::at(&url).await).await;
                    // Passed: its database goes now (a failed test's stays for a look, until
                    // a run three hours on drops it).
                    $crate::support::services::drop_postgres(&url).await;
                }
            )+
        }
    };
}
#[allow(unused_imports)]
pub(crate) use on_both_backends;
