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

#[tokio::test]
async fn a_user_on_two_nodes_gets_it_on_both_and_a_dead_node_is_not_addressed() {
    let Some((_redis, a, b)) = two_nodes_on_one_redis(|s| s.presence_interval_ms = 100).await
    else {
        return;
    };
    let mut on_a = a.connect(Some("bob")).await;
    let mut on_b = b.connect(Some("bob")).await;
    // Registration happens when the session opens: a ping round trip on
    // each connection proves it ran.
    for c in [&mut on_a, &mut on_b] {
        assert!(matches!(
            c.request(Request::Ping(Ping {})).await,
            ServerFrame::Pong(_)
        ));
    }
    let mut nodes = a
        .node()
        .store
        .user_nodes("bob", gateway::clock::now_ms())
        .await
        .unwrap();
    nodes.sort();
    assert_eq!(nodes, ["a", "b"]);
    a.node().send_to_user("bob", "r1", notice()).await.unwrap();
    for c in [&mut on_a, &mut on_b] {
        let e = tokio::time::timeout(Duration::from_secs(5), next_personal(c))
            .await
            .expect("the event never arrived");
        assert_eq!(e.kind, notice());
    }
    // A node that dies without a word (no unregistering) stops being
    // addressed once its liveness key expires with its heartbeat.
    let store = &a.node().store;
    let now = gateway::clock::now_ms();
    store
        .add_user_node(&["carol".to_string()], "ghost")
        .await
        .unwrap();
    store.set_node_alive("ghost", now + 300).await.unwrap();
    assert_eq!(store.user_nodes("carol", now).await.unwrap(), ["ghost"]);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let nodes = store
            .user_nodes("carol", gateway::clock::now_ms())
            .await
            .unwrap();
        if nodes.is_empty() {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "still addressed: {nodes:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    drop(b);
}

#[tokio::test]
async fn a_user_who_connected_during_a_redis_outage_gets_personal_events_after_it() {
    let Some((mut redis, a, b)) = two_nodes_on_one_redis(|s| s.presence_interval_ms = 100).await
    else {
        return;
    };
    redis.kill();
    // Sessions opened and closed while the store is down: their directory
    // writes fail (before, the per-user subscription counter wrapped below
    // zero here and the user never got a personal event on this node again).
    for _ in 0..2 {
        let mut c = b.connect(Some("bob")).await;
        let _ = c.request(Request::Ping(Ping {})).await;
        drop(c);
    }
    let mut bob = b.connect(Some("bob")).await;
    assert!(matches!(
        bob.request(Request::Ping(Ping {})).await,
        ServerFrame::Pong(_)
    ));
    redis.restart();
    // The heartbeat lists node b for its users again once the store answers.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    loop {
        if let Ok(n) = a
            .node()
            .store
            .user_nodes("bob", gateway::clock::now_ms())
            .await
            && n == ["b"]
        {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "b never listed again"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    let e = loop {
        // The bus subscriber may still be reconnecting: send until it lands.
        let _ = a.node().send_to_user("bob", "r1", notice()).await;
        match tokio::time::timeout(Duration::from_millis(500), next_personal(&mut bob)).await {
            Ok(e) => break e,
            Err(_) => assert!(tokio::time::Instant::now() < deadline, "never delivered"),
        }
    };
    assert_eq!(e.kind, notice());
}
