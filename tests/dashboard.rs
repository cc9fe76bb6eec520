//! The dashboard in headless Chromium against a running spooler (`cardspool run` as a process,
//! with its own RabbitMQ vhost and SQLite journal): the counts, printers and rejections the
//! journal holds appear on the page, and nothing does without a token.

mod services;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use chrono::Utc;

use cardspool::domain::event::{parse_event, ImageLimits};
use cardspool::domain::job::JobState;
use cardspool::journal::{Journal, NewRejection, Step};
use services::events::synthetic_payload;
use services::spooler::{wait_for, Spooler};
use services::Vhost;

const VIEWER: &str = "dashboard-viewer-token-01";

const CHROMIUM_HINT: &str = "headless Chromium is needed for this test: install it with `apt-get install -y chromium` \
     (Debian package chromium), or run .ci/run which installs it";

fn chromium() -> &'static str {
    for candidate in ["chromium", "chromium-browser", "google-chrome"] {
        if Command::new(candidate).arg("--version").output().is_ok_and(|o| o.status.success()) {
            return candidate;
        }
    }
    panic!("{CHROMIUM_HINT}");
}

/// The page's DOM after its scripts ran (and fetched from the API), as Chromium serialises it.
fn dump_dom(url: &str) -> String {
    let profile = tempfile::tempdir().unwrap();
    let output = Command::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--no-first-run",
            // Lets the page's fetches and their rendering run before the DOM is dumped.
            "--virtual-time-budget=10000",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg("--dump-dom")
        .arg(url)
        .output()
        .unwrap_or_else(|error| panic!("cannot run chromium: {error}\n{CHROMIUM_HINT}"));
    assert!(output.status.success(), "chromium failed: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).unwrap()
}

async fn journal_jobs(journal: &Journal) {
    let now = Utc::now();
    let plan: [(u32, &[JobState]); 6] = [
        (1, &[JobState::AwaitingAuthorization]),
        (2, &[JobState::AwaitingAuthorization]),
        (3, &[JobState::AwaitingAuthorization]),
        (4, &[JobState::AwaitingAuthorization, JobState::Failed]),
        (5, &[JobState::Rejected]),
        (6, &[]),
    ];
    for (n, path) in plan {
        let payload = synthetic_payload(&uuid::Uuid::new_v4().to_string(), n);
        let event = parse_event(&payload, &ImageLimits::default()).unwrap();
        let job = journal.admit(&event, &payload, "ektp", now).await.unwrap().job_id();
        let mut from = JobState::Received;
        for to in path {
            journal.transition(job, &Step::system(from, *to, format!("test: {to}"), now)).await.unwrap();
            from = *to;
        }
    }
    let rejection = NewRejection {
        payload: b"{\"schema\": 9}",
        event_id: None,
        routing_key: "enrollment.completed".into(),
        reason: "schema: version 9 is not supported".into(),
    };
    journal.record_rejection(&rejection, now).await.unwrap();
}

fn write_config(dir: &Path) {
    let out = dir.join("printed-cards");
    std::fs::create_dir(&out).unwrap();
    let config = format!(
        "[api]\ntokens = [{{ name = \"vera\", token = \"{VIEWER}\", role = \"viewer\" }}]\n\n\
         [[printers]]\nname = \"card-1\"\nuri = \"dir://{}\"\npool = \"ektp\"\n\n\
         [[printers]]\nname = \"card-2\"\nuri = \"dir://{}\"\npool = \"ektp\"\n\n\
         [printing]\nstatus_poll_ms = 200\n",
        out.display(),
        dir.join("unplugged").display()
    );
    std::fs::write(dir.join("cardspool.toml"), config).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_shows_what_waits_printers_and_rejections() {
    chromium();
    services::require_rabbitmq().await;
    let vhost = Vhost::new();
    let dir = tempfile::tempdir().unwrap();
    let journal_url = services::sqlite_url(dir.path());
    let journal = Journal::open(&journal_url, 2).await.unwrap();
    journal_jobs(&journal).await;
    journal.close().await;
    write_config(dir.path());

    let spooler = Spooler::start(&vhost, &journal_url, dir.path(), &[]);
    let mut addr = String::new();
    wait_for("the API's address in the log", Duration::from_secs(30), || {
        let log = spooler.log_text();
        if let Some(found) = log.lines().find_map(|l| l.split("api listening addr=").nth(1)) {
            addr = found.trim().to_owned();
        }
        let found = !addr.is_empty();
        async move { found }
    })
    .await;
    let base = format!("http://{addr}");
    // The dispatch worker checks its printers at start; the page shows what it found.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::Client::new();
    wait_for("the printers to be checked", Duration::from_secs(30), || {
        let request = client.get(format!("{base}/api/v1/printers")).bearer_auth(VIEWER).send();
        async move {
            let Ok(response) = request.await else { return false };
            let text = response.text().await.unwrap_or_default();
            !text.contains("unchecked") && text.contains("card-2")
        }
    })
    .await;

    let dom = tokio::task::spawn_blocking(move || dump_dom(&format!("{base}/#token={VIEWER}"))).await.unwrap();
    // Received and awaiting_authorization are not checked apart: an authorize worker may move
    // the received job on meanwhile; together they are what waits for central.
    for expected in [
        "id=\"count-failed\">1</td>",
        "id=\"count-rejected\">1</td>",
        "id=\"count-printed\">0</td>",
        "id=\"total\">6</span>",
        "4 cards waiting for central's authorization",
        "1 card waiting for staff",
        "Nothing waiting for a printer.",
        "schema: version 9 is not supported",
        "Central authorization does not run in this spooler",
        "1 distinct events refused, 1 deliveries in all.",
    ] {
        assert!(dom.contains(expected), "the dashboard lacks {expected:?}:\n{dom}");
    }
    let card_1 = dom.split("id=\"printer-card-1\"").nth(1).expect("card-1 listed").split("</tr>").next().unwrap();
    assert!(card_1.contains(">ready<"), "{card_1}");
    let card_2 = dom.split("id=\"printer-card-2\"").nth(1).expect("card-2 listed").split("</tr>").next().unwrap();
    assert!(card_2.contains("faulted: unreachable"), "{card_2}");
    assert!(dom.contains("test: failed"), "the failed job and why are listed for staff");
    assert!(!dom.contains("1502015203850005"), "no full NIK on the page");

    // Without a token the page shows no data, only what to do.
    let base = format!("http://{addr}");
    let dom = tokio::task::spawn_blocking(move || dump_dom(&format!("{base}/"))).await.unwrap();
    assert!(dom.contains("The API refused the token"), "{dom}");
    assert!(dom.contains("id=\"total\">–</span>"), "{dom}");
    let status = spooler.terminate();
    assert!(status.success(), "the spooler stops cleanly: {status:?}");
}
