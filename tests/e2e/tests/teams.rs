//! Teams in the real app (issue 14, part 4), against a real service on 127.0.0.1: the app
//! connects as its organisation's first laptop (so its admin), creates a second team, adds a
//! person to it through the New client form's Team select, and moves them back to the first team
//! through the case screen's dialog (asked once more, then "Moved: N changes go to ..."). Then a
//! colleague's laptop is approved and put in both teams with the Teams checkboxes, the admin takes
//! its own laptop out of the second team, and the colleague moves the person there: the app keeps
//! what it had, says the record moved, and offers no change it would refuse.
//!
//! Needs a display (Xvfb), `tauri-driver` and `WebKitWebDriver`; run with `--ignored`.
//! Screenshots of the form and the dialog go to `/tmp/wardside-teams-*.png`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use fantoccini::{Client, Locator};
use std::sync::Arc;
use wardside_e2e::*;
use wardside_store::{KdfParams, Passphrase, Store, Tuning};

const PASS: &str = "kettle orbit marmalade lantern";
const MOVED_AWAY: &str = "This person's record moved to another team. You keep what you had; changes go to that team's members.";

/// The service on its own runtime and thread for the whole test: its address and the
/// organisation's first code.
fn service(dir: &std::path::Path) -> (String, String) {
    let (tx, rx) = std::sync::mpsc::channel();
    let db = dir.join("server.db");
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
            ));
            axum::serve(wardside_server::http::nodelay(listener), app)
                .await
                .unwrap();
        });
    });
    rx.recv().unwrap()
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
#[ignore = "needs Xvfb, tauri-driver and WebKitWebDriver"]
async fn a_person_is_added_to_a_second_team_moved_back_and_shown_as_moved_once_their_team_is_not_this_laptops()
 {
    let sandbox = Sandbox::new().unwrap();
    let (url, code) = service(sandbox.path());
    let driver = start_driver(&sandbox).unwrap();
    let c = launch(&driver).await.unwrap();

    // ---- first run, then connect: the organisation's first laptop, its admin ----
    find(&c, "#first-run-title").await.unwrap();
    type_into(&c, "#advocate", "Ann Admin").await;
    type_into(&c, "#new-pass", PASS).await;
    type_into(&c, "#confirm-pass", PASS).await;
    click(&c, "input[type=checkbox]").await;
    click(&c, "button[type=submit]").await;
    find(&c, "#cases-title").await.unwrap();
    // One team (not even enrolled yet): New client asks nothing about teams.
    click_button(&c, "New client").await;
    find(&c, "#c-name").await.unwrap();
    assert!(gone(&c, "#c-team").await, "no Team select with one team");
    click(&c, "button.sync-line").await;
    find(&c, "#enrol-title").await.unwrap();
    let server = find(&c, "#sy-server").await.unwrap();
    server.clear().await.unwrap();
    server.send_keys(&url).await.unwrap();
    type_into(&c, "#sy-code", &code).await;
    type_into(&c, "#sy-name", "Office laptop").await;
    save_client(&c).await;
    expect(&c, "recovery words").await;
    click(&c, ".warn-card input[type=checkbox]").await;
    expect(&c, "Approved (admin)").await;

    // ---- Teams: one so far, the first (which nobody named); create a second ----
    find(&c, "#teams-title").await.unwrap();
    assert_eq!(team_list(&c).await, ["First team"]);
    type_into(&c, "#team-name", "Northgate Hospital").await;
    click_in_view(&c, "form.create button[type=submit]").await;
    expect(&c, "Northgate Hospital created").await;
    // This laptop's first team is listed first: the sync client keeps them in id order.
    let listed = team_list(&c).await;
    let mut sorted = listed.clone();
    sorted.sort();
    assert_eq!(sorted, ["First team", "Northgate Hospital"]);

    // ---- New client, in the second team ----
    click_button(&c, "New client").await;
    let select = find(&c, "#c-team").await.unwrap();
    let options = js(
        &c,
        "return [...document.querySelectorAll('#c-team option')].map(o => o.textContent)",
    )
    .await;
    assert_eq!(options, serde_json::json!(listed));
    assert_eq!(
        js(&c, "return document.querySelector('#c-team').selectedIndex").await,
        0,
        "this laptop's first team is the default"
    );
    select.select_by_label("Northgate Hospital").await.unwrap();
    type_into(&c, "#c-name", "Gwen Morgan").await;
    type_into(&c, "#c-hospital", "Northgate Hospital").await;
    pick_status(&c, "#c-status", "s2").await;
    type_into(&c, "#c-since", "20/11/2026").await;
    js(&c, "window.scrollTo(0, 0); return null;").await;
    shot(&c, "new-client").await;
    click_in_view(&c, "form.form button[type=submit]").await;
    expect(&c, "Qualifying patient").await;
    assert_eq!(
        text_of(&c, "#record-team").await,
        "Team: Northgate Hospital"
    );

    // ---- moved back to the first team through the dialog, asked once more ----
    click(&c, "#move-button").await;
    find(&c, "dialog[open] input[name=mv-team]").await.unwrap();
    let dialog = text_of(&c, "dialog[open]").await;
    assert!(dialog.contains("kept by Northgate Hospital"), "{dialog}");
    assert!(dialog.contains("First team"), "{dialog}");
    shot(&c, "move-dialog").await;
    click(&c, "dialog[open] button[type=submit]").await;
    expect(&c, "Move Gwen Morgan's record to the first team?").await;
    shot(&c, "move-confirm").await;
    click(&c, "#confirm-ok").await;
    expect(&c, "Moved: ").await;
    let notice = text_of(&c, ".good[role=status]").await;
    assert!(
        notice.starts_with("Moved: ")
            && notice.ends_with("changes go to the members of the first team at the next sync."),
        "{notice}"
    );
    let n: u32 = notice["Moved: ".len()..]
        .split(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        n >= 3,
        "the person, their referral and their case at least: {notice}"
    );
    assert_eq!(text_of(&c, "#record-team").await, "Team: First team");
    assert!(gone(&c, "#moved-away").await);

    // ---- a colleague, approved and put in both teams with the checkboxes ----
    click(&c, "button.sync-line").await;
    click(&c, "#state-title ~ button.primary").await;
    expect(&c, "Synced:").await;
    click(&c, "#devices-title ~ button").await;
    expect(&c, "Code for the new laptop").await;
    let invite = text_of(&c, ".invite strong").await;
    let dir = sandbox.path().to_owned();
    let u = url.clone();
    let (bea, bea_enrolled) = blocking(move || {
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
    approve_in_app(&c, &bea_enrolled).await;
    // Approved into the teams the service names for its invitation (or all of the admin's):
    // ticked into Northgate here if it is not in it yet.
    let bea_north = "input[aria-label=\"Bea's laptop in Northgate Hospital\"]";
    find(&c, bea_north).await.unwrap();
    if !checked(&c, bea_north).await {
        click_in_view(&c, bea_north).await;
        click_in_view(&c, "button.save-teams:not([disabled])").await;
        expect(&c, "Bea's laptop's teams saved").await;
    }
    // The list read again from the organisation's signed record shows it.
    for _ in 0..100 {
        if checked(&c, bea_north).await {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(checked(&c, bea_north).await, "Bea's laptop is in Northgate");
    js(
        &c,
        "window.scrollTo(0, document.body.scrollHeight); return null;",
    )
    .await;
    shot(&c, "teams").await;

    // ---- the admin takes its own laptop out of Northgate ----
    click_in_view(
        &c,
        "input[aria-label=\"Office laptop in Northgate Hospital\"]",
    )
    .await;
    click_in_view(&c, "button.save-teams:not([disabled])").await;
    expect(&c, "Office laptop's teams saved").await;
    click_in_view(&c, "#state-title ~ button.primary").await;
    expect(&c, "Synced:").await;
    for _ in 0..50 {
        if team_list(&c).await == ["First team"] {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(team_list(&c).await, ["First team"]);

    // ---- the colleague moves Gwen to Northgate ----
    let mut bea = bea;
    let carried = blocking(move || {
        let opts = wardside_sync_client::Options::default();
        wardside_sync_client::sync_now(&mut bea, &opts).unwrap();
        let teams = bea.sync_teams().unwrap();
        assert_eq!(teams.len(), 2, "Bea is in both teams: {teams:?}");
        let gwen = bea.search_people("Gwen Morgan", 5).unwrap()[0].client_id;
        let now: wardside_domain::Client = bea.get(gwen.0).unwrap();
        let north = teams
            .iter()
            .find(|t| Some(wardside_domain::TeamId(t.id)) != now.team)
            .unwrap();
        assert_eq!(north.name.as_deref(), Some("Northgate Hospital"));
        let carried = bea
            .write(|w| w.move_client(gwen, wardside_domain::TeamId(north.id)))
            .unwrap();
        wardside_sync_client::sync_now(&mut bea, &opts).unwrap();
        carried
    })
    .await;
    assert!(carried >= 3, "{carried}");

    // ---- the app keeps Gwen's record, says it moved, and offers no change it would refuse ----
    click_in_view(&c, "#state-title ~ button.primary").await;
    expect(&c, "Synced:").await;
    click_button(&c, "Caseload").await;
    c.wait()
        .at_most(std::time::Duration::from_secs(15))
        .for_element(Locator::XPath(
            "//button[contains(@class, 'case-row')][contains(., 'Gwen Morgan')]",
        ))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    expect(&c, MOVED_AWAY).await;
    assert_eq!(
        text_of(&c, "#record-team").await,
        "Team: another team (this laptop is not in it)"
    );
    expect(&c, "Qualifying patient").await;
    for refused in [
        "New activity",
        "Close case",
        "Safeguarding event",
        "Move to another team",
    ] {
        let xpath = format!("//button[contains(normalize-space(.), \"{refused}\")]");
        assert!(
            c.find(Locator::XPath(&xpath)).await.is_err(),
            "{refused} is offered on a record this laptop may not change"
        );
    }
    js(&c, "window.scrollTo(0, 0); return null;").await;
    shot(&c, "moved-away").await;
    c.close().await.unwrap();
    drop(driver);
}

/// Whether a checkbox is ticked, and no save of a laptop's teams is under way or waiting.
async fn checked(c: &Client, css: &str) -> bool {
    c.execute(
        "return document.querySelector(arguments[0]).checked && !document.querySelector('button.save-teams:not([disabled])') && !document.querySelector('form.create button[disabled]')",
        vec![serde_json::json!(css)],
    )
    .await
    .unwrap()
        == true
}

/// The Teams card's list of this laptop's teams.
async fn team_list(c: &Client) -> Vec<String> {
    find(c, ".team-list li").await.unwrap();
    let v = js(
        c,
        "return [...document.querySelectorAll('.team-list li')].map(li => li.textContent.trim())",
    )
    .await;
    serde_json::from_value(v).unwrap()
}

/// Approve a pending laptop as its admin would: refresh the list (Sync now), type the
/// fingerprint the laptop shows into its row, press Approve.
async fn approve_in_app(c: &Client, e: &wardside_sync_client::Enrolled) {
    click_in_view(c, "#state-title ~ button.primary").await;
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

/// Click an element scrolled to the middle of the window first (the header is sticky).
async fn click_in_view(c: &Client, css: &str) {
    find(c, css).await.unwrap();
    c.execute(
        "document.querySelector(arguments[0]).scrollIntoView({block: 'center'}); return null;",
        vec![serde_json::json!(css)],
    )
    .await
    .unwrap();
    click(c, css).await;
}

/// Wait for text; on failure keep a screenshot of what the page showed instead.
async fn expect(c: &Client, text: &str) {
    if let Err(e) = wait_for_text(c, text).await {
        if let Ok(png) = c.screenshot().await {
            let path = std::env::temp_dir().join("wardside-e2e-teams-failure.png");
            let _ = std::fs::write(&path, png);
            panic!("{e} (screenshot: {})", path.display());
        }
        panic!("{e}");
    }
}

/// A screenshot to look at: `/tmp/wardside-teams-<name>.png`.
async fn shot(c: &Client, name: &str) {
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    let png = c.screenshot().await.unwrap();
    std::fs::write(
        std::env::temp_dir().join(format!("wardside-teams-{name}.png")),
        png,
    )
    .unwrap();
}
