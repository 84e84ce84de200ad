//! Applying an op to the tables, the same way on every device whatever order ops arrive in
//! (research/sync.md §8.4):
//!
//! - **Small fields**: last writer wins per field by `(hlc, device)`. The HLC text ends with the
//!   device, so comparing the text compares both. A set that loses is kept in the op log; if it
//!   was this device's own edit and the winner could not have seen it, the inbox says so.
//! - **Notes**: every save is a version with its parents. One head is the text. Several heads
//!   whose edits do not overlap merge line by line into a *derived* version every device
//!   computes identically (no op); edits that overlap are a conflict: both texts kept and shown
//!   until a version with both as parents resolves it.
//! - **Deletes** (timeline entries): a delete records the newest clock its device had seen on
//!   the entry. An edit the deleter had not seen wins: the entry comes back, flagged.

use crate::error::{Result, StoreError};
use crate::write::{Entity, NoteVersionPayload, Op, OpKind};
use rusqlite::{OptionalExtension, Transaction, params};
use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use uuid::Uuid;

/// Who wrote an op and where it stands, as far as merging needs to know.
#[derive(Debug, Clone, Copy)]
pub(crate) struct OpMeta<'a> {
    pub op_id: &'a str,
    pub hlc: &'a str,
    pub device_id: &'a str,
    /// This device wrote it just now (it wins by construction: its clock is past everything seen).
    pub local: bool,
    /// The server cursor of a received op.
    pub server_seq: Option<i64>,
    /// This device's id, to recognise its own earlier edits.
    pub this_device: &'a str,
    /// The store's clock now (RFC 3339), for when an inbox entry or a conflict was found.
    pub now: &'a str,
}

/// What applying ops turned up that a person should see.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Effects {
    /// New inbox entries (an overwritten local edit, an entry deleted and edited).
    pub inbox: usize,
    /// Notes that became conflicted.
    pub conflicts: usize,
}

impl std::ops::AddAssign for Effects {
    fn add_assign(&mut self, o: Effects) {
        self.inbox += o.inbox;
        self.conflicts += o.conflicts;
    }
}

/// Order two HLCs by their decoded values (wall clock, counter, then device), never as text.
/// Every clock this store holds has the one exact fixed-width form (its own are written so; a
/// received op with any other form is held, never applied), so the SQL here, which compares
/// the stored text, agrees with this order.
pub(crate) fn hlc_order(a: &str, b: &str) -> std::cmp::Ordering {
    let key = |s: &str| {
        crate::clock::Hlc::decode(s).map(|h| {
            (
                h.wall_ms,
                h.counter,
                s.splitn(3, '-').nth(2).unwrap_or("").to_owned(),
            )
        })
    };
    match (key(a), key(b)) {
        (Some(x), Some(y)) => x.cmp(&y),
        // Unreadable text sorts first: it can never win a merge.
        (None, Some(_)) => std::cmp::Ordering::Less,
        (Some(_), None) => std::cmp::Ordering::Greater,
        (None, None) => a.cmp(b),
    }
}

/// Namespace of derived (merged) note version ids: `v5(NS, sorted head ids)`.
const MERGE_NS: Uuid = Uuid::from_u128(0x5741_5244_5349_4445_4d45_5247_4500_0001);

pub(crate) fn apply(tx: &Transaction<'_>, op: &Op, m: OpMeta<'_>) -> Result<Effects> {
    let id = op.entity_id.to_string();
    let mut fx = Effects::default();
    match op.kind {
        OpKind::Create => {
            let Value::Object(mut data) = op.payload.clone() else {
                return Err(StoreError::Corrupt("a create op is not an object".into()));
            };
            // Sets that arrived before this create and are newer than it win.
            let newer: Vec<(String, String)> = tx
                .prepare_cached(
                    "SELECT field, op_id FROM field_clock WHERE entity = ?1 AND entity_id = ?2 AND hlc > ?3",
                )?
                .query_map(params![op.entity.name(), id, m.hlc], |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })?
                .collect::<rusqlite::Result<_>>()?;
            for (field, op_id) in newer {
                let payload: String = tx
                    .prepare_cached("SELECT payload FROM op WHERE op_id = ?1")?
                    .query_row([&op_id], |r| r.get(0))?;
                set_field(&mut data, &field, &serde_json::from_str(&payload)?);
            }
            let sql = format!(
                "INSERT INTO {} (id, data) VALUES (?1, ?2)",
                op.entity.table()
            );
            tx.prepare_cached(&sql)?
                .execute(params![id, serde_json::to_string(&data)?])?;
            if op.entity == Entity::Activity && !m.local {
                fx += refresh_note(tx, op.entity_id, m.now)?;
                fx += refresh_deletion(tx, op.entity_id, m.now)?;
            }
        }
        OpKind::Set => {
            let field = op
                .field
                .as_deref()
                .ok_or_else(|| StoreError::Corrupt("set op without a field".into()))?;
            let current: Option<(String, String)> = tx
                .prepare_cached(
                    "SELECT hlc, op_id FROM field_clock WHERE entity = ?1 AND entity_id = ?2 AND field = ?3",
                )?
                .query_row(params![op.entity.name(), id, field], |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })
                .optional()?;
            if let Some((hlc, loser)) = &current {
                if hlc_order(hlc, m.hlc) != std::cmp::Ordering::Less {
                    // An older write, or one already applied: the op log keeps it.
                    if !m.local {
                        fx.inbox += overwritten_if_own(tx, op, field, &m, loser, true)?;
                    }
                    return Ok(fx);
                }
                if !m.local {
                    fx.inbox += overwritten_if_own(tx, op, field, &m, loser, false)?;
                }
            }
            tx.prepare_cached(
                "INSERT INTO field_clock (entity, entity_id, field, hlc, op_id) VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (entity, entity_id, field) DO UPDATE SET hlc = excluded.hlc, op_id = excluded.op_id",
            )?
            .execute(params![op.entity.name(), id, field, m.hlc, m.op_id])?;
            let sql = format!("SELECT data FROM {} WHERE id = ?1", op.entity.table());
            let data: Option<String> = tx
                .prepare_cached(&sql)?
                .query_row([&id], |r| r.get(0))
                .optional()?;
            // No row yet: the create has not arrived; it will pick this value up.
            if let Some(data) = data {
                let Value::Object(mut data) = serde_json::from_str(&data)? else {
                    return Err(StoreError::Corrupt("record is not an object".into()));
                };
                set_field(&mut data, field, &op.payload);
                let sql = format!("UPDATE {} SET data = ?2 WHERE id = ?1", op.entity.table());
                tx.prepare_cached(&sql)?
                    .execute(params![id, serde_json::to_string(&data)?])?;
            }
            if op.entity == Entity::Activity {
                fx += refresh_deletion(tx, op.entity_id, m.now)?;
            }
        }
        OpKind::NoteVersion => {
            let v: NoteVersionPayload = serde_json::from_value(op.payload.clone())?;
            let note_id = v.note_id.to_string();
            tx.prepare_cached(
                "INSERT INTO note_version (version_id, note_id, parents, body, reason, author, device_id, hlc, saved_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )?
            .execute(params![v.version_id.to_string(), note_id, serde_json::to_string(&v.parents)?, v.body, v.reason, v.author, m.device_id, m.hlc, v.saved_at])?;
            fx += refresh_note(tx, v.note_id, m.now)?;
            // Every device decides deletion from the same ops, its own edits included.
            fx += refresh_deletion(tx, v.note_id, m.now)?;
        }
        OpKind::Delete | OpKind::Restore => {
            fx += refresh_deletion(tx, op.entity_id, m.now)?;
        }
        // The history it carries is applied op by op where it is received
        // (`sync::receive`); the device that made it holds all of it already.
        OpKind::Transfer => {}
    }
    Ok(fx)
}

/// A received set met this device's own edit of the same field. If the received one could not
/// have known about ours (ours was not yet on the server when it got there) and one of them
/// lost, the owner of the losing local edit is told.
fn overwritten_if_own(
    tx: &Transaction<'_>,
    op: &Op,
    field: &str,
    m: &OpMeta<'_>,
    current_op: &str,
    received_lost: bool,
) -> Result<usize> {
    if received_lost {
        return Ok(0);
    }
    let own: Option<Option<i64>> = tx
        .prepare_cached("SELECT server_seq FROM op WHERE op_id = ?1 AND device_id = ?2")?
        .query_row(params![current_op, m.this_device], |r| r.get(0))
        .optional()?;
    let concurrent = match (own, m.server_seq) {
        (None, _) => false,
        (Some(None), _) => true,
        (Some(Some(ours)), Some(theirs)) => theirs < ours,
        (Some(Some(_)), None) => false,
    };
    if !concurrent {
        return Ok(0);
    }
    inbox(
        tx,
        "overwritten",
        op.entity,
        op.entity_id,
        Some(field),
        Some(current_op),
        Some(m.op_id),
        m.now,
    )?;
    Ok(1)
}

#[allow(clippy::too_many_arguments)] // one row's columns, named at each call
fn inbox(
    tx: &Transaction<'_>,
    kind: &str,
    entity: Entity,
    id: Uuid,
    field: Option<&str>,
    lost: Option<&str>,
    won: Option<&str>,
    now: &str,
) -> Result<()> {
    tx.prepare_cached(
        "INSERT INTO sync_inbox (kind, entity, entity_id, field, lost_op, won_op, at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![
        kind,
        entity.name(),
        id.to_string(),
        field,
        lost,
        won,
        now
    ])?;
    Ok(())
}

pub(crate) fn set_field(data: &mut Map<String, Value>, field: &str, value: &Value) {
    if value.is_null() {
        data.remove(field);
    } else {
        data.insert(field.to_owned(), value.clone());
    }
}

/// Whether a timeline entry is deleted, from its ops alone: deleted when some delete had seen
/// every edit and restore made to it. An edit the deleter had not seen brings it back, flagged.
pub(crate) fn refresh_deletion(tx: &Transaction<'_>, id: Uuid, now: &str) -> Result<Effects> {
    let key = id.to_string();
    let ever_deleted = tx
        .prepare_cached("SELECT 1 FROM op WHERE entity_id = ?1 AND kind = 'delete'")?
        .exists([&key])?;
    if !ever_deleted {
        return Ok(Effects::default());
    }
    let (seen, edited, restored): (Option<String>, Option<String>, Option<String>) = tx
        .prepare_cached(
            "SELECT max(iif(kind = 'delete', payload ->> '$.seen', NULL)),
                    max(iif(kind IN ('create', 'set', 'note-version'), hlc, NULL)),
                    max(iif(kind = 'restore', hlc, NULL))
             FROM op WHERE entity_id = ?1",
        )?
        .query_row([&key], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
    let Some(seen) = seen else {
        return Ok(Effects::default());
    };
    let edited = edited.unwrap_or_default();
    let latest = edited.clone().max(restored.unwrap_or_default());
    let deleted = seen >= latest;
    let was: Option<bool> = tx
        .prepare_cached("SELECT deleted FROM activity WHERE id = ?1")?
        .query_row([&key], |r| r.get(0))
        .optional()?;
    let Some(was) = was else {
        return Ok(Effects::default());
    };
    if was != deleted {
        tx.prepare_cached("UPDATE activity SET deleted = ?2 WHERE id = ?1")?
            .execute(params![key, deleted])?;
    }
    let mut fx = Effects::default();
    if !deleted && edited > seen {
        let flagged: bool = tx
            .prepare_cached(
                "SELECT 1 FROM sync_inbox WHERE kind = 'resurrected' AND entity_id = ?1",
            )?
            .exists([&key])?;
        if !flagged {
            inbox(
                tx,
                "resurrected",
                Entity::Activity,
                id,
                None,
                None,
                None,
                now,
            )?;
            fx.inbox += 1;
        }
    }
    Ok(fx)
}

#[derive(Debug, Clone)]
struct Version {
    rowid: i64,
    id: String,
    parents: Vec<String>,
    body: String,
    hlc: String,
    saved_at: String,
    derived: bool,
}

/// The heads of a note's version graph (derived versions aside), oldest id first.
pub(crate) fn note_heads(tx: &rusqlite::Connection, note: Uuid) -> Result<Vec<String>> {
    let versions = versions_of(tx, note)?;
    Ok(heads(&versions).into_iter().map(|v| v.id.clone()).collect())
}

fn versions_of(tx: &rusqlite::Connection, note: Uuid) -> Result<Vec<Version>> {
    let mut stmt = tx.prepare_cached(
        "SELECT rowid, version_id, parents, body, hlc, saved_at, derived FROM note_version WHERE note_id = ?1 ORDER BY rowid",
    )?;
    let rows = stmt.query_map([note.to_string()], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, String>(3)?,
            r.get::<_, String>(4)?,
            r.get::<_, String>(5)?,
            r.get::<_, bool>(6)?,
        ))
    })?;
    rows.map(|row| {
        let (rowid, id, parents, body, hlc, saved_at, derived) = row?;
        Ok(Version {
            rowid,
            id,
            parents: serde_json::from_str(&parents)?,
            body,
            hlc,
            saved_at,
            derived,
        })
    })
    .collect()
}

fn heads(versions: &[Version]) -> Vec<&Version> {
    let parents: BTreeSet<&str> = versions
        .iter()
        .filter(|v| !v.derived)
        .flat_map(|v| v.parents.iter().map(String::as_str))
        .collect();
    let mut heads: Vec<&Version> = versions
        .iter()
        .filter(|v| !v.derived && !parents.contains(v.id.as_str()))
        .collect();
    heads.sort_by(|a, b| a.id.cmp(&b.id));
    heads
}

/// Make `new` (rowid, text) the entry's shown version in place of `old`, keeping the search
/// index to the shown text only.
fn move_head(
    tx: &Transaction<'_>,
    note_key: &str,
    old: Option<(i64, &str)>,
    new: Option<(i64, &str)>,
) -> Result<()> {
    if let Some((rowid, body)) = old {
        tx.prepare_cached(
            "INSERT INTO note_fts (note_fts, rowid, body) VALUES ('delete', ?1, ?2)",
        )?
        .execute(params![rowid, body])?;
    }
    if let Some((rowid, body)) = new {
        tx.prepare_cached("INSERT INTO note_fts (rowid, body) VALUES (?1, ?2)")?
            .execute(params![rowid, body])?;
    }
    tx.prepare_cached("UPDATE activity SET head = ?2 WHERE id = ?1")?
        .execute(params![note_key, new.map(|(r, _)| r)])?;
    Ok(())
}

/// Point the entry at the text to show: its one head, a clean merge of several, or (in
/// conflict) the newest head, with the conflict recorded. Keeps the search index in step.
pub(crate) fn refresh_note(tx: &Transaction<'_>, note: Uuid, now: &str) -> Result<Effects> {
    let key = note.to_string();
    let current: Option<Option<i64>> = tx
        .prepare_cached("SELECT head FROM activity WHERE id = ?1")?
        .query_row([&key], |r| r.get(0))
        .optional()?;
    // The entry has not arrived yet: its create will come back here.
    let Some(current) = current else {
        return Ok(Effects::default());
    };
    // The common case, a save on top of the one head (or the first save): that save is the head.
    let newest: Option<(i64, String, String)> = tx
        .prepare_cached(
            "SELECT rowid, parents, body FROM note_version WHERE note_id = ?1 AND derived = 0 ORDER BY rowid DESC LIMIT 1",
        )?
        .query_row([&key], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()?;
    if let Some((rowid, parents, body)) = &newest {
        let head_id: Option<String> = match current {
            Some(h) => tx
                .prepare_cached(
                    "SELECT version_id FROM note_version WHERE rowid = ?1 AND derived = 0",
                )?
                .query_row([h], |r| r.get(0))
                .optional()?,
            None => None,
        };
        let linear = match (&head_id, current) {
            (None, None) => parents == "[]",
            (Some(h), Some(_)) => *parents == serde_json::to_string(&[h])?,
            _ => false,
        };
        let conflicted: bool = tx
            .prepare_cached("SELECT 1 FROM note_conflict WHERE note_id = ?1")?
            .exists([&key])?;
        if linear && !conflicted && Some(*rowid) != current {
            let old = match current {
                Some(h) => Some((
                    h,
                    tx.prepare_cached("SELECT body FROM note_version WHERE rowid = ?1")?
                        .query_row([h], |r| r.get::<_, String>(0))?,
                )),
                None => None,
            };
            move_head(
                tx,
                &key,
                old.as_ref().map(|(r, b)| (*r, b.as_str())),
                Some((*rowid, body.as_str())),
            )?;
            return Ok(Effects::default());
        }
    }
    let versions = versions_of(tx, note)?;
    let heads = heads(&versions);
    let mut fx = Effects::default();
    let mut keep_derived: Option<String> = None;
    let target: Option<(i64, String)> = match heads.as_slice() {
        [] => None,
        [one] => Some((one.rowid, one.body.clone())),
        many => match merge_heads(&versions, many) {
            Some(body) => {
                let id = Uuid::new_v5(
                    &MERGE_NS,
                    many.iter()
                        .map(|v| v.id.as_str())
                        .collect::<Vec<_>>()
                        .join(",")
                        .as_bytes(),
                )
                .to_string();
                keep_derived = Some(id.clone());
                let existing = versions.iter().find(|v| v.id == id).map(|v| v.rowid);
                let rowid = match existing {
                    Some(r) => r,
                    None => {
                        let newest = many.iter().max_by(|a, b| hlc_order(&a.hlc, &b.hlc));
                        let (hlc, saved_at) = newest.map_or((String::new(), String::new()), |v| {
                            (v.hlc.clone(), v.saved_at.clone())
                        });
                        let parents: Vec<&str> = many.iter().map(|v| v.id.as_str()).collect();
                        tx.prepare_cached(
                            "INSERT INTO note_version (version_id, note_id, parents, body, reason, author, device_id, hlc, saved_at, derived)
                             VALUES (?1, ?2, ?3, ?4, ?5, 'Wardside', 'merge', ?6, ?7, 1)",
                        )?
                        .execute(params![
                            id,
                            key,
                            serde_json::to_string(&parents)?,
                            body,
                            "Edits made on two devices did not overlap and were merged",
                            hlc,
                            saved_at
                        ])?;
                        tx.last_insert_rowid()
                    }
                };
                Some((rowid, body))
            }
            None => {
                let ids: Vec<&str> = many.iter().map(|v| v.id.as_str()).collect();
                let ids = serde_json::to_string(&ids)?;
                let known: Option<String> = tx
                    .prepare_cached("SELECT heads FROM note_conflict WHERE note_id = ?1")?
                    .query_row([&key], |r| r.get(0))
                    .optional()?;
                if known.as_deref() != Some(ids.as_str()) {
                    if known.is_none() {
                        fx.conflicts += 1;
                    }
                    tx.prepare_cached(
                        "INSERT INTO note_conflict (note_id, heads, found_at) VALUES (?1, ?2, ?3)
                         ON CONFLICT (note_id) DO UPDATE SET heads = excluded.heads",
                    )?
                    .execute(params![key, ids, now])?;
                }
                many.iter()
                    .max_by(|a, b| hlc_order(&a.hlc, &b.hlc))
                    .map(|v| (v.rowid, v.body.clone()))
            }
        },
    };
    if heads.len() < 2 || keep_derived.is_some() {
        tx.prepare_cached("DELETE FROM note_conflict WHERE note_id = ?1")?
            .execute([&key])?;
    }
    let target_rowid = target.as_ref().map(|t| t.0);
    if current != target_rowid {
        let old = current.and_then(|c| versions.iter().find(|v| v.rowid == c));
        move_head(
            tx,
            &key,
            old.map(|v| (v.rowid, v.body.as_str())),
            target.as_ref().map(|(r, b)| (*r, b.as_str())),
        )?;
    }
    // Merged versions of heads that have moved on are a cache of the past: drop them.
    for stale in versions
        .iter()
        .filter(|v| v.derived && Some(&v.id) != keep_derived.as_ref())
    {
        tx.prepare_cached("DELETE FROM note_version WHERE rowid = ?1")?
            .execute([stale.rowid])?;
    }
    Ok(fx)
}

/// Merge several heads line by line against their latest common ancestor. `None` when the
/// edits overlap, when there is no common ancestor, or when the merge would drop a line one
/// side added (the whitespace and repeated-line cases Joplin users lost text to).
fn merge_heads(versions: &[Version], heads: &[&Version]) -> Option<String> {
    let by_id: HashMap<&str, &Version> = versions.iter().map(|v| (v.id.as_str(), v)).collect();
    let ancestors = |start: &Version| -> BTreeSet<String> {
        let mut seen = BTreeSet::new();
        let mut stack = vec![start.id.clone()];
        while let Some(id) = stack.pop() {
            if seen.insert(id.clone())
                && let Some(v) = by_id.get(id.as_str())
            {
                stack.extend(v.parents.iter().cloned());
            }
        }
        seen
    };
    let mut common: Option<BTreeSet<String>> = None;
    for h in heads {
        let a = ancestors(h);
        common = Some(match common {
            None => a,
            Some(c) => c.intersection(&a).cloned().collect(),
        });
    }
    let base = common?
        .iter()
        .filter_map(|id| by_id.get(id.as_str()).copied())
        .filter(|v| !v.derived)
        .max_by(|a, b| hlc_order(&a.hlc, &b.hlc).then(a.id.cmp(&b.id)))?;
    let mut merged = heads[0].body.clone();
    for h in &heads[1..] {
        merged = diffy::merge(&base.body, &merged, &h.body).ok()?;
    }
    // Every line a head added must be in the merge, as often as that head has it.
    let count = |text: &str| -> BTreeMap<String, usize> {
        let mut m = BTreeMap::new();
        for l in text.lines() {
            *m.entry(l.to_owned()).or_insert(0) += 1;
        }
        m
    };
    let base_lines = count(&base.body);
    let merged_lines = count(&merged);
    for h in heads {
        for (line, n) in count(&h.body) {
            let added = n.saturating_sub(base_lines.get(&line).copied().unwrap_or(0));
            if added > 0 && merged_lines.get(&line).copied().unwrap_or(0) < added {
                return None;
            }
        }
    }
    Some(merged)
}
