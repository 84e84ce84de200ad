-- Schema 7: which copy of the storage this is (as the SQLite backend's 0007). `generation` is
-- made with the database and replaced by `wardside-server mark-restored` after a restore.
CREATE TABLE service (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    generation UUID NOT NULL,
    changed_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
INSERT INTO service (id, generation) VALUES (1, gen_random_uuid());
-- The organisation's highest cursor, read on every reply: one index step, not a scan.
CREATE INDEX op_by_org ON op (org_id, server_seq);
