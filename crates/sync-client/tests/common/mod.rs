//! The sync test harness (sync.md §9): a real `wardside-server` (the binary's router and
//! storage) on 127.0.0.1, behind a fault-injecting layer that can fail a request with 503 before
//! it reaches the service, let it commit and then drop the reply, cut a reply's body half way,
//! add latency, and restart the server on the same port and storage. Devices are real SQLCipher
//! stores in temporary directories.
#![allow(clippy::unwrap_used, dead_code)]

use axum::body::Body;
use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use uuid::Uuid;
use wardside_domain::*;
use wardside_server::http::{AppState, router};
use wardside_server::storage::Storage;
use wardside_server::storage::postgres::PostgresStorage;
use wardside_server::storage::sqlite::SqliteStorage;
use wardside_store::{KdfParams, Passphrase, Store, Tuning};
use wardside_sync_client::{Options, Retry};

pub const FAST: KdfParams = KdfParams {
    m_kib: 256,
    t: 1,
    p: 1,
};

/// One fault, applied to the next matching request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// 503 before the service sees the request: nothing committed.
    Unavailable,
    /// The service commits, then the connection drops before any reply byte.
    DropReply,
    /// The service commits, then the reply stops half way.
    CutBody,
    /// Wait this long first.
    Latency(u64),
    /// 413 without reading the request.
    TooLarge,
    /// Alter a pull page the way a compromised service might.
    Tamper(Tamper),
    /// Answer `GET /v1/keys` with no grants (a service withholding a key).
    EmptyKeys,
    /// Answer with this status and `{"error": text}`, without asking the service (whoever
    /// answers at its address: "this device was revoked", say).
    Respond(u16, &'static str),
    /// Answer a pull with no ops, the same cursor, and "more" (a service keeping a sync busy).
    StallPull,
    /// Hand a pull page's ops out in reverse order.
    ReversePage,
    /// Answer a push "accepted" for every op without storing any, at places in the log from
    /// this one on (acknowledgements are not proof).
    FakeAck(i64),
    /// Answer the heads check saying every device has 1,000 more ops in its chain than stored.
    InflateHeads,
    /// Change the name in the trust log's last statement (its signature then fails).
    AlterLastStatement,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tamper {
    /// Swap the ciphertexts of the page's first two ops.
    SwapCiphertexts,
    /// Move the first op's HLC.
    ChangeHlc,
    /// Hand out the first op again under a sequence number it never had.
    ReplayUnderNewSeq,
    /// Cut the first op's ciphertext short.
    Truncate,
}

fn tamper(page: &mut wardside_sync::protocol::PullResponse, how: Tamper) {
    let ops = &mut page.ops;
    match how {
        Tamper::SwapCiphertexts => {
            let a = ops[0].envelope.ciphertext.clone();
            ops[0].envelope.ciphertext = ops[1].envelope.ciphertext.clone();
            ops[1].envelope.ciphertext = a;
        }
        Tamper::ChangeHlc => ops[0].envelope.routing.hlc = format!("{:016}-0000-ffff", 1u64),
        Tamper::ReplayUnderNewSeq => {
            let mut again = ops[0].clone();
            again.envelope.routing.device_seq += 1000;
            ops.push(again);
        }
        Tamper::Truncate => {
            let c = &mut ops[0].envelope.ciphertext;
            c.truncate(c.len() / 2);
        }
    }
}

#[derive(Debug, Default)]
pub struct FaultPlan {
    /// Faults for the next requests whose path starts with the prefix, in order.
    pub scripted: Vec<(String, Fault)>,
    /// Random faults: each `/v1` request fails with this probability (one of the three failure
    /// kinds, chosen by the seeded generator).
    pub chaos: Option<(f64, ChaCha8Rng)>,
    /// Requests seen, by path prefix of interest.
    pub seen: Vec<String>,
    /// Every request and reply body, when `capture` is on (the canary test reads the wire).
    pub capture: bool,
    pub wire: Vec<u8>,
}

impl FaultPlan {
    fn take(&mut self, path: &str) -> Option<Fault> {
        self.seen.push(path.to_owned());
        if let Some(i) = self
            .scripted
            .iter()
            .position(|(p, _)| path.starts_with(p.as_str()))
        {
            return Some(self.scripted.remove(i).1);
        }
        if let Some((p, rng)) = &mut self.chaos
            && path.starts_with("/v1")
            && rng.random_bool(*p)
        {
            return Some(match rng.random_range(0..3) {
                0 => Fault::Unavailable,
                1 => Fault::DropReply,
                _ => Fault::CutBody,
            });
        }
        None
    }
}

async fn fault_layer(
    axum::extract::State(plan): axum::extract::State<Arc<Mutex<FaultPlan>>>,
    req: Request,
    next: Next,
) -> Response {
    let fault = plan.lock().unwrap().take(req.uri().path());
    let capture = plan.lock().unwrap().capture;
    let (req, resp) = if capture && fault.is_none() {
        let (parts, body) = req.into_parts();
        let bytes = axum::body::to_bytes(body, usize::MAX).await.unwrap();
        plan.lock().unwrap().wire.extend_from_slice(&bytes);
        (Request::from_parts(parts, Body::from(bytes)), true)
    } else {
        (req, false)
    };
    if resp {
        let (parts, body) = next.run(req).await.into_parts();
        let bytes = axum::body::to_bytes(body, usize::MAX).await.unwrap();
        plan.lock().unwrap().wire.extend_from_slice(&bytes);
        return Response::from_parts(parts, Body::from(bytes));
    }
    let json_reply = |status: u16, body: Vec<u8>| {
        Response::builder()
            .status(status)
            .header("content-type", "application/json")
            .body(Body::from(body))
            .unwrap()
    };
    // Run the request, then change the JSON reply.
    async fn rewrite(req: Request, next: Next, f: impl FnOnce(&mut serde_json::Value)) -> Response {
        let (mut parts, body) = next.run(req).await.into_parts();
        let bytes = axum::body::to_bytes(body, usize::MAX).await.unwrap();
        let mut v: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_default();
        f(&mut v);
        parts.headers.remove(axum::http::header::CONTENT_LENGTH);
        Response::from_parts(parts, Body::from(serde_json::to_vec(&v).unwrap()))
    }
    match fault {
        None => next.run(req).await,
        Some(Fault::Respond(status, text)) => json_reply(
            status,
            serde_json::to_vec(&serde_json::json!({ "error": text })).unwrap(),
        ),
        Some(Fault::StallPull) => {
            let after: i64 = req
                .uri()
                .query()
                .and_then(|q| q.split('&').find_map(|kv| kv.strip_prefix("after=")))
                .and_then(|a| a.parse().ok())
                .unwrap_or(0);
            json_reply(
                200,
                serde_json::to_vec(&serde_json::json!({
                    "ops": [], "next_after": after, "has_more": true, "server_time_ms": 0
                }))
                .unwrap(),
            )
        }
        Some(Fault::ReversePage) => {
            rewrite(req, next, |v| {
                if let Some(ops) = v["ops"].as_array_mut() {
                    ops.reverse();
                }
            })
            .await
        }
        Some(Fault::FakeAck(from)) => {
            let (_, body) = req.into_parts();
            let bytes = axum::body::to_bytes(body, usize::MAX).await.unwrap();
            let push: wardside_sync::protocol::PushRequest =
                serde_json::from_slice(&bytes).unwrap();
            let results: Vec<serde_json::Value> = push
                .ops
                .iter()
                .enumerate()
                .map(|(i, e)| {
                    serde_json::json!({
                        "op_id": e.routing.op_id, "status": "accepted", "server_seq": from + i as i64
                    })
                })
                .collect();
            json_reply(
                200,
                serde_json::to_vec(&serde_json::json!({ "results": results, "server_time_ms": chrono::Utc::now().timestamp_millis() })).unwrap(),
            )
        }
        Some(Fault::InflateHeads) => {
            rewrite(req, next, |v| {
                if let Some(heads) = v["heads"].as_array_mut() {
                    for h in heads {
                        let n = h["chain_seq"].as_u64().unwrap_or(0);
                        h["chain_seq"] = serde_json::json!(n + 1000);
                    }
                }
            })
            .await
        }
        Some(Fault::AlterLastStatement) => {
            rewrite(req, next, |v| {
                if let Some(last) = v["statements"].as_array_mut().and_then(|s| s.last_mut()) {
                    last["statement"]["at_ms"] = serde_json::json!(1);
                }
            })
            .await
        }
        Some(Fault::EmptyKeys) => Response::builder()
            .status(200)
            .header("content-type", "application/json")
            .body(Body::from("{\"grants\":[]}"))
            .unwrap(),
        Some(Fault::TooLarge) => Response::builder()
            .status(413)
            .body(Body::from("{\"error\":\"injected\"}"))
            .unwrap(),
        Some(Fault::Tamper(how)) => {
            let (mut parts, body) = next.run(req).await.into_parts();
            let bytes = axum::body::to_bytes(body, usize::MAX).await.unwrap();
            let mut page: wardside_sync::protocol::PullResponse =
                serde_json::from_slice(&bytes).unwrap();
            tamper(&mut page, how);
            parts.headers.remove(axum::http::header::CONTENT_LENGTH);
            Response::from_parts(parts, Body::from(serde_json::to_vec(&page).unwrap()))
        }
        Some(Fault::Latency(ms)) => {
            tokio::time::sleep(Duration::from_millis(ms)).await;
            next.run(req).await
        }
        Some(Fault::Unavailable) => Response::builder()
            .status(503)
            .body(Body::from("{\"error\":\"injected\"}"))
            .unwrap(),
        Some(f @ (Fault::DropReply | Fault::CutBody)) => {
            let resp = next.run(req).await;
            let (parts, body) = resp.into_parts();
            let bytes = axum::body::to_bytes(body, usize::MAX).await.unwrap();
            let keep = if f == Fault::CutBody {
                bytes.slice(..bytes.len() / 2)
            } else {
                bytes.slice(..0)
            };
            let chunks: Vec<Result<axum::body::Bytes, std::io::Error>> = vec![
                Ok(keep),
                Err(std::io::Error::other(
                    "connection dropped by the fault layer",
                )),
            ];
            let mut parts = parts;
            parts.headers.remove(axum::http::header::CONTENT_LENGTH);
            Response::from_parts(parts, Body::from_stream(futures_util::stream::iter(chunks)))
        }
    }
}

#[derive(Clone)]
pub enum Backend {
    Sqlite(SqliteStorage),
    Postgres(PostgresStorage),
}

/// A running service.
pub struct TestServer {
    pub url: String,
    addr: SocketAddr,
    pub backend: Backend,
    pub faults: Arc<Mutex<FaultPlan>>,
    rt: tokio::runtime::Runtime,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
    pub dir: tempfile::TempDir,
    /// The PostgreSQL database this service has to itself ([`TestServer::start_own`]).
    own_database: Option<String>,
}

/// Which backends to run a scenario on: SQLite always; PostgreSQL when
/// `WARDSIDE_TEST_POSTGRES` is set (required under CI).
pub fn backends() -> Vec<&'static str> {
    if std::env::var("WARDSIDE_TEST_POSTGRES").is_ok() {
        vec!["sqlite", "postgres"]
    } else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must run the sync scenarios on PostgreSQL too: set WARDSIDE_TEST_POSTGRES"
        );
        vec!["sqlite"]
    }
}

impl TestServer {
    pub fn start(backend: &str) -> TestServer {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let backend = match backend {
            "postgres" => {
                let url = std::env::var("WARDSIDE_TEST_POSTGRES").unwrap();
                Backend::Postgres(rt.block_on(PostgresStorage::open(&url)).unwrap())
            }
            _ => Backend::Sqlite(SqliteStorage::open(&dir.path().join("server.db")).unwrap()),
        };
        let listener = rt
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let addr = listener.local_addr().unwrap();
        let mut s = TestServer {
            url: format!("http://{addr}"),
            addr,
            backend,
            faults: Arc::new(Mutex::new(FaultPlan::default())),
            rt,
            stop: None,
            task: None,
            dir,
            own_database: None,
        };
        s.serve(listener);
        s
    }

    fn serve(&mut self, listener: tokio::net::TcpListener) {
        let app = match &self.backend {
            Backend::Sqlite(st) => router(Arc::new(AppState::new(st.clone()))),
            Backend::Postgres(st) => router(Arc::new(AppState::new(st.clone()))),
        }
        .layer(axum::middleware::from_fn_with_state(
            self.faults.clone(),
            fault_layer,
        ));
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        self.stop = Some(tx);
        self.task = Some(self.rt.spawn(async move {
            let _ = axum::serve(wardside_server::http::nodelay(listener), app)
                .with_graceful_shutdown(async {
                    let _ = rx.await;
                })
                .await;
        }));
    }

    /// Stop the service and start it again on the same address and storage.
    pub fn restart(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            self.rt.block_on(task).unwrap();
        }
        let listener = self.rt.block_on(async {
            loop {
                match tokio::net::TcpListener::bind(self.addr).await {
                    Ok(l) => break l,
                    Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
                }
            }
        });
        self.serve(listener);
    }

    pub fn fault(&self, path: &str, fault: Fault) {
        self.faults
            .lock()
            .unwrap()
            .scripted
            .push((path.to_owned(), fault));
    }

    pub fn chaos(&self, p: f64, seed: u64) {
        self.faults.lock().unwrap().chaos = Some((p, ChaCha8Rng::seed_from_u64(seed)));
    }

    pub fn calm(&self) {
        let mut f = self.faults.lock().unwrap();
        f.chaos = None;
        f.scripted.clear();
    }

    pub fn new_org(&self) -> (Uuid, String) {
        let org = match &self.backend {
            Backend::Sqlite(s) => self
                .rt
                .block_on(wardside_server::init_org(s, "Test IMHA service")),
            Backend::Postgres(s) => self
                .rt
                .block_on(wardside_server::init_org(s, "Test IMHA service")),
        }
        .unwrap();
        (org.org_id, org.enrolment_code)
    }

    /// Run SQL on the service's own database (SQLite only), as a breached service (or a rogue
    /// administrator) could: no device secret involved.
    pub fn sql(&self, sql: &str) {
        let Backend::Sqlite(_) = &self.backend else {
            panic!("sql() is for the SQLite backend");
        };
        let conn = rusqlite::Connection::open(self.dir.path().join("server.db")).unwrap();
        conn.busy_timeout(Duration::from_secs(5)).unwrap();
        conn.execute_batch(sql).unwrap();
    }

    /// Put an op into the service's log as a breached service would: a row written straight
    /// into its database, no check of who sent it or how it is formed (SQLite only).
    pub fn inject(&self, org: Uuid, env: &wardside_sync::Envelope) {
        let conn = rusqlite::Connection::open(self.dir.path().join("server.db")).unwrap();
        conn.busy_timeout(Duration::from_secs(5)).unwrap();
        let r = &env.routing;
        conn.execute(
            "INSERT INTO op (org_id, team_id, case_id, device_id, device_seq, op_id, content_hash, envelope, received_at, chain_seq)
             VALUES (?1, ?2, NULL, ?3, ?4, ?5, ?6, ?7, 'now', ?8)",
            rusqlite::params![
                org.to_string(),
                r.team_id.to_string(),
                r.device_id.to_string(),
                r.device_seq as i64,
                r.op_id.to_string(),
                env.content_hash,
                serde_json::to_string(env).unwrap(),
                r.chain.map(|c| c.seq as i64)
            ],
        )
        .unwrap();
    }

    /// `(device, seq)` rows stored for a device, from storage itself.
    pub fn stored_seqs(&self, org: Uuid, team: Uuid, device: Uuid) -> Vec<u64> {
        self.pull_all(org, team)
            .iter()
            .filter(|o| o.envelope.routing.device_id == device)
            .map(|o| o.envelope.routing.device_seq)
            .collect()
    }

    fn storage<T>(
        &self,
        sqlite: impl FnOnce(&SqliteStorage) -> T,
        postgres: impl FnOnce(&PostgresStorage) -> T,
    ) -> T {
        match &self.backend {
            Backend::Sqlite(s) => sqlite(s),
            Backend::Postgres(s) => postgres(s),
        }
    }

    pub fn add_code(&self, code: wardside_server::storage::EnrolmentCode) {
        let c2 = code.clone();
        self.storage(
            |s| self.rt.block_on(s.add_enrolment_code(code)),
            |s| self.rt.block_on(s.add_enrolment_code(c2)),
        )
        .unwrap();
    }

    /// Every op of a team as stored.
    pub fn pull_all(&self, org: Uuid, team: Uuid) -> Vec<wardside_sync::protocol::StoredOp> {
        let mut after = 0;
        let mut out = Vec::new();
        loop {
            let p = self
                .storage(
                    |s| self.rt.block_on(s.pull(org, vec![team], after, 1000, 0)),
                    |s| self.rt.block_on(s.pull(org, vec![team], after, 1000, 0)),
                )
                .unwrap();
            out.extend(p.ops);
            after = p.next_after;
            if !p.has_more {
                return out;
            }
        }
    }

    /// How many trust statements the service holds (over every organisation).
    pub fn trust_len(&self) -> u64 {
        let conn = rusqlite::Connection::open(self.dir.path().join("server.db")).unwrap();
        conn.query_row("SELECT count(*) FROM trust_statement", [], |r| {
            r.get::<_, i64>(0)
        })
        .unwrap()
        .unsigned_abs()
    }

    pub fn grants_for(&self, org: Uuid, device: Uuid) -> Vec<wardside_sync::trust::KeyGrant> {
        self.storage(
            |s| self.rt.block_on(s.key_grants_for(org, device)),
            |s| self.rt.block_on(s.key_grants_for(org, device)),
        )
        .unwrap()
    }

    pub fn sign_key(&self, device: Uuid) -> [u8; 32] {
        self.storage(
            |s| self.rt.block_on(s.device(device)),
            |s| self.rt.block_on(s.device(device)),
        )
        .unwrap()
        .unwrap()
        .sign_key
    }

    /// The PostgreSQL database as a dump (None on SQLite).
    pub fn pg_dump(&self) -> Option<Vec<u8>> {
        let Backend::Postgres(_) = &self.backend else {
            return None;
        };
        let url = std::env::var("WARDSIDE_TEST_POSTGRES").unwrap();
        let out = std::process::Command::new("pg_dump")
            .arg("--data-only")
            .arg(&url)
            .output()
            .unwrap();
        assert!(out.status.success(), "pg_dump failed");
        Some(out.stdout)
    }

    /// A device of a newer Wardside (another device of the same team, approved by `admin`)
    /// pushes one op with `schema_v` about `entity`, sealed properly under the team's key.
    pub fn push_foreign_op(&self, admin: &mut Dev, schema_v: u32, entity: &str) {
        use wardside_sync::envelope::{ChainLink, hlc_device_part};
        use wardside_sync::{DeviceSigningKey, Envelope, KeyId, Routing, TeamKey};
        let config = admin.store.sync_config().unwrap().unwrap();
        let k = admin
            .store
            .team_keys()
            .unwrap()
            .into_iter()
            .max_by_key(|k| k.epoch)
            .unwrap();
        let kid = KeyId {
            team_id: k.team,
            epoch: k.epoch,
        };
        let key = TeamKey::from_bytes(kid, k.secret.as_slice().try_into().unwrap());
        let sk = DeviceSigningKey::generate().unwrap();
        let boxs = wardside_sync::wrap::BoxSecret::generate().unwrap();
        let id = Uuid::new_v4();
        let device = wardside_server::storage::Device {
            id,
            org_id: config.org_id,
            name: "newer laptop".into(),
            sign_key: sk.public_key(),
            box_key: boxs.public_key(),
            status: wardside_server::storage::DeviceStatus::Pending,
            admin: false,
            teams: vec![k.team],
        };
        let d2 = device.clone();
        self.storage(
            |s| self.rt.block_on(s.add_device(device)),
            |s| self.rt.block_on(s.add_device(d2)),
        )
        .unwrap();
        // Approved by the admin, as any laptop is.
        let fp = wardside_sync::codes::fingerprint(&sk.public_key(), &boxs.public_key());
        wardside_sync_client::approve(&mut admin.store, id, &fp, &opts()).unwrap();
        let now = chrono::Utc::now().timestamp_millis();
        let env = Envelope::seal(
            Routing {
                org_id: config.org_id,
                team_id: k.team,
                case_id: None,
                entity: entity.into(),
                entity_id: Uuid::new_v4(),
                op_id: Uuid::new_v4(),
                device_id: id,
                device_seq: 1,
                hlc: format!("{now:016}-0000-{}", hlc_device_part(&id)),
                kid,
                schema_v,
                chain: Some(ChainLink {
                    seq: 1,
                    prev: [0; 32],
                }),
            },
            br#"{"kind":"attach","payload":{"size":1},"actor":"Someone"}"#,
            &key,
            &sk,
        )
        .unwrap();
        let e2 = env.clone();
        let r = self
            .storage(
                |s| self.rt.block_on(s.push(config.org_id, id, vec![env], now)),
                |s| self.rt.block_on(s.push(config.org_id, id, vec![e2], now)),
            )
            .unwrap();
        assert_eq!(r[0].status, wardside_sync::protocol::PushStatus::Accepted);
    }

    pub fn requests_to(&self, prefix: &str) -> usize {
        self.faults
            .lock()
            .unwrap()
            .seen
            .iter()
            .filter(|p| p.starts_with(prefix))
            .count()
    }
}

/// A copy of the service's storage as a backup would hold it.
pub enum Snapshot {
    /// A consistent copy of the SQLite file.
    Sqlite(PathBuf),
    /// `pg_dump --format=custom` of the service's own database.
    Postgres(Vec<u8>),
}

/// `postgres://…/DB` with another database name.
fn with_database(url: &str, db: &str) -> String {
    let (base, _) = url.rsplit_once('/').unwrap();
    format!("{base}/{db}")
}

fn psql(url: &str, sql: &str) {
    let out = std::process::Command::new("psql")
        .args(["-q", "-v", "ON_ERROR_STOP=1", url, "-c", sql])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "psql failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Drop a test database. Plain `DROP DATABASE` (PostgreSQL stops an autovacuum worker on it by
/// itself; `WITH (FORCE)` would try to terminate it and is refused to a role that is not a
/// superuser), tried again while this process's own closed connections are still going away.
fn drop_database(shared: &str, db: &str) {
    let mut last = String::new();
    for _ in 0..100 {
        let out = std::process::Command::new("psql")
            .args(["-q", "-v", "ON_ERROR_STOP=1", shared, "-c"])
            .arg(format!("DROP DATABASE IF EXISTS {db}"))
            .output()
            .unwrap();
        if out.status.success() {
            return;
        }
        last = String::from_utf8_lossy(&out.stderr).into_owned();
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("could not drop the test database {db}: {last}");
}

impl TestServer {
    /// A service with storage of its own (on PostgreSQL, a database of its own, dropped at the
    /// end), so that it can be restored from a backup without touching other tests' data.
    pub fn start_own(backend: &str) -> TestServer {
        if backend != "postgres" {
            return TestServer::start(backend);
        }
        let shared = std::env::var("WARDSIDE_TEST_POSTGRES").unwrap();
        let db = format!("wardside_restore_{}", Uuid::new_v4().simple());
        psql(&shared, &format!("CREATE DATABASE {db}"));
        let own = with_database(&shared, &db);
        let mut s = {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            let backend = Backend::Postgres(rt.block_on(PostgresStorage::open(&own)).unwrap());
            let listener = rt
                .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
                .unwrap();
            let addr = listener.local_addr().unwrap();
            let mut s = TestServer {
                url: format!("http://{addr}"),
                addr,
                backend,
                faults: Arc::new(Mutex::new(FaultPlan::default())),
                rt,
                stop: None,
                task: None,
                dir: tempfile::tempdir().unwrap(),
                own_database: None,
            };
            s.serve(listener);
            s
        };
        s.own_database = Some(own);
        s
    }

    /// A backup of the service's storage, taken while it serves.
    pub fn snapshot(&self) -> Snapshot {
        match &self.backend {
            Backend::Sqlite(_) => {
                let to = self
                    .dir
                    .path()
                    .join(format!("backup-{}.db", Uuid::new_v4().simple()));
                let conn = rusqlite::Connection::open(self.dir.path().join("server.db")).unwrap();
                conn.busy_timeout(Duration::from_secs(5)).unwrap();
                conn.execute("VACUUM INTO ?1", [to.to_str().unwrap()])
                    .unwrap();
                Snapshot::Sqlite(to)
            }
            Backend::Postgres(_) => {
                let url = self
                    .own_database
                    .as_deref()
                    .expect("start_own for a restore");
                let out = std::process::Command::new("pg_dump")
                    .args(["--format=custom", "--dbname", url])
                    .output()
                    .unwrap();
                assert!(out.status.success(), "pg_dump failed");
                Snapshot::Postgres(out.stdout)
            }
        }
    }

    /// Replace the service's storage with a backup, as an operator restoring it would (the
    /// service stopped, the storage replaced, the service started again on the same address).
    /// `new_generation`: the operator ran the restore command (which marks a new generation);
    /// without it the restore was done by hand.
    pub fn restore(&mut self, snapshot: &Snapshot, new_generation: bool) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            self.rt.block_on(task).unwrap();
        }
        let placeholder = Backend::Sqlite(
            SqliteStorage::open(
                &self
                    .dir
                    .path()
                    .join(format!("placeholder-{}.db", Uuid::new_v4().simple())),
            )
            .unwrap(),
        );
        drop(std::mem::replace(&mut self.backend, placeholder));
        self.backend = match snapshot {
            Snapshot::Sqlite(from) => {
                let db = self.dir.path().join("server.db");
                for ext in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{ext}", db.display()));
                }
                std::fs::copy(from, &db).unwrap();
                Backend::Sqlite(SqliteStorage::open(&db).unwrap())
            }
            Snapshot::Postgres(dump) => {
                let own = self.own_database.clone().unwrap();
                let shared = std::env::var("WARDSIDE_TEST_POSTGRES").unwrap();
                let db = own.rsplit_once('/').unwrap().1.to_owned();
                drop_database(&shared, &db);
                psql(&shared, &format!("CREATE DATABASE {db}"));
                let mut child = std::process::Command::new("pg_restore")
                    .args(["--no-owner", "--exit-on-error", "--dbname", &own])
                    .stdin(std::process::Stdio::piped())
                    .spawn()
                    .unwrap();
                std::io::Write::write_all(child.stdin.as_mut().unwrap(), dump).unwrap();
                drop(child.stdin.take());
                assert!(child.wait().unwrap().success(), "pg_restore failed");
                Backend::Postgres(self.rt.block_on(PostgresStorage::open(&own)).unwrap())
            }
        };
        if new_generation {
            self.storage(
                |s| self.rt.block_on(s.new_generation()),
                |s| self.rt.block_on(s.new_generation()),
            )
            .unwrap();
        }
        let listener = self.rt.block_on(async {
            loop {
                match tokio::net::TcpListener::bind(self.addr).await {
                    Ok(l) => break l,
                    Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
                }
            }
        });
        self.serve(listener);
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(own) = self.own_database.take() {
            if let Some(task) = self.task.take() {
                let _ = self.rt.block_on(task);
            }
            let placeholder = Backend::Sqlite(
                SqliteStorage::open(&self.dir.path().join("placeholder-end.db")).unwrap(),
            );
            drop(std::mem::replace(&mut self.backend, placeholder));
            if let Ok(shared) = std::env::var("WARDSIDE_TEST_POSTGRES") {
                let db = own.rsplit_once('/').unwrap().1.to_owned();
                let _ = std::panic::catch_unwind(|| drop_database(&shared, &db));
            }
        }
    }
}

/// Quick retries: tests inject many failures.
pub fn opts() -> Options {
    Options {
        retry: Retry {
            attempts: 8,
            min_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(10),
        },
        page_size: 1000,
        push_batch: 500,
        timeout: Duration::from_secs(20),
        cancel: wardside_sync_client::Cancel::default(),
    }
}

pub const PASS: &str = "plum kettle harbour";

/// A device: a real encrypted store in its own directory.
pub struct Dev {
    pub store: Store,
    pub path: PathBuf,
    pub dir: tempfile::TempDir,
    pub name: String,
}

impl Dev {
    pub fn new(name: &str) -> Dev {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("wardside.db");
        let store = Store::create_with(
            &path,
            &Passphrase::new(PASS),
            name,
            FAST,
            Tuning { cache_kib: 2048 },
        )
        .unwrap();
        Dev {
            store,
            path,
            dir,
            name: name.into(),
        }
    }

    /// Close the store (its files settle: WAL checkpointed), run `f` on its path, and open it
    /// again with the passphrase `f` returns.
    pub fn while_closed(&mut self, f: impl FnOnce(&std::path::Path) -> String) {
        let scratch = Store::create_with(
            &self
                .dir
                .path()
                .join(format!("scratch-{}.db", Uuid::new_v4().simple())),
            &Passphrase::new(PASS),
            "scratch",
            FAST,
            Tuning { cache_kib: 2048 },
        )
        .unwrap();
        drop(std::mem::replace(&mut self.store, scratch));
        let pass = f(&self.path);
        self.store = Store::unlock(&self.path, &Passphrase::new(pass)).unwrap();
    }

    pub fn id(&self) -> Uuid {
        self.store.device_id().parse().unwrap()
    }

    pub fn sync(&mut self) -> wardside_sync_client::SyncReport {
        wardside_sync_client::sync_now(&mut self.store, &opts()).unwrap()
    }

    pub fn sync_with(
        &mut self,
        o: &Options,
    ) -> wardside_sync_client::Result<wardside_sync_client::SyncReport> {
        wardside_sync_client::sync_now(&mut self.store, o)
    }

    pub fn try_sync(&mut self) -> wardside_sync_client::Result<wardside_sync_client::SyncReport> {
        wardside_sync_client::sync_now(&mut self.store, &opts())
    }

    /// A client with an open case; returns (client, case).
    pub fn client_with_case(&mut self, name: &str) -> (ClientId, CaseId) {
        self.store
            .write(|w| {
                let mut c = Client::named(name);
                c.hospital = Some("Riverside".into());
                c.ward = Some("Cedar".into());
                let client = w.add_client(&c)?;
                let case = w.open_case(&Case::opened(client, date("2026-11-02")))?;
                Ok((client, case))
            })
            .unwrap()
    }

    pub fn note(&mut self, case: CaseId, text: &str) -> ActivityId {
        self.store
            .write(|w| {
                w.add_activity(
                    &Activity {
                        case_id: case,
                        at: chrono::NaiveDateTime::parse_from_str(
                            "2026-11-03T10:00",
                            "%Y-%m-%dT%H:%M",
                        )
                        .unwrap(),
                        duration_minutes: Some(30),
                        kind: ActivityKind::PrivateInterview { wishes: None },
                        withheld: None,
                    },
                    text,
                )
            })
            .unwrap()
    }

    pub fn amend(&mut self, id: ActivityId, text: &str) {
        self.store
            .write(|w| w.amend_note(id, text, "corrected"))
            .unwrap();
    }

    pub fn set_ward(&mut self, client: ClientId, ward: &str) {
        let mut c: Client = self.store.get(client.0).unwrap();
        c.ward = Some(ward.into());
        self.store.write(|w| w.update_client(client, &c)).unwrap();
    }

    pub fn ward(&self, client: ClientId) -> Option<String> {
        let c: Client = self.store.get(client.0).unwrap();
        c.ward
    }

    pub fn text(&self, id: ActivityId) -> String {
        self.store.note_text(id).unwrap()
    }

    pub fn digest(&self) -> String {
        self.store.convergence_digest().unwrap()
    }
}

pub fn date(s: &str) -> chrono::NaiveDate {
    s.parse().unwrap()
}

/// An organisation: its admin device enrolled, and `others` more enrolled and approved.
pub fn org(server: &TestServer, others: usize) -> (Dev, Vec<Dev>, Uuid) {
    let (org, code) = server.new_org();
    let mut admin = Dev::new("Admin");
    let e = wardside_sync_client::enroll(
        &mut admin.store,
        &server.url,
        &code,
        "admin laptop",
        &opts(),
    )
    .unwrap();
    assert!(e.admin && e.recovery.is_some());
    let mut devs = Vec::new();
    for i in 0..others {
        devs.push(join(server, &mut admin, &format!("Advocate {i}")));
    }
    (admin, devs, org)
}

/// Enrol a new device through the admin: invite, enrol, approve by fingerprint.
pub fn join(server: &TestServer, admin: &mut Dev, name: &str) -> Dev {
    let mut d = Dev::new(name);
    let code = wardside_sync_client::invite(&mut admin.store, &opts()).unwrap();
    let e = wardside_sync_client::enroll(&mut d.store, &server.url, &code, name, &opts()).unwrap();
    assert_eq!(e.status, wardside_sync::protocol::EnrolledStatus::Pending);
    wardside_sync_client::approve(&mut admin.store, e.device_id, &e.fingerprint, &opts()).unwrap();
    d
}

/// Sync every device until a full round changes nothing.
pub fn settle(devs: &mut [&mut Dev]) {
    for _ in 0..3 {
        for d in devs.iter_mut() {
            d.sync();
        }
    }
}

pub fn assert_converged(devs: &[&Dev]) {
    let first = devs[0].digest();
    let ops = devs[0].store.op_ids().unwrap();
    let versions = devs[0].store.note_version_ids().unwrap();
    for d in &devs[1..] {
        assert_eq!(d.store.op_ids().unwrap(), ops, "{} has other ops", d.name);
        assert_eq!(
            d.store.note_version_ids().unwrap(),
            versions,
            "{} has other note versions",
            d.name
        );
        if d.digest() != first {
            let a = devs[0].store.convergence_dump().unwrap();
            let b = d.store.convergence_dump().unwrap();
            let only_a: Vec<&str> = a.lines().filter(|l| !b.lines().any(|m| m == *l)).collect();
            let only_b: Vec<&str> = b.lines().filter(|l| !a.lines().any(|m| m == *l)).collect();
            panic!(
                "{} has another state than {}:\n  only on {}: {only_a:#?}\n  only on {}: {only_b:#?}",
                d.name, devs[0].name, devs[0].name, d.name
            );
        }
    }
}
