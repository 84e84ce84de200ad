//! Ops from other devices coming in: each page applied in one transaction with its cursor,
//! every op's place in its sender's hash chain checked, ops that cannot be applied yet (or must
//! not be) held with their reason, never dropped.
//!
//! **Chains.** Each device's ops in a team are numbered from 1 and each names the content hash
//! of the one before ([`ChainInfo`]). For every (device, team) the store keeps how far the chain
//! is complete with every link checked, and the highest place seen. An op that continues the
//! complete part extends it (and any ops already waiting after it); one further on waits in
//! `chain_pending` (applied, since its sender signed it, but the gap before it is a problem until
//! it is filled); one at a place already taken by another op is a fork, and one that names the
//! wrong previous op a broken chain: both held, not applied, and reported.
//!
//! **One bad op never stops the rest.** A page is applied in one transaction; if an op cannot be
//! applied (its content breaks a rule of the merge), the page is applied again with each op in
//! a savepoint, and that op is held as `cannot-apply` with the reason, while the others apply.

use super::{parse_uuid, sync_meta_set};
use crate::clock::Hlc;
use crate::error::{Result, StoreError};
use crate::merge::{self, Effects, OpMeta};
use crate::open::Store;
use crate::write::{Entity, Op, OpKind};
use rusqlite::{OptionalExtension, Transaction, TransactionBehavior, params};
use std::collections::{BTreeMap, HashMap};
use uuid::Uuid;

use super::OpContent;

/// Where an op stands in its sender's chain in one team, as its signed envelope says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChainInfo {
    pub team_id: Uuid,
    pub seq: u64,
    /// The content hash of the sender's op `seq - 1` in the team.
    pub prev: [u8; 32],
    /// This op's content hash.
    pub hash: [u8; 32],
}

/// An op from another device, its signature and chain link checked by the sync crate, opened.
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
    pub chain: ChainInfo,
    /// The envelope as JSON, kept if the op has to be held after all (a fork, a broken chain,
    /// content the merge refuses).
    pub envelope: String,
    /// What of its envelope is kept once it is applied, to give it back to a service that
    /// loses it ([`Store::lost_peer_ops`]).
    pub sealed: PeerSeal,
}

/// The parts of a received op's envelope that its own fields and content cannot give again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerSeal {
    pub org_id: Uuid,
    pub case_id: Option<Uuid>,
    pub epoch: u32,
    pub nonce: [u8; 12],
    pub signature: Vec<u8>,
}

/// An op received but not applied, kept sealed as it came, with why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeldOp {
    pub op_id: Uuid,
    pub server_seq: i64,
    pub device_id: Uuid,
    pub device_seq: u64,
    /// See [`HeldReason`].
    pub reason: String,
    /// The envelope as JSON.
    pub envelope: String,
    /// Its place in the sender's chain, when the sender's signature was checked (`None` for an
    /// op that failed its checks or whose sender is not known: its claims prove nothing).
    pub chain: Option<ChainInfo>,
}

/// Why an op is held. The first three resolve themselves (a key or an update arrives); the
/// rest are problems a person is told about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeldReason {
    /// Sealed under a team key this device does not have yet.
    NoKey,
    /// Written by a newer Wardside.
    NewerSchema,
    /// From a device the trust log does not list yet.
    UnknownDevice,
    /// Its content hash, signature or encryption does not check: altered on the way.
    Tampered,
    /// Signed by its sender, but its HLC or content is not in the form every device writes.
    Malformed,
    /// Its sender sent it after its revocation (or after leaving the team) took effect.
    AfterRevocation,
    /// Its sender was never a member of the team it names.
    NotMember,
    /// Its sender signed another op at the same place of its chain (a copied laptop, or a
    /// stolen key).
    Forked,
    /// It does not name the op before it in its sender's chain.
    BrokenChain,
    /// Its content broke a rule of the merge.
    CannotApply,
    /// It belongs to another organisation.
    OtherOrganisation,
}

impl HeldReason {
    pub fn as_str(self) -> &'static str {
        match self {
            HeldReason::NoKey => "no-key",
            HeldReason::NewerSchema => "newer-schema",
            HeldReason::UnknownDevice => "unknown-device",
            HeldReason::Tampered => "tampered",
            HeldReason::Malformed => "malformed",
            HeldReason::AfterRevocation => "after-revocation",
            HeldReason::NotMember => "not-member",
            HeldReason::Forked => "forked",
            HeldReason::BrokenChain => "broken-chain",
            HeldReason::CannotApply => "cannot-apply",
            HeldReason::OtherOrganisation => "other-organisation",
        }
    }

    /// Held ops of these reasons were not proved to come from their claimed sender: kept as
    /// evidence, up to [`MAX_UNPROVED_HELD`].
    pub fn unproved(self) -> bool {
        matches!(
            self,
            HeldReason::UnknownDevice
                | HeldReason::Tampered
                | HeldReason::NotMember
                | HeldReason::AfterRevocation
                | HeldReason::OtherOrganisation
        )
    }
}

/// The most held ops kept that were not proved to come from a device of the organisation
/// (tampered, from unknown devices, after a revocation...), and their total size: a hostile
/// service cannot fill the laptop's disk. More are counted, reported and not kept.
pub const MAX_UNPROVED_HELD: i64 = 10_000;
pub const MAX_UNPROVED_HELD_BYTES: i64 = 64 * 1024 * 1024;

/// One of this device's own ops handed back by the service: its content hash, to confirm the
/// service holds exactly what was sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OwnSeen {
    pub op_id: Uuid,
    pub hash: [u8; 32],
    pub server_seq: i64,
    /// How it was sealed, when its signature checked with this device's own key: an op this
    /// identity made that this store never saw acknowledged (another copy of the store sent
    /// it) is taken as sent, sealed as the service holds it.
    pub seal: Option<super::outbox::Seal>,
}

/// One page (or a few) from the service, applied in one transaction.
#[derive(Debug, Default)]
pub struct ReceivedPage {
    pub ops: Vec<IncomingOp>,
    pub held: Vec<HeldOp>,
    /// Held ops that are in `ops` now (their key or sender arrived): no longer held.
    pub released: Vec<Uuid>,
    /// This device's own ops as the service handed them back.
    pub own: Vec<OwnSeen>,
    /// The cursor to save with the page; `None` leaves it.
    pub cursor: Option<i64>,
}

/// What a page did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PageOutcome {
    pub applied: usize,
    pub duplicates: usize,
    pub held: usize,
    /// Unproved ops over the limit: counted, not kept.
    pub not_kept: usize,
    /// Own ops the service handed back altered.
    pub own_altered: usize,
    /// Ops under this device's id that it never made (not in its log): another copy of this
    /// laptop's store (a copy, or this laptop restored from an older backup of itself) made
    /// them. This store must take a new identity ([`Store::change_device_id`]).
    pub own_unknown: usize,
    pub effects: Effects,
}

/// A chain as this device has it, while a page is applied.
#[derive(Debug, Clone, Copy)]
struct ChainState {
    contiguous: u64,
    hash: [u8; 32],
    max_seq: u64,
    dirty: bool,
}

enum Verdict {
    Apply,
    Hold(HeldReason),
}

struct Chains<'t, 'c> {
    tx: &'t Transaction<'c>,
    states: HashMap<(Uuid, Uuid), ChainState>,
    now: String,
}

fn blob32(v: Vec<u8>) -> [u8; 32] {
    v.try_into().unwrap_or([0; 32])
}

impl Chains<'_, '_> {
    fn state(&mut self, device: Uuid, team: Uuid) -> Result<&mut ChainState> {
        use std::collections::hash_map::Entry;
        match self.states.entry((device, team)) {
            Entry::Occupied(e) => Ok(e.into_mut()),
            Entry::Vacant(e) => {
                let row = self
                    .tx
                    .prepare_cached(
                        "SELECT contiguous, hash, max_seq FROM peer_chain WHERE device_id = ?1 AND team_id = ?2",
                    )?
                    .query_row(params![device.to_string(), team.to_string()], |r| {
                        Ok((r.get::<_, i64>(0)?, r.get::<_, Vec<u8>>(1)?, r.get::<_, i64>(2)?))
                    })
                    .optional()?;
                let s = match row {
                    Some((c, h, m)) => ChainState {
                        contiguous: c.unsigned_abs(),
                        hash: blob32(h),
                        max_seq: m.unsigned_abs(),
                        dirty: false,
                    },
                    None => ChainState {
                        contiguous: 0,
                        hash: [0; 32],
                        max_seq: 0,
                        dirty: false,
                    },
                };
                Ok(e.insert(s))
            }
        }
    }

    /// Place an op (proved to be its sender's) in its chain.
    fn place(&mut self, device: Uuid, link: &ChainInfo) -> Result<Verdict> {
        let tx = self.tx;
        let now = self.now.clone();
        let (d, t) = (device.to_string(), link.team_id.to_string());
        let s = self.state(device, link.team_id)?;
        if link.seq == 0 || link.seq <= s.contiguous {
            return Ok(Verdict::Hold(HeldReason::Forked));
        }
        if link.seq == s.contiguous + 1 {
            if link.prev != s.hash {
                return Ok(Verdict::Hold(HeldReason::BrokenChain));
            }
            s.contiguous = link.seq;
            s.hash = link.hash;
            s.max_seq = s.max_seq.max(link.seq);
            s.dirty = true;
            // Ops that were waiting after this one now join the complete part, link by link.
            if s.max_seq > s.contiguous {
                loop {
                    let next = s.contiguous + 1;
                    let waiting: Option<(Vec<u8>, Vec<u8>)> = tx
                        .prepare_cached(
                            "SELECT hash, prev FROM chain_pending WHERE device_id = ?1 AND team_id = ?2 AND seq = ?3",
                        )?
                        .query_row(params![d, t, next as i64], |r| Ok((r.get(0)?, r.get(1)?)))
                        .optional()?;
                    let Some((hash, prev)) = waiting else { break };
                    if blob32(prev) != s.hash {
                        tx.prepare_cached(
                            "INSERT INTO chain_break (device_id, team_id, seq, found_at) VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING",
                        )?
                        .execute(params![d, t, next as i64, now])?;
                        break;
                    }
                    tx.prepare_cached(
                        "DELETE FROM chain_pending WHERE device_id = ?1 AND team_id = ?2 AND seq = ?3",
                    )?
                    .execute(params![d, t, next as i64])?;
                    s.contiguous = next;
                    s.hash = blob32(hash);
                }
            }
            return Ok(Verdict::Apply);
        }
        // Ahead of a gap: its sender signed it, so it applies; the gap is reported until the
        // ops before it arrive.
        let taken = tx
            .prepare_cached(
                "SELECT 1 FROM chain_pending WHERE device_id = ?1 AND team_id = ?2 AND seq = ?3",
            )?
            .exists(params![d, t, link.seq as i64])?;
        if taken {
            return Ok(Verdict::Hold(HeldReason::Forked));
        }
        tx.prepare_cached(
            "INSERT INTO chain_pending (device_id, team_id, seq, hash, prev) VALUES (?1, ?2, ?3, ?4, ?5)",
        )?
        .execute(params![d, t, link.seq as i64, &link.hash[..], &link.prev[..]])?;
        let s = self.state(device, link.team_id)?;
        s.max_seq = s.max_seq.max(link.seq);
        s.dirty = true;
        Ok(Verdict::Apply)
    }

    fn save(self) -> Result<()> {
        for ((device, team), s) in self.states {
            if !s.dirty {
                continue;
            }
            self.tx
                .prepare_cached(
                    "INSERT INTO peer_chain (device_id, team_id, contiguous, hash, max_seq) VALUES (?1, ?2, ?3, ?4, ?5)
                     ON CONFLICT (device_id, team_id) DO UPDATE SET contiguous = excluded.contiguous, hash = excluded.hash, max_seq = excluded.max_seq",
                )?
                .execute(params![
                    device.to_string(),
                    team.to_string(),
                    s.contiguous as i64,
                    &s.hash[..],
                    s.max_seq as i64
                ])?;
        }
        Ok(())
    }
}

/// Whether a failure applying one op is that op's fault (its content), rather than the store's
/// (a full disk, an I/O error): only the first kind is held while the rest go on.
fn op_at_fault(e: &StoreError) -> bool {
    match e {
        StoreError::Corrupt(_)
        | StoreError::Invalid(_)
        | StoreError::NotFound { .. }
        | StoreError::Refused(_) => true,
        StoreError::Database(e) => {
            matches!(
                e.sqlite_error_code(),
                Some(rusqlite::ErrorCode::ConstraintViolation | rusqlite::ErrorCode::TooBig)
            ) || e.sqlite_error_code().is_none()
        }
        _ => false,
    }
}

impl Store {
    /// Apply a page of received ops, hold what cannot (or must not) be applied, confirm this
    /// device's own ops handed back, and save the cursor: all in one transaction, so a crash
    /// leaves either the whole page or none of it.
    pub fn receive(&mut self, page: ReceivedPage) -> Result<PageOutcome> {
        // Read again from the kept cursor if a power cut undoes it (see `relaxed`).
        self.conn.execute_batch("PRAGMA synchronous = NORMAL")?;
        let out = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            match self.receive_with(&page, false) {
                Err(e) if op_at_fault(&e) => self.receive_with(&page, true),
                other => other,
            }
        }));
        super::flushed_again(&self.conn, out)
    }

    fn receive_with(&mut self, page: &ReceivedPage, careful: bool) -> Result<PageOutcome> {
        let this_device = self.device_id.clone();
        let now = self.clock.now().to_rfc3339();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut out = PageOutcome::default();
        let mut newest = Hlc::default();
        let mut chains = Chains {
            tx: &tx,
            states: HashMap::new(),
            now: now.clone(),
        };
        let mut held: Vec<HeldOp> = Vec::new();
        // Usually nothing is held: then no op needs looking up there (a first sync applies
        // hundreds of thousands of ops; two statements less each).
        let any_held = tx
            .prepare_cached("SELECT EXISTS (SELECT 1 FROM op_held)")?
            .query_row([], |r| r.get::<_, bool>(0))?;
        // After a restore of the service was found, every op it hands out again is marked seen:
        // what is left unseen once its log is read to the end, it lost ([`Store::lost_peer_ops`]).
        let restoring = super::restore::pending(&tx)?;
        for op in &page.ops {
            let id = op.op_id.to_string();
            if restoring {
                tx.prepare_cached(
                    "UPDATE op_envelope SET reseen = 1 WHERE op_id = ?1 AND reseen = 0",
                )?
                .execute([&id])?;
            }
            let released = page.released.contains(&op.op_id);
            if !released {
                let known = tx
                    .prepare_cached("SELECT 1 FROM op WHERE op_id = ?1")?
                    .exists([&id])?
                    || (any_held
                        && tx
                            .prepare_cached(
                                "SELECT 1 FROM op_held WHERE op_id = ?1 AND verified = 1",
                            )?
                            .exists([&id])?);
                if known {
                    // Carried here by a move first: now it takes its place in its author's chain.
                    let carried = tx
                        .prepare_cached("DELETE FROM op_via_transfer WHERE op_id = ?1")?
                        .execute([&id])?
                        > 0;
                    if carried {
                        let _ = chains.place(op.device_id, &op.chain)?;
                    }
                    out.duplicates += 1;
                    continue;
                }
            }
            // A held op whose sender was proved before has its place in the chain already.
            let placed_before = released
                && tx
                    .prepare_cached("SELECT verified FROM op_held WHERE op_id = ?1")?
                    .query_row([&id], |r| r.get::<_, bool>(0))
                    .optional()?
                    .unwrap_or(false);
            if !placed_before
                && let Verdict::Hold(reason) = chains.place(op.device_id, &op.chain)?
            {
                held.push(held_from(op, reason)?);
                continue;
            }
            if careful {
                tx.execute_batch("SAVEPOINT one_op")?;
                match apply_one(&tx, op, &this_device, &now) {
                    Ok(fx) => {
                        tx.execute_batch("RELEASE one_op")?;
                        out.effects += fx;
                    }
                    Err(e) if op_at_fault(&e) => {
                        tx.execute_batch("ROLLBACK TO one_op; RELEASE one_op")?;
                        held.push(held_from(op, HeldReason::CannotApply)?);
                        continue;
                    }
                    Err(e) => return Err(e),
                }
            } else {
                out.effects += apply_one(&tx, op, &this_device, &now)?;
            }
            if let Some(h) = Hlc::decode(&op.hlc) {
                newest = newest.max(h);
            }
            // Kept as sealed and signed, to give back to a service that loses it.
            tx.prepare_cached(
                "INSERT INTO op_envelope (op_id, device_id, team_id, chain_seq, chain_prev, org_id, case_id, epoch, nonce, content_hash, signature)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11) ON CONFLICT (op_id) DO NOTHING",
            )?
            .execute(params![
                id,
                op.device_id.to_string(),
                op.chain.team_id.to_string(),
                op.chain.seq as i64,
                op.chain.prev.as_slice(),
                op.sealed.org_id.to_string(),
                op.sealed.case_id.map(|c| c.to_string()),
                op.sealed.epoch,
                op.sealed.nonce.as_slice(),
                op.chain.hash.as_slice(),
                op.sealed.signature
            ])?;
            if any_held {
                tx.prepare_cached("DELETE FROM op_held WHERE op_id = ?1")?
                    .execute([&id])?;
            }
            out.applied += 1;
        }
        for h in &page.held {
            let id = h.op_id.to_string();
            let known = tx
                .prepare_cached("SELECT 1 FROM op WHERE op_id = ?1")?
                .exists([&id])?
                || tx
                    .prepare_cached("SELECT 1 FROM op_held WHERE op_id = ?1 AND verified = 1")?
                    .exists([&id])?;
            if known {
                out.duplicates += 1;
                continue;
            }
            let mut h = h.clone();
            // An op proved to be its sender's takes its place in the chain even while held
            // (for want of a key, say); one that cannot take it is held for that instead.
            if let Some(link) = &h.chain
                && let Verdict::Hold(r) = chains.place(h.device_id, link)?
            {
                h.reason = r.as_str().to_owned();
            }
            held.push(h);
        }
        chains.save()?;
        // What unproved ops already take, counted once a page (not once an op).
        let mut unproved = if held.iter().any(|h| h.chain.is_none()) {
            tx.prepare_cached(
                "SELECT count(*), coalesce(sum(length(envelope)), 0) FROM op_held WHERE verified = 0",
            )?
            .query_row([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?)))?
        } else {
            (0, 0)
        };
        for h in &held {
            match keep_held(&tx, h, &mut unproved)? {
                Kept::Yes => out.held += 1,
                Kept::Already => {}
                Kept::OverLimit => out.not_kept += 1,
            }
        }
        if out.not_kept > 0 {
            let before: i64 = tx
                .query_row(
                    "SELECT coalesce((SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'held_not_kept'), 0)",
                    [],
                    |r| r.get(0),
                )?;
            sync_meta_set(
                &tx,
                "held_not_kept",
                &(before + out.not_kept as i64).to_string(),
            )?;
        }
        let mut tally: HashMap<(String, String), i64> = HashMap::new();
        for own in &page.own {
            let sealed: Option<(Vec<u8>, String, String)> = tx
                .prepare_cached(
                    "SELECT content_hash, device_id, team_id FROM own_seal WHERE op_id = ?1",
                )?
                .query_row([own.op_id.to_string()], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?))
                })
                .optional()?;
            let id = own.op_id.to_string();
            match sealed {
                Some((h, device, team)) if h.as_slice() == own.hash => {
                    let n = tx
                        .prepare_cached(
                            "UPDATE own_seal SET confirmed = 1 WHERE op_id = ?1 AND confirmed = 0",
                        )?
                        .execute([&id])?;
                    *tally.entry((device, team)).or_default() += n as i64;
                }
                _ => {
                    // Never acknowledged here: (`None` if this store has no such op at all).
                    let unacknowledged: Option<bool> = tx
                        .prepare_cached("SELECT server_seq IS NULL FROM op WHERE op_id = ?1")?
                        .query_row([&id], |r| r.get(0))
                        .optional()?;
                    match (unacknowledged, own.seal, sealed.is_some()) {
                        // Another copy of this store sent it, sealed its own way: it is on the
                        // service, so it is sent; kept as the service holds it.
                        (Some(true), Some(seal), _) => {
                            adopt_seal(&tx, &this_device, own, &seal)?;
                            *tally
                                .entry((this_device.clone(), seal.team_id.to_string()))
                                .or_default() += 1;
                        }
                        (Some(_), _, true) => out.own_altered += 1,
                        (None, Some(_), _) => out.own_unknown += 1,
                        _ => {}
                    }
                }
            }
        }
        for ((device, team), n) in tally {
            tx.prepare_cached(
                "INSERT INTO own_tally (device_id, team_id, confirmed) VALUES (?1, ?2, ?3)
                 ON CONFLICT (device_id, team_id) DO UPDATE SET confirmed = confirmed + excluded.confirmed",
            )?
            .execute(params![device, team, n])?;
        }
        // Our clock moves past everything received, so our next edit wins over what we saw.
        let ours = tx
            .prepare_cached("SELECT value FROM meta WHERE key = 'hlc'")?
            .query_row([], |r| r.get::<_, String>(0))
            .optional()?
            .and_then(|s| Hlc::decode(&s))
            .unwrap_or_default();
        if newest > ours {
            sync_meta_set(&tx, "hlc", &newest.encode(&this_device))?;
        }
        if let Some(c) = page.cursor {
            sync_meta_set(&tx, "sync_cursor", &c.to_string())?;
        }
        tx.commit()?;
        Ok(out)
    }

    /// How many ops are held for this reason.
    pub fn held_count(&self, reason: HeldReason) -> Result<u64> {
        Ok(self
            .conn
            .prepare_cached("SELECT count(*) FROM op_held WHERE reason = ?1")?
            .query_row([reason.as_str()], |r| r.get::<_, i64>(0))?
            .unsigned_abs())
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
            // Its chain link is in the envelope: the sync crate reads it again there.
            Ok(HeldOp {
                op_id: parse_uuid(&op_id)?,
                server_seq,
                device_id: parse_uuid(&device_id)?,
                device_seq: u64::try_from(device_seq).unwrap_or(0),
                reason,
                envelope,
                chain: None,
            })
        })
        .collect()
    }

    /// Whether some other device's chain has a gap: a place seen further on than its complete
    /// part reaches.
    pub fn chain_gaps(&self) -> Result<Vec<ChainGap>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT p.device_id, p.team_id, p.contiguous, p.max_seq,
                    (SELECT min(seq) FROM chain_pending c WHERE c.device_id = p.device_id AND c.team_id = p.team_id)
             FROM peer_chain p WHERE p.max_seq > p.contiguous ORDER BY p.device_id, p.team_id",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, i64>(3)?,
                r.get::<_, Option<i64>>(4)?,
            ))
        })?;
        rows.map(|row| {
            let (d, t, contiguous, max_seq, first_waiting) = row?;
            let from = contiguous.unsigned_abs() + 1;
            Ok(ChainGap {
                device_id: parse_uuid(&d)?,
                team_id: parse_uuid(&t)?,
                from,
                to: first_waiting.map_or(max_seq.unsigned_abs(), |w| {
                    w.unsigned_abs().saturating_sub(1)
                }),
                highest_seen: max_seq.unsigned_abs(),
            })
        })
        .collect()
    }

    /// How far each other device's chain in each team is complete here, and the highest place
    /// seen: compared with what the service says it holds, to know whether to read again.
    pub fn peer_chains(&self) -> Result<BTreeMap<(Uuid, Uuid), (u64, u64)>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT device_id, team_id, contiguous, max_seq FROM peer_chain")?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, i64>(3)?,
            ))
        })?;
        let mut out = BTreeMap::new();
        for row in rows {
            let (d, t, c, m) = row?;
            out.insert(
                (parse_uuid(&d)?, parse_uuid(&t)?),
                (c.unsigned_abs(), m.unsigned_abs()),
            );
        }
        Ok(out)
    }
}

/// A gap in another device's chain: places `from..=to` missing, `highest_seen` the furthest
/// place received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainGap {
    pub device_id: Uuid,
    pub team_id: Uuid,
    pub from: u64,
    pub to: u64,
    pub highest_seen: u64,
}

fn held_from(op: &IncomingOp, reason: HeldReason) -> Result<HeldOp> {
    Ok(HeldOp {
        op_id: op.op_id,
        server_seq: op.server_seq,
        device_id: op.device_id,
        device_seq: op.device_seq,
        reason: reason.as_str().to_owned(),
        envelope: op.envelope.clone(),
        chain: Some(op.chain),
    })
}

enum Kept {
    Yes,
    Already,
    OverLimit,
}

/// Keep a held op; `taken` is (count, bytes) of unproved ops kept so far, moved on here.
fn keep_held(tx: &Transaction<'_>, h: &HeldOp, taken: &mut (i64, i64)) -> Result<Kept> {
    let unproved = h.chain.is_none();
    let before: Option<bool> = tx
        .prepare_cached("SELECT verified FROM op_held WHERE op_id = ?1")?
        .query_row([h.op_id.to_string()], |r| r.get(0))
        .optional()?;
    match before {
        // Read again: its reason may have changed, but it is not held twice, its bytes are
        // not counted twice, and proved evidence is never replaced by unproved.
        Some(was_proved) => {
            if !unproved || !was_proved {
                tx.prepare_cached(
                    "UPDATE op_held SET reason = ?2, envelope = ?3, team_id = ?4, chain_seq = ?5, verified = ?6
                     WHERE op_id = ?1",
                )?
                .execute(params![
                    h.op_id.to_string(),
                    h.reason,
                    h.envelope,
                    h.chain.map(|c| c.team_id.to_string()),
                    h.chain.map(|c| c.seq as i64),
                    !unproved
                ])?;
            }
            Ok(Kept::Already)
        }
        None => {
            let size = h.envelope.len() as i64;
            if unproved
                && (taken.0 >= MAX_UNPROVED_HELD || taken.1 + size > MAX_UNPROVED_HELD_BYTES)
            {
                return Ok(Kept::OverLimit);
            }
            tx.prepare_cached(
                "INSERT INTO op_held (op_id, server_seq, device_id, device_seq, reason, envelope, team_id, chain_seq, verified)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )?
            .execute(params![
                h.op_id.to_string(),
                h.server_seq,
                h.device_id.to_string(),
                h.device_seq as i64,
                h.reason,
                h.envelope,
                h.chain.map(|c| c.team_id.to_string()),
                h.chain.map(|c| c.seq as i64),
                !unproved
            ])?;
            if unproved {
                taken.0 += 1;
                taken.1 += size;
            }
            Ok(Kept::Yes)
        }
    }
}

/// Apply one received op: its row in the log, the merge, its audit entry.
/// Take one of this identity's ops as sent, sealed as the service holds it (see [`OwnSeen`]).
fn adopt_seal(
    tx: &rusqlite::Transaction<'_>,
    device: &str,
    own: &OwnSeen,
    seal: &super::outbox::Seal,
) -> Result<()> {
    let id = own.op_id.to_string();
    // A seal this store made for another op at that place was refused (the place is taken):
    // void; that op is sealed afresh when it is sent.
    tx.execute(
        "DELETE FROM own_seal WHERE device_id = ?1 AND team_id = ?2 AND chain_seq = ?3 AND op_id <> ?4",
        params![device, seal.team_id.to_string(), seal.chain_seq as i64, id],
    )?;
    tx.execute(
        "INSERT INTO own_seal (op_id, device_id, team_id, epoch, chain_seq, prev, nonce, content_hash, confirmed)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 1)
         ON CONFLICT (op_id) DO UPDATE SET team_id = excluded.team_id, epoch = excluded.epoch,
           chain_seq = excluded.chain_seq, prev = excluded.prev, nonce = excluded.nonce,
           content_hash = excluded.content_hash, confirmed = 1",
        params![
            id,
            device,
            seal.team_id.to_string(),
            seal.epoch,
            seal.chain_seq as i64,
            seal.prev.as_slice(),
            seal.nonce.as_slice(),
            seal.content_hash.as_slice()
        ],
    )?;
    tx.execute(
        "UPDATE op SET server_seq = ?2 WHERE op_id = ?1",
        params![id, own.server_seq],
    )?;
    Ok(())
}

fn apply_one(
    tx: &Transaction<'_>,
    op: &IncomingOp,
    this_device: &str,
    now: &str,
) -> Result<Effects> {
    let content: OpContent = serde_json::from_slice(&op.content)?;
    let entity = Entity::parse(&op.entity)
        .ok_or_else(|| StoreError::Corrupt("an op names an unknown entity".into()))?;
    let kind = OpKind::parse(&content.kind)
        .ok_or_else(|| StoreError::Corrupt("an op has an unknown kind".into()))?;
    let mut fx = apply_parts(
        tx,
        Parts {
            op_id: op.op_id,
            device_id: op.device_id,
            device_seq: op.device_seq,
            hlc: &op.hlc,
            entity,
            entity_id: op.entity_id,
            schema_v: i64::from(op.schema_v),
            server_seq: op.server_seq,
            kind,
            content: &content,
        },
        this_device,
        now,
    )?;
    if kind == OpKind::Transfer {
        let sent = Sent {
            client: op.entity_id,
            team: op.chain.team_id,
            hlc: &op.hlc,
            server_seq: op.server_seq,
        };
        fx += apply_transfer(tx, &content.payload, &sent, this_device, now)?;
    }
    Ok(fx)
}

/// One op to keep and apply: received from its author, or carried by a move.
struct Parts<'a> {
    op_id: Uuid,
    device_id: Uuid,
    device_seq: u64,
    hlc: &'a str,
    entity: Entity,
    entity_id: Uuid,
    schema_v: i64,
    server_seq: i64,
    kind: OpKind,
    content: &'a OpContent,
}

/// Keep an op in the log, apply it, and audit it (as its author's).
fn apply_parts(
    tx: &Transaction<'_>,
    p: Parts<'_>,
    this_device: &str,
    now: &str,
) -> Result<Effects> {
    let id = p.op_id.to_string();
    let device = p.device_id.to_string();
    let content = p.content;
    tx.prepare_cached(
        "INSERT INTO op (op_id, device_id, device_seq, hlc, entity, entity_id, kind, field, payload, schema_v, server_seq)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    )?
    .execute(params![
        id,
        device,
        p.device_seq as i64,
        p.hlc,
        p.entity.name(),
        p.entity_id.to_string(),
        p.kind.name(),
        content.field,
        serde_json::to_string(&content.payload)?,
        p.schema_v,
        p.server_seq
    ])?;
    let action = match p.kind {
        OpKind::Set => "update",
        OpKind::NoteVersion if content.payload.get("reason").is_some() => "amend",
        OpKind::NoteVersion => "create",
        OpKind::Transfer => "move",
        other => other.name(),
    };
    let m = OpMeta {
        op_id: &id,
        hlc: p.hlc,
        device_id: &device,
        local: false,
        server_seq: Some(p.server_seq),
        this_device,
        now,
    };
    let applied = Op {
        entity: p.entity,
        entity_id: p.entity_id,
        kind: p.kind,
        field: content.field.clone(),
        payload: content.payload.clone(),
    };
    let fx = merge::apply(tx, &applied, m)?;
    let (client, case) = scope_of(tx, p.entity, p.entity_id)?;
    tx.prepare_cached(
        "INSERT INTO audit (at, device_id, actor, action, entity, entity_id, client_id, case_id, op_id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?
    .execute(params![
        now,
        device,
        content.actor,
        action,
        p.entity.name(),
        p.entity_id.to_string(),
        client,
        case,
        id
    ])?;
    Ok(fx)
}

/// Where and by what a `transfer` op came: the person it moves, the team whose chain it came in,
/// its clock and cursor.
struct Sent<'a> {
    client: Uuid,
    team: Uuid,
    hlc: &'a str,
    server_seq: i64,
}

/// A person's record moved to a team of this device's: apply the history it carries, op by op,
/// as their authors made them. The laptop that moved it vouches for that history (it is a
/// member of the team the move came in, its own signature and chain checked), so what it may
/// carry is bounded: only ops about the person it moves, none newer than the move itself (a
/// carried op cannot win every later edit), none in this device's own name or at a place of an
/// author's sequence already held here, and only into the team the move names. Ops held here
/// already are skipped; ops this build cannot read are left (their authors' chains bring them).
/// Each is marked as carried, so that it takes its place in its author's chain if it ever
/// arrives from there too.
fn apply_transfer(
    tx: &Transaction<'_>,
    payload: &serde_json::Value,
    sent: &Sent<'_>,
    this_device: &str,
    now: &str,
) -> Result<Effects> {
    let moved: crate::write::TransferPayload = serde_json::from_value(payload.clone())?;
    let mut fx = Effects::default();
    if moved.to != sent.team {
        return Ok(fx);
    }
    let person = sent.client.to_string();
    for t in moved.ops {
        let (Some(entity), Some(kind)) = (Entity::parse(&t.entity), OpKind::parse(&t.kind)) else {
            continue;
        };
        if kind == OpKind::Transfer
            || t.schema_v > crate::write::OP_SCHEMA_VERSION
            || t.device_id.to_string() == this_device
            || t.hlc.as_str() > sent.hlc
            || Hlc::decode(&t.hlc).is_none()
        {
            continue;
        }
        let known = tx
            .prepare_cached(
                "SELECT 1 FROM op WHERE op_id = ?1 OR (device_id = ?2 AND device_seq = ?3)",
            )?
            .exists(params![
                t.op_id.to_string(),
                t.device_id.to_string(),
                t.device_seq as i64
            ])?;
        if known {
            continue;
        }
        let content = OpContent {
            kind: t.kind.clone(),
            field: t.field.clone(),
            payload: t.payload.clone(),
            actor: t.actor.clone(),
        };
        // Applied in a savepoint, then kept only if it is about the person moved.
        tx.execute_batch("SAVEPOINT carried")?;
        let applied = apply_parts(
            tx,
            Parts {
                op_id: t.op_id,
                device_id: t.device_id,
                device_seq: t.device_seq,
                hlc: &t.hlc,
                entity,
                entity_id: t.entity_id,
                schema_v: t.schema_v,
                server_seq: sent.server_seq,
                kind,
                content: &content,
            },
            this_device,
            now,
        );
        let about_person = match &applied {
            Ok(_) => scope_of(tx, entity, t.entity_id)?.0.as_deref() == Some(person.as_str()),
            Err(_) => false,
        };
        if !about_person {
            tx.execute_batch("ROLLBACK TO carried; RELEASE carried")?;
            continue;
        }
        tx.execute_batch("RELEASE carried")?;
        fx += applied?;
        tx.prepare_cached(
            "INSERT INTO op_via_transfer (op_id) VALUES (?1) ON CONFLICT DO NOTHING",
        )?
        .execute([t.op_id.to_string()])?;
    }
    Ok(fx)
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
        Entity::Amendment => case_of(col("SELECT case_id FROM amendment WHERE id = ?1")?),
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
        Entity::Task => case_of(col("SELECT case_id FROM task WHERE id = ?1")?),
        Entity::TaskUpdate => case_of(col("SELECT case_id FROM task_update WHERE id = ?1")?),
        Entity::Team | Entity::Advocate => Ok((None, None)),
    }
}
