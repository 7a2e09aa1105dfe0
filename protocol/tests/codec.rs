//! Round trips of every frame through both codecs, and the JSON shapes that
//! docs/protocol.md promises.

use protocol::*;

fn frames() -> Vec<ServerFrame> {
    let comment = RoomEvent {
        offset: 7,
        ts: 1_700_000_000_000,
        kind: EventKind::Comment(Comment {
            user: "u1".into(),
            nick: "Ann".into(),
            text: "多少钱".into(),
            role: Role::Viewer,
        }),
    };
    let status = RoomEvent {
        offset: 8,
        ts: 1_700_000_000_001,
        kind: EventKind::Status(StatusChanged {
            status: RoomStatus::Paused,
            reason: None,
        }),
    };
    vec![
        ServerFrame::Hello(Hello {
            session: "s1".into(),
            user: None,
            heartbeat_ms: 25_000,
            idle_timeout_ms: 60_000,
            max_frame_bytes: 8192,
            max_comment_chars: 100,
        }),
        ServerFrame::Batch(Batch {
            room: "r1".into(),
            epoch: "e".into(),
            lane: Lane::Low,
            since: 6,
            upto: 8,
            events: vec![comment.clone(), status],
            totals: Some(Totals::default()),
        }),
        ServerFrame::Ack(Ack {
            id: Some(RequestId("9".into())),
            event: Some(comment),
            status: Some(RoomStatus::Live),
        }),
        ServerFrame::Error(event::ErrorReply::new(None, Rejection::rate_limited(250))),
    ]
}

#[test]
fn server_frames_round_trip_in_both_codecs() {
    for codec in [Codec::Json, Codec::Binary] {
        for f in frames() {
            let bytes = codec.encode_server(&f);
            assert_eq!(codec.decode_server(&bytes).unwrap(), f, "{codec:?}");
        }
    }
}

#[test]
fn binary_is_smaller_than_json() {
    for f in frames() {
        assert!(Codec::Binary.encode_server(&f).len() < Codec::Json.encode_server(&f).len());
    }
}

#[test]
fn json_shapes_are_flat_and_tagged() {
    let v: serde_json::Value =
        serde_json::from_slice(&Codec::Json.encode_server(&frames()[1])).unwrap();
    assert_eq!(v["type"], "events");
    assert_eq!(v["events"][0]["type"], "comment");
    assert_eq!(v["events"][0]["offset"], 7);
    assert_eq!(v["events"][0]["role"], "viewer");
    assert_eq!(v["events"][1]["status"], 105);
    let e: serde_json::Value =
        serde_json::from_slice(&Codec::Json.encode_server(&frames()[3])).unwrap();
    assert_eq!(e["code"], "rate_limited");
    assert_eq!(e["retry_after_ms"], 250);
}

#[test]
fn client_frames_decode_with_string_or_number_ids() {
    let f = Codec::Json
        .decode_client(br#"{"type":"comment","id":42,"text":"hi"}"#)
        .unwrap();
    assert_eq!(f.id, Some(RequestId("42".into())));
    assert_eq!(
        f.request,
        Request::Comment(PostComment { text: "hi".into() })
    );
    let f = Codec::Json.decode_client(br#"{"type":"like"}"#).unwrap();
    assert_eq!(f.request, Request::Like(Like { count: 1 }));
    let f = Codec::Json
        .decode_client(br#"{"type":"join","room":"r1","resume":{"epoch":"e","offset":3}}"#)
        .unwrap();
    assert!(matches!(
        f.request,
        Request::Join(Join {
            resume: Some(_),
            ..
        })
    ));
}

#[test]
fn client_frames_round_trip_in_both_codecs() {
    let f = ClientFrame {
        id: Some(RequestId("a".into())),
        request: Request::Live(Live {
            action: LiveAction::Pause,
        }),
    };
    for codec in [Codec::Json, Codec::Binary] {
        assert_eq!(codec.decode_client(&codec.encode_client(&f)).unwrap(), f);
    }
}

#[test]
fn bad_frames_map_to_stable_codes() {
    let unknown = Codec::Json.decode_client(br#"{"type":"fly"}"#).unwrap_err();
    assert_eq!(unknown.rejection().code, ErrorCode::UnknownType);
    let junk = Codec::Json.decode_client(b"not json").unwrap_err();
    assert_eq!(junk.rejection().code, ErrorCode::Malformed);
    let missing = Codec::Json
        .decode_client(br#"{"type":"comment"}"#)
        .unwrap_err();
    assert_eq!(missing.rejection().code, ErrorCode::Malformed);
    let bin = Codec::Binary
        .decode_client(&[0xff, 0xff, 0xff])
        .unwrap_err();
    assert_eq!(bin.rejection().code, ErrorCode::Malformed);
}

#[test]
fn subprotocol_negotiation_picks_the_first_known() {
    assert_eq!(
        Codec::from_subprotocols("foo, live.postcard.v1, live.json.v1"),
        Some(Codec::Binary)
    );
    assert_eq!(Codec::from_subprotocols("foo"), None);
}

#[test]
fn an_unknown_enum_value_in_a_known_request_is_invalid() {
    let e = Codec::Json
        .decode_client(br#"{"type":"live","id":"a","action":"fly"}"#)
        .unwrap_err();
    assert_eq!(e.rejection().code, ErrorCode::Invalid);
    assert_eq!(e.id(), Some(&RequestId("a".into())));
    let e = Codec::Json
        .decode_client(br#"{"type":"live","action":5}"#)
        .unwrap_err();
    assert_eq!(e.rejection().code, ErrorCode::Malformed);
    let e = Codec::Binary
        .decode_client(&[0x01, 0x01, b'q', 0x06, 0x09])
        .unwrap_err();
    assert_eq!(e.rejection().code, ErrorCode::Invalid, "{e:?}");
    assert_eq!(e.id(), Some(&RequestId("q".into())));
    // An unknown request index stays malformed.
    let e = Codec::Binary.decode_client(&[0x00, 0x40]).unwrap_err();
    assert_eq!(e.rejection().code, ErrorCode::Malformed);
}
