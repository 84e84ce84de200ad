//! The service at a glance for a manager (issue 16, part 6): who is waiting for a first
//! contact and for how long, the cases open longest and quiet longest, and the last complete
//! quarter's headline measures beside the contract's targets.
//!
//! Pure: it works over the [`Facts`] a return is computed from (ids and dates, never names);
//! the store adds who each case is for and the reminders due this week.

use super::contract::TargetCheck;
use super::{Facts, MEASURES, Return, working_days_between};
use crate::activity::ActivityKindCode;
use crate::rules::period::OfficeCalendar;
use crate::{CaseId, ClientId, ReferralId};
use chrono::NaiveDate;
use serde::Serialize;
use std::collections::BTreeMap;

/// The measures a manager sees first for each commissioner, in this order (any other measure
/// the contract sets a target on follows them).
pub const HEADLINE: &[&str] = &[
    "referrals_received",
    "first_contact_within_5_working_days_pct",
    "first_contact_median_working_days",
    "cases_opened",
    "cases_closed",
    "cases_open_at_end",
    "tribunals_supported",
    "advocacy_hours",
];

/// An open case whose person has not yet been seen or contacted since the referral.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Waiting {
    pub case: CaseId,
    pub client: ClientId,
    /// None: the case was opened without a referral recorded (then `since` is its opening).
    pub referral: Option<ReferralId>,
    /// The day the referral was received (or the case opened).
    pub since: NaiveDate,
    /// Working days from `since` to today (weekends and bank holidays not counted).
    pub working_days: u32,
    pub commissioner: Option<String>,
}

/// An open case, with how long it has been open and how long since anything was recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OpenCase {
    pub case: CaseId,
    pub client: ClientId,
    pub opened_on: NaiveDate,
    pub days_open: i64,
    /// The day of the latest activity on the case (none: nothing recorded yet).
    pub last_activity: Option<NaiveDate>,
    /// Days since the latest activity, or since the case opened when there is none.
    pub days_quiet: i64,
}

/// The caseload's side of the dashboard, by case id.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Glance {
    /// Every open case still waiting for a first contact, longest waiting first.
    pub waiting: Vec<Waiting>,
    /// The open cases open longest, longest first (at most the limit asked for).
    pub open_longest: Vec<OpenCase>,
    /// The open cases quiet longest, quietest first (at most the limit asked for).
    pub quiet_longest: Vec<OpenCase>,
    /// How many cases are open today.
    pub open_cases: usize,
}

/// Whether an activity kind is a first contact with the person (as the return counts it).
fn is_contact(kind: ActivityKindCode) -> bool {
    matches!(
        kind,
        ActivityKindCode::PrivateInterview | ActivityKindCode::Contact
    )
}

/// The caseload at a glance on `today`: every open case waiting for a first contact (a private
/// interview or contact on the case on or after the day its referral was received), with its
/// age in working days, oldest first; and the `limit` open cases open longest and quiet longest.
pub fn glance(facts: &Facts, today: NaiveDate, cal: &OfficeCalendar, limit: usize) -> Glance {
    let received: BTreeMap<ReferralId, NaiveDate> = facts
        .referrals
        .iter()
        .map(|r| (r.id, r.received_on))
        .collect();
    let mut last: BTreeMap<CaseId, NaiveDate> = BTreeMap::new();
    let mut contact: BTreeMap<CaseId, Vec<NaiveDate>> = BTreeMap::new();
    for a in &facts.activities {
        let e = last.entry(a.case).or_insert(a.on);
        *e = (*e).max(a.on);
        if is_contact(a.kind) {
            contact.entry(a.case).or_default().push(a.on);
        }
    }
    let mut out = Glance::default();
    let mut open = Vec::new();
    for c in facts.cases.iter().filter(|c| c.closed.is_none()) {
        let since = c
            .referral
            .and_then(|r| received.get(&r).copied())
            .unwrap_or(c.opened_on);
        let contacted = contact
            .get(&c.id)
            .is_some_and(|days| days.iter().any(|d| *d >= since));
        if !contacted {
            out.waiting.push(Waiting {
                case: c.id,
                client: c.client,
                referral: c.referral,
                since,
                working_days: working_days_between(cal, since, today),
                commissioner: c.commissioner_on(today).map(str::to_owned),
            });
        }
        let last_activity = last.get(&c.id).copied();
        let days_open = (today - c.opened_on).num_days();
        open.push(OpenCase {
            case: c.id,
            client: c.client,
            opened_on: c.opened_on,
            days_open,
            last_activity,
            days_quiet: last_activity.map_or(days_open, |l| (today - l).num_days()),
        });
    }
    // Longest first; ties by the earlier day, then by id, so the order never wobbles.
    out.waiting
        .sort_by(|a, b| (b.working_days, a.since, a.case).cmp(&(a.working_days, b.since, b.case)));
    out.open_cases = open.len();
    let mut by_open = open.clone();
    by_open.sort_by(|a, b| (b.days_open, a.case).cmp(&(a.days_open, b.case)));
    by_open.truncate(limit);
    open.sort_by(|a, b| (b.days_quiet, a.case).cmp(&(a.days_quiet, b.case)));
    open.truncate(limit);
    out.open_longest = by_open;
    out.quiet_longest = open;
    out
}

/// One headline measure for the dashboard: what it is, its value, and its target if the
/// contract sets one.
#[derive(Debug, Clone, Serialize)]
pub struct Headline {
    pub key: &'static str,
    pub title: &'static str,
    pub definition: &'static str,
    /// A number, or "*" when withheld.
    pub value: serde_json::Value,
    pub target: Option<TargetCheck>,
}

/// The headline measures of a return in reading order ([`HEADLINE`], then any other measure
/// with a target), each beside its target. Measures the contract does not ask for are left out.
pub fn headlines(ret: &Return) -> Vec<Headline> {
    let targeted = ret.targets.keys().filter(|k| !HEADLINE.contains(k));
    HEADLINE
        .iter()
        .chain(targeted)
        .filter_map(|key| {
            let m = MEASURES.iter().find(|m| m.key == *key)?;
            let value = ret.measures.get(m.key)?.clone();
            Some(Headline {
                key: m.key,
                title: m.title,
                definition: m.definition,
                value,
                target: ret.targets.get(m.key).cloned(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::case::{ClosureReason, ReferralSource};
    use crate::report::contract::{Contract, Target};
    use crate::report::{ActivityFacts, CaseFacts, ReferralFacts, compute};

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn cal() -> OfficeCalendar {
        crate::rules::Rules::shipped().unwrap().calendar().clone()
    }

    /// A person referred on `received` with a case opened that day (closed if `closed`).
    fn referred(facts: &mut Facts, n: u128, received: &str, closed: Option<&str>) -> CaseId {
        let client = ClientId(uuid::Uuid::from_u128(n));
        let referral = ReferralId(uuid::Uuid::from_u128(1000 + n));
        let case = CaseId(uuid::Uuid::from_u128(2000 + n));
        facts.people.entry(client).or_default();
        facts.referrals.push(ReferralFacts {
            id: referral,
            client,
            received_on: d(received),
            source: ReferralSource::WardStaff,
            eligible: Some(true),
            decided_by_rules: true,
            status: None,
            commissioner: None,
            out_of_area: None,
        });
        facts.cases.push(CaseFacts {
            id: case,
            client,
            referral: Some(referral),
            commissioner: Some(" Northshire ".into()),
            moves: Vec::new(),
            opened_on: d(received),
            closed: closed.map(|on| (d(on), ClosureReason::IssuesResolved)),
            reopenings: Vec::new(),
            non_instructed: false,
        });
        case
    }

    fn activity(facts: &mut Facts, case: CaseId, on: &str, kind: ActivityKindCode) {
        facts.activities.push(ActivityFacts {
            case,
            on: d(on),
            kind,
            minutes: None,
            concern: None,
            records_basis: None,
        });
    }

    /// Thursday 3 December 2026.
    const TODAY: &str = "2026-12-03";

    #[test]
    fn referrals_not_yet_contacted_wait_oldest_first_in_working_days() {
        let mut f = Facts::default();
        // Friday 27 November: Mon, Tue, Wed, Thu since: 4 working days.
        let older = referred(&mut f, 1, "2026-11-27", None);
        // Tuesday 1 December: 2 working days.
        let newer = referred(&mut f, 2, "2026-12-01", None);
        // Seen the day after referral: not waiting.
        let seen = referred(&mut f, 3, "2026-11-20", None);
        activity(
            &mut f,
            seen,
            "2026-11-23",
            ActivityKindCode::PrivateInterview,
        );
        // A ward round is not a contact with the person: still waiting.
        activity(&mut f, newer, "2026-12-02", ActivityKindCode::WardRound);
        // Closed without a contact: not waiting (the case is over).
        referred(&mut f, 4, "2026-11-02", Some("2026-11-10"));

        let g = glance(&f, d(TODAY), &cal(), 10);
        let waiting: Vec<(CaseId, u32)> =
            g.waiting.iter().map(|w| (w.case, w.working_days)).collect();
        assert_eq!(waiting, vec![(older, 4), (newer, 2)]);
        assert_eq!(g.waiting[0].commissioner.as_deref(), Some("Northshire"));
        assert_eq!(g.waiting[0].since, d("2026-11-27"));
        assert_eq!(g.open_cases, 3);
    }

    #[test]
    fn a_contact_before_the_referral_does_not_count_as_its_first_contact() {
        let mut f = Facts::default();
        let case = referred(&mut f, 1, "2026-12-01", None);
        activity(&mut f, case, "2026-11-30", ActivityKindCode::Contact);
        let g = glance(&f, d(TODAY), &cal(), 10);
        assert_eq!(g.waiting.len(), 1);
        activity(&mut f, case, "2026-12-01", ActivityKindCode::Contact);
        assert!(glance(&f, d(TODAY), &cal(), 10).waiting.is_empty());
    }

    #[test]
    fn bank_holidays_are_not_counted_in_the_wait() {
        let mut f = Facts::default();
        // Thursday 24 December 2026 to Tuesday 29 December: Christmas Day (Fri) and the
        // substitute Boxing Day holiday (Mon 28th) are not working days; only the 29th is.
        referred(&mut f, 1, "2026-12-24", None);
        let g = glance(&f, d("2026-12-29"), &cal(), 10);
        assert_eq!(g.waiting[0].working_days, 1);
    }

    #[test]
    fn open_longest_and_quiet_longest_are_ranked_and_cut_to_the_limit() {
        let mut f = Facts::default();
        let a = referred(&mut f, 1, "2026-06-01", None);
        let b = referred(&mut f, 2, "2026-09-01", None);
        let c = referred(&mut f, 3, "2026-11-01", None);
        referred(&mut f, 4, "2026-01-01", Some("2026-02-01"));
        // a was busy yesterday; b has been quiet since October; c has nothing at all.
        activity(&mut f, a, "2026-12-02", ActivityKindCode::Other);
        activity(&mut f, b, "2026-10-01", ActivityKindCode::PrivateInterview);
        activity(&mut f, b, "2026-09-15", ActivityKindCode::Contact);

        let g = glance(&f, d(TODAY), &cal(), 2);
        let open: Vec<(CaseId, i64)> = g
            .open_longest
            .iter()
            .map(|o| (o.case, o.days_open))
            .collect();
        assert_eq!(open, vec![(a, 185), (b, 93)]);
        let quiet: Vec<(CaseId, i64, Option<NaiveDate>)> = g
            .quiet_longest
            .iter()
            .map(|o| (o.case, o.days_quiet, o.last_activity))
            .collect();
        assert_eq!(quiet, vec![(b, 63, Some(d("2026-10-01"))), (c, 32, None)]);
        assert_eq!(g.open_cases, 3, "the closed case is not counted");
    }

    #[test]
    fn headlines_come_in_reading_order_with_their_targets() {
        let mut f = Facts::default();
        for n in 0..10 {
            let case = referred(&mut f, n, "2026-07-06", None);
            // Eight seen within 2 working days, two after a week.
            let on = if n < 8 { "2026-07-07" } else { "2026-07-15" };
            activity(&mut f, case, on, ActivityKindCode::PrivateInterview);
        }
        let mut ret = compute(
            &f,
            "Northshire",
            d("2026-07-01"),
            d("2026-09-30"),
            &cal(),
            0,
        );
        let mut contract = Contract::default_for("Northshire");
        contract.targets.insert(
            "first_contact_within_5_working_days_pct".into(),
            Target::AtLeast(90.0),
        );
        contract
            .targets
            .insert("non_instructed_cases".into(), Target::AtMost(5.0));
        contract.apply(&mut ret);

        let h = headlines(&ret);
        let keys: Vec<&str> = h.iter().map(|h| h.key).collect();
        assert_eq!(&keys[..HEADLINE.len()], HEADLINE);
        assert_eq!(
            keys.last(),
            Some(&"non_instructed_cases"),
            "a targeted measure follows"
        );
        let pct = h
            .iter()
            .find(|h| h.key == "first_contact_within_5_working_days_pct")
            .unwrap();
        assert_eq!(pct.value, serde_json::json!(80.0));
        assert_eq!(pct.target.as_ref().unwrap().met, Some(false));
        assert_eq!(h[0].value, serde_json::json!(10));
        assert!(h[0].target.is_none());
        assert!(!h[0].definition.is_empty());
    }

    #[test]
    fn the_headline_keys_are_the_measures_not_the_tables() {
        let keys = crate::report::headline_keys();
        for k in HEADLINE {
            assert!(keys.contains(k), "{k}");
        }
        assert!(keys.contains(&"first_contact_within_2_working_days_pct"));
        assert!(!keys.contains(&"referral_source"));
        assert!(!keys.contains(&"gender"));
    }

    #[test]
    fn a_measure_the_contract_does_not_ask_for_is_left_off() {
        let mut f = Facts::default();
        referred(&mut f, 1, "2026-07-06", None);
        let mut ret = compute(
            &f,
            "Northshire",
            d("2026-07-01"),
            d("2026-09-30"),
            &cal(),
            0,
        );
        let mut contract = Contract::default_for("Northshire");
        contract.measures = vec!["referrals_received".into()];
        contract.apply(&mut ret);
        let keys: Vec<&str> = headlines(&ret).iter().map(|h| h.key).collect();
        assert_eq!(keys, vec!["referrals_received"]);
    }
}
