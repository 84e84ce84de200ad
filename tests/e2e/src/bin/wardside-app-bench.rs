//! `wardside-app-bench`: the desktop app against a bare Tauri window, in one run. For each
//! run it starts the app fresh through WebDriver on a 10,000-client demo store and measures
//! cold start to the lock screen, unlock to the caseload (Argon2id included), opening a case
//! with 500 timeline entries, and then the memory of the app's processes (the app and WebKit's
//! web and network processes); the bare window gives start time and memory of the same stack
//! doing nothing. Times come from the page's own performance marks and the kernel's process
//! start time, so WebDriver's overhead is not counted. Prints medians and ratios.
//!
//! Needs a display (run under `xvfb-run -a`), tauri-driver, and both binaries built:
//! `cargo build --release -p wardside-app -p wardside-bare-window`.

use chrono::NaiveDateTime;
use fantoccini::Client;
use fantoccini::key::Key;
use std::path::{Path, PathBuf};
use std::time::Duration;
use wardside_domain::*;
use wardside_e2e::*;
use wardside_store::{Passphrase, Store};

const PASS: &str = "benchmark passphrase only";
const CLIENTS: usize = 10_000;
const ENTRIES: usize = 500;

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn release_binary(name: &str) -> PathBuf {
    let target = std::env::var("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"));
    target.join("release").join(name)
}

/// The 10,000-client demo store plus one person ("Aaron Aardvark", first by name) whose case
/// has 500 timeline entries. Built once and kept in `dir`.
fn bench_store(dir: &Path) -> PathBuf {
    let db = dir.join("app-bench.db");
    if db.exists() {
        return db;
    }
    std::fs::create_dir_all(dir).expect("bench dir");
    eprintln!(
        "building the bench store ({CLIENTS} clients) in {}",
        dir.display()
    );
    let mut store = Store::create(&db, &Passphrase::new(PASS), "Bench Advocate").expect("create");
    let today = wardside_domain::rules::period::uk_date_at(chrono::Utc::now());
    let cfg = wardside_domain::demo::DemoConfig::new(CLIENTS, 11, today);
    wardside_store::demo::load(&mut store, &cfg, |n| {
        if n % 1000 == 0 {
            eprint!("\r  {n} clients");
        }
    })
    .expect("demo");
    eprintln!();
    let start = today - chrono::Days::new(200);
    store
        .write(|w| {
            let mut client = wardside_domain::Client::named("Aaron Aardvark");
            client.hospital = Some("Riverside Hospital".into());
            client.ward = Some("Cedar".into());
            let client_id = w.add_client(&client)?;
            w.add_legal_event(&LegalEvent {
                client_id,
                on: start,
                kind: LegalEventKind::StatusStarted {
                    status: StatusCode::S3,
                },
                note: None,
            })?;
            let case_id = w.open_case(&Case::opened(client_id, start))?;
            let base: NaiveDateTime = start.and_hms_opt(9, 0, 0).expect("valid time");
            for i in 0..ENTRIES {
                let activity = Activity {
                    case_id,
                    at: base + chrono::Duration::hours(9 * i as i64),
                    duration_minutes: Some(30),
                    kind: if i % 3 == 0 {
                        ActivityKind::WardRound {
                            points_raised: vec![
                                "Escorted leave".into(),
                                "Medication review".into(),
                            ],
                            response: Some("To be reviewed next week".into()),
                        }
                    } else {
                        ActivityKind::PrivateInterview { wishes: None }
                    },
                    withheld: None,
                };
                let text = "Met on the ward and talked through the week. ".repeat(12);
                w.add_activity(&activity, &text)?;
            }
            Ok(())
        })
        .expect("500-entry case");
    store.lock().expect("lock");
    db
}

/// Epoch milliseconds of a performance mark, from the page's clock.
async fn mark_epoch_ms(c: &Client, name: &str) -> Option<f64> {
    let v = c
        .execute(
            "const e = performance.getEntriesByName('wardside:' + arguments[0]); \
             return e.length ? performance.timeOrigin + e[e.length - 1].startTime : null;",
            vec![name.into()],
        )
        .await
        .ok()?;
    v.as_f64()
}

async fn wait_mark(c: &Client, name: &str) -> f64 {
    for _ in 0..600 {
        if let Some(t) = mark_epoch_ms(c, name).await {
            return t;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("the page never reached {name}");
}

fn clock_ticks() -> f64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100.0)
}

/// When a process started, in epoch milliseconds (to the kernel's clock tick).
fn process_start_epoch_ms(pid: u32) -> f64 {
    let btime: f64 = std::fs::read_to_string("/proc/stat")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("btime ").map(|v| v.trim().parse().ok()))
                .flatten()
        })
        .expect("btime");
    let ticks: f64 = stat_fields(pid)
        .and_then(|f| f.get(19).and_then(|v| v.parse().ok()))
        .expect("starttime");
    (btime + ticks / clock_ticks()) * 1000.0
}

/// Resident and proportional memory (MiB) of a process and its descendants; with
/// `--verbose`, each process's share is printed.
fn memory_mib(pid: u32) -> (f64, f64) {
    let mut rss = 0.0;
    let mut pss = 0.0;
    for p in std::iter::once(pid).chain(descendants(pid)) {
        let before = pss;
        if let Ok(s) = std::fs::read_to_string(format!("/proc/{p}/smaps_rollup")) {
            for l in s.lines() {
                let kb = |l: &str| {
                    l.split_whitespace()
                        .nth(1)
                        .and_then(|v| v.parse::<f64>().ok())
                        .unwrap_or(0.0)
                };
                if l.starts_with("Rss:") {
                    rss += kb(l) / 1024.0;
                } else if l.starts_with("Pss:") {
                    pss += kb(l) / 1024.0;
                }
            }
        }
        if std::env::args().any(|a| a == "--verbose") {
            let comm = std::fs::read_to_string(format!("/proc/{p}/comm")).unwrap_or_default();
            eprintln!("    {:<20} PSS {:>6.0} MiB", comm.trim(), pss - before);
        }
    }
    (rss, pss)
}

#[derive(Debug, Default)]
struct Samples {
    start: Vec<f64>,
    unlock: Vec<f64>,
    open: Vec<f64>,
    rss: Vec<f64>,
    pss: Vec<f64>,
}

fn median(v: &[f64]) -> f64 {
    let mut v = v.to_vec();
    v.sort_by(f64::total_cmp);
    if v.is_empty() {
        return f64::NAN;
    }
    v[v.len() / 2]
}

async fn run_bare(sandbox: &Sandbox, out: &mut Samples) {
    let bin = release_binary("wardside-bare-window");
    let driver = start_driver_with(sandbox, None).expect("tauri-driver");
    let c = launch_binary(&driver, &bin).await.expect("bare window");
    let shown = wait_mark(&c, "lock-shown").await;
    let pid = find_process(driver.pid(), &bin).expect("bare window process");
    out.start.push(shown - process_start_epoch_ms(pid));
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (rss, pss) = memory_mib(pid);
    out.rss.push(rss);
    out.pss.push(pss);
    c.close().await.ok();
}

async fn run_app(sandbox: &Sandbox, db: &Path, out: &mut Samples) {
    let bin = release_binary("wardside-app");
    let driver = start_driver_with(sandbox, Some(db)).expect("tauri-driver");
    let c = launch_binary(&driver, &bin).await.expect("app");
    let shown = wait_mark(&c, "lock-shown").await;
    let pid = find_process(driver.pid(), &bin).expect("app process");
    out.start.push(shown - process_start_epoch_ms(pid));
    if std::env::args().any(|a| a == "--verbose") {
        tokio::time::sleep(Duration::from_secs(2)).await;
        eprintln!("  app at the lock screen:");
        memory_mib(pid);
        eprintln!("  app after the case opened:");
    }

    find(&c, "#passphrase")
        .await
        .expect("passphrase box")
        .send_keys(&format!("{PASS}{}", char::from(Key::Enter)))
        .await
        .expect("typing");
    let listed = wait_mark(&c, "caseload-shown").await;
    let submitted = wait_mark(&c, "unlock-submitted").await;
    out.unlock.push(listed - submitted);
    if std::env::args().any(|a| a == "--verbose") {
        tokio::time::sleep(Duration::from_secs(2)).await;
        let due = c
            .execute("return document.querySelectorAll('*').length", vec![])
            .await
            .ok();
        eprintln!("  app with the caseload shown ({due:?} DOM nodes):");
        memory_mib(pid);
    }

    find(&c, "button.case-row")
        .await
        .expect("a case")
        .click()
        .await
        .expect("click");
    let opened = wait_mark(&c, "case-shown").await;
    let requested = wait_mark(&c, "case-requested").await;
    out.open.push(opened - requested);
    wait_for_text(&c, &format!("({ENTRIES} entries)"))
        .await
        .expect("the 500-entry case is shown");

    tokio::time::sleep(Duration::from_secs(2)).await;
    let (rss, pss) = memory_mib(pid);
    out.rss.push(rss);
    out.pss.push(pss);
    c.close().await.ok();
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let runs: usize = arg("--runs").and_then(|r| r.parse().ok()).unwrap_or(5);
    let dir = arg("--dir")
        .map(PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join("wardside-app-bench"));
    let db = bench_store(&dir);
    let mut app = Samples::default();
    let mut bare = Samples::default();
    for i in 0..runs {
        // Take turns, so drift on the machine falls on both.
        let sandbox = Sandbox::new().expect("sandbox");
        if i % 2 == 0 {
            run_bare(&sandbox, &mut bare).await;
            run_app(&sandbox, &db, &mut app).await;
        } else {
            run_app(&sandbox, &db, &mut app).await;
            run_bare(&sandbox, &mut bare).await;
        }
        eprintln!("run {}/{runs} done", i + 1);
    }
    println!(
        "wardside-app-bench: {runs} runs each, medians; {CLIENTS}-client demo store, a case of {ENTRIES} entries"
    );
    println!(
        "{:<40} {:>10} {:>10} {:>7} {:>8}",
        "", "app", "bare", "ratio", "target"
    );
    let row = |name: &str, a: f64, b: f64, unit: &str, target: &str| {
        let ratio = if b.is_nan() {
            String::from("-")
        } else {
            format!("{:.2}", a / b)
        };
        let b = if b.is_nan() {
            String::from("-")
        } else {
            format!("{b:.0} {unit}")
        };
        println!(
            "{name:<40} {:>10} {b:>10} {ratio:>7} {target:>8}",
            format!("{a:.0} {unit}")
        );
    };
    row(
        "cold start to lock screen",
        median(&app.start),
        median(&bare.start),
        "ms",
        "< 1000",
    );
    row(
        "unlock to caseload (Argon2id incl.)",
        median(&app.unlock),
        f64::NAN,
        "ms",
        "< 1500",
    );
    row(
        "open a case of 500 entries",
        median(&app.open),
        f64::NAN,
        "ms",
        "< 100",
    );
    row(
        "memory, all processes (RSS)",
        median(&app.rss),
        median(&bare.rss),
        "MiB",
        "",
    );
    row(
        "memory, all processes (PSS)",
        median(&app.pss),
        median(&bare.pss),
        "MiB",
        "<= 1.2x",
    );
    println!(
        "raw: start {:?} unlock {:?} open {:?} pss {:?} / bare start {:?} pss {:?}",
        app.start.iter().map(|v| v.round()).collect::<Vec<_>>(),
        app.unlock.iter().map(|v| v.round()).collect::<Vec<_>>(),
        app.open.iter().map(|v| v.round()).collect::<Vec<_>>(),
        app.pss.iter().map(|v| v.round()).collect::<Vec<_>>(),
        bare.start.iter().map(|v| v.round()).collect::<Vec<_>>(),
        bare.pss.iter().map(|v| v.round()).collect::<Vec<_>>(),
    );
}
