//! Faults inside a node: a room hub task that panics is logged, replaced
//! and its sessions are closed with 4003; they reconnect into a fresh hub.
#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use common::*;
use protocol::*;

#[tokio::test]
async fn a_panicking_hub_is_replaced_and_its_sessions_told_to_reconnect() {
    let gw = TestGateway::start().await;
    gw.room("r1", "anna", true).await;
    let mut v = gw.connect(Some("viewer")).await;
    v.join("r1").await;
    let mut w = gw.connect(Some("watcher")).await;
    w.join("r1").await;
    let hub = gw.node().hubs.get("r1").expect("the room has a hub");
    hub.inject_panic();
    assert_eq!(v.closed_with().await, Some(4003));
    assert_eq!(w.closed_with().await, Some(4003));
    assert_eq!(v.close.as_ref().unwrap().1, "internal error, reconnect");
    // The dead hub is gone: a reconnecting viewer gets a fresh one that
    // delivers.
    let mut v = gw.connect(Some("viewer")).await;
    v.join("r1").await;
    let again = gw.node().hubs.get("r1").expect("a fresh hub");
    assert!(!std::sync::Arc::ptr_eq(&hub, &again));
    let mut s = gw.connect(Some("sender")).await;
    s.join("r1").await;
    assert!(matches!(s.comment("still here").await, ServerFrame::Ack(_)));
    v.events_until(|e| comment_texts(e).contains(&"still here".to_string()))
        .await;
    let metrics = gw.metrics().await;
    assert!(metrics.contains("gateway_hub_panics_total 1"), "{metrics}");
}

#[tokio::test]
async fn a_stuck_hub_drops_bus_messages_past_its_queue_and_catches_up_from_the_log() {
    // The hub's queue is the same on every backend; flooding it through a
    // real Redis would take 66,000 round trips.
    if test_backend() != "memory" {
        return;
    }
    // The real comment cap: the viewer gets a sample of the backlog.
    let gw = TestGateway::start_with(|s| s.comment_cap = 20).await;
    gw.room("r1", "anna", true).await;
    let mut v = gw.connect(Some("viewer")).await;
    v.join("r1").await;
    let hub = gw.node().hubs.get("r1").expect("the room has a hub");
    hub.inject_stall(std::time::Duration::from_secs(3));
    // More events than the hub's queue holds, while it takes none.
    let flood = gateway::hub::HUB_QUEUE + 1_000;
    for i in 0..flood {
        gw.node()
            .publish(
                "r1",
                EventKind::Comment(Comment {
                    user: "ghost".into(),
                    nick: "g".into(),
                    text: format!("f{i}"),
                    role: Role::Viewer,
                }),
            )
            .await
            .unwrap();
    }
    let m = gw.metrics().await;
    let dropped: u64 = m
        .lines()
        .find(|l| l.starts_with("gateway_queue_full_total{queue=\"hub\"}"))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    assert!(dropped >= 1_000, "dropped {dropped}\n{m}");
    // Once the hub moves again, the room goes on: a later comment arrives
    // and the viewer's connection is intact.
    let mut s = gw.connect(Some("sender")).await;
    s.join("r1").await;
    assert!(matches!(
        s.comment("after the jam").await,
        ServerFrame::Ack(_)
    ));
    v.events_until(|e| comment_texts(e).contains(&"after the jam".to_string()))
        .await;
}
