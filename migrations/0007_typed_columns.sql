-- What the stages read of a job's event and of central's answer, stored apart when the job is
-- admitted or authorized, so that no stage parses a 30 KB event or a JSON answer to get them:
-- the full NIK (central's request, staff's search by NIK), the authorization's id (printed on
-- the card, part of the next request's id) and its expiry. Jobs journaled before this
-- migration get them from their event and answer once, when it runs (`migrations::backfill`).
ALTER TABLE jobs ADD COLUMN nik TEXT;
ALTER TABLE jobs ADD COLUMN authorization_id TEXT;
ALTER TABLE jobs ADD COLUMN authorization_expires_at BIGINT;
CREATE INDEX jobs_by_nik ON jobs (nik);
