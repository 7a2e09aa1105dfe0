//! RFC 9381 Appendix B.3 (Examples 16–18) for ECVRF-EDWARDS25519-SHA512-TAI:
//! public key, encode_to_curve H, proof π and output β, plus rejections.

#![allow(clippy::unwrap_used)] // helpers outside #[test] fns unwrap too

use lottery::hexfmt::{decode, decode_array, encode};
use lottery::{PublicKey, SecretKey, vrf};
use serde::Deserialize;
use std::path::PathBuf;

#[derive(Deserialize)]
struct File {
    vectors: Vec<Vector>,
}

#[derive(Deserialize)]
struct Vector {
    example: u32,
    sk: String,
    pk: String,
    alpha: String,
    h: String,
    pi: String,
    beta: String,
}

const NAME: &str = "rfc9381-ecvrf-edwards25519-sha512-tai.json";

fn load(path: PathBuf) -> Vec<Vector> {
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let file: File = serde_json::from_str(&text).unwrap();
    assert_eq!(file.vectors.len(), 3);
    file.vectors
}

/// The in-repo copy (keeps the crate self-contained).
fn local() -> Vec<Vector> {
    load(
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("tests/vectors")
            .join(NAME),
    )
}

fn check(v: &Vector) {
    let sk = SecretKey::from_bytes(&decode_array(&v.sk).unwrap());
    let alpha = decode(&v.alpha).unwrap();
    assert_eq!(sk.public_key().to_hex(), v.pk, "example {} pk", v.example);
    let pk = PublicKey::from_hex(&v.pk).unwrap();
    let h = vrf::encode_to_curve(&pk.0, &alpha).unwrap();
    assert_eq!(
        encode(h.compress().as_bytes()),
        v.h,
        "example {} H",
        v.example
    );
    let pi = vrf::prove(&sk, &alpha).unwrap();
    assert_eq!(encode(&pi), v.pi, "example {} pi", v.example);
    let beta = vrf::proof_to_hash(&pi).unwrap();
    assert_eq!(encode(&beta), v.beta, "example {} beta", v.example);
    assert_eq!(vrf::verify(&pk, &alpha, &pi).unwrap(), beta);
}

#[test]
fn rfc9381_examples_16_to_18_local_copy() {
    for v in local() {
        check(&v);
    }
}

#[test]
fn rfc9381_examples_16_to_18_shared_file() {
    let shared = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/vectors")
        .join(NAME);
    if !shared.exists() {
        // Outside the usual checkout layout only the local copy is available.
        eprintln!("skipping: {} not found", shared.display());
        return;
    }
    let local_text = std::fs::read(
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("tests/vectors")
            .join(NAME),
    )
    .unwrap();
    assert_eq!(
        std::fs::read(&shared).unwrap(),
        local_text,
        "local copy differs from shared"
    );
    for v in load(shared) {
        check(&v);
    }
}

#[test]
fn a_flipped_bit_in_every_proof_byte_is_rejected() {
    let v = &local()[1];
    let pk = PublicKey::from_hex(&v.pk).unwrap();
    let alpha = decode(&v.alpha).unwrap();
    let pi: [u8; 80] = decode_array(&v.pi).unwrap();
    for byte in 0..80 {
        let mut bad = pi;
        bad[byte] ^= 1 << (byte % 8);
        assert!(vrf::verify(&pk, &alpha, &bad).is_err(), "byte {byte}");
    }
    assert!(vrf::verify(&pk, b"other", &pi).is_err());
    let other = PublicKey::from_hex(&local()[0].pk).unwrap();
    assert!(vrf::verify(&other, &alpha, &pi).is_err());
}

#[test]
fn small_order_and_invalid_keys_are_rejected() {
    let v = &local()[0];
    let alpha = decode(&v.alpha).unwrap();
    let pi: [u8; 80] = decode_array(&v.pi).unwrap();
    // The identity point (y = 1) and the order-2 point (y = -1).
    let mut identity = [0u8; 32];
    identity[0] = 1;
    let mut minus_one = [0xffu8; 32];
    minus_one[0] = 0xec;
    minus_one[31] = 0x7f;
    for bad in [identity, minus_one, [0u8; 32]] {
        assert_eq!(
            vrf::verify(&PublicKey(bad), &alpha, &pi),
            Err(vrf::VrfError::InvalidPublicKey)
        );
    }
}

#[test]
fn non_reduced_s_is_rejected() {
    let v = &local()[0];
    let pk = PublicKey::from_hex(&v.pk).unwrap();
    let alpha = decode(&v.alpha).unwrap();
    let mut pi: [u8; 80] = decode_array(&v.pi).unwrap();
    // s + q encodes the same scalar non-canonically; it must be refused.
    const Q: [u8; 32] = [
        0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde,
        0x14, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
    ];
    let mut carry = 0u16;
    for i in 0..32 {
        let sum = u16::from(pi[48 + i]) + u16::from(Q[i]) + carry;
        pi[48 + i] = sum as u8;
        carry = sum >> 8;
    }
    assert_eq!(carry, 0);
    assert_eq!(
        vrf::verify(&pk, &alpha, &pi),
        Err(vrf::VrfError::MalformedProof)
    );
}
