//! `Bus`: publish/subscribe of room events between nodes. The hub registry
//! of each node receives what its subscribed rooms publish, and what is
//! sent to the node itself (targeted events): a node's subscriptions are
//! one per room it hosts plus its own channel, never one per user. In-process for the
//! embedded node; Redis pub/sub in a cluster.

mod memory;
mod redis;

pub use memory::MemoryBus;
pub use redis::RedisBus;

use std::sync::Arc;

use async_trait::async_trait;
use protocol::RoomEvent;

/// What travels on the bus for one room.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum BusMessage {
    /// A logged room event (with its offset).
    Event(RoomEvent),
    /// The room's like total after a node flushed its taps.
    Likes(u64),
    /// An event for one user only (a personal notice, a prize), on the
    /// channel of each node the user is connected to; it is not part of the
    /// room log.
    Personal {
        /// The user.
        user: String,
        /// The room the event belongs to.
        room: String,
        /// The event (offset 0: not in the log).
        event: RoomEvent,
    },
    /// Logged room events of one batch (a tick's comments from one node),
    /// oldest first.
    Events(Vec<RoomEvent>),
}

/// Receives the messages of subscribed rooms (the node's hub registry).
pub trait BusHandler: Send + Sync + 'static {
    /// Called for every message of a subscribed room, in publish order.
    fn deliver(&self, room: &str, msg: BusMessage);
    /// Called for every message on this node's own channel.
    fn deliver_node(&self, msg: BusMessage);
}

/// Why a bus operation failed.
#[derive(Debug, thiserror::Error)]
#[error("bus unavailable: {0}")]
pub struct BusError(pub String);

/// Room pub/sub between nodes.
#[async_trait]
pub trait Bus: Send + Sync + 'static {
    /// Sets where messages go; called once when the node starts.
    fn set_handler(&self, handler: Arc<dyn BusHandler>);
    /// Starts receiving a room's messages (first local viewer joined).
    async fn subscribe(&self, room: &str) -> Result<(), BusError>;
    /// Stops receiving a room's messages (last local viewer left).
    async fn unsubscribe(&self, room: &str) -> Result<(), BusError>;
    /// Publishes to every node subscribed to the room, this one included.
    async fn publish(&self, room: &str, msg: BusMessage) -> Result<(), BusError>;
    /// Starts receiving this node's own channel (once, at start; kept
    /// across reconnects like every subscription).
    async fn subscribe_node(&self, node: &str) -> Result<(), BusError>;
    /// Publishes to one node's channel.
    async fn publish_node(&self, node: &str, msg: BusMessage) -> Result<(), BusError>;
}
