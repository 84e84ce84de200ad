//! The advocate's forms without traps (issue 13, parts 1, 2, 4 and 5), on the real app with the
//! clock pinned (WARDSIDE_NOW): Cancel and Esc keep what was typed; every form's draft outlives
//! a lock and the person comes back to the form they were in; an interview dated tomorrow is
//! refused beside its field; 31/02 gives the "There is a problem" summary whose link moves
//! focus to the field; an entry's date is corrected with a reason; a closed case is reopened.
//!
//! Needs a display (Xvfb), `tauri-driver` and `WebKitWebDriver`: `scripts/test.sh` runs this
//! with `--ignored`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use fantoccini::Client;
use fantoccini::key::Key;
use std::time::Duration;
use wardside_domain::*;
use wardside_e2e::*;
use wardside_store::clock::Clock;
use wardside_store::{Passphrase, Store};

const PASS: &str = "kettle orbit marmalade lantern";
/// "Today" for the store and the app: 10 March 2026, midday.
const NOW: &str = "2026-03-10T12:00:00Z";

fn d(s: &str) -> chrono::NaiveDate {
    s.parse().unwrap()
}

/// A store with one person, an open case (one issue, one interview yesterday).
fn seeded_store(db: &std::path::Path) {
    let mut store = Store::create(db, &Passphrase::new(PASS), "Ann Advocate").unwrap();
    store.set_clock(Clock::parse(NOW).unwrap());
    store
        .write(|w| {
            let client = w.add_client(&wardside_domain::Client::named("Maya Okafor"))?;
            w.add_legal_event(&LegalEvent {
                client_id: client,
                on: d("2026-03-01"),
                kind: LegalEventKind::StatusStarted {
                    status: StatusCode::S2,
                },
                note: None,
            })?;
            let case = w.open_case(&Case::opened(client, d("2026-03-02")))?;
            w.add_activity(
                &Activity {
                    case_id: case,
                    at: chrono::NaiveDateTime::parse_from_str("2026-03-09T10:00", "%Y-%m-%dT%H:%M")
                        .unwrap(),
                    duration_minutes: Some(30),
                    kind: ActivityKind::PrivateInterview { wishes: None },
                    withheld: None,
                },
                "First visit on the ward",
            )?;
            Ok(())
        })
        .unwrap();
    store.lock().unwrap();
}

async fn unlock(c: &Client) {
    type_into(c, "#passphrase", PASS).await;
    press(c, &char::from(Key::Enter).to_string()).await;
}

#[tokio::test(flavor = "current_thread")]
#[ignore = "needs Xvfb, tauri-driver and WebKitWebDriver: run by scripts/test.sh"]
async fn forms_ask_before_losing_anything_keep_drafts_and_point_at_the_field() {
    let sandbox = Sandbox::new().unwrap();
    let db = sandbox.path().join("store/wardside.db");
    seeded_store(&db);
    let now = std::ffi::OsString::from(NOW);
    let driver = start_driver_env(&sandbox, Some(&db), &[("WARDSIDE_NOW", &now)]).unwrap();
    let c = launch(&driver).await.unwrap();
    let mut a11y = Vec::new();
    find(&c, "#unlock-title").await.unwrap();
    unlock(&c).await;
    click(&c, "button.case-row").await;
    wait_for_text(&c, "First visit on the ward").await.unwrap();

    // ---- 1. Cancel keeps the activity; so does Esc then "Keep editing" ----
    press(&c, "n").await;
    type_into(&c, "#a-text", "Typed on the ward, not yet saved").await;
    click_button(&c, "Discard").await;
    find(&c, "#confirm-cancel").await.unwrap();
    wait_for_text(&c, "Discard this activity?").await.unwrap();
    assert_eq!(
        focused_id(&c).await,
        "confirm-cancel",
        "Cancel is the default"
    );
    check_axe(&c, "confirmation", &mut a11y).await;
    click(&c, "#confirm-cancel").await;
    assert!(gone(&c, "#confirm-ok").await);
    assert_eq!(
        value(&c, "#a-text").await,
        "Typed on the ward, not yet saved"
    );
    find(&c, "#a-text")
        .await
        .unwrap()
        .send_keys(&char::from(Key::Escape).to_string())
        .await
        .unwrap();
    find(&c, "#confirm-cancel").await.unwrap();
    press(&c, &char::from(Key::Escape).to_string()).await; // Esc in the question is Cancel
    assert!(gone(&c, "#confirm-ok").await);
    assert_eq!(
        value(&c, "#a-text").await,
        "Typed on the ward, not yet saved"
    );

    // ---- 4/5. Tomorrow is refused beside the date; 31/02 gives the summary and its link ----
    type_into(&c, "#a-date", "11/03/2026").await;
    find(&c, "#a-text").await.unwrap().click().await.unwrap();
    press(&c, &ctrl('\u{E007}')).await; // Ctrl+Enter
    wait_for_text(&c, "There is a problem").await.unwrap();
    wait_for_text(&c, "must be today or in the past")
        .await
        .unwrap();
    find(&c, "#a-date-error").await.unwrap();
    type_into(&c, "#a-date", "31/02/2026").await;
    find(&c, "#a-text").await.unwrap().click().await.unwrap();
    press(&c, &ctrl('\u{E007}')).await;
    wait_for_text(&c, "Date must be a real date").await.unwrap();
    let summary = find(&c, ".error-summary")
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(summary.contains("There is a problem"), "{summary}");
    assert!(!summary.contains("Enter the date it happened"), "{summary}");
    assert!(!summary.contains("Something went wrong"), "{summary}");
    check_axe(&c, "activity form with errors", &mut a11y).await;
    click(&c, ".error-summary a[href='#a-date']").await;
    assert_eq!(
        focused_id(&c).await,
        "a-date",
        "the summary's link moves focus to the field"
    );
    type_into(&c, "#a-date", "09/03/2026").await;
    find(&c, "#a-text").await.unwrap().click().await.unwrap();
    press(&c, &ctrl('\u{E007}')).await;
    wait_for_text(&c, "Activity saved.").await.unwrap();

    // ---- 2. Every form's draft outlives a lock, and the person comes back to it ----
    for (opens, field, typed, form_title) in [
        (
            "Safeguarding event",
            "#s-reason",
            "Said she would hurt her brother",
            "Safeguarding or confidentiality event",
        ),
        (
            "Add issue",
            "#i-summary",
            "Wants escorted leave to the park",
            "New issue",
        ),
        (
            "Record",
            "#k-how",
            "Verbally on the ward",
            "Consent decision",
        ),
        ("Edit", "#e-gender", "Woman", "The person's details"),
        (
            "Close case",
            "#c-note",
            "All done for now",
            "Close the case",
        ),
    ] {
        click_button(&c, opens).await;
        type_into(&c, field, typed).await;
        press(&c, &ctrl('l')).await;
        find(&c, "#unlock-title").await.unwrap();
        let body = find(&c, "body").await.unwrap().text().await.unwrap();
        assert!(
            !body.contains(typed),
            "the lock screen shows nothing of the form"
        );
        unlock(&c).await;
        wait_for_text(&c, form_title).await.unwrap();
        wait_for_text(&c, "Restored what you were typing")
            .await
            .unwrap();
        assert_eq!(
            value(&c, field).await,
            typed,
            "{form_title}: the draft came back"
        );
        // Esc asks before throwing typed text away; Discard does.
        find(&c, field)
            .await
            .unwrap()
            .send_keys(&char::from(Key::Escape).to_string())
            .await
            .unwrap();
        wait_for_text(&c, "Discard what you have typed?")
            .await
            .unwrap();
        click(&c, "#confirm-ok").await;
        assert!(gone(&c, field).await, "{form_title} closed");
    }
    // Discarded drafts stay gone.
    click_button(&c, "Safeguarding event").await;
    assert_eq!(value(&c, "#s-reason").await, "");
    press(&c, &char::from(Key::Escape).to_string()).await;
    assert!(gone(&c, "#s-reason").await);

    // ---- 4. An entry's date corrected with a reason; the history keeps what it was ----
    click_button(&c, "Correct date or details").await;
    find(&c, "#x-reason").await.unwrap();
    check_axe(&c, "correct an entry", &mut a11y).await;
    type_into(&c, "#x-date", "11/03/2026").await;
    type_into(&c, "#x-reason", "Typed the wrong day").await;
    click(&c, "dialog button.primary").await;
    wait_for_text(&c, "must be today or in the past")
        .await
        .unwrap();
    type_into(&c, "#x-date", "08/03/2026").await;
    click(&c, "dialog button.primary").await;
    wait_for_text(&c, "Correction saved").await.unwrap();
    wait_for_text(&c, "Details corrected").await.unwrap();
    click_button(&c, "History").await;
    wait_for_text(&c, "Typed the wrong day").await.unwrap();
    press(&c, &char::from(Key::Escape).to_string()).await;

    // ---- 4. Close the case, then reopen it with a reason ----
    click_button(&c, "Close case").await;
    find(&c, "#c-on").await.unwrap();
    // The issue added above was discarded, so nothing blocks closing.
    click(&c, "dialog button.primary").await;
    wait_for_text(&c, "Case closed.").await.unwrap();
    click_button(&c, "Reopen case").await;
    find(&c, "#ro-reason").await.unwrap();
    check_axe(&c, "reopen the case", &mut a11y).await;
    click(&c, "dialog button.primary").await;
    wait_for_text(&c, "Enter why the case is being reopened")
        .await
        .unwrap();
    type_into(&c, "#ro-reason", "Closed by mistake").await;
    click(&c, "dialog button.primary").await;
    wait_for_text(&c, "Case reopened").await.unwrap();
    wait_for_text(&c, "Closed by mistake").await.unwrap();

    // ---- New client: a bad NHS number is named beside its field; the draft outlives a lock ----
    click(&c, "nav button:nth-of-type(3)").await;
    type_into(&c, "#c-name", "Tomasz Nowak").await;
    type_into(&c, "#c-nhs", "943 476 5918").await; // the check digit is wrong
    pick_status(&c, "#c-status", "s3").await;
    type_into(&c, "#c-since", "01/03/2026").await;
    save_client(&c).await;
    wait_for_text(&c, "NHS number must be 10 digits and pass the check digit")
        .await
        .unwrap();
    find(&c, "#c-nhs-error").await.unwrap();
    let summary = find(&c, ".error-summary")
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(summary.contains("There is a problem"), "{summary}");
    check_axe(&c, "new client with an error", &mut a11y).await;
    press(&c, &ctrl('l')).await;
    find(&c, "#unlock-title").await.unwrap();
    unlock(&c).await;
    wait_for_text(&c, "Restored what you were typing")
        .await
        .unwrap();
    assert_eq!(value(&c, "#c-name").await, "Tomasz Nowak");

    // ---- a crash: the caseload lists what was not saved, and takes the person back to it ----
    click(&c, "nav button:nth-of-type(2)").await;
    click(&c, "button.case-row").await;
    click_button(&c, "Safeguarding event").await;
    type_into(&c, "#s-told", "Duty social worker").await;
    tokio::time::sleep(Duration::from_secs(4)).await; // the next autosave
    let app_pid = find_process(driver.pid(), &app_binary()).expect("the app's process");
    kill_hard(app_pid);
    c.close().await.ok();
    let c = launch(&driver).await.unwrap();
    unlock(&c).await;
    wait_for_text(&c, "Not yet saved").await.unwrap();
    wait_for_text(&c, "Safeguarding event: Maya Okafor")
        .await
        .unwrap();
    wait_for_text(&c, "New client").await.unwrap();
    check_axe(&c, "caseload with drafts waiting", &mut a11y).await;
    click_button(&c, "Safeguarding event: Maya Okafor").await;
    wait_for_text(&c, "Restored what you were typing")
        .await
        .unwrap();
    assert_eq!(value(&c, "#s-told").await, "Duty social worker");
    press(&c, &char::from(Key::Escape).to_string()).await;
    click(&c, "#confirm-ok").await;
    assert!(gone(&c, "#s-told").await);
    assert!(gone(&c, "#confirm-ok").await);

    // ---- Settings use the same pattern; a search's words do not stay in the header ----
    find(&c, "#global-search")
        .await
        .unwrap()
        .send_keys(&format!("Maya{}", char::from(Key::Enter)))
        .await
        .unwrap();
    wait_for_text(&c, "Search:").await.unwrap();
    click_button(&c, "Settings").await;
    find(&c, "#s-idle").await.unwrap();
    assert_eq!(
        value(&c, "#global-search").await,
        "",
        "the header forgets the search"
    );
    type_into(&c, "#s-idle", "0").await;
    click(&c, "form.form button.primary").await;
    wait_for_text(&c, "Minutes must be a whole number from 1 to 60")
        .await
        .unwrap();
    find(&c, "#s-idle-error").await.unwrap();
    type_into(&c, "#p-current", PASS).await;
    type_into(&c, "#p-new", "a different long passphrase").await;
    type_into(&c, "#p-confirm", "a different long passphrase!").await;
    click_button(&c, "Change passphrase").await;
    wait_for_text(&c, "Type the same new passphrase in both boxes")
        .await
        .unwrap();
    check_axe(&c, "settings with errors", &mut a11y).await;

    assert!(
        a11y.is_empty(),
        "accessibility problems:\n{}",
        a11y.join("\n")
    );
    c.close().await.ok();
}
