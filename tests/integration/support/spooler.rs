//! The spooler as a child process (`cardspool run`), configured through the environment as a
//! deployment would, its log captured to a file.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use cardspool::amqp::Publication;
use cardspool::journal::Journal;

use super::journal::total;
use super::services::{self, Vhost};
use super::wait::eventually;

pub struct Spooler {
    child: Child,
    pub log: PathBuf,
}

impl Spooler {
    /// Starts `cardspool run` against `vhost` and the journal at `journal_url`, from `dir`
    /// (which also receives the log file `spooler-<n>.log`).
    pub fn start(vhost: &Vhost, journal_url: &str, dir: &Path, extra_env: &[(&str, &str)]) -> Spooler {
        let log = (0..1000)
            .map(|n| dir.join(format!("spooler-{n}.log")))
            .find(|path| !path.exists())
            .expect("a free log name");
        let log_file = std::fs::File::create(&log).expect("log file");
        let mut command = Command::new(services::binary());
        command
            .arg("run")
            .current_dir(dir)
            .env("CARDSPOOL_AMQP__URL", vhost.url())
            .env("CARDSPOOL_AMQP__RECONNECT_MAX_BACKOFF_MS", "1000")
            .env("CARDSPOOL_JOURNAL__URL", journal_url)
            .env("CARDSPOOL_API__LISTEN", "127.0.0.1:0")
            .env("CARDSPOOL_RENDER__TEMPLATES_DIR", Path::new(env!("CARGO_MANIFEST_DIR")).join("templates"))
            .env("CARDSPOOL_LOG__FILTER", "debug,lapin=info,amq_protocol=info,sqlx=warn,hyper=info")
            .env_remove("RUST_LOG")
            .stdout(Stdio::null())
            .stderr(log_file);
        for (key, value) in extra_env {
            command.env(key, value);
        }
        let child = command.spawn().expect("start cardspool run");
        Spooler { child, log }
    }

    /// kill -9: no chance to finish anything.
    pub fn kill(mut self) {
        self.child.kill().expect("SIGKILL");
        self.child.wait().expect("reap");
    }

    /// SIGTERM, then the exit status (waits up to 30 s).
    pub fn terminate(mut self) -> ExitStatus {
        let status = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status().expect("kill -TERM");
        assert!(status.success());
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return status;
            }
            assert!(Instant::now() < deadline, "spooler did not stop within 30 s of SIGTERM");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The process id, to sample its memory.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The exit status once the spooler stopped on its own.
    pub fn exited(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().expect("try_wait")
    }

    pub fn is_running(&mut self) -> bool {
        self.child.try_wait().expect("try_wait").is_none()
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Spooler {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Enrollment publications for raw payloads, as upstream would send them.
pub fn publications(vhost_config: &cardspool::config::AmqpConfig, payloads: &[Vec<u8>]) -> Vec<Publication> {
    payloads
        .iter()
        .map(|body| Publication {
            exchange: vhost_config.enrollments_exchange.clone(),
            routing_key: "enrollment.completed".into(),
            body: body.clone(),
            message_id: cardspool::domain::event::peek_event_id(body),
            headers: lapin::types::FieldTable::default(),
            mandatory: true,
        })
        .collect()
}

/// Publishes and asserts every message was confirmed and routed.
pub async fn publish_all(vhost_config: &cardspool::config::AmqpConfig, payloads: &[Vec<u8>]) {
    // Publishing declares only the exchange: the spooler's queue must be there first, as it is
    // once a spooler has run on the vhost.
    cardspool::amqp::declare_spooler_topology(vhost_config).await.expect("declare the spooler's topology");
    let results = cardspool::amqp::publish_confirmed(vhost_config, &publications(vhost_config, payloads))
        .await
        .expect("connect to publish");
    let failures: Vec<_> = results.iter().filter_map(|r| r.as_ref().err()).collect();
    assert!(failures.is_empty(), "{} publications failed, first: {}", failures.len(), failures[0]);
}

/// After a broker fault in the middle of a stream of `events` distinct events: waits up to
/// `within` for every one to be a job and for the intake queue to empty, stops the spooler
/// (SIGTERM, exit 0), then checks that there is exactly one job per event and that the log shows
/// the loss noticed and intake consuming again.
pub async fn assert_recovered_exactly_once(
    spooler: Spooler,
    vhost: &Vhost,
    journal: &Journal,
    events: i64,
    within: Duration,
) {
    eventually(&format!("all {events} jobs after the fault"), within, || async { total(journal).await >= events })
        .await;
    eventually("the intake queue to empty", Duration::from_secs(30), || async {
        vhost.queue_depth("cardspool.intake").await == 0
    })
    .await;
    let log_path = spooler.log.clone();
    assert_eq!(spooler.terminate().code(), Some(0));
    assert_eq!(total(journal).await, events, "one job per event: nothing lost, nothing doubled");
    let log = std::fs::read_to_string(log_path).unwrap();
    assert!(log.contains("intake lost RabbitMQ; reconnecting"), "the fault was noticed");
    assert!(log.matches("intake consuming").count() >= 2, "intake reconnected and consumed again");
}
