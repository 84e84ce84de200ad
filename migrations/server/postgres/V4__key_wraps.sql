-- Schema 4: team epoch keys wrapped to each recipient (as the SQLite backend's 0004).
CREATE TABLE key_wrap (
    org_id    UUID NOT NULL,
    team_id   UUID NOT NULL,
    epoch     BIGINT NOT NULL,
    recipient UUID NOT NULL,
    wrapped   TEXT NOT NULL,
    PRIMARY KEY (team_id, epoch, recipient)
);
CREATE INDEX key_wrap_by_recipient ON key_wrap (recipient);
