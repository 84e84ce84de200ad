//! Commissioner returns through the real `wardside` binary (issue 16): contracts set and shown,
//! a case moved between commissioners, a referral that opened no case, a bad reference table
//! refused with its line, and every return in the audit with its commissioner and period.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/cli.rs"]
mod support;

use serde_json::Value;
use std::path::Path;
use support::*;

const NORTH: &str = "Northshire County Council";
const SOUTH: &str = "Southshire Council";

fn on(d: &Device, now: &str, args: &[&str]) -> Value {
    let out = d
        .cmd(args)
        .env("WARDSIDE_NOW", format!("{now}T12:00:00Z"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or(Value::Null)
}

fn return_json(d: &Device, dir: &Path, who: &str, name: &str) -> Value {
    let out = dir.join(name);
    on(
        d,
        "2026-10-05",
        &[
            "report",
            "return",
            "--commissioner",
            who,
            "--from",
            "2026-07-01",
            "--to",
            "2026-09-30",
            "--out",
            out.to_str().unwrap(),
            "--format",
            "json",
            "--json",
        ],
    );
    serde_json::from_slice(&std::fs::read(out.join("return.json")).unwrap()).unwrap()
}

#[test]
fn contracts_moves_and_referrals_without_a_case_reach_the_right_return() {
    let dir = tempfile::tempdir().unwrap();
    let d = Device::new(dir.path(), "Manager");
    // A person referred on 6 July with a case for Northshire, moved to Southshire from 14 August.
    let client = on(
        &d,
        "2026-07-06",
        &[
            "client",
            "add",
            "--name",
            "Person Moved",
            "--status",
            "s3",
            "--status-since",
            "2026-07-01",
            "--json",
        ],
    )["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let referral = on(
        &d,
        "2026-07-06",
        &[
            "referral",
            "--client",
            &client,
            "--received",
            "2026-07-06",
            "--source",
            "self",
            "--out-of-area",
            "--json",
        ],
    )["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let case = on(
        &d,
        "2026-07-06",
        &[
            "case",
            "open",
            "--client",
            &client,
            "--on",
            "2026-07-06",
            "--referral",
            &referral,
            "--authority",
            NORTH,
            "--json",
        ],
    )["id"]
        .as_str()
        .unwrap()
        .to_owned();
    on(
        &d,
        "2026-08-20",
        &[
            "case",
            "commissioner",
            &case,
            "--to",
            SOUTH,
            "--from",
            "2026-08-14",
            "--reason",
            "Placed by Southshire",
            "--json",
        ],
    );
    // A date before the case opened is refused and changes nothing.
    let out = d
        .cmd(&[
            "case",
            "commissioner",
            &case,
            "--to",
            NORTH,
            "--from",
            "2026-06-01",
            "--reason",
            "x",
        ])
        .env("WARDSIDE_NOW", "2026-08-21T12:00:00Z")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot be responsible before"));
    // A person referred to Southshire, not eligible, no case opened.
    let other = on(
        &d,
        "2026-08-03",
        &[
            "client",
            "add",
            "--name",
            "Person Declined",
            "--status",
            "s136",
            "--status-since",
            "2026-08-02",
            "--json",
        ],
    )["id"]
        .as_str()
        .unwrap()
        .to_owned();
    on(
        &d,
        "2026-08-03",
        &[
            "referral",
            "--client",
            &other,
            "--received",
            "2026-08-03",
            "--source",
            "ward-staff",
            "--responsible-authority",
            SOUTH,
            "--json",
        ],
    );

    let north = return_json(&d, dir.path(), "northshire county council", "north");
    assert_eq!(north["measures"]["referrals_received"], "*");
    let south = return_json(&d, dir.path(), SOUTH, "south");
    assert_eq!(south["commissioner"], SOUTH);
    assert_eq!(
        south["measures"]["referrals_received"], "*",
        "the one with no case"
    );
    assert_eq!(
        south["measures"]["cases_open_at_end"], "*",
        "the moved case"
    );
    assert_eq!(south["tables"]["section_at_referral"]["s136"], "*");

    // The commissioners known: both, with their cases and quarters.
    let list = on(&d, "2026-10-05", &["report", "commissioners", "--json"]);
    let names: Vec<&str> = list["commissioners"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["commissioner"].as_str().unwrap())
        .collect();
    assert_eq!(names, [NORTH, SOUTH]);
    assert_eq!(
        list["commissioners"][0]["periods"][0]["label"],
        "2026-27 Q3 (Oct-Dec) (in progress)"
    );

    // A contract: fewer measures, a target, its own period, a reference table.
    std::fs::write(
        dir.path().join("detained.csv"),
        "table,code,count\nethnic_category,A,120\nethnic_category,M,40\n",
    )
    .unwrap();
    let reference = dir.path().join("detained.csv");
    let c = on(
        &d,
        "2026-10-05",
        &[
            "report",
            "contract",
            "set",
            "--commissioner",
            SOUTH,
            "--measures",
            "referrals_received,cases_open_at_end,ethnic_category",
            "--target",
            "cases_open_at_end<=40",
            "--period",
            "Summer=2026-07-01..2026-09-30",
            "--reference",
            reference.to_str().unwrap(),
            "--json",
        ],
    );
    assert_eq!(c["periods"][0]["label"], "Summer");
    let south = return_json(&d, dir.path(), SOUTH, "south-contract");
    let keys: Vec<&String> = south["measures"].as_object().unwrap().keys().collect();
    assert_eq!(keys, ["cases_open_at_end", "referrals_received"]);
    assert_eq!(
        south["tables"]
            .as_object()
            .unwrap()
            .keys()
            .collect::<Vec<_>>(),
        ["ethnic_category"]
    );
    assert_eq!(
        south["targets"]["cases_open_at_end"]["target"],
        serde_json::json!({"at_most": 40.0})
    );
    assert_eq!(south["targets"]["cases_open_at_end"]["met"], Value::Null);
    assert_eq!(south["reference"]["ethnic_category"]["A"], 120);

    // A bad reference table is refused with its line, and the contract is as it was.
    std::fs::write(
        dir.path().join("bad.csv"),
        "ethnic_category,A,120\nreligion,x,lots\n",
    )
    .unwrap();
    let out = d
        .cmd(&[
            "report",
            "contract",
            "set",
            "--commissioner",
            SOUTH,
            "--reference",
            dir.path().join("bad.csv").to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("line 2"));
    let shown = on(
        &d,
        "2026-10-05",
        &[
            "report",
            "contract",
            "show",
            "--commissioner",
            SOUTH,
            "--json",
        ],
    );
    assert_eq!(shown["contract"]["reference"]["ethnic_category"]["M"], 40);
    // An unknown measure is refused by name.
    let out = d
        .cmd(&[
            "report",
            "contract",
            "set",
            "--commissioner",
            SOUTH,
            "--measures",
            "referals",
        ])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("'referals' is not a measure"));

    // Every return is in the audit, with its commissioner and period, never a number.
    let audit = on(&d, "2026-10-05", &["report", "audit", "--json"]);
    let entries = audit["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 3);
    assert_eq!(entries[0]["what"]["commissioner"], SOUTH);
    assert_eq!(entries[0]["what"]["from"], "2026-07-01");
    assert_eq!(entries[0]["what"]["formats"], serde_json::json!(["json"]));
    assert_eq!(entries[2]["what"]["commissioner"], NORTH);
    assert!(
        on(
            &d,
            "2026-10-05",
            &[
                "report",
                "contract",
                "remove",
                "--commissioner",
                SOUTH,
                "--json"
            ]
        )
        .is_object()
    );
}

/// A write that fails half way (here no file may grow past 50 kB, as on a nearly full
/// disk): a clear error, nothing of the return left behind to be sent, and no audit entry for
/// a return that was not written.
#[test]
fn a_return_that_cannot_be_written_whole_leaves_nothing_behind() {
    let dir = tempfile::tempdir().unwrap();
    let d = Device::new(dir.path(), "Manager");
    let client = on(
        &d,
        "2026-11-02",
        &[
            "client",
            "add",
            "--name",
            "Person One",
            "--status",
            "s3",
            "--status-since",
            "2026-11-01",
            "--json",
        ],
    )["id"]
        .as_str()
        .unwrap()
        .to_owned();
    on(
        &d,
        "2026-11-02",
        &[
            "case",
            "open",
            "--client",
            &client,
            "--on",
            "2026-11-02",
            "--authority",
            NORTH,
            "--json",
        ],
    );
    let out = dir.path().join("q3");
    let cmd = "trap '' XFSZ; ulimit -f 100; exec \"$0\" \"$@\"";
    let run = std::process::Command::new("sh")
        .arg("-c")
        .arg(cmd)
        .arg(env!("CARGO_BIN_EXE_wardside"))
        .args([
            "--db",
            d.db.to_str().unwrap(),
            "report",
            "return",
            "--commissioner",
            NORTH,
        ])
        .args([
            "--from",
            "2026-10-01",
            "--to",
            "2026-12-31",
            "--out",
            out.to_str().unwrap(),
        ])
        .env("WARDSIDE_PASSPHRASE", PASS)
        .env("WARDSIDE_NOW", "2026-11-20T12:00:00Z")
        .env_remove("WARDSIDE_DB")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(!run.status.success(), "{stderr}");
    assert!(
        stderr.contains("large") || stderr.contains("space") || stderr.contains("write"),
        "{stderr}"
    );
    assert!(
        !out.exists(),
        "{:?}",
        std::fs::read_dir(&out).map(|r| r.count())
    );
    let audit = on(&d, "2026-11-20", &["report", "audit", "--json"]);
    assert!(
        audit["entries"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["action"] != "report-return"),
        "{audit}"
    );
}
