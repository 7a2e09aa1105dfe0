//! The node: everything a request needs (settings, one handle per store
//! trait, bus, hubs, keys, metrics, the slices' node state), and the core
//! steps of the single request path that come after the session: publish
//! (store append → bus), room record changes (`record.rs`), lifecycle
//! transitions and the room's next timer (`live.rs`), targeted events
//! (`users.rs`). The slices (`moderation`, `lotteries`) add their actions
//! over the node in their own folders.

mod drain;
mod live;
mod record;
mod store_epoch;
mod users;

pub use drain::{Drain, session_turn};
pub use store_epoch::STORE_LOST_HOLD;

use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

use protocol::{EventKind, Limits, Rejection, RoomEvent};
use tokio::sync::watch;

use crate::auth::TokenKeys;
use crate::bus::{Bus, BusMessage};
use crate::clock::now_ms;
use crate::commerce::{Commerce, CommerceStore};
use crate::config::Settings;
use crate::costream::pk::PkStore;
use crate::dashboard::{Dashboard, DashboardStore};
use crate::hub::HubRegistry;
use crate::lotteries::{Lotteries, LotteryStore};
use crate::metrics::Metrics;
use crate::moderation::{ConnLimits, ModerationStore, WordFilters};
use crate::reminder::ReminderStore;
use crate::room::Timing;
use crate::store::Store;
use crate::webhook::{WebhookStore, Webhooks};

/// The store behind each trait the node uses: one object underneath
/// (`MemoryStore` or `RedisStore`), one handle per trait.
#[derive(Clone)]
pub struct Stores {
    /// The core: rooms, log, totals, presence, directory, deadlines, leases.
    pub core: Arc<dyn Store>,
    /// The moderation slice's state.
    pub moderation: Arc<dyn ModerationStore>,
    /// The lottery slice's state.
    pub lottery: Arc<dyn LotteryStore>,
    /// The commerce slice's state.
    pub commerce: Arc<dyn CommerceStore>,
    /// Start-reminder subscriptions and push quotas.
    pub reminder: Arc<dyn ReminderStore>,
    /// Webhook endpoints and the delivery queue.
    pub webhook: Arc<dyn WebhookStore>,
    /// The dashboard slice's counters and curves.
    pub dashboard: Arc<dyn DashboardStore>,
    /// The rooms' PK histories.
    pub pk: Arc<dyn PkStore>,
}

impl Stores {
    /// Every handle on one store.
    pub fn of<
        S: Store
            + ModerationStore
            + LotteryStore
            + CommerceStore
            + ReminderStore
            + WebhookStore
            + DashboardStore
            + PkStore,
    >(
        store: Arc<S>,
    ) -> Stores {
        Stores {
            core: store.clone(),
            moderation: store.clone(),
            lottery: store.clone(),
            commerce: store.clone(),
            reminder: store.clone(),
            webhook: store.clone(),
            dashboard: store.clone(),
            pk: store,
        }
    }
}

/// One gateway node's shared state.
pub struct Node {
    /// Effective settings.
    pub settings: Settings,
    /// Client frame limits.
    pub limits: Limits,
    /// Room state (the core's store).
    pub store: Arc<dyn Store>,
    /// Mutes, deleted comments, word lists, slow mode, audit logs (the
    /// same store as `store`).
    pub moderation_store: Arc<dyn ModerationStore>,
    /// Lottery documents and participant sets (the same store as `store`).
    pub lottery_store: Arc<dyn LotteryStore>,
    /// The shelf, grabs, coupons (the same store as `store`).
    pub commerce_store: Arc<dyn CommerceStore>,
    /// The node's commerce state: encoded shelves, sold-out flags, clicks.
    pub commerce: Commerce,
    /// Start-reminder subscribers and push quotas (the same store).
    pub reminder_store: Arc<dyn ReminderStore>,
    /// Webhook endpoints and the delivery queue (the same store).
    pub webhook_store: Arc<dyn WebhookStore>,
    /// The webhook client, retry schedule and endpoint cache.
    pub webhooks: Webhooks,
    /// Dashboard counters and curves (the same store as `store`).
    pub dashboard_store: Arc<dyn DashboardStore>,
    /// PK histories (the same store as `store`).
    pub pk_store: Arc<dyn PkStore>,
    /// Pub/sub between nodes.
    pub bus: Arc<dyn Bus>,
    /// Local room hubs.
    pub hubs: Arc<HubRegistry>,
    /// Viewer token keys.
    pub keys: TokenKeys,
    /// Metrics.
    pub metrics: Arc<Metrics>,
    /// Lifecycle durations.
    pub timing: Timing,
    /// Sensitive-word dictionaries, rebuilt when the stored lists change.
    pub words: WordFilters,
    /// Per-user comment rate and per-IP connection limits.
    pub conn_limits: ConnLimits,
    /// Lottery signing key and the participants this node already stored.
    pub lotteries: Lotteries,
    /// The joins this node counted and has not yet added to the store.
    pub dashboard: Dashboard,
    /// The co-stream signalling senders on this node (numbering, rates).
    pub relay: crate::costream::Relay,
    shutdown: watch::Sender<bool>,
    next_session: AtomicU64,
    /// The store's data epoch this node knows (`store_epoch.rs`).
    store_epoch: Mutex<String>,
    /// Until when (unix ms) the node holds itself not-ready after the store
    /// lost its data.
    store_lost_until: AtomicI64,
    /// Since when (unix ms) the presence heartbeat has reached the store
    /// without a failure; 0 while it fails.
    store_ok_since: AtomicI64,
    /// The paced drain on SIGTERM (`drain.rs`).
    pub drain: Drain,
}

/// Why a node does not take traffic, before asking its store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unready {
    /// The node is stopping.
    ShuttingDown,
    /// The paced drain has begun (SIGTERM).
    Draining,
    /// The store came back empty a moment ago (close 4005).
    StoreLost,
}

impl Unready {
    /// How `/readyz` words it.
    pub fn reason(self) -> &'static str {
        match self {
            Unready::ShuttingDown => "shutting down",
            Unready::Draining => "draining",
            Unready::StoreLost => "store lost its data",
        }
    }
}

impl Node {
    /// Wires a node over a store and a bus.
    pub fn new(
        settings: Settings,
        stores: Stores,
        bus: Arc<dyn Bus>,
        keys: TokenKeys,
        metrics: Arc<Metrics>,
        lottery_key: ::lottery::SecretKey,
    ) -> Arc<Node> {
        let hubs = HubRegistry::new(
            settings.clone(),
            stores.core.clone(),
            bus.clone(),
            metrics.clone(),
        );
        bus.set_handler(hubs.clone());
        let (shutdown, _) = watch::channel(false);
        Arc::new(Node {
            limits: settings.limits(),
            timing: Timing {
                abnormal_timeout_ms: settings.abnormal_timeout_ms as i64,
                max_live_ms: settings.max_live_ms as i64,
            },
            words: WordFilters::new(settings.tick_ms),
            conn_limits: ConnLimits::new(&settings),
            lotteries: Lotteries::new(
                lottery_key,
                crate::lotteries::beacon::BeaconClient::from_settings(&settings).unwrap_or_else(
                    |e| {
                        tracing::error!(error = %e, "beacon settings refused: no beacon");
                        None
                    },
                ),
            ),
            webhooks: Webhooks::new(&settings),
            relay: crate::costream::Relay::new(&settings),
            settings,
            store: stores.core,
            moderation_store: stores.moderation,
            lottery_store: stores.lottery,
            commerce_store: stores.commerce,
            commerce: Commerce::default(),
            reminder_store: stores.reminder,
            webhook_store: stores.webhook,
            dashboard_store: stores.dashboard,
            pk_store: stores.pk,
            dashboard: Dashboard::default(),
            bus,
            hubs,
            keys,
            metrics,
            shutdown,
            next_session: AtomicU64::new(1),
            store_epoch: Mutex::new(String::new()),
            store_lost_until: AtomicI64::new(0),
            store_ok_since: AtomicI64::new(0),
            drain: Drain::default(),
        })
    }

    /// A fresh session id.
    pub fn session_id(&self) -> u64 {
        self.next_session.fetch_add(1, Ordering::Relaxed)
    }

    /// Resolves when the node starts shutting down.
    pub fn shutdown_signal(&self) -> watch::Receiver<bool> {
        self.shutdown.subscribe()
    }

    /// Whether shutdown has begun.
    pub fn is_shutting_down(&self) -> bool {
        *self.shutdown.borrow()
    }

    /// What keeps this node from taking traffic, known without asking the
    /// store: `None` when nothing does.
    pub fn unready(&self) -> Option<Unready> {
        if self.is_shutting_down() {
            Some(Unready::ShuttingDown)
        } else if self.drain.is_draining() {
            Some(Unready::Draining)
        } else if self.store_lost() {
            Some(Unready::StoreLost)
        } else {
            None
        }
    }

    /// The readiness `GET /api/node` and the node report show: `ready`,
    /// `shutting_down` (draining or stopping: `/readyz` is 503) or
    /// `not_ready` (the store lost its data, or `store_answers` is false).
    pub fn readiness(&self, store_answers: bool) -> &'static str {
        match self.unready() {
            Some(Unready::ShuttingDown | Unready::Draining) => "shutting_down",
            Some(Unready::StoreLost) => "not_ready",
            None if !store_answers => "not_ready",
            None => "ready",
        }
    }

    /// Begins shutdown: sessions close with the "shutting down" code.
    pub fn begin_shutdown(&self) {
        self.drain.cut_short();
        self.shutdown.send_replace(true);
    }

    /// Appends an event to the room log and publishes it to every node,
    /// unless one was already appended under `once` in this room (another
    /// node got there first): exactly once in the log, whoever tries.
    pub async fn publish_once(
        &self,
        room: &str,
        kind: EventKind,
        once: &str,
    ) -> Result<Option<RoomEvent>, Rejection> {
        let Some(event) = self
            .store
            .append_once(room, now_ms(), kind, once)
            .await
            .map_err(|e| e.rejection())?
        else {
            return Ok(None);
        };
        self.announce(room, &event).await;
        Ok(Some(event))
    }

    /// Appends an event stamped `ts` (unix ms) to the room log and
    /// publishes it to every node: for events whose time is that of a
    /// decision taken earlier (a PK's score).
    pub async fn publish_at(
        &self,
        room: &str,
        ts: i64,
        kind: EventKind,
    ) -> Result<RoomEvent, Rejection> {
        let event = self
            .store
            .append(room, ts, kind)
            .await
            .map_err(|e| e.rejection())?;
        self.announce(room, &event).await;
        Ok(event)
    }

    /// Appends an event to the room log and publishes it to every node.
    pub async fn publish(&self, room: &str, kind: EventKind) -> Result<RoomEvent, Rejection> {
        let event = self
            .store
            .append(room, now_ms(), kind)
            .await
            .map_err(|e| e.rejection())?;
        self.announce(room, &event).await;
        Ok(event)
    }

    /// Publishes a logged event to every node's hub.
    async fn announce(&self, room: &str, event: &RoomEvent) {
        if let Err(e) = self
            .bus
            .publish(room, BusMessage::Event(event.clone()))
            .await
        {
            // The event is in the log: hubs fetch the gap, resumes replay it.
            tracing::warn!(room, error = %e, offset = event.offset, "publish failed");
        }
    }
}
