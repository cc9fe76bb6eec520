//! Status events as upstream receives them from the real broker: what the outbox really sends
//! matches `schemas/status-event.v1.json`; nothing is lost before upstream binds a queue (the
//! events wait, held back, and staff see why); holds, releases and reprints are heard of.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use serde_json::{json, Value};
use tokio_util::sync::CancellationToken;

use crate::support::api::{Harness, OPERATOR, SUPERVISOR, VIEWER};
use crate::support::journal;
use crate::support::services::{self, Take, Vhost};
use crate::support::wait::eventually;
use cardspool::clock::Clock;
use cardspool::domain::job::JobState;
use cardspool::journal::{CardOutcome, JobUpdate, NewCard, StoredAuthorization};
use cardspool::telemetry::StatusEventStats;
use cardspool::workers::notify::Notify;

fn schema() -> jsonschema::Validator {
    let schema: Value =
        serde_json::from_slice(&std::fs::read("schemas/status-event.v1.json").expect("read the schema"))
            .expect("the schema is JSON");
    jsonschema::options()
        .with_draft(jsonschema::Draft::Draft202012)
        .should_validate_formats(true)
        .build(&schema)
        .expect("the schema compiles")
}

/// Takes a reprinted job from central's queue to printed again, as the spooler would.
async fn print_again(api: &Harness, job: cardspool::domain::job::JobId) {
    let authorization = StoredAuthorization {
        json: json!({"authorization_id": "auth-again", "signature": "c2lnbmF0dXJl"}).to_string(),
        id: "auth-again".into(),
        expires_at: Utc::now() + chrono::Duration::days(1),
    };
    let card = NewCard {
        job_id: Some(job),
        printer: "card-1",
        printer_job_id: Some(8),
        at: Utc::now(),
        utc_offset_minutes: 420,
    };
    let mut from = JobState::AwaitingAuthorization;
    for to in [JobState::Authorized, JobState::Rendered, JobState::Printing, JobState::Printed] {
        let mut update = JobUpdate::default();
        match to {
            JobState::Authorized => update.authorization = Some(Some(authorization.clone())),
            JobState::Printing => update.printer = Some(Some("card-1".into())),
            JobState::Printed => api.journal.settle_card(job, &card, CardOutcome::Printed, "").await.unwrap(),
            _ => {}
        }
        let step = cardspool::journal::Step::system(from, to, "printed again", Utc::now()).with(update);
        api.journal.transition(job, &step).await.unwrap();
        if to == JobState::Printing {
            api.journal.record_card_sent(job, &card).await.unwrap();
        }
        from = to;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_events_wait_for_a_queue_match_their_schema_and_tell_holds_and_reprints() {
    services::require_rabbitmq().await;
    let vhost = Vhost::new();
    let stats = Arc::new(StatusEventStats::default());
    let (journal, dir) = journal::sqlite().await;
    let api = Harness::with_journal(journal.clone(), dir, |api| api.with_status_event_stats(stats.clone())).await;

    // A day of the print room: printed and reprinted, held and released, failed and cancelled.
    let reprinted = api.job_in(1, JobState::Printed).await;
    let held = api.job_in(2, JobState::Authorized).await;
    let cancelled = api.job_in(3, JobState::Failed).await;
    let reason = json!({ "reason": "citizen asked to check the address" });
    for (job, action, token) in [
        (held, "hold", OPERATOR),
        (held, "release", OPERATOR),
        (cancelled, "cancel", OPERATOR),
        (reprinted, "reprint", SUPERVISOR),
    ] {
        let (code, body) = api.post(&format!("/api/v1/jobs/{job}/{action}"), token, reason.clone()).await;
        assert!(code.is_success(), "{action}: {body}");
    }
    print_again(&api, reprinted).await;
    let (written, _) = api.journal.outbox_backlog().await.unwrap();

    // Nobody has bound a queue yet: published with `mandatory`, every event comes back, so all
    // wait in the journal, and staff are told why.
    let shutdown = CancellationToken::new();
    let notify = Notify {
        amqp: vhost.amqp_config(),
        journal: journal.clone(),
        clock: Clock::system(),
        instance: "status-events-test".into(),
        lease: Duration::from_secs(30),
        stats: stats.clone(),
        held_back_retry: Duration::from_millis(200),
    };
    let worker = tokio::spawn(notify.run(shutdown.clone()));
    eventually("the status events held back", Duration::from_secs(20), || async {
        stats.unroutable.load(std::sync::atomic::Ordering::Relaxed) >= 3
    })
    .await;
    assert_eq!(api.journal.outbox_backlog().await.unwrap().0, written, "none is lost or marked published");
    let summary = api.get_ok("/api/v1/summary").await;
    let shown = &summary["status_events"];
    assert_eq!(shown["unpublished"], written, "{shown}");
    assert_eq!(shown["held_back"]["routing_key"], "card.queued", "{shown}");
    assert!(shown["held_back"]["reason"].as_str().unwrap().contains("no queue is bound"), "{shown}");
    let terminal = tokio::process::Command::new(services::binary())
        .args(["status", "--api", &api.base, "--token", VIEWER])
        .env("CARDSPOOL_LOG__FILTER", "warn")
        .env("CARDSPOOL_LANG", "en")
        .output()
        .await
        .unwrap();
    let terminal = String::from_utf8_lossy(&terminal.stdout);
    assert!(terminal.contains("upstream      status events held back since "), "{terminal}");
    assert!(terminal.contains(&format!("({written} waiting)")), "{terminal}");
    let metrics = api.client.get(format!("{}/metrics", api.base)).send().await.unwrap().text().await.unwrap();
    assert!(metrics.contains("cardspool_status_events_held_back 1"), "{metrics}");
    assert!(metrics.contains(&format!("cardspool_status_events_unpublished {written}")), "{metrics}");

    // Upstream binds its queue: everything goes out, once, in order.
    vhost.listen_to_status_events("upstream.status").await;
    eventually("every status event published", Duration::from_secs(30), || async {
        api.journal.outbox_backlog().await.unwrap().0 == 0
    })
    .await;
    assert!(stats.current().is_none(), "no longer held back");
    assert!(api.get_ok("/api/v1/summary").await["status_events"]["held_back"].is_null());
    let received = vhost.take("upstream.status", Take::Count(usize::try_from(written).unwrap())).await;
    shutdown.cancel();
    worker.await.unwrap().unwrap();

    // Each matches the schema, is routed by its type and carries its own message id.
    let validator = schema();
    let mut ids = HashSet::new();
    let mut per_job: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for event in &received {
        let body: Value = serde_json::from_slice(&event.body).expect("a status event is JSON");
        let errors: Vec<String> = validator.iter_errors(&body).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{body}: {errors:?}");
        assert_eq!(body["type"], event.routing_key.as_str());
        let id = event.message_id.clone().expect("every status event has a message_id");
        assert!(ids.insert(id.clone()), "message_id {id:?} twice");
        per_job.entry(body["job_id"].as_str().unwrap().to_owned()).or_default().push(event.routing_key.clone());
    }
    assert_eq!(vhost.queue_depth("upstream.status").await, 0, "nothing more than the journal wrote");
    // A reprint keeps the job: upstream hears it wait again and print again.
    assert_eq!(
        per_job[&reprinted.to_string()],
        ["card.queued", "card.awaiting_authorization", "card.printed", "card.awaiting_authorization", "card.printed"]
    );
    assert_eq!(
        per_job[&held.to_string()],
        ["card.queued", "card.awaiting_authorization", "card.held", "card.released"]
    );
    assert_eq!(
        per_job[&cancelled.to_string()],
        ["card.queued", "card.awaiting_authorization", "card.failed", "card.cancelled"]
    );
}
