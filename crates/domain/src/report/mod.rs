//! The return an IMHA service owes each commissioner: what was referred, how fast people were
//! seen, the caseload, the work done, the issues and their outcomes, and whom the service reached.
//!
//! Computed on a manager's laptop from the synced records (the service sees no plaintext). The
//! store gathers [`Facts`]; every measure is defined once here, with the words shown beside it
//! ([`MEASURES`], docs/REPORTS.md); small numbers are suppressed before anything is written out
//! ([`suppress`]).

pub mod suppress;

use crate::activity::ActivityKindCode;
use crate::case::{ClosureReason, IssueCategory, OutcomeKind, ReferralSource};
use crate::client::EthnicCategory;
use crate::legal::StatusCode;
use crate::rules::period::OfficeCalendar;
use crate::{CaseId, ClientId, ReferralId};
use chrono::NaiveDate;
use serde::Serialize;
use std::collections::BTreeMap;
use suppress::{
    Cell, Table, fold_rare, rate_allowed, share_allowed, suppress_count, suppress_table,
};

/// A measure's key, its title and what exactly is counted.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Measure {
    pub key: &'static str,
    pub title: &'static str,
    pub definition: &'static str,
}

/// Every headline measure and table, defined once.
pub const MEASURES: &[Measure] = &[
    Measure {
        key: "referrals_received",
        title: "Referrals received",
        definition: "Referrals whose received date falls in the period, for cases whose responsible authority is the commissioner (a referral counts in the period it was received).",
    },
    Measure {
        key: "referrals_eligible",
        title: "Referrals of qualifying patients",
        definition: "Of the referrals received, those recorded as eligible (a qualifying patient under s. 130C, or s. 130I/130J in Wales) on the day they were received.",
    },
    Measure {
        key: "cases_open_at_start",
        title: "Cases open at the start",
        definition: "Cases opened before the first day of the period and not closed before it.",
    },
    Measure {
        key: "cases_opened",
        title: "Cases opened",
        definition: "Cases opened on a day in the period.",
    },
    Measure {
        key: "cases_closed",
        title: "Cases closed",
        definition: "Cases closed on a day in the period (a case closed and reopened counts each time it closed in the period).",
    },
    Measure {
        key: "cases_open_at_end",
        title: "Cases open at the end",
        definition: "Cases opened on or before the last day of the period and not closed by then.",
    },
    Measure {
        key: "non_instructed_cases",
        title: "Non-instructed cases",
        definition: "Cases open at any time in the period where the person could not instruct the advocate.",
    },
    Measure {
        key: "first_contact_median_working_days",
        title: "Days to first contact (median)",
        definition: "For referrals received in the period that led to a case: working days (not weekends or England and Wales bank holidays) from the day received to the first private interview or contact with the person on that case; the day received is day 0. Withheld below 8 referrals.",
    },
    Measure {
        key: "first_contact_90th_percentile_working_days",
        title: "Days to first contact (90th percentile)",
        definition: "As the median, the 90th percentile (nearest rank). Withheld below 8 referrals.",
    },
    Measure {
        key: "first_contact_within_2_working_days_pct",
        title: "First contact within 2 working days (%)",
        definition: "Of the referrals received in the period that led to a case, the share whose first contact was within 2 working days; one not yet contacted counts as not within. Withheld below 8 referrals.",
    },
    Measure {
        key: "first_contact_within_5_working_days_pct",
        title: "First contact within 5 working days (%)",
        definition: "As above, within 5 working days.",
    },
    Measure {
        key: "tribunals_supported",
        title: "Tribunals supported",
        definition: "Tribunal support activities recorded on the commissioner's cases with a date in the period.",
    },
    Measure {
        key: "managers_hearings_supported",
        title: "Managers' hearings supported",
        definition: "Hospital managers' hearing support activities in the period.",
    },
    Measure {
        key: "ward_rounds_and_cpa_attended",
        title: "Ward rounds and CPA reviews attended",
        definition: "Ward round and CPA / care review representation activities in the period.",
    },
    Measure {
        key: "advocacy_hours",
        title: "Hours of advocacy recorded",
        definition: "The sum of the durations recorded on activities in the period, in hours to one decimal place (activities without a duration add nothing).",
    },
    Measure {
        key: "referral_source",
        title: "Referrals by source",
        definition: "Referrals received in the period, by who made them.",
    },
    Measure {
        key: "section_at_referral",
        title: "Referrals by section",
        definition: "Referrals received in the period, by the legal status on the day received (\"none\": no status recorded).",
    },
    Measure {
        key: "eligibility",
        title: "Referrals by eligibility",
        definition: "Referrals received in the period: eligible, not eligible, or not recorded.",
    },
    Measure {
        key: "repeat_referrals",
        title: "Repeat referrals",
        definition: "Referrals received in the period for a person with another referral in the 12 months before it: \"repeat\" or \"first\".",
    },
    Measure {
        key: "hospital",
        title: "Referrals by hospital",
        definition: "Referrals received in the period, by the person's hospital as recorded (\"not recorded\" when blank).",
    },
    Measure {
        key: "closing_reason",
        title: "Cases closed by reason",
        definition: "Cases closed in the period, by the reason recorded.",
    },
    Measure {
        key: "instruction",
        title: "Cases by instruction",
        definition: "Cases open at any time in the period: instructed or non-instructed.",
    },
    Measure {
        key: "activity_kind",
        title: "Activities by kind",
        definition: "Activities on the commissioner's cases dated in the period, by kind.",
    },
    Measure {
        key: "issue_category",
        title: "Issues raised by category",
        definition: "Issues opened in the period on the commissioner's cases, by category.",
    },
    Measure {
        key: "issue_outcome",
        title: "Issue outcomes",
        definition: "Issues whose outcome is dated in the period, grouped as resolved, partly resolved, not resolved or withdrawn (\"open\": issues raised in the period with no outcome yet).",
    },
    Measure {
        key: "ethnic_category",
        title: "People referred by ethnic category",
        definition: "People with a referral received in the period, by NHS ethnic category (A-S; Z: asked and chose not to say; 99: not known, never recorded), each person once.",
    },
    Measure {
        key: "gender",
        title: "People referred by gender",
        definition: "As above, by gender in the person's own words (\"not known\" when not recorded).",
    },
    Measure {
        key: "age_band",
        title: "People referred by age",
        definition: "As above, by age on the day of their first referral in the period: under 18, 18-25, 26-35, 36-45, 46-55, 56-65, 66 and over, not known.",
    },
    Measure {
        key: "disability",
        title: "People referred by disability",
        definition: "As above: disabled, not disabled, not known.",
    },
    Measure {
        key: "religion",
        title: "People referred by religion or belief",
        definition: "As above, in the person's own words (\"not known\" when not recorded).",
    },
    Measure {
        key: "sexual_orientation",
        title: "People referred by sexual orientation",
        definition: "As above, in the person's own words (\"not known\" when not recorded).",
    },
    Measure {
        key: "first_language",
        title: "People referred by first language",
        definition: "As above (\"not known\" when not recorded).",
    },
    Measure {
        key: "interpreter_needed",
        title: "People referred needing an interpreter",
        definition: "As above: yes or no.",
    },
];

/// What the store knows about a person, for the equality tables.
#[derive(Debug, Clone, Default)]
pub struct PersonFacts {
    pub ethnic_category: Option<EthnicCategory>,
    pub gender: Option<String>,
    pub dob: Option<NaiveDate>,
    pub disability: Option<bool>,
    pub religion: Option<String>,
    pub sexual_orientation: Option<String>,
    pub first_language: Option<String>,
    pub interpreter_needed: bool,
    pub hospital: Option<String>,
}

#[derive(Debug, Clone)]
pub struct ReferralFacts {
    pub id: ReferralId,
    pub client: ClientId,
    pub received_on: NaiveDate,
    pub source: ReferralSource,
    pub eligible: Option<bool>,
    /// The legal status on the day received.
    pub status: Option<StatusCode>,
}

#[derive(Debug, Clone)]
pub struct CaseFacts {
    pub id: CaseId,
    pub client: ClientId,
    pub referral: Option<ReferralId>,
    /// The responsible authority: the commissioner.
    pub commissioner: Option<String>,
    pub opened_on: NaiveDate,
    /// The closing in force (none while open).
    pub closed: Option<(NaiveDate, ClosureReason)>,
    /// Closings undone by reopening the case: each still counts as a case closed on its day.
    pub earlier_closings: Vec<(NaiveDate, ClosureReason)>,
    pub non_instructed: bool,
}

#[derive(Debug, Clone)]
pub struct ActivityFacts {
    pub case: CaseId,
    pub on: NaiveDate,
    pub kind: ActivityKindCode,
    pub minutes: Option<u32>,
}

#[derive(Debug, Clone)]
pub struct IssueFacts {
    pub case: CaseId,
    pub category: IssueCategory,
    pub opened_on: NaiveDate,
    pub outcome: Option<(NaiveDate, OutcomeKind)>,
}

/// Everything a return is computed from.
#[derive(Debug, Clone, Default)]
pub struct Facts {
    pub people: BTreeMap<ClientId, PersonFacts>,
    pub referrals: Vec<ReferralFacts>,
    pub cases: Vec<CaseFacts>,
    pub activities: Vec<ActivityFacts>,
    pub issues: Vec<IssueFacts>,
}

/// A referral that could not be counted for any commissioner, listed for fixing.
#[derive(Debug, Clone, Serialize)]
pub struct Unassigned {
    pub referral: Option<ReferralId>,
    pub case: Option<CaseId>,
    pub received_or_opened: NaiveDate,
}

/// A referral whose first contact was later than the 5-working-day target (or has not happened).
#[derive(Debug, Clone, Serialize)]
pub struct MissedTarget {
    pub case: CaseId,
    pub received_on: NaiveDate,
    pub first_contact: Option<NaiveDate>,
    pub working_days: Option<u32>,
}

/// A computed return. `measures` and `tables` are what may leave the laptop once suppressed.
#[derive(Debug, Clone, Serialize)]
pub struct Return {
    pub commissioner: String,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub measures: BTreeMap<&'static str, serde_json::Value>,
    pub tables: BTreeMap<&'static str, Table>,
    /// Counts of 1..=threshold shown as "*" (0: exact numbers, not for release).
    pub suppression_threshold: u64,
    /// How many cases have this commissioner (none: a misspelt name, most likely).
    #[serde(skip)]
    pub matched_cases: usize,
    /// Never written to a released file: for the manager to fix (ids only).
    #[serde(skip)]
    pub unassigned: Vec<Unassigned>,
    #[serde(skip)]
    pub missed_target: Vec<MissedTarget>,
}

/// Working days after `from` up to and including `to` (0 when the same day).
pub fn working_days_between(cal: &OfficeCalendar, from: NaiveDate, to: NaiveDate) -> u32 {
    let mut n = 0;
    let mut d = from;
    while d < to {
        match d.succ_opt() {
            Some(next) => d = next,
            None => break,
        }
        if !cal.is_closed(d) {
            n += 1;
        }
    }
    n
}

fn age_band(dob: Option<NaiveDate>, on: NaiveDate) -> &'static str {
    match dob.and_then(|d| crate::client::age_on(d, on)) {
        None => "not known",
        Some(a) if a < 18 => "under 18",
        Some(a) if a <= 25 => "18-25",
        Some(a) if a <= 35 => "26-35",
        Some(a) if a <= 45 => "36-45",
        Some(a) if a <= 55 => "46-55",
        Some(a) if a <= 65 => "56-65",
        Some(_) => "66 and over",
    }
}

fn outcome_group(k: OutcomeKind) -> &'static str {
    match k {
        OutcomeKind::UnderstandsRights
        | OutcomeKind::ApplicationMade
        | OutcomeKind::DecisionChanged
        | OutcomeKind::ComplaintUpheld => "resolved",
        OutcomeKind::ViewPut | OutcomeKind::Signposted | OutcomeKind::Other => "partly resolved",
        OutcomeKind::NotAchieved => "not resolved",
        OutcomeKind::Withdrawn => "withdrawn",
    }
}

fn words(s: &Option<String>) -> String {
    match s.as_deref().map(str::trim) {
        Some(w) if !w.is_empty() => w.to_lowercase(),
        _ => "not known".into(),
    }
}

/// The median of sorted values (the mean of the middle two for an even count).
fn median(sorted: &[u32]) -> Option<f64> {
    let n = sorted.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(f64::from(sorted[n / 2])),
        _ => Some((f64::from(sorted[n / 2 - 1]) + f64::from(sorted[n / 2])) / 2.0),
    }
}

/// The nearest-rank percentile of sorted values.
fn percentile(sorted: &[u32], p: u32) -> Option<u32> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (u64::from(p) * sorted.len() as u64).div_ceil(100).max(1) as usize;
    sorted.get(rank - 1).copied()
}

fn bump(t: &mut BTreeMap<String, u64>, key: impl Into<String>) {
    *t.entry(key.into()).or_insert(0) += 1;
}

/// Compute the return for `commissioner` over `[from, to]`, suppressing counts of
/// 1..=`threshold` (0: exact, for the manager's own view).
pub fn compute(
    facts: &Facts,
    commissioner: &str,
    from: NaiveDate,
    to: NaiveDate,
    cal: &OfficeCalendar,
    threshold: u64,
) -> Return {
    let in_period = |d: NaiveDate| d >= from && d <= to;
    let same = |c: &Option<String>| {
        c.as_deref()
            .is_some_and(|c| c.trim().eq_ignore_ascii_case(commissioner.trim()))
    };
    let mine: BTreeMap<CaseId, &CaseFacts> = facts
        .cases
        .iter()
        .filter(|c| same(&c.commissioner))
        .map(|c| (c.id, c))
        .collect();
    let case_of_referral: BTreeMap<ReferralId, &CaseFacts> = facts
        .cases
        .iter()
        .filter_map(|c| c.referral.map(|r| (r, c)))
        .collect();
    let mut unassigned = Vec::new();
    let referrals: Vec<&ReferralFacts> = facts
        .referrals
        .iter()
        .filter(|r| in_period(r.received_on))
        .filter(|r| match case_of_referral.get(&r.id) {
            Some(c)
                if c.commissioner
                    .as_deref()
                    .is_some_and(|s| !s.trim().is_empty()) =>
            {
                same(&c.commissioner)
            }
            other => {
                unassigned.push(Unassigned {
                    referral: Some(r.id),
                    case: other.map(|c| c.id),
                    received_or_opened: r.received_on,
                });
                false
            }
        })
        .collect();
    // Cases with no authority that were open at some time in the period (and not listed
    // already through their referral).
    for c in &facts.cases {
        if c.commissioner
            .as_deref()
            .is_none_or(|s| s.trim().is_empty())
            && c.opened_on <= to
            && c.closed.is_none_or(|(on, _)| on >= from)
            && !unassigned.iter().any(|u| u.case == Some(c.id))
        {
            unassigned.push(Unassigned {
                referral: None,
                case: Some(c.id),
                received_or_opened: c.opened_on,
            });
        }
    }

    // Referrals.
    let mut source = BTreeMap::new();
    let mut section = BTreeMap::new();
    let mut eligibility = BTreeMap::new();
    let mut repeat = BTreeMap::new();
    let mut hospital = BTreeMap::new();
    for r in &referrals {
        bump(&mut source, r.source.code());
        bump(&mut section, r.status.map_or("none", |s| s.code()));
        bump(
            &mut eligibility,
            match r.eligible {
                Some(true) => "eligible",
                Some(false) => "not eligible",
                None => "not recorded",
            },
        );
        let year_before = r
            .received_on
            .checked_sub_months(chrono::Months::new(12))
            .unwrap_or(NaiveDate::MIN);
        // Another referral for the person in the 12 months before (or earlier the same day).
        let is_repeat = facts.referrals.iter().any(|o| {
            o.client == r.client
                && o.id != r.id
                && o.received_on >= year_before
                && (o.received_on < r.received_on
                    || (o.received_on == r.received_on && o.id < r.id))
        });
        bump(&mut repeat, if is_repeat { "repeat" } else { "first" });
        // Hospital names as recorded (trimmed): they are names, not the person's own words.
        let h = facts
            .people
            .get(&r.client)
            .and_then(|p| p.hospital.as_deref())
            .map(str::trim)
            .filter(|h| !h.is_empty())
            .unwrap_or("not recorded");
        bump(&mut hospital, h);
    }
    let eligible = referrals
        .iter()
        .filter(|r| r.eligible == Some(true))
        .count() as u64;

    // Timeliness.
    let first_contact = |case: CaseId, after: NaiveDate| {
        facts
            .activities
            .iter()
            .filter(|a| {
                a.case == case
                    && a.on >= after
                    && matches!(
                        a.kind,
                        ActivityKindCode::PrivateInterview | ActivityKindCode::Contact
                    )
            })
            .map(|a| a.on)
            .min()
    };
    let mut days: Vec<u32> = Vec::new();
    let (mut within2, mut within5, mut counted) = (0u64, 0u64, 0u64);
    let mut missed_target = Vec::new();
    for r in &referrals {
        let Some(case) = case_of_referral.get(&r.id) else {
            continue;
        };
        counted += 1;
        let contact = first_contact(case.id, r.received_on);
        let wd = contact.map(|c| working_days_between(cal, r.received_on, c));
        if let Some(wd) = wd {
            days.push(wd);
            within2 += u64::from(wd <= 2);
            within5 += u64::from(wd <= 5);
        }
        if wd.is_none_or(|wd| wd > 5) {
            missed_target.push(MissedTarget {
                case: case.id,
                received_on: r.received_on,
                first_contact: contact,
                working_days: wd,
            });
        }
    }
    days.sort_unstable();

    // Caseload.
    // Open on a day: opened by then and not closed by the end of it (a reopened case is taken
    // as open from its first opening; the days it spent closed are not subtracted).
    let open_on = |c: &CaseFacts, day: NaiveDate| {
        c.opened_on <= day && c.closed.is_none_or(|(on, _)| on > day)
    };
    let open_at_start = mine
        .values()
        .filter(|c| c.opened_on < from && c.closed.is_none_or(|(on, _)| on >= from))
        .count() as u64;
    let opened = mine.values().filter(|c| in_period(c.opened_on)).count() as u64;
    let mut closing_reason = BTreeMap::new();
    let mut closed = 0u64;
    for c in mine.values() {
        for (on, why) in c.earlier_closings.iter().chain(c.closed.iter()) {
            if in_period(*on) {
                closed += 1;
                bump(&mut closing_reason, why.code());
            }
        }
    }
    let open_at_end = mine.values().filter(|c| open_on(c, to)).count() as u64;
    let active: Vec<&&CaseFacts> = mine
        .values()
        .filter(|c| c.opened_on <= to && c.closed.is_none_or(|(on, _)| on >= from))
        .collect();
    let mut instruction = BTreeMap::new();
    for c in &active {
        bump(
            &mut instruction,
            if c.non_instructed {
                "non-instructed"
            } else {
                "instructed"
            },
        );
    }
    let non_instructed = active.iter().filter(|c| c.non_instructed).count() as u64;

    // Work done.
    let mut activity_kind = BTreeMap::new();
    let mut minutes = 0u64;
    let (mut tribunals, mut hearings, mut rounds) = (0u64, 0u64, 0u64);
    for a in facts
        .activities
        .iter()
        .filter(|a| mine.contains_key(&a.case) && in_period(a.on))
    {
        bump(&mut activity_kind, a.kind.code());
        minutes += u64::from(a.minutes.unwrap_or(0));
        match a.kind {
            ActivityKindCode::Tribunal => tribunals += 1,
            ActivityKindCode::ManagersHearing => hearings += 1,
            ActivityKindCode::WardRound | ActivityKindCode::CpaReview => rounds += 1,
            _ => {}
        }
    }

    // Issues.
    let mut issue_category = BTreeMap::new();
    let mut issue_outcome = BTreeMap::new();
    for i in facts.issues.iter().filter(|i| mine.contains_key(&i.case)) {
        if in_period(i.opened_on) {
            bump(&mut issue_category, i.category.code());
            if i.outcome.is_none_or(|(on, _)| on > to) {
                bump(&mut issue_outcome, "open");
            }
        }
        if let Some((on, kind)) = i.outcome
            && in_period(on)
        {
            bump(&mut issue_outcome, outcome_group(kind));
        }
    }

    // Equality: each person referred in the period once, as at their first referral in it.
    let mut first_referral: BTreeMap<ClientId, NaiveDate> = BTreeMap::new();
    for r in &referrals {
        let e = first_referral.entry(r.client).or_insert(r.received_on);
        *e = (*e).min(r.received_on);
    }
    let mut ethnic = BTreeMap::new();
    let mut gender = BTreeMap::new();
    let mut age = BTreeMap::new();
    let mut disability = BTreeMap::new();
    let mut religion = BTreeMap::new();
    let mut orientation = BTreeMap::new();
    let mut language = BTreeMap::new();
    let mut interpreter = BTreeMap::new();
    let unknown = PersonFacts::default();
    for (client, on) in &first_referral {
        let p = facts.people.get(client).unwrap_or(&unknown);
        bump(
            &mut ethnic,
            p.ethnic_category.unwrap_or(EthnicCategory::NotKnown).code(),
        );
        bump(&mut gender, words(&p.gender));
        bump(&mut age, age_band(p.dob, *on));
        bump(
            &mut disability,
            match p.disability {
                Some(true) => "disabled",
                Some(false) => "not disabled",
                None => "not known",
            },
        );
        bump(&mut religion, words(&p.religion));
        bump(&mut orientation, words(&p.sexual_orientation));
        bump(&mut language, words(&p.first_language));
        bump(
            &mut interpreter,
            if p.interpreter_needed { "yes" } else { "no" },
        );
    }

    let star = || serde_json::to_value(Cell::Suppressed).unwrap_or_default();
    let n = |v: u64| serde_json::to_value(suppress_count(v, threshold)).unwrap_or_default();
    let people_timed = days.len() as u64;
    // A share gives both its part and the rest away when the denominator is known.
    let rate = |part: u64, of: u64| -> serde_json::Value {
        if of == 0 || !share_allowed(part, of, threshold) {
            return star();
        }
        let pct = (part as f64) * 100.0 / (of as f64);
        serde_json::json!((pct * 10.0).round() / 10.0)
    };
    let stat = |v: Option<f64>| -> serde_json::Value {
        match v {
            Some(v) if rate_allowed(people_timed, threshold) => serde_json::json!(v),
            _ => star(),
        }
    };

    // Tables first: a headline that is one cell of a table is published as that cell, so a
    // starred cell is never given away by its headline.
    let t = |counts: BTreeMap<String, u64>| suppress_table(&counts, threshold);
    let free =
        |counts: BTreeMap<String, u64>| suppress_table(&fold_rare(&counts, threshold), threshold);
    let mut tables = BTreeMap::new();
    tables.insert("referral_source", t(source));
    tables.insert("section_at_referral", t(section));
    tables.insert("eligibility", t(eligibility));
    tables.insert("repeat_referrals", t(repeat));
    tables.insert("hospital", free(hospital));
    tables.insert("closing_reason", t(closing_reason));
    tables.insert("instruction", t(instruction));
    tables.insert("activity_kind", t(activity_kind));
    tables.insert("issue_category", t(issue_category));
    tables.insert("issue_outcome", t(issue_outcome));
    let cell = |table: &Table, key: &str, exact: u64| -> serde_json::Value {
        match table.get(key) {
            Some(Cell::Suppressed) => star(),
            _ => n(exact),
        }
    };
    let mut measures = BTreeMap::new();
    measures.insert("referrals_received", n(referrals.len() as u64));
    measures.insert(
        "referrals_eligible",
        cell(&tables["eligibility"], "eligible", eligible),
    );
    measures.insert("cases_open_at_start", n(open_at_start));
    measures.insert("cases_opened", n(opened));
    measures.insert("cases_closed", n(closed));
    measures.insert("cases_open_at_end", n(open_at_end));
    measures.insert(
        "non_instructed_cases",
        cell(&tables["instruction"], "non-instructed", non_instructed),
    );
    measures.insert("first_contact_median_working_days", stat(median(&days)));
    measures.insert(
        "first_contact_90th_percentile_working_days",
        stat(percentile(&days, 90).map(f64::from)),
    );
    measures.insert(
        "first_contact_within_2_working_days_pct",
        rate(within2, counted),
    );
    measures.insert(
        "first_contact_within_5_working_days_pct",
        rate(within5, counted),
    );
    let kinds = &tables["activity_kind"];
    measures.insert("tribunals_supported", cell(kinds, "tribunal", tribunals));
    measures.insert(
        "managers_hearings_supported",
        cell(kinds, "managers-hearing", hearings),
    );
    let rounds_starred = [ActivityKindCode::WardRound, ActivityKindCode::CpaReview]
        .iter()
        .any(|k| kinds.get(k.code()) == Some(&Cell::Suppressed));
    measures.insert(
        "ward_rounds_and_cpa_attended",
        if rounds_starred { star() } else { n(rounds) },
    );
    measures.insert(
        "advocacy_hours",
        serde_json::json!(((minutes as f64) / 6.0).round() / 10.0),
    );
    tables.insert("ethnic_category", t(ethnic));
    tables.insert("gender", free(gender));
    tables.insert("age_band", t(age));
    tables.insert("disability", t(disability));
    tables.insert("religion", free(religion));
    tables.insert("sexual_orientation", free(orientation));
    tables.insert("first_language", free(language));
    tables.insert("interpreter_needed", t(interpreter));

    // The commissioner's name as recorded on its cases (the search ignores case and the spaces
    // around it); where cases spell it differently, the same one every time.
    let name = mine
        .values()
        .filter_map(|c| c.commissioner.as_deref().map(str::trim))
        .min()
        .unwrap_or(commissioner.trim())
        .to_owned();
    Return {
        commissioner: name,
        from,
        to,
        measures,
        tables,
        suppression_threshold: threshold,
        matched_cases: mine.len(),
        unassigned,
        missed_target,
    }
}

#[cfg(test)]
mod tests;
