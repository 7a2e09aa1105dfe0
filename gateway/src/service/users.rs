//! Targeted events: one user's sessions receive an event wherever they are
//! connected (a personal notice, a prize). It travels on the user's bus
//! channel and is not part of any room log (offset 0).

use protocol::{EventKind, Rejection, RoomEvent};

use super::Node;
use crate::bus::BusMessage;
use crate::clock::now_ms;

impl Node {
    /// Sends `kind`, belonging to `room`, to every session of `user` on
    /// every node.
    pub async fn send_to_user(
        &self,
        user: &str,
        room: &str,
        kind: EventKind,
    ) -> Result<(), Rejection> {
        let msg = BusMessage::Personal {
            room: room.to_string(),
            event: RoomEvent {
                offset: 0,
                ts: now_ms(),
                kind,
            },
        };
        self.bus.publish_user(user, msg).await.map_err(|e| {
            tracing::warn!(user, error = %e, "targeted event not published");
            Rejection::new(
                protocol::ErrorCode::Unavailable,
                "bus unavailable, retry later",
            )
        })
    }
}
