//! Reminders on a case, recomputed from the legal-status history every time it is shown.

use super::{GUIDANCE, Jurisdiction, Rules, WindowApplicant};
use crate::StatusCode;
use crate::legal::{Applicant, LegalEvent, LegalEventKind, status_on};
use chrono::NaiveDate;
use serde::Serialize;

/// Tribunal windows and renewals closer than this get a reminder.
const SOON_DAYS: i64 = 28;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ReminderKind {
    TribunalWindowCloses,
    TribunalWindowOpens,
    Expiry,
    RenewalDue,
    ReferenceDue,
    /// The recorded status must have ended: the history is out of date.
    StatusLapsed,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reminder {
    pub kind: ReminderKind,
    pub due: NaiveDate,
    /// Days from today to `due` (negative when past).
    pub days_left: i64,
    pub text: String,
    pub source: String,
    pub guidance: &'static str,
}

fn in_days(n: i64) -> String {
    match n {
        0 => "today".into(),
        1 => "tomorrow".into(),
        n if n < 0 => format!("{} ago", super::count(-n, "day", "days")),
        n => format!("in {}", super::count(n, "day", "days")),
    }
}

/// The patient's applications in `[from, to]` that still stand: a withdrawn application
/// counts as never made (s. 77(2)).
pub(super) fn standing_application(
    history: &[&LegalEvent],
    from: NaiveDate,
    to: NaiveDate,
) -> Option<NaiveDate> {
    let mut standing = None;
    for e in history.iter().filter(|e| e.on >= from && e.on <= to) {
        match &e.kind {
            LegalEventKind::TribunalApplication {
                applicant: Applicant::Patient,
            } => standing = Some(e.on),
            LegalEventKind::ApplicationWithdrawn => standing = None,
            _ => {}
        }
    }
    standing
}

impl Rules {
    /// Reminders for a patient on `today`, from their legal-status history (any order).
    pub fn reminders(
        &self,
        history: &[LegalEvent],
        today: NaiveDate,
        age: Option<u32>,
        j: Jurisdiction,
    ) -> Vec<Reminder> {
        let Some((status, since)) = status_on(history, today) else {
            return Vec::new();
        };
        let mut events: Vec<&LegalEvent> = history.iter().filter(|e| e.on <= today).collect();
        events.sort_by_key(|e| e.on);
        let mut out = Vec::new();
        let mut remind = |kind, due: NaiveDate, text: String, source: &str| {
            out.push(Reminder {
                kind,
                due,
                days_left: (due - today).num_days(),
                text,
                source: source.to_owned(),
                guidance: GUIDANCE,
            });
        };
        let label = status.label();
        let start = admission_day(&events, status, since);
        // Look a year past today, however long ago the status began.
        let horizon = super::period::months_beginning_with(today, 12);

        // Tribunal: the patient's window open today, or the next one.
        let windows: Vec<_> = self
            .windows_until(status, start, j, horizon)
            .into_iter()
            .filter(|w| w.applicant == WindowApplicant::Patient)
            .collect();
        if let Some(w) = windows
            .iter()
            .find(|w| w.opens <= today && today <= w.closes)
        {
            let days = (w.closes - today).num_days();
            match standing_application(&events, w.opens, w.closes) {
                None if days <= SOON_DAYS || status == StatusCode::S2 => remind(
                    ReminderKind::TribunalWindowCloses,
                    w.closes,
                    format!(
                        "{label}: the tribunal application window closes {} ({})",
                        in_days(days),
                        super::show_date(w.closes)
                    ),
                    &w.source,
                ),
                _ => {}
            }
        } else if let Some(w) = windows.iter().find(|w| w.opens > today) {
            let days = (w.opens - today).num_days();
            if days <= SOON_DAYS {
                remind(
                    ReminderKind::TribunalWindowOpens,
                    w.opens,
                    format!(
                        "{label}: the next tribunal application window opens {} ({})",
                        in_days(days),
                        super::show_date(w.opens)
                    ),
                    &w.source,
                );
            }
        }

        // Expiry and renewal of the current period.
        if let Ok(r) = self.renewals_until(status, start, age, j, horizon) {
            let source = r.source.clone().unwrap_or_default();
            // A status that cannot still be in force: the history needs its next entry.
            let lapsed = match (r.periods.last(), r.hours) {
                (Some(last), _) if last.to < today && r.longest_to == Some(last.to) => {
                    Some(last.to)
                }
                (_, Some(hours)) => start
                    .checked_add_days(chrono::Days::new(u64::from(hours.div_ceil(24))))
                    .filter(|end| *end < today),
                _ => None,
            };
            if let Some(ended) = lapsed {
                remind(
                    ReminderKind::StatusLapsed,
                    ended,
                    format!(
                        "{label} cannot have lasted beyond {}: record the patient's current legal status",
                        super::show_date(ended)
                    ),
                    &source,
                );
            }
            if let Some(p) = r.periods.iter().find(|p| p.from <= today && today <= p.to) {
                let days = (p.to - today).num_days();
                let last = r.periods.last().map(|l| l.number) == Some(p.number);
                if r.periods.len() == 1 || (last && r.longest_to == Some(p.to)) {
                    remind(
                        ReminderKind::Expiry,
                        p.to,
                        format!(
                            "{label} ends {} ({}) and cannot be renewed further",
                            in_days(days),
                            super::show_date(p.to)
                        ),
                        &source,
                    );
                } else if days <= SOON_DAYS {
                    let held = events
                        .iter()
                        .filter(|e| matches!(e.kind, LegalEventKind::ManagersHearing { .. }))
                        .map(|e| e.on)
                        .rfind(|on| (p.to - *on).num_days() <= SOON_DAYS);
                    let hearing = match (&r.managers_hearing_on_renewal, held) {
                        (Some(_), Some(on)) => {
                            format!("; a managers' hearing was held on {}", super::show_date(on))
                        }
                        (Some(_), None) => {
                            "; the hospital managers must consider the renewal".to_string()
                        }
                        (None, _) => String::new(),
                    };
                    remind(
                        ReminderKind::RenewalDue,
                        p.to,
                        format!(
                            "{label} renewal due by {} ({}){hearing}",
                            super::show_date(p.to),
                            in_days(days)
                        ),
                        &source,
                    );
                }
            }

            // References: s. 68 counts from the first day of detention, including a s. 2 (or
            // s. 4) that became s. 3; withdrawn applications count as never made.
            let applicable_day = first_day_of_detention(&events, status, since);
            let last_hearing = events
                .iter()
                .filter(|e| matches!(e.kind, LegalEventKind::TribunalHearing { .. }))
                .map(|e| e.on)
                .next_back();
            for due in self.references(
                status,
                since,
                applicable_day,
                last_hearing,
                age,
                j,
                &r.periods,
            ) {
                let days = (due.due - today).num_days();
                let first_period = due.condition.starts_with("if no tribunal application");
                if first_period {
                    let end = due.due.pred_opt().unwrap_or(due.due);
                    let applied = standing_application(&events, applicable_day, end).is_some()
                        || events.iter().any(|e| {
                            e.on >= applicable_day
                                && e.on <= end
                                && matches!(e.kind, LegalEventKind::Reference)
                        });
                    if applied || days < 0 {
                        continue;
                    }
                }
                if days <= SOON_DAYS * 2 {
                    remind(
                        ReminderKind::ReferenceDue,
                        due.due,
                        format!(
                            "Automatic reference to the tribunal by {} {}, {}",
                            due.by.replacen("The ", "the ", 1),
                            match days {
                                0 => "due today".to_string(),
                                n if n < 0 => format!("was due on {}", super::show_date(due.due)),
                                n => format!(
                                    "due in {} ({})",
                                    super::count(n, "day", "days"),
                                    super::show_date(due.due)
                                ),
                            },
                            due.condition
                        ),
                        &due.source,
                    );
                }
            }
        }
        self.event_deadlines(&events, status, today, j, &mut out);
        out.sort_by_key(|r| r.due);
        out
    }

    /// Deadlines started by an event in the history: the nearest relative's 28 days after a
    /// barring report, the Secretary of State's month after a recall.
    fn event_deadlines(
        &self,
        events: &[&LegalEvent],
        status: StatusCode,
        today: NaiveDate,
        j: Jurisdiction,
        out: &mut Vec<Reminder>,
    ) {
        for e in events {
            for rule in &self.file.event {
                if rule.event != e.kind.code()
                    || !rule.statuses.contains(&status)
                    || self.in_force(&rule.when, j, e.on).is_none()
                {
                    continue;
                }
                let due = match (rule.days, rule.months) {
                    (Some(n), _) => super::period::days_beginning_with(e.on, n),
                    (None, Some(n)) => super::period::months_beginning_with(e.on, n),
                    (None, None) => continue,
                };
                let days = (due - today).num_days();
                if days < 0 {
                    continue;
                }
                let (kind, what) = match (&rule.applicant, &rule.by) {
                    (Some(_), _) => {
                        let who = if self.provision_in_force("mha2025-nominated-person", e.on) {
                            "The nominated person"
                        } else {
                            "The nearest relative"
                        };
                        (
                            ReminderKind::TribunalWindowCloses,
                            format!("{who} can apply to the tribunal until"),
                        )
                    }
                    (None, Some(by)) => (
                        ReminderKind::ReferenceDue,
                        format!("{by} must refer the case to the tribunal by"),
                    ),
                    (None, None) => continue,
                };
                let text = format!(
                    "{what} {} ({}), after {} on {}",
                    super::show_date(due),
                    in_days(days),
                    rule.after,
                    super::show_date(e.on)
                );
                out.push(Reminder {
                    kind,
                    due,
                    days_left: days,
                    text,
                    source: rule.when.source.clone(),
                    guidance: GUIDANCE,
                });
            }
        }
    }
}

/// A s. 2 that directly followed a s. 4 runs from the s. 4 admission (s. 4(4)): its 28 days
/// and its 14-day tribunal window both count from that day.
pub(super) fn admission_day(
    events: &[&LegalEvent],
    status: StatusCode,
    since: NaiveDate,
) -> NaiveDate {
    if status != StatusCode::S2 {
        return since;
    }
    let before = events.iter().rev().filter(|e| e.on <= since).find(|e| {
        matches!(
            e.kind,
            LegalEventKind::StatusStarted { .. } | LegalEventKind::Ended
        ) && !(e.on == since
            && matches!(
                e.kind,
                LegalEventKind::StatusStarted {
                    status: StatusCode::S2
                }
            ))
    });
    match before {
        Some(e)
            if matches!(
                e.kind,
                LegalEventKind::StatusStarted {
                    status: StatusCode::S4
                }
            ) =>
        {
            e.on
        }
        _ => since,
    }
}

/// The day detention began for s. 68: walk back through statuses that followed each other
/// without a gap from an assessment section.
fn first_day_of_detention(
    events: &[&LegalEvent],
    status: StatusCode,
    since: NaiveDate,
) -> NaiveDate {
    let mut day = since;
    let mut current = status;
    for e in events.iter().rev().filter(|e| e.on < since) {
        match &e.kind {
            LegalEventKind::Ended => break,
            LegalEventKind::StatusStarted { status: earlier }
                if matches!(
                    earlier,
                    StatusCode::S2 | StatusCode::S4 | StatusCode::S5_2 | StatusCode::S5_4
                ) && matches!(current, StatusCode::S2 | StatusCode::S3) =>
            {
                if matches!(earlier, StatusCode::S2) {
                    day = e.on;
                }
                current = *earlier;
            }
            LegalEventKind::StatusStarted { .. } => break,
            _ => {}
        }
    }
    day
}
