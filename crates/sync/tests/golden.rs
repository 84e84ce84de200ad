//! Scenario #20 of sync.md §9: golden vectors. `golden/v1.json` holds an op envelope and a
//! wrapped team key made by protocol v1, frozen in the repository. Every later version must
//! still open them: a change to the envelope, the AAD encoding, the key derivation or the wrap
//! that breaks old data fails here. (Regenerate only for a new protocol version, in a new file:
//! `WARDSIDE_WRITE_GOLDEN=1 cargo test -p wardside-sync --test golden`.)
#![allow(clippy::unwrap_used)]

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use uuid::Uuid;
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
