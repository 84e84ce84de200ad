//! Team keys wrapped to one recipient's static X25519 key (a device, or the organisation's
//! recovery key): an ephemeral X25519 agreement, HKDF-SHA256 bound to the key id and the
//! recipient, and AES-256-GCM over the 32 key bytes. The server stores wraps; it cannot open
//! them.

use crate::keys::{KeyId, TeamKey};
use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::hkdf::{HKDF_SHA256, Salt};
use ring::rand::{SecureRandom, SystemRandom};
use serde::{Deserialize, Serialize};
use std::fmt;
use uuid::Uuid;
use x25519_dalek::{PublicKey, StaticSecret};

const INFO: &[u8] = b"wardside/tk-wrap/v1";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WrapError {
    #[error("the system's random number generator failed")]
    Random,
    #[error("the recipient's public key is not usable (a low-order point)")]
    BadRecipient,
    #[error("this wrapped key is not for this recipient, or it was altered")]
    CannotUnwrap,
}

/// A device's (or the recovery key's) X25519 secret, wiped when dropped, never printed.
pub struct BoxSecret(StaticSecret);

impl BoxSecret {
    pub fn generate() -> Result<Self, WrapError> {
        let mut bytes = [0u8; 32];
        SystemRandom::new()
            .fill(&mut bytes)
            .map_err(|_| WrapError::Random)?;
        Ok(BoxSecret(StaticSecret::from(bytes)))
    }

    /// Load the bytes saved with [`BoxSecret::to_bytes`] (kept inside the encrypted store).
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        BoxSecret(StaticSecret::from(bytes))
    }

    pub fn to_bytes(&self) -> [u8; 32] {
        self.0.to_bytes()
    }

    pub fn public_key(&self) -> [u8; 32] {
        PublicKey::from(&self.0).to_bytes()
    }
}

impl fmt::Debug for BoxSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BoxSecret").finish_non_exhaustive()
    }
}

/// A team key sealed for one recipient.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WrappedKey {
    pub kid: KeyId,
    /// The device id, or the organisation id for the recovery key.
    pub recipient: Uuid,
    pub ephemeral: [u8; 32],
    pub nonce: [u8; NONCE_LEN],
    pub ciphertext: Vec<u8>,
}

fn aad(kid: &KeyId, recipient: &Uuid) -> Vec<u8> {
    let mut out = Vec::with_capacity(64);
    out.extend_from_slice(INFO);
    out.extend_from_slice(kid.team_id.as_bytes());
    out.extend_from_slice(&kid.epoch.to_be_bytes());
    out.extend_from_slice(recipient.as_bytes());
    out
}

fn wrap_key(
    shared: &[u8; 32],
    ephemeral: &[u8; 32],
    recipient_pub: &[u8; 32],
    aad: &[u8],
) -> LessSafeKey {
    let salt = [&ephemeral[..], &recipient_pub[..]].concat();
    let prk = Salt::new(HKDF_SHA256, &salt).extract(shared);
    let info = [aad];
    let okm = prk
        .expand(&info, &AES_256_GCM)
        .expect("32 bytes are within HKDF-SHA256's output limit");
    LessSafeKey::new(UnboundKey::from(okm))
}

/// Seal `key` for the holder of `recipient_pub`, known to the organisation as `recipient`.
pub fn wrap(
    key: &TeamKey,
    recipient: Uuid,
    recipient_pub: &[u8; 32],
) -> Result<WrappedKey, WrapError> {
    let eph = BoxSecret::generate()?;
    let ephemeral = eph.public_key();
    let shared = eph.0.diffie_hellman(&PublicKey::from(*recipient_pub));
    if !shared.was_contributory() {
        return Err(WrapError::BadRecipient);
    }
    let aad = aad(&key.id, &recipient);
    let mut nonce = [0u8; NONCE_LEN];
    SystemRandom::new()
        .fill(&mut nonce)
        .map_err(|_| WrapError::Random)?;
    let mut ciphertext = key.secret().to_vec();
    wrap_key(shared.as_bytes(), &ephemeral, recipient_pub, &aad)
        .seal_in_place_append_tag(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(&aad[..]),
            &mut ciphertext,
        )
        .map_err(|_| WrapError::Random)?;
    Ok(WrappedKey {
        kid: key.id,
        recipient,
        ephemeral,
        nonce,
        ciphertext,
    })
}

/// Open a wrapped key with the recipient's secret.
pub fn unwrap(
    wrapped: &WrappedKey,
    recipient: Uuid,
    secret: &BoxSecret,
) -> Result<TeamKey, WrapError> {
    if wrapped.recipient != recipient {
        return Err(WrapError::CannotUnwrap);
    }
    let shared = secret.0.diffie_hellman(&PublicKey::from(wrapped.ephemeral));
    if !shared.was_contributory() {
        return Err(WrapError::CannotUnwrap);
    }
    let aad = aad(&wrapped.kid, &recipient);
    let mut buf = wrapped.ciphertext.clone();
    let plain = wrap_key(
        shared.as_bytes(),
        &wrapped.ephemeral,
        &secret.public_key(),
        &aad,
    )
    .open_in_place(
        Nonce::assume_unique_for_key(wrapped.nonce),
        Aad::from(&aad[..]),
        &mut buf,
    )
    .map_err(|_| WrapError::CannotUnwrap)?;
    let bytes: [u8; 32] = plain.try_into().map_err(|_| WrapError::CannotUnwrap)?;
    Ok(TeamKey::from_bytes(wrapped.kid, bytes))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::envelope::{Envelope, Routing};
    use crate::keys::DeviceSigningKey;

    fn kid(epoch: u32) -> KeyId {
        KeyId {
            team_id: Uuid::from_bytes([2; 16]),
            epoch,
        }
    }

    #[test]
    fn a_wrapped_team_key_opens_only_for_its_recipient_and_opens_the_teams_ops() {
        let laptop = Uuid::new_v4();
        let secret = BoxSecret::generate().unwrap();
        let team = TeamKey::generate(kid(1)).unwrap();
        let w = wrap(&team, laptop, &secret.public_key()).unwrap();
        let opened = unwrap(&w, laptop, &secret).unwrap();

        // The unwrapped key opens what the original sealed.
        let device = DeviceSigningKey::generate().unwrap();
        let routing = Routing {
            org_id: Uuid::new_v4(),
            team_id: team.id.team_id,
            case_id: None,
            entity: "note".into(),
            entity_id: Uuid::new_v4(),
            op_id: Uuid::new_v4(),
            device_id: Uuid::new_v4(),
            device_seq: 1,
            hlc: "0001764064800000-0000-x".into(),
            kid: team.id,
            schema_v: 1,
            chain: None,
        };
        let env = Envelope::seal(routing, b"note", &team, &device).unwrap();
        assert_eq!(env.open(&opened, &device.public_key()).unwrap(), b"note");

        // Another device's secret, another recipient id, or an altered key id: refused.
        let other = BoxSecret::generate().unwrap();
        assert_eq!(
            unwrap(&w, laptop, &other).unwrap_err(),
            WrapError::CannotUnwrap
        );
        assert_eq!(
            unwrap(&w, Uuid::new_v4(), &secret).unwrap_err(),
            WrapError::CannotUnwrap
        );
        let mut moved = w.clone();
        moved.recipient = Uuid::new_v4();
        assert_eq!(
            unwrap(&moved, moved.recipient, &secret).unwrap_err(),
            WrapError::CannotUnwrap
        );
        let mut relabelled = w.clone();
        relabelled.kid = kid(2);
        assert_eq!(
            unwrap(&relabelled, laptop, &secret).unwrap_err(),
            WrapError::CannotUnwrap
        );
        // The wrap does not contain the key.
        let json = serde_json::to_string(&w).unwrap();
        assert!(!json.contains("secret"));
    }

    #[test]
    fn a_low_order_recipient_key_is_refused_and_a_secret_survives_saving() {
        let team = TeamKey::generate(kid(1)).unwrap();
        assert_eq!(
            wrap(&team, Uuid::new_v4(), &[0u8; 32]).unwrap_err(),
            WrapError::BadRecipient
        );
        let secret = BoxSecret::generate().unwrap();
        let again = BoxSecret::from_bytes(secret.to_bytes());
        assert_eq!(secret.public_key(), again.public_key());
        assert_eq!(format!("{secret:?}"), "BoxSecret { .. }");
    }
}
