//! The staff API run in-process on 127.0.0.1:0 against a journal of its own, with jobs put in
//! any state the way the spooler would, and every body it returns kept for secrecy checks.
#![allow(dead_code)]

use std::sync::Mutex;

use chrono::{Duration, Utc};
use reqwest::StatusCode;
use serde_json::{json, Value};

use cardspool::clock::Clock;
use cardspool::config::{ApiToken, StaffRole};
use cardspool::domain::event::{parse_event, ImageLimits};
use cardspool::domain::job::{JobId, JobState};
use cardspool::http::Api;
use cardspool::journal::{CardOutcome, JobUpdate, Journal, NewCard, Step};

use crate::services;
use crate::services::events::synthetic_event;

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
    pub async fn start() -> Harness {
        let dir = tempfile::tempdir().unwrap();
        let journal = Journal::open(&services::sqlite_url(dir.path()), 4).await.unwrap();
        Harness::with_journal(journal, dir, |api| api).await
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

    /// Journals an event as a new job and moves it to `state` the way the spooler would.
    pub async fn job_in(&self, n: u32, state: JobState) -> JobId {
        let event_json = synthetic_event(&uuid::Uuid::new_v4().to_string(), n);
        {
            let mut secrets = self.secrets.lock().unwrap();
            secrets.push(event_json["nik"].as_str().unwrap().to_owned());
            secrets.push(event_json["photo"].as_str().unwrap()[..40].to_owned());
            secrets.push(event_json["signature"].as_str().unwrap()[..40].to_owned());
        }
        let payload = serde_json::to_vec(&event_json).unwrap();
        let event = parse_event(&payload, &ImageLimits::default()).unwrap();
        let t0 = Utc::now() - Duration::hours(1);
        let journal = &self.journal;
        let job = journal.admit(&event, &payload, "ektp", t0).await.unwrap().job_id();
        let step = |from, to| Step::system(from, to, format!("test: {to}"), t0);
        let nik = event_json["nik"].as_str().unwrap();
        // Central's stored authorization names the full NIK: the API must not show it.
        let authorization = json!({
            "authorization_id": format!("auth-{n}"), "nik": nik, "enrollment_id": "e",
            "issued_at": "2026-11-27T02:00:00Z", "expires_at": "2026-11-28T02:00:00Z",
            "key_id": "k", "signature": "c2lnbmF0dXJl"
        })
        .to_string();
        let path: &[JobState] = match state {
            JobState::Received => &[],
            JobState::AwaitingAuthorization => &[JobState::AwaitingAuthorization],
            JobState::Failed => &[JobState::AwaitingAuthorization, JobState::Failed],
            JobState::Rejected => &[JobState::Rejected],
            JobState::Authorized => &[JobState::AwaitingAuthorization, JobState::Authorized],
            JobState::Rendered => &[JobState::AwaitingAuthorization, JobState::Authorized, JobState::Rendered],
            JobState::Printing | JobState::Printed | JobState::Unknown => {
                &[JobState::AwaitingAuthorization, JobState::Authorized, JobState::Rendered, JobState::Printing]
            }
            other => panic!("no test path to {other}"),
        };
        let mut from = JobState::Received;
        for to in path {
            let mut update = JobUpdate::default();
            if *to == JobState::Authorized {
                update.authorization = Some(Some(authorization.clone()));
            }
            if *to == JobState::Printing {
                update.printer = Some(Some("card-1".into()));
            }
            journal.transition(job, &step(from, *to).with(update)).await.unwrap();
            from = *to;
        }
        if from == JobState::Printing {
            let card = NewCard {
                job_id: Some(job),
                printer: "card-1",
                printer_job_id: Some(7),
                at: t0,
                utc_offset_minutes: 420,
            };
            journal.record_card_sent(job, &card).await.unwrap();
            match state {
                JobState::Printed => {
                    journal.settle_card(job, &card, CardOutcome::Printed, "").await.unwrap();
                    journal.transition(job, &step(from, JobState::Printed)).await.unwrap();
                }
                JobState::Unknown => {
                    journal.settle_card(job, &card, CardOutcome::Unknown, "printer forgot").await.unwrap();
                    journal.transition(job, &step(from, JobState::Unknown)).await.unwrap();
                }
                _ => {}
            }
        }
        job
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
