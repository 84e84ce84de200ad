//! `wardside sync ...` and `wardside-server` end to end: both real binaries, a real SQLite
//! service on 127.0.0.1, real encrypted stores, in the exact command forms checks rely on. Also
//! scenario #9 of sync.md §9: a client killed while it applies a pull loses nothing and leaves
//! no gap.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

const PASS: &str = "plum kettle harbour";

/// The server binary beside ours; built if this test runs on its own.
fn server_bin() -> PathBuf {
    let ours = PathBuf::from(env!("CARGO_BIN_EXE_wardside"));
    let bin = ours.with_file_name("wardside-server");
    if !bin.exists() {
        let status = Command::new(env!("CARGO"))
            .args(["build", "-p", "wardside-server", "--bin", "wardside-server"])
            .status()
            .unwrap();
        assert!(status.success(), "building wardside-server failed");
    }
    bin
}

struct Service {
    child: Child,
    url: String,
    db: String,
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn service(dir: &Path) -> Service {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let db = format!("sqlite://{}", dir.join("server.db").display());
    let mut child = Command::new(server_bin())
        .args(["--database", &db, "--listen", &format!("127.0.0.1:{port}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let url = format!("http://127.0.0.1:{port}");
    for _ in 0..200 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Service { child, url, db };
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("wardside-server did not start");
}

struct Device {
    db: PathBuf,
}

impl Device {
    fn new(dir: &Path, name: &str) -> Device {
        let d = Device {
            db: dir.join(name).join("wardside.db"),
        };
        let out = d.run(&["init", "--advocate", name]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        d
    }

    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_wardside"));
        c.arg("--db")
            .arg(&self.db)
            .args(args)
            .env("WARDSIDE_PASSPHRASE", PASS)
            .env_remove("WARDSIDE_DB")
            .env_remove("WARDSIDE_RULES")
            .stdin(Stdio::null());
        c
    }

    fn run(&self, args: &[&str]) -> Output {
        self.cmd(args).output().unwrap()
    }

    fn json(&self, args: &[&str]) -> Value {
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
}

fn keys(v: &Value) -> Vec<String> {
    let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
    k.sort();
    k
}

#[test]
fn enrol_invite_approve_sync_and_status_in_the_documented_forms() {
    let dir = tempfile::tempdir().unwrap();
    let svc = service(dir.path());
    let org: Value = serde_json::from_slice(
        &Command::new(server_bin())
            .args([
                "--database",
                &svc.db,
                "init-org",
                "--name",
                "Riverside IMHA",
                "--json",
            ])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    let code = org["enrolment_code"].as_str().unwrap();

    // The first device becomes the admin, approved at once; the recovery words go to a file.
    let admin = Device::new(dir.path(), "admin");
    let words = dir.path().join("recovery.txt");
    let e = admin.json(&[
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
    assert_eq!(keys(&e), ["device_id", "fingerprint", "status"]);
    assert_eq!(e["status"], "approved");
    assert_eq!(
        std::fs::read_to_string(&words)
            .unwrap()
            .split_whitespace()
            .count(),
        24
    );
    // The code was used once.
    let again = Device::new(dir.path(), "again");
    let out = again.run(&[
        "sync", "enroll", "--server", &svc.url, "--code", code, "--name", "x", "--json",
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("wrong, used or expired"));

    // A second device: invited, pending until approved by fingerprint.
    let invite = admin.json(&["sync", "invite", "--json"]);
    assert_eq!(keys(&invite), ["code"]);
    let laptop = Device::new(dir.path(), "laptop");
    let e = laptop.json(&[
        "sync",
        "enroll",
        "--server",
        &svc.url,
        "--code",
        invite["code"].as_str().unwrap(),
        "--name",
        "Ward laptop",
        "--json",
    ]);
    assert_eq!(e["status"], "pending");
    let out = laptop.run(&["sync", "now", "--json"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("waiting for an admin"));
    let id = e["device_id"].as_str().unwrap();
    let fp = e["fingerprint"].as_str().unwrap();
    let wrong = admin.run(&[
        "sync",
        "approve",
        "--device",
        id,
        "--fingerprint",
        "0000-0000-0000",
        "--json",
    ]);
    assert!(!wrong.status.success());
    assert!(String::from_utf8_lossy(&wrong.stderr).contains("does not match"));
    admin.json(&[
        "sync",
        "approve",
        "--device",
        id,
        "--fingerprint",
        fp,
        "--json",
    ]);

    // The admin writes; the laptop receives.
    let client = admin.json(&[
        "client",
        "add",
        "--name",
        "Siân Llewelyn",
        "--status",
        "s3",
        "--status-since",
        "2026-11-01",
        "--json",
    ])["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let case = admin.json(&["case", "open", "--client", &client, "--json"])["id"]
        .as_str()
        .unwrap()
        .to_owned();
    admin.json(&[
        "activity",
        "add",
        "--case",
        &case,
        "--kind",
        "private-interview",
        "--at",
        "2026-11-21T10:30",
        "--text",
        "Wants to apply to the tribunal.",
        "--json",
    ]);
    let now = admin.json(&["sync", "now", "--json"]);
    assert_eq!(keys(&now), ["conflicts", "pulled", "pushed", "unsynced"]);
    assert!(now["pushed"].as_u64().unwrap() >= 4);
    assert_eq!(now["unsynced"], 0);
    let now = laptop.json(&["sync", "now", "--json"]);
    assert!(now["pulled"].as_u64().unwrap() >= 4);
    let hits = laptop.json(&["search", "tribunal", "--json"]);
    assert_eq!(hits["hits"].as_array().unwrap().len(), 1);
    let status = laptop.json(&["sync", "status", "--json"]);
    assert_eq!(status["unsynced"], 0);
    assert_eq!(status["conflicts"], 0);
    assert!(status["last_sync"].is_string());

    // Revoked: refused, and the laptop's copy of the organisation's data is wiped.
    let r = admin.json(&["sync", "revoke", "--device", id, "--json"]);
    assert_eq!(r["status"], "revoked");
    let out = laptop.run(&["sync", "now", "--json"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("wiped"));
    let hits = laptop.json(&["search", "tribunal", "--json"]);
    assert!(hits["hits"].as_array().unwrap().is_empty());
}

/// #9: kill the client while it applies a pull, then run it again.
#[test]
fn a_client_killed_mid_pull_resumes_without_gaps_or_doubles() {
    let dir = tempfile::tempdir().unwrap();
    let svc = service(dir.path());
    let out = Command::new(server_bin())
        .args(["--database", &svc.db, "init-org", "--name", "Org", "--json"])
        .output()
        .unwrap();
    let org: Value = serde_json::from_slice(&out.stdout).unwrap();
    let admin = Device::new(dir.path(), "admin");
    admin.json(&[
        "sync",
        "enroll",
        "--server",
        &svc.url,
        "--code",
        org["enrolment_code"].as_str().unwrap(),
        "--name",
        "admin",
        "--recovery-file",
        dir.path().join("words").to_str().unwrap(),
        "--json",
    ]);
    admin.json(&["demo", "--clients", "400", "--json"]);
    admin.json(&["sync", "now", "--json"]);
    let total = admin.json(&["info", "--json"]);

    let mut killed_mid_sync = 0;
    for (i, delay_ms) in [150u64, 400, 900].into_iter().enumerate() {
        let d = Device::new(dir.path(), &format!("laptop{i}"));
        let code = admin.json(&["sync", "invite", "--json"])["code"]
            .as_str()
            .unwrap()
            .to_owned();
        let e = d.json(&[
            "sync", "enroll", "--server", &svc.url, "--code", &code, "--name", "l", "--json",
        ]);
        admin.json(&[
            "sync",
            "approve",
            "--device",
            e["device_id"].as_str().unwrap(),
            "--fingerprint",
            e["fingerprint"].as_str().unwrap(),
            "--json",
        ]);
        let mut child = d
            .cmd(&["sync", "now", "--json"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(delay_ms));
        let _ = child.kill();
        let status = child.wait().unwrap();
        if !status.success() {
            killed_mid_sync += 1;
        }
        // Whatever was applied is whole pages with their cursor: no op past the cursor.
        {
            let store =
                wardside_store::Store::unlock(&d.db, &wardside_store::Passphrase::new(PASS))
                    .unwrap();
            let cursor = store.sync_cursor().unwrap();
            let newest = store.ops_after(0, 1 << 40).unwrap().len();
            let ids = store.op_ids().unwrap();
            let mut unique = ids.clone();
            unique.dedup();
            assert_eq!(ids.len(), unique.len(), "no op applied twice");
            assert!(cursor > 0 || newest == 0, "ops without a cursor");
        }
        // Run again: it completes and holds exactly what the admin has.
        let again = d.json(&["sync", "now", "--json"]);
        assert_eq!(again["unsynced"], 0);
        let info = d.json(&["info", "--json"]);
        for k in ["clients", "open_cases", "activities"] {
            assert_eq!(info[k], total[k], "laptop{i} holds every {k}");
        }
    }
    eprintln!("killed mid-sync {killed_mid_sync} of 3 times");
}
