//! `wardside sync ...` and `wardside-server` end to end: both real binaries, a real SQLite
//! service on 127.0.0.1, real encrypted stores, in the exact command forms checks rely on. Also
//! scenario #9 of sync.md §9: a client killed while it applies a pull loses nothing and leaves
//! no gap.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/cli.rs"]
mod support;

use serde_json::Value;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;
use support::*;

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
    let (_, case) = admin.client_with_case("Siân Llewelyn", "s3", &[]);
    admin.note(&case, "Wants to apply to the tribunal.");
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

/// An organisation on a real service: an admin and an approved laptop, both synced, the admin
/// having written two notes. Returns (service, admin, laptop, admin's device id).
fn two_laptops(dir: &Path) -> (Service, Device, Device, String) {
    let svc = service(dir);
    let out = Command::new(server_bin())
        .args(["--database", &svc.db, "init-org", "--name", "Org", "--json"])
        .output()
        .unwrap();
    let org: Value = serde_json::from_slice(&out.stdout).unwrap();
    let admin = Device::new(dir, "admin");
    let e = admin.json(&[
        "sync",
        "enroll",
        "--server",
        &svc.url,
        "--code",
        org["enrolment_code"].as_str().unwrap(),
        "--name",
        "Office laptop",
        "--recovery-file",
        dir.join("words.txt").to_str().unwrap(),
        "--json",
    ]);
    let admin_id = e["device_id"].as_str().unwrap().to_owned();
    let code = admin.json(&["sync", "invite", "--json"])["code"]
        .as_str()
        .unwrap()
        .to_owned();
    let laptop = Device::new(dir, "laptop");
    let e = laptop.json(&[
        "sync",
        "enroll",
        "--server",
        &svc.url,
        "--code",
        &code,
        "--name",
        "Ward laptop",
        "--json",
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
    let (_, case) = admin.client_with_case("Rhys Example", "s3", &[]);
    for text in ["First visit.", "Second visit."] {
        admin.note(&case, text);
    }
    admin.json(&["sync", "now", "--json"]);
    (svc, admin, laptop, admin_id)
}

/// Whoever answers at the service's address says "revoked" to everything: the real binary wipes
/// nothing (unsent notes included), says why, and exits non-zero.
#[test]
fn a_fake_service_that_says_revoked_wipes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (svc, _admin, laptop, _) = two_laptops(dir.path());
    laptop.json(&["sync", "now", "--json"]);
    let client = laptop.json(&[
        "client",
        "add",
        "--name",
        "Unsent Example",
        "--status",
        "s2",
        "--status-since",
        "2026-11-20",
        "--json",
    ])["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // The service goes; something else answers at its address.
    let port: u16 = svc.url.rsplit(':').next().unwrap().parse().unwrap();
    drop(svc);
    let listener = loop {
        if let Ok(l) = std::net::TcpListener::bind(("127.0.0.1", port)) {
            break l;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    std::thread::spawn(move || {
        use std::io::{Read, Write};
        for mut s in listener.incoming().flatten() {
            let mut buf = [0u8; 65536];
            let _ = s.read(&mut buf);
            let body = r#"{"error":"this device was revoked"}"#;
            let _ = write!(
                s,
                "HTTP/1.1 401 Unauthorized\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    let out = laptop.run(&["sync", "now", "--json"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no admin's signed revocation"), "{err}");
    assert!(err.contains("nothing was wiped"), "{err}");
    // Everything is still here, the unsent change too.
    let shown = laptop.json(&["client", "show", &client, "--json"]);
    assert_eq!(shown["client"]["name"], "Unsent Example");
    assert_eq!(
        laptop.json(&["search", "visit", "--json"])["hits"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    assert!(
        laptop.json(&["sync", "status", "--json"])["unsynced"]
            .as_u64()
            .unwrap()
            >= 1
    );
}

/// The service alters one stored op: `sync now` still prints its four numbers, names the
/// problem (device and op) on stderr, and exits 3; `sync status` lists it.
#[test]
fn a_tampered_op_makes_sync_now_exit_3_and_status_list_it() {
    let dir = tempfile::tempdir().unwrap();
    let (svc, _admin, laptop, admin_id) = two_laptops(dir.path());
    let conn = rusqlite::Connection::open(svc.db.trim_start_matches("sqlite://")).unwrap();
    conn.busy_timeout(Duration::from_secs(5)).unwrap();
    let (seq, env): (i64, String) = conn
        .query_row(
            "SELECT server_seq, envelope FROM op WHERE device_id = ?1 ORDER BY server_seq DESC LIMIT 1",
            [&admin_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    let mut v: Value = serde_json::from_str(&env).unwrap();
    let ct = v["ciphertext"].as_str().unwrap().to_owned();
    v["ciphertext"] =
        Value::from(if ct.starts_with('A') { "B" } else { "A" }.to_owned() + &ct[1..]);
    conn.execute(
        "UPDATE op SET envelope = ?1 WHERE server_seq = ?2",
        rusqlite::params![v.to_string(), seq],
    )
    .unwrap();
    drop(conn);
    let out = laptop.run(&["sync", "now", "--json"]);
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let now: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(keys(&now), ["conflicts", "pulled", "pushed", "unsynced"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!("sync problem: device {admin_id}, op ")),
        "{err}"
    );
    assert!(err.contains("changed on the way"), "{err}");
    let status = laptop.json(&["sync", "status", "--json"]);
    assert!(status["problems"].as_u64().unwrap() >= 1, "{status}");
    let list = status["problem_list"].as_array().unwrap();
    assert!(
        list.iter()
            .any(|p| p["kind"] == "tampered" && p["device_id"] == admin_id.as_str())
    );
    // The text form says it too.
    let text = laptop.run(&["sync", "status"]);
    assert!(String::from_utf8_lossy(&text.stdout).contains("Problem: device"));
}

/// `wardside-server --database DB ARGS...`, which must succeed; its stdout.
fn server_cmd(db: &str, args: &[&str]) -> String {
    let out = Command::new(server_bin())
        .args(["--database", db])
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "wardside-server {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A new laptop enrolled through the admin (invite, enrol, approve by fingerprint).
fn join(admin: &Device, dir: &Path, name: &str, url: &str) -> Device {
    let d = Device::new(dir, name);
    enrol_again(admin, &d, url);
    d
}

/// Enrol `d` with a new code from the admin, and approve it.
fn enrol_again(admin: &Device, d: &Device, url: &str) {
    let code = admin.json(&["sync", "invite", "--json"])["code"]
        .as_str()
        .unwrap()
        .to_owned();
    let e = d.json(&[
        "sync", "enroll", "--server", url, "--code", &code, "--name", "laptop", "--json",
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
}

/// How many notes on `d` hold `word`.
fn hits(d: &Device, word: &str) -> usize {
    d.json(&["search", word, "--json"])["hits"]
        .as_array()
        .unwrap()
        .len()
}

/// The store's files (database, key, journal) copied to `to`, with the CLI not running.
fn copy_store(d: &Device, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(d.db.parent().unwrap()).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name();
        if name.to_string_lossy().starts_with("wardside.db") {
            std::fs::copy(entry.path(), to.join(&name)).unwrap();
        }
    }
}

/// `from` (a copy made by [`copy_store`]) put back in place of the store.
fn put_back_store(d: &Device, from: &Path) {
    let dir = d.db.parent().unwrap();
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        if entry
            .file_name()
            .to_string_lossy()
            .starts_with("wardside.db")
        {
            std::fs::remove_file(entry.path()).unwrap();
        }
    }
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), dir.join(entry.file_name())).unwrap();
    }
}

/// Issue 14 part 1, with both binaries: `wardside-server backup` while it serves, notes
/// acknowledged after it, the admin's laptop (their author) lost, `wardside-server restore`.
/// The laptop that received the notes gives them back, says so once, and keeps it in `sync
/// status`; a laptop that never had them receives them.
#[test]
fn the_service_restored_from_a_backup_gets_its_lost_notes_back_from_a_laptop() {
    let dir = tempfile::tempdir().unwrap();
    let (svc, admin, laptop, _) = two_laptops(dir.path());
    laptop.json(&["sync", "now", "--json"]);
    let spare = join(&admin, dir.path(), "spare", &svc.url);
    spare.json(&["sync", "now", "--json"]);
    let backup = dir.path().join("nightly.db");
    let said = server_cmd(&svc.db, &["backup", "--out", backup.to_str().unwrap()]);
    assert!(said.contains("Backed up"), "{said}");

    let case = admin.client_with_case("Ola Example", "s2", &[]).1;
    admin.note(&case, "Quokka: acknowledged after the backup.");
    admin.json(&["sync", "now", "--json"]);
    laptop.json(&["sync", "now", "--json"]);
    assert_eq!(hits(&laptop, "quokka"), 1);
    // The admin's laptop is lost; the service's disk fails and it is restored from the backup.
    let port: u16 = svc.url.rsplit(':').next().unwrap().parse().unwrap();
    let db = svc.db.clone();
    drop(svc);
    let said = server_cmd(&db, &["restore", "--from", backup.to_str().unwrap()]);
    assert!(said.contains("Restored"), "{said}");
    let svc = service_at(dir.path(), port);

    let out = laptop.run(&["sync", "now"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("restored from a backup"), "{err}");
    assert!(!err.contains("Some(") && !err.contains("Gap"), "{err}");
    let status = String::from_utf8_lossy(&laptop.run(&["sync", "status"]).stdout).into_owned();
    assert!(status.contains("gave back"), "{status}");
    let json = laptop.json(&["sync", "status", "--json"]);
    assert!(
        json["service_restored"]["given_back"].as_u64().unwrap() >= 1,
        "{json}"
    );
    // Said once: the next sync is quiet about it.
    let out = laptop.run(&["sync", "now"]);
    assert!(!String::from_utf8_lossy(&out.stderr).contains("restored"));
    // The spare laptop never had the note: it gets it now.
    spare.json(&["sync", "now", "--json"]);
    assert_eq!(hits(&spare, "quokka"), 1);
    drop(svc);
}

/// Issue 14 part 2, with both binaries: a laptop restored from an older copy of its own store,
/// and a store copied to a new laptop. Each is told to enrol again (never a 409 in debug
/// words), keeps what it wrote, gets back what its other timeline synced, and doubles nothing.
#[test]
fn a_laptop_restored_from_an_old_copy_or_copied_to_another_keeps_every_note() {
    let dir = tempfile::tempdir().unwrap();
    let (svc, admin, laptop, _) = two_laptops(dir.path());
    let case = admin.client_with_case("Remy Example", "s2", &[]).1;
    admin.json(&["sync", "now", "--json"]);
    laptop.json(&["sync", "now", "--json"]);
    let old_copy = dir.path().join("old-copy");
    copy_store(&laptop, &old_copy);
    laptop.note(&case, "Kestrel: synced after the laptop's backup.");
    laptop.json(&["sync", "now", "--json"]);
    // The laptop is restored from its older copy, and written on before it syncs.
    put_back_store(&laptop, &old_copy);
    assert_eq!(hits(&laptop, "kestrel"), 0);
    laptop.note(&case, "Heron: written after the restore.");
    let out = laptop.run(&["sync", "now"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains("enrol"), "{err}");
    assert!(!err.contains("Some(") && !err.contains("409"), "{err}");
    enrol_again(&admin, &laptop, &svc.url);
    let now = laptop.json(&["sync", "now", "--json"]);
    assert_eq!(now["unsynced"], 0, "{now}");
    assert_eq!(
        hits(&laptop, "kestrel"),
        1,
        "its other timeline's note came back"
    );
    assert_eq!(hits(&laptop, "heron"), 1);
    admin.json(&["sync", "now", "--json"]);
    assert_eq!(hits(&admin, "kestrel"), 1);
    assert_eq!(hits(&admin, "heron"), 1);

    // The store copied to a new laptop: both go on writing.
    let twin = Device {
        db: dir.path().join("twin").join("wardside.db"),
    };
    copy_store(&laptop, twin.db.parent().unwrap());
    laptop.note(&case, "Osprey: on the original.");
    twin.note(&case, "Plover: on the copy.");
    laptop.json(&["sync", "now", "--json"]);
    let out = twin.run(&["sync", "now"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("enrol"));
    enrol_again(&admin, &twin, &svc.url);
    twin.json(&["sync", "now", "--json"]);
    laptop.json(&["sync", "now", "--json"]);
    admin.json(&["sync", "now", "--json"]);
    for d in [&admin, &laptop, &twin] {
        assert_eq!(hits(d, "osprey"), 1);
        assert_eq!(hits(d, "plover"), 1);
        assert_eq!(hits(d, "kestrel"), 1);
        let status = d.json(&["sync", "status", "--json"]);
        assert_eq!(status["problems"], 0, "{status}");
        assert_eq!(status["unsynced"], 0, "{status}");
    }
}

/// Issue 14 part 4, with both binaries: a second team, a person in each, a laptop that sees
/// only its own team's person, a move that gives it the other's whole history.
#[test]
fn a_second_team_sees_only_its_own_people_until_one_moves_to_it() {
    let dir = tempfile::tempdir().unwrap();
    let (svc, admin, laptop, _) = two_laptops(dir.path());
    let laptop_id = laptop.json(&["sync", "status", "--json"]);
    assert!(laptop_id["enrolled"].as_bool().unwrap());
    let first = admin.json(&["sync", "teams", "--json"])[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let north = admin.json(&["sync", "create-team", "--name", "North Hospital", "--json"])["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let teams = admin.json(&["sync", "teams", "--json"]);
    assert_eq!(teams.as_array().unwrap().len(), 2, "{teams}");
    assert!(teams.to_string().contains("North Hospital"), "{teams}");
    // A third laptop, in the north team only.
    let north_laptop = join(&admin, dir.path(), "north", &svc.url);
    let devices = admin.json(&["sync", "devices", "--json"]);
    let north_id = devices
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["name"] == "laptop" && d["teams"].as_array().unwrap().len() == 2)
        .map(|d| d["device_id"].as_str().unwrap().to_owned())
        .unwrap_or_else(|| panic!("{devices}"));
    admin.json(&[
        "sync",
        "set-teams",
        "--device",
        &north_id,
        "--team",
        &north,
        "--json",
    ]);
    // A person in the first team, with a note.
    let (client, case) = admin.client_with_case("Ivo Example", "s3", &["--team", &first]);
    admin.note(&case, "Puffin: seen in the first team.");
    admin.json(&["sync", "now", "--json"]);
    north_laptop.json(&["sync", "now", "--json"]);
    assert_eq!(
        hits(&north_laptop, "puffin"),
        0,
        "not the north team's person"
    );
    // The person moves to the north team: its laptop gets the whole history.
    let moved = admin.json(&["client", "move", &client, "--team", &north, "--json"]);
    assert!(moved["carried"].as_u64().unwrap() >= 4, "{moved}");
    admin.json(&["sync", "now", "--json"]);
    let now = north_laptop.json(&["sync", "now", "--json"]);
    assert_eq!(now["unsynced"], 0);
    assert_eq!(hits(&north_laptop, "puffin"), 1);
    let status = north_laptop.json(&["sync", "status", "--json"]);
    assert_eq!(status["problems"], 0, "{status}");
    let _ = laptop;
}
