//! Request signatures: headers made of anything are refused at any server time (i64's edges
//! included), and a genuine signature checks exactly when its time is within the window.
#![no_main]

use arbitrary::{Arbitrary, Unstructured};
use libfuzzer_sys::fuzz_target;
use uuid::Uuid;
use wardside_fuzz::sender;
use wardside_sync::protocol::{
    REQUEST_WINDOW_SECS, RequestAuthError, RequestSigner, SignedHeaders, verify_request,
};

#[derive(Debug, Arbitrary)]
struct Input {
    device: String,
    time: String,
    nonce: String,
    signature: String,
    method: String,
    path: String,
    body: Vec<u8>,
    now: i64,
    sent: i64,
    near: Option<i32>,
    pk: [u8; 32],
}

fuzz_target!(|data: &[u8]| {
    let Ok(i) = Input::arbitrary_take_rest(Unstructured::new(data)) else {
        return;
    };
    let pk = sender().sign.public_key();
    let h = SignedHeaders {
        device: i.device,
        time: i.time,
        nonce: i.nonce.clone(),
        signature: i.signature,
    };
    assert!(verify_request(&i.pk, &i.method, &i.path, &i.body, &h, i.now).is_err());
    assert!(verify_request(&pk, &i.method, &i.path, &i.body, &h, i.now).is_err());

    let device_id = Uuid::from_u128(2);
    let signer = RequestSigner {
        device_id,
        key: &sender().sign,
    };
    let nonce: String = i
        .nonce
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .take(64)
        .collect();
    let nonce = if nonce.is_empty() { "n".into() } else { nonce };
    let h = signer.sign(&i.method, &i.path, &i.body, i.sent, &nonce);
    let now = i
        .near
        .map_or(i.now, |d| i.sent.saturating_add(i64::from(d)));
    let within =
        (i128::from(now) - i128::from(i.sent)).abs() <= i128::from(REQUEST_WINDOW_SECS) * 1000;
    let r = verify_request(&pk, &i.method, &i.path, &i.body, &h, now);
    if within {
        assert_eq!(r, Ok(device_id));
    } else {
        assert_eq!(r, Err(RequestAuthError::OutsideWindow));
    }
});
