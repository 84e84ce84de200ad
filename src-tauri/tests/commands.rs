#![allow(clippy::unwrap_used)]
//! The app's commands on Tauri's mock runtime: the real command layer, the real capability file
//! and a real encrypted store in a temporary directory; only the window system is mocked.

use serde_json::{Value, json};
use tauri::Manager;
use tauri::ipc::{CallbackFn, InvokeBody};
use tauri::test::{INVOKE_KEY, MockRuntime, get_ipc_response, mock_builder};
use tauri::webview::{InvokeRequest, WebviewWindow};
use wardside_app::session::Session;
use wardside_app::settings::SettingsFile;
use wardside_domain::rules::Rules;

struct App {
    _dir: tempfile::TempDir,
    _app: tauri::App<MockRuntime>,
    window: WebviewWindow<MockRuntime>,
}

fn app() -> App {
    let dir = tempfile::tempdir().unwrap();
    let session = Session::new(
        dir.path().join("store").join("wardside.db"),
        Rules::shipped().unwrap(),
        SettingsFile::load(None),
        None,
    );
    let app = wardside_app::app_builder(mock_builder())
        .manage(session)
        .build(tauri::generate_context!())
        .unwrap();
    let window = tauri::WebviewWindowBuilder::new(&app, "main", Default::default())
        .build()
        .unwrap();
    App {
        _dir: dir,
        _app: app,
        window,
    }
}

/// Call a command as the page in `window` would.
fn call_on(window: &WebviewWindow<MockRuntime>, cmd: &str, args: Value) -> Result<Value, Value> {
    get_ipc_response(
        window,
        InvokeRequest {
            cmd: cmd.into(),
            callback: CallbackFn(0),
            error: CallbackFn(1),
            url: "tauri://localhost".parse().unwrap(),
            body: InvokeBody::Json(args),
            headers: Default::default(),
            invoke_key: INVOKE_KEY.to_string(),
        },
    )
    .map(|b| b.deserialize::<Value>().unwrap())
}

impl App {
    fn call(&self, cmd: &str, args: Value) -> Result<Value, Value> {
        call_on(&self.window, cmd, args)
    }

    fn ok(&self, cmd: &str, args: Value) -> Value {
        self.call(cmd, args)
            .unwrap_or_else(|e| panic!("{cmd} failed: {e}"))
    }

    fn err_code(&self, cmd: &str, args: Value) -> String {
        let e = self.call(cmd, args).expect_err(cmd);
        e["code"]
            .as_str()
            .unwrap_or_else(|| panic!("{e}"))
            .to_owned()
    }
}

const PASS: &str = "kettle orbit marmalade lantern";

fn intake() -> Value {
    json!({"intake": {
        "client": {"name": "Siân Ap Dafydd", "hospital": "Glan Clwyd", "ward": "Ablett", "interpreter_needed": false,
                   "objects_to_relative_being_informed": false, "equality": {"ethnic_category": "Z"}},
        "status": "s3", "status_since": "2026-11-01",
        "referral": {"received_on": "2026-11-20", "source": "ward-staff"},
        "case": {"opened_on": "2026-11-20", "instruction": {"mode": "instructed"}}
    }})
}

#[test]
fn a_ward_visit_is_recorded_survives_a_lock_and_a_wrong_passphrase_is_refused() {
    let app = app();
    let status = app.ok("session_status", json!({}));
    assert_eq!(status["store_exists"], false);

    // First run: the two passphrases must match, and a weak one is refused.
    assert_eq!(
        app.err_code(
            "create_store",
            json!({"advocate": "Ann", "passphrase": PASS, "confirm": "something else"})
        ),
        "invalid"
    );
    assert_eq!(
        app.err_code(
            "create_store",
            json!({"advocate": "Ann", "passphrase": "short", "confirm": "short"})
        ),
        "weak-passphrase"
    );
    app.ok(
        "create_store",
        json!({"advocate": "Ann Advocate", "passphrase": PASS, "confirm": PASS}),
    );
    assert_eq!(app.ok("session_status", json!({}))["unlocked"], true);

    let created = app.ok("add_client", intake());
    let case_id = created["case_id"].as_str().unwrap().to_owned();
    let screen = app.ok("case_view", json!({"id": case_id}));
    assert_eq!(screen["client"]["name"], "Siân Ap Dafydd");
    assert_eq!(screen["guidance"]["eligibility"]["eligible"], true);
    assert!(screen["draft"].is_null());

    // A draft is kept in the store, then goes with the save.
    app.ok(
        "save_draft",
        json!({"case": case_id, "form": {"kind": "ward-round", "points": "Leave to see her son"}, "body": "half a note"}),
    );
    let screen = app.ok("case_view", json!({"id": case_id}));
    assert_eq!(screen["draft"]["body"], "half a note");
    app.ok(
        "add_activity",
        json!({"activity": {"case_id": case_id, "at": "2026-11-25T10:30:00",
               "kind": {"type": "ward-round", "points_raised": ["Leave to see her son"], "response": "RC will review on Friday"}},
               "text": "Represented her wish for escorted leave at the ward round."}),
    );
    app.ok(
        "add_activity",
        json!({"activity": {"case_id": case_id, "at": "2026-11-25T10:00:00",
               "kind": {"type": "private-interview", "wishes": "I want to see my son"}},
               "text": "Met in the quiet room; she wants help with leave."}),
    );
    let screen = app.ok("case_view", json!({"id": case_id}));
    assert!(screen["draft"].is_null());
    let timeline = screen["timeline"].as_array().unwrap();
    assert_eq!(timeline.len(), 2);
    assert_eq!(timeline[0]["kind"]["type"], "private-interview");
    assert_eq!(
        timeline[1]["kind"]["points_raised"][0],
        "Leave to see her son"
    );

    let hits = app.ok("search", json!({"query": "escorted leave"}));
    assert_eq!(hits.as_array().unwrap().len(), 1);
    assert_eq!(hits[0]["client_name"], "Siân Ap Dafydd");

    // Locked: nothing can be read.
    app.ok("lock", json!({}));
    assert_eq!(app.err_code("case_view", json!({"id": case_id})), "locked");
    assert_eq!(app.err_code("search", json!({"query": "leave"})), "locked");
    assert_eq!(
        app.err_code(
            "unlock",
            json!({"passphrase": "kettle orbit marmalade lantern!"})
        ),
        "wrong-passphrase"
    );
    app.ok("unlock", json!({"passphrase": PASS}));
    let screen = app.ok("case_view", json!({"id": case_id}));
    assert_eq!(screen["timeline"].as_array().unwrap().len(), 2);

    // The audit trail shows the views and the saves.
    let audit = app.ok("case_audit", json!({"id": case_id}));
    let actions: Vec<&str> = audit
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert!(actions.contains(&"view") && actions.contains(&"create"));
}

#[test]
fn a_case_closes_only_with_an_outcome_for_every_issue() {
    let app = app();
    app.ok(
        "create_store",
        json!({"advocate": "Ann", "passphrase": PASS, "confirm": PASS}),
    );
    let case_id = app.ok("add_client", intake())["case_id"].clone();
    let issue = app.ok(
        "add_issue",
        json!({"issue": {"case_id": case_id, "category": "leave", "summary": "Escorted leave", "opened_on": "2026-11-20"}}),
    );
    let closure = json!({"on": "2026-11-25", "reason": "issues-resolved"});
    assert_eq!(
        app.err_code(
            "close_case",
            json!({"id": case_id, "closure": closure, "outcomes": []})
        ),
        "invalid"
    );
    app.ok(
        "close_case",
        json!({"id": case_id, "closure": closure,
               "outcomes": [[issue, {"kind": "decision-changed", "on": "2026-11-25"}]]}),
    );
    let screen = app.ok("case_view", json!({"id": case_id}));
    assert_eq!(screen["case"]["closed"]["reason"], "issues-resolved");
    assert_eq!(screen["issues"][0]["outcome"]["kind"], "decision-changed");
    // A closed case takes no new work.
    assert_eq!(
        app.err_code(
            "add_activity",
            json!({"activity": {"case_id": case_id, "at": "2026-11-25T11:00:00", "kind": {"type": "other"}}, "text": "x"})
        ),
        "refused"
    );
}

#[test]
fn malformed_requests_get_an_error_and_change_nothing() {
    let app = app();
    app.ok(
        "create_store",
        json!({"advocate": "Ann", "passphrase": PASS, "confirm": PASS}),
    );
    let case_id = app.ok("add_client", intake())["case_id"].clone();
    // Unknown activity kind, a missing field, and a concern due before it was raised.
    assert!(
        app.call(
            "add_activity",
            json!({"activity": {"case_id": case_id, "at": "2026-11-25T11:00:00", "kind": {"type": "séance"}}, "text": ""})
        )
        .is_err()
    );
    assert!(
        app.call(
            "add_activity",
            json!({"activity": {"case_id": case_id, "kind": {"type": "other"}}, "text": ""})
        )
        .is_err()
    );
    assert_eq!(
        app.err_code(
            "add_activity",
            json!({"activity": {"case_id": case_id, "at": "2026-11-25T11:00:00",
                   "kind": {"type": "concern", "raised_with": "Ward manager", "response_due": "2026-11-01"}}, "text": ""})
        ),
        "invalid"
    );
    assert_eq!(
        app.err_code(
            "save_settings",
            json!({"settings": {"idle_lock_minutes": 0, "theme": "dark", "reminder_days": 14}})
        ),
        "invalid"
    );
    let screen = app.ok("case_view", json!({"id": case_id}));
    assert_eq!(screen["timeline"].as_array().unwrap().len(), 0);
}

#[test]
fn the_caseload_puts_reminders_first_and_offers_its_filters() {
    let app = app();
    app.ok(
        "create_store",
        json!({"advocate": "Ann", "passphrase": PASS, "confirm": PASS}),
    );
    // A section 2 that began 10 days ago: its tribunal window closes within the horizon.
    let today = wardside_domain::rules::period::uk_date_at(chrono::Utc::now());
    let since = (today - chrono::Days::new(10)).to_string();
    let mut req = intake();
    req["intake"]["status"] = json!("s2");
    req["intake"]["status_since"] = json!(since);
    req["intake"]["referral"]["received_on"] = json!(since);
    req["intake"]["case"]["opened_on"] = json!(since);
    app.ok("add_client", req);
    let due = app.ok("due_reminders", json!({"filter": {}}));
    assert!(!due["upcoming"].as_array().unwrap().is_empty(), "{due}");
    assert_eq!(due["upcoming"][0]["name"], "Siân Ap Dafydd");
    assert_eq!(due["past_due_total"], 0);
    let rows = app.ok(
        "caseload",
        json!({"filter": {"hospital": "Glan Clwyd"}, "offset": 0, "limit": 50}),
    );
    assert_eq!(rows.as_array().unwrap().len(), 1);
    let rows = app.ok(
        "caseload",
        json!({"filter": {"hospital": "Elsewhere"}, "offset": 0, "limit": 50}),
    );
    assert!(rows.as_array().unwrap().is_empty());
    let facets = app.ok("caseload_facets", json!({}));
    assert_eq!(facets["wards"][0]["ward"], "Ablett");
}

#[test]
fn the_passphrase_changes_only_with_the_current_one_and_a_matching_new_one() {
    let app = app();
    app.ok(
        "create_store",
        json!({"advocate": "Ann", "passphrase": PASS, "confirm": PASS}),
    );
    const NEW: &str = "window copper meadow violin";
    assert_eq!(
        app.err_code(
            "change_passphrase",
            json!({"current": "not it at all", "new": NEW, "confirm": NEW})
        ),
        "wrong-passphrase"
    );
    assert_eq!(
        app.err_code(
            "change_passphrase",
            json!({"current": PASS, "new": NEW, "confirm": "window copper meadow"})
        ),
        "invalid"
    );
    app.ok(
        "change_passphrase",
        json!({"current": PASS, "new": NEW, "confirm": NEW}),
    );
    app.ok("lock", json!({}));
    assert_eq!(
        app.err_code(
            "change_passphrase",
            json!({"current": NEW, "new": PASS, "confirm": PASS})
        ),
        "locked"
    );
    assert_eq!(
        app.err_code("unlock", json!({"passphrase": PASS})),
        "wrong-passphrase"
    );
    app.ok("unlock", json!({"passphrase": NEW}));
}

#[test]
fn the_session_knows_when_it_is_locked() {
    let app = app();
    let session = app._app.state::<Session>();
    assert!(!session.is_unlocked());
    assert_eq!(app.err_code("caseload_facets", json!({})), "locked");
}

/// A sync stuck on a service that never answers, and the lock pressed meanwhile: the app says
/// `locked` at once (the lock never waits for the sync), every command is refused from that
/// instant, and the sync stops and lets go of the store (with its key) within a second.
#[test]
fn locking_during_a_stalled_sync_is_immediate_and_the_sync_lets_go_within_a_second() {
    use std::sync::mpsc;
    use std::time::{Duration, Instant};
    use tauri::Listener;
    let app = app();
    app.ok(
        "create_store",
        json!({"advocate": "Ann Advocate", "passphrase": PASS, "confirm": PASS}),
    );
    // A service that accepts connections and never answers.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for s in listener.incoming().flatten() {
            held.push(s);
        }
    });
    // Enrolled with it (as far as this laptop knows).
    let session = app._app.state::<Session>();
    session
        .with_store(|s| {
            use base64::Engine;
            let key = wardside_sync::DeviceSigningKey::generate().unwrap();
            s.set_sync_secret("device_sign_pkcs8", key.pkcs8())?;
            s.set_sync_secret("device_box_secret", &[7; 32])?;
            s.set_sync_config(&wardside_store::sync::SyncConfig {
                server: format!("http://{addr}"),
                org_id: uuid::Uuid::new_v4(),
                teams: vec![uuid::Uuid::new_v4()],
                admin: false,
                status: "approved".into(),
                fingerprint: String::new(),
                name: "Ann's laptop".into(),
                root_key: Some(base64::engine::general_purpose::STANDARD.encode(key.public_key())),
            })
        })
        .unwrap();
    let (tx, rx) = mpsc::channel();
    app._app.listen("locked", move |_| {
        let _ = tx.send(Instant::now());
    });
    let window = app.window.clone();
    std::thread::scope(|scope| {
        let syncing = scope.spawn(move || {
            let r = call_on(&window, "sync_now", json!({}));
            (r, Instant::now())
        });
        // The sync is under way, holding its handle on the store, waiting on the service.
        std::thread::sleep(Duration::from_millis(500));
        assert!(session.store_held());
        // Meanwhile the person reads, saves and sees the sync line at once: the sync never
        // holds their handle (checked after the lock, so that a failure does not leave the
        // sync waiting on the service for minutes).
        let mut waits = Vec::new();
        for (cmd, args) in [
            ("caseload_facets", json!({})),
            ("add_client", intake()),
            ("sync_status", json!({})),
        ] {
            let asked = Instant::now();
            let r = app.call(cmd, args);
            waits.push((cmd, r.err(), asked.elapsed()));
        }
        let pressed = Instant::now();
        app.ok("lock", json!({}));
        let returned = pressed.elapsed();
        assert!(
            returned < Duration::from_millis(500),
            "lock waited {returned:?}"
        );
        let told = rx
            .recv_timeout(Duration::from_secs(1))
            .expect("locked event");
        assert!(told.duration_since(pressed) < Duration::from_secs(1));
        // Refused at once, even while the sync still holds the store.
        assert_eq!(app.err_code("caseload_facets", json!({})), "locked");
        assert_eq!(app.ok("session_status", json!({}))["unlocked"], false);
        let (result, ended) = syncing.join().unwrap();
        assert!(
            ended.duration_since(pressed) < Duration::from_secs(1),
            "the sync took {:?} to stop",
            ended.duration_since(pressed)
        );
        let code = result.unwrap_err()["code"].as_str().unwrap().to_owned();
        assert!(code == "sync-cancelled" || code == "locked", "{code}");
        for (cmd, err, waited) in waits {
            assert_eq!(err, None, "{cmd}");
            assert!(
                waited < Duration::from_millis(500),
                "{cmd} waited {waited:?} for the sync"
            );
        }
    });
    // The store (and its key) is gone; unlocking again works.
    assert!(!session.store_held());
    app.ok("unlock", json!({"passphrase": PASS}));
    assert_eq!(app.ok("session_status", json!({}))["unlocked"], true);
}

/// Teams (issue 14, part 4) through the app's commands: a person's record goes to the team
/// chosen, moves to another of the laptop's teams, and once it is kept by a team this laptop has
/// left, every change to it is refused with words a person can act on (never the generic text).
#[test]
fn a_record_is_kept_by_its_team_moves_and_is_refused_once_its_team_is_not_this_laptops() {
    let app = app();
    app.ok(
        "create_store",
        json!({"advocate": "Ann Advocate", "passphrase": PASS, "confirm": PASS}),
    );
    assert_eq!(
        app.ok("sync_teams", json!({})),
        json!([]),
        "not enrolled: no teams"
    );
    let (first, north) = (uuid::Uuid::new_v4(), uuid::Uuid::new_v4());
    let session = app._app.state::<Session>();
    let enrol = |teams: Vec<uuid::Uuid>| {
        session
            .with_store(|s| {
                s.set_sync_config(&wardside_store::sync::SyncConfig {
                    server: "http://127.0.0.1:9".into(),
                    org_id: uuid::Uuid::nil(),
                    teams,
                    admin: true,
                    status: "approved".into(),
                    fingerprint: String::new(),
                    name: "Ann's laptop".into(),
                    root_key: None,
                })
            })
            .unwrap();
    };
    enrol(vec![first, north]);
    let teams = app.ok("sync_teams", json!({}));
    assert_eq!(teams[0]["id"], json!(first));
    assert_eq!(teams[1]["id"], json!(north));

    // Added in the second team, as the New client form sends it.
    let mut intake = intake();
    intake["intake"]["client"]["team"] = json!(north);
    let case_id = app.ok("add_client", intake)["case_id"].clone();
    let screen = app.ok("case_view", json!({"id": case_id}));
    let client_id = screen["client"]["id"].clone();
    assert_eq!(screen["client"]["team"], json!(north));

    // Moved back to the first team: every change about them goes with it.
    let refused = app.call("move_client", json!({"id": client_id, "to": north}));
    assert_eq!(refused.unwrap_err()["code"], "refused");
    let carried = app.ok("move_client", json!({"id": client_id, "to": first}));
    assert!(carried.as_u64().unwrap() >= 3, "{carried}");
    let screen = app.ok("case_view", json!({"id": case_id}));
    assert_eq!(screen["client"]["team"], json!(first));
    // Editing the details keeps the team.
    let mut client = screen["client"].clone();
    client.as_object_mut().unwrap().remove("id");
    client.as_object_mut().unwrap().remove("team");
    client["ward"] = json!("Dyfrdwy");
    app.ok("update_client", json!({"id": client_id, "client": client}));
    assert_eq!(
        app.ok("case_view", json!({"id": case_id}))["client"]["team"],
        json!(first)
    );

    // An admin takes this laptop out of the first team: the record stays readable here, and
    // every change to it is refused in words that say why and what to do.
    enrol(vec![north]);
    client["ward"] = json!("Tegid");
    assert_eq!(
        app.ok("case_view", json!({"id": case_id}))["client"]["name"],
        "Siân Ap Dafydd"
    );
    for (cmd, args) in [
        ("update_client", json!({"id": client_id, "client": client})),
        (
            "add_activity",
            json!({"activity": {"case_id": case_id, "at": "2026-11-25T11:00:00", "kind": {"type": "other"}}, "text": "Saw them on the ward."}),
        ),
        ("move_client", json!({"id": client_id, "to": north})),
    ] {
        let e = app.call(cmd, args).expect_err(cmd);
        assert_eq!(e["code"], "refused", "{cmd}: {e}");
        let message = e["message"].as_str().unwrap();
        assert!(
            message.contains("kept by another team, which this laptop is not a member of"),
            "{cmd}: {message}"
        );
        assert!(!message.contains("Something went wrong"), "{message}");
    }
}
