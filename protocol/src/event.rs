//! Server → client frames: replies to requests (each echoing the request
//! `id`) and room event batches pushed once per tick.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::{ErrorCode, Rejection};
use crate::request::RequestId;
use crate::room::{Role, RoomInfo, RoomStatus, Switches, Totals};

crate::tagged_enum! {
    /// Everything the server sends.
    #[derive(Debug, Clone, PartialEq)]
    pub enum ServerFrame {
        /// First frame of every connection.
        Hello(Hello) = "hello",
        /// Reply to `join`: snapshot, and replay when resuming.
        Joined(Joined) = "joined",
        /// Success reply to a request that has nothing more to say.
        Ack(Ack) = "ack",
        /// Reply to `ping`.
        Pong(Pong) = "pong",
        /// Rejection reply.
        Error(ErrorReply) = "error",
        /// Room events of one tick and one lane.
        Batch(Batch) = "events",
        /// Reply to `mutes`: the room's active mutes.
        Mutes(MuteList) = "mutes",
        /// The shelf, answering `shelf`.
        Shelf(crate::commerce::ShelfFrame) = "shelf",
        /// A grab succeeded: the reservation.
        Grabbed(crate::commerce::Grabbed) = "grabbed",
        /// A coupon claim succeeded.
        CouponClaimed(crate::commerce::CouponClaimed) = "coupon_claimed",
        /// Reply to `lottery_proof`: the caller's inclusion proof.
        LotteryProof(crate::lottery::LotteryProof) = "lottery_proof",
    }
}

/// `mutes`: the active mutes of the joined room, by user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MuteList {
    /// The request's id.
    pub id: Option<RequestId>,
    /// One entry per muted user, sorted by user.
    pub mutes: Vec<MuteInfo>,
}

/// One active mute.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MuteInfo {
    /// The muted user.
    pub user: String,
    /// When it lifts by itself, unix ms (`None`: until unmuted).
    pub until_ms: Option<i64>,
    /// A shadow mute (the user is not told).
    pub shadow: bool,
    /// Who muted them.
    pub by: String,
    /// When, unix ms.
    pub at_ms: i64,
}

/// `hello`: who the server thinks you are, and the heartbeat contract.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hello {
    /// Connection id, for support and logs.
    pub session: String,
    /// Signed-in user id, or null for anonymous.
    pub user: Option<String>,
    /// Interval of the server's WebSocket pings, in milliseconds.
    pub heartbeat_ms: u64,
    /// The connection closes (4002) after this long without any client frame.
    pub idle_timeout_ms: u64,
    /// Largest frame the server accepts, in bytes.
    pub max_frame_bytes: u64,
    /// Longest comment, in characters.
    pub max_comment_chars: u64,
}

/// `joined`: the room snapshot; with `resume`, what was missed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Joined {
    /// Echo of the request id.
    pub id: Option<RequestId>,
    /// The room.
    pub room: RoomInfo,
    /// The caller's role in this room.
    pub role: Role,
    /// Epoch of the room's event log.
    pub epoch: String,
    /// Offset of the last event in the log at snapshot time.
    pub offset: u64,
    /// Running figures.
    pub totals: Totals,
    /// Last comments, oldest first (empty when `recovered` is true).
    pub recent: Vec<RoomEvent>,
    /// With `resume`: true when `missed` holds exactly every event after the
    /// client's offset; false when the log no longer holds it (the snapshot
    /// is fresh and the client must rebuild its view). Null without `resume`.
    pub recovered: Option<bool>,
    /// Events after the client's offset, oldest first (only when recovered).
    pub missed: Vec<RoomEvent>,
    /// The room's open lotteries (created, running or being drawn), oldest
    /// first, each as its latest `created` or `announced` event.
    #[serde(default)]
    pub lotteries: Vec<crate::lottery::LotteryEvent>,
    /// The room's live preview while it has not started (and after the
    /// start when the anchor chose to keep it), else null.
    #[serde(default)]
    pub preview: Option<crate::room::Preview>,
    /// The shelf version, the pushed card, the explaining item and the
    /// active coupon.
    #[serde(default)]
    pub commerce: crate::commerce::CommerceView,
    /// The notice showing now, with its time left, else null.
    #[serde(default)]
    pub notice: Option<Box<crate::notice::NoticeShown>>,
    /// The co-stream state, and the joiner's own session when a party.
    #[serde(default)]
    pub costream: Box<crate::costream::CostreamView>,
    /// The PK running on the room's link (its last `pk` event), else null.
    #[serde(default)]
    pub pk: Option<Box<crate::pk::PkEvent>>,
}

/// `preview` event: the room's live preview as it is now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PreviewChanged {
    /// The preview, or null when it was removed.
    pub preview: Option<crate::room::Preview>,
}

/// `ack`: the request succeeded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ack {
    /// Echo of the request id.
    pub id: Option<RequestId>,
    /// The event the request produced, e.g. the sender's own comment, which
    /// the sender always receives even when the room's comment lane is sampled.
    pub event: Option<RoomEvent>,
    /// The room status after a `live` action.
    pub status: Option<RoomStatus>,
}

/// `pong`: heartbeat reply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pong {
    /// Echo of the request id.
    pub id: Option<RequestId>,
    /// Server time, unix milliseconds.
    pub ts: i64,
}

/// `error`: the request was refused; the connection stays open.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorReply {
    /// Echo of the request id (null when the frame could not be decoded).
    pub id: Option<RequestId>,
    /// Stable code.
    pub code: ErrorCode,
    /// Human message.
    pub message: String,
    /// When rate limited: milliseconds to wait.
    pub retry_after_ms: Option<u64>,
}

impl ErrorReply {
    /// Builds the reply for a rejection.
    pub fn new(id: Option<RequestId>, r: Rejection) -> Self {
        ErrorReply {
            id,
            code: r.code,
            message: r.message,
            retry_after_ms: r.retry_after_ms,
        }
    }
}

/// Priority lane of a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Lane {
    /// Never dropped: status, moderation, replies, commerce pushes.
    High,
    /// Sampled under load and dropped first: comments, totals.
    Low,
}

/// `events`: room events of one tick in one lane, oldest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Batch {
    /// Room id.
    pub room: String,
    /// Log epoch of the offsets.
    pub epoch: String,
    /// Lane of every event in this batch.
    pub lane: Lane,
    /// High lane: every high event with offset in `(since, upto]` is in this
    /// batch, and `since` equals the previous high batch's `upto`, so a client
    /// whose last high `upto` is below `since` has lost events. Low lane: the
    /// range the sample was drawn from.
    pub since: u64,
    /// Last offset covered.
    pub upto: u64,
    /// The events.
    pub events: Vec<RoomEvent>,
    /// Running totals when they changed this tick (low lane only).
    pub totals: Option<Totals>,
}

/// One entry of a room's event log.
#[derive(Debug, Clone, PartialEq)]
pub struct RoomEvent {
    /// Position in the room log; strictly increasing within an epoch.
    pub offset: u64,
    /// When the gateway accepted it, unix milliseconds.
    pub ts: i64,
    /// What happened.
    pub kind: EventKind,
}

impl RoomEvent {
    /// The lane this event travels in.
    pub fn lane(&self) -> Lane {
        self.kind.lane()
    }
}

crate::tagged_enum! {
    /// What a room event says.
    #[derive(Debug, Clone, PartialEq)]
    pub enum EventKind {
        /// A comment.
        Comment(Comment) = "comment",
        /// The room's lifecycle status changed.
        Status(StatusChanged) = "status",
        /// Room switches changed.
        Switches(Switches) = "switches",
        /// Comments removed for everyone: drop them from the view.
        CommentDeleted(CommentDeleted) = "comment_deleted",
        /// A user was muted: drop every comment of theirs from the view.
        UserPurged(UserPurged) = "user_purged",
        /// A lottery changed state (high lane).
        Lottery(Box<crate::lottery::LotteryEvent>) = "lottery",
        /// Internal: the room record changed (between gateway nodes only;
        /// never sent to clients).
        Record(RoomRecord) = "record",
        /// The room's live preview changed (null: removed).
        Preview(PreviewChanged) = "preview",
        /// The goods shelf changed (high lane).
        Goods(crate::commerce::GoodsChanged) = "goods",
        /// The pushed goods card changed (high lane).
        Card(Box<crate::commerce::CardChanged>) = "card",
        /// The item being explained changed (high lane).
        Explaining(crate::commerce::ExplainingChanged) = "explaining",
        /// An item sold out (high lane).
        SoldOut(crate::commerce::SoldOut) = "sold_out",
        /// Units left of an item (low lane, at most once a second per item).
        Stock(crate::commerce::Stock) = "stock",
        /// The room's active coupon changed (high lane).
        Coupon(crate::commerce::CouponChanged) = "coupon",
        /// Coupons claimed so far (low lane, at most once a second).
        CouponClaims(crate::commerce::CouponClaims) = "coupon_claims",
        /// A notice was pushed, withdrawn or expired (high lane).
        Notice(crate::notice::NoticeEvent) = "notice",
        /// The room's public co-stream state changed (high lane).
        Costream(crate::costream::CostreamState) = "costream",
        /// A co-stream session's step (to its two parties only).
        CostreamStep(crate::costream::CostreamStep) = "costream_step",
        /// The co-stream applicants (to the anchor only).
        CostreamApplicants(crate::costream::CostreamApplicants) = "costream_applicants",
        /// A relayed signalling message (to the other party only).
        Signal(Box<crate::costream::SignalEvent>) = "signal",
        /// The room's anchor-to-anchor link changed (high lane).
        Link(Box<crate::costream::LinkState>) = "link",
        /// A link's step (to the two anchors only).
        LinkStep(Box<crate::costream::LinkStep>) = "link_step",
        /// A PK on the room's link started, scored or ended (high lane,
        /// in both rooms).
        Pk(Box<crate::pk::PkEvent>) = "pk",
    }
}

impl EventKind {
    /// Whether the event is for the gateway nodes only: it holds an offset
    /// in the log but never reaches a client.
    pub fn is_internal(&self) -> bool {
        matches!(self, EventKind::Record(_))
    }

    /// Comments are low priority; everything else is high.
    pub fn lane(&self) -> Lane {
        match self {
            EventKind::Comment(_) | EventKind::Stock(_) | EventKind::CouponClaims(_) => Lane::Low,
            _ => Lane::High,
        }
    }
}

/// A comment as viewers see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Comment {
    /// Sender's user id.
    pub user: String,
    /// Sender's nickname.
    pub nick: String,
    /// Text.
    pub text: String,
    /// Sender's role, so clients can badge anchors and assistants.
    pub role: Role,
}

/// `comment_deleted`: these comment offsets are gone for everyone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommentDeleted {
    /// Offsets of the deleted comment events.
    pub offsets: Vec<u64>,
}

/// `user_purged`: the user was muted and every comment of theirs is deleted,
/// including ones older than the room log still shown by a client.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserPurged {
    /// The muted user.
    pub user: String,
    /// Offsets of the user's comments the room log still held.
    pub offsets: Vec<u64>,
}

/// The room record after a change, as the store keeps it (JSON), with its
/// version. Every node's room hub applies the newest version it has seen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomRecord {
    /// Increases by one with every change of the record.
    pub version: u64,
    /// The record, JSON.
    pub record: String,
}

/// A lifecycle change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusChanged {
    /// The new status.
    pub status: RoomStatus,
    /// Why, e.g. `"anchor_disconnected"`, `"abnormal_timeout"`, `"max_duration"`.
    pub reason: Option<String>,
}

#[derive(Serialize)]
struct JsonEventRef<'a> {
    offset: u64,
    ts: i64,
    #[serde(flatten)]
    kind: &'a EventKind,
}

#[derive(Deserialize)]
struct JsonEvent {
    offset: u64,
    ts: i64,
    #[serde(flatten)]
    kind: EventKind,
}

impl Serialize for RoomEvent {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if s.is_human_readable() {
            JsonEventRef {
                offset: self.offset,
                ts: self.ts,
                kind: &self.kind,
            }
            .serialize(s)
        } else {
            (self.offset, self.ts, &self.kind).serialize(s)
        }
    }
}

impl<'de> Deserialize<'de> for RoomEvent {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        if d.is_human_readable() {
            let j = JsonEvent::deserialize(d)?;
            Ok(RoomEvent {
                offset: j.offset,
                ts: j.ts,
                kind: j.kind,
            })
        } else {
            let (offset, ts, kind) = <(u64, i64, EventKind)>::deserialize(d)?;
            Ok(RoomEvent { offset, ts, kind })
        }
    }
}
