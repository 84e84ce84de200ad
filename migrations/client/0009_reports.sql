-- Schema 9: commissioners' returns.

-- A commissioner's contract: the periods, measures and targets a manager set on this laptop
-- (names of authorities and numbers only; nothing about anyone). `key` is the name as
-- `report::commissioner_key` compares it (any letter case, spaces collapsed: SQLite's NOCASE
-- knows only ASCII); `data` is the domain's `report::contract::Contract` as JSON.
CREATE TABLE contract (
    key  TEXT PRIMARY KEY,
    data TEXT NOT NULL
) WITHOUT ROWID;

-- What an audit entry that is about no record says it did: for a return, the commissioner, the
-- period, the formats and the suppression (never a number from it).
ALTER TABLE audit ADD COLUMN detail TEXT;

-- "Z" (not stated) was the default ethnic category before schema 9, so a person whose equality
-- monitoring was never answered was counted as having chosen not to say. Where nothing else in
-- it was answered either, it was never asked: "99" (not known). A person asked and declining now
-- gets Z by choice.
UPDATE client
   SET data = json_set(data, '$.equality.ethnic_category', '99')
 WHERE json_extract(data, '$.equality.ethnic_category') = 'Z'
   AND json_extract(data, '$.equality.gender') IS NULL
   AND json_extract(data, '$.equality.gender_reassignment') IS NULL
   AND json_extract(data, '$.equality.sexual_orientation') IS NULL
   AND json_extract(data, '$.equality.religion') IS NULL
   AND json_extract(data, '$.equality.disability') IS NULL
   AND json_extract(data, '$.equality.marital_status') IS NULL
   AND json_extract(data, '$.equality.pregnancy_or_maternity') IS NULL;
