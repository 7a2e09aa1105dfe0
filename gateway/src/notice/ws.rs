//! Notice requests of a joined session: `push_notice` and
//! `withdraw_notice`. The session authorizes `Action::Notice` against the
//! caller's current role (the hub's record) and then calls these; the ack
//! carries the `notice` event.

use protocol::{PushNotice, Rejection, RequestId, ServerFrame, WithdrawNotice};

use crate::room::Room;
use crate::service::Node;
use crate::session::ack;

/// Pushes a notice into `room`.
pub async fn push(
    node: &Node,
    room: &Room,
    id: Option<RequestId>,
    req: PushNotice,
) -> Result<ServerFrame, Rejection> {
    let event = node.push_notice(room, &req.text).await?;
    Ok(ack(id, Some(event)))
}

/// Withdraws the notice showing in `room`.
pub async fn withdraw(
    node: &Node,
    room: &Room,
    id: Option<RequestId>,
    req: WithdrawNotice,
) -> Result<ServerFrame, Rejection> {
    let event = node.withdraw_notice(&room.id, req.notice).await?;
    Ok(ack(id, Some(event)))
}
