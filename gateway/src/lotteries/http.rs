//! Lottery endpoints: the public key (public at `/lottery/key`, and under
//! the admin API), and behind the admin key: create, list, start, read one
//! lottery, its published record (the JSON `lottery verify` checks) and the
//! winners as CSV.

use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use protocol::{ErrorCode, LotteryTerms, Rejection};
use serde_json::json;

use super::{LotterySlot, winners_of};
use crate::http::{ApiResult, AppState, bad_body, cell, json_body};

type Body<T> = Result<Json<T>, axum::extract::rejection::JsonRejection>;

/// Admin routes (nested under `/api`, behind the bearer key).
pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/lottery/key", get(public_key))
        .route("/rooms/{id}/lotteries", post(create).get(list))
        .route("/rooms/{id}/lotteries/{lid}", get(one))
        .route("/rooms/{id}/lotteries/{lid}/start", post(start))
        .route("/rooms/{id}/lotteries/{lid}/record", get(record))
        .route("/rooms/{id}/lotteries/{lid}/winners.csv", get(winners_csv))
}

/// `GET /lottery/key` (public) and `GET /api/lottery/key`.
pub(crate) async fn public_key(State(s): State<AppState>) -> ApiResult {
    let key = s.node.lotteries.key.public_key().to_hex();
    Ok(json_body(StatusCode::OK, &json!({ "public_key": key })))
}

async fn create(
    State(s): State<AppState>,
    Path(id): Path<String>,
    body: Body<LotteryTerms>,
) -> ApiResult {
    let Json(terms) = body.map_err(bad_body)?;
    let event = s.node.create_lottery(&id, terms).await?;
    let lottery = match &event.kind {
        protocol::EventKind::Lottery(l) => l.lottery.clone(),
        _ => String::new(),
    };
    Ok(json_body(
        StatusCode::CREATED,
        &json!({ "lottery": lottery, "event": event }),
    ))
}

async fn view(s: &AppState, room: &str, slot: &LotterySlot) -> serde_json::Value {
    let terms = s.node.lottery_terms(room, &slot.id).await.ok();
    let record = s.node.lottery_record(room, &slot.id).await.ok().flatten();
    let winners = record
        .as_deref()
        .and_then(|r| lottery::Record::from_json(r).ok())
        .map(|r| winners_of(&r))
        .unwrap_or_default();
    json!({
        "id": slot.id,
        "state": slot.state,
        "kind": slot.kind,
        "keyword": slot.keyword,
        "duration_s": slot.duration_s,
        "window_start_ms": slot.window_start_ms,
        "window_end_ms": slot.window_end_ms,
        "terms": terms,
        "winners": winners,
    })
}

async fn list(State(s): State<AppState>, Path(id): Path<String>) -> ApiResult {
    let room = s.node.store.room(&id).await.map_err(|e| e.rejection())?;
    let mut out = Vec::with_capacity(room.lotteries.len());
    for slot in &room.lotteries {
        out.push(view(&s, &id, slot).await);
    }
    Ok(json_body(StatusCode::OK, &json!({ "lotteries": out })))
}

async fn slot_of(s: &AppState, room: &str, lid: &str) -> Result<LotterySlot, Rejection> {
    let r = s.node.store.room(room).await.map_err(|e| e.rejection())?;
    r.lotteries
        .into_iter()
        .find(|l| l.id == lid)
        .ok_or_else(|| Rejection::new(ErrorCode::NotFound, "no such lottery in this room"))
}

async fn one(State(s): State<AppState>, Path((id, lid)): Path<(String, String)>) -> ApiResult {
    let slot = slot_of(&s, &id, &lid).await?;
    Ok(json_body(StatusCode::OK, &view(&s, &id, &slot).await))
}

async fn start(State(s): State<AppState>, Path((id, lid)): Path<(String, String)>) -> ApiResult {
    let event = s.node.start_lottery(&id, &lid).await?;
    Ok(json_body(StatusCode::OK, &json!({ "event": event })))
}

async fn record_json(s: &AppState, id: &str, lid: &str) -> Result<String, Rejection> {
    slot_of(s, id, lid).await?;
    s.node
        .lottery_record(id, lid)
        .await?
        .ok_or_else(|| Rejection::new(ErrorCode::NotFound, "the lottery has no record yet"))
}

/// The published record, byte for byte as stored (`lottery verify` input);
/// also public at `/lottery/rooms/{id}/lotteries/{lid}/record` (no key), so
/// viewers can check a draw themselves.
pub(crate) async fn record(
    State(s): State<AppState>,
    Path((id, lid)): Path<(String, String)>,
) -> ApiResult {
    let json = record_json(&s, &id, &lid).await?;
    Ok(([(header::CONTENT_TYPE, "application/json")], json).into_response())
}

/// `?user=` of the inclusion-proof route.
#[derive(serde::Deserialize)]
pub(crate) struct ProofQuery {
    user: String,
}

/// A participant's Merkle inclusion proof in a drawn lottery's committed
/// set (public, no key): `{root, count, user, proof}`, where `proof` is
/// what `lottery check-inclusion --proof` reads.
pub(crate) async fn inclusion_proof(
    State(s): State<AppState>,
    Path((id, lid)): Path<(String, String)>,
    axum::extract::Query(q): axum::extract::Query<ProofQuery>,
) -> ApiResult {
    s.node.limits.check_id("user", &q.user)?;
    let p = s.node.lottery_proof(&id, &lid, &q.user, None).await?;
    Ok(json_body(
        StatusCode::OK,
        &json!({ "root": p.root, "count": p.count, "user": p.user, "proof": p.proof }),
    ))
}

/// `rank,user_id,redemption_code` lines, in draw order.
async fn winners_csv(
    State(s): State<AppState>,
    Path((id, lid)): Path<(String, String)>,
) -> ApiResult {
    let json = record_json(&s, &id, &lid).await?;
    let record = lottery::Record::from_json(&json)
        .map_err(|e| Rejection::new(ErrorCode::Internal, format!("stored record: {e}")))?;
    let mut csv = String::from("rank,user_id,redemption_code\n");
    for (i, w) in winners_of(&record).iter().enumerate() {
        csv.push_str(&format!("{},{},{}\n", i + 1, cell(&w.user), cell(&w.code)));
    }
    Ok(([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], csv).into_response())
}
