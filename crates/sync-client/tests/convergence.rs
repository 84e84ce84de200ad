//! Scenario #1 of sync.md §9, the convergence property: 2–5 devices make random edits (clients,
//! cases, notes, amendments, a field, deletes, restores) with random partial syncs, random page
//! sizes, re-delivery of everything already held, and random 503s, dropped replies and cut
//! bodies. After a final full sync every device has the same state (digest of the canonical
//! dump), the same op ids — the union of every op made — and every note version ever saved.
//!
//! 1,000 seeded cases (`WARDSIDE_CONVERGENCE_CASES` to change), split over four tests so they run
//! in parallel. A failing case prints its seed.
#![allow(clippy::unwrap_used)]

mod common;
use common::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use wardside_domain::*;

fn cases() -> u64 {
    std::env::var("WARDSIDE_CONVERGENCE_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1000)
}

/// What one device may act on: ids made anywhere, used only once the device holds them.
#[derive(Default)]
struct World {
    clients: Vec<ClientId>,
    cases: Vec<CaseId>,
    notes: Vec<ActivityId>,
    versions: usize,
}

fn step(rng: &mut ChaCha8Rng, server: &TestServer, devs: &mut [Dev], w: &mut World) {
    let d = rng.random_range(0..devs.len());
    let dev = &mut devs[d];
    match rng.random_range(0..100) {
        0..10 => {
            let (client, case) = dev.client_with_case(&format!("Person {}", w.clients.len()));
            w.clients.push(client);
            w.cases.push(case);
        }
        10..30 => {
            let held: Vec<CaseId> = w
                .cases
                .iter()
                .copied()
                .filter(|c| dev.store.get::<Case>(c.0).is_ok())
                .collect();
            if let Some(case) = held.get(rng.random_range(0..held.len().max(1))) {
                let lines = rng.random_range(1..5);
                let text: String = (0..lines)
                    .map(|i| format!("Line {i} of a visit.\n"))
                    .collect();
                w.notes.push(dev.note(*case, &text));
                w.versions += 1;
            }
        }
        30..50 => {
            let held: Vec<ActivityId> = w
                .notes
                .iter()
                .copied()
                .filter(|n| !dev.text(*n).is_empty())
                .collect();
            if let Some(n) = held.get(rng.random_range(0..held.len().max(1))) {
                let mut lines: Vec<String> = dev.text(*n).lines().map(str::to_owned).collect();
                let at = rng.random_range(0..lines.len().max(1));
                let edit = format!("Edited on {} ({})", dev.name, rng.random::<u16>());
                if lines.is_empty() || rng.random_bool(0.3) {
                    lines.insert(at.min(lines.len()), edit);
                } else {
                    lines[at] = edit;
                }
                let text = lines.join("\n") + "\n";
                if dev
                    .store
                    .write(|wr| wr.amend_note(*n, &text, "update"))
                    .is_ok()
                {
                    w.versions += 1;
                }
            }
        }
        50..58 => {
            let held: Vec<ClientId> = w
                .clients
                .iter()
                .copied()
                .filter(|c| dev.store.get::<Client>(c.0).is_ok())
                .collect();
            if let Some(c) = held.get(rng.random_range(0..held.len().max(1))) {
                let ward = ["Oak", "Ash", "Elm", "Yew"][rng.random_range(0..4)];
                dev.set_ward(*c, ward);
            }
        }
        58..64 => {
            if let Some(n) = w.notes.get(rng.random_range(0..w.notes.len().max(1)))
                && !dev.text(*n).is_empty()
            {
                let deleted = dev.store.is_deleted(*n).unwrap();
                let _ = dev.store.write(|wr| {
                    if deleted {
                        wr.restore_activity(*n)
                    } else {
                        wr.delete_activity(*n, "test")
                    }
                });
            }
        }
        64..70 => {
            // Everything delivered again.
            dev.store.reset_sync_cursor().unwrap();
            let _ = dev.try_sync();
        }
        70..78 => {
            server.chaos(0.3, rng.random());
            let _ = dev.try_sync();
            server.calm();
        }
        _ => {
            let o = wardside_sync_client::Options {
                page_size: rng.random_range(1..8),
                push_batch: rng.random_range(1..8),
                ..opts()
            };
            let _ = dev.sync_with(&o);
        }
    }
}

/// A final full sync (`rounds` times round every device), then the property: every device has
/// the same state, the union of every op made, and every note version saved.
fn settle_and_check(devs: &mut [Dev], w: &World, rounds: usize, case: &str) {
    for _ in 0..rounds {
        for d in devs.iter_mut() {
            d.try_sync()
                .unwrap_or_else(|e| panic!("{case}: final sync failed: {e}"));
        }
    }
    let refs: Vec<&Dev> = devs.iter().collect();
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| assert_converged(&refs)));
    assert!(result.is_ok(), "{case} did not converge");
    let made: usize = devs
        .iter()
        .map(|d| {
            let me = d.store.device_id().to_owned();
            d.store
                .ops_after(0, usize::MAX >> 1)
                .unwrap()
                .iter()
                .filter(|o| o.device_id == me)
                .count()
        })
        .sum();
    assert_eq!(
        devs[0].store.op_ids().unwrap().len(),
        made,
        "{case}: every op made is on every device"
    );
    assert_eq!(
        devs[0].store.note_version_ids().unwrap().len(),
        w.versions,
        "{case}: every note version on every device"
    );
}

fn run_cases(part: u64, parts: u64) {
    let server = TestServer::start("sqlite");
    let total = cases();
    for seed in (0..total).filter(|s| s % parts == part) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let n = rng.random_range(2..=5);
        let (admin, others, _) = org(&server, n - 1);
        let mut devs = vec![admin];
        devs.extend(others);
        let mut w = World::default();
        let steps = rng.random_range(10..30);
        for _ in 0..steps {
            step(&mut rng, &server, &mut devs, &mut w);
        }
        server.calm();
        settle_and_check(&mut devs, &w, 2, &format!("seed {seed}"));
    }
}

/// The same property with a fault on top: at a random step the service's storage is backed up,
/// and at a later random step it is replaced by that backup (with or without the operator's
/// restore command marking a new generation), on both backends. Every op made and every note
/// version saved still ends on every device.
fn run_restore_cases(backend: &str, cases: u64) {
    let mut server = TestServer::start_own(backend);
    for seed in 0..cases {
        let mut rng = ChaCha8Rng::seed_from_u64(10_000 + seed);
        let n = rng.random_range(2..=4);
        let (admin, others, _) = org(&server, n - 1);
        let mut devs = vec![admin];
        devs.extend(others);
        let mut w = World::default();
        let steps = rng.random_range(12..30);
        let backup_at = rng.random_range(0..steps / 2);
        let restore_at = rng.random_range(backup_at + 1..steps);
        let marked = rng.random_bool(0.5);
        let mut backup = None;
        for i in 0..steps {
            if i == backup_at {
                backup = Some(server.snapshot());
            }
            if i == restore_at {
                server.restore(backup.as_ref().unwrap(), marked);
            }
            step(&mut rng, &server, &mut devs, &mut w);
        }
        server.calm();
        settle_and_check(&mut devs, &w, 3, &format!("{backend} seed {seed}"));
        for d in &devs {
            let p = d.store.sync_problems().unwrap();
            assert!(
                p.is_empty(),
                "{backend} seed {seed}: {} reports {p:?}",
                d.name
            );
        }
    }
}

#[test]
fn convergence_with_the_service_restored_from_a_backup() {
    for b in backends() {
        let cases = match b {
            "postgres" => cases() / 25,
            _ => cases() / 5,
        };
        run_restore_cases(b, cases.max(1));
    }
}

#[test]
fn convergence_part_0() {
    run_cases(0, 4);
}

#[test]
fn convergence_part_1() {
    run_cases(1, 4);
}

#[test]
fn convergence_part_2() {
    run_cases(2, 4);
}

#[test]
fn convergence_part_3() {
    run_cases(3, 4);
}
