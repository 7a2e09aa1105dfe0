//! Notice endpoints behind the admin key: `PUT /api/rooms/{id}/notice`
//! (body `{"text"}`) pushes one, `DELETE /api/rooms/{id}/notice` withdraws
//! the one showing; `GET` reads it. The same node actions as the
//! WebSocket requests, so the same rules and codes.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::put;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;

use crate::clock::now_ms;
use crate::http::{ApiResult, AppState, bad_body, json_body};

type Body<T> = Result<Json<T>, axum::extract::rejection::JsonRejection>;

/// Body of `PUT /api/rooms/{id}/notice`.
#[derive(Deserialize)]
struct NoticeBody {
    text: String,
}

/// Admin routes (nested under `/api`, behind the bearer key).
pub(crate) fn routes() -> Router<AppState> {
    Router::new().route(
        "/rooms/{id}/notice",
        put(push).delete(withdraw).get(current),
    )
}

async fn push(
    State(s): State<AppState>,
    Path(id): Path<String>,
    body: Body<NoticeBody>,
) -> ApiResult {
    let Json(b) = body.map_err(bad_body)?;
    let room = s.node.store.room(&id).await.map_err(|e| e.rejection())?;
    let event = s.node.push_notice(&room, &b.text).await?;
    Ok(json_body(StatusCode::OK, &json!({ "event": event })))
}

async fn withdraw(State(s): State<AppState>, Path(id): Path<String>) -> ApiResult {
    let event = s.node.withdraw_notice(&id, None).await?;
    Ok(json_body(StatusCode::OK, &json!({ "event": event })))
}

async fn current(State(s): State<AppState>, Path(id): Path<String>) -> ApiResult {
    let room = s.node.store.room(&id).await.map_err(|e| e.rejection())?;
    let shown = super::shown(&room, now_ms());
    Ok(json_body(StatusCode::OK, &json!({ "notice": shown })))
}
