//! The wire protocol between a device and the central service, shared by both so they cannot
//! drift apart. Version 1; every path starts with `/v1`. JSON bodies.
//!
//! - `POST /v1/ops/push` [`PushRequest`] → [`PushResponse`]: one result per op. The key is
//!   `(device_id, device_seq)`: the same key with the same content hash is a duplicate (safe to
//!   re-send after a lost reply); with another hash it is a conflict (409); a sequence that
//!   skips one is a gap. The batch is committed, with its server cursors, before the reply.
//! - `GET /v1/ops?after=N&limit=M` → [`PullResponse`]: ops the device may see, in server cursor
//!   order, a page at a time.
//! - `GET /v1/heads` → [`Heads`]: what the service says it holds per device and team, a hint to
//!   find and refill gaps (devices prove gaps from the ops' own hash chains).
//! - `GET /v1/trust?after=N` → [`TrustLog`]; `POST /v1/trust` (an admin) [`SignedStatement`]:
//!   the organisation's trust log ([`crate::trust`]). Approvals, revocations, changes of team or
//!   role and new key epochs are statements; the service acts on them and every device checks
//!   them.
//! - `GET /v1/keys` → [`KeyGrants`] for the caller; `POST /v1/keys` (an admin): team keys
//!   wrapped to devices and to the recovery key, each signed by the admin ([`KeyGrant`]).
//! - `POST /v1/enroll` (unsigned: the body proves the new key), `POST /v1/invites` (an admin),
//!   `GET /v1/devices`.
//!
//! Every other request is signed by the device ([`RequestSigner`]); a nonce is used once.

use crate::envelope::{Envelope, sha256};
use crate::keys::DeviceSigningKey;
pub use crate::trust::{KeyGrant, SignedStatement};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub const PROTOCOL_VERSION: u32 = 1;
/// Most ops in one push.
pub const MAX_PUSH_OPS: usize = 500;
/// Largest request body the server reads (a full batch of large notes fits).
pub const MAX_BODY_BYTES: usize = 8 * 1024 * 1024;
/// Most ops in one pull page.
pub const MAX_PULL_LIMIT: usize = 1000;
/// How far a request's time may be from the server's.
pub const REQUEST_WINDOW_SECS: i64 = 300;
/// How far ahead of the server's clock an op's HLC may be.
pub const MAX_CLOCK_AHEAD_MS: i64 = 24 * 60 * 60 * 1000;
/// The longest request nonce the service accepts (a device sends 32 hex digits).
pub const MAX_NONCE_LEN: usize = 64;
/// The most trust statements in one reply.
pub const MAX_TRUST_PAGE: usize = 500;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PushRequest {
    pub ops: Vec<Envelope>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PushStatus {
    Accepted,
    Duplicate,
    Rejected,
}

/// Why an op was rejected: what the client does next depends on it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "reason", rename_all = "kebab-case")]
pub enum Rejection {
    /// The same `(device, seq)` is stored with different content. Never silently dropped.
    SeqConflict,
    /// The device skipped a sequence number; the server expected `expected`.
    Gap { expected: u64 },
    /// The HLC is more than a day ahead of the server's clock: re-stamp and re-seal.
    ClockAhead { server_time_ms: i64 },
    /// The hash or signature does not check.
    BadEnvelope,
    /// The op names another device, organisation or a team this device may not write to.
    Forbidden,
    /// The op's chain link does not follow the device's last op in the team: the service
    /// expected chain sequence `expected` and the hash of the op before it.
    BadChain { expected: u64 },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushResult {
    pub op_id: Uuid,
    pub status: PushStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_seq: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none", flatten)]
    pub rejection: Option<Rejection>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushResponse {
    pub results: Vec<PushResult>,
    pub server_time_ms: i64,
    /// The service's storage generation and high-water cursor (see [`ServiceMark`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<ServiceMark>,
}

/// Which copy of its storage the service is answering from, and how far its cursor has got for
/// the caller's organisation. The generation changes whenever the operator restores the
/// storage from a backup (`wardside-server restore` / `mark-restored`); the high-water cursor
/// is the highest server cursor the organisation's op log holds. A device that finds the
/// generation changed, or the high-water behind what it has already pulled, treats the service
/// as restored: it reads the log again from the start and gives back what the service lost.
/// A hint like every other count: a device proves losses from the ops' own chains.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceMark {
    pub generation: Uuid,
    pub high_water: i64,
}

/// An op as the server hands it out: its cursor and the envelope as it was pushed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredOp {
    pub server_seq: i64,
    pub envelope: Envelope,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PullResponse {
    pub ops: Vec<StoredOp>,
    /// Pass as `after` for the next page.
    pub next_after: i64,
    pub has_more: bool,
    pub server_time_ms: i64,
    /// See [`ServiceMark`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<ServiceMark>,
}

/// What the service says it holds of one device's ops in one team. A hint: a device believes
/// only the ops' own chains.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceHead {
    pub device_id: Uuid,
    pub team_id: Uuid,
    /// Highest `device_seq` stored.
    pub max_seq: u64,
    /// How many ops are stored.
    pub ops: u64,
    /// Highest chain sequence stored.
    pub chain_seq: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Heads {
    /// One entry per (device, team) the caller may see.
    pub heads: Vec<DeviceHead>,
    /// How many statements the organisation's trust log holds: a device fetches the log only
    /// when this differs from its own (a hint like the rest: the log itself is what it checks).
    #[serde(default)]
    pub trust_seq: u64,
    /// The hash of the log's last statement (base64, none for an empty log): with `trust_seq`,
    /// so that a log changed in place (the same length, another last statement) is read again
    /// too. A hint as well: a device without it reads the log every sync.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trust_head: Option<String>,
    /// How many key grants the service holds for the caller: a device asks for them when this
    /// differs from what it last saw (a hint too: each grant is checked against the log).
    #[serde(default)]
    pub grants: u64,
    /// See [`ServiceMark`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<ServiceMark>,
}

/// `GET /v1/trust?after=N`: the organisation's trust statements after `N`, in order, at most
/// [`MAX_TRUST_PAGE`] (`has_more` says whether to ask again).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrustLog {
    pub statements: Vec<SignedStatement>,
    #[serde(default)]
    pub has_more: bool,
}

/// The answer to `POST /v1/trust`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrustAppended {
    pub seq: u64,
}

/// The `error` text of a 401 to a revoked device. Only a hint: a device wipes its copy of the
/// organisation's records only when the trust log holds an admin's signed revocation of it.
pub const REVOKED: &str = "this device was revoked";
/// The `error` text of a 401 to a device an admin has not approved yet.
pub const NOT_APPROVED: &str = "this device is waiting for an admin to approve it";

/// An error reply: one line that says what to do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub error: String,
}

/// `GET /v1/devices`: the organisation's devices as the service knows them, pending ones
/// included, with their public keys: what an admin compares a fingerprint against before it
/// signs an approval. Devices trust the trust log, never this list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceInfo {
    pub device_id: Uuid,
    pub name: String,
    /// Base64 of the Ed25519 public key.
    pub sign_key: String,
    /// Base64 of the X25519 public key.
    pub box_key: String,
    pub fingerprint: String,
    pub status: EnrolledStatus,
    pub admin: bool,
    pub teams: Vec<Uuid>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceList {
    pub devices: Vec<DeviceInfo>,
}

/// `POST /v1/enroll`: a new device presents the token of a one-time code
/// ([`crate::codes::code_token`]; never the code) and its public keys, signed with its new
/// Ed25519 key (proof it holds it). The organisation's first code makes its first admin, which
/// founds the trust log; an invitation makes a pending device that an admin approves (a signed
/// statement) after comparing [`crate::codes::fingerprint`] on both screens.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnrollRequest {
    /// Base64 of the code's token.
    pub token: String,
    pub device_id: Uuid,
    pub name: String,
    /// Base64 of the Ed25519 public key.
    pub sign_key: String,
    /// Base64 of the X25519 public key (team keys are wrapped to it).
    pub box_key: String,
    /// Base64 signature by `sign_key` over [`enroll_message`].
    pub proof: String,
}

/// What the enrolling device signs.
pub fn enroll_message(token: &str, device_id: Uuid, sign_key: &str, box_key: &str) -> Vec<u8> {
    format!("wardside/enroll/v2\n{token}\n{device_id}\n{sign_key}\n{box_key}").into_bytes()
}

/// The base64 proof an enrolling device puts in [`EnrollRequest::proof`].
pub fn enroll_proof(
    key: &DeviceSigningKey,
    token: &str,
    device_id: Uuid,
    sign_key: &str,
    box_key: &str,
) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD
        .encode(key.sign(&enroll_message(token, device_id, sign_key, box_key)))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EnrolledStatus {
    Approved,
    Pending,
    Revoked,
}

impl EnrolledStatus {
    /// The name used on the wire and in a device's own sync settings.
    pub fn as_str(self) -> &'static str {
        match self {
            EnrolledStatus::Approved => "approved",
            EnrolledStatus::Pending => "pending",
            EnrolledStatus::Revoked => "revoked",
        }
    }
}

/// What the service says about an enrolment. For an invitation it relays what the inviting
/// admin's device left with the code: the organisation's root key and the binding that proves it
/// to whoever holds the code ([`crate::codes::check_root_binding`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrollResponse {
    pub device_id: Uuid,
    pub org_id: Uuid,
    pub fingerprint: String,
    pub status: EnrolledStatus,
    pub admin: bool,
    pub teams: Vec<Uuid>,
    /// Base64 of the organisation's root (first admin's) signing key; invitations only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub root_key: Option<String>,
    /// Base64 of the binding; invitations only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub binding: Option<String>,
}

/// `POST /v1/invites` (admin): register a one-time code the admin's device made, by the hash
/// of its token ([`crate::codes::token_hash`]), with the organisation's root key and the binding
/// the new device will check, for the given teams (default: the admin's own).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InviteRequest {
    /// Base64.
    pub token_hash: String,
    /// Base64.
    pub root_key: String,
    /// Base64.
    pub binding: String,
    #[serde(default)]
    pub teams: Option<Vec<Uuid>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InviteResponse {
    pub expires_ms: i64,
}

/// `GET /v1/keys`: the team keys granted to the calling device. `POST /v1/keys` (admin): add
/// grants for devices of the organisation (or its recovery key, recipient = organisation id).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyGrants {
    pub grants: Vec<KeyGrant>,
}

/// The headers a signed request carries.
pub mod header {
    pub const DEVICE: &str = "x-wardside-device";
    pub const TIME: &str = "x-wardside-time";
    pub const NONCE: &str = "x-wardside-nonce";
    pub const SIGNATURE: &str = "x-wardside-signature";
}

/// What a device signs for a request: method, path with query, body hash, device, time and a
/// one-use nonce, each on its own line after a version tag.
pub fn request_message(
    method: &str,
    path_and_query: &str,
    body: &[u8],
    device_id: Uuid,
    time_ms: i64,
    nonce: &str,
) -> Vec<u8> {
    let body_hash: String = sha256(body).iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "wardside/request/v1\n{}\n{}\n{}\n{}\n{}\n{}",
        method.to_ascii_uppercase(),
        path_and_query,
        body_hash,
        device_id,
        time_ms,
        nonce
    )
    .into_bytes()
}

/// Signs requests as one device.
#[derive(Debug)]
pub struct RequestSigner<'k> {
    pub device_id: Uuid,
    pub key: &'k DeviceSigningKey,
}

/// The signature headers for one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedHeaders {
    pub device: String,
    pub time: String,
    pub nonce: String,
    pub signature: String,
}

impl RequestSigner<'_> {
    pub fn sign(
        &self,
        method: &str,
        path_and_query: &str,
        body: &[u8],
        time_ms: i64,
        nonce: &str,
    ) -> SignedHeaders {
        use base64::Engine;
        let msg = request_message(method, path_and_query, body, self.device_id, time_ms, nonce);
        SignedHeaders {
            device: self.device_id.to_string(),
            time: time_ms.to_string(),
            nonce: nonce.to_owned(),
            signature: base64::engine::general_purpose::STANDARD.encode(self.key.sign(&msg)),
        }
    }
}

/// Why a request's signature was refused (the server answers 401 to all of them).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestAuthError {
    #[error("the request is not signed")]
    Unsigned,
    #[error("the request's time is outside the accepted window; check the laptop's clock")]
    OutsideWindow,
    #[error("the request's signature does not check")]
    BadSignature,
}

/// A nonce the service will keep: 1 to [`MAX_NONCE_LEN`] letters, digits, `-` or `_`.
pub fn nonce_is_well_formed(nonce: &str) -> bool {
    (1..=MAX_NONCE_LEN).contains(&nonce.len())
        && nonce
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Check a request's signature and time (the nonce's one-time use is the server's to check).
pub fn verify_request(
    public_key: &[u8; 32],
    method: &str,
    path_and_query: &str,
    body: &[u8],
    headers: &SignedHeaders,
    server_time_ms: i64,
) -> Result<Uuid, RequestAuthError> {
    use base64::Engine;
    let device: Uuid = headers
        .device
        .parse()
        .map_err(|_| RequestAuthError::Unsigned)?;
    let time: i64 = headers
        .time
        .parse()
        .map_err(|_| RequestAuthError::Unsigned)?;
    if !nonce_is_well_formed(&headers.nonce) {
        return Err(RequestAuthError::Unsigned);
    }
    if server_time_ms.saturating_sub(time).unsigned_abs()
        > (REQUEST_WINDOW_SECS * 1000).unsigned_abs()
    {
        return Err(RequestAuthError::OutsideWindow);
    }
    let sig = base64::engine::general_purpose::STANDARD
        .decode(&headers.signature)
        .map_err(|_| RequestAuthError::BadSignature)?;
    let msg = request_message(method, path_and_query, body, device, time, &headers.nonce);
    if crate::keys::verify(public_key, &msg, &sig) {
        Ok(device)
    } else {
        Err(RequestAuthError::BadSignature)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_signed_request_checks_and_any_change_is_refused() {
        let key = DeviceSigningKey::generate().unwrap();
        let device_id = Uuid::from_bytes([6; 16]);
        let signer = RequestSigner {
            device_id,
            key: &key,
        };
        let now = 1_764_064_800_000;
        let h = signer.sign("post", "/v1/ops/push", b"{\"ops\":[]}", now, "n-1");
        let pk = key.public_key();
        assert_eq!(
            verify_request(&pk, "POST", "/v1/ops/push", b"{\"ops\":[]}", &h, now + 1000),
            Ok(device_id)
        );
        for (method, path, body) in [
            ("GET", "/v1/ops/push", &b"{\"ops\":[]}"[..]),
            ("POST", "/v1/ops?after=0", &b"{\"ops\":[]}"[..]),
            ("POST", "/v1/ops/push", &b"{\"ops\":[1]}"[..]),
        ] {
            assert_eq!(
                verify_request(&pk, method, path, body, &h, now),
                Err(RequestAuthError::BadSignature)
            );
        }
        let mut other_nonce = h.clone();
        other_nonce.nonce = "n-2".into();
        assert_eq!(
            verify_request(
                &pk,
                "POST",
                "/v1/ops/push",
                b"{\"ops\":[]}",
                &other_nonce,
                now
            ),
            Err(RequestAuthError::BadSignature)
        );
        assert_eq!(
            verify_request(
                &pk,
                "POST",
                "/v1/ops/push",
                b"{\"ops\":[]}",
                &h,
                now + (REQUEST_WINDOW_SECS + 1) * 1000
            ),
            Err(RequestAuthError::OutsideWindow)
        );
        // A nonce too long or of odd characters, and a time at the edge of i64: refused, calmly.
        for nonce in ["x".repeat(MAX_NONCE_LEN + 1), String::new(), "a b".into()] {
            let h = signer.sign("post", "/v1/ops/push", b"{}", now, &nonce);
            assert_eq!(
                verify_request(&pk, "POST", "/v1/ops/push", b"{}", &h, now),
                Err(RequestAuthError::Unsigned)
            );
        }
        let mut ancient = signer.sign("post", "/v1/ops/push", b"{}", now, "n-3");
        ancient.time = i64::MIN.to_string();
        assert_eq!(
            verify_request(&pk, "POST", "/v1/ops/push", b"{}", &ancient, i64::MAX),
            Err(RequestAuthError::OutsideWindow)
        );
        let stranger = DeviceSigningKey::generate().unwrap().public_key();
        assert_eq!(
            verify_request(&stranger, "POST", "/v1/ops/push", b"{\"ops\":[]}", &h, now),
            Err(RequestAuthError::BadSignature)
        );
    }

    #[test]
    fn push_results_carry_their_reason_on_the_wire() {
        let r = PushResult {
            op_id: Uuid::nil(),
            status: PushStatus::Rejected,
            server_seq: None,
            rejection: Some(Rejection::Gap { expected: 7 }),
        };
        let json = serde_json::to_value(&r).unwrap();
        assert_eq!(json["status"], "rejected");
        assert_eq!(json["reason"], "gap");
        assert_eq!(json["expected"], 7);
        assert_eq!(serde_json::from_value::<PushResult>(json).unwrap(), r);
        let ok = PushResult {
            op_id: Uuid::nil(),
            status: PushStatus::Accepted,
            server_seq: Some(12),
            rejection: None,
        };
        let json = serde_json::to_value(&ok).unwrap();
        assert!(json.get("reason").is_none());
        assert_eq!(serde_json::from_value::<PushResult>(json).unwrap(), ok);
    }
}
