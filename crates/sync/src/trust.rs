//! The organisation's trust log: who may read and write, decided by admins, never by the
//! service.
//!
//! Every device approval, revocation, change of role or team, and every new team-key epoch is a
//! [`Statement`] signed by an admin device. Statements are numbered from 1 and each names the
//! hash of the one before, so the log is one chain: a statement cannot be removed, reordered or
//! slipped in without every device noticing. The first statement ([`Body::Genesis`]) carries the
//! organisation's first admin key, which every device pins when it enrols (the first admin pins
//! its own; others have it proved by their invitation code, see [`crate::codes`]).
//!
//! A device folds the log into a [`TrustState`] and uses nothing else to decide whose ops to
//! apply (a sender's key, its teams, where its revocation cut it off), which team keys to accept
//! ([`KeyGrant`]: a wrap is used only if an admin signed its team, epoch, key id and recipient,
//! and the key inside hashes to the key id the log committed to) and which epoch to seal with.
//! The service keeps the log and acts on it (it stops serving a revoked device), but a device
//! checks every statement itself: what the service says is a hint, never an authority.
//!
//! Signed bytes are a byte-pinned encoding (each field `tag || length || bytes` in a fixed order
//! after a version tag), not JSON: JSON is only how statements travel.

use crate::codes::sha256;
use crate::keys::{DeviceSigningKey, KeyId, TeamKey, verify};
use crate::wrap::WrappedKey;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use uuid::Uuid;

pub type Hash = [u8; 32];

const STATEMENT_TAG: &[u8] = b"wardside/statement/v1";
const STATEMENT_SIG_TAG: &[u8] = b"wardside/statement-sig/v1";
const GRANT_TAG: &[u8] = b"wardside/key-grant/v1";
const KEY_ID_TAG: &[u8] = b"wardside/team-key-id/v1";

/// The longest device or organisation name a statement may carry.
pub const MAX_NAME_CHARS: usize = 100;
/// The most teams one statement may name.
pub const MAX_TEAMS: usize = 64;

/// A device's public keys, as an admin approved them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeviceKeys {
    pub device_id: Uuid,
    /// Ed25519: checks the device's signatures (ops, requests, statements).
    #[serde(with = "crate::b64::arr32")]
    pub sign_key: [u8; 32],
    /// X25519: team keys are wrapped to it.
    #[serde(with = "crate::b64::arr32")]
    pub box_key: [u8; 32],
}

/// What a statement says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Body {
    /// The organisation's first statement: its first admin (the root of trust), the recovery
    /// key every team key is also wrapped to, and its teams.
    Genesis {
        admin: DeviceKeys,
        name: String,
        #[serde(with = "crate::b64::arr32")]
        recovery_key: [u8; 32],
        teams: Vec<Uuid>,
    },
    /// An admin compared this device's fingerprint and approved it, with a role and teams.
    Approve {
        device: DeviceKeys,
        name: String,
        admin: bool,
        teams: Vec<Uuid>,
    },
    /// A device's role or teams change. A team it leaves keeps the ops it sent there up to
    /// `cutoffs[team]` (its own chain sequence in that team); later ones are refused.
    Update {
        device: Uuid,
        admin: bool,
        teams: Vec<Uuid>,
        #[serde(default)]
        cutoffs: BTreeMap<Uuid, u64>,
    },
    /// A device is revoked: nothing it sends after `cutoffs[team]` in each team is accepted, and
    /// it receives nothing more. A device that reads this about itself wipes its copy.
    Revoke {
        device: Uuid,
        #[serde(default)]
        cutoffs: BTreeMap<Uuid, u64>,
    },
    /// A team's new content key epoch (1 for a new team), committed by its [`key_id`].
    TeamEpoch {
        team: Uuid,
        epoch: u32,
        #[serde(with = "crate::b64::arr32")]
        key_id: Hash,
    },
    /// An admin names the recovery key's signing key, with the recovery key's endorsement of
    /// the root ([`crate::recovery`]): from then on the recovery words can make a new admin
    /// ([`Body::Recover`]). The first admin says it right after the genesis; an organisation
    /// founded before recovery existed has an admin type the words once to say it.
    RecoverySigner {
        #[serde(with = "crate::b64::arr32")]
        sign_key: [u8; 32],
        #[serde(with = "crate::b64::vec")]
        endorsement: Vec<u8>,
    },
    /// An organisation admin makes `device` the admin of exactly these teams (none: of no team
    /// any more). A team's admin approves devices into it, changes their teams within the teams
    /// it administers, revokes devices that are only in those teams, starts new key epochs for
    /// them and grants their keys; it cannot make organisation admins or touch other teams.
    TeamAdmins { device: Uuid, teams: Vec<Uuid> },
    /// Made with the recovery words when every admin laptop is lost: this new device is an
    /// admin, in the given teams. Signed by the recovery key's signing key (the statement's
    /// author is the organisation's id), not by a device.
    Recover {
        device: DeviceKeys,
        name: String,
        teams: Vec<Uuid>,
    },
}

impl Body {
    pub fn kind(&self) -> &'static str {
        match self {
            Body::Genesis { .. } => "genesis",
            Body::Approve { .. } => "approve",
            Body::Update { .. } => "update",
            Body::Revoke { .. } => "revoke",
            Body::TeamEpoch { .. } => "team-epoch",
            Body::RecoverySigner { .. } => "recovery-signer",
            Body::Recover { .. } => "recover",
            Body::TeamAdmins { .. } => "team-admins",
        }
    }
}

/// One entry of the trust log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Statement {
    pub org_id: Uuid,
    /// 1 for the genesis, then one more each time.
    pub seq: u64,
    /// The [`Statement::hash`] of statement `seq - 1` (zeros for the genesis).
    #[serde(with = "crate::b64::arr32")]
    pub prev: Hash,
    /// The admin device that made and signed it.
    pub author: Uuid,
    /// The author's clock (Unix ms), for people reading the log; no rule depends on it.
    pub at_ms: i64,
    pub body: Body,
}

/// A statement with its author's Ed25519 signature.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignedStatement {
    pub statement: Statement,
    #[serde(with = "crate::b64::vec")]
    pub signature: Vec<u8>,
}

/// The canonical encoding: a version tag, then `tag (1 byte) || length (u32 BE) || bytes`.
struct Enc(Vec<u8>);

impl Enc {
    fn new(tag: &[u8]) -> Enc {
        Enc(tag.to_vec())
    }
    fn field(&mut self, tag: u8, bytes: &[u8]) -> &mut Self {
        self.0.push(tag);
        // Every field is bounded far below 4 GiB by the request limits; saturate anyway.
        self.0
            .extend_from_slice(&u32::try_from(bytes.len()).unwrap_or(u32::MAX).to_be_bytes());
        self.0.extend_from_slice(bytes);
        self
    }
    fn uuid(&mut self, tag: u8, id: &Uuid) -> &mut Self {
        self.field(tag, id.as_bytes())
    }
    fn u64(&mut self, tag: u8, n: u64) -> &mut Self {
        self.field(tag, &n.to_be_bytes())
    }
    fn uuids(&mut self, tag: u8, ids: &[Uuid]) -> &mut Self {
        let bytes: Vec<u8> = ids.iter().flat_map(|i| *i.as_bytes()).collect();
        self.field(tag, &bytes)
    }
    fn cutoffs(&mut self, tag: u8, map: &BTreeMap<Uuid, u64>) -> &mut Self {
        let bytes: Vec<u8> = map
            .iter()
            .flat_map(|(t, n)| [&t.as_bytes()[..], &n.to_be_bytes()[..]].concat())
            .collect();
        self.field(tag, &bytes)
    }
    fn keys(&mut self, keys: &DeviceKeys) -> &mut Self {
        self.uuid(10, &keys.device_id)
            .field(11, &keys.sign_key)
            .field(12, &keys.box_key)
    }
}

impl Statement {
    /// The bytes that are hashed and signed (pinned by a test and by the golden vectors).
    pub fn encode(&self) -> Vec<u8> {
        let mut e = Enc::new(STATEMENT_TAG);
        e.uuid(1, &self.org_id)
            .u64(2, self.seq)
            .field(3, &self.prev)
            .uuid(4, &self.author)
            .field(5, &self.at_ms.to_be_bytes())
            .field(6, self.body.kind().as_bytes());
        match &self.body {
            Body::Genesis {
                admin,
                name,
                recovery_key,
                teams,
            } => {
                e.keys(admin)
                    .field(13, name.as_bytes())
                    .field(14, recovery_key)
                    .uuids(15, teams);
            }
            Body::Approve {
                device,
                name,
                admin,
                teams,
            } => {
                e.keys(device)
                    .field(13, name.as_bytes())
                    .field(16, &[u8::from(*admin)])
                    .uuids(15, teams);
            }
            Body::Update {
                device,
                admin,
                teams,
                cutoffs,
            } => {
                e.uuid(10, device)
                    .field(16, &[u8::from(*admin)])
                    .uuids(15, teams)
                    .cutoffs(17, cutoffs);
            }
            Body::Revoke { device, cutoffs } => {
                e.uuid(10, device).cutoffs(17, cutoffs);
            }
            Body::TeamEpoch {
                team,
                epoch,
                key_id,
            } => {
                e.uuid(18, team)
                    .u64(19, u64::from(*epoch))
                    .field(20, key_id);
            }
            Body::RecoverySigner {
                sign_key,
                endorsement,
            } => {
                e.field(21, sign_key).field(22, endorsement);
            }
            Body::TeamAdmins { device, teams } => {
                e.uuid(10, device).uuids(23, teams);
            }
            Body::Recover {
                device,
                name,
                teams,
            } => {
                e.keys(device).field(13, name.as_bytes()).uuids(15, teams);
            }
        }
        e.0
    }

    /// What the next statement names as `prev`.
    pub fn hash(&self) -> Hash {
        sha256(&[&self.encode()])
    }

    /// Sign as `author` (whose key this is).
    pub fn sign(self, key: &DeviceSigningKey) -> SignedStatement {
        let msg = signed_message(&self.hash());
        SignedStatement {
            signature: key.sign(&msg).to_vec(),
            statement: self,
        }
    }
}

pub(crate) fn signed_message(hash: &Hash) -> Vec<u8> {
    [STATEMENT_SIG_TAG, &hash[..]].concat()
}

/// A team key's id: a commitment to the key itself, so a device can tell the key an admin
/// announced from any other key the service might hand it.
pub fn key_id(org_id: Uuid, key: &TeamKey) -> Hash {
    sha256(&[
        KEY_ID_TAG,
        org_id.as_bytes(),
        key.id.team_id.as_bytes(),
        &key.id.epoch.to_be_bytes(),
        key.expose_secret(),
    ])
}

/// A team key wrapped to one recipient, with an admin's signature over what it is: the team,
/// epoch and key id, and the recipient, and the wrap's own bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyGrant {
    pub wrap: WrappedKey,
    #[serde(with = "crate::b64::arr32")]
    pub key_id: Hash,
    /// The admin device that made the wrap.
    pub signer: Uuid,
    #[serde(with = "crate::b64::vec")]
    pub signature: Vec<u8>,
}

fn grant_message(org_id: Uuid, wrap: &WrappedKey, key_id: &Hash) -> Vec<u8> {
    let wrap_hash = sha256(&[&wrap.ephemeral, &wrap.nonce, &wrap.ciphertext]);
    let mut e = Enc::new(GRANT_TAG);
    e.uuid(1, &org_id)
        .uuid(2, &wrap.kid.team_id)
        .u64(3, u64::from(wrap.kid.epoch))
        .field(4, key_id)
        .uuid(5, &wrap.recipient)
        .field(6, &wrap_hash);
    e.0
}

impl KeyGrant {
    /// Sign a wrap of `key` as the admin device `signer`.
    pub fn sign(
        org_id: Uuid,
        wrap: WrappedKey,
        key: &TeamKey,
        signer: Uuid,
        signer_key: &DeviceSigningKey,
    ) -> KeyGrant {
        let key_id = key_id(org_id, key);
        let signature = signer_key
            .sign(&grant_message(org_id, &wrap, &key_id))
            .to_vec();
        KeyGrant {
            wrap,
            key_id,
            signer,
            signature,
        }
    }
}

/// Why a statement or a key grant is not accepted. None contains content.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TrustError {
    #[error("trust statement {seq} belongs to another organisation")]
    OtherOrganisation { seq: u64 },
    #[error("trust statement {got} does not follow statement {head}: the log skips or repeats")]
    OutOfOrder { head: u64, got: u64 },
    #[error("trust statement {seq} does not name the statement before it: the log was altered")]
    BrokenLink { seq: u64 },
    #[error("trust statement {seq} is not signed by the device it names as its author")]
    BadSignature { seq: u64 },
    #[error("trust statement {seq} was made by a device that is not an admin")]
    NotAdmin { seq: u64 },
    #[error("the organisation's first statement does not carry the root key this device pinned")]
    WrongRoot,
    #[error("trust statement {seq} is refused: {why}")]
    Refused { seq: u64, why: &'static str },
    #[error("a team key offered to this device is refused: {0}")]
    BadGrant(&'static str),
}

/// Where a device stands in a team.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Membership {
    Active,
    /// Left (or revoked): its ops in this team up to this chain sequence stand, later ones not.
    Ended {
        through: u64,
    },
}

/// A device as the log describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustedDevice {
    pub keys: DeviceKeys,
    pub name: String,
    pub admin: bool,
    /// Was ever an admin: key grants it signed while one stay valid.
    pub ever_admin: bool,
    pub revoked: bool,
    pub teams: BTreeMap<Uuid, Membership>,
    /// The statement that approved it.
    pub approved_in: u64,
    /// The teams it administers without being an organisation admin ([`Body::TeamAdmins`]).
    pub admin_of: BTreeSet<Uuid>,
    /// Ever administered a team: key grants it signed for that team stay valid.
    pub ever_admin_of: BTreeSet<Uuid>,
}

/// What the log says about the sender of an op.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sender {
    /// Approved for the team at that point of its chain: its signing key.
    Trusted([u8; 32]),
    /// No admin approved this device.
    Unknown,
    /// Approved, but never for this team.
    NotMember,
    /// Sent after its revocation (or after leaving the team) took effect.
    AfterCutoff { through: u64 },
}

/// The log folded: every rule a device applies to what the service says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustState {
    pub org_id: Uuid,
    /// The organisation's first admin: the pinned root of trust.
    pub root: DeviceKeys,
    pub org_name: String,
    pub recovery_key: [u8; 32],
    /// The recovery key's signing key, once an admin named it ([`Body::RecoverySigner`]).
    pub recovery_signer: Option<[u8; 32]>,
    /// The last statement applied, and its hash.
    pub seq: u64,
    pub head: Hash,
    pub devices: BTreeMap<Uuid, TrustedDevice>,
    /// Each team's epochs and their key ids. A team exists once it has an epoch.
    pub epochs: BTreeMap<Uuid, BTreeMap<u32, Hash>>,
}

fn check_name(seq: u64, name: &str) -> Result<(), TrustError> {
    if name.chars().count() > MAX_NAME_CHARS || name.chars().any(char::is_control) {
        return Err(TrustError::Refused {
            seq,
            why: "a name is too long or holds control characters",
        });
    }
    Ok(())
}

fn check_teams(seq: u64, teams: &[Uuid]) -> Result<(), TrustError> {
    let mut sorted = teams.to_vec();
    sorted.sort();
    sorted.dedup();
    if teams.is_empty() || teams.len() > MAX_TEAMS || sorted.len() != teams.len() {
        return Err(TrustError::Refused {
            seq,
            why: "a device must be in 1 to 64 distinct teams",
        });
    }
    Ok(())
}

impl TrustState {
    /// Start from the organisation's first statement, checked against the root key pinned at
    /// enrolment.
    pub fn genesis(
        signed: &SignedStatement,
        org_id: Uuid,
        pinned_root: &[u8; 32],
    ) -> Result<TrustState, TrustError> {
        let s = &signed.statement;
        if s.org_id != org_id {
            return Err(TrustError::OtherOrganisation { seq: s.seq });
        }
        if s.seq != 1 {
            return Err(TrustError::OutOfOrder {
                head: 0,
                got: s.seq,
            });
        }
        if s.prev != [0; 32] {
            return Err(TrustError::BrokenLink { seq: 1 });
        }
        let Body::Genesis {
            admin,
            name,
            recovery_key,
            teams,
        } = &s.body
        else {
            return Err(TrustError::Refused {
                seq: 1,
                why: "the first statement must found the organisation",
            });
        };
        if &admin.sign_key != pinned_root {
            return Err(TrustError::WrongRoot);
        }
        if s.author != admin.device_id {
            return Err(TrustError::NotAdmin { seq: 1 });
        }
        if !verify(
            &admin.sign_key,
            &signed_message(&s.hash()),
            &signed.signature,
        ) {
            return Err(TrustError::BadSignature { seq: 1 });
        }
        check_name(1, name)?;
        check_teams(1, teams)?;
        let device = TrustedDevice {
            keys: admin.clone(),
            name: name.clone(),
            admin: true,
            ever_admin: true,
            revoked: false,
            teams: teams.iter().map(|t| (*t, Membership::Active)).collect(),
            approved_in: 1,
            admin_of: BTreeSet::new(),
            ever_admin_of: BTreeSet::new(),
        };
        Ok(TrustState {
            org_id,
            root: admin.clone(),
            org_name: name.clone(),
            recovery_key: *recovery_key,
            recovery_signer: None,
            seq: 1,
            head: s.hash(),
            devices: BTreeMap::from([(admin.device_id, device)]),
            epochs: BTreeMap::new(),
        })
    }

    /// Fold a whole log (statement 1 first).
    pub fn from_log(
        log: &[SignedStatement],
        org_id: Uuid,
        pinned_root: &[u8; 32],
    ) -> Result<TrustState, TrustError> {
        let (first, rest) = log
            .split_first()
            .ok_or(TrustError::OutOfOrder { head: 0, got: 0 })?;
        let mut state = TrustState::genesis(first, org_id, pinned_root)?;
        for s in rest {
            state.apply(s)?;
        }
        Ok(state)
    }

    /// The statement an admin makes next: numbered and linked after this state's head.
    pub fn next(&self, author: Uuid, at_ms: i64, body: Body) -> Statement {
        Statement {
            org_id: self.org_id,
            seq: self.seq + 1,
            prev: self.head,
            author,
            at_ms,
            body,
        }
    }

    /// Check the next statement and apply it. On an error nothing changes.
    pub fn apply(&mut self, signed: &SignedStatement) -> Result<(), TrustError> {
        let s = &signed.statement;
        let seq = s.seq;
        if s.org_id != self.org_id {
            return Err(TrustError::OtherOrganisation { seq });
        }
        if seq != self.seq + 1 {
            return Err(TrustError::OutOfOrder {
                head: self.seq,
                got: seq,
            });
        }
        if s.prev != self.head {
            return Err(TrustError::BrokenLink { seq });
        }
        // A recovery is signed by the recovery key (its author is the organisation); anything
        // else by an admin device.
        let signer_key = if matches!(s.body, Body::Recover { .. }) {
            if s.author != self.org_id {
                return Err(TrustError::Refused {
                    seq,
                    why: "a recovery is made by the organisation's recovery key",
                });
            }
            self.recovery_signer.ok_or(TrustError::Refused {
                seq,
                why: "no admin has named the recovery key's signing key yet",
            })?
        } else {
            self.devices
                .get(&s.author)
                .filter(|d| (d.admin || !d.admin_of.is_empty()) && !d.revoked)
                .ok_or(TrustError::NotAdmin { seq })?
                .keys
                .sign_key
        };
        if !verify(&signer_key, &signed_message(&s.hash()), &signed.signature) {
            return Err(TrustError::BadSignature { seq });
        }
        let refuse = |why| Err(TrustError::Refused { seq, why });
        // An admin of some teams only: each statement within those teams.
        if !matches!(s.body, Body::Recover { .. })
            && !self.is_admin(s.author)
            && let Err(why) = self.within_teams(s.author, &s.body)
        {
            return refuse(why);
        }
        let mut next = self.clone();
        match &s.body {
            Body::Genesis { .. } => return refuse("an organisation is founded only once"),
            Body::Approve {
                device,
                name,
                admin,
                teams,
            } => {
                self.check_new_device(seq, device, name, teams)?;
                next.devices.insert(
                    device.device_id,
                    TrustedDevice {
                        keys: device.clone(),
                        name: name.clone(),
                        admin: *admin,
                        ever_admin: *admin,
                        revoked: false,
                        teams: teams.iter().map(|t| (*t, Membership::Active)).collect(),
                        approved_in: seq,
                        admin_of: BTreeSet::new(),
                        ever_admin_of: BTreeSet::new(),
                    },
                );
            }
            Body::Update {
                device,
                admin,
                teams,
                cutoffs,
            } => {
                check_teams(seq, teams)?;
                if teams.iter().any(|t| !self.epochs.contains_key(t)) {
                    return refuse("a device can only join teams that have a key");
                }
                let Some(d) = next.devices.get_mut(device).filter(|d| !d.revoked) else {
                    return refuse("no such approved device");
                };
                for (team, m) in d.teams.iter_mut() {
                    if *m == Membership::Active && !teams.contains(team) {
                        let Some(through) = cutoffs.get(team) else {
                            return refuse("a device leaving a team needs a cut-off for it");
                        };
                        *m = Membership::Ended { through: *through };
                    }
                }
                for t in teams {
                    d.teams.insert(*t, Membership::Active);
                }
                d.admin = *admin;
                d.ever_admin |= *admin;
            }
            Body::Revoke { device, cutoffs } => {
                let Some(d) = next.devices.get_mut(device).filter(|d| !d.revoked) else {
                    return refuse("no such approved device");
                };
                d.revoked = true;
                d.admin = false;
                d.admin_of.clear();
                for (team, m) in d.teams.iter_mut() {
                    if *m == Membership::Active {
                        *m = Membership::Ended {
                            through: cutoffs.get(team).copied().unwrap_or(0),
                        };
                    }
                }
            }
            Body::TeamEpoch {
                team,
                epoch,
                key_id,
            } => {
                let current = self.current_epoch(*team).map_or(0, |(e, _)| e);
                if *epoch != current + 1 {
                    return refuse("a team's epochs go up one at a time");
                }
                if *key_id == [0; 32] {
                    return refuse("a key id cannot be empty");
                }
                next.epochs
                    .entry(*team)
                    .or_default()
                    .insert(*epoch, *key_id);
            }
            Body::RecoverySigner {
                sign_key,
                endorsement,
            } => {
                if self.recovery_signer.is_some() {
                    return refuse("the recovery key's signing key was named before");
                }
                let signer = crate::recovery::RecoverySigner {
                    sign_key: *sign_key,
                    endorsement: endorsement.clone(),
                };
                if !signer.endorses(self.org_id, &self.root.sign_key, &self.recovery_key) {
                    return refuse("the recovery key did not endorse this organisation's root");
                }
                next.recovery_signer = Some(*sign_key);
            }
            Body::TeamAdmins { device, teams } => {
                check_teams(seq, teams)?;
                if teams.iter().any(|t| !self.epochs.contains_key(t)) {
                    return refuse("a device can only administer teams that have a key");
                }
                let Some(d) = next.devices.get_mut(device).filter(|d| !d.revoked) else {
                    return refuse("no such approved device");
                };
                d.admin_of = teams.iter().copied().collect();
                d.ever_admin_of.extend(teams.iter().copied());
            }
            Body::Recover {
                device,
                name,
                teams,
            } => {
                self.check_new_device(seq, device, name, teams)?;
                next.devices.insert(
                    device.device_id,
                    TrustedDevice {
                        keys: device.clone(),
                        name: name.clone(),
                        admin: true,
                        ever_admin: true,
                        revoked: false,
                        teams: teams.iter().map(|t| (*t, Membership::Active)).collect(),
                        approved_in: seq,
                        admin_of: BTreeSet::new(),
                        ever_admin_of: BTreeSet::new(),
                    },
                );
            }
        }
        if !next.devices.values().any(|d| d.admin && !d.revoked) {
            return refuse("the organisation would be left without an admin");
        }
        next.seq = seq;
        next.head = s.hash();
        *self = next;
        Ok(())
    }

    /// What an approval or a recovery must say of the device it adds: a valid name and teams
    /// that have keys, and a device (and signing key) the log does not know yet.
    fn check_new_device(
        &self,
        seq: u64,
        device: &DeviceKeys,
        name: &str,
        teams: &[Uuid],
    ) -> Result<(), TrustError> {
        let refuse = |why| Err(TrustError::Refused { seq, why });
        check_name(seq, name)?;
        check_teams(seq, teams)?;
        if self.devices.contains_key(&device.device_id) || device.device_id == self.org_id {
            return refuse("this device was approved before; enrol it again instead");
        }
        if self
            .devices
            .values()
            .any(|d| d.keys.sign_key == device.sign_key)
        {
            return refuse("another device already has this signing key");
        }
        if teams.iter().any(|t| !self.epochs.contains_key(t)) {
            return refuse("a device can only join teams that have a key");
        }
        Ok(())
    }

    /// Every team that has a key: the teams a recovered admin joins.
    pub fn teams(&self) -> Vec<Uuid> {
        self.epochs.keys().copied().collect()
    }

    /// The epoch to seal a team's new ops with (the newest the log announced) and its key id.
    pub fn current_epoch(&self, team: Uuid) -> Option<(u32, Hash)> {
        self.epochs
            .get(&team)
            .and_then(|e| e.iter().next_back())
            .map(|(e, k)| (*e, *k))
    }

    /// The key id the log committed to for a team's epoch.
    pub fn epoch_key_id(&self, kid: &KeyId) -> Option<Hash> {
        self.epochs.get(&kid.team_id)?.get(&kid.epoch).copied()
    }

    /// A device that may act as an admin now.
    pub fn is_admin(&self, device: Uuid) -> bool {
        self.devices
            .get(&device)
            .is_some_and(|d| d.admin && !d.revoked)
    }

    /// The teams a device administers: every team of the organisation for an organisation
    /// admin, the teams named for it by [`Body::TeamAdmins`] otherwise.
    pub fn admin_teams(&self, device: Uuid) -> Vec<Uuid> {
        match self.devices.get(&device).filter(|d| !d.revoked) {
            Some(d) if d.admin => self.epochs.keys().copied().collect(),
            Some(d) => d.admin_of.iter().copied().collect(),
            None => Vec::new(),
        }
    }

    /// Whether a device may act as an admin at all (of the organisation or of some teams).
    pub fn is_any_admin(&self, device: Uuid) -> bool {
        self.devices
            .get(&device)
            .is_some_and(|d| !d.revoked && (d.admin || !d.admin_of.is_empty()))
    }

    /// Why a statement by an admin of some teams only goes beyond them, if it does.
    fn within_teams(&self, author: Uuid, body: &Body) -> Result<(), &'static str> {
        let mine: BTreeSet<Uuid> = self
            .devices
            .get(&author)
            .map(|d| d.admin_of.clone())
            .unwrap_or_default();
        let active =
            |device: &Uuid| -> BTreeSet<Uuid> { self.teams_of(*device).into_iter().collect() };
        let org_admin = |device: &Uuid| self.devices.get(device).is_some_and(|d| d.admin);
        match body {
            Body::Approve { admin, teams, .. } => {
                if *admin {
                    return Err("only an organisation admin makes organisation admins");
                }
                if !teams.iter().all(|t| mine.contains(t)) {
                    return Err("a team's admin approves devices into its own teams only");
                }
            }
            Body::Update {
                device,
                admin,
                teams,
                ..
            } => {
                if *admin || org_admin(device) {
                    return Err("only an organisation admin changes an organisation admin");
                }
                let new: BTreeSet<Uuid> = teams.iter().copied().collect();
                if !active(device)
                    .symmetric_difference(&new)
                    .all(|t| mine.contains(t))
                {
                    return Err("a team's admin changes membership of its own teams only");
                }
            }
            Body::Revoke { device, .. } => {
                if org_admin(device) {
                    return Err("only an organisation admin revokes an organisation admin");
                }
                let administers = self
                    .devices
                    .get(device)
                    .map(|d| d.admin_of.clone())
                    .unwrap_or_default();
                if !administers.iter().all(|t| mine.contains(t)) {
                    return Err("a team's admin revokes only devices that are in its teams alone");
                }
                if !active(device).iter().all(|t| mine.contains(t)) {
                    return Err("a team's admin revokes only devices that are in its teams alone");
                }
            }
            Body::TeamEpoch { team, .. } => {
                if !mine.contains(team) {
                    return Err("a team's admin starts key epochs of its own teams only");
                }
            }
            Body::Genesis { .. }
            | Body::RecoverySigner { .. }
            | Body::TeamAdmins { .. }
            | Body::Recover { .. } => {
                return Err("only an organisation admin may say this");
            }
        }
        Ok(())
    }

    /// Whether the log has approved this device and not revoked it.
    pub fn is_approved(&self, device: Uuid) -> bool {
        self.devices.get(&device).is_some_and(|d| !d.revoked)
    }

    pub fn is_revoked(&self, device: Uuid) -> bool {
        self.devices.get(&device).is_some_and(|d| d.revoked)
    }

    /// A device's active teams.
    pub fn teams_of(&self, device: Uuid) -> Vec<Uuid> {
        self.devices.get(&device).map_or_else(Vec::new, |d| {
            d.teams
                .iter()
                .filter(|(_, m)| **m == Membership::Active)
                .map(|(t, _)| *t)
                .collect()
        })
    }

    /// Approved devices in a team now: who a new epoch's key is wrapped to.
    pub fn members(&self, team: Uuid) -> impl Iterator<Item = &TrustedDevice> {
        self.devices
            .values()
            .filter(move |d| !d.revoked && d.teams.get(&team) == Some(&Membership::Active))
    }

    /// Whether an op from `device` at `chain_seq` of its chain in `team` may be applied, and
    /// with which key its signature is checked.
    pub fn sender(&self, device: Uuid, team: Uuid, chain_seq: u64) -> Sender {
        let Some(d) = self.devices.get(&device) else {
            return Sender::Unknown;
        };
        match d.teams.get(&team) {
            None => Sender::NotMember,
            Some(Membership::Active) => Sender::Trusted(d.keys.sign_key),
            Some(Membership::Ended { through }) if chain_seq <= *through => {
                Sender::Trusted(d.keys.sign_key)
            }
            Some(Membership::Ended { through }) => Sender::AfterCutoff { through: *through },
        }
    }

    /// Check a key grant addressed to `recipient` (a device, or the organisation's id for the
    /// recovery key) before unwrapping it; after unwrapping, [`TrustState::check_key`].
    pub fn check_grant(&self, g: &KeyGrant, recipient: Uuid) -> Result<(), TrustError> {
        if g.wrap.recipient != recipient {
            return Err(TrustError::BadGrant("it is addressed to someone else"));
        }
        if self.epoch_key_id(&g.wrap.kid) != Some(g.key_id) {
            return Err(TrustError::BadGrant(
                "no admin announced this key for this team and epoch",
            ));
        }
        let signer = self
            .devices
            .get(&g.signer)
            .filter(|d| d.ever_admin || d.ever_admin_of.contains(&g.wrap.kid.team_id))
            .ok_or(TrustError::BadGrant("it was not made by an admin"))?;
        if !verify(
            &signer.keys.sign_key,
            &grant_message(self.org_id, &g.wrap, &g.key_id),
            &g.signature,
        ) {
            return Err(TrustError::BadGrant("its signature does not check"));
        }
        Ok(())
    }

    /// Whether an unwrapped key is the one the log committed to.
    pub fn check_key(&self, key: &TeamKey) -> Result<(), TrustError> {
        if self.epoch_key_id(&key.id) == Some(key_id(self.org_id, key)) {
            Ok(())
        } else {
            Err(TrustError::BadGrant(
                "the key inside is not the one the admin announced",
            ))
        }
    }
}

#[cfg(test)]
mod tests;
