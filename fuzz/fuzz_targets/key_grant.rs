//! Key grants and wrapped keys: JSON (any bytes, or the genuine grant edited) and grants of
//! arbitrary fields, through `TrustState::check_grant`, `wrap::unwrap` and `check_key`. Only the
//! genuine grant may pass, and only the announced key may come out.
#![no_main]

use arbitrary::{Arbitrary, Unstructured};
use libfuzzer_sys::fuzz_target;
use uuid::Uuid;
use wardside_fuzz::{input_from, org, pool};
use wardside_sync::KeyId;
use wardside_sync::protocol::{KeyGrant, KeyGrants};
use wardside_sync::wrap::{WrappedKey, unwrap};

#[derive(Debug, Arbitrary)]
struct Fields {
    team: u128,
    epoch: u32,
    recipient: u128,
    ephemeral: [u8; 32],
    /// Use device 2's own public key as the ephemeral key.
    mirror: bool,
    nonce: [u8; 12],
    ciphertext: Vec<u8>,
    announced_key_id: bool,
    key_id: [u8; 32],
    signer: u128,
    signature: Vec<u8>,
}

fn check(g: &KeyGrant) {
    let o = org();
    let b = &pool()[1];
    if o.state.check_grant(g, b.id).is_ok() {
        assert_eq!(
            g, &o.grant,
            "a grant other than the genuine one was accepted"
        );
    }
    for d in pool() {
        if let Ok(k) = unwrap(&g.wrap, d.id, &d.boxs) {
            assert_eq!(d.id, b.id, "unwrapped by another device");
            assert_eq!(k.id, o.key.id);
            assert_eq!(k.expose_secret(), o.key.expose_secret());
            assert!(o.state.check_key(&k).is_ok());
        }
    }
}

fuzz_target!(|data: &[u8]| {
    if data.first().is_some_and(|m| m % 4 == 2) {
        let Ok(f) = Fields::arbitrary_take_rest(Unstructured::new(&data[1..])) else {
            return;
        };
        let small = |n: u128| Uuid::from_u128(n % 8);
        let g = KeyGrant {
            wrap: WrappedKey {
                kid: KeyId {
                    team_id: small(f.team),
                    epoch: f.epoch % 4,
                },
                recipient: small(f.recipient),
                ephemeral: if f.mirror {
                    pool()[1].boxs.public_key()
                } else {
                    f.ephemeral
                },
                nonce: f.nonce,
                ciphertext: f.ciphertext,
            },
            key_id: if f.announced_key_id {
                org().grant.key_id
            } else {
                f.key_id
            },
            signer: small(f.signer),
            signature: f.signature,
        };
        check(&g);
        return;
    }
    let bytes = input_from(data, &[&org().grant_json]);
    if let Ok(g) = serde_json::from_slice::<KeyGrant>(&bytes) {
        check(&g);
    }
    if let Ok(gs) = serde_json::from_slice::<KeyGrants>(&bytes) {
        gs.grants.iter().for_each(check);
    }
});
