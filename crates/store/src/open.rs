//! Creating, unlocking, locking and re-keying a store.

use crate::error::{Result, StoreError};
use crate::keys::{DatabaseKey, KdfParams, KeyFile, Passphrase, key_path, private_file};
use include_dir::{Dir, include_dir};
use rusqlite::{Connection, OpenFlags};
use rusqlite_migration::{M, Migrations};
use std::path::{Path, PathBuf};
use std::sync::LazyLock;

static CLIENT_MIGRATIONS: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/../../migrations/client");

/// `migrations/client/*.sql`, in file-name order, for the migration runner.
static MIGRATIONS: LazyLock<Migrations<'static>> = LazyLock::new(|| {
    let mut files: Vec<_> = CLIENT_MIGRATIONS
        .files()
        .filter(|f| f.path().extension().is_some_and(|e| e == "sql"))
        .collect();
    files.sort_by_key(|f| f.path());
    Migrations::new(
        files
            .into_iter()
            .map(|f| M::up(f.contents_utf8().unwrap_or_default()))
            .collect(),
    )
});

/// Page-cache size and friends, chosen by measurement (docs/PERFORMANCE.md).
#[derive(Debug, Clone, Copy)]
pub struct Tuning {
    /// SQLite page cache in KiB. Decryption happens per cache miss, so this is SQLCipher's
    /// main lever.
    pub cache_kib: u32,
}

impl Default for Tuning {
    fn default() -> Self {
        Tuning {
            cache_kib: 64 * 1024,
        }
    }
}

/// An unlocked store. Dropping it locks: the connection closes and SQLCipher wipes its copy of
/// the key; ours (kept in memory only so that [`Store::reopen`] can open a second connection
/// without asking for the passphrase again) is wiped when the last handle of the store drops.
#[derive(Debug)]
pub struct Store {
    pub(crate) conn: Connection,
    /// The database key, shared with handles made by [`Store::reopen`]; `None` only for the
    /// benchmarks' unencrypted baseline.
    key: Option<std::sync::Arc<DatabaseKey>>,
    pub(crate) path: PathBuf,
    pub(crate) device_id: String,
    pub(crate) actor: String,
    /// The wall clock for audit entries, ops and "today": [`crate::clock::CLOCK_ENV`] if set.
    pub(crate) clock: crate::clock::Clock,
}

/// Facts about a store that are safe to show.
#[derive(Debug, Clone, serde::Serialize)]
pub struct StoreInfo {
    pub path: PathBuf,
    pub store_id: String,
    pub device_id: String,
    pub user: String,
    pub schema_version: usize,
}

/// How an existing store (or a re-keyed copy of one) is opened.
pub(crate) fn open_flags() -> OpenFlags {
    OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI
}

/// Open an existing database with `key` and check it is the store `store_id` names: a wrong
/// key (or another store's key file) is `KeyMismatch`.
pub(crate) fn open_checked(path: &Path, store_id: &str, key: &DatabaseKey) -> Result<Connection> {
    let conn = key_connection(path, key, open_flags())?;
    let stored_id: Option<String> = conn
        .query_row("SELECT value FROM meta WHERE key = 'store_id'", [], |r| {
            r.get(0)
        })
        .ok();
    if stored_id.as_deref() != Some(store_id) {
        return Err(StoreError::KeyMismatch);
    }
    Ok(conn)
}

/// Held while a connection is keyed (see [`key_connection`]).
static KEYING: std::sync::Mutex<()> = std::sync::Mutex::new(());

pub(crate) fn key_connection(
    path: &Path,
    key: &DatabaseKey,
    flags: OpenFlags,
) -> Result<Connection> {
    // SQLCipher sets up its crypto provider (the vendored OpenSSL 3) as a connection is keyed
    // and first read; several of those at once on different threads (the store's tests open
    // stores in parallel) once failed with "An error occurred with PRAGMA key". Keying is made
    // one connection at a time: a raw key needs no key derivation, so this costs a page read.
    let _one_at_a_time = KEYING.lock().unwrap_or_else(|p| p.into_inner());
    // Even so, one CI run in several hundred saw that error once on a new, empty file while
    // other threads were writing pages. SQLCipher leaves a connection whose keying failed in an
    // error state, so it is dropped and keying tried again on a fresh one: the error is
    // SQLCipher's own (a context allocation or random draw), never a wrong key, which is only
    // noticed by the first read below.
    let mut attempt = 0;
    let conn = loop {
        let conn = Connection::open_with_flags(path, flags)?;
        match conn.execute_batch(&key.pragma()) {
            Ok(()) => break conn,
            Err(_) if attempt < 2 => {
                attempt += 1;
                drop(conn);
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            Err(e) => return Err(e.into()),
        }
    };
    // HMAC-SHA256 per page instead of SQLCipher 4's default SHA512: processors with SHA
    // extensions verify a page several times faster, which is most of SQLCipher's cost on a
    // page-cache miss (docs/PERFORMANCE.md). Part of the file format: set before every open.
    conn.execute_batch("PRAGMA cipher_hmac_algorithm = HMAC_SHA256;")?;
    // SQLCipher prints HMAC failures to stderr by default; errors reach the user through ours.
    let _ = conn.query_row("PRAGMA cipher_log_level = NONE", [], |_| Ok(()));
    // A wrong key is only noticed on the first read.
    conn.query_row("SELECT count(*) FROM sqlite_master", [], |_| Ok(()))?;
    Ok(conn)
}

fn configure(conn: &Connection, tuning: Tuning) -> Result<()> {
    conn.query_row("PRAGMA journal_mode = WAL", [], |_| Ok(()))?;
    conn.execute_batch(&format!(
        "PRAGMA synchronous = FULL;
         PRAGMA secure_delete = ON;
         PRAGMA temp_store = MEMORY;
         PRAGMA foreign_keys = ON;
         PRAGMA busy_timeout = 5000;
         PRAGMA cache_size = -{};",
        tuning.cache_kib
    ))?;
    // Applying a received op runs a few dozen distinct statements; with rusqlite's default of
    // 16 cached, each op re-parsed most of them (a quarter of an initial sync's time).
    conn.set_prepared_statement_cache_capacity(128);
    Ok(())
}

fn migrate(conn: &mut Connection) -> Result<()> {
    MIGRATIONS.to_latest(conn)?;
    Ok(())
}

impl Store {
    /// Create a new store at `path` with the default KDF cost. Refuses if anything is there.
    pub fn create(path: &Path, pass: &Passphrase, user: &str) -> Result<Store> {
        Self::create_with(path, pass, user, KdfParams::default(), Tuning::default())
    }

    pub fn create_with(
        path: &Path,
        pass: &Passphrase,
        user: &str,
        kdf: KdfParams,
        tuning: Tuning,
    ) -> Result<Store> {
        let kpath = key_path(path);
        if path.exists() || kpath.exists() {
            return Err(StoreError::AlreadyExists(path.to_owned()));
        }
        pass.check_new()?;
        if user.trim().is_empty() {
            return Err(wardside_domain::ValidationError::Required {
                context: "new store",
                field: "the advocate's name",
            }
            .into());
        }
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            create_private_dir(dir)?;
        }
        let dek = DatabaseKey::random()?;
        let store_id = uuid::Uuid::new_v4().to_string();
        let keyfile = KeyFile::wrap(&dek, pass, kdf, &store_id)?;

        // Create the file ourselves so it is private from the first byte; SQLite gives the
        // WAL and shared-memory files the same permissions.
        drop(private_file(path).map_err(|e| StoreError::io(path, e))?);
        let result = (|| {
            let mut conn = key_connection(path, &dek, OpenFlags::default())?;
            configure(&conn, tuning)?;
            migrate(&mut conn)?;
            let device_id = uuid::Uuid::new_v4().to_string();
            conn.execute(
                "INSERT INTO meta (key, value) VALUES ('store_id', ?1), ('device_id', ?2), ('user', ?3), ('created_at', ?4)",
                (&store_id, &device_id, user.trim(), crate::clock::Clock::from_env().unwrap_or_default().now().to_rfc3339()),
            )?;
            keyfile.write_new(&kpath)?;
            Ok(conn)
        })();
        match result {
            Ok(conn) => Self::from_connection(conn, path, Some(dek)),
            Err(e) => {
                // Nothing was ever stored in it: remove the half-made store so `init` can be retried.
                for p in [
                    path.to_owned(),
                    sidecar(path, "-wal"),
                    sidecar(path, "-shm"),
                    kpath,
                ] {
                    let _ = std::fs::remove_file(p);
                }
                Err(e)
            }
        }
    }

    /// Unlock an existing store. A wrong passphrase is `WrongPassphrase` and nothing is opened
    /// or written: the key file is checked before the database is touched. A re-key that
    /// stopped part way is finished or cleared away here (`rekey.rs`).
    pub fn unlock(path: &Path, pass: &Passphrase) -> Result<Store> {
        Self::unlock_with(path, pass, Tuning::default())
    }

    pub fn unlock_with(path: &Path, pass: &Passphrase, tuning: Tuning) -> Result<Store> {
        let kpath = key_path(path);
        match (path.exists(), kpath.exists()) {
            (false, false) => return Err(StoreError::NoStore(path.to_owned())),
            (false, true) => return Err(StoreError::NoStore(path.to_owned())),
            (true, false) => return Err(StoreError::KeyFileMissing(kpath)),
            (true, true) => {}
        }
        // Finishes a re-key that stopped between its renames, or clears away what one left.
        let (mut conn, _, dek) = crate::rekey::open_pair(path, pass)?;
        configure(&conn, tuning)?;
        migrate(&mut conn)?;
        Self::from_connection(conn, path, Some(dek))
    }

    /// A second handle on this unlocked store: its own connection to the same encrypted file,
    /// keyed with the key this one holds (no passphrase, no key derivation). SQLite's
    /// write-ahead log lets each read beside the other's writes; writes take turns, each
    /// waiting for the other's transaction to end (the busy timeout). The app syncs on one
    /// while the person reads, searches and saves on the other. Locking means dropping both.
    pub fn reopen(&self, tuning: Tuning) -> Result<Store> {
        let conn = match &self.key {
            Some(key) => {
                let store_id: String = self.conn.query_row(
                    "SELECT value FROM meta WHERE key = 'store_id'",
                    [],
                    |r| r.get(0),
                )?;
                open_checked(&self.path, &store_id, key)?
            }
            None => Connection::open_with_flags(&self.path, open_flags())?,
        };
        configure(&conn, tuning)?;
        let mut s = Self::from_connection(conn, &self.path, None)?;
        s.key = self.key.clone();
        s.clock = self.clock;
        Ok(s)
    }

    /// Change the passphrase: unwrap with the old one, wrap the same database key under the new
    /// one, replace the key file atomically. The database file is not rewritten (it is opened,
    /// read and closed, to be sure the key file being rewrapped is the one that opens it).
    pub fn change_passphrase(path: &Path, old: &Passphrase, new: &Passphrase) -> Result<()> {
        new.check_new()?;
        let kpath = key_path(path);
        if !path.exists() {
            return Err(StoreError::NoStore(path.to_owned()));
        }
        // Rewrapping a key file that does not open the database (say, the old one beside a
        // database whose re-key stopped between its renames) would lose the store.
        let (conn, keyfile, dek) = crate::rekey::open_pair(path, old)?;
        drop(conn);
        KeyFile::wrap(&dek, new, keyfile.kdf_params(), keyfile.store_id())?.replace(&kpath)
    }

    fn from_connection(conn: Connection, path: &Path, key: Option<DatabaseKey>) -> Result<Store> {
        let get = |k: &str| {
            conn.query_row("SELECT value FROM meta WHERE key = ?1", [k], |r| {
                r.get::<_, String>(0)
            })
        };
        let device_id = get("device_id")?;
        let actor = get("user")?;
        Ok(Store {
            device_id,
            actor,
            conn,
            key: key.map(std::sync::Arc::new),
            path: path.to_owned(),
            // A malformed value is reported by the shell that reads it first; here it means the
            // system's clock.
            clock: crate::clock::Clock::from_env().unwrap_or_default(),
        })
    }

    /// How long a write waits for another handle's transaction on the same file before it
    /// fails (5 s unless set). The app's screens wait longer than the sync beside them takes
    /// for one transaction, so that a save never fails because the sync is writing.
    pub fn set_busy_timeout(&self, wait: std::time::Duration) -> Result<()> {
        self.conn.busy_timeout(wait)?;
        Ok(())
    }

    /// The wall clock this store stamps with and counts "today" by.
    pub fn clock(&self) -> crate::clock::Clock {
        self.clock
    }

    /// Use another wall clock from now on (tests set one; the shells use [`crate::clock::CLOCK_ENV`]).
    pub fn set_clock(&mut self, clock: crate::clock::Clock) {
        self.clock = clock;
    }

    /// Lock: close the database. Equivalent to dropping the store, but reports close errors.
    pub fn lock(self) -> Result<()> {
        self.conn.close().map_err(|(_, e)| e.into())
    }

    pub fn info(&self) -> Result<StoreInfo> {
        let store_id =
            self.conn
                .query_row("SELECT value FROM meta WHERE key = 'store_id'", [], |r| {
                    r.get(0)
                })?;
        let schema_version =
            self.conn
                .query_row("PRAGMA user_version", [], |r| r.get::<_, i64>(0))? as usize;
        Ok(StoreInfo {
            path: self.path.clone(),
            store_id,
            device_id: self.device_id.clone(),
            user: self.actor.clone(),
            schema_version,
        })
    }

    pub fn device_id(&self) -> &str {
        &self.device_id
    }

    /// The number of migrations this build knows.
    pub fn latest_schema_version() -> usize {
        CLIENT_MIGRATIONS
            .files()
            .filter(|f| f.path().extension().is_some_and(|e| e == "sql"))
            .count()
    }

    /// SQLCipher's own page-by-page HMAC check of the whole file.
    pub fn integrity_check(&self) -> Result<Vec<String>> {
        let mut stmt = self.conn.prepare("PRAGMA cipher_integrity_check")?;
        let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

#[cfg(feature = "unencrypted-baseline-for-benchmarks")]
impl Store {
    /// The same schema and code without encryption, for the benchmark's baseline only.
    pub fn create_unencrypted_baseline(path: &Path, tuning: Tuning) -> Result<Store> {
        let mut conn = Connection::open(path)?;
        configure(&conn, tuning)?;
        migrate(&mut conn)?;
        conn.execute(
            "INSERT INTO meta (key, value) VALUES ('store_id', 'baseline'), ('device_id', ?1), ('user', 'Benchmark')",
            [uuid::Uuid::new_v4().to_string()],
        )?;
        Self::from_connection(conn, path, None)
    }

    pub fn open_unencrypted_baseline(path: &Path, tuning: Tuning) -> Result<Store> {
        let mut conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        configure(&conn, tuning)?;
        migrate(&mut conn)?;
        Self::from_connection(conn, path, None)
    }
}

pub(crate) fn sidecar(path: &Path, suffix: &str) -> PathBuf {
    let mut p = path.as_os_str().to_owned();
    p.push(suffix);
    PathBuf::from(p)
}

fn create_private_dir(dir: &Path) -> Result<()> {
    if dir.exists() {
        return Ok(());
    }
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        b.mode(0o700);
    }
    b.create(dir).map_err(|e| StoreError::io(dir, e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use wardside_domain::{Activity, ActivityKind, Case, Client};

    const FAST: KdfParams = KdfParams {
        m_kib: 256,
        t: 1,
        p: 1,
    };

    fn store(dir: &Path) -> (Store, PathBuf) {
        let path = dir.join("w.db");
        (
            Store::create_with(
                &path,
                &Passphrase::new("plum kettle harbour"),
                "Tester",
                FAST,
                Tuning::default(),
            )
            .unwrap(),
            path,
        )
    }

    #[test]
    fn every_sql_file_in_migrations_client_is_a_migration_and_all_are_applied() {
        let dir = tempfile::tempdir().unwrap();
        let (s, _) = store(dir.path());
        let on_disk = std::fs::read_dir(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../migrations/client"
        ))
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "sql")
        })
        .count();
        assert_eq!(Store::latest_schema_version(), on_disk);
        assert_eq!(s.info().unwrap().schema_version, on_disk);
        assert!(MIGRATIONS.validate().is_ok());
    }

    /// Schema 9: "Z" was the default ethnic category, so a person whose equality monitoring
    /// was never answered becomes "99" (not known); one with any other answer keeps Z.
    #[test]
    fn never_answered_equality_monitoring_becomes_not_known() {
        let mut conn = Connection::open_in_memory().unwrap();
        MIGRATIONS.to_version(&mut conn, 8).unwrap();
        let insert = |id: &str, equality: &str| {
            conn.execute(
                "INSERT INTO client (id, data) VALUES (?1, ?2)",
                [
                    id,
                    &format!(r#"{{"name":"Test Person","equality":{equality}}}"#),
                ],
            )
            .unwrap();
        };
        insert("never", r#"{"ethnic_category":"Z"}"#);
        insert("declined", r#"{"ethnic_category":"Z","gender":"woman"}"#);
        insert(
            "declined-all",
            r#"{"ethnic_category":"Z","disability":false}"#,
        );
        insert("answered", r#"{"ethnic_category":"M"}"#);
        MIGRATIONS.to_latest(&mut conn).unwrap();
        let code = |id: &str| -> String {
            conn.query_row(
                "SELECT data ->> '$.equality.ethnic_category' FROM client WHERE id = ?1",
                [id],
                |r| r.get(0),
            )
            .unwrap()
        };
        assert_eq!(code("never"), "99");
        assert_eq!(code("declined"), "Z");
        assert_eq!(code("declined-all"), "Z");
        assert_eq!(code("answered"), "M");
        // The rest of the record is as it was.
        let c: Client = serde_json::from_str(
            &conn
                .query_row("SELECT data FROM client WHERE id = 'never'", [], |r| {
                    r.get::<_, String>(0)
                })
                .unwrap(),
        )
        .unwrap();
        assert_eq!(c.name, "Test Person");
    }

    /// The app syncs on one handle while the person works on another: each sees what the
    /// other committed, a read goes on beside the other's open write, and a write waits for
    /// it (within the busy timeout) instead of failing.
    #[test]
    fn a_second_handle_reads_and_writes_beside_the_first_without_the_passphrase() {
        let dir = tempfile::tempdir().unwrap();
        let (mut a, _) = store(dir.path());
        let mut b = a.reopen(Tuning::default()).unwrap();
        assert_eq!(b.device_id(), a.device_id());
        let client = a
            .write(|w| w.add_client(&Client::named("Test Person")))
            .unwrap();
        let seen: Client = b.get(client.0).unwrap();
        assert_eq!(seen.name, "Test Person");
        // b holds a write transaction for a moment; a reads meanwhile, then writes after it.
        let (held, release) = (std::sync::Barrier::new(2), std::sync::Barrier::new(2));
        std::thread::scope(|scope| {
            let writer = scope.spawn(|| {
                b.write(|w| {
                    w.add_client(&Client::named("Second Person"))?;
                    held.wait();
                    release.wait();
                    std::thread::sleep(std::time::Duration::from_millis(300));
                    Ok(())
                })
            });
            held.wait();
            let read: Client = a.get(client.0).unwrap();
            assert_eq!(read.name, "Test Person");
            release.wait();
            a.write(|w| w.add_client(&Client::named("Third Person")))
                .unwrap();
            writer.join().unwrap().unwrap();
        });
        assert_eq!(
            a.ops_after(0, 1000).unwrap().len(),
            b.ops_after(0, 1000).unwrap().len()
        );
    }

    #[test]
    fn a_store_from_a_newer_wardside_is_refused_with_advice() {
        let dir = tempfile::tempdir().unwrap();
        let (s, path) = store(dir.path());
        s.conn.pragma_update(None, "user_version", 99).unwrap();
        s.lock().unwrap();
        let err = Store::unlock(&path, &Passphrase::new("plum kettle harbour")).unwrap_err();
        assert!(matches!(err, StoreError::NewerSchema), "{err}");
        assert!(err.to_string().contains("update Wardside"));
    }

    #[test]
    fn a_full_disk_is_a_clear_error_that_saves_nothing_and_the_store_carries_on() {
        let dir = tempfile::tempdir().unwrap();
        let (mut s, _) = store(dir.path());
        let case = s
            .write(|w| {
                let c = w.add_client(&Client::named("Test Person"))?;
                w.open_case(&Case::opened(c, "2026-11-01".parse().unwrap()))
            })
            .unwrap();
        let ops_before = s.ops_after(0, 1000).unwrap().len();
        // SQLite reports SQLITE_FULL when the file may not grow: the same path as a full disk.
        let pages: i64 = s
            .conn
            .query_row("PRAGMA page_count", [], |r| r.get(0))
            .unwrap();
        s.conn.pragma_update(None, "max_page_count", pages).unwrap();
        let activity = Activity {
            case_id: case,
            at: "2026-11-02T10:00:00".parse().unwrap(),
            duration_minutes: None,
            kind: ActivityKind::Other,
            withheld: None,
        };
        let big = "Long note about the ward round. ".repeat(4000);
        let err = s.write(|w| w.add_activity(&activity, &big)).unwrap_err();
        assert!(matches!(err, StoreError::DiskFull), "{err}");
        assert!(err.to_string().contains("nothing was saved"));
        assert_eq!(
            s.ops_after(0, 1000).unwrap().len(),
            ops_before,
            "no partial write"
        );
        s.conn
            .pragma_update(None, "max_page_count", 1_073_741_823)
            .unwrap();
        s.write(|w| w.add_activity(&activity, &big)).unwrap();
        assert_eq!(s.ops_after(0, 1000).unwrap().len(), ops_before + 2);
    }
}
