//! The PostgreSQL backend, for an organisation that outgrows one file: tokio-postgres with a
//! deadpool pool, migrations by refinery (`migrations/server/postgres`).
//!
//! Cursor order: `server_seq` comes from a sequence, and two concurrent transactions could
//! commit their numbers out of order, so a reader paging by cursor might step past an op that
//! commits a moment later. Each push therefore takes a transaction-scoped advisory lock on its
//! organisation first: within an organisation, cursors commit in order.

use super::{
    Appended, ChainTip, Decision, Device, DeviceChange, DeviceStatus, EnrolmentCode, Result,
    Storage, StorageError, decide, key32, page, result_of,
};
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use uuid::Uuid;
use wardside_sync::Envelope;
use wardside_sync::protocol::{
    DeviceHead, PullResponse, PushResult, Rejection, ServiceMark, StoredOp,
};
use wardside_sync::trust::KeyGrant;

mod embedded {
    refinery::embed_migrations!("../../migrations/server/postgres");
}

fn backend(e: impl std::fmt::Display) -> StorageError {
    StorageError::Backend(e.to_string())
}

#[derive(Clone)]
pub struct PostgresStorage {
    pool: Pool,
    nonce_calls: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl std::fmt::Debug for PostgresStorage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The connection string may hold a password: never printed.
        f.debug_struct("PostgresStorage").finish_non_exhaustive()
    }
}

/// A stable 64-bit advisory-lock key for an organisation.
fn org_lock_key(org: Uuid) -> i64 {
    let b = org.as_bytes();
    i64::from_be_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]])
}

impl PostgresStorage {
    /// Connect (`postgres://user:password@host/db`), and bring the schema up to date.
    pub async fn open(url: &str) -> Result<Self> {
        let config: tokio_postgres::Config = url.parse().map_err(backend)?;
        let manager = Manager::from_config(
            config,
            tokio_postgres::NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(16)
            .build()
            .map_err(backend)?;
        let mut client = pool.get().await.map_err(backend)?;
        let client: &mut tokio_postgres::Client = &mut client;
        embedded::migrations::runner()
            .run_async(client)
            .await
            .map_err(|e| match e.kind() {
                // A migration applied that this build does not have: a newer server's.
                refinery::error::Kind::MissingVersion(_) => StorageError::NewerSchema,
                _ => backend(e),
            })?;
        Ok(PostgresStorage {
            pool,
            nonce_calls: Default::default(),
        })
    }
}

impl Storage for PostgresStorage {
    async fn push(
        &self,
        org_id: Uuid,
        pusher: Uuid,
        ops: Vec<Envelope>,
        now_ms: i64,
    ) -> Result<Vec<PushResult>> {
        let mut client = self.pool.get().await.map_err(backend)?;
        let tx = client.transaction().await.map_err(backend)?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&org_lock_key(org_id)])
            .await
            .map_err(backend)?;
        let mut results = Vec::with_capacity(ops.len());
        for env in &ops {
            let r = &env.routing;
            let seq = i64::try_from(r.device_seq).map_err(backend)?;
            let stored = tx
                .query_opt(
                    "SELECT server_seq, content_hash FROM op WHERE device_id = $1 AND device_seq = $2",
                    &[&r.device_id, &seq],
                )
                .await
                .map_err(backend)?
                .map(|row| (row.get::<_, i64>(0), row.get::<_, Vec<u8>>(1)));
            let last_seq: i64 = tx
                .query_one(
                    "SELECT coalesce(max(device_seq), 0)::BIGINT FROM op WHERE device_id = $1",
                    &[&r.device_id],
                )
                .await
                .map_err(backend)?
                .get(0);
            let tip = tx
                .query_opt(
                    "SELECT chain_seq, chain_hash FROM device_head WHERE org_id = $1 AND team_id = $2 AND device_id = $3",
                    &[&org_id, &r.team_id, &r.device_id],
                )
                .await
                .map_err(backend)?
                .map(|row| ChainTip {
                    seq: u64::try_from(row.get::<_, i64>(0)).unwrap_or(0),
                    hash: row.get(1),
                })
                .unwrap_or_default();
            let mut decision = decide(
                env,
                stored.as_ref().map(|(s, h)| (*s, h.as_slice())),
                u64::try_from(last_seq).unwrap_or(0),
                &tip,
                now_ms,
                env.routing.device_id != pusher,
            );
            if decision == Decision::Insert
                && tx
                    .query_opt("SELECT 1 FROM op WHERE op_id = $1", &[&r.op_id])
                    .await
                    .map_err(backend)?
                    .is_some()
            {
                decision = Decision::Reject(Rejection::SeqConflict);
            }
            let inserted = if decision == Decision::Insert {
                let json = serde_json::to_string(env).map_err(backend)?;
                let chain_seq = r.chain.map(|c| c.seq as i64);
                let row = tx
                    .query_one(
                        "INSERT INTO op (org_id, team_id, case_id, device_id, device_seq, op_id, content_hash, envelope, chain_seq)
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING server_seq",
                        &[
                            &org_id,
                            &r.team_id,
                            &r.case_id,
                            &r.device_id,
                            &seq,
                            &r.op_id,
                            &env.content_hash,
                            &json,
                            &chain_seq,
                        ],
                    )
                    .await
                    .map_err(backend)?;
                tx.execute(
                    "INSERT INTO device_head (org_id, team_id, device_id, max_seq, ops, chain_seq, chain_hash) VALUES ($1, $2, $3, $4, 1, $5, $6)
                     ON CONFLICT (org_id, team_id, device_id) DO UPDATE SET max_seq = GREATEST(device_head.max_seq, excluded.max_seq), ops = device_head.ops + 1,
                       chain_hash = CASE WHEN excluded.chain_seq > device_head.chain_seq THEN excluded.chain_hash ELSE device_head.chain_hash END,
                       chain_seq = GREATEST(device_head.chain_seq, excluded.chain_seq)",
                    &[&org_id, &r.team_id, &r.device_id, &seq, &chain_seq.unwrap_or(0), &env.content_hash],
                )
                .await
                .map_err(backend)?;
                Some(row.get::<_, i64>(0))
            } else {
                None
            };
            results.push(result_of(env, &decision, inserted));
        }
        // Committed before anyone is told "accepted".
        tx.commit().await.map_err(backend)?;
        Ok(results)
    }

    async fn pull(
        &self,
        org_id: Uuid,
        teams: Vec<Uuid>,
        after: i64,
        limit: usize,
        now_ms: i64,
    ) -> Result<PullResponse> {
        let client = self.pool.get().await.map_err(backend)?;
        let rows = client
            .query(
                "SELECT server_seq, envelope FROM op
                 WHERE org_id = $1 AND server_seq > $2 AND team_id = ANY($3)
                 ORDER BY server_seq LIMIT $4",
                &[&org_id, &after, &teams, &(limit as i64 + 1)],
            )
            .await
            .map_err(backend)?;
        let mut ops = Vec::with_capacity(rows.len());
        for row in rows {
            let envelope: Envelope =
                serde_json::from_str(row.get::<_, &str>(1)).map_err(backend)?;
            ops.push(StoredOp {
                server_seq: row.get(0),
                envelope,
            });
        }
        Ok(page(ops, limit, after, now_ms))
    }

    async fn heads(&self, org_id: Uuid, teams: Vec<Uuid>) -> Result<Vec<DeviceHead>> {
        let client = self.pool.get().await.map_err(backend)?;
        let rows = client
            .query(
                "SELECT device_id, team_id, max_seq, ops, chain_seq FROM device_head
                 WHERE org_id = $1 AND team_id = ANY($2) ORDER BY device_id, team_id",
                &[&org_id, &teams],
            )
            .await
            .map_err(backend)?;
        Ok(rows
            .iter()
            .map(|row| DeviceHead {
                device_id: row.get(0),
                team_id: row.get(1),
                max_seq: u64::try_from(row.get::<_, i64>(2)).unwrap_or(0),
                ops: u64::try_from(row.get::<_, i64>(3)).unwrap_or(0),
                chain_seq: u64::try_from(row.get::<_, i64>(4)).unwrap_or(0),
            })
            .collect())
    }

    async fn trust_log(&self, org_id: Uuid, after: u64, limit: usize) -> Result<Vec<String>> {
        let client = self.pool.get().await.map_err(backend)?;
        let rows = client
            .query(
                "SELECT statement FROM trust_statement WHERE org_id = $1 AND seq > $2 ORDER BY seq LIMIT $3",
                &[
                    &org_id,
                    &i64::try_from(after).unwrap_or(i64::MAX),
                    &(limit as i64),
                ],
            )
            .await
            .map_err(backend)?;
        Ok(rows.iter().map(|r| r.get::<_, String>(0)).collect())
    }

    async fn trust_head(&self, org_id: Uuid) -> Result<u64> {
        let client = self.pool.get().await.map_err(backend)?;
        let row = client
            .query_one(
                "SELECT coalesce(max(seq), 0)::BIGINT FROM trust_statement WHERE org_id = $1",
                &[&org_id],
            )
            .await
            .map_err(backend)?;
        Ok(row.get::<_, i64>(0).unsigned_abs())
    }

    async fn append_statement(
        &self,
        org_id: Uuid,
        seq: u64,
        json: String,
        change: DeviceChange,
    ) -> Result<Appended> {
        let mut client = self.pool.get().await.map_err(backend)?;
        let tx = client.transaction().await.map_err(backend)?;
        let n = tx
            .execute(
                "INSERT INTO trust_statement (org_id, seq, statement) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                &[&org_id, &i64::try_from(seq).map_err(backend)?, &json],
            )
            .await
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
                    "UPDATE device SET status = 'approved', admin = $2, teams = $3 WHERE id = $1 AND org_id = $4",
                    &[&device, &admin, &teams, &org_id],
                )
                .await
                .map_err(backend)?;
            }
            DeviceChange::Revoke { device } => {
                tx.execute(
                    "UPDATE device SET status = 'revoked', admin = false WHERE id = $1 AND org_id = $2",
                    &[&device, &org_id],
                )
                .await
                .map_err(backend)?;
            }
        }
        tx.commit().await.map_err(backend)?;
        Ok(Appended::Yes)
    }

    async fn use_nonce(
        &self,
        device: Uuid,
        nonce: String,
        expires_ms: i64,
        now_ms: i64,
    ) -> Result<bool> {
        let client = self.pool.get().await.map_err(backend)?;
        let n = client
            .execute(
                "INSERT INTO request_nonce (device_id, nonce, expires_ms) VALUES ($1, $2, $3)
                 ON CONFLICT (device_id, nonce) DO UPDATE SET expires_ms = excluded.expires_ms
                 WHERE request_nonce.expires_ms < $4",
                &[&device, &nonce, &expires_ms, &now_ms],
            )
            .await
            .map_err(backend)?;
        if self
            .nonce_calls
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            .is_multiple_of(256)
        {
            client
                .execute(
                    "DELETE FROM request_nonce WHERE ctid IN (SELECT ctid FROM request_nonce WHERE expires_ms < $1 LIMIT 1000)",
                    &[&now_ms],
                )
                .await
                .map_err(backend)?;
        }
        Ok(n == 1)
    }

    async fn create_org(&self, id: Uuid, name: String) -> Result<()> {
        let client = self.pool.get().await.map_err(backend)?;
        client
            .execute("INSERT INTO org (id, name) VALUES ($1, $2)", &[&id, &name])
            .await
            .map_err(backend)?;
        Ok(())
    }

    async fn organisations(&self) -> Result<Vec<Uuid>> {
        let client = self.pool.get().await.map_err(backend)?;
        let rows = client
            .query("SELECT id FROM org ORDER BY created_at, id", &[])
            .await
            .map_err(backend)?;
        Ok(rows.iter().map(|r| r.get(0)).collect())
    }

    async fn add_device(&self, d: Device) -> Result<()> {
        let client = self.pool.get().await.map_err(backend)?;
        client
            .execute(
                "INSERT INTO device (id, org_id, name, sign_key, box_key, status, admin, teams)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                &[
                    &d.id,
                    &d.org_id,
                    &d.name,
                    &d.sign_key.to_vec(),
                    &d.box_key.to_vec(),
                    &d.status.as_str(),
                    &d.admin,
                    &d.teams,
                ],
            )
            .await
            .map_err(backend)?;
        Ok(())
    }

    async fn device(&self, id: Uuid) -> Result<Option<Device>> {
        let client = self.pool.get().await.map_err(backend)?;
        let rows = client
            .query(
                "SELECT id, org_id, name, sign_key, box_key, status, admin, teams FROM device WHERE id = $1",
                &[&id],
            )
            .await
            .map_err(backend)?;
        rows.iter().map(device_of).next().transpose()
    }

    async fn devices(&self, org_id: Uuid) -> Result<Vec<Device>> {
        let client = self.pool.get().await.map_err(backend)?;
        let rows = client
            .query(
                "SELECT id, org_id, name, sign_key, box_key, status, admin, teams FROM device WHERE org_id = $1 ORDER BY created_at, id",
                &[&org_id],
            )
            .await
            .map_err(backend)?;
        rows.iter().map(device_of).collect()
    }

    async fn add_enrolment_code(&self, c: EnrolmentCode) -> Result<()> {
        let client = self.pool.get().await.map_err(backend)?;
        client
            .execute(
                "INSERT INTO enrolment_code (code_hash, org_id, admin, teams, expires_ms, root_key, binding) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                &[&c.code_hash, &c.org_id, &c.admin, &c.teams, &c.expires_ms, &c.root_key, &c.binding],
            )
            .await
            .map_err(backend)?;
        Ok(())
    }

    async fn take_enrolment_code(
        &self,
        code_hash: Vec<u8>,
        now_ms: i64,
    ) -> Result<Option<EnrolmentCode>> {
        let client = self.pool.get().await.map_err(backend)?;
        let row = client
            .query_opt(
                "UPDATE enrolment_code SET used_ms = $2
                 WHERE code_hash = $1 AND used_ms IS NULL AND expires_ms > $2
                 RETURNING org_id, admin, teams, expires_ms, root_key, binding",
                &[&code_hash, &now_ms],
            )
            .await
            .map_err(backend)?;
        Ok(row.map(|r| EnrolmentCode {
            code_hash,
            org_id: r.get(0),
            admin: r.get(1),
            teams: r.get(2),
            expires_ms: r.get(3),
            root_key: r.get(4),
            binding: r.get(5),
        }))
    }

    async fn add_key_grants(&self, org_id: Uuid, grants: Vec<KeyGrant>) -> Result<()> {
        let mut client = self.pool.get().await.map_err(backend)?;
        let tx = client.transaction().await.map_err(backend)?;
        for g in &grants {
            let w = &g.wrap;
            let json = serde_json::to_string(g).map_err(backend)?;
            tx.execute(
                "INSERT INTO key_grant (org_id, team_id, epoch, recipient, grant_json) VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT DO NOTHING",
                &[&org_id, &w.kid.team_id, &i64::from(w.kid.epoch), &w.recipient, &json],
            )
            .await
            .map_err(backend)?;
        }
        tx.commit().await.map_err(backend)
    }

    async fn key_grants_for(&self, org_id: Uuid, recipient: Uuid) -> Result<Vec<KeyGrant>> {
        let client = self.pool.get().await.map_err(backend)?;
        let rows = client
            .query(
                "SELECT grant_json FROM key_grant WHERE org_id = $1 AND recipient = $2 ORDER BY team_id, epoch",
                &[&org_id, &recipient],
            )
            .await
            .map_err(backend)?;
        rows.iter()
            .map(|r| serde_json::from_str(r.get::<_, &str>(0)).map_err(backend))
            .collect()
    }

    async fn service_mark(&self, org_id: Uuid) -> Result<ServiceMark> {
        let client = self.pool.get().await.map_err(backend)?;
        let row = client
            .query_one(
                "SELECT (SELECT generation FROM service WHERE id = 1),
                        (SELECT coalesce(max(server_seq), 0)::BIGINT FROM op WHERE org_id = $1)",
                &[&org_id],
            )
            .await
            .map_err(backend)?;
        Ok(ServiceMark {
            generation: row
                .try_get(0)
                .map_err(|_| backend("the service table has no generation"))?,
            high_water: row.get(1),
        })
    }

    async fn generation(&self) -> Result<Uuid> {
        let client = self.pool.get().await.map_err(backend)?;
        let row = client
            .query_one("SELECT generation FROM service WHERE id = 1", &[])
            .await
            .map_err(backend)?;
        Ok(row.get(0))
    }

    async fn new_generation(&self) -> Result<Uuid> {
        let client = self.pool.get().await.map_err(backend)?;
        let fresh = Uuid::new_v4();
        client
            .execute(
                "UPDATE service SET generation = $1, changed_at = now() WHERE id = 1",
                &[&fresh],
            )
            .await
            .map_err(backend)?;
        Ok(fresh)
    }
}

fn device_of(r: &tokio_postgres::Row) -> Result<Device> {
    Ok(Device {
        id: r.get(0),
        org_id: r.get(1),
        name: r.get(2),
        sign_key: key32(r.get(3))?,
        box_key: key32(r.get(4))?,
        status: DeviceStatus::parse(r.get(5))?,
        admin: r.get(6),
        teams: r.get(7),
    })
}
