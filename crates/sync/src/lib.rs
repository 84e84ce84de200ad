//! How Wardside's data travels: the op envelope and (as it lands) the wire protocol and the
//! client sync loop.
//!
//! What it owns: sealing an op so that only devices holding the team's epoch key can read it,
//! with every piece of routing metadata bound to the ciphertext and the sending device's
//! signature over all of it; and the request and response types client and server share.
//!
//! What it must never do: put content (a note, a name, a field value) anywhere but inside the
//! ciphertext, or accept an envelope whose metadata, ciphertext or signature does not check.

mod b64;
pub mod codes;
pub mod envelope;
pub mod keys;
pub mod protocol;
pub mod recovery;
pub mod trust;
pub mod wrap;

pub use envelope::{Envelope, OpenError, Routing};
pub use keys::{DeviceSigningKey, KeyId, TeamKey};
