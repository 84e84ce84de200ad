-- Schema 2: organisations and their devices (as the SQLite backend's 0002).
CREATE TABLE org (
    id         UUID PRIMARY KEY,
    name       TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE TABLE device (
    id         UUID PRIMARY KEY,
    org_id     UUID NOT NULL REFERENCES org (id),
    name       TEXT NOT NULL,
    sign_key   BYTEA NOT NULL,
    box_key    BYTEA NOT NULL,
    status     TEXT NOT NULL,
    admin      BOOLEAN NOT NULL,
    teams      UUID[] NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
