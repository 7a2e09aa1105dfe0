//! Lotteries with the drand beacon, on the backend under test: the
//! announcement commits to the first round after the window end, the draw
//! waits for it, fetches it over real HTTP from the endpoints in order
//! (skipping a dead one, a failing one and a forged round), mixes the
//! recorded quicknet signature into the VRF input and publishes a record
//! that verifies offline; an unreachable beacon ends the lottery abnormal
//! (`beacon_unavailable`); two nodes draw it once.
#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use std::time::Duration;

use common::drand::{Drand, closed_endpoint, genesis_for, signature};
use common::{Client, TestGateway, test_backend};
use gateway::config::Settings;
use protocol::*;

/// Period of the test chain: long, so the round after a short window is
/// known in advance (round 123 at `ROUND_IN_S` from the start).
const PERIOD_S: u32 = 3600;
const ROUND: u64 = 123;
const ROUND_IN_S: u64 = 8;

/// Beacon settings putting quicknet round 123 `ROUND_IN_S` seconds from now
/// (whole seconds, so a 2 s window started soon ends before it).
fn beacon(s: &mut Settings, endpoints: &[String], deadline_ms: u64) -> i64 {
    let round_at_s = (gateway::clock::now_ms() / 1000) as u64 + ROUND_IN_S;
    s.timer_interval_ms = 50;
    s.beacon_endpoints = endpoints.join(",");
    s.beacon_genesis_s = genesis_for(ROUND, round_at_s, PERIOD_S);
    s.beacon_period_s = PERIOD_S;
    s.beacon_deadline_ms = deadline_ms;
    round_at_s as i64 * 1000
}

fn lottery_events(events: &[RoomEvent]) -> Vec<LotteryEvent> {
    events
        .iter()
        .filter(|e| e.offset != 0)
        .filter_map(|e| match &e.kind {
            EventKind::Lottery(l) => Some(l.as_ref().clone()),
            _ => None,
        })
        .collect()
}

fn find(events: &[RoomEvent], state: LotteryState) -> Option<LotteryEvent> {
    lottery_events(events)
        .into_iter()
        .find(|l| l.state == state)
}

fn acked(reply: &ServerFrame) -> LotteryEvent {
    match reply {
        ServerFrame::Ack(Ack {
            event:
                Some(RoomEvent {
                    kind: EventKind::Lottery(l),
                    ..
                }),
            ..
        }) => l.as_ref().clone(),
        other => panic!("expected a lottery ack, got {other:?}"),
    }
}

async fn joined(gw: &TestGateway, room: &str, user: &str) -> Client {
    let mut c = gw.connect(Some(user)).await;
    c.join(room).await;
    c
}

/// A 2 s comment lottery with K winners, created and started.
async fn start_lottery(anchor: &mut Client, winners: u32) -> String {
    let terms = LotteryTerms {
        kind: LotteryKind::Comment,
        keyword: None,
        duration_s: 2,
        winners,
        prize: "Tea set".into(),
        rules: "Comment during the window.".into(),
    };
    let id = acked(&anchor.request(Request::LotteryCreate(terms)).await).lottery;
    let started = acked(
        &anchor
            .request(Request::LotteryStart(LotteryStart {
                lottery: id.clone(),
            }))
            .await,
    );
    assert_eq!(started.state, LotteryState::Announced);
    id
}

/// Waits until `gw`'s hub of `room` sees a running lottery (comments
/// count from then on).
async fn running(gw: &TestGateway, room: &str) {
    common::wait_for_record(gw, room, |r| {
        r.lotteries
            .iter()
            .any(|s| s.state == gateway::lotteries::SlotState::Running)
    })
    .await;
}

/// The record as served publicly, parsed from its canonical text.
async fn public_record(gw: &TestGateway, room: &str, id: &str) -> ::lottery::Record {
    let url = format!(
        "http://{}/lottery/rooms/{room}/lotteries/{id}/record",
        gw.addr
    );
    let resp = reqwest::get(url).await.unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    ::lottery::Record::from_canonical(&resp.text().await.unwrap()).unwrap()
}

/// Waits (up to 15 s) for the lottery event `state`, reading on.
async fn until(c: &mut Client, state: LotteryState) -> (Vec<RoomEvent>, i64) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    let mut got = vec![];
    while find(&got, state).is_none() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "no {state:?} in {got:?}"
        );
        if let Ok(Some(ServerFrame::Batch(b))) =
            tokio::time::timeout(Duration::from_secs(1), c.recv()).await
        {
            got.extend(b.events);
        }
    }
    (got, gateway::clock::now_ms())
}

#[tokio::test]
async fn a_draw_mixes_in_the_committed_quicknet_round() {
    let drand = Drand::start().await;
    let endpoints = [
        closed_endpoint(),
        drand.endpoint("down"),
        drand.endpoint("forged"),
        drand.endpoint("real"),
    ];
    let mut round_at = 0;
    let gw = TestGateway::start_with(|s| round_at = beacon(s, &endpoints, 10_000)).await;
    gw.room("bc", "anchor", true).await;
    let mut anchor = joined(&gw, "bc", "anchor").await;
    let mut watcher = joined(&gw, "bc", "watcher").await;
    let mut viewers = vec![];
    for u in ["v1", "v2", "v3"] {
        viewers.push(joined(&gw, "bc", u).await);
    }
    // Warm the comment path (the first comment of a node loads the word
    // filter's lexicon) before the short window; this one does not count.
    viewers[0].comment("warm up").await;
    let id = start_lottery(&mut anchor, 2).await;
    running(&gw, "bc").await;
    for v in &mut viewers {
        let r = v.comment("me").await;
        assert!(matches!(r, ServerFrame::Ack(_)), "{r:?}");
    }
    // The commitment goes out at window end, before the round exists and
    // before anyone asked the beacon for it.
    // Its log time, not when the watcher got it: the claim is about when
    // the node committed, not how long delivery took.
    let (mut log, _) = until(&mut watcher, LotteryState::Committed).await;
    let committed_at = log
        .iter()
        .find(|e| {
            e.offset != 0
                && matches!(&e.kind, EventKind::Lottery(l) if l.state == LotteryState::Committed)
        })
        .map(|e| e.ts)
        .unwrap();
    assert!(
        committed_at < round_at,
        "committed at {committed_at}, round at {round_at}"
    );
    let (events, _) = until(&mut watcher, LotteryState::Drawn).await;
    log.extend(events.iter().cloned());
    // Each state once in the log, although the draw took several timer
    // passes (waiting for the round, then three endpoints).
    let states: Vec<LotteryState> = lottery_events(&log).iter().map(|l| l.state).collect();
    let once = |st: LotteryState| states.iter().filter(|s| **s == st).count();
    assert_eq!(
        (once(LotteryState::Committed), once(LotteryState::Drawn)),
        (1, 1),
        "{states:?}"
    );
    let hits = drand.hits();
    assert!(!hits.is_empty());
    let chain = ::lottery::beacon::QUICKNET_CHAIN_HASH_HEX;
    for h in &hits {
        assert_eq!((h.round, h.chain.as_str()), (ROUND, chain), "{h:?}");
        assert!(
            h.at_ms >= round_at,
            "asked at {} before the round's time {round_at}",
            h.at_ms
        );
        assert!(
            committed_at <= h.at_ms + 50,
            "asked before the commitment was out"
        );
    }
    // Tried in order: the dead one, then down, forged (refused), real.
    let modes: Vec<&str> = hits.iter().map(|h| h.mode.as_str()).collect();
    assert_eq!(modes[..3], ["down", "forged", "real"], "{modes:?}");

    let drawn = find(&events, LotteryState::Drawn).unwrap();
    let rec = public_record(&gw, "bc", &id).await;
    let checked = ::lottery::verify(&rec).unwrap();
    let b = rec.announcement.definition.beacon.unwrap();
    assert_eq!(b.round, ROUND);
    assert_eq!(b.round_time_ms() as i64, round_at);
    assert!(b.round_time_ms() > rec.announcement.definition.window_end_ms);
    let ::lottery::Outcome::Drawn(d) = &rec.outcome else {
        panic!("not drawn: {rec:?}");
    };
    let round = d.beacon.unwrap();
    assert_eq!(round.round, ROUND);
    assert_eq!(hex::encode(round.signature), signature(ROUND).unwrap());
    assert_eq!(checked.count, 3);
    let winners: Vec<String> = drawn.winners.iter().map(|w| w.user.clone()).collect();
    let recorded: Vec<String> = checked.winners.iter().map(|w| w.user_id.clone()).collect();
    assert_eq!(winners, recorded);
    assert_eq!(winners.len(), 2);

    // The events the watcher saw carry the record's hashes (lottery verify
    // --events); a log whose commitment differs, or that lacks it, fails.
    let json = serde_json::to_value(&log).unwrap();
    let seen = ::lottery::check_events(&rec, &json).unwrap();
    assert!(seen.events >= 4, "{seen:?}");
    assert!(seen.committed_ts.unwrap() < round_at as u64);
    let announced = find(&log, LotteryState::Announced).unwrap();
    assert_eq!(announced.announcement.unwrap().beacon.unwrap().round, ROUND);
    let mut changed = json.clone();
    for e in changed.as_array_mut().unwrap() {
        if e["state"] == "committed" {
            e["commitment"]["count"] = 4.into();
        }
    }
    assert!(matches!(
        ::lottery::check_events(&rec, &changed),
        Err(::lottery::EventError::Commitment(..))
    ));
    let mut resigned = json.clone();
    for e in resigned.as_array_mut().unwrap() {
        if e["state"] == "announced" {
            e["announcement"]["announcement_hash"] = "00".repeat(32).into();
        }
    }
    assert!(matches!(
        ::lottery::check_events(&rec, &resigned),
        Err(::lottery::EventError::Announcement(..))
    ));

    // Offline checks: another recorded round's signature in its place, or
    // no round at all, and the record no longer verifies.
    let mut forged = rec.clone();
    if let ::lottery::Outcome::Drawn(d) = &mut forged.outcome {
        let other = hex::decode(signature(3).unwrap()).unwrap();
        d.beacon.as_mut().unwrap().signature.copy_from_slice(&other);
    }
    assert_eq!(
        ::lottery::verify(&forged),
        Err(::lottery::VerifyError::BeaconSignature(ROUND))
    );
    let mut stripped = rec.clone();
    if let ::lottery::Outcome::Drawn(d) = &mut stripped.outcome {
        d.beacon = None;
    }
    assert_eq!(
        ::lottery::verify(&stripped),
        Err(::lottery::VerifyError::BeaconRound)
    );
}

#[tokio::test]
async fn an_unreachable_beacon_ends_the_lottery_abnormal() {
    let drand = Drand::start().await;
    let endpoints = [closed_endpoint(), drand.endpoint("down")];
    let mut round_at = 0;
    let gw = TestGateway::start_with(|s| round_at = beacon(s, &endpoints, 1_000)).await;
    gw.room("bu", "anchor", true).await;
    let mut anchor = joined(&gw, "bu", "anchor").await;
    let mut watcher = joined(&gw, "bu", "watcher").await;
    let mut v = joined(&gw, "bu", "v1").await;
    let id = start_lottery(&mut anchor, 1).await;
    v.comment("me").await;
    let (events, at) = until(&mut watcher, LotteryState::Abnormal).await;
    assert!(find(&events, LotteryState::Drawn).is_none());
    assert!(find(&events, LotteryState::Committed).is_some());
    let abnormal = find(&events, LotteryState::Abnormal).unwrap();
    assert_eq!(abnormal.reason.as_deref(), Some("beacon_unavailable"));
    // It kept trying until the deadline after the round's time, not longer
    // than a few retries past it.
    assert!(
        at >= round_at + 1_000,
        "gave up at {at}, round at {round_at}"
    );
    assert!(drand.hits().len() >= 2, "{:?}", drand.hits());
    let rec = public_record(&gw, "bu", &id).await;
    let checked = ::lottery::verify(&rec).unwrap();
    assert_eq!(checked.state, ::lottery::DrawState::Abnormal);
    let ::lottery::Outcome::Abnormal(a) = &rec.outcome else {
        panic!("{rec:?}");
    };
    assert_eq!(a.reason, "beacon_unavailable");
}

#[tokio::test]
async fn two_nodes_draw_a_beacon_lottery_once() {
    if test_backend() == "memory" {
        eprintln!("two nodes need a shared Redis backend: covered on redis and cluster");
        return;
    }
    let drand = Drand::start().await;
    let endpoints = [drand.endpoint("real")];
    let mut round_at = 0;
    let a = TestGateway::start_with(|s| round_at = beacon(s, &endpoints, 10_000)).await;
    let b = a.start_peer().await;
    a.room("b2", "anchor", true).await;
    let mut anchor = joined(&a, "b2", "anchor").await;
    let mut va = joined(&a, "b2", "va").await;
    let mut vb = joined(&b, "b2", "vb").await;
    va.comment("warm up").await;
    vb.comment("warm up").await;
    let id = start_lottery(&mut anchor, 1).await;
    running(&a, "b2").await;
    running(&b, "b2").await;
    va.comment("a").await;
    vb.comment("b").await;
    let (ea, _) = until(&mut va, LotteryState::Drawn).await;
    let (eb, _) = until(&mut vb, LotteryState::Drawn).await;
    assert_eq!(
        find(&ea, LotteryState::Drawn).unwrap().winners,
        find(&eb, LotteryState::Drawn).unwrap().winners
    );
    // Give both nodes' timers time to misbehave, then count.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let rec = public_record(&b, "b2", &id).await;
    ::lottery::verify(&rec).unwrap();
    let drawn: usize = [&ea, &eb]
        .iter()
        .map(|e| {
            lottery_events(e)
                .iter()
                .filter(|l| l.state == LotteryState::Drawn)
                .count()
        })
        .sum();
    assert_eq!(drawn, 2, "one drawn event, seen once on each node");
    // One draw fetched the round (the lease holder), at its time.
    let hits = drand.hits();
    assert_eq!(hits.len(), 1, "{hits:?}");
    assert!(hits[0].at_ms >= round_at);
}
