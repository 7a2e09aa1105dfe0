//! Reminder admin endpoints (under `/api`, behind the admin key): the
//! subscribers paged by cursor, and `push_reminder`.

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use protocol::{ErrorCode, Rejection};
use serde::Deserialize;
use serde_json::json;

use super::MAX_PAGE;
use crate::http::{ApiResult, AppState, bad_body, json_body};

/// Admin routes (nested under `/api`, behind the bearer key).
pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/rooms/{id}/reminders", get(list))
        .route("/rooms/{id}/reminders/push", post(push))
}

#[derive(Deserialize)]
struct PageQuery {
    #[serde(default)]
    cursor: Option<String>,
    #[serde(default)]
    limit: Option<usize>,
}

/// `GET /api/rooms/{id}/reminders?cursor=&limit=`.
async fn list(
    State(s): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<PageQuery>,
) -> ApiResult {
    let limit = q.limit.unwrap_or(100);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(
            Rejection::new(ErrorCode::Invalid, format!("limit must be 1..={MAX_PAGE}")).into(),
        );
    }
    s.node.store.room(&id).await.map_err(|e| e.rejection())?;
    let count = s
        .node
        .reminder_store
        .subscriber_count(&id)
        .await
        .map_err(|e| e.rejection())?;
    let cursor = q.cursor.filter(|c| !c.is_empty());
    let page = s.node.reminder_page(&id, cursor.as_deref(), limit).await?;
    Ok(json_body(
        StatusCode::OK,
        &json!({
            "room": id,
            "subscriber_count": count,
            "subscribers": page.users,
            "next_cursor": page.next_cursor,
        }),
    ))
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct PushBody {
    #[serde(default)]
    app: Option<String>,
}

/// `POST /api/rooms/{id}/reminders/push`, body optional `{"app"}`.
async fn push(
    State(s): State<AppState>,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> ApiResult {
    let b: PushBody = if body.iter().all(u8::is_ascii_whitespace) {
        PushBody::default()
    } else {
        serde_json::from_slice(&body).map_err(bad_body)?
    };
    let app = b.app.unwrap_or_else(|| "default".into());
    let out = s.node.push_reminder(&id, &app).await?;
    Ok(json_body(StatusCode::OK, &out))
}
