-- Wardside server, SQLite backend, schema 1. The server stores sealed ops and the routing
-- metadata it needs to route and authorise them; it can read nothing else.

-- Every accepted op, append-only. server_seq is the pull cursor: assigned in the transaction
-- that stores the batch, never reused (AUTOINCREMENT).
CREATE TABLE op (
    server_seq   INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id       TEXT NOT NULL,
    team_id      TEXT NOT NULL,
    case_id      TEXT,
    device_id    TEXT NOT NULL,
    device_seq   INTEGER NOT NULL,
    op_id        TEXT NOT NULL UNIQUE,
    content_hash BLOB NOT NULL,
    envelope     TEXT NOT NULL,           -- the envelope as pushed (JSON; content sealed)
    received_at  TEXT NOT NULL,
    UNIQUE (device_id, device_seq)
);
CREATE INDEX op_by_org_team ON op (org_id, team_id, server_seq);
