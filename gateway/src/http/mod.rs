//! The node's HTTP face on one listener: WebSocket upgrade at `/ws`, the
//! admin API under `/api` (the core's routes in `admin.rs`, each slice's in
//! its own `http.rs`), Prometheus text at `/metrics`, `/healthz`, `/readyz`,
//! the lottery public key at `/lottery/key` and the console at `/console`; `listener.rs` accepts and
//! serves the connections.

mod admin;
mod csv;
mod listener;
mod ws;

pub(crate) use listener::serve;

pub(crate) use admin::{ApiResult, bad_body, json_body};
pub(crate) use csv::cell;

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;

use crate::service::Node;

/// Shared state of the HTTP handlers.
#[derive(Clone)]
pub struct AppState {
    /// The node.
    pub node: Arc<Node>,
    /// Bearer key of the admin API.
    pub admin_key: Arc<str>,
}

/// Every route of the node.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/ws", get(ws::upgrade))
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(ready))
        .route("/metrics", get(metrics))
        .route("/lottery/key", get(crate::lotteries::http::public_key))
        .route(
            "/lottery/rooms/{id}/lotteries/{lid}/record",
            get(crate::lotteries::http::record),
        )
        .route(
            "/lottery/rooms/{id}/lotteries/{lid}/proof",
            get(crate::lotteries::http::inclusion_proof),
        )
        .merge(crate::console::routes())
        .nest("/api", admin::routes(state.clone()))
        .with_state(state)
}

async fn ready(State(s): State<AppState>) -> impl IntoResponse {
    if let Some(why) = s.node.unready() {
        return (StatusCode::SERVICE_UNAVAILABLE, why.reason());
    }
    let ping = tokio::time::timeout(std::time::Duration::from_secs(1), s.node.store.ping());
    match ping.await {
        Ok(Ok(())) => (StatusCode::OK, "ready"),
        _ => (StatusCode::SERVICE_UNAVAILABLE, "backend unavailable"),
    }
}

async fn metrics(State(s): State<AppState>) -> impl IntoResponse {
    (
        [("content-type", "text/plain; version=0.0.4")],
        s.node.metrics.render(),
    )
}
