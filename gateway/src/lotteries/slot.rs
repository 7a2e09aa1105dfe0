//! A lottery's slot in the room record: what the comment path and the
//! timers need (kind, keyword, window, state), nothing more. It rides in
//! the record because every request reads the record from its hub anyway;
//! the terms, the announcement and the published record live in the
//! slice's store (`LotteryStore`).

use protocol::{LotteryKind, Rejection};
use serde::{Deserialize, Serialize};

use super::{DRAW_RECLAIM_MS, not_found};
use crate::room::Room;

/// A lottery as the room record holds it: what the comment path needs
/// (kind, keyword, window, state), nothing more.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LotterySlot {
    /// Lottery id, unique in the room (`lot-1`, `lot-2`, ...).
    pub id: String,
    /// Comment or like lottery.
    pub kind: LotteryKind,
    /// Keyword of a comment lottery.
    pub keyword: Option<String>,
    /// Window length once started.
    pub duration_s: u64,
    /// Where it is.
    pub state: SlotState,
    /// Window start, unix ms (set at start).
    pub window_start_ms: Option<u64>,
    /// Window end, unix ms (set at start): the draw time.
    pub window_end_ms: Option<u64>,
    /// When a node claimed the draw, unix ms.
    pub drawing_since: Option<i64>,
    /// Committed, waiting for its beacon round: when to fetch it (next).
    #[serde(default)]
    pub beacon_try_ms: Option<i64>,
}

/// The stored state of a lottery.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SlotState {
    /// Waiting for the anchor.
    Created,
    /// Window open (or closed and not yet drawn).
    Running,
    /// A node claimed the draw.
    Drawing,
    /// Drawn; the record is stored.
    Drawn,
    /// Abandoned; the abnormal record is stored.
    Abnormal,
    /// Committed and waiting for its beacon round (fetched from
    /// `beacon_try_ms` on, a timer pass per attempt).
    Beacon,
}

impl LotterySlot {
    /// Whether an action at `now` (unix ms) falls in the open window.
    pub(super) fn open_at(&self, now: u64) -> bool {
        self.state == SlotState::Running
            && self.window_start_ms.is_some_and(|s| s <= now)
            && self.window_end_ms.is_some_and(|e| now < e)
    }

    /// When the timers must look at this lottery next.
    fn deadline(&self) -> Option<i64> {
        match self.state {
            SlotState::Running => self.window_end_ms.map(|e| e as i64),
            SlotState::Drawing => self.drawing_since.map(|s| s + DRAW_RECLAIM_MS),
            SlotState::Beacon => self.beacon_try_ms,
            _ => None,
        }
    }
}

/// When the timers must look at `room` next for its lotteries: the
/// earliest draw time (or reclaim time of a stalled draw).
pub fn next_deadline(room: &Room) -> Option<i64> {
    room.lotteries
        .iter()
        .filter_map(LotterySlot::deadline)
        .min()
}

/// The slot `id` of `room`, to change in a room update.
pub(super) fn slot_mut<'a>(room: &'a mut Room, id: &str) -> Result<&'a mut LotterySlot, Rejection> {
    room.lotteries
        .iter_mut()
        .find(|s| s.id == id)
        .ok_or_else(not_found)
}
