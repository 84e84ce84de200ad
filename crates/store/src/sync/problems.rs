//! What a sync found that a person must know about, by device and sequence (never content):
//! gaps a re-read did not fill, ops held because they failed their checks or came from devices
//! no admin approved, forks and broken chains, changes of this laptop's the service lost, and a
//! trust log the service altered. Rebuilt at the end of every sync; `sync status`, the app's
//! header and `sync now`'s exit code all read it.

use super::parse_uuid;
use crate::error::Result;
use crate::open::Store;
use rusqlite::{OptionalExtension, params};
use serde::Serialize;
use uuid::Uuid;

/// One problem. `seq_from..=seq_to` are places in the device's chain in the team (or its
/// device sequence for an op whose chain is not known).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SyncProblem {
    pub kind: String,
    pub device_id: Option<Uuid>,
    pub team_id: Option<Uuid>,
    pub seq_from: Option<u64>,
    pub seq_to: Option<u64>,
    pub count: u64,
    /// One sentence for a person: what is wrong and what was done.
    pub detail: String,
}

impl SyncProblem {
    pub fn new(kind: &str, detail: impl Into<String>) -> SyncProblem {
        SyncProblem {
            kind: kind.into(),
            device_id: None,
            team_id: None,
            seq_from: None,
            seq_to: None,
            count: 1,
            detail: detail.into(),
        }
    }
}

fn held_detail(reason: &str) -> Option<&'static str> {
    Some(match reason {
        "tampered" => {
            "changed on the way (its content hash, signature or encryption does not check): held, not applied"
        }
        "unknown-device" => "from a device no admin has approved: held, not applied",
        "not-member" => "from a device that is not in the team it names: held, not applied",
        "after-revocation" => "sent after its device was revoked: held, not applied",
        "other-organisation" => "from another organisation: held, not applied",
        "malformed" => {
            "signed by its device but not in the form Wardside writes: held, not applied"
        }
        "forked" => {
            "a second, different op at a place in its device's history already taken (a copied laptop or a stolen key): held, not applied"
        }
        "broken-chain" => {
            "does not follow the op before it in its device's history: held, not applied"
        }
        "cannot-apply" => "its content could not be applied: held, the rest went on",
        _ => return None,
    })
}

impl Store {
    /// Work out the problems from what the store holds now, plus `found` (what the sync itself
    /// saw: an altered trust log, own ops handed back altered), keep them, and return them.
    pub fn refresh_problems(&mut self, found: &[SyncProblem]) -> Result<Vec<SyncProblem>> {
        let mut out: Vec<SyncProblem> = Vec::new();
        for gap in self.chain_gaps()? {
            out.push(SyncProblem {
                kind: "gap".into(),
                device_id: Some(gap.device_id),
                team_id: Some(gap.team_id),
                seq_from: Some(gap.from),
                seq_to: Some(gap.to),
                count: gap.to.saturating_sub(gap.from) + 1,
                detail: format!(
                    "ops {}–{} of this device are missing though later ones arrived (up to {}); the service did not hand them out when asked again",
                    gap.from, gap.to, gap.highest_seen
                ),
            });
        }
        {
            let mut stmt = self.conn.prepare_cached(
                "SELECT device_id, team_id, seq FROM chain_break ORDER BY device_id, team_id, seq",
            )?;
            let rows = stmt.query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, i64>(2)?,
                ))
            })?;
            for row in rows {
                let (d, t, seq) = row?;
                out.push(SyncProblem {
                    kind: "broken-chain".into(),
                    device_id: Some(parse_uuid(&d)?),
                    team_id: Some(parse_uuid(&t)?),
                    seq_from: Some(seq.unsigned_abs()),
                    seq_to: Some(seq.unsigned_abs()),
                    count: 1,
                    detail: "an op applied earlier does not follow the one before it: its device signed two histories".into(),
                });
            }
        }
        {
            let mut stmt = self.conn.prepare_cached(
                "SELECT reason, device_id, team_id, min(coalesce(chain_seq, device_seq)), max(coalesce(chain_seq, device_seq)), count(*)
                 FROM op_held WHERE reason NOT IN ('no-key', 'newer-schema')
                 GROUP BY reason, device_id, team_id ORDER BY reason, device_id",
            )?;
            let rows = stmt.query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, Option<String>>(2)?,
                    r.get::<_, i64>(3)?,
                    r.get::<_, i64>(4)?,
                    r.get::<_, i64>(5)?,
                ))
            })?;
            for row in rows {
                let (reason, d, t, from, to, n) = row?;
                let detail = held_detail(&reason).unwrap_or("held, not applied");
                out.push(SyncProblem {
                    kind: reason,
                    device_id: d.parse().ok(),
                    team_id: t.as_deref().and_then(|t| t.parse().ok()),
                    seq_from: Some(from.unsigned_abs()),
                    seq_to: Some(to.unsigned_abs()),
                    count: n.unsigned_abs(),
                    detail: format!("{n} op(s) {detail}"),
                });
            }
        }
        let number = |key: &str| -> Result<u64> {
            Ok(self
                .conn
                .prepare_cached("SELECT value FROM meta WHERE key = ?1")?
                .query_row([key], |r| r.get::<_, String>(0))
                .optional()?
                .and_then(|v| v.parse().ok())
                .unwrap_or(0))
        };
        let not_kept = number("held_not_kept")?;
        if not_kept > 0 {
            let mut p = SyncProblem::new(
                "not-kept",
                format!(
                    "{not_kept} op(s) that failed their checks were refused and not kept: over the limit for such ops"
                ),
            );
            p.count = not_kept;
            out.push(p);
        }
        let lost = number("own_still_lost")?;
        if lost > 0 {
            let mut p = SyncProblem::new(
                "lost-by-service",
                format!(
                    "the service acknowledged {lost} of this laptop's changes but does not hand them back, after they were sent again twice; they are kept here"
                ),
            );
            p.count = lost;
            out.push(p);
        }
        let trust: Option<String> = self
            .conn
            .prepare_cached("SELECT value FROM meta WHERE key = 'trust_problem'")?
            .query_row([], |r| r.get(0))
            .optional()?
            .filter(|s: &String| !s.is_empty());
        if let Some(t) = trust {
            out.push(SyncProblem::new("trust-log", t));
        }
        out.extend(found.iter().cloned());
        // Written only when they change (each write is a commit to disk).
        if self.sync_problems()? == out {
            return Ok(out);
        }
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        tx.execute("DELETE FROM sync_problem", [])?;
        {
            let mut stmt = tx.prepare_cached(
                "INSERT INTO sync_problem (kind, device_id, team_id, seq_from, seq_to, count, detail) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?;
            for p in &out {
                stmt.execute(params![
                    p.kind,
                    p.device_id.map(|d| d.to_string()),
                    p.team_id.map(|t| t.to_string()),
                    p.seq_from.map(|s| s as i64),
                    p.seq_to.map(|s| s as i64),
                    p.count as i64,
                    p.detail
                ])?;
            }
        }
        tx.commit()?;
        Ok(out)
    }

    /// The problems the last sync found.
    pub fn sync_problems(&self) -> Result<Vec<SyncProblem>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT kind, device_id, team_id, seq_from, seq_to, count, detail FROM sync_problem ORDER BY id",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(SyncProblem {
                kind: r.get(0)?,
                device_id: r.get::<_, Option<String>>(1)?.and_then(|s| s.parse().ok()),
                team_id: r.get::<_, Option<String>>(2)?.and_then(|s| s.parse().ok()),
                seq_from: r.get::<_, Option<i64>>(3)?.map(i64::unsigned_abs),
                seq_to: r.get::<_, Option<i64>>(4)?.map(i64::unsigned_abs),
                count: r.get::<_, i64>(5)?.unsigned_abs(),
                detail: r.get(6)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}
