//! In-process `Store` for the embedded single node: one mutex per room, the
//! event log as a ring buffer. The slices' tables live beside the rooms
//! (`moderation::memory`, `lotteries::memory`); what of theirs must change
//! under a room's mutex (mutes, deleted offsets) lives in the room's data.

use cardinality_estimator::CardinalityEstimator;
use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

use async_trait::async_trait;
use dashmap::DashMap;
use protocol::{EventKind, RoomEvent, Totals};

use super::{
    Appended, CommentRate, LiveClaim, LogPosition, PendingComment, Presence, Replay, RoomUpdate,
    Snapshot, Store, StoreError,
};
use crate::costream::pk::memory::MemoryPk;
use crate::dashboard::memory::MemoryDashboard;
use crate::lotteries::memory::MemoryLotteries;
use crate::moderation::MuteEntry;
use crate::moderation::memory::MemoryModeration;
use crate::reminder::memory::MemoryReminders;
use crate::room::Room;
use crate::webhook::memory::MemoryWebhooks;

/// In-process store.
pub struct MemoryStore {
    rooms: DashMap<String, Arc<Mutex<RoomData>>>,
    deadlines: DashMap<String, i64>,
    leases: Mutex<HashMap<String, Lease>>,
    /// Word lists, slow-mode claims and audit logs.
    moderation: MemoryModeration,
    /// Lottery documents and participant sets.
    lotteries: MemoryLotteries,
    reminders: MemoryReminders,
    webhooks: MemoryWebhooks,
    /// Dashboard counters and curves.
    dashboard: MemoryDashboard,
    /// PK histories.
    pk: MemoryPk,
    /// The user directory: user → nodes with a session of theirs.
    /// Nodes by user; a user is on one node or two, so a short list.
    user_nodes: DashMap<String, Vec<Arc<str>>>,
    /// Node → alive until, unix ms.
    nodes_alive: DashMap<String, i64>,
    /// Node reports for the cluster view: (info, expiry).
    node_infos: DashMap<String, (String, i64)>,
    /// The data epoch (see `Store::claim_store_epoch`).
    store_epoch: Mutex<Option<String>>,
    /// Rooms live now, and lives started per day (`Store::claim_live`).
    lives: Mutex<(HashSet<String>, HashMap<u64, u64>)>,
    log_capacity: usize,
    recent_capacity: usize,
}

struct Lease {
    node: String,
    until: i64,
    token: u64,
}

/// One room's data, under the room's mutex.
pub(crate) struct RoomData {
    room: Room,
    epoch: String,
    head: u64,
    /// The event log, oldest first.
    pub(crate) log: VecDeque<RoomEvent>,
    /// The last comments, oldest first.
    pub(crate) recent: VecDeque<RoomEvent>,
    likes: u64,
    comments: u64,
    /// Distinct viewers, estimated as Redis's PFADD/PFCOUNT do: exact for
    /// small counts, about 1.6% off past a few hundred, and a few KiB
    /// however many anonymous connections come and go.
    viewers: CardinalityEstimator<str>,
    /// Its estimate after the last insert (an estimate reads every
    /// register: computed once per join, not per totals read).
    viewers_counted: u64,
    presence: HashMap<String, (Presence, i64)>,
    /// Offsets of deleted comments, skipped by snapshots and replays.
    pub(crate) deleted: HashSet<u64>,
    /// Mutes by user, checked by every comment append.
    pub(crate) mutes: HashMap<String, MuteEntry>,
    /// Keys of `append_once` events already appended.
    once: HashSet<String>,
    /// Comment-rate buckets by sender: tokens and when they were counted.
    buckets: HashMap<String, (f64, i64)>,
    /// The commerce slice's tables of this room (changed under its mutex,
    /// so a grab sees the room's status at that instant).
    pub(crate) commerce: crate::commerce::memory::RoomCommerce,
}

/// Buckets a room keeps before it drops the refilled ones.
const MAX_BUCKETS: usize = 100_000;

impl MemoryStore {
    /// A store keeping `log_capacity` events and `recent_capacity` comments per room.
    pub fn new(log_capacity: usize, recent_capacity: usize) -> Self {
        MemoryStore {
            rooms: DashMap::new(),
            deadlines: DashMap::new(),
            leases: Mutex::new(HashMap::new()),
            moderation: MemoryModeration::default(),
            lotteries: MemoryLotteries::default(),
            reminders: MemoryReminders::default(),
            webhooks: MemoryWebhooks::default(),
            dashboard: MemoryDashboard::default(),
            pk: MemoryPk::default(),
            user_nodes: DashMap::new(),
            nodes_alive: DashMap::new(),
            node_infos: DashMap::new(),
            store_epoch: Mutex::new(None),
            lives: Mutex::new(Default::default()),
            log_capacity: log_capacity.max(1),
            recent_capacity,
        }
    }

    fn data(&self, id: &str) -> Result<Arc<Mutex<RoomData>>, StoreError> {
        self.rooms
            .get(id)
            .map(|r| r.value().clone())
            .ok_or(StoreError::NotFound)
    }

    /// Runs `f` on a room's data under its mutex (for the slices' atomic
    /// steps: a mute, a purge and an append never interleave).
    pub(crate) fn with_room<T>(
        &self,
        id: &str,
        f: impl FnOnce(&mut RoomData) -> T,
    ) -> Result<T, StoreError> {
        let data = self.data(id)?;
        let mut d = lock(&data);
        Ok(f(&mut d))
    }

    /// Events the log keeps and comments the recent list keeps, per room.
    pub(crate) fn capacities(&self) -> (usize, usize) {
        (self.log_capacity, self.recent_capacity)
    }

    /// The moderation slice's tables.
    pub(crate) fn moderation(&self) -> &MemoryModeration {
        &self.moderation
    }

    /// The lottery slice's tables.
    pub(crate) fn lotteries(&self) -> &MemoryLotteries {
        &self.lotteries
    }

    /// Every room id.
    pub(crate) fn room_ids(&self) -> Vec<String> {
        self.rooms.iter().map(|r| r.key().clone()).collect()
    }

    /// The reminder slice's tables.
    pub(crate) fn reminders(&self) -> &MemoryReminders {
        &self.reminders
    }

    /// The webhook slice's tables.
    pub(crate) fn webhooks(&self) -> &MemoryWebhooks {
        &self.webhooks
    }

    /// The dashboard slice's tables.
    pub(crate) fn dashboard(&self) -> &MemoryDashboard {
        &self.dashboard
    }

    /// The PK histories (`costream/pk/`).
    pub(crate) fn pk(&self) -> &MemoryPk {
        &self.pk
    }
}

impl RoomData {
    /// The room record.
    pub(crate) fn room(&self) -> &Room {
        &self.room
    }

    /// Whether `e` is a deleted comment.
    pub(crate) fn is_deleted(&self, e: &RoomEvent) -> bool {
        self.deleted.contains(&e.offset)
    }

    /// Logs an event at the next offset; a comment also counts and joins
    /// the recent comments.
    fn push(
        &mut self,
        ts: i64,
        kind: EventKind,
        log_capacity: usize,
        recent_capacity: usize,
    ) -> RoomEvent {
        self.head += 1;
        let event = RoomEvent {
            offset: self.head,
            ts,
            kind,
        };
        if matches!(event.kind, EventKind::Comment(_)) {
            self.comments += 1;
            if recent_capacity > 0 {
                if self.recent.len() == recent_capacity {
                    self.recent.pop_front();
                }
                self.recent.push_back(event.clone());
            }
        }
        if self.log.len() == log_capacity {
            self.log.pop_front();
        }
        self.log.push_back(event.clone());
        event
    }
}

fn lock(m: &Mutex<RoomData>) -> MutexGuard<'_, RoomData> {
    // A panic while holding the lock cannot leave RoomData half-updated in a
    // way later readers care about; keep serving.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn new_epoch() -> String {
    format!("{:016x}", rand::random::<u64>())
}

#[async_trait]
impl Store for MemoryStore {
    async fn create_room(&self, room: Room) -> Result<(), StoreError> {
        use dashmap::mapref::entry::Entry;
        match self.rooms.entry(room.id.clone()) {
            Entry::Occupied(_) => Err(StoreError::Conflict),
            Entry::Vacant(v) => {
                v.insert(Arc::new(Mutex::new(RoomData {
                    room,
                    epoch: new_epoch(),
                    head: 0,
                    log: VecDeque::new(),
                    recent: VecDeque::new(),
                    likes: 0,
                    comments: 0,
                    viewers: CardinalityEstimator::new(),
                    viewers_counted: 0,
                    presence: HashMap::new(),
                    deleted: HashSet::new(),
                    mutes: HashMap::new(),
                    once: HashSet::new(),
                    buckets: HashMap::new(),
                    commerce: Default::default(),
                })));
                Ok(())
            }
        }
    }

    async fn room(&self, id: &str) -> Result<Room, StoreError> {
        let data = self.data(id)?;
        let room = lock(&data).room.clone();
        Ok(room)
    }

    async fn rooms(&self) -> Result<Vec<Room>, StoreError> {
        let all: Vec<_> = self.rooms.iter().map(|r| r.value().clone()).collect();
        let mut rooms: Vec<Room> = all.iter().map(|d| lock(d).room.clone()).collect();
        rooms.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(rooms)
    }

    async fn update_room(&self, id: &str, f: RoomUpdate<'_>) -> Result<Room, StoreError> {
        let data = self.data(id)?;
        let mut d = lock(&data);
        let mut next = d.room.clone();
        f(&mut next).map_err(StoreError::Rejected)?;
        next.version = d.room.version + 1;
        d.room = next.clone();
        Ok(next)
    }

    async fn append(&self, room: &str, ts: i64, kind: EventKind) -> Result<RoomEvent, StoreError> {
        let data = self.data(room)?;
        let mut d = lock(&data);
        if let EventKind::Comment(c) = &kind
            && d.mutes.get(&c.user).is_some_and(|m| m.active(ts))
        {
            return Err(super::muted());
        }
        Ok(d.push(ts, kind, self.log_capacity, self.recent_capacity))
    }

    async fn append_once(
        &self,
        room: &str,
        ts: i64,
        kind: EventKind,
        once: &str,
    ) -> Result<Option<RoomEvent>, StoreError> {
        let data = self.data(room)?;
        let mut d = lock(&data);
        if !d.once.insert(once.to_string()) {
            return Ok(None);
        }
        Ok(Some(d.push(
            ts,
            kind,
            self.log_capacity,
            self.recent_capacity,
        )))
    }

    async fn append_comments(
        &self,
        room: &str,
        batch: &[PendingComment],
        rate: CommentRate,
    ) -> Result<Vec<Appended>, StoreError> {
        let data = self.data(room)?;
        let mut d = lock(&data);
        let mut out = Vec::with_capacity(batch.len());
        if d.buckets.len() > MAX_BUCKETS
            && let Some(now) = batch.first().map(|p| p.ts)
        {
            // A full bucket is the same as none: forget the refilled ones.
            let refill_ms = i64::from(rate.burst.max(1)) * 1000 / i64::from(rate.per_s.max(1));
            d.buckets.retain(|_, (_, last)| now - *last < refill_ms);
        }
        for p in batch {
            match d.mutes.get(&p.comment.user).filter(|m| m.active(p.ts)) {
                Some(m) if m.shadow => {
                    out.push(Appended::Shadow);
                    continue;
                }
                Some(m) => {
                    out.push(Appended::Muted(m.clone()));
                    continue;
                }
                None => {}
            }
            if rate.per_s > 0 {
                let bucket = d.buckets.get(&p.comment.user).copied();
                let (next, wait) = rate.take(bucket, p.ts);
                d.buckets.insert(p.comment.user.clone(), next);
                if let Some(wait) = wait {
                    out.push(Appended::RateLimited(wait));
                    continue;
                }
            }
            if p.slow_mode_ms > 0
                && let Some(wait) =
                    self.moderation
                        .claim_slow(room, &p.comment.user, p.ts, p.slow_mode_ms)
            {
                out.push(Appended::SlowMode(wait));
                continue;
            }
            let event = d.push(
                p.ts,
                EventKind::Comment(p.comment.clone()),
                self.log_capacity,
                self.recent_capacity,
            );
            out.push(Appended::Logged(event));
        }
        Ok(out)
    }

    async fn snapshot(&self, room: &str, recent: usize) -> Result<Snapshot, StoreError> {
        let data = self.data(room)?;
        let d = lock(&data);
        let skip = d.recent.len().saturating_sub(recent);
        Ok(Snapshot {
            room: d.room.clone(),
            position: LogPosition {
                epoch: d.epoch.clone(),
                offset: d.head,
            },
            totals: totals_of(&d),
            recent: d
                .recent
                .iter()
                .skip(skip)
                .filter(|e| !d.is_deleted(e))
                .cloned()
                .collect(),
        })
    }

    async fn head_offset(&self, room: &str) -> Result<u64, StoreError> {
        let data = self.data(room)?;
        let head = lock(&data).head;
        Ok(head)
    }

    async fn head(&self, room: &str) -> Result<LogPosition, StoreError> {
        let data = self.data(room)?;
        let d = lock(&data);
        Ok(LogPosition {
            epoch: d.epoch.clone(),
            offset: d.head,
        })
    }

    async fn replay(&self, room: &str, from: &LogPosition) -> Result<Replay, StoreError> {
        let data = self.data(room)?;
        let d = lock(&data);
        if from.epoch != d.epoch || from.offset > d.head {
            return Ok(Replay::NotRecovered);
        }
        let oldest = d.log.front().map_or(d.head + 1, |e| e.offset);
        if from.offset + 1 < oldest {
            return Ok(Replay::NotRecovered);
        }
        let events = d
            .log
            .iter()
            .filter(|e| e.offset > from.offset && !d.is_deleted(e))
            .cloned()
            .collect();
        Ok(Replay::Recovered(events))
    }

    async fn add_likes(&self, room: &str, taps: u64) -> Result<u64, StoreError> {
        let data = self.data(room)?;
        let mut d = lock(&data);
        d.likes += taps;
        Ok(d.likes)
    }

    async fn add_viewer(&self, room: &str, user: &str) -> Result<bool, StoreError> {
        let data = self.data(room)?;
        let mut d = lock(&data);
        d.viewers.insert(user);
        let counted = d.viewers.estimate() as u64;
        let changed = counted != d.viewers_counted;
        d.viewers_counted = counted;
        Ok(changed)
    }

    async fn totals(&self, room: &str) -> Result<Totals, StoreError> {
        let data = self.data(room)?;
        let totals = totals_of(&lock(&data));
        Ok(totals)
    }

    async fn set_presence(
        &self,
        room: &str,
        node: &str,
        presence: Presence,
        expires_ms: i64,
    ) -> Result<(), StoreError> {
        let data = self.data(room)?;
        lock(&data)
            .presence
            .insert(node.to_string(), (presence, expires_ms));
        Ok(())
    }

    async fn presence(&self, room: &str, now_ms: i64) -> Result<Presence, StoreError> {
        let data = self.data(room)?;
        let mut d = lock(&data);
        // Expired entries that counted anchors stay for `anchor_presence_lost`.
        d.presence
            .retain(|_, (p, until)| *until > now_ms || p.anchors > 0);
        Ok(d.presence
            .values()
            .filter(|(_, until)| *until > now_ms)
            .fold(Presence::default(), |acc, (p, _)| Presence {
                online: acc.online + p.online,
                anchors: acc.anchors + p.anchors,
            }))
    }

    async fn anchor_presence_lost(&self, room: &str, now_ms: i64) -> Result<bool, StoreError> {
        let data = self.data(room)?;
        let mut d = lock(&data);
        let live = d
            .presence
            .values()
            .any(|(p, until)| *until > now_ms && p.anchors > 0);
        let lost = d
            .presence
            .values()
            .any(|(p, until)| *until <= now_ms && p.anchors > 0);
        d.presence.retain(|_, (_, until)| *until > now_ms);
        Ok(lost && !live)
    }

    async fn set_node_alive(&self, node: &str, expires_ms: i64) -> Result<(), StoreError> {
        self.nodes_alive.insert(node.to_string(), expires_ms);
        Ok(())
    }

    async fn set_node_info(
        &self,
        node: &str,
        info: &str,
        expires_ms: i64,
    ) -> Result<(), StoreError> {
        self.node_infos
            .insert(node.to_string(), (info.to_string(), expires_ms));
        Ok(())
    }

    async fn node_infos(&self, now_ms: i64) -> Result<Vec<(String, String)>, StoreError> {
        self.node_infos.retain(|_, (_, until)| *until > now_ms);
        let mut all: Vec<_> = self
            .node_infos
            .iter()
            .map(|e| (e.key().clone(), e.value().0.clone()))
            .collect();
        all.sort();
        Ok(all)
    }

    async fn add_user_node(&self, users: &[String], node: &str) -> Result<(), StoreError> {
        let node: Arc<str> = Arc::from(node);
        for u in users {
            let mut nodes = self
                .user_nodes
                .entry(u.clone())
                .or_insert_with(|| Vec::with_capacity(1));
            if !nodes.iter().any(|n| **n == *node) {
                nodes.push(node.clone());
            }
        }
        Ok(())
    }

    async fn remove_user_node(&self, user: &str, node: &str) -> Result<(), StoreError> {
        if let Some(mut nodes) = self.user_nodes.get_mut(user) {
            nodes.retain(|n| &**n != node);
        }
        self.user_nodes.remove_if(user, |_, n| n.is_empty());
        Ok(())
    }

    async fn user_nodes(&self, user: &str, now_ms: i64) -> Result<Vec<String>, StoreError> {
        let Some(nodes) = self.user_nodes.get(user) else {
            return Ok(vec![]);
        };
        let mut live: Vec<String> = nodes
            .iter()
            .filter(|n| {
                self.nodes_alive
                    .get(&***n)
                    .is_some_and(|until| *until > now_ms)
            })
            .map(|n| n.to_string())
            .collect();
        live.sort();
        Ok(live)
    }

    async fn set_deadline(&self, room: &str, at_ms: Option<i64>) -> Result<(), StoreError> {
        match at_ms {
            Some(at) => self.deadlines.insert(room.to_string(), at),
            None => self.deadlines.remove(room).map(|(_, at)| at),
        };
        Ok(())
    }

    async fn due_rooms(&self, now_ms: i64) -> Result<Vec<String>, StoreError> {
        Ok(self
            .deadlines
            .iter()
            .filter(|e| *e.value() <= now_ms)
            .map(|e| e.key().clone())
            .collect())
    }

    async fn lease(
        &self,
        name: &str,
        node: &str,
        now_ms: i64,
        ttl_ms: i64,
    ) -> Result<Option<u64>, StoreError> {
        let mut leases = self.leases.lock().unwrap_or_else(|p| p.into_inner());
        let next_token = leases.get(name).map_or(1, |l| l.token + 1);
        match leases.get_mut(name) {
            Some(l) if l.until > now_ms && l.node != node => Ok(None),
            Some(l) if l.node == node && l.until > now_ms => {
                l.until = now_ms + ttl_ms;
                Ok(Some(l.token))
            }
            _ => {
                leases.insert(
                    name.to_string(),
                    Lease {
                        node: node.to_string(),
                        until: now_ms + ttl_ms,
                        token: next_token,
                    },
                );
                Ok(Some(next_token))
            }
        }
    }

    async fn ping(&self) -> Result<(), StoreError> {
        Ok(())
    }

    async fn claim_live(
        &self,
        room: &str,
        day: u64,
        max_live: u64,
        max_per_day: u64,
    ) -> Result<LiveClaim, StoreError> {
        let mut l = self.lives.lock().unwrap_or_else(|p| p.into_inner());
        let (live, days) = &mut *l;
        if live.contains(room) {
            return Ok(LiveClaim::AlreadyLive);
        }
        if max_live > 0 && live.len() as u64 >= max_live {
            return Ok(LiveClaim::TooManyLive);
        }
        let today = days.entry(day).or_default();
        if max_per_day > 0 && *today >= max_per_day {
            return Ok(LiveClaim::TooManyToday);
        }
        *today += 1;
        live.insert(room.to_string());
        days.retain(|d, _| *d + 1 >= day);
        Ok(LiveClaim::Claimed)
    }

    async fn release_live(
        &self,
        room: &str,
        day: u64,
        started_today: bool,
    ) -> Result<(), StoreError> {
        let mut l = self.lives.lock().unwrap_or_else(|p| p.into_inner());
        let (live, days) = &mut *l;
        live.remove(room);
        if started_today && let Some(n) = days.get_mut(&day) {
            *n = n.saturating_sub(1);
        }
        Ok(())
    }

    async fn live_counts(&self, day: u64) -> Result<(u64, u64), StoreError> {
        let l = self.lives.lock().unwrap_or_else(|p| p.into_inner());
        Ok((l.0.len() as u64, l.1.get(&day).copied().unwrap_or(0)))
    }

    async fn claim_store_epoch(&self, candidate: &str) -> Result<String, StoreError> {
        let mut epoch = self.store_epoch.lock().unwrap_or_else(|p| p.into_inner());
        Ok(epoch.get_or_insert_with(|| candidate.to_string()).clone())
    }

    async fn store_epoch(&self) -> Result<Option<String>, StoreError> {
        Ok(self
            .store_epoch
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone())
    }
}

fn totals_of(d: &RoomData) -> Totals {
    Totals {
        likes: d.likes,
        comments: d.comments,
        viewers: d.viewers_counted,
        online: 0,
    }
}
