//! The sync loop (sync.md §8.6): keys → held ops retried → push this device's unacknowledged
//! ops in sequence → pull by the service's cursor, a page per transaction with the cursor →
//! heads check and refill → what needs a person's eye.

use crate::error::{Result, SyncError};
use crate::identity::{self, connect, team_keys};
use crate::transport::{Options, Transport};
use std::collections::HashMap;
use uuid::Uuid;
use wardside_store::Store;
use wardside_store::sync::{HeldOp, IncomingOp, OutgoingOp, ReceivedPage, readable};
use wardside_sync::envelope::{Envelope, OpenError, Routing};
use wardside_sync::keys::{KeyId, TeamKey};
use wardside_sync::protocol::{
    Heads, MAX_BODY_BYTES, PullResponse, PushRequest, PushResponse, PushStatus, Rejection, StoredOp,
};

/// What `sync now` reports.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct SyncReport {
    pub pushed: usize,
    pub pulled: usize,
    /// New conflicts and inbox entries from this sync.
    pub conflicts: usize,
    /// This device's changes still not on the service.
    pub unsynced: u64,
    /// Ops kept back (no key yet, or from a newer Wardside).
    pub held: usize,
    /// Ops refused because their signature or ciphertext did not check (a tampering service).
    pub rejected: usize,
    /// Times the heads showed a hole and the log was read again.
    pub refills: usize,
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

/// Sync once. On a revoked device, wipe its copy of the organisation's data.
pub fn sync_now(store: &mut Store, opts: &Options) -> Result<SyncReport> {
    sync_with_progress(store, opts, &mut |_| {})
}

pub fn sync_with_progress(
    store: &mut Store,
    opts: &Options,
    progress: &mut dyn FnMut(Progress),
) -> Result<SyncReport> {
    match run(store, opts, progress) {
        Err(SyncError::Revoked) => {
            store.wipe_organisation_data()?;
            Err(SyncError::Revoked)
        }
        Err(SyncError::Pending(_)) => {
            let fp = store
                .sync_config()?
                .map(|c| c.fingerprint)
                .unwrap_or_default();
            Err(SyncError::Pending(fp))
        }
        other => other,
    }
}

fn run(
    store: &mut Store,
    opts: &Options,
    progress: &mut dyn FnMut(Progress),
) -> Result<SyncReport> {
    let (config, t) = connect(store, opts)?;
    match config.status.as_str() {
        "revoked" => return Err(SyncError::Revoked),
        "re-enrol" => return Err(SyncError::ReEnrol),
        _ => {}
    }
    t.hello()?;
    let devices = identity::fetch_devices(store, &t)?;
    if config.status != "approved" {
        let mut c = config.clone();
        c.status = "approved".into();
        if let Some(me) = devices.devices.iter().find(|d| d.device_id == t.device()) {
            c.teams = me.teams.clone();
        }
        store.set_sync_config(&c)?;
    }
    identity::fetch_keys(store, &t)?;
    let mut s = Session {
        me: t.device(),
        org: config.org_id,
        team: *config
            .teams
            .first()
            .ok_or_else(|| SyncError::Refused("this device belongs to no team".into()))?,
        keys: team_keys(store)?.into_iter().map(|k| (k.id, k)).collect(),
        peers: HashMap::new(),
        report: SyncReport::default(),
        server_time_ms: None,
    };
    s.retry_held(store)?;
    s.push(store, &t, opts, progress)?;
    let heads: Heads = t.get("/v1/heads")?.ok()?.json()?;
    s.pull(store, &t, opts, &heads, progress)?;
    // Every op the service holds for us must be here; a hole means a page went missing. Read
    // the log again (ops already held are skipped).
    let heads: Heads = t.get("/v1/heads")?.ok()?.json()?;
    if has_hole(store, &heads, t.device())? {
        s.report.refills += 1;
        tracing::warn!("the heads check found a hole; reading the log again");
        store.reset_sync_cursor()?;
        s.pull(store, &t, opts, &heads, progress)?;
    }
    store.record_sync(s.server_time_ms.unwrap_or_else(|| t.server_now_ms()))?;
    s.report.unsynced = store.unpushed_count()?;
    Ok(s.report)
}

fn has_hole(store: &Store, heads: &Heads, me: Uuid) -> Result<bool> {
    let ours = store.received_counts()?;
    Ok(heads
        .counts
        .iter()
        .any(|(d, n)| *d != me && ours.get(d).copied().unwrap_or(0) < *n))
}

/// Why a push stopped part-way.
enum Stop {
    ReEnrol,
    Restamp(i64),
    Refused(String),
}

struct Session {
    me: Uuid,
    org: Uuid,
    team: Uuid,
    keys: HashMap<KeyId, TeamKey>,
    peers: HashMap<Uuid, [u8; 32]>,
    report: SyncReport,
    /// The service's clock at the last page, to the millisecond.
    server_time_ms: Option<i64>,
}

enum Opened {
    Apply(IncomingOp),
    Hold(HeldOp),
    Reject,
    /// One of this device's own ops coming back: already in its log.
    Own,
}

impl Session {
    fn current_key(&self) -> Result<&TeamKey> {
        self.keys
            .values()
            .filter(|k| k.id.team_id == self.team)
            .max_by_key(|k| k.id.epoch)
            .ok_or(SyncError::NoTeamKey)
    }

    fn seal(&self, store: &Store, t: &Transport, op: &OutgoingOp) -> Result<Envelope> {
        let key = self.current_key()?;
        let routing = Routing {
            org_id: self.org,
            team_id: self.team,
            case_id: None,
            entity: op.entity.clone(),
            entity_id: op.entity_id,
            op_id: op.op_id,
            device_id: identity::device_id(store)?,
            device_seq: op.device_seq,
            hlc: op.hlc.clone(),
            kid: key.id,
            schema_v: op.schema_v,
        };
        Envelope::seal(routing, &op.content, key, t.key())
            .map_err(|e| SyncError::Crypto(e.to_string()))
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
        loop {
            let ops = store.unpushed(batch_limit)?;
            if ops.is_empty() {
                return Ok(());
            }
            // Keep a request well inside the service's body limit.
            let mut envelopes = Vec::with_capacity(ops.len());
            let mut bytes = 0usize;
            for op in &ops {
                let env = self.seal(store, t, op)?;
                bytes += env.ciphertext.len() * 4 / 3 + 600;
                if !envelopes.is_empty() && bytes > MAX_BODY_BYTES / 2 {
                    break;
                }
                envelopes.push(env);
            }
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
                    (_, rejection, _) => {
                        stop = Some(Stop::Refused(format!(
                            "the service refused an op: {rejection:?}"
                        )));
                        break;
                    }
                }
            }
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
                    if let Some(mut c) = store.sync_config()? {
                        c.status = "re-enrol".into();
                        store.set_sync_config(&c)?;
                    }
                    return Err(SyncError::ReEnrol);
                }
                Some(Stop::Restamp(server)) => {
                    // Our clock is more than a day ahead of the service's: re-stamp the ops it
                    // has not accepted on its time, and send them again.
                    store.restamp_unpushed(server)?;
                    restamped = true;
                }
                Some(Stop::Refused(m)) => return Err(SyncError::Refused(m)),
            }
        }
    }

    fn peer_key(&mut self, store: &Store, device: Uuid) -> Result<Option<[u8; 32]>> {
        if let Some(k) = self.peers.get(&device) {
            return Ok(Some(*k));
        }
        let key = store
            .peer_sign_key(device)?
            .and_then(|k| <[u8; 32]>::try_from(k.as_slice()).ok());
        if let Some(k) = key {
            self.peers.insert(device, k);
        }
        Ok(key)
    }

    fn open(&mut self, store: &Store, server_seq: i64, env: &Envelope) -> Result<Opened> {
        let sign_key = self.peer_key(store, env.routing.device_id)?;
        if sign_key.is_none() {
            tracing::warn!(op = %env.routing.op_id, "an op from a device the service does not list");
        }
        Ok(self
            .open_many(&[(sign_key, server_seq, env)])?
            .pop()
            .unwrap_or(Opened::Reject))
    }

    /// Check and open ops, each given its sender's key (if known), signatures checked as one
    /// batch. Pure: pages are opened on every core at once.
    fn open_many(&self, items: &[(Option<[u8; 32]>, i64, &Envelope)]) -> Result<Vec<Opened>> {
        let mut out = Vec::with_capacity(items.len());
        let mut to_open = Vec::new();
        for (i, (sign_key, server_seq, env)) in items.iter().enumerate() {
            match self.before_opening(*sign_key, *server_seq, env)? {
                Ok(opened) => out.push(opened),
                Err((team_key, sign_key)) => {
                    out.push(Opened::Reject);
                    to_open.push((i, team_key, sign_key));
                }
            }
        }
        let batch: Vec<_> = to_open
            .iter()
            .map(|(i, team_key, sign_key)| (items[*i].2, *team_key, sign_key))
            .collect();
        for ((i, ..), opened) in to_open.iter().zip(Envelope::open_many(&batch)) {
            let (_, server_seq, env) = items[*i];
            out[*i] = self.after_opening(server_seq, env, opened)?;
        }
        Ok(out)
    }

    /// What can be decided about an op before its signature and content: `Ok` is the outcome
    /// (our own op, another organisation's, or held back); `Err` is the keys to open it with.
    fn before_opening(
        &self,
        sign_key: Option<[u8; 32]>,
        server_seq: i64,
        env: &Envelope,
    ) -> Result<std::result::Result<Opened, (&TeamKey, [u8; 32])>> {
        let r = &env.routing;
        if r.device_id == self.me {
            return Ok(Ok(Opened::Own));
        }
        if r.org_id != self.org {
            tracing::warn!(op = %r.op_id, "an op of another organisation was refused");
            return Ok(Ok(Opened::Reject));
        }
        // A device enrolled since this sync began: kept until its key is known.
        let Some(sign_key) = sign_key else {
            return held(server_seq, env, "unknown-device").map(Ok);
        };
        let Some(key) = self.keys.get(&r.kid) else {
            return held(server_seq, env, "no-key").map(Ok);
        };
        Ok(Err((key, sign_key)))
    }

    fn after_opening(
        &self,
        server_seq: i64,
        env: &Envelope,
        opened: std::result::Result<Vec<u8>, OpenError>,
    ) -> Result<Opened> {
        let r = &env.routing;
        match opened {
            Ok(content) => {
                if !readable(r.schema_v, &r.entity, &content) {
                    return held(server_seq, env, "newer-schema");
                }
                Ok(Opened::Apply(IncomingOp {
                    op_id: r.op_id,
                    device_id: r.device_id,
                    device_seq: r.device_seq,
                    hlc: r.hlc.clone(),
                    entity: r.entity.clone(),
                    entity_id: r.entity_id,
                    schema_v: r.schema_v,
                    server_seq,
                    content,
                }))
            }
            Err(OpenError::NoKey { .. }) => held(server_seq, env, "no-key"),
            Err(e) => {
                // Never applied, never content in the log: the op id and what failed.
                tracing::warn!(op = %r.op_id, error = %e, "an op failed its checks and was refused");
                Ok(Opened::Reject)
            }
        }
    }

    /// Open a page's ops in order, spread over the machine's cores: checking Ed25519
    /// signatures is most of a received op's cost. Senders' keys come from the cache filled
    /// before the pull.
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
                        let items: Vec<_> = part
                            .iter()
                            .map(|o| {
                                let key = self.peers.get(&o.envelope.routing.device_id).copied();
                                (key, o.server_seq, &o.envelope)
                            })
                            .collect();
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

    fn retry_held(&mut self, store: &mut Store) -> Result<()> {
        let held = store.held_ops()?;
        if held.is_empty() {
            return Ok(());
        }
        let mut page = ReceivedPage::default();
        for h in held {
            let Ok(env) = serde_json::from_str::<Envelope>(&h.envelope) else {
                continue;
            };
            match self.open(store, h.server_seq, &env)? {
                Opened::Apply(op) => {
                    page.released.push(op.op_id);
                    page.ops.push(op);
                }
                Opened::Hold(_) | Opened::Reject | Opened::Own => {}
            }
        }
        if !page.ops.is_empty() {
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
        let ours: u64 = store.received_counts()?.values().sum();
        let theirs: u64 = heads
            .counts
            .iter()
            .filter(|(d, _)| **d != self.me)
            .map(|(_, n)| n)
            .sum();
        let total = theirs.saturating_sub(ours);
        // Every sender's key first, so pages can be opened away from the store.
        for d in heads.counts.keys() {
            self.peer_key(store, *d)?;
        }
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
            let mut report = SyncReport::default();
            let mut server_time = None;
            let result = (|| {
                let mut failed = None;
                while let Some(fetched) = failed.take().or_else(|| rx.recv().ok()) {
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
                                Opened::Apply(op) => received.ops.push(op),
                                Opened::Hold(h) => received.held.push(h),
                                Opened::Reject => report.rejected += 1,
                                Opened::Own => {}
                            }
                        }
                    }
                    let out = store.receive(received)?;
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
            (result, report, server_time)
        });
        let (result, report, server_time) = outcome;
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

/// An op kept sealed until it can be read (its key or its sender arrives, or this app is
/// updated), retried at every sync.
fn held(server_seq: i64, env: &Envelope, reason: &str) -> Result<Opened> {
    let r = &env.routing;
    Ok(Opened::Hold(HeldOp {
        op_id: r.op_id,
        server_seq,
        device_id: r.device_id,
        device_seq: r.device_seq,
        reason: reason.into(),
        envelope: serde_json::to_string(env).map_err(|e| SyncError::Protocol(e.to_string()))?,
    }))
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
        n += page.ops.len() as u64;
        cursor = page.next_after;
        if !page.has_more {
            return Ok(n);
        }
    }
}
