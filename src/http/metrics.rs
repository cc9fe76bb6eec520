//! `/metrics` in Prometheus' text format.
//!
//! A pull model: the spooler's parts keep their own numbers (the journal its jobs, intake its
//! counters, the pool its printers), and each scrape reads them into a recorder of the API's
//! own, then renders it. The recorder is not installed globally, so several spoolers (tests)
//! can run in one process, and a scrape shows exactly what the journal says at that moment.

use std::sync::atomic::Ordering;

use chrono::{DateTime, Utc};
use metrics::{counter, describe_counter, describe_gauge, gauge, with_local_recorder, Unit};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle, PrometheusRecorder};
use tracing::warn;

use super::ApiState;
use crate::central::CentralState;
use crate::domain::job::JobState;
use crate::journal::StateOverview;
use crate::printer::pool::Health;

const CENTRAL_STATES: [CentralState; 5] = [
    CentralState::Unknown,
    CentralState::Up,
    CentralState::Degraded,
    CentralState::Down,
    CentralState::CredentialsRefused,
];

pub struct Metrics {
    recorder: PrometheusRecorder,
    handle: PrometheusHandle,
}

impl Metrics {
    pub fn new() -> Metrics {
        let recorder = PrometheusBuilder::new().build_recorder();
        let handle = recorder.handle();
        with_local_recorder(&recorder, || {
            describe_gauge!("cardspool_journal_up", "1 when the journal answered this scrape's queries");
            describe_gauge!("cardspool_jobs", "Jobs in each state");
            describe_gauge!(
                "cardspool_jobs_oldest_age_seconds",
                Unit::Seconds,
                "Age of the oldest job in each unfinished state, since it was received"
            );
            describe_gauge!("cardspool_rejections", "Distinct event payloads refused at intake (journal)");
            describe_counter!("cardspool_rejected_deliveries_total", "Deliveries refused at intake (journal)");
            describe_counter!("cardspool_intake_admitted_total", "Events admitted as new jobs by this process");
            describe_counter!("cardspool_intake_duplicates_total", "Redelivered or republished events recognised");
            describe_counter!("cardspool_intake_rejected_total", "Events dead-lettered by this process");
            describe_counter!("cardspool_intake_reconnects_total", "Intake's reconnections to RabbitMQ");
            describe_counter!("cardspool_intake_acks_lost_total", "Acks lost with a connection (redelivered)");
            describe_gauge!("cardspool_status_events_unpublished", "Status events waiting in the journal's outbox");
            describe_gauge!(
                "cardspool_status_events_oldest_age_seconds",
                Unit::Seconds,
                "Age of the oldest status event not yet published"
            );
            describe_gauge!(
                "cardspool_status_events_held_back",
                "1 while a status event no queue takes holds back the others (alert: upstream binds a queue)"
            );
            describe_counter!(
                "cardspool_status_events_unroutable_total",
                "Status events the broker returned because no queue took them (each try)"
            );
            describe_counter!(
                "cardspool_journal_commits_total",
                "Transactions committed by this process's journal writer (many jobs' writes each)"
            );
            describe_counter!("cardspool_journal_writes_total", "Writes committed by this process's journal writer");
            describe_gauge!("cardspool_printer_ready", "1 when the printer takes jobs (healthy and not paused)");
            describe_gauge!("cardspool_printer_faulted", "1 when a fault stops the printer");
            describe_gauge!("cardspool_printer_paused", "1 when staff paused the printer");
            describe_gauge!("cardspool_printer_jobs_in_flight", "Jobs on the printer now");
            describe_gauge!(
                "cardspool_printer_blanks",
                "Blank cards in the printer, once staff recorded a load (loads minus cards taken)"
            );
            describe_gauge!(
                "cardspool_printer_blanks_low",
                "1 when the printer's blanks are at or below printing.low_stock (alert: load blanks)"
            );
            describe_gauge!(
                "cardspool_central_state",
                "1 for central's current state (unknown, up, degraded, down, credentials_refused)"
            );
            describe_gauge!(
                "cardspool_central_state_since_seconds",
                Unit::Seconds,
                "How long central has been in its current state"
            );
            describe_gauge!("cardspool_central_consecutive_failures", "Failed exchanges with central in a row");
            describe_counter!(
                "cardspool_central_answers_total",
                "Central's answers to this process by outcome (authorized, pending, denied, unavailable, ...)"
            );
            describe_gauge!(
                "cardspool_central_alert",
                "1 when central needs staff (credentials refused, answers that do not verify)"
            );
        });
        Metrics { recorder, handle }
    }

    /// Reads every number afresh and renders them.
    pub async fn render(&self, state: &ApiState) -> String {
        let now = state.clock.now();
        let overview = state.journal.state_overview().await;
        let rejections = state.journal.rejection_counts().await;
        let stock = state.journal.blank_stock().await.unwrap_or_default();
        let outbox = state.journal.outbox_backlog().await;
        if let Err(error) = overview.as_ref().and(rejections.as_ref()) {
            warn!(%error, "metrics: the journal did not answer");
        }
        with_local_recorder(&self.recorder, || {
            gauge!("cardspool_journal_up").set(if overview.is_ok() && rejections.is_ok() { 1.0 } else { 0.0 });
            if let Ok(overview) = &overview {
                for job_state in JobState::ALL {
                    let entry = overview.get(job_state);
                    gauge!("cardspool_jobs", "state" => job_state.as_str()).set(entry.map_or(0, |o| o.count) as f64);
                    if !job_state.is_final() {
                        gauge!("cardspool_jobs_oldest_age_seconds", "state" => job_state.as_str())
                            .set(oldest_age(entry, now));
                    }
                }
            }
            if let Ok((distinct, deliveries)) = &rejections {
                gauge!("cardspool_rejections").set(*distinct as f64);
                counter!("cardspool_rejected_deliveries_total").absolute(u64::try_from(*deliveries).unwrap_or(0));
            }
            if let Ok((waiting, oldest)) = &outbox {
                gauge!("cardspool_status_events_unpublished").set(*waiting as f64);
                let age = oldest.map_or(0.0, |oldest| (now - oldest).num_milliseconds().max(0) as f64 / 1000.0);
                gauge!("cardspool_status_events_oldest_age_seconds").set(age);
            }
            if let Some(stats) = &state.status_events {
                gauge!("cardspool_status_events_held_back").set(if stats.current().is_some() { 1.0 } else { 0.0 });
                counter!("cardspool_status_events_unroutable_total").absolute(stats.unroutable.load(Ordering::Relaxed));
            }
            let writer = state.journal.writer_stats();
            counter!("cardspool_journal_commits_total").absolute(writer.commits.load(Ordering::Relaxed));
            counter!("cardspool_journal_writes_total").absolute(writer.writes.load(Ordering::Relaxed));
            if let Some(stats) = &state.intake {
                counter!("cardspool_intake_admitted_total").absolute(stats.admitted.load(Ordering::Relaxed));
                counter!("cardspool_intake_duplicates_total").absolute(stats.duplicates.load(Ordering::Relaxed));
                counter!("cardspool_intake_rejected_total").absolute(stats.rejected.load(Ordering::Relaxed));
                counter!("cardspool_intake_reconnects_total").absolute(stats.reconnects.load(Ordering::Relaxed));
                counter!("cardspool_intake_acks_lost_total").absolute(stats.acks_lost.load(Ordering::Relaxed));
            }
            if let Some(printers) = &state.printers {
                for view in printers.snapshot() {
                    let labels = [("printer", view.name.clone()), ("pool", view.pool.clone())];
                    let flag = |on: bool| if on { 1.0 } else { 0.0 };
                    let faulted = matches!(view.health, Health::Faulted { .. });
                    gauge!("cardspool_printer_ready", &labels)
                        .set(flag(view.health.is_ready() && view.paused.is_none()));
                    gauge!("cardspool_printer_faulted", &labels).set(flag(faulted));
                    gauge!("cardspool_printer_paused", &labels).set(flag(view.paused.is_some()));
                    gauge!("cardspool_printer_jobs_in_flight", &labels).set(f64::from(view.in_flight));
                    if let Some(blanks) = stock.get(&view.name) {
                        gauge!("cardspool_printer_blanks", &labels).set(*blanks as f64);
                        gauge!("cardspool_printer_blanks_low", &labels)
                            .set(flag(*blanks <= i64::from(state.stock_levels.low)));
                    }
                }
            }
            if let Some(monitor) = &state.central {
                let status = monitor.snapshot();
                for central_state in CENTRAL_STATES {
                    let on = if status.state == central_state { 1.0 } else { 0.0 };
                    gauge!("cardspool_central_state", "state" => central_state.as_str()).set(on);
                }
                let since = (now - status.since).num_milliseconds().max(0) as f64 / 1000.0;
                gauge!("cardspool_central_state_since_seconds").set(since);
                gauge!("cardspool_central_consecutive_failures").set(f64::from(status.consecutive_failures));
                gauge!("cardspool_central_alert").set(if status.alert.is_some() { 1.0 } else { 0.0 });
                for (outcome, count) in monitor.answer_counts() {
                    counter!("cardspool_central_answers_total", "outcome" => outcome).absolute(count);
                }
            }
        });
        self.handle.render()
    }
}

fn oldest_age(entry: Option<&StateOverview>, now: DateTime<Utc>) -> f64 {
    entry
        .and_then(|o| o.oldest_received_at)
        .map_or(0.0, |oldest| (now - oldest).num_milliseconds().max(0) as f64 / 1000.0)
}
