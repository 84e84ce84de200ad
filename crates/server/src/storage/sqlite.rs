//! The embedded backend: one SQLite file (plain SQLite: the server holds only sealed content).
//! Each call runs on tokio's blocking pool, never on the async workers.

use super::{
    Decision, Device, DeviceStatus, EnrolmentCode, Result, Storage, StorageError, decide, key32,
    page, result_of,
};
use include_dir::{Dir, include_dir};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use rusqlite_migration::{M, Migrations};
use std::path::Path;
use std::sync::{Arc, LazyLock, Mutex};
use uuid::Uuid;
use wardside_sync::Envelope;
use wardside_sync::protocol::{Heads, PullResponse, PushResult, Rejection, StoredOp};
use wardside_sync::wrap::WrappedKey;

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

fn backend(e: impl std::fmt::Display) -> StorageError {
    StorageError::Backend(e.to_string())
}

/// SQLite storage. One connection behind a mutex: SQLite has one writer anyway, and pushes are
/// short transactions.
#[derive(Debug, Clone)]
pub struct SqliteStorage {
    conn: Arc<Mutex<Connection>>,
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
        Ok(SqliteStorage {
            conn: Arc::new(Mutex::new(conn)),
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
    async fn push(&self, org_id: Uuid, ops: Vec<Envelope>, now_ms: i64) -> Result<Vec<PushResult>> {
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
                let mut decision = decide(
                    env,
                    stored.as_ref().map(|(seq, h)| (*seq, h.as_slice())),
                    u64::try_from(last_seq).unwrap_or(0),
                    now_ms,
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
                let inserted = if decision == Decision::Insert {
                    tx.prepare_cached(
                        "INSERT INTO op (org_id, team_id, case_id, device_id, device_seq, op_id, content_hash, envelope, received_at)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
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
                            received_at
                        ])
                    })
                    .map_err(backend)?;
                    let seq = tx.last_insert_rowid();
                    tx.prepare_cached(
                        "INSERT INTO device_head (org_id, team_id, device_id, max_seq, ops) VALUES (?1, ?2, ?3, ?4, 1)
                         ON CONFLICT (org_id, team_id, device_id) DO UPDATE SET max_seq = max(max_seq, excluded.max_seq), ops = ops + 1",
                    )
                    .and_then(|mut s| {
                        s.execute(params![
                            org_id.to_string(),
                            r.team_id.to_string(),
                            r.device_id.to_string(),
                            r.device_seq as i64
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

    async fn heads(&self, org_id: Uuid, teams: Vec<Uuid>) -> Result<Heads> {
        self.run(move |conn| {
            let mut stmt = conn
                .prepare_cached(
                    "SELECT device_id, max(max_seq), sum(ops) FROM device_head
                     WHERE org_id = ?1 AND team_id IN (SELECT value FROM json_each(?2))
                     GROUP BY device_id",
                )
                .map_err(backend)?;
            let rows = stmt
                .query_map(params![org_id.to_string(), team_list(&teams)], |row| {
                    Ok((
                        row.get::<_, String>(0)?,
                        row.get::<_, i64>(1)?,
                        row.get::<_, i64>(2)?,
                    ))
                })
                .map_err(backend)?;
            let mut heads = Heads::default();
            for row in rows {
                let (device, seq, count) = row.map_err(backend)?;
                let device: Uuid = device.parse().map_err(backend)?;
                heads
                    .devices
                    .insert(device, u64::try_from(seq).unwrap_or(0));
                heads
                    .counts
                    .insert(device, u64::try_from(count).unwrap_or(0));
            }
            Ok(heads)
        })
        .await
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

    async fn set_device_status(&self, id: Uuid, status: DeviceStatus) -> Result<bool> {
        self.run(move |conn| {
            let n = conn
                .execute(
                    "UPDATE device SET status = ?2 WHERE id = ?1",
                    params![id.to_string(), status.as_str()],
                )
                .map_err(backend)?;
            Ok(n == 1)
        })
        .await
    }

    async fn add_enrolment_code(&self, c: EnrolmentCode) -> Result<()> {
        self.run(move |conn| {
            conn.execute(
                "INSERT INTO enrolment_code (code_hash, org_id, admin, teams, expires_ms) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![c.code_hash, c.org_id.to_string(), c.admin, team_list(&c.teams), c.expires_ms],
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
                     RETURNING org_id, admin, teams, expires_ms",
                    params![code_hash, now_ms],
                    |r| {
                        Ok((
                            r.get::<_, String>(0)?,
                            r.get::<_, bool>(1)?,
                            r.get::<_, String>(2)?,
                            r.get::<_, i64>(3)?,
                        ))
                    },
                )
                .optional()
                .map_err(backend)?;
            row.map(|(org, admin, teams, expires_ms)| {
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
                })
            })
            .transpose()
        })
        .await
    }

    async fn add_key_wraps(&self, org_id: Uuid, wraps: Vec<WrappedKey>) -> Result<()> {
        self.run(move |conn| {
            let tx = conn.transaction().map_err(backend)?;
            for w in &wraps {
                tx.execute(
                    "INSERT INTO key_wrap (org_id, team_id, epoch, recipient, wrapped) VALUES (?1, ?2, ?3, ?4, ?5)
                     ON CONFLICT DO NOTHING",
                    params![
                        org_id.to_string(),
                        w.kid.team_id.to_string(),
                        w.kid.epoch,
                        w.recipient.to_string(),
                        serde_json::to_string(w).map_err(backend)?
                    ],
                )
                .map_err(backend)?;
            }
            tx.commit().map_err(backend)
        })
        .await
    }

    async fn key_wraps_for(&self, org_id: Uuid, recipient: Uuid) -> Result<Vec<WrappedKey>> {
        self.run(move |conn| {
            let mut stmt = conn
                .prepare_cached(
                    "SELECT wrapped FROM key_wrap WHERE org_id = ?1 AND recipient = ?2 ORDER BY team_id, epoch",
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
