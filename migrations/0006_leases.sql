-- Leases, for several spooler instances on one journal (PostgreSQL). A job on a printer is held
-- by the instance that sent it (owner, its `[journal] instance`) until lease_until, renewed
-- while the instance follows the card; only when the lease has expired (the instance died or
-- lost the journal) does another instance take the job over and ask its printer. A status event
-- being published is claimed the same way, so each is published by one instance.
-- Times are milliseconds since the Unix epoch (UTC).
ALTER TABLE jobs ADD COLUMN owner TEXT;
ALTER TABLE jobs ADD COLUMN lease_until BIGINT;
ALTER TABLE outbox ADD COLUMN claimed_by TEXT;
ALTER TABLE outbox ADD COLUMN claim_until BIGINT;
