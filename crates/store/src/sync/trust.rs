//! The organisation's trust log as this device checked it: kept in order, each statement once.
//! The sync crate verifies statements; the store only keeps what was verified.

use super::sync_meta_set;
use crate::error::{Result, StoreError};
use crate::open::Store;
use rusqlite::params;

impl Store {
    /// Every trust statement kept (JSON), in order from the first.
    pub fn trust_statements(&self) -> Result<Vec<String>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT statement FROM trust_statement ORDER BY seq")?;
        let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Keep statements that follow those kept (numbered from `first_seq`), already verified by
    /// the caller. A number already kept is refused: the log never changes behind a device.
    pub fn add_trust_statements(&mut self, first_seq: u64, statements: &[String]) -> Result<()> {
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let have: i64 = tx.query_row(
            "SELECT coalesce(max(seq), 0) FROM trust_statement",
            [],
            |r| r.get(0),
        )?;
        if first_seq != have.unsigned_abs() + 1 {
            return Err(StoreError::Refused(format!(
                "trust statement {first_seq} does not follow the {have} kept"
            )));
        }
        {
            let mut stmt =
                tx.prepare_cached("INSERT INTO trust_statement (seq, statement) VALUES (?1, ?2)")?;
            for (i, s) in statements.iter().enumerate() {
                stmt.execute(params![first_seq as i64 + i as i64, s])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// What was wrong with the service's copy of the trust log at the last sync (a statement it
    /// altered, dropped or made up), kept for `sync status`; `None` clears it.
    pub fn set_trust_problem(&self, problem: Option<&str>) -> Result<()> {
        let new = problem.unwrap_or("");
        let old: String = self.conn.query_row(
            "SELECT coalesce((SELECT value FROM meta WHERE key = 'trust_problem'), '')",
            [],
            |r| r.get(0),
        )?;
        // Written only when it changes (each write is a commit to disk).
        if old != new {
            sync_meta_set(&self.conn, "trust_problem", new)?;
        }
        Ok(())
    }

    /// How many key grants the service said it held for this device when its keys were last
    /// read (a hint for when to read them again).
    pub fn grants_seen(&self) -> Result<u64> {
        let n: String = self.conn.query_row(
            "SELECT coalesce((SELECT value FROM meta WHERE key = 'grants_seen'), '0')",
            [],
            |r| r.get(0),
        )?;
        Ok(n.parse().unwrap_or(0))
    }

    pub fn set_grants_seen(&self, n: u64) -> Result<()> {
        if self.grants_seen()? != n {
            sync_meta_set(&self.conn, "grants_seen", &n.to_string())?;
        }
        Ok(())
    }
}
