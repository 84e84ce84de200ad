//! A hostile service (docs/THREAT-MODEL.md): the service's own code and database in the hands of
//! someone with no device secret, who edits what it stores and answers whatever it likes: mints
//! keys and devices, forges ops in a colleague's name, drops, alters, reorders and replays ops,
//! lies about counts, acknowledgements and revocation, rolls the trust log back, keeps a sync
//! busy. Real clients on real encrypted stores sync against it. Every attack is refused or
//! reported (by device and sequence), and no note is lost.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use uuid::Uuid;
use wardside_sync::envelope::{ChainLink, hlc_device_part};
use wardside_sync::protocol::REVOKED;
use wardside_sync::trust::KeyGrant;
use wardside_sync::{DeviceSigningKey, Envelope, KeyId, Routing, TeamKey};
use wardside_sync_client::SyncError;

fn service() -> TestServer {
    TestServer::start("sqlite")
}

/// A device's own signing key, out of its store: what a stolen laptop (or a malicious insider)
/// could sign with.
fn signing_key(d: &Dev) -> DeviceSigningKey {
    let pkcs8 = d.store.sync_secret("device_sign_pkcs8").unwrap().unwrap();
    DeviceSigningKey::from_pkcs8(&pkcs8).unwrap()
}

fn team_key(d: &Dev) -> TeamKey {
    let k = d
        .store
        .team_keys()
        .unwrap()
        .into_iter()
        .max_by_key(|k| k.epoch)
        .unwrap();
    TeamKey::from_bytes(
        KeyId {
            team_id: k.team,
            epoch: k.epoch,
        },
        k.secret.as_slice().try_into().unwrap(),
    )
}

/// An op as `device`, signed with `key`, sealed under `team`: anything anyone can make with
/// the keys they hold.
#[allow(clippy::too_many_arguments)]
fn op_as(
    org: Uuid,
    device: Uuid,
    key: &DeviceSigningKey,
    team: &TeamKey,
    device_seq: u64,
    chain: ChainLink,
    hlc: String,
    entity: &str,
    entity_id: Uuid,
    content: serde_json::Value,
) -> Envelope {
    Envelope::seal(
        Routing {
            org_id: org,
            team_id: team.id.team_id,
            case_id: None,
            entity: entity.into(),
            entity_id,
            op_id: Uuid::now_v7(),
            device_id: device,
            device_seq,
            hlc,
            kid: team.id,
            schema_v: 1,
            chain: Some(chain),
        },
        &serde_json::to_vec(&content).unwrap(),
        team,
        key,
    )
    .unwrap()
}

fn now_hlc(device: Uuid) -> String {
    format!(
        "{:016}-0000-{}",
        chrono::Utc::now().timestamp_millis(),
        hlc_device_part(&device)
    )
}

fn set_ward(ward: &str, actor: &str) -> serde_json::Value {
    serde_json::json!({"kind": "set", "field": "ward", "payload": ward, "actor": actor})
}

fn kinds(r: &wardside_sync_client::SyncReport) -> Vec<String> {
    r.problems.iter().map(|p| p.kind.clone()).collect()
}

/// The service mints its own team key (epoch 99) and its own device, forges an op in the
/// admin's name, and offers the laptop the minted key: the laptop applies nothing of it, keeps
/// no minted key, and goes on sealing under the organisation's real key.
#[test]
fn a_minted_key_a_fake_device_and_an_op_forged_in_an_admins_name_are_all_refused() {
    let server = service();
    let (mut alice, mut devs, org) = org(&server, 1);
    let mut bea = devs.pop().unwrap();
    let (client, case) = alice.client_with_case("Gwen Example");
    alice.sync();
    bea.sync();
    assert_eq!(bea.ward(client).as_deref(), Some("Cedar"));
    let real = team_key(&bea);

    // The service's own device and key, and a grant of the key to Bea signed by its device.
    let fake_id = Uuid::new_v4();
    let fake = DeviceSigningKey::generate().unwrap();
    let minted = TeamKey::generate(KeyId {
        team_id: real.id.team_id,
        epoch: 99,
    })
    .unwrap();
    let bea_box = wardside_sync::wrap::BoxSecret::generate().unwrap(); // the service knows only public keys
    let _ = bea_box;
    let bea_public: [u8; 32] = {
        use base64::Engine;
        let list = wardside_sync_client::devices(&mut alice.store, &opts()).unwrap();
        let d = list.iter().find(|d| d.device_id == bea.id()).unwrap();
        base64::engine::general_purpose::STANDARD
            .decode(&d.box_key)
            .unwrap()
            .try_into()
            .unwrap()
    };
    let w = wardside_sync::wrap::wrap(&minted, bea.id(), &bea_public).unwrap();
    let grant = KeyGrant::sign(org, w, &minted, fake_id, &fake);
    server.sql(&format!(
        "INSERT INTO device (id, org_id, name, sign_key, box_key, status, admin, teams, created_at)
         VALUES ('{fake_id}', '{org}', 'Admin Alice', x'{}', x'{}', 'approved', 1, '[\"{}\"]', 'now');
         INSERT INTO key_grant (org_id, team_id, epoch, recipient, grant_json) VALUES ('{org}', '{}', 99, '{}', '{}');",
        hex(&fake.public_key()),
        hex(&[3; 32]),
        real.id.team_id,
        real.id.team_id,
        bea.id(),
        serde_json::to_string(&grant).unwrap().replace('\'', "''"),
    ));
    // An op in Alice's name (signed by the service's key), and one from its own device, each
    // setting the ward, one under the real epoch's id and one under the minted key.
    let alice_tip = alice.store.own_chain_tip(real.id.team_id).unwrap();
    let forged = op_as(
        org,
        alice.id(),
        &fake,
        &real,
        10_000,
        ChainLink {
            seq: alice_tip.0 + 1,
            prev: alice_tip.1,
        },
        now_hlc(alice.id()),
        "client",
        client.0,
        set_ward("Forged by the service", "Admin Alice"),
    );
    server.inject(org, &forged);
    let own = op_as(
        org,
        fake_id,
        &fake,
        &minted,
        1,
        ChainLink {
            seq: 1,
            prev: [0; 32],
        },
        now_hlc(fake_id),
        "client",
        client.0,
        set_ward("The service's ward", "Admin Alice"),
    );
    server.inject(org, &own);

    let r = bea.sync();
    assert_eq!(
        bea.ward(client).as_deref(),
        Some("Cedar"),
        "nothing forged applied"
    );
    assert!(
        bea.store.team_keys().unwrap().iter().all(|k| k.epoch != 99),
        "the minted key is not kept"
    );
    let k = kinds(&r);
    assert!(k.contains(&"tampered".to_owned()), "{r:?}");
    assert!(k.contains(&"unknown-device".to_owned()), "{r:?}");
    assert!(k.contains(&"key-refused".to_owned()), "{r:?}");
    // Every problem names the device and where in its history.
    let t = r.problems.iter().find(|p| p.kind == "tampered").unwrap();
    assert_eq!(t.device_id, Some(alice.id()));
    assert!(t.seq_from.is_some());

    // Bea's next notes are sealed under the organisation's key: the service cannot open them.
    for i in 0..3 {
        bea.note(case, &format!("Bea's note {i}"));
    }
    bea.sync();
    let mine: Vec<_> = server
        .pull_all(org, real.id.team_id)
        .into_iter()
        .filter(|o| o.envelope.routing.device_id == bea.id())
        .collect();
    assert!(mine.len() >= 3);
    for o in &mine {
        assert_eq!(o.envelope.routing.kid.epoch, 1);
        assert!(o.envelope.decrypt(&minted).is_err());
    }
    alice.sync();
    assert_eq!(alice.ward(client).as_deref(), Some("Cedar"));
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Whoever answers at the service's address says "this device was revoked": nothing is wiped,
/// unsent notes included; the next real sync sends them.
#[test]
fn a_service_that_says_revoked_wipes_nothing() {
    let server = service();
    let (mut alice, mut devs, _) = org(&server, 1);
    let mut bea = devs.pop().unwrap();
    let (_, case) = alice.client_with_case("Hal Example");
    alice.sync();
    bea.sync();
    let unsent = bea.note(case, "Written on the ward, not yet sent.");
    let before = bea.store.counts().unwrap();
    for _ in 0..20 {
        server.fault("/v1", Fault::Respond(401, REVOKED));
    }
    let err = bea.try_sync().unwrap_err();
    assert!(matches!(err, SyncError::RevokedClaim), "{err}");
    assert_eq!(bea.store.counts().unwrap(), before);
    assert_eq!(bea.store.unpushed_count().unwrap(), 2);
    assert_eq!(bea.text(unsent), "Written on the ward, not yet sent.");
    server.calm();
    bea.sync();
    alice.sync();
    assert_eq!(alice.text(unsent), "Written on the ward, not yet sent.");
}

/// An admin's signed revocation does wipe the organisation's records, but what was written and
/// never sent is kept (encrypted) until the laptop is enrolled again, and then it goes.
#[test]
fn a_real_revocation_wipes_the_copy_and_keeps_unsent_work_until_enrolled_again() {
    let server = service();
    let (mut alice, mut devs, _) = org(&server, 1);
    let mut bea = devs.pop().unwrap();
    let (_, case) = alice.client_with_case("Ivy Example");
    alice.sync();
    bea.sync();
    wardside_sync_client::revoke(&mut alice.store, bea.id(), &opts()).unwrap();
    let unsent = bea.note(case, "Written before the laptop heard it was revoked.");
    let err = bea.try_sync().unwrap_err();
    assert!(matches!(err, SyncError::Revoked { kept: 2 }), "{err}");
    assert_eq!(
        bea.store.counts().unwrap(),
        (0, 0, 0),
        "the records are gone"
    );
    assert_eq!(
        bea.store.unpushed_count().unwrap(),
        2,
        "the unsent work is not"
    );
    // The laptop comes back to the office: enrolled again, its note goes to the organisation.
    let code = wardside_sync_client::invite(&mut alice.store, &opts()).unwrap();
    let e = wardside_sync_client::enroll(&mut bea.store, &server.url, &code, "Bea again", &opts())
        .unwrap();
    wardside_sync_client::approve(&mut alice.store, e.device_id, &e.fingerprint, &opts()).unwrap();
    bea.sync();
    alice.sync();
    assert_eq!(
        alice.text(unsent),
        "Written before the laptop heard it was revoked."
    );
    bea.sync();
    assert_eq!(
        bea.text(unsent),
        "Written before the laptop heard it was revoked.",
        "and it is on the laptop again"
    );
}

/// The service deletes an op after it was handed out, and its counts with it (as a restore from
/// an older backup would): the next op of the same device proves the gap to every other device;
/// the device that wrote it sees the service count fewer of its ops than it handed back, reads
/// again, and gives back what is missing.
#[test]
fn a_dropped_op_is_proved_missing_and_its_author_gives_it_back() {
    let server = service();
    let (mut alice, mut devs, _) = org(&server, 1);
    let mut bea = devs.pop().unwrap();
    let (_, case) = alice.client_with_case("Jo Example");
    let n1 = alice.note(case, "One.");
    let n2 = alice.note(case, "Two.");
    let n3 = alice.note(case, "Three.");
    alice.sync();
    server.sql(&format!(
        "DELETE FROM op WHERE envelope LIKE '%{n2}%';
         UPDATE device_head SET ops = (SELECT count(*) FROM op o WHERE o.device_id = device_head.device_id AND o.team_id = device_head.team_id);"
    ));
    let r = bea.sync();
    assert_eq!(bea.text(n1), "One.");
    assert_eq!(bea.text(n3), "Three.");
    let gap = r
        .problems
        .iter()
        .find(|p| p.kind == "gap")
        .unwrap_or_else(|| panic!("{r:?}"));
    assert_eq!(gap.device_id, Some(alice.id()));
    assert!(gap.seq_from.unwrap() <= gap.seq_to.unwrap());
    assert!(r.refills >= 1, "it read the log again first");
    // Alice's device sees the service holds fewer of its ops than it sent, and sends them again.
    let r = alice.sync();
    assert!(r.resent >= 2, "{r:?}");
    let r = bea.sync();
    assert!(r.problems.is_empty(), "{r:?}");
    assert_eq!(bea.text(n2), "Two.");
    assert_converged(&[&alice, &bea]);
}

/// The service loses an op it had handed back (its counts drop with it), and the sync that
/// notices is cut short (the service fails, the connection drops, the laptop is locked). The
/// next syncs still read again, send back exactly what was lost, and report nothing else as
/// lost: a sync cut short must not leave every other op of this laptop looking lost.
#[test]
fn a_sync_cut_short_after_the_service_counted_fewer_still_finds_only_what_was_lost() {
    let server = service();
    let (mut alice, mut devs, _) = org(&server, 1);
    let mut bea = devs.pop().unwrap();
    let (_, case) = alice.client_with_case("Jo Example");
    let n1 = alice.note(case, "One.");
    let n2 = alice.note(case, "Two.");
    let n3 = alice.note(case, "Three.");
    alice.sync();
    server.sql(&format!(
        "DELETE FROM op WHERE envelope LIKE '%{n2}%';
         UPDATE device_head SET ops = (SELECT count(*) FROM op o WHERE o.device_id = device_head.device_id AND o.team_id = device_head.team_id);"
    ));
    // (Alice has nothing to push: her first request to /v1/ops is a pull; it fails for good.)
    for _ in 0..20 {
        server.fault("/v1/ops", Fault::Unavailable);
    }
    assert!(alice.try_sync().is_err());
    server.calm();
    let mut resent = 0;
    let mut last = None;
    for _ in 0..4 {
        let r = alice.sync();
        resent += r.resent;
        last = Some(r);
    }
    let last = last.unwrap();
    assert!(last.problems.is_empty(), "{last:?}");
    // Only the ops that name the lost note (its activity and its version) are sent again.
    assert!((1..=2).contains(&resent), "{resent} sent again");
    bea.sync();
    assert_eq!(bea.text(n1), "One.");
    assert_eq!(bea.text(n2), "Two.");
    assert_eq!(bea.text(n3), "Three.");
    assert_converged(&[&alice, &bea]);
}

/// The same, with the service's counts still claiming the op: the gap is proved by the chain,
/// reported by device and sequence on every sync while it lasts, and nothing after it is lost.
#[test]
fn a_dropped_op_the_counts_still_claim_is_proved_missing_and_reported() {
    let server = service();
    let (mut alice, mut devs, _) = org(&server, 1);
    let mut bea = devs.pop().unwrap();
    let (_, case) = alice.client_with_case("Jo Example");
    let n1 = alice.note(case, "One.");
    let n2 = alice.note(case, "Two.");
    let n3 = alice.note(case, "Three.");
    alice.sync();
    server.sql(&format!("DELETE FROM op WHERE envelope LIKE '%{n2}%';"));
    for _ in 0..2 {
        let r = bea.sync();
        assert_eq!(bea.text(n1), "One.");
        assert_eq!(bea.text(n3), "Three.");
        let gap = r
            .problems
            .iter()
            .find(|p| p.kind == "gap")
            .unwrap_or_else(|| panic!("{r:?}"));
        assert_eq!(gap.device_id, Some(alice.id()));
    }
    assert_eq!(bea.store.sync_summary().unwrap().problems, 1);
    // Nothing is lost: the note is still on Alice's laptop.
    assert_eq!(alice.text(n2), "Two.");
}

/// One byte of a stored ciphertext flipped: held (never applied), reported by device and
/// sequence; the ops around it still apply.
#[test]
fn a_flipped_byte_is_held_and_reported_and_the_rest_applies() {
    let server = service();
    let (mut alice, mut devs, _) = org(&server, 1);
    let mut bea = devs.pop().unwrap();
    let (_, case) = alice.client_with_case("Kit Example");
    let n1 = alice.note(case, "First.");
    let n2 = alice.note(case, "Second.");
    alice.sync();
    // Flip one base64 character of the first note's ciphertext, in the service's database.
    let conn = rusqlite::Connection::open(server.dir.path().join("server.db")).unwrap();
    let (seq, env): (i64, String) = conn
        .query_row(
            "SELECT server_seq, envelope FROM op WHERE envelope LIKE ?1",
            [format!("%{n1}%")],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    let mut v: serde_json::Value = serde_json::from_str(&env).unwrap();
    let ct = v["ciphertext"].as_str().unwrap().to_owned();
    let flipped = if ct.starts_with('A') { "B" } else { "A" }.to_owned() + &ct[1..];
    v["ciphertext"] = serde_json::json!(flipped);
    conn.execute(
        "UPDATE op SET envelope = ?1 WHERE server_seq = ?2",
        rusqlite::params![v.to_string(), seq],
    )
    .unwrap();
    drop(conn);
    let r = bea.sync();
    assert_eq!(bea.text(n2), "Second.");
    assert!(bea.store.op_ids().unwrap().len() > 2);
    let t = r
        .problems
        .iter()
        .find(|p| p.kind == "tampered")
        .unwrap_or_else(|| panic!("{r:?}"));
    assert_eq!(t.device_id, Some(alice.id()));
    assert_eq!(
        bea.store.sync_summary().unwrap().problems,
        r.problems.len() as u64
    );
    // Nothing was silently dropped: the altered op is held as evidence.
    assert!(
        bea.store
            .held_ops()
            .unwrap()
            .iter()
            .any(|h| h.reason == "tampered")
    );
}

/// Bea writes a note; the service acknowledges it at `ack` and keeps nothing. Her next sync
/// must send it again, and Alice must end up with it. Returns the service and Bea for further
/// checks.
fn acknowledged_then_lost(ack: i64, text: &str) -> (TestServer, Dev) {
    let server = service();
    let (mut alice, mut devs, _) = org(&server, 1);
    let mut bea = devs.pop().unwrap();
    let (_, case) = alice.client_with_case("Lou Example");
    alice.sync();
    bea.sync();
    let note = bea.note(case, text);
    server.fault("/v1/ops/push", Fault::FakeAck(ack));
    let r = bea.sync();
    assert!(r.resent >= 1, "{r:?}");
    alice.sync();
    assert_eq!(alice.text(note), text);
    assert_eq!(bea.store.unpushed_count().unwrap(), 0);
    (server, bea)
}

/// The service says "accepted" and keeps nothing: the ops never come back, so they are sent
/// again, and arrive.
#[test]
fn an_acknowledgement_is_not_proof_ops_never_handed_back_are_sent_again() {
    acknowledged_then_lost(1, "Acknowledged, then lost.");
}

/// The same, acknowledged at places past the end of the service's log (which a read to the end
/// never reaches): still sent again, and they arrive.
#[test]
fn an_acknowledgement_past_the_end_of_the_log_is_not_proof_either() {
    let (_server, mut bea) =
        acknowledged_then_lost(1_000_000, "Acknowledged far ahead, then lost.");
    assert!(bea.sync().problems.is_empty());
}

/// A service that answers "there is more" without moving its cursor cannot keep a sync running.
#[test]
fn a_service_that_keeps_saying_more_is_stopped_at_once() {
    let server = service();
    let (mut alice, _, _) = org(&server, 0);
    alice.sync();
    // (Alice has nothing to push: every request to /v1/ops is a pull.)
    for _ in 0..10_000 {
        server.fault("/v1/ops", Fault::StallPull);
    }
    let before = server.requests_to("/v1/ops");
    let err = alice.try_sync().unwrap_err();
    // Stopped as a reply the device cannot use, said in plain words.
    assert!(
        matches!(&err, SyncError::Protocol(why) if why.contains("cursor did not move")),
        "{err:?}"
    );
    assert!(!err.to_string().contains('{'), "{err}");
    assert!(server.requests_to("/v1/ops") - before <= 2);
}

/// Ops handed out in the wrong order still apply, with every link checked: no problem.
#[test]
fn ops_handed_out_in_another_order_still_converge() {
    let server = service();
    let (mut alice, mut devs, _) = org(&server, 1);
    let mut bea = devs.pop().unwrap();
    let (_, case) = alice.client_with_case("Mo Example");
    for i in 0..20 {
        alice.note(case, &format!("Note {i}."));
    }
    alice.sync();
    // (Bea has nothing to push: her first request to /v1/ops is a pull.)
    let before = server.requests_to("/v1/ops");
    server.fault("/v1/ops", Fault::ReversePage);
    let r = bea.sync();
    assert!(server.requests_to("/v1/ops") > before);
    assert!(r.problems.is_empty(), "{r:?}");
    assert_converged(&[&alice, &bea]);
}

/// Counts that claim more than the service hands out are a hint for one more read, then a
/// problem reported, never believed.
#[test]
fn counts_that_claim_more_than_is_handed_out_are_reported() {
    let server = service();
    let (mut alice, mut devs, _) = org(&server, 1);
    let mut bea = devs.pop().unwrap();
    let (_, case) = alice.client_with_case("Ned Example");
    alice.note(case, "A note.");
    alice.sync();
    for _ in 0..4 {
        server.fault("/v1/heads", Fault::InflateHeads);
    }
    let r = bea.sync();
    assert!(r.refills >= 1);
    let p = r
        .problems
        .iter()
        .find(|p| p.kind == "counts")
        .unwrap_or_else(|| panic!("{r:?}"));
    assert_eq!(p.device_id, Some(alice.id()));
}

/// A device of the organisation (a malicious insider, or a stolen key) signs ops the service
/// then hands out: one with an unpadded clock (which would sort after every real clock as
/// text), one whose content the merge refuses. Both held and reported; the rest applies, and a
/// later real edit still wins.
#[test]
fn a_malformed_clock_or_a_bad_op_from_a_real_device_stops_nothing() {
    let server = service();
    let (mut alice, mut devs, org) = org(&server, 2);
    let mut bea = devs.pop().unwrap();
    let mut insider = devs.pop().unwrap();
    insider.sync();
    let (client, case) = alice.client_with_case("Ola Example");
    alice.sync();
    bea.sync();
    let key = signing_key(&insider);
    let team = team_key(&insider);
    let id = insider.id();
    let unpadded = format!("9-0000-{}", hlc_device_part(&id));
    let a = op_as(
        org,
        id,
        &key,
        &team,
        1,
        ChainLink {
            seq: 1,
            prev: [0; 32],
        },
        unpadded,
        "client",
        client.0,
        set_ward("For ever", "Insider"),
    );
    let b = op_as(
        org,
        id,
        &key,
        &team,
        2,
        ChainLink {
            seq: 2,
            prev: a.hash32().unwrap(),
        },
        now_hlc(id),
        "note",
        Uuid::new_v4(),
        serde_json::json!({"kind": "note-version", "payload": {"nonsense": true}, "actor": "Insider"}),
    );
    let c = op_as(
        org,
        id,
        &key,
        &team,
        3,
        ChainLink {
            seq: 3,
            prev: b.hash32().unwrap(),
        },
        now_hlc(id),
        "client",
        client.0,
        set_ward("Birch", "Insider"),
    );
    for e in [&a, &b, &c] {
        server.inject(org, e);
    }
    let r = bea.sync();
    let k = kinds(&r);
    assert!(k.contains(&"malformed".to_owned()), "{r:?}");
    assert!(k.contains(&"cannot-apply".to_owned()), "{r:?}");
    assert_eq!(
        bea.ward(client).as_deref(),
        Some("Birch"),
        "the good op applied"
    );
    // A later real edit wins: the malformed clock never got in.
    alice.set_ward(client, "Willow");
    alice.sync();
    bea.sync();
    assert_eq!(bea.ward(client).as_deref(), Some("Willow"));
    let _ = case;
}

/// The service changes its newest statement in place (the log's length unchanged: a restore
/// where another admin wrote in its place looks the same): the heads' count alone does not
/// hide it; reported on every sync while it lasts, never cleared on the service's word.
#[test]
fn a_trust_statement_changed_in_place_is_reported_while_it_lasts() {
    let server = service();
    let (_alice, mut devs, _) = org(&server, 1);
    let mut bea = devs.pop().unwrap();
    let r = bea.sync();
    assert!(r.problems.is_empty(), "{r:?}");
    server.sql(
        "UPDATE trust_statement SET statement = json_set(statement, '$.statement.at_ms', 1)
         WHERE seq = (SELECT max(seq) FROM trust_statement);",
    );
    for _ in 0..2 {
        let r = bea.sync();
        assert!(kinds(&r).contains(&"trust-log".to_owned()), "{r:?}");
    }
}

/// The service hands out the trust log without its newest statement (restored from an old
/// backup), or with a statement changed: reported, and the device goes on with the log it
/// checked; a device approved in the missing or changed statement is not trusted on the
/// service's word.
#[test]
fn a_rolled_back_or_altered_trust_log_is_reported_and_not_used() {
    let server = service();
    let (mut alice, mut devs, _) = org(&server, 1);
    let mut bea = devs.pop().unwrap();
    bea.sync();
    // Rolled back: the service's newest statement is gone from its database. Bea's laptop
    // holds it, signed by the admin, and gives it back (any device does, not only its author):
    // nothing is wrong, and the service has it again.
    let full = server.trust_len();
    server.sql("DELETE FROM trust_statement WHERE seq = (SELECT max(seq) FROM trust_statement);");
    assert_eq!(server.trust_len(), full - 1);
    let r = bea.sync();
    assert!(r.problems.is_empty(), "{r:?}");
    assert_eq!(server.trust_len(), full, "Bea gave the statement back");
    alice.sync();
    let r = bea.sync();
    assert!(r.problems.is_empty(), "{r:?}");
    // A new colleague is approved; the service alters that statement on its way to Bea.
    let mut cai = join(&server, &mut alice, "Cai");
    let (_, case) = cai.client_with_case("Pat Example");
    let note = cai.note(case, "From the new colleague.");
    cai.sync();
    server.fault("/v1/trust", Fault::AlterLastStatement);
    let r = bea.sync();
    assert!(kinds(&r).contains(&"trust-log".to_owned()), "{r:?}");
    assert!(kinds(&r).contains(&"unknown-device".to_owned()), "{r:?}");
    assert_ne!(bea.text(note), "From the new colleague.");
    // The real statement arrives next time: the colleague's ops apply.
    let r = bea.sync();
    assert!(r.problems.is_empty(), "{r:?}");
    assert_eq!(bea.text(note), "From the new colleague.");
}

/// At enrolment the service answers with its own root key instead of the organisation's: the
/// invitation's binding does not check, and nothing is kept.
#[test]
fn a_service_that_offers_its_own_root_at_enrolment_is_refused() {
    let server = service();
    let (mut alice, _, _) = org(&server, 0);
    let code = wardside_sync_client::invite(&mut alice.store, &opts()).unwrap();
    // The code registered with another root (as if the service had swapped it).
    server.sql(&format!(
        "UPDATE enrolment_code SET root_key = x'{}' WHERE root_key IS NOT NULL",
        hex(&DeviceSigningKey::generate().unwrap().public_key())
    ));
    let mut dan = Dev::new("Dan");
    let err = wardside_sync_client::enroll(&mut dan.store, &server.url, &code, "Dan", &opts())
        .unwrap_err();
    assert!(matches!(err, SyncError::RootNotProved), "{err}");
    assert!(dan.store.sync_config().unwrap().is_none(), "nothing kept");
}
