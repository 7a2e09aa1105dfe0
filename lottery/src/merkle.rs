//! RFC 6962 Merkle tree over the canonical participant list: leaf and node
//! hashes, the root, inclusion proofs (audit paths) and their verification
//! (RFC 9162 section 2.1.3.2).

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Root of the empty tree: SHA-256 of the empty string.
pub const EMPTY_ROOT: [u8; 32] = [
    0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4, 0xc8, 0x99, 0x6f, 0xb9, 0x24,
    0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b, 0x93, 0x4c, 0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55,
];

/// `SHA-256(0x00 ‖ data)`.
pub fn leaf_hash(data: &[u8]) -> [u8; 32] {
    Sha256::new()
        .chain_update([0x00])
        .chain_update(data)
        .finalize()
        .into()
}

/// `SHA-256(0x01 ‖ left ‖ right)`.
pub fn node_hash(left: &[u8; 32], right: &[u8; 32]) -> [u8; 32] {
    let mut buf = [0u8; 65];
    buf[0] = 0x01;
    buf[1..33].copy_from_slice(left);
    buf[33..].copy_from_slice(right);
    Sha256::digest(buf).into()
}

/// Hashes every item as a leaf, in order.
pub fn leaf_hashes<T: AsRef<[u8]>>(items: &[T]) -> Vec<[u8; 32]> {
    let prefix = Sha256::new().chain_update([0x00]);
    items
        .iter()
        .map(|item| prefix.clone().chain_update(item.as_ref()).finalize().into())
        .collect()
}

/// Reduces one level in place: pairs become parents, an odd last node is
/// promoted unchanged (this equals RFC 6962's split at the largest power of
/// two below n). Returns the new length.
fn reduce_level(level: &mut [[u8; 32]], len: usize) -> usize {
    let mut write = 0;
    let mut read = 0;
    while read + 1 < len {
        level[write] = node_hash(&level[read], &level[read + 1]);
        write += 1;
        read += 2;
    }
    if read < len {
        level[write] = level[read];
        write += 1;
    }
    write
}

/// The Merkle tree hash of the given leaf hashes (consumed as scratch space).
pub fn root_of_leaves(mut leaves: Vec<[u8; 32]>) -> [u8; 32] {
    let mut len = leaves.len();
    if len == 0 {
        return EMPTY_ROOT;
    }
    while len > 1 {
        len = reduce_level(&mut leaves, len);
    }
    leaves[0]
}

/// The Merkle tree hash MTH of `items` (each one leaf, in the given order).
pub fn root<T: AsRef<[u8]>>(items: &[T]) -> [u8; 32] {
    root_of_leaves(leaf_hashes(items))
}

/// An RFC 6962 audit path: proves that one leaf is at `leaf_index` of a tree
/// of `tree_size` leaves with a given root.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InclusionProof {
    /// Position of the leaf in the canonical (sorted) list, from 0.
    pub leaf_index: u64,
    /// Number of leaves N.
    pub tree_size: u64,
    /// Sibling hashes from the leaf up to the root (RFC 6962 PATH order).
    #[serde(with = "crate::hexfmt::hash_list")]
    pub audit_path: Vec<[u8; 32]>,
}

/// The audit path for leaf `index` among `items`; `None` if out of range.
pub fn prove<T: AsRef<[u8]>>(items: &[T], index: usize) -> Option<InclusionProof> {
    if index >= items.len() {
        return None;
    }
    let mut level = leaf_hashes(items);
    let mut len = level.len();
    let mut at = index;
    let mut audit_path = Vec::new();
    while len > 1 {
        let sibling = at ^ 1;
        if sibling < len {
            audit_path.push(level[sibling]);
        }
        len = reduce_level(&mut level, len);
        at >>= 1;
    }
    Some(InclusionProof {
        leaf_index: u64::try_from(index).ok()?,
        tree_size: u64::try_from(items.len()).ok()?,
        audit_path,
    })
}

/// Verifies that `data` is leaf `proof.leaf_index` of the tree of
/// `proof.tree_size` leaves whose root is `root` (RFC 9162 2.1.3.2).
pub fn verify_inclusion(root: &[u8; 32], data: &[u8], proof: &InclusionProof) -> bool {
    if proof.leaf_index >= proof.tree_size {
        return false;
    }
    let mut f_n = proof.leaf_index;
    let mut s_n = proof.tree_size - 1;
    let mut r = leaf_hash(data);
    for p in &proof.audit_path {
        if s_n == 0 {
            return false;
        }
        if f_n & 1 == 1 || f_n == s_n {
            r = node_hash(p, &r);
            while f_n & 1 == 0 && f_n != 0 {
                f_n >>= 1;
                s_n >>= 1;
            }
        } else {
            r = node_hash(&r, p);
        }
        f_n >>= 1;
        s_n >>= 1;
    }
    s_n == 0 && r == *root
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6962 section 2.1 MTH, written recursively as the RFC states it.
    fn reference_root(items: &[Vec<u8>]) -> [u8; 32] {
        match items.len() {
            0 => Sha256::digest([]).into(),
            1 => leaf_hash(&items[0]),
            n => {
                // Largest power of two strictly below n.
                let k = 1usize << (usize::BITS - 1 - (n - 1).leading_zeros());
                node_hash(&reference_root(&items[..k]), &reference_root(&items[k..]))
            }
        }
    }

    #[test]
    fn empty_root_is_sha256_of_nothing() {
        assert_eq!(EMPTY_ROOT, <[u8; 32]>::from(Sha256::digest([])));
        assert_eq!(root::<&[u8]>(&[]), EMPTY_ROOT);
    }

    #[test]
    fn iterative_root_matches_recursive_definition() {
        for n in 0..=70usize {
            let items: Vec<Vec<u8>> = (0..n).map(|i| format!("u{i}").into_bytes()).collect();
            assert_eq!(root(&items), reference_root(&items), "n = {n}");
        }
    }

    #[test]
    fn every_leaf_proves_in_trees_of_1_to_17() {
        for n in 1..=17usize {
            let items: Vec<String> = (0..n).map(|i| format!("u{i:02}")).collect();
            let r = root(&items);
            for (i, item) in items.iter().enumerate() {
                let proof = prove(&items, i).expect("in range");
                assert!(verify_inclusion(&r, item.as_bytes(), &proof), "n={n} i={i}");
                // Wrong data, index or path must fail. (A wrong size alone can
                // pass when the path has the same shape: N is bound by being
                // published with the root, not by the path.)
                assert!(!verify_inclusion(&r, b"intruder", &proof));
                let mut moved = proof.clone();
                moved.leaf_index = (proof.leaf_index + 1) % proof.tree_size;
                assert!(n == 1 || !verify_inclusion(&r, item.as_bytes(), &moved));
                let mut past = proof.clone();
                past.leaf_index = proof.tree_size;
                assert!(!verify_inclusion(&r, item.as_bytes(), &past));
                for j in 0..proof.audit_path.len() {
                    let mut bent = proof.clone();
                    bent.audit_path[j][0] ^= 1;
                    assert!(!verify_inclusion(&r, item.as_bytes(), &bent));
                }
            }
            assert!(prove(&items, n).is_none());
        }
    }
}
