//! Commerce requests of a joined session. The session authorizes
//! [`action`] against the caller's current role (the hub's record) and
//! then calls [`handle`]; `shelf` is answered by the session from the
//! node's encoded copy (`Node::shelf_reply`). The admin API runs the same
//! node actions (`http.rs`).

use protocol::commerce::{CouponClaimed, Grabbed};
use protocol::{Rejection, Request, RequestId, ServerFrame};

use crate::auth::Action;
use crate::room::Room;
use crate::service::Node;
use crate::session::ack;

/// What a commerce request asks permission for.
pub fn action(request: &Request) -> Action {
    match request {
        Request::Grab(_) | Request::CouponClaim(_) => Action::Grab,
        Request::Shelf(_) | Request::GoodsClick(_) => Action::Watch,
        _ => Action::Goods,
    }
}

/// Runs an authorized commerce request (all but `shelf`) for `user` (the
/// signed-in caller; `Action::Grab` needs one).
pub async fn handle(
    node: &Node,
    user: Option<&str>,
    room: &Room,
    id: Option<RequestId>,
    request: Request,
) -> Result<ServerFrame, Rejection> {
    let r = &room.id;
    match request {
        Request::GoodsPut(p) => node.put_goods(r, p.goods).await.map(|_| ack(id, None)),
        Request::GoodsRemove(p) => node.remove_goods(r, &p.goods).await.map(|_| ack(id, None)),
        Request::GoodsReorder(p) => node.reorder_goods(r, p.order).await.map(|_| ack(id, None)),
        Request::GoodsSwitch(p) => node
            .switch_goods(r, &p.goods, p.grabbable)
            .await
            .map(|_| ack(id, None)),
        Request::CardPush(p) => node
            .push_card(r, &p.goods, p.duration_s)
            .await
            .map(|_| ack(id, None)),
        Request::CardWithdraw(_) => node.withdraw_card(r).await.map(|_| ack(id, None)),
        Request::Explain(p) => node.explain(r, p.goods).await.map(|_| ack(id, None)),
        Request::CouponPush(p) => node.push_coupon(r, p.coupon).await.map(|_| ack(id, None)),
        Request::GoodsClick(p) => {
            node.limits.check_id("goods", &p.goods)?;
            node.goods_click(r, &p.goods);
            Ok(ack(id, None))
        }
        Request::Grab(g) => {
            let user = user.unwrap_or_default();
            let reservation = node.grab(r, user, &g).await?;
            Ok(ServerFrame::Grabbed(Grabbed { id, reservation }))
        }
        Request::CouponClaim(c) => {
            let user = user.unwrap_or_default();
            let held = node.claim_coupon(r, user, &c.coupon, &c.key).await?;
            Ok(ServerFrame::CouponClaimed(CouponClaimed {
                id,
                coupon: c.coupon,
                held,
            }))
        }
        _ => Ok(ack(id, None)),
    }
}
