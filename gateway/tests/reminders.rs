//! Start reminders on every backend: signed-in viewers subscribe by room id
//! without joining, the count is in the room's stats, the subscribers page
//! by cursor, `live.started` carries them to a real HTTP receiver, and
//! `push_reminder` is held to its quota per app and UTC day.
#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use common::receiver::Receiver;
use common::*;
use protocol::*;
use serde_json::json;

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

fn sub(room: &str) -> Request {
    Request::ReminderSubscribe(Reminder { room: room.into() })
}

fn unsub(room: &str) -> Request {
    Request::ReminderUnsubscribe(Reminder { room: room.into() })
}

async fn stats_count(gw: &TestGateway, room: &str) -> serde_json::Value {
    let (st, body) = gw
        .api("GET", &format!("/api/rooms/{room}/stats"), None)
        .await;
    assert_eq!(st, 200, "{body}");
    body["reminder_subscribers"].clone()
}

#[tokio::test]
async fn signed_in_viewers_subscribe_without_joining() {
    let gw = TestGateway::start().await;
    gw.room("r1", "anna", false).await;
    let mut anon = gw.connect(None).await;
    let r = anon.request(sub("r1")).await;
    assert_eq!(error_code(&r), Some(ErrorCode::Unauthenticated));
    let mut v1 = gw.connect(Some("v1")).await;
    assert_eq!(
        error_code(&v1.request(sub("nope")).await),
        Some(ErrorCode::RoomNotFound)
    );
    assert_eq!(
        error_code(&v1.request(sub("bad room")).await),
        Some(ErrorCode::Invalid)
    );
    // Twice counts once; nobody joined anything.
    assert!(matches!(v1.request(sub("r1")).await, ServerFrame::Ack(_)));
    assert!(matches!(v1.request(sub("r1")).await, ServerFrame::Ack(_)));
    for u in ["v2", "v3"] {
        let mut c = gw.connect(Some(u)).await;
        assert!(matches!(c.request(sub("r1")).await, ServerFrame::Ack(_)));
    }
    assert_eq!(stats_count(&gw, "r1").await, 3);
    assert!(matches!(v1.request(unsub("r1")).await, ServerFrame::Ack(_)));
    assert_eq!(stats_count(&gw, "r1").await, 2);
    // A joined viewer may subscribe to another room too.
    gw.room("r2", "anna", false).await;
    let mut v4 = gw.connect(Some("v4")).await;
    v4.join("r2").await;
    assert!(matches!(v4.request(sub("r1")).await, ServerFrame::Ack(_)));
    assert_eq!(stats_count(&gw, "r1").await, 3);
    // Once the live is over there is nothing to remind of.
    gw.live("r2", "start").await;
    gw.live("r2", "end").await;
    assert_eq!(
        error_code(&v1.request(sub("r2")).await),
        Some(ErrorCode::InvalidTransition)
    );
}

#[tokio::test]
async fn live_started_carries_the_subscribers_and_a_cursor() {
    let recv = Receiver::start().await;
    let gw = TestGateway::start_with(|s| s.webhook_poll_ms = 20).await;
    let (st, body) = gw
        .api(
            "POST",
            "/api/webhooks/endpoints",
            Some(
                json!({"id": "shop", "url": recv.url("/ok/r"), "secret": SECRET,
                "events": ["live.started"]}),
            ),
        )
        .await;
    assert_eq!(st, 201, "{body}");
    gw.room("r1", "anna", false).await;
    // 105 subscribers (written through the node's store), one through WS.
    let mut users: Vec<String> = (0..104).map(|i| format!("u{i:03}")).collect();
    for u in &users {
        gw.node().reminder_store.subscribe("r1", u).await.unwrap();
    }
    let mut c = gw.connect(Some("zed")).await;
    assert!(matches!(c.request(sub("r1")).await, ServerFrame::Ack(_)));
    users.push("zed".into());
    users.sort();
    gw.live("r1", "start").await;
    let got = recv.until("/ok/r", |g| !g.is_empty()).await;
    got[0].assert_signed_with(SECRET);
    let data = got[0].json()["data"].clone();
    assert_eq!(data["subscriber_count"], 105);
    let first: Vec<String> = serde_json::from_value(data["subscribers"].clone()).unwrap();
    assert_eq!(first, users[..100]);
    // The cursor pages the rest through the admin API.
    let cursor = data["next_cursor"].as_str().unwrap();
    let (st, page) = gw
        .api(
            "GET",
            &format!("/api/rooms/r1/reminders?cursor={cursor}&limit=3"),
            None,
        )
        .await;
    assert_eq!(st, 200, "{page}");
    assert_eq!(page["subscribers"], json!(users[100..103]));
    let next = page["next_cursor"].as_str().unwrap();
    let (_, page) = gw
        .api(
            "GET",
            &format!("/api/rooms/r1/reminders?cursor={next}"),
            None,
        )
        .await;
    assert_eq!(page["subscribers"], json!(users[103..]));
    assert_eq!(page["next_cursor"], json!(null));
    assert_eq!(page["subscriber_count"], 105);
    let (st, body) = gw
        .api("GET", "/api/rooms/r1/reminders?limit=1001", None)
        .await;
    assert_eq!((st, body["code"].clone()), (400, json!("invalid")));
    let (st, _) = gw.api("GET", "/api/rooms/nope/reminders", None).await;
    assert_eq!(st, 404);
}

#[tokio::test]
async fn push_reminder_is_held_to_its_quota_per_app_and_day() {
    let recv = Receiver::start().await;
    let gw = TestGateway::start_with(|s| {
        s.webhook_poll_ms = 20;
        s.reminder_push_quota = 2;
    })
    .await;
    let (st, _) = gw
        .api(
            "POST",
            "/api/webhooks/endpoints",
            Some(
                json!({"id": "shop", "url": recv.url("/ok/p"), "secret": SECRET,
                "events": ["reminder.*"]}),
            ),
        )
        .await;
    assert_eq!(st, 201);
    gw.room("r1", "anna", false).await;
    let mut v = gw.connect(Some("v1")).await;
    assert!(matches!(v.request(sub("r1")).await, ServerFrame::Ack(_)));
    let push = |body: Option<serde_json::Value>| {
        let gw = &gw;
        async move { gw.api("POST", "/api/rooms/r1/reminders/push", body).await }
    };
    let (st, body) = push(None).await;
    assert_eq!(st, 200, "{body}");
    assert_eq!(
        (body["pushes_today"].clone(), body["pushes_left"].clone()),
        (json!(1), json!(1))
    );
    let (st, _) = push(Some(json!({"app": "default"}))).await;
    assert_eq!(st, 200);
    let (st, body) = push(None).await;
    assert_eq!((st, body["code"].clone()), (429, json!("quota_exceeded")));
    let wait = body["retry_after_ms"].as_u64().unwrap();
    assert!((1..=86_400_000).contains(&wait), "{wait}");
    // Another app has its own quota.
    let (st, body) = push(Some(json!({"app": "mini-program"}))).await;
    assert_eq!(st, 200, "{body}");
    let (st, _) = push(Some(json!({"app": "bad app"}))).await;
    assert_eq!(st, 400);
    let (st, _) = gw.api("POST", "/api/rooms/nope/reminders/push", None).await;
    assert_eq!(st, 404);
    // Each accepted push is a `reminder.pushed` webhook.
    let got = recv.until("/ok/p", |g| g.len() >= 3).await;
    assert!(got.iter().all(|g| g.kind() == "reminder.pushed"));
    let data = got[0].json()["data"].clone();
    assert_eq!(data["room"], "r1");
    assert_eq!(data["subscriber_count"], 1);
    assert_eq!(data["subscribers"], json!(["v1"]));
    let mut apps: Vec<String> = got
        .iter()
        .map(|g| g.json()["data"]["app"].as_str().unwrap().to_string())
        .collect();
    apps.sort();
    assert_eq!(apps, ["default", "default", "mini-program"]);
}
