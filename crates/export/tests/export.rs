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
    fixture_with(name, true)
}

/// The same; `assign` says whether the case has an advocate record assigned, or is simply the
/// store's own advocate's (who opened it).
fn fixture_with(name: &str, assign: bool) -> Fixture {
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
                name: "Rhian Assigned".into(),
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
            k.advocate_id = assign.then_some(advocate);
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
        write_subject_access(&dir, &sar, "subject-access-2026-11-25", Overwrite::Refuse).unwrap();
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
    let layout = poppler("pdftotext", &pdf, tmp.path());
    assert_eq!(fact(&layout, "Hearing"), "Tribunal hearing");
    assert_eq!(fact(&layout, "Hearing date"), "10 December 2026");
    in_order(
        &text,
        &[
            "HEARING SUMMARY",
            "Pat Example",
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
    let [pdf, json] =
        write_subject_access(&dir, &sar, "subject-access-2026-11-25", Overwrite::Refuse).unwrap();
    assert_eq!((mode(&pdf), mode(&json)), (0o600, 0o600));
    assert_eq!(mode(&dir), 0o700, "the folder it made is private too");

    // Only the JSON of an earlier response is there: refused before either file is written.
    std::fs::remove_file(&pdf).unwrap();
    std::fs::write(&json, b"earlier").unwrap();
    let e = write_subject_access(&dir, &sar, "subject-access-2026-11-25", Overwrite::Refuse)
        .unwrap_err();
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
    let e = write_subject_access(&dir, &sar, "subject-access-2026-11-25", Overwrite::Replace)
        .unwrap_err();
    assert!(matches!(e, ExportError::Symlink { .. }), "{e}");
    assert!(!elsewhere.exists());
    assert_eq!(std::fs::read(&json).unwrap(), b"earlier");
    // Agreed, with the link gone: both replaced, both private.
    std::fs::remove_file(&pdf).unwrap();
    write_subject_access(&dir, &sar, "subject-access-2026-11-25", Overwrite::Replace).unwrap();
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

/// "in 3 days", "3 days ago", "2 days left", "tomorrow": times that go stale on paper.
fn relative_times(text: &str) -> Vec<String> {
    let words: Vec<String> = text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect();
    let number = |w: &str| w.chars().all(|c| c.is_ascii_digit());
    let unit = |w: &str| matches!(w, "day" | "days" | "week" | "weeks" | "month" | "months");
    let mut found: Vec<String> = words
        .windows(3)
        .filter(|w| {
            (w[0] == "in" && number(&w[1]) && unit(&w[2]))
                || (number(&w[0]) && unit(&w[1]) && matches!(w[2].as_str(), "ago" | "left"))
        })
        .map(|w| w.join(" "))
        .collect();
    found.extend(
        words
            .iter()
            .filter(|w| matches!(w.as_str(), "tomorrow" | "yesterday"))
            .cloned(),
    );
    found
}

/// Section-and-paragraph references to the Act and case citations.
fn legal_references(text: &str) -> Vec<String> {
    let mut found: Vec<String> = [
        "s130", "s117", "s58", "s25", "(s", "MHA 1983", "EWCA", "Modaresi", " v SSH", "[2011]",
        "SOAD",
    ]
    .into_iter()
    .filter(|r| text.contains(r))
    .map(String::from)
    .collect();
    // "s. 66(1)(a)", "ss. 24-28"
    let words: Vec<&str> = text.split_whitespace().collect();
    found.extend(
        words
            .windows(2)
            .filter(|w| {
                matches!(w[0], "s." | "ss.") && w[1].starts_with(|c: char| c.is_ascii_digit())
            })
            .map(|w| w.join(" ")),
    );
    found
}

/// The value beside `label` on the cover (read with `pdftotext -layout`).
fn fact<'a>(layout: &'a str, label: &str) -> &'a str {
    layout
        .lines()
        .map(str::trim)
        .find_map(|l| {
            l.strip_prefix(label)
                .filter(|rest| rest.starts_with("  "))
                .map(str::trim)
        })
        .unwrap_or_else(|| panic!("no {label:?} on the cover:\n{layout}"))
}

/// A section 2 that began five days before the export: its tribunal window closes and its 28
/// days end within the month, so both copies have dates coming up (and the rules' source for
/// the window cites case law). Another ward round with three points, rights information.
fn with_dates_coming_up(f: &mut Fixture) {
    f.store
        .write(|w| {
            w.add_legal_event(&LegalEvent {
                client_id: f.client,
                on: d("2026-11-20"),
                kind: LegalEventKind::StatusStarted {
                    status: StatusCode::S2,
                },
                note: None,
            })?;
            w.add_activity(
                &activity(
                    f.case,
                    "2026-11-21T14:00",
                    ActivityKind::WardRound {
                        points_raised: vec![
                            "Wants to phone her sister every evening".into(),
                            "Asks why her leave was stopped".into(),
                            "Side effects of the new medication".into(),
                        ],
                        response: Some("Consultant will review leave on Friday".into()),
                    },
                ),
                "Three points raised at the ward round.",
            )?;
            w.add_activity(
                &activity(
                    f.case,
                    "2026-11-22T10:00",
                    ActivityKind::RightsInformation {
                        topics: [RightsTopic::Rights, RightsTopic::TreatmentSafeguards].into(),
                    },
                ),
                "Went through her rights with her.",
            )?;
            Ok(())
        })
        .unwrap();
}

#[test]
fn the_persons_copy_has_dates_not_relative_times_plain_words_not_citations_and_names_the_advocate()
{
    let mut f = fixture_with("Łucja Żółkiewska", false);
    with_dates_coming_up(&mut f);
    let rules = rules();
    let pdf = case_file_pdf(&mut f.store, f.client, Audience::Person, &cx(&rules)).unwrap();
    keep("patient-copy-dates.pdf", &pdf);
    let tmp = tempfile::tempdir().unwrap();
    let text = text_of(&pdf, tmp.path());

    // The dates coming up are there, as dates, with what they mean for her.
    in_order(
        &text,
        &[
            "Important dates",
            "Date",
            "What this means",
            "3 December 2026",
            "Last day you can apply to the tribunal",
            "17 December 2026",
            "Your section ends on this day.",
        ],
    );
    assert_eq!(relative_times(&text), Vec::<String>::new(), "{text}");
    assert_eq!(legal_references(&text), Vec::<String>::new(), "{text}");
    // What she was told about, and her consent to records, in plain words.
    in_order(
        &text,
        &["Topics", "The checks the law puts on your treatment"],
    );
    in_order(
        &text,
        &["Topics", "Your rights, and those of people close to you"],
    );
    in_order(&text, &["Access to health and social care records Given"]);

    // The case was opened by the store's own advocate, who has no advocate record: named.
    assert!(
        text.contains("your advocate: Ceri Advocate"),
        "the advocate who opened the case is named: {text}"
    );
    assert!(!text.contains("not assigned") && !text.contains("not recorded"));

    // Ward-round points as a list, one per line, never run together.
    let layout = poppler("pdftotext", &pdf, tmp.path());
    let points = [
        "Wants to phone her sister every evening",
        "Asks why her leave was stopped",
        "Side effects of the new medication",
    ];
    for p in points {
        let line = layout
            .lines()
            .find(|l| l.contains(p))
            .unwrap_or_else(|| panic!("{p} missing:\n{layout}"));
        assert!(line.contains('•'), "{p} is a list item: {line:?}");
        for other in points.iter().filter(|o| **o != p) {
            assert!(!line.contains(other), "{p} and {other} on one line");
        }
    }
    assert!(!text.contains("evening; Asks"));
}

#[test]
fn the_service_file_keeps_its_sources_but_says_dates_not_relative_times() {
    let mut f = fixture("Pat Example");
    with_dates_coming_up(&mut f);
    let rules = rules();
    let pdf = case_file_pdf(&mut f.store, f.client, Audience::Service, &cx(&rules)).unwrap();
    keep("case-file-dates.pdf", &pdf);
    let tmp = tempfile::tempdir().unwrap();
    let text = text_of(&pdf, tmp.path());
    in_order(
        &text,
        &[
            "Reminders",
            "3 December 2026",
            "tribunal application window closes on 3 Dec 2026",
            "Modaresi",
            "17 December 2026",
            "ends on 17 Dec 2026 and cannot be renewed further",
        ],
    );
    assert_eq!(relative_times(&text), Vec::<String>::new(), "{text}");
    // The assigned advocate, by their record.
    assert!(text.contains("advocate Rhian Assigned"), "{text}");
    // The hearing summary has no relative times either.
    let pdf = hearing_pdf(&mut f.store, f.case, &cx(&rules)).unwrap();
    let text = text_of(&pdf, tmp.path());
    assert_eq!(relative_times(&text), Vec::<String>::new(), "{text}");
    let layout = poppler("pdftotext", &pdf, tmp.path());
    assert!(
        layout
            .lines()
            .any(|l| l.contains("• Asks why her leave was stopped")
                && !l.contains("phone her sister")),
        "the points raised are listed in the representations table:\n{layout}"
    );
}

#[test]
fn the_hearing_summary_says_which_hearing_and_when_even_without_a_date() {
    let mut f = fixture_with("Pat Example", false);
    f.store
        .write(|w| {
            w.add_activity(
                &activity(
                    f.case,
                    "2026-11-24T09:00",
                    ActivityKind::ManagersHearing {
                        hearing_on: Some(d("2026-12-02")),
                        outcome: None,
                    },
                ),
                "Managers' hearing booked.",
            )?;
            Ok(())
        })
        .unwrap();
    let rules = rules();
    let pdf = hearing_pdf(&mut f.store, f.case, &cx(&rules)).unwrap();
    keep("hearing-summary-managers.pdf", &pdf);
    let tmp = tempfile::tempdir().unwrap();
    let text = text_of(&pdf, tmp.path());
    // The nearest hearing to come: the managers' on 2 December, before the tribunal's.
    let layout = poppler("pdftotext", &pdf, tmp.path());
    assert_eq!(fact(&layout, "Hearing"), "Hospital managers’ hearing");
    assert_eq!(fact(&layout, "Hearing date"), "2 December 2026");
    assert!(text.contains("HEARING SUMMARY") && text.contains("advocate Ceri Advocate"));

    // Only an undated hearing recorded: its type, and that the date is not recorded.
    let mut g = fixture_with("Sam Example", false);
    let only = g
        .store
        .write(|w| {
            let client = w.add_client(&Client::named("Jo Undated"))?;
            let case = w.open_case(&Case::opened(client, d("2026-11-01")))?;
            w.add_activity(
                &activity(
                    case,
                    "2026-11-02T09:00",
                    ActivityKind::Tribunal {
                        hearing_on: None,
                        outcome: None,
                    },
                ),
                "Tribunal applied for; no date yet.",
            )?;
            Ok(case)
        })
        .unwrap();
    let pdf = hearing_pdf(&mut g.store, only, &cx(&rules)).unwrap();
    let layout = poppler("pdftotext", &pdf, tmp.path());
    assert_eq!(fact(&layout, "Hearing"), "Tribunal hearing");
    assert_eq!(fact(&layout, "Hearing date"), "Not recorded");
}

#[test]
fn empty_sections_are_separate_sentences() {
    let mut f = fixture("Pat Example");
    let (client, _) = f
        .store
        .write(|w| {
            let client = w.add_client(&Client::named("Jo Bare"))?;
            let case = w.open_case(&Case::opened(client, d("2026-11-01")))?;
            Ok((client, case))
        })
        .unwrap();
    let rules = rules();
    for audience in [Audience::Service, Audience::Person] {
        let pdf = case_file_pdf(&mut f.store, client, audience, &cx(&rules)).unwrap();
        let tmp = tempfile::tempdir().unwrap();
        let layout = poppler("pdftotext", &pdf, tmp.path());
        for line in layout.lines() {
            assert!(
                !(line.contains("No consents recorded.") && line.contains("No record requests.")),
                "run together: {line:?}"
            );
        }
        let text = text_of(&pdf, tmp.path());
        in_order(&text, &["No consents recorded.", "No record requests."]);
        assert!(!text.contains("recorded.No"), "{text}");
    }
}

#[test]
fn exports_are_named_without_the_persons_name_unless_asked() {
    let mut f = fixture("Siân Llŷr Ffransis");
    let rules = rules();
    let on = d("2026-11-25");
    let reference = short_reference(f.case);
    let requests = [
        Request::CaseFile {
            client: f.client,
            audience: Audience::Service,
        },
        Request::CaseFile {
            client: f.client,
            audience: Audience::Person,
        },
        Request::Hearing { case: f.case },
        Request::SubjectAccess {
            client: f.client,
            name_in_file: false,
        },
    ];
    for r in requests {
        let name = suggested_file_name(&f.store, r, on, false).unwrap();
        assert!(
            !name.contains("Siân") && !name.contains("Ffransis"),
            "{name}"
        );
        assert!(
            name.contains(&reference) && name.ends_with("2026-11-25.pdf"),
            "{name}"
        );
        let named = suggested_file_name(&f.store, r, on, true).unwrap();
        assert!(named.contains("Siân-Llŷr-Ffransis"), "{named}");
    }

    // A PDF asked for into a folder takes the suggested name; a file path is kept as it is.
    let out = tempfile::tempdir().unwrap();
    let hearing = Request::Hearing { case: f.case };
    let path = output_path(&f.store, hearing, out.path(), on, false).unwrap();
    assert_eq!(
        path,
        out.path()
            .join(format!("hearing-summary-{reference}-2026-11-25.pdf"))
    );
    let file = out.path().join("mine.pdf");
    assert_eq!(
        output_path(&f.store, hearing, &file, on, false).unwrap(),
        file
    );
    let written = export_to(&mut f.store, hearing, &path, Overwrite::Refuse, &cx(&rules)).unwrap();
    assert_eq!(written, [path]);

    // A subject access response's two files, without the name, then with it when asked.
    let sar = out.path().join("sar");
    let plain = export_to(
        &mut f.store,
        Request::SubjectAccess {
            client: f.client,
            name_in_file: false,
        },
        &sar,
        Overwrite::Refuse,
        &cx(&rules),
    )
    .unwrap();
    let names: Vec<String> = plain
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names,
        [
            format!("subject-access-{reference}-2026-11-25.pdf"),
            format!("subject-access-{reference}-2026-11-25.json")
        ]
    );
    let named = export_to(
        &mut f.store,
        Request::SubjectAccess {
            client: f.client,
            name_in_file: true,
        },
        &sar,
        Overwrite::Refuse,
        &cx(&rules),
    )
    .unwrap();
    assert!(named[0].to_string_lossy().ends_with(&format!(
        "subject-access-Siân-Llŷr-Ffransis-{reference}-2026-11-25.pdf"
    )));
}
