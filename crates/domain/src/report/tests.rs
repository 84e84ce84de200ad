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
            decided_by_rules: true,
            status: Some(StatusCode::S3),
            commissioner: None,
            out_of_area: None,
        });
        let case = CaseId(uid(2000 + n));
        self.facts.cases.push(CaseFacts {
            id: case,
            client,
            referral: Some(referral),
            commissioner: commissioner.map(str::to_owned),
            moves: Vec::new(),
            opened_on: d(received),
            closed: None,
            reopenings: Vec::new(),
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
            concern: None,
            records_basis: None,
        });
    }

    fn case(&mut self, id: CaseId) -> &mut CaseFacts {
        self.facts.cases.iter_mut().find(|x| x.id == id).unwrap()
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
    b.case(c).reopenings = vec![Reopening {
        closed_on: d("2026-07-15"),
        reason: ClosureReason::IssuesResolved,
        reopened_on: d("2026-07-20"),
    }];
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

#[test]
fn a_reopened_case_was_not_open_between_its_closing_and_reopening() {
    let mut b = Build::new();
    // Opened 1 May, closed 20 June, reopened 10 July, closed again 31 July.
    let c = b.referred(1, "2026-05-01", NORTH);
    b.case(c).reopenings = vec![Reopening {
        closed_on: d("2026-06-20"),
        reason: ClosureReason::IssuesResolved,
        reopened_on: d("2026-07-10"),
    }];
    b.case(c).closed = Some((d("2026-07-31"), ClosureReason::Discharged));
    let r = b.ret(0);
    assert_eq!(
        r.measures["cases_open_at_start"],
        json!(0),
        "closed on 1 July"
    );
    assert_eq!(r.measures["cases_closed"], json!(1));
    // 91 days from opening to the last closing, less the 20 spent closed.
    assert_eq!(r.measures["involvement_median_days"], json!(71.0));
    assert_eq!(b.ret(7).measures["involvement_median_days"], json!("*"));
    let case = &b.facts.cases[0];
    assert_eq!(case.days_involved(d("2026-07-31")), 71);
    assert_eq!(
        r.tables["length_of_involvement"]["31-90 days"],
        Cell::Count(1)
    );
    assert!(!case.open_at_end_of(d("2026-07-01")));
    assert!(case.open_at_end_of(d("2026-07-10")));
    assert!(!case.open_during(d("2026-06-21"), d("2026-07-09")));
    assert!(case.open_during(d("2026-06-21"), d("2026-07-10")));
    // Open some day of the period: supported, so in the supported people's tables.
    assert_eq!(r.tables["supported_ethnic_category"]["99"], Cell::Count(1));
    assert_eq!(r.tables["instruction"]["instructed"], Cell::Count(1));
}

#[test]
fn a_case_moved_between_commissioners_counts_for_each_on_its_own_days() {
    let mut b = Build::new();
    let c = b.referred(1, "2026-07-06", NORTH);
    b.case(c).commissioner = Some("Southshire Council".into());
    b.case(c).moves = vec![CommissionerMove {
        from: d("2026-08-15"),
        before: NORTH.map(str::to_owned),
        after: Some("Southshire Council".into()),
    }];
    b.activity(c, "2026-07-07", ActivityKindCode::PrivateInterview, None);
    b.activity(c, "2026-08-14", ActivityKindCode::Tribunal, None);
    b.activity(c, "2026-08-15", ActivityKindCode::ManagersHearing, None);
    let north = b.ret(0);
    assert_eq!(north.measures["referrals_received"], json!(1));
    assert_eq!(north.measures["cases_opened"], json!(1));
    assert_eq!(north.measures["tribunals_supported"], json!(1));
    assert_eq!(north.measures["managers_hearings_supported"], json!(0));
    assert_eq!(north.measures["cases_open_at_end"], json!(0), "moved away");
    assert_eq!(
        north.measures["first_contact_median_working_days"],
        json!(1.0)
    );
    let south = compute(
        &b.facts,
        "southshire council",
        d("2026-07-01"),
        d("2026-09-30"),
        &cal(),
        0,
    );
    assert_eq!(south.commissioner, "Southshire Council");
    assert_eq!(south.measures["referrals_received"], json!(0));
    assert_eq!(south.measures["cases_opened"], json!(0));
    assert_eq!(south.measures["managers_hearings_supported"], json!(1));
    assert_eq!(south.measures["tribunals_supported"], json!(0));
    assert_eq!(south.measures["cases_open_at_end"], json!(1));
    // Supported by both in the period.
    assert_eq!(south.tables["instruction"]["instructed"], Cell::Count(1));
    assert_eq!(north.tables["instruction"]["instructed"], Cell::Count(1));
    // Before the move, the case is North's: a later quarter's start.
    let c = &b.facts.cases[0];
    assert_eq!(c.commissioner_on(d("2026-08-14")), NORTH);
    assert_eq!(
        c.commissioner_on(d("2026-08-15")),
        Some("Southshire Council")
    );
}

#[test]
fn a_referral_that_opened_no_case_counts_for_its_own_commissioner() {
    let mut b = Build::new();
    let c = b.referred(1, "2026-07-06", NORTH);
    // Not eligible, no case: the referral names its commissioner.
    b.facts.cases.retain(|x| x.id != c);
    let r0 = &mut b.facts.referrals[0];
    r0.commissioner = NORTH.map(str::to_owned);
    r0.eligible = Some(false);
    r0.status = Some(StatusCode::S136);
    r0.out_of_area = Some(true);
    // Another with no case and no commissioner: listed for fixing.
    b.referred(2, "2026-07-07", NORTH);
    b.facts.cases.retain(|x| x.client != ClientId(uid(2)));
    // The advocate's own decision is released as that, never in their words.
    b.referred(3, "2026-07-08", NORTH);
    b.facts.referrals[2].eligible = Some(false);
    b.facts.referrals[2].decided_by_rules = false;
    let r = b.ret(0);
    assert_eq!(r.measures["referrals_received"], json!(2));
    assert_eq!(r.matched_cases, 2);
    assert_eq!(r.tables["not_eligible_why"]["s136"], Cell::Count(1));
    assert_eq!(
        r.tables["not_eligible_why"]["advocate's assessment"],
        Cell::Count(1)
    );
    assert_eq!(r.tables["out_of_area"]["out of area"], Cell::Count(1));
    assert_eq!(r.tables["out_of_area"]["not recorded"], Cell::Count(1));
    assert_eq!(r.unassigned.len(), 1);
    assert_eq!(r.unassigned[0].referral, Some(ReferralId(uid(1002))));
}

#[test]
fn concerns_answered_late_and_records_requests_by_basis() {
    let mut b = Build::new();
    let c = b.referred(1, "2026-06-01", NORTH);
    let concern = |due: Option<&str>, answered: Option<&str>| ConcernFacts {
        response_due: due.map(d),
        answered_on: answered.map(d),
    };
    for (due, answered) in [
        (Some("2026-07-10"), Some("2026-07-10")), // in time (on the day)
        (Some("2026-07-10"), Some("2026-07-11")), // late
        (Some("2026-07-10"), None),               // overdue
        (Some("2026-10-10"), None),               // not yet due
        (None, None),
    ] {
        b.activity(c, "2026-07-02", ActivityKindCode::Concern, None);
        b.facts.activities.last_mut().unwrap().concern = Some(concern(due, answered));
    }
    b.activity(c, "2026-07-02", ActivityKindCode::RecordsRequest, None);
    b.facts.activities.last_mut().unwrap().records_basis = Some("patient-consent".into());
    let r = b.ret(0);
    assert_eq!(r.measures["concerns_raised"], json!(5));
    assert_eq!(r.measures["concerns_answered_late"], json!(2));
    let t = &r.tables["concern_response"];
    assert_eq!(t["answered in time"], Cell::Count(1));
    assert_eq!(t["not answered, not yet due"], Cell::Count(1));
    assert_eq!(r.tables["records_basis"]["patient-consent"], Cell::Count(1));
    assert_eq!(r.cases_behind["concerns_answered_late"], vec![c]);
    // Released: the small late count is starred with its cells.
    assert_eq!(b.ret(7).measures["concerns_answered_late"], json!("*"));
}

#[test]
fn a_cell_of_exactly_seven_is_starred_and_eight_is_shown_with_the_cases_behind_each() {
    let mut b = Build::new();
    let mut sevens = Vec::new();
    for i in 0..7 {
        sevens.push(b.referred(i + 1, "2026-07-06", NORTH));
    }
    for i in 10..18 {
        let c = b.referred(i, "2026-07-06", NORTH);
        b.facts.referrals.last_mut().unwrap().source = ReferralSource::SelfReferral;
        let _ = c;
    }
    for i in 20..40 {
        b.referred(i, "2026-07-06", NORTH);
        b.facts.referrals.last_mut().unwrap().source = ReferralSource::Solicitor;
    }
    let r = b.ret(7);
    let t = &r.tables["referral_source"];
    assert_eq!(t["ward-staff"], Cell::Suppressed, "7");
    assert_eq!(
        t["self"],
        Cell::Suppressed,
        "8, secondary: else 35 - 20 - 8 = 7"
    );
    assert_eq!(t["solicitor"], Cell::Count(20));
    let exact = b.ret(0);
    assert_eq!(exact.tables["referral_source"]["self"], Cell::Count(8));
    let mut behind = exact.cases_behind["referral_source/ward-staff"].clone();
    behind.sort();
    sevens.sort();
    assert_eq!(behind, sevens);
    assert_eq!(exact.cases_behind["referrals_received"].len(), 35);
}

#[test]
fn a_contract_keeps_the_measures_it_asks_for_and_checks_its_targets() {
    use super::contract::{Contract, Target};
    let mut b = Build::new();
    for i in 0..10 {
        let c = b.referred(i + 1, "2026-07-06", NORTH);
        b.activity(c, "2026-07-07", ActivityKindCode::PrivateInterview, None);
    }
    let mut r = b.ret(7);
    let mut contract = Contract::default_for("Northshire County Council");
    contract.measures = vec![
        "referrals_received".into(),
        "first_contact_within_5_working_days_pct".into(),
        "ethnic_category".into(),
    ];
    contract.targets.insert(
        "first_contact_within_5_working_days_pct".into(),
        Target::AtLeast(95.0),
    );
    contract
        .targets
        .insert("referrals_received".into(), Target::AtMost(5.0));
    contract
        .reference
        .insert("ethnic_category".into(), [("A".to_string(), 120u64)].into());
    contract.validate().unwrap();
    contract.apply(&mut r);
    assert_eq!(r.measures.len(), 2);
    assert_eq!(
        r.tables.keys().copied().collect::<Vec<_>>(),
        ["ethnic_category"]
    );
    let t = &r.targets["first_contact_within_5_working_days_pct"];
    assert_eq!((t.actual.clone(), t.met), (json!(100.0), Some(true)));
    assert_eq!(r.targets["referrals_received"].met, Some(false));
    assert_eq!(r.reference["ethnic_category"]["A"], 120);
    // A measure that does not exist is refused, naming it.
    contract.measures.push("referals".into());
    assert!(
        contract
            .validate()
            .unwrap_err()
            .to_string()
            .contains("referals")
    );
}

#[test]
fn financial_year_quarters_are_the_default_periods() {
    use super::contract::{Contract, financial_year_of};
    assert_eq!(financial_year_of(d("2027-03-31")), 2026);
    assert_eq!(financial_year_of(d("2026-04-01")), 2026);
    let c = Contract::default_for("X");
    let ps = c.periods_on(d("2026-08-10"));
    // This year's Q1, Q2 and the year (started), and last year's four quarters and year.
    assert_eq!(ps.len(), 8);
    assert_eq!(ps[0].label, "2026-27 Q2 (Jul-Sep) (in progress)");
    let last = c.last_complete(d("2026-08-10")).unwrap();
    assert_eq!((last.from, last.to), (d("2026-04-01"), d("2026-06-30")));
    assert!(ps.iter().all(|p| p.from <= d("2026-08-10")));
}

#[test]
fn repeat_referrals_age_bands_and_wards_are_counted_at_their_edges() {
    let mut b = Build::new();
    // Person 1: referred 1 August 2025 and again 1 August 2026 (exactly 12 months: a repeat);
    // person 2: 31 July 2025 and 1 August 2026 (over 12 months: first).
    for (n, earlier) in [(1, "2025-08-01"), (2, "2025-07-31")] {
        b.referred(n, earlier, NORTH);
        let c = b.referred(n + 100, "2026-08-01", NORTH);
        // The same person: the later referral is theirs.
        b.case(c).client = ClientId(uid(n));
        b.facts.referrals.last_mut().unwrap().client = ClientId(uid(n));
    }
    fn p(b: &mut Build, n: u128) -> &mut PersonFacts {
        b.facts.people.get_mut(&ClientId(uid(n))).unwrap()
    }
    // Ages on the day of referral, 1 August 2026: 17 (born the day after 18 years before),
    // and 18 exactly.
    p(&mut b, 1).dob = Some(d("2008-08-02"));
    p(&mut b, 2).dob = Some(d("2008-08-01"));
    p(&mut b, 1).hospital = Some(" Riverside ".into());
    p(&mut b, 1).ward = Some("Oak".into());
    let r = b.ret(0);
    assert_eq!(r.tables["repeat_referrals"]["repeat"], Cell::Count(1));
    assert_eq!(r.tables["repeat_referrals"]["first"], Cell::Count(1));
    assert_eq!(r.tables["age_band"]["under 18"], Cell::Count(1));
    assert_eq!(r.tables["age_band"]["18-25"], Cell::Count(1));
    assert_eq!(r.tables["hospital"]["Riverside"], Cell::Count(1));
    assert_eq!(r.tables["hospital_ward"]["Riverside / Oak"], Cell::Count(1));
    assert_eq!(
        r.tables["hospital_ward"]["not recorded / not recorded"],
        Cell::Count(1)
    );
    // Released, the one-person ward is folded into "other" before it is starred: its name
    // never leaves the laptop.
    let released = serde_json::to_string(&b.ret(7)).unwrap();
    assert!(!released.contains("Oak"), "{released}");
}

/// The attacks a hostile review found: a starred count rebuilt from the caseload's sum, from a
/// table that breaks down a starred cell, or from a percentage's hidden denominator.
#[test]
fn a_starred_count_cannot_be_rebuilt_from_linked_numbers() {
    let mut b = Build::new();
    // 20 open at the start, 17 opened, 3 closed, 34 open at the end.
    for i in 0..20 {
        b.referred(i + 1, "2026-06-01", NORTH);
    }
    for i in 0..17 {
        b.referred(i + 100, "2026-07-06", NORTH);
    }
    for i in 0..3 {
        b.facts.cases[i].closed = Some((d("2026-08-03"), ClosureReason::Discharged));
    }
    let r = b.ret(7);
    assert_eq!(r.measures["cases_closed"], json!("*"));
    let shown: Vec<_> = ["cases_open_at_start", "cases_opened", "cases_open_at_end"]
        .iter()
        .filter(|k| r.measures[**k] != json!("*"))
        .collect();
    assert_eq!(shown.len(), 2, "one more starred: {:?}", r.measures);
    assert_eq!(r.measures["cases_opened"], json!("*"), "the smallest");

    // 20 referred, 3 eligible and 17 not, all for the advocate's reasons: the reasons table
    // would give the starred "not eligible" (and so the eligible) away.
    let mut b = Build::new();
    for i in 0..20 {
        b.referred(i + 1, "2026-07-06", NORTH);
        if i >= 3 {
            let r = b.facts.referrals.last_mut().unwrap();
            r.eligible = Some(false);
            r.decided_by_rules = false;
        }
    }
    let r = b.ret(7);
    assert_eq!(r.tables["eligibility"]["eligible"], Cell::Suppressed);
    assert_eq!(r.tables["eligibility"]["not eligible"], Cell::Suppressed);
    assert_eq!(
        r.tables["not_eligible_why"]["advocate's assessment"],
        Cell::Suppressed
    );

    // 20 referred, 17 with a case, 9 of them seen within 5 days: 52.9% of a hidden 17 would
    // give the 3 with no case away. The denominator is withheld, and so is the share.
    let mut b = Build::new();
    for i in 0..20u128 {
        let c = b.referred(i + 1, "2026-07-06", NORTH);
        if i >= 17 {
            b.facts.cases.retain(|x| x.id != c);
            b.facts.referrals.last_mut().unwrap().commissioner = NORTH.map(str::to_owned);
        } else if i < 9 {
            b.activity(c, "2026-07-07", ActivityKindCode::PrivateInterview, None);
        }
    }
    let r = b.ret(7);
    assert_eq!(r.measures["first_contact_referrals"], json!("*"));
    assert_eq!(
        r.measures["first_contact_within_5_working_days_pct"],
        json!("*")
    );
    let exact = b.ret(0);
    assert_eq!(exact.measures["first_contact_referrals"], json!(17));
    // Nobody referred at all: no median to hide, so none is given (null, not "*").
    let none = Build::new().ret(7);
    assert_eq!(
        none.measures["first_contact_median_working_days"],
        serde_json::Value::Null
    );
}

#[test]
fn a_commissioner_is_the_same_in_any_letter_case_of_any_alphabet() {
    let mut b = Build::new();
    for i in 0..3 {
        b.referred(i + 1, "2026-07-06", Some("Cyngor Sir Ynys Môn"));
        b.referred(i + 10, "2026-07-06", Some("CYNGOR SIR  YNYS MÔN "));
    }
    let r = compute(
        &b.facts,
        "cyngor sir ynys môn",
        d("2026-07-01"),
        d("2026-09-30"),
        &cal(),
        0,
    );
    assert_eq!(r.measures["referrals_received"], json!(6));
    assert_eq!(r.commissioner, "CYNGOR SIR  YNYS MÔN");
}

#[test]
fn a_target_is_set_on_a_headline_the_contract_asks_for() {
    use super::contract::{Contract, Target};
    let mut c = Contract::default_for(NORTH.unwrap());
    c.targets.insert("eligibility".into(), Target::AtLeast(3.0));
    assert!(c.validate().unwrap_err().to_string().contains("is a table"));
    c.targets.clear();
    c.measures = vec!["cases_opened".into()];
    c.targets
        .insert("referrals_received".into(), Target::AtLeast(3.0));
    assert!(
        c.validate()
            .unwrap_err()
            .to_string()
            .contains("not among the measures")
    );
    assert!(is_headline("first_contact_referrals"));
    assert!(!is_headline("ethnic_category"));
}
