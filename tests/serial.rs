//! The tests that must run alone: RabbitMQ restarted under the spooler's feet, the fault
//! campaign (`fault_campaign.rs`, which also restarts PostgreSQL), and the peak allocation of
//! checking hostile events (`alloc_limits.rs`, whose counting allocator counts the whole
//! binary). A test binary of its own: cargo never runs two test binaries at once, so no other
//! test sees the outages; within it, the tests take turns (`SERVICES`).

#[path = "integration/support/mod.rs"]
mod support;

mod alloc_limits;
mod fault_campaign;

use std::process::Command;
use std::time::Duration;

use support::fixtures::synthetic_payload;
use support::journal::{self, total};
use support::services::{self, rabbitmqctl, sqlite_url, Vhost};
use support::spooler::{assert_recovered_exactly_once, publish_all, Spooler};
use support::wait::eventually;

/// Starts the broker's application again even when the test fails half-way, so the machine's
/// RabbitMQ is never left stopped.
struct RestartGuard;

impl Drop for RestartGuard {
    fn drop(&mut self) {
        let _ = Command::new("rabbitmqctl").arg("start_app").status();
    }
}

/// One test at a time: the services are restarted, and allocations counted, by one alone.
static SERVICES: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broker_restart_mid_stream_loses_and_duplicates_nothing() {
    let _turn = SERVICES.lock().await;
    services::require_rabbitmq().await;
    let vhost = Vhost::new();
    let dir = tempfile::tempdir().unwrap();
    let journal_url = sqlite_url(dir.path());
    let journal = journal::sqlite_in(dir.path()).await;
    let payloads: Vec<_> = (0..2000).map(|i| synthetic_payload(&format!("restart-{i}"), i)).collect();
    publish_all(&vhost.amqp_config(), &payloads).await;

    // Prefetch 1 (one commit per event) keeps the stream long enough to stop the broker in the
    // middle of it.
    let spooler = Spooler::start(&vhost, &journal_url, dir.path(), &[("CARDSPOOL_AMQP__PREFETCH", "1")]);
    eventually("the first 20 jobs", Duration::from_secs(60), || async { total(&journal).await >= 20 }).await;

    let guard = RestartGuard;
    rabbitmqctl(&["stop_app"]);
    let during_outage = total(&journal).await;
    assert!(during_outage < 2000, "the broker stopped mid-stream ({during_outage} jobs)");
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(total(&journal).await, during_outage, "nothing is taken in while the broker is down");
    rabbitmqctl(&["start_app"]);
    rabbitmqctl(&["await_startup"]);
    drop(guard);

    assert_recovered_exactly_once(spooler, &vhost, &journal, 2000, Duration::from_secs(180)).await;
}
