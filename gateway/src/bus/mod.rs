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
}

/// Receives the messages of subscribed rooms (the node's hub registry).
pub trait BusHandler: Send + Sync + 'static {
    /// Called for every message of a subscribed room, in publish order.
    fn deliver(&self, room: &str, msg: BusMessage);
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
}
