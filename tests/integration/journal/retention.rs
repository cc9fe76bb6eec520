//! Retention on both backends: the payloads of ended jobs purged after their time, with what
//! must stay (audit trail, masked NIK, the payload's digest), and published status events
//! deleted after theirs.

use chrono::{Duration, Utc};
use serde_json::json;
use sha2::{Digest, Sha256};
use tokio_util::sync::CancellationToken;

use crate::support::api::{Harness, SUPERVISOR};
use crate::support::fixtures;
use crate::support::on_both_backends;
use cardspool::clock::Clock;
use cardspool::config::JournalConfig;
use cardspool::domain::job::JobState;
use cardspool::journal::{JobFilter, JobSearch, Journal, ListOrder};
use cardspool::workers::retention::Retention;

on_both_backends!(payloads_of_jobs_ended_past_their_retention_are_purged_and_the_rest_kept);

async fn payloads_of_jobs_ended_past_their_retention_are_purged_and_the_rest_kept(journal: Journal) {
    let now = Utc::now();
    let long_ago = now - Duration::days(40);
    let old_printed = fixtures::job_in(&journal, 1, JobState::Printed, long_ago).await;
    let old_rejected = fixtures::job_in(&journal, 2, JobState::Rejected, long_ago).await;
    let old_waiting = fixtures::job_in(&journal, 3, JobState::AwaitingAuthorization, long_ago).await;
    let old_in_doubt = fixtures::job_in(&journal, 4, JobState::Unknown, long_ago).await;
    let recently_printed = fixtures::job_in(&journal, 5, JobState::Printed, now - Duration::days(2)).await;
    let payload = journal.payload(old_printed.id).await.unwrap();
    let history = journal.history(old_printed.id).await.unwrap();
    let outbox_before = journal.unpublished(1000).await.unwrap();
    let published_long_ago: Vec<String> = outbox_before.iter().take(3).map(|m| m.id.clone()).collect();
    journal.mark_published(&published_long_ago, now - Duration::days(10)).await.unwrap();
    journal.mark_published(&[outbox_before[3].id.clone()], now - Duration::days(1)).await.unwrap();

    let config = JournalConfig { payload_retention_days: 30, outbox_retention_days: 7, ..JournalConfig::default() };
    let retention = Retention::new(&config, journal.clone(), Clock::system());
    assert_eq!(retention.pass(&CancellationToken::new()).await.unwrap(), (2, 3), "two ended jobs, three old events");
    assert_eq!(retention.pass(&CancellationToken::new()).await.unwrap(), (0, 0), "a second pass finds nothing");

    for purged in [old_printed.id, old_rejected.id] {
        assert!(journal.payload(purged).await.is_err(), "the payload is gone");
        let job = journal.job(purged).await.unwrap().unwrap();
        assert!(job.payload_purged_at.is_some());
        assert!(job.nik_masked.contains("**********"), "the masked NIK stays: {}", job.nik_masked);
    }
    assert_eq!(
        journal.purged_payload_digest(old_printed.id).await.unwrap(),
        Some(hex::encode(Sha256::digest(&payload))),
        "the payload's digest stays, to match a copy kept elsewhere"
    );
    assert_eq!(journal.history(old_printed.id).await.unwrap(), history, "the audit trail stays whole");
    assert_eq!(journal.job(old_printed.id).await.unwrap().unwrap().nik_masked, "1502**********02");
    for kept in [old_waiting.id, old_in_doubt.id, recently_printed.id] {
        assert!(journal.payload(kept).await.is_ok(), "a live job or one ended recently keeps its payload");
        assert_eq!(journal.purged_payload_digest(kept).await.unwrap(), None);
    }
    // The full NIK went with the payload: a search by it no longer finds the purged job.
    let by_nik = |nik: &str| JobFilter {
        states: Vec::new(),
        office: None,
        search: JobSearch::parse(nik),
        after: None,
        order: ListOrder::NewestFirst,
        limit: 10,
    };
    let nik = old_printed.event["nik"].as_str().unwrap();
    assert!(journal.staff_jobs(&by_nik(nik)).await.unwrap().jobs.is_empty());
    let kept_nik = old_waiting.event["nik"].as_str().unwrap();
    assert_eq!(journal.staff_jobs(&by_nik(kept_nik)).await.unwrap().jobs.len(), 1);
    assert_eq!(journal.unpublished(1000).await.unwrap().len(), outbox_before.len() - 4, "unpublished ones stay");

    // A reprint needs the card's data: not offered, and refused, saying what to do instead.
    let api = Harness::over(journal.clone()).await;
    let detail = api.get_ok(&format!("/api/v1/jobs/{}", old_printed.id)).await;
    assert!(detail["job"]["payload_purged_at"].is_string(), "{detail}");
    assert_eq!(detail["actions"], json!(["spoiled"]), "{detail}");
    let (status, body) =
        api.post(&format!("/api/v1/jobs/{}/reprint", old_printed.id), SUPERVISOR, json!({"reason": "lost"})).await;
    assert_eq!(status, reqwest::StatusCode::CONFLICT, "{body}");
    let message = body["error"].as_str().unwrap();
    assert!(message.contains("purged") && message.contains("send the enrollment again"), "{message}");
    assert_eq!(api.state_of(old_printed.id).await, JobState::Printed);
    let (status, body) =
        api.post(&format!("/api/v1/jobs/{}/reprint", recently_printed.id), SUPERVISOR, json!({"reason": "lost"})).await;
    assert_eq!(status, reqwest::StatusCode::OK, "{body}");
}
