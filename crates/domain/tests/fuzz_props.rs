//! Property tests over arbitrary and damaged input for the rules TOML loaders: an organisation's
//! commencement file (which people write by hand and hand to every device) and damaged copies of
//! the shipped rules and bank-holiday files. Whatever the text, loading returns the rules or a
//! reason, never panics or hangs, and rules that load can be asked every question (eligibility,
//! tribunal windows, renewals, reminders) without panicking or hanging.
//!
//! A fixed seed and a fixed number of cases keep CI's run short and repeatable;
//! `PROPTEST_CASES=N` and `PROPTEST_RNG_SEED=S` run more or other cases. A failure is saved in
//! `tests/fuzz_props.proptest-regressions` (commit it) and replayed first on every later run.
//! The coverage-guided fuzzing is in `fuzz/`.
#![allow(clippy::unwrap_used)]

use chrono::{Datelike, NaiveDate};
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::test_runner::RngSeed;
use std::sync::OnceLock;
use wardside_domain::legal::Applicant;
use wardside_domain::rules::{EligibilityQuery, Jurisdiction, Rules, Treatment};
use wardside_domain::{ClientId, LegalEvent, LegalEventKind, StatusCode};

const SHIPPED_RULES: &str = include_str!("../rules/mha-rules.toml");
const SHIPPED_BANK_HOLIDAYS: &str = include_str!("../rules/bank-holidays.toml");

/// The example in docs/RULES.md.
const EXAMPLE_ORG_FILE: &str = r#"# rules.toml: our organisation's Mental Health Act settings
jurisdiction = "england"                        # or "wales": the default for every command

[commencement]
"mha2025-section-3-periods" = 2027-04-01        # the day the regulations bring it into force
"mha2025-nominated-person" = 2027-10-01
"mha2025-imha-informal-patients" = "2028-01-01"

[[bank_holiday]]                                # a one-off bank holiday proclaimed later
on = 2030-06-03
name = "Example one-off bank holiday"
"#;

const PROVISIONS: &[&str] = &[
    "mha2025-nominated-person",
    "mha2025-section-3-periods",
    "mha2025-imha-informal-patients",
];

fn config(cases: u32) -> ProptestConfig {
    let env = |name: &str| std::env::var(name).ok().and_then(|v| v.parse::<u64>().ok());
    ProptestConfig {
        cases: env("PROPTEST_CASES").map_or(cases, |n| u32::try_from(n).unwrap_or(u32::MAX)),
        rng_seed: RngSeed::Fixed(env("PROPTEST_RNG_SEED").unwrap_or(0x5741_5244_5349_4445)),
        max_shrink_iters: 1024,
        ..ProptestConfig::default()
    }
}

fn shipped() -> &'static Rules {
    static RULES: OnceLock<Rules> = OnceLock::new();
    RULES.get_or_init(|| Rules::shipped().unwrap())
}

// ---------------------------------------------------------------------------------------------
// Text edits.

#[derive(Debug, Clone)]
enum Edit {
    Flip(usize, u8),
    Insert(usize, u8),
    Delete(usize),
    /// Put a TOML token at a place.
    Token(usize, &'static str),
    /// Replace the n-th run of digits with a number that tests the limits.
    Number(usize, &'static str),
    /// Give the n-th setting whose value is a number or a list a new value.
    Value(usize, &'static str),
    /// Remove or repeat the n-th line.
    DeleteLine(usize),
    RepeatLine(usize),
}

const TOKENS: &[&str] = &[
    "\"",
    "'",
    "[",
    "]",
    "[[",
    "]]",
    "=",
    ",",
    "\n",
    "#",
    "{",
    "}",
    "0",
    "-",
    "true",
    "\"\"",
    "\"\"\"",
    "0000-01-01",
    "9999-12-31",
    "2027-02-30",
    "07:32:00",
    "1979-05-27T07:32:00Z",
    "inf",
    "nan",
    "1e400",
    "0x10",
    "\\u0000",
];

const NUMBERS: &[&str] = &[
    "0",
    "1",
    "2",
    "12",
    "-1",
    "255",
    "65536",
    "2147483647",
    "4294967295",
    "4294967296",
    "9223372036854775807",
    "18446744073709551615",
    "99999999999999999999",
];

const VALUES: &[&str] = &[
    "0",
    "1",
    "[]",
    "[0]",
    "[1]",
    "[6, 0]",
    "[4294967295]",
    "[1, 4294967295]",
    "4294967295",
    "18446744073709551615",
    "true",
    "[\"s3\"]",
    "[\"england\", \"wales\"]",
];

fn arb_edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        3 => (any::<usize>(), 1u8..=255).prop_map(|(i, b)| Edit::Flip(i, b)),
        1 => (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Edit::Insert(i, b)),
        1 => any::<usize>().prop_map(Edit::Delete),
        2 => (any::<usize>(), prop::sample::select(TOKENS)).prop_map(|(i, t)| Edit::Token(i, t)),
        4 => (any::<usize>(), prop::sample::select(NUMBERS)).prop_map(|(i, n)| Edit::Number(i, n)),
        4 => (any::<usize>(), prop::sample::select(VALUES)).prop_map(|(i, v)| Edit::Value(i, v)),
        1 => any::<usize>().prop_map(Edit::DeleteLine),
        1 => any::<usize>().prop_map(Edit::RepeatLine),
    ]
}

fn apply_edits(text: &str, edits: &[Edit]) -> String {
    let mut b = text.as_bytes().to_vec();
    for e in edits {
        let at = |i: usize, len: usize| if len == 0 { 0 } else { i % len };
        match *e {
            Edit::Flip(i, x) if !b.is_empty() => {
                let i = at(i, b.len());
                b[i] ^= x;
            }
            Edit::Insert(i, x) => {
                let i = at(i, b.len() + 1);
                b.insert(i, x);
            }
            Edit::Delete(i) if !b.is_empty() => {
                let i = at(i, b.len());
                b.remove(i);
            }
            Edit::Token(i, t) => {
                let i = at(i, b.len() + 1);
                b.splice(i..i, t.bytes());
            }
            Edit::Number(n, value) => {
                let runs = digit_runs(&b);
                if !runs.is_empty() {
                    let (s, e) = runs[n % runs.len()];
                    b.splice(s..e, value.bytes());
                }
            }
            Edit::Value(n, value) => {
                let text = String::from_utf8_lossy(&b).into_owned();
                let mut lines: Vec<String> = text.split('\n').map(str::to_owned).collect();
                let settings: Vec<usize> = (0..lines.len())
                    .filter(|i| {
                        lines[*i].split_once(" = ").is_some_and(|(_, v)| {
                            v.starts_with(|c: char| c.is_ascii_digit() || c == '[')
                        })
                    })
                    .collect();
                if !settings.is_empty() {
                    let i = settings[n % settings.len()];
                    let key = lines[i].split_once(" = ").map(|(k, _)| k.to_owned());
                    if let Some(key) = key {
                        lines[i] = format!("{key} = {value}");
                    }
                }
                b = lines.join("\n").into_bytes();
            }
            Edit::DeleteLine(n) | Edit::RepeatLine(n) => {
                let mut lines: Vec<Vec<u8>> =
                    b.split(|c| *c == b'\n').map(<[u8]>::to_vec).collect();
                let i = at(n, lines.len());
                if matches!(e, Edit::DeleteLine(_)) {
                    lines.remove(i);
                } else {
                    let l = lines[i].clone();
                    lines.insert(i, l);
                }
                b = lines.join(&b'\n');
            }
            _ => {}
        }
    }
    String::from_utf8_lossy(&b).into_owned()
}

fn digit_runs(b: &[u8]) -> Vec<(usize, usize)> {
    let mut runs = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i].is_ascii_digit() {
            let s = i;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            runs.push((s, i));
        } else {
            i += 1;
        }
    }
    runs
}

// ---------------------------------------------------------------------------------------------
// Asking loaded rules every question.

fn arb_date() -> impl Strategy<Value = NaiveDate> {
    prop_oneof![
        6 => (1983i32..2040, 1u32..=366).prop_map(|(y, d)| {
            NaiveDate::from_yo_opt(y, d).unwrap_or(NaiveDate::from_yo_opt(y, 365).unwrap())
        }),
        1 => Just(NaiveDate::MIN),
        1 => Just(NaiveDate::MAX),
        1 => (-262_000i32..262_000, 1u32..=365).prop_map(|(y, d)| NaiveDate::from_yo_opt(y, d).unwrap()),
    ]
}

#[derive(Debug, Clone)]
struct Question {
    status: usize,
    j: bool,
    age: Option<u32>,
    on: NaiveDate,
    /// Days before `on` that the status began, and later events' offsets.
    since: i64,
    events: Vec<(i64, u8)>,
}

fn arb_question() -> impl Strategy<Value = Question> {
    (
        any::<usize>(),
        any::<bool>(),
        prop_oneof![
            Just(None),
            (0u32..=130).prop_map(Some),
            any::<u32>().prop_map(Some)
        ],
        arb_date(),
        prop_oneof![0i64..2000, any::<i64>()],
        vec((0i64..2000, any::<u8>()), 0..4),
    )
        .prop_map(|(status, j, age, on, since, events)| Question {
            status,
            j,
            age,
            on,
            since,
            events,
        })
}

fn back(on: NaiveDate, days: i64) -> NaiveDate {
    on.checked_sub_signed(chrono::TimeDelta::try_days(days).unwrap_or_default())
        .unwrap_or(on)
}

/// Ask the rules everything about one patient; none of it may panic (or hang: the test's time
/// is bounded by the harness).
fn ask(rules: &Rules, q: &Question, extra_dates: &[NaiveDate]) {
    let status = StatusCode::ALL[q.status % StatusCode::ALL.len()];
    let j = if q.j {
        Jurisdiction::England
    } else {
        Jurisdiction::Wales
    };
    let client_id = ClientId(uuid::Uuid::nil());
    let started = back(q.on, q.since);
    let mut history = vec![LegalEvent {
        client_id,
        on: started,
        kind: LegalEventKind::StatusStarted { status },
        note: None,
    }];
    for (offset, k) in &q.events {
        let kind = match k % 10 {
            0 => LegalEventKind::Renewed,
            1 => LegalEventKind::TribunalApplication {
                applicant: Applicant::Patient,
            },
            2 => LegalEventKind::TribunalApplication {
                applicant: Applicant::NearestRelative,
            },
            3 => LegalEventKind::TribunalHearing { outcome: None },
            4 => LegalEventKind::ManagersHearing { outcome: None },
            5 => LegalEventKind::BarringReport,
            6 => LegalEventKind::CtoRevoked {
                status: StatusCode::S3,
            },
            7 => LegalEventKind::NearestRelativeDisplaced,
            8 => LegalEventKind::Recalled,
            _ => LegalEventKind::Reference,
        };
        history.push(LegalEvent {
            client_id,
            on: back(q.on, *offset),
            kind,
            note: None,
        });
    }
    for on in std::iter::once(q.on).chain(extra_dates.iter().copied()) {
        for considering in [None, Some(Treatment::S57), Some(Treatment::S58a)] {
            let _ = rules.eligibility(&EligibilityQuery {
                status,
                on,
                age: q.age,
                considering,
                jurisdiction: j,
                inpatient: None,
            });
        }
        let _ = rules.tribunal_windows(status, started, j);
        let _ = rules.renewals(status, started, q.age, j);
        let _ = rules.reminders(&history, on, q.age, j);
    }
    let _ = rules.provisions();
    let _ = rules.jurisdiction();
}

/// The days around each commencement date the rules now hold: where rules change.
fn commencement_dates(rules: &Rules) -> Vec<NaiveDate> {
    rules
        .provisions()
        .iter()
        .filter_map(|p| p.commences)
        .flat_map(|d| [d.pred_opt(), Some(d), d.succ_opt()])
        .flatten()
        .collect()
}

// ---------------------------------------------------------------------------------------------
// An organisation's file.

fn arb_toml_value() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => (0i32..=9999, 0u32..=13, 0u32..=32).prop_map(|(y, m, d)| format!("{y:04}-{m:02}-{d:02}")),
        2 => (0i32..=9999, 1u32..=12, 1u32..=28).prop_map(|(y, m, d)| format!("\"{y:04}-{m:02}-{d:02}\"")),
        1 => Just("1979-05-27T07:32:00Z".to_owned()),
        1 => Just("1979-05-27T00:32:00.999999-07:00".to_owned()),
        1 => Just("1979-05-27 07:32:00".to_owned()),
        1 => Just("07:32:00".to_owned()),
        1 => "\"[ -~]{0,14}\"",
        1 => Just("\"+262143-12-31\"".to_owned()),
        1 => Just("\" 2027-04-01 \"".to_owned()),
        1 => any::<i64>().prop_map(|n| n.to_string()),
        1 => Just("true".to_owned()),
        1 => Just("[2027-04-01]".to_owned()),
        1 => Just("{ on = 2027-04-01 }".to_owned()),
    ]
}

fn arb_key() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => prop::sample::select(PROVISIONS).prop_map(|k| format!("\"{k}\"")),
        1 => "[a-z0-9-]{1,30}",
        1 => "\"[ -~]{0,12}\"",
    ]
}

/// Organisation files as people might write them, right or wrong.
fn arb_org_file() -> impl Strategy<Value = String> {
    (
        prop::option::of(prop_oneof![
            Just("\"england\"".to_owned()),
            Just("\"wales\"".to_owned()),
            Just("\"scotland\"".to_owned()),
            Just("\"England\"".to_owned()),
            arb_toml_value(),
        ]),
        vec((arb_key(), arb_toml_value()), 0..5),
        vec((arb_toml_value(), "[ -~]{0,10}"), 0..4),
        any::<bool>(),
    )
        .prop_map(|(jurisdiction, commencement, holidays, table)| {
            let mut out = String::new();
            if let Some(j) = jurisdiction {
                out.push_str(&format!("jurisdiction = {j}\n"));
            }
            if table {
                out.push_str("[commencement]\n");
                for (k, v) in &commencement {
                    out.push_str(&format!("{k} = {v}\n"));
                }
            } else {
                for (k, v) in &commencement {
                    out.push_str(&format!("commencement.{k} = {v}\n"));
                }
            }
            for (on, name) in &holidays {
                out.push_str(&format!("[[bank_holiday]]\non = {on}\nname = {name:?}\n"));
            }
            out
        })
}

proptest! {
    #![proptest_config(config(600))]

    /// Any text at all as the organisation's file.
    #[test]
    fn any_text_as_the_organisation_file(text in prop_oneof![
        any::<String>(),
        "[\\[\\]a-z0-9=\".# \n:-]{0,80}",
    ]) {
        if let Ok(rules) = shipped().clone().with_organisation_file(&text) {
            // Only a file that sets nothing leaves the shipped rules as they were.
            let _ = rules.provisions();
        }
    }

    /// Organisation files built of right and wrong parts: each loads or is refused with a
    /// reason; what loads has exactly the dates it set, and can be asked anything.
    #[test]
    fn organisation_files_load_or_say_why(file in arb_org_file(), q in arb_question()) {
        match shipped().clone().with_organisation_file(&file) {
            Ok(rules) => {
                for p in rules.provisions() {
                    if let Some(d) = p.commences {
                        prop_assert!(file.contains(&p.key), "{} set without being named", p.key);
                        let written = format!("{:04}-{:02}-{:02}", d.year(), d.month(), d.day());
                        prop_assert!(file.contains(&written), "{} is not in the file", written);
                    }
                }
                ask(&rules, &q, &commencement_dates(&rules));
            }
            Err(e) => prop_assert!(e.to_string().starts_with("commencement file:"), "{}", e),
        }
    }

    /// The example file from the documentation, damaged.
    #[test]
    fn a_damaged_organisation_file_loads_or_says_why(edits in vec(arb_edit(), 1..4), q in arb_question()) {
        let text = apply_edits(EXAMPLE_ORG_FILE, &edits);
        match shipped().clone().with_organisation_file(&text) {
            Ok(rules) => ask(&rules, &q, &commencement_dates(&rules)),
            Err(e) => prop_assert!(e.to_string().starts_with("commencement file:"), "{}", e),
        }
    }
}

proptest! {
    #![proptest_config(config(1000))]

    /// The shipped rules file, damaged: loaded or refused, and rules that load answer every
    /// question without panicking or hanging (the periods of every status are listed, since a
    /// damaged setting may be any status's).
    #[test]
    fn a_damaged_rules_file_loads_or_says_why(edits in vec(arb_edit(), 1..4), q in arb_question()) {
        let text = apply_edits(SHIPPED_RULES, &edits);
        match Rules::from_texts(&text, SHIPPED_BANK_HOLIDAYS) {
            Ok(rules) => {
                let rules = rules.with_organisation_file(EXAMPLE_ORG_FILE).unwrap_or_else(|_| {
                    Rules::from_texts(&text, SHIPPED_BANK_HOLIDAYS).unwrap()
                });
                ask(&rules, &q, &commencement_dates(&rules));
                let on = NaiveDate::from_ymd_opt(2027, 6, 1).unwrap();
                for &status in StatusCode::ALL {
                    for j in [Jurisdiction::England, Jurisdiction::Wales] {
                        let _ = rules.tribunal_windows(status, on, j);
                        let _ = rules.renewals(status, on, None, j);
                    }
                }
            }
            Err(e) => prop_assert!(e.to_string().starts_with("rules file:"), "{}", e),
        }
    }
}

proptest! {
    #![proptest_config(config(300))]

    /// The shipped bank-holiday file, damaged.
    #[test]
    fn a_damaged_bank_holiday_file_loads_or_says_why(edits in vec(arb_edit(), 1..4), q in arb_question()) {
        let text = apply_edits(SHIPPED_BANK_HOLIDAYS, &edits);
        match Rules::from_texts(SHIPPED_RULES, &text) {
            Ok(rules) => ask(&rules, &q, &[]),
            Err(e) => prop_assert!(e.to_string().starts_with("bank holidays file:"), "{}", e),
        }
    }
}

/// Regression (found by the fuzzing): a rules file with a period of zero months (`periods_months
/// = [0]`, or a 0 after other lengths) loaded, and asking for that status's tribunal windows or
/// renewals then never returned (each period ended the day before it began, so the next began
/// on the same day, for ever, while the list grew).
#[test]
fn a_period_of_zero_months_is_refused_when_the_rules_load() {
    for (from, to) in [
        ("periods_months = [6, 6, 12]", "periods_months = [6, 0, 12]"),
        ("periods_months = [6, 6, 12]", "periods_months = [0]"),
    ] {
        assert!(SHIPPED_RULES.contains(from));
        let text = SHIPPED_RULES.replacen(from, to, 1);
        let err = Rules::from_texts(&text, SHIPPED_BANK_HOLIDAYS).unwrap_err();
        assert!(err.to_string().contains("months"), "{err}");
    }
}

/// Regression (found by the property above): a date that is not a date in the bank-holiday file
/// was reported as a mistake in the organisation's commencement file.
#[test]
fn a_bad_date_in_the_bank_holiday_file_names_that_file() {
    let text = SHIPPED_BANK_HOLIDAYS.replacen("2026-", "65536-", 1);
    assert_ne!(text, SHIPPED_BANK_HOLIDAYS);
    let err = Rules::from_texts(SHIPPED_RULES, &text).unwrap_err();
    assert!(err.to_string().starts_with("bank holidays file:"), "{err}");
}
