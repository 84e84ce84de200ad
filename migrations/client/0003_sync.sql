-- Schema 3: what sync needs on the device (research/sync.md §8.2). Everything here is inside
-- SQLCipher; keys are encrypted with the database key like every other page.

-- The clock of the last write to each small field: a set from another device applies only if
-- its (hlc, device) is higher (per-field last-writer-wins). A set that arrives before its
-- entity's create is remembered here and laid over the create when it comes.
CREATE TABLE field_clock (
    entity    TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    field     TEXT NOT NULL,
    hlc       TEXT NOT NULL,
    op_id     TEXT NOT NULL,
    PRIMARY KEY (entity, entity_id, field)
) WITHOUT ROWID;
-- Stores made before sync: the latest local set of each field.
INSERT INTO field_clock (entity, entity_id, field, hlc, op_id)
    SELECT entity, entity_id, field, max(hlc), op_id FROM op
    WHERE kind = 'set' AND field IS NOT NULL
    GROUP BY entity, entity_id, field;

-- Ops about one entity (deletes and resurrection look across them).
CREATE INDEX op_by_entity ON op (entity_id, kind);
-- Own ops not yet acknowledged by the server.
CREATE INDEX op_unpushed ON op (device_id, device_seq) WHERE server_seq IS NULL;

-- A version computed on every device from the same heads (a clean merge of edits that did not
-- overlap) is marked derived: it is not an op, every device computes the same one, and it is
-- replaced when the heads change.
ALTER TABLE note_version ADD COLUMN derived INTEGER NOT NULL DEFAULT 0;

-- Notes whose versions have more than one head that could not be merged: both texts are kept
-- and shown until someone writes a version with both as parents.
CREATE TABLE note_conflict (
    note_id  TEXT PRIMARY KEY,
    heads    TEXT NOT NULL,                 -- JSON array of version ids
    found_at TEXT NOT NULL
) WITHOUT ROWID;

-- Things a person should look at after a sync: a local edit another device overwrote, an entry
-- deleted on one device and edited on another.
CREATE TABLE sync_inbox (
    id        INTEGER PRIMARY KEY,
    kind      TEXT NOT NULL,                -- overwritten | resurrected
    entity    TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    field     TEXT,
    lost_op   TEXT,                         -- the local op that lost (still in op)
    won_op    TEXT,                         -- the op that won
    at        TEXT NOT NULL,
    dismissed INTEGER NOT NULL DEFAULT 0
);

-- Ops received but not applied yet: sealed with a team key this device does not have, written
-- by a newer version of Wardside, or about an entity not seen yet. Kept, never dropped; tried
-- again on every sync.
CREATE TABLE op_held (
    op_id      TEXT PRIMARY KEY,
    server_seq INTEGER NOT NULL,
    device_id  TEXT NOT NULL,
    device_seq INTEGER NOT NULL,
    reason     TEXT NOT NULL,               -- no-key | newer-schema
    envelope   TEXT NOT NULL                -- the sealed op as received (JSON)
) WITHOUT ROWID;

-- Sync identity and keys: this device's Ed25519 (PKCS#8) and X25519 secrets, team keys by
-- epoch, the organisation's recovery public key. A passphrase change rewraps the database key
-- only; none of these changes.
CREATE TABLE sync_secret (
    name  TEXT PRIMARY KEY,
    value BLOB NOT NULL
) WITHOUT ROWID;

CREATE TABLE team_key (
    team_id TEXT NOT NULL,
    epoch   INTEGER NOT NULL,
    secret  BLOB NOT NULL,
    PRIMARY KEY (team_id, epoch)
) WITHOUT ROWID;

-- The organisation's devices as the service listed them: their public keys check the
-- signature on every op they sent, and an admin wraps team keys to their X25519 keys.
CREATE TABLE peer (
    device_id TEXT PRIMARY KEY,
    name      TEXT NOT NULL,
    sign_key  BLOB NOT NULL,
    box_key   BLOB NOT NULL,
    status    TEXT NOT NULL,
    admin     INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;

-- Who made an op, for its sealed content (found by op id when pushing).
CREATE INDEX audit_by_op ON audit (op_id) WHERE op_id IS NOT NULL;

-- How many ops of each other device this store holds (applied or held), kept as they arrive:
-- compared with the service's counts to find a hole without counting the whole log.
CREATE TABLE received_count (
    device_id TEXT PRIMARY KEY,
    ops       INTEGER NOT NULL
) WITHOUT ROWID;
