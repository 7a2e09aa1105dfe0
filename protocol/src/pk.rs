//! PK (battle) on a live anchor-to-anchor link: the `pk` room event (in
//! both rooms' logs) and `joined.pk`. A PK is started and ended with the
//! `link` request's `pk_start` and `pk_end` actions
//! ([`crate::costream::LinkAction`]).

use serde::{Deserialize, Serialize};

/// Shortest PK, seconds.
pub const MIN_PK_DURATION_S: u32 = 30;
/// Longest PK, seconds.
pub const MAX_PK_DURATION_S: u32 = 3600;
/// A PK's duration when `pk_start` names none, seconds.
pub const DEFAULT_PK_DURATION_S: u32 = 300;
/// Score events of one PK are at least this far apart, ms.
pub const PK_SCORE_EVERY_MS: i64 = 1000;

/// Where a PK stands in a `pk` event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PkState {
    /// Just started: both scores 0.
    Started,
    /// The scores changed.
    Score,
    /// Over: `result` says who won and why.
    Ended,
}

/// Why a PK ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PkReason {
    /// Its duration passed.
    TimeOver,
    /// An anchor sent `pk_end`.
    EndedEarly,
    /// The link ended, or one of the rooms left 101, while it ran.
    AnchorLeft,
}

/// How a PK ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PkResult {
    /// The winning room, or null for a draw.
    pub winner: Option<String>,
    /// Why it ended.
    pub reason: PkReason,
}

/// `pk` event (room log of both rooms, high lane), `joined.pk` and the
/// entries of the admin API's PK history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PkEvent {
    /// The PK id (numbered with the inviting room's co-stream sessions and
    /// links).
    pub pk: u64,
    /// The link it runs on.
    pub link: u64,
    /// The two rooms: the inviting room first.
    pub rooms: Vec<String>,
    /// `started`, `score` or `ended`.
    pub state: PkState,
    /// Each room's score, in the order of `rooms`.
    pub scores: Vec<u64>,
    /// When it started, unix ms.
    pub started_at: i64,
    /// When its duration runs out, unix ms.
    pub ends_at: i64,
    /// When it ended, unix ms (null until ended).
    pub ended_at: Option<i64>,
    /// Null until ended.
    pub result: Option<PkResult>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::costream::{LinkAction, LinkRequest};
    use crate::{
        Batch, ClientFrame, Codec, EventKind, Lane, Request, RequestId, RoomEvent, ServerFrame,
    };

    #[test]
    fn pk_requests_and_events_round_trip_in_both_codecs() {
        let request = Request::Link(LinkRequest {
            action: LinkAction::PkStart,
            room: None,
            link: Some(3),
            duration_s: Some(60),
        });
        let event = EventKind::Pk(Box::new(PkEvent {
            pk: 4,
            link: 3,
            rooms: vec!["a".into(), "b".into()],
            state: PkState::Ended,
            scores: vec![7, 7],
            started_at: 1,
            ends_at: 60_001,
            ended_at: Some(60_002),
            result: Some(PkResult {
                winner: None,
                reason: PkReason::TimeOver,
            }),
        }));
        for codec in [Codec::Json, Codec::Binary] {
            let frame = ClientFrame {
                id: Some(RequestId("1".into())),
                request: request.clone(),
            };
            assert_eq!(
                codec.decode_client(&codec.encode_client(&frame)).unwrap(),
                frame
            );
            let batch = ServerFrame::Batch(Batch {
                room: "a".into(),
                epoch: String::new(),
                lane: Lane::High,
                since: 0,
                upto: 1,
                events: vec![RoomEvent {
                    offset: 1,
                    ts: 2,
                    kind: event.clone(),
                }],
                totals: None,
            });
            assert_eq!(
                codec.decode_server(&codec.encode_server(&batch)).unwrap(),
                batch
            );
        }
        let json = Codec::Json.encode_client(&ClientFrame { id: None, request });
        let text = std::str::from_utf8(&json).unwrap();
        assert!(text.contains(r#""action":"pk_start""#), "{text}");
        assert!(text.contains(r#""duration_s":60"#), "{text}");
        let ev = serde_json::to_string(&RoomEvent {
            offset: 1,
            ts: 2,
            kind: event,
        })
        .unwrap();
        assert!(
            ev.contains(r#""type":"pk""#)
                && ev.contains(r#""result":{"winner":null,"reason":"time_over"}"#),
            "{ev}"
        );
    }

    #[test]
    fn pk_is_event_index_22_and_link_actions_append() {
        let bytes = postcard::to_allocvec(&EventKind::Pk(Box::new(PkEvent {
            pk: 1,
            link: 1,
            rooms: vec![],
            state: PkState::Started,
            scores: vec![],
            started_at: 0,
            ends_at: 0,
            ended_at: None,
            result: None,
        })))
        .unwrap();
        assert_eq!(bytes[0], 22);
        assert_eq!(postcard::to_allocvec(&LinkAction::PkStart).unwrap(), [4]);
        assert_eq!(postcard::to_allocvec(&LinkAction::PkEnd).unwrap(), [5]);
    }
}
