//! A spooler's authorize stage against the central simulator, for the central tests: a journal
//! of its own (SQLite in /dev/shm when there is one, so the thousands of commits of a week-long
//! outage stay fast), the simulator in-process or over HTTP, and the worker.
//!
//! Under the paused clock every journal call (the worker's and the tests') goes through
//! [`held`], so simulated time only moves when everything waits on a timer. That needs the
//! library's `test-hooks` feature (`scripts/test` turns it on); the paused-clock tests are
//! ignored without it.

use std::collections::BTreeMap;
use std::sync::Arc;

use cardspool::central::{CentralMonitor, CentralTransport};
use cardspool::clock::Clock;
use cardspool::config::CentralConfig;
use cardspool::domain::job::{JobId, JobState};
use cardspool::journal::{Admission, JobRecord, Journal};
use cardspool::sim::central::{CentralSimCore, InProcessCentral};
use cardspool::workers::authorize::{AuthorizeError, Authorizer};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::{fixtures, journal};

/// Awaits a journal call while holding tokio's paused clock still (the library's
/// `hold_paused_clock`); without the `test-hooks` feature it only awaits.
pub async fn held<T>(call: impl std::future::Future<Output = T>) -> T {
    #[cfg(feature = "test-hooks")]
    let output = cardspool::workers::authorize::hold_paused_clock(call).await;
    #[cfg(not(feature = "test-hooks"))]
    let output = call.await;
    output
}

/// The settings the tests start from: the defaults, with the simulator's key.
pub fn central_config(sim: &CentralSimCore) -> CentralConfig {
    CentralConfig { public_key: sim.public_key_base64(), ..CentralConfig::default() }
}

pub struct Rig {
    pub dir: tempfile::TempDir,
    pub journal: Journal,
    pub sim: Arc<CentralSimCore>,
    pub clock: Clock,
}

impl Rig {
    /// Opens the journal with real time running (opening a pool must not see a paused clock
    /// jump) and admits `jobs` events.
    pub async fn new(jobs: u32) -> Rig {
        let dir = journal::fast_tempdir();
        let journal = journal::sqlite_with_connections(dir.path(), 16).await;
        let clock = Clock::system();
        let sim = Arc::new(CentralSimCore::generate(clock));
        let rig = Rig { dir, journal, sim, clock };
        rig.admit(0..jobs).await;
        rig
    }

    pub async fn admit(&self, numbers: std::ops::Range<u32>) -> Vec<JobId> {
        let mut ids = Vec::new();
        for n in numbers {
            match fixtures::admit(&self.journal, &format!("event-{n}"), n, self.clock.now()).await {
                Admission::Admitted(id) => ids.push(id),
                Admission::Duplicate(_) => panic!("event-{n} admitted twice"),
            }
        }
        ids
    }

    pub fn transport(&self) -> Arc<dyn CentralTransport> {
        Arc::new(InProcessCentral::new(self.sim.clone()))
    }

    /// Builds the worker over the in-process simulator and runs it.
    pub async fn start(&self, config: &CentralConfig) -> Worker {
        self.start_with(config, self.transport()).await
    }

    pub async fn start_with(&self, config: &CentralConfig, transport: Arc<dyn CentralTransport>) -> Worker {
        let authorizer =
            held(Authorizer::new(config, self.journal.clone(), transport, self.clock)).await.expect("build the worker");
        #[cfg(feature = "test-hooks")]
        let authorizer = authorizer.hold_paused_clock();
        let monitor = authorizer.monitor();
        let token = CancellationToken::new();
        let task = tokio::spawn(authorizer.run(token.clone()));
        Worker { monitor, token, task }
    }

    pub async fn counts(&self) -> BTreeMap<JobState, i64> {
        held(self.journal.count_by_state()).await.expect("count")
    }

    pub async fn count(&self, state: JobState) -> i64 {
        self.counts().await.get(&state).copied().unwrap_or(0)
    }

    pub async fn jobs(&self, state: JobState) -> Vec<JobRecord> {
        let mut all = Vec::new();
        let mut after = None;
        loop {
            let page = held(self.journal.jobs_in_state(state, after, 1000)).await.expect("list");
            let Some(last) = page.last() else { return all };
            after = Some(last.id);
            all.extend(page);
        }
    }
}

pub struct Worker {
    pub monitor: CentralMonitor,
    pub token: CancellationToken,
    pub task: JoinHandle<Result<(), AuthorizeError>>,
}

impl Worker {
    pub async fn stop(self) {
        self.token.cancel();
        self.task.await.expect("the worker does not panic").expect("the worker stops cleanly");
    }
}
