//! What a lottery is (kind, keyword, window, K, prize, rules), its limits and
//! its canonical announcement bytes (the exact bytes that are hashed and
//! signed; see docs/lottery.md, "Announcement bytes").

use serde::{Deserialize, Serialize};

use crate::beacon::{BeaconCommitment, first_round_after};

/// Domain tag that starts every announcement encoding (19 ASCII bytes).
pub const ANNOUNCE_TAG: &[u8] = b"lottery-announce-v1";

/// Hard cap on any text field, applied even when verifying someone else's
/// record, so lengths always fit the 4-byte length prefix.
pub const MAX_FIELD_BYTES: usize = 1 << 20;

/// Who takes part in a lottery.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LotteryKind {
    /// Viewers who comment during the window (optionally with a keyword).
    Comment,
    /// Viewers who like during the window.
    Like,
}

impl LotteryKind {
    /// The kind's byte in the announcement encoding.
    pub fn code(self) -> u8 {
        match self {
            Self::Comment => 0x01,
            Self::Like => 0x02,
        }
    }
}

/// A lottery as announced: everything fixed before anyone takes part.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LotteryDefinition {
    /// Unique id of this lottery (UTF-8, non-empty).
    pub lottery_id: String,
    /// Room the lottery runs in (UTF-8, non-empty).
    pub room_id: String,
    /// Comment or like lottery.
    pub kind: LotteryKind,
    /// For comment lotteries: only comments containing this keyword count.
    /// Matching happens on folded text elsewhere; here it is only recorded.
    pub keyword: Option<String>,
    /// Window start, unix milliseconds (inclusive).
    pub window_start_ms: u64,
    /// Window end, unix milliseconds (exclusive); the draw happens after it.
    pub window_end_ms: u64,
    /// Number of winners K.
    pub winners: u32,
    /// Prize label shown to viewers.
    pub prize: String,
    /// Rules text shown to viewers.
    pub rules: String,
    /// The drand round the draw mixes in (docs/lottery.md §3); absent in
    /// records made without a beacon (the key holder could then grind the
    /// participant set).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub beacon: Option<BeaconCommitment>,
}

/// Operator-side limits enforced when announcing and collecting.
///
/// Verification of a published record checks only the structural rules
/// (see [`LotteryDefinition::check_structure`]), never these, so that a
/// verifier does not need the operator's configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest K accepted.
    pub max_winners: u32,
    /// Longest lottery, room or user id, in UTF-8 bytes.
    pub max_id_bytes: usize,
    /// Longest keyword, in UTF-8 bytes.
    pub max_keyword_bytes: usize,
    /// Longest prize label, in UTF-8 bytes.
    pub max_prize_bytes: usize,
    /// Longest rules text, in UTF-8 bytes.
    pub max_rules_bytes: usize,
}

impl Limits {
    /// The defaults: K ≤ 1000, ids ≤ 128 bytes, keyword ≤ 64, prize ≤ 256,
    /// rules ≤ 4096.
    pub const DEFAULT: Self = Self {
        max_winners: 1000,
        max_id_bytes: 128,
        max_keyword_bytes: 64,
        max_prize_bytes: 256,
        max_rules_bytes: 4096,
    };
}

impl Default for Limits {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// Why a definition (or a participant id) was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DefinitionError {
    /// The beacon round is not the first one after the window end (or the
    /// period is 0).
    #[error("beacon round {round} is not the first round after the window end ({expected})")]
    BeaconRound {
        /// The round named.
        round: u64,
        /// The first round after the window end.
        expected: u64,
    },
    /// A required text field is empty.
    #[error("{0} must not be empty")]
    Empty(&'static str),
    /// A text field is longer than allowed.
    #[error("{field} is {len} bytes, limit {max}")]
    TooLong {
        /// Which field.
        field: &'static str,
        /// Its length in bytes.
        len: usize,
        /// The limit in bytes.
        max: usize,
    },
    /// K is 0 or above the limit.
    #[error("winners must be between 1 and {max}, got {got}")]
    Winners {
        /// The K given.
        got: u32,
        /// The limit.
        max: u32,
    },
    /// The window does not end after it starts.
    #[error("window end {end} must be after start {start}")]
    Window {
        /// Start, unix ms.
        start: u64,
        /// End, unix ms.
        end: u64,
    },
    /// A keyword was given for a like lottery.
    #[error("only comment lotteries take a keyword")]
    KeywordOnLike,
}

fn check_len(field: &'static str, text: &str, max: usize) -> Result<(), DefinitionError> {
    if text.len() > max {
        return Err(DefinitionError::TooLong {
            field,
            len: text.len(),
            max,
        });
    }
    Ok(())
}

fn check_id(field: &'static str, text: &str, max: usize) -> Result<(), DefinitionError> {
    if text.is_empty() {
        return Err(DefinitionError::Empty(field));
    }
    check_len(field, text, max)
}

impl LotteryDefinition {
    /// Structural rules every definition obeys, announced or verified:
    /// non-empty ids, K ≥ 1, end > start, keyword non-empty and only on
    /// comment lotteries, every field ≤ [`MAX_FIELD_BYTES`].
    pub fn check_structure(&self) -> Result<(), DefinitionError> {
        self.check(&Limits {
            max_winners: u32::MAX,
            max_id_bytes: MAX_FIELD_BYTES,
            max_keyword_bytes: MAX_FIELD_BYTES,
            max_prize_bytes: MAX_FIELD_BYTES,
            max_rules_bytes: MAX_FIELD_BYTES,
        })
    }

    /// The structural rules plus the operator's `limits`.
    pub fn check(&self, limits: &Limits) -> Result<(), DefinitionError> {
        check_id("lottery_id", &self.lottery_id, limits.max_id_bytes)?;
        check_id("room_id", &self.room_id, limits.max_id_bytes)?;
        if let Some(keyword) = &self.keyword {
            if self.kind == LotteryKind::Like {
                return Err(DefinitionError::KeywordOnLike);
            }
            check_id("keyword", keyword, limits.max_keyword_bytes)?;
        }
        if self.window_end_ms <= self.window_start_ms {
            return Err(DefinitionError::Window {
                start: self.window_start_ms,
                end: self.window_end_ms,
            });
        }
        if self.winners == 0 || self.winners > limits.max_winners {
            return Err(DefinitionError::Winners {
                got: self.winners,
                max: limits.max_winners,
            });
        }
        check_len("prize", &self.prize, limits.max_prize_bytes)?;
        check_len("rules", &self.rules, limits.max_rules_bytes)?;
        if let Some(b) = &self.beacon {
            let expected = first_round_after(b.genesis_s, b.period_s, self.window_end_ms);
            if b.period_s == 0 || b.round != expected {
                return Err(DefinitionError::BeaconRound {
                    round: b.round,
                    expected,
                });
            }
        }
        Ok(())
    }

    /// Whether an action at `ts_ms` falls in the window `[start, end)`.
    pub fn in_window(&self, ts_ms: u64) -> bool {
        (self.window_start_ms..self.window_end_ms).contains(&ts_ms)
    }

    /// Whether the window has closed at `now_ms` (the draw may happen).
    pub fn is_closed(&self, now_ms: u64) -> bool {
        now_ms >= self.window_end_ms
    }

    /// The canonical announcement bytes:
    /// `"lottery-announce-v1" ‖ str(lottery_id) ‖ str(room_id) ‖ u8(kind) ‖
    /// keyword ‖ u64be(start) ‖ u64be(end) ‖ u32be(K) ‖ str(prize) ‖
    /// str(rules)`, where `str(s) = u32be(len(s)) ‖ UTF-8(s)` and keyword is
    /// `0x00` when absent or `0x01 ‖ str(keyword)`; with a beacon,
    /// followed by [`BeaconCommitment::canonical_bytes`] (nothing without).
    ///
    /// Call [`check_structure`](Self::check_structure) first: lengths above
    /// `u32::MAX` would be truncated otherwise.
    pub fn canonical_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(
            ANNOUNCE_TAG.len()
                + 64
                + self.lottery_id.len()
                + self.room_id.len()
                + self.prize.len()
                + self.rules.len(),
        );
        out.extend_from_slice(ANNOUNCE_TAG);
        put_str(&mut out, &self.lottery_id);
        put_str(&mut out, &self.room_id);
        out.push(self.kind.code());
        match &self.keyword {
            None => out.push(0x00),
            Some(keyword) => {
                out.push(0x01);
                put_str(&mut out, keyword);
            }
        }
        out.extend_from_slice(&self.window_start_ms.to_be_bytes());
        out.extend_from_slice(&self.window_end_ms.to_be_bytes());
        out.extend_from_slice(&self.winners.to_be_bytes());
        put_str(&mut out, &self.prize);
        put_str(&mut out, &self.rules);
        if let Some(beacon) = &self.beacon {
            out.extend_from_slice(&beacon.canonical_bytes());
        }
        out
    }
}

fn put_str(out: &mut Vec<u8>, text: &str) {
    let len = u32::try_from(text.len()).unwrap_or(u32::MAX);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(text.as_bytes());
}
