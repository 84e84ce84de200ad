//! What the operations and upgrade tests share: the real `wardside-server` binary started on
//! 127.0.0.1, devices that enrol and sign requests as the app does, and fresh PostgreSQL
//! schemas to hold a test's database.
#![allow(clippy::unwrap_used, dead_code)]

use base64::Engine;
use reqwest::StatusCode;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::Mutex;
use uuid::Uuid;
use wardside_sync::codes::{code_token, root_binding, token_hash};
use wardside_sync::envelope::{ChainLink, hlc_device_part};
use wardside_sync::protocol::{
    Heads, PullResponse, PushRequest, PushResponse, RequestSigner, StoredOp, TrustLog, header,
};
use wardside_sync::trust::{Body, DeviceKeys, Statement, TrustState, key_id};
use wardside_sync::{DeviceSigningKey, Envelope, KeyId, Routing, TeamKey};

pub const BIN: &str = env!("CARGO_BIN_EXE_wardside-server");

pub fn b64(b: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(b)
}

pub fn unb64(s: &str) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD.decode(s).unwrap()
}

pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// `wardside-server --database DB ARGS...`, run to the end.
pub fn run(db: &str, args: &[&str]) -> Output {
    run_bin(BIN, db, args)
}

/// The same with another build of the server (an earlier release's, to freeze its fixtures).
pub fn run_bin(bin: &str, db: &str, args: &[&str]) -> Output {
    Command::new(bin)
        .arg("--database")
        .arg(db)
        .args(args)
        .output()
        .unwrap()
}

/// Its output, which must be a success.
pub fn run_ok(db: &str, args: &[&str]) -> String {
    let out = run(db, args);
    assert!(
        out.status.success(),
        "wardside-server {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The service running as its own process, stopped (SIGKILL) when dropped however the test
/// ends: a server left running would hold the test run's output open.
#[derive(Debug)]
pub struct Service {
    pub url: String,
    child: Child,
    pub log: PathBuf,
}

impl Service {
    /// Start `wardside-server --database DB --listen 127.0.0.1:PORT EXTRA...`, logging to
    /// `log`, and wait until `/healthz` answers.
    pub async fn start(db: &str, extra: &[&str], log: &Path) -> Service {
        Service::start_bin(BIN, db, extra, log).await
    }

    /// The same with another build of the server.
    pub async fn start_bin(bin: &str, db: &str, extra: &[&str], log: &Path) -> Service {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(bin)
            .args(["--database", db, "--listen", &format!("127.0.0.1:{port}")])
            .args(extra)
            .stdout(Stdio::null())
            .stderr(Stdio::from(std::fs::File::create(log).unwrap()))
            .spawn()
            .unwrap();
        let mut s = Service {
            url: format!("http://127.0.0.1:{port}"),
            child,
            log: log.to_owned(),
        };
        for _ in 0..200 {
            if reqwest::get(format!("{}/healthz", s.url)).await.is_ok() {
                return s;
            }
            if let Some(status) = s.child.try_wait().unwrap() {
                panic!(
                    "wardside-server exited ({status}): {}",
                    std::fs::read_to_string(log).unwrap_or_default()
                );
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("wardside-server did not start");
    }

    /// Stop it as systemd does (SIGTERM) and wait for it to finish.
    pub fn stop(mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A device as the app is one: its keys, its next sequence number and the last link of its
/// chain in its team.
#[derive(Debug)]
pub struct Dev {
    pub id: Uuid,
    pub org: Uuid,
    pub key: DeviceSigningKey,
    pub box_key: [u8; 32],
    pub team: TeamKey,
    pub next: Mutex<(u64, u64, [u8; 32])>,
}

impl Dev {
    pub fn new(id: Uuid, org: Uuid, key: DeviceSigningKey, team: TeamKey) -> Dev {
        Dev {
            id,
            org,
            key,
            box_key: [5; 32],
            team,
            next: Mutex::new((1, 1, [0; 32])),
        }
    }

    /// Enrol over HTTP with a one-time code (organisation or invitation); the team is the
    /// organisation's first, whose id is the organisation's.
    pub async fn enroll(url: &str, code: &str, team_key: Option<TeamKey>) -> Dev {
        Dev::enroll_with(url, code, team_key, [5; 32]).await
    }

    /// The same with the device's own X25519 public key.
    pub async fn enroll_with(
        url: &str,
        code: &str,
        team_key: Option<TeamKey>,
        box_key: [u8; 32],
    ) -> Dev {
        let key = DeviceSigningKey::generate().unwrap();
        let id = Uuid::new_v4();
        let (sign, boxk) = (b64(&key.public_key()), b64(&box_key));
        let token = b64(&code_token(code));
        let msg = wardside_sync::protocol::enroll_message(&token, id, &sign, &boxk);
        let proof = ring::signature::Ed25519KeyPair::from_pkcs8(key.pkcs8())
            .unwrap()
            .sign(&msg);
        let resp = reqwest::Client::new()
            .post(format!("{url}/v1/enroll"))
            .json(
                &serde_json::json!({"token": token, "device_id": id, "name": "Laptop",
                "sign_key": sign, "box_key": boxk, "proof": b64(proof.as_ref())}),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
        let body: serde_json::Value = resp.json().await.unwrap();
        let org: Uuid = body["org_id"].as_str().unwrap().parse().unwrap();
        let team = team_key.unwrap_or_else(|| {
            TeamKey::generate(KeyId {
                team_id: org,
                epoch: 1,
            })
            .unwrap()
        });
        let mut dev = Dev::new(id, org, key, team);
        dev.box_key = box_key;
        dev
    }

    pub fn keys(&self) -> DeviceKeys {
        DeviceKeys {
            device_id: self.id,
            sign_key: self.key.public_key(),
            box_key: self.box_key,
        }
    }

    /// This device's next op, sealed for its team.
    pub fn op(&self, content: &str) -> Envelope {
        let mut next = self.next.lock().unwrap();
        let (seq, link, prev) = *next;
        let env = Envelope::seal(
            Routing {
                org_id: self.org,
                team_id: self.team.id.team_id,
                case_id: Some(Uuid::new_v4()),
                entity: "note".into(),
                entity_id: Uuid::new_v4(),
                op_id: Uuid::new_v4(),
                device_id: self.id,
                device_seq: seq,
                hlc: format!("{:016}-0000-{}", now_ms(), hlc_device_part(&self.id)),
                kid: self.team.id,
                schema_v: 1,
                chain: Some(ChainLink { seq: link, prev }),
            },
            content.as_bytes(),
            &self.team,
            &self.key,
        )
        .unwrap();
        *next = (seq + 1, link + 1, env.hash32().unwrap());
        env
    }

    pub fn request(
        &self,
        method: reqwest::Method,
        url: &str,
        path: &str,
        body: Vec<u8>,
    ) -> reqwest::RequestBuilder {
        let h = RequestSigner {
            device_id: self.id,
            key: &self.key,
        }
        .sign(
            method.as_str(),
            path,
            &body,
            now_ms(),
            &Uuid::new_v4().simple().to_string(),
        );
        reqwest::Client::new()
            .request(method, format!("{url}{path}"))
            .header(header::DEVICE, h.device)
            .header(header::TIME, h.time)
            .header(header::NONCE, h.nonce)
            .header(header::SIGNATURE, h.signature)
            .body(body)
    }

    pub async fn post(
        &self,
        url: &str,
        path: &str,
        body: &impl serde::Serialize,
    ) -> reqwest::Response {
        self.request(
            reqwest::Method::POST,
            url,
            path,
            serde_json::to_vec(body).unwrap(),
        )
        .send()
        .await
        .unwrap()
    }

    pub async fn get<T: serde::de::DeserializeOwned>(&self, url: &str, path: &str) -> T {
        let resp = self
            .request(reqwest::Method::GET, url, path, Vec::new())
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK, "GET {path}");
        resp.json().await.unwrap()
    }

    pub async fn push(&self, url: &str, ops: Vec<Envelope>) -> PushResponse {
        let resp = self.post(url, "/v1/ops/push", &PushRequest { ops }).await;
        assert_eq!(resp.status(), StatusCode::OK);
        resp.json().await.unwrap()
    }

    /// Every op this device may see, page by page; the last page's reply.
    pub async fn pull_all(&self, url: &str) -> (Vec<StoredOp>, PullResponse) {
        let mut after = 0;
        let mut all = Vec::new();
        loop {
            let page: PullResponse = self
                .get(url, &format!("/v1/ops?after={after}&limit=50"))
                .await;
            all.extend(page.ops.iter().cloned());
            after = page.next_after;
            if !page.has_more {
                return (all, page);
            }
        }
    }

    pub async fn heads(&self, url: &str) -> Heads {
        self.get(url, "/v1/heads").await
    }

    pub async fn trust_log(&self, url: &str) -> TrustLog {
        self.get(url, "/v1/trust?after=0").await
    }
}

/// The first admin founds the organisation's trust log: genesis, then the team's first epoch.
pub async fn found(url: &str, admin: &Dev, name: &str) -> TrustState {
    let genesis = Statement {
        org_id: admin.org,
        seq: 1,
        prev: [0; 32],
        author: admin.id,
        at_ms: now_ms(),
        body: Body::Genesis {
            admin: admin.keys(),
            name: name.into(),
            recovery_key: [8; 32],
            teams: vec![admin.org],
        },
    }
    .sign(&admin.key);
    let mut state = TrustState::genesis(&genesis, admin.org, &admin.key.public_key()).unwrap();
    let resp = admin.post(url, "/v1/trust", &genesis).await;
    assert_eq!(resp.status(), StatusCode::OK);
    say(
        url,
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

/// An admin's statement, posted and accepted.
pub async fn say(url: &str, by: &Dev, state: &mut TrustState, body: Body) {
    let signed = state.next(by.id, now_ms(), body).sign(&by.key);
    let resp = by.post(url, "/v1/trust", &signed).await;
    assert_eq!(resp.status(), StatusCode::OK);
    state.apply(&signed).unwrap();
}

/// An invitation registered by an admin's device; the code the new device enrols with.
pub async fn invite(url: &str, admin: &Dev, state: &TrustState) -> String {
    let code = wardside_sync::codes::new_code(wardside_sync::codes::CodeKind::Invitation).unwrap();
    let root = state.root.sign_key;
    let resp = admin
        .post(
            url,
            "/v1/invites",
            &serde_json::json!({
                "token_hash": b64(&token_hash(&code_token(&code))),
                "root_key": b64(&root),
                "binding": b64(&root_binding(&code, admin.org, &root)),
            }),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    code
}

/// The PostgreSQL database the tests may use (`WARDSIDE_TEST_POSTGRES`, set by scripts/test.sh);
/// none outside CI skips, under CI it must be there.
pub fn postgres() -> Option<String> {
    match std::env::var("WARDSIDE_TEST_POSTGRES") {
        Ok(url) => Some(url),
        Err(_) => {
            assert!(
                std::env::var_os("CI").is_none(),
                "CI must run the PostgreSQL tests: set WARDSIDE_TEST_POSTGRES"
            );
            eprintln!(
                "PostgreSQL test skipped: set WARDSIDE_TEST_POSTGRES=postgres://... to run it"
            );
            None
        }
    }
}

/// `psql URL -c SQL`, which must succeed.
pub fn psql(url: &str, sql: &str) {
    let out = Command::new("psql")
        .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", url, "-c", sql])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "psql failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A database of its own on the test server (the test role may create databases): dropped
/// when this is dropped.
#[derive(Debug)]
pub struct PgDatabase {
    /// The test database's URL, for creating and dropping this one.
    pub admin: String,
    pub name: String,
}

impl PgDatabase {
    pub fn fresh(admin: &str) -> PgDatabase {
        let name = format!("wardside_t{}", Uuid::new_v4().simple());
        psql(admin, &format!("CREATE DATABASE {name}"));
        PgDatabase {
            admin: admin.to_owned(),
            name,
        }
    }

    /// Its URL: the test database's with this database's name.
    pub fn url(&self) -> String {
        let (path, query) = match self.admin.split_once('?') {
            Some((p, q)) => (p, format!("?{q}")),
            None => (self.admin.as_str(), String::new()),
        };
        let (server, _) = path.rsplit_once('/').unwrap();
        format!("{server}/{}{query}", self.name)
    }

    /// Drop it (a lost database) and make it again, empty.
    pub fn recreate_empty(&self) {
        assert!(self.drop_database(), "could not drop {}", self.name);
        psql(&self.admin, &format!("CREATE DATABASE {}", self.name));
    }

    /// Plain `DROP DATABASE` (PostgreSQL stops an autovacuum worker on it by itself; `WITH
    /// (FORCE)` would try to terminate it and is refused to a role that is not a superuser),
    /// tried again while closed connections are still going away.
    fn drop_database(&self) -> bool {
        for _ in 0..100 {
            let ok = Command::new("psql")
                .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", &self.admin, "-c"])
                .arg(format!("DROP DATABASE IF EXISTS {}", self.name))
                .output()
                .is_ok_and(|o| o.status.success());
            if ok {
                return true;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        false
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        self.drop_database();
    }
}
