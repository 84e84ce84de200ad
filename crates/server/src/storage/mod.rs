//! Storage behind one trait, so the SQLite and PostgreSQL backends answer the same test suite.
//! The op log is append-only: `push` is the only method that writes, and it only inserts.

pub mod postgres;
pub mod sqlite;

use std::future::Future;
use uuid::Uuid;
use wardside_sync::Envelope;
use wardside_sync::protocol::{
    Heads, MAX_CLOCK_AHEAD_MS, PullResponse, PushResult, PushStatus, Rejection, StoredOp,
};
use wardside_sync::wrap::WrappedKey;

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

/// A one-time enrolment code as stored (by its hash).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnrolmentCode {
    pub code_hash: Vec<u8>,
    pub org_id: Uuid,
    pub admin: bool,
    pub teams: Vec<Uuid>,
    pub expires_ms: i64,
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
    /// one device must arrive in sequence: see [`decide`].
    fn push(
        &self,
        org_id: Uuid,
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

    /// The highest stored sequence per device, over the given teams.
    fn heads(&self, org_id: Uuid, teams: Vec<Uuid>) -> impl Future<Output = Result<Heads>> + Send;

    fn create_org(&self, id: Uuid, name: String) -> impl Future<Output = Result<()>> + Send;

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

    /// Keep wrapped team keys. A wrap already stored for the same (team, epoch, recipient) is
    /// kept as it is (keys of an epoch never change), so re-sending is safe.
    fn add_key_wraps(
        &self,
        org_id: Uuid,
        wraps: Vec<WrappedKey>,
    ) -> impl Future<Output = Result<()>> + Send;

    /// Every wrap addressed to `recipient` in the organisation.
    fn key_wraps_for(
        &self,
        org_id: Uuid,
        recipient: Uuid,
    ) -> impl Future<Output = Result<Vec<WrappedKey>>> + Send;

    /// The one update outside the append-only log: approving or revoking a device.
    fn set_device_status(
        &self,
        id: Uuid,
        status: DeviceStatus,
    ) -> impl Future<Output = Result<bool>> + Send;
}

/// What to do with one pushed op, given what is stored for its device: the rule every backend
/// applies inside its transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Insert,
    Duplicate { server_seq: i64 },
    Reject(Rejection),
}

/// `stored` is the op already at `(device, seq)` (its server cursor and content hash), if any;
/// `last_seq` the device's highest stored sequence (0 for none). An op whose clock is more than
/// a day ahead of the server's is refused so one bad laptop clock cannot win every merge.
pub fn decide(
    env: &Envelope,
    stored: Option<(i64, &[u8])>,
    last_seq: u64,
    now_ms: i64,
) -> Decision {
    let wall_ms = env
        .routing
        .hlc
        .split('-')
        .next()
        .and_then(|w| w.parse::<i64>().ok());
    match wall_ms {
        None => return Decision::Reject(Rejection::BadEnvelope),
        Some(w) if stored.is_none() && w > now_ms + MAX_CLOCK_AHEAD_MS => {
            return Decision::Reject(Rejection::ClockAhead {
                server_time_ms: now_ms,
            });
        }
        Some(_) => {}
    }
    match stored {
        Some((server_seq, hash)) if hash == env.content_hash.as_slice() => {
            Decision::Duplicate { server_seq }
        }
        Some(_) => Decision::Reject(Rejection::SeqConflict),
        None if env.routing.device_seq == last_seq + 1 => Decision::Insert,
        None => Decision::Reject(Rejection::Gap {
            expected: last_seq + 1,
        }),
    }
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
    }
}
