//! The node group's pinned key: one 32-byte secret seed used both for
//! Ed25519 announcement signatures (RFC 8032) and for the ECVRF draw proof
//! (RFC 9381 uses the same EdDSA key format), and its 32-byte public key.

use curve25519_dalek::edwards::{CompressedEdwardsY, EdwardsPoint};
use curve25519_dalek::scalar::{Scalar, clamp_integer};
use ed25519_dalek::{Signer, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha512};
use std::fmt;

/// A 32-byte secret key seed (RFC 8032 "private key").
///
/// Signs announcements and produces VRF proofs. `Debug` never prints it.
#[derive(Clone)]
pub struct SecretKey {
    /// The RFC 8032 seed; everything else is derived from it.
    seed: [u8; 32],
}

/// A 32-byte Ed25519 / ECVRF public key (compressed Edwards point).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PublicKey(#[serde(with = "crate::hexfmt::array")] pub [u8; 32]);

impl SecretKey {
    /// Wraps a 32-byte secret seed.
    pub fn from_bytes(seed: &[u8; 32]) -> Self {
        Self { seed: *seed }
    }

    /// Returns the 32-byte secret seed (for storing the key).
    pub fn to_bytes(&self) -> [u8; 32] {
        self.seed
    }

    /// Derives the public key `x·B` as in RFC 8032 section 5.1.5.
    pub fn public_key(&self) -> PublicKey {
        PublicKey(
            SigningKey::from_bytes(&self.seed)
                .verifying_key()
                .to_bytes(),
        )
    }

    /// Signs `message` with Ed25519 (RFC 8032, pure variant, no context).
    pub fn sign(&self, message: &[u8]) -> [u8; 64] {
        SigningKey::from_bytes(&self.seed).sign(message).to_bytes()
    }

    /// The RFC 8032 expansion: the clamped secret scalar `x` and the 32-byte
    /// nonce prefix (second half of SHA-512(seed)).
    pub(crate) fn expand(&self) -> (Scalar, [u8; 32]) {
        let h = Sha512::digest(self.seed);
        let mut low = [0u8; 32];
        let mut prefix = [0u8; 32];
        low.copy_from_slice(&h[..32]);
        prefix.copy_from_slice(&h[32..]);
        (Scalar::from_bytes_mod_order(clamp_integer(low)), prefix)
    }
}

impl From<&SigningKey> for SecretKey {
    fn from(key: &SigningKey) -> Self {
        Self::from_bytes(&key.to_bytes())
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretKey(public={:?})", self.public_key())
    }
}

impl PublicKey {
    /// Verifies an Ed25519 signature strictly (rejects small-order keys and
    /// non-canonical encodings, `verify_strict` semantics).
    pub fn verify_signature(&self, message: &[u8], signature: &[u8; 64]) -> bool {
        let Ok(key) = VerifyingKey::from_bytes(&self.0) else {
            return false;
        };
        let sig = ed25519_dalek::Signature::from_bytes(signature);
        key.verify_strict(message, &sig).is_ok()
    }

    /// Parses lowercase hex of 32 bytes.
    pub fn from_hex(text: &str) -> Option<Self> {
        crate::hexfmt::decode_array(text).map(Self)
    }

    /// Lowercase hex of the 32 bytes.
    pub fn to_hex(&self) -> String {
        crate::hexfmt::encode(&self.0)
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({})", self.to_hex())
    }
}

/// RFC 8032 / RFC 9381 `string_to_point`: decodes a compressed point and
/// rejects non-canonical encodings (y ≥ p, or x = 0 with the sign bit set),
/// which `decompress` alone would accept.
pub(crate) fn decode_point(bytes: &[u8; 32]) -> Option<EdwardsPoint> {
    let point = CompressedEdwardsY(*bytes).decompress()?;
    (point.compress().as_bytes() == bytes).then_some(point)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_key_matches_expanded_scalar() {
        let key = SecretKey::from_bytes(&[7u8; 32]);
        let (x, _) = key.expand();
        assert_eq!(
            EdwardsPoint::mul_base(&x).compress().to_bytes(),
            key.public_key().0
        );
    }

    #[test]
    fn signatures_verify_and_reject_tampering() {
        let key = SecretKey::from_bytes(&[1u8; 32]);
        let sig = key.sign(b"hello");
        assert!(key.public_key().verify_signature(b"hello", &sig));
        assert!(!key.public_key().verify_signature(b"hellp", &sig));
    }

    #[test]
    fn non_canonical_points_are_rejected() {
        // y = p (non-canonical encoding of y = 0) must not decode.
        let mut p = [0xffu8; 32];
        p[0] = 0xed;
        p[31] = 0x7f;
        assert!(decode_point(&p).is_none());
        // The identity (y = 1) with the sign bit set: x = 0, sign 1.
        let mut id = [0u8; 32];
        id[0] = 1;
        id[31] = 0x80;
        assert!(decode_point(&id).is_none());
    }
}
