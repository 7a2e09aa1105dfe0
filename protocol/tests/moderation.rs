//! The moderation frames: round trips in both codecs, the JSON shapes
//! docs/protocol.md shows, optional fields, and the appended binary indexes
//! (existing variants keep theirs).

use protocol::*;

fn requests() -> Vec<Request> {
    vec![
        Request::DeleteComment(DeleteComment {
            offset: 42,
            reason: Some("spam".into()),
        }),
        Request::Mute(Mute {
            user: "troll".into(),
            duration_s: Some(600),
            shadow: true,
            reason: None,
        }),
        Request::Unmute(Unmute {
            user: "troll".into(),
        }),
        Request::SetRole(SetRole {
            user: "helen".into(),
            role: Role::Assistant,
            nick: Some("小助手".into()),
        }),
        Request::Switch(Switch {
            comments: Some(false),
        }),
        Request::Words(Words {
            add: vec![WordEntry {
                word: "竞品".into(),
                category: "ads".into(),
            }],
            remove: vec!["旧词".into()],
        }),
    ]
}

#[test]
fn allow_words_is_appended_as_request_16_and_round_trips() {
    let r = Request::AllowWords(AllowWords {
        add: vec!["大麻花".into()],
        remove: vec!["旧词".into()],
    });
    let bytes = postcard::to_allocvec(&r).unwrap();
    assert_eq!(bytes[0], 16);
    assert_eq!(postcard::from_bytes::<Request>(&bytes).unwrap(), r);
    let json = r#"{"type":"allow_words","id":"a1","add":["大麻花"],"remove":["旧词"]}"#;
    let f = Codec::Json.decode_client(json.as_bytes());
    assert!(
        matches!(f, Ok(ClientFrame { request: ref q, .. }) if *q == r),
        "{f:?}"
    );
}

#[test]
fn moderation_requests_round_trip_in_both_codecs() {
    for codec in [Codec::Json, Codec::Binary] {
        for request in requests() {
            let f = ClientFrame {
                id: Some(RequestId("m".into())),
                request,
            };
            assert_eq!(codec.decode_client(&codec.encode_client(&f)).unwrap(), f);
        }
    }
}

#[test]
fn optional_fields_may_be_left_out_in_json() {
    let f = Codec::Json
        .decode_client(br#"{"type":"mute","user":"troll"}"#)
        .unwrap();
    assert_eq!(
        f.request,
        Request::Mute(Mute {
            user: "troll".into(),
            duration_s: None,
            shadow: false,
            reason: None,
        })
    );
    let f = Codec::Json
        .decode_client(br#"{"type":"delete_comment","offset":3}"#)
        .unwrap();
    assert!(matches!(
        f.request,
        Request::DeleteComment(DeleteComment { offset: 3, .. })
    ));
    let f = Codec::Json
        .decode_client(br#"{"type":"set_role","user":"s","role":"sub_anchor"}"#)
        .unwrap();
    assert!(matches!(
        f.request,
        Request::SetRole(SetRole {
            role: Role::SubAnchor,
            nick: None,
            ..
        })
    ));
}

#[test]
fn moderation_events_are_high_lane_and_flat_in_json() {
    let deleted = RoomEvent {
        offset: 44,
        ts: 1,
        kind: EventKind::CommentDeleted(CommentDeleted { offsets: vec![42] }),
    };
    let purged = RoomEvent {
        offset: 45,
        ts: 2,
        kind: EventKind::UserPurged(UserPurged {
            user: "troll".into(),
            offsets: vec![12, 30],
        }),
    };
    assert_eq!(deleted.lane(), Lane::High);
    assert_eq!(purged.lane(), Lane::High);
    let v = serde_json::to_value(&deleted).unwrap();
    assert_eq!(v["type"], "comment_deleted");
    assert_eq!(v["offsets"][0], 42);
    let v = serde_json::to_value(&purged).unwrap();
    assert_eq!(v["type"], "user_purged");
    assert_eq!(v["user"], "troll");
    for e in [deleted, purged] {
        let bytes = postcard::to_allocvec(&e).unwrap();
        assert_eq!(postcard::from_bytes::<RoomEvent>(&bytes).unwrap(), e);
    }
}

#[test]
fn new_variants_are_appended_so_old_indexes_hold() {
    // postcard writes the variant index first: `live` stays 6, the
    // moderation requests follow it; `switches` stays 2 among event kinds.
    let live = postcard::to_allocvec(&Request::Live(Live {
        action: LiveAction::End,
    }))
    .unwrap();
    assert_eq!(live[0], 6);
    for (i, r) in requests().iter().enumerate() {
        assert_eq!(postcard::to_allocvec(r).unwrap()[0] as usize, 7 + i);
    }
    let sw = postcard::to_allocvec(&EventKind::Switches(Switches::default())).unwrap();
    assert_eq!(sw[0], 2);
    let del = postcard::to_allocvec(&EventKind::CommentDeleted(CommentDeleted {
        offsets: vec![],
    }))
    .unwrap();
    assert_eq!(del[0], 3);
    assert_eq!(
        postcard::to_allocvec(&ErrorCode::Muted).unwrap()[0],
        20,
        "error codes are appended after conflict (19)"
    );
}
