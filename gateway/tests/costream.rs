//! Co-stream (连麦) on every backend: apply → accept → confirm → confirm,
//! invitations, the public state in events and the join snapshot, private
//! steps only to the parties, expiry, one guest at a time (also two
//! accepts racing on two nodes), mute rules, the room pausing, every
//! refusal's code, and the signalling relay across two nodes (in order,
//! only to the other party, never in the room log, size and rate limits).
#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use common::*;
use protocol::costream::*;
use protocol::*;

fn token(gw: &TestGateway, user: &str, real_name: bool) -> String {
    let now = gateway::clock::now_ms() as u64 / 1000;
    gw.node()
        .keys
        .mint(user, &format!("nick-{user}"), real_name, now, 600)
        .unwrap()
}

async fn user(gw: &TestGateway, name: &str, room: &str) -> Client {
    let mut c = gw.connect_token(&token(gw, name, true)).await;
    c.join(room).await;
    c
}

fn cs(action: CostreamAction) -> CostreamRequest {
    CostreamRequest {
        action,
        user: None,
        media: None,
        session: None,
        muted: None,
    }
}

fn req(action: CostreamAction, f: impl FnOnce(&mut CostreamRequest)) -> Request {
    let mut r = cs(action);
    f(&mut r);
    Request::Costream(r)
}

fn on() -> Request {
    req(CostreamAction::Enable, |_| {})
}

fn apply(media: Media) -> Request {
    req(CostreamAction::Apply, |r| r.media = Some(media))
}

fn accept(u: &str) -> Request {
    req(CostreamAction::Accept, |r| r.user = Some(u.into()))
}

fn on_session(action: CostreamAction, id: u64) -> Request {
    req(action, |r| r.session = Some(id))
}

fn mute(id: u64, muted: bool) -> Request {
    req(CostreamAction::Mute, |r| {
        r.session = Some(id);
        r.muted = Some(muted);
    })
}

fn ok(f: &ServerFrame) {
    assert!(matches!(f, ServerFrame::Ack(_)), "not an ack: {f:?}");
}

fn code(f: &ServerFrame) -> ErrorCode {
    error_code(f).unwrap_or_else(|| panic!("not an error: {f:?}"))
}

/// The step an ack carries.
fn step_of(f: &ServerFrame) -> CostreamStep {
    match f {
        ServerFrame::Ack(Ack {
            event:
                Some(RoomEvent {
                    kind: EventKind::CostreamStep(s),
                    ..
                }),
            ..
        }) => s.clone(),
        other => panic!("no step in {other:?}"),
    }
}

fn public(events: &[RoomEvent]) -> Vec<CostreamState> {
    events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Costream(c) => Some(c.clone()),
            _ => None,
        })
        .collect()
}

fn steps(events: &[RoomEvent]) -> Vec<(u64, CostreamPhase)> {
    events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::CostreamStep(s) => Some((s.session, s.phase)),
            _ => None,
        })
        .collect()
}

/// A live room `r1` anchored by `anna` with co-stream on; the anchor, and
/// the applicant `vic` who applied for video.
async fn setup(gw: &TestGateway) -> (Client, Client) {
    gw.room("r1", "anna", true).await;
    let mut anna = user(gw, "anna", "r1").await;
    ok(&anna.request(on()).await);
    let mut vic = user(gw, "vic", "r1").await;
    ok(&vic.request(apply(Media::Video)).await);
    (anna, vic)
}

/// Brings `vic`'s application live; returns the session id.
async fn go_live(anna: &mut Client, vic: &mut Client) -> u64 {
    let s = step_of(&anna.request(accept("vic")).await);
    assert_eq!(s.phase, CostreamPhase::Accepted);
    let c = step_of(
        &anna
            .request(on_session(CostreamAction::Confirm, s.session))
            .await,
    );
    assert_eq!(c.phase, CostreamPhase::AnchorConfirmed);
    let l = step_of(
        &vic.request(on_session(CostreamAction::Confirm, s.session))
            .await,
    );
    assert_eq!(
        (l.phase, l.media, l.guest.as_str()),
        (CostreamPhase::Live, Media::Video, "vic")
    );
    s.session
}

#[tokio::test]
async fn apply_accept_confirm_goes_live_for_the_room_and_in_the_snapshot() {
    let gw = TestGateway::start().await;
    let (mut anna, mut vic) = setup(&gw).await;
    let mut room = user(&gw, "viv", "r1").await;
    // The anchor gets the applicant list, oldest first, and can ask for it.
    let got = anna
        .events_until(|e| {
            e.iter()
                .any(|e| matches!(e.kind, EventKind::CostreamApplicants(_)))
        })
        .await;
    let list = got.iter().find_map(|e| match &e.kind {
        EventKind::CostreamApplicants(a) => Some(a.applicants.clone()),
        _ => None,
    });
    assert_eq!(list.unwrap()[0].user, "vic");
    ok(&room.request(apply(Media::Voice)).await);
    ok(&vic.request(apply(Media::Voice)).await); // switches the type, keeps the place
    let listed = anna.request(req(CostreamAction::Applicants, |_| {})).await;
    let ServerFrame::Ack(Ack { event: Some(e), .. }) = listed else {
        panic!("{listed:?}")
    };
    let EventKind::CostreamApplicants(a) = e.kind else {
        panic!()
    };
    let order: Vec<_> = a
        .applicants
        .iter()
        .map(|a| (a.user.as_str(), a.media))
        .collect();
    assert_eq!(order, [("vic", Media::Voice), ("viv", Media::Voice)]);
    ok(&vic.request(apply(Media::Video)).await);
    ok(&room.request(req(CostreamAction::Cancel, |_| {})).await);
    let id = go_live(&mut anna, &mut vic).await;
    // The room sees the public state; a late joiner has it in the snapshot.
    let seen = room
        .events_until(|e| public(e).iter().any(|c| c.live.is_some()))
        .await;
    let started = public(&seen).pop().unwrap();
    assert_eq!(started.reason.as_deref(), Some("started"));
    let live = started.live.unwrap();
    assert_eq!(
        (live.session, live.guest.as_str(), live.media, live.muted),
        (id, "vic", Media::Video, false)
    );
    // Private steps never reached the bystander, only the parties.
    assert!(steps(&seen).is_empty(), "{seen:?}");
    let mut late = gw.connect(None).await;
    let j = late.join("r1").await;
    assert!(j.costream.enabled);
    assert_eq!(j.costream.live.as_ref().unwrap().guest, "vic");
    assert_eq!(j.costream.mine, None);
    let mut vic2 = gw.connect_token(&token(&gw, "vic", true)).await;
    let mine = vic2.join("r1").await.costream.mine.unwrap();
    assert_eq!((mine.session, mine.phase), (id, CostreamPhase::Live));
    // Mute rules: the anchor's mute only the anchor lifts; the guest may mute themself.
    ok(&anna.request(mute(id, true)).await);
    assert_eq!(
        code(&vic.request(mute(id, false)).await),
        ErrorCode::Forbidden
    );
    ok(&anna.request(mute(id, false)).await);
    ok(&vic.request(mute(id, true)).await);
    ok(&vic.request(mute(id, false)).await);
    let end = step_of(&vic.request(on_session(CostreamAction::End, id)).await);
    assert_eq!(
        (end.phase, end.reason.as_deref()),
        (CostreamPhase::Ended, Some("ended_by_guest"))
    );
    let seen = room
        .events_until(|e| {
            public(e)
                .iter()
                .any(|c| c.reason.as_deref() == Some("ended_by_guest"))
        })
        .await;
    let reasons: Vec<_> = public(&seen).into_iter().filter_map(|c| c.reason).collect();
    assert_eq!(
        reasons,
        ["muted", "unmuted", "muted", "unmuted", "ended_by_guest"]
    );
    // The anchor saw every step of the session, in order.
    let got = anna
        .events_until(|e| steps(e).contains(&(id, CostreamPhase::Ended)))
        .await;
    let phases: Vec<_> = steps(&got).into_iter().map(|s| s.1).collect();
    assert_eq!(
        phases[..3],
        [
            CostreamPhase::Accepted,
            CostreamPhase::AnchorConfirmed,
            CostreamPhase::Live
        ]
    );
}

#[tokio::test]
async fn every_stale_or_out_of_order_step_is_refused_with_a_code() {
    let gw = TestGateway::start_with(|s| s.costream_max_applicants = 2).await;
    gw.room("r1", "anna", true).await;
    let mut anna = user(&gw, "anna", "r1").await;
    let mut vic = user(&gw, "vic", "r1").await;
    assert_eq!(
        code(&vic.request(apply(Media::Voice)).await),
        ErrorCode::CostreamDisabled
    );
    assert_eq!(code(&vic.request(on()).await), ErrorCode::Forbidden);
    ok(&anna.request(on()).await);
    // Real-name verification, sign-in and the anchor's own role.
    let mut plain = gw.connect_token(&token(&gw, "pat", false)).await;
    plain.join("r1").await;
    assert_eq!(
        code(&plain.request(apply(Media::Voice)).await),
        ErrorCode::RealNameRequired
    );
    let mut anon = gw.connect(None).await;
    anon.join("r1").await;
    assert_eq!(
        code(&anon.request(apply(Media::Voice)).await),
        ErrorCode::Unauthenticated
    );
    assert_eq!(
        code(&anna.request(apply(Media::Voice)).await),
        ErrorCode::Forbidden
    );
    // Missing fields are invalid before anything else.
    assert_eq!(
        code(&vic.request(req(CostreamAction::Apply, |_| {})).await),
        ErrorCode::Invalid
    );
    assert_eq!(
        code(&anna.request(req(CostreamAction::Accept, |_| {})).await),
        ErrorCode::Invalid
    );
    ok(&vic.request(apply(Media::Voice)).await);
    let mut amy = user(&gw, "amy", "r1").await;
    ok(&amy.request(apply(Media::Voice)).await);
    let mut bob = user(&gw, "bob", "r1").await;
    assert_eq!(
        code(&bob.request(apply(Media::Voice)).await),
        ErrorCode::ApplicantsFull
    );
    assert_eq!(
        code(&bob.request(req(CostreamAction::Cancel, |_| {})).await),
        ErrorCode::NotFound
    );
    assert_eq!(
        code(&anna.request(accept("bob")).await),
        ErrorCode::NotFound
    );
    assert_eq!(
        code(&vic.request(accept("amy")).await),
        ErrorCode::Forbidden
    );
    let id = step_of(&anna.request(accept("vic")).await).session;
    // One guest at a time.
    assert_eq!(
        code(&anna.request(accept("amy")).await),
        ErrorCode::CostreamBusy
    );
    // Out of order, wrong session, wrong party.
    assert_eq!(
        code(&vic.request(on_session(CostreamAction::Confirm, id)).await),
        ErrorCode::InvalidTransition
    );
    assert_eq!(
        code(
            &anna
                .request(on_session(CostreamAction::Confirm, id + 1))
                .await
        ),
        ErrorCode::CostreamStale
    );
    assert_eq!(
        code(&amy.request(on_session(CostreamAction::Decline, id)).await),
        ErrorCode::Forbidden
    );
    assert_eq!(
        code(&anna.request(mute(id, true)).await),
        ErrorCode::InvalidTransition
    );
    ok(&anna.request(on_session(CostreamAction::Confirm, id)).await);
    assert_eq!(
        code(&anna.request(on_session(CostreamAction::Confirm, id)).await),
        ErrorCode::InvalidTransition
    );
    let d = step_of(&vic.request(on_session(CostreamAction::Decline, id)).await);
    assert_eq!(d.reason.as_deref(), Some("declined"));
    assert_eq!(
        code(&vic.request(on_session(CostreamAction::Confirm, id)).await),
        ErrorCode::CostreamStale
    );
    assert_eq!(
        code(&anna.request(on_session(CostreamAction::End, id)).await),
        ErrorCode::CostreamStale
    );
    // The room paused: steps that need 101 are refused.
    gw.live("r1", "pause").await;
    assert_eq!(
        code(&anna.request(accept("amy")).await),
        ErrorCode::RoomNotLive
    );
}

#[tokio::test]
async fn an_invitation_expires_once_and_a_pause_ends_a_live_co_stream() {
    let gw = TestGateway::start_with(|s| {
        s.costream_pending_ms = 300;
        s.timer_interval_ms = 20;
    })
    .await;
    gw.room("r1", "anna", true).await;
    let mut anna = user(&gw, "anna", "r1").await;
    ok(&anna.request(on()).await);
    let mut vic = user(&gw, "vic", "r1").await;
    let invite = req(CostreamAction::Invite, |r| {
        r.user = Some("vic".into());
        r.media = Some(Media::Voice);
    });
    let s = step_of(&anna.request(invite.clone()).await);
    assert_eq!(s.phase, CostreamPhase::Invited);
    assert!(s.expires_at.unwrap() > 0);
    // The invitee is told privately, then it expires.
    let got = vic
        .events_until(|e| steps(e).contains(&(s.session, CostreamPhase::Ended)))
        .await;
    assert_eq!(
        steps(&got),
        [
            (s.session, CostreamPhase::Invited),
            (s.session, CostreamPhase::Ended)
        ]
    );
    let ended = got.iter().rev().find_map(|e| match &e.kind {
        EventKind::CostreamStep(s) => s.reason.clone(),
        _ => None,
    });
    assert_eq!(ended.as_deref(), Some("expired"));
    assert_eq!(
        code(
            &vic.request(on_session(CostreamAction::Confirm, s.session))
                .await
        ),
        ErrorCode::CostreamStale
    );
    // Invited again, confirmed: live; the room pausing ends it with a reason.
    let id = step_of(&anna.request(invite).await).session;
    assert_eq!(
        step_of(&vic.request(on_session(CostreamAction::Confirm, id)).await).phase,
        CostreamPhase::Live
    );
    let mut room = user(&gw, "viv", "r1").await;
    gw.live("r1", "pause").await;
    let seen = room
        .events_until(|e| {
            public(e)
                .iter()
                .any(|c| c.reason.as_deref() == Some("room_paused"))
        })
        .await;
    assert_eq!(public(&seen).last().unwrap().live, None);
    // Nothing fires later: the expired and stopped sessions stay ended.
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    let r = gw.node().store.room("r1").await.unwrap();
    assert_eq!(r.costream.current, None);
}

#[tokio::test]
async fn two_accepts_racing_on_two_nodes_let_exactly_one_through() {
    let gw = TestGateway::start().await;
    let peer = if test_backend() == "memory" {
        None
    } else {
        Some(gw.start_peer().await)
    };
    let other = peer.as_ref().unwrap_or(&gw);
    let (mut anna, _vic) = setup(&gw).await;
    let mut amy = user(other, "amy", "r1").await;
    ok(&amy.request(apply(Media::Voice)).await);
    let mut anna2 = user(other, "anna", "r1").await;
    for round in 0..5u64 {
        let (a, b) = tokio::join!(anna.request(accept("vic")), anna2.request(accept("amy")));
        let codes = [error_code(&a), error_code(&b)];
        assert!(
            codes.contains(&None) && codes.contains(&Some(ErrorCode::CostreamBusy)),
            "round {round}: {a:?} {b:?}"
        );
        let winner = if error_code(&a).is_none() { &a } else { &b };
        let s = step_of(winner);
        // End it and re-apply, to race again.
        ok(&anna
            .request(on_session(CostreamAction::End, s.session))
            .await);
        let mut back = user(if s.guest == "vic" { &gw } else { other }, &s.guest, "r1").await;
        ok(&back.request(apply(Media::Voice)).await);
    }
}

fn signal(session: u64, kind: SignalKind) -> Signal {
    Signal {
        session,
        kind,
        sdp: None,
        candidate: None,
        sdp_mid: None,
        sdp_mline_index: None,
        link: false,
    }
}

fn signals(events: &[RoomEvent]) -> Vec<SignalEvent> {
    events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Signal(s) => Some((**s).clone()),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn signalling_is_relayed_in_order_between_the_parties_across_nodes() {
    let gw = TestGateway::start_with(|s| s.costream_signal_rate = 1000).await;
    let peer = if test_backend() == "memory" {
        None
    } else {
        Some(gw.start_peer().await)
    };
    let other = peer.as_ref().unwrap_or(&gw);
    gw.room("r1", "anna", true).await;
    let mut anna = user(&gw, "anna", "r1").await;
    ok(&anna.request(on()).await);
    let mut vic = user(other, "vic", "r1").await;
    ok(&vic.request(apply(Media::Video)).await);
    wait_for_record(&gw, "r1", |r| !r.costream.applicants.is_empty()).await;
    let id = go_live(&mut anna, &mut vic).await;
    let mut room = user(other, "viv", "r1").await;
    // Before live, or by a bystander, or for another session: refused.
    let offer = Signal {
        sdp: Some("v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\n".into()),
        ..signal(id, SignalKind::Offer)
    };
    assert_eq!(
        code(&room.request(Request::Signal(offer.clone())).await),
        ErrorCode::Forbidden
    );
    assert_eq!(
        code(
            &anna
                .request(Request::Signal(Signal {
                    session: id + 1,
                    ..offer.clone()
                }))
                .await
        ),
        ErrorCode::CostreamStale
    );
    ok(&anna.request(Request::Signal(offer.clone())).await);
    let n = 60u64;
    for i in 0..n {
        let c = Signal {
            candidate: Some(format!(
                "candidate:{i} 1 udp 2122260223 127.0.0.1 {} typ host",
                5000 + i
            )),
            sdp_mid: Some("0".into()),
            sdp_mline_index: Some(0),
            ..signal(id, SignalKind::Candidate)
        };
        ok(&anna.request(Request::Signal(c)).await);
    }
    ok(&anna
        .request(Request::Signal(signal(id, SignalKind::EndOfCandidates)))
        .await);
    let got = vic.events_until(|e| signals(e).len() as u64 == n + 2).await;
    let got = signals(&got);
    let seqs: Vec<u64> = got.iter().map(|s| s.seq).collect();
    assert_eq!(seqs, (1..=n + 2).collect::<Vec<_>>(), "lost or reordered");
    assert_eq!(got[0].sdp, offer.sdp);
    assert_eq!(got[0].from, "anna");
    assert_eq!(
        got[5].candidate.as_deref().unwrap().split(' ').next(),
        Some("candidate:4")
    );
    assert_eq!(got.last().unwrap().kind, SignalKind::EndOfCandidates);
    // The answer goes back; an ICE restart is another offer.
    let answer = Signal {
        sdp: Some("v=0\r\n".into()),
        ..signal(id, SignalKind::Answer)
    };
    ok(&vic.request(Request::Signal(answer)).await);
    ok(&vic
        .request(Request::Signal(signal(id, SignalKind::Restart)))
        .await);
    let back = anna.events_until(|e| signals(e).len() == 2).await;
    let kinds: Vec<_> = signals(&back)
        .iter()
        .map(|s| (s.kind, s.seq, s.from.clone()))
        .collect();
    assert_eq!(
        kinds,
        [
            (SignalKind::Answer, 1, "vic".into()),
            (SignalKind::Restart, 2, "vic".into())
        ]
    );
    // Never in the room log: the bystander saw none, a replay holds none.
    room.request(Request::Ping(Ping {})).await;
    let mut late = gw.connect(None).await;
    let j = late.join("r1").await;
    let position = protocol::Resume {
        epoch: j.epoch.clone(),
        offset: 0,
    };
    let mut again = gw.connect(None).await;
    let replayed = again
        .request(Request::Join(Join {
            room: "r1".into(),
            resume: Some(position),
        }))
        .await;
    let ServerFrame::Joined(r) = replayed else {
        panic!()
    };
    assert!(signals(&r.missed).is_empty() && !r.missed.is_empty());
    while let Some(f) = room.backlog.pop_front() {
        if let ServerFrame::Batch(b) = f {
            assert!(signals(&b.events).is_empty());
        }
    }
}

#[tokio::test]
async fn signal_sizes_and_rates_are_limited() {
    let gw = TestGateway::start_with(|s| {
        s.costream_signal_rate = 5;
        s.costream_max_sdp_bytes = 16_384;
        s.costream_max_candidate_bytes = 1024;
    })
    .await;
    let (mut anna, mut vic) = setup(&gw).await;
    let id = go_live(&mut anna, &mut vic).await;
    // An SDP of 16 KiB passes, over `max_frame_bytes` (8 KiB); one byte more does not.
    let sdp = |n: usize| Signal {
        sdp: Some("a".repeat(n)),
        ..signal(id, SignalKind::Offer)
    };
    ok(&anna.request(Request::Signal(sdp(16_384))).await);
    assert_eq!(
        code(&anna.request(Request::Signal(sdp(16_385))).await),
        ErrorCode::SignalTooLarge
    );
    let cand = |n: usize| Signal {
        candidate: Some("c".repeat(n)),
        ..signal(id, SignalKind::Candidate)
    };
    ok(&anna.request(Request::Signal(cand(1024))).await);
    assert_eq!(
        code(&anna.request(Request::Signal(cand(1025))).await),
        ErrorCode::SignalTooLarge
    );
    // Shape: an offer without sdp, a candidate with an sdp.
    assert_eq!(
        code(
            &anna
                .request(Request::Signal(signal(id, SignalKind::Offer)))
                .await
        ),
        ErrorCode::Invalid
    );
    // Another request that large is still too_large.
    let big = format!(
        r#"{{"type":"comment","id":"big","text":"{}"}}"#,
        "x".repeat(9000)
    );
    anna.send_raw(tokio_tungstenite::tungstenite::Message::Text(big.into()))
        .await;
    let refused = loop {
        match anna.recv().await.unwrap() {
            ServerFrame::Error(e) => break e,
            _ => continue,
        }
    };
    assert_eq!((refused.code, refused.id), (ErrorCode::TooLarge, None));
    // 5/s: the burst is used up within a few more, with a retry hint.
    let mut limited = None;
    for _ in 0..10 {
        let f = anna.request(Request::Signal(cand(10))).await;
        if let ServerFrame::Error(e) = f {
            limited = Some(e);
            break;
        }
    }
    let e = limited.expect("never rate limited");
    assert_eq!(e.code, ErrorCode::RateLimited);
    assert!(e.retry_after_ms.unwrap() >= 1);
    // The other party's rate is its own.
    ok(&vic.request(Request::Signal(cand(10))).await);
}

#[tokio::test]
async fn a_guest_back_within_the_grace_resumes_and_one_away_too_long_ends_it() {
    let gw = TestGateway::start_with(|s| {
        s.costream_grace_ms = 400;
        s.timer_interval_ms = 20;
        s.presence_interval_ms = 50;
    })
    .await;
    let (mut anna, mut vic) = setup(&gw).await;
    let id = go_live(&mut anna, &mut vic).await;
    // Dropped, back within the grace: the same session, live.
    drop(vic);
    let got = anna
        .events_until(|e| {
            e.iter().any(|e| matches!(&e.kind, EventKind::CostreamStep(s) if s.reason.as_deref() == Some("guest_away")))
        })
        .await;
    assert!(!steps(&got).contains(&(id, CostreamPhase::Ended)));
    let mut vic = gw.connect_token(&token(&gw, "vic", true)).await;
    let mine = vic.join("r1").await.costream.mine.unwrap();
    assert_eq!((mine.session, mine.phase), (id, CostreamPhase::Live));
    let got = anna
        .events_until(|e| {
            e.iter().any(|e| matches!(&e.kind, EventKind::CostreamStep(s) if s.reason.is_none() && s.phase == CostreamPhase::Live))
        })
        .await;
    assert!(!steps(&got).contains(&(id, CostreamPhase::Ended)));
    // Past the grace (several timer passes): still live.
    tokio::time::sleep(std::time::Duration::from_millis(600)).await;
    ok(&vic.request(mute(id, true)).await);
    // Away for good: ended once, with the reason, for the room too.
    drop(vic);
    let mut room = user(&gw, "viv", "r1").await;
    let seen = room
        .events_until(|e| {
            public(e)
                .iter()
                .any(|c| c.reason.as_deref() == Some("guest_left"))
        })
        .await;
    assert_eq!(public(&seen).last().unwrap().live, None);
    let r = gw.node().store.room("r1").await.unwrap();
    assert_eq!(r.costream.current, None);
    let ends = anna
        .events_until(|e| steps(e).contains(&(id, CostreamPhase::Ended)))
        .await;
    assert_eq!(
        steps(&ends)
            .iter()
            .filter(|s| s.1 == CostreamPhase::Ended)
            .count(),
        1
    );
}

fn link(action: LinkAction, room: Option<&str>, id: Option<u64>) -> Request {
    Request::Link(LinkRequest {
        action,
        room: room.map(str::to_string),
        link: id,
        duration_s: None,
    })
}

fn link_step_of(f: &ServerFrame) -> LinkStep {
    match f {
        ServerFrame::Ack(Ack {
            event:
                Some(RoomEvent {
                    kind: EventKind::LinkStep(s),
                    ..
                }),
            ..
        }) => (**s).clone(),
        other => panic!("no link step in {other:?}"),
    }
}

fn links(events: &[RoomEvent]) -> Vec<(Option<u64>, String)> {
    events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Link(l) => Some((
                l.link.as_ref().map(|l| l.link),
                l.reason.clone().unwrap_or_default(),
            )),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn two_anchors_link_their_rooms_signal_and_end_it() {
    let gw = TestGateway::start_with(|s| {
        s.costream_pending_ms = 300;
        s.timer_interval_ms = 20;
    })
    .await;
    let peer = if test_backend() == "memory" {
        None
    } else {
        Some(gw.start_peer().await)
    };
    let other = peer.as_ref().unwrap_or(&gw);
    gw.room("r1", "anna", true).await;
    gw.room("r2", "bob", true).await;
    gw.room("r3", "cat", false).await;
    let mut anna = user(&gw, "anna", "r1").await;
    let mut bob = user(other, "bob", "r2").await;
    let mut fan = user(other, "fan", "r2").await;
    // Refusals: not live, itself, not the anchor.
    assert_eq!(
        code(
            &anna
                .request(link(LinkAction::Invite, Some("r3"), None))
                .await
        ),
        ErrorCode::RoomNotLive
    );
    assert_eq!(
        code(
            &anna
                .request(link(LinkAction::Invite, Some("r1"), None))
                .await
        ),
        ErrorCode::Invalid
    );
    assert_eq!(
        code(&anna.request(link(LinkAction::Invite, None, None)).await),
        ErrorCode::Invalid
    );
    assert_eq!(
        code(
            &fan.request(link(LinkAction::Invite, Some("r1"), None))
                .await
        ),
        ErrorCode::Forbidden
    );
    // An invitation that nobody answers expires.
    let first = link_step_of(
        &anna
            .request(link(LinkAction::Invite, Some("r2"), None))
            .await,
    );
    assert_eq!(first.phase, CostreamPhase::Invited);
    assert_eq!(
        code(
            &anna
                .request(link(LinkAction::Invite, Some("r2"), None))
                .await
        ),
        ErrorCode::CostreamBusy
    );
    let got = bob
        .events_until(|e| {
            e.iter().any(|e| matches!(&e.kind, EventKind::LinkStep(s) if s.reason.as_deref() == Some("expired")))
        })
        .await;
    assert!(
        got.iter().any(
            |e| matches!(&e.kind, EventKind::LinkStep(s) if s.phase == CostreamPhase::Invited)
        )
    );
    let id = first.link.link;
    assert_eq!(
        code(
            &bob.request(link(LinkAction::Accept, Some("r1"), Some(id)))
                .await
        ),
        ErrorCode::CostreamStale
    );
    // Invited, declined.
    let second = link_step_of(
        &anna
            .request(link(LinkAction::Invite, Some("r2"), None))
            .await,
    );
    let d = link_step_of(
        &bob.request(link(
            LinkAction::Decline,
            Some("r1"),
            Some(second.link.link),
        ))
        .await,
    );
    assert_eq!(d.reason.as_deref(), Some("declined"));
    // Invited, accepted: both rooms see it live.
    let third = link_step_of(
        &anna
            .request(link(LinkAction::Invite, Some("r2"), None))
            .await,
    )
    .link
    .link;
    let live = link_step_of(
        &bob.request(link(LinkAction::Accept, Some("r1"), Some(third)))
            .await,
    );
    assert_eq!(
        (live.phase, live.link.to_anchor.as_str()),
        (CostreamPhase::Live, "bob")
    );
    let seen = fan.events_until(|e| !links(e).is_empty()).await;
    assert_eq!(links(&seen), [(Some(third), "started".to_string())]);
    let mut late = gw.connect(None).await;
    assert_eq!(late.join("r1").await.costream.link.unwrap().to_room, "r2");
    // A co-stream guest cannot be taken meanwhile.
    ok(&anna.request(on()).await);
    let mut vic = user(&gw, "vic", "r1").await;
    ok(&vic.request(apply(Media::Voice)).await);
    assert_eq!(
        code(&anna.request(accept("vic")).await),
        ErrorCode::CostreamBusy
    );
    // The relay runs between the two anchors, only with `link: true`.
    let offer = Signal {
        sdp: Some("v=0\r\n".into()),
        link: true,
        ..signal(third, SignalKind::Offer)
    };
    ok(&anna.request(Request::Signal(offer.clone())).await);
    assert_eq!(
        code(&fan.request(Request::Signal(offer.clone())).await),
        ErrorCode::Forbidden
    );
    assert_eq!(
        code(
            &anna
                .request(Request::Signal(Signal {
                    link: false,
                    ..offer
                }))
                .await
        ),
        ErrorCode::CostreamStale
    );
    let got = bob.events_until(|e| !signals(e).is_empty()).await;
    assert_eq!(signals(&got)[0].from, "anna");
    // Either anchor ends it: both rooms see it end, once.
    let end = link_step_of(&bob.request(link(LinkAction::End, None, Some(third))).await);
    assert_eq!(end.reason.as_deref(), Some("ended_by_anchor"));
    assert_eq!(
        code(&anna.request(link(LinkAction::End, None, Some(third))).await),
        ErrorCode::CostreamStale
    );
    let seen = fan
        .events_until(|e| links(e).iter().any(|l| l.0.is_none()))
        .await;
    assert_eq!(links(&seen), [(None, "ended_by_anchor".to_string())]);
    let seen = late
        .events_until(|e| links(e).iter().any(|l| l.0.is_none()))
        .await;
    assert_eq!(links(&seen), [(None, "ended_by_anchor".to_string())]);
    let (r1, r2) = (
        gw.node().store.room("r1").await.unwrap(),
        gw.node().store.room("r2").await.unwrap(),
    );
    assert_eq!((r1.costream.link, r2.costream.link), (None, None));
}
