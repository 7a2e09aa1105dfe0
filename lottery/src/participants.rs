//! Participant collection and the commitment made at window close: distinct
//! user ids in canonical order (sorted by UTF-8 bytes), their Merkle root and
//! count.

use crate::definition::Limits;
use crate::merkle::{self, InclusionProof};
use std::collections::HashSet;

/// Why a participant id was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParticipantError {
    /// The user id is empty.
    #[error("user id must not be empty")]
    Empty,
    /// The user id is longer than the limit.
    #[error("user id is {len} bytes, limit {max}")]
    TooLong {
        /// Its length in bytes.
        len: usize,
        /// The limit in bytes.
        max: usize,
    },
}

fn check_user_id(user_id: &str, max: usize) -> Result<(), ParticipantError> {
    if user_id.is_empty() {
        return Err(ParticipantError::Empty);
    }
    if user_id.len() > max {
        return Err(ParticipantError::TooLong {
            len: user_id.len(),
            max,
        });
    }
    Ok(())
}

/// The distinct participants of one lottery, collected during its window.
#[derive(Debug, Clone)]
pub struct ParticipantSet {
    /// Distinct ids; insertion order does not matter.
    ids: HashSet<String>,
    /// Longest id accepted, in bytes.
    max_id_bytes: usize,
}

impl Default for ParticipantSet {
    fn default() -> Self {
        Self::new()
    }
}

impl ParticipantSet {
    /// An empty set with [`Limits::DEFAULT`].
    pub fn new() -> Self {
        Self::with_limits(&Limits::DEFAULT)
    }

    /// An empty set that accepts ids up to `limits.max_id_bytes`.
    pub fn with_limits(limits: &Limits) -> Self {
        Self {
            ids: HashSet::new(),
            max_id_bytes: limits.max_id_bytes,
        }
    }

    /// Adds a participant; returns `true` if the id was not there yet.
    pub fn insert(&mut self, user_id: &str) -> Result<bool, ParticipantError> {
        check_user_id(user_id, self.max_id_bytes)?;
        if self.ids.contains(user_id) {
            return Ok(false);
        }
        Ok(self.ids.insert(user_id.to_owned()))
    }

    /// Whether `user_id` takes part.
    pub fn contains(&self, user_id: &str) -> bool {
        self.ids.contains(user_id)
    }

    /// Number of distinct participants.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether nobody takes part.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// Fixes the set: canonical order and Merkle root.
    pub fn commit(self) -> Commitment {
        Commitment::from_distinct(self.ids.into_iter().collect())
    }
}

/// The committed participant set: canonical list, Merkle root and count N.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Commitment {
    /// Distinct ids sorted by their UTF-8 bytes.
    participants: Vec<String>,
    /// RFC 6962 root over `participants`.
    root: [u8; 32],
}

impl Commitment {
    /// Commits ids from any source (e.g. a store's set members): validates
    /// them against [`Limits::DEFAULT`], sorts and removes duplicates.
    pub fn from_ids<I>(ids: I) -> Result<Self, ParticipantError>
    where
        I: IntoIterator<Item = String>,
    {
        Self::from_ids_with_limits(ids, &Limits::DEFAULT)
    }

    /// As [`from_ids`](Self::from_ids) with explicit limits.
    pub fn from_ids_with_limits<I>(ids: I, limits: &Limits) -> Result<Self, ParticipantError>
    where
        I: IntoIterator<Item = String>,
    {
        let mut list = Vec::new();
        for id in ids {
            check_user_id(&id, limits.max_id_bytes)?;
            list.push(id);
        }
        list.sort_unstable();
        list.dedup();
        Ok(Self::from_sorted(list))
    }

    /// `list` must already hold distinct ids; sorts it and hashes.
    fn from_distinct(mut list: Vec<String>) -> Self {
        list.sort_unstable();
        Self::from_sorted(list)
    }

    fn from_sorted(participants: Vec<String>) -> Self {
        let root = merkle::root(&participants);
        Self { participants, root }
    }

    /// The Merkle root.
    pub fn root(&self) -> [u8; 32] {
        self.root
    }

    /// N, the number of distinct participants.
    pub fn count(&self) -> u64 {
        self.participants.len() as u64
    }

    /// The canonical list (sorted by UTF-8 bytes, distinct).
    pub fn participants(&self) -> &[String] {
        &self.participants
    }

    /// Gives the canonical list back.
    pub fn into_participants(self) -> Vec<String> {
        self.participants
    }

    /// Position of `user_id` in the canonical list.
    pub fn index_of(&self, user_id: &str) -> Option<usize> {
        self.participants
            .binary_search_by(|p| p.as_str().cmp(user_id))
            .ok()
    }

    /// Inclusion proof for `user_id`, if it takes part.
    pub fn prove(&self, user_id: &str) -> Option<InclusionProof> {
        merkle::prove(&self.participants, self.index_of(user_id)?)
    }
}
