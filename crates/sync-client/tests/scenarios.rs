//! The scenarios of sync.md §9, each with its pass criteria, against a real service on
//! 127.0.0.1 behind the fault layer, on SQLite and (when configured; always under CI)
//! PostgreSQL. #1 (the convergence property test) is `tests/convergence.rs`; #9 (a killed
//! client) is in the CLI's tests, where a real process can be killed; #23 (performance) is a
//! benchmark, `wardside-bench sync`, never a timed test.
#![allow(clippy::unwrap_used)]

mod common;
use common::*;
use wardside_domain::*;
use wardside_store::Passphrase;
use wardside_sync_client::SyncError;

fn each_backend(f: impl Fn(&mut TestServer)) {
    for b in backends() {
        let mut server = TestServer::start(b);
        f(&mut server);
    }
}

#[test]
fn an_advocates_note_reaches_a_colleague() {
    each_backend(|server| {
        let (mut admin, mut devs, _) = org(server, 1);
        let (_, case) = admin.client_with_case("Ada Lovelace");
        let note = admin.note(case, "Wants to appeal to the tribunal.");
        let r = admin.sync();
        assert_eq!(r.pushed, 4, "{r:?}");
        let r = devs[0].sync();
        assert_eq!(r.pulled, 4, "{r:?}");
        assert_eq!(devs[0].text(note), "Wants to appeal to the tribunal.");
        assert_converged(&[&admin, &devs[0]]);
    });
}

/// #2: the manager changes a field online; the advocate changed it earlier, offline.
#[test]
fn s02_same_field_last_writer_wins_and_the_loser_is_told() {
    each_backend(|server| {
        let (mut manager, mut devs, _) = org(server, 1);
        let advocate = &mut devs[0];
        let (client, _) = manager.client_with_case("Bea Example");
        manager.sync();
        advocate.sync();
        advocate.set_ward(client, "Willow"); // earlier, offline
        std::thread::sleep(std::time::Duration::from_millis(20));
        manager.set_ward(client, "Oak");
        manager.sync();
        let r = advocate.sync();
        manager.sync();
        assert_eq!(advocate.ward(client).as_deref(), Some("Oak"));
        assert_eq!(manager.ward(client).as_deref(), Some("Oak"));
        assert!(r.conflicts >= 1, "{r:?}");
        let inbox = advocate.store.sync_inbox().unwrap();
        assert_eq!(inbox.len(), 1);
        assert_eq!(inbox[0].kind, "overwritten");
        assert_eq!(inbox[0].lost_value.as_deref(), Some("\"Willow\""));
        // The losing op is still in the log, on both devices.
        assert_converged(&[&manager, advocate]);
    });
}

/// #3: different fields of the same records: both survive, no conflict.
#[test]
fn s03_a_field_and_a_note_edited_apart_both_survive() {
    each_backend(|server| {
        let (mut manager, mut devs, _) = org(server, 1);
        let advocate = &mut devs[0];
        let (client, case) = manager.client_with_case("Cai Example");
        let note = manager.note(case, "First visit.");
        manager.sync();
        advocate.sync();
        advocate.amend(note, "First visit. Asked about leave.");
        manager.set_ward(client, "Ash");
        let a = manager.sync();
        let b = advocate.sync();
        let c = manager.sync();
        assert_eq!(a.conflicts + b.conflicts + c.conflicts, 0);
        for d in [&*advocate, &manager] {
            assert_eq!(d.text(note), "First visit. Asked about leave.");
            assert_eq!(d.ward(client).as_deref(), Some("Ash"));
            assert!(d.store.note_conflicts().unwrap().is_empty());
        }
        assert_converged(&[&manager, advocate]);
    });
}

/// #4: the same lines of a note changed on two devices offline.
#[test]
fn s04_overlapping_note_edits_are_kept_as_a_conflict_and_resolved() {
    each_backend(|server| {
        let (mut a, mut devs, _) = org(server, 1);
        let b = &mut devs[0];
        let (_, case) = a.client_with_case("Dee Example");
        let note = a.note(case, "Met on the ward.\nWants leave.\n");
        a.sync();
        b.sync();
        a.amend(note, "Met on the ward.\nWants escorted leave on Fridays.\n");
        b.amend(note, "Met on the ward.\nWants unescorted ground leave.\n");
        a.sync();
        b.sync();
        a.sync();
        for d in [&a, &*b] {
            let c = d.store.note_conflicts().unwrap();
            assert_eq!(c.len(), 1, "{} shows the conflict", d.name);
            let bodies: Vec<&str> = c[0].versions.iter().map(|v| v.body.as_str()).collect();
            assert!(bodies.contains(&"Met on the ward.\nWants escorted leave on Fridays.\n"));
            assert!(bodies.contains(&"Met on the ward.\nWants unescorted ground leave.\n"));
        }
        assert_converged(&[&a, b]);
        // Resolving is a new version with both heads as parents; it reaches the other device.
        b.amend(
            note,
            "Met on the ward.\nWants escorted leave first, then ground leave.\n",
        );
        b.sync();
        a.sync();
        for d in [&a, &*b] {
            assert!(d.store.note_conflicts().unwrap().is_empty());
            assert_eq!(
                d.text(note),
                "Met on the ward.\nWants escorted leave first, then ground leave.\n"
            );
        }
        let history = a.store.note_history(note).unwrap();
        let last = history
            .iter()
            .find(|v| v.body.contains("then ground leave"))
            .unwrap();
        assert_eq!(last.parents.len(), 2);
        assert_converged(&[&a, b]);
    });
}

/// #5: edits to different lines merge; the Joplin cases lose nothing.
#[test]
fn s05_non_overlapping_edits_merge_and_odd_cases_lose_nothing() {
    each_backend(|server| {
        let (mut a, mut devs, _) = org(server, 1);
        let b = &mut devs[0];
        let (_, case) = a.client_with_case("Eve Example");
        let base = "Line one.\nLine two.\nLine three.\nLine four.\nLine five.\n";
        let note = a.note(case, base);
        // Whitespace-only edit on one side, duplicate adjacent lines on the other.
        let whitespace = a.note(case, "Alpha\nBeta\nGamma\n");
        let dupes = a.note(case, "Same\nSame\nEnd\n");
        a.sync();
        b.sync();
        a.amend(
            note,
            "Line one, changed on A.\nLine two.\nLine three.\nLine four.\nLine five.\n",
        );
        b.amend(
            note,
            "Line one.\nLine two.\nLine three.\nLine four.\nLine five, changed on B.\n",
        );
        a.amend(whitespace, "Alpha \nBeta\nGamma\n");
        b.amend(whitespace, "Alpha\nBeta\nGamma\nDelta\n");
        a.amend(dupes, "Same\nSame\nSame\nEnd\n");
        b.amend(dupes, "Same\nEnd\nMore\n");
        a.sync();
        b.sync();
        a.sync();
        for d in [&a, &*b] {
            assert_eq!(
                d.text(note),
                "Line one, changed on A.\nLine two.\nLine three.\nLine four.\nLine five, changed on B.\n"
            );
            // Either merged with every added line present, or kept as a conflict copy.
            for (id, must) in [(whitespace, vec!["Alpha ", "Delta"]), (dupes, vec!["More"])] {
                let conflicted = d
                    .store
                    .note_conflicts()
                    .unwrap()
                    .iter()
                    .any(|c| c.activity_id == id.0);
                if !conflicted {
                    let text = d.text(id);
                    for line in must {
                        assert!(
                            text.lines().any(|l| l == line),
                            "{line:?} lost from {text:?}"
                        );
                    }
                }
            }
        }
        assert_converged(&[&a, b]);
    });
}

/// #6: deleted on one device, edited on another.
#[test]
fn s06_an_edit_concurrent_with_a_delete_brings_the_entry_back_flagged() {
    each_backend(|server| {
        let (mut a, mut devs, _) = org(server, 1);
        let b = &mut devs[0];
        let (_, case) = a.client_with_case("Fay Example");
        let note = a.note(case, "Raised a concern about leave.");
        a.sync();
        b.sync();
        a.store
            .write(|w| w.delete_activity(note, "entered on the wrong case"))
            .unwrap();
        b.amend(note, "Raised a concern about leave; ward manager to reply.");
        assert!(a.store.is_deleted(note).unwrap());
        a.sync();
        b.sync();
        a.sync();
        for d in [&a, &*b] {
            assert!(!d.store.is_deleted(note).unwrap(), "{}", d.name);
            assert_eq!(
                d.text(note),
                "Raised a concern about leave; ward manager to reply."
            );
            let inbox = d.store.sync_inbox().unwrap();
            assert!(
                inbox.iter().any(|i| i.kind == "resurrected"),
                "{} flags it",
                d.name
            );
        }
        // Nothing purged: both versions are still there.
        assert_eq!(a.store.note_history(note).unwrap().len(), 2);
        assert_eq!(b.store.note_history(note).unwrap().len(), 2);
        assert_converged(&[&a, b]);
        // A delete that saw the edit sticks everywhere.
        b.store
            .write(|w| w.delete_activity(note, "duplicate"))
            .unwrap();
        b.sync();
        a.sync();
        assert!(a.store.is_deleted(note).unwrap());
        assert_converged(&[&a, b]);
    });
}

/// #7: the service commits a push and the reply is lost, three times.
#[test]
fn s07_a_lost_reply_is_resent_as_a_duplicate_and_acked_once() {
    each_backend(|server| {
        let (mut a, _, org_id) = org(server, 0);
        let (_, case) = a.client_with_case("Gus Example");
        for i in 0..5 {
            a.note(case, &format!("Note {i}"));
        }
        for _ in 0..3 {
            server.fault("/v1/ops/push", Fault::DropReply);
        }
        let before = server.requests_to("/v1/ops/push");
        let r = a.sync();
        assert_eq!(server.requests_to("/v1/ops/push") - before, 4);
        assert_eq!(r.pushed, 12);
        assert_eq!(a.store.unpushed_count().unwrap(), 0);
        let seqs = server.stored_seqs(org_id, org_id, a.id());
        assert_eq!(
            seqs,
            (1..=12).collect::<Vec<u64>>(),
            "one row per (device, seq)"
        );
    });
}

/// #8: random 503s, dropped replies and cut bodies on every request, seeded.
#[test]
fn s08_random_failures_on_push_and_pull_still_converge() {
    each_backend(|server| {
        let (mut a, mut devs, org_id) = org(server, 1);
        let mut b = devs.pop().unwrap();
        let (_, case_a) = a.client_with_case("Hal Example");
        a.sync();
        b.sync();
        server.chaos(0.2, 8);
        let mut rng = <rand_chacha::ChaCha8Rng as rand::SeedableRng>::seed_from_u64(8);
        let iterations = if std::env::var("CI").is_ok() {
            1000
        } else {
            300
        };
        let mut notes = Vec::new();
        for i in 0..iterations {
            let d = if rand::Rng::random_bool(&mut rng, 0.5) {
                &mut a
            } else {
                &mut b
            };
            if i % 3 == 0 {
                notes.push(d.note(case_a, &format!("Visit {i}")));
            }
            // A sync may give up under this much failure: it must never lose or duplicate.
            let _ = d.try_sync();
        }
        server.calm();
        settle(&mut [&mut a, &mut b]);
        assert_converged(&[&a, &b]);
        for d in [&a, &b] {
            let seqs = server.stored_seqs(org_id, org_id, d.id());
            assert_eq!(
                seqs,
                (1..=seqs.len() as u64).collect::<Vec<_>>(),
                "no duplicates, no holes"
            );
        }
        for n in notes {
            assert!(a.text(n).starts_with("Visit "));
        }
    });
}

/// #10: the disk fills while a pull is applied.
#[test]
fn s10_a_full_disk_fails_the_sync_cleanly_and_the_next_one_fills_the_gap() {
    each_backend(|server| {
        let (mut a, mut devs, _) = org(server, 1);
        let b = &mut devs[0];
        let (_, case) = a.client_with_case("Ida Example");
        let big = "x".repeat(60_000);
        for _ in 0..20 {
            a.note(case, &big);
        }
        a.sync();
        let pages = b.store.page_count().unwrap();
        b.store.limit_pages(pages + 10).unwrap();
        let err = b.try_sync().unwrap_err();
        assert!(
            matches!(err, SyncError::Store(wardside_store::StoreError::DiskFull)),
            "{err}"
        );
        assert!(err.to_string().contains("disk is full"));
        assert_eq!(b.store.sync_cursor().unwrap(), 0, "no page half-applied");
        b.store.limit_pages(0).unwrap();
        b.sync();
        assert_converged(&[&a, b]);
    });
}

/// #11: page boundaries.
#[test]
fn s11_page_boundaries_fetch_exactly_what_is_missing() {
    each_backend(|server| {
        let (mut a, mut devs, _) = org(server, 1);
        let b = &mut devs[0];
        let (_, case) = a.client_with_case("Jo Example");
        a.sync();
        b.sync();
        let limit = 5;
        let o = wardside_sync_client::Options {
            page_size: limit,
            ..opts()
        };
        for n in [0, 1, limit, limit + 1, 2 * limit] {
            // Amendments are one op each.
            let note = a.note(case, "start");
            a.sync();
            b.sync();
            for i in 0..n {
                a.amend(note, &format!("version {i}"));
            }
            let pushed = a.sync_with(&o).unwrap().pushed;
            assert_eq!(pushed, n);
            let before = server.requests_to("/v1/ops");
            let r = b.sync_with(&o).unwrap();
            assert_eq!(r.pulled, n, "pulled for n = {n}");
            let pages = server.requests_to("/v1/ops") - before;
            assert_eq!(pages, n.div_ceil(limit).max(1), "pages for n = {n}");
        }
        assert_converged(&[&a, b]);
    });
}

/// #12: a copied installation pushes different ops under the same device id.
#[test]
fn s12_a_cloned_device_is_told_to_enrol_again_and_loses_nothing() {
    each_backend(|server| {
        let (mut admin, mut devs, _) = org(server, 1);
        let mut a = devs.pop().unwrap();
        let (_, case) = admin.client_with_case("Kit Example");
        admin.sync();
        a.sync();
        // Copy A's files while it is closed.
        let clone_dir = tempfile::tempdir().unwrap();
        let clone_path = clone_dir.path().join("wardside.db");
        a.while_closed(|path| {
            std::fs::copy(path, &clone_path).unwrap();
            std::fs::copy(
                wardside_store::key_path(path),
                wardside_store::key_path(&clone_path),
            )
            .unwrap();
            PASS.to_owned()
        });
        let mut c = Dev {
            store: wardside_store::Store::unlock(&clone_path, &Passphrase::new(PASS)).unwrap(),
            path: clone_path,
            dir: clone_dir,
            name: "clone".into(),
        };
        let from_a = a.note(case, "Written on the original.");
        let from_c = c.note(case, "Written on the copy.");
        a.sync();
        let err = c.try_sync().unwrap_err();
        assert!(matches!(err, SyncError::ReEnrol), "{err}");
        assert_eq!(c.store.sync_config().unwrap().unwrap().status, "re-enrol");
        assert_eq!(
            c.store.unpushed_count().unwrap(),
            2,
            "the copy keeps its note"
        );
        assert!(matches!(c.try_sync().unwrap_err(), SyncError::ReEnrol));
        // Enrol again with a new code: a new device id; the unsynced ops move to it.
        let code = wardside_sync_client::invite(&mut admin.store, &opts()).unwrap();
        let e = wardside_sync_client::enroll(&mut c.store, &server.url, &code, "copy", &opts())
            .unwrap();
        assert_ne!(e.device_id, a.id());
        wardside_sync_client::approve(&mut admin.store, e.device_id, &e.fingerprint, &opts())
            .unwrap();
        c.sync();
        a.sync();
        admin.sync();
        for d in [&a, &c, &admin] {
            assert_eq!(d.text(from_a), "Written on the original.");
            assert_eq!(d.text(from_c), "Written on the copy.");
        }
        assert_converged(&[&admin, &a, &c]);
    });
}

/// #13: one laptop's clock three days fast, another's a year slow.
#[test]
fn s13_clock_skew_never_blocks_a_save_and_orders_deterministically() {
    each_backend(|server| {
        let (mut admin, mut devs, _) = org(server, 2);
        let mut slow = devs.pop().unwrap();
        let mut fast = devs.pop().unwrap();
        let (client, case) = admin.client_with_case("Lee Example");
        settle(&mut [&mut admin, &mut fast, &mut slow]);
        let now = chrono::Utc::now().timestamp_millis();
        fast.store.record_sync(now + 3 * 86_400_000).unwrap();
        slow.store.record_sync(now - 365 * 86_400_000).unwrap();
        // Saving always works, whatever the clock.
        let fast_note = fast.note(case, "From the fast clock.");
        fast.set_ward(client, "Fast ward");
        let slow_note = slow.note(case, "From the slow clock.");
        slow.set_ward(client, "Slow ward");
        let r = fast.sync();
        assert!(r.pushed >= 3, "re-stamped and accepted: {r:?}");
        slow.sync();
        settle(&mut [&mut admin, &mut fast, &mut slow]);
        // The fast device's ops now carry the service's time, not three days ahead.
        let max_hlc = wardside_store::clock::Hlc::decode(
            &fast
                .store
                .ops_after(0, 100_000)
                .unwrap()
                .iter()
                .map(|o| o.hlc.clone())
                .max()
                .unwrap(),
        )
        .unwrap();
        assert!((max_hlc.wall_ms as i64) < now + 86_400_000);
        for d in [&admin, &fast, &slow] {
            assert_eq!(d.text(fast_note), "From the fast clock.");
            assert_eq!(d.text(slow_note), "From the slow clock.");
            // The year-slow write is older, so the re-stamped fast write wins everywhere.
            assert_eq!(d.ward(client).as_deref(), Some("Fast ward"));
        }
        assert_converged(&[&admin, &fast, &slow]);
    });
}

/// #14: a compromised service alters what it hands out.
#[test]
fn s14_a_tampering_service_is_caught_and_other_ops_still_apply() {
    each_backend(|server| {
        for how in [
            Tamper::SwapCiphertexts,
            Tamper::ChangeHlc,
            Tamper::ReplayUnderNewSeq,
            Tamper::Truncate,
        ] {
            let (mut a, mut devs, _) = org(server, 1);
            let b = &mut devs[0];
            let (_, case) = a.client_with_case("Max Example");
            let n1 = a.note(case, "Note one.");
            let n2 = a.note(case, "Note two.");
            a.sync();
            server.fault("/v1/ops", Fault::Tamper(how));
            let r = b.sync();
            assert!(r.rejected >= 1, "{how:?}: {r:?}");
            // Nothing altered was applied; the heads check re-read the log and got the real ops.
            assert_eq!(b.text(n1), "Note one.", "{how:?}");
            assert_eq!(b.text(n2), "Note two.", "{how:?}");
            assert_converged(&[&a, b]);
        }
    });
}

/// #15: a device lacks the newest epoch's key.
#[test]
fn s15_ops_under_a_missing_key_are_held_then_applied() {
    each_backend(|server| {
        let (mut admin, mut devs, _) = org(server, 1);
        let mut c = devs.pop().unwrap();
        let (_, case) = admin.client_with_case("Ned Example");
        admin.sync();
        c.sync();
        // A new epoch; its key does not reach C for now (the service withholds its grants).
        wardside_sync_client::rotate_team_keys(&mut admin.store, &opts()).unwrap();
        let note = admin.note(case, "Sealed under epoch 2.");
        admin.sync();
        server.fault("/v1/keys", Fault::EmptyKeys);
        let r = c.sync();
        assert_eq!(r.held, 2, "{r:?}");
        assert_eq!(c.store.sync_summary().unwrap().held, 2);
        assert!(
            c.store.op_ids().unwrap().len() == admin.store.op_ids().unwrap().len(),
            "held, not dropped"
        );
        // C's own edits are never sealed under the old key once an admin announced a new one:
        // they wait, kept, and the sync says why.
        let mine = c.note(case, "Written on C.");
        server.fault("/v1/keys", Fault::EmptyKeys);
        let r = c.sync();
        assert_eq!(r.pushed, 0);
        assert!(
            r.problems.iter().any(|p| p.kind == "waiting-for-key"),
            "{r:?}"
        );
        assert_eq!(c.store.unpushed_count().unwrap(), 2);
        // The key arrives: the held ops apply and C's edits go, under epoch 2.
        let r = c.sync();
        assert_eq!(r.pulled, 2, "{r:?}");
        assert!(r.problems.is_empty(), "{r:?}");
        assert_eq!(c.store.sync_summary().unwrap().held, 0);
        assert_eq!(c.text(note), "Sealed under epoch 2.");
        admin.sync();
        assert_eq!(admin.text(mine), "Written on C.");
        assert!(
            server
                .pull_all(
                    admin.store.sync_config().unwrap().unwrap().org_id,
                    c.store.sync_config().unwrap().unwrap().teams[0]
                )
                .iter()
                .filter(|o| o.envelope.routing.device_id == c.id())
                .all(|o| o.envelope.routing.kid.epoch == 2)
        );
        assert_converged(&[&admin, &c]);
    });
}

/// #16: authorisation by routing metadata; revocation at once.
#[test]
fn s16_a_device_outside_the_team_gets_nothing_and_a_revoked_one_is_refused() {
    each_backend(|server| {
        let (mut admin, mut devs, org_id) = org(server, 1);
        let (_, case) = admin.client_with_case("Ola Example");
        admin.note(case, "Team one only.");
        admin.sync();
        // An admin of another team of the same organisation.
        let mut other = other_team_admin(server, &mut admin);
        let r = other.sync();
        assert_eq!(r.pulled, 0, "no op of another team");
        assert!(
            other.store.held_ops().unwrap().is_empty(),
            "not even sealed"
        );
        let team_one = admin.store.sync_config().unwrap().unwrap().teams[0];
        assert!(
            other
                .store
                .team_keys()
                .unwrap()
                .iter()
                .all(|k| k.team != team_one)
        );
        assert!(
            server
                .grants_for(org_id, other.id())
                .iter()
                .all(|g| g.wrap.kid.team_id != team_one)
        );
        let b = &mut devs[0];
        b.sync();
        wardside_sync_client::revoke(&mut admin.store, b.id(), &opts()).unwrap();
        let err = b.try_sync().unwrap_err();
        assert!(matches!(err, SyncError::Revoked { .. }), "{err}");
    });
}

/// A device of another team of the same organisation: the admin announces a second team and
/// approves the device into it only.
fn other_team_admin(server: &TestServer, admin: &mut Dev) -> Dev {
    use wardside_sync::trust::Body;
    let team = uuid::Uuid::new_v4();
    wardside_sync_client::make_statement(
        &mut admin.store,
        Body::TeamEpoch {
            team,
            epoch: 1,
            key_id: [42; 32],
        },
        &opts(),
    )
    .unwrap();
    let mut d = Dev::new("Team two");
    let code = wardside_sync_client::invite(&mut admin.store, &opts()).unwrap();
    let e = wardside_sync_client::enroll(&mut d.store, &server.url, &code, "team two", &opts())
        .unwrap();
    let listed = wardside_sync_client::devices(&mut admin.store, &opts())
        .unwrap()
        .into_iter()
        .find(|x| x.device_id == e.device_id)
        .unwrap();
    let key = |s: &str| -> [u8; 32] {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD
            .decode(s)
            .unwrap()
            .try_into()
            .unwrap()
    };
    wardside_sync_client::make_statement(
        &mut admin.store,
        Body::Approve {
            device: wardside_sync::trust::DeviceKeys {
                device_id: e.device_id,
                sign_key: key(&listed.sign_key),
                box_key: key(&listed.box_key),
            },
            name: "team two".into(),
            admin: false,
            teams: vec![team],
        },
        &opts(),
    )
    .unwrap();
    d
}

/// #17: removing a member starts a new epoch the removed device cannot get or use.
#[test]
fn s17_revocation_rotates_the_team_key() {
    each_backend(|server| {
        let (mut admin, mut devs, org_id) = org(server, 2);
        let mut removed = devs.pop().unwrap();
        let mut stays = devs.pop().unwrap();
        let (_, case) = admin.client_with_case("Pat Example");
        let old = admin.note(case, "Before the removal.");
        settle(&mut [&mut admin, &mut stays, &mut removed]);
        let old_keys = removed.store.team_keys().unwrap();
        let r = wardside_sync_client::revoke(&mut admin.store, removed.id(), &opts()).unwrap();
        assert_eq!(r.new_epochs[0].epoch, 2);
        let new = admin.note(case, "After the removal.");
        admin.sync();
        // New ops use epoch 2.
        let page = server.pull_all(org_id, org_id);
        let last = page.last().unwrap();
        assert_eq!(last.envelope.routing.kid.epoch, 2);
        // The service never wrapped epoch 2 to the removed device...
        let grants = server.grants_for(org_id, removed.id());
        assert!(grants.iter().all(|g| g.wrap.kid.epoch == 1));
        // ...and its old keys cannot open an epoch-2 op.
        let k = &old_keys[0];
        let key = wardside_sync::TeamKey::from_bytes(
            wardside_sync::KeyId {
                team_id: k.team,
                epoch: k.epoch,
            },
            k.secret.as_slice().try_into().unwrap(),
        );
        let signer = server.sign_key(last.envelope.routing.device_id);
        assert!(matches!(
            last.envelope.open(&key, &signer),
            Err(wardside_sync::envelope::OpenError::NoKey { .. })
        ));
        // Even claiming to be epoch 2, the old secret does not open it.
        let forged = wardside_sync::TeamKey::from_bytes(
            last.envelope.routing.kid,
            k.secret.as_slice().try_into().unwrap(),
        );
        assert!(matches!(
            last.envelope.open(&forged, &signer),
            Err(wardside_sync::envelope::OpenError::Tampered)
        ));
        // The one who stays reads old and new.
        stays.sync();
        assert_eq!(stays.text(old), "Before the removal.");
        assert_eq!(stays.text(new), "After the removal.");
        // The removed device is refused and wipes the organisation's data.
        assert!(matches!(
            removed.try_sync().unwrap_err(),
            SyncError::Revoked { kept: 0 }
        ));
        assert!(removed.store.op_ids().unwrap().is_empty());
        assert_eq!(removed.store.counts().unwrap(), (0, 0, 0));
    });
}

/// #18: a passphrase change rewraps the database key and nothing else.
#[test]
fn s18_a_passphrase_change_leaves_the_database_and_sync_keys_alone() {
    each_backend(|server| {
        let (mut admin, _, _) = org(server, 0);
        let (_, case) = admin.client_with_case("Quinn Example");
        admin.note(case, "Before the change.");
        admin.sync();
        admin.while_closed(|path| {
            let before = std::fs::read(path).unwrap();
            wardside_store::Store::change_passphrase(
                path,
                &Passphrase::new(PASS),
                &Passphrase::new("new harbour kettle plum"),
            )
            .unwrap();
            assert_eq!(
                std::fs::read(path).unwrap(),
                before,
                "the database file is not rewritten"
            );
            assert!(wardside_store::Store::unlock(path, &Passphrase::new(PASS)).is_err());
            "new harbour kettle plum".to_owned()
        });
        // The same sync identity goes on working.
        admin.note(case, "After the change.");
        assert_eq!(admin.sync().pushed, 2);
    });
}

/// #19: a canary typed into a note is nowhere in clear: device files, the service's storage,
/// logs, the wire.
#[test]
fn s19_a_canary_is_nowhere_in_clear() {
    use std::sync::{Arc, Mutex};
    #[derive(Clone, Default)]
    struct Log(Arc<Mutex<Vec<u8>>>);
    impl std::io::Write for Log {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let log = Log::default();
    let sink = log.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || sink.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    each_backend(|server| {
        const CANARY: &str = "CANARY-7f3a-Wardside-Zebra";
        server.faults.lock().unwrap().capture = true;
        let (mut a, mut devs, _) = org(server, 1);
        let b = &mut devs[0];
        let (_, case) = a.client_with_case(&format!("Name {CANARY}"));
        a.note(case, &format!("Said {CANARY} twice: {CANARY}"));
        a.sync();
        b.sync();
        let wire = server.faults.lock().unwrap().wire.clone();
        assert!(wire.len() > 1000, "the wire was captured");
        assert!(!contains(&wire, CANARY.as_bytes()), "canary on the wire");
        for d in [&a, &*b] {
            for f in files(d.dir.path()) {
                assert!(
                    !contains(&std::fs::read(&f).unwrap(), CANARY.as_bytes()),
                    "canary in {}",
                    f.display()
                );
            }
        }
        for f in files(server.dir.path()) {
            assert!(
                !contains(&std::fs::read(&f).unwrap(), CANARY.as_bytes()),
                "canary in {}",
                f.display()
            );
        }
        if let Some(dump) = server.pg_dump() {
            assert!(!contains(&dump, CANARY.as_bytes()), "canary in pg_dump");
        }
    });
    assert!(
        !contains(&log.0.lock().unwrap(), b"CANARY-7f3a"),
        "canary in the log"
    );
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

fn files(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(files(&p));
        } else {
            out.push(p);
        }
    }
    out
}

/// #21: an op from a newer Wardside is kept, never dropped; an old op replayed cannot
/// overwrite a newer value.
#[test]
fn s21_newer_schema_ops_are_held_and_replays_do_not_go_backwards() {
    each_backend(|server| {
        let (mut a, mut devs, _) = org(server, 1);
        let b = &mut devs[0];
        let (client, _) = a.client_with_case("Ray Example");
        a.set_ward(client, "Old");
        a.set_ward(client, "New");
        a.sync();
        // A newer version writes an op this build does not know.
        server.push_foreign_op(&mut a, 2, "attachment");
        let r = b.sync();
        assert_eq!(r.held, 1, "{r:?}");
        assert_eq!(b.store.held_ops().unwrap()[0].reason, "newer-schema");
        assert_eq!(b.ward(client).as_deref(), Some("New"));
        // Every op delivered again (a reset cursor): nothing goes backwards, nothing is lost.
        b.store.reset_sync_cursor().unwrap();
        b.sync();
        assert_eq!(b.ward(client).as_deref(), Some("New"));
        assert_eq!(b.store.sync_summary().unwrap().held, 1);
        a.sync();
        assert_eq!(a.store.held_ops().unwrap().len(), 1);
        assert_converged(&[&a, b]);
    });
}

/// #22: large notes; a 413 splits the batch; the record limit holds on both sides.
#[test]
fn s22_large_notes_travel_and_a_413_splits_the_batch() {
    each_backend(|server| {
        let (mut a, mut devs, _) = org(server, 1);
        let b = &mut devs[0];
        let (_, case) = a.client_with_case("Sam Example");
        let body = "ward round notes ".repeat(12_500); // 200 KB
        let mut notes = Vec::new();
        for _ in 0..30 {
            notes.push(a.note(case, &body));
        }
        server.fault("/v1/ops/push", Fault::TooLarge);
        let r = a.sync();
        assert_eq!(r.pushed, 62);
        b.sync();
        for n in notes {
            assert_eq!(b.text(n).len(), body.len());
        }
        // Larger than a note may be: refused on the device, with a clear message.
        let err = a
            .store
            .write(|w| {
                w.add_activity(
                    &Activity {
                        case_id: case,
                        at: chrono::NaiveDateTime::parse_from_str(
                            "2026-11-03T10:00",
                            "%Y-%m-%dT%H:%M",
                        )
                        .unwrap(),
                        duration_minutes: None,
                        kind: ActivityKind::PrivateInterview { wishes: None },
                        withheld: None,
                    },
                    &"x".repeat(300_000),
                )
            })
            .unwrap_err();
        assert!(
            err.to_string().contains("too long") || err.to_string().contains("limit"),
            "{err}"
        );
        assert_converged(&[&a, b]);
    });
}
