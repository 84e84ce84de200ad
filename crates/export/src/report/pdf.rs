//! `return.pdf`: the return for people to read, typeset by `templates/return.typ` in the same
//! typst world as every other document (fonts compiled in, tagged PDF/A-2a). The numbers are
//! the released ones, worded as in the CSVs; this module only adds titles, definitions,
//! readable labels for codes and the length of each bar.

use super::{in_reading_order, suppression, value_text};
use crate::{ExportError, Result};
use chrono::{Datelike, NaiveDate};
use serde::Serialize;
use typst::foundations::Datetime;
use wardside_domain::activity::ActivityKindCode;
use wardside_domain::case::{ClosureReason, IssueCategory, ReferralSource};
use wardside_domain::client::EthnicCategory;
use wardside_domain::legal::StatusCode;
use wardside_domain::report::Return;
use wardside_domain::report::suppress::Cell;

const TEMPLATE: &str = include_str!("../../templates/return.typ");

/// What `templates/return.typ` is given, as `/data.json`.
#[derive(Debug, Serialize)]
struct ReturnDoc {
    title: String,
    commissioner: String,
    period: String,
    /// The period's last day: the PDF's date, so the same data gives the same file.
    date: (i32, u32, u32),
    /// Threshold 0: the manager's own view, marked on every page.
    exact: bool,
    /// "Suppressed: counts of 1 to 7 shown as *", or the exact view's warning: on every page.
    suppression: String,
    /// What the cover says about small numbers, beside the period.
    small_numbers: String,
    /// The cover's explanation (or warning).
    note: String,
    measures: Vec<MeasureRow>,
    /// The contract's targets beside what was achieved (none without a contract).
    targets: Vec<TargetRow>,
    tables: Vec<TableDoc>,
}

#[derive(Debug, Serialize)]
struct TargetRow {
    title: &'static str,
    target: String,
    value: String,
    met: &'static str,
}

#[derive(Debug, Serialize)]
struct MeasureRow {
    key: &'static str,
    title: &'static str,
    definition: &'static str,
    value: String,
}

#[derive(Debug, Serialize)]
struct TableDoc {
    key: &'static str,
    title: &'static str,
    definition: &'static str,
    /// Whether any code has a label (a column of its own).
    labelled: bool,
    /// Whether the organisation's table of people detained is beside it (a column of its own).
    reference: bool,
    rows: Vec<Row>,
}

#[derive(Debug, Serialize)]
struct Row {
    code: String,
    label: Option<&'static str>,
    count: String,
    /// The bar's length as a share of the longest (a count shown): none for a suppressed cell,
    /// so no bar gives its number away, and none for 0.
    bar: Option<f64>,
    /// The people detained in the area with this code, from the reference table.
    detained: Option<String>,
}

/// The plain-English label of a table's code where the code is one of the domain's
/// (`ward-staff`, `s3`, `99`); none where the code is already words.
fn label(table: &str, code: &str) -> Option<&'static str> {
    match table {
        "referral_source" => code.parse::<ReferralSource>().ok().map(|c| c.label()),
        "section_at_referral" => code.parse::<StatusCode>().ok().map(|c| c.label()),
        "closing_reason" => code.parse::<ClosureReason>().ok().map(|c| c.label()),
        "activity_kind" => code.parse::<ActivityKindCode>().ok().map(|c| c.label()),
        "issue_category" => code.parse::<IssueCategory>().ok().map(|c| c.label()),
        "ethnic_category" => code.parse::<EthnicCategory>().ok().map(|c| c.label()),
        _ => None,
    }
}

fn long_date(d: NaiveDate) -> String {
    d.format("%-d %B %Y").to_string()
}

fn document(r: &Return) -> ReturnDoc {
    let period = format!("{} to {}", long_date(r.from), long_date(r.to));
    let measures = in_reading_order(r.measures.keys().copied())
        .into_iter()
        .map(|m| MeasureRow {
            key: m.key,
            title: m.title,
            definition: m.definition,
            value: match r.measures.get(m.key).map(value_text) {
                Some(v) if !v.is_empty() => v,
                _ => "none".to_string(),
            },
        })
        .collect();
    let tables = in_reading_order(r.tables.keys().copied())
        .into_iter()
        .map(|m| {
            let mut cells = r.tables[m.key].clone();
            let reference = r.reference.get(m.key.trim_start_matches("supported_"));
            // A code the people detained have and the service reached no one with: 0.
            for code in reference.into_iter().flat_map(|t| t.keys()) {
                cells.entry(code.clone()).or_insert(Cell::Count(0));
            }
            let longest = cells
                .values()
                .filter_map(|c| match c {
                    Cell::Count(n) => Some(*n),
                    Cell::Suppressed => None,
                })
                .max()
                .unwrap_or(0);
            let rows: Vec<Row> = cells
                .iter()
                .map(|(code, cell)| Row {
                    code: code.clone(),
                    label: label(m.key, code),
                    count: cell.text(),
                    bar: match cell {
                        Cell::Count(n) if *n > 0 && longest > 0 => Some(*n as f64 / longest as f64),
                        _ => None,
                    },
                    detained: reference
                        .map(|t| t.get(code).map_or_else(|| "0".to_string(), u64::to_string)),
                })
                .collect();
            TableDoc {
                key: m.key,
                title: m.title,
                definition: m.definition,
                labelled: rows.iter().any(|r| r.label.is_some()),
                reference: reference.is_some(),
                rows,
            }
        })
        .collect();
    ReturnDoc {
        title: format!("Commissioner’s return: {}, {period}", r.commissioner),
        commissioner: r.commissioner.clone(),
        period,
        date: (r.to.year(), r.to.month(), r.to.day()),
        exact: r.suppression_threshold == 0,
        suppression: if r.suppression_threshold == 0 {
            "EXACT NUMBERS — NOT FOR RELEASE".to_string()
        } else {
            format!("Suppressed: {}", suppression(r).replace('"', ""))
        },
        small_numbers: if r.suppression_threshold == 0 {
            "Not suppressed: every count is exact".to_string()
        } else {
            format!("Suppressed: {}", suppression(r).replace('"', ""))
        },
        note: if r.suppression_threshold == 0 {
            "Every count is exact, small ones included. This is the service’s own view: do not \
             send it to the commissioner or to anyone outside the service."
                .to_string()
        } else {
            format!(
                "A count from 1 to {n} could identify a person, so it is shown as * and drawn \
                 without a bar; so is the next smallest count of its table while the starred ones \
                 could be worked out from the total. Zero is shown. A rate or median over fewer \
                 than {m} people is withheld (*), and answers in people’s own words that {n} or \
                 fewer share are counted as “other”.",
                n = r.suppression_threshold,
                m = r.suppression_threshold + 1,
            )
        },
        measures,
        targets: in_reading_order(r.targets.keys().copied())
            .into_iter()
            .map(|m| {
                let t = &r.targets[m.key];
                TargetRow {
                    title: m.title,
                    target: t.target.describe(),
                    value: value_text(&t.actual),
                    met: match t.met {
                        Some(true) => "Met",
                        Some(false) => "Not met",
                        None => "Not known (withheld)",
                    },
                }
            })
            .collect(),
        tables,
    }
}

/// The return as a tagged PDF/A-2a file.
pub fn return_pdf(r: &Return) -> Result<Vec<u8>> {
    let doc = document(r);
    let today = Datetime::from_ymd(
        doc.date.0,
        u8::try_from(doc.date.1).unwrap_or(1),
        u8::try_from(doc.date.2).unwrap_or(1),
    )
    .ok_or_else(|| ExportError::Typeset("the period's end is not a date".into()))?;
    let data = serde_json::to_vec(&doc)?;
    crate::typeset(&crate::world::DocWorld::with_template(
        "/return.typ",
        TEMPLATE,
        data,
        today,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domain_codes_have_labels_and_words_stay_as_they_are() {
        assert_eq!(
            label("referral_source", "self"),
            Some("The person themselves")
        );
        assert_eq!(label("ethnic_category", "99"), Some("Not known"));
        assert_eq!(label("ethnic_category", "other"), None);
        assert_eq!(label("gender", "woman"), None);
    }

    #[test]
    fn a_suppressed_cell_has_no_bar_and_bars_are_scaled_to_the_longest_shown() {
        let day = |s: &str| s.parse::<NaiveDate>().unwrap_or_default();
        let mut r = wardside_domain::report::compute(
            &wardside_domain::report::Facts::default(),
            "Northshire County Council",
            day("2026-07-01"),
            day("2026-09-30"),
            &wardside_domain::rules::period::OfficeCalendar::default(),
            7,
        );
        r.tables.insert(
            "referral_source",
            [
                ("self", Cell::Suppressed),
                ("solicitor", Cell::Count(0)),
                ("ward-staff", Cell::Count(40)),
                ("amhp", Cell::Count(10)),
            ]
            .into_iter()
            .map(|(k, c)| (k.to_string(), c))
            .collect(),
        );
        let doc = document(&r);
        let t = doc
            .tables
            .iter()
            .find(|t| t.key == "referral_source")
            .map(|t| &t.rows);
        let bars: Vec<(&str, &str, Option<f64>)> = t
            .into_iter()
            .flatten()
            .map(|r| (r.code.as_str(), r.count.as_str(), r.bar))
            .collect();
        assert_eq!(
            bars,
            [
                ("amhp", "10", Some(0.25)),
                ("self", "*", None),
                ("solicitor", "0", None),
                ("ward-staff", "40", Some(1.0)),
            ]
        );
        assert_eq!(doc.suppression, "Suppressed: counts of 1 to 7 shown as *");
    }
}
