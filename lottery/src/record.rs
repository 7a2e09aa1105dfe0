//! The published record (serde JSON): the signed announcement and either the
//! draw (commitment with the full participant list, VRF proof π, β, winners
//! with redemption codes) or the signed "abnormal" outcome.

use crate::announcement::Announcement;
use crate::beacon::BeaconRound;
use serde::{Deserialize, Serialize};

/// Version of the record format and of every algorithm it names.
pub const RECORD_VERSION: u32 = 1;

/// Domain tag of the abnormal-outcome signature (19 ASCII bytes).
pub const ABNORMAL_TAG: &[u8] = b"lottery-abnormal-v1";

/// Everything needed to check a lottery afterwards, and nothing else.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Record {
    /// Always [`RECORD_VERSION`].
    pub version: u32,
    /// The signed announcement.
    pub announcement: Announcement,
    /// SHA-256 of the canonical announcement bytes (recomputed on verify;
    /// kept for readers).
    #[serde(with = "crate::hexfmt::array")]
    pub announcement_hash: [u8; 32],
    /// How the lottery ended.
    pub outcome: Outcome,
}

/// How a lottery ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
// One per record; boxing the draw would only add an indirection.
#[allow(clippy::large_enum_variant)]
pub enum Outcome {
    /// Winners were drawn.
    Drawn(DrawOutcome),
    /// The live ended before the draw; nobody won.
    Abnormal(AbnormalOutcome),
}

/// The state of a lottery record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DrawState {
    /// Winners were drawn.
    Drawn,
    /// No draw happened (the live ended first).
    Abnormal,
}

/// A completed draw.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DrawOutcome {
    /// The participant set fixed at window close.
    pub commitment: PublishedCommitment,
    /// The announced beacon round and its signature, mixed into alpha
    /// (absent when the announcement names no beacon).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub beacon: Option<BeaconRound>,
    /// ECVRF proof π = Gamma ‖ c ‖ s (80 bytes).
    #[serde(with = "crate::hexfmt::array")]
    pub proof: [u8; 80],
    /// VRF output β = proof_to_hash(π) (64 bytes), the draw seed.
    #[serde(with = "crate::hexfmt::array")]
    pub beta: [u8; 64],
    /// Winners in draw order.
    pub winners: Vec<Winner>,
}

/// The committed participant set as published.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PublishedCommitment {
    /// RFC 6962 Merkle root over `participants`.
    #[serde(with = "crate::hexfmt::array")]
    pub root: [u8; 32],
    /// N, the number of participants.
    pub count: u64,
    /// Distinct user ids sorted by UTF-8 bytes, so anyone can recompute the
    /// root and the draw.
    pub participants: Vec<String>,
}

/// One winner.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Winner {
    /// The winning user id.
    pub user_id: String,
    /// Derived redemption code (see [`crate::redemption_code`]).
    pub redemption_code: String,
}

/// A lottery that ended without a draw.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AbnormalOutcome {
    /// Why (free text, e.g. "live ended before the draw").
    pub reason: String,
    /// Ed25519 signature over `"lottery-abnormal-v1" ‖ announcement hash ‖
    /// u32be(len(reason)) ‖ UTF-8(reason)`.
    #[serde(with = "crate::hexfmt::array")]
    pub signature: [u8; 64],
}

impl Record {
    /// The record's state.
    pub fn state(&self) -> DrawState {
        match self.outcome {
            Outcome::Drawn(_) => DrawState::Drawn,
            Outcome::Abnormal(_) => DrawState::Abnormal,
        }
    }

    /// Parses a record from JSON (no checks beyond the format; call
    /// [`crate::verify`]).
    pub fn from_json(text: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(text)
    }

    /// Pretty-printed JSON (docs/lottery.md §5), without the final line
    /// feed of the canonical text.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// The record's one canonical text: [`Record::to_json`] and one line
    /// feed. The gateway stores and serves exactly these bytes.
    pub fn to_canonical(&self) -> String {
        let mut s = self.to_json();
        s.push('\n');
        s
    }

    /// Parses a record that must be in its canonical text: the same
    /// record re-serialised any other way (other spacing, key order,
    /// escapes, a missing or extra line feed) is refused.
    pub fn from_canonical(text: &str) -> Result<Self, CanonicalError> {
        let record = Self::from_json(text).map_err(CanonicalError::Json)?;
        let canonical = record.to_canonical();
        if canonical != text {
            let at = canonical
                .bytes()
                .zip(text.bytes())
                .position(|(a, b)| a != b)
                .unwrap_or(canonical.len().min(text.len()));
            return Err(CanonicalError::NotCanonical(at));
        }
        Ok(record)
    }
}

/// The bytes signed for an abnormal outcome.
pub fn abnormal_bytes(announcement_hash: &[u8; 32], reason: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(ABNORMAL_TAG.len() + 36 + reason.len());
    out.extend_from_slice(ABNORMAL_TAG);
    out.extend_from_slice(announcement_hash);
    let len = u32::try_from(reason.len()).unwrap_or(u32::MAX);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(reason.as_bytes());
    out
}

/// Why a text is not a record in its canonical form.
#[derive(Debug, thiserror::Error)]
pub enum CanonicalError {
    /// Not a record at all.
    #[error("not a record: {0}")]
    Json(serde_json::Error),
    /// A record, but not in its one canonical text.
    #[error("not the canonical form of the record (first difference at byte {0})")]
    NotCanonical(usize),
}
