-- Schema 8: every op goes to one team of the organisation, the team holding the person it is
-- about (client.team), or this device's own team (NULL: the device's first team, as every op
-- made before this schema). Kept with the op so an op made offline goes where it was written for
-- even if the person's record moves on before it is sent.
ALTER TABLE op ADD COLUMN team_id TEXT;

-- Ops that arrived inside a move of a person's record to another team (a `transfer` op, sealed
-- for the new team by the device that moved it), not from their authors' own chains. If one of
-- them arrives later from its author's chain too (this device is in both teams), it takes its
-- place in that chain then.
CREATE TABLE op_via_transfer (
    op_id TEXT PRIMARY KEY
) WITHOUT ROWID;
