-- Schema 2: organisations and their devices. A device's public keys (Ed25519 to check its
-- signatures, X25519 to wrap team keys to it), its state, and the teams whose ops it may see.
CREATE TABLE org (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE device (
    id         TEXT PRIMARY KEY,
    org_id     TEXT NOT NULL REFERENCES org (id),
    name       TEXT NOT NULL,
    sign_key   BLOB NOT NULL,
    box_key    BLOB NOT NULL,
    status     TEXT NOT NULL,            -- pending | approved | revoked
    admin      INTEGER NOT NULL,
    teams      TEXT NOT NULL,            -- JSON array of team ids
    created_at TEXT NOT NULL
);
