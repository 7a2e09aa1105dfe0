//! Co-stream (连麦): the `costream` request (every step of the state
//! machine, one `action` each), the `signal` request (WebRTC signalling
//! relayed between the two parties), the public `costream` room event, the
//! private `costream_step`, `costream_applicants` and `signal` events, and
//! the join snapshot's `costream` part.

use serde::{Deserialize, Serialize};

/// Voice or video.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Media {
    /// Audio only.
    Voice,
    /// Audio and video.
    Video,
}

/// What a `costream` request does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CostreamAction {
    /// Anchor or sub-anchor: co-stream on for the room.
    Enable,
    /// Anchor or sub-anchor: co-stream off (applicants dropped, the
    /// current co-stream ended).
    Disable,
    /// Viewer: apply with `media`; applying again switches the type.
    Apply,
    /// Viewer: withdraw the application.
    Cancel,
    /// Anchor: the applicant list (answered by an ack carrying a
    /// `costream_applicants` event).
    Applicants,
    /// Anchor: accept the applicant `user`.
    Accept,
    /// Anchor: invite `user` with `media`.
    Invite,
    /// Anchor (after accepting) or guest (after the anchor confirmed, or an
    /// invitation): confirm the step of `session`.
    Confirm,
    /// Guest: decline the invitation or the accepted application.
    Decline,
    /// Anchor: mute (`muted` true) or unmute the guest; guest: mute or
    /// unmute themself (not when the anchor muted them).
    Mute,
    /// Either party: end `session`.
    End,
}

/// `costream`: one step of the co-stream state machine in the joined room.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CostreamRequest {
    /// The step.
    pub action: CostreamAction,
    /// `accept`, `invite`: the viewer.
    #[serde(default)]
    pub user: Option<String>,
    /// `apply`, `invite`: voice or video.
    #[serde(default)]
    pub media: Option<Media>,
    /// `confirm`, `decline`, `mute`, `end`: the co-stream session id.
    #[serde(default)]
    pub session: Option<u64>,
    /// `mute`: true to mute, false to unmute.
    #[serde(default)]
    pub muted: Option<bool>,
}

/// What a relayed signalling message carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SignalKind {
    /// An SDP offer (`sdp`): the first, a renegotiation or an ICE restart.
    Offer,
    /// An SDP answer (`sdp`).
    Answer,
    /// One trickled ICE candidate (`candidate`, `sdp_mid`,
    /// `sdp_mline_index`).
    Candidate,
    /// No more candidates in this round.
    EndOfCandidates,
    /// Asks the peer to send an ICE-restart offer.
    Restart,
}

/// `signal`: a WebRTC signalling message for the other party of `session`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Signal {
    /// The co-stream session id.
    pub session: u64,
    /// What it carries.
    pub kind: SignalKind,
    /// `offer`, `answer`: the SDP.
    #[serde(default)]
    pub sdp: Option<String>,
    /// `candidate`: the candidate line.
    #[serde(default)]
    pub candidate: Option<String>,
    /// `candidate`: the media stream id.
    #[serde(default)]
    pub sdp_mid: Option<String>,
    /// `candidate`: the m-line index.
    #[serde(default)]
    pub sdp_mline_index: Option<u32>,
    /// True: `session` is an anchor-to-anchor link id (for the other
    /// room's anchor), not a co-stream session.
    #[serde(default)]
    pub link: bool,
}

/// A co-stream that is live, as the whole room sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CostreamLive {
    /// The co-stream session id.
    pub session: u64,
    /// The guest's user id.
    pub guest: String,
    /// The guest's nickname.
    pub nick: String,
    /// Voice or video.
    pub media: Media,
    /// Whether the guest is muted.
    pub muted: bool,
}

/// `costream` event (room log, high lane) and `joined.costream`: the
/// room's public co-stream state.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CostreamState {
    /// Whether viewers may apply.
    pub enabled: bool,
    /// The live co-stream, if any.
    pub live: Option<CostreamLive>,
    /// Why it changed (`enabled`, `disabled`, `started`, `muted`,
    /// `unmuted`, `ended_by_anchor`, `ended_by_guest`, `room_paused`, ...);
    /// null in the snapshot.
    pub reason: Option<String>,
}

/// Where a co-stream session stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CostreamPhase {
    /// The anchor accepted the application; the anchor confirms next.
    Accepted,
    /// The anchor confirmed; the guest confirms next.
    AnchorConfirmed,
    /// The anchor invited the guest; the guest confirms or declines.
    Invited,
    /// Both confirmed: the co-stream is on.
    Live,
    /// Over (`reason` says why).
    Ended,
}

/// `costream_step` event (to the two parties only, outside the room log):
/// the session's step now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CostreamStep {
    /// The co-stream session id.
    pub session: u64,
    /// The anchor's user id.
    pub anchor: String,
    /// The guest's user id.
    pub guest: String,
    /// The guest's nickname.
    pub nick: String,
    /// Voice or video.
    pub media: Media,
    /// The step.
    pub phase: CostreamPhase,
    /// Whether the guest is muted.
    pub muted: bool,
    /// When a pending step expires, unix ms (null once live or ended).
    pub expires_at: Option<i64>,
    /// Why it ended (`declined`, `expired`, `ended_by_anchor`, ...).
    pub reason: Option<String>,
}

/// One applicant, as the anchor sees the list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Applicant {
    /// User id.
    pub user: String,
    /// Nickname.
    pub nick: String,
    /// Voice or video.
    pub media: Media,
    /// When they (first) applied, unix ms.
    pub at: i64,
}

/// `costream_applicants` event (to the anchor only, outside the room log):
/// the applicants, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CostreamApplicants {
    /// The list.
    pub applicants: Vec<Applicant>,
}

/// `signal` event (to the other party only, outside the room log).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignalEvent {
    /// The co-stream session id.
    pub session: u64,
    /// The sender's user id.
    pub from: String,
    /// 1, 2, ... per sender and session, as the gateway relayed them.
    pub seq: u64,
    /// What it carries.
    pub kind: SignalKind,
    /// `offer`, `answer`: the SDP.
    pub sdp: Option<String>,
    /// `candidate`: the candidate line.
    pub candidate: Option<String>,
    /// `candidate`: the media stream id.
    pub sdp_mid: Option<String>,
    /// `candidate`: the m-line index.
    pub sdp_mline_index: Option<u32>,
}

/// `joined.costream`: the public state, and the joiner's own session step
/// when the joiner is one of its parties.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CostreamView {
    /// Whether viewers may apply.
    pub enabled: bool,
    /// The live co-stream, if any.
    pub live: Option<CostreamLive>,
    /// The joiner's own pending or live session, else null.
    pub mine: Option<CostreamStep>,
    /// The room's live anchor-to-anchor link, else null.
    #[serde(default)]
    pub link: Option<LinkLive>,
}

/// What a `link` request does (anchor-to-anchor links across rooms).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LinkAction {
    /// Invite the anchor of the live room `room`.
    Invite,
    /// Accept the invitation `link` from the room `room`.
    Accept,
    /// Decline the invitation `link` from the room `room`.
    Decline,
    /// End the link `link` (either anchor).
    End,
    /// Start a PK on the live link `link` (either anchor), lasting
    /// `duration_s` (30..=3600, default 300).
    PkStart,
    /// End the PK running on the link `link` early (either anchor).
    PkEnd,
}

/// `link`: an anchor-to-anchor link between the joined room and another.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkRequest {
    /// The step.
    pub action: LinkAction,
    /// `invite`: the room to link with; `accept`, `decline`: the inviting room.
    #[serde(default)]
    pub room: Option<String>,
    /// `accept`, `decline`, `end`, `pk_start`, `pk_end`: the link id.
    #[serde(default)]
    pub link: Option<u64>,
    /// `pk_start`: the PK's length in seconds (30..=3600; null: 300).
    #[serde(default)]
    pub duration_s: Option<u32>,
}

/// A live link, as both rooms see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkLive {
    /// The link id (numbered in the inviting room).
    pub link: u64,
    /// The inviting room.
    pub from_room: String,
    /// Its anchor.
    pub from_anchor: String,
    /// The invited room.
    pub to_room: String,
    /// Its anchor.
    pub to_anchor: String,
}

/// `link` event (room log of both rooms, high lane).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkState {
    /// The live link, or null once it ended.
    pub link: Option<LinkLive>,
    /// `started`, `ended_by_anchor`, `room_paused`, ...
    pub reason: Option<String>,
}

/// `link_step` event (to the two anchors only, outside the room logs).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkStep {
    /// The link.
    pub link: LinkLive,
    /// `invited`, `live` or `ended`.
    pub phase: CostreamPhase,
    /// While invited: when the invitation expires, unix ms.
    pub expires_at: Option<i64>,
    /// Why it ended (`declined`, `expired`, `ended_by_anchor`, ...).
    pub reason: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        Batch, ClientFrame, Codec, EventKind, Lane, Request, RequestId, RoomEvent, ServerFrame,
    };

    #[test]
    fn requests_and_events_round_trip_in_both_codecs() {
        let requests = [
            Request::Costream(CostreamRequest {
                action: CostreamAction::Invite,
                user: Some("vic".into()),
                media: Some(Media::Video),
                session: None,
                muted: None,
            }),
            Request::Signal(Signal {
                session: 3,
                kind: SignalKind::Candidate,
                sdp: None,
                candidate: Some("candidate:1 1 udp 1 127.0.0.1 9 typ host".into()),
                sdp_mid: Some("0".into()),
                sdp_mline_index: Some(0),
                link: false,
            }),
        ];
        let step = CostreamStep {
            session: 3,
            anchor: "anna".into(),
            guest: "vic".into(),
            nick: "Vic".into(),
            media: Media::Voice,
            phase: CostreamPhase::Ended,
            muted: false,
            expires_at: None,
            reason: Some("expired".into()),
        };
        let events = [
            EventKind::Costream(CostreamState::default()),
            EventKind::CostreamStep(step),
            EventKind::Signal(Box::new(SignalEvent {
                session: 3,
                from: "anna".into(),
                seq: 1,
                kind: SignalKind::Offer,
                sdp: Some("v=0\r\n".into()),
                candidate: None,
                sdp_mid: None,
                sdp_mline_index: None,
            })),
        ];
        for codec in [Codec::Json, Codec::Binary] {
            for request in &requests {
                let frame = ClientFrame {
                    id: Some(RequestId("1".into())),
                    request: request.clone(),
                };
                let back = codec.decode_client(&codec.encode_client(&frame)).unwrap();
                assert_eq!(back, frame);
            }
            let batch = ServerFrame::Batch(Batch {
                room: "r".into(),
                epoch: String::new(),
                lane: Lane::High,
                since: 0,
                upto: 0,
                events: events
                    .iter()
                    .map(|k| RoomEvent {
                        offset: 0,
                        ts: 1,
                        kind: k.clone(),
                    })
                    .collect(),
                totals: None,
            });
            let back = codec.decode_server(&codec.encode_server(&batch)).unwrap();
            assert_eq!(back, batch);
        }
        // JSON: the documented shape.
        let json = Codec::Json.encode_client(&ClientFrame {
            id: None,
            request: requests[0].clone(),
        });
        let text = std::str::from_utf8(&json).unwrap();
        assert!(
            text.contains(r#""type":"costream""#) && text.contains(r#""action":"invite""#),
            "{text}"
        );
    }
}
