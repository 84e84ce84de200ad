-- Schema 7: which copy of the storage this is. `generation` is a random id made with the
-- database and replaced whenever the operator restores it from a backup (`wardside-server
-- restore` / `mark-restored`); every reply carries it with the organisation's highest cursor,
-- so a device can tell a restored service from one that lost nothing. One row, always.
CREATE TABLE service (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    generation TEXT NOT NULL,
    changed_at TEXT NOT NULL
);
-- A random (version 4) UUID in SQL: SQLite has no function for one.
INSERT INTO service (id, generation, changed_at) VALUES (
    1,
    lower(hex(randomblob(4))) || '-' || lower(hex(randomblob(2))) || '-4' ||
        substr(lower(hex(randomblob(2))), 2) || '-' ||
        substr('89ab', 1 + (abs(random()) % 4), 1) || substr(lower(hex(randomblob(2))), 2) || '-' ||
        lower(hex(randomblob(6))),
    strftime('%Y-%m-%dT%H:%M:%SZ', 'now')
);
-- The organisation's highest cursor, read on every reply: one index step, not a scan.
CREATE INDEX op_by_org ON op (org_id, server_seq);
