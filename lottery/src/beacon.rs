//! The public randomness beacon a lottery commits to: a drand chain with
//! unchained BLS signatures on G1 (scheme `bls-unchained-g1-rfc9380`, the
//! quicknet chain by default). At announcement the lottery names the chain
//! and the first round whose time is after the window end; the draw mixes
//! that round's signature into the VRF input, so nobody (the key holder
//! included) knows the randomness while the participant set can change.
//!
//! Sans-I/O: fetching the round is the caller's business; this module says
//! which round, and checks a round's signature against the chain's public
//! key (`drand-verify`, `G2PubkeyRfc`). Bytes: docs/lottery.md §3.

use drand_verify::{G2PubkeyRfc, Pubkey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Hash of drand's quicknet chain info (its id in the HTTP API).
pub const QUICKNET_CHAIN_HASH: [u8; 32] = [
    0x52, 0xdb, 0x9b, 0xa7, 0x0e, 0x0c, 0xc0, 0xf6, 0xea, 0xf7, 0x80, 0x3d, 0xd0, 0x74, 0x47, 0xa1,
    0xf5, 0x47, 0x77, 0x35, 0xfd, 0x3f, 0x66, 0x17, 0x92, 0xba, 0x94, 0x60, 0x0c, 0x84, 0xe9, 0x71,
];

/// [`QUICKNET_CHAIN_HASH`], hex.
pub const QUICKNET_CHAIN_HASH_HEX: &str =
    "52db9ba70e0cc0f6eaf7803dd07447a1f5477735fd3f661792ba94600c84e971";

/// Quicknet's group public key (compressed G2, 96 bytes), hex.
pub const QUICKNET_PUBLIC_KEY_HEX: &str = "83cf0f2896adee7eb8b5f01fcad3912212c437e0073e911fb90022d3e760183c8c4b450b6a0a6c3ac6a5776a2d1064510d1fec758c921cc22b0e17e63aaf4bcb5ed66304de9cf809bd274ca73bab4af5a6e9c76a4bc09e76eae8991ef5ece45a";

/// Quicknet's genesis time, unix seconds (round 1).
pub const QUICKNET_GENESIS_S: u64 = 1_692_803_367;

/// Quicknet's period, seconds.
pub const QUICKNET_PERIOD_S: u32 = 3;

/// The hash-to-curve domain separation tag of the scheme (RFC 9380, G1).
pub const BEACON_DST: &str = "BLS_SIG_BLS12381G1_XMD:SHA-256_SSWU_RO_NUL_";

/// A drand chain: what a lottery needs to name a round and check it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BeaconChain {
    /// Hash of the chain info.
    pub chain_hash: [u8; 32],
    /// Group public key, compressed G2.
    pub public_key: [u8; 96],
    /// Time of round 1, unix seconds.
    pub genesis_s: u64,
    /// Seconds between rounds (≥ 1).
    pub period_s: u32,
}

impl BeaconChain {
    /// drand's quicknet.
    pub fn quicknet() -> Self {
        BeaconChain {
            chain_hash: QUICKNET_CHAIN_HASH,
            public_key: crate::hexfmt::decode_array(QUICKNET_PUBLIC_KEY_HEX).unwrap_or([0; 96]),
            genesis_s: QUICKNET_GENESIS_S,
            period_s: QUICKNET_PERIOD_S,
        }
    }

    /// The first round whose time is strictly after `t_ms` (unix ms).
    pub fn first_round_after(&self, t_ms: u64) -> u64 {
        first_round_after(self.genesis_s, self.period_s, t_ms)
    }

    /// The commitment to the first round after `window_end_ms`.
    pub fn commit(&self, window_end_ms: u64) -> BeaconCommitment {
        BeaconCommitment {
            chain_hash: self.chain_hash,
            public_key: self.public_key,
            genesis_s: self.genesis_s,
            period_s: self.period_s,
            round: self.first_round_after(window_end_ms),
        }
    }
}

/// The smallest round `r ≥ 1` with `(genesis_s + (r − 1)·period_s)·1000 >
/// t_ms`. `period_s` 0 is treated as 1 (a definition refuses it anyway).
pub fn first_round_after(genesis_s: u64, period_s: u32, t_ms: u64) -> u64 {
    let genesis_ms = genesis_s.saturating_mul(1000);
    if t_ms < genesis_ms {
        return 1;
    }
    let period_ms = u64::from(period_s.max(1)) * 1000;
    (t_ms - genesis_ms) / period_ms + 2
}

/// The beacon round a lottery commits to in its announcement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BeaconCommitment {
    /// Hash of the chain info (its id in the drand HTTP API).
    #[serde(with = "crate::hexfmt::array")]
    pub chain_hash: [u8; 32],
    /// Group public key, compressed G2 (96 bytes).
    #[serde(with = "crate::hexfmt::array")]
    pub public_key: [u8; 96],
    /// Time of round 1, unix seconds.
    pub genesis_s: u64,
    /// Seconds between rounds.
    pub period_s: u32,
    /// The committed round: the first one after the window end.
    pub round: u64,
}

impl BeaconCommitment {
    /// The round's time, unix ms: `(genesis_s + (round − 1)·period_s)·1000`.
    pub fn round_time_ms(&self) -> u64 {
        let offset = self
            .round
            .saturating_sub(1)
            .saturating_mul(u64::from(self.period_s));
        self.genesis_s.saturating_add(offset).saturating_mul(1000)
    }

    /// The chain this commitment names.
    pub fn chain(&self) -> BeaconChain {
        BeaconChain {
            chain_hash: self.chain_hash,
            public_key: self.public_key,
            genesis_s: self.genesis_s,
            period_s: self.period_s,
        }
    }

    /// Appended to the announcement bytes: `0x01 ‖ chain_hash ‖ public_key
    /// ‖ u64be(genesis_s) ‖ u32be(period_s) ‖ u64be(round)` (149 bytes).
    pub fn canonical_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(149);
        out.push(0x01);
        out.extend_from_slice(&self.chain_hash);
        out.extend_from_slice(&self.public_key);
        out.extend_from_slice(&self.genesis_s.to_be_bytes());
        out.extend_from_slice(&self.period_s.to_be_bytes());
        out.extend_from_slice(&self.round.to_be_bytes());
        out
    }
}

/// Whether `public_key` is a valid compressed G2 point in the subgroup.
pub fn valid_public_key(public_key: &[u8; 96]) -> bool {
    G2PubkeyRfc::from_fixed(*public_key).is_ok()
}

/// A fetched beacon round, as the record carries it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BeaconRound {
    /// The round number.
    pub round: u64,
    /// The round's BLS signature, compressed G1 (48 bytes).
    #[serde(with = "crate::hexfmt::array")]
    pub signature: [u8; 48],
}

impl BeaconRound {
    /// The round's randomness as drand publishes it: SHA-256(signature).
    /// Not used by the draw (the signature itself goes into alpha), only
    /// to cross-check a fetched round.
    pub fn randomness(&self) -> [u8; 32] {
        Sha256::digest(self.signature).into()
    }
}

/// The message a round signs: SHA-256(u64be(round)).
pub fn round_message(round: u64) -> [u8; 32] {
    Sha256::digest(round.to_be_bytes()).into()
}

/// Whether `signature` is the chain's BLS signature of `round`: the
/// signature (G1) and key (G2) decode to subgroup points and
/// `e(sig, g2) = e(H(m), pk)` with `m = SHA-256(u64be(round))` hashed to G1
/// under [`BEACON_DST`]. Never panics on malformed input.
pub fn verify_round(public_key: &[u8; 96], round: u64, signature: &[u8; 48]) -> bool {
    let Ok(pk) = G2PubkeyRfc::from_fixed(*public_key) else {
        return false;
    };
    pk.verify(round, b"", signature).unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hexfmt::decode_array;

    /// Real quicknet rounds: 123 from drand-verify's tests, 2 and 3 from
    /// Forest's (`api.drand.sh/52db…e971/public/{round}`).
    pub(crate) const ROUNDS: [(u64, &str); 3] = [
        (
            2,
            "b6b6a585449b66eb12e875b64fcbab3799861a00e4dbf092d99e969a5eac57dd3f798acf61e705fe4f093db926626807",
        ),
        (
            3,
            "b3fab6df720b68cc47175f2c777e86d84187caab5770906f515ff1099cb01e4deaa027075d860823e49477b93c72bd64",
        ),
        (
            123,
            "b75c69d0b72a5d906e854e808ba7e2accb1542ac355ae486d591aa9d43765482e26cd02df835d3546d23c4b13e0dfc92",
        ),
    ];

    #[test]
    fn real_quicknet_rounds_verify_and_others_do_not() {
        let pk = BeaconChain::quicknet().public_key;
        for (round, sig) in ROUNDS {
            let sig: [u8; 48] = decode_array(sig).unwrap();
            assert!(verify_round(&pk, round, &sig), "round {round}");
            assert!(!verify_round(&pk, round + 1, &sig), "round {round} + 1");
            let mut bad = sig;
            bad[47] ^= 1;
            assert!(!verify_round(&pk, round, &bad));
        }
        let mut other = pk;
        other[95] ^= 1;
        let sig: [u8; 48] = decode_array(ROUNDS[2].1).unwrap();
        assert!(!verify_round(&other, 123, &sig));
        assert!(!verify_round(&[0; 96], 123, &sig));
        assert!(!verify_round(&pk, 123, &[0; 48]));
    }

    #[test]
    fn first_round_after_is_strictly_after() {
        let c = BeaconChain::quicknet();
        let g = QUICKNET_GENESIS_S * 1000;
        assert_eq!(c.first_round_after(0), 1);
        assert_eq!(c.first_round_after(g - 1), 1);
        assert_eq!(c.first_round_after(g), 2);
        assert_eq!(c.first_round_after(g + 2999), 2);
        assert_eq!(c.first_round_after(g + 3000), 3);
        for t in [g, g + 1, g + 2999, g + 3000, 1_767_225_900_000] {
            let b = c.commit(t);
            assert!(b.round_time_ms() > t);
            let before = BeaconCommitment {
                round: b.round - 1,
                ..b
            };
            assert!(b.round == 1 || before.round_time_ms() <= t);
        }
    }

    #[test]
    fn round_message_is_sha256_of_the_big_endian_round() {
        assert_eq!(
            crate::hexfmt::encode(&round_message(1)),
            "cd2662154e6d76b2b2b92e70c0cac3ccf534f9b74eb5b89819ec509083d00a50"
        );
    }
}
