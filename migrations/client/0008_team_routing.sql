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

-- Ops received through one team about a person whose record another team now holds (written on
-- a laptop of the old team before it heard of the move), already carried on to that team by this
-- laptop (a laptop in both teams carries them, so the new team's members get them too).
CREATE TABLE op_forwarded (
    op_id TEXT PRIMARY KEY
) WITHOUT ROWID;
