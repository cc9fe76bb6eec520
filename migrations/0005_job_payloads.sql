-- The event as it arrived, in a table of its own, written once at admission and read by the
-- renderer (and the full-NIK search). In the job's row, which every step of the job reads and
-- rewrites, a 30 KB event made SQLite read and write the whole of it (its overflow pages) at
-- each step: most of the journal's work per card.
CREATE TABLE job_payloads (
    job_id  TEXT PRIMARY KEY,
    payload TEXT NOT NULL
);
INSERT INTO job_payloads (job_id, payload) SELECT id, payload FROM jobs;
ALTER TABLE jobs DROP COLUMN payload;
