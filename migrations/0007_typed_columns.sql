-- What the stages read of a job's event and of central's answer, stored apart when the job is
-- admitted or authorized, so that no stage parses a 30 KB event or a JSON answer to get them:
-- the full NIK (central's request, staff's search by NIK), the card's digest (central's
-- request: the authorization is bound to it), the authorization's id (printed on the card) and
-- its expiry. Jobs journaled before this migration get them from their event and answer once,
-- when it runs (`migrations::backfill_typed_columns`).
-- authorization_round counts the requests for new authorizations a job made (a reprint, a
-- retry, an expired authorization each start a new one): it is part of the request id, so that
-- every print is asked for and never answered by replaying an earlier authorization.
ALTER TABLE jobs ADD COLUMN nik TEXT;
ALTER TABLE jobs ADD COLUMN card_digest TEXT;
ALTER TABLE jobs ADD COLUMN authorization_round BIGINT NOT NULL DEFAULT 0;
ALTER TABLE jobs ADD COLUMN authorization_id TEXT;
ALTER TABLE jobs ADD COLUMN authorization_expires_at BIGINT;
CREATE INDEX jobs_by_nik ON jobs (nik);
