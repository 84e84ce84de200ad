//! Receiving other devices' ops on a real encrypted store: each device's chain checked link by
//! link (gaps found, forks and broken links held), one op the merge refuses held while the rest
//! apply, evidence from a hostile service bounded, a revocation's wipe keeping unsent work, and
//! the service's word on the time bounded.
#![allow(clippy::unwrap_used)]

use uuid::Uuid;
use wardside_domain::*;
use wardside_store::sync::{
    ChainInfo, HeldOp, IncomingOp, MAX_UNPROVED_HELD, ReceivedPage, SyncConfig,
};
use wardside_store::*;

const FAST: KdfParams = KdfParams {
    m_kib: 256,
    t: 1,
    p: 1,
};

fn store(dir: &std::path::Path) -> Store {
    Store::create_with(
        &dir.join("wardside.db"),
        &Passphrase::new("plum kettle harbour"),
        "Ceri Advocate",
        FAST,
        Tuning::default(),
    )
    .unwrap()
}

const TEAM: Uuid = Uuid::from_u128(0x7e);

fn hash(n: u64) -> [u8; 32] {
    let mut h = [0u8; 32];
    h[..8].copy_from_slice(&n.to_be_bytes());
    h[31] = 1;
    h
}

/// Op `seq` of `device`'s chain: a client created with this name, linked to op `seq - 1`.
fn op(device: Uuid, seq: u64, name: &str) -> IncomingOp {
    let client = Uuid::new_v4();
    let content = serde_json::json!({
        "kind": "create",
        "payload": serde_json::to_value(Client::named(name)).unwrap(),
        "actor": "Someone",
    });
    IncomingOp {
        op_id: Uuid::now_v7(),
        device_id: device,
        device_seq: seq,
        hlc: format!(
            "{:016}-0000-{}",
            1_764_064_800_000u64 + seq,
            &device.simple().to_string()[..16]
        ),
        entity: "client".into(),
        entity_id: client,
        schema_v: 1,
        server_seq: seq as i64,
        content: serde_json::to_vec(&content).unwrap(),
        chain: ChainInfo {
            team_id: TEAM,
            seq,
            prev: if seq == 1 { [0; 32] } else { hash(seq - 1) },
            hash: hash(seq),
        },
        envelope: "{}".into(),
        sealed: wardside_store::sync::PeerSeal {
            org_id: Uuid::nil(),
            case_id: None,
            epoch: 1,
            nonce: [0; 12],
            signature: Vec::new(),
        },
    }
}

fn page(ops: Vec<IncomingOp>) -> ReceivedPage {
    ReceivedPage {
        ops,
        ..ReceivedPage::default()
    }
}

#[test]
fn a_chain_with_a_gap_is_found_and_filling_it_in_any_order_clears_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = store(dir.path());
    let d = Uuid::new_v4();
    s.receive(page(vec![op(d, 1, "One"), op(d, 4, "Four")]))
        .unwrap();
    let gaps = s.chain_gaps().unwrap();
    assert_eq!(gaps.len(), 1);
    assert_eq!(
        (
            gaps[0].device_id,
            gaps[0].from,
            gaps[0].to,
            gaps[0].highest_seen
        ),
        (d, 2, 3, 4)
    );
    // Ops ahead of the gap were applied (their sender signed them); the gap is a problem.
    assert_eq!(s.counts().unwrap().0, 2);
    let problems = s.refresh_problems(&[]).unwrap();
    assert_eq!(problems[0].kind, "gap");
    assert_eq!(problems[0].device_id, Some(d));
    assert_eq!(
        (problems[0].seq_from, problems[0].seq_to),
        (Some(2), Some(3))
    );
    s.receive(page(vec![op(d, 3, "Three")])).unwrap();
    s.receive(page(vec![op(d, 2, "Two")])).unwrap();
    assert!(s.chain_gaps().unwrap().is_empty());
    assert!(s.refresh_problems(&[]).unwrap().is_empty());
    assert_eq!(s.counts().unwrap().0, 4);
}

#[test]
fn a_second_op_at_a_taken_place_or_one_naming_the_wrong_op_before_it_is_held() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = store(dir.path());
    let d = Uuid::new_v4();
    s.receive(page(vec![op(d, 1, "One"), op(d, 2, "Two")]))
        .unwrap();
    // Another op at place 2 (the device signed two histories: a copied laptop).
    let fork = op(d, 2, "Forked");
    // The next place, naming an op that is not the one before it.
    let mut broken = op(d, 3, "Broken");
    broken.chain.prev = [9; 32];
    let out = s.receive(page(vec![fork.clone(), broken.clone()])).unwrap();
    assert_eq!(out.applied, 0);
    assert_eq!(out.held, 2);
    let held = s.held_ops().unwrap();
    let reason = |id: Uuid| held.iter().find(|h| h.op_id == id).unwrap().reason.clone();
    assert_eq!(reason(fork.op_id), "forked");
    assert_eq!(reason(broken.op_id), "broken-chain");
    assert_eq!(s.counts().unwrap().0, 2, "neither applied");
    let kinds: Vec<String> = s
        .refresh_problems(&[])
        .unwrap()
        .into_iter()
        .map(|p| p.kind)
        .collect();
    assert!(
        kinds.contains(&"forked".into()) && kinds.contains(&"broken-chain".into()),
        "{kinds:?}"
    );
    // The same op again is a duplicate, not a fork.
    let out = s.receive(page(vec![op_again(&fork)])).unwrap();
    assert_eq!(out.duplicates, 1);
}

fn op_again(o: &IncomingOp) -> IncomingOp {
    o.clone()
}

#[test]
fn one_op_the_merge_refuses_is_held_and_the_rest_of_the_page_applies() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = store(dir.path());
    let d = Uuid::new_v4();
    let mut bad = op(d, 2, "Bad");
    bad.entity = "note".into();
    bad.content = serde_json::to_vec(&serde_json::json!({
        "kind": "note-version", "payload": {"nonsense": true}, "actor": "Someone"
    }))
    .unwrap();
    let mut p = page(vec![op(d, 1, "One"), bad.clone(), op(d, 3, "Three")]);
    p.cursor = Some(3);
    let out = s.receive(p).unwrap();
    assert_eq!(out.applied, 2);
    assert_eq!(out.held, 1);
    assert_eq!(s.sync_cursor().unwrap(), 3, "the page's cursor was kept");
    let held = s.held_ops().unwrap();
    assert_eq!(held[0].op_id, bad.op_id);
    assert_eq!(held[0].reason, "cannot-apply");
    // The chain is whole: the bad op took its place.
    assert!(s.chain_gaps().unwrap().is_empty());
}

#[test]
fn evidence_from_a_hostile_service_is_bounded_and_what_is_not_kept_is_counted() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = store(dir.path());
    let unproved = |i: i64| HeldOp {
        op_id: Uuid::new_v4(),
        server_seq: i,
        device_id: Uuid::new_v4(),
        device_seq: 1,
        reason: "unknown-device".into(),
        envelope: "{\"x\":1}".into(),
        chain: None,
    };
    let n = MAX_UNPROVED_HELD + 25;
    let held: Vec<HeldOp> = (0..n).map(unproved).collect();
    let out = s
        .receive(ReceivedPage {
            held,
            ..ReceivedPage::default()
        })
        .unwrap();
    assert_eq!(out.held as i64, MAX_UNPROVED_HELD);
    assert_eq!(out.not_kept, 25);
    assert_eq!(s.held_ops().unwrap().len() as i64, MAX_UNPROVED_HELD);
    let problems = s.refresh_problems(&[]).unwrap();
    let not_kept = problems.iter().find(|p| p.kind == "not-kept").unwrap();
    assert_eq!(not_kept.count, 25);
}

#[test]
fn evidence_read_again_is_held_once_and_proved_evidence_is_never_replaced_by_unproved() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = store(dir.path());
    let device = Uuid::new_v4();
    let unproved = HeldOp {
        op_id: Uuid::new_v4(),
        server_seq: 1,
        device_id: device,
        device_seq: 1,
        reason: "unknown-device".into(),
        envelope: "{\"x\":1}".into(),
        chain: None,
    };
    let page = |h: Vec<HeldOp>| ReceivedPage {
        held: h,
        ..ReceivedPage::default()
    };
    assert_eq!(s.receive(page(vec![unproved.clone()])).unwrap().held, 1);
    // The service hands the same op out again (a re-read, or a replay): not held twice.
    for _ in 0..3 {
        let out = s.receive(page(vec![unproved.clone()])).unwrap();
        assert_eq!((out.held, out.not_kept), (0, 0));
    }
    assert_eq!(s.held_ops().unwrap().len(), 1);
    // Proved evidence (a chain link) replaces it; unproved bytes under the same id later do not.
    let proved = HeldOp {
        reason: "tampered".into(),
        chain: Some(ChainInfo {
            team_id: Uuid::new_v4(),
            seq: 1,
            prev: [0; 32],
            hash: hash(1),
        }),
        ..unproved.clone()
    };
    s.receive(page(vec![proved])).unwrap();
    let mut forged = unproved.clone();
    forged.envelope = "{\"forged\":1}".into();
    forged.reason = "malformed".into();
    s.receive(page(vec![forged])).unwrap();
    let kept = s.held_ops().unwrap();
    assert_eq!(kept.len(), 1);
    assert_eq!(kept[0].reason, "tampered");
    assert_eq!(kept[0].envelope, "{\"x\":1}");
}

#[test]
fn a_revocation_wipes_the_records_but_keeps_unsent_work_and_drafts() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = store(dir.path());
    let (client, case) = s
        .write(|w| {
            let client = w.add_client(&Client::named("Sent Example"))?;
            let case = w.open_case(&Case::opened(client, "2026-11-02".parse().unwrap()))?;
            Ok((client, case))
        })
        .unwrap();
    // Everything so far reached the service.
    let acks: Vec<(Uuid, i64)> = s
        .ops_after(0, 1000)
        .unwrap()
        .iter()
        .enumerate()
        .map(|(i, o)| (o.op_id.parse().unwrap(), i as i64 + 1))
        .collect();
    s.mark_pushed(&acks).unwrap();
    // Then a note, not yet sent, and a draft.
    let note = s
        .write(|w| {
            w.add_activity(
                &Activity {
                    case_id: case,
                    at: chrono::NaiveDateTime::parse_from_str("2026-11-03T10:00", "%Y-%m-%dT%H:%M")
                        .unwrap(),
                    duration_minutes: Some(30),
                    kind: ActivityKind::PrivateInterview { wishes: None },
                    withheld: None,
                },
                "Unsent: she wants leave.",
            )
        })
        .unwrap();
    s.save_draft(case, &serde_json::json!({"kind": "contact"}), "half typed")
        .unwrap();
    s.set_sync_config(&SyncConfig {
        server: "https://sync.example.org".into(),
        org_id: Uuid::new_v4(),
        teams: vec![TEAM],
        admin: false,
        status: "approved".into(),
        fingerprint: String::new(),
        name: "laptop".into(),
        root_key: None,
    })
    .unwrap();
    let kept = s.wipe_organisation_data().unwrap();
    assert_eq!(kept, 2, "the note's two ops");
    assert_eq!(s.counts().unwrap(), (0, 0, 0));
    assert!(s.get::<Client>(client.0).is_err());
    assert_eq!(s.unpushed_count().unwrap(), 2);
    assert!(s.draft(case).unwrap().is_some(), "the draft is kept");
    assert_eq!(s.sync_config().unwrap().unwrap().status, "revoked");
    // Shown again when the laptop is enrolled again (here: applied back, its case not yet here).
    assert_eq!(s.reapply_kept().unwrap(), 0);
    assert_eq!(s.note_text(note).unwrap(), "Unsent: she wants leave.");
}

#[test]
fn the_services_word_on_the_time_is_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = store(dir.path());
    let now = chrono::Utc::now().timestamp_millis();
    // A service that says it is a year ahead: not adopted; new ops keep this laptop's time.
    s.record_sync(now + 366 * 86_400_000).unwrap();
    s.write(|w| w.add_client(&Client::named("Clock Example")))
        .unwrap();
    let hlc = s.ops_after(0, 10).unwrap().last().unwrap().hlc.clone();
    let wall: i64 = hlc[..16].parse().unwrap();
    assert!((wall - now).abs() < 86_400_000, "{hlc}");
    // Three days out is a laptop's wrong clock, adopted for stamping.
    s.record_sync(now + 3 * 86_400_000).unwrap();
    s.write(|w| w.add_client(&Client::named("Later Example")))
        .unwrap();
    let hlc = s.ops_after(0, 10).unwrap().last().unwrap().hlc.clone();
    let wall: i64 = hlc[..16].parse().unwrap();
    assert!(wall > now + 2 * 86_400_000, "{hlc}");
}

/// A `transfer` op (a person's record moved to a team) is vouched for by the laptop that moved
/// it, within bounds: only ops about the person it moves, none newer than the move, none in this
/// laptop's own name or at a place of an author's sequence already held, only into the team the
/// op came in. A member of a team who forges one cannot rewrite another person's record here,
/// win every later edit, or wedge this laptop's own sequence.
#[test]
fn a_forged_move_cannot_rewrite_other_records_or_this_laptops_own_history() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = store(dir.path());
    let me: Uuid = s.device_id().parse().unwrap();
    // A person this laptop holds, and the person the forger claims to move.
    let held = s
        .write(|w| w.add_client(&Client::named("Held Person")))
        .unwrap();
    let mallory = Uuid::new_v4();
    let bea = Uuid::new_v4();
    let moved = Uuid::new_v4();
    let hlc = |ms: u64, dev: &Uuid| format!("{ms:016}-0000-{}", &dev.simple().to_string()[..16]);
    let inner = |op_id: Uuid,
                 device: Uuid,
                 seq: u64,
                 at: u64,
                 entity: &str,
                 id: Uuid,
                 kind: &str,
                 field: Option<&str>,
                 payload: serde_json::Value| {
        serde_json::json!({
            "op_id": op_id, "device_id": device, "device_seq": seq, "hlc": hlc(at, &device),
            "entity": entity, "entity_id": id, "schema_v": 1, "kind": kind,
            "field": field, "payload": payload, "actor": "Someone"
        })
    };
    let now = 1_764_064_800_000u64;
    let ops = vec![
        // The person it moves, created before the move: kept.
        inner(
            Uuid::now_v7(),
            bea,
            1,
            now - 10,
            "client",
            moved,
            "create",
            None,
            serde_json::to_value(Client::named("Moved Person")).unwrap(),
        ),
        // Another person's record, in Bea's name: refused.
        inner(
            Uuid::now_v7(),
            bea,
            2,
            now - 5,
            "client",
            held.0,
            "set",
            Some("ward"),
            serde_json::json!("FORGED"),
        ),
        // From the future, about the person moved: refused.
        inner(
            Uuid::now_v7(),
            bea,
            3,
            4_070_908_800_000,
            "client",
            moved,
            "set",
            Some("ward"),
            serde_json::json!("FUTURE"),
        ),
        // In this laptop's own name, far along its sequence: refused.
        inner(
            Uuid::now_v7(),
            me,
            1_000_000,
            now - 3,
            "client",
            moved,
            "set",
            Some("ward"),
            serde_json::json!("MINE"),
        ),
    ];
    let content = serde_json::json!({
        "kind": "transfer",
        "payload": { "to": TEAM, "ops": ops },
        "actor": "Mallory",
    });
    let transfer = IncomingOp {
        op_id: Uuid::now_v7(),
        device_id: mallory,
        device_seq: 1,
        hlc: hlc(now, &mallory),
        entity: "client".into(),
        entity_id: moved,
        schema_v: 1,
        server_seq: 1,
        content: serde_json::to_vec(&content).unwrap(),
        chain: ChainInfo {
            team_id: TEAM,
            seq: 1,
            prev: [0; 32],
            hash: hash(1),
        },
        envelope: "{}".into(),
        sealed: wardside_store::sync::PeerSeal {
            org_id: Uuid::nil(),
            case_id: None,
            epoch: 1,
            nonce: [0; 12],
            signature: Vec::new(),
        },
    };
    s.receive(page(vec![transfer])).unwrap();
    let kept: Client = s.get(held.0).unwrap();
    assert_eq!(kept.ward, None, "another person's record is not rewritten");
    let m: Client = s.get(moved).unwrap();
    assert_eq!(m.name, "Moved Person");
    assert_eq!(
        m.ward, None,
        "nothing from the future, nothing in this laptop's name"
    );
    // This laptop's own sequence goes on from where it was.
    s.write(|w| w.add_client(&Client::named("Next"))).unwrap();
    let mine: Vec<_> = s
        .ops_after(0, 1000)
        .unwrap()
        .into_iter()
        .filter(|o| o.device_id == me.to_string())
        .map(|o| o.device_seq)
        .collect();
    assert!(mine.iter().all(|n| *n < 100), "{mine:?}");
}

/// A move that names another team than the one whose chain it came in applies nothing.
#[test]
fn a_move_into_another_team_than_it_came_in_applies_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = store(dir.path());
    let sender = Uuid::new_v4();
    let moved = Uuid::new_v4();
    let now = 1_764_064_800_000u64;
    let hlc = |ms: u64, dev: &Uuid| format!("{ms:016}-0000-{}", &dev.simple().to_string()[..16]);
    let content = serde_json::json!({
        "kind": "transfer",
        "payload": { "to": Uuid::from_u128(0x99), "ops": [serde_json::json!({
            "op_id": Uuid::now_v7(), "device_id": sender, "device_seq": 1, "hlc": hlc(now - 1, &sender),
            "entity": "client", "entity_id": moved, "schema_v": 1, "kind": "create",
            "payload": serde_json::to_value(Client::named("Elsewhere")).unwrap(), "actor": "Someone"
        })] },
        "actor": "Someone",
    });
    let mut t = op(sender, 2, "unused");
    t.entity_id = moved;
    t.hlc = hlc(now, &sender);
    t.content = serde_json::to_vec(&content).unwrap();
    t.chain.seq = 1;
    t.chain.prev = [0; 32];
    s.receive(page(vec![t])).unwrap();
    assert!(s.get::<Client>(moved).is_err());
}
