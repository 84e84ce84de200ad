//! The Mental Health Act rules of issue 15 as an advocate meets them on the real app, with the
//! clock pinned (WARDSIDE_NOW): a person on section 3 whose community treatment order is
//! recorded and then revoked (s. 17F) through the legal-status history form, after which the
//! case's tasks name the managers' reference (s. 68(7)) and the patient's six months to apply
//! (s. 66(1)(cb)); the revocation form offering only the sections a CTO is made under, asking
//! for one, and saving nothing half done;
//! and, for an organisation in Wales, the new-person form's in-patient question for an informal
//! patient, an out-patient recorded as not a qualifying patient (s. 130J(2)(a)).
//!
//! Screenshots for looking at go to `$WARDSIDE_SCREENSHOTS` (else the temporary directory).
//!
//! Needs a display (Xvfb), `tauri-driver` and `WebKitWebDriver`: `scripts/test.sh` runs this
//! with `--ignored`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use fantoccini::Client;
use fantoccini::key::Key;
use wardside_domain::*;
use wardside_e2e::*;
use wardside_store::clock::Clock;
use wardside_store::{CaseloadFilter, Passphrase, Store};

const PASS: &str = "kettle orbit marmalade lantern";
/// "Today" for the store and the app: 10 March 2026, midday.
const NOW: &str = "2026-03-10T12:00:00Z";

fn d(s: &str) -> chrono::NaiveDate {
    s.parse().unwrap()
}

/// A store with nobody in it yet, or with one person on a community treatment order (section 3
/// from 1 June 2025, the CTO from 1 September 2025) and an open case.
fn store(db: &std::path::Path, with_person_on_a_cto: bool) {
    let mut store = Store::create(db, &Passphrase::new(PASS), "Ann Advocate").unwrap();
    store.set_clock(Clock::parse(NOW).unwrap());
    if with_person_on_a_cto {
        store
            .write(|w| {
                let client = w.add_client(&wardside_domain::Client::named("Dev Patel"))?;
                for (on, status) in [
                    ("2025-06-01", StatusCode::S3),
                    ("2025-09-01", StatusCode::S17A),
                ] {
                    w.add_legal_event(&LegalEvent {
                        client_id: client,
                        on: d(on),
                        kind: LegalEventKind::StatusStarted { status },
                        note: None,
                    })?;
                }
                w.open_case(&Case::opened(client, d("2025-06-02")))?;
                Ok(())
            })
            .unwrap();
    }
    store.lock().unwrap();
}

/// Unlock the app on the store and wait for the caseload.
async fn start(driver: &Driver) -> Client {
    let c = launch(driver).await.unwrap();
    find(&c, "#unlock-title").await.unwrap();
    unlock(&c, PASS).await;
    find(&c, "#cases-title").await.unwrap();
    c
}

/// New client, filled in as a person would: name, status (typed into the picker), since.
async fn new_client(c: &Client, name: &str, status: &str, since: &str) {
    click(c, "nav button:nth-of-type(3)").await;
    type_into(c, "#c-name", name).await;
    pick_status(c, "#c-status", status).await;
    type_into(c, "#c-since", since).await;
}

/// Open the legal-status history form from the case's card (scrolled to the middle first: the
/// header is sticky).
async fn open_legal_form(c: &Client) {
    js(
        c,
        "document.querySelector(\"section[aria-labelledby='legal-title'] button\").scrollIntoView({ block: 'center' }); return null;",
    )
    .await;
    click(c, "section[aria-labelledby='legal-title'] button").await;
    find(c, "#l-event").await.unwrap();
}

/// The case's legal-status history, as listed on its card.
async fn legal_history(c: &Client) -> String {
    text_of(c, "section[aria-labelledby='legal-title'] ul").await
}

#[tokio::test(flavor = "current_thread")]
#[ignore = "needs Xvfb, tauri-driver and WebKitWebDriver: run by scripts/test.sh"]
async fn a_revoked_cto_reminds_of_the_managers_reference_and_the_patients_six_months() {
    let sandbox = Sandbox::new().unwrap();
    let db = sandbox.path().join("store/wardside.db");
    store(&db, false);
    let now = std::ffi::OsString::from(NOW);
    let driver = start_driver_env(&sandbox, Some(&db), &[("WARDSIDE_NOW", &now)]).unwrap();
    let c = start(&driver).await;
    let mut a11y = Vec::new();

    // ---- a new person on section 3: no in-patient question (that is for informal patients) ----
    new_client(&c, "Aisha Rahman", "s3", "01/06/2025").await;
    assert!(
        gone(&c, "#c-inpatient").await,
        "the in-patient question is only for an informal patient"
    );
    screenshot(&c, "rules-1-new-client-s3").await;
    save_client(&c).await;
    wait_for_text(&c, "IMHA eligibility").await.unwrap();
    wait_for_text(&c, "Section 3 (admission for treatment)")
        .await
        .unwrap();

    // ---- the CTO, then its revocation, through the legal-status history form ----
    open_legal_form(&c).await;
    wait_for_text(&c, "Legal status history").await.unwrap();
    choose(&c, "#l-event", "status-started").await;
    choose(&c, "#l-status", "s17a").await;
    type_into(&c, "#l-on", "01/09/2025").await;
    click(&c, "dialog button.primary").await;
    assert!(gone(&c, "#l-event").await, "the form closed on saving");
    wait_for_text(&c, "Saved.").await.unwrap();
    assert!(
        legal_history(&c)
            .await
            .contains("Legal status began: Section 17A (community treatment order)"),
        "{}",
        legal_history(&c).await
    );

    open_legal_form(&c).await;
    choose(&c, "#l-event", "cto-revoked").await;
    let label = text_of(&c, "label[for='l-status']").await;
    assert!(label.starts_with("Detained again under"), "{label}");
    choose(&c, "#l-status", "s3").await;
    type_into(&c, "#l-on", "02/03/2026").await;
    screenshot(&c, "rules-2-cto-revoked-form").await;
    check_axe(&c, "legal-status history form, CTO revoked", &mut a11y).await;
    click(&c, "dialog button.primary").await;
    assert!(gone(&c, "#l-event").await, "the form closed on saving");
    wait_for_text(
        &c,
        "Community treatment order revoked (s17F): detained again: Section 3 (admission for treatment)",
    )
    .await
    .unwrap();

    // ---- the case: section 3 again from the revocation, and the two reminders ----
    let sub = text_of(&c, "p.sub").await;
    assert!(
        sub.contains("Section 3 (admission for treatment) since 2 Mar 2026"),
        "{sub}"
    );
    js(&c, "window.scrollTo(0, 0); return null;").await;
    screenshot(&c, "rules-3a-case-after-revocation").await;
    wait_for_text(
        &c,
        "The hospital managers must refer the case to the tribunal as soon as possible after the community treatment order was revoked on 2 Mar 2026",
    )
    .await
    .unwrap();
    wait_for_text(
        &c,
        "The patient can apply to the tribunal until 1 Sep 2026 (in 175 days), after the community treatment order was revoked on 2 Mar 2026",
    )
    .await
    .unwrap();
    let tasks = text_of(&c, "#tasks-card").await;
    assert!(tasks.contains("MHA 1983 s. 68(7)"), "{tasks}");
    assert!(tasks.contains("MHA 1983 s. 66(1)(cb)"), "{tasks}");
    js(
        &c,
        "document.getElementById('tasks-card').scrollIntoView({ block: 'start' }); return null;",
    )
    .await;
    screenshot(&c, "rules-3-case-reminders").await;
    check_axe(&c, "case after a CTO revoked", &mut a11y).await;

    // The caseload lists the person with the status they are detained under again.
    click(&c, "nav button:nth-of-type(2)").await;
    find(&c, "#cases-title").await.unwrap();
    let row = text_of(&c, "button.case-row").await;
    assert!(row.contains("Aisha Rahman"), "{row}");
    assert!(row.contains("Section 3"), "{row}");
    screenshot(&c, "rules-3b-caseload").await;

    assert!(
        a11y.is_empty(),
        "accessibility problems:\n{}",
        a11y.join("\n")
    );
    c.close().await.ok();
}

#[tokio::test(flavor = "current_thread")]
#[ignore = "needs Xvfb, tauri-driver and WebKitWebDriver: run by scripts/test.sh"]
async fn a_cto_is_revoked_only_to_a_section_it_can_be_made_under_and_nothing_half_done_is_saved() {
    let sandbox = Sandbox::new().unwrap();
    let db = sandbox.path().join("store/wardside.db");
    store(&db, true);
    let now = std::ffi::OsString::from(NOW);
    let driver = start_driver_env(&sandbox, Some(&db), &[("WARDSIDE_NOW", &now)]).unwrap();
    let c = start(&driver).await;
    let mut a11y = Vec::new();
    click(&c, "button.case-row").await;
    wait_for_text(&c, "IMHA eligibility").await.unwrap();
    let before = legal_history(&c).await;
    assert!(
        before.contains("Section 17A (community treatment order)"),
        "{before}"
    );

    // No section chosen: the form asks for one before anything is sent.
    open_legal_form(&c).await;
    choose(&c, "#l-event", "cto-revoked").await;
    type_into(&c, "#l-on", "02/03/2026").await;
    click(&c, "dialog button.primary").await;
    wait_for_text(&c, "Choose the section the person is detained under again")
        .await
        .unwrap();
    find(&c, "#l-status-error").await.unwrap();

    // A CTO is only ever made under s. 3, 37, 47 or 48: the form offers nothing else (the
    // domain refuses any other status from every door, tested in wardside-domain).
    let offered = js(
        &c,
        "return [...document.querySelectorAll('#l-status option')].map(o => o.value).filter(v => v)",
    )
    .await;
    assert_eq!(
        offered,
        serde_json::json!(["s3", "s37", "s47", "s48"]),
        "only the sections a CTO is made under"
    );
    let beside = text_of(&c, "#l-status-error").await;
    assert!(beside.contains("detained under again"), "{beside}");
    let summary = text_of(&c, ".error-summary").await;
    assert!(summary.contains("There is a problem"), "{summary}");
    find(&c, ".error-summary a[href='#l-status']")
        .await
        .unwrap();
    let invalid = find(&c, "#l-status")
        .await
        .unwrap()
        .attr("aria-invalid")
        .await
        .unwrap();
    assert_eq!(invalid.as_deref(), Some("true"));
    screenshot(&c, "rules-4-cto-revoked-no-section").await;
    check_axe(&c, "legal-status history form, no section", &mut a11y).await;
    click(&c, ".error-summary a[href='#l-status']").await;
    assert_eq!(
        focused_id(&c).await,
        "l-status",
        "the summary's link moves focus to the status"
    );

    // Close the form (Esc, then Discard): nothing was saved, even after opening the case again.
    press(&c, &char::from(Key::Escape).to_string()).await;
    wait_for_text(&c, "Discard what you have typed?")
        .await
        .unwrap();
    click(&c, "#confirm-ok").await;
    assert!(gone(&c, "#l-event").await, "the form closed");
    assert_eq!(legal_history(&c).await, before);
    click(&c, "nav button:nth-of-type(2)").await;
    click(&c, "button.case-row").await;
    wait_for_text(&c, "IMHA eligibility").await.unwrap();
    let after = legal_history(&c).await;
    assert_eq!(after, before, "no revocation was saved");
    assert!(!after.contains("revoked"), "{after}");
    let sub = text_of(&c, "p.sub").await;
    assert!(
        sub.contains("Section 17A (community treatment order)"),
        "{sub}"
    );

    assert!(
        a11y.is_empty(),
        "accessibility problems:\n{}",
        a11y.join("\n")
    );
    c.close().await.ok();
}

#[tokio::test(flavor = "current_thread")]
#[ignore = "needs Xvfb, tauri-driver and WebKitWebDriver: run by scripts/test.sh"]
async fn in_wales_an_informal_out_patient_is_recorded_as_not_a_qualifying_patient() {
    let sandbox = Sandbox::new().unwrap();
    let db = sandbox.path().join("store/wardside.db");
    store(&db, false);
    // The organisation's rules file puts it in Wales (docs/RULES.md).
    let rules = sandbox.path().join("rules.toml");
    std::fs::write(&rules, "jurisdiction = \"wales\"\n").unwrap();
    let now = std::ffi::OsString::from(NOW);
    let driver = start_driver_env(
        &sandbox,
        Some(&db),
        &[
            ("WARDSIDE_NOW", &now),
            ("WARDSIDE_RULES", rules.as_os_str()),
        ],
    )
    .unwrap();
    let c = start(&driver).await;
    let mut a11y = Vec::new();

    // The question comes with an informal status only, and starts at "Not known".
    new_client(&c, "Carys Evans", "informal", "01/03/2026").await;
    find(&c, "#c-inpatient").await.unwrap();
    assert_eq!(value(&c, "#c-inpatient").await, "");
    let question = text_of(&c, "label[for='c-inpatient']").await;
    assert!(
        question.contains("Is the person an in-patient on a ward?"),
        "{question}"
    );
    choose(&c, "#c-inpatient", "no").await;
    pick_status(&c, "#c-status", "s3").await;
    assert!(
        gone(&c, "#c-inpatient").await,
        "no in-patient question for section 3"
    );
    pick_status(&c, "#c-status", "informal").await;
    find(&c, "#c-inpatient").await.unwrap();
    assert_eq!(
        value(&c, "#c-inpatient").await,
        "no",
        "the answer is kept while the status changes"
    );
    js(
        &c,
        "document.getElementById('c-inpatient').scrollIntoView({ block: 'center' }); return null;",
    )
    .await;
    screenshot(&c, "rules-5-new-client-informal-out-patient").await;
    check_axe(&c, "new client, informal", &mut a11y).await;
    save_client(&c).await;
    wait_for_text(&c, "IMHA eligibility").await.unwrap();
    screenshot(&c, "rules-6-case-informal-out-patient").await;
    let shown = text_of(&c, "section[aria-labelledby='elig-title']").await;
    c.close().await.ok();
    drop(driver);

    // The referral records the answer for the day it came in: not a qualifying patient.
    let mut store = Store::unlock(&db, &Passphrase::new(PASS)).unwrap();
    let rows = store.caseload(&CaseloadFilter::default(), 0, 10).unwrap();
    assert_eq!(rows.len(), 1);
    let view = store.case_view(rows[0].case_id).unwrap();
    let referral_id = view.case.record.referral_id.expect("the intake's referral");
    let referral: Referral = store.get(referral_id.0).unwrap();
    assert_eq!(referral.eligible, Some(false), "{referral:?}");
    let reason = referral.eligibility_reason.unwrap_or_default();
    assert!(reason.contains("s. 130J(2)(a)"), "{reason}");
    assert!(
        referral
            .eligibility_source
            .unwrap_or_default()
            .contains("s. 130J(2)"),
    );

    // And the case says the same to the advocate.
    assert!(
        shown.contains("Not a qualifying patient"),
        "the case's IMHA eligibility card shows:\n{shown}"
    );
    assert!(
        a11y.is_empty(),
        "accessibility problems:\n{}",
        a11y.join("\n")
    );
}
