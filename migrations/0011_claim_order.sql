-- The order in which a stage claims its due jobs (priority, then the oldest due, then the oldest
-- job), with what the claim filters on, so that a claim walks the index from its head and stops
-- after its batch. Without it every claim read and sorted all the jobs in the state: 86-103 ms
-- a claim with 100,000 jobs waiting for central, on the one writer every commit waits for.
-- The claim's due test is written `COALESCE(next_attempt_at, 0) <= now` to read this column.
-- On a large PostgreSQL journal with several instances running, build it beforehand with
-- `CREATE INDEX CONCURRENTLY` and this definition: this migration then finds it in place.
CREATE INDEX IF NOT EXISTS jobs_by_claim_order ON jobs (state, priority DESC, (COALESCE(next_attempt_at, 0)), created_at, owner, lease_until, id);
