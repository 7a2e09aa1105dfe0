//! Co-stream faults with a real process: the guest's node (the gateway
//! binary) is killed with SIGKILL mid co-stream, so the guest's sessions
//! never close; the anchor's node ends the co-stream (`guest_lost`) once
//! the dead node's liveness expires, exactly once although two live nodes'
//! timers race for it.
#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use std::process::{Command, Stdio};
use std::time::Duration;

use common::*;
use protocol::costream::*;
use protocol::*;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

const SECRET: &str = "test-secret";

fn real_name_token(user: &str) -> String {
    let now = gateway::clock::now_ms() as u64 / 1000;
    gateway::auth::TokenKeys::new(SECRET.as_bytes())
        .mint(user, &format!("nick-{user}"), true, now, 600)
        .unwrap()
}

/// A gateway process, killed and reaped when dropped.
struct Proc(std::process::Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The gateway binary on a free port, on `redis` under `prefix`.
async fn process_node(redis: &str, prefix: &str) -> (Proc, std::net::SocketAddr) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let addr: std::net::SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let secrets = std::env::temp_dir().join(format!("costream-faults-{}.env", std::process::id()));
    let child = Proc(
        Command::new(env!("CARGO_BIN_EXE_gateway"))
            .args(["--listen", &addr.to_string()])
            .args(["--redis", redis])
            .args(["--redis-prefix", prefix])
            .args(["--node-id", "b"])
            .args(["--admin-key", "test-admin"])
            .args(["--token-secret", SECRET])
            .args(["--tick-ms", "20"])
            .args(["--timer-interval-ms", "50"])
            .args(["--presence-interval-ms", "200"])
            .env("GATEWAY_SECRETS_FILE", &secrets)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("run the gateway binary"),
    );
    let http = reqwest::Client::new();
    for _ in 0..300 {
        let url = format!("http://{addr}/healthz");
        if http.get(url).send().await.is_ok_and(|r| r.status() == 200) {
            return (child, addr);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("node b never became healthy");
}

async fn connect(addr: std::net::SocketAddr, token: &str) -> Client {
    let url = format!("ws://{addr}/ws?token={token}");
    let (ws, _) = tokio_tungstenite::connect_async(url.into_client_request().unwrap())
        .await
        .unwrap();
    let mut c = Client::new(ws, Codec::Json);
    assert!(matches!(c.recv().await, Some(ServerFrame::Hello(_))));
    c
}

fn cs(action: CostreamAction, f: impl FnOnce(&mut CostreamRequest)) -> Request {
    let mut r = CostreamRequest {
        action,
        user: None,
        media: None,
        session: None,
        muted: None,
    };
    f(&mut r);
    Request::Costream(r)
}

fn session_of(f: &ServerFrame) -> u64 {
    match f {
        ServerFrame::Ack(Ack {
            event:
                Some(RoomEvent {
                    kind: EventKind::CostreamStep(s),
                    ..
                }),
            ..
        }) => s.session,
        other => panic!("no step in {other:?}"),
    }
}

fn ends(events: &[RoomEvent]) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Costream(c) if c.live.is_none() && c.reason.is_some() => c.reason.clone(),
            _ => None,
        })
        .filter(|r| r != "enabled")
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_guests_node_dying_ends_the_co_stream_once() {
    if !redis::available() {
        eprintln!("SKIPPED: redis-server is not installed");
        return;
    }
    let server = redis::RedisServer::start();
    let prefix = format!("csf-{}", std::process::id());
    let (url, p) = (server.url(), prefix.clone());
    let a = TestGateway::start_with(move |s| {
        s.redis = url;
        s.redis_cluster = String::new();
        s.redis_prefix = p;
        s.node_id = "a".into();
        s.timer_interval_ms = 50;
        s.presence_interval_ms = 200;
    })
    .await;
    // A second in-process node: its timer races a's for the end.
    let c = a.start_peer().await;
    let (mut child, b) = process_node(&server.url(), &prefix).await;
    a.room("r1", "anna", true).await;
    let mut anna = connect(a.addr, &real_name_token("anna")).await;
    anna.join("r1").await;
    assert!(error_code(&anna.request(cs(CostreamAction::Enable, |_| {})).await).is_none());
    let mut vic = connect(b, &real_name_token("vic")).await;
    vic.join("r1").await;
    let apply = cs(CostreamAction::Apply, |r| r.media = Some(Media::Voice));
    assert!(error_code(&vic.request(apply).await).is_none());
    let id = session_of(
        &anna
            .request(cs(CostreamAction::Accept, |r| r.user = Some("vic".into())))
            .await,
    );
    let confirm = cs(CostreamAction::Confirm, |r| r.session = Some(id));
    assert!(error_code(&anna.request(confirm.clone()).await).is_none());
    assert!(error_code(&vic.request(confirm).await).is_none());
    let mut room = connect(a.addr, &real_name_token("viv")).await;
    assert_eq!(room.join("r1").await.costream.live.unwrap().guest, "vic");
    let mut other = connect(c.addr, &real_name_token("val")).await;
    assert_eq!(other.join("r1").await.costream.live.unwrap().guest, "vic");
    // SIGKILL: no close frames, no departure seen by anyone.
    child.0.kill().unwrap();
    child.0.wait().unwrap();
    let seen = room.events_until(|e| !ends(e).is_empty()).await;
    assert_eq!(ends(&seen), ["guest_lost"]);
    let seen = other.events_until(|e| !ends(e).is_empty()).await;
    assert_eq!(ends(&seen), ["guest_lost"]);
    // Nothing more: the end was announced once.
    tokio::time::sleep(Duration::from_millis(600)).await;
    room.request(Request::Ping(Ping {})).await;
    let mut later = vec![];
    while let Some(f) = room.backlog.pop_front() {
        if let ServerFrame::Batch(b) = f {
            later.extend(b.events);
        }
    }
    assert!(ends(&later).is_empty(), "{later:?}");
    // The room log holds the end once.
    let mut late = connect(a.addr, &real_name_token("vera")).await;
    let epoch = late.join("r1").await.epoch;
    let join = Request::Join(Join {
        room: "r1".into(),
        resume: Some(Resume { epoch, offset: 0 }),
    });
    let ServerFrame::Joined(j) = late.request(join).await else {
        panic!("no joined")
    };
    assert_eq!(ends(&j.missed), ["guest_lost"]);
    let r = a.node().store.room("r1").await.unwrap();
    assert_eq!(r.costream.current, None);
    drop(vic);
}
