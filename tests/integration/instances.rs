//! Several spoolers on one PostgreSQL journal and one RabbitMQ: two `cardspool run` processes
//! share the jobs, two ippeveprinters and a hot folder; every card is printed once (by the
//! printers' own output), each status event published once; then one instance is killed with
//! SIGKILL mid-run and the other finishes its work once the leases expire, still printing no card
//! twice.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use cardspool::clock::Clock;
use cardspool::config::PrintingConfig;
use cardspool::domain::job::JobState;
use cardspool::journal::Journal;
use cardspool::sim::central::{CentralSimCore, CentralSimServer};

use crate::support::fixtures::synthetic_payload;
use crate::support::journal::{self, count, total};
use crate::support::printer_sim::SimPrinter;
use crate::support::services::{self, folder_printer, office_config, Vhost};
use crate::support::spooler::{publish_all, Spooler};
use crate::support::wait::eventually;

/// Events in the shared run (the figure is 5,000: `CARDSPOOL_TEST_SHARED_EVENTS=5000`;
/// the suite runs 600 to stay within CI's time), and in the run with a kill.
fn shared_events() -> usize {
    std::env::var("CARDSPOOL_TEST_SHARED_EVENTS").ok().and_then(|n| n.parse().ok()).unwrap_or(600)
}
const WITH_KILL: usize = 300;

struct Office {
    vhost: Vhost,
    dir: tempfile::TempDir,
    journal_url: String,
    journal: Journal,
    printers: Vec<SimPrinter>,
    folder: std::path::PathBuf,
    _central: CentralSimServer,
}

impl Office {
    async fn new() -> Office {
        let vhost = Vhost::new();
        let dir = tempfile::tempdir().unwrap();
        let journal_url = services::fresh_postgres().await;
        let journal = journal::at(&journal_url).await;
        let core = Arc::new(CentralSimCore::generate(Clock::system()));
        let central = CentralSimServer::start("127.0.0.1:0".parse().unwrap(), core).await.expect("central-sim");
        let printers = vec![SimPrinter::start("card-1"), SimPrinter::start("card-2")];
        let folder = dir.path().join("hot-folder");
        std::fs::create_dir_all(&folder).unwrap();

        let mut config = office_config(&vhost, &journal_url, &central);
        config.printers = printers.iter().map(SimPrinter::config).collect();
        config.printers.push(folder_printer("hot-folder", &folder, 8));
        config.printing = PrintingConfig {
            status_poll_ms: 500,
            follow_poll_ms: 100,
            queue_poll_ms: 200,
            in_doubt_timeout_s: 10,
            ..PrintingConfig::default()
        };
        // Short leases: the survivor takes over a killed instance's cards within seconds.
        config.journal.lease_s = 3;
        std::fs::write(dir.path().join("cardspool.toml"), toml::to_string(&config).unwrap()).unwrap();
        vhost.listen_to_status_events("upstream.status").await;
        Office { vhost, dir, journal_url, journal, printers, folder, _central: central }
    }

    fn start(&self, instance: &str) -> Spooler {
        let config = self.dir.path().join("cardspool.toml");
        let spool = self.dir.path().join(format!("spool-{instance}"));
        Spooler::start(
            &self.vhost,
            &self.journal_url,
            self.dir.path(),
            &[
                ("CARDSPOOL_CONFIG", config.to_str().unwrap()),
                ("CARDSPOOL_JOURNAL__INSTANCE", instance),
                ("CARDSPOOL_PRINTING__SPOOL_DIR", spool.to_str().unwrap()),
                ("CARDSPOOL_LOG__FILTER", "info,lapin=warn,sqlx=warn"),
            ],
        )
    }

    async fn publish(&self, prefix: &str, events: usize) {
        let payloads: Vec<Vec<u8>> =
            (0..events).map(|i| synthetic_payload(&format!("{prefix}-{i}"), i as u32)).collect();
        publish_all(&self.vhost.amqp_config(), &payloads).await;
    }

    /// How many times each job's card arrived, over every printer's own output.
    fn arrivals(&self) -> HashMap<String, usize> {
        let mut arrivals = HashMap::new();
        for printer in &self.printers {
            for job_name in printer.received() {
                *arrivals.entry(job_name).or_insert(0) += 1;
            }
        }
        for name in pdfs_in(&self.folder) {
            *arrivals.entry(name.to_lowercase()).or_insert(0) += 1;
        }
        arrivals
    }
}

fn pdfs_in(folder: &Path) -> Vec<String> {
    std::fs::read_dir(folder)
        .unwrap()
        .filter_map(|entry| entry.unwrap().file_name().into_string().ok()?.strip_suffix(".pdf").map(str::to_owned))
        .collect()
}

/// Every job printed has exactly one card in the printers' output, and no card arrived twice.
async fn assert_no_card_twice(office: &Office) -> HashMap<String, usize> {
    let arrivals = office.arrivals();
    let twice: Vec<_> = arrivals.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "cards printed more than once: {twice:?}");
    let mut after = None;
    loop {
        let printed = office.journal.jobs_in_state(JobState::Printed, after, 500).await.unwrap();
        let Some(last) = printed.last() else { break };
        after = Some(last.id);
        for job in &printed {
            assert_eq!(arrivals.get(&job.id.to_string()), Some(&1), "job {} printed without its card", job.id);
        }
    }
    arrivals
}

fn cards_printed(spooler: &Spooler) -> usize {
    spooler.log_text().matches("card printed").count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_spoolers_on_one_journal_print_each_card_once_and_one_survives_the_others_kill() {
    let shared = shared_events();
    let office = Office::new().await;
    let a = office.start("spooler-a");
    let b = office.start("spooler-b");
    eventually("both instances consuming", Duration::from_secs(30), || async {
        a.log_text().contains("intake consuming") && b.log_text().contains("intake consuming")
    })
    .await;

    // Shared: every card once, both instances at work, each status event once.
    let started = std::time::Instant::now();
    office.publish("shared", shared).await;
    eventually(&format!("{shared} cards printed"), Duration::from_secs(300), || async {
        count(&office.journal, JobState::Printed).await == shared as i64
    })
    .await;
    println!("{shared} cards printed by two instances in {:?}", started.elapsed());
    let arrivals = assert_no_card_twice(&office).await;
    assert_eq!(arrivals.len(), shared, "one card per event in the printers' output");
    let (by_a, by_b) = (cards_printed(&a), cards_printed(&b));
    assert!(by_a > 0 && by_b > 0, "both instances printed: {by_a} and {by_b} cards");
    assert_eq!(by_a + by_b, shared, "each card printed by one instance");
    // card.queued, card.awaiting_authorization and card.printed for each job, once each.
    eventually("every status event published", Duration::from_secs(30), || async {
        office.vhost.queue_depth("upstream.status").await >= 3 * shared as u32
    })
    .await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(office.vhost.queue_depth("upstream.status").await, 3 * shared as u32, "each status event once");
    assert!(office.journal.unpublished(1).await.unwrap().is_empty());

    // A kill -9 mid-run: the survivor takes over after the leases expire; no card twice.
    office.publish("killed", WITH_KILL).await;
    eventually("the second run under way", Duration::from_secs(60), || async {
        count(&office.journal, JobState::Printed).await >= (shared + WITH_KILL / 4) as i64
    })
    .await;
    a.kill();
    eventually("the survivor finishes", Duration::from_secs(300), || async {
        let counts = office.journal.count_by_state().await.unwrap();
        let settled =
            counts.get(&JobState::Printed).copied().unwrap_or(0) + counts.get(&JobState::Unknown).copied().unwrap_or(0);
        settled == (shared + WITH_KILL) as i64
    })
    .await;
    assert_eq!(total(&office.journal).await, (shared + WITH_KILL) as i64, "one job per event");
    let arrivals = assert_no_card_twice(&office).await;
    let unknown = count(&office.journal, JobState::Unknown).await;
    // Only a card the killed instance had journaled `printing` but not yet handed over can be
    // in doubt: at most one per printer slot (1 + 1 + 8).
    assert!(unknown <= 10, "{unknown} cards in doubt after the kill");
    assert_eq!(arrivals.len() as i64, (shared + WITH_KILL) as i64 - unknown);
    // The survivor publishes what the killed instance had claimed, once its claims expire.
    eventually("every status event of the second run", Duration::from_secs(60), || async {
        office.journal.unpublished(1).await.unwrap().is_empty()
    })
    .await;
    assert_eq!(b.terminate().code(), Some(0));
    // Passed: its database goes now (a failed test's stays for a look).
    services::drop_postgres(&office.journal_url).await;
}
