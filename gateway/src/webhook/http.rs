//! Webhook admin endpoints (under `/api`, behind the admin key): endpoint
//! CRUD, the dead letters and their replay.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use protocol::{ErrorCode, Rejection};
use serde::Deserialize;
use serde_json::json;

use super::store::{Endpoint, Job};
use super::{MAX_ENDPOINTS, check_events, check_url, sign};
use crate::http::{ApiResult, AppState, bad_body, json_body};

type Body<T> = Result<Json<T>, axum::extract::rejection::JsonRejection>;

/// Admin routes (nested under `/api`, behind the bearer key).
pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/webhooks/endpoints", post(create).get(list))
        .route(
            "/webhooks/endpoints/{eid}",
            get(one).put(replace).delete(remove),
        )
        .route("/webhooks/dead", get(dead))
        .route("/webhooks/dead/{jid}/replay", post(replay))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EndpointBody {
    #[serde(default)]
    id: Option<String>,
    url: String,
    #[serde(default)]
    secret: Option<String>,
    #[serde(default)]
    events: Vec<String>,
    #[serde(default)]
    disabled: bool,
}

/// An endpoint as listed: the secret left out.
fn shown(e: &Endpoint) -> serde_json::Value {
    json!({
        "id": e.id,
        "url": e.url,
        "events": e.events,
        "disabled": e.disabled,
        "disabled_reason": e.disabled_reason,
    })
}

fn endpoint_of(s: &AppState, id: String, b: EndpointBody) -> Result<Endpoint, Rejection> {
    s.node.limits.check_id("id", &id)?;
    check_url(&b.url)?;
    check_events(&b.events)?;
    let secret = b.secret.unwrap_or_else(sign::generate_secret);
    sign::parse_secret(&secret).map_err(|e| Rejection::new(ErrorCode::Invalid, e))?;
    Ok(Endpoint {
        id,
        url: b.url,
        secret,
        events: b.events,
        disabled: b.disabled,
        disabled_reason: b.disabled.then(|| "disabled through the admin API".into()),
    })
}

async fn stored(s: &AppState) -> Result<Vec<Endpoint>, Rejection> {
    s.node
        .webhook_store
        .endpoints()
        .await
        .map_err(|e| e.rejection())
}

async fn save(s: &AppState, e: &Endpoint) -> Result<(), Rejection> {
    s.node
        .webhook_store
        .put_endpoint(e)
        .await
        .map_err(|e| e.rejection())?;
    s.node.webhooks.invalidate();
    Ok(())
}

/// `POST /api/webhooks/endpoints`: 201 with the endpoint and its secret.
async fn create(State(s): State<AppState>, body: Body<EndpointBody>) -> ApiResult {
    let Json(b) = body.map_err(bad_body)?;
    let all = stored(&s).await?;
    let id =
        b.id.clone()
            .unwrap_or_else(|| format!("ep-{:08x}", rand::random::<u32>()));
    if all.iter().any(|e| e.id == id) {
        return Err(Rejection::new(ErrorCode::Conflict, "an endpoint of that id exists").into());
    }
    if all.len() >= MAX_ENDPOINTS {
        return Err(Rejection::new(
            ErrorCode::Conflict,
            format!("at most {MAX_ENDPOINTS} endpoints"),
        )
        .into());
    }
    let e = endpoint_of(&s, id, b)?;
    save(&s, &e).await?;
    let mut out = shown(&e);
    out["secret"] = json!(e.secret);
    Ok(json_body(StatusCode::CREATED, &out))
}

async fn list(State(s): State<AppState>) -> ApiResult {
    let all: Vec<_> = stored(&s).await?.iter().map(shown).collect();
    Ok(json_body(StatusCode::OK, &json!({ "endpoints": all })))
}

async fn find(s: &AppState, id: &str) -> Result<Endpoint, Rejection> {
    stored(s)
        .await?
        .into_iter()
        .find(|e| e.id == id)
        .ok_or_else(|| Rejection::new(ErrorCode::NotFound, "no such endpoint"))
}

async fn one(State(s): State<AppState>, Path(id): Path<String>) -> ApiResult {
    Ok(json_body(StatusCode::OK, &shown(&find(&s, &id).await?)))
}

/// `PUT`: replaces URL, types and the disabled flag; the secret is kept
/// unless one is given.
async fn replace(
    State(s): State<AppState>,
    Path(id): Path<String>,
    body: Body<EndpointBody>,
) -> ApiResult {
    let Json(mut b) = body.map_err(bad_body)?;
    let old = find(&s, &id).await?;
    if b.secret.is_none() {
        b.secret = Some(old.secret);
    }
    let e = endpoint_of(&s, id, b)?;
    save(&s, &e).await?;
    Ok(json_body(StatusCode::OK, &shown(&e)))
}

async fn remove(State(s): State<AppState>, Path(id): Path<String>) -> ApiResult {
    let gone = s
        .node
        .webhook_store
        .delete_endpoint(&id)
        .await
        .map_err(|e| e.rejection())?;
    s.node.webhooks.invalidate();
    if !gone {
        return Err(Rejection::new(ErrorCode::NotFound, "no such endpoint").into());
    }
    Ok(json_body(StatusCode::OK, &json!({ "deleted": id })))
}

#[derive(Deserialize)]
struct Page {
    #[serde(default)]
    after: Option<String>,
    #[serde(default)]
    limit: Option<usize>,
}

fn shown_job(j: &Job) -> serde_json::Value {
    let payload: serde_json::Value = serde_json::from_str(&j.body).unwrap_or_default();
    json!({
        "id": j.id,
        "webhook_id": j.msg,
        "endpoint": j.endpoint,
        "type": j.kind,
        "attempts": j.attempts,
        "created_ms": j.created_ms,
        "last_error": j.last_error,
        "payload": payload,
    })
}

/// `GET /api/webhooks/dead?after=&limit=`: oldest first.
async fn dead(State(s): State<AppState>, Query(p): Query<Page>) -> ApiResult {
    let limit = p.limit.unwrap_or(100);
    if !(1..=500).contains(&limit) {
        return Err(Rejection::new(ErrorCode::Invalid, "limit must be 1..=500").into());
    }
    let jobs = s
        .node
        .webhook_store
        .dead_letters(p.after.as_deref(), limit)
        .await
        .map_err(|e| e.rejection())?;
    let next = (jobs.len() == limit).then(|| jobs.last().map(|j| j.id.clone()));
    let out: Vec<_> = jobs.iter().map(shown_job).collect();
    Ok(json_body(
        StatusCode::OK,
        &json!({ "dead": out, "next": next.flatten() }),
    ))
}

/// `POST /api/webhooks/dead/{id}/replay`: back in the queue, due now.
async fn replay(State(s): State<AppState>, Path(id): Path<String>) -> ApiResult {
    let found = s
        .node
        .webhook_store
        .replay_dead(&id)
        .await
        .map_err(|e| e.rejection())?;
    if !found {
        return Err(Rejection::new(ErrorCode::NotFound, "no such dead letter").into());
    }
    s.node.webhooks.wake.notify_one();
    Ok(json_body(StatusCode::OK, &json!({ "replayed": id })))
}
