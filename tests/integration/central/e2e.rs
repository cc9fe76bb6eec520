//! End to end: enrollment events on RabbitMQ → central-sim down → jobs wait → central-sim up
//! → every job authorized. The spooler is `cardspool::run` in-process, against the real
//! broker (a vhost of its own), a SQLite journal and the simulator over HTTP.

use std::sync::Arc;
use std::time::Duration;

use cardspool::clock::Clock;
use cardspool::domain::job::JobState;
use cardspool::sim::central::{CentralSimCore, CentralSimServer, DownHow, Fault};

use crate::support::fixtures::synthetic_payload;
use crate::support::journal::{self, count};
use crate::support::services::{require_rabbitmq, spooler_config, sqlite_url, Vhost};
use crate::support::spooler::publish_all;
use crate::support::wait::eventually;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_wait_through_a_central_outage_and_are_authorized_when_it_returns() {
    const EVENTS: usize = 50;
    require_rabbitmq().await;
    let vhost = Vhost::new();
    let dir = tempfile::tempdir().unwrap();
    let sim =
        CentralSimServer::start("127.0.0.1:0".parse().unwrap(), Arc::new(CentralSimCore::generate(Clock::system())))
            .await
            .expect("central-sim");
    sim.set_fault(Fault::Down { how: DownHow::Drop, retry_after_s: None });

    let mut config = spooler_config(&vhost, &sqlite_url(dir.path()));
    config.central.url = sim.url();
    config.central.public_key = sim.public_key();
    config.central.probe_interval_s = 1;
    config.central.breaker_threshold = 3;
    config.central.poll_interval_ms = 100;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let spooler = tokio::spawn(cardspool::run(config.clone(), async {
        let _ = stopped.await;
    }));

    let payloads: Vec<Vec<u8>> = (0..EVENTS).map(|i| synthetic_payload(&format!("e2e-{i}"), i as u32)).collect();
    eventually("the spooler's intake queue", Duration::from_secs(20), || vhost.has_queue(&config.amqp.intake_queue))
        .await;
    publish_all(&config.amqp, &payloads).await;

    let journal = journal::sqlite_in(dir.path()).await;
    eventually("every job waiting for central", Duration::from_secs(30), || async {
        count(&journal, JobState::AwaitingAuthorization).await == EVENTS as i64
    })
    .await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(count(&journal, JobState::Authorized).await, 0);
    let down = sim.stats();
    assert!(down.requests <= 3 + 4 + 5, "{} requests to a central that is down", down.requests);

    sim.set_fault(Fault::None);
    // Once authorized, a job moves on to rendering and printing (no printer here): what
    // matters is that none is left waiting and each went through `authorized`.
    eventually("every job authorized", Duration::from_secs(30), || async {
        let waiting = count(&journal, JobState::AwaitingAuthorization).await;
        waiting == 0 && sim.stats().authorized == EVENTS as u64
    })
    .await;
    for i in 0..EVENTS {
        let job = journal.job_by_event(&format!("e2e-{i}")).await.unwrap().expect("job");
        let states: Vec<_> = journal.history(job.id).await.unwrap().iter().map(|step| step.to).collect();
        assert_eq!(states[0], JobState::AwaitingAuthorization, "admitted straight to waiting: {states:?}");
        assert!(states.contains(&JobState::Authorized), "e2e-{i}: {states:?}");
        assert!(job.authorization.is_some(), "e2e-{i} keeps its authorization");
    }

    stop.send(()).unwrap();
    spooler.await.unwrap().expect("the spooler stops cleanly");
    sim.stop().await;
}
