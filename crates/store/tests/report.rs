//! Commissioner returns on a real encrypted store: the facts read back (a case moved between
//! commissioners, a case closed and reopened, a concern answered late by a later amendment, a
//! records request's basis), contracts set and their targets, and every return audited with
//! what it was (never its numbers).
#![allow(clippy::unwrap_used)]

use chrono::NaiveDate;
use std::path::Path;
use wardside_domain::report::contract::{Contract, Target};
use wardside_domain::*;
use wardside_store::clock::Clock;
use wardside_store::report::ReportAudit;
use wardside_store::*;

const FAST: KdfParams = KdfParams {
    m_kib: 256,
    t: 1,
    p: 1,
};
const NORTH: &str = "Northshire County Council";
const SOUTH: &str = "Southshire Council";

fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn store(dir: &Path, now: &str) -> Store {
    let mut s = Store::create_with(
        &dir.join("wardside.db"),
        &Passphrase::new("plum kettle harbour"),
        "Ceri Manager",
        FAST,
        Tuning::default(),
    )
    .unwrap();
    s.set_clock(Clock::parse(now).unwrap());
    s
}

fn activity(case: CaseId, on: &str, kind: ActivityKind) -> Activity {
    Activity {
        case_id: case,
        at: d(on).and_hms_opt(10, 0, 0).unwrap(),
        duration_minutes: Some(45),
        kind,
        withheld: None,
    }
}

/// A person referred on `on` with a case for `authority` opened that day.
fn referred(s: &mut Store, name: &str, on: &str, authority: &str) -> CaseId {
    s.write(|w| {
        let client = w.add_client(&Client::named(name))?;
        let referral = w.add_referral(&Referral {
            client_id: client,
            received_on: d(on),
            source: ReferralSource::WardStaff,
            method: None,
            referrer: None,
            eligible: Some(true),
            eligibility_reason: Some("s. 3".into()),
            eligibility_source: None,
            inpatient: None,
            responsible_authority: None,
            out_of_area: Some(false),
        })?;
        let mut case = Case::opened(client, d(on));
        case.referral_id = Some(referral);
        case.responsible_authority = Some(authority.into());
        w.open_case(&case)
    })
    .unwrap()
}

#[test]
fn the_store_reads_moves_reopenings_and_answers_back_for_the_return() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = store(dir.path(), "2026-07-06T12:00:00Z");
    let rules = wardside_store::config::load_rules(None).unwrap();
    let moved = referred(&mut s, "Person Moved", "2026-07-06", NORTH);
    let reopened = referred(&mut s, "Person Reopened", "2026-07-06", NORTH);
    s.write(|w| {
        w.add_activity(
            &activity(
                moved,
                "2026-07-06",
                ActivityKind::Concern {
                    raised_with: "Ward manager".into(),
                    response_due: Some(d("2026-07-10")),
                    response: None,
                },
            ),
            "Raised the leave question",
        )?;
        w.add_activity(
            &activity(
                moved,
                "2026-07-06",
                ActivityKind::RecordsRequest {
                    record_holder: "Ward".into(),
                    basis: RecordsBasis::PatientConsent,
                    records_requested: None,
                    seen_on: None,
                    what_was_seen: None,
                    withhold_from_patient: false,
                },
            ),
            "Asked to see the notes",
        )?;
        w.close_case(
            reopened,
            CaseClosure {
                on: d("2026-07-06"),
                reason: ClosureReason::IssuesResolved,
                note: None,
            },
        )
    })
    .unwrap();
    // A week later: the response is recorded (late), the case reopened, and the other moves
    // to Southshire from 14 July.
    s.set_clock(Clock::parse("2026-07-13T12:00:00Z").unwrap());
    let concern = s.case_view(moved).unwrap().timeline[0].id;
    let view = s.case_view(moved).unwrap();
    let entry = view.timeline.iter().find(|e| e.id == concern).unwrap();
    let mut after = ActivityDetails::of(&entry.activity);
    if let ActivityKind::Concern { response, .. } = &mut after.kind {
        *response = Some("Leave restored".into());
    }
    if matches!(after.kind, ActivityKind::Concern { .. }) {
        s.amend_activity(concern, &after, "The ward replied")
            .unwrap();
    }
    s.reopen_case(reopened, "New issue raised").unwrap();
    s.set_clock(Clock::parse("2026-07-20T12:00:00Z").unwrap());
    s.move_case_commissioner(moved, Some(SOUTH), d("2026-07-14"), "Placed by Southshire")
        .unwrap();
    // Refused: before the case opened; the same authority again.
    assert!(
        s.move_case_commissioner(moved, Some(NORTH), d("2026-01-01"), "x")
            .is_err()
    );
    let err = s
        .move_case_commissioner(moved, Some(" southshire council "), d("2026-07-15"), "x")
        .unwrap_err();
    assert!(err.to_string().contains("same as before"), "{err}");

    let facts = s.report_facts().unwrap();
    let m = facts.cases.iter().find(|c| c.id == moved).unwrap();
    assert_eq!(m.commissioner_on(d("2026-07-13")), Some(NORTH));
    assert_eq!(m.commissioner_on(d("2026-07-14")), Some(SOUTH));
    let r = facts.cases.iter().find(|c| c.id == reopened).unwrap();
    assert_eq!(r.reopenings.len(), 1);
    assert_eq!(r.reopenings[0].reopened_on, d("2026-07-13"));
    assert!(!r.open_at_end_of(d("2026-07-08")));

    let north = s
        .commissioner_return(NORTH, d("2026-07-01"), d("2026-09-30"), &rules, 0)
        .unwrap();
    assert_eq!(
        north.measures["concerns_answered_late"],
        serde_json::json!(1)
    );
    assert_eq!(
        north.tables["concern_response"]["answered late"],
        wardside_domain::report::suppress::Cell::Count(1)
    );
    assert_eq!(
        north.tables["records_basis"]["patient-consent"],
        wardside_domain::report::suppress::Cell::Count(1)
    );
    assert_eq!(north.measures["cases_open_at_end"], serde_json::json!(1));
    assert_eq!(north.measures["cases_closed"], serde_json::json!(1));
    let south = s
        .commissioner_return(SOUTH, d("2026-07-01"), d("2026-09-30"), &rules, 0)
        .unwrap();
    assert_eq!(south.measures["cases_open_at_end"], serde_json::json!(1));
    assert_eq!(south.measures["referrals_received"], serde_json::json!(0));
    // Both commissioners are known, each with its cases.
    let names: Vec<(String, usize)> = s
        .commissioners()
        .unwrap()
        .into_iter()
        .map(|c| (c.contract.commissioner, c.cases))
        .collect();
    assert_eq!(names, [(NORTH.to_string(), 1), (SOUTH.to_string(), 1)]);
}

#[test]
fn a_contract_is_kept_checked_and_audited_and_a_return_is_audited_without_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = store(dir.path(), "2026-08-10T12:00:00Z");
    let rules = wardside_store::config::load_rules(None).unwrap();
    referred(&mut s, "Person One", "2026-07-06", NORTH);
    // No contract yet: the default, every measure by quarter.
    let c = s.contract("northshire county council").unwrap();
    assert!(c.measures.is_empty() && c.targets.is_empty());
    let mut contract = Contract::default_for(NORTH);
    contract.measures = vec!["referrals_received".into(), "referral_source".into()];
    contract
        .targets
        .insert("referrals_received".into(), Target::AtLeast(1.0));
    s.set_contract(&contract).unwrap();
    // A bad one is refused and the good one stays.
    let mut bad = contract.clone();
    bad.targets.insert(
        "first_contact_within_5_working_days_pct".into(),
        Target::AtLeast(120.0),
    );
    assert!(s.set_contract(&bad).is_err());
    assert_eq!(s.contract(NORTH).unwrap(), contract);
    let r = s
        .commissioner_return(
            " NORTHSHIRE county council",
            d("2026-07-01"),
            d("2026-09-30"),
            &rules,
            0,
        )
        .unwrap();
    assert_eq!(
        r.measures.keys().copied().collect::<Vec<_>>(),
        ["referrals_received"]
    );
    assert_eq!(
        r.tables.keys().copied().collect::<Vec<_>>(),
        ["referral_source"]
    );
    assert_eq!(r.targets["referrals_received"].met, Some(true));
    s.audit_report(&ReportAudit {
        commissioner: r.commissioner.clone(),
        from: r.from,
        to: r.to,
        formats: vec!["json".into()],
        threshold: 7,
    })
    .unwrap();
    let log = s.report_audit().unwrap();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].action, "report-return");
    assert_eq!(log[0].actor, "Ceri Manager");
    let what = log[0].what.as_ref().unwrap();
    assert_eq!((what.commissioner.as_str(), what.threshold), (NORTH, 7));
    assert!(s.remove_contract(NORTH).unwrap());
    assert!(!s.remove_contract(NORTH).unwrap());
    // Unknown commissioner: refused with the names recorded.
    let err = s
        .commissioner_return("Nowhere", d("2026-07-01"), d("2026-09-30"), &rules, 7)
        .unwrap_err();
    assert!(err.to_string().contains(NORTH), "{err}");
}

/// A move corrected later to an earlier day: before that day the case stays with the authority
/// it had, not the one the correction replaced. A response typed in with a concern weeks after
/// it was raised counts on the day it was written down.
#[test]
fn a_corrected_move_and_a_late_response_count_on_their_own_days() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = store(dir.path(), "2026-07-06T12:00:00Z");
    let rules = wardside_store::config::load_rules(None).unwrap();
    let case = referred(&mut s, "Person Moved", "2026-07-06", NORTH);
    s.set_clock(Clock::parse("2026-08-20T12:00:00Z").unwrap());
    s.move_case_commissioner(case, Some(SOUTH), d("2026-08-14"), "Placed by Southshire")
        .unwrap();
    s.set_clock(Clock::parse("2026-08-30T12:00:00Z").unwrap());
    s.move_case_commissioner(case, Some("Eastshire"), d("2026-08-01"), "Correction")
        .unwrap();
    // Raised on 2 July, due 10 July, written down with its response on 30 August.
    s.write(|w| {
        w.add_activity(
            &activity(
                case,
                "2026-07-02",
                ActivityKind::Concern {
                    raised_with: "Ward manager".into(),
                    response_due: Some(d("2026-07-10")),
                    response: Some("Leave restored".into()),
                },
            ),
            "Raised the leave question",
        )
    })
    .unwrap();
    let facts = s.report_facts().unwrap();
    let c = &facts.cases[0];
    assert_eq!(c.commissioner_on(d("2026-07-31")), Some(NORTH));
    assert_eq!(c.commissioner_on(d("2026-08-01")), Some("Eastshire"));
    assert_eq!(c.commissioner_on(d("2026-08-20")), Some("Eastshire"));
    let mut july = |who: &str| {
        s.commissioner_return(who, d("2026-07-01"), d("2026-07-31"), &rules, 0)
            .unwrap()
    };
    let north = july(NORTH);
    assert_eq!(north.measures["cases_opened"], serde_json::json!(1));
    assert_eq!(
        north.measures["concerns_answered_late"],
        serde_json::json!(1)
    );
    let q = s
        .commissioner_return(NORTH, d("2026-07-01"), d("2026-09-30"), &rules, 0)
        .unwrap();
    assert_eq!(
        q.tables["concern_response"]["answered late"],
        wardside_domain::report::suppress::Cell::Count(1),
        "answered on 30 August, due on 10 July"
    );
    // The correction took Southshire out of the case's history: no return is owed to it.
    assert!(
        s.commissioner_return(SOUTH, d("2026-07-01"), d("2026-09-30"), &rules, 0)
            .is_err()
    );
}
