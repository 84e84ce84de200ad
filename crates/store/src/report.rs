//! The facts a commissioner's return is computed from, read from the store in a few scans
//! (the measures themselves are defined once, in `wardside_domain::report`). Running a return is
//! audited: what left the laptop is on record, without its numbers.

use crate::error::Result;
use crate::open::Store;
use crate::write::Entity;
use chrono::NaiveDate;
use chrono::NaiveDateTime;
use rusqlite::OptionalExtension;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use wardside_domain::activity::ActivityKindCode;
use wardside_domain::report::commissioner_key;
use wardside_domain::report::contract::Contract;
use wardside_domain::report::{
    ActivityFacts, CaseFacts, CommissionerMove, ConcernFacts, Facts, IssueFacts, PersonFacts,
    ReferralFacts, Reopening, Return,
};
use wardside_domain::rules::Rules;
use wardside_domain::*;

impl Store {
    /// Everything a return needs, for every commissioner (a return picks its own cases).
    pub fn report_facts(&self) -> Result<Facts> {
        let mut facts = Facts::default();
        let mut stmt = self.conn.prepare_cached("SELECT id, data FROM client")?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
        for row in rows {
            let (id, data) = row?;
            let c: Client = serde_json::from_str(&data)?;
            facts.people.insert(
                crate::read::parse_id(id)?,
                PersonFacts {
                    ethnic_category: Some(c.equality.ethnic_category),
                    gender: c.equality.gender,
                    dob: c.dob,
                    disability: c.equality.disability,
                    religion: c.equality.religion,
                    sexual_orientation: c.equality.sexual_orientation,
                    first_language: c.first_language,
                    interpreter_needed: c.interpreter_needed,
                    hospital: c.hospital,
                    ward: c.ward,
                },
            );
        }
        // The legal status on the day each referral came in.
        let mut history: BTreeMap<ClientId, Vec<LegalEvent>> = BTreeMap::new();
        let mut stmt = self.conn.prepare_cached("SELECT data FROM legal_event")?;
        for data in stmt.query_map([], |r| r.get::<_, String>(0))? {
            let e: LegalEvent = serde_json::from_str(&data?)?;
            history.entry(e.client_id).or_default().push(e);
        }
        let mut stmt = self.conn.prepare_cached("SELECT id, data FROM referral")?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
        for row in rows {
            let (id, data) = row?;
            let r: Referral = serde_json::from_str(&data)?;
            let status = history
                .get(&r.client_id)
                .and_then(|h| wardside_domain::legal::status_on(h, r.received_on))
                .map(|(s, _)| s);
            facts.referrals.push(ReferralFacts {
                id: crate::read::parse_id(id)?,
                client: r.client_id,
                received_on: r.received_on,
                source: r.source,
                eligible: r.eligible,
                decided_by_rules: r.decided_by_rules(),
                status,
                commissioner: r.responsible_authority,
                out_of_area: r.out_of_area,
            });
        }
        // Reopenings and moves between commissioners, from the cases' amendments.
        let mut reopened: BTreeMap<CaseId, Vec<Reopening>> = BTreeMap::new();
        let mut moves: BTreeMap<CaseId, Vec<(NaiveDateTime, CommissionerMove)>> = BTreeMap::new();
        // Responses to concerns: the first amendment that recorded one, by activity.
        let mut answered: BTreeMap<ActivityId, NaiveDate> = BTreeMap::new();
        let mut stmt = self.conn.prepare_cached(
            "SELECT data FROM amendment WHERE data ->> '$.what' IN ('case-reopened', 'case-commissioner')
             OR (data ->> '$.what' = 'activity' AND data ->> '$.after.kind.type' = 'concern')",
        )?;
        for data in stmt.query_map([], |r| r.get::<_, String>(0))? {
            let a: Amendment = serde_json::from_str(&data?)?;
            match a.amended {
                Amended::CaseReopened { closure } => {
                    reopened.entry(a.case_id).or_default().push(Reopening {
                        closed_on: closure.on,
                        reason: closure.reason,
                        reopened_on: a.made_at.date().max(closure.on),
                    })
                }
                Amended::CaseCommissioner {
                    before,
                    after,
                    from,
                } => moves.entry(a.case_id).or_default().push((
                    a.made_at,
                    CommissionerMove {
                        from,
                        before,
                        after,
                    },
                )),
                Amended::Activity {
                    activity_id,
                    before,
                    after,
                } => {
                    let had = |k: &ActivityKind| matches!(k, ActivityKind::Concern { response: Some(r), .. } if !r.trim().is_empty());
                    if had(&after.kind) && !had(&before.kind) {
                        let on = a.made_at.date();
                        answered
                            .entry(activity_id)
                            .and_modify(|d| *d = (*d).min(on))
                            .or_insert(on);
                    }
                }
            }
        }
        let mut stmt = self.conn.prepare_cached("SELECT id, data FROM kase")?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
        for row in rows {
            let (id, data) = row?;
            let id: CaseId = crate::read::parse_id(id)?;
            let c: Case = serde_json::from_str(&data)?;
            let mut reopenings = reopened.remove(&id).unwrap_or_default();
            reopenings.sort_by_key(|r| (r.closed_on, r.reopened_on));
            // Moves in the order they were made; a later one for an earlier day replaces what
            // an earlier one said from that day on.
            let mut made = moves.remove(&id).unwrap_or_default();
            made.sort_by_key(|(at, _)| *at);
            // The authority before any move: what the first move made replaced.
            let original = made.first().and_then(|(_, m)| m.before.clone());
            let mut case_moves: Vec<CommissionerMove> = Vec::new();
            for (_, m) in made {
                case_moves.retain(|x| x.from < m.from);
                case_moves.push(m);
            }
            // Each move's `before` is the authority just before its day (a correction made
            // later for an earlier day recorded whatever was responsible when it was made).
            let mut before = original;
            for m in &mut case_moves {
                m.before = before.clone();
                before = m.after.clone();
            }
            facts.cases.push(CaseFacts {
                id,
                client: c.client_id,
                referral: c.referral_id,
                commissioner: c.responsible_authority,
                moves: case_moves,
                opened_on: c.opened_on,
                closed: c.closed.map(|x| (x.on, x.reason)),
                reopenings,
                non_instructed: matches!(c.instruction, Instruction::NonInstructed { .. }),
            });
        }
        // Activities: only the fields counted, read without the notes.
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, case_id, substr(at, 1, 10), data ->> '$.kind.type', data ->> '$.duration_minutes',
                    data ->> '$.kind.response_due', trim(coalesce(data ->> '$.kind.response', '')) <> '',
                    data ->> '$.kind.basis.basis'
             FROM activity WHERE deleted = 0",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, Option<i64>>(4)?,
                r.get::<_, Option<String>>(5)?,
                r.get::<_, bool>(6)?,
                r.get::<_, Option<String>>(7)?,
            ))
        })?;
        let corrupt = || {
            crate::error::StoreError::Corrupt(
                "an activity's date or kind is not one Wardside wrote".into(),
            )
        };
        for row in rows {
            let (id, case, on, kind, minutes, due, has_response, basis) = row?;
            let (Ok(on), Ok(kind)) = (on.parse::<NaiveDate>(), kind.parse::<ActivityKindCode>())
            else {
                return Err(corrupt());
            };
            let concern = if kind == ActivityKindCode::Concern {
                let id: ActivityId = crate::read::parse_id(id)?;
                let response_due = match due {
                    Some(d) => Some(d.parse::<NaiveDate>().map_err(|_| corrupt())?),
                    None => None,
                };
                // Recorded on the day an amendment first added it, or with the concern: on the
                // UK day the concern was written down (its op's clock), not the day it is dated.
                let answered_on = match (has_response, answered.get(&id)) {
                    (false, _) => None,
                    (true, Some(day)) => Some(*day),
                    (true, None) => Some(self.recorded_on(id.0)?.map_or(on, |d| d.max(on))),
                };
                Some(ConcernFacts {
                    response_due,
                    answered_on,
                })
            } else {
                None
            };
            facts.activities.push(ActivityFacts {
                case: crate::read::parse_id(case)?,
                on,
                kind,
                minutes: minutes.and_then(|m| u32::try_from(m).ok()),
                concern,
                records_basis: basis,
            });
        }
        let mut stmt = self.conn.prepare_cached("SELECT data FROM issue")?;
        for data in stmt.query_map([], |r| r.get::<_, String>(0))? {
            let i: Issue = serde_json::from_str(&data?)?;
            facts.issues.push(IssueFacts {
                case: i.case_id,
                category: i.category,
                opened_on: i.opened_on,
                outcome: i.outcome.map(|o| (o.on, o.kind)),
            });
        }
        Ok(facts)
    }

    /// The UK day a record was first written down, from its create op's clock.
    fn recorded_on(&self, id: uuid::Uuid) -> Result<Option<NaiveDate>> {
        let hlc: Option<String> = self
            .conn
            .prepare_cached("SELECT min(hlc) FROM op WHERE entity_id = ?1 AND kind = 'create'")?
            .query_row([id.to_string()], |r| r.get(0))?;
        Ok(hlc
            .as_deref()
            .and_then(crate::clock::Hlc::decode)
            .and_then(|h| chrono::DateTime::from_timestamp_millis(h.wall_ms as i64))
            .map(|at| wardside_domain::rules::period::uk_time_at(at).date()))
    }

    /// The return for one commissioner and period, suppressed at `threshold` (0: exact numbers,
    /// for the manager's own view). Audited as an export.
    pub fn commissioner_return(
        &mut self,
        commissioner: &str,
        from: NaiveDate,
        to: NaiveDate,
        rules: &Rules,
        threshold: u64,
    ) -> Result<Return> {
        if commissioner.trim().is_empty() {
            return Err(ValidationError::Required {
                context: "return",
                field: "the commissioner",
            }
            .into());
        }
        if to < from {
            return Err(ValidationError::DatesOutOfOrder {
                earlier: "the first day",
                earlier_value: from.to_string(),
                later: "the last day",
                later_value: to.to_string(),
            }
            .into());
        }
        let facts = self.report_facts()?;
        let ret = self.return_from(&facts, commissioner, from, to, rules, threshold)?;
        if ret.matched_cases == 0 {
            // A misspelt name would otherwise give a return of zeros. The authorities' names
            // are not about anyone, so they are listed to choose from.
            let known: Vec<String> = self
                .commissioners()?
                .into_iter()
                .map(|c| c.contract.commissioner)
                .collect();
            return Err(crate::error::StoreError::Refused(format!(
                "no case or referral has the responsible authority '{}'; the authorities recorded are: {}",
                commissioner.trim(),
                if known.is_empty() {
                    "none yet".to_string()
                } else {
                    known.join(", ")
                }
            )));
        }
        Ok(ret)
    }

    /// A return for the manager's screen: exact (threshold 0, not for release, audited as
    /// `report-view-exact`) or as it would be released.
    pub fn view_return(
        &mut self,
        commissioner: &str,
        from: NaiveDate,
        to: NaiveDate,
        rules: &Rules,
        exact: bool,
    ) -> Result<Return> {
        let threshold = if exact {
            0
        } else {
            wardside_domain::report::suppress::DEFAULT_THRESHOLD
        };
        let ret = self.commissioner_return(commissioner, from, to, rules, threshold)?;
        if exact {
            self.audit_report(&ReportAudit {
                commissioner: ret.commissioner.clone(),
                from,
                to,
                formats: Vec::new(),
                threshold: 0,
            })?;
        }
        Ok(ret)
    }

    /// The return computed from facts already read (the dashboard reads them once for every
    /// commissioner), with the commissioner's contract applied.
    pub fn return_from(
        &self,
        facts: &Facts,
        commissioner: &str,
        from: NaiveDate,
        to: NaiveDate,
        rules: &Rules,
        threshold: u64,
    ) -> Result<Return> {
        let mut ret = wardside_domain::report::compute(
            facts,
            commissioner,
            from,
            to,
            rules.calendar(),
            threshold,
        );
        self.contract(&ret.commissioner)?.apply(&mut ret);
        Ok(ret)
    }

    /// Record that a return left the laptop (called once its files are written), or that the
    /// manager looked at exact numbers: which commissioner, which period, in which formats and
    /// how suppressed (never a number from it).
    pub fn audit_report(&mut self, what: &ReportAudit) -> Result<()> {
        let action = if what.threshold == 0 {
            "report-view-exact"
        } else {
            "report-return"
        };
        let detail = serde_json::to_string(what)?;
        self.write(|w| w.audit_detail(action, Entity::Case, &detail))
    }

    /// Every return run or viewed on this laptop, newest first.
    pub fn report_audit(&self) -> Result<Vec<ReportAuditEntry>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT at, actor, action, detail FROM audit
             WHERE action IN ('report-return', 'report-view-exact', 'report-dashboard', 'report-drill-down')
             ORDER BY id DESC",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, Option<String>>(3)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (at, actor, action, detail) = row?;
            out.push(ReportAuditEntry {
                at,
                actor,
                action,
                // Entries written before schema 9 have no detail.
                what: detail.and_then(|d| serde_json::from_str(&d).ok()),
            });
        }
        Ok(out)
    }

    /// Returns released earlier for the same commissioner whose period overlaps `from..=to`
    /// without being the same: subtracting one from the other gives back counts each starred
    /// (docs/REPORTS.md), so a manager is told before sending another.
    pub fn overlapping_releases(
        &self,
        commissioner: &str,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<ReportAudit>> {
        let key = commissioner_key(commissioner);
        let mut out: Vec<ReportAudit> = self
            .report_audit()?
            .into_iter()
            .filter(|e| e.action == "report-return")
            .filter_map(|e| e.what)
            .filter(|w| {
                commissioner_key(&w.commissioner) == key
                    && w.from <= to
                    && from <= w.to
                    && (w.from, w.to) != (from, to)
            })
            .collect();
        out.sort_by_key(|w| (w.from, w.to));
        out.dedup_by_key(|w| (w.from, w.to));
        Ok(out)
    }

    /// The commissioners known on this laptop: the responsible authorities on cases and
    /// referrals (now, or before a case moved), and those with a contract; each with its contract (or the default) and how
    /// many cases name it.
    pub fn commissioners(&self) -> Result<Vec<Commissioner>> {
        let mut by_name: BTreeMap<String, Commissioner> = BTreeMap::new();
        let mut stmt = self.conn.prepare_cached(
            "SELECT trim(data ->> '$.responsible_authority'), count(*) FROM kase
             WHERE trim(coalesce(data ->> '$.responsible_authority', '')) <> ''
             GROUP BY 1 COLLATE NOCASE
             UNION ALL
             SELECT trim(data ->> '$.responsible_authority'), 0 FROM referral
             WHERE trim(coalesce(data ->> '$.responsible_authority', '')) <> ''
             GROUP BY 1 COLLATE NOCASE
             UNION ALL
             SELECT trim(data ->> '$.before'), 0 FROM amendment
             WHERE data ->> '$.what' = 'case-commissioner'
               AND trim(coalesce(data ->> '$.before', '')) <> ''
             GROUP BY 1 COLLATE NOCASE",
        )?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?;
        for row in rows {
            let (name, n) = row?;
            let e = by_name
                .entry(commissioner_key(&name))
                .or_insert_with(|| Commissioner {
                    contract: Contract::default_for(&name),
                    has_contract: false,
                    cases: 0,
                });
            e.cases += usize::try_from(n).unwrap_or(0);
        }
        for c in self.contracts()? {
            let e = by_name
                .entry(commissioner_key(&c.commissioner))
                .or_insert_with(|| Commissioner {
                    contract: c.clone(),
                    has_contract: true,
                    cases: 0,
                });
            e.contract = c;
            e.has_contract = true;
        }
        Ok(by_name.into_values().collect())
    }

    /// Every contract set on this laptop, by name.
    pub fn contracts(&self) -> Result<Vec<Contract>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT data FROM contract ORDER BY key")?;
        let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
        let mut out = Vec::new();
        for data in rows {
            out.push(serde_json::from_str(&data?)?);
        }
        Ok(out)
    }

    /// The contract for a commissioner (the default: every measure, by quarter, no targets).
    pub fn contract(&self, commissioner: &str) -> Result<Contract> {
        let found: Option<String> = self
            .conn
            .prepare_cached("SELECT data FROM contract WHERE key = ?1")?
            .query_row([commissioner_key(commissioner)], |r| r.get(0))
            .optional()?;
        Ok(match found {
            Some(data) => serde_json::from_str(&data)?,
            None => Contract::default_for(commissioner),
        })
    }

    /// Set (or replace) a commissioner's contract. Audited.
    pub fn set_contract(&mut self, contract: &Contract) -> Result<()> {
        let mut c = contract.clone();
        c.commissioner = c.commissioner.trim().to_owned();
        c.validate()?;
        let data = serde_json::to_string(&c)?;
        self.write(|w| {
            w.tx.prepare_cached(
                "INSERT INTO contract (key, data) VALUES (?1, ?2)
                 ON CONFLICT (key) DO UPDATE SET data = ?2",
            )?
            .execute(rusqlite::params![commissioner_key(&c.commissioner), data])?;
            let detail = serde_json::json!({ "commissioner": c.commissioner }).to_string();
            w.audit_detail("contract-set", Entity::Case, &detail)
        })
    }

    /// Remove a commissioner's contract (its returns go back to the default). Audited.
    pub fn remove_contract(&mut self, commissioner: &str) -> Result<bool> {
        self.write(|w| {
            let n =
                w.tx.prepare_cached("DELETE FROM contract WHERE key = ?1")?
                    .execute([commissioner_key(commissioner)])?;
            if n > 0 {
                let detail = serde_json::json!({ "commissioner": commissioner.trim() }).to_string();
                w.audit_detail("contract-removed", Entity::Case, &detail)?;
            }
            Ok(n > 0)
        })
    }
}

/// What an audited return was: never its numbers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportAudit {
    pub commissioner: String,
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// The formats written (empty: looked at in the app).
    pub formats: Vec<String>,
    /// Counts of 1..=threshold shown as "*"; 0: exact numbers.
    pub threshold: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct ReportAuditEntry {
    pub at: String,
    pub actor: String,
    pub action: String,
    pub what: Option<ReportAudit>,
}

/// A commissioner known on this laptop.
#[derive(Debug, Clone, Serialize)]
pub struct Commissioner {
    pub contract: Contract,
    /// Whether a manager set the contract (else it is the default).
    pub has_contract: bool,
    /// Cases whose responsible authority it is.
    pub cases: usize,
}
