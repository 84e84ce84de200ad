//! The organisation's recovery key: the secret behind the 24 recovery words, and what it can do
//! when every admin laptop is lost.
//!
//! One 32-byte secret gives two keys:
//!
//! - an X25519 key (the secret itself, as before): every team key of every epoch is wrapped to
//!   its public half, which the genesis names;
//! - an Ed25519 signing key derived from it (HKDF-SHA256 with its own label, so neither key says
//!   anything about the other): it signs the log's [`Body::Recover`] statement that makes a new
//!   laptop an admin, and it *endorses* the organisation's root key ([`RecoverySigner`]), which
//!   is how a new laptop holding only the words tells the real log from one a service made up
//!   (anyone can copy public keys into a log of their own; only the words' holder can endorse a
//!   root).
//!
//! The words never leave the laptop they are typed on; the service sees public keys and
//! signatures only. This module also holds the wire types of a recovery (`/v1/recover`).
//!
//! [`Body::Recover`]: crate::trust::Body::Recover

use crate::keys::{DeviceSigningKey, KeyError, verify};
use crate::trust::{SignedStatement, Statement};
use crate::wrap::BoxSecret;
use ring::hkdf::{HKDF_SHA256, Salt};
use ring::rand::{SecureRandom, SystemRandom};
use ring::signature::{Ed25519KeyPair, KeyPair};
use serde::{Deserialize, Serialize};
use std::fmt;
use uuid::Uuid;
use zeroize::Zeroizing;

const SIGN_SALT: &[u8] = b"wardside/recovery-sign/v1";
const SIGN_INFO: &[u8] = b"ed25519 seed";
const ENDORSE_TAG: &[u8] = b"wardside/recovery-endorses-root/v1";
const PROOF_TAG: &[u8] = b"wardside/recover-device-proof/v1";

/// The secret behind the recovery words: wiped when dropped, never printed.
pub struct RecoverySecret(Zeroizing<[u8; 32]>);

impl fmt::Debug for RecoverySecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RecoverySecret(..)")
    }
}

impl RecoverySecret {
    pub fn generate() -> Result<Self, KeyError> {
        let mut bytes = Zeroizing::new([0u8; 32]);
        SystemRandom::new()
            .fill(bytes.as_mut())
            .map_err(|_| KeyError::Random)?;
        Ok(RecoverySecret(bytes))
    }

    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        RecoverySecret(Zeroizing::new(bytes))
    }

    /// The secret's bytes, to turn into words. Never log, keep or send them.
    pub fn expose_secret(&self) -> &[u8; 32] {
        &self.0
    }

    /// The X25519 secret team keys are wrapped to.
    pub fn box_secret(&self) -> BoxSecret {
        BoxSecret::from_bytes(*self.0)
    }

    /// What the genesis names as `recovery_key`.
    pub fn box_public(&self) -> [u8; 32] {
        self.box_secret().public_key()
    }

    fn signing_pair(&self) -> Ed25519KeyPair {
        let mut seed = Zeroizing::new([0u8; 32]);
        let info = [SIGN_INFO];
        Salt::new(HKDF_SHA256, SIGN_SALT)
            .extract(self.0.as_ref())
            .expand(&info, HKDF_SHA256)
            .and_then(|okm| okm.fill(seed.as_mut()))
            .expect("32 bytes are within HKDF-SHA256's output limit");
        Ed25519KeyPair::from_seed_unchecked(seed.as_ref())
            .expect("any 32 bytes are an Ed25519 seed")
    }

    /// The public half of the signing key derived from the words.
    pub fn sign_public(&self) -> [u8; 32] {
        let mut out = [0u8; 32];
        out.copy_from_slice(self.signing_pair().public_key().as_ref());
        out
    }

    pub(crate) fn sign(&self, msg: &[u8]) -> Vec<u8> {
        self.signing_pair().sign(msg).as_ref().to_vec()
    }

    /// Endorse the organisation's root key: what an admin publishes in the log
    /// ([`crate::trust::Body::RecoverySigner`]) so that the words can later prove the log.
    pub fn endorse(&self, org_id: Uuid, root_sign_key: &[u8; 32]) -> RecoverySigner {
        let sign_key = self.sign_public();
        let msg = endorse_message(org_id, root_sign_key, &self.box_public(), &sign_key);
        RecoverySigner {
            sign_key,
            endorsement: self.sign(&msg),
        }
    }
}

/// The recovery key's signing key, as the log names it, with its endorsement of the
/// organisation's root.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecoverySigner {
    /// Ed25519: checks a [`crate::trust::Body::Recover`] statement.
    #[serde(with = "crate::b64::arr32")]
    pub sign_key: [u8; 32],
    /// Its signature over the organisation's id, root key and recovery (X25519) key.
    #[serde(with = "crate::b64::vec")]
    pub endorsement: Vec<u8>,
}

fn endorse_message(
    org_id: Uuid,
    root_sign_key: &[u8; 32],
    recovery_key: &[u8; 32],
    sign_key: &[u8; 32],
) -> Vec<u8> {
    [
        ENDORSE_TAG,
        org_id.as_bytes(),
        root_sign_key,
        recovery_key,
        sign_key,
    ]
    .concat()
}

impl RecoverySigner {
    /// Whether the words' holder endorsed this root for this organisation and recovery key.
    pub fn endorses(
        &self,
        org_id: Uuid,
        root_sign_key: &[u8; 32],
        recovery_key: &[u8; 32],
    ) -> bool {
        verify(
            &self.sign_key,
            &endorse_message(org_id, root_sign_key, recovery_key, &self.sign_key),
            &self.endorsement,
        )
    }
}

impl Statement {
    /// Sign as the organisation's recovery key (only a [`crate::trust::Body::Recover`], whose
    /// author is the organisation's id, is accepted so).
    pub fn sign_as_recovery(self, key: &RecoverySecret) -> SignedStatement {
        let signature = key.sign(&crate::trust::signed_message(&self.hash()));
        SignedStatement {
            statement: self,
            signature,
        }
    }
}

/// A laptop asks for the log of the organisation whose genesis names this recovery key
/// (`POST /v1/recover/log`, unsigned: the laptop has no identity yet).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecoveryLookup {
    #[serde(with = "crate::b64::arr32")]
    pub recovery_key: [u8; 32],
}

/// The service's answer: the organisation and its whole trust log (a hint: the laptop checks
/// it against the words).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecoveryLog {
    pub org_id: Uuid,
    pub statements: Vec<SignedStatement>,
}

/// A new laptop presents its recovery (`POST /v1/recover`, unsigned): the
/// [`crate::trust::Body::Recover`] statement the recovery key signed, and the laptop's proof
/// that it holds the signing key the statement names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecoverRequest {
    pub statement: SignedStatement,
    #[serde(with = "crate::b64::vec")]
    pub proof: Vec<u8>,
}

/// The service's answer to a recovery it accepted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recovered {
    pub org_id: Uuid,
    pub device_id: Uuid,
    pub seq: u64,
}

fn proof_message(statement: &Statement) -> Vec<u8> {
    [PROOF_TAG, &statement.hash()[..]].concat()
}

/// The new device's signature over the recovery statement that names it.
pub fn recover_proof(device_key: &DeviceSigningKey, statement: &Statement) -> Vec<u8> {
    device_key.sign(&proof_message(statement)).to_vec()
}

/// Whether `proof` is the named device's signature over the recovery statement.
pub fn check_recover_proof(
    device_sign_key: &[u8; 32],
    statement: &Statement,
    proof: &[u8],
) -> bool {
    verify(device_sign_key, &proof_message(statement), proof)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_words_give_the_same_two_keys_every_time_and_each_endorsement_binds_its_root() {
        let secret = RecoverySecret::generate().unwrap();
        let again = RecoverySecret::from_bytes(*secret.expose_secret());
        assert_eq!(secret.sign_public(), again.sign_public());
        assert_eq!(secret.box_public(), again.box_public());
        assert_ne!(secret.sign_public(), secret.box_public());
        // Pinned: changing the derivation would orphan every organisation's recovery.
        let fixed = RecoverySecret::from_bytes([7; 32]);
        let hex: String = fixed
            .sign_public()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(hex, PINNED_SIGN_PUBLIC);

        let org = Uuid::from_u128(1);
        let root = [9; 32];
        let signer = secret.endorse(org, &root);
        assert!(signer.endorses(org, &root, &secret.box_public()));
        assert!(!signer.endorses(org, &[8; 32], &secret.box_public()));
        assert!(!signer.endorses(Uuid::from_u128(2), &root, &secret.box_public()));
        assert!(!signer.endorses(org, &root, &[1; 32]));
        let other = RecoverySecret::generate().unwrap();
        let mut forged = other.endorse(org, &root);
        forged.sign_key = signer.sign_key;
        assert!(!forged.endorses(org, &root, &secret.box_public()));
        assert_eq!(format!("{secret:?}"), "RecoverySecret(..)");
    }

    const PINNED_SIGN_PUBLIC: &str =
        "5ee0f26b09d42ac3f1196fdc97fc880e22a14ebf393b26d7d23da97519a250e0";
}
