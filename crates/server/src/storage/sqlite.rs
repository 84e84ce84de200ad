//! The embedded backend: one SQLite file (plain SQLite: the server holds only sealed content).
//! Each call runs on tokio's blocking pool, never on the async workers.

use super::{
    Appended, ChainTip, Decision, Device, DeviceChange, DeviceStatus, EnrolmentCode, Result,
    Storage, StorageError, decide, key32, page, result_of,
};
use include_dir::{Dir, include_dir};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use rusqlite_migration::{M, Migrations};
use std::path::Path;
use std::sync::{Arc, LazyLock, Mutex};
use uuid::Uuid;
use wardside_sync::Envelope;
use wardside_sync::protocol::{
    DeviceHead, PullResponse, PushResult, Rejection, ServiceMark, StoredOp,
};
use wardside_sync::trust::KeyGrant;

static SQL: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/../../migrations/server/sqlite");

static MIGRATIONS: LazyLock<Migrations<'static>> = LazyLock::new(|| {
    let mut files: Vec<_> = SQL
        .files()
        .filter(|f| f.path().extension().is_some_and(|e| e == "sql"))
        .collect();
    files.sort_by_key(|f| f.path());
    Migrations::new(
        files
            .into_iter()
            .map(|f| M::up(f.contents_utf8().unwrap_or_default()))
            .collect(),
    )
});

/// The schema version this build brings a database to (SQLite's `user_version` after the
/// migrations: one per file).
pub fn known_schema_version() -> i64 {
    SQL.files()
        .filter(|f| f.path().extension().is_some_and(|e| e == "sql"))
        .count() as i64
}

fn backend(e: impl std::fmt::Display) -> StorageError {
    StorageError::Backend(e.to_string())
}

/// SQLite storage. One connection behind a mutex: SQLite has one writer anyway, and pushes are
/// short transactions. Request nonces go through a second connection that does not wait for
/// the disk on each commit (WAL with `synchronous = NORMAL`: a nonce survives the process
/// stopping, as replay protection needs, without an fsync per request).
#[derive(Debug, Clone)]
pub struct SqliteStorage {
    conn: Arc<Mutex<Connection>>,
    nonces: Arc<Mutex<Connection>>,
    nonce_calls: Arc<std::sync::atomic::AtomicU64>,
}

impl SqliteStorage {
    pub fn open(path: &Path) -> Result<Self> {
        let mut conn = Connection::open(path).map_err(backend)?;
        conn.query_row("PRAGMA journal_mode = WAL", [], |_| Ok(()))
            .map_err(backend)?;
        conn.execute_batch("PRAGMA synchronous = FULL; PRAGMA busy_timeout = 5000;")
            .map_err(backend)?;
        MIGRATIONS.to_latest(&mut conn).map_err(|e| match e {
            rusqlite_migration::Error::MigrationDefinition(
                rusqlite_migration::MigrationDefinitionError::DatabaseTooFarAhead,
            ) => StorageError::NewerSchema,
            other => backend(other),
        })?;
        let nonces = Connection::open(path).map_err(backend)?;
        nonces
            .execute_batch("PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000;")
            .map_err(backend)?;
        Ok(SqliteStorage {
            conn: Arc::new(Mutex::new(conn)),
            nonces: Arc::new(Mutex::new(nonces)),
            nonce_calls: Arc::default(),
        })
    }

    async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Connection) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let conn = self.conn.clone();
        tokio::task::spawn_blocking(move || {
            let mut guard = conn.lock().unwrap_or_else(|p| p.into_inner());
            f(&mut guard)
        })
        .await
        .map_err(backend)?
    }
}

fn team_list(teams: &[Uuid]) -> String {
    serde_json::to_string(&teams.iter().map(Uuid::to_string).collect::<Vec<_>>())
        .unwrap_or_else(|_| "[]".into())
}

impl Storage for SqliteStorage {
    async fn push(
        &self,
        org_id: Uuid,
        pusher: Uuid,
        ops: Vec<Envelope>,
        now_ms: i64,
    ) -> Result<Vec<PushResult>> {
        self.run(move |conn| {
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(backend)?;
            let mut results = Vec::with_capacity(ops.len());
            let received_at = chrono::Utc::now().to_rfc3339();
            for env in &ops {
                let r = &env.routing;
                let device = r.device_id.to_string();
                let stored: Option<(i64, Vec<u8>)> = tx
                    .prepare_cached(
                        "SELECT server_seq, content_hash FROM op WHERE device_id = ?1 AND device_seq = ?2",
                    )
                    .and_then(|mut s| {
                        s.query_row(params![device, r.device_seq as i64], |row| {
                            Ok((row.get(0)?, row.get(1)?))
                        })
                        .optional()
                    })
                    .map_err(backend)?;
                let last_seq: i64 = tx
                    .prepare_cached("SELECT coalesce(max(device_seq), 0) FROM op WHERE device_id = ?1")
                    .and_then(|mut s| s.query_row([&device], |row| row.get(0)))
                    .map_err(backend)?;
                let tip = tx
                    .prepare_cached(
                        "SELECT chain_seq, chain_hash FROM device_head WHERE org_id = ?1 AND team_id = ?2 AND device_id = ?3",
                    )
                    .and_then(|mut s| {
                        s.query_row(
                            params![org_id.to_string(), r.team_id.to_string(), device],
                            |row| {
                                Ok(ChainTip {
                                    seq: u64::try_from(row.get::<_, i64>(0)?).unwrap_or(0),
                                    hash: row.get(1)?,
                                })
                            },
                        )
                        .optional()
                    })
                    .map_err(backend)?
                    .unwrap_or_default();
                let mut decision = decide(
                    env,
                    stored.as_ref().map(|(seq, h)| (*seq, h.as_slice())),
                    u64::try_from(last_seq).unwrap_or(0),
                    &tip,
                    now_ms,
                    env.routing.device_id != pusher,
                );
                // The op id is unique too: the same id under another key is a conflict.
                if decision == Decision::Insert {
                    let taken = tx
                        .prepare_cached("SELECT 1 FROM op WHERE op_id = ?1")
                        .and_then(|mut s| s.exists([r.op_id.to_string()]))
                        .map_err(backend)?;
                    if taken {
                        decision = Decision::Reject(Rejection::SeqConflict);
                    }
                }
                let chain_seq = r.chain.map(|c| c.seq as i64);
                let inserted = if decision == Decision::Insert {
                    tx.prepare_cached(
                        "INSERT INTO op (org_id, team_id, case_id, device_id, device_seq, op_id, content_hash, envelope, received_at, chain_seq)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                    )
                    .and_then(|mut s| {
                        s.execute(params![
                            org_id.to_string(),
                            r.team_id.to_string(),
                            r.case_id.map(|c| c.to_string()),
                            device,
                            r.device_seq as i64,
                            r.op_id.to_string(),
                            env.content_hash,
                            serde_json::to_string(env).unwrap_or_default(),
                            received_at,
                            chain_seq
                        ])
                    })
                    .map_err(backend)?;
                    let seq = tx.last_insert_rowid();
                    tx.prepare_cached(
                        "INSERT INTO device_head (org_id, team_id, device_id, max_seq, ops, chain_seq, chain_hash) VALUES (?1, ?2, ?3, ?4, 1, ?5, ?6)
                         ON CONFLICT (org_id, team_id, device_id) DO UPDATE SET max_seq = max(max_seq, excluded.max_seq), ops = ops + 1,
                           chain_hash = iif(excluded.chain_seq > chain_seq, excluded.chain_hash, chain_hash),
                           chain_seq = max(chain_seq, excluded.chain_seq)",
                    )
                    .and_then(|mut s| {
                        s.execute(params![
                            org_id.to_string(),
                            r.team_id.to_string(),
                            r.device_id.to_string(),
                            r.device_seq as i64,
                            chain_seq,
                            env.content_hash
                        ])
                    })
                    .map_err(backend)?;
                    Some(seq)
                } else {
                    None
                };
                results.push(result_of(env, &decision, inserted));
            }
            // Committed before anyone is told "accepted".
            tx.commit().map_err(backend)?;
            Ok(results)
        })
        .await
    }

    async fn pull(
        &self,
        org_id: Uuid,
        teams: Vec<Uuid>,
        after: i64,
        limit: usize,
        now_ms: i64,
    ) -> Result<PullResponse> {
        self.run(move |conn| {
            let mut stmt = conn
                .prepare_cached(
                    "SELECT server_seq, envelope FROM op
                     WHERE org_id = ?1 AND server_seq > ?2 AND team_id IN (SELECT value FROM json_each(?3))
                     ORDER BY server_seq LIMIT ?4",
                )
                .map_err(backend)?;
            let rows = stmt
                .query_map(
                    params![org_id.to_string(), after, team_list(&teams), limit as i64 + 1],
                    |row| Ok((row.get::<_, i64>(0)?, row.get::<_, String>(1)?)),
                )
                .map_err(backend)?;
            let mut ops = Vec::new();
            for row in rows {
                let (server_seq, json) = row.map_err(backend)?;
                let envelope: Envelope = serde_json::from_str(&json).map_err(backend)?;
                ops.push(StoredOp {
                    server_seq,
                    envelope,
                });
            }
            Ok(page(ops, limit, after, now_ms))
        })
        .await
    }

    async fn heads(&self, org_id: Uuid, teams: Vec<Uuid>) -> Result<Vec<DeviceHead>> {
        self.run(move |conn| {
            let mut stmt = conn
                .prepare_cached(
                    "SELECT device_id, team_id, max_seq, ops, chain_seq FROM device_head
                     WHERE org_id = ?1 AND team_id IN (SELECT value FROM json_each(?2))
                     ORDER BY device_id, team_id",
                )
                .map_err(backend)?;
            let rows = stmt
                .query_map(params![org_id.to_string(), team_list(&teams)], |row| {
                    Ok((
                        row.get::<_, String>(0)?,
                        row.get::<_, String>(1)?,
                        row.get::<_, i64>(2)?,
                        row.get::<_, i64>(3)?,
                        row.get::<_, i64>(4)?,
                    ))
                })
                .map_err(backend)?;
            rows.map(|row| {
                let (device, team, max_seq, ops, chain_seq) = row.map_err(backend)?;
                Ok(DeviceHead {
                    device_id: device.parse().map_err(backend)?,
                    team_id: team.parse().map_err(backend)?,
                    max_seq: u64::try_from(max_seq).unwrap_or(0),
                    ops: u64::try_from(ops).unwrap_or(0),
                    chain_seq: u64::try_from(chain_seq).unwrap_or(0),
                })
            })
            .collect()
        })
        .await
    }

    async fn trust_log(&self, org_id: Uuid, after: u64, limit: usize) -> Result<Vec<String>> {
        self.run(move |conn| {
            let mut stmt = conn
                .prepare_cached(
                    "SELECT statement FROM trust_statement WHERE org_id = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3",
                )
                .map_err(backend)?;
            let rows = stmt
                .query_map(
                    params![
                        org_id.to_string(),
                        i64::try_from(after).unwrap_or(i64::MAX),
                        limit as i64
                    ],
                    |r| r.get::<_, String>(0),
                )
                .map_err(backend)?;
            rows.map(|r| r.map_err(backend)).collect()
        })
        .await
    }

    async fn trust_head(&self, org_id: Uuid) -> Result<u64> {
        self.run(move |conn| {
            conn.prepare_cached(
                "SELECT coalesce(max(seq), 0) FROM trust_statement WHERE org_id = ?1",
            )
            .and_then(|mut s| s.query_row([org_id.to_string()], |r| r.get::<_, i64>(0)))
            .map(i64::unsigned_abs)
            .map_err(backend)
        })
        .await
    }

    async fn append_statement(
        &self,
        org_id: Uuid,
        seq: u64,
        json: String,
        change: DeviceChange,
    ) -> Result<Appended> {
        self.run(move |conn| {
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(backend)?;
            let n = tx
                .execute(
                    "INSERT INTO trust_statement (org_id, seq, statement) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING",
                    params![org_id.to_string(), i64::try_from(seq).map_err(backend)?, json],
                )
                .map_err(backend)?;
            if n == 0 {
                return Ok(Appended::SeqTaken);
            }
            match change {
                DeviceChange::None => {}
                DeviceChange::Approve {
                    device,
                    admin,
                    teams,
                }
                | DeviceChange::Update {
                    device,
                    admin,
                    teams,
                } => {
                    tx.execute(
                        "UPDATE device SET status = 'approved', admin = ?2, teams = ?3 WHERE id = ?1 AND org_id = ?4",
                        params![device.to_string(), admin, team_list(&teams), org_id.to_string()],
                    )
                    .map_err(backend)?;
                }
                DeviceChange::Revoke { device } => {
                    tx.execute(
                        "UPDATE device SET status = 'revoked', admin = 0 WHERE id = ?1 AND org_id = ?2",
                        params![device.to_string(), org_id.to_string()],
                    )
                    .map_err(backend)?;
                }
            }
            tx.commit().map_err(backend)?;
            Ok(Appended::Yes)
        })
        .await
    }

    async fn use_nonce(
        &self,
        device: Uuid,
        nonce: String,
        expires_ms: i64,
        now_ms: i64,
    ) -> Result<bool> {
        let conn = self.nonces.clone();
        let calls = self
            .nonce_calls
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        tokio::task::spawn_blocking(move || {
            let conn = conn.lock().unwrap_or_else(|p| p.into_inner());
            // Forget expired nonces now and then (one request in 256), in small steps.
            if calls.is_multiple_of(256) {
                conn.prepare_cached(
                    "DELETE FROM request_nonce WHERE (device_id, nonce) IN
                     (SELECT device_id, nonce FROM request_nonce WHERE expires_ms < ?1 LIMIT 1000)",
                )
                .and_then(|mut s| s.execute([now_ms]))
                .map_err(backend)?;
            }
            let n = conn
                .prepare_cached(
                    "INSERT INTO request_nonce (device_id, nonce, expires_ms) VALUES (?1, ?2, ?3)
                     ON CONFLICT (device_id, nonce) DO UPDATE SET expires_ms = excluded.expires_ms
                     WHERE request_nonce.expires_ms < ?4",
                )
                .and_then(|mut s| s.execute(params![device.to_string(), nonce, expires_ms, now_ms]))
                .map_err(backend)?;
            Ok(n == 1)
        })
        .await
        .map_err(backend)?
    }

    async fn create_org(&self, id: Uuid, name: String) -> Result<()> {
        self.run(move |conn| {
            conn.execute(
                "INSERT INTO org (id, name, created_at) VALUES (?1, ?2, ?3)",
                params![id.to_string(), name, chrono::Utc::now().to_rfc3339()],
            )
            .map_err(backend)?;
            Ok(())
        })
        .await
    }

    async fn organisations(&self) -> Result<Vec<Uuid>> {
        self.run(|conn| {
            let mut stmt = conn
                .prepare_cached("SELECT id FROM org ORDER BY created_at, id")
                .map_err(backend)?;
            let ids = stmt
                .query_map([], |r| r.get::<_, String>(0))
                .map_err(backend)?
                .map(|r| r.map_err(backend)?.parse().map_err(backend))
                .collect::<Result<Vec<Uuid>>>()?;
            Ok(ids)
        })
        .await
    }

    async fn add_device(&self, d: Device) -> Result<()> {
        self.run(move |conn| {
            conn.execute(
                "INSERT INTO device (id, org_id, name, sign_key, box_key, status, admin, teams, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                params![
                    d.id.to_string(),
                    d.org_id.to_string(),
                    d.name,
                    d.sign_key.to_vec(),
                    d.box_key.to_vec(),
                    d.status.as_str(),
                    d.admin,
                    team_list(&d.teams),
                    chrono::Utc::now().to_rfc3339()
                ],
            )
            .map_err(backend)?;
            Ok(())
        })
        .await
    }

    async fn device(&self, id: Uuid) -> Result<Option<Device>> {
        self.run(move |conn| {
            let mut found = devices_where(conn, "id = ?1", &id.to_string())?;
            Ok(found.pop())
        })
        .await
    }

    async fn devices(&self, org_id: Uuid) -> Result<Vec<Device>> {
        self.run(move |conn| devices_where(conn, "org_id = ?1", &org_id.to_string()))
            .await
    }

    async fn add_enrolment_code(&self, c: EnrolmentCode) -> Result<()> {
        self.run(move |conn| {
            conn.execute(
                "INSERT INTO enrolment_code (code_hash, org_id, admin, teams, expires_ms, root_key, binding) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![c.code_hash, c.org_id.to_string(), c.admin, team_list(&c.teams), c.expires_ms, c.root_key, c.binding],
            )
            .map_err(backend)?;
            Ok(())
        })
        .await
    }

    async fn take_enrolment_code(
        &self,
        code_hash: Vec<u8>,
        now_ms: i64,
    ) -> Result<Option<EnrolmentCode>> {
        self.run(move |conn| {
            let row = conn
                .query_row(
                    "UPDATE enrolment_code SET used_ms = ?2
                     WHERE code_hash = ?1 AND used_ms IS NULL AND expires_ms > ?2
                     RETURNING org_id, admin, teams, expires_ms, root_key, binding",
                    params![code_hash, now_ms],
                    |r| {
                        Ok((
                            r.get::<_, String>(0)?,
                            r.get::<_, bool>(1)?,
                            r.get::<_, String>(2)?,
                            r.get::<_, i64>(3)?,
                            r.get::<_, Option<Vec<u8>>>(4)?,
                            r.get::<_, Option<Vec<u8>>>(5)?,
                        ))
                    },
                )
                .optional()
                .map_err(backend)?;
            row.map(|(org, admin, teams, expires_ms, root_key, binding)| {
                let teams: Vec<String> = serde_json::from_str(&teams).map_err(backend)?;
                Ok(EnrolmentCode {
                    code_hash: code_hash.clone(),
                    org_id: org.parse().map_err(backend)?,
                    admin,
                    teams: teams
                        .iter()
                        .map(|t| t.parse().map_err(backend))
                        .collect::<Result<_>>()?,
                    expires_ms,
                    root_key,
                    binding,
                })
            })
            .transpose()
        })
        .await
    }

    async fn add_key_grants(&self, org_id: Uuid, grants: Vec<KeyGrant>) -> Result<()> {
        self.run(move |conn| {
            let tx = conn.transaction().map_err(backend)?;
            for g in &grants {
                let w = &g.wrap;
                tx.execute(
                    "INSERT INTO key_grant (org_id, team_id, epoch, recipient, grant_json) VALUES (?1, ?2, ?3, ?4, ?5)
                     ON CONFLICT DO NOTHING",
                    params![
                        org_id.to_string(),
                        w.kid.team_id.to_string(),
                        w.kid.epoch,
                        w.recipient.to_string(),
                        serde_json::to_string(g).map_err(backend)?
                    ],
                )
                .map_err(backend)?;
            }
            tx.commit().map_err(backend)
        })
        .await
    }

    async fn key_grants_for(&self, org_id: Uuid, recipient: Uuid) -> Result<Vec<KeyGrant>> {
        self.run(move |conn| {
            let mut stmt = conn
                .prepare_cached(
                    "SELECT grant_json FROM key_grant WHERE org_id = ?1 AND recipient = ?2 ORDER BY team_id, epoch",
                )
                .map_err(backend)?;
            let rows = stmt
                .query_map(params![org_id.to_string(), recipient.to_string()], |r| {
                    r.get::<_, String>(0)
                })
                .map_err(backend)?;
            rows.map(|row| serde_json::from_str(&row.map_err(backend)?).map_err(backend))
                .collect()
        })
        .await
    }

    async fn service_mark(&self, org_id: Uuid) -> Result<ServiceMark> {
        self.run(move |conn| {
            let generation = generation_of(conn)?;
            let high_water = conn
                .prepare_cached("SELECT coalesce(max(server_seq), 0) FROM op WHERE org_id = ?1")
                .and_then(|mut s| s.query_row([org_id.to_string()], |r| r.get::<_, i64>(0)))
                .map_err(backend)?;
            Ok(ServiceMark {
                generation,
                high_water,
            })
        })
        .await
    }

    async fn generation(&self) -> Result<Uuid> {
        self.run(|conn| generation_of(conn)).await
    }

    async fn new_generation(&self) -> Result<Uuid> {
        self.run(|conn| {
            let fresh = Uuid::new_v4();
            conn.execute(
                "UPDATE service SET generation = ?1, changed_at = ?2 WHERE id = 1",
                params![fresh.to_string(), chrono::Utc::now().to_rfc3339()],
            )
            .map_err(backend)?;
            Ok(fresh)
        })
        .await
    }
}

fn generation_of(conn: &Connection) -> Result<Uuid> {
    conn.prepare_cached("SELECT generation FROM service WHERE id = 1")
        .and_then(|mut s| s.query_row([], |r| r.get::<_, String>(0)))
        .map_err(backend)?
        .parse()
        .map_err(backend)
}

fn devices_where(conn: &rusqlite::Connection, filter: &str, value: &str) -> Result<Vec<Device>> {
    let mut stmt = conn
        .prepare_cached(&format!(
            "SELECT id, org_id, name, sign_key, box_key, status, admin, teams FROM device WHERE {filter} ORDER BY created_at, id"
        ))
        .map_err(backend)?;
    let rows = stmt
        .query_map([value], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, Vec<u8>>(3)?,
                r.get::<_, Vec<u8>>(4)?,
                r.get::<_, String>(5)?,
                r.get::<_, bool>(6)?,
                r.get::<_, String>(7)?,
            ))
        })
        .map_err(backend)?;
    rows.map(|row| {
        let (id, org, name, sign, boxk, status, admin, teams) = row.map_err(backend)?;
        let teams: Vec<String> = serde_json::from_str(&teams).map_err(backend)?;
        Ok(Device {
            id: id.parse().map_err(backend)?,
            org_id: org.parse().map_err(backend)?,
            name,
            sign_key: key32(sign)?,
            box_key: key32(boxk)?,
            status: DeviceStatus::parse(&status)?,
            admin,
            teams: teams
                .iter()
                .map(|t| t.parse().map_err(backend))
                .collect::<Result<_>>()?,
        })
    })
    .collect()
}
