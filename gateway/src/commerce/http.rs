//! Commerce endpoints behind the admin key: the shelf (list, put, remove,
//! order, grab switch), the pushed card, the explaining pin, the coupon,
//! reservations (read, confirm, cancel), the counters and the merchant
//! feed.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post, put};
use axum::{Json, Router};
use protocol::commerce::{CouponSpec, GoodsSpec, ReservationState};
use protocol::{ErrorCode, Rejection};
use serde::Deserialize;
use serde_json::json;

use crate::http::{ApiResult, AppState, bad_body, json_body};

type Body<T> = Result<Json<T>, axum::extract::rejection::JsonRejection>;

/// Most feed entries one read returns.
const MAX_FEED_PAGE: usize = 1000;

/// Admin routes (nested under `/api`, behind the bearer key).
pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/rooms/{id}/goods", get(shelf))
        .route(
            "/rooms/{id}/goods/{gid}",
            put(put_goods).delete(remove_goods),
        )
        .route("/rooms/{id}/goods/{gid}/grabbable", put(switch))
        .route("/rooms/{id}/shelf/order", put(reorder))
        .route("/rooms/{id}/card", put(push_card).delete(withdraw_card))
        .route("/rooms/{id}/explaining", put(explain))
        .route(
            "/rooms/{id}/coupon",
            put(push_coupon).delete(withdraw_coupon),
        )
        .route("/rooms/{id}/reservations/{rid}", get(reservation))
        .route("/rooms/{id}/reservations/{rid}/confirm", post(confirm))
        .route("/rooms/{id}/reservations/{rid}/cancel", post(cancel))
        .route("/rooms/{id}/commerce", get(counters))
        .route("/rooms/{id}/commerce/feed", get(feed))
}

async fn shelf(State(s): State<AppState>, Path(id): Path<String>) -> ApiResult {
    let room = s.node.store.room(&id).await.map_err(|e| e.rejection())?;
    let items = s
        .node
        .commerce_store
        .shelf(&id)
        .await
        .map_err(|e| e.rejection())?;
    Ok(json_body(
        StatusCode::OK,
        &json!({
            "version": room.commerce.shelf_version,
            "items": items,
            "explaining": room.commerce.explaining,
            "card": room.commerce.card,
            "coupon": room.commerce.coupon,
        }),
    ))
}

async fn put_goods(
    State(s): State<AppState>,
    Path((id, gid)): Path<(String, String)>,
    body: Body<GoodsSpec>,
) -> ApiResult {
    let Json(spec) = body.map_err(bad_body)?;
    if spec.id != gid {
        return Err(Rejection::new(ErrorCode::Invalid, "the body's id must be the path's").into());
    }
    let item = s.node.put_goods(&id, spec).await?;
    Ok(json_body(StatusCode::OK, &item))
}

async fn remove_goods(
    State(s): State<AppState>,
    Path((id, gid)): Path<(String, String)>,
) -> ApiResult {
    s.node.remove_goods(&id, &gid).await?;
    Ok(json_body(StatusCode::OK, &json!({ "removed": gid })))
}

#[derive(Deserialize)]
struct SwitchBody {
    grabbable: bool,
}

async fn switch(
    State(s): State<AppState>,
    Path((id, gid)): Path<(String, String)>,
    body: Body<SwitchBody>,
) -> ApiResult {
    let Json(b) = body.map_err(bad_body)?;
    let item = s.node.switch_goods(&id, &gid, b.grabbable).await?;
    Ok(json_body(StatusCode::OK, &item))
}

#[derive(Deserialize)]
struct OrderBody {
    order: Vec<String>,
}

async fn reorder(
    State(s): State<AppState>,
    Path(id): Path<String>,
    body: Body<OrderBody>,
) -> ApiResult {
    let Json(b) = body.map_err(bad_body)?;
    if b.order.len() > protocol::commerce::MAX_SHELF_IDS {
        return Err(Rejection::new(ErrorCode::Invalid, "too many ids").into());
    }
    for g in &b.order {
        s.node.limits.check_id("goods", g)?;
    }
    s.node.reorder_goods(&id, b.order).await?;
    Ok(json_body(StatusCode::OK, &json!({ "ok": true })))
}

#[derive(Deserialize)]
struct CardBody {
    goods: String,
    #[serde(default)]
    duration_s: Option<u32>,
}

async fn push_card(
    State(s): State<AppState>,
    Path(id): Path<String>,
    body: Body<CardBody>,
) -> ApiResult {
    let Json(b) = body.map_err(bad_body)?;
    s.node.limits.check_id("goods", &b.goods)?;
    if b.duration_s
        .is_some_and(|d| d == 0 || d > protocol::commerce::MAX_CARD_S)
    {
        return Err(Rejection::new(
            ErrorCode::Invalid,
            format!("duration_s must be 1..={}", protocol::commerce::MAX_CARD_S),
        )
        .into());
    }
    let card = s.node.push_card(&id, &b.goods, b.duration_s).await?;
    Ok(json_body(StatusCode::OK, &card))
}

async fn withdraw_card(State(s): State<AppState>, Path(id): Path<String>) -> ApiResult {
    s.node.withdraw_card(&id).await?;
    Ok(json_body(StatusCode::OK, &json!({ "ok": true })))
}

#[derive(Deserialize)]
struct ExplainBody {
    #[serde(default)]
    goods: Option<String>,
}

async fn explain(
    State(s): State<AppState>,
    Path(id): Path<String>,
    body: Body<ExplainBody>,
) -> ApiResult {
    let Json(b) = body.map_err(bad_body)?;
    s.node.explain(&id, b.goods.clone()).await?;
    Ok(json_body(StatusCode::OK, &json!({ "explaining": b.goods })))
}

async fn push_coupon(
    State(s): State<AppState>,
    Path(id): Path<String>,
    body: Body<CouponSpec>,
) -> ApiResult {
    let Json(spec) = body.map_err(bad_body)?;
    let coupon = s.node.push_coupon(&id, spec).await?;
    Ok(json_body(StatusCode::OK, &coupon))
}

async fn withdraw_coupon(State(s): State<AppState>, Path(id): Path<String>) -> ApiResult {
    s.node.withdraw_coupon(&id).await?;
    Ok(json_body(StatusCode::OK, &json!({ "ok": true })))
}

async fn reservation(
    State(s): State<AppState>,
    Path((id, rid)): Path<(String, String)>,
) -> ApiResult {
    let r = s
        .node
        .commerce_store
        .reservation(&id, &rid)
        .await
        .map_err(|e| e.rejection())?
        .ok_or_else(|| Rejection::new(ErrorCode::NotFound, "no such reservation"))?;
    Ok(json_body(StatusCode::OK, &r))
}

async fn settle(s: AppState, id: String, rid: String, to: ReservationState) -> ApiResult {
    s.node.limits.check_id("reservation", &rid)?;
    let r = s.node.settle_reservation(&id, &rid, to).await?;
    Ok(json_body(StatusCode::OK, &r))
}

async fn confirm(State(s): State<AppState>, Path((id, rid)): Path<(String, String)>) -> ApiResult {
    settle(s, id, rid, ReservationState::Confirmed).await
}

async fn cancel(State(s): State<AppState>, Path((id, rid)): Path<(String, String)>) -> ApiResult {
    settle(s, id, rid, ReservationState::Cancelled).await
}

async fn counters(State(s): State<AppState>, Path(id): Path<String>) -> ApiResult {
    s.node.store.room(&id).await.map_err(|e| e.rejection())?;
    let counters = s
        .node
        .commerce_store
        .counters(&id)
        .await
        .map_err(|e| e.rejection())?;
    Ok(json_body(StatusCode::OK, &json!({ "counters": counters })))
}

#[derive(Deserialize)]
struct FeedQuery {
    #[serde(default)]
    after: Option<String>,
    #[serde(default)]
    limit: Option<usize>,
}

async fn feed(
    State(s): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<FeedQuery>,
) -> ApiResult {
    s.node.store.room(&id).await.map_err(|e| e.rejection())?;
    if let Some(a) = &q.after
        && !is_cursor(a)
    {
        return Err(
            Rejection::new(ErrorCode::Invalid, "after must be a cursor from the feed").into(),
        );
    }
    let limit = q.limit.unwrap_or(100).clamp(1, MAX_FEED_PAGE);
    let entries = s
        .node
        .commerce_store
        .feed(&id, q.after.as_deref(), limit)
        .await
        .map_err(|e| e.rejection())?;
    let next = entries.last().map(|e| e.cursor.clone()).or(q.after);
    Ok(json_body(
        StatusCode::OK,
        &json!({ "entries": entries, "next": next }),
    ))
}

/// A feed cursor: digits, or digits-digits (a stream id).
fn is_cursor(s: &str) -> bool {
    let mut parts = s.splitn(2, '-');
    let ok = |p: Option<&str>| {
        p.is_some_and(|p| !p.is_empty() && p.len() <= 20 && p.bytes().all(|b| b.is_ascii_digit()))
    };
    let first = parts.next();
    let second = parts.next();
    ok(first) && (second.is_none() || ok(second))
}
