//! What the coordinator tells a worker (one JSON object on its stdin) and
//! what a worker says back (JSON lines on its stdout: progress, then one
//! final report).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::scenario::{CodecChoice, Placement};
use crate::wire::Wire;

/// One worker's share of a scenario.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WorkerPlan {
    /// Worker number, for logs.
    pub worker: usize,
    /// Gateway WebSocket URLs.
    pub targets: Vec<String>,
    /// Where viewers connect first.
    pub placement: Placement,
    /// Viewer codec.
    pub codec: CodecChoice,
    /// Percent of viewers on postcard instead of `codec` (0: none).
    #[serde(default)]
    pub binary_percent: u8,
    /// Secret to mint a token per viewer with (signed-in viewers).
    #[serde(default)]
    pub viewer_token_secret: Option<String>,
    /// Taps per like request.
    #[serde(default = "one")]
    pub like_count: u32,
    /// Framing of every connection.
    #[serde(default)]
    pub wire: Wire,
    /// Unix ms at which the ramp starts (shared by every worker).
    pub start_unix_ms: u64,
    /// Seconds from start to the traffic phase.
    pub ramp_s: u64,
    /// Seconds of traffic.
    pub duration_s: u64,
    /// This worker's share of the ramp rate (connections/s).
    pub ramp_per_s: f64,
    /// Handshakes in flight at once.
    pub connect_concurrency: usize,
    /// Source addresses 127.0.0.2..=127.0.0.(1+n).
    pub source_ips: u8,
    /// Global index of this worker's first connection (spreads addresses and targets).
    pub first_index: usize,
    /// Viewers per room.
    pub rooms: Vec<RoomShare>,
    /// Viewers per second (this worker's share) that reconnect on purpose.
    pub churn_per_s: f64,
    /// Comment senders.
    pub senders: Vec<SenderPlan>,
    /// Like senders.
    pub likers: Vec<SenderPlan>,
    /// Grab senders.
    #[serde(default)]
    pub grabbers: Vec<SenderPlan>,
    /// Percent of grabs that resend an earlier key.
    #[serde(default)]
    pub grab_retry_percent: u32,
    /// Viewers fetch the shelf after each join.
    #[serde(default)]
    pub shelf_on_join: bool,
    /// Co-stream negotiations (both parties of each in this worker, so one
    /// clock stamps and reads every message's send time).
    #[serde(default)]
    pub pairs: Vec<PairPlan>,
    /// What each negotiation sends (with `pairs`).
    #[serde(default)]
    pub costream: Option<crate::scenario::Costream>,
}

/// One co-stream negotiation: a room, its anchor and its guest, each on
/// its own target.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PairPlan {
    /// Pair number over the whole scenario (spreads source addresses).
    pub index: usize,
    /// Room id.
    pub room: String,
    /// The anchor's user id.
    pub anchor: String,
    /// The anchor's token.
    pub anchor_token: String,
    /// Index of the target the anchor connects to.
    pub anchor_target: usize,
    /// The guest's user id.
    pub guest: String,
    /// The guest's token (`real_name` true).
    pub guest_token: String,
    /// Index of the target the guest connects to.
    pub guest_target: usize,
}

fn one() -> u32 {
    1
}

/// Viewers of one room.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RoomShare {
    /// Room id.
    pub room: String,
    /// Viewer connections.
    pub viewers: usize,
}

/// A signed-in connection that sends at a fixed rate.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SenderPlan {
    /// Room id.
    pub room: String,
    /// Viewer token (JWT).
    pub token: String,
    /// Requests per second.
    pub rate: f64,
}

/// One line of worker output.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WorkerLine {
    /// Running counters, about once a second.
    Progress(Progress),
    /// The final report.
    Report(Box<WorkerReport>),
}

/// Live counters of a worker.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize)]
pub struct Progress {
    /// Worker number.
    pub worker: usize,
    /// Viewers that joined at least once.
    pub connected: u64,
    /// Failed connection attempts.
    pub failed: u64,
    /// Viewers joined right now.
    pub open: u64,
    /// Frames received.
    pub frames: u64,
    /// Marked comments received by viewers.
    pub comments: u64,
    /// Successful reconnects.
    pub reconnects: u64,
    /// Comments acked to senders.
    pub acked: u64,
    /// Co-stream pairs live (set up for their negotiation).
    #[serde(default)]
    pub pairs_live: u64,
}

/// Per-second figures of one worker (seconds from the traffic start; the
/// ramp has negative seconds).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Second {
    /// Seconds since the traffic phase began.
    pub t: i64,
    /// Frames received in this second.
    pub frames: u64,
    /// Bytes received.
    pub bytes: u64,
    /// Marked comments received by viewers.
    pub comments: u64,
    /// Viewers joined at the end of the second.
    pub open: u64,
    /// Latency of a sample of viewers in this second (V2, base64).
    pub latency: Option<String>,
}

/// Comments and likes of one kind of sender.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct SendCounts {
    /// Requests sent.
    pub sent: u64,
    /// Acked.
    pub acked: u64,
    /// Refusals by error code.
    pub refused: BTreeMap<String, u64>,
    /// Sent per room (comments only).
    pub per_room: BTreeMap<String, u64>,
    /// Sender reconnects.
    pub reconnects: u64,
    /// Like taps sent (Σ `count` of the like requests; likes only).
    #[serde(default)]
    pub taps_sent: u64,
    /// Like taps acked.
    #[serde(default)]
    pub taps_acked: u64,
    /// Units reserved by accepted grabs (grabs only; a retried key's
    /// answer is not counted again).
    #[serde(default)]
    pub units: u64,
    /// Grab retries (a resent key) answered.
    #[serde(default)]
    pub retries: u64,
}

/// Counts of one room's viewers in a worker.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize)]
pub struct RoomCounts {
    /// Viewers that joined.
    pub viewers: u64,
    /// Marked comments they received.
    pub received: u64,
}

/// Everything a worker measured.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct WorkerReport {
    /// Worker number.
    pub worker: usize,
    /// Viewers planned.
    pub planned: u64,
    /// Viewers that joined at least once.
    pub connected: u64,
    /// Failed connection attempts (first connects and reconnects).
    pub failed: u64,
    /// Viewers that never joined.
    pub never_joined: u64,
    /// First few error messages.
    pub errors: Vec<String>,
    /// Connect-to-joined time of first connects (µs, V2 base64).
    pub connect_hist: String,
    /// Comment send → viewer receive (µs, V2 base64).
    pub latency_hist: String,
    /// Disconnect → joined again (µs, V2 base64).
    pub rejoin_hist: String,
    /// Comment request sent → its `ack` received (µs, V2 base64).
    #[serde(default)]
    pub comment_ack_hist: String,
    /// Like request sent → its `ack` received (µs, V2 base64).
    #[serde(default)]
    pub like_ack_hist: String,
    /// Grab request sent → its answer (accepted or refused) (µs, V2 base64).
    #[serde(default)]
    pub grab_ack_hist: String,
    /// Grabs sent and answered.
    #[serde(default)]
    pub grabs_sent: SendCounts,
    /// `shelf` replies the viewers received, and their bytes.
    #[serde(default)]
    pub shelf_replies: u64,
    /// Bytes of those replies.
    #[serde(default)]
    pub shelf_bytes: u64,
    /// Reconnects that joined again.
    pub reconnects: u64,
    /// Of those, resumes answered `recovered: true`.
    pub recovered: u64,
    /// Resumes answered `recovered: false` (the view was rebuilt: loss unknown).
    pub not_recovered: u64,
    /// Deliberate reconnects (churn).
    pub churned: u64,
    /// Closes seen, by close code (`"none"`: lost without a close frame).
    pub closes: BTreeMap<String, u64>,
    /// High-lane batches received.
    pub high_batches: u64,
    /// High-lane gaps (since > last high upto).
    pub high_gaps: u64,
    /// Offsets inside those gaps.
    pub high_missing: u64,
    /// Batches of another epoch.
    pub epoch_changes: u64,
    /// Frames received over the whole run.
    pub frames: u64,
    /// Bytes received over the whole run.
    pub bytes: u64,
    /// Marked comments received by viewers.
    pub comments: u64,
    /// Per-room viewer counts.
    pub rooms: BTreeMap<String, RoomCounts>,
    /// Comment senders.
    pub comments_sent: SendCounts,
    /// Like senders.
    pub likes_sent: SendCounts,
    /// Per-second series.
    pub series: Vec<Second>,
    /// Co-stream negotiations.
    #[serde(default)]
    pub costream: CostreamCounts,
}

/// What the co-stream negotiations of a worker measured (histograms in
/// µs, V2 base64; empty strings when the worker ran none).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct CostreamCounts {
    /// Pairs planned.
    pub pairs: u64,
    /// Pairs whose co-stream went live before the traffic start.
    pub live: u64,
    /// Pairs whose negotiation completed: every signal of both parties
    /// answered and both `end_of_candidates` received.
    pub negotiated: u64,
    /// First few setup or negotiation errors.
    pub errors: Vec<String>,
    /// `signal` requests written.
    pub sent: u64,
    /// Of those, acked by the gateway.
    pub acked: u64,
    /// Refused, by error code.
    pub refused: BTreeMap<String, u64>,
    /// Signal events received from the other party.
    pub received: u64,
    /// Acked by the sender's node but never received by the other party.
    pub lost: u64,
    /// Received with a `seq` or an embedded send index at or below one
    /// already received from that sender (reordered or duplicated).
    pub reordered: u64,
    /// `seq` numbers skipped (a `seq` above the last one + 1).
    pub gaps: u64,
    /// Signal events of another session, from someone not the other
    /// party, or with a payload that is not what was sent.
    pub misrouted: u64,
    /// SDP bytes sent.
    pub sdp_bytes: u64,
    /// Candidate bytes sent.
    pub candidate_bytes: u64,
    /// Relay latency of every signal: send → the other party's receipt.
    pub latency_hist: String,
    /// Connect → co-stream live, per pair.
    pub setup_hist: String,
    /// First offer sent → the last of both parties' messages received.
    pub negotiation_hist: String,
}
