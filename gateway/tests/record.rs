//! The room record each hub holds: a change made through node A is in force
//! on node B as soon as its record event reaches B's hub, and a hub that
//! missed the event (a lost publish) ends with the right record. On the
//! memory backend A and B are the same node.
#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use common::*;
use protocol::*;
use serde_json::json;

/// Node A, and node B on the same backend (None on `memory`: use A).
async fn nodes() -> (TestGateway, Option<TestGateway>) {
    let a = TestGateway::start().await;
    let b = match test_backend().as_str() {
        "memory" => None,
        _ => Some(a.start_peer().await),
    };
    (a, b)
}

#[tokio::test]
async fn a_role_removed_on_one_node_is_refused_on_the_other() {
    let (a, b) = nodes().await;
    let b = b.as_ref().unwrap_or(&a);
    a.room("r1", "anna", true).await;
    let (st, body) = a
        .api(
            "PUT",
            "/api/rooms/r1/roles/helen",
            Some(json!({"role": "assistant", "nick": "h"})),
        )
        .await;
    assert_eq!(st, 200, "{body}");
    let mut helen = b.connect(Some("helen")).await;
    helen.join("r1").await;
    wait_for_record(b, "r1", |r| r.role_of(Some("helen")) == Role::Assistant).await;
    let mut bob = b.connect(Some("bob")).await;
    bob.join("r1").await;
    let ev = match bob.comment("hi").await {
        ServerFrame::Ack(Ack { event: Some(e), .. }) => e,
        other => panic!("{other:?}"),
    };
    let delete = |offset| {
        Request::DeleteComment(DeleteComment {
            offset,
            reason: None,
        })
    };
    assert!(matches!(
        helen.request(delete(ev.offset)).await,
        ServerFrame::Ack(_)
    ));
    let (st, _) = a.api("DELETE", "/api/rooms/r1/roles/helen", None).await;
    assert_eq!(st, 200);
    wait_for_record(b, "r1", |r| r.role_of(Some("helen")) == Role::Viewer).await;
    let ev = match bob.comment("again").await {
        ServerFrame::Ack(Ack { event: Some(e), .. }) => e,
        other => panic!("{other:?}"),
    };
    let r = helen.request(delete(ev.offset)).await;
    assert_eq!(error_code(&r), Some(ErrorCode::Forbidden), "{r:?}");
}

#[tokio::test]
async fn switches_status_and_slow_mode_changed_on_one_node_hold_on_the_other() {
    let (a, b) = nodes().await;
    let b = b.as_ref().unwrap_or(&a);
    a.room("r1", "anna", true).await;
    let mut bob = b.connect(Some("bob")).await;
    bob.join("r1").await;
    assert!(matches!(bob.comment("one").await, ServerFrame::Ack(_)));

    // The comment switch.
    let (st, _) = a
        .api(
            "PATCH",
            "/api/rooms/r1",
            Some(json!({"switches": {"comments": false}})),
        )
        .await;
    assert_eq!(st, 200);
    wait_for_record(b, "r1", |r| !r.switches.comments).await;
    assert_eq!(
        error_code(&bob.comment("two").await),
        Some(ErrorCode::CommentsDisabled)
    );
    let (st, _) = a
        .api(
            "PATCH",
            "/api/rooms/r1",
            Some(json!({"switches": {"comments": true}})),
        )
        .await;
    assert_eq!(st, 200);
    wait_for_record(b, "r1", |r| r.switches.comments).await;

    // The status.
    a.live("r1", "pause").await;
    wait_for_record(b, "r1", |r| r.status == RoomStatus::Paused).await;
    assert_eq!(
        error_code(&bob.comment("three").await),
        Some(ErrorCode::RoomNotLive)
    );
    a.live("r1", "resume").await;
    wait_for_record(b, "r1", |r| r.status == RoomStatus::Live).await;
    assert!(matches!(bob.comment("four").await, ServerFrame::Ack(_)));

    // Slow mode: B's hub knows the interval, the store holds the slot.
    let (st, _) = a
        .api("PATCH", "/api/rooms/r1", Some(json!({"slow_mode_s": 30})))
        .await;
    assert_eq!(st, 200);
    wait_for_record(b, "r1", |r| r.moderation.slow_mode_s == 30).await;
    assert!(matches!(bob.comment("five").await, ServerFrame::Ack(_)));
    let r = bob.comment("six").await;
    assert_eq!(error_code(&r), Some(ErrorCode::SlowMode), "{r:?}");
}

#[tokio::test]
async fn a_hub_that_missed_the_record_event_ends_with_the_right_record() {
    let (a, b) = nodes().await;
    let b = b.as_ref().unwrap_or(&a);
    a.room("r1", "anna", true).await;
    let mut bob = b.connect(Some("bob")).await;
    bob.join("r1").await;
    // A change whose event is logged but never published (the publish was
    // lost): straight to the store, past every node's hub and the bus.
    let store = &a.node().store;
    let room = store
        .update_room("r1", &|r| {
            r.switches.likes = false;
            Ok(())
        })
        .await
        .unwrap();
    let record = EventKind::Record(RoomRecord {
        version: room.version,
        record: serde_json::to_string(&room).unwrap(),
    });
    store.append("r1", 0, record).await.unwrap();
    // B's hub finds the gap at its next resync with the log head.
    wait_for_record(b, "r1", |r| !r.switches.likes).await;
    let r = bob.request(Request::Like(Like { count: 1 })).await;
    assert_eq!(error_code(&r), Some(ErrorCode::LikesDisabled), "{r:?}");
    // The record event never reaches a client.
    let ping = bob.request(Request::Ping(Ping {})).await;
    assert!(matches!(ping, ServerFrame::Pong(_)));
    for f in &bob.backlog {
        if let ServerFrame::Batch(b) = f {
            assert!(b.events.iter().all(|e| !e.kind.is_internal()), "{b:?}");
        }
    }
}
