//! The listener's edges, driven with real sockets: the header-read timeout,
//! the node-wide cap on connections not yet upgraded, the per-IP cap
//! counting them, and the `/ws` Origin allow-list.
#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use std::time::Duration;

use common::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;

/// Whether the server closed `s` within `wait` (EOF or a reset); bytes it
/// sends meanwhile are read and ignored.
async fn closed_within(s: &mut TcpStream, wait: Duration) -> bool {
    let mut buf = [0u8; 1024];
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        match tokio::time::timeout_at(deadline, s.read(&mut buf)).await {
            Err(_) => return false,
            Ok(Ok(0)) | Ok(Err(_)) => return true,
            Ok(Ok(_)) => continue,
        }
    }
}

/// A plain HTTP GET on a fresh connection; the status, or None when the
/// server closed it without an answer.
async fn get_status(gw: &TestGateway, path: &str) -> Option<u16> {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    let resp = client
        .get(format!("http://{}{path}", gw.addr))
        .send()
        .await
        .ok()?;
    Some(resp.status().as_u16())
}

#[tokio::test]
async fn a_silent_socket_is_closed_after_the_header_read_timeout() {
    let gw = TestGateway::start_with(|s| s.header_read_timeout_ms = 300).await;
    let mut silent = TcpStream::connect(gw.addr).await.unwrap();
    assert!(
        closed_within(&mut silent, WAIT).await,
        "a socket that sent nothing was kept open"
    );
    // The listener still serves others.
    assert_eq!(get_status(&gw, "/healthz").await, Some(200));
}

#[tokio::test]
async fn a_socket_dripping_its_header_is_closed_after_the_timeout() {
    let gw = TestGateway::start_with(|s| s.header_read_timeout_ms = 300).await;
    let mut drip = TcpStream::connect(gw.addr).await.unwrap();
    drip.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Drip: ")
        .await
        .unwrap();
    // One byte every 100 ms would keep a per-read timeout happy forever;
    // the header-read timeout counts from the start of the head.
    let mut closed = false;
    for _ in 0..50 {
        if drip.write_all(b"a").await.is_err() {
            closed = true;
            break;
        }
        if closed_within(&mut drip, Duration::from_millis(100)).await {
            closed = true;
            break;
        }
    }
    assert!(closed, "a dripping header kept its socket open for 5 s");
}

#[tokio::test]
async fn the_default_timeout_keeps_a_slow_but_honest_client() {
    // 10 s by default: a client that sends its request after 500 ms is served.
    let gw = TestGateway::start().await;
    assert_eq!(gw.node().settings.header_read_timeout_ms, 10_000);
    let mut s = TcpStream::connect(gw.addr).await.unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut answer = String::new();
    tokio::time::timeout(WAIT, s.read_to_string(&mut answer))
        .await
        .unwrap()
        .unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}

#[tokio::test]
async fn past_the_pending_cap_old_idle_sockets_make_room_and_healthz_answers() {
    let gw = TestGateway::start_with(|s| s.max_pending_connections = 4).await;
    let mut idle = vec![];
    for _ in 0..4 {
        idle.push(TcpStream::connect(gw.addr).await.unwrap());
    }
    // Idle for over a second: evictable.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    for _ in 0..6 {
        idle.push(TcpStream::connect(gw.addr).await.unwrap());
    }
    // Sockets 4..8 took the old ones' places; 8 and 9 and a fresh client
    // found only young sockets in the way and were closed at once.
    assert_eq!(get_status(&gw, "/healthz").await, None);
    for i in [0, 1, 2, 3, 8, 9] {
        assert!(
            closed_within(&mut idle[i], WAIT).await,
            "idle socket {i} kept open"
        );
    }
    for (i, s) in idle.iter_mut().enumerate().take(8).skip(4) {
        assert!(
            !closed_within(s, Duration::from_millis(100)).await,
            "socket {i}, within the cap, was closed"
        );
    }
    // Once they are old enough, a fresh client is served: the oldest idle
    // socket makes room for it.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(get_status(&gw, "/healthz").await, Some(200));
    assert!(
        closed_within(&mut idle[4], WAIT).await,
        "socket 4 not evicted"
    );
    // A WebSocket client gets through too, and once upgraded no longer
    // counts as pending.
    let mut ws = gw.connect(None).await;
    assert!(ws.hello.is_some());
    let pong = ws.request(protocol::Request::Ping(protocol::Ping {})).await;
    assert!(matches!(pong, protocol::ServerFrame::Pong(_)), "{pong:?}");
    let metrics = gw.api("GET", "/metrics", None).await.1;
    let metrics = metrics.as_str().unwrap();
    assert!(
        metrics.contains("gateway_rejections_total{code=\"pending_limited\"} 3"),
        "{metrics}"
    );
}

#[tokio::test]
async fn the_per_ip_cap_counts_connections_not_yet_upgraded() {
    let gw = TestGateway::start_with(|s| s.ip_max_connections = 2).await;
    let mut a = TcpStream::connect(gw.addr).await.unwrap();
    let _b = TcpStream::connect(gw.addr).await.unwrap();
    // Two idle sockets fill the address's cap: a WebSocket client is closed
    // before its handshake is read, and so is a third idle socket.
    let url = format!("ws://{}/ws", gw.addr);
    let refused = tokio_tungstenite::connect_async(url.as_str()).await;
    use tokio_tungstenite::tungstenite::Error;
    assert!(
        matches!(refused, Err(ref e) if !matches!(e, Error::Http(_))),
        "expected the socket closed at the accept, got {refused:?}"
    );
    let mut c = TcpStream::connect(gw.addr).await.unwrap();
    assert!(
        closed_within(&mut c, WAIT).await,
        "a third socket kept open"
    );
    // A closed idle socket frees its place; an upgraded session keeps it.
    a.shutdown().await.unwrap();
    drop(a);
    let mut ws = None;
    for _ in 0..50 {
        if let Ok((s, _)) = tokio_tungstenite::connect_async(url.as_str()).await {
            ws = Some(s);
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(ws.is_some(), "the place of a closed socket was not freed");
    let mut d = TcpStream::connect(gw.addr).await.unwrap();
    assert!(
        closed_within(&mut d, WAIT).await,
        "an idle socket and a session fill the cap of 2"
    );
}

/// Connects to `/ws` with an `Origin` header; the HTTP status of a refusal,
/// or 101.
async fn ws_status(gw: &TestGateway, origin: Option<&str>) -> u16 {
    let mut req = format!("ws://{}/ws", gw.addr)
        .into_client_request()
        .unwrap();
    if let Some(o) = origin {
        req.headers_mut()
            .insert("Origin", HeaderValue::from_str(o).unwrap());
    }
    match tokio_tungstenite::connect_async(req).await {
        Ok((_, resp)) => resp.status().as_u16(),
        Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => resp.status().as_u16(),
        Err(e) => panic!("{e}"),
    }
}

#[tokio::test]
async fn only_listed_origins_may_open_a_websocket() {
    let gw = TestGateway::start_with(|s| {
        s.allowed_origins = "https://shop.example, https://m.shop.example/".into();
    })
    .await;
    assert_eq!(ws_status(&gw, Some("https://evil.example")).await, 403);
    assert_eq!(ws_status(&gw, Some("null")).await, 403);
    assert_eq!(ws_status(&gw, Some("https://shop.example.evil")).await, 403);
    assert_eq!(ws_status(&gw, Some("https://shop.example")).await, 101);
    assert_eq!(ws_status(&gw, Some("https://M.Shop.Example")).await, 101);
    // Non-browser clients send no Origin and pass.
    assert_eq!(ws_status(&gw, None).await, 101);
    let metrics = gw.api("GET", "/metrics", None).await.1;
    assert!(
        metrics
            .as_str()
            .unwrap()
            .contains("gateway_rejections_total{code=\"origin_refused\"} 3"),
        "{metrics}"
    );
}

#[tokio::test]
async fn without_a_list_any_origin_may_open_a_websocket() {
    let gw = TestGateway::start().await;
    assert_eq!(ws_status(&gw, Some("https://anywhere.example")).await, 101);
}

/// The case: a node with a low file limit (64) and more idle
/// sockets than it has descriptors. Its header-read timeout is a minute,
/// so only eviction can make room: `/healthz` answers a fresh client.
#[tokio::test]
async fn a_low_file_limit_full_of_idle_sockets_still_answers_healthz() {
    use std::io::BufRead;
    let bin = env!("CARGO_BIN_EXE_gateway");
    let mut node = std::process::Command::new("sh");
    node.args(["-c", "ulimit -n 64 && exec \"$0\" \"$@\"", bin])
        .args([
            "--listen",
            "127.0.0.1:0",
            "--header-read-timeout-ms",
            "60000",
        ])
        .args(["--admin-key", "k", "--token-secret", "s"])
        .args(["--lottery-key", &"11".repeat(32)])
        .env_clear()
        .env("RUST_LOG", "warn")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null());
    let mut child = KillOnDrop(node.spawn().unwrap());
    let stdout = child.0.stdout.take().unwrap();
    let addr = tokio::task::spawn_blocking(move || {
        std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
            .find_map(|l| {
                l.strip_prefix("gateway listening on ws://")
                    .and_then(|a| a.strip_suffix("/ws"))
                    .map(|a| a.parse::<std::net::SocketAddr>().unwrap())
            })
    })
    .await
    .unwrap()
    .expect("the node never said where it listens");
    let mut idle = vec![];
    for _ in 0..100 {
        idle.push(TcpStream::connect(addr).await.unwrap());
    }
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap();
    let resp = client.get(format!("http://{addr}/healthz")).send().await;
    assert_eq!(resp.map(|r| r.status().as_u16()).ok(), Some(200));
}

/// Kills the child process when the test ends, passed or not.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
