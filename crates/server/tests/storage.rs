//! The storage suite: every backend must give these answers. Runs on SQLite (a real file) and
//! on PostgreSQL (`WARDSIDE_TEST_POSTGRES=postgres://...`, which `scripts/test.sh` sets after
//! starting the machine's server; under CI the PostgreSQL run is required).
#![allow(clippy::unwrap_used)]

use uuid::Uuid;
use wardside_server::storage::Storage;
use wardside_server::storage::postgres::PostgresStorage;
use wardside_server::storage::sqlite::SqliteStorage;
use wardside_sync::protocol::{PushStatus, Rejection};
use wardside_sync::{DeviceSigningKey, Envelope, KeyId, Routing, TeamKey};

const NOW: i64 = 1_764_064_800_000;

struct World {
    org: Uuid,
    team: TeamKey,
    other_team: TeamKey,
    device: Uuid,
    key: DeviceSigningKey,
}

fn world() -> World {
    let team_id = Uuid::new_v4();
    let other = Uuid::new_v4();
    World {
        org: Uuid::new_v4(),
        team: TeamKey::generate(KeyId { team_id, epoch: 1 }).unwrap(),
        other_team: TeamKey::generate(KeyId {
            team_id: other,
            epoch: 1,
        })
        .unwrap(),
        device: Uuid::new_v4(),
        key: DeviceSigningKey::generate().unwrap(),
    }
}

impl World {
    fn op(&self, seq: u64, team: &TeamKey, content: &str, hlc_ms: i64) -> Envelope {
        Envelope::seal(
            Routing {
                org_id: self.org,
                team_id: team.id.team_id,
                case_id: Some(Uuid::new_v4()),
                entity: "note".into(),
                entity_id: Uuid::new_v4(),
                op_id: Uuid::new_v4(),
                device_id: self.device,
                device_seq: seq,
                hlc: format!("{hlc_ms:016}-0000-device"),
                kid: team.id,
                schema_v: 1,
            },
            content.as_bytes(),
            team,
            &self.key,
        )
        .unwrap()
    }

    fn ops(&self, seqs: std::ops::RangeInclusive<u64>) -> Vec<Envelope> {
        seqs.map(|s| self.op(s, &self.team, &format!("note {s}"), NOW))
            .collect()
    }
}

async fn a_lost_reply_is_safe_to_resend_and_a_changed_resend_is_refused(s: &impl Storage) {
    let w = world();
    let batch = w.ops(1..=3);
    let first = s.push(w.org, batch.clone(), NOW).await.unwrap();
    assert!(first.iter().all(|r| r.status == PushStatus::Accepted));
    let seqs: Vec<i64> = first.iter().map(|r| r.server_seq.unwrap()).collect();
    assert!(seqs.windows(2).all(|p| p[0] < p[1]), "cursors increase");

    // The reply was lost: the same batch again is three duplicates with the same cursors.
    let again = s.push(w.org, batch.clone(), NOW).await.unwrap();
    assert!(again.iter().all(|r| r.status == PushStatus::Duplicate));
    assert_eq!(
        again
            .iter()
            .map(|r| r.server_seq.unwrap())
            .collect::<Vec<_>>(),
        seqs
    );

    // The same (device, seq) with other content is refused, never dropped, and changes nothing.
    let changed = w.op(2, &w.team, "a different note 2", NOW);
    let r = s.push(w.org, vec![changed], NOW).await.unwrap();
    assert_eq!(r[0].status, PushStatus::Rejected);
    assert_eq!(r[0].rejection, Some(Rejection::SeqConflict));
    let page = s
        .pull(w.org, vec![w.team.id.team_id], 0, 100, NOW)
        .await
        .unwrap();
    assert_eq!(page.ops.len(), 3);
    assert_eq!(page.ops[1].envelope, batch[1]);
}

async fn a_device_cannot_skip_a_sequence_number(s: &impl Storage) {
    let w = world();
    s.push(w.org, w.ops(1..=2), NOW).await.unwrap();
    let r = s.push(w.org, w.ops(4..=5), NOW).await.unwrap();
    assert_eq!(r[0].rejection, Some(Rejection::Gap { expected: 3 }));
    assert_eq!(r[1].rejection, Some(Rejection::Gap { expected: 3 }));
    // Filling the gap in one batch works, in order.
    let r = s.push(w.org, w.ops(3..=5), NOW).await.unwrap();
    assert!(r.iter().all(|r| r.status == PushStatus::Accepted));
}

async fn a_clock_more_than_a_day_ahead_is_refused(s: &impl Storage) {
    let w = world();
    let ahead = w.op(1, &w.team, "from the future", NOW + 25 * 3600 * 1000);
    let r = s.push(w.org, vec![ahead], NOW).await.unwrap();
    assert_eq!(
        r[0].rejection,
        Some(Rejection::ClockAhead {
            server_time_ms: NOW
        })
    );
    let fine = w.op(
        1,
        &w.team,
        "23 hours ahead is accepted",
        NOW + 23 * 3600 * 1000,
    );
    let r = s.push(w.org, vec![fine], NOW).await.unwrap();
    assert_eq!(r[0].status, PushStatus::Accepted);
}

async fn pull_pages_by_cursor_and_sees_only_its_teams_and_organisation(s: &impl Storage) {
    let w = world();
    let mut batch = Vec::new();
    for seq in 1..=7 {
        let team = if seq % 2 == 0 { &w.other_team } else { &w.team };
        batch.push(w.op(seq, team, &format!("op {seq}"), NOW));
    }
    s.push(w.org, batch.clone(), NOW).await.unwrap();

    // Pages of 2 over the first team: ops 1, 3, 5, 7.
    let team = vec![w.team.id.team_id];
    let mut after = 0;
    let mut seen = Vec::new();
    loop {
        let page = s.pull(w.org, team.clone(), after, 2, NOW).await.unwrap();
        assert!(page.ops.len() <= 2);
        seen.extend(page.ops.iter().map(|o| o.envelope.routing.device_seq));
        after = page.next_after;
        if !page.has_more {
            break;
        }
    }
    assert_eq!(seen, [1, 3, 5, 7]);
    // Another organisation sees nothing of it, even naming the same team.
    let stranger = s
        .pull(Uuid::new_v4(), team.clone(), 0, 100, NOW)
        .await
        .unwrap();
    assert!(stranger.ops.is_empty());

    let heads = s
        .heads(w.org, vec![w.team.id.team_id, w.other_team.id.team_id])
        .await
        .unwrap();
    assert_eq!(heads.devices.get(&w.device), Some(&7));
    let heads = s.heads(w.org, team).await.unwrap();
    assert_eq!(heads.devices.get(&w.device), Some(&7));
}

async fn the_server_never_holds_plaintext(s: &impl Storage, files: impl Fn() -> Vec<Vec<u8>>) {
    let w = world();
    let canary = "CANARYSERVER-she-wants-leave";
    s.push(w.org, vec![w.op(1, &w.team, canary, NOW)], NOW)
        .await
        .unwrap();
    for bytes in files() {
        assert!(!bytes.windows(canary.len()).any(|x| x == canary.as_bytes()));
    }
}

async fn many_devices_pushing_at_once_all_land_and_a_reader_misses_none<S: Storage + Clone>(s: &S) {
    let org = Uuid::new_v4();
    let team = TeamKey::generate(KeyId {
        team_id: Uuid::new_v4(),
        epoch: 1,
    })
    .unwrap();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..20 {
        let s = s.clone();
        let w = World {
            org,
            team: team.clone(),
            other_team: team.clone(),
            device: Uuid::new_v4(),
            key: DeviceSigningKey::generate().unwrap(),
        };
        tasks.spawn(async move {
            for batch in [1..=5, 6..=10] {
                let r = s.push(w.org, w.ops(batch), NOW).await.unwrap();
                assert!(r.iter().all(|r| r.status == PushStatus::Accepted));
            }
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.unwrap();
    }
    let mut after = 0;
    let mut cursors = Vec::new();
    loop {
        let page = s
            .pull(org, vec![team.id.team_id], after, 37, NOW)
            .await
            .unwrap();
        cursors.extend(page.ops.iter().map(|o| o.server_seq));
        after = page.next_after;
        if !page.has_more {
            break;
        }
    }
    assert_eq!(cursors.len(), 200);
    assert!(cursors.windows(2).all(|p| p[0] < p[1]));
}

async fn devices_are_kept_and_revocation_is_recorded(s: &impl Storage) {
    use wardside_server::storage::{Device, DeviceStatus};
    let org = Uuid::new_v4();
    s.create_org(org, "Riverside Advocacy".into())
        .await
        .unwrap();
    let key = DeviceSigningKey::generate().unwrap();
    let d = Device {
        id: Uuid::new_v4(),
        org_id: org,
        name: "Ann's laptop".into(),
        sign_key: key.public_key(),
        box_key: [9; 32],
        status: DeviceStatus::Pending,
        admin: false,
        teams: vec![Uuid::new_v4(), Uuid::new_v4()],
    };
    s.add_device(d.clone()).await.unwrap();
    assert_eq!(s.device(d.id).await.unwrap(), Some(d.clone()));
    assert!(
        s.set_device_status(d.id, DeviceStatus::Revoked)
            .await
            .unwrap()
    );
    assert_eq!(
        s.device(d.id).await.unwrap().unwrap().status,
        DeviceStatus::Revoked
    );
    assert!(
        !s.set_device_status(Uuid::new_v4(), DeviceStatus::Approved)
            .await
            .unwrap()
    );
    assert_eq!(s.device(Uuid::new_v4()).await.unwrap(), None);
    // A second device with the same id is refused.
    assert!(s.add_device(d).await.is_err());
}

async fn an_enrolment_code_works_once_and_not_after_it_expires(s: &impl Storage) {
    use wardside_server::storage::EnrolmentCode;
    let org = Uuid::new_v4();
    s.create_org(org, "Org".into()).await.unwrap();
    // Random hashes, so the suite can run twice against one database.
    let h = || Uuid::new_v4().as_bytes().to_vec();
    let (h1, h2, h3) = (h(), h(), h());
    let code = EnrolmentCode {
        code_hash: h1.clone(),
        org_id: org,
        admin: true,
        teams: vec![org],
        expires_ms: NOW + 1000,
    };
    s.add_enrolment_code(code.clone()).await.unwrap();
    assert_eq!(
        s.take_enrolment_code(h1.clone(), NOW).await.unwrap(),
        Some(code.clone())
    );
    assert_eq!(s.take_enrolment_code(h1, NOW).await.unwrap(), None);
    let late = EnrolmentCode {
        code_hash: h2.clone(),
        ..code
    };
    s.add_enrolment_code(late).await.unwrap();
    assert_eq!(s.take_enrolment_code(h2, NOW + 1000).await.unwrap(), None);
    assert_eq!(s.take_enrolment_code(h3, NOW).await.unwrap(), None);
}

async fn key_wraps_are_kept_per_recipient_and_never_replaced(s: &impl Storage) {
    use wardside_sync::wrap::{BoxSecret, unwrap, wrap};
    let org = Uuid::new_v4();
    let team = TeamKey::generate(KeyId {
        team_id: Uuid::new_v4(),
        epoch: 1,
    })
    .unwrap();
    let (laptop, phone) = (Uuid::new_v4(), Uuid::new_v4());
    let (ls, ps) = (
        BoxSecret::generate().unwrap(),
        BoxSecret::generate().unwrap(),
    );
    let w1 = wrap(&team, laptop, &ls.public_key()).unwrap();
    let w2 = wrap(&team, phone, &ps.public_key()).unwrap();
    s.add_key_wraps(org, vec![w1.clone(), w2]).await.unwrap();
    // A second wrap for the same slot does not replace the first.
    let again = wrap(&team, laptop, &ls.public_key()).unwrap();
    s.add_key_wraps(org, vec![again]).await.unwrap();
    let mine = s.key_wraps_for(org, laptop).await.unwrap();
    assert_eq!(mine, vec![w1]);
    assert_eq!(unwrap(&mine[0], laptop, &ls).unwrap().id, team.id);
    assert!(
        s.key_wraps_for(Uuid::new_v4(), laptop)
            .await
            .unwrap()
            .is_empty()
    );
}

async fn suite<S: Storage + Clone>(s: &S, files: impl Fn() -> Vec<Vec<u8>>) {
    key_wraps_are_kept_per_recipient_and_never_replaced(s).await;
    an_enrolment_code_works_once_and_not_after_it_expires(s).await;
    devices_are_kept_and_revocation_is_recorded(s).await;
    many_devices_pushing_at_once_all_land_and_a_reader_misses_none(s).await;
    a_lost_reply_is_safe_to_resend_and_a_changed_resend_is_refused(s).await;
    a_device_cannot_skip_a_sequence_number(s).await;
    a_clock_more_than_a_day_ahead_is_refused(s).await;
    pull_pages_by_cursor_and_sees_only_its_teams_and_organisation(s).await;
    the_server_never_holds_plaintext(s, files).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_backend_passes_the_storage_suite_and_keeps_ops_across_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("server.db");
    let s = SqliteStorage::open(&path).unwrap();
    let files = || {
        std::fs::read_dir(dir.path())
            .unwrap()
            .flatten()
            .map(|e| std::fs::read(e.path()).unwrap_or_default())
            .collect()
    };
    suite(&s, files).await;

    // A restart: what was accepted is still there, and duplicates are still recognised.
    let w = world();
    let batch = w.ops(1..=2);
    s.push(w.org, batch.clone(), NOW).await.unwrap();
    drop(s);
    let s = SqliteStorage::open(&path).unwrap();
    let r = s.push(w.org, batch, NOW).await.unwrap();
    assert!(r.iter().all(|r| r.status == PushStatus::Duplicate));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_backend_passes_the_storage_suite() {
    let Ok(url) = std::env::var("WARDSIDE_TEST_POSTGRES") else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must run the PostgreSQL suite: set WARDSIDE_TEST_POSTGRES"
        );
        eprintln!("PostgreSQL suite skipped: set WARDSIDE_TEST_POSTGRES=postgres://... to run it");
        return;
    };
    let s = PostgresStorage::open(&url).await.unwrap();
    // Opening again finds the schema in place.
    let s2 = PostgresStorage::open(&url).await.unwrap();
    drop(s2);
    // The whole database as a dump, for the plaintext check.
    let dump = || {
        let out = std::process::Command::new("pg_dump")
            .arg("--data-only")
            .arg(&url)
            .output()
            .expect("pg_dump runs");
        assert!(out.status.success(), "pg_dump failed");
        vec![out.stdout]
    };
    suite(&s, dump).await;
}
