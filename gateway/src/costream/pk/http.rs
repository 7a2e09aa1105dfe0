//! PK endpoints behind the admin key: `POST /api/rooms/{id}/pk/score`
//! (`{"add": n}` or `{"set": n}`) changes the room's admin part of the
//! running PK's score; `GET /api/rooms/{id}/pk` reads the running PK and
//! the room's history of ended ones.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use protocol::{ErrorCode, Rejection};
use serde::Deserialize;
use serde_json::{Value, json};

use super::ScoreChange;
use crate::http::{ApiResult, AppState, bad_body, json_body};

type Body<T> = Result<Json<T>, axum::extract::rejection::JsonRejection>;

/// Most one call adds or sets.
pub const MAX_SCORE_CHANGE: u64 = 1_000_000_000;

/// Body of `POST /api/rooms/{id}/pk/score`: exactly one of the two.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ScoreBody {
    add: Option<u64>,
    set: Option<u64>,
}

/// Admin routes (nested under `/api`, behind the bearer key).
pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/rooms/{id}/pk", get(read))
        .route("/rooms/{id}/pk/score", post(score))
}

async fn score(
    State(s): State<AppState>,
    Path(id): Path<String>,
    body: Body<ScoreBody>,
) -> ApiResult {
    let Json(b) = body.map_err(bad_body)?;
    let change = match (b.add, b.set) {
        (Some(n), None) => ScoreChange::Add(n),
        (None, Some(n)) => ScoreChange::Set(n),
        _ => {
            return Err(
                Rejection::new(ErrorCode::Invalid, "give exactly one of add and set").into(),
            );
        }
    };
    let (ScoreChange::Add(n) | ScoreChange::Set(n)) = change;
    if n > MAX_SCORE_CHANGE {
        return Err(Rejection::new(
            ErrorCode::Invalid,
            format!("add and set are at most {MAX_SCORE_CHANGE}"),
        )
        .into());
    }
    let (pk, admin) = s.node.pk_score(&id, change).await?;
    Ok(json_body(
        StatusCode::OK,
        &json!({ "pk": pk, "admin": admin }),
    ))
}

async fn read(State(s): State<AppState>, Path(id): Path<String>) -> ApiResult {
    let room = s.node.store.room(&id).await.map_err(|e| e.rejection())?;
    let history = s
        .node
        .pk_store
        .pk_history(&id)
        .await
        .map_err(|e| e.rejection())?;
    let history: Vec<Value> = history
        .iter()
        .filter_map(|h| serde_json::from_str(h).ok())
        .collect();
    Ok(json_body(
        StatusCode::OK,
        &json!({ "current": super::current(&room), "history": history }),
    ))
}
