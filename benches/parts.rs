//! The references `scripts/bench-pipeline` compares the whole spooler with, measured on the same
//! machine in the same run: what each part alone can do, with nothing else around it.
//!
//! - `render SECONDS`: cards drawn per second on all cores (the e-KTP template, the sample
//!   events already parsed): the pipeline's ceiling if drawing were all it did.
//! - `parse SECONDS`: `parse_event` (the complete validation intake does, images decoded) of the
//!   sample events per second on all cores.
//! - `consume AMQP_URL N`: N sample events published to a queue of their own, then consumed
//!   and acked one by one with lapin at prefetch 200, as intake consumes: the broker's and the
//!   client's ceiling for these messages.
//!
//! Each prints one line `NAME RATE` (per second) on stdout, for the script to read.
//! Build: `cargo build --release -p cardspool-benches --bin bench-parts`.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use cardspool::domain::event::{parse_admitted_event, parse_event, EnrollmentEvent, ImageLimits};
use cardspool::render::{specimen, TemplateStore};
use futures_util::StreamExt as _;
use lapin::options::{
    BasicAckOptions, BasicConsumeOptions, BasicPublishOptions, BasicQosOptions, ConfirmSelectOptions,
    QueueDeclareOptions, QueueDeleteOptions,
};
use lapin::types::FieldTable;
use lapin::{BasicProperties, Connection, ConnectionProperties};

const PREFETCH: u16 = 200;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: bench-parts render SECONDS | parse SECONDS | consume AMQP_URL N";
    let seconds = |arg: Option<&String>| Duration::from_secs(arg.and_then(|s| s.parse().ok()).unwrap_or(5));
    match args.first().map(String::as_str) {
        Some("render") => render(seconds(args.get(1))),
        Some("parse") => parse(seconds(args.get(1))),
        Some("consume") => {
            let url = args.get(1).expect(usage);
            let n = args.get(2).and_then(|s| s.parse().ok()).expect(usage);
            consume(url, n);
        }
        _ => {
            eprintln!("{usage}");
            std::process::exit(2);
        }
    }
}

fn repository() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The sample events' bytes, as publishers send them.
fn samples() -> Vec<Vec<u8>> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(repository().join("samples/events"))
        .expect("samples/events")
        .map(|entry| entry.expect("an entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .collect();
    paths.sort();
    paths.iter().map(|path| std::fs::read(path).expect("a sample event")).collect()
}

fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, std::num::NonZero::get)
}

/// Runs `work` on every core for `time`; `work` returns how many items it did per call.
fn on_all_cores<F>(time: Duration, work: F) -> f64
where
    F: Fn(usize) -> usize + Send + Sync + 'static,
{
    let work = Arc::new(work);
    let start = Instant::now();
    let threads: Vec<_> = (0..cores())
        .map(|thread| {
            let work = work.clone();
            std::thread::spawn(move || {
                let mut done = 0;
                let mut call = thread;
                while start.elapsed() < time {
                    done += work(call);
                    call += 1;
                }
                done
            })
        })
        .collect();
    let done: usize = threads.into_iter().map(|t| t.join().expect("a worker thread")).sum();
    done as f64 / start.elapsed().as_secs_f64()
}

fn render(time: Duration) {
    let store = TemplateStore::load(&repository().join("templates")).expect("the templates");
    let limits = ImageLimits::default();
    let events: Vec<EnrollmentEvent> =
        samples().iter().map(|bytes| parse_admitted_event(bytes, &limits).expect("a valid sample")).collect();
    let context = specimen::context();
    let rate = on_all_cores(time, move |call| {
        let event = &events[call % events.len()];
        std::hint::black_box(store.render(event, &context).expect("a card").len());
        1
    });
    println!("render {rate:.0}");
}

fn parse(time: Duration) {
    let samples = samples();
    let limits = ImageLimits::default();
    let rate = on_all_cores(time, move |call| {
        std::hint::black_box(parse_event(&samples[call % samples.len()], &limits).expect("a valid sample"));
        1
    });
    println!("parse {rate:.0}");
}

fn consume(url: &str, n: usize) {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("a runtime");
    runtime.block_on(async {
        let connection = Connection::connect(url, ConnectionProperties::default()).await.expect("RabbitMQ");
        let channel = connection.create_channel().await.expect("a channel");
        let queue = format!("bench-parts-{}", std::process::id());
        channel
            .queue_declare(
                queue.as_str().into(),
                QueueDeclareOptions { durable: true, ..Default::default() },
                FieldTable::default(),
            )
            .await
            .expect("a queue");
        channel.confirm_select(ConfirmSelectOptions::default()).await.expect("confirms");
        let samples = samples();
        let persistent = BasicProperties::default().with_delivery_mode(2);
        let mut confirms = Vec::with_capacity(n);
        for i in 0..n {
            let confirm = channel
                .basic_publish(
                    "".into(),
                    queue.as_str().into(),
                    BasicPublishOptions::default(),
                    &samples[i % samples.len()],
                    persistent.clone(),
                )
                .await
                .expect("publish");
            confirms.push(confirm);
        }
        for confirm in confirms {
            confirm.await.expect("a confirm");
        }
        channel.basic_qos(PREFETCH, BasicQosOptions::default()).await.expect("qos");
        let start = Instant::now();
        let mut consumer = channel
            .basic_consume(
                queue.as_str().into(),
                "bench-parts".into(),
                BasicConsumeOptions::default(),
                FieldTable::default(),
            )
            .await
            .expect("consume");
        let mut taken = 0;
        while taken < n {
            let delivery = consumer.next().await.expect("a delivery").expect("not an error");
            std::hint::black_box(delivery.data.len());
            delivery.ack(BasicAckOptions::default()).await.expect("ack");
            taken += 1;
        }
        let rate = n as f64 / start.elapsed().as_secs_f64();
        channel.queue_delete(queue.as_str().into(), QueueDeleteOptions::default()).await.expect("delete the queue");
        println!("consume {rate:.0}");
    });
}
