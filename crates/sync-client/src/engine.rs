//! The sync loop (sync.md §8.6), trusting nothing the service says unless an admin signed it:
//!
//! 1. the trust log, refreshed (when the service's heads say it moved) and checked from the
//!    pinned root ([`crate::trust`]): it alone says whether this device is approved or revoked,
//!    who the other devices are, and which key epoch is current (a revocation an admin signed
//!    wipes this copy, keeping unsent work);
//! 2. team keys, accepted only as admin-signed grants of announced keys;
//! 3. held ops tried again; this device's unacknowledged ops pushed in sequence, each sealed
//!    once and sent again byte for byte (its chain link names the op before);
//! 4. pull by the service's cursor, which must move forward; every op's sender checked against
//!    the log, its signature and chain link checked, a page applied in one transaction with its
//!    cursor; this device's own ops handed back confirm the service kept them;
//! 5. gaps in any device's chain (and the service's own counts, as a hint) trigger one re-read;
//!    own ops acknowledged but never handed back are sent again;
//! 6. what is still wrong (gaps, tampered or forked ops, ops from unknown devices, lost
//!    changes, an altered trust log) is kept as problems: `sync status`, the app's header, and
//!    the report (the CLI's exit code).

use crate::error::{Result, SyncError};
use crate::identity::{self, connect, team_keys};
use crate::transport::{Options, Transport};
use crate::trust;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use std::collections::HashMap;
use uuid::Uuid;
use wardside_store::Store;
use wardside_store::sync::{
    ChainInfo, HeldOp, HeldReason, IncomingOp, OutgoingOp, OwnSeen, PeerSeal, ReceivedPage, Seal,
    SyncProblem, readable,
};
use wardside_sync::envelope::{ChainLink, Envelope, Routing, new_nonce};
use wardside_sync::keys::{KeyId, TeamKey};
use wardside_sync::protocol::{
    Heads, MAX_BODY_BYTES, MAX_PUSH_OPS, PullResponse, PushRequest, PushResponse, PushStatus,
    Rejection, StoredOp,
};
use wardside_sync::trust::{Sender, TrustState};

/// What `sync now` reports.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct SyncReport {
    pub pushed: usize,
    pub pulled: usize,
    /// New conflicts and inbox entries from this sync.
    pub conflicts: usize,
    /// This device's changes still not on the service.
    pub unsynced: u64,
    /// Ops kept back (no key yet, from a newer Wardside, or refused: see `problems`).
    pub held: usize,
    /// Ops refused because they failed their checks or came from a device the trust log does
    /// not allow (held as evidence, never applied).
    pub rejected: usize,
    /// Times a gap made this device read the log again.
    pub refills: usize,
    /// This device's changes the service had acknowledged and lost, sent again.
    pub resent: usize,
    /// The service was found restored from an older backup in this sync (said once; `sync
    /// status` keeps what was found and done: [`Store::last_service_restore`]).
    pub service_restored: bool,
    /// Other devices' changes the service had lost, given back by this device.
    pub given_back: usize,
    /// What is wrong and a person must know (by device and sequence): non-empty means the sync
    /// did not end clean.
    pub problems: Vec<SyncProblem>,
}

/// Where a long sync has got to, for a progress bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    pub phase: Phase,
    pub done: u64,
    /// Best estimate; 0 when unknown.
    pub total: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Pushing,
    Pulling,
}

/// Sync once.
pub fn sync_now(store: &mut Store, opts: &Options) -> Result<SyncReport> {
    sync_with_progress(store, opts, &mut |_| {})
}

pub fn sync_with_progress(
    store: &mut Store,
    opts: &Options,
    progress: &mut dyn FnMut(Progress),
) -> Result<SyncReport> {
    match run(store, opts, progress) {
        Err(SyncError::Pending(_)) => {
            let fp = store
                .sync_config()?
                .map(|c| c.fingerprint)
                .unwrap_or_default();
            Err(SyncError::Pending(fp))
        }
        // The service says this device is revoked: believe it only if an admin signed it.
        Err(SyncError::RevokedClaim) => match revoked_by_an_admin(store, opts) {
            Ok(Some(kept)) => Err(SyncError::Revoked { kept }),
            Ok(None) => Err(SyncError::RevokedClaim),
            Err(e) => Err(e),
        },
        other => other,
    }
}

/// Read the trust log (a revoked device may) and, if an admin's statement revokes this device,
/// wipe its copy of the organisation's records, keeping its unsent work. `None` if no admin
/// did.
fn revoked_by_an_admin(store: &mut Store, opts: &Options) -> Result<Option<u64>> {
    let (config, t) = connect(store, opts)?;
    let state = trust::refresh(store, &t, &config)?.state;
    match state {
        Some(s) if s.is_revoked(t.device()) => Ok(Some(store.wipe_organisation_data()?)),
        _ => Ok(None),
    }
}

fn run(
    store: &mut Store,
    opts: &Options,
    progress: &mut dyn FnMut(Progress),
) -> Result<SyncReport> {
    opts.cancel.check()?;
    let (mut config, t) = connect(store, opts)?;
    match config.status.as_str() {
        "revoked" => {
            return Err(SyncError::Revoked {
                kept: store.unpushed_count()?,
            });
        }
        "re-enrol" => return Err(SyncError::ReEnrol),
        _ => {}
    }
    let me = t.device();
    // The service's heads first (the first signed request also sets the clock for the rest):
    // they say whether the trust log moved (its length and last statement). Only then is it
    // fetched and checked; and always while its copy was found wrong, so that a problem found
    // is cleared only by a log that checks, never by the service's word.
    let heads: Heads = t.get("/v1/heads")?.ok()?.json()?;
    let kept = trust::load(store, &config)?;
    let unchanged = |s: &TrustState| {
        s.seq == heads.trust_seq && heads.trust_head.as_deref() == Some(B64.encode(s.head).as_str())
    };
    let trust_wrong = store.sync_problems()?.iter().any(|p| p.kind == "trust-log");
    let (state, mut found, trust_moved) = match kept {
        Some(state) if !trust_wrong && unchanged(&state) => (Some(state), Vec::new(), false),
        _ => {
            let refreshed = trust::refresh(store, &t, &config)?;
            (refreshed.state, refreshed.problems, true)
        }
    };
    store.set_trust_problem(found.first().map(|p| p.detail.as_str()))?;
    let Some(state) = state else {
        return Err(SyncError::Pending(String::new()));
    };
    if state.is_revoked(me) {
        let kept = store.wipe_organisation_data()?;
        return Err(SyncError::Revoked { kept });
    }
    if !state.is_approved(me) {
        return Err(SyncError::Pending(String::new()));
    }
    // The device's teams in the order it joined them (the first is where changes about a
    // person with no team go), by the trust log.
    let teams = crate::identity::in_joined_order(&config.teams, state.teams_of(me));
    // An admin of the organisation or of some of its teams (the app shows admin work to both;
    // the log decides what each may sign).
    let admin = state.is_any_admin(me);
    if config.status != "approved" || config.teams != teams || config.admin != admin {
        config.status = "approved".into();
        config.teams = teams.clone();
        config.admin = admin;
        store.set_sync_config(&config)?;
    }
    let mut keys: HashMap<KeyId, TeamKey> =
        team_keys(store)?.into_iter().map(|k| (k.id, k)).collect();
    let refused_keys = if trust_moved
        || heads.grants != store.grants_seen()?
        || identity::keys_wanted(store, &keys, &state, &teams)?
    {
        let (new, refused) = identity::fetch_keys(store, &t, &state, &keys)?;
        store.set_grants_seen(heads.grants)?;
        if new > 0 {
            keys = team_keys(store)?.into_iter().map(|k| (k.id, k)).collect();
        }
        refused
    } else {
        0
    };
    if refused_keys > 0 {
        found.push(SyncProblem::new(
            "key-refused",
            format!("{refused_keys} team key(s) the service offered were refused: not granted by an admin, or not the key the organisation announced"),
        ));
    }
    let mut s = Session {
        me,
        my_key: t.key().public_key(),
        copied: false,
        org: config.org_id,
        team: *teams
            .first()
            .ok_or_else(|| SyncError::Refused("this device belongs to no team".into()))?,
        keys,
        trust: state,
        report: SyncReport::default(),
        server_time_ms: None,
        push_problem: None,
    };
    // A service restored from an older backup (a new storage generation, a cursor behind what
    // was read here, or fewer of this device's ops than it handed back): every confirmation is
    // forgotten and the log is read from its start (one transaction: a sync cut short from here
    // on carries on next time); reading it finds which ops are gone, from this device and from
    // others, and they are given back.
    let mut read_all = false;
    if let Some(why) = restored(store, &heads, me, &teams)? {
        tracing::warn!(
            why,
            "the sync service was restored from an older backup; reading its log again and giving back what it lost"
        );
        store.begin_service_restore(heads.service.map(|m| m.generation), why)?;
        s.report.service_restored = true;
        s.report.refills += 1;
        read_all = true;
    } else if let Some(mark) = heads.service
        && store.service_generation()? != Some(mark.generation)
    {
        store.set_service_generation(mark.generation)?;
    }
    read_all |= store.restore_pending()?;
    s.retry_held(store)?;
    s.push(store, &t, opts, progress)?;
    if s.copied {
        // Read the whole log first: ops this store made that the other copy already sent are
        // taken as sent (they are the same ops), so only what was made here since goes under
        // the new identity.
        store.reset_sync_cursor()?;
    }
    s.pull(store, &t, opts, &heads, progress)?;
    if s.copied {
        return copied_store(store);
    }
    // A gap in any device's chain, or the service having said (in the heads read before the
    // pull, all of which the pull reads past) that it holds more than arrived: read the log
    // again (ops already here are skipped).
    if !read_all && (!store.chain_gaps()?.is_empty() || !behind(store, &heads, me)?.is_empty()) {
        s.report.refills += 1;
        tracing::warn!("a gap in the ops received; reading the log again");
        store.reset_sync_cursor()?;
        s.pull(store, &t, opts, &heads, progress)?;
        read_all = true;
    }
    if read_all {
        // Still claiming more than it hands out: the chains say what arrived; this is reported,
        // unless that device's ops are held here already and reported as held, by sequence
        // (ops waiting for a key or an update are not problems: they do not count).
        let waiting = [HeldReason::NoKey.as_str(), HeldReason::NewerSchema.as_str()];
        let held: std::collections::BTreeSet<Uuid> = store
            .held_ops()?
            .iter()
            .filter(|h| !waiting.contains(&h.reason.as_str()))
            .map(|h| h.device_id)
            .collect();
        for h in behind(store, &heads, me)?
            .into_iter()
            .filter(|h| !held.contains(&h.device_id))
        {
            found.push(SyncProblem {
                kind: "counts".into(),
                device_id: Some(h.device_id),
                team_id: Some(h.team_id),
                seq_from: None,
                seq_to: Some(h.chain_seq),
                count: 1,
                detail: format!(
                    "the service says it holds this device's ops up to {}, but hands out fewer; what arrived is all this laptop has",
                    h.chain_seq
                ),
            });
        }
    }
    // Written on a laptop of a person's old team before it heard the person moved: carried on
    // to the team that holds the person now (this laptop is in both), then sent.
    let forwarded = if teams.len() > 1 {
        store.write(|w| w.forward_moved())?
    } else {
        0
    };
    if forwarded > 0 {
        tracing::info!(
            forwarded,
            "carried changes made in a person's old team to their new one"
        );
        s.push(store, &t, opts, progress)?;
    }
    // Work kept through a revocation is shown again once the laptop is enrolled again.
    store.reapply_kept()?;
    // Own ops the service acknowledged but never handed back were lost: send them again.
    let lost = store.requeue_lost()?;
    if lost.resent > 0 {
        tracing::warn!(
            resent = lost.resent,
            "the service lost changes it had acknowledged; sending them again"
        );
        s.report.resent += lost.resent;
        store.note_resent_after_restore(lost.resent as u64)?;
        s.push(store, &t, opts, progress)?;
    }
    // After a restore, read to the end: other devices' ops the service did not hand out again
    // are given back, as their authors signed them.
    if store.restore_pending()? {
        s.give_back(store, &t, opts)?;
        if s.trust.is_any_admin(me) {
            crate::admin::grant_again(store, &t, &s.trust)?;
        }
        store.finish_service_restore()?;
    }
    if let Some(p) = s.push_problem.take() {
        found.push(p);
    }
    let problems = store.refresh_problems(&found)?;
    store.record_sync(s.server_time_ms.unwrap_or_else(|| t.server_now_ms()))?;
    s.report.unsynced = store.unpushed_count()?;
    s.report.problems = problems;
    Ok(s.report)
}

/// Another copy of this laptop's store uses its identity (a copy, or this laptop restored from
/// an older backup of itself): the service holds ops under it that this store did not make, or
/// other content where this store's ops go. Nothing more is sent under it; everything made
/// here is kept, and goes under a new identity once the laptop is enrolled again (what the
/// other copy sent arrives then as another device's).
fn copied_store(store: &mut Store) -> Result<SyncReport> {
    if let Some(mut c) = store.sync_config()? {
        c.status = "re-enrol".into();
        store.set_sync_config(&c)?;
    }
    Err(SyncError::ReEnrol)
}

/// Where the service says it holds more of some other device's chain than has arrived here
/// (only a reason to read again: the chains themselves are what this device believes).
fn behind<'h>(
    store: &Store,
    heads: &'h Heads,
    me: Uuid,
) -> Result<Vec<&'h wardside_sync::protocol::DeviceHead>> {
    let ours = store.peer_chains()?;
    Ok(heads
        .heads
        .iter()
        .filter(|h| {
            h.device_id != me
                && h.chain_seq
                    > ours
                        .get(&(h.device_id, h.team_id))
                        .map_or(0, |(_, max_seen)| *max_seen)
        })
        .collect())
}

/// Why this device believes the service was restored from an older backup, if it does: its
/// storage generation changed, its high-water cursor is behind what was read here already, or it
/// counts fewer of this device's ops than it handed back. Hints all (a service that lies about
/// them costs a re-read, never a note); what was lost is proved by the ops themselves.
fn restored(
    store: &Store,
    heads: &Heads,
    me: Uuid,
    teams: &[Uuid],
) -> Result<Option<&'static str>> {
    if let Some(mark) = heads.service {
        if store
            .service_generation()?
            .is_some_and(|g| g != mark.generation)
        {
            return Ok(Some(
                "the sync service was restored from a backup (its storage changed since the last sync)",
            ));
        }
        if mark.high_water < store.sync_cursor()? {
            return Ok(Some(
                "the sync service holds fewer changes than this laptop had already received: it was restored from an older backup",
            ));
        }
    }
    for team in teams {
        let counted = heads
            .heads
            .iter()
            .find(|h| h.device_id == me && h.team_id == *team)
            .map_or(0, |h| h.ops);
        if counted < store.own_confirmed(*team)? {
            return Ok(Some(
                "the sync service no longer holds changes from this laptop that it had handed back: it lost them (a restore from an older backup?)",
            ));
        }
    }
    Ok(None)
}

/// Sign a batch of sealed ops, spread over the machine's cores (an Ed25519 signature is most of
/// sealing's cost; the chain links were made in order already).
fn sign_all(envelopes: &mut [Envelope], key: &wardside_sync::keys::DeviceSigningKey) {
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(8);
    let chunk = envelopes.len().div_ceil(threads).max(16);
    if envelopes.len() <= chunk {
        envelopes.iter_mut().for_each(|env| env.sign(key));
        return;
    }
    std::thread::scope(|scope| {
        for part in envelopes.chunks_mut(chunk) {
            scope.spawn(move || part.iter_mut().for_each(|env| env.sign(key)));
        }
    });
}

/// Why a push stopped part-way.
enum Stop {
    ReEnrol,
    Restamp(i64),
    /// The service lost ops of this device it had acknowledged (it expects an earlier one):
    /// send them again from there (by device sequence, or by chain place in a team).
    Resend(u64, Option<(Uuid, u64)>),
    /// The service will not take the ops as they are: they stay here, and the sync goes on.
    Blocked(String),
}

struct Session {
    me: Uuid,
    /// This device's public signing key.
    my_key: [u8; 32],
    /// Another copy of this laptop's store was found using its identity (it must enrol again).
    copied: bool,
    org: Uuid,
    team: Uuid,
    keys: HashMap<KeyId, TeamKey>,
    trust: TrustState,
    report: SyncReport,
    /// The service's clock at the last page, to the millisecond.
    server_time_ms: Option<i64>,
    /// Why this device's ops could not all be pushed, if they could not.
    push_problem: Option<SyncProblem>,
}

enum Opened {
    Apply(Box<IncomingOp>),
    Hold(HeldOp),
    /// One of this device's own ops coming back: already in its log.
    Own(OwnSeen),
}

/// What can be decided about a received op before its signature is checked.
enum Before {
    Done(Opened),
    /// Check its signature with this key.
    Verify([u8; 32], ChainLink),
}

fn held(
    server_seq: i64,
    env: &Envelope,
    reason: HeldReason,
    chain: Option<ChainInfo>,
) -> Result<Opened> {
    let r = &env.routing;
    Ok(Opened::Hold(HeldOp {
        op_id: r.op_id,
        server_seq,
        device_id: r.device_id,
        device_seq: r.device_seq,
        reason: reason.as_str().to_owned(),
        envelope: serde_json::to_string(env).map_err(|e| SyncError::Protocol(e.to_string()))?,
        chain,
    }))
}

impl Session {
    /// Unsigned: [`sign_all`] signs a batch.
    fn seal(&self, op: &OutgoingOp, seal: &Seal) -> Result<Envelope> {
        let kid = KeyId {
            team_id: seal.team_id,
            epoch: seal.epoch,
        };
        let key = self.keys.get(&kid).ok_or(SyncError::NoTeamKey)?;
        let routing = Routing {
            org_id: self.org,
            team_id: seal.team_id,
            case_id: None,
            entity: op.entity.clone(),
            entity_id: op.entity_id,
            op_id: op.op_id,
            device_id: self.me,
            device_seq: op.device_seq,
            hlc: op.hlc.clone(),
            kid,
            schema_v: op.schema_v,
            chain: Some(ChainLink {
                seq: seal.chain_seq,
                prev: seal.prev,
            }),
        };
        Envelope::seal_unsigned(routing, &op.content, key, seal.nonce)
            .map_err(|e| SyncError::Crypto(e.to_string()))
    }

    /// Seal a batch: ops sealed before exactly as before; new ones under the team's current
    /// epoch (by the trust log), each linked to the one before, their seals kept before they
    /// are sent. `None` if the first op's team's current key is not here yet (nothing is sealed
    /// under an older key once an admin has announced a newer one), or this device is not (or
    /// no longer) a member of that team.
    fn seal_batch(
        &self,
        store: &mut Store,
        ops: &[OutgoingOp],
        t: &Transport,
    ) -> Result<Option<Vec<Envelope>>> {
        let mut out = Vec::with_capacity(ops.len());
        let mut fresh = Vec::new();
        // The last link of this device's chain in each team, as this batch extends it.
        let mut tips: HashMap<Uuid, (u64, [u8; 32])> = HashMap::new();
        let mut bytes = 0usize;
        for op in ops {
            let env = match op.seal {
                Some(seal) => self.seal(op, &seal)?,
                None => {
                    // The team of the person it is about (chosen when it was written), or this
                    // device's own. Sent in order: an op that cannot go yet holds back the rest.
                    let team = op.team.unwrap_or(self.team);
                    let Some((epoch, _)) = self.trust.current_epoch(team) else {
                        break;
                    };
                    if !self.trust.teams_of(self.me).contains(&team)
                        || !self.keys.contains_key(&KeyId {
                            team_id: team,
                            epoch,
                        })
                    {
                        break;
                    }
                    let (seq, prev) = match tips.get(&team) {
                        Some(t) => *t,
                        None => store.own_chain_tip(team)?,
                    };
                    let mut seal = Seal {
                        team_id: team,
                        epoch,
                        chain_seq: seq + 1,
                        prev,
                        nonce: new_nonce().map_err(|e| SyncError::Crypto(e.to_string()))?,
                        content_hash: [0; 32],
                    };
                    let env = self.seal(op, &seal)?;
                    seal.content_hash = env.hash32().ok_or_else(|| {
                        SyncError::Crypto("a content hash is not 32 bytes".into())
                    })?;
                    tips.insert(team, (seal.chain_seq, seal.content_hash));
                    fresh.push((op.op_id, seal));
                    env
                }
            };
            bytes += env.ciphertext.len() * 4 / 3 + 800;
            if !out.is_empty() && bytes > MAX_BODY_BYTES / 2 {
                if op.seal.is_none() {
                    fresh.pop();
                }
                break;
            }
            out.push(env);
        }
        if out.is_empty() {
            return Ok(None);
        }
        sign_all(&mut out, t.key());
        store.save_seals(&fresh)?;
        Ok(Some(out))
    }

    fn push(
        &mut self,
        store: &mut Store,
        t: &Transport,
        opts: &Options,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<()> {
        let total = store.unpushed_count()?;
        let mut batch_limit = opts.push_batch.max(1);
        let mut restamped = false;
        let mut resent_from_gap = false;
        loop {
            opts.cancel.check()?;
            let ops = store.unpushed(batch_limit)?;
            if ops.is_empty() {
                return Ok(());
            }
            let Some(envelopes) = self.seal_batch(store, &ops, t)? else {
                self.push_problem = Some(SyncProblem::new(
                    "waiting-for-key",
                    "this laptop does not have the newest key of a team its changes go to (an admin grants it), or is no longer a member of that team: its changes are kept and go once it can send them",
                ));
                return Ok(());
            };
            let sent = envelopes.len();
            let body = serde_json::to_vec(&PushRequest { ops: envelopes })
                .map_err(|e| SyncError::Protocol(e.to_string()))?;
            let reply = t.post("/v1/ops/push", body)?;
            if reply.status == 413 && batch_limit > 1 {
                batch_limit = (sent / 2).max(1);
                continue;
            }
            let resp: PushResponse = match reply.status {
                200 | 409 => reply.json()?,
                _ => return Err(reply.into_error()),
            };
            let mut acks = Vec::new();
            let mut stop = None;
            for r in &resp.results {
                match (&r.status, &r.rejection, r.server_seq) {
                    (PushStatus::Accepted | PushStatus::Duplicate, _, Some(seq)) => {
                        acks.push((r.op_id, seq));
                    }
                    (_, Some(Rejection::SeqConflict), _) => {
                        stop = Some(Stop::ReEnrol);
                        break;
                    }
                    (_, Some(Rejection::ClockAhead { server_time_ms }), _) if !restamped => {
                        stop = Some(Stop::Restamp(*server_time_ms));
                        break;
                    }
                    (_, Some(Rejection::Gap { expected }), _) if !resent_from_gap => {
                        stop = Some(Stop::Resend(*expected, None));
                        break;
                    }
                    (_, Some(Rejection::BadChain { expected }), _) if !resent_from_gap => {
                        let team = ops
                            .iter()
                            .find(|o| o.op_id == r.op_id)
                            .and_then(|o| o.seal.map(|s| s.team_id))
                            .unwrap_or(self.team);
                        stop = Some(Stop::Resend(u64::MAX, Some((team, *expected))));
                        break;
                    }
                    (_, rejection, _) => {
                        stop = Some(Stop::Blocked(crate::error::rejection_words(
                            rejection.as_ref(),
                        )));
                        break;
                    }
                }
            }
            // Only ops this push sent can be acknowledged by its reply.
            acks.retain(|(id, _)| ops.iter().any(|o| o.op_id == *id));
            store.mark_pushed(&acks)?;
            self.report.pushed += acks.len();
            progress(Progress {
                phase: Phase::Pushing,
                done: self.report.pushed as u64,
                total,
            });
            match stop {
                None => {}
                Some(Stop::ReEnrol) => {
                    // The service holds other content under this identity: another copy of
                    // this store. Nothing more is sent; the log is read (see `run`).
                    self.copied = true;
                    return Ok(());
                }
                Some(Stop::Resend(seq, chain)) => {
                    // Once a sync (a service that keeps saying so is only sent the ops again
                    // once): the ops it acknowledged from there on go again, in order. None to
                    // send means the gap is not one this device can fill: reported.
                    resent_from_gap = true;
                    let n = store.requeue_own_from(seq, chain)?;
                    if n == 0 {
                        self.push_problem = Some(SyncProblem::new(
                            "push-refused",
                            "the sync service asks for changes this laptop no longer has; its changes are kept here and sent again at the next sync. If this goes on, tell whoever runs your sync service",
                        ));
                        return Ok(());
                    }
                    tracing::warn!(
                        resent = n,
                        "the service lost changes it had acknowledged; sending them again"
                    );
                    if !store.restore_pending()? {
                        store.begin_service_restore(
                            None,
                            "the sync service asked again for changes it had already acknowledged: it lost them (a restore from an older backup?)",
                        )?;
                        self.report.service_restored = true;
                        store.requeue_own_from(seq, chain)?;
                    }
                    self.report.resent += n as usize;
                    store.note_resent_after_restore(n)?;
                }
                Some(Stop::Restamp(server)) => {
                    // Our clock is more than a day ahead of the service's: re-stamp the ops it
                    // has not accepted on its time, and send them again.
                    store.restamp_unpushed(server)?;
                    restamped = true;
                }
                Some(Stop::Blocked(why)) => {
                    self.push_problem = Some(SyncProblem::new(
                        "push-refused",
                        format!(
                            "the service refuses this laptop's changes ({why}); they are kept here and sent again at the next sync"
                        ),
                    ));
                    return Ok(());
                }
            }
        }
    }

    /// Another device's op sealed again exactly as its author sealed it (same key, nonce and
    /// content give the same bytes), with its author's signature: `None` if its key is not
    /// here or the result is not what was received (its content hash says).
    fn seal_again(&self, op: &wardside_store::sync::LostPeerOp) -> Option<Envelope> {
        let kid = KeyId {
            team_id: op.team_id,
            epoch: op.sealed.epoch,
        };
        let key = self.keys.get(&kid)?;
        let routing = Routing {
            org_id: op.sealed.org_id,
            team_id: op.team_id,
            case_id: op.sealed.case_id,
            entity: op.entity.clone(),
            entity_id: op.entity_id,
            op_id: op.op_id,
            device_id: op.device_id,
            device_seq: op.device_seq,
            hlc: op.hlc.clone(),
            kid,
            schema_v: op.schema_v,
            chain: Some(ChainLink {
                seq: op.chain_seq,
                prev: op.chain_prev,
            }),
        };
        let mut env = Envelope::seal_unsigned(routing, &op.content, key, op.sealed.nonce).ok()?;
        if env.hash32() != Some(op.content_hash) {
            return None;
        }
        env.signature = op.sealed.signature.clone();
        Some(env)
    }

    /// Give back to a restored service the other devices' ops it lost (held here as their
    /// authors sealed and signed them), a batch at a time in each chain's order. Ops it takes or
    /// already has are done; ops it refuses (a chain it cannot place: a link before them lost
    /// everywhere) are not offered again in this recovery, and are reported.
    fn give_back(&mut self, store: &mut Store, t: &Transport, opts: &Options) -> Result<()> {
        let mut refused = 0usize;
        loop {
            opts.cancel.check()?;
            let lost = store.lost_peer_ops(opts.push_batch.clamp(1, MAX_PUSH_OPS))?;
            if lost.is_empty() {
                break;
            }
            let mut envelopes = Vec::with_capacity(lost.len());
            let mut unreadable = Vec::new();
            for op in &lost {
                match self.seal_again(op) {
                    Some(env) => envelopes.push(env),
                    None => unreadable.push(op.op_id),
                }
            }
            if !unreadable.is_empty() {
                refused += unreadable.len();
                store.give_up_giving_back(&unreadable)?;
            }
            if envelopes.is_empty() {
                continue;
            }
            let body = serde_json::to_vec(&PushRequest { ops: envelopes })
                .map_err(|e| SyncError::Protocol(e.to_string()))?;
            let reply = t.post("/v1/ops/push", body)?;
            let resp: PushResponse = match reply.status {
                200 | 409 => reply.json()?,
                _ => return Err(reply.into_error()),
            };
            let mut taken = Vec::new();
            let mut given = 0u64;
            let mut not_taken = Vec::new();
            for op in &lost {
                match resp.results.iter().find(|r| r.op_id == op.op_id) {
                    Some(r) if r.server_seq.is_some() && r.status == PushStatus::Accepted => {
                        given += 1;
                        taken.push(op.op_id);
                    }
                    Some(r) if r.server_seq.is_some() && r.status == PushStatus::Duplicate => {
                        taken.push(op.op_id);
                    }
                    _ if unreadable.contains(&op.op_id) => {}
                    _ => not_taken.push(op.op_id),
                }
            }
            store.mark_given_back(&taken, given)?;
            self.report.given_back += given as usize;
            if !not_taken.is_empty() {
                refused += not_taken.len();
                store.give_up_giving_back(&not_taken)?;
            }
        }
        if refused > 0 {
            tracing::warn!(
                refused,
                "the service would not take back some of the other laptops' changes it lost"
            );
            self.push_problem.get_or_insert(SyncProblem::new(
                "give-back-refused",
                format!("the sync service lost {refused} change(s) from other laptops and would not take them back from this one; they are kept here, and their authors' laptops can still send them"),
            ));
        }
        if self.report.given_back > 0 {
            tracing::warn!(
                given_back = self.report.given_back,
                "gave back other laptops' changes the service had lost"
            );
        }
        Ok(())
    }

    /// What can be decided about an op before its signature: our own, another organisation's,
    /// a sender the trust log does not allow (held as evidence, unproved), or the key to check
    /// its signature with.
    fn before(&self, server_seq: i64, env: &Envelope) -> Result<Before> {
        let r = &env.routing;
        if r.device_id == self.me {
            // Its seal is kept only if this identity's key signed it (see `OwnSeen`).
            let seal = match (
                r.chain,
                env.hash32(),
                <[u8; 12]>::try_from(env.nonce.as_slice()),
            ) {
                (Some(link), Some(content_hash), Ok(nonce)) if env.verify(&self.my_key).is_ok() => {
                    Some(Seal {
                        team_id: r.team_id,
                        epoch: r.kid.epoch,
                        chain_seq: link.seq,
                        prev: link.prev,
                        nonce,
                        content_hash,
                    })
                }
                _ => None,
            };
            return Ok(Before::Done(Opened::Own(OwnSeen {
                op_id: r.op_id,
                hash: env.hash32().unwrap_or([0; 32]),
                server_seq,
                seal,
            })));
        }
        if r.org_id != self.org {
            return held(server_seq, env, HeldReason::OtherOrganisation, None).map(Before::Done);
        }
        let Some(link) = r.chain else {
            return held(server_seq, env, HeldReason::Malformed, None).map(Before::Done);
        };
        let reason = match self.trust.sender(r.device_id, r.team_id, link.seq) {
            Sender::Trusted(key) => return Ok(Before::Verify(key, link)),
            Sender::Unknown => HeldReason::UnknownDevice,
            Sender::NotMember => HeldReason::NotMember,
            Sender::AfterCutoff { .. } => HeldReason::AfterRevocation,
        };
        held(server_seq, env, reason, None).map(Before::Done)
    }

    /// After the signature checked: the op's place in the chain is proved; open it if its key
    /// is here and it is in the form every device writes.
    fn after(&self, server_seq: i64, env: &Envelope, link: ChainLink) -> Result<Opened> {
        let r = &env.routing;
        let chain = ChainInfo {
            team_id: r.team_id,
            seq: link.seq,
            prev: link.prev,
            hash: env.hash32().unwrap_or([0; 32]),
        };
        if !r.hlc_is_exact() {
            return held(server_seq, env, HeldReason::Malformed, Some(chain));
        }
        // Only a key the trust log announced for that epoch (keys are checked when granted).
        let Some(key) = self
            .keys
            .get(&r.kid)
            .filter(|_| self.trust.epoch_key_id(&r.kid).is_some() && r.kid.team_id == r.team_id)
        else {
            return held(server_seq, env, HeldReason::NoKey, Some(chain));
        };
        let content = match env.decrypt(key) {
            Ok(c) => c,
            Err(_) => return held(server_seq, env, HeldReason::Malformed, Some(chain)),
        };
        if !readable(r.schema_v, &r.entity, &content) {
            return held(server_seq, env, HeldReason::NewerSchema, Some(chain));
        }
        Ok(Opened::Apply(Box::new(IncomingOp {
            op_id: r.op_id,
            device_id: r.device_id,
            device_seq: r.device_seq,
            hlc: r.hlc.clone(),
            entity: r.entity.clone(),
            entity_id: r.entity_id,
            schema_v: r.schema_v,
            server_seq,
            content,
            chain,
            envelope: serde_json::to_string(env).map_err(|e| SyncError::Protocol(e.to_string()))?,
            sealed: PeerSeal {
                org_id: r.org_id,
                case_id: r.case_id,
                epoch: r.kid.epoch,
                nonce: env
                    .nonce
                    .as_slice()
                    .try_into()
                    .map_err(|_| SyncError::Protocol("an op's nonce is malformed".into()))?,
                signature: env.signature.clone(),
            },
        })))
    }

    /// Check and open ops: senders against the trust log, signatures as one batch. Pure: pages
    /// are opened on every core at once.
    fn open_many(&self, items: &[(i64, &Envelope)]) -> Result<Vec<Opened>> {
        let mut out: Vec<Option<Opened>> = Vec::with_capacity(items.len());
        let mut to_verify = Vec::new();
        for (i, (server_seq, env)) in items.iter().enumerate() {
            match self.before(*server_seq, env)? {
                Before::Done(o) => out.push(Some(o)),
                Before::Verify(key, link) => {
                    out.push(None);
                    to_verify.push((i, key, link));
                }
            }
        }
        let batch: Vec<(&Envelope, &[u8; 32])> = to_verify
            .iter()
            .map(|(i, key, _)| (items[*i].1, key))
            .collect();
        let checked = Envelope::verify_many(&batch);
        for ((i, _, link), ok) in to_verify.iter().zip(checked) {
            let (server_seq, env) = items[*i];
            out[*i] = Some(match ok {
                Ok(()) => self.after(server_seq, env, *link)?,
                Err(e) => {
                    // Never applied, never content in the log: the op id and what failed.
                    tracing::warn!(op = %env.routing.op_id, error = %e, "an op failed its checks; held");
                    held(server_seq, env, HeldReason::Tampered, None)?
                }
            });
        }
        out.into_iter()
            .map(|o| o.ok_or_else(|| SyncError::Protocol("an op was not opened".into())))
            .collect()
    }

    /// Open a page's ops in order, spread over the machine's cores: checking Ed25519
    /// signatures is most of a received op's cost.
    fn open_page(&self, ops: &[StoredOp]) -> Result<Vec<Opened>> {
        let threads = std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .min(8);
        let chunk = ops.len().div_ceil(threads).max(64);
        std::thread::scope(|scope| {
            let parts: Vec<_> = ops
                .chunks(chunk)
                .map(|part| {
                    scope.spawn(move || {
                        let items: Vec<_> =
                            part.iter().map(|o| (o.server_seq, &o.envelope)).collect();
                        self.open_many(&items)
                    })
                })
                .collect();
            let mut out = Vec::with_capacity(ops.len());
            for p in parts {
                out.extend(
                    p.join()
                        .map_err(|_| SyncError::Crypto("a worker thread failed".into()))??,
                );
            }
            Ok(out)
        })
    }

    /// Ops held for want of a key, an update or an approval are tried again; those held
    /// because they failed their checks, forked or broke a chain stay held (they are evidence).
    fn retry_held(&mut self, store: &mut Store) -> Result<()> {
        let retry = [
            HeldReason::NoKey,
            HeldReason::NewerSchema,
            HeldReason::UnknownDevice,
        ];
        let held_now = store.held_ops()?;
        if held_now.is_empty() {
            return Ok(());
        }
        let mut page = ReceivedPage::default();
        for h in held_now {
            if !retry.iter().any(|r| r.as_str() == h.reason) {
                continue;
            }
            let Ok(env) = serde_json::from_str::<Envelope>(&h.envelope) else {
                continue;
            };
            match self.open_many(&[(h.server_seq, &env)])?.pop() {
                Some(Opened::Apply(op)) => {
                    page.released.push(op.op_id);
                    page.ops.push(*op);
                }
                // Its sender is known now, but its key is not here yet: proved, still held.
                Some(Opened::Hold(again))
                    if again.chain.is_some() && h.reason == "unknown-device" =>
                {
                    page.held.push(again);
                }
                _ => {}
            }
        }
        if !page.ops.is_empty() || !page.held.is_empty() {
            let out = store.receive(page)?;
            self.report.pulled += out.applied;
            self.report.conflicts += out.effects.conflicts + out.effects.inbox;
        }
        Ok(())
    }

    fn pull(
        &mut self,
        store: &mut Store,
        t: &Transport,
        opts: &Options,
        heads: &Heads,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<()> {
        let ours: u64 = store.peer_chains()?.values().map(|(c, _)| *c).sum();
        let theirs: u64 = heads
            .heads
            .iter()
            .filter(|h| h.device_id != self.me)
            .map(|h| h.ops)
            .sum();
        let total = theirs.saturating_sub(ours);
        // A large pull gets settings of its own while it runs (given back after).
        const LARGE_PULL: u64 = 20_000;
        let saved = if total > LARGE_PULL {
            Some(store.begin_large_pull()?)
        } else {
            None
        };
        let result = self.pull_pages(store, t, opts, total, progress);
        if let Some(saved) = saved {
            store.end_large_pull(saved)?;
        }
        result
    }

    /// Pages fetched ahead of the one being applied, at most.
    const GROUP_PAGES: usize = 16;
    /// Ops applied in one transaction, at most (plus one page).
    const GROUP_OPS: usize = 16_000;

    fn pull_pages(
        &mut self,
        store: &mut Store,
        t: &Transport,
        opts: &Options,
        total: u64,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<()> {
        let start = store.sync_cursor()?;
        // Fetching and opening page N+1 overlaps applying page N: a thread fetches and opens,
        // this one applies, each page in one transaction with its cursor, in order.
        let (tx, rx) =
            std::sync::mpsc::sync_channel::<Result<(PullResponse, Vec<Opened>)>>(Self::GROUP_PAGES);
        let this = &*self;
        let outcome = std::thread::scope(|scope| {
            scope.spawn(move || {
                let mut cursor = start;
                loop {
                    let fetched = t
                        .get(&format!("/v1/ops?after={cursor}&limit={}", opts.page_size))
                        .and_then(|r| r.ok())
                        .and_then(|r| r.json::<PullResponse>())
                        .and_then(|page| check_page(&page, cursor).map(|()| page))
                        .and_then(|page| {
                            let opened = this.open_page(&page.ops)?;
                            Ok((page, opened))
                        });
                    let more = matches!(&fetched, Ok((p, _)) if p.has_more);
                    if let Ok((p, _)) = &fetched {
                        cursor = p.next_after;
                    }
                    if tx.send(fetched).is_err() || !more {
                        return;
                    }
                }
            });
            let mut done = 0u64;
            let mut copied = false;
            let mut report = SyncReport::default();
            let mut server_time = None;
            let result = (|| {
                let mut failed = None;
                while let Some(fetched) = failed.take().or_else(|| rx.recv().ok()) {
                    opts.cancel.check()?;
                    // Pages already fetched and opened while the last group was applied are
                    // applied together: one transaction with the last page's cursor, still
                    // all or nothing, and fewer commits (each one re-encrypts every page it
                    // touched).
                    let mut group = vec![fetched?];
                    let mut ops = group[0].0.ops.len();
                    while ops < Self::GROUP_OPS {
                        match rx.try_recv() {
                            Ok(Ok(next)) => {
                                ops += next.0.ops.len();
                                group.push(next);
                            }
                            Ok(Err(e)) => {
                                failed = Some(Err(e));
                                break;
                            }
                            Err(_) => break,
                        }
                    }
                    let mut received = ReceivedPage::default();
                    for (page, opened) in group {
                        received.cursor = Some(page.next_after);
                        server_time = Some(page.server_time_ms);
                        for o in opened {
                            match o {
                                Opened::Apply(op) => received.ops.push(*op),
                                Opened::Hold(h) => {
                                    if h.chain.is_none() {
                                        report.rejected += 1;
                                    }
                                    received.held.push(h);
                                }
                                Opened::Own(seen) => received.own.push(seen),
                            }
                        }
                    }
                    let out = store.receive(received)?;
                    copied |= out.own_unknown > 0;
                    report.pulled += out.applied;
                    report.held += out.held;
                    report.conflicts += out.effects.conflicts + out.effects.inbox;
                    done += ops as u64;
                    progress(Progress {
                        phase: Phase::Pulling,
                        done,
                        total: total.max(done),
                    });
                }
                Ok::<(), SyncError>(())
            })();
            // On an error the fetcher's next send fails and it stops.
            drop(rx);
            (result, report, server_time, copied)
        });
        let (result, report, server_time, copied) = outcome;
        self.copied |= copied;
        self.report.pulled += report.pulled;
        self.report.held += report.held;
        self.report.rejected += report.rejected;
        self.report.conflicts += report.conflicts;
        if server_time.is_some() {
            self.server_time_ms = server_time;
        }
        result
    }
}

/// A page must move the cursor on: `next_after` never behind `after`, and past it whenever the
/// service says there is more (a service that keeps saying "more" without moving would keep a
/// sync running for ever). The ops in it are judged one by one (an op the service slipped in
/// twice, or out of place, fails its own checks or is a duplicate).
fn check_page(page: &PullResponse, after: i64) -> Result<()> {
    if page.next_after < after || (page.has_more && page.next_after == after) {
        return Err(SyncError::Protocol(
            "the service's cursor did not move forward; sync stopped".into(),
        ));
    }
    Ok(())
}

/// The transport's share of a sync, for the benchmark's baseline: fetch and parse every page
/// this device may see, open nothing, apply nothing. Returns the ops fetched.
#[doc(hidden)]
pub fn fetch_only(store: &Store, opts: &Options) -> Result<u64> {
    let (_, t) = connect(store, opts)?;
    t.hello()?;
    let mut cursor = 0;
    let mut n = 0;
    loop {
        let page: PullResponse = t
            .get(&format!("/v1/ops?after={cursor}&limit={}", opts.page_size))?
            .ok()?
            .json()?;
        check_page(&page, cursor)?;
        n += page.ops.len() as u64;
        cursor = page.next_after;
        if !page.has_more {
            return Ok(n);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(seqs: &[i64], next_after: i64, has_more: bool) -> PullResponse {
        PullResponse {
            ops: Vec::new(),
            next_after,
            has_more,
            server_time_ms: 0,
            service: None,
        }
        .with(seqs)
    }

    trait With {
        fn with(self, seqs: &[i64]) -> Self;
    }

    impl With for PullResponse {
        fn with(mut self, seqs: &[i64]) -> Self {
            let env: Envelope = serde_json::from_value(serde_json::json!({
                "org_id": Uuid::nil(), "team_id": Uuid::nil(), "entity": "note",
                "entity_id": Uuid::nil(), "op_id": Uuid::nil(), "device_id": Uuid::nil(),
                "device_seq": 1, "hlc": "", "kid": {"team_id": Uuid::nil(), "epoch": 1},
                "schema_v": 1, "nonce": "", "ciphertext": "", "content_hash": "", "signature": ""
            }))
            .unwrap_or_else(|e| panic!("{e}"));
            self.ops = seqs
                .iter()
                .map(|s| StoredOp {
                    server_seq: *s,
                    envelope: env.clone(),
                })
                .collect();
            self
        }
    }

    #[test]
    fn a_page_that_does_not_move_the_cursor_stops_the_sync() {
        assert!(check_page(&page(&[11, 12], 12, true), 10).is_ok());
        assert!(check_page(&page(&[], 10, false), 10).is_ok());
        // "More" without moving: the loop that ran 14,000 requests in 20 s.
        assert!(check_page(&page(&[], 10, true), 10).is_err());
        // Backwards.
        assert!(check_page(&page(&[], 5, false), 10).is_err());
        assert!(check_page(&page(&[11], 5, true), 10).is_err());
    }
}
