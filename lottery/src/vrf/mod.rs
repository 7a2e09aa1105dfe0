//! RFC 9381 ECVRF-EDWARDS25519-SHA512-TAI, implemented on curve25519-dalek
//! and sha2: prove, verify and proof_to_hash. Proofs are 80 bytes
//! (Gamma ‖ c ‖ s), outputs β are 64 bytes.

mod suite;

pub use suite::encode_to_curve;

use crate::keys::{PublicKey, SecretKey, decode_point};
use curve25519_dalek::edwards::EdwardsPoint;
use curve25519_dalek::scalar::Scalar;
use suite::{C_LEN, challenge, challenge_scalar, gamma_to_hash, nonce};

/// Length of a proof π in bytes: Gamma (32) ‖ c (16) ‖ s (32).
pub const PROOF_LEN: usize = 80;
/// Length of a VRF output β in bytes.
pub const OUTPUT_LEN: usize = 64;

/// Why a VRF operation failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum VrfError {
    /// The public key does not decode to a point, or has small order
    /// (ECVRF_validate_key).
    #[error("invalid VRF public key")]
    InvalidPublicKey,
    /// Gamma does not decode to a point, or s is not reduced (s ≥ q).
    #[error("malformed VRF proof")]
    MalformedProof,
    /// The proof does not verify for this key and input.
    #[error("VRF proof does not verify")]
    InvalidProof,
    /// try-and-increment found no point in 256 attempts.
    #[error("encode_to_curve failed")]
    EncodeToCurve,
}

/// ECVRF_prove: the 80-byte proof π of `alpha` under `key`.
pub fn prove(key: &SecretKey, alpha: &[u8]) -> Result<[u8; PROOF_LEN], VrfError> {
    let (x, prefix) = key.expand();
    let pk = EdwardsPoint::mul_base(&x).compress().to_bytes();
    let h = encode_to_curve(&pk, alpha).ok_or(VrfError::EncodeToCurve)?;
    let h_string = h.compress().to_bytes();
    let gamma = (h * x).compress().to_bytes();
    let k = nonce(&prefix, &h_string);
    let u = EdwardsPoint::mul_base(&k).compress().to_bytes();
    let v = (h * k).compress().to_bytes();
    let c = challenge([&pk, &h_string, &gamma, &u, &v]);
    let s = k + challenge_scalar(&c) * x;
    let mut pi = [0u8; PROOF_LEN];
    pi[..32].copy_from_slice(&gamma);
    pi[32..32 + C_LEN].copy_from_slice(&c);
    pi[32 + C_LEN..].copy_from_slice(s.as_bytes());
    Ok(pi)
}

/// ECVRF_decode_proof: Gamma (strict point decoding), c, and s (< q).
fn decode_proof(pi: &[u8; PROOF_LEN]) -> Result<(EdwardsPoint, [u8; C_LEN], Scalar), VrfError> {
    let mut gamma_bytes = [0u8; 32];
    gamma_bytes.copy_from_slice(&pi[..32]);
    let gamma = decode_point(&gamma_bytes).ok_or(VrfError::MalformedProof)?;
    let mut c = [0u8; C_LEN];
    c.copy_from_slice(&pi[32..32 + C_LEN]);
    let mut s_bytes = [0u8; 32];
    s_bytes.copy_from_slice(&pi[32 + C_LEN..]);
    let s = Option::<Scalar>::from(Scalar::from_canonical_bytes(s_bytes))
        .ok_or(VrfError::MalformedProof)?;
    Ok((gamma, c, s))
}

/// ECVRF_validate_key: the key decodes and does not have small order.
pub fn validate_key(pk: &PublicKey) -> Result<EdwardsPoint, VrfError> {
    let y = decode_point(&pk.0).ok_or(VrfError::InvalidPublicKey)?;
    if y.is_small_order() {
        return Err(VrfError::InvalidPublicKey);
    }
    Ok(y)
}

/// ECVRF_proof_to_hash: β from a (not yet verified) proof. Only meaningful
/// after [`verify`] accepted the proof.
pub fn proof_to_hash(pi: &[u8; PROOF_LEN]) -> Result<[u8; OUTPUT_LEN], VrfError> {
    let (gamma, _, _) = decode_proof(pi)?;
    Ok(gamma_to_hash(&gamma))
}

/// ECVRF_verify with key validation: returns β if π is a valid proof of
/// `alpha` under `pk`.
pub fn verify(
    pk: &PublicKey,
    alpha: &[u8],
    pi: &[u8; PROOF_LEN],
) -> Result<[u8; OUTPUT_LEN], VrfError> {
    let y = validate_key(pk)?;
    let (gamma, c, s) = decode_proof(pi)?;
    let h = encode_to_curve(&pk.0, alpha).ok_or(VrfError::EncodeToCurve)?;
    let c_scalar = challenge_scalar(&c);
    // U = s·B − c·Y, V = s·H − c·Gamma
    let u = EdwardsPoint::vartime_double_scalar_mul_basepoint(&(-c_scalar), &y, &s);
    let v = h * s - gamma * c_scalar;
    let expected = challenge([
        &pk.0,
        h.compress().as_bytes(),
        gamma.compress().as_bytes(),
        u.compress().as_bytes(),
        v.compress().as_bytes(),
    ]);
    if expected != c {
        return Err(VrfError::InvalidProof);
    }
    Ok(gamma_to_hash(&gamma))
}
