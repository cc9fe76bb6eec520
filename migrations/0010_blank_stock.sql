-- Blank cards in each printer, as staff record them: a load adds to a printer's stock, and every
-- card the printer takes (a line of the ledger: a job's card or a test card) takes one away, in
-- the same transaction as its ledger line. A printer without a row is not counted.
CREATE TABLE printer_stock (
    printer    TEXT PRIMARY KEY,
    blanks     BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
-- Every load, for the audit and the daily report.
CREATE TABLE blank_loads (
    id      TEXT PRIMARY KEY,
    printer TEXT NOT NULL,
    cards   BIGINT NOT NULL,
    at      BIGINT NOT NULL,
    staff   TEXT NOT NULL
);
CREATE INDEX blank_loads_by_at ON blank_loads (at);
