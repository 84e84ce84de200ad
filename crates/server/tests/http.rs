//! The service over real HTTP on 127.0.0.1: signed requests, authorisation by routing
//! metadata, the trust log (the service acts on admins' statements and checks them as a device
//! would), revocation at once, replay, rate and size limits.
#![allow(clippy::unwrap_used)]

use base64::Engine;
use reqwest::StatusCode;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use uuid::Uuid;
use wardside_server::http::{AppState, metrics_router, now_ms, router};
use wardside_server::storage::sqlite::SqliteStorage;
use wardside_server::storage::{Device, DeviceChange, DeviceStatus, Storage};
use wardside_sync::codes::{code_token, root_binding, token_hash};
use wardside_sync::envelope::{ChainLink, hlc_device_part};
use wardside_sync::protocol::{
    KeyGrants, PullResponse, PushRequest, PushResponse, PushStatus, Rejection, RequestSigner,
    TrustLog, header,
};
use wardside_sync::trust::{Body, DeviceKeys, KeyGrant, Statement, TrustState, key_id};
use wardside_sync::{DeviceSigningKey, Envelope, KeyId, Routing, TeamKey};

fn b64(b: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(b)
}

struct Server {
    url: String,
    storage: SqliteStorage,
    dir: tempfile::TempDir,
}

async fn serve(storage: SqliteStorage, state: AppState<SqliteStorage>) -> String {
    let _ = storage;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let app = router(Arc::new(state));
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

async fn server() -> Server {
    let dir = tempfile::tempdir().unwrap();
    let storage = SqliteStorage::open(&dir.path().join("server.db")).unwrap();
    let url = serve(storage.clone(), AppState::new(storage.clone())).await;
    Server { url, storage, dir }
}

struct Dev {
    id: Uuid,
    org: Uuid,
    key: DeviceSigningKey,
    box_key: [u8; 32],
    team: TeamKey,
    /// The last link of this device's chain in its team.
    tip: Mutex<(u64, [u8; 32])>,
}

async fn approved_device(s: &Server, org: Uuid, team: &TeamKey) -> Dev {
    let key = DeviceSigningKey::generate().unwrap();
    let id = Uuid::new_v4();
    s.storage
        .add_device(Device {
            id,
            org_id: org,
            name: "laptop".into(),
            sign_key: key.public_key(),
            box_key: [0; 32],
            status: DeviceStatus::Approved,
            admin: false,
            teams: vec![team.id.team_id],
        })
        .await
        .unwrap();
    Dev::new(id, org, key, [0; 32], team.clone())
}

impl Dev {
    fn new(id: Uuid, org: Uuid, key: DeviceSigningKey, box_key: [u8; 32], team: TeamKey) -> Dev {
        Dev {
            id,
            org,
            key,
            box_key,
            team,
            tip: Mutex::new((0, [0; 32])),
        }
    }

    /// This device's next op in its chain.
    fn op(&self, seq: u64) -> Envelope {
        self.op_with(seq, b"sealed note text")
    }

    fn op_with(&self, seq: u64, content: &[u8]) -> Envelope {
        let (n, prev) = *self.tip.lock().unwrap();
        let env = Envelope::seal(
            Routing {
                org_id: self.org,
                team_id: self.team.id.team_id,
                case_id: None,
                entity: "note".into(),
                entity_id: Uuid::new_v4(),
                op_id: Uuid::new_v4(),
                device_id: self.id,
                device_seq: seq,
                hlc: format!("{:016}-0000-{}", now_ms(), hlc_device_part(&self.id)),
                kid: self.team.id,
                schema_v: 1,
                chain: Some(ChainLink { seq: n + 1, prev }),
            },
            content,
            &self.team,
            &self.key,
        )
        .unwrap();
        *self.tip.lock().unwrap() = (n + 1, env.hash32().unwrap());
        env
    }

    fn keys(&self) -> DeviceKeys {
        DeviceKeys {
            device_id: self.id,
            sign_key: self.key.public_key(),
            box_key: self.box_key,
        }
    }

    fn request(
        &self,
        client: &reqwest::Client,
        method: reqwest::Method,
        url: &str,
        path: &str,
        body: Vec<u8>,
        nonce: &str,
    ) -> reqwest::RequestBuilder {
        let h = RequestSigner {
            device_id: self.id,
            key: &self.key,
        }
        .sign(method.as_str(), path, &body, now_ms(), nonce);
        client
            .request(method, format!("{url}{path}"))
            .header(header::DEVICE, h.device)
            .header(header::TIME, h.time)
            .header(header::NONCE, h.nonce)
            .header(header::SIGNATURE, h.signature)
            .body(body)
    }

    async fn push(&self, s: &Server, ops: Vec<Envelope>) -> reqwest::Response {
        let body = serde_json::to_vec(&PushRequest { ops }).unwrap();
        self.request(
            &reqwest::Client::new(),
            reqwest::Method::POST,
            &s.url,
            "/v1/ops/push",
            body,
            &Uuid::new_v4().simple().to_string(),
        )
        .send()
        .await
        .unwrap()
    }

    /// A signed GET with a chosen nonce.
    async fn get(&self, s: &Server, path: &str, nonce: &str) -> reqwest::Response {
        self.request(
            &reqwest::Client::new(),
            reqwest::Method::GET,
            &s.url,
            path,
            Vec::new(),
            nonce,
        )
        .send()
        .await
        .unwrap()
    }

    async fn pull(&self, s: &Server, after: i64) -> reqwest::Response {
        let path = format!("/v1/ops?after={after}&limit=100");
        self.get(s, &path, &Uuid::new_v4().simple().to_string())
            .await
    }
}

async fn org_with_team(s: &Server) -> (Uuid, TeamKey) {
    let org = Uuid::new_v4();
    s.storage.create_org(org, "Org".into()).await.unwrap();
    let team = TeamKey::generate(KeyId {
        team_id: Uuid::new_v4(),
        epoch: 1,
    })
    .unwrap();
    (org, team)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_pushes_and_another_pulls_over_http() {
    let s = server().await;
    let (org, team) = org_with_team(&s).await;
    let a = approved_device(&s, org, &team).await;
    let b = approved_device(&s, org, &team).await;
    let resp = a.push(&s, vec![a.op(1), a.op(2)]).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let pushed: PushResponse = resp.json().await.unwrap();
    assert!(
        pushed
            .results
            .iter()
            .all(|r| r.status == PushStatus::Accepted)
    );
    let resp = b.pull(&s, 0).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let page: PullResponse = resp.json().await.unwrap();
    assert_eq!(page.ops.len(), 2);
    assert_eq!(
        page.ops[0]
            .envelope
            .open(&team, &a.key.public_key())
            .unwrap(),
        b"sealed note text"
    );
    let health = reqwest::get(format!("{}/healthz", s.url)).await.unwrap();
    assert_eq!(health.text().await.unwrap(), "ok");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unsigned_forged_replayed_and_revoked_requests_get_401_and_say_nothing_to_a_forger() {
    let s = server().await;
    let (org, team) = org_with_team(&s).await;
    let a = approved_device(&s, org, &team).await;
    let client = reqwest::Client::new();

    let unsigned = client
        .get(format!("{}/v1/heads", s.url))
        .send()
        .await
        .unwrap();
    assert_eq!(unsigned.status(), StatusCode::UNAUTHORIZED);

    // Signed with a key that is not the device's.
    let forger = Dev::new(
        a.id,
        org,
        DeviceSigningKey::generate().unwrap(),
        [0; 32],
        team.clone(),
    );
    assert_eq!(forger.pull(&s, 0).await.status(), StatusCode::UNAUTHORIZED);

    // The same nonce twice: the second is a replay. A nonce too long or odd is refused.
    let first = a.get(&s, "/v1/heads", "once").await;
    assert_eq!(first.status(), StatusCode::OK);
    let again = a.get(&s, "/v1/heads", "once").await;
    assert_eq!(again.status(), StatusCode::UNAUTHORIZED);
    let long = "n".repeat(60_000);
    assert_eq!(
        a.get(&s, "/v1/heads", &long).await.status(),
        StatusCode::UNAUTHORIZED
    );

    // Revoked (by a statement in the trust log): refused on the very next request. Whoever
    // cannot sign as the device learns nothing about it: the same answer as for any forgery.
    let root = DeviceSigningKey::generate().unwrap();
    let genesis = Statement {
        org_id: org,
        seq: 1,
        prev: [0; 32],
        author: Uuid::new_v4(),
        at_ms: 0,
        body: Body::Genesis {
            admin: DeviceKeys {
                device_id: Uuid::new_v4(),
                sign_key: root.public_key(),
                box_key: [1; 32],
            },
            name: "Org".into(),
            recovery_key: [2; 32],
            teams: vec![team.id.team_id],
        },
    }
    .sign(&root);
    s.storage
        .append_statement(
            org,
            1,
            serde_json::to_string(&genesis).unwrap(),
            DeviceChange::Revoke { device: a.id },
        )
        .await
        .unwrap();
    let resp = a.pull(&s, 0).await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    assert!(resp.text().await.unwrap().contains("revoked"));
    let resp = forger.pull(&s, 0).await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    let text = resp.text().await.unwrap();
    assert!(
        !text.contains("revoked") && !text.contains("approve"),
        "{text}"
    );
    // A revoked device may still read the trust log (to see an admin's revocation for itself).
    let log = a.get(&s, "/v1/trust?after=0", "t1").await;
    assert_eq!(log.status(), StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replayed_request_is_refused_after_the_service_restarts() {
    let s = server().await;
    let (org, team) = org_with_team(&s).await;
    let a = approved_device(&s, org, &team).await;
    let captured = a
        .request(
            &reqwest::Client::new(),
            reqwest::Method::GET,
            &s.url,
            "/v1/ops?after=0&limit=100",
            Vec::new(),
            "captured-once",
        )
        .build()
        .unwrap();
    let replay = captured.try_clone().unwrap();
    let client = reqwest::Client::new();
    assert_eq!(
        client.execute(captured).await.unwrap().status(),
        StatusCode::OK
    );
    // The same storage behind a new service (a restart): the nonce is still spent.
    let storage = SqliteStorage::open(&s.dir.path().join("server.db")).unwrap();
    let url = serve(storage.clone(), AppState::new(storage)).await;
    let mut replay = replay;
    *replay.url_mut() = format!("{url}/v1/ops?after=0&limit=100").parse().unwrap();
    assert_eq!(
        client.execute(replay).await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_that_asks_too_often_is_told_to_slow_down() {
    let dir = tempfile::tempdir().unwrap();
    let storage = SqliteStorage::open(&dir.path().join("server.db")).unwrap();
    let url = serve(storage.clone(), AppState::with_rate(storage.clone(), 1, 3)).await;
    let s = Server { url, storage, dir };
    let (org, team) = org_with_team(&s).await;
    let a = approved_device(&s, org, &team).await;
    let b = approved_device(&s, org, &team).await;
    let mut codes = Vec::new();
    for _ in 0..6 {
        codes.push(a.pull(&s, 0).await.status());
    }
    assert_eq!(codes[..3], [StatusCode::OK; 3]);
    assert!(
        codes[3..].contains(&StatusCode::TOO_MANY_REQUESTS),
        "{codes:?}"
    );
    // Another device has its own allowance.
    assert_eq!(b.pull(&s, 0).await.status(), StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_pushes_only_ops_their_author_signed_for_its_own_teams() {
    let s = server().await;
    let (org, team) = org_with_team(&s).await;
    let a = approved_device(&s, org, &team).await;
    let b = approved_device(&s, org, &team).await;
    // An op naming b, signed by a: refused, never stored.
    let forged = Dev::new(
        b.id,
        org,
        DeviceSigningKey::from_pkcs8(a.key.pkcs8()).unwrap(),
        [0; 32],
        team.clone(),
    );
    let r: PushResponse = a.push(&s, vec![forged.op(1)]).await.json().await.unwrap();
    assert_eq!(r.results[0].rejection, Some(Rejection::BadEnvelope));
    // An op naming a device this service does not know: refused.
    let stranger = Dev::new(
        Uuid::new_v4(),
        org,
        DeviceSigningKey::generate().unwrap(),
        [0; 32],
        team.clone(),
    );
    let r: PushResponse = a.push(&s, vec![stranger.op(1)]).await.json().await.unwrap();
    assert_eq!(r.results[0].rejection, Some(Rejection::Forbidden));
    let page: PullResponse = b.pull(&s, 0).await.json().await.unwrap();
    assert!(page.ops.is_empty(), "nothing forged was stored");
    // b's own op, signed by b, handed back by a (after a restore lost it): taken, and b's own
    // push of the same op is then a duplicate.
    let genuine = b.op(1);
    let r: PushResponse = a
        .push(&s, vec![genuine.clone()])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(r.results[0].status, PushStatus::Accepted, "{r:?}");
    let r: PushResponse = b.push(&s, vec![genuine]).await.json().await.unwrap();
    assert_eq!(r.results[0].status, PushStatus::Duplicate, "{r:?}");
    // An op for a team a is not in.
    let (_, other) = org_with_team(&s).await;
    let outsider = Dev::new(
        a.id,
        org,
        DeviceSigningKey::from_pkcs8(a.key.pkcs8()).unwrap(),
        [0; 32],
        other,
    );
    let r: PushResponse = a.push(&s, vec![outsider.op(1)]).await.json().await.unwrap();
    assert_eq!(r.results[0].rejection, Some(Rejection::Forbidden));
    // Nothing more was stored.
    let page: PullResponse = b.pull(&s, 0).await.json().await.unwrap();
    assert_eq!(page.ops.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_conflicting_repush_is_409_and_bad_bodies_are_refused() {
    let s = server().await;
    let (org, team) = org_with_team(&s).await;
    let a = approved_device(&s, org, &team).await;
    assert_eq!(a.push(&s, vec![a.op(1)]).await.status(), StatusCode::OK);
    // Sequence 1 again with other content.
    *a.tip.lock().unwrap() = (0, [0; 32]);
    let resp = a.push(&s, vec![a.op_with(1, b"other")]).await;
    assert_eq!(resp.status(), StatusCode::CONFLICT);
    let r: PushResponse = resp.json().await.unwrap();
    assert_eq!(r.results[0].rejection, Some(Rejection::SeqConflict));

    let client = reqwest::Client::new();
    let bad = a
        .request(
            &client,
            reqwest::Method::POST,
            &s.url,
            "/v1/ops/push",
            b"{not json".to_vec(),
            "n1",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    let huge = vec![b' '; wardside_sync::protocol::MAX_BODY_BYTES + 1];
    let big = a
        .request(
            &client,
            reqwest::Method::POST,
            &s.url,
            "/v1/ops/push",
            huge,
            "n2",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(big.status(), StatusCode::PAYLOAD_TOO_LARGE);
}

/// Enrol a new device over HTTP with `code`, as a device would (it sends the code's token).
async fn enroll(s: &Server, code: &str) -> (reqwest::StatusCode, serde_json::Value, Dev) {
    let key = DeviceSigningKey::generate().unwrap();
    let id = Uuid::new_v4();
    let box_key = [5u8; 32];
    let (sign, boxk) = (b64(&key.public_key()), b64(&box_key));
    let token = b64(&code_token(code));
    let msg = wardside_sync::protocol::enroll_message(&token, id, &sign, &boxk);
    let proof = ring::signature::Ed25519KeyPair::from_pkcs8(key.pkcs8())
        .unwrap()
        .sign(&msg);
    let resp = reqwest::Client::new()
        .post(format!("{}/v1/enroll", s.url))
        .json(
            &serde_json::json!({"token": token, "device_id": id, "name": "Ann's laptop\u{1b}[2J",
            "sign_key": sign, "box_key": boxk, "proof": b64(proof.as_ref())}),
        )
        .send()
        .await
        .unwrap();
    let status = resp.status();
    let body: serde_json::Value = resp.json().await.unwrap_or_default();
    let org = body["org_id"]
        .as_str()
        .and_then(|o| o.parse().ok())
        .unwrap_or_default();
    let team = TeamKey::generate(KeyId {
        team_id: org,
        epoch: 1,
    })
    .unwrap();
    (status, body, Dev::new(id, org, key, box_key, team))
}

async fn signed_post(
    dev: &Dev,
    s: &Server,
    path: &str,
    body: serde_json::Value,
) -> reqwest::Response {
    dev.request(
        &reqwest::Client::new(),
        reqwest::Method::POST,
        &s.url,
        path,
        serde_json::to_vec(&body).unwrap(),
        &Uuid::new_v4().simple().to_string(),
    )
    .send()
    .await
    .unwrap()
}

/// The first admin founds the organisation's trust log: genesis, then the team's first epoch.
async fn found(s: &Server, admin: &Dev) -> TrustState {
    let genesis = Statement {
        org_id: admin.org,
        seq: 1,
        prev: [0; 32],
        author: admin.id,
        at_ms: now_ms(),
        body: Body::Genesis {
            admin: admin.keys(),
            name: "Riverside Advocacy".into(),
            recovery_key: [8; 32],
            teams: vec![admin.org],
        },
    }
    .sign(&admin.key);
    let mut state = TrustState::genesis(&genesis, admin.org, &admin.key.public_key()).unwrap();
    let resp = signed_post(
        admin,
        s,
        "/v1/trust",
        serde_json::to_value(&genesis).unwrap(),
    )
    .await;
    assert_eq!(
        resp.status(),
        StatusCode::OK,
        "{}",
        resp.text().await.unwrap()
    );
    say(
        s,
        admin,
        &mut state,
        Body::TeamEpoch {
            team: admin.org,
            epoch: 1,
            key_id: key_id(admin.org, &admin.team),
        },
    )
    .await;
    state
}

/// An admin's statement, posted; the status the service answered.
async fn try_say(s: &Server, by: &Dev, state: &mut TrustState, body: Body) -> StatusCode {
    let signed = state.next(by.id, now_ms(), body).sign(&by.key);
    let resp = signed_post(by, s, "/v1/trust", serde_json::to_value(&signed).unwrap()).await;
    let status = resp.status();
    if status == StatusCode::OK {
        state.apply(&signed).unwrap();
    }
    status
}

async fn say(s: &Server, by: &Dev, state: &mut TrustState, body: Body) {
    assert_eq!(try_say(s, by, state, body).await, StatusCode::OK);
}

/// An invitation registered by the admin's device: the code's token hash, the root and the
/// binding only the code's holder can check.
async fn invite(s: &Server, admin: &Dev, state: &TrustState) -> String {
    let code = wardside_sync::codes::new_code(wardside_sync::codes::CodeKind::Invitation).unwrap();
    let root = state.root.sign_key;
    let resp = signed_post(
        admin,
        s,
        "/v1/invites",
        serde_json::json!({
            "token_hash": b64(&token_hash(&code_token(&code))),
            "root_key": b64(&root),
            "binding": b64(&root_binding(&code, admin.org, &root)),
        }),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::OK);
    code
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enrolment_invitation_and_approval_and_revocation_by_signed_statements() {
    let s = server().await;
    let org = wardside_server::init_org(&s.storage, "Riverside Advocacy")
        .await
        .unwrap();

    // The first device becomes the admin, approved at once; the code then is spent.
    let (status, body, admin) = enroll(&s, &org.enrolment_code.to_lowercase()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "approved");
    assert_eq!(body["admin"], true);
    assert_eq!(body["fingerprint"].as_str().unwrap().len(), 19);
    assert!(body.get("root_key").is_none());
    let (again, _, _) = enroll(&s, &org.enrolment_code).await;
    assert_eq!(again, StatusCode::FORBIDDEN);
    let mut state = found(&s, &admin).await;

    // The admin's device makes an invitation; the new laptop enrols as pending, with proof of
    // the organisation's root that only the code's holder can check.
    let code = invite(&s, &admin, &state).await;
    let (status, body, laptop) = enroll(&s, &code).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["status"], "pending");
    let root: [u8; 32] = base64::engine::general_purpose::STANDARD
        .decode(body["root_key"].as_str().unwrap())
        .unwrap()
        .try_into()
        .unwrap();
    let binding = base64::engine::general_purpose::STANDARD
        .decode(body["binding"].as_str().unwrap())
        .unwrap();
    assert_eq!(root, admin.key.public_key());
    assert!(wardside_sync::codes::check_root_binding(
        &code, admin.org, &root, &binding
    ));
    assert_eq!(laptop.pull(&s, 0).await.status(), StatusCode::UNAUTHORIZED);
    // Its name arrived without the terminal escape.
    let list = admin
        .get(&s, "/v1/devices", "d1")
        .await
        .text()
        .await
        .unwrap();
    assert!(!list.contains('\u{1b}'), "{list}");

    // An approval naming keys other than the pending device's is refused; the real one is kept
    // and acted on.
    let mut swapped = laptop.keys();
    swapped.box_key = [6; 32];
    let refused = try_say(
        &s,
        &admin,
        &mut state,
        Body::Approve {
            device: swapped,
            name: "Laptop".into(),
            admin: false,
            teams: vec![admin.org],
        },
    )
    .await;
    assert_eq!(refused, StatusCode::BAD_REQUEST);
    say(
        &s,
        &admin,
        &mut state,
        Body::Approve {
            device: laptop.keys(),
            name: "Laptop".into(),
            admin: false,
            teams: vec![admin.org],
        },
    )
    .await;
    assert_eq!(laptop.pull(&s, 0).await.status(), StatusCode::OK);
    // Every enrolled device reads the same log, and it checks from the pinned root.
    let log: TrustLog = laptop
        .get(&s, "/v1/trust?after=0", "t1")
        .await
        .json()
        .await
        .unwrap();
    let folded = TrustState::from_log(&log.statements, admin.org, &root).unwrap();
    assert_eq!(folded, state);
    // A member that is not an admin may not invite or make statements.
    let denied = signed_post(&laptop, &s, "/v1/invites", serde_json::json!({})).await;
    assert_eq!(denied.status(), StatusCode::FORBIDDEN);
    let mut laptops_view = state.clone();
    assert_eq!(
        try_say(
            &s,
            &laptop,
            &mut laptops_view,
            Body::Revoke {
                device: admin.id,
                cutoffs: BTreeMap::new()
            }
        )
        .await,
        StatusCode::FORBIDDEN
    );
    // A statement that does not follow the head is a conflict; a forged signature is refused.
    let mut stale = state.clone();
    stale.seq -= 1;
    let behind = stale
        .next(
            admin.id,
            now_ms(),
            Body::Revoke {
                device: laptop.id,
                cutoffs: BTreeMap::new(),
            },
        )
        .sign(&admin.key);
    let resp = signed_post(
        &admin,
        &s,
        "/v1/trust",
        serde_json::to_value(&behind).unwrap(),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::CONFLICT);
    let mut forged = state
        .next(
            admin.id,
            now_ms(),
            Body::Revoke {
                device: laptop.id,
                cutoffs: BTreeMap::new(),
            },
        )
        .sign(&admin.key);
    forged.signature[0] ^= 1;
    let resp = signed_post(
        &admin,
        &s,
        "/v1/trust",
        serde_json::to_value(&forged).unwrap(),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);

    // The laptop sends two ops; a revocation that cuts it off before them is refused (devices
    // that have them would disagree with those that do not); one that keeps them is taken, and
    // the laptop is refused from its next request.
    let laptop = Dev::new(
        laptop.id,
        laptop.org,
        laptop.key,
        laptop.box_key,
        admin.team.clone(),
    );
    assert_eq!(
        laptop
            .push(&s, vec![laptop.op(1), laptop.op(2)])
            .await
            .status(),
        StatusCode::OK
    );
    let too_early = try_say(
        &s,
        &admin,
        &mut state,
        Body::Revoke {
            device: laptop.id,
            cutoffs: BTreeMap::from([(admin.org, 1)]),
        },
    )
    .await;
    assert_eq!(too_early, StatusCode::CONFLICT);
    say(
        &s,
        &admin,
        &mut state,
        Body::Revoke {
            device: laptop.id,
            cutoffs: BTreeMap::from([(admin.org, 2)]),
        },
    )
    .await;
    assert_eq!(laptop.pull(&s, 0).await.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_first_admin_can_found_the_log_with_its_own_keys() {
    let s = server().await;
    let org = wardside_server::init_org(&s.storage, "Org").await.unwrap();
    let (_, _, admin) = enroll(&s, &org.enrolment_code).await;
    // A genesis naming other keys than the admin's own is refused.
    let other = DeviceSigningKey::generate().unwrap();
    let genesis = Statement {
        org_id: admin.org,
        seq: 1,
        prev: [0; 32],
        author: admin.id,
        at_ms: 0,
        body: Body::Genesis {
            admin: DeviceKeys {
                device_id: admin.id,
                sign_key: other.public_key(),
                box_key: admin.box_key,
            },
            name: "Org".into(),
            recovery_key: [8; 32],
            teams: vec![admin.org],
        },
    }
    .sign(&other);
    let resp = signed_post(
        &admin,
        &s,
        "/v1/trust",
        serde_json::to_value(&genesis).unwrap(),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    found(&s, &admin).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_enrolment_without_proof_of_the_key_is_refused() {
    let s = server().await;
    let org = wardside_server::init_org(&s.storage, "Org").await.unwrap();
    let resp = reqwest::Client::new()
        .post(format!("{}/v1/enroll", s.url))
        .json(&serde_json::json!({"token": b64(&code_token(&org.enrolment_code)), "device_id": Uuid::new_v4(), "name": "x",
            "sign_key": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", "box_key": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
            "proof": "AAAA"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    // The code was not spent by the failed attempt.
    let (status, _, _) = enroll(&s, &org.enrolment_code).await;
    assert_eq!(status, StatusCode::OK);
}

#[test]
fn init_org_prints_the_org_and_its_first_code_as_json() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("s.db").display());
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_wardside-server"))
        .args([
            "--database",
            &db,
            "init-org",
            "--name",
            "Riverside Advocacy",
            "--json",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v["org_id"].as_str().unwrap().parse::<Uuid>().is_ok());
    let code = v["enrolment_code"].as_str().unwrap();
    assert_eq!(code.len(), 24);
    assert_eq!(
        wardside_sync::codes::code_kind(code),
        Some(wardside_sync::codes::CodeKind::Organisation)
    );
    let bad = std::process::Command::new(env!("CARGO_BIN_EXE_wardside-server"))
        .args(["--database", "mysql://nowhere", "init-org", "--name", "x"])
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("sqlite:// or postgres://"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_are_on_their_own_listener_and_count_requests_and_ops() {
    let dir = tempfile::tempdir().unwrap();
    let storage = SqliteStorage::open(&dir.path().join("server.db")).unwrap();
    let state = Arc::new(AppState::new(storage.clone()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let app = router(state.clone());
    tokio::spawn(async move { axum::serve(listener, app).await });
    let metrics = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let metrics_url = format!("http://{}/metrics", metrics.local_addr().unwrap());
    let m = metrics_router(state);
    tokio::spawn(async move { axum::serve(metrics, m).await });
    let s = Server { url, storage, dir };
    let (org, team) = org_with_team(&s).await;
    let a = approved_device(&s, org, &team).await;
    a.push(&s, vec![a.op(1), a.op(2)]).await;
    *a.tip.lock().unwrap() = (0, [0; 32]);
    a.push(&s, vec![a.op_with(1, b"other")]).await; // seq 1 with other content: a conflict
    a.pull(&s, 0).await;
    // Not on the address devices reach.
    let on_main = reqwest::get(format!("{}/metrics", s.url)).await.unwrap();
    assert_eq!(on_main.status(), StatusCode::NOT_FOUND);
    let text = reqwest::get(&metrics_url)
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        text.contains(r#"wardside_ops_pushed_total{result="accepted"} 2"#),
        "{text}"
    );
    assert!(
        text.contains(r#"wardside_ops_pushed_total{result="rejected"} 1"#),
        "{text}"
    );
    assert!(text.contains("wardside_ops_pulled_total 2"), "{text}");
    assert!(
        text.contains(r#"wardside_requests_total{route="/v1/ops/push",status="409"} 1"#),
        "{text}"
    );
    // Labels are routes, never ids.
    assert!(!text.contains(&a.id.to_string()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_running_binary_logs_requests_but_never_content() {
    use std::process::{Command, Stdio};
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("s.db").display());
    let bin = env!("CARGO_BIN_EXE_wardside-server");
    let out = Command::new(bin)
        .args(["--database", &db, "init-org", "--name", "Org", "--json"])
        .output()
        .unwrap();
    let org: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let log = std::fs::File::create(dir.path().join("server.log")).unwrap();
    // Killed when the test ends, however it ends (a server left running would hold the test
    // run's output open).
    struct Running(std::process::Child);
    impl Drop for Running {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let mut child = Running(
        Command::new(bin)
            .args(["--database", &db, "--listen", &format!("127.0.0.1:{port}")])
            .stdout(Stdio::null())
            .stderr(Stdio::from(log))
            .spawn()
            .unwrap(),
    );
    let s = Server {
        url: format!("http://127.0.0.1:{port}"),
        storage: SqliteStorage::open(&dir.path().join("unused.db")).unwrap(),
        dir: tempfile::tempdir().unwrap(),
    };
    for _ in 0..100 {
        if reqwest::get(format!("{}/healthz", s.url)).await.is_ok() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let (status, _, admin) = enroll(&s, org["enrolment_code"].as_str().unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    let canary = "CANARYLOG she wants escorted leave";
    let resp = admin
        .push(&s, vec![admin.op_with(1, canary.as_bytes())])
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(admin.pull(&s, 0).await.status(), StatusCode::OK);
    child.0.kill().unwrap();
    child.0.wait().unwrap();
    let log = std::fs::read_to_string(dir.path().join("server.log")).unwrap();
    assert!(log.contains("/v1/ops/push"), "{log}");
    for f in std::fs::read_dir(dir.path()).unwrap().flatten() {
        let bytes = std::fs::read(f.path()).unwrap();
        assert!(
            !bytes.windows(9).any(|w| w == b"CANARYLOG"),
            "{} holds the note's text",
            f.path().display()
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_grants_the_team_key_to_a_device_and_only_that_device_gets_it() {
    use wardside_sync::wrap::{BoxSecret, unwrap, wrap};
    let s = server().await;
    let org = wardside_server::init_org(&s.storage, "Org").await.unwrap();
    let (_, _, admin) = enroll(&s, &org.enrolment_code).await;
    let mut state = found(&s, &admin).await;
    let code = invite(&s, &admin, &state).await;
    let (_, _, laptop) = enroll(&s, &code).await;
    say(
        &s,
        &admin,
        &mut state,
        Body::Approve {
            device: laptop.keys(),
            name: "Laptop".into(),
            admin: false,
            teams: vec![admin.org],
        },
    )
    .await;
    // The enroll helper registered [5; 32] as the laptop's X25519 key: wrap to a fresh secret
    // and check the laptop receives exactly that grant.
    let secret = BoxSecret::generate().unwrap();
    let team = admin.team.clone();
    let g = KeyGrant::sign(
        admin.org,
        wrap(&team, laptop.id, &secret.public_key()).unwrap(),
        &team,
        admin.id,
        &admin.key,
    );
    let put = signed_post(&admin, &s, "/v1/keys", serde_json::json!({ "grants": [g] })).await;
    assert_eq!(put.status(), StatusCode::NO_CONTENT);
    let got: KeyGrants = laptop.get(&s, "/v1/keys", "k1").await.json().await.unwrap();
    assert_eq!(got.grants.len(), 1);
    state.check_grant(&got.grants[0], laptop.id).unwrap();
    assert_eq!(
        unwrap(&got.grants[0].wrap, laptop.id, &secret).unwrap().id,
        team.id
    );
    // The admin's own list is empty; a non-admin may not store grants; an admin stores only
    // grants it signed, of its own teams.
    let mine: KeyGrants = admin.get(&s, "/v1/keys", "k2").await.json().await.unwrap();
    assert!(mine.grants.is_empty());
    let denied = signed_post(&laptop, &s, "/v1/keys", serde_json::json!({ "grants": [] })).await;
    assert_eq!(denied.status(), StatusCode::FORBIDDEN);
    let by_another = KeyGrant::sign(
        admin.org,
        wrap(&team, laptop.id, &secret.public_key()).unwrap(),
        &team,
        laptop.id,
        &laptop.key,
    );
    let refused = signed_post(
        &admin,
        &s,
        "/v1/keys",
        serde_json::json!({ "grants": [by_another] }),
    )
    .await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let stranger_team = TeamKey::generate(KeyId {
        team_id: Uuid::new_v4(),
        epoch: 1,
    })
    .unwrap();
    let g = KeyGrant::sign(
        admin.org,
        wrap(&stranger_team, laptop.id, &secret.public_key()).unwrap(),
        &stranger_team,
        admin.id,
        &admin.key,
    );
    let refused = signed_post(&admin, &s, "/v1/keys", serde_json::json!({ "grants": [g] })).await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
}
