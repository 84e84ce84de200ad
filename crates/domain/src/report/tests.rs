//! Each measure on hand-built facts with known answers, and the edges the issue names.
#![allow(clippy::unwrap_used)]

use super::*;
use crate::case::{ClosureReason, IssueCategory, OutcomeKind, ReferralSource};
use serde_json::json;

fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn uid(n: u128) -> uuid::Uuid {
    uuid::Uuid::from_u128(n)
}

/// England's bank holidays around the period (the shipped calendar).
fn cal() -> OfficeCalendar {
    crate::rules::Rules::shipped().unwrap().calendar().clone()
}

struct Build {
    facts: Facts,
}

impl Build {
    fn new() -> Self {
        Build {
            facts: Facts::default(),
        }
    }

    /// A person referred on `received`, with a case for `commissioner` opened that day.
    fn referred(&mut self, n: u128, received: &str, commissioner: Option<&str>) -> CaseId {
        let client = ClientId(uid(n));
        self.facts.people.entry(client).or_default();
        let referral = ReferralId(uid(1000 + n));
        self.facts.referrals.push(ReferralFacts {
            id: referral,
            client,
            received_on: d(received),
            source: ReferralSource::WardStaff,
            eligible: Some(true),
            status: Some(StatusCode::S3),
        });
        let case = CaseId(uid(2000 + n));
        self.facts.cases.push(CaseFacts {
            id: case,
            client,
            referral: Some(referral),
            commissioner: commissioner.map(str::to_owned),
            opened_on: d(received),
            closed: None,
            earlier_closings: Vec::new(),
            non_instructed: false,
        });
        case
    }

    fn activity(&mut self, case: CaseId, on: &str, kind: ActivityKindCode, minutes: Option<u32>) {
        self.facts.activities.push(ActivityFacts {
            case,
            on: d(on),
            kind,
            minutes,
        });
    }

    fn ret(&self, threshold: u64) -> Return {
        compute(
            &self.facts,
            "Northshire County Council",
            d("2026-07-01"),
            d("2026-09-30"),
            &cal(),
            threshold,
        )
    }
}

const NORTH: Option<&str> = Some("Northshire County Council");

#[test]
fn a_referral_counts_in_the_period_it_was_received_for_its_cases_commissioner() {
    let mut b = Build::new();
    b.referred(1, "2026-06-30", NORTH); // the day before
    b.referred(2, "2026-07-01", NORTH); // first day
    b.referred(3, "2026-09-30", NORTH); // last day
    b.referred(4, "2026-10-01", NORTH); // the day after
    b.referred(5, "2026-08-01", Some("Southshire Council")); // another commissioner
    b.referred(6, "2026-08-02", Some("  northshire county council ")); // same, typed differently
    let r = b.ret(0);
    assert_eq!(r.measures["referrals_received"], json!(3));
    assert_eq!(r.measures["cases_opened"], json!(3));
    assert_eq!(r.measures["cases_open_at_start"], json!(1));
    assert_eq!(r.measures["cases_open_at_end"], json!(4));
}

#[test]
fn a_case_without_a_responsible_authority_is_listed_for_fixing_not_dropped_silently() {
    let mut b = Build::new();
    let missing = b.referred(1, "2026-07-10", None);
    let blank = b.referred(2, "2026-07-11", Some("  "));
    b.referred(3, "2026-07-12", NORTH);
    let r = b.ret(0);
    assert_eq!(r.measures["referrals_received"], json!(1));
    let cases: Vec<_> = r.unassigned.iter().filter_map(|u| u.case).collect();
    assert_eq!(cases, [missing, blank]);
    // Never in what is released.
    let released = serde_json::to_value(&r).unwrap();
    assert!(released.get("unassigned").is_none());
}

#[test]
fn closed_and_reopened_cases_count_each_closing_in_the_period() {
    let mut b = Build::new();
    let c = b.referred(1, "2026-05-01", NORTH);
    let case = b.facts.cases.iter_mut().find(|x| x.id == c).unwrap();
    case.earlier_closings = vec![(d("2026-07-15"), ClosureReason::IssuesResolved)];
    // Reopened, still open: open at the end.
    let c2 = b.referred(2, "2026-05-02", NORTH);
    let case2 = b.facts.cases.iter_mut().find(|x| x.id == c2).unwrap();
    case2.closed = Some((d("2026-09-30"), ClosureReason::Discharged));
    let r = b.ret(0);
    assert_eq!(r.measures["cases_closed"], json!(2));
    assert_eq!(
        r.tables["closing_reason"]["issues-resolved"],
        Cell::Count(1)
    );
    assert_eq!(r.tables["closing_reason"]["discharged"], Cell::Count(1));
    assert_eq!(
        r.measures["cases_open_at_end"],
        json!(1),
        "closed on the last day is not open at the end"
    );
    assert_eq!(r.measures["cases_open_at_start"], json!(2));
}

#[test]
fn first_contact_is_counted_in_working_days_without_weekends_or_bank_holidays() {
    // Friday 28 August 2026; Monday 31 August is the summer bank holiday.
    let c = cal();
    assert_eq!(
        working_days_between(&c, d("2026-08-28"), d("2026-08-28")),
        0
    );
    assert_eq!(
        working_days_between(&c, d("2026-08-28"), d("2026-09-01")),
        1
    );
    assert_eq!(
        working_days_between(&c, d("2026-08-28"), d("2026-09-04")),
        4
    );
    let mut b = Build::new();
    // Ten referrals: contacted after 0, 1, ..., 8 working days, and one never.
    let starts = [
        ("2026-07-06", "2026-07-06"), // Mon, same day: 0
        ("2026-07-06", "2026-07-07"), // 1
        ("2026-07-06", "2026-07-08"), // 2
        ("2026-07-06", "2026-07-09"), // 3
        ("2026-07-06", "2026-07-10"), // 4
        ("2026-07-06", "2026-07-13"), // 5 (the weekend not counted)
        ("2026-07-06", "2026-07-14"), // 6
        ("2026-08-28", "2026-09-08"), // 6 (the bank holiday not counted)
        ("2026-07-06", "2026-07-16"), // 8
    ];
    for (i, (received, contact)) in starts.iter().enumerate() {
        let case = b.referred(i as u128 + 1, received, NORTH);
        b.activity(case, contact, ActivityKindCode::PrivateInterview, Some(30));
        // Work before contact that is not contact does not count.
        b.activity(
            case,
            received,
            ActivityKindCode::ProfessionalInterview,
            None,
        );
    }
    let never = b.referred(50, "2026-09-01", NORTH);
    let r = b.ret(0);
    assert_eq!(r.measures["first_contact_median_working_days"], json!(4.0));
    assert_eq!(
        r.measures["first_contact_90th_percentile_working_days"],
        json!(8.0)
    );
    // 3 of 10 within 2 working days; 6 of 10 within 5 (the one never contacted is not within).
    assert_eq!(
        r.measures["first_contact_within_2_working_days_pct"],
        json!(30.0)
    );
    assert_eq!(
        r.measures["first_contact_within_5_working_days_pct"],
        json!(60.0)
    );
    // Released: 3 within (and 4 not) are small numbers the percentage would give away.
    let released = b.ret(7);
    assert_eq!(
        released.measures["first_contact_within_2_working_days_pct"],
        json!("*")
    );
    assert_eq!(
        released.measures["first_contact_median_working_days"],
        json!(4.0)
    );
    let missed: Vec<_> = r.missed_target.iter().map(|m| m.case).collect();
    assert!(missed.contains(&never));
    assert_eq!(missed.len(), 4);
    assert_eq!(r.measures["advocacy_hours"], json!(4.5));
}

#[test]
fn rates_and_medians_over_fewer_than_eight_people_are_withheld() {
    let mut b = Build::new();
    for i in 0..7 {
        let case = b.referred(i + 1, "2026-07-06", NORTH);
        b.activity(case, "2026-07-07", ActivityKindCode::Contact, None);
    }
    let r = b.ret(7);
    assert_eq!(r.measures["first_contact_median_working_days"], json!("*"));
    assert_eq!(
        r.measures["first_contact_within_5_working_days_pct"],
        json!("*")
    );
    assert_eq!(r.measures["referrals_received"], json!("*"));
    // The manager's own view: exact.
    let exact = b.ret(0);
    assert_eq!(
        exact.measures["first_contact_median_working_days"],
        json!(1.0)
    );
    assert_eq!(exact.measures["referrals_received"], json!(7));
}

#[test]
fn people_with_no_equality_data_are_not_known_and_not_stated_is_kept_apart() {
    let mut b = Build::new();
    for i in 0..8 {
        b.referred(i + 1, "2026-07-06", NORTH);
    }
    for i in 10..19 {
        b.referred(i, "2026-07-07", NORTH);
        b.facts
            .people
            .get_mut(&ClientId(uid(i)))
            .unwrap()
            .ethnic_category = Some(EthnicCategory::NotStated);
    }
    for i in 20..27 {
        b.referred(i, "2026-07-08", NORTH);
        b.facts
            .people
            .get_mut(&ClientId(uid(i)))
            .unwrap()
            .ethnic_category = Some(EthnicCategory::BlackCaribbean);
    }
    // The same person referred twice in the period is counted once.
    b.referred(1, "2026-08-08", NORTH);
    let exact = b.ret(0);
    let t = &exact.tables["ethnic_category"];
    assert_eq!(t["99"], Cell::Count(8), "never recorded: 99");
    assert_eq!(t["Z"], Cell::Count(9), "asked, chose not to say: Z");
    assert_eq!(t["M"], Cell::Count(7));
    // Released: 7 is starred, and so is the smallest other cell (8): otherwise the 7 would be
    // the people referred (24) less the rest.
    let r = b.ret(7);
    let v = serde_json::to_value(&r).unwrap();
    assert_eq!(
        v["tables"]["ethnic_category"],
        json!({"99": "*", "M": "*", "Z": 9})
    );
    assert_eq!(r.measures["referrals_received"], json!(25));
}

#[test]
fn work_done_and_issues_are_counted_for_the_commissioners_cases_in_the_period() {
    let mut b = Build::new();
    let c = b.referred(1, "2026-06-01", NORTH);
    let other = b.referred(2, "2026-06-01", Some("Southshire Council"));
    b.activity(c, "2026-07-02", ActivityKindCode::Tribunal, Some(120));
    b.activity(c, "2026-07-03", ActivityKindCode::WardRound, None);
    b.activity(c, "2026-07-04", ActivityKindCode::CpaReview, None);
    b.activity(c, "2026-07-05", ActivityKindCode::ManagersHearing, None);
    b.activity(c, "2026-06-30", ActivityKindCode::Tribunal, None); // before
    b.activity(other, "2026-07-02", ActivityKindCode::Tribunal, None); // another commissioner
    b.facts.issues.push(IssueFacts {
        case: c,
        category: IssueCategory::Leave,
        opened_on: d("2026-07-02"),
        outcome: Some((d("2026-08-01"), OutcomeKind::DecisionChanged)),
    });
    b.facts.issues.push(IssueFacts {
        case: c,
        category: IssueCategory::Medication,
        opened_on: d("2026-07-02"),
        outcome: None,
    });
    let r = b.ret(0);
    assert_eq!(r.measures["tribunals_supported"], json!(1));
    assert_eq!(r.measures["ward_rounds_and_cpa_attended"], json!(2));
    assert_eq!(r.measures["managers_hearings_supported"], json!(1));
    assert_eq!(r.measures["advocacy_hours"], json!(2.0));
    assert_eq!(r.tables["issue_category"]["leave"], Cell::Count(1));
    assert_eq!(r.tables["issue_outcome"]["resolved"], Cell::Count(1));
    assert_eq!(r.tables["issue_outcome"]["open"], Cell::Count(1));
}

/// A headline that is a cell of a table is starred with it; rare free text is folded into
/// "other" so its words never leave the laptop.
#[test]
fn a_headline_never_gives_away_a_starred_cell_and_rare_words_stay_home() {
    let mut b = Build::new();
    for i in 0..10 {
        b.referred(i + 1, "2026-07-06", NORTH);
    }
    b.facts.referrals[0].eligible = Some(false);
    b.facts.people.get_mut(&ClientId(uid(1))).unwrap().religion =
        Some("Ward of Alice Secretname".into());
    let r = b.ret(7);
    assert_eq!(r.tables["eligibility"]["not eligible"], Cell::Suppressed);
    assert_eq!(
        r.tables["eligibility"]["eligible"],
        Cell::Suppressed,
        "secondary"
    );
    assert_eq!(
        r.measures["referrals_eligible"],
        json!("*"),
        "else 10 - 9 gives the 1"
    );
    let v = serde_json::to_string(&r).unwrap();
    assert!(!v.contains("Secretname"), "{v}");
    assert_eq!(r.tables["religion"].get("other"), Some(&Cell::Suppressed));
    // The manager's own view keeps the words.
    assert!(b.ret(0).tables["religion"].contains_key("ward of alice secretname"));
}

#[test]
fn a_commissioner_no_case_has_matches_nothing() {
    let mut b = Build::new();
    b.referred(1, "2026-07-06", NORTH);
    let r = compute(
        &b.facts,
        "Nowhere",
        d("2026-07-01"),
        d("2026-09-30"),
        &cal(),
        7,
    );
    assert_eq!(r.matched_cases, 0);
}

#[test]
fn every_measure_and_table_has_a_definition() {
    let r = Build::new().ret(7);
    for key in r.measures.keys().chain(r.tables.keys()) {
        assert!(
            MEASURES.iter().any(|m| m.key == *key),
            "{key} has no definition"
        );
    }
    assert_eq!(MEASURES.len(), r.measures.len() + r.tables.len());
}
