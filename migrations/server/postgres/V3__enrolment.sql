-- Schema 3: one-time enrolment codes (as the SQLite backend's 0003).
CREATE TABLE enrolment_code (
    code_hash  BYTEA PRIMARY KEY,
    org_id     UUID NOT NULL REFERENCES org (id),
    admin      BOOLEAN NOT NULL,
    teams      UUID[] NOT NULL,
    expires_ms BIGINT NOT NULL,
    used_ms    BIGINT
);
