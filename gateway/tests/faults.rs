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
    let metrics = reqwest::get(format!("http://{}/metrics", gw.addr))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(metrics.contains("gateway_hub_panics_total 1"), "{metrics}");
}
