//! The fault campaign (issue 11, RELIABILITY.md): two spooler processes on one PostgreSQL
//! database, one RabbitMQ, two ippeveprinters and a hot folder in one pool, the central
//! simulator; events published (10% duplicates, 5% bad) while, at random moments, spoolers are
//! killed with SIGKILL and restarted, PostgreSQL restarts, RabbitMQ stops and starts, central
//! flaps then goes down, a printer jams and another runs out of ribbon, and the spool's
//! filesystem is full for a while. Then the invariants, checked from outside.
//!
//! In the `serial` test binary: it restarts the PostgreSQL and the RabbitMQ every other test
//! uses. `cargo test` runs the short campaign; `scripts/fault-campaign` the full one
//! (`CARDSPOOL_CAMPAIGN=full`). Needs root (it mounts a tmpfs and restarts the services),
//! ippeveprinter and dbus-daemon, as `scripts/setup` leaves the machine.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};

use cardspool::clock::Clock;
use cardspool::config::{ApiToken, PrintingConfig, StaffRole};
use cardspool::domain::job::JobState;
use cardspool::journal::{CardOutcome, Journal};
use cardspool::sim::central::{CentralSimCore, CentralSimServer, DownHow, Fault};

use crate::support::fixtures::synthetic_payload;
use crate::support::journal::{self, count};
use crate::support::printer_sim::{SimFault, SimPrinter};
use crate::support::services::{self, folder_printer, office_config, rabbitmqctl, Take, Vhost};
use crate::support::spooler::{publications, Spooler};
use crate::support::wait::eventually;

const SUPERVISOR_TOKEN: &str = "campaign-supervisor-token";

/// The campaign's size: the figures with `CARDSPOOL_CAMPAIGN=full`, a short one for the
/// suite otherwise.
#[derive(Debug, Clone)]
struct Plan {
    events: usize,
    kills: usize,
    broker_restarts: usize,
    postgres_restarts: usize,
    central_flaky: Duration,
    central_down: Duration,
    spool_full: Duration,
    /// Over how long the events are published and the faults spread.
    window: Duration,
    /// How long the spoolers get to finish after the last fault.
    settle: Duration,
}

impl Plan {
    fn from_env() -> Plan {
        if std::env::var("CARDSPOOL_CAMPAIGN").as_deref() == Ok("full") {
            Plan {
                events: 2000,
                kills: 20,
                broker_restarts: 2,
                postgres_restarts: 1,
                central_flaky: Duration::from_secs(30),
                central_down: Duration::from_secs(60),
                spool_full: Duration::from_secs(30),
                window: Duration::from_secs(240),
                settle: Duration::from_secs(600),
            }
        } else {
            Plan {
                events: 300,
                kills: 3,
                broker_restarts: 1,
                postgres_restarts: 1,
                central_flaky: Duration::from_secs(5),
                central_down: Duration::from_secs(10),
                spool_full: Duration::from_secs(5),
                window: Duration::from_secs(45),
                settle: Duration::from_secs(300),
            }
        }
    }
}

/// One fault, at its moment.
#[derive(Debug, Clone, Copy)]
enum Action {
    Kill(usize),
    RestartPostgres,
    RestartBroker,
    CentralFlapping,
    Jam,
    Ribbon,
    SpoolFull,
}

struct Office {
    vhost: Vhost,
    dir: tempfile::TempDir,
    journal_url: String,
    journal: Journal,
    printers: Vec<SimPrinter>,
    folder: PathBuf,
    spools: PathBuf,
    central: Arc<CentralSimCore>,
    _central_server: CentralSimServer,
}

/// Unmounts the spools' tmpfs however the test ends.
struct Mounted(PathBuf);

impl Drop for Mounted {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

/// Starts the services again even when the test fails half-way.
struct ServicesGuard;

impl Drop for ServicesGuard {
    fn drop(&mut self) {
        let _ = Command::new("rabbitmqctl").arg("start_app").status();
        let _ = Command::new("pg_ctlcluster")
            .args(["--skip-systemctl-redirect", &postgres_version(), "main", "start"])
            .status();
    }
}

fn postgres_version() -> String {
    std::fs::read_dir("/etc/postgresql")
        .ok()
        .and_then(|mut entries| entries.next())
        .and_then(Result::ok)
        .map_or_else(|| "15".to_owned(), |entry| entry.file_name().to_string_lossy().into_owned())
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

impl Office {
    async fn new() -> (Office, Mounted) {
        let vhost = Vhost::new();
        let dir = tempfile::tempdir().unwrap();
        let journal_url = services::fresh_postgres().await;
        let journal = journal::at(&journal_url).await;
        let central = Arc::new(CentralSimCore::generate(Clock::system()));
        let server =
            CentralSimServer::start("127.0.0.1:0".parse().unwrap(), central.clone()).await.expect("central-sim");
        let printers = vec![SimPrinter::start("card-1"), SimPrinter::start("card-2")];
        let folder = dir.path().join("hot-folder");
        std::fs::create_dir_all(&folder).unwrap();
        // The spools on a small filesystem of their own, to fill it.
        let spools = dir.path().join("spools");
        std::fs::create_dir_all(&spools).unwrap();
        let mounted = Command::new("mount")
            .args(["-t", "tmpfs", "-o", "size=64m", "tmpfs"])
            .arg(&spools)
            .status()
            .expect("mount");
        assert!(mounted.success(), "mounting a tmpfs needs root");
        let guard = Mounted(spools.clone());

        let mut config = office_config(&vhost, &journal_url, &server);
        config.printers = printers.iter().map(SimPrinter::config).collect();
        config.printers.push(folder_printer("hot-folder", &folder, 8));
        config.printing = PrintingConfig {
            status_poll_ms: 500,
            follow_poll_ms: 100,
            queue_poll_ms: 200,
            in_doubt_timeout_s: 10,
            ..PrintingConfig::default()
        };
        config.api.tokens =
            vec![ApiToken { name: "sari".into(), token: SUPERVISOR_TOKEN.into(), role: StaffRole::Supervisor }];
        config.journal.lease_s = 3;
        std::fs::write(dir.path().join("cardspool.toml"), toml::to_string(&config).unwrap()).unwrap();
        vhost.listen_to_status_events("upstream.status").await;
        let office =
            Office { vhost, dir, journal_url, journal, printers, folder, spools, central, _central_server: server };
        (office, guard)
    }

    /// Starts instance `name` on an API port of its own; returns it with its API's address.
    fn start(&self, name: &str) -> (Spooler, String) {
        let config = self.dir.path().join("cardspool.toml");
        let spool = self.spools.join(name);
        let listen = format!("127.0.0.1:{}", free_port());
        let spooler = Spooler::start(
            &self.vhost,
            &self.journal_url,
            self.dir.path(),
            &[
                ("CARDSPOOL_CONFIG", config.to_str().unwrap()),
                ("CARDSPOOL_JOURNAL__INSTANCE", name),
                ("CARDSPOOL_PRINTING__SPOOL_DIR", spool.to_str().unwrap()),
                ("CARDSPOOL_API__LISTEN", &listen),
                ("CARDSPOOL_LOG__FILTER", "info,lapin=warn,sqlx=warn"),
            ],
        );
        (spooler, format!("http://{listen}"))
    }

    /// How many times each job's card arrived, per printer, from the printers' own output.
    fn arrivals(&self) -> BTreeMap<String, HashMap<String, usize>> {
        let mut arrivals: BTreeMap<String, HashMap<String, usize>> = BTreeMap::new();
        for (n, printer) in self.printers.iter().enumerate() {
            let per_job = arrivals.entry(format!("card-{}", n + 1)).or_default();
            for job in printer.received() {
                *per_job.entry(job).or_insert(0) += 1;
            }
        }
        let per_job = arrivals.entry("hot-folder".into()).or_default();
        for entry in std::fs::read_dir(&self.folder).unwrap() {
            let name = entry.unwrap().file_name().into_string().unwrap();
            if let Some(job) = name.strip_suffix(".pdf") {
                *per_job.entry(job.to_lowercase()).or_insert(0) += 1;
            }
        }
        arrivals
    }
}

/// An event the spooler must refuse (a NIK of 3 digits).
fn bad_payload(event_id: &str, n: u32) -> Vec<u8> {
    let mut event: Value = serde_json::from_slice(&synthetic_payload(event_id, n)).unwrap();
    event["nik"] = json!("123");
    serde_json::to_vec(&event).unwrap()
}

/// Publishes `payloads` in small batches over `window`, as upstream would: a batch the broker
/// did not confirm (it was restarting) is published again.
async fn publish_over(config: cardspool::config::AmqpConfig, payloads: Vec<Vec<u8>>, window: Duration) {
    let batches: Vec<Vec<Vec<u8>>> = payloads.chunks(25).map(<[Vec<u8>]>::to_vec).collect();
    let pause = window / u32::try_from(batches.len().max(1)).unwrap();
    for batch in batches {
        let mut left = batch;
        while !left.is_empty() {
            let sent = cardspool::amqp::publish_confirmed(&config, &publications(&config, &left)).await;
            left = match sent {
                Ok(results) => left.into_iter().zip(results).filter(|(_, r)| r.is_err()).map(|(p, _)| p).collect(),
                Err(_) => left,
            };
            if !left.is_empty() {
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        }
        tokio::time::sleep(pause).await;
    }
}

/// Fills the filesystem under `dir` for `how_long`, then frees it.
async fn fill_for(dir: &Path, how_long: Duration) {
    let filler = dir.join("filler");
    // Most of it at once (refused when it does not fit whole), then block by block until the
    // disk refuses.
    let _ = Command::new("fallocate").args(["-l", "48M"]).arg(&filler).stderr(std::process::Stdio::null()).status();
    if let Ok(mut file) = std::fs::OpenOptions::new().append(true).open(&filler) {
        use std::io::Write as _;
        let block = vec![0_u8; 64 * 1024];
        while file.write_all(&block).is_ok() {}
        let _ = file.sync_all();
    }
    tokio::time::sleep(how_long).await;
    let _ = std::fs::remove_file(&filler);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_fault_campaign_loses_nothing_and_prints_no_card_twice() {
    let _turn = crate::SERVICES.lock().await;
    services::require_rabbitmq().await;
    let _ = rustls::crypto::ring::default_provider().install_default();
    let plan = Plan::from_env();
    let seed: u64 = std::env::var("CARDSPOOL_CAMPAIGN_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(11);
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let started = Instant::now();
    let _services = ServicesGuard;
    let (office, _mounted) = Office::new().await;
    let mut instances = vec![office.start("spooler-a"), office.start("spooler-b")];

    // The events: 85% good, 10% republished duplicates of good ones, 5% bad, shuffled.
    let bad_count = plan.events / 20;
    let duplicate_count = plan.events / 10;
    let good_count = plan.events - bad_count - duplicate_count;
    let good: Vec<Vec<u8>> = (0..good_count).map(|i| synthetic_payload(&format!("good-{i}"), i as u32)).collect();
    let mut payloads = good.clone();
    payloads.extend((0..duplicate_count).map(|i| good[i * good_count / duplicate_count].clone()));
    payloads.extend((0..bad_count).map(|i| bad_payload(&format!("bad-{i}"), i as u32)));
    payloads.shuffle(&mut rng);

    // The faults, at random moments of the window.
    let mut actions: Vec<Action> = (0..plan.kills).map(|i| Action::Kill(i % 2)).collect();
    actions.extend(std::iter::repeat_n(Action::RestartBroker, plan.broker_restarts));
    actions.extend(std::iter::repeat_n(Action::RestartPostgres, plan.postgres_restarts));
    actions.extend([Action::CentralFlapping, Action::Jam, Action::Ribbon, Action::SpoolFull]);
    actions.shuffle(&mut rng);
    let window_ms = u64::try_from(plan.window.as_millis()).unwrap();
    let mut moments: Vec<Duration> =
        (0..actions.len()).map(|_| Duration::from_millis(rng.gen_range(window_ms / 10..window_ms))).collect();
    moments.sort();

    let publishing = tokio::spawn(publish_over(office.vhost.amqp_config(), payloads, plan.window));
    let mut log = Vec::new();
    let faults_started = Instant::now();
    for (moment, action) in moments.into_iter().zip(actions) {
        if let Some(wait) = moment.checked_sub(faults_started.elapsed()) {
            tokio::time::sleep(wait).await;
        }
        let at = started.elapsed();
        match action {
            Action::Kill(n) => {
                let name = if n == 0 { "spooler-a" } else { "spooler-b" };
                let (spooler, _) = instances.remove(n.min(instances.len() - 1));
                spooler.kill();
                tokio::time::sleep(Duration::from_millis(rng.gen_range(200..2000))).await;
                instances.insert(n.min(instances.len()), office.start(name));
            }
            Action::RestartPostgres => {
                let status = Command::new("pg_ctlcluster")
                    .args(["--skip-systemctl-redirect", &postgres_version(), "main", "restart"])
                    .status()
                    .unwrap();
                assert!(status.success(), "PostgreSQL restarts");
            }
            Action::RestartBroker => {
                rabbitmqctl(&["stop_app"]);
                tokio::time::sleep(Duration::from_secs(3)).await;
                rabbitmqctl(&["start_app"]);
                rabbitmqctl(&["await_startup"]);
            }
            Action::CentralFlapping => {
                office.central.set_fault(Fault::Flaky { failure_rate: 0.3, seed: Some(seed) });
                tokio::time::sleep(plan.central_flaky).await;
                office.central.set_fault(Fault::Down { how: DownHow::default(), retry_after_s: None });
                tokio::time::sleep(plan.central_down).await;
                office.central.set_fault(Fault::None);
            }
            Action::Jam | Action::Ribbon => {
                let (printer, fault) =
                    if matches!(action, Action::Jam) { (0, SimFault::Jam) } else { (1, SimFault::Ribbon) };
                office.printers[printer].inject(fault);
                tokio::time::sleep(Duration::from_secs(10)).await;
                office.printers[printer].clear_fault();
            }
            Action::SpoolFull => fill_for(&office.spools, plan.spool_full).await,
        }
        log.push(format!(
            "{:>6.1} s  {action:?} (over after {:.1} s)",
            at.as_secs_f64(),
            started.elapsed().saturating_sub(at).as_secs_f64()
        ));
    }
    let last_fault = started.elapsed();
    publishing.await.unwrap();
    let published = started.elapsed();

    // Jobs in doubt after a kill (journaled `printing`, never handed over) are for staff: they
    // look at the printers and resolve, as the print room would, through the API.
    let client = reqwest::Client::new();
    let deadline = Instant::now() + plan.settle;
    let mut resolved = HashSet::new();
    loop {
        let printed = count(&office.journal, JobState::Printed).await;
        if printed >= good_count as i64 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{printed} of {good_count} printed after {:?}: {:?}",
            plan.settle,
            office.journal.count_by_state().await.unwrap()
        );
        let arrivals = office.arrivals();
        for job in office.journal.jobs_in_state(JobState::Unknown, None, 100).await.unwrap() {
            if !resolved.insert(job.id) {
                continue;
            }
            // As staff would: look at the printer the card is in doubt on, and count what came
            // out of it for this job beyond the cards of it already settled there (an earlier
            // jammed card also came out). A card that came out of another printer is not this one.
            let cards = office.journal.cards_of_job(job.id).await.unwrap();
            let doubtful_printer = job.printer.clone().or_else(|| cards.last().map(|c| c.printer.clone()));
            let settled_there = cards
                .iter()
                .filter(|c| Some(&c.printer) == doubtful_printer.as_ref())
                .filter(|c| !matches!(c.outcome, CardOutcome::Sent | CardOutcome::Unknown))
                .count();
            let arrived_there = doubtful_printer
                .as_ref()
                .and_then(|p| arrivals.get(p))
                .and_then(|per_job| per_job.get(&job.id.to_string()).copied())
                .unwrap_or(0);
            let outcome = if arrived_there > settled_there { "printed" } else { "not_printed" };
            let api = &instances[0].1;
            let answer = client
                .post(format!("{api}/api/v1/jobs/{}/resolve", job.id))
                .bearer_auth(SUPERVISOR_TOKEN)
                .json(&json!({ "reason": "output tray checked (fault campaign)", "outcome": outcome }))
                .send()
                .await;
            assert!(answer.is_ok_and(|a| a.status().is_success()), "resolving {}", job.id);
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let last_card = started.elapsed();
    tokio::time::sleep(Duration::from_secs(3)).await;

    // Every good event printed exactly once, by the printers' own output; nothing left printing.
    let counts = office.journal.count_by_state().await.unwrap();
    assert_eq!(counts.get(&JobState::Printed).copied(), Some(good_count as i64), "{counts:?}");
    assert_eq!(counts.values().sum::<i64>(), good_count as i64, "one job per good event, none per bad: {counts:?}");
    let arrivals = office.arrivals();
    let mut printed_cards: HashMap<String, usize> = HashMap::new();
    let today = cardspool::journal::ledger_day(chrono::Utc::now(), 7 * 60);
    let ledger: BTreeMap<String, _> = office
        .journal
        .card_counts("2000-01-01", &today)
        .await
        .unwrap()
        .into_iter()
        .map(|c| (c.printer.clone(), c))
        .collect();
    // Every card a printer took is in the ledger, and every blank the ledger says was used went to
    // that printer. The ledger may hold more lines than cards arrived: a card journaled
    // `printing` whose spooler was killed before sending it is ledgered `unknown`, and `not_fed`
    // once staff find it never printed.
    let mut never_sent = 0;
    for (printer, per_job) in &arrivals {
        let arrived = per_job.values().sum::<usize>() as i64;
        let counts = ledger.get(printer);
        let all: i64 = counts.map_or(0, |c| CardOutcome::ALL.iter().map(|o| c.count(*o)).sum());
        let used = counts.map_or(0, cardspool::journal::DailyCardCount::blanks_used);
        assert!(
            used <= arrived && arrived <= all,
            "{printer}: {arrived} cards arrived, {all} ledger lines, {used} blanks used"
        );
        never_sent += all - arrived;
    }
    let mut after = None;
    loop {
        let jobs = office.journal.jobs_in_state(JobState::Printed, after, 500).await.unwrap();
        let Some(last) = jobs.last() else { break };
        after = Some(last.id);
        for job in jobs {
            let cards = office.journal.cards_of_job(job.id).await.unwrap();
            let printed: Vec<_> = cards.iter().filter(|c| c.outcome == CardOutcome::Printed).collect();
            assert_eq!(printed.len(), 1, "job {} printed once in the ledger: {cards:?}", job.id);
            *printed_cards.entry(printed[0].printer.clone()).or_insert(0) += 1;
            let arrived: usize = arrivals.values().map(|p| p.get(&job.id.to_string()).copied().unwrap_or(0)).sum();
            let spoiled = cards.iter().filter(|c| c.outcome == CardOutcome::Spoiled).count();
            assert!(
                spoiled < arrived && arrived <= cards.len(),
                "job {}: its card arrived once, plus each aborted try: {arrived} arrivals for {cards:?}",
                job.id
            );
        }
    }

    // Every bad event dead-lettered with its reason, none printed.
    let dead = office.vhost.take("cardspool.dead", Take::UntilQuiet).await;
    let mut refused = HashSet::new();
    let mut poison = 0;
    for message in &dead {
        let event: Value = serde_json::from_slice(&message.body).unwrap_or_default();
        match message.rejection {
            Some(_) => {
                refused.insert(event["event_id"].as_str().unwrap_or_default().to_owned());
            }
            None => poison += 1,
        }
    }
    assert_eq!(poison, 0, "no event dead-lettered by the broker as poison");
    for i in 0..bad_count {
        assert!(refused.contains(&format!("bad-{i}")), "bad-{i} is in the dead-letter queue with its reason");
    }

    // Every status event published, each one by its id (at least once: a kill between the
    // broker's confirm and the journal's mark sends one again).
    eventually("the outbox empty", Duration::from_secs(60), || async {
        office.journal.outbox_backlog().await.unwrap().0 == 0
    })
    .await;
    let status_events = office.vhost.take("upstream.status", Take::UntilQuiet).await;
    let received: HashSet<String> = status_events.iter().filter_map(|event| event.message_id.clone()).collect();
    let outbox = outbox_ids(&office.journal_url).await;
    let missing: Vec<&String> = outbox.iter().filter(|id| !received.contains(*id)).collect();
    assert!(
        missing.is_empty(),
        "{} of {} status events never reached upstream: {missing:?}",
        missing.len(),
        outbox.len()
    );
    let outbox_rows = outbox.len();
    let repeats = status_events.len() - received.len();

    for (spooler, _) in instances {
        drop(spooler);
    }
    println!("fault campaign, seed {seed}, {plan:?}");
    println!("events published: {} ({good_count} good, {duplicate_count} duplicates, {bad_count} bad)", plan.events);
    for line in &log {
        println!("  {line}");
    }
    println!("printed: {good_count} jobs, cards per printer {printed_cards:?}");
    println!(
        "in doubt after kills, resolved by staff: {}; ledger lines of cards never sent: {never_sent}",
        resolved.len()
    );
    println!("dead letters: {} ({} bad events)", dead.len(), refused.len());
    println!(
        "status events: every one of the {outbox_rows} outbox rows received ({} deliveries, {repeats} repeats)",
        status_events.len()
    );
    println!(
        "last fault over at {:.1} s, publishing over at {:.1} s, last card at {:.1} s: {:.1} s from the last fault to the last card",
        last_fault.as_secs_f64(),
        published.as_secs_f64(),
        last_card.as_secs_f64(),
        last_card.saturating_sub(last_fault).as_secs_f64()
    );
    // Passed: its database goes now (a failed test's stays for a look).
    services::drop_postgres(&office.journal_url).await;
}

/// The ids of every status event the journal wrote (each published with it as `message_id`).
async fn outbox_ids(journal_url: &str) -> Vec<String> {
    let pool = sqlx::PgPool::connect(journal_url).await.unwrap();
    let ids: Vec<String> = sqlx::query_scalar("SELECT id FROM outbox").fetch_all(&pool).await.unwrap();
    pool.close().await;
    ids
}
