//! Running the service as an operator does, with the real binary on 127.0.0.1: a backup taken
//! while it serves, a restore that marks a new generation (and refuses a bad file or a running
//! service), PostgreSQL's own dump and restore followed by `mark-restored`, the health routes,
//! and JSON log lines.
#![allow(clippy::unwrap_used)]

mod support;

use reqwest::StatusCode;
use support::{Dev, PgDatabase, Service, found, postgres, run, run_ok};
use wardside_sync::protocol::{PushStatus, ServiceMark};

/// An organisation made with `init-org`, its admin enrolled and the trust log founded; the
/// service left running.
async fn organisation(db: &str, log: &std::path::Path) -> (Service, Dev) {
    let org: serde_json::Value =
        serde_json::from_str(&run_ok(db, &["init-org", "--name", "Riverside", "--json"])).unwrap();
    let service = Service::start(db, &[], log).await;
    let admin = Dev::enroll(&service.url, org["enrolment_code"].as_str().unwrap(), None).await;
    found(&service.url, &admin, "Riverside").await;
    (service, admin)
}

async fn push_notes(url: &str, dev: &Dev, n: usize, label: &str) -> Vec<i64> {
    let ops = (0..n).map(|i| dev.op(&format!("{label} {i}"))).collect();
    let r = dev.push(url, ops).await;
    assert!(r.results.iter().all(|r| r.status == PushStatus::Accepted));
    r.results.iter().map(|r| r.server_seq.unwrap()).collect()
}

async fn mark(url: &str, dev: &Dev) -> ServiceMark {
    dev.heads(url).await.service.expect("heads carry the mark")
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_push_pull_and_heads_reply_carries_the_generation_and_the_organisations_high_water() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("server.db").display());
    let (service, admin) = organisation(&db, &dir.path().join("log")).await;
    let url = &service.url;
    let before = mark(url, &admin).await;
    assert_eq!(before.high_water, 0);
    let pushed = admin.push(url, vec![admin.op("a"), admin.op("b")]).await;
    let last = pushed.results[1].server_seq.unwrap();
    // The push's reply: read after it committed, so it covers what was just accepted.
    assert_eq!(
        pushed.service,
        Some(ServiceMark {
            generation: before.generation,
            high_water: last
        })
    );
    let (_, page) = admin.pull_all(url).await;
    assert_eq!(page.service, pushed.service);
    assert_eq!(mark(url, &admin).await, pushed.service.unwrap());
    // Another organisation on the same service has its own high-water.
    let other: serde_json::Value =
        serde_json::from_str(&run_ok(&db, &["init-org", "--name", "Other", "--json"])).unwrap();
    let stranger = Dev::enroll(url, other["enrolment_code"].as_str().unwrap(), None).await;
    let theirs = mark(url, &stranger).await;
    assert_eq!(
        (theirs.generation, theirs.high_water),
        (before.generation, 0)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_taken_while_serving_restores_under_a_new_generation_and_serves_what_it_held() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("server.db");
    let backup = dir.path().join("nightly.db");
    let db = format!("sqlite://{}", path.display());
    let (service, admin) = organisation(&db, &dir.path().join("log")).await;
    let url = service.url.clone();
    push_notes(&url, &admin, 5, "before").await;

    // The backup runs while the device keeps pushing.
    let writer = {
        let url = url.clone();
        let dev = Dev::new(
            admin.id,
            admin.org,
            wardside_sync::DeviceSigningKey::from_pkcs8(admin.key.pkcs8()).unwrap(),
            admin.team.clone(),
        );
        *dev.next.lock().unwrap() = *admin.next.lock().unwrap();
        tokio::spawn(async move {
            for round in 0..10 {
                push_notes(&url, &dev, 5, &format!("during {round}")).await;
            }
            dev
        })
    };
    let out = run_ok(&db, &["backup", "--out", backup.to_str().unwrap()]);
    let writer = writer.await.unwrap();
    assert!(out.contains("Backed up"), "{out}");
    assert!(out.contains("restore --from"), "{out}");
    // A consistent copy: each device's head (kept in the push's transaction) matches the ops.
    let copy = rusqlite::Connection::open(&backup).unwrap();
    let (ops, counted): (i64, i64) = copy
        .query_row(
            "SELECT (SELECT count(*) FROM op), (SELECT coalesce(sum(ops), 0) FROM device_head)",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(ops, counted);
    assert!((5..=55).contains(&ops) && ops % 5 == 0, "{ops} ops");
    let journal: String = copy
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(journal, "delete", "the backup is one self-contained file");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&backup).unwrap().permissions().mode();
        assert_eq!(
            mode & 0o777,
            0o600,
            "the backup is for the service's user alone"
        );
    }
    drop(copy);
    assert!(out.contains(&format!("{ops} op(s)")), "{out}");

    // Pushes after the backup: the backup lacks these.
    push_notes(&url, &writer, 3, "after").await;
    let (all_before, _) = writer.pull_all(&url).await;
    assert_eq!(all_before.len(), 58);
    let old = mark(&url, &admin).await;

    // Not while the service runs: refused, nothing changed.
    let refused = run(&db, &["restore", "--from", backup.to_str().unwrap()]);
    assert!(!refused.status.success());
    assert!(
        stderr(&refused).contains("stop it first"),
        "{}",
        stderr(&refused)
    );
    assert_eq!(mark(&url, &admin).await, old);

    service.stop();
    let out = run_ok(&db, &["restore", "--from", backup.to_str().unwrap()]);
    assert!(out.contains(&format!("{ops} op(s)")), "{out}");
    assert!(out.contains("New storage generation"), "{out}");
    assert!(
        out.contains(&old.generation.to_string()),
        "names the backup's: {out}"
    );
    // The database it replaced is kept beside it, with every op it held.
    let kept = std::fs::read_dir(dir.path())
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.to_string_lossy().contains("server.db.replaced-"))
        .expect("the replaced database is kept");
    assert!(out.contains(&kept.display().to_string()), "{out}");
    assert!(
        !std::fs::read_dir(dir.path())
            .unwrap()
            .flatten()
            .any(|e| e.file_name().to_string_lossy().contains(".restoring")),
        "the staged copy is gone"
    );
    let n: i64 = rusqlite::Connection::open(&kept)
        .unwrap()
        .query_row("SELECT count(*) FROM op", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 58);

    // Served again: the backup's ops, a new generation, the high-water back where it was.
    let service = Service::start(&db, &[], &dir.path().join("log2")).await;
    let url = service.url.clone();
    let (restored, page) = admin.pull_all(&url).await;
    assert_eq!(restored.len() as i64, ops);
    assert_eq!(
        restored
            .iter()
            .map(|o| o.envelope.clone())
            .collect::<Vec<_>>(),
        all_before[..ops as usize]
            .iter()
            .map(|o| o.envelope.clone())
            .collect::<Vec<_>>()
    );
    let new = page.service.unwrap();
    assert_ne!(new.generation, old.generation);
    assert_eq!(new.high_water, restored.last().unwrap().server_seq);
    assert!(new.high_water < old.high_water);
    assert_eq!(admin.trust_log(&url).await.statements.len(), 2);

    // mark-restored bumps it again (a file copied back by other means).
    service.stop();
    let out = run_ok(&db, &["mark-restored"]);
    assert!(out.contains(&new.generation.to_string()), "{out}");
    let service = Service::start(&db, &[], &dir.path().join("log3")).await;
    let again = mark(&service.url, &admin).await;
    assert_ne!(again.generation, new.generation);
    assert_eq!(again.high_water, new.high_water);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_backup_file_is_refused_with_a_clear_message_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("server.db");
    let db = format!("sqlite://{}", path.display());
    let (service, admin) = organisation(&db, &dir.path().join("log")).await;
    push_notes(&service.url, &admin, 3, "kept").await;
    let before = mark(&service.url, &admin).await;
    service.stop();
    let bytes = std::fs::read(&path).unwrap();

    let garbage = dir.path().join("garbage.db");
    std::fs::write(
        &garbage,
        b"these are not the pages of a database".repeat(200),
    )
    .unwrap();
    let stranger = dir.path().join("stranger.db");
    rusqlite::Connection::open(&stranger)
        .unwrap()
        .execute_batch("CREATE TABLE recipes (name TEXT); PRAGMA user_version = 3;")
        .unwrap();
    let newer = dir.path().join("newer.db");
    run_ok(&db, &["backup", "--out", newer.to_str().unwrap()]);
    rusqlite::Connection::open(&newer)
        .unwrap()
        .execute_batch("PRAGMA user_version = 999;")
        .unwrap();
    for (file, says) in [
        (
            garbage,
            "is not a Wardside server database (not a SQLite database)",
        ),
        (stranger, "is not a Wardside server database (it has no"),
        (newer, "was written by a newer wardside-server (schema 999"),
        (dir.path().join("missing.db"), "there is no database at"),
        (path.clone(), "is the database itself"),
    ] {
        let out = run(&db, &["restore", "--from", file.to_str().unwrap()]);
        assert!(!out.status.success());
        assert!(stderr(&out).contains(says), "{}", stderr(&out));
        assert!(
            !stderr(&out).contains("Error {"),
            "no debug text: {}",
            stderr(&out)
        );
    }
    assert_eq!(
        std::fs::read(&path).unwrap(),
        bytes,
        "the database is untouched"
    );
    assert!(
        !std::fs::read_dir(dir.path())
            .unwrap()
            .flatten()
            .any(|e| e.file_name().to_string_lossy().contains("replaced")),
        "nothing was set aside"
    );
    let service = Service::start(&db, &[], &dir.path().join("log2")).await;
    assert_eq!(mark(&service.url, &admin).await, before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_dump_and_restore_then_mark_restored_serves_the_dump_under_a_new_generation() {
    let Some(admin_url) = postgres() else { return };
    let dir = tempfile::tempdir().unwrap();
    let pg = PgDatabase::fresh(&admin_url);
    let db = pg.url();
    // The SQLite commands are refused, pointing to PostgreSQL's own tools.
    let out = run(&db, &["backup", "--out", "x.db"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("pg_dump"), "{}", stderr(&out));
    assert!(stderr(&out).contains("mark-restored"), "{}", stderr(&out));

    let (service, admin) = organisation(&db, &dir.path().join("log")).await;
    let url = service.url.clone();
    push_notes(&url, &admin, 4, "before").await;
    let dumped = mark(&url, &admin).await;
    // The nightly dump, taken while the service runs (docs/OPERATIONS.md).
    let dump = dir.path().join("wardside.dump");
    let out = std::process::Command::new("pg_dump")
        .args(["--format=custom", "--no-owner", "--file"])
        .arg(&dump)
        .arg(&db)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let lost = vec![admin.op("after 0"), admin.op("after 1")];
    admin.push(&url, lost.clone()).await;
    service.stop();

    // The database is lost; a fresh one gets the dump, then the new generation.
    pg.recreate_empty();
    let out = std::process::Command::new("pg_restore")
        .args(["--no-owner", "--exit-on-error", "--dbname", &db])
        .arg(&dump)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let out = run_ok(&db, &["mark-restored"]);
    assert!(out.contains(&dumped.generation.to_string()), "{out}");

    let service = Service::start(&db, &[], &dir.path().join("log2")).await;
    let (ops, page) = admin.pull_all(&service.url).await;
    assert_eq!(ops.len(), 4);
    for (i, op) in ops.iter().enumerate() {
        let text = op
            .envelope
            .open(&admin.team, &admin.key.public_key())
            .unwrap();
        assert_eq!(text, format!("before {i}").as_bytes());
    }
    let now = page.service.unwrap();
    assert_ne!(now.generation, dumped.generation);
    assert_eq!(now.high_water, dumped.high_water);
    assert_eq!(admin.trust_log(&service.url).await.statements.len(), 2);
    let heads = admin.heads(&service.url).await;
    assert_eq!(heads.heads.len(), 1);
    assert_eq!((heads.heads[0].max_seq, heads.heads[0].ops), (4, 4));
    // The device gives back the ops the dump lacks; the service numbers them after the dump's
    // cursor (its sequence came back with it).
    let given = admin.push(&service.url, lost).await;
    assert!(
        given
            .results
            .iter()
            .all(|r| r.status == PushStatus::Accepted)
    );
    assert!(given.results[0].server_seq.unwrap() > dumped.high_water);
    assert_eq!(admin.pull_all(&service.url).await.0.len(), 6);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn healthz_says_the_process_is_up_and_readyz_says_whether_the_database_answers() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("server.db");
    let db = format!("sqlite://{}", path.display());
    run_ok(&db, &["init-org", "--name", "Org"]);
    let service = Service::start(&db, &[], &dir.path().join("log")).await;
    let get = |route: &str| reqwest::get(format!("{}{route}", service.url));
    let ready = get("/readyz").await.unwrap();
    assert_eq!(ready.status(), StatusCode::OK);
    assert_eq!(ready.text().await.unwrap(), "ready");
    // The database stops answering (its service table gone from under the running service).
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute_batch("DROP TABLE service")
        .unwrap();
    let not = get("/readyz").await.unwrap();
    assert_eq!(not.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        not.text().await.unwrap(),
        "not ready: the database did not answer"
    );
    // The process is still up: liveness does not touch the database.
    let live = get("/healthz").await.unwrap();
    assert_eq!(live.status(), StatusCode::OK);
    assert_eq!(live.text().await.unwrap(), "ok");
    let log = std::fs::read_to_string(&service.log).unwrap();
    assert!(log.contains("readiness check"), "{log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_log_format_json_every_line_is_a_json_object_and_no_content_is_logged() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("server.db").display());
    let org: serde_json::Value =
        serde_json::from_str(&run_ok(&db, &["init-org", "--name", "Org", "--json"])).unwrap();
    let service = Service::start(&db, &["--log-format", "json"], &dir.path().join("log")).await;
    let admin = Dev::enroll(&service.url, org["enrolment_code"].as_str().unwrap(), None).await;
    let canary = "CANARYJSON she wants escorted leave";
    admin.push(&service.url, vec![admin.op(canary)]).await;
    admin.pull_all(&service.url).await;
    let log_path = service.log.clone();
    service.stop();
    let log = std::fs::read_to_string(&log_path).unwrap();
    let lines: Vec<serde_json::Value> = log
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    let push = lines
        .iter()
        .find(|l| l["route"] == "/v1/ops/push")
        .expect("a line for the push");
    assert_eq!(push["status"], 200);
    assert_eq!(push["level"], "INFO");
    assert_eq!(push["device"], admin.id.to_string());
    assert!(push["ms"].is_u64());
    assert!(!log.contains("CANARYJSON"));
    // WARDSIDE_LOG_FORMAT is read too, and a value other than text or json is refused.
    let out = std::process::Command::new(support::BIN)
        .args(["--database", &db, "--listen", "127.0.0.1:1"])
        .env("WARDSIDE_LOG_FORMAT", "xml")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("'xml'") && stderr(&out).contains("json"),
        "{}",
        stderr(&out)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_a_newer_server_has_migrated_is_refused_at_start_with_a_clear_message() {
    let says = "the storage schema is newer than this server; update wardside-server";
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("server.db");
    let db = format!("sqlite://{}", path.display());
    run_ok(&db, &["init-org", "--name", "Org"]);
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute_batch("PRAGMA user_version = 99")
        .unwrap();
    let out = run(&db, &["--listen", "127.0.0.1:0"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains(says), "{}", stderr(&out));

    let Some(admin_url) = postgres() else { return };
    let pg = PgDatabase::fresh(&admin_url);
    run_ok(&pg.url(), &["init-org", "--name", "Org"]);
    support::psql(
        &pg.url(),
        "INSERT INTO refinery_schema_history (version, name, applied_on, checksum)
         VALUES (99, 'from_the_future', '2030-01-01T00:00:00Z', '0')",
    );
    let out = run(&pg.url(), &["--listen", "127.0.0.1:0"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains(says), "{}", stderr(&out));
}
