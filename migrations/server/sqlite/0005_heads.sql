-- Schema 5: per (organisation, team, device), the highest sequence and how many ops are stored,
-- kept in the push transaction, so the heads check reads a few rows instead of the whole log.
CREATE TABLE device_head (
    org_id    TEXT NOT NULL,
    team_id   TEXT NOT NULL,
    device_id TEXT NOT NULL,
    max_seq   INTEGER NOT NULL,
    ops       INTEGER NOT NULL,
    PRIMARY KEY (org_id, team_id, device_id)
) WITHOUT ROWID;
INSERT INTO device_head (org_id, team_id, device_id, max_seq, ops)
    SELECT org_id, team_id, device_id, max(device_seq), count(*) FROM op GROUP BY org_id, team_id, device_id;
