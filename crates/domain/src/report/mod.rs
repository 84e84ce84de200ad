//! The return an IMHA service owes each commissioner: what was referred, how fast people were
//! seen, the caseload, the work done, the issues and their outcomes, and whom the service reached.
//!
//! Computed on a manager's laptop from the synced records (the service sees no plaintext). The
//! store gathers [`Facts`]; every measure is defined once here, with the words shown beside it
//! ([`MEASURES`], docs/REPORTS.md); small numbers are suppressed before anything is written out
//! ([`suppress`]).

pub mod contract;
pub mod dashboard;
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
    Cell, Table, fold_rare, rate_allowed, share_allowed, suppress_count, suppress_linked,
    suppress_table, suppress_table_with,
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
        definition: "Referrals whose received date falls in the period, for the commissioner responsible on that day for the case opened from them (a referral that opened no case counts for the authority recorded on it); a referral counts in the period it was received.",
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
        key: "involvement_median_days",
        title: "Length of involvement (median days)",
        definition: "For cases closed in the period: days from opening to closing, less any days the case spent closed before being reopened; the median, withheld below 8 closings.",
    },
    Measure {
        key: "first_contact_referrals",
        title: "Referrals timed to first contact",
        definition: "Referrals received in the period that led to a case: what the first-contact measures are over. Withheld when it, or the referrals that led to no case, is from 1 to 7.",
    },
    Measure {
        key: "first_contact_median_working_days",
        title: "Days to first contact (median)",
        definition: "For referrals received in the period that led to a case: working days (not weekends or England and Wales bank holidays) from the day received to the first private interview or contact with the person on that case; the day received is day 0. Withheld below 8 people contacted; empty (null) when nobody was.",
    },
    Measure {
        key: "first_contact_90th_percentile_working_days",
        title: "Days to first contact (90th percentile)",
        definition: "As the median, the 90th percentile (nearest rank). Withheld below 8 referrals.",
    },
    Measure {
        key: "first_contact_within_2_working_days_pct",
        title: "First contact within 2 working days (%)",
        definition: "Of the referrals received in the period that led to a case, the share whose first contact was within 2 working days; one not yet contacted counts as not within. Withheld when the referrals timed are withheld, or when those within or those not within number 1 to 7; empty (null) when there were none.",
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
        key: "concerns_raised",
        title: "Concerns raised",
        definition: "Concerns raised with the hospital or another body on the commissioner's cases, dated in the period.",
    },
    Measure {
        key: "concerns_answered_late",
        title: "Concerns answered late",
        definition: "Of the concerns raised in the period with a date a response was due: those answered after that date, and those still unanswered after it (by the period's last day).",
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
        key: "not_eligible_why",
        title: "Why referrals were not eligible",
        definition: "Referrals received in the period recorded as not eligible: the legal status on the day (when the rules engine decided), or \"advocate's assessment\" (the advocate's own words are never released).",
    },
    Measure {
        key: "out_of_area",
        title: "Out-of-area patients",
        definition: "Referrals received in the period: the person placed outside the commissioner's area, inside it, or not recorded.",
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
        key: "hospital_ward",
        title: "Referrals by hospital and ward",
        definition: "Referrals received in the period, by hospital and ward as recorded on the person's record (\"not recorded\" when blank); before release a ward with 7 or fewer referrals is counted under \"other\".",
    },
    Measure {
        key: "closing_reason",
        title: "Cases closed by reason",
        definition: "Cases closed in the period, by the reason recorded.",
    },
    Measure {
        key: "length_of_involvement",
        title: "Cases closed by length of involvement",
        definition: "Cases closed in the period, by days involved: up to 30, 31-90, 91-180, 181-365, over a year (days spent closed before a reopening not counted).",
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
        key: "records_basis",
        title: "Records requests by basis",
        definition: "Records requests in the period, by the basis for access (s. 130B(4)): the person's consent, or their lacking capacity and the record holder's decision.",
    },
    Measure {
        key: "concern_response",
        title: "Concerns by response",
        definition: "Concerns raised in the period: answered in time, answered late, not answered and overdue, not yet due, or no date due (a response counts on the day it was first recorded).",
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
        definition: "As above: yes or no. An organisation may load a table of the people detained in the commissioner's area by the same groups; it is printed beside these tables.",
    },
    Measure {
        key: "supported_ethnic_category",
        title: "People supported by ethnic category",
        definition: "People with a case for the commissioner open on some day of the period, each once, by the same groups as the table of people referred.",
    },
    Measure {
        key: "supported_gender",
        title: "People supported by gender",
        definition: "People with a case for the commissioner open on some day of the period, each once, by the same groups as the table of people referred.",
    },
    Measure {
        key: "supported_age_band",
        title: "People supported by age",
        definition: "People with a case for the commissioner open on some day of the period, each once, by the same groups as the table of people referred (age on the first day of the period, or the day their case opened if later).",
    },
    Measure {
        key: "supported_disability",
        title: "People supported by disability",
        definition: "People with a case for the commissioner open on some day of the period, each once, by the same groups as the table of people referred.",
    },
    Measure {
        key: "supported_religion",
        title: "People supported by religion or belief",
        definition: "People with a case for the commissioner open on some day of the period, each once, by the same groups as the table of people referred.",
    },
    Measure {
        key: "supported_sexual_orientation",
        title: "People supported by sexual orientation",
        definition: "People with a case for the commissioner open on some day of the period, each once, by the same groups as the table of people referred.",
    },
    Measure {
        key: "supported_first_language",
        title: "People supported by first language",
        definition: "People with a case for the commissioner open on some day of the period, each once, by the same groups as the table of people referred.",
    },
    Measure {
        key: "supported_interpreter_needed",
        title: "People supported needing an interpreter",
        definition: "People with a case for the commissioner open on some day of the period, each once, by the same groups as the table of people referred.",
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
    pub ward: Option<String>,
}

#[derive(Debug, Clone)]
pub struct ReferralFacts {
    pub id: ReferralId,
    pub client: ClientId,
    pub received_on: NaiveDate,
    pub source: ReferralSource,
    pub eligible: Option<bool>,
    /// Whether the rules engine (rather than the advocate) decided eligibility.
    pub decided_by_rules: bool,
    /// The legal status on the day received.
    pub status: Option<StatusCode>,
    /// The referral's own commissioner (counted only when it led to no case).
    pub commissioner: Option<String>,
    pub out_of_area: Option<bool>,
}

/// A closing undone by reopening the case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reopening {
    pub closed_on: NaiveDate,
    pub reason: ClosureReason,
    pub reopened_on: NaiveDate,
}

/// A case moved to another commissioner from a day on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommissionerMove {
    pub from: NaiveDate,
    pub before: Option<String>,
    pub after: Option<String>,
}

#[derive(Debug, Clone)]
pub struct CaseFacts {
    pub id: CaseId,
    pub client: ClientId,
    pub referral: Option<ReferralId>,
    /// The responsible authority now: the commissioner.
    pub commissioner: Option<String>,
    /// Earlier authorities, oldest first: before each move's day the case was its `before`'s.
    pub moves: Vec<CommissionerMove>,
    pub opened_on: NaiveDate,
    /// The closing in force (none while open).
    pub closed: Option<(NaiveDate, ClosureReason)>,
    /// Closings undone by reopening, oldest first: each still counts as a case closed on its
    /// day, and the case was not open between it and the reopening.
    pub reopenings: Vec<Reopening>,
    pub non_instructed: bool,
}

fn named(s: Option<&str>) -> Option<&str> {
    s.map(str::trim).filter(|s| !s.is_empty())
}

impl CaseFacts {
    /// The commissioner responsible on `day`.
    pub fn commissioner_on(&self, day: NaiveDate) -> Option<&str> {
        let current = named(self.commissioner.as_deref());
        match self.moves.iter().rev().find(|m| m.from <= day) {
            Some(m) => named(m.after.as_deref()),
            None => match self.moves.first() {
                Some(m) => named(m.before.as_deref()),
                None => current,
            },
        }
    }

    /// Every commissioner responsible on some day from `from` to `to`.
    fn commissioners_during(&self, from: NaiveDate, to: NaiveDate) -> Vec<Option<&str>> {
        let mut out = vec![self.commissioner_on(from)];
        for m in self.moves.iter().filter(|m| m.from > from && m.from <= to) {
            out.push(named(m.after.as_deref()));
        }
        out
    }

    /// Open at the end of `day`: opened by then, not closed on or before it, and not in a
    /// spell between a closing and its reopening.
    pub fn open_at_end_of(&self, day: NaiveDate) -> bool {
        self.opened_on <= day
            && self.closed.is_none_or(|(on, _)| on > day)
            && !self
                .reopenings
                .iter()
                .any(|r| r.closed_on <= day && day < r.reopened_on)
    }

    /// Open on some day from `from` to `to` (the day it closed counts).
    pub fn open_during(&self, from: NaiveDate, to: NaiveDate) -> bool {
        self.opened_on <= to
            && self.closed.is_none_or(|(on, _)| on >= from)
            && !self
                .reopenings
                .iter()
                .any(|r| r.closed_on < from && to < r.reopened_on)
    }

    /// Days of involvement up to a closing on `closed_on`: from opening, less the days spent
    /// closed before it.
    pub fn days_involved(&self, closed_on: NaiveDate) -> i64 {
        let gaps: i64 = self
            .reopenings
            .iter()
            .filter(|r| r.reopened_on <= closed_on)
            .map(|r| (r.reopened_on - r.closed_on).num_days())
            .sum();
        (closed_on - self.opened_on).num_days() - gaps
    }

    /// Every closing with its day and reason, the one in force last.
    fn closings(&self) -> impl Iterator<Item = (NaiveDate, ClosureReason)> + '_ {
        self.reopenings
            .iter()
            .map(|r| (r.closed_on, r.reason))
            .chain(self.closed)
    }
}

/// A concern raised with the hospital: when a response was due and when one was recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConcernFacts {
    pub response_due: Option<NaiveDate>,
    pub answered_on: Option<NaiveDate>,
}

#[derive(Debug, Clone)]
pub struct ActivityFacts {
    pub case: CaseId,
    pub on: NaiveDate,
    pub kind: ActivityKindCode,
    pub minutes: Option<u32>,
    /// For a concern.
    pub concern: Option<ConcernFacts>,
    /// For a records request: the basis's code.
    pub records_basis: Option<String>,
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

/// A referral or case that could not be counted for any commissioner, listed for fixing.
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
    /// The contract's targets beside the measures (set by [`contract::Contract::apply`]).
    pub targets: BTreeMap<&'static str, contract::TargetCheck>,
    /// The people detained in the commissioner's area, by the same codes as the equality
    /// tables, where the organisation loaded a reference table (published figures).
    pub reference: BTreeMap<String, BTreeMap<String, u64>>,
    /// How many cases (and referrals without one) have this commissioner (none: a misspelt
    /// name, most likely).
    #[serde(skip)]
    pub matched_cases: usize,
    /// Never written to a released file: for the manager to fix (ids only).
    #[serde(skip)]
    pub unassigned: Vec<Unassigned>,
    #[serde(skip)]
    pub missed_target: Vec<MissedTarget>,
    /// The cases behind each number, for the manager to drill into (never released): keyed by a
    /// measure's key, or `table/code` for a table's cell.
    #[serde(skip)]
    pub cases_behind: BTreeMap<String, Vec<CaseId>>,
}

/// The keys of the headline measures (one number each; the numbers a contract can set a target
/// on, as against the tables), in the order of [`MEASURES`]. Read off a return over nothing, so
/// the list is the one `compute` makes.
pub fn headline_keys() -> &'static [&'static str] {
    static KEYS: std::sync::LazyLock<Vec<&'static str>> = std::sync::LazyLock::new(|| {
        let ret = compute(
            &Facts::default(),
            "",
            NaiveDate::MIN,
            NaiveDate::MIN,
            &OfficeCalendar::default(),
            0,
        );
        MEASURES
            .iter()
            .map(|m| m.key)
            .filter(|k| ret.measures.contains_key(k))
            .collect()
    });
    &KEYS
}

/// Whether `key` is a headline measure rather than a table (see [`headline_keys`]).
pub fn is_headline(key: &str) -> bool {
    headline_keys().contains(&key)
}

/// How two spellings of a commissioner's name are found to be the same: letter case (any
/// alphabet: "Ynys Môn", "YNYS MÔN") and spaces around and between the words do not count.
pub fn commissioner_key(name: &str) -> String {
    name.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
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

fn involvement_band(days: i64) -> &'static str {
    match days {
        ..=30 => "up to 30 days",
        31..=90 => "31-90 days",
        91..=180 => "91-180 days",
        181..=365 => "181-365 days",
        _ => "over a year",
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

/// One table's exact counts, with the cases behind each cell.
#[derive(Default)]
struct Tally {
    counts: BTreeMap<String, u64>,
    cases: BTreeMap<String, Vec<CaseId>>,
}

impl Tally {
    fn bump(&mut self, key: impl Into<String>, case: Option<CaseId>) {
        let key = key.into();
        if let Some(c) = case {
            self.cases.entry(key.clone()).or_default().push(c);
        }
        *self.counts.entry(key).or_insert(0) += 1;
    }
}

/// Counts and the cases behind them, as they become a return.
struct Tables {
    threshold: u64,
    tables: BTreeMap<&'static str, Table>,
    /// The exact counts each table was published from (after folding rare words).
    exact: BTreeMap<&'static str, BTreeMap<String, u64>>,
    behind: BTreeMap<String, Vec<CaseId>>,
}

impl Tables {
    fn add(&mut self, name: &'static str, t: Tally, free_text: bool) {
        let counts = if free_text {
            fold_rare(&t.counts, self.threshold)
        } else {
            t.counts
        };
        for (key, mut cases) in t.cases {
            // A folded answer's cases are behind "other".
            let key = if counts.contains_key(&key) {
                key
            } else {
                "other".into()
            };
            let v = self.behind.entry(format!("{name}/{key}")).or_default();
            v.append(&mut cases);
            v.sort_unstable();
            v.dedup();
        }
        self.tables
            .insert(name, suppress_table(&counts, self.threshold));
        self.exact.insert(name, counts);
    }

    /// `child` breaks down cells of `parent` (its cells `under` a parent cell add up to it):
    /// where that parent cell is starred, its children are starred too (and the child table's
    /// secondary suppression runs again), or they would add up to the number it hides.
    fn link(&mut self, parent: &str, child: &'static str, under: impl Fn(&str, &str) -> bool) {
        let starred: Vec<String> = self
            .tables
            .get(parent)
            .into_iter()
            .flatten()
            .filter(|(_, c)| **c == Cell::Suppressed)
            .map(|(k, _)| k.clone())
            .collect();
        if starred.is_empty() {
            return;
        }
        if let Some(counts) = self.exact.get(child) {
            let t = suppress_table_with(counts, self.threshold, |k| {
                starred.iter().any(|p| under(p, k))
            });
            self.tables.insert(child, t);
        }
    }

    fn measure_cases(&mut self, key: &str, cases: impl IntoIterator<Item = CaseId>) {
        let mut v: Vec<CaseId> = cases.into_iter().collect();
        v.sort_unstable();
        v.dedup();
        self.behind.insert(key.to_owned(), v);
    }
}

/// The equality tables over a set of people, each person once, as on the day given.
fn equality(
    out: &mut Tables,
    facts: &Facts,
    names: &[&'static str; 8],
    people: &BTreeMap<ClientId, (NaiveDate, Option<CaseId>)>,
) {
    let mut t: [Tally; 8] = Default::default();
    let unknown = PersonFacts::default();
    for (client, (on, case)) in people {
        let p = facts.people.get(client).unwrap_or(&unknown);
        let c = *case;
        t[0].bump(
            p.ethnic_category.unwrap_or(EthnicCategory::NotKnown).code(),
            c,
        );
        t[1].bump(words(&p.gender), c);
        t[2].bump(age_band(p.dob, *on), c);
        t[3].bump(
            match p.disability {
                Some(true) => "disabled",
                Some(false) => "not disabled",
                None => "not known",
            },
            c,
        );
        t[4].bump(words(&p.religion), c);
        t[5].bump(words(&p.sexual_orientation), c);
        t[6].bump(words(&p.first_language), c);
        t[7].bump(if p.interpreter_needed { "yes" } else { "no" }, c);
    }
    let free = [false, true, false, false, true, true, true, false];
    for ((name, tally), free) in names.iter().zip(t).zip(free) {
        out.add(name, tally, free);
    }
}

const REFERRED: [&str; 8] = [
    "ethnic_category",
    "gender",
    "age_band",
    "disability",
    "religion",
    "sexual_orientation",
    "first_language",
    "interpreter_needed",
];

const SUPPORTED: [&str; 8] = [
    "supported_ethnic_category",
    "supported_gender",
    "supported_age_band",
    "supported_disability",
    "supported_religion",
    "supported_sexual_orientation",
    "supported_first_language",
    "supported_interpreter_needed",
];

/// The equality tables a reference table of people detained can be set beside.
pub const EQUALITY_TABLES: [&str; 8] = REFERRED;

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
    let wanted = commissioner.trim();
    let wanted_key = commissioner_key(wanted);
    let same = |c: Option<&str>| c.is_some_and(|c| commissioner_key(c) == wanted_key);
    let cases: BTreeMap<CaseId, &CaseFacts> = facts.cases.iter().map(|c| (c.id, c)).collect();
    // A case is this commissioner's on a day if it was responsible that day.
    let mine_on = |c: &CaseFacts, day: NaiveDate| same(c.commissioner_on(day));
    let ever_mine: Vec<&CaseFacts> = facts
        .cases
        .iter()
        .filter(|c| {
            same(named(c.commissioner.as_deref()))
                || c.moves
                    .iter()
                    .any(|m| same(named(m.before.as_deref())) || same(named(m.after.as_deref())))
        })
        .collect();
    let case_of_referral: BTreeMap<ReferralId, &CaseFacts> = facts
        .cases
        .iter()
        .filter_map(|c| c.referral.map(|r| (r, c)))
        .collect();

    // Referrals received in the period, with the case opened from each. A referral belongs to
    // its case's commissioner on the day it came in; one with no case, to its own.
    let mut unassigned = Vec::new();
    let mut referrals: Vec<(&ReferralFacts, Option<&CaseFacts>)> = Vec::new();
    for r in facts.referrals.iter().filter(|r| in_period(r.received_on)) {
        let case = case_of_referral.get(&r.id).copied();
        let who = match case {
            Some(c) => c.commissioner_on(r.received_on),
            None => named(r.commissioner.as_deref()),
        };
        match who {
            Some(_) if same(who) => referrals.push((r, case)),
            Some(_) => {}
            None => unassigned.push(Unassigned {
                referral: Some(r.id),
                case: case.map(|c| c.id),
                received_or_opened: r.received_on,
            }),
        }
    }
    // Cases with no authority at some time they were open in the period (and not listed
    // already through their referral).
    let listed: std::collections::BTreeSet<CaseId> =
        unassigned.iter().filter_map(|u| u.case).collect();
    for c in &facts.cases {
        if c.open_during(from, to)
            && c.commissioners_during(from.max(c.opened_on), to)
                .iter()
                .any(Option::is_none)
            && !listed.contains(&c.id)
        {
            unassigned.push(Unassigned {
                referral: None,
                case: Some(c.id),
                received_or_opened: c.opened_on,
            });
        }
    }

    let mut out = Tables {
        threshold,
        tables: BTreeMap::new(),
        exact: BTreeMap::new(),
        behind: BTreeMap::new(),
    };

    // Referrals.
    let mut source = Tally::default();
    let mut section = Tally::default();
    let mut eligibility = Tally::default();
    let mut why_not = Tally::default();
    let mut repeat = Tally::default();
    let mut hospital = Tally::default();
    let mut ward = Tally::default();
    let mut out_of_area = Tally::default();
    let unknown = PersonFacts::default();
    let mut referrals_of: BTreeMap<ClientId, Vec<(NaiveDate, ReferralId)>> = BTreeMap::new();
    for r in &facts.referrals {
        referrals_of
            .entry(r.client)
            .or_default()
            .push((r.received_on, r.id));
    }
    for (r, case) in &referrals {
        let c = case.map(|c| c.id);
        let status = r.status.map_or("none", |s| s.code());
        source.bump(r.source.code(), c);
        section.bump(status, c);
        eligibility.bump(
            match r.eligible {
                Some(true) => "eligible",
                Some(false) => "not eligible",
                None => "not recorded",
            },
            c,
        );
        if r.eligible == Some(false) {
            // Why not, without the advocate's own words: the status that did not qualify, or
            // that the advocate decided.
            why_not.bump(
                if r.decided_by_rules {
                    status
                } else {
                    "advocate's assessment"
                },
                c,
            );
        }
        let year_before = r
            .received_on
            .checked_sub_months(chrono::Months::new(12))
            .unwrap_or(NaiveDate::MIN);
        // Another referral for the person in the 12 months before (or earlier the same day).
        let is_repeat = referrals_of.get(&r.client).is_some_and(|theirs| {
            theirs.iter().any(|&(on, id)| {
                id != r.id
                    && on >= year_before
                    && (on < r.received_on || (on == r.received_on && id < r.id))
            })
        });
        repeat.bump(if is_repeat { "repeat" } else { "first" }, c);
        // Hospital and ward names as recorded (trimmed): names of places, not anyone's words.
        let p = facts.people.get(&r.client).unwrap_or(&unknown);
        let h = named(p.hospital.as_deref()).unwrap_or("not recorded");
        hospital.bump(h, c);
        ward.bump(
            match named(p.ward.as_deref()) {
                Some(w) => format!("{h} / {w}"),
                None => format!("{h} / not recorded"),
            },
            c,
        );
        out_of_area.bump(
            match r.out_of_area {
                Some(true) => "out of area",
                Some(false) => "in area",
                None => "not recorded",
            },
            c,
        );
    }
    let eligible = referrals
        .iter()
        .filter(|(r, _)| r.eligible == Some(true))
        .count() as u64;
    let referral_cases: Vec<CaseId> = referrals
        .iter()
        .filter_map(|(_, c)| c.map(|c| c.id))
        .collect();
    out.measure_cases("referrals_received", referral_cases.iter().copied());
    let mut tally_eligible = eligibility
        .cases
        .get("eligible")
        .cloned()
        .unwrap_or_default();
    out.measure_cases("referrals_eligible", tally_eligible.drain(..));
    out.add("referral_source", source, false);
    out.add("section_at_referral", section, false);
    out.add("eligibility", eligibility, false);
    out.add("not_eligible_why", why_not, false);
    out.add("repeat_referrals", repeat, false);
    out.add("hospital", hospital, true);
    out.add("hospital_ward", ward, true);
    out.add("out_of_area", out_of_area, false);

    // Timeliness: from the day received to the first private interview or contact on the case
    // opened from the referral.
    let mut first_contact: BTreeMap<CaseId, NaiveDate> = BTreeMap::new();
    for a in facts.activities.iter().filter(|a| {
        matches!(
            a.kind,
            ActivityKindCode::PrivateInterview | ActivityKindCode::Contact
        )
    }) {
        first_contact
            .entry(a.case)
            .and_modify(|d| *d = (*d).min(a.on))
            .or_insert(a.on);
    }
    let mut days: Vec<u32> = Vec::new();
    let (mut within2, mut within5, mut counted) = (0u64, 0u64, 0u64);
    let mut missed_target = Vec::new();
    for (r, case) in &referrals {
        let Some(case) = case else {
            continue;
        };
        counted += 1;
        let contact = first_contact.get(&case.id).copied();
        let wd = contact.map(|c| {
            if c <= r.received_on {
                0
            } else {
                working_days_between(cal, r.received_on, c)
            }
        });
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
    out.measure_cases(
        "first_contact_within_5_working_days_pct",
        missed_target.iter().map(|m| m.case),
    );

    // Caseload: each case counted for the commissioner responsible on the day that matters.
    let open_at_start: Vec<CaseId> = ever_mine
        .iter()
        .filter(|c| {
            let eve = from.pred_opt().unwrap_or(from);
            c.open_at_end_of(eve) && mine_on(c, from)
        })
        .map(|c| c.id)
        .collect();
    let opened: Vec<CaseId> = ever_mine
        .iter()
        .filter(|c| in_period(c.opened_on) && mine_on(c, c.opened_on))
        .map(|c| c.id)
        .collect();
    let mut closing_reason = Tally::default();
    let mut involvement = Tally::default();
    let mut involved_days: Vec<u32> = Vec::new();
    let mut closed = 0u64;
    let mut closed_cases = Vec::new();
    for c in &ever_mine {
        for (on, why) in c.closings() {
            if in_period(on) && mine_on(c, on) {
                closed += 1;
                closed_cases.push(c.id);
                closing_reason.bump(why.code(), Some(c.id));
                let d = c.days_involved(on);
                involvement.bump(involvement_band(d), Some(c.id));
                involved_days.push(u32::try_from(d.max(0)).unwrap_or(u32::MAX));
            }
        }
    }
    involved_days.sort_unstable();
    let open_at_end: Vec<CaseId> = ever_mine
        .iter()
        .filter(|c| c.open_at_end_of(to) && mine_on(c, to))
        .map(|c| c.id)
        .collect();
    // Supported: open on some day of the period while the commissioner's.
    let supported: Vec<&CaseFacts> = ever_mine
        .iter()
        .copied()
        .filter(|c| {
            c.open_during(from, to)
                && c.commissioners_during(from.max(c.opened_on), to)
                    .into_iter()
                    .any(same)
        })
        .collect();
    let mut instruction = Tally::default();
    for c in &supported {
        instruction.bump(
            if c.non_instructed {
                "non-instructed"
            } else {
                "instructed"
            },
            Some(c.id),
        );
    }
    let non_instructed = supported.iter().filter(|c| c.non_instructed).count() as u64;
    out.measure_cases("cases_open_at_start", open_at_start.iter().copied());
    out.measure_cases("cases_opened", opened.iter().copied());
    out.measure_cases("cases_closed", closed_cases);
    out.measure_cases("cases_open_at_end", open_at_end.iter().copied());
    out.measure_cases(
        "non_instructed_cases",
        supported.iter().filter(|c| c.non_instructed).map(|c| c.id),
    );
    out.add("closing_reason", closing_reason, false);
    out.add("length_of_involvement", involvement, false);
    out.add("instruction", instruction, false);

    // Work done: each activity counted for the commissioner responsible on its day.
    let mut activity_kind = Tally::default();
    let mut basis = Tally::default();
    let mut concern = Tally::default();
    let mut minutes = 0u64;
    let (mut tribunals, mut hearings, mut rounds, mut concerns, mut late) =
        (0u64, 0u64, 0u64, 0u64, 0u64);
    let mut behind: BTreeMap<&str, Vec<CaseId>> = BTreeMap::new();
    for a in facts
        .activities
        .iter()
        .filter(|a| in_period(a.on) && cases.get(&a.case).is_some_and(|c| mine_on(c, a.on)))
    {
        let c = Some(a.case);
        activity_kind.bump(a.kind.code(), c);
        minutes += u64::from(a.minutes.unwrap_or(0));
        match a.kind {
            ActivityKindCode::Tribunal => tribunals += 1,
            ActivityKindCode::ManagersHearing => hearings += 1,
            ActivityKindCode::WardRound | ActivityKindCode::CpaReview => {
                rounds += 1;
                behind
                    .entry("ward_rounds_and_cpa_attended")
                    .or_default()
                    .push(a.case);
            }
            ActivityKindCode::RecordsRequest => {
                basis.bump(a.records_basis.as_deref().unwrap_or("not recorded"), c)
            }
            ActivityKindCode::Concern => {
                concerns += 1;
                let f = a.concern.unwrap_or(ConcernFacts {
                    response_due: None,
                    answered_on: None,
                });
                let state = match (f.response_due, f.answered_on) {
                    (None, Some(_)) => "answered, no date was due",
                    (None, None) => "not answered, no date due",
                    (Some(due), Some(on)) if on <= due => "answered in time",
                    (Some(_), Some(_)) => "answered late",
                    (Some(due), None) if due < to => "not answered, overdue",
                    (Some(_), None) => "not answered, not yet due",
                };
                if matches!(state, "answered late" | "not answered, overdue") {
                    late += 1;
                    behind
                        .entry("concerns_answered_late")
                        .or_default()
                        .push(a.case);
                }
                concern.bump(state, c);
            }
            _ => {}
        }
    }
    for (k, v) in behind {
        out.measure_cases(k, v);
    }
    for (key, kind) in [
        ("tribunals_supported", "tribunal"),
        ("managers_hearings_supported", "managers-hearing"),
        ("concerns_raised", "concern"),
    ] {
        let v = activity_kind.cases.get(kind).cloned().unwrap_or_default();
        out.measure_cases(key, v);
    }
    out.add("activity_kind", activity_kind, false);
    out.add("records_basis", basis, false);
    out.add("concern_response", concern, false);

    // Issues: raised on the commissioner's cases in the period, and outcomes dated in it.
    let mut issue_category = Tally::default();
    let mut issue_outcome = Tally::default();
    for i in &facts.issues {
        let Some(case) = cases.get(&i.case) else {
            continue;
        };
        let c = Some(i.case);
        if in_period(i.opened_on) && mine_on(case, i.opened_on) {
            issue_category.bump(i.category.code(), c);
            if i.outcome.is_none_or(|(on, _)| on > to) {
                issue_outcome.bump("open", c);
            }
        }
        if let Some((on, kind)) = i.outcome
            && in_period(on)
            && mine_on(case, on)
        {
            issue_outcome.bump(outcome_group(kind), c);
        }
    }
    out.add("issue_category", issue_category, false);
    out.add("issue_outcome", issue_outcome, false);

    // Equality: the people referred in the period, each once, as at their first referral in
    // it; and the people supported (a case open in the period), as at its first day.
    let mut referred: BTreeMap<ClientId, (NaiveDate, Option<CaseId>)> = BTreeMap::new();
    for (r, case) in &referrals {
        let e = referred
            .entry(r.client)
            .or_insert((r.received_on, case.map(|c| c.id)));
        if r.received_on < e.0 {
            *e = (r.received_on, case.map(|c| c.id).or(e.1));
        }
    }
    equality(&mut out, facts, &REFERRED, &referred);
    let mut people_supported: BTreeMap<ClientId, (NaiveDate, Option<CaseId>)> = BTreeMap::new();
    for c in &supported {
        let on = from.max(c.opened_on);
        let e = people_supported.entry(c.client).or_insert((on, Some(c.id)));
        if on < e.0 {
            *e = (on, Some(c.id));
        }
    }
    equality(&mut out, facts, &SUPPORTED, &people_supported);

    // Tables that break down another's cell: the reasons for "not eligible", the responses to
    // the concerns and the bases of the records requests counted among the activities, the
    // wards of each hospital.
    out.link("eligibility", "not_eligible_why", |p, _| {
        p == "not eligible"
    });
    out.link("activity_kind", "concern_response", |p, _| p == "concern");
    out.link("activity_kind", "records_basis", |p, _| {
        p == "records-request"
    });
    out.link("hospital", "hospital_ward", |p, k| {
        k.strip_prefix(p)
            .is_some_and(|rest| rest.starts_with(" / "))
    });

    let star = || serde_json::to_value(Cell::Suppressed).unwrap_or_default();
    let n = |v: u64| serde_json::to_value(suppress_count(v, threshold)).unwrap_or_default();
    // The first-contact shares are over the referrals that led to a case: published, unless
    // it or the referrals that led to none (the received less it) is a small number. A share
    // is published only over a published denominator, and gives both its part and the rest
    // away, so neither may be small.
    let no_case = (referrals.len() as u64).saturating_sub(counted);
    let timed_shown = threshold == 0
        || (!(1..=threshold).contains(&counted) && !(1..=threshold).contains(&no_case));
    let rate = |part: u64, of: u64| -> serde_json::Value {
        if of == 0 {
            return serde_json::Value::Null;
        }
        if !timed_shown || !share_allowed(part, of, threshold) {
            return star();
        }
        let pct = (part as f64) * 100.0 / (of as f64);
        serde_json::json!((pct * 10.0).round() / 10.0)
    };
    // A median or percentile over nobody is not a number: null (nothing is hidden).
    let stat = |v: Option<f64>, people: usize| -> serde_json::Value {
        match v {
            None => serde_json::Value::Null,
            Some(v) if rate_allowed(people as u64, threshold) => serde_json::json!(v),
            _ => star(),
        }
    };

    // A headline that is one cell of a table is published as that cell, so a starred cell is
    // never given away by its headline.
    let tables = &out.tables;
    let cell = |table: &str, key: &str, exact: u64| -> serde_json::Value {
        match tables.get(table).and_then(|t| t.get(key)) {
            Some(Cell::Suppressed) => star(),
            _ => n(exact),
        }
    };
    let mut measures = BTreeMap::new();
    measures.insert("referrals_received", n(referrals.len() as u64));
    measures.insert(
        "referrals_eligible",
        cell("eligibility", "eligible", eligible),
    );
    // Open at the start + opened - closed = open at the end: one starred alone would be the
    // sum of the others. The number closed is never starred for this (its tables, by reason
    // and by length, add up to it).
    let caseload = suppress_linked(
        &[
            ("cases_open_at_start", open_at_start.len() as u64),
            ("cases_opened", opened.len() as u64),
            ("cases_closed", closed),
            ("cases_open_at_end", open_at_end.len() as u64),
        ],
        threshold,
        |k| k != "cases_closed",
    );
    for (k, c) in caseload {
        measures.insert(k, serde_json::to_value(c).unwrap_or_default());
    }
    measures.insert(
        "non_instructed_cases",
        cell("instruction", "non-instructed", non_instructed),
    );
    measures.insert(
        "involvement_median_days",
        stat(
            median(&involved_days).map(|m| m.round()),
            involved_days.len(),
        ),
    );
    measures.insert(
        "first_contact_referrals",
        if timed_shown { n(counted) } else { star() },
    );
    measures.insert(
        "first_contact_median_working_days",
        stat(median(&days), days.len()),
    );
    measures.insert(
        "first_contact_90th_percentile_working_days",
        stat(percentile(&days, 90).map(f64::from), days.len()),
    );
    measures.insert(
        "first_contact_within_2_working_days_pct",
        rate(within2, counted),
    );
    measures.insert(
        "first_contact_within_5_working_days_pct",
        rate(within5, counted),
    );
    measures.insert(
        "tribunals_supported",
        cell("activity_kind", "tribunal", tribunals),
    );
    measures.insert(
        "managers_hearings_supported",
        cell("activity_kind", "managers-hearing", hearings),
    );
    let rounds_starred = [ActivityKindCode::WardRound, ActivityKindCode::CpaReview]
        .iter()
        .any(|k| tables["activity_kind"].get(k.code()) == Some(&Cell::Suppressed));
    measures.insert(
        "ward_rounds_and_cpa_attended",
        if rounds_starred { star() } else { n(rounds) },
    );
    measures.insert(
        "concerns_raised",
        cell("activity_kind", "concern", concerns),
    );
    let late_starred = ["answered late", "not answered, overdue"]
        .iter()
        .any(|k| tables["concern_response"].get(*k) == Some(&Cell::Suppressed));
    measures.insert(
        "concerns_answered_late",
        if late_starred { star() } else { n(late) },
    );
    measures.insert(
        "advocacy_hours",
        serde_json::json!(((minutes as f64) / 6.0).round() / 10.0),
    );

    // The commissioner's name as recorded on its cases (the search ignores case and the spaces
    // around it); where cases spell it differently, the same one every time.
    let name = ever_mine
        .iter()
        .flat_map(|c| {
            std::iter::once(named(c.commissioner.as_deref())).chain(
                c.moves
                    .iter()
                    .flat_map(|m| [named(m.before.as_deref()), named(m.after.as_deref())]),
            )
        })
        .flatten()
        .filter(|s| same(Some(s)))
        .min()
        .unwrap_or(wanted)
        .to_owned();
    let referral_only = facts
        .referrals
        .iter()
        .filter(|r| !case_of_referral.contains_key(&r.id) && same(named(r.commissioner.as_deref())))
        .count();
    Return {
        commissioner: name,
        from,
        to,
        measures,
        tables: out.tables,
        suppression_threshold: threshold,
        targets: BTreeMap::new(),
        reference: BTreeMap::new(),
        matched_cases: ever_mine.len() + referral_only,
        unassigned,
        missed_target,
        cases_behind: out.behind,
    }
}

#[cfg(test)]
mod tests;
