//! Issue 15: the corrections an independent review of the rules found, each test written from
//! the statute's own words with its citation (shared text in docs/RULES.md).
#![allow(clippy::unwrap_used)]

use super::period::months_beginning_with;
use super::*;
use crate::legal::{Applicant, LegalEvent, LegalEventKind};

use super::tests::{d, ev, rules, started, with_2025 as commenced};

const E: Jurisdiction = Jurisdiction::England;
const W: Jurisdiction = Jurisdiction::Wales;

fn patient_windows(r: &Rules, status: StatusCode, start: &str) -> Vec<(NaiveDate, NaiveDate)> {
    r.tribunal_windows(status, d(start), E)
        .into_iter()
        .filter(|w| w.applicant == WindowApplicant::Patient)
        .map(|w| (w.opens, w.closes))
        .collect()
}

// ---- 1. Restricted patients: s. 70 counts every period from the order ----

/// s. 70(a): "in the period between the expiration of six months and the expiration of 12
/// months beginning with the date of the relevant hospital order"; (b) "in any subsequent
/// period of 12 months". An order made on 31 August: six months end on 28 February (no 31st),
/// twelve months on 30 August, not on 31 August as a chained count from 1 March would say.
#[test]
fn s70_an_order_at_a_month_end_closes_the_first_window_twelve_months_from_the_order() {
    let w = patient_windows(&rules(), StatusCode::S37_41, "2026-08-31");
    assert_eq!(w[0], (d("2027-03-01"), d("2027-08-30")));
    assert_eq!(w[1], (d("2027-08-31"), d("2028-08-30")));
    // 30 August: the six months still end on 28 February; the twelve on 29 August.
    let w = patient_windows(&rules(), StatusCode::S37_41, "2026-08-30");
    assert_eq!(w[0], (d("2027-03-01"), d("2027-08-29")));
    assert_eq!(w[1], (d("2027-08-30"), d("2028-08-29")));
    // A transfer direction with restrictions: s. 69(2)(b) for the first six months, then s. 70
    // measured from the direction.
    let w = patient_windows(&rules(), StatusCode::S47_49, "2026-08-31");
    assert_eq!(w[0], (d("2026-08-31"), d("2027-02-28")));
    assert_eq!(w[1], (d("2027-03-01"), d("2027-08-30")));
}

/// s. 75(2): "between the expiration of 12 months and the expiration of two years beginning
/// with the date on which he was conditionally discharged; and (b) in any subsequent period of
/// two years". A discharge on 29 February 2028: the windows end on 28 February 2030 and 2032
/// (the day before the corresponding date, 29 February 2032 existing).
#[test]
fn s75_conditional_discharge_windows_are_measured_from_the_discharge() {
    let w = patient_windows(&rules(), StatusCode::ConditionalDischarge, "2028-02-29");
    assert_eq!(w[0], (d("2029-03-01"), d("2030-02-28")));
    assert_eq!(w[1], (d("2030-03-01"), d("2032-02-28")));
}

/// The property the review asked for: for every status and every start day 2020-2034, each
/// applicant's windows follow one another without a gap or overlap, and every window of a
/// restricted patient (s. 70) or a conditionally discharged one (s. 75(2)) ends on a date
/// measured from the start, never chained from a clamped month end.
#[test]
fn chained_windows_follow_on_and_s70_periods_are_measured_from_the_order_for_every_start_day() {
    let r = rules();
    let mut start = d("2020-01-01");
    while start <= d("2034-12-31") {
        for &status in StatusCode::ALL {
            let ws = r.tribunal_windows(status, start, E);
            for applicant in [WindowApplicant::Patient, WindowApplicant::NearestRelative] {
                let mine: Vec<_> = ws.iter().filter(|w| w.applicant == applicant).collect();
                for pair in mine.windows(2) {
                    assert_eq!(
                        pair[0].closes.succ_opt(),
                        Some(pair[1].opens),
                        "{status} {start} {applicant:?}: {pair:?}"
                    );
                }
            }
            let patient: Vec<_> = ws
                .iter()
                .filter(|w| w.applicant == WindowApplicant::Patient)
                .collect();
            let (first, every) = match status {
                StatusCode::S37_41 | StatusCode::S45A => (12, 12),
                StatusCode::S47_49 | StatusCode::S48_49 => (6, 6),
                StatusCode::ConditionalDischarge => (24, 24),
                _ => continue,
            };
            for (k, w) in patient.iter().enumerate() {
                let months = match (status, k) {
                    (StatusCode::S47_49 | StatusCode::S48_49, 0) => 6,
                    (StatusCode::S47_49 | StatusCode::S48_49, k) => 12 * k as u32,
                    (_, k) => first + every * k as u32,
                };
                assert_eq!(
                    w.closes,
                    months_beginning_with(start, months),
                    "{status} {start}: window {k} must end {months} months from the order"
                );
            }
            if matches!(status, StatusCode::S37_41 | StatusCode::S45A) {
                assert_eq!(
                    Some(patient[0].opens),
                    months_beginning_with(start, 6).succ_opt(),
                    "{status} {start}: s. 70(a) opens when six months have expired"
                );
            }
        }
        start = start.succ_opt().unwrap();
    }
}

// ---- 2. s. 45A: no first-six-months right since 3 November 2008 ----

/// MHA 2007 Sch. 3 para 20(b) removed s. 45B(2) from s. 69(2)(b) from 3 November 2008; Sch. 10
/// para 9(2) keeps the right for a hospital direction dated before then.
#[test]
fn s45a_has_only_s70_windows_unless_the_direction_is_dated_before_3_november_2008() {
    let w = patient_windows(&rules(), StatusCode::S45A, "2026-01-15");
    assert_eq!(w[0], (d("2026-07-15"), d("2027-01-14")), "s. 70(a) only");
    let w = patient_windows(&rules(), StatusCode::S45A, "2008-11-03");
    assert_eq!(w[0].0, d("2009-05-03"), "the repeal's first day");
    let w = patient_windows(&rules(), StatusCode::S45A, "2008-06-01");
    assert_eq!(
        w[0],
        (d("2008-06-01"), d("2008-11-30")),
        "Sch. 10 para 9(2)"
    );
    assert_eq!(w[1], (d("2008-12-01"), d("2009-05-31")), "then s. 70(a)");
    let src = &rules().tribunal_windows(StatusCode::S45A, d("2026-01-15"), E)[0].source;
    assert!(
        src.contains("s. 70(a)") && src.contains("Sch. 3 para 20(b)"),
        "{src}"
    );
}

// ---- 3. Managers' references: s. 68(5) and s. 68(6) ----

/// s. 68(5)(c): for a community patient "the applicable day" is that of the original
/// admission for treatment, or the s. 2 admission it followed, not the day the CTO was made.
#[test]
fn a_community_patients_six_month_reference_counts_from_the_original_admission() {
    let h = [
        started("2026-01-05", StatusCode::S2),
        started("2026-01-20", StatusCode::S3),
        started("2026-04-01", StatusCode::S17A),
    ];
    let reminders = rules().reminders(&h, d("2026-06-20"), None, E);
    let r = reminders
        .iter()
        .find(|r| r.kind == ReminderKind::ReferenceDue && r.source.contains("68(2)"))
        .expect("the six-month reference is due");
    assert_eq!(
        r.due,
        d("2026-07-05"),
        "six months beginning with 5 January"
    );
    // An application during the s. 2 (s. 66(1)(a)) does not stop it (s. 68(3)(a))...
    let mut applied = h.to_vec();
    applied.push(ev(
        "2026-01-10",
        LegalEventKind::TribunalApplication {
            applicant: Applicant::Patient,
        },
    ));
    let still = rules().reminders(&applied, d("2026-06-20"), None, E);
    assert!(still.iter().any(|r| r.source.contains("68(2)")));
    // ...one made on the CTO (s. 66(1)(ca)) does.
    applied.push(ev(
        "2026-05-01",
        LegalEventKind::TribunalApplication {
            applicant: Applicant::Patient,
        },
    ));
    let stopped = rules().reminders(&applied, d("2026-06-20"), None, E);
    assert!(!stopped.iter().any(|r| r.source.contains("68(2)")));
}

/// s. 68(6): the managers refer "if a period of more than three years (or, if the patient has
/// not attained the age of 18 years, one year) has elapsed since his case was last considered
/// by such a tribunal" - at any time, not only on renewal (the wording before 3 November 2008).
/// A hearing part-way through a renewal period restarts the three years from its day.
#[test]
fn s68_6_falls_due_three_years_after_the_last_hearing_whatever_the_renewal_dates() {
    let h = [
        started("2026-01-10", StatusCode::S3),
        ev(
            "2027-05-20",
            LegalEventKind::TribunalHearing { outcome: None },
        ),
    ];
    let reminders = rules().reminders(&h, d("2030-04-25"), Some(40), E);
    let r = reminders
        .iter()
        .find(|r| r.kind == ReminderKind::ReferenceDue && r.source.contains("68(6)"))
        .expect("the three-year reference");
    assert_eq!(r.due, d("2030-05-20"), "not the renewal on 10 January 2031");
    assert!(r.text.contains("20 May 2027"), "{}", r.text);
    // Under 18: one year.
    let young = rules().reminders(&h, d("2028-05-01"), Some(16), E);
    let r = young.iter().find(|r| r.source.contains("68(6)")).unwrap();
    assert_eq!(r.due, d("2028-05-20"));
    // A patient detained since before 3 November 2008 is under the new s. 68 too (MHA 2007
    // Sch. 10 para 9(1)), and has had s. 66(1)(b), (f) windows since 1983.
    let h = [
        started("2005-03-10", StatusCode::S3),
        ev(
            "2024-02-01",
            LegalEventKind::TribunalHearing { outcome: None },
        ),
    ];
    let r = rules().reminders(&h, d("2027-01-20"), Some(40), E);
    let three = r.iter().find(|r| r.source.contains("68(6)")).unwrap();
    assert_eq!(three.due, d("2027-02-01"));
    let p = rules().tribunal_position(&h, d("2027-01-20"), E);
    assert_eq!(p.standing, TribunalStanding::CanApplyNow, "{p:?}");
}

/// `wardside rules renewals --admitted` gives the applicable day; the library call is the same.
#[test]
fn renewals_for_a_cto_count_the_reference_from_the_admission_given() {
    let r = rules()
        .renewals_admitted(
            StatusCode::S17A,
            d("2026-05-01"),
            Some(d("2026-01-05")),
            None,
            E,
        )
        .unwrap();
    let six = r
        .references
        .iter()
        .find(|r| r.source.contains("68(2)"))
        .unwrap();
    assert_eq!(six.due, d("2026-07-05"));
    assert!(r.references_note.is_none());
}

// ---- 4. Citations ----

/// s. 130D(2): (a) the managers, (b) the responsible clinician for a conditionally discharged
/// patient, (c) the local social services authority for guardianship, (d) the managers of the
/// responsible hospital for a CTO, (e) the doctor or approved clinician for s. 57 / s. 58A.
#[test]
fn who_must_inform_cites_the_right_paragraph_of_s130d_2() {
    let inform = |s: StatusCode, j| {
        rules()
            .renewals(s, d("2026-03-01"), None, j)
            .unwrap()
            .inform
            .unwrap()
    };
    assert!(inform(StatusCode::S3, E).source.contains("(2)(a)"));
    let cd = inform(StatusCode::ConditionalDischarge, E);
    assert!(
        cd.source.contains("(2)(b)") && cd.who.contains("responsible clinician"),
        "{cd:?}"
    );
    let g = inform(StatusCode::S7, E);
    assert!(
        g.source.contains("(2)(c)") && g.who.contains("local social services"),
        "{g:?}"
    );
    let cto = inform(StatusCode::S17A, E);
    assert!(
        cto.source.contains("(2)(d)") && cto.who.contains("responsible hospital"),
        "{cto:?}"
    );
    assert!(inform(StatusCode::Informal, E).source.contains("(2)(e)"));
    // Wales: s. 130K, the same lettering.
    assert!(
        inform(StatusCode::ConditionalDischarge, W)
            .source
            .contains("130K(1), (2)(b)")
    );
    assert!(inform(StatusCode::Informal, W).source.contains("130L"));
}

/// Eligibility sources: the conditional-discharge answer cites s. 130D(2)(b); the under-18
/// s. 58A route is s. 130C(3)(b); Wales cites ss. 130I and 130J, never s. 130C.
#[test]
fn eligibility_cites_the_provisions_that_make_the_patient_qualify() {
    let q = |status: StatusCode, j, considering, age| {
        rules()
            .eligibility(&EligibilityQuery {
                status,
                on: d("2026-11-25"),
                age,
                considering,
                jurisdiction: j,
                inpatient: None,
            })
            .unwrap()
    };
    let cd = q(StatusCode::ConditionalDischarge, E, None, None);
    assert!(cd.eligible && cd.source.contains("130D(2)(b)"), "{cd:?}");
    let ect = q(StatusCode::Informal, E, Some(Treatment::S58a), Some(15));
    assert!(ect.source.contains("130C(3)(b)"), "{ect:?}");
    for status in [
        StatusCode::ConditionalDischarge,
        StatusCode::S7,
        StatusCode::S17A,
        StatusCode::S3,
        StatusCode::S4,
    ] {
        let e = q(status, W, None, None);
        assert!(e.eligible, "{status}");
        assert!(
            e.source.contains("130I") && !e.source.contains("130C"),
            "{status}: {e:?}"
        );
    }
    let s57 = q(StatusCode::S136, W, Some(Treatment::S57), None);
    assert!(s57.eligible && s57.source.contains("130I(3)(a)"), "{s57:?}");
}

// ---- 5. Wales: s. 130J requires an in-patient ----

#[test]
fn an_informal_out_patient_in_wales_is_not_eligible_and_unknown_says_so() {
    let q = |inpatient| {
        rules()
            .eligibility(&EligibilityQuery {
                status: StatusCode::Informal,
                on: d("2026-11-25"),
                age: Some(40),
                considering: None,
                jurisdiction: W,
                inpatient,
            })
            .unwrap()
    };
    let out = q(Some(false));
    assert!(!out.eligible, "{out:?}");
    assert!(out.source.contains("130J(2)") && out.reason.contains("in-patient"));
    let inp = q(Some(true));
    assert!(inp.eligible && inp.source.contains("130J(2)"));
    let unknown = q(None);
    assert!(
        unknown.eligible && unknown.reason.contains("not an in-patient"),
        "{unknown:?}"
    );
}

// ---- Missing today: the displaced nearest relative and CTO revocation ----

/// s. 66(1)(h), (2)(g): after a s. 29 order on ground (c) or (d), the displaced nearest
/// relative may apply "12 months beginning with the date of the order, and in any subsequent
/// period of 12 months during which the order continues in force".
#[test]
fn a_displaced_nearest_relative_can_apply_in_each_12_months_from_the_order() {
    let h = [
        started("2026-01-05", StatusCode::S3),
        ev("2027-01-10", LegalEventKind::NearestRelativeDisplaced),
    ];
    let near_end = rules().reminders(&h, d("2027-12-20"), None, E);
    let r = near_end
        .iter()
        .find(|r| r.source.contains("66(1)(h)"))
        .expect("the displaced relative's window");
    assert_eq!(r.due, d("2028-01-09"));
    assert!(
        r.text
            .starts_with("The displaced nearest relative can apply"),
        "{}",
        r.text
    );
    let next = rules().reminders(&h, d("2028-12-20"), None, E);
    let r = next.iter().find(|r| r.source.contains("66(1)(h)")).unwrap();
    assert_eq!(r.due, d("2029-01-09"), "the next 12 months, from the order");
    // Once the detention ends, so does the order (s. 30(4)): no window.
    let mut ended = h.to_vec();
    ended.push(ev("2027-06-01", LegalEventKind::Ended));
    assert!(
        rules()
            .reminders(&ended, d("2027-12-20"), None, E)
            .is_empty()
    );
}

/// s. 17F/17G: revoking a CTO returns the patient to the detention it was made under, for a
/// new period beginning that day; s. 66(1)(cb), (2)(cb): the patient may apply within six
/// months beginning with it; s. 68(7): the managers refer "as soon as possible after".
#[test]
fn a_revoked_cto_detains_again_with_its_own_window_and_an_immediate_reference() {
    let mut h = vec![
        started("2026-01-05", StatusCode::S3),
        started("2026-04-01", StatusCode::S17A),
        ev(
            "2026-10-01",
            LegalEventKind::CtoRevoked {
                status: StatusCode::S3,
            },
        ),
    ];
    assert_eq!(
        crate::legal::status_on(&h, d("2026-10-02")),
        Some((StatusCode::S3, d("2026-10-01")))
    );
    let r = rules().reminders(&h, d("2026-10-02"), None, E);
    let asap = r
        .iter()
        .find(|r| r.source.contains("68(7)"))
        .expect("the s. 68(7) reference");
    assert_eq!(
        asap.due,
        d("2026-10-02"),
        "due now, not overdue since the revocation"
    );
    assert!(asap.text.contains("as soon as possible"), "{}", asap.text);
    let window = r
        .iter()
        .find(|r| r.source.contains("66(1)(cb)"))
        .expect("the (cb) window");
    assert_eq!(window.due, d("2027-03-31"));
    assert_eq!(
        r.iter()
            .filter(|r| r.kind == ReminderKind::TribunalWindowCloses)
            .count(),
        1,
        "the s. 3 window ending the same day is not repeated: {r:?}"
    );
    // The six-month reference counted from the January admission is long past.
    assert!(!r.iter().any(|r| r.source.contains("68(2)")));
    // The renewal periods restart from the revocation.
    let p = rules().tribunal_position(&h, d("2026-10-02"), E);
    assert_eq!(p.closes, Some(d("2027-03-31")));
    // Once the managers have referred, the reminder goes.
    h.push(ev("2026-10-05", LegalEventKind::Reference));
    let r = rules().reminders(&h, d("2026-10-06"), None, E);
    assert!(!r.iter().any(|r| r.source.contains("68(7)")));
}

#[test]
fn a_cto_is_revoked_only_to_the_section_it_was_made_under() {
    use crate::Validate;
    let bad = ev(
        "2026-10-01",
        LegalEventKind::CtoRevoked {
            status: StatusCode::S2,
        },
    );
    let err = bad.validate().unwrap_err().to_string();
    assert!(err.contains("section 3, 37, 47 or 48"), "{err}");
    assert!(
        ev(
            "2026-10-01",
            LegalEventKind::CtoRevoked {
                status: StatusCode::S37
            }
        )
        .validate()
        .is_ok()
    );
}

// ---- The 2025 Act: in force only by its date ----

/// MHA 2025 s. 30(2), s. 32 (in force 18 February 2026 by s. 56(1)): a conditionally
/// discharged patient subject to conditions amounting to a deprivation of liberty may apply
/// between 6 and 12 months from the day those conditions were last imposed, then every two
/// years (new s. 75(2A)); the Secretary of State refers at 12 months, then every two years,
/// unless the tribunal considered the case in the period (s. 75(2C), (2D)).
#[test]
fn conditions_amounting_to_a_deprivation_of_liberty_have_their_own_windows_and_references() {
    let w = patient_windows(&rules(), StatusCode::ConditionalDischargeDol, "2026-03-01");
    assert_eq!(w[0], (d("2026-09-01"), d("2027-02-28")));
    assert_eq!(w[1], (d("2027-03-01"), d("2029-02-28")));
    let r = rules()
        .renewals(
            StatusCode::ConditionalDischargeDol,
            d("2026-03-01"),
            None,
            E,
        )
        .unwrap();
    let refs: Vec<_> = r
        .references
        .iter()
        .filter(|r| r.source.contains("75(2C)"))
        .map(|r| r.due)
        .collect();
    assert_eq!(&refs[..2], [d("2027-03-01"), d("2029-03-01")]);
    // MHA 2025 s. 32(5): the new rules apply to restricted patients "whenever they became
    // such", so a start recorded before 18 February 2026 is not left without them.
    assert_eq!(
        patient_windows(&rules(), StatusCode::ConditionalDischargeDol, "2026-01-10")[0].0,
        d("2026-07-10")
    );
    // A hearing in the first 12 months means no reference for that period.
    let h = [
        started("2026-03-01", StatusCode::ConditionalDischargeDol),
        ev(
            "2026-11-10",
            LegalEventKind::TribunalHearing { outcome: None },
        ),
    ];
    let reminders = rules().reminders(&h, d("2027-02-10"), None, E);
    assert!(
        !reminders.iter().any(|r| r.source.contains("75(2C)")),
        "{reminders:?}"
    );
}

/// The other 2025 Act changes stay out of force until an organisation's file gives their date:
/// s. 30(1)(a) (21 days for s. 2), s. 31 (new s. 68 periods, replacing the three-year rule and
/// s. 68(7)), s. 33 (s. 71(2) after 12 months).
#[test]
fn the_2025_acts_tribunal_and_reference_changes_apply_only_from_their_commencement() {
    let shipped = rules();
    assert_eq!(
        shipped.tribunal_windows(StatusCode::S2, d("2027-06-07"), E)[0].closes,
        d("2027-06-21"),
        "14 days"
    );
    let r = commenced(&[
        ("mha2025-tribunal-periods", "2027-06-01"),
        ("mha2025-managers-references", "2027-06-01"),
        ("mha2025-restricted-references", "2027-06-01"),
    ]);
    let s2 = r.tribunal_windows(StatusCode::S2, d("2027-06-07"), E);
    assert_eq!(s2.len(), 1);
    assert_eq!(
        s2[0].closes,
        d("2027-06-28"),
        "21 days beginning with admission"
    );
    assert!(s2[0].source.contains("2025 s. 30(1)(a)"));
    // Admitted before commencement: the 14 days still apply.
    assert_eq!(
        r.tribunal_windows(StatusCode::S2, d("2027-05-20"), E)[0].closes,
        d("2027-06-02")
    );
    // s. 3 references: at 3 months, then 12, then yearly; the 12-month backstop replaces the
    // three-year one.
    let s3 = r
        .renewals(StatusCode::S3, d("2027-07-01"), None, E)
        .unwrap();
    let dues: Vec<_> = s3
        .references
        .iter()
        .filter(|x| x.source.contains("(4A)(b)"))
        .map(|x| x.due)
        .collect();
    assert_eq!(
        &dues[..3],
        [d("2027-10-01"), d("2028-07-01"), d("2029-07-01")]
    );
    assert!(
        s3.references
            .iter()
            .any(|x| x.source.contains("2025 s. 31") && x.condition.contains("1 year"))
    );
    assert!(
        !s3.references
            .iter()
            .any(|x| x.source.contains("three years"))
    );
    // CTO: counted from the day the CTO was made (new s. 68(5)(c)).
    let cto = r
        .renewals(StatusCode::S17A, d("2027-07-01"), None, E)
        .unwrap();
    assert!(
        cto.references
            .iter()
            .any(|x| x.due == d("2028-01-01") && x.source.contains("(4A)(c)"))
    );
    // s. 71(2): 12 months for a detained restricted patient.
    let restricted = r
        .renewals(StatusCode::S37_41, d("2027-07-01"), None, E)
        .unwrap();
    assert_eq!(restricted.references.len(), 1);
    assert_eq!(restricted.references[0].due, d("2028-07-01"));
    // s. 68(7) goes with the new s. 68: no "as soon as possible" reference after commencement.
    let h = [
        started("2027-01-05", StatusCode::S3),
        started("2027-04-01", StatusCode::S17A),
        ev(
            "2027-08-01",
            LegalEventKind::CtoRevoked {
                status: StatusCode::S3,
            },
        ),
    ];
    assert!(
        !r.reminders(&h, d("2027-08-02"), None, E)
            .iter()
            .any(|x| x.source.contains("68(7)"))
    );
    assert!(
        shipped
            .reminders(&h, d("2027-08-02"), None, E)
            .iter()
            .any(|x| x.source.contains("68(7)"))
    );
}

// ---- Modaresi beyond s. 2 ----

/// R (Modaresi) v SSH [2011] EWCA Civ 1359 moved the s. 66(2)(a) deadline to the next working
/// day; whether that extends to other windows is unsettled. A s. 3 window whose last day is a
/// Saturday is not extended, and the reminder says so and gives the last working day.
#[test]
fn a_window_ending_on_a_closed_day_is_never_silently_extended_outside_section_2() {
    // Admitted under s. 3 on 6 June 2026: six months end on Saturday 5 December 2026.
    let h = [started("2026-06-06", StatusCode::S3)];
    let w = &rules().tribunal_windows(StatusCode::S3, d("2026-06-06"), E)[0];
    assert_eq!((w.closes, w.extended), (d("2026-12-05"), false));
    let r = rules().reminders(&h, d("2026-11-20"), None, E);
    let closes = r
        .iter()
        .find(|r| r.kind == ReminderKind::TribunalWindowCloses)
        .unwrap();
    assert_eq!(closes.due, d("2026-12-05"));
    assert!(
        closes.text.contains("5 Dec 2026, is a weekend day"),
        "{}",
        closes.text
    );
    assert!(
        closes.text.contains("apply by 4 Dec 2026"),
        "{}",
        closes.text
    );
    assert!(closes.text.contains("unsettled"), "{}", closes.text);
    // On an open day nothing is added.
    let plain = rules().reminders(
        &[started("2026-06-08", StatusCode::S3)],
        d("2026-11-20"),
        None,
        E,
    );
    assert!(!plain.iter().any(|r| r.text.contains("unsettled")));
}

// ---- Found by a second, hostile review ----

fn applied_on(on: &str, applicant: Applicant) -> LegalEvent {
    ev(on, LegalEventKind::TribunalApplication { applicant })
}

fn has(reminders: &[Reminder], source: &str) -> Option<Reminder> {
    reminders
        .iter()
        .find(|r| r.source.contains(source))
        .cloned()
}

/// s. 68(3): only an application under s. 66(1)(b), (ca), (cb), (e), (g) or (h), a s. 67
/// reference not made during the assessment, or a s. 68(7) reference stops the six-month
/// reference. A s. 2 application, its hearing and a reference made during the s. 2 do not.
#[test]
fn a_section_2_application_hearing_or_reference_does_not_stop_the_six_month_reference() {
    let base = vec![
        started("2026-01-05", StatusCode::S2),
        applied_on("2026-01-08", Applicant::Patient),
        ev(
            "2026-01-20",
            LegalEventKind::TribunalHearing { outcome: None },
        ),
        started("2026-01-30", StatusCode::S3),
    ];
    let r = rules().reminders(&base, d("2026-06-20"), None, E);
    assert_eq!(has(&r, "68(2)").expect("still due").due, d("2026-07-05"));
    let mut referred = base.clone();
    referred.push(ev("2026-01-12", LegalEventKind::Reference));
    let r = rules().reminders(&referred, d("2026-06-20"), None, E);
    assert!(
        has(&r, "68(2)").is_some(),
        "a reference during the s. 2 does not count"
    );
    // The nearest relative's application under s. 66(1)(g) does.
    let mut nr = base.clone();
    nr.push(applied_on("2026-03-01", Applicant::NearestRelative));
    assert!(has(&rules().reminders(&nr, d("2026-06-20"), None, E), "68(2)").is_none());
}

/// s. 68(5)(a): a s. 4 emergency application is an application for admission for assessment,
/// so a s. 4 that became s. 2 then s. 3 counts from the s. 4 admission.
#[test]
fn a_section_4_admission_is_the_applicable_day() {
    let h = [
        started("2026-01-03", StatusCode::S4),
        started("2026-01-05", StatusCode::S2),
        started("2026-01-30", StatusCode::S3),
    ];
    let r = rules().reminders(&h, d("2026-06-20"), None, E);
    assert_eq!(has(&r, "68(2)").unwrap().due, d("2026-07-03"));
}

/// Sch. 1 Pt. 1 para 10: s. 68(2)-(5) apply to a hospital order patient only within
/// s. 68(1)(e), so a CTO made under a s. 37 has no six-month reference at all.
#[test]
fn a_cto_made_under_a_hospital_order_has_no_six_month_reference() {
    let h = [
        started("2026-01-05", StatusCode::S37),
        started("2026-04-01", StatusCode::S17A),
    ];
    let r = rules().reminders(&h, d("2026-09-20"), None, E);
    assert!(has(&r, "68(2)").is_none(), "{r:?}");
}

/// s. 68(4): an application withdrawn after the six months ended is treated as never made,
/// and the managers refer "as soon as possible after that date".
#[test]
fn an_application_withdrawn_after_the_six_months_means_a_reference_as_soon_as_possible() {
    let mut h = vec![
        started("2026-01-05", StatusCode::S3),
        applied_on("2026-03-01", Applicant::Patient),
        ev("2026-08-01", LegalEventKind::ApplicationWithdrawn),
    ];
    let r = rules().reminders(&h, d("2026-08-03"), None, E);
    let due = has(&r, "68(2)").expect("s. 68(4)");
    assert_eq!(due.due, d("2026-08-03"), "as soon as possible: due now");
    assert!(due.text.contains("68(4)"), "{}", due.text);
    h.push(ev("2026-08-04", LegalEventKind::Reference));
    assert!(has(&rules().reminders(&h, d("2026-08-05"), None, E), "68(2)").is_none());
}

/// A recorded reference (or a standing application) since the tribunal last considered the
/// case means it will be considered: the s. 68(6) reminder is not left overdue.
#[test]
fn a_reference_made_clears_the_three_year_reminder() {
    let mut h = vec![started("2020-01-05", StatusCode::S3)];
    assert!(
        has(
            &rules().reminders(&h, d("2023-01-10"), Some(40), E),
            "68(6)"
        )
        .is_some()
    );
    h.push(ev("2023-01-10", LegalEventKind::Reference));
    assert!(
        has(
            &rules().reminders(&h, d("2026-12-02"), Some(40), E),
            "68(6)"
        )
        .is_none()
    );
}

/// A s. 29 order, a revoked CTO's window and the s. 68(7) duty belong to the detention they
/// were made in (s. 30(4)(a)): after `ended` and a new status, none of them comes back.
#[test]
fn events_of_an_ended_detention_do_not_carry_into_the_next() {
    let h = [
        started("2025-06-01", StatusCode::S3),
        started("2025-10-01", StatusCode::S17A),
        ev(
            "2026-02-02",
            LegalEventKind::CtoRevoked {
                status: StatusCode::S3,
            },
        ),
        ev("2026-02-10", LegalEventKind::NearestRelativeDisplaced),
        ev("2026-02-12", LegalEventKind::BarringReport),
        ev("2026-03-02", LegalEventKind::Ended),
        started("2026-04-01", StatusCode::S3),
    ];
    let r = rules().reminders(&h, d("2026-04-10"), None, E);
    for old in ["68(7)", "66(1)(cb)", "66(1)(h)", "66(1)(g)"] {
        assert!(has(&r, old).is_none(), "{old}: {r:?}");
    }
    let p = rules().tribunal_position(&h, d("2026-04-10"), E);
    assert_eq!(p.closes, Some(d("2026-09-30")), "the new s. 3's own window");
}

/// s. 75(1)(b): on recall, s. 70 applies as if the direction were made on the day of return;
/// s. 69(2)(b)'s first six months come from the direction, not the recall.
#[test]
fn a_recalled_transfer_patient_has_only_the_s70_windows() {
    let h = [
        started("2024-01-10", StatusCode::S47_49),
        started("2025-03-01", StatusCode::ConditionalDischarge),
        ev("2026-10-01", LegalEventKind::Recalled),
        started("2026-10-01", StatusCode::S47_49),
    ];
    let p = rules().tribunal_position(&h, d("2026-10-02"), E);
    assert_eq!(p.standing, TribunalStanding::NextWindow, "{p:?}");
    assert_eq!(p.opens, Some(d("2027-04-01")));
    assert!(
        p.source.unwrap().contains("s. 75(1)(b)"),
        "cited, not s. 69(2)(b)"
    );
}

/// s. 69(4): after a hospital order patient's CTO is revoked, the (cb) right is exercisable only
/// once six months from the hospital order have passed.
#[test]
fn a_hospital_order_patients_revocation_window_waits_for_six_months_from_the_order() {
    let h = [
        started("2026-01-05", StatusCode::S37),
        started("2026-03-01", StatusCode::S17A),
        ev(
            "2026-05-01",
            LegalEventKind::CtoRevoked {
                status: StatusCode::S37,
            },
        ),
    ];
    let p = rules().tribunal_position(&h, d("2026-05-02"), E);
    assert_ne!(p.standing, TribunalStanding::CanApplyNow, "{p:?}");
    let p = rules().tribunal_position(&h, d("2026-07-06"), E);
    assert_eq!(p.standing, TribunalStanding::CanApplyNow, "{p:?}");
    assert_eq!(p.closes, Some(d("2026-10-31")));
}

/// s. 29(4): a s. 2 continues while an application to displace the nearest relative is
/// pending, and for seven days after the order: no "must have ended" until then.
#[test]
fn a_section_2_extended_by_a_displacement_application_is_not_reported_as_lapsed() {
    let h = [
        started("2026-01-05", StatusCode::S2),
        ev("2026-02-20", LegalEventKind::NearestRelativeDisplaced),
    ];
    let r = rules().reminders(&h, d("2026-02-22"), None, E);
    assert!(
        !r.iter().any(|r| r.kind == ReminderKind::StatusLapsed),
        "{r:?}"
    );
    let later = rules().reminders(&h, d("2026-03-01"), None, E);
    let lapsed = later
        .iter()
        .find(|r| r.kind == ReminderKind::StatusLapsed)
        .unwrap();
    assert_eq!(lapsed.due, d("2026-02-27"));
    // Without an order, the lapse says a pending application would extend it.
    let plain = rules().reminders(
        &[started("2026-01-05", StatusCode::S2)],
        d("2026-02-10"),
        None,
        E,
    );
    let lapsed = plain
        .iter()
        .find(|r| r.kind == ReminderKind::StatusLapsed)
        .unwrap();
    assert!(lapsed.text.contains("s. 29(4)"), "{}", lapsed.text);
}

/// s. 75(2D): the Secretary of State is excused only if the tribunal considered the case in
/// the period; an application not yet heard does not excuse the reference.
#[test]
fn a_pending_application_does_not_excuse_the_secretary_of_states_dol_reference() {
    let h = [
        started("2026-03-01", StatusCode::ConditionalDischargeDol),
        applied_on("2026-10-01", Applicant::Patient),
    ];
    let r = rules().reminders(&h, d("2027-02-10"), None, E);
    assert_eq!(has(&r, "75(2C)").expect("still due").due, d("2027-03-01"));
}

/// Commencing the 2025 Act's s. 31 replaces the old s. 68(2), (6) and (7) altogether.
#[test]
fn the_new_managers_references_replace_the_old_six_month_reference() {
    let r = commenced(&[("mha2025-managers-references", "2027-01-01")]);
    let s3 = r
        .renewals(StatusCode::S3, d("2027-03-10"), None, E)
        .unwrap();
    assert!(
        !s3.references
            .iter()
            .any(|x| x.source.starts_with("MHA 1983 s. 68(2)-(5)")),
        "{:?}",
        s3.references
    );
    let cto = r
        .renewals(StatusCode::S17A, d("2027-03-10"), None, E)
        .unwrap();
    assert!(cto.references_note.is_none());
}

/// s. 48(3): an unrestricted s. 48 has the effect of a hospital order, so it is renewed under
/// s. 20 (Sch. 1 Pt. 1) with the managers considering each renewal, like s. 47.
#[test]
fn an_unrestricted_transfer_is_renewed_like_a_hospital_order() {
    for s in [StatusCode::S47, StatusCode::S48] {
        let r = rules().renewals(s, d("2026-01-10"), None, E).unwrap();
        assert_eq!(r.expires, Some(d("2026-07-09")), "{s}");
        assert!(r.managers_hearing_on_renewal.is_some(), "{s}");
    }
}

/// A window's note says why its last day moved (s. 2: Modaresi) or why it did not.
#[test]
fn every_window_explains_a_closed_last_day() {
    let w = &rules().tribunal_windows(StatusCode::S2, d("2026-12-12"), E)[0];
    let note = w.note.as_deref().unwrap();
    assert!(
        note.contains("25 Dec 2025") || note.contains("25 Dec 2026"),
        "{note}"
    );
    assert!(
        note.contains("Modaresi") && note.contains("29 Dec 2026"),
        "{note}"
    );
    let s3 = &rules().tribunal_windows(StatusCode::S3, d("2026-06-06"), E)[0];
    assert!(s3.note.as_deref().unwrap().contains("unsettled"));
    let open = &rules().tribunal_windows(StatusCode::S3, d("2026-06-08"), E)[0];
    assert!(open.note.is_none());
}

/// Wales: ss. 130A-130D applied from 3 November 2008 until ss. 130E-130L on 3 January 2012; an
/// informal patient who does not qualify is told so in Welsh terms (s. 130I(3), s. 130J).
#[test]
fn welsh_answers_before_and_after_the_measure_cite_the_provisions_then_in_force() {
    let q = |status: StatusCode, on: &str| {
        rules()
            .eligibility(&EligibilityQuery {
                status,
                on: d(on),
                age: Some(40),
                considering: None,
                jurisdiction: W,
                inpatient: Some(false),
            })
            .unwrap()
    };
    let before = q(StatusCode::S3, "2011-12-01");
    assert!(
        before.eligible && before.source.contains("130C(2)(a), in Wales"),
        "{before:?}"
    );
    assert!(
        !q(StatusCode::S4, "2011-12-01").eligible,
        "s. 4 excluded before the Measure"
    );
    assert!(
        q(StatusCode::S4, "2012-01-03").eligible,
        "and qualifying after it"
    );
    let out = q(StatusCode::Informal, "2012-03-01");
    assert!(!out.eligible && out.source.contains("130I(3)"), "{out:?}");
}

// ---- Found by a second hostile review ----

/// s. 75(2C)(b): "each subsequent period of two years", without end: the reference years
/// after the conditions began is still reminded.
#[test]
fn the_secretary_of_states_dol_references_go_on_every_two_years() {
    let h = [started("2026-03-01", StatusCode::ConditionalDischargeDol)];
    let r = rules().reminders(&h, d("2033-02-20"), None, E);
    assert_eq!(
        has(&r, "75(2C)").expect("the 2033 reference").due,
        d("2033-03-01")
    );
}

/// A transitional provision reaches statuses begun before it, but nothing can have fallen due
/// before it was in force: s. 75(2C)-(2E) from 18 February 2026 (MHA 2025 s. 56(1), s. 32(5));
/// the new s. 68 from 3 November 2008 (MHA 2007 Sch. 10 para 9(1)).
#[test]
fn nothing_falls_due_before_the_provision_that_makes_it_due() {
    let r = rules()
        .renewals(
            StatusCode::ConditionalDischargeDol,
            d("2019-06-10"),
            None,
            E,
        )
        .unwrap();
    assert!(
        r.references.iter().all(|x| x.due >= d("2026-02-18")),
        "{:?}",
        r.references
    );
    let w = patient_windows(&rules(), StatusCode::ConditionalDischargeDol, "2019-06-10");
    assert!(
        w.iter().all(|(_, closes)| *closes >= d("2026-02-18")),
        "{w:?}"
    );
    let old = rules()
        .renewals(StatusCode::S3, d("2005-01-01"), None, E)
        .unwrap();
    assert!(
        old.references.iter().all(|x| x.due >= d("2008-11-03")),
        "{:?}",
        old.references
    );
}

/// s. 68(6) counts from the current detention: a hearing in an earlier, ended one does not make
/// the new one's reference overdue on its first day.
#[test]
fn the_three_year_reference_counts_within_the_current_detention() {
    let h = [
        started("2019-01-01", StatusCode::S3),
        ev(
            "2019-03-01",
            LegalEventKind::TribunalHearing { outcome: None },
        ),
        ev("2019-06-01", LegalEventKind::Ended),
        started("2026-01-01", StatusCode::S3),
    ];
    let r = rules().reminders(&h, d("2026-01-10"), Some(40), E);
    assert!(has(&r, "68(6)").is_none(), "{r:?}");
    let later = rules().reminders(&h, d("2028-12-20"), Some(40), E);
    assert_eq!(has(&later, "68(6)").unwrap().due, d("2029-01-01"));
    // A CTO made under a hospital order, never heard: three years from the order.
    let part3 = [
        started("2020-01-01", StatusCode::S37),
        started("2021-01-01", StatusCode::S17A),
    ];
    let r = rules().reminders(&part3, d("2022-12-20"), Some(40), E);
    assert_eq!(has(&r, "68(6)").unwrap().due, d("2023-01-01"));
}

/// s. 68(1)(a), (2), (5)(a): a s. 2 extended under s. 29(4) past six months is referred too.
#[test]
fn a_section_2_extended_past_six_months_is_referred() {
    let h = [
        started("2026-01-01", StatusCode::S2),
        ev("2026-07-10", LegalEventKind::NearestRelativeDisplaced),
    ];
    let r = rules().reminders(&h, d("2026-07-02"), None, E);
    assert_eq!(has(&r, "68(2)").expect("s. 68(2)").due, d("2026-07-01"));
    // An ordinary s. 2 lists no such reference.
    let plain = rules()
        .renewals(StatusCode::S2, d("2026-01-01"), None, E)
        .unwrap();
    assert!(plain.references.is_empty(), "{:?}", plain.references);
}

/// s. 69(4), (5): a CTO made under a hospital order gives its (ca) window only once six months
/// from the order have passed.
#[test]
fn a_cto_under_a_hospital_order_waits_for_six_months_from_the_order() {
    let h = [
        started("2026-01-01", StatusCode::S37),
        started("2026-03-01", StatusCode::S17A),
    ];
    let p = rules().tribunal_position(&h, d("2026-06-10"), E);
    assert_eq!(p.standing, TribunalStanding::NextWindow, "{p:?}");
    assert_eq!(p.opens, Some(d("2026-07-01")));
    assert!(p.source.unwrap().contains("s. 69(4)"));
}

/// A six-month reference that was due and not recorded stays, as overdue, for four weeks.
#[test]
fn a_missed_six_month_reference_is_shown_as_overdue() {
    let h = [
        started("2026-01-05", StatusCode::S2),
        started("2026-01-30", StatusCode::S3),
    ];
    let r = rules().reminders(&h, d("2026-07-06"), None, E);
    let due = has(&r, "68(2)").expect("still shown");
    assert!(due.text.contains("was due on 5 Jul 2026"), "{}", due.text);
    assert!(has(&rules().reminders(&h, d("2026-08-10"), None, E), "68(2)").is_none());
}

/// Wales between 3 January and 1 April 2012: s. 130J was not yet in force, so the answer does
/// not rest on it.
#[test]
fn a_welsh_informal_patient_before_section_130j_is_told_without_it() {
    let e = rules()
        .eligibility(&EligibilityQuery {
            status: StatusCode::Informal,
            on: d("2012-02-01"),
            age: Some(40),
            considering: None,
            jurisdiction: W,
            inpatient: None,
        })
        .unwrap();
    assert!(!e.eligible);
    assert!(!e.source.contains("130J"), "{e:?}");
}
