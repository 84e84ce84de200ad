//! `wardside sync recover` end to end (issue 14, part 3): both real binaries, a real SQLite
//! service on 127.0.0.1, real encrypted stores. Every admin laptop is lost; the organisation's
//! recovery words, typed into a file on a new laptop, make it the admin device; it reads what was
//! written before, and approves a new laptop that syncs. Wrong words change nothing.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/cli.rs"]
mod support;

use serde_json::Value;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use support::*;

impl Service {
    /// A new organisation's first code.
    fn init_org(&self) -> String {
        let out = Command::new(server_bin())
            .args([
                "--database",
                &self.db,
                "init-org",
                "--name",
                "Riverside IMHA",
                "--json",
            ])
            .output()
            .unwrap();
        let org: Value = serde_json::from_slice(&out.stdout).unwrap();
        org["enrolment_code"].as_str().unwrap().to_owned()
    }

    /// What the service holds: trust statements and devices.
    fn counts(&self) -> (i64, i64) {
        let conn = rusqlite::Connection::open(&self.file).unwrap();
        let n = |t: &str| {
            conn.query_row(&format!("SELECT count(*) FROM {t}"), [], |r| r.get(0))
                .unwrap()
        };
        (n("trust_statement"), n("device"))
    }
}

impl Device {
    /// Fails, saying this.
    fn fails(&self, args: &[&str], says: &str) -> String {
        let out = self.run(args);
        assert!(!out.status.success(), "{args:?} succeeded");
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(err.contains(says), "{args:?}: {err}");
        err
    }

    /// Enrol with an organisation's first code; the recovery words go to `words`.
    fn found(&self, svc: &Service, code: &str, words: &Path) {
        self.json(&[
            "sync",
            "enroll",
            "--server",
            &svc.url,
            "--code",
            code,
            "--name",
            "Office laptop",
            "--recovery-file",
            words.to_str().unwrap(),
            "--json",
        ]);
    }

    /// Invite, enrol and approve `new` through this admin device.
    fn bring_in(&self, svc: &Service, new: &Device, name: &str) {
        let code = self.json(&["sync", "invite", "--json"])["code"]
            .as_str()
            .unwrap()
            .to_owned();
        let e = new.json(&[
            "sync", "enroll", "--server", &svc.url, "--code", &code, "--name", name, "--json",
        ]);
        self.json(&[
            "sync",
            "approve",
            "--device",
            e["device_id"].as_str().unwrap(),
            "--fingerprint",
            e["fingerprint"].as_str().unwrap(),
            "--json",
        ]);
    }
}

#[test]
fn recovery_words_in_a_file_make_a_new_laptop_the_admin_after_the_admin_laptop_is_lost() {
    let dir = tempfile::tempdir().unwrap();
    let svc = service(&dir.path().join("service"));
    let words = dir.path().join("recovery.txt");
    let admin = Device::new(dir.path(), "admin");
    admin.found(&svc, &svc.init_org(), &words);
    let ward = Device::new(dir.path(), "ward");
    admin.bring_in(&svc, &ward, "Ward laptop");
    let gone = Device::new(dir.path(), "gone");
    admin.bring_in(&svc, &gone, "Lost laptop");

    // A note under the first key; a revocation (a second key epoch); a note under the second.
    let (_, case) = admin.client_with_case("Siân Llewelyn", "s3", &[]);
    let note = |text: &str| admin.note(&case, text);
    note("Wants to apply to the tribunal.");
    admin.json(&["sync", "now", "--json"]);
    let devices = admin.json(&["sync", "devices", "--json"]);
    let gone_device = devices
        .as_array()
        .or_else(|| devices["devices"].as_array())
        .unwrap()
        .iter()
        .find(|d| d["name"] == "Lost laptop")
        .unwrap()["device_id"]
        .as_str()
        .unwrap()
        .to_owned();
    admin.json(&["sync", "revoke", "--device", &gone_device, "--json"]);
    note("Hearing booked for the hospital managers.");
    admin.json(&["sync", "now", "--json"]);
    ward.json(&["sync", "now", "--json"]);
    // The admin laptop is lost: from here on nothing runs on it.
    drop(admin);

    let laptop = Device::new(dir.path(), "replacement");
    let before = svc.counts();

    // A typo (typed through standard input), and valid words of another organisation: refused,
    // each saying what to do, and nothing changes on the service or on the laptop.
    let text = std::fs::read_to_string(&words).unwrap();
    let mut list: Vec<&str> = text.split_whitespace().collect();
    list[3] = "kettel";
    let mut child = laptop
        .cmd(&[
            "sync",
            "recover",
            "--server",
            &svc.url,
            "--words-file",
            "-",
            "--json",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(list.join(" ").as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("recovery words are not valid"), "{err}");
    assert!(
        !err.contains("kettel") && !err.contains(list[0]),
        "no word is echoed: {err}"
    );

    let elsewhere = service(&dir.path().join("elsewhere"));
    let other_words = dir.path().join("other.txt");
    Device::new(dir.path(), "other-admin").found(&elsewhere, &elsewhere.init_org(), &other_words);
    laptop.fails(
        &[
            "sync",
            "recover",
            "--server",
            &svc.url,
            "--words-file",
            other_words.to_str().unwrap(),
            "--json",
        ],
        "no organisation on this sync service was set up with these recovery words",
    );
    assert_eq!(svc.counts(), before, "the service is as it was");
    laptop.fails(&["sync", "now", "--json"], "not enrolled");

    // The right words.
    let r = laptop.json(&[
        "sync",
        "recover",
        "--server",
        &svc.url,
        "--words-file",
        words.to_str().unwrap(),
        "--name",
        "Replacement laptop",
        "--json",
    ]);
    assert_eq!(r["admin"], true);
    assert_eq!(r["team_keys"], 2, "both key epochs");
    assert_eq!(svc.counts(), (before.0 + 1, before.1 + 1));

    // It reads what was written under both keys.
    laptop.json(&["sync", "now", "--json"]);
    let hits = laptop.json(&["search", "tribunal", "--json"]);
    assert_eq!(hits["hits"].as_array().unwrap().len(), 1);
    let hits = laptop.json(&["search", "managers", "--json"]);
    assert_eq!(hits["hits"].as_array().unwrap().len(), 1);

    // It approves a new laptop, which syncs and reads it all.
    let new = Device::new(dir.path(), "new");
    laptop.bring_in(&svc, &new, "New ward laptop");
    let now = new.json(&["sync", "now", "--json"]);
    assert!(now["pulled"].as_u64().unwrap() >= 5);
    let hits = new.json(&["search", "managers", "--json"]);
    assert_eq!(hits["hits"].as_array().unwrap().len(), 1);
    // The ward laptop takes the recovered admin's word: it lists it as an admin.
    ward.json(&["sync", "now", "--json"]);
    let devices = ward.json(&["sync", "devices", "--json"]);
    let listed = devices
        .as_array()
        .or_else(|| devices["devices"].as_array())
        .unwrap()
        .iter()
        .find(|d| d["device_id"] == r["device_id"])
        .cloned()
        .unwrap();
    assert_eq!(listed["admin"], true, "{listed}");
}
