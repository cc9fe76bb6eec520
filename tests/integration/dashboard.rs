//! The dashboard in headless Chromium against a running spooler (`cardspool run` as a process,
//! with its own RabbitMQ vhost and SQLite journal): the counts, printers and rejections the
//! journal holds appear on the page, and nothing does without a token; staff act on jobs and
//! printers from the page (driven through chromedriver), and each action lands in the journal
//! with their name.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use chrono::Utc;

use cardspool::domain::job::JobState;
use cardspool::journal::{Journal, NewRejection};

use crate::support::fixtures::job_along;
use crate::support::services::{self, Vhost};
use crate::support::spooler::Spooler;
use crate::support::{journal, wait::eventually};

const VIEWER: &str = "dashboard-viewer-token-01";
const OPERATOR: &str = "dashboard-operator-token-1";
const SUPERVISOR: &str = "dashboard-supervisor-tok-1";

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
    let plan: [(u32, &[JobState]); 8] = [
        (1, &[JobState::AwaitingAuthorization]),
        (2, &[JobState::AwaitingAuthorization]),
        (3, &[JobState::AwaitingAuthorization]),
        (4, &[JobState::AwaitingAuthorization, JobState::Failed]),
        (5, &[JobState::Rejected]),
        (6, &[]),
        // Authorized in an earlier run that had central's key: without it now, not printed.
        (7, &[JobState::Authorized]),
        (8, &[JobState::Authorized, JobState::Rendered]),
    ];
    for (n, path) in plan {
        job_along(journal, n, path, now).await;
    }
    let rejection = NewRejection {
        payload: b"{\"schema\": 9}",
        event_id: None,
        routing_key: "enrollment.completed".into(),
        reason: "schema: version 9 is not supported".into(),
    };
    journal.record_rejection(&rejection, now).await.unwrap();
}

/// What both tests start from: Chromium and RabbitMQ checked, a vhost, a directory, and a
/// SQLite journal in it (with its URL, for the spooler).
async fn prepare() -> (Vhost, tempfile::TempDir, String, Journal) {
    chromium();
    services::require_rabbitmq().await;
    let vhost = Vhost::new();
    let dir = tempfile::tempdir().unwrap();
    let journal_url = services::sqlite_url(dir.path());
    let journal = journal::at(&journal_url).await;
    (vhost, dir, journal_url, journal)
}

fn write_config(dir: &Path) {
    let out = dir.join("printed-cards");
    std::fs::create_dir(&out).unwrap();
    let config = format!(
        "[api]\ntokens = [{{ name = \"vera\", token = \"{VIEWER}\", role = \"viewer\" }}, \
         {{ name = \"rina\", token = \"{OPERATOR}\", role = \"operator\" }}, \
         {{ name = \"sari\", token = \"{SUPERVISOR}\", role = \"supervisor\" }}]\n\n\
         [[printers]]\nname = \"card-1\"\nuri = \"dir://{}\"\npool = \"ektp\"\n\n\
         [[printers]]\nname = \"card-2\"\nuri = \"dir://{}\"\npool = \"ektp\"\n\n\
         [printing]\nstatus_poll_ms = 200\n",
        out.display(),
        dir.join("unplugged").display()
    );
    std::fs::write(dir.join("cardspool.toml"), config).unwrap();
}

/// Starts the spooler over `journal_url` with the dashboard's configuration and waits until its
/// API answers and its printers have been checked: the API's base URL.
async fn start_spooler(vhost: &Vhost, journal_url: &str, dir: &Path) -> (Spooler, String) {
    write_config(dir);
    let spooler = Spooler::start(vhost, journal_url, dir, &[]);
    let mut addr = String::new();
    eventually("the API's address in the log", Duration::from_secs(30), || {
        let log = spooler.log_text();
        if let Some(found) = log.lines().find_map(|l| l.split("api listening scheme=http addr=").nth(1)) {
            found.trim().clone_into(&mut addr);
        }
        let found = !addr.is_empty();
        async move { found }
    })
    .await;
    let base = format!("http://{addr}");
    // The dispatch worker checks its printers at start; the page shows what it found.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::Client::new();
    eventually("the printers to be checked", Duration::from_secs(30), || {
        let request = client.get(format!("{base}/api/v1/printers")).bearer_auth(VIEWER).send();
        async move {
            let Ok(response) = request.await else { return false };
            let text = response.text().await.unwrap_or_default();
            !text.contains("unchecked") && text.contains("card-2")
        }
    })
    .await;

    (spooler, base)
}

/// No queue is bound to the status exchange in these tests: the jobs' status events are held
/// back (and the page says so) once the publisher has tried.
async fn status_events_held_back(base: &str) {
    let summary = format!("{base}/api/v1/summary");
    eventually("the status events held back", Duration::from_secs(30), || {
        let request = reqwest::Client::new().get(&summary).bearer_auth(VIEWER).send();
        async move {
            let Ok(response) = request.await else { return false };
            let summary: serde_json::Value = response.json().await.unwrap_or_default();
            summary["status_events"]["held_back"].is_object()
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_shows_what_waits_printers_and_rejections() {
    let (vhost, dir, journal_url, journal) = prepare().await;
    journal_jobs(&journal).await;
    journal.close().await;

    let (spooler, base) = start_spooler(&vhost, &journal_url, dir.path()).await;
    // No central key configured: the spooler runs, but is not ready, and says why.
    let ready = reqwest::get(format!("{base}/readyz")).await.unwrap();
    assert_eq!(ready.status(), reqwest::StatusCode::SERVICE_UNAVAILABLE);
    let ready: serde_json::Value = ready.json().await.unwrap();
    assert_eq!(ready["central"], "central.public_key is not configured", "{ready}");
    status_events_held_back(&base).await;
    // In English, asked for in the address (the office's default is Bahasa Indonesia).
    let url = format!("{base}/?lang=en#token={VIEWER}");
    let dom = tokio::task::spawn_blocking(move || dump_dom(&url)).await.unwrap();
    assert!(dom.contains("<html lang=\"en\""), "{dom}");
    for expected in [
        "Status events to upstream held back since ",
        "no queue is bound to exchange cardspool.status for routing key card.queued",
        "id=\"count-failed\">1</td>",
        "id=\"count-rejected\">1</td>",
        "id=\"count-printed\">0</td>",
        "id=\"total\">8</span>",
        "4 cards waiting for central's authorization",
        "1 card waiting for staff",
        "2 cards waiting for a printer",
        "schema: version 9 is not supported",
        "Central authorization does not run in this spooler: no card is authorized or printed \
         (central.public_key is not configured).",
        "1 distinct event refused, 1 delivery in all.",
    ] {
        assert!(dom.contains(expected), "the dashboard lacks {expected:?}:\n{dom}");
    }
    // Times in the office's zone (WIB by default), the Indonesian way: 01-12-2026 22:36 WIB.
    let received = dom.split("the oldest received ").nth(1).expect("an oldest time").get(..20).unwrap().to_owned();
    let shape: String = received.chars().map(|c| if c.is_ascii_digit() { '9' } else { c }).collect();
    assert_eq!(shape, "99-99-9999 99:99 WIB", "{received}");
    let card_1 = dom.split("id=\"printer-card-1\"").nth(1).expect("card-1 listed").split("</tr>").next().unwrap();
    assert!(card_1.contains(">ready<"), "{card_1}");
    let card_2 = dom.split("id=\"printer-card-2\"").nth(1).expect("card-2 listed").split("</tr>").next().unwrap();
    assert!(card_2.contains("faulted: unreachable"), "{card_2}");
    assert!(dom.contains("test: failed"), "the failed job and why are listed for staff");
    assert!(!dom.contains("1502015203850005"), "no full NIK on the page");

    // Without a token the page shows no data, only what to do (in the office's language: a new
    // browser has chosen none).
    let dom = tokio::task::spawn_blocking(move || dump_dom(&format!("{base}/"))).await.unwrap();
    assert!(dom.contains("<html lang=\"id\""), "{dom}");
    assert!(dom.contains("Token ditolak oleh API: masukkan token petugas di atas."), "{dom}");
    assert!(dom.contains("id=\"total\">–</span>"), "{dom}");
    // Fail closed: the cards authorized before are neither drawn nor printed without the key
    // to check their authorizations (the printer card-1 was ready all along).
    let status = spooler.terminate();
    assert!(status.success(), "the spooler stops cleanly: {status:?}");
    assert_eq!(std::fs::read_dir(dir.path().join("printed-cards")).unwrap().count(), 0, "no card printed");
    let journal = journal::at(&journal_url).await;
    let by_state = journal.count_by_state().await.unwrap();
    assert_eq!((by_state.get(&JobState::Authorized), by_state.get(&JobState::Rendered)), (Some(&1), Some(&1)));
}

const CHROMEDRIVER_HINT: &str =
    "chromedriver is needed for this test: install it with `apt-get install -y chromium-driver` \
     (Debian package chromium-driver), or run .ci/run which installs it";

/// Headless Chromium under chromedriver, ended with the test.
struct Browser {
    driver: std::process::Child,
    client: Option<fantoccini::Client>,
}

impl Browser {
    async fn start(profile: &Path) -> Browser {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let driver = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap_or_else(|error| panic!("cannot start chromedriver: {error}\n{CHROMEDRIVER_HINT}"));
        let mut browser = Browser { driver, client: None };
        let capabilities: serde_json::Map<String, serde_json::Value> = serde_json::from_value(serde_json::json!({
            "goog:chromeOptions": {
                "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                         "--window-size=1400,1000", format!("--user-data-dir={}", profile.display())],
            }
        }))
        .unwrap();
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let mut last_error = String::new();
        for _ in 0..100 {
            match fantoccini::ClientBuilder::new(connector.clone())
                .capabilities(capabilities.clone())
                .connect(&format!("http://127.0.0.1:{port}"))
                .await
            {
                Ok(client) => {
                    browser.client = Some(client);
                    return browser;
                }
                // chromedriver takes a moment to listen.
                Err(error) => last_error = error.to_string(),
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("chromedriver gave no browser session: {last_error}\n{CHROMEDRIVER_HINT}");
    }

    fn page(&self) -> &fantoccini::Client {
        self.client.as_ref().unwrap()
    }

    async fn click(&self, css: &str) {
        let mut last_error = String::new();
        // The page redraws its tables every few seconds: an element found just before a redraw
        // is gone when clicked, and is looked up again.
        for _ in 0..3 {
            let element = self
                .page()
                .wait()
                .at_most(Duration::from_secs(15))
                .for_element(fantoccini::Locator::Css(css))
                .await
                .unwrap_or_else(|error| panic!("no {css} on the page: {error}"));
            match element.click().await {
                Ok(()) => return,
                Err(error) => last_error = error.to_string(),
            }
        }
        panic!("cannot click {css}: {last_error}");
    }

    async fn type_into(&self, css: &str, text: &str) {
        let element = self.page().find(fantoccini::Locator::Css(css)).await.unwrap();
        element.clear().await.unwrap();
        element.send_keys(text).await.unwrap();
    }

    async fn select(&self, css: &str, value: &str) {
        let element = self.page().find(fantoccini::Locator::Css(css)).await.unwrap();
        element.select_by_value(value).await.unwrap();
    }

    /// Waits until the element's text contains `expected`; its text then.
    async fn text_contains(&self, css: &str, expected: &str) -> String {
        let mut text = String::new();
        for _ in 0..150 {
            if let Ok(element) = self.page().find(fantoccini::Locator::Css(css)).await {
                text = element.text().await.unwrap_or_default();
                if text.contains(expected) {
                    return text;
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("{css} never said {expected:?}; it says {text:?}");
    }

    async fn close(mut self) {
        if let Some(client) = self.client.take() {
            client.close().await.unwrap();
        }
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// The job's audit trail as the API shows it: (to, actor name, reason) per entry.
async fn trail(base: &str, job: cardspool::domain::job::JobId) -> Vec<(String, String, String)> {
    let detail: serde_json::Value = reqwest::Client::new()
        .get(format!("{base}/api/v1/jobs/{job}"))
        .bearer_auth(VIEWER)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    detail["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| {
            let text = |v: &serde_json::Value| v.as_str().unwrap_or_default().to_owned();
            (text(&entry["to"]), text(&entry["actor"]["name"]), text(&entry["reason"]))
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_act_on_jobs_and_printers_from_the_dashboard() {
    use JobState::{Authorized, AwaitingAuthorization as Waiting, Failed, Held, Printed, Printing, Rendered, Unknown};
    let (vhost, dir, journal_url, journal) = prepare().await;
    let now = Utc::now();
    let failed = job_along(&journal, 11, &[Waiting, Failed], now).await;
    let held = job_along(&journal, 12, &[Waiting, Held], now).await;
    let in_doubt = job_along(&journal, 13, &[Waiting, Authorized, Rendered, Printing, Unknown], now).await;
    let printed = job_along(&journal, 14, &[Waiting, Authorized, Rendered, Printing, Printed], now).await;
    journal.close().await;
    let (spooler, base) = start_spooler(&vhost, &journal_url, dir.path()).await;
    let profile = tempfile::tempdir().unwrap();
    let browser = Browser::start(profile.path()).await;
    browser.page().goto(&format!("{base}/?lang=en#token={OPERATOR}")).await.unwrap();
    // The token (and the language, now remembered) leave the address bar and the history once
    // the page has read them.
    let address = browser.page().current_url().await.unwrap();
    assert!(!address.as_str().contains(OPERATOR) && address.fragment().is_none(), "{address}");
    assert!(address.query().is_none(), "{address}");

    // "When will my card be ready?": the held job waits for staff.
    browser.click(&format!("#staff-jobs tr[data-job='{held}'] button[data-action='when?']")).await;
    browser.text_contains("#notice", "held: waiting for staff").await;

    // An operator retries the failed job: it asks central again.
    browser.click(&format!("#staff-jobs tr[data-job='{failed}'] button[data-action='retry']")).await;
    browser.type_into("#act-reason", "central cleared the record").await;
    browser.click("#act-confirm").await;
    browser.text_contains("#notice", "is now waiting for central's authorization").await;
    let last = trail(&base, failed).await.pop().unwrap();
    assert_eq!(
        last,
        ("awaiting_authorization".into(), "rina".into(), "retried by rina: central cleared the record".into())
    );

    // ... releases the held one, with no reason needed.
    browser.click(&format!("#staff-jobs tr[data-job='{held}'] button[data-action='release']")).await;
    browser.click("#act-confirm").await;
    browser.text_contains("#notice", "is now waiting for central's authorization").await;
    assert_eq!(trail(&base, held).await.pop().unwrap().1, "rina");

    // ... may not settle a card in doubt: the page says who may.
    browser.click(&format!("#staff-jobs tr[data-job='{in_doubt}'] button[data-action='resolve']")).await;
    browser.select("#act-outcome", "not_printed").await;
    browser.type_into("#act-reason", "hopper checked, no card").await;
    browser.click("#act-confirm").await;
    browser.text_contains("#act-error", "needs the supervisor role").await;
    browser.click("#act-cancel").await;
    assert_eq!(trail(&base, in_doubt).await.pop().unwrap().0, "unknown", "nothing changed");

    // A supervisor's token, entered on the page, settles it: the card is printed again.
    browser.type_into("#token", SUPERVISOR).await;
    browser.click("#save").await;
    browser.click(&format!("#staff-jobs tr[data-job='{in_doubt}'] button[data-action='resolve']")).await;
    browser.select("#act-outcome", "not_printed").await;
    browser.type_into("#act-reason", "hopper checked, no card").await;
    browser.click("#act-confirm").await;
    browser.text_contains("#notice", "is now rendered").await;
    let resolved = trail(&base, in_doubt).await;
    assert!(
        resolved.iter().any(|(to, by, why)| to == "rendered"
            && by == "sari"
            && why == "resolved by sari as not printed: hopper checked, no card"),
        "{resolved:?}"
    );

    // A printed card found by its holder's full NIK is marked spoiled; the reason is required.
    browser.type_into("#find-q", "1502015203850015").await;
    browser.click("#find button[type='submit']").await;
    browser.click(&format!("#found tr[data-job='{printed}'] button[data-action='spoiled']")).await;
    browser.click("#act-confirm").await;
    assert!(
        browser.page().find(fantoccini::Locator::Css("dialog#act[open]")).await.is_ok(),
        "an empty reason keeps the dialog open"
    );
    browser.type_into("#act-reason", "ribbon streak across the photo").await;
    browser.click("#act-confirm").await;
    browser.text_contains("#notice", "is now spoiled").await;
    assert_eq!(trail(&base, printed).await.pop().unwrap().0, "spoiled");

    // Printers are paused and resumed from their row.
    browser.click("#printer-card-1 button[data-action='pause']").await;
    browser.text_contains("#printer-card-1", "paused by sari").await;
    browser.click("#printer-card-1 button[data-action='resume']").await;
    browser.text_contains("#notice", "card-1 is resumed").await;
    // Blanks put into a printer are recorded from its row (an operator's count).
    browser.click("#printer-card-1 button[data-action='load blanks']").await;
    browser.page().send_alert_text("12").await.unwrap();
    browser.page().accept_alert().await.unwrap();
    browser.text_contains("#notice", "12 blanks loaded into card-1: 12 in it now.").await;
    browser.text_contains("#printer-card-1", "12 (low: load blanks)").await;
    browser.text_contains("#printers-note", "Load blank cards: card-1 (12 left).").await;
    // ... and sent a test card, after a confirmation (a blank is used).
    browser.click("#printer-card-1 button[data-action='test card']").await;
    browser.page().accept_alert().await.unwrap();
    let sent = browser.text_contains("#notice", "Test card sent to card-1 as test-").await;
    let test_name = sent.split(" as ").nth(1).unwrap().trim_end_matches('.').to_owned();
    let folder = dir.path().join("printed-cards");
    eventually("the test card in card-1's folder", Duration::from_secs(20), || {
        let arrived = std::fs::read_dir(&folder)
            .is_ok_and(|entries| entries.flatten().any(|e| e.file_name().to_string_lossy().contains(&test_name)));
        async move { arrived }
    })
    .await;

    // The test card took a blank from the count.
    browser.text_contains("#printer-card-1", "11 (low: load blanks)").await;

    // The daily report is fetched with the staff member's token and saved.
    browser.click("#report-csv").await;
    browser.text_contains("#notice", "Daily report saved as laporan-harian-1502-").await;

    // The loaded templates are listed, with a preview of the specimen card.
    browser.text_contains("#template-ektp", "85.60 × 53.98 mm, 2 sides").await;
    let windows = browser.page().windows().await.unwrap().len();
    browser.click("#template-ektp button[data-action='preview']").await;
    for _ in 0..100 {
        if browser.page().windows().await.unwrap().len() > windows {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(browser.page().windows().await.unwrap().len(), windows + 1, "the preview opens beside the dashboard");

    browser.close().await;
    let status = spooler.terminate();
    assert!(status.success(), "the spooler stops cleanly: {status:?}");
}

/// The failed job's reason as the API gives it to a reader of `lang`.
async fn failed_job_reason(base: &str, lang: &str) -> String {
    let page: serde_json::Value = reqwest::Client::new()
        .get(format!("{base}/api/v1/jobs?state=failed"))
        .bearer_auth(VIEWER)
        .header("accept-language", lang)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    page["jobs"][0]["reason"].as_str().expect("the failed job and its reason").to_owned()
}

async fn language_of_page(browser: &Browser) -> String {
    let root = browser.page().find(fantoccini::Locator::Css("html")).await.unwrap();
    root.attr("lang").await.unwrap().unwrap_or_default()
}

/// With `CARDSPOOL_SCREENSHOTS=<dir>`, the page as it looks now, saved as
/// `<dir>/dashboard-<lang>.png` (the pictures in docs/ are made so); without it, nothing.
async fn screenshot(browser: &Browser, lang: &str) {
    let Some(dir) = std::env::var_os("CARDSPOOL_SCREENSHOTS") else { return };
    let png = browser.page().screenshot().await.unwrap();
    let path = Path::new(&dir).join(format!("dashboard-{lang}.png"));
    std::fs::write(&path, png).unwrap_or_else(|error| panic!("cannot write {}: {error}", path.display()));
}

/// The page speaks the office's language (`[api] language`, Bahasa Indonesia unless configured
/// otherwise) until staff choose English with the switch, which the browser remembers; the
/// API's texts for people (a job's reason) come in the chosen language too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_speaks_bahasa_indonesia_until_english_is_chosen() {
    let (vhost, dir, journal_url, journal) = prepare().await;
    journal_jobs(&journal).await;
    journal.close().await;
    let (spooler, base) = start_spooler(&vhost, &journal_url, dir.path()).await;
    status_events_held_back(&base).await;
    let profile = tempfile::tempdir().unwrap();
    let browser = Browser::start(profile.path()).await;
    // A window whose page is about 1280 × 900 (the screenshots).
    browser.page().set_window_size(1280, 1043).await.unwrap();
    browser.page().goto(&format!("{base}/#token={VIEWER}")).await.unwrap();

    browser.text_contains("#states", "menunggu otorisasi pusat").await;
    assert_eq!(language_of_page(&browser).await, "id");
    browser.text_contains("h1", "ruang cetak KTP-el").await;
    browser
        .text_contains("#waiting-authorization", "4 kartu menunggu otorisasi cetak dari pusat, yang terlama diterima")
        .await;
    browser.text_contains("#central", "Otorisasi cetak dari pusat tidak berjalan di spooler ini").await;
    browser.text_contains("#staff-jobs", "gagal (perlu petugas)").await;
    browser.text_contains("#staff-jobs button[data-action='retry']", "coba lagi").await;
    browser.text_contains("#staff-jobs", &failed_job_reason(&base, "id").await).await;
    browser.text_contains("#printer-card-1", "siap").await;
    browser.text_contains("#rejection-counts", "1 event ditolak, 1 kiriman seluruhnya.").await;
    browser.text_contains("#language", "Bahasa Indonesia").await;
    screenshot(&browser, "id").await;

    // Every text changes at once, data stays as it is.
    browser.select("#language", "en").await;
    browser.text_contains("#states", "waiting for central's authorization").await;
    assert_eq!(language_of_page(&browser).await, "en");
    browser.text_contains("h1", "print room").await;
    browser.text_contains("#waiting-authorization", "4 cards waiting for central's authorization").await;
    browser.text_contains("#staff-jobs", "failed (needs staff)").await;
    browser.text_contains("#staff-jobs button[data-action='retry']", "retry").await;
    browser.text_contains("#staff-jobs", &failed_job_reason(&base, "en").await).await;
    browser.text_contains("#printer-card-2", "faulted").await;
    browser.text_contains("#rejection-counts", "1 distinct event refused, 1 delivery in all.").await;
    browser.text_contains("#rejections", "schema: version 9 is not supported").await;
    screenshot(&browser, "en").await;

    // The choice outlives a reload, and the switch goes back.
    browser.page().refresh().await.unwrap();
    browser.text_contains("#waiting-authorization", "4 cards waiting for central's authorization").await;
    assert_eq!(language_of_page(&browser).await, "en");
    browser.select("#language", "id").await;
    browser.text_contains("#waiting-authorization", "4 kartu menunggu").await;
    assert_eq!(language_of_page(&browser).await, "id");

    browser.close().await;
    let status = spooler.terminate();
    assert!(status.success(), "the spooler stops cleanly: {status:?}");
}
