//! Lottery requests of a joined session: `lottery_create` and
//! `lottery_start`. The session authorizes `Action::Lottery` against the
//! caller's current role (the hub's record) and then calls these; the
//! admin API runs the same node actions (`http.rs`).

use protocol::{LotteryCreate, LotteryStart, Rejection, RequestId, ServerFrame};

use crate::room::Room;
use crate::service::Node;
use crate::session::ack;

/// Creates a lottery in `room`; the ack carries the `created` event.
pub async fn create(
    node: &Node,
    room: &Room,
    id: Option<RequestId>,
    terms: LotteryCreate,
) -> Result<ServerFrame, Rejection> {
    let event = node.create_lottery(&room.id, terms).await?;
    Ok(ack(id, Some(event)))
}

/// Starts a created lottery of `room`; the ack carries the announcement.
pub async fn start(
    node: &Node,
    room: &Room,
    id: Option<RequestId>,
    start: LotteryStart,
) -> Result<ServerFrame, Rejection> {
    let event = node.start_lottery(&room.id, &start.lottery).await?;
    Ok(ack(id, Some(event)))
}
