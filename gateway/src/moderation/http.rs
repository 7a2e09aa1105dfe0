//! Moderation endpoints of the admin API (behind the same bearer key):
//! room roles, deleting comments, mutes, word lists and allow-lists (global
//! and per room) and the audit log with paging. Each runs the same action a WebSocket
//! moderator's request runs, with the `admin` role.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{delete, get, put};
use axum::{Json, Router};
use protocol::{Role, WordEntry};
use serde::Deserialize;
use serde_json::json;

use super::{Actor, WordChange, audit, mute, roles, words};
use crate::http::{ApiResult, AppState, bad_body, json_body};

type Body<T> = Result<Json<T>, axum::extract::rejection::JsonRejection>;

/// The moderation routes (nested under `/api`, behind the bearer key).
pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/rooms/{id}/roles", get(list_roles))
        .route(
            "/rooms/{id}/roles/{user}",
            put(set_role).delete(remove_role),
        )
        .route("/rooms/{id}/comments/{offset}", delete(delete_comment))
        .route("/rooms/{id}/mutes", get(list_mutes).post(add_mute))
        .route("/rooms/{id}/mutes/{user}", delete(remove_mute))
        .route("/rooms/{id}/words", get(room_words).post(change_room_words))
        .route("/words", get(global_words).post(change_global_words))
        .route("/rooms/{id}/audit", get(room_audit))
        .route("/audit", get(global_audit))
}

async fn list_roles(State(s): State<AppState>, Path(id): Path<String>) -> ApiResult {
    let room = s.node.store.room(&id).await.map_err(|e| e.rejection())?;
    Ok(json_body(StatusCode::OK, &room.moderation))
}

#[derive(Deserialize)]
struct RoleBody {
    role: Role,
    #[serde(default)]
    nick: Option<String>,
}

async fn set_role(
    State(s): State<AppState>,
    Path((id, user)): Path<(String, String)>,
    body: Body<RoleBody>,
) -> ApiResult {
    let Json(b) = body.map_err(bad_body)?;
    let room = roles::set_role(
        &s.node,
        &Actor::admin(),
        &id,
        &user,
        b.role,
        b.nick.as_deref(),
    )
    .await?;
    Ok(json_body(StatusCode::OK, &room.moderation))
}

async fn remove_role(
    State(s): State<AppState>,
    Path((id, user)): Path<(String, String)>,
) -> ApiResult {
    let room = roles::set_role(&s.node, &Actor::admin(), &id, &user, Role::Viewer, None).await?;
    Ok(json_body(StatusCode::OK, &room.moderation))
}

#[derive(Deserialize)]
struct ReasonQuery {
    #[serde(default)]
    reason: Option<String>,
}

async fn delete_comment(
    State(s): State<AppState>,
    Path((id, offset)): Path<(String, u64)>,
    Query(q): Query<ReasonQuery>,
) -> ApiResult {
    s.node.limits.check_reason(q.reason.as_deref())?;
    mute::delete_comment(&s.node, &Actor::admin(), &id, offset, q.reason.as_deref()).await?;
    Ok(json_body(StatusCode::OK, &json!({"deleted": offset})))
}

async fn list_mutes(State(s): State<AppState>, Path(id): Path<String>) -> ApiResult {
    s.node.store.room(&id).await.map_err(|e| e.rejection())?;
    let mutes = mute::list(&s.node, &id).await?;
    Ok(json_body(StatusCode::OK, &mutes))
}

#[derive(Deserialize)]
struct MuteBody {
    user: String,
    #[serde(default)]
    duration_s: Option<u64>,
    #[serde(default)]
    shadow: bool,
    #[serde(default)]
    reason: Option<String>,
}

async fn add_mute(
    State(s): State<AppState>,
    Path(id): Path<String>,
    body: Body<MuteBody>,
) -> ApiResult {
    let Json(b) = body.map_err(bad_body)?;
    s.node.limits.check_reason(b.reason.as_deref())?;
    let entry = mute::mute(
        &s.node,
        &Actor::admin(),
        &id,
        &b.user,
        b.duration_s,
        b.shadow,
        b.reason.as_deref(),
    )
    .await?;
    Ok(json_body(StatusCode::OK, &entry))
}

async fn remove_mute(
    State(s): State<AppState>,
    Path((id, user)): Path<(String, String)>,
) -> ApiResult {
    mute::unmute(&s.node, &Actor::admin(), &id, &user).await?;
    Ok(json_body(StatusCode::OK, &json!({"unmuted": user})))
}

#[derive(Deserialize)]
struct WordsBody {
    #[serde(default)]
    add: Vec<WordEntry>,
    #[serde(default)]
    remove: Vec<String>,
    #[serde(default)]
    allow_add: Vec<String>,
    #[serde(default)]
    allow_remove: Vec<String>,
}

impl WordsBody {
    fn change(&self) -> WordChange<'_> {
        WordChange {
            add: &self.add,
            remove: &self.remove,
            allow_add: &self.allow_add,
            allow_remove: &self.allow_remove,
        }
    }
}

async fn words_reply(s: &AppState, room: Option<&str>) -> ApiResult {
    let lists = words::list(&s.node, room).await?;
    Ok(json_body(
        StatusCode::OK,
        &json!({"version": lists.version, "words": lists.words, "allow": lists.allow}),
    ))
}

async fn room_words(State(s): State<AppState>, Path(id): Path<String>) -> ApiResult {
    s.node.store.room(&id).await.map_err(|e| e.rejection())?;
    words_reply(&s, Some(&id)).await
}

async fn change_room_words(
    State(s): State<AppState>,
    Path(id): Path<String>,
    body: Body<WordsBody>,
) -> ApiResult {
    let Json(b) = body.map_err(bad_body)?;
    words::change(&s.node, &Actor::admin(), Some(&id), b.change()).await?;
    words_reply(&s, Some(&id)).await
}

async fn global_words(State(s): State<AppState>) -> ApiResult {
    words_reply(&s, None).await
}

async fn change_global_words(State(s): State<AppState>, body: Body<WordsBody>) -> ApiResult {
    let Json(b) = body.map_err(bad_body)?;
    words::change(&s.node, &Actor::admin(), None, b.change()).await?;
    words_reply(&s, None).await
}

#[derive(Deserialize)]
struct PageQuery {
    #[serde(default)]
    offset: u64,
    #[serde(default = "default_limit")]
    limit: u64,
}

fn default_limit() -> u64 {
    50
}

async fn room_audit(
    State(s): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<PageQuery>,
) -> ApiResult {
    s.node.store.room(&id).await.map_err(|e| e.rejection())?;
    let page = audit::page(&s.node, Some(&id), q.offset, q.limit).await?;
    Ok(json_body(StatusCode::OK, &page))
}

async fn global_audit(State(s): State<AppState>, Query(q): Query<PageQuery>) -> ApiResult {
    let page = audit::page(&s.node, None, q.offset, q.limit).await?;
    Ok(json_body(StatusCode::OK, &page))
}
