//! Sync in the real app: connect to a real service on 127.0.0.1 (the organisation's first
//! device, so its admin), see the recovery words once, sync, make a one-time code, approve a
//! colleague's laptop by typing its fingerprint, and resolve a note two colleagues edited at once
//! — the resolution reaching the others with both versions as parents. The header always says
//! how many changes have not been synced. Then the service turns hostile and alters a
//! colleague's new ops on their way to the app: the app holds them, and the header and the Sync
//! screen say so, by the colleague's name and the ops concerned.
//!
//! Needs a display (Xvfb), `tauri-driver` and `WebKitWebDriver`: `scripts/test.sh` runs it with
//! `--ignored`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use fantoccini::{Client, Locator};
use std::sync::Arc;
use wardside_e2e::*;
use wardside_store::{KdfParams, Passphrase, Store, Tuning};

const PASS: &str = "kettle orbit marmalade lantern";

/// What the service does to the ops it hands out: nothing, until the test arms it with a device
/// and a sequence; from then on it flips a bit in the ciphertext of that device's ops from that
/// sequence on, in every page it serves (a hostile service).
#[derive(Clone, Default)]
struct Tamper(Arc<std::sync::Mutex<Option<(String, u64)>>>);

impl Tamper {
    fn arm(&self, device: impl ToString, from_seq: u64) {
        *self.0.lock().unwrap() = Some((device.to_string(), from_seq));
    }
}

async fn tamper_pages(
    axum::extract::State(tamper): axum::extract::State<Tamper>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let pull = req.uri().path() == "/v1/ops";
    let res = next.run(req).await;
    let armed = tamper.0.lock().unwrap().clone();
    let Some((device, from_seq)) = armed.filter(|_| pull && res.status().is_success()) else {
        return res;
    };
    let (mut parts, body) = res.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX).await.unwrap();
    let mut page: wardside_sync::protocol::PullResponse = serde_json::from_slice(&bytes).unwrap();
    for op in &mut page.ops {
        let r = &op.envelope.routing;
        if r.device_id.to_string() == device
            && r.device_seq >= from_seq
            && let Some(b) = op.envelope.ciphertext.last_mut()
        {
            *b ^= 1;
        }
    }
    parts.headers.remove(axum::http::header::CONTENT_LENGTH);
    axum::response::Response::from_parts(
        parts,
        axum::body::Body::from(serde_json::to_vec(&page).unwrap()),
    )
}

/// The service, on its own runtime and thread, for the whole test: its address, the
/// organisation's first code, and the switch that makes it alter what it hands out.
fn service(dir: &std::path::Path) -> (String, String, Tamper) {
    let (tx, rx) = std::sync::mpsc::channel();
    let db = dir.join("server.db");
    let tamper = Tamper::default();
    let t = tamper.clone();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let storage = wardside_server::storage::sqlite::SqliteStorage::open(&db).unwrap();
            let org = wardside_server::init_org(&storage, "Riverside IMHA")
                .await
                .unwrap();
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let url = format!("http://{}", listener.local_addr().unwrap());
            tx.send((url, org.enrolment_code)).unwrap();
            let app = wardside_server::http::router(Arc::new(
                wardside_server::http::AppState::new(storage),
            ))
            .layer(axum::middleware::from_fn_with_state(t, tamper_pages));
            axum::serve(wardside_server::http::nodelay(listener), app)
                .await
                .unwrap();
        });
    });
    let (url, code) = rx.recv().unwrap();
    (url, code, tamper)
}

fn colleague(dir: &std::path::Path, name: &str) -> Store {
    Store::create_with(
        &dir.join(name).join("wardside.db"),
        &Passphrase::new(PASS),
        name,
        KdfParams {
            m_kib: 256,
            t: 1,
            p: 1,
        },
        Tuning::default(),
    )
    .unwrap()
}

/// Run blocking sync work (reqwest's blocking client) off the test's runtime thread.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(f).await.unwrap()
}

#[tokio::test(flavor = "current_thread")]
#[ignore = "needs Xvfb, tauri-driver and WebKitWebDriver: run by scripts/test.sh"]
async fn connect_approve_and_resolve_a_conflict_in_the_app() {
    let sandbox = Sandbox::new().unwrap();
    let (url, code, tamper) = service(sandbox.path());
    let driver = start_driver(&sandbox).unwrap();
    let c = launch(&driver).await.unwrap();

    // ---- first run, then connect: the organisation's first laptop ----
    find(&c, "#first-run-title").await.unwrap();
    type_into(&c, "#advocate", "Ann Admin").await;
    type_into(&c, "#new-pass", PASS).await;
    type_into(&c, "#confirm-pass", PASS).await;
    click(&c, "input[type=checkbox]").await;
    click(&c, "button[type=submit]").await;
    find(&c, "#cases-title").await.unwrap();
    expect(&c, "Sync not set up").await;
    click(&c, "button.sync-line").await;
    find(&c, "#enrol-title").await.unwrap();
    let server = find(&c, "#sy-server").await.unwrap();
    server.clear().await.unwrap();
    server.send_keys(&url).await.unwrap();
    // A mistyped code is refused on this laptop by its check letter, and says so.
    let typo = mistyped(&code);
    type_into(&c, "#sy-code", &typo).await;
    type_into(&c, "#sy-name", "Office laptop").await;
    save_client(&c).await;
    expect(&c, "That code is mistyped").await;
    let field = find(&c, "#sy-code").await.unwrap();
    field.clear().await.unwrap();
    // Typed as a person might: lower case, spaces for dashes.
    field
        .send_keys(&code.to_lowercase().replace('-', " "))
        .await
        .unwrap();
    save_client(&c).await;
    expect(&c, "recovery words").await;
    let words = text_of(&c, ".words").await;
    assert_eq!(words.split_whitespace().count(), 24);
    shot(&c, "sync-recovery-words").await;
    click(&c, ".warn-card input[type=checkbox]").await;
    expect(&c, "Approved (admin)").await;
    click(&c, "#state-title ~ button.primary").await;
    expect(&c, "Synced:").await;
    expect(&c, "All changes synced").await;

    // ---- a colleague's laptop: one-time code here, fingerprint typed here ----
    click(&c, "#devices-title ~ button").await;
    expect(&c, "Code for the new laptop").await;
    let bea_invite = text_of(&c, ".invite strong").await;
    let invite = bea_invite.clone();
    let dir = sandbox.path().to_owned();
    let u = url.clone();
    let (mut bea, bea_enrolled) = blocking(move || {
        let mut s = colleague(&dir, "bea");
        let e = wardside_sync_client::enroll(
            &mut s,
            &u,
            &invite,
            "Bea's laptop",
            &wardside_sync_client::Options::default(),
        )
        .unwrap();
        (s, e)
    })
    .await;
    assert_eq!(
        bea_enrolled.status,
        wardside_sync::protocol::EnrolledStatus::Pending
    );
    approve_in_app(&c, &bea_enrolled).await;

    // ---- Bea writes a note; a third laptop edits it while Bea does too ----
    click(&c, "#devices-title ~ button").await;
    expect(&c, "Code for the new laptop").await;
    // Bea's (used) code stays on screen until the new one arrives: wait for the new one.
    let mut invite = text_of(&c, ".invite strong").await;
    for _ in 0..150 {
        if invite != bea_invite {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        invite = text_of(&c, ".invite strong").await;
    }
    assert_ne!(invite, bea_invite, "a new code for the third laptop");
    let dir = sandbox.path().to_owned();
    let u = url.clone();
    let (cai_store, bea_store, cai_enrolled, note) = blocking(move || {
        let mut cai = colleague(&dir, "cai");
        let e = wardside_sync_client::enroll(
            &mut cai,
            &u,
            &invite,
            "Cai's laptop",
            &wardside_sync_client::Options::default(),
        )
        .unwrap();
        wardside_sync_client::sync_now(&mut bea, &wardside_sync_client::Options::default())
            .unwrap();
        let note = bea
            .write(|w| {
                let client = w.add_client(&wardside_domain::Client::named("Dafydd Rees"))?;
                let case = w.open_case(&wardside_domain::Case::opened(
                    client,
                    chrono::NaiveDate::from_ymd_opt(2026, 11, 2).unwrap(),
                ))?;
                w.add_activity(
                    &wardside_domain::Activity {
                        case_id: case,
                        at: chrono::NaiveDate::from_ymd_opt(2026, 11, 3)
                            .unwrap()
                            .and_hms_opt(10, 0, 0)
                            .unwrap(),
                        duration_minutes: Some(30),
                        kind: wardside_domain::ActivityKind::PrivateInterview { wishes: None },
                        withheld: None,
                    },
                    "Dafydd wants leave.\n",
                )
            })
            .unwrap();
        wardside_sync_client::sync_now(&mut bea, &wardside_sync_client::Options::default())
            .unwrap();
        (cai, bea, e, note)
    })
    .await;
    approve_in_app(&c, &cai_enrolled).await;
    let (mut cai_store, mut bea_store) = (cai_store, bea_store);
    let (cai_store, bea_store) = blocking(move || {
        wardside_sync_client::sync_now(&mut cai_store, &wardside_sync_client::Options::default())
            .unwrap();
        bea_store
            .write(|w| w.amend_note(note, "Dafydd wants escorted leave on Fridays.\n", "detail"))
            .unwrap();
        cai_store
            .write(|w| w.amend_note(note, "Dafydd wants unescorted ground leave.\n", "detail"))
            .unwrap();
        wardside_sync_client::sync_now(&mut bea_store, &wardside_sync_client::Options::default())
            .unwrap();
        wardside_sync_client::sync_now(&mut cai_store, &wardside_sync_client::Options::default())
            .unwrap();
        (cai_store, bea_store)
    })
    .await;

    // ---- the app shows the conflict with both texts, and resolves it ----
    click(&c, "#state-title ~ button.primary").await;
    expect(&c, "A note was changed on two devices at once").await;
    expect(&c, "escorted leave on Fridays").await;
    expect(&c, "unescorted ground leave").await;
    expect(&c, "1 to look at").await;
    shot(&c, "sync-conflict").await;
    click(&c, ".version button").await;
    let area = find(&c, ".conflict textarea").await.unwrap();
    area.clear().await.unwrap();
    area.send_keys("Dafydd wants escorted leave first, then ground leave.")
        .await
        .unwrap();
    // Below the fold under the sticky header: scroll it to the middle, then click as a person.
    c.execute(
        "document.querySelector('.conflict button.primary').scrollIntoView({block: 'center'})",
        vec![],
    )
    .await
    .unwrap();
    click(&c, ".conflict button.primary").await;
    expect(&c, "Both earlier versions stay").await;
    expect(&c, "1 change not yet synced").await;
    click(&c, "#state-title ~ button.primary").await;
    expect(&c, "Synced:").await;
    expect(&c, "All changes synced").await;
    shot(&c, "sync").await;

    let mut bea_store = bea_store;
    let (history, bea_store) = blocking(move || {
        wardside_sync_client::sync_now(&mut bea_store, &wardside_sync_client::Options::default())
            .unwrap();
        let text = bea_store.note_text(note).unwrap();
        let h = bea_store.note_history(note).unwrap();
        drop(cai_store);
        ((text, h), bea_store)
    })
    .await;
    assert_eq!(
        history.0,
        "Dafydd wants escorted leave first, then ground leave."
    );
    let last = history
        .1
        .iter()
        .find(|v| v.body.contains("then ground leave"))
        .unwrap();
    assert_eq!(
        last.parents.len(),
        2,
        "the resolution has both versions as parents"
    );

    // ---- the service alters Bea's next changes on their way to the app ----
    let mut bea_store = bea_store;
    let first_new = blocking(move || {
        bea_store
            .write(|w| w.add_client(&wardside_domain::Client::named("Eira Owen")))
            .unwrap();
        let new = bea_store.unpushed(1000).unwrap();
        let first = new.first().unwrap().device_seq;
        wardside_sync_client::sync_now(&mut bea_store, &wardside_sync_client::Options::default())
            .unwrap();
        first
    })
    .await;
    tamper.arm(bea_enrolled.device_id, first_new);
    click(&c, "#state-title ~ button.primary").await;
    expect(&c, "Synced:").await;
    expect(&c, "sync problem").await;
    let header = text_of(&c, "button.sync-line .problem").await;
    assert!(
        header.ends_with("sync problem") || header.ends_with("sync problems"),
        "{header}"
    );
    expect(&c, "Changes altered on the way").await;
    // By the name an admin approved, and which of Bea's ops.
    let problems = text_of(&c, "#problems-title ~ ul").await;
    assert!(problems.contains("Bea's laptop, op"), "{problems}");
    assert!(problems.contains("held, not applied"), "{problems}");
    expect(
        &c,
        "Nothing was applied from these, and nothing of yours was lost",
    )
    .await;
    c.execute("window.scrollTo(0, 0)", vec![]).await.unwrap();
    shot(&c, "sync-problems").await;
    // From anywhere, the header's line takes the keyboard to the problems.
    click(&c, "nav button:nth-child(2)").await;
    find(&c, "#cases-title").await.unwrap();
    let line = find(&c, "button.sync-line").await.unwrap();
    line.send_keys("\u{E007}").await.unwrap();
    find(&c, "#problems-title").await.unwrap();
    c.close().await.unwrap();
    drop(driver);
}

/// The code with its last symbol (the check letter) changed so that it is no code at all.
fn mistyped(code: &str) -> String {
    let (body, _) = code.split_at(code.len() - 1);
    "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
        .chars()
        .map(|c| format!("{body}{c}"))
        .find(|typo| wardside_sync::codes::code_kind(typo).is_none())
        .unwrap()
}

/// Approve a pending laptop as its admin would: refresh the list (Sync now), type the
/// fingerprint the laptop shows into its row, press Approve.
async fn approve_in_app(c: &Client, e: &wardside_sync_client::Enrolled) {
    click(c, "#state-title ~ button.primary").await;
    let input = format!("#fp-{}", e.device_id);
    find(c, &input).await.unwrap();
    type_into(c, &input, &e.fingerprint).await;
    c.find(Locator::XPath("//button[normalize-space()='Approve']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    expect(c, "approved and given the team keys").await;
}

/// Wait for text; on failure keep a screenshot of what the page showed instead.
async fn expect(c: &Client, text: &str) {
    if let Err(e) = wait_for_text(c, text).await {
        if let Ok(png) = c.screenshot().await {
            let path = std::env::temp_dir().join("wardside-e2e-sync-failure.png");
            let _ = std::fs::write(&path, png);
            panic!("{e} (screenshot: {})", path.display());
        }
        panic!("{e}");
    }
}

/// Screenshots for docs/screenshots when `WARDSIDE_SCREENSHOTS` names a folder.
async fn shot(c: &Client, name: &str) {
    if let Ok(dir) = std::env::var("WARDSIDE_SCREENSHOTS") {
        std::fs::create_dir_all(&dir).unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(400)).await;
        let png = c.screenshot().await.unwrap();
        std::fs::write(std::path::Path::new(&dir).join(format!("{name}.png")), png).unwrap();
    }
}
