//! The manager's views on this laptop: the service dashboard (who is waiting for a first
//! contact, the cases open and quiet longest, the reminders due this week across every case,
//! the last complete quarter's headline measures beside each contract's targets), and who is
//! behind a number in a return.
//!
//! What each figure means is decided in `wardside_domain::report` (and `::dashboard`); here the
//! records are read and the people named. Looking at exact numbers is audited like a return
//! (`report-view-exact`); naming the people behind a number is audited as a read.

use crate::error::Result;
use crate::open::Store;
use crate::read::{CaseloadFilter, parse_date, parse_id};
use crate::tasks::{DueTask, monday_of};
use crate::write::{Entity, Scope};
use chrono::{Days, NaiveDate};
use serde::Serialize;
use std::collections::BTreeMap;
use wardside_domain::report::contract::Period;
use wardside_domain::report::dashboard::{Headline, OpenCase, Waiting, glance, headlines};
use wardside_domain::rules::{Jurisdiction, Rules};
use wardside_domain::{CaseId, ClientId, ReferralId};

/// Who a case is for, as the caseload names them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CaseLabel {
    pub case_id: CaseId,
    pub client_id: ClientId,
    pub name: String,
    pub hospital: Option<String>,
    pub ward: Option<String>,
    pub opened_on: NaiveDate,
    pub closed_on: Option<NaiveDate>,
}

/// A figure about a case, with who the case is for.
#[derive(Debug, Clone, Serialize)]
pub struct Named<T> {
    pub who: CaseLabel,
    #[serde(flatten)]
    pub item: T,
}

/// The reminders due from today to Sunday on every open case on this laptop, and those already
/// past due.
#[derive(Debug, Clone, Default, Serialize)]
pub struct DueThisWeek {
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    /// Soonest first, at most the limit asked for.
    pub upcoming: Vec<DueTask>,
    pub upcoming_total: usize,
    /// Most recent first, at most the limit asked for.
    pub overdue: Vec<DueTask>,
    pub overdue_total: usize,
}

/// One commissioner's last complete period, its headline measures (exact) and targets.
#[derive(Debug, Clone, Serialize)]
pub struct CommissionerGlance {
    pub commissioner: String,
    pub has_contract: bool,
    pub period: Period,
    pub measures: Vec<Headline>,
}

/// The service at a glance.
#[derive(Debug, Clone, Serialize)]
pub struct Dashboard {
    pub today: NaiveDate,
    pub open_cases: usize,
    pub waiting: Vec<Named<Waiting>>,
    pub open_longest: Vec<Named<OpenCase>>,
    pub quiet_longest: Vec<Named<OpenCase>>,
    pub due_this_week: DueThisWeek,
    /// Exact numbers: for the manager, not for release.
    pub quarter: Vec<CommissionerGlance>,
}

/// A case or referral with no commissioner, named for the manager to fix.
#[derive(Debug, Clone, Serialize)]
pub struct UnassignedRow {
    pub case: Option<CaseLabel>,
    pub referral: Option<ReferralId>,
    /// For a referral that led to no case: the person it is for.
    pub client_id: Option<ClientId>,
    pub name: Option<String>,
    pub received_or_opened: NaiveDate,
}

impl Store {
    /// Who each case is for (name, hospital, ward, opened and closed), in the order asked;
    /// ids not found are left out.
    fn labels(&self, ids: &[CaseId]) -> Result<Vec<CaseLabel>> {
        let wanted =
            serde_json::to_string(&ids.iter().map(ToString::to_string).collect::<Vec<_>>())?;
        let mut stmt = self.conn.prepare_cached(
            "SELECT k.id, c.id, c.name, c.hospital, c.ward, k.opened_on, k.closed_on
             FROM kase k JOIN client c ON c.id = k.client_id
             WHERE k.id IN (SELECT value FROM json_each(?1))",
        )?;
        let rows = stmt.query_map([wanted], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, Option<String>>(3)?,
                r.get::<_, Option<String>>(4)?,
                r.get::<_, String>(5)?,
                r.get::<_, Option<String>>(6)?,
            ))
        })?;
        let mut found: BTreeMap<CaseId, CaseLabel> = BTreeMap::new();
        for row in rows {
            let (case, client, name, hospital, ward, opened, closed) = row?;
            let case_id: CaseId = parse_id(case)?;
            let opened_on = parse_date(Some(opened))
                .ok_or_else(|| crate::error::StoreError::Corrupt("a case's opening date".into()))?;
            found.insert(
                case_id,
                CaseLabel {
                    case_id,
                    client_id: parse_id(client)?,
                    name,
                    hospital,
                    ward,
                    opened_on,
                    closed_on: parse_date(closed),
                },
            );
        }
        Ok(ids.iter().filter_map(|id| found.get(id).cloned()).collect())
    }

    fn named<T>(&self, items: Vec<T>, case: impl Fn(&T) -> CaseId) -> Result<Vec<Named<T>>> {
        let ids: Vec<CaseId> = items.iter().map(&case).collect();
        let mut labels: BTreeMap<CaseId, CaseLabel> = self
            .labels(&ids)?
            .into_iter()
            .map(|l| (l.case_id, l))
            .collect();
        Ok(items
            .into_iter()
            .filter_map(|item| labels.remove(&case(&item)).map(|who| Named { who, item }))
            .collect())
    }

    /// The people behind a number in a return the manager is looking at: who each case is for.
    /// Audited as a read (which cases, not which number).
    pub fn report_cases(&mut self, ids: &[CaseId]) -> Result<Vec<CaseLabel>> {
        let mut labels = self.labels(ids)?;
        labels.sort_by(|a, b| (a.opened_on, &a.name).cmp(&(b.opened_on, &b.name)));
        self.write(|w| w.audit_read("report-drill-down", Entity::Case, None, Scope::default()))?;
        Ok(labels)
    }

    /// The cases and referrals a return could not count, named for fixing.
    pub fn unassigned_rows(
        &self,
        unassigned: &[wardside_domain::report::Unassigned],
    ) -> Result<Vec<UnassignedRow>> {
        let cases: Vec<CaseId> = unassigned.iter().filter_map(|u| u.case).collect();
        let labels: BTreeMap<CaseId, CaseLabel> = self
            .labels(&cases)?
            .into_iter()
            .map(|l| (l.case_id, l))
            .collect();
        let mut stmt = self.conn.prepare_cached(
            "SELECT c.id, c.name FROM referral r JOIN client c ON c.id = r.data ->> '$.client_id'
             WHERE r.id = ?1",
        )?;
        let mut out = Vec::new();
        for u in unassigned {
            let case = u.case.and_then(|c| labels.get(&c).cloned());
            let (client_id, name) = match (&case, u.referral) {
                (Some(l), _) => (Some(l.client_id), Some(l.name.clone())),
                (None, Some(r)) => {
                    let mut rows = stmt.query([r.to_string()])?;
                    match rows.next()? {
                        Some(row) => (
                            Some(parse_id(row.get::<_, String>(0)?)?),
                            Some(row.get::<_, String>(1)?),
                        ),
                        None => (None, None),
                    }
                }
                (None, None) => (None, None),
            };
            out.push(UnassignedRow {
                case,
                referral: u.referral,
                client_id,
                name,
                received_or_opened: u.received_or_opened,
            });
        }
        Ok(out)
    }

    /// The service at a glance on the store's today: every open case waiting for a first
    /// contact (oldest first), the `limit` open longest and quiet longest, the reminders due
    /// this week (Monday to Sunday) on every open case on this laptop, and each commissioner's
    /// last complete period, exact, beside its contract's targets (audited once as
    /// `report-dashboard`).
    pub fn dashboard(
        &mut self,
        rules: &Rules,
        jurisdiction: Jurisdiction,
        limit: usize,
    ) -> Result<Dashboard> {
        let today = self.clock.today();
        let facts = self.report_facts()?;
        let g = glance(&facts, today, rules.calendar(), limit);
        let waiting = self.named(g.waiting, |w| w.case)?;
        let open_longest = self.named(g.open_longest, |o| o.case)?;
        let quiet_longest = self.named(g.quiet_longest, |o| o.case)?;

        let sunday = monday_of(today)
            .checked_add_days(Days::new(6))
            .unwrap_or(today);
        let within = (sunday - today).num_days();
        let due = self.due_tasks(
            &CaseloadFilter::default(),
            rules,
            jurisdiction,
            within,
            limit,
        )?;
        let upcoming_total = due.upcoming.len();
        let mut upcoming = due.upcoming;
        upcoming.truncate(limit);
        let due_this_week = DueThisWeek {
            from: Some(today),
            to: Some(sunday),
            upcoming,
            upcoming_total,
            overdue: due.overdue,
            overdue_total: due.overdue_total,
        };

        let mut quarter = Vec::new();
        for c in self.commissioners()? {
            if c.cases == 0 {
                continue;
            }
            let Some(period) = c.contract.last_complete(today) else {
                continue;
            };
            let ret = self.return_from(
                &facts,
                &c.contract.commissioner,
                period.from,
                period.to,
                rules,
                0,
            )?;
            quarter.push(CommissionerGlance {
                commissioner: ret.commissioner.clone(),
                has_contract: c.has_contract,
                measures: headlines(&ret),
                period,
            });
        }
        // One entry for the look at exact headline numbers, not one per commissioner.
        self.write(|w| {
            w.audit_detail(
                "report-dashboard",
                Entity::Case,
                &serde_json::json!({ "on": today }).to_string(),
            )
        })?;
        Ok(Dashboard {
            today,
            open_cases: g.open_cases,
            waiting,
            open_longest,
            quiet_longest,
            due_this_week,
            quarter,
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::intake::{Intake, IntakeCase, IntakeReferral};
    use wardside_domain::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn store(dir: &std::path::Path) -> Store {
        let mut store = Store::create_with(
            &dir.join("w.db"),
            &crate::Passphrase::new("plum kettle harbour"),
            "Maggie Manager",
            crate::KdfParams {
                m_kib: 256,
                t: 1,
                p: 1,
            },
            crate::Tuning::default(),
        )
        .unwrap();
        // Tuesday 10 November 2026.
        store.set_clock(crate::clock::Clock::parse("2026-11-10T12:00:00Z").unwrap());
        store
    }

    fn refer(store: &mut Store, rules: &Rules, name: &str, on: &str, who: Option<&str>) -> CaseId {
        let intake = Intake {
            client: Client::named(name),
            status: StatusCode::S3,
            status_since: d(on),
            referral: Some(IntakeReferral {
                received_on: d(on),
                source: ReferralSource::WardStaff,
                referrer: None,
                inpatient: None,
                responsible_authority: None,
                out_of_area: None,
            }),
            case: Some(IntakeCase {
                opened_on: d(on),
                instruction: Instruction::Instructed,
                responsible_authority: who.map(str::to_owned),
            }),
        };
        store
            .intake(&intake, rules, rules.jurisdiction())
            .unwrap()
            .case_id
            .unwrap()
    }

    #[test]
    fn the_dashboard_names_who_waits_and_audits_the_exact_quarter() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = store(dir.path());
        let rules = Rules::shipped().unwrap();
        let seen = refer(
            &mut store,
            &rules,
            "Amara Okafor",
            "2026-08-03",
            Some("Northshire"),
        );
        store
            .write(|w| {
                w.add_activity(
                    &Activity {
                        case_id: seen,
                        at: "2026-08-04T10:00:00".parse().unwrap(),
                        duration_minutes: None,
                        kind: ActivityKind::PrivateInterview { wishes: None },
                        withheld: None,
                    },
                    "Seen.",
                )
            })
            .unwrap();
        let waiting = refer(
            &mut store,
            &rules,
            "Bryn Hughes",
            "2026-11-03",
            Some("Northshire"),
        );
        refer(&mut store, &rules, "Carys Pugh", "2026-11-09", None);

        let dash = store.dashboard(&rules, rules.jurisdiction(), 5).unwrap();
        let names: Vec<(&str, u32)> = dash
            .waiting
            .iter()
            .map(|w| (w.who.name.as_str(), w.item.working_days))
            .collect();
        assert_eq!(names, [("Bryn Hughes", 5), ("Carys Pugh", 1)]);
        assert_eq!(dash.waiting[0].who.case_id, waiting);
        assert_eq!(dash.open_longest[0].who.name, "Amara Okafor");
        assert_eq!(dash.open_cases, 3);
        // The last complete quarter for the one commissioner, exact, and audited as such.
        assert_eq!(dash.quarter.len(), 1);
        assert_eq!(dash.quarter[0].period.from, d("2026-07-01"));
        let received = dash.quarter[0]
            .measures
            .iter()
            .find(|m| m.key == "referrals_received")
            .unwrap();
        assert_eq!(received.value, serde_json::json!(1));
        let audit = store.report_audit().unwrap();
        assert_eq!(audit.len(), 1);
        assert_eq!(
            audit[0].action, "report-dashboard",
            "one entry, not one per commissioner"
        );
    }

    #[test]
    fn the_people_behind_a_number_are_named_by_the_day_their_case_opened_and_the_look_is_audited() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = store(dir.path());
        let rules = Rules::shipped().unwrap();
        let a = refer(&mut store, &rules, "Amara Okafor", "2026-08-03", Some("N"));
        let b = refer(&mut store, &rules, "Bryn Hughes", "2026-08-04", Some("N"));
        let unknown = CaseId(uuid::Uuid::from_u128(7));
        let named = store.report_cases(&[b, unknown, a]).unwrap();
        let names: Vec<&str> = named.iter().map(|l| l.name.as_str()).collect();
        assert_eq!(names, ["Amara Okafor", "Bryn Hughes"], "by the day opened");
        assert_eq!(named[1].opened_on, d("2026-08-04"));
        let drilled: i64 = store
            .conn
            .query_row(
                "SELECT count(*) FROM audit WHERE action = 'report-drill-down'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(drilled, 1);
    }
}
