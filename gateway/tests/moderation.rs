//! Moderation through the gateway on every backend: roles, deleting
//! comments, mutes (purge, timed, shadow), the comment switch, slow mode,
//! the per-user comment rate, the per-IP connection cap and the audit log.
#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use common::*;
use protocol::*;
use serde_json::json;

fn offset_of(f: &ServerFrame) -> u64 {
    match f {
        ServerFrame::Ack(Ack { event: Some(e), .. }) => e.offset,
        other => panic!("expected an ack with an event, got {other:?}"),
    }
}

fn err(f: &ServerFrame) -> &event::ErrorReply {
    match f {
        ServerFrame::Error(e) => e,
        other => panic!("expected an error, got {other:?}"),
    }
}

fn is_ack(f: &ServerFrame) -> bool {
    matches!(f, ServerFrame::Ack(_))
}

async fn assistant(gw: &TestGateway, room: &str, user: &str, nick: &str) {
    let (st, body) = gw
        .api(
            "PUT",
            &format!("/api/rooms/{room}/roles/{user}"),
            Some(json!({"role": "assistant", "nick": nick})),
        )
        .await;
    assert_eq!(st, 200, "{body}");
}

fn mute(user: &str, duration_s: Option<u64>, shadow: bool) -> Request {
    Request::Mute(Mute {
        user: user.into(),
        duration_s,
        shadow,
        reason: Some("spam".into()),
    })
}

#[tokio::test]
async fn roles_are_assigned_by_admin_and_anchor_and_badge_assistant_comments() {
    let gw = TestGateway::start().await;
    gw.room("r1", "anna", true).await;
    assistant(&gw, "r1", "helen", "小助手").await;
    let mut anchor = gw.connect(Some("anna")).await;
    anchor.join("r1").await;
    let set = |user: &str, role| {
        Request::SetRole(SetRole {
            user: user.into(),
            role,
            nick: None,
        })
    };
    assert!(is_ack(&anchor.request(set("sam", Role::SubAnchor)).await));
    let mut sam = gw.connect(Some("sam")).await;
    assert_eq!(sam.join("r1").await.role, Role::SubAnchor);
    // The sub-anchor manages assistants but not the sub-anchor, and cannot end the live.
    assert!(is_ack(&sam.request(set("amy", Role::Assistant)).await));
    let r = sam.request(set("zed", Role::SubAnchor)).await;
    assert_eq!(err(&r).code, ErrorCode::Forbidden);
    let r = sam
        .request(Request::Live(Live {
            action: LiveAction::End,
        }))
        .await;
    assert_eq!(err(&r).code, ErrorCode::Forbidden);
    // A viewer can do none of it.
    let mut v = gw.connect(Some("vic")).await;
    v.join("r1").await;
    assert_eq!(
        err(&v.request(set("x", Role::Assistant)).await).code,
        ErrorCode::Forbidden
    );
    // Assistant comments carry the nickname and the badge.
    let mut helen = gw.connect(Some("helen")).await;
    assert_eq!(helen.join("r1").await.role, Role::Assistant);
    helen.comment("官方提示").await;
    let got = v.events_until(|e| !comment_texts(e).is_empty()).await;
    let EventKind::Comment(c) = &got[0].kind else {
        panic!("{got:?}")
    };
    assert_eq!((c.nick.as_str(), c.role), ("小助手", Role::Assistant));
    // At most 10 assistants.
    for i in 0..8 {
        assistant(&gw, "r1", &format!("a{i}"), "n").await;
    }
    let (st, body) = gw
        .api(
            "PUT",
            "/api/rooms/r1/roles/a99",
            Some(json!({"role": "assistant"})),
        )
        .await;
    assert_eq!(
        (st, body["code"].as_str()),
        (409, Some("conflict")),
        "{body}"
    );
    let (st, body) = gw.api("GET", "/api/rooms/r1/roles", None).await;
    assert_eq!(st, 200);
    assert_eq!(body["assistants"].as_array().unwrap().len(), 10);
    assert_eq!(body["sub_anchor"], "sam");
    // Removing a role takes effect on the next request.
    let (st, _) = gw.api("DELETE", "/api/rooms/r1/roles/sam", None).await;
    assert_eq!(st, 200);
    assert_eq!(
        err(&sam.request(set("a0", Role::Viewer)).await).code,
        ErrorCode::Forbidden
    );
}

#[tokio::test]
async fn a_deleted_comment_is_gone_for_viewers_snapshots_and_replays() {
    let gw = TestGateway::start().await;
    gw.room("r1", "anna", true).await;
    assistant(&gw, "r1", "helen", "h").await;
    let mut alice = gw.connect(Some("alice")).await;
    let joined = alice.join("r1").await;
    let mut bob = gw.connect(Some("bob")).await;
    bob.join("r1").await;
    let bad = offset_of(&alice.comment("bad one").await);
    alice.comment("good one").await;
    bob.events_until(|e| comment_texts(e).len() == 2).await;
    // Viewers may not delete.
    let del = Request::DeleteComment(DeleteComment {
        offset: bad,
        reason: None,
    });
    assert_eq!(
        err(&alice.request(del.clone()).await).code,
        ErrorCode::Forbidden
    );
    let mut helen = gw.connect(Some("helen")).await;
    helen.join("r1").await;
    assert!(is_ack(&helen.request(del.clone()).await));
    let got = bob
        .events_until(|e| {
            e.iter()
                .any(|e| matches!(e.kind, EventKind::CommentDeleted(_)))
        })
        .await;
    let deleted = got.iter().find_map(|e| match &e.kind {
        EventKind::CommentDeleted(d) => Some(d.offsets.clone()),
        _ => None,
    });
    assert_eq!(deleted, Some(vec![bad]));
    // Not a comment there (any more? still there in the log, but a status event is not).
    let r = helen
        .request(Request::DeleteComment(DeleteComment {
            offset: 999_999,
            reason: None,
        }))
        .await;
    assert_eq!(err(&r).code, ErrorCode::NotFound);
    let mut carol = gw.connect(Some("carol")).await;
    assert_eq!(comment_texts(&carol.join("r1").await.recent), ["good one"]);
    let r = carol
        .request(Request::Join(Join {
            room: "r1".into(),
            resume: Some(Resume {
                epoch: joined.epoch.clone(),
                offset: joined.offset,
            }),
        }))
        .await;
    let ServerFrame::Joined(j) = r else {
        panic!("{r:?}")
    };
    assert_eq!(j.recovered, Some(true));
    assert_eq!(comment_texts(&j.missed), ["good one"]);
    // The admin API deletes too.
    let (st, body) = gw
        .api("DELETE", "/api/rooms/r1/comments/999999", None)
        .await;
    assert_eq!((st, body["code"].as_str()), (404, Some("not_found")));
}

#[tokio::test]
async fn a_mute_purges_and_refuses_comments_until_unmuted() {
    let gw = TestGateway::start().await;
    gw.room("r1", "anna", true).await;
    let mut anchor = gw.connect(Some("anna")).await;
    anchor.join("r1").await;
    let mut troll = gw.connect(Some("troll")).await;
    troll.join("r1").await;
    let mut bob = gw.connect(Some("bob")).await;
    bob.join("r1").await;
    let o1 = offset_of(&troll.comment("spam 1").await);
    bob.comment("hello").await;
    let o2 = offset_of(&troll.comment("spam 2").await);
    bob.events_until(|e| comment_texts(e).len() == 3).await;
    // Moderators cannot be muted; viewers cannot mute.
    assert_eq!(
        err(&bob.request(mute("troll", None, false)).await).code,
        ErrorCode::Forbidden
    );
    assert_eq!(
        err(&anchor.request(mute("anna", None, false)).await).code,
        ErrorCode::Forbidden
    );
    assert!(is_ack(&anchor.request(mute("troll", None, false)).await));
    let got = bob
        .events_until(|e| e.iter().any(|e| matches!(e.kind, EventKind::UserPurged(_))))
        .await;
    let purged = got.iter().find_map(|e| match &e.kind {
        EventKind::UserPurged(p) => Some(p.clone()),
        _ => None,
    });
    assert_eq!(
        purged,
        Some(UserPurged {
            user: "troll".into(),
            offsets: vec![o1, o2]
        })
    );
    let r = troll.comment("more spam").await;
    assert_eq!(
        (err(&r).code, err(&r).retry_after_ms),
        (ErrorCode::Muted, None)
    );
    let mut carol = gw.connect(Some("carol")).await;
    assert_eq!(comment_texts(&carol.join("r1").await.recent), ["hello"]);
    let (st, body) = gw.api("GET", "/api/rooms/r1/mutes", None).await;
    assert_eq!(st, 200);
    assert_eq!(body[0]["user"], "troll");
    assert_eq!(body[0]["by"], "anna");
    // Unmute restores commenting.
    let unmute = Request::Unmute(Unmute {
        user: "troll".into(),
    });
    assert!(is_ack(&anchor.request(unmute.clone()).await));
    assert_eq!(err(&anchor.request(unmute).await).code, ErrorCode::NotFound);
    assert!(is_ack(&troll.comment("sorry").await));
    let (_, body) = gw.api("GET", "/api/rooms/r1/mutes", None).await;
    assert_eq!(body, json!([]));
}

#[tokio::test]
async fn a_timed_mute_says_when_it_lifts() {
    let gw = TestGateway::start().await;
    gw.room("r1", "anna", true).await;
    let (st, body) = gw
        .api(
            "POST",
            "/api/rooms/r1/mutes",
            Some(json!({"user": "troll", "duration_s": 60})),
        )
        .await;
    assert_eq!(st, 200, "{body}");
    let mut troll = gw.connect(Some("troll")).await;
    troll.join("r1").await;
    let r = troll.comment("hi").await;
    let e = err(&r);
    assert_eq!(e.code, ErrorCode::Muted);
    let wait = e.retry_after_ms.unwrap();
    assert!(wait > 50_000 && wait <= 60_000, "{wait}");
}

#[tokio::test]
async fn a_shadow_muted_user_sees_their_comments_and_nobody_else_does() {
    let gw = TestGateway::start().await;
    gw.room("r1", "anna", true).await;
    let mut anchor = gw.connect(Some("anna")).await;
    anchor.join("r1").await;
    assert!(is_ack(&anchor.request(mute("sly", None, true)).await));
    let mut sly = gw.connect(Some("sly")).await;
    sly.join("r1").await;
    let mut bob = gw.connect(Some("bob")).await;
    bob.join("r1").await;
    let r = sly.comment("buy my stuff").await;
    let ServerFrame::Ack(Ack {
        event: Some(ev), ..
    }) = &r
    else {
        panic!("{r:?}")
    };
    assert_eq!(comment_texts(std::slice::from_ref(ev)), ["buy my stuff"]);
    anchor.comment("welcome").await;
    let got = bob.events_until(|e| !comment_texts(e).is_empty()).await;
    assert_eq!(comment_texts(&got), ["welcome"]);
    let mut carol = gw.connect(Some("carol")).await;
    assert_eq!(comment_texts(&carol.join("r1").await.recent), ["welcome"]);
}

#[tokio::test]
async fn the_anchor_and_sub_anchor_switch_comments_off_for_the_room() {
    let gw = TestGateway::start().await;
    gw.room("r1", "anna", true).await;
    assistant(&gw, "r1", "helen", "h").await;
    let off = Request::Switch(Switch {
        comments: Some(false),
    });
    let mut helen = gw.connect(Some("helen")).await;
    helen.join("r1").await;
    assert_eq!(
        err(&helen.request(off.clone()).await).code,
        ErrorCode::Forbidden
    );
    let mut anchor = gw.connect(Some("anna")).await;
    anchor.join("r1").await;
    assert!(is_ack(&anchor.request(off).await));
    let mut v = gw.connect(Some("vic")).await;
    v.join("r1").await;
    assert_eq!(
        err(&v.comment("hi").await).code,
        ErrorCode::CommentsDisabled
    );
    assert!(is_ack(&anchor.comment("still me").await));
    let on = Request::Switch(Switch {
        comments: Some(true),
    });
    assert!(is_ack(&anchor.request(on).await));
    assert!(is_ack(&v.comment("hi").await));
}

#[tokio::test]
async fn slow_mode_refuses_a_second_comment_with_a_retry_hint() {
    let gw = TestGateway::start().await;
    gw.room("r1", "anna", true).await;
    assistant(&gw, "r1", "helen", "h").await;
    let (st, body) = gw
        .api("PATCH", "/api/rooms/r1", Some(json!({"slow_mode_s": 30})))
        .await;
    assert_eq!(st, 200, "{body}");
    let mut v = gw.connect(Some("vic")).await;
    v.join("r1").await;
    assert!(is_ack(&v.comment("one").await));
    let r = v.comment("two").await;
    let e = err(&r);
    assert_eq!(e.code, ErrorCode::SlowMode);
    let wait = e.retry_after_ms.unwrap();
    assert!(wait > 25_000 && wait <= 30_000, "{wait}");
    let mut helen = gw.connect(Some("helen")).await;
    helen.join("r1").await;
    assert!(is_ack(&helen.comment("one").await));
    assert!(is_ack(&helen.comment("two").await));
}

#[tokio::test]
async fn the_per_user_comment_rate_is_limited_with_a_retry_hint() {
    let gw = TestGateway::start_with(|s| {
        s.comment_rate = 1;
        s.comment_burst = 2;
    })
    .await;
    gw.room("r1", "anna", true).await;
    let mut v = gw.connect(Some("vic")).await;
    v.join("r1").await;
    assert!(is_ack(&v.comment("1").await));
    assert!(is_ack(&v.comment("2").await));
    let r = v.comment("3").await;
    let e = err(&r);
    assert_eq!(e.code, ErrorCode::RateLimited);
    assert!(e.retry_after_ms.unwrap() <= 1000);
    // Another user is not affected.
    let mut w = gw.connect(Some("wendy")).await;
    w.join("r1").await;
    assert!(is_ack(&w.comment("1").await));
}

#[tokio::test]
async fn the_per_ip_connection_rate_refuses_upgrades_with_429() {
    let gw = TestGateway::start_with(|s| {
        s.ip_connect_rate = 1;
        s.ip_connect_burst = 2;
    })
    .await;
    let _a = gw.connect(None).await;
    let _b = gw.connect(None).await;
    let url = format!("ws://{}/ws", gw.addr);
    let refused = tokio_tungstenite::connect_async(url.as_str()).await;
    let Err(tokio_tungstenite::tungstenite::Error::Http(resp)) = refused else {
        panic!("expected an HTTP refusal")
    };
    assert_eq!(resp.status().as_u16(), 429);
    let retry: u64 = resp.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=2).contains(&retry), "{retry}");
}

#[tokio::test]
async fn the_audit_log_records_every_action_with_paging() {
    let gw = TestGateway::start().await;
    gw.room("r1", "anna", true).await;
    let mut anchor = gw.connect(Some("anna")).await;
    anchor.join("r1").await;
    assistant(&gw, "r1", "helen", "h").await;
    let o = offset_of(&anchor.comment("oops").await);
    anchor
        .request(Request::DeleteComment(DeleteComment {
            offset: o,
            reason: Some("typo".into()),
        }))
        .await;
    anchor.request(mute("troll", Some(60), false)).await;
    anchor
        .request(Request::Unmute(Unmute {
            user: "troll".into(),
        }))
        .await;
    anchor
        .request(Request::Switch(Switch {
            comments: Some(false),
        }))
        .await;
    let (st, page) = gw.api("GET", "/api/rooms/r1/audit?limit=2", None).await;
    assert_eq!(st, 200, "{page}");
    assert_eq!(page["total"], 5);
    let actions = |p: &serde_json::Value| -> Vec<String> {
        p["entries"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["action"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(actions(&page), ["switch", "unmute"]);
    let (_, page) = gw
        .api("GET", "/api/rooms/r1/audit?offset=2&limit=2", None)
        .await;
    assert_eq!(actions(&page), ["mute", "delete_comment"]);
    let e = &page["entries"][1];
    assert_eq!(e["actor"], "anna");
    assert_eq!(e["role"], "anchor");
    assert_eq!(e["target"], o.to_string());
    assert_eq!(e["reason"], "typo");
    assert_eq!(e["room"], "r1");
    assert!(e["ts"].as_i64().unwrap() > 0);
    let (_, page) = gw.api("GET", "/api/rooms/r1/audit?offset=4", None).await;
    assert_eq!(actions(&page), ["set_role"]);
    assert_eq!(page["entries"][0]["actor"], "admin");
}

#[tokio::test]
async fn a_hub_filling_a_gap_skips_a_deleted_comment_it_never_received() {
    let gw = TestGateway::start().await;
    gw.room("r1", "anna", true).await;
    let mut v = gw.connect(Some("vic")).await;
    v.join("r1").await;
    // A comment the bus never carried, deleted before the hub asks the log.
    let node = gw.node();
    let store = &node.store;
    let lost = EventKind::Comment(Comment {
        user: "ghost".into(),
        nick: "g".into(),
        text: "never delivered".into(),
        role: Role::Viewer,
    });
    let ev = store
        .append("r1", gateway::clock::now_ms(), lost)
        .await
        .unwrap();
    assert_eq!(
        node.moderation_store
            .delete_comment("r1", ev.offset)
            .await
            .unwrap(),
        gateway::moderation::Deletion::Deleted
    );
    let mut w = gw.connect(Some("wendy")).await;
    w.join("r1").await;
    w.comment("after the gap").await;
    let got = v
        .events_until(|e| comment_texts(e).contains(&"after the gap".to_string()))
        .await;
    // The hub did not stall on the deleted offset. (Its once-a-second resync
    // may have read the ghost comment in the instant before the deletion.)
    assert_eq!(
        comment_texts(&got).last().map(String::as_str),
        Some("after the gap")
    );
}

#[tokio::test]
async fn moderators_list_the_mutes_over_websocket_and_viewers_may_not() {
    let gw = TestGateway::start().await;
    gw.room("r1", "anna", true).await;
    assistant(&gw, "r1", "helen", "小助手").await;
    let mut helen = gw.connect(Some("helen")).await;
    helen.join("r1").await;
    let mut bob = gw.connect(Some("bob")).await;
    bob.join("r1").await;
    assert!(is_ack(&helen.request(mute("zed", Some(60), false)).await));
    assert!(is_ack(&helen.request(mute("amy", None, true)).await));
    let list = Request::Mutes(ListMutes {});
    let reply = helen.request(list.clone()).await;
    let ServerFrame::Mutes(m) = reply else {
        panic!("{reply:?}")
    };
    let users: Vec<&str> = m.mutes.iter().map(|e| e.user.as_str()).collect();
    assert_eq!(users, ["amy", "zed"]);
    assert!(m.mutes[0].shadow && m.mutes[0].until_ms.is_none());
    assert!(!m.mutes[1].shadow && m.mutes[1].until_ms.is_some());
    assert!(m.mutes.iter().all(|e| e.by == "helen"));
    // The same list as the admin API's.
    let (st, body) = gw.api("GET", "/api/rooms/r1/mutes", None).await;
    assert_eq!(st, 200);
    assert_eq!(body.as_array().unwrap().len(), 2);
    let r = bob.request(list).await;
    assert_eq!(err(&r).code, ErrorCode::Forbidden, "{r:?}");
}

#[tokio::test]
async fn the_per_user_comment_rate_holds_over_every_node() {
    let a = TestGateway::start_with(|s| {
        s.comment_rate = 1;
        s.comment_burst = 3;
    })
    .await;
    let b = match test_backend().as_str() {
        "memory" => None,
        _ => Some(a.start_peer().await),
    };
    let b = b.as_ref().unwrap_or(&a);
    a.room("r1", "anna", true).await;
    let mut on_a = a.connect(Some("bob")).await;
    on_a.join("r1").await;
    let mut on_b = b.connect(Some("bob")).await;
    on_b.join("r1").await;
    let burst = |n: usize| {
        (0..n)
            .map(|i| {
                Request::Comment(PostComment {
                    text: format!("c{i}"),
                })
            })
            .collect::<Vec<_>>()
    };
    let started = std::time::Instant::now();
    let mut replies = on_a.pipeline(burst(4)).await;
    replies.extend(on_b.pipeline(burst(4)).await);
    let secs = started.elapsed().as_secs_f64();
    let acked = replies.iter().filter(|r| is_ack(r)).count();
    // Burst 3, plus what 1/s refilled meanwhile: never 3 per node.
    assert!(acked >= 3, "{replies:?}");
    assert!(
        acked as f64 <= 3.0 + secs.ceil(),
        "{acked} acked in {secs:.2}s"
    );
    for r in replies.iter().filter(|r| !is_ack(r)) {
        let e = err(r);
        assert_eq!(e.code, ErrorCode::RateLimited, "{e:?}");
        assert!(
            e.retry_after_ms.is_some_and(|ms| ms > 0 && ms <= 1000),
            "{e:?}"
        );
    }
}
