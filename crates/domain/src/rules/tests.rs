//! The rules from the statute's own wording, row by row of the section table
//! (shared/research/domain.md §1.6), with the edge cases that trip people up.
#![allow(clippy::unwrap_used)]

use super::*;
use crate::ClientId;
use crate::legal::{Applicant, LegalEvent, LegalEventKind};
use chrono::Datelike;

pub(super) fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

pub(super) fn rules() -> Rules {
    Rules::shipped().unwrap()
}

pub(super) fn with_2025(keys: &[(&str, &str)]) -> Rules {
    let body: String = keys
        .iter()
        .map(|(k, v)| format!("\"{k}\" = {v}\n"))
        .collect();
    rules()
        .with_organisation_file(&format!("[commencement]\n{body}"))
        .unwrap()
}

fn eligible(
    status: &str,
    j: Jurisdiction,
    age: Option<u32>,
    considering: Option<Treatment>,
) -> Eligibility {
    rules()
        .eligibility(&EligibilityQuery {
            status: status.parse().unwrap(),
            on: d("2026-11-25"),
            age,
            considering,
            jurisdiction: j,
            inpatient: None,
        })
        .unwrap()
}

fn windows(status: &str, start: &str) -> Vec<(WindowApplicant, NaiveDate, NaiveDate)> {
    rules()
        .tribunal_windows(status.parse().unwrap(), d(start), Jurisdiction::England)
        .into_iter()
        .map(|w| (w.applicant, w.opens, w.closes))
        .collect()
}

fn patient(ws: &[(WindowApplicant, NaiveDate, NaiveDate)]) -> Vec<(NaiveDate, NaiveDate)> {
    ws.iter()
        .filter(|w| w.0 == WindowApplicant::Patient)
        .map(|w| (w.1, w.2))
        .collect()
}

use WindowApplicant::{NearestRelative, Patient};
const E: Jurisdiction = Jurisdiction::England;
const W: Jurisdiction = Jurisdiction::Wales;

// ---- eligibility: s. 130C (England), ss. 130E-130J (Wales) ----

#[test]
fn detained_patients_qualify_except_under_the_excluded_short_term_powers() {
    for s in [
        "s2", "s3", "s35", "s36", "s37", "s37-41", "s38", "s45a", "s47", "s47-49", "s48", "s48-49",
    ] {
        let e = eligible(s, E, None, None);
        assert!(e.eligible, "{s}: {e:?}");
        assert_eq!(e.source, "MHA 1983 s. 130C(2)(a)");
    }
    for s in ["s4", "s5-2", "s5-4", "s135", "s136"] {
        let e = eligible(s, E, Some(30), None);
        assert!(!e.eligible, "{s}");
        assert!(
            e.reason.contains("4, 5(2), 5(4), 135 and 136"),
            "{}",
            e.reason
        );
        assert_eq!(e.source, "MHA 1983 s. 130C(2)(a)");
    }
}

#[test]
fn guardianship_cto_and_conditional_discharge_qualify() {
    assert!(eligible("s7", E, None, None).eligible);
    assert!(eligible("s37-guardianship", E, None, None).eligible);
    let cto = eligible("s17a", E, None, None);
    assert!(cto.eligible && cto.source.contains("130C(2)(c)"), "{cto:?}");
    let cd = eligible("conditional-discharge", E, None, None);
    assert!(cd.eligible, "{cd:?}");
}

#[test]
fn informal_patients_qualify_only_for_s57_or_under_18_for_s58a() {
    assert!(!eligible("informal", E, Some(40), None).eligible);
    let s57 = eligible("informal", E, Some(70), Some(Treatment::S57));
    assert!(s57.eligible && s57.source.contains("130C(3)"), "{s57:?}");
    let ect_child = eligible("informal", E, Some(16), Some(Treatment::S58a));
    // s. 130C(3)(b): under 18 and discussing s. 58A treatment; (4) keeps them qualifying.
    assert!(ect_child.eligible && ect_child.source.contains("130C(3)(b)"));
    let ect_adult = eligible("informal", E, Some(18), Some(Treatment::S58a));
    assert!(!ect_adult.eligible, "18 is not under 18");
    // An excluded status still qualifies when s. 57 treatment is considered.
    assert!(eligible("s136", E, Some(30), Some(Treatment::S57)).eligible);
}

#[test]
fn s58a_without_an_age_and_an_impossible_age_are_clear_errors() {
    let q = |age| EligibilityQuery {
        status: StatusCode::Informal,
        on: d("2026-11-25"),
        age,
        considering: Some(Treatment::S58a),
        jurisdiction: E,
        inpatient: None,
    };
    assert_eq!(rules().eligibility(&q(None)), Err(RulesError::AgeNeeded));
    let err = rules().eligibility(&q(Some(200))).unwrap_err();
    assert!(err.to_string().contains("out of range"), "{err}");
}

#[test]
fn wales_covers_informal_in_patients_and_the_short_term_sections() {
    let informal = eligible("informal", W, Some(40), None);
    assert!(
        informal.eligible && informal.source.contains("130J"),
        "{informal:?}"
    );
    assert!(eligible("s5-2", W, None, None).eligible);
    assert!(!eligible("s136", W, None, None).eligible);
}

#[test]
fn english_informal_patients_qualify_only_once_the_2025_act_commences() {
    let q = |on: &str| EligibilityQuery {
        status: StatusCode::Informal,
        on: d(on),
        age: Some(40),
        considering: None,
        jurisdiction: E,
        inpatient: None,
    };
    let r = with_2025(&[("mha2025-imha-informal-patients", "2027-06-01")]);
    assert!(!r.eligibility(&q("2027-05-31")).unwrap().eligible);
    let after = r.eligibility(&q("2027-06-01")).unwrap();
    assert!(after.eligible && after.source.contains("2025"), "{after:?}");
    assert!(
        !rules().eligibility(&q("2030-01-01")).unwrap().eligible,
        "unset means not in force"
    );
}

#[test]
fn before_the_imha_provisions_commenced_nobody_qualified() {
    let e = rules()
        .eligibility(&EligibilityQuery {
            status: StatusCode::S3,
            on: d("2009-03-31"),
            age: None,
            considering: None,
            jurisdiction: E,
            inpatient: None,
        })
        .unwrap();
    assert!(!e.eligible);
    assert!(
        e.reason
            .contains("No IMHA provisions were in force in England on 31 Mar 2009"),
        "{}",
        e.reason
    );
}

// ---- tribunal windows ----

#[test]
fn s2_fourteen_days_counting_the_day_of_admission() {
    // Admitted Tuesday 3 November 2026: day 14 is Monday 16 November.
    assert_eq!(
        windows("s2", "2026-11-03"),
        [(Patient, d("2026-11-03"), d("2026-11-16"))]
    );
}

#[test]
fn s2_last_day_on_a_weekend_or_bank_holiday_runs_to_the_next_business_day() {
    // Admitted Sunday 15 November 2026: day 14 is Saturday 28 November -> Monday 30 November.
    let w = rules().tribunal_windows(StatusCode::S2, d("2026-11-15"), E);
    assert_eq!((w[0].closes, w[0].extended), (d("2026-11-30"), true));
    // Admitted 12 December 2026: day 14 is Friday 25 December (Christmas); Boxing Day is a
    // Saturday, so its substitute is Monday 28 December: the next business day is Tuesday 29th.
    let w = rules().tribunal_windows(StatusCode::S2, d("2026-12-12"), E);
    assert_eq!(w[0].closes, d("2026-12-29"));
    // Easter 2027: admitted 13 March, day 14 is Good Friday 26 March; Easter Monday is the 29th,
    // so the last day is Tuesday 30 March.
    assert_eq!(windows("s2", "2027-03-13")[0].2, d("2027-03-30"));
    // A week later day 14 is an ordinary Friday.
    assert_eq!(windows("s2", "2027-03-20")[0].2, d("2027-04-02"));
}

#[test]
fn s3_once_in_the_first_six_months_the_second_six_months_then_yearly() {
    let w = patient(&windows("s3", "2026-03-03"));
    assert_eq!(
        w,
        [
            (d("2026-03-03"), d("2026-09-02")),
            (d("2026-09-03"), d("2027-03-02")),
            (d("2027-03-03"), d("2028-03-02")),
            (d("2028-03-03"), d("2029-03-02")),
        ]
    );
    assert!(
        windows("s3", "2026-03-03").iter().all(|w| w.0 == Patient),
        "no scheduled NR window for s3"
    );
}

#[test]
fn s3_periods_follow_the_2025_act_once_commenced_by_the_start_date() {
    let r = with_2025(&[("mha2025-section-3-periods", "\"2027-01-01\"")]);
    let w: Vec<_> = r
        .tribunal_windows(StatusCode::S3, d("2027-01-10"), E)
        .into_iter()
        .map(|w| (w.opens, w.closes))
        .collect();
    assert_eq!(
        &w[..4],
        [
            (d("2027-01-10"), d("2027-04-09")),
            (d("2027-04-10"), d("2027-07-09")),
            (d("2027-07-10"), d("2028-01-09")),
            (d("2028-01-10"), d("2029-01-09")),
        ]
    );
    // A section 3 that began before commencement keeps the 1983 periods.
    let before = r.tribunal_windows(StatusCode::S3, d("2026-12-31"), E);
    assert_eq!(before[0].closes, d("2027-06-30"));
}

#[test]
fn guardianship_and_cto_as_for_s3() {
    assert_eq!(
        patient(&windows("s7", "2026-03-03")),
        patient(&windows("s3", "2026-03-03"))
    );
    assert_eq!(
        patient(&windows("s17a", "2026-03-03")),
        patient(&windows("s3", "2026-03-03"))
    );
}

#[test]
fn s37_not_in_the_first_six_months_and_the_nearest_relative_in_the_same_periods() {
    let w = windows("s37", "2026-01-15");
    let p = patient(&w);
    assert_eq!(p[0], (d("2026-07-15"), d("2027-01-14")));
    assert_eq!(p[1], (d("2027-01-15"), d("2028-01-14")));
    let nr: Vec<_> = w
        .iter()
        .filter(|w| w.0 == NearestRelative)
        .map(|w| (w.1, w.2))
        .collect();
    assert_eq!(nr, p);
}

#[test]
fn s37_guardianship_patient_in_six_months_nearest_relative_yearly() {
    let w = windows("s37-guardianship", "2026-01-15");
    assert_eq!(patient(&w)[0], (d("2026-01-15"), d("2026-07-14")));
    let nr: Vec<_> = w
        .iter()
        .filter(|w| w.0 == NearestRelative)
        .map(|w| (w.1, w.2))
        .collect();
    assert_eq!(nr[0], (d("2026-01-15"), d("2027-01-14")));
    assert_eq!(nr[1], (d("2027-01-15"), d("2028-01-14")));
}

#[test]
fn restricted_patients_between_six_and_twelve_months_then_yearly() {
    let w = patient(&windows("s37-41", "2026-01-15"));
    assert_eq!(w[0], (d("2026-07-15"), d("2027-01-14")));
    assert_eq!(w[1], (d("2027-01-15"), d("2028-01-14")));
    // Transfers: within six months of the direction, then as s. 70.
    for s in ["s47", "s47-49", "s48-49"] {
        let w = patient(&windows(s, "2026-01-15"));
        assert_eq!(w[0], (d("2026-01-15"), d("2026-07-14")), "{s}");
        assert_eq!(w[1], (d("2026-07-15"), d("2027-01-14")), "{s}");
    }
}

#[test]
fn conditional_discharge_twelve_months_to_two_years_then_every_two_years() {
    let w = patient(&windows("conditional-discharge", "2026-01-15"));
    assert_eq!(w[0], (d("2027-01-15"), d("2028-01-14")));
    assert_eq!(w[1], (d("2028-01-15"), d("2030-01-14")));
}

#[test]
fn no_application_right_for_remands_interim_orders_holding_powers_or_informal() {
    for s in [
        "s35", "s36", "s38", "s5-2", "s5-4", "s135", "s136", "informal",
    ] {
        assert!(windows(s, "2026-01-15").is_empty(), "{s}");
    }
}

#[test]
fn the_nearest_relative_becomes_the_nominated_person_when_that_commences() {
    let r = with_2025(&[("mha2025-nominated-person", "2027-01-01")]);
    let w = r.tribunal_windows(StatusCode::S37, d("2027-02-01"), E);
    assert!(
        w.iter()
            .any(|w| w.applicant == WindowApplicant::NominatedPerson)
    );
    assert!(
        w.iter()
            .all(|w| w.applicant != WindowApplicant::NearestRelative)
    );
}

#[test]
fn windows_never_overlap_are_in_order_and_are_calendar_dates_for_every_start_day() {
    let r = rules();
    let mut start = d("2020-01-01");
    while start <= d("2034-12-31") {
        for status in StatusCode::ALL {
            let ws = r.tribunal_windows(*status, start, E);
            for role in [Patient, NearestRelative] {
                let mine: Vec<_> = ws.iter().filter(|w| w.applicant == role).collect();
                for w in &mine {
                    assert!(w.opens <= w.closes, "{status} {start}: {w:?}");
                    assert!(w.opens >= start);
                }
                for pair in mine.windows(2) {
                    assert!(
                        pair[0].closes < pair[1].opens,
                        "{status} {start}: overlap {pair:?}"
                    );
                }
            }
            assert!(
                ws.windows(2).all(|p| p[0].opens <= p[1].opens),
                "{status} {start}: order"
            );
        }
        start = start.succ_opt().unwrap();
    }
}

// ---- renewals, references, who informs ----

#[test]
fn s2_lasts_28_days_and_cannot_be_renewed() {
    let r = rules()
        .renewals(StatusCode::S2, d("2026-11-01"), None, E)
        .unwrap();
    assert_eq!(r.expires, Some(d("2026-11-28")));
    assert_eq!(r.periods.len(), 1);
    assert!(r.inform.unwrap().who.contains("hospital managers"));
}

#[test]
fn s3_renewal_dates_six_six_then_twelve_months_with_managers_hearings() {
    let r = rules()
        .renewals(StatusCode::S3, d("2026-08-31"), None, E)
        .unwrap();
    let ends: Vec<_> = r.periods.iter().map(|p| p.to).collect();
    // 31 August + 6 months has no corresponding day: 28 February. The renewal period then
    // begins with 1 March.
    assert_eq!(
        &ends[..3],
        [d("2027-02-28"), d("2027-08-31"), d("2028-08-31")]
    );
    assert!(r.managers_hearing_on_renewal.is_some());
    // s. 68(2): reference at six months unless applied; s. 68(6): once more than three years
    // have passed without the tribunal considering the case, whether or not a renewal falls
    // then (the "on renewal" wording went on 3 November 2008).
    assert_eq!(r.references[0].due, d("2027-03-01"));
    assert_eq!(r.references[1].due, d("2029-08-31"));
}

#[test]
fn under_18s_are_referred_after_one_year_without_a_hearing() {
    let r = rules()
        .renewals(StatusCode::S3, d("2026-01-10"), Some(16), E)
        .unwrap();
    let on_renewal: Vec<_> = r
        .references
        .iter()
        .filter(|x| x.source.contains("68(6)"))
        .collect();
    assert_eq!(on_renewal[0].due, d("2027-01-10"));
}

#[test]
fn remands_renew_by_28_days_to_twelve_weeks_and_interim_orders_to_twelve_months() {
    let r = rules()
        .renewals(StatusCode::S35, d("2026-01-01"), None, E)
        .unwrap();
    let ends: Vec<_> = r.periods.iter().map(|p| p.to).collect();
    assert_eq!(ends, [d("2026-01-28"), d("2026-02-25"), d("2026-03-25")]);
    assert_eq!(r.longest_to, Some(d("2026-03-25")));
    let r = rules()
        .renewals(StatusCode::S38, d("2026-01-01"), None, E)
        .unwrap();
    assert_eq!(r.periods[0].to, d("2026-03-25"));
    assert_eq!(r.longest_to, Some(d("2026-12-31")));
    assert_eq!(r.periods.last().unwrap().to, d("2026-12-31"));
}

#[test]
fn holding_powers_are_in_hours_and_restricted_patients_have_no_end() {
    let r = rules()
        .renewals(StatusCode::S5_4, d("2026-01-01"), None, E)
        .unwrap();
    assert_eq!(r.hours, Some(6));
    let r = rules()
        .renewals(StatusCode::S37_41, d("2026-01-01"), None, E)
        .unwrap();
    assert!(r.periods.is_empty() && r.expires.is_none());
    assert!(r.references[0].by.contains("Secretary of State"));
    assert_eq!(r.references[0].due, d("2029-01-01"));
    let r = rules()
        .renewals(StatusCode::ConditionalDischarge, d("2026-01-01"), None, E)
        .unwrap();
    assert!(r.inform.unwrap().who.contains("responsible clinician"));
}

// ---- reminders from the history ----

pub(super) fn ev(on: &str, kind: LegalEventKind) -> LegalEvent {
    LegalEvent {
        client_id: ClientId::new_random(),
        on: d(on),
        kind,
        note: None,
    }
}

/// The first reminder of a kind; the test fails if there is none.
fn first(reminders: &[Reminder], kind: ReminderKind) -> &Reminder {
    reminders
        .iter()
        .find(|r| r.kind == kind)
        .unwrap_or_else(|| panic!("no {kind:?} reminder in {reminders:#?}"))
}

pub(super) fn started(on: &str, status: StatusCode) -> LegalEvent {
    ev(on, LegalEventKind::StatusStarted { status })
}

#[test]
fn s2_reminder_counts_down_to_the_window_closing() {
    let history = [started("2026-11-10", StatusCode::S2)];
    let r = rules().reminders(&history, d("2026-11-20"), None, E);
    let w = first(&r, ReminderKind::TribunalWindowCloses);
    assert_eq!((w.due, w.days_left), (d("2026-11-23"), 3));
    assert!(w.text.contains("closes in 3 days"), "{}", w.text);
    assert_eq!(w.guidance, GUIDANCE);
    assert!(
        r.iter()
            .any(|r| r.kind == ReminderKind::Expiry && r.due == d("2026-12-07"))
    );
}

#[test]
fn an_application_in_the_window_silences_it_and_a_withdrawn_one_counts_as_never_made() {
    let mut history = vec![
        started("2026-11-10", StatusCode::S2),
        ev(
            "2026-11-12",
            LegalEventKind::TribunalApplication {
                applicant: Applicant::Patient,
            },
        ),
    ];
    let today = d("2026-11-20");
    assert!(
        !rules()
            .reminders(&history, today, None, E)
            .iter()
            .any(|r| r.kind == ReminderKind::TribunalWindowCloses)
    );
    history.push(ev("2026-11-15", LegalEventKind::ApplicationWithdrawn));
    assert!(
        rules()
            .reminders(&history, today, None, E)
            .iter()
            .any(|r| r.kind == ReminderKind::TribunalWindowCloses)
    );
}

#[test]
fn s2_converted_to_s3_counts_the_reference_from_the_s2_admission() {
    let history = [
        started("2026-01-05", StatusCode::S2),
        started("2026-01-20", StatusCode::S3),
    ];
    let r = rules().reminders(&history, d("2026-06-25"), None, E);
    let reference = first(&r, ReminderKind::ReferenceDue);
    // Six months beginning with 5 January end on 4 July: due 5 July.
    assert_eq!(reference.due, d("2026-07-05"));
    // Renewal of the s. 3 counts from the s. 3 itself: 20 January + 6 months.
    let renewal = first(&r, ReminderKind::RenewalDue);
    assert_eq!(renewal.due, d("2026-07-19"));
    assert!(renewal.text.contains("managers must consider"));
    // Once the managers have held their hearing, the reminder says so.
    let mut history = history.to_vec();
    history.push(ev(
        "2026-06-22",
        LegalEventKind::ManagersHearing { outcome: None },
    ));
    let r = rules().reminders(&history, d("2026-06-25"), None, E);
    let renewal = first(&r, ReminderKind::RenewalDue);
    assert!(
        renewal
            .text
            .contains("managers' hearing was held on 22 Jun 2026"),
        "{}",
        renewal.text
    );
}

#[test]
fn s4_converted_to_s2_counts_from_the_s4_admission() {
    let history = [
        started("2026-11-10", StatusCode::S4),
        started("2026-11-11", StatusCode::S2),
    ];
    let r = rules().reminders(&history, d("2026-11-20"), None, E);
    let window = first(&r, ReminderKind::TribunalWindowCloses);
    assert_eq!(
        window.due,
        d("2026-11-23"),
        "14 days beginning with 10 November"
    );
    let expiry = first(&r, ReminderKind::Expiry);
    assert_eq!(
        expiry.due,
        d("2026-12-07"),
        "28 days beginning with 10 November"
    );
    // A s. 2 after a gap (the s. 4 ended) counts from its own start.
    let history = [
        started("2026-11-01", StatusCode::S4),
        ev("2026-11-03", LegalEventKind::Ended),
        started("2026-11-11", StatusCode::S2),
    ];
    let r = rules().reminders(&history, d("2026-11-20"), None, E);
    let window = first(&r, ReminderKind::TribunalWindowCloses);
    assert_eq!(window.due, d("2026-11-24"));
}

#[test]
fn s4_has_the_assessment_window_and_lasts_72_hours() {
    assert_eq!(
        windows("s4", "2026-11-03"),
        [(Patient, d("2026-11-03"), d("2026-11-16"))]
    );
    let r = rules()
        .renewals(StatusCode::S4, d("2026-11-03"), None, E)
        .unwrap();
    assert_eq!(r.hours, Some(72));
    assert!(r.periods.is_empty());
}

#[test]
fn a_hearing_restarts_the_three_year_clock_for_restricted_patients() {
    let history = [
        started("2020-01-10", StatusCode::S37_41),
        ev(
            "2021-03-01",
            LegalEventKind::TribunalHearing { outcome: None },
        ),
    ];
    let r = rules().reminders(&history, d("2024-02-01"), None, E);
    let reference = first(&r, ReminderKind::ReferenceDue);
    assert_eq!(reference.due, d("2024-03-01"));
}

#[test]
fn long_running_statuses_keep_their_reminders_years_later() {
    // A section 3 from 2020, viewed in 2026: periods are followed past the three-year listing.
    let history = [started("2020-03-03", StatusCode::S3)];
    let r = rules().reminders(&history, d("2026-02-20"), None, E);
    let renewal = first(&r, ReminderKind::RenewalDue);
    assert_eq!(renewal.due, d("2026-03-02"));
    assert!(
        r.iter()
            .any(|r| r.kind == ReminderKind::TribunalWindowCloses && r.due == d("2026-03-02"))
    );
}

#[test]
fn a_status_that_must_have_ended_asks_for_the_history_to_be_updated() {
    let r = rules().reminders(
        &[started("2026-10-01", StatusCode::S2)],
        d("2026-11-25"),
        None,
        E,
    );
    let lapsed = first(&r, ReminderKind::StatusLapsed);
    assert_eq!(lapsed.due, d("2026-10-28"));
    assert!(
        lapsed
            .text
            .contains("record the patient's current legal status")
    );
    let r = rules().reminders(
        &[started("2026-11-20", StatusCode::S136)],
        d("2026-11-25"),
        None,
        E,
    );
    assert!(r.iter().any(|r| r.kind == ReminderKind::StatusLapsed));
    let r = rules().reminders(
        &[started("2026-11-24", StatusCode::S5_2)],
        d("2026-11-25"),
        None,
        E,
    );
    assert!(r.is_empty(), "a holding power from yesterday may still run");
}

#[test]
fn a_barring_report_gives_the_nearest_relative_28_days() {
    let history = [
        started("2026-06-01", StatusCode::S3),
        ev("2026-11-10", LegalEventKind::BarringReport),
    ];
    let r = rules().reminders(&history, d("2026-11-20"), None, E);
    let nr = r
        .iter()
        .find(|r| r.text.starts_with("The nearest relative"))
        .unwrap();
    assert_eq!(
        nr.due,
        d("2026-12-07"),
        "28 days beginning with 10 November"
    );
    assert!(nr.source.contains("66(1)(g)"));
    assert!(
        !rules()
            .reminders(&history, d("2026-12-08"), None, E)
            .iter()
            .any(|r| r.text.starts_with("The nearest relative"))
    );
    // Not for a section 2: the Act gives that nearest relative no tribunal application.
    let s2 = [
        started("2026-11-05", StatusCode::S2),
        ev("2026-11-10", LegalEventKind::BarringReport),
    ];
    assert!(
        !rules()
            .reminders(&s2, d("2026-11-20"), None, E)
            .iter()
            .any(|r| r.text.starts_with("The nearest relative"))
    );
}

#[test]
fn a_recall_means_the_secretary_of_state_must_refer_within_a_month() {
    let history = [
        started("2024-01-10", StatusCode::ConditionalDischarge),
        ev("2026-11-15", LegalEventKind::Recalled),
        started("2026-11-15", StatusCode::S37_41),
    ];
    let r = rules().reminders(&history, d("2026-11-20"), None, E);
    let reference = r
        .iter()
        .find(|r| r.text.contains("after the recall"))
        .unwrap();
    assert_eq!(reference.due, d("2026-12-14"));
    assert_eq!(reference.kind, ReminderKind::ReferenceDue);
    // s. 70 runs again from the recall: no application in the first six months.
    assert!(
        !r.iter()
            .any(|r| r.kind == ReminderKind::TribunalWindowCloses)
    );
}

#[test]
fn an_ended_status_has_no_reminders() {
    let history = [
        started("2026-11-10", StatusCode::S2),
        ev("2026-11-15", LegalEventKind::Ended),
    ];
    assert!(
        rules()
            .reminders(&history, d("2026-11-20"), None, E)
            .is_empty()
    );
}

// ---- the data files ----

#[test]
fn the_shipped_rules_and_bank_holidays_load_and_cover_2020_to_2035() {
    let r = rules();
    for year in 2020..=2035 {
        let n = r
            .calendar
            .bank_holidays
            .iter()
            .filter(|d| d.year() == year)
            .count();
        assert!((8..=10).contains(&n), "{year}: {n}");
    }
    assert!(r.calendar.is_bank_holiday(d("2022-09-19")), "State Funeral");
    assert!(r.calendar.is_bank_holiday(d("2023-05-08")), "Coronation");
    assert!(
        r.provisions().iter().all(|p| p.commences.is_none()),
        "nothing of the 2025 Act in force by default"
    );
}

#[test]
fn an_organisation_file_with_a_typo_or_a_bad_date_is_refused_with_the_reason() {
    let err = rules()
        .with_organisation_file("[commencement]\n\"mha2025-section3-periods\" = 2027-01-01\n")
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("unknown provision 'mha2025-section3-periods'"),
        "{err}"
    );
    let err = rules()
        .with_organisation_file("[commencement]\n\"mha2025-section-3-periods\" = \"1 April\"\n")
        .unwrap_err();
    assert!(err.to_string().contains("YYYY-MM-DD"), "{err}");
    let err = rules()
        .with_organisation_file("[commencement\n")
        .unwrap_err();
    assert!(err.to_string().starts_with("commencement file:"), "{err}");
    let extra = rules()
        .with_organisation_file("[[bank_holiday]]\non = 2030-06-03\nname = \"Extra\"\n")
        .unwrap();
    assert!(extra.calendar.is_bank_holiday(d("2030-06-03")));
}

#[test]
fn cto_guardianship_and_the_other_court_sections_renew_as_the_act_says() {
    // CTO: s. 17C / s. 20A, 6, 6 then 12 months; the managers must consider each extension.
    let cto = rules()
        .renewals(StatusCode::S17A, d("2026-02-01"), None, E)
        .unwrap();
    let ends: Vec<_> = cto.periods.iter().map(|p| p.to).collect();
    assert_eq!(
        &ends[..3],
        [d("2026-07-31"), d("2027-01-31"), d("2028-01-31")]
    );
    assert!(cto.managers_hearing_on_renewal.is_some());
    assert!(cto.inform.unwrap().who.contains("responsible hospital"));
    // s. 68(5)(c): the six-month reference counts from the original admission, which the
    // CTO's start does not give: it is left out with the reason...
    assert!(
        !cto.references.iter().any(|r| r.source.contains("68(2)")),
        "{:?}",
        cto.references
    );
    assert!(cto.references_note.unwrap().contains("s. 68(5)(c)"));
    // ...and counted from the admission once given.
    let cto = rules()
        .renewals_admitted(
            StatusCode::S17A,
            d("2026-02-01"),
            Some(d("2025-12-10")),
            None,
            E,
        )
        .unwrap();
    assert_eq!(
        cto.references[0].due,
        d("2026-06-10"),
        "s. 68(2): six months from admission"
    );
    // Guardianship: the local authority, not the managers.
    let s7 = rules()
        .renewals(StatusCode::S7, d("2026-02-01"), None, E)
        .unwrap();
    assert_eq!(s7.periods[0].to, d("2026-07-31"));
    assert!(s7.managers_hearing_on_renewal.is_none());
    assert!(s7.references.is_empty());
    assert!(
        s7.inform
            .unwrap()
            .who
            .contains("local social services authority")
    );
    // s. 36 as s. 35: 28 days at a time, 12 weeks in all.
    let s36 = rules()
        .renewals(StatusCode::S36, d("2026-02-01"), None, E)
        .unwrap();
    assert_eq!(s36.longest_to, Some(d("2026-04-25")));
    assert_eq!(s36.periods.len(), 3);
    // s. 48/49 lasts until the court decides: no fixed end.
    let s48 = rules()
        .renewals(StatusCode::S48_49, d("2026-02-01"), None, E)
        .unwrap();
    assert!(s48.periods.is_empty() && s48.hours.is_none());
    assert!(s48.note.contains("no fixed end"));
    // s. 135 / s. 136: 24 hours.
    let s136 = rules()
        .renewals(StatusCode::S136, d("2026-02-01"), None, E)
        .unwrap();
    assert_eq!(s136.hours, Some(24));
}

#[test]
fn counts_in_the_rules_words_are_singular_for_one() {
    assert_eq!(count(1, "year", "years"), "1 year");
    assert_eq!(count(3, "year", "years"), "3 years");
    assert_eq!(count(1_i64, "day", "days"), "1 day");
    assert_eq!(describe_lengths(&[1]), "1 month at a time");
    assert_eq!(
        describe_lengths(&[6, 12]),
        "6 months, then 12 months at a time"
    );
}
