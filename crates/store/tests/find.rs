//! Finding people on a real SQLCipher file: the people search, the duplicate check before a new
//! person is saved, the caseload's name box and "my cases", and the under-18 marker.
#![allow(clippy::unwrap_used)]

use std::path::Path;
use wardside_domain::client::{DuplicateReason, MatchedOn};
use wardside_domain::rules::Rules;
use wardside_domain::*;
use wardside_store::clock::Clock;
use wardside_store::*;

const FAST: KdfParams = KdfParams {
    m_kib: 256,
    t: 1,
    p: 1,
};

fn d(s: &str) -> chrono::NaiveDate {
    s.parse().unwrap()
}

/// A store whose advocate is "Ceri Advocate", with today fixed at 25 November 2026.
fn new_store(dir: &Path) -> Store {
    let path = dir.join("wardside.db");
    let mut store = Store::create_with(
        &path,
        &Passphrase::new("plum kettle harbour"),
        "Ceri Advocate",
        FAST,
        Tuning::default(),
    )
    .unwrap();
    store.set_clock(Clock::parse("2026-11-25T10:00:00Z").unwrap());
    store
}

/// A person on section 2 since 20 November with an open case, assigned to `advocate`.
fn person(store: &mut Store, client: Client, advocate: Option<AdvocateId>) -> (ClientId, CaseId) {
    store
        .write(|w| {
            let id = w.add_client(&client)?;
            w.add_legal_event(&LegalEvent {
                client_id: id,
                on: d("2026-11-20"),
                kind: LegalEventKind::StatusStarted {
                    status: StatusCode::S2,
                },
                note: None,
            })?;
            let mut case = Case::opened(id, d("2026-11-21"));
            case.advocate_id = advocate;
            Ok((id, w.open_case(&case)?))
        })
        .unwrap()
}

fn with_numbers(name: &str, nhs: Option<&str>, hospital_number: Option<&str>) -> Client {
    let mut c = Client::named(name);
    c.nhs_number = nhs.map(|n| n.parse().unwrap());
    c.hospital_number = hospital_number.map(str::to_owned);
    c
}

fn names(rows: &[CaseloadRow]) -> Vec<&str> {
    rows.iter().map(|r| r.name.as_str()).collect()
}

#[test]
fn people_are_found_by_part_of_a_name_ignoring_case_and_accents_or_by_their_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = new_store(dir.path());
    let (lucja, case) = person(
        &mut store,
        with_numbers("Łucja Wiśniewska", Some("9434765919"), Some("RX1 234567")),
        None,
    );
    person(&mut store, with_numbers("Lucas Brown", None, None), None);
    person(
        &mut store,
        with_numbers("Zofia Nowak", Some("4010232137"), None),
        None,
    );

    let hits = store.search_people("lucja", 20).unwrap();
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].client_id, lucja);
    assert_eq!(hits[0].case_id, Some(case));
    assert!(hits[0].case_open);
    assert_eq!(hits[0].matched_on, MatchedOn::Name);

    let by_part: Vec<String> = store
        .search_people("LUC", 20)
        .unwrap()
        .into_iter()
        .map(|h| h.name)
        .collect();
    assert_eq!(
        by_part,
        ["Lucas Brown", "Łucja Wiśniewska"],
        "in name order"
    );

    for typed in ["943 476 5919", "9434765919"] {
        let hits = store.search_people(typed, 20).unwrap();
        assert_eq!(hits.len(), 1, "{typed}");
        assert_eq!(hits[0].matched_on, MatchedOn::NhsNumber);
    }
    let hits = store.search_people("rx1234567", 20).unwrap();
    assert_eq!(
        (hits.len(), hits[0].matched_on),
        (1, MatchedOn::HospitalNumber)
    );
    assert!(store.search_people("nobody here", 20).unwrap().is_empty());
    assert!(
        store.search_people("   ", 20).is_err(),
        "nothing to look for"
    );
}

#[test]
fn a_new_person_with_a_known_nhs_number_or_name_and_birthday_is_a_likely_duplicate() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = new_store(dir.path());
    let mut known = with_numbers("Siân Ap Dafydd", Some("9434765919"), None);
    known.dob = Some(d("1990-04-01"));
    let (known_id, _) = person(&mut store, known, None);

    let same_number = with_numbers("S. Dafydd", Some("943 476 5919"), None);
    let dups = store.likely_duplicates(&same_number).unwrap();
    assert_eq!(dups.len(), 1);
    assert_eq!(dups[0].person.client_id, known_id);
    assert_eq!(dups[0].reason, DuplicateReason::SameNhsNumber);

    let mut same_name = Client::named("sian ap dafydd");
    same_name.dob = Some(d("1990-04-01"));
    let dups = store.likely_duplicates(&same_name).unwrap();
    assert_eq!(dups[0].reason, DuplicateReason::SameNameAndDateOfBirth);

    let mut namesake = Client::named("Siân Ap Dafydd");
    namesake.dob = Some(d("1972-09-12"));
    assert!(store.likely_duplicates(&namesake).unwrap().is_empty());
    assert!(
        store
            .likely_duplicates(&Client::named("Siân Ap Dafydd"))
            .unwrap()
            .is_empty(),
        "a name alone is not enough"
    );
}

#[test]
fn the_caseload_name_box_and_my_cases_narrow_the_list_and_the_reminders() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = new_store(dir.path());
    let (me, other) = store
        .write(|w| {
            Ok((
                w.add_advocate(&Advocate {
                    name: "ceri advocate".into(),
                    team_id: None,
                    qualification: None,
                    dbs_checked_on: None,
                })?,
                w.add_advocate(&Advocate {
                    name: "Dana Other".into(),
                    team_id: None,
                    qualification: None,
                    dbs_checked_on: None,
                })?,
            ))
        })
        .unwrap();
    person(&mut store, Client::named("Ama Owusu"), Some(me));
    person(&mut store, Client::named("Bea Ortiz"), Some(other));
    person(&mut store, Client::named("Cai Jones"), None);

    let mine = CaseloadFilter {
        mine: true,
        ..CaseloadFilter::default()
    };
    assert_eq!(
        names(&store.caseload(&mine, 0, 50).unwrap()),
        ["Ama Owusu", "Cai Jones"],
        "assigned to this store's advocate, or to nobody and opened here"
    );
    let named = CaseloadFilter {
        name: Some("OWUS".into()),
        ..CaseloadFilter::default()
    };
    assert_eq!(
        names(&store.caseload(&named, 0, 50).unwrap()),
        ["Ama Owusu"]
    );
    let nobody = CaseloadFilter {
        name: Some("bea".into()),
        mine: true,
        ..CaseloadFilter::default()
    };
    assert!(store.caseload(&nobody, 0, 50).unwrap().is_empty());
    let blank = CaseloadFilter {
        name: Some("  ".into()),
        ..CaseloadFilter::default()
    };
    assert_eq!(store.caseload(&blank, 0, 50).unwrap().len(), 3);

    let rules = Rules::shipped().unwrap();
    let today = store.clock().today();
    let due = |store: &Store, f: &CaseloadFilter| -> Vec<String> {
        let list = store
            .due_reminders(f, &rules, today, rules.jurisdiction(), 60, 100)
            .unwrap();
        let mut who: Vec<String> = list
            .upcoming
            .iter()
            .chain(&list.past_due)
            .map(|r| r.name.clone())
            .collect();
        who.sort();
        who.dedup();
        who
    };
    assert_eq!(
        due(&store, &CaseloadFilter::default()),
        ["Ama Owusu", "Bea Ortiz", "Cai Jones"],
        "every section 2 has reminders"
    );
    assert_eq!(due(&store, &mine), ["Ama Owusu", "Cai Jones"]);
    assert_eq!(due(&store, &named), ["Ama Owusu"]);
}

#[test]
fn a_person_under_18_is_marked_on_the_caseload_and_the_case() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = new_store(dir.path());
    let mut young = Client::named("Aled Hughes");
    young.dob = Some(d("2008-11-26")); // 18 tomorrow
    let (_, young_case) = person(&mut store, young, None);
    let mut adult = Client::named("Bryn Hughes");
    adult.dob = Some(d("2008-11-25")); // 18 today
    let (_, adult_case) = person(&mut store, adult, None);

    let rows = store.caseload(&CaseloadFilter::default(), 0, 10).unwrap();
    let marked: Vec<(&str, bool)> = rows.iter().map(|r| (r.name.as_str(), r.under_18)).collect();
    assert_eq!(marked, [("Aled Hughes", true), ("Bryn Hughes", false)]);
    assert!(store.case_view(young_case).unwrap().under_18);
    assert!(!store.case_view(adult_case).unwrap().under_18);
    assert!(store.search_people("aled", 5).unwrap()[0].under_18);

    store.set_clock(Clock::parse("2026-11-26T10:00:00Z").unwrap());
    assert!(!store.case_view(young_case).unwrap().under_18, "18 today");
}
