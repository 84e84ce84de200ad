-- Schema 2: drafts of new activities, autosaved while the advocate types, so a crash, a lock or
-- a flat battery loses nothing. One draft per case on this device. Local only: a draft is not a
-- record until it is saved, so it writes no op and is never synced; saving the activity deletes
-- it in the same transaction. Inside SQLCipher like everything else.
CREATE TABLE draft (
    case_id  TEXT PRIMARY KEY,
    form     TEXT NOT NULL,                 -- JSON: the form's fields as the app left them
    body     TEXT NOT NULL,                 -- the note text typed so far
    saved_at TEXT NOT NULL                  -- UTC, RFC 3339
) WITHOUT ROWID;
