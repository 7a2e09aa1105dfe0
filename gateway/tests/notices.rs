//! Notices (公告) on every backend: pushed by the anchor, sub-anchor or an
//! admin into a live room, shown for `notice_show_ms`, in the join
//! snapshot with its time left, withdrawn, expired exactly once (also with
//! two nodes), one at a time and the spacing rule, text limits, the word
//! filter and the permission matrix.
#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use common::*;
use protocol::*;
use serde_json::json;

fn push(text: &str) -> Request {
    Request::PushNotice(PushNotice { text: text.into() })
}

fn withdraw() -> Request {
    Request::WithdrawNotice(WithdrawNotice { notice: None })
}

fn notices(events: &[RoomEvent]) -> Vec<(NoticeAction, u64)> {
    events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Notice(n) => Some((n.action, n.notice.id)),
            _ => None,
        })
        .collect()
}

fn pushed(f: &ServerFrame) -> Notice {
    match f {
        ServerFrame::Ack(Ack {
            event:
                Some(RoomEvent {
                    kind: EventKind::Notice(n),
                    ..
                }),
            ..
        }) => n.notice.clone(),
        other => panic!("not a notice ack: {other:?}"),
    }
}

fn refusal(f: &ServerFrame) -> (ErrorCode, u64) {
    match f {
        ServerFrame::Error(e) => (e.code, e.retry_after_ms.unwrap_or(0)),
        other => panic!("not an error: {other:?}"),
    }
}

#[tokio::test]
async fn a_notice_shows_is_in_the_snapshot_and_expires_once() {
    let gw = TestGateway::start_with(|s| {
        s.notice_show_ms = 600;
        s.timer_interval_ms = 20;
    })
    .await;
    gw.room("r1", "anna", true).await;
    let mut viewer = gw.connect(Some("vic")).await;
    assert_eq!(viewer.join("r1").await.notice, None);
    let mut anchor = gw.connect(Some("anna")).await;
    anchor.join("r1").await;
    let first = pushed(&anchor.request(push("今晚八点 全场五折 🎉")).await);
    assert_eq!((first.id, first.until - first.pushed_at), (1, 600));
    assert_eq!(first.text, "今晚八点 全场五折 🎉");
    // One at a time: refused with the time the current one has left.
    let (code, wait) = refusal(&anchor.request(push("第二条公告")).await);
    assert_eq!(code, ErrorCode::NoticeShowing);
    assert!((1..=600).contains(&wait), "{wait}");
    // A joiner sees it with its time left.
    let mut late = gw.connect(None).await;
    let shown = late.join("r1").await.notice.unwrap();
    assert_eq!(shown.notice, first);
    assert!(shown.remaining_ms <= 600);
    // Viewers see it pushed, then expired once; the next push is allowed
    // after that, and nothing else happened to the first in between.
    let got = viewer
        .events_until(|e| notices(e).contains(&(NoticeAction::Expired, 1)))
        .await;
    assert_eq!(
        notices(&got),
        vec![(NoticeAction::Pushed, 1), (NoticeAction::Expired, 1)]
    );
    let second = pushed(&anchor.request(push("第二条公告")).await);
    assert_eq!(second.id, 2);
    let got = viewer
        .events_until(|e| notices(e).contains(&(NoticeAction::Pushed, 2)))
        .await;
    assert_eq!(notices(&got), vec![(NoticeAction::Pushed, 2)]);
    let mut after = gw.connect(None).await;
    assert_eq!(after.join("r1").await.notice.unwrap().notice.id, 2);
}

#[tokio::test]
async fn withdrawn_notices_and_the_spacing_rule() {
    let gw = TestGateway::start().await;
    gw.room("r1", "anna", true).await;
    let mut anchor = gw.connect(Some("anna")).await;
    anchor.join("r1").await;
    let r = anchor.request(withdraw()).await;
    assert_eq!(error_code(&r), Some(ErrorCode::NotFound));
    // Three pushes, each withdrawn at once: two intervals under 5 s.
    for n in 1..=3u64 {
        assert_eq!(pushed(&anchor.request(push("限时秒杀开始")).await).id, n);
        let r = anchor
            .request(Request::WithdrawNotice(WithdrawNotice { notice: Some(n) }))
            .await;
        assert!(matches!(r, ServerFrame::Ack(_)), "{r:?}");
    }
    let (code, wait) = refusal(&anchor.request(push("第四条公告")).await);
    assert_eq!(code, ErrorCode::NoticeSpacing);
    assert!((55_000..=60_000).contains(&wait), "{wait}");
    // The admin API answers the same rule with 409 and the wait.
    let (st, body) = gw
        .api(
            "PUT",
            "/api/rooms/r1/notice",
            Some(json!({"text": "第四条公告"})),
        )
        .await;
    assert_eq!((st, body["code"].as_str()), (409, Some("notice_spacing")));
    assert!(body["retry_after_ms"].as_u64().unwrap() > 55_000, "{body}");
    // Viewers saw every push and withdrawal, in order.
    let mut v = gw.connect(None).await;
    let j = v.join("r1").await;
    assert_eq!(j.notice, None);
}

#[tokio::test]
async fn admins_push_and_withdraw_over_the_api() {
    let gw = TestGateway::start().await;
    gw.room("r1", "anna", true).await;
    let mut viewer = gw.connect(Some("vic")).await;
    viewer.join("r1").await;
    let (st, body) = gw
        .api(
            "PUT",
            "/api/rooms/r1/notice",
            Some(json!({"text": "欢迎来到直播间"})),
        )
        .await;
    assert_eq!(st, 200, "{body}");
    assert_eq!(body["event"]["notice"]["id"], 1);
    let (_, now) = gw.api("GET", "/api/rooms/r1/notice", None).await;
    assert_eq!(now["notice"]["notice"]["text"], "欢迎来到直播间");
    let (st, _) = gw.api("DELETE", "/api/rooms/r1/notice", None).await;
    assert_eq!(st, 200);
    let (st, body) = gw.api("DELETE", "/api/rooms/r1/notice", None).await;
    assert_eq!((st, body["code"].as_str()), (404, Some("not_found")));
    let (_, now) = gw.api("GET", "/api/rooms/r1/notice", None).await;
    assert_eq!(now["notice"], json!(null));
    let got = viewer
        .events_until(|e| notices(e).contains(&(NoticeAction::Withdrawn, 1)))
        .await;
    assert_eq!(
        notices(&got),
        vec![(NoticeAction::Pushed, 1), (NoticeAction::Withdrawn, 1)]
    );
    let (st, body) = gw
        .api(
            "PUT",
            "/api/rooms/nope/notice",
            Some(json!({"text": "欢迎来到直播间"})),
        )
        .await;
    assert_eq!((st, body["code"].as_str()), (404, Some("room_not_found")));
}

#[tokio::test]
async fn limits_the_word_filter_and_who_may_push() {
    let gw = TestGateway::start().await;
    gw.room("r1", "anna", true).await;
    gw.room("r2", "anna", false).await;
    let (st, _) = gw
        .api(
            "PUT",
            "/api/rooms/r1/roles/sam",
            Some(json!({"role": "sub_anchor"})),
        )
        .await;
    assert_eq!(st, 200);
    let (st, _) = gw
        .api(
            "PUT",
            "/api/rooms/r1/roles/ada",
            Some(json!({"role": "assistant"})),
        )
        .await;
    assert_eq!(st, 200);
    let (st, _) = gw
        .api(
            "POST",
            "/api/rooms/r1/words",
            Some(json!({"add": [{"word": "竞品", "category": "ads"}]})),
        )
        .await;
    assert_eq!(st, 200);
    let mut sub = gw.connect(Some("sam")).await;
    sub.join("r1").await;
    // 4..=34 Unicode scalar values: 3 is short, 35 long; a flag is two,
    // so two flags are four; no line breaks, no bidi controls, visible.
    for bad in [
        "三个字".to_string(),
        "长".repeat(35),
        "🇨🇳".into(),
        "两行\n公告".into(),
        "abc\u{202E}def".into(),
        "\u{200B}".repeat(5),
    ] {
        let r = sub.request(push(&bad)).await;
        assert_eq!(error_code(&r), Some(ErrorCode::Invalid), "{bad:?}");
    }
    // The room's words block a notice even under a mask policy.
    let (st, _) = gw
        .api(
            "PATCH",
            "/api/rooms/r1",
            Some(json!({"word_policy": "mask"})),
        )
        .await;
    assert_eq!(st, 200);
    let r = sub.request(push("快去看竞品直播间")).await;
    assert_eq!(error_code(&r), Some(ErrorCode::Filtered));
    // The sub-anchor may push (two flags: four scalar values) and withdraw.
    assert_eq!(pushed(&sub.request(push("🇨🇳🇨🇳")).await).id, 1);
    assert!(matches!(sub.request(withdraw()).await, ServerFrame::Ack(_)));
    // Assistants and viewers may not; anonymous viewers must sign in.
    for user in [Some("ada"), Some("vic")] {
        let mut c = gw.connect(user).await;
        c.join("r1").await;
        let r = c.request(push("欢迎来到直播间")).await;
        assert_eq!(error_code(&r), Some(ErrorCode::Forbidden), "{user:?}");
        let r = c.request(withdraw()).await;
        assert_eq!(error_code(&r), Some(ErrorCode::Forbidden), "{user:?}");
    }
    let mut anon = gw.connect(None).await;
    anon.join("r1").await;
    let r = anon.request(push("欢迎来到直播间")).await;
    assert_eq!(error_code(&r), Some(ErrorCode::Unauthenticated));
    // Only in a live room.
    let mut anchor = gw.connect(Some("anna")).await;
    anchor.join("r2").await;
    let r = anchor.request(push("欢迎来到直播间")).await;
    assert_eq!(error_code(&r), Some(ErrorCode::RoomNotLive));
}

#[tokio::test]
async fn two_nodes_push_one_at_a_time_and_expire_once() {
    if test_backend() == "memory" {
        eprintln!("SKIPPED: needs a Redis backend (GATEWAY_TEST_BACKEND=redis or cluster)");
        return;
    }
    let a = TestGateway::start_with(|s| {
        s.notice_show_ms = 800;
        s.timer_interval_ms = 20;
    })
    .await;
    let b = a.start_peer().await;
    a.room("r1", "anna", true).await;
    let mut on_a = a.connect(Some("anna")).await;
    on_a.join("r1").await;
    let mut on_b = b.connect(Some("anna")).await;
    on_b.join("r1").await;
    let (mut va, mut vb) = (a.connect(None).await, b.connect(None).await);
    va.join("r1").await;
    vb.join("r1").await;
    // Both nodes push at once: exactly one wins.
    let (ra, rb) = tokio::join!(
        on_a.request(push("节点甲的公告")),
        on_b.request(push("节点乙的公告"))
    );
    let wins = [&ra, &rb]
        .iter()
        .filter(|r| matches!(r, ServerFrame::Ack(_)))
        .count();
    assert_eq!(wins, 1, "{ra:?} {rb:?}");
    let loser = if matches!(ra, ServerFrame::Ack(_)) {
        &rb
    } else {
        &ra
    };
    assert_eq!(refusal(loser).0, ErrorCode::NoticeShowing);
    // Both timers look at the room; the notice expires once, on both nodes.
    for v in [&mut va, &mut vb] {
        let got = v
            .events_until(|e| notices(e).contains(&(NoticeAction::Expired, 1)))
            .await;
        assert_eq!(
            notices(&got),
            vec![(NoticeAction::Pushed, 1), (NoticeAction::Expired, 1)]
        );
    }
    // The next push (from b) shows on a, with no second expiry between.
    assert_eq!(pushed(&on_b.request(push("第二条公告")).await).id, 2);
    let got = va
        .events_until(|e| notices(e).contains(&(NoticeAction::Pushed, 2)))
        .await;
    assert_eq!(notices(&got), vec![(NoticeAction::Pushed, 2)]);
}
