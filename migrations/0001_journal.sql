-- One schema for SQLite and PostgreSQL: only types and syntax both accept.
-- Times are milliseconds since the Unix epoch (UTC) in BIGINT columns.

CREATE TABLE jobs (
    id                 TEXT PRIMARY KEY,
    event_id           TEXT NOT NULL UNIQUE,
    state              TEXT NOT NULL,
    office             TEXT NOT NULL,
    template           TEXT NOT NULL,
    priority           BIGINT NOT NULL,
    nik_masked         TEXT NOT NULL,
    name               TEXT NOT NULL,
    warnings           TEXT NOT NULL,
    payload            TEXT NOT NULL,
    reason             TEXT NOT NULL,
    held_from          TEXT,
    attempts           BIGINT NOT NULL DEFAULT 0,
    next_attempt_at    BIGINT,
    authorization_json TEXT,
    printer            TEXT,
    printer_job_id     BIGINT,
    created_at         BIGINT NOT NULL,
    updated_at         BIGINT NOT NULL,
    version            BIGINT NOT NULL
);
CREATE INDEX jobs_by_state_due ON jobs (state, next_attempt_at);
CREATE INDEX jobs_by_created ON jobs (created_at);

-- The audit trail: every transition of every job. seq is the job's version after the step.
CREATE TABLE job_transitions (
    job_id     TEXT NOT NULL,
    seq        BIGINT NOT NULL,
    at         BIGINT NOT NULL,
    from_state TEXT,
    to_state   TEXT NOT NULL,
    reason     TEXT NOT NULL,
    actor      TEXT NOT NULL,
    PRIMARY KEY (job_id, seq)
);

-- Events refused at intake, for staff. Keyed by the payload's hash: a redelivered bad event
-- counts again instead of adding a row.
CREATE TABLE rejections (
    id             TEXT PRIMARY KEY,
    payload_sha256 TEXT NOT NULL UNIQUE,
    payload_size   BIGINT NOT NULL,
    event_id       TEXT,
    routing_key    TEXT NOT NULL,
    reason         TEXT NOT NULL,
    first_at       BIGINT NOT NULL,
    last_at        BIGINT NOT NULL,
    times          BIGINT NOT NULL
);
CREATE INDEX rejections_by_last ON rejections (last_at);

-- Status events, written in the same transaction as the state change, published later.
CREATE TABLE outbox (
    id           TEXT PRIMARY KEY,
    created_at   BIGINT NOT NULL,
    routing_key  TEXT NOT NULL,
    body         TEXT NOT NULL,
    published_at BIGINT
);
CREATE INDEX outbox_unpublished ON outbox (published_at, created_at);
