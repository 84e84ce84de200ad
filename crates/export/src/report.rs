//! A commissioner's return as files: `return.pdf` (typeset like every other document, for
//! people to read), `return.xlsx` (one workbook: the measures and a sheet per table),
//! `return.json` (the machine-readable shape the issue fixes) and one CSV per table plus
//! `measures.csv`. All come from the same suppressed numbers and are byte-identical for the
//! same data: no timestamps, keys in code order (the PDF and the workbook in the order of
//! [`MEASURES`], as people read them).

mod pdf;
mod xlsx;

use crate::{ExportError, Overwrite, Result, write_output};
use chrono::NaiveDate;
use std::path::{Path, PathBuf};
use wardside_domain::report::{MEASURES, Measure, Return};
use wardside_domain::rules::Rules;
use wardside_store::Store;
use wardside_store::report::ReportAudit;

pub use pdf::return_pdf;
pub use xlsx::return_xlsx;

/// The formats a return can be written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ReturnFormat {
    Pdf,
    Csv,
    Xlsx,
    Json,
}

impl ReturnFormat {
    /// As typed on the command line and kept in the audit log.
    pub fn code(self) -> &'static str {
        match self {
            ReturnFormat::Pdf => "pdf",
            ReturnFormat::Csv => "csv",
            ReturnFormat::Xlsx => "xlsx",
            ReturnFormat::Json => "json",
        }
    }

    /// Every format, as the command line's default lists them.
    pub const ALL: [ReturnFormat; 4] = [
        ReturnFormat::Pdf,
        ReturnFormat::Csv,
        ReturnFormat::Xlsx,
        ReturnFormat::Json,
    ];
}

impl std::str::FromStr for ReturnFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim() {
            "pdf" => Ok(ReturnFormat::Pdf),
            "csv" => Ok(ReturnFormat::Csv),
            "xlsx" => Ok(ReturnFormat::Xlsx),
            "json" => Ok(ReturnFormat::Json),
            other => Err(format!(
                "unknown format '{other}'; use pdf, csv, xlsx or json (several with commas)"
            )),
        }
    }
}

/// How the return says what was suppressed (the JSON's `suppression`, the PDF's and the
/// workbook's wording).
fn suppression(r: &Return) -> String {
    if r.suppression_threshold == 0 {
        "none: exact numbers, not for release".to_string()
    } else {
        format!("counts of 1 to {} shown as \"*\"", r.suppression_threshold)
    }
}

/// A measure's value as the CSV, the PDF and the workbook's text show it: a number as JSON
/// writes it, "*" for a suppressed one.
fn value_text(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        // A median over nobody: nothing to show (the PDF says "none").
        serde_json::Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// The keys of `present` in the order of [`MEASURES`] (the order people read the return in),
/// each with its title and definition; a key without one (there is none today) follows, titled
/// with its key.
fn in_reading_order(present: impl Iterator<Item = &'static str>) -> Vec<Measure> {
    let present: Vec<&'static str> = present.collect();
    let defined = MEASURES
        .iter()
        .filter(|m| present.contains(&m.key))
        .copied();
    let undefined = present
        .iter()
        .filter(|k| !MEASURES.iter().any(|m| m.key == **k))
        .map(|&key| Measure {
            key,
            title: key,
            definition: "",
        });
    defined.chain(undefined).collect()
}

/// The released JSON: suppression applied, nothing but numbers and codes.
pub fn return_json(r: &Return) -> Result<Vec<u8>> {
    let mut bytes = serde_json::to_vec_pretty(&serde_json::json!({
        "commissioner": r.commissioner,
        "from": r.from,
        "to": r.to,
        "suppression": suppression(r),
        "measures": r.measures,
        "tables": r.tables,
    }))?;
    // The contract's targets and the reference table, when there are any (a return with no
    // contract keeps the shape above exactly).
    if !r.targets.is_empty() || !r.reference.is_empty() {
        let mut v: serde_json::Value = serde_json::from_slice(&bytes)?;
        if !r.targets.is_empty() {
            v["targets"] = serde_json::to_value(&r.targets)?;
        }
        if !r.reference.is_empty() {
            v["reference"] = serde_json::to_value(&r.reference)?;
        }
        bytes = serde_json::to_vec_pretty(&v)?;
    }
    bytes.push(b'\n');
    Ok(bytes)
}

fn csv_bytes(header: [&str; 2], rows: impl Iterator<Item = (String, String)>) -> Result<Vec<u8>> {
    csv_rows(&header, rows.map(|(k, v)| vec![k, v]))
}

fn csv_rows(header: &[&str], rows: impl Iterator<Item = Vec<String>>) -> Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let fail = |e: csv::Error| ExportError::Typeset(format!("CSV: {e}"));
    w.write_record(header).map_err(fail)?;
    for row in rows {
        w.write_record(row).map_err(fail)?;
    }
    w.into_inner()
        .map_err(|e| ExportError::Typeset(format!("CSV: {e}")))
}

/// A contract's targets as rows: measure, target, the value published, met or not.
fn target_rows(r: &Return) -> Vec<Vec<String>> {
    in_reading_order(r.targets.keys().copied())
        .into_iter()
        .map(|m| {
            let t = &r.targets[m.key];
            vec![
                m.key.to_string(),
                t.target.describe(),
                value_text(&t.actual),
                match t.met {
                    Some(true) => "met",
                    Some(false) => "not met",
                    None => "not known",
                }
                .to_string(),
            ]
        })
        .collect()
}

/// The reference table of people detained as rows: table, code, people.
fn reference_rows(r: &Return) -> Vec<Vec<String>> {
    r.reference
        .iter()
        .flat_map(|(t, codes)| {
            codes
                .iter()
                .map(move |(c, n)| vec![t.clone(), c.clone(), n.to_string()])
        })
        .collect()
}

/// `measures.csv` and one `<table>.csv` per table, each with its file name; with a contract,
/// `targets.csv` and `reference_detained.csv` too.
pub fn return_csvs(r: &Return) -> Result<Vec<(String, Vec<u8>)>> {
    let mut out = Vec::new();
    out.push((
        "measures.csv".to_string(),
        csv_bytes(
            ["measure", "value"],
            r.measures
                .iter()
                .map(|(k, v)| (k.to_string(), value_text(v))),
        )?,
    ));
    for (name, table) in &r.tables {
        out.push((
            format!("{name}.csv"),
            csv_bytes(
                ["code", "count"],
                table.iter().map(|(k, c)| (k.clone(), c.text())),
            )?,
        ));
    }
    if !r.targets.is_empty() {
        out.push((
            "targets.csv".to_string(),
            csv_rows(
                &["measure", "target", "value", "result"],
                target_rows(r).into_iter(),
            )?,
        ));
    }
    if !r.reference.is_empty() {
        out.push((
            "reference_detained.csv".to_string(),
            csv_rows(
                &["table", "code", "people_detained"],
                reference_rows(r).into_iter(),
            )?,
        ));
    }
    Ok(out)
}

/// The definitions, as `wardside report measures` prints them.
pub fn definitions() -> String {
    let mut s = String::new();
    for m in MEASURES {
        s.push_str(&format!("{} ({})\n  {}\n", m.title, m.key, m.definition));
    }
    s
}

/// Write the return into `dir` (made private if new) in each format; returns the files written.
/// Nothing is written over an existing file unless `overwrite` says so.
pub fn write_return(
    dir: &Path,
    r: &Return,
    formats: &[ReturnFormat],
    overwrite: Overwrite,
) -> Result<Vec<PathBuf>> {
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    if formats.contains(&ReturnFormat::Json) {
        files.push(("return.json".into(), return_json(r)?));
    }
    if formats.contains(&ReturnFormat::Csv) {
        files.extend(return_csvs(r)?);
    }
    if formats.contains(&ReturnFormat::Pdf) {
        files.push(("return.pdf".into(), return_pdf(r)?));
    }
    if formats.contains(&ReturnFormat::Xlsx) {
        files.push(("return.xlsx".into(), return_xlsx(r)?));
    }
    // Everything is checked before anything is written, so a refusal leaves nothing half done.
    // The folder itself is never a symbolic link: the files go where they were named.
    if std::fs::symlink_metadata(dir).is_ok_and(|m| m.file_type().is_symlink()) {
        return Err(ExportError::Symlink {
            path: dir.to_path_buf(),
        });
    }
    for (name, _) in &files {
        crate::file::check_target(&dir.join(name), overwrite)?;
    }
    let made_dir = !dir.exists();
    crate::file::create_private_dir(dir)?;
    let mut written = Vec::new();
    for (name, bytes) in files {
        let path = dir.join(name);
        if let Err(e) = write_output(&path, &bytes, overwrite) {
            // A full disk half way through: take back what this run wrote (a file it replaced
            // is gone either way), so no partial return is left to be sent.
            for p in &written {
                let _ = std::fs::remove_file(p);
            }
            if made_dir {
                let _ = std::fs::remove_dir(dir);
            }
            return Err(e);
        }
        written.push(path);
    }
    Ok(written)
}

/// A return written out for release.
#[derive(Debug)]
pub struct Released {
    pub ret: Return,
    pub files: Vec<PathBuf>,
    /// Returns released before for the same commissioner over overlapping periods: a number
    /// starred in one can be worked out by subtracting the other (docs/REPORTS.md).
    pub overlapping: Vec<ReportAudit>,
}

/// Release a return: computed from the store suppressed at `threshold`, written into `dir` in
/// each format, and audited (commissioner, period, formats, suppression) once the files are
/// there. The one path the CLI and the app export by.
#[allow(clippy::too_many_arguments)]
pub fn release_return(
    store: &mut Store,
    commissioner: &str,
    from: NaiveDate,
    to: NaiveDate,
    rules: &Rules,
    threshold: u64,
    formats: &[ReturnFormat],
    dir: &Path,
    overwrite: Overwrite,
) -> Result<Released> {
    let ret = store.commissioner_return(commissioner, from, to, rules, threshold)?;
    let overlapping = store.overlapping_releases(&ret.commissioner, from, to)?;
    let files = write_return(dir, &ret, formats, overwrite)?;
    store.audit_report(&ReportAudit {
        commissioner: ret.commissioner.clone(),
        from,
        to,
        formats: formats.iter().map(|f| f.code().to_owned()).collect(),
        threshold,
    })?;
    Ok(Released {
        ret,
        files,
        overlapping,
    })
}

/// A new folder for a return inside `parent`, named for the commissioner and the period
/// (`return-Northshire-County-Council-2026-07-01-to-2026-09-30`), with `-2`, `-3`, ... when
/// one is there already: the same return exported again goes beside the first, never over it.
pub fn new_return_folder(
    parent: &Path,
    commissioner: &str,
    from: NaiveDate,
    to: NaiveDate,
) -> PathBuf {
    let name = folder_name(commissioner, from, to);
    (1..)
        .map(|n| match n {
            1 => parent.join(&name),
            n => parent.join(format!("{name}-{n}")),
        })
        .find(|f| std::fs::symlink_metadata(f).is_err())
        .unwrap_or_else(|| parent.join(&name))
}

fn folder_name(commissioner: &str, from: NaiveDate, to: NaiveDate) -> String {
    let name: String = commissioner
        .trim()
        .chars()
        .map(|c| if c.is_alphanumeric() { c } else { '-' })
        .collect();
    let name = name
        .split('-')
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join("-");
    format!("return-{name}-{from}-to-{to}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_return_folder_is_named_for_the_commissioner_and_period() {
        let d = |s: &str| s.parse::<NaiveDate>().unwrap_or_default();
        assert_eq!(
            folder_name(
                " Northshire County Council ",
                d("2026-07-01"),
                d("2026-09-30")
            ),
            "return-Northshire-County-Council-2026-07-01-to-2026-09-30"
        );
        assert_eq!(
            folder_name("Bro Morgannwg / Cardiff", d("2026-04-01"), d("2027-03-31")),
            "return-Bro-Morgannwg-Cardiff-2026-04-01-to-2027-03-31"
        );
    }
}
