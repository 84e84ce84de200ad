//! A commissioner's contract: the periods it wants returns for (financial-year quarters unless
//! it says otherwise), the measures it asks for, and its targets.

use super::{MEASURES, Return};
use crate::ValidationError;
use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One reporting period, both days included.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Period {
    pub label: String,
    pub from: NaiveDate,
    pub to: NaiveDate,
}

/// A target on one headline measure.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Target {
    AtLeast(f64),
    AtMost(f64),
}

impl Target {
    pub fn met_by(self, value: f64) -> bool {
        match self {
            Target::AtLeast(t) => value >= t,
            Target::AtMost(t) => value <= t,
        }
    }

    /// "at least 90" / "at most 2".
    pub fn describe(self) -> String {
        match self {
            Target::AtLeast(t) => format!("at least {t}"),
            Target::AtMost(t) => format!("at most {t}"),
        }
    }
}

/// `KEY>=N` or `KEY<=N` (as typed on the command line); `KEY=` removes the key's target.
pub fn parse_target(spec: &str) -> Result<(String, Option<Target>), ValidationError> {
    let bad = || ValidationError::Invalid {
        field: "the target",
        reason: format!("'{spec}' is not KEY>=N, KEY<=N or KEY= (to remove it)"),
    };
    let (key, target) = if let Some((k, v)) = spec.split_once(">=") {
        (
            k,
            Some(Target::AtLeast(v.trim().parse().map_err(|_| bad())?)),
        )
    } else if let Some((k, v)) = spec.split_once("<=") {
        (
            k,
            Some(Target::AtMost(v.trim().parse().map_err(|_| bad())?)),
        )
    } else if let Some(k) = spec.trim().strip_suffix('=') {
        (k, None)
    } else {
        return Err(bad());
    };
    let key = key.trim();
    if key.is_empty() {
        return Err(bad());
    }
    Ok((key.to_owned(), target))
}

/// `LABEL=FROM..TO` with ISO dates.
pub fn parse_period(spec: &str) -> Result<Period, ValidationError> {
    let bad = || ValidationError::Invalid {
        field: "the period",
        reason: format!("'{spec}' is not LABEL=FROM..TO (dates as YYYY-MM-DD)"),
    };
    let (label, range) = spec.rsplit_once('=').ok_or_else(bad)?;
    let (from, to) = range.split_once("..").ok_or_else(bad)?;
    let p = Period {
        label: label.trim().to_owned(),
        from: from.trim().parse().map_err(|_| bad())?,
        to: to.trim().parse().map_err(|_| bad())?,
    };
    if p.label.is_empty() {
        return Err(bad());
    }
    Ok(p)
}

/// What a commissioner asks for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Contract {
    /// The responsible authority, as recorded on its cases.
    pub commissioner: String,
    /// Empty: financial-year quarters (April to March).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub periods: Vec<Period>,
    /// Keys of [`MEASURES`] the commissioner wants; empty: every one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub measures: Vec<String>,
    /// Targets on headline measures, by key.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub targets: BTreeMap<String, Target>,
    /// The people detained in the commissioner's area, by equality table and code (published
    /// figures the organisation loads), printed beside the tables of the people it reached.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub reference: BTreeMap<String, BTreeMap<String, u64>>,
}

/// A target beside what was achieved.
#[derive(Debug, Clone, Serialize)]
pub struct TargetCheck {
    pub target: Target,
    /// The measure as published (a number, or "*").
    pub actual: serde_json::Value,
    /// Not known when the measure is withheld.
    pub met: Option<bool>,
}

/// The financial year (April to March) a day falls in, by the year it starts.
pub fn financial_year_of(day: NaiveDate) -> i32 {
    if day.month() >= 4 {
        day.year()
    } else {
        day.year() - 1
    }
}

fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap_or(NaiveDate::MIN)
}

/// The four quarters and the whole of financial year `fy` (starting 1 April `fy`).
pub fn financial_year(fy: i32) -> Vec<Period> {
    let name = format!("{}-{:02}", fy, (fy + 1).rem_euclid(100));
    let q = |n: u32, from: NaiveDate, to: NaiveDate, months: &str| Period {
        label: format!("{name} Q{n} ({months})"),
        from,
        to,
    };
    vec![
        q(1, ymd(fy, 4, 1), ymd(fy, 6, 30), "Apr-Jun"),
        q(2, ymd(fy, 7, 1), ymd(fy, 9, 30), "Jul-Sep"),
        q(3, ymd(fy, 10, 1), ymd(fy, 12, 31), "Oct-Dec"),
        q(4, ymd(fy + 1, 1, 1), ymd(fy + 1, 3, 31), "Jan-Mar"),
        Period {
            label: format!("{name} (year)"),
            from: ymd(fy, 4, 1),
            to: ymd(fy + 1, 3, 31),
        },
    ]
}

impl Contract {
    /// A contract for every measure, by financial-year quarter, with no targets.
    pub fn default_for(commissioner: &str) -> Self {
        Contract {
            commissioner: commissioner.trim().to_owned(),
            periods: Vec::new(),
            measures: Vec::new(),
            targets: BTreeMap::new(),
            reference: BTreeMap::new(),
        }
    }

    /// The periods to choose from on `today`: the contract's own (latest first), then this
    /// financial year's quarters and last year's (latest first). A period not over by `today`
    /// says so in its label.
    pub fn periods_on(&self, today: NaiveDate) -> Vec<Period> {
        let latest_first = |v: &mut Vec<Period>| {
            v.sort_by(|a, b| b.from.cmp(&a.from).then(a.to.cmp(&b.to)));
        };
        let mut own = self.periods.clone();
        latest_first(&mut own);
        let fy = financial_year_of(today);
        let mut quarters = financial_year(fy - 1);
        quarters.extend(financial_year(fy));
        quarters
            .retain(|p| p.from <= today && !own.iter().any(|o| (o.from, o.to) == (p.from, p.to)));
        latest_first(&mut quarters);
        own.extend(quarters);
        for p in &mut own {
            if p.to >= today && p.from <= today {
                p.label = format!("{} (in progress)", p.label);
            }
        }
        own
    }

    /// The contract's own periods, or the financial-year quarters, ending most recently before
    /// `today` (else the latest started).
    pub fn last_complete(&self, today: NaiveDate) -> Option<Period> {
        let mut ps = self.periods_on(today);
        if !self.periods.is_empty() {
            ps.truncate(self.periods.len());
        }
        ps.iter()
            .filter(|p| p.to < today)
            .max_by_key(|p| (p.to, std::cmp::Reverse(p.from)))
            .or(ps.first())
            .cloned()
    }

    pub fn wants(&self, key: &str) -> bool {
        self.measures.is_empty() || self.measures.iter().any(|m| m == key)
    }

    pub fn validate(&self) -> Result<(), ValidationError> {
        crate::require_text(&self.commissioner, "the commissioner", "contract")?;
        let known = |k: &str| MEASURES.iter().any(|m| m.key == k);
        for p in &self.periods {
            crate::require_text(&p.label, "the period's name", "contract")?;
            if p.to < p.from {
                return Err(ValidationError::DatesOutOfOrder {
                    earlier: "the period's first day",
                    earlier_value: p.from.to_string(),
                    later: "its last day",
                    later_value: p.to.to_string(),
                });
            }
        }
        for k in self.measures.iter().chain(self.targets.keys()) {
            if !known(k) {
                return Err(ValidationError::Invalid {
                    field: "the measure",
                    reason: format!(
                        "'{k}' is not a measure; `wardside report measures` lists them"
                    ),
                });
            }
        }
        for table in self.reference.keys() {
            if !super::EQUALITY_TABLES.contains(&table.as_str()) {
                return Err(ValidationError::Invalid {
                    field: "the reference table",
                    reason: format!(
                        "'{table}' is not an equality table; use one of {}",
                        super::EQUALITY_TABLES.join(", ")
                    ),
                });
            }
        }
        for k in self.targets.keys() {
            if !super::is_headline(k) {
                return Err(ValidationError::Invalid {
                    field: "the target",
                    reason: format!(
                        "'{k}' is a table, not a single number; a target is set on a headline measure"
                    ),
                });
            }
            if !self.wants(k) {
                return Err(ValidationError::Invalid {
                    field: "the target",
                    reason: format!(
                        "'{k}' is not among the measures this contract asks for; add it, or remove the target"
                    ),
                });
            }
        }
        for (k, t) in &self.targets {
            let v = match t {
                Target::AtLeast(v) | Target::AtMost(v) => *v,
            };
            if !v.is_finite() || v < 0.0 || (k.ends_with("_pct") && v > 100.0) {
                return Err(ValidationError::Invalid {
                    field: "the target",
                    reason: format!("{v} is not a target '{k}' can have"),
                });
            }
        }
        Ok(())
    }

    /// Keep only what the commissioner asks for, and set its targets beside the measures.
    pub fn apply(&self, ret: &mut Return) {
        ret.measures.retain(|k, _| self.wants(k));
        ret.tables.retain(|k, _| self.wants(k));
        ret.reference = self
            .reference
            .iter()
            .filter(|(k, _)| self.wants(k) || self.wants(&format!("supported_{k}")))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        ret.targets = self
            .targets
            .iter()
            .filter_map(|(k, t)| {
                let m = MEASURES.iter().find(|m| m.key == k)?;
                let actual = ret.measures.get(m.key)?.clone();
                let met = actual.as_f64().map(|v| t.met_by(v));
                Some((
                    m.key,
                    TargetCheck {
                        target: *t,
                        actual,
                        met,
                    },
                ))
            })
            .collect();
    }
}

/// Read a reference table of the people detained: lines of `table,code,count` (a header line
/// naming those columns is allowed, blank lines are skipped). A bad line is refused with its
/// number, and nothing is taken from the file.
pub fn parse_reference(
    text: &str,
) -> Result<BTreeMap<String, BTreeMap<String, u64>>, ValidationError> {
    let mut out: BTreeMap<String, BTreeMap<String, u64>> = BTreeMap::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim().trim_start_matches('\u{feff}');
        if line.is_empty() || (i == 0 && line.eq_ignore_ascii_case("table,code,count")) {
            continue;
        }
        let bad = |why: String| ValidationError::Invalid {
            field: "the reference table",
            reason: format!("line {}: {why}", i + 1),
        };
        let cols: Vec<&str> = line.split(',').map(str::trim).collect();
        let [table, code, count] = cols[..] else {
            return Err(bad(format!(
                "expected table,code,count but found {} column(s)",
                cols.len()
            )));
        };
        if !super::EQUALITY_TABLES.contains(&table) {
            return Err(bad(format!(
                "'{table}' is not an equality table; use one of {}",
                super::EQUALITY_TABLES.join(", ")
            )));
        }
        if code.is_empty() {
            return Err(bad("the code is empty".into()));
        }
        let n: u64 = count
            .parse()
            .map_err(|_| bad(format!("'{count}' is not a whole number of people")))?;
        let code = if table == "ethnic_category" {
            code.to_uppercase()
        } else {
            code.to_lowercase()
        };
        if out
            .entry(table.to_owned())
            .or_default()
            .insert(code.clone(), n)
            .is_some()
        {
            return Err(bad(format!("{table} '{code}' is given twice")));
        }
    }
    if out.is_empty() {
        return Err(ValidationError::Invalid {
            field: "the reference table",
            reason: "it has no rows".into(),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reference_table_is_read_or_refused_with_the_line() {
        let r = parse_reference("table,code,count\nethnic_category,a,120\n\ngender,Woman,80\n")
            .unwrap();
        assert_eq!(r["ethnic_category"]["A"], 120);
        assert_eq!(r["gender"]["woman"], 80);
        for (text, says) in [
            ("ethnic_category,A\n", "line 1: expected"),
            ("ethnic_category,A,12\nreligion,x,many\n", "line 2: 'many'"),
            ("postcode,LS1,3\n", "'postcode' is not an equality table"),
            ("ethnic_category,A,1\nethnic_category,a,2\n", "given twice"),
            ("\n", "no rows"),
        ] {
            let err = parse_reference(text).unwrap_err().to_string();
            assert!(err.contains(says), "{text:?}: {err}");
        }
    }

    #[test]
    fn targets_and_periods_are_read_as_typed() {
        assert_eq!(
            parse_target("first_contact_within_5_working_days_pct>=90").unwrap(),
            (
                "first_contact_within_5_working_days_pct".to_string(),
                Some(Target::AtLeast(90.0))
            )
        );
        assert_eq!(
            parse_target(" x <= 2.5").unwrap(),
            ("x".to_string(), Some(Target::AtMost(2.5)))
        );
        assert_eq!(parse_target("x=").unwrap(), ("x".to_string(), None));
        for bad in ["x>90", ">=3", "x>=lots", "x"] {
            assert!(parse_target(bad).is_err(), "{bad}");
        }
        let p = parse_period("Q2 2026=2026-07-01..2026-09-30").unwrap();
        assert_eq!(
            (p.label.as_str(), p.to.to_string()),
            ("Q2 2026", "2026-09-30".into())
        );
        for bad in [
            "Q2",
            "=2026-07-01..2026-09-30",
            "Q=2026-07-01",
            "Q=2026-07-01..soon",
        ] {
            assert!(parse_period(bad).is_err(), "{bad}");
        }
    }
}
