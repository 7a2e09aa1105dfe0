//! Redis `Bus`: one subscriber connection per node (per shard on a Cluster,
//! with sharded pub/sub so a room's traffic touches one shard). A node
//! subscribes to a room when its first local viewer joins and unsubscribes
//! when the last leaves. Subscriptions come back after a reconnect (the
//! connection manager resubscribes; after an outage longer than its retry
//! budget, [`Healer`] makes it reconnect); events published meanwhile are
//! fetched from the room log by the hubs' resync.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock, Weak};
use std::time::Duration;

use async_trait::async_trait;
use redis::{AsyncCommands, PushInfo, PushKind, RedisResult};
use tokio::sync::{Mutex, mpsc};

use super::{Bus, BusError, BusHandler, BusMessage};
use crate::metrics::Metrics;
use crate::store::redis::{BoundedPush, RedisConn, Topology};

/// Redis pub/sub bus.
pub struct RedisBus {
    prefix: Arc<str>,
    publisher: RedisConn,
    /// The subscriber connection and how many hubs of this node want each
    /// room: a hub retiring while a new one for the same room starts must
    /// not unsubscribe the new one.
    subscriber: Arc<Subscriber>,
    sharded: bool,
    handler: Arc<OnceLock<Arc<dyn BusHandler>>>,
}

/// The subscriber connection and how many local users of each channel
/// (hubs of a room, sessions of a user) there are.
type Subscriber = Mutex<(RedisConn, HashMap<String, usize>)>;

fn channel(prefix: &str, room: &str) -> String {
    format!("{prefix}:{{{room}}}:ch")
}

fn node_channel(prefix: &str, node: &str) -> String {
    format!("{prefix}:n:{{{node}}}")
}

/// Whose channel a message came on.
enum Target<'a> {
    Room(&'a str),
    Node,
}

fn target_of<'a>(prefix: &str, channel: &'a str) -> Option<Target<'a>> {
    let rest = channel.strip_prefix(prefix)?;
    if rest.starts_with(":n:{") {
        return Some(Target::Node);
    }
    rest.strip_prefix(":{")?
        .strip_suffix("}:ch")
        .map(Target::Room)
}

fn err(e: redis::RedisError) -> BusError {
    BusError(e.to_string())
}

impl RedisBus {
    /// Connects the publisher and the subscriber, and starts the receive loop.
    pub async fn connect(
        topology: &Topology,
        prefix: &str,
        metrics: Arc<Metrics>,
    ) -> RedisResult<RedisBus> {
        let prefix: Arc<str> = prefix.into();
        let dropped = metrics
            .queue_full
            .get_or_create(&vec![("queue", "bus_push")])
            .clone();
        let (push, rx) = BoundedPush::new(dropped);
        let missed_disconnect = push.missed_disconnect.clone();
        let subscriber = RedisConn::connect(topology, Some(push)).await?;
        let subscriber = Arc::new(Mutex::new((subscriber, HashMap::new())));
        let publisher = RedisConn::connect(topology, None).await?;
        let handler: Arc<OnceLock<Arc<dyn BusHandler>>> = Arc::new(OnceLock::new());
        let healer = Healer {
            subscriber: Arc::downgrade(&subscriber),
            running: Arc::new(AtomicBool::new(false)),
        };
        tokio::spawn(receive(
            rx,
            missed_disconnect,
            prefix.clone(),
            handler.clone(),
            metrics,
            healer,
        ));
        Ok(RedisBus {
            prefix,
            publisher,
            subscriber,
            sharded: topology.sharded(),
            handler,
        })
    }
}

/// Brings the subscriber connection back after a disconnection. The
/// connection manager reconnects (and resubscribes) by itself only within
/// its retry budget (6 tries, a few seconds); after a longer outage it stays
/// down until a command goes through it, and nothing else is sent on the
/// subscriber. So after a disconnection this pings it until it answers.
#[derive(Clone)]
struct Healer {
    subscriber: Weak<Subscriber>,
    running: Arc<AtomicBool>,
}

/// Pause between pings of a subscriber connection that is down.
const HEAL_EVERY: Duration = Duration::from_millis(500);

impl Healer {
    fn start(&self) {
        if !self.running.swap(true, Ordering::AcqRel) {
            tokio::spawn(self.clone().run());
        }
    }

    async fn run(self) {
        loop {
            // A dropped bus needs no healing.
            let Some(sub) = self.subscriber.upgrade() else {
                break;
            };
            let mut conn = sub.lock().await.0.clone();
            drop(sub);
            let ping: RedisResult<redis::Value> = redis::cmd("PING").query_async(&mut conn).await;
            if ping.is_ok() {
                tracing::info!("bus connection back, subscriptions restored");
                break;
            }
            tokio::time::sleep(HEAL_EVERY).await;
        }
        self.running.store(false, Ordering::Release);
    }
}

async fn receive(
    mut rx: mpsc::Receiver<PushInfo>,
    missed_disconnect: Arc<AtomicBool>,
    prefix: Arc<str>,
    handler: Arc<OnceLock<Arc<dyn BusHandler>>>,
    metrics: Arc<Metrics>,
    healer: Healer,
) {
    while let Some(push) = rx.recv().await {
        if missed_disconnect.swap(false, Ordering::AcqRel) {
            metrics.bus_disconnects.inc();
            tracing::warn!("bus connection lost (notice dropped by a full queue); resubscribing");
            healer.start();
        }
        match push.kind {
            PushKind::Message | PushKind::SMessage => {
                let (Some(ch), Some(payload)) = (push.data.first(), push.data.get(1)) else {
                    continue;
                };
                let (Ok(ch), Ok(payload)) = (
                    redis::from_redis_value::<String>(ch.clone()),
                    redis::from_redis_value::<Vec<u8>>(payload.clone()),
                ) else {
                    continue;
                };
                let Some(target) = target_of(&prefix, &ch) else {
                    continue;
                };
                let (msg, Some(h)) = (postcard::from_bytes::<BusMessage>(&payload), handler.get())
                else {
                    continue;
                };
                match (msg, target) {
                    (Ok(msg), Target::Room(room)) => h.deliver(room, msg),
                    (Ok(msg), Target::Node) => h.deliver_node(msg),
                    (Err(e), _) => {
                        tracing::warn!(channel = %ch, error = %e, "undecodable bus message")
                    }
                }
            }
            PushKind::Disconnection => {
                metrics.bus_disconnects.inc();
                tracing::warn!("bus connection lost; reconnecting and resubscribing");
                healer.start();
            }
            _ => {}
        }
    }
}

#[async_trait]
impl Bus for RedisBus {
    fn set_handler(&self, handler: Arc<dyn BusHandler>) {
        let _ = self.handler.set(handler);
    }

    async fn subscribe(&self, room: &str) -> Result<(), BusError> {
        self.subscribe_channel(channel(&self.prefix, room)).await
    }

    async fn unsubscribe(&self, room: &str) -> Result<(), BusError> {
        self.unsubscribe_channel(channel(&self.prefix, room)).await
    }

    async fn publish(&self, room: &str, msg: BusMessage) -> Result<(), BusError> {
        self.publish_to(channel(&self.prefix, room), &msg).await
    }

    async fn subscribe_node(&self, node: &str) -> Result<(), BusError> {
        self.subscribe_channel(node_channel(&self.prefix, node))
            .await
    }

    async fn publish_node(&self, node: &str, msg: BusMessage) -> Result<(), BusError> {
        self.publish_to(node_channel(&self.prefix, node), &msg)
            .await
    }
}

impl RedisBus {
    async fn subscribe_channel(&self, ch: String) -> Result<(), BusError> {
        let mut guard = self.subscriber.lock().await;
        let (conn, wanted) = &mut *guard;
        let count = wanted.entry(ch.clone()).or_insert(0);
        if *count == 0 {
            conn.subscribe(&ch).await.map_err(err)?;
        }
        *count += 1;
        Ok(())
    }

    async fn unsubscribe_channel(&self, ch: String) -> Result<(), BusError> {
        let mut guard = self.subscriber.lock().await;
        let (conn, wanted) = &mut *guard;
        let Some(count) = wanted.get_mut(&ch) else {
            return Ok(());
        };
        // A subscribe that failed left a count of 0: never wrap below it.
        *count = count.saturating_sub(1);
        if *count == 0 {
            wanted.remove(&ch);
            conn.unsubscribe(&ch).await.map_err(err)?;
        }
        Ok(())
    }

    async fn publish_to(&self, ch: String, msg: &BusMessage) -> Result<(), BusError> {
        let payload = postcard::to_allocvec(msg).map_err(|e| BusError(e.to_string()))?;
        let mut c = self.publisher.clone();
        let _: i64 = if self.sharded {
            redis::cmd("SPUBLISH")
                .arg(ch)
                .arg(payload)
                .query_async(&mut c)
                .await
                .map_err(err)?
        } else {
            c.publish(ch, payload).await.map_err(err)?
        };
        Ok(())
    }
}
