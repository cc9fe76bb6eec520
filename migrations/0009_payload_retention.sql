-- Retention: a job's payload (the event: photo, signature, address, full NIK) is purged a
-- configured time after the job ended (`[journal] payload_retention_days`). What stays is the
-- audit trail, the masked NIK, the card's digest and the payload's own SHA-256, with when it
-- was purged. The partial index holds only ended jobs not yet purged, so the steps of live jobs
-- (which all rewrite updated_at) never touch it.
ALTER TABLE jobs ADD COLUMN payload_sha256 TEXT;
ALTER TABLE jobs ADD COLUMN payload_purged_at BIGINT;
CREATE INDEX jobs_to_purge ON jobs (updated_at)
    WHERE payload_purged_at IS NULL AND state IN ('printed', 'cancelled', 'rejected', 'spoiled');
-- Published status events are deleted after `[journal] outbox_retention_days`.
CREATE INDEX outbox_by_published ON outbox (published_at) WHERE published_at IS NOT NULL;
