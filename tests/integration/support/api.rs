//! The staff API run in-process on 127.0.0.1:0 against a journal of its own, with jobs put in
//! any state the way the spooler would, and every body it returns kept for secrecy checks.

use std::sync::Mutex;

use chrono::{DateTime, Duration, Utc};
use reqwest::StatusCode;
use serde_json::Value;

use cardspool::clock::Clock;
use cardspool::config::{ApiToken, PrinterConfig, PrintingConfig, StaffRole};
use cardspool::domain::job::{JobId, JobState};
use cardspool::http::Api;
use cardspool::journal::Journal;
use cardspool::printer::pool::Printers;

use super::{fixtures, journal};

pub const VIEWER: &str = "viewer-token-vera-0001";
pub const OPERATOR: &str = "operator-token-rina-01";
pub const SUPERVISOR: &str = "supervisor-token-sari-1";

pub fn tokens() -> Vec<ApiToken> {
    vec![
        ApiToken { name: "vera".into(), token: VIEWER.into(), role: StaffRole::Viewer },
        ApiToken { name: "rina".into(), token: OPERATOR.into(), role: StaffRole::Operator },
        ApiToken { name: "sari".into(), token: SUPERVISOR.into(), role: StaffRole::Supervisor },
    ]
}

/// A running API and what it shows, with every body it returned kept for the secrecy checks.
pub struct Harness {
    pub base: String,
    pub client: reqwest::Client,
    pub journal: Journal,
    bodies: Mutex<Vec<String>>,
    /// The full NIKs and photo fragments of the events journaled: none may ever come back.
    pub secrets: Mutex<Vec<String>>,
    _dir: tempfile::TempDir,
}

impl Harness {
    /// The API over a SQLite journal of its own.
    pub async fn start() -> Harness {
        let (journal, dir) = journal::sqlite().await;
        Harness::with_journal(journal, dir, |api| api).await
    }

    /// The API over `journal`.
    pub async fn over(journal: Journal) -> Harness {
        Harness::with_journal(journal, tempfile::tempdir().unwrap(), |api| api).await
    }

    /// The API over `journal`, with the parts `configure` adds (printers, central).
    pub async fn with_journal(journal: Journal, dir: tempfile::TempDir, configure: impl FnOnce(Api) -> Api) -> Harness {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let listener = cardspool::http::bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let api = configure(Api::new(journal.clone(), &tokens(), Clock::system()));
        tokio::spawn(api.serve(listener, std::future::pending()));
        Harness {
            base,
            client: reqwest::Client::new(),
            journal,
            bodies: Mutex::new(Vec::new()),
            secrets: Mutex::new(Vec::new()),
            _dir: dir,
        }
    }

    pub async fn request(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, String) {
        let mut request = self.client.request(method, format!("{}{path}", self.base));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let text = response.text().await.unwrap();
        self.bodies.lock().unwrap().push(text.clone());
        (status, text)
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> (StatusCode, Value) {
        let (status, text) = self.request(reqwest::Method::GET, path, token, None).await;
        (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
    }

    pub async fn get_ok(&self, path: &str) -> Value {
        let (status, body) = self.get(path, Some(VIEWER)).await;
        assert_eq!(status, StatusCode::OK, "GET {path}: {body}");
        body
    }

    pub async fn post(&self, path: &str, token: &str, body: Value) -> (StatusCode, Value) {
        let (status, text) = self.request(reqwest::Method::POST, path, Some(token), Some(body)).await;
        (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
    }

    /// Journals an event as a new job and moves it to `state` the way the spooler would
    /// ([`fixtures::job_in`], an hour ago), keeping its NIK, photo and signature as secrets.
    pub async fn job_in(&self, n: u32, state: JobState) -> JobId {
        self.job_in_at(n, state, Utc::now() - Duration::hours(1)).await
    }

    /// [`Harness::job_in`], its event received and its steps taken `at`.
    pub async fn job_in_at(&self, n: u32, state: JobState, at: DateTime<Utc>) -> JobId {
        let made = fixtures::job_in(&self.journal, n, state, at).await;
        let mut secrets = self.secrets.lock().unwrap();
        secrets.push(made.event["nik"].as_str().unwrap().to_owned());
        secrets.push(made.event["photo"].as_str().unwrap()[..40].to_owned());
        secrets.push(made.event["signature"].as_str().unwrap()[..40].to_owned());
        made.id
    }

    pub async fn state_of(&self, job: JobId) -> JobState {
        self.journal.job(job).await.unwrap().unwrap().state
    }

    /// No body the API ever returned holds a full NIK, a photo, a signature or the stored
    /// authorization's signature.
    pub fn assert_no_secrets(&self) {
        let bodies = self.bodies.lock().unwrap();
        let mut secrets = self.secrets.lock().unwrap().clone();
        secrets.push("c2lnbmF0dXJl".into());
        assert!(!bodies.is_empty());
        for body in bodies.iter() {
            for secret in &secrets {
                assert!(!body.contains(secret.as_str()), "a response holds {secret:?}: {body}");
            }
        }
    }
}

/// The API with two folder printers in pool `ektp`, checked once: `card-1` on a folder that
/// exists (ready), `card-2` on one that does not (faulted: unreachable).
pub async fn with_two_folder_printers() -> (Harness, Printers) {
    let dir = tempfile::tempdir().unwrap();
    let printers = two_folder_printers(dir.path()).await;
    let journal = journal::sqlite_in(dir.path()).await;
    let api = Harness::with_journal(journal, dir, |api| api.with_printers(printers.clone())).await;
    (api, printers)
}

/// Pool `ektp` of two folder printers in `dir`, checked once: `card-1` ready, `card-2` on a
/// folder that does not exist (faulted: unreachable).
pub async fn two_folder_printers(dir: &std::path::Path) -> Printers {
    let out = dir.join("out");
    std::fs::create_dir(&out).unwrap();
    let folder = |name: &str, path: &std::path::Path| PrinterConfig {
        name: name.into(),
        uri: format!("dir://{}", path.display()),
        pool: "ektp".into(),
        max_jobs: 1,
        ignore_tls_errors: false,
    };
    let configs = [folder("card-1", &out), folder("card-2", &dir.join("missing"))];
    let printers = Printers::from_config(&configs, &PrintingConfig::default()).unwrap();
    printers.poll(Utc::now()).await;
    printers
}

/// Central's state as the authorize stage keeps it, for `http://central.test:8470`, with a
/// breaker that opens after `threshold` failures; nothing recorded yet.
pub fn central_monitor(threshold: u32, now: chrono::DateTime<Utc>) -> cardspool::central::CentralMonitor {
    use cardspool::central::{Breaker, BreakerPolicy, CentralMonitor};
    let policy = BreakerPolicy {
        threshold,
        probe_interval: std::time::Duration::from_secs(60),
        credentials_probe_interval: std::time::Duration::from_secs(600),
    };
    CentralMonitor::new("http://central.test:8470".into(), Breaker::new(policy, now))
}

/// The API over a SQLite journal of its own, showing central's state from `monitor`.
pub async fn with_central(monitor: &cardspool::central::CentralMonitor) -> Harness {
    let (journal, dir) = journal::sqlite().await;
    Harness::with_journal(journal, dir, |api| api.with_central(monitor.clone())).await
}
