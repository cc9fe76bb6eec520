-- Central's circuit breaker, kept across restarts so that a restart in the middle of an outage
-- keeps its caution (no burst of requests, the next probe where it was). One row, id 'central'.
-- Times are milliseconds since the Unix epoch (UTC).
CREATE TABLE central_breaker (
    id                   TEXT PRIMARY KEY,
    phase                TEXT NOT NULL,
    state                TEXT NOT NULL,
    state_since          BIGINT NOT NULL,
    consecutive_failures BIGINT NOT NULL,
    next_probe_at        BIGINT,
    paused_until         BIGINT,
    last_error           TEXT,
    last_error_at        BIGINT,
    last_success_at      BIGINT,
    alert                TEXT,
    config_fingerprint   TEXT NOT NULL,
    updated_at           BIGINT NOT NULL
);

-- For the maximum-wait sweep: when did a job last start waiting for central.
CREATE INDEX job_transitions_by_to_state ON job_transitions (to_state, job_id, at);
