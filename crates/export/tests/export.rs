//! Exports from a real encrypted store, read back with poppler's `pdftotext` and `pdfinfo`.
#![allow(clippy::unwrap_used)]

use chrono::{NaiveDate, NaiveDateTime};
use std::path::Path;
use std::process::Command;
use wardside_domain::rules::{Jurisdiction, Rules};
use wardside_domain::*;
use wardside_export::*;
use wardside_store::{KdfParams, Passphrase, Store, Tuning};

const FAST: KdfParams = KdfParams {
    m_kib: 256,
    t: 1,
    p: 1,
};

fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn at(s: &str) -> NaiveDateTime {
    NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M").unwrap()
}

const WITHHELD: &str = "WITHHELDCANARY: her brother told staff about his own diagnosis.";
const MARKUP: &str = "She wrote #set text(red) and *bold* and $x^2$ and = not a heading.\n\n#import \"x\": * // [link](http://x)";

struct Fixture {
    _dir: tempfile::TempDir,
    store: Store,
    client: ClientId,
    case: CaseId,
}

fn activity(case: CaseId, when: &str, kind: ActivityKind) -> Activity {
    Activity {
        case_id: case,
        at: at(when),
        duration_minutes: Some(45),
        kind,
        withheld: None,
    }
}

/// A detained person with a case: legal history, issues (one open), consent, a records
/// request, a safeguarding event, notes (one amended, one withheld, one full of markup).
fn fixture(name: &str) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::create_with(
        &dir.path().join("wardside.db"),
        &Passphrase::new("plum kettle harbour"),
        "Ceri Advocate",
        FAST,
        Tuning::default(),
    )
    .unwrap();
    let (client, case) = store
        .write(|w| {
            let advocate = w.add_advocate(&Advocate {
                name: "Ceri Advocate".into(),
                team_id: None,
                qualification: None,
                dbs_checked_on: None,
            })?;
            let mut c = Client::named(name);
            c.dob = Some(d("1990-04-12"));
            c.hospital = Some("Riverside Hospital".into());
            c.ward = Some("Cedar Ward".into());
            c.nhs_number = Some("943 476 5919".parse().unwrap());
            let client = w.add_client(&c)?;
            w.add_legal_event(&LegalEvent {
                client_id: client,
                on: d("2026-10-20"),
                kind: LegalEventKind::StatusStarted {
                    status: StatusCode::S3,
                },
                note: None,
            })?;
            let mut k = Case::opened(client, d("2026-10-22"));
            k.advocate_id = Some(advocate);
            let case = w.open_case(&k)?;
            let issue = w.add_issue(&Issue {
                case_id: case,
                category: IssueCategory::Leave,
                summary: "Wants escorted leave to visit her mother".into(),
                opened_on: d("2026-10-22"),
                outcome: None,
            })?;
            w.add_issue(&Issue {
                case_id: case,
                category: IssueCategory::Rights,
                summary: "Understand section 3 and the right to appeal".into(),
                opened_on: d("2026-10-22"),
                outcome: None,
            })?;
            w.set_issue_outcome(
                issue,
                IssueOutcome {
                    kind: OutcomeKind::UnderstandsRights,
                    on: d("2026-11-05"),
                    note: None,
                },
            )
            .ok();
            w.record_consent(&Consent {
                client_id: client,
                scope: ConsentScope::RecordsAccess,
                state: ConsentState::Given,
                on: d("2026-10-23"),
                how: Some("Verbally on the ward".into()),
                witness: None,
                note: None,
            })?;
            w.add_safeguarding(&SafeguardingEvent {
                case_id: case,
                kind: SafeguardingKind::SafeguardingConcern,
                at: at("2026-11-02T16:00"),
                reason: "Said another patient had threatened her".into(),
                who_was_told: "Ward manager".into(),
                discussed_with_person_first: true,
                why_not_discussed: None,
                manager: "Sam Manager".into(),
                reference: None,
                withheld: Some(WithholdReason::ThirdParty),
            })?;
            let first = w.add_activity(
                &activity(
                    case,
                    "2026-10-23T10:00",
                    ActivityKind::PrivateInterview {
                        wishes: Some("I want to see my mum on Sundays.".into()),
                    },
                ),
                "Met on Cedar Ward. Explained the IMHA role.\n\nShe asked about leave.",
            )?;
            w.amend_note(
                first,
                "Met on Cedar Ward. Explained the IMHA role and section 3.\n\nShe asked about leave.",
                "Added that section 3 was explained",
            )?;
            w.add_activity(
                &activity(
                    case,
                    "2026-10-28T14:00",
                    ActivityKind::WardRound {
                        points_raised: vec!["Escorted leave on Sundays".into()],
                        response: None,
                    },
                ),
                "Raised leave at ward round.",
            )?;
            w.add_activity(
                &activity(
                    case,
                    "2026-10-30T11:00",
                    ActivityKind::Concern {
                        raised_with: "Ward manager".into(),
                        response_due: Some(d("2026-11-13")),
                        response: None,
                    },
                ),
                "Concern about the phone being taken away.",
            )?;
            let mut secret = activity(
                case,
                "2026-11-01T09:30",
                ActivityKind::ProfessionalInterview {
                    professional: "Staff nurse".into(),
                },
            );
            secret.withheld = Some(WithholdReason::ThirdParty);
            w.add_activity(&secret, WITHHELD)?;
            w.add_activity(
                &activity(
                    case,
                    "2026-11-03T10:00",
                    ActivityKind::Tribunal {
                        hearing_on: Some(d("2026-12-10")),
                        outcome: None,
                    },
                ),
                MARKUP,
            )?;
            Ok((client, case))
        })
        .unwrap();
    Fixture {
        _dir: dir,
        store,
        client,
        case,
    }
}

fn rules() -> Rules {
    Rules::shipped().unwrap()
}

fn cx(rules: &Rules) -> Context<'_> {
    Context {
        generated: Generated {
            by: "Ceri Advocate".into(),
            at: at("2026-11-25T15:40"),
        },
        rules,
        jurisdiction: Jurisdiction::England,
    }
}

/// `WARDSIDE_EXPORT_SAMPLES=DIR` keeps each test's PDFs there, to look at (scripts/screenshots.sh).
fn keep(name: &str, pdf: &[u8]) {
    if let Some(dir) = std::env::var_os("WARDSIDE_EXPORT_SAMPLES") {
        let dir = Path::new(&dir);
        std::fs::create_dir_all(dir).unwrap();
        std::fs::write(dir.join(name), pdf).unwrap();
    }
}

fn poppler(tool: &str, pdf: &[u8], dir: &Path) -> String {
    let path = dir.join(format!("{tool}.pdf"));
    std::fs::write(&path, pdf).unwrap();
    let mut cmd = Command::new(tool);
    if tool == "pdftotext" {
        cmd.args(["-layout"]).arg(&path).arg("-");
    } else {
        cmd.arg(&path);
    }
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{tool}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// `pdftotext` without layout: the reading order, one string.
fn text_of(pdf: &[u8], dir: &Path) -> String {
    let path = dir.join("text.pdf");
    std::fs::write(&path, pdf).unwrap();
    let out = Command::new("pdftotext")
        .arg(&path)
        .arg("-")
        .output()
        .unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap()
}

fn pages(info: &str) -> usize {
    info.lines()
        .find_map(|l| l.strip_prefix("Pages:"))
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

/// Each part appears after the one before (whitespace, wrapping and non-breaking spaces aside).
fn in_order(text: &str, parts: &[&str]) {
    let flat = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
    let text = flat(text);
    let mut from = 0;
    for p in parts {
        let p = &flat(p);
        let at = text[from..]
            .find(p)
            .unwrap_or_else(|| panic!("{p:?} missing or out of order"));
        from += at + p.len();
    }
}

#[test]
fn the_case_file_has_everything_in_order_with_page_numbers_and_is_tagged() {
    let mut f = fixture("Siân Llŷr Ffransis");
    let rules = rules();
    let pdf = case_file_pdf(&mut f.store, f.client, Audience::Service, &cx(&rules)).unwrap();
    keep("case-file.pdf", &pdf);
    let tmp = tempfile::tempdir().unwrap();
    let text = text_of(&pdf, tmp.path());
    in_order(
        &text,
        &[
            "ADVOCACY CASE FILE",
            "Siân Llŷr Ffransis",
            "943 476 5919",
            "Riverside Hospital, Cedar Ward",
            "Legal status history",
            "Reminders",
            "Issues and outcomes",
            "Wants escorted leave to visit her mother",
            "Consents and record requests",
            "Safeguarding and confidentiality",
            "Said another patient had threatened her",
            "Timeline",
            "23 October 2026, 10:00 – Private interview with the patient",
            "I want to see my mum on Sundays.",
            "Explained the IMHA role and section 3.",
            "amended once",
            "Added that section 3 was explained",
            "28 October 2026, 14:00",
            "Escorted leave on Sundays",
            "1 November 2026, 09:30",
            "Not for the person: Third-party information – left out of their copy",
            "WITHHELDCANARY",
            "3 November 2026, 10:00",
        ],
    );
    // The service's file keeps the withheld note and safeguarding event, marked.
    assert!(text.contains("Third-party information"));
    in_order(
        &text,
        &[
            "(not for the person:",
            "Said another patient had threatened her",
        ],
    );

    // Markup in a note prints literally.
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    for literal in [
        "#set text(red)",
        "*bold*",
        "$x^2$",
        "= not a heading.",
        "[link](http://x)",
    ] {
        assert!(flat.contains(literal), "{literal} not printed literally");
    }

    // Every page: Confidential, the initials, "Page X of Y", who generated it.
    let info = poppler("pdfinfo", &pdf, tmp.path());
    let n = pages(&info);
    assert!(n >= 2, "{n} pages");
    for p in 1..=n {
        assert!(
            text.contains(&format!("Page {p} of {n}")),
            "page {p} of {n}"
        );
    }
    assert_eq!(text.matches("CONFIDENTIAL").count(), n);
    assert_eq!(text.matches("S.L.F.").count(), n);
    assert!(text.contains("Generated by Ceri Advocate on 25 November 2026, 15:40"));

    // Accessible and archival: tagged, titled, PDF/A.
    assert!(info.contains("Tagged:          yes"), "{info}");
    assert!(
        info.contains("Title:           Advocacy case file – S.L.F."),
        "{info}"
    );
    let raw = String::from_utf8_lossy(&pdf);
    assert!(raw.contains("pdfaid:part"), "PDF/A identification missing");

    // Bookmarks: the sections, and under the timeline each entry.
    let path = tmp.path().join("outline.pdf");
    std::fs::write(&path, &pdf).unwrap();
    let xml = Command::new("pdftohtml")
        .args(["-xml", "-stdout", "-i"])
        .arg(&path)
        .output()
        .unwrap();
    let xml = String::from_utf8_lossy(&xml.stdout);
    let outline = &xml[xml.find("<outline>").expect("an outline")..];
    in_order(
        outline,
        &[
            ">Legal status history</item>",
            ">Safeguarding and confidentiality</item>",
            ">Timeline</item>",
            "<outline>",
            ">23 October 2026, 10:00 – Private interview with the patient</item>",
            ">3 November 2026, 10:00 – Tribunal support</item>",
        ],
    );
    assert!(raw.contains("/Lang"), "document language missing");
}

#[test]
fn the_patient_copy_leaves_withheld_entries_out_with_a_marker_and_plain_words() {
    let mut f = fixture("Łucja Żółkiewska");
    let rules = rules();
    let pdf = case_file_pdf(&mut f.store, f.client, Audience::Person, &cx(&rules)).unwrap();
    keep("patient-copy.pdf", &pdf);
    let tmp = tempfile::tempdir().unwrap();
    let text = text_of(&pdf, tmp.path());
    assert!(!text.contains("WITHHELDCANARY"));
    assert!(
        !text.contains("Staff nurse"),
        "the withheld entry's details are left out too"
    );
    // The withheld safeguarding event: its date and kind, not its reason or who was told.
    assert!(!text.contains("threatened"));
    in_order(
        &text,
        &[
            "Times we had to share information",
            "Not included in your copy. It contains information about another person.",
        ],
    );
    in_order(
        &text,
        &[
            "YOUR ADVOCACY RECORD",
            "A copy for Łucja Żółkiewska",
            "You have a right to see it",
            "What you asked us to help with",
            "Times we had to share information",
            "What happened, in date order",
            "28 October 2026",
            "1 November 2026, 09:30 – not included",
            "It contains information about another person.",
            "3 November 2026, 10:00",
            "About this record and your rights",
            "Information Commissioner’s Office",
        ],
    );
}

#[test]
fn names_in_welsh_polish_urdu_arabic_and_chinese_have_glyphs_and_come_out_as_text() {
    let names = [
        "Siân Llŷr Ffransis",
        "Łucja Żółkiewska-Źrebięć",
        "فاطمہ خان",
        "محمد عبد الله",
        "王小明",
    ];
    for name in names {
        assert_eq!(uncovered(name), Vec::<char>::new(), "{name}");
    }
    // A character none of the fonts has is reported (so the check above means something).
    assert_eq!(uncovered("a\u{10FFFD}"), vec!['\u{10FFFD}']);

    let tmp = tempfile::tempdir().unwrap();
    for name in names {
        let mut f = fixture(name);
        let rules = rules();
        let pdf = case_file_pdf(&mut f.store, f.client, Audience::Service, &cx(&rules)).unwrap();
        let text = text_of(&pdf, tmp.path());
        if name.chars().any(|c| ('\u{0600}'..='\u{06FF}').contains(&c)) {
            // Right-to-left text comes out of pdftotext in visual order; every letter is there.
            for c in name.chars().filter(|c| !c.is_whitespace()) {
                assert!(text.contains(c), "{c} of {name}");
            }
        } else {
            assert!(text.contains(name), "{name}");
        }
        let fonts = poppler("pdffonts", &pdf, tmp.path());
        if name == "王小明" {
            assert!(fonts.contains("DroidSansFallback"), "{fonts}");
        }
        if name.starts_with('ف') {
            assert!(fonts.contains("NotoNaskhArabic"), "{fonts}");
        }
    }
}

#[test]
fn a_subject_access_response_is_a_pdf_and_a_json_bundle_both_without_withheld_content() {
    let mut f = fixture("Łucja Żółkiewska");
    let rules = rules();
    let sar = subject_access(&mut f.store, f.client, &cx(&rules)).unwrap();
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().join("sar");
    let [pdf_path, json_path] =
        write_subject_access(&dir, &sar, d("2026-11-25"), Overwrite::Refuse).unwrap();
    assert_eq!(pdf_path, dir.join("subject-access-2026-11-25.pdf"));
    // Only the two files, nothing beside them.
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "subject-access-2026-11-25.json",
            "subject-access-2026-11-25.pdf"
        ]
    );

    let text = text_of(&std::fs::read(&pdf_path).unwrap(), out.path());
    assert!(text.contains("YOUR ADVOCACY RECORD"));
    assert!(!text.contains("WITHHELDCANARY"));
    let raw = std::fs::read_to_string(&json_path).unwrap();
    assert!(!raw.contains("WITHHELDCANARY"));
    assert!(!raw.contains("Staff nurse"));
    assert!(!raw.contains("threatened") && !raw.contains("Sam Manager"));

    let json: serde_json::Value = serde_json::from_str(&raw).unwrap();
    assert_eq!(json["format"], "wardside-subject-access/1");
    assert_eq!(json["person"]["name"], "Łucja Żółkiewska");
    assert_eq!(
        json["withheld_entries"], 2,
        "a timeline entry and a safeguarding event"
    );
    let safeguarding = json["cases"][0]["safeguarding"].as_array().unwrap();
    assert_eq!(safeguarding.len(), 1);
    assert_eq!(safeguarding[0]["withheld"], "Third-party information");
    assert_eq!(safeguarding[0].as_object().unwrap().len(), 3);
    let timeline = json["cases"][0]["timeline"].as_array().unwrap();
    assert_eq!(timeline.len(), 5);
    let withheld: Vec<_> = timeline
        .iter()
        .filter(|e| e.get("withheld").is_some())
        .collect();
    assert_eq!(withheld.len(), 1);
    assert_eq!(withheld[0]["withheld"], "Third-party information");
    assert_eq!(
        withheld[0].as_object().unwrap().len(),
        3,
        "only id, time and reason"
    );
    // Every version of an amended note is there.
    let first = &timeline[0];
    assert_eq!(first["versions"].as_array().unwrap().len(), 2);
    assert_eq!(first["kind"]["wishes"], "I want to see my mum on Sundays.");
    assert_eq!(first["kind_label"], "Private interview with the patient");
    assert!(json["cases"][0]["issues"].as_array().unwrap().len() == 2);
    assert!(json["consents"].as_array().unwrap().len() == 1);
    // The access log shows this export (ids and actions only).
    let log = json["access_log"].as_array().unwrap();
    assert!(log.iter().any(|e| e["action"] == "export-subject-access"));
}

#[test]
fn each_export_writes_an_audit_entry_of_its_own_kind() {
    let mut f = fixture("Pat Example");
    let rules = rules();
    case_file_pdf(&mut f.store, f.client, Audience::Service, &cx(&rules)).unwrap();
    case_file_pdf(&mut f.store, f.client, Audience::Person, &cx(&rules)).unwrap();
    hearing_pdf(&mut f.store, f.case, &cx(&rules)).unwrap();
    subject_access(&mut f.store, f.client, &cx(&rules)).unwrap();
    let actions: Vec<String> = f
        .store
        .audit_for_case(f.case)
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .filter(|a| a.starts_with("export"))
        .collect();
    assert_eq!(
        actions,
        [
            "export-case-file",
            "export-patient-copy",
            "export-hearing-summary",
            "export-subject-access"
        ]
    );
}

#[test]
fn the_hearing_summary_has_the_wishes_issues_representations_and_open_questions() {
    let mut f = fixture("Pat Example");
    let rules = rules();
    let pdf = hearing_pdf(&mut f.store, f.case, &cx(&rules)).unwrap();
    keep("hearing-summary.pdf", &pdf);
    let tmp = tempfile::tempdir().unwrap();
    let text = text_of(&pdf, tmp.path());
    in_order(
        &text,
        &[
            "HEARING SUMMARY",
            "Pat Example",
            "Tribunal hearing, 10 December 2026",
            "In Pat’s own words",
            "I want to see my mum on Sundays.",
            "Issues",
            "Wants escorted leave to visit her mother",
            "Representations made so far",
            "Escorted leave on Sundays",
            "Concern raised with Ward manager",
            "Questions to raise",
            "Escorted leave on Sundays – no response recorded.",
            "Concern raised with Ward manager on 30 October 2026: no response yet (due 13 November 2026).",
            "Understand section 3 and the right to appeal",
        ],
    );
    assert!(!text.contains("WITHHELDCANARY"));
    let info = poppler("pdfinfo", &pdf, tmp.path());
    assert!(info.contains("Tagged:          yes"));
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::symlink_metadata(path)
        .unwrap()
        .permissions()
        .mode()
        & 0o777
}

#[test]
fn output_goes_only_to_the_named_file_and_a_full_disk_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("case.pdf");
    write_output(&path, b"%PDF-1.7 test", Overwrite::Refuse).unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), b"%PDF-1.7 test");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);

    // A folder that does not exist: an error naming the path, nothing created.
    let missing = dir.path().join("no-such-folder").join("case.pdf");
    let e = write_output(&missing, b"x", Overwrite::Refuse).unwrap_err();
    assert!(e.to_string().contains("no-such-folder"), "{e}");
    assert!(!missing.exists());

    // A full disk (/dev/full refuses every write with ENOSPC): a clear error, and the device
    // itself is of course left alone. It is already there, so only when the person agreed.
    let full = Path::new("/dev/full");
    if full.exists() {
        let e = write_output(full, &vec![0u8; 1 << 20], Overwrite::Refuse).unwrap_err();
        assert!(matches!(e, ExportError::Exists { .. }), "{e}");
        let e = write_output(full, &vec![0u8; 1 << 20], Overwrite::Replace).unwrap_err();
        assert!(
            matches!(&e, ExportError::Write { source, .. } if source.raw_os_error() == Some(28)),
            "{e}"
        );
        assert!(e.to_string().contains("/dev/full"), "{e}");
        assert!(full.exists());
    }
}

#[cfg(unix)]
#[test]
fn an_export_is_a_private_file_that_replaces_nothing_unless_the_person_agreed() {
    let dir = tempfile::tempdir().unwrap();
    let new = dir.path().join("new.pdf");
    write_output(&new, b"%PDF new", Overwrite::Refuse).unwrap();
    assert_eq!(mode(&new), 0o600, "private from the first byte");

    // Someone's earlier file, readable by others: kept byte for byte without agreement...
    let earlier = dir.path().join("case.pdf");
    std::fs::write(&earlier, b"the earlier case file").unwrap();
    std::fs::set_permissions(
        &earlier,
        std::os::unix::fs::PermissionsExt::from_mode(0o644),
    )
    .unwrap();
    let e = write_output(&earlier, b"%PDF replacement", Overwrite::Refuse).unwrap_err();
    assert!(matches!(e, ExportError::Exists { .. }), "{e}");
    assert!(e.to_string().contains("case.pdf") && e.to_string().contains("left as it is"));
    assert_eq!(std::fs::read(&earlier).unwrap(), b"the earlier case file");
    assert_eq!(mode(&earlier), 0o644);
    // ...and replaced with it, shorter than before, and made private.
    write_output(&earlier, b"%PDF short", Overwrite::Replace).unwrap();
    assert_eq!(std::fs::read(&earlier).unwrap(), b"%PDF short");
    assert_eq!(mode(&earlier), 0o600);
    // A folder is never "replaced".
    let e = write_output(dir.path(), b"x", Overwrite::Replace).unwrap_err();
    assert!(matches!(e, ExportError::NotAFile { .. }), "{e}");
}

#[cfg(unix)]
#[test]
fn an_export_is_never_written_through_a_symbolic_link() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("precious.txt");
    std::fs::write(&target, b"someone else's file").unwrap();
    let link = dir.path().join("case.pdf");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    // A link to nowhere: following it would create the file it names.
    let nowhere = dir.path().join("nowhere.pdf");
    let dangling = dir.path().join("hearing.pdf");
    std::os::unix::fs::symlink(&nowhere, &dangling).unwrap();
    for overwrite in [Overwrite::Refuse, Overwrite::Replace] {
        for path in [&link, &dangling] {
            let e = write_output(path, b"%PDF", overwrite).unwrap_err();
            assert!(
                matches!(e, ExportError::Symlink { .. }),
                "{overwrite:?}: {e}"
            );
            assert!(e.to_string().contains("symbolic link"), "{e}");
            assert!(
                std::fs::symlink_metadata(path)
                    .unwrap()
                    .file_type()
                    .is_symlink()
            );
        }
    }
    assert_eq!(std::fs::read(&target).unwrap(), b"someone else's file");
    assert_eq!(mode(&target) & 0o600, 0o600);
    assert!(!nowhere.exists());
}

#[cfg(unix)]
#[test]
fn a_subject_access_response_is_two_private_files_and_replaces_neither_unless_agreed() {
    let sar = SubjectAccess {
        pdf: b"%PDF the person's copy".to_vec(),
        json: b"{\"format\": \"test\"}".to_vec(),
    };
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().join("sar");
    let [pdf, json] = write_subject_access(&dir, &sar, d("2026-11-25"), Overwrite::Refuse).unwrap();
    assert_eq!((mode(&pdf), mode(&json)), (0o600, 0o600));
    assert_eq!(mode(&dir), 0o700, "the folder it made is private too");

    // Only the JSON of an earlier response is there: refused before either file is written.
    std::fs::remove_file(&pdf).unwrap();
    std::fs::write(&json, b"earlier").unwrap();
    let e = write_subject_access(&dir, &sar, d("2026-11-25"), Overwrite::Refuse).unwrap_err();
    assert!(matches!(e, ExportError::Exists { .. }), "{e}");
    assert!(
        e.to_string().contains("subject-access-2026-11-25.json"),
        "{e}"
    );
    assert!(!pdf.exists());
    assert_eq!(std::fs::read(&json).unwrap(), b"earlier");
    // A link in place of the PDF: refused even with agreement.
    let elsewhere = out.path().join("elsewhere.pdf");
    std::os::unix::fs::symlink(&elsewhere, &pdf).unwrap();
    let e = write_subject_access(&dir, &sar, d("2026-11-25"), Overwrite::Replace).unwrap_err();
    assert!(matches!(e, ExportError::Symlink { .. }), "{e}");
    assert!(!elsewhere.exists());
    assert_eq!(std::fs::read(&json).unwrap(), b"earlier");
    // Agreed, with the link gone: both replaced, both private.
    std::fs::remove_file(&pdf).unwrap();
    write_subject_access(&dir, &sar, d("2026-11-25"), Overwrite::Replace).unwrap();
    assert_eq!(std::fs::read(&json).unwrap(), sar.json);
    assert_eq!((mode(&pdf), mode(&json)), (0o600, 0o600));
}

#[test]
fn a_long_table_breaks_across_pages_with_its_header_repeated() {
    let mut f = fixture("Pat Example");
    f.store
        .write(|w| {
            for i in 0..90u64 {
                w.add_legal_event(&LegalEvent {
                    client_id: f.client,
                    on: d("2020-01-01") + chrono::Days::new(i * 20),
                    kind: LegalEventKind::TribunalApplication {
                        applicant: legal::Applicant::Patient,
                    },
                    note: Some(format!("Application {i:02} of 90")),
                })?;
            }
            Ok(())
        })
        .unwrap();
    let rules = rules();
    let pdf = case_file_pdf(&mut f.store, f.client, Audience::Service, &cx(&rules)).unwrap();
    keep("long-table.pdf", &pdf);
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("long.pdf");
    std::fs::write(&path, &pdf).unwrap();
    let page = |n: u32| {
        let out = Command::new("pdftotext")
            .args(["-f", &n.to_string(), "-l", &n.to_string()])
            .arg(&path)
            .arg("-")
            .output()
            .unwrap();
        String::from_utf8(out.stdout).unwrap()
    };
    let (one, two) = (page(1), page(2));
    // The history runs from page 1 onto page 2, which starts with the table's header again.
    assert!(one.contains("Legal status history") && one.contains("Application 00 of 90"));
    assert!(two.contains("What happened"), "{two}");
    assert!(!one.contains("Application 89 of 90"));
    let all = text_of(&pdf, tmp.path());
    for i in 0..90 {
        assert!(
            all.contains(&format!("Application {i:02} of 90")),
            "row {i}"
        );
    }
}
