//! `reminder_subscribe` and `reminder_unsubscribe`: by room id, on any
//! signed-in connection, joined to a room or not; the ack carries nothing.

use protocol::{ErrorCode, Rejection, Reminder, RequestId, ServerFrame};

use crate::auth::Identity;
use crate::service::Node;
use crate::session::ack;

/// Subscribes (`on`) or unsubscribes the caller.
pub async fn handle(
    node: &Node,
    identity: Option<&Identity>,
    id: Option<RequestId>,
    req: Reminder,
    on: bool,
) -> Result<ServerFrame, Rejection> {
    let user = identity.ok_or_else(|| {
        Rejection::new(
            ErrorCode::Unauthenticated,
            "sign in to subscribe to reminders",
        )
    })?;
    node.set_reminder(&req.room, &user.user, on).await?;
    Ok(ack(id, None))
}
