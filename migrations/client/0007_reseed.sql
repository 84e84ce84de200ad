-- Schema 7: what a device needs to give back ops the service lost (a restore of the service
-- from an older backup). Every op received from another device is kept with the parts of its
-- envelope that cannot be made again from the op itself: where it was sealed (organisation,
-- case, key epoch, chain link), its nonce, content hash and its author's signature. Sealing its
-- content again under the same key and nonce gives the same bytes (AES-GCM is deterministic
-- given both), so any device holding it can hand it back exactly as its author signed it: the
-- service checks the author's signature as it did the first time, and every device the chain
-- link. Ops received before this schema were not kept (their authors still give them back).
CREATE TABLE op_envelope (
    op_id        TEXT PRIMARY KEY,
    device_id    TEXT NOT NULL,
    team_id      TEXT NOT NULL,
    chain_seq    INTEGER NOT NULL,
    chain_prev   BLOB NOT NULL,
    org_id       TEXT NOT NULL,
    case_id      TEXT,
    epoch        INTEGER NOT NULL,
    nonce        BLOB NOT NULL,
    content_hash BLOB NOT NULL,
    signature    BLOB NOT NULL,
    reseen       INTEGER NOT NULL DEFAULT 1   -- 0: not handed out again since a restore was found
) WITHOUT ROWID;
CREATE INDEX op_envelope_unseen ON op_envelope (device_id, team_id, chain_seq) WHERE reseen = 0;
