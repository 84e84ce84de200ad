//! Property tests over arbitrary and mutated input for every parser and check in this crate that
//! reads what the service (or anyone on the network) sends: the wire types' JSON, op envelopes,
//! request signatures, HLCs, the trust log, key grants, wrapped keys and typed codes. Each
//! property either must never panic, or must never accept anything but the genuine input.
//!
//! CI runs them as ordinary tests: a fixed seed and a fixed number of cases per property, so a
//! run is repeatable and takes seconds. `PROPTEST_CASES=N` runs N cases per property instead
//! and `PROPTEST_RNG_SEED=S` another seed, for a longer look; a failure proptest finds is saved
//! in `tests/fuzz_props.proptest-regressions` (commit it) and replayed first on every later
//! run. The coverage-guided fuzzing of the same parsers is in `fuzz/` (scripts/fuzz.sh).
#![allow(clippy::unwrap_used)]

use proptest::collection::{btree_map, vec};
use proptest::prelude::*;
use proptest::test_runner::RngSeed;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::collections::BTreeMap;
use std::fmt::Debug;
use std::sync::OnceLock;
use uuid::Uuid;
use wardside_sync::codes::{self, CodeKind};
use wardside_sync::envelope::{ChainLink, parse_hlc, sha256};
use wardside_sync::protocol::*;
use wardside_sync::trust::{Body, DeviceKeys, Statement, TrustState, key_id};
use wardside_sync::wrap::{BoxSecret, WrappedKey, unwrap, wrap};
use wardside_sync::{DeviceSigningKey, Envelope, KeyId, OpenError, Routing, TeamKey};

// ---------------------------------------------------------------------------------------------
// Configuration: fixed seed, fixed case counts (kept small for CI; see the module comment).

fn config(cases: u32) -> ProptestConfig {
    let env = |name: &str| std::env::var(name).ok().and_then(|v| v.parse::<u64>().ok());
    ProptestConfig {
        cases: env("PROPTEST_CASES").map_or(cases, |n| u32::try_from(n).unwrap_or(u32::MAX)),
        rng_seed: RngSeed::Fixed(env("PROPTEST_RNG_SEED").unwrap_or(0x5741_5244_5349_4445)),
        max_shrink_iters: 2048,
        ..ProptestConfig::default()
    }
}

// ---------------------------------------------------------------------------------------------
// Shared strategies.

/// Mostly a few small ids (so fields collide with each other and with the real ones), sometimes
/// any id at all.
fn arb_uuid() -> impl Strategy<Value = Uuid> {
    prop_oneof![
        3 => (0u128..6).prop_map(Uuid::from_u128),
        1 => any::<u128>().prop_map(Uuid::from_u128),
    ]
}

fn bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
    vec(any::<u8>(), 0..=max)
}

/// Text as people and attackers write it: short words, any Unicode, control characters.
fn arb_text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z ]{0,12}",
        any::<String>(),
        "[\\x00-\\x1f\\x7f\u{85}\u{2028}a]{0,6}",
        "x{98,103}",
    ]
}

/// An i64 with its edges well represented.
fn arb_i64() -> impl Strategy<Value = i64> {
    prop_oneof![
        any::<i64>(),
        Just(i64::MIN),
        Just(i64::MAX),
        Just(0),
        i64::MIN..i64::MIN + 400_000,
        i64::MAX - 400_000..=i64::MAX,
        -1_000_000i64..1_000_000,
        1_700_000_000_000i64..1_800_000_000_000,
    ]
}

/// One change to a byte string. Offsets are taken modulo the length, so any edit applies.
#[derive(Debug, Clone)]
enum Edit {
    Flip(usize, u8),
    Set(usize, u8),
    Insert(usize, u8),
    Delete(usize),
    /// Put a JSON token where a byte was, or after it.
    Token(usize, &'static str, bool),
    Truncate(usize),
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
    "true",
    "false",
    "0",
    "-1",
    "1e999",
    "18446744073709551616",
    "-9223372036854775809",
    "\"\"",
    "\"\\u0000\"",
    "\"\\ud800\"",
    "[]",
    "{}",
    "AAAA",
    "=",
    "\"kind\":\"genesis\"",
    "\"reason\":\"gap\"",
];

fn arb_edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        4 => (any::<usize>(), 1u8..=255).prop_map(|(i, b)| Edit::Flip(i, b)),
        2 => (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Edit::Set(i, b)),
        1 => (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Edit::Insert(i, b)),
        1 => any::<usize>().prop_map(Edit::Delete),
        2 => (any::<usize>(), prop::sample::select(TOKENS), any::<bool>())
            .prop_map(|(i, t, r)| Edit::Token(i, t, r)),
        1 => any::<usize>().prop_map(Edit::Truncate),
    ]
}

fn arb_edits(max: usize) -> impl Strategy<Value = Vec<Edit>> {
    vec(arb_edit(), 1..=max)
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
            Edit::Set(i, x) if !b.is_empty() => {
                let i = at(i, b.len());
                b[i] = x;
            }
            Edit::Insert(i, x) => {
                let i = at(i, b.len() + 1);
                b.insert(i, x);
            }
            Edit::Delete(i) if !b.is_empty() => {
                let i = at(i, b.len());
                b.remove(i);
            }
            Edit::Token(i, t, replace) => {
                let i = at(i, b.len() + 1);
                let end = if replace && i < b.len() { i + 1 } else { i };
                b.splice(i..end, t.bytes());
            }
            Edit::Truncate(i) => {
                let i = at(i, b.len() + 1);
                b.truncate(i);
            }
            _ => {}
        }
    }
    b
}

// ---------------------------------------------------------------------------------------------
// A genuine organisation: the same kind of log `trust/tests.rs` builds, made once per run.

const ORG: Uuid = Uuid::from_u128(0x0a);
const TEAM: Uuid = Uuid::from_u128(0x0a);
const TEAMS: [Uuid; 3] = [
    Uuid::from_u128(0x0a),
    Uuid::from_u128(0x0b),
    Uuid::from_u128(0x0c),
];

struct Dev {
    id: Uuid,
    sign: DeviceSigningKey,
    boxs: BoxSecret,
}

impl Dev {
    fn new(n: u128) -> Dev {
        Dev {
            id: Uuid::from_u128(n),
            sign: DeviceSigningKey::generate().unwrap(),
            boxs: BoxSecret::from_bytes([u8::try_from(n).unwrap(); 32]),
        }
    }
    fn keys(&self) -> DeviceKeys {
        DeviceKeys {
            device_id: self.id,
            sign_key: self.sign.public_key(),
            box_key: self.boxs.public_key(),
        }
    }
}

/// Devices 1 (the root admin) to 4; statements in the generated logs are made by these.
fn pool() -> &'static [Dev] {
    static POOL: OnceLock<Vec<Dev>> = OnceLock::new();
    POOL.get_or_init(|| (1..=4).map(Dev::new).collect())
}

fn genesis(root: &Dev, name: &str, teams: Vec<Uuid>) -> wardside_sync::trust::SignedStatement {
    Statement {
        org_id: ORG,
        seq: 1,
        prev: [0; 32],
        author: root.id,
        at_ms: 0,
        body: Body::Genesis {
            admin: root.keys(),
            name: name.into(),
            recovery_key: [5; 32],
            teams,
        },
    }
    .sign(&root.sign)
}

struct Org {
    log: Vec<SignedStatement>,
    log_json: String,
    state: TrustState,
    key: TeamKey,
    /// A grant of `key` to device 2, signed by the root.
    grant: KeyGrant,
    grant_json: String,
}

/// Genesis, two team epochs, an approval of each kind, an update with a cut-off, a revocation
/// and a later epoch: every kind of statement.
fn org() -> &'static Org {
    static ORG_: OnceLock<Org> = OnceLock::new();
    ORG_.get_or_init(|| {
        let [root, b, c, d] = pool() else {
            unreachable!()
        };
        let first = genesis(root, "Riverside IMHA", vec![TEAM]);
        let mut state = TrustState::genesis(&first, ORG, &root.sign.public_key()).unwrap();
        let mut log = vec![first];
        let key = TeamKey::from_bytes(
            KeyId {
                team_id: TEAM,
                epoch: 1,
            },
            [7; 32],
        );
        let mut say = |by: &Dev, body: Body, state: &mut TrustState| {
            let s = state.next(by.id, 1_764_064_800_000, body).sign(&by.sign);
            state.apply(&s).unwrap();
            log.push(s);
        };
        say(
            root,
            Body::TeamEpoch {
                team: TEAM,
                epoch: 1,
                key_id: key_id(ORG, &key),
            },
            &mut state,
        );
        say(
            root,
            Body::TeamEpoch {
                team: TEAMS[1],
                epoch: 1,
                key_id: [9; 32],
            },
            &mut state,
        );
        for (dev, admin) in [(b, false), (c, true), (d, false)] {
            say(
                root,
                Body::Approve {
                    device: dev.keys(),
                    name: format!("laptop {}", dev.id.as_u128()),
                    admin,
                    teams: vec![TEAM, TEAMS[1]],
                },
                &mut state,
            );
        }
        say(
            c,
            Body::Update {
                device: d.id,
                admin: false,
                teams: vec![TEAM],
                cutoffs: BTreeMap::from([(TEAMS[1], 3)]),
            },
            &mut state,
        );
        say(
            c,
            Body::Revoke {
                device: d.id,
                cutoffs: BTreeMap::from([(TEAM, 7)]),
            },
            &mut state,
        );
        say(
            c,
            Body::TeamEpoch {
                team: TEAMS[1],
                epoch: 2,
                key_id: [10; 32],
            },
            &mut state,
        );
        let w = wrap(&key, b.id, &b.boxs.public_key()).unwrap();
        let grant = KeyGrant::sign(ORG, w, &key, root.id, &root.sign);
        state.check_grant(&grant, b.id).unwrap();
        Org {
            log_json: serde_json::to_string_pretty(&log).unwrap(),
            grant_json: serde_json::to_string(&grant).unwrap(),
            log,
            state,
            key,
            grant,
        }
    })
}

fn sender() -> &'static DeviceSigningKey {
    &pool()[1].sign
}

fn routing(n: u8) -> Routing {
    let device_id = pool()[1].id;
    Routing {
        org_id: ORG,
        team_id: TEAM,
        case_id: Some(Uuid::from_bytes([n; 16])),
        entity: "note".into(),
        entity_id: Uuid::from_bytes([n.wrapping_add(1); 16]),
        op_id: Uuid::from_bytes([n.wrapping_add(2); 16]),
        device_id,
        device_seq: u64::from(n) + 1,
        hlc: format!(
            "{:016}-0000-{}",
            1_764_064_800_000u64 + u64::from(n),
            wardside_sync::envelope::hlc_device_part(&device_id)
        ),
        kid: org().key.id,
        schema_v: 1,
        chain: n.is_multiple_of(2).then_some(ChainLink {
            seq: u64::from(n) + 1,
            prev: [n; 32],
        }),
    }
}

const CONTENT: &[u8] = br#"{"kind":"note-version","body":"She asked about section 17 leave."}"#;

/// Genuine envelopes, sealed by device 2 with the team key.
fn genuine(n: u8) -> Envelope {
    Envelope::seal_with_nonce(routing(n), CONTENT, &org().key, sender(), [n; 12]).unwrap()
}

// ---------------------------------------------------------------------------------------------
// Wire JSON: every type the client or the server parses.

/// Parse `bytes` as `T`; if it parses, what it serialises to parses back to the same value.
fn parses_calmly<T: Serialize + DeserializeOwned + PartialEq + Debug>(
    bytes: &[u8],
) -> Result<(), TestCaseError> {
    if let Ok(v) = serde_json::from_slice::<T>(bytes) {
        let again = serde_json::to_vec(&v).unwrap();
        let back: T = serde_json::from_slice(&again)
            .map_err(|e| TestCaseError::fail(format!("re-parse failed: {e}")))?;
        prop_assert_eq!(back, v);
    }
    Ok(())
}

fn every_wire_type(bytes: &[u8]) -> Result<(), TestCaseError> {
    parses_calmly::<PushRequest>(bytes)?;
    parses_calmly::<PushResponse>(bytes)?;
    parses_calmly::<PushResult>(bytes)?;
    parses_calmly::<PullResponse>(bytes)?;
    parses_calmly::<Heads>(bytes)?;
    parses_calmly::<TrustLog>(bytes)?;
    parses_calmly::<TrustAppended>(bytes)?;
    parses_calmly::<SignedStatement>(bytes)?;
    parses_calmly::<Vec<SignedStatement>>(bytes)?;
    parses_calmly::<KeyGrants>(bytes)?;
    parses_calmly::<KeyGrant>(bytes)?;
    parses_calmly::<WrappedKey>(bytes)?;
    parses_calmly::<EnrollRequest>(bytes)?;
    parses_calmly::<EnrollResponse>(bytes)?;
    parses_calmly::<InviteRequest>(bytes)?;
    parses_calmly::<InviteResponse>(bytes)?;
    parses_calmly::<DeviceList>(bytes)?;
    parses_calmly::<ErrorBody>(bytes)?;
    parses_calmly::<Envelope>(bytes)?;
    parses_calmly::<Routing>(bytes)?;
    Ok(())
}

/// One valid JSON text of each wire type, to mutate.
fn wire_samples() -> &'static [String] {
    static SAMPLES: OnceLock<Vec<String>> = OnceLock::new();
    SAMPLES.get_or_init(|| {
        let o = org();
        let j = |v: &dyn erased::Json| v.json();
        let id = |n| Uuid::from_u128(n);
        vec![
            j(&PushRequest {
                ops: vec![genuine(0), genuine(1)],
            }),
            j(&PushResponse {
                results: vec![
                    PushResult {
                        op_id: id(1),
                        status: PushStatus::Accepted,
                        server_seq: Some(12),
                        rejection: None,
                    },
                    PushResult {
                        op_id: id(2),
                        status: PushStatus::Rejected,
                        server_seq: None,
                        rejection: Some(Rejection::Gap { expected: 7 }),
                    },
                    PushResult {
                        op_id: id(3),
                        status: PushStatus::Rejected,
                        server_seq: None,
                        rejection: Some(Rejection::ClockAhead { server_time_ms: -5 }),
                    },
                ],
                server_time_ms: 1_764_064_800_000,
                service: Some(ServiceMark {
                    generation: id(9),
                    high_water: 12,
                }),
            }),
            j(&PullResponse {
                ops: vec![StoredOp {
                    server_seq: 4,
                    envelope: genuine(2),
                }],
                next_after: 4,
                has_more: true,
                server_time_ms: 1,
                service: None,
            }),
            j(&Heads {
                heads: vec![DeviceHead {
                    device_id: id(2),
                    team_id: TEAM,
                    max_seq: u64::MAX,
                    ops: 3,
                    chain_seq: 2,
                }],
                trust_seq: 3,
                trust_head: Some("BwcH".into()),
                grants: 2,
                service: Some(ServiceMark {
                    generation: id(9),
                    high_water: -1,
                }),
            }),
            j(&TrustLog {
                statements: o.log.clone(),
                has_more: false,
            }),
            j(&TrustAppended { seq: 3 }),
            j(&KeyGrants {
                grants: vec![o.grant.clone()],
            }),
            j(&EnrollRequest {
                token: "AAAA".into(),
                device_id: id(5),
                name: "ward laptop".into(),
                sign_key: "AAAA".into(),
                box_key: "AAAA".into(),
                proof: "AAAA".into(),
            }),
            j(&EnrollResponse {
                device_id: id(5),
                org_id: ORG,
                fingerprint: "3F9A-21CX-77BE-KD0P".into(),
                status: EnrolledStatus::Pending,
                admin: false,
                teams: vec![TEAM],
                root_key: Some("AAAA".into()),
                binding: Some("AAAA".into()),
            }),
            j(&InviteRequest {
                token_hash: "AAAA".into(),
                root_key: "AAAA".into(),
                binding: "AAAA".into(),
                teams: Some(vec![TEAM]),
            }),
            j(&InviteResponse { expires_ms: 9 }),
            j(&DeviceList {
                devices: vec![DeviceInfo {
                    device_id: id(2),
                    name: "b".into(),
                    sign_key: "AAAA".into(),
                    box_key: "AAAA".into(),
                    fingerprint: "F".into(),
                    status: EnrolledStatus::Revoked,
                    admin: true,
                    teams: vec![],
                }],
            }),
            j(&ErrorBody {
                error: REVOKED.into(),
            }),
        ]
    })
}

mod erased {
    /// Serialise any sample without naming its type.
    pub trait Json {
        fn json(&self) -> String;
    }
    impl<T: serde::Serialize> Json for T {
        fn json(&self) -> String {
            serde_json::to_string(self).unwrap()
        }
    }
}

proptest! {
    #![proptest_config(config(512))]

    /// Any bytes at all: every wire type parses or refuses, never panics, and what parses
    /// round-trips.
    #[test]
    fn wire_types_take_any_bytes(
        b in prop_oneof![
            bytes(256),
            "[\\[\\]{}\":,.0-9a-z =+/-]{0,64}".prop_map(String::into_bytes),
        ],
    ) {
        every_wire_type(&b)?;
    }
}

proptest! {
    #![proptest_config(config(1500))]

    /// Valid messages of every type with a few bytes or JSON tokens changed.
    #[test]
    fn wire_types_take_mutated_messages(
        which in any::<prop::sample::Index>(),
        edits in arb_edits(4),
    ) {
        let samples = wire_samples();
        let sample = which.get(samples);
        every_wire_type(&apply_edits(sample.as_bytes(), &edits))?;
    }
}

// ---------------------------------------------------------------------------------------------
// HLCs.

proptest! {
    #![proptest_config(config(2000))]

    /// Only the one exact form parses, and what parses is exactly that form, within year 9999.
    #[test]
    fn an_hlc_parses_only_in_its_exact_form(
        text in prop_oneof![
            "[0-9]{16}-[0-9a-f]{4}-[0-9a-f]{16}",
            "[0-9+ -]{14,17}-[0-9a-fA-F]{3,5}-[0-9a-fA-F]{15,17}",
            any::<String>(),
        ],
    ) {
        if let Some((wall, counter, device)) = parse_hlc(&text) {
            prop_assert_eq!(format!("{wall:016}-{counter:04x}-{device}"), text.clone());
            prop_assert!(wall <= 253_402_300_799_999, "{} is past year 9999", text);
        }
    }
}

/// Regression (found by the properties above): the doc promised that an HLC past year 9999 is
/// refused, but any 16 digits were taken.
#[test]
fn an_hlc_past_year_9999_is_refused() {
    assert!(parse_hlc("0253402300799999-0000-0606060606060606").is_some());
    assert_eq!(parse_hlc("0253402300800000-0000-0606060606060606"), None);
    assert_eq!(parse_hlc("9999999999999999-ffff-0606060606060606"), None);
}

// ---------------------------------------------------------------------------------------------
// Request signatures.

fn arb_headers() -> impl Strategy<Value = SignedHeaders> {
    (
        prop_oneof![
            arb_uuid().prop_map(|u| u.to_string()),
            arb_uuid().prop_map(|u| u.simple().to_string().to_uppercase()),
            arb_text(),
        ],
        prop_oneof![
            arb_i64().prop_map(|t| t.to_string()),
            arb_i64().prop_map(|t| format!("+{t}")),
            "[-+0-9 ]{0,21}",
            arb_text(),
        ],
        prop_oneof!["[A-Za-z0-9_-]{0,66}", arb_text()],
        prop_oneof![
            bytes(70).prop_map(|b| {
                use base64::Engine;
                base64::engine::general_purpose::STANDARD.encode(b)
            }),
            arb_text(),
        ],
    )
        .prop_map(|(device, time, nonce, signature)| SignedHeaders {
            device,
            time,
            nonce,
            signature,
        })
}

proptest! {
    #![proptest_config(config(1000))]

    /// Headers made of anything: refused (nobody signed them), never a panic, at any server time.
    #[test]
    fn forged_request_headers_are_refused(
        h in arb_headers(),
        method in arb_text(),
        path in arb_text(),
        body in bytes(64),
        now in arb_i64(),
        pk in any::<[u8; 32]>(),
    ) {
        prop_assert!(verify_request(&pk, &method, &path, &body, &h, now).is_err());
        prop_assert!(verify_request(&sender().public_key(), &method, &path, &body, &h, now).is_err());
    }

    /// A genuine signature checks exactly when the request's time is within the window of the
    /// server's, whatever the two times are (i64's edges included), and any other change is
    /// refused.
    #[test]
    fn a_signed_request_checks_exactly_within_the_window(
        sent in arb_i64(),
        skew in prop_oneof![-400_000i64..=400_000, any::<i64>()],
        nonce in "[A-Za-z0-9_-]{1,64}",
        method in "[a-zA-Z]{1,7}",
        path in arb_text(),
        body in bytes(64),
        edits in arb_edits(2),
    ) {
        let device_id = pool()[1].id;
        let signer = RequestSigner { device_id, key: sender() };
        let pk = sender().public_key();
        let h = signer.sign(&method, &path, &body, sent, &nonce);
        let now = sent.saturating_add(skew);
        let within = (i128::from(now) - i128::from(sent)).abs()
            <= i128::from(REQUEST_WINDOW_SECS) * 1000;
        let r = verify_request(&pk, &method, &path, &body, &h, now);
        if within {
            prop_assert_eq!(r, Ok(device_id));
            // The body changed: refused, unless the edits left it as it was.
            let other = apply_edits(&body, &edits);
            let r = verify_request(&pk, &method, &path, &other, &h, now);
            prop_assert_eq!(r.is_ok(), other == body);
        } else {
            prop_assert_eq!(r, Err(RequestAuthError::OutsideWindow));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Envelopes.

fn arb_routing() -> impl Strategy<Value = Routing> {
    (
        (
            arb_uuid(),
            arb_uuid(),
            proptest::option::of(arb_uuid()),
            prop_oneof![Just("note".to_owned()), arb_text()],
            arb_uuid(),
            arb_uuid(),
            arb_uuid(),
        ),
        (
            any::<u64>(),
            prop_oneof!["[0-9]{16}-[0-9a-f]{4}-[0-9a-f]{16}", arb_text()],
            arb_uuid(),
            prop_oneof![0u32..4, any::<u32>()],
            any::<u32>(),
            proptest::option::of(
                (any::<u64>(), any::<[u8; 32]>()).prop_map(|(seq, prev)| ChainLink { seq, prev }),
            ),
        ),
    )
        .prop_map(
            |(
                (org_id, team_id, case_id, entity, entity_id, op_id, device_id),
                (device_seq, hlc, kid_team, epoch, schema_v, chain),
            )| Routing {
                org_id,
                team_id,
                case_id,
                entity,
                entity_id,
                op_id,
                device_id,
                device_seq,
                hlc,
                kid: KeyId {
                    team_id: kid_team,
                    epoch,
                },
                schema_v,
                chain,
            },
        )
}

/// Envelopes of arbitrary fields; half of them with the content hash they should have, and half
/// naming the team key the device holds, so the signature and decryption checks are reached too.
fn arb_envelope() -> impl Strategy<Value = Envelope> {
    (
        arb_routing(),
        prop_oneof![bytes(16), Just(vec![0u8; 12])],
        bytes(80),
        bytes(40),
        prop_oneof![bytes(70), vec(any::<u8>(), 64)],
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(
            |(mut routing, nonce, ciphertext, hash, signature, right_hash, real_key)| {
                if real_key {
                    // Sealed (it says) with the team key the device holds.
                    routing.kid = org().key.id;
                    routing.team_id = org().key.id.team_id;
                }
                let content_hash = if right_hash {
                    sha256(&[routing.aad(), nonce.clone(), ciphertext.clone()].concat())
                } else {
                    hash
                };
                Envelope {
                    routing,
                    nonce,
                    ciphertext,
                    content_hash,
                    signature,
                }
            },
        )
}

/// One change to a genuine envelope.
#[derive(Debug, Clone)]
enum EnvelopeChange {
    Routing(Box<Routing>),
    Nonce(Vec<Edit>),
    Ciphertext(Vec<Edit>),
    Hash(Vec<Edit>),
    Signature(Vec<Edit>),
    /// Take another genuine envelope's field.
    Swap(u8, u8),
}

fn arb_envelope_change() -> impl Strategy<Value = EnvelopeChange> {
    prop_oneof![
        arb_routing().prop_map(|r| EnvelopeChange::Routing(Box::new(r))),
        arb_edits(3).prop_map(EnvelopeChange::Nonce),
        arb_edits(3).prop_map(EnvelopeChange::Ciphertext),
        arb_edits(3).prop_map(EnvelopeChange::Hash),
        arb_edits(3).prop_map(EnvelopeChange::Signature),
        (1u8..4, 0u8..5).prop_map(|(other, field)| EnvelopeChange::Swap(other, field)),
    ]
}

fn change(env: &Envelope, c: &EnvelopeChange) -> Envelope {
    let mut e = env.clone();
    match c {
        EnvelopeChange::Routing(r) => e.routing = (**r).clone(),
        EnvelopeChange::Nonce(ed) => e.nonce = apply_edits(&e.nonce, ed),
        EnvelopeChange::Ciphertext(ed) => e.ciphertext = apply_edits(&e.ciphertext, ed),
        EnvelopeChange::Hash(ed) => e.content_hash = apply_edits(&e.content_hash, ed),
        EnvelopeChange::Signature(ed) => e.signature = apply_edits(&e.signature, ed),
        EnvelopeChange::Swap(other, field) => {
            let o = genuine(*other);
            match field {
                0 => e.routing = o.routing,
                1 => e.nonce = o.nonce,
                2 => e.ciphertext = o.ciphertext,
                3 => e.content_hash = o.content_hash,
                _ => e.signature = o.signature,
            }
        }
    }
    e
}

proptest! {
    #![proptest_config(config(1000))]

    /// Envelopes of arbitrary fields: every check refuses them without panicking, and a batch
    /// check says the same of each as checking it alone.
    #[test]
    fn arbitrary_envelopes_are_refused_calmly(env in arb_envelope(), pk in any::<[u8; 32]>()) {
        let key = &org().key;
        let sender_pk = sender().public_key();
        let hash_ok = env.check_hash().is_ok();
        prop_assert_eq!(hash_ok, env.nonce.len() == 12 && env.content_hash
            == sha256(&[env.routing.aad(), env.nonce.clone(), env.ciphertext.clone()].concat()));
        prop_assert!(env.verify(&pk).is_err());
        prop_assert!(env.verify(&sender_pk).is_err());
        prop_assert!(env.open(key, &sender_pk).is_err());
        prop_assert!(env.decrypt(key).is_err());
        let _ = env.hash32();
        let _ = env.routing.hlc_is_exact();
        let real = genuine(1);
        let batch = Envelope::verify_many(&[(&env, &pk), (&real, &sender_pk), (&env, &sender_pk)]);
        prop_assert!(batch[0].is_err() && batch[2].is_err());
        prop_assert_eq!(&batch[1], &Ok(()));
        let opened = Envelope::open_many(&[(&real, key, &sender_pk), (&env, key, &sender_pk)]);
        prop_assert_eq!(&opened[0], &Ok(CONTENT.to_vec()));
        prop_assert!(opened[1].is_err());
    }

    /// A genuine envelope with anything changed does not open, and its neighbours in a batch
    /// still do; unchanged, it opens to its content.
    #[test]
    fn a_changed_envelope_never_opens(n in 0u8..4, c in arb_envelope_change()) {
        let key = &org().key;
        let pk = sender().public_key();
        let real = genuine(n);
        let e = change(&real, &c);
        let same = e == real;
        prop_assert_eq!(e.verify(&pk).is_ok(), same);
        prop_assert_eq!(e.open(key, &pk).is_ok(), same);
        if !same && e.nonce.len() == 12 {
            // Decrypting without the signature check: only the content hash and signature
            // fields may change without the AEAD noticing.
            let aead_same = e.routing == real.routing
                && e.nonce == real.nonce
                && e.ciphertext == real.ciphertext;
            prop_assert_eq!(e.decrypt(key).is_ok(), aead_same);
        }
        let neighbour = genuine(n.wrapping_add(1) % 4);
        let batch = Envelope::verify_many(&[(&e, &pk), (&neighbour, &pk)]);
        prop_assert_eq!(batch[0].is_ok(), same);
        prop_assert_eq!(&batch[1], &Ok(()));
    }

    /// A genuine envelope's JSON with bytes changed: either it does not parse, or does not
    /// open, or it is the same envelope and opens to the same content.
    #[test]
    fn a_mutated_envelope_json_opens_only_as_itself(n in 0u8..4, edits in arb_edits(3)) {
        let real = genuine(n);
        let json = serde_json::to_vec(&real).unwrap();
        if let Ok(e) = serde_json::from_slice::<Envelope>(&apply_edits(&json, &edits))
            && let Ok(content) = e.open(&org().key, &sender().public_key())
        {
            prop_assert_eq!(e, real);
            prop_assert_eq!(content, CONTENT.to_vec());
        }
    }
}

/// Regression (found by the properties above): `Envelope::decrypt` called on an envelope whose
/// nonce is not 12 bytes (one not checked first, or checked and refused) panicked instead of
/// refusing it.
#[test]
fn decrypt_refuses_a_nonce_that_is_not_12_bytes() {
    for len in [0, 11, 13, 64] {
        let mut e = genuine(0);
        e.nonce = vec![0; len];
        assert_eq!(
            e.decrypt(&org().key),
            Err(OpenError::Malformed("the nonce is not 12 bytes"))
        );
        assert!(e.open(&org().key, &sender().public_key()).is_err());
    }
}

// ---------------------------------------------------------------------------------------------
// The trust log.

fn arb_device_keys() -> impl Strategy<Value = DeviceKeys> {
    prop_oneof![
        3 => (0usize..4).prop_map(|i| pool()[i].keys()),
        1 => (arb_uuid(), 0usize..4, any::<[u8; 32]>()).prop_map(|(device_id, i, box_key)| {
            DeviceKeys { device_id, sign_key: pool()[i].sign.public_key(), box_key }
        }),
        1 => (arb_uuid(), any::<[u8; 32]>(), any::<[u8; 32]>()).prop_map(
            |(device_id, sign_key, box_key)| DeviceKeys { device_id, sign_key, box_key }
        ),
    ]
}

fn arb_team() -> impl Strategy<Value = Uuid> {
    prop_oneof![4 => prop::sample::select(TEAMS.to_vec()), 1 => arb_uuid()]
}

fn arb_teams() -> impl Strategy<Value = Vec<Uuid>> {
    prop_oneof![
        8 => vec(arb_team(), 0..4),
        1 => vec(arb_uuid(), 60..70),
    ]
}

fn arb_cutoffs() -> impl Strategy<Value = BTreeMap<Uuid, u64>> {
    btree_map(arb_team(), prop_oneof![0u64..10, any::<u64>()], 0..3)
}

fn arb_device_id() -> impl Strategy<Value = Uuid> {
    prop_oneof![3 => (1u128..=5).prop_map(Uuid::from_u128), 1 => arb_uuid()]
}

fn arb_body() -> impl Strategy<Value = Body> {
    prop_oneof![
        1 => (arb_device_keys(), arb_text(), any::<[u8; 32]>(), arb_teams()).prop_map(
            |(admin, name, recovery_key, teams)| Body::Genesis { admin, name, recovery_key, teams }
        ),
        4 => (arb_device_keys(), arb_text(), any::<bool>(), arb_teams()).prop_map(
            |(device, name, admin, teams)| Body::Approve { device, name, admin, teams }
        ),
        3 => (arb_device_id(), any::<bool>(), arb_teams(), arb_cutoffs()).prop_map(
            |(device, admin, teams, cutoffs)| Body::Update { device, admin, teams, cutoffs }
        ),
        2 => (arb_device_id(), arb_cutoffs()).prop_map(
            |(device, cutoffs)| Body::Revoke { device, cutoffs }
        ),
        3 => (arb_team(), prop_oneof![0u32..4, any::<u32>()],
              prop_oneof![Just([0u8; 32]), any::<[u8; 32]>()]).prop_map(
            |(team, epoch, key_id)| Body::TeamEpoch { team, epoch, key_id }
        ),
    ]
}

/// What must hold of every state the log can reach.
fn invariants(s: &TrustState) -> Result<(), TestCaseError> {
    prop_assert!(
        s.devices.values().any(|d| d.admin && !d.revoked),
        "no admin left"
    );
    prop_assert!(s.devices.values().all(|d| !(d.revoked && d.admin)));
    let keys: std::collections::BTreeSet<_> = s.devices.values().map(|d| d.keys.sign_key).collect();
    prop_assert_eq!(
        keys.len(),
        s.devices.len(),
        "two devices share a signing key"
    );
    for (team, epochs) in &s.epochs {
        let numbers: Vec<u32> = epochs.keys().copied().collect();
        prop_assert_eq!(
            numbers,
            (1..=u32::try_from(epochs.len()).unwrap()).collect::<Vec<_>>(),
            "team {}'s epochs skip",
            team
        );
        prop_assert!(epochs.values().all(|k| *k != [0; 32]));
    }
    for d in s.devices.values().filter(|d| d.approved_in > 1) {
        prop_assert!(d.name.chars().count() <= 100 && !d.name.chars().any(char::is_control));
    }
    Ok(())
}

proptest! {
    #![proptest_config(config(400))]

    /// Logs of arbitrary statements, each properly numbered, linked and signed by one of the
    /// devices: every statement is accepted or refused without a panic, a refusal changes
    /// nothing, every accepted state keeps the log's rules, and folding the accepted log again
    /// (from its JSON) reaches the same state.
    #[test]
    fn signed_logs_of_arbitrary_statements_fold_consistently(
        name in arb_text(),
        teams in arb_teams(),
        steps in vec((0usize..5, arb_body(), arb_i64()), 0..24),
    ) {
        let root = &pool()[0];
        let first = genesis(root, &name, teams);
        let Ok(mut state) = TrustState::genesis(&first, ORG, &root.sign.public_key()) else {
            return Ok(());
        };
        invariants(&state)?;
        let mut log = vec![first];
        for (author, body, at_ms) in steps {
            // Author 4 is nobody the log knows (a stranger with device 1's id signs).
            let (id, key) = match pool().get(author) {
                Some(d) => (d.id, &d.sign),
                None => (root.id, &pool()[3].sign),
            };
            let s = state.next(id, at_ms, body).sign(key);
            let before = state.clone();
            match state.apply(&s) {
                Ok(()) => {
                    prop_assert_eq!(state.seq, before.seq + 1);
                    prop_assert_eq!(state.head, s.statement.hash());
                    invariants(&state)?;
                    log.push(s);
                }
                Err(_) => prop_assert_eq!(&state, &before),
            }
        }
        let json = serde_json::to_string(&log).unwrap();
        let back: Vec<SignedStatement> = serde_json::from_str(&json).unwrap();
        let again = TrustState::from_log(&back, ORG, &root.sign.public_key());
        prop_assert_eq!(again, Ok(state));
    }

    /// Statements of arbitrary fields and signatures: refused at any point of the genuine log,
    /// as a genesis, and as a whole log.
    #[test]
    fn arbitrary_statements_are_refused(
        org_id in prop_oneof![Just(ORG), arb_uuid()],
        seq in prop_oneof![0u64..12, any::<u64>()],
        prev in any::<[u8; 32]>(),
        author in arb_device_id(),
        at_ms in arb_i64(),
        body in arb_body(),
        signature in prop_oneof![bytes(70), vec(any::<u8>(), 64)],
        cut in 0usize..10,
    ) {
        let o = org();
        let s = SignedStatement {
            statement: Statement { org_id, seq, prev, author, at_ms, body },
            signature,
        };
        let root = pool()[0].sign.public_key();
        prop_assert!(TrustState::genesis(&s, ORG, &root).is_err());
        let cut = cut.min(o.log.len());
        let mut state = TrustState::from_log(&o.log[..cut.max(1)], ORG, &root).unwrap();
        let before = state.clone();
        prop_assert!(state.apply(&s).is_err());
        prop_assert_eq!(state, before);
        let mut log = o.log[..cut].to_vec();
        log.push(s);
        prop_assert!(TrustState::from_log(&log, ORG, &root).is_err());
    }
}

proptest! {
    #![proptest_config(config(1500))]

    /// The genuine log's JSON with bytes or tokens changed: it does not parse, or does not
    /// fold, or folds to exactly the genuine state. Never another accepted state.
    #[test]
    fn a_mutated_log_folds_to_the_genuine_state_or_not_at_all(edits in arb_edits(4)) {
        let o = org();
        let root = pool()[0].sign.public_key();
        let text = apply_edits(o.log_json.as_bytes(), &edits);
        if let Ok(log) = serde_json::from_slice::<Vec<SignedStatement>>(&text)
            && let Ok(state) = TrustState::from_log(&log, ORG, &root)
        {
            prop_assert_eq!(&state, &o.state);
        }
    }

    /// The genuine grant's JSON with bytes changed: checked and unwrapped only if it is still
    /// the genuine grant, and then to the announced key.
    #[test]
    fn a_mutated_grant_is_refused_or_is_the_genuine_grant(edits in arb_edits(3)) {
        let o = org();
        let b = &pool()[1];
        let text = apply_edits(o.grant_json.as_bytes(), &edits);
        if let Ok(g) = serde_json::from_slice::<KeyGrant>(&text) {
            if o.state.check_grant(&g, b.id).is_ok() {
                prop_assert_eq!(&g, &o.grant);
            }
            if let Ok(k) = unwrap(&g.wrap, b.id, &b.boxs) {
                prop_assert_eq!(k.id, o.key.id);
                prop_assert_eq!(k.expose_secret(), o.key.expose_secret());
                prop_assert!(o.state.check_key(&k).is_ok());
            }
        }
    }
}

fn arb_wrap() -> impl Strategy<Value = WrappedKey> {
    (
        arb_uuid(),
        prop_oneof![0u32..3, any::<u32>()],
        arb_device_id(),
        prop_oneof![
            any::<[u8; 32]>(),
            Just([0u8; 32]),
            Just(pool()[1].boxs.public_key())
        ],
        any::<[u8; 12]>(),
        prop_oneof![bytes(64), vec(any::<u8>(), 48)],
    )
        .prop_map(
            |(team_id, epoch, recipient, ephemeral, nonce, ciphertext)| WrappedKey {
                kid: KeyId { team_id, epoch },
                recipient,
                ephemeral,
                nonce,
                ciphertext,
            },
        )
}

#[derive(Debug, Clone)]
enum WrapChange {
    Kid(Uuid, u32),
    Recipient(Uuid),
    Ephemeral(Vec<Edit>),
    Nonce(Vec<Edit>),
    Ciphertext(Vec<Edit>),
}

fn arb_wrap_change() -> impl Strategy<Value = WrapChange> {
    prop_oneof![
        (arb_uuid(), 0u32..3).prop_map(|(t, e)| WrapChange::Kid(t, e)),
        arb_device_id().prop_map(WrapChange::Recipient),
        arb_edits(2).prop_map(WrapChange::Ephemeral),
        arb_edits(2).prop_map(WrapChange::Nonce),
        arb_edits(3).prop_map(WrapChange::Ciphertext),
    ]
}

proptest! {
    #![proptest_config(config(600))]

    /// Grants of arbitrary wraps, key ids, signers and signatures: refused, and their wraps do
    /// not unwrap.
    #[test]
    fn arbitrary_grants_are_refused(
        w in arb_wrap(),
        key_id in prop_oneof![Just(org().grant.key_id), any::<[u8; 32]>()],
        signer in arb_device_id(),
        signature in prop_oneof![bytes(70), vec(any::<u8>(), 64)],
        recipient in arb_device_id(),
    ) {
        let o = org();
        let g = KeyGrant { wrap: w, key_id, signer, signature };
        prop_assert!(o.state.check_grant(&g, recipient).is_err());
        for d in pool() {
            prop_assert!(unwrap(&g.wrap, g.wrap.recipient, &d.boxs).is_err());
            prop_assert!(unwrap(&g.wrap, d.id, &d.boxs).is_err());
        }
    }

    /// The genuine wrap with any field changed (the ephemeral key's ignored top bit included)
    /// does not unwrap; unchanged, it unwraps to the key.
    #[test]
    fn a_changed_wrap_never_unwraps(c in arb_wrap_change()) {
        let o = org();
        let b = &pool()[1];
        let mut w = o.grant.wrap.clone();
        let fixed = |v: Vec<u8>, n: usize| -> Option<Vec<u8>> { (v.len() == n).then_some(v) };
        match c {
            WrapChange::Kid(team_id, epoch) => w.kid = KeyId { team_id, epoch },
            WrapChange::Recipient(r) => w.recipient = r,
            WrapChange::Ephemeral(ed) => match fixed(apply_edits(&w.ephemeral, &ed), 32) {
                Some(v) => w.ephemeral.copy_from_slice(&v),
                None => return Ok(()),
            },
            WrapChange::Nonce(ed) => match fixed(apply_edits(&w.nonce, &ed), 12) {
                Some(v) => w.nonce.copy_from_slice(&v),
                None => return Ok(()),
            },
            WrapChange::Ciphertext(ed) => w.ciphertext = apply_edits(&w.ciphertext, &ed),
        }
        let same = w == o.grant.wrap;
        prop_assert_eq!(unwrap(&w, w.recipient, &b.boxs).is_ok(), same);
        let mut g = o.grant.clone();
        g.wrap = w;
        prop_assert_eq!(o.state.check_grant(&g, b.id).is_ok(), same);
    }
}

// ---------------------------------------------------------------------------------------------
// Typed codes and fingerprints.

proptest! {
    #![proptest_config(config(1500))]

    /// Whatever is typed: normalising is idempotent and gives only unambiguous symbols, a code's
    /// kind depends only on what normalises the same, and a binding checks only for the code
    /// that made it.
    #[test]
    fn typed_codes_are_read_calmly(
        typed in prop_oneof![
            any::<String>(),
            "[0-9A-Za-z -]{18,26}",
            "[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){4}",
        ],
        other in any::<String>(),
        binding in bytes(40),
        org_n in any::<u128>(),
        root in any::<[u8; 32]>(),
        sign in any::<[u8; 32]>(),
    ) {
        let n = codes::normalise(&typed);
        prop_assert!(n.bytes().all(|b| b.is_ascii_digit() || b.is_ascii_uppercase()));
        prop_assert!(!n.contains(['O', 'I', 'L']));
        prop_assert_eq!(codes::normalise(&n), n.clone());
        let kind = codes::code_kind(&typed);
        prop_assert_eq!(kind, codes::code_kind(&n));
        if kind.is_some() {
            prop_assert_eq!(n.len(), 20);
        }
        prop_assert_eq!(codes::code_token(&typed), codes::code_token(&n));
        let org_id = Uuid::from_u128(org_n);
        let made = codes::root_binding(&typed, org_id, &root);
        prop_assert!(codes::check_root_binding(&typed, org_id, &root, &made));
        prop_assert!(codes::check_root_binding(&n, org_id, &root, &made));
        prop_assert_eq!(
            codes::check_root_binding(&typed, org_id, &root, &binding),
            binding == made
        );
        if codes::normalise(&other) != n {
            prop_assert!(!codes::check_root_binding(&other, org_id, &root, &made));
        }
        let f = codes::fingerprint(&sign, &root);
        prop_assert_eq!(f.len(), 19);
        prop_assert!(codes::same_fingerprint(&f.to_lowercase(), &f));
        let _ = codes::same_fingerprint(&typed, &f);
        prop_assert_eq!(codes::org_fingerprint(org_id, &root).len(), 19);
    }
}

/// Every kind of code really made is read as its kind, whatever else is typed around it.
#[test]
fn real_codes_survive_noise() {
    for kind in [CodeKind::Organisation, CodeKind::Invitation] {
        let code = codes::new_code(kind).unwrap();
        let noisy = format!("  {}\u{2028}!", code.to_lowercase().replace('0', "o"));
        assert_eq!(codes::code_kind(&noisy), Some(kind));
    }
}
