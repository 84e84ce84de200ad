//! The storage suite: every backend must give these answers. Runs on SQLite (a real file) and
//! on PostgreSQL (`WARDSIDE_TEST_POSTGRES=postgres://...`, which `scripts/test.sh` sets after
//! starting the machine's server; under CI the PostgreSQL run is required).
#![allow(clippy::unwrap_used)]

use std::collections::HashMap;
use std::sync::Mutex;
use uuid::Uuid;
use wardside_server::storage::Storage;
use wardside_server::storage::postgres::PostgresStorage;
use wardside_server::storage::sqlite::SqliteStorage;
use wardside_sync::envelope::{ChainLink, hlc_device_part};
use wardside_sync::protocol::{PushStatus, Rejection};
use wardside_sync::{DeviceSigningKey, Envelope, KeyId, Routing, TeamKey};

const NOW: i64 = 1_764_064_800_000;

struct World {
    org: Uuid,
    team: TeamKey,
    other_team: TeamKey,
    device: Uuid,
    key: DeviceSigningKey,
    /// The device's chain in each team so far: the last link's place and hash.
    chains: Mutex<HashMap<Uuid, (u64, [u8; 32])>>,
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
        chains: Mutex::default(),
    }
}

impl World {
    /// The device's next op in `team`: linked to the one it made before there.
    fn op(&self, seq: u64, team: &TeamKey, content: &str, hlc_ms: i64) -> Envelope {
        let (n, prev) = self
            .chains
            .lock()
            .unwrap()
            .get(&team.id.team_id)
            .copied()
            .unwrap_or((0, [0; 32]));
        let env = self.op_linked(seq, team, content, hlc_ms, ChainLink { seq: n + 1, prev });
        self.chains
            .lock()
            .unwrap()
            .insert(team.id.team_id, (n + 1, env.hash32().unwrap()));
        env
    }

    /// An op with the chain link given.
    fn op_linked(
        &self,
        seq: u64,
        team: &TeamKey,
        content: &str,
        hlc_ms: i64,
        chain: ChainLink,
    ) -> Envelope {
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
                hlc: format!("{hlc_ms:016}-0000-{}", hlc_device_part(&self.device)),
                kid: team.id,
                schema_v: 1,
                chain: Some(chain),
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
    let first = s.push(w.org, w.device, batch.clone(), NOW).await.unwrap();
    assert!(first.iter().all(|r| r.status == PushStatus::Accepted));
    let seqs: Vec<i64> = first.iter().map(|r| r.server_seq.unwrap()).collect();
    assert!(seqs.windows(2).all(|p| p[0] < p[1]), "cursors increase");

    // The reply was lost: the same batch again is three duplicates with the same cursors.
    let again = s.push(w.org, w.device, batch.clone(), NOW).await.unwrap();
    assert!(again.iter().all(|r| r.status == PushStatus::Duplicate));
    assert_eq!(
        again
            .iter()
            .map(|r| r.server_seq.unwrap())
            .collect::<Vec<_>>(),
        seqs
    );

    // The same (device, seq) with other content is refused, never dropped, and changes nothing.
    let changed = w.op_linked(
        2,
        &w.team,
        "a different note 2",
        NOW,
        ChainLink {
            seq: 2,
            prev: batch[0].hash32().unwrap(),
        },
    );
    let r = s.push(w.org, w.device, vec![changed], NOW).await.unwrap();
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
    let all = w.ops(1..=5);
    s.push(w.org, w.device, all[..2].to_vec(), NOW)
        .await
        .unwrap();
    let r = s
        .push(w.org, w.device, all[3..].to_vec(), NOW)
        .await
        .unwrap();
    assert_eq!(r[0].rejection, Some(Rejection::Gap { expected: 3 }));
    assert_eq!(r[1].rejection, Some(Rejection::Gap { expected: 3 }));
    // Filling the gap in one batch works, in order.
    let r = s
        .push(w.org, w.device, all[2..].to_vec(), NOW)
        .await
        .unwrap();
    assert!(r.iter().all(|r| r.status == PushStatus::Accepted));
}

async fn an_op_must_follow_its_devices_chain(s: &impl Storage) {
    let w = world();
    let all = w.ops(1..=2);
    s.push(w.org, w.device, all.clone(), NOW).await.unwrap();
    let tip = all[1].hash32().unwrap();
    // The next op naming another op before it, or skipping a place, or with no link at all.
    for (chain, why) in [
        (
            ChainLink {
                seq: 3,
                prev: [7; 32],
            },
            "names the wrong op before it",
        ),
        (ChainLink { seq: 5, prev: tip }, "skips places"),
    ] {
        let op = w.op_linked(3, &w.team, "next", NOW, chain);
        let r = s.push(w.org, w.device, vec![op], NOW).await.unwrap();
        assert_eq!(
            r[0].rejection,
            Some(Rejection::BadChain { expected: 3 }),
            "{why}"
        );
    }
    let mut unlinked = w.op_linked(3, &w.team, "x", NOW, ChainLink { seq: 3, prev: tip });
    unlinked.routing.chain = None;
    let r = s.push(w.org, w.device, vec![unlinked], NOW).await.unwrap();
    assert_eq!(r[0].status, PushStatus::Rejected);
    // An HLC that is not in its one exact form (it would sort wrongly as text).
    let mut sloppy = w.op_linked(3, &w.team, "x", NOW, ChainLink { seq: 3, prev: tip });
    sloppy.routing.hlc = format!("{NOW}-0000-{}", hlc_device_part(&w.device));
    let r = s.push(w.org, w.device, vec![sloppy], NOW).await.unwrap();
    assert_eq!(r[0].rejection, Some(Rejection::BadEnvelope));
    // The right link is taken.
    let right = w.op_linked(3, &w.team, "x", NOW, ChainLink { seq: 3, prev: tip });
    let r = s.push(w.org, w.device, vec![right], NOW).await.unwrap();
    assert_eq!(r[0].status, PushStatus::Accepted);
}

async fn a_clock_more_than_a_day_ahead_is_refused(s: &impl Storage) {
    let w = world();
    let ahead = w.op(1, &w.team, "from the future", NOW + 25 * 3600 * 1000);
    let r = s.push(w.org, w.device, vec![ahead], NOW).await.unwrap();
    assert_eq!(
        r[0].rejection,
        Some(Rejection::ClockAhead {
            server_time_ms: NOW
        })
    );
    let fine = w.op_linked(
        1,
        &w.team,
        "23 hours ahead is accepted",
        NOW + 23 * 3600 * 1000,
        ChainLink {
            seq: 1,
            prev: [0; 32],
        },
    );
    let r = s.push(w.org, w.device, vec![fine], NOW).await.unwrap();
    assert_eq!(r[0].status, PushStatus::Accepted);
}

async fn pull_pages_by_cursor_and_sees_only_its_teams_and_organisation(s: &impl Storage) {
    let w = world();
    let mut batch = Vec::new();
    for seq in 1..=7 {
        let team = if seq % 2 == 0 { &w.other_team } else { &w.team };
        batch.push(w.op(seq, team, &format!("op {seq}"), NOW));
    }
    s.push(w.org, w.device, batch.clone(), NOW).await.unwrap();

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
    let of = |team: Uuid| {
        heads
            .iter()
            .find(|h| h.device_id == w.device && h.team_id == team)
            .cloned()
            .unwrap()
    };
    let a = of(w.team.id.team_id);
    assert_eq!((a.max_seq, a.ops, a.chain_seq), (7, 4, 4));
    let b = of(w.other_team.id.team_id);
    assert_eq!((b.max_seq, b.ops, b.chain_seq), (6, 3, 3));
    let heads = s.heads(w.org, team).await.unwrap();
    assert_eq!(heads.len(), 1, "only the teams asked for");
}

async fn the_server_never_holds_plaintext(s: &impl Storage, files: impl Fn() -> Vec<Vec<u8>>) {
    let w = world();
    let canary = "CANARYSERVER-she-wants-leave";
    s.push(w.org, w.device, vec![w.op(1, &w.team, canary, NOW)], NOW)
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
            chains: Mutex::default(),
        };
        tasks.spawn(async move {
            let all = w.ops(1..=10);
            for batch in [&all[..5], &all[5..]] {
                let r = s.push(w.org, w.device, batch.to_vec(), NOW).await.unwrap();
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

async fn devices_are_kept_and_trust_statements_approve_and_revoke_them(s: &impl Storage) {
    use wardside_server::storage::{Appended, Device, DeviceChange, DeviceStatus};
    let org = Uuid::new_v4();
    s.create_org(org, "Riverside Advocacy".into())
        .await
        .unwrap();
    let key = DeviceSigningKey::generate().unwrap();
    let teams = vec![Uuid::new_v4(), Uuid::new_v4()];
    let d = Device {
        id: Uuid::new_v4(),
        org_id: org,
        name: "Ann's laptop".into(),
        sign_key: key.public_key(),
        box_key: [9; 32],
        status: DeviceStatus::Pending,
        admin: false,
        teams: teams.clone(),
    };
    s.add_device(d.clone()).await.unwrap();
    assert_eq!(s.device(d.id).await.unwrap(), Some(d.clone()));
    // A statement is kept with its effect, in one go; its number is taken once.
    let approve = DeviceChange::Approve {
        device: d.id,
        admin: true,
        teams: vec![teams[0]],
    };
    assert_eq!(
        s.append_statement(org, 1, "{\"n\":1}".into(), approve.clone())
            .await
            .unwrap(),
        Appended::Yes
    );
    let now = s.device(d.id).await.unwrap().unwrap();
    assert_eq!(
        (now.status, now.admin, now.teams.clone()),
        (DeviceStatus::Approved, true, vec![teams[0]])
    );
    assert_eq!(
        s.append_statement(
            org,
            1,
            "{\"n\":\"again\"}".into(),
            DeviceChange::Revoke { device: d.id }
        )
        .await
        .unwrap(),
        Appended::SeqTaken
    );
    assert_eq!(
        s.device(d.id).await.unwrap().unwrap().status,
        DeviceStatus::Approved,
        "a refused statement changes nothing"
    );
    s.append_statement(
        org,
        2,
        "{\"n\":2}".into(),
        DeviceChange::Revoke { device: d.id },
    )
    .await
    .unwrap();
    let now = s.device(d.id).await.unwrap().unwrap();
    assert_eq!((now.status, now.admin), (DeviceStatus::Revoked, false));
    assert_eq!(
        s.trust_log(org, 0, 10).await.unwrap(),
        vec!["{\"n\":1}".to_owned(), "{\"n\":2}".to_owned()]
    );
    assert_eq!(s.trust_log(org, 1, 10).await.unwrap().len(), 1);
    assert!(s.trust_log(Uuid::new_v4(), 0, 10).await.unwrap().is_empty());
    assert_eq!(s.device(Uuid::new_v4()).await.unwrap(), None);
    // A second device with the same id is refused.
    assert!(s.add_device(d).await.is_err());
}

async fn a_request_nonce_is_good_once_until_it_expires(s: &impl Storage) {
    let device = Uuid::new_v4();
    let nonce = Uuid::new_v4().simple().to_string();
    assert!(
        s.use_nonce(device, nonce.clone(), NOW + 600_000, NOW)
            .await
            .unwrap()
    );
    assert!(
        !s.use_nonce(device, nonce.clone(), NOW + 600_000, NOW + 1)
            .await
            .unwrap()
    );
    // Another device's nonce is its own.
    assert!(
        s.use_nonce(Uuid::new_v4(), nonce.clone(), NOW + 600_000, NOW)
            .await
            .unwrap()
    );
    // Once expired it may be forgotten and reused.
    assert!(
        s.use_nonce(device, nonce, NOW + 1_300_000, NOW + 700_000)
            .await
            .unwrap()
    );
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
        admin: false,
        teams: vec![org],
        expires_ms: NOW + 1000,
        root_key: Some(vec![1; 32]),
        binding: Some(vec![2; 32]),
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

async fn key_grants_are_kept_per_recipient_and_never_replaced(s: &impl Storage) {
    use wardside_sync::trust::KeyGrant;
    use wardside_sync::wrap::{BoxSecret, unwrap, wrap};
    let org = Uuid::new_v4();
    let admin = Uuid::new_v4();
    let signer = DeviceSigningKey::generate().unwrap();
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
    let grant = |to: Uuid, secret: &BoxSecret| {
        KeyGrant::sign(
            org,
            wrap(&team, to, &secret.public_key()).unwrap(),
            &team,
            admin,
            &signer,
        )
    };
    let g1 = grant(laptop, &ls);
    s.add_key_grants(org, vec![g1.clone(), grant(phone, &ps)])
        .await
        .unwrap();
    // A second grant for the same slot does not replace the first.
    s.add_key_grants(org, vec![grant(laptop, &ls)])
        .await
        .unwrap();
    let mine = s.key_grants_for(org, laptop).await.unwrap();
    assert_eq!(mine, vec![g1]);
    assert_eq!(unwrap(&mine[0].wrap, laptop, &ls).unwrap().id, team.id);
    assert!(
        s.key_grants_for(Uuid::new_v4(), laptop)
            .await
            .unwrap()
            .is_empty()
    );
}

async fn the_service_mark_names_the_generation_and_the_organisations_highest_cursor(
    s: &impl Storage,
) {
    let w = world();
    let generation = s.generation().await.unwrap();
    let empty = s.service_mark(w.org).await.unwrap();
    assert_eq!((empty.generation, empty.high_water), (generation, 0));
    let pushed = s.push(w.org, w.device, w.ops(1..=3), NOW).await.unwrap();
    let last = pushed[2].server_seq.unwrap();
    assert_eq!(s.service_mark(w.org).await.unwrap().high_water, last);
    // Another organisation's ops move its own mark, not this one's.
    let other = world();
    let theirs = s
        .push(other.org, other.device, other.ops(1..=2), NOW)
        .await
        .unwrap();
    assert_eq!(s.service_mark(w.org).await.unwrap().high_water, last);
    assert_eq!(
        s.service_mark(other.org).await.unwrap().high_water,
        theirs[1].server_seq.unwrap()
    );
    // After a restore the operator marks a new generation: kept, and every mark carries it.
    let fresh = s.new_generation().await.unwrap();
    assert_ne!(fresh, generation);
    assert_eq!(s.generation().await.unwrap(), fresh);
    let mark = s.service_mark(w.org).await.unwrap();
    assert_eq!((mark.generation, mark.high_water), (fresh, last));
}

async fn suite<S: Storage + Clone>(s: &S, files: impl Fn() -> Vec<Vec<u8>>) {
    the_service_mark_names_the_generation_and_the_organisations_highest_cursor(s).await;
    key_grants_are_kept_per_recipient_and_never_replaced(s).await;
    an_enrolment_code_works_once_and_not_after_it_expires(s).await;
    devices_are_kept_and_trust_statements_approve_and_revoke_them(s).await;
    a_request_nonce_is_good_once_until_it_expires(s).await;
    an_op_must_follow_its_devices_chain(s).await;
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
    s.push(w.org, w.device, batch.clone(), NOW).await.unwrap();
    drop(s);
    let s = SqliteStorage::open(&path).unwrap();
    let r = s.push(w.org, w.device, batch, NOW).await.unwrap();
    assert!(r.iter().all(|r| r.status == PushStatus::Duplicate));
    // And a nonce used before the restart is still spent.
    let device = Uuid::new_v4();
    assert!(
        s.use_nonce(device, "n1".into(), NOW + 600_000, NOW)
            .await
            .unwrap()
    );
    drop(s);
    let s = SqliteStorage::open(&path).unwrap();
    assert!(
        !s.use_nonce(device, "n1".into(), NOW + 600_000, NOW)
            .await
            .unwrap()
    );
    // The generation is the database's: the same after a restart.
    let generation = s.generation().await.unwrap();
    drop(s);
    let s = SqliteStorage::open(&path).unwrap();
    assert_eq!(s.generation().await.unwrap(), generation);
    // And each database has its own.
    let other = SqliteStorage::open(&dir.path().join("other.db")).unwrap();
    assert_ne!(other.generation().await.unwrap(), generation);
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
