-- Schema 5: tasks. A task that comes from a dated field (a concern's response due, a hearing,
-- a planned ward round or CPA review, a legal-status reminder) is computed when read and never
-- stored; what is stored is what a person did to it, and the tasks added by hand. Both are
-- entity tables like the others: written only through the op log, synced and merged the same
-- way (they are only ever created, so two devices never conflict over them).

-- A task added by hand ("call the solicitor back").
CREATE TABLE task (
    id      TEXT PRIMARY KEY,
    data    TEXT NOT NULL,
    case_id TEXT GENERATED ALWAYS AS (data ->> '$.case_id') VIRTUAL,
    due     TEXT GENERATED ALWAYS AS (data ->> '$.due') VIRTUAL
);
CREATE INDEX task_by_case ON task (case_id);

-- Done, snoozed (until a day, with a reason) or reopened: append-only, keyed by the task's
-- source (`activity:<id>`, `legal-event:<id>`, `reminder:<kind>:<date>`, `task:<id>`). The
-- latest in the op log's clock order is the task's state; the rest are its history.
CREATE TABLE task_update (
    id       TEXT PRIMARY KEY,
    data     TEXT NOT NULL,
    case_id  TEXT GENERATED ALWAYS AS (data ->> '$.case_id') VIRTUAL,
    task_key TEXT GENERATED ALWAYS AS (data ->> '$.key') VIRTUAL
);
CREATE INDEX task_update_by_case ON task_update (case_id, task_key);
