//! Every dated promise becomes a task (issue 13, part 3), on the real app: a concern recorded
//! with a response-due date is a task on the case and in "Due in the next 14 days" under its
//! day's heading; marking it done there takes it off the list and the case shows who did it
//! and when; the case header gives the tribunal position in one line; a task added by hand can
//! be snoozed with a reason; the diary shows the week and today's ward visits. axe-core finds no
//! serious problem on the case screen with tasks, the caseload or the diary.
//!
//! Needs a display (Xvfb), `tauri-driver` and `WebKitWebDriver`: `scripts/test.sh` provides them
//! and runs this with `--ignored`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use fantoccini::key::Key;
use fantoccini::{Client, Locator};
use wardside_domain::rules::{Jurisdiction, Rules};
use wardside_domain::*;
use wardside_e2e::*;
use wardside_store::{Passphrase, Store};

const PASS: &str = "kettle orbit marmalade lantern";

/// For looking at: /tmp/wardside-tasks-<name>.png.
async fn shot(c: &Client, name: &str) {
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let png = c.screenshot().await.unwrap();
    std::fs::write(format!("/tmp/wardside-tasks-{name}.png"), png).unwrap();
}

/// Wait until `script` returns true.
async fn until(c: &Client, script: &str, what: &str) {
    for _ in 0..100 {
        if js(c, script).await.as_bool() == Some(true) {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("never true: {what}");
}

async fn open_case(c: &Client, name: &str) {
    if find(c, "button.case-row").await.is_err() {
        shot(c, "no-cases").await;
        panic!("no case rows on the caseload: see /tmp/wardside-tasks-no-cases.png");
    }
    wait_for_text(c, name).await.unwrap();
    c.find(Locator::XPath(&format!(
        "//button[contains(@class, 'case-row')][contains(., '{name}')]"
    )))
    .await
    .unwrap()
    .click()
    .await
    .unwrap();
    wait_for_text(c, "IMHA eligibility").await.unwrap();
}

/// Maya Jones on section 3 for 40 days; Tom Okafor on section 2 since yesterday (a legal-status
/// reminder) with a ward visit planned today; both on Cedar ward with open cases. Returns the store and Maya's expected
/// tribunal line.
fn store_with_people(sandbox: &Sandbox) -> (std::path::PathBuf, String) {
    let db = sandbox.path().join("tasks/wardside.db");
    let mut store = Store::create(&db, &Passphrase::new(PASS), "Ann Advocate").unwrap();
    let today = store.clock().today();
    let people = [
        ("Maya Jones", StatusCode::S3, 40),
        ("Tom Okafor", StatusCode::S2, 1),
    ];
    let mut maya_history = Vec::new();
    store
        .write(|w| {
            for (name, status, days_ago) in people {
                let mut c = wardside_domain::Client::named(name);
                c.hospital = Some("Riverside".into());
                c.ward = Some("Cedar".into());
                let id = w.add_client(&c)?;
                let started = LegalEvent {
                    client_id: id,
                    on: today - chrono::Duration::days(days_ago),
                    kind: LegalEventKind::StatusStarted { status },
                    note: None,
                };
                w.add_legal_event(&started)?;
                if name == "Maya Jones" {
                    maya_history.push(started);
                }
                let case =
                    w.open_case(&Case::opened(id, today - chrono::Duration::days(days_ago)))?;
                if name == "Tom Okafor" {
                    w.add_task(&wardside_domain::tasks::Task {
                        case_id: case,
                        title: "Explain the tribunal to Tom".into(),
                        due: today,
                        kind: wardside_domain::tasks::PlannedKind::Visit,
                        time: Some(chrono::NaiveTime::from_hms_opt(10, 0, 0).unwrap()),
                    })?;
                }
            }
            Ok(())
        })
        .unwrap();
    store.lock().unwrap();
    let line = Rules::shipped()
        .unwrap()
        .tribunal_position(&maya_history, today, Jurisdiction::England)
        .text;
    (db, line)
}

#[tokio::test(flavor = "current_thread")]
#[ignore = "needs Xvfb, tauri-driver and WebKitWebDriver: run by scripts/test.sh"]
async fn a_concerns_response_due_date_is_a_task_that_can_be_marked_done() {
    let sandbox = Sandbox::new().unwrap();
    let (db, tribunal_line) = store_with_people(&sandbox);
    assert!(tribunal_line.starts_with("Can apply to the tribunal now, until "));
    let driver = start_driver_with(&sandbox, Some(&db)).unwrap();
    let c = launch(&driver).await.unwrap();
    let mut a11y = Vec::new();
    find(&c, "#passphrase")
        .await
        .unwrap()
        .send_keys(&format!("{PASS}{}", char::from(Key::Enter)))
        .await
        .unwrap();
    find(&c, "#cases-title").await.unwrap();
    wait_for_text(&c, "Due in the next 14 days").await.unwrap();

    // ---- the case: its tribunal line, and a concern with a response due in 3 days ----
    open_case(&c, "Maya Jones").await;
    let line = find(&c, "#tribunal-line")
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(line, format!("Tribunal: {tribunal_line}"));
    shot(&c, "case-top").await;
    let today = wardside_store::clock::Clock::from_env().unwrap().today();
    let due = today + chrono::Duration::days(3);
    click(&c, ".top .actions button.primary").await;
    find(&c, "#a-kind")
        .await
        .unwrap()
        .select_by_value("concern")
        .await
        .unwrap();
    type_into(&c, "#a-raised_with", "Ward manager").await;
    type_into(&c, "#a-response_due", &due.format("%d/%m/%Y").to_string()).await;
    type_into(&c, "#a-text", "Raised the blanket ban on mobile phones.").await;
    click(&c, ".activity-form button.primary").await;
    wait_for_text(&c, "Activity saved.").await.unwrap();
    wait_for_text(&c, "Response due to the concern raised with Ward manager")
        .await
        .unwrap();
    let task = find(&c, "#tasks-card li[data-key^='activity:']")
        .await
        .unwrap();
    assert!(task.text().await.unwrap().contains("in 3 days"));

    // ---- a task added by hand, snoozed with a reason ----
    click(&c, "#tasks-card .h button").await;
    type_into(&c, "#t-title", "Call the solicitor back").await;
    type_into(&c, "#t-due", "tomorrow").await;
    type_into(&c, "#t-time", "14:30").await;
    click(&c, "dialog form button.primary").await;
    wait_for_text(&c, "Call the solicitor back").await.unwrap();
    click(
        &c,
        "#tasks-card li[data-key^='task:'] button[aria-label^='Snooze']",
    )
    .await;
    find(&c, "#snooze-until").await.unwrap();
    // Both the day and the reason are needed.
    type_into(
        &c,
        "#snooze-until",
        &(today + chrono::Duration::days(2))
            .format("%d/%m/%Y")
            .to_string(),
    )
    .await;
    click(&c, "dialog form button.primary").await;
    wait_for_text(&c, "Enter the reason for snoozing")
        .await
        .unwrap();
    type_into(&c, "#snooze-reason", "Solicitor in court until Thursday").await;
    click(&c, "dialog form button.primary").await;
    wait_for_text(&c, "Snoozed until").await.unwrap();
    wait_for_text(&c, "Solicitor in court until Thursday")
        .await
        .unwrap();
    check_axe(&c, "case with tasks", &mut a11y).await;
    shot(&c, "case").await;

    // ---- the caseload: grouped by day, the concern's task there, marked done there ----
    click(&c, "button.brand").await;
    find(&c, "#cases-title").await.unwrap();
    let concern = "#due li[data-key^='activity:']";
    find(&c, concern).await.unwrap();
    let headings: Vec<String> = serde_json::from_value(
        js(
            &c,
            "return [...document.querySelectorAll('#due h3.day')].map(h => h.innerText);",
        )
        .await,
    )
    .unwrap();
    assert!(
        headings.iter().any(|h| h.starts_with("Today")),
        "{headings:?}"
    );
    let concern_day: String = serde_json::from_value(js(
        &c,
        "const li = document.querySelector(\"#due li[data-key^='activity:']\"); return li.closest('ul').previousElementSibling.innerText;",
    ).await)
    .unwrap();
    assert!(
        !concern_day.starts_with("Today") && !concern_day.starts_with("Tomorrow"),
        "three days away has a dated heading: {concern_day}"
    );
    assert!(
        js(
            &c,
            "return ![...document.querySelectorAll('#due li')].some(li => li.innerText.includes('Call the solicitor back'));"
        )
        .await
            == true,
        "the snoozed task is not due"
    );
    let row = find(&c, concern).await.unwrap().text().await.unwrap();
    assert!(
        row.contains("Maya Jones") && row.contains("Ward manager"),
        "{row}"
    );
    check_axe(&c, "caseload with tasks", &mut a11y).await;
    shot(&c, "caseload").await;
    click(&c, &format!("{concern} button[aria-label^='Mark done']")).await;
    wait_for_text(&c, "Marked done:").await.unwrap();
    until(
        &c,
        "return !document.querySelector(\"#due li[data-key^='activity:']\");",
        "the done task leaves the due list",
    )
    .await;

    // ---- back on the case: done, with who and when ----
    open_case(&c, "Maya Jones").await;
    wait_for_text(&c, "Done (1)").await.unwrap();
    js(
        &c,
        "const d = document.querySelector('#tasks-card details'); d.scrollIntoView({block: 'center'}); d.querySelector('summary').click(); return d.open;",
    )
    .await;
    let done = find(&c, "#tasks-card details li[data-key^='activity:']")
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(done.contains("Done by Ann Advocate"), "{done}");
    assert!(
        done.contains(&today.format("%-d %b %Y").to_string()),
        "{done}"
    );
    // Reopened, it is due again.
    click(
        &c,
        "#tasks-card details li[data-key^='activity:'] button[aria-label^='Reopen']",
    )
    .await;
    until(
        &c,
        "return !!document.querySelector(\"#tasks-card > ul li[data-key^='activity:']\");",
        "the reopened task is back among the tasks to do",
    )
    .await;

    // ---- the diary ----
    click(&c, "#nav-diary").await;
    wait_for_text(&c, "Ward visits today").await.unwrap();
    wait_for_text(&c, "Riverside, Cedar").await.unwrap();
    wait_for_text(&c, "Explain the tribunal to Tom")
        .await
        .unwrap();
    check_axe(&c, "diary", &mut a11y).await;
    shot(&c, "diary").await;

    assert!(a11y.is_empty(), "axe-core found: {a11y:#?}");
    c.close().await.unwrap();
}

/// The demo store's 300 people: what is due comes grouped under day headings (not a hundred
/// identical rows), a due row opens its case, and the diary's week is readable; axe-core finds
/// no serious problem on the busy caseload, case and diary.
#[tokio::test(flavor = "current_thread")]
#[ignore = "needs Xvfb, tauri-driver and WebKitWebDriver: run by scripts/test.sh"]
async fn on_a_busy_caseload_what_is_due_is_grouped_by_day() {
    let sandbox = Sandbox::new().unwrap();
    let db = sandbox.path().join("demo/wardside.db");
    {
        let mut store = Store::create(&db, &Passphrase::new(PASS), "Demo Advocate").unwrap();
        let today = store.clock().today();
        let cfg = wardside_domain::demo::DemoConfig::new(300, 7, today);
        wardside_store::demo::load(&mut store, &cfg, |_| {}).unwrap();
        store.lock().unwrap();
    }
    let driver = start_driver_with(&sandbox, Some(&db)).unwrap();
    let c = launch(&driver).await.unwrap();
    let mut a11y = Vec::new();
    find(&c, "#passphrase")
        .await
        .unwrap()
        .send_keys(&format!("{PASS}{}", char::from(Key::Enter)))
        .await
        .unwrap();
    find(&c, "#due li.due-item").await.unwrap();
    let days: Vec<String> = serde_json::from_value(
        js(
            &c,
            "return [...document.querySelectorAll('#due h3.day')].map(h => h.innerText);",
        )
        .await,
    )
    .unwrap();
    assert!(!days.is_empty());
    let mut unique = days.clone();
    unique.dedup();
    assert_eq!(unique, days, "one heading per day");
    check_axe(&c, "busy caseload", &mut a11y).await;
    shot(&c, "demo-caseload").await;

    click(&c, "#due li.due-item button.who").await;
    wait_for_text(&c, "IMHA eligibility").await.unwrap();
    find(&c, "#tasks-card li.task").await.unwrap();
    check_axe(&c, "busy case", &mut a11y).await;
    js(
        &c,
        "document.querySelector('#tasks-card').scrollIntoView(); return true;",
    )
    .await;
    shot(&c, "demo-case").await;

    click(&c, "#nav-diary").await;
    wait_for_text(&c, "Ward visits today").await.unwrap();
    check_axe(&c, "busy diary", &mut a11y).await;
    shot(&c, "demo-diary").await;
    assert!(a11y.is_empty(), "axe-core found: {a11y:#?}");
    c.close().await.unwrap();
}
