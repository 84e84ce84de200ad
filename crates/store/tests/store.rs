//! The store on real SQLCipher files in a temporary directory.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use wardside_domain::*;
use wardside_store::*;

const FAST: KdfParams = KdfParams {
    m_kib: 256,
    t: 1,
    p: 1,
};
const PASS: &str = "plum kettle harbour";

fn pass() -> Passphrase {
    Passphrase::new(PASS)
}

fn new_store(dir: &Path) -> (Store, PathBuf) {
    let path = dir.join("data").join("wardside.db");
    let store =
        Store::create_with(&path, &pass(), "Ceri Advocate", FAST, Tuning::default()).unwrap();
    (store, path)
}

fn d(s: &str) -> chrono::NaiveDate {
    s.parse().unwrap()
}

fn at(s: &str) -> chrono::NaiveDateTime {
    chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M").unwrap()
}

/// A client with an open case.
fn client_with_case(store: &mut Store, name: &str) -> (ClientId, CaseId) {
    store
        .write(|w| {
            let mut c = Client::named(name);
            c.hospital = Some("Riverside".into());
            c.ward = Some("Cedar".into());
            c.nhs_number = Some("943 476 5919".parse().unwrap());
            let client = w.add_client(&c)?;
            w.add_legal_event(&LegalEvent {
                client_id: client,
                on: d("2026-11-01"),
                kind: LegalEventKind::StatusStarted {
                    status: StatusCode::S2,
                },
                note: None,
            })?;
            let case = w.open_case(&Case::opened(client, d("2026-11-02")))?;
            Ok((client, case))
        })
        .unwrap()
}

fn interview(case: CaseId) -> Activity {
    Activity {
        case_id: case,
        at: at("2026-11-03T10:00"),
        duration_minutes: Some(40),
        kind: ActivityKind::PrivateInterview { wishes: None },
        withheld: None,
    }
}

fn file_bytes(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_default()
}

fn all_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(all_files(&p))
        } else {
            out.push(p)
        }
    }
    out
}

#[test]
fn create_lock_and_unlock_round_trip_with_the_latest_schema() {
    let dir = tempfile::tempdir().unwrap();
    let (mut store, path) = new_store(dir.path());
    let (_, case) = client_with_case(&mut store, "Siân Llewelyn");
    assert_eq!(
        store.info().unwrap().schema_version,
        Store::latest_schema_version()
    );
    store.lock().unwrap();
    let mut store = Store::unlock_with(&path, &pass(), Tuning::default()).unwrap();
    assert_eq!(
        store.case_view(case).unwrap().client.record.name,
        "Siân Llewelyn"
    );
    assert_eq!(store.integrity_check().unwrap(), Vec::<String>::new());
}

#[test]
fn wrong_passphrase_is_a_distinct_error_and_touches_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (store, path) = new_store(dir.path());
    store.lock().unwrap();
    let before: Vec<(PathBuf, Vec<u8>)> = all_files(dir.path())
        .into_iter()
        .map(|p| (p.clone(), file_bytes(&p)))
        .collect();
    let err = Store::unlock(&path, &Passphrase::new("plum kettle harbor")).unwrap_err();
    assert!(matches!(err, StoreError::WrongPassphrase), "{err}");
    assert!(
        err.to_string()
            .starts_with("wrong passphrase; nothing was changed")
    );
    let after: Vec<(PathBuf, Vec<u8>)> = all_files(dir.path())
        .into_iter()
        .map(|p| (p.clone(), file_bytes(&p)))
        .collect();
    assert_eq!(
        before, after,
        "a failed unlock must not create, change or remove any file"
    );
}

#[test]
fn changing_the_passphrase_rewraps_the_key_and_leaves_the_database_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let (mut store, path) = new_store(dir.path());
    client_with_case(&mut store, "Łucja Wiśniewska");
    store.lock().unwrap();
    let db_before = file_bytes(&path);
    let mtime_before = std::fs::metadata(&path).unwrap().modified().unwrap();
    let key_before = file_bytes(&key_path(&path));

    Store::change_passphrase(&path, &pass(), &Passphrase::new("new tide lantern")).unwrap();

    assert_eq!(
        file_bytes(&path),
        db_before,
        "the database file must not be rewritten"
    );
    assert_eq!(
        std::fs::metadata(&path).unwrap().modified().unwrap(),
        mtime_before
    );
    assert_ne!(file_bytes(&key_path(&path)), key_before);
    assert!(matches!(
        Store::unlock(&path, &pass()),
        Err(StoreError::WrongPassphrase)
    ));
    let store = Store::unlock(&path, &Passphrase::new("new tide lantern")).unwrap();
    assert_eq!(store.counts().unwrap().0, 1);
    assert!(
        !all_files(dir.path())
            .iter()
            .any(|p| p.to_string_lossy().ends_with(".new")),
        "no leftover key file"
    );
}

#[test]
fn passphrase_change_with_the_wrong_old_passphrase_or_a_weak_new_one_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (store, path) = new_store(dir.path());
    store.lock().unwrap();
    let key_before = file_bytes(&key_path(&path));
    assert!(matches!(
        Store::change_passphrase(
            &path,
            &Passphrase::new("not it at all"),
            &Passphrase::new("new tide lantern")
        ),
        Err(StoreError::WrongPassphrase)
    ));
    assert!(matches!(
        Store::change_passphrase(&path, &pass(), &Passphrase::new("short")),
        Err(StoreError::WeakPassphrase(_))
    ));
    assert_eq!(file_bytes(&key_path(&path)), key_before);
}

#[test]
fn creating_over_an_existing_store_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (store, path) = new_store(dir.path());
    store.lock().unwrap();
    let before = file_bytes(&path);
    let err = Store::create_with(&path, &pass(), "Someone", FAST, Tuning::default()).unwrap_err();
    assert!(matches!(err, StoreError::AlreadyExists(_)));
    assert!(err.to_string().contains("never overwrites"));
    assert_eq!(file_bytes(&path), before);
    // A lone key file also counts as a store.
    let other = dir.path().join("other.db");
    std::fs::write(key_path(&other), b"{}").unwrap();
    assert!(matches!(
        Store::create_with(&other, &pass(), "Someone", FAST, Tuning::default()),
        Err(StoreError::AlreadyExists(_))
    ));
}

#[test]
fn corrupt_missing_or_mismatched_key_files_give_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let (store, path) = new_store(dir.path());
    store.lock().unwrap();
    let kpath = key_path(&path);
    let good = file_bytes(&kpath);

    std::fs::write(&kpath, &good[..good.len() / 2]).unwrap();
    let err = Store::unlock(&path, &pass()).unwrap_err();
    assert!(matches!(err, StoreError::CorruptKeyFile { .. }), "{err}");
    assert!(err.to_string().contains("restore it from the same backup"));

    let mut json: serde_json::Value = serde_json::from_slice(&good).unwrap();
    json["wrapped_key"]["ciphertext"] = "AAAA".into();
    std::fs::write(&kpath, serde_json::to_vec(&json).unwrap()).unwrap();
    assert!(matches!(
        Store::unlock(&path, &pass()),
        Err(StoreError::CorruptKeyFile { .. })
    ));

    json = serde_json::from_slice(&good).unwrap();
    json["version"] = 9.into();
    std::fs::write(&kpath, serde_json::to_vec(&json).unwrap()).unwrap();
    assert!(matches!(
        Store::unlock(&path, &pass()),
        Err(StoreError::UnsupportedKeyFile { version: 9, .. })
    ));

    std::fs::remove_file(&kpath).unwrap();
    assert!(matches!(
        Store::unlock(&path, &pass()),
        Err(StoreError::KeyFileMissing(_))
    ));

    // Another store's key file beside this database: same passphrase, different key.
    let (other, other_path) = {
        let p = dir.path().join("other.db");
        (
            Store::create_with(&p, &pass(), "Other", FAST, Tuning::default()).unwrap(),
            p,
        )
    };
    other.lock().unwrap();
    std::fs::copy(key_path(&other_path), &kpath).unwrap();
    assert!(matches!(
        Store::unlock(&path, &pass()),
        Err(StoreError::KeyMismatch)
    ));

    std::fs::write(&kpath, &good).unwrap();
    assert!(
        Store::unlock(&path, &pass()).is_ok(),
        "restoring the key file restores access"
    );
    assert!(matches!(
        Store::unlock(&dir.path().join("nothing.db"), &pass()),
        Err(StoreError::NoStore(_))
    ));
}

/// Every file under `dir` with its bytes, sorted by path.
fn snapshot(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut v: Vec<_> = all_files(dir)
        .into_iter()
        .map(|p| (p.clone(), file_bytes(&p)))
        .collect();
    v.sort();
    v
}

#[test]
fn a_key_file_edited_to_absurd_argon2_costs_is_refused_before_the_kdf_runs_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (store, path) = new_store(dir.path());
    store.lock().unwrap();
    let kpath = key_path(&path);
    let good: serde_json::Value = serde_json::from_slice(&file_bytes(&kpath)).unwrap();
    let edited = |m_kib: u64, t: u64, p: u64| {
        let mut json = good.clone();
        json["kdf"]["m_kib"] = m_kib.into();
        json["kdf"]["t"] = t.into();
        json["kdf"]["p"] = p.into();
        std::fs::write(&kpath, serde_json::to_vec_pretty(&json).unwrap()).unwrap();
    };
    // Cheap to run but out of bounds (17 passes): refused as damaged, not tried and found to be
    // a "wrong passphrase".
    // Then what an attacker or a bad disk could write: 4 TiB, a billion or u32::MAX passes, more
    // lanes than memory: each would hang or exhaust memory if Argon2 ran.
    for (m_kib, t, p) in [
        (256, 17, 1),
        (u64::from(u32::MAX), 1, 1),
        (256, 1_000_000_000, 1),
        (u64::from(u32::MAX), u64::from(u32::MAX), 1),
        (2 * 1024 * 1024 + 1, 1, 1),
        (1 << 20, 1, 1 << 30),
        (256, 1, 17),
    ] {
        edited(m_kib, t, p);
        let before = snapshot(dir.path());
        let started = std::time::Instant::now();
        let err = Store::unlock(&path, &pass()).unwrap_err();
        assert!(
            started.elapsed() < std::time::Duration::from_secs(2),
            "m = {m_kib}, t = {t}, p = {p}: refused at once, without running the KDF"
        );
        assert!(
            matches!(err, StoreError::CorruptKeyFile { .. }),
            "m = {m_kib}, t = {t}, p = {p}: {err}"
        );
        let msg = err.to_string();
        assert!(msg.contains("Argon2 parameters"), "{msg}");
        assert!(msg.contains("damaged") && msg.contains("edited"), "{msg}");
        assert!(msg.contains("restore it from the same backup"), "{msg}");
        assert_eq!(snapshot(dir.path()), before, "no file changed");
        // Changing the passphrase reads the same key file: refused the same way.
        assert!(matches!(
            Store::change_passphrase(&path, &pass(), &Passphrase::new("new tide lantern")),
            Err(StoreError::CorruptKeyFile { .. })
        ));
        assert_eq!(snapshot(dir.path()), before);
    }
    // The real parameters, restored, still open the store.
    std::fs::write(&kpath, serde_json::to_vec_pretty(&good).unwrap()).unwrap();
    Store::unlock(&path, &pass()).unwrap().lock().unwrap();
}

#[test]
fn notes_are_versioned_and_an_amendment_keeps_the_history() {
    let dir = tempfile::tempdir().unwrap();
    let (mut store, _) = new_store(dir.path());
    let (_, case) = client_with_case(&mut store, "Oluwaseun Adébáyọ̀");
    let id = store
        .write(|w| w.add_activity(&interview(case), "First text."))
        .unwrap();
    store
        .write(|w| w.amend_note(id, "Second text.", "Typo in the ward name"))
        .unwrap();

    let unchanged = store
        .write(|w| w.amend_note(id, "Second text.", "again"))
        .unwrap_err();
    assert!(unchanged.to_string().contains("unchanged"));
    let no_reason = store
        .write(|w| w.amend_note(id, "Third text.", " "))
        .unwrap_err();
    assert!(no_reason.to_string().contains("reason for the amendment"));

    let history = store.note_history(id).unwrap();
    assert_eq!(
        history.iter().map(|v| v.body.as_str()).collect::<Vec<_>>(),
        ["First text.", "Second text."]
    );
    assert_eq!(history[1].parents, vec![history[0].version_id]);
    assert_eq!(history[1].reason.as_deref(), Some("Typo in the ward name"));
    let view = store.case_view(case).unwrap();
    assert_eq!(view.timeline[0].text, "Second text.");
    assert_eq!(view.timeline[0].versions, 2);

    // Search sees the current text only.
    assert_eq!(store.search("second", 10).unwrap().len(), 1);
    assert_eq!(store.search("first", 10).unwrap().len(), 0);
}

#[test]
fn every_change_appends_contiguous_ops_and_audit_entries_in_the_same_transaction() {
    let dir = tempfile::tempdir().unwrap();
    let (mut store, _) = new_store(dir.path());
    let (client, case) = client_with_case(&mut store, "Mei Chen");
    store
        .write(|w| w.add_activity(&interview(case), "Talked about leave."))
        .unwrap();

    let ops = store.ops_after(0, 100).unwrap();
    let kinds: Vec<(&str, &str)> = ops
        .iter()
        .map(|o| (o.entity.as_str(), o.kind.as_str()))
        .collect();
    assert_eq!(
        kinds,
        [
            ("client", "create"),
            ("legal-event", "create"),
            ("case", "create"),
            ("activity", "create"),
            ("note", "note-version")
        ]
    );
    assert_eq!(
        ops.iter().map(|o| o.device_seq).collect::<Vec<_>>(),
        [1, 2, 3, 4, 5]
    );
    assert!(ops.iter().all(|o| o.device_id == store.device_id()));
    assert!(
        ops.windows(2).all(|w| w[0].hlc < w[1].hlc),
        "clock strictly increases"
    );
    assert_eq!(ops[4].payload["body"], "Talked about leave.");

    let audit = store.audit_for_case(case).unwrap();
    let creates = audit.iter().filter(|a| a.action == "create").count();
    assert_eq!(creates, 5, "one audit entry per op: {audit:?}");

    // A transaction that fails half-way leaves no op, no audit entry and no row behind.
    let err = store
        .write(|w| {
            w.add_legal_event(&LegalEvent {
                client_id: client,
                on: d("2026-11-20"),
                kind: LegalEventKind::Renewed,
                note: None,
            })?;
            w.add_client(&Client::named(" "))
        })
        .unwrap_err();
    assert!(matches!(err, StoreError::Invalid(_)));
    assert_eq!(store.ops_after(0, 100).unwrap().len(), 5);
    assert_eq!(
        store
            .audit_for_case(case)
            .unwrap()
            .iter()
            .filter(|a| a.action == "create")
            .count(),
        5
    );
    assert_eq!(store.client_view(client).unwrap().legal_history.len(), 1);

    // The next op continues the sequence with no gap.
    store
        .write(|w| w.add_activity(&interview(case), "Second visit."))
        .unwrap();
    let seqs: Vec<i64> = store
        .ops_after(0, 100)
        .unwrap()
        .iter()
        .map(|o| o.device_seq)
        .collect();
    assert_eq!(seqs, (1..=7).collect::<Vec<_>>());
}

#[test]
fn reads_that_show_a_case_and_searches_are_audited_without_content() {
    let dir = tempfile::tempdir().unwrap();
    let (mut store, _) = new_store(dir.path());
    let (_, case) = client_with_case(&mut store, "Kwame Mensah");
    store
        .write(|w| w.add_activity(&interview(case), "Kwame wants tribunal advice."))
        .unwrap();
    store.case_view(case).unwrap();
    store.search("tribunal", 10).unwrap();
    let audit = store.audit_for_case(case).unwrap();
    assert!(
        audit
            .iter()
            .any(|a| a.action == "view" && a.entity == "case")
    );
    assert!(audit.iter().all(|a| a.actor == "Ceri Advocate"));
    let dump = serde_json::to_string(&audit).unwrap();
    assert!(!dump.contains("Kwame") && !dump.contains("tribunal"));
}

#[test]
fn closing_a_case_needs_an_outcome_on_every_issue() {
    let dir = tempfile::tempdir().unwrap();
    let (mut store, _) = new_store(dir.path());
    let (_, case) = client_with_case(&mut store, "Aoife Ní Bhriain");
    let issue = store
        .write(|w| {
            w.add_issue(&Issue {
                case_id: case,
                category: IssueCategory::Leave,
                summary: "Leave to see her son".into(),
                opened_on: d("2026-11-02"),
                outcome: None,
            })
        })
        .unwrap();
    let closure = CaseClosure {
        on: d("2026-11-20"),
        reason: ClosureReason::IssuesResolved,
        note: None,
    };
    let err = store
        .write(|w| w.close_case(case, closure.clone()))
        .unwrap_err();
    assert!(
        err.to_string().contains("record an outcome for each issue"),
        "{err}"
    );
    store
        .write(|w| {
            w.set_issue_outcome(
                issue,
                IssueOutcome {
                    kind: OutcomeKind::DecisionChanged,
                    on: d("2026-11-15"),
                    note: None,
                },
            )
        })
        .unwrap();
    store.write(|w| w.close_case(case, closure)).unwrap();
    let err = store
        .write(|w| w.add_activity(&interview(case), "After closing"))
        .unwrap_err();
    assert!(err.to_string().contains("is closed"));
    assert_eq!(
        store
            .case_view(case)
            .unwrap()
            .case
            .record
            .closed
            .map(|c| c.reason),
        Some(ClosureReason::IssuesResolved)
    );
}

#[test]
fn search_treats_punctuation_and_operators_as_text() {
    let dir = tempfile::tempdir().unwrap();
    let (mut store, _) = new_store(dir.path());
    let (_, case) = client_with_case(&mut store, "Zoë Brontë");
    store
        .write(|w| {
            w.add_activity(
                &interview(case),
                "Asked about \"section 17\" leave AND NOT the ward's rules (OR anything).",
            )
        })
        .unwrap();
    for q in ["\"section", "AND NOT", "ward's", "(OR", "leav*", "NEAR("] {
        store.search(q, 10).unwrap_or_else(|e| panic!("{q}: {e}"));
    }
    assert_eq!(store.search("leav*", 10).unwrap().len(), 1);
    assert!(matches!(
        store.search("  ** ", 10),
        Err(StoreError::Invalid(_))
    ));
    let hit = &store.search("section 17", 10).unwrap()[0];
    assert_eq!(hit.case, case);
    assert!(hit.snippet.contains("[section]"), "{}", hit.snippet);
}

#[test]
fn canary_never_appears_in_any_file_at_rest() {
    let dir = tempfile::tempdir().unwrap();
    let (mut store, path) = new_store(dir.path());
    let canary = "CANARY-7f3a9c-Wardside-plaintext-check";
    let (_, case) = client_with_case(&mut store, "Canaryname Zzyzx");
    store
        .write(|w| {
            w.add_activity(
                &interview(case),
                &format!("The patient said {canary} twice."),
            )
        })
        .unwrap();
    assert_eq!(
        store.search("Zzyzx", 5).unwrap().len(),
        0,
        "names are not in notes"
    );

    let check = |when: &str| {
        let files = all_files(path.parent().unwrap());
        assert!(
            files.iter().any(|p| p.to_string_lossy().ends_with("-wal")) || when == "after lock",
            "{when}: WAL present while open"
        );
        for f in files {
            let bytes = file_bytes(&f);
            for needle in [
                canary.as_bytes(),
                b"Canaryname",
                b"9434765919",
                b"Riverside",
            ] {
                assert!(
                    !bytes.windows(needle.len()).any(|w| w == needle),
                    "{when}: {} holds plaintext",
                    f.display()
                );
            }
        }
    };
    check("while open");
    store.lock().unwrap();
    check("after lock");
}

#[test]
fn references_to_missing_records_are_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let (mut store, _) = new_store(dir.path());
    let missing = CaseId::new_random();
    let err = store
        .write(|w| w.add_activity(&interview(missing), "x"))
        .unwrap_err();
    assert_eq!(err.to_string(), format!("no case with id {missing}"));
    let (client, _) = client_with_case(&mut store, "Harpreet Kaur");
    let err = store
        .write(|w| w.open_case(&Case::opened(client, d("2026-11-05"))))
        .unwrap_err();
    assert!(err.to_string().contains("already has an open case"));
}

#[test]
fn demo_caseload_loads_through_the_write_path() {
    let dir = tempfile::tempdir().unwrap();
    let (mut store, _) = new_store(dir.path());
    let cfg = wardside_domain::demo::DemoConfig::new(30, 1, d("2026-11-25"));
    let summary = wardside_store::demo::load(&mut store, &cfg, |_| {}).unwrap();
    assert_eq!(summary.clients, 30);
    let (clients, open, activities) = store.counts().unwrap();
    assert_eq!(
        (clients, open, activities as usize),
        (30, 30, summary.activities)
    );
    let page = store.caseload(&CaseloadFilter::default(), 0, 10).unwrap();
    assert_eq!(page.len(), 10);
    assert!(
        page.windows(2)
            .all(|w| w[0].name.to_lowercase() <= w[1].name.to_lowercase())
    );
    assert!(
        page.iter()
            .all(|r| r.status.is_some() && r.last_activity.is_some())
    );
    let s3 = store
        .caseload(
            &CaseloadFilter {
                status: Some(StatusCode::S3),
                ..Default::default()
            },
            0,
            100,
        )
        .unwrap();
    assert!(s3.iter().all(|r| r.status == Some(StatusCode::S3)));
}

#[test]
fn caseload_shows_the_latest_status_and_filters_and_pages_on_it() {
    let dir = tempfile::tempdir().unwrap();
    let (mut store, _) = new_store(dir.path());
    // Five s2 clients on Cedar, in name order A..E; B and D are converted to s3, E's section ends.
    let mut ids = Vec::new();
    for name in ["Bryn", "Alaw", "Dafydd", "Cerys", "Eira"] {
        ids.push((name, client_with_case(&mut store, name).0));
    }
    store
        .write(|w| {
            for (name, client) in &ids {
                let kind = match *name {
                    "Bryn" | "Dafydd" => LegalEventKind::StatusStarted {
                        status: StatusCode::S3,
                    },
                    "Eira" => LegalEventKind::Ended,
                    _ => continue,
                };
                w.add_legal_event(&LegalEvent {
                    client_id: *client,
                    on: d("2026-11-20"),
                    kind,
                    note: None,
                })?;
            }
            Ok(())
        })
        .unwrap();
    let names = |rows: Vec<CaseloadRow>| rows.into_iter().map(|r| r.name).collect::<Vec<_>>();
    let all = store.caseload(&CaseloadFilter::default(), 0, 50).unwrap();
    let statuses: Vec<_> = all.iter().map(|r| (r.name.as_str(), r.status)).collect();
    assert_eq!(
        statuses,
        [
            ("Alaw", Some(StatusCode::S2)),
            ("Bryn", Some(StatusCode::S3)),
            ("Cerys", Some(StatusCode::S2)),
            ("Dafydd", Some(StatusCode::S3)),
            ("Eira", None),
        ]
    );
    let s3 = |offset, limit| {
        let filter = CaseloadFilter {
            status: Some(StatusCode::S3),
            ..Default::default()
        };
        store.caseload(&filter, offset, limit).unwrap()
    };
    assert_eq!(names(s3(0, 50)), ["Bryn", "Dafydd"]);
    assert_eq!(
        names(s3(1, 1)),
        ["Dafydd"],
        "paging applies after the filter"
    );
    let s2 = CaseloadFilter {
        status: Some(StatusCode::S2),
        ward: Some("Cedar".into()),
        ..Default::default()
    };
    assert_eq!(
        names(store.caseload(&s2, 0, 50).unwrap()),
        ["Alaw", "Cerys"]
    );
    let elsewhere = CaseloadFilter {
        ward: Some("Birch".into()),
        ..Default::default()
    };
    assert!(store.caseload(&elsewhere, 0, 50).unwrap().is_empty());
}

#[test]
fn a_draft_survives_a_crash_goes_with_the_save_and_bad_drafts_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (mut store, path) = new_store(dir.path());
    let (_, case) = client_with_case(&mut store, "Draft Person");
    let form = serde_json::json!({"kind": "ward-round", "points": "Leave"});
    store
        .save_draft(case, &form, "DRAFTCANARY half a note")
        .unwrap();
    // A crash: the process dies without locking. The draft was committed.
    std::mem::forget(store);
    let mut store = Store::unlock(&path, &pass()).unwrap();
    let draft = store.draft(case).unwrap().expect("the draft is kept");
    assert_eq!(draft.body, "DRAFTCANARY half a note");
    assert_eq!(draft.form, form);
    // Never in the clear on disk, and local only: no op for sync.
    for f in all_files(path.parent().unwrap()) {
        let bytes = file_bytes(&f);
        assert!(!bytes.windows(11).any(|w| w == b"DRAFTCANARY"));
    }
    assert!(
        store
            .ops_after(0, 10_000)
            .unwrap()
            .iter()
            .all(|op| op.entity != "draft")
    );

    // Too long, or for a case that does not exist: refused with a reason, the old draft kept.
    let huge = "x".repeat(wardside_domain::activity::MAX_NOTE_BYTES + 1);
    let err = store.save_draft(case, &form, &huge).unwrap_err();
    assert!(err.to_string().contains("too long"), "{err}");
    let err = store
        .save_draft(CaseId::new_random(), &form, "x")
        .unwrap_err();
    assert!(err.to_string().starts_with("no case with id"), "{err}");
    assert_eq!(
        store.draft(case).unwrap().unwrap().body,
        "DRAFTCANARY half a note"
    );

    // Saving the activity and dropping the draft happen together.
    store
        .write(|w| {
            w.add_activity(&interview(case), "the finished note")?;
            w.discard_draft(case)
        })
        .unwrap();
    assert!(store.draft(case).unwrap().is_none());
}

#[test]
fn a_large_pull_defers_checkpoints_and_its_end_folds_the_log_into_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let (mut store, path) = new_store(dir.path());
    let (_, case) = client_with_case(&mut store, "Pat Example");
    let wal = path.with_file_name("wardside.db-wal");
    let wal_len = || std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0);
    let body = "Visited on the ward; discussed the tribunal. ".repeat(40);
    let write_many = |store: &mut Store| {
        for _ in 0..150 {
            store
                .write(|w| {
                    for _ in 0..5 {
                        w.add_activity(&interview(case), &body)?;
                    }
                    Ok(())
                })
                .unwrap();
        }
    };
    // Normally the log is folded into the file every 1,000 pages (4 MiB), and reused.
    write_many(&mut store);
    let normal = wal_len();
    assert!(normal <= 5_000_000, "log of {normal} bytes");

    let saved = store.begin_large_pull().unwrap();
    write_many(&mut store);
    write_many(&mut store);
    let during = wal_len();
    assert!(during > normal, "log of {during} bytes during a large pull");
    store.end_large_pull(saved).unwrap();
    assert_eq!(wal_len(), 0, "the log is folded in and truncated");

    // Everything written is there, and the usual settings are back: the log stays small.
    write_many(&mut store);
    assert!(wal_len() <= 5_000_000);
    drop(store);
    let mut store = Store::unlock_with(&path, &pass(), Tuning::default()).unwrap();
    assert_eq!(store.case_view(case).unwrap().timeline.len(), 3_000);
}
