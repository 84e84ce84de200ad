//! What sync needs from the store, and nothing about the network: this device's ops not yet
//! acknowledged, received ops applied a page at a time together with the cursor, ops held back
//! until they can be read, the sync identity and keys, the conflict inbox, and a digest of the
//! materialised state that converged devices share.
//!
//! An op's content on the wire is [`OpContent`] as JSON: kind, field, payload and the person who
//! made it. The sync crate seals and opens it; the store never sees a ciphertext except to keep
//! one it cannot read yet.

use crate::clock::Hlc;
use crate::error::{Result, StoreError};
use crate::merge::{self, Effects, OpMeta};
use crate::open::Store;
use crate::write::{Entity, OP_SCHEMA_VERSION, Op, OpKind};
use rusqlite::{OptionalExtension, TransactionBehavior, params};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use uuid::Uuid;
use zeroize::Zeroizing;

/// The sealed part of an op.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OpContent {
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    pub payload: Value,
    pub actor: String,
}

/// Whether this build can apply an op with this schema version and content. Ops it cannot are
/// held, never dropped, and tried again after an upgrade.
pub fn readable(schema_v: u32, entity: &str, content: &[u8]) -> bool {
    i64::from(schema_v) <= OP_SCHEMA_VERSION
        && Entity::parse(entity).is_some()
        && serde_json::from_slice::<OpContent>(content)
            .ok()
            .is_some_and(|c| OpKind::parse(&c.kind).is_some())
}

/// A team's content key for one epoch, as kept in the store.
#[derive(Debug)]
pub struct StoredTeamKey {
    pub team: Uuid,
    pub epoch: u32,
    pub secret: Zeroizing<Vec<u8>>,
}

/// One of this device's ops, ready to be sealed and pushed.
#[derive(Debug, Clone)]
pub struct OutgoingOp {
    pub op_id: Uuid,
    pub device_seq: u64,
    pub hlc: String,
    pub entity: String,
    pub entity_id: Uuid,
    pub schema_v: u32,
    pub content: Vec<u8>,
}

/// An op from another device, opened and checked by the sync crate.
#[derive(Debug, Clone)]
pub struct IncomingOp {
    pub op_id: Uuid,
    pub device_id: Uuid,
    pub device_seq: u64,
    pub hlc: String,
    pub entity: String,
    pub entity_id: Uuid,
    pub schema_v: u32,
    pub server_seq: i64,
    pub content: Vec<u8>,
}

/// An op received but not applicable yet, kept sealed as it came.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeldOp {
    pub op_id: Uuid,
    pub server_seq: i64,
    pub device_id: Uuid,
    pub device_seq: u64,
    /// `no-key` or `newer-schema`.
    pub reason: String,
    /// The envelope as JSON.
    pub envelope: String,
}

/// One page from the service, applied in one transaction.
#[derive(Debug, Default)]
pub struct ReceivedPage {
    pub ops: Vec<IncomingOp>,
    pub held: Vec<HeldOp>,
    /// Held ops that are in `ops` now (their key arrived): no longer held.
    pub released: Vec<Uuid>,
    /// The cursor to save with the page; `None` leaves it.
    pub cursor: Option<i64>,
}

/// The settings [`Store::begin_large_pull`] changed, to put back.
#[derive(Debug, Clone, Copy)]
pub struct LargePull {
    cache: i64,
    checkpoint: i64,
}

/// What a page did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PageOutcome {
    pub applied: usize,
    pub duplicates: usize,
    pub held: usize,
    pub effects: Effects,
}

/// How this device is enrolled. Stored as JSON in `meta`; keys live in `sync_secret`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncConfig {
    pub server: String,
    pub org_id: Uuid,
    pub teams: Vec<Uuid>,
    pub admin: bool,
    /// `approved`, `pending`, `revoked`, or `re-enrol` (another install uses this device id).
    pub status: String,
    pub fingerprint: String,
    pub name: String,
}

/// The numbers the status line and `wardside sync status` show.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SyncSummary {
    pub enrolled: bool,
    pub status: Option<String>,
    pub last_sync: Option<String>,
    pub unsynced: u64,
    pub conflicts: u64,
    pub inbox: u64,
    pub held: u64,
}

/// An entry in the sync inbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InboxItem {
    pub id: i64,
    pub kind: String,
    pub entity: String,
    pub entity_id: String,
    pub field: Option<String>,
    /// The value this device had, which lost (JSON), for an overwritten field.
    pub lost_value: Option<String>,
    pub won_value: Option<String>,
    pub at: String,
}

/// A note with more than one version at its head.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NoteConflict {
    pub activity_id: Uuid,
    pub case_id: Option<Uuid>,
    pub versions: Vec<ConflictVersion>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConflictVersion {
    pub version_id: Uuid,
    pub body: String,
    pub author: String,
    pub saved_at: String,
    pub device_id: String,
}

fn parse_uuid(s: &str) -> Result<Uuid> {
    s.parse()
        .map_err(|_| StoreError::Corrupt("an id in the op log is not a UUID".into()))
}

impl Store {
    fn meta(&self, key: &str) -> Result<Option<String>> {
        Ok(self
            .conn
            .prepare_cached("SELECT value FROM meta WHERE key = ?1")?
            .query_row([key], |r| r.get(0))
            .optional()?)
    }

    fn set_meta(&self, key: &str, value: &str) -> Result<()> {
        self.conn
            .prepare_cached(
                "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            )?
            .execute([key, value])?;
        Ok(())
    }

    pub fn sync_config(&self) -> Result<Option<SyncConfig>> {
        self.meta("sync_config")?
            .map(|s| serde_json::from_str(&s).map_err(StoreError::from))
            .transpose()
    }

    pub fn set_sync_config(&self, config: &SyncConfig) -> Result<()> {
        self.set_meta("sync_config", &serde_json::to_string(config)?)
    }

    /// A sync secret (this device's private keys, the recovery public key).
    pub fn sync_secret(&self, name: &str) -> Result<Option<Zeroizing<Vec<u8>>>> {
        Ok(self
            .conn
            .prepare_cached("SELECT value FROM sync_secret WHERE name = ?1")?
            .query_row([name], |r| r.get::<_, Vec<u8>>(0))
            .optional()?
            .map(Zeroizing::new))
    }

    pub fn set_sync_secret(&self, name: &str, value: &[u8]) -> Result<()> {
        self.conn
            .prepare_cached(
                "INSERT INTO sync_secret (name, value) VALUES (?1, ?2) ON CONFLICT (name) DO UPDATE SET value = excluded.value",
            )?
            .execute(params![name, value])?;
        Ok(())
    }

    /// Every team key this device holds.
    pub fn team_keys(&self) -> Result<Vec<StoredTeamKey>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT team_id, epoch, secret FROM team_key ORDER BY team_id, epoch",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, u32>(1)?,
                Zeroizing::new(r.get::<_, Vec<u8>>(2)?),
            ))
        })?;
        rows.map(|row| {
            let (t, epoch, secret) = row?;
            Ok(StoredTeamKey {
                team: parse_uuid(&t)?,
                epoch,
                secret,
            })
        })
        .collect()
    }

    /// Keep a team key. A key already held for the epoch is never replaced.
    pub fn add_team_key(&self, team: Uuid, epoch: u32, secret: &[u8]) -> Result<bool> {
        let n = self
            .conn
            .prepare_cached(
                "INSERT INTO team_key (team_id, epoch, secret) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING",
            )?
            .execute(params![team.to_string(), epoch, secret])?;
        Ok(n == 1)
    }

    /// Remember a device of the organisation (its public keys as the service listed them).
    pub fn set_peer(
        &self,
        id: Uuid,
        name: &str,
        sign_key: &[u8],
        box_key: &[u8],
        status: &str,
        admin: bool,
    ) -> Result<()> {
        self.conn
            .prepare_cached(
                "INSERT INTO peer (device_id, name, sign_key, box_key, status, admin) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT (device_id) DO UPDATE SET name = excluded.name, status = excluded.status, admin = excluded.admin",
            )?
            .execute(params![id.to_string(), name, sign_key, box_key, status, admin])?;
        Ok(())
    }

    /// A device's Ed25519 public key, if known.
    pub fn peer_sign_key(&self, id: Uuid) -> Result<Option<Vec<u8>>> {
        Ok(self
            .conn
            .prepare_cached("SELECT sign_key FROM peer WHERE device_id = ?1")?
            .query_row([id.to_string()], |r| r.get(0))
            .optional()?)
    }

    pub fn sync_cursor(&self) -> Result<i64> {
        Ok(self
            .meta("sync_cursor")?
            .and_then(|s| s.parse().ok())
            .unwrap_or(0))
    }

    /// Start reading the service's log from the beginning again (ops already held are skipped):
    /// the refill when the heads show a hole.
    pub fn reset_sync_cursor(&self) -> Result<()> {
        self.set_meta("sync_cursor", "0")
    }

    /// Record a successful contact: when, and how far the service's clock is from ours. Within
    /// a few seconds our own clock is trusted (network delay would only add noise); beyond, new
    /// ops are stamped on the service's time.
    pub fn record_sync(&self, server_time_ms: i64) -> Result<()> {
        const TRUSTED_MS: i64 = 5_000;
        let now = self.clock.now();
        let offset = server_time_ms - now.timestamp_millis();
        let offset = if offset.abs() < TRUSTED_MS { 0 } else { offset };
        self.set_meta("clock_offset_ms", &offset.to_string())?;
        self.set_meta("sync_last", &now.to_rfc3339())
    }

    /// This device's ops the service has not acknowledged, in sequence, at most `limit`.
    pub fn unpushed(&self, limit: usize) -> Result<Vec<OutgoingOp>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT o.op_id, o.device_seq, o.hlc, o.entity, o.entity_id, o.schema_v, o.kind, o.field, o.payload,
                    coalesce((SELECT actor FROM audit a WHERE a.op_id = o.op_id), '')
             FROM op o WHERE o.device_id = ?1 AND o.server_seq IS NULL ORDER BY o.device_seq LIMIT ?2",
        )?;
        let rows = stmt.query_map(params![self.device_id, limit as i64], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, i64>(5)?,
                r.get::<_, String>(6)?,
                r.get::<_, Option<String>>(7)?,
                r.get::<_, String>(8)?,
                r.get::<_, String>(9)?,
            ))
        })?;
        rows.map(|row| {
            let (op_id, seq, hlc, entity, entity_id, schema_v, kind, field, payload, actor) = row?;
            let content = OpContent {
                kind,
                field,
                payload: serde_json::from_str(&payload)?,
                actor,
            };
            Ok(OutgoingOp {
                op_id: parse_uuid(&op_id)?,
                device_seq: u64::try_from(seq).unwrap_or(0),
                hlc,
                entity,
                entity_id: parse_uuid(&entity_id)?,
                schema_v: u32::try_from(schema_v).unwrap_or(0),
                content: serde_json::to_vec(&content)?,
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

    /// The service acknowledged these ops (accepted or already held) at these cursors.
    pub fn mark_pushed(&mut self, acks: &[(Uuid, i64)]) -> Result<()> {
        let tx = self.conn.transaction()?;
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
    }

    /// Apply a page of received ops, hold what cannot be read yet, and save the cursor: all in
    /// one transaction, so a crash leaves either the whole page or none of it.
    pub fn receive(&mut self, page: ReceivedPage) -> Result<PageOutcome> {
        let this_device = self.device_id.clone();
        let now = self.clock.now().to_rfc3339();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut out = PageOutcome::default();
        let mut newest = Hlc::default();
        let mut received: BTreeMap<String, u64> = BTreeMap::new();
        for op in &page.ops {
            let id = op.op_id.to_string();
            let known = tx
                .prepare_cached("SELECT 1 FROM op WHERE op_id = ?1")?
                .exists([&id])?;
            if known {
                out.duplicates += 1;
                continue;
            }
            let content: OpContent = serde_json::from_slice(&op.content)?;
            let entity = Entity::parse(&op.entity)
                .ok_or_else(|| StoreError::Corrupt("an op names an unknown entity".into()))?;
            let kind = OpKind::parse(&content.kind)
                .ok_or_else(|| StoreError::Corrupt("an op has an unknown kind".into()))?;
            let device = op.device_id.to_string();
            tx.prepare_cached(
                "INSERT INTO op (op_id, device_id, device_seq, hlc, entity, entity_id, kind, field, payload, schema_v, server_seq)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            )?
            .execute(params![
                id,
                device,
                op.device_seq as i64,
                op.hlc,
                entity.name(),
                op.entity_id.to_string(),
                kind.name(),
                content.field,
                serde_json::to_string(&content.payload)?,
                op.schema_v,
                op.server_seq
            ])?;
            let action = match kind {
                OpKind::Set => "update",
                OpKind::NoteVersion if content.payload.get("reason").is_some() => "amend",
                OpKind::NoteVersion => "create",
                other => other.name(),
            };
            let m = OpMeta {
                op_id: &id,
                hlc: &op.hlc,
                device_id: &device,
                local: false,
                server_seq: Some(op.server_seq),
                this_device: &this_device,
                now: &now,
            };
            let applied = Op {
                entity,
                entity_id: op.entity_id,
                kind,
                field: content.field,
                payload: content.payload,
            };
            out.effects += merge::apply(&tx, &applied, m)?;
            let (client, case) = scope_of(&tx, entity, op.entity_id)?;
            tx.prepare_cached(
                "INSERT INTO audit (at, device_id, actor, action, entity, entity_id, client_id, case_id, op_id)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )?
            .execute(params![
                now,
                device,
                content.actor,
                action,
                entity.name(),
                op.entity_id.to_string(),
                client,
                case,
                id
            ])?;
            if let Some(h) = Hlc::decode(&op.hlc) {
                newest = newest.max(h);
            }
            if !page.released.contains(&op.op_id) {
                *received.entry(device).or_default() += 1;
            }
            out.applied += 1;
        }
        for id in &page.released {
            tx.prepare_cached("DELETE FROM op_held WHERE op_id = ?1")?
                .execute([id.to_string()])?;
        }
        for h in &page.held {
            let n = tx
                .prepare_cached(
                    "INSERT INTO op_held (op_id, server_seq, device_id, device_seq, reason, envelope) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                     ON CONFLICT (op_id) DO NOTHING",
                )?
                .execute(params![
                    h.op_id.to_string(),
                    h.server_seq,
                    h.device_id.to_string(),
                    h.device_seq as i64,
                    h.reason,
                    h.envelope
                ])?;
            if n == 1 {
                *received.entry(h.device_id.to_string()).or_default() += 1;
            }
            out.held += n;
        }
        for (device, n) in received {
            count_received(&tx, &device, n)?;
        }
        // Our clock moves past everything received, so our next edit wins over what we saw.
        let ours = tx
            .prepare_cached("SELECT value FROM meta WHERE key = 'hlc'")?
            .query_row([], |r| r.get::<_, String>(0))
            .optional()?
            .and_then(|s| Hlc::decode(&s))
            .unwrap_or_default();
        if newest > ours {
            tx.prepare_cached("INSERT INTO meta (key, value) VALUES ('hlc', ?1) ON CONFLICT (key) DO UPDATE SET value = excluded.value")?
                .execute([newest.encode(&this_device)])?;
        }
        if let Some(c) = page.cursor {
            tx.prepare_cached("INSERT INTO meta (key, value) VALUES ('sync_cursor', ?1) ON CONFLICT (key) DO UPDATE SET value = excluded.value")?
                .execute([c.to_string()])?;
        }
        tx.commit()?;
        Ok(out)
    }

    /// Ops held back, oldest first.
    pub fn held_ops(&self) -> Result<Vec<HeldOp>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT op_id, server_seq, device_id, device_seq, reason, envelope FROM op_held ORDER BY server_seq",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, i64>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, String>(5)?,
            ))
        })?;
        rows.map(|row| {
            let (op_id, server_seq, device_id, device_seq, reason, envelope) = row?;
            Ok(HeldOp {
                op_id: parse_uuid(&op_id)?,
                server_seq,
                device_id: parse_uuid(&device_id)?,
                device_seq: u64::try_from(device_seq).unwrap_or(0),
                reason,
                envelope,
            })
        })
        .collect()
    }

    /// How many ops of each device this store holds (applied or held): compared with the
    /// service's counts to find holes.
    pub fn received_counts(&self) -> Result<BTreeMap<Uuid, u64>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT device_id, ops FROM received_count")?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?;
        let mut out = BTreeMap::new();
        for row in rows {
            let (d, n) = row?;
            if let Ok(d) = d.parse() {
                out.insert(d, n.unsigned_abs());
            }
        }
        Ok(out)
    }

    /// The service refused our clock (more than a day ahead of its own): give every op it has
    /// not accepted a new clock from `base_ms` on, in order, and stamp new edits on the
    /// service's time. Nothing is lost: these ops were never accepted anywhere.
    pub fn restamp_unpushed(&mut self, base_ms: i64) -> Result<usize> {
        let device = self.device_id.clone();
        let now_text = self.clock.now().to_rfc3339();
        let now = self.clock.now_ms();
        self.set_meta("clock_offset_ms", &(base_ms - now).to_string())?;
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
        let mut clock = Hlc {
            wall_ms: u64::try_from(base_ms).unwrap_or(0),
            counter: 0,
        }
        .max(seen.as_deref().and_then(Hlc::decode).unwrap_or_default());
        let ops: Vec<(String, String, String, String)> = tx
            .prepare(
                "SELECT op_id, kind, payload, entity_id FROM op WHERE device_id = ?1 AND server_seq IS NULL ORDER BY device_seq",
            )?
            .query_map([&device], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
            .collect::<rusqlite::Result<_>>()?;
        let mut notes = Vec::new();
        for (op_id, kind, payload, entity_id) in &ops {
            clock = clock.tick(0);
            let hlc = clock.encode(&device);
            tx.execute(
                "UPDATE op SET hlc = ?2 WHERE op_id = ?1",
                params![op_id, hlc],
            )?;
            tx.execute(
                "UPDATE field_clock SET hlc = ?2 WHERE op_id = ?1",
                params![op_id, hlc],
            )?;
            if kind == "note-version" {
                let v: Value = serde_json::from_str(payload)?;
                if let Some(version) = v.get("version_id").and_then(Value::as_str) {
                    tx.execute(
                        "UPDATE note_version SET hlc = ?2 WHERE version_id = ?1",
                        params![version, hlc],
                    )?;
                }
                notes.push(parse_uuid(entity_id)?);
            }
        }
        for n in notes {
            merge::refresh_note(&tx, n, &now_text)?;
        }
        tx.execute(
            "INSERT INTO meta (key, value) VALUES ('hlc', ?1) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            [clock.encode(&device)],
        )?;
        tx.commit()?;
        Ok(ops.len())
    }

    /// Another install pushed different ops under this device's id (a copied laptop image). After
    /// enrolling again under `new_id`, this device's unacknowledged ops move to the new id,
    /// numbered from 1, so they are pushed again and nothing is lost.
    pub fn change_device_id(&mut self, new_id: Uuid) -> Result<usize> {
        let old = self.device_id.clone();
        let new = new_id.to_string();
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
        tx.execute("UPDATE meta SET value = ?1 WHERE key = 'device_id'", [&new])?;
        tx.commit()?;
        self.device_id = new;
        Ok(ops.len())
    }

    /// This device was revoked: remove every record of the organisation from it (clients, cases,
    /// notes, ops, keys, audit), then compact the file so no page keeps them. The store itself
    /// stays, empty, under its passphrase.
    pub fn wipe_organisation_data(&mut self) -> Result<()> {
        let tx = self.conn.transaction()?;
        tx.execute_batch(
            "INSERT INTO note_fts (note_fts) VALUES ('delete-all');
             DELETE FROM note_version; DELETE FROM activity; DELETE FROM safeguarding; DELETE FROM issue;
             DELETE FROM kase; DELETE FROM referral; DELETE FROM consent; DELETE FROM relative;
             DELETE FROM legal_event; DELETE FROM client; DELETE FROM advocate; DELETE FROM team;
             DELETE FROM draft; DELETE FROM op; DELETE FROM op_held; DELETE FROM field_clock;
             DELETE FROM note_conflict; DELETE FROM sync_inbox; DELETE FROM audit;
             DELETE FROM team_key; DELETE FROM sync_secret; DELETE FROM peer; DELETE FROM received_count;
             DELETE FROM meta WHERE key IN ('sync_cursor', 'sync_last', 'hlc');",
        )?;
        tx.commit()?;
        if let Some(mut c) = self.sync_config()? {
            c.status = "revoked".into();
            self.set_sync_config(&c)?;
        }
        self.conn.execute_batch("VACUUM;")?;
        Ok(())
    }

    /// Status for the status line and `sync status`.
    pub fn sync_summary(&self) -> Result<SyncSummary> {
        let config = self.sync_config()?;
        let (conflicts, inbox, held): (i64, i64, i64) = self.conn.query_row(
            "SELECT (SELECT count(*) FROM note_conflict), (SELECT count(*) FROM sync_inbox WHERE dismissed = 0), (SELECT count(*) FROM op_held)",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )?;
        Ok(SyncSummary {
            enrolled: config.is_some(),
            status: config.map(|c| c.status),
            last_sync: self.meta("sync_last")?,
            unsynced: self.unpushed_count()?,
            conflicts: conflicts.unsigned_abs(),
            inbox: inbox.unsigned_abs(),
            held: held.unsigned_abs(),
        })
    }

    /// The inbox: overwritten local edits and entries deleted on one device and edited on another.
    pub fn sync_inbox(&self) -> Result<Vec<InboxItem>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT i.id, i.kind, i.entity, i.entity_id, i.field, l.payload, w.payload, i.at
             FROM sync_inbox i LEFT JOIN op l ON l.op_id = i.lost_op LEFT JOIN op w ON w.op_id = i.won_op
             WHERE i.dismissed = 0 ORDER BY i.id",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(InboxItem {
                id: r.get(0)?,
                kind: r.get(1)?,
                entity: r.get(2)?,
                entity_id: r.get(3)?,
                field: r.get(4)?,
                lost_value: r.get(5)?,
                won_value: r.get(6)?,
                at: r.get(7)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    pub fn dismiss_inbox_item(&mut self, id: i64) -> Result<bool> {
        Ok(self
            .conn
            .execute("UPDATE sync_inbox SET dismissed = 1 WHERE id = ?1", [id])?
            == 1)
    }

    /// Notes in conflict, each with the texts of its heads.
    pub fn note_conflicts(&self) -> Result<Vec<NoteConflict>> {
        let notes: Vec<(String, String, Option<String>)> = self
            .conn
            .prepare_cached(
                "SELECT c.note_id, c.heads, a.case_id FROM note_conflict c LEFT JOIN activity a ON a.id = c.note_id ORDER BY c.found_at, c.note_id",
            )?
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
            .collect::<rusqlite::Result<_>>()?;
        notes
            .into_iter()
            .map(|(note, heads, case)| {
                let heads: Vec<String> = serde_json::from_str(&heads)?;
                let versions = heads
                    .iter()
                    .map(|h| {
                        let (body, author, saved_at, device_id) = self.conn.query_row(
                            "SELECT body, author, saved_at, device_id FROM note_version WHERE version_id = ?1",
                            [h],
                            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
                        )?;
                        Ok(ConflictVersion {
                            version_id: parse_uuid(h)?,
                            body,
                            author,
                            saved_at,
                            device_id,
                        })
                    })
                    .collect::<Result<_>>()?;
                Ok(NoteConflict {
                    activity_id: parse_uuid(&note)?,
                    case_id: case.as_deref().map(parse_uuid).transpose()?,
                    versions,
                })
            })
            .collect()
    }

    /// SHA-256 over a canonical dump of everything synced: every record, every note version,
    /// what is deleted and which text shows. Devices that have converged give the same digest.
    /// No content leaves: only the hash.
    pub fn convergence_digest(&self) -> Result<String> {
        let dump = self.convergence_dump()?;
        let d = ring::digest::digest(&ring::digest::SHA256, dump.as_bytes());
        Ok(d.as_ref().iter().map(|b| format!("{b:02x}")).collect())
    }

    /// The canonical dump behind [`Store::convergence_digest`], one line per row. It holds
    /// content: for tests to show where two devices differ, never for a log.
    #[doc(hidden)]
    pub fn convergence_dump(&self) -> Result<String> {
        let mut out = String::new();
        for table in [
            "team",
            "advocate",
            "client",
            "legal_event",
            "relative",
            "consent",
            "referral",
            "kase",
            "issue",
            "safeguarding",
        ] {
            let mut stmt = self
                .conn
                .prepare(&format!("SELECT id, data FROM {table} ORDER BY id"))?;
            let rows =
                stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
            for row in rows {
                let (id, data) = row?;
                let v: Value = serde_json::from_str(&data)?;
                out.push_str(&format!("{table}\u{1}{id}\u{1}{v}\n"));
            }
        }
        let mut stmt = self.conn.prepare(
            "SELECT a.id, a.data, a.deleted, nv.version_id FROM activity a LEFT JOIN note_version nv ON nv.rowid = a.head ORDER BY a.id",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, bool>(2)?,
                r.get::<_, Option<String>>(3)?,
            ))
        })?;
        for row in rows {
            let (id, data, deleted, head) = row?;
            let v: Value = serde_json::from_str(&data)?;
            out.push_str(&format!(
                "activity\u{1}{id}\u{1}{v}\u{1}{deleted}\u{1}{head:?}\n"
            ));
        }
        let mut stmt = self.conn.prepare(
            "SELECT version_id, note_id, parents, body, derived FROM note_version ORDER BY version_id",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(format!(
                "note\u{1}{}\u{1}{}\u{1}{}\u{1}{:?}\u{1}{}\n",
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, bool>(4)?
            ))
        })?;
        for row in rows {
            out.push_str(&row?);
        }
        Ok(out)
    }

    /// The text a note shows now: its one head, the merge of several, or (in conflict) the newest.
    pub fn note_text(&self, id: wardside_domain::ActivityId) -> Result<String> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT nv.body FROM activity a JOIN note_version nv ON nv.rowid = a.head WHERE a.id = ?1",
            )?
            .query_row([id.to_string()], |r| r.get(0))
            .optional()?
            .unwrap_or_default())
    }

    /// Whether an entry is off the timeline.
    pub fn is_deleted(&self, id: wardside_domain::ActivityId) -> Result<bool> {
        Ok(self
            .conn
            .prepare_cached("SELECT deleted FROM activity WHERE id = ?1")?
            .query_row([id.to_string()], |r| r.get(0))?)
    }

    /// Settings for applying a large pull (a first sync writes into every index at once):
    /// a 512 MiB page cache, so a write does not read, decrypt and re-encrypt pages it had a
    /// moment ago, and a 64 MiB write-ahead log between checkpoints instead of 4 MiB, so a
    /// page written by several transactions is copied into the file once. Returns what to give
    /// [`Store::end_large_pull`].
    pub fn begin_large_pull(&self) -> Result<LargePull> {
        let cache: i64 = self.conn.query_row("PRAGMA cache_size", [], |r| r.get(0))?;
        let checkpoint: i64 = self
            .conn
            .query_row("PRAGMA wal_autocheckpoint", [], |r| r.get(0))?;
        self.conn.execute_batch("PRAGMA cache_size = -524288;")?;
        self.conn
            .query_row("PRAGMA wal_autocheckpoint = 16384", [], |_| Ok(()))?;
        Ok(LargePull { cache, checkpoint })
    }

    /// Put the settings back, and fold the log into the file (shrinking it).
    pub fn end_large_pull(&self, saved: LargePull) -> Result<()> {
        self.conn
            .execute_batch(&format!("PRAGMA cache_size = {};", saved.cache))?;
        self.conn.query_row(
            &format!("PRAGMA wal_autocheckpoint = {}", saved.checkpoint),
            [],
            |_| Ok(()),
        )?;
        self.conn
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        Ok(())
    }

    /// Pages in the database file (with [`Store::limit_pages`], how the full-disk tests make
    /// SQLite run out of room).
    pub fn page_count(&self) -> Result<u64> {
        Ok(self
            .conn
            .query_row("PRAGMA page_count", [], |r| r.get::<_, i64>(0))?
            .unsigned_abs())
    }

    /// Let the file grow to at most `pages` pages (0: no limit): a full disk, for tests.
    pub fn limit_pages(&self, pages: u64) -> Result<()> {
        let pages = if pages == 0 { 4_294_967_294 } else { pages };
        self.conn
            .query_row(&format!("PRAGMA max_page_count = {pages}"), [], |_| Ok(()))?;
        Ok(())
    }

    /// Every op id this store holds, applied or held, sorted.
    pub fn op_ids(&self) -> Result<Vec<String>> {
        let mut stmt = self
            .conn
            .prepare("SELECT op_id FROM op UNION SELECT op_id FROM op_held ORDER BY 1")?;
        let rows = stmt.query_map([], |r| r.get(0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Every note version saved by a person (derived merges aside), sorted: id and a hash of the
    /// text, so a test can check every version is everywhere, byte for byte.
    pub fn note_version_ids(&self) -> Result<Vec<String>> {
        let mut stmt = self.conn.prepare(
            "SELECT version_id, body FROM note_version WHERE derived = 0 ORDER BY version_id",
        )?;
        let rows = stmt.query_map([], |r| {
            let id: String = r.get(0)?;
            let body: String = r.get(1)?;
            let h = ring::digest::digest(&ring::digest::SHA256, body.as_bytes());
            Ok(format!(
                "{id}:{}",
                h.as_ref()[..8]
                    .iter()
                    .map(|b| format!("{b:02x}"))
                    .collect::<String>()
            ))
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}

fn count_received(tx: &rusqlite::Transaction<'_>, device: &str, n: u64) -> Result<()> {
    tx.prepare_cached(
        "INSERT INTO received_count (device_id, ops) VALUES (?1, ?2)
         ON CONFLICT (device_id) DO UPDATE SET ops = ops + excluded.ops",
    )?
    .execute(params![device, n as i64])?;
    Ok(())
}

/// The client and case an entity belongs to, for the audit trail of a received op.
fn scope_of(
    tx: &rusqlite::Transaction<'_>,
    entity: Entity,
    id: Uuid,
) -> Result<(Option<String>, Option<String>)> {
    let key = id.to_string();
    let case_of = |case: Option<String>| -> Result<(Option<String>, Option<String>)> {
        let client = match &case {
            Some(c) => tx
                .prepare_cached("SELECT client_id FROM kase WHERE id = ?1")?
                .query_row([c], |r| r.get(0))
                .optional()?,
            None => None,
        };
        Ok((client, case))
    };
    let col = |sql: &str| -> Result<Option<String>> {
        Ok(tx
            .prepare_cached(sql)?
            .query_row([&key], |r| r.get::<_, Option<String>>(0))
            .optional()?
            .flatten())
    };
    match entity {
        Entity::Client => Ok((Some(key.clone()), None)),
        Entity::Case => case_of(Some(key.clone())),
        Entity::Issue => case_of(col("SELECT case_id FROM issue WHERE id = ?1")?),
        Entity::Safeguarding => case_of(col("SELECT case_id FROM safeguarding WHERE id = ?1")?),
        Entity::Activity | Entity::Note => {
            case_of(col("SELECT case_id FROM activity WHERE id = ?1")?)
        }
        Entity::LegalEvent => Ok((
            col("SELECT client_id FROM legal_event WHERE id = ?1")?,
            None,
        )),
        Entity::Relative => Ok((col("SELECT client_id FROM relative WHERE id = ?1")?, None)),
        Entity::Consent => Ok((col("SELECT client_id FROM consent WHERE id = ?1")?, None)),
        Entity::Referral => Ok((col("SELECT client_id FROM referral WHERE id = ?1")?, None)),
        Entity::Team | Entity::Advocate => Ok((None, None)),
    }
}
