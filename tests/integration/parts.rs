//! A part of the spooler that fails does not leave the rest running silently: the spooler stops
//! with a non-zero exit (for its supervisor to restart it) and says which part; a panic while
//! checking one event sets that event aside instead. Panics are caused by the `test-hooks`
//! feature's `CARDSPOOL_TEST_PANIC`.

use std::sync::Arc;
use std::time::Duration;

use cardspool::clock::Clock;
use cardspool::config::PrintingConfig;
use cardspool::domain::job::JobState;
use cardspool::journal::CardOutcome;
use cardspool::sim::central::{CentralSimCore, CentralSimServer};

use crate::support::fixtures::synthetic_payload;
use crate::support::journal::{self, total};
use crate::support::services::{self, folder_printer, office_config, sqlite_url, Vhost};
use crate::support::spooler::{publish_all, Spooler};
use crate::support::wait::eventually;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_part_that_panics_stops_the_spooler_with_a_non_zero_exit_naming_it() {
    services::require_rabbitmq().await;
    let vhost = Vhost::new();
    let dir = tempfile::tempdir().unwrap();
    let mut spooler =
        Spooler::start(&vhost, &sqlite_url(dir.path()), dir.path(), &[("CARDSPOOL_TEST_PANIC", "dispatch")]);
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = spooler.exited() {
            break status;
        }
        assert!(std::time::Instant::now() < deadline, "the spooler runs on without dispatch:\n{}", spooler.log_text());
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(status.code(), Some(1), "{}", spooler.log_text());
    let log = spooler.log_text();
    assert!(log.contains("the dispatch part of the spooler stopped: it panicked: test hook"), "{log}");
    // Dispatch may panic while intake is still connecting to RabbitMQ: then intake stops there.
    assert!(
        log.contains("intake stopped consuming") || log.contains("intake stopped before it consumed"),
        "the others stopped cleanly: {log}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panic_while_checking_one_event_sets_it_aside_and_the_spooler_runs_on() {
    services::require_rabbitmq().await;
    let vhost = Vhost::new();
    let dir = tempfile::tempdir().unwrap();
    let journal_url = sqlite_url(dir.path());
    let journal = journal::at(&journal_url).await;
    let mut spooler =
        Spooler::start(&vhost, &journal_url, dir.path(), &[("CARDSPOOL_TEST_PANIC", "validation:panic-me")]);
    publish_all(&vhost.amqp_config(), &[synthetic_payload("panic-me-1", 1), synthetic_payload("fine-1", 2)]).await;
    eventually("one job and one event set aside", Duration::from_secs(60), || async {
        total(&journal).await == 1 && journal.rejection_counts().await.unwrap().1 == 1
    })
    .await;
    let rejection = journal.rejections(10).await.unwrap().remove(0);
    assert_eq!(rejection.event_id.as_deref(), Some("panic-me-1"));
    assert!(rejection.reason.contains("the spooler failed while checking this event"), "{}", rejection.reason);
    assert!(journal.job_by_event("fine-1").await.unwrap().is_some(), "the other event is taken in");
    assert_eq!(vhost.queue_depth("cardspool.dead").await, 1, "the event is kept in the dead-letter queue");
    assert!(spooler.is_running(), "{}", spooler.log_text());
    assert_eq!(spooler.terminate().code(), Some(0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_journal_write_that_fails_while_a_card_is_on_a_printer_is_retried_not_dropped() {
    services::require_rabbitmq().await;
    let vhost = Vhost::new();
    let dir = tempfile::tempdir().unwrap();
    let journal_url = sqlite_url(dir.path());
    let journal = journal::at(&journal_url).await;
    let core = Arc::new(CentralSimCore::generate(Clock::system()));
    let central = CentralSimServer::start("127.0.0.1:0".parse().unwrap(), core).await.expect("central-sim");
    let folder = dir.path().join("hot-folder");
    let mut config = office_config(&vhost, &journal_url, &central);
    config.printers = vec![folder_printer("hot-folder", &folder, 2)];
    config.printing =
        PrintingConfig { status_poll_ms: 500, follow_poll_ms: 100, queue_poll_ms: 200, ..PrintingConfig::default() };
    let file = dir.path().join("cardspool.toml");
    std::fs::write(&file, toml::to_string(&config).unwrap()).unwrap();
    // The journal refuses the card's outcome three times, as during a PostgreSQL restart.
    let spooler = Spooler::start(
        &vhost,
        &journal_url,
        dir.path(),
        &[("CARDSPOOL_CONFIG", file.to_str().unwrap()), ("CARDSPOOL_TEST_FAIL", "settle:3")],
    );
    publish_all(&vhost.amqp_config(), &[synthetic_payload("journal-hiccup-1", 1)]).await;
    eventually("the job printed", Duration::from_secs(60), || async {
        let job = journal.job_by_event("journal-hiccup-1").await.unwrap();
        job.is_some_and(|job| job.state == JobState::Printed)
    })
    .await;
    let job = journal.job_by_event("journal-hiccup-1").await.unwrap().unwrap().id;
    let cards = journal.cards_of_job(job).await.unwrap();
    assert_eq!(cards.len(), 1, "one card, ledgered once: {cards:?}");
    assert_eq!(cards[0].outcome, CardOutcome::Printed);
    let pdfs = std::fs::read_dir(&folder)
        .unwrap()
        .filter(|e| e.as_ref().unwrap().path().extension().is_some_and(|x| x == "pdf"))
        .count();
    assert_eq!(pdfs, 1, "sent once");
    let log = spooler.log_text();
    assert_eq!(log.matches("cannot journal the card's outcome of a card on a printer; retrying").count(), 3, "{log}");
    assert!(!log.contains("reconciliation failed"), "followed by the same task, not left to reconciliation: {log}");
}
