//! Long outages of central under tokio's paused clock: a week with thousands of jobs waiting,
//! and a spooler restart in the middle of one.

use std::collections::HashMap;
use std::time::Duration;

use cardspool::central::{CentralState, Phase};
use cardspool::config::CentralConfig;
use cardspool::domain::job::JobState;
use cardspool::sim::central::{DownHow, Fault};

use crate::support::central::{central_config, Rig};
use crate::support::wait::eventually_simulated;

const HOUR: Duration = Duration::from_secs(3600);

fn outage_config(rig: &Rig) -> CentralConfig {
    CentralConfig {
        probe_interval_s: 60,
        breaker_threshold: 5,
        drain_rate_per_s: 50,
        drain_concurrency: 4,
        // Nothing is admitted during the test: no need to look for new jobs more often.
        poll_interval_ms: 60_000,
        ..central_config(&rig.sim)
    }
}

#[tokio::test]
#[cfg_attr(not(feature = "test-hooks"), ignore = "needs the test hooks: cargo test --features test-hooks")]
async fn a_week_long_outage_loses_no_job_probes_once_a_minute_and_drains_at_the_configured_rate() {
    const JOBS: u32 = 5_000;
    let rig = Rig::new(JOBS).await;
    rig.sim.set_fault(Fault::Down { how: DownHow::Drop, retry_after_s: None });
    let config = outage_config(&rig);
    tokio::time::pause();
    let worker = rig.start(&config).await;

    // The first hour: the breaker opens after `breaker_threshold` failures (plus what was
    // already in flight), every job moves to waiting, and central is left alone.
    tokio::time::sleep(HOUR).await;
    let status = worker.monitor.snapshot();
    assert_eq!(status.state, CentralState::Down, "{}", status.summary);
    assert_eq!(rig.count(JobState::AwaitingAuthorization).await, i64::from(JOBS));
    let down_since = status.since;
    let first_hour = rig.sim.stats().requests;
    assert!(first_hour <= 5 + 4 + 61, "{first_hour} requests in the first hour of the outage");

    // The rest of the week, an hour at a time: at most one probe a minute, nothing lost.
    let mut previous = first_hour;
    for hour in 1..7 * 24 {
        tokio::time::sleep(HOUR).await;
        let requests = rig.sim.stats().requests;
        assert!(requests - previous <= 61, "hour {hour}: {} requests to a central that is down", requests - previous);
        assert!(
            requests - previous >= 59,
            "hour {hour}: only {} probes: the breaker stopped probing",
            requests - previous
        );
        previous = requests;
        if hour % 24 == 0 {
            let status = worker.monitor.snapshot();
            assert_eq!((status.state, status.since), (CentralState::Down, down_since), "{}", status.summary);
            assert_eq!(status.jobs_waiting, u64::from(JOBS));
        }
    }
    let week = rig.sim.stats();
    assert!(week.requests <= 7 * 24 * 60 + 10, "{} requests in a week of outage", week.requests);
    assert_eq!((week.authorized, week.dropped), (0, week.requests));
    assert_eq!(rig.count(JobState::AwaitingAuthorization).await, i64::from(JOBS), "no job lost or moved");

    // Central comes back: the next probe finds it, and the backlog drains at the bounded rate.
    rig.sim.set_fault(Fault::None);
    let recovered_at = tokio::time::Instant::now();
    let mut samples = Vec::new();
    loop {
        let authorized = rig.count(JobState::Authorized).await;
        samples.push((recovered_at.elapsed(), authorized));
        if authorized == i64::from(JOBS) {
            break;
        }
        assert!(recovered_at.elapsed() < HOUR, "not drained an hour after central came back: {samples:?}");
        tokio::time::sleep(Duration::from_secs(10)).await;
    }
    let drained = recovered_at.elapsed();
    let status = worker.monitor.snapshot();
    assert_eq!((status.state, status.breaker), (CentralState::Up, Phase::Closed), "{}", status.summary);
    // Each window of 10 s authorizes at most 50/s × 10 s (+ the requests in flight).
    for pair in samples.windows(2) {
        let (window, done) = (pair[1].0.saturating_sub(pair[0].0), pair[1].1 - pair[0].1);
        let ceiling = (window.as_secs_f64() * 50.0).ceil() as i64 + 4;
        assert!(done <= ceiling, "{done} jobs authorized in {window:?}: faster than 50 per second");
    }
    let fastest_possible = Duration::from_secs(u64::from(JOBS) / 50);
    assert!(drained >= fastest_possible, "drained in {drained:?}, faster than the rate allows");
    assert!(
        drained <= fastest_possible * 3 + Duration::from_secs(70),
        "drained in {drained:?}: far slower than the rate"
    );
    let after_drain = rig.sim.stats();
    assert_eq!(after_drain.authorized, u64::from(JOBS), "one authorization per job: {after_drain:?}");
    for job in rig.jobs(JobState::Authorized).await {
        assert!(job.authorization.is_some(), "job {} authorized without its authorization", job.id);
        assert_eq!(job.next_attempt_at, None);
    }
    println!(
        "week-long outage: {} requests to central while down, backlog of {JOBS} drained in {:?} of simulated time",
        week.requests, drained
    );
    worker.stop().await;
}

#[tokio::test]
#[cfg_attr(not(feature = "test-hooks"), ignore = "needs the test hooks: cargo test --features test-hooks")]
async fn a_restart_in_the_middle_of_an_outage_keeps_the_next_attempts_and_the_breakers_caution() {
    const JOBS: u32 = 200;
    let rig = Rig::new(JOBS).await;
    rig.sim.set_fault(Fault::Down { how: DownHow::Unavailable, retry_after_s: None });
    let config = CentralConfig { poll_interval_ms: 10_000, ..outage_config(&rig) };
    tokio::time::pause();
    let worker = rig.start(&config).await;
    tokio::time::sleep(2 * HOUR + Duration::from_secs(17)).await;
    let before = worker.monitor.snapshot();
    assert_eq!(before.state, CentralState::Down, "{}", before.summary);
    worker.stop().await;

    let next_attempts: HashMap<_, _> =
        rig.jobs(JobState::AwaitingAuthorization).await.into_iter().map(|job| (job.id, job.next_attempt_at)).collect();
    assert_eq!(next_attempts.len(), JOBS as usize);
    // Probes take urgent jobs first (one in ten here), so those carry their next attempt.
    assert!(next_attempts.values().filter(|at| at.is_some()).count() >= 10, "probed jobs have their next attempt");
    let requests_at_stop = rig.sim.stats().requests;

    // A new spooler on the same journal: still down since the same time, the next probe where
    // it was, no burst of requests to find out.
    let worker = rig.start(&config).await;
    let restored = worker.monitor.snapshot();
    // The journal keeps milliseconds.
    let ms = |at: Option<chrono::DateTime<chrono::Utc>>| at.map(|at| at.timestamp_millis());
    assert_eq!(
        (restored.state, ms(Some(restored.since)), ms(restored.next_probe_at), restored.breaker),
        (CentralState::Down, ms(Some(before.since)), ms(before.next_probe_at), Phase::Open),
        "{}",
        restored.summary
    );
    let next_probe = restored.next_probe_at.expect("an open breaker has a next probe");
    let until_probe = (next_probe - rig.clock.now()).to_std().unwrap_or_default();
    tokio::time::sleep(until_probe.saturating_sub(Duration::from_millis(500))).await;
    assert_eq!(rig.sim.stats().requests, requests_at_stop, "nothing asked before the saved next probe");
    let after_stop: HashMap<_, _> =
        rig.jobs(JobState::AwaitingAuthorization).await.into_iter().map(|job| (job.id, job.next_attempt_at)).collect();
    assert_eq!(after_stop, next_attempts, "next attempts survive the restart unchanged");
    tokio::time::sleep(Duration::from_secs(30 * 60)).await;
    let half_hour = rig.sim.stats().requests - requests_at_stop;
    assert!((30..=31).contains(&half_hour), "{half_hour} requests in the half hour after the restart");

    rig.sim.set_fault(Fault::None);
    eventually_simulated("all authorized after the restart", Duration::from_secs(5), HOUR, || async {
        rig.count(JobState::Authorized).await == i64::from(JOBS)
    })
    .await;
    assert_eq!(rig.sim.stats().authorized, u64::from(JOBS));
    worker.stop().await;
}

#[tokio::test]
#[cfg_attr(not(feature = "test-hooks"), ignore = "needs the test hooks: cargo test --features test-hooks")]
async fn two_instances_on_one_journal_probe_a_down_central_once_per_interval_between_them() {
    const JOBS: u32 = 200;
    let rig = Rig::new(JOBS).await;
    rig.sim.set_fault(Fault::Down { how: DownHow::Drop, retry_after_s: None });
    let config = outage_config(&rig);
    tokio::time::pause();
    let first = rig.start(&config).await;
    let second = rig.start(&config).await;

    // Each instance opens its breaker on its own failures (threshold and what was in flight);
    // then one probe a minute between them, not one each.
    tokio::time::sleep(Duration::from_secs(10 * 60)).await;
    let opening = rig.sim.stats().requests;
    assert!(opening <= 2 * (5 + 4) + 11, "{opening} requests in the first ten minutes");
    tokio::time::sleep(3 * HOUR).await;
    let probes = rig.sim.stats().requests - opening;
    assert!((178..=182).contains(&probes), "{probes} probes in three hours by two instances (one a minute: 180)");
    for worker in [&first, &second] {
        assert_eq!(worker.monitor.snapshot().state, CentralState::Down);
    }

    // Central back: whichever probes first finds it, the other adopts that, and all drain.
    rig.sim.set_fault(Fault::None);
    eventually_simulated("all authorized", Duration::from_secs(5), HOUR, || async {
        rig.count(JobState::Authorized).await == i64::from(JOBS)
    })
    .await;
    // The instance that did not probe learns it from the journal: within a backlog refresh
    // while its loop is awake, at its next probe time at the latest.
    eventually_simulated("both instances see central up", Duration::from_secs(1), Duration::from_secs(70), || async {
        [&first, &second].iter().all(|worker| worker.monitor.snapshot().state == CentralState::Up)
    })
    .await;
    assert_eq!(rig.sim.stats().authorized, u64::from(JOBS));
    first.stop().await;
    second.stop().await;
}
