//! The journal against both backends: every scenario runs on SQLite (a temp file) and on
//! PostgreSQL (a database of its own).

use chrono::{DateTime, Duration, TimeZone, Utc};

use crate::support::fixtures::{self, parsed, synthetic_payload};
use crate::support::on_both_backends;
use cardspool::domain::job::{Actor, JobId, JobState};
use cardspool::journal::{Admission, JobUpdate, Journal, JournalError, NewRejection, Step, StoredAuthorization};

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 27, 2, 12, 0).unwrap()
}

on_both_backends!(
    admits_each_event_once,
    concurrent_redeliveries_make_one_job,
    transitions_follow_the_state_machine_and_leave_an_audit_trail,
    a_moved_job_is_a_conflict,
    updates_set_keep_and_clear_columns,
    due_jobs_come_urgent_first_then_oldest,
    rejections_are_recorded_once_per_payload,
    status_events_go_to_the_outbox_with_the_change,
    a_batch_s_events_are_read_together,
    a_batch_s_cards_for_central_are_read_together,
    steps_committed_together_each_keep_their_own_outcome,
    a_batch_with_repeated_and_known_events_admits_each_once,
);

async fn admit(journal: &Journal, event_id: &str, n: u32) -> Admission {
    fixtures::admit(journal, event_id, n, t0()).await
}

async fn admits_each_event_once(journal: Journal) {
    let first = admit(&journal, "event-1", 1).await;
    let Admission::Admitted(job_id) = first else { panic!("first admission must be new: {first:?}") };
    assert_eq!(admit(&journal, "event-1", 1).await, Admission::Duplicate(job_id));
    admit(&journal, "event-2", 2).await;

    let job = journal.job(job_id).await.unwrap().unwrap();
    assert_eq!(job.state, JobState::AwaitingAuthorization, "admitted straight to waiting for central");
    assert_eq!(job.event_id, "event-1");
    assert_eq!(job.template, "ektp");
    assert_eq!(job.nik_masked, "1502**********02");
    assert_eq!(job.created_at, t0());
    let payload = journal.payload(job_id).await.unwrap();
    assert_eq!(payload, synthetic_payload("event-1", 1));
    assert_eq!(journal.job_by_event("event-1").await.unwrap().unwrap().id, job_id);
    assert_eq!(journal.count_by_state().await.unwrap().get(&JobState::AwaitingAuthorization), Some(&2));

    let history = journal.history(job_id).await.unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!(
        (history[0].from, history[0].to, &history[0].actor),
        (None, JobState::AwaitingAuthorization, &Actor::System)
    );
    assert!(history[0].reason.starts_with("event received"), "the audit trail keeps the arrival: {history:?}");
}

async fn concurrent_redeliveries_make_one_job(journal: Journal) {
    let payload = synthetic_payload("event-raced", 7);
    let event = parsed(&payload);
    let attempts = (0..8).map(|_| {
        let (journal, event, payload) = (journal.clone(), event.clone(), payload.clone());
        tokio::spawn(async move { journal.admit(&event, &payload, "ektp", t0()).await.unwrap() })
    });
    let mut admitted = 0;
    let mut ids = std::collections::HashSet::new();
    for attempt in attempts {
        let admission = attempt.await.unwrap();
        admitted += usize::from(matches!(admission, Admission::Admitted(_)));
        ids.insert(admission.job_id());
    }
    assert_eq!((admitted, ids.len()), (1, 1));
    assert_eq!(journal.count_by_state().await.unwrap().values().sum::<i64>(), 1);
}

async fn transitions_follow_the_state_machine_and_leave_an_audit_trail(journal: Journal) {
    let job_id = admit(&journal, "event-path", 3).await.job_id();
    let path = [
        (JobState::AwaitingAuthorization, JobState::AwaitingAuthorization, "central unreachable"),
        (JobState::AwaitingAuthorization, JobState::Authorized, "authorized"),
    ];
    for (minutes, (from, to, reason)) in path.into_iter().enumerate() {
        let at = t0() + Duration::minutes(minutes as i64 + 1);
        journal.transition(job_id, &Step::system(from, to, reason, at)).await.unwrap();
    }
    // The system may not hold a job; staff may, and the reason and actor are kept.
    let hold = Step::system(JobState::Authorized, JobState::Held, "by system", t0());
    assert!(matches!(journal.transition(job_id, &hold).await, Err(JournalError::Illegal(_))));
    let hold = Step { actor: Actor::Staff("rina".into()), reason: "photo looks wrong".into(), ..hold }
        .with(JobUpdate { held_from: Some(Some(JobState::Authorized)), ..JobUpdate::default() });
    journal.transition(job_id, &hold).await.unwrap();
    let after_hold = journal.job(job_id).await.unwrap().unwrap();
    assert_eq!((after_hold.state, after_hold.held_from), (JobState::Held, Some(JobState::Authorized)));

    let history = journal.history(job_id).await.unwrap();
    let steps: Vec<_> = history.iter().map(|t| (t.from, t.to, t.reason.as_str(), t.actor.clone())).collect();
    assert_eq!(
        steps,
        vec![
            (
                None,
                JobState::AwaitingAuthorization,
                "event received; waiting for central's authorization",
                Actor::System
            ),
            (
                Some(JobState::AwaitingAuthorization),
                JobState::AwaitingAuthorization,
                "central unreachable",
                Actor::System
            ),
            (Some(JobState::AwaitingAuthorization), JobState::Authorized, "authorized", Actor::System),
            (Some(JobState::Authorized), JobState::Held, "photo looks wrong", Actor::Staff("rina".into())),
        ]
    );
    assert_eq!(history.iter().map(|t| t.seq).collect::<Vec<_>>(), vec![1, 2, 3, 4]);
    assert_eq!(history[2].at, t0() + Duration::minutes(2));
}

async fn a_moved_job_is_a_conflict(journal: Journal) {
    let job_id = admit(&journal, "event-conflict", 4).await.job_id();
    let step = Step::system(JobState::AwaitingAuthorization, JobState::Authorized, "first", t0());
    journal.transition(job_id, &step).await.unwrap();
    let again = journal.transition(job_id, &step).await;
    assert!(
        matches!(
            again,
            Err(JournalError::Conflict { expected: JobState::AwaitingAuthorization, actual: JobState::Authorized, .. })
        ),
        "{again:?}"
    );
    assert_eq!(journal.history(job_id).await.unwrap().len(), 2, "a refused step leaves no trace");
    let unknown = cardspool::domain::job::JobId::new();
    assert!(matches!(journal.transition(unknown, &step).await, Err(JournalError::NotFound(_))));
}

async fn updates_set_keep_and_clear_columns(journal: Journal) {
    let job_id = admit(&journal, "event-update", 5).await.job_id();
    let retry_at = t0() + Duration::minutes(5);
    let waiting = Step::system(JobState::AwaitingAuthorization, JobState::AwaitingAuthorization, "central down", t0())
        .with(JobUpdate { attempts: Some(1), next_attempt_at: Some(Some(retry_at)), ..JobUpdate::default() });
    journal.transition(job_id, &waiting).await.unwrap();
    let job = journal.job(job_id).await.unwrap().unwrap();
    assert_eq!((job.attempts, job.next_attempt_at), (1, Some(retry_at)));

    // An update that says nothing about a column keeps it.
    let again = Step::system(JobState::AwaitingAuthorization, JobState::AwaitingAuthorization, "again", t0());
    journal.transition(job_id, &again).await.unwrap();
    let job = journal.job(job_id).await.unwrap().unwrap();
    assert_eq!((job.attempts, job.next_attempt_at), (1, Some(retry_at)));

    let authorized = Step::system(JobState::AwaitingAuthorization, JobState::Authorized, "ok", t0()).with(JobUpdate {
        next_attempt_at: Some(None),
        authorization: Some(Some(StoredAuthorization {
            json: "{\"authorization_id\":\"a-1\"}".into(),
            id: "a-1".into(),
            expires_at: t0() + Duration::hours(24),
        })),
        ..JobUpdate::default()
    });
    journal.transition(job_id, &authorized).await.unwrap();
    let job = journal.job(job_id).await.unwrap().unwrap();
    assert_eq!(job.next_attempt_at, None);
    assert_eq!(job.authorization.as_deref(), Some("{\"authorization_id\":\"a-1\"}"));
    assert_eq!(
        (job.authorization_id.as_deref(), job.authorization_expires_at),
        (Some("a-1"), Some(t0() + Duration::hours(24))),
        "the id and expiry in their own columns"
    );
    let card = journal.card_for_central(job_id).await.unwrap().expect("stored at admission");
    assert_eq!((card.nik.len(), card.card_digest.len()), (16, 64), "the full NIK and the card's digest");
    assert_eq!(job.reason, "ok");
}

async fn due_jobs_come_urgent_first_then_oldest(journal: Journal) {
    // synthetic events with n % 10 == 0 are urgent.
    let normal_late = admit(&journal, "normal-late", 1).await.job_id();
    let normal_early = admit(&journal, "normal-early", 2).await.job_id();
    let urgent = admit(&journal, "urgent", 10).await.job_id();
    let not_due = admit(&journal, "not-due", 3).await.job_id();
    for (job_id, minutes) in [(normal_late, 3), (normal_early, 1), (urgent, 2), (not_due, 60)] {
        let step = Step::system(JobState::AwaitingAuthorization, JobState::AwaitingAuthorization, "wait", t0())
            .with(JobUpdate { next_attempt_at: Some(Some(t0() + Duration::minutes(minutes))), ..JobUpdate::default() });
        journal.transition(job_id, &step).await.unwrap();
    }
    let now = t0() + Duration::minutes(10);
    let due: Vec<_> =
        journal.due(JobState::AwaitingAuthorization, now, 10).await.unwrap().into_iter().map(|j| j.id).collect();
    assert_eq!(due, vec![urgent, normal_early, normal_late]);
    assert_eq!(journal.due(JobState::AwaitingAuthorization, now, 2).await.unwrap().len(), 2);
    assert!(journal.due(JobState::Received, now, 10).await.unwrap().is_empty());
    assert_eq!(journal.next_due_at(JobState::AwaitingAuthorization).await.unwrap(), Some(t0() + Duration::minutes(1)));
    assert_eq!(journal.next_due_at(JobState::Printing).await.unwrap(), None);
}

async fn rejections_are_recorded_once_per_payload(journal: Journal) {
    let rejection = NewRejection {
        payload: b"{not json",
        event_id: None,
        routing_key: "enrollment.completed".into(),
        reason: "payload is not JSON: key must be a string at line 1 column 2".into(),
    };
    journal.record_rejection(&rejection, t0()).await.unwrap();
    journal.record_rejection(&rejection, t0() + Duration::minutes(1)).await.unwrap();
    let other = NewRejection { payload: b"[]", reason: "payload is not a JSON object".into(), ..rejection.clone() };
    journal.record_rejection(&other, t0()).await.unwrap();

    let recorded = journal.rejections(10).await.unwrap();
    assert_eq!(recorded.len(), 2);
    let first = &recorded[0];
    assert_eq!(
        (first.times, first.payload_size, first.first_at, first.last_at),
        (2, 9, t0(), t0() + Duration::minutes(1))
    );
    assert_eq!(first.payload_sha256.len(), 64);
    assert_eq!(journal.rejection_counts().await.unwrap(), (2, 3));
}

async fn status_events_go_to_the_outbox_with_the_change(journal: Journal) {
    let job_id = admit(&journal, "event-status", 6).await.job_id();
    for (from, to) in [
        (JobState::AwaitingAuthorization, JobState::AwaitingAuthorization),
        (JobState::AwaitingAuthorization, JobState::Rejected),
    ] {
        journal.transition(job_id, &Step::system(from, to, "central said so", t0())).await.unwrap();
    }
    let pending = journal.unpublished(10).await.unwrap();
    let keys: Vec<_> = pending.iter().map(|m| m.routing_key.as_str()).collect();
    assert_eq!(keys, vec!["card.queued", "card.awaiting_authorization", "card.rejected"]);
    let body: serde_json::Value = serde_json::from_str(&pending[2].body).unwrap();
    assert_eq!(body["event_id"], "event-status");
    assert_eq!(body["job_id"], job_id.to_string());
    assert_eq!(body["reason"], "central said so");

    journal.mark_published(&[pending[0].id.clone()], t0()).await.unwrap();
    assert_eq!(journal.unpublished(10).await.unwrap().len(), 2);
}

/// The SQLite journal holds people's data: its new directory is 0700, its file and the WAL
/// beside it 0600, and an existing journal readable by others is made 0600 when opened.
#[tokio::test]
async fn the_sqlite_journal_is_private_to_the_spooler() {
    use std::os::unix::fs::PermissionsExt as _;
    let mode = |path: &std::path::Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
    let root = tempfile::tempdir().unwrap();
    let file = root.path().join("data").join("journal.db");
    let journal = Journal::open(&format!("sqlite://{}", file.display()), 2).await.unwrap();
    admit(&journal, "private", 1).await;
    assert_eq!(mode(file.parent().unwrap()), 0o700);
    assert_eq!(mode(&file), 0o600);
    let wal = root.path().join("data").join("journal.db-wal");
    assert_eq!(mode(&wal), 0o600, "SQLite gives its WAL the database's mode");
    journal.close().await;

    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
    let journal = Journal::open(&format!("sqlite://{}", file.display()), 2).await.unwrap();
    assert_eq!(mode(&file), 0o600, "made private again");
    journal.close().await;
}

#[tokio::test]
async fn a_journal_that_cannot_be_opened_is_named_without_its_password() {
    let url = "postgres://cardspool:s3cret-pw@127.0.0.1:5432/nowhere?sslmode=bogus";
    let error = tokio::time::timeout(std::time::Duration::from_secs(30), Journal::open(url, 1))
        .await
        .expect("a bad option fails at once")
        .expect_err("a bad option");
    let text = error.to_string();
    assert!(text.contains("cannot open the journal at postgres://cardspool:****@127.0.0.1:5432/nowhere"), "{text}");
    assert!(!text.contains("s3cret-pw"), "the password is never shown: {text}");
}

/// The ids of three jobs admitted from `event-1` … `event-3` followed by one the journal does
/// not know, and that unknown id.
async fn three_jobs_and_an_unknown(journal: &Journal) -> (Vec<JobId>, JobId) {
    let mut ids = Vec::new();
    for n in 1..=3 {
        let Admission::Admitted(job_id) = admit(journal, &format!("event-{n}"), n).await else { panic!("new") };
        ids.push(job_id);
    }
    let unknown = JobId::new();
    ids.push(unknown);
    (ids, unknown)
}

async fn a_batch_s_events_are_read_together(journal: Journal) {
    let (ids, unknown) = three_jobs_and_an_unknown(&journal).await;
    let payloads = journal.payloads(&ids).await.unwrap();
    assert_eq!(payloads.len(), 3, "the unknown job has no payload");
    for (n, job_id) in (1..=3).zip(&ids) {
        assert_eq!(payloads[job_id], synthetic_payload(&format!("event-{n}"), n), "each job its own event");
    }
    assert!(!payloads.contains_key(&unknown));
    assert!(journal.payloads(&[]).await.unwrap().is_empty());
}

async fn a_batch_s_cards_for_central_are_read_together(journal: Journal) {
    let (ids, unknown) = three_jobs_and_an_unknown(&journal).await;
    let cards = journal.cards_for_central(&ids).await.unwrap();
    assert_eq!(cards.len(), 3, "the unknown job has no card");
    for job_id in &ids[..3] {
        let alone = journal.card_for_central(*job_id).await.unwrap().expect("stored at admission");
        assert!(cards[job_id] == alone, "each job its own NIK and digest, as read alone");
    }
    let niks: std::collections::HashSet<_> = cards.values().map(|card| card.nik.clone()).collect();
    assert_eq!(niks.len(), 3, "three people, three NIKs");
    assert!(!cards.contains_key(&unknown));
    assert!(journal.cards_for_central(&[]).await.unwrap().is_empty());
}

/// Steps of many jobs asked at once meet in one commit, written with one statement (the
/// writer's set-based path): each still checked against its job's state, each with its own
/// columns, audit entry and status event, and a refused one changes nothing.
async fn steps_committed_together_each_keep_their_own_outcome(journal: Journal) {
    use futures_util::future::join_all;
    let mut jobs = Vec::new();
    for n in 0..6 {
        jobs.push(admit(&journal, &format!("event-together-{n}"), 20 + n).await.job_id());
    }
    let waiting = JobState::AwaitingAuthorization;
    let at = t0() + Duration::minutes(5);
    let retry_at = t0() + Duration::hours(1);
    let authorization = StoredAuthorization {
        json: r#"{"authorization_id":"auth-together"}"#.into(),
        id: "auth-together".into(),
        expires_at: t0() + Duration::days(1),
    };
    // One job already moved on: its step below expects the old state.
    journal.transition(jobs[4], &Step::system(waiting, JobState::Authorized, "first", at)).await.unwrap();
    let commits_before = journal.writer_stats().commits.load(std::sync::atomic::Ordering::Relaxed);
    let unknown = cardspool::domain::job::JobId::new();
    let steps = [
        (
            jobs[0],
            Step::system(waiting, JobState::Authorized, "authorized", at)
                .with(JobUpdate { authorization: Some(Some(authorization.clone())), ..JobUpdate::default() }),
        ),
        (
            jobs[1],
            Step::system(waiting, waiting, "central unreachable", at).with(JobUpdate {
                attempts: Some(3),
                next_attempt_at: Some(Some(retry_at)),
                ..JobUpdate::default()
            }),
        ),
        (jobs[2], Step::system(waiting, JobState::Rejected, "central said no", at)),
        (jobs[3], Step::system(waiting, JobState::Held, "by system", at)),
        (jobs[4], Step::system(waiting, JobState::Authorized, "second", at)),
        (unknown, Step::system(waiting, JobState::Authorized, "nobody", at)),
        (jobs[5], Step::system(waiting, JobState::Authorized, "authorized", at)),
    ];
    let results = join_all(steps.iter().map(|(job, step)| journal.transition(*job, step))).await;
    let commits = journal.writer_stats().commits.load(std::sync::atomic::Ordering::Relaxed) - commits_before;
    assert_eq!(commits, 1, "the steps asked at once share one commit");
    assert!(results[0].is_ok() && results[1].is_ok() && results[2].is_ok() && results[6].is_ok(), "{results:?}");
    assert!(matches!(results[3], Err(JournalError::Illegal(_))), "the system may not hold a job: {:?}", results[3]);
    assert!(
        matches!(
            results[4],
            Err(JournalError::Conflict { expected: JobState::AwaitingAuthorization, actual: JobState::Authorized, .. })
        ),
        "{:?}",
        results[4]
    );
    assert!(matches!(results[5], Err(JournalError::NotFound(_))), "{:?}", results[5]);

    let authorized = journal.job(jobs[0]).await.unwrap().unwrap();
    assert_eq!(authorized.state, JobState::Authorized);
    assert_eq!(authorized.authorization_id.as_deref(), Some("auth-together"));
    assert_eq!(authorized.authorization.as_deref(), Some(authorization.json.as_str()));
    assert_eq!(authorized.authorization_expires_at, Some(authorization.expires_at));
    assert_eq!((authorized.attempts, authorized.next_attempt_at), (0, None), "columns not named are kept");
    let deferred = journal.job(jobs[1]).await.unwrap().unwrap();
    assert_eq!((deferred.state, deferred.attempts, deferred.next_attempt_at), (waiting, 3, Some(retry_at)));
    assert_eq!(deferred.authorization, None);
    assert_eq!(journal.job(jobs[2]).await.unwrap().unwrap().state, JobState::Rejected);
    assert_eq!(journal.job(jobs[3]).await.unwrap().unwrap().state, waiting, "an illegal step writes nothing");
    assert_eq!(journal.job(jobs[4]).await.unwrap().unwrap().reason, "first", "a conflict writes nothing");

    for (job, expected) in [(jobs[0], 2), (jobs[1], 2), (jobs[2], 2), (jobs[3], 1), (jobs[4], 2), (jobs[5], 2)] {
        let history = journal.history(job).await.unwrap();
        assert_eq!(history.iter().map(|t| t.seq).collect::<Vec<_>>(), (1..=expected).collect::<Vec<_>>(), "{job}");
        assert_eq!(history.last().unwrap().at, if expected == 1 { t0() } else { at });
    }
    assert_eq!(journal.history(jobs[1]).await.unwrap()[1].reason, "central unreachable");
    let pending = journal.unpublished(100).await.unwrap();
    let of = |job: cardspool::domain::job::JobId| {
        pending
            .iter()
            .filter(|m| serde_json::from_str::<serde_json::Value>(&m.body).unwrap()["job_id"] == job.to_string())
            .map(|m| m.routing_key.as_str())
            .collect::<Vec<_>>()
    };
    // Admission wrote the first two; the steps taken together each added theirs.
    let admitted = ["card.queued", "card.awaiting_authorization"];
    assert_eq!(of(jobs[2]), [admitted[0], admitted[1], "card.rejected"]);
    assert_eq!(of(jobs[1]), admitted, "waiting again is no news upstream");
    assert_eq!(of(jobs[3]), admitted, "the refused step sends nothing");
}

/// One admission holding an event journaled before, the same new event twice and another new
/// one: two jobs made, each event answered with its one job.
async fn a_batch_with_repeated_and_known_events_admits_each_once(journal: Journal) {
    use cardspool::journal::NewJob;
    let known = admit(&journal, "event-known", 30).await.job_id();
    let payloads = [
        synthetic_payload("event-new-1", 31),
        synthetic_payload("event-known", 30),
        synthetic_payload("event-new-1", 31),
        synthetic_payload("event-new-2", 32),
    ];
    let events: Vec<_> = payloads.iter().map(|payload| parsed(payload)).collect();
    let jobs: Vec<NewJob<'_>> =
        events.iter().zip(&payloads).map(|(event, payload)| NewJob { event, payload, template: "ektp" }).collect();
    let admissions = journal.admit_all(&jobs, t0()).await.unwrap();
    let Admission::Admitted(first) = admissions[0] else { panic!("a new event is admitted: {admissions:?}") };
    let Admission::Admitted(second) = admissions[3] else { panic!("a new event is admitted: {admissions:?}") };
    assert_eq!(admissions[1], Admission::Duplicate(known), "journaled before");
    assert_eq!(admissions[2], Admission::Duplicate(first), "earlier in the same batch");
    for (event_id, job) in [("event-new-1", first), ("event-new-2", second), ("event-known", known)] {
        assert_eq!(journal.job_by_event(event_id).await.unwrap().unwrap().id, job);
        assert_eq!(journal.history(job).await.unwrap().len(), 1, "one arrival in the audit trail");
    }
    assert_eq!(journal.payload(second).await.unwrap(), payloads[3]);
    let queued = journal.unpublished(100).await.unwrap().iter().filter(|m| m.routing_key == "card.queued").count();
    assert_eq!(queued, 3, "one `queued` per job");
}
