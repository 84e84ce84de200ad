//! Scenario #20 of sync.md §9: golden vectors. `golden/v1.json` holds an op envelope and a
//! wrapped team key made by protocol v1; `golden/v2.json` a chained op envelope (v2 associated
//! data), an organisation's trust log (genesis, team epoch, approval, revocation) and a signed
//! key grant. Frozen in the repository: every later version must still open and verify them: a
//! change to the envelope, the AAD encoding, the statement encoding, the key derivation, the
//! wrap or the grant that breaks old data fails here. (Regenerate only for a new protocol
//! version, in a new file: `WARDSIDE_WRITE_GOLDEN=1 cargo test -p wardside-sync --test golden`.)
#![allow(clippy::unwrap_used)]

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use std::collections::BTreeMap;
use uuid::Uuid;
use wardside_sync::envelope::ChainLink;
use wardside_sync::trust::{
    Body, DeviceKeys, KeyGrant, Sender, SignedStatement, Statement, TrustState, key_id,
};
use wardside_sync::wrap::{BoxSecret, WrappedKey, unwrap, wrap};
use wardside_sync::{DeviceSigningKey, Envelope, KeyId, Routing, TeamKey};

#[derive(serde::Serialize, serde::Deserialize)]
struct Golden {
    team_key: String,
    kid: KeyId,
    device_public_key: String,
    envelope: Envelope,
    plaintext: String,
    recipient: Uuid,
    recipient_secret: String,
    wrapped: WrappedKey,
}

const PATH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/golden/v1.json");

fn make() -> Golden {
    let kid = KeyId {
        team_id: Uuid::from_u128(0x1111_2222_3333_4444_5555_6666_7777_8888),
        epoch: 1,
    };
    let key = TeamKey::from_bytes(kid, [7; 32]);
    let device = DeviceSigningKey::generate().unwrap();
    let plaintext =
        r#"{"kind":"note-version","payload":{"body":"Golden vector note"},"actor":"Ceri"}"#;
    let envelope = Envelope::seal(
        Routing {
            org_id: Uuid::from_u128(1),
            team_id: kid.team_id,
            case_id: Some(Uuid::from_u128(2)),
            entity: "note".into(),
            entity_id: Uuid::from_u128(3),
            op_id: Uuid::from_u128(4),
            device_id: Uuid::from_u128(5),
            device_seq: 42,
            hlc: "0001767225600000-0003-abcdef0123456789".into(),
            kid,
            schema_v: 1,
            chain: None,
        },
        plaintext.as_bytes(),
        &key,
        &device,
    )
    .unwrap();
    let recipient = Uuid::from_u128(6);
    let secret = BoxSecret::from_bytes([9; 32]);
    let wrapped = wrap(&key, recipient, &secret.public_key()).unwrap();
    Golden {
        team_key: B64.encode([7u8; 32]),
        kid,
        device_public_key: B64.encode(device.public_key()),
        envelope,
        plaintext: plaintext.into(),
        recipient,
        recipient_secret: B64.encode([9u8; 32]),
        wrapped,
    }
}

#[test]
fn version_1_ops_and_key_wraps_still_open() {
    if std::env::var_os("WARDSIDE_WRITE_GOLDEN").is_some() {
        std::fs::write(PATH, serde_json::to_string_pretty(&make()).unwrap()).unwrap();
    }
    let g: Golden = serde_json::from_str(&std::fs::read_to_string(PATH).unwrap()).unwrap();
    let key = TeamKey::from_bytes(g.kid, B64.decode(&g.team_key).unwrap().try_into().unwrap());
    let public: [u8; 32] = B64
        .decode(&g.device_public_key)
        .unwrap()
        .try_into()
        .unwrap();
    let opened = g.envelope.open(&key, &public).unwrap();
    assert_eq!(String::from_utf8(opened).unwrap(), g.plaintext);
    let secret =
        BoxSecret::from_bytes(B64.decode(&g.recipient_secret).unwrap().try_into().unwrap());
    let unwrapped = unwrap(&g.wrapped, g.recipient, &secret).unwrap();
    assert_eq!(unwrapped.expose_secret(), key.expose_secret());
    // Altering one byte of the frozen ciphertext is still caught.
    let mut bad = g.envelope.clone();
    bad.ciphertext[0] ^= 1;
    assert!(bad.open(&key, &public).is_err());
}

#[derive(serde::Serialize, serde::Deserialize)]
struct GoldenV2 {
    org_id: Uuid,
    root_key: String,
    log: Vec<SignedStatement>,
    team_key: String,
    grant: KeyGrant,
    grant_recipient_secret: String,
    sender_key: String,
    envelope: Envelope,
    plaintext: String,
}

const PATH_V2: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/golden/v2.json");

fn make_v2() -> GoldenV2 {
    let org = Uuid::from_u128(0xa);
    let team = org;
    let root = DeviceSigningKey::generate().unwrap();
    let laptop = DeviceSigningKey::generate().unwrap();
    let laptop_box = BoxSecret::from_bytes([11; 32]);
    let gone = DeviceSigningKey::generate().unwrap();
    let kid = KeyId {
        team_id: team,
        epoch: 1,
    };
    let key = TeamKey::from_bytes(kid, [7; 32]);
    let keys = |id: u128, k: &DeviceSigningKey, b: [u8; 32]| DeviceKeys {
        device_id: Uuid::from_u128(id),
        sign_key: k.public_key(),
        box_key: b,
    };
    let genesis = Statement {
        org_id: org,
        seq: 1,
        prev: [0; 32],
        author: Uuid::from_u128(1),
        at_ms: 1_767_225_600_000,
        body: Body::Genesis {
            admin: keys(1, &root, [1; 32]),
            name: "Golden IMHA".into(),
            recovery_key: [5; 32],
            teams: vec![team],
        },
    }
    .sign(&root);
    let mut state = TrustState::genesis(&genesis, org, &root.public_key()).unwrap();
    let mut log = vec![genesis];
    for body in [
        Body::TeamEpoch {
            team,
            epoch: 1,
            key_id: key_id(org, &key),
        },
        Body::Approve {
            device: keys(2, &laptop, laptop_box.public_key()),
            name: "Ward laptop".into(),
            admin: false,
            teams: vec![team],
        },
        Body::Approve {
            device: keys(3, &gone, [3; 32]),
            name: "Lost laptop".into(),
            admin: false,
            teams: vec![team],
        },
        Body::Revoke {
            device: Uuid::from_u128(3),
            cutoffs: BTreeMap::from([(team, 4)]),
        },
    ] {
        let s = state
            .next(Uuid::from_u128(1), 1_767_225_600_000, body)
            .sign(&root);
        state.apply(&s).unwrap();
        log.push(s);
    }
    let w = wrap(&key, Uuid::from_u128(2), &laptop_box.public_key()).unwrap();
    let grant = KeyGrant::sign(org, w, &key, Uuid::from_u128(1), &root);
    let plaintext =
        r#"{"kind":"note-version","payload":{"body":"Golden chained note"},"actor":"Ceri"}"#;
    let envelope = Envelope::seal(
        Routing {
            org_id: org,
            team_id: team,
            case_id: Some(Uuid::from_u128(20)),
            entity: "note".into(),
            entity_id: Uuid::from_u128(21),
            op_id: Uuid::from_u128(22),
            device_id: Uuid::from_u128(2),
            device_seq: 3,
            hlc: "0001767225600000-0002-0000000000000000".into(),
            kid,
            schema_v: 1,
            chain: Some(ChainLink {
                seq: 3,
                prev: [0x33; 32],
            }),
        },
        plaintext.as_bytes(),
        &key,
        &laptop,
    )
    .unwrap();
    GoldenV2 {
        org_id: org,
        root_key: B64.encode(root.public_key()),
        log,
        team_key: B64.encode([7u8; 32]),
        grant,
        grant_recipient_secret: B64.encode([11u8; 32]),
        sender_key: B64.encode(laptop.public_key()),
        envelope,
        plaintext: plaintext.into(),
    }
}

fn b32(s: &str) -> [u8; 32] {
    B64.decode(s).unwrap().try_into().unwrap()
}

#[test]
fn version_2_chained_ops_trust_logs_and_key_grants_still_verify() {
    if std::env::var_os("WARDSIDE_WRITE_GOLDEN").is_some()
        && !std::path::Path::new(PATH_V2).exists()
    {
        std::fs::write(PATH_V2, serde_json::to_string_pretty(&make_v2()).unwrap()).unwrap();
    }
    let g: GoldenV2 = serde_json::from_str(&std::fs::read_to_string(PATH_V2).unwrap()).unwrap();
    // The trust log folds under the pinned root, with what it said.
    let state = TrustState::from_log(&g.log, g.org_id, &b32(&g.root_key)).unwrap();
    assert_eq!(state.seq, 5);
    let laptop = Uuid::from_u128(2);
    let sender = b32(&g.sender_key);
    assert_eq!(state.sender(laptop, g.org_id, 3), Sender::Trusted(sender));
    assert!(state.is_revoked(Uuid::from_u128(3)));
    assert_eq!(
        state.sender(Uuid::from_u128(3), g.org_id, 5),
        Sender::AfterCutoff { through: 4 }
    );
    // The grant is an admin's, and the key inside is the one the log announced.
    state.check_grant(&g.grant, laptop).unwrap();
    let secret = BoxSecret::from_bytes(b32(&g.grant_recipient_secret));
    let key = unwrap(&g.grant.wrap, laptop, &secret).unwrap();
    state.check_key(&key).unwrap();
    assert_eq!(key.expose_secret(), &b32(&g.team_key));
    // The chained op opens, and its chain link is bound to it.
    let opened = g.envelope.open(&key, &sender).unwrap();
    assert_eq!(String::from_utf8(opened).unwrap(), g.plaintext);
    let mut moved = g.envelope.clone();
    moved.routing.chain.as_mut().unwrap().prev[0] ^= 1;
    assert!(moved.open(&key, &sender).is_err());
    // One changed byte in a frozen statement breaks the log.
    let mut log = g.log.clone();
    log[2].signature[0] ^= 1;
    assert!(TrustState::from_log(&log, g.org_id, &b32(&g.root_key)).is_err());
}
