//! Storage behind one trait, so the SQLite and PostgreSQL backends answer the same test suite.
//! The op log and the trust log are append-only: `push` and `append_statement` only insert (the
//! latter also records what the statement does to the device table, in the same transaction).
//! The one value ever replaced is the storage's generation ([`Storage::new_generation`]), and
//! only by the operator after a restore from backup.

pub mod backup;
pub mod postgres;
pub mod sqlite;

use std::future::Future;
use uuid::Uuid;
use wardside_sync::Envelope;
use wardside_sync::envelope::parse_hlc;
use wardside_sync::protocol::{
    DeviceHead, MAX_CLOCK_AHEAD_MS, PullResponse, PushResult, PushStatus, Rejection, ServiceMark,
    StoredOp,
};
use wardside_sync::trust::KeyGrant;

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("storage error: {0}")]
    Backend(String),
    #[error("the storage schema is newer than this server; update wardside-server")]
    NewerSchema,
}

pub type Result<T, E = StorageError> = std::result::Result<T, E>;

/// Where a device stands. Only approved devices may push or pull; a revoked one is refused at
/// once, on its next request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceStatus {
    Pending,
    Approved,
    Revoked,
}

impl DeviceStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            DeviceStatus::Pending => "pending",
            DeviceStatus::Approved => "approved",
            DeviceStatus::Revoked => "revoked",
        }
    }

    pub fn parse(s: &str) -> Result<Self> {
        match s {
            "pending" => Ok(DeviceStatus::Pending),
            "approved" => Ok(DeviceStatus::Approved),
            "revoked" => Ok(DeviceStatus::Revoked),
            other => Err(StorageError::Backend(format!(
                "unknown device status {other:?}"
            ))),
        }
    }
}

/// An enrolled device: its public keys and what it may see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Device {
    pub id: Uuid,
    pub org_id: Uuid,
    pub name: String,
    pub sign_key: [u8; 32],
    pub box_key: [u8; 32],
    pub status: DeviceStatus,
    pub admin: bool,
    pub teams: Vec<Uuid>,
}

/// A one-time enrolment code as stored (by the hash of its token).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnrolmentCode {
    pub code_hash: Vec<u8>,
    pub org_id: Uuid,
    pub admin: bool,
    pub teams: Vec<Uuid>,
    pub expires_ms: i64,
    /// For an invitation: the organisation's root key and the binding its admin made.
    pub root_key: Option<Vec<u8>>,
    pub binding: Option<Vec<u8>>,
}

/// What a trust statement does to the service's device table (the service acts on the log so
/// it stops serving a revoked device at once; devices check the log themselves).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeviceChange {
    None,
    Approve {
        device: Uuid,
        admin: bool,
        teams: Vec<Uuid>,
    },
    Update {
        device: Uuid,
        admin: bool,
        teams: Vec<Uuid>,
    },
    Revoke {
        device: Uuid,
    },
}

/// The answer to [`Storage::append_statement`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Appended {
    Yes,
    /// Another statement took that number first: the author must catch up and sign again.
    SeqTaken,
}

pub(crate) fn key32(bytes: Vec<u8>) -> Result<[u8; 32]> {
    bytes
        .try_into()
        .map_err(|_| StorageError::Backend("a stored device key is not 32 bytes".into()))
}

/// What the server keeps and hands out. Methods take the caller's organisation (and, for
/// reads, the teams it may see): authorisation is decided before storage is asked.
pub trait Storage: Send + Sync + 'static {
    /// Store a batch in one transaction, in order, and say what happened to each op. Ops from
    /// one device must arrive in sequence: see [`decide`]. `pusher` is the device sending them:
    /// an op of another device's is one it gives back after this service lost it.
    fn push(
        &self,
        org_id: Uuid,
        pusher: Uuid,
        ops: Vec<Envelope>,
        now_ms: i64,
    ) -> impl Future<Output = Result<Vec<PushResult>>> + Send;

    /// Ops after `after` in cursor order, for the given teams, at most `limit`.
    fn pull(
        &self,
        org_id: Uuid,
        teams: Vec<Uuid>,
        after: i64,
        limit: usize,
        now_ms: i64,
    ) -> impl Future<Output = Result<PullResponse>> + Send;

    /// What is stored per (device, team), over the given teams.
    fn heads(
        &self,
        org_id: Uuid,
        teams: Vec<Uuid>,
    ) -> impl Future<Output = Result<Vec<DeviceHead>>> + Send;

    /// The organisation's trust statements (JSON) numbered after `after`, in order, at most
    /// `limit`.
    fn trust_log(
        &self,
        org_id: Uuid,
        after: u64,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<String>>> + Send;

    /// The number of the organisation's last trust statement (0 for none).
    fn trust_head(&self, org_id: Uuid) -> impl Future<Output = Result<u64>> + Send;

    /// Append statement `seq` (checked by the caller against the log) and make its change to
    /// the device table, in one transaction.
    fn append_statement(
        &self,
        org_id: Uuid,
        seq: u64,
        json: String,
        change: DeviceChange,
    ) -> impl Future<Output = Result<Appended>> + Send;

    /// Use a request nonce once: `true` if it was not seen before (it is kept until
    /// `expires_ms`; expired ones are forgotten).
    fn use_nonce(
        &self,
        device: Uuid,
        nonce: String,
        expires_ms: i64,
        now_ms: i64,
    ) -> impl Future<Output = Result<bool>> + Send;

    fn create_org(&self, id: Uuid, name: String) -> impl Future<Output = Result<()>> + Send;

    /// Every organisation this service holds, oldest first (a recovery finds its organisation
    /// among them by the recovery key its genesis names).
    fn organisations(&self) -> impl Future<Output = Result<Vec<Uuid>>> + Send;

    fn add_device(&self, device: Device) -> impl Future<Output = Result<()>> + Send;

    fn device(&self, id: Uuid) -> impl Future<Output = Result<Option<Device>>> + Send;

    /// Every device of an organisation, in enrolment order.
    fn devices(&self, org_id: Uuid) -> impl Future<Output = Result<Vec<Device>>> + Send;

    fn add_enrolment_code(&self, code: EnrolmentCode) -> impl Future<Output = Result<()>> + Send;

    /// Use a code: returns it if it exists, has not expired and was not used before, and marks
    /// it used in the same statement (two devices racing for one code: one wins).
    fn take_enrolment_code(
        &self,
        code_hash: Vec<u8>,
        now_ms: i64,
    ) -> impl Future<Output = Result<Option<EnrolmentCode>>> + Send;

    /// Keep signed key grants. A grant already stored for the same (team, epoch, recipient) is
    /// kept as it is (keys of an epoch never change), so re-sending is safe.
    fn add_key_grants(
        &self,
        org_id: Uuid,
        grants: Vec<KeyGrant>,
    ) -> impl Future<Output = Result<()>> + Send;

    /// Every grant addressed to `recipient` in the organisation.
    fn key_grants_for(
        &self,
        org_id: Uuid,
        recipient: Uuid,
    ) -> impl Future<Output = Result<Vec<KeyGrant>>> + Send;

    /// Which copy of the storage this is (its generation) and the highest cursor of the
    /// organisation's op log (0 for none): what every push, pull and heads reply carries.
    fn service_mark(&self, org_id: Uuid) -> impl Future<Output = Result<ServiceMark>> + Send;

    /// The storage's generation alone (also the readiness check's query).
    fn generation(&self) -> impl Future<Output = Result<Uuid>> + Send;

    /// Replace the generation with a fresh random one, kept, and return it: the operator's step
    /// after restoring the storage from a backup, so devices learn that it went back in time.
    /// The single exception to "nothing stored is ever changed".
    fn new_generation(&self) -> impl Future<Output = Result<Uuid>> + Send;
}

/// What to do with one pushed op, given what is stored for its device: the rule every backend
/// applies inside its transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Insert,
    Duplicate { server_seq: i64 },
    Reject(Rejection),
}

/// The last link stored of a device's chain in a team: its chain sequence (0 for none) and the
/// content hash of that op.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChainTip {
    pub seq: u64,
    pub hash: Option<Vec<u8>>,
}

/// `stored` is the op already at `(device, seq)` (its server cursor and content hash), if any;
/// `last_seq` the device's highest stored sequence (0 for none); `tip` the last link of the
/// device's chain in the op's team.
///
/// - The HLC must have its one exact form and name the device; an op whose clock is more than a
///   day ahead of the server's is refused so one bad laptop clock cannot win every merge.
/// - An op must carry a chain link that follows the tip (the next sequence, naming the tip's
///   hash). An op at or below the tip that is not stored is a device giving back an op this
///   service lost (a restore from backup): taken, and the devices check its links.
/// - Sequences: the next one, or one this service lost (below the highest, not stored). An op
///   `given_back` by a device other than its author skips this rule: that device holds only its
///   teams' share of the author's sequence; the chain of the op's team still orders it.
pub fn decide(
    env: &Envelope,
    stored: Option<(i64, &[u8])>,
    last_seq: u64,
    tip: &ChainTip,
    now_ms: i64,
    given_back: bool,
) -> Decision {
    if !env.routing.hlc_is_exact() {
        return Decision::Reject(Rejection::BadEnvelope);
    }
    let wall_ms = parse_hlc(&env.routing.hlc).map_or(u64::MAX, |(w, _, _)| w);
    if stored.is_none()
        && i64::try_from(wall_ms).map_or(true, |w| w > now_ms.saturating_add(MAX_CLOCK_AHEAD_MS))
    {
        return Decision::Reject(Rejection::ClockAhead {
            server_time_ms: now_ms,
        });
    }
    match stored {
        Some((server_seq, hash)) if hash == env.content_hash.as_slice() => {
            return Decision::Duplicate { server_seq };
        }
        Some(_) => return Decision::Reject(Rejection::SeqConflict),
        None => {}
    }
    let seq = env.routing.device_seq;
    if seq == 0 || (seq > last_seq + 1 && !given_back) {
        return Decision::Reject(Rejection::Gap {
            expected: last_seq + 1,
        });
    }
    let Some(link) = &env.routing.chain else {
        return Decision::Reject(Rejection::BadEnvelope);
    };
    let expected = tip.seq + 1;
    if link.seq == expected {
        let prev_ok = match &tip.hash {
            Some(h) => h.as_slice() == link.prev,
            None => tip.seq == 0 && link.prev == [0; 32],
        };
        if !prev_ok {
            return Decision::Reject(Rejection::BadChain { expected });
        }
    } else if link.seq == 0 || link.seq > expected {
        return Decision::Reject(Rejection::BadChain { expected });
    }
    Decision::Insert
}

/// The result line for a decision.
pub fn result_of(env: &Envelope, decision: &Decision, inserted: Option<i64>) -> PushResult {
    let (status, server_seq, rejection) = match decision {
        Decision::Insert => (PushStatus::Accepted, inserted, None),
        Decision::Duplicate { server_seq } => (PushStatus::Duplicate, Some(*server_seq), None),
        Decision::Reject(r) => (PushStatus::Rejected, None, Some(r.clone())),
    };
    PushResult {
        op_id: env.routing.op_id,
        status,
        server_seq,
        rejection,
    }
}

/// A pull page from up to `limit + 1` ops read in cursor order (the extra one says whether
/// there is more).
pub fn page(mut ops: Vec<StoredOp>, limit: usize, after: i64, now_ms: i64) -> PullResponse {
    let has_more = ops.len() > limit;
    ops.truncate(limit);
    let next_after = ops.last().map_or(after, |o| o.server_seq);
    PullResponse {
        ops,
        next_after,
        has_more,
        server_time_ms: now_ms,
        // The HTTP layer adds the mark, read after the page.
        service: None,
    }
}
