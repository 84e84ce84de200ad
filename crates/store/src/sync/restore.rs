//! The service restored from an older backup: it has lost whatever reached it after the backup
//! was taken. Found from the service's storage generation (its restore command changes it),
//! from its high-water cursor being behind what this device has already read, or from the
//! service refusing this device's next op for a gap. Then, in one transaction, this device
//! forgets which of its own ops the service handed back, marks every op it holds from other
//! devices as not seen again, and reads the service's log from its start. Once read to the end:
//! its own ops that did not come back are sent again ([`Store::requeue_lost`]), and other
//! devices' ops that did not come back are given back as they were signed
//! ([`Store::lost_peer_ops`]): a note survives a restore as long as one laptop holds it.

use super::sync_meta_set;
use crate::error::{Result, StoreError};
use crate::open::Store;
use rusqlite::{OptionalExtension, TransactionBehavior, params};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// What the last restore of the service found and did, for `sync status` and the app.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceRestore {
    /// When this device found it (its clock, RFC 3339).
    pub found_at: String,
    /// Why it concluded the service was restored, in plain words.
    pub why: String,
    /// Still giving back (the service's log not read to its end yet).
    pub pending: bool,
    /// This device's own changes sent again.
    pub resent: u64,
    /// Other devices' changes given back.
    pub given_back: u64,
}

/// An op from another device the service no longer hands out: everything needed to seal it
/// again exactly as its author did ([`super::PeerSeal`]), with its content as it was sealed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LostPeerOp {
    pub op_id: Uuid,
    pub device_id: Uuid,
    pub device_seq: u64,
    pub hlc: String,
    pub entity: String,
    pub entity_id: Uuid,
    pub schema_v: u32,
    pub team_id: Uuid,
    pub chain_seq: u64,
    pub chain_prev: [u8; 32],
    pub content_hash: [u8; 32],
    pub sealed: super::PeerSeal,
    /// The content as its author sealed it ([`super::OpContent`] as JSON).
    pub content: Vec<u8>,
}

/// Whether a restore is being recovered from (inside a transaction).
pub(crate) fn pending(conn: &rusqlite::Connection) -> Result<bool> {
    Ok(conn
        .prepare_cached("SELECT EXISTS (SELECT 1 FROM meta WHERE key = 'restore_pending')")?
        .query_row([], |r| r.get(0))?)
}

impl Store {
    /// The service's storage generation as last seen (`None` before the first sync that saw one).
    pub fn service_generation(&self) -> Result<Option<Uuid>> {
        Ok(self
            .meta("service_generation")?
            .and_then(|s| s.parse().ok()))
    }

    /// Remember the service's generation without treating it as a restore (the first one seen).
    pub fn set_service_generation(&self, generation: Uuid) -> Result<()> {
        self.set_meta("service_generation", &generation.to_string())
    }

    /// The service was restored: start recovering (see the module). `generation` is the
    /// service's new one, if it gave one. Safe to call again while a recovery is under way: it
    /// starts over, which repeats only work that is a no-op the second time.
    pub fn begin_service_restore(&mut self, generation: Option<Uuid>, why: &str) -> Result<()> {
        let me = self.device_id.clone();
        let now = self.clock.now().to_rfc3339();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        sync_meta_set(&tx, "sync_cursor", "0")?;
        tx.execute(
            "UPDATE own_seal SET confirmed = 0, resent = 0 WHERE device_id = ?1",
            [&me],
        )?;
        tx.execute("DELETE FROM own_tally WHERE device_id = ?1", [&me])?;
        tx.execute("UPDATE op_envelope SET reseen = 0", [])?;
        sync_meta_set(&tx, "own_still_lost", "0")?;
        sync_meta_set(&tx, "restore_pending", "1")?;
        if let Some(g) = generation {
            sync_meta_set(&tx, "service_generation", &g.to_string())?;
        }
        let notice = ServiceRestore {
            found_at: now,
            why: why.to_owned(),
            pending: true,
            resent: 0,
            given_back: 0,
        };
        sync_meta_set(&tx, "service_restored", &serde_json::to_string(&notice)?)?;
        tx.commit()?;
        Ok(())
    }

    /// How many other devices' ops this device keeps as they were signed (what it could give
    /// back to a restored service).
    pub fn kept_envelopes(&self) -> Result<u64> {
        Ok(self
            .conn
            .query_row("SELECT count(*) FROM op_envelope", [], |r| {
                r.get::<_, i64>(0)
            })?
            .unsigned_abs())
    }

    /// Whether a restore of the service is being recovered from.
    pub fn restore_pending(&self) -> Result<bool> {
        pending(&self.conn)
    }

    /// Other devices' ops held here that the service did not hand out again since the restore
    /// was found, in each sender's chain order (the service takes a chain's links in order), at
    /// most `limit`. Empty unless a restore is being recovered from.
    pub fn lost_peer_ops(&self, limit: usize) -> Result<Vec<LostPeerOp>> {
        if !self.restore_pending()? {
            return Ok(Vec::new());
        }
        let mut stmt = self.conn.prepare_cached(
            "SELECT e.op_id, e.device_id, o.device_seq, o.hlc, o.entity, o.entity_id, o.schema_v, e.team_id,
                    e.chain_seq, e.chain_prev, e.content_hash, e.org_id, e.case_id, e.epoch, e.nonce, e.signature,
                    o.kind, o.field, o.payload, coalesce((SELECT actor FROM audit a WHERE a.op_id = e.op_id), '')
             FROM op_envelope e JOIN op o ON o.op_id = e.op_id WHERE e.reseen = 0
             ORDER BY e.device_id, e.team_id, e.chain_seq LIMIT ?1",
        )?;
        let rows = stmt.query_map([limit as i64], |r| {
            Ok((
                (
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, i64>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, String>(5)?,
                    r.get::<_, i64>(6)?,
                    r.get::<_, String>(7)?,
                ),
                (
                    r.get::<_, i64>(8)?,
                    r.get::<_, Vec<u8>>(9)?,
                    r.get::<_, Vec<u8>>(10)?,
                    r.get::<_, String>(11)?,
                    r.get::<_, Option<String>>(12)?,
                    r.get::<_, u32>(13)?,
                    r.get::<_, Vec<u8>>(14)?,
                    r.get::<_, Vec<u8>>(15)?,
                ),
                (
                    r.get::<_, String>(16)?,
                    r.get::<_, Option<String>>(17)?,
                    r.get::<_, String>(18)?,
                    r.get::<_, String>(19)?,
                ),
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (
                (op_id, device_id, device_seq, hlc, entity, entity_id, schema_v, team_id),
                (chain_seq, chain_prev, content_hash, org_id, case_id, epoch, nonce, signature),
                (kind, field, payload, actor),
            ) = row?;
            // The content exactly as its author made it (one canonical form: `OpContent` as
            // JSON, its payload from the op log): the content hash checks it when it is sealed
            // again.
            let content = serde_json::to_vec(&super::OpContent {
                kind,
                field,
                payload: serde_json::from_str(&payload)?,
                actor,
            })?;
            out.push(LostPeerOp {
                op_id: parse(&op_id)?,
                device_id: parse(&device_id)?,
                device_seq: device_seq.unsigned_abs(),
                hlc,
                entity,
                entity_id: parse(&entity_id)?,
                schema_v: u32::try_from(schema_v).unwrap_or(u32::MAX),
                team_id: parse(&team_id)?,
                chain_seq: chain_seq.unsigned_abs(),
                chain_prev: array(chain_prev)?,
                content_hash: array(content_hash)?,
                sealed: super::PeerSeal {
                    org_id: parse(&org_id)?,
                    case_id: case_id.as_deref().map(parse).transpose()?,
                    epoch,
                    nonce: array(nonce)?,
                    signature,
                },
                content,
            });
        }
        Ok(out)
    }

    /// The service took these ops back (or said it has them): they are not lost any more.
    /// `given_back` counts the ones it did not have.
    pub fn mark_given_back(&mut self, ids: &[Uuid], given_back: u64) -> Result<()> {
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        for id in ids {
            tx.prepare_cached("UPDATE op_envelope SET reseen = 1 WHERE op_id = ?1")?
                .execute([id.to_string()])?;
        }
        bump_notice(&tx, 0, given_back)?;
        tx.commit()?;
        Ok(())
    }

    /// Ops the service would not take back (its rules refuse them now): not tried again in this
    /// recovery; they stay here, applied, and are counted in `sync status`.
    pub fn give_up_giving_back(&mut self, ids: &[Uuid]) -> Result<()> {
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        for id in ids {
            tx.prepare_cached("UPDATE op_envelope SET reseen = 2 WHERE op_id = ?1")?
                .execute([id.to_string()])?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Count own changes sent again because of a restore.
    pub fn note_resent_after_restore(&mut self, resent: u64) -> Result<()> {
        if resent == 0 || !self.restore_pending()? {
            return Ok(());
        }
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        bump_notice(&tx, resent, 0)?;
        tx.commit()?;
        Ok(())
    }

    /// The service's log was read to its end and everything lost was offered back: the
    /// recovery is over (ops given up on are marked seen again for the next one).
    pub fn finish_service_restore(&mut self) -> Result<()> {
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        tx.execute("UPDATE op_envelope SET reseen = 1 WHERE reseen <> 1", [])?;
        tx.execute("DELETE FROM meta WHERE key = 'restore_pending'", [])?;
        if let Some(mut n) = notice(&tx)? {
            n.pending = false;
            sync_meta_set(&tx, "service_restored", &serde_json::to_string(&n)?)?;
        }
        tx.commit()?;
        Ok(())
    }

    /// The last restore of the service this device found, if any.
    pub fn last_service_restore(&self) -> Result<Option<ServiceRestore>> {
        notice(&self.conn)
    }

    /// The service refused this device's op for a gap (it expects `device_seq`) or a broken
    /// chain (it expects `chain_seq` in `team`): it lost what this device sent before. Ops it
    /// had acknowledged from there on are marked to be sent again, in order. Returns how many.
    pub fn requeue_own_from(&mut self, device_seq: u64, chain: Option<(Uuid, u64)>) -> Result<u64> {
        let me = self.device_id.clone();
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let n = match chain {
            None => tx.execute(
                "UPDATE op SET server_seq = NULL WHERE device_id = ?1 AND device_seq >= ?2
                 AND server_seq IS NOT NULL AND op_id IN (SELECT op_id FROM own_seal)",
                params![me, device_seq as i64],
            )?,
            Some((team, from)) => tx.execute(
                "UPDATE op SET server_seq = NULL WHERE server_seq IS NOT NULL AND op_id IN
                   (SELECT op_id FROM own_seal WHERE device_id = ?1 AND team_id = ?2 AND chain_seq >= ?3)",
                params![me, team.to_string(), from as i64],
            )?,
        };
        tx.commit()?;
        Ok(n as u64)
    }
}

fn array<const N: usize>(v: Vec<u8>) -> Result<[u8; N]> {
    v.try_into()
        .map_err(|_| StoreError::Corrupt("a kept seal has the wrong length".into()))
}

fn parse(s: &str) -> Result<Uuid> {
    s.parse()
        .map_err(|_| StoreError::Corrupt("an id in the op log is not a UUID".into()))
}

fn notice(conn: &rusqlite::Connection) -> Result<Option<ServiceRestore>> {
    let json: Option<String> = conn
        .prepare_cached("SELECT value FROM meta WHERE key = 'service_restored'")?
        .query_row([], |r| r.get(0))
        .optional()?;
    Ok(json.and_then(|j| serde_json::from_str(&j).ok()))
}

fn bump_notice(conn: &rusqlite::Connection, resent: u64, given_back: u64) -> Result<()> {
    if let Some(mut n) = notice(conn)? {
        n.resent += resent;
        n.given_back += given_back;
        sync_meta_set(conn, "service_restored", &serde_json::to_string(&n)?)?;
    }
    Ok(())
}
