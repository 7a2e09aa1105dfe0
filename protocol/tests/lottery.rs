//! The lottery frames: round trips in both codecs, the JSON shapes
//! docs/protocol.md shows, and their appended binary indexes.
#![allow(clippy::unwrap_used, missing_docs)]

use protocol::*;

fn create() -> Request {
    Request::LotteryCreate(LotteryTerms {
        kind: LotteryKind::Comment,
        keyword: Some("抽奖".into()),
        duration_s: 300,
        winners: 3,
        prize: "Tea set".into(),
        rules: "Comment 抽奖; 3 winners.".into(),
    })
}

fn start() -> Request {
    Request::LotteryStart(LotteryStart {
        lottery: "lot-1".into(),
    })
}

fn drawn() -> RoomEvent {
    let mut e = LotteryEvent::new("lot-1", LotteryState::Drawn);
    e.commitment = Some(LotteryCommitment {
        root: "ab".repeat(32),
        count: 9,
        announcement_hash: "01".repeat(32),
    });
    e.winners = vec![LotteryWinner {
        user: "u10".into(),
        code: "CY5TBNRXXX".into(),
    }];
    e.announcement = Some(LotteryAnnouncement {
        window_start_ms: 1,
        window_end_ms: 2,
        public_key: "cd".repeat(32),
        signature: "ef".repeat(64),
        announcement_hash: "01".repeat(32),
        beacon: None,
    });
    RoomEvent {
        offset: 61,
        ts: 1_795_238_300_019,
        kind: EventKind::Lottery(Box::new(e)),
    }
}

#[test]
fn lottery_frames_round_trip_in_both_codecs() {
    for codec in [Codec::Json, Codec::Binary] {
        for request in [create(), start()] {
            let f = ClientFrame {
                id: Some(RequestId("l".into())),
                request,
            };
            assert_eq!(codec.decode_client(&codec.encode_client(&f)).unwrap(), f);
        }
    }
    let e = drawn();
    let json = serde_json::to_string(&e).unwrap();
    assert_eq!(serde_json::from_str::<RoomEvent>(&json).unwrap(), e);
    let bytes = postcard::to_allocvec(&e).unwrap();
    assert_eq!(postcard::from_bytes::<RoomEvent>(&bytes).unwrap(), e);
}

#[test]
fn json_shapes_of_the_protocol_doc() {
    let f = Codec::Json
        .decode_client(br#"{"type":"lottery_create","id":"l1","kind":"like","duration_s":60,"winners":1,"prize":"Cup"}"#)
        .unwrap();
    assert!(matches!(
        f.request,
        Request::LotteryCreate(LotteryTerms { kind: LotteryKind::Like, keyword: None, ref rules, .. }) if rules.is_empty()
    ));
    let f = Codec::Json
        .decode_client(br#"{"type":"lottery_start","lottery":"lot-1"}"#)
        .unwrap();
    assert_eq!(f.request, start());
    let json = serde_json::to_value(drawn()).unwrap();
    assert_eq!(json["type"], "lottery");
    assert_eq!(json["state"], "drawn");
    assert_eq!(json["winners"][0]["code"], "CY5TBNRXXX");
    assert_eq!(json["commitment"]["count"], 9);
}

#[test]
fn lottery_variants_are_appended() {
    assert_eq!(postcard::to_allocvec(&create()).unwrap()[0], 13);
    assert_eq!(postcard::to_allocvec(&start()).unwrap()[0], 14);
    assert_eq!(postcard::to_allocvec(&drawn().kind).unwrap()[0], 5);
    assert_eq!(
        postcard::to_allocvec(&ErrorCode::LotteryLimit).unwrap()[0],
        24
    );
    assert_eq!(ErrorCode::LotteryLimit.as_str(), "lottery_limit");
}
