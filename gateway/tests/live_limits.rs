//! The deployment's live limits on every backend: at most
//! `max_live_rooms` rooms live at once and `max_lives_per_day` starts a
//! day; a start past either is refused `live_limit`, and `/api/stats`
//! shows the counts.
#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use common::*;
use serde_json::json;

async fn create(gw: &TestGateway, id: &str) {
    let (st, body) = gw
        .api(
            "POST",
            "/api/rooms",
            Some(json!({"id": id, "anchor": "anna", "planned_start": 0, "planned_end": 4_102_444_800_000i64})),
        )
        .await;
    assert_eq!(st, 201, "{body}");
}

async fn act(gw: &TestGateway, id: &str, action: &str) -> (u16, serde_json::Value) {
    gw.api(
        "POST",
        &format!("/api/rooms/{id}/live"),
        Some(json!({"action": action})),
    )
    .await
}

#[tokio::test]
async fn starts_past_the_live_limits_are_refused() {
    let gw = TestGateway::start_with(|s| {
        s.max_live_rooms = 2;
        s.max_lives_per_day = 3;
    })
    .await;
    for id in ["a", "b", "c", "d"] {
        create(&gw, id).await;
    }
    assert_eq!(act(&gw, "a", "start").await.0, 200);
    assert_eq!(act(&gw, "b", "start").await.0, 200);
    // Paused still counts as live.
    assert_eq!(act(&gw, "b", "pause").await.0, 200);
    let (st, body) = act(&gw, "c", "start").await;
    assert_eq!(
        (st, body["code"].as_str()),
        (409, Some("live_limit")),
        "{body}"
    );
    let (_, stats) = gw.api("GET", "/api/stats", None).await;
    assert_eq!(
        stats,
        json!({"live_rooms": 2, "lives_today": 2, "max_live_rooms": 2, "max_lives_per_day": 3})
    );
    // An ended live frees its place; the refused start used none of today's.
    assert_eq!(act(&gw, "a", "end").await.0, 200);
    assert_eq!(act(&gw, "c", "start").await.0, 200);
    assert_eq!(act(&gw, "c", "end").await.0, 200);
    let (st, body) = act(&gw, "d", "start").await;
    assert_eq!(
        (st, body["code"].as_str()),
        (409, Some("live_limit")),
        "{body}"
    );
    assert!(
        body["message"].as_str().unwrap().contains("today"),
        "{body}"
    );
    let (_, stats) = gw.api("GET", "/api/stats", None).await;
    assert_eq!(stats["live_rooms"], 1);
    assert_eq!(stats["lives_today"], 3);
    // Over WebSocket the anchor gets the same code.
    let mut anchor = gw.connect(Some("anna")).await;
    anchor.join("d").await;
    let r = anchor
        .request(protocol::Request::Live(protocol::Live {
            action: protocol::LiveAction::Start,
        }))
        .await;
    assert_eq!(error_code(&r), Some(protocol::ErrorCode::LiveLimit));
}
