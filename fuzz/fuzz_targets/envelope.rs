//! Op envelopes: JSON (any bytes, or a genuine envelope edited) and envelopes of arbitrary
//! fields, through `check_hash`, `verify`, `verify_many`, `open`, `open_many` and `decrypt`.
//! Only a genuine envelope may open, and a batch must say of each what it says alone.
#![no_main]

use arbitrary::{Arbitrary, Unstructured};
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;
use uuid::Uuid;
use wardside_fuzz::{CONTENT, genuine_envelope, input_from, org, sender};
use wardside_sync::envelope::{ChainLink, sha256};
use wardside_sync::{Envelope, KeyId, Routing};

#[derive(Debug, Arbitrary)]
struct Fields {
    org_id: u128,
    team_id: u128,
    case_id: Option<u128>,
    entity: String,
    entity_id: u128,
    op_id: u128,
    device_id: u128,
    device_seq: u64,
    hlc: String,
    kid_team: u128,
    epoch: u32,
    schema_v: u32,
    chain: Option<(u64, [u8; 32])>,
    nonce: Vec<u8>,
    ciphertext: Vec<u8>,
    content_hash: Vec<u8>,
    signature: Vec<u8>,
    right_hash: bool,
    real_team: bool,
}

fn from_fields(f: Fields) -> Envelope {
    let small = |n: u128| Uuid::from_u128(n % 16);
    let key = org().key.id;
    let routing = Routing {
        org_id: small(f.org_id),
        team_id: if f.real_team {
            key.team_id
        } else {
            small(f.team_id)
        },
        case_id: f.case_id.map(small),
        entity: f.entity,
        entity_id: Uuid::from_u128(f.entity_id),
        op_id: Uuid::from_u128(f.op_id),
        device_id: small(f.device_id),
        device_seq: f.device_seq,
        hlc: f.hlc,
        kid: if f.real_team {
            key
        } else {
            KeyId {
                team_id: small(f.kid_team),
                epoch: f.epoch,
            }
        },
        schema_v: f.schema_v,
        chain: f.chain.map(|(seq, prev)| ChainLink { seq, prev }),
    };
    let content_hash = if f.right_hash {
        sha256(&[routing.aad(), f.nonce.clone(), f.ciphertext.clone()].concat())
    } else {
        f.content_hash
    };
    Envelope {
        routing,
        nonce: f.nonce,
        ciphertext: f.ciphertext,
        content_hash,
        signature: f.signature,
    }
}

fn genuine() -> &'static [(Envelope, Vec<u8>)] {
    static G: OnceLock<Vec<(Envelope, Vec<u8>)>> = OnceLock::new();
    G.get_or_init(|| {
        (0..4)
            .map(|n| {
                let e = genuine_envelope(n);
                let json = serde_json::to_vec(&e).unwrap();
                (e, json)
            })
            .collect()
    })
}

fn check(e: &Envelope) {
    let key = &org().key;
    let pk = sender().sign.public_key();
    let real = &genuine()[1].0;
    let is_genuine = genuine().iter().any(|(g, _)| g == e);
    let hash_ok = e.check_hash().is_ok();
    assert_eq!(
        hash_ok,
        e.nonce.len() == 12
            && e.content_hash
                == sha256(&[e.routing.aad(), e.nonce.clone(), e.ciphertext.clone()].concat())
    );
    let verified = e.verify(&pk).is_ok();
    assert_eq!(verified, is_genuine, "verify");
    let opened = e.open(key, &pk);
    assert_eq!(opened.is_ok(), is_genuine, "open");
    if let Ok(content) = opened {
        assert_eq!(content, CONTENT);
    }
    let _ = e.decrypt(key);
    let _ = e.hash32();
    let _ = e.routing.hlc_is_exact();
    let batch = Envelope::verify_many(&[(e, &pk), (real, &pk), (e, &[0; 32])]);
    assert_eq!(batch[0].is_ok(), verified, "a batch said otherwise");
    assert_eq!(batch[1], Ok(()), "a genuine neighbour was refused");
    assert!(batch[2].is_err());
    let many = Envelope::open_many(&[(real, key, &pk), (e, key, &pk)]);
    assert_eq!(many[0].as_deref(), Ok(CONTENT));
    assert_eq!(many[1].is_ok(), is_genuine);
}

fuzz_target!(|data: &[u8]| {
    if data.first().is_some_and(|m| m % 4 == 2) {
        if let Ok(f) = Fields::arbitrary_take_rest(Unstructured::new(&data[1..])) {
            check(&from_fields(f));
        }
        return;
    }
    let samples: Vec<&[u8]> = genuine().iter().map(|(_, j)| j.as_slice()).collect();
    let bytes = input_from(data, &samples);
    if let Ok(e) = serde_json::from_slice::<Envelope>(&bytes) {
        check(&e);
    }
});
