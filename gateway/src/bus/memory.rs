//! In-process `Bus`: a publish is a direct call into this node's hub registry.

use std::sync::{Arc, OnceLock};

use async_trait::async_trait;

use super::{Bus, BusError, BusHandler, BusMessage};

/// In-process bus of the embedded single node.
#[derive(Default)]
pub struct MemoryBus {
    handler: OnceLock<Arc<dyn BusHandler>>,
}

impl MemoryBus {
    /// A bus with no handler yet.
    pub fn new() -> Self {
        MemoryBus::default()
    }
}

#[async_trait]
impl Bus for MemoryBus {
    fn set_handler(&self, handler: Arc<dyn BusHandler>) {
        // Set once at start; a second call is a programming error we ignore.
        let _ = self.handler.set(handler);
    }

    async fn subscribe(&self, _room: &str) -> Result<(), BusError> {
        Ok(())
    }

    async fn unsubscribe(&self, _room: &str) -> Result<(), BusError> {
        Ok(())
    }

    async fn subscribe_node(&self, _node: &str) -> Result<(), BusError> {
        Ok(())
    }

    /// The embedded node is the only node.
    async fn publish_node(&self, _node: &str, msg: BusMessage) -> Result<(), BusError> {
        match self.handler.get() {
            Some(h) => {
                h.deliver_node(msg);
                Ok(())
            }
            None => Err(BusError("bus has no handler".into())),
        }
    }

    async fn publish(&self, room: &str, msg: BusMessage) -> Result<(), BusError> {
        match self.handler.get() {
            Some(h) => {
                h.deliver(room, msg);
                Ok(())
            }
            None => Err(BusError("bus has no handler".into())),
        }
    }
}
