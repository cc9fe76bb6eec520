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
    blanks_are_counted_down_and_the_day_is_reported,
    cards_settled_together_each_keep_their_own_line
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

/// Cards settled at once meet in one commit, written with a few statements for all (the
/// writer's set-based path): an open line is settled, a card without one gets its line and
/// takes a blank, each job takes its own step, and a step refused leaves its card's line.
async fn cards_settled_together_each_keep_their_own_line(journal: Journal) {
    use cardspool::domain::job::JobState;
    use cardspool::journal::Step;
    use futures_util::future::join_all;
    journal.load_blanks("card-1", 10, "rina", t0()).await.unwrap();
    journal.load_blanks("card-2", 10, "rina", t0()).await.unwrap();
    let sent = printing_job(&journal, 11, "card-1").await;
    journal.record_card_sent(sent, &card(Some(sent), "card-1", Some(5), t0())).await.unwrap();
    let handed = [printing_job(&journal, 12, "card-1").await, printing_job(&journal, 13, "card-2").await];
    let spoiled = printing_job(&journal, 14, "card-2").await;
    let moved = printing_job(&journal, 15, "card-1").await;
    let later = t0() + Duration::minutes(1);
    let printed = || Step::system(JobState::Printing, JobState::Printed, "printed", later);
    journal
        .transition(moved, &Step::system(JobState::Printing, JobState::Unknown, "staff looked", later))
        .await
        .unwrap();
    let stock_before = journal.blank_stock().await.unwrap();
    let commits_before = journal.writer_stats().commits.load(std::sync::atomic::Ordering::Relaxed);

    let cards = [
        (sent, "card-1", Some(5), CardOutcome::Printed, Some(printed())),
        (handed[0], "card-1", None, CardOutcome::Printed, Some(printed())),
        (handed[1], "card-2", None, CardOutcome::Printed, Some(printed())),
        (spoiled, "card-2", Some(9), CardOutcome::Spoiled, None),
        (moved, "card-1", None, CardOutcome::Printed, Some(printed())),
    ];
    let journal = &journal;
    let results = join_all(cards.iter().map(|(job, printer, printer_job_id, outcome, step)| {
        let card = card(Some(*job), printer, *printer_job_id, later);
        async move {
            match step {
                Some(step) => journal.settle_card_and_step(*job, &card, *outcome, "", step).await,
                None => journal.settle_card(*job, &card, *outcome, "media-jam").await,
            }
        }
    }))
    .await;
    let commits = journal.writer_stats().commits.load(std::sync::atomic::Ordering::Relaxed) - commits_before;
    assert_eq!(commits, 1, "the cards settled at once share one commit");
    assert!(results[..4].iter().all(Result::is_ok), "{results:?}");
    assert!(matches!(results[4], Err(JournalError::Conflict { .. })), "{:?}", results[4]);

    for job in [sent, handed[0], handed[1]] {
        assert_eq!(journal.job(job).await.unwrap().unwrap().state, JobState::Printed);
        let lines = journal.cards_of_job(job).await.unwrap();
        assert_eq!(lines.len(), 1, "one line per card");
        assert_eq!((lines[0].outcome, lines[0].settled_at), (CardOutcome::Printed, Some(later)));
        assert_eq!(journal.history(job).await.unwrap().last().unwrap().to, JobState::Printed);
    }
    assert_eq!(journal.cards_of_job(sent).await.unwrap()[0].printer_job_id, Some(5), "the open line was settled");
    assert_eq!(journal.cards_of_job(sent).await.unwrap()[0].sent_at, t0());
    let spoiled_lines = journal.cards_of_job(spoiled).await.unwrap();
    assert_eq!((spoiled_lines.len(), spoiled_lines[0].outcome), (1, CardOutcome::Spoiled));
    assert_eq!((spoiled_lines[0].printer_job_id, spoiled_lines[0].reason.as_str()), (Some(9), "media-jam"));
    assert_eq!(journal.job(spoiled).await.unwrap().unwrap().state, JobState::Printing, "no step asked");
    assert_eq!(journal.job(moved).await.unwrap().unwrap().state, JobState::Unknown, "the refused step wrote nothing");
    assert_eq!(journal.cards_of_job(moved).await.unwrap()[0].outcome, CardOutcome::Printed, "its line stands");

    // Blanks: `sent` took its blank when it was sent; the four new lines take one each.
    let stock = journal.blank_stock().await.unwrap();
    assert_eq!(stock["card-1"], stock_before["card-1"] - 2, "handed[0] and moved");
    assert_eq!(stock["card-2"], stock_before["card-2"] - 2, "handed[1] and spoiled");
}
