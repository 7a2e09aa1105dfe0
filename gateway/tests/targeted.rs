//! Targeted events reach every session of one user, on whichever node holds
//! them, and nobody else.
#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use std::time::Duration;

use common::*;
use protocol::*;

fn personal(f: &ServerFrame) -> Option<&RoomEvent> {
    match f {
        ServerFrame::Batch(b) if b.upto == 0 && b.since == 0 && b.lane == Lane::High => {
            b.events.first()
        }
        _ => None,
    }
}

async fn next_personal(c: &mut Client) -> RoomEvent {
    loop {
        let f = c
            .recv()
            .await
            .expect("closed while waiting for a personal event");
        if let Some(e) = personal(&f) {
            return e.clone();
        }
    }
}

fn notice() -> EventKind {
    EventKind::Switches(Switches {
        comments: false,
        ..Switches::default()
    })
}

#[tokio::test]
async fn a_targeted_event_reaches_every_session_of_its_user_only() {
    let gw = TestGateway::start().await;
    gw.room("r1", "anna", true).await;
    let mut bob1 = gw.connect(Some("bob")).await;
    let mut bob2 = gw.connect(Some("bob")).await;
    let mut alice = gw.connect(Some("alice")).await;
    alice.join("r1").await;
    // Let a subscription reach Redis before publishing (Redis backends).
    tokio::time::sleep(Duration::from_millis(100)).await;
    gw.node().send_to_user("bob", "r1", notice()).await.unwrap();
    for c in [&mut bob1, &mut bob2] {
        let e = next_personal(c).await;
        assert_eq!((e.offset, &e.kind), (0, &notice()));
    }
    // Alice gets nothing personal: a ping round trip proves the queue is empty.
    let reply = alice.request(Request::Ping(Ping {})).await;
    assert!(matches!(reply, ServerFrame::Pong(_)));
    assert!(
        alice.backlog.iter().all(|f| personal(f).is_none()),
        "{:?}",
        alice.backlog
    );
}

#[tokio::test]
async fn a_targeted_event_crosses_nodes() {
    if !common::redis::available() {
        eprintln!("SKIPPED: redis-server is not installed (.ci/run installs it)");
        return;
    }
    let redis = common::redis::RedisServer::start();
    let prefix = format!("tgt{}", std::process::id());
    let point = |s: &mut gateway::Settings, id: &str| {
        s.redis = redis.url();
        s.redis_cluster.clear();
        s.redis_prefix = prefix.clone();
        s.node_id = id.into();
    };
    let mut sa = settings();
    point(&mut sa, "a");
    let a = gateway::start(sa).await.unwrap();
    let b = TestGateway::start_with(|s| point(s, "b")).await;
    let mut bob = Client::connect(&b, Some(b.token("bob")), Codec::Binary).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    a.node.send_to_user("bob", "r1", notice()).await.unwrap();
    let e = tokio::time::timeout(Duration::from_secs(5), next_personal(&mut bob))
        .await
        .expect("the event never crossed nodes");
    assert_eq!(e.kind, notice());
    a.shutdown().await;
}
