//! The printer adapters against real IPP printers (ippeveprinter, see tests/printer-sim/).
//!
//! Needs ippeveprinter and dbus-daemon: `apt-get install cups-ipp-utils dbus`.

use std::time::Duration;

use cardspool::config::{PrinterConfig, PrintingConfig};
use cardspool::printer::pool::{Health, Printers};
use cardspool::printer::{
    DeviceState, Fault, FollowPolicy, Lookup, Printer, PrinterError, RemoteJob, RemoteJobState, Submission,
};

use crate::support::printer_sim::{tiny_pdf, SimFault, SimPrinter};

fn printing() -> PrintingConfig {
    PrintingConfig { request_timeout_ms: 5_000, busy_retry_ms: 200, busy_retries: 50, ..PrintingConfig::default() }
}

fn adapter(sim: &SimPrinter, printing: &PrintingConfig) -> Printer {
    Printer::from_config(&sim.config(), printing).unwrap()
}

fn submission(job_name: &str) -> Submission {
    Submission { job_name: job_name.into(), pdf: tiny_pdf(), submitted_at: chrono::Utc::now(), spooled: None }
}

fn job_name() -> String {
    uuid::Uuid::now_v7().to_string()
}

const FOLLOW: FollowPolicy =
    FollowPolicy { poll: Duration::from_millis(100), unreachable_grace: Duration::from_secs(2) };

#[tokio::test]
async fn a_card_is_submitted_followed_to_completion_and_found_by_name() {
    let sim = SimPrinter::start("card-1");
    let printer = adapter(&sim, &printing());
    let status = printer.status().await.unwrap();
    assert_eq!(status.state, DeviceState::Idle);
    assert!(status.accepting_jobs);
    assert!(status.faults(&[]).is_empty(), "{status:?}");

    let name = job_name();
    printer.validate(&name).await.unwrap();
    assert!(sim.received().is_empty(), "Validate-Job prints nothing");
    let job = printer.submit(&submission(&name)).await.unwrap();
    assert!(job.printer_job_id.is_some());
    let end = printer.follow(&job, FOLLOW).await.unwrap();
    assert_eq!(end.state, RemoteJobState::Completed, "{end:?}");
    assert_eq!(end.job_name, name);
    assert_eq!(sim.arrivals(&name), 1);
    let received = std::fs::read_dir(sim.spool())
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|x| x == "pdf"))
        .unwrap();
    assert_eq!(std::fs::read(received).unwrap(), tiny_pdf());

    match printer.find_jobs(&name).await.unwrap() {
        Lookup::Found(jobs) => {
            assert_eq!(jobs.len(), 1);
            assert_eq!(jobs[0].state, RemoteJobState::Completed);
            assert_eq!(jobs[0].printer_job_id, job.printer_job_id);
        }
        Lookup::CannotSay => panic!("the printer should remember the job"),
    }
    assert_eq!(printer.find_jobs(&job_name()).await.unwrap(), Lookup::CannotSay);
}

#[tokio::test]
async fn an_ipps_printer_with_a_self_signed_certificate_prints_when_told_to_trust_it() {
    let sim = SimPrinter::start_with_tls("card-tls");
    let trusting = PrinterConfig { uri: sim.ipps_uri(), ignore_tls_errors: true, ..sim.config() };
    let printer = Printer::from_config(&trusting, &printing()).unwrap();
    assert_eq!(printer.display_uri(), sim.ipps_uri());
    let status = printer.status().await.unwrap();
    assert_eq!(status.state, DeviceState::Idle);
    let name = job_name();
    printer.validate(&name).await.unwrap();
    let job = printer.submit(&submission(&name)).await.unwrap();
    let end = printer.follow(&job, FOLLOW).await.unwrap();
    assert_eq!(end.state, RemoteJobState::Completed, "{end:?}");
    assert_eq!(sim.arrivals(&name), 1);
    assert!(matches!(printer.find_jobs(&name).await.unwrap(), Lookup::Found(jobs) if jobs.len() == 1));
    let log = sim.log();
    assert!(!log.contains("Unable to encrypt"), "the printer spoke TLS: {log}");

    // Without being told to, the spooler does not trust a certificate nobody vouches for: the
    // printer counts as unreachable (it takes no card), and the error says why.
    let checking = PrinterConfig { uri: sim.ipps_uri(), ignore_tls_errors: false, ..sim.config() };
    let printer = Printer::from_config(&checking, &printing()).unwrap();
    let refused = printer.status().await.unwrap_err();
    assert!(!refused.may_have_taken_job(), "{refused}");
    let name = job_name();
    assert!(printer.submit(&submission(&name)).await.is_err());
    assert_eq!(sim.arrivals(&name), 0, "no card over an untrusted connection");
}

#[tokio::test]
async fn each_fault_aborts_the_job_and_stops_the_printer_with_its_reason() {
    let cases = [
        (SimFault::Jam, Fault::MediaJam),
        (SimFault::Ribbon, Fault::RibbonEmpty),
        (SimFault::Cover, Fault::CoverOpen),
        (SimFault::Hopper, Fault::HopperEmpty),
    ];
    let sims: Vec<SimPrinter> =
        cases.iter().enumerate().map(|(i, _)| SimPrinter::start(&format!("card-{i}"))).collect();
    let configs: Vec<PrinterConfig> = sims.iter().map(SimPrinter::config).collect();
    let printers = Printers::from_config(&configs, &printing()).unwrap();
    printers.poll(chrono::Utc::now()).await;
    assert!(printers.snapshot().iter().all(|view| view.health == Health::Ready), "{:?}", printers.snapshot());

    for ((fault, expected), sim) in cases.iter().zip(&sims) {
        sim.inject(*fault);
        let printer = &printers.get(&sim.name).unwrap().printer;
        let name = job_name();
        let job = printer.submit(&submission(&name)).await.unwrap();
        let end = printer.follow(&job, FOLLOW).await.unwrap();
        assert_eq!(end.state, RemoteJobState::Aborted, "{fault:?}: {end:?}");
        let status = printer.status().await.unwrap();
        assert_eq!(status.faults(&[]), vec![expected.clone()], "{fault:?}: {status:?}");
    }
    printers.poll(chrono::Utc::now()).await;
    for ((_, expected), view) in cases.iter().zip(printers.snapshot()) {
        match &view.health {
            Health::Faulted { faults, .. } => assert_eq!(faults, &vec![expected.clone()], "{}", view.name),
            other => panic!("{} should be stopped, is {other:?}", view.name),
        }
        assert!(printers.acquire("ektp").is_none());
    }

    // Staff clear the jam and resume: the printer takes a job and, once one prints, reports
    // the reason gone.
    let jammed = &sims[0];
    jammed.clear_fault();
    assert!(printers.resume(&jammed.name, "rina", chrono::Utc::now()));
    let lease = printers.acquire("ektp").expect("the resumed printer takes jobs");
    assert_eq!(lease.name(), jammed.name);
    let job = lease.printer().submit(&submission(&job_name())).await.unwrap();
    assert_eq!(lease.printer().follow(&job, FOLLOW).await.unwrap().state, RemoteJobState::Completed);
    assert!(lease.printer().status().await.unwrap().reasons.is_empty());
}

#[tokio::test]
async fn a_slow_printer_is_followed_and_busy_answers_are_retried() {
    let sim = SimPrinter::start("card-slow");
    sim.inject(SimFault::Slow);
    let printer = adapter(&sim, &printing());
    let first = printer.submit(&submission(&job_name())).await.unwrap();

    // While the first card prints, the printer answers server-error-busy: without retries
    // that is an error that did not hand the job over...
    let impatient = adapter(&sim, &PrintingConfig { busy_retries: 0, ..printing() });
    let error = impatient.submit(&submission(&job_name())).await.unwrap_err();
    assert!(matches!(error, PrinterError::Busy), "{error}");
    assert!(!error.may_have_taken_job());

    // ...and with retries the second card goes through once the first is done.
    let second_name = job_name();
    let second = printer.submit(&submission(&second_name)).await.unwrap();
    let first_end = printer.follow(&first, FOLLOW).await.unwrap();
    assert_eq!(first_end.state, RemoteJobState::Completed);
    sim.clear_fault();
    assert_eq!(printer.follow(&second, FOLLOW).await.unwrap().state, RemoteJobState::Completed);
    assert_eq!(sim.received().len(), 2, "the busy attempt left nothing behind");
    assert_eq!(sim.arrivals(&second_name), 1);
}

#[tokio::test]
async fn a_killed_printer_is_unreachable_and_a_restarted_one_cannot_say() {
    let mut sim = SimPrinter::start("card-kill");
    let printer = adapter(&sim, &printing());
    let name = job_name();
    let job = printer.submit(&submission(&name)).await.unwrap();
    printer.follow(&job, FOLLOW).await.unwrap();

    sim.kill();
    let error = printer.status().await.unwrap_err();
    assert!(matches!(error, PrinterError::Unreachable(_)), "{error}");
    let error = printer.submit(&submission(&job_name())).await.unwrap_err();
    assert!(!error.may_have_taken_job(), "a refused connection took nothing: {error}");
    let started = std::time::Instant::now();
    let error = printer.follow(&job, FOLLOW).await.unwrap_err();
    assert!(error.is_retryable(), "{error}");
    assert!(started.elapsed() >= FOLLOW.unreachable_grace);

    let printers = Printers::from_config(&[sim.config()], &printing()).unwrap();
    printers.poll(chrono::Utc::now()).await;
    assert!(
        matches!(&printers.view(&sim.name).unwrap().health, Health::Faulted { faults, .. } if matches!(faults[..], [Fault::Unreachable(_)]))
    );

    // Switched on again, the printer has forgotten the job, and reuses its id for another.
    sim.restart();
    printers.poll(chrono::Utc::now()).await;
    assert_eq!(printers.view(&sim.name).unwrap().health, Health::Ready);
    assert_eq!(printer.find_jobs(&name).await.unwrap(), Lookup::CannotSay);
    let other = printer.submit(&submission(&job_name())).await.unwrap();
    assert_eq!(other.printer_job_id, job.printer_job_id, "ippeveprinter numbers from 1 again");
    let error = printer.job_status(&job).await.unwrap_err();
    assert!(matches!(error, PrinterError::NoSuchJob(_)), "an id reused for another job is not ours: {error}");
    assert_eq!(sim.arrivals(&name), 1);
}

#[tokio::test]
async fn jobs_are_found_by_name_among_all_the_printer_remembers() {
    let sim = SimPrinter::start("card-find");
    let printer = adapter(&sim, &printing());
    let names: Vec<String> = (0..3).map(|_| job_name()).collect();
    let mut jobs = Vec::new();
    for name in &names {
        let job = printer.submit(&submission(name)).await.unwrap();
        printer.follow(&job, FOLLOW).await.unwrap();
        jobs.push(job);
    }
    // Sent twice (as a crash-unsafe spooler would): the printer lists both.
    let again = printer.submit(&submission(&names[1])).await.unwrap();
    printer.follow(&again, FOLLOW).await.unwrap();
    for (i, name) in names.iter().enumerate() {
        let Lookup::Found(found) = printer.find_jobs(name).await.unwrap() else { panic!("{name} not found") };
        let ids: Vec<Option<i64>> = found.iter().map(|j| j.printer_job_id).collect();
        if i == 1 {
            assert_eq!(ids, vec![jobs[1].printer_job_id, again.printer_job_id]);
        } else {
            assert_eq!(ids, vec![jobs[i].printer_job_id]);
        }
        assert!(found.iter().all(|j| j.state == RemoteJobState::Completed && j.job_name == *name));
    }
    // Without a printer job id (a crash before it was recorded), the status comes by name.
    let by_name = printer.job_status(&RemoteJob { printer_job_id: None, job_name: names[2].clone() }).await.unwrap();
    assert_eq!(by_name.printer_job_id, jobs[2].printer_job_id);
}

#[tokio::test]
async fn a_waiting_job_can_be_cancelled_on_the_printer() {
    let sim = SimPrinter::start("card-cancel");
    sim.inject(SimFault::Slow);
    let printer = adapter(&sim, &printing());
    let first = printer.submit(&submission(&job_name())).await.unwrap();
    printer.cancel(&first).await.unwrap();
    let end = printer.follow(&first, FOLLOW).await.unwrap();
    assert_eq!(end.state, RemoteJobState::Cancelled, "{end:?}");
    let error = printer.cancel(&RemoteJob { printer_job_id: Some(999), job_name: job_name() }).await.unwrap_err();
    assert!(matches!(error, PrinterError::NoSuchJob(_) | PrinterError::Refused { .. }), "{error}");
}
