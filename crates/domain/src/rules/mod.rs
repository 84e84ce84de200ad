//! The Mental Health Act rules engine: IMHA eligibility, tribunal application windows, renewals,
//! automatic references, who must tell the patient about IMHA, and the reminders on a case.
//!
//! Rules are dated data (`crates/domain/rules/*.toml`, shipped in the build), each with its
//! source, jurisdiction and dates in force, evaluated against the date of the event. Provisions
//! of the Mental Health Act 2025 that commence by regulations are in force only once an
//! organisation's commencement file gives them a date (docs/RULES.md). Everything here works on
//! UK calendar dates, never instants, and does no I/O: callers pass the file text and "today".
//! Every answer is guidance for an advocate to verify with the MHA office.

mod data;
pub mod period;
mod position;
mod reminders;

pub use data::{Jurisdiction, ProvisionStatus, Rules, Treatment};
pub use position::{TribunalPosition, TribunalStanding};
pub use reminders::{Reminder, ReminderKind};

use crate::StatusCode;
use chrono::NaiveDate;
use data::{ApplicantRole, DurationRule, EligibilityRule, TribunalRule};
use period::{days_beginning_with, months_beginning_with};
use serde::Serialize;
use thiserror::Error;

/// The label every computed date carries.
pub const GUIDANCE: &str = "Guidance only: verify with the MHA office or the patient's solicitor.";

/// How far ahead windows and renewals are listed: three years from the start.
const HORIZON_MONTHS: u32 = 36;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum RulesError {
    #[error("{file}: {reason}")]
    File { file: &'static str, reason: String },
    #[error("age {0} is out of range; give the patient's age in whole years (0 to 130)")]
    AgeOutOfRange(u32),
    #[error(
        "whether s58A treatment makes the patient eligible depends on age (under 18); give --age"
    )]
    AgeNeeded,
}

/// A question about IMHA eligibility.
#[derive(Debug, Clone)]
pub struct EligibilityQuery {
    pub status: StatusCode,
    pub on: NaiveDate,
    pub age: Option<u32>,
    pub considering: Option<Treatment>,
    pub jurisdiction: Jurisdiction,
    /// Whether an informal patient is an in-patient (s. 130J(2)(a) in Wales). `None`: not
    /// known; the answer then says it holds for an in-patient only.
    pub inpatient: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Eligibility {
    pub eligible: bool,
    pub reason: String,
    pub source: String,
}

/// Who a tribunal window belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WindowApplicant {
    Patient,
    NearestRelative,
    /// The nearest relative's rights pass to the nominated person once the 2025 Act's
    /// provision commences.
    NominatedPerson,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TribunalWindow {
    pub applicant: WindowApplicant,
    pub opens: NaiveDate,
    pub closes: NaiveDate,
    /// The last day moved to the next business day because the tribunal office is closed.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub extended: bool,
    pub source: String,
    /// When the last day is one the tribunal office is closed: what that means (moved to the
    /// next working day for s. 2 and s. 4; unsettled for every other window).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// One period of detention, guardianship or a CTO (or a court remand).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Period {
    pub number: usize,
    pub from: NaiveDate,
    /// The last day of the period: renewal must be in place by then.
    pub to: NaiveDate,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReferenceDue {
    pub by: String,
    pub due: NaiveDate,
    pub condition: String,
    pub source: String,
    /// For a reference due on expiry of a period unless an application, reference or
    /// hearing fell in it: the period's first day (its last is the day before `due`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unless_in_period_from: Option<NaiveDate>,
    /// Counted from the applicable day (the original admission), not the status's start.
    #[serde(skip)]
    pub from_admission: bool,
    /// Excused by a hearing in the period (s. 75(2D)) rather than an application or reference.
    #[serde(skip)]
    pub unless_considered: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Inform {
    pub who: String,
    pub source: String,
}

/// How long a status lasts and what falls due: the answer to `wardside rules renewals`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Renewals {
    pub status: StatusCode,
    pub start: NaiveDate,
    pub periods: Vec<Period>,
    /// The day the status ends unless renewed (or for good, if it cannot be renewed).
    pub expires: Option<NaiveDate>,
    /// The last day it can last with every renewal.
    pub longest_to: Option<NaiveDate>,
    pub hours: Option<u32>,
    pub note: String,
    pub source: Option<String>,
    pub managers_hearing_on_renewal: Option<String>,
    pub references: Vec<ReferenceDue>,
    /// What the references above leave out, and why.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub references_note: Option<String>,
    pub inform: Option<Inform>,
    pub guidance: &'static str,
}

/// Statuses under which a patient is liable to be detained in hospital (s. 130C(2)(a)).
fn liable_to_be_detained(s: StatusCode) -> bool {
    !matches!(
        s,
        StatusCode::S7
            | StatusCode::S37Guardianship
            | StatusCode::S17A
            | StatusCode::ConditionalDischarge
            | StatusCode::ConditionalDischargeDol
            | StatusCode::Informal
    )
}

fn check_age(age: Option<u32>) -> Result<(), RulesError> {
    match age {
        Some(a) if a > 130 => Err(RulesError::AgeOutOfRange(a)),
        _ => Ok(()),
    }
}

impl Rules {
    /// Is the patient a qualifying patient for IMHA, and why.
    pub fn eligibility(&self, q: &EligibilityQuery) -> Result<Eligibility, RulesError> {
        check_age(q.age)?;
        let in_force: Vec<&EligibilityRule> = self
            .file
            .eligibility
            .iter()
            .filter(|r| self.in_force(r.when(), q.jurisdiction, q.on).is_some())
            .collect();
        if in_force.is_empty() {
            return Ok(Eligibility {
                eligible: false,
                reason: format!(
                    "No IMHA provisions were in force in {} on {}.",
                    q.jurisdiction.label(),
                    show_date(q.on)
                ),
                source: "MHA 1983 ss. 130A-130D (England, from 1 April 2009; Wales, from 3 November 2008); ss. 130E-130L (Wales, from 3 January 2012)".into(),
            });
        }
        let yes = |reason: &str, source: &str| Eligibility {
            eligible: true,
            reason: reason.to_owned(),
            source: source.to_owned(),
        };
        let mut excluded: Option<Eligibility> = None;
        for rule in &in_force {
            match rule {
                EligibilityRule::Status {
                    statuses,
                    reason,
                    when,
                } if statuses.contains(&q.status) => return Ok(yes(reason, &when.source)),
                EligibilityRule::DetainedExcept {
                    except,
                    reason,
                    excluded_reason,
                    when,
                } if liable_to_be_detained(q.status) => {
                    if !except.contains(&q.status) {
                        return Ok(yes(reason, &when.source));
                    }
                    excluded = Some(Eligibility {
                        eligible: false,
                        reason: excluded_reason.clone(),
                        source: when.source.clone(),
                    });
                }
                _ => {}
            }
        }
        if let Some(treatment) = q.considering {
            for rule in &in_force {
                if let EligibilityRule::Considering {
                    treatment: t,
                    under_age,
                    reason,
                    when,
                } = rule
                    && *t == treatment
                {
                    match (under_age, q.age) {
                        (None, _) => return Ok(yes(reason, &when.source)),
                        (Some(_), None) => return Err(RulesError::AgeNeeded),
                        (Some(limit), Some(age)) if age < *limit => {
                            return Ok(yes(reason, &when.source));
                        }
                        _ => {}
                    }
                }
            }
        }
        if q.status == StatusCode::Informal {
            for rule in &in_force {
                if let EligibilityRule::InformalInpatient {
                    reason,
                    out_patient_reason,
                    when,
                } = rule
                {
                    return Ok(match q.inpatient {
                        Some(true) => yes(reason, &when.source),
                        None => yes(
                            &format!(
                                "{reason} (If the person is not an in-patient, they do not qualify this way: say so on the referral.)"
                            ),
                            &when.source,
                        ),
                        Some(false) => Eligibility {
                            eligible: false,
                            reason: out_patient_reason.clone(),
                            source: when.source.clone(),
                        },
                    });
                }
            }
        }
        // Wales's own provisions (ss. 130E-130L) are in force on that day: the answer cites them,
        // and s. 130J only from the day it commenced.
        let welsh = q.jurisdiction == Jurisdiction::Wales
            && in_force
                .iter()
                .any(|r| r.when().source.contains("130I") || r.when().source.contains("130J"));
        let informal_inpatients = in_force
            .iter()
            .any(|r| matches!(r, EligibilityRule::InformalInpatient { .. }));
        Ok(excluded.unwrap_or_else(|| Eligibility {
            eligible: false,
            reason: match (q.considering, welsh) {
                (Some(Treatment::S58a), false) => "Not a qualifying patient: s. 58A treatment makes an informal patient eligible only under the age of 18.".into(),
                (Some(Treatment::S58a), true) => "Not a Welsh qualifying patient: s. 58A treatment makes a patient eligible only under the age of 18, and an informal patient otherwise qualifies only as an in-patient (s. 130J).".into(),
                (_, false) => "Not a qualifying patient: an informal patient qualifies only while s. 57 treatment (or, under 18, s. 58A treatment such as ECT) is being discussed.".into(),
                (_, true) if informal_inpatients => "Not a Welsh qualifying patient: an informal patient qualifies as an in-patient (s. 130J), or while s. 57 treatment (or, under 18, s. 58A treatment) is being discussed (s. 130I(3)).".into(),
                (_, true) => "Not a Welsh qualifying patient: an informal patient qualifies only while s. 57 treatment (or, under 18, s. 58A treatment) is being discussed (s. 130I(3)); s. 130J (informal in-patients) came into force on 2 April 2012.".into(),
            },
            source: match (welsh, informal_inpatients) {
                (true, true) => "MHA 1983 ss. 130I(3), 130J".into(),
                (true, false) => "MHA 1983 s. 130I(3)".into(),
                _ => "MHA 1983 s. 130C(2)-(4)".into(),
            },
        }))
    }

    fn duration_rule(
        &self,
        status: StatusCode,
        j: Jurisdiction,
        on: NaiveDate,
    ) -> Option<&DurationRule> {
        self.latest(
            &self.file.duration,
            |r| &r.when,
            |r| r.statuses.contains(&status),
            j,
            on,
        )
    }

    fn tribunal_rule(
        &self,
        status: StatusCode,
        role: ApplicantRole,
        j: Jurisdiction,
        on: NaiveDate,
    ) -> Option<&TribunalRule> {
        self.latest(
            &self.file.tribunal,
            |r| &r.when,
            |r| r.statuses.contains(&status) && r.applicants.contains(&role),
            j,
            on,
        )
    }

    /// Consecutive periods of `lengths` months (the last repeating) beginning with `start`,
    /// while they begin on or before `until`.
    fn month_periods(start: NaiveDate, lengths: &[u32], until: NaiveDate) -> Vec<Period> {
        let mut out = Vec::new();
        let Some(&last) = lengths.last() else {
            return out;
        };
        let mut from = start;
        while from <= until {
            let n = lengths.get(out.len()).copied().unwrap_or(last);
            let to = months_beginning_with(from, n);
            out.push(Period {
                number: out.len() + 1,
                from,
                to,
            });
            match to.succ_opt() {
                Some(next) => from = next,
                None => break,
            }
        }
        out
    }

    /// As [`Rules::month_periods`], but each period's end is measured from `start`: the k-th
    /// period ends on the last day of the months so far beginning with `start`, and the next
    /// begins the day after. Where a month-end is clamped (a start on the 29th-31st), a chained
    /// count would carry the clamp forward; this one never does.
    fn periods_from_start(start: NaiveDate, lengths: &[u32], until: NaiveDate) -> Vec<Period> {
        let mut out = Vec::new();
        let Some(&last) = lengths.last() else {
            return out;
        };
        let (mut from, mut months) = (start, 0u32);
        while from <= until {
            months = months.saturating_add(lengths.get(out.len()).copied().unwrap_or(last));
            let to = months_beginning_with(start, months);
            out.push(Period {
                number: out.len() + 1,
                from,
                to,
            });
            match to.succ_opt() {
                Some(next) if to < NaiveDate::MAX => from = next,
                _ => break,
            }
        }
        out
    }

    /// The earliest day any tribunal rule for `status` comes into force in `j` (a status
    /// recorded as beginning before then, such as a CTO before 3 November 2008, has none).
    pub fn tribunal_rules_from(&self, status: StatusCode, j: Jurisdiction) -> Option<NaiveDate> {
        self.file
            .tribunal
            .iter()
            .filter(|r| r.statuses.contains(&status) && r.when.jurisdictions.contains(&j))
            .filter_map(|r| match &r.when.commencement {
                Some(key) => self.commencement.get(key).copied(),
                None => r.when.effective_from,
            })
            .min()
    }

    /// Every tribunal application window that opens within three years of `start`, in date
    /// order, for the patient and (where the Act gives one) the nearest relative. The rules in
    /// force on `start` decide.
    pub fn tribunal_windows(
        &self,
        status: StatusCode,
        start: NaiveDate,
        j: Jurisdiction,
    ) -> Vec<TribunalWindow> {
        self.windows_until(
            status,
            start,
            j,
            months_beginning_with(start, HORIZON_MONTHS),
        )
    }

    /// The windows that open on or before `horizon`.
    pub(crate) fn windows_until(
        &self,
        status: StatusCode,
        start: NaiveDate,
        j: Jurisdiction,
        horizon: NaiveDate,
    ) -> Vec<TribunalWindow> {
        let mut out = Vec::new();
        for role in [ApplicantRole::Patient, ApplicantRole::NearestRelative] {
            let Some(rule) = self.tribunal_rule(status, role, j, start) else {
                continue;
            };
            let applicant = match role {
                ApplicantRole::Patient => WindowApplicant::Patient,
                ApplicantRole::NearestRelative
                    if self.provision_in_force("mha2025-nominated-person", start) =>
                {
                    WindowApplicant::NominatedPerson
                }
                ApplicantRole::NearestRelative => WindowApplicant::NearestRelative,
            };
            if let Some(days) = rule.days {
                let last = days_beginning_with(start, days);
                let closes = if rule.next_business_day {
                    self.calendar.next_business_day(last)
                } else {
                    last
                };
                out.push(TribunalWindow {
                    applicant,
                    opens: start,
                    closes,
                    extended: closes != last,
                    source: rule.when.source.clone(),
                    note: self.closed_day_note(start, closes, closes != last),
                });
                continue;
            }
            let lengths = if rule.follow_duration {
                self.duration_rule(status, j, start)
                    .map(|d| d.periods_months.clone())
                    .unwrap_or_default()
            } else {
                rule.periods_months.clone()
            };
            let periods = if rule.from_start {
                Self::periods_from_start(start, &lengths, horizon)
            } else {
                Self::month_periods(start, &lengths, horizon)
            };
            // A rule that reaches statuses begun before it (a transitional provision) opens no
            // window that had closed before it was in force.
            let in_force_from = self.in_force(&rule.when, j, start).unwrap_or(start);
            for p in periods
                .into_iter()
                .skip(rule.skip)
                .filter(|p| p.to >= in_force_from)
            {
                out.push(TribunalWindow {
                    applicant,
                    opens: p.from,
                    closes: p.to,
                    extended: false,
                    source: rule.when.source.clone(),
                    note: self.closed_day_note(p.from, p.to, false),
                });
            }
        }
        out.sort_by_key(|w| (w.opens, w.applicant));
        out
    }

    /// Expiry and renewal dates, references and managers' hearings for a status that began on
    /// `start`, assuming no tribunal hearing since (reminders use the real history).
    pub fn renewals(
        &self,
        status: StatusCode,
        start: NaiveDate,
        age: Option<u32>,
        j: Jurisdiction,
    ) -> Result<Renewals, RulesError> {
        self.renewals_admitted(status, start, None, age, j)
    }

    /// As [`Rules::renewals`], with the day of the original admission for assessment or
    /// treatment (`admitted`): the managers' six-month reference for a community patient, or a
    /// s. 3 that followed a s. 2, counts from it (s. 68(5)), not from `start`.
    pub fn renewals_admitted(
        &self,
        status: StatusCode,
        start: NaiveDate,
        admitted: Option<NaiveDate>,
        age: Option<u32>,
        j: Jurisdiction,
    ) -> Result<Renewals, RulesError> {
        let mut r = self.renewals_until(
            status,
            start,
            age,
            j,
            months_beginning_with(start, HORIZON_MONTHS),
        )?;
        let applicable_day = admitted.unwrap_or(start);
        r.references = self.references(
            status,
            &RefInputs {
                start,
                applicable_day,
                detained_since: applicable_day,
                last_hearing: None,
                age,
                j,
                periods: &r.periods,
                horizon: months_beginning_with(start, HORIZON_MONTHS),
            },
        );
        // A status that cannot last until a reference falls due (a s. 2 unless extended under
        // s. 29(4)) does not list it.
        if let Some(end) = r.longest_to {
            r.references
                .retain(|x| x.due <= end.succ_opt().unwrap_or(end));
        }
        if status == StatusCode::S17A && admitted.is_none() {
            // Counting from the CTO would be wrong: leave the date out and say what is needed.
            let before = r.references.len();
            r.references
                .retain(|x| !(x.from_admission && x.unless_in_period_from.is_some()));
            if r.references.len() != before {
                r.references_note = Some(
                    "The managers' six-month reference for a community patient counts from the original admission for assessment or treatment, not the day the CTO was made (s. 68(5)(c)): give that day (--admitted) to see it.".into(),
                );
            }
        }
        Ok(r)
    }

    /// As [`Rules::renewals`], listing the periods that begin on or before `horizon`.
    pub(crate) fn renewals_until(
        &self,
        status: StatusCode,
        start: NaiveDate,
        age: Option<u32>,
        j: Jurisdiction,
        horizon: NaiveDate,
    ) -> Result<Renewals, RulesError> {
        check_age(age)?;
        let rule = self.duration_rule(status, j, start);
        let mut periods = Vec::new();
        let (mut expires, mut longest_to, mut hours) = (None, None, None);
        let note;
        match rule {
            Some(r) if !r.periods_months.is_empty() => {
                periods = Self::month_periods(start, &r.periods_months, horizon);
                expires = periods.first().map(|p| p.to);
                note = format!(
                    "{} lasts {} from the start, then is renewable for {}; each period must be renewed by its last day.",
                    status.label(),
                    count(r.periods_months[0], "month", "months"),
                    describe_lengths(&r.periods_months[1..])
                );
            }
            Some(r) if r.days.is_some() => {
                let days = r.days.unwrap_or(0);
                let first_to = days_beginning_with(start, days);
                periods.push(Period {
                    number: 1,
                    from: start,
                    to: first_to,
                });
                expires = Some(first_to);
                let max_to = r
                    .max_days
                    .map(|m| days_beginning_with(start, m))
                    .or(r.max_months.map(|m| months_beginning_with(start, m)));
                if let (Some(renew), Some(max_to)) = (r.renew_days, max_to) {
                    longest_to = Some(max_to);
                    while let Some(last) = periods.last().map(|p| p.to).filter(|to| *to < max_to) {
                        let from = last.succ_opt().unwrap_or(last);
                        let to = days_beginning_with(from, renew).min(max_to);
                        periods.push(Period {
                            number: periods.len() + 1,
                            from,
                            to,
                        });
                    }
                    note = format!(
                        "{} lasts up to {days} days beginning with the start; the court may renew it for up to {renew} days at a time, to {} at the latest.",
                        status.label(),
                        show_date(max_to)
                    );
                } else {
                    longest_to = Some(first_to);
                    note = format!(
                        "{} lasts up to {days} days beginning with the day of admission and cannot be renewed.",
                        status.label()
                    );
                }
            }
            Some(r) if r.hours.is_some() => {
                hours = r.hours;
                note = format!(
                    "{} lasts up to {} hours from the time it began; check the time on the paperwork.",
                    status.label(),
                    r.hours.unwrap_or(0)
                );
            }
            _ => {
                note = format!("{} has no fixed end date or renewal.", status.label());
            }
        }
        let managers_hearing_on_renewal = self
            .latest(
                &self.file.managers_hearing,
                |r| &r.when,
                |r| r.statuses.contains(&status) && r.on_renewal,
                j,
                start,
            )
            .map(|r| r.when.source.clone());
        let inform = self
            .latest(
                &self.file.inform,
                |r| &r.when,
                |r| r.statuses.contains(&status),
                j,
                start,
            )
            .map(|r| Inform {
                who: r.who.clone(),
                source: r.when.source.clone(),
            });
        let references = Vec::new();
        Ok(Renewals {
            status,
            start,
            periods,
            expires,
            longest_to,
            hours,
            note,
            source: rule.map(|r| r.when.source.clone()),
            managers_hearing_on_renewal,
            references,
            references_note: None,
            inform,
            guidance: GUIDANCE,
        })
    }

    /// References that fall due (see [`RefInputs`]).
    pub(crate) fn references(&self, status: StatusCode, x: &RefInputs) -> Vec<ReferenceDue> {
        let RefInputs {
            start,
            applicable_day,
            detained_since,
            last_hearing,
            age,
            j,
            periods,
            horizon,
        } = *x;
        let mut out = Vec::new();
        for r in &self.file.reference {
            if !r.statuses.contains(&status) {
                continue;
            }
            let Some(in_force_from) = self.in_force(&r.when, j, start) else {
                continue;
            };
            // A rule that reaches statuses begun before it (a transitional provision) cannot
            // have made anything due before it was in force.
            let first_due = in_force_from.max(start);
            let before = out.len();
            let by = r.by.clone();
            let source = r.when.source.clone();
            // The 2025 Act counts a community patient's references from the day the CTO was
            // made (new s. 68(5)(c)); everything else from the applicable day.
            let applicable_day = if r.from_status_start {
                start
            } else {
                applicable_day
            };
            if let Some(m) = r.first_months {
                let end = months_beginning_with(applicable_day, m);
                out.push(ReferenceDue {
                    by: by.clone(),
                    due: end.succ_opt().unwrap_or(end),
                    condition: format!(
                        "unless, in the {m} months beginning with {}, the patient or nearest relative applied (other than during detention for assessment) or the case was referred (s. 68(3))",
                        show_date(applicable_day)
                    ),
                    source: source.clone(),
                    unless_in_period_from: Some(applicable_day),
                    from_admission: !r.from_status_start,
                    unless_considered: r.unless == data::Unless::Considered,
                });
            }
            if !r.periods_months.is_empty() {
                for p in Self::periods_from_start(applicable_day, &r.periods_months, horizon) {
                    out.push(ReferenceDue {
                        by: by.clone(),
                        due: p.to.succ_opt().unwrap_or(p.to),
                        condition: match r.unless {
                            data::Unless::Applied => format!(
                                "unless an application or reference is made between {} and {}",
                                show_date(p.from),
                                show_date(p.to)
                            ),
                            data::Unless::Considered => format!(
                                "unless the tribunal considers the case between {} and {}",
                                show_date(p.from),
                                show_date(p.to)
                            ),
                        },
                        source: source.clone(),
                        unless_in_period_from: Some(p.from),
                        from_admission: !r.from_status_start,
                        unless_considered: r.unless == data::Unless::Considered,
                    });
                }
            }
            if let Some(m) = r.no_hearing_months {
                let m = match (age, r.under_18_months) {
                    (Some(a), Some(u)) if a < r.under_age => u,
                    _ => m,
                };
                let since = last_hearing.unwrap_or(detained_since);
                let limit = months_beginning_with(since, m);
                let due = if r.on_renewal {
                    // Before 3 November 2008: the first renewal after the limit has passed.
                    periods
                        .iter()
                        .filter_map(|p| p.to.succ_opt())
                        .find(|renewal| *renewal > limit)
                } else {
                    // "More than" that long since the tribunal last considered the case: the
                    // duty arises the day after the period ends, whatever the renewal dates.
                    limit.succ_opt()
                };
                if let Some(due) = due {
                    let years = if m % 12 == 0 {
                        count(m / 12, "year", "years")
                    } else {
                        count(m, "month", "months")
                    };
                    out.push(ReferenceDue {
                        by,
                        due,
                        condition: match last_hearing {
                            Some(h) => format!(
                                "more than {years} after the tribunal last considered the case on {}",
                                show_date(h)
                            ),
                            None => format!(
                                "if the tribunal has not considered the case in the {years} beginning with {}",
                                show_date(since)
                            ),
                        },
                        source,
                        unless_in_period_from: None,
                        from_admission: last_hearing.is_none(),
                        unless_considered: false,
                    });
                }
            }
            // Nothing due before the rule (or the status) was in force.
            if in_force_from > start {
                let mut i = before;
                while i < out.len() {
                    if out[i].due < first_due {
                        out.remove(i);
                    } else {
                        i += 1;
                    }
                }
            }
        }
        out.sort_by_key(|r| r.due);
        out
    }
}

/// What references are counted from.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RefInputs<'p> {
    /// The day the status in force began.
    pub start: NaiveDate,
    /// s. 68(5)'s applicable day: the original admission for assessment or treatment.
    pub applicable_day: NaiveDate,
    /// The day the current detention began (for a case never considered by a tribunal).
    pub detained_since: NaiveDate,
    pub last_hearing: Option<NaiveDate>,
    pub age: Option<u32>,
    pub j: Jurisdiction,
    pub periods: &'p [Period],
    /// Periodic references are listed up to this day.
    pub horizon: NaiveDate,
}

/// A date as people in the UK write it: 5 Jul 2026.
/// A count with its noun, singular for exactly one ("1 year", "2 years", "6 months").
pub(crate) fn count(n: impl Into<i64>, one: &str, many: &str) -> String {
    let n = n.into();
    format!("{n} {}", if n.abs() == 1 { one } else { many })
}

pub(crate) fn show_date(d: NaiveDate) -> String {
    d.format("%-d %b %Y").to_string()
}

fn describe_lengths(lengths: &[u32]) -> String {
    match lengths {
        [] => "the same period again".into(),
        [only] => format!("{} at a time", count(*only, "month", "months")),
        _ => {
            let (last, rest) = lengths
                .split_last()
                .map(|(l, r)| (*l, r))
                .unwrap_or((0, &[]));
            let rest: Vec<String> = rest.iter().map(|m| count(*m, "month", "months")).collect();
            format!(
                "{}, then {} at a time",
                rest.join(", "),
                count(last, "month", "months")
            )
        }
    }
}

#[cfg(test)]
mod statute_tests;
#[cfg(test)]
mod tests;
