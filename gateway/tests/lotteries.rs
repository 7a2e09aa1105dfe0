//! Lotteries end to end on the backend under test: create and start over
//! WebSocket and the admin API, participants from delivered comments (with
//! a keyword) and likes, one draw at window end with the commitment
//! published first, the record verifying against the served key, the
//! abnormal outcome when the live ends first, the per-room limit, and one
//! draw even when several nodes (or several timer passes) race for it.
#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use std::collections::HashSet;
use std::time::Duration;

use common::{Client, TestGateway, error_code, test_backend};
use protocol::*;
use serde_json::{Value, json};

async fn gateway() -> TestGateway {
    TestGateway::start_with(|s| s.timer_interval_ms = 50).await
}

/// The room's lottery events (personal ones, offset 0, left out).
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

fn has_state(events: &[RoomEvent], state: LotteryState) -> bool {
    lottery_events(events).iter().any(|l| l.state == state)
}

fn acked_lottery(reply: &ServerFrame) -> LotteryEvent {
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

fn terms(kind: LotteryKind, keyword: Option<&str>, duration_s: u64, winners: u32) -> LotteryTerms {
    LotteryTerms {
        kind,
        keyword: keyword.map(str::to_string),
        duration_s,
        winners,
        prize: "Tea set".into(),
        rules: "Be nice.".into(),
    }
}

async fn joined(gw: &TestGateway, room: &str, user: &str) -> Client {
    let mut c = gw.connect(Some(user)).await;
    c.join(room).await;
    c
}

/// Creates and starts a lottery as the anchor; returns its id.
async fn create_and_start(anchor: &mut Client, t: LotteryTerms) -> String {
    let created = acked_lottery(&anchor.request(Request::LotteryCreate(t)).await);
    assert_eq!(created.state, LotteryState::Created);
    let lottery = created.lottery;
    let started = acked_lottery(
        &anchor
            .request(Request::LotteryStart(LotteryStart {
                lottery: lottery.clone(),
            }))
            .await,
    );
    assert_eq!(started.state, LotteryState::Announced);
    let a = started.announcement.unwrap();
    assert!(a.window_end_ms > a.window_start_ms);
    lottery
}

async fn public_key(gw: &TestGateway) -> ::lottery::PublicKey {
    // Public: no bearer key needed.
    let url = format!("http://{}/lottery/key", gw.addr);
    let body: Value = reqwest::get(url).await.unwrap().json().await.unwrap();
    let (st, admin) = gw.api("GET", "/api/lottery/key", None).await;
    assert_eq!(st, 200);
    assert_eq!(admin, body);
    ::lottery::PublicKey::from_hex(body["public_key"].as_str().unwrap()).unwrap()
}

async fn record(gw: &TestGateway, room: &str, lottery: &str) -> ::lottery::Record {
    let (st, body) = gw
        .api(
            "GET",
            &format!("/api/rooms/{room}/lotteries/{lottery}/record"),
            None,
        )
        .await;
    assert_eq!(st, 200, "{body}");
    let text = serde_json::to_string(&body).unwrap();
    if let Ok(path) = std::env::var("LOTTERY_RECORD_OUT") {
        std::fs::write(path, &text).unwrap();
    }
    ::lottery::Record::from_json(&text).unwrap()
}

#[tokio::test]
async fn comment_lottery_end_to_end() {
    let gw = gateway().await;
    gw.room("lot-c", "anchor", true).await;
    let mut anchor = joined(&gw, "lot-c", "anchor").await;
    let mut watcher = joined(&gw, "lot-c", "watcher").await;
    let mut viewers = vec![];
    for u in ["v1", "v2", "v3", "v4"] {
        viewers.push(joined(&gw, "lot-c", u).await);
    }
    // Before the start, comments do not count.
    viewers[2].comment("抽奖 too early").await;
    let id = create_and_start(&mut anchor, terms(LotteryKind::Comment, Some("抽奖"), 2, 2)).await;
    // Many comments of one viewer count once (each ack waits for its batch,
    // about a tick, so not too many: the window is 2 s).
    for _ in 0..20 {
        let r = viewers[0].comment("我要抽奖").await;
        assert!(matches!(r, ServerFrame::Ack(_)), "{r:?}");
    }
    viewers[1].comment("ＰＬＥＡＳＥ 抽奖!").await; // folded text contains it
    viewers[2].comment("hello").await; // no keyword: does not count
    viewers[3].comment("抽奖").await;
    anchor.comment("抽奖").await; // the anchor never takes part

    let events = watcher
        .events_until(|e| has_state(e, LotteryState::Drawn))
        .await;
    let states: Vec<LotteryState> = lottery_events(&events).iter().map(|l| l.state).collect();
    let committed = states.iter().position(|s| *s == LotteryState::Committed);
    let drawn = states.iter().position(|s| *s == LotteryState::Drawn);
    assert!(committed.unwrap() < drawn.unwrap(), "{states:?}");
    let once = |st: LotteryState| states.iter().filter(|s| **s == st).count();
    assert_eq!(
        (once(LotteryState::Committed), once(LotteryState::Drawn)),
        (1, 1),
        "{states:?}"
    );
    let drawn = lottery_events(&events)
        .into_iter()
        .find(|l| l.state == LotteryState::Drawn)
        .unwrap();
    assert_eq!(drawn.lottery, id);
    assert_eq!(drawn.commitment.as_ref().unwrap().count, 3);
    assert_eq!(drawn.winners.len(), 2);
    let eligible: HashSet<&str> = ["v1", "v2", "v4"].into();
    for w in &drawn.winners {
        assert!(eligible.contains(w.user.as_str()), "{w:?}");
        assert_eq!(w.code.len(), 10);
    }
    // Each winner also gets a personal event with only their own code.
    for (i, u) in ["v1", "v2", "v3", "v4"].iter().enumerate() {
        let Some(mine) = drawn.winners.iter().find(|w| w.user == *u) else {
            continue;
        };
        let personal = viewers[i]
            .events_until(|e| e.iter().any(|e| e.offset == 0))
            .await
            .into_iter()
            .find(|e| e.offset == 0)
            .unwrap();
        match personal.kind {
            EventKind::Lottery(l) => {
                assert_eq!(l.state, LotteryState::Drawn);
                assert_eq!(l.winners, vec![mine.clone()]);
            }
            other => panic!("{other:?}"),
        }
    }

    let key = public_key(&gw).await;
    let rec = record(&gw, "lot-c", &id).await;
    // The record is public once drawn: no key, the same bytes.
    let public = reqwest::get(format!(
        "http://{}/lottery/rooms/lot-c/lotteries/{id}/record",
        gw.addr
    ))
    .await
    .unwrap();
    assert_eq!(public.status().as_u16(), 200);
    let public: Value = public.json().await.unwrap();
    let (_, admin) = gw
        .api(
            "GET",
            &format!("/api/rooms/lot-c/lotteries/{id}/record"),
            None,
        )
        .await;
    assert_eq!(public, admin);
    // Each participant can fetch its own inclusion proof (public), and it
    // checks against the committed root; a non-participant gets 404.
    let participants: Vec<String> = public["outcome"]["commitment"]["participants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap().to_string())
        .collect();
    assert!(!participants.is_empty());
    let root_hex = public["outcome"]["commitment"]["root"]
        .as_str()
        .unwrap()
        .to_string();
    let root: [u8; 32] = ::lottery::hexfmt::decode_array(&root_hex).unwrap();
    for user in &participants {
        let url = format!(
            "http://{}/lottery/rooms/lot-c/lotteries/{id}/proof?user={user}",
            gw.addr
        );
        let resp = reqwest::get(url).await.unwrap();
        assert_eq!(resp.status().as_u16(), 200);
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["root"], root_hex.as_str());
        let proof: ::lottery::InclusionProof =
            serde_json::from_value(body["proof"].clone()).unwrap();
        assert_eq!(proof.tree_size, participants.len() as u64);
        assert!(::lottery::verify_inclusion(&root, user.as_bytes(), &proof));
    }
    let stranger = reqwest::get(format!(
        "http://{}/lottery/rooms/lot-c/lotteries/{id}/proof?user=nobody",
        gw.addr
    ))
    .await
    .unwrap();
    assert_eq!(stranger.status().as_u16(), 404);
    // Over WebSocket each signed-in viewer asks for its own proof: the
    // participants get the same proof as over HTTP, v3 (no keyword) and an
    // unknown lottery get `not_found`, an anonymous viewer `unauthenticated`.
    let ask = |lottery: &str| {
        Request::LotteryProof(LotteryProofRequest {
            lottery: lottery.into(),
        })
    };
    for (i, user) in ["v1", "v2", "v3", "v4"].iter().enumerate() {
        let reply = viewers[i].request(ask(&id)).await;
        if !participants.iter().any(|p| p == user) {
            assert_eq!(error_code(&reply), Some(ErrorCode::NotFound), "{reply:?}");
            continue;
        }
        let ServerFrame::LotteryProof(p) = reply else {
            panic!("{reply:?}")
        };
        assert_eq!((p.lottery.as_str(), p.user.as_str()), (id.as_str(), *user));
        assert_eq!(
            (p.root.as_str(), p.count),
            (root_hex.as_str(), participants.len() as u64)
        );
        let http: Value = reqwest::get(format!(
            "http://{}/lottery/rooms/lot-c/lotteries/{id}/proof?user={user}",
            gw.addr
        ))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
        assert_eq!(serde_json::to_value(&p.proof).unwrap(), http["proof"]);
        let proof: ::lottery::InclusionProof =
            serde_json::from_value(serde_json::to_value(&p.proof).unwrap()).unwrap();
        assert!(::lottery::verify_inclusion(&root, user.as_bytes(), &proof));
    }
    assert!(participants.iter().all(|p| p != "v3"));
    let unknown = viewers[0].request(ask("lot-99")).await;
    assert_eq!(
        error_code(&unknown),
        Some(ErrorCode::NotFound),
        "{unknown:?}"
    );
    let mut anon = gw.connect(None).await;
    anon.join("lot-c").await;
    let anon_reply = anon.request(ask(&id)).await;
    assert_eq!(
        error_code(&anon_reply),
        Some(ErrorCode::Unauthenticated),
        "{anon_reply:?}"
    );
    // Published once: a second record (say, re-signed as abnormal) is
    // refused by the store; the first stays.
    gw.node()
        .lottery_store
        .put_lottery_doc("lot-c", &id, "record", "{\"forged\":true}")
        .await
        .unwrap();
    let (_, again) = gw
        .api(
            "GET",
            &format!("/api/rooms/lot-c/lotteries/{id}/record"),
            None,
        )
        .await;
    assert_eq!(again, admin);
    let checked = ::lottery::verify_pinned(&rec, &key).unwrap();
    let winners: Vec<String> = checked.winners.iter().map(|w| w.user_id.clone()).collect();
    let announced: Vec<String> = drawn.winners.iter().map(|w| w.user.clone()).collect();
    assert_eq!(winners, announced);

    let (st, list) = gw.api("GET", "/api/rooms/lot-c/lotteries", None).await;
    assert_eq!(st, 200);
    assert_eq!(list["lotteries"][0]["state"], "drawn");
    assert_eq!(list["lotteries"][0]["terms"]["prize"], "Tea set");
    let (st, csv) = gw
        .api(
            "GET",
            &format!("/api/rooms/lot-c/lotteries/{id}/winners.csv"),
            None,
        )
        .await;
    assert_eq!(st, 200);
    let csv = csv.as_str().unwrap().to_string();
    assert!(csv.starts_with("rank,user_id,redemption_code\n"), "{csv}");
    for w in &drawn.winners {
        assert!(csv.contains(&format!("{},{}", w.user, w.code)), "{csv}");
    }
    // Drawn once: starting again is refused.
    let r = anchor
        .request(Request::LotteryStart(LotteryStart { lottery: id }))
        .await;
    assert_eq!(error_code(&r), Some(ErrorCode::InvalidTransition));
}

#[tokio::test]
async fn like_lottery_counts_likers_once() {
    let gw = gateway().await;
    gw.room("lot-l", "anchor", true).await;
    // Created over the admin API, started by the anchor.
    let (st, body) = gw
        .api(
            "POST",
            "/api/rooms/lot-l/lotteries",
            Some(json!({"kind": "like", "duration_s": 1, "winners": 5, "prize": "Cup"})),
        )
        .await;
    assert_eq!(st, 201, "{body}");
    let id = body["lottery"].as_str().unwrap().to_string();
    let mut anchor = joined(&gw, "lot-l", "anchor").await;
    let r = anchor
        .request(Request::LotteryStart(LotteryStart {
            lottery: id.clone(),
        }))
        .await;
    assert_eq!(acked_lottery(&r).state, LotteryState::Announced);
    let mut v1 = joined(&gw, "lot-l", "v1").await;
    let mut v2 = joined(&gw, "lot-l", "v2").await;
    let mut v3 = joined(&gw, "lot-l", "v3").await;
    for _ in 0..3 {
        v1.request(Request::Like(Like { count: 2 })).await;
    }
    v2.request(Request::Like(Like { count: 1 })).await;
    v3.comment("comments do not count here").await;
    let events = v3.events_until(|e| has_state(e, LotteryState::Drawn)).await;
    let drawn = lottery_events(&events)
        .into_iter()
        .find(|l| l.state == LotteryState::Drawn)
        .unwrap();
    let mut users: Vec<String> = drawn.winners.iter().map(|w| w.user.clone()).collect();
    users.sort();
    assert_eq!(users, ["v1", "v2"]);
    let rec = record(&gw, "lot-l", &id).await;
    ::lottery::verify_pinned(&rec, &public_key(&gw).await).unwrap();
}

#[tokio::test]
async fn live_ending_first_makes_the_lottery_abnormal() {
    let gw = gateway().await;
    gw.room("lot-a", "anchor", true).await;
    let mut anchor = joined(&gw, "lot-a", "anchor").await;
    let mut v1 = joined(&gw, "lot-a", "v1").await;
    let id = create_and_start(&mut anchor, terms(LotteryKind::Comment, None, 30, 1)).await;
    v1.comment("me!").await;
    gw.live("lot-a", "end").await;
    let events = v1
        .events_until(|e| has_state(e, LotteryState::Abnormal))
        .await;
    assert!(!has_state(&events, LotteryState::Drawn));
    let rec = record(&gw, "lot-a", &id).await;
    assert_eq!(rec.state(), ::lottery::DrawState::Abnormal);
    let checked = ::lottery::verify_pinned(&rec, &public_key(&gw).await).unwrap();
    assert!(checked.winners.is_empty());
    let (_, one) = gw
        .api("GET", &format!("/api/rooms/lot-a/lotteries/{id}"), None)
        .await;
    assert_eq!(one["state"], "abnormal");
}

#[tokio::test]
async fn thirty_lotteries_per_room_and_who_may_run_them() {
    let gw = gateway().await;
    gw.room("lot-n", "anchor", false).await;
    let body =
        json!({"kind": "comment", "keyword": "go", "duration_s": 60, "winners": 1, "prize": "x"});
    for i in 1..=30 {
        let (st, b) = gw
            .api("POST", "/api/rooms/lot-n/lotteries", Some(body.clone()))
            .await;
        assert_eq!(st, 201, "{b}");
        assert_eq!(b["lottery"], format!("lot-{i}"));
    }
    let (st, b) = gw
        .api("POST", "/api/rooms/lot-n/lotteries", Some(body.clone()))
        .await;
    assert_eq!(st, 400);
    assert_eq!(b["code"], "lottery_limit");
    // Invalid terms: a keyword on a like lottery.
    let (st, b) = gw
        .api(
            "POST",
            "/api/rooms/lot-m/lotteries",
            Some(json!({"kind": "like", "keyword": "k", "duration_s": 1, "winners": 1, "prize": "x"})),
        )
        .await;
    assert_eq!(st, 400, "{b}");
    // Only while live; only the anchor or sub-anchor over WebSocket.
    let mut anchor = joined(&gw, "lot-n", "anchor").await;
    let r = anchor
        .request(Request::LotteryStart(LotteryStart {
            lottery: "lot-1".into(),
        }))
        .await;
    assert_eq!(error_code(&r), Some(ErrorCode::RoomNotLive));
    let r = anchor
        .request(Request::LotteryCreate(terms(LotteryKind::Like, None, 1, 1)))
        .await;
    assert_eq!(error_code(&r), Some(ErrorCode::LotteryLimit));
    let mut viewer = joined(&gw, "lot-n", "v1").await;
    let r = viewer
        .request(Request::LotteryCreate(terms(LotteryKind::Like, None, 1, 1)))
        .await;
    assert_eq!(error_code(&r), Some(ErrorCode::Forbidden));
    let (st, _) = gw
        .api("POST", "/api/rooms/lot-n/lotteries/lot-99/start", None)
        .await;
    assert_eq!(st, 404);
}

/// Events after `from` in the room log, read by a fresh join with resume.
async fn log_after(gw: &TestGateway, room: &str, epoch: &str, from: u64) -> Vec<RoomEvent> {
    let mut c = gw.connect(Some("auditor")).await;
    let r = c
        .request(Request::Join(Join {
            room: room.into(),
            resume: Some(Resume {
                epoch: epoch.into(),
                offset: from,
            }),
        }))
        .await;
    match r {
        ServerFrame::Joined(j) => {
            assert_eq!(j.recovered, Some(true));
            j.missed
        }
        other => panic!("{other:?}"),
    }
}

fn count_state(events: &[RoomEvent], state: LotteryState) -> usize {
    lottery_events(events)
        .iter()
        .filter(|l| l.state == state)
        .count()
}

#[tokio::test]
async fn racing_timer_passes_draw_once() {
    let gw = gateway().await;
    gw.room("lot-r", "anchor", true).await;
    let mut anchor = joined(&gw, "lot-r", "anchor").await;
    let mut v1 = joined(&gw, "lot-r", "v1").await;
    let start = v1.join("lot-r").await;
    let id = create_and_start(&mut anchor, terms(LotteryKind::Comment, None, 1, 1)).await;
    v1.comment("hi").await;
    tokio::time::sleep(Duration::from_millis(1000)).await;
    // Every pass that sees the window closed tries to draw; one wins.
    let node = gw.node().clone();
    let room = node.store.room("lot-r").await.unwrap();
    let now = gateway::clock::now_ms().max(room_end(&room, &id));
    let passes = (0..8).map(|_| {
        let (node, room) = (node.clone(), room.clone());
        tokio::spawn(async move { node.fire_lotteries(&room, now).await })
    });
    for p in passes {
        p.await.unwrap();
    }
    v1.events_until(|e| has_state(e, LotteryState::Drawn)).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let log = log_after(&gw, "lot-r", &start.epoch, start.offset).await;
    assert_eq!(count_state(&log, LotteryState::Drawn), 1);
    assert_eq!(count_state(&log, LotteryState::Committed), 1);
}

fn room_end(room: &gateway::room::Room, id: &str) -> i64 {
    room.lotteries
        .iter()
        .find(|l| l.id == id)
        .and_then(|l| l.window_end_ms)
        .unwrap() as i64
}

#[tokio::test]
async fn two_nodes_draw_exactly_once() {
    if test_backend() == "memory" {
        eprintln!("two nodes need a shared Redis backend: covered on redis and cluster");
        return;
    }
    let a = gateway().await;
    let b = a.start_peer().await;
    a.room("lot-2n", "anchor", true).await;
    let mut anchor = joined(&a, "lot-2n", "anchor").await;
    let mut va = a.connect(Some("va")).await;
    let start = va.join("lot-2n").await;
    let mut vb = joined(&b, "lot-2n", "vb").await;
    let mut more = vec![];
    for (i, gw) in [&a, &b, &a, &b].into_iter().enumerate() {
        more.push(joined(gw, "lot-2n", &format!("u{i}")).await);
    }
    let id = create_and_start(&mut anchor, terms(LotteryKind::Comment, None, 1, 3)).await;
    va.comment("from a").await;
    vb.comment("from b").await;
    for c in &mut more {
        c.comment("me").await;
    }
    let winners = |events: &[RoomEvent]| {
        lottery_events(events)
            .into_iter()
            .find(|l| l.state == LotteryState::Drawn)
            .unwrap()
            .winners
    };
    let ea = va.events_until(|e| has_state(e, LotteryState::Drawn)).await;
    let eb = vb.events_until(|e| has_state(e, LotteryState::Drawn)).await;
    assert_eq!(winners(&ea), winners(&eb));
    assert_eq!(winners(&ea).len(), 3);
    // Both nodes' timers saw the deadline; give them time to misbehave.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let log = log_after(&b, "lot-2n", &start.epoch, start.offset).await;
    assert_eq!(count_state(&log, LotteryState::Drawn), 1);
    assert_eq!(count_state(&log, LotteryState::Committed), 1);
    let rec = record(&b, "lot-2n", &id).await;
    let checked = ::lottery::verify_pinned(&rec, &public_key(&a).await).unwrap();
    assert_eq!(checked.winners.len(), 3);
    assert_eq!(rec.announcement.definition.lottery_id, id);
}

/// Every lottery event of `state` for `lottery` in the room's log.
async fn logged(gw: &TestGateway, room: &str, lottery: &str, state: LotteryState) -> Vec<u64> {
    let store = &gw.node().store;
    let head = store.head(room).await.unwrap();
    let from = gateway::store::LogPosition {
        epoch: head.epoch,
        offset: 0,
    };
    let gateway::store::Replay::Recovered(events) = store.replay(room, &from).await.unwrap() else {
        panic!("log lost its start")
    };
    events
        .iter()
        .filter(|e| {
            matches!(&e.kind, EventKind::Lottery(l) if l.lottery == lottery && l.state == state)
        })
        .map(|e| e.offset)
        .collect()
}

#[tokio::test]
async fn a_draw_taken_over_publishes_committed_and_drawn_once() {
    let gw = gateway().await;
    gw.room("lot-t", "anchor", true).await;
    let mut anchor = joined(&gw, "lot-t", "anchor").await;
    let mut watcher = joined(&gw, "lot-t", "watcher").await;
    let mut v1 = joined(&gw, "lot-t", "v1").await;
    // The window outlasts the first comment on a node (it builds the word
    // filter, seconds in a debug build), so the test's commitment is in the
    // log before the draw runs.
    let id = create_and_start(&mut anchor, terms(LotteryKind::Comment, None, 4, 1)).await;
    v1.comment("me").await;
    // A node that claimed the draw, published its commitment and died: the
    // commitment is in the log under the draw's once-key.
    let mut committed = LotteryEvent::new(&id, LotteryState::Committed);
    committed.commitment = Some(LotteryCommitment {
        root: "00".into(),
        count: 1,
        announcement_hash: "00".into(),
    });
    let key = format!("lottery:{id}:committed");
    let early = gw
        .node()
        .store
        .append_once("lot-t", 0, EventKind::Lottery(Box::new(committed)), &key)
        .await
        .unwrap()
        .expect("first append under the key");
    watcher
        .events_until(|e| has_state(e, LotteryState::Drawn))
        .await;
    // The draw that ran found the commitment logged and did not repeat it.
    assert_eq!(
        logged(&gw, "lot-t", &id, LotteryState::Committed).await,
        [early.offset]
    );
    assert_eq!(
        logged(&gw, "lot-t", &id, LotteryState::Drawn).await.len(),
        1
    );
}

#[tokio::test]
async fn a_lottery_running_without_its_announcement_is_given_up_once() {
    let gw = gateway().await;
    gw.room("lot-u", "anchor", true).await;
    let mut anchor = joined(&gw, "lot-u", "anchor").await;
    let mut watcher = joined(&gw, "lot-u", "watcher").await;
    let reply = anchor
        .request(Request::LotteryCreate(terms(LotteryKind::Like, None, 1, 1)))
        .await;
    let id = acked_lottery(&reply).lottery;
    // A start that stored its state but not its announcement (the store
    // failed in between): Running, window over, no announcement document.
    let now = gateway::clock::now_ms() as u64;
    let room = gw
        .node()
        .update_room("lot-u", &|r| {
            let slot = r.lotteries.iter_mut().find(|s| s.id == id).unwrap();
            slot.state = gateway::lotteries::SlotState::Running;
            slot.window_start_ms = Some(now - 2000);
            slot.window_end_ms = Some(now - 1000);
            Ok(())
        })
        .await
        .unwrap();
    gw.node().set_room_deadline(&room).await;
    let events = watcher
        .events_until(|e| has_state(e, LotteryState::Abnormal))
        .await;
    let abnormal = lottery_events(&events)
        .into_iter()
        .find(|l| l.state == LotteryState::Abnormal)
        .unwrap();
    assert_eq!(abnormal.reason.as_deref(), Some("not_announced"));
    let stored = gw.node().store.room("lot-u").await.unwrap();
    let slot = stored.lotteries.iter().find(|s| s.id == id).unwrap();
    assert_eq!(slot.state, gateway::lotteries::SlotState::Abnormal);
    // Not retried: a few timer intervals later there is still one.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        logged(&gw, "lot-u", &id, LotteryState::Abnormal)
            .await
            .len(),
        1
    );
}

#[tokio::test]
async fn a_viewer_joining_mid_window_finds_the_open_lotteries_in_the_snapshot() {
    let gw = gateway().await;
    gw.room("lot-j", "anchor", true).await;
    let mut anchor = joined(&gw, "lot-j", "anchor").await;
    let running = create_and_start(&mut anchor, terms(LotteryKind::Like, None, 30, 1)).await;
    let reply = anchor
        .request(Request::LotteryCreate(terms(
            LotteryKind::Comment,
            Some("抽奖"),
            30,
            1,
        )))
        .await;
    let created = acked_lottery(&reply).lottery;
    let mut late = gw.connect(Some("late")).await;
    let j = late.join("lot-j").await;
    let states: Vec<(&str, LotteryState)> = j
        .lotteries
        .iter()
        .map(|l| (l.lottery.as_str(), l.state))
        .collect();
    assert_eq!(
        states,
        [
            (running.as_str(), LotteryState::Announced),
            (created.as_str(), LotteryState::Created)
        ]
    );
    let a = j.lotteries[0]
        .announcement
        .as_ref()
        .expect("the signed announcement");
    assert!(a.window_end_ms > a.window_start_ms);
    assert_eq!(
        j.lotteries[1].terms.as_ref().unwrap().keyword.as_deref(),
        Some("抽奖")
    );
    assert!(j.lotteries[1].announcement.is_none());
}

#[tokio::test]
async fn winners_csv_ranks_from_one_and_neutralises_formulas() {
    let gw = gateway().await;
    gw.room("lot-csv", "anchor", true).await;
    let mut anchor = joined(&gw, "lot-csv", "anchor").await;
    let mut watcher = joined(&gw, "lot-csv", "watcher").await;
    let mut evil = joined(&gw, "lot-csv", "=1+2").await;
    let id = create_and_start(&mut anchor, terms(LotteryKind::Comment, None, 1, 1)).await;
    assert!(matches!(evil.comment("me").await, ServerFrame::Ack(_)));
    watcher
        .events_until(|e| has_state(e, LotteryState::Drawn))
        .await;
    let (st, csv) = gw
        .api(
            "GET",
            &format!("/api/rooms/lot-csv/lotteries/{id}/winners.csv"),
            None,
        )
        .await;
    assert_eq!(st, 200);
    let csv = csv.as_str().unwrap().to_string();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 2, "{csv}");
    assert!(lines[1].starts_with("1,'=1+2,"), "{csv}");
}
