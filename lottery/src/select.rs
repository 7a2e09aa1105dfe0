//! Value-stable winner selection from the VRF output β: a SHA-256 counter
//! stream, unbiased index sampling by rejection, a partial Fisher–Yates
//! shuffle over the canonical list, and redemption codes.

use sha2::{Digest, Sha256};
use std::collections::HashMap;

/// Domain tag of the draw stream (15 ASCII bytes).
pub const DRAW_TAG: &[u8] = b"lottery-draw-v1";
/// Domain tag of redemption codes (17 ASCII bytes).
pub const REDEEM_TAG: &[u8] = b"lottery-redeem-v1";
/// Length of a redemption code in characters.
pub const REDEEM_CODE_LEN: usize = 10;
const BASE32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// Stream of u64 words: block i = SHA-256("lottery-draw-v1" ‖ β ‖ u64be(i)),
/// i = 0, 1, …; each block yields four big-endian u64 from its bytes 0–7,
/// 8–15, 16–23, 24–31, in that order.
#[derive(Clone)]
pub struct DrawStream {
    /// Hasher already fed with the tag and β.
    prefix: Sha256,
    /// Index of the next block to compute.
    counter: u64,
    /// Current block.
    block: [u8; 32],
    /// Next unread byte offset in `block` (32 = exhausted).
    pos: usize,
}

impl DrawStream {
    /// The stream for seed `beta`.
    pub fn new(beta: &[u8; 64]) -> Self {
        let prefix = Sha256::new().chain_update(DRAW_TAG).chain_update(beta);
        Self {
            prefix,
            counter: 0,
            block: [0; 32],
            pos: 32,
        }
    }

    /// The next word of the stream.
    pub fn next_u64(&mut self) -> u64 {
        if self.pos == 32 {
            self.block = self
                .prefix
                .clone()
                .chain_update(self.counter.to_be_bytes())
                .finalize()
                .into();
            self.counter += 1;
            self.pos = 0;
        }
        let mut word = [0u8; 8];
        word.copy_from_slice(&self.block[self.pos..self.pos + 8]);
        self.pos += 8;
        u64::from_be_bytes(word)
    }

    /// A uniform index in `[0, m)`; see [`sample_below`].
    pub fn below(&mut self, m: u64) -> u64 {
        sample_below(m, || self.next_u64())
    }
}

/// Acceptance bound for sampling below `m`: `floor(2^64 / m) · m`. Words
/// `v ≥` this bound are rejected, so every residue mod `m` is equally likely.
pub fn rejection_limit(m: u64) -> u128 {
    if m == 0 {
        return 0;
    }
    ((1u128 << 64) / u128::from(m)) * u128::from(m)
}

/// Draws words from `next` until one is below [`rejection_limit`]`(m)` and
/// returns it mod `m`. Always consumes at least one word, even for `m = 1`.
/// Returns 0 for `m = 0` without consuming anything (never used by a draw).
pub fn sample_below(m: u64, mut next: impl FnMut() -> u64) -> u64 {
    if m == 0 {
        return 0;
    }
    let limit = rejection_limit(m);
    loop {
        let v = next();
        if u128::from(v) < limit {
            return v % m;
        }
    }
}

/// Winner positions in the canonical list: a partial Fisher–Yates shuffle.
///
/// With `list = [0, 1, …, n−1]` and `w = min(k, n)`: for j = 0 … w−1,
/// `r = below(n − j)`, swap `list[j]` and `list[j + r]`, and winner j is
/// `list[j]`. Implemented sparsely (O(w) memory), with the same result.
pub fn select_indices(beta: &[u8; 64], n: u64, k: u32) -> Vec<u64> {
    let w = n.min(u64::from(k));
    let mut stream = DrawStream::new(beta);
    let mut moved: HashMap<u64, u64> = HashMap::new();
    let mut out = Vec::with_capacity(usize::try_from(w).unwrap_or(0));
    for j in 0..w {
        let t = j + stream.below(n - j);
        let at_t = moved.get(&t).copied().unwrap_or(t);
        let at_j = moved.get(&j).copied().unwrap_or(j);
        moved.insert(t, at_j);
        out.push(at_t);
    }
    out
}

/// The winners, in draw order, from the canonical participant list.
pub fn select_winners<'a>(beta: &[u8; 64], participants: &'a [String], k: u32) -> Vec<&'a str> {
    select_indices(beta, participants.len() as u64, k)
        .into_iter()
        .filter_map(|i| {
            participants
                .get(usize::try_from(i).ok()?)
                .map(String::as_str)
        })
        .collect()
}

/// Redemption code of a winner: the first 50 bits of
/// SHA-256("lottery-redeem-v1" ‖ β ‖ UTF-8(user_id)), most significant bit
/// first, as 10 RFC 4648 base32 characters (`A–Z`, `2–7`).
pub fn redemption_code(beta: &[u8; 64], user_id: &str) -> String {
    let digest = Sha256::new()
        .chain_update(REDEEM_TAG)
        .chain_update(beta)
        .chain_update(user_id.as_bytes())
        .finalize();
    let mut head = [0u8; 8];
    head.copy_from_slice(&digest[..8]);
    let bits = u64::from_be_bytes(head);
    (0..REDEEM_CODE_LEN)
        .map(|i| char::from(BASE32[((bits >> (59 - 5 * i)) & 31) as usize]))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejection_limit_is_the_largest_multiple_of_m() {
        for m in [1u64, 2, 3, 5, 7, 1000, 1 << 32, (1 << 63) + 1, u64::MAX] {
            let limit = rejection_limit(m);
            assert_eq!(limit % u128::from(m), 0, "m = {m}");
            assert!((1u128 << 64) - limit < u128::from(m), "m = {m}");
        }
        assert_eq!(rejection_limit(1 << 20), 1u128 << 64);
        assert_eq!(rejection_limit(3), (1u128 << 64) - 1);
    }

    #[test]
    fn words_at_or_above_the_limit_are_rejected() {
        let mut words = [u64::MAX, 5].into_iter();
        assert_eq!(sample_below(3, || words.next().unwrap_or(0)), 2);
        // m = 2^63 + 1: limit = m, so 2^63 + 1 is rejected, 2^63 accepted.
        let m = (1u64 << 63) + 1;
        let mut words = [1u64 << 63 | 1, u64::MAX, 1 << 63].into_iter();
        assert_eq!(sample_below(m, || words.next().unwrap_or(0)), 1 << 63);
        let mut calls = 0;
        assert_eq!(
            sample_below(1, || {
                calls += 1;
                42
            }),
            0
        );
        assert_eq!(calls, 1);
    }

    #[test]
    fn indices_are_roughly_uniform() {
        let mut stream = DrawStream::new(&[9u8; 64]);
        let mut counts = [0u32; 6];
        for _ in 0..60_000 {
            counts[stream.below(6) as usize] += 1;
        }
        for c in counts {
            assert!((9_400..=10_600).contains(&c), "{counts:?}");
        }
    }

    #[test]
    fn sparse_shuffle_equals_dense_shuffle() {
        let beta = [3u8; 64];
        for (n, k) in [(0u64, 3u32), (1, 1), (5, 5), (5, 9), (40, 7), (1000, 1000)] {
            let mut list: Vec<u64> = (0..n).collect();
            let mut stream = DrawStream::new(&beta);
            let w = n.min(u64::from(k));
            for j in 0..w {
                let t = j + stream.below(n - j);
                list.swap(j as usize, t as usize);
            }
            assert_eq!(select_indices(&beta, n, k), list[..w as usize].to_vec());
        }
    }

    #[test]
    fn redemption_codes_are_base32_and_distinct() {
        let a = redemption_code(&[1u8; 64], "alice");
        let b = redemption_code(&[1u8; 64], "bob");
        assert_eq!(a.len(), REDEEM_CODE_LEN);
        assert!(a.bytes().all(|c| BASE32.contains(&c)));
        assert_ne!(a, b);
    }
}
