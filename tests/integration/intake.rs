//! Intake end to end against the real RabbitMQ and journal, with the spooler as a real process.

use std::collections::HashSet;
use std::time::Duration;

use base64::Engine as _;
use rand::seq::SliceRandom;
use rand::SeedableRng;

use crate::support::fixtures::{synthetic_event, synthetic_payload};
use crate::support::journal::{self, total};
use crate::support::services::{self, sqlite_url, Take, Vhost};
use crate::support::spooler::{assert_recovered_exactly_once, publish_all, Spooler};
use crate::support::wait::eventually;

/// A bad event of one of twelve kinds, distinct for every `i`.
fn invalid_payload(i: usize) -> Vec<u8> {
    let mut event = synthetic_event(&format!("bad-{i}"), 5000 + i as u32);
    let b64 = base64::engine::general_purpose::STANDARD;
    match i % 12 {
        0 => return format!("this is not JSON at all #{i}").into_bytes(),
        1 => return format!("[{i}, \"an array\"]").into_bytes(),
        2 => event["nik"] = "15020152038500".into(),
        3 => event["nik"] = "1502015203850000".into(),
        4 => event["name"] = "A".repeat(61).into(),
        5 => event["sex"] = "WANITA".into(),
        6 => event["photo"] = "%%% not base64 %%%".into(),
        7 => {
            event.as_object_mut().unwrap().remove("birth_date");
        }
        8 => event["birthdate"] = "1985-03-12".into(),
        9 => event["signature"] = b64.encode(b"\xFF\xD8\xFF\xE0 a JPEG is not a signature").into(),
        // The same key twice: one reader takes the first name, another the last.
        10 => {
            let json = serde_json::to_string(&event).unwrap();
            return json.replacen('{', "{\"name\":\"SOMEONE ELSE\",", 1).into_bytes();
        }
        // Over the 2 MiB default: refused unparsed.
        _ => event["padding"] = "x".repeat(2_200_000).into(),
    }
    serde_json::to_vec(&event).unwrap()
}

fn valid_payloads(count: usize, prefix: &str) -> Vec<Vec<u8>> {
    (0..count).map(|i| synthetic_payload(&format!("{prefix}-{i}"), i as u32)).collect()
}

fn assert_log_is_clean(log: &str, payloads: &[Vec<u8>]) {
    for payload in payloads {
        if let Ok(event) = serde_json::from_slice::<serde_json::Value>(payload) {
            if let Some(nik) = event["nik"].as_str().filter(|nik| nik.len() == 16) {
                assert!(!log.contains(nik), "the log contains a full NIK");
            }
            if let Some(name) = event["photo"].as_str() {
                assert!(!log.contains(&name[..name.len().min(40)]), "the log contains photo data");
            }
        }
    }
    assert!(!log.contains("/9j/"), "the log contains base64 JPEG data");
    assert!(!log.contains("iVBORw0KGgo"), "the log contains base64 PNG data");
}

/// Messages waiting in the dead-letter queue, with their rejection header.
async fn drain_dead_letters(vhost: &Vhost, expected: usize) -> Vec<(Vec<u8>, Option<String>)> {
    vhost.take("cardspool.dead", Take::Count(expected)).await.into_iter().map(|m| (m.body, m.rejection)).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_events_with_duplicates_and_bad_ones_make_exactly_the_expected_jobs() {
    services::require_rabbitmq().await;
    let vhost = Vhost::new();
    let dir = tempfile::tempdir().unwrap();
    let journal_url = sqlite_url(dir.path());
    let journal = journal::at(&journal_url).await;

    // 1,000 deliveries: 850 distinct valid events, 100 republished duplicates (10%), 50 bad (5%).
    let unique = valid_payloads(850, "evt");
    let mut payloads = unique.clone();
    payloads.extend((0..100).map(|i| unique[i * 8].clone()));
    payloads.extend((0..50).map(invalid_payload));
    payloads.shuffle(&mut rand::rngs::StdRng::seed_from_u64(7));
    assert_eq!(payloads.len(), 1000);
    vhost.listen_to_status_events("upstream.status").await;
    publish_all(&vhost.amqp_config(), &payloads).await;

    let spooler = Spooler::start(&vhost, &journal_url, dir.path(), &[]);
    eventually("850 jobs and 50 rejections", Duration::from_secs(120), || async {
        total(&journal).await == 850 && journal.rejection_counts().await.unwrap().1 == 50
    })
    .await;
    eventually("the intake queue to empty", Duration::from_secs(30), || async {
        vhost.queue_depth("cardspool.intake").await == 0
    })
    .await;
    // Upstream hears of every new job once: card.queued and card.awaiting_authorization each.
    eventually("1,700 status events", Duration::from_secs(30), || async {
        vhost.queue_depth("upstream.status").await == 2 * 850
    })
    .await;
    assert_eq!(spooler.terminate().code(), Some(0), "SIGTERM ends the spooler with status 0");

    // Exactly one job per distinct event, every one of them.
    assert_eq!(total(&journal).await, 850);
    for i in [0, 8, 421, 849] {
        assert!(journal.job_by_event(&format!("evt-{i}")).await.unwrap().is_some(), "evt-{i} has a job");
    }
    // Every bad event is recorded for staff, once, with its reasons...
    let rejections = journal.rejections(100).await.unwrap();
    assert_eq!(rejections.len(), 50);
    assert!(rejections.iter().all(|r| r.times == 1 && !r.reason.is_empty()));
    let named: HashSet<_> = rejections.iter().filter_map(|r| r.event_id.clone()).collect();
    assert_eq!(named.len(), 36, "all but the non-JSON, array and oversize payloads carry a readable event id");
    // ...and waits in the dead-letter queue with the reasons in its header.
    let dead = drain_dead_letters(&vhost, 50).await;
    assert_eq!(dead.len(), 50);
    for (body, reason) in &dead {
        let reason = reason.as_deref().expect("every dead letter carries x-cardspool-error");
        let expected_field = match serde_json::from_slice::<serde_json::Value>(body) {
            Err(_) => "not JSON",
            Ok(value) if !value.is_object() => "not a JSON object",
            Ok(value) => {
                match value["event_id"].as_str().unwrap().trim_start_matches("bad-").parse::<usize>().unwrap() % 12 {
                    2 | 3 => "nik:",
                    4 => "name:",
                    5 => "sex:",
                    6 => "photo:",
                    7 => "birth_date: is required",
                    8 => "birthdate: is not a field",
                    9 => "signature: must be Png",
                    10 => "has the key \"name\" twice",
                    _ => "bytes, more than the limit of 2097152",
                }
            }
        };
        assert!(reason.contains(expected_field), "reason {reason:?} should name {expected_field:?}");
    }
    let spooler_log = std::fs::read_to_string(dir.path().join("spooler-0.log")).unwrap();
    assert!(spooler_log.contains("job received"), "the log has a line per new job");
    assert_log_is_clean(&spooler_log, &payloads);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_spooler_killed_mid_stream_and_restarted_loses_and_duplicates_nothing() {
    services::require_rabbitmq().await;
    let vhost = Vhost::new();
    let dir = tempfile::tempdir().unwrap();
    let journal_url = services::fresh_postgres().await;
    let journal = journal::at(&journal_url).await;
    let payloads = valid_payloads(1000, "kill");
    publish_all(&vhost.amqp_config(), &payloads).await;

    let spooler = Spooler::start(&vhost, &journal_url, dir.path(), &[("CARDSPOOL_AMQP__PREFETCH", "64")]);
    eventually("the first 150 jobs", Duration::from_secs(60), || async { total(&journal).await >= 150 }).await;
    spooler.kill();
    let at_kill = total(&journal).await;
    assert!(at_kill < 1000, "the kill came mid-stream ({at_kill} jobs)");

    let restarted = Spooler::start(&vhost, &journal_url, dir.path(), &[]);
    eventually("all 1,000 jobs", Duration::from_secs(120), || async { total(&journal).await >= 1000 }).await;
    eventually("the intake queue to empty", Duration::from_secs(30), || async {
        vhost.queue_depth("cardspool.intake").await == 0
    })
    .await;
    assert_eq!(restarted.terminate().code(), Some(0));
    assert_eq!(total(&journal).await, 1000, "one job per event: nothing lost, nothing doubled");
    assert_eq!(journal.rejection_counts().await.unwrap(), (0, 0));
    assert_eq!(vhost.queue_depth("cardspool.dead").await, 0);
    // Passed: its database goes now (a failed test's stays for a look).
    journal.close().await;
    services::drop_postgres(&journal_url).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_connection_is_reopened_and_loses_and_duplicates_nothing() {
    services::require_rabbitmq().await;
    let vhost = Vhost::new();
    let dir = tempfile::tempdir().unwrap();
    let journal_url = sqlite_url(dir.path());
    let journal = journal::at(&journal_url).await;
    let payloads = valid_payloads(2000, "cut");
    publish_all(&vhost.amqp_config(), &payloads).await;

    // Prefetch 1 (one commit per event) keeps the stream long enough for rabbitmqctl to cut it
    // in the middle.
    let spooler = Spooler::start(&vhost, &journal_url, dir.path(), &[("CARDSPOOL_AMQP__PREFETCH", "1")]);
    eventually("the first 20 jobs", Duration::from_secs(60), || async { total(&journal).await >= 20 }).await;
    let mut killed = 0;
    eventually("the spooler's connections to be killed", Duration::from_secs(20), || {
        killed += vhost.kill_connections();
        async move { killed > 0 }
    })
    .await;
    let at_cut = total(&journal).await;
    assert!(at_cut < 2000, "the cut came mid-stream ({at_cut} jobs)");
    assert_recovered_exactly_once(spooler, &vhost, &journal, 2000, Duration::from_secs(120)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_finishes_the_work_in_hand_and_exits_zero() {
    services::require_rabbitmq().await;
    let vhost = Vhost::new();
    let dir = tempfile::tempdir().unwrap();
    let journal_url = sqlite_url(dir.path());
    let journal = journal::at(&journal_url).await;
    let payloads = valid_payloads(600, "term");
    publish_all(&vhost.amqp_config(), &payloads).await;

    let spooler = Spooler::start(&vhost, &journal_url, dir.path(), &[]);
    eventually("the first 100 jobs", Duration::from_secs(60), || async { total(&journal).await >= 100 }).await;
    let log_path = spooler.log.clone();
    assert_eq!(spooler.terminate().code(), Some(0));
    let log = std::fs::read_to_string(log_path).unwrap();
    assert!(log.contains("intake stopped consuming"), "{log}");
    // Whatever was committed was acked: the queue holds exactly the rest.
    let committed = total(&journal).await;
    assert_eq!(i64::from(vhost.queue_depth("cardspool.intake").await), 600 - committed);

    let restarted = Spooler::start(&vhost, &journal_url, dir.path(), &[]);
    eventually("all 600 jobs", Duration::from_secs(60), || async { total(&journal).await >= 600 }).await;
    assert_eq!(restarted.terminate().code(), Some(0));
    assert_eq!(total(&journal).await, 600);
}

#[tokio::test]
async fn publish_command_reports_unroutable_events_and_exits_non_zero() {
    services::require_rabbitmq().await;
    let vhost = Vhost::new();
    let dir = tempfile::tempdir().unwrap();
    let event = dir.path().join("event.json");
    std::fs::write(&event, synthetic_payload("published-1", 1)).unwrap();

    let run = |routing_key: &str| {
        std::process::Command::new(services::binary())
            .args(["publish", "--routing-key", routing_key])
            .arg(&event)
            .current_dir(dir.path())
            .env("CARDSPOOL_AMQP__URL", vhost.url())
            .output()
            .unwrap()
    };
    // A publisher declares only the exchange it publishes to: before any spooler declared its
    // queue, nothing takes the event, and publish says so instead of filling a queue nobody reads.
    let before_the_spooler = run("enrollment.completed");
    assert_eq!(before_the_spooler.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&before_the_spooler.stderr);
    assert!(stderr.contains("no queue is bound"), "{stderr}");
    assert!(!stderr.contains("BasicReturnMessage"), "lapin's line with the whole event is not logged: {stderr}");

    cardspool::amqp::declare_spooler_topology(&vhost.amqp_config()).await.unwrap();
    let routed = run("enrollment.completed");
    assert!(routed.status.success(), "{}", String::from_utf8_lossy(&routed.stderr));
    assert!(String::from_utf8_lossy(&routed.stdout).contains("1 of 1 events confirmed"));
    assert_eq!(vhost.queue_depth("cardspool.intake").await, 1);

    // No queue is bound to this key: the broker returns it, and publish must say so.
    let unroutable = run("something.else");
    assert_eq!(unroutable.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&unroutable.stderr);
    assert!(stderr.contains("NOT published") && stderr.contains("no queue is bound"), "{stderr}");
    // lapin's own line about a returned message holds the whole body: never logged.
    assert!(!stderr.contains("BasicReturnMessage") && !stderr.contains("data: ["), "{stderr}");

    // A file that cannot be read is reported on its own; the others still go.
    let second = dir.path().join("second.json");
    std::fs::write(&second, synthetic_payload("published-2", 2)).unwrap();
    let missing = dir.path().join("missing.json");
    let output = std::process::Command::new(services::binary())
        .arg("publish")
        .args([&missing, &second])
        .current_dir(dir.path())
        .env("CARDSPOOL_AMQP__URL", vhost.url())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("NOT published") && stderr.contains("missing.json: cannot read it"), "{stderr}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("published") && stdout.contains("second.json"), "{stdout}");
    assert!(stdout.contains("1 of 2 events confirmed"), "{stdout}");
    assert_eq!(vhost.queue_depth("cardspool.intake").await, 2);

    // A refused login is one sentence naming what to fix, not the broker's protocol dump.
    let refused = std::process::Command::new(services::binary())
        .arg("publish")
        .arg(&second)
        .current_dir(dir.path())
        .env("CARDSPOOL_AMQP__URL", vhost.url().replace("guest:guest", "guest:wrong"))
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("the user name or password in amqp.url was refused"), "{stderr}");
}

#[test]
fn a_named_config_file_that_does_not_exist_is_a_clear_error() {
    let output = std::process::Command::new(services::binary())
        .args(["run", "--config", "/nonexistent/cardspool.toml"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("/nonexistent/cardspool.toml does not exist"), "{stderr}");
}

#[test]
fn a_bad_config_value_names_its_key() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("cardspool.toml"), "[amqp]\nprefetch = \"lots\"\n").unwrap();
    let output = std::process::Command::new(services::binary()).arg("config").current_dir(dir.path()).output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("amqp.prefetch"), "{stderr}");
}
