//! The blank-card ledger on both backends: SQLite (a temp file) and PostgreSQL (a database of
//! its own; see `support::services` for how to start it).

use chrono::{DateTime, Duration, TimeZone, Utc};

use crate::support::fixtures::job_on_printer;
use crate::support::on_both_backends;
use cardspool::domain::job::JobId;
use cardspool::journal::{CardOutcome, Journal, JournalError, NewCard};

/// 08:00 WIB on 27 November 2026.
fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 27, 1, 0, 0).unwrap()
}

on_both_backends!(
    cards_are_counted_per_printer_and_day,
    a_card_is_recorded_once_and_only_for_its_printer,
    blanks_are_counted_down_and_the_day_is_reported
);

async fn blanks_are_counted_down_and_the_day_is_reported(journal: Journal) {
    use cardspool::domain::job::JobState;
    use cardspool::domain::office_time::OfficeZone;
    let at = Utc::now() - Duration::minutes(2);
    assert_eq!(journal.load_blanks("card-1", 10, "rina", at).await.unwrap(), 10);
    assert_eq!(journal.load_blanks("card-1", 5, "rina", at).await.unwrap(), 15);
    crate::support::fixtures::job_in(&journal, 1, JobState::Printed, at).await;
    crate::support::fixtures::job_in(&journal, 2, JobState::AwaitingAuthorization, at).await;
    assert_eq!(journal.blank_stock().await.unwrap()["card-1"], 14, "the printed card took a blank");
    let date = at.with_timezone(&OfficeZone::Wib.offset()).date_naive();
    let report = journal.daily_report("1502", date, OfficeZone::Wib, &["card-2".to_owned()], Utc::now()).await.unwrap();
    let names: Vec<&str> = report.printers.iter().map(|p| p.printer.as_str()).collect();
    assert_eq!(names, ["card-1", "card-2"], "configured printers and those in the ledger");
    let card_1 = &report.printers[0];
    assert_eq!((card_1.printed, card_1.blanks_loaded, card_1.stock_at_day_end), (1, 15, Some(14)));
    assert_eq!((report.jobs.received, report.jobs.printed, report.jobs.still_waiting), (2, 1, 1));
    assert_eq!(report.printed_per_hour.iter().sum::<i64>(), 1);
    let yesterday =
        journal.daily_report("1502", date - Duration::days(1), OfficeZone::Wib, &[], Utc::now()).await.unwrap();
    assert_eq!(yesterday.printers[0].stock_at_day_end, Some(0), "before the loads: nothing counted in it yet");
    assert_eq!(yesterday.jobs.received, 0);
}

/// A job journaled `printing` on `printer`.
async fn printing_job(journal: &Journal, n: u32, printer: &str) -> JobId {
    job_on_printer(journal, n, printer, t0()).await
}

fn card(job: Option<JobId>, printer: &str, printer_job_id: Option<i64>, at: DateTime<Utc>) -> NewCard<'_> {
    NewCard { job_id: job, printer, printer_job_id, at, utc_offset_minutes: 7 * 60 }
}

async fn cards_are_counted_per_printer_and_day(journal: Journal) {
    let evening = t0() + Duration::hours(16); // 00:00 WIB the next day
    let a = printing_job(&journal, 1, "card-1").await;
    let b = printing_job(&journal, 2, "card-1").await;
    let c = printing_job(&journal, 3, "card-2").await;
    journal.record_card_sent(a, &card(Some(a), "card-1", Some(1), t0())).await.unwrap();
    journal.settle_card(a, &card(Some(a), "card-1", Some(1), t0()), CardOutcome::Spoiled, "media-jam").await.unwrap();
    journal.record_card_sent(b, &card(Some(b), "card-1", Some(2), t0())).await.unwrap();
    journal.settle_card(b, &card(Some(b), "card-1", Some(2), t0()), CardOutcome::Printed, "").await.unwrap();
    journal.record_card_sent(c, &card(Some(c), "card-2", Some(7), evening)).await.unwrap();
    journal.record_test_card(&card(None, "card-2", None, evening), "alignment").await.unwrap();

    let counts = journal.card_counts("2026-11-27", "2026-11-28").await.unwrap();
    let summary: Vec<(String, String, i64, i64, i64, i64)> = counts
        .iter()
        .map(|c| {
            (
                c.printer.clone(),
                c.day.clone(),
                c.count(CardOutcome::Printed),
                c.count(CardOutcome::Spoiled),
                c.count(CardOutcome::Sent),
                c.count(CardOutcome::Test),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [("card-1".into(), "2026-11-27".into(), 1, 1, 0, 0), ("card-2".into(), "2026-11-28".into(), 0, 0, 1, 1)]
    );
    assert_eq!(counts[0].blanks_used(), 2);
    assert_eq!(counts[1].blanks_used(), 1, "the card still on the printer is not counted yet");
    assert!(journal.card_counts("2026-11-29", "2026-12-31").await.unwrap().is_empty());

    let day = journal.cards_of_printer_day("card-1", "2026-11-27").await.unwrap();
    assert_eq!(day.len(), 2);
    assert_eq!(day[0].reason, "media-jam");
    assert_eq!(journal.spoiled_cards_of_job(a).await.unwrap(), 1);

    // Staff find the printed card unusable.
    let later = t0() + Duration::hours(1);
    assert!(journal.mark_card_spoiled(b, "photo smudged", later).await.unwrap());
    let cards = journal.cards_of_job(b).await.unwrap();
    assert_eq!((cards[0].outcome, cards[0].reason.as_str()), (CardOutcome::Spoiled, "photo smudged"));
    assert!(!journal.mark_card_spoiled(c, "nothing printed yet", later).await.unwrap());
}

async fn a_card_is_recorded_once_and_only_for_its_printer(journal: Journal) {
    let job = printing_job(&journal, 4, "card-1").await;
    // Reconciliation records a card again: still one line, now with the printer's id.
    journal.record_card_sent(job, &card(Some(job), "card-1", None, t0())).await.unwrap();
    journal.record_card_sent(job, &card(Some(job), "card-1", Some(42), t0())).await.unwrap();
    let cards = journal.cards_of_job(job).await.unwrap();
    assert_eq!(cards.len(), 1);
    assert_eq!((cards[0].outcome, cards[0].printer_job_id), (CardOutcome::Sent, Some(42)));
    assert_eq!(journal.job(job).await.unwrap().unwrap().printer_job_id, Some(42));

    let error = journal.record_card_sent(job, &card(Some(job), "card-2", Some(1), t0())).await.unwrap_err();
    assert!(matches!(error, JournalError::Conflict { .. }), "the job is on card-1: {error}");

    // A settlement with no open line (the spooler died before recording the card) adds one.
    let other = printing_job(&journal, 5, "card-2").await;
    journal
        .settle_card(other, &card(Some(other), "card-2", Some(3), t0()), CardOutcome::Unknown, "cannot say")
        .await
        .unwrap();
    let cards = journal.cards_of_job(other).await.unwrap();
    assert_eq!(cards.len(), 1);
    assert_eq!((cards[0].outcome, cards[0].settled_at), (CardOutcome::Unknown, Some(t0())));
}
