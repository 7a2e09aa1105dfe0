//! A Redis that comes back empty, and one that blips, on a real
//! `redis-server` killed and restarted: the emptied store is detected (its
//! data epoch is gone), the node turns not-ready and closes joined
//! sessions with 4005; an anchor that leaves during a blip still makes the
//! room abnormal once Redis is back.
#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use std::time::Duration;

use common::redis::{RedisServer, available};
use common::*;
use protocol::*;

async fn gateway_on(redis: &RedisServer) -> TestGateway {
    let url = redis.url();
    TestGateway::start_with(move |s| {
        s.redis = url;
        s.redis_cluster = String::new();
        s.presence_interval_ms = 100;
    })
    .await
}

async fn readyz(gw: &TestGateway) -> (u16, String) {
    let resp = reqwest::get(format!("http://{}/readyz", gw.addr))
        .await
        .unwrap();
    (resp.status().as_u16(), resp.text().await.unwrap())
}

#[tokio::test]
async fn a_redis_that_comes_back_empty_is_detected() {
    if !available() {
        eprintln!("SKIPPED: redis-server not installed");
        return;
    }
    let mut redis = RedisServer::start();
    let gw = gateway_on(&redis).await;
    gw.room("r1", "anna", true).await;
    let mut v = gw.connect(Some("viewer")).await;
    v.join("r1").await;
    assert_eq!(readyz(&gw).await.0, 200);

    redis.kill_and_wipe();
    redis.restart();
    assert_eq!(v.closed_with().await, Some(4005));
    assert_eq!(v.close.as_ref().unwrap().1, "store lost its data, rejoin");
    assert_eq!(readyz(&gw).await, (503, "store lost its data".to_string()));
    let metrics = gw.metrics().await;
    assert!(
        metrics.contains("gateway_store_resets_total 1"),
        "{metrics}"
    );
    // The room is gone; once re-created it works again.
    let mut c = gw.connect(Some("viewer")).await;
    let r = c
        .request(Request::Join(Join {
            room: "r1".into(),
            resume: None,
        }))
        .await;
    assert_eq!(error_code(&r), Some(ErrorCode::RoomNotFound));
    gw.room("r1", "anna", true).await;
    c.join("r1").await;
    // Only once: the node adopted the new epoch.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let metrics = gw.metrics().await;
    assert!(
        metrics.contains("gateway_store_resets_total 1"),
        "{metrics}"
    );
}

#[tokio::test]
async fn a_redis_restarted_with_its_data_is_not_a_loss() {
    if !available() {
        eprintln!("SKIPPED: redis-server not installed");
        return;
    }
    let mut redis = RedisServer::start();
    let gw = gateway_on(&redis).await;
    gw.room("r1", "anna", true).await;
    let mut v = gw.connect(Some("viewer")).await;
    v.join("r1").await;
    redis.kill();
    tokio::time::sleep(Duration::from_millis(500)).await;
    redis.restart();
    // The viewer stays; the room is still there and delivers.
    let mut s = gw.connect(Some("sender")).await;
    let mut joined = false;
    for _ in 0..50 {
        let r = s
            .request(Request::Join(Join {
                room: "r1".into(),
                resume: None,
            }))
            .await;
        if matches!(r, ServerFrame::Joined(_)) {
            joined = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(joined);
    let mut acked = false;
    for _ in 0..50 {
        if matches!(s.comment("still here").await, ServerFrame::Ack(_)) {
            acked = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(acked);
    v.events_until(|e| comment_texts(e).contains(&"still here".to_string()))
        .await;
    assert_eq!(readyz(&gw).await.0, 200);
}

#[tokio::test]
async fn an_anchor_that_leaves_during_a_blip_still_makes_the_room_abnormal() {
    if !available() {
        eprintln!("SKIPPED: redis-server not installed");
        return;
    }
    let mut redis = RedisServer::start();
    let gw = gateway_on(&redis).await;
    gw.room("r1", "anna", true).await;
    let mut anchor = gw.connect(Some("anna")).await;
    anchor.join("r1").await;
    redis.kill();
    drop(anchor);
    tokio::time::sleep(Duration::from_millis(800)).await;
    redis.restart();
    let mut status = 0;
    for _ in 0..100 {
        let (st, room) = gw.api("GET", "/api/rooms/r1", None).await;
        if st == 200 {
            status = room["status"].as_u64().unwrap();
            if status == 106 {
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(status, 106, "the room did not go abnormal");
}
