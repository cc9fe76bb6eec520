-- The claim of one template's authorized jobs, in the claim order of 0011, for drawing while some
-- pool of printers has its bound of cards drawn and waiting: drawing then claims for the other
-- pools' templates one template at a time, each walking this index from its head and stopping
-- after its batch. Without it such a claim walked `jobs_by_claim_order` over every authorized
-- job of the full pool (a pool whose printers stopped, with its backlog) to reach the others',
-- on the one writer every commit waits for. Partial: a job enters it when authorized and leaves
-- it when drawn, so the steps of the other states do not write it.
-- On a large PostgreSQL journal with several instances running, build it beforehand with
-- `CREATE INDEX CONCURRENTLY` and this definition: this migration then finds it in place.
CREATE INDEX IF NOT EXISTS jobs_authorized_by_template
    ON jobs (template, priority DESC, (COALESCE(next_attempt_at, 0)), created_at, owner, lease_until, id)
    WHERE state = 'authorized';
