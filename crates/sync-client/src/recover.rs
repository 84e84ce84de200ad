//! Recovering the organisation with its recovery words when every admin laptop is lost: a new
//! laptop becomes its admin device and gets every team key of every epoch.
//!
//! The words never leave this laptop. From them it derives the recovery key's X25519 key (team
//! keys are wrapped to it) and its signing key ([`wardside_sync::recovery`]). The service hands
//! over the log of the organisation whose genesis names that X25519 key; the laptop believes it
//! only if the log is signed from its genesis on and names the words' own signing key, endorsing
//! that genesis's root (a service cannot make that endorsement for a root of its own). It then
//! signs a [`Body::Recover`] statement with the words, which every device checks like any
//! admin's statement, and the service enrols the laptop as an approved admin. Nothing is kept on
//! the laptop before the service took the recovery, so wrong words change nothing anywhere.

use crate::error::{Result, SyncError};
use crate::identity::{
    BOX_SECRET, RECOVERY_PUBLIC, RecoveryKey, SIGN_SECRET, device_id, grant, post_grants,
};
use crate::transport::{Options, Transport, check_address};
use crate::trust;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use wardside_store::Store;
use wardside_store::sync::SyncConfig;
use wardside_sync::codes::{fingerprint, org_fingerprint};
use wardside_sync::keys::{DeviceSigningKey, TeamKey};
use wardside_sync::protocol::KeyGrants;
use wardside_sync::recovery::{
    RecoverRequest, Recovered as Accepted, RecoveryLog, RecoveryLookup, recover_proof,
};
use wardside_sync::trust::{Body, DeviceKeys, MAX_NAME_CHARS, SignedStatement, TrustState};
use wardside_sync::wrap::BoxSecret;
use zeroize::Zeroizing;

/// What [`recover`] reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recovered {
    pub org_id: uuid::Uuid,
    pub device_id: uuid::Uuid,
    /// This laptop's fingerprint, for the other devices' people to compare.
    pub fingerprint: String,
    /// The organisation's fingerprint (the same on every device of it).
    pub org_fingerprint: String,
    /// Team keys opened with the words and kept (every epoch of every team).
    pub team_keys: usize,
}

fn crypto(e: impl std::fmt::Display) -> SyncError {
    SyncError::Crypto(e.to_string())
}

fn protocol(e: impl std::fmt::Display) -> SyncError {
    SyncError::Protocol(e.to_string())
}

/// Make this laptop the organisation's admin device with its recovery words (when every admin
/// laptop is lost), and keep every team key of every epoch. `words` are the 24 words as typed
/// (spaces and line breaks do not matter). A typo, or words of no organisation on this service,
/// is refused before anything is changed, here or on the service.
pub fn recover(
    store: &mut Store,
    server: &str,
    words: &str,
    name: &str,
    opts: &Options,
) -> Result<Recovered> {
    let recovery = RecoveryKey::from_words(words)?;
    check_address(server)?;
    if let Some(c) = store.sync_config()? {
        // A recovery whose keys did not all arrive (the network failed after the service made
        // this laptop the admin): finish it.
        if c.admin && c.status == "approved" {
            return finish(store, &recovery, opts);
        }
        return Err(SyncError::Refused(format!(
            "this device is already enrolled with {} (status {}); recover the organisation on a laptop (or a Wardside database) that is not",
            c.server, c.status
        )));
    }
    let device_id = device_id(store)?;
    let name: String = name
        .trim()
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_NAME_CHARS)
        .collect();
    let sign = DeviceSigningKey::generate().map_err(crypto)?;
    let boxs = BoxSecret::generate().map_err(crypto)?;
    let pkcs8 = Zeroizing::new(sign.pkcs8().to_vec());
    let t = Transport::new(server, device_id, sign, opts)?;
    t.hello()?;

    let device = DeviceKeys {
        device_id,
        sign_key: t.key().public_key(),
        box_key: boxs.public_key(),
    };
    // Another admin's statement can take the log's next place first (409): read it again and
    // sign again, a few times.
    let mut tries = 0;
    let (log, state, signed) = loop {
        tries += 1;
        match present(&t, &recovery, &device, &name) {
            Err(Conflict) if tries < 3 => continue,
            Err(Conflict) => {
                return Err(SyncError::Refused(
                    "the organisation kept changing while this laptop recovered it; try again"
                        .into(),
                ));
            }
            Ok(done) => break done?,
        }
    };

    // Kept on this laptop only now that the service has made it the organisation's admin; at
    // once, so that a failure from here on can be finished by running the recovery again.
    let root = state.root.sign_key;
    let fingerprint = fingerprint(&device.sign_key, &device.box_key);
    store.set_sync_secret(SIGN_SECRET, &pkcs8)?;
    store.set_sync_secret(BOX_SECRET, &Zeroizing::new(boxs.to_bytes())[..])?;
    store.set_sync_secret(RECOVERY_PUBLIC, &state.recovery_key)?;
    let json = log
        .statements
        .iter()
        .chain(std::iter::once(&signed))
        .map(|s| serde_json::to_string(s).map_err(protocol))
        .collect::<Result<Vec<_>>>()?;
    store.add_trust_statements(1, &json)?;
    store.set_sync_config(&SyncConfig {
        server: server.trim().trim_end_matches('/').to_owned(),
        org_id: log.org_id,
        teams: state.teams_of(device_id),
        admin: true,
        status: "approved".into(),
        fingerprint: fingerprint.clone(),
        name,
        root_key: Some(B64.encode(root)),
    })?;
    let team_keys = take_keys(store, &t, &state, &recovery)?;
    Ok(Recovered {
        org_id: log.org_id,
        device_id,
        fingerprint,
        org_fingerprint: org_fingerprint(log.org_id, &root),
        team_keys,
    })
}

/// Finish a recovery on this (admin) laptop: the team keys wrapped to the recovery key, if the
/// words are this organisation's.
fn finish(store: &mut Store, recovery: &RecoveryKey, opts: &Options) -> Result<Recovered> {
    let (config, t) = crate::identity::connect(store, opts)?;
    t.hello()?;
    let state = trust::as_admin(store, &t)?;
    if recovery.public_key() != state.recovery_key {
        return Err(SyncError::RecoveryWordsUnknown);
    }
    let team_keys = take_keys(store, &t, &state, recovery)?;
    Ok(Recovered {
        org_id: state.org_id,
        device_id: t.device(),
        fingerprint: config.fingerprint,
        org_fingerprint: org_fingerprint(state.org_id, &state.root.sign_key),
        team_keys,
    })
}

/// Every team key of every epoch wrapped to the recovery key, each checked against the log,
/// opened with the words and kept; then granted to this laptop as the admin it is (the keys are
/// kept already, so a failure to grant is only reported). How many keys this laptop holds.
fn take_keys(
    store: &Store,
    t: &Transport,
    state: &TrustState,
    recovery: &RecoveryKey,
) -> Result<usize> {
    let org = state.org_id;
    let me = t.device();
    let grants: KeyGrants = t.get("/v1/recover/keys")?.ok()?.json()?;
    let mut keys: Vec<TeamKey> = Vec::new();
    for g in &grants.grants {
        let key = state
            .check_grant(g, org)
            .map_err(|e| e.to_string())
            .and_then(|()| recovery.open(&g.wrap, org).map_err(|e| e.to_string()))
            .and_then(|k| state.check_key(&k).map(|()| k).map_err(|e| e.to_string()));
        match key {
            Ok(k) if !keys.iter().any(|h| h.id == k.id) => keys.push(k),
            Ok(_) => {}
            Err(why) => {
                tracing::warn!(team = %g.wrap.kid.team_id, epoch = g.wrap.kid.epoch, why, "a team key wrapped to the recovery key was refused");
            }
        }
    }
    for k in &keys {
        store.add_team_key(k.id.team_id, k.id.epoch, k.expose_secret())?;
    }
    let own = state
        .devices
        .get(&me)
        .map(|d| d.keys.box_key)
        .ok_or(SyncError::NotAdmin)
        .and_then(|public| {
            keys.iter()
                .map(|k| grant(org, k, me, &public, t))
                .collect::<Result<Vec<_>>>()
        })
        .and_then(|grants| post_grants(t, grants));
    if let Err(e) = own {
        tracing::warn!(error = %e, "the recovered laptop could not grant itself its team keys");
    }
    Ok(store.team_keys()?.len())
}

/// The service's log changed between reading it and presenting the recovery.
struct Conflict;

/// Read the organisation's log, check it against the words, sign a recovery of `device` with
/// them and present it. `Err(Conflict)` when the log moved meanwhile.
fn present(
    t: &Transport,
    recovery: &RecoveryKey,
    device: &DeviceKeys,
    name: &str,
) -> std::result::Result<Result<(RecoveryLog, TrustState, SignedStatement)>, Conflict> {
    let secret = recovery.secret();
    let attempt = || -> Result<Option<(RecoveryLog, TrustState, SignedStatement)>> {
        let body = serde_json::to_vec(&RecoveryLookup {
            recovery_key: secret.box_public(),
        })
        .map_err(protocol)?;
        let reply = t.post_unsigned("/v1/recover/log", body)?;
        if reply.status == 404 {
            return Err(SyncError::RecoveryWordsUnknown);
        }
        let log: RecoveryLog = reply.ok()?.json()?;
        let mut state = check_log(&log, recovery)?;
        let signed = state
            .next(
                log.org_id,
                t.server_now_ms(),
                Body::Recover {
                    device: device.clone(),
                    name: name.to_owned(),
                    teams: state.teams(),
                },
            )
            .sign_as_recovery(secret);
        state
            .apply(&signed)
            .map_err(|e| SyncError::Trust(e.to_string()))?;
        let req = RecoverRequest {
            proof: recover_proof(t.key(), &signed.statement),
            statement: signed.clone(),
        };
        let body = serde_json::to_vec(&req).map_err(protocol)?;
        let reply = t.post_unsigned("/v1/recover", body)?;
        if reply.status == 409 {
            return Ok(None);
        }
        let accepted: Accepted = reply.ok()?.json()?;
        if accepted.device_id != device.device_id || accepted.org_id != log.org_id {
            return Err(SyncError::Protocol(
                "the service answered a recovery with another device".into(),
            ));
        }
        Ok(Some((log, state, signed)))
    };
    match attempt() {
        Ok(None) => Err(Conflict),
        Ok(Some(done)) => Ok(Ok(done)),
        Err(e) => Ok(Err(e)),
    }
}

/// The log the service handed over, believed only if it is this organisation's: its genesis
/// names the words' X25519 key, every statement checks from the root the genesis names, and
/// the log names the words' own signing key endorsing that root (checked while folding).
fn check_log(log: &RecoveryLog, recovery: &RecoveryKey) -> Result<TrustState> {
    let secret = recovery.secret();
    let not_ours = |why: &str| {
        SyncError::Trust(format!(
            "{why}; it is not the organisation these words belong to"
        ))
    };
    let first = log
        .statements
        .first()
        .ok_or_else(|| not_ours("the service sent an empty trust log"))?;
    let Body::Genesis {
        admin,
        recovery_key,
        ..
    } = &first.statement.body
    else {
        return Err(not_ours(
            "the log does not start by founding an organisation",
        ));
    };
    if *recovery_key != secret.box_public() {
        return Err(not_ours("the log names another recovery key"));
    }
    let state = TrustState::from_log(&log.statements, log.org_id, &admin.sign_key)
        .map_err(|e| SyncError::Trust(e.to_string()))?;
    match state.recovery_signer {
        None => Err(SyncError::RecoveryNotEnabled),
        Some(k) if k != secret.sign_public() => Err(not_ours(
            "the log names another signing key for the recovery words",
        )),
        Some(_) => Ok(state),
    }
}

/// For an organisation set up before recovery existed (its log does not name the recovery
/// key's signing key): an admin types the words once on an admin laptop, which checks them
/// against the genesis and signs the statement naming the words' signing key, endorsed by them.
/// From then on the words can make a new admin laptop. Nothing is kept of the words.
pub fn enable_recovery(store: &mut Store, words: &str, opts: &Options) -> Result<()> {
    let recovery = RecoveryKey::from_words(words)?;
    let (_, t) = crate::identity::connect(store, opts)?;
    t.hello()?;
    let mut state = trust::as_admin(store, &t)?;
    if recovery.public_key() != state.recovery_key {
        return Err(SyncError::RecoveryWordsUnknown);
    }
    match state.recovery_signer {
        Some(k) if k == recovery.secret().sign_public() => Ok(()),
        Some(_) => Err(SyncError::Trust(
            "the log already names another signing key for the recovery words".into(),
        )),
        None => {
            let signer = recovery
                .secret()
                .endorse(state.org_id, &state.root.sign_key);
            trust::append(
                store,
                &t,
                &mut state,
                Body::RecoverySigner {
                    sign_key: signer.sign_key,
                    endorsement: signer.endorsement,
                },
            )
        }
    }
}
