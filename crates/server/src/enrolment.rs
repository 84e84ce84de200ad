//! One-time enrolment codes: 100 random bits in Crockford's base 32 (no I, L, O or U; typed
//! O, I and L are read as 0, 1 and 1), as five groups of four. Only a code's SHA-256 is stored.

use ring::rand::{SecureRandom, SystemRandom};

const CROCKFORD: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// How long an invitation code stays usable.
pub const CODE_LIFETIME_MS: i64 = 7 * 24 * 60 * 60 * 1000;

/// A new code, e.g. `K7QM-2XHD-PW4R-9NTB-EC3J`.
pub fn new_code() -> Result<String, ring::error::Unspecified> {
    let mut bytes = [0u8; 20];
    SystemRandom::new().fill(&mut bytes)?;
    // 256 is a multiple of 32: every symbol equally likely, 5 bits each.
    let chars: Vec<char> = bytes
        .iter()
        .map(|b| char::from(CROCKFORD[usize::from(b % 32)]))
        .collect();
    Ok(chars
        .chunks(4)
        .map(|c| c.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join("-"))
}

/// The stored form of a code as typed: case, spaces and dashes do not matter.
pub fn code_hash(typed: &str) -> Vec<u8> {
    let normal: String = typed
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| match c.to_ascii_uppercase() {
            'O' => '0',
            'I' | 'L' => '1',
            other => other,
        })
        .collect();
    wardside_sync::envelope::sha256(normal.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_readable_and_typed_forms_match() {
        let code = new_code().unwrap_or_default();
        assert_eq!(code.len(), 24);
        assert!(code.chars().all(|c| c == '-' || c.is_ascii_alphanumeric()));
        assert!(!code.contains(['O', 'I', 'L', 'U']));
        assert_eq!(
            code_hash(&code),
            code_hash(&code.to_lowercase().replace('-', " "))
        );
        assert_eq!(code_hash("AB01-0000"), code_hash("abol oooo"));
        assert_ne!(new_code().unwrap_or_default(), code);
    }
}
