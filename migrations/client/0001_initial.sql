-- Wardside client store, schema 1. Lives inside SQLCipher: every page, the WAL and the FTS
-- index are encrypted with the database key.
--
-- Entity tables hold the domain record as JSON in `data` (exactly what the op log carries),
-- with generated columns for what is filtered, joined or sorted on. Ops and audit entries are
-- append-only.

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;

-- Every local change, in order, as it will be sealed and sent by sync.
CREATE TABLE op (
    seq        INTEGER PRIMARY KEY,           -- local order of arrival
    op_id      TEXT NOT NULL UNIQUE,
    device_id  TEXT NOT NULL,
    device_seq INTEGER NOT NULL,              -- 1, 2, 3 ... per device, no gaps
    hlc        TEXT NOT NULL,                 -- hybrid logical clock, sortable text
    entity     TEXT NOT NULL,
    entity_id  TEXT NOT NULL,
    kind       TEXT NOT NULL,                 -- create | set | note-version | delete
    field      TEXT,                          -- for set
    payload    TEXT NOT NULL,                 -- JSON
    schema_v   INTEGER NOT NULL,
    server_seq INTEGER,                       -- set once the server acknowledges it
    UNIQUE (device_id, device_seq)
);

-- Who did what, when, on which device. Never content: ids and actions only.
CREATE TABLE audit (
    id        INTEGER PRIMARY KEY,
    at        TEXT NOT NULL,                  -- UTC, RFC 3339
    device_id TEXT NOT NULL,
    actor     TEXT NOT NULL,
    action    TEXT NOT NULL,                  -- create | update | amend | delete | view | search | export ...
    entity    TEXT NOT NULL,
    entity_id TEXT,
    client_id TEXT,
    case_id   TEXT,
    op_id     TEXT
);
CREATE INDEX audit_by_case ON audit (case_id, id) WHERE case_id IS NOT NULL;
-- Client-level entries only: a case's entries are found through audit_by_case, and each audited
-- read then writes one index page fewer.
CREATE INDEX audit_by_client ON audit (client_id, id) WHERE case_id IS NULL AND client_id IS NOT NULL;

CREATE TABLE team (
    id   TEXT PRIMARY KEY,
    data TEXT NOT NULL
);

CREATE TABLE advocate (
    id   TEXT PRIMARY KEY,
    data TEXT NOT NULL
);

CREATE TABLE client (
    id       TEXT PRIMARY KEY,
    data     TEXT NOT NULL,
    name     TEXT GENERATED ALWAYS AS (data ->> '$.name') VIRTUAL,
    hospital TEXT GENERATED ALWAYS AS (data ->> '$.hospital') VIRTUAL,
    ward     TEXT GENERATED ALWAYS AS (data ->> '$.ward') VIRTUAL
);
CREATE INDEX client_by_name ON client (name COLLATE NOCASE, id);

CREATE TABLE legal_event (
    id        TEXT PRIMARY KEY,
    data      TEXT NOT NULL,
    client_id TEXT GENERATED ALWAYS AS (data ->> '$.client_id') VIRTUAL,
    on_date   TEXT GENERATED ALWAYS AS (data ->> '$.on') VIRTUAL,
    event     TEXT GENERATED ALWAYS AS (data ->> '$.event') VIRTUAL,
    status    TEXT GENERATED ALWAYS AS (data ->> '$.status') VIRTUAL
);
CREATE INDEX legal_event_by_client ON legal_event (client_id, on_date);

CREATE TABLE relative (
    id        TEXT PRIMARY KEY,
    data      TEXT NOT NULL,
    client_id TEXT GENERATED ALWAYS AS (data ->> '$.client_id') VIRTUAL
);
CREATE INDEX relative_by_client ON relative (client_id);

CREATE TABLE consent (
    id        TEXT PRIMARY KEY,
    data      TEXT NOT NULL,
    client_id TEXT GENERATED ALWAYS AS (data ->> '$.client_id') VIRTUAL,
    on_date   TEXT GENERATED ALWAYS AS (data ->> '$.on') VIRTUAL
);
CREATE INDEX consent_by_client ON consent (client_id, on_date);

CREATE TABLE referral (
    id        TEXT PRIMARY KEY,
    data      TEXT NOT NULL,
    client_id TEXT GENERATED ALWAYS AS (data ->> '$.client_id') VIRTUAL
);
CREATE INDEX referral_by_client ON referral (client_id);

CREATE TABLE kase (
    id          TEXT PRIMARY KEY,
    data        TEXT NOT NULL,
    client_id   TEXT GENERATED ALWAYS AS (data ->> '$.client_id') VIRTUAL,
    opened_on   TEXT GENERATED ALWAYS AS (data ->> '$.opened_on') VIRTUAL,
    closed_on   TEXT GENERATED ALWAYS AS (data ->> '$.closed.on') VIRTUAL,
    advocate_id TEXT GENERATED ALWAYS AS (data ->> '$.advocate_id') VIRTUAL
);
CREATE INDEX kase_by_client ON kase (client_id, closed_on);

CREATE TABLE issue (
    id      TEXT PRIMARY KEY,
    data    TEXT NOT NULL,
    case_id TEXT GENERATED ALWAYS AS (data ->> '$.case_id') VIRTUAL
);
CREATE INDEX issue_by_case ON issue (case_id);

CREATE TABLE safeguarding (
    id      TEXT PRIMARY KEY,
    data    TEXT NOT NULL,
    case_id TEXT GENERATED ALWAYS AS (data ->> '$.case_id') VIRTUAL
);
CREATE INDEX safeguarding_by_case ON safeguarding (case_id);

-- The timeline. The note text is not here: it lives in note_version, one row per save.
CREATE TABLE activity (
    id      TEXT PRIMARY KEY,
    data    TEXT NOT NULL,
    head    INTEGER,                            -- rowid of the current note_version (local)
    deleted INTEGER NOT NULL DEFAULT 0,
    case_id TEXT GENERATED ALWAYS AS (data ->> '$.case_id') VIRTUAL,
    at      TEXT GENERATED ALWAYS AS (data ->> '$.at') VIRTUAL
);
CREATE INDEX activity_by_case ON activity (case_id, at) WHERE deleted = 0;

-- Long text, versioned: a save never overwrites, an amendment keeps the history.
CREATE TABLE note_version (
    rowid      INTEGER PRIMARY KEY,
    version_id TEXT NOT NULL UNIQUE,
    note_id    TEXT NOT NULL,                   -- the activity the note belongs to
    parents    TEXT NOT NULL,                   -- JSON array of version ids (a DAG, for sync)
    body       TEXT NOT NULL,
    reason     TEXT,                            -- why it was amended
    author     TEXT NOT NULL,
    device_id  TEXT NOT NULL,
    hlc        TEXT NOT NULL,
    saved_at   TEXT NOT NULL
);
CREATE INDEX note_version_by_note ON note_version (note_id, rowid);

-- Full-text search over the current version of each note, inside the encrypted file.
CREATE VIRTUAL TABLE note_fts USING fts5 (
    body,
    content = 'note_version',
    content_rowid = 'rowid',
    tokenize = 'unicode61 remove_diacritics 2'
);
