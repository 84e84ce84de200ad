//! The HTTP layer: a few lines per route over [`Storage`]. Every `/v1` request is signed by an
//! approved device (method, path, body hash, time, nonce; a nonce is accepted once); a revoked
//! device gets 401 on its next request. Authorisation uses routing metadata only: a device
//! pushes only its own ops, for its organisation and teams, and pulls only its teams' ops.

use crate::enrolment::{CODE_LIFETIME_MS, code_hash, new_code};
use crate::storage::{Device, DeviceStatus, EnrolmentCode, Storage};
use axum::Router;
use axum::body::Bytes;
use axum::extract::Path;
use axum::extract::{DefaultBodyLimit, Query, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use uuid::Uuid;
use wardside_sync::keys::fingerprint;
use wardside_sync::protocol;
use wardside_sync::protocol::{
    ApproveRequest, DeviceStatusResponse, EnrollRequest, EnrollResponse, EnrolledStatus,
    InviteRequest, InviteResponse, KeyWraps, MAX_BODY_BYTES, MAX_PULL_LIMIT, MAX_PUSH_OPS,
    PushRequest, PushStatus, REQUEST_WINDOW_SECS, Rejection, SignedHeaders, header, verify_request,
};

/// Shared by the handlers.
#[derive(Debug)]
pub struct AppState<S> {
    pub storage: S,
    /// Nonces seen within the request window, with when they expire.
    nonces: Mutex<HashMap<String, i64>>,
    pub metrics: crate::metrics::Metrics,
}

impl<S> AppState<S> {
    pub fn new(storage: S) -> Self {
        AppState {
            storage,
            nonces: Mutex::new(HashMap::new()),
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
    fn from(_: crate::storage::StorageError) -> Self {
        // The detail stays in the server's log; the device retries.
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

fn b64_key(s: &str) -> Option<[u8; 32]> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD
        .decode(s)
        .ok()?
        .try_into()
        .ok()
}

async fn authenticate<S: Storage>(
    state: &AppState<S>,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Device, ApiError> {
    let unauthorised = ApiError(
        StatusCode::UNAUTHORIZED,
        "request not signed by an approved device",
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
    let device = state.storage.device(id).await?.ok_or(unauthorised)?;
    match device.status {
        DeviceStatus::Approved => {}
        DeviceStatus::Pending => {
            return Err(ApiError(StatusCode::UNAUTHORIZED, protocol::NOT_APPROVED));
        }
        DeviceStatus::Revoked => return Err(ApiError(StatusCode::UNAUTHORIZED, protocol::REVOKED)),
    }
    let path = uri.path_and_query().map_or(uri.path(), |p| p.as_str());
    let now = now_ms();
    verify_request(&device.sign_key, method.as_str(), path, body, &signed, now).map_err(|e| {
        ApiError(
            StatusCode::UNAUTHORIZED,
            match e {
                wardside_sync::protocol::RequestAuthError::OutsideWindow => {
                    "request time outside the accepted window; check the device's clock"
                }
                _ => "request not signed by an approved device",
            },
        )
    })?;
    // A nonce is good once within the window: a captured request cannot be replayed.
    {
        let mut nonces = state.nonces.lock().unwrap_or_else(|p| p.into_inner());
        nonces.retain(|_, expires| *expires > now);
        let key = format!("{id}/{}", signed.nonce);
        if nonces.contains_key(&key) {
            return Err(ApiError(StatusCode::UNAUTHORIZED, "request replayed"));
        }
        nonces.insert(key, now + 2 * REQUEST_WINDOW_SECS * 1000);
    }
    Ok(device)
}

async fn push<S: Storage>(
    State(state): State<Arc<AppState<S>>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let caller = authenticate(&state, &method, &uri, &headers, &body).await?;
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
    let body = wardside_sync::protocol::PushResponse {
        results,
        server_time_ms: now,
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
    let caller = authenticate(&state, &method, &uri, &headers, b"").await?;
    let page = state
        .storage
        .pull(
            caller.org_id,
            caller.teams,
            q.after,
            q.limit.clamp(1, MAX_PULL_LIMIT),
            now_ms(),
        )
        .await?;
    state.metrics.ops_pulled.inc_by(page.ops.len() as u64);
    Ok(axum::Json(page).into_response())
}

async fn heads<S: Storage>(
    State(state): State<Arc<AppState<S>>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let caller = authenticate(&state, &method, &uri, &headers, b"").await?;
    let heads = state.storage.heads(caller.org_id, caller.teams).await?;
    Ok(axum::Json(heads).into_response())
}

/// A new device enrols with a one-time code and proof that it holds its signing key.
async fn enroll<S: Storage>(
    State(state): State<Arc<AppState<S>>>,
    body: Bytes,
) -> Result<Response, ApiError> {
    use base64::Engine;
    let bad = ApiError(
        StatusCode::BAD_REQUEST,
        "the body is not an enrolment request",
    );
    let req: EnrollRequest = serde_json::from_slice(&body).map_err(|_| bad)?;
    let sign_key =
        b64_key(&req.sign_key).ok_or(ApiError(StatusCode::BAD_REQUEST, "bad signing key"))?;
    let box_key =
        b64_key(&req.box_key).ok_or(ApiError(StatusCode::BAD_REQUEST, "bad encryption key"))?;
    let proof = base64::engine::general_purpose::STANDARD
        .decode(&req.proof)
        .map_err(|_| ApiError(StatusCode::BAD_REQUEST, "bad proof"))?;
    let msg = wardside_sync::protocol::enroll_message(
        &req.code,
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
    if state.storage.device(req.device_id).await?.is_some() {
        return Err(ApiError(
            StatusCode::CONFLICT,
            "this device is already enrolled",
        ));
    }
    let code = state
        .storage
        .take_enrolment_code(code_hash(&req.code), now_ms())
        .await?
        .ok_or(ApiError(
            StatusCode::FORBIDDEN,
            "the code is wrong, used or expired; ask an admin for a new one",
        ))?;
    let status = if code.admin {
        DeviceStatus::Approved
    } else {
        DeviceStatus::Pending
    };
    let name: String = req.name.chars().take(100).collect();
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
    let caller = authenticate(state, method, uri, headers, body).await?;
    if caller.admin {
        Ok(caller)
    } else {
        Err(ApiError(
            StatusCode::FORBIDDEN,
            "only an admin device may do this",
        ))
    }
}

/// An admin invites a new device: a one-time code for the given teams (default: its own).
async fn invite<S: Storage>(
    State(state): State<Arc<AppState<S>>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let caller = authenticate_admin(&state, &method, &uri, &headers, &body).await?;
    let req: InviteRequest = if body.is_empty() {
        InviteRequest::default()
    } else {
        serde_json::from_slice(&body)
            .map_err(|_| ApiError(StatusCode::BAD_REQUEST, "the body is not an invitation"))?
    };
    let teams = req.teams.unwrap_or_else(|| caller.teams.clone());
    if teams.iter().any(|t| !caller.teams.contains(t)) {
        return Err(ApiError(
            StatusCode::FORBIDDEN,
            "an admin invites only to its own teams",
        ));
    }
    let code =
        new_code().map_err(|_| ApiError(StatusCode::INTERNAL_SERVER_ERROR, "no randomness"))?;
    let expires_ms = now_ms() + CODE_LIFETIME_MS;
    state
        .storage
        .add_enrolment_code(EnrolmentCode {
            code_hash: code_hash(&code),
            org_id: caller.org_id,
            admin: false,
            teams,
            expires_ms,
        })
        .await?;
    Ok(axum::Json(InviteResponse { code, expires_ms }).into_response())
}

async fn device_in_org<S: Storage>(
    state: &AppState<S>,
    caller: &Device,
    id: Uuid,
) -> Result<Device, ApiError> {
    state
        .storage
        .device(id)
        .await?
        .filter(|d| d.org_id == caller.org_id)
        .ok_or(ApiError(
            StatusCode::NOT_FOUND,
            "no such device in this organisation",
        ))
}

/// An admin approves a pending device after comparing its fingerprint on both screens.
async fn approve<S: Storage>(
    State(state): State<Arc<AppState<S>>>,
    Path(id): Path<Uuid>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let caller = authenticate_admin(&state, &method, &uri, &headers, &body).await?;
    let req: ApproveRequest = serde_json::from_slice(&body)
        .map_err(|_| ApiError(StatusCode::BAD_REQUEST, "the body is not an approval"))?;
    let device = device_in_org(&state, &caller, id).await?;
    if device.status == DeviceStatus::Revoked {
        return Err(ApiError(
            StatusCode::CONFLICT,
            "a revoked device cannot be approved; enrol it again",
        ));
    }
    if !crate::relay::fingerprint_matches(&device, &req.fingerprint) {
        return Err(ApiError(
            StatusCode::CONFLICT,
            "the fingerprint does not match the device's; do not approve it",
        ));
    }
    set_status(&state, id, DeviceStatus::Approved).await
}

/// An admin revokes a device: refused from its next request on.
async fn revoke<S: Storage>(
    State(state): State<Arc<AppState<S>>>,
    Path(id): Path<Uuid>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let caller = authenticate_admin(&state, &method, &uri, &headers, &body).await?;
    device_in_org(&state, &caller, id).await?;
    set_status(&state, id, DeviceStatus::Revoked).await
}

async fn set_status<S: Storage>(
    state: &AppState<S>,
    id: Uuid,
    status: DeviceStatus,
) -> Result<Response, ApiError> {
    state.storage.set_device_status(id, status).await?;
    Ok(axum::Json(DeviceStatusResponse {
        device_id: id,
        status: status_of(status),
    })
    .into_response())
}

/// The organisation's devices and their public keys, for any approved device.
async fn list_devices<S: Storage>(
    State(state): State<Arc<AppState<S>>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD;
    let caller = authenticate(&state, &method, &uri, &headers, b"").await?;
    let devices = state.storage.devices(caller.org_id).await?;
    let devices = devices
        .into_iter()
        .map(|d| protocol::DeviceInfo {
            device_id: d.id,
            name: d.name,
            sign_key: b64.encode(d.sign_key),
            box_key: b64.encode(d.box_key),
            fingerprint: fingerprint(&d.sign_key, &d.box_key),
            status: status_of(d.status),
            admin: d.admin,
            teams: d.teams,
        })
        .collect();
    Ok(axum::Json(protocol::DeviceList { devices }).into_response())
}

/// The team keys wrapped to the calling device.
async fn my_keys<S: Storage>(
    State(state): State<Arc<AppState<S>>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let caller = authenticate(&state, &method, &uri, &headers, b"").await?;
    let wraps = state
        .storage
        .key_wraps_for(caller.org_id, caller.id)
        .await?;
    Ok(axum::Json(KeyWraps { wraps }).into_response())
}

/// An admin stores wraps of its teams' keys for devices of the organisation or its recovery key.
async fn put_keys<S: Storage>(
    State(state): State<Arc<AppState<S>>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let caller = authenticate_admin(&state, &method, &uri, &headers, &body).await?;
    let req: KeyWraps = serde_json::from_slice(&body).map_err(|_| {
        ApiError(
            StatusCode::BAD_REQUEST,
            "the body is not a list of key wraps",
        )
    })?;
    for w in &req.wraps {
        if !caller.teams.contains(&w.kid.team_id) {
            return Err(ApiError(
                StatusCode::FORBIDDEN,
                "an admin wraps only its own teams' keys",
            ));
        }
        if w.recipient != caller.org_id {
            device_in_org(&state, &caller, w.recipient).await?;
        }
    }
    state
        .storage
        .add_key_wraps(caller.org_id, req.wraps)
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn healthz() -> &'static str {
    "ok"
}

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

/// The service's routes, with the body limit and a timeout per request.
pub fn router<S: Storage>(state: Arc<AppState<S>>) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics::<S>))
        .route("/v1/ops/push", post(push::<S>))
        .route("/v1/ops", get(pull::<S>))
        .route("/v1/heads", get(heads::<S>))
        .route("/v1/keys", get(my_keys::<S>).post(put_keys::<S>))
        .route("/v1/enroll", post(enroll::<S>))
        .route("/v1/invites", post(invite::<S>))
        .route("/v1/devices", get(list_devices::<S>))
        .route("/v1/devices/{id}/approve", post(approve::<S>))
        .route("/v1/devices/{id}/revoke", post(revoke::<S>))
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
