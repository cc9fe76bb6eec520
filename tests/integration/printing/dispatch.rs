//! The dispatch worker against a pool of real IPP printers (ippeveprinter, see
//! tests/printer-sim/) and a real SQLite journal: spreading over the pool, faults per printer,
//! failover, busy retry, a printer killed mid-job, and the spooler itself killed with SIGKILL
//! between submission and completion then restarted — asserting on the printers' own spool
//! folders that every card arrived at most once, and every printed card exactly once.
//!
//! Needs ippeveprinter and dbus-daemon: `apt-get install cups-ipp-utils dbus`.

use std::collections::BTreeMap;
use std::process::{Child, Command};
use std::sync::Arc;
use std::time::Duration;

use cardspool::clock::Clock;
use cardspool::config::{AbortPolicy, Config, PrinterConfig, PrintingConfig};
use cardspool::domain::job::{JobId, JobState};
use cardspool::journal::{ledger_day, CardOutcome, JobRecord, Journal};
use cardspool::printer::pool::{Health, Printers};
use cardspool::printer::spool::Spool;
use cardspool::printer::{Fault, Printer, Submission};
use cardspool::workers::dispatch::{CardRenderer, Dispatch, RenderFailure, TestCardError};
use tokio_util::sync::CancellationToken;

use crate::support::fixtures::job_along;
use crate::support::journal;
use crate::support::printer_sim::{tiny_pdf, SimFault, SimPrinter};
use crate::support::services;
use crate::support::wait::eventually;

/// Renders every job as the same small PDF: these tests are about printing, not layout.
struct PlainCards;

impl CardRenderer for PlainCards {
    fn pool(&self, template: &str) -> Option<String> {
        (template == "ektp").then(|| "ektp".to_owned())
    }

    fn render(
        &self,
        _job: &JobRecord,
        _payload: &[u8],
        _at: chrono::DateTime<chrono::Utc>,
    ) -> Result<Vec<u8>, RenderFailure> {
        Ok(tiny_pdf())
    }

    /// These jobs carry no real authorization (the journal fixtures store a placeholder): the
    /// checks of central's answers are tested in `central::` and with `TemplateCards` below.
    fn authorization_holds(&self, _job: &JobRecord, _at: chrono::DateTime<chrono::Utc>) -> Result<(), RenderFailure> {
        Ok(())
    }

    fn test_card(&self, pool: &str, _at: chrono::DateTime<chrono::Utc>) -> Option<Result<Vec<u8>, RenderFailure>> {
        (pool == "ektp").then(|| Ok(tiny_pdf()))
    }

    fn templates(&self) -> Vec<(String, String)> {
        vec![("ektp".into(), "ektp".into())]
    }
}

/// Draws like [`PlainCards`], but every authorization has lapsed by the time a printer is free.
struct LapsedCards;

impl CardRenderer for LapsedCards {
    fn pool(&self, template: &str) -> Option<String> {
        PlainCards.pool(template)
    }

    fn render(
        &self,
        job: &JobRecord,
        payload: &[u8],
        at: chrono::DateTime<chrono::Utc>,
    ) -> Result<Vec<u8>, RenderFailure> {
        PlainCards.render(job, payload, at)
    }

    fn authorization_holds(&self, _job: &JobRecord, _at: chrono::DateTime<chrono::Utc>) -> Result<(), RenderFailure> {
        Err(RenderFailure {
            reason: "the authorization expired".into(),
            bad_data: false,
            reauthorize: true,
            passing: false,
        })
    }

    fn test_card(&self, pool: &str, at: chrono::DateTime<chrono::Utc>) -> Option<Result<Vec<u8>, RenderFailure>> {
        PlainCards.test_card(pool, at)
    }

    fn templates(&self) -> Vec<(String, String)> {
        PlainCards.templates()
    }
}

/// Draws like [`PlainCards`] for two pools, `ektp` and `kia`, each of its own template.
/// Two pools: `ektp` (template `ektp`) and `kia` (templates `kia` and `kia-lama`).
struct TwoPoolCards;

impl CardRenderer for TwoPoolCards {
    fn pool(&self, template: &str) -> Option<String> {
        match template {
            "ektp" => Some("ektp".to_owned()),
            "kia" | "kia-lama" => Some("kia".to_owned()),
            _ => None,
        }
    }

    fn render(
        &self,
        job: &JobRecord,
        payload: &[u8],
        at: chrono::DateTime<chrono::Utc>,
    ) -> Result<Vec<u8>, RenderFailure> {
        PlainCards.render(job, payload, at)
    }

    fn authorization_holds(&self, job: &JobRecord, at: chrono::DateTime<chrono::Utc>) -> Result<(), RenderFailure> {
        PlainCards.authorization_holds(job, at)
    }

    fn test_card(&self, pool: &str, _at: chrono::DateTime<chrono::Utc>) -> Option<Result<Vec<u8>, RenderFailure>> {
        self.pool(pool).map(|_| Ok(tiny_pdf()))
    }

    fn templates(&self) -> Vec<(String, String)> {
        ["ektp", "kia", "kia-lama"].map(|template| (template.to_owned(), self.pool(template).unwrap())).to_vec()
    }
}

fn printing(spool: &std::path::Path) -> PrintingConfig {
    PrintingConfig {
        spool_dir: spool.to_owned(),
        status_poll_ms: 200,
        follow_poll_ms: 100,
        queue_poll_ms: 100,
        request_timeout_ms: 5_000,
        busy_retry_ms: 200,
        busy_retries: 50,
        in_doubt_timeout_s: 3,
        ..PrintingConfig::default()
    }
}

fn printer_configs(sims: &[SimPrinter]) -> Vec<PrinterConfig> {
    sims.iter().map(SimPrinter::config).collect()
}

fn start_pool(n: usize) -> Vec<SimPrinter> {
    (0..n).map(|i| SimPrinter::start(&format!("card-{}", i + 1))).collect()
}

/// Journals `n` jobs as authorized, as the authorize stage leaves them.
async fn authorized_jobs(journal: &Journal, n: u32) -> Vec<JobId> {
    let mut ids = Vec::new();
    for i in 0..n {
        ids.push(
            job_along(journal, i + 1, &[JobState::AwaitingAuthorization, JobState::Authorized], chrono::Utc::now())
                .await,
        );
    }
    ids
}

struct Running {
    token: CancellationToken,
    task: tokio::task::JoinHandle<()>,
    printers: Printers,
    dispatch: Dispatch,
}

impl Running {
    async fn stop(self) {
        self.token.cancel();
        self.task.await.unwrap();
    }
}

fn start_dispatch(journal: &Journal, sims: &[SimPrinter], printing: PrintingConfig) -> Running {
    start_dispatch_drawing(journal, sims, printing, Arc::new(PlainCards))
}

fn start_dispatch_drawing(
    journal: &Journal,
    sims: &[SimPrinter],
    printing: PrintingConfig,
    cards: Arc<dyn CardRenderer>,
) -> Running {
    start_dispatch_on(journal, &printer_configs(sims), printing, cards)
}

/// As [`start_dispatch_drawing`], on printers of any kind (hot folders, say).
fn start_dispatch_on(
    journal: &Journal,
    configs: &[PrinterConfig],
    printing: PrintingConfig,
    cards: Arc<dyn CardRenderer>,
) -> Running {
    let printers = Printers::from_config(configs, &printing).unwrap();
    let spool = Spool::open(&printing.spool_dir).unwrap();
    let dispatch = Dispatch::new(journal.clone(), printers.clone(), spool, cards, printing, Clock::system());
    let token = CancellationToken::new();
    let task = tokio::spawn(dispatch.clone().run(token.clone()));
    Running { token, task, printers, dispatch }
}

async fn states(journal: &Journal, jobs: &[JobId]) -> Vec<JobState> {
    let mut states = Vec::new();
    for job in jobs {
        states.push(journal.job(*job).await.unwrap().unwrap().state);
    }
    states
}

/// Waits (real time: real printers) until every job is in one of `done`.
async fn wait_for(journal: &Journal, jobs: &[JobId], done: &[JobState], timeout: Duration) -> Vec<JobState> {
    eventually(&format!("jobs in {done:?}"), timeout, || async {
        states(journal, jobs).await.iter().all(|s| done.contains(s))
    })
    .await;
    states(journal, jobs).await
}

fn arrivals(sims: &[SimPrinter], job: JobId) -> usize {
    sims.iter().map(|sim| sim.arrivals(&job.to_string())).sum()
}

#[tokio::test]
async fn a_test_card_goes_to_the_named_printer_and_into_the_ledger_as_test() {
    let dir = tempfile::tempdir().unwrap();
    let journal = journal::sqlite_in(dir.path()).await;
    let sims = start_pool(2);
    let printing = printing(&dir.path().join("spool"));
    let offset = printing.ledger_offset_minutes();
    let running = start_dispatch(&journal, &sims, printing);
    eventually("card-2 checked ready", Duration::from_secs(30), || async {
        running.printers.view("card-2").unwrap().health.is_ready()
    })
    .await;

    let sent = running.dispatch.send_test_card("card-2", "test card by rina: new ribbon".into()).await.unwrap();
    assert!(sent.job_name.starts_with("test-"), "{sent:?}");
    let day = ledger_day(chrono::Utc::now(), offset);
    eventually("the test card in the ledger", Duration::from_secs(30), || async {
        !journal.cards_of_printer_day("card-2", &day).await.unwrap().is_empty()
    })
    .await;
    let cards = journal.cards_of_printer_day("card-2", &day).await.unwrap();
    assert_eq!(cards.len(), 1);
    assert_eq!(
        (cards[0].outcome, cards[0].job_id, cards[0].reason.as_str()),
        (CardOutcome::Test, None, "test card by rina: new ribbon")
    );
    eventually("the test card in card-2's spool", Duration::from_secs(30), || async {
        sims[1].arrivals(&sent.job_name) > 0
    })
    .await;
    assert_eq!((sims[0].arrivals(&sent.job_name), sims[1].arrivals(&sent.job_name)), (0, 1));
    let counts = journal.card_counts(&day, &day).await.unwrap();
    assert_eq!(counts.iter().map(|c| c.count(CardOutcome::Test)).sum::<i64>(), 1, "{counts:?}");

    // A paused printer takes no test card; neither does one that does not exist.
    running.printers.pause("card-1", "rina", None, chrono::Utc::now());
    let refused = running.dispatch.send_test_card("card-1", "test".into()).await.unwrap_err();
    assert!(
        matches!(refused, TestCardError::NotReady { .. }) && refused.to_string().contains("paused by rina"),
        "{refused}"
    );
    assert!(refused.is_retryable());
    let unknown = running.dispatch.send_test_card("card-9", "test".into()).await.unwrap_err();
    assert!(matches!(unknown, TestCardError::UnknownPrinter(_)), "{unknown}");
    running.stop().await;
    assert_eq!(sims[0].arrivals(&sent.job_name), 0);
}

/// The sweep runs beside the printers' loop: a card nobody knows leaves the spool within a
/// sweep's interval (a second with a second's retention), while the cards of the journal's jobs
/// print as usual and files that are not cards stay.
#[tokio::test]
async fn the_spool_sweep_removes_unknown_cards_while_the_printers_print() {
    let dir = tempfile::tempdir().unwrap();
    let journal = journal::sqlite_in(dir.path()).await;
    let sims = start_pool(1);
    let config = PrintingConfig { retention_s: 1, ..printing(&dir.path().join("spool")) };
    let spool = Spool::open(&config.spool_dir).unwrap();
    let unknown = JobId::new();
    spool.write_blocking(unknown, &tiny_pdf()).unwrap();
    std::fs::write(spool.dir().join("notes.txt"), b"not a card").unwrap();
    let jobs = authorized_jobs(&journal, 2).await;
    let running = start_dispatch(&journal, &sims, config);
    eventually("the unknown card swept from the spool", Duration::from_secs(30), || async {
        !spool.path(unknown).exists()
    })
    .await;
    let states = wait_for(&journal, &jobs, &[JobState::Printed], Duration::from_secs(60)).await;
    running.stop().await;
    assert!(states.iter().all(|s| *s == JobState::Printed), "{states:?}");
    assert!(spool.dir().join("notes.txt").exists(), "what is not a card stays");
}

#[tokio::test]
async fn cards_are_spread_over_the_pool_and_each_arrives_once() {
    let dir = tempfile::tempdir().unwrap();
    let journal = journal::sqlite_in(dir.path()).await;
    let sims = start_pool(3);
    let jobs = authorized_jobs(&journal, 6).await;
    let config = printing(&dir.path().join("spool"));
    let running = start_dispatch(&journal, &sims, config.clone());
    let states = wait_for(&journal, &jobs, &[JobState::Printed], Duration::from_secs(60)).await;
    running.stop().await;
    assert!(states.iter().all(|s| *s == JobState::Printed));
    for job in &jobs {
        assert_eq!(arrivals(&sims, *job), 1, "job {job}");
        let record = journal.job(*job).await.unwrap().unwrap();
        assert!(record.printer.is_some() && record.printer_job_id.is_some(), "{record:?}");
        let history = journal.history(*job).await.unwrap();
        let path: Vec<JobState> = history.iter().map(|t| t.to).collect();
        assert_eq!(path[path.len() - 3..], [JobState::Rendered, JobState::Printing, JobState::Printed]);
    }
    for sim in &sims {
        assert!(!sim.received().is_empty(), "{} got no card: round-robin spreads them", sim.name);
    }
    let spool = Spool::open(&config.spool_dir).unwrap();
    assert!(spool.jobs().await.unwrap().is_empty(), "printed cards leave the spool (retention 0)");

    let today = cardspool::journal::ledger_day(chrono::Utc::now(), config.ledger_offset_minutes());
    let counts = journal.card_counts(&today, &today).await.unwrap();
    assert_eq!(counts.iter().map(|c| c.count(CardOutcome::Printed)).sum::<i64>(), 6, "{counts:?}");
    assert_eq!(counts.len(), 3, "one line per printer per day: {counts:?}");
}

#[tokio::test]
async fn faults_stop_their_printer_and_the_pool_prints_on() {
    let dir = tempfile::tempdir().unwrap();
    let journal = journal::sqlite_in(dir.path()).await;
    let sims = start_pool(3);
    sims[0].inject(SimFault::Jam);
    sims[1].inject(SimFault::Hopper);
    let jobs = authorized_jobs(&journal, 5).await;
    let running = start_dispatch(&journal, &sims, printing(&dir.path().join("spool")));
    wait_for(&journal, &jobs, &[JobState::Printed], Duration::from_secs(60)).await;

    let views: BTreeMap<String, Health> =
        running.printers.snapshot().into_iter().map(|view| (view.name, view.health)).collect();
    running.stop().await;
    assert!(matches!(&views["card-1"], Health::Faulted { faults, .. } if faults == &[Fault::MediaJam]), "{views:?}");
    assert!(matches!(&views["card-2"], Health::Faulted { faults, .. } if faults == &[Fault::HopperEmpty]), "{views:?}");
    assert_eq!(views["card-3"], Health::Ready);

    // Every card printed on the healthy printer; the two aborted ones arrived at the faulty
    // printers first, each once.
    for job in &jobs {
        assert_eq!(sims[2].arrivals(&job.to_string()), 1, "job {job}");
    }
    assert_eq!(sims[0].received().len(), 1, "the jammed printer got one card and then none");
    assert_eq!(sims[1].received().len(), 1, "the empty printer got one card and then none");

    let today = cardspool::journal::ledger_day(chrono::Utc::now(), 7 * 60);
    let counts: BTreeMap<String, _> =
        journal.card_counts(&today, &today).await.unwrap().into_iter().map(|c| (c.printer.clone(), c)).collect();
    assert_eq!(counts["card-1"].count(CardOutcome::Spoiled), 1, "a jam eats the blank");
    assert_eq!(counts["card-1"].blanks_used(), 1);
    assert_eq!(counts["card-2"].count(CardOutcome::NotFed), 1, "an empty hopper feeds nothing");
    assert_eq!(counts["card-2"].blanks_used(), 0);
    assert_eq!(counts["card-3"].count(CardOutcome::Printed), 5);

    let jammed = sims[0].received()[0].clone();
    let jammed: JobId = jammed.parse().unwrap();
    let reasons: Vec<String> = journal.history(jammed).await.unwrap().into_iter().map(|t| t.reason).collect();
    assert!(reasons.iter().any(|r| r.contains("aborted by card-1 (media-jam, blank spoiled)")), "{reasons:?}");
    let cards = journal.cards_of_job(jammed).await.unwrap();
    assert_eq!(cards.iter().map(|c| c.outcome).collect::<Vec<_>>(), [CardOutcome::Spoiled, CardOutcome::Printed]);
}

#[tokio::test]
async fn a_job_that_keeps_jamming_goes_to_staff() {
    let dir = tempfile::tempdir().unwrap();
    let journal = journal::sqlite_in(dir.path()).await;
    let sims = start_pool(1);
    sims[0].inject(SimFault::Jam);
    let jobs = authorized_jobs(&journal, 1).await;
    let config = PrintingConfig { on_abort: AbortPolicy::Fail, ..printing(&dir.path().join("spool")) };
    let running = start_dispatch(&journal, &sims, config);
    wait_for(&journal, &jobs, &[JobState::Failed], Duration::from_secs(30)).await;
    running.stop().await;
    let job = journal.job(jobs[0]).await.unwrap().unwrap();
    assert!(job.reason.contains("staff decide"), "{}", job.reason);
    assert_eq!(journal.spoiled_cards_of_job(jobs[0]).await.unwrap(), 1);
}

/// A passing fault while drawing (the spool's disk full or gone) is not for staff: the job
/// waits, says why, and prints once the disk is back.
#[tokio::test]
async fn a_spool_that_cannot_be_written_makes_the_job_wait_then_print_not_fail() {
    let dir = tempfile::tempdir().unwrap();
    let journal = journal::sqlite_in(dir.path()).await;
    let sims = start_pool(1);
    let jobs = authorized_jobs(&journal, 1).await;
    let spool = dir.path().join("spool");
    let running = start_dispatch(&journal, &sims, printing(&spool));
    // The spool's directory is replaced by a file: every write into it fails, as on a lost disk.
    std::fs::remove_dir_all(&spool).unwrap();
    std::fs::write(&spool, b"not a directory").unwrap();
    eventually("the job waiting, saying why", Duration::from_secs(30), || async {
        let job = journal.job(jobs[0]).await.unwrap().unwrap();
        job.state == JobState::Authorized
            && job.reason.starts_with("waiting to be rendered again: cannot write the spool")
    })
    .await;
    let history: Vec<_> = journal.history(jobs[0]).await.unwrap().iter().map(|step| step.to).collect();
    assert!(!history.contains(&JobState::Failed), "{history:?}");
    // The disk is back: the card is drawn and printed, without staff.
    std::fs::remove_file(&spool).unwrap();
    std::fs::create_dir(&spool).unwrap();
    wait_for(&journal, &jobs, &[JobState::Printed], Duration::from_secs(60)).await;
    running.stop().await;
    assert_eq!(arrivals(&sims, jobs[0]), 1);
}

/// The authorization is checked again just before a card goes to a printer: one that lapsed
/// while the card waited sends the job back to central in a new round, and no blank is used.
#[tokio::test]
async fn a_card_whose_authorization_lapsed_is_not_printed_but_asked_for_again() {
    let dir = tempfile::tempdir().unwrap();
    let journal = journal::sqlite_in(dir.path()).await;
    let sims = start_pool(1);
    let jobs = authorized_jobs(&journal, 1).await;
    let running = start_dispatch_drawing(&journal, &sims, printing(&dir.path().join("spool")), Arc::new(LapsedCards));
    wait_for(&journal, &jobs, &[JobState::AwaitingAuthorization], Duration::from_secs(30)).await;
    running.stop().await;
    let job = journal.job(jobs[0]).await.unwrap().unwrap();
    assert_eq!(
        (job.authorization_round, job.authorization.as_deref()),
        (1, None),
        "a new round, the old answer dropped"
    );
    assert!(job.reason.contains("expired"), "{}", job.reason);
    assert_eq!(arrivals(&sims, jobs[0]), 0, "nothing reached the printer");
    let history: Vec<_> = journal.history(jobs[0]).await.unwrap().iter().map(|step| step.to).collect();
    assert!(!history.contains(&JobState::Printing), "{history:?}");
}

#[tokio::test]
async fn a_busy_printer_is_waited_for() {
    let dir = tempfile::tempdir().unwrap();
    let journal = journal::sqlite_in(dir.path()).await;
    let sims = start_pool(1);
    // Someone else's slow job occupies the printer: it answers server-error-busy meanwhile.
    sims[0].inject(SimFault::Slow);
    let other = Printer::from_config(&printer_configs(&sims)[0], &printing(dir.path())).unwrap();
    other
        .submit(&Submission {
            job_name: "someone-else".into(),
            pdf: tiny_pdf(),
            submitted_at: chrono::Utc::now(),
            spooled: None,
        })
        .await
        .unwrap();
    let jobs = authorized_jobs(&journal, 1).await;
    let running = start_dispatch(&journal, &sims, printing(&dir.path().join("spool")));
    wait_for(&journal, &jobs, &[JobState::Printed], Duration::from_secs(30)).await;
    running.stop().await;
    assert_eq!(sims[0].arrivals(&jobs[0].to_string()), 1);
    assert!(sims[0].log().contains("server-error-busy"), "the printer was asked while busy");
}

#[tokio::test]
async fn a_printer_killed_mid_job_leaves_that_job_unknown_and_the_pool_prints_on() {
    let dir = tempfile::tempdir().unwrap();
    let journal = journal::sqlite_in(dir.path()).await;
    let mut sims = start_pool(2);
    sims[0].inject(SimFault::Slow);
    let first = authorized_jobs(&journal, 1).await;
    let running = start_dispatch(&journal, &sims, printing(&dir.path().join("spool")));
    // Wait until the slow printer has the card, then pull its plug.
    eventually("the card on card-1", Duration::from_secs(20), || async { sims[0].arrivals(&first[0].to_string()) > 0 })
        .await;
    sims[0].kill();
    let rest = authorized_jobs(&journal, 3).await;
    wait_for(&journal, &rest, &[JobState::Printed], Duration::from_secs(60)).await;
    wait_for(&journal, &first, &[JobState::Unknown], Duration::from_secs(30)).await;
    running.stop().await;
    for job in &rest {
        assert_eq!(sims[1].arrivals(&job.to_string()), 1);
    }
    let job = journal.job(first[0]).await.unwrap().unwrap();
    assert!(job.reason.contains("did not answer"), "{}", job.reason);
    let cards = journal.cards_of_job(first[0]).await.unwrap();
    assert_eq!(cards.iter().map(|c| c.outcome).collect::<Vec<_>>(), [CardOutcome::Unknown]);
}

/// The spooler as a separate process, killed with SIGKILL by the test below. Not a test by
/// itself: it runs only when that test starts it.
#[tokio::test]
#[ignore = "started as a child process by spooler_killed_between_submission_and_completion"]
async fn dispatch_child_process() {
    let Ok(toml) = std::env::var("CARDSPOOL_TEST_DISPATCH_CONFIG") else {
        panic!("run only by spooler_killed_between_submission_and_completion");
    };
    let config = Config::from_toml_str(&toml).unwrap();
    let journal = journal::at(&config.journal.url).await;
    let printers = Printers::from_config(&config.printers, &config.printing).unwrap();
    let spool = Spool::open(&config.printing.spool_dir).unwrap();
    let dispatch = Dispatch::new(journal, printers, spool, Arc::new(PlainCards), config.printing, Clock::system());
    dispatch.run(CancellationToken::new()).await;
}

fn spawn_spooler(config_toml: &str) -> Child {
    Command::new(std::env::current_exe().unwrap())
        .args([
            "--ignored",
            "--exact",
            "printing::dispatch::dispatch_child_process",
            "--nocapture",
            "--test-threads",
            "1",
        ])
        .env("CARDSPOOL_TEST_DISPATCH_CONFIG", config_toml)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap()
}

#[tokio::test]
async fn spooler_killed_between_submission_and_completion_prints_no_card_twice() {
    let dir = tempfile::tempdir().unwrap();
    let journal = journal::sqlite_in(dir.path()).await;
    let sims = start_pool(3);
    for sim in &sims {
        sim.inject(SimFault::Slow);
    }
    let jobs = authorized_jobs(&journal, 9).await;
    let mut config = Config::default();
    config.journal.url = services::sqlite_url(dir.path());
    config.printers = printer_configs(&sims);
    config.printing = printing(&dir.path().join("spool"));
    let toml = toml::to_string(&config).unwrap();

    // Twice: let the spooler send cards, and kill it while they are on the printers.
    for round in 0..2 {
        let mut child = spawn_spooler(&toml);
        eventually(&format!("round {round}: cards on the printers"), Duration::from_secs(30), || async {
            let on_printers = sims.iter().map(|s| s.received().len()).sum::<usize>();
            let printing = states(&journal, &jobs).await.iter().filter(|s| **s == JobState::Printing).count();
            printing > 0 && on_printers > 3 * round
        })
        .await;
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
    }
    let left_printing = states(&journal, &jobs).await.iter().filter(|s| **s == JobState::Printing).count();
    assert!(left_printing > 0, "the kills should leave jobs printing");

    // Restarted (in this process): reconciliation first, then the rest of the queue.
    for sim in &sims {
        sim.clear_fault();
    }
    let running = start_dispatch(&journal, &sims, config.printing.clone());
    let states = wait_for(&journal, &jobs, &[JobState::Printed, JobState::Unknown], Duration::from_secs(90)).await;
    running.stop().await;

    for (job, state) in jobs.iter().zip(&states) {
        let arrived = arrivals(&sims, *job);
        match state {
            JobState::Printed => assert_eq!(arrived, 1, "printed job {job} arrived {arrived} times"),
            // Killed after journaling `printing` but before the card left: staff decide.
            _ => assert!(arrived <= 1, "unknown job {job} arrived {arrived} times"),
        }
        let history = journal.history(*job).await.unwrap();
        let sent = history.iter().filter(|t| t.to == JobState::Printing).count();
        assert_eq!(sent, 1, "job {job} was journaled as sent {sent} times: {history:?}");
    }
    eprintln!("after restart: {states:?}; left printing by the kills: {left_printing}");
    let printed = states.iter().filter(|s| **s == JobState::Printed).count();
    assert!(printed >= 6, "most jobs print: {states:?}");
}

#[tokio::test]
async fn a_printer_down_to_its_reserve_of_blanks_prints_urgent_cards_only_until_blanks_are_loaded() {
    let dir = tempfile::tempdir().unwrap();
    let journal = journal::sqlite_in(dir.path()).await;
    let sims = start_pool(1);
    // Synthetic event 10 is urgent, 1 is not.
    let normal =
        job_along(&journal, 1, &[JobState::AwaitingAuthorization, JobState::Authorized], chrono::Utc::now()).await;
    let urgent =
        job_along(&journal, 10, &[JobState::AwaitingAuthorization, JobState::Authorized], chrono::Utc::now()).await;
    let config = PrintingConfig { low_stock: 5, reserve_stock: 2, ..printing(&dir.path().join("spool")) };
    // Exactly the reserve from the start: with one blank above it, the normal card could take
    // that one when it happens to be drawn first (seen under a loaded test run).
    assert_eq!(journal.load_blanks("card-1", 2, "rina", chrono::Utc::now()).await.unwrap(), 2);
    let running = start_dispatch(&journal, &sims, config);

    // At the reserve of two: the urgent card may take one of them.
    wait_for(&journal, &[urgent], &[JobState::Printed], Duration::from_secs(60)).await;
    assert_eq!(journal.blank_stock().await.unwrap()["card-1"], 1, "the card took a blank");
    // Many dispatch passes later, the other card still waits for blanks.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(states(&journal, &[normal]).await, [JobState::Rendered], "not printed from the reserve");
    assert_eq!(arrivals(&sims, normal), 0);

    assert_eq!(journal.load_blanks("card-1", 10, "rina", chrono::Utc::now()).await.unwrap(), 11);
    wait_for(&journal, &[normal], &[JobState::Printed], Duration::from_secs(60)).await;
    assert_eq!(journal.blank_stock().await.unwrap()["card-1"], 10);
    running.stop().await;
    assert_eq!((arrivals(&sims, urgent), arrivals(&sims, normal)), (1, 1));
}

/// A hot folder settles a card when it is renamed in: the job goes to `printed` with its ledger
/// line in one commit, without a `sent` line first. A job left `printing` there (the spooler
/// died between the rename and that commit) is settled by the reconciliation from the folder:
/// printed when its card is there, `unknown` for staff when it is not.
#[tokio::test]
async fn a_pool_that_prints_nothing_has_at_most_its_bound_drawn_and_the_other_pool_prints_on() {
    let dir = tempfile::tempdir().unwrap();
    let journal = journal::sqlite_in(dir.path()).await;
    let printing = PrintingConfig { max_drawn_waiting: 3, ..printing(&dir.path().join("spool")) };
    // `kia` (two templates) prints into a hot folder of two slots; `ektp` has no printer, so its
    // drawn cards never leave.
    let kia_printer =
        PrinterConfig { pool: "kia".into(), ..services::folder_printer("kia", &dir.path().join("hot"), 2) };
    let ektp = authorized_jobs(&journal, 10).await;
    let kia = authorized_kia_jobs(&journal, 10).await;

    let running = start_dispatch_on(&journal, &[kia_printer], printing, Arc::new(TwoPoolCards));
    // `kia` goes past its bound of three many times over: drawing goes on as its cards print,
    // for both its templates, claimed one template at a time while `ektp` is full.
    let kia_states = wait_for(&journal, &kia, &[JobState::Printed], Duration::from_secs(60)).await;
    // Ten more passes of the drawing loop (every 100 ms here) for `ektp` to go past its bound,
    // were it not kept.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let ektp_states = states(&journal, &ektp).await;
    running.stop().await;

    assert!(kia_states.iter().all(|state| *state == JobState::Printed), "{kia_states:?}");
    // The first claims take both pools' jobs (urgent first); `ektp` stops once fewer than a
    // batch (three, under a bound of three) fit.
    let drawn = ektp_states.iter().filter(|state| **state == JobState::Rendered).count();
    let undrawn = ektp_states.iter().filter(|state| **state == JobState::Authorized).count();
    assert!((1..=3).contains(&drawn), "ektp: at most its bound drawn: {ektp_states:?}");
    assert_eq!(drawn + undrawn, 10, "ektp: the rest waiting undrawn: {ektp_states:?}");
}

#[tokio::test]
async fn more_cards_drawn_than_a_claim_takes_for_a_pool_that_prints_nothing_hold_up_no_other_pool() {
    let dir = tempfile::tempdir().unwrap();
    let journal = journal::sqlite_in(dir.path()).await;
    // `ektp` has no printer, and room for all its 150 cards drawn: more than a claim of the
    // printers' queue takes at once (a batch, 64), all of them ahead of `kia`'s in the claim
    // order (older; `kia`'s are not urgent).
    let printing = PrintingConfig { max_drawn_waiting: 200, ..printing(&dir.path().join("spool")) };
    let kia_printer =
        PrinterConfig { pool: "kia".into(), ..services::folder_printer("kia", &dir.path().join("hot"), 2) };
    let ektp = authorized_jobs(&journal, 150).await;
    let kia = authorized_kia_jobs(&journal, 10).await;

    let running = start_dispatch_on(&journal, &[kia_printer], printing, Arc::new(TwoPoolCards));
    let kia_states = wait_for(&journal, &kia, &[JobState::Printed], Duration::from_secs(30)).await;
    let ektp_states = states(&journal, &ektp).await;
    running.stop().await;

    assert!(kia_states.iter().all(|state| *state == JobState::Printed), "{kia_states:?}");
    let drawn = ektp_states.iter().filter(|state| **state == JobState::Rendered).count();
    assert_eq!(drawn, 150, "ektp: all drawn and waiting, the case at hand");
}

#[tokio::test]
async fn a_drawn_card_of_a_template_no_longer_loaded_fails_at_start_with_several_pools() {
    use crate::support::fixtures::{parsed, synthetic_payload, walk};
    let dir = tempfile::tempdir().unwrap();
    let journal = journal::sqlite_in(dir.path()).await;
    let printing = printing(&dir.path().join("spool"));
    let kia_printer =
        PrinterConfig { pool: "kia".into(), ..services::folder_printer("kia", &dir.path().join("hot"), 2) };
    let payload = synthetic_payload(&uuid::Uuid::new_v4().to_string(), 7);
    let now = chrono::Utc::now();
    let removed = journal.admit(&parsed(&payload), &payload, "kia-hapus", now).await.unwrap().job_id();
    walk(&journal, removed, JobState::AwaitingAuthorization, &[JobState::Authorized, JobState::Rendered], now).await;
    let kia = authorized_kia_jobs(&journal, 2).await;

    let running = start_dispatch_on(&journal, &[kia_printer], printing, Arc::new(TwoPoolCards));
    let kia_states = wait_for(&journal, &kia, &[JobState::Printed], Duration::from_secs(30)).await;
    let removed_state = states(&journal, &[removed]).await;
    running.stop().await;

    assert!(kia_states.iter().all(|state| *state == JobState::Printed), "{kia_states:?}");
    // Each pool's queue claims its own templates only: without the check at start it would
    // wait in `rendered` for good.
    assert_eq!(removed_state, [JobState::Failed]);
    let history = journal.history(removed).await.unwrap();
    assert!(history.iter().any(|entry| entry.reason.contains("kia-hapus")), "{history:?}");
}

/// `count` authorized jobs of the `kia` pool, none urgent, alternately of its templates `kia`
/// and `kia-lama`.
async fn authorized_kia_jobs(journal: &Journal, count: usize) -> Vec<JobId> {
    use crate::support::fixtures::{parsed, synthetic_payload, walk};
    let mut kia = Vec::new();
    // The synthetic event `n` is urgent when `n` is a multiple of ten.
    for n in (1001..).filter(|n| n % 10 != 0).take(count) {
        let payload = synthetic_payload(&uuid::Uuid::new_v4().to_string(), n);
        let template = if n % 2 == 0 { "kia" } else { "kia-lama" };
        let job = journal.admit(&parsed(&payload), &payload, template, chrono::Utc::now()).await.unwrap().job_id();
        walk(journal, job, JobState::AwaitingAuthorization, &[JobState::Authorized], chrono::Utc::now()).await;
        kia.push(job);
    }
    kia
}

#[tokio::test]
async fn a_hot_folder_settles_each_card_once_and_cards_left_printing_from_what_it_holds() {
    let dir = tempfile::tempdir().unwrap();
    let journal = journal::sqlite_in(dir.path()).await;
    let folder = dir.path().join("hot");
    let printing = printing(&dir.path().join("spool"));
    let configs = [services::folder_printer("hot", &folder, 2)];
    let now = chrono::Utc::now();
    let left_with_card = crate::support::fixtures::job_on_printer(&journal, 90, "hot", now).await;
    std::fs::write(folder.join(format!("{left_with_card}.pdf")), tiny_pdf()).unwrap();
    let left_without_card = crate::support::fixtures::job_on_printer(&journal, 91, "hot", now).await;
    let jobs = authorized_jobs(&journal, 5).await;

    let printers = Printers::from_config(&configs, &printing).unwrap();
    let spool = Spool::open(&printing.spool_dir).unwrap();
    let dispatch = Dispatch::new(journal.clone(), printers, spool, Arc::new(PlainCards), printing, Clock::system());
    let token = CancellationToken::new();
    let task = tokio::spawn(dispatch.run(token.clone()));
    let mut all = jobs.clone();
    all.extend([left_with_card, left_without_card]);
    let states = wait_for(&journal, &all, &[JobState::Printed, JobState::Unknown], Duration::from_secs(60)).await;
    token.cancel();
    task.await.unwrap();

    assert!(states[..jobs.len()].iter().all(|s| *s == JobState::Printed), "{states:?}");
    assert_eq!(states[jobs.len()..], [JobState::Printed, JobState::Unknown]);
    for job in &all {
        let cards = journal.cards_of_job(*job).await.unwrap();
        assert_eq!(cards.len(), 1, "job {job}: one ledger line: {cards:?}");
        assert!(cards[0].settled_at.is_some(), "job {job}: settled, not left `sent`: {cards:?}");
        let expected = if *job == left_without_card { CardOutcome::Unknown } else { CardOutcome::Printed };
        assert_eq!(cards[0].outcome, expected, "job {job}");
        let in_folder = folder.join(format!("{job}.pdf")).exists();
        assert_eq!(in_folder, *job != left_without_card, "job {job}: its card in the folder");
    }
}
