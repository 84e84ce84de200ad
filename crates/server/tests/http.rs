//! The service over real HTTP on 127.0.0.1: signed requests, authorisation by routing
//! metadata, revocation at once, replay and size limits.
#![allow(clippy::unwrap_used)]

use reqwest::StatusCode;
use std::sync::Arc;
use uuid::Uuid;
use wardside_server::http::{AppState, now_ms, router};
use wardside_server::storage::sqlite::SqliteStorage;
use wardside_server::storage::{Device, DeviceStatus, Storage};
use wardside_sync::protocol::{
    PullResponse, PushRequest, PushResponse, PushStatus, Rejection, RequestSigner, header,
};
use wardside_sync::{DeviceSigningKey, Envelope, KeyId, Routing, TeamKey};

struct Server {
    url: String,
    storage: SqliteStorage,
    _dir: tempfile::TempDir,
}

async fn server() -> Server {
    let dir = tempfile::tempdir().unwrap();
    let storage = SqliteStorage::open(&dir.path().join("server.db")).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let app = router(Arc::new(AppState::new(storage.clone())));
    tokio::spawn(async move { axum::serve(listener, app).await });
    Server {
        url,
        storage,
        _dir: dir,
    }
}

struct Dev {
    id: Uuid,
    org: Uuid,
    key: DeviceSigningKey,
    team: TeamKey,
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
    Dev {
        id,
        org,
        key,
        team: team.clone(),
    }
}

impl Dev {
    fn op(&self, seq: u64) -> Envelope {
        Envelope::seal(
            Routing {
                org_id: self.org,
                team_id: self.team.id.team_id,
                case_id: None,
                entity: "note".into(),
                entity_id: Uuid::new_v4(),
                op_id: Uuid::new_v4(),
                device_id: self.id,
                device_seq: seq,
                hlc: format!("{:016}-0000-dev", now_ms()),
                kid: self.team.id,
                schema_v: 1,
            },
            b"sealed note text",
            &self.team,
            &self.key,
        )
        .unwrap()
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
            &Uuid::new_v4().to_string(),
        )
        .send()
        .await
        .unwrap()
    }

    async fn pull(&self, s: &Server, after: i64) -> reqwest::Response {
        self.request(
            &reqwest::Client::new(),
            reqwest::Method::GET,
            &s.url,
            &format!("/v1/ops?after={after}&limit=100"),
            Vec::new(),
            &Uuid::new_v4().to_string(),
        )
        .send()
        .await
        .unwrap()
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
async fn unsigned_forged_replayed_and_revoked_requests_get_401() {
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
    let forger = Dev {
        id: a.id,
        org,
        key: DeviceSigningKey::generate().unwrap(),
        team: team.clone(),
    };
    assert_eq!(forger.pull(&s, 0).await.status(), StatusCode::UNAUTHORIZED);

    // The same nonce twice: the second is a replay.
    let first = a
        .request(
            &client,
            reqwest::Method::GET,
            &s.url,
            "/v1/heads",
            vec![],
            "once",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(first.status(), StatusCode::OK);
    let again = a
        .request(
            &client,
            reqwest::Method::GET,
            &s.url,
            "/v1/heads",
            vec![],
            "once",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::UNAUTHORIZED);

    // Revoked: refused on the very next request.
    s.storage
        .set_device_status(a.id, DeviceStatus::Revoked)
        .await
        .unwrap();
    assert_eq!(a.pull(&s, 0).await.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_pushes_only_its_own_ops_to_its_own_teams() {
    let s = server().await;
    let (org, team) = org_with_team(&s).await;
    let a = approved_device(&s, org, &team).await;
    let b = approved_device(&s, org, &team).await;
    // An op of b's, pushed by a.
    let resp = a.push(&s, vec![b.op(1)]).await;
    let r: PushResponse = resp.json().await.unwrap();
    assert_eq!(r.results[0].rejection, Some(Rejection::Forbidden));
    // An op for a team a is not in.
    let (_, other) = org_with_team(&s).await;
    let outsider = Dev {
        id: a.id,
        org,
        key: DeviceSigningKey::from_pkcs8(a.key.pkcs8()).unwrap(),
        team: other,
    };
    let r: PushResponse = a.push(&s, vec![outsider.op(1)]).await.json().await.unwrap();
    assert_eq!(r.results[0].rejection, Some(Rejection::Forbidden));
    // Nothing was stored.
    let page: PullResponse = b.pull(&s, 0).await.json().await.unwrap();
    assert!(page.ops.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_conflicting_repush_is_409_and_bad_bodies_are_refused() {
    let s = server().await;
    let (org, team) = org_with_team(&s).await;
    let a = approved_device(&s, org, &team).await;
    assert_eq!(a.push(&s, vec![a.op(1)]).await.status(), StatusCode::OK);
    // Sequence 1 again with other content.
    let resp = a.push(&s, vec![a.op(1)]).await;
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
