//! TLS to and from the spooler, against certificates made here: the journal on PostgreSQL and
//! the broker over TLS (a TLS terminator in front of the real ones, so the clients' TLS is what
//! is tested), and the staff API served over TLS.

use std::time::Duration;

use reqwest::StatusCode;

use crate::support::api::{tokens, VIEWER};
use crate::support::services::{self, Vhost};
use crate::support::tls::{Certs, Prelude, TlsFront};
use cardspool::config::AmqpConfig;
use cardspool::journal::Journal;

fn postgres_over(front: &TlsFront, database_url: &str, options: &str) -> String {
    let database = database_url.rsplit_once('/').expect("a database in the URL").1;
    format!("postgres://postgres@localhost:{}/{database}?{options}", front.addr.port())
}

#[tokio::test]
async fn the_journal_reaches_postgresql_over_verified_tls_and_never_falls_back_to_plain() {
    let certs = Certs::new();
    let database = services::fresh_postgres().await;
    let front = TlsFront::start(&certs, "127.0.0.1:5432".parse().unwrap(), Prelude::Postgres).await;

    let verified = postgres_over(&front, &database, &format!("sslmode=verify-full&sslrootcert={}", certs.ca.display()));
    let journal = Journal::open(&verified, 2).await.expect("the journal opens over TLS");
    journal.ping().await.unwrap();
    journal.close().await;
    assert!(front.handshakes() >= 1, "the connection went through the TLS handshake");

    // A certificate this client does not trust is refused, not accepted quietly.
    let other = Certs::new();
    let untrusted =
        postgres_over(&front, &database, &format!("sslmode=verify-full&sslrootcert={}", other.ca.display()));
    let refused = tokio::time::timeout(Duration::from_secs(60), Journal::open(&untrusted, 1)).await.expect("no hang");
    assert!(refused.is_err(), "a server certificate from another CA is refused");

    // `sslmode=require` against a server that declines TLS is an error, never a plain-text
    // connection: this server answers the TLS request with `N`, then would pass a plain
    // session on to PostgreSQL.
    let declining = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let declining_port = declining.local_addr().unwrap().port();
    tokio::spawn(async move {
        use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
        while let Ok((mut client, _)) = declining.accept().await {
            tokio::spawn(async move {
                let mut request = [0_u8; 8];
                if client.read_exact(&mut request).await.is_ok() && client.write_all(b"N").await.is_ok() {
                    if let Ok(mut server) = tokio::net::TcpStream::connect("127.0.0.1:5432").await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                }
            });
        }
    });
    let database_name = database.rsplit_once('/').unwrap().1;
    let plain = format!("postgres://postgres@127.0.0.1:{declining_port}/{database_name}?sslmode=require");
    let refused = tokio::time::timeout(Duration::from_secs(60), Journal::open(&plain, 1)).await.expect("no hang");
    assert!(refused.is_err(), "no plain-text fallback when TLS is required");
    let allowed = format!("postgres://postgres@127.0.0.1:{declining_port}/{database_name}?sslmode=prefer");
    let journal = Journal::open(&allowed, 1).await.expect("the declining server passes plain sessions on");
    journal.close().await;
    // Passed: its database goes now (a failed test's stays for a look).
    services::drop_postgres(&database).await;
}

#[tokio::test]
async fn intake_and_publishing_reach_rabbitmq_over_tls_checked_against_the_configured_ca() {
    services::require_rabbitmq().await;
    let certs = Certs::new();
    let vhost = Vhost::new();
    let front = TlsFront::start(&certs, "127.0.0.1:5672".parse().unwrap(), Prelude::None).await;
    let over_tls = |ca: Option<std::path::PathBuf>| AmqpConfig {
        url: format!("amqps://guest:guest@localhost:{}/{}", front.addr.port(), vhost.name),
        tls_ca_file: ca,
        ..vhost.amqp_config()
    };

    let trusted = over_tls(Some(certs.ca.clone()));
    cardspool::amqp::declare_spooler_topology(&trusted).await.expect("declare over TLS");
    let payload = crate::support::fixtures::synthetic_payload("tls-1", 1);
    let published =
        cardspool::amqp::publish_confirmed(&trusted, &crate::support::spooler::publications(&trusted, &[payload]))
            .await
            .expect("publish over TLS");
    assert!(published.iter().all(Result::is_ok), "{published:?}");
    assert_eq!(vhost.queue_depth("cardspool.intake").await, 1, "the event went through the TLS connection");
    assert!(front.handshakes() >= 2);

    // Without the private CA, the broker's certificate is not trusted (system roots only).
    let error = cardspool::amqp::connect(&over_tls(None), "cardspool-test-untrusted").await.expect_err("refused");
    assert!(!error.to_string().contains("guest:guest"), "no credentials in the error: {error}");
    let missing = over_tls(Some(certs.dir().join("no-such-ca.pem")));
    let error = cardspool::amqp::connect(&missing, "cardspool-test-missing-ca").await.expect_err("refused");
    assert!(error.to_string().contains("amqp.tls_ca_file") && !error.is_retryable(), "{error}");
}

#[tokio::test]
async fn the_staff_api_is_served_over_tls_with_the_configured_certificate() {
    let certs = Certs::new();
    let (journal, _dir) = crate::support::journal::sqlite().await;
    let listener = cardspool::http::bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let api = cardspool::http::Api::new(journal, &tokens(), cardspool::clock::Clock::system())
        .with_tls(&certs.cert, &certs.key)
        .await
        .expect("the certificate and key load");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(api.serve(listener, async move {
        let _ = stopped.await;
    }));

    let ca = reqwest::Certificate::from_pem(&std::fs::read(&certs.ca).unwrap()).unwrap();
    let client = reqwest::Client::builder().add_root_certificate(ca).build().unwrap();
    let summary = client.get(format!("https://localhost:{port}/api/v1/summary")).bearer_auth(VIEWER).send().await;
    assert_eq!(summary.expect("an answer over TLS").status(), StatusCode::OK);
    let health = client.get(format!("https://127.0.0.1:{port}/healthz")).send().await.unwrap();
    assert_eq!(health.status(), StatusCode::OK);
    // Plain HTTP to the TLS port gets no API answer.
    let plain = reqwest::Client::new().get(format!("http://127.0.0.1:{port}/healthz")).send().await;
    assert!(plain.map_or(true, |answer| answer.status() != StatusCode::OK));
    // A client that does not trust the CA refuses the server.
    assert!(reqwest::Client::new().get(format!("https://localhost:{port}/healthz")).send().await.is_err());

    // The CLI trusts the spooler's own certificate given to it.
    let cli = cardspool::cli::staff::StaffClient::new(
        &format!("https://localhost:{port}"),
        Some(VIEWER.to_owned()),
        Some(certs.ca.as_path()),
        cardspool::i18n::Lang::En,
    )
    .unwrap();
    cli.get("/summary", &[]).await.expect("the CLI over TLS");

    let _ = stop.send(());
    tokio::time::timeout(Duration::from_secs(40), server).await.expect("stops").unwrap().unwrap();
}
