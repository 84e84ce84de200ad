//! `wardside-bench store`: the SQLCipher store against plain SQLite with the same schema and
//! the same code, in one run. Prints medians, cold (a fresh process per measurement) and warm
//! (repeated in one process), and the ratio SQLCipher / plain. Not a test: figures go to
//! docs/PERFORMANCE.md. The other benchmarks (`sync`, `pdf`, `report`) have modules of their
//! own.

use chrono::NaiveDate;
use clap::{Parser, Subcommand, ValueEnum};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};
use wardside_domain::demo::DemoConfig;
use wardside_domain::{Activity, ActivityKind, CaseId};
use wardside_store::{CaseloadFilter, Passphrase, Store, Tuning};

mod pdf;
mod report;
mod sync;

const PASS: &str = "benchmark passphrase only";
/// For stores whose creation and unlocking are not what is measured (`sync`, `pdf`).
pub(crate) const CHEAP_KDF: wardside_store::KdfParams = wardside_store::KdfParams {
    m_kib: 1024,
    t: 1,
    p: 1,
};
const QUERIES: &[&str] = &[
    "tribunal",
    "seclusion records",
    "welfare rights",
    "escorted leave",
    "solicitor panel",
    "chaplaincy",
];

#[derive(Debug, Parser)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Variant {
    Sqlcipher,
    Plain,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Op {
    Unlock,
    Caseload,
    CaseOpen,
    Search,
    Save,
}

const OPS: [Op; 5] = [Op::Unlock, Op::Caseload, Op::CaseOpen, Op::Search, Op::Save];

#[derive(Debug, Subcommand)]
enum Cmd {
    /// Build both stores (or reuse them) and measure.
    Store {
        #[arg(long, default_value_t = 10_000)]
        clients: usize,
        #[arg(long, default_value_t = 20)]
        notes_per_client: usize,
        /// Measurements per figure.
        #[arg(long, default_value_t = 21)]
        runs: usize,
        /// Where the two stores are built (kept for the next run; delete to rebuild).
        #[arg(long)]
        dir: Option<PathBuf>,
        #[arg(long, default_value_t = Tuning::default().cache_kib)]
        cache_kib: u32,
        /// A tiny run that checks the benchmark works (used by the test command).
        #[arg(long)]
        smoke: bool,
    },
    /// A year's commissioner return over the store `store` builds, against one SQL query per
    /// measure on the same store; the two are compared first.
    Report {
        #[arg(long, default_value_t = 10_000)]
        clients: usize,
        #[arg(long, default_value_t = 20)]
        notes_per_client: usize,
        /// Measurements per figure.
        #[arg(long, default_value_t = 11)]
        runs: usize,
        /// Where the store is built (shared with `store`, kept; delete to rebuild).
        #[arg(long)]
        dir: Option<PathBuf>,
        /// A tiny run that checks the benchmark works (used by the test command).
        #[arg(long)]
        smoke: bool,
        /// Only read the facts and compute the return, `runs` times, warm, nothing else: for
        /// `perf record`.
        #[arg(long, hide = true)]
        profile: bool,
    },
    /// The sync service and client over loopback: initial sync, incremental sync, many devices.
    Sync {
        #[arg(long, default_value_t = 200_000)]
        ops: usize,
        #[arg(long, default_value_t = 100)]
        devices: usize,
        /// A tiny run that checks the benchmark works (used by the test command).
        #[arg(long)]
        smoke: bool,
    },
    /// Wardside's case-file PDF against headless Chromium printing the same document.
    Pdf {
        /// Case sizes, in notes.
        #[arg(long, value_delimiter = ',', default_value = "100,1000")]
        notes: Vec<usize>,
        #[arg(long, default_value_t = 5)]
        runs: usize,
        /// A tiny run that checks the benchmark works (used by the test command).
        #[arg(long)]
        smoke: bool,
    },
    /// One export in a fresh process (used by `pdf`).
    #[command(hide = true)]
    PdfProbe {
        #[arg(long)]
        db: PathBuf,
        #[arg(long)]
        client: wardside_domain::ClientId,
        #[arg(long)]
        out: PathBuf,
    },
    /// One cold measurement in a fresh process (used by `store`).
    #[command(hide = true)]
    Probe {
        #[arg(long)]
        variant: Variant,
        #[arg(long)]
        db: PathBuf,
        #[arg(long)]
        op: Op,
        #[arg(long)]
        arg: String,
        #[arg(long)]
        cache_kib: u32,
    },
}

fn open(variant: Variant, db: &Path, tuning: Tuning) -> Store {
    let r = match variant {
        Variant::Sqlcipher => Store::unlock_with(db, &Passphrase::new(PASS), tuning),
        Variant::Plain => Store::open_unencrypted_baseline(db, tuning),
    };
    r.unwrap_or_else(|e| fail(&format!("open {}: {e}", db.display())))
}

pub(crate) fn fail(msg: &str) -> ! {
    eprintln!("wardside-bench: {msg}");
    std::process::exit(1)
}

pub(crate) fn note_text(i: usize) -> String {
    let cfg = DemoConfig {
        paragraphs: (6, 6),
        activities: (1, 1),
        ..DemoConfig::new(1, 999 + i as u64, as_of())
    };
    wardside_domain::demo::client(&cfg, 0).current().activities[0]
        .text
        .clone()
}

pub(crate) fn as_of() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 25).unwrap_or_default()
}

/// Run one operation; `arg` picks the case or query so repeated runs touch different data.
fn run_op(store: &mut Store, op: Op, arg: &str) {
    let r = match op {
        Op::Unlock => Ok(()),
        Op::Caseload => store
            .caseload(&CaseloadFilter::default(), 0, 50)
            .map(|rows| assert_eq!(rows.len().min(1), 1)),
        Op::CaseOpen => store
            .case_view(arg.parse::<CaseId>().unwrap_or_else(|_| fail("case id")))
            .map(|v| assert!(!v.timeline.is_empty())),
        Op::Search => store.search(arg, 50).map(|_| ()),
        Op::Save => {
            let (case, text) = arg.split_once('|').unwrap_or_else(|| fail("save arg"));
            let case: CaseId = case.parse().unwrap_or_else(|_| fail("case id"));
            let a = Activity {
                case_id: case,
                at: as_of().and_hms_opt(12, 0, 0).unwrap_or_default(),
                duration_minutes: Some(30),
                kind: ActivityKind::Other,
                withheld: None,
            };
            store.write(|w| w.add_activity(&a, text)).map(|_| ())
        }
    };
    r.unwrap_or_else(|e| fail(&format!("{op:?}: {e}")));
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.3}", d.as_secs_f64() * 1000.0)
}

/// Where the stores for `clients` and `notes` are kept under `base`. The schema's version and
/// the demo's generation are in the name, so that stores are built again after either changes
/// (bump the generation when the demo writes something new).
fn store_dir(base: &Path, clients: usize, notes: usize) -> PathBuf {
    const DEMO_GENERATION: u32 = 2;
    base.join(format!(
        "c{clients}-n{notes}-schema{}-demo{DEMO_GENERATION}",
        Store::latest_schema_version()
    ))
}

struct Fixture {
    cases: Vec<String>,
}

fn build(variant: Variant, db: &Path, clients: usize, notes: usize, tuning: Tuning) -> Duration {
    let t = Instant::now();
    let mut store = match variant {
        Variant::Sqlcipher => Store::create_with(
            db,
            &Passphrase::new(PASS),
            "Benchmark",
            Default::default(),
            tuning,
        ),
        Variant::Plain => Store::create_unencrypted_baseline(db, tuning),
    }
    .unwrap_or_else(|e| fail(&format!("create: {e}")));
    let cfg = DemoConfig {
        activities: (notes, notes),
        paragraphs: (6, 6),
        ..DemoConfig::new(clients, 20261125, as_of())
    };
    wardside_store::demo::load(&mut store, &cfg, |done| {
        if done % 1000 == 0 {
            eprintln!("  {variant:?}: {done}/{clients} clients");
        }
    })
    .unwrap_or_else(|e| fail(&format!("load: {e}")));
    store.lock().unwrap_or_else(|e| fail(&format!("lock: {e}")));
    t.elapsed()
}

fn arg_for(op: Op, i: usize, fx: &Fixture, texts: &[String]) -> String {
    match op {
        Op::CaseOpen => fx.cases[(i * 7919) % fx.cases.len()].clone(),
        Op::Search => QUERIES[i % QUERIES.len()].to_string(),
        Op::Save => format!(
            "{}|{}",
            fx.cases[(i * 104_729) % fx.cases.len()],
            texts[i % texts.len()]
        ),
        _ => String::new(),
    }
}

fn cold(variant: Variant, db: &Path, op: Op, arg: &str, cache_kib: u32) -> Duration {
    let exe = std::env::current_exe().unwrap_or_else(|_| fail("current exe"));
    let out = Command::new(exe)
        .args([
            "probe",
            "--variant",
            &format!("{variant:?}").to_lowercase(),
            "--op",
            &format!("{op:?}")
                .to_lowercase()
                .replace("caseopen", "case-open"),
        ])
        .arg("--db")
        .arg(db)
        .args(["--arg", arg, "--cache-kib", &cache_kib.to_string()])
        .output()
        .unwrap_or_else(|e| fail(&format!("probe: {e}")));
    if !out.status.success() {
        fail(&format!(
            "probe failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let nanos: u64 = String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .unwrap_or_else(|_| fail("probe output"));
    Duration::from_nanos(nanos)
}

fn main() {
    match Cli::parse().cmd {
        Cmd::Sync {
            ops,
            devices,
            smoke,
        } => sync::run(ops, devices, smoke),
        Cmd::Pdf { notes, runs, smoke } => pdf::run(&notes, runs, smoke),
        Cmd::Report {
            clients,
            notes_per_client,
            runs,
            dir,
            smoke,
            profile,
        } => report::run(clients, notes_per_client, runs, dir, smoke, profile),
        Cmd::PdfProbe { db, client, out } => pdf::probe(&db, client, &out),
        Cmd::Probe {
            variant,
            db,
            op,
            arg,
            cache_kib,
        } => {
            let tuning = Tuning { cache_kib };
            let t = Instant::now();
            let mut store = open(variant, &db, tuning);
            let unlock = t.elapsed();
            let t = Instant::now();
            run_op(&mut store, op, &arg);
            let d = if op == Op::Unlock {
                unlock
            } else {
                t.elapsed()
            };
            println!("{}", d.as_nanos());
        }
        Cmd::Store {
            clients,
            notes_per_client,
            runs,
            dir,
            cache_kib,
            smoke,
        } => {
            let (clients, notes_per_client, runs) = if smoke {
                (40, 5, 3)
            } else {
                (clients, notes_per_client, runs.max(3))
            };
            let tmp = tempfile::tempdir().unwrap_or_else(|_| fail("temp dir"));
            let dir = if smoke {
                tmp.path().to_owned()
            } else {
                dir.unwrap_or_else(|| std::env::temp_dir().join("wardside-bench"))
            };
            let dir = store_dir(&dir, clients, notes_per_client);
            std::fs::create_dir_all(&dir)
                .unwrap_or_else(|e| fail(&format!("{}: {e}", dir.display())));
            let tuning = Tuning { cache_kib };
            let texts: Vec<String> = (0..16).map(note_text).collect();
            let avg_note = texts.iter().map(String::len).sum::<usize>() / texts.len();
            println!(
                "Wardside store benchmark: {clients} clients, {} notes of ~{avg_note} bytes, {runs} runs per figure, page cache {cache_kib} KiB",
                clients * notes_per_client
            );

            let variants = [Variant::Sqlcipher, Variant::Plain];
            let mut dbs = Vec::new();
            let mut fixtures = Vec::new();
            for variant in variants {
                let db = dir.join(format!("{variant:?}.db").to_lowercase());
                if !db.exists() {
                    let took = build(variant, &db, clients, notes_per_client, tuning);
                    let size = std::fs::metadata(&db).map(|m| m.len()).unwrap_or(0);
                    println!(
                        "built {variant:?} store in {:.1} s ({} MB)",
                        took.as_secs_f64(),
                        size / 1_000_000
                    );
                }
                let store = open(variant, &db, tuning);
                fixtures.push(Fixture {
                    cases: store
                        .caseload(&CaseloadFilter::default(), 0, 10_000)
                        .unwrap_or_else(|e| fail(&e.to_string()))
                        .into_iter()
                        .map(|r| r.case_id.to_string())
                        .collect(),
                });
                dbs.push(db);
            }

            // The two variants take turns, run by run, so that anything else the machine does
            // during the benchmark weighs on both alike and the ratio stays fair.
            let mut results: [Vec<(Duration, Duration)>; 2] = [Vec::new(), Vec::new()];
            for op in OPS {
                let mut cold_runs = [Vec::new(), Vec::new()];
                for i in 0..runs {
                    for (v, variant) in variants.iter().enumerate() {
                        let arg = arg_for(op, i + 1000, &fixtures[v], &texts);
                        cold_runs[v].push(cold(*variant, &dbs[v], op, &arg, cache_kib));
                    }
                }
                let mut warm_runs = [Vec::new(), Vec::new()];
                if op == Op::Unlock {
                    for _ in 0..runs {
                        for (v, variant) in variants.iter().enumerate() {
                            let t = Instant::now();
                            drop(open(*variant, &dbs[v], tuning));
                            warm_runs[v].push(t.elapsed());
                        }
                    }
                } else {
                    let mut stores: Vec<Store> = variants
                        .iter()
                        .zip(&dbs)
                        .map(|(variant, db)| open(*variant, db, tuning))
                        .collect();
                    for (v, store) in stores.iter_mut().enumerate() {
                        run_op(store, op, &arg_for(op, 0, &fixtures[v], &texts)); // warm-up
                    }
                    for i in 0..runs {
                        for (v, store) in stores.iter_mut().enumerate() {
                            let a = arg_for(op, i % 4, &fixtures[v], &texts);
                            let t = Instant::now();
                            run_op(store, op, &a);
                            warm_runs[v].push(t.elapsed());
                        }
                    }
                }
                for v in 0..2 {
                    let cold_d = median(std::mem::take(&mut cold_runs[v]));
                    let warm_d = median(std::mem::take(&mut warm_runs[v]));
                    results[v].push((cold_d, warm_d));
                }
            }

            println!();
            println!(
                "{:<22} {:>14} {:>12} {:>8} {:>14} {:>12} {:>8}",
                "median, ms",
                "SQLCipher cold",
                "plain cold",
                "ratio",
                "SQLCipher warm",
                "plain warm",
                "ratio"
            );
            for (i, op) in OPS.iter().enumerate() {
                let (sc, sw) = results[0][i];
                let (pc, pw) = results[1][i];
                let name = match op {
                    Op::Unlock => "unlock (open store)",
                    Op::Caseload => "caseload, first page",
                    Op::CaseOpen => "case open (+audit)",
                    Op::Search => "FTS search, 50 hits",
                    Op::Save => "note save (durable)",
                };
                println!(
                    "{:<22} {:>14} {:>12} {:>8.2} {:>14} {:>12} {:>8.2}",
                    name,
                    ms(sc),
                    ms(pc),
                    sc.as_secs_f64() / pc.as_secs_f64().max(1e-9),
                    ms(sw),
                    ms(pw),
                    sw.as_secs_f64() / pw.as_secs_f64().max(1e-9)
                );
            }
            println!(
                "(unlock includes Argon2id for SQLCipher by design; plain SQLite has no key to derive)"
            );
        }
    }
}
