//! The journal's central queries (breaker persistence, backlog, maximum wait, probe
//! candidates) on SQLite and on PostgreSQL.

use chrono::{DateTime, Duration, TimeZone, Utc};

use crate::support::{fixtures, on_both_backends};
use cardspool::domain::job::{Actor, JobId, JobState};
use cardspool::journal::{CentralBreakerRow, JobUpdate, Journal, Step};

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 27, 2, 12, 0).unwrap()
}

async fn admit(journal: &Journal, n: u32, at: DateTime<Utc>) -> JobId {
    fixtures::admit(journal, &format!("central-{n}"), n, at).await.job_id()
}

async fn central_queries(journal: Journal) {
    assert_eq!(journal.central_breaker().await.unwrap(), None);
    let mut row = CentralBreakerRow {
        phase: "open".into(),
        state: "down".into(),
        state_since: t0(),
        consecutive_failures: 7,
        next_probe_at: Some(t0() + Duration::seconds(60)),
        paused_until: None,
        last_error: Some("central unreachable: cannot connect".into()),
        last_error_at: Some(t0()),
        last_success_at: None,
        alert: None,
        config_fingerprint: "abc".into(),
    };
    journal.save_central_breaker(&row, t0()).await.unwrap();
    assert_eq!(journal.central_breaker().await.unwrap().as_ref(), Some(&row));
    row.phase = "closed".into();
    row.next_probe_at = None;
    row.alert = Some("check the key".into());
    journal.save_central_breaker(&row, t0()).await.unwrap();
    assert_eq!(journal.central_breaker().await.unwrap(), Some(row), "saved again, replaced");

    assert_eq!(journal.authorization_backlog().await.unwrap(), (0, None));
    let old = admit(&journal, 1, t0()).await;
    let new = admit(&journal, 2, t0() + Duration::hours(2)).await;
    let latest = admit(&journal, 3, t0() + Duration::hours(3)).await;
    // A retry is a self-transition: it does not restart the wait.
    let retry = Step::system(
        JobState::AwaitingAuthorization,
        JobState::AwaitingAuthorization,
        "retry",
        t0() + Duration::hours(3),
    )
    .with(JobUpdate { next_attempt_at: Some(Some(t0() + Duration::hours(4))), ..JobUpdate::default() });
    journal.transition(old, &retry).await.unwrap();
    assert_eq!(journal.authorization_backlog().await.unwrap(), (3, Some(t0())));
    let overdue = journal.awaiting_since_before(t0() + Duration::hours(1), 10).await.unwrap();
    assert_eq!(overdue.iter().map(|job| job.id).collect::<Vec<_>>(), [old]);
    assert!(journal.awaiting_since_before(t0(), 10).await.unwrap().is_empty());
    let candidates: Vec<_> = journal.probe_candidates(10).await.unwrap().into_iter().map(|job| job.id).collect();
    assert_eq!(candidates.len(), 3);
    assert!([old, new, latest].iter().all(|job| candidates.contains(job)));

    // Admitted long ago, failed, sent back by staff at 5 h: it waits since 5 h, not since its
    // admission, and is overdue only for a cutoff after that.
    let returned = admit(&journal, 4, t0() - Duration::hours(10)).await;
    let failed = Step::system(JobState::AwaitingAuthorization, JobState::Failed, "gave up", t0());
    journal.transition(returned, &failed).await.unwrap();
    let back = Step {
        actor: Actor::Staff("rina".into()),
        ..Step::system(JobState::Failed, JobState::AwaitingAuthorization, "try again", t0() + Duration::hours(5))
    };
    journal.transition(returned, &back).await.unwrap();
    let overdue_at = |cutoff| {
        let journal = journal.clone();
        async move {
            let jobs = journal.awaiting_since_before(cutoff, 10).await.unwrap();
            jobs.into_iter().map(|job| job.id).collect::<Vec<_>>()
        }
    };
    assert_eq!(overdue_at(t0() + Duration::hours(4)).await, [old, new, latest]);
    assert_eq!(overdue_at(t0() + Duration::hours(6)).await, [returned, old, new, latest], "oldest admitted first");
}

on_both_backends!(central_queries);
