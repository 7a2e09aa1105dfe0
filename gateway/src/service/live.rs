//! Lifecycle transitions through the request path, shared by anchors over
//! WebSocket, admins over HTTP and the node's timers: apply atomically in
//! the store, then publish the status event.

use protocol::{ErrorCode, EventKind, Rejection, RoomStatus, StatusChanged};

use super::Node;
use crate::clock::now_ms;
use crate::room::{Room, Transition, lifecycle};

impl Node {
    /// Applies a transition and announces the new status to the room.
    pub async fn transition(&self, room: &str, t: Transition) -> Result<Room, Rejection> {
        let now = now_ms();
        let timing = self.timing;
        let updated = self
            .store
            .update_room(room, &move |r| lifecycle::apply(r, t, now, timing))
            .await
            .map_err(|e| e.rejection())?;
        let kind = EventKind::Status(StatusChanged {
            status: updated.status,
            reason: Some(t.reason().to_string()),
        });
        self.publish(room, kind).await?;
        tracing::info!(
            room,
            status = updated.status.code(),
            reason = t.reason(),
            "room status"
        );
        if updated.status == RoomStatus::Expired {
            return Err(Rejection::new(
                ErrorCode::RoomExpired,
                "the planned end has passed; the room can no longer start",
            ));
        }
        Ok(updated)
    }

    /// The anchor's connection to `room` went away.
    pub async fn anchor_left(&self, room: &str) {
        match self.store.anchor_presence(room, -1).await {
            Ok(0) if !self.is_shutting_down() => {
                // Not live or paused: nothing to do, and that is fine.
                let _ = self.transition(room, Transition::AnchorLost).await;
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(room, error = %e, "anchor presence not updated"),
        }
    }
}
