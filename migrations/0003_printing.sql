-- The blank-card ledger: every card sent to a printer, and what became of its blank.
-- One schema for SQLite and PostgreSQL (TEXT and BIGINT only; times in ms since the epoch).
--
-- outcome: sent (on the printer, not settled yet) | printed | spoiled (the blank is used up,
-- reason says why) | not_fed (the printer stopped before taking a blank: hopper, ribbon, cover)
-- | cancelled (at the printer) | unknown (the printer cannot say) | test (a test card).
-- print_day is the office's local date (YYYY-MM-DD) the card was sent on, for daily counts.
CREATE TABLE card_ledger (
    id             TEXT PRIMARY KEY,
    job_id         TEXT,
    printer        TEXT NOT NULL,
    printer_job_id BIGINT,
    sent_at        BIGINT NOT NULL,
    print_day      TEXT NOT NULL,
    outcome        TEXT NOT NULL,
    reason         TEXT NOT NULL,
    settled_at     BIGINT
);
CREATE INDEX card_ledger_by_printer_day ON card_ledger (printer, print_day);
CREATE INDEX card_ledger_by_job ON card_ledger (job_id, sent_at);
