//! The organisation's trust log on this device ([`wardside_sync::trust`]): fetched from the
//! service, checked statement by statement from the root key pinned at enrolment, kept; and
//! the statements this device makes when it is an admin. The service's copy is a hint: a
//! statement that does not check is not used (and is reported), one the service dropped is
//! given back to it by its author, and one it changed is a fork this device reports.

use crate::error::{Result, SyncError};
use crate::identity;
use crate::transport::Transport;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use wardside_store::Store;
use wardside_store::sync::{SyncConfig, SyncProblem};
use wardside_sync::protocol::{TrustAppended, TrustLog};
use wardside_sync::trust::{Body, SignedStatement, TrustState};

/// The root key this device pinned at enrolment.
pub(crate) fn pinned_root(config: &SyncConfig) -> Result<[u8; 32]> {
    config
        .root_key
        .as_deref()
        .and_then(|k| B64.decode(k).ok())
        .and_then(|k| k.try_into().ok())
        .ok_or(SyncError::NoTrustRoot)
}

fn parse(json: &str) -> Result<SignedStatement> {
    serde_json::from_str(json).map_err(|_| SyncError::NoTrustRoot)
}

/// The log as this device kept it, folded (`None` before its first statement).
pub(crate) fn load(store: &Store, config: &SyncConfig) -> Result<Option<TrustState>> {
    let root = pinned_root(config)?;
    let kept = store
        .trust_statements()?
        .iter()
        .map(|j| parse(j))
        .collect::<Result<Vec<_>>>()?;
    if kept.is_empty() {
        return Ok(None);
    }
    TrustState::from_log(&kept, config.org_id, &root)
        .map(Some)
        .map_err(|_| SyncError::NoTrustRoot)
}

/// The trust log after a refresh, and what was wrong with the service's copy.
pub(crate) struct Refreshed {
    pub state: Option<TrustState>,
    pub problems: Vec<SyncProblem>,
}

/// Bring this device's log up to date from the service: every new statement checked before it
/// is kept; a fork, an altered or invalid statement, or a log that went backwards is reported
/// and nothing after it used. Statements this device made that the service no longer has (a
/// restore from backup) are given back to it, whoever made them.
pub(crate) fn refresh(store: &mut Store, t: &Transport, config: &SyncConfig) -> Result<Refreshed> {
    let root = pinned_root(config)?;
    let mut state = load(store, config)?;
    let ours = state.as_ref().map_or(0, |s| s.seq);
    let mut problems = Vec::new();
    // Read from our last statement on (or from the start), to see that the service still
    // has it unchanged.
    let fetched = fetch_after(t, ours.saturating_sub(1))?;
    let kept = store.trust_statements()?;
    let mut new = fetched.as_slice();
    if ours > 0 {
        match fetched.first() {
            Some(first) if first.statement.seq == ours => {
                let mine = parse(&kept[kept.len() - 1])?;
                if first.statement.hash() != mine.statement.hash()
                    || first.signature != mine.signature
                {
                    problems.push(SyncProblem::new(
                        "trust-log",
                        format!("the service's copy of the organisation's trust log differs from this device's at statement {ours}: it was altered; nothing after it was used"),
                    ));
                    return Ok(Refreshed { state, problems });
                }
                new = &fetched[1..];
            }
            _ => {
                // The service has fewer statements than we do: see how many, that they are ours,
                // and give back the ones we made.
                let all = fetch_after(t, 0)?;
                let theirs = all.len() as u64;
                for (s, k) in all.iter().zip(&kept) {
                    let k = parse(k)?;
                    if s.statement.hash() != k.statement.hash() {
                        problems.push(SyncProblem::new(
                            "trust-log",
                            format!("the service's copy of the organisation's trust log differs from this device's at statement {}: it was altered; nothing in it was used", s.statement.seq),
                        ));
                        return Ok(Refreshed { state, problems });
                    }
                }
                // Any device gives back what it holds (each statement is an admin's, signed:
                // the service checks it as it did the first time), in order, until one is not
                // taken.
                let mut given = 0;
                for json in kept.iter().skip(theirs as usize) {
                    let s = parse(json)?;
                    if let Err(e) = post(t, &s) {
                        tracing::warn!(seq = s.statement.seq, error = %e, "the service would not take back a trust statement it lost");
                        break;
                    }
                    given += 1;
                }
                if theirs + given < ours {
                    problems.push(SyncProblem::new(
                        "trust-log",
                        format!("the service holds {theirs} of the organisation's {ours} trust statements (restored from an old backup?); this device keeps and uses all {ours}"),
                    ));
                }
                return Ok(Refreshed { state, problems });
            }
        }
    }
    let mut added = Vec::new();
    for s in new {
        let next = match &mut state {
            None => TrustState::genesis(s, config.org_id, &root).map(Some),
            Some(st) => st.apply(s).map(|()| None),
        };
        match next {
            Ok(Some(fresh)) => state = Some(fresh),
            Ok(None) => {}
            Err(e) => {
                problems.push(SyncProblem::new(
                    "trust-log",
                    format!("a trust statement from the service does not check ({e}); it and any after it were not used"),
                ));
                break;
            }
        }
        added.push(serde_json::to_string(s).map_err(|e| SyncError::Protocol(e.to_string()))?);
    }
    if !added.is_empty() {
        store.add_trust_statements(ours + 1, &added)?;
    }
    Ok(Refreshed { state, problems })
}

/// Every statement the service has after `after`, in order (each one's number checked).
fn fetch_after(t: &Transport, after: u64) -> Result<Vec<SignedStatement>> {
    let mut next = after;
    let mut out: Vec<SignedStatement> = Vec::new();
    loop {
        let page: TrustLog = t.get(&format!("/v1/trust?after={next}"))?.ok()?.json()?;
        let n = page.statements.len() as u64;
        for s in page.statements {
            next += 1;
            if s.statement.seq != next {
                return Err(SyncError::Trust(format!(
                    "the service sent statement {} where {next} was due",
                    s.statement.seq
                )));
            }
            out.push(s);
        }
        if !page.has_more || n == 0 || out.len() > 100_000 {
            return Ok(out);
        }
    }
}

fn post(t: &Transport, s: &SignedStatement) -> Result<()> {
    let body = serde_json::to_vec(s).map_err(|e| SyncError::Protocol(e.to_string()))?;
    let _: TrustAppended = t.post("/v1/trust", body)?.ok()?.json()?;
    Ok(())
}

/// Make, sign and publish a statement as this (admin) device, then keep it. `state` moves on
/// only if the service took it.
pub(crate) fn append(
    store: &mut Store,
    t: &Transport,
    state: &mut TrustState,
    body: Body,
) -> Result<()> {
    let signed = state
        .next(t.device(), store.clock().now_ms(), body)
        .sign(t.key());
    let mut next = state.clone();
    next.apply(&signed)
        .map_err(|e| SyncError::Refused(e.to_string()))?;
    post(t, &signed)?;
    let json = serde_json::to_string(&signed).map_err(|e| SyncError::Protocol(e.to_string()))?;
    store.add_trust_statements(signed.statement.seq, &[json])?;
    *state = next;
    Ok(())
}

/// This device's log, refreshed, for an admin action: refused unless the log makes this
/// device an admin.
pub(crate) fn as_admin(store: &mut Store, t: &Transport) -> Result<TrustState> {
    let config = identity::config(store)?;
    let state = refresh(store, t, &config)?
        .state
        .ok_or(SyncError::NotAdmin)?;
    if !state.is_any_admin(t.device()) {
        return Err(SyncError::NotAdmin);
    }
    Ok(state)
}
