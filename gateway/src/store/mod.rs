//! `Store`: the core's room state and the atomic operations on it (rooms,
//! the event log and its appends, snapshots, replays, likes, viewers,
//! totals, presence, the user directory, deadlines, leases). Two
//! implementations share one behaviour: in-process (the embedded single
//! node) and Redis (a cluster of nodes). Multi-step invariants are atomic
//! inside the store. Each domain slice declares its own store trait
//! (`moderation::ModerationStore`, `lotteries::LotteryStore`), which the
//! same two stores implement beside the slice; the accessors they need
//! (room data, keys, connections) are `pub(crate)` here.

pub(crate) mod memory;
pub mod redis;

pub use memory::MemoryStore;
pub use redis::RedisStore;

use async_trait::async_trait;
use protocol::{ErrorCode, EventKind, Rejection, RoomEvent, Totals};

use crate::moderation::MuteEntry;
use crate::room::Room;

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// No such room.
    #[error("room not found")]
    NotFound,
    /// The room already exists.
    #[error("room already exists")]
    Conflict,
    /// The update function refused the change.
    #[error("{0}")]
    Rejected(Rejection),
    /// The backend cannot be reached.
    #[error("store unavailable: {0}")]
    Unavailable(String),
}

impl StoreError {
    /// The rejection a client sees.
    pub fn rejection(&self) -> Rejection {
        match self {
            StoreError::NotFound => Rejection::new(ErrorCode::RoomNotFound, "no such room"),
            StoreError::Conflict => Rejection::new(ErrorCode::Conflict, "room already exists"),
            StoreError::Rejected(r) => r.clone(),
            StoreError::Unavailable(_) => {
                Rejection::new(ErrorCode::Unavailable, "backend unavailable, retry later")
            }
        }
    }
}

/// A position in a room's event log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogPosition {
    /// Identifies one incarnation of the log; offsets restart with a new epoch.
    pub epoch: String,
    /// Offset of the last event (0: none yet).
    pub offset: u64,
}

/// What a joining client receives, read atomically.
#[derive(Debug, Clone)]
pub struct Snapshot {
    /// The room.
    pub room: Room,
    /// The log head at snapshot time.
    pub position: LogPosition,
    /// Totals (without `online`, which the hubs know).
    pub totals: Totals,
    /// The last comments, oldest first.
    pub recent: Vec<RoomEvent>,
}

/// Answer to a resume request.
#[derive(Debug, Clone, PartialEq)]
pub enum Replay {
    /// Exactly the events after the position, oldest first.
    Recovered(Vec<RoomEvent>),
    /// The log no longer holds the position (or the epoch changed).
    NotRecovered,
}

/// A comment waiting in a node's batch for its room (see `hub::appender`).
#[derive(Debug, Clone)]
pub struct PendingComment {
    /// When the gateway accepted it, unix ms.
    pub ts: i64,
    /// The comment as it will be logged.
    pub comment: protocol::Comment,
    /// The slow-mode interval to claim for its sender (0: none, or exempt).
    pub slow_mode_ms: u64,
}

/// What became of one comment of a batch, decided in the store's atomic
/// step: the mute list and the slow-mode claims at that instant.
#[derive(Debug, Clone, PartialEq)]
pub enum Appended {
    /// In the log at this offset.
    Logged(RoomEvent),
    /// The sender is muted (not shadow).
    Muted(MuteEntry),
    /// The sender is shadow-muted: echo to the sender only.
    Shadow,
    /// Slow mode: the sender's slot is taken for this many more ms.
    SlowMode(u64),
    /// The sender's comment rate in the room (over every node) is used up
    /// for this many more ms.
    RateLimited(u64),
}

/// The per-user comment rate a batch enforces, per room over every node: a
/// token bucket of `burst` comments refilled at `per_s` a second.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CommentRate {
    /// Comments per second (0: no limit).
    pub per_s: u32,
    /// Bucket size.
    pub burst: u32,
}

impl CommentRate {
    /// One step of a sender's bucket holding `tokens` at `last_ms`, for a
    /// comment at `now_ms`: the new bucket, and the wait when it is empty.
    pub fn take(self, bucket: Option<(f64, i64)>, now_ms: i64) -> ((f64, i64), Option<u64>) {
        let burst = f64::from(self.burst.max(1));
        let per_ms = f64::from(self.per_s) / 1000.0;
        let (tokens, last) = bucket.unwrap_or((burst, now_ms));
        let tokens = (tokens + (now_ms - last).max(0) as f64 * per_ms).min(burst);
        if tokens < 1.0 {
            let wait = ((1.0 - tokens) / per_ms).ceil().max(1.0) as u64;
            ((tokens, now_ms.max(last)), Some(wait))
        } else {
            ((tokens - 1.0, now_ms.max(last)), None)
        }
    }
}

/// Most comments one `append_comments` call takes (the caller splits).
pub const MAX_BATCH: usize = 1000;

/// A read-modify-write of a room, retried by the store until it applies atomically.
pub type RoomUpdate<'a> = &'a (dyn Fn(&mut Room) -> Result<(), Rejection> + Send + Sync);

/// Room state and atomic operations.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Creates a room; `Conflict` when the id exists.
    async fn create_room(&self, room: Room) -> Result<(), StoreError>;
    /// Reads a room.
    async fn room(&self, id: &str) -> Result<Room, StoreError>;
    /// Lists every room.
    async fn rooms(&self) -> Result<Vec<Room>, StoreError>;
    /// Applies `f` atomically and returns the updated room.
    async fn update_room(&self, id: &str, f: RoomUpdate<'_>) -> Result<Room, StoreError>;
    /// Appends an event to the room log, assigning the next offset; comments
    /// also count in totals and join the recent comments. A comment of a
    /// user muted at `ts` is refused (`Rejected(muted)`) in the same atomic
    /// step, so no comment slips in between a mute and its purge.
    async fn append(&self, room: &str, ts: i64, kind: EventKind) -> Result<RoomEvent, StoreError>;
    /// Appends `kind` unless an event was already appended under `once`
    /// (per room), in one atomic step: `None` when it was. For what must
    /// reach the log exactly once even when two nodes (a draw and its
    /// takeover) both try.
    async fn append_once(
        &self,
        room: &str,
        ts: i64,
        kind: EventKind,
        once: &str,
    ) -> Result<Option<RoomEvent>, StoreError>;
    /// Appends a batch of comments in one atomic step, in order. Each is
    /// checked against the mute list at that moment (a muted sender's
    /// comment is refused, a shadow-muted one's is not logged), takes a
    /// token of its sender's comment rate in the room (`rate`, over every
    /// node) and claims its sender's slow-mode slot (a comment whose slot is
    /// taken is refused); a refused comment claims nothing. At most
    /// [`MAX_BATCH`].
    async fn append_comments(
        &self,
        room: &str,
        batch: &[PendingComment],
        rate: CommentRate,
    ) -> Result<Vec<Appended>, StoreError>;
    /// Room, log head, totals and the last `recent` comments, read together.
    async fn snapshot(&self, room: &str, recent: usize) -> Result<Snapshot, StoreError>;
    /// The log head.
    async fn head(&self, room: &str) -> Result<LogPosition, StoreError>;
    /// The log head's offset alone, in one read (0: none yet, or no room).
    async fn head_offset(&self, room: &str) -> Result<u64, StoreError>;
    /// The events after `from`, or `NotRecovered` when the log lost them.
    async fn replay(&self, room: &str, from: &LogPosition) -> Result<Replay, StoreError>;
    /// Adds like taps; returns the new total.
    async fn add_likes(&self, room: &str, taps: u64) -> Result<u64, StoreError>;
    /// Counts a distinct viewer; whether the count (or its estimate) rose.
    async fn add_viewer(&self, room: &str, user: &str) -> Result<bool, StoreError>;
    /// Likes, comments and distinct viewers.
    async fn totals(&self, room: &str) -> Result<Totals, StoreError>;
    /// Sets this node's contribution to a room's presence until `expires_ms`
    /// (a node that dies stops refreshing and its viewers disappear).
    async fn set_presence(
        &self,
        room: &str,
        node: &str,
        presence: Presence,
        expires_ms: i64,
    ) -> Result<(), StoreError>;
    /// The room's presence summed over every node whose contribution is live at `now_ms`.
    async fn presence(&self, room: &str, now_ms: i64) -> Result<Presence, StoreError>;
    /// Whether the room's anchor vanished with its node: a node's presence
    /// that counted anchor sessions expired (the node died or lost the
    /// store), and no live presence counts one. Clears those expired
    /// entries, so it answers true once per loss. `presence` keeps expired
    /// entries that counted anchors for this check.
    async fn anchor_presence_lost(&self, room: &str, now_ms: i64) -> Result<bool, StoreError>;
    /// Marks `node` alive until `expires_ms` (the presence heartbeat): the
    /// user directory addresses only live nodes.
    async fn set_node_alive(&self, node: &str, expires_ms: i64) -> Result<(), StoreError>;
    /// Keeps `info` (a JSON object: what `node` reports of itself) until
    /// `expires_ms`, for the cluster view (`GET /api/nodes`).
    async fn set_node_info(
        &self,
        node: &str,
        info: &str,
        expires_ms: i64,
    ) -> Result<(), StoreError>;
    /// Every node's last report that has not expired at `now_ms`, as
    /// (node id, info), by node id.
    async fn node_infos(&self, now_ms: i64) -> Result<Vec<(String, String)>, StoreError>;
    /// Adds `node` to the directory entry of each of `users` (their first
    /// session on it), so targeted events for them are sent to it.
    async fn add_user_node(&self, users: &[String], node: &str) -> Result<(), StoreError>;
    /// Removes `node` from the user's directory entry (their last session
    /// on it left).
    async fn remove_user_node(&self, user: &str, node: &str) -> Result<(), StoreError>;
    /// The nodes alive at `now_ms` that hold a session of `user`.
    async fn user_nodes(&self, user: &str, now_ms: i64) -> Result<Vec<String>, StoreError>;
    /// Records when the room's next timer is due (`None`: no timer).
    async fn set_deadline(&self, room: &str, at_ms: Option<i64>) -> Result<(), StoreError>;
    /// Counts `room` as live and as started on `day` (days since the unix
    /// epoch, UTC) unless that would pass `max_live` rooms live at once or
    /// `max_per_day` starts that day (0: no limit); atomically.
    async fn claim_live(
        &self,
        room: &str,
        day: u64,
        max_live: u64,
        max_per_day: u64,
    ) -> Result<LiveClaim, StoreError>;
    /// Undoes a claim whose start did not happen (the room still counts if
    /// `started_today` is false: only the live set is left).
    async fn release_live(
        &self,
        room: &str,
        day: u64,
        started_today: bool,
    ) -> Result<(), StoreError>;
    /// Rooms live now and lives started on `day`.
    async fn live_counts(&self, day: u64) -> Result<(u64, u64), StoreError>;
    /// Rooms whose timer is due at `now_ms`.
    async fn due_rooms(&self, now_ms: i64) -> Result<Vec<String>, StoreError>;
    /// Takes or extends the lease `name` for `node` until `now_ms + ttl_ms`.
    /// Returns the fencing token while `node` holds it (a new token on every
    /// new acquisition), `None` while another node does.
    async fn lease(
        &self,
        name: &str,
        node: &str,
        now_ms: i64,
        ttl_ms: i64,
    ) -> Result<Option<u64>, StoreError>;
    /// Whether the backend answers (readiness).
    async fn ping(&self) -> Result<(), StoreError>;
    /// The store's data epoch: an id written once into an empty store, so
    /// a store that lost its data (a Redis restarted without persistence)
    /// is told apart from one that was only unreachable. Writes `candidate`
    /// unless an epoch is there; returns the epoch in force.
    async fn claim_store_epoch(&self, candidate: &str) -> Result<String, StoreError>;
    /// The data epoch in force, `None` when the store holds none (it lost
    /// its data).
    async fn store_epoch(&self) -> Result<Option<String>, StoreError>;
}

/// The error of a comment appended for a muted user.
pub fn muted() -> StoreError {
    StoreError::Rejected(Rejection::new(
        ErrorCode::Muted,
        "you are muted in this room",
    ))
}

/// What a start's claim on the deployment's live limits found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LiveClaim {
    /// Counted now (undo with `release_live(.., true)` if the start fails).
    Claimed,
    /// The room already counted as live (nothing to undo).
    AlreadyLive,
    /// Rooms live at once are at the limit.
    TooManyLive,
    /// Lives started today are at the limit.
    TooManyToday,
}

/// Connections in a room, and how many of them are the anchor's.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Presence {
    /// Sessions in the room.
    pub online: u64,
    /// Sessions of the anchor.
    pub anchors: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_comment_rate_bucket_allows_the_burst_then_the_rate() {
        let rate = CommentRate { per_s: 2, burst: 3 };
        let mut bucket = None;
        for _ in 0..3 {
            let (b, wait) = rate.take(bucket, 1_000);
            assert_eq!(wait, None);
            bucket = Some(b);
        }
        let (b, wait) = rate.take(bucket, 1_000);
        assert_eq!(wait, Some(500));
        // 250 ms refill half a token: 250 ms more to wait.
        let (b, wait) = rate.take(Some(b), 1_250);
        assert_eq!(wait, Some(250));
        let (_, wait) = rate.take(Some(b), 1_500);
        assert_eq!(wait, None);
        // A clock that went back does not mint tokens.
        let (b, _) = rate.take(None, 5_000);
        let (b, _) = rate.take(Some(b), 5_000);
        let (b, _) = rate.take(Some(b), 5_000);
        assert_eq!(rate.take(Some(b), 4_000).1, Some(500));
    }
}
