//! The sensitive-word filter through the gateway (block with a category,
//! mask, hot reload through the admin API and by moderators), and two nodes
//! over one redis-server: a mute, a deletion or a word-list change on node A
//! applies on node B.
#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use common::*;
use protocol::*;
use serde_json::{Value, json};

fn err(f: &ServerFrame) -> &event::ErrorReply {
    match f {
        ServerFrame::Error(e) => e,
        other => panic!("expected an error, got {other:?}"),
    }
}

fn acked_text(f: &ServerFrame) -> String {
    match f {
        ServerFrame::Ack(Ack { event: Some(e), .. }) => {
            comment_texts(std::slice::from_ref(e)).remove(0)
        }
        other => panic!("expected an ack with a comment, got {other:?}"),
    }
}

async fn words(gw: &TestGateway, path: &str, body: Value) -> Value {
    let (st, body) = gw.api("POST", path, Some(body)).await;
    assert_eq!(st, 200, "{body}");
    body
}

#[tokio::test]
async fn a_blocked_comment_names_the_category_never_the_word() {
    let gw = TestGateway::start().await;
    gw.room("r1", "anna", true).await;
    words(
        &gw,
        "/api/words",
        json!({"add": [{"word": "scamword", "category": "fraud"}]}),
    )
    .await;
    let mut v = gw.connect(Some("vic")).await;
    v.join("r1").await;
    let r = v.comment("this is ＳＣＡＭ w o r d!").await;
    let e = err(&r);
    assert_eq!(e.code, ErrorCode::Filtered);
    assert!(e.message.contains("fraud"), "{}", e.message);
    assert!(!e.message.to_lowercase().contains("scam"), "{}", e.message);
    assert_eq!(acked_text(&v.comment("all fine").await), "all fine");
}

#[tokio::test]
async fn a_mask_policy_delivers_the_comment_masked() {
    let gw = TestGateway::start().await;
    gw.room("r1", "anna", true).await;
    let (st, _) = gw
        .api(
            "PATCH",
            "/api/rooms/r1",
            Some(json!({"word_policy": "mask"})),
        )
        .await;
    assert_eq!(st, 200);
    let (st, _) = gw
        .api(
            "PUT",
            "/api/rooms/r1/roles/helen",
            Some(json!({"role": "assistant"})),
        )
        .await;
    assert_eq!(st, 200);
    // An assistant maintains the room's list over WebSocket.
    let mut helen = gw.connect(Some("helen")).await;
    helen.join("r1").await;
    let r = helen
        .request(Request::Words(Words {
            add: vec![WordEntry {
                word: "竞品".into(),
                category: "ads".into(),
            }],
            remove: vec![],
        }))
        .await;
    assert!(matches!(r, ServerFrame::Ack(_)), "{r:?}");
    let mut v = gw.connect(Some("vic")).await;
    v.join("r1").await;
    let mut w = gw.connect(Some("wendy")).await;
    w.join("r1").await;
    assert_eq!(acked_text(&v.comment("去看競品吧").await), "去看**吧");
    let got = w.events_until(|e| !comment_texts(e).is_empty()).await;
    assert_eq!(comment_texts(&got), ["去看**吧"]);
    // Viewers cannot change the list.
    let r = v
        .request(Request::Words(Words {
            add: vec![],
            remove: vec!["竞品".into()],
        }))
        .await;
    assert_eq!(err(&r).code, ErrorCode::Forbidden);
    let (_, list) = gw.api("GET", "/api/rooms/r1/words", None).await;
    assert_eq!(list["words"], json!([{"word": "竞品", "category": "ads"}]));
}

#[tokio::test]
async fn word_lists_reload_without_restart() {
    let gw = TestGateway::start().await;
    gw.room("r1", "anna", true).await;
    gw.room("r2", "anna", true).await;
    let mut v = gw.connect(Some("vic")).await;
    v.join("r1").await;
    assert_eq!(acked_text(&v.comment("flurb").await), "flurb");
    let body = words(
        &gw,
        "/api/rooms/r1/words",
        json!({"add": [{"word": "flurb", "category": "abuse"}]}),
    )
    .await;
    assert_eq!(body["version"], 1);
    assert_eq!(err(&v.comment("flurb").await).code, ErrorCode::Filtered);
    // A room's list applies to that room only.
    let mut w = gw.connect(Some("wendy")).await;
    w.join("r2").await;
    assert_eq!(acked_text(&w.comment("flurb").await), "flurb");
    words(&gw, "/api/rooms/r1/words", json!({"remove": ["flurb"]})).await;
    assert_eq!(acked_text(&v.comment("flurb").await), "flurb");
    // The global list applies everywhere.
    words(
        &gw,
        "/api/words",
        json!({"add": [{"word": "flurb", "category": "abuse"}]}),
    )
    .await;
    assert_eq!(err(&v.comment("flurb").await).code, ErrorCode::Filtered);
    assert_eq!(err(&w.comment("flurb").await).code, ErrorCode::Filtered);
    let (st, body) = gw
        .api(
            "POST",
            "/api/words",
            Some(json!({"add": [{"word": "...", "category": "x"}]})),
        )
        .await;
    assert_eq!(st, 400, "{body}");
    let (_, page) = gw.api("GET", "/api/audit", None).await;
    assert_eq!(page["entries"][0]["action"], "words");
}

#[tokio::test]
async fn a_mute_a_deletion_and_a_word_change_on_one_node_apply_on_the_other() {
    let Some((_server, a, b)) = two_nodes_on_one_redis(|_| {}).await else {
        return;
    };
    a.room("r1", "anna", true).await;
    let mut anchor = a.connect(Some("anna")).await;
    anchor.join("r1").await;
    let mut troll = b.connect(Some("troll")).await;
    troll.join("r1").await;
    let mut watcher = b.connect(Some("bob")).await;
    watcher.join("r1").await;
    // A deletion on A reaches the viewer on B.
    let r = troll.comment("spam").await;
    let ServerFrame::Ack(Ack {
        event: Some(ev), ..
    }) = r
    else {
        panic!("{r:?}")
    };
    let r = anchor
        .request(Request::DeleteComment(DeleteComment {
            offset: ev.offset,
            reason: None,
        }))
        .await;
    assert!(matches!(r, ServerFrame::Ack(_)), "{r:?}");
    watcher
        .events_until(|e| {
            e.iter()
                .any(|e| matches!(e.kind, EventKind::CommentDeleted(_)))
        })
        .await;
    // A mute on A holds on B.
    let r = anchor
        .request(Request::Mute(Mute {
            user: "troll".into(),
            duration_s: None,
            shadow: false,
            reason: None,
        }))
        .await;
    assert!(matches!(r, ServerFrame::Ack(_)), "{r:?}");
    assert_eq!(err(&troll.comment("again").await).code, ErrorCode::Muted);
    watcher
        .events_until(|e| e.iter().any(|e| matches!(e.kind, EventKind::UserPurged(_))))
        .await;
    // A word added through A's admin API filters on B (B built its
    // dictionary before the change).
    assert_eq!(acked_text(&watcher.comment("zorblax").await), "zorblax");
    words(
        &a,
        "/api/words",
        json!({"add": [{"word": "zorblax", "category": "spam"}]}),
    )
    .await;
    // Each node compares the list's version at most once a tick (20 ms here).
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    let r = watcher.comment("zorblax").await;
    assert_eq!(err(&r).code, ErrorCode::Filtered);
    // Slow mode is claimed in the store: a second comment through A is refused.
    let (st, _) = a
        .api("PATCH", "/api/rooms/r1", Some(json!({"slow_mode_s": 30})))
        .await;
    assert_eq!(st, 200);
    // The change reaches B's hub with its record event (a tick plus the bus).
    wait_for_record(&b, "r1", |r| r.moderation.slow_mode_s == 30).await;
    assert_eq!(acked_text(&watcher.comment("one").await), "one");
    let mut bob_on_a = a.connect(Some("bob")).await;
    bob_on_a.join("r1").await;
    assert_eq!(
        err(&bob_on_a.comment("two").await).code,
        ErrorCode::SlowMode
    );
}
