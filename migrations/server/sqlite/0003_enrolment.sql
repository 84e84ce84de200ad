-- Schema 3: one-time enrolment codes. Only the code's SHA-256 is kept; a code is used once.
CREATE TABLE enrolment_code (
    code_hash  BLOB PRIMARY KEY,
    org_id     TEXT NOT NULL REFERENCES org (id),
    admin      INTEGER NOT NULL,         -- the organisation's first device: admin, approved at once
    teams      TEXT NOT NULL,            -- JSON array of team ids the device will see
    expires_ms INTEGER NOT NULL,
    used_ms    INTEGER
);
