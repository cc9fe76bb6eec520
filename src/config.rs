//! The whole configuration: one typed struct, a default for every key.
//!
//! Sources, later ones winning: the built-in defaults, the TOML file (`./cardspool.toml` unless
//! `--config` names another; the default file is optional, a named one is not), then environment
//! variables `CARDSPOOL_<SECTION>__<KEY>` (for example `CARDSPOOL_AMQP__URL`). Layering is
//! figment's; unknown keys are refused so that a typo does not silently fall back to a default.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use serde::{Deserialize, Serialize};

pub const DEFAULT_CONFIG_FILE: &str = "cardspool.toml";
pub const ENV_PREFIX: &str = "CARDSPOOL_";

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration file {0} does not exist")]
    MissingFile(PathBuf),
    /// figment's message names the key and the source (file or environment variable).
    #[error("invalid configuration: {0}")]
    Invalid(Box<figment::Error>),
    #[error("invalid configuration: `{key}` {message}")]
    Value { key: &'static str, message: String },
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub office: OfficeConfig,
    pub amqp: AmqpConfig,
    pub journal: JournalConfig,
    pub intake: IntakeConfig,
    pub central: CentralConfig,
    pub api: ApiConfig,
    pub log: LogConfig,
    pub printers: Vec<PrinterConfig>,
    pub printing: PrintingConfig,
    pub render: RenderConfig,
}

/// The office the spooler serves.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OfficeConfig {
    /// The office's time zone, `WIB`, `WITA` or `WIT`: every time staff see (dashboard, CLI,
    /// reports) and the blank ledger's days and the card's issue date are in it.
    pub zone: crate::domain::office_time::OfficeZone,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AmqpConfig {
    /// The broker, with credentials and vhost (`%2f` is the default vhost `/`).
    pub url: String,
    /// Deliveries in flight per consumer. Bounds memory and the redeliveries after a reconnect.
    pub prefetch: u16,
    /// Exchange upstream services publish enrollment events to (topic, durable).
    pub enrollments_exchange: String,
    /// The quorum queue the spooler consumes, bound to `enrollment.*`.
    pub intake_queue: String,
    /// Where rejected events go, with the reason in the `x-cardspool-error` header.
    pub dead_letter_exchange: String,
    /// The queue behind the dead-letter exchange, kept for staff and for replays.
    pub dead_letter_queue: String,
    /// Exchange for status events back to upstream (topic, durable).
    pub status_exchange: String,
    /// Deliveries of one message before the broker dead-letters it as poison.
    pub delivery_limit: u32,
    /// TCP + AMQP handshake timeout; lapin has none of its own.
    pub connect_timeout_ms: u64,
    /// AMQP heartbeat: how fast a dead connection is noticed.
    pub heartbeat_s: u16,
    /// Longest pause between reconnection attempts (jittered exponential backoff, never gives up).
    pub reconnect_max_backoff_ms: u64,
    /// `amqps://` only: the certificate authority (PEM) the broker's certificate is checked
    /// against, for a private CA; without it, the system's trusted roots.
    pub tls_ca_file: Option<std::path::PathBuf>,
}

impl Default for AmqpConfig {
    fn default() -> Self {
        AmqpConfig {
            url: "amqp://guest:guest@127.0.0.1:5672/%2f".into(),
            // Intake validates a quarter of it at once while the rest commits: at 16, 617-642
            // events/s on the development machine; at 64, 1,033-1,054, as at 200 (performance.md).
            // At most 64 events of `intake.max_event_bytes` in memory: 128 MiB at the limit.
            prefetch: 64,
            enrollments_exchange: "cardspool.enrollments".into(),
            intake_queue: "cardspool.intake".into(),
            dead_letter_exchange: "cardspool.dead".into(),
            dead_letter_queue: "cardspool.dead".into(),
            status_exchange: "cardspool.status".into(),
            delivery_limit: 5,
            connect_timeout_ms: 10_000,
            heartbeat_s: 15,
            reconnect_max_backoff_ms: 30_000,
            tls_ca_file: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct JournalConfig {
    /// `sqlite://PATH` (created when missing) or `postgres://user@host/db`.
    pub url: String,
    pub max_connections: u32,
    /// This spooler's name among the instances sharing the journal, under which it holds its
    /// leases; empty for the machine's host name. It must stay the same across restarts (a
    /// restarted instance takes its own jobs back at once) and differ between instances.
    pub instance: String,
    /// How long a lease (a card on a printer, a status event being published) lasts without
    /// being renewed: how long the other instances wait before taking over the work of one
    /// that died.
    pub lease_s: u64,
    /// Days after a job ended (printed, cancelled, rejected, spoiled) before its payload (photo,
    /// signature, address, full NIK) is purged; the audit trail, the masked NIK and the
    /// payload's digest stay. 0 keeps payloads for ever.
    pub payload_retention_days: u32,
    /// Days a published status event is kept in the outbox; 0 keeps them for ever.
    pub outbox_retention_days: u32,
}

impl Default for JournalConfig {
    fn default() -> Self {
        JournalConfig {
            url: "sqlite://cardspool-data/journal.db".into(),
            max_connections: 8,
            instance: String::new(),
            lease_s: 30,
            payload_retention_days: 30,
            outbox_retention_days: 7,
        }
    }
}

impl JournalConfig {
    /// `instance`, or the host name when it is empty (`cardspool` when that cannot be read).
    pub fn instance_id(&self) -> String {
        if !self.instance.trim().is_empty() {
            return self.instance.trim().to_owned();
        }
        std::fs::read_to_string("/proc/sys/kernel/hostname")
            .ok()
            .map(|name| name.trim().to_owned())
            .filter(|name| !name.is_empty())
            .unwrap_or_else(|| "cardspool".to_owned())
    }

    pub fn lease(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.lease_s.max(1))
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IntakeConfig {
    pub photo_max_bytes: usize,
    pub photo_max_pixels: u64,
    pub signature_max_bytes: usize,
    pub signature_max_pixels: u64,
    /// Template used when an event names none.
    pub default_template: String,
    /// An event larger than this is dead-lettered without being parsed.
    pub max_event_bytes: usize,
}

impl Default for IntakeConfig {
    fn default() -> Self {
        let limits = crate::domain::event::ImageLimits::default();
        IntakeConfig {
            photo_max_bytes: limits.photo_max_bytes,
            photo_max_pixels: limits.photo_max_pixels,
            signature_max_bytes: limits.signature_max_bytes,
            signature_max_pixels: limits.signature_max_pixels,
            default_template: "ektp".into(),
            max_event_bytes: 2 * 1024 * 1024,
        }
    }
}

impl IntakeConfig {
    pub fn image_limits(&self) -> crate::domain::event::ImageLimits {
        crate::domain::event::ImageLimits {
            photo_max_bytes: self.photo_max_bytes,
            photo_max_pixels: self.photo_max_pixels,
            signature_max_bytes: self.signature_max_bytes,
            signature_max_pixels: self.signature_max_pixels,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CentralConfig {
    /// `https://`; plain `http://` only on this host (loopback) unless `allow_plain_http`.
    pub url: String,
    /// Lets `url` be plain `http://` to another host: for the demo's simulator in its own
    /// container, never for the registry (the requests carry full NIKs).
    pub allow_plain_http: bool,
    /// Central's Ed25519 public key, base64. The simulator serves its own at `GET /v1/public-key`.
    pub public_key: String,
    /// A file holding `public_key` instead (base64, as `central-sim --public-key-out` writes it).
    pub public_key_file: Option<std::path::PathBuf>,
    /// This office's code, sent with every authorization request.
    pub office: String,
    /// A file holding this office's bearer token for central (its credentials), sent as
    /// `Authorization: Bearer` with every request. Kept in a file, never in the URL or here.
    pub token_file: Option<std::path::PathBuf>,
    /// Whole request (connect, send, answer) before central counts as unreachable.
    pub request_timeout_ms: u64,
    pub connect_timeout_ms: u64,
    /// A job's own retry delay: full jitter over `base * 2^attempts`, capped.
    pub backoff_base_ms: u64,
    pub backoff_cap_ms: u64,
    /// Consecutive failures that open the circuit breaker.
    pub breaker_threshold: u32,
    /// While the breaker is open, one probe request per interval.
    pub probe_interval_s: u64,
    /// After a 401 (this office's credentials refused), one probe per interval.
    pub credentials_probe_interval_s: u64,
    /// Authorization requests per second at most (the backlog drains at this pace).
    pub drain_rate_per_s: u32,
    /// Authorization requests in flight at most. Keep below `journal.max_connections`.
    pub drain_concurrency: u32,
    /// A job waiting longer than this for central goes to `failed`; absent: it waits forever.
    pub max_wait_s: Option<u64>,
    /// An authorization that expires within this margin counts as expired.
    pub expiry_margin_s: u64,
    /// How often the journal is looked at for due jobs when nothing woke the worker sooner: a
    /// safety net, since every commit that gives it work wakes it (across instances on
    /// PostgreSQL too).
    pub poll_interval_ms: u64,
}

/// Public keys that were published with cardspool (a demo key in `deploy/` of earlier
/// versions): their secret halves are in the repository, so anyone could sign with them.
/// `cardspool run` refuses them; `cardspool demo` makes a key of its own for each run.
pub const PUBLISHED_DEMO_KEYS: &[&str] = &["LSgQNmtPSnDB8XJG/6FJnQUB6EG+NNV7i7UBrnOTROk="];

impl CentralConfig {
    /// Central's public key as configured, or why there is no key to trust: then nothing is
    /// authorized, drawn or printed (jobs wait, `/readyz` and the dashboard say why).
    ///
    /// # Errors
    /// The reason, for staff and the operator.
    pub fn usable_public_key(&self) -> Result<String, String> {
        let key = match &self.public_key_file {
            Some(path) => std::fs::read_to_string(path)
                .map_err(|error| format!("cannot read central.public_key_file {}: {error}", path.display()))?,
            None => self.public_key.clone(),
        };
        let key = key.trim();
        if key.is_empty() {
            return Err("central.public_key is not configured".into());
        }
        if PUBLISHED_DEMO_KEYS.contains(&key) {
            return Err("central.public_key is a published demo key (anyone can sign with it): \
                        configure the registry's key, or let docker-compose.yml's simulator make one"
                .into());
        }
        Ok(key.to_owned())
    }
}

impl Default for CentralConfig {
    fn default() -> Self {
        CentralConfig {
            url: "http://127.0.0.1:8470".into(),
            allow_plain_http: false,
            public_key: String::new(),
            public_key_file: None,
            token_file: None,
            office: "1502".into(),
            request_timeout_ms: 10_000,
            connect_timeout_ms: 3_000,
            backoff_base_ms: 1_000,
            backoff_cap_ms: 600_000,
            breaker_threshold: 5,
            probe_interval_s: 60,
            credentials_probe_interval_s: 600,
            drain_rate_per_s: 100,
            drain_concurrency: 4,
            max_wait_s: None,
            expiry_margin_s: 60,
            poll_interval_ms: 5_000,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ApiConfig {
    pub listen: SocketAddr,
    /// Bearer tokens of the staff API, one per staff member (or service). None configured: the
    /// API under `/api/v1` refuses every request; health checks and metrics stay open.
    pub tokens: Vec<ApiToken>,
    /// Searches by a full NIK one staff member may make per hour (each is audited); 0 forbids
    /// them.
    pub nik_searches_per_hour: u32,
    /// Serve the API and dashboard over TLS with this certificate chain and key (PEM files):
    /// both or neither.
    pub tls_cert_file: Option<std::path::PathBuf>,
    pub tls_key_file: Option<std::path::PathBuf>,
    /// The dashboard's language until a staff member switches it, and that of the citizen's
    /// slip when the request names none: `id` (Bahasa Indonesia) or `en`.
    pub language: crate::i18n::Lang,
}

impl Default for ApiConfig {
    fn default() -> Self {
        ApiConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 8480)),
            tokens: Vec::new(),
            nik_searches_per_hour: 60,
            tls_cert_file: None,
            tls_key_file: None,
            language: crate::i18n::Lang::default(),
        }
    }
}

/// One staff member's access to the API. `name` is who the audit trail records.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiToken {
    pub name: String,
    pub token: String,
    pub role: StaffRole,
}

impl std::fmt::Debug for ApiToken {
    // The token is a secret: never in a log line or a panic message.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiToken").field("name", &self.name).field("role", &self.role).finish_non_exhaustive()
    }
}

/// What a staff member may do, each role including the ones before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StaffRole {
    /// Sees everything staff see.
    Viewer,
    /// Holds, releases, cancels, retries jobs, marks cards spoiled, pauses and resumes printers.
    Operator,
    /// Reprints cards and resolves jobs left in doubt.
    Supervisor,
}

impl StaffRole {
    pub fn as_str(self) -> &'static str {
        match self {
            StaffRole::Viewer => "viewer",
            StaffRole::Operator => "operator",
            StaffRole::Supervisor => "supervisor",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line, for log shippers.
    Json,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogConfig {
    pub format: LogFormat,
    /// A tracing filter directive; `RUST_LOG` wins when set.
    pub filter: String,
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig { format: LogFormat::Text, filter: "info".into() }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RenderConfig {
    /// Card templates (`*.toml`) and their fonts; relative paths are from the working directory.
    pub templates_dir: PathBuf,
    /// Where cards are issued, printed above the signature (the office's regency).
    pub issue_place: String,
}

impl Default for RenderConfig {
    fn default() -> Self {
        RenderConfig { templates_dir: PathBuf::from("templates"), issue_place: "MERANGIN".into() }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrinterConfig {
    pub name: String,
    /// `ipp://`, `ipps://` or a folder `dir:///path`.
    pub uri: String,
    #[serde(default = "default_pool")]
    pub pool: String,
    /// Jobs sent to this printer at once. Card printers take one at a time.
    #[serde(default = "default_max_jobs")]
    pub max_jobs: u32,
    /// `ipps://` only: accept the printer's self-signed certificate (common on printers and CUPS).
    #[serde(default)]
    pub ignore_tls_errors: bool,
}

fn default_pool() -> String {
    "ektp".into()
}

fn default_max_jobs() -> u32 {
    1
}

/// What happens to a job the printer aborted (a jam): the blank is counted spoiled either way.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum AbortPolicy {
    /// Back to the queue (any printer of the pool), up to `max_aborts` times, then `failed`.
    #[default]
    Requeue,
    /// Straight to `failed`: staff decide.
    Fail,
}

/// The dispatch stage: spool, printer polling, requeue policy, spool retention, blank ledger.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PrintingConfig {
    /// Where rendered PDFs wait for their printer (created mode 0700; files are 0600).
    pub spool_dir: PathBuf,
    /// How often every printer's state is asked for (Get-Printer-Attributes).
    pub status_poll_ms: u64,
    /// How often a job on a printer is asked about (Get-Job-Attributes).
    pub follow_poll_ms: u64,
    /// How often the journal is looked at for authorized and rendered jobs.
    pub queue_poll_ms: u64,
    /// Timeout of one IPP request (a Print-Job carries the whole PDF).
    pub request_timeout_ms: u64,
    /// `server-error-busy`: pause between attempts, and attempts before the job goes back to
    /// the queue for any printer of its pool.
    pub busy_retry_ms: u64,
    pub busy_retries: u32,
    /// A job on a printer that stays unreachable this long becomes `unknown` (staff decide):
    /// the card may or may not have printed.
    pub in_doubt_timeout_s: u64,
    pub on_abort: AbortPolicy,
    /// Aborts (spoiled blanks) of one job before it goes to `failed` instead of the queue.
    pub max_aborts: u32,
    /// How long a printed card's PDF stays in the spool for a reprint (0: deleted at once).
    pub retention_s: u64,
    /// A printer with this many blanks or fewer (once its stock is counted: staff recorded a
    /// load) is shown as low on the dashboard and in the metrics.
    pub low_stock: u32,
    /// At or below this many blanks a printer prints only urgent cards; the others wait for a
    /// load (or another printer of the pool). 0: no reserve.
    pub reserve_stock: u32,
    /// The office's offset from UTC for the blank ledger's days and the card's issue date;
    /// absent, `office.zone`'s (kept for configurations written before `office.zone`).
    pub ledger_utc_offset_minutes: Option<i32>,
    /// Cards drawn and waiting for a printer, per pool, at most: beyond it a pool's authorized
    /// jobs wait undrawn until its printers take cards. Drawing is many times faster than card
    /// printers; unbounded, a backlog after an outage is drawn whole into the spool (60 KB a
    /// card) long before it can print, and the cores go to drawing instead of printing.
    pub max_drawn_waiting: u32,
}

impl PrintingConfig {
    /// The office's offset from UTC, in minutes, for the ledger's days and the issue date, as
    /// set here; WIB's when not ([`Config::ledger_offset_minutes`] also reads `office.zone`).
    pub fn ledger_offset_minutes(&self) -> i32 {
        self.ledger_utc_offset_minutes.unwrap_or(7 * 60)
    }
}

impl Default for PrintingConfig {
    fn default() -> Self {
        PrintingConfig {
            spool_dir: PathBuf::from("cardspool-data/spool"),
            status_poll_ms: 5_000,
            follow_poll_ms: 1_000,
            queue_poll_ms: 500,
            request_timeout_ms: 30_000,
            busy_retry_ms: 1_000,
            busy_retries: 30,
            in_doubt_timeout_s: 600,
            on_abort: AbortPolicy::Requeue,
            max_aborts: 2,
            retention_s: 0,
            low_stock: 50,
            reserve_stock: 10,
            ledger_utc_offset_minutes: None,
            max_drawn_waiting: 2_000,
        }
    }
}

impl Config {
    /// The office's offset from UTC for the ledger's days and the card's issue date:
    /// `printing.ledger_utc_offset_minutes` when set, else `office.zone`'s.
    pub fn ledger_offset_minutes(&self) -> i32 {
        self.printing.ledger_utc_offset_minutes.unwrap_or_else(|| self.office.zone.utc_offset_minutes())
    }

    /// Loads the configuration: defaults, then the file, then `CARDSPOOL_*` variables.
    ///
    /// `file` is the `--config` argument: when given it must exist; when absent,
    /// `./cardspool.toml` is read if present.
    ///
    /// # Errors
    /// [`ConfigError`] naming the file or the key that is wrong.
    pub fn load(file: Option<&Path>) -> Result<Config, ConfigError> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        match file {
            Some(path) if !path.exists() => return Err(ConfigError::MissingFile(path.to_owned())),
            Some(path) => figment = figment.merge(Toml::file_exact(path)),
            None if Path::new(DEFAULT_CONFIG_FILE).exists() => {
                figment = figment.merge(Toml::file_exact(DEFAULT_CONFIG_FILE));
            }
            None => {}
        }
        Self::from_figment(&figment.merge(Self::env()))
    }

    /// Only the environment on top of the defaults: for tests and embedded use.
    ///
    /// # Errors
    /// As [`Config::load`].
    pub fn from_toml_str(toml: &str) -> Result<Config, ConfigError> {
        Self::from_figment(&Figment::from(Serialized::defaults(Config::default())).merge(Toml::string(toml)))
    }

    fn env() -> Env {
        // Only CARDSPOOL_SECTION__KEY variables are configuration; others with the prefix
        // (CARDSPOOL_TOKEN, say, for the CLI) are not and must not trip the unknown-key check.
        Env::prefixed(ENV_PREFIX).filter(|key| key.as_str().contains("__")).split("__")
    }

    fn from_figment(figment: &Figment) -> Result<Config, ConfigError> {
        let config: Config = figment.extract().map_err(|e| ConfigError::Invalid(Box::new(e)))?;
        config.validate()?;
        Ok(config)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        let fail = |key, message: &str| Err(ConfigError::Value { key, message: message.to_owned() });
        if !(self.amqp.url.starts_with("amqp://") || self.amqp.url.starts_with("amqps://")) {
            return fail("amqp.url", "must start with amqp:// or amqps://");
        }
        if self.amqp.prefetch == 0 {
            return fail("amqp.prefetch", "must be at least 1");
        }
        if !(self.journal.url.starts_with("sqlite:")
            || self.journal.url.starts_with("postgres://")
            || self.journal.url.starts_with("postgresql://"))
        {
            return fail("journal.url", "must start with sqlite: or postgres://");
        }
        if self.journal.max_connections == 0 {
            return fail("journal.max_connections", "must be at least 1");
        }
        if self.central.breaker_threshold == 0
            || self.central.drain_rate_per_s == 0
            || self.central.drain_concurrency == 0
        {
            return fail("central", "breaker_threshold, drain_rate_per_s and drain_concurrency must be at least 1");
        }
        if self.printing.max_drawn_waiting == 0 {
            return fail("printing.max_drawn_waiting", "must be at least 1");
        }
        if self.printing.reserve_stock > self.printing.low_stock {
            return fail("printing.reserve_stock", "must not be above printing.low_stock");
        }
        if self.api.tls_cert_file.is_some() != self.api.tls_key_file.is_some() {
            return fail("api.tls_cert_file", "and api.tls_key_file go together: set both or neither");
        }
        if self.central.public_key_file.is_some() && !self.central.public_key.trim().is_empty() {
            return fail("central.public_key_file", "and central.public_key are both set: keep one");
        }
        if reqwest::Url::parse(&self.central.url)
            .is_ok_and(|url| !url.username().is_empty() || url.password().is_some() || url.query().is_some())
        {
            return fail(
                "central.url",
                "must carry no credentials or query (this office's token goes in central.token_file)",
            );
        }
        match reqwest::Url::parse(&self.central.url) {
            Ok(url) if url.scheme() == "https" => {}
            Ok(url) if url.scheme() == "http" => {
                let host = url.host_str().unwrap_or_default().trim_start_matches('[').trim_end_matches(']');
                let loopback = host == "localhost" || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback());
                if !loopback && !self.central.allow_plain_http {
                    return fail(
                        "central.url",
                        "must be https:// (requests carry full NIKs); plain http:// only to this host, \
                         or with central.allow_plain_http = true for a simulator",
                    );
                }
            }
            _ => return fail("central.url", "must be an https:// URL"),
        }
        if self.central.probe_interval_s == 0 || self.central.request_timeout_ms == 0 {
            return fail("central", "probe_interval_s and request_timeout_ms must be at least 1");
        }
        let mut staff = std::collections::HashSet::new();
        let mut secrets = std::collections::HashSet::new();
        for token in &self.api.tokens {
            if token.name.trim().is_empty() || token.name.len() > 64 || token.name.chars().any(char::is_control) {
                return fail("api.tokens.name", "must be 1 to 64 printable characters");
            }
            if !staff.insert(token.name.as_str()) {
                return fail("api.tokens.name", &format!("{:?} has two tokens", token.name));
            }
            // Short tokens can be guessed over the network.
            if token.token.len() < 16 {
                return fail(
                    "api.tokens.token",
                    &format!("the token of {:?} must be at least 16 characters", token.name),
                );
            }
            if !secrets.insert(token.token.as_str()) {
                return fail("api.tokens.token", "two staff members share a token");
            }
        }
        let mut names = std::collections::HashSet::new();
        for printer in &self.printers {
            if !names.insert(printer.name.as_str()) {
                return fail("printers.name", &format!("{:?} is used by two printers", printer.name));
            }
            if printer.max_jobs == 0 {
                return fail("printers.max_jobs", "must be at least 1");
            }
            if !["ipp://", "ipps://", "dir://"].iter().any(|scheme| printer.uri.starts_with(scheme)) {
                return fail("printers.uri", &format!("{:?} must start with ipp://, ipps:// or dir://", printer.uri));
            }
        }
        Ok(())
    }
}

/// A URL as it may be shown (an error, a log line, `cardspool config`): a password in it, or a
/// query parameter that carries a secret (PostgreSQL's `password=`, a `token=`), as `****`.
pub fn url_without_secrets(url: &str) -> String {
    let Ok(mut parsed) = reqwest::Url::parse(url) else {
        // Not a URL we can take apart: keep only what is before any user information.
        return match (url.find("://"), url.rfind('@')) {
            (Some(scheme_end), Some(at)) if at > scheme_end => {
                format!("{}://****@{}", &url[..scheme_end], &url[at + 1..])
            }
            _ => url.to_owned(),
        };
    };
    if parsed.password().is_some() {
        // Only fails for URLs that cannot have a password, and this one has one.
        let _ = parsed.set_password(Some("****"));
    }
    let secret_key =
        |key: &str| ["password", "pass", "token", "secret", "sslpassword"].contains(&key.to_ascii_lowercase().as_str());
    if parsed.query_pairs().any(|(key, _)| secret_key(&key)) {
        let pairs: Vec<(String, String)> = parsed
            .query_pairs()
            .map(|(key, value)| {
                let value = if secret_key(&key) { "****".to_owned() } else { value.into_owned() };
                (key.into_owned(), value)
            })
            .collect();
        parsed.query_pairs_mut().clear().extend_pairs(pairs);
    }
    parsed.to_string()
}

#[cfg(test)]
#[allow(clippy::result_large_err)] // figment::Jail's closures return figment's own error
mod tests {
    use super::*;

    #[test]
    fn empty_file_gives_the_defaults() {
        assert_eq!(Config::from_toml_str("").unwrap(), Config::default());
        assert_eq!(Config::default().journal.url, "sqlite://cardspool-data/journal.db");
    }

    #[test]
    fn file_overrides_defaults() {
        let config =
            Config::from_toml_str("[amqp]\nprefetch = 64\n[[printers]]\nname = \"card-1\"\nuri = \"dir:///tmp/out\"\n")
                .unwrap();
        assert_eq!(config.amqp.prefetch, 64);
        assert_eq!(config.amqp.url, AmqpConfig::default().url);
        assert_eq!(config.printers[0].pool, "ektp");
    }

    #[test]
    fn the_compose_configuration_loads_and_reads_the_key_its_simulator_made() {
        let config = Config::from_toml_str(include_str!("../deploy/cardspool.toml")).unwrap();
        assert!(config.journal.url.starts_with("postgres://"));
        assert_eq!(config.printers[0].uri, "dir:///var/lib/cardspool/out");
        assert_eq!(config.central.public_key, "", "no key is shipped");
        assert_eq!(
            config.central.public_key_file.as_deref(),
            Some(std::path::Path::new("/var/lib/central/central.pub"))
        );
    }

    #[test]
    fn central_s_url_carries_no_credentials() {
        for url in ["https://office:secret@central.example/", "https://central.example/?token=abc"] {
            let error = Config::from_toml_str(&format!("[central]\nurl = \"{url}\"\n")).unwrap_err().to_string();
            assert!(error.contains("central.token_file") && !error.contains("secret"), "{error}");
        }
    }

    #[test]
    fn without_a_usable_key_central_is_not_trusted() {
        let dir = tempfile::tempdir().unwrap();
        let mut central = CentralConfig::default();
        assert_eq!(central.usable_public_key().unwrap_err(), "central.public_key is not configured");
        central.public_key = PUBLISHED_DEMO_KEYS[0].into();
        assert!(central.usable_public_key().unwrap_err().contains("published demo key"));
        central.public_key = String::new();
        central.public_key_file = Some(dir.path().join("central.pub"));
        assert!(central.usable_public_key().unwrap_err().contains("cannot read central.public_key_file"));
        std::fs::write(dir.path().join("central.pub"), "AAAAC3NzaC1lZDI1NTE5AAAAIExample=\n").unwrap();
        assert_eq!(central.usable_public_key().unwrap(), "AAAAC3NzaC1lZDI1NTE5AAAAIExample=");
        central.public_key = "also".into();
        let both = Config { central, ..Config::default() };
        assert!(both.validate().unwrap_err().to_string().contains("central.public_key_file"));
    }

    #[test]
    fn errors_name_the_key() {
        let error = Config::from_toml_str("[amqp]\nprefetch = \"many\"\n").unwrap_err().to_string();
        assert!(error.contains("amqp.prefetch"), "{error}");
        let error = Config::from_toml_str("[amqp]\nprefech = 3\n").unwrap_err().to_string();
        assert!(error.contains("prefech"), "{error}");
        let error = Config::from_toml_str("[journal]\nurl = \"mysql://x\"\n").unwrap_err().to_string();
        assert!(error.contains("journal.url"), "{error}");
    }

    #[test]
    fn api_tokens_have_names_roles_and_long_secrets() {
        let config = Config::from_toml_str(
            "[api]\ntokens = [{ name = \"rina\", token = \"0123456789abcdef\", role = \"operator\" }]\n",
        )
        .unwrap();
        assert_eq!(config.api.tokens[0].role, StaffRole::Operator);
        assert!(!format!("{:?}", config.api.tokens[0]).contains("0123456789abcdef"), "no secret in Debug");
        let short = "[api]\ntokens = [{ name = \"rina\", token = \"short\", role = \"viewer\" }]\n";
        assert!(Config::from_toml_str(short).unwrap_err().to_string().contains("api.tokens.token"));
        let twice = "[api]\ntokens = [{ name = \"a\", token = \"0123456789abcdef\", role = \"viewer\" },\n\
                     { name = \"a\", token = \"fedcba9876543210\", role = \"viewer\" }]\n";
        assert!(Config::from_toml_str(twice).unwrap_err().to_string().contains("api.tokens.name"));
        let bad_role = "[api]\ntokens = [{ name = \"a\", token = \"0123456789abcdef\", role = \"root\" }]\n";
        assert!(Config::from_toml_str(bad_role).is_err());
    }

    #[test]
    fn central_is_reached_over_https_unless_it_is_on_this_host() {
        let central = |url: &str, plain: bool| {
            Config::from_toml_str(&format!("[central]\nurl = \"{url}\"\nallow_plain_http = {plain}\n"))
        };
        for url in
            ["https://central.example.go.id", "http://127.0.0.1:8470", "http://localhost:8470", "http://[::1]:8470"]
        {
            assert!(central(url, false).is_ok(), "{url}");
        }
        for url in ["http://central.example.go.id", "http://10.0.0.5:8470", "ftp://central", "not a url"] {
            let error = central(url, false).unwrap_err().to_string();
            assert!(error.contains("central.url") && error.contains("https://"), "{url}: {error}");
        }
        assert!(central("http://central:8470", true).is_ok(), "the demo's simulator in its container");
    }

    #[test]
    fn environment_overrides_file() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("cardspool.toml", "[amqp]\nprefetch = 8\nurl = \"amqp://file/%2f\"\n")?;
            jail.set_env("CARDSPOOL_AMQP__URL", "amqp://env:5672/%2f");
            jail.set_env("CARDSPOOL_TOKEN", "not configuration");
            let config = Config::load(None).map_err(|e| e.to_string())?;
            assert_eq!(config.amqp.url, "amqp://env:5672/%2f");
            assert_eq!(config.amqp.prefetch, 8);
            Ok(())
        });
    }

    #[test]
    fn the_default_file_is_optional() {
        figment::Jail::expect_with(|_jail| {
            assert_eq!(Config::load(None).map_err(|e| e.to_string())?, Config::default());
            Ok(())
        });
    }

    #[test]
    fn a_named_file_must_exist() {
        let error = Config::load(Some(Path::new("/nonexistent/cardspool.toml"))).unwrap_err();
        assert!(matches!(error, ConfigError::MissingFile(_)));
    }

    #[test]
    fn secrets_in_urls_are_hidden_wherever_they_sit() {
        assert_eq!(
            url_without_secrets("postgres://cardspool:pgpass@db/cardspool"),
            "postgres://cardspool:****@db/cardspool"
        );
        assert_eq!(
            url_without_secrets("postgres://db/cardspool?user=c&password=pgpass&sslmode=require"),
            "postgres://db/cardspool?user=c&password=****&sslmode=require"
        );
        assert_eq!(url_without_secrets("sqlite://cardspool-data/journal.db"), "sqlite://cardspool-data/journal.db");
        assert_eq!(url_without_secrets("not a url://u:p@host"), "not a url://****@host");
    }

    #[test]
    fn the_office_zone_gives_the_ledger_s_offset_unless_one_is_set() {
        assert_eq!(Config::default().ledger_offset_minutes(), 420, "WIB by default");
        let wita = Config::from_toml_str("[office]\nzone = \"WITA\"\n").unwrap();
        assert_eq!(wita.ledger_offset_minutes(), 480);
        let set =
            Config::from_toml_str("[office]\nzone = \"WIT\"\n[printing]\nledger_utc_offset_minutes = 420\n").unwrap();
        assert_eq!(set.ledger_offset_minutes(), 420, "an explicit offset wins");
        assert!(Config::from_toml_str("[office]\nzone = \"CET\"\n").unwrap_err().to_string().contains("zone"));
    }
}
