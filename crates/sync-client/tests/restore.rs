//! The service restored from an older backup (issue 14, part 1): the routine answer to a failed
//! disk or a bad upgrade, run with real clients on real encrypted stores against a real service
//! on 127.0.0.1, on both backends (SQLite: a consistent online copy of the file; PostgreSQL:
//! pg_dump and pg_restore of the service's own database). Nothing acknowledged after the backup
//! may be lost while one laptop still holds it: its author sends it again, and any other laptop
//! that received it gives it back, signed as its author signed it.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use std::time::Instant;
use wardside_domain::CaseId;

fn each_backend(f: impl Fn(&str)) {
    for b in backends() {
        eprintln!("--- backend {b}");
        f(b);
    }
}

/// An advocate writes notes after the backup and syncs; a colleague receives them; the
/// advocate's laptop is then lost; the service is restored from the backup. The colleague's
/// laptop gives her notes back, and a laptop enrolled after the restore receives every note.
fn restore_with_the_author_gone(backend: &str, new_generation: bool, lost_notes: usize) {
    let mut server = TestServer::start_own(backend);
    let (mut alice, mut devs, org_id) = org(&server, 2);
    let mut cal = devs.pop().unwrap();
    let mut bea = devs.pop().unwrap();
    let (_, case) = alice.client_with_case("Jo Example");
    let before = alice.note(case, "Written before the backup.");
    alice.sync();
    bea.sync();
    cal.sync();
    let backup = server.snapshot();

    // After the backup: Bea writes (and the service acknowledges), Cal receives; Alice writes
    // too, and syncs before Bea did (so only Cal holds Bea's notes).
    let alice_after = alice.note(case, "Alice, after the backup.");
    alice.sync();
    let bea_notes: Vec<_> = (0..lost_notes)
        .map(|i| {
            bea.note(
                case,
                &format!("Bea's note {i}, acknowledged after the backup."),
            )
        })
        .collect();
    let r = bea.sync();
    assert_eq!(r.unsynced, 0, "the service acknowledged all of Bea's notes");
    cal.sync();
    assert_eq!(
        cal.text(bea_notes[0]),
        "Bea's note 0, acknowledged after the backup."
    );
    // Bea's laptop is lost.
    drop(bea);

    let team = alice.store.sync_config().unwrap().unwrap().teams[0];
    let held_before = server.pull_all(org_id, team).len();
    server.restore(&backup, new_generation);
    let held_after = server.pull_all(org_id, team).len();
    assert!(
        held_after < held_before,
        "the backup lacks what came after it"
    );
    let started = Instant::now();
    let r = cal.sync();
    let cal_took = started.elapsed();
    assert!(r.service_restored, "{r:?}");
    assert!(
        r.given_back >= lost_notes,
        "Cal gave back Bea's notes: {r:?}"
    );
    assert!(r.problems.is_empty(), "{r:?}");
    let notice = cal.store.last_service_restore().unwrap().unwrap();
    assert!(!notice.pending);
    assert!(notice.given_back >= lost_notes as u64, "{notice:?}");
    // The next sync is quiet: the restore is said once.
    let r = cal.sync();
    assert!(!r.service_restored && r.given_back == 0, "{r:?}");

    // Alice finds the restore too (her own note after the backup came back from Cal: nothing
    // of hers is missing) and receives Bea's notes. (Restored by hand, the service's cursor may
    // have passed hers again by now: she needs no restore to read on.)
    let r = alice.sync();
    assert!(r.service_restored || !new_generation, "{r:?}");
    assert!(r.problems.is_empty(), "{r:?}");
    assert_eq!(
        alice.text(bea_notes[lost_notes - 1]),
        format!(
            "Bea's note {}, acknowledged after the backup.",
            lost_notes - 1
        )
    );

    // A laptop enrolled after the restore receives every note.
    let mut dan = join(&server, &mut alice, "Dan");
    let r = dan.sync();
    assert!(r.problems.is_empty(), "{r:?}");
    assert_eq!(dan.text(before), "Written before the backup.");
    assert_eq!(dan.text(alice_after), "Alice, after the backup.");
    for (i, n) in bea_notes.iter().enumerate() {
        assert_eq!(
            dan.text(*n),
            format!("Bea's note {i}, acknowledged after the backup.")
        );
    }
    settle(&mut [&mut alice, &mut cal, &mut dan]);
    assert_converged(&[&alice, &cal, &dan]);
    eprintln!(
        "restore ({backend}, new generation: {new_generation}): the service held {held_before} ops, {held_after} after the restore; {} given back by a colleague (the author's laptop gone) in {:.0} ms (the colleague's whole recovering sync)",
        notice.given_back,
        cal_took.as_secs_f64() * 1000.0
    );
}

#[test]
fn a_restore_marked_by_the_operator_loses_no_note_even_with_the_author_gone() {
    each_backend(|b| restore_with_the_author_gone(b, true, 3));
}

/// Restored by hand (a file copied back, no restore command): the service's cursor is behind
/// what the laptops already read, which is enough to tell.
#[test]
fn a_restore_done_by_hand_is_found_from_the_cursor_and_loses_no_note() {
    each_backend(|b| restore_with_the_author_gone(b, false, 3));
}

/// The figures: a bigger history lost with its author gone.
#[test]
fn a_restore_that_lost_hundreds_of_notes_gets_them_all_back() {
    restore_with_the_author_gone("sqlite", true, 300);
}

fn notes(d: &mut Dev, case: CaseId, from: usize, to: usize) -> Vec<wardside_domain::ActivityId> {
    (from..to)
        .map(|i| d.note(case, &format!("Note {i}.")))
        .collect()
}

/// The wedge the issue names: the service restored from a backup taken before some of a
/// laptop's pushes; the laptop writes more and syncs. It must not be refused for a gap for
/// ever: it sends again what the service lost, then the new notes, and every device gets them.
#[test]
fn a_laptop_whose_acknowledged_ops_were_lost_sends_them_again_before_its_new_ones() {
    each_backend(|b| {
        let mut server = TestServer::start_own(b);
        let (mut alice, mut devs, _) = org(&server, 1);
        let mut bea = devs.pop().unwrap();
        let (_, case) = alice.client_with_case("Kit Example");
        let first = notes(&mut alice, case, 0, 5);
        alice.sync();
        let backup = server.snapshot();
        let lost = notes(&mut alice, case, 5, 7);
        alice.sync();
        server.restore(&backup, false);
        // Bea has not synced since before the backup: nothing tells her of the restore yet.
        let fresh = notes(&mut alice, case, 7, 8);
        let r = alice.try_sync().unwrap_or_else(|e| panic!("{b}: {e}"));
        assert!(r.problems.is_empty(), "{b}: {r:?}");
        assert_eq!(r.unsynced, 0, "{b}: {r:?}");
        let r = bea.sync();
        assert!(r.problems.is_empty(), "{b}: {r:?}");
        for (i, n) in first.iter().chain(&lost).chain(&fresh).enumerate() {
            assert_eq!(bea.text(*n), format!("Note {i}."), "{b}");
        }
        settle(&mut [&mut alice, &mut bea]);
        assert_converged(&[&alice, &bea]);
    });
}

/// A device that learns of the restore only through a refusal for a gap (it pushes before it
/// pulls) recovers in the same sync, and says so once.
#[test]
fn sync_status_keeps_what_the_restore_found_and_did() {
    let mut server = TestServer::start_own("sqlite");
    let (mut alice, _, _) = org(&server, 0);
    let (_, case) = alice.client_with_case("Lee Example");
    notes(&mut alice, case, 0, 2);
    alice.sync();
    let backup = server.snapshot();
    notes(&mut alice, case, 2, 4);
    alice.sync();
    server.restore(&backup, true);
    let r = alice.sync();
    assert!(r.service_restored, "{r:?}");
    let notice = alice.store.last_service_restore().unwrap().unwrap();
    assert!(notice.why.contains("restored"), "{notice:?}");
    assert!(notice.resent >= 2, "{notice:?}");
    assert!(!notice.pending);
    assert_eq!(alice.store.sync_summary().unwrap().problems, 0);
}

/// Copy a device's store files aside while it is closed (a backup of the laptop).
fn back_up_laptop(d: &mut Dev) -> tempfile::TempDir {
    let to = tempfile::tempdir().unwrap();
    let (db, key) = (
        to.path().join("wardside.db"),
        wardside_store::key_path(&to.path().join("wardside.db")),
    );
    d.while_closed(|path| {
        std::fs::copy(path, &db).unwrap();
        std::fs::copy(wardside_store::key_path(path), &key).unwrap();
        PASS.to_owned()
    });
    to
}

/// Put a backup taken with [`back_up_laptop`] back in place of the laptop's store.
fn restore_laptop(d: &mut Dev, backup: &tempfile::TempDir) {
    let db = backup.path().join("wardside.db");
    d.while_closed(|path| {
        for ext in ["-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{ext}", path.display()));
        }
        std::fs::copy(&db, path).unwrap();
        std::fs::copy(
            wardside_store::key_path(&db),
            wardside_store::key_path(path),
        )
        .unwrap();
        PASS.to_owned()
    });
}

/// Enrol a device again (after it was told to) through the admin.
fn enrol_again(server: &TestServer, admin: &mut Dev, d: &mut Dev) {
    let code = wardside_sync_client::invite(&mut admin.store, &opts()).unwrap();
    let e =
        wardside_sync_client::enroll(&mut d.store, &server.url, &code, &d.name.clone(), &opts())
            .unwrap();
    wardside_sync_client::approve(&mut admin.store, e.device_id, &e.fingerprint, &opts()).unwrap();
}

/// Part 2: a laptop restored from an older backup of its own store. The copy reuses sequence
/// numbers the service has seen with other content. It is told to enrol again; nothing made
/// after the backup is lost, on either timeline: the notes it synced after the backup (now only
/// on the service) come back to it, a note it wrote offline before the backup and synced after
/// is not sent twice, and what it wrote since the restore goes under its new identity.
#[test]
fn a_laptop_restored_from_an_older_copy_of_itself_loses_and_doubles_nothing() {
    for write_after_restore in [true, false] {
        let server = TestServer::start("sqlite");
        let (mut alice, mut devs, _) = org(&server, 1);
        let mut bea = devs.pop().unwrap();
        let (_, case) = alice.client_with_case("Sam Example");
        alice.sync();
        bea.sync();
        let synced = bea.note(case, "Synced before the backup.");
        bea.sync();
        let offline = bea.note(case, "Written offline; synced only after the backup.");
        let backup = back_up_laptop(&mut bea);
        let after = bea.note(case, "Written and synced after the backup.");
        bea.sync();
        restore_laptop(&mut bea, &backup);
        assert_eq!(
            bea.text(after),
            "",
            "the restored store lacks what came after its backup"
        );
        let since = write_after_restore.then(|| bea.note(case, "Written after the restore."));
        let err = bea.try_sync().unwrap_err();
        assert!(
            matches!(err, wardside_sync_client::SyncError::ReEnrol),
            "{err}"
        );
        assert_eq!(bea.store.sync_config().unwrap().unwrap().status, "re-enrol");
        // Only what was written since the restore waits (the offline note is on the service).
        assert_eq!(
            bea.store.unpushed_count().unwrap() > 0,
            write_after_restore,
            "{:?}",
            bea.store.unpushed_count()
        );
        enrol_again(&server, &mut alice, &mut bea);
        let r = bea.sync();
        assert!(r.problems.is_empty(), "{r:?}");
        assert_eq!(r.unsynced, 0);
        assert_eq!(bea.text(after), "Written and synced after the backup.");
        let r = alice.sync();
        assert!(r.problems.is_empty(), "{r:?}");
        for d in [&alice, &bea] {
            assert_eq!(d.text(synced), "Synced before the backup.");
            assert_eq!(
                d.text(offline),
                "Written offline; synced only after the backup."
            );
            assert_eq!(d.text(after), "Written and synced after the backup.");
            if let Some(n) = since {
                assert_eq!(d.text(n), "Written after the restore.");
            }
        }
        settle(&mut [&mut alice, &mut bea]);
        assert_converged(&[&alice, &bea]);
        for d in [&alice, &bea] {
            assert!(d.store.sync_problems().unwrap().is_empty(), "{}", d.name);
        }
    }
}

/// A laptop enrolled (and granted its keys) after the backup the service was restored from:
/// the restored service has never heard of it. The admin's laptop gives back the approval it
/// signed (which names the laptop's keys) and grants the keys again: the laptop syncs on, and a
/// laptop that joins later still gets every note.
#[test]
fn a_laptop_enrolled_after_the_backup_is_known_again_after_the_restore() {
    each_backend(|b| {
        let mut server = TestServer::start_own(b);
        let (mut alice, _, _) = org(&server, 0);
        let (_, case) = alice.client_with_case("Nia Example");
        alice.note(case, "Before the backup.");
        alice.sync();
        let backup = server.snapshot();
        let mut dan = join(&server, &mut alice, "Dan");
        dan.sync();
        let from_dan = dan.note(case, "Dan's first visit, after the backup.");
        dan.sync();
        alice.sync();
        server.restore(&backup, true);
        let r = alice.sync();
        assert!(r.service_restored && r.problems.is_empty(), "{b}: {r:?}");
        let r = dan.try_sync().unwrap_or_else(|e| panic!("{b}: Dan: {e}"));
        assert!(r.problems.is_empty(), "{b}: {r:?}");
        let mut eve = join(&server, &mut alice, "Eve");
        let r = eve.sync();
        assert!(r.problems.is_empty(), "{b}: {r:?}");
        assert_eq!(
            eve.text(from_dan),
            "Dan's first visit, after the backup.",
            "{b}"
        );
        settle(&mut [&mut alice, &mut dan, &mut eve]);
        assert_converged(&[&alice, &dan, &eve]);
    });
}
