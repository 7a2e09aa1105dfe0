//! Property tests of both codecs: any client frame and any server frame
//! encodes and decodes back to the same value, in JSON and in postcard.
//! The strategies below build every request, every server frame and every
//! room event kind with arbitrary strings and numbers.
#![allow(clippy::unwrap_used, missing_docs)]

use proptest::collection::vec;
use proptest::option::of;
use proptest::prelude::*;
use protocol::*;

/// Any text, newlines and non-BMP characters included, kept short.
fn text() -> impl Strategy<Value = String> {
    "(?s).{0,12}"
}

fn pick<T: Clone + std::fmt::Debug + 'static>(all: &[T]) -> impl Strategy<Value = T> + use<T> {
    proptest::sample::select(all.to_vec())
}

fn role() -> impl Strategy<Value = Role> {
    pick(&[
        Role::Anonymous,
        Role::Viewer,
        Role::Anchor,
        Role::SubAnchor,
        Role::Assistant,
        Role::Admin,
    ])
}

fn status() -> impl Strategy<Value = RoomStatus> {
    (101u16..=107).prop_map(|c| RoomStatus::try_from(c).unwrap())
}

fn request_id() -> impl Strategy<Value = Option<RequestId>> {
    of(text().prop_map(RequestId))
}

fn terms() -> impl Strategy<Value = LotteryTerms> {
    (
        pick(&[LotteryKind::Comment, LotteryKind::Like]),
        of(text()),
        any::<u64>(),
        any::<u32>(),
        text(),
        text(),
    )
        .prop_map(
            |(kind, keyword, duration_s, winners, prize, rules)| LotteryTerms {
                kind,
                keyword,
                duration_s,
                winners,
                prize,
                rules,
            },
        )
}

fn request() -> impl Strategy<Value = Request> {
    let resume = of((text(), any::<u64>()).prop_map(|(epoch, offset)| Resume { epoch, offset }));
    let action = pick(&[
        LiveAction::Start,
        LiveAction::Pause,
        LiveAction::Resume,
        LiveAction::End,
    ]);
    let words = (
        vec(
            (text(), text()).prop_map(|(word, category)| WordEntry { word, category }),
            0..3,
        ),
        vec(text(), 0..3),
    )
        .prop_map(|(add, remove)| Request::Words(Words { add, remove }));
    let mute = (text(), of(any::<u64>()), any::<bool>(), of(text())).prop_map(
        |(user, duration_s, shadow, reason)| {
            Request::Mute(Mute {
                user,
                duration_s,
                shadow,
                reason,
            })
        },
    );
    prop_oneof![
        text().prop_map(|token| Request::Auth(Auth { token })),
        (text(), resume).prop_map(|(room, resume)| Request::Join(Join { room, resume })),
        Just(Request::Leave(Leave {})),
        text().prop_map(|text| Request::Comment(PostComment { text })),
        any::<u32>().prop_map(|count| Request::Like(Like { count })),
        Just(Request::Ping(Ping {})),
        action.prop_map(|action| Request::Live(Live { action })),
        (any::<u64>(), of(text())).prop_map(|(offset, reason)| {
            Request::DeleteComment(DeleteComment { offset, reason })
        }),
        mute,
        text().prop_map(|user| Request::Unmute(Unmute { user })),
        (text(), role(), of(text())).prop_map(|(user, role, nick)| Request::SetRole(SetRole {
            user,
            role,
            nick
        })),
        of(any::<bool>()).prop_map(|comments| Request::Switch(Switch { comments })),
        words,
        terms().prop_map(Request::LotteryCreate),
        text().prop_map(|lottery| Request::LotteryStart(LotteryStart { lottery })),
        Just(Request::Mutes(ListMutes {})),
        (vec(text(), 0..3), vec(text(), 0..3))
            .prop_map(|(add, remove)| Request::AllowWords(AllowWords { add, remove })),
        (text(), of(text()), any::<bool>()).prop_map(|(text, image_url, keep_after_start)| {
            Request::SetPreview(SetPreview {
                text,
                image_url,
                keep_after_start,
            })
        }),
        Just(Request::ClearPreview(ClearPreview {})),
        text().prop_map(|text| Request::PushNotice(PushNotice { text })),
        of(any::<u64>()).prop_map(|notice| Request::WithdrawNotice(WithdrawNotice { notice })),
    ]
}

fn switches() -> impl Strategy<Value = Switches> {
    any::<[bool; 6]>().prop_map(|b| Switches {
        comments: b[0],
        likes: b[1],
        anonymous_watch: b[2],
        sharing: b[3],
        replay: b[4],
        customer_service: b[5],
    })
}

fn lottery_event() -> impl Strategy<Value = LotteryEvent> {
    let state = pick(&[
        LotteryState::Created,
        LotteryState::Announced,
        LotteryState::Committed,
        LotteryState::Drawn,
        LotteryState::Abnormal,
    ]);
    let announcement = (any::<u64>(), any::<u64>(), text(), text(), text()).prop_map(
        |(window_start_ms, window_end_ms, public_key, signature, announcement_hash)| {
            LotteryAnnouncement {
                window_start_ms,
                window_end_ms,
                public_key,
                signature,
                announcement_hash,
                beacon: (window_start_ms % 2 == 0).then(|| LotteryBeacon {
                    chain_hash: "52".repeat(32),
                    public_key: "83".repeat(96),
                    genesis_s: window_end_ms,
                    period_s: 3,
                    round: window_start_ms,
                }),
            }
        },
    );
    let commitment = (text(), any::<u64>(), text()).prop_map(|(root, count, announcement_hash)| {
        LotteryCommitment {
            root,
            count,
            announcement_hash,
        }
    });
    let winners = vec(
        (text(), text()).prop_map(|(user, code)| LotteryWinner { user, code }),
        0..3,
    );
    (
        text(),
        state,
        of(terms()),
        of(announcement),
        of(commitment),
        winners,
        of(text()),
    )
        .prop_map(
            |(lottery, state, terms, announcement, commitment, winners, reason)| LotteryEvent {
                lottery,
                state,
                terms,
                announcement,
                commitment,
                winners,
                reason,
            },
        )
}

fn event_kind() -> impl Strategy<Value = EventKind> {
    prop_oneof![
        (text(), text(), text(), role()).prop_map(|(user, nick, text, role)| {
            EventKind::Comment(Comment {
                user,
                nick,
                text,
                role,
            })
        }),
        (status(), of(text()))
            .prop_map(|(status, reason)| EventKind::Status(StatusChanged { status, reason })),
        switches().prop_map(EventKind::Switches),
        vec(any::<u64>(), 0..4)
            .prop_map(|offsets| EventKind::CommentDeleted(CommentDeleted { offsets })),
        (text(), vec(any::<u64>(), 0..4))
            .prop_map(|(user, offsets)| EventKind::UserPurged(UserPurged { user, offsets })),
        lottery_event().prop_map(|e| EventKind::Lottery(Box::new(e))),
        (any::<u64>(), text())
            .prop_map(|(version, record)| EventKind::Record(RoomRecord { version, record })),
        of(preview()).prop_map(|preview| EventKind::Preview(PreviewChanged { preview })),
        (
            pick(&[
                NoticeAction::Pushed,
                NoticeAction::Withdrawn,
                NoticeAction::Expired
            ]),
            notice()
        )
            .prop_map(|(action, notice)| EventKind::Notice(NoticeEvent { action, notice })),
    ]
}

fn notice() -> impl Strategy<Value = Notice> {
    (any::<u64>(), text(), any::<i64>(), any::<i64>()).prop_map(|(id, text, pushed_at, until)| {
        Notice {
            id,
            text,
            pushed_at,
            until,
        }
    })
}

fn preview() -> impl Strategy<Value = Preview> {
    (text(), of(text())).prop_map(|(text, image_url)| Preview { text, image_url })
}

fn room_event() -> impl Strategy<Value = RoomEvent> {
    (any::<u64>(), any::<i64>(), event_kind()).prop_map(|(offset, ts, kind)| RoomEvent {
        offset,
        ts,
        kind,
    })
}

fn totals() -> impl Strategy<Value = Totals> {
    any::<[u64; 4]>().prop_map(|t| Totals {
        likes: t[0],
        comments: t[1],
        viewers: t[2],
        online: t[3],
    })
}

fn room_info() -> impl Strategy<Value = RoomInfo> {
    (
        (text(), text(), text()),
        status(),
        any::<(i64, i64)>(),
        of(any::<i64>()),
        switches(),
    )
        .prop_map(
            |(
                (id, title, anchor),
                status,
                (planned_start, planned_end),
                live_started_at,
                switches,
            )| {
                RoomInfo {
                    id,
                    title,
                    anchor,
                    status,
                    planned_start,
                    planned_end,
                    live_started_at,
                    switches,
                }
            },
        )
}

fn server_frame() -> impl Strategy<Value = ServerFrame> {
    let hello = (text(), of(text()), any::<[u64; 4]>()).prop_map(|(session, user, n)| {
        ServerFrame::Hello(Hello {
            session,
            user,
            heartbeat_ms: n[0],
            idle_timeout_ms: n[1],
            max_frame_bytes: n[2],
            max_comment_chars: n[3],
        })
    });
    let joined = (
        (request_id(), room_info(), role(), text(), any::<u64>()),
        (totals(), vec(room_event(), 0..3), of(any::<bool>())),
        (
            vec(room_event(), 0..3),
            vec(lottery_event(), 0..2),
            of(preview()),
            of((notice(), any::<u64>())),
        ),
    )
        .prop_map(
            |(
                (id, room, role, epoch, offset),
                (totals, recent, recovered),
                (missed, lotteries, preview, notice),
            )| {
                ServerFrame::Joined(Joined {
                    id,
                    room,
                    role,
                    epoch,
                    offset,
                    totals,
                    recent,
                    recovered,
                    missed,
                    lotteries,
                    preview,
                    commerce: Default::default(),
                    notice: notice.map(|(notice, remaining_ms)| {
                        Box::new(NoticeShown {
                            notice,
                            remaining_ms,
                        })
                    }),
                    costream: Default::default(),
                    pk: None,
                })
            },
        );
    let ack = (request_id(), of(room_event()), of(status()))
        .prop_map(|(id, event, status)| ServerFrame::Ack(Ack { id, event, status }));
    let error = (
        request_id(),
        pick(&ErrorCode::ALL),
        text(),
        of(any::<u64>()),
    )
        .prop_map(|(id, code, message, retry_after_ms)| {
            ServerFrame::Error(event::ErrorReply {
                id,
                code,
                message,
                retry_after_ms,
            })
        });
    let batch = (
        (text(), text(), pick(&[Lane::High, Lane::Low])),
        any::<(u64, u64)>(),
        vec(room_event(), 0..4),
        of(totals()),
    )
        .prop_map(|((room, epoch, lane), (since, upto), events, totals)| {
            ServerFrame::Batch(Batch {
                room,
                epoch,
                lane,
                since,
                upto,
                events,
                totals,
            })
        });
    let mute = (
        text(),
        of(any::<i64>()),
        any::<bool>(),
        text(),
        any::<i64>(),
    )
        .prop_map(|(user, until_ms, shadow, by, at_ms)| MuteInfo {
            user,
            until_ms,
            shadow,
            by,
            at_ms,
        });
    let mutes = (request_id(), vec(mute, 0..3))
        .prop_map(|(id, mutes)| ServerFrame::Mutes(MuteList { id, mutes }));
    prop_oneof![
        hello,
        joined,
        ack,
        (request_id(), any::<i64>()).prop_map(|(id, ts)| ServerFrame::Pong(Pong { id, ts })),
        error,
        batch,
        mutes,
    ]
}

const CODECS: [Codec; 2] = [Codec::Json, Codec::Binary];

proptest! {
    #[test]
    fn any_client_frame_round_trips(id in request_id(), request in request()) {
        let frame = ClientFrame { id, request };
        for codec in CODECS {
            let bytes = codec.encode_client(&frame);
            prop_assert!(!bytes.is_empty());
            let back = codec.decode_client(&bytes);
            prop_assert!(back.is_ok(), "{codec:?}: {back:?}");
            prop_assert_eq!(back.unwrap(), frame.clone(), "{:?}", codec);
        }
    }

    #[test]
    fn any_server_frame_round_trips(frame in server_frame()) {
        for codec in CODECS {
            let bytes = codec.encode_server(&frame);
            let back = codec.decode_server(&bytes);
            prop_assert!(back.is_ok(), "{codec:?}: {back:?}");
            prop_assert_eq!(back.unwrap(), frame.clone(), "{:?}", codec);
        }
    }

    #[test]
    fn json_frames_are_utf8_objects_tagged_with_their_type(frame in server_frame()) {
        let bytes = Codec::Json.encode_server(&frame);
        let v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        prop_assert_eq!(v["type"].as_str(), Some(frame.tag()));
    }

    #[test]
    fn a_cut_frame_is_refused_not_misread(id in request_id(), request in request(), cut in any::<proptest::sample::Index>()) {
        // A truncated postcard or JSON frame never decodes to the frame.
        let frame = ClientFrame { id, request };
        for codec in CODECS {
            let bytes = codec.encode_client(&frame);
            let at = cut.index(bytes.len());
            if let Ok(f) = codec.decode_client(&bytes[..at]) {
                prop_assert_ne!(f, frame.clone(), "{:?} decoded a prefix", codec);
            }
        }
    }
}

#[test]
fn error_code_all_lists_every_code_in_wire_order() {
    for (i, code) in ErrorCode::ALL.iter().enumerate() {
        let decoded: ErrorCode = postcard::from_bytes(&[i as u8]).unwrap();
        assert_eq!(decoded, *code);
    }
    let past = [ErrorCode::ALL.len() as u8];
    assert!(postcard::from_bytes::<ErrorCode>(&past).is_err());
}
