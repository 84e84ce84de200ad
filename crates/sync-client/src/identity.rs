//! This device's sync identity: its keys (kept inside the encrypted store, untouched by a
//! passphrase change), enrolment with a one-time code, the organisation's recovery key, and
//! team keys by epoch.

use crate::error::{Result, SyncError};
use crate::transport::{Options, Transport};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use uuid::Uuid;
use wardside_store::Store;
use wardside_store::sync::SyncConfig;
use wardside_sync::keys::{DeviceSigningKey, KeyId, TeamKey, fingerprint};
use wardside_sync::protocol::{
    DeviceList, EnrollRequest, EnrollResponse, EnrolledStatus, KeyWraps, enroll_proof,
};
use wardside_sync::wrap::{BoxSecret, WrappedKey, unwrap, wrap};
use zeroize::Zeroizing;

const SIGN_SECRET: &str = "device_sign_pkcs8";
const BOX_SECRET: &str = "device_box_secret";
const RECOVERY_PUBLIC: &str = "recovery_public";

/// The organisation's recovery key, shown once to the first admin: 24 words that open every
/// team key ever wrapped to it. Whoever holds them can read the organisation's records.
pub struct RecoveryKey(BoxSecret);

impl std::fmt::Debug for RecoveryKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RecoveryKey(..)")
    }
}

impl RecoveryKey {
    /// The 24 words (BIP-39 English list; the last word carries a checksum).
    pub fn words(&self) -> Zeroizing<String> {
        let bytes = Zeroizing::new(self.0.to_bytes());
        Zeroizing::new(
            bip39::Mnemonic::from_entropy(bytes.as_ref())
                .map(|m| m.to_string())
                .unwrap_or_default(),
        )
    }

    pub fn from_words(words: &str) -> Result<RecoveryKey> {
        let m = bip39::Mnemonic::parse_normalized(
            &words.split_whitespace().collect::<Vec<_>>().join(" "),
        )
        .map_err(|e| SyncError::RecoveryWords(e.to_string()))?;
        let entropy = Zeroizing::new(m.to_entropy());
        let bytes: [u8; 32] = entropy
            .as_slice()
            .try_into()
            .map_err(|_| SyncError::RecoveryWords("24 words are needed".into()))?;
        Ok(RecoveryKey(BoxSecret::from_bytes(bytes)))
    }

    pub fn public_key(&self) -> [u8; 32] {
        self.0.public_key()
    }

    /// Open a team key wrapped to the organisation's recovery key.
    pub fn open(&self, wrapped: &WrappedKey, org_id: Uuid) -> Result<TeamKey> {
        unwrap(wrapped, org_id, &self.0).map_err(|e| SyncError::Crypto(e.to_string()))
    }
}

/// What `enroll` reports.
#[derive(Debug)]
pub struct Enrolled {
    pub device_id: Uuid,
    pub fingerprint: String,
    pub status: EnrolledStatus,
    pub admin: bool,
    /// For the organisation's first device only: show once, then forget.
    pub recovery: Option<RecoveryKey>,
}

pub(crate) fn device_id(store: &Store) -> Result<Uuid> {
    store
        .device_id()
        .parse()
        .map_err(|_| SyncError::Protocol("this store's device id is not a UUID".into()))
}

pub(crate) fn signing_key(store: &Store) -> Result<DeviceSigningKey> {
    let pkcs8 = store
        .sync_secret(SIGN_SECRET)?
        .ok_or(SyncError::NotEnrolled)?;
    DeviceSigningKey::from_pkcs8(&pkcs8).map_err(|e| SyncError::Crypto(e.to_string()))
}

pub(crate) fn box_secret(store: &Store) -> Result<BoxSecret> {
    let bytes = store
        .sync_secret(BOX_SECRET)?
        .ok_or(SyncError::NotEnrolled)?;
    let arr: [u8; 32] = bytes
        .as_slice()
        .try_into()
        .map_err(|_| SyncError::Crypto("the device's key is damaged".into()))?;
    Ok(BoxSecret::from_bytes(arr))
}

pub(crate) fn config(store: &Store) -> Result<SyncConfig> {
    store.sync_config()?.ok_or(SyncError::NotEnrolled)
}

/// A signed connection as this device.
pub(crate) fn connect(store: &Store, opts: &Options) -> Result<(SyncConfig, Transport)> {
    let config = config(store)?;
    let t = Transport::new(&config.server, device_id(store)?, signing_key(store)?, opts)?;
    Ok((config, t))
}

/// Enrol this device with a one-time code. The first device of an organisation becomes its
/// admin, approved at once: it makes the first team keys and the recovery key. A device whose
/// identity another install also uses enrols again here under a new id, keeping its unsynced
/// changes.
pub fn enroll(
    store: &mut Store,
    server: &str,
    code: &str,
    name: &str,
    opts: &Options,
) -> Result<Enrolled> {
    if let Some(c) = store.sync_config()? {
        match c.status.as_str() {
            "re-enrol" => {
                store.change_device_id(Uuid::new_v4())?;
            }
            "revoked" => {}
            _ => {
                return Err(SyncError::Refused(format!(
                    "this device is already enrolled with {} (status {})",
                    c.server, c.status
                )));
            }
        }
    }
    let device_id = device_id(store)?;
    let sign = DeviceSigningKey::generate().map_err(|e| SyncError::Crypto(e.to_string()))?;
    let boxs = BoxSecret::generate().map_err(|e| SyncError::Crypto(e.to_string()))?;
    let sign_pub = B64.encode(sign.public_key());
    let box_pub = B64.encode(boxs.public_key());
    let code = code.trim().to_uppercase();
    let proof = enroll_proof(&sign, &code, device_id, &sign_pub, &box_pub);
    let req = EnrollRequest {
        code,
        device_id,
        name: name.trim().to_owned(),
        sign_key: sign_pub,
        box_key: box_pub,
        proof,
    };
    let pkcs8 = sign.pkcs8().to_vec();
    let t = Transport::new(server, device_id, sign, opts)?;
    let body = serde_json::to_vec(&req).map_err(|e| SyncError::Protocol(e.to_string()))?;
    let resp: EnrollResponse = t.post_unsigned("/v1/enroll", body)?.ok()?.json()?;
    let expected = fingerprint(&t.key().public_key(), &boxs.public_key());
    if resp.fingerprint != expected || resp.device_id != device_id {
        return Err(SyncError::Protocol(
            "the service answered with another device's fingerprint".into(),
        ));
    }
    store.set_sync_secret(SIGN_SECRET, &pkcs8)?;
    store.set_sync_secret(BOX_SECRET, &Zeroizing::new(boxs.to_bytes())[..])?;
    let status = resp.status.as_str();
    store.set_sync_config(&SyncConfig {
        server: server.trim_end_matches('/').to_owned(),
        org_id: resp.org_id,
        teams: resp.teams.clone(),
        admin: resp.admin,
        status: status.into(),
        fingerprint: resp.fingerprint.clone(),
        name: req.name.clone(),
    })?;
    // The first admin makes the organisation's recovery key and the first key of each team,
    // wrapped to itself and to the recovery key.
    let recovery = if resp.admin && store.team_keys()?.is_empty() {
        let recovery =
            RecoveryKey(BoxSecret::generate().map_err(|e| SyncError::Crypto(e.to_string()))?);
        store.set_sync_secret(RECOVERY_PUBLIC, &recovery.public_key())?;
        let mut wraps = Vec::new();
        let mut keys = Vec::new();
        for team in &resp.teams {
            let key = TeamKey::generate(KeyId {
                team_id: *team,
                epoch: 1,
            })
            .map_err(|e| SyncError::Crypto(e.to_string()))?;
            wraps.push(wrap_to(&key, device_id, &boxs.public_key())?);
            wraps.push(wrap_to(&key, resp.org_id, &recovery.public_key())?);
            keys.push(key);
        }
        post_wraps(&t, wraps)?;
        for k in keys {
            store.add_team_key(k.id.team_id, k.id.epoch, k.expose_secret())?;
        }
        Some(recovery)
    } else {
        None
    };
    Ok(Enrolled {
        device_id,
        fingerprint: resp.fingerprint,
        status: resp.status,
        admin: resp.admin,
        recovery,
    })
}

pub(crate) fn wrap_to(key: &TeamKey, recipient: Uuid, public: &[u8; 32]) -> Result<WrappedKey> {
    wrap(key, recipient, public).map_err(|e| SyncError::Crypto(e.to_string()))
}

pub(crate) fn post_wraps(t: &Transport, wraps: Vec<WrappedKey>) -> Result<()> {
    if wraps.is_empty() {
        return Ok(());
    }
    let body =
        serde_json::to_vec(&KeyWraps { wraps }).map_err(|e| SyncError::Protocol(e.to_string()))?;
    t.post("/v1/keys", body)?.ok()?;
    Ok(())
}

/// Fetch the team keys wrapped to this device and keep the new ones. Returns how many were new.
pub(crate) fn fetch_keys(store: &Store, t: &Transport) -> Result<usize> {
    let wraps: KeyWraps = t.get("/v1/keys")?.ok()?.json()?;
    let secret = box_secret(store)?;
    let me = t.device();
    let held: std::collections::BTreeSet<KeyId> = team_keys(store)?.iter().map(|k| k.id).collect();
    let mut new = 0;
    for w in wraps.wraps.iter().filter(|w| !held.contains(&w.kid)) {
        match unwrap(w, me, &secret) {
            Ok(k) => {
                if store.add_team_key(k.id.team_id, k.id.epoch, k.expose_secret())? {
                    new += 1;
                }
            }
            Err(_) => {
                tracing::warn!(team = %w.kid.team_id, epoch = w.kid.epoch, "a key wrapped to this device does not open; ignored")
            }
        }
    }
    Ok(new)
}

/// Refresh the organisation's device list (public keys, status). Returns it.
pub(crate) fn fetch_devices(store: &Store, t: &Transport) -> Result<DeviceList> {
    let list: DeviceList = t.get("/v1/devices")?.ok()?.json()?;
    for d in &list.devices {
        let sign = B64.decode(&d.sign_key).unwrap_or_default();
        let boxk = B64.decode(&d.box_key).unwrap_or_default();
        let status = d.status.as_str();
        store.set_peer(d.device_id, &d.name, &sign, &boxk, status, d.admin)?;
    }
    Ok(list)
}

/// The organisation's recovery public key, held by the admin that made it.
pub(crate) fn recovery_public(store: &Store) -> Result<Option<[u8; 32]>> {
    Ok(store
        .sync_secret(RECOVERY_PUBLIC)?
        .and_then(|b| <[u8; 32]>::try_from(b.as_slice()).ok()))
}

/// Team keys held, as keys.
pub(crate) fn team_keys(store: &Store) -> Result<Vec<TeamKey>> {
    store
        .team_keys()?
        .into_iter()
        .map(|k| {
            let (team, epoch, secret) = (k.team, k.epoch, k.secret);
            let bytes: [u8; 32] = secret
                .as_slice()
                .try_into()
                .map_err(|_| SyncError::Crypto("a team key is damaged".into()))?;
            Ok(TeamKey::from_bytes(
                KeyId {
                    team_id: team,
                    epoch,
                },
                bytes,
            ))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_recovery_words_reopen_a_team_key_and_a_typo_is_caught() {
        let recovery = RecoveryKey(BoxSecret::generate().unwrap());
        let words = recovery.words();
        assert_eq!(words.split_whitespace().count(), 24);
        let org = Uuid::new_v4();
        let key = TeamKey::generate(KeyId {
            team_id: org,
            epoch: 3,
        })
        .unwrap();
        let wrapped = wrap_to(&key, org, &recovery.public_key()).unwrap();
        // Typed back with extra spaces and a line break, as someone copying from paper would.
        let typed = words.split_whitespace().collect::<Vec<_>>().join("  \n ");
        let again = RecoveryKey::from_words(&typed).unwrap();
        assert_eq!(again.public_key(), recovery.public_key());
        assert_eq!(
            again.open(&wrapped, org).unwrap().expose_secret(),
            key.expose_secret()
        );
        // One word swapped for another valid word fails the checksum (or opens nothing).
        let mut list: Vec<&str> = words.split_whitespace().collect();
        list[5] = if list[5] == "abandon" {
            "ability"
        } else {
            "abandon"
        };
        match RecoveryKey::from_words(&list.join(" ")) {
            Err(SyncError::RecoveryWords(_)) => {}
            Ok(wrong) => assert!(wrong.open(&wrapped, org).is_err()),
            Err(other) => panic!("{other}"),
        }
    }
}
