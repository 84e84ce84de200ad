//! Reminders on a case, recomputed from the legal-status history every time it is shown.

use super::data::{ApplicantRole, EventRule};
use super::period::months_beginning_with;
use super::{GUIDANCE, Jurisdiction, Rules, TribunalWindow, WindowApplicant};
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
        let (windows, by_event) = self.patient_windows(&events, status, since, today, j, horizon);
        // A window an event opened for the patient (a revoked CTO's six months) is reminded
        // of with its own source: the status's window that ends the same day is not repeated.
        let by_event: Vec<NaiveDate> = by_event.iter().map(|e| e.window.closes).collect();
        if let Some(w) = windows
            .iter()
            .find(|w| w.opens <= today && today <= w.closes)
        {
            let days = (w.closes - today).num_days();
            match standing_application(&events, w.opens, w.closes) {
                None if by_event.contains(&w.closes) => {}
                None if days <= SOON_DAYS || status == StatusCode::S2 => remind(
                    ReminderKind::TribunalWindowCloses,
                    w.closes,
                    format!(
                        "{label}: the tribunal application window closes {} ({}){}",
                        in_days(days),
                        super::show_date(w.closes),
                        w.note
                            .as_deref()
                            .map(|n| format!(". {n}"))
                            .unwrap_or_default()
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
            // s. 29(4): a s. 2 lasts while an application to displace the nearest relative on
            // ground (c) or (d) is pending, and seven days after the order.
            let displaced = (status == StatusCode::S2)
                .then(|| {
                    events.iter().find(|e| {
                        e.on >= since && matches!(e.kind, LegalEventKind::NearestRelativeDisplaced)
                    })
                })
                .flatten()
                .and_then(|e| e.on.checked_add_days(chrono::Days::new(7)));
            let lapsed = match (r.periods.last(), r.hours) {
                (Some(last), _) if last.to < today && r.longest_to == Some(last.to) => {
                    match displaced {
                        Some(extended) if extended >= today => None,
                        Some(extended) => Some(extended),
                        None => Some(last.to),
                    }
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
                        "{label} cannot have lasted beyond {}{}: record the patient's current legal status",
                        super::show_date(ended),
                        if status == StatusCode::S2 && displaced.is_none() {
                            " unless an application to displace the nearest relative is pending (s. 29(4))"
                        } else {
                            ""
                        }
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
            let applicable = first_day_of_detention(&events, status, since);
            let applicable_day = applicable.unwrap_or(since);
            // The current detention: from the first status after the last `ended`. A hearing
            // in an earlier one is not "the last time the tribunal considered the case" for
            // the duties of this one.
            let this_episode = episode(&events);
            let detained_since = this_episode
                .iter()
                .find(|e| {
                    matches!(
                        e.kind,
                        LegalEventKind::StatusStarted { .. } | LegalEventKind::CtoRevoked { .. }
                    )
                })
                .map_or(since, |e| e.on);
            let last_hearing = this_episode
                .iter()
                .filter(|e| matches!(e.kind, LegalEventKind::TribunalHearing { .. }))
                .map(|e| e.on)
                .next_back();
            let referred_in = |from: NaiveDate, to: NaiveDate| {
                events.iter().any(|e| {
                    e.on >= from && e.on <= to && matches!(e.kind, LegalEventKind::Reference)
                })
            };
            for mut due in self.references(
                status,
                &super::RefInputs {
                    start: since,
                    applicable_day,
                    detained_since,
                    last_hearing,
                    age,
                    j,
                    periods: &r.periods,
                    horizon,
                },
            ) {
                // A CTO made under a hospital order (Sch. 1 Pt. 1 para 10), or one whose
                // admission is not in the history: no applicable day to count from.
                if due.from_admission && due.unless_in_period_from.is_some() && applicable.is_none()
                {
                    continue;
                }
                let mut late_withdrawal = false;
                if let Some(from) = due.unless_in_period_from {
                    let end = due.due.pred_opt().unwrap_or(due.due);
                    if due.unless_considered {
                        // s. 75(2D): excused only if the tribunal considered the case.
                        let considered = events.iter().any(|e| {
                            e.on >= from
                                && e.on <= end
                                && matches!(e.kind, LegalEventKind::TribunalHearing { .. })
                        });
                        if considered {
                            continue;
                        }
                    } else {
                        // s. 68(3): an application made while detained for assessment
                        // (s. 66(1)(a)) or a reference made then does not count; one after, by
                        // the patient or the nearest relative, does.
                        let counts_from = from.max(assessment_ends(&events, applicable_day, since));
                        match application_in(&events, counts_from, end) {
                            InPeriod::Standing => continue,
                            InPeriod::WithdrawnAfter(withdrawn) => {
                                // s. 68(4): withdrawn after the period ended: refer as soon as
                                // possible after the withdrawal.
                                if referred_in(withdrawn, today) {
                                    continue;
                                }
                                due.due = withdrawn.max(today);
                                due.condition = format!(
                                    "as soon as possible: the application made in the period ending {} was withdrawn on {} (s. 68(4))",
                                    super::show_date(end),
                                    super::show_date(withdrawn)
                                );
                                late_withdrawal = true;
                            }
                            InPeriod::None => {
                                if referred_in(counts_from, end) {
                                    continue;
                                }
                            }
                        }
                    }
                } else {
                    // "Since the case was last considered": a reference made, or an
                    // application standing, since then will bring it before the tribunal.
                    let after = last_hearing.unwrap_or(applicable_day);
                    let pending = after.succ_opt().is_some_and(|next| {
                        referred_in(next, today) || any_application(&events, next, today)
                    });
                    if pending {
                        continue;
                    }
                }
                let days = (due.due - today).num_days();
                // A periodic reference missed: still shown for four weeks, as overdue, unless a
                // reference has been recorded since.
                if due.unless_in_period_from.is_some()
                    && !late_withdrawal
                    && (days < -SOON_DAYS || (days < 0 && referred_in(due.due, today)))
                {
                    continue;
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

    /// Tribunal windows that an event in the history opens for the status in force: the
    /// nearest relative's 28 days after a barring report (s. 66(1)(g)), the patient's six months
    /// after a CTO is revoked (s. 66(1)(cb)), the displaced nearest relative's 12-month periods
    /// (s. 66(1)(h)). For a repeating window, the one open on `today` or the next.
    pub(super) fn event_windows(
        &self,
        events: &[&LegalEvent],
        status: StatusCode,
        today: NaiveDate,
        j: Jurisdiction,
    ) -> Vec<EventWindow> {
        let mut out = Vec::new();
        for e in episode(events) {
            for rule in &self.file.event {
                if rule.event != e.kind.code()
                    || !rule.statuses.contains(&status)
                    || self.in_force(&rule.when, j, e.on).is_none()
                {
                    continue;
                }
                let Some(role) = rule.applicant else {
                    continue;
                };
                let Some((mut opens, closes)) = event_period(rule, e.on, today) else {
                    continue;
                };
                // s. 69(4): a hospital order patient's (ca)/(cb) right is exercisable only once
                // six months from the order have passed.
                if let LegalEventKind::CtoRevoked {
                    status: StatusCode::S37,
                } = e.kind
                    && let Some(order) =
                        events
                            .iter()
                            .rev()
                            .filter(|o| o.on < e.on)
                            .find_map(|o| match o.kind {
                                LegalEventKind::StatusStarted {
                                    status: StatusCode::S37,
                                } => Some(o.on),
                                _ => None,
                            })
                    && let Some(after) = months_beginning_with(order, 6).succ_opt()
                {
                    opens = opens.max(after);
                    if opens > closes {
                        continue;
                    }
                }
                let applicant = match role {
                    ApplicantRole::Patient => WindowApplicant::Patient,
                    ApplicantRole::NearestRelative
                        if self.provision_in_force("mha2025-nominated-person", e.on) =>
                    {
                        WindowApplicant::NominatedPerson
                    }
                    ApplicantRole::NearestRelative => WindowApplicant::NearestRelative,
                };
                let who = match (&rule.who, applicant) {
                    (Some(w), WindowApplicant::NominatedPerson) => {
                        w.replace("nearest relative", "nominated person")
                    }
                    (Some(w), _) => w.clone(),
                    (None, WindowApplicant::Patient) => "The patient".into(),
                    (None, WindowApplicant::NominatedPerson) => "The nominated person".into(),
                    (None, WindowApplicant::NearestRelative) => "The nearest relative".into(),
                };
                out.push(EventWindow {
                    window: TribunalWindow {
                        applicant,
                        opens,
                        closes,
                        extended: false,
                        source: rule.when.source.clone(),
                        note: self.closed_day_note(opens, closes, false),
                    },
                    who,
                    after: rule.after.clone(),
                    event_on: e.on,
                    repeat: rule.repeat,
                });
            }
        }
        out
    }

    /// Deadlines started by an event in the history: the windows above, and references that
    /// fall due after an event (the Secretary of State's month after a recall, s. 75(1)(a); the
    /// managers' reference as soon as possible after a CTO is revoked, s. 68(7)).
    fn event_deadlines(
        &self,
        events: &[&LegalEvent],
        status: StatusCode,
        today: NaiveDate,
        j: Jurisdiction,
        out: &mut Vec<Reminder>,
    ) {
        for w in self.event_windows(events, status, today, j) {
            let note = w.window.note.clone();
            let days = (w.window.closes - today).num_days();
            if days < 0 || w.window.opens > today {
                continue;
            }
            if w.window.applicant == WindowApplicant::Patient
                && standing_application(events, w.window.opens, w.window.closes).is_some()
            {
                continue;
            }
            // A window that comes round every year is mentioned near its end.
            if w.repeat && days > SOON_DAYS {
                continue;
            }
            let mut text = format!(
                "{} can apply to the tribunal until {} ({}), after {} on {}",
                w.who,
                super::show_date(w.window.closes),
                in_days(days),
                w.after,
                super::show_date(w.event_on)
            );
            if let Some(n) = note {
                text.push_str(". ");
                text.push_str(&n);
            }
            out.push(Reminder {
                kind: ReminderKind::TribunalWindowCloses,
                due: w.window.closes,
                days_left: days,
                text,
                source: w.window.source.clone(),
                guidance: GUIDANCE,
            });
        }
        for e in episode(events) {
            for rule in &self.file.event {
                if rule.event != e.kind.code()
                    || rule.applicant.is_some()
                    || !rule.statuses.contains(&status)
                    || self.in_force(&rule.when, j, e.on).is_none()
                {
                    continue;
                }
                let Some(by) = &rule.by else {
                    continue;
                };
                let referred = |since: NaiveDate| {
                    events
                        .iter()
                        .any(|r| r.on >= since && matches!(r.kind, LegalEventKind::Reference))
                };
                let (due, text) = if rule.asap {
                    if referred(e.on) {
                        continue;
                    }
                    // No fixed day: due now, every day until it is done (not "overdue" from the
                    // day of the event).
                    (
                        e.on.max(today),
                        format!(
                            "{by} must refer the case to the tribunal as soon as possible after {} on {} (no reference recorded since)",
                            rule.after,
                            super::show_date(e.on)
                        ),
                    )
                } else {
                    let Some((_, due)) = event_period(rule, e.on, e.on) else {
                        continue;
                    };
                    if due < today {
                        continue;
                    }
                    (
                        due,
                        format!(
                            "{by} must refer the case to the tribunal by {} ({}), after {} on {}",
                            super::show_date(due),
                            in_days((due - today).num_days()),
                            rule.after,
                            super::show_date(e.on)
                        ),
                    )
                };
                out.push(Reminder {
                    kind: ReminderKind::ReferenceDue,
                    due,
                    days_left: (due - today).num_days(),
                    text,
                    source: rule.when.source.clone(),
                    guidance: GUIDANCE,
                });
            }
        }
    }

    /// What a window says when its last day is a day the tribunal office is closed. The s. 2
    /// (and s. 4) window was moved to the next working day (`extended`: R (Modaresi) v SSH
    /// [2011] EWCA Civ 1359); for other windows the law is unsettled, so the advocate is told
    /// both days and never given the later one as the deadline.
    pub(super) fn closed_day_note(
        &self,
        opens: NaiveDate,
        closes: NaiveDate,
        extended: bool,
    ) -> Option<String> {
        let kind = |day: NaiveDate| {
            if self.calendar.is_bank_holiday(day) {
                "a bank holiday"
            } else {
                "a weekend day"
            }
        };
        if extended {
            let mut last = closes.pred_opt()?;
            while self.calendar.is_closed(last.pred_opt()?) && last > opens {
                last = last.pred_opt()?;
            }
            return Some(format!(
                "The last day counted, {}, is {} when the tribunal office is closed: the window runs to the next working day, {} (R (Modaresi) v SSH [2011] EWCA Civ 1359)",
                super::show_date(last),
                kind(last),
                super::show_date(closes)
            ));
        }
        if !self.calendar.is_closed(closes) {
            return None;
        }
        let mut before = closes;
        while self.calendar.is_closed(before) && before > opens {
            before = before.pred_opt()?;
        }
        Some(format!(
            "The last day, {}, is {}: whether an application the next working day is in time is unsettled outside sections 2 and 4 (R (Modaresi) v SSH [2011] EWCA Civ 1359 decided s. 66(2)(a) only), so apply by {} if you can",
            super::show_date(closes),
            kind(closes),
            super::show_date(before)
        ))
    }

    /// The patient's windows for the status in force (restricted patients recalled from a
    /// conditional discharge lose the first six months: s. 75(1)(b) applies s. 70 only), and
    /// those events in the current episode opened for them.
    pub(super) fn patient_windows(
        &self,
        events: &[&LegalEvent],
        status: StatusCode,
        since: NaiveDate,
        today: NaiveDate,
        j: Jurisdiction,
        horizon: NaiveDate,
    ) -> (Vec<TribunalWindow>, Vec<EventWindow>) {
        let start = admission_day(events, status, since);
        let recalled = returned_on_recall(events, since);
        let mut windows: Vec<_> = self
            .windows_until(status, start, j, horizon)
            .into_iter()
            .filter(|w| w.applicant == WindowApplicant::Patient)
            .collect();
        if recalled && matches!(status, StatusCode::S47_49 | StatusCode::S48_49) {
            let six = months_beginning_with(start, 6);
            windows.retain(|w| w.closes > six);
            for w in &mut windows {
                w.source = "MHA 1983 s. 75(1)(b) with s. 70(a), (b): after a recall, s. 70 counts from the day of return as if the direction were made then (no s. 69(2)(b) first six months)".into();
            }
        }
        // s. 69(4): a CTO made under a hospital order gives its (ca) right only once six months
        // from the order have passed.
        if status == StatusCode::S17A
            && let Some(order) = hospital_order_before(events, since)
            && let Some(after) = months_beginning_with(order, 6).succ_opt()
        {
            windows.retain(|w| w.closes >= after);
            for w in &mut windows {
                if w.opens < after {
                    w.opens = after;
                    w.source = format!(
                        "{} (s. 69(4): not before six months from the hospital order of {})",
                        w.source,
                        super::show_date(order)
                    );
                }
            }
        }
        let by_event: Vec<_> = self
            .event_windows(events, status, today, j)
            .into_iter()
            .filter(|e| e.window.applicant == WindowApplicant::Patient)
            .collect();
        (windows, by_event)
    }
}

/// A tribunal window opened by an event, with how reminders name it.
#[derive(Debug, Clone)]
pub(super) struct EventWindow {
    pub window: TribunalWindow,
    pub who: String,
    pub after: String,
    pub event_on: NaiveDate,
    pub repeat: bool,
}

/// The period an event rule gives, beginning with the day of the event `on`: for a repeating
/// rule, the one containing `today` (or the first, before it), each measured from `on`.
fn event_period(
    rule: &EventRule,
    on: NaiveDate,
    today: NaiveDate,
) -> Option<(NaiveDate, NaiveDate)> {
    match (rule.days, rule.months) {
        (Some(n), _) => Some((on, super::period::days_beginning_with(on, n))),
        (None, Some(n)) if rule.repeat && n > 0 => {
            let mut opens = on;
            let mut k = 1u32;
            loop {
                let closes = super::period::months_beginning_with(on, n.saturating_mul(k));
                if closes >= today || closes == NaiveDate::MAX || k > 2000 {
                    return Some((opens, closes));
                }
                opens = closes.succ_opt()?;
                k += 1;
            }
        }
        (None, Some(n)) => Some((on, super::period::months_beginning_with(on, n))),
        (None, None) => None,
    }
}

/// The events of the current episode: those after the last `Ended` (a s. 29 order, a revoked
/// CTO's window and the managers' reference all end with the detention they belonged to).
pub(super) fn episode<'e>(events: &[&'e LegalEvent]) -> Vec<&'e LegalEvent> {
    let from = events
        .iter()
        .rposition(|e| matches!(e.kind, LegalEventKind::Ended))
        .map_or(0, |i| i + 1);
    events[from..].to_vec()
}

/// The hospital order (s. 37) a CTO beginning on `since` was made under, if the history has it
/// directly before.
fn hospital_order_before(events: &[&LegalEvent], since: NaiveDate) -> Option<NaiveDate> {
    let earlier = events.iter().rev().find(|e| {
        e.on < since
            && matches!(
                e.kind,
                LegalEventKind::StatusStarted { .. }
                    | LegalEventKind::CtoRevoked { .. }
                    | LegalEventKind::Ended
            )
    })?;
    match earlier.kind {
        LegalEventKind::StatusStarted {
            status: StatusCode::S37,
        }
        | LegalEventKind::CtoRevoked {
            status: StatusCode::S37,
        } => Some(earlier.on),
        _ => None,
    }
}

/// Whether the status in force since `since` began with the patient's return to hospital on
/// recall from a conditional discharge.
fn returned_on_recall(events: &[&LegalEvent], since: NaiveDate) -> bool {
    let earlier = events.iter().rev().filter(|e| e.on <= since).find(|e| {
        e.on < since
            && matches!(
                e.kind,
                LegalEventKind::StatusStarted { .. } | LegalEventKind::Ended
            )
    });
    let recall_since_then = events.iter().any(|e| {
        matches!(e.kind, LegalEventKind::Recalled)
            && e.on <= since
            && earlier.is_none_or(|x| e.on >= x.on)
    });
    recall_since_then
        || matches!(
            earlier.map(|e| &e.kind),
            Some(LegalEventKind::StatusStarted {
                status: StatusCode::ConditionalDischarge | StatusCode::ConditionalDischargeDol
            })
        )
}

/// What became of the applications made in `[from, to]`.
enum InPeriod {
    None,
    /// One still stands (or was withdrawn after `to` and then made again).
    Standing,
    /// Every one made in the period was withdrawn, the last after the period ended.
    WithdrawnAfter(NaiveDate),
}

fn application_in(history: &[&LegalEvent], from: NaiveDate, to: NaiveDate) -> InPeriod {
    if any_application(history, from, to) {
        // Standing at the end of the period: was it withdrawn later?
        let withdrawn = history
            .iter()
            .filter(|e| e.on > to)
            .find(|e| {
                matches!(
                    e.kind,
                    LegalEventKind::ApplicationWithdrawn | LegalEventKind::TribunalHearing { .. }
                )
            })
            .and_then(|e| match e.kind {
                LegalEventKind::ApplicationWithdrawn => Some(e.on),
                _ => None,
            });
        return match withdrawn {
            Some(on) => InPeriod::WithdrawnAfter(on),
            None => InPeriod::Standing,
        };
    }
    InPeriod::None
}

/// Whether an application by anyone (the patient, the nearest relative or the nominated
/// person) still stands that was made in `[from, to]`; a withdrawn one counts as never made
/// (s. 68(4), s. 77(2)).
fn any_application(history: &[&LegalEvent], from: NaiveDate, to: NaiveDate) -> bool {
    let mut standing = false;
    for e in history.iter().filter(|e| e.on >= from && e.on <= to) {
        match &e.kind {
            LegalEventKind::TribunalApplication { .. } => standing = true,
            LegalEventKind::ApplicationWithdrawn => standing = false,
            _ => {}
        }
    }
    standing
}

/// The first day after detention for assessment (s. 2 or s. 4) in the run of statuses that
/// began on `applicable_day`: applications before it were under s. 66(1)(a).
fn assessment_ends(
    events: &[&LegalEvent],
    applicable_day: NaiveDate,
    since: NaiveDate,
) -> NaiveDate {
    events
        .iter()
        .filter(|e| e.on > applicable_day && e.on <= since)
        .find(|e| match &e.kind {
            LegalEventKind::StatusStarted { status } | LegalEventKind::CtoRevoked { status } => {
                !matches!(status, StatusCode::S2 | StatusCode::S4)
            }
            _ => false,
        })
        .map(|e| e.on)
        .unwrap_or(since)
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

/// The applicable day for s. 68 (s. 68(5)): walk back through the statuses that followed each
/// other without a gap. A s. 3 that followed a s. 2 (or a s. 4, also an application for
/// admission for assessment) counts from that admission (s. 68(5)(a), (b)(ii)); a community
/// patient, and a patient whose CTO was revoked, count from that same admission (s. 68(5)(c)),
/// not from the day the CTO was made or revoked. `None` for a CTO made under a hospital order
/// or transfer direction (Sch. 1 Pt. 1 para 10: no six-month reference), or one whose
/// admission is not in the history.
fn first_day_of_detention(
    events: &[&LegalEvent],
    status: StatusCode,
    since: NaiveDate,
) -> Option<NaiveDate> {
    use StatusCode as S;
    let mut day = since;
    let mut current = status;
    let mut admitted = !matches!(status, S::S17A);
    for e in events.iter().rev().filter(|e| e.on <= since) {
        if e.on == since {
            continue;
        }
        let earlier = match &e.kind {
            LegalEventKind::Ended => break,
            LegalEventKind::StatusStarted { status } | LegalEventKind::CtoRevoked { status } => {
                *status
            }
            _ => continue,
        };
        let follows = match (earlier, current) {
            // Assessment and holding powers before a s. 2 or s. 3.
            (S::S2 | S::S4 | S::S5_2 | S::S5_4, S::S2 | S::S3) => true,
            // A CTO made from a s. 3, and the s. 3 a revoked CTO returns to.
            (S::S3, S::S17A) | (S::S17A, S::S3) => true,
            // A CTO made under a hospital order or an unrestricted transfer.
            (S::S37 | S::S47 | S::S48, S::S17A) => return None,
            _ => false,
        };
        if !follows {
            break;
        }
        if matches!(earlier, S::S2 | S::S3 | S::S4) {
            day = e.on;
            admitted = true;
        }
        current = earlier;
    }
    admitted.then_some(day)
}
