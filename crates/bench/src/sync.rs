//! `wardside-bench sync`: the sync service and client over loopback, in one run (issue 5):
//!
//! - initial sync of N ops (default 200,000) to a fresh device, crypto and apply included,
//!   against a baseline measured in the same run: the same pages fetched and parsed with nothing
//!   opened or applied (the transport's share);
//! - an incremental sync of 50 ops (push on one device, pull on another), median of 9;
//! - D devices (default 100) pushing at once: errors and wall time.

use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};
use wardside_domain::{Activity, ActivityKind, Case, Client};
use wardside_server::http::{AppState, nodelay, router};
use wardside_server::storage::sqlite::SqliteStorage;
use wardside_store::{Passphrase, Store, Tuning};
use wardside_sync_client::{Options, Retry};

use crate::{CHEAP_KDF as KDF, PASS, fail};

struct Service {
    url: String,
    storage: SqliteStorage,
    rt: tokio::runtime::Runtime,
}

fn service(dir: &std::path::Path) -> Service {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|e| fail(&format!("runtime: {e}")));
    let storage = SqliteStorage::open(&dir.join("server.db"))
        .unwrap_or_else(|e| fail(&format!("server storage: {e}")));
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap_or_else(|e| fail(&format!("listen: {e}")));
    let url = format!(
        "http://{}",
        listener
            .local_addr()
            .unwrap_or_else(|e| fail(&e.to_string()))
    );
    let app = router(Arc::new(AppState::new(storage.clone())));
    rt.spawn(async move { axum::serve(nodelay(listener), app).await });
    Service { url, storage, rt }
}

fn opts() -> Options {
    Options {
        retry: Retry {
            attempts: 10,
            min_delay: Duration::from_millis(50),
            max_delay: Duration::from_secs(2),
        },
        ..Options::default()
    }
}

fn device(dir: &std::path::Path, name: &str) -> Store {
    Store::create_with(
        &dir.join(name).join("wardside.db"),
        &Passphrase::new(PASS),
        name,
        KDF,
        Tuning::default(),
    )
    .unwrap_or_else(|e| fail(&format!("store: {e}")))
}

fn join(s: &Service, admin: &mut Store, dir: &std::path::Path, name: &str) -> Store {
    let mut d = device(dir, name);
    let code =
        wardside_sync_client::invite(admin, &opts()).unwrap_or_else(|e| fail(&e.to_string()));
    let e = wardside_sync_client::enroll(&mut d, &s.url, &code, name, &opts())
        .unwrap_or_else(|e| fail(&e.to_string()));
    wardside_sync_client::approve(admin, e.device_id, &e.fingerprint, &opts())
        .unwrap_or_else(|e| fail(&e.to_string()));
    d
}

/// Write `n` ops the way advocates make them: a client and a case, then notes (an entry and its
/// first version, two ops each), in transactions of up to 1,000 ops.
fn write_ops(store: &mut Store, n: usize) {
    let mut made = 0;
    while made < n {
        let batch = (n - made).clamp(4, 1000);
        store
            .write(|w| {
                let client = w.add_client(&Client::named("Benchmark Person"))?;
                let case = w.open_case(&Case::opened(
                    client,
                    chrono::NaiveDate::from_ymd_opt(2026, 11, 1).unwrap_or_default(),
                ))?;
                let mut ops = 2;
                let mut last = None;
                while ops + 2 <= batch {
                    last = Some(w.add_activity(
                        &Activity {
                            case_id: case,
                            at: chrono::NaiveDate::from_ymd_opt(2026, 11, 2)
                                .unwrap_or_default()
                                .and_hms_opt(10, 0, 0)
                                .unwrap_or_default(),
                            duration_minutes: Some(30),
                            kind: ActivityKind::Other,
                            withheld: None,
                        },
                        &format!("Visited on the ward; discussed the tribunal and leave. Note {ops}: the ward manager will reply by Friday."),
                    )?);
                    ops += 2;
                }
                if ops < batch
                    && let Some(note) = last
                {
                    w.amend_note(note, "Visited on the ward; amended.", "typo")?;
                }
                Ok(())
            })
            .unwrap_or_else(|e| fail(&format!("write: {e}")));
        made += batch;
    }
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

pub fn run(ops: usize, devices: usize, smoke: bool) {
    let (ops, devices) = if smoke { (2_000, 4) } else { (ops, devices) };
    let dir = tempfile::tempdir().unwrap_or_else(|e| fail(&e.to_string()));
    let s = service(dir.path());
    let org =
        s.rt.block_on(wardside_server::init_org(
            &s.storage,
            "Benchmark IMHA service",
        ))
        .unwrap_or_else(|e| fail(&e.to_string()));
    let mut a = device(dir.path(), "a");
    wardside_sync_client::enroll(&mut a, &s.url, &org.enrolment_code, "a", &opts())
        .unwrap_or_else(|e| fail(&e.to_string()));

    eprintln!("writing {ops} ops on device A");
    write_ops(&mut a, ops);
    let t = Instant::now();
    let pushed = wardside_sync_client::sync_now(&mut a, &opts())
        .unwrap_or_else(|e| fail(&e.to_string()))
        .pushed;
    let push = t.elapsed();

    // Baseline: the same pages over the same loopback, nothing opened or applied.
    let mut b = join(&s, &mut a, dir.path(), "b");
    let t = Instant::now();
    let fetched =
        wardside_sync_client::fetch_only(&b, &opts()).unwrap_or_else(|e| fail(&e.to_string()));
    let transport = t.elapsed();
    let t = Instant::now();
    let r =
        wardside_sync_client::sync_now(&mut b, &opts()).unwrap_or_else(|e| fail(&e.to_string()));
    let initial = t.elapsed();
    if !r.problems.is_empty() {
        fail(&format!(
            "the initial sync found problems: {:?}",
            r.problems
        ));
    }
    if r.pulled != pushed || fetched as usize != pushed {
        fail(&format!(
            "pulled {} and fetched {fetched} of {pushed}",
            r.pulled
        ));
    }

    // Incremental: 50 ops made on A, pushed, then pulled by B.
    let mut inc_push = Vec::new();
    let mut inc_pull = Vec::new();
    for _ in 0..9 {
        write_ops(&mut a, 50);
        let t = Instant::now();
        wardside_sync_client::sync_now(&mut a, &opts()).unwrap_or_else(|e| fail(&e.to_string()));
        inc_push.push(t.elapsed());
        let t = Instant::now();
        let r = wardside_sync_client::sync_now(&mut b, &opts())
            .unwrap_or_else(|e| fail(&e.to_string()));
        inc_pull.push(t.elapsed());
        if r.pulled != 50 {
            fail(&format!("incremental pulled {}", r.pulled));
        }
    }

    // Many devices at once, in an organisation of their own (so each one's pull is of the
    // fleet's ops, not the 200,000 above).
    eprintln!("enrolling {devices} devices");
    let org2 =
        s.rt.block_on(wardside_server::init_org(&s.storage, "Second service"))
            .unwrap_or_else(|e| fail(&e.to_string()));
    let mut admin2 = device(dir.path(), "admin2");
    wardside_sync_client::enroll(&mut admin2, &s.url, &org2.enrolment_code, "admin2", &opts())
        .unwrap_or_else(|e| fail(&e.to_string()));
    let mut fleet: Vec<Store> = (0..devices)
        .map(|i| {
            let mut d = join(&s, &mut admin2, dir.path(), &format!("fleet{i}"));
            write_ops(&mut d, 20);
            d
        })
        .collect();
    let barrier = Arc::new(Barrier::new(devices));
    let t = Instant::now();
    let errors: usize = std::thread::scope(|scope| {
        let handles: Vec<_> = fleet
            .iter_mut()
            .map(|d| {
                let barrier = barrier.clone();
                scope.spawn(move || {
                    barrier.wait();
                    match wardside_sync_client::sync_now(d, &opts()) {
                        Ok(r) if r.unsynced == 0 && r.problems.is_empty() => 0,
                        Ok(_) => 1,
                        Err(e) => {
                            eprintln!("  a device failed: {e}");
                            1
                        }
                    }
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap_or(1)).sum()
    });
    let fleet_time = t.elapsed();

    let rate = |n: usize, d: Duration| n as f64 / d.as_secs_f64();
    println!("sync benchmark (loopback, SQLite service, release build expected)");
    println!("  ops                                  {pushed}");
    println!(
        "  push, device A                       {:>9.0} ms  {:>9.0} ops/s",
        ms(push),
        rate(pushed, push)
    );
    println!(
        "  baseline: fetch + parse only         {:>9.0} ms  {:>9.0} ops/s",
        ms(transport),
        rate(pushed, transport)
    );
    println!(
        "  initial sync, fresh device B         {:>9.0} ms  {:>9.0} ops/s   target >= 20000 ops/s   {:.2}x the baseline's time",
        ms(initial),
        rate(pushed, initial),
        initial.as_secs_f64() / transport.as_secs_f64()
    );
    println!(
        "  incremental 50 ops: push (median)    {:>9.1} ms                    target < 100 ms",
        ms(median(inc_push))
    );
    println!(
        "  incremental 50 ops: pull (median)    {:>9.1} ms                    target < 100 ms",
        ms(median(inc_pull))
    );
    println!(
        "  {devices} devices pushing 20 ops at once   {:>9.0} ms  errors: {errors}   target 0 errors",
        ms(fleet_time)
    );
    if errors > 0 {
        std::process::exit(1);
    }
}
