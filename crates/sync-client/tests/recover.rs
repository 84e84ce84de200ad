//! Recovery words open the organisation on a new laptop (issue 14, part 3): every admin laptop
//! is lost; someone types the 24 words on a new laptop, which becomes the organisation's admin
//! device, reads the notes of every key epoch, and approves and revokes devices that the
//! organisation's other laptops then believe. Wrong words change nothing, here or on the
//! service. Real encrypted stores against a real service on 127.0.0.1, on both backends.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use uuid::Uuid;
use wardside_sync_client::{SyncError, recover};

/// An organisation whose first admin kept the recovery words (as the sheet would).
fn org_with_words(server: &TestServer) -> (Dev, String) {
    let (_, code) = server.new_org();
    let mut admin = Dev::new("Admin");
    let e = wardside_sync_client::enroll(
        &mut admin.store,
        &server.url,
        &code,
        "admin laptop",
        &opts(),
    )
    .unwrap();
    let words = e.recovery.unwrap().words().to_string();
    (admin, words)
}

/// What the service holds, counted (SQLite): trust statements and devices.
fn service_counts(server: &TestServer) -> (u64, u64) {
    let conn = rusqlite::Connection::open(server.dir.path().join("server.db")).unwrap();
    let count = |table: &str| {
        conn.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| {
            r.get::<_, i64>(0)
        })
        .unwrap()
        .unsigned_abs()
    };
    (count("trust_statement"), count("device"))
}

fn untouched(laptop: &Dev) {
    assert!(laptop.store.sync_config().unwrap().is_none());
    assert!(laptop.store.trust_statements().unwrap().is_empty());
    assert!(laptop.store.team_keys().unwrap().is_empty());
}

#[test]
fn the_recovery_words_make_a_new_laptop_the_admin_after_every_admin_laptop_is_lost() {
    for backend in backends() {
        eprintln!("--- backend {backend}");
        let server = TestServer::start_own(backend);
        let (mut admin, words) = org_with_words(&server);
        let org_id = admin.store.sync_config().unwrap().unwrap().org_id;
        let mut bea = join(&server, &mut admin, "Bea");
        let cal = join(&server, &mut admin, "Cal");

        // Epoch 1: notes from the admin and from Bea.
        let (_, case) = admin.client_with_case("Jo Example");
        let first = admin.note(case, "Written under the first key.");
        admin.sync();
        bea.sync();
        let beas = bea.note(case, "Bea, under the first key.");
        bea.sync();
        // Cal is revoked: a second epoch, and a note under it.
        wardside_sync_client::revoke(&mut admin.store, cal.id(), &opts()).unwrap();
        let second = admin.note(case, "Written under the second key.");
        admin.sync();
        bea.sync();
        assert_eq!(bea.text(second), "Written under the second key.");

        // Every admin laptop is lost.
        drop(admin);

        // The words on a new laptop, typed as someone copying from paper would.
        let mut new = Dev::new("Replacement");
        let typed = words.split_whitespace().collect::<Vec<_>>().join("\n  ");
        let r = recover(
            &mut new.store,
            &server.url,
            &typed,
            "Replacement laptop",
            &opts(),
        )
        .unwrap();
        assert_eq!(r.org_id, org_id);
        assert_eq!(r.device_id, new.id());
        assert_eq!(r.team_keys, 2, "both epochs' keys, opened with the words");
        let config = new.store.sync_config().unwrap().unwrap();
        assert!(config.admin && config.status == "approved");
        assert_eq!(
            Some(r.org_fingerprint.clone()),
            wardside_sync_client::org_fingerprint_of(&bea.store.sync_config().unwrap().unwrap()),
            "the same organisation (id and root) as every other laptop of it"
        );
        // It granted the keys to itself, as an admin.
        assert_eq!(server.grants_for(org_id, r.device_id).len(), 2);

        // It reads the notes of every epoch.
        new.sync();
        assert_eq!(new.text(first), "Written under the first key.");
        assert_eq!(new.text(beas), "Bea, under the first key.");
        assert_eq!(new.text(second), "Written under the second key.");

        // Bea's laptop believes it: the log says an admin, made by the recovery key.
        bea.sync();
        let seen = wardside_sync_client::devices(&mut bea.store, &opts()).unwrap();
        let me = seen.iter().find(|d| d.device_id == r.device_id).unwrap();
        assert!(me.admin);
        assert_eq!(me.fingerprint, r.fingerprint);

        // It approves a new device, which syncs and reads everything.
        let mut dee = join(&server, &mut new, "Dee");
        dee.sync();
        assert_eq!(dee.text(first), "Written under the first key.");
        assert_eq!(dee.text(second), "Written under the second key.");
        let later = dee.note(case, "Dee, after the recovery.");
        dee.sync();
        bea.sync();
        new.sync();
        assert_eq!(bea.text(later), "Dee, after the recovery.");
        assert_eq!(new.text(later), "Dee, after the recovery.");

        // And it revokes one: Bea's laptop, which reads its own revocation and wipes itself.
        wardside_sync_client::revoke(&mut new.store, bea.id(), &opts()).unwrap();
        let err = bea.try_sync().unwrap_err();
        assert!(matches!(err, SyncError::Revoked { .. }), "{err}");
        dee.sync();
        let after = new.note(case, "After Bea left.");
        new.sync();
        dee.sync();
        assert_eq!(dee.text(after), "After Bea left.");
    }
}

#[test]
fn wrong_recovery_words_are_refused_with_a_clear_error_and_change_nothing() {
    let server = TestServer::start_own("sqlite");
    let (mut admin, words) = org_with_words(&server);
    let mut bea = join(&server, &mut admin, "Bea");
    let before = service_counts(&server);
    let mut laptop = Dev::new("Replacement");

    // A typo: a word that is not on the list.
    let mut list: Vec<&str> = words.split_whitespace().collect();
    list[7] = "harbourr";
    let err = recover(
        &mut laptop.store,
        &server.url,
        &list.join(" "),
        "x",
        &opts(),
    )
    .unwrap_err();
    assert!(matches!(err, SyncError::RecoveryWords(_)), "{err}");
    assert!(err.to_string().contains("check each word"), "{err}");
    // Twenty-three words.
    let short = words
        .split_whitespace()
        .skip(1)
        .collect::<Vec<_>>()
        .join(" ");
    let err = recover(&mut laptop.store, &server.url, &short, "x", &opts()).unwrap_err();
    assert!(matches!(err, SyncError::RecoveryWords(_)), "{err}");

    // Valid words (their checksum holds) of another organisation, on another service.
    let elsewhere = TestServer::start_own("sqlite");
    let (_, other_words) = org_with_words(&elsewhere);
    let err = recover(&mut laptop.store, &server.url, &other_words, "x", &opts()).unwrap_err();
    assert!(matches!(err, SyncError::RecoveryWordsUnknown), "{err}");
    assert!(err.to_string().contains("nothing was changed"), "{err}");

    assert_eq!(service_counts(&server), before, "the service is as it was");
    untouched(&laptop);
    // The admin's laptop sees nothing new either.
    admin.sync();
    assert_eq!(
        admin.store.trust_statements().unwrap().len() as u64,
        before.0
    );

    // The right words still work afterwards.
    recover(
        &mut laptop.store,
        &server.url,
        &words,
        "Replacement",
        &opts(),
    )
    .unwrap();
    assert_eq!(service_counts(&server).0, before.0 + 1);
    // A laptop enrolled as a member is not recovered over; the recovered laptop, asked again,
    // only fetches its keys again (no second recovery).
    let err = recover(&mut bea.store, &server.url, &words, "again", &opts()).unwrap_err();
    assert!(matches!(err, SyncError::Refused(_)), "{err}");
    recover(&mut laptop.store, &server.url, &words, "again", &opts()).unwrap();
    assert_eq!(service_counts(&server).0, before.0 + 1);
}

#[test]
fn a_recovery_is_checked_by_the_service_as_devices_check_it() {
    use wardside_sync::keys::DeviceSigningKey;
    use wardside_sync::recovery::{RecoverRequest, recover_proof};
    use wardside_sync::trust::{Body, DeviceKeys, SignedStatement, TrustState};
    use wardside_sync::wrap::BoxSecret;

    let server = TestServer::start_own("sqlite");
    let (admin, _words) = org_with_words(&server);
    let org_id = admin.store.sync_config().unwrap().unwrap().org_id;
    let before = service_counts(&server);
    let log: Vec<SignedStatement> = admin
        .store
        .trust_statements()
        .unwrap()
        .iter()
        .map(|j| serde_json::from_str(j).unwrap())
        .collect();
    let Body::Genesis { admin: root, .. } = &log[0].statement.body else {
        panic!("no genesis");
    };
    let state = TrustState::from_log(&log, org_id, &root.sign_key).unwrap();
    let key = DeviceSigningKey::generate().unwrap();
    let device = DeviceKeys {
        device_id: Uuid::new_v4(),
        sign_key: key.public_key(),
        box_key: BoxSecret::generate().unwrap().public_key(),
    };
    let body = Body::Recover {
        device,
        name: "forged".into(),
        teams: state.teams(),
    };
    let post = |req: &RecoverRequest| {
        reqwest::blocking::Client::new()
            .post(format!("{}/v1/recover", server.url))
            .body(serde_json::to_vec(req).unwrap())
            .send()
            .unwrap()
            .status()
            .as_u16()
    };
    // Signed by other words (anyone can make some): refused.
    let other = wardside_sync::recovery::RecoverySecret::generate().unwrap();
    let s = state.next(org_id, 0, body.clone()).sign_as_recovery(&other);
    let req = RecoverRequest {
        proof: recover_proof(&key, &s.statement),
        statement: s,
    };
    assert_eq!(post(&req), 403);
    // The right shape, but the proof is by another device key: refused.
    let mut wrong_proof = req.clone();
    wrong_proof.proof = recover_proof(
        &DeviceSigningKey::generate().unwrap(),
        &req.statement.statement,
    );
    assert_eq!(post(&wrong_proof), 403);
    assert_eq!(service_counts(&server), before);

    // The unsigned recovery routes share one budget: a stranger trying keys is soon told to
    // wait (and learns nothing meanwhile but "no such organisation").
    let statuses: Vec<u16> = (0..25)
        .map(|i| {
            reqwest::blocking::Client::new()
                .post(format!("{}/v1/recover/log", server.url))
                .body(
                    serde_json::to_vec(&serde_json::json!({ "recovery_key": base64_of(&[i; 32]) }))
                        .unwrap(),
                )
                .send()
                .unwrap()
                .status()
                .as_u16()
        })
        .collect();
    assert!(
        statuses.iter().all(|s| *s == 404 || *s == 429),
        "{statuses:?}"
    );
    assert!(
        statuses.iter().filter(|s| **s == 404).count() <= 20,
        "{statuses:?}"
    );
    assert_eq!(statuses.last(), Some(&429));
}

fn base64_of(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[test]
fn a_log_that_does_not_name_the_recovery_signing_key_is_refused_until_an_admin_gives_it() {
    // The first admin's statement naming the words' signing key does not reach the service (the
    // fifth trust request of the enrolment, its publication, is refused): the service's log is
    // then that of an organisation set up before recovery existed.
    let server = TestServer::start_own("sqlite");
    for _ in 0..4 {
        server.fault("/v1/trust", Fault::Latency(0));
    }
    server.fault("/v1/trust", Fault::Respond(400, "refused"));
    let (mut admin, words) = org_with_words(&server);
    server.calm();
    let before = service_counts(&server);
    assert_eq!(before.0, 2, "genesis and the first key epoch only");

    let mut laptop = Dev::new("Replacement");
    let err = recover(&mut laptop.store, &server.url, &words, "x", &opts()).unwrap_err();
    assert!(matches!(err, SyncError::RecoveryNotEnabled), "{err}");
    assert!(err.to_string().contains("nothing was changed"), "{err}");
    assert_eq!(service_counts(&server), before);
    untouched(&laptop);

    // Wrong words on the admin's laptop turn nothing on.
    let elsewhere = TestServer::start_own("sqlite");
    let (_, other_words) = org_with_words(&elsewhere);
    let err =
        wardside_sync_client::enable_recovery(&mut admin.store, &other_words, &opts()).unwrap_err();
    assert!(matches!(err, SyncError::RecoveryWordsUnknown), "{err}");

    // The admin's laptop gives the statement back at its next contact; the words then work.
    wardside_sync_client::enable_recovery(&mut admin.store, &words, &opts()).unwrap();
    assert_eq!(service_counts(&server).0, 3);
    recover(
        &mut laptop.store,
        &server.url,
        &words,
        "Replacement",
        &opts(),
    )
    .unwrap();
    assert!(laptop.store.sync_config().unwrap().unwrap().admin);
}

#[test]
fn a_recovery_that_loses_a_race_for_the_logs_next_place_reads_the_log_and_signs_again() {
    let server = TestServer::start_own("sqlite");
    let (_admin, words) = org_with_words(&server);
    let before = service_counts(&server);
    // Three times the log's next place was taken (409): the laptop gives up, keeping nothing.
    let mut laptop = Dev::new("Replacement");
    for _ in 0..3 {
        server.fault("/v1/recover/log", Fault::Latency(0));
        server.fault(
            "/v1/recover",
            Fault::Respond(409, "the organisation changed meanwhile"),
        );
    }
    let err = recover(&mut laptop.store, &server.url, &words, "x", &opts()).unwrap_err();
    assert!(matches!(err, SyncError::Refused(_)), "{err}");
    assert!(err.to_string().contains("try again"), "{err}");
    untouched(&laptop);
    assert_eq!(service_counts(&server), before);
    // Twice, then the service takes it.
    for _ in 0..2 {
        server.fault("/v1/recover/log", Fault::Latency(0));
        server.fault(
            "/v1/recover",
            Fault::Respond(409, "the organisation changed meanwhile"),
        );
    }
    recover(
        &mut laptop.store,
        &server.url,
        &words,
        "Replacement",
        &opts(),
    )
    .unwrap();
    assert_eq!(service_counts(&server), (before.0 + 1, before.1 + 1));
    server.calm();
}

#[test]
fn a_recovery_cut_short_before_the_keys_arrive_is_finished_by_running_it_again() {
    let server = TestServer::start_own("sqlite");
    let (mut admin, words) = org_with_words(&server);
    let (_, case) = admin.client_with_case("Jo Example");
    let note = admin.note(case, "Before the laptop was lost.");
    admin.sync();
    drop(admin);
    let mut laptop = Dev::new("Replacement");
    server.fault("/v1/recover/keys", Fault::Respond(403, "refused"));
    assert!(recover(&mut laptop.store, &server.url, &words, "New", &opts()).is_err());
    // The service made it the admin, and it kept that; without keys it reads nothing yet.
    assert!(laptop.store.sync_config().unwrap().unwrap().admin);
    assert!(laptop.store.team_keys().unwrap().is_empty());
    let statements = service_counts(&server).0;
    // The words again: the keys, and no second recovery.
    let r = recover(&mut laptop.store, &server.url, &words, "New", &opts()).unwrap();
    assert_eq!(r.team_keys, 1);
    assert_eq!(service_counts(&server).0, statements);
    laptop.sync();
    assert_eq!(laptop.text(note), "Before the laptop was lost.");
}
