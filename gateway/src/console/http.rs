//! The console's cluster page: `GET /api/node`, the answering node
//! (connections, room hubs, readiness, the store and bus state), and
//! `GET /api/nodes`, every live node as it last reported itself.

use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use serde_json::json;

use crate::http::{ApiResult, AppState, json_body};

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/node", get(node))
        .route("/nodes", get(nodes))
}

async fn node(State(s): State<AppState>) -> ApiResult {
    let n = &s.node;
    let started = Instant::now();
    let ping = tokio::time::timeout(Duration::from_secs(1), n.store.ping()).await;
    let latency_us = started.elapsed().as_micros() as u64;
    let store = match ping {
        _ if n.store_lost() => "lost",
        Ok(Ok(())) => "ok",
        _ => "unavailable",
    };
    let readiness = n.readiness(store == "ok");
    let backend = if !n.settings.redis_cluster.is_empty() {
        "redis_cluster"
    } else if !n.settings.redis_sentinel.is_empty() {
        "redis_sentinel"
    } else if !n.settings.redis.is_empty() {
        "redis"
    } else {
        "memory"
    };
    let mut hubs: Vec<_> = n
        .hubs
        .presences()
        .into_iter()
        .map(|(room, p)| json!({"room": room, "online": p.online, "anchors": p.anchors}))
        .collect();
    hubs.sort_by(|a, b| a["room"].as_str().cmp(&b["room"].as_str()));
    Ok(json_body(
        StatusCode::OK,
        &json!({
            "node": n.settings.node_id,
            "readiness": readiness,
            "connections": n.metrics.connections.get(),
            "rooms": hubs.len(),
            "hubs": hubs,
            "backend": backend,
            "store": store,
            "store_latency_us": latency_us,
            "bus_disconnects": n.metrics.bus_disconnects.get(),
        }),
    ))
}

/// `GET /api/nodes`: every live node's last report (once per presence
/// interval), from the store.
async fn nodes(State(s): State<AppState>) -> ApiResult {
    let now = crate::clock::now_ms();
    let reports = s
        .node
        .store
        .node_infos(now)
        .await
        .map_err(|e| e.rejection())?;
    let nodes: Vec<_> = reports
        .into_iter()
        .map(|(node, info)| {
            let mut v = serde_json::from_str::<serde_json::Value>(&info)
                .ok()
                .filter(serde_json::Value::is_object)
                .unwrap_or_else(|| json!({}));
            v["node"] = json!(node);
            v
        })
        .collect();
    Ok(json_body(StatusCode::OK, &json!({ "nodes": nodes })))
}
