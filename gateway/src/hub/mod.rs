//! Room hubs of one node: a registry of the rooms with local viewers, each
//! served by a [`room_hub`] task that batches a tick of events into frames.
//! The hub (local sessions) is separate from the bus (between nodes).

pub mod appender;
pub mod fanout;
pub mod outbox;
pub mod recent;
pub mod reorder;
mod room_hub;
pub mod users;
pub mod wire;

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};

use dashmap::DashMap;
use tokio::sync::{OnceCell, mpsc};

pub use fanout::Member;
pub use room_hub::{HubCommand, ReplayRequest, SnapshotRequest};

use crate::bus::{Bus, BusHandler, BusMessage};
use crate::config::Settings;
use crate::metrics::Metrics;
use crate::room::Room;
use crate::store::{Presence, Store, StoreError};

/// Commands a room hub's queue holds (bus messages, joins, leaves, resumes,
/// snapshots). Past it: a bus message is dropped (the hub fetches the gap
/// from the log), a join waits up to [`JOIN_WAIT`] and is then refused
/// `unavailable`, a resume or snapshot is answered by the store.
pub const HUB_QUEUE: usize = 65_536;

/// How long a join waits for room in a full hub queue.
pub const JOIN_WAIT: std::time::Duration = std::time::Duration::from_secs(3);

/// The shared face of one room hub.
pub struct HubHandle {
    tx: mpsc::Sender<HubCommand>,
    members: AtomicUsize,
    /// Local sessions of the room's anchor.
    anchors: AtomicUsize,
    /// Like taps not yet flushed to the store.
    likes: AtomicU64,
    /// The room record, kept current from the room's `record` events.
    record: RwLock<Arc<Room>>,
    /// This node's comment batch for the room.
    appender: appender::Appender,
    /// The room's current fan-out tick (`Settings::room_tick_ms`).
    tick_ms: AtomicU64,
    /// Distinct viewers this node added since the hub last read the totals,
    /// so a snapshot from the hub counts its own joiner.
    viewers_added: AtomicU64,
    /// Held shared by a join from its `PFADD` to its `viewer_added`, and
    /// exclusively by the hub from taking `viewers_added` to reading the
    /// totals, so a viewer is in exactly one of the two.
    pub(crate) viewers_gate: tokio::sync::RwLock<()>,
}

impl HubHandle {
    /// Notes a distinct viewer this node added to the room's count.
    pub fn viewer_added(&self) {
        self.viewers_added.fetch_add(1, Ordering::AcqRel);
    }

    /// The room's current fan-out tick, ms: it grows with the room.
    pub fn tick_ms(&self) -> u64 {
        self.tick_ms.load(Ordering::Relaxed)
    }

    /// Queues a comment for the room's next batch (see [`appender`]).
    pub fn append(
        &self,
        pending: crate::store::PendingComment,
    ) -> Result<
        tokio::sync::oneshot::Receiver<Result<crate::store::Appended, protocol::Rejection>>,
        protocol::Rejection,
    > {
        self.appender.append(pending)
    }

    /// The room record as this hub knows it: every change whose event this
    /// hub has released, and every change made on this node.
    pub fn room(&self) -> Arc<Room> {
        self.record
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Takes `room` as the record when it is newer than the one held; true
    /// when it was.
    pub fn offer_record(&self, room: &Room) -> bool {
        let mut cur = self.record.write().unwrap_or_else(|p| p.into_inner());
        if room.version > cur.version {
            *cur = Arc::new(room.clone());
            true
        } else {
            false
        }
    }

    /// Replaces the record whatever its version (the log was reset).
    fn set_record(&self, room: Room) {
        *self.record.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(room);
    }

    /// Adds like taps; the hub flushes them once per tick.
    pub fn add_likes(&self, taps: u64) {
        self.likes.fetch_add(taps, Ordering::Relaxed);
    }

    /// Local sessions in the room.
    pub fn online(&self) -> usize {
        self.members.load(Ordering::Relaxed)
    }

    /// Local anchor sessions in the room.
    pub fn anchors(&self) -> usize {
        self.anchors.load(Ordering::Relaxed)
    }

    /// This node's presence in the room.
    pub fn presence(&self) -> Presence {
        Presence {
            online: self.online() as u64,
            anchors: self.anchors() as u64,
        }
    }

    /// Counts an anchor session (after `join`).
    pub fn anchor_joined(&self) {
        self.anchors.fetch_add(1, Ordering::AcqRel);
    }

    /// The events after `from` (epoch `epoch`) up to at least `until`, from
    /// the hub's memory; `None` when the log must answer, or when the hub
    /// did not answer within `wait`. Call after `join`.
    pub async fn replay(
        &self,
        epoch: &str,
        from: u64,
        until: u64,
        wait: std::time::Duration,
    ) -> Option<Vec<protocol::RoomEvent>> {
        let (reply, rx) = tokio::sync::oneshot::channel();
        let req = ReplayRequest {
            epoch: epoch.to_string(),
            from,
            until,
            reply,
        };
        self.tx.try_send(HubCommand::Replay(req)).ok()?;
        tokio::time::timeout(wait, rx).await.ok()?.ok()?
    }

    /// The join snapshot from the hub's memory, with `recent` comments, once
    /// the hub has released the log up to `until` (the head the session
    /// read); `None` when the store must answer, or when the hub did not
    /// answer within `wait`. Call after `join`: the hub answers in queue order,
    /// so every event after the snapshot's offset reaches the member.
    pub async fn snapshot(
        &self,
        recent: usize,
        until: u64,
        wait: std::time::Duration,
    ) -> Option<crate::store::Snapshot> {
        let (reply, rx) = tokio::sync::oneshot::channel();
        let req = SnapshotRequest {
            recent,
            until,
            reply,
        };
        self.tx.try_send(HubCommand::Snapshot(req)).ok()?;
        tokio::time::timeout(wait, rx).await.ok()?.ok()?
    }

    /// Removes a member (the session left or closed).
    pub fn leave(&self, session: u64, anchor: bool) {
        if anchor {
            self.anchors.fetch_sub(1, Ordering::AcqRel);
        }
        // A leave is never dropped: past a full queue it waits its turn.
        if let Err(mpsc::error::TrySendError::Full(cmd)) =
            self.tx.try_send(HubCommand::Leave(session))
        {
            let tx = self.tx.clone();
            tokio::spawn(async move { tx.send(cmd).await });
        }
        self.members.fetch_sub(1, Ordering::AcqRel);
    }

    /// Makes the hub task panic, as a bug would (fault-injection tests
    /// only: the node must log it, replace the hub and close its sessions
    /// with 4003).
    #[doc(hidden)]
    pub fn inject_panic(&self) {
        let _ = self.tx.try_send(HubCommand::InjectPanic);
    }

    /// Makes the hub task stop taking commands for `d`, as a stuck hub
    /// would (fault-injection tests only: its queue fills up).
    #[doc(hidden)]
    pub fn inject_stall(&self, d: std::time::Duration) {
        let _ = self.tx.try_send(HubCommand::InjectStall(d));
    }
}

#[derive(Default)]
struct Slot {
    hub: OnceCell<Arc<HubHandle>>,
}

/// Every room hub of this node.
pub struct HubRegistry {
    hubs: DashMap<String, Arc<Slot>>,
    /// Local sessions by user, for targeted events.
    pub users: users::UserSessions,
    settings: Settings,
    store: Arc<dyn Store>,
    bus: Arc<dyn Bus>,
    metrics: Arc<Metrics>,
}

impl HubRegistry {
    /// An empty registry; call [`Bus::set_handler`] with it.
    pub fn new(
        settings: Settings,
        store: Arc<dyn Store>,
        bus: Arc<dyn Bus>,
        metrics: Arc<Metrics>,
    ) -> Arc<Self> {
        Arc::new(HubRegistry {
            hubs: DashMap::new(),
            users: users::UserSessions::default(),
            settings,
            store,
            bus,
            metrics,
        })
    }

    /// Adds a member to the room's hub, starting the hub when it is the
    /// room's first local session. Read the join snapshot only after this
    /// returns: events from then on reach the member.
    pub async fn join(
        self: &Arc<Self>,
        room: &str,
        member: Member,
    ) -> Result<Arc<HubHandle>, StoreError> {
        loop {
            let slot = self
                .hubs
                .entry(room.to_string())
                .or_default()
                .value()
                .clone();
            let hub = slot.hub.get_or_try_init(|| self.start(room)).await?.clone();
            // Count the member while the slot is provably still registered,
            // so a hub retiring concurrently cannot lose it.
            let counted = match self.hubs.get(room) {
                Some(cur) if Arc::ptr_eq(cur.value(), &slot) => {
                    hub.members.fetch_add(1, Ordering::AcqRel);
                    true
                }
                _ => false,
            };
            if counted {
                if hub
                    .tx
                    .send_timeout(HubCommand::Join(member), JOIN_WAIT)
                    .await
                    .is_err()
                {
                    hub.members.fetch_sub(1, Ordering::AcqRel);
                    self.metrics
                        .queue_full
                        .get_or_create(&vec![("queue", "hub")])
                        .inc();
                    return Err(StoreError::Unavailable("the room's hub is busy".into()));
                }
                return Ok(hub);
            }
        }
    }

    async fn start(self: &Arc<Self>, room: &str) -> Result<Arc<HubHandle>, StoreError> {
        // Head before record: a change stored after the record was read has
        // its event after the head, which the hub releases (or fetches).
        let head = self.store.head(room).await?;
        let record = self.store.room(room).await?;
        if let Err(e) = self.bus.subscribe(room).await {
            return Err(StoreError::Unavailable(e.to_string()));
        }
        let (tx, rx) = mpsc::channel(HUB_QUEUE);
        let handle = Arc::new(HubHandle {
            tx,
            members: AtomicUsize::new(0),
            anchors: AtomicUsize::new(0),
            likes: AtomicU64::new(0),
            record: RwLock::new(Arc::new(record)),
            appender: appender::Appender::start(
                room.to_string(),
                self.settings.tick(),
                appender::Backend {
                    store: self.store.clone(),
                    bus: self.bus.clone(),
                    metrics: self.metrics.clone(),
                    rate: crate::store::CommentRate {
                        per_s: self.settings.comment_rate,
                        burst: self.settings.comment_burst,
                    },
                },
            ),
            tick_ms: AtomicU64::new(self.settings.tick_ms),
            viewers_added: AtomicU64::new(0),
            viewers_gate: tokio::sync::RwLock::new(()),
        });
        let hub = room_hub::RoomHub::new(room.to_string(), head, handle.clone(), self.clone());
        self.metrics.rooms.inc();
        tokio::spawn(hub.run(rx));
        Ok(handle)
    }

    /// Unregisters a hub whose task died, members or not, so the next join
    /// of the room starts a fresh one.
    fn remove_dead(&self, room: &str, handle: &Arc<HubHandle>) {
        let removed = self
            .hubs
            .remove_if(room, |_, slot| {
                slot.hub.get().is_some_and(|h| Arc::ptr_eq(h, handle))
            })
            .is_some();
        if removed {
            self.metrics.rooms.dec();
        }
    }

    /// Removes the hub if it has no member left; true when it was removed.
    fn retire(&self, room: &str, handle: &Arc<HubHandle>) -> bool {
        let removed = self
            .hubs
            .remove_if(room, |_, slot| {
                slot.hub.get().is_some_and(|h| Arc::ptr_eq(h, handle))
                    && handle.members.load(Ordering::Acquire) == 0
            })
            .is_some();
        if removed {
            self.metrics.rooms.dec();
        }
        removed
    }

    /// Closes every session of every room hub with `code` and retires
    /// the hubs at once: the next join of a room reads it from the store
    /// and starts a fresh hub.
    pub fn close_all(&self, code: protocol::CloseCode) {
        let rooms: Vec<String> = self.hubs.iter().map(|e| e.key().clone()).collect();
        for room in rooms {
            let Some((_, slot)) = self.hubs.remove(&room) else {
                continue;
            };
            if let Some(h) = slot.hub.get() {
                self.metrics.rooms.dec();
                let cmd = HubCommand::CloseAll(code);
                if let Err(mpsc::error::TrySendError::Full(cmd)) = h.tx.try_send(cmd) {
                    let tx = h.tx.clone();
                    tokio::spawn(async move { tx.send(cmd).await });
                }
            }
        }
    }

    /// The room's hub on this node, if it has local sessions.
    pub fn get(&self, room: &str) -> Option<Arc<HubHandle>> {
        self.hubs.get(room)?.hub.get().cloned()
    }

    /// Local sessions in the room.
    pub fn online(&self, room: &str) -> usize {
        self.get(room).map_or(0, |h| h.online())
    }

    /// Every room with local sessions, with this node's presence in it.
    pub fn presences(&self) -> Vec<(String, Presence)> {
        self.hubs
            .iter()
            .filter_map(|e| Some((e.key().clone(), e.value().hub.get()?.presence())))
            .collect()
    }
}

impl BusHandler for HubRegistry {
    fn deliver_node(&self, msg: BusMessage) {
        if let BusMessage::Personal { user, room, event } = msg {
            self.users.deliver(&user, &room, event);
        }
    }

    fn deliver(&self, room: &str, msg: BusMessage) {
        if let Some(h) = self.get(room)
            && let Err(mpsc::error::TrySendError::Full(_)) = h.tx.try_send(HubCommand::Bus(msg))
        {
            // The hub's reorder buffer sees the gap and reads it from the log.
            self.metrics
                .queue_full
                .get_or_create(&vec![("queue", "hub")])
                .inc();
        }
    }
}
