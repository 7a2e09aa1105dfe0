//! Changes of the room record. Every change is a read-modify-write in the
//! store (which bumps the record's version) followed by an internal
//! `record` event in the room log, so every node's room hub applies it in
//! offset order: requests read the record from their hub, not the store.
//! The node that made the change applies it to its own hub at once, so a
//! client sees its own change on its next request.

use protocol::{EventKind, RoomRecord};

use super::Node;
use crate::room::Room;
use crate::store::{RoomUpdate, StoreError};

impl Node {
    /// Applies `f` to the stored room atomically, announces the new record
    /// to every node's hub and returns it.
    pub async fn update_room(&self, id: &str, f: RoomUpdate<'_>) -> Result<Room, StoreError> {
        let room = self.store.update_room(id, f).await?;
        if let Some(hub) = self.hubs.get(id) {
            hub.offer_record(&room);
        }
        match serde_json::to_string(&room) {
            Ok(record) => {
                let kind = EventKind::Record(RoomRecord {
                    version: room.version,
                    record,
                });
                if let Err(r) = self.publish(id, kind).await {
                    // Stored, not announced: other hubs pick it up at their
                    // next refresh from the store.
                    tracing::warn!(room = id, reason = %r, "room record change not announced");
                }
            }
            Err(e) => tracing::error!(room = id, error = %e, "room record does not serialize"),
        }
        Ok(room)
    }
}
