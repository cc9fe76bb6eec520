//! `cardspool jobs|printers ...` as a process, against the API running in this test.

use std::process::Output;

use serde_json::Value;

use crate::support::api::{self, Harness, OPERATOR, SUPERVISOR, VIEWER};
use crate::support::services;
use cardspool::domain::job::{Actor, JobState};

/// Runs the binary from an empty directory (no `cardspool.toml`), with only the environment
/// given (plus PATH), and returns its output.
async fn cardspool(args: &[&str], env: &[(&str, &str)]) -> Output {
    let dir = tempfile::tempdir().unwrap();
    let mut command = tokio::process::Command::new(services::binary());
    command.args(args).current_dir(dir.path()).env_clear().env("PATH", std::env::var("PATH").unwrap_or_default());
    command.env("CARDSPOOL_LOG__FILTER", "warn");
    for (key, value) in env {
        command.env(key, value);
    }
    command.output().await.unwrap()
}

fn stdout(output: &Output) -> String {
    assert!(
        output.status.success(),
        "exit {:?}\nstdout: {}\nstderr: {}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout.clone()).unwrap()
}

fn stderr(output: &Output) -> String {
    assert!(!output.status.success(), "expected a failure, got: {}", String::from_utf8_lossy(&output.stdout));
    String::from_utf8(output.stderr.clone()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jobs_are_listed_shown_and_acted_on_from_the_command_line() {
    let api = Harness::start().await;
    let waiting = api.job_in(1, JobState::AwaitingAuthorization).await;
    let failed = api.job_in(2, JobState::Failed).await;
    let printed = api.job_in(3, JobState::Printed).await;
    let unknown = api.job_in(4, JobState::Unknown).await;
    let base = api.base.clone();
    let with = |token: &'static str| [("CARDSPOOL_TOKEN", token)];

    // list: a table by default, every job once, newest first.
    let table = stdout(&cardspool(&["jobs", "list", "--api", &base], &with(VIEWER)).await);
    let lines: Vec<&str> = table.lines().collect();
    assert!(lines[0].starts_with("ID") && lines[0].contains("STATE") && lines[0].contains("REASON"), "{table}");
    assert_eq!(lines.len(), 5, "{table}");
    assert!(lines[1].starts_with(&unknown.to_string()) && lines[4].starts_with(&waiting.to_string()), "{table}");
    assert!(lines[2].contains("printed") && lines[2].contains("1502**********04"), "{table}");
    // Filters, pages and JSON.
    let only_failed = stdout(&cardspool(&["jobs", "list", "--api", &base, "--state", "failed"], &with(VIEWER)).await);
    assert_eq!(only_failed.lines().count(), 2, "{only_failed}");
    assert!(only_failed.contains(&failed.to_string()));
    let first = stdout(&cardspool(&["jobs", "list", "--api", &base, "--limit", "3"], &with(VIEWER)).await);
    let cursor = first.lines().last().unwrap().strip_prefix("more: --cursor ").expect("a cursor line").to_owned();
    let rest =
        stdout(&cardspool(&["jobs", "list", "--api", &base, "--limit", "3", "--cursor", &cursor], &with(VIEWER)).await);
    assert_eq!(rest.lines().count(), 2, "{rest}");
    assert!(rest.contains(&waiting.to_string()));
    let json =
        stdout(&cardspool(&["jobs", "list", "--api", &base, "--json", "--q", "1502015203850003"], &with(VIEWER)).await);
    let page: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(page["jobs"][0]["id"], failed.to_string(), "search by full NIK");
    assert!(!json.contains("1502015203850003"));

    // hold then release, as an operator; the journal names her.
    let id = waiting.to_string();
    let held = stdout(
        &cardspool(&["jobs", "hold", &id, "--api", &base, "--reason", "address to check"], &with(OPERATOR)).await,
    );
    assert!(held.contains("held — held by rina: address to check"), "{held}");
    assert_eq!(api.journal.history(waiting).await.unwrap().last().unwrap().actor, Actor::Staff("rina".into()));
    // Holding it again: the intent is met already, said and not refused; nothing is written.
    let steps = api.journal.history(waiting).await.unwrap().len();
    let again = stdout(&cardspool(&["jobs", "hold", &id, "--api", &base], &with(OPERATOR)).await);
    assert_eq!(again, format!("job {id}: already held\n"));
    assert_eq!(api.journal.history(waiting).await.unwrap().len(), steps);
    let shown = stdout(&cardspool(&["jobs", "show", &id, "--api", &base], &with(VIEWER)).await);
    assert!(shown.contains("held from") && shown.contains("awaiting_authorization"), "{shown}");
    assert!(shown.contains("awaiting_authorization → held") && shown.contains("rina"), "{shown}");
    assert!(shown.contains("actions       release, cancel"), "{shown}");
    stdout(&cardspool(&["jobs", "release", &id, "--api", &base], &with(OPERATOR)).await);
    assert_eq!(api.state_of(waiting).await, JobState::AwaitingAuthorization);

    // retry; reprint needs a supervisor and a reason; resolve takes an outcome.
    stdout(&cardspool(&["jobs", "retry", &failed.to_string(), "--api", &base], &with(OPERATOR)).await);
    assert_eq!(api.state_of(failed).await, JobState::AwaitingAuthorization);
    let refused =
        cardspool(&["jobs", "reprint", &printed.to_string(), "--api", &base, "--reason", "lost"], &with(OPERATOR))
            .await;
    assert!(stderr(&refused).contains("needs the supervisor role"), "{}", stderr(&refused));
    let usage = cardspool(&["jobs", "reprint", &printed.to_string(), "--api", &base], &with(SUPERVISOR)).await;
    assert!(stderr(&usage).contains("--reason"));
    stdout(
        &cardspool(&["jobs", "reprint", &printed.to_string(), "--api", &base, "--reason", "lost"], &with(SUPERVISOR))
            .await,
    );
    assert_eq!(api.state_of(printed).await, JobState::AwaitingAuthorization);
    let resolved = stdout(
        &cardspool(
            &[
                "jobs",
                "resolve",
                &unknown.to_string(),
                "--api",
                &base,
                "--reason",
                "tray empty",
                "--outcome",
                "not_printed",
            ],
            &with(SUPERVISOR),
        )
        .await,
    );
    assert!(resolved.contains("rendered") && resolved.contains("not fed"), "{resolved}");

    // An illegal step says why; so do a missing token and an unreachable API.
    let conflict =
        cardspool(&["jobs", "spoiled", &failed.to_string(), "--api", &base, "--reason", "x"], &with(OPERATOR)).await;
    assert!(stderr(&conflict).contains("only a printed card can be marked spoiled"), "{}", stderr(&conflict));
    let spoil = cardspool(&["jobs", "release", &id, "--api", &base], &with(OPERATOR)).await;
    assert!(stderr(&spoil).contains("not held") && stderr(&spoil).contains("HTTP 409"), "{}", stderr(&spoil));
    let anonymous = cardspool(&["jobs", "list", "--api", &base], &[]).await;
    assert!(stderr(&anonymous).contains("--token or CARDSPOOL_TOKEN"), "{}", stderr(&anonymous));
    let nowhere = cardspool(&["jobs", "list", "--api", "http://127.0.0.1:9"], &with(VIEWER)).await;
    let said = stderr(&nowhere);
    assert!(said.contains("cannot connect to 127.0.0.1:9: is `cardspool run` running there?"), "{said}");
    assert!(!said.contains("error sending request") && said.lines().count() == 1, "one sentence: {said}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_address_defaults_to_the_configured_listen_address() {
    let api = Harness::start().await;
    api.job_in(1, JobState::AwaitingAuthorization).await;
    let listen = api.base.trim_start_matches("http://").to_owned();
    let env = [("CARDSPOOL_API__LISTEN", listen.as_str()), ("CARDSPOOL_TOKEN", VIEWER)];
    let table = stdout(&cardspool(&["jobs", "list"], &env).await);
    assert_eq!(table.lines().count(), 2, "{table}");
    let table = stdout(&cardspool(&["jobs", "list", "--token", VIEWER, "--state", "printed"], &env[..1]).await);
    assert_eq!(table, "no jobs\n");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn printers_are_listed_paused_and_resumed_from_the_command_line() {
    let (api, printers) = api::with_two_folder_printers().await;
    let base = api.base.clone();

    let table = stdout(&cardspool(&["printers", "list", "--api", &base], &[("CARDSPOOL_TOKEN", VIEWER)]).await);
    let lines: Vec<&str> = table.lines().collect();
    assert!(lines[1].starts_with("card-1") && lines[1].ends_with("ready"), "{table}");
    assert!(lines[2].starts_with("card-2") && lines[2].contains("faulted: unreachable"), "{table}");
    let refused = cardspool(&["printers", "pause", "card-1", "--api", &base, "--token", VIEWER], &[]).await;
    assert!(stderr(&refused).contains("operator"));
    let paused = stdout(
        &cardspool(
            &["printers", "pause", "card-1", "--reason", "ribbon being changed", "--api", &base, "--token", OPERATOR],
            &[],
        )
        .await,
    );
    assert!(paused.starts_with("card-1: paused — paused by rina since "), "{paused}");
    assert!(paused.trim_end().ends_with(": ribbon being changed"), "the reason is shown to the others: {paused}");
    assert!(printers.acquire("ektp").is_none());
    let resumed = stdout(&cardspool(&["printers", "resume", "card-1", "--api", &base, "--token", OPERATOR], &[]).await);
    assert_eq!(resumed, "card-1: ready\n");
    let json = stdout(&cardspool(&["printers", "list", "--api", &base, "--json", "--token", VIEWER], &[]).await);
    let listed: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(listed["printers"].as_array().unwrap().len(), 2);
    let missing = cardspool(&["printers", "pause", "card-9", "--api", &base, "--token", OPERATOR], &[]).await;
    assert!(stderr(&missing).contains("no printer \"card-9\""), "{}", stderr(&missing));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn central_status_and_check_from_the_command_line() {
    use cardspool::central::Verdict;
    let now = chrono::Utc::now();
    let monitor = api::central_monitor(1, now);
    monitor.record(&Verdict::Failed { detail: "HTTP 503".into(), retry_after: None, alert: None }, false, now);
    monitor.set_waiting(214, Some(now), now);
    let api = api::with_central(&monitor).await;
    let base = api.base.clone();

    let status = stdout(&cardspool(&["central", "status", "--api", &base, "--token", VIEWER], &[]).await);
    assert!(status.contains("central       http://central.test:8470"), "{status}");
    assert!(status.contains("state         down since "), "{status}");
    assert!(status.contains("last error    HTTP 503"), "{status}");
    assert!(status.contains("waiting       214 cards, the oldest since "), "{status}");
    // Times in the office's zone, the Indonesian way.
    let wita = stdout(
        &cardspool(&["central", "status", "--api", &base, "--token", VIEWER], &[("CARDSPOOL_OFFICE__ZONE", "WITA")])
            .await,
    );
    let since = cardspool::domain::office_time::OfficeZone::Wita.format(now);
    assert!(wita.contains(&format!("state         down since {since}")), "{since}: {wita}");
    let json = stdout(&cardspool(&["central", "status", "--api", &base, "--token", VIEWER, "--json"], &[]).await);
    assert_eq!(serde_json::from_str::<Value>(&json).unwrap()["jobs_waiting"], 214);
    let refused = cardspool(&["central", "check", "--api", &base, "--token", VIEWER], &[]).await;
    assert!(stderr(&refused).contains("operator"));
    let checked = stdout(&cardspool(&["central", "check", "--api", &base, "--token", OPERATOR], &[]).await);
    assert!(checked.starts_with("central is asked now\n"), "{checked}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jobs_where_tells_where_a_citizen_s_card_stands() {
    let api = Harness::start().await;
    let job = api.job_in(3, JobState::AwaitingAuthorization).await;
    let base = api.base.clone();
    let nik = api.journal.card_for_central(job).await.unwrap().unwrap().nik;
    let answer = stdout(&cardspool(&["jobs", "where", &nik, "--api", &base, "--token", VIEWER], &[]).await);
    assert!(answer.starts_with(&job.to_string()), "{answer}");
    assert!(answer.contains("1502**********04") && !answer.contains(&nik), "the NIK shown masked: {answer}");
    assert!(
        answer.contains("waiting for central's authorization since ")
            && answer.contains("no estimate while central authorization does not run here"),
        "{answer}"
    );
    let missing = cardspool(&["jobs", "where", "nobody by this name", "--api", &base, "--token", VIEWER], &[]).await;
    assert!(!missing.status.success() && String::from_utf8_lossy(&missing.stderr).contains("no job found"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_daily_report_is_written_to_a_file() {
    let api = Harness::start().await;
    api.job_in(1, JobState::AwaitingAuthorization).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("today.csv");
    let base = api.base.clone();
    let args = ["report", "daily", "--format", "csv", "-o", file.to_str().unwrap(), "--api", &base, "--token", VIEWER];
    let answer = stdout(&cardspool(&args, &[]).await);
    assert!(answer.starts_with("daily report (csv, "), "{answer}");
    let csv = std::fs::read_to_string(&file).unwrap();
    assert!(csv.starts_with("section,subject,figure,value") && csv.contains("jobs,,still_waiting,1"), "{csv}");
    let bad = cardspool(
        &["report", "daily", "--date", "32-13-2026", "-o", file.to_str().unwrap(), "--api", &base, "--token", VIEWER],
        &[],
    )
    .await;
    assert!(!bad.status.success() && String::from_utf8_lossy(&bad.stderr).contains("use YYYY-MM-DD"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rejections_are_listed_from_the_command_line() {
    let api = Harness::start().await;
    let rejection = cardspool::journal::NewRejection {
        payload: b"{\"schema\": 9}",
        event_id: Some("e-9".into()),
        routing_key: "enrollment.completed".into(),
        reason: "schema: version 9 is not supported".into(),
    };
    api.journal.record_rejection(&rejection, chrono::Utc::now()).await.unwrap();
    api.journal.record_rejection(&rejection, chrono::Utc::now()).await.unwrap();
    let base = api.base.clone();
    let listed = stdout(&cardspool(&["rejections", "--api", &base, "--token", VIEWER], &[]).await);
    assert!(listed.starts_with("1 distinct events refused, 2 deliveries in all\n"), "{listed}");
    let row = listed.lines().find(|line| line.contains("e-9")).expect("the rejection's row");
    assert!(row.contains("schema: version 9 is not supported") && row.contains(" WIB"), "{row}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_shows_what_waits_central_and_the_printers_in_a_terminal() {
    let (api, _printers) = api::with_two_folder_printers().await;
    api.job_in(1, JobState::AwaitingAuthorization).await;
    api.job_in(2, JobState::AwaitingAuthorization).await;
    api.job_in(3, JobState::Failed).await;
    api.journal.load_blanks("card-1", 40, "rina", chrono::Utc::now()).await.unwrap();
    let base = api.base.clone();
    let status = stdout(&cardspool(&["status", "--api", &base, "--token", VIEWER], &[]).await);
    for expected in [
        "central       does not run in this spooler",
        "waiting       2 cards for central, the oldest received ",
        "              0 cards for a printer",
        "              1 card for staff",
        "printers      card-1  ready  40 blanks (low)",
        "              card-2  faulted: unreachable",
        "refused       0 distinct events, 0 deliveries in all",
    ] {
        assert!(status.contains(expected), "{expected:?} missing:\n{status}");
    }
    let listed = stdout(&cardspool(&["printers", "list", "--api", &base, "--token", VIEWER], &[]).await);
    assert!(listed.lines().next().unwrap().contains("DEVICE") && listed.contains("dir://"), "{listed}");
}
