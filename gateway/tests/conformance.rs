//! The protocol doing what docs/protocol.md says, case by case, through a
//! real WebSocket client: the code of an unknown enum value, field limits
//! before the rate limit, the reply id of an invalid id, invalid UTF-8,
//! the comment budget after quiet and in a fresh room, the close echo,
//! idempotent deletes, resumes beyond the head, the documented audit
//! actions, limits of mute reasons and word lists, and the stats body.
#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use std::time::Duration;

use common::*;
use futures_util::{SinkExt, StreamExt};
use protocol::*;
use serde_json::json;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};
use tokio_tungstenite::tungstenite::protocol::frame::{Frame, FrameHeader};

fn text(s: &str) -> Message {
    Message::Text(s.to_string().into())
}

fn err(f: &ServerFrame) -> &event::ErrorReply {
    match f {
        ServerFrame::Error(e) => e,
        other => panic!("expected an error, got {other:?}"),
    }
}

/// The next frame that is not a room batch (a joined client also gets
/// totals frames).
async fn reply(c: &mut Client) -> ServerFrame {
    loop {
        match c.recv().await {
            Some(ServerFrame::Batch(_)) => {}
            Some(f) => return f,
            None => panic!("closed while awaiting a reply"),
        }
    }
}

#[tokio::test]
async fn an_unknown_enum_value_is_invalid_with_the_id_echoed_and_no_budget_used() {
    let gw = TestGateway::start_with(|s| s.malformed_budget = 2).await;
    gw.room("r1", "anna", true).await;
    let mut c = gw.connect(Some("anna")).await;
    c.join("r1").await;
    let frames = [
        r#"{"type":"live","id":"a1","action":"fly"}"#,
        r#"{"type":"set_role","id":"a2","user":"bob","role":"king"}"#,
        r#"{"type":"lottery_create","id":"a3","kind":"raffle","duration_s":5,"winners":1,"prize":"x"}"#,
        r#"{"type":"live","id":7,"action":"fly"}"#,
    ];
    // More than the malformed budget (2): none of them is malformed.
    for (i, raw) in frames.iter().chain(frames.iter()).enumerate() {
        c.send_raw(text(raw)).await;
        let e = err(&reply(&mut c).await).clone();
        assert_eq!(e.code, ErrorCode::Invalid, "{raw}: {e:?}");
        let want = ["a1", "a2", "a3", "7"][i % 4];
        assert_eq!(e.id.as_ref().map(|i| i.0.as_str()), Some(want), "{raw}");
    }
    // The type naming no request is still unknown_type, with a null id.
    c.send_raw(text(r#"{"type":"fly","id":"x"}"#)).await;
    let e = err(&reply(&mut c).await).clone();
    assert_eq!((e.code, e.id), (ErrorCode::UnknownType, None));
    assert!(matches!(
        c.request(Request::Ping(Ping {})).await,
        ServerFrame::Pong(_)
    ));

    // The same in postcard: `live` (index 6) with action index 9.
    let mut b = Client::connect(&gw, Some(gw.token("anna")), Codec::Binary).await;
    b.send_raw(Message::Binary(vec![0x01, 0x01, b'q', 0x06, 0x09].into()))
        .await;
    let e = err(&reply(&mut b).await).clone();
    assert_eq!(e.code, ErrorCode::Invalid);
    assert_eq!(e.id, Some(RequestId("q".into())));
}

#[tokio::test]
async fn invalid_requests_use_no_request_budget() {
    let gw = TestGateway::start_with(|s| {
        s.request_rate = 1;
        s.request_burst = 5;
    })
    .await;
    let mut c = gw.connect(Some("alice")).await;
    for i in 0..60 {
        let r = c.request(Request::Like(Like { count: 0 })).await;
        assert_eq!(err(&r).code, ErrorCode::Invalid, "frame {i}");
    }
    // Past 60 invalid frames the whole burst is still there.
    for _ in 0..5 {
        assert!(matches!(
            c.request(Request::Ping(Ping {})).await,
            ServerFrame::Pong(_)
        ));
    }
}

#[tokio::test]
async fn an_invalid_request_id_is_not_echoed() {
    let gw = TestGateway::start().await;
    let mut c = gw.connect(None).await;
    let long = "i".repeat(65);
    for raw in [
        r#"{"type":"ping","id":""}"#.to_string(),
        format!(r#"{{"type":"ping","id":"{long}"}}"#),
        format!(r#"{{"type":"live","id":"{long}","action":"fly"}}"#),
    ] {
        c.send_raw(text(&raw)).await;
        let e = err(&reply(&mut c).await).clone();
        assert_eq!((e.code, e.id), (ErrorCode::Invalid, None), "{raw}");
    }
}

#[tokio::test]
async fn a_text_frame_of_invalid_utf8_closes_with_1007() {
    let gw = TestGateway::start().await;
    let mut c = gw.connect(None).await;
    let header = FrameHeader {
        opcode: OpCode::Data(Data::Text),
        ..FrameHeader::default()
    };
    let frame = Frame::from_payload(header, vec![0xff, 0xfe, b'{'].into());
    c.send_raw(Message::Frame(frame)).await;
    assert_eq!(c.closed_with().await, Some(1007));
    assert_eq!(c.close.as_ref().unwrap().1, "invalid UTF-8");
}

#[tokio::test]
async fn a_client_close_is_echoed() {
    let gw = TestGateway::start().await;
    let mut c = gw.connect(None).await;
    c.ws.send(Message::Close(Some(CloseFrame {
        code: 1000.into(),
        reason: "done".into(),
    })))
    .await
    .unwrap();
    let mut echoed = None;
    while let Ok(Some(Ok(m))) = tokio::time::timeout(Duration::from_secs(5), c.ws.next()).await {
        if let Message::Close(f) = m {
            echoed = f.map(|f| (u16::from(f.code), f.reason.to_string()));
            break;
        }
    }
    assert_eq!(echoed, Some((1000, "done".to_string())));
    // A Close without a code gets an empty Close back.
    let mut c = gw.connect(None).await;
    c.ws.send(Message::Close(None)).await.unwrap();
    let mut answered = false;
    while let Ok(Some(Ok(m))) = tokio::time::timeout(Duration::from_secs(5), c.ws.next()).await {
        if let Message::Close(f) = m {
            assert!(f.is_none(), "{f:?}");
            answered = true;
            break;
        }
    }
    assert!(answered, "no Close came back");
}

/// The comments a viewer receives within `wait`.
async fn comments_within(c: &mut Client, wait: Duration) -> Vec<String> {
    let mut got = vec![];
    let deadline = tokio::time::Instant::now() + wait;
    while let Ok(Some(f)) = tokio::time::timeout_at(deadline, c.recv()).await {
        if let ServerFrame::Batch(b) = f {
            got.extend(comment_texts(&b.events));
        }
    }
    got
}

#[tokio::test]
async fn spare_comment_budget_carries_over_after_quiet_and_starts_full() {
    let gw = TestGateway::start_with(|s| {
        s.comment_burst = 50;
        s.comment_rate = 50;
    })
    .await;
    gw.room("r1", "anna", true).await;
    let mut v = gw.connect(Some("viewer")).await;
    v.join("r1").await;
    let mut s = gw.connect(Some("sender")).await;
    s.join("r1").await;
    let burst = |from: usize| -> Vec<Request> {
        (from..from + 8)
            .map(|i| {
                Request::Comment(PostComment {
                    text: format!("c{i}"),
                })
            })
            .collect()
    };
    // A fresh room: the first second's budget (20) is all there.
    for r in s.pipeline(burst(0)).await {
        assert!(matches!(r, ServerFrame::Ack(_)), "{r:?}");
    }
    let got = comments_within(&mut v, Duration::from_millis(800)).await;
    assert_eq!(got.len(), 8, "{got:?}");
    // 1.5 s of quiet, then 8 in one tick: all 8 arrive.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    for r in s.pipeline(burst(8)).await {
        assert!(matches!(r, ServerFrame::Ack(_)), "{r:?}");
    }
    let got = comments_within(&mut v, Duration::from_millis(800)).await;
    assert_eq!(got.len(), 8, "{got:?}");
}

#[tokio::test]
async fn deleting_a_deleted_comment_changes_nothing() {
    let gw = TestGateway::start().await;
    gw.room("r1", "anna", true).await;
    let mut a = gw.connect(Some("anna")).await;
    a.join("r1").await;
    let mut v = gw.connect(Some("viewer")).await;
    v.join("r1").await;
    let offset = match a.comment("oops").await {
        ServerFrame::Ack(Ack { event: Some(e), .. }) => e.offset,
        other => panic!("{other:?}"),
    };
    let delete = || {
        Request::DeleteComment(DeleteComment {
            offset,
            reason: None,
        })
    };
    assert!(matches!(a.request(delete()).await, ServerFrame::Ack(_)));
    assert!(matches!(a.request(delete()).await, ServerFrame::Ack(_)));
    let (st, _) = gw
        .api("DELETE", &format!("/api/rooms/r1/comments/{offset}"), None)
        .await;
    assert_eq!(st, 200);
    // A later comment marks the end of what the viewer is sent.
    a.comment("after").await;
    let got = v
        .events_until(|e| comment_texts(e).contains(&"after".to_string()))
        .await;
    let deletions = got
        .iter()
        .filter(|e| matches!(e.kind, EventKind::CommentDeleted(_)))
        .count();
    assert_eq!(deletions, 1, "{got:?}");
    let (_, page) = gw.api("GET", "/api/rooms/r1/audit", None).await;
    assert_eq!(page["total"], 1, "{page}");
    // An offset that never held a comment is still not_found.
    let r = a
        .request(Request::DeleteComment(DeleteComment {
            offset: 9999,
            reason: None,
        }))
        .await;
    assert_eq!(err(&r).code, ErrorCode::NotFound);
}

#[tokio::test]
async fn a_resume_beyond_the_head_is_not_recovered() {
    let gw = TestGateway::start().await;
    gw.room("r1", "anna", true).await;
    let mut c = gw.connect(Some("viewer")).await;
    let j = c.join("r1").await;
    let r = c
        .request(Request::Join(Join {
            room: "r1".into(),
            resume: Some(Resume {
                epoch: j.epoch.clone(),
                offset: j.offset + 1000,
            }),
        }))
        .await;
    match r {
        ServerFrame::Joined(again) => {
            assert_eq!(again.recovered, Some(false));
            assert_eq!(again.offset, j.offset);
            assert!(again.missed.is_empty());
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn audit_actions_are_the_documented_strings() {
    let gw = TestGateway::start().await;
    gw.room("r1", "anna", true).await;
    let mut a = gw.connect(Some("anna")).await;
    a.join("r1").await;
    let offset = match a.comment("x").await {
        ServerFrame::Ack(Ack { event: Some(e), .. }) => e.offset,
        other => panic!("{other:?}"),
    };
    let mute = |user: &str, shadow| {
        Request::Mute(Mute {
            user: user.into(),
            duration_s: None,
            shadow,
            reason: Some("r".into()),
        })
    };
    let requests = vec![
        Request::DeleteComment(DeleteComment {
            offset,
            reason: None,
        }),
        mute("t1", false),
        mute("t2", true),
        Request::Unmute(Unmute { user: "t1".into() }),
        Request::Switch(Switch {
            comments: Some(false),
        }),
        Request::SetRole(SetRole {
            user: "helen".into(),
            role: Role::Assistant,
            nick: None,
        }),
        Request::SetRole(SetRole {
            user: "helen".into(),
            role: Role::Viewer,
            nick: None,
        }),
        Request::Words(Words {
            add: vec![WordEntry {
                word: "竞品".into(),
                category: "ads".into(),
            }],
            remove: vec![],
        }),
    ];
    for r in requests {
        let reply = a.request(r).await;
        assert!(matches!(reply, ServerFrame::Ack(_)), "{reply:?}");
    }
    let (st, _) = gw
        .api("PATCH", "/api/rooms/r1", Some(json!({"slow_mode_s": 5})))
        .await;
    assert_eq!(st, 200);
    let (_, page) = gw.api("GET", "/api/rooms/r1/audit", None).await;
    let mut actions: Vec<String> = page["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_string())
        .collect();
    actions.reverse();
    assert_eq!(
        actions,
        [
            "delete_comment",
            "mute",
            "shadow_mute",
            "unmute",
            "switch",
            "set_role",
            "remove_role",
            "words",
            "patch_room"
        ]
    );
    let roles: Vec<&str> = page["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "set_role" || e["action"] == "remove_role")
        .map(|e| e["reason"].as_str().unwrap())
        .collect();
    assert_eq!(roles, ["viewer", "assistant"]);
}

#[tokio::test]
async fn mute_reasons_and_word_lists_have_their_limits() {
    let gw = TestGateway::start().await;
    gw.room("r1", "anna", true).await;
    let mut a = gw.connect(Some("anna")).await;
    a.join("r1").await;
    let mute = |reason: String| {
        Request::Mute(Mute {
            user: "troll".into(),
            duration_s: None,
            shadow: false,
            reason: Some(reason),
        })
    };
    let r = a.request(mute("长".repeat(201))).await;
    assert_eq!(err(&r).code, ErrorCode::Invalid);
    assert!(matches!(
        a.request(mute("长".repeat(200))).await,
        ServerFrame::Ack(_)
    ));
    let words: Vec<_> = (0..10_001)
        .map(|i| json!({"word": format!("w{i}"), "category": "ads"}))
        .collect();
    let (st, body) = gw
        .api("POST", "/api/rooms/r1/words", Some(json!({"add": words})))
        .await;
    assert_eq!(
        (st, body["code"].as_str()),
        (400, Some("invalid")),
        "{body}"
    );
}

#[tokio::test]
async fn ids_outside_the_alphabet_are_refused() {
    let gw = TestGateway::start().await;
    for id in ["}x", "a}b", "{r}", "*", "a/b"] {
        let (st, body) = gw
            .api(
                "POST",
                "/api/rooms",
                Some(json!({"id": id, "anchor": "a", "planned_start": 0, "planned_end": 5})),
            )
            .await;
        assert_eq!((st, body["code"].as_str()), (400, Some("invalid")), "{id}");
    }
    let mut c = gw.connect(None).await;
    let r = c
        .request(Request::Join(Join {
            room: "a}b".into(),
            resume: None,
        }))
        .await;
    assert_eq!(err(&r).code, ErrorCode::Invalid);
}

#[tokio::test]
async fn invisible_and_bidi_texts_are_refused() {
    let gw = TestGateway::start().await;
    gw.room("r1", "anna", true).await;
    let mut c = gw.connect(Some("alice")).await;
    c.join("r1").await;
    for t in [
        "\u{200B}".repeat(100),
        "\u{0301}\u{0302}".to_string(),
        "abc\u{202E}cba".to_string(),
        "x\u{2067}y".to_string(),
    ] {
        assert_eq!(err(&c.comment(&t).await).code, ErrorCode::Invalid, "{t:?}");
    }
    let (st, body) = gw
        .api(
            "POST",
            "/api/tokens",
            Some(json!({"user": "mallory", "name": "adm\u{202E}nim"})),
        )
        .await;
    assert_eq!(
        (st, body["code"].as_str()),
        (400, Some("invalid")),
        "{body}"
    );
}

#[tokio::test]
async fn stats_carry_the_documented_fields() {
    let gw = TestGateway::start().await;
    gw.room("r1", "anna", true).await;
    let mut a = gw.connect(Some("anna")).await;
    a.join("r1").await;
    let mut body = serde_json::Value::Null;
    for _ in 0..50 {
        let (st, b) = gw.api("GET", "/api/rooms/r1/stats", None).await;
        assert_eq!(st, 200);
        body = b;
        if body["anchors_online"] == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut keys: Vec<&str> = body
        .as_object()
        .unwrap()
        .keys()
        .map(|k| k.as_str())
        .collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "anchors_online",
            "reminder_subscribers",
            "room",
            "status",
            "totals"
        ]
    );
    assert_eq!(body["reminder_subscribers"], 0, "{body}");
    assert_eq!(body["anchors_online"], 1, "{body}");
}
