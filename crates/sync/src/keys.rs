//! Keys: a team's content key for one epoch, and a device's Ed25519 signing identity.

use ring::rand::{SecureRandom, SystemRandom};
use ring::signature::{ED25519, Ed25519KeyPair, KeyPair};
use serde::{Deserialize, Serialize};
use std::fmt;
use zeroize::Zeroizing;

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("the system's random number generator failed")]
    Random,
    #[error("a device key is damaged and cannot be used")]
    BadDeviceKey,
}

/// Which team key sealed an op: the team and the epoch (a new epoch starts when a member
/// leaves).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct KeyId {
    pub team_id: uuid::Uuid,
    pub epoch: u32,
}

/// A team's content key for one epoch: 32 random bytes, wiped when dropped, never printed.
#[derive(Clone)]
pub struct TeamKey {
    pub id: KeyId,
    bytes: Zeroizing<[u8; 32]>,
}

impl TeamKey {
    pub fn generate(id: KeyId) -> Result<Self, KeyError> {
        let mut bytes = Zeroizing::new([0u8; 32]);
        SystemRandom::new()
            .fill(bytes.as_mut())
            .map_err(|_| KeyError::Random)?;
        Ok(TeamKey { id, bytes })
    }

    pub fn from_bytes(id: KeyId, bytes: [u8; 32]) -> Self {
        TeamKey {
            id,
            bytes: Zeroizing::new(bytes),
        }
    }

    pub(crate) fn secret(&self) -> &[u8; 32] {
        &self.bytes
    }

    /// The key's bytes, to keep inside the device's encrypted store. Never log or send them.
    pub fn expose_secret(&self) -> &[u8; 32] {
        &self.bytes
    }
}

impl fmt::Debug for TeamKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TeamKey")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

/// A device's Ed25519 identity: signs every op it seals (and, later, every request).
pub struct DeviceSigningKey {
    pair: Ed25519KeyPair,
    pkcs8: Zeroizing<Vec<u8>>,
}

impl DeviceSigningKey {
    pub fn generate() -> Result<Self, KeyError> {
        let rng = SystemRandom::new();
        let pkcs8 = Ed25519KeyPair::generate_pkcs8(&rng).map_err(|_| KeyError::Random)?;
        Self::from_pkcs8(pkcs8.as_ref())
    }

    /// Load a key saved with [`DeviceSigningKey::pkcs8`].
    pub fn from_pkcs8(pkcs8: &[u8]) -> Result<Self, KeyError> {
        let pair = Ed25519KeyPair::from_pkcs8(pkcs8).map_err(|_| KeyError::BadDeviceKey)?;
        Ok(DeviceSigningKey {
            pair,
            pkcs8: Zeroizing::new(pkcs8.to_vec()),
        })
    }

    /// The private key's PKCS#8 document, to keep inside the encrypted store.
    pub fn pkcs8(&self) -> &[u8] {
        &self.pkcs8
    }

    pub fn public_key(&self) -> [u8; 32] {
        let mut out = [0u8; 32];
        out.copy_from_slice(self.pair.public_key().as_ref());
        out
    }

    pub(crate) fn sign(&self, msg: &[u8]) -> [u8; 64] {
        let mut out = [0u8; 64];
        out.copy_from_slice(self.pair.sign(msg).as_ref());
        out
    }
}

impl fmt::Debug for DeviceSigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeviceSigningKey")
            .field("public", &base64_of(&self.public_key()))
            .finish_non_exhaustive()
    }
}

fn base64_of(b: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD_NO_PAD.encode(b)
}

/// Check an Ed25519 signature by a device's public key, by RFC 8032's strict rule (ring): what
/// the service checks on every request and every pushed op.
pub(crate) fn verify(public_key: &[u8; 32], msg: &[u8], signature: &[u8]) -> bool {
    ring::signature::UnparsedPublicKey::new(&ED25519, public_key)
        .verify(msg, signature)
        .is_ok()
}

/// One op signature to check on a receiving device: (sender's public key, message, signature).
pub(crate) type SignedItem<'a> = (&'a [u8; 32], &'a [u8], &'a [u8]);

/// Check many op signatures at once: whether each is valid, in order.
///
/// A receiving device checks every op it is sent, and checking them one by one was most of an
/// initial sync's time. Batch verification checks a whole page in one multi-scalar
/// multiplication (about 5x fewer cycles per signature on one sender's ops: docs/PERFORMANCE.md).
/// If the batch fails, each signature is checked alone to find the bad ones.
///
/// Every device uses this one rule (ZIP 215, via `ed25519-zebra`, whose batch and single checks
/// agree by construction), so whether an op is accepted never depends on which other ops shared
/// its page, and all devices accept the same ops. The service's rule ([`verify`], RFC 8032
/// strict) accepts a subset of ZIP 215's, so every op the service stored passes here.
pub(crate) fn verify_ops(items: &[SignedItem<'_>]) -> Vec<bool> {
    use ed25519_zebra::{Signature, VerificationKey, VerificationKeyBytes, batch};
    let parsed: Vec<Option<Signature>> = items
        .iter()
        .map(|(_, _, sig)| <[u8; 64]>::try_from(*sig).ok().map(Signature::from))
        .collect();
    let mut verifier = batch::Verifier::new();
    for ((key, msg, _), sig) in items.iter().zip(&parsed) {
        if let Some(sig) = sig {
            verifier.queue((VerificationKeyBytes::from(**key), *sig, *msg));
        }
    }
    if verifier.verify(rand_core::OsRng).is_ok() {
        return parsed.iter().map(Option::is_some).collect();
    }
    items
        .iter()
        .zip(&parsed)
        .map(|((key, msg, _), sig)| {
            sig.is_some_and(|sig| {
                VerificationKey::try_from(**key).is_ok_and(|k| k.verify(&sig, msg).is_ok())
            })
        })
        .collect()
}
