//! This device's ops on their way out: those the service has not acknowledged (or lost), how
//! each was sealed so that sending it again gives the same bytes, acknowledgements, and
//! confirmations (the service handing an op back is the only proof it kept it).

use super::{OpContent, parse_uuid, sync_meta_set};
use crate::clock::Hlc;
use crate::error::Result;
use crate::merge;
use crate::open::Store;
use rusqlite::{OptionalExtension, TransactionBehavior, params};
use serde_json::Value;
use uuid::Uuid;

/// How an op was sealed, kept before it is first sent: its team and epoch, its place in this
/// device's chain in the team, the nonce, and the content hash the next op's link names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Seal {
    pub team_id: Uuid,
    pub epoch: u32,
    pub chain_seq: u64,
    pub prev: [u8; 32],
    pub nonce: [u8; 12],
    pub content_hash: [u8; 32],
}

/// One of this device's ops, ready to be sealed (or sealed again, the same way) and pushed.
#[derive(Debug, Clone)]
pub struct OutgoingOp {
    pub op_id: Uuid,
    pub device_seq: u64,
    pub hlc: String,
    pub entity: String,
    pub entity_id: Uuid,
    pub schema_v: u32,
    pub content: Vec<u8>,
    /// How it was sealed before, if it was.
    pub seal: Option<Seal>,
    /// The team it goes to (`None`: this device's first team).
    pub team: Option<Uuid>,
}

/// Own ops the service acknowledged but did not hand back.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LostOwn {
    /// Marked to be sent again.
    pub resent: usize,
    /// Sent again twice already and still not handed back: the service keeps acknowledging
    /// what it does not keep.
    pub still_lost: usize,
}

fn array<const N: usize>(v: Vec<u8>) -> [u8; N] {
    v.try_into().unwrap_or([0; N])
}

impl Store {
    /// This device's ops the service has not acknowledged, in sequence, at most `limit`.
    pub fn unpushed(&self, limit: usize) -> Result<Vec<OutgoingOp>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT o.op_id, o.device_seq, o.hlc, o.entity, o.entity_id, o.schema_v, o.kind, o.field, o.payload,
                    coalesce((SELECT actor FROM audit a WHERE a.op_id = o.op_id), ''),
                    s.team_id, s.epoch, s.chain_seq, s.prev, s.nonce, s.content_hash, o.team_id
             FROM op o LEFT JOIN own_seal s ON s.op_id = o.op_id AND s.device_id = o.device_id
             WHERE o.device_id = ?1 AND o.server_seq IS NULL ORDER BY o.device_seq LIMIT ?2",
        )?;
        let rows = stmt.query_map(params![self.device_id, limit as i64], |r| {
            let seal = match r.get::<_, Option<String>>(10)? {
                Some(team) => Some((
                    team,
                    r.get::<_, u32>(11)?,
                    r.get::<_, i64>(12)?,
                    r.get::<_, Vec<u8>>(13)?,
                    r.get::<_, Vec<u8>>(14)?,
                    r.get::<_, Vec<u8>>(15)?,
                )),
                None => None,
            };
            Ok((
                (
                    r.get::<_, String>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, i64>(5)?,
                ),
                (
                    r.get::<_, String>(6)?,
                    r.get::<_, Option<String>>(7)?,
                    r.get::<_, String>(8)?,
                    r.get::<_, String>(9)?,
                ),
                seal,
                r.get::<_, Option<String>>(16)?,
            ))
        })?;
        rows.map(|row| {
            let (
                (op_id, seq, hlc, entity, entity_id, schema_v),
                (kind, field, payload, actor),
                seal,
                team,
            ) = row?;
            let content = OpContent {
                kind,
                field,
                payload: serde_json::from_str(&payload)?,
                actor,
            };
            let seal = seal
                .map(|(team, epoch, chain_seq, prev, nonce, hash)| {
                    Ok::<_, crate::StoreError>(Seal {
                        team_id: parse_uuid(&team)?,
                        epoch,
                        chain_seq: chain_seq.unsigned_abs(),
                        prev: array(prev),
                        nonce: array(nonce),
                        content_hash: array(hash),
                    })
                })
                .transpose()?;
            Ok(OutgoingOp {
                op_id: parse_uuid(&op_id)?,
                device_seq: u64::try_from(seq).unwrap_or(0),
                hlc,
                entity,
                entity_id: parse_uuid(&entity_id)?,
                schema_v: u32::try_from(schema_v).unwrap_or(0),
                content: serde_json::to_vec(&content)?,
                seal,
                team: team.as_deref().map(parse_uuid).transpose()?,
            })
        })
        .collect()
    }

    pub fn unpushed_count(&self) -> Result<u64> {
        Ok(self
            .conn
            .prepare_cached("SELECT count(*) FROM op WHERE device_id = ?1 AND server_seq IS NULL")?
            .query_row([&self.device_id], |r| r.get::<_, i64>(0))
            .map(|n| n.unsigned_abs())?)
    }

    /// The last link of this device's chain in a team: its place and content hash ((0, zeros)
    /// before the first op).
    pub fn own_chain_tip(&self, team: Uuid) -> Result<(u64, [u8; 32])> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT chain_seq, content_hash FROM own_seal WHERE device_id = ?1 AND team_id = ?2 ORDER BY chain_seq DESC LIMIT 1",
            )?
            .query_row(params![self.device_id, team.to_string()], |r| {
                Ok((r.get::<_, i64>(0)?.unsigned_abs(), array(r.get(1)?)))
            })
            .optional()?
            .unwrap_or((0, [0; 32])))
    }

    /// Keep how these ops were sealed, before they are sent: from now on they are sent exactly
    /// so.
    pub fn save_seals(&mut self, seals: &[(Uuid, Seal)]) -> Result<()> {
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        {
            let mut stmt = tx.prepare_cached(
                "INSERT INTO own_seal (op_id, device_id, team_id, epoch, chain_seq, prev, nonce, content_hash)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )?;
            for (op_id, s) in seals {
                stmt.execute(params![
                    op_id.to_string(),
                    self.device_id,
                    s.team_id.to_string(),
                    s.epoch,
                    s.chain_seq as i64,
                    &s.prev[..],
                    &s.nonce[..],
                    &s.content_hash[..]
                ])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// The service acknowledged these ops (accepted or already held) at these cursors.
    /// Sent again, byte for byte, if a power cut undoes this (see `relaxed`).
    pub fn mark_pushed(&mut self, acks: &[(Uuid, i64)]) -> Result<()> {
        super::relaxed(&self.conn, || {
            let tx = rusqlite::Transaction::new_unchecked(
                &self.conn,
                rusqlite::TransactionBehavior::Immediate,
            )?;
            {
                let mut stmt = tx.prepare_cached(
                    "UPDATE op SET server_seq = ?2 WHERE op_id = ?1 AND server_seq IS NULL",
                )?;
                for (op_id, seq) in acks {
                    stmt.execute(params![op_id.to_string(), seq])?;
                }
            }
            tx.commit()?;
            Ok(())
        })
    }

    /// How many of this device's ops in a team the service has handed back (confirmed).
    pub fn own_confirmed(&self, team: Uuid) -> Result<u64> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT confirmed FROM own_tally WHERE device_id = ?1 AND team_id = ?2",
            )?
            .query_row(params![self.device_id, team.to_string()], |r| {
                r.get::<_, i64>(0)
            })
            .optional()?
            .unwrap_or(0)
            .unsigned_abs())
    }

    /// The service counts fewer of this device's ops in a team than it handed back: forget the
    /// confirmations there and read the log again from its start, so that reading finds which
    /// are gone ([`Store::requeue_lost`]). Both at once: a sync cut short after this reads from
    /// the start next time, rather than taking every op it no longer sees confirmed for lost.
    pub fn unconfirm_own(&mut self, team: Uuid) -> Result<()> {
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        sync_meta_set(&tx, "sync_cursor", "0")?;
        tx.prepare_cached(
            "UPDATE own_seal SET confirmed = 0 WHERE device_id = ?1 AND team_id = ?2",
        )?
        .execute(params![self.device_id, team.to_string()])?;
        tx.prepare_cached("DELETE FROM own_tally WHERE device_id = ?1 AND team_id = ?2")?
            .execute(params![self.device_id, team.to_string()])?;
        tx.commit()?;
        Ok(())
    }

    /// After reading the service's log to its end: this device's ops it acknowledged but never
    /// handed back were lost (a restore from an old backup, or a service that drops what it
    /// accepted, or that acknowledged them at a place past the end of its log). Each is marked
    /// to be sent again, byte for byte, at most twice; after that it is counted as still lost
    /// (and stays in the log here).
    pub fn requeue_lost(&mut self) -> Result<LostOwn> {
        // Unconfirmed seals are few (an index of them alone): a sync that lost nothing writes
        // nothing here.
        let lost: Vec<(String, i64)> = self
            .conn
            .prepare_cached(
                "SELECT s.op_id, s.resent FROM own_seal s JOIN op o ON o.op_id = s.op_id
                 WHERE s.device_id = ?1 AND s.confirmed = 0 AND o.server_seq IS NOT NULL",
            )?
            .query_map(params![self.device_id], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        let was: String = self.conn.query_row(
            "SELECT coalesce((SELECT value FROM meta WHERE key = 'own_still_lost'), '0')",
            [],
            |r| r.get(0),
        )?;
        if lost.is_empty() && was == "0" {
            return Ok(LostOwn::default());
        }
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut out = LostOwn::default();
        for (op_id, resent) in lost {
            if resent >= 2 {
                out.still_lost += 1;
                continue;
            }
            tx.prepare_cached("UPDATE op SET server_seq = NULL WHERE op_id = ?1")?
                .execute([&op_id])?;
            tx.prepare_cached("UPDATE own_seal SET resent = resent + 1 WHERE op_id = ?1")?
                .execute([&op_id])?;
            out.resent += 1;
        }
        sync_meta_set(&tx, "own_still_lost", &out.still_lost.to_string())?;
        tx.commit()?;
        Ok(out)
    }

    /// After a revocation wiped the organisation's records, this device's unsent ops were kept
    /// but not shown. Once it is enrolled again, apply them to the tables again so the person
    /// sees what they wrote (each in a savepoint: one that cannot apply yet is tried next time).
    /// Returns how many are still waiting.
    pub fn reapply_kept(&mut self) -> Result<usize> {
        let Some(list) = self
            .conn
            .query_row(
                "SELECT value FROM meta WHERE key = 'kept_unsent'",
                [],
                |r| r.get::<_, String>(0),
            )
            .optional()?
        else {
            return Ok(0);
        };
        let ids: Vec<String> = serde_json::from_str(&list)?;
        let me = self.device_id.clone();
        let now = self.clock.now().to_rfc3339();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut waiting = Vec::new();
        for id in ids {
            let row: Option<(String, String, String, Option<String>, String, String)> = tx
                .query_row(
                    "SELECT entity, entity_id, kind, field, payload, hlc FROM op WHERE op_id = ?1",
                    [&id],
                    |r| {
                        Ok((
                            r.get(0)?,
                            r.get(1)?,
                            r.get(2)?,
                            r.get(3)?,
                            r.get(4)?,
                            r.get(5)?,
                        ))
                    },
                )
                .optional()?;
            let Some((entity, entity_id, kind, field, payload, hlc)) = row else {
                continue;
            };
            let (Some(entity), Some(kind)) = (
                crate::write::Entity::parse(&entity),
                crate::write::OpKind::parse(&kind),
            ) else {
                continue;
            };
            let op = crate::write::Op {
                entity,
                entity_id: parse_uuid(&entity_id)?,
                kind,
                field,
                payload: serde_json::from_str(&payload)?,
            };
            let meta = merge::OpMeta {
                op_id: &id,
                hlc: &hlc,
                device_id: &me,
                local: true,
                server_seq: None,
                this_device: &me,
                now: &now,
            };
            tx.execute_batch("SAVEPOINT kept")?;
            match merge::apply(&tx, &op, meta) {
                Ok(_) => tx.execute_batch("RELEASE kept")?,
                Err(crate::StoreError::Database(e))
                    if e.sqlite_error_code() == Some(rusqlite::ErrorCode::ConstraintViolation) =>
                {
                    // Already there again (it came back from the service).
                    tx.execute_batch("ROLLBACK TO kept; RELEASE kept")?;
                }
                Err(crate::StoreError::DiskFull) => return Err(crate::StoreError::DiskFull),
                Err(_) => {
                    tx.execute_batch("ROLLBACK TO kept; RELEASE kept")?;
                    waiting.push(id);
                }
            }
        }
        if waiting.is_empty() {
            tx.execute("DELETE FROM meta WHERE key = 'kept_unsent'", [])?;
        } else {
            sync_meta_set(&tx, "kept_unsent", &serde_json::to_string(&waiting)?)?;
        }
        tx.commit()?;
        Ok(waiting.len())
    }

    /// The service refused our clock (more than a day ahead of its own): give every op it has
    /// not accepted a new clock from `base_ms` on, in order, and stamp new edits on the
    /// service's time. Nothing is lost: these ops were never accepted anywhere. Their seals are
    /// dropped (the clock is part of what is sealed): they are sealed afresh, with new nonces.
    pub fn restamp_unpushed(&mut self, base_ms: i64) -> Result<usize> {
        let device = self.device_id.clone();
        let now = self.clock.now_ms();
        self.set_meta(
            "clock_offset_ms",
            &super::bounded_offset(base_ms - now).to_string(),
        )?;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        // Start past every clock received from others, never past the service's time by more
        // than the ops need.
        let seen: Option<String> = tx.query_row(
            "SELECT max(hlc) FROM op WHERE device_id <> ?1",
            [&device],
            |r| r.get(0),
        )?;
        let start = Hlc {
            wall_ms: u64::try_from(base_ms).unwrap_or(0),
            counter: 0,
        }
        .max(seen.as_deref().and_then(Hlc::decode).unwrap_or_default());
        let n = restamp(
            &tx,
            &device,
            &device,
            Some(start),
            &self.clock.now().to_rfc3339(),
        )?;
        tx.commit()?;
        Ok(n)
    }

    /// Another install pushed different ops under this device's id (a copied laptop image). After
    /// enrolling again under `new_id`, this device's unacknowledged ops move to the new id,
    /// numbered from 1 (their clocks now name the new device, their seals are dropped), so they
    /// are pushed again and nothing is lost.
    pub fn change_device_id(&mut self, new_id: Uuid) -> Result<usize> {
        let old = self.device_id.clone();
        let new = new_id.to_string();
        let now = self.clock.now().to_rfc3339();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let ops: Vec<String> = tx
            .prepare(
                "SELECT op_id FROM op WHERE device_id = ?1 AND server_seq IS NULL ORDER BY device_seq",
            )?
            .query_map([&old], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        for (i, op_id) in ops.iter().enumerate() {
            tx.execute(
                "UPDATE op SET device_id = ?2, device_seq = ?3 WHERE op_id = ?1",
                params![op_id, new, i as i64 + 1],
            )?;
        }
        restamp(&tx, &old, &new, None, &now)?;
        // The old identity's ops the service holds (the other copy's, or this laptop's own
        // from after the copy it was restored from) now arrive as another device's: its chain
        // in each team is complete here up to the last op the service acknowledged.
        tx.execute(
            "INSERT INTO peer_chain (device_id, team_id, contiguous, hash, max_seq)
             SELECT s.device_id, s.team_id, s.chain_seq, s.content_hash, s.chain_seq FROM own_seal s
             WHERE s.device_id = ?1 AND s.chain_seq = (SELECT max(t.chain_seq) FROM own_seal t
                                                       WHERE t.device_id = s.device_id AND t.team_id = s.team_id)
             ON CONFLICT (device_id, team_id) DO NOTHING",
            [&old],
        )?;
        tx.execute("UPDATE meta SET value = ?1 WHERE key = 'device_id'", [&new])?;
        let hlc: Option<String> = tx
            .query_row("SELECT value FROM meta WHERE key = 'hlc'", [], |r| r.get(0))
            .optional()?;
        if let Some(h) = hlc.as_deref().and_then(Hlc::decode) {
            sync_meta_set(&tx, "hlc", &h.encode(&new))?;
        }
        tx.commit()?;
        self.device_id = new;
        Ok(ops.len())
    }
}

/// Give `device`'s unacknowledged ops (now under `stamp_as`) new clocks: from `start` on, one
/// tick each, or (with `None`) the same times with `stamp_as` as the device part. Drops their
/// seals. Returns how many.
fn restamp(
    tx: &rusqlite::Transaction<'_>,
    device: &str,
    stamp_as: &str,
    start: Option<Hlc>,
    now: &str,
) -> Result<usize> {
    let ops: Vec<(String, String, String, String, String)> = tx
        .prepare(
            "SELECT op_id, kind, payload, entity_id, hlc FROM op WHERE device_id IN (?1, ?2) AND server_seq IS NULL ORDER BY device_seq",
        )?
        .query_map([device, stamp_as], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })?
        .collect::<rusqlite::Result<_>>()?;
    let mut clock = start;
    let mut notes = Vec::new();
    for (op_id, kind, payload, entity_id, old) in &ops {
        let stamped = match clock.as_mut() {
            Some(c) => {
                *c = c.tick(0);
                *c
            }
            None => Hlc::decode(old).unwrap_or_default(),
        };
        let hlc = stamped.encode(stamp_as);
        tx.execute(
            "UPDATE op SET hlc = ?2 WHERE op_id = ?1",
            params![op_id, hlc],
        )?;
        tx.execute(
            "UPDATE field_clock SET hlc = ?2 WHERE op_id = ?1",
            params![op_id, hlc],
        )?;
        tx.execute("DELETE FROM own_seal WHERE op_id = ?1", [op_id])?;
        if kind == "note-version" {
            let v: Value = serde_json::from_str(payload)?;
            if let Some(version) = v.get("version_id").and_then(Value::as_str) {
                tx.execute(
                    "UPDATE note_version SET hlc = ?2, device_id = ?3 WHERE version_id = ?1",
                    params![version, hlc, stamp_as],
                )?;
            }
            notes.push(parse_uuid(entity_id)?);
        }
    }
    for n in notes {
        merge::refresh_note(tx, n, now)?;
    }
    if let Some(c) = clock {
        sync_meta_set(tx, "hlc", &c.encode(stamp_as))?;
    }
    Ok(ops.len())
}
