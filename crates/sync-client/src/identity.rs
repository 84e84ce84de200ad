//! This device's sync identity: its keys (kept inside the encrypted store, untouched by a
//! passphrase change), enrolment with a one-time code (pinning the organisation's root of
//! trust), the organisation's recovery key, and team keys by epoch, accepted only as the trust
//! log allows.

use crate::error::{Result, SyncError};
use crate::transport::{Options, Transport, check_address};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use std::collections::HashMap;
use uuid::Uuid;
use wardside_store::Store;
use wardside_store::sync::SyncConfig;
use wardside_sync::codes::{
    CodeKind, check_root_binding, code_kind, code_token, fingerprint, org_fingerprint,
};
use wardside_sync::keys::{DeviceSigningKey, KeyId, TeamKey};
use wardside_sync::protocol::{
    DeviceList, EnrollRequest, EnrollResponse, EnrolledStatus, KeyGrants, enroll_proof,
};
use wardside_sync::recovery::RecoverySecret;
use wardside_sync::trust::{
    Body, DeviceKeys, KeyGrant, MAX_NAME_CHARS, Statement, TrustState, key_id,
};
use wardside_sync::wrap::{BoxSecret, WrappedKey, unwrap, wrap};
use zeroize::Zeroizing;

pub(crate) const SIGN_SECRET: &str = "device_sign_pkcs8";
pub(crate) const BOX_SECRET: &str = "device_box_secret";
pub(crate) const RECOVERY_PUBLIC: &str = "recovery_public";

/// The organisation's recovery key, shown once to the first admin: 24 words that open every
/// team key ever wrapped to it, and (through the signing key derived from them, see
/// [`wardside_sync::recovery`]) make a new admin laptop when every admin laptop is lost
/// ([`crate::recover()`]). Whoever holds them can read the organisation's records.
pub struct RecoveryKey(RecoverySecret);

impl std::fmt::Debug for RecoveryKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RecoveryKey(..)")
    }
}

impl RecoveryKey {
    /// The 24 words (BIP-39 English list; the last word carries a checksum).
    pub fn words(&self) -> Zeroizing<String> {
        Zeroizing::new(
            bip39::Mnemonic::from_entropy(self.0.expose_secret())
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
        Ok(RecoveryKey(RecoverySecret::from_bytes(bytes)))
    }

    /// The X25519 key team keys are wrapped to (what the genesis names).
    pub fn public_key(&self) -> [u8; 32] {
        self.0.box_public()
    }

    /// Open a team key wrapped to the organisation's recovery key.
    pub fn open(&self, wrapped: &WrappedKey, org_id: Uuid) -> Result<TeamKey> {
        unwrap(wrapped, org_id, &self.0.box_secret()).map_err(|e| SyncError::Crypto(e.to_string()))
    }

    pub(crate) fn secret(&self) -> &RecoverySecret {
        &self.0
    }
}

/// What `enroll` reports.
#[derive(Debug)]
pub struct Enrolled {
    pub device_id: Uuid,
    pub fingerprint: String,
    /// The organisation's fingerprint (its id and root key), the same on every device of it.
    pub org_fingerprint: String,
    pub status: EnrolledStatus,
    pub admin: bool,
    /// For the organisation's first device only: show once, then forget.
    pub recovery: Option<RecoveryKey>,
}

/// The organisation's fingerprint from the root key this laptop pinned at enrolment (none
/// before enrolment, or if the pinned key is damaged).
pub fn org_fingerprint_of(config: &SyncConfig) -> Option<String> {
    let root: [u8; 32] = B64
        .decode(config.root_key.as_deref()?)
        .ok()?
        .try_into()
        .ok()?;
    Some(org_fingerprint(config.org_id, &root))
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

fn crypto(e: impl std::fmt::Display) -> SyncError {
    SyncError::Crypto(e.to_string())
}

/// Enrol this device with a one-time code.
///
/// - **An organisation's first code** makes this device its first admin: the root of trust.
///   It founds the trust log (signed by its own key, which it pins), makes the first key of
///   each team and the organisation's recovery key, and grants the keys to itself and to the
///   recovery key.
/// - **An invitation** (made by an admin's device) makes a pending device. The service hands
///   over the organisation's root key with a binding only the code's holder can check: a service
///   that cannot prove the root is refused, and nothing is kept. The device pins the root; from
///   then on it believes only statements that chain back to it.
///
/// A device whose identity another install also uses, or that was revoked, enrols again here
/// under a new id, keeping its unsent changes (they go once it is approved).
pub fn enroll(
    store: &mut Store,
    server: &str,
    code: &str,
    name: &str,
    opts: &Options,
) -> Result<Enrolled> {
    let kind = code_kind(code).ok_or(SyncError::BadCode(
        "that code is mistyped (its check letter does not match); check it with the admin who made it",
    ))?;
    check_address(server)?;
    if let Some(c) = store.sync_config()? {
        match c.status.as_str() {
            "re-enrol" | "revoked" => {
                store.change_device_id(Uuid::new_v4())?;
                store.reset_sync_cursor()?;
            }
            _ => {
                return Err(SyncError::Refused(format!(
                    "this device is already enrolled with {} (status {})",
                    c.server, c.status
                )));
            }
        }
    }
    let device_id = device_id(store)?;
    let sign = DeviceSigningKey::generate().map_err(crypto)?;
    let boxs = BoxSecret::generate().map_err(crypto)?;
    let sign_pub = B64.encode(sign.public_key());
    let box_pub = B64.encode(boxs.public_key());
    let token = B64.encode(code_token(code));
    let proof = enroll_proof(&sign, &token, device_id, &sign_pub, &box_pub);
    let name: String = name
        .trim()
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_NAME_CHARS)
        .collect();
    let req = EnrollRequest {
        token,
        device_id,
        name: name.clone(),
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
    let root_key: [u8; 32] = match kind {
        CodeKind::Invitation => {
            let root: Option<[u8; 32]> = resp
                .root_key
                .as_deref()
                .and_then(|k| B64.decode(k).ok())
                .and_then(|k| k.try_into().ok());
            let binding = resp.binding.as_deref().and_then(|b| B64.decode(b).ok());
            match (root, binding) {
                (Some(root), Some(b))
                    if !resp.admin && check_root_binding(code, resp.org_id, &root, &b) =>
                {
                    root
                }
                _ => return Err(SyncError::RootNotProved),
            }
        }
        CodeKind::Organisation => {
            if !resp.admin {
                return Err(SyncError::Protocol(
                    "this is an organisation's first code, but the service did not make this device its admin".into(),
                ));
            }
            t.key().public_key()
        }
    };
    store.set_sync_secret(SIGN_SECRET, &pkcs8)?;
    store.set_sync_secret(BOX_SECRET, &Zeroizing::new(boxs.to_bytes())[..])?;
    let org_fingerprint = org_fingerprint(resp.org_id, &root_key);
    let mut config = SyncConfig {
        server: server.trim().trim_end_matches('/').to_owned(),
        org_id: resp.org_id,
        teams: resp.teams.clone(),
        admin: resp.admin,
        status: if resp.admin { "approved" } else { "pending" }.into(),
        fingerprint: resp.fingerprint.clone(),
        name: name.clone(),
        root_key: Some(B64.encode(root_key)),
    };
    store.set_sync_config(&config)?;
    let recovery = if kind == CodeKind::Organisation {
        Some(found_organisation(store, &t, &mut config, &boxs, &name)?)
    } else {
        None
    };
    Ok(Enrolled {
        device_id,
        fingerprint: resp.fingerprint,
        org_fingerprint,
        status: if resp.admin {
            EnrolledStatus::Approved
        } else {
            EnrolledStatus::Pending
        },
        admin: resp.admin,
        recovery,
    })
}

/// The first admin founds the organisation: the recovery key, the genesis statement and each
/// team's first key epoch (kept here first, then published), and grants of the keys to this
/// device and the recovery key.
fn found_organisation(
    store: &mut Store,
    t: &Transport,
    config: &mut SyncConfig,
    boxs: &BoxSecret,
    name: &str,
) -> Result<RecoveryKey> {
    let me = t.device();
    let org = config.org_id;
    let recovery = RecoveryKey(RecoverySecret::generate().map_err(crypto)?);
    store.set_sync_secret(RECOVERY_PUBLIC, &recovery.public_key())?;
    let keys: Vec<TeamKey> = config
        .teams
        .iter()
        .map(|team| {
            TeamKey::generate(KeyId {
                team_id: *team,
                epoch: 1,
            })
            .map_err(crypto)
        })
        .collect::<Result<_>>()?;
    let genesis = Statement {
        org_id: org,
        seq: 1,
        prev: [0; 32],
        author: me,
        at_ms: store.clock().now_ms(),
        body: Body::Genesis {
            admin: DeviceKeys {
                device_id: me,
                sign_key: t.key().public_key(),
                box_key: boxs.public_key(),
            },
            name: name.to_owned(),
            recovery_key: recovery.public_key(),
            teams: config.teams.clone(),
        },
    }
    .sign(t.key());
    let mut state = TrustState::genesis(&genesis, org, &t.key().public_key())
        .map_err(|e| SyncError::Trust(e.to_string()))?;
    let mut log = vec![genesis];
    for k in &keys {
        let s = state
            .next(
                me,
                store.clock().now_ms(),
                Body::TeamEpoch {
                    team: k.id.team_id,
                    epoch: 1,
                    key_id: key_id(org, k),
                },
            )
            .sign(t.key());
        state
            .apply(&s)
            .map_err(|e| SyncError::Trust(e.to_string()))?;
        log.push(s);
    }
    // The recovery key's signing key, endorsing this root: what lets the words make a new admin
    // laptop if every admin laptop is lost.
    let signer = recovery.secret().endorse(org, &t.key().public_key());
    let s = state
        .next(
            me,
            store.clock().now_ms(),
            Body::RecoverySigner {
                sign_key: signer.sign_key,
                endorsement: signer.endorsement,
            },
        )
        .sign(t.key());
    state
        .apply(&s)
        .map_err(|e| SyncError::Trust(e.to_string()))?;
    log.push(s);
    // Kept here before anything is published: if publishing fails half way, the next sync
    // gives the service what it lacks.
    for k in &keys {
        store.add_team_key(k.id.team_id, k.id.epoch, k.expose_secret())?;
    }
    let json = log
        .iter()
        .map(|s| serde_json::to_string(s).map_err(|e| SyncError::Protocol(e.to_string())))
        .collect::<Result<Vec<_>>>()?;
    store.add_trust_statements(1, &json)?;
    let config_now = config.clone();
    crate::trust::refresh(store, t, &config_now)?;
    let mut grants = Vec::new();
    for k in &keys {
        grants.push(grant(org, k, me, &boxs.public_key(), t)?);
        grants.push(grant(org, k, org, &recovery.public_key(), t)?);
    }
    post_grants(t, grants)?;
    Ok(recovery)
}

/// Wrap `key` to `recipient` and sign the grant as this (admin) device.
pub(crate) fn grant(
    org: Uuid,
    key: &TeamKey,
    recipient: Uuid,
    public: &[u8; 32],
    t: &Transport,
) -> Result<KeyGrant> {
    let w = wrap(key, recipient, public).map_err(crypto)?;
    Ok(KeyGrant::sign(org, w, key, t.device(), t.key()))
}

pub(crate) fn post_grants(t: &Transport, grants: Vec<KeyGrant>) -> Result<()> {
    if grants.is_empty() {
        return Ok(());
    }
    let body = serde_json::to_vec(&KeyGrants { grants })
        .map_err(|e| SyncError::Protocol(e.to_string()))?;
    t.post("/v1/keys", body)?.ok()?;
    Ok(())
}

/// Whether to ask the service for team keys although neither the trust log nor the number of
/// grants the service holds for this device has moved since the last sync: a team's current
/// key is missing, ops are held for want of a key, or the last sync refused a key (asking
/// again keeps that reported).
pub(crate) fn keys_wanted(
    store: &Store,
    held: &HashMap<KeyId, TeamKey>,
    trust: &TrustState,
    teams: &[Uuid],
) -> Result<bool> {
    let missing = teams.iter().any(|team| {
        trust.current_epoch(*team).is_some_and(|(epoch, _)| {
            !held.contains_key(&KeyId {
                team_id: *team,
                epoch,
            })
        })
    });
    Ok(missing
        || store.held_count(wardside_store::sync::HeldReason::NoKey)? > 0
        || store
            .sync_problems()?
            .iter()
            .any(|p| p.kind == "key-refused"))
}

/// Fetch the team keys granted to this device and keep those an admin signed for a key the
/// trust log announced (and that hash to it). Returns how many were new, and how many the
/// service offered that were refused.
pub(crate) fn fetch_keys(
    store: &Store,
    t: &Transport,
    trust: &TrustState,
    held: &HashMap<KeyId, TeamKey>,
) -> Result<(usize, usize)> {
    let grants: KeyGrants = t.get("/v1/keys")?.ok()?.json()?;
    let secret = box_secret(store)?;
    let me = t.device();
    let (mut new, mut refused) = (0, 0);
    for g in grants
        .grants
        .iter()
        .filter(|g| !held.contains_key(&g.wrap.kid))
    {
        let key = trust
            .check_grant(g, me)
            .map_err(|e| e.to_string())
            .and_then(|()| unwrap(&g.wrap, me, &secret).map_err(|e| e.to_string()))
            .and_then(|k| trust.check_key(&k).map(|()| k).map_err(|e| e.to_string()));
        match key {
            Ok(k) => {
                if store.add_team_key(k.id.team_id, k.id.epoch, k.expose_secret())? {
                    new += 1;
                }
            }
            Err(why) => {
                refused += 1;
                tracing::warn!(team = %g.wrap.kid.team_id, epoch = g.wrap.kid.epoch, why, "a team key offered by the service was refused");
            }
        }
    }
    Ok((new, refused))
}

/// The organisation's devices as the service lists them (pending ones too): what an admin
/// compares a fingerprint against before signing an approval. Names made safe to show.
pub(crate) fn fetch_devices(t: &Transport) -> Result<DeviceList> {
    let mut list: DeviceList = t.get("/v1/devices")?.ok()?.json()?;
    for d in &mut list.devices {
        d.name = crate::transport::remote_text(&d.name);
    }
    Ok(list)
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

/// `now` (a device's teams by the trust log, in id order) in the order `before` had them, teams
/// joined since at the end: the first stays the device's own team (where changes about a person
/// with no team of their own go) however the ids sort.
pub(crate) fn in_joined_order(before: &[Uuid], now: Vec<Uuid>) -> Vec<Uuid> {
    let mut out: Vec<Uuid> = before.iter().filter(|t| now.contains(t)).copied().collect();
    out.extend(now.into_iter().filter(|t| !before.contains(t)));
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_recovery_words_reopen_a_team_key_and_a_typo_is_caught() {
        let recovery = RecoveryKey(RecoverySecret::generate().unwrap());
        let words = recovery.words();
        assert_eq!(words.split_whitespace().count(), 24);
        let org = Uuid::new_v4();
        let key = TeamKey::generate(KeyId {
            team_id: org,
            epoch: 3,
        })
        .unwrap();
        let wrapped = wrap(&key, org, &recovery.public_key()).unwrap();
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
