//! Exports from the real app: the dialog says plainly, before anything is saved, that the file
//! will not be encrypted; the file name it offers has no name in it unless the person ticks the
//! box; and what is saved is named the way the dialog said. The system's save dialog cannot be
//! driven, so `WARDSIDE_E2E_SAVE_AS` names a folder and the app saves there under the name the
//! dialog would have offered.
//!
//! Needs a display (Xvfb), `tauri-driver` and `WebKitWebDriver`: `scripts/test.sh` provides them
//! and runs this with `--ignored`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{NaiveDate, NaiveDateTime};
use fantoccini::Client;
use fantoccini::key::Key;
use std::path::Path;
use wardside_domain::*;
use wardside_e2e::*;
use wardside_store::{Passphrase, Store};

const PASS: &str = "quince ladder orbit meadow";
const NAME: &str = "Siân Llewelyn-Prosser";
/// The app's "today" (the export's date, the file names' date).
const NOW: &str = "2026-11-25T12:00:00Z";
const WARNING: &str = "This file will not be encrypted. Anyone who can open it can read it.";

fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn at(s: &str) -> NaiveDateTime {
    NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M").unwrap()
}

fn pdftotext(pdf: &Path, layout: bool) -> String {
    let mut cmd = std::process::Command::new("pdftotext");
    if layout {
        cmd.arg("-layout");
    }
    let out = cmd.arg(pdf).arg("-").output().unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap()
}

/// A store of the advocate's own (no advocate record: she opened the case herself) with one
/// person: a ward round with two points raised, and a managers' hearing to come.
fn store_with_a_case(db: &Path) -> CaseId {
    std::fs::create_dir_all(db.parent().unwrap()).unwrap();
    let mut store = Store::create(db, &Passphrase::new(PASS), "Ann Advocate").unwrap();
    let case = store
        .write(|w| {
            let mut c = wardside_domain::Client::named(NAME);
            c.hospital = Some("Riverside Hospital".into());
            c.ward = Some("Cedar Ward".into());
            let client = w.add_client(&c)?;
            w.add_legal_event(&LegalEvent {
                client_id: client,
                on: d("2026-10-20"),
                kind: LegalEventKind::StatusStarted {
                    status: StatusCode::S3,
                },
                note: None,
            })?;
            let case = w.open_case(&Case::opened(client, d("2026-10-22")))?;
            let activity = |when: &str, kind| Activity {
                case_id: case,
                at: at(when),
                duration_minutes: None,
                kind,
                withheld: None,
            };
            w.add_activity(
                &activity(
                    "2026-11-02T14:00",
                    ActivityKind::WardRound {
                        points_raised: vec![
                            "Wants to phone her sister every evening".into(),
                            "Asks why her leave was stopped".into(),
                        ],
                        response: None,
                    },
                ),
                "Two points raised at the ward round.",
            )?;
            w.add_activity(
                &activity(
                    "2026-11-20T10:00",
                    ActivityKind::ManagersHearing {
                        hearing_on: Some(d("2026-12-09")),
                        outcome: None,
                    },
                ),
                "Managers' hearing booked; she wants to attend.",
            )?;
            Ok(case)
        })
        .unwrap();
    store.lock().unwrap();
    case
}

/// The file name shown for `kind`, once the names have come back from the app.
async fn shown_name(c: &Client, kind: &str) -> String {
    for _ in 0..100 {
        let t = text_of(c, &format!("[data-file-name={kind}]")).await;
        if t != "…" {
            return t;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("no file name shown for {kind}");
}

/// Wait until `path` is there (the export runs in the background).
async fn written(path: &Path) {
    for _ in 0..150 {
        if path.exists() && std::fs::metadata(path).unwrap().len() > 0 {
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("{} was never written", path.display());
}

#[tokio::test(flavor = "current_thread")]
#[ignore = "needs Xvfb, tauri-driver and WebKitWebDriver: run by scripts/test.sh"]
async fn the_export_dialog_warns_the_file_is_not_encrypted_and_names_it_without_the_person() {
    let sandbox = Sandbox::new().unwrap();
    let db = sandbox.db();
    let case = store_with_a_case(&db);
    let reference = &case.0.simple().to_string()[..8];
    let exports = sandbox.path().join("exports");
    std::fs::create_dir_all(&exports).unwrap();
    let driver = start_driver_env(
        &sandbox,
        Some(&db),
        &[
            ("WARDSIDE_E2E_SAVE_AS", exports.as_os_str()),
            ("WARDSIDE_NOW", std::ffi::OsStr::new(NOW)),
        ],
    )
    .unwrap();
    let c = launch(&driver).await.unwrap();
    type_into(&c, "#passphrase", PASS).await;
    press(&c, &char::from(Key::Enter).to_string()).await;
    find(&c, "#cases-title").await.unwrap();
    // To the case by searching for the person (the header's search finds people by name).
    type_into(&c, "#global-search", "Llewelyn").await;
    press(&c, &char::from(Key::Enter).to_string()).await;
    click(&c, "button.hit.person").await;
    find(&c, "#export-button").await.unwrap();
    click(&c, "#export-button").await;

    // Said before anything is chosen, in those words, above the choices.
    wait_for_text(&c, WARNING).await.unwrap();
    let warning = text_of(&c, "#export-warning").await;
    assert!(warning.contains(WARNING), "{warning}");
    let before_choices: bool = c
        .execute(
            "const w = document.querySelector('#export-warning');
             const b = document.querySelector('button[data-export]');
             return !!(w.compareDocumentPosition(b) & Node.DOCUMENT_POSITION_FOLLOWING);",
            vec![],
        )
        .await
        .unwrap()
        .as_bool()
        .unwrap();
    assert!(before_choices, "the warning comes before the Save buttons");

    // The box is off, and no file name offered has the person's name in it.
    let include = find(&c, "#export-include-name").await.unwrap();
    assert_eq!(
        include.prop("checked").await.unwrap().as_deref(),
        Some("false")
    );
    for kind in ["case-file", "patient-copy", "subject-access", "hearing"] {
        let name = shown_name(&c, kind).await;
        for part in ["Siân", "Sian", "Llewelyn", "Prosser"] {
            assert!(!name.contains(part), "{kind}: {name}");
        }
        assert!(
            name.contains(reference) && name.contains("2026-11-25"),
            "{kind}: {name}"
        );
    }
    let offered = shown_name(&c, "patient-copy").await;
    assert_eq!(
        offered,
        format!("copy-for-the-person-{reference}-2026-11-25.pdf")
    );

    let mut a11y = axe(&c, &axe_source()).await.expect("axe runs");
    let png = c.screenshot().await.unwrap();
    std::fs::write("/tmp/i13-export-dialog.png", png).unwrap();

    // Saved under the name offered: the person's copy, naming the advocate who opened the
    // case, the ward-round points one per line.
    click(&c, "button[data-export=patient-copy]").await;
    let copy = exports.join(&offered);
    written(&copy).await;
    wait_for_text(&c, "not encrypted").await.unwrap();
    let text = pdftotext(&copy, false);
    assert!(text.contains("your advocate: Ann Advocate"), "{text}");
    let layout = pdftotext(&copy, true);
    let line_of = |p: &str| layout.lines().find(|l| l.contains(p)).unwrap().to_owned();
    let (one, two) = (
        line_of("Wants to phone her sister every evening"),
        line_of("Asks why her leave was stopped"),
    );
    assert!(
        one.contains('•') && two.contains('•') && one != two,
        "{layout}"
    );

    // Asked for, the name is in the file name offered and the one saved.
    click(&c, "#export-button").await;
    wait_for_text(&c, WARNING).await.unwrap();
    click(&c, "#export-include-name").await;
    let mut named = String::new();
    for _ in 0..100 {
        named = shown_name(&c, "hearing").await;
        if named.contains("Llewelyn") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(
        named,
        format!("hearing-summary-Siân-Llewelyn-Prosser-{reference}-2026-11-25.pdf")
    );
    let png = c.screenshot().await.unwrap();
    std::fs::write("/tmp/i13-export-dialog-named.png", png).unwrap();
    a11y.extend(axe(&c, &axe_source()).await.expect("axe runs"));
    assert!(a11y.is_empty(), "{a11y:#?}");
    click(&c, "button[data-export=hearing]").await;
    let hearing = exports.join(&named);
    written(&hearing).await;
    // The hearing summary says which hearing and when.
    let layout = pdftotext(&hearing, true);
    let fact = |label: &str| {
        layout
            .lines()
            .map(str::trim)
            .find_map(|l| l.strip_prefix(label).filter(|r| r.starts_with("  ")))
            .map(str::trim)
            .unwrap_or_else(|| panic!("no {label}: {layout}"))
            .to_owned()
    };
    assert_eq!(fact("Hearing"), "Hospital managers’ hearing");
    assert_eq!(fact("Hearing date"), "9 December 2026");

    // Only the two files asked for.
    let mut files: Vec<String> = std::fs::read_dir(&exports)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    assert_eq!(files, [offered, named]);
    c.close().await.unwrap();
}
