//! Property tests over arbitrary and damaged input for the files the store reads: the key file
//! (`wardside.db.key`, JSON beside the database) and the organisation's rules file
//! ([`wardside_store::config::load_rules`]). Whatever the bytes, reading returns the file or a
//! reason and never panics; a damaged key file never unwraps unless it still says exactly what
//! the genuine one says.
//!
//! A fixed seed and a fixed number of cases keep CI's run short and repeatable;
//! `PROPTEST_CASES=N` and `PROPTEST_RNG_SEED=S` run more or other cases. A failure is saved in
//! `tests/fuzz_props.proptest-regressions` (commit it) and replayed first on every later run.
//! The coverage-guided fuzzing is in `fuzz/`.
#![allow(clippy::unwrap_used)]

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::test_runner::RngSeed;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use wardside_store::keys::KeyFile;
use wardside_store::{KdfParams, Passphrase, Store, Tuning, key_path};

const PASS: &str = "plum kettle harbour";

fn config(cases: u32) -> ProptestConfig {
    let env = |name: &str| std::env::var(name).ok().and_then(|v| v.parse::<u64>().ok());
    ProptestConfig {
        cases: env("PROPTEST_CASES").map_or(cases, |n| u32::try_from(n).unwrap_or(u32::MAX)),
        rng_seed: RngSeed::Fixed(env("PROPTEST_RNG_SEED").unwrap_or(0x5741_5244_5349_4445)),
        max_shrink_iters: 1024,
        ..ProptestConfig::default()
    }
}

/// Whether a parsed key file's Argon2 cost is small enough to try unwrapping in a test. The
/// store bounds these parameters itself (keys.rs); this only keeps each case quick. The lane
/// count is kept small too: see `a_key_file_with_a_huge_lane_count_is_refused`.
fn cheap(p: KdfParams) -> bool {
    p.m_kib <= 65_536 && p.t <= 4 && p.p <= 64
}

/// A genuine key file (of a real store made with a small KDF cost), made once per run.
struct Genuine {
    _dir: tempfile::TempDir,
    bytes: Vec<u8>,
    value: serde_json::Value,
}

fn genuine() -> &'static Genuine {
    static G: OnceLock<Genuine> = OnceLock::new();
    G.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("wardside.db");
        let small = KdfParams {
            m_kib: 64,
            t: 1,
            p: 1,
        };
        Store::create_with(
            &db,
            &Passphrase::new(PASS),
            "Sam Advocate",
            small,
            Tuning::default(),
        )
        .unwrap()
        .lock()
        .unwrap();
        let bytes = std::fs::read(key_path(&db)).unwrap();
        let kf = KeyFile::read(&key_path(&db)).unwrap();
        kf.unwrap_key(&Passphrase::new(PASS), Path::new("k"))
            .unwrap();
        Genuine {
            _dir: dir,
            value: serde_json::to_value(&kf).unwrap(),
            bytes,
        }
    })
}

/// A scratch file for one test (each test has its own, so they can run in parallel).
fn scratch(name: &str) -> PathBuf {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| tempfile::tempdir().unwrap())
        .path()
        .join(name)
}

/// Read `bytes` as a key file; if it parses and is cheap to try, unwrap it with the right and a
/// wrong passphrase. Returns whether the right passphrase unwrapped it.
fn read_and_unwrap(path: &Path, bytes: &[u8]) -> Result<bool, TestCaseError> {
    std::fs::write(path, bytes).unwrap();
    let Ok(kf) = KeyFile::read(path) else {
        return Ok(false);
    };
    let _ = kf.store_id();
    if !cheap(kf.kdf_params()) {
        return Ok(false);
    }
    let wrong = kf.unwrap_key(&Passphrase::new("plum kettle harbouR"), path);
    prop_assert!(wrong.is_err());
    Ok(kf.unwrap_key(&Passphrase::new(PASS), path).is_ok())
}

#[derive(Debug, Clone)]
enum Edit {
    Flip(usize, u8),
    Insert(usize, u8),
    Delete(usize),
    Token(usize, &'static str),
    /// Replace the n-th run of digits.
    Number(usize, &'static str),
}

const TOKENS: &[&str] = &[
    "\"",
    "{",
    "}",
    "[",
    "]",
    ",",
    ":",
    "null",
    "0",
    "-1",
    "\"\"",
    "1e999",
    "\"\\u0000\"",
    "=",
    "AAAA",
    "\"argon2id\"",
    "\"aes-256-gcm\"",
];

const NUMBERS: &[&str] = &[
    "0",
    "1",
    "2",
    "7",
    "8",
    "16",
    "65",
    "4096",
    "16777215",
    "16777216",
    "536870912",
    "4294967295",
    "4294967296",
];

fn arb_edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        4 => (any::<usize>(), 1u8..=255).prop_map(|(i, b)| Edit::Flip(i, b)),
        1 => (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Edit::Insert(i, b)),
        1 => any::<usize>().prop_map(Edit::Delete),
        2 => (any::<usize>(), prop::sample::select(TOKENS)).prop_map(|(i, t)| Edit::Token(i, t)),
        2 => (any::<usize>(), prop::sample::select(NUMBERS)).prop_map(|(i, n)| Edit::Number(i, n)),
    ]
}

fn apply_edits(input: &[u8], edits: &[Edit]) -> Vec<u8> {
    let mut b = input.to_vec();
    for e in edits {
        let at = |i: usize, len: usize| if len == 0 { 0 } else { i % len };
        match *e {
            Edit::Flip(i, x) if !b.is_empty() => {
                let i = at(i, b.len());
                b[i] ^= x;
            }
            Edit::Insert(i, x) => {
                let i = at(i, b.len() + 1);
                b.insert(i, x);
            }
            Edit::Delete(i) if !b.is_empty() => {
                let i = at(i, b.len());
                b.remove(i);
            }
            Edit::Token(i, t) => {
                let i = at(i, b.len() + 1);
                b.splice(i..i, t.bytes());
            }
            Edit::Number(n, value) => {
                let mut runs = Vec::new();
                let mut i = 0;
                while i < b.len() {
                    let s = i;
                    while i < b.len() && b[i].is_ascii_digit() {
                        i += 1;
                    }
                    if i > s {
                        runs.push((s, i));
                    } else {
                        i += 1;
                    }
                }
                if !runs.is_empty() {
                    let (s, e) = runs[n % runs.len()];
                    b.splice(s..e, value.bytes());
                }
            }
            _ => {}
        }
    }
    b
}

fn arb_b64(max: usize) -> impl Strategy<Value = String> {
    prop_oneof![
        3 => vec(any::<u8>(), 0..=max).prop_map(|b| B64.encode(b)),
        1 => "[A-Za-z0-9+/=_-]{0,24}",
    ]
}

/// Key files of arbitrary fields, shaped like the real thing.
fn arb_key_file() -> impl Strategy<Value = serde_json::Value> {
    (
        prop_oneof![3 => Just("wardside-key-file".to_owned()), 1 => "[a-z-]{0,20}"],
        prop_oneof![3 => Just(1u32), 1 => any::<u32>()],
        "[ -~]{0,40}",
        prop_oneof![3 => Just("argon2id".to_owned()), 1 => "[a-z0-9]{0,10}"],
        prop_oneof![0u32..=256, any::<u32>(), Just(u32::MAX)],
        prop_oneof![0u32..=4, any::<u32>()],
        prop_oneof![0u32..=4, any::<u32>(), Just(0x2000_0000), Just(u32::MAX)],
        (
            arb_b64(32),
            prop_oneof![3 => Just("aes-256-gcm".to_owned()), 1 => "[a-z0-9-]{0,12}"],
            arb_b64(16),
            arb_b64(60),
        ),
    )
        .prop_map(
            |(format, version, store_id, alg, m_kib, t, p, (salt, walg, nonce, ct))| {
                serde_json::json!({
                    "format": format,
                    "version": version,
                    "store_id": store_id,
                    "kdf": { "alg": alg, "m_kib": m_kib, "t": t, "p": p, "salt": salt },
                    "wrapped_key": { "alg": walg, "nonce": nonce, "ciphertext": ct },
                })
            },
        )
}

proptest! {
    #![proptest_config(config(1000))]

    /// Any bytes as the key file: read or refused, never a panic.
    #[test]
    fn any_bytes_as_the_key_file(b in prop_oneof![
        vec(any::<u8>(), 0..300),
        "[\\[\\]{}\":,0-9a-z_ -]{0,80}".prop_map(String::into_bytes),
    ]) {
        prop_assert!(!read_and_unwrap(&scratch("any.key"), &b)?);
    }

    /// Key files of arbitrary fields: none unwraps (none holds a key wrapped under the
    /// passphrase), whatever its parameters, and none panics.
    #[test]
    fn key_files_of_arbitrary_fields_never_unwrap(v in arb_key_file()) {
        let bytes = serde_json::to_vec(&v).unwrap();
        prop_assert!(!read_and_unwrap(&scratch("fields.key"), &bytes)?);
    }
}

proptest! {
    #![proptest_config(config(300))]

    /// The genuine key file with bytes changed: it unwraps only if it still says exactly what
    /// the genuine file says (whitespace and the like aside).
    #[test]
    fn a_damaged_key_file_unwraps_only_if_unchanged(edits in vec(arb_edit(), 1..4)) {
        let g = genuine();
        let bytes = apply_edits(&g.bytes, &edits);
        let path = scratch("damaged.key");
        let opened = read_and_unwrap(&path, &bytes)?;
        let same = KeyFile::read(&path)
            .ok()
            .map(|kf| serde_json::to_value(&kf).unwrap())
            .is_some_and(|v| v == g.value);
        prop_assert_eq!(opened, same);
    }
}

/// Found by the fuzzing, in keys.rs (left to the change that bounds the Argon2 parameters):
/// `KeyFile::unwrap_key` checks `m_kib < 8 * p` in u32, which overflows for a lane count of
/// 2^29 or more: a panic in a debug build, and in a release build a wrapped product that lets
/// the bad parameters through to Argon2 (which refuses them). It should be refused as a corrupt
/// key file.
#[test]
fn a_key_file_with_a_huge_lane_count_is_refused() {
    let mut v = genuine().value.clone();
    v["kdf"]["p"] = serde_json::json!(0x2000_0000u32);
    let path = scratch("lanes.key");
    std::fs::write(&path, serde_json::to_vec(&v).unwrap()).unwrap();
    let kf = KeyFile::read(&path).unwrap();
    assert!(kf.unwrap_key(&Passphrase::new(PASS), &path).is_err());
}

// ---------------------------------------------------------------------------------------------
// The organisation's rules file, as the shells load it.

const EXAMPLE_ORG_FILE: &str = "jurisdiction = \"wales\"\n\n[commencement]\n\"mha2025-section-3-periods\" = 2027-04-01\n\"mha2025-nominated-person\" = \"2027-10-01\"\n\n[[bank_holiday]]\non = 2030-06-03\nname = \"One-off\"\n";

proptest! {
    #![proptest_config(config(500))]

    /// Any bytes, or the example file damaged, as the rules file: loaded or refused with the
    /// reason, never a panic.
    #[test]
    fn any_rules_file_loads_or_says_why(
        b in prop_oneof![
            vec(any::<u8>(), 0..200),
            vec(arb_edit(), 1..4).prop_map(|e| apply_edits(EXAMPLE_ORG_FILE.as_bytes(), &e)),
        ],
    ) {
        let path = scratch("rules.toml");
        std::fs::write(&path, &b).unwrap();
        match wardside_store::config::load_rules(Some(&path)) {
            Ok(rules) => {
                prop_assert!(std::str::from_utf8(&b).is_ok());
                let _ = rules.provisions();
            }
            Err(e) => prop_assert!(!e.to_string().is_empty()),
        }
    }
}
