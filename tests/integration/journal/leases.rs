//! Leases, on both backends: a card on a printer is held by the instance that sent it, renewed
//! while followed, and taken over by another only once expired; status events are claimed so
//! that each is published by one instance.

use chrono::{DateTime, Duration, TimeZone, Utc};

use crate::support::fixtures::{job_along, path_to};
use crate::support::on_both_backends;
use cardspool::domain::job::JobState;
use cardspool::journal::{JobUpdate, Journal, Step};

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 27, 2, 12, 0).unwrap()
}

on_both_backends!(
    a_card_on_a_printer_is_taken_over_only_when_its_lease_expired,
    each_status_event_is_claimed_by_one_instance,
    due_jobs_are_claimed_by_one_instance_in_batches,
    a_job_put_off_is_claimed_only_once_due,
    a_claim_of_templates_takes_only_theirs_in_the_order_given_and_counts_by_template,
    the_spool_sweep_deletes_the_cards_of_ended_and_unknown_jobs_only
);

async fn a_claim_of_templates_takes_only_theirs_in_the_order_given_and_counts_by_template(journal: Journal) {
    use crate::support::fixtures::{parsed, synthetic_payload, walk};
    let authorized = [JobState::Authorized];
    let mut by_template = std::collections::HashMap::<&str, Vec<_>>::new();
    for (n, template) in (1..=6).zip(["ektp", "kia", "ektp", "kia", "other", "ektp"]) {
        let payload = synthetic_payload(&format!("event-{n}"), n);
        let job = journal.admit(&parsed(&payload), &payload, template, t0()).await.unwrap().job_id();
        walk(&journal, job, JobState::AwaitingAuthorization, &authorized, t0()).await;
        by_template.entry(template).or_default().push(job);
    }
    let counts = journal.count_in_state_by_template(JobState::Authorized).await.unwrap();
    assert_eq!(counts.get("ektp"), Some(&3));
    assert_eq!(counts.get("kia"), Some(&2));
    assert_eq!(journal.count_in_state(JobState::Authorized).await.unwrap(), 6);
    assert_eq!(journal.count_in_state(JobState::Rendered).await.unwrap(), 0);

    let (now, until) = (t0() + Duration::minutes(1), t0() + Duration::minutes(2));
    let sorted = |mut ids: Vec<_>| {
        ids.sort();
        ids
    };
    let of = |templates: &[&str]| templates.iter().map(|t| (*t).to_owned()).collect::<Vec<_>>();
    let claimed =
        journal.claim_due_of_templates(JobState::Authorized, "a", now, until, 10, of(&["kia"])).await.unwrap();
    let claimed: Vec<_> = claimed.iter().map(|job| job.id).collect();
    assert_eq!(sorted(claimed), sorted(by_template["kia"].clone()), "only the jobs of the templates given");

    // Template by template in the order given, up to the limit: all of `other`'s, then `ektp`'s.
    let claimed =
        journal.claim_due_of_templates(JobState::Authorized, "b", now, until, 3, of(&["other", "ektp"])).await.unwrap();
    assert_eq!(claimed.len(), 3, "the limit holds over the templates");
    assert_eq!(claimed.iter().filter(|job| job.template == "other").count(), 1, "{claimed:?}");
    assert_eq!(claimed.iter().filter(|job| job.template == "ektp").count(), 2, "{claimed:?}");
    let claimed =
        journal.claim_due_of_templates(JobState::Authorized, "c", now, until, 10, of(&["ektp", "kia"])).await.unwrap();
    assert_eq!(claimed.len(), 1, "the others are held by live claims: {claimed:?}");
    assert_eq!(claimed[0].template, "ektp");
}

async fn a_job_put_off_is_claimed_only_once_due(journal: Journal) {
    let (waiting, put_off) = (job_along(&journal, 1, &[], t0()).await, job_along(&journal, 2, &[], t0()).await);
    let state = JobState::AwaitingAuthorization;
    let later = t0() + Duration::minutes(5);
    journal.defer(put_off, state, later, "central unavailable", t0()).await.unwrap();
    let until = |now: DateTime<Utc>| now + Duration::seconds(30);
    let now = t0() + Duration::minutes(1);
    let claimed = journal.claim_due(state, "spooler-a", now, until(now), 10).await.unwrap();
    assert_eq!(claimed.iter().map(|job| job.id).collect::<Vec<_>>(), [waiting], "the put-off job is not due yet");
    let claimed = journal.claim_due(state, "spooler-a", later, until(later), 10).await.unwrap();
    assert!(claimed.iter().any(|job| job.id == put_off), "due at its time");
}

async fn the_spool_sweep_deletes_the_cards_of_ended_and_unknown_jobs_only(journal: Journal) {
    let printed_early = job_along(&journal, 1, path_to(JobState::Printed), t0()).await;
    let printed_late = job_along(&journal, 2, path_to(JobState::Printed), t0() + Duration::minutes(10)).await;
    let rejected = job_along(&journal, 3, path_to(JobState::Rejected), t0()).await;
    let waiting_for_a_printer = job_along(&journal, 4, path_to(JobState::Rendered), t0()).await;
    let on_a_printer = job_along(&journal, 5, path_to(JobState::Printing), t0()).await;
    let unknown_to_the_journal = cardspool::domain::job::JobId::new();
    let spooled = [printed_early, printed_late, rejected, waiting_for_a_printer, on_a_printer, unknown_to_the_journal];
    let ended_by = t0() + Duration::minutes(5);
    let mut to_delete = journal.spooled_to_delete(&spooled, ended_by).await.unwrap();
    to_delete.sort();
    let mut expected = vec![printed_early, rejected, unknown_to_the_journal];
    expected.sort();
    assert_eq!(to_delete, expected, "ended before the retention's end, or unknown; never a card still to print");
}

async fn due_jobs_are_claimed_by_one_instance_in_batches(journal: Journal) {
    // n % 10 == 0 is urgent: job 10 comes first.
    let mut jobs = Vec::new();
    for n in 1..=10 {
        jobs.push(job_along(&journal, n, &[], t0() + Duration::seconds(i64::from(n))).await);
    }
    let (now, until) = (t0() + Duration::minutes(1), t0() + Duration::minutes(1) + Duration::seconds(30));
    let state = JobState::AwaitingAuthorization;
    let first = journal.claim_due(state, "spooler-a", now, until, 4).await.unwrap();
    assert_eq!(
        first.iter().map(|job| job.id).collect::<Vec<_>>(),
        [jobs[9], jobs[0], jobs[1], jobs[2]],
        "urgent, then oldest"
    );
    assert!(first.iter().all(|job| job.owner.as_deref() == Some("spooler-a")));
    let second = journal.claim_due(state, "spooler-b", now, until, 100).await.unwrap();
    assert_eq!(second.len(), 6, "the other instance gets the rest, none twice");
    assert!(second.iter().all(|job| !first.iter().any(|taken| taken.id == job.id)));

    // A released claim (and a step) frees the job at once; an expired one after its lease.
    journal.release_claims("spooler-a", &[first[0].id]).await.unwrap();
    let step = Step::system(state, state, "central unavailable", now);
    journal.transition(first[1].id, &step).await.unwrap();
    let third = journal.claim_due(state, "spooler-b", now, until, 100).await.unwrap();
    let mut freed: Vec<_> =
        third.iter().map(|job| job.id).filter(|id| !second.iter().any(|job| job.id == *id)).collect();
    freed.sort();
    let mut expected = vec![first[0].id, first[1].id];
    expected.sort();
    assert_eq!(freed, expected);
    let expired = until + Duration::seconds(1);
    let all = journal.claim_due(state, "spooler-c", expired, expired + Duration::seconds(30), 100).await.unwrap();
    assert_eq!(all.len(), 10);
}

async fn a_card_on_a_printer_is_taken_over_only_when_its_lease_expired(journal: Journal) {
    let job = job_along(&journal, 1, path_to(JobState::Rendered), t0()).await;
    let until = t0() + Duration::seconds(30);
    let sending = Step::system(JobState::Rendered, JobState::Printing, "sent", t0()).with(JobUpdate {
        printer: Some(Some("card-1".into())),
        lease: Some(("spooler-a".into(), until)),
        ..JobUpdate::default()
    });
    journal.transition(job, &sending).await.unwrap();
    let held = journal.job(job).await.unwrap().unwrap();
    assert_eq!((held.owner.as_deref(), held.lease_until), (Some("spooler-a"), Some(until)));

    // Another instance, while the lease runs: refused. The holder itself (after a restart): taken.
    let later = t0() + Duration::seconds(10);
    assert!(!journal.claim_printing(job, "spooler-b", later + Duration::seconds(30), later).await.unwrap());
    assert!(journal.claim_printing(job, "spooler-a", later + Duration::seconds(30), later).await.unwrap());
    // Renewed while followed: still refused to the other past the first lease.
    journal.renew_leases("spooler-a", &[job], t0() + Duration::seconds(90)).await.unwrap();
    let past_first = t0() + Duration::seconds(60);
    assert!(!journal.claim_printing(job, "spooler-b", past_first + Duration::seconds(30), past_first).await.unwrap());
    // Another instance's renewal changes nothing.
    journal.renew_leases("spooler-b", &[job], t0() + Duration::days(1)).await.unwrap();
    assert_eq!(journal.job(job).await.unwrap().unwrap().lease_until, Some(t0() + Duration::seconds(90)));

    // Expired: the other takes it over.
    let expired = t0() + Duration::seconds(91);
    assert!(journal.claim_printing(job, "spooler-b", expired + Duration::seconds(30), expired).await.unwrap());
    assert_eq!(journal.job(job).await.unwrap().unwrap().owner.as_deref(), Some("spooler-b"));

    // Leaving `printing` ends the lease, and a job not printing cannot be claimed.
    journal.transition(job, &Step::system(JobState::Printing, JobState::Printed, "printed", expired)).await.unwrap();
    let printed = journal.job(job).await.unwrap().unwrap();
    assert_eq!((printed.owner, printed.lease_until), (None, None));
    assert!(!journal
        .claim_printing(job, "spooler-a", expired + Duration::days(1), expired + Duration::days(2))
        .await
        .unwrap());
}

async fn each_status_event_is_claimed_by_one_instance(journal: Journal) {
    // Three jobs admitted: two status events each (queued, awaiting authorization).
    for n in 0..3 {
        job_along(&journal, n, &[], t0()).await;
    }
    let lease = Duration::seconds(30);
    let first = journal.claim_unpublished("spooler-a", t0(), t0() + lease, 4).await.unwrap();
    let second = journal.claim_unpublished("spooler-b", t0(), t0() + lease, 10).await.unwrap();
    assert_eq!((first.len(), second.len()), (4, 2), "no status event claimed twice");
    let mut ids: Vec<_> = first.iter().chain(&second).map(|m| m.id.clone()).collect();
    assert!(ids.windows(2).take(3).all(|pair| pair[0] < pair[1]), "oldest first");
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 6);

    // The holder gets its unpublished claims again (a failed publish is retried); the other
    // only once the claim expired.
    journal.mark_published(&[first[0].id.clone()], t0()).await.unwrap();
    let again = journal.claim_unpublished("spooler-a", t0(), t0() + lease, 10).await.unwrap();
    assert_eq!(again.len(), 3, "{again:?}");
    assert!(journal
        .claim_unpublished("spooler-b", t0(), t0() + lease, 10)
        .await
        .unwrap()
        .iter()
        .all(|m| second.contains(m)));
    let expired = t0() + lease + Duration::seconds(1);
    let taken_over = journal.claim_unpublished("spooler-b", expired, expired + lease, 10).await.unwrap();
    assert_eq!(taken_over.len(), 5, "every unpublished event, once the claims expired");
}

/// On PostgreSQL a commit of one instance wakes the stages of the others (NOTIFY), so that
/// they need not poll the journal to learn of new work.
#[tokio::test]
async fn a_commit_wakes_the_other_instances_stages() {
    let url = crate::support::services::fresh_postgres().await;
    let (one, other) = (crate::support::journal::at(&url).await, crate::support::journal::at(&url).await);
    let other_wakers = other.wakers();
    // The listener is connected once it has woken every stage.
    tokio::time::timeout(std::time::Duration::from_secs(10), other_wakers.authorize.notified())
        .await
        .expect("the other instance listens");
    job_along(&one, 1, &[], t0()).await;
    tokio::time::timeout(std::time::Duration::from_secs(10), other_wakers.authorize.notified())
        .await
        .expect("the admission woke the other instance's authorize stage");
    let job = job_along(&one, 2, &[], t0()).await;
    for stage in [&other_wakers.render, &other_wakers.print] {
        let _ = tokio::time::timeout(std::time::Duration::from_millis(500), stage.notified()).await;
    }
    journal_step(&one, job, JobState::AwaitingAuthorization, JobState::Authorized).await;
    tokio::time::timeout(std::time::Duration::from_secs(10), other_wakers.render.notified())
        .await
        .expect("the authorization woke the other instance's render stage");
    journal_step(&one, job, JobState::Authorized, JobState::Rendered).await;
    tokio::time::timeout(std::time::Duration::from_secs(10), other_wakers.print.notified())
        .await
        .expect("the rendered card woke the other instance's print stage");
    // Passed: its database goes now (a failed test's stays for a look).
    crate::support::services::drop_postgres(&url).await;
}

async fn journal_step(journal: &Journal, job: cardspool::domain::job::JobId, from: JobState, to: JobState) {
    journal.transition(job, &Step::system(from, to, "test", t0())).await.unwrap();
}
