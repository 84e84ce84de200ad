-- Schema 4: trust nothing the service says (docs/THREAT-MODEL.md).

-- The organisation's trust log as this device checked it, statement by statement, from the
-- root key it pinned at enrolment. Devices, roles, teams and key epochs come from here.
CREATE TABLE trust_statement (
    seq       INTEGER PRIMARY KEY,
    statement TEXT NOT NULL                   -- JSON of the signed statement
);

-- How each of this device's ops was sealed, so that sending it again gives the same bytes (the
-- next op's chain link names its content hash): team, epoch, place in the chain, nonce. An op
-- is `confirmed` once the service has handed it back; `resent` counts how often it had to be
-- sent again because the service lost it.
CREATE TABLE own_seal (
    op_id        TEXT PRIMARY KEY,
    device_id    TEXT NOT NULL,
    team_id      TEXT NOT NULL,
    epoch        INTEGER NOT NULL,
    chain_seq    INTEGER NOT NULL,
    prev         BLOB NOT NULL,
    nonce        BLOB NOT NULL,
    content_hash BLOB NOT NULL,
    confirmed    INTEGER NOT NULL DEFAULT 0,
    resent       INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE UNIQUE INDEX own_seal_by_chain ON own_seal (device_id, team_id, chain_seq);

-- Every other device's chain of ops in each team, as received: how far it is complete (each
-- link checked) and the highest place seen. More seen than complete is a gap.
CREATE TABLE peer_chain (
    device_id  TEXT NOT NULL,
    team_id    TEXT NOT NULL,
    contiguous INTEGER NOT NULL,
    hash       BLOB NOT NULL,
    max_seq    INTEGER NOT NULL,
    PRIMARY KEY (device_id, team_id)
) WITHOUT ROWID;

-- Ops that arrived ahead of a missing one: their links, checked when the gap is filled.
CREATE TABLE chain_pending (
    device_id TEXT NOT NULL,
    team_id   TEXT NOT NULL,
    seq       INTEGER NOT NULL,
    hash      BLOB NOT NULL,
    prev      BLOB NOT NULL,
    PRIMARY KEY (device_id, team_id, seq)
) WITHOUT ROWID;

-- Links that did not match when a gap was filled: the sending device signed two histories.
CREATE TABLE chain_break (
    device_id TEXT NOT NULL,
    team_id   TEXT NOT NULL,
    seq       INTEGER NOT NULL,
    found_at  TEXT NOT NULL,
    PRIMARY KEY (device_id, team_id, seq)
) WITHOUT ROWID;

-- What the last sync found that a person must know about (by device and sequence, never
-- content): gaps that a re-read did not fill, tampered or forked ops, ops from devices no admin
-- approved, changes of this laptop's the service lost, a trust log the service altered.
CREATE TABLE sync_problem (
    id       INTEGER PRIMARY KEY,
    kind     TEXT NOT NULL,
    device_id TEXT,
    team_id  TEXT,
    seq_from INTEGER,
    seq_to   INTEGER,
    count    INTEGER NOT NULL DEFAULT 1,
    detail   TEXT NOT NULL
);

-- Held ops: where they sit in their sender's chain (for those proved to be the sender's), and
-- whether they were proved at all (an op that failed its checks is kept as evidence, bounded).
ALTER TABLE op_held ADD COLUMN team_id TEXT;
ALTER TABLE op_held ADD COLUMN chain_seq INTEGER;
ALTER TABLE op_held ADD COLUMN verified INTEGER NOT NULL DEFAULT 1;

-- Replaced: other devices' keys come from the trust log (never the service's list), and their
-- chains say what has arrived (never counts).
DROP TABLE peer;
DROP TABLE received_count;

-- Seals not yet confirmed are few: an index of them alone keeps looking for lost ops cheap.
CREATE INDEX own_seal_unconfirmed ON own_seal (device_id, team_id) WHERE confirmed = 0;
-- How many of this device's ops in each team the service has handed back, kept as they are
-- confirmed (compared with the service's count at every sync without counting the seals).
CREATE TABLE own_tally (
    device_id TEXT NOT NULL,
    team_id   TEXT NOT NULL,
    confirmed INTEGER NOT NULL,
    PRIMARY KEY (device_id, team_id)
) WITHOUT ROWID;
