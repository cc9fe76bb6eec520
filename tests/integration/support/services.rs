//! The real services the integration tests use, each test with its own namespace so tests run
//! in parallel and a rerun starts clean: a fresh PostgreSQL database, a fresh RabbitMQ vhost,
//! a fresh SQLite file. When a service is down the test fails saying which and how to start it.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use cardspool::config::{AmqpConfig, Config};

pub const RABBITMQ_HINT: &str =
    "RabbitMQ must run on 127.0.0.1:5672 (guest/guest) for this test: start it with `rabbitmq-server -detached` \
     (Debian package rabbitmq-server), or run .ci/run which installs and starts it";
pub const POSTGRES_HINT: &str =
    "PostgreSQL must run on 127.0.0.1:5432 with trust auth and a database `test` for this test: start it with \
     `pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start`, or run .ci/run";

pub fn base_postgres_url() -> String {
    std::env::var("CARDSPOOL_TEST_POSTGRES").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

fn unique(prefix: &str) -> String {
    format!("{prefix}_{}", uuid::Uuid::new_v4().simple())
}

/// The prefix of the tests' databases; the name goes on with the Unix time of its creation.
const TEST_DATABASE_PREFIX: &str = "cardspool_test_";

/// A test's database older than this is one an earlier run left behind: no test runs that long
/// (CI stops at 90 minutes).
const LEFT_BEHIND_AFTER_SECS: u64 = 3 * 3600;

/// Whether this test binary dropped what earlier runs left, once.
static LEFT_BEHIND_SWEPT: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Creates an empty database of its own for one test and returns its URL.
///
/// A test drops its own when it passes ([`drop_postgres`]; `on_both_backends!` does it for the
/// tests it runs); a failed test's stays for a look, so the first test of a run drops what
/// earlier runs left: databases named with a creation time over three hours ago, or with none
/// (older builds').
pub async fn fresh_postgres() -> String {
    use sqlx::Connection as _;
    let base = base_postgres_url();
    let mut admin = match sqlx::PgConnection::connect(&base).await {
        Ok(connection) => connection,
        Err(error) => panic!("cannot connect to PostgreSQL at {base}: {error}\n{POSTGRES_HINT}"),
    };
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock after 1970").as_secs();
    if !LEFT_BEHIND_SWEPT.swap(true, std::sync::atomic::Ordering::SeqCst) {
        drop_left_behind_databases(&mut admin, now).await;
    }
    let name = format!("{TEST_DATABASE_PREFIX}{now}_{}", uuid::Uuid::new_v4().simple());
    sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut admin).await.expect("CREATE DATABASE");
    let (prefix, _) = base.rsplit_once('/').expect("database URL has a path");
    format!("{prefix}/{name}")
}

/// Drops a test's database made by [`fresh_postgres`], closing what connections remain to it.
pub async fn drop_postgres(url: &str) {
    use sqlx::Connection as _;
    let (_, name) = url.rsplit_once('/').expect("database URL has a path");
    assert!(name.starts_with(TEST_DATABASE_PREFIX), "{name} is not a test's database");
    let mut admin = sqlx::PgConnection::connect(&base_postgres_url()).await.expect("connect to drop a test's database");
    sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .execute(&mut admin)
        .await
        .unwrap_or_else(|error| panic!("cannot drop the test's database {name}: {error}"));
}

/// Drops the tests' databases that earlier runs left behind (see [`fresh_postgres`]). A drop that
/// fails (another run's test holds it, or dropped it first) is left for a later run.
async fn drop_left_behind_databases(admin: &mut sqlx::PgConnection, now: u64) {
    let names: Vec<String> = sqlx::query_scalar("SELECT datname FROM pg_database WHERE starts_with(datname, $1)")
        .bind(TEST_DATABASE_PREFIX)
        .fetch_all(&mut *admin)
        .await
        .expect("list the tests' databases");
    for name in names {
        let created = name
            .strip_prefix(TEST_DATABASE_PREFIX)
            .and_then(|rest| rest.split_once('_'))
            .and_then(|(secs, _)| secs.parse::<u64>().ok());
        if created.is_some_and(|created| now.saturating_sub(created) < LEFT_BEHIND_AFTER_SECS) {
            continue;
        }
        let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(&mut *admin).await;
    }
}

/// A SQLite journal URL in `dir`.
pub fn sqlite_url(dir: &Path) -> String {
    format!("sqlite://{}", dir.join("journal.db").display())
}

/// Runs `rabbitmqctl` with `args`, failing the test with its error output.
pub fn rabbitmqctl(args: &[&str]) {
    let output = Command::new("rabbitmqctl")
        .args(args)
        .output()
        .unwrap_or_else(|error| panic!("cannot run rabbitmqctl ({error}).\n{RABBITMQ_HINT}"));
    assert!(
        output.status.success(),
        "rabbitmqctl {args:?} failed: {}\n{RABBITMQ_HINT}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// A RabbitMQ vhost of its own for one test, with guest allowed in; deleted on drop.
pub struct Vhost {
    pub name: String,
}

impl Vhost {
    pub fn new() -> Vhost {
        let name = unique("cardspool-test");
        rabbitmqctl(&["add_vhost", &name]);
        rabbitmqctl(&["set_permissions", "-p", &name, "guest", ".*", ".*", ".*"]);
        Vhost { name }
    }

    pub fn url(&self) -> String {
        format!("amqp://guest:guest@127.0.0.1:5672/{}", self.name)
    }

    pub fn amqp_config(&self) -> AmqpConfig {
        AmqpConfig {
            url: self.url(),
            connect_timeout_ms: 5_000,
            reconnect_max_backoff_ms: 1_000,
            ..AmqpConfig::default()
        }
    }

    /// Messages ready in a queue of this vhost, as the broker counts them now (a passive
    /// declare; `rabbitmqctl list_queues` lags by its statistics interval).
    pub async fn queue_depth(&self, queue: &str) -> u32 {
        let declared = self.declare_passively(queue).await;
        declared.unwrap_or_else(|error| panic!("queue {queue} in vhost {}: {error}", self.name)).message_count()
    }

    /// Whether the queue exists in this vhost, e.g. once the spooler has declared its topology.
    pub async fn has_queue(&self, queue: &str) -> bool {
        self.declare_passively(queue).await.is_ok()
    }

    /// The queue as the broker has it now, without creating it.
    async fn declare_passively(&self, queue: &str) -> Result<lapin::Queue, String> {
        let connection = cardspool::amqp::connect(&self.amqp_config(), "cardspool-test-queue")
            .await
            .map_err(|error| error.to_string())?;
        let options = lapin::options::QueueDeclareOptions { passive: true, ..Default::default() };
        let declared = match connection.create_channel().await {
            Ok(channel) => channel.queue_declare(queue.into(), options, lapin::types::FieldTable::default()).await,
            Err(error) => Err(error),
        };
        cardspool::amqp::close_quietly(&connection, "done").await;
        declared.map_err(|error| error.to_string())
    }
}

impl Vhost {
    /// Closes every client connection to this vhost from the broker's side (what a network
    /// cut or a broker-side kill looks like to the client). Returns how many were closed.
    pub fn kill_connections(&self) -> usize {
        let output = Command::new("rabbitmqctl")
            .args(["list_connections", "--quiet", "--no-table-headers", "pid", "vhost"])
            .output()
            .expect("rabbitmqctl list_connections");
        let listing = String::from_utf8_lossy(&output.stdout).into_owned();
        let pids: Vec<&str> = listing
            .lines()
            .filter_map(|line| line.split_once('\t'))
            .filter(|(_, vhost)| vhost.trim() == self.name)
            .map(|(pid, _)| pid.trim())
            .collect();
        for pid in &pids {
            rabbitmqctl(&["close_connection", pid, "killed by test"]);
        }
        pids.len()
    }

    /// Binds a new queue to the status exchange, as an upstream service listening for
    /// `card.*` events would. The exchange must exist (declared by any publish).
    pub async fn listen_to_status_events(&self, queue: &str) {
        let config = self.amqp_config();
        let connection = cardspool::amqp::connect(&config, "cardspool-test-listen").await.expect("connect");
        let channel = connection.create_channel().await.expect("channel");
        cardspool::amqp::declare_topology(&channel, &config).await.expect("topology");
        let options = lapin::options::QueueDeclareOptions { durable: true, ..Default::default() };
        channel.queue_declare(queue.into(), options, lapin::types::FieldTable::default()).await.expect("declare");
        channel
            .queue_bind(
                queue.into(),
                config.status_exchange.as_str().into(),
                "card.*".into(),
                lapin::options::QueueBindOptions::default(),
                lapin::types::FieldTable::default(),
            )
            .await
            .expect("bind");
        cardspool::amqp::close_quietly(&connection, "done").await;
    }
}

/// A message taken from a queue, as a consumer sees it.
pub struct Taken {
    pub routing_key: String,
    pub message_id: Option<String>,
    pub body: Vec<u8>,
    /// The spooler's `x-cardspool-error` header (a rejected event's reasons).
    pub rejection: Option<String>,
}

/// How many messages [`Vhost::take`] waits for.
pub enum Take {
    /// Exactly this many, failing when one does not come within 20 s.
    Count(usize),
    /// Whatever arrives until the queue has been quiet for 3 s.
    UntilQuiet,
}

impl Vhost {
    /// Consumes and acks messages from `queue`.
    pub async fn take(&self, queue: &str, take: Take) -> Vec<Taken> {
        use futures_util::StreamExt as _;
        let config = self.amqp_config();
        let connection = cardspool::amqp::connect(&config, "cardspool-test-take").await.expect("connect");
        let channel = connection.create_channel().await.expect("channel");
        let mut consumer = channel
            .basic_consume(
                queue.into(),
                "test-take".into(),
                lapin::options::BasicConsumeOptions::default(),
                lapin::types::FieldTable::default(),
            )
            .await
            .expect("consume");
        let mut taken = Vec::new();
        loop {
            let wait = match take {
                Take::Count(n) if taken.len() >= n => break,
                Take::Count(_) => Duration::from_secs(20),
                Take::UntilQuiet => Duration::from_secs(3),
            };
            let delivery = match tokio::time::timeout(wait, consumer.next()).await {
                Ok(Some(Ok(delivery))) => delivery,
                _ if matches!(take, Take::UntilQuiet) => break,
                _ => panic!("{} of the messages expected from {queue} arrived", taken.len()),
            };
            let rejection = delivery.properties.headers().as_ref().and_then(|headers| {
                headers.inner().get(cardspool::amqp::REJECTION_HEADER).and_then(|value| match value {
                    lapin::types::AMQPValue::LongString(text) => Some(text.to_string()),
                    _ => None,
                })
            });
            delivery.acker.ack(lapin::options::BasicAckOptions::default()).await.expect("ack");
            taken.push(Taken {
                routing_key: delivery.routing_key.to_string(),
                message_id: delivery.properties.message_id().as_ref().map(ToString::to_string),
                body: delivery.data,
                rejection,
            });
        }
        cardspool::amqp::close_quietly(&connection, "done").await;
        taken
    }
}

impl Drop for Vhost {
    fn drop(&mut self) {
        let _ = Command::new("rabbitmqctl").args(["delete_vhost", &self.name]).output();
    }
}

/// Checks RabbitMQ answers before a test leans on it, with a clear message when it does not.
pub async fn require_rabbitmq() {
    let config = AmqpConfig { connect_timeout_ms: 5_000, ..AmqpConfig::default() };
    for attempt in 0..5 {
        match cardspool::amqp::connect(&config, "cardspool-test-probe").await {
            Ok(connection) => {
                cardspool::amqp::close_quietly(&connection, "probe").await;
                return;
            }
            Err(error) if attempt == 4 => panic!("{error}\n{RABBITMQ_HINT}"),
            Err(_) => tokio::time::sleep(Duration::from_millis(200 << attempt)).await,
        }
    }
}

/// A configuration for one spooler in a test: its own vhost and journal, everything else default.
pub fn spooler_config(vhost: &Vhost, journal_url: &str) -> Config {
    Config {
        amqp: vhost.amqp_config(),
        journal: cardspool::config::JournalConfig { url: journal_url.to_owned(), ..Default::default() },
        ..Config::default()
    }
}

/// The spooler's configuration against the central simulator `central`: its URL and key,
/// draining fast, looking for work every 200 ms.
pub fn office_config(vhost: &Vhost, journal_url: &str, central: &cardspool::sim::central::CentralSimServer) -> Config {
    let mut config = spooler_config(vhost, journal_url);
    config.central = cardspool::config::CentralConfig {
        url: central.url(),
        public_key: central.public_key(),
        drain_rate_per_s: 2_000,
        drain_concurrency: 16,
        poll_interval_ms: 200,
        ..cardspool::config::CentralConfig::default()
    };
    config
}

/// A hot-folder printer of pool `ektp` at `folder` (made when missing).
pub fn folder_printer(name: &str, folder: &Path, max_jobs: u32) -> cardspool::config::PrinterConfig {
    std::fs::create_dir_all(folder).expect("the hot folder");
    cardspool::config::PrinterConfig {
        name: name.into(),
        uri: format!("dir://{}", folder.display()),
        pool: "ektp".into(),
        max_jobs,
        ignore_tls_errors: false,
    }
}

/// The compiled `cardspool` binary, for tests that run it as a process: the one built with the
/// tests, or `CARDSPOOL_TEST_BINARY` (the soak measures a release build: `scripts/soak`).
pub fn binary() -> PathBuf {
    std::env::var_os("CARDSPOOL_TEST_BINARY")
        .map_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_cardspool")), PathBuf::from)
}

/// The repository's sample events.
pub fn sample_events() -> Vec<(PathBuf, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/events");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|error| panic!("cannot read {}: {error}", dir.display()))
        .map(|entry| entry.expect("dir entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .collect();
    files.sort();
    files.into_iter().map(|path| (path.clone(), std::fs::read(&path).expect("sample readable"))).collect()
}
