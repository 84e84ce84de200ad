-- Schema 6: the organisation's trust log and what follows from it (as the SQLite backend's 0006).
CREATE TABLE trust_statement (
    org_id    UUID NOT NULL,
    seq       BIGINT NOT NULL,
    statement TEXT NOT NULL,
    PRIMARY KEY (org_id, seq)
);
ALTER TABLE enrolment_code ADD COLUMN root_key BYTEA;
ALTER TABLE enrolment_code ADD COLUMN binding BYTEA;
ALTER TABLE op ADD COLUMN chain_seq BIGINT;
ALTER TABLE device_head ADD COLUMN chain_seq BIGINT NOT NULL DEFAULT 0;
ALTER TABLE device_head ADD COLUMN chain_hash BYTEA;
CREATE TABLE key_grant (
    org_id     UUID NOT NULL,
    team_id    UUID NOT NULL,
    epoch      BIGINT NOT NULL,
    recipient  UUID NOT NULL,
    grant_json TEXT NOT NULL,
    PRIMARY KEY (team_id, epoch, recipient)
);
CREATE INDEX key_grant_by_recipient ON key_grant (org_id, recipient);
CREATE UNLOGGED TABLE request_nonce (
    device_id  UUID NOT NULL,
    nonce      TEXT NOT NULL,
    expires_ms BIGINT NOT NULL,
    PRIMARY KEY (device_id, nonce)
);
CREATE INDEX request_nonce_by_expiry ON request_nonce (expires_ms);
