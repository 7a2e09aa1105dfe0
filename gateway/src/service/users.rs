//! Targeted events: one user's sessions receive an event wherever they are
//! connected (a personal notice, a prize). The store's user directory names
//! the live nodes holding a session of the user; the event goes to each of
//! those nodes' own bus channel and is not part of any room log (offset 0).

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
            user: user.to_string(),
            room: room.to_string(),
            event: RoomEvent {
                offset: 0,
                ts: now_ms(),
                kind,
            },
        };
        let unavailable = |what: &str, e: &dyn std::fmt::Display| {
            tracing::warn!(user, error = %e, "targeted event not sent: {what}");
            Rejection::new(
                protocol::ErrorCode::Unavailable,
                "bus unavailable, retry later",
            )
        };
        let nodes = self
            .store
            .user_nodes(user, now_ms())
            .await
            .map_err(|e| unavailable("directory", &e))?;
        for node in nodes {
            self.bus
                .publish_node(&node, msg.clone())
                .await
                .map_err(|e| unavailable("publish", &e))?;
        }
        Ok(())
    }
}
