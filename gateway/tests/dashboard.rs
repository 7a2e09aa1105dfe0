//! The realtime dashboard on every backend: figures summed in the store
//! (online and peak, viewers, likes, comments, lottery participants,
//! joins, a slice's counter), the once-a-second SSE stream, the curve
//! (points once per slot, kept after the end, CSV), and three nodes on
//! one Redis whose summed figures are exact a second after the last
//! action.
#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use std::time::Duration;

use common::*;
use protocol::*;
use serde_json::{Value, json};

/// Polls the dashboard until `ok` holds on the figures (5 s at most).
async fn figures_until(gw: &TestGateway, room: &str, ok: impl Fn(&Value) -> bool) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let (st, body) = gw
            .api("GET", &format!("/api/rooms/{room}/dashboard"), None)
            .await;
        assert_eq!(st, 200, "{body}");
        if ok(&body["figures"]) {
            return body["figures"].clone();
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "figures never matched: {body}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn viewer(gw: &TestGateway, room: &str, user: &str) -> Client {
    let mut c = gw.connect(Some(user)).await;
    c.join(room).await;
    c
}

#[tokio::test]
async fn the_figures_count_what_happened_in_the_room() {
    let gw = TestGateway::start().await;
    gw.room("r1", "anna", true).await;
    let (st, body) = gw
        .api(
            "POST",
            "/api/rooms/r1/lotteries",
            Some(json!({"kind": "comment", "duration_s": 60, "winners": 1, "prize": "Cup"})),
        )
        .await;
    assert_eq!(st, 201, "{body}");
    let lottery = body["lottery"].as_str().unwrap().to_string();
    let (st, body) = gw
        .api(
            "POST",
            &format!("/api/rooms/r1/lotteries/{lottery}/start"),
            None,
        )
        .await;
    assert_eq!(st, 200, "{body}");
    let mut a = viewer(&gw, "r1", "v1").await;
    let mut b = viewer(&gw, "r1", "v2").await;
    let c = viewer(&gw, "r1", "v3").await;
    // v1 joins again: a join, not a new viewer.
    a.join("r1").await;
    assert!(matches!(a.comment("第一条").await, ServerFrame::Ack(_)));
    assert!(matches!(b.comment("第二条").await, ServerFrame::Ack(_)));
    assert!(matches!(b.comment("第三条").await, ServerFrame::Ack(_)));
    a.request(Request::Like(Like { count: 5 })).await;
    b.request(Request::Like(Like { count: 2 })).await;
    // Another slice's counter, through the extension point.
    gw.node().count("r1", "shares", 2).await;
    gw.node().count("r1", "shares", 1).await;
    gw.node().count("r1", "gifts", 2).await;
    gw.node().count("r1", "gifts", -1).await;
    let f = figures_until(&gw, "r1", |f| {
        f["online"] == 3 && f["likes"] == 7 && f["joins"] == 4 && f["lottery_participants"] == 2
    })
    .await;
    assert_eq!(f["room"], "r1");
    assert_eq!(f["status"], 101);
    assert_eq!(f["peak_online"], 3);
    assert_eq!(f["viewers"], 3);
    assert_eq!(f["comments"], 3);
    assert_eq!(
        f["joins_per_minute"].as_u64().unwrap() + f["joins_this_minute"].as_u64().unwrap(),
        4
    );
    assert_eq!(
        f["counters"],
        json!({"shares": 3, "gifts": 1, "reminder_subscribers": 0})
    );
    // One leaves: online drops, the peak stays.
    drop(c);
    let f = figures_until(&gw, "r1", |f| f["online"] == 2).await;
    assert_eq!(f["peak_online"], 3);
    let (st, body) = gw.api("GET", "/api/rooms/nope/dashboard", None).await;
    assert_eq!((st, body["code"].as_str()), (404, Some("room_not_found")));
}

/// Reads Server-Sent Events from `resp` until `n` `figures` events came.
async fn sse_figures(resp: &mut reqwest::Response, n: usize) -> Vec<Value> {
    let mut buf = String::new();
    let mut got = vec![];
    while got.len() < n {
        let chunk = tokio::time::timeout(Duration::from_secs(5), resp.chunk())
            .await
            .expect("no event within 5 s")
            .unwrap()
            .expect("the stream ended");
        buf.push_str(std::str::from_utf8(&chunk).unwrap());
        while let Some(end) = buf.find("\n\n") {
            let event: String = buf.drain(..end + 2).collect();
            let mut name = "message";
            let mut data = String::new();
            for line in event.lines() {
                if let Some(v) = line.strip_prefix("event:") {
                    name = if v.trim() == "figures" {
                        "figures"
                    } else {
                        "other"
                    };
                } else if let Some(v) = line.strip_prefix("data:") {
                    data.push_str(v.trim_start());
                }
            }
            if name == "figures" {
                got.push(serde_json::from_str(&data).unwrap());
            }
        }
    }
    got
}

#[tokio::test]
async fn the_stream_sends_the_figures_every_second() {
    let gw = TestGateway::start().await;
    gw.room("r1", "anna", true).await;
    let url = format!("http://{}/api/rooms/r1/dashboard/stream", gw.addr);
    let http = reqwest::Client::new();
    let st = http.get(&url).send().await.unwrap().status();
    assert_eq!(st, 401, "the stream needs the admin key");
    let mut resp = http
        .get(&url)
        .bearer_auth(&gw.admin_key)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let ct = resp.headers()["content-type"].to_str().unwrap().to_string();
    assert!(ct.starts_with("text/event-stream"), "{ct}");
    let first = sse_figures(&mut resp, 1).await.remove(0);
    assert_eq!(
        (first["room"].as_str(), first["likes"].as_u64()),
        (Some("r1"), Some(0))
    );
    let mut v = viewer(&gw, "r1", "v1").await;
    v.request(Request::Like(Like { count: 3 })).await;
    // Later updates carry the likes; one a second, each read anew.
    let mut last = first;
    loop {
        let next = sse_figures(&mut resp, 1).await.remove(0);
        assert!(next["at"].as_i64() > last["at"].as_i64());
        let gap = next["at"].as_i64().unwrap() - last["at"].as_i64().unwrap();
        assert!(gap >= 900, "updates {gap} ms apart");
        if next["likes"] == 3 {
            assert_eq!(next["online"], 1);
            break;
        }
        last = next;
    }
    let (st, _) = gw
        .api("GET", "/api/rooms/nope/dashboard/stream", None)
        .await;
    assert_eq!(st, 404);
}

fn curve_of(body: &Value) -> Vec<(u64, i64)> {
    body["curve"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["index"].as_u64().unwrap(), p["slot_at"].as_i64().unwrap()))
        .collect()
}

/// Checks a curve: indices strictly increasing, each slot at the start +
/// index × interval, and the figures read at or after the slot.
fn check_curve(body: &Value, started: i64, every: i64) {
    let points = body["curve"].as_array().unwrap();
    let mut last = 0;
    for p in points {
        let k = p["index"].as_u64().unwrap();
        assert!(k > last, "indices repeat or go back: {body}");
        last = k;
        let slot = p["slot_at"].as_i64().unwrap();
        assert_eq!(slot, started + k as i64 * every);
        assert!(p["at"].as_i64().unwrap() >= slot);
    }
}

#[tokio::test]
async fn a_curve_point_every_interval_kept_after_the_end_with_a_csv() {
    let every = 200;
    let gw = TestGateway::start_with(|s| {
        s.dashboard_curve_ms = every;
        s.timer_interval_ms = 20;
    })
    .await;
    gw.room("r1", "anna", false).await;
    let started = gw.live("r1", "start").await["live_started_at"]
        .as_i64()
        .unwrap();
    let mut v = viewer(&gw, "r1", "v1").await;
    v.request(Request::Like(Like { count: 4 })).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let body = loop {
        let (_, body) = gw.api("GET", "/api/rooms/r1/dashboard", None).await;
        if curve_of(&body).len() >= 4 {
            break body;
        }
        assert!(tokio::time::Instant::now() < deadline, "{body}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(body["curve_interval_ms"], every);
    check_curve(&body, started, every as i64);
    gw.live("r1", "end").await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    let (_, ended) = gw.api("GET", "/api/rooms/r1/dashboard", None).await;
    let kept = curve_of(&ended);
    // No point after the end, and the curve is still there to read.
    tokio::time::sleep(Duration::from_millis(3 * every)).await;
    let (_, later) = gw.api("GET", "/api/rooms/r1/dashboard", None).await;
    assert_eq!(curve_of(&later), kept);
    assert_eq!(later["figures"]["status"], 103);
    let last = &later["curve"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["likes"], 4);
    // CSV: a header, then one line per point, the same numbers.
    let url = format!("http://{}/api/rooms/r1/dashboard.csv", gw.addr);
    let resp = reqwest::Client::new()
        .get(url)
        .bearer_auth(&gw.admin_key)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let csv = resp.text().await.unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines[0],
        "index,slot_at,at,status,online,peak_online,viewers,likes,comments,\
         lottery_participants,joins,joins_per_minute,goods_clicks,grabs,coupon_claims,\
         reminder_subscribers"
    );
    assert_eq!(lines.len(), kept.len() + 1);
    let cells: Vec<&str> = lines[kept.len()].split(',').collect();
    assert_eq!(cells[0], kept.last().unwrap().0.to_string());
    assert_eq!(cells[7], "4");
}

#[tokio::test]
async fn three_nodes_sum_exactly_within_a_second() {
    if test_backend() == "memory" {
        eprintln!("SKIPPED: needs a Redis backend (GATEWAY_TEST_BACKEND=redis or cluster)");
        return;
    }
    let every = 300;
    let a = TestGateway::start_with(|s| {
        s.dashboard_curve_ms = every;
        s.timer_interval_ms = 20;
    })
    .await;
    let b = a.start_peer().await;
    let c = a.start_peer().await;
    a.room("r1", "anna", false).await;
    let started = a.live("r1", "start").await["live_started_at"]
        .as_i64()
        .unwrap();
    let mut clients = vec![];
    let (mut likes, mut comments) = (0u64, 0u64);
    for (n, gw) in [&a, &b, &c].into_iter().enumerate() {
        for i in 0..=n {
            let mut v = viewer(gw, "r1", &format!("v{n}-{i}")).await;
            assert!(matches!(v.comment("来了").await, ServerFrame::Ack(_)));
            v.request(Request::Like(Like {
                count: 1 + i as u32,
            }))
            .await;
            comments += 1;
            likes += 1 + i as u64;
            clients.push(v);
        }
    }
    gw_count(&b, 5).await;
    let users = clients.len() as u64;
    // A second after the last action, every node reads the same exact
    // figures from the store.
    tokio::time::sleep(Duration::from_secs(1)).await;
    for gw in [&a, &b, &c] {
        let (st, body) = gw.api("GET", "/api/rooms/r1/dashboard", None).await;
        assert_eq!(st, 200);
        let f = &body["figures"];
        assert_eq!(f["online"], users, "{f}");
        assert_eq!(f["peak_online"], users, "{f}");
        assert_eq!(f["viewers"], users, "{f}");
        assert_eq!(f["joins"], users, "{f}");
        assert_eq!(f["likes"], likes, "{f}");
        assert_eq!(f["comments"], comments, "{f}");
        assert_eq!(f["counters"]["grabs"], 5, "{f}");
    }
    // Three nodes' timers, one curve: each slot written once.
    tokio::time::sleep(Duration::from_millis(4 * every)).await;
    let (_, body) = c.api("GET", "/api/rooms/r1/dashboard", None).await;
    assert!(curve_of(&body).len() >= 3, "{body}");
    check_curve(&body, started, every as i64);
}

async fn gw_count(gw: &TestGateway, n: i64) {
    gw.node().count("r1", "grabs", n).await;
}
