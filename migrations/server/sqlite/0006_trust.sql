-- Schema 6: the organisation's trust log and what follows from it.

-- Admin-signed statements (approvals, revocations, team and role changes, key epochs), one
-- chain per organisation. The service keeps them and acts on them; devices check each one.
CREATE TABLE trust_statement (
    org_id    TEXT NOT NULL,
    seq       INTEGER NOT NULL,
    statement TEXT NOT NULL,                 -- JSON of the signed statement
    PRIMARY KEY (org_id, seq)
) WITHOUT ROWID;

-- Invitations are made by an admin's device: the service keeps the hash of the code's token,
-- the organisation's root key and the binding the new device checks (it cannot forge one).
ALTER TABLE enrolment_code ADD COLUMN root_key BLOB;
ALTER TABLE enrolment_code ADD COLUMN binding BLOB;

-- Each device's ops form a hash chain per team: the last link stored, to refuse a push that
-- does not follow it.
ALTER TABLE op ADD COLUMN chain_seq INTEGER;
ALTER TABLE device_head ADD COLUMN chain_seq INTEGER NOT NULL DEFAULT 0;
ALTER TABLE device_head ADD COLUMN chain_hash BLOB;

-- Team keys wrapped to a recipient, each signed by the admin that made it (replaces key_wrap,
-- whose unsigned wraps no device accepts any more).
CREATE TABLE key_grant (
    org_id    TEXT NOT NULL,
    team_id   TEXT NOT NULL,
    epoch     INTEGER NOT NULL,
    recipient TEXT NOT NULL,
    grant_json TEXT NOT NULL,
    PRIMARY KEY (team_id, epoch, recipient)
) WITHOUT ROWID;
CREATE INDEX key_grant_by_recipient ON key_grant (org_id, recipient);

-- One-use request nonces, kept past a restart until their request's time window has passed.
CREATE TABLE request_nonce (
    device_id  TEXT NOT NULL,
    nonce      TEXT NOT NULL,
    expires_ms INTEGER NOT NULL,
    PRIMARY KEY (device_id, nonce)
) WITHOUT ROWID;
CREATE INDEX request_nonce_by_expiry ON request_nonce (expires_ms);
