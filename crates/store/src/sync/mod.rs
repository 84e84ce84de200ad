//! What sync needs from the store, and nothing about the network: this device's ops on their
//! way out ([`outbox`]), other devices' ops coming in with their hash chains checked
//! ([`receive`]), the trust log as this device verified it ([`trust`]), what a sync found wrong
//! ([`problems`]), the sync identity and keys, the conflict inbox, and a digest of the
//! materialised state that converged devices share.
//!
//! An op's content on the wire is [`OpContent`] as JSON: kind, field, payload and the person who
//! made it. The sync crate seals and opens it; the store never sees a ciphertext except to keep
//! one it cannot read yet.

mod outbox;
mod problems;
mod receive;
mod restore;
mod trust;

pub use outbox::{LostOwn, OutgoingOp, Seal};
pub use problems::SyncProblem;
pub use receive::{
    ChainGap, ChainInfo, HeldOp, HeldReason, IncomingOp, MAX_UNPROVED_HELD,
    MAX_UNPROVED_HELD_BYTES, OwnSeen, PageOutcome, PeerSeal, ReceivedPage,
};
pub use restore::{LostPeerOp, ServiceRestore};

use crate::error::{Result, StoreError};
use crate::open::Store;
use crate::write::{Entity, OP_SCHEMA_VERSION, OpKind};
use rusqlite::{OptionalExtension, params};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;
use zeroize::Zeroizing;

/// Set a `meta` row inside a transaction (or on the connection).
pub(crate) fn sync_meta_set(conn: &rusqlite::Connection, key: &str, value: &str) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    )?
    .execute([key, value])?;
    Ok(())
}

/// The most a device moves its clock to agree with the service's: a month. A service (or a
/// man in the middle) that claims a time further off cannot push this device's new ops far
/// into the future or past, where they would win or lose every merge; a laptop whose clock is
/// that wrong is told to set it (`sync status`).
pub const MAX_CLOCK_OFFSET_MS: i64 = 31 * 24 * 60 * 60 * 1000;

/// An offset from the service, within [`MAX_CLOCK_OFFSET_MS`] (0 beyond it: our own clock).
pub(crate) fn bounded_offset(offset_ms: i64) -> i64 {
    if offset_ms.unsigned_abs() > MAX_CLOCK_OFFSET_MS.unsigned_abs() {
        0
    } else {
        offset_ms
    }
}

/// The sealed part of an op.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OpContent {
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    pub payload: Value,
    pub actor: String,
}

/// Whether this build can apply an op with this schema version and content. Ops it cannot are
/// held, never dropped, and tried again after an upgrade.
pub fn readable(schema_v: u32, entity: &str, content: &[u8]) -> bool {
    i64::from(schema_v) <= OP_SCHEMA_VERSION
        && Entity::parse(entity).is_some()
        && serde_json::from_slice::<OpContent>(content)
            .ok()
            .is_some_and(|c| OpKind::parse(&c.kind).is_some())
}

/// A team's content key for one epoch, as kept in the store.
#[derive(Debug)]
pub struct StoredTeamKey {
    pub team: Uuid,
    pub epoch: u32,
    pub secret: Zeroizing<Vec<u8>>,
}

/// The settings [`Store::begin_large_pull`] changed, to put back.
#[derive(Debug, Clone, Copy)]
pub struct LargePull {
    cache: i64,
    checkpoint: i64,
}

/// How this device is enrolled. Stored as JSON in `meta`; keys live in `sync_secret`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncConfig {
    pub server: String,
    pub org_id: Uuid,
    pub teams: Vec<Uuid>,
    pub admin: bool,
    /// `approved`, `pending`, `revoked`, or `re-enrol` (another install uses this device id).
    pub status: String,
    pub fingerprint: String,
    pub name: String,
    /// Base64 of the organisation's root key (its first admin's signing key), pinned at
    /// enrolment: every trust statement is checked from it.
    #[serde(default)]
    pub root_key: Option<String>,
}

/// The numbers the status line and `wardside sync status` show.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SyncSummary {
    pub enrolled: bool,
    pub status: Option<String>,
    pub last_sync: Option<String>,
    pub unsynced: u64,
    pub conflicts: u64,
    pub inbox: u64,
    pub held: u64,
    /// What the last sync found wrong (gaps, tampered ops, a trust log the service altered...):
    /// see [`Store::sync_problems`].
    pub problems: u64,
}

/// An entry in the sync inbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InboxItem {
    pub id: i64,
    pub kind: String,
    pub entity: String,
    pub entity_id: String,
    pub field: Option<String>,
    /// The value this device had, which lost (JSON), for an overwritten field.
    pub lost_value: Option<String>,
    pub won_value: Option<String>,
    pub at: String,
}

/// A note with more than one version at its head.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NoteConflict {
    pub activity_id: Uuid,
    pub case_id: Option<Uuid>,
    pub versions: Vec<ConflictVersion>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConflictVersion {
    pub version_id: Uuid,
    pub body: String,
    pub author: String,
    pub saved_at: String,
    pub device_id: String,
}

fn parse_uuid(s: &str) -> Result<Uuid> {
    s.parse()
        .map_err(|_| StoreError::Corrupt("an id in the op log is not a UUID".into()))
}

/// Commits of sync bookkeeping that a power cut may undo without harm, because the next sync
/// redoes it: an acknowledgement not kept means the op is sent again byte for byte (the service
/// answers "duplicate"); a received page not kept is read again from the cursor kept with it.
/// They stay atomic (write-ahead log, `synchronous = NORMAL`); they are just not flushed to the
/// disk one by one, and the next flushed commit (a note saved, a seal kept) flushes them too.
/// Never for what a person wrote, nor for a seal before it is sent.
pub(crate) fn relaxed<T>(conn: &rusqlite::Connection, f: impl FnOnce() -> Result<T>) -> Result<T> {
    conn.execute_batch("PRAGMA synchronous = NORMAL")?;
    flushed_again(
        conn,
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)),
    )
}

/// Back to flushing every commit after [`relaxed`] work, whatever its outcome: an error, or a
/// panic (given back after; the app goes on using a store whose lock a panic poisoned, and
/// every note saved after must be flushed).
pub(crate) fn flushed_again<T>(
    conn: &rusqlite::Connection,
    out: std::thread::Result<Result<T>>,
) -> Result<T> {
    let restored = conn.execute_batch("PRAGMA synchronous = FULL");
    match out {
        Err(panic) => std::panic::resume_unwind(panic),
        Ok(out) => {
            restored?;
            out
        }
    }
}

impl Store {
    fn meta(&self, key: &str) -> Result<Option<String>> {
        Ok(self
            .conn
            .prepare_cached("SELECT value FROM meta WHERE key = ?1")?
            .query_row([key], |r| r.get(0))
            .optional()?)
    }

    fn set_meta(&self, key: &str, value: &str) -> Result<()> {
        self.conn
            .prepare_cached(
                "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            )?
            .execute([key, value])?;
        Ok(())
    }

    pub fn sync_config(&self) -> Result<Option<SyncConfig>> {
        self.meta("sync_config")?
            .map(|s| serde_json::from_str(&s).map_err(StoreError::from))
            .transpose()
    }

    pub fn set_sync_config(&self, config: &SyncConfig) -> Result<()> {
        self.set_meta("sync_config", &serde_json::to_string(config)?)
    }

    /// A sync secret (this device's private keys, the recovery public key).
    pub fn sync_secret(&self, name: &str) -> Result<Option<Zeroizing<Vec<u8>>>> {
        Ok(self
            .conn
            .prepare_cached("SELECT value FROM sync_secret WHERE name = ?1")?
            .query_row([name], |r| r.get::<_, Vec<u8>>(0))
            .optional()?
            .map(Zeroizing::new))
    }

    pub fn set_sync_secret(&self, name: &str, value: &[u8]) -> Result<()> {
        self.conn
            .prepare_cached(
                "INSERT INTO sync_secret (name, value) VALUES (?1, ?2) ON CONFLICT (name) DO UPDATE SET value = excluded.value",
            )?
            .execute(params![name, value])?;
        Ok(())
    }

    /// Every team key this device holds.
    pub fn team_keys(&self) -> Result<Vec<StoredTeamKey>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT team_id, epoch, secret FROM team_key ORDER BY team_id, epoch",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, u32>(1)?,
                Zeroizing::new(r.get::<_, Vec<u8>>(2)?),
            ))
        })?;
        rows.map(|row| {
            let (t, epoch, secret) = row?;
            Ok(StoredTeamKey {
                team: parse_uuid(&t)?,
                epoch,
                secret,
            })
        })
        .collect()
    }

    /// Keep a team key. A key already held for the epoch is never replaced.
    pub fn add_team_key(&self, team: Uuid, epoch: u32, secret: &[u8]) -> Result<bool> {
        let n = self
            .conn
            .prepare_cached(
                "INSERT INTO team_key (team_id, epoch, secret) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING",
            )?
            .execute(params![team.to_string(), epoch, secret])?;
        Ok(n == 1)
    }

    pub fn sync_cursor(&self) -> Result<i64> {
        Ok(self
            .meta("sync_cursor")?
            .and_then(|s| s.parse().ok())
            .unwrap_or(0))
    }

    /// Start reading the service's log from the beginning again (ops already held are skipped):
    /// the refill when the heads show a hole.
    pub fn reset_sync_cursor(&self) -> Result<()> {
        self.set_meta("sync_cursor", "0")
    }

    /// Record a successful contact: when, and how far the service's clock is from ours. Within
    /// a few seconds our own clock is trusted (network delay would only add noise); beyond, new
    /// ops are stamped on the service's time.
    /// The service's word on the time is bounded ([`MAX_CLOCK_OFFSET_MS`]).
    pub fn record_sync(&self, server_time_ms: i64) -> Result<()> {
        const TRUSTED_MS: i64 = 5_000;
        let now = self.clock.now();
        let offset = bounded_offset(server_time_ms.saturating_sub(now.timestamp_millis()));
        let offset = if offset.abs() < TRUSTED_MS { 0 } else { offset };
        relaxed(&self.conn, || {
            let tx = rusqlite::Transaction::new_unchecked(
                &self.conn,
                rusqlite::TransactionBehavior::Immediate,
            )?;
            sync_meta_set(&tx, "clock_offset_ms", &offset.to_string())?;
            sync_meta_set(&tx, "sync_last", &now.to_rfc3339())?;
            tx.commit()?;
            Ok(())
        })
    }

    /// An admin revoked this device (a signed statement in the trust log, never the service's
    /// word): remove every record of the organisation from it (clients, cases, notes, keys,
    /// audit, everything received), then compact the file so no page keeps them. What was made
    /// here and never sent is kept, encrypted under the passphrase as before: this device's
    /// unsent ops (with who made them) and unsaved drafts, until an admin enrols the laptop
    /// again (they are then sent) or the store is deleted. Returns how many unsent ops were kept.
    pub fn wipe_organisation_data(&mut self) -> Result<u64> {
        let me = self.device_id.clone();
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        tx.execute_batch(
            "INSERT INTO note_fts (note_fts) VALUES ('delete-all');
             DELETE FROM note_version; DELETE FROM activity; DELETE FROM amendment; DELETE FROM safeguarding; DELETE FROM task_update; DELETE FROM task; DELETE FROM issue;
             DELETE FROM kase; DELETE FROM referral; DELETE FROM consent; DELETE FROM relative;
             DELETE FROM legal_event; DELETE FROM client; DELETE FROM advocate; DELETE FROM team;
             DELETE FROM op_held; DELETE FROM op_envelope; DELETE FROM op_via_transfer; DELETE FROM field_clock;
             DELETE FROM note_conflict; DELETE FROM sync_inbox;
             DELETE FROM team_key; DELETE FROM sync_secret;
             DELETE FROM trust_statement; DELETE FROM own_seal; DELETE FROM own_tally; DELETE FROM peer_chain;
             DELETE FROM chain_pending; DELETE FROM chain_break; DELETE FROM sync_problem;
             DELETE FROM meta WHERE key IN ('sync_cursor', 'sync_last', 'hlc', 'held_not_kept', 'own_still_lost', 'trust_problem', 'service_generation', 'restore_pending', 'service_restored');",
        )?;
        tx.execute(
            "DELETE FROM op WHERE NOT (device_id = ?1 AND server_seq IS NULL)",
            [&me],
        )?;
        tx.execute(
            "DELETE FROM audit WHERE op_id IS NULL OR op_id NOT IN (SELECT op_id FROM op)",
            [],
        )?;
        let kept: Vec<String> = tx
            .prepare("SELECT op_id FROM op ORDER BY device_seq")?
            .query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        // Shown again once the laptop is enrolled again (`reapply_kept`).
        sync_meta_set(&tx, "kept_unsent", &serde_json::to_string(&kept)?)?;
        tx.commit()?;
        if let Some(mut c) = self.sync_config()? {
            c.status = "revoked".into();
            self.set_sync_config(&c)?;
        }
        self.conn.execute_batch("VACUUM;")?;
        Ok(kept.len() as u64)
    }

    /// Status for the status line and `sync status`.
    pub fn sync_summary(&self) -> Result<SyncSummary> {
        let config = self.sync_config()?;
        let (conflicts, inbox, held, problems): (i64, i64, i64, i64) = self.conn.query_row(
            "SELECT (SELECT count(*) FROM note_conflict), (SELECT count(*) FROM sync_inbox WHERE dismissed = 0), (SELECT count(*) FROM op_held),
                    (SELECT count(*) FROM sync_problem)",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )?;
        Ok(SyncSummary {
            enrolled: config.is_some(),
            status: config.map(|c| c.status),
            last_sync: self.meta("sync_last")?,
            unsynced: self.unpushed_count()?,
            conflicts: conflicts.unsigned_abs(),
            inbox: inbox.unsigned_abs(),
            held: held.unsigned_abs(),
            problems: problems.unsigned_abs(),
        })
    }

    /// The inbox: overwritten local edits and entries deleted on one device and edited on another.
    pub fn sync_inbox(&self) -> Result<Vec<InboxItem>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT i.id, i.kind, i.entity, i.entity_id, i.field, l.payload, w.payload, i.at
             FROM sync_inbox i LEFT JOIN op l ON l.op_id = i.lost_op LEFT JOIN op w ON w.op_id = i.won_op
             WHERE i.dismissed = 0 ORDER BY i.id",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(InboxItem {
                id: r.get(0)?,
                kind: r.get(1)?,
                entity: r.get(2)?,
                entity_id: r.get(3)?,
                field: r.get(4)?,
                lost_value: r.get(5)?,
                won_value: r.get(6)?,
                at: r.get(7)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    pub fn dismiss_inbox_item(&mut self, id: i64) -> Result<bool> {
        Ok(self
            .conn
            .execute("UPDATE sync_inbox SET dismissed = 1 WHERE id = ?1", [id])?
            == 1)
    }

    /// Notes in conflict, each with the texts of its heads.
    pub fn note_conflicts(&self) -> Result<Vec<NoteConflict>> {
        let notes: Vec<(String, String, Option<String>)> = self
            .conn
            .prepare_cached(
                "SELECT c.note_id, c.heads, a.case_id FROM note_conflict c LEFT JOIN activity a ON a.id = c.note_id ORDER BY c.found_at, c.note_id",
            )?
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
            .collect::<rusqlite::Result<_>>()?;
        notes
            .into_iter()
            .map(|(note, heads, case)| {
                let heads: Vec<String> = serde_json::from_str(&heads)?;
                let versions = heads
                    .iter()
                    .map(|h| {
                        let (body, author, saved_at, device_id) = self.conn.query_row(
                            "SELECT body, author, saved_at, device_id FROM note_version WHERE version_id = ?1",
                            [h],
                            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
                        )?;
                        Ok(ConflictVersion {
                            version_id: parse_uuid(h)?,
                            body,
                            author,
                            saved_at,
                            device_id,
                        })
                    })
                    .collect::<Result<_>>()?;
                Ok(NoteConflict {
                    activity_id: parse_uuid(&note)?,
                    case_id: case.as_deref().map(parse_uuid).transpose()?,
                    versions,
                })
            })
            .collect()
    }

    /// SHA-256 over a canonical dump of everything synced: every record, every note version,
    /// what is deleted and which text shows. Devices that have converged give the same digest.
    /// No content leaves: only the hash.
    pub fn convergence_digest(&self) -> Result<String> {
        let dump = self.convergence_dump()?;
        let d = ring::digest::digest(&ring::digest::SHA256, dump.as_bytes());
        Ok(d.as_ref().iter().map(|b| format!("{b:02x}")).collect())
    }

    /// The canonical dump behind [`Store::convergence_digest`], one line per row. It holds
    /// content: for tests to show where two devices differ, never for a log.
    #[doc(hidden)]
    pub fn convergence_dump(&self) -> Result<String> {
        let mut out = String::new();
        for table in [
            "team",
            "advocate",
            "client",
            "legal_event",
            "relative",
            "consent",
            "referral",
            "kase",
            "issue",
            "safeguarding",
            "task",
            "task_update",
        ] {
            let mut stmt = self
                .conn
                .prepare(&format!("SELECT id, data FROM {table} ORDER BY id"))?;
            let rows =
                stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
            for row in rows {
                let (id, data) = row?;
                let v: Value = serde_json::from_str(&data)?;
                out.push_str(&format!("{table}\u{1}{id}\u{1}{v}\n"));
            }
        }
        let mut stmt = self.conn.prepare(
            "SELECT a.id, a.data, a.deleted, nv.version_id FROM activity a LEFT JOIN note_version nv ON nv.rowid = a.head ORDER BY a.id",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, bool>(2)?,
                r.get::<_, Option<String>>(3)?,
            ))
        })?;
        for row in rows {
            let (id, data, deleted, head) = row?;
            let v: Value = serde_json::from_str(&data)?;
            out.push_str(&format!(
                "activity\u{1}{id}\u{1}{v}\u{1}{deleted}\u{1}{head:?}\n"
            ));
        }
        let mut stmt = self.conn.prepare(
            "SELECT version_id, note_id, parents, body, derived FROM note_version ORDER BY version_id",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(format!(
                "note\u{1}{}\u{1}{}\u{1}{}\u{1}{:?}\u{1}{}\n",
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, bool>(4)?
            ))
        })?;
        for row in rows {
            out.push_str(&row?);
        }
        Ok(out)
    }

    /// The text a note shows now: its one head, the merge of several, or (in conflict) the newest.
    pub fn note_text(&self, id: wardside_domain::ActivityId) -> Result<String> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT nv.body FROM activity a JOIN note_version nv ON nv.rowid = a.head WHERE a.id = ?1",
            )?
            .query_row([id.to_string()], |r| r.get(0))
            .optional()?
            .unwrap_or_default())
    }

    /// Whether an entry is off the timeline.
    pub fn is_deleted(&self, id: wardside_domain::ActivityId) -> Result<bool> {
        Ok(self
            .conn
            .prepare_cached("SELECT deleted FROM activity WHERE id = ?1")?
            .query_row([id.to_string()], |r| r.get(0))?)
    }

    /// Settings for applying a large pull (a first sync writes into every index at once):
    /// a 512 MiB page cache, so a write does not read, decrypt and re-encrypt pages it had a
    /// moment ago, and a 64 MiB write-ahead log between checkpoints instead of 4 MiB, so a
    /// page written by several transactions is copied into the file once. Returns what to give
    /// [`Store::end_large_pull`].
    pub fn begin_large_pull(&self) -> Result<LargePull> {
        let cache: i64 = self.conn.query_row("PRAGMA cache_size", [], |r| r.get(0))?;
        let checkpoint: i64 = self
            .conn
            .query_row("PRAGMA wal_autocheckpoint", [], |r| r.get(0))?;
        self.conn.execute_batch("PRAGMA cache_size = -524288;")?;
        self.conn
            .query_row("PRAGMA wal_autocheckpoint = 16384", [], |_| Ok(()))?;
        Ok(LargePull { cache, checkpoint })
    }

    /// Put the settings back, and fold the log into the file (shrinking it).
    pub fn end_large_pull(&self, saved: LargePull) -> Result<()> {
        self.conn
            .execute_batch(&format!("PRAGMA cache_size = {};", saved.cache))?;
        self.conn.query_row(
            &format!("PRAGMA wal_autocheckpoint = {}", saved.checkpoint),
            [],
            |_| Ok(()),
        )?;
        self.conn
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        Ok(())
    }

    /// Pages in the database file (with [`Store::limit_pages`], how the full-disk tests make
    /// SQLite run out of room).
    pub fn page_count(&self) -> Result<u64> {
        Ok(self
            .conn
            .query_row("PRAGMA page_count", [], |r| r.get::<_, i64>(0))?
            .unsigned_abs())
    }

    /// Let the file grow to at most `pages` pages (0: no limit): a full disk, for tests.
    pub fn limit_pages(&self, pages: u64) -> Result<()> {
        let pages = if pages == 0 { 4_294_967_294 } else { pages };
        self.conn
            .query_row(&format!("PRAGMA max_page_count = {pages}"), [], |_| Ok(()))?;
        Ok(())
    }

    /// Every op id this store holds, applied or held, sorted.
    pub fn op_ids(&self) -> Result<Vec<String>> {
        let mut stmt = self
            .conn
            .prepare("SELECT op_id FROM op UNION SELECT op_id FROM op_held ORDER BY 1")?;
        let rows = stmt.query_map([], |r| r.get(0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Every note version saved by a person (derived merges aside), sorted: id and a hash of the
    /// text, so a test can check every version is everywhere, byte for byte.
    pub fn note_version_ids(&self) -> Result<Vec<String>> {
        let mut stmt = self.conn.prepare(
            "SELECT version_id, body FROM note_version WHERE derived = 0 ORDER BY version_id",
        )?;
        let rows = stmt.query_map([], |r| {
            let id: String = r.get(0)?;
            let body: String = r.get(1)?;
            let h = ring::digest::digest(&ring::digest::SHA256, body.as_bytes());
            Ok(format!(
                "{id}:{}",
                h.as_ref()[..8]
                    .iter()
                    .map(|b| format!("{b:02x}"))
                    .collect::<String>()
            ))
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn synchronous(conn: &rusqlite::Connection) -> i64 {
        conn.query_row("PRAGMA synchronous", [], |r| r.get(0))
            .unwrap()
    }

    /// Whatever happens inside, every later commit is flushed again: an error, or a panic (the
    /// app goes on using a store whose lock a panic poisoned).
    #[test]
    fn relaxed_commits_end_with_full_flushing_even_on_an_error_or_a_panic() {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        conn.execute_batch("PRAGMA synchronous = FULL").unwrap();
        assert_eq!(synchronous(&conn), 2);
        let r: Result<()> = relaxed(&conn, || {
            assert_eq!(synchronous(&conn), 1);
            Err(StoreError::Corrupt("no".into()))
        });
        assert!(r.is_err());
        assert_eq!(synchronous(&conn), 2);
        let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let _: Result<()> = relaxed(&conn, || panic!("in a relaxed commit"));
        }));
        assert!(panicked.is_err());
        assert_eq!(synchronous(&conn), 2);
    }
}

/// One of the organisation's teams this device is in, by its trust log, with the name its
/// members were sent (none for the organisation's first team, named by nobody).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SyncTeam {
    pub id: Uuid,
    pub name: Option<String>,
}

impl Store {
    /// The teams this device is in (none before it is enrolled), first its own first team.
    pub fn sync_teams(&self) -> Result<Vec<SyncTeam>> {
        let Some(config) = self.sync_config()? else {
            return Ok(Vec::new());
        };
        config
            .teams
            .iter()
            .map(|id| {
                let name = self.get::<wardside_domain::Team>(*id).ok().map(|t| t.name);
                Ok(SyncTeam { id: *id, name })
            })
            .collect()
    }
}
