//! Backup and restore of the SQLite file, through SQLite's online backup API: a backup is a
//! consistent copy taken while the service keeps serving; a restore replaces the database with
//! such a copy (the service stopped), keeps the database it replaced beside it, and gives the
//! storage a new generation so devices learn that it went back in time and give back what the
//! backup lacks. PostgreSQL has its own tools for both (pg_dump, PITR; docs/OPERATIONS.md).

use super::sqlite::{SqliteStorage, known_schema_version};
use super::{Storage, StorageError};
use rusqlite::backup::{Backup, StepResult};
use rusqlite::{Connection, OpenFlags};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::time::Duration;
use uuid::Uuid;

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("there is no database at {0}")]
    NoDatabase(PathBuf),
    #[error("{path} is not a Wardside server database ({why})")]
    NotWardside { path: PathBuf, why: &'static str },
    #[error(
        "{path} was written by a newer wardside-server (schema {found}; this one knows up to {known}): restore it with that version or a later one"
    )]
    Newer {
        path: PathBuf,
        found: i64,
        known: i64,
    },
    #[error(
        "the service is running on {0}: stop it first (systemctl stop wardside-server), then restore"
    )]
    Serving(PathBuf),
    #[error("a restore is under way on {0}: wait for it to finish before starting the service")]
    Restoring(PathBuf),
    #[error("{0} is the database itself: name another file")]
    SameFile(PathBuf),
    #[error("{what} {path}: {message}")]
    File {
        what: &'static str,
        path: PathBuf,
        message: String,
    },
    #[error(transparent)]
    Storage(#[from] StorageError),
}

type Result<T, E = BackupError> = std::result::Result<T, E>;

/// What a backup or a restore found in the copy it made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    pub organisations: i64,
    pub ops: i64,
    pub bytes: u64,
    /// The copy's schema version (the number of migrations it has had).
    pub schema: i64,
}

/// What `restore` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Restored {
    pub summary: Summary,
    /// Where the database that was replaced is kept (none if there was none).
    pub kept: Option<PathBuf>,
    /// The generation the backup carried, and the new one devices will see.
    pub old_generation: Option<Uuid>,
    pub new_generation: Uuid,
}

fn file_error(what: &'static str, path: &Path) -> impl FnOnce(rusqlite::Error) -> BackupError {
    let path = path.to_owned();
    move |e| BackupError::File {
        what,
        path,
        message: e.to_string(),
    }
}

fn io_error(what: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> BackupError {
    let path = path.to_owned();
    move |e| BackupError::File {
        what,
        path,
        message: e.to_string(),
    }
}

/// The lock file beside a database: held shared by a serving process, exclusively by a
/// restore, so neither runs under the other. (A file of its own, not the database: closing
/// another descriptor of the database would drop SQLite's own POSIX locks on it.)
fn lock_path(db: &Path) -> PathBuf {
    let mut name = db.as_os_str().to_owned();
    name.push(".lock");
    PathBuf::from(name)
}

fn open_lock(db: &Path) -> Result<File> {
    let path = lock_path(db);
    File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(io_error("could not open the lock file", &path))
}

/// Held while the service serves a SQLite database: `restore` refuses to run meanwhile.
#[derive(Debug)]
pub struct ServingLock(#[allow(dead_code)] File);

impl ServingLock {
    pub fn take(db: &Path) -> Result<Self> {
        let f = open_lock(db)?;
        match f.try_lock_shared() {
            Ok(()) => Ok(ServingLock(f)),
            Err(std::fs::TryLockError::WouldBlock) => Err(BackupError::Restoring(db.to_owned())),
            Err(std::fs::TryLockError::Error(e)) => Err(io_error("could not lock", db)(e)),
        }
    }
}

/// Copy every page of `from` into `to` in one step (one read transaction on the source:
/// consistent, and writers in WAL mode carry on meanwhile), retrying while the source is busy.
fn copy(from: &Connection, to: &mut Connection, path: &Path) -> Result<()> {
    let backup = Backup::new(from, to).map_err(file_error("could not copy", path))?;
    for _ in 0..200 {
        match backup
            .step(-1)
            .map_err(file_error("could not copy", path))?
        {
            StepResult::Done => return Ok(()),
            // Another connection holds a lock for a moment: wait and try again.
            _ => std::thread::sleep(Duration::from_millis(50)),
        }
    }
    Err(BackupError::File {
        what: "could not copy",
        path: path.to_owned(),
        message: "the database stayed busy for 10 seconds".into(),
    })
}

/// Check that `conn` holds a Wardside server database this build can open, and count it.
fn inspect(conn: &Connection, path: &Path) -> Result<Summary> {
    let not = |why| BackupError::NotWardside {
        path: path.to_owned(),
        why,
    };
    // The first read of a file that is not SQLite fails here ("file is not a database").
    let schema: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(|_| not("not a SQLite database"))?;
    let check: String = conn
        .query_row("PRAGMA quick_check", [], |r| r.get(0))
        .map_err(|_| not("not a SQLite database"))?;
    if check != "ok" {
        return Err(not("the file is damaged"));
    }
    let tables: i64 = conn
        .query_row(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN ('op', 'org', 'device')",
            [],
            |r| r.get(0),
        )
        .map_err(|_| not("not a SQLite database"))?;
    if schema < 2 || tables != 3 {
        return Err(not("it has no organisations, devices or ops tables"));
    }
    let known = known_schema_version();
    if schema > known {
        return Err(BackupError::Newer {
            path: path.to_owned(),
            found: schema,
            known,
        });
    }
    let count = |sql: &str| -> Result<i64> {
        conn.query_row(sql, [], |r| r.get(0))
            .map_err(file_error("could not read", path))
    };
    let bytes =
        count("SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()")?;
    Ok(Summary {
        organisations: count("SELECT count(*) FROM org")?,
        ops: count("SELECT count(*) FROM op")?,
        bytes: u64::try_from(bytes).unwrap_or(0),
        schema,
    })
}

/// A copy of the database is for the service's user alone, whatever the umask.
fn owner_only(path: &Path) -> Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
            .map_err(io_error("could not write", path))?;
    }
    Ok(())
}

fn generation_in(conn: &Connection) -> Option<Uuid> {
    conn.query_row("SELECT generation FROM service WHERE id = 1", [], |r| {
        r.get::<_, String>(0)
    })
    .ok()
    .and_then(|g| g.parse().ok())
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

/// A consistent copy of the database at `db` in `out`, taken while the service may be
/// serving. Written beside `out` first and renamed into place once complete and checked, so
/// `out` is never a half-written backup (an earlier backup of that name stays until then).
pub fn backup(db: &Path, out: &Path) -> Result<Summary> {
    if !db.is_file() {
        return Err(BackupError::NoDatabase(db.to_owned()));
    }
    if same_file(db, out) {
        return Err(BackupError::SameFile(out.to_owned()));
    }
    let source = Connection::open_with_flags(
        db,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(file_error("could not open", db))?;
    source
        .busy_timeout(Duration::from_secs(5))
        .map_err(file_error("could not open", db))?;
    inspect(&source, db)?;
    let mut partial = out.as_os_str().to_owned();
    partial.push(".partial");
    let partial = PathBuf::from(partial);
    let _ = std::fs::remove_file(&partial);
    let result = (|| {
        let mut dest =
            Connection::open(&partial).map_err(file_error("could not write", &partial))?;
        owner_only(&partial)?;
        copy(&source, &mut dest, db)?;
        // One self-contained file (no -wal beside it), checked before it counts as a backup.
        dest.query_row("PRAGMA journal_mode = DELETE", [], |_| Ok(()))
            .map_err(file_error("could not write", &partial))?;
        let summary = inspect(&dest, &partial)?;
        drop(dest);
        File::open(&partial)
            .and_then(|f| f.sync_all())
            .map_err(io_error("could not write", &partial))?;
        std::fs::rename(&partial, out).map_err(io_error("could not write", out))?;
        Ok(summary)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&partial);
    }
    result
}

/// Replace the database at `db` with the backup `from`, the service stopped: the backup is
/// checked first (a Wardside server database, not newer than this build; if not, nothing is
/// changed), the database it replaces is kept as `DB.replaced-<time>`, migrations bring an
/// older backup up to date, and the storage gets a new generation.
pub async fn restore(
    db: &Path,
    from: &Path,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Restored> {
    if !from.is_file() {
        return Err(BackupError::NoDatabase(from.to_owned()));
    }
    if same_file(db, from) {
        return Err(BackupError::SameFile(from.to_owned()));
    }
    let source = Connection::open_with_flags(
        from,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(file_error("could not open", from))?;
    let summary = inspect(&source, from)?;
    let old_generation = generation_in(&source);

    let lock = open_lock(db)?;
    match lock.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => return Err(BackupError::Serving(db.to_owned())),
        Err(std::fs::TryLockError::Error(e)) => return Err(io_error("could not lock", db)(e)),
    }

    let kept = if db.exists() {
        let mut name = db.as_os_str().to_owned();
        name.push(format!(".replaced-{}", now.format("%Y%m%dT%H%M%SZ")));
        let kept = PathBuf::from(name);
        let current = Connection::open_with_flags(db, OpenFlags::SQLITE_OPEN_READ_WRITE)
            .map_err(file_error("could not open", db))?;
        let mut copy_to = Connection::open(&kept).map_err(file_error("could not write", &kept))?;
        owner_only(&kept)?;
        copy(&current, &mut copy_to, db)?;
        copy_to
            .query_row("PRAGMA journal_mode = DELETE", [], |_| Ok(()))
            .map_err(file_error("could not write", &kept))?;
        Some(kept)
    } else {
        None
    };

    // The backup is brought up to date and given its new generation in a file of its own
    // first, so the database never holds the backup under the old generation (were this
    // stopped half-way, devices would not learn of the restore).
    let mut staged = db.as_os_str().to_owned();
    staged.push(".restoring");
    let staged = PathBuf::from(staged);
    let remove_staged = || {
        for suffix in ["", "-wal", "-shm"] {
            let mut p = staged.as_os_str().to_owned();
            p.push(suffix);
            let _ = std::fs::remove_file(PathBuf::from(p));
        }
    };
    remove_staged();
    let result = async {
        {
            let mut st =
                Connection::open(&staged).map_err(file_error("could not write", &staged))?;
            owner_only(&staged)?;
            copy(&source, &mut st, from)?;
        }
        // Opening runs the migrations an older backup lacks; then the new generation.
        let storage = SqliteStorage::open(&staged)?;
        let new_generation = storage.new_generation().await?;
        drop(storage);
        let st = Connection::open(&staged).map_err(file_error("could not open", &staged))?;
        let mut dest = Connection::open(db).map_err(file_error("could not open", db))?;
        // Out of WAL mode first (checkpointing what the old database had in its log), so the
        // copy replaces the whole file, whatever its page size. One transaction: all or nothing.
        dest.query_row("PRAGMA journal_mode = DELETE", [], |_| Ok(()))
            .map_err(file_error("could not open", db))?;
        copy(&st, &mut dest, &staged)?;
        Ok::<_, BackupError>(new_generation)
    }
    .await;
    remove_staged();
    let new_generation = result?;
    drop(source);
    drop(lock);
    Ok(Restored {
        summary,
        kept,
        old_generation,
        new_generation,
    })
}
