//! What people type and read aloud, and what the service is shown in their place.
//!
//! - **One-time codes** (enrolment): 19 random symbols of Crockford's base 32 and a check symbol,
//!   as five groups of four (`K7QM-2XHD-PW4R-9NTB-EC3J`, 95 random bits). The check symbol says
//!   which kind of code it is, an organisation's first code (made by the service when the
//!   organisation is created) or an invitation (made by an admin's device), and catches most
//!   typing mistakes before anything is sent.
//! - The service never sees an invitation's code: the device sends [`code_token`], and the
//!   service keeps only [`token_hash`] of that. A second key derived from the code proves the
//!   organisation's root key to the new device ([`root_binding`]): the admin's device made it
//!   from the code it showed, the service only relays it and cannot make one for another key.
//! - **Fingerprints** of a device's keys and of the organisation's root key: 80 bits as four
//!   groups of four symbols (`3F9A-21CX-77BE-KD0P`), compared on two screens.

use ring::digest::{Context, SHA256};
use ring::hmac;
use ring::rand::{SecureRandom, SystemRandom};
use uuid::Uuid;

const CROCKFORD: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
const CODE_SYMBOLS: usize = 20;

/// Which kind of one-time code a typed code is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeKind {
    /// An organisation's first code: its first device becomes the organisation's first admin
    /// and its root of trust.
    Organisation,
    /// An admin's invitation to join an organisation that already has a root of trust.
    Invitation,
}

impl CodeKind {
    fn tag(self) -> &'static [u8] {
        match self {
            CodeKind::Organisation => b"wardside/code-check/organisation/v1",
            CodeKind::Invitation => b"wardside/code-check/invitation/v1",
        }
    }
}

/// A typed code, fingerprint or word as it is compared: letters and digits only, upper case,
/// with the letters people confuse read as digits (O as 0, I and L as 1).
pub fn normalise(typed: &str) -> String {
    typed
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| match c.to_ascii_uppercase() {
            'O' => '0',
            'I' | 'L' => '1',
            other => other,
        })
        .collect()
}

/// SHA-256 over the parts in order.
pub(crate) fn sha256(parts: &[&[u8]]) -> [u8; 32] {
    let mut ctx = Context::new(&SHA256);
    for p in parts {
        ctx.update(p);
    }
    let mut out = [0u8; 32];
    out.copy_from_slice(ctx.finish().as_ref());
    out
}

fn check_symbol(kind: CodeKind, body: &str) -> u8 {
    CROCKFORD[usize::from(sha256(&[kind.tag(), body.as_bytes()])[0] % 32)]
}

fn groups(symbols: &str) -> String {
    symbols
        .as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join("-")
}

/// A new one-time code of the given kind. Its check symbol matches its own kind only, so a code
/// is never taken for the other kind.
pub fn new_code(kind: CodeKind) -> Result<String, ring::error::Unspecified> {
    let other = match kind {
        CodeKind::Organisation => CodeKind::Invitation,
        CodeKind::Invitation => CodeKind::Organisation,
    };
    let rng = SystemRandom::new();
    loop {
        let mut bytes = [0u8; CODE_SYMBOLS - 1];
        rng.fill(&mut bytes)?;
        // 256 is a multiple of 32: every symbol equally likely, 5 bits each.
        let body: String = bytes
            .iter()
            .map(|b| char::from(CROCKFORD[usize::from(b % 32)]))
            .collect();
        let check = check_symbol(kind, &body);
        if check == check_symbol(other, &body) {
            continue;
        }
        return Ok(groups(&format!("{body}{}", char::from(check))));
    }
}

/// Which kind of code this is, or `None` if it cannot be a code (a typing mistake, most
/// likely).
pub fn code_kind(typed: &str) -> Option<CodeKind> {
    let n = normalise(typed);
    if n.len() != CODE_SYMBOLS || !n.bytes().all(|b| CROCKFORD.contains(&b)) {
        return None;
    }
    let (body, check) = n.split_at(CODE_SYMBOLS - 1);
    let check = check.as_bytes()[0];
    [CodeKind::Invitation, CodeKind::Organisation]
        .into_iter()
        .find(|k| check_symbol(*k, body) == check)
}

/// What a device sends in place of a code: the service can match it, but cannot derive the
/// code, nor the key that binds the organisation's root to it.
pub fn code_token(typed: &str) -> [u8; 32] {
    sha256(&[b"wardside/enrol-token/v1\n", normalise(typed).as_bytes()])
}

/// What the service stores for a code: a hash of the token (a copy of the service's database
/// cannot be used to enrol).
pub fn token_hash(token: &[u8]) -> Vec<u8> {
    sha256(&[b"wardside/enrol-token-hash/v1\n", token]).to_vec()
}

fn binding_key(typed: &str) -> hmac::Key {
    hmac::Key::new(
        hmac::HMAC_SHA256,
        &sha256(&[
            b"wardside/root-binding-key/v1\n",
            normalise(typed).as_bytes(),
        ]),
    )
}

fn binding_message(org_id: Uuid, root_key: &[u8; 32]) -> Vec<u8> {
    [
        &b"wardside/root-binding/v1\n"[..],
        org_id.as_bytes(),
        &root_key[..],
    ]
    .concat()
}

/// Made by the admin's device with an invitation: proof, for whoever holds the code, that the
/// organisation `org_id`'s root of trust is `root_key`.
pub fn root_binding(typed: &str, org_id: Uuid, root_key: &[u8; 32]) -> Vec<u8> {
    hmac::sign(&binding_key(typed), &binding_message(org_id, root_key))
        .as_ref()
        .to_vec()
}

/// Whether `binding` proves `root_key` for `org_id` to the holder of the code (constant time).
pub fn check_root_binding(typed: &str, org_id: Uuid, root_key: &[u8; 32], binding: &[u8]) -> bool {
    hmac::verify(
        &binding_key(typed),
        &binding_message(org_id, root_key),
        binding,
    )
    .is_ok()
}

fn fingerprint_of(tag: &[u8], parts: &[&[u8]]) -> String {
    let mut all: Vec<&[u8]> = vec![tag];
    all.extend_from_slice(parts);
    let d = sha256(&all);
    // 80 bits: 10 bytes as 16 five-bit symbols.
    let mut bits: u128 = 0;
    for b in &d[..10] {
        bits = (bits << 8) | u128::from(*b);
    }
    let symbols: String = (0..16)
        .rev()
        .map(|i| char::from(CROCKFORD[((bits >> (i * 5)) & 31) as usize]))
        .collect();
    groups(&symbols)
}

/// A device's fingerprint: its two public keys, shown on its screen and compared on the admin's
/// before approving it.
pub fn fingerprint(sign_key: &[u8; 32], box_key: &[u8; 32]) -> String {
    fingerprint_of(b"wardside/fingerprint/v2", &[sign_key, box_key])
}

/// The organisation's fingerprint: its id and root key, shown on every device of it.
pub fn org_fingerprint(org_id: Uuid, root_key: &[u8; 32]) -> String {
    fingerprint_of(
        b"wardside/org-fingerprint/v1",
        &[org_id.as_bytes(), root_key],
    )
}

/// Whether a fingerprint someone typed (any case, with or without dashes) is `actual`. (Not a
/// secret: a plain comparison.)
pub fn same_fingerprint(typed: &str, actual: &str) -> bool {
    normalise(typed) == normalise(actual)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn codes_say_their_kind_and_a_typo_is_caught() {
        for kind in [CodeKind::Organisation, CodeKind::Invitation] {
            for _ in 0..200 {
                let code = new_code(kind).unwrap();
                assert_eq!(code.len(), 24, "{code}");
                assert_eq!(code_kind(&code), Some(kind), "{code}");
                // Typed in lower case with spaces, O for 0 and so on: the same code.
                let typed = code.to_lowercase().replace('-', " ").replace('0', "o");
                assert_eq!(code_kind(&typed), Some(kind));
                assert_eq!(code_token(&typed), code_token(&code));
            }
        }
        // One symbol changed: caught nearly always (a check symbol of 5 bits per kind).
        let mut caught = 0;
        for _ in 0..500 {
            let code = new_code(CodeKind::Invitation).unwrap();
            let mut b = normalise(&code).into_bytes();
            b[3] = if b[3] == b'7' { b'8' } else { b'7' };
            if code_kind(std::str::from_utf8(&b).unwrap()).is_none() {
                caught += 1;
            }
        }
        assert!(caught > 440, "{caught} of 500 typos caught");
        assert_eq!(code_kind("short"), None);
        assert_eq!(code_kind("UUUU-UUUU-UUUU-UUUU-UUUU"), None);
    }

    #[test]
    fn only_the_code_makes_a_binding_and_the_token_does_not_reveal_it() {
        let code = new_code(CodeKind::Invitation).unwrap();
        let org = Uuid::from_u128(7);
        let root = [3u8; 32];
        let b = root_binding(&code, org, &root);
        assert!(check_root_binding(&code, org, &root, &b));
        assert!(check_root_binding(&code.to_lowercase(), org, &root, &b));
        assert!(
            !check_root_binding(&code, org, &[4; 32], &b),
            "another root"
        );
        assert!(
            !check_root_binding(&code, Uuid::from_u128(8), &root, &b),
            "another org"
        );
        let other = new_code(CodeKind::Invitation).unwrap();
        assert!(!check_root_binding(&other, org, &root, &b), "another code");
        // The token and its stored hash are neither the code nor the binding key.
        let token = code_token(&code);
        assert_ne!(token_hash(&token), token.to_vec());
        use base64::Engine;
        let as_text = base64::engine::general_purpose::STANDARD.encode(token);
        assert!(!check_root_binding(&as_text, org, &root, &b));
    }

    #[test]
    fn fingerprints_are_80_bits_readable_and_compared_as_typed() {
        let f = fingerprint(&[1; 32], &[2; 32]);
        assert_eq!(f.len(), 19, "{f}");
        assert_eq!(normalise(&f).len(), 16);
        assert_eq!(f, fingerprint(&[1; 32], &[2; 32]));
        assert_ne!(f, fingerprint(&[1; 32], &[3; 32]));
        assert_ne!(f, fingerprint(&[4; 32], &[2; 32]));
        assert!(same_fingerprint(&f.to_lowercase().replace('-', " "), &f));
        assert!(!same_fingerprint(&f[..14], &f));
        let o = org_fingerprint(Uuid::from_u128(1), &[1; 32]);
        assert_ne!(o, fingerprint(&[1; 32], &[2; 32]));
        assert_eq!(o.len(), 19);
    }
}
