//! What an admin device does. Each decision is a statement it signs into the organisation's
//! trust log (the service only keeps and relays it): invite a device (a code this device makes,
//! bound to the organisation's root key), approve it after comparing fingerprints (and grant it
//! the team keys), revoke one (cut off where it stood, then a new key epoch for everyone else).

use crate::error::{Result, SyncError};
use crate::identity::{self, connect, grant, post_grants, team_keys};
use crate::transport::{Options, Transport};
use crate::trust;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use std::collections::BTreeMap;
use uuid::Uuid;
use wardside_store::Store;
use wardside_sync::codes::{
    CodeKind, code_token, fingerprint, new_code, root_binding, same_fingerprint, token_hash,
};
use wardside_sync::keys::{KeyId, TeamKey};
use wardside_sync::protocol::{DeviceInfo, EnrolledStatus, InviteRequest, InviteResponse};
use wardside_sync::trust::{Body, DeviceKeys, MAX_NAME_CHARS, TrustState, key_id};

/// A signed connection, and this device's trust log refreshed: refused unless the log makes
/// this device an admin.
fn admin(store: &mut Store, opts: &Options) -> Result<(Transport, TrustState)> {
    let (_, t) = connect(store, opts)?;
    t.hello()?;
    let state = trust::as_admin(store, &t)?;
    Ok((t, state))
}

/// A one-time code for a new device (valid 7 days), for this admin's teams. The code is made
/// here; the service keeps only the hash of its token and the binding that proves the
/// organisation's root to whoever types the code.
pub fn invite(store: &mut Store, opts: &Options) -> Result<String> {
    let (t, state) = admin(store, opts)?;
    let code =
        new_code(CodeKind::Invitation).map_err(|_| SyncError::Crypto("no randomness".into()))?;
    let root = state.root.sign_key;
    let req = InviteRequest {
        token_hash: B64.encode(token_hash(&code_token(&code))),
        root_key: B64.encode(root),
        binding: B64.encode(root_binding(&code, state.org_id, &root)),
        teams: None,
    };
    let body = serde_json::to_vec(&req).map_err(|e| SyncError::Protocol(e.to_string()))?;
    let _: InviteResponse = t.post("/v1/invites", body)?.ok()?.json()?;
    Ok(code)
}

fn key32(b64: &str) -> Result<[u8; 32]> {
    B64.decode(b64)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| SyncError::Protocol("a device's key is malformed".into()))
}

/// Approve a pending device whose fingerprint, read on its screen, is `given`: the fingerprint
/// is checked here against the keys the service lists (a service that swapped keys is caught),
/// then this admin signs an approval of exactly those keys and grants the device every key of
/// its teams it holds.
pub fn approve(store: &mut Store, device: Uuid, given: &str, opts: &Options) -> Result<()> {
    let (t, mut state) = admin(store, opts)?;
    let info = find_device(&t, device)?;
    let keys = DeviceKeys {
        device_id: info.device_id,
        sign_key: key32(&info.sign_key)?,
        box_key: key32(&info.box_key)?,
    };
    let actual = fingerprint(&keys.sign_key, &keys.box_key);
    if !same_fingerprint(given, &actual) {
        return Err(SyncError::FingerprintMismatch {
            given: given.to_owned(),
            actual,
        });
    }
    if !state.is_approved(device) {
        let mine = my_teams(&state, t.device());
        let mut teams: Vec<Uuid> = info
            .teams
            .iter()
            .filter(|t| mine.contains(t))
            .copied()
            .collect();
        if teams.is_empty() {
            teams = mine;
        }
        let name: String = info
            .name
            .chars()
            .filter(|c| !c.is_control())
            .take(MAX_NAME_CHARS)
            .collect();
        trust::append(
            store,
            &t,
            &mut state,
            Body::Approve {
                device: keys,
                name,
                admin: false,
                teams,
            },
        )?;
    }
    share_keys(store, &t, &state, device)
}

/// The teams this admin acts for: its own, for an organisation admin; those it administers,
/// for an admin of some teams.
fn my_teams(state: &TrustState, me: Uuid) -> Vec<Uuid> {
    if state.is_admin(me) {
        state.teams_of(me)
    } else {
        state.admin_teams(me)
    }
}

/// Grant a device every key of its teams (by the trust log) that this admin holds and may grant.
fn share_keys(store: &Store, t: &Transport, state: &TrustState, device: Uuid) -> Result<()> {
    let d = state
        .devices
        .get(&device)
        .filter(|d| !d.revoked)
        .ok_or_else(|| SyncError::Refused("no admin has approved that device".into()))?;
    let may = if state.is_admin(t.device()) {
        state.teams_of(device)
    } else {
        state.admin_teams(t.device())
    };
    let teams: Vec<Uuid> = state
        .teams_of(device)
        .into_iter()
        .filter(|team| may.contains(team))
        .collect();
    let grants = team_keys(store)?
        .iter()
        .filter(|k| teams.contains(&k.id.team_id) && state.check_key(k).is_ok())
        .map(|k| grant(state.org_id, k, device, &d.keys.box_key, t))
        .collect::<Result<Vec<_>>>()?;
    post_grants(t, grants)
}

/// Grant an approved device this admin's team keys again (a device that missed an epoch).
pub fn share_keys_with(store: &mut Store, device: Uuid, opts: &Options) -> Result<()> {
    let (t, state) = admin(store, opts)?;
    share_keys(store, &t, &state, device)
}

fn find_device(t: &Transport, device: Uuid) -> Result<DeviceInfo> {
    identity::fetch_devices(t)?
        .devices
        .into_iter()
        .find(|d| d.device_id == device)
        .ok_or_else(|| SyncError::Refused("no such device in this organisation".into()))
}

/// What a revocation did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revoked {
    pub device_id: Uuid,
    /// The new epoch of each of the admin's teams.
    pub new_epochs: Vec<KeyId>,
}

/// Revoke a device. This admin first syncs, so it holds everything the device sent, and cuts
/// the device off there (its later ops are refused by every device); the service refuses it
/// from its next request, and the device wipes its copy when it reads the revocation. Then every
/// team of this admin starts a new key epoch, granted to the remaining members and the recovery
/// key: the revoked device cannot read anything written from now on.
pub fn revoke(store: &mut Store, device: Uuid, opts: &Options) -> Result<Revoked> {
    let (_, t) = connect(store, opts)?;
    if device == t.device() {
        return Err(SyncError::Refused(
            "an admin cannot revoke its own device".into(),
        ));
    }
    let mut last = None;
    for _ in 0..3 {
        crate::engine::sync_now(store, opts)?;
        let (t, mut state) = admin(store, opts)?;
        if !state.devices.contains_key(&device) {
            return Err(SyncError::Refused(
                "no admin has approved that device; there is nothing to revoke".into(),
            ));
        }
        if !state.is_revoked(device) {
            let chains = store.peer_chains()?;
            let cutoffs: BTreeMap<Uuid, u64> = state
                .devices
                .get(&device)
                .map(|d| d.teams.keys().copied().collect::<Vec<_>>())
                .unwrap_or_default()
                .into_iter()
                .map(|team| (team, chains.get(&(device, team)).map_or(0, |c| c.0)))
                .collect();
            match trust::append(store, &t, &mut state, Body::Revoke { device, cutoffs }) {
                Ok(()) => {}
                // The device sent more, or another admin was first: sync and try again.
                Err(SyncError::Refused(why)) => {
                    last = Some(why);
                    continue;
                }
                Err(e) => return Err(e),
            }
        }
        let new_epochs = rotate(store, &t, &mut state)?;
        return Ok(Revoked {
            device_id: device,
            new_epochs,
        });
    }
    Err(SyncError::Refused(last.unwrap_or_else(|| {
        "the revocation could not be recorded; try again".into()
    })))
}

/// Start a new epoch for each of this admin's teams, granted to every member of the team by
/// the trust log and to the recovery key. The epoch is announced (with its key id) before the
/// grants, and this device keeps the key only after both are published, so nothing is sealed
/// under a key others cannot fetch.
pub fn rotate_team_keys(store: &mut Store, opts: &Options) -> Result<Vec<KeyId>> {
    let (t, mut state) = admin(store, opts)?;
    rotate(store, &t, &mut state)
}

fn rotate(store: &mut Store, t: &Transport, state: &mut TrustState) -> Result<Vec<KeyId>> {
    let org = state.org_id;
    let mut done = Vec::new();
    for team in my_teams(state, t.device()) {
        let epoch = state.current_epoch(team).map_or(0, |(e, _)| e) + 1;
        let key = TeamKey::generate(KeyId {
            team_id: team,
            epoch,
        })
        .map_err(|e| SyncError::Crypto(e.to_string()))?;
        trust::append(
            store,
            t,
            state,
            Body::TeamEpoch {
                team,
                epoch,
                key_id: key_id(org, &key),
            },
        )?;
        let mut grants = state
            .members(team)
            .map(|d| grant(org, &key, d.keys.device_id, &d.keys.box_key, t))
            .collect::<Result<Vec<_>>>()?;
        grants.push(grant(org, &key, org, &state.recovery_key, t)?);
        post_grants(t, grants)?;
        store.add_team_key(team, epoch, key.expose_secret())?;
        done.push(key.id);
    }
    Ok(done)
}

/// After a restore of the service from an older backup: grant every key this admin holds again,
/// to every member of its team and to the recovery key (the service lost the grants made after
/// its backup; it keeps those it has and adds the rest). A batch at a time.
pub(crate) fn grant_again(store: &Store, t: &Transport, state: &TrustState) -> Result<usize> {
    let org = state.org_id;
    let me = t.device();
    let mut grants = Vec::new();
    for k in team_keys(store)? {
        if state.check_key(&k).is_err()
            || !(state.is_admin(me) || state.admin_teams(me).contains(&k.id.team_id))
        {
            continue;
        }
        for d in state.members(k.id.team_id) {
            grants.push(grant(org, &k, d.keys.device_id, &d.keys.box_key, t)?);
        }
        grants.push(grant(org, &k, org, &state.recovery_key, t)?);
    }
    let n = grants.len();
    let mut rest = grants;
    while !rest.is_empty() {
        let batch: Vec<_> = rest.drain(..rest.len().min(200)).collect();
        post_grants(t, batch)?;
    }
    Ok(n)
}

/// Create a team of the organisation (another hospital, another commissioner's contract): its
/// first key epoch is announced in the trust log, this admin joins it, and the key is granted
/// to this admin and to the recovery key. Its name goes to its members only. Returns its id.
pub fn create_team(store: &mut Store, name: &str, opts: &Options) -> Result<Uuid> {
    use wardside_domain::Validate;
    let name = wardside_domain::Team {
        name: name.trim().to_owned(),
    };
    name.validate()
        .map_err(|e| SyncError::Refused(e.to_string()))?;
    let (t, mut state) = admin(store, opts)?;
    let org = state.org_id;
    let me = t.device();
    let team = Uuid::new_v4();
    let key = TeamKey::generate(KeyId {
        team_id: team,
        epoch: 1,
    })
    .map_err(|e| SyncError::Crypto(e.to_string()))?;
    trust::append(
        store,
        &t,
        &mut state,
        Body::TeamEpoch {
            team,
            epoch: 1,
            key_id: key_id(org, &key),
        },
    )?;
    let mut teams = state.teams_of(me);
    teams.push(team);
    let is_admin = state.is_admin(me);
    trust::append(
        store,
        &t,
        &mut state,
        Body::Update {
            device: me,
            admin: is_admin,
            teams,
            cutoffs: BTreeMap::new(),
        },
    )?;
    let mine = state
        .devices
        .get(&me)
        .ok_or_else(|| SyncError::Refused("this admin is not in the trust log".into()))?
        .keys
        .box_key;
    post_grants(
        &t,
        vec![
            grant(org, &key, me, &mine, &t)?,
            grant(org, &key, org, &state.recovery_key, &t)?,
        ],
    )?;
    store.add_team_key(team, 1, key.expose_secret())?;
    let mut config = store.sync_config()?.ok_or(SyncError::NotEnrolled)?;
    config.teams = identity::in_joined_order(&config.teams, state.teams_of(me));
    store.set_sync_config(&config)?;
    store.write(|w| w.name_sync_team(wardside_domain::TeamId(team), &name))?;
    Ok(team)
}

/// Organisation admin: make a device the admin of exactly these teams (none: of no team). A
/// team's admin approves, moves and revokes devices within its teams and grants their keys.
pub fn set_team_admins(
    store: &mut Store,
    device: Uuid,
    teams: &[Uuid],
    opts: &Options,
) -> Result<()> {
    let (t, mut state) = admin(store, opts)?;
    trust::append(
        store,
        &t,
        &mut state,
        Body::TeamAdmins {
            device,
            teams: teams.to_vec(),
        },
    )
}

/// Put a device in exactly these teams (an admin's decision, signed into the trust log). A team
/// it leaves keeps what it sent there up to now; it is granted the keys of the teams it joins.
pub fn set_device_teams(
    store: &mut Store,
    device: Uuid,
    teams: &[Uuid],
    opts: &Options,
) -> Result<()> {
    crate::engine::sync_now(store, opts)?;
    let (t, mut state) = admin(store, opts)?;
    let Some(d) = state.devices.get(&device).filter(|d| !d.revoked) else {
        return Err(SyncError::Refused(
            "no admin has approved that device".into(),
        ));
    };
    let admin = d.admin;
    let chains = store.peer_chains()?;
    let own = t.device() == device;
    let mut cutoffs = BTreeMap::new();
    for team in state.teams_of(device) {
        if !teams.contains(&team) {
            let at = if own {
                store.own_chain_tip(team)?.0
            } else {
                chains.get(&(device, team)).map_or(0, |c| c.0)
            };
            cutoffs.insert(team, at);
        }
    }
    trust::append(
        store,
        &t,
        &mut state,
        Body::Update {
            device,
            admin,
            teams: teams.to_vec(),
            cutoffs,
        },
    )?;
    share_keys(store, &t, &state, device)
}

/// Sign and publish any statement as this admin device (what the other functions here do for
/// one kind each): for tests, and for admin work the app does not offer yet (a new team, a
/// change of role).
#[doc(hidden)]
pub fn make_statement(store: &mut Store, body: Body, opts: &Options) -> Result<()> {
    let (t, mut state) = admin(store, opts)?;
    trust::append(store, &t, &mut state, body)
}

/// The organisation's devices: the service's list (pending devices are known only there), with
/// each device's standing taken from the trust log wherever the log speaks of it.
pub fn devices(store: &mut Store, opts: &Options) -> Result<Vec<DeviceInfo>> {
    let (config, t) = connect(store, opts)?;
    t.hello()?;
    let state = trust::refresh(store, &t, &config)?.state;
    let mut list = identity::fetch_devices(&t)?.devices;
    if let Some(state) = &state {
        for d in &mut list {
            match state.devices.get(&d.device_id) {
                Some(tr) => {
                    d.status = if tr.revoked {
                        EnrolledStatus::Revoked
                    } else {
                        EnrolledStatus::Approved
                    };
                    d.admin = tr.admin && !tr.revoked;
                    d.name = tr.name.clone();
                    d.teams = state.teams_of(d.device_id);
                    d.sign_key = B64.encode(tr.keys.sign_key);
                    d.box_key = B64.encode(tr.keys.box_key);
                    d.fingerprint = fingerprint(&tr.keys.sign_key, &tr.keys.box_key);
                }
                None => {
                    // Whatever the service says, no admin approved it.
                    d.status = EnrolledStatus::Pending;
                    d.admin = false;
                }
            }
        }
        for (id, tr) in &state.devices {
            if !list.iter().any(|d| d.device_id == *id) {
                list.push(DeviceInfo {
                    device_id: *id,
                    name: tr.name.clone(),
                    sign_key: B64.encode(tr.keys.sign_key),
                    box_key: B64.encode(tr.keys.box_key),
                    fingerprint: fingerprint(&tr.keys.sign_key, &tr.keys.box_key),
                    status: if tr.revoked {
                        EnrolledStatus::Revoked
                    } else {
                        EnrolledStatus::Approved
                    },
                    admin: tr.admin && !tr.revoked,
                    teams: state.teams_of(*id),
                });
            }
        }
    }
    Ok(list)
}
