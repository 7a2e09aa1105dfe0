//! The realtime dashboard (数据看板): per-room figures summed in the store
//! (so every node reads the same numbers), a stream of them once a second
//! to console clients (SSE, `http.rs`), and a curve point every
//! `dashboard_curve_ms`, taken once across nodes (the room timer's lease,
//! then a write-once point in the store) and kept after the live ends.
//!
//! Figures: online now (the presence every node writes at its tick) and
//! its peak, distinct viewers, likes and comments (the room totals), lottery
//! participants (summed over the room's lotteries), joins (counted by each
//! node and added to the store every [`FLUSH_EVERY`]) and joins per minute.
//! Other slices add their own counters by name through
//! [`Node::count`]: `goods_clicks`, `grabs`, `coupon_claims`,
//! `reminder_subscribers` (see docs/operations.md); the dashboard shows
//! every counter it finds.

pub mod http;
pub mod memory;
pub mod redis;
pub mod store;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use dashmap::DashMap;
use protocol::{Rejection, RoomStatus};
use serde::{Deserialize, Serialize};

pub use store::DashboardStore;

use crate::clock::now_ms;
use crate::room::Room;
use crate::service::Node;

/// How often a node adds its joins to the store (and so how stale the
/// summed figure can be).
pub const FLUSH_EVERY: Duration = Duration::from_millis(200);

/// How often a node raises each hosted room's peak to the online figure.
const PEAK_EVERY: u32 = 5;

/// Most curve points of one live: 12 h at one point per 2 minutes.
pub const MAX_POINTS: u32 = 360;

/// Counters the dashboard keeps itself; every other name in the map is a
/// slice's counter, shown under `counters`.
const JOINS: &str = "joins";
const PEAK: &str = "peak_online";
/// Prefix of the per-minute join buckets (`joins@<unix minute>`).
const JOINS_AT: &str = "joins@";

/// A room's figures at one instant.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Figures {
    /// The room.
    pub room: String,
    /// Its status (platform code).
    pub status: u16,
    /// When these were read, unix ms.
    pub at: i64,
    /// Connections in the room now, over every node.
    pub online: u64,
    /// The highest `online` seen since the room was created.
    pub peak_online: u64,
    /// Distinct viewers who joined (the store's HyperLogLog estimate).
    pub viewers: u64,
    /// Like taps.
    pub likes: u64,
    /// Comments accepted.
    pub comments: u64,
    /// Participants of the room's lotteries (a viewer in two lotteries
    /// counts twice).
    pub lottery_participants: u64,
    /// Joins (every `join` request answered, re-joins included).
    pub joins: u64,
    /// Joins in the last complete UTC minute.
    pub joins_per_minute: u64,
    /// Joins so far in the current UTC minute.
    pub joins_this_minute: u64,
    /// The other slices' counters by name (`goods_clicks`, `grabs`,
    /// `coupon_claims`, `reminder_subscribers`, ...), absent ones left out.
    pub counters: BTreeMap<String, u64>,
}

/// One curve point: the figures read at slot `index`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Point {
    /// 1 for the first point (`dashboard_curve_ms` after the start), ...
    pub index: u32,
    /// The slot's time: the live's start + `index` × `dashboard_curve_ms`.
    pub slot_at: i64,
    /// The figures (their `at` is when they were read, at or just after
    /// `slot_at`).
    #[serde(flatten)]
    pub figures: Figures,
}

/// This node's joins not yet added to the store, by room.
#[derive(Default)]
pub struct Dashboard {
    pending: DashMap<String, u64>,
}

impl Dashboard {
    /// Counts a join into `room` (added to the store at the next flush).
    pub fn joined(&self, room: &str) {
        *self.pending.entry(room.to_string()).or_default() += 1;
    }
}

/// Whether a live is under way (the curve runs): started and not ended.
fn running(room: &Room) -> Option<i64> {
    matches!(
        room.status,
        RoomStatus::Live | RoomStatus::Paused | RoomStatus::Abnormal
    )
    .then_some(room.live_started_at)
    .flatten()
}

/// The curve slot due at `now` (1..=[`MAX_POINTS`]), if any.
pub fn slot_at(room: &Room, now: i64, every_ms: i64) -> Option<u32> {
    let start = running(room)?;
    let k = (now - start) / every_ms.max(1);
    (1..=i64::from(MAX_POINTS)).contains(&k).then_some(k as u32)
}

/// When the room's next curve point is due after `now`, for its timer.
pub fn next_point_at(room: &Room, now: i64, every_ms: i64) -> Option<i64> {
    let start = running(room)?;
    let every = every_ms.max(1);
    let k = (now - start).max(0) / every + 1;
    (k <= i64::from(MAX_POINTS)).then_some(start + k * every)
}

fn minute(ms: i64) -> i64 {
    ms.div_euclid(60_000)
}

impl Node {
    /// Adds `delta` to the room's counter `name` in the store: the way a
    /// slice puts its figure on the dashboard (`grabs`, `goods_clicks`,
    /// `coupon_claims`, `reminder_subscribers`, ...). A negative delta
    /// subtracts (a reminder unsubscribed); a counter never reads below 0.
    pub async fn count(&self, room: &str, name: &str, delta: i64) {
        let deltas = [(name.to_string(), delta)];
        if let Err(e) = self.dashboard_store.add_counters(room, &deltas).await {
            tracing::warn!(room, name, error = %e, "dashboard counter not added");
        }
    }

    /// The room's figures now, summed over every node by the store.
    pub async fn dashboard_figures(&self, room: &Room) -> Result<Figures, Rejection> {
        let now = now_ms();
        let id = &room.id;
        let rej = |e: crate::store::StoreError| e.rejection();
        let totals = self.store.totals(id).await.map_err(rej)?;
        let presence = self.store.presence(id, now).await.map_err(rej)?;
        let mut counters = self.dashboard_store.counters(id).await.map_err(rej)?;
        let mut participants = 0;
        for slot in &room.lotteries {
            participants += self
                .lottery_store
                .participant_count(id, &slot.id)
                .await
                .map_err(rej)?;
        }
        let stored_peak = counters.remove(PEAK).unwrap_or(0);
        if presence.online > stored_peak {
            self.raise_peak(id, presence.online).await;
        }
        let m = minute(now);
        let bucket = |m: i64| {
            counters
                .get(&format!("{JOINS_AT}{m}"))
                .copied()
                .unwrap_or(0)
        };
        let (last, this) = (bucket(m - 1), bucket(m));
        let joins = counters.remove(JOINS).unwrap_or(0);
        counters.retain(|k, _| !k.starts_with(JOINS_AT));
        // The commerce counters (exact: counted in the store's atomic
        // steps) and the reminder subscribers join the other figures.
        for (name, n) in self.commerce_store.counters(id).await.map_err(rej)? {
            let name = match name.strip_prefix("clicks") {
                Some(rest) => format!("goods_clicks{rest}"),
                None => name,
            };
            *counters.entry(name).or_default() += n;
        }
        let subscribers = self
            .reminder_store
            .subscriber_count(id)
            .await
            .map_err(rej)?;
        counters.insert("reminder_subscribers".into(), subscribers);
        Ok(Figures {
            room: id.clone(),
            status: room.status.code(),
            at: now,
            online: presence.online,
            peak_online: stored_peak.max(presence.online),
            viewers: totals.viewers,
            likes: totals.likes,
            comments: totals.comments,
            lottery_participants: participants,
            joins,
            joins_per_minute: last,
            joins_this_minute: this,
            counters,
        })
    }

    /// The room's curve, oldest point first.
    pub async fn dashboard_curve(&self, room: &str) -> Result<Vec<Point>, Rejection> {
        let points = self
            .dashboard_store
            .curve(room)
            .await
            .map_err(|e| e.rejection())?;
        Ok(points
            .into_iter()
            .filter_map(|(_, json)| serde_json::from_str(&json).ok())
            .collect())
    }

    /// The timer's part: takes the curve point due now, once (the store
    /// keeps the first write of a slot).
    pub async fn take_curve_point(&self, room: &Room, now: i64) {
        let every = self.settings.dashboard_curve_ms as i64;
        let (Some(index), Some(start)) = (slot_at(room, now, every), room.live_started_at) else {
            return;
        };
        let figures = match self.dashboard_figures(room).await {
            Ok(f) => f,
            Err(r) => {
                tracing::warn!(room = %room.id, reason = %r, "curve point not read");
                return;
            }
        };
        let point = Point {
            index,
            slot_at: start + i64::from(index) * every,
            figures,
        };
        let Ok(json) = serde_json::to_string(&point) else {
            return;
        };
        if let Err(e) = self
            .dashboard_store
            .add_curve_point(&room.id, index, &json)
            .await
        {
            tracing::warn!(room = %room.id, error = %e, "curve point not stored");
        }
    }

    async fn raise_peak(&self, room: &str, online: u64) {
        if let Err(e) = self.dashboard_store.raise_counter(room, PEAK, online).await {
            tracing::warn!(room, error = %e, "peak online not raised");
        }
    }

    /// Adds this node's counted joins to the store (one call per room with
    /// joins); a failed add is kept for the next flush.
    async fn flush_joins(&self, now: i64) {
        let rooms: Vec<String> = self
            .dashboard
            .pending
            .iter()
            .map(|e| e.key().clone())
            .collect();
        for room in rooms {
            let Some((_, n)) = self.dashboard.pending.remove(&room) else {
                continue;
            };
            let d = i64::try_from(n).unwrap_or(i64::MAX);
            let deltas = [
                (JOINS.to_string(), d),
                (format!("{JOINS_AT}{}", minute(now)), d),
            ];
            if let Err(e) = self.dashboard_store.add_counters(&room, &deltas).await {
                tracing::warn!(room, error = %e, "joins not counted yet");
                *self.dashboard.pending.entry(room).or_default() += n;
            }
        }
    }

    /// Raises the peak of every room hosted here to its online figure, and
    /// drops join buckets older than the last complete minute.
    async fn refresh_rooms(&self, now: i64, new_minute: bool) {
        for (room, _) in self.hubs.presences() {
            if let Ok(p) = self.store.presence(&room, now).await {
                self.raise_peak(&room, p.online).await;
            }
            if new_minute {
                let old = [2, 3].map(|back| format!("{JOINS_AT}{}", minute(now) - back));
                let _ = self.dashboard_store.remove_counters(&room, &old).await;
            }
        }
    }
}

/// Flushes this node's joins every [`FLUSH_EVERY`] and refreshes the
/// hosted rooms' peaks every second, until shutdown.
pub async fn run(node: Arc<Node>) {
    let mut shutdown = node.shutdown_signal();
    let mut tick = tokio::time::interval(FLUSH_EVERY);
    let (mut n, mut last_minute) = (0u32, minute(now_ms()));
    loop {
        tokio::select! {
            _ = shutdown.changed() => return,
            _ = tick.tick() => {
                let now = now_ms();
                node.flush_joins(now).await;
                n = n.wrapping_add(1);
                if n % PEAK_EVERY == 0 {
                    let m = minute(now);
                    node.refresh_rooms(now, m != last_minute).await;
                    last_minute = m;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn live_room(started: i64) -> Room {
        let spec = crate::room::RoomSpec {
            id: "r".into(),
            title: String::new(),
            anchor: "a".into(),
            planned_start: 0,
            planned_end: 1,
            switches: Default::default(),
        };
        let mut r = spec
            .into_room(&protocol::Limits::default())
            .unwrap_or_else(|e| panic!("{e}"));
        r.status = RoomStatus::Live;
        r.live_started_at = Some(started);
        r
    }

    #[test]
    fn curve_slots_every_interval_up_to_360() {
        let r = live_room(1_000);
        let every = 120_000;
        assert_eq!(slot_at(&r, 1_000, every), None);
        assert_eq!(next_point_at(&r, 1_000, every), Some(121_000));
        assert_eq!(slot_at(&r, 120_999, every), None);
        assert_eq!(slot_at(&r, 121_000, every), Some(1));
        assert_eq!(next_point_at(&r, 121_000, every), Some(241_000));
        let last = 1_000 + 360 * every;
        assert_eq!(slot_at(&r, last, every), Some(360));
        assert_eq!(next_point_at(&r, last, every), None);
        assert_eq!(slot_at(&r, last + every, every), None);
        let mut ended = r.clone();
        ended.status = RoomStatus::Ended;
        assert_eq!(slot_at(&ended, 121_000, every), None);
        assert_eq!(next_point_at(&ended, 0, every), None);
    }
}
