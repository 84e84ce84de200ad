//! The HTTP layer: a few lines per route over [`Storage`] and [`crate::relay`]. Every `/v1`
//! request but enrolment is signed by an enrolled device (method, path, body hash, time, nonce).
//! The signature is checked before anything about the device is revealed; a nonce is accepted
//! once, and remembered in storage past a restart; each device has a request rate limit.
//! Authorisation uses routing metadata only: a device pushes only its own ops, for its
//! organisation and teams, and pulls only its teams' ops. Who is approved, revoked or an admin
//! follows the organisation's trust log, which admins sign and the service only keeps.

use crate::relay::{self, StatementRefusal};
use crate::storage::{Device, DeviceStatus, EnrolmentCode, Storage};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Query, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;
use uuid::Uuid;
use wardside_sync::codes::{fingerprint, token_hash};
use wardside_sync::protocol;
use wardside_sync::protocol::{
    EnrollRequest, EnrollResponse, EnrolledStatus, InviteRequest, InviteResponse, KeyGrants,
    MAX_BODY_BYTES, MAX_PULL_LIMIT, MAX_PUSH_OPS, MAX_TRUST_PAGE, PushRequest, PushStatus,
    REQUEST_WINDOW_SECS, Rejection, SignedHeaders, SignedStatement, TrustAppended, TrustLog,
    header, verify_request,
};

/// Requests a device may make per second, on average, and in a burst. An initial sync of
/// 200,000 ops is ~400 requests over half a minute; a device over the limit is told to slow
/// down (429) and its client waits and retries.
pub const REQUESTS_PER_SECOND: u32 = 100;
pub const REQUEST_BURST: u32 = 400;
/// Recovery requests (unsigned: the laptop has no identity yet) the whole service answers per
/// minute, and in a burst. A recovery takes two; nothing about the words can be learnt from the
/// answers (the words never leave the laptop), so this only bounds the work a stranger causes.
pub const RECOVERIES_PER_MINUTE: u32 = 20;

type Limiter = governor::DefaultKeyedRateLimiter<Uuid>;

/// Shared by the handlers.
#[derive(Debug)]
pub struct AppState<S> {
    pub storage: S,
    limiter: Limiter,
    /// For `/v1/recover`: one budget for the whole service.
    recoveries: governor::DefaultDirectRateLimiter,
    pub metrics: crate::metrics::Metrics,
}

impl<S> AppState<S> {
    pub fn new(storage: S) -> Self {
        Self::with_rate(storage, REQUESTS_PER_SECOND, REQUEST_BURST)
    }

    /// With another request rate per device (tests of the limit).
    pub fn with_rate(storage: S, per_second: u32, burst: u32) -> Self {
        let quota =
            governor::Quota::per_second(NonZeroU32::new(per_second).unwrap_or(NonZeroU32::MIN))
                .allow_burst(NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN));
        AppState {
            storage,
            limiter: governor::RateLimiter::keyed(quota),
            recoveries: governor::RateLimiter::direct(governor::Quota::per_minute(
                NonZeroU32::new(RECOVERIES_PER_MINUTE).unwrap_or(NonZeroU32::MIN),
            )),
            metrics: crate::metrics::Metrics::default(),
        }
    }
}

pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// An error as the device sees it: a status and one line that says what to do.
#[derive(Debug)]
pub struct ApiError(StatusCode, &'static str);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.0, axum::Json(serde_json::json!({ "error": self.1 }))).into_response()
    }
}

impl From<crate::storage::StorageError> for ApiError {
    fn from(e: crate::storage::StorageError) -> Self {
        // The detail stays in the server's log; the device retries.
        tracing::warn!(error = %e, "storage error");
        ApiError(
            StatusCode::SERVICE_UNAVAILABLE,
            "storage unavailable; retry later",
        )
    }
}

fn status_of(s: DeviceStatus) -> EnrolledStatus {
    match s {
        DeviceStatus::Approved => EnrolledStatus::Approved,
        DeviceStatus::Pending => EnrolledStatus::Pending,
        DeviceStatus::Revoked => EnrolledStatus::Revoked,
    }
}

fn b64_bytes(s: &str) -> Option<Vec<u8>> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.decode(s).ok()
}

fn b64_key(s: &str) -> Option<[u8; 32]> {
    b64_bytes(s)?.try_into().ok()
}

fn b64(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Which devices an endpoint serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Who {
    /// Approved devices only.
    Approved,
    /// Any enrolled device, pending or revoked too: reading the trust log is how a device
    /// learns from admins (not from the service) that it was approved or revoked.
    Enrolled,
}

async fn authenticate<S: Storage>(
    state: &AppState<S>,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
    who: Who,
) -> Result<Device, ApiError> {
    let unauthorised = ApiError(
        StatusCode::UNAUTHORIZED,
        "request not signed by an enrolled device",
    );
    let get = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
            .ok_or(ApiError(StatusCode::UNAUTHORIZED, "request not signed"))
    };
    let signed = SignedHeaders {
        device: get(header::DEVICE)?,
        time: get(header::TIME)?,
        nonce: get(header::NONCE)?,
        signature: get(header::SIGNATURE)?,
    };
    let id: Uuid = signed
        .device
        .parse()
        .map_err(|_| ApiError(StatusCode::UNAUTHORIZED, "request not signed"))?;
    // The signature first: nothing about a device (not even whether it exists or is revoked)
    // is told to someone who cannot sign as it.
    let device = state.storage.device(id).await?.ok_or(unauthorised)?;
    let path = uri.path_and_query().map_or(uri.path(), |p| p.as_str());
    let now = now_ms();
    verify_request(&device.sign_key, method.as_str(), path, body, &signed, now).map_err(|e| {
        ApiError(
            StatusCode::UNAUTHORIZED,
            match e {
                wardside_sync::protocol::RequestAuthError::OutsideWindow => {
                    "request time outside the accepted window; check the device's clock"
                }
                _ => "request not signed by an enrolled device",
            },
        )
    })?;
    if state.limiter.check_key(&id).is_err() {
        return Err(ApiError(
            StatusCode::TOO_MANY_REQUESTS,
            "too many requests from this device; slow down and retry",
        ));
    }
    // A nonce is good once within the window, and kept in storage: a captured request cannot
    // be replayed, even after the service restarts.
    let expires = now + 2 * REQUEST_WINDOW_SECS * 1000;
    if !state
        .storage
        .use_nonce(id, signed.nonce.clone(), expires, now)
        .await?
    {
        return Err(ApiError(StatusCode::UNAUTHORIZED, "request replayed"));
    }
    match (device.status, who) {
        (DeviceStatus::Approved, _) | (_, Who::Enrolled) => Ok(device),
        (DeviceStatus::Pending, Who::Approved) => {
            Err(ApiError(StatusCode::UNAUTHORIZED, protocol::NOT_APPROVED))
        }
        (DeviceStatus::Revoked, Who::Approved) => {
            Err(ApiError(StatusCode::UNAUTHORIZED, protocol::REVOKED))
        }
    }
}

async fn push<S: Storage>(
    State(state): State<Arc<AppState<S>>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let caller = authenticate(&state, &method, &uri, &headers, &body, Who::Approved).await?;
    let req: PushRequest = serde_json::from_slice(&body)
        .map_err(|_| ApiError(StatusCode::BAD_REQUEST, "the body is not a push request"))?;
    if req.ops.len() > MAX_PUSH_OPS {
        return Err(ApiError(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too many ops in one push",
        ));
    }
    let now = now_ms();
    let results = crate::relay::push(&state.storage, &caller, req.ops, now).await?;
    for r in &results {
        let result = match r.status {
            PushStatus::Accepted => "accepted",
            PushStatus::Duplicate => "duplicate",
            PushStatus::Rejected => "rejected",
        };
        state
            .metrics
            .ops_pushed
            .get_or_create(&crate::metrics::PushLabels { result })
            .inc();
    }
    let conflict = results
        .iter()
        .any(|r| r.rejection == Some(Rejection::SeqConflict));
    // Read after the push committed: the high-water covers every op just accepted.
    let service = Some(state.storage.service_mark(caller.org_id).await?);
    let body = wardside_sync::protocol::PushResponse {
        results,
        server_time_ms: now,
        service,
    };
    // A conflicting re-push is never silently accepted: the whole reply says 409.
    let status = if conflict {
        StatusCode::CONFLICT
    } else {
        StatusCode::OK
    };
    Ok((status, axum::Json(body)).into_response())
}

#[derive(Debug, Deserialize)]
struct PullQuery {
    #[serde(default)]
    after: i64,
    #[serde(default = "default_limit")]
    limit: usize,
}

fn default_limit() -> usize {
    500
}

async fn pull<S: Storage>(
    State(state): State<Arc<AppState<S>>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    Query(q): Query<PullQuery>,
) -> Result<Response, ApiError> {
    let caller = authenticate(&state, &method, &uri, &headers, b"", Who::Approved).await?;
    let mut page = state
        .storage
        .pull(
            caller.org_id,
            caller.teams,
            q.after,
            q.limit.clamp(1, MAX_PULL_LIMIT),
            now_ms(),
        )
        .await?;
    // Read after the page: the high-water is at or past the page's last cursor.
    page.service = Some(state.storage.service_mark(caller.org_id).await?);
    state.metrics.ops_pulled.inc_by(page.ops.len() as u64);
    Ok(axum::Json(page).into_response())
}

async fn heads<S: Storage>(
    State(state): State<Arc<AppState<S>>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let caller = authenticate(&state, &method, &uri, &headers, b"", Who::Approved).await?;
    let heads = state.storage.heads(caller.org_id, caller.teams).await?;
    let trust_seq = state.storage.trust_head(caller.org_id).await?;
    // The statement at `trust_seq` (or, if one was added meanwhile, the first after it).
    let trust_head = match trust_seq {
        0 => None,
        n => state
            .storage
            .trust_log(caller.org_id, n - 1, 1)
            .await?
            .first()
            .and_then(|j| serde_json::from_str::<protocol::SignedStatement>(j).ok())
            .map(|s| {
                use base64::Engine;
                base64::engine::general_purpose::STANDARD.encode(s.statement.hash())
            }),
    };
    let grants = state
        .storage
        .key_grants_for(caller.org_id, caller.id)
        .await?
        .len() as u64;
    Ok(axum::Json(protocol::Heads {
        heads,
        trust_seq,
        trust_head,
        grants,
        service: Some(state.storage.service_mark(caller.org_id).await?),
    })
    .into_response())
}

/// A new device enrols with the token of a one-time code and proof that it holds its signing
/// key. For an invitation the answer carries what the inviting admin left for the new device to
/// check (the organisation's root key and its binding to the code).
async fn enroll<S: Storage>(
    State(state): State<Arc<AppState<S>>>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let bad = ApiError(
        StatusCode::BAD_REQUEST,
        "the body is not an enrolment request",
    );
    let req: EnrollRequest = serde_json::from_slice(&body).map_err(|_| bad)?;
    let sign_key =
        b64_key(&req.sign_key).ok_or(ApiError(StatusCode::BAD_REQUEST, "bad signing key"))?;
    let box_key =
        b64_key(&req.box_key).ok_or(ApiError(StatusCode::BAD_REQUEST, "bad encryption key"))?;
    let token = b64_bytes(&req.token)
        .filter(|t| t.len() == 32)
        .ok_or(ApiError(StatusCode::BAD_REQUEST, "bad code token"))?;
    let proof = b64_bytes(&req.proof).ok_or(ApiError(StatusCode::BAD_REQUEST, "bad proof"))?;
    let msg = wardside_sync::protocol::enroll_message(
        &req.token,
        req.device_id,
        &req.sign_key,
        &req.box_key,
    );
    if ring::signature::UnparsedPublicKey::new(&ring::signature::ED25519, sign_key)
        .verify(&msg, &proof)
        .is_err()
    {
        return Err(ApiError(
            StatusCode::UNAUTHORIZED,
            "the proof is not signed by the device's key",
        ));
    }
    let name: String = req
        .name
        .chars()
        .filter(|c| !c.is_control())
        .take(wardside_sync::trust::MAX_NAME_CHARS)
        .collect();
    if state.storage.device(req.device_id).await?.is_some() {
        return Err(ApiError(
            StatusCode::CONFLICT,
            "this device is already enrolled",
        ));
    }
    let code = state
        .storage
        .take_enrolment_code(token_hash(&token), now_ms())
        .await?
        .ok_or(ApiError(
            StatusCode::FORBIDDEN,
            "the code is wrong, used or expired; ask an admin for a new one",
        ))?;
    // The organisation's first device is its first admin (it founds the trust log); any other
    // waits for an admin's signed approval.
    let status = if code.admin {
        DeviceStatus::Approved
    } else {
        DeviceStatus::Pending
    };
    state
        .storage
        .add_device(Device {
            id: req.device_id,
            org_id: code.org_id,
            name,
            sign_key,
            box_key,
            status,
            admin: code.admin,
            teams: code.teams.clone(),
        })
        .await?;
    Ok(axum::Json(EnrollResponse {
        device_id: req.device_id,
        org_id: code.org_id,
        fingerprint: fingerprint(&sign_key, &box_key),
        status: status_of(status),
        admin: code.admin,
        teams: code.teams,
        root_key: code.root_key.as_deref().map(b64),
        binding: code.binding.as_deref().map(b64),
    })
    .into_response())
}

/// [`authenticate`], and refuse anyone but an admin device.
async fn authenticate_admin<S: Storage>(
    state: &AppState<S>,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Device, ApiError> {
    let caller = authenticate(state, method, uri, headers, body, Who::Approved).await?;
    if caller.admin {
        Ok(caller)
    } else {
        Err(ApiError(
            StatusCode::FORBIDDEN,
            "only an admin device may do this",
        ))
    }
}

/// An admin registers an invitation its device made: the hash of the code's token, with the
/// organisation's root key and the binding for the new device, for the given teams (default:
/// its own).
async fn invite<S: Storage>(
    State(state): State<Arc<AppState<S>>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let caller = authenticate_admin(&state, &method, &uri, &headers, &body).await?;
    let bad = ApiError(StatusCode::BAD_REQUEST, "the body is not an invitation");
    let req: InviteRequest = serde_json::from_slice(&body).map_err(|_| bad)?;
    let bytes32 = |s: &str| b64_bytes(s).filter(|b| b.len() == 32);
    let (Some(code_hash), Some(root_key), Some(binding)) = (
        bytes32(&req.token_hash),
        bytes32(&req.root_key),
        bytes32(&req.binding),
    ) else {
        return Err(ApiError(
            StatusCode::BAD_REQUEST,
            "the body is not an invitation",
        ));
    };
    let teams = req.teams.unwrap_or_else(|| caller.teams.clone());
    if teams.is_empty() || teams.iter().any(|t| !caller.teams.contains(t)) {
        return Err(ApiError(
            StatusCode::FORBIDDEN,
            "an admin invites only to its own teams",
        ));
    }
    let expires_ms = now_ms() + crate::enrolment::CODE_LIFETIME_MS;
    state
        .storage
        .add_enrolment_code(EnrolmentCode {
            code_hash,
            org_id: caller.org_id,
            admin: false,
            teams,
            expires_ms,
            root_key: Some(root_key),
            binding: Some(binding),
        })
        .await?;
    Ok(axum::Json(InviteResponse { expires_ms }).into_response())
}

#[derive(Debug, Deserialize)]
struct TrustQuery {
    #[serde(default)]
    after: u64,
}

/// The organisation's trust log after `after`: for any enrolled device, revoked or pending
/// ones too, which learn their standing from it.
async fn trust_log<S: Storage>(
    State(state): State<Arc<AppState<S>>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    Query(q): Query<TrustQuery>,
) -> Result<Response, ApiError> {
    let caller = authenticate(&state, &method, &uri, &headers, b"", Who::Enrolled).await?;
    let rows = state
        .storage
        .trust_log(caller.org_id, q.after, MAX_TRUST_PAGE + 1)
        .await?;
    let has_more = rows.len() > MAX_TRUST_PAGE;
    let statements = rows
        .iter()
        .take(MAX_TRUST_PAGE)
        .map(|j| serde_json::from_str(j))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| crate::storage::StorageError::Backend(e.to_string()))?;
    Ok(axum::Json(TrustLog {
        statements,
        has_more,
    })
    .into_response())
}

/// An admin appends a signed statement to the log; or any device of the organisation gives
/// back an admin's statement this service lost (a restore from backup). The service checks it
/// as a device would (signed by an admin of the log, following it) and that it can act on it
/// before keeping it, then acts on it.
async fn append_trust<S: Storage>(
    State(state): State<Arc<AppState<S>>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let caller = authenticate(&state, &method, &uri, &headers, &body, Who::Approved).await?;
    let signed: SignedStatement = serde_json::from_slice(&body)
        .map_err(|_| ApiError(StatusCode::BAD_REQUEST, "the body is not a trust statement"))?;
    if signed.statement.author == caller.id && !caller.admin {
        return Err(ApiError(
            StatusCode::FORBIDDEN,
            "only an admin device may do this",
        ));
    }
    let seq = signed.statement.seq;
    let change = relay::check_statement(&state.storage, &caller, &signed)
        .await?
        .map_err(|r| match r {
            StatementRefusal::Conflict(why) => ApiError(StatusCode::CONFLICT, why),
            StatementRefusal::Invalid(why) => ApiError(StatusCode::BAD_REQUEST, why),
        })?;
    let json = serde_json::to_string(&signed)
        .map_err(|e| crate::storage::StorageError::Backend(e.to_string()))?;
    match state
        .storage
        .append_statement(caller.org_id, seq, json, change)
        .await?
    {
        crate::storage::Appended::Yes => Ok(axum::Json(TrustAppended { seq }).into_response()),
        crate::storage::Appended::SeqTaken => Err(ApiError(
            StatusCode::CONFLICT,
            "another admin changed the organisation first; sync and try again",
        )),
    }
}

/// The organisation's devices as the service knows them (pending ones too), for any approved
/// device.
async fn list_devices<S: Storage>(
    State(state): State<Arc<AppState<S>>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let caller = authenticate(&state, &method, &uri, &headers, b"", Who::Approved).await?;
    let devices = state.storage.devices(caller.org_id).await?;
    let devices = devices
        .into_iter()
        .map(|d| protocol::DeviceInfo {
            device_id: d.id,
            name: d.name,
            sign_key: b64(&d.sign_key),
            box_key: b64(&d.box_key),
            fingerprint: fingerprint(&d.sign_key, &d.box_key),
            status: status_of(d.status),
            admin: d.admin,
            teams: d.teams,
        })
        .collect();
    Ok(axum::Json(protocol::DeviceList { devices }).into_response())
}

/// The team keys granted to the calling device.
async fn my_keys<S: Storage>(
    State(state): State<Arc<AppState<S>>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let caller = authenticate(&state, &method, &uri, &headers, b"", Who::Approved).await?;
    let grants = state
        .storage
        .key_grants_for(caller.org_id, caller.id)
        .await?;
    Ok(axum::Json(KeyGrants { grants }).into_response())
}

/// An admin stores key grants it signed, of its teams' keys, for devices of the organisation
/// or its recovery key.
async fn put_keys<S: Storage>(
    State(state): State<Arc<AppState<S>>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let caller = authenticate_admin(&state, &method, &uri, &headers, &body).await?;
    let req: KeyGrants = serde_json::from_slice(&body).map_err(|_| {
        ApiError(
            StatusCode::BAD_REQUEST,
            "the body is not a list of key grants",
        )
    })?;
    for g in &req.grants {
        if g.signer != caller.id {
            return Err(ApiError(
                StatusCode::FORBIDDEN,
                "an admin stores only grants it signed",
            ));
        }
        if !caller.teams.contains(&g.wrap.kid.team_id) {
            return Err(ApiError(
                StatusCode::FORBIDDEN,
                "an admin grants only its own teams' keys",
            ));
        }
        if g.wrap.recipient != caller.org_id
            && state
                .storage
                .device(g.wrap.recipient)
                .await?
                .is_none_or(|d| d.org_id != caller.org_id)
        {
            return Err(ApiError(
                StatusCode::NOT_FOUND,
                "no such device in this organisation",
            ));
        }
    }
    state
        .storage
        .add_key_grants(caller.org_id, req.grants)
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

fn recovery_budget<S>(state: &AppState<S>) -> Result<(), ApiError> {
    state.recoveries.check().map_err(|_| {
        ApiError(
            StatusCode::TOO_MANY_REQUESTS,
            "too many recovery attempts on this service; wait a minute and try again",
        )
    })
}

/// A laptop holding an organisation's recovery words asks for its trust log, by the recovery
/// key the genesis names (unsigned: the laptop has no identity yet; it checks the log against
/// the words, so the answer is a hint like any other).
async fn recovery_log<S: Storage>(
    State(state): State<Arc<AppState<S>>>,
    body: Bytes,
) -> Result<Response, ApiError> {
    recovery_budget(&state)?;
    let req: wardside_sync::recovery::RecoveryLookup = serde_json::from_slice(&body)
        .map_err(|_| ApiError(StatusCode::BAD_REQUEST, "the body is not a recovery lookup"))?;
    let (org_id, statements) = relay::find_recovery(&state.storage, &req.recovery_key)
        .await?
        .ok_or(ApiError(
            StatusCode::NOT_FOUND,
            "no organisation on this service has these recovery words",
        ))?;
    Ok(axum::Json(wardside_sync::recovery::RecoveryLog { org_id, statements }).into_response())
}

/// A new laptop presents a recovery: the recovery key's signed statement making it an admin,
/// and its proof that it holds the device key named. Checked against the log as devices will
/// check it, then kept and acted on (the device is enrolled as an approved admin) in one step.
async fn recover<S: Storage>(
    State(state): State<Arc<AppState<S>>>,
    body: Bytes,
) -> Result<Response, ApiError> {
    recovery_budget(&state)?;
    let req: wardside_sync::recovery::RecoverRequest = serde_json::from_slice(&body)
        .map_err(|_| ApiError(StatusCode::BAD_REQUEST, "the body is not a recovery"))?;
    let recovery = relay::check_recovery(&state.storage, &req.statement, &req.proof)
        .await?
        .map_err(|r| match r {
            StatementRefusal::Conflict(why) => ApiError(StatusCode::CONFLICT, why),
            StatementRefusal::Invalid(why) => ApiError(StatusCode::FORBIDDEN, why),
        })?;
    let (org_id, seq) = (req.statement.statement.org_id, req.statement.statement.seq);
    let device_id = recovery.device_id;
    let json = serde_json::to_string(&req.statement)
        .map_err(|e| crate::storage::StorageError::Backend(e.to_string()))?;
    if let Some(device) = recovery.add {
        state.storage.add_device(device).await?;
    }
    match state
        .storage
        .append_statement(org_id, seq, json, recovery.change)
        .await?
    {
        crate::storage::Appended::Yes => {
            tracing::info!(org = %org_id, device = %device_id, seq, "an organisation was recovered with its recovery words");
            Ok(axum::Json(wardside_sync::recovery::Recovered {
                org_id,
                device_id,
                seq,
            })
            .into_response())
        }
        crate::storage::Appended::SeqTaken => Err(ApiError(
            StatusCode::CONFLICT,
            "the organisation changed meanwhile; try the recovery again",
        )),
    }
}

/// The team keys wrapped to the organisation's recovery key, for an admin device: how a laptop
/// recovered with the words gets every key of every epoch (they open only with the words).
async fn recovery_keys<S: Storage>(
    State(state): State<Arc<AppState<S>>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let caller = authenticate_admin(&state, &method, &uri, &headers, b"").await?;
    let grants = state
        .storage
        .key_grants_for(caller.org_id, caller.org_id)
        .await?;
    Ok(axum::Json(KeyGrants { grants }).into_response())
}

/// The process is up and answering (the database is not touched): for a supervisor's liveness
/// check.
async fn healthz() -> &'static str {
    "ok"
}

/// The database answers a trivial query within a few seconds: for a load balancer or monitor
/// deciding whether to send traffic here. Says nothing about any organisation.
async fn readyz<S: Storage>(State(state): State<Arc<AppState<S>>>) -> Response {
    match tokio::time::timeout(READY_TIMEOUT, state.storage.generation()).await {
        Ok(Ok(_)) => "ready".into_response(),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "readiness check: the database did not answer");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "not ready: the database did not answer",
            )
                .into_response()
        }
        Err(_) => {
            tracing::warn!("readiness check: the database took too long");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "not ready: the database took too long",
            )
                .into_response()
        }
    }
}

/// How long `/readyz` waits for the database.
pub const READY_TIMEOUT: Duration = Duration::from_secs(5);

async fn metrics<S: Storage>(State(state): State<Arc<AppState<S>>>) -> Response {
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.metrics.render(),
    )
        .into_response()
}

/// Count and time every request, and log one line for it: route, status, milliseconds, the
/// calling device if any. Never a body, a query value or a header value beyond the device id.
async fn observe<S: Storage>(
    State(state): State<Arc<AppState<S>>>,
    matched: Option<axum::extract::MatchedPath>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let route = matched.map_or_else(|| "unmatched".to_owned(), |m| m.as_str().to_owned());
    let method = req.method().clone();
    let device = req
        .headers()
        .get(header::DEVICE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<Uuid>().ok());
    let started = std::time::Instant::now();
    let response = next.run(req).await;
    let elapsed = started.elapsed();
    let labels = crate::metrics::RequestLabels {
        route: route.clone(),
        status: response.status().as_u16(),
    };
    state.metrics.requests.get_or_create(&labels).inc();
    state
        .metrics
        .request_seconds
        .get_or_create(&labels)
        .observe(elapsed.as_secs_f64());
    tracing::info!(
        %method,
        route,
        status = response.status().as_u16(),
        ms = elapsed.as_millis() as u64,
        device = device.map(|d| d.to_string()).unwrap_or_default(),
        "request"
    );
    response
}

/// A listener whose connections send replies at once: without TCP_NODELAY a small reply can
/// wait ~40 ms for the client's delayed ACK, which made every request of a sync that slow.
pub fn nodelay(
    listener: tokio::net::TcpListener,
) -> impl axum::serve::Listener<Addr = std::net::SocketAddr> {
    use axum::serve::ListenerExt;
    listener.tap_io(|tcp| {
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::warn!(error = %e, "could not set TCP_NODELAY");
        }
    })
}

/// `/metrics` on a listener of its own (`--metrics-listen`), never on the devices' address:
/// request counts by route are for the operator's monitoring, not for whoever can reach the
/// service.
pub fn metrics_router<S: Storage>(state: Arc<AppState<S>>) -> Router {
    Router::new()
        .route("/metrics", get(metrics::<S>))
        .with_state(state)
}

/// The service's routes, with the body limit and a timeout per request.
pub fn router<S: Storage>(state: Arc<AppState<S>>) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz::<S>))
        .route("/v1/ops/push", post(push::<S>))
        .route("/v1/ops", get(pull::<S>))
        .route("/v1/heads", get(heads::<S>))
        .route("/v1/keys", get(my_keys::<S>).post(put_keys::<S>))
        .route("/v1/trust", get(trust_log::<S>).post(append_trust::<S>))
        .route("/v1/enroll", post(enroll::<S>))
        .route("/v1/recover", post(recover::<S>))
        .route("/v1/recover/log", post(recovery_log::<S>))
        .route("/v1/recover/keys", get(recovery_keys::<S>))
        .route("/v1/invites", post(invite::<S>))
        .route("/v1/devices", get(list_devices::<S>))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        // After routing, so the matched route (not the raw path) labels the metrics.
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            observe::<S>,
        ))
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(30),
        ))
        .with_state(state)
}
