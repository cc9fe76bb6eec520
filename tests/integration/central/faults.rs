//! Every fault of the central simulator drives the spooler to the expected state, under tokio's
//! paused clock with the simulator in-process (the HTTP path is tested in `central::http`).

use std::time::Duration;

use cardspool::central::{CardFacts, CentralState, Phase, SignedAuthorization, Verifier};
use cardspool::config::CentralConfig;
use cardspool::config::StaffRole;
use cardspool::domain::card_digest::card_digest;
use cardspool::domain::event::{parse_admitted_event, ImageLimits};
use cardspool::domain::job::JobState;
use cardspool::http::{plan_staff_action, ActionRequest, JobAction, Staff};
use cardspool::journal::Step;
use cardspool::sim::central::{CentralSimCore, DownHow, Fault};

use crate::support::central::{central_config, held, Rig};
use crate::support::fixtures;
use crate::support::wait::eventually_simulated;

const MINUTE: Duration = Duration::from_secs(60);

fn config(rig: &Rig) -> CentralConfig {
    CentralConfig {
        breaker_threshold: 3,
        probe_interval_s: 60,
        credentials_probe_interval_s: 600,
        drain_rate_per_s: 20,
        drain_concurrency: 2,
        backoff_base_ms: 1_000,
        backoff_cap_ms: 60_000,
        ..central_config(&rig.sim)
    }
}

async fn paused_rig(jobs: u32, fault: Fault) -> Rig {
    let rig = Rig::new(jobs).await;
    rig.sim.set_fault(fault);
    tokio::time::pause();
    rig
}

async fn all_in(rig: &Rig, state: JobState, jobs: i64, limit: Duration) {
    eventually_simulated(&format!("all {jobs} jobs {state}"), Duration::from_secs(1), limit, || async {
        rig.count(state).await == jobs
    })
    .await;
}

#[tokio::test]
#[cfg_attr(not(feature = "test-hooks"), ignore = "needs the test hooks: cargo test --features test-hooks")]
async fn without_a_fault_every_job_is_authorized_with_a_verified_authorization() {
    let rig = paused_rig(5, Fault::None).await;
    let worker = rig.start(&config(&rig)).await;
    all_in(&rig, JobState::Authorized, 5, MINUTE).await;
    let verifier = Verifier::from_base64(&rig.sim.public_key_base64(), Duration::from_secs(60)).unwrap();
    for job in rig.jobs(JobState::Authorized).await {
        let payload = held(rig.journal.payload(job.id)).await.unwrap();
        let event = parse_admitted_event(&payload, &ImageLimits::default()).unwrap();
        let digest = card_digest(&event, &job.template);
        let office = config(&rig).office;
        let card = CardFacts {
            nik: Some(event.nik.as_str()),
            enrollment_id: &job.event_id,
            office: &office,
            card_digest: &digest,
        };
        let stored = job.authorization.as_deref().expect("the authorization is stored with the job");
        verifier.check_stored(stored, &card, rig.clock.now()).expect("a genuine authorization for this card");
        let history = held(rig.journal.history(job.id)).await.unwrap();
        let states: Vec<_> = history.iter().map(|step| step.to).collect();
        assert_eq!(states, [JobState::AwaitingAuthorization, JobState::Authorized]);
        assert!(job.reason.starts_with("authorized by central"), "{}", job.reason);
    }
    let stats = rig.sim.stats();
    assert_eq!((stats.requests, stats.authorized), (5, 5));
    // The backlog is counted every 5 s.
    tokio::time::sleep(Duration::from_secs(6)).await;
    let finally = worker.monitor.snapshot();
    assert_eq!((finally.state, finally.jobs_waiting), (CentralState::Up, 0), "{}", finally.summary);
    worker.stop().await;
}

#[tokio::test]
#[cfg_attr(not(feature = "test-hooks"), ignore = "needs the test hooks: cargo test --features test-hooks")]
async fn dropped_connections_open_the_breaker_and_central_is_probed_once_a_minute() {
    let rig = paused_rig(10, Fault::Down { how: DownHow::Drop, retry_after_s: None }).await;
    let worker = rig.start(&config(&rig)).await;
    tokio::time::sleep(10 * MINUTE + Duration::from_secs(1)).await;
    let status = worker.monitor.snapshot();
    assert_eq!((status.state, status.breaker), (CentralState::Down, Phase::Open), "{}", status.summary);
    assert!(status.last_error.as_deref().unwrap().contains("closed the connection"), "{status:?}");
    assert!(status.next_probe_at.is_some() && status.summary.contains("10 cards waiting"), "{}", status.summary);
    let requests = rig.sim.stats().requests;
    assert!((3 + 10..=3 + 2 + 11).contains(&requests), "{requests} requests in 10 minutes");
    assert_eq!(rig.count(JobState::AwaitingAuthorization).await, 10);
    let tried: Vec<_> =
        rig.jobs(JobState::AwaitingAuthorization).await.into_iter().filter(|j| j.attempts > 0).collect();
    assert!(tried.iter().all(|job| job.reason.contains("central unreachable")), "{:?}", tried[0].reason);
    rig.sim.set_fault(Fault::None);
    all_in(&rig, JobState::Authorized, 10, 2 * MINUTE).await;
    assert_eq!(worker.monitor.snapshot().state, CentralState::Up);
    worker.stop().await;
}

#[tokio::test]
#[cfg_attr(not(feature = "test-hooks"), ignore = "needs the test hooks: cargo test --features test-hooks")]
async fn unavailable_with_retry_after_pauses_every_request_until_then() {
    let rig = paused_rig(5, Fault::Down { how: DownHow::Unavailable, retry_after_s: Some(300) }).await;
    let worker = rig.start(&config(&rig)).await;
    tokio::time::sleep(Duration::from_secs(5)).await;
    let status = worker.monitor.snapshot();
    assert_eq!(status.state, CentralState::Degraded, "{}", status.summary);
    let paused_until = status.paused_until.expect("Retry-After pauses the requests");
    let expected = rig.clock.now() + chrono::Duration::seconds(295);
    assert!((paused_until - expected).num_seconds().abs() <= 1, "paused until {paused_until}");
    tokio::time::sleep(Duration::from_secs(290)).await;
    assert_eq!(rig.sim.stats().requests, 1, "nothing asked before Retry-After ran out");
    tokio::time::sleep(Duration::from_secs(10)).await;
    assert_eq!(rig.sim.stats().requests, 2, "one request when it ran out, which is told to wait again");
    tokio::time::sleep(Duration::from_secs(301)).await;
    let status = worker.monitor.snapshot();
    assert_eq!((status.state, rig.sim.stats().requests), (CentralState::Down, 3), "{}", status.summary);
    rig.sim.set_fault(Fault::None);
    all_in(&rig, JobState::Authorized, 5, 10 * MINUTE).await;
    worker.stop().await;
}

#[tokio::test]
#[cfg_attr(not(feature = "test-hooks"), ignore = "needs the test hooks: cargo test --features test-hooks")]
async fn answers_slower_than_the_timeout_count_as_unreachable() {
    let rig = paused_rig(3, Fault::Slow { latency_ms: 30_000 }).await;
    let worker = rig.start(&config(&rig)).await;
    tokio::time::sleep(5 * MINUTE).await;
    let status = worker.monitor.snapshot();
    assert_eq!(status.state, CentralState::Down, "{}", status.summary);
    assert!(status.last_error.as_deref().unwrap().contains("no answer within 10000 ms"), "{status:?}");
    assert_eq!(rig.count(JobState::AwaitingAuthorization).await, 3);
    worker.stop().await;
}

#[tokio::test]
#[cfg_attr(not(feature = "test-hooks"), ignore = "needs the test hooks: cargo test --features test-hooks")]
async fn answers_slower_than_usual_but_within_the_timeout_are_fine() {
    let rig = paused_rig(3, Fault::Slow { latency_ms: 2_000 }).await;
    let worker = rig.start(&config(&rig)).await;
    all_in(&rig, JobState::Authorized, 3, MINUTE).await;
    assert_eq!(worker.monitor.snapshot().state, CentralState::Up);
    worker.stop().await;
}

#[tokio::test]
#[cfg_attr(not(feature = "test-hooks"), ignore = "needs the test hooks: cargo test --features test-hooks")]
async fn pending_records_are_asked_for_again_when_central_says() {
    let rig = paused_rig(3, Fault::Pending { times: 2, retry_after_s: 45 }).await;
    let worker = rig.start(&config(&rig)).await;
    tokio::time::sleep(Duration::from_secs(5)).await;
    let asked_at = rig.clock.now() - chrono::Duration::seconds(5);
    for job in rig.jobs(JobState::AwaitingAuthorization).await {
        assert!(job.reason.contains("pending"), "{}", job.reason);
        let next = job.next_attempt_at.expect("a pending job has its next attempt");
        let delay = (next - asked_at).num_seconds();
        assert!((44..=46).contains(&delay), "next attempt {delay} s after asking, central said 45");
    }
    assert_eq!(rig.sim.stats().requests, 3, "nobody asked again before Retry-After");
    assert_eq!(worker.monitor.snapshot().state, CentralState::Up, "pending is a healthy answer");
    all_in(&rig, JobState::Authorized, 3, 3 * MINUTE).await;
    let stats = rig.sim.stats();
    assert_eq!((stats.pending, stats.authorized, stats.requests), (6, 3, 9));
    worker.stop().await;
}

#[tokio::test]
#[cfg_attr(not(feature = "test-hooks"), ignore = "needs the test hooks: cargo test --features test-hooks")]
async fn a_denied_job_is_rejected_with_the_reason_and_never_asked_again() {
    let reason = "duplicate record: this NIK already has a card";
    let rig = paused_rig(3, Fault::Deny { reason: reason.into(), status: 409 }).await;
    let worker = rig.start(&config(&rig)).await;
    all_in(&rig, JobState::Rejected, 3, MINUTE).await;
    for job in rig.jobs(JobState::Rejected).await {
        assert_eq!(job.reason, format!("central denied the print: {reason}"));
    }
    tokio::time::sleep(Duration::from_secs(24 * 3600)).await;
    assert_eq!(rig.sim.stats().requests, 3, "a denial is final");
    assert_eq!(worker.monitor.snapshot().state, CentralState::Up);
    worker.stop().await;
}

#[tokio::test]
#[cfg_attr(not(feature = "test-hooks"), ignore = "needs the test hooks: cargo test --features test-hooks")]
async fn a_flaky_central_is_retried_until_every_job_is_authorized() {
    let rig = paused_rig(20, Fault::Flaky { failure_rate: 0.5, seed: Some(7) }).await;
    let worker = rig.start(&config(&rig)).await;
    all_in(&rig, JobState::Authorized, 20, 3600 * Duration::from_secs(2)).await;
    let stats = rig.sim.stats();
    assert_eq!(stats.authorized, 20);
    assert!(stats.unavailable > 0, "the fault did fail some requests: {stats:?}");
    worker.stop().await;
}

#[tokio::test]
#[cfg_attr(not(feature = "test-hooks"), ignore = "needs the test hooks: cargo test --features test-hooks")]
async fn rate_limiting_pauses_everything_for_retry_after() {
    let rig = paused_rig(10, Fault::RateLimited { retry_after_s: 120 }).await;
    let worker = rig.start(&config(&rig)).await;
    tokio::time::sleep(Duration::from_secs(5)).await;
    let status = worker.monitor.snapshot();
    assert_eq!(status.state, CentralState::Degraded, "{}", status.summary);
    assert!(status.last_error.as_deref().unwrap().contains("429"), "{status:?}");
    assert_eq!(rig.sim.stats().requests, 1, "the first 429 holds every other request");
    tokio::time::sleep(Duration::from_secs(100)).await;
    assert_eq!(rig.sim.stats().requests, 1);
    rig.sim.set_fault(Fault::None);
    all_in(&rig, JobState::Authorized, 10, 3 * MINUTE).await;
    assert_eq!(worker.monitor.snapshot().state, CentralState::Up);
    worker.stop().await;
}

#[tokio::test]
#[cfg_attr(not(feature = "test-hooks"), ignore = "needs the test hooks: cargo test --features test-hooks")]
async fn refused_credentials_hold_everything_raise_an_alert_and_recover_on_a_staff_check() {
    let rig = paused_rig(5, Fault::Unauthorized).await;
    let worker = rig.start(&config(&rig)).await;
    tokio::time::sleep(Duration::from_secs(5)).await;
    let status = worker.monitor.snapshot();
    assert_eq!((status.state, status.breaker), (CentralState::CredentialsRefused, Phase::CredentialsRefused));
    assert!(status.alert.as_deref().unwrap().contains("credentials"), "{status:?}");
    assert_eq!(rig.sim.stats().requests, 1, "no blind retries");
    tokio::time::sleep(9 * MINUTE).await;
    assert_eq!(rig.sim.stats().requests, 1);
    tokio::time::sleep(MINUTE).await;
    assert_eq!(rig.sim.stats().requests, 2, "one slow probe every 10 minutes");
    assert_eq!(rig.count(JobState::AwaitingAuthorization).await, 5, "held, not failed or rejected");

    // Staff fix the office's registration, then ask for a check.
    rig.sim.set_fault(Fault::None);
    assert!(worker.monitor.probe_now(rig.clock.now()));
    all_in(&rig, JobState::Authorized, 5, MINUTE).await;
    let status = worker.monitor.snapshot();
    assert_eq!((status.state, status.alert.clone()), (CentralState::Up, None), "{}", status.summary);
    worker.stop().await;
}

#[tokio::test]
#[cfg_attr(not(feature = "test-hooks"), ignore = "needs the test hooks: cargo test --features test-hooks")]
async fn a_restart_with_a_changed_configuration_checks_refused_credentials_at_once() {
    let rig = paused_rig(2, Fault::Unauthorized).await;
    let mut config = config(&rig);
    let worker = rig.start(&config).await;
    tokio::time::sleep(Duration::from_secs(5)).await;
    worker.stop().await;
    assert_eq!(rig.sim.stats().requests, 1);

    let worker = rig.start(&config).await;
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert_eq!(worker.monitor.snapshot().state, CentralState::CredentialsRefused);
    assert_eq!(rig.sim.stats().requests, 1, "the same configuration: the hold stays");
    worker.stop().await;

    config.office = "1503".into();
    rig.sim.set_fault(Fault::None);
    let worker = rig.start(&config).await;
    all_in(&rig, JobState::Authorized, 2, Duration::from_secs(10)).await;
    worker.stop().await;
}

#[tokio::test]
#[cfg_attr(not(feature = "test-hooks"), ignore = "needs the test hooks: cargo test --features test-hooks")]
async fn an_expired_authorization_is_asked_for_again_under_a_new_request_id() {
    let rig = paused_rig(2, Fault::Expired).await;
    let worker = rig.start(&config(&rig)).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let waiting = rig.jobs(JobState::AwaitingAuthorization).await;
    assert_eq!(waiting.len(), 2);
    for job in &waiting {
        assert!(job.reason.contains("had already expired"), "{}", job.reason);
        assert_eq!(job.authorization, None, "an expired answer is not kept");
        assert!(job.authorization_round >= 1, "a new round of asking after each expired answer");
    }
    tokio::time::sleep(5 * MINUTE).await;
    let stats = rig.sim.stats();
    assert!(stats.expired_issued >= 4 && stats.replayed == 0, "every new ask has a new request id: {stats:?}");
    rig.sim.set_fault(Fault::None);
    all_in(&rig, JobState::Authorized, 2, 3 * MINUTE).await;
    for job in rig.jobs(JobState::Authorized).await {
        let authorization: SignedAuthorization = serde_json::from_str(job.authorization.as_deref().unwrap()).unwrap();
        assert!(job.authorization_round >= 2, "asked again after each expired answer");
        assert_eq!(authorization.card_digest.len(), 64, "bound to the card");
    }
    worker.stop().await;
}

#[tokio::test]
#[cfg_attr(not(feature = "test-hooks"), ignore = "needs the test hooks: cargo test --features test-hooks")]
async fn badly_signed_answers_raise_a_key_alert_and_print_nothing() {
    let rig = paused_rig(3, Fault::BadSignature).await;
    let worker = rig.start(&config(&rig)).await;
    tokio::time::sleep(5 * MINUTE).await;
    let status = worker.monitor.snapshot();
    assert_eq!(status.state, CentralState::Down, "{}", status.summary);
    assert!(status.alert.as_deref().unwrap().contains("public_key"), "{status:?}");
    assert_eq!(rig.count(JobState::AwaitingAuthorization).await, 3);
    rig.sim.set_fault(Fault::None);
    all_in(&rig, JobState::Authorized, 3, 3 * MINUTE).await;
    assert!(rig.sim.stats().replayed > 0, "the same request ids get the genuine authorizations");
    assert_eq!(worker.monitor.snapshot().alert, None);
    worker.stop().await;
}

#[tokio::test]
#[cfg_attr(not(feature = "test-hooks"), ignore = "needs the test hooks: cargo test --features test-hooks")]
async fn a_job_waiting_past_the_maximum_wait_fails_with_the_reason() {
    let rig = paused_rig(3, Fault::Down { how: DownHow::Drop, retry_after_s: None }).await;
    let config = CentralConfig { max_wait_s: Some(3600), ..config(&rig) };
    let worker = rig.start(&config).await;
    tokio::time::sleep(50 * MINUTE).await;
    assert_eq!(rig.count(JobState::AwaitingAuthorization).await, 3);
    tokio::time::sleep(20 * MINUTE).await;
    assert_eq!(rig.count(JobState::Failed).await, 3);
    for job in rig.jobs(JobState::Failed).await {
        assert!(job.reason.starts_with("waited more than 1 h for central's authorization"), "{}", job.reason);
    }
    worker.stop().await;
}

/// Central (the simulator with `--registry`) knows each NIK's record: a card whose printed data
/// differs from the record (another name or photo under a real NIK), or a NIK it has no record
/// of, is denied, and the job rejected; genuine cards are authorized for their own digest.
#[tokio::test]
#[cfg_attr(not(feature = "test-hooks"), ignore = "needs the test hooks: cargo test --features test-hooks")]
async fn a_tampered_event_is_denied_by_central_s_registry() {
    let mut rig = Rig::new(0).await;
    let dir = tempfile::tempdir().unwrap();
    let registry = dir.path().join("registry.jsonl");
    let records: Vec<String> =
        (1..=2).map(|n| fixtures::synthetic_event(&format!("record-{n}"), n).to_string()).collect();
    std::fs::write(&registry, records.join("\n")).unwrap();
    let records = cardspool::sim::central::load_registry(&registry).expect("the registry");
    rig.sim = std::sync::Arc::new(CentralSimCore::generate(rig.clock).with_registry(records));

    let genuine = rig.admit(1..3).await;
    // A real NIK (record 1's) with another person's name and photo.
    let mut tampered = fixtures::synthetic_event("tampered", 1);
    tampered["name"] = "SOMEONE ELSE".into();
    tampered["photo"] = fixtures::synthetic_event("x", 77)["photo"].clone();
    let payload = serde_json::to_vec(&tampered).unwrap();
    let tampered =
        held(rig.journal.admit(&fixtures::parsed(&payload), &payload, "ektp", rig.clock.now())).await.unwrap().job_id();
    let unknown = rig.admit(3..4).await[0];
    tokio::time::pause();

    let worker = rig.start(&config(&rig)).await;
    all_in(&rig, JobState::Authorized, 2, MINUTE).await;
    all_in(&rig, JobState::Rejected, 2, MINUTE).await;
    for job in rig.jobs(JobState::Authorized).await {
        assert!(genuine.contains(&job.id));
        let authorization: SignedAuthorization = serde_json::from_str(job.authorization.as_deref().unwrap()).unwrap();
        let card = held(rig.journal.card_for_central(job.id)).await.unwrap().unwrap();
        assert_eq!(authorization.card_digest, card.card_digest, "signed for this card's digest");
    }
    let rejected = held(rig.journal.job(tampered)).await.unwrap().unwrap();
    assert!(rejected.reason.contains("differs from the registry's record"), "{}", rejected.reason);
    let rejected = held(rig.journal.job(unknown)).await.unwrap().unwrap();
    assert!(rejected.reason.contains("no record of this NIK"), "{}", rejected.reason);
    worker.stop().await;
}

/// A reprint asks central again under a new request id: central authorizes it anew instead of
/// replaying the answer that printed the first card.
#[tokio::test]
#[cfg_attr(not(feature = "test-hooks"), ignore = "needs the test hooks: cargo test --features test-hooks")]
async fn a_reprint_is_a_new_request_to_central_never_a_replay() {
    let rig = paused_rig(1, Fault::None).await;
    let worker = rig.start(&config(&rig)).await;
    all_in(&rig, JobState::Authorized, 1, MINUTE).await;
    let first = rig.jobs(JobState::Authorized).await.remove(0);
    // Printed, then reprinted by a supervisor: the plan the API carries out.
    for (from, to) in [(JobState::Authorized, JobState::Rendered), (JobState::Rendered, JobState::Printing)] {
        held(rig.journal.transition(first.id, &Step::system(from, to, "test", rig.clock.now()))).await.unwrap();
    }
    held(
        rig.journal.transition(first.id, &Step::system(JobState::Printing, JobState::Printed, "test", rig.clock.now())),
    )
    .await
    .unwrap();
    let printed = held(rig.journal.job(first.id)).await.unwrap().unwrap();
    let supervisor = Staff { name: "rina".into(), role: StaffRole::Supervisor };
    let request = ActionRequest { reason: Some("card lost".into()), outcome: None };
    let reprint = plan_staff_action(JobAction::Reprint, &printed, &request, &supervisor, rig.clock.now()).unwrap();
    held(rig.journal.transition(first.id, &reprint)).await.unwrap();

    all_in(&rig, JobState::Authorized, 1, MINUTE).await;
    let again = held(rig.journal.job(first.id)).await.unwrap().unwrap();
    assert_eq!(again.authorization_round, 1);
    assert_ne!(again.authorization_id, first.authorization_id, "a new authorization");
    let stats = rig.sim.stats();
    assert_eq!((stats.authorized, stats.replayed), (2, 0), "asked twice, answered twice: {stats:?}");
    worker.stop().await;
}
