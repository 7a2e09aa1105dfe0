//! The task behind one room on one node: takes bus events and membership
//! changes, and once per tick flushes like taps to the store and sends the
//! tick's frames to every local session.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use protocol::{Codec, RoomEvent, Totals};
use tokio::sync::mpsc;
use tokio::time::{Instant, MissedTickBehavior};

use super::fanout::{self, CommentSampler, EncodedFrame, Member};
use super::recent::{Lookup, RecentEvents};
use super::reorder::Reorder;
use super::{HubHandle, HubRegistry};
use crate::bus::BusMessage;
use crate::store::{LogPosition, Replay};

/// Messages to a room hub.
pub enum HubCommand {
    /// A bus message for this room.
    Bus(BusMessage),
    /// A local session joined.
    Join(Member),
    /// A local session left.
    Leave(u64),
    /// A local session resumes: the events it missed, from memory.
    Replay(ReplayRequest),
    /// A local session joined: its snapshot, from memory.
    Snapshot(SnapshotRequest),
    /// Close every member with this code (the store lost its data).
    CloseAll(protocol::CloseCode),
    /// Fault injection: the hub panics (see `HubHandle::inject_panic`).
    #[doc(hidden)]
    InjectPanic,
    /// Fault injection: the hub stops taking commands for a while (see
    /// `HubHandle::inject_stall`).
    #[doc(hidden)]
    InjectStall(std::time::Duration),
}

/// A join snapshot answered by the hub, right after the session's `Join`
/// on the same queue: the room as the hub holds it, the offset it has
/// released, its newest comments and its last totals. `None` when only the
/// store can tell (the hub holds too few comments, or no totals yet).
pub struct SnapshotRequest {
    /// How many recent comments.
    pub recent: usize,
    /// The log head when the session asked: the hub answers once it has
    /// released every event up to it, so the snapshot is as recent as one
    /// read from the store.
    pub until: u64,
    /// Where the answer goes.
    pub reply: tokio::sync::oneshot::Sender<Option<crate::store::Snapshot>>,
}

/// A resume answered by the hub: every event after `from` up to at least
/// `until` (the session's join snapshot), or `None` when only the log can
/// tell (another epoch, or older than the hub and the log hold together).
pub struct ReplayRequest {
    /// The epoch the session saw.
    pub epoch: String,
    /// The last offset the session saw.
    pub from: u64,
    /// The head offset of the session's join snapshot.
    pub until: u64,
    /// Where the answer goes.
    pub reply: tokio::sync::oneshot::Sender<Option<Vec<RoomEvent>>>,
}

/// How often a hub compares itself with the log head.
const RESYNC_EVERY: std::time::Duration = std::time::Duration::from_secs(1);

/// How long a hub waits for the bus to bring a gap the log no longer holds
/// before it declares the stretch lost and moves on.
const GIVE_UP_AFTER: std::time::Duration = std::time::Duration::from_secs(2);

/// How often a hub re-reads the room record from the store, whatever the
/// events said: the backstop for a change whose event could not be
/// appended (the store refused the append after storing the change).
const RECORD_REFRESH_EVERY: std::time::Duration = std::time::Duration::from_secs(10);

/// How often at most a tick without events sends a totals-only frame (a like
/// or online change alone). Every member gets each such frame, so in a room
/// of 100,000 that is filling up this is the difference between 100,000 and
/// 1,000,000 frames a second.
const TOTALS_EVERY: std::time::Duration = std::time::Duration::from_secs(1);

/// A hub's tick of `ms`, on multiples of `ms` in unix time (every node's
/// hubs of a room tick together, just after the batches commit).
fn fan_out_tick(ms: u64) -> tokio::time::Interval {
    let every = std::time::Duration::from_millis(ms);
    let mut tick = tokio::time::interval_at(crate::clock::aligned_start(ms, 0), every);
    tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
    tick
}

pub(super) struct RoomHub {
    pub(super) room: String,
    pub(super) epoch: String,
    pub(super) handle: Arc<HubHandle>,
    pub(super) registry: Arc<HubRegistry>,
    pub(super) reorder: Reorder,
    pub(super) sampler: CommentSampler,
    pub(super) high_since: u64,
    recent: RecentEvents,
    waiting: Vec<ReplayRequest>,
    /// Snapshots waiting for the hub to release their log head.
    waiting_snapshots: Vec<SnapshotRequest>,
    members: Vec<Member>,
    index: HashMap<u64, usize>,
    likes_seen: u64,
    totals_dirty: bool,
    last_online: usize,
    next_resync: Instant,
    next_totals: Instant,
    next_record_refresh: Instant,
    /// The totals of the last frame that carried them.
    last_totals: Option<Totals>,
    /// This node's sessions in the room when `last_totals` were read.
    online_at_totals: u64,
    /// Told to close every member and stop (the store lost its data).
    stopped: bool,
}

impl RoomHub {
    pub(super) fn new(
        room: String,
        head: LogPosition,
        handle: Arc<HubHandle>,
        registry: Arc<HubRegistry>,
    ) -> Self {
        let settings = &registry.settings;
        RoomHub {
            reorder: Reorder::new(head.offset + 1, settings.tick()),
            sampler: CommentSampler::new(settings.comment_cap, settings.tick_ms),
            high_since: head.offset,
            recent: RecentEvents::new(head.offset, settings.log_capacity),
            waiting: Vec::new(),
            waiting_snapshots: Vec::new(),
            epoch: head.epoch,
            room,
            handle,
            registry,
            members: Vec::new(),
            index: HashMap::new(),
            likes_seen: 0,
            totals_dirty: false,
            last_online: 0,
            next_resync: Instant::now(),
            next_totals: Instant::now(),
            next_record_refresh: Instant::now() + RECORD_REFRESH_EVERY,
            last_totals: None,
            online_at_totals: 0,
            stopped: false,
        }
    }

    /// Reads back what the log holds (up to `log_capacity` events), so join
    /// snapshots and resumes can be answered from memory from the start.
    async fn read_back(&mut self) {
        let head = self.recent.upto();
        let cap = self.registry.settings.log_capacity as u64;
        let from = head.saturating_sub(cap);
        if head == 0 {
            return;
        }
        let pos = LogPosition {
            epoch: self.epoch.clone(),
            offset: from,
        };
        if let Ok(Replay::Recovered(log)) = self.registry.store.replay(&self.room, &pos).await
            && self.recent.backfill(from, log)
        {
            self.recent.mark_complete();
        }
    }

    /// Runs the hub until it retires. A panic inside is caught here: it is
    /// logged, the hub is unregistered (the room's next join starts a fresh
    /// one) and every session it served, or that was joining, is closed
    /// with 4003 so it reconnects and resumes.
    pub(super) async fn run(mut self, mut rx: mpsc::Receiver<HubCommand>) {
        use futures_util::FutureExt;
        let served = std::panic::AssertUnwindSafe(self.serve(&mut rx))
            .catch_unwind()
            .await;
        if let Err(panic) = served {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            tracing::error!(room = %self.room, panic = %what, sessions = self.members.len(),
                "room hub panicked: replaced, its sessions told to reconnect (4003)");
            self.registry.metrics.hub_panics.inc();
            self.registry.remove_dead(&self.room, &self.handle);
            rx.close();
            while let Ok(cmd) = rx.try_recv() {
                if let HubCommand::Join(m) = cmd {
                    self.members.push(m);
                }
            }
            for m in &self.members {
                m.outbox.close(protocol::CloseCode::InternalError);
            }
        }
        if let Err(e) = self.registry.bus.unsubscribe(&self.room).await {
            tracing::warn!(room = %self.room, error = %e, "unsubscribe failed");
        }
    }

    async fn serve(&mut self, rx: &mut mpsc::Receiver<HubCommand>) {
        self.read_back().await;
        let mut tick_ms = self.registry.settings.tick_ms;
        let mut tick = fan_out_tick(tick_ms);
        loop {
            tokio::select! {
                cmd = rx.recv() => match cmd {
                    Some(HubCommand::InjectStall(d)) => tokio::time::sleep(d).await,
                    Some(cmd) => {
                        self.apply(cmd);
                        if self.stopped {
                            break;
                        }
                    }
                    None => break,
                },
                _ = tick.tick() => {
                    self.sampler.refill(crate::clock::now_ms() as u64);
                    self.flush(rx).await;
                    if self.stopped {
                        break;
                    }
                    self.serve_replays().await;
                    // The room grew or shrank past a step of the tick rule.
                    let now_ms = self.handle.tick_ms();
                    if now_ms != tick_ms {
                        tick_ms = now_ms;
                        tick = fan_out_tick(tick_ms);
                        self.sampler.set_tick(tick_ms);
                    }
                    if self.registry.retire(&self.room, &self.handle) {
                        break;
                    }
                }
            }
        }
    }

    fn apply(&mut self, cmd: HubCommand) {
        match cmd {
            HubCommand::Bus(BusMessage::Event(e)) => self.reorder.push(e, Instant::now()),
            HubCommand::Bus(BusMessage::Events(events)) => {
                let now = Instant::now();
                for e in events {
                    self.reorder.push(e, now);
                }
            }
            HubCommand::Bus(BusMessage::Likes(total)) => self.see_likes(total),
            // Personal events travel on user channels, never on a room's.
            HubCommand::Bus(BusMessage::Personal { .. }) => {}
            HubCommand::Join(m) => {
                self.index.insert(m.session, self.members.len());
                self.members.push(m);
            }
            HubCommand::Replay(r) => self.replay(r),
            HubCommand::Snapshot(r) => {
                if self.recent.upto() >= r.until {
                    let _ = r.reply.send(self.snapshot(r.recent));
                } else {
                    self.waiting_snapshots.push(r);
                }
            }
            HubCommand::InjectPanic => panic!("injected fault in the room hub"),
            HubCommand::InjectStall(_) => {}
            HubCommand::CloseAll(code) => {
                for m in &self.members {
                    m.outbox.close(code);
                }
                self.stopped = true;
            }
            HubCommand::Leave(session) => {
                if let Some(i) = self.index.remove(&session) {
                    self.members.swap_remove(i);
                    if let Some(moved) = self.members.get(i) {
                        self.index.insert(moved.session, i);
                    }
                }
            }
        }
    }

    fn see_likes(&mut self, total: u64) {
        if total > self.likes_seen {
            self.likes_seen = total;
            self.totals_dirty = true;
        }
    }

    async fn flush(&mut self, rx: &mut mpsc::Receiver<HubCommand>) {
        let taps = self.handle.likes.swap(0, Ordering::Relaxed);
        if taps > 0 {
            self.flush_likes(taps).await;
        }
        let mut events = Vec::new();
        // What waits in this hub's own queue has arrived: take it before
        // looking for gaps, or a late tick fetches it from the log.
        while let Ok(cmd) = rx.try_recv() {
            self.apply(cmd);
        }
        if Instant::now() >= self.next_resync {
            self.next_resync = Instant::now() + RESYNC_EVERY;
            self.resync().await;
        }
        self.reorder.take_ready(&mut events);
        if let Some((from, to)) = self.reorder.overdue_gap(Instant::now()) {
            self.fill_gap(from, to, &mut events).await;
        }
        self.apply_records(&events);
        if Instant::now() >= self.next_record_refresh {
            self.refresh_record().await;
        }
        self.recent
            .release(&events, self.reorder.next().saturating_sub(1));
        let online = self.members.len();
        if events.is_empty() && !self.totals_dirty && online == self.last_online {
            return;
        }
        if events.is_empty() && Instant::now() < self.next_totals {
            return;
        }
        if let Some(oldest) = events.iter().filter(|e| e.ts > 0).map(|e| e.ts).min() {
            let lag_ms = (crate::clock::now_ms() - oldest).max(0);
            self.registry
                .metrics
                .hub_lag_seconds
                .observe(lag_ms as f64 / 1000.0);
        }
        let totals = self.totals(&events, online).await;
        let batches = fanout::build_batches(
            &self.room,
            &self.epoch,
            &mut self.high_since,
            events,
            &mut self.sampler,
            totals,
        );
        // Events fetched from the log above may be newer than the snapshot of
        // a session whose `Join` is still queued: take every queued command
        // now, with no await before delivering, so no joiner misses them.
        while let Ok(cmd) = rx.try_recv() {
            self.apply(cmd);
        }
        let json = self.members.iter().any(|m| m.codec == Codec::Json);
        let binary = self.members.iter().any(|m| m.codec == Codec::Binary);
        let frames: Vec<_> = batches
            .iter()
            .map(|b| EncodedFrame::encode(b, json, binary))
            .collect();
        let threads = match self.registry.settings.delivery_threads {
            0 => fanout::delivery_threads(),
            n => n,
        };
        let split = threads > 1
            && self.members.len() >= 2 * fanout::DELIVERY_PART
            && tokio::runtime::Handle::current().runtime_flavor()
                == tokio::runtime::RuntimeFlavor::MultiThread;
        let d = if split {
            // The writes of a hot room take every core for a moment: let the
            // runtime move this worker's other tasks elsewhere meanwhile.
            tokio::task::block_in_place(|| fanout::deliver_split(&self.members, &frames, threads))
        } else {
            fanout::deliver(&self.members, &frames)
        };
        self.registry.metrics.record_delivery(&d);
    }

    /// Applies the record changes among released events, in offset order.
    fn apply_records(&self, events: &[RoomEvent]) {
        for e in events {
            if let protocol::EventKind::Record(r) = &e.kind {
                match serde_json::from_str::<crate::room::Room>(&r.record) {
                    Ok(room) => {
                        self.handle.offer_record(&room);
                    }
                    Err(e) => {
                        tracing::error!(room = %self.room, error = %e, "unreadable room record event")
                    }
                }
            }
        }
    }

    /// Reads the record from the store (after a gap the log could not fill,
    /// a reset log, or as the periodic backstop).
    async fn refresh_record(&mut self) {
        self.next_record_refresh = Instant::now() + RECORD_REFRESH_EVERY;
        match self.registry.store.room(&self.room).await {
            Ok(room) => {
                self.handle.offer_record(&room);
            }
            Err(e) => tracing::warn!(room = %self.room, error = %e, "room record not refreshed"),
        }
    }

    async fn flush_likes(&mut self, taps: u64) {
        let reg = self.registry.clone();
        match reg.store.add_likes(&self.room, taps).await {
            Ok(total) => {
                self.see_likes(total);
                if let Err(e) = reg.bus.publish(&self.room, BusMessage::Likes(total)).await {
                    tracing::warn!(room = %self.room, error = %e, "like total not published");
                }
            }
            Err(e) => {
                // Keep the taps for the next tick rather than lose them.
                self.handle.likes.fetch_add(taps, Ordering::Relaxed);
                tracing::warn!(room = %self.room, error = %e, "like flush failed");
            }
        }
    }

    /// Compares the hub with the log head. Events the bus did not bring (a
    /// publish lost in a Redis outage, or appended between reading the head
    /// and subscribing) would otherwise wait for the next event of a quiet
    /// room. A new epoch means the log was reset: every local session is
    /// closed with 4004 and rejoins from a fresh snapshot.
    async fn resync(&mut self) {
        let Ok(head) = self.registry.store.head(&self.room).await else {
            return;
        };
        if head.epoch != self.epoch {
            tracing::warn!(room = %self.room, "room log epoch changed; members rejoin");
            for m in self.members.drain(..) {
                m.outbox.close(protocol::CloseCode::Resync);
            }
            self.index.clear();
            for r in self.waiting.drain(..) {
                let _ = r.reply.send(None);
            }
            for r in self.waiting_snapshots.drain(..) {
                let _ = r.reply.send(None);
            }
            self.recent.reset(head.offset);
            self.reorder = Reorder::new(head.offset + 1, self.registry.settings.tick());
            self.high_since = head.offset;
            self.epoch = head.epoch;
            if let Ok(room) = self.registry.store.room(&self.room).await {
                self.handle.set_record(room);
            }
            return;
        }
        // A batch committed just before this read is usually still on the
        // bus: fetch only what has not arrived a tick from now.
        self.reorder.expect_upto(head.offset, Instant::now());
    }

    async fn fill_gap(&mut self, from: u64, to: u64, events: &mut Vec<RoomEvent>) {
        let pos = LogPosition {
            epoch: self.epoch.clone(),
            offset: from - 1,
        };
        match self.registry.store.replay(&self.room, &pos).await {
            Ok(Replay::Recovered(found)) => {
                for e in found.into_iter().filter(|e| e.offset < to) {
                    if e.offset >= self.reorder.next() {
                        self.registry.metrics.gap_filled.inc();
                    }
                    self.reorder.push(e, Instant::now());
                }
                // Every offset below `to` is already in the log, so one the
                // replay left out is a deleted comment: it never comes.
                loop {
                    self.reorder.take_ready(events);
                    let next = self.reorder.next();
                    if next >= to {
                        break;
                    }
                    self.reorder.skip_to(next + 1);
                }
            }
            Ok(Replay::NotRecovered)
                if self
                    .reorder
                    .gap_open_since()
                    .is_some_and(|at| at.elapsed() < GIVE_UP_AFTER) =>
            {
                // The log no longer holds it (a busy room outruns a small
                // log), but the bus is usually just late: wait for it a
                // little before declaring the stretch lost.
                return;
            }
            Ok(Replay::NotRecovered) => {
                tracing::warn!(room = %self.room, from, to, "log lost a gap; skipping it");
                self.registry.metrics.gap_skipped.inc_by(to - from);
                self.reorder.skip_to(to);
                self.recent.reset(to - 1);
                // Show the loss: the next high batch starts past the gap, so
                // clients see `since` jump beyond their last `upto`.
                self.high_since = self.high_since.max(to - 1);
            }
            Err(e) => {
                tracing::warn!(room = %self.room, error = %e, "gap fetch failed");
                return;
            }
        }
        self.reorder.take_ready(events);
        // The bus lost messages: a record change may have been among them
        // (or in a stretch the log no longer holds).
        self.refresh_record().await;
    }

    /// Answers a resume from the recent events, or parks it until the hub
    /// has released the session's snapshot head (or read further back). The
    /// session's `Join` came first on the same queue, so everything released
    /// after the answer reaches it live.
    fn replay(&mut self, r: ReplayRequest) {
        if r.epoch != self.epoch || r.from > r.until {
            let _ = r.reply.send(None);
        } else if self.recent.upto() < r.until || r.from < self.recent.base() {
            self.waiting.push(r);
        } else {
            let max_comments = self.registry.settings.recent_comments;
            let answer = match self.recent.after(r.from, max_comments) {
                Lookup::Found(events) => Some(events),
                Lookup::TooOld | Lookup::Ahead => None,
            };
            let _ = r.reply.send(answer);
        }
    }

    /// The join snapshot from memory (see [`SnapshotRequest`]).
    fn snapshot(&self, recent: usize) -> Option<crate::store::Snapshot> {
        let totals = self.last_totals?;
        let recent = self.recent.newest(recent)?;
        // Since those totals: the viewers this node counted, and its
        // sessions that came and went (other nodes' show at the next tick).
        let added = self.handle.viewers_added.load(Ordering::Acquire);
        let local = self.handle.online() as u64;
        let online = (totals.online + local).saturating_sub(self.online_at_totals);
        Some(crate::store::Snapshot {
            room: (*self.handle.room()).clone(),
            position: LogPosition {
                epoch: self.epoch.clone(),
                offset: self.recent.upto(),
            },
            totals: Totals {
                likes: totals.likes.max(self.likes_seen),
                viewers: totals.viewers + added,
                online,
                ..totals
            },
            recent,
        })
    }

    /// Answers the parked resumes it can. Those older than the recent events
    /// share one log read per tick: a storm of resumes costs the log one
    /// read per node, not one per viewer.
    async fn serve_replays(&mut self) {
        let upto = self.recent.upto();
        for r in std::mem::take(&mut self.waiting_snapshots) {
            if r.reply.is_closed() {
                continue;
            }
            if upto >= r.until {
                let _ = r.reply.send(self.snapshot(r.recent));
            } else {
                self.waiting_snapshots.push(r);
            }
        }
        self.waiting.retain(|r| !r.reply.is_closed());
        if self.waiting.is_empty() {
            return;
        }
        let oldest = self.waiting.iter().map(|r| r.from).min().unwrap_or(0);
        if oldest < self.recent.base() {
            let pos = LogPosition {
                epoch: self.epoch.clone(),
                offset: oldest,
            };
            if let Ok(Replay::Recovered(log)) = self.registry.store.replay(&self.room, &pos).await {
                let _ = self.recent.backfill(oldest, log);
            }
        }
        let base = self.recent.base();
        for r in std::mem::take(&mut self.waiting) {
            if r.from < base {
                // Not in the log either, or too much to keep: the store
                // answers this one itself.
                let _ = r.reply.send(None);
            } else {
                self.replay(r);
            }
        }
    }

    async fn totals(&mut self, events: &[RoomEvent], online: usize) -> Option<Totals> {
        let comments = events.iter().any(|e| e.lane() == protocol::Lane::Low);
        if !comments && !self.totals_dirty && online == self.last_online {
            return None;
        }
        self.totals_dirty = false;
        self.next_totals = Instant::now() + TOTALS_EVERY;
        let reg = self.registry.clone();
        let now = crate::clock::now_ms();
        if online != self.last_online {
            self.last_online = online;
            let expires = now + reg.settings.presence_ttl_ms();
            let node = &reg.settings.node_id;
            if let Err(e) = reg
                .store
                .set_presence(&self.room, node, self.handle.presence(), expires)
                .await
            {
                tracing::warn!(room = %self.room, error = %e, "presence not refreshed");
            }
        }
        // The viewers counted so far are in the totals read next; no join
        // is between its PFADD and its count meanwhile (the gate).
        let gate = self.handle.viewers_gate.write().await;
        let added = self.handle.viewers_added.swap(0, Ordering::AcqRel);
        let totals = reg.store.totals(&self.room).await;
        drop(gate);
        let (totals, presence) = match (totals, reg.store.presence(&self.room, now).await) {
            (Ok(t), Ok(p)) => (t, p),
            (Err(e), _) | (_, Err(e)) => {
                self.handle.viewers_added.fetch_add(added, Ordering::AcqRel);
                tracing::warn!(room = %self.room, error = %e, "totals unavailable");
                return None;
            }
        };
        let tick = reg.settings.room_tick_ms(presence.online);
        if tick != self.handle.tick_ms() {
            tracing::info!(room = %self.room, online = presence.online, tick_ms = tick, "room tick changed");
            self.handle.tick_ms.store(tick, Ordering::Relaxed);
        }
        let totals = Totals {
            likes: totals.likes.max(self.likes_seen),
            online: presence.online,
            ..totals
        };
        self.last_totals = Some(totals);
        self.online_at_totals = self.handle.presence().online;
        Some(totals)
    }
}
