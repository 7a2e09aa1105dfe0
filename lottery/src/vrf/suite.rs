//! The building blocks of ECVRF-EDWARDS25519-SHA512-TAI (RFC 9381 section
//! 5.5, suite_string 0x03): encode_to_curve by try-and-increment (5.4.1.1),
//! nonce generation (5.4.2.2) and challenge generation (5.4.3).

use crate::keys::decode_point;
use curve25519_dalek::edwards::EdwardsPoint;
use curve25519_dalek::scalar::Scalar;
use sha2::{Digest, Sha512};

/// suite_string for ECVRF-EDWARDS25519-SHA512-TAI.
pub const SUITE: u8 = 0x03;
/// Challenge length in bytes (cLen).
pub const C_LEN: usize = 16;

/// ECVRF_encode_to_curve_try_and_increment with
/// `encode_to_curve_salt = PK_string`.
///
/// For ctr = 0, 1, …, 255: `hash = SHA-512(0x03 ‖ 0x01 ‖ salt ‖ alpha ‖ ctr ‖
/// 0x00)`; the first 32 bytes are decoded as a point (RFC 8032 decoding);
/// the first valid one, multiplied by the cofactor 8, is H. Returns `None`
/// only if all 256 attempts fail (probability about 2^-256).
pub fn encode_to_curve(salt: &[u8; 32], alpha: &[u8]) -> Option<EdwardsPoint> {
    for ctr in 0..=u8::MAX {
        let hash = Sha512::new()
            .chain_update([SUITE, 0x01])
            .chain_update(salt)
            .chain_update(alpha)
            .chain_update([ctr, 0x00])
            .finalize();
        let mut candidate = [0u8; 32];
        candidate.copy_from_slice(&hash[..32]);
        if let Some(point) = decode_point(&candidate) {
            return Some(point.mul_by_cofactor());
        }
    }
    None
}

/// ECVRF_nonce_generation_RFC8032: `k = SHA-512(prefix ‖ h_string) mod q`,
/// where `prefix` is the second half of SHA-512(secret seed).
pub fn nonce(prefix: &[u8; 32], h_string: &[u8; 32]) -> Scalar {
    let digest = Sha512::new()
        .chain_update(prefix)
        .chain_update(h_string)
        .finalize();
    let mut wide = [0u8; 64];
    wide.copy_from_slice(&digest);
    Scalar::from_bytes_mod_order_wide(&wide)
}

/// ECVRF_challenge_generation over five points:
/// `c = first 16 bytes of SHA-512(0x03 ‖ 0x02 ‖ P1 ‖ … ‖ P5 ‖ 0x00)`,
/// returned as the 16 bytes (little-endian integer).
pub fn challenge(points: [&[u8; 32]; 5]) -> [u8; C_LEN] {
    let mut hasher = Sha512::new().chain_update([SUITE, 0x02]);
    for p in points {
        hasher.update(p);
    }
    let digest = hasher.chain_update([0x00]).finalize();
    let mut c = [0u8; C_LEN];
    c.copy_from_slice(&digest[..C_LEN]);
    c
}

/// Interprets the 16-byte challenge as a scalar (little-endian, < 2^128 < q).
pub fn challenge_scalar(c: &[u8; C_LEN]) -> Scalar {
    let mut bytes = [0u8; 32];
    bytes[..C_LEN].copy_from_slice(c);
    Scalar::from_bytes_mod_order(bytes)
}

/// ECVRF_proof_to_hash given a decoded Gamma:
/// `beta = SHA-512(0x03 ‖ 0x03 ‖ point_to_string(8·Gamma) ‖ 0x00)`.
pub fn gamma_to_hash(gamma: &EdwardsPoint) -> [u8; 64] {
    let digest = Sha512::new()
        .chain_update([SUITE, 0x03])
        .chain_update(gamma.mul_by_cofactor().compress().as_bytes())
        .chain_update([0x00])
        .finalize();
    let mut beta = [0u8; 64];
    beta.copy_from_slice(&digest);
    beta
}
