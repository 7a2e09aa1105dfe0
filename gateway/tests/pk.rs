//! PK (battle) on an anchor-to-anchor link, on every backend: the start,
//! scores from each room's likes and the admin API (at most once a second,
//! spaced by the events' `ts`), the end by time (the duration fast-forwarded
//! in the record; the timer runs every 20 ms), by `pk_end` and by the link
//! ending, the winner or a draw, every refusal's code, the join snapshot,
//! the history over the admin API, and the result logged exactly once in
//! each room with two nodes racing the end.
#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use common::*;
use gateway::store::LogPosition;
use protocol::costream::*;
use protocol::pk::*;
use protocol::*;
use serde_json::json;

fn token(gw: &TestGateway, user: &str) -> String {
    let now = gateway::clock::now_ms() as u64 / 1000;
    gw.node()
        .keys
        .mint(user, &format!("nick-{user}"), true, now, 600)
        .unwrap()
}

async fn user(gw: &TestGateway, name: &str, room: &str) -> Client {
    let mut c = gw.connect_token(&token(gw, name)).await;
    c.join(room).await;
    c
}

fn link(action: LinkAction, room: Option<&str>, id: Option<u64>, d: Option<u32>) -> Request {
    Request::Link(LinkRequest {
        action,
        room: room.map(str::to_string),
        link: id,
        duration_s: d,
    })
}

fn code(f: &ServerFrame) -> ErrorCode {
    error_code(f).unwrap_or_else(|| panic!("not an error: {f:?}"))
}

fn acked(f: &ServerFrame) -> RoomEvent {
    match f {
        ServerFrame::Ack(Ack { event: Some(e), .. }) => e.clone(),
        other => panic!("no ack event in {other:?}"),
    }
}

fn pk_of(f: &ServerFrame) -> PkEvent {
    match acked(f).kind {
        EventKind::Pk(p) => *p,
        other => panic!("not a pk event: {other:?}"),
    }
}

/// The `pk` events among `events`, with their `ts`.
fn pks(events: &[RoomEvent]) -> Vec<(i64, PkEvent)> {
    events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Pk(p) => Some((e.ts, (**p).clone())),
            _ => None,
        })
        .collect()
}

fn ended(events: &[RoomEvent]) -> Option<PkEvent> {
    pks(events)
        .into_iter()
        .map(|(_, p)| p)
        .find(|p| p.state == PkState::Ended)
}

/// Two live rooms, r1 (anna, the inviting room) and r2 (bob), linked; bob
/// and his fan on `other`. Returns anna, bob, a fan of each and the link id.
struct Linked {
    anna: Client,
    bob: Client,
    fan1: Client,
    fan2: Client,
    id: u64,
}

async fn linked(gw: &TestGateway, other: &TestGateway) -> Linked {
    gw.room("r1", "anna", true).await;
    gw.room("r2", "bob", true).await;
    let mut anna = user(gw, "anna", "r1").await;
    let mut bob = user(other, "bob", "r2").await;
    let fan1 = user(gw, "fan1", "r1").await;
    let fan2 = user(other, "fan2", "r2").await;
    let invited = anna
        .request(link(LinkAction::Invite, Some("r2"), None, None))
        .await;
    let id = match acked(&invited).kind {
        EventKind::LinkStep(s) => s.link.link,
        other => panic!("{other:?}"),
    };
    let live = bob
        .request(link(LinkAction::Accept, Some("r1"), Some(id), None))
        .await;
    assert!(matches!(acked(&live).kind, EventKind::LinkStep(_)));
    Linked {
        anna,
        bob,
        fan1,
        fan2,
        id,
    }
}

async fn gateway() -> TestGateway {
    TestGateway::start_with(|s| s.timer_interval_ms = 20).await
}

/// Off `memory`, a second node on the same backend.
async fn peer(gw: &TestGateway) -> Option<TestGateway> {
    if test_backend() == "memory" {
        None
    } else {
        Some(gw.start_peer().await)
    }
}

/// Moves the running PK's end to now in the inviting room's record (as
/// if its duration had passed); the timer does the rest.
async fn time_passes(gw: &TestGateway) {
    let now = gateway::clock::now_ms();
    let room = gw
        .node()
        .update_room("r1", &|r| {
            let pk = r.costream.link.as_mut().unwrap().pk.as_mut().unwrap();
            pk.ends_at = now;
            Ok(())
        })
        .await
        .unwrap();
    gw.node().set_room_deadline(&room).await;
}

async fn like(c: &mut Client, count: u32) {
    assert!(matches!(
        c.request(Request::Like(Like { count })).await,
        ServerFrame::Ack(_)
    ));
}

async fn score(gw: &TestGateway, room: &str, body: serde_json::Value) -> (u16, serde_json::Value) {
    gw.api("POST", &format!("/api/rooms/{room}/pk/score"), Some(body))
        .await
}

async fn history(gw: &TestGateway, room: &str) -> serde_json::Value {
    let (st, body) = gw.api("GET", &format!("/api/rooms/{room}/pk"), None).await;
    assert_eq!(st, 200, "{body}");
    body
}

#[tokio::test]
async fn likes_and_admin_scores_count_at_most_once_a_second_and_the_higher_score_wins() {
    let gw = gateway().await;
    let peer = peer(&gw).await;
    let other = peer.as_ref().unwrap_or(&gw);
    let Linked {
        mut anna,
        bob: _bob,
        mut fan1,
        mut fan2,
        id,
    } = linked(&gw, other).await;
    // Likes before the start do not count.
    like(&mut fan1, 7).await;
    fan1.totals_until(|t| t.likes == 7).await;
    let started = pk_of(
        &anna
            .request(link(LinkAction::PkStart, None, Some(id), Some(60)))
            .await,
    );
    assert_eq!(
        (started.state, started.link, &started.rooms, &started.scores),
        (
            PkState::Started,
            id,
            &vec!["r1".to_string(), "r2".to_string()],
            &vec![0, 0]
        )
    );
    assert_eq!(started.ends_at - started.started_at, 60_000);
    assert_eq!(started.result, None);
    // Both rooms see it; a joiner finds it in the snapshot.
    for fan in [&mut fan1, &mut fan2] {
        let got = fan.events_until(|e| !pks(e).is_empty()).await;
        assert_eq!(pks(&got)[0].1, started);
    }
    let mut late = other.connect(None).await;
    assert_eq!(late.join("r2").await.pk.map(|p| p.pk), Some(started.pk));
    // Likes in both rooms, several taps, one score event a second at most.
    for _ in 0..3 {
        like(&mut fan1, 1).await;
        like(&mut fan2, 2).await;
        tokio::time::sleep(std::time::Duration::from_millis(150)).await;
    }
    let want = |s: Vec<u64>| move |e: &[RoomEvent]| pks(e).iter().any(|(_, p)| p.scores == s);
    let got = fan1.events_until(want(vec![3, 6])).await;
    let seen = fan2.events_until(want(vec![3, 6])).await;
    // Admin additions: add, then overwrite.
    let (st, body) = score(&gw, "r1", json!({"add": 10})).await;
    assert_eq!(st, 200, "{body}");
    assert_eq!(body["admin"], json!([10, 0]));
    let (st, body) = score(other, "r2", json!({"set": 40})).await;
    assert_eq!((st, &body["admin"]), (200, &json!([10, 40])), "{body}");
    let (st, body) = score(other, "r2", json!({"set": 1})).await;
    assert_eq!((st, &body["admin"]), (200, &json!([10, 1])), "{body}");
    let more = fan1.events_until(want(vec![13, 7])).await;
    // Spacing by the events' own time: from the start on, a second apart.
    let mut ts: Vec<i64> = vec![started.started_at];
    ts.extend(
        pks(&got)
            .iter()
            .chain(pks(&more).iter())
            .filter(|(_, p)| p.state == PkState::Score)
            .map(|(t, _)| *t),
    );
    assert!(ts.len() >= 2, "{ts:?}");
    for w in ts.windows(2) {
        assert!(w[1] - w[0] >= PK_SCORE_EVERY_MS, "{ts:?}");
    }
    // Scores change only upwards here, and each event differs from the last.
    let scores: Vec<Vec<u64>> = pks(&seen).into_iter().map(|(_, p)| p.scores).collect();
    for w in scores.windows(2) {
        assert_ne!(w[0], w[1], "{scores:?}");
    }
    // Time over: the higher score wins, in both rooms.
    time_passes(&gw).await;
    let end1 = ended(&fan1.events_until(|e| ended(e).is_some()).await).unwrap();
    let end2 = ended(&fan2.events_until(|e| ended(e).is_some()).await).unwrap();
    assert_eq!(end1, end2);
    assert_eq!(end1.scores, vec![13, 7]);
    assert_eq!(
        end1.result,
        Some(PkResult {
            winner: Some("r1".into()),
            reason: PkReason::TimeOver
        })
    );
    // The link stays live; the history holds it on every node.
    assert!(
        gw.node()
            .store
            .room("r2")
            .await
            .unwrap()
            .costream
            .link
            .is_some()
    );
    for (node, room) in [(&gw, "r1"), (other, "r2"), (other, "r1")] {
        let h = history(node, room).await;
        assert_eq!(h["current"], json!(null));
        assert_eq!(h["history"].as_array().unwrap().len(), 1, "{h}");
        assert_eq!(h["history"][0]["result"]["reason"], "time_over");
        assert_eq!(h["history"][0]["scores"], json!([13, 7]));
    }
    let mut after = gw.connect(None).await;
    assert_eq!(after.join("r1").await.pk, None);
}

#[tokio::test]
async fn a_draw_an_early_end_and_a_forfeit_when_the_link_ends() {
    let gw = gateway().await;
    let peer = peer(&gw).await;
    let other = peer.as_ref().unwrap_or(&gw);
    let Linked {
        mut anna,
        mut bob,
        mut fan1,
        mut fan2,
        id,
    } = linked(&gw, other).await;
    // No score on either side: a draw.
    let first = pk_of(
        &anna
            .request(link(LinkAction::PkStart, None, Some(id), None))
            .await,
    );
    assert_eq!(first.ends_at - first.started_at, 300_000);
    time_passes(&gw).await;
    let draw = ended(&fan2.events_until(|e| ended(e).is_some()).await).unwrap();
    assert_eq!((draw.pk, draw.scores.clone()), (first.pk, vec![0, 0]));
    assert_eq!(
        draw.result,
        Some(PkResult {
            winner: None,
            reason: PkReason::TimeOver
        })
    );
    // Another may start; the invited room's anchor ends it early.
    let second = pk_of(
        &bob.request(link(LinkAction::PkStart, None, Some(id), Some(30)))
            .await,
    );
    assert!(second.pk > first.pk);
    score(&gw, "r2", json!({"add": 5})).await;
    let early = pk_of(
        &bob.request(link(LinkAction::PkEnd, None, Some(id), None))
            .await,
    );
    assert_eq!(early.scores, vec![0, 5]);
    assert_eq!(
        early.result,
        Some(PkResult {
            winner: Some("r2".into()),
            reason: PkReason::EndedEarly
        })
    );
    assert_eq!(
        code(
            &anna
                .request(link(LinkAction::PkEnd, None, Some(id), None))
                .await
        ),
        ErrorCode::NotFound
    );
    let got = fan1
        .events_until(|e| {
            pks(e)
                .iter()
                .any(|(_, p)| p.pk == second.pk && p.result.is_some())
        })
        .await;
    assert_eq!(ended(&got[got.len() - 1..]).unwrap(), early);
    // A third: r1 leads, then r1's anchor ends the link and forfeits.
    let third = pk_of(
        &anna
            .request(link(LinkAction::PkStart, None, Some(id), Some(30)))
            .await,
    );
    let (st, _) = score(&gw, "r1", json!({"set": 100})).await;
    assert_eq!(st, 200);
    ok_link(
        &anna
            .request(link(LinkAction::End, None, Some(id), None))
            .await,
    );
    let got = fan2
        .events_until(|e| {
            e.iter()
                .any(|e| matches!(&e.kind, EventKind::Link(l) if l.link.is_none()))
        })
        .await;
    let left = pks(&got)
        .into_iter()
        .map(|(_, p)| p)
        .find(|p| p.pk == third.pk && p.state == PkState::Ended)
        .unwrap();
    assert_eq!(left.scores, vec![100, 0]);
    assert_eq!(
        left.result,
        Some(PkResult {
            winner: Some("r2".into()),
            reason: PkReason::AnchorLeft
        })
    );
    // The pk event comes before the link's end.
    let pos = |f: &dyn Fn(&EventKind) -> bool| got.iter().position(|e| f(&e.kind)).unwrap();
    assert!(
        pos(&|k| matches!(k, EventKind::Pk(p) if p.pk == third.pk && p.state == PkState::Ended))
            < pos(&|k| matches!(k, EventKind::Link(l) if l.link.is_none()))
    );
    // Each room's history, newest first.
    for room in ["r1", "r2"] {
        let h = history(other, room).await;
        let reasons: Vec<_> = h["history"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["result"]["reason"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(reasons, ["anchor_left", "ended_early", "time_over"], "{h}");
    }
}

fn ok_link(f: &ServerFrame) {
    assert!(matches!(acked(f).kind, EventKind::LinkStep(_)), "{f:?}");
}

#[tokio::test]
async fn refusals_have_their_codes() {
    let gw = gateway().await;
    gw.room("r1", "anna", true).await;
    gw.room("r2", "bob", true).await;
    let mut anna = user(&gw, "anna", "r1").await;
    let mut bob = user(&gw, "bob", "r2").await;
    let mut fan = user(&gw, "fan", "r1").await;
    // No link at all.
    assert_eq!(
        code(
            &anna
                .request(link(LinkAction::PkStart, None, Some(1), None))
                .await
        ),
        ErrorCode::CostreamStale
    );
    // Invited, not live yet.
    let invited = anna
        .request(link(LinkAction::Invite, Some("r2"), None, None))
        .await;
    let id = match acked(&invited).kind {
        EventKind::LinkStep(s) => s.link.link,
        other => panic!("{other:?}"),
    };
    assert_eq!(
        code(
            &anna
                .request(link(LinkAction::PkStart, None, Some(id), None))
                .await
        ),
        ErrorCode::InvalidTransition
    );
    ok_link(
        &bob.request(link(LinkAction::Accept, Some("r1"), Some(id), None))
            .await,
    );
    // Field limits.
    for bad in [
        link(LinkAction::PkStart, None, Some(id), Some(29)),
        link(LinkAction::PkStart, None, Some(id), Some(3601)),
        link(LinkAction::PkStart, None, None, None),
        link(LinkAction::PkEnd, None, None, None),
    ] {
        assert_eq!(code(&anna.request(bad).await), ErrorCode::Invalid);
    }
    // Not the anchor.
    assert_eq!(
        code(
            &fan.request(link(LinkAction::PkStart, None, Some(id), None))
                .await
        ),
        ErrorCode::Forbidden
    );
    // Nothing runs yet.
    assert_eq!(
        code(
            &bob.request(link(LinkAction::PkEnd, None, Some(id), None))
                .await
        ),
        ErrorCode::NotFound
    );
    let (st, body) = score(&gw, "r1", json!({"add": 1})).await;
    assert_eq!(
        (st, body["code"].as_str()),
        (404, Some("not_found")),
        "{body}"
    );
    // One at a time.
    pk_of(
        &anna
            .request(link(LinkAction::PkStart, None, Some(id), Some(3600)))
            .await,
    );
    assert_eq!(
        code(
            &bob.request(link(LinkAction::PkStart, None, Some(id), None))
                .await
        ),
        ErrorCode::InvalidTransition
    );
    // Admin bodies.
    for bad in [
        json!({}),
        json!({"add": 1, "set": 2}),
        json!({"add": -1}),
        json!({"add": 1, "extra": true}),
        json!({"set": 1_000_000_001u64}),
    ] {
        let (st, body) = score(&gw, "r2", bad.clone()).await;
        assert_eq!(
            (st, body["code"].as_str()),
            (400, Some("invalid")),
            "{bad} {body}"
        );
    }
    // The admin part is capped: 1000 adds of 10^9 reach 10^12, one more is refused.
    let (st, _) = score(&gw, "r2", json!({"set": 1_000_000_000u64})).await;
    assert_eq!(st, 200);
    let cap = gw
        .node()
        .update_room("r1", &|r| {
            let pk = r.costream.link.as_mut().unwrap().pk.as_mut().unwrap();
            pk.admin[1] = gateway::costream::pk::MAX_ADMIN_SCORE;
            Ok(())
        })
        .await;
    assert!(cap.is_ok());
    let (st, body) = score(&gw, "r2", json!({"add": 1})).await;
    assert_eq!(
        (st, body["code"].as_str()),
        (400, Some("invalid")),
        "{body}"
    );
    let (st, body) = gw.api("GET", "/api/rooms/nope/pk", None).await;
    assert_eq!(
        (st, body["code"].as_str()),
        (404, Some("room_not_found")),
        "{body}"
    );
    let (st, body) = score(&gw, "nope", json!({"add": 1})).await;
    assert_eq!(
        (st, body["code"].as_str()),
        (404, Some("room_not_found")),
        "{body}"
    );
    // The running PK is there for the admin API.
    let h = history(&gw, "r2").await;
    assert_eq!(h["current"]["state"], "started", "{h}");
    assert_eq!(h["history"], json!([]));
}

/// Every `pk` event `ended` of PK `pk` in the room's log.
async fn logged_ends(gw: &TestGateway, room: &str, pk: u64) -> usize {
    let epoch = gw.node().store.head(room).await.unwrap().epoch;
    let replay = gw
        .node()
        .store
        .replay(room, &LogPosition { epoch, offset: 0 })
        .await
        .unwrap();
    let gateway::store::Replay::Recovered(events) = replay else {
        panic!("log not recovered");
    };
    pks(&events)
        .iter()
        .filter(|(_, p)| p.pk == pk && p.state == PkState::Ended)
        .count()
}

#[tokio::test]
async fn the_result_is_logged_exactly_once_in_each_room_across_two_nodes() {
    let gw = gateway().await;
    let peer = peer(&gw).await;
    let other = peer.as_ref().unwrap_or(&gw);
    let Linked {
        mut anna,
        bob: _bob,
        mut fan1,
        mut fan2,
        id,
    } = linked(&gw, other).await;
    let started = pk_of(
        &anna
            .request(link(LinkAction::PkStart, None, Some(id), Some(30)))
            .await,
    );
    score(other, "r2", json!({"add": 3})).await;
    time_passes(&gw).await;
    // Both nodes' timers run; race two more passes on top.
    let room = gw.node().store.room("r1").await.unwrap();
    let now = gateway::clock::now_ms();
    tokio::join!(
        gw.node().fire_pk(&room, now),
        other.node().fire_pk(&room, now)
    );
    let end1 = ended(&fan1.events_until(|e| ended(e).is_some()).await).unwrap();
    let end2 = ended(&fan2.events_until(|e| ended(e).is_some()).await).unwrap();
    assert_eq!(end1, end2);
    assert_eq!(end1.result.as_ref().unwrap().winner.as_deref(), Some("r2"));
    // A few timer intervals later, still one in each log (and history).
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    for room in ["r1", "r2"] {
        assert_eq!(logged_ends(&gw, room, started.pk).await, 1, "{room}");
        let h = history(other, room).await;
        assert_eq!(h["history"].as_array().unwrap().len(), 1, "{h}");
    }
}
