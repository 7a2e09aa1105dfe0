//! Test harness: starts a real gateway on 127.0.0.1:0 and drives it with real
//! WebSocket clients and HTTP calls.
#![allow(dead_code, clippy::unwrap_used, missing_docs)]

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use gateway::{Running, Settings};
use protocol::*;
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

pub const WAIT: Duration = Duration::from_secs(5);

/// The backend the suite runs on: `GATEWAY_TEST_BACKEND` = `memory`
/// (default), `redis` (a redis-server per test) or `cluster` (one 3-master
/// Redis Cluster per test binary, a key prefix per test).
pub fn test_backend() -> String {
    std::env::var("GATEWAY_TEST_BACKEND").unwrap_or_else(|_| "memory".into())
}

static CLUSTER: std::sync::OnceLock<redis::RedisCluster> = std::sync::OnceLock::new();
static PREFIX: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// Points `s` at the backend under test; returns the server to keep alive.
pub fn use_backend(s: &mut Settings) -> Option<redis::RedisServer> {
    let n = PREFIX.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    s.redis_prefix = format!("t{}-{n}", std::process::id());
    match test_backend().as_str() {
        "memory" => None,
        "redis" => {
            let server = redis::RedisServer::start();
            s.redis = server.url();
            Some(server)
        }
        "cluster" => {
            let cluster = CLUSTER.get_or_init(redis::RedisCluster::start);
            s.redis_cluster = cluster.seeds().join(",");
            None
        }
        other => panic!("unknown GATEWAY_TEST_BACKEND {other}"),
    }
}

pub struct TestGateway {
    pub running: Option<Running>,
    pub redis: Option<redis::RedisServer>,
    pub addr: std::net::SocketAddr,
    pub admin_key: String,
    http: reqwest::Client,
}

pub fn settings() -> Settings {
    Settings {
        listen: "127.0.0.1:0".parse().unwrap(),
        admin_key: "test-admin".into(),
        token_secret: "test-secret".into(),
        tick_ms: 20,
        comment_cap: 100_000,
        request_rate: 10_000,
        request_burst: 10_000,
        comment_rate: 10_000,
        comment_burst: 10_000,
        ip_connect_rate: 0,
        ip_max_connections: 0,
        // No beacon unless a test serves one (gateway/tests/beacon.rs).
        beacon_endpoints: String::new(),
        ..Settings::default()
    }
}

impl TestGateway {
    pub async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    pub async fn start_with(f: impl FnOnce(&mut Settings)) -> Self {
        let mut s = settings();
        let redis = use_backend(&mut s);
        f(&mut s);
        let running = gateway::start(s).await.unwrap();
        TestGateway {
            redis,
            addr: running.addr,
            admin_key: running.admin_key.clone(),
            running: Some(running),
            http: reqwest::Client::new(),
        }
    }

    /// Another node on the same Redis backend (same URL or Cluster and key
    /// prefix, same keys, its own node id). Only meaningful off `memory`.
    pub async fn start_peer(&self) -> Self {
        let mut s = self.node().settings.clone();
        s.listen = "127.0.0.1:0".parse().unwrap();
        s.node_id = String::new();
        let running = gateway::start(s).await.unwrap();
        TestGateway {
            redis: None,
            addr: running.addr,
            admin_key: running.admin_key.clone(),
            running: Some(running),
            http: reqwest::Client::new(),
        }
    }

    pub fn node(&self) -> &std::sync::Arc<gateway::Node> {
        &self.running.as_ref().unwrap().node
    }

    pub fn token(&self, user: &str) -> String {
        let now = gateway::clock::now_ms() as u64 / 1000;
        self.node()
            .keys
            .mint(user, &format!("nick-{user}"), false, now, 600)
            .unwrap()
    }

    pub async fn api(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let url = format!("http://{}{}", self.addr, path);
        let mut req = self
            .http
            .request(method.parse().unwrap(), url)
            .bearer_auth(&self.admin_key);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    /// Creates a room anchored by `anchor` and, when `live`, starts it.
    /// The node's `/metrics` text.
    pub async fn metrics(&self) -> String {
        let url = format!("http://{}/metrics", self.addr);
        self.http
            .get(url)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }

    pub async fn room(&self, id: &str, anchor: &str, live: bool) {
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

    pub async fn live(&self, id: &str, action: &str) -> Value {
        let (st, body) = self
            .api(
                "POST",
                &format!("/api/rooms/{id}/live"),
                Some(json!({"action": action})),
            )
            .await;
        assert_eq!(st, 200, "{body}");
        body
    }

    pub async fn connect(&self, user: Option<&str>) -> Client {
        Client::connect(self, user.map(|u| self.token(u)), Codec::Json).await
    }

    pub async fn connect_token(&self, token: &str) -> Client {
        Client::connect(self, Some(token.to_string()), Codec::Json).await
    }

    pub async fn shutdown(&mut self) {
        if let Some(r) = self.running.take() {
            r.shutdown().await;
        }
    }
}

pub struct Client {
    pub ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
    pub codec: Codec,
    pub hello: Option<Hello>,
    pub next_id: u64,
    /// Frames received while waiting for something else.
    pub backlog: std::collections::VecDeque<ServerFrame>,
    pub close: Option<(u16, String)>,
}

impl Client {
    /// A client on an open WebSocket, nothing received yet.
    pub fn new(ws: WebSocketStream<MaybeTlsStream<TcpStream>>, codec: Codec) -> Client {
        Client {
            ws,
            codec,
            hello: None,
            next_id: 0,
            backlog: Default::default(),
            close: None,
        }
    }

    pub async fn connect(gw: &TestGateway, token: Option<String>, codec: Codec) -> Client {
        let mut url = format!("ws://{}/ws", gw.addr);
        if let Some(t) = token {
            url.push_str(&format!("?token={t}"));
        }
        let mut req = url.into_client_request().unwrap();
        req.headers_mut().insert(
            "Sec-WebSocket-Protocol",
            HeaderValue::from_static(codec.subprotocol()),
        );
        let (ws, _) = tokio_tungstenite::connect_async(req).await.unwrap();
        let mut c = Client::new(ws, codec);
        // A refused token gets an error and a close instead of `hello`.
        match c.recv().await {
            Some(ServerFrame::Hello(h)) => c.hello = Some(h),
            Some(other) => c.backlog.push_back(other),
            None => {}
        }
        c
    }

    /// Next server frame; None once the server closed (see `close`).
    pub async fn recv(&mut self) -> Option<ServerFrame> {
        if let Some(f) = self.backlog.pop_front() {
            return Some(f);
        }
        self.recv_wire(WAIT).await
    }

    pub async fn recv_wire(&mut self, wait: Duration) -> Option<ServerFrame> {
        loop {
            let msg = tokio::time::timeout(wait, self.ws.next())
                .await
                .expect("timed out waiting for a frame");
            match msg {
                Some(Ok(Message::Text(t))) => {
                    return Some(self.codec.decode_server(t.as_bytes()).unwrap());
                }
                Some(Ok(Message::Binary(b))) => return Some(self.codec.decode_server(&b).unwrap()),
                Some(Ok(Message::Close(c))) => {
                    self.close = c.map(|c| (u16::from(c.code), c.reason.to_string()));
                    return None;
                }
                Some(Ok(_)) => continue,
                Some(Err(_)) | None => return None,
            }
        }
    }

    pub async fn send_raw(&mut self, msg: Message) {
        self.ws.send(msg).await.unwrap();
    }

    /// Sends a request and returns its reply, keeping other frames in the backlog.
    /// Sends a request with a fresh id; returns the id.
    pub async fn send_request(&mut self, request: Request) -> RequestId {
        self.next_id += 1;
        let id = RequestId(format!("r{}", self.next_id));
        let frame = ClientFrame {
            id: Some(id.clone()),
            request,
        };
        let bytes = self.codec.encode_client(&frame);
        let msg = match self.codec {
            Codec::Json => Message::Text(String::from_utf8(bytes.to_vec()).unwrap().into()),
            Codec::Binary => Message::Binary(bytes),
        };
        self.ws.send(msg).await.unwrap();
        id
    }

    pub async fn request(&mut self, request: Request) -> ServerFrame {
        let id = self.send_request(request).await;
        let mut skipped = vec![];
        let reply = loop {
            let f = self
                .recv_wire(WAIT)
                .await
                .expect("closed while awaiting a reply");
            if reply_id(&f) == Some(&id) {
                break f;
            }
            skipped.push(f);
        };
        self.backlog.extend(skipped);
        reply
    }

    /// Sends every request without waiting, then returns their replies in
    /// request order (comments are acked when their tick's batch commits, so
    /// sending one at a time would take a tick each).
    pub async fn pipeline(&mut self, requests: Vec<Request>) -> Vec<ServerFrame> {
        let mut ids = vec![];
        for request in requests {
            ids.push(self.send_request(request).await);
        }
        let mut replies: std::collections::HashMap<RequestId, ServerFrame> = Default::default();
        let mut skipped = vec![];
        while replies.len() < ids.len() {
            let f = self
                .recv_wire(WAIT)
                .await
                .expect("closed while awaiting replies");
            match reply_id(&f) {
                Some(id) if ids.contains(id) => {
                    replies.insert(id.clone(), f);
                }
                _ => skipped.push(f),
            }
        }
        self.backlog.extend(skipped);
        ids.iter().map(|id| replies.remove(id).unwrap()).collect()
    }

    pub async fn join(&mut self, room: &str) -> Joined {
        match self
            .request(Request::Join(Join {
                room: room.into(),
                resume: None,
            }))
            .await
        {
            ServerFrame::Joined(j) => j,
            other => panic!("join failed: {other:?}"),
        }
    }

    pub async fn comment(&mut self, text: &str) -> ServerFrame {
        self.request(Request::Comment(PostComment { text: text.into() }))
            .await
    }

    /// Collects room events until `pred` holds on the collected list.
    pub async fn events_until(&mut self, pred: impl Fn(&[RoomEvent]) -> bool) -> Vec<RoomEvent> {
        let mut got = vec![];
        while !pred(&got) {
            match self.recv().await {
                Some(ServerFrame::Batch(b)) => got.extend(b.events),
                Some(_) => {}
                None => panic!("closed while collecting events; got {got:?}"),
            }
        }
        got
    }

    /// Waits for a batch whose totals satisfy `pred`.
    pub async fn totals_until(&mut self, pred: impl Fn(&Totals) -> bool) -> Totals {
        loop {
            match self.recv().await {
                Some(ServerFrame::Batch(Batch {
                    totals: Some(t), ..
                })) if pred(&t) => return t,
                Some(_) => {}
                None => panic!("closed while waiting for totals"),
            }
        }
    }

    /// Reads until the server closes; returns the close code.
    pub async fn closed_with(&mut self) -> Option<u16> {
        while self.recv().await.is_some() {}
        self.close.as_ref().map(|c| c.0)
    }
}

pub fn reply_id(f: &ServerFrame) -> Option<&RequestId> {
    match f {
        ServerFrame::Joined(j) => j.id.as_ref(),
        ServerFrame::Ack(a) => a.id.as_ref(),
        ServerFrame::Pong(p) => p.id.as_ref(),
        ServerFrame::Error(e) => e.id.as_ref(),
        ServerFrame::Mutes(m) => m.id.as_ref(),
        ServerFrame::Shelf(s) => s.id.as_ref(),
        ServerFrame::Grabbed(g) => g.id.as_ref(),
        ServerFrame::CouponClaimed(c) => c.id.as_ref(),
        ServerFrame::LotteryProof(p) => p.id.as_ref(),
        _ => None,
    }
}

pub fn error_code(f: &ServerFrame) -> Option<ErrorCode> {
    match f {
        ServerFrame::Error(e) => Some(e.code),
        _ => None,
    }
}

pub fn comment_texts(events: &[RoomEvent]) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Comment(c) => Some(c.text.clone()),
            _ => None,
        })
        .collect()
}

pub fn statuses(events: &[RoomEvent]) -> Vec<RoomStatus> {
    events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Status(s) => Some(s.status),
            _ => None,
        })
        .collect()
}
pub mod drand;
pub mod receiver;
pub mod redis;

/// Waits (up to 5 s) until `gw`'s hub of `room` holds a record `ok` accepts:
/// a change made on another node is in force here once its record event
/// reached this node's hub.
pub async fn wait_for_record(
    gw: &TestGateway,
    room: &str,
    ok: impl Fn(&gateway::room::Room) -> bool,
) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        if gw.node().hubs.get(room).is_some_and(|h| ok(&h.room())) {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{room}: the hub never saw the change"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Two nodes `a` and `b` sharing one redis-server started here, whatever
/// the backend under test; `f` adjusts both nodes' settings. `None` (the
/// test skips) without a `redis-server`.
pub async fn two_nodes_on_one_redis(
    f: impl Fn(&mut Settings) + Clone,
) -> Option<(redis::RedisServer, TestGateway, TestGateway)> {
    if !redis::available() {
        eprintln!("SKIPPED: redis-server is not installed (.ci/run installs it)");
        return None;
    }
    let server = redis::RedisServer::start();
    let prefix = format!(
        "two-{}-{}",
        std::process::id(),
        PREFIX.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    );
    let node = |name: &'static str| {
        let (url, prefix, f) = (server.url(), prefix.clone(), f.clone());
        move |s: &mut Settings| {
            s.redis = url;
            s.redis_cluster = String::new();
            s.redis_prefix = prefix;
            s.node_id = name.into();
            f(s);
        }
    };
    let a = TestGateway::start_with(node("a")).await;
    let b = TestGateway::start_with(node("b")).await;
    Some((server, a, b))
}
