-- Every staff search by a full NIK (a citizen looked up): who, when, the NIK masked (the audit
-- itself must not become a second register of NIKs) and how many jobs it found. Also what the
-- per-staff-member limit on such searches counts.
CREATE TABLE nik_searches (
    id         TEXT PRIMARY KEY,
    at         BIGINT NOT NULL,
    staff      TEXT NOT NULL,
    nik_masked TEXT NOT NULL,
    found      BIGINT NOT NULL
);
CREATE INDEX nik_searches_by_staff ON nik_searches (staff, at);
CREATE INDEX nik_searches_by_at ON nik_searches (at);
