//! Upgrades: a database written by each earlier schema opens with this server (its migrations
//! run at start) and serves what it held: the ops (opened with the team key), each device's
//! heads, the trust log (replayed as a device checks it), the key grants, and a new push.
//!
//! The fixtures are SQL text, one folder per schema (`tests/fixtures/schema-vN/`: `sqlite.sql`,
//! `postgres.sql`, and `sqlite.json` / `postgres.json` with the keys and notes to check them
//! by). They were written through the service's public API by the `freeze_fixtures` test below;
//! tests/fixtures/README.md says how to freeze the next schema's.
#![allow(clippy::unwrap_used)]

mod support;

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use support::{
    BIN, Dev, PgDatabase, Service, b64, found, invite, postgres, run_bin, run_ok, say, unb64,
};
use uuid::Uuid;
use wardside_sync::protocol::{KeyGrants, PushStatus};
use wardside_sync::trust::{Body, KeyGrant, TrustState};
use wardside_sync::wrap::{BoxSecret, unwrap, wrap};
use wardside_sync::{DeviceSigningKey, KeyId, TeamKey};

/// What a fixture holds, to check it by (test keys, made for the fixture only).
#[derive(Debug, Serialize, Deserialize)]
struct Expected {
    org: Uuid,
    /// The organisation's first team's key (epoch 1), base64.
    team_key: String,
    devices: Vec<ExpectedDevice>,
    trust_statements: usize,
    /// The laptop's X25519 secret, to open its key grant.
    laptop_box_secret: String,
}

#[derive(Debug, Serialize, Deserialize)]
struct ExpectedDevice {
    id: Uuid,
    name: String,
    /// The device's signing key (PKCS#8, base64), to sign requests as it.
    pkcs8: String,
    admin: bool,
    /// Its notes, in the order it pushed them.
    notes: Vec<String>,
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// Every `schema-vN` folder, oldest first.
fn schema_folders() -> Vec<PathBuf> {
    let mut dirs: Vec<(u32, PathBuf)> = std::fs::read_dir(fixtures())
        .unwrap()
        .flatten()
        .filter_map(|e| {
            let n = e
                .file_name()
                .to_str()?
                .strip_prefix("schema-v")?
                .parse()
                .ok()?;
            Some((n, e.path()))
        })
        .collect();
    dirs.sort();
    dirs.into_iter().map(|(_, p)| p).collect()
}

impl Expected {
    fn team(&self) -> TeamKey {
        TeamKey::from_bytes(
            KeyId {
                team_id: self.org,
                epoch: 1,
            },
            unb64(&self.team_key).try_into().unwrap(),
        )
    }

    fn device(&self, i: usize) -> Dev {
        let d = &self.devices[i];
        Dev::new(
            d.id,
            self.org,
            DeviceSigningKey::from_pkcs8(&unb64(&d.pkcs8)).unwrap(),
            self.team(),
        )
    }
}

/// The checks, against the current server serving the upgraded database at `url`.
async fn serves_what_it_held(url: &str, expected: &Expected, what: &str) {
    let admin = expected.device(0);
    let laptop = expected.device(1);
    // Every op, opened with the team key and checked against its author's key.
    let (ops, page) = laptop.pull_all(url).await;
    let mut by_device: Vec<Vec<String>> = vec![Vec::new(); expected.devices.len()];
    for op in &ops {
        let i = expected
            .devices
            .iter()
            .position(|d| d.id == op.envelope.routing.device_id)
            .unwrap();
        let author = expected.device(i);
        let text = op
            .envelope
            .open(&expected.team(), &author.key.public_key())
            .unwrap();
        by_device[i].push(String::from_utf8(text).unwrap());
    }
    for (d, got) in expected.devices.iter().zip(&by_device) {
        assert_eq!(&d.notes, got, "{what}: {}'s notes", d.name);
    }
    let mark = page.service.expect("the reply carries the service mark");
    assert_eq!(mark.high_water, ops.last().unwrap().server_seq, "{what}");
    // Heads: one per device in the team, as many ops as it pushed.
    let heads = admin.heads(url).await;
    for d in &expected.devices {
        let h = heads
            .heads
            .iter()
            .find(|h| h.device_id == d.id)
            .unwrap_or_else(|| panic!("{what}: no head for {}", d.name));
        let n = d.notes.len() as u64;
        assert_eq!((h.max_seq, h.ops, h.chain_seq), (n, n, n), "{what}");
    }
    assert_eq!(heads.trust_seq, expected.trust_statements as u64, "{what}");
    // The trust log replays as a device checks it, from the pinned root.
    let log = laptop.trust_log(url).await;
    assert_eq!(log.statements.len(), expected.trust_statements, "{what}");
    let mut state =
        TrustState::genesis(&log.statements[0], expected.org, &admin.key.public_key()).unwrap();
    for s in &log.statements[1..] {
        state.apply(s).unwrap();
    }
    assert!(state.is_approved(laptop.id), "{what}");
    state.check_key(&expected.team()).unwrap();
    // The laptop's key grant opens to the team key.
    let grants: KeyGrants = laptop.get(url, "/v1/keys").await;
    assert_eq!(grants.grants.len(), 1, "{what}");
    state.check_grant(&grants.grants[0], laptop.id).unwrap();
    let secret = BoxSecret::from_bytes(unb64(&expected.laptop_box_secret).try_into().unwrap());
    assert_eq!(
        unwrap(&grants.grants[0].wrap, laptop.id, &secret)
            .unwrap()
            .id,
        expected.team().id
    );
    // And it takes new work: the laptop's next op, after its last one.
    let last = ops
        .iter()
        .rfind(|o| o.envelope.routing.device_id == laptop.id)
        .unwrap();
    let n = expected.devices[1].notes.len() as u64;
    *laptop.next.lock().unwrap() = (n + 1, n + 1, last.envelope.hash32().unwrap());
    let r = laptop.push(url, vec![laptop.op("after the upgrade")]).await;
    assert_eq!(r.results[0].status, PushStatus::Accepted, "{what}: {r:?}");
}

fn read_expected(folder: &Path, backend: &str) -> Expected {
    serde_json::from_str(&std::fs::read_to_string(folder.join(format!("{backend}.json"))).unwrap())
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_databases_of_every_earlier_schema_open_and_serve_their_data() {
    let folders = schema_folders();
    assert!(
        !folders.is_empty(),
        "no fixtures in {}",
        fixtures().display()
    );
    for folder in folders {
        let what = format!("{} (SQLite)", folder.display());
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("server.db");
        let sql = std::fs::read_to_string(folder.join("sqlite.sql")).unwrap();
        rusqlite::Connection::open(&path)
            .unwrap()
            .execute_batch(&sql)
            .unwrap();
        let db = format!("sqlite://{}", path.display());
        let service = Service::start(&db, &[], &dir.path().join("log")).await;
        serves_what_it_held(&service.url, &read_expected(&folder, "sqlite"), &what).await;
        service.stop();
        let version: i64 = rusqlite::Connection::open(&path)
            .unwrap()
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(
            version,
            wardside_server::storage::sqlite::known_schema_version(),
            "{what}: migrated to the current schema"
        );

        // A backup of that schema restores too: migrated on the way in, under a generation.
        let old = dir.path().join("old-backup.db");
        rusqlite::Connection::open(&old)
            .unwrap()
            .execute_batch(&sql)
            .unwrap();
        let restored = format!("sqlite://{}", dir.path().join("restored.db").display());
        let out = run_ok(&restored, &["restore", "--from", old.to_str().unwrap()]);
        let expected = read_expected(&folder, "sqlite");
        let ops: usize = expected.devices.iter().map(|d| d.notes.len()).sum();
        assert!(out.contains(&format!(" {ops} op(s)")), "{what}: {out}");
        let service = Service::start(&restored, &[], &dir.path().join("log2")).await;
        serves_what_it_held(&service.url, &expected, &what).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_databases_of_every_earlier_schema_open_and_serve_their_data() {
    let Some(admin_url) = postgres() else { return };
    for folder in schema_folders() {
        let what = format!("{} (PostgreSQL)", folder.display());
        let dir = tempfile::tempdir().unwrap();
        let pg = PgDatabase::fresh(&admin_url);
        let out = std::process::Command::new("psql")
            .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", &pg.url(), "-f"])
            .arg(folder.join("postgres.sql"))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{what}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let service = Service::start(&pg.url(), &[], &dir.path().join("log")).await;
        serves_what_it_held(&service.url, &read_expected(&folder, "postgres"), &what).await;
    }
}

/// An organisation through the public API of the server `bin` serving `db`: its admin, the
/// trust log founded, a laptop invited, enrolled and approved, the team key granted to it, and
/// notes from both.
async fn populate(bin: &str, db: &str, log: &Path) -> Expected {
    let out = run_bin(
        bin,
        db,
        &["init-org", "--name", "Fixture Advocacy", "--json"],
    );
    assert!(out.status.success());
    let org: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let service = Service::start_bin(bin, db, &[], log).await;
    let url = service.url.clone();
    let admin = Dev::enroll(&url, org["enrolment_code"].as_str().unwrap(), None).await;
    let mut state = found(&url, &admin, "Fixture Advocacy").await;
    let code = invite(&url, &admin, &state).await;
    let secret = BoxSecret::generate().unwrap();
    let laptop = Dev::enroll_with(&url, &code, Some(admin.team.clone()), secret.public_key()).await;
    say(
        &url,
        &admin,
        &mut state,
        Body::Approve {
            device: laptop.keys(),
            name: "Laptop".into(),
            admin: false,
            teams: vec![admin.org],
        },
    )
    .await;
    let grant = KeyGrant::sign(
        admin.org,
        wrap(&admin.team, laptop.id, &secret.public_key()).unwrap(),
        &admin.team,
        admin.id,
        &admin.key,
    );
    let resp = admin
        .post(&url, "/v1/keys", &serde_json::json!({ "grants": [grant] }))
        .await;
    assert!(resp.status().is_success());
    let notes = |who: &str, n: usize| -> Vec<String> {
        (1..=n)
            .map(|i| format!("{who}'s fixture note {i}"))
            .collect()
    };
    let (admin_notes, laptop_notes) = (notes("Admin", 3), notes("Laptop", 2));
    admin
        .push(&url, admin_notes.iter().map(|n| admin.op(n)).collect())
        .await;
    laptop
        .push(&url, laptop_notes.iter().map(|n| laptop.op(n)).collect())
        .await;
    service.stop();
    let device = |d: &Dev, name: &str, admin: bool, notes: Vec<String>| ExpectedDevice {
        id: d.id,
        name: name.into(),
        pkcs8: b64(d.key.pkcs8()),
        admin,
        notes,
    };
    Expected {
        org: admin.org,
        team_key: b64(admin.team.expose_secret()),
        devices: vec![
            device(&admin, "Admin", true, admin_notes),
            device(&laptop, "Laptop", false, laptop_notes),
        ],
        trust_statements: 3,
        laptop_box_secret: b64(&secret.to_bytes()),
    }
}

/// Freeze the fixtures of the server `WARDSIDE_FREEZE_SERVER` (default: this build) into
/// `WARDSIDE_FREEZE_FIXTURE` (a `tests/fixtures/schema-vN` folder). Run by hand when a release
/// changes the schema: tests/fixtures/README.md.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "run by hand to freeze a schema's fixtures (tests/fixtures/README.md)"]
async fn freeze_fixtures() {
    let out = PathBuf::from(std::env::var("WARDSIDE_FREEZE_FIXTURE").unwrap());
    let bin = std::env::var("WARDSIDE_FREEZE_SERVER").unwrap_or_else(|_| BIN.to_owned());
    std::fs::create_dir_all(&out).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let write_json = |name: &str, e: &Expected| {
        std::fs::write(
            out.join(name),
            serde_json::to_string_pretty(e).unwrap() + "\n",
        )
        .unwrap();
    };

    let path = dir.path().join("server.db");
    let expected = populate(
        &bin,
        &format!("sqlite://{}", path.display()),
        &dir.path().join("log"),
    )
    .await;
    // sqlite3's dump, and the schema version (which the dump leaves out) for the migrations.
    let dump = std::process::Command::new("sqlite3")
        .arg(&path)
        .arg(".dump")
        .output()
        .unwrap();
    assert!(dump.status.success());
    let version: i64 = rusqlite::Connection::open(&path)
        .unwrap()
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    let mut sql = String::from_utf8(dump.stdout).unwrap();
    sql.push_str(&format!("PRAGMA user_version = {version};\n"));
    std::fs::write(out.join("sqlite.sql"), sql).unwrap();
    write_json("sqlite.json", &expected);

    let admin_url = std::env::var("WARDSIDE_TEST_POSTGRES").unwrap();
    let pg = PgDatabase::fresh(&admin_url);
    let expected = populate(&bin, &pg.url(), &dir.path().join("log2")).await;
    let dump = std::process::Command::new("pg_dump")
        .args(["--no-owner", "--no-privileges", "--format=plain", &pg.url()])
        .output()
        .unwrap();
    assert!(dump.status.success());
    // Without pg_dump's \restrict guard lines, which a psql older than 15.14 does not know
    // (the fixture is ours, not a dump from an untrusted server).
    let sql: String = String::from_utf8(dump.stdout)
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with("\\restrict") && !l.starts_with("\\unrestrict"))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(out.join("postgres.sql"), sql).unwrap();
    write_json("postgres.json", &expected);
}
