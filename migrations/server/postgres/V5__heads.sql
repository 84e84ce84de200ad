-- Schema 5: per (organisation, team, device), the highest sequence and how many ops are stored,
-- kept in the push transaction, so the heads check reads a few rows instead of the whole log.
CREATE TABLE device_head (
    org_id    UUID NOT NULL,
    team_id   UUID NOT NULL,
    device_id UUID NOT NULL,
    max_seq   BIGINT NOT NULL,
    ops       BIGINT NOT NULL,
    PRIMARY KEY (org_id, team_id, device_id)
);
INSERT INTO device_head (org_id, team_id, device_id, max_seq, ops)
    SELECT org_id, team_id, device_id, max(device_seq), count(*) FROM op GROUP BY org_id, team_id, device_id;
