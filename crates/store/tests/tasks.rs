//! Tasks on a real encrypted store: a concern's response-due date is a task, due on the
//! caseload until it is marked done (who and when kept, audited); snoozes end on their day;
//! hand-added tasks and the diary's week; and two devices that change the same task offline
//! end with the same state.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use uuid::Uuid;
use wardside_domain::rules::{Jurisdiction, Rules};
use wardside_domain::tasks::{
    CaseTask, PlannedKind, Task, TaskChange, TaskKey, TaskKind, TaskState, TaskStatus,
};
use wardside_domain::*;
use wardside_store::clock::Clock;
use wardside_store::sync::{ChainInfo, IncomingOp, ReceivedPage};
use wardside_store::*;

const FAST: KdfParams = KdfParams {
    m_kib: 256,
    t: 1,
    p: 1,
};
const PASS: &str = "plum kettle harbour";
const ENGLAND: Jurisdiction = Jurisdiction::England;

fn d(s: &str) -> chrono::NaiveDate {
    s.parse().unwrap()
}

fn at(s: &str) -> chrono::NaiveDateTime {
    chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M").unwrap()
}

fn rules() -> Rules {
    Rules::shipped().unwrap()
}

/// A store whose clock reads `now` (Tuesday 1 December 2026 unless a test moves it).
fn new_store(dir: &Path, name: &str, user: &str) -> (Store, PathBuf) {
    let path = dir.join(name).join("wardside.db");
    let mut store =
        Store::create_with(&path, &Passphrase::new(PASS), user, FAST, Tuning::default()).unwrap();
    store.set_clock(Clock::parse("2026-12-01T10:00:00Z").unwrap());
    (store, path)
}

/// A client on s. 3 since 28 October 2026 with an open case.
fn client_with_case(store: &mut Store, name: &str) -> (ClientId, CaseId) {
    store
        .write(|w| {
            let mut c = Client::named(name);
            c.hospital = Some("Riverside".into());
            c.ward = Some("Cedar".into());
            let client = w.add_client(&c)?;
            w.add_legal_event(&LegalEvent {
                client_id: client,
                on: d("2026-10-28"),
                kind: LegalEventKind::StatusStarted {
                    status: StatusCode::S3,
                },
                note: None,
            })?;
            let case = w.open_case(&Case::opened(client, d("2026-10-29")))?;
            Ok((client, case))
        })
        .unwrap()
}

fn concern(case: CaseId, due: &str) -> Activity {
    Activity {
        case_id: case,
        at: at("2026-11-30T10:00"),
        duration_minutes: None,
        kind: ActivityKind::Concern {
            raised_with: "Ward manager".into(),
            response_due: Some(d(due)),
            response: None,
        },
        withheld: None,
    }
}

fn the_task(store: &Store, case: CaseId, key: TaskKey) -> CaseTask {
    store
        .case_tasks(case, &rules(), ENGLAND)
        .unwrap()
        .into_iter()
        .find(|t| t.key == key)
        .unwrap()
}

fn due_keys(store: &Store) -> Vec<TaskKey> {
    store
        .due_tasks(&CaseloadFilter::default(), &rules(), ENGLAND, 14, 100)
        .unwrap()
        .upcoming
        .into_iter()
        .map(|t| t.task.key)
        .collect()
}

fn change(store: &mut Store, case: CaseId, key: TaskKey, change: TaskChange) -> Result<()> {
    let rules = rules();
    store.write(|w| {
        w.update_task(case, key, change, &rules, ENGLAND)
            .map(|_| ())
    })
}

#[test]
fn a_concern_response_due_is_a_task_until_marked_done_and_who_and_when_are_kept() {
    let dir = tempfile::tempdir().unwrap();
    let (mut store, path) = new_store(dir.path(), "a", "Ceri Advocate");
    let (_, case) = client_with_case(&mut store, "Maya Jones");
    let id = store
        .write(|w| {
            w.add_activity(
                &concern(case, "2026-12-04"),
                "Raised the blanket ban on phones.",
            )
        })
        .unwrap();
    let key = TaskKey::Activity(id);

    let task = the_task(&store, case, key);
    assert_eq!(task.kind, TaskKind::ConcernResponse);
    assert_eq!(
        (task.due, task.days_left, task.status),
        (d("2026-12-04"), 3, TaskStatus::Open)
    );
    let due = store
        .due_tasks(&CaseloadFilter::default(), &rules(), ENGLAND, 14, 100)
        .unwrap();
    let row = due.upcoming.iter().find(|t| t.task.key == key).unwrap();
    assert_eq!(row.name, "Maya Jones");
    assert_eq!(row.ward.as_deref(), Some("Cedar"));

    change(&mut store, case, key, TaskChange::Done).unwrap();
    let task = the_task(&store, case, key);
    assert_eq!(task.status, TaskStatus::Done);
    let TaskState::Done { by, at } = &task.state else {
        panic!("not done: {:?}", task.state)
    };
    assert_eq!(by, "Ceri Advocate");
    assert_eq!(
        wardside_domain::rules::period::uk_date_at(*at),
        d("2026-12-01")
    );
    assert!(!due_keys(&store).contains(&key));
    // Done twice is refused: a double click records nothing.
    assert!(change(&mut store, case, key, TaskChange::Done).is_err());
    let audit = store.audit_for_case(case).unwrap();
    assert_eq!(audit.iter().filter(|e| e.action == "task-done").count(), 1);

    // Kept in the encrypted file across a lock.
    store.lock().unwrap();
    let mut store = Store::unlock(&path, &Passphrase::new(PASS)).unwrap();
    store.set_clock(Clock::parse("2026-12-01T11:00:00Z").unwrap());
    assert_eq!(the_task(&store, case, key).status, TaskStatus::Done);

    change(&mut store, case, key, TaskChange::Reopened).unwrap();
    assert_eq!(the_task(&store, case, key).status, TaskStatus::Open);
    assert!(due_keys(&store).contains(&key));
    let audit = store.audit_for_case(case).unwrap();
    assert!(audit.iter().any(|e| e.action == "task-reopened"));

    // Recording the response keeps the promise: the task goes.
    let mut answered = concern(case, "2026-12-04");
    if let ActivityKind::Concern { response, .. } = &mut answered.kind {
        *response = Some("Phones allowed in the day room".into());
    }
    store
        .write(|w| w.add_activity(&answered, "Response recorded."))
        .unwrap();
    let concerns: Vec<_> = store
        .case_tasks(case, &rules(), ENGLAND)
        .unwrap()
        .into_iter()
        .filter(|t| t.kind == TaskKind::ConcernResponse)
        .collect();
    assert_eq!(concerns.len(), 1, "only the unanswered concern is a task");
}

#[test]
fn a_snoozed_task_leaves_the_due_list_until_its_day_and_needs_a_reason() {
    let dir = tempfile::tempdir().unwrap();
    let (mut store, _) = new_store(dir.path(), "a", "Ceri Advocate");
    let (_, case) = client_with_case(&mut store, "Maya Jones");
    let id = store
        .write(|w| w.add_activity(&concern(case, "2026-12-02"), "Raised."))
        .unwrap();
    let key = TaskKey::Activity(id);
    let snooze = |until: &str, reason: &str| TaskChange::Snoozed {
        until: d(until),
        reason: reason.into(),
    };
    assert!(change(&mut store, case, key, snooze("2026-12-04", "  ")).is_err());
    assert!(change(&mut store, case, key, snooze("2026-12-01", "Today")).is_err());
    change(
        &mut store,
        case,
        key,
        snooze("2026-12-04", "Ward manager on leave"),
    )
    .unwrap();
    let task = the_task(&store, case, key);
    assert_eq!(task.status, TaskStatus::Snoozed);
    assert!(
        matches!(&task.state, TaskState::Snoozed { reason, .. } if reason == "Ward manager on leave")
    );
    assert!(!due_keys(&store).contains(&key));

    // On 4 December the snooze is over: the deadline (2 December) is now overdue.
    store.set_clock(Clock::parse("2026-12-04T09:00:00Z").unwrap());
    assert_eq!(the_task(&store, case, key).status, TaskStatus::Overdue);
    let due = store
        .due_tasks(&CaseloadFilter::default(), &rules(), ENGLAND, 14, 100)
        .unwrap();
    assert!(due.overdue.iter().any(|t| t.task.key == key));
    assert_eq!(due.overdue_total, due.overdue.len());
    let audit = store.audit_for_case(case).unwrap();
    assert_eq!(
        audit.iter().filter(|e| e.action == "task-snoozed").count(),
        1
    );
}

#[test]
fn a_hand_added_task_is_due_from_its_day_and_the_filters_apply() {
    let dir = tempfile::tempdir().unwrap();
    let (mut store, _) = new_store(dir.path(), "a", "Ceri Advocate");
    let (_, case) = client_with_case(&mut store, "Maya Jones");
    let (_, other) = client_with_case(&mut store, "Tom Okafor");
    let task = |case, title: &str, due: &str| Task {
        case_id: case,
        title: title.into(),
        due: d(due),
        kind: PlannedKind::Task,
        time: None,
    };
    let yesterday =
        store.write(|w| w.add_task(&task(case, "Call the solicitor back", "2026-11-30")));
    assert!(yesterday.is_err(), "a day already past is refused");
    assert!(
        store
            .write(|w| w.add_task(&task(case, " ", "2026-12-02")))
            .is_err()
    );
    let id = store
        .write(|w| w.add_task(&task(case, "Call the solicitor back", "2026-12-02")))
        .unwrap();
    store
        .write(|w| {
            w.add_task(&task(
                other,
                "Ask for the ward's leave policy",
                "2026-12-20",
            ))
        })
        .unwrap();
    let key = TaskKey::Manual(id);
    let t = the_task(&store, case, key);
    assert_eq!(
        (t.kind, t.days_left, t.title.as_str()),
        (TaskKind::Manual, 1, "Call the solicitor back")
    );
    assert!(due_keys(&store).contains(&key));
    // 20 December is 19 days away: outside "the next 14 days".
    assert_eq!(due_keys(&store).len(), 1);
    // A filter the caseload has (a name) applies to what is due.
    let tom = CaseloadFilter {
        name: Some("Okafor".into()),
        ..CaseloadFilter::default()
    };
    let due = store.due_tasks(&tom, &rules(), ENGLAND, 30, 100).unwrap();
    assert_eq!(due.upcoming.len(), 1);
    assert_eq!(due.upcoming[0].name, "Tom Okafor");
    change(&mut store, case, key, TaskChange::Done).unwrap();
    assert!(!due_keys(&store).contains(&key));
}

#[test]
fn the_diary_holds_the_weeks_hearings_ward_rounds_and_planned_visits_by_day_and_time() {
    let dir = tempfile::tempdir().unwrap();
    let (mut store, _) = new_store(dir.path(), "a", "Ceri Advocate");
    let (_, case) = client_with_case(&mut store, "Maya Jones");
    store
        .write(|w| {
            w.add_activity(
                &Activity {
                    case_id: case,
                    at: at("2026-11-30T09:30"),
                    duration_minutes: None,
                    kind: ActivityKind::WardRound {
                        points_raised: vec!["Leave".into()],
                        response: None,
                    },
                    withheld: None,
                },
                "Ward round.",
            )?;
            w.add_activity(
                &Activity {
                    case_id: case,
                    at: at("2026-11-20T09:30"),
                    duration_minutes: None,
                    kind: ActivityKind::Tribunal {
                        hearing_on: Some(d("2026-12-04")),
                        outcome: None,
                    },
                    withheld: None,
                },
                "Hearing listed.",
            )?;
            w.add_task(&Task {
                case_id: case,
                title: "See Maya before the ward round".into(),
                due: d("2026-12-01"),
                kind: PlannedKind::Visit,
                time: Some("14:00:00".parse().unwrap()),
            })?;
            w.add_activity(&concern(case, "2026-12-09"), "Raised.")?;
            Ok(())
        })
        .unwrap();
    let diary = store
        .diary(
            &CaseloadFilter::default(),
            d("2026-12-03"),
            &rules(),
            ENGLAND,
        )
        .unwrap();
    assert_eq!((diary.from, diary.to), (d("2026-11-30"), d("2026-12-06")));
    let week: Vec<(chrono::NaiveDate, TaskKind, TaskStatus)> = diary
        .entries
        .iter()
        .map(|e| (e.task.due, e.task.kind, e.task.status))
        .collect();
    assert_eq!(
        week,
        vec![
            (d("2026-11-30"), TaskKind::WardRound, TaskStatus::Past),
            (d("2026-12-01"), TaskKind::Visit, TaskStatus::Open),
            (d("2026-12-04"), TaskKind::TribunalHearing, TaskStatus::Open),
        ]
    );
    assert_eq!(
        diary.entries[0].task.time,
        Some("09:30:00".parse().unwrap())
    );
    assert_eq!(diary.entries[1].name, "Maya Jones");
    let next = store
        .diary(
            &CaseloadFilter::default(),
            d("2026-12-07"),
            &rules(),
            ENGLAND,
        )
        .unwrap();
    assert_eq!(next.entries.len(), 1);
    assert_eq!(next.entries[0].task.kind, TaskKind::ConcernResponse);
}

#[test]
fn the_tribunal_position_is_on_the_case_view() {
    let dir = tempfile::tempdir().unwrap();
    let (mut store, _) = new_store(dir.path(), "a", "Ceri Advocate");
    let (_, case) = client_with_case(&mut store, "Maya Jones");
    let view = store.case_view(case).unwrap();
    // s. 3 from 28 October 2026: the first six months end on 27 April 2027.
    assert_eq!(
        view.tribunal_position(&rules(), d("2026-12-01"), ENGLAND)
            .text,
        "Can apply to the tribunal now, until 27 Apr 2027"
    );
}

// ---- two devices ----

const TEAM: Uuid = Uuid::from_u128(0x7a5c);

fn link(device: &str, seq: i64) -> [u8; 32] {
    let mut h = [0u8; 32];
    h[..8].copy_from_slice(&seq.to_be_bytes());
    h[8..16].copy_from_slice(&device.as_bytes()[..8]);
    h[31] = 1;
    h
}

/// Hand `from`'s ops after local sequence `after` to `to`, as a sync would after checking them.
fn deliver(from: &Store, to: &mut Store, after: i64, server_seq: &mut i64) -> i64 {
    let ops = from.ops_after(after, 10_000).unwrap();
    let last = ops.last().map_or(after, |o| o.seq);
    let ops = ops
        .into_iter()
        .map(|o| {
            *server_seq += 1;
            let content = serde_json::json!({
                "kind": o.kind,
                "field": o.field,
                "payload": o.payload,
                "actor": "Other device",
            });
            IncomingOp {
                op_id: o.op_id.parse().unwrap(),
                device_id: o.device_id.parse().unwrap(),
                device_seq: o.device_seq as u64,
                hlc: o.hlc.clone(),
                entity: o.entity.clone(),
                entity_id: o.entity_id.parse().unwrap(),
                schema_v: 1,
                server_seq: *server_seq,
                content: serde_json::to_vec(&content).unwrap(),
                chain: ChainInfo {
                    team_id: TEAM,
                    seq: o.device_seq as u64,
                    prev: if o.device_seq == 1 {
                        [0; 32]
                    } else {
                        link(&o.device_id, o.device_seq - 1)
                    },
                    hash: link(&o.device_id, o.device_seq),
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
        })
        .collect();
    to.receive(ReceivedPage {
        ops,
        ..ReceivedPage::default()
    })
    .unwrap();
    last
}

#[test]
fn two_devices_that_change_the_same_task_offline_end_with_the_same_state() {
    let dir = tempfile::tempdir().unwrap();
    let (mut a, _) = new_store(dir.path(), "a", "Ceri Advocate");
    let (mut b, _) = new_store(dir.path(), "b", "Dev Manager");
    let (_, case) = client_with_case(&mut a, "Maya Jones");
    let id = a
        .write(|w| w.add_activity(&concern(case, "2026-12-04"), "Raised."))
        .unwrap();
    let manual = a
        .write(|w| {
            w.add_task(&Task {
                case_id: case,
                title: "Call the solicitor back".into(),
                due: d("2026-12-03"),
                kind: PlannedKind::Task,
                time: None,
            })
        })
        .unwrap();
    let mut seq = 0;
    let a_sent = deliver(&a, &mut b, 0, &mut seq);
    let b_seen = b.ops_after(0, 10_000).unwrap().last().unwrap().seq;
    let key = TaskKey::Activity(id);
    assert_eq!(the_task(&b, case, key).status, TaskStatus::Open);
    assert_eq!(
        the_task(&b, case, TaskKey::Manual(manual)).title,
        "Call the solicitor back"
    );

    // Offline: A marks it done; later, B (not having seen that) snoozes it.
    change(&mut a, case, key, TaskChange::Done).unwrap();
    b.set_clock(Clock::parse("2026-12-01T10:05:00Z").unwrap());
    change(
        &mut b,
        case,
        key,
        TaskChange::Snoozed {
            until: d("2026-12-03"),
            reason: "Waiting for the ward manager".into(),
        },
    )
    .unwrap();
    deliver(&b, &mut a, b_seen, &mut seq);
    deliver(&a, &mut b, a_sent, &mut seq);

    let on_a = the_task(&a, case, key);
    let on_b = the_task(&b, case, key);
    assert_eq!(on_a.state, on_b.state);
    // B's snooze was the later change.
    assert_eq!(on_a.status, TaskStatus::Snoozed);
    assert_eq!(
        a.convergence_digest().unwrap(),
        b.convergence_digest().unwrap()
    );
}
