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
    // An allow-list word added through A applies on B, and is stored there.
    words(&a, "/api/words", json!({"allow_add": ["zorblaxy"]})).await;
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    assert_eq!(acked_text(&watcher.comment("zorblaxy").await), "zorblaxy");
    let (_, list) = b.api("GET", "/api/words", None).await;
    assert_eq!(list["allow"], json!(["zorblaxy"]));
    // Detector settings set through A hold on B.
    let (st, _) = a
        .api(
            "PATCH",
            "/api/rooms/r1",
            Some(json!({"filter": {"urls": true}})),
        )
        .await;
    assert_eq!(st, 200);
    wait_for_record(&b, "r1", |r| r.moderation.filter.urls).await;
    let r = watcher.comment("see www.example.com").await;
    assert!(err(&r).message.contains("url"), "{r:?}");
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

#[tokio::test]
async fn allow_lists_global_and_per_room_cancel_hits_inside_them() {
    let gw = TestGateway::start().await;
    gw.room("r1", "anna", true).await;
    gw.room("r2", "anna", true).await;
    let body = words(
        &gw,
        "/api/words",
        json!({"add": [{"word": "大麻", "category": "drugs"}, {"word": "刷单", "category": "ads"},
                       {"word": "250", "category": "abuse"}, {"word": "flurb", "category": "abuse"}]}),
    )
    .await;
    assert_eq!(body["allow"], json!([]));
    let mut v = gw.connect(Some("vic")).await;
    v.join("r1").await;
    // The innocent texts pass: the default allow-list, the lexicon
    // and the number rule; the words themselves still hit.
    for text in ["天津大麻花", "这个牙刷单价多少", "单价2.50元", "250克装"] {
        assert_eq!(acked_text(&v.comment(text).await), text);
    }
    for text in ["卖大麻", "招人刷单", "你是250吧"] {
        assert_eq!(
            err(&v.comment(text).await).code,
            ErrorCode::Filtered,
            "{text}"
        );
    }
    // A room allow-list word cancels the room's hits inside it; it never
    // cancels a global hit (a room cannot lift the platform's words).
    words(
        &gw,
        "/api/rooms/r1/words",
        json!({"add": [{"word": "水货", "category": "ads"}]}),
    )
    .await;
    assert_eq!(err(&v.comment("水货店").await).code, ErrorCode::Filtered);
    let body = words(
        &gw,
        "/api/rooms/r1/words",
        json!({"allow_add": ["水货店", "大麻油"]}),
    )
    .await;
    assert_eq!(body["allow"], json!(["大麻油", "水货店"]));
    assert_eq!(body["words"], json!([{"word": "水货", "category": "ads"}]));
    assert_eq!(acked_text(&v.comment("水货店").await), "水货店");
    assert_eq!(
        err(&v.comment("水货店卖水货").await).code,
        ErrorCode::Filtered
    );
    assert_eq!(err(&v.comment("大麻油").await).code, ErrorCode::Filtered);
    let mut w = gw.connect(Some("wendy")).await;
    w.join("r2").await;
    assert_eq!(err(&w.comment("大麻油").await).code, ErrorCode::Filtered);
    // A global allow-list word applies in every room.
    assert_eq!(err(&w.comment("大麻籽").await).code, ErrorCode::Filtered);
    let body = words(&gw, "/api/words", json!({"allow_add": ["大麻籽"]})).await;
    assert_eq!(body["allow"], json!(["大麻籽"]));
    assert_eq!(acked_text(&w.comment("大麻籽").await), "大麻籽");
    assert_eq!(acked_text(&v.comment("大麻籽").await), "大麻籽");
    words(&gw, "/api/words", json!({"allow_remove": ["大麻籽"]})).await;
    assert_eq!(err(&w.comment("大麻籽").await).code, ErrorCode::Filtered);
    // An allow word made only of symbols is refused; nothing changes.
    let (st, body) = gw
        .api("POST", "/api/words", Some(json!({"allow_add": ["..."]})))
        .await;
    assert_eq!(st, 400, "{body}");
    let (_, page) = gw.api("GET", "/api/audit", None).await;
    assert_eq!(page["entries"][0]["target"], "+0 -0 allow +0 -1");
}

#[tokio::test]
async fn moderators_change_the_room_allow_list_over_websocket() {
    let gw = TestGateway::start().await;
    gw.room("r1", "anna", true).await;
    words(
        &gw,
        "/api/rooms/r1/words",
        json!({"add": [{"word": "竞品", "category": "ads"}]}),
    )
    .await;
    let mut v = gw.connect(Some("vic")).await;
    v.join("r1").await;
    assert_eq!(err(&v.comment("竞品店铺").await).code, ErrorCode::Filtered);
    let mut anna = gw.connect(Some("anna")).await;
    anna.join("r1").await;
    let r = anna
        .request(Request::AllowWords(AllowWords {
            add: vec!["竞品店".into()],
            remove: vec![],
        }))
        .await;
    assert!(matches!(r, ServerFrame::Ack(_)), "{r:?}");
    assert_eq!(acked_text(&v.comment("竞品店铺").await), "竞品店铺");
    assert_eq!(err(&v.comment("竞品").await).code, ErrorCode::Filtered);
    let r = v
        .request(Request::AllowWords(AllowWords {
            add: vec!["竞品".into()],
            remove: vec![],
        }))
        .await;
    assert_eq!(err(&r).code, ErrorCode::Forbidden);
    let (_, list) = gw.api("GET", "/api/rooms/r1/words", None).await;
    assert_eq!(list["allow"], json!(["竞品店"]));
}

#[tokio::test]
async fn detectors_are_room_settings_and_a_block_names_the_category_only() {
    let gw = TestGateway::start().await;
    gw.room("r1", "anna", true).await;
    gw.room("r2", "anna", true).await;
    let mut v = gw.connect(Some("vic")).await;
    v.join("r1").await;
    let phone = "加我 138 1234 5678";
    let url = "去 www.example.com 买";
    // Off by default, even with no word list at all.
    assert_eq!(acked_text(&v.comment(phone).await), phone);
    assert_eq!(acked_text(&v.comment(url).await), url);
    let (st, room) = gw
        .api(
            "PATCH",
            "/api/rooms/r1",
            Some(json!({"filter": {"digit_runs": 7, "urls": true}})),
        )
        .await;
    assert_eq!(st, 200, "{room}");
    assert_eq!(
        room["moderation"]["filter"],
        json!({"digit_runs": 7, "urls": true})
    );
    let e = err(&v.comment(phone).await).clone();
    assert_eq!(e.code, ErrorCode::Filtered);
    assert!(e.message.contains("contact"), "{}", e.message);
    assert!(!e.message.contains("138"), "{}", e.message);
    let e = err(&v.comment(url).await).clone();
    assert!(e.message.contains("url"), "{}", e.message);
    assert!(!e.message.contains("example"), "{}", e.message);
    // Prices, dates and order numbers are not contact.
    for text in [
        "单价 12999.00 元",
        "2024-12-25 下的单",
        "订单号 2024122512345678",
    ] {
        assert_eq!(acked_text(&v.comment(text).await), text);
    }
    // The threshold is the room's; other rooms keep theirs.
    let (st, _) = gw
        .api(
            "PATCH",
            "/api/rooms/r1",
            Some(json!({"filter": {"digit_runs": 12}})),
        )
        .await;
    assert_eq!(st, 200);
    assert_eq!(acked_text(&v.comment(phone).await), phone);
    assert!(err(&v.comment(url).await).message.contains("url"));
    let mut w = gw.connect(Some("wendy")).await;
    w.join("r2").await;
    assert_eq!(acked_text(&w.comment(url).await), url);
    // Masking masks detector hits too.
    let (st, _) = gw
        .api(
            "PATCH",
            "/api/rooms/r1",
            Some(json!({"word_policy": "mask", "filter": {"digit_runs": 7, "urls": false}})),
        )
        .await;
    assert_eq!(st, 200);
    assert_eq!(
        acked_text(&v.comment("tel 13812345678").await),
        "tel ***********"
    );
    for bad in [
        json!({"digit_runs": 2}),
        json!({"digit_runs": 99}),
        json!({"urls": "yes"}),
    ] {
        let (st, body) = gw
            .api("PATCH", "/api/rooms/r1", Some(json!({"filter": bad})))
            .await;
        assert_eq!(st, 400, "{body}");
    }
    let (_, page) = gw.api("GET", "/api/rooms/r1/audit", None).await;
    let target = page["entries"][0]["target"].as_str().unwrap_or("");
    assert!(target.contains("digit_runs=7 urls=false"), "{target}");
}
