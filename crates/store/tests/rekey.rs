//! Re-keying on real SQLCipher files: a new database key, the database re-encrypted under it,
//! and a crash at any point leaving a pair that opens.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use wardside_domain::*;
use wardside_store::*;

const FAST: KdfParams = KdfParams {
    m_kib: 256,
    t: 1,
    p: 1,
};
const OLD: &str = "plum kettle harbour";
const NEW: &str = "new tide lantern";
const CANARY: &str = "CANARY-5be1e2-rekey-plaintext-check";
const NAME: &str = "Canaryname Rekeyson";

fn old() -> Passphrase {
    Passphrase::new(OLD)
}

fn new() -> Passphrase {
    Passphrase::new(NEW)
}

/// A locked store holding a client (name, NHS number) with a case and a note with the canary.
fn store_with_a_note(dir: &Path) -> (PathBuf, CaseId) {
    let path = dir.join("data").join("wardside.db");
    let mut store =
        Store::create_with(&path, &old(), "Ceri Advocate", FAST, Tuning::default()).unwrap();
    let case = store
        .write(|w| {
            let mut c = Client::named(NAME);
            c.nhs_number = Some("943 476 5919".parse().unwrap());
            let client = w.add_client(&c)?;
            let case = w.open_case(&Case::opened(client, "2026-11-02".parse().unwrap()))?;
            w.add_activity(
                &Activity {
                    case_id: case,
                    at: "2026-11-03T10:00:00".parse().unwrap(),
                    duration_minutes: Some(40),
                    kind: ActivityKind::PrivateInterview { wishes: None },
                    withheld: None,
                },
                &format!("She asked about the tribunal. {CANARY}"),
            )?;
            Ok(case)
        })
        .unwrap();
    store.lock().unwrap();
    (path, case)
}

/// Every record is there and readable: the person, the note, the search index.
fn assert_intact(store: &mut Store, case: CaseId) {
    let view = store.case_view(case).unwrap();
    assert_eq!(view.client.record.name, NAME);
    assert_eq!(store.search("tribunal", 5).unwrap().len(), 1);
    assert_eq!(store.counts().unwrap(), (1, 1, 1));
    assert_eq!(store.integrity_check().unwrap(), Vec::<String>::new());
    assert_eq!(
        store.info().unwrap().schema_version,
        Store::latest_schema_version()
    );
}

fn rel(data: &Path, suffix: &str) -> PathBuf {
    data.join(format!("wardside.db{suffix}"))
}

/// Every file under `dir` with its bytes, sorted by path.
fn snapshot(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut v: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let p = e.unwrap().path();
            let bytes = std::fs::read(&p).unwrap();
            (p, bytes)
        })
        .collect();
    v.sort();
    v
}

fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    v.sort();
    v
}

fn assert_no_plaintext(dir: &Path, when: &str) {
    for (path, bytes) in snapshot(dir) {
        for needle in [CANARY.as_bytes(), b"Canaryname", b"9434765919"] {
            assert!(
                !bytes.windows(needle.len()).any(|w| w == needle),
                "{when}: {} holds plaintext",
                path.display()
            );
        }
    }
}

#[test]
fn a_rekey_re_encrypts_every_record_under_a_new_key_that_an_old_key_file_cannot_open() {
    let dir = tempfile::tempdir().unwrap();
    let (path, case) = store_with_a_note(dir.path());
    let data = path.parent().unwrap();
    let store_id = Store::unlock(&path, &old())
        .unwrap()
        .info()
        .unwrap()
        .store_id;
    let db_before = std::fs::read(&path).unwrap();
    let old_key_file = std::fs::read(key_path(&path)).unwrap();

    let mut seen = Vec::new();
    Store::rekey(&path, &old(), &new(), |f| seen.push(f)).unwrap();

    // Progress from 0 to 1, never backwards.
    assert_eq!(seen.first(), Some(&0.0));
    assert_eq!(seen.last(), Some(&1.0));
    assert!(seen.windows(2).all(|w| w[0] <= w[1]), "{seen:?}");
    // Only the pair is left, both private; the database was rewritten.
    assert_eq!(names(data), ["wardside.db", "wardside.db.key"]);
    #[cfg(unix)]
    for p in [&path, &key_path(&path)] {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(p).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{}", p.display());
    }
    assert_ne!(std::fs::read(&path).unwrap(), db_before);
    assert_no_plaintext(data, "after the re-key");

    // The old passphrase no longer opens the store...
    assert!(matches!(
        Store::unlock(&path, &old()),
        Err(StoreError::WrongPassphrase)
    ));
    // ...and neither does a copy of the old key file, with the old passphrase, beside today's
    // database: the key inside it is not the database's key any more.
    let elsewhere = dir.path().join("copied");
    std::fs::create_dir(&elsewhere).unwrap();
    let copy = elsewhere.join("wardside.db");
    std::fs::copy(&path, &copy).unwrap();
    std::fs::write(key_path(&copy), &old_key_file).unwrap();
    let err = Store::unlock(&copy, &old()).unwrap_err();
    assert!(matches!(err, StoreError::KeyMismatch), "{err}");

    // The new passphrase opens it, with every record, the same store id and the latest schema.
    let mut store = Store::unlock(&path, &new()).unwrap();
    assert_intact(&mut store, case);
    assert_eq!(store.info().unwrap().store_id, store_id);
    assert_no_plaintext(data, "while open after the re-key");
    store.lock().unwrap();
    assert_no_plaintext(data, "locked after the re-key");
}

/// The files a re-key leaves at each point: (old database, old key file, new database, new key
/// file), made by a real re-key.
struct Pairs {
    old_db: Vec<u8>,
    old_key: Vec<u8>,
    new_db: Vec<u8>,
    new_key: Vec<u8>,
}

fn rekeyed(path: &Path) -> Pairs {
    let old_db = std::fs::read(path).unwrap();
    let old_key = std::fs::read(key_path(path)).unwrap();
    Store::rekey(path, &old(), &new(), |_| {}).unwrap();
    Pairs {
        old_db,
        old_key,
        new_db: std::fs::read(path).unwrap(),
        new_key: std::fs::read(key_path(path)).unwrap(),
    }
}

#[test]
fn a_rekey_that_stopped_between_its_two_renames_is_finished_by_the_next_unlock() {
    let dir = tempfile::tempdir().unwrap();
    let (path, case) = store_with_a_note(dir.path());
    let data = path.parent().unwrap().to_owned();
    let pairs = rekeyed(&path);
    // The new database is in place; the key file beside it is still the old one, and the new
    // key file waits beside it: a crash between the two renames.
    std::fs::write(key_path(&path), &pairs.old_key).unwrap();
    std::fs::write(rel(&data, ".key.new"), &pairs.new_key).unwrap();
    let before = snapshot(&data);

    // The old passphrase is refused and changes nothing; so is a passphrase change with it,
    // which would otherwise rewrap a key that no longer opens the database.
    let err = Store::unlock(&path, &old()).unwrap_err();
    assert!(matches!(err, StoreError::WrongPassphrase), "{err}");
    let err =
        Store::change_passphrase(&path, &old(), &Passphrase::new("third one at last")).unwrap_err();
    assert!(matches!(err, StoreError::WrongPassphrase), "{err}");
    assert_eq!(snapshot(&data), before);

    // The new passphrase opens it and finishes the re-key.
    let mut store = Store::unlock(&path, &new()).unwrap();
    assert_intact(&mut store, case);
    store.lock().unwrap();
    assert_eq!(std::fs::read(key_path(&path)).unwrap(), pairs.new_key);
    assert_eq!(names(&data), ["wardside.db", "wardside.db.key"]);
    Store::unlock(&path, &new()).unwrap().lock().unwrap();
}

#[test]
fn a_rekey_that_stopped_before_the_database_was_replaced_leaves_the_old_pair_working() {
    let dir = tempfile::tempdir().unwrap();
    let (path, case) = store_with_a_note(dir.path());
    let data = path.parent().unwrap().to_owned();
    let pairs = rekeyed(&path);
    // A crash after the new database and key file were written beside the store, before the
    // first rename.
    std::fs::write(&path, &pairs.old_db).unwrap();
    std::fs::write(key_path(&path), &pairs.old_key).unwrap();
    std::fs::write(rel(&data, ".rekey"), &pairs.new_db).unwrap();
    std::fs::write(rel(&data, ".key.new"), &pairs.new_key).unwrap();
    let before = snapshot(&data);

    // The new passphrase is told the re-key did not finish, and nothing changes.
    let err = Store::unlock(&path, &new()).unwrap_err();
    assert!(matches!(err, StoreError::RekeyInterrupted), "{err}");
    assert!(
        err.to_string()
            .contains("unlock with the previous passphrase")
    );
    assert_eq!(snapshot(&data), before);

    // The old passphrase opens the old pair, every record there, and clears the leftovers.
    let mut store = Store::unlock(&path, &old()).unwrap();
    assert_intact(&mut store, case);
    store.lock().unwrap();
    assert_eq!(names(&data), ["wardside.db", "wardside.db.key"]);
    assert_eq!(std::fs::read(key_path(&path)).unwrap(), pairs.old_key);

    // A crash part way through the copy: the same.
    std::fs::write(
        rel(&data, ".rekey"),
        &pairs.new_db[..pairs.new_db.len() / 2],
    )
    .unwrap();
    Store::unlock(&path, &old()).unwrap().lock().unwrap();
    assert_eq!(names(&data), ["wardside.db", "wardside.db.key"]);

    // And the re-key can simply be run again.
    Store::rekey(&path, &old(), &new(), |_| {}).unwrap();
    assert_intact(&mut Store::unlock(&path, &new()).unwrap(), case);
}

#[test]
fn a_rekey_with_a_wrong_old_passphrase_or_a_weak_new_one_changes_no_file() {
    let dir = tempfile::tempdir().unwrap();
    let (path, _) = store_with_a_note(dir.path());
    let data = path.parent().unwrap();
    let before = snapshot(data);
    let mut called = false;
    let err = Store::rekey(
        &path,
        &Passphrase::new("plum kettle harbor"),
        &new(),
        |_| called = true,
    )
    .unwrap_err();
    assert!(matches!(err, StoreError::WrongPassphrase), "{err}");
    let err =
        Store::rekey(&path, &old(), &Passphrase::new("short"), |_| called = true).unwrap_err();
    assert!(matches!(err, StoreError::WeakPassphrase(_)), "{err}");
    assert!(!called, "no progress: nothing was started");
    assert_eq!(snapshot(data), before);
    assert!(matches!(
        Store::rekey(&dir.path().join("nothing.db"), &old(), &new(), |_| {}),
        Err(StoreError::NoStore(_))
    ));
}

#[test]
fn a_rekey_is_refused_while_the_store_is_open_elsewhere_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (path, case) = store_with_a_note(dir.path());
    let data = path.parent().unwrap().to_owned();
    // The app (or another command) has the store open.
    let mut open = Store::unlock(&path, &old()).unwrap();
    let db_before = std::fs::read(&path).unwrap();
    let key_before = std::fs::read(key_path(&path)).unwrap();
    let err = Store::rekey(&path, &old(), &new(), |_| {}).unwrap_err();
    assert!(matches!(err, StoreError::Refused(_)), "{err}");
    assert!(err.to_string().contains("lock it or close it"), "{err}");
    assert_eq!(std::fs::read(&path).unwrap(), db_before);
    assert_eq!(std::fs::read(key_path(&path)).unwrap(), key_before);
    assert!(!rel(&data, ".rekey").exists() && !rel(&data, ".key.new").exists());
    // The open store carries on, and once it is locked the re-key goes ahead.
    assert_intact(&mut open, case);
    open.lock().unwrap();
    Store::rekey(&path, &old(), &new(), |_| {}).unwrap();
    assert_intact(&mut Store::unlock(&path, &new()).unwrap(), case);
}

#[test]
fn a_rekey_that_fails_part_way_leaves_the_old_pair_opening_with_every_record() {
    let dir = tempfile::tempdir().unwrap();
    let (path, case) = store_with_a_note(dir.path());
    let data = path.parent().unwrap().to_owned();
    let key_before = std::fs::read(key_path(&path)).unwrap();
    // Something in the way of the copy (a folder where the file would go).
    std::fs::create_dir(rel(&data, ".rekey")).unwrap();
    let err = Store::rekey(&path, &old(), &new(), |_| {}).unwrap_err();
    assert!(matches!(err, StoreError::Io { .. }), "{err}");
    assert!(err.to_string().contains("wardside.db.rekey"), "{err}");
    assert_eq!(std::fs::read(key_path(&path)).unwrap(), key_before);
    assert!(!rel(&data, ".key.new").exists());
    assert_intact(&mut Store::unlock(&path, &old()).unwrap(), case);
}
