//! The service's rules, apart from HTTP: which pushed ops a device may store, and which trust
//! statements an admin may add to its organisation's log (and what they change).

use crate::storage::{Device, DeviceChange, DeviceStatus, Result, Storage};
use std::collections::BTreeMap;
use uuid::Uuid;
use wardside_sync::Envelope;
use wardside_sync::protocol::{PushResult, PushStatus, Rejection, SignedStatement};
use wardside_sync::trust::{Body, DeviceKeys, Membership, TrustState};

/// The devices whose ops `caller` may give back: other devices of its organisation, by id, as
/// this service knows them (an op of a device it does not know is refused).
type Authors = BTreeMap<Uuid, [u8; 32]>;

/// Why `caller` may not push `env`, if it may not: ops for its organisation and its teams only,
/// with a hash and a signature that check against their author's key. Its own ops, or another
/// device's that it gives back after this service lost them (a restore from backup): the
/// author's signature proves them exactly as it did the first time.
fn refusal(caller: &Device, authors: &Authors, env: &Envelope) -> Option<Rejection> {
    let r = &env.routing;
    if r.org_id != caller.org_id || !caller.teams.contains(&r.team_id) {
        return Some(Rejection::Forbidden);
    }
    let key = if r.device_id == caller.id {
        &caller.sign_key
    } else {
        match authors.get(&r.device_id) {
            Some(key) => key,
            None => return Some(Rejection::Forbidden),
        }
    };
    env.verify(key).err().map(|_| Rejection::BadEnvelope)
}

/// Each op's refusal, if any, in order, spread over the machine's cores: checking an Ed25519
/// signature (ring, one at a time, RFC 8032's strict rules) is most of a push's cost.
fn refusals(caller: &Device, authors: &Authors, ops: &[Envelope]) -> Vec<Option<Rejection>> {
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(8);
    let chunk = ops.len().div_ceil(threads).max(16);
    if ops.len() <= chunk {
        return ops
            .iter()
            .map(|env| refusal(caller, authors, env))
            .collect();
    }
    std::thread::scope(|scope| {
        let parts: Vec<_> = ops
            .chunks(chunk)
            .map(|part| {
                let handle = scope.spawn(move || {
                    part.iter()
                        .map(|env| refusal(caller, authors, env))
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

/// The keys of the other devices whose ops are in a push (none, usually).
async fn authors(storage: &impl Storage, caller: &Device, ops: &[Envelope]) -> Result<Authors> {
    let ids: std::collections::BTreeSet<Uuid> = ops
        .iter()
        .map(|e| e.routing.device_id)
        .filter(|id| *id != caller.id)
        .collect();
    let mut out = Authors::new();
    for id in ids {
        if let Some(d) = storage.device(id).await?
            && d.org_id == caller.org_id
        {
            out.insert(id, d.sign_key);
        }
    }
    Ok(out)
}

/// Store what `device` may push and refuse the rest; one result per op, in the order given.
/// A device gives back other devices' ops only after this service lost them; the same rules
/// place them ([`crate::storage::decide`]).
pub async fn push(
    storage: &impl Storage,
    device: &Device,
    ops: Vec<Envelope>,
    now_ms: i64,
) -> Result<Vec<PushResult>> {
    let mut results: Vec<Option<PushResult>> = Vec::with_capacity(ops.len());
    let mut admitted = Vec::new();
    let authors = authors(storage, device, &ops).await?;
    let refusals = refusals(device, &authors, &ops);
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
        .push(device.org_id, device.id, admitted, now_ms)
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

/// The organisation's log as stored, every statement in order.
async fn load_statements(storage: &impl Storage, org_id: Uuid) -> Result<Vec<SignedStatement>> {
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
    Ok(statements)
}

/// The organisation's log as stored, folded; `None` before its first statement.
async fn load_log(storage: &impl Storage, org_id: Uuid) -> Result<Option<TrustState>> {
    let statements = load_statements(storage, org_id).await?;
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
    if s.org_id != caller.org_id {
        return Ok(Err(Invalid(
            "a device adds statements for its own organisation only",
        )));
    }
    // Another device's statement: given back after this service lost it. It checks against
    // the log below like any other (signed by an admin the log names).
    let given_back = s.author != caller.id;
    let state = match load_log(storage, caller.org_id).await? {
        None if given_back => {
            return Ok(Err(Invalid(
                "the organisation's first statement is added by its first admin",
            )));
        }
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
            name,
            admin,
            teams,
        } => match approval(storage, caller.org_id, device, name, *admin, teams).await? {
            Ok(change) => change,
            Err(refusal) => return Ok(Err(refusal)),
        },
        // A recovery (made at /v1/recover) given back after this service lost it in a restore:
        // the recovery key's signature checked above; it approves an admin.
        Body::Recover {
            device,
            name,
            teams,
        } => match approval(storage, caller.org_id, device, name, true, teams).await? {
            Ok(change) => change,
            Err(refusal) => return Ok(Err(refusal)),
        },
        Body::RecoverySigner { .. } => DeviceChange::None,
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
                // The service's flag lets a device invite and grant keys: any admin, of the
                // organisation or of some teams (the log says what each may do).
                admin: *admin || next.is_any_admin(*device),
                teams: teams.clone(),
            }
        }
        Body::TeamAdmins { device, .. } => DeviceChange::Update {
            device: *device,
            admin: next.is_any_admin(*device),
            teams: next.teams_of(*device),
        },
        Body::Revoke { device, .. } => {
            if let Some(refusal) = past_cutoff(storage, caller.org_id, *device, &next).await? {
                return Ok(Err(refusal));
            }
            DeviceChange::Revoke { device: *device }
        }
    };
    Ok(Ok(change))
}

/// What an approval (or a recovery) of `device` does to the device table: a device enrolled with
/// exactly these keys, waiting for approval, or approved already (an approval given back after
/// this service lost it in a restore).
async fn approval(
    storage: &impl Storage,
    org_id: Uuid,
    device: &DeviceKeys,
    name: &str,
    admin: bool,
    teams: &[Uuid],
) -> Result<std::result::Result<DeviceChange, StatementRefusal>> {
    let mut enrolled = storage.device(device.device_id).await?;
    if enrolled.is_none() {
        // Enrolled after the backup this service was restored from: its admin's signed
        // approval names its keys, which is all the service needs to know it again.
        let lost = Device {
            id: device.device_id,
            org_id,
            name: name.to_owned(),
            sign_key: device.sign_key,
            box_key: device.box_key,
            status: DeviceStatus::Pending,
            admin: false,
            teams: Vec::new(),
        };
        storage.add_device(lost.clone()).await?;
        enrolled = Some(lost);
    }
    let matches = enrolled.is_some_and(|d| {
        d.org_id == org_id
            && d.status != DeviceStatus::Revoked
            && d.sign_key == device.sign_key
            && d.box_key == device.box_key
    });
    if !matches {
        return Ok(Err(StatementRefusal::Invalid(
            "no device with these keys is waiting for approval",
        )));
    }
    Ok(Ok(DeviceChange::Approve {
        device: device.device_id,
        admin,
        teams: teams.to_vec(),
    }))
}

/// The organisation whose genesis names `recovery_key`, and its whole log (for a laptop that
/// holds the recovery words; it checks the log against them).
pub async fn find_recovery(
    storage: &impl Storage,
    recovery_key: &[u8; 32],
) -> Result<Option<(Uuid, Vec<SignedStatement>)>> {
    for org_id in storage.organisations().await? {
        let first = storage.trust_log(org_id, 0, 1).await?;
        let names_it = first
            .first()
            .and_then(|j| serde_json::from_str::<SignedStatement>(j).ok())
            .is_some_and(|g| {
                matches!(&g.statement.body, Body::Genesis { recovery_key: k, .. } if k == recovery_key)
            });
        if names_it {
            return Ok(Some((org_id, load_statements(storage, org_id).await?)));
        }
    }
    Ok(None)
}

/// What a checked recovery does: the device it makes an admin, the device record to add first
/// (unless an earlier try left it), and the change to the device table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recovery {
    pub device_id: Uuid,
    pub add: Option<Device>,
    pub change: DeviceChange,
}

/// Check a recovery a new laptop presents: a [`Body::Recover`] that follows the stored log and
/// checks against it as a device would (signed by the recovery key the log names), for a device
/// this service does not know (or left pending by an earlier try of the same recovery that
/// lost a race), with the laptop's proof that it holds the device key the statement names.
/// Returns the device to add, if it is not there yet (pending until the statement's change
/// approves it, in the same transaction as the statement).
pub async fn check_recovery(
    storage: &impl Storage,
    signed: &SignedStatement,
    proof: &[u8],
) -> Result<std::result::Result<Recovery, StatementRefusal>> {
    use StatementRefusal::{Conflict, Invalid};
    let s = &signed.statement;
    let Body::Recover {
        device,
        name,
        teams,
    } = &s.body
    else {
        return Ok(Err(Invalid("only a recovery statement is presented here")));
    };
    if !wardside_sync::recovery::check_recover_proof(&device.sign_key, s, proof) {
        return Ok(Err(Invalid(
            "the proof is not signed by the device the recovery names",
        )));
    }
    let Some(state) = load_log(storage, s.org_id).await? else {
        return Ok(Err(Invalid("the recovery is refused")));
    };
    if s.seq != state.seq + 1 || s.prev != state.head {
        return Ok(Err(Conflict(
            "the organisation changed meanwhile; try the recovery again",
        )));
    }
    if state.clone().apply(signed).is_err() {
        return Ok(Err(Invalid("the recovery is refused")));
    }
    let change = DeviceChange::Approve {
        device: device.device_id,
        admin: true,
        teams: teams.clone(),
    };
    if let Some(known) = storage.device(device.device_id).await? {
        let same_try = known.org_id == s.org_id
            && known.status == DeviceStatus::Pending
            && known.sign_key == device.sign_key
            && known.box_key == device.box_key;
        return Ok(if same_try {
            Ok(Recovery {
                device_id: device.device_id,
                add: None,
                change,
            })
        } else {
            Err(Invalid("this device is already enrolled"))
        });
    }
    let new = Device {
        id: device.device_id,
        org_id: s.org_id,
        name: name.clone(),
        sign_key: device.sign_key,
        box_key: device.box_key,
        status: DeviceStatus::Pending,
        admin: false,
        teams: Vec::new(),
    };
    Ok(Ok(Recovery {
        device_id: device.device_id,
        add: Some(new),
        change,
    }))
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
