//! `cardspool demo` end to end: sample events through intake, the simulated central, the real
//! e-KTP template and a folder printer, each card printed exactly once, and again none after a
//! restart.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use crate::support::services::{self, Vhost};
use crate::support::wait::eventually;

fn printed_pdfs(dir: &Path) -> usize {
    std::fs::read_dir(dir.join("cardspool-demo/printed")).map_or(0, |entries| {
        entries.filter_map(Result::ok).filter(|e| e.path().extension().is_some_and(|x| x == "pdf")).count()
    })
}

fn start_demo(vhost: &Vhost, dir: &Path, log: &str) -> std::process::Child {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    Command::new(services::binary())
        .arg("demo")
        .arg("--samples")
        .arg(root.join("samples/events"))
        .current_dir(dir)
        .env("CARDSPOOL_AMQP__URL", vhost.url())
        .env("CARDSPOOL_API__LISTEN", "127.0.0.1:0")
        .env("CARDSPOOL_RENDER__TEMPLATES_DIR", root.join("templates"))
        .env("CARDSPOOL_PRINTING__FOLLOW_POLL_MS", "100")
        .env_remove("RUST_LOG")
        .stdout(std::fs::File::create(dir.join(format!("{log}.out"))).unwrap())
        .stderr(std::fs::File::create(dir.join(format!("{log}.log"))).unwrap())
        .spawn()
        .expect("start cardspool demo")
}

fn stop(mut child: std::process::Child) -> Option<i32> {
    Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    child.wait().unwrap().code()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_prints_every_sample_card_once() {
    services::require_rabbitmq().await;
    let vhost = Vhost::new();
    let dir = tempfile::tempdir().unwrap();
    let samples = services::sample_events().len();

    let demo = start_demo(&vhost, dir.path(), "first");
    eventually(&format!("{samples} cards printed"), Duration::from_secs(180), || async {
        printed_pdfs(dir.path()) >= samples
    })
    .await;
    assert_eq!(stop(demo), Some(0));
    let out = std::fs::read_to_string(dir.path().join("first.out")).unwrap();
    assert!(out.contains(&format!("published    {samples} of {samples} sample events")), "{out}");

    // The same events published again are recognised: no card is printed twice.
    let again = start_demo(&vhost, dir.path(), "second");
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert_eq!(stop(again), Some(0));
    assert_eq!(printed_pdfs(dir.path()), samples);

    for pdf in std::fs::read_dir(dir.path().join("cardspool-demo/printed")).unwrap().filter_map(Result::ok) {
        if pdf.path().extension().is_some_and(|x| x == "pdf") {
            let bytes = std::fs::read(pdf.path()).unwrap();
            assert!(bytes.starts_with(b"%PDF-"), "{} is a PDF", pdf.path().display());
        }
    }
}
