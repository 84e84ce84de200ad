//! The facts a commissioner's return is computed from, read from the store in a few scans
//! (the measures themselves are defined once, in `wardside_domain::report`). Running a return is
//! audited: what left the laptop is on record, without its numbers.

use crate::error::Result;
use crate::open::Store;
use crate::write::{Entity, Scope};
use chrono::NaiveDate;
use std::collections::BTreeMap;
use wardside_domain::activity::ActivityKindCode;
use wardside_domain::report::{
    ActivityFacts, CaseFacts, Facts, IssueFacts, PersonFacts, ReferralFacts, Return,
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
                status,
            });
        }
        let mut earlier: BTreeMap<CaseId, Vec<(NaiveDate, ClosureReason)>> = BTreeMap::new();
        let mut stmt = self.conn.prepare_cached(
            "SELECT data FROM amendment WHERE data ->> '$.what' = 'case-reopened'",
        )?;
        for data in stmt.query_map([], |r| r.get::<_, String>(0))? {
            let a: Amendment = serde_json::from_str(&data?)?;
            if let Amended::CaseReopened { closure } = a.amended {
                earlier
                    .entry(a.case_id)
                    .or_default()
                    .push((closure.on, closure.reason));
            }
        }
        let mut stmt = self.conn.prepare_cached("SELECT id, data FROM kase")?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
        for row in rows {
            let (id, data) = row?;
            let id: CaseId = crate::read::parse_id(id)?;
            let c: Case = serde_json::from_str(&data)?;
            facts.cases.push(CaseFacts {
                id,
                client: c.client_id,
                referral: c.referral_id,
                commissioner: c.responsible_authority,
                opened_on: c.opened_on,
                closed: c.closed.map(|x| (x.on, x.reason)),
                earlier_closings: earlier.remove(&id).unwrap_or_default(),
                non_instructed: matches!(c.instruction, Instruction::NonInstructed { .. }),
            });
        }
        // Activities: only the fields counted, read without the notes.
        let mut stmt = self.conn.prepare_cached(
            "SELECT case_id, substr(at, 1, 10), data ->> '$.kind.type', data ->> '$.duration_minutes'
             FROM activity WHERE deleted = 0",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, Option<i64>>(3)?,
            ))
        })?;
        for row in rows {
            let (case, on, kind, minutes) = row?;
            let (Ok(on), Ok(kind)) = (on.parse(), kind.parse::<ActivityKindCode>()) else {
                return Err(crate::error::StoreError::Corrupt(
                    "an activity's date or kind is not one Wardside wrote".into(),
                ));
            };
            facts.activities.push(ActivityFacts {
                case: crate::read::parse_id(case)?,
                on,
                kind,
                minutes: minutes.and_then(|m| u32::try_from(m).ok()),
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
        let ret = wardside_domain::report::compute(
            &facts,
            commissioner,
            from,
            to,
            rules.calendar(),
            threshold,
        );
        if ret.matched_cases == 0 {
            // A misspelt name would otherwise give a return of zeros. The authorities' names
            // are not about anyone, so they are listed to choose from.
            let mut known: Vec<&str> = facts
                .cases
                .iter()
                .filter_map(|c| c.commissioner.as_deref().map(str::trim))
                .filter(|s| !s.is_empty())
                .collect();
            known.sort_unstable_by_key(|s| s.to_lowercase());
            known.dedup_by_key(|s| s.to_lowercase());
            return Err(crate::error::StoreError::Refused(format!(
                "no case has the responsible authority '{}'; the authorities recorded are: {}",
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

    /// Record that a return left the laptop (called once its files are written), or that the
    /// manager looked at exact numbers.
    pub fn audit_report(&mut self, exact: bool) -> Result<()> {
        let action = if exact {
            "report-view-exact"
        } else {
            "report-return"
        };
        self.write(|w| w.audit_read(action, Entity::Case, None, Scope::default()))
    }
}
