//! The whole ward visit on the real app: first run, a new client and case, a private interview
//! and a ward-round representation typed with the keyboard, search, lock and unlock, a wrong
//! passphrase, a restart, a draft that survives a lock and a killed process; axe-core on every
//! main screen and dialog; and afterwards no trace of the note's text anywhere but inside the
//! encrypted store.
//!
//! Needs a display (Xvfb), `tauri-driver` and `WebKitWebDriver`: `scripts/test.sh` provides them
//! and runs this with `--ignored`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use fantoccini::Client;
use fantoccini::key::Key;
use wardside_e2e::*;

const PASS: &str = "kettle orbit marmalade lantern";
const CANARY: &str = "zebracanary7319";

#[tokio::test(flavor = "current_thread")]
#[ignore = "needs Xvfb, tauri-driver and WebKitWebDriver: run by scripts/test.sh"]
async fn a_whole_ward_visit_by_keyboard_survives_lock_and_restart_and_leaves_no_plaintext() {
    let sandbox = Sandbox::new().unwrap();
    let driver = start_driver(&sandbox).unwrap();
    let mut a11y = Vec::new();

    // ---- first run ----
    let c = launch(&driver).await.unwrap();
    find(&c, "#first-run-title").await.unwrap();
    check_axe(&c, "first run", &mut a11y).await;
    type_into(&c, "#advocate", "Ann Advocate").await;
    type_into(&c, "#new-pass", PASS).await;
    wait_for_text(&c, "Strong").await.unwrap();
    type_into(&c, "#confirm-pass", PASS).await;
    click(&c, "input[type=checkbox]").await;
    click(&c, "button[type=submit]").await;
    find(&c, "#cases-title").await.unwrap();
    check_axe(&c, "caseload", &mut a11y).await;

    // ---- a new client with a case ----
    click(&c, "nav button:nth-of-type(3)").await;
    find(&c, "#c-name").await.unwrap();
    check_axe(&c, "new client", &mut a11y).await;
    type_into(&c, "#c-name", "Łucja Wiśniewska").await;
    type_into(&c, "#c-hospital", "Riverside Hospital").await;
    type_into(&c, "#c-ward", "Cedar Ward").await;
    pick_status(&c, "#c-status", "s3").await;
    type_into(&c, "#c-since", "today").await;
    save_client(&c).await;
    wait_for_text(&c, "Qualifying patient").await.unwrap();
    check_axe(&c, "case", &mut a11y).await;

    // ---- a private interview, started with one keystroke and saved with Ctrl+Enter ----
    press(&c, "n").await;
    find(&c, "#a-kind").await.unwrap();
    type_into(&c, "#a-wishes", "I want to go to my sister's wedding").await;
    type_into(
        &c,
        "#a-text",
        &format!("Met in the quiet room. Wedding leave {CANARY}."),
    )
    .await;
    press(&c, &ctrl('\u{E007}')).await; // Ctrl+Enter
    wait_for_text(&c, "Activity saved.").await.unwrap();

    // ---- a ward round representation ----
    press(&c, "n").await;
    let kind = find(&c, "#a-kind").await.unwrap();
    kind.select_by_value("ward-round").await.unwrap();
    type_into(
        &c,
        "#a-points",
        "Escorted leave for the wedding\u{E007}Medication makes her drowsy",
    )
    .await;
    type_into(&c, "#a-response", "RC will consider leave on Friday").await;
    type_into(&c, "#a-text", "Represented both points at the ward round.").await;
    check_axe(&c, "new activity form", &mut a11y).await;
    find(&c, "#a-text").await.unwrap().click().await.unwrap();
    press(&c, &ctrl('\u{E007}')).await; // Ctrl+Enter saves
    wait_for_text(&c, "Activity saved.").await.unwrap();
    wait_for_text(&c, "Escorted leave for the wedding")
        .await
        .unwrap();
    wait_for_text(&c, "Ward round representation")
        .await
        .unwrap();
    check_axe(&c, "case with timeline", &mut a11y).await;

    // ---- the safeguarding and closing dialogs are there and accessible; Esc closes them ----
    for (button, title) in [
        (2, "Safeguarding or confidentiality event"),
        (3, "Close the case"),
    ] {
        // The sticky header would cover the button if the page were scrolled.
        c.execute("window.scrollTo(0, 0)", vec![]).await.unwrap();
        click(&c, &format!(".top .actions button:nth-child({button})")).await;
        wait_for_text(&c, title).await.unwrap();
        check_axe(&c, title, &mut a11y).await;
        press(&c, &char::from(Key::Escape).to_string()).await;
    }

    // ---- the person's details and equality monitoring ----
    click(&c, "#details-title + button").await;
    find(&c, "#e-ward").await.unwrap();
    check_axe(&c, "client details dialog", &mut a11y).await;
    type_into(&c, "#e-ward", "Birch Ward").await;
    find(&c, "#e-ethnic")
        .await
        .unwrap()
        .select_by_value("Z")
        .await
        .unwrap();
    click(&c, "dialog button.primary").await;
    wait_for_text(&c, "Details saved.").await.unwrap();
    wait_for_text(&c, "Birch Ward").await.unwrap();

    // ---- search finds it ----
    press(&c, "/").await;
    press(&c, &format!("{CANARY}{}", char::from(Key::Enter))).await;
    wait_for_text(&c, "1 note matches").await.unwrap();
    wait_for_text(&c, "Łucja Wiśniewska").await.unwrap();
    check_axe(&c, "search", &mut a11y).await;

    // ---- lock with Ctrl+L; a wrong passphrase is refused clearly ----
    press(&c, &ctrl('l')).await;
    find(&c, "#unlock-title").await.unwrap();
    let body = find(&c, "body").await.unwrap().text().await.unwrap();
    assert!(
        !body.contains("Łucja"),
        "the lock screen shows nothing of the case"
    );
    check_axe(&c, "lock", &mut a11y).await;
    unlock(&c, "kettle orbit marmalade lantern?").await;
    let err = find(&c, "#unlock-error")
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(err.to_lowercase().contains("wrong passphrase"), "{err}");
    unlock(&c, PASS).await;
    find(&c, "#cases-title").await.unwrap();

    // ---- a draft survives a lock, and a crash ----
    click(&c, "button.case-row").await;
    wait_for_text(&c, "Timeline").await.unwrap();
    press(&c, "n").await;
    type_into(&c, "#a-text", "Half-written note about the tribunal").await;
    wait_for_text(&c, "Draft kept").await.unwrap();
    press(&c, &ctrl('l')).await;
    unlock(&c, PASS).await;
    // Unlocking goes back to the case the advocate was in, with the draft open again.
    wait_for_text(&c, "Timeline").await.unwrap();
    let draft_text = |c: Client| async move { Some(value(&c, "#a-text").await) };
    assert_eq!(
        draft_text(c.clone()).await.as_deref(),
        Some("Half-written note about the tribunal")
    );
    type_into(
        &c,
        "#a-text",
        "Half-written note about the tribunal, continued",
    )
    .await;
    wait_for_text(&c, "Draft kept").await.unwrap();
    tokio::time::sleep(std::time::Duration::from_secs(4)).await; // the next autosave
    let app_pid = find_process(driver.pid(), &app_binary()).expect("the app's process");
    kill_hard(app_pid);
    // End the dead app's WebDriver session so the driver starts a new one.
    c.close().await.ok();
    let c = launch(&driver).await.unwrap();
    unlock(&c, PASS).await;
    click(&c, "button.case-row").await;
    assert_eq!(
        draft_text(c.clone()).await.as_deref(),
        Some("Half-written note about the tribunal, continued"),
        "the draft outlived a crash"
    );
    click(&c, ".activity-form button[type=button]").await; // discard: asks first
    click(&c, "#confirm-ok").await;
    wait_for_text(&c, "Timeline").await.unwrap();
    c.close().await.ok();

    // ---- restart: everything is still there (the case opened from the keyboard) ----
    let c = launch(&driver).await.unwrap();
    unlock(&c, PASS).await;
    find(&c, "button.case-row").await.unwrap();
    press(&c, &char::from(Key::Down).to_string()).await;
    press(&c, &char::from(Key::Enter).to_string()).await;
    wait_for_text(&c, &format!("Wedding leave {CANARY}"))
        .await
        .unwrap();
    wait_for_text(&c, "RC will consider leave on Friday")
        .await
        .unwrap();
    press(&c, &ctrl('l')).await;
    find(&c, "#unlock-title").await.unwrap();
    c.close().await.unwrap();
    drop(driver);

    // ---- nothing typed appears outside the encrypted store ----
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert!(
        sandbox.db().exists(),
        "the store was created where expected"
    );
    let leaks = sandbox.files_containing(CANARY.as_bytes());
    eprintln!(
        "checked {} files left by the run (store, key file, webview data and cache, settings)",
        sandbox.file_count()
    );
    for f in sandbox.list() {
        eprintln!(
            "  {}",
            f.strip_prefix(sandbox.path()).unwrap_or(&f).display()
        );
    }
    assert!(
        leaks.is_empty(),
        "the note's text was found outside the encrypted store: {leaks:?} ({} files checked)",
        sandbox.file_count()
    );
    assert!(
        a11y.is_empty(),
        "serious or critical accessibility violations:\n{}",
        a11y.join("\n")
    );
}

/// Launch the app on no store and create one: the caseload shows.
async fn first_run(driver: &Driver) -> Client {
    let c = launch(driver).await.unwrap();
    type_into(&c, "#advocate", "Ann Advocate").await;
    type_into(&c, "#new-pass", PASS).await;
    type_into(&c, "#confirm-pass", PASS).await;
    click(&c, "input[type=checkbox]").await;
    click(&c, "button[type=submit]").await;
    find(&c, "#cases-title").await.unwrap();
    c
}

async fn open_dialog(c: &Client, button_css: &str, title: &str) {
    c.execute("window.scrollTo(0, 0)", vec![]).await.unwrap();
    click(c, button_css).await;
    wait_for_text(c, title).await.unwrap();
}

async fn save_dialog(c: &Client, saved: &str) {
    click(c, "dialog button.primary").await;
    wait_for_text(c, saved).await.unwrap();
}

#[tokio::test(flavor = "current_thread")]
#[ignore = "needs Xvfb, tauri-driver and WebKitWebDriver: run by scripts/test.sh"]
async fn every_case_form_saves_through_the_ui_and_the_case_closes_with_outcomes() {
    let sandbox = Sandbox::new().unwrap();
    let driver = start_driver(&sandbox).unwrap();
    let c = first_run(&driver).await;

    // A non-instructed case for someone on section 2 since 20/11/2026.
    click(&c, "nav button:nth-of-type(3)").await;
    type_into(&c, "#c-name", "Gethin Ap Rhys").await;
    type_into(&c, "#c-since", "20/11/2026").await;
    pick_status(&c, "#c-status", "s2").await;
    click(&c, "input[name=instr][value=false]").await;
    type_into(
        &c,
        "#c-reason",
        "Very unwell; cannot express a view at present",
    )
    .await;
    save_client(&c).await;
    wait_for_text(&c, "Non-instructed").await.unwrap();
    wait_for_text(&c, "Section 2 (admission for assessment)")
        .await
        .unwrap();

    // Issue, legal event, consent, nearest relative, safeguarding.
    open_dialog(&c, "#issues-title + button", "New issue").await;
    choose(&c, "#i-cat", "tribunal").await;
    type_into(&c, "#i-summary", "Wants to appeal against the section").await;
    save_dialog(&c, "Issue added.").await;

    open_dialog(&c, "#legal-title + button", "Legal status history").await;
    choose(&c, "#l-event", "tribunal-application").await;
    type_into(&c, "#l-on", "22/11/2026").await;
    save_dialog(&c, "Saved.").await;
    wait_for_text(&c, "Application to the tribunal")
        .await
        .unwrap();

    open_dialog(&c, "#consent-title + button", "Consent decision").await;
    choose(&c, "#k-state", "lacks-capacity").await;
    save_dialog(&c, "Saved.").await;
    wait_for_text(&c, "Lacks capacity to decide").await.unwrap();

    open_dialog(
        &c,
        "#people-title + button",
        "Nearest relative or nominated person",
    )
    .await;
    type_into(&c, "#r-name", "Megan Ap Rhys").await;
    type_into(&c, "#r-rel", "Mother").await;
    save_dialog(&c, "Saved.").await;
    wait_for_text(&c, "Megan Ap Rhys").await.unwrap();

    open_dialog(
        &c,
        ".top .actions button:nth-child(2)",
        "Safeguarding or confidentiality event",
    )
    .await;
    type_into(&c, "#s-reason", "Disclosed a risk to a child at home").await;
    type_into(
        &c,
        "#s-told",
        "Local authority children's services duty team",
    )
    .await;
    click(&c, "dialog input[type=checkbox]").await; // not discussed first
    type_into(
        &c,
        "#s-why",
        "Telling them first would have increased the risk",
    )
    .await;
    type_into(&c, "#s-manager", "Team manager").await;
    save_dialog(&c, "Event recorded").await;
    wait_for_text(&c, "Safeguarding concern raised")
        .await
        .unwrap();

    // Closing asks for every issue's outcome, then closes.
    open_dialog(&c, ".top .actions button:nth-child(3)", "Close the case").await;
    click(&c, "dialog button.primary").await;
    wait_for_text(&c, "There is a problem").await.unwrap();
    wait_for_text(&c, "Choose an outcome for").await.unwrap();
    let outcome = find(&c, "dialog select").await.unwrap();
    outcome.select_by_value("application-made").await.unwrap();
    choose(&c, "#c-reason", "discharged").await;
    save_dialog(&c, "Case closed.").await;
    wait_for_text(&c, "Closed on").await.unwrap();
    wait_for_text(&c, "Outcome: Application made")
        .await
        .unwrap();
    // A closed case offers no new activity: it can be reopened, referred again, exported and audited.
    let buttons = c
        .execute(
            "return [...document.querySelectorAll('.top .actions button')].map(b => b.textContent.trim())",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(
        buttons,
        serde_json::json!(["Reopen case", "New referral", "Export…", "Audit trail"]),
    );

    // The audit trail lists the work.
    click(&c, ".top .actions button:last-child").await;
    wait_for_text(&c, "Audit trail for this case")
        .await
        .unwrap();
    wait_for_text(&c, "Ann Advocate").await.unwrap();
    c.close().await.unwrap();
}

fn pdftotext(pdf: &std::path::Path) -> String {
    let out = std::process::Command::new("pdftotext")
        .arg(pdf)
        .arg("-")
        .output()
        .unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap()
}

#[tokio::test(flavor = "current_thread")]
#[ignore = "needs Xvfb, tauri-driver and WebKitWebDriver: run by scripts/test.sh"]
async fn exports_are_saved_where_asked_and_the_persons_copy_leaves_withheld_entries_out() {
    let sandbox = Sandbox::new().unwrap();
    let out = sandbox.path().join("exported.pdf");
    let driver =
        start_driver_env(&sandbox, None, &[("WARDSIDE_E2E_SAVE_AS", out.as_os_str())]).unwrap();
    let c = first_run(&driver).await;
    click(&c, "nav button:nth-of-type(3)").await;
    type_into(&c, "#c-name", "Zainab Qureshi").await;
    pick_status(&c, "#c-status", "s3").await;
    type_into(&c, "#c-since", "today").await;
    save_client(&c).await;
    wait_for_text(&c, "Case opened").await.unwrap();

    // One note for the person, one kept from them.
    press(&c, "n").await;
    type_into(&c, "#a-text", "Explained section 2 and the tribunal.").await;
    press(&c, &ctrl('\u{E007}')).await;
    wait_for_text(&c, "Activity saved.").await.unwrap();
    press(&c, "n").await;
    find(&c, "#a-kind")
        .await
        .unwrap()
        .select_by_value("professional-interview")
        .await
        .unwrap();
    type_into(&c, "#a-professional", "Staff nurse").await;
    type_into(&c, "#a-text", &format!("Her cousin's diagnosis {CANARY}.")).await;
    choose(&c, "#a-withheld", "third-party").await;
    find(&c, "#a-text").await.unwrap().click().await.unwrap();
    press(&c, &ctrl('\u{E007}')).await;
    wait_for_text(&c, "Activity saved.").await.unwrap();
    wait_for_text(&c, "Left out of the person's own copy")
        .await
        .unwrap();

    // The person's copy: saved where asked, without the withheld note.
    open_dialog(&c, "#export-button", "You choose where each file goes").await;
    let mut a11y = Vec::new();
    check_axe(&c, "export dialog", &mut a11y).await;
    assert!(a11y.is_empty(), "{a11y:#?}");
    click(&c, "button[data-export=patient-copy]").await;
    wait_for_text(&c, "Saved").await.unwrap();
    let text = pdftotext(&out);
    assert!(text.contains("YOUR ADVOCACY RECORD"), "{text}");
    assert!(text.contains("Explained section 2 and the tribunal."));
    assert!(!text.contains(CANARY));
    assert!(text.contains("not included"));

    // The service's case file has it, marked (the same path, written again).
    open_dialog(&c, "#export-button", "You choose where each file goes").await;
    click(&c, "button[data-export=case-file]").await;
    let mut text = String::new();
    for _ in 0..60 {
        text = pdftotext(&out);
        if text.contains("ADVOCACY CASE FILE") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    assert!(
        text.contains(CANARY) && text.contains("Not for the person"),
        "{text}"
    );

    // Nothing else was written outside the store: the only PDF is the one asked for, and the
    // note's text is nowhere but in it and the encrypted store.
    let pdfs: Vec<_> = sandbox
        .list()
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "pdf"))
        .collect();
    assert_eq!(pdfs, std::slice::from_ref(&out));
    let leaks: Vec<_> = sandbox
        .files_containing(CANARY.as_bytes())
        .into_iter()
        .filter(|p| *p != out)
        .collect();
    assert!(leaks.is_empty(), "{leaks:?}");
    c.close().await.unwrap();
}
