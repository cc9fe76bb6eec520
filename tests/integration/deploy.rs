//! What `deploy/` and `docker-compose.yml` promise, checked against the real services: the
//! broker's users from `deploy/rabbitmq/definitions.json` may do their part and nothing more.

use std::time::Duration;

use crate::support::services::{self, rabbitmqctl, Vhost};
use crate::support::spooler::publications;
use crate::support::wait::eventually;
use cardspool::config::AmqpConfig;

/// The users of the definitions, renamed for this test (users are the whole broker's), deleted
/// with it.
struct DeployUsers {
    suffix: String,
}

impl DeployUsers {
    fn name(&self, user: &str) -> String {
        format!("{user}-{}", self.suffix)
    }
}

impl Drop for DeployUsers {
    fn drop(&mut self) {
        for user in ["cardspool", "upstream", "admin"] {
            let _ = std::process::Command::new("rabbitmqctl").args(["delete_user", &self.name(user)]).output();
        }
    }
}

#[tokio::test]
async fn the_broker_users_of_deploy_may_do_their_part_and_nothing_more() {
    services::require_rabbitmq().await;
    let vhost = Vhost::new();
    let users = DeployUsers { suffix: uuid::Uuid::new_v4().simple().to_string() };
    let mut definitions: serde_json::Value =
        serde_json::from_str(include_str!("../../deploy/rabbitmq/definitions.json")).unwrap();
    for user in definitions["users"].as_array_mut().unwrap() {
        user["name"] = users.name(user["name"].as_str().unwrap()).into();
    }
    for permission in definitions["permissions"].as_array_mut().unwrap() {
        permission["user"] = users.name(permission["user"].as_str().unwrap()).into();
        permission["vhost"] = vhost.name.clone().into();
    }
    for kind in ["exchanges", "queues", "bindings"] {
        for entity in definitions[kind].as_array_mut().unwrap() {
            entity["vhost"] = vhost.name.clone().into();
        }
    }
    definitions["vhosts"] = serde_json::json!([]);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("definitions.json");
    std::fs::write(&file, definitions.to_string()).unwrap();
    rabbitmqctl(&["import_definitions", file.to_str().unwrap()]);
    // The import may finish after the command returns.
    let listed = || {
        let output = std::process::Command::new("rabbitmqctl")
            .args(["list_permissions", "-p", &vhost.name, "--quiet"])
            .output()
            .unwrap();
        String::from_utf8_lossy(&output.stdout).lines().filter(|line| line.contains(&users.suffix)).count()
    };
    eventually("the definitions imported", Duration::from_secs(30), || {
        let imported = listed() == 3;
        async move { imported }
    })
    .await;

    let as_user = |user: &str, password: &str| AmqpConfig {
        url: format!("amqp://{}:{password}@127.0.0.1:5672/{}", users.name(user), vhost.name),
        ..vhost.amqp_config()
    };
    let spooler = as_user("cardspool", "cardspool-demo-broker-password");
    let upstream = as_user("upstream", "upstream-demo-broker-password");

    // The spooler declares its exchanges and queues and reads them.
    cardspool::amqp::declare_spooler_topology(&spooler).await.expect("the spooler's user declares its topology");
    // Upstream publishes enrollments (declaring their exchange, as `cardspool publish` does).
    let payload = crate::support::fixtures::synthetic_payload("deploy-1", 1);
    let published = cardspool::amqp::publish_confirmed(&upstream, &publications(&upstream, &[payload])).await;
    assert!(published.expect("upstream's user connects").iter().all(Result::is_ok), "upstream publishes");
    assert_eq!(vhost.queue_depth("cardspool.intake").await, 1);

    // Upstream reads status events from its queue, which the definitions bind to card.#: the
    // spooler's first status event is routed, not held back.
    eventually("upstream's status queue", Duration::from_secs(30), || async {
        vhost.has_queue("upstream.status").await
    })
    .await;
    let status = cardspool::amqp::Publication {
        exchange: spooler.status_exchange.clone(),
        routing_key: "card.queued".into(),
        body: b"{}".to_vec(),
        message_id: Some("status-1".into()),
        headers: lapin::types::FieldTable::default(),
        mandatory: true,
    };
    let sent = cardspool::amqp::publish_confirmed(&spooler, &[status]).await.expect("the spooler's user publishes");
    assert!(sent.iter().all(Result::is_ok), "a status event is routed to upstream's queue: {sent:?}");
    let connection = cardspool::amqp::connect(&upstream, "cardspool-test-upstream").await.unwrap();
    let channel = connection.create_channel().await.unwrap();
    let got = channel.basic_get("upstream.status".into(), lapin::options::BasicGetOptions::default()).await;
    assert!(got.expect("upstream may read its status queue").is_some(), "the status event is there");
    cardspool::amqp::close_quietly(&connection, "done").await;

    // ... and nothing else: not the spooler's queues, not reading, not the status exchange.
    let refused = cardspool::amqp::declare_spooler_topology(&upstream).await;
    assert!(refused.is_err(), "upstream may not declare the spooler's queues");
    let connection = cardspool::amqp::connect(&upstream, "cardspool-test-upstream").await.unwrap();
    let channel = connection.create_channel().await.unwrap();
    let consumed = channel
        .basic_consume(
            "cardspool.intake".into(),
            "peek".into(),
            lapin::options::BasicConsumeOptions::default(),
            lapin::types::FieldTable::default(),
        )
        .await;
    assert!(consumed.is_err(), "upstream may not read the intake queue");
    cardspool::amqp::close_quietly(&connection, "done").await;
    let mut status = upstream.clone();
    status.enrollments_exchange = status.status_exchange.clone();
    let forged = cardspool::amqp::publish_confirmed(&status, &publications(&status, &[b"{}".to_vec()])).await;
    assert!(
        forged.map_or(true, |results| results.iter().all(Result::is_err)),
        "upstream may not publish status events in the spooler's name"
    );
    // The spooler's user does not reach beyond cardspool.*.
    let mut elsewhere = spooler.clone();
    elsewhere.enrollments_exchange = "other.exchange".into();
    assert!(cardspool::amqp::publish_confirmed(&elsewhere, &[]).await.is_err());
}
