//! The soak (RELIABILITY.md): events published at a steady rate for minutes to one spooler
//! (central up, two hot folders), its resident memory sampled every 10 s; nothing may be lost,
//! the memory must stay flat after the warm-up (the first third of the run): the last
//! sample at most 1.2× the one at the end of the warm-up, and the cards drawn and waiting for
//! a printer stay within `printing.max_drawn_waiting`. A measurement run by hand (`scripts/soak`), not part of the
//! suite: `CARDSPOOL_SOAK_RATE` events/s (100) for `CARDSPOOL_SOAK_MINUTES` (10); the cards must
//! all be printed within `CARDSPOOL_SOAK_DRAIN_MINUTES` of the start (three times the
//! publishing), which a rate above what the pipeline prints needs raised.

use std::sync::Arc;
use std::time::{Duration, Instant};

use cardspool::amqp::{ConfirmedPublisher, Publication};
use cardspool::clock::Clock;
use cardspool::config::PrintingConfig;
use cardspool::domain::job::JobState;
use cardspool::sim::central::{CentralSimCore, CentralSimServer};

use crate::support::fixtures::synthetic_payload;
use crate::support::journal::{self, count, total};
use crate::support::services::{self, folder_printer, office_config, sqlite_url, Vhost};
use crate::support::spooler::Spooler;

/// As the card software takes what it printed out of its hot folder: files older than a minute
/// (by then the spooler has long seen them and journaled the card printed) are removed, so a run
/// of hundreds of thousands of cards does not fill the disk.
fn sweep_hot_folders(folders: &[std::path::PathBuf]) {
    let old = std::time::SystemTime::now() - Duration::from_secs(60);
    for folder in folders {
        let Ok(entries) = std::fs::read_dir(folder) else { continue };
        for entry in entries.flatten() {
            let modified = entry.metadata().and_then(|m| m.modified());
            if modified.is_ok_and(|at| at < old) {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }
}

/// What the soak samples every 10 s, publishing or draining: the spooler's resident memory and
/// the cards drawn and waiting for a printer (held to `printing.max_drawn_waiting`); and it
/// sweeps the hot folders.
#[derive(Default)]
struct Samples {
    rss: Vec<(u64, f64)>,
    drawn: Vec<(u64, i64)>,
}

impl Samples {
    async fn take(&mut self, at: u64, pid: u32, journal: &cardspool::journal::Journal, folders: &[std::path::PathBuf]) {
        self.rss.push((at, rss_mib(pid)));
        self.drawn.push((at, count(journal, JobState::Rendered).await));
        sweep_hot_folders(folders);
    }
}

fn setting(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// The spooler's resident memory, in MiB.
fn rss_mib(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let kib: f64 = status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|value| value.split_whitespace().next())
        .and_then(|kib| kib.parse().ok())
        .unwrap_or(0.0);
    kib / 1024.0
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement of minutes: scripts/soak"]
async fn soak_nothing_lost_and_memory_flat() {
    services::require_rabbitmq().await;
    let rate = setting("CARDSPOOL_SOAK_RATE", 100);
    let minutes = setting("CARDSPOOL_SOAK_MINUTES", 10);
    let vhost = Vhost::new();
    let dir = tempfile::tempdir().unwrap();
    let journal_url = sqlite_url(dir.path());
    let journal = journal::at(&journal_url).await;
    let core = Arc::new(CentralSimCore::generate(Clock::system()));
    let central = CentralSimServer::start("127.0.0.1:0".parse().unwrap(), core).await.expect("central-sim");
    let mut config = office_config(&vhost, &journal_url, &central);
    config.central.drain_rate_per_s = 5_000;
    config.central.drain_concurrency = 32;
    let names = ["hot-1", "hot-2"];
    let folders: Vec<_> = names.iter().map(|name| dir.path().join(name)).collect();
    config.printers = names.iter().zip(&folders).map(|(name, folder)| folder_printer(name, folder, 8)).collect();
    // Printed cards leave the spool at once, as in production.
    config.printing = PrintingConfig { queue_poll_ms: 200, retention_s: 0, ..PrintingConfig::default() };
    config.amqp.prefetch = 200;
    let file = dir.path().join("cardspool.toml");
    std::fs::write(&file, toml::to_string(&config).unwrap()).unwrap();
    let spooler = Spooler::start(
        &vhost,
        &journal_url,
        dir.path(),
        // Two glibc arenas, as deployed (Dockerfile, docker-compose.yml).
        &[("CARDSPOOL_CONFIG", file.to_str().unwrap()), ("CARDSPOOL_LOG__FILTER", "warn"), ("MALLOC_ARENA_MAX", "2")],
    );
    let pid = spooler.pid();

    // One event made once; each copy gets its own event id of the same length.
    let template = synthetic_payload("soak-00000000", 1);
    let marker = b"soak-00000000";
    let at = template.windows(marker.len()).position(|w| w == marker).expect("the event id in the payload");
    let amqp = vhost.amqp_config();
    let connection = cardspool::amqp::connect(&amqp, "soak-publisher").await.unwrap();
    let confirmed = ConfirmedPublisher::open(&connection).await.unwrap();
    cardspool::amqp::declare_topology(confirmed.channel(), &amqp).await.unwrap();

    let started = Instant::now();
    let duration = Duration::from_secs(minutes * 60);
    let mut published = 0_u64;
    let mut samples = Samples::default();
    // Jobs taken in while publishing: whether intake kept up with the publisher.
    let mut admitted_at: Vec<(u64, i64)> = Vec::new();
    let mut next_sample = Duration::ZERO;
    let tick = Duration::from_millis(100);
    while started.elapsed() < duration {
        let due = (started.elapsed().as_secs_f64() * rate as f64) as u64 + 1;
        let batch: Vec<Publication> = (published..due)
            .map(|n| {
                let mut body = template.clone();
                body[at..at + marker.len()].copy_from_slice(format!("soak-{n:08}").as_bytes());
                Publication {
                    exchange: amqp.enrollments_exchange.clone(),
                    routing_key: "enrollment.completed".into(),
                    message_id: Some(format!("soak-{n:08}")),
                    body,
                    headers: lapin::types::FieldTable::default(),
                    mandatory: true,
                }
            })
            .collect();
        let results = confirmed.publish_all(&batch).await;
        assert!(results.iter().all(Result::is_ok), "the broker confirms every event");
        published = due;
        if started.elapsed() >= next_sample {
            samples.take(started.elapsed().as_secs(), pid, &journal, &folders).await;
            admitted_at.push((started.elapsed().as_secs(), total(&journal).await));
            next_sample += Duration::from_secs(10);
        }
        tokio::time::sleep(tick).await;
    }
    let publishing = started.elapsed();
    cardspool::amqp::close_quietly(&connection, "done").await;

    // Nothing lost: every event becomes a job and its card is printed.
    let deadline = started + Duration::from_secs(setting("CARDSPOOL_SOAK_DRAIN_MINUTES", minutes * 3) * 60);
    let mut printed_at = Vec::new();
    loop {
        let printed = count(&journal, JobState::Printed).await;
        if started.elapsed() >= next_sample {
            samples.take(started.elapsed().as_secs(), pid, &journal, &folders).await;
            printed_at.push((started.elapsed().as_secs(), printed));
            next_sample += Duration::from_secs(10);
        }
        if printed == published as i64 {
            break;
        }
        assert!(Instant::now() < deadline, "{printed} of {published} printed");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let done = started.elapsed();
    assert_eq!(total(&journal).await, published as i64, "one job per event");
    // Warm-up: the first third of the run (at least a minute), while the journal's page caches
    // and the allocator's arenas fill.
    let warm_up = (minutes * 60 / 3).max(60);
    let warm = samples.rss.iter().find(|(at, _)| *at >= warm_up).map_or(samples.rss[0].1, |s| s.1);
    let last = samples.rss.last().unwrap().1;
    let most_drawn = samples.drawn.iter().map(|(_, drawn)| *drawn).max().unwrap_or(0);
    println!(
        "soak: {published} events at {rate}/s over {:.0} s, all printed after {:.0} s",
        publishing.as_secs_f64(),
        done.as_secs_f64()
    );
    println!("RSS (s, MiB): {:?}", samples.rss);
    println!("drawn and waiting for a printer (s, cards): {:?}", samples.drawn);
    println!("taken in while publishing (s, jobs): {admitted_at:?}");
    println!("printed after publishing (s, cards): {printed_at:?}");
    println!("after warm-up ({warm_up} s) {warm:.1} MiB, last {last:.1} MiB: {:.2}×", last / warm);
    println!("drawn and waiting at most {most_drawn} (bound {})", config.printing.max_drawn_waiting);
    assert!(last <= warm * 1.2, "memory grew from {warm:.1} to {last:.1} MiB");
    assert!(
        most_drawn <= i64::from(config.printing.max_drawn_waiting),
        "{most_drawn} cards drawn and waiting, past the bound"
    );
    drop(spooler);
}
