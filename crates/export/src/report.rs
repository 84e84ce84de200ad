//! A commissioner's return as files: `return.json` (the machine-readable shape the issue fixes)
//! and one CSV per table plus `measures.csv`. Both come from the same suppressed numbers and are
//! byte-identical for the same data: keys in code order, no timestamps.

use crate::{ExportError, Overwrite, Result, write_output};
use std::path::{Path, PathBuf};
use wardside_domain::report::{MEASURES, Return};

/// The formats a return can be written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ReturnFormat {
    Json,
    Csv,
}

impl std::str::FromStr for ReturnFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim() {
            "json" => Ok(ReturnFormat::Json),
            "csv" => Ok(ReturnFormat::Csv),
            other => Err(format!("unknown format '{other}'; use json or csv")),
        }
    }
}

/// The released JSON: suppression applied, nothing but numbers and codes.
pub fn return_json(r: &Return) -> Result<Vec<u8>> {
    let mut bytes = serde_json::to_vec_pretty(&serde_json::json!({
        "commissioner": r.commissioner,
        "from": r.from,
        "to": r.to,
        "suppression": if r.suppression_threshold == 0 {
            "none: exact numbers, not for release".to_string()
        } else {
            format!("counts of 1 to {} shown as \"*\"", r.suppression_threshold)
        },
        "measures": r.measures,
        "tables": r.tables,
    }))?;
    bytes.push(b'\n');
    Ok(bytes)
}

fn csv_bytes(header: [&str; 2], rows: impl Iterator<Item = (String, String)>) -> Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let fail = |e: csv::Error| ExportError::Typeset(format!("CSV: {e}"));
    w.write_record(header).map_err(fail)?;
    for (k, v) in rows {
        w.write_record([k, v]).map_err(fail)?;
    }
    w.into_inner()
        .map_err(|e| ExportError::Typeset(format!("CSV: {e}")))
}

/// `measures.csv` and one `<table>.csv` per table, each with its file name.
pub fn return_csvs(r: &Return) -> Result<Vec<(String, Vec<u8>)>> {
    let mut out = Vec::new();
    let value = |v: &serde_json::Value| match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    out.push((
        "measures.csv".to_string(),
        csv_bytes(
            ["measure", "value"],
            r.measures.iter().map(|(k, v)| (k.to_string(), value(v))),
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
    crate::file::create_private_dir(dir)?;
    let mut written = Vec::new();
    for (name, bytes) in files {
        let path = dir.join(name);
        write_output(&path, &bytes, overwrite)?;
        written.push(path);
    }
    Ok(written)
}
