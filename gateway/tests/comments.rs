//! Comments and likes reach every viewer of the room.
#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use common::*;
use protocol::*;

#[tokio::test]
async fn two_viewers_see_each_others_comments_in_order() {
    let gw = TestGateway::start().await;
    gw.room("r1", "anchor", true).await;
    let mut a = gw.connect(Some("alice")).await;
    let mut b = gw.connect(Some("bob")).await;
    a.join("r1").await;
    b.join("r1").await;
    let mut sent = vec![];
    for i in 0..10 {
        let (who, text) = if i % 2 == 0 {
            (&mut a, format!("a{i}"))
        } else {
            (&mut b, format!("b{i}"))
        };
        let ack = who.comment(&text).await;
        assert!(
            matches!(ack, ServerFrame::Ack(Ack { event: Some(_), .. })),
            "{ack:?}"
        );
        sent.push(text);
    }
    for c in [&mut a, &mut b] {
        let events = c.events_until(|e| comment_texts(e).len() >= 10).await;
        assert_eq!(comment_texts(&events), sent);
        assert!(events.windows(2).all(|w| w[0].offset < w[1].offset));
    }
}

#[tokio::test]
async fn the_binary_codec_carries_the_same_conversation() {
    let gw = TestGateway::start().await;
    gw.room("r1", "anchor", true).await;
    let mut a = Client::connect(&gw, Some(gw.token("alice")), Codec::Binary).await;
    let mut b = gw.connect(Some("bob")).await;
    a.join("r1").await;
    b.join("r1").await;
    let ack = a.comment("二进制 hello").await;
    let ServerFrame::Ack(Ack {
        event: Some(ev), ..
    }) = ack
    else {
        panic!("{ack:?}")
    };
    let got = b.events_until(|e| !e.is_empty()).await;
    assert_eq!(got[0], ev);
    b.comment("back").await;
    let got = a
        .events_until(|e| comment_texts(e).contains(&"back".to_string()))
        .await;
    assert!(comment_texts(&got).contains(&"back".to_string()));
}

#[tokio::test]
async fn like_taps_from_many_viewers_add_up_to_one_total() {
    let gw = TestGateway::start().await;
    gw.room("r1", "anchor", true).await;
    let mut watcher = gw.connect(None).await;
    watcher.join("r1").await;
    let mut total = 0u64;
    for v in 0..4u32 {
        let mut c = gw.connect(Some(&format!("v{v}"))).await;
        c.join("r1").await;
        for t in 0..5u32 {
            let count = 1 + (v + t) % 3;
            let r = c.request(Request::Like(Like { count })).await;
            assert!(matches!(r, ServerFrame::Ack(_)), "{r:?}");
            total += u64::from(count);
        }
    }
    let t = watcher.totals_until(|t| t.likes >= total).await;
    assert_eq!(t.likes, total);
    let (_, stats) = gw.api("GET", "/api/rooms/r1/stats", None).await;
    assert_eq!(stats["totals"]["likes"], total);
    assert_eq!(stats["totals"]["viewers"], 5);
}

#[tokio::test]
async fn the_comment_lane_is_capped_per_viewer_but_the_sender_gets_its_own() {
    let gw = TestGateway::start_with(|s| {
        s.comment_cap = 20;
        s.tick_ms = 50;
    })
    .await;
    gw.room("r1", "anchor", true).await;
    let mut sender = gw.connect(Some("alice")).await;
    let mut watcher = gw.connect(Some("bob")).await;
    sender.join("r1").await;
    watcher.join("r1").await;
    let start = std::time::Instant::now();
    let mut acks = vec![];
    for chunk in 0..4 {
        let texts: Vec<Request> = (chunk * 50..chunk * 50 + 50)
            .map(|i| {
                Request::Comment(PostComment {
                    text: format!("c{i}"),
                })
            })
            .collect();
        acks.extend(sender.pipeline(texts).await);
    }
    for (i, ack) in acks.into_iter().enumerate() {
        let ServerFrame::Ack(Ack { event: Some(e), .. }) = ack else {
            panic!("{ack:?}")
        };
        assert_eq!(comment_texts(&[e]), [format!("c{i}")]);
    }
    // At most 20 in any second: after the flood the second is used up, so
    // a lone comment goes out once a second has passed.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    sender.comment("last").await;
    let got = watcher
        .events_until(|e| comment_texts(e).contains(&"last".to_string()))
        .await;
    let secs = start.elapsed().as_secs_f64();
    let n = comment_texts(&got).len() as f64;
    assert!(n < 201.0, "sampling dropped nothing");
    assert!(n <= 20.0 * secs.ceil() + 1.0, "{n} comments in {secs:.2}s");
}

#[tokio::test]
async fn a_rooms_tick_grows_with_its_viewers() {
    let gw = TestGateway::start_with(|s| {
        s.tick_ms = 20;
        s.tick_grow_viewers = 2;
        s.max_tick_ms = 50;
    })
    .await;
    gw.room("r1", "anchor", true).await;
    let wait_tick = |want: u64| {
        let gw = &gw;
        async move {
            let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(5);
            loop {
                let t = gw.node().hubs.get("r1").map(|h| h.tick_ms());
                if t == Some(want) {
                    return;
                }
                assert!(
                    tokio::time::Instant::now() < deadline,
                    "tick {t:?}, want {want}"
                );
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            }
        }
    };
    let mut sender = gw.connect(Some("alice")).await;
    sender.join("r1").await;
    sender.comment("one viewer").await;
    wait_tick(20).await;
    // 3 online: 20 ms + one step per 2 viewers.
    let mut others = vec![];
    for u in ["b", "c"] {
        let mut c = gw.connect(Some(u)).await;
        c.join("r1").await;
        others.push(c);
    }
    sender.comment("three viewers").await;
    wait_tick(40).await;
    // 7 online: 80 ms by the rule, capped at 50.
    for u in ["d", "e", "f", "g"] {
        let mut c = gw.connect(Some(u)).await;
        c.join("r1").await;
        others.push(c);
    }
    sender.comment("seven viewers").await;
    wait_tick(50).await;
    // Events still flow at the longer tick.
    let got = others[0]
        .events_until(|e| comment_texts(e).contains(&"seven viewers".to_string()))
        .await;
    assert!(!got.is_empty());
    // They leave: the tick shrinks back.
    drop(others);
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    sender.comment("alone again").await;
    wait_tick(20).await;
}
