-- Schema 4: team epoch keys wrapped to each recipient (a device, or the organisation's recovery
-- key). The server keeps them and hands each device its own; it cannot open them.
CREATE TABLE key_wrap (
    org_id    TEXT NOT NULL,
    team_id   TEXT NOT NULL,
    epoch     INTEGER NOT NULL,
    recipient TEXT NOT NULL,
    wrapped   TEXT NOT NULL,              -- JSON of the WrappedKey
    PRIMARY KEY (team_id, epoch, recipient)
);
CREATE INDEX key_wrap_by_recipient ON key_wrap (recipient);
