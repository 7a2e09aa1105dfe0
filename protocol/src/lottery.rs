//! Lottery frames: the anchor's `lottery_create` and `lottery_start`
//! requests and the `lottery` room event that follows a lottery through
//! its states (created, announced, committed, drawn, abnormal).

use serde::{Deserialize, Serialize};

/// Who takes part in a lottery.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LotteryKind {
    /// Viewers who comment during the window (with the keyword when set).
    Comment,
    /// Viewers who like during the window.
    Like,
}

/// The terms of a lottery, as created (before it has a window).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LotteryTerms {
    /// Comment or like lottery.
    pub kind: LotteryKind,
    /// Comment lotteries only: a comment counts when its folded text
    /// contains the folded keyword.
    #[serde(default)]
    pub keyword: Option<String>,
    /// Length of the window once started, in seconds.
    pub duration_s: u64,
    /// Number of winners (K).
    pub winners: u32,
    /// What the winners get.
    pub prize: String,
    /// Free-text rules, signed with the announcement.
    #[serde(default)]
    pub rules: String,
}

/// `lottery_create`: the anchor or sub-anchor creates a lottery in the
/// joined room (the admin API does the same over HTTP).
pub type LotteryCreate = LotteryTerms;

/// `lottery_start`: opens a created lottery's window now (room live only).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LotteryStart {
    /// Lottery id, from the `created` event.
    pub lottery: String,
}

/// Where a lottery is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LotteryState {
    /// Created, waiting for the anchor to start it.
    Created,
    /// Started: the window is open and the signed announcement published.
    Announced,
    /// The window closed; the participant set is committed (root, count).
    Committed,
    /// Winners drawn and published.
    Drawn,
    /// The live ended before the draw: nobody wins.
    Abnormal,
}

/// A winner and their redemption code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LotteryWinner {
    /// The winner's user id.
    pub user: String,
    /// The redemption code (兑奖码).
    pub code: String,
}

/// The signed announcement of a started lottery (docs/lottery.md section 1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LotteryAnnouncement {
    /// Window start, unix ms (inclusive).
    pub window_start_ms: u64,
    /// Window end, unix ms (exclusive): the draw time.
    pub window_end_ms: u64,
    /// Ed25519 public key of the node group, hex.
    pub public_key: String,
    /// Ed25519 signature over the announcement bytes, hex.
    pub signature: String,
    /// SHA-256 of the announcement bytes, hex.
    pub announcement_hash: String,
    /// The drand round the draw will mix in, as the signed definition names
    /// it (docs/lottery.md §3.1); null without a beacon.
    pub beacon: Option<LotteryBeacon>,
}

/// The committed beacon round of an announcement (hex as in the record).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LotteryBeacon {
    /// drand chain hash, hex.
    pub chain_hash: String,
    /// The chain's BLS public key (compressed G2), hex.
    pub public_key: String,
    /// Time of round 1, unix s.
    pub genesis_s: u64,
    /// Seconds between rounds.
    pub period_s: u32,
    /// The committed round: the first one after the window end.
    pub round: u64,
}

/// The committed participant set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LotteryCommitment {
    /// Merkle root of the canonical participant list, hex.
    pub root: String,
    /// Number of distinct participants (N).
    pub count: u64,
    /// SHA-256 of the announcement bytes the set is committed under, hex:
    /// the `announced` event's `announcement_hash` unless the terms were
    /// re-signed.
    pub announcement_hash: String,
}

/// `lottery` room event: one state change of a lottery.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LotteryEvent {
    /// Lottery id.
    pub lottery: String,
    /// The new state.
    pub state: LotteryState,
    /// The terms (`created`, `announced`).
    pub terms: Option<LotteryTerms>,
    /// The signed announcement (`announced`).
    pub announcement: Option<LotteryAnnouncement>,
    /// The participant commitment (`committed`, `drawn`).
    pub commitment: Option<LotteryCommitment>,
    /// Winners in draw order, with their codes (`drawn`).
    pub winners: Vec<LotteryWinner>,
    /// Why it became abnormal (`abnormal`).
    pub reason: Option<String>,
}

impl LotteryEvent {
    /// An event with only the id and state set.
    pub fn new(lottery: impl Into<String>, state: LotteryState) -> Self {
        LotteryEvent {
            lottery: lottery.into(),
            state,
            terms: None,
            announcement: None,
            commitment: None,
            winners: vec![],
            reason: None,
        }
    }
}

/// `lottery_proof`: the caller's own Merkle inclusion proof in a drawn
/// lottery of the joined room (signed-in users; the same proof as the
/// public HTTP route).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LotteryProofRequest {
    /// Lottery id.
    pub lottery: String,
}

/// An RFC 6962 audit path (docs/lottery.md section 2): the leaf's place in
/// the committed, sorted participant list and the sibling hashes up to the
/// root.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MerkleProof {
    /// Position of the leaf in the sorted list, from 0.
    pub leaf_index: u64,
    /// Number of leaves (the committed count).
    pub tree_size: u64,
    /// Sibling hashes from the leaf up to the root, lowercase hex.
    pub audit_path: Vec<String>,
}

/// Reply to `lottery_proof`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LotteryProof {
    /// The request's id.
    pub id: Option<crate::request::RequestId>,
    /// Lottery id.
    pub lottery: String,
    /// The committed Merkle root, lowercase hex (the record's
    /// `commitment.root`).
    pub root: String,
    /// The committed participant count.
    pub count: u64,
    /// The caller's user id: the proven leaf.
    pub user: String,
    /// The audit path.
    pub proof: MerkleProof,
}
