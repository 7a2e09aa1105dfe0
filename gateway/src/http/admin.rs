//! The admin API under `/api`, behind a bearer key: rooms (create, list,
//! read, patch, lifecycle actions), per-room stats, and token minting for
//! development; the slices' routes (`moderation::http`, `lotteries::http`,
//! `notice::http`, `dashboard::http`)
//! are merged in here, behind the same key. Errors are `{"code", "message"}` with the same stable codes
//! as WebSocket rejections.

use axum::extract::{Path, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use protocol::{ErrorCode, EventKind, LiveAction, Rejection};
use serde::Deserialize;
use serde_json::json;

use super::AppState;
use crate::moderation::{Actor, audit};
use crate::room::{RoomPatch, RoomSpec, Transition};

pub(super) fn routes(state: AppState) -> Router<AppState> {
    Router::new()
        .route("/rooms", post(create_room).get(list_rooms))
        .route("/rooms/{id}", get(get_room).patch(patch_room))
        .route("/rooms/{id}/live", post(live_action))
        .route(
            "/rooms/{id}/preview",
            axum::routing::put(set_preview).delete(clear_preview),
        )
        .route("/rooms/{id}/stats", get(stats))
        .route("/stats", get(deployment_stats))
        .route("/tokens", post(mint_token))
        .merge(crate::moderation::http::routes())
        .merge(crate::lotteries::http::routes())
        .merge(crate::commerce::http::routes())
        .merge(crate::reminder::http::routes())
        .merge(crate::webhook::http::routes())
        .merge(crate::notice::http::routes())
        .merge(crate::costream::pk::http::routes())
        .merge(crate::dashboard::http::routes())
        .merge(crate::console::http::routes())
        .layer(middleware::from_fn_with_state(state, require_key))
}

/// A rejection as an HTTP response.
pub(crate) struct ApiError(Rejection);

impl From<Rejection> for ApiError {
    fn from(r: Rejection) -> Self {
        ApiError(r)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = match self.0.code {
            ErrorCode::RoomNotFound | ErrorCode::NotFound | ErrorCode::UnknownGoods => {
                StatusCode::NOT_FOUND
            }
            ErrorCode::Conflict
            | ErrorCode::InvalidTransition
            | ErrorCode::RoomExpired
            | ErrorCode::LiveLimit
            | ErrorCode::ShelfFull
            | ErrorCode::NoticeShowing
            | ErrorCode::NoticeSpacing => StatusCode::CONFLICT,
            ErrorCode::QuotaExceeded => StatusCode::TOO_MANY_REQUESTS,
            ErrorCode::Unauthenticated | ErrorCode::TokenInvalid | ErrorCode::TokenExpired => {
                StatusCode::UNAUTHORIZED
            }
            ErrorCode::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            ErrorCode::Forbidden => StatusCode::FORBIDDEN,
            ErrorCode::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            _ => StatusCode::BAD_REQUEST,
        };
        let mut body = json!({"code": self.0.code.as_str(), "message": self.0.message});
        if let Some(ms) = self.0.retry_after_ms {
            body["retry_after_ms"] = json!(ms);
        }
        (status, Json(body)).into_response()
    }
}

pub(crate) type ApiResult = Result<Response, ApiError>;

async fn require_key(State(s): State<AppState>, req: Request, next: Next) -> Response {
    let presented = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    if presented.is_some_and(|k| constant_time_eq(k.as_bytes(), s.admin_key.as_bytes())) {
        next.run(req).await
    } else {
        ApiError(Rejection::new(
            ErrorCode::Unauthenticated,
            "admin API needs Authorization: Bearer <admin key>",
        ))
        .into_response()
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

pub(crate) fn json_body<T: serde::Serialize>(status: StatusCode, value: &T) -> Response {
    (status, Json(value)).into_response()
}

pub(crate) fn bad_body(e: impl std::fmt::Display) -> ApiError {
    ApiError(Rejection::new(ErrorCode::Invalid, e.to_string()))
}

async fn create_room(
    State(s): State<AppState>,
    body: Result<Json<RoomSpec>, axum::extract::rejection::JsonRejection>,
) -> ApiResult {
    let Json(spec) = body.map_err(bad_body)?;
    let room = spec.into_room(&s.node.limits)?;
    s.node
        .store
        .create_room(room.clone())
        .await
        .map_err(|e| e.rejection())?;
    tracing::info!(room = %room.id, "room created");
    Ok(json_body(StatusCode::CREATED, &room))
}

async fn list_rooms(State(s): State<AppState>) -> ApiResult {
    let rooms = s.node.store.rooms().await.map_err(|e| e.rejection())?;
    Ok(json_body(StatusCode::OK, &rooms))
}

async fn get_room(State(s): State<AppState>, Path(id): Path<String>) -> ApiResult {
    let room = s.node.store.room(&id).await.map_err(|e| e.rejection())?;
    Ok(json_body(StatusCode::OK, &room))
}

async fn patch_room(
    State(s): State<AppState>,
    Path(id): Path<String>,
    body: Result<Json<RoomPatch>, axum::extract::rejection::JsonRejection>,
) -> ApiResult {
    let Json(patch) = body.map_err(bad_body)?;
    let before = s.node.store.room(&id).await.map_err(|e| e.rejection())?;
    let limits = s.node.limits;
    let room = s
        .node
        .update_room(&id, &|r| patch.apply(r, &limits))
        .await
        .map_err(|e| e.rejection())?;
    if room.switches != before.switches {
        s.node
            .publish(&id, EventKind::Switches(room.switches))
            .await?;
    }
    if room.switches != before.switches || room.moderation != before.moderation {
        let what = format!(
            "comments={} slow_mode_s={} word_policy={:?} digit_runs={} urls={}",
            room.switches.comments,
            room.moderation.slow_mode_s,
            room.moderation.word_policy,
            room.moderation.filter.digit_runs,
            room.moderation.filter.urls
        );
        audit::record(&s.node, &Actor::admin(), &id, "patch_room", &what, None).await;
    }
    Ok(json_body(StatusCode::OK, &room))
}

#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum AdminAction {
    Start,
    Pause,
    Resume,
    End,
    Ban,
}

#[derive(Deserialize)]
struct LiveBody {
    action: AdminAction,
}

async fn live_action(
    State(s): State<AppState>,
    Path(id): Path<String>,
    body: Result<Json<LiveBody>, axum::extract::rejection::JsonRejection>,
) -> ApiResult {
    let Json(body) = body.map_err(bad_body)?;
    let t = match body.action {
        AdminAction::Start => Transition::Live(LiveAction::Start),
        AdminAction::Pause => Transition::Live(LiveAction::Pause),
        AdminAction::Resume => Transition::Live(LiveAction::Resume),
        AdminAction::End => Transition::Live(LiveAction::End),
        AdminAction::Ban => Transition::Ban,
    };
    let room = s.node.transition(&id, t).await?;
    Ok(json_body(StatusCode::OK, &room))
}

async fn set_preview(
    State(s): State<AppState>,
    Path(id): Path<String>,
    body: Result<Json<crate::room::preview::RoomPreview>, axum::extract::rejection::JsonRejection>,
) -> ApiResult {
    let Json(preview) = body.map_err(bad_body)?;
    let room = s.node.set_preview(&id, Some(preview)).await?;
    Ok(json_body(StatusCode::OK, &room))
}

async fn clear_preview(State(s): State<AppState>, Path(id): Path<String>) -> ApiResult {
    let room = s.node.set_preview(&id, None).await?;
    Ok(json_body(StatusCode::OK, &room))
}

async fn stats(State(s): State<AppState>, Path(id): Path<String>) -> ApiResult {
    let room = s.node.store.room(&id).await.map_err(|e| e.rejection())?;
    let mut totals = s.node.store.totals(&id).await.map_err(|e| e.rejection())?;
    let presence = s
        .node
        .store
        .presence(&id, crate::clock::now_ms())
        .await
        .map_err(|e| e.rejection())?;
    totals.online = presence.online;
    let reminders = s
        .node
        .reminder_store
        .subscriber_count(&id)
        .await
        .map_err(|e| e.rejection())?;
    Ok(json_body(
        StatusCode::OK,
        &json!({"room": id, "status": room.status, "totals": totals,
            "anchors_online": presence.anchors, "reminder_subscribers": reminders}),
    ))
}

/// The deployment's live counts against their limits.
async fn deployment_stats(State(s): State<AppState>) -> ApiResult {
    let day = (crate::clock::now_ms() / 86_400_000) as u64;
    let (live, today) = s
        .node
        .store
        .live_counts(day)
        .await
        .map_err(|e| e.rejection())?;
    let st = &s.node.settings;
    Ok(json_body(
        StatusCode::OK,
        &json!({
            "live_rooms": live,
            "lives_today": today,
            "max_live_rooms": st.max_live_rooms,
            "max_lives_per_day": st.max_lives_per_day,
        }),
    ))
}

#[derive(Deserialize)]
struct TokenBody {
    user: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    real_name: bool,
    #[serde(default = "default_ttl")]
    ttl: u64,
}

fn default_ttl() -> u64 {
    3600
}

async fn mint_token(
    State(s): State<AppState>,
    body: Result<Json<TokenBody>, axum::extract::rejection::JsonRejection>,
) -> ApiResult {
    let Json(b) = body.map_err(bad_body)?;
    s.node.limits.check_id("user", &b.user)?;
    s.node.limits.check_nick(&b.name)?;
    // The longest token the node would accept (`token_max_ttl_s`).
    let max_ttl = s.node.keys.max_ttl_s();
    if b.ttl == 0 || b.ttl > max_ttl {
        return Err(ApiError(Rejection::new(
            ErrorCode::Invalid,
            format!("ttl must be 1..={max_ttl} seconds"),
        )));
    }
    let now = crate::clock::now_ms() as u64 / 1000;
    let token = s
        .node
        .keys
        .mint(&b.user, &b.name, b.real_name, now, b.ttl)
        .map_err(|e| ApiError(Rejection::new(ErrorCode::Internal, e.to_string())))?;
    Ok(json_body(StatusCode::OK, &json!({"token": token})))
}
