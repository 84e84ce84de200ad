//! `wardside-bench pdf`: Wardside's case-file PDF against headless Chromium printing an
//! equivalent HTML page with the same content, in one run (issue 6).
//!
//! For each case size (default 100 and 1,000 notes) a real encrypted store holds one client and
//! one case. Measured, each a median of `runs`:
//!
//! - **Wardside, fresh process**: `wardside-bench pdf-probe` unlocks the store, gathers the
//!   record, typesets and writes the PDF — process start, font loading and all (what an
//!   advocate's click costs the first time);
//! - **Wardside, warm**: the same export repeated in this process, typst's layout cache
//!   cleared before each (later clicks in a running app, on a record that changed);
//! - **Chromium** (the baseline): `chromium --headless --print-to-pdf` of an HTML file holding
//!   the same document (the same words, tables and entries, A4, page margin boxes for
//!   "Confidential" and "Page X of Y"), built from the same document model.
//!
//! The ratio is Chromium's time over Wardside's fresh-process time.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};
use wardside_domain::rules::{Jurisdiction, Rules};
use wardside_domain::{Activity, ActivityKind, Case, Client, ClientId};
use wardside_export::model::{Block, Doc};
use wardside_export::{Audience, Context, Generated};
use wardside_store::export::ExportKind;
use wardside_store::{Passphrase, Store, Tuning};

use crate::{CHEAP_KDF as KDF, PASS, fail};

fn generated() -> Generated {
    Generated {
        by: "Benchmark Advocate".into(),
        at: crate::as_of().and_hms_opt(12, 0, 0).unwrap_or_default(),
    }
}

fn rules() -> Rules {
    Rules::shipped().unwrap_or_else(|e| fail(&e.to_string()))
}

/// One client with one case of `notes` notes, of every kind in turn.
fn build(db: &Path, notes: usize) -> ClientId {
    let mut store = Store::create_with(db, &Passphrase::new(PASS), "Bench", KDF, Tuning::default())
        .unwrap_or_else(|e| fail(&format!("store: {e}")));
    let client = store
        .write(|w| {
            let mut c = Client::named("Siân Llewelyn-Żółkiewska");
            c.hospital = Some("Riverside Hospital".into());
            c.ward = Some("Cedar Ward".into());
            let client = w.add_client(&c)?;
            let case = w.open_case(&Case::opened(
                client,
                crate::as_of() - chrono::Days::new(400),
            ))?;
            for i in 0..notes {
                let kind = match i % 4 {
                    0 => ActivityKind::PrivateInterview {
                        wishes: Some("To have escorted leave to see my mother on Sundays.".into()),
                    },
                    1 => ActivityKind::WardRound {
                        points_raised: vec![
                            "Escorted leave".into(),
                            "Medication side effects".into(),
                        ],
                        response: Some("Leave to be reviewed next week".into()),
                    },
                    2 => ActivityKind::Concern {
                        raised_with: "Ward manager".into(),
                        response_due: None,
                        response: None,
                    },
                    _ => ActivityKind::Other,
                };
                let at = (crate::as_of()
                    - chrono::Days::new(400 - (i as u64 * 400 / notes.max(1) as u64)))
                .and_hms_opt(10, 0, 0)
                .unwrap_or_default();
                let a = Activity {
                    case_id: case,
                    at,
                    duration_minutes: Some(45),
                    kind,
                    withheld: None,
                };
                w.add_activity(&a, &crate::note_text(i))?;
            }
            Ok(client)
        })
        .unwrap_or_else(|e| fail(&format!("build: {e}")));
    store.lock().unwrap_or_else(|e| fail(&format!("lock: {e}")));
    client
}

/// The export as a fresh process would do it: unlock, gather, typeset, write.
pub fn probe(db: &Path, client: ClientId, out: &Path) {
    let mut store = Store::unlock_with(db, &Passphrase::new(PASS), Tuning::default())
        .unwrap_or_else(|e| fail(&format!("unlock: {e}")));
    let rules = rules();
    let cx = Context {
        generated: generated(),
        rules: &rules,
        jurisdiction: Jurisdiction::England,
    };
    let pdf = wardside_export::case_file_pdf(&mut store, client, Audience::Service, &cx)
        .unwrap_or_else(|e| fail(&format!("export: {e}")));
    // Each run writes the same file again.
    wardside_export::write_output(out, &pdf, wardside_export::Overwrite::Replace)
        .unwrap_or_else(|e| fail(&e.to_string()));
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn facts_html<V: std::fmt::Display>(out: &mut String, pairs: &[(String, V)]) {
    out.push_str("<dl>");
    for (k, v) in pairs {
        let _ = write!(out, "<dt>{}</dt><dd>{}</dd>", esc(k), esc(&v.to_string()));
    }
    out.push_str("</dl>");
}

fn prose_html(out: &mut String, text: &str) {
    for p in text.split("\n\n").filter(|p| !p.trim().is_empty()) {
        let _ = write!(out, "<p>{}</p>", esc(p.trim()).replace('\n', "<br>"));
    }
}

/// The same document as HTML, for Chromium: the same content and structure as the template.
fn html(doc: &Doc) -> String {
    let mut o = String::with_capacity(1 << 20);
    let _ = write!(
        o,
        r#"<!doctype html><html lang="en-GB"><head><meta charset="utf-8"><title>{title}</title><style>
@page {{ size: A4; margin: 2.5cm 2.1cm 2.3cm;
  @top-left {{ content: "CONFIDENTIAL"; font: bold 8.5pt sans-serif; color: #9a1b1b }}
  @top-right {{ content: "{initials}"; font: 8.5pt sans-serif; color: #57606a }}
  @bottom-left {{ content: "{generated}"; font: 8pt sans-serif; color: #57606a }}
  @bottom-right {{ content: "Page " counter(page) " of " counter(pages); font: 8pt sans-serif; color: #57606a }} }}
body {{ font: 10pt "Noto Sans", sans-serif; color: #1f2328 }}
h1 {{ font-size: 14pt; color: #1d4f7a }} h2 {{ font-size: 10.5pt; color: #1d4f7a; border-top: 0.4pt solid #d0d7de; padding-top: .5em }}
table {{ width: 100%; border-collapse: collapse; font-size: 9pt }} th {{ background: #f4f6f8; text-align: left }}
td, th {{ border-bottom: 0.5pt solid #d0d7de; padding: 5px; vertical-align: top }} thead {{ display: table-header-group }}
dl {{ display: grid; grid-template-columns: 9.5em 1fr; gap: .3em 1.2em; font-size: 9pt }} dt {{ color: #57606a }} dd {{ margin: 0 }}
.withheld {{ background: #f4f6f8; border-left: 2.5pt solid #57606a; padding: 8px 10px }}
</style></head><body>"#,
        title = esc(&doc.title),
        initials = esc(&doc.header_right),
        generated = esc(&doc.generated),
    );
    let _ = write!(
        o,
        "<div>{}</div><h1 style=\"font-size:21pt\">{}</h1>",
        esc(&doc.kind_label),
        esc(&doc.heading)
    );
    facts_html(&mut o, &doc.cover);
    if doc.contents {
        o.push_str("<nav><b>Contents</b><ul>");
        for s in &doc.sections {
            let _ = write!(o, "<li>{}</li>", esc(&s.heading));
        }
        o.push_str("</ul></nav>");
    }
    for s in &doc.sections {
        let brk = if s.new_page {
            " style=\"break-before: page\""
        } else {
            ""
        };
        let _ = write!(o, "<h1{brk}>{}</h1>", esc(&s.heading));
        if let Some(i) = &s.intro {
            let _ = write!(o, "<p>{}</p>", esc(i));
        }
        for b in &s.blocks {
            match b {
                Block::Paragraph { text } => prose_html(&mut o, text),
                Block::Facts { pairs } => facts_html(&mut o, pairs),
                Block::Table { columns, rows, .. } => {
                    o.push_str("<table><thead><tr>");
                    for c in columns {
                        let _ = write!(o, "<th>{}</th>", esc(c));
                    }
                    o.push_str("</tr></thead><tbody>");
                    for r in rows {
                        o.push_str("<tr>");
                        for c in r {
                            let _ = write!(o, "<td>{}</td>", esc(&c.to_string()));
                        }
                        o.push_str("</tr>");
                    }
                    o.push_str("</tbody></table>");
                }
                Block::Entry {
                    heading,
                    flag,
                    meta,
                    body,
                    history,
                    ..
                } => {
                    let _ = write!(o, "<h2>{}</h2>", esc(heading));
                    if let Some(f) = flag {
                        let _ = write!(o, "<p><b>{}</b></p>", esc(f));
                    }
                    facts_html(&mut o, meta);
                    prose_html(&mut o, body);
                    if let Some(h) = history {
                        let _ = write!(o, "<p><i>{}</i></p>", esc(h));
                    }
                }
                Block::Withheld { title, text } => {
                    let _ = write!(
                        o,
                        "<div class=withheld><b>{}</b><br>{}</div>",
                        esc(title),
                        esc(text)
                    );
                }
                Block::Empty { text } => {
                    let _ = write!(o, "<p><i>{}</i></p>", esc(text));
                }
                Block::List { items } => {
                    o.push_str("<ul>");
                    for i in items {
                        let _ = write!(o, "<li>{}</li>", esc(i));
                    }
                    o.push_str("</ul>");
                }
            }
        }
    }
    o.push_str("</body></html>");
    o
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn timed(mut f: impl FnMut()) -> Duration {
    let t = Instant::now();
    f();
    t.elapsed()
}

fn pages(pdf: &Path) -> String {
    Command::new("pdfinfo")
        .arg(pdf)
        .output()
        .ok()
        .and_then(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .find_map(|l| l.strip_prefix("Pages:").map(|p| p.trim().to_string()))
        })
        .unwrap_or_else(|| "?".into())
}

fn chromium() -> Option<PathBuf> {
    ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .find_map(|c| {
            Command::new(c)
                .arg("--version")
                .output()
                .ok()
                .filter(|o| o.status.success())
                .map(|_| PathBuf::from(c))
        })
}

pub fn run(sizes: &[usize], runs: usize, smoke: bool) {
    let (sizes, runs): (Vec<usize>, usize) = if smoke {
        (vec![10], 1)
    } else {
        (sizes.to_vec(), runs)
    };
    let chrome = chromium();
    if chrome.is_none() && !smoke {
        fail("Chromium is the baseline: install it (apt install chromium) and run again");
    }
    let me = std::env::current_exe().unwrap_or_else(|e| fail(&e.to_string()));
    println!("PDF benchmark (release build expected): medians of {runs} runs");
    for n in sizes {
        let dir = tempfile::tempdir().unwrap_or_else(|e| fail(&e.to_string()));
        let db = dir.path().join("wardside.db");
        let client = build(&db, n);
        let ours = dir.path().join("wardside.pdf");

        let fresh = median(
            (0..runs)
                .map(|_| {
                    timed(|| {
                        let ok = Command::new(&me)
                            .args(["pdf-probe", "--db"])
                            .arg(&db)
                            .args(["--client", &client.to_string(), "--out"])
                            .arg(&ours)
                            .status()
                            .is_ok_and(|s| s.success());
                        if !ok {
                            fail("the probe failed");
                        }
                    })
                })
                .collect(),
        );

        let mut store = Store::unlock_with(&db, &Passphrase::new(PASS), Tuning::default())
            .unwrap_or_else(|e| fail(&e.to_string()));
        let rules = rules();
        let cx = Context {
            generated: generated(),
            rules: &rules,
            jurisdiction: Jurisdiction::England,
        };
        let warm = median(
            (0..runs.max(3))
                .map(|_| {
                    wardside_export::clear_caches();
                    timed(|| {
                        wardside_export::case_file_pdf(&mut store, client, Audience::Service, &cx)
                            .unwrap_or_else(|e| fail(&e.to_string()));
                    })
                })
                .collect(),
        );

        let record = store
            .client_record(client, ExportKind::CaseFile)
            .unwrap_or_else(|e| fail(&e.to_string()));
        let doc = wardside_export::model::case_file(&record, &[], Audience::Service, &generated());
        let page = dir.path().join("case.html");
        std::fs::write(&page, html(&doc)).unwrap_or_else(|e| fail(&e.to_string()));
        let theirs = dir.path().join("chromium.pdf");
        let profile = dir.path().join("chromium-profile");
        let baseline = chrome.as_ref().map(|c| {
            median(
                (0..runs)
                    .map(|_| {
                        timed(|| {
                            let ok = Command::new(c)
                                .args([
                                    "--headless",
                                    "--no-sandbox",
                                    "--disable-gpu",
                                    "--no-pdf-header-footer",
                                ])
                                .arg(format!("--user-data-dir={}", profile.display()))
                                .arg(format!("--print-to-pdf={}", theirs.display()))
                                .arg(format!("file://{}", page.display()))
                                .stderr(std::process::Stdio::null())
                                .status()
                                .is_ok_and(|s| s.success());
                            if !ok {
                                fail("chromium failed");
                            }
                        })
                    })
                    .collect(),
            )
        });

        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        println!("  case of {n} notes");
        println!(
            "    Wardside, fresh process      {:>8.0} ms   {} pages",
            ms(fresh),
            pages(&ours)
        );
        println!("    Wardside, warm (in process)  {:>8.0} ms", ms(warm));
        match baseline {
            Some(b) => println!(
                "    Chromium --print-to-pdf      {:>8.0} ms   {} pages   Wardside {:.1}x faster (fresh process){}",
                ms(b),
                pages(&theirs),
                b.as_secs_f64() / fresh.as_secs_f64(),
                if n == 100 { "   target >= 3x" } else { "" }
            ),
            None => println!(
                "    Chromium --print-to-pdf      not installed (smoke run: baseline skipped)"
            ),
        }
    }
}
