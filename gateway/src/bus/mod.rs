//! `Bus`: publish/subscribe of room events between nodes. The hub registry
//! of each node receives what its subscribed rooms publish. In-process for the
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
    /// user's channel; it is not part of the room log.
    Personal {
        /// The room the event belongs to.
        room: String,
        /// The event (offset 0: not in the log).
        event: RoomEvent,
    },
}

/// Receives the messages of subscribed rooms (the node's hub registry).
pub trait BusHandler: Send + Sync + 'static {
    /// Called for every message of a subscribed room, in publish order.
    fn deliver(&self, room: &str, msg: BusMessage);
    /// Called for every message on the channel of a user with local sessions.
    fn deliver_user(&self, user: &str, msg: BusMessage);
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
    /// Starts receiving a user's channel (the user's first local session).
    async fn subscribe_user(&self, user: &str) -> Result<(), BusError>;
    /// Stops receiving a user's channel (the user's last local session left).
    async fn unsubscribe_user(&self, user: &str) -> Result<(), BusError>;
    /// Publishes to the nodes that hold a session of `user`, wherever they are.
    async fn publish_user(&self, user: &str, msg: BusMessage) -> Result<(), BusError>;
}
