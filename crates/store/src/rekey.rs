//! Re-keying: a new random database key, the whole database re-encrypted under it, and a key
//! file wrapping the new key under the (new) passphrase. After a passphrase change an old copy
//! of the key file and the old passphrase still open today's database; after a re-key they do
//! not (docs/SECURITY.md says what that does and does not protect).
//!
//! Crash safety: at every instant either the old pair (database and key file) or the new pair
//! opens. The steps, and what a crash after each leaves:
//!
//! 1. `wardside.db.rekey`, the database copied under the new key, and `wardside.db.key.new`,
//!    the new key under the new passphrase, are written beside the store and flushed. A crash
//!    here leaves the old pair as it was, plus those two: the next unlock with the old
//!    passphrase removes them; the new passphrase is told the re-key did not finish.
//! 2. `wardside.db.rekey` is renamed over `wardside.db`. A crash here leaves the new database
//!    beside the old key file and the new one: the next unlock with the new passphrase finds
//!    that `wardside.db.key` does not open the database but `wardside.db.key.new` does, and
//!    finishes with step 3.
//! 3. `wardside.db.key.new` is renamed over `wardside.db.key`.
//!
//! Unlocking goes through [`open_pair`], which does that finishing and clearing away.

use crate::error::{Result, StoreError};
use crate::keys::{
    DatabaseKey, KeyFile, Passphrase, key_path, new_key_path, private_file, rename_durably,
    sync_dir,
};
use crate::open::{Store, open_checked, sidecar};
use rusqlite::{Connection, ErrorCode};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// `wardside.db` → `wardside.db.rekey`: the re-encrypted copy while it is being made.
fn rekey_path(db: &Path) -> PathBuf {
    sidecar(db, ".rekey")
}

/// What an interrupted re-key (or passphrase change) may have left beside the store.
fn leftovers(db: &Path) -> [PathBuf; 3] {
    let copy = rekey_path(db);
    [
        sidecar(&copy, "-journal"),
        copy,
        new_key_path(&key_path(db)),
    ]
}

fn remove_leftovers(db: &Path) {
    for p in leftovers(db) {
        let _ = std::fs::remove_file(p);
    }
}

/// The database opened with its key file, after finishing an interrupted re-key (or clearing
/// away what one left). Returns the connection, the key file that opened it and the database
/// key (for a caller that wraps it again).
///
/// Files change only when the passphrase opens a pair: leftovers beside a pair that opens are
/// removed; a new key file that opens the database is renamed into place.
pub(crate) fn open_pair(
    path: &Path,
    pass: &Passphrase,
) -> Result<(Connection, KeyFile, DatabaseKey)> {
    let kpath = key_path(path);
    let keyfile = KeyFile::read(&kpath)?;
    let opened = keyfile
        .unwrap_key(pass, &kpath)
        .and_then(|dek| Ok((open_checked(path, keyfile.store_id(), &dek)?, dek)));
    match opened {
        Ok((conn, dek)) => {
            // The pair opens, so anything an interrupted re-key or change left is stale.
            remove_leftovers(path);
            Ok((conn, keyfile, dek))
        }
        Err(first @ (StoreError::WrongPassphrase | StoreError::KeyMismatch)) => {
            finish_interrupted(path, pass, first)
        }
        Err(e) => Err(e),
    }
}

/// The key file did not open the database with this passphrase. If a re-key stopped between
/// its two renames, the new key file does: put it in place. Only a key file that reads,
/// unwraps with this passphrase and opens this very database is used; otherwise every file is
/// left as it is and the first error stands.
fn finish_interrupted(
    path: &Path,
    pass: &Passphrase,
    first: StoreError,
) -> Result<(Connection, KeyFile, DatabaseKey)> {
    let kpath = key_path(path);
    let pending = new_key_path(&kpath);
    let Ok(keyfile) = KeyFile::read(&pending) else {
        return Err(first);
    };
    let dek = match keyfile.unwrap_key(pass, &pending) {
        Ok(dek) => dek,
        // The key file opens with this passphrase but not the database, and a new key file
        // waits beside it: the re-key got as far as replacing the database, so the passphrase
        // it needs is the new one.
        Err(StoreError::WrongPassphrase) if matches!(first, StoreError::KeyMismatch) => {
            return Err(StoreError::WrongPassphrase);
        }
        Err(_) => return Err(first),
    };
    match open_checked(path, keyfile.store_id(), &dek) {
        Ok(conn) => {
            rename_durably(&pending, &kpath)?;
            remove_leftovers(path);
            Ok((conn, keyfile, dek))
        }
        // The new passphrase, but the re-keyed database never replaced the old one.
        Err(StoreError::KeyMismatch) if matches!(first, StoreError::WrongPassphrase) => {
            Err(StoreError::RekeyInterrupted)
        }
        Err(_) => Err(first),
    }
}

impl Store {
    /// Re-key a closed store: a new random database key, every page of the database
    /// re-encrypted under it, and a new key file wrapping it under `new` (which may be the
    /// same passphrase as `old`). Crash-safe (module docs). `progress` is called with the
    /// fraction done, from 0 to 1, on this thread.
    ///
    /// Refused, changing nothing, if `old` is wrong, `new` is too weak, or the store is open
    /// anywhere else (the app, another command).
    pub fn rekey(
        path: &Path,
        old: &Passphrase,
        new: &Passphrase,
        mut progress: impl FnMut(f32),
    ) -> Result<()> {
        new.check_new()?;
        let kpath = key_path(path);
        if !path.exists() {
            return Err(StoreError::NoStore(path.to_owned()));
        }
        let (mut conn, keyfile, old_key) = open_pair(path, old)?;
        drop(old_key);
        take_exclusively(&conn, path)?;
        progress(0.0);

        let copy = rekey_path(path);
        let pending = new_key_path(&kpath);
        let new_key = DatabaseKey::random()?;
        let made = (|| -> Result<()> {
            drop(private_file(&copy).map_err(|e| StoreError::io(&copy, e))?);
            let version = export(&mut conn, path, &copy, &new_key, &mut progress)?;
            check_copy(&copy, &new_key, keyfile.store_id(), version)?;
            progress(0.95);
            KeyFile::wrap(&new_key, new, keyfile.kdf_params(), keyfile.store_id())?
                .write_new(&pending)?;
            sync_dir(&pending);
            Ok(())
        })();
        drop(new_key);
        if let Err(e) = made.and_then(|()| rename_durably(&copy, path)) {
            // The old pair is untouched.
            drop(conn);
            remove_leftovers(path);
            return Err(e);
        }
        // The new database is in place: from here the new key file opens it, and if the rename
        // below fails the next unlock finishes it.
        rename_durably(&pending, &kpath)?;
        // Closes the old, now unlinked, database file.
        drop(conn);
        progress(1.0);
        Ok(())
    }
}

/// Make sure nothing else has the store open, and keep it so until `conn` closes: SQLite's
/// exclusive locking mode, and leaving WAL mode, which needs the only connection and folds the
/// log into the file (so no log of the old database is left for the new one to read).
fn take_exclusively(conn: &Connection, path: &Path) -> Result<()> {
    let in_use = || {
        StoreError::Refused(
            "the store is open in Wardside or in another command; lock it or close it, then try again"
                .into(),
        )
    };
    // As everywhere: temporary tables and indexes in memory, never in a file.
    conn.execute_batch("PRAGMA temp_store = MEMORY;")?;
    conn.query_row("PRAGMA locking_mode = EXCLUSIVE", [], |_| Ok(()))?;
    let mode: String = match conn.query_row("PRAGMA journal_mode = DELETE", [], |r| r.get(0)) {
        Ok(mode) => mode,
        Err(e)
            if matches!(
                e.sqlite_error_code(),
                Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked)
            ) =>
        {
            return Err(in_use());
        }
        Err(e) => return Err(e.into()),
    };
    if !mode.eq_ignore_ascii_case("delete") || sidecar(path, "-wal").exists() {
        return Err(in_use());
    }
    Ok(())
}

/// Copy every table, index and the schema version into `to` under `key` with SQLCipher's
/// `sqlcipher_export`, reporting progress as the new file grows against the old one. The
/// export runs on a scoped thread so that `progress` (which need not be `Send`) is called on
/// this one. Returns the schema version.
fn export(
    conn: &mut Connection,
    from: &Path,
    to: &Path,
    key: &DatabaseKey,
    progress: &mut impl FnMut(f32),
) -> Result<i64> {
    let name = to.to_str().ok_or_else(|| {
        StoreError::Refused(format!(
            "the store's folder {} is not a valid UTF-8 path; move the store to re-key it",
            from.display()
        ))
    })?;
    conn.execute(
        "ATTACH DATABASE ?1 AS rekey KEY ?2",
        (name, key.raw_key().as_str()),
    )?;
    let copied = (|| -> Result<i64> {
        // The same cipher settings as `key_connection`: part of the file format.
        conn.execute_batch("PRAGMA rekey.cipher_hmac_algorithm = HMAC_SHA256;")?;
        let total = std::fs::metadata(from).map_or(1, |m| m.len().max(1));
        let worker_conn = &mut *conn;
        std::thread::scope(|s| {
            let worker = s.spawn(move || {
                worker_conn.query_row("SELECT sqlcipher_export('rekey')", [], |_| Ok(()))
            });
            let mut shown = 0.0_f32;
            while !worker.is_finished() {
                std::thread::sleep(Duration::from_millis(50));
                let written = std::fs::metadata(to).map_or(0, |m| m.len());
                // Lossy casts are fine for a progress bar.
                let done = (0.9 * written as f64 / total as f64).min(0.9) as f32;
                if done > shown {
                    shown = done;
                    progress(done);
                }
            }
            worker
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
        })?;
        let version: i64 = conn.query_row("PRAGMA main.user_version", [], |r| r.get(0))?;
        conn.execute_batch(&format!("PRAGMA rekey.user_version = {version};"))?;
        Ok(version)
    })();
    let detached = conn.execute_batch("DETACH DATABASE rekey;");
    let version = copied?;
    detached?;
    progress(0.9);
    Ok(version)
}

/// Read the copy back with a fresh connection, exactly as unlocking will: it must be this
/// store at this schema version, and every page must decrypt and check. Then flush it.
fn check_copy(copy: &Path, key: &DatabaseKey, store_id: &str, version: i64) -> Result<()> {
    let conn = open_checked(copy, store_id, key)?;
    let read_back: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let check: String = conn.query_row("PRAGMA quick_check", [], |r| r.get(0))?;
    conn.close().map_err(|(_, e)| StoreError::from(e))?;
    if read_back != version || check != "ok" {
        return Err(StoreError::Corrupt(
            "the re-encrypted copy did not read back; the store was left as it was".into(),
        ));
    }
    std::fs::File::open(copy)
        .and_then(|f| f.sync_all())
        .map_err(|e| StoreError::io(copy, e))
}
