//! Screenshots of each main screen, on a demo store of synthetic people, for looking at and
//! for the README: `scripts/screenshots.sh` (writes docs/screenshots/).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use fantoccini::Client;
use fantoccini::key::Key;
use wardside_e2e::*;
use wardside_store::{Passphrase, Store};

const PASS: &str = "demo store passphrase";

async fn shot(c: &Client, name: &str) {
    assert!(
        std::env::var_os("WARDSIDE_SCREENSHOTS").is_some(),
        "WARDSIDE_SCREENSHOTS names the folder for the screenshots"
    );
    screenshot(c, name).await;
}

#[tokio::test(flavor = "current_thread")]
#[ignore = "writes screenshots: run by scripts/screenshots.sh"]
async fn screenshots_of_each_main_screen() {
    let sandbox = Sandbox::new().unwrap();
    let db = sandbox.path().join("demo/wardside.db");
    {
        let mut store = Store::create(&db, &Passphrase::new(PASS), "Demo Advocate").unwrap();
        let today = wardside_domain::rules::period::uk_date_at(chrono::Utc::now());
        let cfg = wardside_domain::demo::DemoConfig::new(300, 7, today);
        wardside_store::demo::load(&mut store, &cfg, |_| {}).unwrap();
        store.lock().unwrap();
    }
    let driver = start_driver_with(&sandbox, Some(&db)).unwrap();
    let c = launch(&driver).await.unwrap();
    find(&c, "#unlock-title").await.unwrap();
    shot(&c, "lock").await;
    let input = find(&c, "#passphrase").await.unwrap();
    input
        .send_keys(&format!("{PASS}{}", char::from(Key::Enter)))
        .await
        .unwrap();
    find(&c, "#cases-title").await.unwrap();
    wait_for_text(&c, "Due in the next").await.unwrap();
    shot(&c, "caseload").await;

    // The case with the most going on near the top of the list.
    find(&c, "#due button.who")
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for_text(&c, "IMHA eligibility").await.unwrap();
    shot(&c, "case").await;

    find(&c, "#export-button")
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for_text(&c, "You choose where each file goes")
        .await
        .unwrap();
    shot(&c, "export").await;
    press(&c, "\u{E00C}").await; // Esc closes it

    // The safeguarding form, with its choice about the person's own copy.
    find(&c, ".top .actions button:nth-child(2)")
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for_text(&c, "Safeguarding or confidentiality event")
        .await
        .unwrap();
    c.execute(
        "document.querySelector('#s-withheld').scrollIntoView({block: 'center'})",
        vec![],
    )
    .await
    .unwrap();
    shot(&c, "safeguarding").await;
    press(&c, "\u{E00C}").await;

    press(&c, "n").await;
    find(&c, "#a-kind")
        .await
        .unwrap()
        .select_by_value("ward-round")
        .await
        .unwrap();
    // A date that does not exist: the error summary, linked to the field, and the same words beside it.
    type_into(&c, "#a-date", "31/02/2026").await;
    c.execute("document.getElementById('a-text').focus()", vec![])
        .await
        .unwrap();
    press(&c, &ctrl('\u{E007}')).await;
    wait_for_text(&c, "There is a problem").await.unwrap();
    shot(&c, "form-errors").await;
    type_into(&c, "#a-date", "today").await;
    find(&c, "#a-points").await.unwrap().send_keys("Wants escorted leave to attend her sister's wedding\u{E007}Says the new medication makes her too drowsy for groups").await.unwrap();
    find(&c, "#a-response")
        .await
        .unwrap()
        .send_keys("RC agreed to review leave on Friday; pharmacist to review dose")
        .await
        .unwrap();
    find(&c, "#a-text").await.unwrap().send_keys("Met before the ward round to agree what to raise. She asked me to lead on leave and to support her to speak about the medication herself.").await.unwrap();
    shot(&c, "new-activity").await;
    // Esc with something typed asks first; Cancel (the default) keeps it all.
    find(&c, "#a-text")
        .await
        .unwrap()
        .send_keys(&char::from(Key::Escape).to_string())
        .await
        .unwrap();
    find(&c, "#confirm-cancel").await.unwrap();
    shot(&c, "confirm").await;
    click(&c, "#confirm-cancel").await;
    find(&c, ".activity-form button.primary")
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for_text(&c, "Activity saved.").await.unwrap();
    // Correcting an entry's date or details, with a reason.
    c.find(fantoccini::Locator::XPath(
        "//button[normalize-space()='Correct date or details']",
    ))
    .await
    .unwrap()
    .click()
    .await
    .unwrap();
    find(&c, "#x-reason").await.unwrap();
    shot(&c, "correct-entry").await;
    press(&c, "\u{E00C}").await;

    find(&c, "#global-search")
        .await
        .unwrap()
        .send_keys(&format!("tribunal{}", char::from(Key::Enter)))
        .await
        .unwrap();
    wait_for_text(&c, "Search:").await.unwrap();
    shot(&c, "search").await;

    click(&c, "nav button:nth-of-type(3)").await;
    find(&c, "#c-name").await.unwrap();
    shot(&c, "new-client").await;

    // The week's diary, with today's ward visits ready to print.
    click(&c, "#nav-diary").await;
    wait_for_text(&c, "Ward visits today").await.unwrap();
    shot(&c, "diary").await;

    // Settings, then the dark theme.
    c.find(fantoccini::Locator::XPath(
        "//header//button[normalize-space()='Settings']",
    ))
    .await
    .unwrap()
    .click()
    .await
    .unwrap();
    find(&c, "input[value=dark]").await.unwrap();
    shot(&c, "settings").await;
    find(&c, "input[value=dark]")
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    find(&c, "form.form button.primary")
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    click(&c, "button.brand").await;
    find(&c, "#cases-title").await.unwrap();
    find(&c, "button.case-row").await.unwrap();
    press(&c, &char::from(Key::Down).to_string()).await;
    press(&c, &char::from(Key::Enter).to_string()).await;
    wait_for_text(&c, "IMHA eligibility").await.unwrap();
    shot(&c, "case-dark").await;
    c.close().await.unwrap();
}
