//! The service's rules, apart from HTTP: which pushed ops a device may store, and which trust
//! statements an admin may add to its organisation's log (and what they change).

use crate::storage::{Device, DeviceChange, DeviceStatus, Result, Storage};
use std::collections::BTreeMap;
use uuid::Uuid;
use wardside_sync::Envelope;
use wardside_sync::protocol::{PushResult, PushStatus, Rejection, SignedStatement};
use wardside_sync::trust::{Body, Membership, TrustState};

/// Why `device` may not push `env`, if it may not: only its own ops, for its organisation and
/// teams, with a hash and signature that check.
fn refusal(device: &Device, env: &Envelope) -> Option<Rejection> {
    let r = &env.routing;
    if r.device_id != device.id || r.org_id != device.org_id || !device.teams.contains(&r.team_id) {
        Some(Rejection::Forbidden)
    } else if env.verify(&device.sign_key).is_err() {
        Some(Rejection::BadEnvelope)
    } else {
        None
    }
}

/// Each op's refusal, if any, in order, spread over the machine's cores: checking an Ed25519
/// signature (ring, one at a time, RFC 8032's strict rules) is most of a push's cost.
fn refusals(device: &Device, ops: &[Envelope]) -> Vec<Option<Rejection>> {
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(8);
    let chunk = ops.len().div_ceil(threads).max(16);
    if ops.len() <= chunk {
        return ops.iter().map(|env| refusal(device, env)).collect();
    }
    std::thread::scope(|scope| {
        let parts: Vec<_> = ops
            .chunks(chunk)
            .map(|part| {
                let handle = scope.spawn(move || {
                    part.iter()
                        .map(|env| refusal(device, env))
                        .collect::<Vec<_>>()
                });
                (part.len(), handle)
            })
            .collect();
        parts
            .into_iter()
            .flat_map(|(n, handle)| {
                // A checker that failed proved nothing: its ops are refused, not stored.
                handle
                    .join()
                    .unwrap_or_else(|_| vec![Some(Rejection::BadEnvelope); n])
            })
            .collect()
    })
}

/// Store what `device` may push and refuse the rest; one result per op, in the order given.
pub async fn push(
    storage: &impl Storage,
    device: &Device,
    ops: Vec<Envelope>,
    now_ms: i64,
) -> Result<Vec<PushResult>> {
    let mut results: Vec<Option<PushResult>> = Vec::with_capacity(ops.len());
    let mut admitted = Vec::new();
    let refusals = refusals(device, &ops);
    for (env, refused) in ops.into_iter().zip(refusals) {
        match refused {
            Some(rejection) => results.push(Some(PushResult {
                op_id: env.routing.op_id,
                status: PushStatus::Rejected,
                server_seq: None,
                rejection: Some(rejection),
            })),
            None => {
                results.push(None);
                admitted.push(env);
            }
        }
    }
    let mut stored = storage
        .push(device.org_id, admitted, now_ms)
        .await?
        .into_iter();
    // Storage answers once per admitted op, in order: fill the gaps left above.
    results
        .into_iter()
        .map(|r| r.or_else(|| stored.next()))
        .collect::<Option<_>>()
        .ok_or_else(|| crate::storage::StorageError::Backend("push results were lost".into()))
}

/// Why a statement was not added.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StatementRefusal {
    /// It does not follow the log as it stands now (another admin was first), or the service
    /// cannot act on it yet (a device sent ops past the cut-off it names): sync and try again.
    Conflict(&'static str),
    /// It can never be added.
    Invalid(&'static str),
}

/// The organisation's log as stored, folded; `None` before its first statement.
async fn load_log(storage: &impl Storage, org_id: Uuid) -> Result<Option<TrustState>> {
    let mut statements: Vec<SignedStatement> = Vec::new();
    loop {
        let page = storage
            .trust_log(org_id, statements.len() as u64, 1000)
            .await?;
        let n = page.len();
        for json in page {
            statements.push(
                serde_json::from_str(&json)
                    .map_err(|e| crate::storage::StorageError::Backend(e.to_string()))?,
            );
        }
        if n < 1000 {
            break;
        }
    }
    let Some(first) = statements.first() else {
        return Ok(None);
    };
    let wardside_sync::trust::Body::Genesis { admin, .. } = &first.statement.body else {
        return Err(crate::storage::StorageError::Backend(
            "the stored trust log does not start with a genesis".into(),
        ));
    };
    TrustState::from_log(&statements, org_id, &admin.sign_key)
        .map(Some)
        .map_err(|e| crate::storage::StorageError::Backend(format!("stored trust log: {e}")))
}

/// Check a statement `caller` wants to add: it must be the caller's own, follow the stored log
/// as a device would check it, and be something the service can act on. The first statement
/// (the genesis) must come from the device that enrolled with the organisation's first code,
/// naming its own keys. Returns the change to make to the device table.
pub async fn check_statement(
    storage: &impl Storage,
    caller: &Device,
    signed: &SignedStatement,
) -> Result<std::result::Result<DeviceChange, StatementRefusal>> {
    use StatementRefusal::{Conflict, Invalid};
    let s = &signed.statement;
    if s.author != caller.id || s.org_id != caller.org_id {
        return Ok(Err(Invalid(
            "a device adds only statements it made, for its own organisation",
        )));
    }
    let state = match load_log(storage, caller.org_id).await? {
        None => {
            let founding = matches!(&s.body, Body::Genesis { admin, .. }
                if admin.device_id == caller.id && admin.sign_key == caller.sign_key && admin.box_key == caller.box_key);
            if !founding {
                return Ok(Err(Invalid(
                    "the organisation's first statement must found it, signed by its first admin",
                )));
            }
            return Ok(
                match TrustState::genesis(signed, caller.org_id, &caller.sign_key) {
                    Ok(_) => Ok(DeviceChange::None),
                    Err(_) => Err(Invalid("the founding statement does not check")),
                },
            );
        }
        Some(state) => state,
    };
    if s.seq != state.seq + 1 || s.prev != state.head {
        return Ok(Err(Conflict(
            "another admin changed the organisation first; sync and try again",
        )));
    }
    let mut next = state.clone();
    if next.apply(signed).is_err() {
        return Ok(Err(Invalid("the statement does not check against the log")));
    }
    let change = match &s.body {
        Body::Genesis { .. } => return Ok(Err(Invalid("an organisation is founded once"))),
        Body::TeamEpoch { .. } => DeviceChange::None,
        Body::Approve {
            device,
            admin,
            teams,
            ..
        } => {
            // A device enrolled with exactly these keys: waiting for approval, or approved
            // already (an approval given back after this service lost it in a restore).
            let enrolled = storage.device(device.device_id).await?;
            let matches = enrolled.is_some_and(|d| {
                d.org_id == caller.org_id
                    && d.status != DeviceStatus::Revoked
                    && d.sign_key == device.sign_key
                    && d.box_key == device.box_key
            });
            if !matches {
                return Ok(Err(Invalid(
                    "no device with these keys is waiting for approval",
                )));
            }
            DeviceChange::Approve {
                device: device.device_id,
                admin: *admin,
                teams: teams.clone(),
            }
        }
        Body::Update {
            device,
            admin,
            teams,
            ..
        } => {
            if let Some(refusal) = past_cutoff(storage, caller.org_id, *device, &next).await? {
                return Ok(Err(refusal));
            }
            DeviceChange::Update {
                device: *device,
                admin: *admin,
                teams: teams.clone(),
            }
        }
        Body::Revoke { device, .. } => {
            if let Some(refusal) = past_cutoff(storage, caller.org_id, *device, &next).await? {
                return Ok(Err(refusal));
            }
            DeviceChange::Revoke { device: *device }
        }
    };
    Ok(Ok(change))
}

/// A device leaving a team (or revoked) must not have ops stored past the cut-off the admin
/// named: otherwise devices that received them already would disagree with those that did not.
async fn past_cutoff(
    storage: &impl Storage,
    org_id: Uuid,
    device: Uuid,
    after: &TrustState,
) -> Result<Option<StatementRefusal>> {
    let Some(d) = after.devices.get(&device) else {
        return Ok(None);
    };
    let cutoffs: BTreeMap<Uuid, u64> = d
        .teams
        .iter()
        .filter_map(|(t, m)| match m {
            Membership::Ended { through } => Some((*t, *through)),
            Membership::Active => None,
        })
        .collect();
    if cutoffs.is_empty() {
        return Ok(None);
    }
    let heads = storage
        .heads(org_id, cutoffs.keys().copied().collect())
        .await?;
    let over = heads.iter().any(|h| {
        h.device_id == device && cutoffs.get(&h.team_id).is_some_and(|c| h.chain_seq > *c)
    });
    Ok(over.then_some(StatementRefusal::Conflict(
        "the device has sent more since; sync, then try again",
    )))
}
