//! One-time enrolment codes. The code itself is made by [`wardside_sync::codes`] (an
//! organisation's first code here, invitations on an admin's device); the service stores only
//! the hash of the token a device sends in its place.

/// How long a code stays usable.
pub const CODE_LIFETIME_MS: i64 = 7 * 24 * 60 * 60 * 1000;

/// What the service stores for a code typed into a device.
pub fn stored_hash(code: &str) -> Vec<u8> {
    let token = wardside_sync::codes::code_token(code);
    wardside_sync::codes::token_hash(&token)
}
