//! What the fuzz targets share: genuine samples of each input (made with fixed keys, so they are
//! the same every run), a way to turn fuzz bytes into edits of a sample, and the checks that must
//! hold of whatever a parser accepts.
//!
//! Most targets read their input in one of two ways, chosen by its first byte: as the bytes
//! themselves, or as an edit script applied to a genuine sample (so libFuzzer reaches the checks
//! behind the parser, not just the parser's refusals).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde::Serialize;
use serde::de::DeserializeOwned;
use std::collections::BTreeMap;
use std::fmt::Debug;
use std::sync::OnceLock;
use uuid::Uuid;
use wardside_sync::envelope::{ChainLink, hlc_device_part};
use wardside_sync::protocol::*;
use wardside_sync::trust::{Body, DeviceKeys, Statement, TrustState, key_id};
use wardside_sync::wrap::{BoxSecret, wrap};
use wardside_sync::{DeviceSigningKey, Envelope, KeyId, Routing, TeamKey};

// ---------------------------------------------------------------------------------------------
// Edit scripts.

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
    "4294967296",
    "536870912",
    "\"\"",
    "\"\\u0000\"",
    "\"\\ud800\"",
    "[]",
    "{}",
    "AAAA",
    "=",
    "\n",
    "#",
    "[[",
    "]]",
    "'",
    "0000-01-01",
    "9999-12-31",
    "07:32:00",
    "1979-05-27T07:32:00Z",
    "inf",
    "nan",
];

/// Apply an edit script to `sample`: each 4 bytes `op, offset (2 bytes), value` flip, set,
/// insert or delete a byte, put a token, truncate, or replace a run of digits with a token.
pub fn apply_edits(sample: &[u8], script: &[u8]) -> Vec<u8> {
    let mut b = sample.to_vec();
    for e in script.chunks_exact(4) {
        let (op, at, v) = (e[0], usize::from(u16::from_be_bytes([e[1], e[2]])), e[3]);
        let at_in = |len: usize| if len == 0 { 0 } else { at % len };
        let token = TOKENS[usize::from(v) % TOKENS.len()];
        match op % 7 {
            0 if !b.is_empty() => {
                let i = at_in(b.len());
                b[i] ^= v | 1;
            }
            1 if !b.is_empty() => {
                let i = at_in(b.len());
                b[i] = v;
            }
            2 => {
                let i = at_in(b.len() + 1);
                b.insert(i, v);
            }
            3 if !b.is_empty() => {
                let i = at_in(b.len());
                b.remove(i);
            }
            4 => {
                let i = at_in(b.len() + 1);
                b.splice(i..i, token.bytes());
            }
            5 => {
                let i = at_in(b.len() + 1);
                b.truncate(i);
            }
            6 => {
                let runs = digit_runs(&b);
                if !runs.is_empty() {
                    let (s, end) = runs[at % runs.len()];
                    let numbers = [
                        "0",
                        "1",
                        "8",
                        "12",
                        "255",
                        "65536",
                        "4294967295",
                        "4294967296",
                        "536870912",
                        "18446744073709551615",
                    ];
                    b.splice(s..end, numbers[usize::from(v) % numbers.len()].bytes());
                }
            }
            _ => {}
        }
    }
    b
}

fn digit_runs(b: &[u8]) -> Vec<(usize, usize)> {
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
    runs
}

/// The input as a target reads it: the bytes themselves (first byte even), or an edit script
/// for the sample the second byte picks (first byte odd).
pub fn input_from(data: &[u8], samples: &[&[u8]]) -> Vec<u8> {
    match data {
        [mode, which, script @ ..] if mode & 1 == 1 && !samples.is_empty() => {
            apply_edits(samples[usize::from(*which) % samples.len()], script)
        }
        [_, rest @ ..] => rest.to_vec(),
        [] => Vec::new(),
    }
}

// ---------------------------------------------------------------------------------------------
// Fixed keys.

/// A device's Ed25519 key from a fixed seed (PKCS#8 v2, as ring makes them).
pub fn signing_key(n: u8) -> DeviceSigningKey {
    let seed = [n; 32];
    let pair = ring::signature::Ed25519KeyPair::from_seed_unchecked(&seed).unwrap();
    let public = ring::signature::KeyPair::public_key(&pair)
        .as_ref()
        .to_vec();
    let mut doc = vec![
        0x30, 0x53, 0x02, 0x01, 0x01, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04,
        0x20,
    ];
    doc.extend_from_slice(&seed);
    doc.extend_from_slice(&[0xa1, 0x23, 0x03, 0x21, 0x00]);
    doc.extend_from_slice(&public);
    DeviceSigningKey::from_pkcs8(&doc).unwrap()
}

pub struct Dev {
    pub id: Uuid,
    pub sign: DeviceSigningKey,
    pub boxs: BoxSecret,
}

impl Dev {
    fn new(n: u8) -> Dev {
        Dev {
            id: Uuid::from_u128(u128::from(n)),
            sign: signing_key(n),
            boxs: BoxSecret::from_bytes([n.wrapping_add(100); 32]),
        }
    }
    pub fn keys(&self) -> DeviceKeys {
        DeviceKeys {
            device_id: self.id,
            sign_key: self.sign.public_key(),
            box_key: self.boxs.public_key(),
        }
    }
}

/// Devices 1 (the organisation's root admin) to 4.
pub fn pool() -> &'static [Dev] {
    static POOL: OnceLock<Vec<Dev>> = OnceLock::new();
    POOL.get_or_init(|| (1..=4).map(Dev::new).collect())
}

pub const ORG: Uuid = Uuid::from_u128(0x0a);
pub const TEAMS: [Uuid; 3] = [
    Uuid::from_u128(0x0a),
    Uuid::from_u128(0x0b),
    Uuid::from_u128(0x0c),
];

pub fn genesis(name: &str, teams: Vec<Uuid>) -> SignedStatement {
    let root = &pool()[0];
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

pub fn root_key() -> [u8; 32] {
    pool()[0].sign.public_key()
}

pub struct Org {
    pub log: Vec<SignedStatement>,
    pub log_json: Vec<u8>,
    pub state: TrustState,
    pub key: TeamKey,
    /// The team key granted to device 2 by the root.
    pub grant: KeyGrant,
    pub grant_json: Vec<u8>,
}

/// A log with every kind of statement: genesis, epochs, approvals, an update with a cut-off, a
/// revocation.
pub fn org() -> &'static Org {
    static ORG_: OnceLock<Org> = OnceLock::new();
    ORG_.get_or_init(|| {
        let [root, b, c, d] = pool() else {
            unreachable!()
        };
        let first = genesis("Riverside IMHA", vec![TEAMS[0]]);
        let mut state = TrustState::genesis(&first, ORG, &root_key()).unwrap();
        let mut log = vec![first];
        let key = TeamKey::from_bytes(
            KeyId {
                team_id: TEAMS[0],
                epoch: 1,
            },
            [7; 32],
        );
        let mut say = |by: &Dev, body: Body, state: &mut TrustState| {
            let s = state.next(by.id, 1_764_064_800_000, body).sign(&by.sign);
            state.apply(&s).unwrap();
            log.push(s);
        };
        let epoch = Body::TeamEpoch {
            team: TEAMS[0],
            epoch: 1,
            key_id: key_id(ORG, &key),
        };
        say(root, epoch, &mut state);
        let epoch = Body::TeamEpoch {
            team: TEAMS[1],
            epoch: 1,
            key_id: [9; 32],
        };
        say(root, epoch, &mut state);
        for (dev, admin) in [(b, false), (c, true), (d, false)] {
            let approve = Body::Approve {
                device: dev.keys(),
                name: format!("laptop {}", dev.id.as_u128()),
                admin,
                teams: vec![TEAMS[0], TEAMS[1]],
            };
            say(root, approve, &mut state);
        }
        let update = Body::Update {
            device: d.id,
            admin: false,
            teams: vec![TEAMS[0]],
            cutoffs: BTreeMap::from([(TEAMS[1], 3)]),
        };
        say(c, update, &mut state);
        let revoke = Body::Revoke {
            device: d.id,
            cutoffs: BTreeMap::from([(TEAMS[0], 7)]),
        };
        say(c, revoke, &mut state);
        let w = wrap(&key, b.id, &b.boxs.public_key()).unwrap();
        let grant = KeyGrant::sign(ORG, w, &key, root.id, &root.sign);
        state.check_grant(&grant, b.id).unwrap();
        Org {
            log_json: serde_json::to_vec_pretty(&log).unwrap(),
            grant_json: serde_json::to_vec(&grant).unwrap(),
            log,
            state,
            key,
            grant,
        }
    })
}

/// Device 2 sends the genuine ops.
pub fn sender() -> &'static Dev {
    &pool()[1]
}

pub const CONTENT: &[u8] = br#"{"kind":"note-version","body":"She asked about leave."}"#;

pub fn routing(n: u8) -> Routing {
    let device_id = sender().id;
    Routing {
        org_id: ORG,
        team_id: TEAMS[0],
        case_id: (n % 3 != 0).then(|| Uuid::from_bytes([n; 16])),
        entity: "note".into(),
        entity_id: Uuid::from_bytes([n.wrapping_add(1); 16]),
        op_id: Uuid::from_bytes([n.wrapping_add(2); 16]),
        device_id,
        device_seq: u64::from(n) + 1,
        hlc: format!(
            "{:016}-0000-{}",
            1_764_064_800_000u64 + u64::from(n),
            hlc_device_part(&device_id)
        ),
        kid: org().key.id,
        schema_v: 1,
        chain: n.is_multiple_of(2).then_some(ChainLink {
            seq: u64::from(n) + 1,
            prev: [n; 32],
        }),
    }
}

pub fn genuine_envelope(n: u8) -> Envelope {
    Envelope::seal_with_nonce(routing(n), CONTENT, &org().key, &sender().sign, [n; 12]).unwrap()
}

// ---------------------------------------------------------------------------------------------
// Wire types.

/// Parse as `T`; what parses must serialise and parse back to the same value.
pub fn round_trips<T: Serialize + DeserializeOwned + PartialEq + Debug>(bytes: &[u8]) {
    if let Ok(v) = serde_json::from_slice::<T>(bytes) {
        let again = serde_json::to_vec(&v).unwrap();
        let back: T = serde_json::from_slice(&again)
            .unwrap_or_else(|e| panic!("{v:?} serialised to something that does not parse: {e}"));
        assert_eq!(back, v, "the value changed on a round trip");
    }
}

pub fn every_wire_type(bytes: &[u8]) {
    round_trips::<PushRequest>(bytes);
    round_trips::<PushResponse>(bytes);
    round_trips::<PushResult>(bytes);
    round_trips::<PullResponse>(bytes);
    round_trips::<Heads>(bytes);
    round_trips::<TrustLog>(bytes);
    round_trips::<TrustAppended>(bytes);
    round_trips::<SignedStatement>(bytes);
    round_trips::<Vec<SignedStatement>>(bytes);
    round_trips::<KeyGrants>(bytes);
    round_trips::<KeyGrant>(bytes);
    round_trips::<wardside_sync::wrap::WrappedKey>(bytes);
    round_trips::<EnrollRequest>(bytes);
    round_trips::<EnrollResponse>(bytes);
    round_trips::<InviteRequest>(bytes);
    round_trips::<InviteResponse>(bytes);
    round_trips::<DeviceList>(bytes);
    round_trips::<ErrorBody>(bytes);
    round_trips::<Envelope>(bytes);
    round_trips::<Routing>(bytes);
}

/// One valid message of each wire type.
pub fn wire_samples() -> &'static [Vec<u8>] {
    static SAMPLES: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    SAMPLES.get_or_init(|| {
        let o = org();
        let id = Uuid::from_u128;
        let j = |v: serde_json::Value| serde_json::to_vec(&v).unwrap();
        let v = |x: &dyn erased::Json| x.value();
        vec![
            j(v(&PushRequest {
                ops: vec![genuine_envelope(0), genuine_envelope(1)],
            })),
            j(v(&PushResponse {
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
                        rejection: Some(Rejection::BadChain { expected: 2 }),
                    },
                ],
                server_time_ms: 1_764_064_800_000,
            })),
            j(v(&PullResponse {
                ops: vec![StoredOp {
                    server_seq: 4,
                    envelope: genuine_envelope(2),
                }],
                next_after: 4,
                has_more: true,
                server_time_ms: 1,
            })),
            j(v(&Heads {
                heads: vec![DeviceHead {
                    device_id: id(2),
                    team_id: TEAMS[0],
                    max_seq: 9,
                    ops: 3,
                    chain_seq: 2,
                }],
            })),
            j(v(&TrustLog {
                statements: o.log.clone(),
                has_more: false,
            })),
            j(v(&TrustAppended { seq: 3 })),
            j(v(&KeyGrants {
                grants: vec![o.grant.clone()],
            })),
            j(v(&EnrollRequest {
                token: "AAAA".into(),
                device_id: id(5),
                name: "ward laptop".into(),
                sign_key: "AAAA".into(),
                box_key: "AAAA".into(),
                proof: "AAAA".into(),
            })),
            j(v(&EnrollResponse {
                device_id: id(5),
                org_id: ORG,
                fingerprint: "3F9A-21CX-77BE-KD0P".into(),
                status: EnrolledStatus::Pending,
                admin: false,
                teams: vec![TEAMS[0]],
                root_key: Some("AAAA".into()),
                binding: Some("AAAA".into()),
            })),
            j(v(&InviteRequest {
                token_hash: "AAAA".into(),
                root_key: "AAAA".into(),
                binding: "AAAA".into(),
                teams: Some(vec![TEAMS[0]]),
            })),
            j(v(&InviteResponse { expires_ms: 9 })),
            j(v(&DeviceList {
                devices: vec![DeviceInfo {
                    device_id: id(2),
                    name: "b".into(),
                    sign_key: "AAAA".into(),
                    box_key: "AAAA".into(),
                    fingerprint: "F".into(),
                    status: EnrolledStatus::Approved,
                    admin: true,
                    teams: vec![],
                }],
            })),
            j(v(&ErrorBody {
                error: REVOKED.into(),
            })),
        ]
    })
}

mod erased {
    pub trait Json {
        fn value(&self) -> serde_json::Value;
    }
    impl<T: serde::Serialize> Json for T {
        fn value(&self) -> serde_json::Value {
            serde_json::to_value(self).unwrap()
        }
    }
}

/// What must hold of every state a log can reach.
pub fn check_invariants(s: &TrustState) {
    assert!(
        s.devices.values().any(|d| d.admin && !d.revoked),
        "no admin left"
    );
    assert!(s.devices.values().all(|d| !(d.revoked && d.admin)));
    let keys: std::collections::BTreeSet<_> = s.devices.values().map(|d| d.keys.sign_key).collect();
    assert_eq!(keys.len(), s.devices.len(), "two devices share a key");
    for epochs in s.epochs.values() {
        let numbers: Vec<u32> = epochs.keys().copied().collect();
        let expected: Vec<u32> = (1..=u32::try_from(epochs.len()).unwrap()).collect();
        assert_eq!(numbers, expected, "a team's epochs skip");
        assert!(epochs.values().all(|k| *k != [0; 32]));
    }
}
