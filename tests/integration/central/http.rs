//! Central over real HTTP, in real time: the client against `central-sim` served on a socket,
//! every answer it can give, the admin routes, and the `cardspool central-sim` command.

use std::io::{BufRead as _, BufReader};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use cardspool::central::{
    fetch_public_key, AuthorizationRequest, CentralClient, CentralState, HttpTransport, Outcome, Verifier,
};
use cardspool::clock::Clock;
use cardspool::domain::job::JobState;
use cardspool::sim::central::{CentralSimCore, CentralSimServer, DownHow, Fault, SimStats};
use chrono::Utc;

use crate::support::central::{central_config, Rig};
use crate::support::services;
use crate::support::wait::eventually;

const LOCALHOST: &str = "127.0.0.1:0";

async fn server() -> CentralSimServer {
    let core = Arc::new(CentralSimCore::generate(Clock::system()));
    CentralSimServer::start(LOCALHOST.parse().unwrap(), core).await.expect("start central-sim")
}

fn client(url: &str, public_key: &str, timeout: Duration) -> CentralClient {
    let transport = HttpTransport::new(url, Duration::from_secs(2), timeout).expect("HTTP client");
    let verifier = Verifier::from_base64(public_key, Duration::from_secs(60)).expect("key");
    CentralClient::new(Arc::new(transport), verifier, timeout)
}

fn request(n: u32) -> AuthorizationRequest {
    AuthorizationRequest {
        request_id: format!("request-{n}"),
        nik: "1502015203850001".into(),
        enrollment_id: format!("event-{n}"),
        office: "1502".into(),
        card_digest: "d".repeat(64),
    }
}

#[tokio::test]
async fn every_answer_over_http_maps_to_its_outcome() {
    let sim = server().await;
    let client = client(&sim.url(), &sim.public_key(), Duration::from_millis(500));
    let ask = |n| {
        let client = client.clone();
        async move { client.authorize(&request(n), Utc::now()).await }
    };
    let cases: Vec<(Fault, &str)> = vec![
        (Fault::None, "authorized"),
        (Fault::Down { how: DownHow::Drop, retry_after_s: None }, "unavailable"),
        (Fault::Down { how: DownHow::Unavailable, retry_after_s: Some(7) }, "unavailable"),
        (Fault::Slow { latency_ms: 2_000 }, "unavailable"),
        (Fault::Pending { times: 1, retry_after_s: 12 }, "pending"),
        (Fault::Deny { reason: "duplicate record".into(), status: 403 }, "denied"),
        (Fault::RateLimited { retry_after_s: 30 }, "rate_limited"),
        (Fault::Unauthorized, "bad_credentials"),
        (Fault::Expired, "expired"),
        (Fault::BadSignature, "malformed"),
    ];
    for (n, (fault, kind)) in cases.into_iter().enumerate() {
        sim.set_fault(fault.clone());
        let outcome = ask(n as u32).await;
        assert_eq!(outcome.kind(), kind, "{fault:?}: {outcome:?}");
        match (&fault, &outcome) {
            (Fault::Down { how: DownHow::Drop, .. }, Outcome::Unavailable { detail, .. }) => {
                assert!(detail.contains("connection"), "{detail}");
            }
            (Fault::Down { how: DownHow::Unavailable, .. }, Outcome::Unavailable { retry_after, .. }) => {
                assert_eq!(*retry_after, Some(Duration::from_secs(7)), "Retry-After header read");
            }
            (Fault::Slow { .. }, Outcome::Unavailable { detail, .. }) => {
                assert!(detail.contains("no answer within 500 ms"), "{detail}");
            }
            (Fault::Pending { .. }, Outcome::Pending { retry_after }) => {
                assert_eq!(*retry_after, Duration::from_secs(12));
            }
            (Fault::Deny { .. }, Outcome::Denied { reason }) => assert_eq!(reason, "duplicate record"),
            (Fault::RateLimited { .. }, Outcome::RateLimited { retry_after }) => {
                assert_eq!(*retry_after, Duration::from_secs(30));
            }
            (Fault::BadSignature, Outcome::Malformed { suspect_key, .. }) => assert!(suspect_key),
            _ => {}
        }
    }
    // Idempotent over HTTP too: asking again with the first request id replays its answer.
    sim.set_fault(Fault::None);
    let (Outcome::Authorized(first), Outcome::Authorized(again)) = (ask(0).await, ask(0).await) else {
        panic!("authorized twice");
    };
    assert_eq!(first.authorization, again.authorization);
    let stats = sim.stats();
    assert_eq!((stats.dropped, stats.replayed), (1, 2), "{stats:?}");
    sim.stop().await;
}

#[tokio::test]
async fn a_refused_connection_is_central_unreachable() {
    // A port that was just free: nothing listens there.
    let port = std::net::TcpListener::bind(LOCALHOST).unwrap().local_addr().unwrap().port();
    let key = CentralSimCore::generate(Clock::system()).public_key_base64();
    let client = client(&format!("http://127.0.0.1:{port}"), &key, Duration::from_secs(2));
    let outcome = client.authorize(&request(1), Utc::now()).await;
    assert!(
        matches!(&outcome, Outcome::Unavailable { detail, .. } if detail.contains("cannot connect")),
        "{outcome:?}"
    );
}

#[tokio::test]
async fn the_admin_routes_set_faults_and_count_requests() {
    let sim = server().await;
    let http = reqwest::Client::new();
    let key = fetch_public_key(&sim.url()).await.expect("GET /v1/public-key");
    assert_eq!((key.algorithm.as_str(), key.public_key), ("ed25519", sim.public_key()));

    let put = |body: serde_json::Value| http.put(format!("{}/admin/fault", sim.url())).json(&body).send();
    let response = put(serde_json::json!({"mode": "deny", "reason": "no", "status": 409})).await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(sim.core().fault(), Fault::Deny { reason: "no".into(), status: 409 });
    assert_eq!(put(serde_json::json!({"mode": "deny", "status": 500})).await.unwrap().status(), 422);
    assert!(put(serde_json::json!({"mode": "sideways"})).await.unwrap().status().is_client_error());

    // While down, the admin routes stay up.
    put(serde_json::json!({"mode": "down"})).await.unwrap();
    let client = client(&sim.url(), &sim.public_key(), Duration::from_secs(2));
    assert_eq!(client.authorize(&request(1), Utc::now()).await.kind(), "unavailable");
    put(serde_json::json!({"mode": "none"})).await.unwrap();
    assert_eq!(client.authorize(&request(2), Utc::now()).await.kind(), "authorized");
    let stats: SimStats =
        http.get(format!("{}/admin/stats", sim.url())).send().await.unwrap().json().await.expect("stats JSON");
    assert_eq!((stats.requests, stats.authorized, stats.dropped), (2, 1, 1));
    sim.stop().await;
}

#[tokio::test]
async fn the_worker_over_http_waits_out_an_outage_and_then_authorizes() {
    let sim = server().await;
    sim.set_fault(Fault::Down { how: DownHow::Unavailable, retry_after_s: None });
    let rig = Rig::new(20).await;
    let config = cardspool::config::CentralConfig {
        url: sim.url(),
        probe_interval_s: 1,
        breaker_threshold: 2,
        poll_interval_ms: 100,
        drain_rate_per_s: 200,
        ..central_config(sim.core())
    };
    let authorizer = cardspool::workers::authorize::Authorizer::over_http(&config, rig.journal.clone(), rig.clock)
        .await
        .expect("worker");
    let monitor = authorizer.monitor();
    let token = tokio_util::sync::CancellationToken::new();
    let task = tokio::spawn(authorizer.run(token.clone()));
    eventually("central down", Duration::from_secs(10), || async { monitor.snapshot().state == CentralState::Down })
        .await;
    assert_eq!(rig.count(JobState::AwaitingAuthorization).await, 20);
    sim.set_fault(Fault::None);
    eventually("all authorized", Duration::from_secs(20), || async { rig.count(JobState::Authorized).await == 20 })
        .await;
    assert_eq!(monitor.snapshot().state, CentralState::Up);
    token.cancel();
    task.await.unwrap().unwrap();
    sim.stop().await;
}

/// `cardspool central-sim` as a process: prints its URL and key, keeps its key file, starts
/// with the fault given.
#[tokio::test]
async fn the_central_sim_command_serves_with_its_key_file_and_starting_fault() {
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("central.key");
    let start = |fault: &str| {
        let mut child = Command::new(services::binary())
            .args(["central-sim", "--listen", LOCALHOST, "--key"])
            .arg(&key_file)
            .arg("--public-key-out")
            .arg(dir.path().join("central.pub"))
            .args(["--fault", fault])
            .current_dir(dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start cardspool central-sim");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut url = None;
        let mut key = None;
        for line in lines.by_ref().take(10) {
            let line = line.unwrap();
            if let Some(rest) = line.strip_prefix("central-sim listening on ") {
                url = Some(rest.to_owned());
            }
            if let Some(rest) = line.strip_prefix("public key (for [central] public_key): ") {
                key = Some(rest.to_owned());
            }
            if url.is_some() && key.is_some() {
                break;
            }
        }
        // Keep reading, as a terminal would.
        std::thread::spawn(move || lines.for_each(drop));
        (child, url.expect("the URL is printed"), key.expect("the key is printed"))
    };
    let (mut first, url, key) = start("unauthorized");
    assert!(key_file.exists(), "the key is saved");
    assert_eq!(fetch_public_key(&url).await.unwrap().public_key, key);
    // The public half is written for a spooler's `central.public_key_file` (docker-compose.yml).
    let written = std::fs::read_to_string(dir.path().join("central.pub")).unwrap();
    let config = cardspool::config::CentralConfig {
        public_key_file: Some(dir.path().join("central.pub")),
        ..cardspool::config::CentralConfig::default()
    };
    assert_eq!((written.trim(), config.usable_public_key().unwrap()), (key.as_str(), key.clone()));
    let client = client(&url, &key, Duration::from_secs(2));
    assert_eq!(client.authorize(&request(1), Utc::now()).await.kind(), "bad_credentials");
    first.kill().unwrap();
    first.wait().unwrap();

    let (mut second, url, same_key) = start(r#"{"mode":"pending","times":1}"#);
    assert_eq!(same_key, key, "the key file is reused");
    let client = self::client(&url, &key, Duration::from_secs(2));
    assert_eq!(client.authorize(&request(1), Utc::now()).await.kind(), "pending");
    assert_eq!(client.authorize(&request(1), Utc::now()).await.kind(), "authorized");
    second.kill().unwrap();
    second.wait().unwrap();
}

/// Serves one connection with `answer`: reads the request (headers and its Content-Length
/// body), then hands the socket over. Returns the address.
async fn raw_server<F, Fut>(answer: F) -> std::net::SocketAddr
where
    F: FnOnce(tokio::net::TcpStream) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    use tokio::io::AsyncReadExt as _;
    let listener = tokio::net::TcpListener::bind(LOCALHOST).await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        let mut request = Vec::new();
        let mut buffer = [0; 4096];
        loop {
            let n = socket.read(&mut buffer).await.unwrap();
            request.extend_from_slice(&buffer[..n]);
            let text = String::from_utf8_lossy(&request);
            if let Some(end) = text.find("\r\n\r\n") {
                let length = text
                    .lines()
                    .find_map(|line| line.to_ascii_lowercase().strip_prefix("content-length:").map(str::to_owned))
                    .and_then(|value| value.trim().parse::<usize>().ok())
                    .unwrap_or(0);
                if request.len() >= end + 4 + length || n == 0 {
                    break;
                }
            }
        }
        answer(socket).await;
    });
    addr
}

#[tokio::test]
async fn the_office_s_token_is_sent_from_its_file_and_central_refuses_requests_without_it() {
    let core = Arc::new(CentralSimCore::generate(Clock::system()).with_office_token("office-1502-secret-token\n"));
    let sim = CentralSimServer::start(LOCALHOST.parse().unwrap(), core).await.expect("start central-sim");
    let verifier = || Verifier::from_base64(&sim.public_key(), Duration::from_secs(60)).unwrap();
    let timeout = Duration::from_secs(5);
    let transport = |token: Option<&str>| {
        let transport = HttpTransport::new(&sim.url(), Duration::from_secs(2), timeout).unwrap();
        let transport = match token {
            Some(token) => transport.with_office_token(token),
            None => transport,
        };
        CentralClient::new(Arc::new(transport), verifier(), timeout)
    };
    let without = transport(None).authorize(&request(1), Utc::now()).await;
    assert!(matches!(without, Outcome::BadCredentials { .. }), "{without:?}");
    let wrong = transport(Some("office-1502-other-token")).authorize(&request(2), Utc::now()).await;
    assert!(matches!(wrong, Outcome::BadCredentials { .. }), "{wrong:?}");
    let right = transport(Some("office-1502-secret-token")).authorize(&request(3), Utc::now()).await;
    assert!(matches!(right, Outcome::Authorized(_)), "{right:?}");
    assert_eq!((sim.stats().unauthorized, sim.stats().authorized), (2, 1));
    // The transport's Debug (in a log line, a panic) never shows the token.
    let debug =
        format!("{:?}", HttpTransport::new(&sim.url(), timeout, timeout).unwrap().with_office_token("s3cr3t-tok"));
    assert!(!debug.contains("s3cr3t-tok"), "{debug}");

    // The spooler reads it from `central.token_file`; one it cannot read stops it at start.
    let dir = tempfile::tempdir().unwrap();
    let (journal, _journal_dir) = crate::support::journal::sqlite().await;
    let config = cardspool::config::CentralConfig {
        url: sim.url(),
        public_key: sim.public_key(),
        token_file: Some(dir.path().join("missing-token")),
        ..cardspool::config::CentralConfig::default()
    };
    let error = cardspool::workers::authorize::Authorizer::over_http(&config, journal, Clock::system())
        .await
        .err()
        .expect("a token file that cannot be read is an error");
    assert!(error.to_string().contains("central.token_file") && error.to_string().contains("missing-token"), "{error}");
    sim.stop().await;
}

#[tokio::test]
async fn a_redirect_is_not_followed_and_the_nik_goes_nowhere_else() {
    use tokio::io::AsyncWriteExt as _;
    let sim = server().await;
    let elsewhere = sim.url();
    let addr = raw_server(move |mut socket| async move {
        let answer = format!(
            "HTTP/1.1 307 Temporary Redirect\r\nLocation: {elsewhere}/v1/print-authorizations\r\nContent-Length: 0\r\n\r\n"
        );
        socket.write_all(answer.as_bytes()).await.unwrap();
    })
    .await;
    let client = client(&format!("http://{addr}"), &sim.public_key(), Duration::from_secs(5));
    let outcome = client.authorize(&request(1), Utc::now()).await;
    assert!(matches!(outcome, Outcome::Malformed { .. }), "{outcome:?}");
    assert_eq!(sim.stats().requests, 0, "the request was not sent on to where the redirect pointed");
    sim.stop().await;
}

#[tokio::test]
async fn an_endless_answer_is_cut_off_while_it_streams() {
    use tokio::io::AsyncWriteExt as _;
    let (sent_tx, sent_rx) = tokio::sync::oneshot::channel();
    let addr = raw_server(move |mut socket| async move {
        // No Content-Length: chunks for as long as the client reads.
        socket.write_all(b"HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n").await.unwrap();
        let chunk = format!("2000\r\n{}\r\n", "x".repeat(0x2000));
        let mut sent = 0_usize;
        while sent < 256 * 1024 * 1024 && socket.write_all(chunk.as_bytes()).await.is_ok() {
            sent += 0x2000;
        }
        let _ = sent_tx.send(sent);
    })
    .await;
    let key = CentralSimCore::generate(Clock::system()).public_key_base64();
    let client = client(&format!("http://{addr}"), &key, Duration::from_secs(10));
    let outcome = client.authorize(&request(1), Utc::now()).await;
    assert!(matches!(&outcome, Outcome::Malformed { detail, .. } if detail.contains("-byte body")), "{outcome:?}");
    drop(client);
    let sent = tokio::time::timeout(Duration::from_secs(10), sent_rx).await.expect("the server stops").unwrap();
    assert!(sent < 64 * 1024 * 1024, "the client stopped reading early: {sent} bytes sent");
}
