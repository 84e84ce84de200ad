//! What an admin device does: invite a device, approve it after comparing fingerprints (and
//! give it the team keys), revoke one (and start a new key epoch for everyone else).

use crate::error::{Result, SyncError};
use crate::identity::{self, connect, post_wraps, recovery_public, team_keys, wrap_to};
use crate::transport::{Options, Transport};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use uuid::Uuid;
use wardside_store::Store;
use wardside_sync::keys::{KeyId, TeamKey, fingerprint};
use wardside_sync::protocol::{
    ApproveRequest, DeviceInfo, EnrolledStatus, InviteRequest, InviteResponse,
};

fn admin(store: &Store, opts: &Options) -> Result<(wardside_store::sync::SyncConfig, Transport)> {
    let (config, t) = connect(store, opts)?;
    if !config.admin {
        return Err(SyncError::NotAdmin);
    }
    t.hello()?;
    Ok((config, t))
}

/// A one-time code for a new device (valid 7 days), for the admin's teams.
pub fn invite(store: &Store, opts: &Options) -> Result<String> {
    let (_, t) = admin(store, opts)?;
    let body = serde_json::to_vec(&InviteRequest::default())
        .map_err(|e| SyncError::Protocol(e.to_string()))?;
    let resp: InviteResponse = t.post("/v1/invites", body)?.ok()?.json()?;
    Ok(resp.code)
}

fn normalise(fp: &str) -> String {
    fp.chars()
        .filter(char::is_ascii_hexdigit)
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

/// Approve a pending device whose fingerprint, read on its screen, is `given`; then wrap every
/// team key this admin holds for the device's teams to it. The fingerprint is checked here
/// too, against the keys the service lists, so a service that swapped keys is caught.
pub fn approve(store: &Store, device: Uuid, given: &str, opts: &Options) -> Result<()> {
    let (_, t) = admin(store, opts)?;
    let info = find_device(store, &t, device)?;
    let actual = device_fingerprint(&info)?;
    if normalise(given) != normalise(&actual) {
        return Err(SyncError::FingerprintMismatch {
            given: given.to_owned(),
            actual,
        });
    }
    let body = serde_json::to_vec(&ApproveRequest {
        fingerprint: actual,
    })
    .map_err(|e| SyncError::Protocol(e.to_string()))?;
    t.post(&format!("/v1/devices/{device}/approve"), body)?
        .ok()?;
    share_keys(store, &t, &info, None)
}

/// Give a device every key of its teams that this admin holds (`only` limits to one epoch).
fn share_keys(store: &Store, t: &Transport, info: &DeviceInfo, only: Option<KeyId>) -> Result<()> {
    let public = box_key(info)?;
    let wraps = team_keys(store)?
        .iter()
        .filter(|k| info.teams.contains(&k.id.team_id) && only.is_none_or(|o| o == k.id))
        .map(|k| wrap_to(k, info.device_id, &public))
        .collect::<Result<Vec<_>>>()?;
    post_wraps(t, wraps)
}

/// Share this admin's team keys with an approved device again (a device that missed an epoch).
pub fn share_keys_with(store: &Store, device: Uuid, opts: &Options) -> Result<()> {
    let (_, t) = admin(store, opts)?;
    let info = find_device(store, &t, device)?;
    share_keys(store, &t, &info, None)
}

fn find_device(store: &Store, t: &Transport, device: Uuid) -> Result<DeviceInfo> {
    identity::fetch_devices(store, t)?
        .devices
        .into_iter()
        .find(|d| d.device_id == device)
        .ok_or_else(|| SyncError::Refused("no such device in this organisation".into()))
}

fn box_key(info: &DeviceInfo) -> Result<[u8; 32]> {
    B64.decode(&info.box_key)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| SyncError::Protocol("a device's key is malformed".into()))
}

fn device_fingerprint(info: &DeviceInfo) -> Result<String> {
    let sign: [u8; 32] = B64
        .decode(&info.sign_key)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| SyncError::Protocol("a device's key is malformed".into()))?;
    Ok(fingerprint(&sign, &box_key(info)?))
}

/// What a revocation did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revoked {
    pub device_id: Uuid,
    /// The new epoch of each of the admin's teams.
    pub new_epochs: Vec<KeyId>,
}

/// Revoke a device: the service refuses it from its next request, and every team of this admin
/// starts a new key epoch, wrapped to the remaining approved devices and the recovery key. The
/// revoked device cannot obtain the new keys, so it cannot read anything written from now on.
pub fn revoke(store: &Store, device: Uuid, opts: &Options) -> Result<Revoked> {
    let (_, t) = admin(store, opts)?;
    if device == t.device() {
        return Err(SyncError::Refused(
            "an admin cannot revoke its own device".into(),
        ));
    }
    t.post(&format!("/v1/devices/{device}/revoke"), Vec::new())?
        .ok()?;
    let new_epochs = rotate(store, &t, &[device])?;
    Ok(Revoked {
        device_id: device,
        new_epochs,
    })
}

/// Start a new epoch for each of this admin's teams, wrapped to every approved device of the
/// team except `exclude`, and to the recovery key. The service gets the wraps before this device
/// uses the key, so nothing is sealed under a key others cannot fetch.
pub fn rotate_team_keys(store: &Store, exclude: &[Uuid], opts: &Options) -> Result<Vec<KeyId>> {
    let (_, t) = admin(store, opts)?;
    rotate(store, &t, exclude)
}

fn rotate(store: &Store, t: &Transport, exclude: &[Uuid]) -> Result<Vec<KeyId>> {
    let config = identity::config(store)?;
    let devices = identity::fetch_devices(store, t)?.devices;
    let held = team_keys(store)?;
    let recovery = recovery_public(store)?;
    let mut wraps = Vec::new();
    let mut keys = Vec::new();
    for team in &config.teams {
        let epoch = held
            .iter()
            .filter(|k| k.id.team_id == *team)
            .map(|k| k.id.epoch)
            .max()
            .unwrap_or(0)
            + 1;
        let key = TeamKey::generate(KeyId {
            team_id: *team,
            epoch,
        })
        .map_err(|e| SyncError::Crypto(e.to_string()))?;
        for d in devices.iter().filter(|d| {
            d.status == EnrolledStatus::Approved
                && d.teams.contains(team)
                && !exclude.contains(&d.device_id)
        }) {
            wraps.push(wrap_to(&key, d.device_id, &box_key(d)?)?);
        }
        if let Some(r) = &recovery {
            wraps.push(wrap_to(&key, config.org_id, r)?);
        }
        keys.push(key);
    }
    post_wraps(t, wraps)?;
    for k in &keys {
        store.add_team_key(k.id.team_id, k.id.epoch, k.expose_secret())?;
    }
    Ok(keys.iter().map(|k| k.id).collect())
}

/// The organisation's devices as the service lists them.
pub fn devices(store: &Store, opts: &Options) -> Result<Vec<DeviceInfo>> {
    let (_, t) = connect(store, opts)?;
    t.hello()?;
    Ok(identity::fetch_devices(store, &t)?.devices)
}
