//! Every refusal is a reply with a stable code; bad tokens and floods of
//! malformed frames close with documented codes.
#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use common::*;
use protocol::*;
use serde_json::json;
use tokio_tungstenite::tungstenite::Message;

#[tokio::test]
async fn comments_are_refused_when_paused_ended_or_switched_off() {
    let gw = TestGateway::start().await;
    gw.room("r1", "anchor", false).await;
    let mut c = gw.connect(Some("alice")).await;
    c.join("r1").await;
    assert_eq!(
        error_code(&c.comment("early").await),
        Some(ErrorCode::RoomNotLive)
    );
    gw.live("r1", "start").await;
    assert!(matches!(c.comment("ok").await, ServerFrame::Ack(_)));
    gw.live("r1", "pause").await;
    assert_eq!(
        error_code(&c.comment("paused").await),
        Some(ErrorCode::RoomNotLive)
    );
    gw.live("r1", "resume").await;
    let (st, _) = gw
        .api(
            "PATCH",
            "/api/rooms/r1",
            Some(json!({"switches": {"comments": false}})),
        )
        .await;
    assert_eq!(st, 200);
    assert_eq!(
        error_code(&c.comment("off").await),
        Some(ErrorCode::CommentsDisabled)
    );
    let like = c.request(Request::Like(Like { count: 1 })).await;
    assert!(
        matches!(like, ServerFrame::Ack(_)),
        "likes stay on: {like:?}"
    );
    gw.live("r1", "end").await;
    assert_eq!(
        error_code(&c.comment("ended").await),
        Some(ErrorCode::RoomNotLive)
    );
}

#[tokio::test]
async fn anonymous_viewers_watch_but_never_comment_or_like() {
    let gw = TestGateway::start().await;
    gw.room("r1", "anchor", true).await;
    let mut anon = gw.connect(None).await;
    assert_eq!(anon.hello.as_ref().unwrap().user, None);
    let j = anon.join("r1").await;
    assert_eq!(j.role, Role::Anonymous);
    assert_eq!(
        error_code(&anon.comment("hi").await),
        Some(ErrorCode::Unauthenticated)
    );
    let like = anon.request(Request::Like(Like { count: 1 })).await;
    assert_eq!(error_code(&like), Some(ErrorCode::Unauthenticated));
    gw.api(
        "PATCH",
        "/api/rooms/r1",
        Some(json!({"switches": {"anonymous_watch": false}})),
    )
    .await;
    let mut anon2 = gw.connect(None).await;
    let r = anon2
        .request(Request::Join(Join {
            room: "r1".into(),
            resume: None,
        }))
        .await;
    assert_eq!(error_code(&r), Some(ErrorCode::WatchNotAllowed));
}

#[tokio::test]
async fn forged_and_expired_tokens_are_refused_with_4100() {
    let gw = TestGateway::start().await;
    let other = gateway::auth::TokenKeys::new(b"not-the-secret");
    let now = gateway::clock::now_ms() as u64 / 1000;
    let forged = other.mint("mallory", "", false, now, 600).unwrap();
    let expired = gw
        .node()
        .keys
        .mint("late", "", false, now - 7200, 60)
        .unwrap();
    for (token, code) in [
        (forged, ErrorCode::TokenInvalid),
        (expired, ErrorCode::TokenExpired),
        ("not.a.jwt".to_string(), ErrorCode::TokenInvalid),
    ] {
        let mut c = gw.connect_token(&token).await;
        let f = c.recv().await.unwrap();
        assert_eq!(error_code(&f), Some(code));
        assert_eq!(c.closed_with().await, Some(4100));
    }
    // The same refusal through an `auth` request keeps the connection open.
    let mut c = gw.connect(None).await;
    let r = c
        .request(Request::Auth(Auth {
            token: "x.y.z".into(),
        }))
        .await;
    assert_eq!(error_code(&r), Some(ErrorCode::TokenInvalid));
    let ok = c
        .request(Request::Auth(Auth {
            token: gw.token("alice"),
        }))
        .await;
    assert!(matches!(ok, ServerFrame::Ack(_)));
}

#[tokio::test]
async fn malformed_frames_get_replies_then_close_past_the_budget() {
    let gw = TestGateway::start_with(|s| s.malformed_budget = 3).await;
    let mut c = gw.connect(Some("alice")).await;
    for (raw, code) in [
        ("not json", ErrorCode::Malformed),
        (r#"{"type":"fly"}"#, ErrorCode::UnknownType),
        (r#"{"type":"comment"}"#, ErrorCode::Malformed),
    ] {
        c.send_raw(Message::Text(raw.into())).await;
        assert_eq!(error_code(&c.recv().await.unwrap()), Some(code), "{raw}");
    }
    let big = format!(r#"{{"type":"comment","text":"{}"}}"#, "x".repeat(9000));
    c.send_raw(Message::Text(big.into())).await;
    assert_eq!(
        error_code(&c.recv().await.unwrap()),
        Some(ErrorCode::TooLarge)
    );
    assert_eq!(c.closed_with().await, Some(4102));
}

#[tokio::test]
async fn field_limits_and_missing_join_have_their_codes() {
    let gw = TestGateway::start().await;
    gw.room("r1", "anchor", true).await;
    let mut c = gw.connect(Some("alice")).await;
    assert_eq!(
        error_code(&c.comment("hi").await),
        Some(ErrorCode::NotJoined)
    );
    let r = c
        .request(Request::Join(Join {
            room: "nope".into(),
            resume: None,
        }))
        .await;
    assert_eq!(error_code(&r), Some(ErrorCode::RoomNotFound));
    let r = c
        .request(Request::Join(Join {
            room: "bad id".into(),
            resume: None,
        }))
        .await;
    assert_eq!(error_code(&r), Some(ErrorCode::Invalid));
    c.join("r1").await;
    assert_eq!(
        error_code(&c.comment(&"长".repeat(101)).await),
        Some(ErrorCode::Invalid)
    );
    assert!(matches!(
        c.comment(&"长".repeat(100)).await,
        ServerFrame::Ack(_)
    ));
    let r = c.request(Request::Like(Like { count: 101 })).await;
    assert_eq!(error_code(&r), Some(ErrorCode::Invalid));
    let r = c
        .request(Request::Live(Live {
            action: LiveAction::End,
        }))
        .await;
    assert_eq!(error_code(&r), Some(ErrorCode::Forbidden));
}

#[tokio::test]
async fn request_floods_are_rate_limited_with_a_retry_hint() {
    let gw = TestGateway::start_with(|s| {
        s.request_rate = 5;
        s.request_burst = 5;
    })
    .await;
    let mut c = gw.connect(Some("alice")).await;
    let mut limited = None;
    for _ in 0..20 {
        if let ServerFrame::Error(e) = c.request(Request::Ping(Ping {})).await {
            limited = Some(e);
            break;
        }
    }
    let e = limited.expect("never rate limited");
    assert_eq!(e.code, ErrorCode::RateLimited);
    assert!(e.retry_after_ms.unwrap() > 0);
}

#[tokio::test]
async fn the_admin_api_needs_its_key_and_validates_rooms() {
    let gw = TestGateway::start().await;
    let url = format!("http://{}/api/rooms", gw.addr);
    let resp = reqwest::Client::new().get(&url).send().await.unwrap();
    assert_eq!(resp.status().as_u16(), 401);
    let (st, body) = gw
        .api(
            "POST",
            "/api/rooms",
            Some(json!({"id": "r", "anchor": "a", "planned_start": 10, "planned_end": 5})),
        )
        .await;
    assert_eq!((st, body["code"].as_str()), (400, Some("invalid")));
    gw.room("r", "a", false).await;
    let (st, body) = gw
        .api(
            "POST",
            "/api/rooms",
            Some(json!({"id": "r", "anchor": "a", "planned_start": 0, "planned_end": 5})),
        )
        .await;
    assert_eq!((st, body["code"].as_str()), (409, Some("conflict")));
    let (st, body) = gw.api("GET", "/api/rooms/none", None).await;
    assert_eq!((st, body["code"].as_str()), (404, Some("room_not_found")));
}
