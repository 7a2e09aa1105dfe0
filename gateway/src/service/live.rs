//! Lifecycle transitions through the request path, shared by anchors over
//! WebSocket, admins over HTTP and the node's timers: apply atomically in
//! the store, then publish the status event. Also the room's next timer
//! (its lifecycle deadline or a lottery's draw time).

use protocol::{ErrorCode, EventKind, Rejection, RoomStatus, StatusChanged};

use super::Node;
use crate::clock::now_ms;
use crate::hub::HubHandle;
use crate::room::{Room, Timing, Transition, lifecycle};

/// The room's next timer: the lifecycle deadline or a lottery's draw time.
fn room_deadline(room: &Room, timing: Timing) -> Option<i64> {
    let life = lifecycle::next_deadline(room, timing).map(|(at, _)| at);
    crate::lotteries::next_deadline(room)
        .into_iter()
        .chain(life)
        .min()
}

impl Node {
    /// Applies a transition and announces the new status to the room.
    pub async fn transition(&self, room: &str, t: Transition) -> Result<Room, Rejection> {
        let now = now_ms();
        let timing = self.timing;
        let updated = self
            .update_room(room, &move |r| lifecycle::apply(r, t, now, timing))
            .await
            .map_err(|e| e.rejection())?;
        let reason = if updated.status == RoomStatus::Expired {
            "expired"
        } else {
            t.reason()
        };
        let kind = EventKind::Status(StatusChanged {
            status: updated.status,
            reason: Some(reason.to_string()),
        });
        self.set_room_deadline(&updated).await;
        self.publish(room, kind).await?;
        if updated.status.is_final() {
            self.abandon_open_lotteries(&updated).await;
        }
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

    /// Records the room's next timer (lifecycle or lottery draw).
    pub async fn set_room_deadline(&self, room: &Room) {
        let at = room_deadline(room, self.timing);
        if let Err(e) = self.store.set_deadline(&room.id, at).await {
            tracing::warn!(room = %room.id, error = %e, "deadline not recorded");
        }
    }

    /// The anchor's connection to `room` went away: when no node holds an
    /// anchor session any more, a live or paused room becomes abnormal.
    pub async fn anchor_left(&self, room: &str, hub: &HubHandle) {
        self.report_presence(room, hub).await;
        if self.is_shutting_down() {
            // Its anchors reconnect to another node.
            return;
        }
        match self.store.presence(room, now_ms()).await {
            Ok(p) if p.anchors == 0 => {
                // Not live or paused: nothing to do, and that is fine.
                let _ = self.transition(room, Transition::AnchorLost).await;
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(room, error = %e, "anchor presence unknown"),
        }
    }

    /// Writes this node's presence in `room` now.
    pub async fn report_presence(&self, room: &str, hub: &HubHandle) {
        let expires = now_ms() + self.settings.presence_ttl_ms();
        if let Err(e) = self
            .store
            .set_presence(room, &self.settings.node_id, hub.presence(), expires)
            .await
        {
            tracing::warn!(room, error = %e, "presence not reported");
        }
    }
}
