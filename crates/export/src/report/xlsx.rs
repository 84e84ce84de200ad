//! `return.xlsx`: one workbook with a "Measures" sheet (key, title, value) and a sheet per
//! table (code, count), for commissioners who work in spreadsheets. Numbers are numbers, a
//! suppressed cell is the text "*", a code is always text (`99` stays a code). The same data
//! gives the same bytes: the creation date is the period's last day, and the library stamps
//! every part of the file with one fixed date.

use super::{in_reading_order, suppression, value_text};
use crate::{ExportError, Result};
use chrono::Datelike;
use rust_xlsxwriter::{DocProperties, ExcelDateTime, Format, Workbook, Worksheet, XlsxError};
use wardside_domain::report::Return;
use wardside_domain::report::suppress::Cell;

const MEASURES_SHEET: &str = "Measures";

fn fail(e: XlsxError) -> ExportError {
    ExportError::Typeset(format!("the workbook could not be made: {e}"))
}

/// Sheet names for `keys`, in order: at most 31 characters, none of `[]:*?/\`, none the same
/// as another (Excel ignores letter case) or as the measures sheet.
fn sheet_names(keys: &[&str]) -> Vec<String> {
    let mut taken: Vec<String> = vec![MEASURES_SHEET.to_lowercase()];
    let mut out = Vec::new();
    for key in keys {
        let clean: String = key
            .chars()
            .map(|c| if "[]:*?/\\'".contains(c) { '_' } else { c })
            .collect();
        let mut name: String = clean.chars().take(31).collect();
        let mut n = 2;
        while name.is_empty() || taken.contains(&name.to_lowercase()) {
            let suffix = format!("~{n}");
            name = clean.chars().take(31 - suffix.len()).collect::<String>() + &suffix;
            n += 1;
        }
        taken.push(name.to_lowercase());
        out.push(name);
    }
    out
}

fn header(sheet: &mut Worksheet, titles: &[&str], widths: &[f64]) -> Result<()> {
    let bold = Format::new().set_bold();
    for (col, (title, width)) in (0u16..).zip(titles.iter().zip(widths)) {
        sheet
            .write_string_with_format(0, col, *title, &bold)
            .map_err(fail)?;
        sheet.set_column_width(col, *width).map_err(fail)?;
    }
    sheet.set_freeze_panes(1, 0).map_err(fail)?;
    Ok(())
}

/// The return as an .xlsx workbook.
pub fn return_xlsx(r: &Return) -> Result<Vec<u8>> {
    let mut book = Workbook::new();
    let created = ExcelDateTime::from_ymd(
        u16::try_from(r.to.year()).unwrap_or(1900),
        u8::try_from(r.to.month()).unwrap_or(1),
        u8::try_from(r.to.day()).unwrap_or(1),
    )
    .map_err(fail)?;
    book.set_properties(
        &DocProperties::new()
            .set_title(format!(
                "Commissioner's return: {}, {} to {}",
                r.commissioner, r.from, r.to
            ))
            .set_subject(format!("Small numbers: {}", suppression(r)))
            .set_keywords("commissioner's return, IMHA")
            .set_creation_datetime(&created),
    );

    let sheet = book.add_worksheet();
    sheet.set_name(MEASURES_SHEET).map_err(fail)?;
    header(sheet, &["measure", "title", "value"], &[44.0, 42.0, 10.0])?;
    for (row, m) in (1u32..).zip(in_reading_order(r.measures.keys().copied())) {
        sheet.write_string(row, 0, m.key).map_err(fail)?;
        sheet.write_string(row, 1, m.title).map_err(fail)?;
        match &r.measures[m.key] {
            serde_json::Value::Number(n) => {
                sheet
                    .write_number(row, 2, n.as_f64().unwrap_or_default())
                    .map_err(fail)?;
            }
            other => {
                sheet
                    .write_string(row, 2, value_text(other))
                    .map_err(fail)?;
            }
        }
    }

    let tables = in_reading_order(r.tables.keys().copied());
    let keys: Vec<&str> = tables.iter().map(|m| m.key).collect();
    for (m, name) in tables.iter().zip(sheet_names(&keys)) {
        let sheet = book.add_worksheet();
        sheet.set_name(name).map_err(fail)?;
        header(sheet, &["code", "count"], &[36.0, 10.0])?;
        for (row, (code, cell)) in (1u32..).zip(&r.tables[m.key]) {
            sheet.write_string(row, 0, code).map_err(fail)?;
            match cell {
                Cell::Count(n) => sheet.write_number(row, 1, *n as f64),
                Cell::Suppressed => sheet.write_string(row, 1, "*"),
            }
            .map_err(fail)?;
        }
    }
    // The contract's targets and the reference table, where there are any.
    for (name, head, widths, rows) in [
        (
            "Targets",
            &["measure", "target", "value", "result"][..],
            &[44.0, 16.0, 10.0, 12.0][..],
            super::target_rows(r),
        ),
        (
            "Reference (detained)",
            &["table", "code", "people detained"][..],
            &[28.0, 28.0, 16.0][..],
            super::reference_rows(r),
        ),
    ] {
        if rows.is_empty() {
            continue;
        }
        let sheet = book.add_worksheet();
        sheet.set_name(name).map_err(fail)?;
        header(sheet, head, widths)?;
        for (row, cells) in (1u32..).zip(rows) {
            for (col, v) in (0u16..).zip(cells) {
                // Counts as numbers; codes and words as text.
                match v.parse::<f64>() {
                    Ok(n) if col == head.len() as u16 - 1 || (name == "Targets" && col == 2) => {
                        sheet.write_number(row, col, n)
                    }
                    _ => sheet.write_string(row, col, v),
                }
                .map_err(fail)?;
            }
        }
    }
    book.save_to_buffer().map_err(fail)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sheet_names_are_short_clean_and_unique() {
        let long = "a_table_whose_key_is_far_longer_than_excel_allows";
        let names = sheet_names(&[long, long, "measures", "a/b", "gender"]);
        assert_eq!(names[0], &long[..31]);
        assert_eq!(names[1], format!("{}~2", &long[..29]));
        assert_eq!(names[2], "measures~2");
        assert_eq!(names[3], "a_b");
        assert_eq!(names[4], "gender");
        assert!(names.iter().all(|n| n.chars().count() <= 31));
    }
}
