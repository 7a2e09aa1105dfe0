//! Failure tests of a cluster: several gateway nodes (in-process, or
//! processes of the real `gateway` binary) share one real `redis-server`
//! (same URL and key prefix, distinct node ids). A node is killed, drained or
//! loses Redis, and its viewers must lose nothing: they resume on another
//! node with exactly what they missed, or are told they cannot.
//!
//! Every wait is bounded; every process (gateway or Redis) is killed on drop.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use common::redis::{RedisCluster, RedisServer};
use common::{Client, comment_texts, error_code, settings, statuses};
use futures_util::{SinkExt, StreamExt};
use gateway::Running;
use gateway::auth::TokenKeys;
use protocol::*;
use serde_json::{Value, json};
use tokio::time::timeout;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;

const ADMIN_KEY: &str = "test-admin";
const SECRET: &str = "test-secret";
/// Bound of one wait for a condition (events, readiness, an exit).
const LONG: Duration = Duration::from_secs(15);
/// Bound of one request/reply or HTTP call.
const SHORT: Duration = Duration::from_secs(8);

fn skip() -> bool {
    if common::redis::available() {
        return false;
    }
    eprintln!(
        "!!!!! redis-server/redis-cli not installed: SKIPPING (run .ci/run to install) !!!!!"
    );
    true
}

/// A key prefix of its own for each cluster in this test binary.
fn prefix() -> String {
    static N: AtomicU64 = AtomicU64::new(0);
    format!(
        "cl{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

fn token(user: &str) -> String {
    let now = gateway::clock::now_ms() as u64 / 1000;
    TokenKeys::new(SECRET.as_bytes())
        .mint(user, &format!("nick-{user}"), false, now, 600)
        .unwrap()
}

// ---------------------------------------------------------------- nodes

enum Proc {
    InProcess(Option<Running>),
    Process { child: Child, log: PathBuf },
}

/// One gateway node of the cluster.
struct Node {
    name: String,
    addr: SocketAddr,
    proc: Proc,
    http: reqwest::Client,
}

/// The settings every node of a test cluster shares (small timings).
fn node_settings(name: &str, redis: &str, prefix: &str) -> gateway::Settings {
    let mut s = settings();
    s.redis = redis.to_string();
    s.redis_prefix = prefix.to_string();
    s.node_id = name.to_string();
    s.timer_interval_ms = 50;
    s.presence_interval_ms = 200;
    s.shutdown_grace_ms = 3000;
    s
}

impl Node {
    /// A node in this test process (`gateway::start`).
    async fn in_process(
        name: &str,
        redis: &str,
        prefix: &str,
        f: impl FnOnce(&mut gateway::Settings),
    ) -> Node {
        let mut s = node_settings(name, redis, prefix);
        f(&mut s);
        let running = timeout(SHORT, gateway::start(s))
            .await
            .expect("node start timed out")
            .unwrap();
        Node {
            name: name.into(),
            addr: running.addr,
            proc: Proc::InProcess(Some(running)),
            http: reqwest::Client::new(),
        }
    }

    /// A process of the real binary on a free port, with the same settings
    /// as `node_settings` plus `extra` flags; waits until `/healthz` answers.
    async fn process(name: &str, redis: &str, prefix: &str, extra: &[&str]) -> Node {
        for attempt in 1..=3 {
            let port = std::net::TcpListener::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap()
                .port();
            let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
            let log = std::env::temp_dir().join(format!(
                "gateway-cluster-{}-{prefix}-{name}-{attempt}.log",
                std::process::id()
            ));
            let out = std::fs::File::create(&log).unwrap();
            let child = Command::new(env!("CARGO_BIN_EXE_gateway"))
                .args(["--listen", &addr.to_string()])
                .args(["--redis", redis])
                .args(["--redis-prefix", prefix])
                .args(["--node-id", name])
                .args(["--admin-key", ADMIN_KEY])
                .args(["--token-secret", SECRET])
                .args(["--tick-ms", "20"])
                .args(["--comment-cap", "100000"])
                .args(["--request-rate", "10000"])
                .args(["--request-burst", "10000"])
                .args(["--timer-interval-ms", "50"])
                .args(["--presence-interval-ms", "200"])
                .args(["--shutdown-grace-ms", "3000"])
                .args(extra)
                // Per-user comment and per-IP connection limits, where
                // the node has them (env: unknown settings are ignored).
                .env("GATEWAY_COMMENT_RATE", "10000")
                .env("GATEWAY_COMMENT_BURST", "10000")
                .env("GATEWAY_IP_CONNECT_RATE", "0")
                .env("GATEWAY_IP_MAX_CONNECTIONS", "0")
                // SIGTERM closes at once unless a test asks for a paced
                // drain with the flags (which win over the environment).
                .env("GATEWAY_DRAIN_DELAY_MS", "0")
                .env("GATEWAY_DRAIN_WINDOW_MS", "0")
                .env("RUST_LOG", "info")
                // The generated lottery key goes next to the log, not into the tree.
                .env("GATEWAY_SECRETS_FILE", log.with_extension("secrets.env"))
                .stdin(Stdio::null())
                .stdout(out.try_clone().unwrap())
                .stderr(out)
                .spawn()
                .expect("run the gateway binary");
            watchdog(child.id());
            let mut node = Node {
                name: name.into(),
                addr,
                proc: Proc::Process { child, log },
                http: reqwest::Client::new(),
            };
            let deadline = Instant::now() + LONG;
            while Instant::now() < deadline && node.alive() {
                if node.get("/healthz").await.0 == 200 {
                    return node;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            if node.alive() {
                panic!("node {name} not healthy within {LONG:?}\n{}", node.logs());
            }
            eprintln!(
                "node {name} exited at start (port {port} taken?), retrying\n{}",
                node.logs()
            );
        }
        panic!("node {name} did not start");
    }

    fn pid(&self) -> u32 {
        match &self.proc {
            Proc::Process { child, .. } => child.id(),
            Proc::InProcess(_) => panic!("{} is in-process", self.name),
        }
    }

    fn alive(&mut self) -> bool {
        match &mut self.proc {
            Proc::Process { child, .. } => matches!(child.try_wait(), Ok(None)),
            Proc::InProcess(r) => r.is_some(),
        }
    }

    /// SIGKILL (a crash): no drain, no close frames.
    fn kill9(&mut self) {
        if let Proc::Process { child, .. } = &mut self.proc {
            let _ = child.kill();
            let _ = child.wait();
        } else {
            panic!("kill9 needs a process node");
        }
    }

    /// SIGTERM: the binary drains (4000) and exits.
    fn terminate(&self) {
        let st = Command::new("kill")
            .args(["-TERM", &self.pid().to_string()])
            .status()
            .unwrap();
        assert!(st.success());
    }

    /// Waits (bounded) until the process exits.
    async fn wait_exit(&mut self, limit: Duration) -> ExitStatus {
        let deadline = Instant::now() + limit;
        loop {
            if let Proc::Process { child, .. } = &mut self.proc
                && let Some(st) = child.try_wait().unwrap()
            {
                return st;
            }
            assert!(
                Instant::now() < deadline,
                "{} still running after {limit:?}",
                self.name
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    fn logs(&self) -> String {
        match &self.proc {
            Proc::Process { log, .. } => {
                let text = std::fs::read_to_string(log).unwrap_or_default();
                let start = text.len().saturating_sub(6000);
                let start = (start..=text.len())
                    .find(|&i| text.is_char_boundary(i))
                    .unwrap_or(0);
                format!("----- {} log -----\n{}", self.name, &text[start..])
            }
            Proc::InProcess(_) => String::new(),
        }
    }

    async fn get(&self, path: &str) -> (u16, String) {
        let req = self
            .http
            .get(format!("http://{}{}", self.addr, path))
            .timeout(Duration::from_secs(3))
            .send();
        match timeout(SHORT, req).await {
            Ok(Ok(resp)) => {
                let st = resp.status().as_u16();
                (st, resp.text().await.unwrap_or_default())
            }
            Ok(Err(e)) => (0, e.to_string()),
            Err(_) => (0, "timed out".into()),
        }
    }

    async fn api(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut req = self
            .http
            .request(
                method.parse().unwrap(),
                format!("http://{}{}", self.addr, path),
            )
            .bearer_auth(ADMIN_KEY)
            .timeout(SHORT);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = timeout(SHORT, req.send())
            .await
            .unwrap_or_else(|_| panic!("{method} {path} on {} hung", self.name))
            .unwrap_or_else(|e| panic!("{method} {path} on {}: {e}", self.name));
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap_or_default();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    async fn room(&self, id: &str, anchor: &str, live: bool) {
        let (st, body) = self
            .api(
                "POST",
                "/api/rooms",
                Some(json!({"id": id, "title": "test", "anchor": anchor,
                    "planned_start": 0, "planned_end": 99_999_999_999_999i64})),
            )
            .await;
        assert_eq!(st, 201, "{body}");
        if live {
            self.live(id, "start").await;
        }
    }

    async fn live(&self, id: &str, action: &str) {
        let (st, body) = self
            .api(
                "POST",
                &format!("/api/rooms/{id}/live"),
                Some(json!({"action": action})),
            )
            .await;
        assert_eq!(st, 200, "{action} on {}: {body}", self.name);
    }

    async fn switch_likes(&self, id: &str, on: bool) {
        let (st, body) = self
            .api(
                "PATCH",
                &format!("/api/rooms/{id}"),
                Some(json!({"switches": {"likes": on}})),
            )
            .await;
        assert_eq!(st, 200, "{body}");
    }

    async fn connect(&self, user: Option<&str>) -> Client {
        connect(self.addr, user).await
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        if let Proc::Process { child, .. } = &mut self.proc {
            let _ = child.kill();
            let _ = child.wait();
        }
        if let Proc::Process { log, .. } = &self.proc {
            let _ = std::fs::remove_file(log.with_extension("secrets.env"));
            if std::thread::panicking() {
                eprintln!("{}", self.logs());
            } else {
                let _ = std::fs::remove_file(log);
            }
        }
    }
}

/// Kills `pid` once this test process is gone (a test killed mid-way).
fn watchdog(pid: u32) {
    let script = format!(
        "while kill -0 {me} 2>/dev/null; do sleep 0.5; done; kill -9 {pid} 2>/dev/null",
        me = std::process::id()
    );
    let _ = Command::new("sh")
        .args(["-c", &script])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
}

// ---------------------------------------------------------------- clients

/// A JSON client of the node at `addr` (the harness's `Client`).
async fn connect(addr: SocketAddr, user: Option<&str>) -> Client {
    let mut url = format!("ws://{addr}/ws");
    if let Some(u) = user {
        url.push_str(&format!("?token={}", token(u)));
    }
    let mut req = url.into_client_request().unwrap();
    req.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        HeaderValue::from_static(Codec::Json.subprotocol()),
    );
    let (ws, _) = timeout(SHORT, tokio_tungstenite::connect_async(req))
        .await
        .expect("connect timed out")
        .unwrap();
    let mut c = Client {
        ws,
        codec: Codec::Json,
        hello: None,
        next_id: 0,
        backlog: Default::default(),
        close: None,
    };
    match next_frame(&mut c, SHORT).await {
        Next::Frame(ServerFrame::Hello(h)) => c.hello = Some(h),
        Next::Frame(other) => c.backlog.push_back(other),
        Next::Closed => {}
        Next::Timeout => panic!("no hello from {addr}"),
    }
    c
}

#[allow(clippy::large_enum_variant)]
enum Next {
    Frame(ServerFrame),
    Closed,
    Timeout,
}

/// The next frame (backlog first), without panicking on a timeout.
async fn next_frame(c: &mut Client, wait: Duration) -> Next {
    if let Some(f) = c.backlog.pop_front() {
        return Next::Frame(f);
    }
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        let Ok(msg) = tokio::time::timeout_at(deadline, c.ws.next()).await else {
            return Next::Timeout;
        };
        match msg {
            Some(Ok(Message::Text(t))) => {
                return Next::Frame(c.codec.decode_server(t.as_bytes()).unwrap());
            }
            Some(Ok(Message::Binary(b))) => return Next::Frame(c.codec.decode_server(&b).unwrap()),
            Some(Ok(Message::Close(f))) => {
                c.close = f.map(|f| (u16::from(f.code), f.reason.to_string()));
                return Next::Closed;
            }
            Some(Ok(_)) => continue,
            Some(Err(_)) | None => return Next::Closed,
        }
    }
}

/// Sends a request and waits (bounded by `SHORT`, without the harness's
/// 5 s per-frame panic) for its reply, keeping other frames in the backlog.
async fn request(c: &mut Client, r: Request) -> ServerFrame {
    c.next_id += 1;
    let id = RequestId(format!("q{}", c.next_id));
    let frame = ClientFrame {
        id: Some(id.clone()),
        request: r,
    };
    let bytes = c.codec.encode_client(&frame);
    let text = String::from_utf8(bytes.to_vec()).unwrap();
    timeout(SHORT, c.ws.send(Message::Text(text.into())))
        .await
        .expect("send hung")
        .unwrap();
    let deadline = Instant::now() + SHORT;
    let mut skipped = vec![];
    let reply = loop {
        let left = deadline.saturating_duration_since(Instant::now());
        // Frames already in the backlog are not replies to this request.
        let msg = if skipped.is_empty() && !c.backlog.is_empty() {
            let backlog = std::mem::take(&mut c.backlog);
            skipped.extend(backlog);
            continue;
        } else {
            next_frame(c, left).await
        };
        match msg {
            Next::Frame(f) if common::reply_id(&f) == Some(&id) => break f,
            Next::Frame(f) => skipped.push(f),
            Next::Closed => panic!("closed while awaiting a reply: {:?}", c.close),
            Next::Timeout => panic!("no reply within {SHORT:?}"),
        }
    };
    c.backlog.extend(skipped);
    reply
}

fn join_req(room: &str, resume: Option<(&str, u64)>) -> Request {
    Request::Join(Join {
        room: room.into(),
        resume: resume.map(|(epoch, offset)| Resume {
            epoch: epoch.into(),
            offset,
        }),
    })
}

async fn join(c: &mut Client, room: &str) -> Joined {
    match request(c, join_req(room, None)).await {
        ServerFrame::Joined(j) => j,
        other => panic!("join failed: {other:?}"),
    }
}

async fn resume(c: &mut Client, room: &str, epoch: &str, offset: u64) -> Joined {
    match request(c, join_req(room, Some((epoch, offset)))).await {
        ServerFrame::Joined(j) => j,
        other => panic!("resume failed: {other:?}"),
    }
}

/// Posts a comment; returns the logged event from the ack.
async fn comment(c: &mut Client, text: &str) -> RoomEvent {
    let req = Request::Comment(PostComment { text: text.into() });
    match request(c, req).await {
        ServerFrame::Ack(Ack { event: Some(e), .. }) => e,
        other => panic!("comment {text:?} refused: {other:?}"),
    }
}

/// What one viewer saw of a room's log after `start`: every event by
/// offset, any offset received twice, any lane that went backwards. (The
/// frames of one tick come high lane first, so a comment may arrive after
/// a higher-offset status; each lane is in offset order, and the lanes
/// together tile the log.)
#[derive(Debug)]
struct Seen {
    epoch: String,
    start: u64,
    events: std::collections::BTreeMap<u64, RoomEvent>,
    repeated: Vec<u64>,
    /// (lane, previous offset, offset) where a lane went backwards.
    disorder: Vec<(Lane, u64, u64)>,
    last_in_lane: [u64; 2],
    /// High-lane batches whose `since` is not the previous high `upto`.
    high_breaks: Vec<(u64, u64)>,
    last_high_upto: Option<u64>,
}

impl Seen {
    fn new(j: &Joined) -> Seen {
        Seen {
            epoch: j.epoch.clone(),
            start: j.offset,
            events: Default::default(),
            repeated: vec![],
            disorder: vec![],
            last_in_lane: [j.offset; 2],
            high_breaks: vec![],
            last_high_upto: None,
        }
    }

    fn last(&self) -> u64 {
        self.events
            .keys()
            .next_back()
            .copied()
            .unwrap_or(self.start)
    }

    fn add(&mut self, events: impl IntoIterator<Item = RoomEvent>) {
        for e in events {
            let lane = e.lane();
            let i = usize::from(lane == Lane::Low);
            if e.offset <= self.last_in_lane[i] {
                self.disorder.push((lane, self.last_in_lane[i], e.offset));
            }
            self.last_in_lane[i] = self.last_in_lane[i].max(e.offset);
            if e.offset <= self.start || self.events.contains_key(&e.offset) {
                self.repeated.push(e.offset);
            } else {
                self.events.insert(e.offset, e);
            }
        }
    }

    /// A resume on another node: the replayed events continue the line.
    fn resumed(&mut self, j: &Joined) {
        assert_eq!(j.epoch, self.epoch);
        self.add(j.missed.iter().cloned());
        assert!(
            self.last() <= j.offset,
            "a replay ends at the joined offset"
        );
        self.last_in_lane = [j.offset; 2];
        self.last_high_upto = None;
    }

    fn batch(&mut self, b: Batch) {
        assert_eq!(b.epoch, self.epoch, "a batch of another epoch");
        if b.lane == Lane::High {
            if let Some(prev) = self.last_high_upto
                && b.since != prev
            {
                self.high_breaks.push((prev, b.since));
            }
            self.last_high_upto = Some(b.upto);
        }
        self.add(b.events);
    }

    fn list(&self) -> Vec<RoomEvent> {
        self.events.values().cloned().collect()
    }

    fn offsets(&self) -> Vec<u64> {
        self.events.keys().copied().collect()
    }

    /// Nothing lost, nothing repeated, each lane in order: offsets
    /// `start+1 ..= last`, once each.
    /// `internal`: offsets of the gateway's own events (room record
    /// changes), which no client receives.
    fn assert_whole(&self, who: &str, internal: &std::collections::BTreeSet<u64>) {
        let want: Vec<u64> = (self.start + 1..=self.last())
            .filter(|o| !internal.contains(o))
            .collect();
        assert_eq!(self.offsets(), want, "{who}: offsets not contiguous");
        assert!(
            self.repeated.is_empty(),
            "{who}: repeated {:?}",
            self.repeated
        );
        assert!(
            self.disorder.is_empty(),
            "{who}: out of order {:?}",
            self.disorder
        );
        assert!(
            self.high_breaks.is_empty(),
            "{who}: high lane did not tile: {:?}",
            self.high_breaks
        );
    }

    fn comments(&self) -> Vec<String> {
        comment_texts(&self.list())
    }

    fn statuses(&self) -> Vec<RoomStatus> {
        statuses(&self.list())
    }

    fn has_comment(&self, text: &str) -> bool {
        self.events
            .values()
            .any(|e| matches!(&e.kind, EventKind::Comment(c) if c.text == text))
    }
}

/// Reads frames into `seen` until `pred` holds (true), the server closes
/// (false; see `c.close`), or `limit` passes (panics).
async fn pump(
    c: &mut Client,
    seen: &mut Seen,
    limit: Duration,
    pred: impl Fn(&Seen) -> bool,
) -> bool {
    let deadline = Instant::now() + limit;
    loop {
        if pred(seen) {
            return true;
        }
        let left = deadline.saturating_duration_since(Instant::now());
        match next_frame(c, left).await {
            Next::Frame(ServerFrame::Batch(b)) => seen.batch(b),
            Next::Frame(_) => {}
            Next::Closed => return false,
            Next::Timeout => panic!(
                "condition not met within {limit:?}; last offset {}, comments {:?}, statuses {:?}",
                seen.last(),
                seen.comments(),
                seen.statuses()
            ),
        }
    }
}

/// Reads whatever arrives within `quiet` of the previous frame.
async fn drain(c: &mut Client, seen: &mut Seen, quiet: Duration) {
    loop {
        match next_frame(c, quiet).await {
            Next::Frame(ServerFrame::Batch(b)) => seen.batch(b),
            Next::Frame(_) => {}
            Next::Closed | Next::Timeout => return,
        }
    }
}

/// Reads (bounded) until the server closes; returns the close code.
async fn closed_with(c: &mut Client, seen: &mut Seen) -> Option<u16> {
    let closed = !pump(c, seen, LONG, |_| false).await;
    assert!(closed);
    c.close.as_ref().map(|c| c.0)
}

/// Log entries (kind JSON) of a room, read straight from the Redis Stream.
fn log_entries(redis: &RedisServer, prefix: &str, room: &str) -> Vec<Value> {
    let out = redis
        .cmd(&["XRANGE", &format!("{prefix}:{{{room}}}:log"), "-", "+"])
        .unwrap();
    out.lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// Offsets of the room's internal (`record`) events in the Redis log.
fn internal_offsets(
    redis: &RedisServer,
    prefix: &str,
    room: &str,
) -> std::collections::BTreeSet<u64> {
    let out = redis
        .cmd(&["XRANGE", &format!("{prefix}:{{{room}}}:log"), "-", "+"])
        .unwrap();
    let mut last_id = None;
    let mut internal = std::collections::BTreeSet::new();
    for l in out.lines() {
        if let Some(id) = l.strip_suffix("-1").and_then(|o| o.parse::<u64>().ok()) {
            last_id = Some(id);
        } else if l.starts_with('{') && l.contains(r#""type":"record""#) {
            internal.extend(last_id);
        }
    }
    internal
}

/// Subscribers of a room's (non-sharded) channel.
fn subscribers(redis: &RedisServer, prefix: &str, room: &str) -> i64 {
    redis
        .cmd(&["PUBSUB", "NUMSUB", &format!("{prefix}:{{{room}}}:ch")])
        .ok()
        .and_then(|r| r.lines().last().and_then(|n| n.parse().ok()))
        .unwrap_or(-1)
}

async fn wait_until(what: &str, limit: Duration, mut f: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !f().await {
        assert!(Instant::now() < deadline, "{what}: not within {limit:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

// ---------------------------------------------------------------- tests

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_comment_on_node_a_reaches_viewers_on_node_b_in_order() {
    if skip() {
        return;
    }
    let redis = RedisServer::start();
    let p = prefix();
    let a = Node::in_process("a", &redis.url(), &p, |_| {}).await;
    let b = Node::in_process("b", &redis.url(), &p, |_| {}).await;
    a.room("r1", "anna", true).await;
    let mut talker = a.connect(Some("tom")).await;
    join(&mut talker, "r1").await;
    let mut viewers = vec![];
    for (node, user) in [(&b, "v1"), (&b, "v2"), (&b, "v3"), (&a, "v4")] {
        let mut c = node.connect(Some(user)).await;
        let j = join(&mut c, "r1").await;
        viewers.push((user, c, Seen::new(&j)));
    }
    let mut sent = vec![];
    for i in 0..50 {
        let text = format!("m{i}");
        let ev = comment(&mut talker, &text).await;
        sent.push((ev.offset, text));
    }
    let texts: Vec<String> = sent.iter().map(|(_, t)| t.clone()).collect();
    let offsets: Vec<u64> = sent.iter().map(|(o, _)| *o).collect();
    for (user, c, seen) in &mut viewers {
        pump(c, seen, LONG, |s| s.comments().len() >= 50).await;
        assert_eq!(seen.comments(), texts, "{user}");
        assert_eq!(seen.offsets(), offsets, "{user}");
        seen.assert_whole(user, &internal_offsets(&redis, &p, "r1"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn viewers_of_a_killed_node_resume_elsewhere_without_loss() {
    if skip() {
        return;
    }
    let redis = RedisServer::start();
    let p = prefix();
    let mut a = Node::process("a", &redis.url(), &p, &[]).await;
    let b = Node::process("b", &redis.url(), &p, &[]).await;
    b.room("r1", "anna", true).await;
    let mut talker = b.connect(Some("tom")).await;
    join(&mut talker, "r1").await;
    let mut viewers = vec![];
    for user in ["v1", "v2", "v3"] {
        let mut c = a.connect(Some(user)).await;
        let j = join(&mut c, "r1").await;
        viewers.push((user, c, Seen::new(&j)));
    }
    for i in 0..5 {
        comment(&mut talker, &format!("before{i}")).await;
    }
    let mut positions = vec![];
    for (user, mut c, mut seen) in viewers {
        pump(&mut c, &mut seen, LONG, |s| s.has_comment("before4")).await;
        seen.assert_whole(user, &internal_offsets(&redis, &p, "r1"));
        positions.push((user, seen));
    }

    a.kill9();
    assert!(!a.alive());

    // While they are away: comments, a pause, a switch change, a resume.
    let mut expected_comments = vec![];
    for i in 0..5 {
        let t = format!("away{i}");
        comment(&mut talker, &t).await;
        expected_comments.push(t);
    }
    b.live("r1", "pause").await;
    b.switch_likes("r1", false).await;
    b.live("r1", "resume").await;
    for i in 5..10 {
        let t = format!("away{i}");
        comment(&mut talker, &t).await;
        expected_comments.push(t);
    }
    // Once B's hub has released the last comment (a join snapshot comes
    // from the hub: its offset is what the hub has released), every resume
    // below is answered up to the same head.
    let head = loop {
        let mut o = b.connect(Some("observer")).await;
        let j = join(&mut o, "r1").await;
        if comment_texts(&j.recent).last() == expected_comments.last() {
            break j.offset;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };

    let mut back = vec![];
    for (user, mut seen) in positions {
        let before = seen.last();
        let mut c = b.connect(Some(user)).await;
        let j = resume(&mut c, "r1", &seen.epoch.clone(), before).await;
        assert_eq!(j.recovered, Some(true), "{user}");
        let missed: Vec<u64> = j.missed.iter().map(|e| e.offset).collect();
        let internal = internal_offsets(&redis, &p, "r1");
        let want: Vec<u64> = (before + 1..=head)
            .filter(|o| !internal.contains(o))
            .collect();
        assert_eq!(missed, want, "{user}");
        assert_eq!(comment_texts(&j.missed), expected_comments, "{user}");
        assert_eq!(
            statuses(&j.missed),
            [RoomStatus::Paused, RoomStatus::Live],
            "{user}"
        );
        let switches: Vec<_> = j
            .missed
            .iter()
            .filter_map(|e| match &e.kind {
                EventKind::Switches(s) => Some(s.likes),
                _ => None,
            })
            .collect();
        assert_eq!(switches, [false], "{user}");
        seen.resumed(&j);
        back.push((user, c, seen));
    }
    // Live events continue after the replay, nothing repeated.
    comment(&mut talker, "after").await;
    for (user, c, seen) in &mut back {
        pump(c, seen, LONG, |s| s.has_comment("after")).await;
        seen.assert_whole(user, &internal_offsets(&redis, &p, "r1"));
        assert_eq!(seen.last(), head + 1, "{user}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_drained_node_sends_4000_and_its_viewers_lose_nothing() {
    if skip() {
        return;
    }
    let redis = RedisServer::start();
    let p = prefix();
    let mut a = Node::process("a", &redis.url(), &p, &[]).await;
    let b = Node::process("b", &redis.url(), &p, &[]).await;
    b.room("r1", "anna", true).await;
    let mut viewers = vec![];
    for user in ["v1", "v2", "v3"] {
        let mut c = a.connect(Some(user)).await;
        let j = join(&mut c, "r1").await;
        viewers.push((user, c, Seen::new(&j)));
    }
    // A steady stream of comments and a few switch changes on B, before,
    // during and after the drain of A.
    const N: usize = 80;
    let mut talker = b.connect(Some("tom")).await;
    join(&mut talker, "r1").await;
    let b_addr = b.addr;
    let publisher = tokio::spawn(async move {
        let admin = reqwest::Client::new();
        let mut sent = vec![];
        for i in 0..N {
            sent.push(comment(&mut talker, &format!("c{i}")).await.text_of());
            if i % 20 == 10 {
                let resp = admin
                    .patch(format!("http://{b_addr}/api/rooms/r1"))
                    .bearer_auth(ADMIN_KEY)
                    .json(&json!({"switches": {"likes": i % 40 != 10}}))
                    .timeout(SHORT)
                    .send()
                    .await
                    .unwrap();
                assert_eq!(resp.status().as_u16(), 200);
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        sent
    });
    for (_, c, seen) in &mut viewers {
        pump(c, seen, LONG, |s| s.comments().len() >= 10).await;
    }
    a.terminate();
    let mut away = vec![];
    for (user, mut c, mut seen) in viewers {
        let code = closed_with(&mut c, &mut seen).await;
        assert_eq!(code, Some(4000), "{user}: {:?}", c.close);
        seen.assert_whole(user, &internal_offsets(&redis, &p, "r1"));
        away.push((user, seen));
    }
    let st = a.wait_exit(LONG).await;
    assert!(st.success(), "a drained node exits cleanly: {st}");

    let mut back = vec![];
    for (user, mut seen) in away {
        let mut c = b.connect(Some(user)).await;
        let j = resume(&mut c, "r1", &seen.epoch.clone(), seen.last()).await;
        assert_eq!(j.recovered, Some(true), "{user}");
        seen.resumed(&j);
        back.push((user, c, seen));
    }
    let sent = timeout(Duration::from_secs(30), publisher)
        .await
        .expect("publisher hung")
        .unwrap();
    for (user, c, seen) in &mut back {
        pump(c, seen, LONG, |s| s.comments().len() >= N).await;
        seen.assert_whole(user, &internal_offsets(&redis, &p, "r1"));
        assert_eq!(seen.comments(), sent, "{user}");
        let switches = seen
            .events
            .values()
            .filter(|e| matches!(e.kind, EventKind::Switches(_)))
            .count();
        assert_eq!(switches, N / 20, "{user}");
    }
}

trait TextOf {
    fn text_of(&self) -> String;
}

impl TextOf for RoomEvent {
    fn text_of(&self) -> String {
        match &self.kind {
            EventKind::Comment(c) => c.text.clone(),
            other => panic!("not a comment: {other:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_outage_is_survived() {
    if skip() {
        return;
    }
    let mut redis = RedisServer::start();
    let p = prefix();
    let mut a = Node::process("a", &redis.url(), &p, &[]).await;
    let mut b = Node::process("b", &redis.url(), &p, &[]).await;
    a.room("r1", "anna", true).await;
    let (mut va, mut vb) = (a.connect(Some("va")).await, b.connect(Some("vb")).await);
    let mut seen_a = Seen::new(&join(&mut va, "r1").await);
    let mut seen_b = Seen::new(&join(&mut vb, "r1").await);
    let (mut ca, mut cb) = (a.connect(Some("ca")).await, b.connect(Some("cb")).await);
    join(&mut ca, "r1").await;
    join(&mut cb, "r1").await;
    let mut vr = b.connect(Some("vr")).await;
    let mut seen_r = Seen::new(&join(&mut vr, "r1").await);

    comment(&mut ca, "pre-a").await;
    comment(&mut cb, "pre-b").await;
    for (c, s) in [
        (&mut va, &mut seen_a),
        (&mut vb, &mut seen_b),
        (&mut vr, &mut seen_r),
    ] {
        pump(c, s, LONG, |s| {
            s.has_comment("pre-a") && s.has_comment("pre-b")
        })
        .await;
    }
    assert_eq!(
        subscribers(&redis, &p, "r1"),
        2,
        "one subscription per node"
    );
    // vr leaves before the outage, to resume after it.
    drop(vr);
    // Right before the outage.
    comment(&mut ca, "last-before").await;
    b.switch_likes("r1", false).await;
    redis.kill();

    // Not ready, but alive and answering.
    for n in [&a, &b] {
        wait_until("readyz 503", Duration::from_secs(5), async || {
            n.get("/readyz").await.0 == 503
        })
        .await;
        assert_eq!(n.get("/healthz").await.0, 200);
    }
    assert!(a.alive() && b.alive());
    // Requests are refused with `unavailable`, not hung, not crashed.
    let t = Instant::now();
    let reply = request(&mut ca, Request::Comment(PostComment { text: "x".into() })).await;
    assert_eq!(
        error_code(&reply),
        Some(ErrorCode::Unavailable),
        "{reply:?}"
    );
    eprintln!("outage: comment refused after {:?}", t.elapsed());
    let mut late = b.connect(Some("late")).await;
    let t = Instant::now();
    let reply = request(&mut late, join_req("r1", None)).await;
    assert_eq!(
        error_code(&reply),
        Some(ErrorCode::Unavailable),
        "{reply:?}"
    );
    eprintln!("outage: join refused after {:?}", t.elapsed());
    let t = Instant::now();
    let (st, body) = b
        .api(
            "POST",
            "/api/rooms/r1/live",
            Some(json!({"action": "pause"})),
        )
        .await;
    assert_eq!(
        (st, body["code"].as_str()),
        (503, Some("unavailable")),
        "{body}"
    );
    eprintln!("outage: admin pause refused after {:?}", t.elapsed());
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(a.alive() && b.alive());

    redis.restart();
    for n in [&a, &b] {
        wait_until("readyz 200", LONG, async || n.get("/readyz").await.0 == 200).await;
    }
    // Right after: high-priority events, possibly before the nodes have
    // resubscribed (the hubs' resync brings them then).
    b.live("r1", "pause").await;
    b.switch_likes("r1", true).await;
    a.live("r1", "resume").await;
    wait_until("both nodes resubscribed", LONG, async || {
        subscribers(&redis, &p, "r1") == 2
    })
    .await;
    // The resume's record event was published while B may not have been
    // subscribed yet: B's hub fetches it from the log at its next resync.
    // (A like is refused `room_not_live` until then.)
    wait_until("node b's hub sees the resume", LONG, async || {
        matches!(
            request(&mut cb, Request::Like(Like { count: 1 })).await,
            ServerFrame::Ack(_)
        )
    })
    .await;
    comment(&mut ca, "post-a").await;
    comment(&mut cb, "post-b").await;
    for (who, c, s) in [("va", &mut va, &mut seen_a), ("vb", &mut vb, &mut seen_b)] {
        pump(c, s, LONG, |s| {
            s.has_comment("post-a") && s.has_comment("post-b")
        })
        .await;
        s.assert_whole(who, &internal_offsets(&redis, &p, "r1"));
        assert_eq!(
            s.comments(),
            ["pre-a", "pre-b", "last-before", "post-a", "post-b"],
            "{who}"
        );
        assert_eq!(
            s.statuses(),
            [RoomStatus::Paused, RoomStatus::Live],
            "{who}"
        );
        let switches = s
            .events
            .values()
            .filter_map(|e| match &e.kind {
                EventKind::Switches(sw) => Some(sw.likes),
                _ => None,
            })
            .collect::<Vec<_>>();
        assert_eq!(switches, [false, true], "{who}");
    }
    // A viewer that was away resumes: recovered with exactly what it
    // missed, or told it cannot (never a silent partial replay).
    let mut back = a.connect(Some("vr")).await;
    let j = resume(&mut back, "r1", &seen_r.epoch.clone(), seen_r.last()).await;
    eprintln!("outage: resume answered recovered={:?}", j.recovered);
    match j.recovered {
        Some(true) => {
            seen_r.resumed(&j);
            seen_r.assert_whole("vr", &internal_offsets(&redis, &p, "r1"));
            assert_eq!(seen_r.last(), seen_a.last());
        }
        Some(false) => {
            assert!(j.missed.is_empty());
            assert_eq!(j.offset, seen_a.last(), "a fresh snapshot");
        }
        None => panic!("resume unanswered: {j:?}"),
    }
    assert!(a.alive() && b.alive());
}

/// Connects `user` (the room's anchor) to `node`, joins `room` and starts
/// the live; returns the anchor's connection.
async fn start_as_anchor(node: &Node, room: &str, user: &str) -> Client {
    let mut anchor = node.connect(Some(user)).await;
    let j = join(&mut anchor, room).await;
    assert_eq!(j.role, Role::Anchor);
    let reply = request(
        &mut anchor,
        Request::Live(Live {
            action: LiveAction::Start,
        }),
    )
    .await;
    assert!(
        matches!(
            reply,
            ServerFrame::Ack(Ack {
                status: Some(RoomStatus::Live),
                ..
            })
        ),
        "{reply:?}"
    );
    anchor
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_room_whose_anchor_node_dies_turns_abnormal() {
    if skip() {
        return;
    }
    let redis = RedisServer::start();
    let p = prefix();
    let mut a = Node::process("a", &redis.url(), &p, &[]).await;
    let b = Node::process("b", &redis.url(), &p, &[]).await;
    b.room("r1", "anna", false).await;
    let mut observer = b.connect(Some("obs")).await;
    let mut seen = Seen::new(&join(&mut observer, "r1").await);
    let anchor = start_as_anchor(&a, "r1", "anna").await;
    // Live, with the anchor's presence refreshed by a, for a while.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    // The anchor's node dies: its sessions never end, its presence expires
    // (3 presence intervals: 600 ms) and b's timer makes the room abnormal.
    a.kill9();
    drop(anchor);
    pump(&mut observer, &mut seen, LONG, |s| {
        s.statuses().contains(&RoomStatus::Abnormal)
    })
    .await;
    let abnormal = seen
        .events
        .values()
        .find(|e| matches!(&e.kind, EventKind::Status(s) if s.status == RoomStatus::Abnormal))
        .unwrap()
        .clone();
    let EventKind::Status(s) = &abnormal.kind else {
        unreachable!()
    };
    assert_eq!(s.reason.as_deref(), Some("anchor_disconnected"));
    // Once: a second look finds nothing more.
    tokio::time::sleep(Duration::from_millis(1000)).await;
    drain(&mut observer, &mut seen, Duration::from_millis(200)).await;
    assert_eq!(seen.statuses(), [RoomStatus::Live, RoomStatus::Abnormal]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_live_room_without_an_anchor_connection_stays_live() {
    if skip() {
        return;
    }
    let redis = RedisServer::start();
    let p = prefix();
    let b = Node::process("b", &redis.url(), &p, &[]).await;
    // Started by an admin; the anchor never connected: nothing vanished.
    b.room("r1", "anna", true).await;
    let mut observer = b.connect(Some("obs")).await;
    let mut seen = Seen::new(&join(&mut observer, "r1").await);
    tokio::time::sleep(Duration::from_millis(2000)).await;
    drain(&mut observer, &mut seen, Duration::from_millis(200)).await;
    assert!(seen.statuses().is_empty(), "{:?}", seen.statuses());
    let (_, room) = b.api("GET", "/api/rooms/r1", None).await;
    assert_eq!(room["status"], 101);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_timer_runs_once_when_the_lease_holder_dies() {
    if skip() {
        return;
    }
    let redis = RedisServer::start();
    let p = prefix();
    let flags = ["--abnormal-timeout-ms", "1500"];
    let mut a = Node::process("a", &redis.url(), &p, &flags).await;
    let b = Node::process("b", &redis.url(), &p, &flags).await;
    let c = Node::process("c", &redis.url(), &p, &flags).await;
    b.room("r1", "anna", false).await;
    let mut observer = b.connect(Some("obs")).await;
    let mut seen = Seen::new(&join(&mut observer, "r1").await);
    let anchor = start_as_anchor(&a, "r1", "anna").await;
    // The anchor's connection drops: the room turns abnormal (106).
    drop(anchor);
    pump(&mut observer, &mut seen, LONG, |s| {
        s.statuses().contains(&RoomStatus::Abnormal)
    })
    .await;
    // Node a takes the room's timer lease (as if it had found the deadline
    // due first) and dies before acting on it. Nobody may act until the
    // lease expires; then b or c acts, once.
    let lease_ms = 3000;
    let taken = gateway::clock::now_ms();
    let lease_key = format!("{p}:lease:{{timers:r1}}");
    redis
        .cmd(&["SET", &lease_key, "a:1000", "PX", &lease_ms.to_string()])
        .unwrap();
    a.kill9();
    pump(&mut observer, &mut seen, LONG, |s| {
        s.statuses().contains(&RoomStatus::Ended)
    })
    .await;
    let ended = seen
        .events
        .values()
        .find(|e| matches!(&e.kind, EventKind::Status(s) if s.status == RoomStatus::Ended))
        .unwrap()
        .clone();
    assert!(
        ended.ts >= taken + lease_ms - 50,
        "the room ended {} ms after the lease was taken, before it expired",
        ended.ts - taken
    );
    let EventKind::Status(s) = &ended.kind else {
        unreachable!()
    };
    assert_eq!(s.reason.as_deref(), Some("abnormal_timeout"));
    // Give every node time for a second (wrong) firing.
    tokio::time::sleep(Duration::from_millis(1000)).await;
    drain(&mut observer, &mut seen, Duration::from_millis(200)).await;
    assert_eq!(
        seen.statuses(),
        [RoomStatus::Live, RoomStatus::Abnormal, RoomStatus::Ended]
    );
    seen.assert_whole("observer", &internal_offsets(&redis, &p, "r1"));
    let log = log_entries(&redis, &p, "r1");
    let ends = log
        .iter()
        .filter(|k| k["type"] == "status" && k["status"] == 103)
        .count();
    let timeouts = log
        .iter()
        .filter(|k| k["reason"] == "abnormal_timeout")
        .count();
    assert_eq!((ends, timeouts), (1, 1), "{log:?}");
    let holder = redis.cmd(&["GET", &lease_key]).unwrap();
    assert!(
        holder.is_empty() || holder.starts_with("b:") || holder.starts_with("c:"),
        "{holder}"
    );
    drop((b, c));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sharded_pubsub_carries_a_comment_across_nodes_on_a_redis_cluster() {
    if skip() {
        return;
    }
    let cluster = RedisCluster::start();
    let p = prefix();
    let seeds = cluster.seeds().join(",");
    let with_cluster = |s: &mut gateway::Settings| {
        s.redis = String::new();
        s.redis_cluster = seeds.clone();
    };
    let a = Node::in_process("a", "", &p, with_cluster).await;
    let b = Node::in_process("b", "", &p, with_cluster).await;
    a.room("r1", "anna", true).await;
    let mut talker = a.connect(Some("tom")).await;
    join(&mut talker, "r1").await;
    let mut viewer = b.connect(Some("vic")).await;
    let mut seen = Seen::new(&join(&mut viewer, "r1").await);
    let mut sent = vec![];
    for i in 0..20 {
        sent.push(comment(&mut talker, &format!("s{i}")).await.text_of());
    }
    pump(&mut viewer, &mut seen, LONG, |s| s.comments().len() >= 20).await;
    assert_eq!(seen.comments(), sent);
    seen.assert_whole("vic", &Default::default());
    // Both nodes hold a sharded subscription (SSUBSCRIBE), on the shard
    // that owns the room's slot.
    let channel = format!("{p}:{{r1}}:ch");
    let shard_subs: i64 = cluster
        .ports()
        .iter()
        .map(|port| {
            std::process::Command::new("redis-cli")
                .args(["-p", &port.to_string(), "PUBSUB", "SHARDNUMSUB", &channel])
                .output()
                .ok()
                .and_then(|o| {
                    String::from_utf8_lossy(&o.stdout)
                        .lines()
                        .last()
                        .and_then(|n| n.trim().parse::<i64>().ok())
                })
                .unwrap_or(0)
        })
        .sum();
    assert_eq!(shard_subs, 2, "one sharded subscription per node");
}

// ---------------------------------------------------------------- measurement

/// Latency percentiles (ms) of a sorted list.
fn pct(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i]
}

/// Sends `n` comments at `rate`/s from a client on `sender`; viewers on
/// `viewer_nodes` timestamp each arrival. Returns every send→receive latency
/// in ms (n × viewers).
async fn latency_run(
    sender: SocketAddr,
    viewer_nodes: &[SocketAddr],
    room: &str,
    n: usize,
    rate: u64,
) -> Vec<f64> {
    use std::collections::HashMap;
    use std::sync::{Arc, Mutex};
    let sent_at: Arc<Mutex<HashMap<String, Instant>>> = Arc::default();
    let mut tasks = vec![];
    for (i, addr) in viewer_nodes.iter().enumerate() {
        let mut c = connect(*addr, Some(&format!("lat-v{i}"))).await;
        let j = join(&mut c, room).await;
        let sent_at = sent_at.clone();
        tasks.push(tokio::spawn(async move {
            let mut seen = Seen::new(&j);
            let mut lat = vec![];
            let deadline = Instant::now() + Duration::from_secs(60);
            while lat.len() < n && Instant::now() < deadline {
                match next_frame(&mut c, Duration::from_secs(10)).await {
                    Next::Frame(ServerFrame::Batch(b)) => {
                        let now = Instant::now();
                        for t in comment_texts(&b.events) {
                            if let Some(at) = sent_at.lock().unwrap().get(&t) {
                                lat.push(now.duration_since(*at).as_secs_f64() * 1000.0);
                            }
                        }
                        seen.batch(b);
                    }
                    Next::Frame(_) => {}
                    Next::Closed | Next::Timeout => break,
                }
            }
            lat
        }));
    }
    let mut talker = connect(sender, Some("lat-talker")).await;
    join(&mut talker, room).await;
    // Uniformly jittered gaps (mean 1/rate), so sends are not phase-locked
    // to the fan-out tick.
    let mean_us = 1_000_000 / rate;
    let mut next = tokio::time::Instant::now();
    for i in 0..n {
        next += Duration::from_micros(rand::random_range(mean_us / 2..mean_us * 3 / 2));
        tokio::time::sleep_until(next).await;
        let text = format!("lat{i}");
        sent_at.lock().unwrap().insert(text.clone(), Instant::now());
        // Send without waiting for the ack (it comes back with the batches).
        let frame = ClientFrame {
            id: Some(RequestId(format!("l{i}"))),
            request: Request::Comment(PostComment { text }),
        };
        let bytes = talker.codec.encode_client(&frame);
        futures_util::SinkExt::send(
            &mut talker.ws,
            Message::Text(String::from_utf8(bytes.to_vec()).unwrap().into()),
        )
        .await
        .unwrap();
        // Keep the talker's socket drained.
        while let Next::Frame(_) = next_frame(&mut talker, Duration::from_millis(0)).await {}
    }
    let mut all = vec![];
    for t in tasks {
        let lat = timeout(Duration::from_secs(90), t).await.unwrap().unwrap();
        assert_eq!(lat.len(), n, "a viewer missed comments");
        all.extend(lat);
    }
    all.sort_by(f64::total_cmp);
    all
}

fn command_calls(redis: &RedisServer) -> Vec<(String, u64)> {
    let info = redis.cmd(&["INFO", "commandstats"]).unwrap();
    info.lines()
        .filter_map(|l| {
            let (name, rest) = l.strip_prefix("cmdstat_")?.split_once(':')?;
            let calls = rest
                .split(',')
                .find_map(|kv| kv.strip_prefix("calls="))?
                .parse()
                .ok()?;
            Some((name.to_string(), calls))
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "measurement: run with -- --ignored --nocapture"]
async fn measure_latency_and_redis_commands() {
    if skip() {
        return;
    }
    const N: usize = 500;
    const RATE: u64 = 50;
    let report = |label: &str, lat: &[f64]| {
        println!(
            "{label}: {} samples, p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
            lat.len(),
            pct(lat, 0.5),
            pct(lat, 0.99),
            lat.last().copied().unwrap_or(f64::NAN)
        );
    };

    for tick_ms in [20, 100] {
        // One embedded node (in-process store and bus).
        {
            let mut s = settings();
            s.redis_prefix = prefix();
            s.tick_ms = tick_ms;
            let running = gateway::start(s).await.unwrap();
            let node = Node {
                name: "embedded".into(),
                addr: running.addr,
                proc: Proc::InProcess(Some(running)),
                http: reqwest::Client::new(),
            };
            node.room("m1", "anna", true).await;
            let v = [node.addr, node.addr, node.addr];
            let lat = latency_run(node.addr, &v, "m1", N, RATE).await;
            report(
                &format!("tick {tick_ms} ms, embedded 1 node, sender + 3 viewers on it"),
                &lat,
            );
        }
        // Two nodes on one redis-server: sender on a, 2 viewers on b, 1 on a.
        {
            let redis = RedisServer::start();
            let p = prefix();
            let tune = |s: &mut gateway::Settings| {
                s.tick_ms = tick_ms;
                s.timer_interval_ms = 1000;
                s.presence_interval_ms = 1000;
            };
            let a = Node::in_process("a", &redis.url(), &p, tune).await;
            let b = Node::in_process("b", &redis.url(), &p, tune).await;
            a.room("m1", "anna", true).await;
            let lat = latency_run(a.addr, &[b.addr, b.addr, a.addr], "m1", N, RATE).await;
            report(
                &format!("tick {tick_ms} ms, redis 2 nodes, sender on a, viewers 2 on b + 1 on a"),
                &lat,
            );
        }
    }

    // Redis commands per comment: one node, 2 viewers, default intervals.
    {
        let redis = RedisServer::start();
        let p = prefix();
        let node = Node::in_process("a", &redis.url(), &p, |s| {
            s.timer_interval_ms = 1000;
            s.presence_interval_ms = 1000;
        })
        .await;
        node.room("m1", "anna", true).await;
        let mut viewers = vec![];
        for u in ["cv1", "cv2"] {
            let mut c = node.connect(Some(u)).await;
            let j = join(&mut c, "m1").await;
            viewers.push((c, Seen::new(&j)));
        }
        let mut talker = node.connect(Some("ct")).await;
        join(&mut talker, "m1").await;
        // Idle baseline: background commands (hub resync, timers, presence) per second.
        redis.cmd(&["CONFIG", "RESETSTAT"]).unwrap();
        let idle = Duration::from_secs(3);
        tokio::time::sleep(idle).await;
        let idle_calls: u64 = command_calls(&redis).iter().map(|(_, c)| c).sum();
        let idle_per_s = idle_calls as f64 / idle.as_secs_f64();
        const M: usize = 200;
        redis.cmd(&["CONFIG", "RESETSTAT"]).unwrap();
        let t0 = Instant::now();
        let mean_us = 1_000_000 / RATE;
        for i in 0..M {
            let gap = rand::random_range(mean_us / 2..mean_us * 3 / 2);
            tokio::time::sleep(Duration::from_micros(gap)).await;
            comment(&mut talker, &format!("k{i}")).await;
        }
        for (c, s) in &mut viewers {
            pump(c, s, LONG, |s| s.comments().len() >= M).await;
        }
        let secs = t0.elapsed().as_secs_f64();
        let mut calls = command_calls(&redis);
        calls.sort_by_key(|c| std::cmp::Reverse(c.1));
        let total: u64 = calls.iter().map(|(_, c)| c).sum();
        println!(
            "redis commands, 1 node (tick 20 ms), 2 viewers + sender, {M} comments at ~{RATE}/s in {secs:.2} s: \
             {total} calls = {:.2} per comment; minus idle background ({idle_per_s:.1}/s): {:.2} per comment",
            total as f64 / M as f64,
            (total as f64 - idle_per_s * secs) / M as f64
        );
        for (name, c) in &calls {
            println!("  {name}: {c} ({:.2} per comment)", *c as f64 / M as f64);
        }
    }
}

// ------------------------------------------------------------ grab storms

/// A request that reports a dead connection instead of panicking.
async fn try_request(c: &mut Client, r: Request) -> Option<ServerFrame> {
    c.next_id += 1;
    let id = RequestId(format!("q{}", c.next_id));
    let frame = ClientFrame {
        id: Some(id.clone()),
        request: r,
    };
    let text = String::from_utf8(c.codec.encode_client(&frame).to_vec()).unwrap();
    match timeout(SHORT, c.ws.send(Message::Text(text.into()))).await {
        Ok(Ok(())) => {}
        _ => return None,
    }
    let deadline = Instant::now() + SHORT;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match next_frame(c, left).await {
            Next::Frame(f) if common::reply_id(&f) == Some(&id) => return Some(f),
            Next::Frame(_) => continue,
            Next::Closed | Next::Timeout => return None,
        }
    }
}

/// Connects and joins as a client would in a reconnect storm: a refused
/// connection (a dead node) moves on to the next node, and a join refused
/// `unavailable` (the store slow to answer) is retried.
async fn connect_and_join(addrs: &[SocketAddr], first: usize, user: &str, room: &str) -> Client {
    for attempt in 0..50 {
        let addr = addrs[(first + attempt) % addrs.len()];
        let url = format!("ws://{addr}/ws?token={}", token(user));
        let mut req = url.into_client_request().unwrap();
        req.headers_mut().insert(
            "Sec-WebSocket-Protocol",
            HeaderValue::from_static(Codec::Json.subprotocol()),
        );
        let Ok(Ok((ws, _))) = timeout(SHORT, tokio_tungstenite::connect_async(req)).await else {
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        };
        let mut c = Client {
            ws,
            codec: Codec::Json,
            hello: None,
            next_id: 0,
            backlog: Default::default(),
            close: None,
        };
        match try_request(&mut c, join_req(room, None)).await {
            Some(ServerFrame::Joined(_)) => return c,
            Some(f) if error_code(&f) == Some(ErrorCode::Unavailable) => {}
            Some(other) => panic!("join failed: {other:?}"),
            None => {}
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{user} could not join {room}");
}

/// What a grab was answered: a reservation (id, quantity) or a refusal.
#[derive(Debug, Clone, PartialEq, Eq)]
enum GrabAnswer {
    Reserved(String, u32),
    Refused(ErrorCode),
}

fn grab_answer(f: &ServerFrame) -> GrabAnswer {
    match f {
        ServerFrame::Grabbed(g) => {
            GrabAnswer::Reserved(g.reservation.id.clone(), g.reservation.quantity)
        }
        ServerFrame::Error(e) => GrabAnswer::Refused(e.code),
        other => panic!("not a grab answer: {other:?}"),
    }
}

/// 2,000 signed-in viewers over 3 real gateway processes on one Redis send
/// 10,000 grabs (each viewer: keys a (2 units), b (1), a again, c (1), b
/// again) at one item with quota 100, order limit 2 and viewer limit 2.
/// With `kill`, the third node is killed (`kill -9`) once 3,000 grabs
/// were answered; its viewers reconnect to another node and resend the
/// key they were waiting on.
async fn grab_storm(kill: bool) {
    use std::sync::Arc;
    use std::sync::atomic::AtomicUsize;
    if skip() {
        return;
    }
    let redis = RedisServer::start();
    let p = prefix();
    let mut nodes = vec![];
    for name in ["a", "b", "c"] {
        nodes.push(Node::process(name, &redis.url(), &p, &[]).await);
    }
    nodes[0].room("r1", "anna", true).await;
    let item = json!({"id": "g1", "name": "限量好物", "cover_url": "https://img.example/g1.png",
        "price": 1000, "live_price": 500, "quota": 100, "order_limit": 2, "viewer_limit": 2});
    let (st, body) = nodes[0]
        .api("PUT", "/api/rooms/r1/goods/g1", Some(item))
        .await;
    assert_eq!(st, 200, "{body}");
    let addrs: Vec<SocketAddr> = nodes.iter().map(|n| n.addr).collect();
    let answered = Arc::new(AtomicUsize::new(0));
    let reconnects = Arc::new(AtomicUsize::new(0));
    let plan: [(&str, i64); 5] = [("a", 2), ("b", 1), ("a", 2), ("c", 1), ("b", 1)];
    let mut tasks = vec![];
    for v in 0..2000usize {
        let addrs = addrs.clone();
        let answered = answered.clone();
        let reconnects = reconnects.clone();
        tasks.push(tokio::spawn(async move {
            let user = format!("v{v}");
            let mut at = v % 3;
            let mut c = connect_and_join(&addrs, at, &user, "r1").await;
            let mut answers: Vec<(String, GrabAnswer)> = vec![];
            for (key, qty) in plan {
                let req = Request::Grab(protocol::commerce::Grab {
                    goods: "g1".into(),
                    quantity: qty,
                    key: format!("{user}-{key}"),
                });
                let reply = loop {
                    if let Some(f) = try_request(&mut c, req.clone()).await {
                        break f;
                    }
                    // The node died mid-request: the first node takes over.
                    reconnects.fetch_add(1, Ordering::Relaxed);
                    at = (at + 1) % 3;
                    c = connect_and_join(&addrs, at, &user, "r1").await;
                };
                answers.push((key.to_string(), grab_answer(&reply)));
                answered.fetch_add(1, Ordering::Relaxed);
            }
            answers
        }));
    }
    if kill {
        let deadline = Instant::now() + Duration::from_secs(60);
        while answered.load(Ordering::Relaxed) < 3000 && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        nodes[2].kill9();
    }
    let mut reserved: std::collections::HashMap<String, u32> = Default::default();
    for (v, t) in tasks.into_iter().enumerate() {
        let answers = timeout(Duration::from_secs(120), t)
            .await
            .expect("a viewer hung")
            .unwrap();
        let mut first: std::collections::HashMap<String, GrabAnswer> = Default::default();
        let mut mine = 0;
        for (key, a) in answers {
            match first.get(&key) {
                // A retried key: the reservation it got first, or a refusal.
                Some(GrabAnswer::Reserved(..)) => {
                    assert_eq!(Some(&a), first.get(&key), "v{v} {key}")
                }
                Some(GrabAnswer::Refused(_)) => {
                    assert!(matches!(a, GrabAnswer::Refused(_)), "v{v} {key}: {a:?}")
                }
                None => {
                    if let GrabAnswer::Reserved(id, q) = &a {
                        assert!(reserved.insert(id.clone(), *q).is_none(), "{id} twice");
                        mine += q;
                    }
                    first.insert(key, a);
                }
            }
        }
        assert!(mine <= 2, "v{v} holds {mine} units, over its limit of 2");
    }
    let total: u32 = reserved.values().sum();
    assert_eq!(total, 100, "units reserved over every viewer");
    if kill {
        // The kill fell inside the storm: viewers of the dead node resent.
        assert!(reconnects.load(Ordering::Relaxed) > 0);
    }
    // The store agrees, and its feed lists exactly those reservations.
    let (_, body) = nodes[0].api("GET", "/api/rooms/r1/commerce", None).await;
    assert_eq!(body["counters"]["reserved:g1"], 100, "{body}");
    let (_, body) = nodes[0]
        .api("GET", "/api/rooms/r1/commerce/feed?limit=1000", None)
        .await;
    let fed: std::collections::HashSet<String> = body["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["data"]["id"].as_str().unwrap().to_string())
        .collect();
    let seen: std::collections::HashSet<String> = reserved.keys().cloned().collect();
    assert_eq!(fed, seen);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_grab_storm_over_three_nodes_reserves_the_quota_exactly() {
    grab_storm(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_grab_storm_with_a_node_killed_reserves_the_quota_exactly() {
    grab_storm(true).await;
}

// ------------------------------------------------------------ paced drain

/// The paced drain (lame duck): SIGTERM turns the node not-ready at once,
/// keeps every session through the delay, then closes them with 4000
/// spread over the window (not all at once); the viewers resume on another
/// node and lose nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paced_drain_turns_not_ready_then_spreads_its_4000_closes_over_the_window() {
    if skip() {
        return;
    }
    const DELAY: Duration = Duration::from_millis(1500);
    const WINDOW: Duration = Duration::from_millis(3000);
    const VIEWERS: usize = 24;
    const N: usize = 160;
    let redis = RedisServer::start();
    let p = prefix();
    let flags = ["--drain-delay-ms", "1500", "--drain-window-ms", "3000"];
    let mut a = Node::process("a", &redis.url(), &p, &flags).await;
    let b = Node::process("b", &redis.url(), &p, &[]).await;
    b.room("r1", "anna", true).await;
    assert_eq!(a.get("/readyz").await.0, 200);
    let mut viewers = vec![];
    for i in 0..VIEWERS {
        let user = format!("v{i}");
        let mut c = a.connect(Some(&user)).await;
        let j = join(&mut c, "r1").await;
        viewers.push((user, c, Seen::new(&j)));
    }
    // Comments on B before, during and after the drain of A.
    let mut talker = b.connect(Some("tom")).await;
    join(&mut talker, "r1").await;
    let publisher = tokio::spawn(async move {
        let mut sent = vec![];
        for i in 0..N {
            sent.push(comment(&mut talker, &format!("c{i}")).await.text_of());
            tokio::time::sleep(Duration::from_millis(40)).await;
        }
        sent
    });
    for (_, c, seen) in &mut viewers {
        pump(c, seen, LONG, |s| s.comments().len() >= 5).await;
    }
    let t0 = Instant::now();
    a.terminate();
    let b_addr = b.addr;
    let mut tasks = vec![];
    for (user, mut c, mut seen) in viewers {
        tasks.push(tokio::spawn(async move {
            let open = pump(&mut c, &mut seen, Duration::from_secs(30), |_| false).await;
            assert!(!open);
            let closed_at = t0.elapsed();
            let code = c.close.as_ref().map(|c| c.0);
            let mut c = connect(b_addr, Some(&user)).await;
            let j = resume(&mut c, "r1", &seen.epoch.clone(), seen.last()).await;
            assert_eq!(j.recovered, Some(true), "{user}");
            seen.resumed(&j);
            let last = format!("c{}", N - 1);
            pump(&mut c, &mut seen, Duration::from_secs(30), |s| {
                s.has_comment(&last)
            })
            .await;
            (user, code, closed_at, seen)
        }));
    }
    // Not ready at once, while the sessions are still open (the delay).
    let probe = Instant::now();
    wait_until("A answers /readyz 503", SHORT, async || {
        a.get("/readyz").await.0 == 503
    })
    .await;
    if probe.elapsed() < DELAY / 2 {
        assert!(
            tasks.iter().all(|t| !t.is_finished()),
            "a session closed within the delay"
        );
    }
    let mut done = vec![];
    for t in tasks {
        done.push(
            timeout(Duration::from_secs(60), t)
                .await
                .expect("viewer hung")
                .unwrap(),
        );
    }
    let st = a.wait_exit(LONG).await;
    assert!(st.success(), "a drained node exits cleanly: {st}");
    let sent = timeout(Duration::from_secs(30), publisher)
        .await
        .expect("publisher hung")
        .unwrap();
    let internal = internal_offsets(&redis, &p, "r1");
    let mut times = vec![];
    for (user, code, at, seen) in &done {
        assert_eq!(*code, Some(4000), "{user}");
        seen.assert_whole(user, &internal);
        assert_eq!(seen.comments()[..], sent[..], "{user}");
        times.push(*at);
    }
    times.sort();
    eprintln!("close times after SIGTERM: {times:?}");
    assert!(
        times[0] >= DELAY,
        "the first close came before the delay: {:?}",
        times[0]
    );
    // Counts per third of the window: evenly spread is 8 each; all at
    // once would put every one in the first third.
    let third = WINDOW / 3;
    let mut per_third = [0usize; 3];
    for t in &times {
        let i = ((*t - DELAY).as_nanos() / third.as_nanos()).min(2) as usize;
        per_third[i] += 1;
    }
    assert!(
        per_third.iter().all(|&n| n >= 3),
        "closes per third of the window: {per_third:?} ({times:?})"
    );
    let span = times[VIEWERS - 1] - times[0];
    assert!(
        span >= WINDOW / 2,
        "closes spread over {span:?} of a {WINDOW:?} window"
    );
}
