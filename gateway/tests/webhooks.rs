//! Webhooks on every backend, against a real HTTP receiver started here
//! (`common::receiver`): Standard Webhooks signatures checked with an HMAC
//! computed in the test, retries with the same `webhook-id` after failures
//! and timeouts, a 410 disabling its endpoint, dead letters and their
//! replay, endpoint filters and limits; and, with real gateway processes
//! sharing one redis-server, a node killed with SIGKILL mid-delivery whose
//! attempt another node takes over.
#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use std::time::Duration;

use common::receiver::{Got, Receiver};
use common::*;
use protocol::*;
use serde_json::{Value, json};

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

/// A gateway with fast webhook timings: retries after 50 ms, a 400 ms
/// request timeout.
async fn gateway() -> TestGateway {
    TestGateway::start_with(|s| {
        s.webhook_retry_ms = "50,50,50".into();
        s.webhook_timeout_ms = 400;
        s.webhook_claim_ms = 3000;
        s.webhook_poll_ms = 20;
    })
    .await
}

async fn endpoint(gw: &TestGateway, id: &str, url: &str, events: &[&str]) -> Value {
    let (st, body) = gw
        .api(
            "POST",
            "/api/webhooks/endpoints",
            Some(json!({"id": id, "url": url, "secret": SECRET, "events": events})),
        )
        .await;
    assert_eq!(st, 201, "{body}");
    body
}

fn ids(got: &[Got]) -> Vec<String> {
    got.iter().map(|g| g.id.clone()).collect()
}

#[tokio::test]
async fn status_changes_are_delivered_signed_per_standard_webhooks() {
    let recv = Receiver::start().await;
    let gw = gateway().await;
    endpoint(&gw, "all", &recv.url("/ok/all"), &[]).await;
    endpoint(&gw, "ends", &recv.url("/ok/ends"), &["live.ended"]).await;
    gw.room("r1", "anna", false).await;
    let before = gateway::clock::now_ms() / 1000;
    gw.live("r1", "start").await;
    gw.live("r1", "pause").await;
    gw.live("r1", "resume").await;
    gw.live("r1", "end").await;
    let got = recv.until("/ok/all", |g| g.len() >= 4).await;
    let mut kinds: Vec<String> = got.iter().map(Got::kind).collect();
    kinds.sort();
    assert_eq!(
        kinds,
        ["live.ended", "live.paused", "live.resumed", "live.started"]
    );
    for g in &got {
        g.assert_signed_with(SECRET);
        assert!(g.id.starts_with("msg_"), "{}", g.id);
        let ts: i64 = g.timestamp.parse().unwrap();
        assert!(ts >= before - 1, "{ts} < {before}");
        let body = g.json();
        assert_eq!(body["data"]["room"], "r1");
        let stamp = body["timestamp"].as_str().unwrap();
        assert!(stamp.ends_with('Z') && stamp.len() == 24, "{stamp}");
    }
    let started = got.iter().find(|g| g.kind() == "live.started").unwrap();
    assert_eq!(started.json()["data"]["status"], json!(RoomStatus::Live));
    assert_eq!(started.json()["data"]["subscriber_count"], 0);
    // Distinct events have distinct ids; the filtered endpoint gets only
    // its type, under the same id as the other endpoint.
    let mut distinct = ids(&got);
    distinct.dedup();
    assert_eq!(distinct.len(), 4);
    let ends = recv.until("/ok/ends", |g| !g.is_empty()).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(recv.got("/ok/ends").len(), 1);
    assert_eq!(ends[0].kind(), "live.ended");
    let ended = got.iter().find(|g| g.kind() == "live.ended").unwrap();
    assert_eq!(ends[0].id, ended.id);
    assert_eq!(ends[0].body, ended.body);
}

#[tokio::test]
async fn failed_attempts_are_retried_with_the_same_id_until_delivered() {
    let recv = Receiver::start().await;
    let gw = gateway().await;
    endpoint(&gw, "flaky", &recv.url("/fail-2/a"), &["live.started"]).await;
    gw.room("r1", "anna", true).await;
    let got = recv.until("/fail-2/a", |g| g.len() >= 3).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let got_later = recv.got("/fail-2/a");
    assert_eq!(
        got_later.len(),
        3,
        "delivered on the third: no fourth attempt"
    );
    assert!(
        got.iter()
            .all(|g| g.id == got[0].id && g.body == got[0].body)
    );
    for g in &got {
        g.assert_signed_with(SECRET);
    }
    let (st, dead) = gw.api("GET", "/api/webhooks/dead", None).await;
    assert_eq!(st, 200);
    assert_eq!(dead["dead"], json!([]));
    let metrics = gw.metrics().await;
    for line in [
        "gateway_webhook_attempts_total{outcome=\"retry\"} 2",
        "gateway_webhook_attempts_total{outcome=\"delivered\"} 1",
        "gateway_webhooks_queued_total 1",
    ] {
        assert!(metrics.contains(line), "{line} in\n{metrics}");
    }
}

#[tokio::test]
async fn an_attempt_that_times_out_is_retried() {
    let recv = Receiver::start().await;
    let gw = gateway().await;
    endpoint(&gw, "slow", &recv.url("/slow/a"), &[]).await;
    gw.room("r1", "anna", true).await;
    // The first attempt is held 5 s; the gateway gives up after 400 ms and
    // the second attempt (answered at once) delivers.
    let got = recv.until("/slow/a", |g| g.len() >= 2).await;
    assert_eq!(got[0].id, got[1].id);
    got[1].assert_signed_with(SECRET);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(recv.got("/slow/a").len(), 2);
}

async fn dead_letters(gw: &TestGateway, n: usize) -> Vec<Value> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let (st, body) = gw.api("GET", "/api/webhooks/dead", None).await;
        assert_eq!(st, 200, "{body}");
        let list = body["dead"].as_array().unwrap().clone();
        if list.len() >= n {
            return list;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "dead letters: {body}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_410_disables_the_endpoint_and_its_dead_letter_replays() {
    let recv = Receiver::start().await;
    let gw = gateway().await;
    endpoint(&gw, "shop", &recv.url("/gone/a"), &[]).await;
    gw.room("r1", "anna", true).await;
    let dead = dead_letters(&gw, 1).await;
    assert_eq!(dead[0]["endpoint"], "shop");
    assert_eq!(dead[0]["type"], "live.started");
    assert_eq!(dead[0]["attempts"], 1);
    assert!(dead[0]["last_error"].as_str().unwrap().contains("410"));
    let (_, ep) = gw.api("GET", "/api/webhooks/endpoints/shop", None).await;
    assert_eq!(ep["disabled"], true, "{ep}");
    assert!(ep.get("secret").is_none(), "secrets are not listed: {ep}");
    // A disabled endpoint gets nothing more.
    gw.live("r1", "pause").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(recv.got("/gone/a").len(), 1);
    // Enabled again (at a new URL), the replayed dead letter is delivered
    // with its original id and body.
    let (st, body) = gw
        .api(
            "PUT",
            "/api/webhooks/endpoints/shop",
            Some(json!({"url": recv.url("/ok/a"), "events": []})),
        )
        .await;
    assert_eq!(
        (st, body["disabled"].clone()),
        (200, json!(false)),
        "{body}"
    );
    let id = dead[0]["id"].as_str().unwrap();
    let (st, body) = gw
        .api("POST", &format!("/api/webhooks/dead/{id}/replay"), None)
        .await;
    assert_eq!(st, 200, "{body}");
    let got = recv.until("/ok/a", |g| !g.is_empty()).await;
    assert_eq!(got[0].id, dead[0]["webhook_id"].as_str().unwrap());
    assert_eq!(got[0].kind(), "live.started");
    got[0].assert_signed_with(SECRET);
    let (st, _) = gw
        .api("POST", &format!("/api/webhooks/dead/{id}/replay"), None)
        .await;
    assert_eq!(st, 404, "replayed once");
}

#[tokio::test]
async fn attempts_past_the_schedule_become_dead_letters() {
    let recv = Receiver::start().await;
    let gw = gateway().await;
    endpoint(&gw, "down", &recv.url("/fail-100/a"), &["live.started"]).await;
    gw.room("r1", "anna", true).await;
    let dead = dead_letters(&gw, 1).await;
    // The first attempt and one per pause of "50,50,50".
    assert_eq!(dead[0]["attempts"], 4);
    assert_eq!(dead[0]["last_error"], "HTTP 500");
    assert_eq!(dead[0]["payload"]["type"], "live.started");
    assert_eq!(recv.got("/fail-100/a").len(), 4);
    let (st, page) = gw.api("GET", "/api/webhooks/dead?limit=0", None).await;
    assert_eq!((st, page["code"].clone()), (400, json!("invalid")));
}

#[tokio::test]
async fn endpoints_are_validated_and_managed() {
    let gw = gateway().await;
    let post = |body: Value| {
        let gw = &gw;
        async move { gw.api("POST", "/api/webhooks/endpoints", Some(body)).await }
    };
    for bad in [
        json!({"url": "ftp://shop.example/h"}),
        json!({"url": "https://shop.example/h", "secret": "plain"}),
        json!({"url": "https://shop.example/h", "secret": "whsec_AAAA"}),
        json!({"url": "https://shop.example/h", "events": ["*live"]}),
        json!({"url": "https://shop.example/h", "id": "bad id"}),
        json!({"url": "https://shop.example/h", "colour": "red"}),
    ] {
        let (st, body) = post(bad.clone()).await;
        assert_eq!((st, body["code"].clone()), (400, json!("invalid")), "{bad}");
    }
    // A secret is generated when none is given, and shown once.
    let (st, body) = post(json!({"id": "e1", "url": "https://shop.example/h"})).await;
    assert_eq!(st, 201, "{body}");
    assert!(body["secret"].as_str().unwrap().starts_with("whsec_"));
    let (st, _) = post(json!({"id": "e1", "url": "https://shop.example/h"})).await;
    assert_eq!(st, 409);
    let (_, list) = gw.api("GET", "/api/webhooks/endpoints", None).await;
    assert_eq!(list["endpoints"].as_array().unwrap().len(), 1);
    assert!(list["endpoints"][0].get("secret").is_none());
    let (st, _) = gw.api("DELETE", "/api/webhooks/endpoints/e1", None).await;
    assert_eq!(st, 200);
    let (st, body) = gw.api("DELETE", "/api/webhooks/endpoints/e1", None).await;
    assert_eq!((st, body["code"].clone()), (404, json!("not_found")));
    let (st, _) = gw.api("POST", "/api/webhooks/dead/nope/replay", None).await;
    assert_eq!(st, 404);
}

#[tokio::test]
async fn the_settings_endpoint_receives_its_types() {
    let recv = Receiver::start().await;
    let url = recv.url("/ok/settings");
    let gw = TestGateway::start_with(|s| {
        s.webhook_url = url;
        s.webhook_secret = SECRET.into();
        s.webhook_events = "live.*".into();
        s.webhook_poll_ms = 20;
    })
    .await;
    let (_, list) = gw.api("GET", "/api/webhooks/endpoints", None).await;
    assert_eq!(list["endpoints"][0]["id"], "settings", "{list}");
    gw.room("r1", "anna", true).await;
    let got = recv.until("/ok/settings", |g| !g.is_empty()).await;
    assert_eq!(got[0].kind(), "live.started");
    got[0].assert_signed_with(SECRET);
}

#[tokio::test]
async fn a_drawn_lottery_is_delivered_with_its_winners() {
    let recv = Receiver::start().await;
    let gw = TestGateway::start_with(|s| {
        s.timer_interval_ms = 50;
        s.webhook_poll_ms = 20;
    })
    .await;
    endpoint(&gw, "lot", &recv.url("/ok/lot"), &["lottery.*"]).await;
    gw.room("r1", "anna", true).await;
    let (st, body) = gw
        .api(
            "POST",
            "/api/rooms/r1/lotteries",
            Some(json!({"kind": "like", "duration_s": 1, "winners": 3, "prize": "Cup"})),
        )
        .await;
    assert_eq!(st, 201, "{body}");
    let lid = body["lottery"].as_str().unwrap().to_string();
    let (st, body) = gw
        .api(
            "POST",
            &format!("/api/rooms/r1/lotteries/{lid}/start"),
            None,
        )
        .await;
    assert_eq!(st, 200, "{body}");
    let mut v = gw.connect(Some("v1")).await;
    v.join("r1").await;
    v.request(Request::Like(Like { count: 1 })).await;
    let got = recv.until("/ok/lot", |g| !g.is_empty()).await;
    assert_eq!(got[0].kind(), "lottery.drawn");
    let data = &got[0].json()["data"];
    assert_eq!(data["lottery"], lid.as_str());
    assert_eq!(data["winners"][0]["user"], "v1", "{data}");
    assert_eq!(data["participants"], 1);
    assert!(!data["winners"][0]["code"].as_str().unwrap().is_empty());
}

/// A gateway process of the real binary on a free port over `redis`.
struct Proc {
    child: tokio::process::Child,
    addr: std::net::SocketAddr,
    log: std::path::PathBuf,
}

impl Proc {
    async fn start(name: &str, redis: &str, prefix: &str, extra: &[&str]) -> Proc {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let addr: std::net::SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
        let log = std::env::temp_dir().join(format!(
            "gateway-webhooks-{}-{prefix}-{name}.log",
            std::process::id()
        ));
        let out = std::fs::File::create(&log).unwrap();
        let child = tokio::process::Command::new(env!("CARGO_BIN_EXE_gateway"))
            .args(["--listen", &addr.to_string(), "--redis", redis])
            .args(["--redis-prefix", prefix, "--node-id", name])
            .args(["--admin-key", "test-admin", "--token-secret", "test-secret"])
            .args(extra)
            .env("RUST_LOG", "info")
            .env("GATEWAY_SECRETS_FILE", log.with_extension("secrets.env"))
            .stdin(std::process::Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let p = Proc { child, addr, log };
        let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
        loop {
            let url = format!("http://{addr}/healthz");
            if let Ok(r) = reqwest::get(&url).await
                && r.status() == 200
            {
                return p;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{name} not healthy:\n{}",
                p.logs()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    fn logs(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    async fn api(&self, method: &str, path: &str, body: Value) -> u16 {
        reqwest::Client::new()
            .request(
                method.parse().unwrap(),
                format!("http://{}{path}", self.addr),
            )
            .bearer_auth("test-admin")
            .json(&body)
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    }

    async fn kill9(&mut self) {
        self.child.start_kill().unwrap();
        self.child.wait().await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_killed_mid_delivery_has_its_attempt_taken_over() {
    if !common::redis::available() {
        eprintln!("SKIPPED: redis-server is not installed");
        return;
    }
    let redis = common::redis::RedisServer::start();
    let recv = Receiver::start().await;
    let prefix = format!("wk{}", std::process::id());
    let url = recv.url("/hold/k");
    let extra = [
        "--webhook-url",
        &url,
        "--webhook-secret",
        SECRET,
        "--webhook-timeout-ms",
        "2000",
        "--webhook-claim-ms",
        "3000",
        "--webhook-poll-ms",
        "50",
    ];
    let mut nodes = [
        Proc::start("a", &redis.url(), &prefix, &extra).await,
        Proc::start("b", &redis.url(), &prefix, &extra).await,
    ];
    let room = json!({"id": "r1", "anchor": "anna", "planned_start": 0,
        "planned_end": 99_999_999_999_999i64});
    assert_eq!(nodes[0].api("POST", "/api/rooms", room).await, 201);
    let start = json!({"action": "start"});
    assert_eq!(nodes[0].api("POST", "/api/rooms/r1/live", start).await, 200);
    // The receiver holds the first attempt open; the store says which node
    // holds its claim, and that node dies.
    let first = recv.until("/hold/k", |g| !g.is_empty()).await;
    let queue = format!("{prefix}:{{webhooks}}:queue");
    let pending = redis
        .cmd(&["XPENDING", &queue, "delivery", "-", "+", "10"])
        .unwrap();
    let owner = if pending.lines().any(|l| l.trim() == "a") {
        0
    } else {
        assert!(pending.lines().any(|l| l.trim() == "b"), "{pending}");
        1
    };
    nodes[owner].kill9().await;
    // The other node takes the claim over once it expires and delivers the
    // same event, signed afresh.
    let got = recv.until("/hold/k", |g| g.len() >= 2).await;
    assert_eq!(got[1].id, first[0].id);
    assert_eq!(got[1].body, first[0].body);
    assert_eq!(got[1].kind(), "live.started");
    got[0].assert_signed_with(SECRET);
    got[1].assert_signed_with(SECRET);
    // Settled: nothing pending, nothing queued, nothing dead.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let len = redis.cmd(&["XLEN", &queue]).unwrap();
        if len.trim() == "0" {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "queue still holds {len}\n{}",
            nodes[1 - owner].logs()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let dead = redis
        .cmd(&["HLEN", &format!("{prefix}:{{webhooks}}:dead")])
        .unwrap();
    assert_eq!(dead.trim(), "0");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(recv.got("/hold/k").len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_racing_a_start_emit_one_live_started() {
    let recv = Receiver::start().await;
    let Some((_redis, a, b)) = two_nodes_on_one_redis(|s| {
        s.webhook_poll_ms = 20;
        s.webhook_retry_ms = "50".into();
    })
    .await
    else {
        return;
    };
    endpoint(&a, "race", &recv.url("/ok/race"), &["live.started"]).await;
    for i in 0..5 {
        let room = format!("r{i}");
        a.room(&room, "anna", false).await;
        let path = format!("/api/rooms/{room}/live");
        let start = json!({"action": "start"});
        let (ra, rb) = tokio::join!(
            a.api("POST", &path, Some(start.clone())),
            b.api("POST", &path, Some(start.clone()))
        );
        // One start wins; the other finds the room live already.
        let mut st = [ra.0, rb.0];
        st.sort();
        assert_eq!(st, [200, 409], "{ra:?} {rb:?}");
    }
    let got = recv.until("/ok/race", |g| g.len() >= 5).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let got_later = recv.got("/ok/race");
    assert_eq!(got_later.len(), 5, "{got:#?}");
    let mut rooms: Vec<String> = got_later
        .iter()
        .map(|g| g.json()["data"]["room"].as_str().unwrap().to_string())
        .collect();
    rooms.sort();
    assert_eq!(rooms, ["r0", "r1", "r2", "r3", "r4"]);
}

#[tokio::test]
async fn a_claim_is_one_consumers_until_it_expires() {
    use gateway::webhook::{Job, Settle};
    // The node's own worker polls once at start, then sleeps: nothing here
    // wakes it. Give it time for that first (empty) poll.
    let gw = TestGateway::start_with(|s| s.webhook_poll_ms = 600_000).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let store = &gw.node().webhook_store;
    let job = |id: &str| Job {
        id: format!("{id}.e"),
        msg: id.into(),
        endpoint: "e".into(),
        kind: "test".into(),
        body: "{}".into(),
        attempts: 0,
        created_ms: 1,
        last_error: None,
    };
    store.enqueue(&[job("m1"), job("m2")]).await.unwrap();
    let now = gateway::clock::now_ms();
    let x = store.claim("x", now, 1, 200).await.unwrap();
    assert_eq!(x.len(), 1);
    // Another consumer gets the other job, not the claimed one.
    let y = store.claim("y", now, 5, 200).await.unwrap();
    assert_eq!(y.len(), 1);
    assert_ne!(x[0].job.id, y[0].job.id);
    assert!(store.claim("y", now, 5, 200).await.unwrap().is_empty());
    // Past its expiry, x's claim goes to y; x can no longer settle it.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let later = gateway::clock::now_ms();
    let taken = store.claim("y", later, 5, 200).await.unwrap();
    let ids: Vec<&str> = taken.iter().map(|c| c.job.id.as_str()).collect();
    assert!(ids.contains(&x[0].job.id.as_str()), "{ids:?}");
    assert!(
        !store
            .settle("x", &x[0], &x[0].job, Settle::Done)
            .await
            .unwrap()
    );
    let mut failed = x[0].job.clone();
    failed.attempts = 1;
    let mine = taken.iter().find(|c| c.job.id == x[0].job.id).unwrap();
    let due_ms = later + 100;
    assert!(
        store
            .settle("y", mine, &failed, Settle::Retry { due_ms })
            .await
            .unwrap()
    );
    // The retry is due again after its time, with its attempt counted.
    let early = store.claim("z", later, 5, 200).await.unwrap();
    assert!(early.iter().all(|c| c.job.id != failed.id));
    tokio::time::sleep(Duration::from_millis(150)).await;
    let again = store
        .claim("z", gateway::clock::now_ms(), 5, 200)
        .await
        .unwrap();
    let retried = again.iter().find(|c| c.job.id == failed.id).unwrap();
    assert_eq!(retried.job.attempts, 1);
    assert!(
        store
            .settle("z", retried, &retried.job, Settle::Dead)
            .await
            .unwrap()
    );
    let dead = store.dead_letters(None, 10).await.unwrap();
    assert_eq!(dead.len(), 1);
    assert!(store.replay_dead(&failed.id).await.unwrap());
    assert!(!store.replay_dead(&failed.id).await.unwrap());
    assert!(store.dead_letters(None, 10).await.unwrap().is_empty());
}

#[tokio::test]
async fn webhook_settings_that_cannot_work_refuse_the_start() {
    let cases: [(&str, &str, u64, u64); 4] = [
        ("https://shop.example/h", "not-a-secret", 15_000, 30_000),
        ("ftp://shop.example/h", SECRET, 15_000, 30_000),
        ("https://shop.example/h", SECRET, 15_000, 15_000),
        ("", "", 15_000, 30_000),
    ];
    for (i, (url, secret, timeout, claim)) in cases.into_iter().enumerate() {
        let mut s = settings();
        s.webhook_url = url.into();
        s.webhook_secret = secret.into();
        s.webhook_timeout_ms = timeout;
        s.webhook_claim_ms = claim;
        let started = gateway::start(s).await;
        // Only the last (no endpoint in the settings) starts.
        assert_eq!(started.is_ok(), i == 3, "case {i}");
        if let Ok(r) = started {
            r.shutdown().await;
        }
    }
}
