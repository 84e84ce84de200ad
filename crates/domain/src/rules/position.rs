//! Where a patient stands with the tribunal today, in one line: the window open now and when it
//! closes, the application already made in it, or when the next one opens. Computed from the
//! legal-status history with the same windows as the reminders, so the line and the reminders
//! never disagree.

use super::reminders::standing_application;
use super::{Jurisdiction, Rules, show_date};
use crate::legal::{LegalEvent, status_on};
use chrono::NaiveDate;
use serde::Serialize;

/// Windows are looked for this far past today.
const LOOK_AHEAD_MONTHS: u32 = 24;

/// What the line says, for screens that colour or sort by it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum TribunalStanding {
    /// A window is open and the patient has no application standing in it.
    CanApplyNow,
    /// The patient applied in the window open now (and has not withdrawn).
    Applied,
    /// No window is open today; one opens later.
    NextWindow,
    /// The status gave a window, but it has closed and no other follows.
    Closed,
    /// The status gives the patient no right to apply.
    NoRight,
    /// No legal status is recorded (or the last one ended).
    NoStatus,
}

/// The patient's tribunal position on a day, as one line of text plus its parts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TribunalPosition {
    pub standing: TribunalStanding,
    pub text: String,
    /// The window open now (or the one that closed, or the next one), when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub opens: Option<NaiveDate>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub closes: Option<NaiveDate>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

impl Rules {
    /// The patient's tribunal position on `today`, from their legal-status history (any order).
    pub fn tribunal_position(
        &self,
        history: &[LegalEvent],
        today: NaiveDate,
        j: Jurisdiction,
    ) -> TribunalPosition {
        let line = |standing, text: String| TribunalPosition {
            standing,
            text,
            opens: None,
            closes: None,
            source: None,
        };
        let Some((status, since)) = status_on(history, today) else {
            return line(
                TribunalStanding::NoStatus,
                "No legal status recorded, so no tribunal position".into(),
            );
        };
        let mut events: Vec<&LegalEvent> = history.iter().filter(|e| e.on <= today).collect();
        events.sort_by_key(|e| e.on);
        let horizon = super::period::months_beginning_with(today, LOOK_AHEAD_MONTHS);
        // The status's own windows, and any an event opened for the patient (six months
        // after a CTO is revoked, s. 66(1)(cb)).
        let (own, by_event) = self.patient_windows(&events, status, since, today, j, horizon);
        let mut windows: Vec<_> = own
            .into_iter()
            .chain(by_event.into_iter().map(|e| e.window))
            .collect();
        windows.sort_by_key(|w| (w.opens, std::cmp::Reverse(w.closes)));
        let with = |standing, text: String, w: &super::TribunalWindow| TribunalPosition {
            standing,
            text,
            opens: Some(w.opens),
            closes: Some(w.closes),
            source: Some(w.source.clone()),
        };
        let next = windows.iter().find(|w| w.opens > today);
        if let Some(w) = windows
            .iter()
            .find(|w| w.opens <= today && today <= w.closes)
        {
            return match standing_application(&events, w.opens, w.closes) {
                None => with(
                    TribunalStanding::CanApplyNow,
                    format!(
                        "Can apply to the tribunal now, until {}",
                        show_date(w.closes)
                    ),
                    w,
                ),
                Some(applied) => {
                    let then = match next {
                        Some(n) => format!("; next window opens {}", show_date(n.opens)),
                        None => String::new(),
                    };
                    with(
                        TribunalStanding::Applied,
                        format!("Applied to the tribunal on {}{then}", show_date(applied)),
                        w,
                    )
                }
            };
        }
        if let Some(w) = next {
            return with(
                TribunalStanding::NextWindow,
                format!("Next window opens {}", show_date(w.opens)),
                w,
            );
        }
        match windows.last() {
            Some(w) => with(
                TribunalStanding::Closed,
                format!(
                    "The tribunal window closed on {}; no other opens under this section",
                    show_date(w.closes)
                ),
                w,
            ),
            None => line(
                TribunalStanding::NoRight,
                format!("No right to apply to the tribunal under {}", status.label()),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::legal::{Applicant, LegalEventKind};
    use crate::rules::WindowApplicant;
    use crate::{ClientId, StatusCode};

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn event(on: &str, kind: LegalEventKind) -> LegalEvent {
        LegalEvent {
            client_id: ClientId(uuid::Uuid::nil()),
            on: d(on),
            kind,
            note: None,
        }
    }

    fn started(on: &str, status: StatusCode) -> LegalEvent {
        event(on, LegalEventKind::StatusStarted { status })
    }

    fn applied(on: &str) -> LegalEvent {
        event(
            on,
            LegalEventKind::TribunalApplication {
                applicant: Applicant::Patient,
            },
        )
    }

    fn position(history: &[LegalEvent], today: &str) -> TribunalPosition {
        Rules::shipped()
            .unwrap()
            .tribunal_position(history, d(today), Jurisdiction::England)
    }

    #[test]
    fn section_2_can_apply_within_14_days_beginning_with_admission() {
        // Admitted Wednesday 4 November 2026: day 14 is Tuesday 17 November (s. 66(2)(a)).
        let h = [started("2026-11-04", StatusCode::S2)];
        for today in ["2026-11-04", "2026-11-10", "2026-11-17"] {
            let p = position(&h, today);
            assert_eq!(p.standing, TribunalStanding::CanApplyNow, "{today}");
            assert_eq!(p.text, "Can apply to the tribunal now, until 17 Nov 2026");
            assert_eq!(p.closes, Some(d("2026-11-17")));
        }
        let after = position(&h, "2026-11-18");
        assert_eq!(after.standing, TribunalStanding::Closed);
        assert_eq!(
            after.text,
            "The tribunal window closed on 17 Nov 2026; no other opens under this section"
        );
    }

    #[test]
    fn section_2_window_ending_on_a_weekend_runs_to_the_next_business_day() {
        // Admitted Sunday 1 November 2026: day 14 is Saturday 14 November; the office opens Monday.
        let p = position(&[started("2026-11-01", StatusCode::S2)], "2026-11-15");
        assert_eq!(p.text, "Can apply to the tribunal now, until 16 Nov 2026");
    }

    #[test]
    fn section_2_after_section_4_counts_from_the_section_4_admission() {
        let h = [
            started("2026-11-04", StatusCode::S4),
            started("2026-11-05", StatusCode::S2),
        ];
        assert_eq!(
            position(&h, "2026-11-06").text,
            "Can apply to the tribunal now, until 17 Nov 2026"
        );
    }

    #[test]
    fn an_application_in_the_window_says_so_and_a_withdrawn_one_counts_as_never_made() {
        let mut h = vec![started("2026-11-04", StatusCode::S2), applied("2026-11-06")];
        let p = position(&h, "2026-11-08");
        assert_eq!(p.standing, TribunalStanding::Applied);
        assert_eq!(p.text, "Applied to the tribunal on 6 Nov 2026");
        h.push(event("2026-11-09", LegalEventKind::ApplicationWithdrawn));
        assert_eq!(
            position(&h, "2026-11-10").standing,
            TribunalStanding::CanApplyNow
        );
    }

    #[test]
    fn section_3_once_in_the_first_six_months_then_once_in_each_renewal_period() {
        // Detained 28 October 2026: the first period ends 27 April 2027, the next begins 28 April.
        let mut h = vec![started("2026-10-28", StatusCode::S3)];
        assert_eq!(
            position(&h, "2027-01-10").text,
            "Can apply to the tribunal now, until 27 Apr 2027"
        );
        h.push(applied("2026-12-01"));
        assert_eq!(
            position(&h, "2027-01-10").text,
            "Applied to the tribunal on 1 Dec 2026; next window opens 28 Apr 2027"
        );
        // The second period (six months, to 27 October 2027) gives a new window.
        assert_eq!(
            position(&h, "2027-05-02").text,
            "Can apply to the tribunal now, until 27 Oct 2027"
        );
    }

    #[test]
    fn a_hospital_order_has_no_window_in_its_first_six_months() {
        // s. 37 made 10 January 2027: the first application is in the second six months.
        let h = [started("2027-01-10", StatusCode::S37)];
        let p = position(&h, "2027-02-01");
        assert_eq!(p.standing, TribunalStanding::NextWindow);
        assert_eq!(p.text, "Next window opens 10 Jul 2027");
        assert_eq!(
            position(&h, "2027-07-10").text,
            "Can apply to the tribunal now, until 9 Jan 2028"
        );
    }

    #[test]
    fn holding_powers_give_no_right_and_no_status_says_so() {
        let p = position(&[started("2026-11-30", StatusCode::S136)], "2026-11-30");
        assert_eq!(p.standing, TribunalStanding::NoRight);
        assert!(
            p.text
                .starts_with("No right to apply to the tribunal under Section 136")
        );
        assert_eq!(
            position(&[], "2026-11-30").standing,
            TribunalStanding::NoStatus
        );
        let ended = [
            started("2026-10-01", StatusCode::S2),
            event("2026-10-20", LegalEventKind::Ended),
        ];
        assert_eq!(
            position(&ended, "2026-11-30").standing,
            TribunalStanding::NoStatus
        );
    }

    /// Whenever the rules engine has a patient's window open, the line says the patient can
    /// apply: never "none" while a window is open.
    #[test]
    fn the_line_agrees_with_the_windows_every_day_for_every_status() {
        let rules = Rules::shipped().unwrap();
        let start = d("2026-03-03");
        for &status in StatusCode::ALL {
            let windows: Vec<_> = rules
                .tribunal_windows(status, start, Jurisdiction::England)
                .into_iter()
                .filter(|w| w.applicant == WindowApplicant::Patient)
                .collect();
            let h = [started("2026-03-03", status)];
            let mut today = start;
            while today < d("2028-03-03") {
                let p = rules.tribunal_position(&h, today, Jurisdiction::England);
                let open = windows
                    .iter()
                    .find(|w| w.opens <= today && today <= w.closes);
                match open {
                    Some(w) => {
                        assert_eq!(
                            p.standing,
                            TribunalStanding::CanApplyNow,
                            "{status} {today}"
                        );
                        assert_eq!(p.closes, Some(w.closes), "{status} {today}");
                    }
                    None => assert_ne!(
                        p.standing,
                        TribunalStanding::CanApplyNow,
                        "{status} {today}"
                    ),
                }
                today = today.succ_opt().unwrap();
            }
        }
    }
}
