-- Schema 6 (issue 13).
--
-- Corrections after the fact: an activity's date, kind or typed fields changed after it was
-- saved, or a closed case reopened, each with its reason and what was there before. Append-only
-- records like any other entity (created by ops, synced), so the history survives every merge.
CREATE TABLE amendment (
    id          TEXT PRIMARY KEY,
    data        TEXT NOT NULL,
    case_id     TEXT GENERATED ALWAYS AS (data ->> '$.case_id') VIRTUAL,
    activity_id TEXT GENERATED ALWAYS AS (data ->> '$.activity_id') VIRTUAL
);
CREATE INDEX amendment_by_activity ON amendment (activity_id);
CREATE INDEX amendment_by_case ON amendment (case_id);

-- Drafts of every other form (a safeguarding event, a new client, an issue, a consent, a closing
-- form...), kept as the advocate types so that Esc, a lock or a crash loses nothing. Local to
-- this device like activity drafts: no op, never synced; saving the form deletes its draft.
CREATE TABLE form_draft (
    form_key TEXT PRIMARY KEY,               -- which form, e.g. "safeguarding:<case id>", "new-client"
    case_id  TEXT,                           -- the case it belongs to, if any
    form     TEXT NOT NULL,                  -- JSON: the form's fields as the app left them
    saved_at TEXT NOT NULL                   -- UTC, RFC 3339
) WITHOUT ROWID;
