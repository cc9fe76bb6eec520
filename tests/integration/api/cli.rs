//! `cardspool jobs|printers ...` as a process, against the API running in this test.

use std::process::Output;

use serde_json::Value;

use crate::support::api::{self, Harness, OPERATOR, SUPERVISOR, VIEWER};
use crate::support::services;
use cardspool::domain::job::{Actor, JobState};

/// Runs the binary in English (`CARDSPOOL_LANG=en`, which `env` may override) from an empty
/// directory (no `cardspool.toml`), with only the environment given (plus PATH), and returns
/// its output.
async fn cardspool(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut in_english = vec![("CARDSPOOL_LANG", "en")];
    in_english.extend_from_slice(env);
    cardspool_as_set_up(args, &in_english).await
}

/// As [`cardspool`], in the language of the office's default: no `CARDSPOOL_LANG` unless `env`
/// has it.
async fn cardspool_as_set_up(args: &[&str], env: &[(&str, &str)]) -> Output {
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
    assert!(shown.contains("held from     waiting for central's authorization"), "{shown}");
    assert!(shown.contains("waiting for central's authorization → held") && shown.contains("rina"), "{shown}");
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
    // The worker's count is some seconds old; what staff see is counted when they ask.
    api.job_in(1, JobState::AwaitingAuthorization).await;
    api.job_in(2, JobState::AwaitingAuthorization).await;
    let base = api.base.clone();

    let status = stdout(&cardspool(&["central", "status", "--api", &base, "--token", VIEWER], &[]).await);
    assert!(status.contains("central       http://central.test:8470"), "{status}");
    assert!(status.contains("state         down since "), "{status}");
    assert!(status.contains("last error    HTTP 503"), "{status}");
    assert!(status.contains("waiting       2 cards, the oldest since "), "{status}");
    let listed = stdout(
        &cardspool(&["jobs", "list", "--state", "awaiting_authorization", "--api", &base, "--token", VIEWER], &[])
            .await,
    );
    assert_eq!(listed.lines().count(), 1 + 2, "the same two cards: {listed}");
    // Times in the office's zone, the Indonesian way.
    let wita = stdout(
        &cardspool(&["central", "status", "--api", &base, "--token", VIEWER], &[("CARDSPOOL_OFFICE__ZONE", "WITA")])
            .await,
    );
    let since = cardspool::domain::office_time::OfficeZone::Wita.format(now);
    assert!(wita.contains(&format!("state         down since {since}")), "{since}: {wita}");
    let json = stdout(&cardspool(&["central", "status", "--api", &base, "--token", VIEWER, "--json"], &[]).await);
    assert_eq!(serde_json::from_str::<Value>(&json).unwrap()["jobs_waiting"], 2);
    let refused = cardspool(&["central", "check", "--api", &base, "--token", VIEWER], &[]).await;
    assert!(stderr(&refused).contains("operator"));
    // No worker runs here to ask central: the check says that no answer came, and shows the
    // state as it is after the wait.
    let checked =
        stdout(&cardspool(&["central", "check", "--wait", "1", "--api", &base, "--token", OPERATOR], &[]).await);
    assert!(checked.starts_with("central is asked now\nno answer from central within 1 s;"), "{checked}");
    assert!(checked.contains("state         down since "), "{checked}");
    // The answer arrives while the command waits: it shows the state after it.
    let answering = monitor.clone();
    tokio::spawn(async move {
        tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
        answering.record(&Verdict::Healthy, true, chrono::Utc::now());
    });
    let checked =
        stdout(&cardspool(&["central", "check", "--wait", "20", "--api", &base, "--token", OPERATOR], &[]).await);
    assert!(checked.starts_with("central is asked now\ncentral "), "{checked}");
    assert!(checked.contains("state         up since "), "{checked}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jobs_are_found_by_the_first_characters_of_their_id_and_by_name() {
    let api = Harness::start().await;
    let first = api.job_in(1, JobState::AwaitingAuthorization).await;
    let second = api.job_in(2, JobState::AwaitingAuthorization).await;
    let base = api.base.clone();
    let with = |token: &'static str| [("CARDSPOOL_TOKEN", token)];
    let (first_id, second_id) = (first.to_string(), second.to_string());
    // The shortest prefix of the first id that the second does not share, and one more.
    let shared = first_id.chars().zip(second_id.chars()).take_while(|(a, b)| a == b).count();
    let unique = &first_id[..=shared];

    let shown = stdout(&cardspool(&["jobs", "show", unique, "--api", &base], &with(VIEWER)).await);
    assert!(shown.starts_with(&format!("job           {first_id}\n")), "{shown}");
    let held = stdout(&cardspool(&["jobs", "hold", unique, "--api", &base], &with(OPERATOR)).await);
    assert!(held.starts_with(&format!("job {first_id}: held")), "{held}");
    // A prefix both ids share is refused, listing both.
    let ambiguous = cardspool(&["jobs", "release", &first_id[..shared], "--api", &base], &with(OPERATOR)).await;
    let said = stderr(&ambiguous);
    assert!(said.contains("2 jobs match") && said.contains(&first_id) && said.contains(&second_id), "{said}");
    assert_eq!(api.state_of(first).await, JobState::Held, "nothing done");
    // `show` takes an event id or a name: one match is shown, several are offered; an action
    // wants a job id.
    let second_job = api.journal.job(second).await.unwrap().unwrap();
    let by_event = stdout(&cardspool(&["jobs", "show", &second_job.event_id, "--api", &base], &with(VIEWER)).await);
    assert!(by_event.starts_with(&format!("job           {second_id}\n")), "{by_event}");
    assert_eq!(api.journal.job(first).await.unwrap().unwrap().name, second_job.name, "two of one name");
    let namesakes = cardspool(&["jobs", "show", &second_job.name.to_lowercase(), "--api", &base], &with(VIEWER)).await;
    let said = stderr(&namesakes);
    assert!(said.contains("2 jobs match") && said.contains("give one's id"), "{said}");
    assert!(said.contains(&first_id) && said.contains(&second_id), "{said}");
    let by_name_action = cardspool(&["jobs", "cancel", &second_job.name, "--api", &base], &with(OPERATOR)).await;
    let said = stderr(&by_name_action);
    assert!(said.contains("no job id starts with") && said.contains(&second_id), "the matches are offered: {said}");
    assert_eq!(api.state_of(second).await, JobState::AwaitingAuthorization);
    let nothing = cardspool(&["jobs", "show", "ffffffff", "--api", &base], &with(VIEWER)).await;
    assert!(stderr(&nothing).contains("no job matches \"ffffffff\""), "{}", stderr(&nothing));

    // A wrong state names the right ones, in the error and in --help.
    let wrong = cardspool(&["jobs", "list", "--state", "printd", "--api", &base], &with(VIEWER)).await;
    let said = stderr(&wrong);
    assert!(said.contains("printd") && said.contains("awaiting_authorization") && said.contains("printed"), "{said}");
    let usage = stdout(&cardspool(&["jobs", "list", "--help"], &[]).await);
    assert!(usage.contains("awaiting_authorization") && usage.contains("spoiled"), "{usage}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_blank_card_ledger_per_printer_and_day() {
    let api = Harness::start().await;
    api.job_in(1, JobState::Printed).await;
    api.job_in(2, JobState::Printed).await;
    api.job_in(3, JobState::Unknown).await;
    let base = api.base.clone();
    // job_in prints on card-1 an hour ago; the day is the office's (WIB).
    let day = cardspool::journal::ledger_day(chrono::Utc::now() - chrono::Duration::hours(1), 420);
    let ledger = api.get_ok(&format!("/api/v1/ledger?from={day}&to={day}")).await;
    assert_eq!(ledger["days"][0]["printer"], "card-1", "{ledger}");
    assert_eq!((ledger["totals"]["printed"].as_i64(), ledger["totals"]["unknown"].as_i64()), (Some(2), Some(1)));
    assert_eq!(ledger["totals"]["blanks_used"], 2, "{ledger}");
    let table = stdout(&cardspool(&["ledger", "--day", &day, "--api", &base, "--token", VIEWER], &[]).await);
    let lines: Vec<&str> = table.lines().collect();
    assert!(lines[0].starts_with("DAY") && lines[0].contains("PRINTED") && lines[0].contains("BLANKS USED"), "{table}");
    assert!(lines[1].starts_with(&day) && lines[1].contains("card-1"), "{table}");
    let json = stdout(
        &cardspool(&["ledger", "--day", &day, "--printer", "card-9", "--json", "--api", &base, "--token", VIEWER], &[])
            .await,
    );
    assert_eq!(serde_json::from_str::<Value>(&json).unwrap()["days"], serde_json::json!([]));
    let bad =
        cardspool(&["ledger", "--from", "2026-12-09", "--to", "2026-12-01", "--api", &base, "--token", VIEWER], &[])
            .await;
    assert!(stderr(&bad).contains("is after"), "{}", stderr(&bad));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_service_that_is_not_cardspool_at_the_api_address_is_named_as_such() {
    // Something else answers at the address: a web server's HTML page.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
        while let Ok((mut socket, _)) = listener.accept().await {
            let mut request = [0_u8; 4096];
            let _ = socket.read(&mut request).await;
            let page = "<html><body>Not Found</body></html>";
            let answer = format!(
                "HTTP/1.1 404 Not Found\r\nContent-Type: text/html\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{page}",
                page.len()
            );
            let _ = socket.write_all(answer.as_bytes()).await;
        }
    });
    let output = cardspool(&["jobs", "list", "--api", &format!("http://{address}"), "--token", VIEWER], &[]).await;
    let said = stderr(&output);
    assert_eq!(
        said.trim_end(),
        format!(
            "cardspool: the service at {address} is not a cardspool API (it answered HTTP 404, text/html): check --api"
        )
    );
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
    assert!(listed.starts_with("1 distinct event refused, 2 deliveries in all\n"), "{listed}");
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_staff_commands_speak_indonesian_by_default() {
    let (api, _printers) = api::with_two_folder_printers().await;
    let waiting = api.job_in(1, JobState::AwaitingAuthorization).await;
    api.job_in(2, JobState::Failed).await;
    api.journal.load_blanks("card-1", 40, "rina", chrono::Utc::now()).await.unwrap();
    let base = api.base.clone();
    let with = |token: &'static str| [("CARDSPOOL_TOKEN", token)];

    let status = stdout(&cardspool_as_set_up(&["status", "--api", &base], &with(VIEWER)).await);
    for expected in [
        "pusat         tidak berjalan di spooler ini",
        "antrean       1 kartu menunggu otorisasi pusat, yang terlama diterima ",
        "              1 kartu menunggu petugas",
        "printer       card-1  siap  40 blangko (menipis)",
        "              card-2  bermasalah: ",
        "ditolak       0 data perekaman berbeda, 0 kiriman seluruhnya",
    ] {
        assert!(status.contains(expected), "{expected:?} missing:\n{status}");
    }
    let id = waiting.to_string();
    let held = stdout(&cardspool_as_set_up(&["jobs", "hold", &id, "--api", &base], &with(OPERATOR)).await);
    assert!(held.starts_with(&format!("pekerjaan {id}: ditahan — ")), "{held}");
    let again = stdout(&cardspool_as_set_up(&["jobs", "hold", &id, "--api", &base], &with(OPERATOR)).await);
    assert_eq!(again, format!("pekerjaan {id}: sudah ditahan\n"));
    let table = stdout(&cardspool_as_set_up(&["jobs", "list", "--api", &base], &with(VIEWER)).await);
    let header = table.lines().next().unwrap();
    assert!(header.starts_with("ID") && header.contains("STATUS") && header.contains("ALASAN"), "{table}");
    assert!(table.contains("ditahan") && table.contains("gagal (perlu petugas)"), "{table}");
    // `--state` keeps taking the stable codes.
    let failed =
        stdout(&cardspool_as_set_up(&["jobs", "list", "--state", "failed", "--api", &base], &with(VIEWER)).await);
    assert_eq!(failed.lines().count(), 2, "{failed}");
    let shown = stdout(&cardspool_as_set_up(&["jobs", "show", &id, "--api", &base], &with(VIEWER)).await);
    assert!(shown.starts_with(&format!("pekerjaan     {id}\nevent  ")), "{shown}");
    assert!(
        shown.contains("status        ditahan\n") && shown.contains("ditahan dari  menunggu otorisasi pusat"),
        "{shown}"
    );
    assert!(shown.contains("\nriwayat\nWAKTU") && shown.contains("menunggu otorisasi pusat → ditahan"), "{shown}");
    // `--json` is the API's answer as it is.
    let json = stdout(&cardspool_as_set_up(&["jobs", "show", &id, "--json", "--api", &base], &with(VIEWER)).await);
    assert_eq!(serde_json::from_str::<Value>(&json).unwrap()["job"]["state"], "held");

    // Errors too: an unknown job, no token, the spooler not running.
    let nothing = cardspool_as_set_up(&["jobs", "show", "ffffffff", "--api", &base], &with(VIEWER)).await;
    assert!(stderr(&nothing).contains("tidak ada pekerjaan yang cocok dengan \"ffffffff\""), "{}", stderr(&nothing));
    let anonymous = cardspool_as_set_up(&["jobs", "list", "--api", &base], &[]).await;
    let said = stderr(&anonymous);
    assert!(said.contains("berikan token dengan --token atau CARDSPOOL_TOKEN") && said.contains("HTTP 401"), "{said}");
    let nowhere = cardspool_as_set_up(&["status", "--api", "http://127.0.0.1:9"], &with(VIEWER)).await;
    let said = stderr(&nowhere);
    assert!(said.starts_with("cardspool: tidak dapat terhubung ke 127.0.0.1:9: apakah `cardspool run`"), "{said}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lang_en_on_the_command_line_and_a_wrong_language_is_refused() {
    let api = Harness::start().await;
    let job = api.job_in(1, JobState::Failed).await;
    let base = api.base.clone();
    // The option wins over the environment.
    let env = [("CARDSPOOL_TOKEN", VIEWER), ("CARDSPOOL_LANG", "id")];
    let table = stdout(&cardspool_as_set_up(&["jobs", "list", "--lang", "en", "--api", &base], &env).await);
    assert!(table.starts_with("ID") && table.contains("STATE") && table.contains("failed (needs staff)"), "{table}");
    let shown = stdout(
        &cardspool_as_set_up(&["--lang", "en-US", "jobs", "show", &job.to_string(), "--api", &base], &env).await,
    );
    assert!(shown.starts_with(&format!("job           {job}\n")) && shown.contains("\nhistory\nAT"), "{shown}");
    let wrong = cardspool_as_set_up(&["status", "--lang", "fr", "--api", &base], &env).await;
    assert_eq!(wrong.status.code(), Some(2));
    let said = stderr(&wrong);
    assert!(said.contains("'fr'") && said.contains("[possible values: id, en]"), "{said}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_request_asks_the_api_for_the_reader_s_language() {
    // A stand-in for the API that records each request's head.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let (heads, mut received) = tokio::sync::mpsc::unbounded_channel::<String>();
    tokio::spawn(async move {
        use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
        while let Ok((mut socket, _)) = listener.accept().await {
            let mut request = [0_u8; 4096];
            let read = socket.read(&mut request).await.unwrap_or(0);
            let _ = heads.send(String::from_utf8_lossy(&request[..read]).to_lowercase());
            let body = r#"{"error": "no job ffffffff", "code": "not_found"}"#;
            let answer = format!(
                "HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = socket.write_all(answer.as_bytes()).await;
        }
    });
    let api = format!("http://{address}");
    for (lang, asked) in [(None, "accept-language: id\r\n"), (Some("en"), "accept-language: en\r\n")] {
        let mut args = vec!["jobs", "list", "--api", api.as_str(), "--token", VIEWER];
        if let Some(lang) = lang {
            args.extend(["--lang", lang]);
        }
        let output = cardspool_as_set_up(&args, &[]).await;
        assert!(stderr(&output).contains("no job ffffffff (HTTP 404)"), "{}", stderr(&output));
        let head = received.recv().await.unwrap();
        assert!(head.contains(asked), "{asked:?} not asked: {head}");
    }
}
