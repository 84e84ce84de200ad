//! The `wardside` binary end to end, on real encrypted stores in temporary directories, in the
//! exact forms that scripts and checks rely on.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::Value;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

const PASS: &str = "plum kettle harbour";

/// The day every command in these tests runs on (the CLI's and the store's one clock, set
/// through `WARDSIDE_NOW`): the dates below are written relative to it, so the tests pass on any
/// day the machine's clock shows (CI runs them again two years ahead to prove it).
const NOW: &str = "2026-11-25T12:00:00Z";

struct Env {
    _dir: tempfile::TempDir,
    db: PathBuf,
}

impl Env {
    fn new() -> Env {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("store").join("wardside.db");
        Env { _dir: dir, db }
    }

    fn data_dir(&self) -> &Path {
        self.db.parent().unwrap()
    }

    fn cmd(&self, pass: Option<&str>, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_wardside"));
        c.arg("--db")
            .arg(&self.db)
            .args(args)
            .env_remove("WARDSIDE_PASSPHRASE")
            .env_remove("WARDSIDE_NEW_PASSPHRASE")
            .env_remove("WARDSIDE_DB")
            .env_remove("WARDSIDE_RULES")
            .env("WARDSIDE_NOW", NOW)
            // No organisation rules file from the machine running the tests.
            .env("XDG_CONFIG_HOME", self._dir.path().join("config"));
        c.env("RUST_BACKTRACE", "1").stdin(Stdio::null());
        if let Some(p) = pass {
            c.env("WARDSIDE_PASSPHRASE", p);
        }
        c
    }

    fn run(&self, args: &[&str]) -> Output {
        self.cmd(Some(PASS), args).output().unwrap()
    }

    fn ok_json(&self, args: &[&str]) -> Value {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "{args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "{args:?}: not JSON ({e}): {}",
                String::from_utf8_lossy(&out.stdout)
            )
        })
    }

    fn id(&self, args: &[&str]) -> String {
        self.ok_json(args)["id"].as_str().expect("an id").to_owned()
    }

    fn init(&self) {
        let out = self.run(&["init", "--advocate", "Ceri Jones"]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// A client with an open case: (client id, case id).
    fn client_and_case(&self) -> (String, String) {
        let client = self.id(&[
            "client",
            "add",
            "--name",
            "Siân Llewelyn",
            "--status",
            "s2",
            "--status-since",
            "2026-11-20",
            "--dob",
            "1987-03-14",
            "--nhs-number",
            "943 476 5919",
            "--hospital",
            "Riverside",
            "--ward",
            "Cedar",
            "--json",
        ]);
        let case = self.id(&["case", "open", "--client", &client, "--json"]);
        (client, case)
    }
}

/// Every failure: non-zero exit, exactly one line on stderr that starts the same way, no
/// backtrace, nothing on stdout.
fn assert_clean_failure(out: &Output, expect: &str) -> String {
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(!out.status.success(), "should fail: {err}");
    assert_eq!(err.trim_end().lines().count(), 1, "one line: {err:?}");
    assert!(err.starts_with("wardside: error: "), "{err}");
    assert!(
        !err.contains("panicked") && !err.contains("backtrace") && !err.contains("RUST_BACKTRACE"),
        "{err}"
    );
    assert!(err.contains(expect), "expected {expect:?} in {err:?}");
    assert!(out.stdout.is_empty(), "nothing on stdout");
    err
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(files_under(&p))
        } else {
            out.push(p)
        }
    }
    out
}

fn snapshot(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut v: Vec<_> = files_under(dir)
        .into_iter()
        .map(|p| (p.clone(), std::fs::read(&p).unwrap()))
        .collect();
    v.sort();
    v
}

#[test]
fn an_advocates_day_from_init_to_search_and_case_show() {
    let env = Env::new();
    env.init();
    let (_, case) = env.client_and_case();
    let interview = env.id(&[
        "activity",
        "add",
        "--case",
        &case,
        "--kind",
        "private-interview",
        "--at",
        "2026-11-21T10:30",
        "--text",
        "Siân wants to apply to the tribunal before the deadline.",
        "--json",
    ]);
    let ward_round = env.id(&[
        "activity",
        "add",
        "--case",
        &case,
        "--kind",
        "ward-round",
        "--at",
        "2026-11-21T09:00",
        "--text",
        "Raised leave and medication on her behalf.",
        "--point",
        "Escorted leave to the shops",
        "--response",
        "To be reviewed next week",
        "--json",
    ]);

    let hits = env.ok_json(&["search", "tribunal", "--json"]);
    let hits = hits["hits"].as_array().unwrap();
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0]["case"], case.as_str());
    assert_eq!(hits[0]["activity"], interview.as_str());
    assert!(hits[0]["snippet"].as_str().unwrap().contains("tribunal"));

    let shown = env.ok_json(&["case", "show", &case, "--json"]);
    assert_eq!(shown["client"]["name"], "Siân Llewelyn");
    assert_eq!(shown["current_status"]["status"], "s2");
    let timeline = shown["timeline"].as_array().unwrap();
    assert_eq!(timeline.len(), 2);
    assert_eq!(
        timeline[0]["id"],
        ward_round.as_str(),
        "timeline in time order"
    );
    assert_eq!(
        timeline[0]["kind"]["points_raised"][0],
        "Escorted leave to the shops"
    );
    assert_eq!(
        timeline[1]["text"],
        "Siân wants to apply to the tribunal before the deadline."
    );

    let audit = env.ok_json(&["case", "audit", &case, "--json"]);
    assert!(
        audit["entries"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["action"] == "view")
    );
}

#[test]
fn every_activity_kind_can_be_recorded_with_its_own_fields() {
    let env = Env::new();
    env.init();
    let (_, case) = env.client_and_case();
    let base = |kind: &'static str| {
        vec![
            "activity",
            "add",
            "--case",
            Box::leak(case.clone().into_boxed_str()),
            "--kind",
            kind,
            "--at",
            "2026-11-22T14:00",
            "--text",
            "Note text.",
            "--json",
        ]
    };
    let extra: &[(&str, &[&str])] = &[
        ("private-interview", &["--wishes", "To go home"]),
        (
            "professional-interview",
            &["--professional", "Responsible clinician"],
        ),
        ("ward-round", &[]),
        ("cpa-review", &["--point", "Housing"]),
        ("tribunal", &["--hearing-on", "2026-12-01"]),
        ("managers-hearing", &[]),
        (
            "concern",
            &[
                "--raised-with",
                "Ward manager",
                "--response-due",
                "2026-11-29",
            ],
        ),
        (
            "records-request",
            &["--record-holder", "Ward manager", "--basis", "consent"],
        ),
        (
            "records-request",
            &[
                "--record-holder",
                "Ward manager",
                "--basis",
                "lacks-capacity",
                "--no-conflicting-decision-checked",
            ],
        ),
        (
            "rights-information",
            &["--topic", "rights", "--topic", "treatment"],
        ),
        (
            "contact",
            &["--method", "phone", "--with-whom", "MHA office"],
        ),
        ("other", &[]),
    ];
    for (kind, more) in extra {
        let mut args = base(kind);
        args.extend_from_slice(more);
        env.id(&args);
    }
    let shown = env.ok_json(&["case", "show", &case, "--json"]);
    assert_eq!(shown["timeline"].as_array().unwrap().len(), extra.len());

    // Kind-specific required fields are asked for by name.
    let missing: &[(&str, &[&str], &str)] = &[
        (
            "records-request",
            &["--record-holder", "Ward manager"],
            "--basis consent|lacks-capacity",
        ),
        (
            "records-request",
            &["--record-holder", "X", "--basis", "lacks-capacity"],
            "s130B(4)",
        ),
        ("concern", &[], "--raised-with"),
        ("rights-information", &[], "at least one topic"),
        ("contact", &[], "--method"),
        ("professional-interview", &[], "--professional"),
    ];
    for (kind, more, expect) in missing {
        let mut args = base(kind);
        args.extend_from_slice(more);
        assert_clean_failure(&env.run(&args), expect);
    }
}

#[test]
fn bad_input_gets_a_clear_one_line_error_and_changes_nothing() {
    let env = Env::new();
    env.init();
    let (client, case) = env.client_and_case();
    let before = snapshot(env.data_dir());

    let err = assert_clean_failure(
        &env.run(&[
            "client",
            "add",
            "--name",
            "Ewa Nowak",
            "--status",
            "s99",
            "--status-since",
            "2026-11-01",
            "--json",
        ]),
        "unknown legal status code 's99'",
    );
    assert!(err.contains("s37-41"), "lists the valid codes");

    let err = assert_clean_failure(
        &env.run(&[
            "client",
            "add",
            "--name",
            "Ewa Nowak",
            "--status",
            "s3",
            "--status-since",
            "2026-11-01",
            "--nhs-number",
            "9434765918",
            "--json",
        ]),
        "check digit",
    );
    assert!(
        !err.contains("9434765918") && !err.contains("Ewa"),
        "no record content in errors: {err}"
    );

    assert_clean_failure(
        &env.run(&[
            "client",
            "add",
            "--name",
            "Ewa",
            "--status",
            "s3",
            "--status-since",
            "01/11/2026",
            "--json",
        ]),
        "YYYY-MM-DD",
    );
    assert_clean_failure(
        &env.run(&["case", "open", "--client", &client, "--json"]),
        "already has an open case",
    );
    assert_clean_failure(
        &env.run(&[
            "activity",
            "add",
            "--case",
            "not-an-id",
            "--kind",
            "other",
            "--at",
            "2026-11-22T14:00",
            "--text",
            "x",
        ]),
        "not an id",
    );
    assert_clean_failure(
        &env.run(&[
            "activity",
            "add",
            "--case",
            &case,
            "--kind",
            "other",
            "--at",
            "2026-11-22T14:00",
            "--text",
            "   ",
        ]),
        "note text is required",
    );
    assert_clean_failure(
        &env.run(&[
            "case",
            "close",
            &case,
            "--on",
            "2026-01-01",
            "--reason",
            "issues-resolved",
        ]),
        "before the date the case opened",
    );
    assert_clean_failure(&env.run(&["search", "***"]), "at least one word");
    assert_clean_failure(&env.run(&["init"]), "never overwrites");
    assert_clean_failure(
        &env.cmd(Some("plum kettle harbor"), &["caseload"])
            .output()
            .unwrap(),
        "wrong passphrase",
    );
    assert_clean_failure(
        &env.cmd(None, &["caseload"]).output().unwrap(),
        "set WARDSIDE_PASSPHRASE",
    );
    assert_clean_failure(&env.run(&["frobnicate"]), "see `wardside --help`");

    assert_eq!(
        snapshot(env.data_dir()),
        before,
        "failed commands left every file as it was"
    );
}

#[test]
fn a_corrupt_or_missing_key_file_is_reported_and_nothing_is_touched() {
    let env = Env::new();
    env.init();
    let key = PathBuf::from(format!("{}.key", env.db.display()));
    let good = std::fs::read(&key).unwrap();
    std::fs::write(&key, b"{ not json").unwrap();
    let before = snapshot(env.data_dir());
    assert_clean_failure(&env.run(&["caseload"]), "key file");
    assert_eq!(snapshot(env.data_dir()), before);
    std::fs::remove_file(&key).unwrap();
    assert_clean_failure(&env.run(&["caseload"]), "is missing");
    std::fs::write(&key, good).unwrap();
    assert!(env.run(&["caseload"]).status.success());
    let missing = Env::new();
    assert_clean_failure(&missing.run(&["caseload"]), "wardside init");
}

#[test]
fn passwd_changes_the_passphrase_without_rewriting_the_database() {
    let env = Env::new();
    env.init();
    env.client_and_case();
    let db_before = std::fs::read(&env.db).unwrap();
    let out = env
        .cmd(Some(PASS), &["passwd"])
        .env("WARDSIDE_NEW_PASSPHRASE", "new tide lantern")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(std::fs::read(&env.db).unwrap(), db_before);
    assert_clean_failure(&env.run(&["caseload"]), "wrong passphrase");
    let out = env
        .cmd(Some("new tide lantern"), &["caseload", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success());
    // Wrong old passphrase: refused, key file untouched.
    let key_before = snapshot(env.data_dir());
    let out = env
        .cmd(Some(PASS), &["passwd"])
        .env("WARDSIDE_NEW_PASSPHRASE", "another one here")
        .output()
        .unwrap();
    assert_clean_failure(&out, "wrong passphrase");
    assert_eq!(snapshot(env.data_dir()), key_before);
}

#[test]
fn passwd_rekey_re_encrypts_the_database_so_an_old_key_file_no_longer_opens_it() {
    let env = Env::new();
    env.init();
    let (_, case) = env.client_and_case();
    let canary = "CANARY-0c1d9e-rekey-never-on-disk";
    env.id(&[
        "activity",
        "add",
        "--case",
        &case,
        "--kind",
        "private-interview",
        "--at",
        "2026-11-21T10:30",
        "--text",
        &format!("She said {canary} to me."),
        "--json",
    ]);
    let key = PathBuf::from(format!("{}.key", env.db.display()));
    let old_key = std::fs::read(&key).unwrap();
    let db_before = std::fs::read(&env.db).unwrap();

    // A wrong old passphrase: refused, no file touched.
    let before = snapshot(env.data_dir());
    let out = env
        .cmd(Some("plum kettle harbor"), &["passwd", "--rekey"])
        .env("WARDSIDE_NEW_PASSPHRASE", "new tide lantern")
        .output()
        .unwrap();
    assert_clean_failure(&out, "wrong passphrase");
    assert_eq!(snapshot(env.data_dir()), before);

    let out = env
        .cmd(Some(PASS), &["passwd", "--rekey"])
        .env("WARDSIDE_NEW_PASSPHRASE", "new tide lantern")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("Re-keyed"));
    // Not a terminal: a line per tenth done, ending at 100%, and nothing else.
    assert!(
        err.lines()
            .all(|l| l.starts_with("Re-encrypting the database: ") && l.ends_with('%')),
        "{err}"
    );
    assert_eq!(err.lines().last(), Some("Re-encrypting the database: 100%"));

    // The database was rewritten; only the pair is left, and nothing in it is readable.
    assert_ne!(std::fs::read(&env.db).unwrap(), db_before);
    let mut names: Vec<_> = files_under(env.data_dir())
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["wardside.db", "wardside.db.key"]);
    for (path, bytes) in snapshot(env.data_dir()) {
        assert!(
            !bytes.windows(canary.len()).any(|w| w == canary.as_bytes()),
            "{} holds the note",
            path.display()
        );
    }

    // The old passphrase no longer opens it; the new one does, with the note.
    assert_clean_failure(&env.run(&["caseload"]), "wrong passphrase");
    let out = env
        .cmd(Some("new tide lantern"), &["case", "show", &case, "--json"])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains(canary));

    // A copy of the old key file, kept from before, with the old passphrase: it no longer opens
    // today's database.
    let stolen = Env::new();
    std::fs::create_dir_all(stolen.data_dir()).unwrap();
    std::fs::copy(&env.db, &stolen.db).unwrap();
    std::fs::write(format!("{}.key", stolen.db.display()), &old_key).unwrap();
    assert_clean_failure(&stolen.run(&["caseload"]), "does not match its key file");
}

#[test]
fn a_canary_note_never_appears_in_any_file_under_the_data_directory() {
    let env = Env::new();
    env.init();
    let (_, case) = env.client_and_case();
    let canary = "CANARY-d41d8cd9-never-on-disk";
    // Through standard input, as a careful script would (keeps it out of the process list).
    let mut child = env
        .cmd(
            Some(PASS),
            &[
                "activity",
                "add",
                "--case",
                &case,
                "--kind",
                "private-interview",
                "--at",
                "2026-11-21T10:30",
                "--text",
                "-",
                "--json",
            ],
        )
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("She said {canary} to me.\n").as_bytes())
        .unwrap();
    assert!(child.wait_with_output().unwrap().status.success());
    let hits = env.ok_json(&["search", canary, "--json"]);
    assert_eq!(
        hits["hits"].as_array().unwrap().len(),
        1,
        "the note was stored and is searchable"
    );

    let files = files_under(env.data_dir());
    assert!(files.len() >= 2, "{files:?}");
    for f in files {
        let bytes = std::fs::read(&f).unwrap();
        for needle in [
            canary.as_bytes(),
            "Siân".as_bytes(),
            b"9434765919",
            b"Riverside",
            b"Cedar",
        ] {
            assert!(
                !bytes.windows(needle.len()).any(|w| w == needle),
                "{} holds plaintext {:?}",
                f.display(),
                String::from_utf8_lossy(needle)
            );
        }
    }
}

#[test]
fn the_rest_of_the_domain_is_reachable_and_a_case_closes_with_outcomes() {
    let env = Env::new();
    env.init();
    let (client, case) = env.client_and_case();
    env.id(&[
        "legal",
        "--client",
        &client,
        "--event",
        "tribunal-application",
        "--on",
        "2026-11-23",
        "--json",
    ]);
    env.id(&[
        "legal",
        "--client",
        &client,
        "--event",
        "status-started",
        "--status",
        "s3",
        "--on",
        "2026-11-24",
        "--json",
    ]);
    env.id(&[
        "consent",
        "--client",
        &client,
        "--scope",
        "records-access",
        "--state",
        "given",
        "--on",
        "2026-11-21",
        "--how",
        "verbally",
        "--json",
    ]);
    env.id(&[
        "consent",
        "--client",
        &client,
        "--scope",
        "records-access",
        "--state",
        "withdrawn",
        "--on",
        "2026-11-22",
        "--json",
    ]);
    env.id(&[
        "referral",
        "--client",
        &client,
        "--received",
        "2026-11-20",
        "--source",
        "ward-staff",
        "--json",
    ]);
    env.id(&[
        "client",
        "relative",
        &client,
        "--role",
        "nearest-relative",
        "--name",
        "Dafydd Llewelyn",
        "--relationship",
        "brother",
        "--json",
    ]);
    env.id(&[
        "client",
        "equality",
        &client,
        "--ethnicity",
        "A",
        "--religion",
        "Christian",
        "--json",
    ]);
    env.id(&["client", "update", &client, "--ward", "Willow", "--json"]);
    env.id(&[
        "safeguarding",
        "--case",
        &case,
        "--kind",
        "confidentiality-breach",
        "--at",
        "2026-11-22T15:00",
        "--reason",
        "Risk of serious harm to another person",
        "--told",
        "Nurse in charge",
        "--manager",
        "Service manager",
        "--discussed-first",
        "--json",
    ]);
    let issue = env.id(&[
        "issue",
        "add",
        "--case",
        &case,
        "--category",
        "tribunal",
        "--summary",
        "Wants to appeal",
        "--on",
        "2026-11-21",
        "--json",
    ]);
    assert_clean_failure(
        &env.run(&["case", "close", &case, "--reason", "issues-resolved"]),
        "record an outcome for each issue",
    );
    env.id(&[
        "issue",
        "outcome",
        &issue,
        "--outcome",
        "application-made",
        "--on",
        "2026-11-23",
        "--json",
    ]);
    env.id(&[
        "case",
        "close",
        &case,
        "--on",
        "2026-11-25",
        "--reason",
        "issues-resolved",
        "--json",
    ]);

    let shown = env.ok_json(&["case", "show", &case, "--json"]);
    assert_eq!(shown["current_status"]["status"], "s3");
    assert_eq!(
        shown["consents"].as_array().unwrap().len(),
        2,
        "consent history kept"
    );
    assert_eq!(shown["relatives"][0]["role"], "nearest-relative");
    assert_eq!(shown["client"]["equality"]["ethnic_category"], "A");
    assert_eq!(shown["client"]["ward"], "Willow");
    assert_eq!(
        shown["safeguarding"][0]["discussed_with_person_first"],
        true
    );
    assert_eq!(shown["issues"][0]["outcome"]["kind"], "application-made");
    assert_eq!(shown["case"]["closed"]["reason"], "issues-resolved");
    let open = env.ok_json(&["caseload", "--json"]);
    assert_eq!(
        open["cases"].as_array().unwrap().len(),
        0,
        "closed cases leave the caseload"
    );
    let all = env.ok_json(&["caseload", "--all", "--json"]);
    assert_eq!(all["cases"].as_array().unwrap().len(), 1);
}

#[test]
fn amendments_keep_every_version() {
    let env = Env::new();
    env.init();
    let (_, case) = env.client_and_case();
    let a = env.id(&[
        "activity",
        "add",
        "--case",
        &case,
        "--kind",
        "other",
        "--at",
        "2026-11-22T14:00",
        "--text",
        "Met at 2pm on Cedar.",
        "--json",
    ]);
    env.ok_json(&[
        "activity",
        "amend",
        &a,
        "--text",
        "Met at 2pm on Willow.",
        "--reason",
        "Wrong ward",
        "--json",
    ]);
    let history = env.ok_json(&["activity", "history", &a, "--json"]);
    let versions = history["versions"].as_array().unwrap();
    assert_eq!(versions.len(), 2);
    assert_eq!(versions[0]["body"], "Met at 2pm on Cedar.");
    assert_eq!(versions[1]["reason"], "Wrong ward");
}

#[test]
fn demo_is_deterministic_for_a_seed() {
    let names = |seed: &str| {
        let env = Env::new();
        env.init();
        let out = env.run(&[
            "demo",
            "--clients",
            "25",
            "--seed",
            seed,
            "--as-of",
            "2026-11-25",
            "--json",
        ]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let list = env.ok_json(&["caseload", "--limit", "100", "--json"]);
        list["cases"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| format!("{}|{}|{}", c["name"], c["status"], c["ward"]))
            .collect::<Vec<_>>()
    };
    let a = names("42");
    assert_eq!(a.len(), 25);
    assert_eq!(a, names("42"));
    assert_ne!(a, names("43"));
}

// ---- the rules engine: `wardside rules ...` needs no store and no passphrase ----

fn rules_cmd(args: &[&str], rules_file: Option<&Path>) -> Output {
    let config = tempfile::tempdir().unwrap();
    let mut c = Command::new(env!("CARGO_BIN_EXE_wardside"));
    c.args(args)
        .env_remove("WARDSIDE_PASSPHRASE")
        .env_remove("WARDSIDE_DB")
        .env_remove("WARDSIDE_RULES")
        .env("WARDSIDE_NOW", NOW)
        .env("XDG_CONFIG_HOME", config.path())
        .env("HOME", config.path())
        .stdin(Stdio::null());
    if let Some(f) = rules_file {
        c.arg("--rules").arg(f);
    }
    c.output().unwrap()
}

fn rules_json(args: &[&str], rules_file: Option<&Path>) -> Value {
    let out = rules_cmd(args, rules_file);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn rules_eligibility_answers_with_reason_and_source() {
    let yes = rules_json(
        &[
            "rules",
            "eligibility",
            "--status",
            "s3",
            "--on",
            "2026-11-25",
            "--json",
        ],
        None,
    );
    assert_eq!(yes["eligible"], true);
    assert_eq!(yes["source"], "MHA 1983 s. 130C(2)(a)");
    assert!(yes["reason"].as_str().unwrap().len() > 20);
    let no = rules_json(
        &["rules", "eligibility", "--status", "s136", "--json"],
        None,
    );
    assert_eq!(no["eligible"], false);
    let ect = rules_json(
        &[
            "rules",
            "eligibility",
            "--status",
            "informal",
            "--age",
            "16",
            "--considering",
            "s58a",
            "--json",
        ],
        None,
    );
    assert_eq!(ect["eligible"], true);
    let wales = rules_json(
        &[
            "rules",
            "eligibility",
            "--status",
            "informal",
            "--jurisdiction",
            "wales",
            "--json",
        ],
        None,
    );
    assert_eq!(wales["eligible"], true);
}

#[test]
fn rules_tribunal_lists_windows_in_date_order_for_three_years() {
    // Admitted 12 December 2026: day 14 is Christmas Day; the office reopens on 29 December.
    let v = rules_json(
        &[
            "rules",
            "tribunal",
            "--status",
            "s2",
            "--start",
            "2026-12-12",
            "--json",
        ],
        None,
    );
    let w = v["windows"].as_array().unwrap();
    assert_eq!(w.len(), 1);
    assert_eq!(w[0]["applicant"], "patient");
    assert_eq!(
        (w[0]["opens"].as_str(), w[0]["closes"].as_str()),
        (Some("2026-12-12"), Some("2026-12-29"))
    );
    let v = rules_json(
        &[
            "rules",
            "tribunal",
            "--status",
            "s37",
            "--start",
            "2026-01-15",
            "--json",
        ],
        None,
    );
    let w = v["windows"].as_array().unwrap();
    let opens: Vec<&str> = w.iter().map(|w| w["opens"].as_str().unwrap()).collect();
    assert!(opens.windows(2).all(|p| p[0] <= p[1]), "{opens:?}");
    assert_eq!(
        opens.first(),
        Some(&"2026-07-15"),
        "no application in the first six months"
    );
    assert!(w.iter().any(|w| w["applicant"] == "nearest_relative"));
    assert!(
        opens.iter().all(|o| *o <= "2029-01-14"),
        "within three years of the start"
    );
    let none = rules_json(
        &[
            "rules",
            "tribunal",
            "--status",
            "s35",
            "--start",
            "2026-01-15",
            "--json",
        ],
        None,
    );
    assert_eq!(none["windows"], serde_json::json!([]));
}

#[test]
fn rules_renewals_give_expiry_renewal_and_reference_dates() {
    let v = rules_json(
        &[
            "rules",
            "renewals",
            "--status",
            "s2",
            "--start",
            "2026-11-01",
            "--json",
        ],
        None,
    );
    assert_eq!(v["expires"], "2026-11-28");
    let v = rules_json(
        &[
            "rules",
            "renewals",
            "--status",
            "s3",
            "--start",
            "2026-03-03",
            "--json",
        ],
        None,
    );
    let ends: Vec<&str> = v["periods"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["to"].as_str().unwrap())
        .collect();
    assert_eq!(&ends[..3], ["2026-09-02", "2027-03-02", "2028-03-02"]);
    assert_eq!(v["references"][0]["due"], "2026-09-03");
    assert!(
        v["inform"]["who"]
            .as_str()
            .unwrap()
            .contains("hospital managers")
    );
}

/// Issue 15: a CTO's six-month reference counts from the original admission (s. 68(5)(c)),
/// which `--admitted` gives; an informal out-patient in Wales does not qualify (s. 130J).
#[test]
fn rules_take_the_original_admission_and_whether_an_informal_patient_is_an_in_patient() {
    let without = rules_json(
        &[
            "rules",
            "renewals",
            "--status",
            "s17a",
            "--start",
            "2026-05-01",
            "--json",
        ],
        None,
    );
    assert!(
        without["references_note"]
            .as_str()
            .unwrap()
            .contains("s. 68(5)(c)")
    );
    let with = rules_json(
        &[
            "rules",
            "renewals",
            "--status",
            "s17a",
            "--start",
            "2026-05-01",
            "--admitted",
            "2026-01-05",
            "--json",
        ],
        None,
    );
    assert_eq!(with["references"][0]["due"], "2026-07-05");
    let text = rules_cmd(
        &[
            "rules",
            "renewals",
            "--status",
            "s17a",
            "--start",
            "2026-05-01",
        ],
        None,
    );
    assert!(String::from_utf8_lossy(&text.stdout).contains("--admitted"));
    let out = rules_json(
        &[
            "rules",
            "eligibility",
            "--status",
            "informal",
            "--jurisdiction",
            "wales",
            "--out-patient",
            "--json",
        ],
        None,
    );
    assert_eq!(out["eligible"], false);
    assert!(out["source"].as_str().unwrap().contains("130J(2)"));
    let both = rules_cmd(
        &[
            "rules",
            "eligibility",
            "--status",
            "informal",
            "--in-patient",
            "--out-patient",
        ],
        None,
    );
    assert!(!both.status.success());
    let s70 = rules_json(
        &[
            "rules",
            "tribunal",
            "--status",
            "s37-41",
            "--start",
            "2026-08-31",
            "--json",
        ],
        None,
    );
    assert_eq!(s70["windows"][0]["closes"], "2027-08-30", "s. 70(a)");
    // Bad input: a clear one-line error each, never a silent wrong answer.
    for (args, expect) in [
        (
            &[
                "rules",
                "renewals",
                "--status",
                "s17a",
                "--start",
                "2026-05-01",
                "--admitted",
                "2026-07-05",
            ][..],
            "after --start",
        ),
        (
            &[
                "rules",
                "renewals",
                "--status",
                "s37-41",
                "--start",
                "2026-05-01",
                "--admitted",
                "2026-01-05",
            ][..],
            "does not apply to s37-41",
        ),
        (
            &["rules", "eligibility", "--status", "s3", "--out-patient"][..],
            "not informal",
        ),
        (
            &["rules", "tribunal", "--status", "s3"][..],
            "--start <START>",
        ),
        (
            &[
                "rules",
                "tribunal",
                "--status",
                "s3",
                "--start",
                "9999-12-31",
            ][..],
            "outside 1983-2200",
        ),
    ] {
        let out = rules_cmd(args, None);
        assert!(!out.status.success(), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(expect), "{args:?}: {err}");
    }
    // A CTO recorded before CTOs existed: said so, not "no right".
    let early = rules_json(
        &[
            "rules",
            "tribunal",
            "--status",
            "s17a",
            "--start",
            "2008-10-01",
            "--json",
        ],
        None,
    );
    assert!(
        early["note"].as_str().unwrap().contains("3 Nov 2008"),
        "{early}"
    );
}

/// Output piped into a reader that stops early (`| head -1`) ends quietly, not with an
/// "internal error".
#[test]
fn output_closed_early_ends_quietly() {
    let config = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_wardside"))
        .args([
            "rules",
            "tribunal",
            "--status",
            "s37",
            "--start",
            "2026-01-15",
        ])
        .env("WARDSIDE_NOW", NOW)
        .env("XDG_CONFIG_HOME", config.path())
        .env("HOME", config.path())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Close the reading end before the command writes.
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("internal error"), "{err}");
}

#[test]
fn an_organisation_rules_file_commences_the_2025_act_without_a_new_build() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("rules.toml");
    std::fs::write(
        &file,
        "# Our commencement dates\n[commencement]\n\"mha2025-section-3-periods\" = 2027-01-01\n",
    )
    .unwrap();
    let v = rules_json(
        &[
            "rules",
            "renewals",
            "--status",
            "s3",
            "--start",
            "2027-02-01",
            "--json",
        ],
        Some(&file),
    );
    assert_eq!(
        v["periods"][0]["to"], "2027-04-30",
        "three months under the 2025 Act"
    );
    let provisions = rules_json(&["rules", "provisions", "--json"], Some(&file));
    let p = provisions["provisions"].as_array().unwrap();
    assert!(
        p.iter()
            .any(|p| p["key"] == "mha2025-section-3-periods" && p["commences"] == "2027-01-01")
    );
    assert!(
        p.iter()
            .any(|p| p["key"] == "mha2025-nominated-person" && p["commences"].is_null())
    );
    // Without --rules, the file in Wardside's configuration directory is read.
    let config = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(config.path().join("wardside")).unwrap();
    std::fs::write(
        config.path().join("wardside/rules.toml"),
        "jurisdiction = \"wales\"\n",
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_wardside"))
        .args(["rules", "eligibility", "--status", "informal", "--json"])
        .env_remove("WARDSIDE_RULES")
        .env("WARDSIDE_NOW", NOW)
        .env("XDG_CONFIG_HOME", config.path())
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["eligible"], true, "Wales: informal in-patients qualify");
    // A typo must not silently leave the Act out of force.
    std::fs::write(
        &file,
        "[commencement]\n\"mha2025-s3-periods\" = 2027-01-01\n",
    )
    .unwrap();
    assert_clean_failure(
        &rules_cmd(&["rules", "provisions"], Some(&file)),
        "unknown provision 'mha2025-s3-periods'",
    );
    assert_clean_failure(
        &rules_cmd(
            &["rules", "provisions"],
            Some(&dir.path().join("missing.toml")),
        ),
        "could not read the rules file",
    );
}

#[test]
fn rules_bad_input_is_a_clear_error() {
    assert_clean_failure(
        &rules_cmd(&["rules", "eligibility", "--status", "s99", "--json"], None),
        "unknown legal status code 's99'",
    );
    assert_clean_failure(
        &rules_cmd(
            &[
                "rules",
                "tribunal",
                "--status",
                "s3",
                "--start",
                "2026-02-30",
                "--json",
            ],
            None,
        ),
        "'2026-02-30' is not a date",
    );
    assert_clean_failure(
        &rules_cmd(
            &[
                "rules",
                "eligibility",
                "--status",
                "informal",
                "--age",
                "200",
                "--json",
            ],
            None,
        ),
        "out of range",
    );
    assert_clean_failure(
        &rules_cmd(
            &[
                "rules",
                "eligibility",
                "--status",
                "informal",
                "--considering",
                "s58a",
            ],
            None,
        ),
        "give --age",
    );
    assert_clean_failure(
        &rules_cmd(
            &[
                "rules",
                "eligibility",
                "--status",
                "s3",
                "--jurisdiction",
                "scotland",
            ],
            None,
        ),
        "unknown jurisdiction 'scotland'",
    );
}

#[test]
fn referrals_record_eligibility_and_case_show_carries_reminders() {
    let env = Env::new();
    env.init();
    let (client, case) = env.client_and_case(); // s2 since 2026-11-20
    env.id(&[
        "referral",
        "--client",
        &client,
        "--source",
        "ward-staff",
        "--received",
        "2026-11-21",
        "--json",
    ]);
    let shown = env.ok_json(&["client", "show", &client, "--json"]);
    let referral = &shown["referrals"][0];
    assert_eq!(referral["eligible"], true);
    assert_eq!(referral["eligibility_source"], "MHA 1983 s. 130C(2)(a)");
    let view = env.ok_json(&["case", "show", &case, "--on", "2026-11-30", "--json"]);
    assert_eq!(view["eligibility"]["eligible"], true);
    let reminders = view["reminders"].as_array().unwrap();
    let window = reminders
        .iter()
        .find(|r| r["kind"] == "tribunal-window-closes")
        .unwrap();
    assert_eq!(window["due"], "2026-12-03");
    assert_eq!(window["days_left"], 3);
    assert!(
        window["text"]
            .as_str()
            .unwrap()
            .contains("closes in 3 days")
    );
    assert!(
        window["guidance"]
            .as_str()
            .unwrap()
            .contains("verify with the MHA office")
    );
    // An ending cannot be recorded before it happens (the store's today is 25 Nov)...
    let out = env.run(&[
        "legal",
        "--client",
        &client,
        "--event",
        "ended",
        "--on",
        "2026-11-28",
        "--json",
    ]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("must be today or in the past"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // ...and once the s2 has ended, it has no reminders.
    env.id(&[
        "legal",
        "--client",
        &client,
        "--event",
        "ended",
        "--on",
        "2026-11-24",
        "--json",
    ]);
    let view = env.ok_json(&["case", "show", &case, "--on", "2026-11-30", "--json"]);
    assert_eq!(view["reminders"], serde_json::json!([]));
}

fn pdftotext(pdf: &Path) -> String {
    let out = Command::new("pdftotext")
        .arg(pdf)
        .arg("-")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn exports_write_only_the_named_output_and_withheld_entries_stay_out_of_the_persons_copy() {
    let env = Env::new();
    env.init();
    let (client, case) = env.client_and_case();
    for (text, withhold) in [
        (
            "Explained section 2 and the tribunal. She wants to appeal.",
            None,
        ),
        (
            "WITHHELDCANARY: her neighbour's diagnosis.",
            Some("third-party"),
        ),
    ] {
        let mut args = vec![
            "activity",
            "add",
            "--case",
            &case,
            "--kind",
            "private-interview",
            "--at",
            "2026-11-21T10:30",
            "--text",
            text,
            "--json",
        ];
        if let Some(w) = withhold {
            args.extend(["--withhold", w]);
        }
        env.id(&args);
    }

    env.id(&[
        "safeguarding",
        "--case",
        &case,
        "--kind",
        "safeguarding-concern",
        "--at",
        "2026-11-22T15:00",
        "--reason",
        "SAFEGUARDINGCANARY about another patient",
        "--told",
        "Nurse in charge",
        "--manager",
        "Service manager",
        "--discussed-first",
        "--withhold",
        "third-party",
        "--json",
    ]);

    // Everything runs with its temporary folder and working directory pointed at empty
    // folders, which must stay empty: no copies anywhere but the named output.
    let scratch = tempfile::tempdir().unwrap();
    let tmp = scratch.path().join("tmp");
    let cwd = scratch.path().join("cwd");
    let outdir = scratch.path().join("out");
    for d in [&tmp, &cwd, &outdir] {
        std::fs::create_dir_all(d).unwrap();
    }
    let before = snapshot(env.data_dir()).len();
    let export = |args: &[&str]| {
        let out = env
            .cmd(Some(PASS), args)
            .env("TMPDIR", &tmp)
            .current_dir(&cwd)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice::<Value>(&out.stdout).unwrap()
    };

    let file = outdir.join("case.pdf");
    let r = export(&[
        "export",
        "pdf",
        "--client",
        &client,
        "--out",
        file.to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(r["written"][0]["path"], file.to_str().unwrap());
    let text = pdftotext(&file);
    assert!(text.contains("Siân Llewelyn") && text.contains("WITHHELDCANARY"));
    assert!(text.contains("SAFEGUARDINGCANARY"));

    let copy = outdir.join("copy.pdf");
    export(&[
        "export",
        "pdf",
        "--client",
        &client,
        "--out",
        copy.to_str().unwrap(),
        "--patient-copy",
        "--json",
    ]);
    let text = pdftotext(&copy);
    assert!(text.contains("YOUR ADVOCACY RECORD") && text.contains("She wants to appeal."));
    assert!(!text.contains("WITHHELDCANARY") && !text.contains("SAFEGUARDINGCANARY"));
    assert!(text.contains("not included"));

    let sar = outdir.join("sar");
    let r = export(&[
        "export",
        "sar",
        "--client",
        &client,
        "--out",
        sar.to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(r["written"].as_array().unwrap().len(), 2);
    let json = std::fs::read_to_string(r["written"][1]["path"].as_str().unwrap()).unwrap();
    assert!(json.contains("She wants to appeal.") && !json.contains("WITHHELDCANARY"));
    assert!(!json.contains("SAFEGUARDINGCANARY"));

    let hearing = outdir.join("hearing.pdf");
    export(&[
        "export",
        "hearing",
        "--case",
        &case,
        "--out",
        hearing.to_str().unwrap(),
        "--json",
    ]);
    assert!(pdftotext(&hearing).contains("HEARING SUMMARY"));

    // Exactly the named files; the temporary folder, the working directory and the data
    // directory hold nothing new.
    let mut made: Vec<_> = files_under(&outdir)
        .into_iter()
        .map(|p| {
            p.strip_prefix(&outdir)
                .unwrap()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    made.sort();
    assert_eq!(made.len(), 5, "{made:?}");
    assert!(made.starts_with(&[
        "case.pdf".to_string(),
        "copy.pdf".into(),
        "hearing.pdf".into()
    ]));
    assert!(files_under(&tmp).is_empty() && files_under(&cwd).is_empty());
    assert_eq!(snapshot(env.data_dir()).len(), before);

    // Each export is in the case's audit trail.
    let audit = env.ok_json(&["case", "audit", &case, "--json"]);
    let actions: Vec<&str> = audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["action"].as_str())
        .filter(|a| a.starts_with("export"))
        .collect();
    assert_eq!(
        actions,
        [
            "export-case-file",
            "export-patient-copy",
            "export-subject-access",
            "export-hearing-summary"
        ]
    );
}

#[test]
fn a_bad_export_request_is_a_clear_error_and_writes_nothing() {
    let env = Env::new();
    env.init();
    let (client, _) = env.client_and_case();
    let scratch = tempfile::tempdir().unwrap();
    let out = scratch.path().join("x.pdf");
    let missing = "00000000-0000-4000-8000-000000000000";
    // `export WHAT --FLAG ID --out PATH`
    let export = |what: &str, flag: &str, id: &str, path: &Path| {
        env.run(&["export", what, flag, id, "--out", path.to_str().unwrap()])
    };
    assert_clean_failure(
        &export("pdf", "--client", missing, &out),
        "no client with id",
    );
    assert_clean_failure(
        &export("hearing", "--case", missing, &out),
        "no case with id",
    );
    assert_clean_failure(&export("pdf", "--client", "not-an-id", &out), "not-an-id");
    assert!(!out.exists());
    // A folder that is not there, and a full disk.
    let nowhere = scratch.path().join("no-such-folder").join("x.pdf");
    assert_clean_failure(
        &export("pdf", "--client", &client, &nowhere),
        "no-such-folder",
    );
    // A full disk: /dev/full is already there, so only with --overwrite does the write begin.
    let full = Path::new("/dev/full");
    if full.exists() {
        assert_clean_failure(&export("pdf", "--client", &client, full), "--overwrite");
        let out = env.run(&[
            "export",
            "pdf",
            "--client",
            &client,
            "--out",
            "/dev/full",
            "--overwrite",
        ]);
        assert_clean_failure(&out, "/dev/full");
    }
    assert!(files_under(scratch.path()).is_empty());
}

#[cfg(unix)]
#[test]
fn exports_are_private_never_follow_a_link_and_replace_a_file_only_with_overwrite() {
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &Path| std::fs::symlink_metadata(p).unwrap().permissions().mode() & 0o777;
    let env = Env::new();
    env.init();
    let (client, case) = env.client_and_case();
    let scratch = tempfile::tempdir().unwrap();
    let dir = scratch.path();
    let export = |args: &[&str], out: &Path| {
        let mut all = vec!["export"];
        all.extend_from_slice(args);
        all.extend_from_slice(&["--out", out.to_str().unwrap()]);
        env.run(&all)
    };
    let pdf = ["pdf", "--client", client.as_str()];
    let hearing = ["hearing", "--case", case.as_str()];
    let sar = ["sar", "--client", client.as_str()];

    // A new file is readable by its owner only.
    let new = dir.join("new.pdf");
    assert!(export(&pdf, &new).status.success());
    assert_eq!(mode(&new), 0o600);

    // An earlier file is kept byte for byte, with a one-line error naming the flag...
    let earlier = dir.join("case.pdf");
    std::fs::write(&earlier, b"the earlier case file").unwrap();
    std::fs::set_permissions(&earlier, std::fs::Permissions::from_mode(0o644)).unwrap();
    for what in [&pdf, &hearing] {
        let err = assert_clean_failure(&export(what, &earlier), "already exists");
        assert!(
            err.contains("case.pdf") && err.contains("add --overwrite"),
            "{err}"
        );
        assert_eq!(std::fs::read(&earlier).unwrap(), b"the earlier case file");
        assert_eq!(mode(&earlier), 0o644);
    }
    // ...and nothing was made or audited for the refused exports.
    let audit = env.ok_json(&["case", "audit", &case, "--json"]);
    let exports = audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"].as_str().unwrap().starts_with("export"))
        .count();
    assert_eq!(exports, 1, "only the export that was written");
    // With --overwrite it is replaced, and made private.
    let mut args = hearing.to_vec();
    args.push("--overwrite");
    assert!(export(&args, &earlier).status.success());
    assert!(pdftotext(&earlier).contains("HEARING SUMMARY"));
    assert_eq!(mode(&earlier), 0o600);

    // A symbolic link is never followed, with or without --overwrite.
    let target = dir.join("precious.txt");
    std::fs::write(&target, b"someone else's file").unwrap();
    let link = dir.join("link.pdf");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let mut args = pdf.to_vec();
    assert_clean_failure(&export(&args, &link), "symbolic link");
    args.push("--overwrite");
    assert_clean_failure(&export(&args, &link), "symbolic link");
    assert_eq!(std::fs::read(&target).unwrap(), b"someone else's file");

    // A subject access response: both files private; an earlier one of either is kept unless
    // --overwrite, and then both are replaced.
    let folder = dir.join("sar");
    let r = env.ok_json(&[
        "export",
        "sar",
        "--client",
        &client,
        "--out",
        folder.to_str().unwrap(),
        "--json",
    ]);
    let written: Vec<PathBuf> = r["written"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| PathBuf::from(w["path"].as_str().unwrap()))
        .collect();
    assert_eq!(written.len(), 2);
    assert!(written.iter().all(|p| mode(p) == 0o600), "{written:?}");
    std::fs::remove_file(&written[0]).unwrap();
    std::fs::write(&written[1], b"earlier").unwrap();
    assert_clean_failure(&export(&sar, &folder), "--overwrite");
    assert!(!written[0].exists(), "neither file is written");
    assert_eq!(std::fs::read(&written[1]).unwrap(), b"earlier");
    let mut args = sar.to_vec();
    args.push("--overwrite");
    assert!(export(&args, &folder).status.success());
    assert!(written.iter().all(|p| mode(p) == 0o600));
    assert_ne!(std::fs::read(&written[1]).unwrap(), b"earlier");
}

#[test]
fn an_export_into_a_folder_is_named_without_the_persons_name_unless_asked() {
    let env = Env::new();
    env.init();
    let (client, case) = env.client_and_case();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().to_str().unwrap();
    let reference = &case.replace('-', "")[..8];
    let written = |r: Value| r["written"][0]["path"].as_str().unwrap().to_owned();

    let hearing =
        written(env.ok_json(&["export", "hearing", "--case", &case, "--out", out, "--json"]));
    assert_eq!(
        hearing,
        dir.path()
            .join(format!("hearing-summary-{reference}-2026-11-25.pdf"))
            .to_str()
            .unwrap()
    );
    let copy = written(env.ok_json(&[
        "export",
        "pdf",
        "--client",
        &client,
        "--patient-copy",
        "--out",
        out,
        "--json",
    ]));
    assert!(
        !copy.contains("Siân") && !copy.contains("Llewelyn"),
        "{copy}"
    );
    assert!(copy.ends_with(&format!("copy-for-the-person-{reference}-2026-11-25.pdf")));
    // The store's own advocate opened the case: the person's copy names them.
    assert!(pdftotext(Path::new(&copy)).contains("your advocate: Ceri Jones"));

    // Asked for, the name is in it; and the human output says the file is not encrypted.
    let r = env.run(&[
        "export",
        "pdf",
        "--client",
        &client,
        "--out",
        out,
        "--name-in-filename",
    ]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let said = String::from_utf8(r.stdout).unwrap();
    assert!(
        said.contains(&format!(
            "case-file-Siân-Llewelyn-{reference}-2026-11-25.pdf"
        )),
        "{said}"
    );
    assert!(said.contains("not encrypted"), "{said}");

    let sar = env.ok_json(&["export", "sar", "--client", &client, "--out", out, "--json"]);
    for f in sar["written"].as_array().unwrap() {
        let p = f["path"].as_str().unwrap();
        assert!(
            p.contains(&format!("subject-access-{reference}-")) && !p.contains("Siân"),
            "{p}"
        );
    }
}

/// Issue 16: a commissioner's return from a store built through the CLI, in every format. Every
/// number of the JSON and every CSV file whole are checked, suppression included; the PDF shows
/// each headline with its title; the workbook is there; a second run gives the same bytes.
#[test]
fn a_commissioners_return_counts_what_the_cli_recorded() {
    let env = Env::new();
    env.init();
    let person = |name: &str, authority: Option<&str>, received: &str, contact: Option<&str>| {
        let client = env.id(&[
            "client",
            "add",
            "--name",
            name,
            "--status",
            "s3",
            "--status-since",
            "2026-08-01",
            "--hospital",
            "Riverside",
            "--json",
        ]);
        let referral = env.id(&[
            "referral",
            "--client",
            &client,
            "--received",
            received,
            "--source",
            "ward-staff",
            "--json",
        ]);
        let mut open = vec![
            "case",
            "open",
            "--client",
            &client,
            "--on",
            received,
            "--referral",
            &referral,
            "--json",
        ];
        if let Some(a) = authority {
            open.extend(["--authority", a]);
        }
        let case = env.id(&open);
        if let Some(day) = contact {
            let at = format!("{day}T10:00");
            env.ok_json(&[
                "activity",
                "add",
                "--case",
                &case,
                "--kind",
                "private-interview",
                "--at",
                &at,
                "--duration",
                "60",
                "--text",
                "Met in private",
                "--json",
            ]);
        }
        case
    };
    // Nine people for Northshire, referred on Monday 3 August 2026, seen 0 to 8 working days
    // later; one for another commissioner; one with no responsible authority.
    let seen = [
        "2026-08-03",
        "2026-08-04",
        "2026-08-05",
        "2026-08-06",
        "2026-08-07",
        "2026-08-10",
        "2026-08-11",
        "2026-08-12",
        "2026-08-13",
    ];
    for (i, day) in seen.iter().enumerate() {
        person(
            &format!("Person {i}"),
            Some("Northshire County Council"),
            "2026-08-03",
            Some(day),
        );
    }
    person("Elsewhere", Some("Southshire Council"), "2026-08-03", None);
    let lost = person("No Authority", None, "2026-08-04", None);
    let out_dir = env.data_dir().parent().unwrap().join("q3");
    let out_s = out_dir.to_str().unwrap().to_owned();
    let args = [
        "report",
        "return",
        "--commissioner",
        "northshire county council",
        "--from",
        "2026-07-01",
        "--to",
        "2026-09-30",
        "--out",
        &out_s,
        "--format",
        "pdf,csv,xlsx,json",
    ];
    let run = env.run(&args);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(
        stderr.contains(&lost),
        "the case with no authority is listed: {stderr}"
    );
    let json: Value =
        serde_json::from_slice(&std::fs::read(out_dir.join("return.json")).unwrap()).unwrap();
    assert_eq!(json["commissioner"], "Northshire County Council");
    assert_eq!(json["from"], "2026-07-01");
    assert_eq!(json["to"], "2026-09-30");
    let m = &json["measures"];
    // (key, title as printed, value): nine referred, seen 0 to 8 working days later, an hour
    // each; 3 and 6 within 2 and 5 days are starred (so are the 6 and 3 not within them), and no
    // case closed, so there is no length of involvement.
    let headlines = [
        (
            "referrals_received",
            "Referrals received",
            serde_json::json!(9),
        ),
        (
            "referrals_eligible",
            "Referrals of qualifying patients",
            serde_json::json!(9),
        ),
        ("cases_opened", "Cases opened", serde_json::json!(9)),
        (
            "cases_open_at_start",
            "Cases open at the start",
            serde_json::json!(0),
        ),
        (
            "cases_open_at_end",
            "Cases open at the end",
            serde_json::json!(9),
        ),
        ("cases_closed", "Cases closed", serde_json::json!(0)),
        (
            "non_instructed_cases",
            "Non-instructed cases",
            serde_json::json!(0),
        ),
        (
            "involvement_median_days",
            "Length of involvement (median days)",
            Value::Null,
        ),
        (
            "first_contact_referrals",
            "Referrals timed to first contact",
            serde_json::json!(9),
        ),
        (
            "first_contact_median_working_days",
            "Days to first contact (median)",
            serde_json::json!(4.0),
        ),
        (
            "first_contact_90th_percentile_working_days",
            "Days to first contact (90th percentile)",
            serde_json::json!(8.0),
        ),
        (
            "first_contact_within_2_working_days_pct",
            "First contact within 2 working days (%)",
            serde_json::json!("*"),
        ),
        (
            "first_contact_within_5_working_days_pct",
            "First contact within 5 working days (%)",
            serde_json::json!("*"),
        ),
        (
            "tribunals_supported",
            "Tribunals supported",
            serde_json::json!(0),
        ),
        (
            "managers_hearings_supported",
            "Managers' hearings supported",
            serde_json::json!(0),
        ),
        (
            "ward_rounds_and_cpa_attended",
            "Ward rounds and CPA reviews attended",
            serde_json::json!(0),
        ),
        ("concerns_raised", "Concerns raised", serde_json::json!(0)),
        (
            "concerns_answered_late",
            "Concerns answered late",
            serde_json::json!(0),
        ),
        (
            "advocacy_hours",
            "Hours of advocacy recorded",
            serde_json::json!(9.0),
        ),
    ];
    for (key, _, want) in &headlines {
        assert_eq!(&m[key], want, "{key}");
    }
    assert_eq!(m.as_object().unwrap().len(), headlines.len(), "{m}");
    let t = &json["tables"];
    assert_eq!(t["referral_source"], serde_json::json!({"ward-staff": 9}));
    assert_eq!(t["section_at_referral"], serde_json::json!({"s3": 9}));
    assert_eq!(
        t["ethnic_category"],
        serde_json::json!({"99": 9}),
        "never recorded: 99"
    );
    assert_eq!(t["hospital"], serde_json::json!({"Riverside": 9}));
    assert_eq!(
        t["activity_kind"],
        serde_json::json!({"private-interview": 9})
    );
    // Every CSV says what the JSON says.
    let measures = std::fs::read_to_string(out_dir.join("measures.csv")).unwrap();
    let mut lines = measures.lines();
    assert_eq!(lines.next(), Some("measure,value"));
    let mut n = 0;
    for line in lines {
        let (k, v) = line.split_once(',').unwrap();
        let want = match &m[k] {
            Value::String(s) => s.clone(),
            Value::Null => String::new(),
            other => other.to_string(),
        };
        assert_eq!(v, want, "{k}");
        n += 1;
    }
    assert_eq!(n, m.as_object().unwrap().len());
    for (table, cells) in t.as_object().unwrap() {
        let csv = std::fs::read_to_string(out_dir.join(format!("{table}.csv"))).unwrap();
        let rows: Vec<&str> = csv.lines().skip(1).collect();
        assert_eq!(rows.len(), cells.as_object().unwrap().len(), "{table}");
        for row in rows {
            let (code, count) = row.rsplit_once(',').unwrap();
            let want = match &cells[code.trim_matches('"')] {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            assert_eq!(count, want, "{table} {code}");
        }
    }
    assert_every_csv_is(&out_dir, &expected_csvs());
    // The PDF: each headline's title with its value on its line, each table's rows.
    let pdf = pdftotext_layout(&out_dir.join("return.pdf"));
    assert!(pdf.contains("Northshire County Council"), "{pdf}");
    assert!(pdf.contains("1 July 2026 to 30 September 2026"), "{pdf}");
    assert!(
        pdf.contains("Suppressed: counts of 1 to 7 shown as *"),
        "{pdf}"
    );
    for (key, title, value) in &headlines {
        let value = match value {
            Value::String(s) => s.clone(),
            Value::Null => "none".to_string(),
            other => other.to_string(),
        };
        assert!(
            on_one_line(&pdf, &[title, &value]),
            "{key}: {title} {value}\n{pdf}"
        );
    }
    for row in [
        ["ward-staff", "Ward staff", "9"],
        ["s3", "Section 3 (admission for treatment)", "9"],
        [
            "private-interview",
            "Private interview with the patient",
            "9",
        ],
        ["99", "Not known", "9"],
    ] {
        assert!(on_one_line(&pdf, &row), "{row:?}\n{pdf}");
    }
    assert!(on_one_line(&pdf, &["Riverside", "9"]), "{pdf}");
    assert!(pdf.contains("None in this period."), "{pdf}");
    // The workbook: a zip with the measures and a sheet per table.
    let xlsx = std::fs::read(out_dir.join("return.xlsx")).unwrap();
    assert!(xlsx.starts_with(b"PK\x03\x04"), "a zip");
    // The same data gives the same bytes; an existing file is never replaced unasked.
    let first = std::fs::read(out_dir.join("return.json")).unwrap();
    let again = env.run(&args);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("--overwrite"));
    let mut with = args.to_vec();
    with.push("--overwrite");
    let first_pdf = std::fs::read(out_dir.join("return.pdf")).unwrap();
    let first_xlsx = std::fs::read(out_dir.join("return.xlsx")).unwrap();
    assert!(env.run(&with).status.success());
    assert_eq!(std::fs::read(out_dir.join("return.json")).unwrap(), first);
    assert_eq!(
        std::fs::read(out_dir.join("return.pdf")).unwrap(),
        first_pdf
    );
    assert_eq!(
        std::fs::read(out_dir.join("return.xlsx")).unwrap(),
        first_xlsx
    );
    assert_every_csv_is(&out_dir, &expected_csvs());
    // Suppression: at a threshold of 9 every count of 1 to 9 is starred.
    let strict = env.data_dir().parent().unwrap().join("q3-strict");
    let strict_s = strict.to_str().unwrap().to_owned();
    // The same return into another folder, as JSON alone.
    let mut s_args = args[..args.len() - 3].to_vec();
    s_args.extend([
        strict_s.as_str(),
        "--suppress-below",
        "9",
        "--format",
        "json",
    ]);
    assert!(env.run(&s_args).status.success());
    let json: Value =
        serde_json::from_slice(&std::fs::read(strict.join("return.json")).unwrap()).unwrap();
    assert_eq!(json["measures"]["referrals_received"], "*");
    assert_eq!(json["tables"]["ethnic_category"]["99"], "*");
    assert!(!strict.join("measures.csv").exists(), "json only");
    assert!(!strict.join("return.pdf").exists() && !strict.join("return.xlsx").exists());
    // A commissioner no case has is refused with the names recorded; a folder that is a
    // symbolic link is never written through.
    let typo = env.run(&[
        "report",
        "return",
        "--commissioner",
        "Northshire CC",
        "--from",
        "2026-07-01",
        "--to",
        "2026-09-30",
        "--out",
        &out_s,
    ]);
    assert!(!typo.status.success());
    let err = String::from_utf8_lossy(&typo.stderr);
    assert!(
        err.contains("Northshire County Council") && err.contains("Southshire Council"),
        "{err}"
    );
    let link = env.data_dir().parent().unwrap().join("q3-link");
    std::os::unix::fs::symlink(&out_dir, &link).unwrap();
    let linked = env.run(&[
        "report",
        "return",
        "--commissioner",
        "Northshire County Council",
        "--from",
        "2026-07-01",
        "--to",
        "2026-09-30",
        "--out",
        link.to_str().unwrap(),
        "--overwrite",
    ]);
    assert!(!linked.status.success());
    assert!(String::from_utf8_lossy(&linked.stderr).contains("symbolic link"));
    // The definitions need no store.
    let defs = Command::new(env!("CARGO_BIN_EXE_wardside"))
        .args(["report", "measures"])
        .env("WARDSIDE_NOW", NOW)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&defs.stdout).contains("first_contact_median_working_days"));
}

/// Each CSV file of the return in `a_commissioners_return_counts_what_the_cli_recorded`, whole:
/// nine people for Northshire, each referred by ward staff on s. 3 to Riverside (no ward
/// recorded), eligible, seen once in private for an hour, nothing else recorded about them; no
/// case closed, no issue, concern or records request.
fn expected_csvs() -> Vec<(&'static str, String)> {
    let nine = |code: &str| format!("code,count\n{code},9\n");
    let none = || "code,count\n".to_string();
    let mut csvs = vec![
        (
            "measures.csv",
            [
                "measure,value",
                "advocacy_hours,9.0",
                "cases_closed,0",
                "cases_open_at_end,9",
                "cases_open_at_start,0",
                "cases_opened,9",
                "concerns_answered_late,0",
                "concerns_raised,0",
                "first_contact_90th_percentile_working_days,8.0",
                "first_contact_median_working_days,4.0",
                "first_contact_referrals,9",
                "first_contact_within_2_working_days_pct,*",
                "first_contact_within_5_working_days_pct,*",
                "involvement_median_days,",
                "managers_hearings_supported,0",
                "non_instructed_cases,0",
                "referrals_eligible,9",
                "referrals_received,9",
                "tribunals_supported,0",
                "ward_rounds_and_cpa_attended,0",
                "",
            ]
            .join("\n"),
        ),
        ("referral_source.csv", nine("ward-staff")),
        ("section_at_referral.csv", nine("s3")),
        ("eligibility.csv", nine("eligible")),
        ("not_eligible_why.csv", none()),
        ("out_of_area.csv", nine("not recorded")),
        ("repeat_referrals.csv", nine("first")),
        ("hospital.csv", nine("Riverside")),
        ("hospital_ward.csv", nine("Riverside / not recorded")),
        ("closing_reason.csv", none()),
        ("length_of_involvement.csv", none()),
        ("instruction.csv", nine("instructed")),
        ("activity_kind.csv", nine("private-interview")),
        ("records_basis.csv", none()),
        ("concern_response.csv", none()),
        ("issue_category.csv", none()),
        ("issue_outcome.csv", none()),
    ];
    // The people referred and the people supported are the same nine.
    for prefix in ["", "supported_"] {
        for (table, code) in [
            ("ethnic_category", "99"),
            ("gender", "not known"),
            ("age_band", "not known"),
            ("disability", "not known"),
            ("religion", "not known"),
            ("sexual_orientation", "not known"),
            ("first_language", "not known"),
            ("interpreter_needed", "no"),
        ] {
            let name: &'static str = format!("{prefix}{table}.csv").leak();
            csvs.push((name, nine(code)));
        }
    }
    csvs
}

/// The CSV files in `dir` are exactly `want`, each with exactly its text.
fn assert_every_csv_is(dir: &Path, want: &[(&str, String)]) {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".csv"))
        .collect();
    names.sort();
    let mut wanted: Vec<String> = want.iter().map(|(n, _)| n.to_string()).collect();
    wanted.sort();
    assert_eq!(names, wanted);
    for (name, text) in want {
        assert_eq!(
            &std::fs::read_to_string(dir.join(name)).unwrap(),
            text,
            "{name}"
        );
    }
}

/// `pdftotext -layout`: a table's row on one line, as on the page.
fn pdftotext_layout(pdf: &Path) -> String {
    let out = Command::new("pdftotext")
        .arg("-layout")
        .arg(pdf)
        .arg("-")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// A line of `text` with each of `parts` in order, the last a word of its own.
fn on_one_line(text: &str, parts: &[&str]) -> bool {
    text.lines().any(|line| {
        let line = line.split_whitespace().collect::<Vec<_>>().join(" ");
        let mut rest = line.as_str();
        for (i, part) in parts.iter().enumerate() {
            let Some(at) = rest.find(part) else {
                return false;
            };
            let after = &rest[at + part.len()..];
            if i == parts.len() - 1 && !(after.is_empty() || after.starts_with(' ')) {
                return false;
            }
            rest = after;
        }
        true
    })
}
