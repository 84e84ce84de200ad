//! The op envelope: one op's content sealed for the team, with its routing metadata in the
//! clear (the server needs it to route and to authorise) but bound to the ciphertext, and the
//! sending device's signature over both.
//!
//! - Per-op key: `HKDF-SHA256(salt = op_id, ikm = team epoch key, info = "wardside/op-key/v1")`,
//!   so every key seals exactly one message.
//! - AES-256-GCM with a random 96-bit nonce; associated data = [`Routing::aad`], a byte-pinned
//!   canonical encoding of every routing field (a test pins the bytes). The server cannot move,
//!   re-time, re-number or re-route a ciphertext without opening failing.
//! - `content_hash = SHA-256(aad || nonce || ciphertext)`: what the server compares to tell a
//!   duplicate push from a conflicting one, and what the device signs (Ed25519).
//! - **Each device's ops form a hash chain per team** ([`ChainLink`], in the associated data
//!   from version 2): op `n` of a device in a team names the content hash of its op `n - 1`
//!   there. A service that drops, reorders or replaces one of a device's ops leaves a link that
//!   any other device can see is broken or missing.
//! - The HLC has one exact form, `WWWWWWWWWWWWWWWW-CCCC-DDDDDDDDDDDDDDDD` (16 decimal digits of
//!   wall-clock milliseconds, 4 hex digits of counter, the first 16 hex digits of the device id),
//!   checked by the service and by every device ([`parse_hlc`]); any other text is refused.

use crate::keys::{DeviceSigningKey, KeyId, SignedItem, TeamKey, verify, verify_ops};
use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::digest::{SHA256, digest};
use ring::hkdf::{HKDF_SHA256, Salt};
use ring::rand::{SecureRandom, SystemRandom};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The version tag at the start of the associated data. A new encoding gets a new tag: v1 has
/// no chain link (kept so frozen v1 ops still open); v2 adds it.
const AAD_TAG: &[u8] = b"wardside/op-aad/v1";
const AAD_TAG_V2: &[u8] = b"wardside/op-aad/v2";
const KEY_INFO: &[u8] = b"wardside/op-key/v1";
const SIG_TAG: &[u8] = b"wardside/op-sig/v1";

/// The largest op content sealed in one envelope (a long note is ~30 KB; the store's limit for
/// one note is 256 KB).
pub const MAX_CONTENT_BYTES: usize = 1024 * 1024;

/// Routing metadata: everything the server may see. Ids are random UUIDs; `entity` is a kind
/// name ("note", "case"...); `hlc` orders ops. Never content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Routing {
    pub org_id: Uuid,
    pub team_id: Uuid,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub case_id: Option<Uuid>,
    pub entity: String,
    pub entity_id: Uuid,
    pub op_id: Uuid,
    pub device_id: Uuid,
    pub device_seq: u64,
    pub hlc: String,
    pub kid: KeyId,
    pub schema_v: u32,
    /// Where the op stands in its device's chain of ops in this team. Every op made since
    /// version 2 has one; devices apply none without it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chain: Option<ChainLink>,
}

/// An op's place in its device's hash chain of ops in one team.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChainLink {
    /// 1 for the device's first op in the team, then one more each time.
    pub seq: u64,
    /// The content hash of the device's op `seq - 1` in the team (zeros for the first).
    #[serde(with = "crate::b64::arr32")]
    pub prev: [u8; 32],
}

/// The last millisecond of year 9999 (9999-12-31T23:59:59.999Z): no HLC's wall clock is later.
pub const MAX_HLC_WALL_MS: u64 = 253_402_300_799_999;

/// An HLC in its one exact form, decoded: (wall-clock ms, counter, device part). `None` for any
/// other text (unpadded, upper case, extra parts, a wall clock past year 9999).
pub fn parse_hlc(hlc: &str) -> Option<(u64, u16, &str)> {
    let b = hlc.as_bytes();
    if b.len() != 16 + 1 + 4 + 1 + 16 || b[16] != b'-' || b[21] != b'-' {
        return None;
    }
    let digits = |s: &[u8]| s.iter().all(u8::is_ascii_digit);
    let hex = |s: &[u8]| s.iter().all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f'));
    if !digits(&b[..16]) || !hex(&b[17..21]) || !hex(&b[22..]) {
        return None;
    }
    let wall = hlc[..16].parse().ok().filter(|w| *w <= MAX_HLC_WALL_MS)?;
    let counter = u16::from_str_radix(&hlc[17..21], 16).ok()?;
    Some((wall, counter, &hlc[22..]))
}

/// The device part of every HLC `device` stamps.
pub fn hlc_device_part(device: &Uuid) -> String {
    device.simple().to_string()[..16].to_owned()
}

fn field(out: &mut Vec<u8>, tag: u8, bytes: &[u8]) {
    out.push(tag);
    // Lengths are bounded by the request limits long before u32 overflows; saturate anyway.
    out.extend_from_slice(&u32::try_from(bytes.len()).unwrap_or(u32::MAX).to_be_bytes());
    out.extend_from_slice(bytes);
}

impl Routing {
    /// The canonical bytes bound to the ciphertext as AEAD associated data: a version tag, then
    /// each field as `tag (1 byte) || length (u32, big-endian) || bytes`, in this fixed order.
    /// UUIDs are their 16 bytes, integers big-endian, text UTF-8; an absent case id is empty.
    ///
    /// Version 2 (an op with a chain link) uses its own tag and adds the link's sequence (13, a
    /// u64) and previous hash (14, 32 bytes) at the end.
    pub fn aad(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(320);
        out.extend_from_slice(if self.chain.is_some() {
            AAD_TAG_V2
        } else {
            AAD_TAG
        });
        field(&mut out, 1, self.org_id.as_bytes());
        field(&mut out, 2, self.team_id.as_bytes());
        field(
            &mut out,
            3,
            self.case_id.as_ref().map_or(&[][..], |c| c.as_bytes()),
        );
        field(&mut out, 4, self.entity.as_bytes());
        field(&mut out, 5, self.entity_id.as_bytes());
        field(&mut out, 6, self.op_id.as_bytes());
        field(&mut out, 7, self.device_id.as_bytes());
        field(&mut out, 8, &self.device_seq.to_be_bytes());
        field(&mut out, 9, self.hlc.as_bytes());
        field(&mut out, 10, self.kid.team_id.as_bytes());
        field(&mut out, 11, &self.kid.epoch.to_be_bytes());
        field(&mut out, 12, &self.schema_v.to_be_bytes());
        if let Some(c) = &self.chain {
            field(&mut out, 13, &c.seq.to_be_bytes());
            field(&mut out, 14, &c.prev);
        }
        out
    }

    /// Whether the HLC is in its exact form and names this op's device.
    pub fn hlc_is_exact(&self) -> bool {
        parse_hlc(&self.hlc).is_some_and(|(_, _, d)| d == hlc_device_part(&self.device_id))
    }
}

/// A sealed op as it travels and as the server stores it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Envelope {
    #[serde(flatten)]
    pub routing: Routing,
    #[serde(with = "crate::b64::vec")]
    pub nonce: Vec<u8>,
    #[serde(with = "crate::b64::vec")]
    pub ciphertext: Vec<u8>,
    #[serde(with = "crate::b64::vec")]
    pub content_hash: Vec<u8>,
    #[serde(with = "crate::b64::vec")]
    pub signature: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SealError {
    #[error("the op is {0} bytes; the most one op may carry is {MAX_CONTENT_BYTES}")]
    TooLarge(usize),
    #[error("the key is for team {key} but the op is routed to team {routed}")]
    TeamMismatch { key: Uuid, routed: Uuid },
    #[error("the system's random number generator failed")]
    Random,
}

/// Why an envelope was refused. None of these is retryable with the same bytes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OpenError {
    #[error("sealed with key {wanted:?}, which this device does not have")]
    NoKey { wanted: KeyId },
    #[error("the envelope is malformed: {0}")]
    Malformed(&'static str),
    #[error("the content hash does not match the envelope: it was altered")]
    HashMismatch,
    #[error("the signature is not the sending device's")]
    BadSignature,
    #[error("the ciphertext or its routing metadata was altered")]
    Tampered,
}

fn op_key(team_key: &TeamKey, op_id: &Uuid) -> LessSafeKey {
    let prk = Salt::new(HKDF_SHA256, op_id.as_bytes()).extract(team_key.secret());
    // Expanding 32 bytes from HKDF-SHA256 cannot fail (the limit is 255 * 32).
    let okm = prk
        .expand(&[KEY_INFO], &AES_256_GCM)
        .expect("32 bytes are within HKDF-SHA256's output limit");
    LessSafeKey::new(UnboundKey::from(okm))
}

fn content_hash(aad: &[u8], nonce: &[u8], ciphertext: &[u8]) -> Vec<u8> {
    let mut ctx = ring::digest::Context::new(&SHA256);
    ctx.update(aad);
    ctx.update(nonce);
    ctx.update(ciphertext);
    ctx.finish().as_ref().to_vec()
}

fn signed_message(hash: &[u8]) -> Vec<u8> {
    [SIG_TAG, hash].concat()
}

/// A new random nonce for [`Envelope::seal_with_nonce`].
pub fn new_nonce() -> Result<[u8; NONCE_LEN], SealError> {
    let mut nonce = [0u8; NONCE_LEN];
    SystemRandom::new()
        .fill(&mut nonce)
        .map_err(|_| SealError::Random)?;
    Ok(nonce)
}

impl Envelope {
    /// Seal `content` (the op's kind, field and payload, serialised by the caller) for the
    /// team, and sign it as `device`.
    pub fn seal(
        routing: Routing,
        content: &[u8],
        team_key: &TeamKey,
        device: &DeviceSigningKey,
    ) -> Result<Envelope, SealError> {
        Self::seal_with_nonce(routing, content, team_key, device, new_nonce()?)
    }

    /// Seal again exactly what was sealed before (the same routing, content and nonce give the
    /// same bytes: the per-op key, AES-GCM and Ed25519 are all deterministic). A device re-sends
    /// its ops this way, so an op the service lost comes back with the same content hash, which
    /// its next op's chain link names. Never call this with a nonce used for other routing or
    /// content: use [`Envelope::seal`], which draws a new one.
    pub fn seal_with_nonce(
        routing: Routing,
        content: &[u8],
        team_key: &TeamKey,
        device: &DeviceSigningKey,
        nonce: [u8; NONCE_LEN],
    ) -> Result<Envelope, SealError> {
        let mut env = Self::seal_unsigned(routing, content, team_key, nonce)?;
        env.sign(device);
        Ok(env)
    }

    /// [`Envelope::seal_with_nonce`] without the signature: the content hash (which the next
    /// op's chain link names) is known at once, and the signatures of a batch can be made on
    /// several cores ([`Envelope::sign`]). Not valid until signed.
    pub fn seal_unsigned(
        routing: Routing,
        content: &[u8],
        team_key: &TeamKey,
        nonce: [u8; NONCE_LEN],
    ) -> Result<Envelope, SealError> {
        if content.len() > MAX_CONTENT_BYTES {
            return Err(SealError::TooLarge(content.len()));
        }
        if routing.kid != team_key.id || routing.team_id != team_key.id.team_id {
            return Err(SealError::TeamMismatch {
                key: team_key.id.team_id,
                routed: routing.team_id,
            });
        }
        let aad = routing.aad();
        let mut ciphertext = content.to_vec();
        op_key(team_key, &routing.op_id)
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(&aad[..]),
                &mut ciphertext,
            )
            .map_err(|_| SealError::TooLarge(content.len()))?;
        let content_hash = content_hash(&aad, &nonce, &ciphertext);
        Ok(Envelope {
            routing,
            nonce: nonce.to_vec(),
            ciphertext,
            content_hash,
            signature: Vec::new(),
        })
    }

    /// Sign the content hash as `device` (Ed25519 is deterministic: the same bytes each time).
    pub fn sign(&mut self, device: &DeviceSigningKey) {
        self.signature = device.sign(&signed_message(&self.content_hash)).to_vec();
    }

    /// The nonce's length and the content hash: what can be checked without any key.
    pub fn check_hash(&self) -> Result<(), OpenError> {
        if self.nonce.len() != NONCE_LEN {
            return Err(OpenError::Malformed("the nonce is not 12 bytes"));
        }
        let expected = content_hash(&self.routing.aad(), &self.nonce, &self.ciphertext);
        if expected != self.content_hash {
            return Err(OpenError::HashMismatch);
        }
        Ok(())
    }

    /// Check the hash and the signature without any key: what the server does (by RFC 8032's
    /// strict rule; see [`crate::keys`] for how that relates to the devices' rule).
    pub fn verify(&self, device_public_key: &[u8; 32]) -> Result<(), OpenError> {
        self.check_hash()?;
        if !verify(
            device_public_key,
            &signed_message(&self.content_hash),
            &self.signature,
        ) {
            return Err(OpenError::BadSignature);
        }
        Ok(())
    }

    /// Verify, then decrypt with the team key the envelope names.
    pub fn open(
        &self,
        team_key: &TeamKey,
        device_public_key: &[u8; 32],
    ) -> Result<Vec<u8>, OpenError> {
        Self::open_many(&[(self, team_key, device_public_key)])
            .pop()
            .unwrap_or(Err(OpenError::Malformed("nothing was opened")))
    }

    /// Open many envelopes, each with its team key and its sender's public key: the same
    /// checks as [`Envelope::open`], with the signatures checked as one batch. One result per
    /// envelope, in order.
    pub fn open_many(
        items: &[(&Envelope, &TeamKey, &[u8; 32])],
    ) -> Vec<Result<Vec<u8>, OpenError>> {
        let checked = Self::verify_many(
            &items
                .iter()
                .map(|(env, _, sender)| (*env, *sender))
                .collect::<Vec<_>>(),
        );
        items
            .iter()
            .zip(checked)
            .map(|((env, key, _), checked)| {
                checked.and_then(|()| {
                    if env.routing.kid != key.id {
                        return Err(OpenError::NoKey {
                            wanted: env.routing.kid,
                        });
                    }
                    env.decrypt(key)
                })
            })
            .collect()
    }

    /// Check many envelopes' hashes and their senders' signatures (one batch, ZIP 215), without
    /// any team key: a device does this for every op it receives, readable or not, so an op it
    /// holds for want of a key has still been proved to come from its sender. One result per
    /// envelope, in order.
    pub fn verify_many(items: &[(&Envelope, &[u8; 32])]) -> Vec<Result<(), OpenError>> {
        let mut results: Vec<Result<(), OpenError>> =
            items.iter().map(|(env, _)| env.check_hash()).collect();
        let messages: Vec<Vec<u8>> = items
            .iter()
            .map(|(env, _)| signed_message(&env.content_hash))
            .collect();
        let checked: Vec<usize> = (0..items.len()).filter(|i| results[*i].is_ok()).collect();
        let signed: Vec<SignedItem<'_>> = checked
            .iter()
            .map(|&i| (items[i].1, &messages[i][..], &items[i].0.signature[..]))
            .collect();
        for (&i, ok) in checked.iter().zip(verify_ops(&signed)) {
            if !ok {
                results[i] = Err(OpenError::BadSignature);
            }
        }
        results
    }

    /// The content hash as 32 bytes (what the next op's chain link names), if it is that long.
    pub fn hash32(&self) -> Option<[u8; 32]> {
        self.content_hash.as_slice().try_into().ok()
    }

    /// Decrypt with the team key, after [`Envelope::verify_many`] (or [`Envelope::verify`]).
    pub fn decrypt(&self, team_key: &TeamKey) -> Result<Vec<u8>, OpenError> {
        if self.routing.kid != team_key.id {
            return Err(OpenError::NoKey {
                wanted: self.routing.kid,
            });
        }
        let nonce: [u8; NONCE_LEN] = self
            .nonce
            .as_slice()
            .try_into()
            .map_err(|_| OpenError::Malformed("the nonce is not 12 bytes"))?;
        let mut buf = self.ciphertext.clone();
        let aad = self.routing.aad();
        let plain = op_key(team_key, &self.routing.op_id)
            .open_in_place(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(&aad[..]),
                &mut buf,
            )
            .map_err(|_| OpenError::Tampered)?;
        Ok(plain.to_vec())
    }
}

/// SHA-256 of arbitrary bytes (request bodies, fingerprints).
pub fn sha256(bytes: &[u8]) -> Vec<u8> {
    digest(&SHA256, bytes).as_ref().to_vec()
}

#[cfg(test)]
mod tests;
