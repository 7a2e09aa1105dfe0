//! Dashboard endpoints behind the admin key: the figures now and the curve
//! (`GET /api/rooms/{id}/dashboard`), the curve as CSV
//! (`GET /api/rooms/{id}/dashboard.csv`) and the live stream of figures,
//! one Server-Sent Event a second
//! (`GET /api/rooms/{id}/dashboard/stream`).

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::routing::get;
use serde_json::json;

use super::Point;
use crate::http::{ApiResult, AppState, cell, json_body};
use crate::service::Node;

/// How often the stream sends the figures.
pub const STREAM_EVERY: Duration = Duration::from_secs(1);

/// The extension counters that get their own CSV column (others are left
/// out of the CSV; the JSON has them all).
const CSV_COUNTERS: [&str; 4] = [
    "goods_clicks",
    "grabs",
    "coupon_claims",
    "reminder_subscribers",
];

/// Admin routes (nested under `/api`, behind the bearer key).
pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/rooms/{id}/dashboard", get(dashboard))
        .route("/rooms/{id}/dashboard.csv", get(curve_csv))
        .route("/rooms/{id}/dashboard/stream", get(stream))
}

async fn dashboard(State(s): State<AppState>, Path(id): Path<String>) -> ApiResult {
    let room = s.node.store.room(&id).await.map_err(|e| e.rejection())?;
    let figures = s.node.dashboard_figures(&room).await?;
    let curve = s.node.dashboard_curve(&id).await?;
    Ok(json_body(
        StatusCode::OK,
        &json!({
            "figures": figures,
            "curve_interval_ms": s.node.settings.dashboard_curve_ms,
            "curve": curve,
        }),
    ))
}

async fn curve_csv(State(s): State<AppState>, Path(id): Path<String>) -> ApiResult {
    s.node.store.room(&id).await.map_err(|e| e.rejection())?;
    let curve = s.node.dashboard_curve(&id).await?;
    Ok((
        [(header::CONTENT_TYPE, "text/csv; charset=utf-8")],
        csv(&curve),
    )
        .into_response())
}

/// The curve as CSV: a header line, then one line per point.
pub(crate) fn csv(curve: &[Point]) -> String {
    let mut out = String::from(
        "index,slot_at,at,status,online,peak_online,viewers,likes,comments,\
         lottery_participants,joins,joins_per_minute",
    );
    for c in CSV_COUNTERS {
        out.push(',');
        out.push_str(c);
    }
    out.push('\n');
    for p in curve {
        let f = &p.figures;
        let mut cells: Vec<String> = [i64::from(p.index), p.slot_at, f.at, i64::from(f.status)]
            .iter()
            .map(i64::to_string)
            .collect();
        for n in [
            f.online,
            f.peak_online,
            f.viewers,
            f.likes,
            f.comments,
            f.lottery_participants,
            f.joins,
            f.joins_per_minute,
        ] {
            cells.push(n.to_string());
        }
        for c in CSV_COUNTERS {
            cells.push(f.counters.get(c).copied().unwrap_or(0).to_string());
        }
        let line: Vec<String> = cells.iter().map(|c| cell(c)).collect();
        out.push_str(&line.join(","));
        out.push('\n');
    }
    out
}

async fn stream(State(s): State<AppState>, Path(id): Path<String>) -> ApiResult {
    s.node.store.room(&id).await.map_err(|e| e.rejection())?;
    let mut tick = tokio::time::interval(STREAM_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let events = futures_util::stream::unfold(
        (s.node.clone(), id, tick),
        |(node, id, mut tick)| async move {
            tick.tick().await;
            if node.is_shutting_down() {
                return None;
            }
            let event = figures_event(&node, &id).await;
            Some((Ok::<_, Infallible>(event), (node, id, tick)))
        },
    );
    Ok(Sse::new(events)
        .keep_alive(KeepAlive::default())
        .into_response())
}

/// One stream event: `figures` with the JSON, or `error` with the
/// rejection's code and message (the stream goes on).
async fn figures_event(node: &Arc<Node>, id: &str) -> Event {
    let figures = match node.store.room(id).await {
        Ok(room) => node.dashboard_figures(&room).await,
        Err(e) => Err(e.rejection()),
    };
    let (name, body) = match figures {
        Ok(f) => ("figures", serde_json::to_string(&f)),
        Err(r) => (
            "error",
            serde_json::to_string(&json!({"code": r.code.as_str(), "message": r.message})),
        ),
    };
    Event::default()
        .event(name)
        .data(body.unwrap_or_else(|_| "{}".into()))
}
