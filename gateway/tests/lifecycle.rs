//! The room lifecycle driven by the anchor over WebSocket, the abnormal state
//! when the anchor drops, and the timers that end a room.
#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use std::time::Duration;

use common::*;
use protocol::*;
use serde_json::json;

async fn status_of(gw: &TestGateway, room: &str) -> u64 {
    let (_, body) = gw.api("GET", &format!("/api/rooms/{room}"), None).await;
    body["status"].as_u64().unwrap()
}

async fn wait_status(gw: &TestGateway, room: &str, want: u64) {
    for _ in 0..200 {
        if status_of(gw, room).await == want {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!(
        "room {room} never reached {want}; it is {}",
        status_of(gw, room).await
    );
}

fn live(action: LiveAction) -> Request {
    Request::Live(Live { action })
}

#[tokio::test]
async fn the_anchor_drives_the_live_and_viewers_see_each_status() {
    let gw = TestGateway::start().await;
    gw.room("r1", "anna", false).await;
    let mut anchor = gw.connect(Some("anna")).await;
    let mut viewer = gw.connect(Some("vic")).await;
    assert_eq!(anchor.join("r1").await.role, Role::Anchor);
    assert_eq!(viewer.join("r1").await.role, Role::Viewer);
    assert_eq!(
        error_code(&viewer.request(live(LiveAction::Start)).await),
        Some(ErrorCode::Forbidden)
    );
    for (action, status) in [
        (LiveAction::Start, RoomStatus::Live),
        (LiveAction::Pause, RoomStatus::Paused),
        (LiveAction::Resume, RoomStatus::Live),
        (LiveAction::End, RoomStatus::Ended),
    ] {
        match anchor.request(live(action)).await {
            ServerFrame::Ack(a) => assert_eq!(a.status, Some(status)),
            other => panic!("{action:?}: {other:?}"),
        }
    }
    let seen = viewer.events_until(|e| statuses(e).len() >= 4).await;
    assert_eq!(
        statuses(&seen),
        [
            RoomStatus::Live,
            RoomStatus::Paused,
            RoomStatus::Live,
            RoomStatus::Ended
        ]
    );
    let again = anchor.request(live(LiveAction::Start)).await;
    assert_eq!(error_code(&again), Some(ErrorCode::InvalidTransition));
}

#[tokio::test]
async fn no_start_after_the_planned_end() {
    let gw = TestGateway::start().await;
    let (st, _) = gw
        .api(
            "POST",
            "/api/rooms",
            Some(json!({"id": "old", "anchor": "anna", "planned_start": 0, "planned_end": 1})),
        )
        .await;
    assert_eq!(st, 201);
    let mut anchor = gw.connect(Some("anna")).await;
    anchor.join("old").await;
    let r = anchor.request(live(LiveAction::Start)).await;
    assert_eq!(error_code(&r), Some(ErrorCode::RoomExpired));
    assert_eq!(status_of(&gw, "old").await, 107);
}

#[tokio::test]
async fn an_anchor_drop_makes_the_room_abnormal_until_resumed_or_timed_out() {
    let gw = TestGateway::start_with(|s| {
        s.abnormal_timeout_ms = 600;
        s.timer_interval_ms = 20;
    })
    .await;
    gw.room("r1", "anna", false).await;
    let mut viewer = gw.connect(Some("vic")).await;
    viewer.join("r1").await;
    let mut anchor = gw.connect(Some("anna")).await;
    anchor.join("r1").await;
    anchor.request(live(LiveAction::Start)).await;
    drop(anchor);
    wait_status(&gw, "r1", 106).await;
    // Resume within the window.
    let mut anchor = gw.connect(Some("anna")).await;
    let j = anchor.join("r1").await;
    assert_eq!(j.room.status, RoomStatus::Abnormal);
    match anchor.request(live(LiveAction::Resume)).await {
        ServerFrame::Ack(a) => assert_eq!(a.status, Some(RoomStatus::Live)),
        other => panic!("{other:?}"),
    }
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert_eq!(
        status_of(&gw, "r1").await,
        101,
        "a resumed room must not time out"
    );
    // Drop again and let the window pass.
    drop(anchor);
    wait_status(&gw, "r1", 106).await;
    wait_status(&gw, "r1", 103).await;
    let seen = viewer.events_until(|e| statuses(e).len() >= 5).await;
    assert_eq!(
        statuses(&seen),
        [
            RoomStatus::Live,
            RoomStatus::Abnormal,
            RoomStatus::Live,
            RoomStatus::Abnormal,
            RoomStatus::Ended
        ]
    );
}

#[tokio::test]
async fn a_second_anchor_connection_keeps_the_room_live() {
    let gw = TestGateway::start_with(|s| s.timer_interval_ms = 20).await;
    gw.room("r1", "anna", true).await;
    let mut a1 = gw.connect(Some("anna")).await;
    let mut a2 = gw.connect(Some("anna")).await;
    a1.join("r1").await;
    a2.join("r1").await;
    drop(a1);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(status_of(&gw, "r1").await, 101);
    drop(a2);
    wait_status(&gw, "r1", 106).await;
}

#[tokio::test]
async fn the_live_is_capped_in_length() {
    let gw = TestGateway::start_with(|s| {
        s.max_live_ms = 300;
        s.timer_interval_ms = 20;
    })
    .await;
    gw.room("r1", "anna", true).await;
    wait_status(&gw, "r1", 103).await;
}
