//! Finding anyone fast and never the wrong person, and text that grows (issue 13, parts 6 and
//! 7), on the real app: a name typed after `/` finds the person; the caseload's name box
//! filters; the row the arrow keys reached is visibly marked; Ctrl+= and Ctrl+0 change and
//! restore the text size; the status picker finds Section 2 from "s2"; New client asks for a
//! status and a date and warns about a repeated NHS number; axe-core finds no serious problem on
//! the search results, New client and the caseload.
//!
//! Needs a display (Xvfb), `tauri-driver` and `WebKitWebDriver`: `scripts/test.sh` provides them
//! and runs this with `--ignored`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use fantoccini::Client;
use fantoccini::key::Key;
use wardside_domain::*;
use wardside_e2e::*;
use wardside_store::{Passphrase, Store};

const PASS: &str = "kettle orbit marmalade lantern";
const NHS: &str = "9434765919";

async fn shot(c: &Client, name: &str) {
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let png = c.screenshot().await.unwrap();
    std::fs::write(format!("/tmp/wardside-find-{name}.png"), png).unwrap();
}

/// The text of every case row on the caseload.
async fn case_rows(c: &Client) -> Vec<String> {
    let v = js(
        c,
        "return [...document.querySelectorAll('button.case-row')].map(b => b.innerText);",
    )
    .await;
    serde_json::from_value(v).unwrap()
}

async fn root_font_size(c: &Client) -> String {
    js(
        c,
        "return getComputedStyle(document.documentElement).fontSize;",
    )
    .await
    .as_str()
    .unwrap()
    .to_owned()
}

/// Three people on section 2 with open cases, one of them 16 today; a store for "Ann Advocate".
fn store_with_people(sandbox: &Sandbox) -> std::path::PathBuf {
    let db = sandbox.path().join("find/wardside.db");
    let mut store = Store::create(&db, &Passphrase::new(PASS), "Ann Advocate").unwrap();
    let today = store.clock().today();
    let people = [
        ("Łucja Wiśniewska", Some(NHS), Some(16)),
        ("Lucas Brown", None, Some(40)),
        ("Zofia Nowak", None, None),
    ];
    store
        .write(|w| {
            for (name, nhs, age) in people {
                let mut c = wardside_domain::Client::named(name);
                c.nhs_number = nhs.map(|n| n.parse().unwrap());
                c.dob = age.map(|a| today - chrono::Duration::days(365 * a + 30));
                c.hospital = Some("Riverside".into());
                c.ward = Some("Cedar".into());
                let id = w.add_client(&c)?;
                w.add_legal_event(&LegalEvent {
                    client_id: id,
                    on: today - chrono::Duration::days(3),
                    kind: LegalEventKind::StatusStarted {
                        status: StatusCode::S2,
                    },
                    note: None,
                })?;
                w.open_case(&Case::opened(id, today - chrono::Duration::days(2)))?;
            }
            Ok(())
        })
        .unwrap();
    store.lock().unwrap();
    db
}

#[tokio::test(flavor = "current_thread")]
#[ignore = "needs Xvfb, tauri-driver and WebKitWebDriver: run by scripts/test.sh"]
async fn a_name_finds_the_person_and_the_selected_row_and_zoom_are_visible() {
    let sandbox = Sandbox::new().unwrap();
    let db = store_with_people(&sandbox);
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
    if let Err(e) = wait_for_text(&c, "Zofia Nowak").await {
        shot(&c, "caseload-failed").await;
        panic!("{e}");
    }
    check_axe(&c, "caseload", &mut a11y).await;
    let rows = case_rows(&c).await;
    assert_eq!(rows.len(), 3);
    assert!(
        rows[2].contains("Under 18") && !rows[0].contains("Under 18"),
        "the 16-year-old is marked, the adults are not: {rows:?}"
    );

    // ---- the caseload's name box filters as you type, ignoring accents ----
    type_into(&c, "#f-name", "wisn").await;
    for _ in 0..50 {
        if case_rows(&c).await.len() == 1 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let rows = case_rows(&c).await;
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert!(rows[0].contains("Łucja Wiśniewska"));
    shot(&c, "caseload-name").await;
    find(&c, "#f-name")
        .await
        .unwrap()
        .send_keys(&char::from(Key::Backspace).to_string().repeat(4))
        .await
        .unwrap();
    for _ in 0..50 {
        if case_rows(&c).await.len() == 3 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(case_rows(&c).await.len(), 3);

    // ---- arrow keys: the row that Enter would open is visibly marked ----
    js(&c, "document.activeElement.blur(); return null;").await;
    press(&c, &char::from(Key::Down).to_string()).await;
    press(&c, &char::from(Key::Down).to_string()).await;
    let styles = js(
        &c,
        "const rows = [...document.querySelectorAll('button.case-row')];
         const a = document.activeElement;
         const other = rows.find(r => r !== a);
         const s = getComputedStyle(a), o = getComputedStyle(other);
         return { index: rows.indexOf(a), outline: s.outlineStyle + ' ' + s.outlineWidth,
                  otherOutline: o.outlineStyle + ' ' + o.outlineWidth,
                  background: s.backgroundColor, otherBackground: o.backgroundColor };",
    )
    .await;
    assert_eq!(styles["index"], 1, "two presses of ↓ reach the second case");
    assert_ne!(styles["outline"], styles["otherOutline"], "{styles}");
    assert!(
        !styles["outline"].as_str().unwrap().starts_with("none"),
        "{styles}"
    );
    assert_ne!(styles["background"], styles["otherBackground"], "{styles}");
    shot(&c, "caseload-focus").await;

    // ---- zoom: Ctrl+= makes all text larger, Ctrl+0 restores it ----
    let normal = root_font_size(&c).await;
    press(&c, &ctrl('=')).await;
    let larger = root_font_size(&c).await;
    assert_ne!(normal, larger);
    let px = |s: &str| s.trim_end_matches("px").parse::<f64>().unwrap();
    assert!(px(&larger) > px(&normal), "{normal} → {larger}");
    shot(&c, "zoomed").await;
    press(&c, &ctrl('0')).await;
    assert_eq!(root_font_size(&c).await, normal);

    // ---- `/` then part of a name finds the person, people before notes ----
    js(&c, "document.activeElement.blur(); return null;").await;
    press(&c, "/").await;
    press(&c, &format!("lucja{}", char::from(Key::Enter))).await;
    find(&c, "#people-title").await.unwrap();
    if let Err(e) = wait_for_text(&c, "1 person matches").await {
        shot(&c, "search-failed").await;
        panic!("{e}");
    }
    let person = find(&c, "button.person")
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(person.contains("Łucja Wiśniewska"), "{person}");
    assert!(person.contains("Under 18"), "{person}");
    wait_for_text(&c, "No notes match.").await.unwrap();
    check_axe(&c, "search results", &mut a11y).await;
    shot(&c, "search").await;
    // By NHS number, typed with spaces.
    js(&c, "document.activeElement.blur(); return null;").await;
    press(&c, "/").await;
    press(&c, &ctrl('a')).await;
    press(&c, &format!("943 476 5919{}", char::from(Key::Enter))).await;
    wait_for_text(&c, "NHS number matches").await.unwrap();

    // ---- the bundled fonts load (the CSP allows them) and Arabic and Chinese render ----
    js(&c, "document.activeElement.blur(); return null;").await;
    press(&c, "/").await;
    press(&c, &ctrl('a')).await;
    press(&c, &format!("محمد 李小龙{}", char::from(Key::Enter))).await;
    wait_for_text(&c, "No people match.").await.unwrap();
    let loaded = c
        .execute_async(
            "const done = arguments[arguments.length - 1];
             Promise.all([
               document.fonts.load(\"16px 'Wardside Arabic'\", 'محمد'),
               document.fonts.load(\"16px 'Wardside CJK'\", '李'),
               document.fonts.load(\"16px 'Wardside Sans'\", 'Ł'),
             ]).then(() => done([...document.fonts].filter(f => f.status === 'loaded')
                 .map(f => f.family.replace(/\"/g, ''))))
               .catch(e => done(['failed: ' + e]));",
            vec![],
        )
        .await
        .unwrap();
    for family in ["Wardside Arabic", "Wardside CJK", "Wardside Sans"] {
        assert!(
            loaded.as_array().unwrap().iter().any(|f| f == family),
            "{family} did not load: {loaded}"
        );
    }
    shot(&c, "scripts").await;

    // ---- New client: no default status or date; "s2" finds Section 2, not Section 4 ----
    c.find(fantoccini::Locator::XPath(
        "//nav//button[normalize-space()='New client']",
    ))
    .await
    .unwrap()
    .click()
    .await
    .unwrap();
    find(&c, "#c-name").await.unwrap();
    assert_eq!(Some(value(&c, "#c-status").await), Some(String::new()));
    assert_eq!(Some(value(&c, "#c-since").await), Some(String::new()));
    check_axe(&c, "new client", &mut a11y).await;
    type_into(&c, "#c-name", "Someone Else").await;
    type_into(&c, "#c-nhs", "943 476 5919").await;
    save_client(&c).await;
    wait_for_text(&c, "Select the person's legal status")
        .await
        .unwrap();
    wait_for_text(&c, "Enter the date the legal status started")
        .await
        .unwrap();
    check_axe(&c, "new client with errors", &mut a11y).await;

    type_into(&c, "#c-status", "s2").await;
    find(&c, "#c-status-list li[role=option]").await.unwrap();
    let offered: Vec<String> = serde_json::from_value(
        js(
            &c,
            "return [...document.querySelectorAll('#c-status-list li[role=option]')].map(li => li.innerText);",
        )
        .await,
    )
    .unwrap();
    assert_eq!(offered, ["Section 2 (admission for assessment)"]);
    let expanded = find(&c, "#c-status")
        .await
        .unwrap()
        .attr("aria-expanded")
        .await
        .unwrap();
    assert_eq!(expanded.as_deref(), Some("true"));
    check_axe(&c, "status picker open", &mut a11y).await;
    shot(&c, "status-picker").await;
    press(&c, &char::from(Key::Enter).to_string()).await;
    assert_eq!(
        Some(value(&c, "#c-status").await),
        Some("Section 2 (admission for assessment)".into())
    );
    type_into(&c, "#c-since", "today").await;

    // ---- the NHS number is already known: the existing person is offered ----
    save_client(&c).await;
    wait_for_text(&c, "This person may already be in Wardside")
        .await
        .unwrap();
    wait_for_text(&c, "The same NHS number").await.unwrap();
    check_axe(&c, "new client duplicate warning", &mut a11y).await;
    shot(&c, "duplicate").await;
    c.find(fantoccini::Locator::XPath(
        "//button[normalize-space()='Open their record']",
    ))
    .await
    .unwrap()
    .click()
    .await
    .unwrap();
    wait_for_text(&c, "IMHA eligibility").await.unwrap();
    let heading = find(&c, "h1").await.unwrap().text().await.unwrap();
    assert!(heading.contains("Łucja Wiśniewska") && heading.contains("Under 18"));
    shot(&c, "case-under-18").await;

    // ---- the text size setting is saved with the settings and applied at once ----
    c.find(fantoccini::Locator::XPath(
        "//header//button[normalize-space()='Settings']",
    ))
    .await
    .unwrap()
    .click()
    .await
    .unwrap();
    find(&c, "#s-text-size")
        .await
        .unwrap()
        .select_by_value("150")
        .await
        .unwrap();
    c.find(fantoccini::Locator::XPath(
        "//button[normalize-space()='Save settings']",
    ))
    .await
    .unwrap()
    .click()
    .await
    .unwrap();
    wait_for_text(&c, "Settings saved.").await.unwrap();
    assert_eq!(root_font_size(&c).await, "24px", "150% of 16px");
    check_axe(&c, "settings", &mut a11y).await;
    shot(&c, "settings-150").await;
    press(&c, &ctrl('0')).await;
    assert_eq!(root_font_size(&c).await, "16px");

    assert!(a11y.is_empty(), "axe-core found:\n{}", a11y.join("\n"));
    c.close().await.ok();
}
