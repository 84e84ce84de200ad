//! A commissioner's return written as PDF, workbook, JSON and CSV from hand-built facts with
//! known answers, read back with poppler's `pdftotext` and `unzip`: every released number is in
//! every file, suppressed cells are "*" everywhere, and the same data gives the same bytes.
#![allow(clippy::unwrap_used)]

use chrono::NaiveDate;
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use wardside_domain::report::suppress::{Cell, Table};
use wardside_domain::report::{Facts, MEASURES, Return, compute};
use wardside_domain::rules::Rules;
use wardside_export::Overwrite;
use wardside_export::report::{
    ReturnFormat, return_csvs, return_json, return_pdf, return_xlsx, write_return,
};

const NORTH: &str = "Northshire County Council";

fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

/// `(code, exact count, starred when suppressed)` as a released table.
fn table(cells: &[(&str, u64, bool)], exact: bool) -> Table {
    cells
        .iter()
        .map(|&(code, n, starred)| {
            let cell = if starred && !exact {
                Cell::Suppressed
            } else {
                Cell::Count(n)
            };
            (code.to_string(), cell)
        })
        .collect()
}

/// Thirty people referred to Northshire in the third quarter of 2026, as released: some cells
/// shown, some starred (on their own, and to protect another), two tables empty and rare words
/// folded into "other". The numbers are set by hand on a return computed from no facts (the
/// export writes what it is given; `wardside_domain::report` proves how they are worked out).
/// `exact`: the manager's own view, threshold 0.
fn the_return(exact: bool) -> Return {
    let rules = Rules::shipped().unwrap();
    let mut r = compute(
        &Facts::default(),
        NORTH,
        d("2026-07-01"),
        d("2026-09-30"),
        rules.calendar(),
        if exact { 0 } else { 7 },
    );
    let star = |n: u64| {
        if exact {
            serde_json::json!(n)
        } else {
            serde_json::json!("*")
        }
    };
    for (key, value) in [
        ("referrals_received", serde_json::json!(30)),
        ("referrals_eligible", serde_json::json!(22)),
        ("cases_open_at_start", serde_json::json!(0)),
        ("cases_opened", serde_json::json!(30)),
        ("cases_closed", star(2)),
        ("cases_open_at_end", serde_json::json!(28)),
        ("non_instructed_cases", serde_json::json!(10)),
        ("first_contact_median_working_days", serde_json::json!(4.0)),
        (
            "first_contact_90th_percentile_working_days",
            serde_json::json!(8.0),
        ),
        (
            "first_contact_within_2_working_days_pct",
            serde_json::json!(36.7),
        ),
        (
            "first_contact_within_5_working_days_pct",
            serde_json::json!(63.3),
        ),
        ("tribunals_supported", star(3)),
        ("managers_hearings_supported", serde_json::json!(0)),
        ("ward_rounds_and_cpa_attended", star(9)),
        ("advocacy_hours", serde_json::json!(43.5)),
    ] {
        r.measures.insert(key, value);
    }
    let t = |cells: &[(&str, u64, bool)]| table(cells, exact);
    for (key, cells) in [
        (
            "referral_source",
            t(&[
                ("nearest-relative", 4, true),
                ("self", 6, true),
                ("ward-staff", 20, false),
            ]),
        ),
        (
            "section_at_referral",
            t(&[("s2", 8, false), ("s3", 22, false)]),
        ),
        (
            "eligibility",
            t(&[("eligible", 22, false), ("not eligible", 8, false)]),
        ),
        ("repeat_referrals", t(&[("first", 30, false)])),
        (
            "hospital",
            t(&[("Riverside", 25, true), ("other", 5, true)]),
        ),
        ("closing_reason", t(&[("discharged", 2, true)])),
        (
            "instruction",
            t(&[("instructed", 20, false), ("non-instructed", 10, false)]),
        ),
        (
            "activity_kind",
            t(&[
                ("private-interview", 30, false),
                ("tribunal", 3, true),
                ("ward-round", 9, true),
            ]),
        ),
        ("issue_category", t(&[])),
        ("issue_outcome", t(&[])),
        (
            "ethnic_category",
            t(&[
                ("99", 3, true),
                ("A", 12, true),
                ("N", 12, false),
                ("Z", 3, true),
            ]),
        ),
        (
            "gender",
            t(&[("man", 13, true), ("other", 2, true), ("woman", 15, false)]),
        ),
        (
            "age_band",
            t(&[("36-45", 15, false), ("not known", 15, false)]),
        ),
        (
            "disability",
            t(&[
                ("disabled", 9, false),
                ("not disabled", 11, false),
                ("not known", 10, false),
            ]),
        ),
        ("religion", t(&[("not known", 30, false)])),
        ("sexual_orientation", t(&[("not known", 30, false)])),
        (
            "first_language",
            t(&[("English", 26, true), ("other", 4, true)]),
        ),
        (
            "interpreter_needed",
            t(&[("no", 26, true), ("yes", 4, true)]),
        ),
    ] {
        r.tables.insert(key, cells);
    }
    r
}

/// `WARDSIDE_EXPORT_SAMPLES=DIR` keeps the files written, to look at.
fn keep(name: &str, bytes: &[u8]) {
    if let Some(dir) = std::env::var_os("WARDSIDE_EXPORT_SAMPLES") {
        let dir = Path::new(&dir);
        std::fs::create_dir_all(dir).unwrap();
        std::fs::write(dir.join(name), bytes).unwrap();
    }
}

fn run(program: &str, args: &[&str], file: &Path) -> String {
    let out = Command::new(program).args(args).arg(file).output().unwrap();
    assert!(
        out.status.success(),
        "{program}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The PDF's text, laid out as on the page (a table's row on one line).
fn pdf_text(pdf: &[u8], dir: &Path) -> String {
    let path = dir.join("return.pdf");
    std::fs::write(&path, pdf).unwrap();
    let out = Command::new("pdftotext")
        .args(["-layout"])
        .arg(&path)
        .arg("-")
        .output()
        .unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap()
}

fn flat(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A line of `text` that has `first` and, after it, `then` as a word of its own (the spaces
/// between columns count as one).
fn line_with(text: &str, first: &str, then: &str) -> bool {
    text.lines().map(flat).any(|line| {
        line.find(first).is_some_and(|at| {
            line[at + first.len()..]
                .split_whitespace()
                .any(|word| word == then)
        })
    })
}

/// Every headline's title with its value, and every table's title, definition and cells
/// (code, then count) are in the text, and an empty table says so.
fn assert_every_number(r: &Return, text: &str) {
    let flat_text = flat(text);
    for (key, value) in &r.measures {
        assert!(
            line_with(text, title(key), &value_text(value)),
            "{key}: {} {value}\n{text}",
            title(key)
        );
    }
    let mut empty = 0;
    for (key, table) in &r.tables {
        let m = MEASURES.iter().find(|m| m.key == *key).unwrap();
        assert!(flat_text.contains(m.title), "{key}");
        assert!(flat_text.contains(&flat(m.definition)), "{key}");
        empty += usize::from(table.is_empty());
        for (code, cell) in table {
            assert!(
                line_with(text, code, &cell.text()),
                "{key}: {code} {}\n{text}",
                cell.text()
            );
        }
    }
    assert!(empty >= 2, "issue_category and issue_outcome");
    assert_eq!(flat_text.matches("None in this period.").count(), empty);
}

/// A measure as the PDF shows it ("none" for a median over nobody).
fn value_text(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Null => "none".to_string(),
        other => other.to_string(),
    }
}

fn title(key: &str) -> &'static str {
    MEASURES.iter().find(|m| m.key == key).unwrap().title
}

#[test]
fn the_pdf_holds_every_headline_and_every_cell_with_suppression_stated() {
    let tmp = tempfile::tempdir().unwrap();
    let r = the_return(false);
    let pdf = return_pdf(&r).unwrap();
    keep("return.pdf", &pdf);
    let text = pdf_text(&pdf, tmp.path());
    let flat_text = flat(&text);
    assert!(flat_text.contains(NORTH));
    assert!(flat_text.contains("1 July 2026 to 30 September 2026"));
    assert!(flat_text.contains("Suppressed: counts of 1 to 7 shown as *"));
    assert!(!flat_text.contains("NOT FOR RELEASE"));
    assert_every_number(&r, &text);
    // Codes come with what they mean.
    assert!(line_with(&text, "ward-staff Ward staff", "20"), "{text}");
    assert!(flat_text.contains("99 Not known"));
    // Tagged PDF/A with its title; the same data gives the same bytes.
    let info = run("pdfinfo", &[], &tmp.path().join("return.pdf"));
    assert!(info.contains("Tagged:          yes"), "{info}");
    assert!(
        info.contains("Title:           Commissioner’s return: Northshire County Council"),
        "{info}"
    );
    let raw = String::from_utf8_lossy(&pdf);
    assert!(raw.contains("pdfaid:part"), "PDF/A identification missing");
    assert_eq!(return_pdf(&r).unwrap(), pdf);
}

#[test]
fn the_managers_exact_view_says_not_for_release_on_every_page() {
    let tmp = tempfile::tempdir().unwrap();
    let r = the_return(true);
    let pdf = return_pdf(&r).unwrap();
    keep("return-exact.pdf", &pdf);
    let text = pdf_text(&pdf, tmp.path());
    let pages: Vec<&str> = text
        .split('\u{c}')
        .filter(|p| !p.trim().is_empty())
        .collect();
    assert!(pages.len() >= 2, "{}", pages.len());
    // In the header and the footer of every page.
    for page in &pages {
        assert!(
            page.matches("EXACT NUMBERS — NOT FOR RELEASE").count() >= 2,
            "{page}"
        );
    }
    assert!(!text.contains("Suppressed:"));
    assert_every_number(&r, &text);
    assert!(line_with(&text, "self", "6"));
    assert!(line_with(&text, title("tribunals_supported"), "3"));
}

/// A cell of a worksheet as the file holds it.
#[derive(Debug, Clone, PartialEq)]
enum Xl {
    Text(String),
    Number(f64),
}

fn text(s: &str) -> Xl {
    Xl::Text(s.to_string())
}

/// A released cell as it must be in the workbook: a count is a number, "*" is text.
fn cell(c: &Cell) -> Xl {
    match c {
        Cell::Count(n) => Xl::Number(*n as f64),
        Cell::Suppressed => text("*"),
    }
}

/// A workbook's sheets in order, each with its rows, from the XML that `unzip -p` reads out.
fn workbook(path: &Path) -> Vec<(String, Vec<Vec<Xl>>)> {
    let part = |name: &str| {
        let out = Command::new("unzip")
            .arg("-p")
            .arg(path)
            .arg(name)
            .output()
            .unwrap();
        assert!(out.status.success(), "{name}");
        String::from_utf8(out.stdout).unwrap()
    };
    let between = |s: &str, open: &str, close: &str| -> Vec<String> {
        s.split(open)
            .skip(1)
            .map(|x| x.split(close).next().unwrap().to_string())
            .collect()
    };
    let unescape = |s: &str| {
        s.replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&quot;", "\"")
            .replace("&apos;", "'")
            .replace("&amp;", "&")
    };
    let shared: Vec<String> = between(&part("xl/sharedStrings.xml"), "<si>", "</si>")
        .iter()
        .map(|si| {
            let runs: Vec<&str> = si
                .split("<t")
                .skip(1)
                .map(|t| t.split_once('>').unwrap().1.split("</t>").next().unwrap())
                .collect();
            unescape(&runs.concat())
        })
        .collect();
    let names: Vec<String> = between(&part("xl/workbook.xml"), "<sheet name=\"", "\"")
        .iter()
        .map(|n| unescape(n))
        .collect();
    names
        .into_iter()
        .enumerate()
        .map(|(i, name)| {
            let xml = part(&format!("xl/worksheets/sheet{}.xml", i + 1));
            let rows = between(&xml, "<row ", "</row>")
                .iter()
                .map(|row| {
                    between(row, "<c ", "</c>")
                        .iter()
                        .map(|c| {
                            let v = between(c, "<v>", "</v>").concat();
                            if c.contains("t=\"s\"") {
                                Xl::Text(shared[v.parse::<usize>().unwrap()].clone())
                            } else {
                                Xl::Number(v.parse().unwrap())
                            }
                        })
                        .collect()
                })
                .collect();
            (name, rows)
        })
        .collect()
}

#[test]
fn the_workbook_has_the_measures_and_a_sheet_per_table_with_the_same_values() {
    let tmp = tempfile::tempdir().unwrap();
    let r = the_return(false);
    let xlsx = return_xlsx(&r).unwrap();
    keep("return.xlsx", &xlsx);
    assert_eq!(return_xlsx(&r).unwrap(), xlsx, "the same bytes every time");
    let path = tmp.path().join("return.xlsx");
    std::fs::write(&path, &xlsx).unwrap();
    let listing = run("unzip", &["-l"], &path);
    assert!(listing.contains("xl/workbook.xml"), "{listing}");
    assert_eq!(
        listing.matches("xl/worksheets/sheet").count(),
        1 + r.tables.len(),
        "{listing}"
    );
    let sheets = workbook(&path);
    let (name, rows) = &sheets[0];
    assert_eq!(name, "Measures");
    assert_eq!(rows[0], [text("measure"), text("title"), text("value")]);
    // In the order the PDF reads them, each with its title; a number is a number cell.
    let want: Vec<Vec<Xl>> = MEASURES
        .iter()
        .filter_map(|m| {
            // A median over nobody is an empty cell.
            let value = match r.measures.get(m.key)? {
                serde_json::Value::Number(n) => Some(Xl::Number(n.as_f64().unwrap())),
                serde_json::Value::Null => None,
                other => Some(Xl::Text(value_text(other))),
            };
            Some(
                [text(m.key), text(m.title)]
                    .into_iter()
                    .chain(value)
                    .collect(),
            )
        })
        .collect();
    assert_eq!(want.len(), r.measures.len());
    assert_eq!(rows[1..], want[..]);
    let tables: BTreeMap<&str, &Vec<Vec<Xl>>> = sheets[1..]
        .iter()
        .map(|(name, rows)| (name.as_str(), rows))
        .collect();
    assert_eq!(tables.len(), r.tables.len());
    for (key, table) in &r.tables {
        let rows = tables[key];
        assert_eq!(rows[0], [text("code"), text("count")], "{key}");
        let cells: Vec<Vec<Xl>> = table
            .iter()
            .map(|(code, c)| vec![text(code), cell(c)])
            .collect();
        assert_eq!(rows[1..], cells[..], "{key}");
    }
    // A code that looks like a number stays a code.
    assert_eq!(tables["ethnic_category"][1], [text("99"), text("*")]);
    assert!(tables["referral_source"].contains(&vec![text("ward-staff"), Xl::Number(20.0)]));
}

#[test]
fn json_and_csv_are_as_before_and_every_format_is_written_into_the_folder() {
    let tmp = tempfile::tempdir().unwrap();
    let r = the_return(false);
    let dir = tmp.path().join("q3");
    let written = write_return(&dir, &r, &ReturnFormat::ALL, Overwrite::Refuse).unwrap();
    let names: Vec<String> = written
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    let mut want = vec!["return.json".to_string(), "measures.csv".to_string()];
    want.extend(r.tables.keys().map(|k| format!("{k}.csv")));
    want.extend(["return.pdf".to_string(), "return.xlsx".to_string()]);
    assert_eq!(names, want);
    assert_eq!(
        std::fs::read(dir.join("return.json")).unwrap(),
        return_json(&r).unwrap()
    );
    for (name, bytes) in return_csvs(&r).unwrap() {
        assert_eq!(std::fs::read(dir.join(&name)).unwrap(), bytes, "{name}");
    }
    assert_eq!(
        std::fs::read_to_string(dir.join("referral_source.csv")).unwrap(),
        "code,count\nnearest-relative,*\nself,*\nward-staff,20\n"
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("hospital.csv")).unwrap(),
        "code,count\nRiverside,*\nother,*\n"
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("issue_outcome.csv")).unwrap(),
        "code,count\n"
    );
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("return.json")).unwrap()).unwrap();
    assert_eq!(json["suppression"], "counts of 1 to 7 shown as \"*\"");
    assert_eq!(json["measures"]["referrals_received"], 30);
    // One format alone writes only its file.
    let pdf_only = tmp.path().join("pdf-only");
    write_return(&pdf_only, &r, &[ReturnFormat::Pdf], Overwrite::Refuse).unwrap();
    let files: Vec<_> = std::fs::read_dir(&pdf_only).unwrap().collect();
    assert_eq!(files.len(), 1);
    assert!(pdf_only.join("return.pdf").exists());
}

#[test]
fn a_format_is_named_and_an_unknown_one_lists_all_four() {
    assert_eq!("xlsx".parse::<ReturnFormat>(), Ok(ReturnFormat::Xlsx));
    assert_eq!(" pdf ".parse::<ReturnFormat>(), Ok(ReturnFormat::Pdf));
    let err = "docx".parse::<ReturnFormat>().unwrap_err();
    for name in ["pdf", "csv", "xlsx", "json"] {
        assert!(err.contains(name), "{err}");
    }
}

/// A contract's targets and the organisation's reference table of people detained are in every
/// format: the PDF's targets table and "Detained in area" column, `targets.csv` and
/// `reference_detained.csv`, the workbook's two sheets, and the JSON's `targets` and
/// `reference`.
#[test]
fn targets_and_the_reference_table_are_in_every_format() {
    use wardside_domain::report::contract::{Contract, Target};
    let tmp = tempfile::tempdir().unwrap();
    let mut r = the_return(false);
    let mut c = Contract::default_for(NORTH);
    c.targets
        .insert("referrals_received".into(), Target::AtLeast(25.0));
    c.targets.insert(
        "first_contact_median_working_days".into(),
        Target::AtMost(1.0),
    );
    c.reference.insert(
        "ethnic_category".into(),
        [("A".to_string(), 1200u64), ("M".to_string(), 340)].into(),
    );
    c.apply(&mut r);
    let text = pdf_text(&return_pdf(&r).unwrap(), tmp.path());
    keep("return-targets.pdf", &return_pdf(&r).unwrap());
    let flat_text = flat(&text);
    assert!(
        flat_text.contains("Against the contract’s targets"),
        "{text}"
    );
    assert!(line_with(&text, "Referrals received", "least"), "{text}");
    assert!(flat_text.contains("at least 25"), "{text}");
    assert!(flat_text.contains("Detained in area"), "{text}");
    assert!(line_with(&text, "White - British", "1200"), "{text}");
    let csvs: BTreeMap<String, String> = return_csvs(&r)
        .unwrap()
        .into_iter()
        .map(|(n, b)| (n, String::from_utf8(b).unwrap()))
        .collect();
    let met = if r.targets["referrals_received"].met == Some(true) {
        "met"
    } else {
        "not met"
    };
    assert!(
        csvs["targets.csv"].contains(&format!(
            "referrals_received,at least 25,{},{met}",
            value_text(&r.measures["referrals_received"])
        )),
        "{}",
        csvs["targets.csv"]
    );
    assert_eq!(
        csvs["reference_detained.csv"],
        "table,code,people_detained\nethnic_category,A,1200\nethnic_category,M,340\n"
    );
    let json: serde_json::Value = serde_json::from_slice(&return_json(&r).unwrap()).unwrap();
    assert_eq!(json["reference"]["ethnic_category"]["M"], 340);
    assert_eq!(
        json["targets"]["referrals_received"]["target"],
        serde_json::json!({"at_least": 25.0})
    );
    let path = tmp.path().join("return.xlsx");
    std::fs::write(&path, return_xlsx(&r).unwrap()).unwrap();
    let book = workbook(&path);
    let sheet = |n: &str| &book.iter().find(|(name, _)| name == n).unwrap().1;
    assert_eq!(sheet("Targets").len(), 3);
    assert_eq!(
        sheet("Reference (detained)")[1],
        [
            Xl::Text("ethnic_category".into()),
            Xl::Text("A".into()),
            Xl::Number(1200.0)
        ]
    );
}
