-- Wardside server, PostgreSQL backend, schema 1 (applied by refinery). The same table as the
-- SQLite backend: sealed ops plus the routing metadata needed to route and authorise them.
CREATE TABLE op (
    server_seq   BIGSERIAL PRIMARY KEY,
    org_id       UUID NOT NULL,
    team_id      UUID NOT NULL,
    case_id      UUID,
    device_id    UUID NOT NULL,
    device_seq   BIGINT NOT NULL,
    op_id        UUID NOT NULL UNIQUE,
    content_hash BYTEA NOT NULL,
    envelope     TEXT NOT NULL,
    received_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (device_id, device_seq)
);
CREATE INDEX op_by_org_team ON op (org_id, team_id, server_seq);
