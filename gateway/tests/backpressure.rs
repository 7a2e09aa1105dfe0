//! A viewer that stops reading is closed as a slow consumer while the others
//! keep receiving everything; a silent connection is reaped; shutdown closes
//! every session with the documented code.
#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use std::time::Duration;

use common::*;
use protocol::*;
use tokio::net::TcpSocket;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

async fn silent_client(gw: &TestGateway, user: &str, room: &str) -> Client {
    let sock = TcpSocket::new_v4().unwrap();
    sock.set_recv_buffer_size(4096).unwrap();
    let stream = sock.connect(gw.addr).await.unwrap();
    let url = format!("ws://{}/ws?token={}", gw.addr, gw.token(user));
    let (ws, _) = tokio_tungstenite::client_async(
        url.into_client_request().unwrap(),
        tokio_tungstenite::MaybeTlsStream::Plain(stream),
    )
    .await
    .unwrap();
    let mut c = Client::new(ws, Codec::Json);
    c.recv().await.unwrap();
    c.join(room).await;
    c
}

fn closes(gw: &TestGateway, code: &str) -> u64 {
    let text = gw.node().metrics.render();
    text.lines()
        .find(|l| l.starts_with("gateway_closes_total") && l.contains(&format!("code=\"{code}\"")))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

#[tokio::test]
async fn a_viewer_that_stops_reading_is_closed_and_the_others_get_everything() {
    let gw = TestGateway::start_with(|s| {
        s.outbox_bytes = 32 * 1024;
        s.write_timeout_ms = 60_000;
        s.socket_send_buffer = 8 * 1024;
    })
    .await;
    gw.room("r1", "anna", true).await;
    let mut slow = silent_client(&gw, "slow", "r1").await;
    let mut fast = gw.connect(Some("fast")).await;
    fast.join("r1").await;
    let mut anchor = gw.connect(Some("anna")).await;
    anchor.join("r1").await;
    let mut changes = 0;
    let reader = tokio::spawn(async move {
        let mut seen = 0usize;
        loop {
            match fast.recv().await {
                Some(ServerFrame::Batch(b)) => {
                    seen += statuses(&b.events).len();
                    // The anchor's last comment comes after every status change.
                    if comment_texts(&b.events).iter().any(|t| t == "done") {
                        return seen;
                    }
                }
                Some(_) => {}
                None => return seen,
            }
        }
    });
    for i in 0..20_000 {
        let action = if i % 2 == 0 {
            LiveAction::Pause
        } else {
            LiveAction::Resume
        };
        let r = anchor.request(Request::Live(Live { action })).await;
        assert!(matches!(r, ServerFrame::Ack(_)), "{r:?}");
        anchor.backlog.clear();
        changes += 1;
        if closes(&gw, "4001") > 0 && changes % 2 == 0 {
            break;
        }
    }
    assert_eq!(
        closes(&gw, "4001"),
        1,
        "the slow viewer was not closed after {changes} changes"
    );
    // The slow viewer's stream ends (with 4001, once its buffers drain).
    let code = tokio::time::timeout(Duration::from_secs(10), slow.closed_with())
        .await
        .unwrap();
    assert!(code.is_none() || code == Some(4001), "{code:?}");
    // Everyone else received every status change.
    anchor.comment("done").await;
    let seen = reader.await.unwrap();
    assert_eq!(seen, changes, "the fast viewer missed status events");
}

#[tokio::test]
async fn a_silent_connection_is_reaped_after_the_idle_timeout() {
    let gw = TestGateway::start_with(|s| {
        s.heartbeat_ms = 50;
        s.idle_timeout_ms = 200;
    })
    .await;
    gw.room("r1", "anna", true).await;
    let mut silent = silent_client(&gw, "quiet", "r1").await;
    let mut talker = gw.connect(Some("talk")).await;
    // The talker keeps talking (any frame counts); the silent one does not.
    for _ in 0..12 {
        tokio::time::sleep(Duration::from_millis(50)).await;
        talker.request(Request::Ping(Ping {})).await;
    }
    assert_eq!(closes(&gw, "4002"), 1);
    // The close frame may be lost to a reset when the client answers the
    // server's old pings on a closed socket; the server side counted it.
    let code = silent.closed_with().await;
    assert!(code.is_none() || code == Some(4002), "{code:?}");
    // A client that answers pings stays.
    let r = talker.request(Request::Ping(Ping {})).await;
    assert!(matches!(r, ServerFrame::Pong(_)));
}

#[tokio::test]
async fn shutdown_closes_sessions_with_4000() {
    let mut gw = TestGateway::start().await;
    gw.room("r1", "anna", true).await;
    let mut a = gw.connect(Some("alice")).await;
    let mut b = gw.connect(None).await;
    a.join("r1").await;
    let (st, _) = gw.api("GET", "/readyz", None).await;
    assert_eq!(st, 200);
    let addr = gw.addr;
    gw.shutdown().await;
    assert_eq!(a.closed_with().await, Some(4000));
    assert_eq!(b.closed_with().await, Some(4000));
    assert!(
        tokio::net::TcpStream::connect(addr).await.is_err(),
        "still accepting"
    );
}

fn direct_writes(gw: &TestGateway) -> u64 {
    gw.node().metrics.frames_written_direct.get()
}

/// Reads the silent viewer's stream to its end: every frame must be a
/// whole, valid frame and every high-lane batch must start where the last
/// one ended. Returns the status changes seen and the close code.
async fn read_strictly(slow: &mut Client) -> (usize, Option<u16>) {
    use futures_util::StreamExt;
    use tokio_tungstenite::tungstenite::Message;
    let (mut statuses_seen, mut high_upto) = (0, None);
    loop {
        let msg = tokio::time::timeout(Duration::from_secs(10), slow.ws.next())
            .await
            .expect("the stream stalled");
        let frame = match msg {
            Some(Ok(Message::Text(t))) => Codec::Json.decode_server(t.as_bytes()).unwrap(),
            Some(Ok(Message::Close(c))) => return (statuses_seen, c.map(|c| c.code.into())),
            Some(Ok(_)) => continue,
            Some(Err(e)) => panic!("the stream broke after {statuses_seen} changes: {e}"),
            None => return (statuses_seen, None),
        };
        if let ServerFrame::Batch(b) = frame
            && b.lane == Lane::High
            && b.upto > 0
        {
            if let Some(upto) = high_upto {
                assert_eq!(b.since, upto, "a high-lane gap");
            }
            high_upto = Some(b.upto);
            statuses_seen += statuses(&b.events).len();
        }
    }
}

/// One lifecycle change through the admin API, then time for the hub to
/// deliver it.
async fn quiet_change(gw: &TestGateway, action: &str) {
    gw.live("r1", action).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
}

fn changes(n: usize) -> Vec<Request> {
    (0..n)
        .map(|i| {
            let action = if i % 2 == 0 {
                LiveAction::Pause
            } else {
                LiveAction::Resume
            };
            Request::Live(Live { action })
        })
        .collect()
}

#[tokio::test]
async fn a_viewer_that_stops_reading_while_the_hub_writes_directly_misses_nothing() {
    // Room for everything in the outbox: the socket fills, the hub's
    // writes turn partial, the session takes over, and the stream must
    // still hold every frame whole and in order.
    let gw = TestGateway::start_with(|s| {
        s.outbox_bytes = 4 * 1024 * 1024;
        s.write_timeout_ms = 60_000;
        s.socket_send_buffer = 8 * 1024;
    })
    .await;
    gw.room("r1", "anna", true).await;
    let mut slow = silent_client(&gw, "slow", "r1").await;
    let mut anchor = gw.connect(Some("anna")).await;
    anchor.join("r1").await;
    // While the socket has room, the hub writes the viewer's frames itself.
    let before = direct_writes(&gw);
    quiet_change(&gw, "pause").await;
    quiet_change(&gw, "resume").await;
    assert!(
        direct_writes(&gw) > before,
        "the hub wrote nothing directly"
    );
    let n = 2_000;
    for r in anchor.pipeline(changes(n)).await {
        assert!(matches!(r, ServerFrame::Ack(_)), "{r:?}");
    }
    let n = n + 2;
    anchor.comment("done").await;
    // The viewer reads again: it gets everything, then closes cleanly.
    let reader = tokio::spawn(async move {
        let mut seen = 0;
        loop {
            match tokio::time::timeout(Duration::from_secs(10), slow.recv_wire(WAIT)).await {
                Ok(Some(ServerFrame::Batch(b))) => {
                    seen += statuses(&b.events).len();
                    if comment_texts(&b.events).iter().any(|t| t == "done") {
                        return seen;
                    }
                }
                Ok(Some(_)) => {}
                Ok(None) | Err(_) => return seen,
            }
        }
    });
    assert_eq!(reader.await.unwrap(), n, "status changes lost");
    assert_eq!(closes(&gw, "4001"), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_viewer_that_stops_reading_gets_whole_frames_then_4001() {
    let gw = TestGateway::start_with(|s| {
        s.outbox_bytes = 16 * 1024;
        s.write_timeout_ms = 60_000;
        s.socket_send_buffer = 8 * 1024;
    })
    .await;
    gw.room("r1", "anna", true).await;
    let mut slow = silent_client(&gw, "slow", "r1").await;
    let before = direct_writes(&gw);
    quiet_change(&gw, "pause").await;
    quiet_change(&gw, "resume").await;
    assert!(
        direct_writes(&gw) > before,
        "the hub wrote nothing directly"
    );
    // Changes through the admin API: no other session to fall behind.
    let (addr, key) = (gw.addr, gw.admin_key.clone());
    let producer = tokio::spawn(async move {
        let http = reqwest::Client::new();
        for i in 0..4_000 {
            let action = if i % 2 == 0 { "pause" } else { "resume" };
            let _ = http
                .post(format!("http://{addr}/api/rooms/r1/live"))
                .bearer_auth(&key)
                .json(&serde_json::json!({ "action": action }))
                .send()
                .await;
        }
    });
    // The viewer reads again as soon as the gateway decided to close it,
    // well within the close frame's write timeout.
    while closes(&gw, "4001") == 0 {
        assert!(!producer.is_finished(), "never closed as a slow consumer");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let (seen, code) = read_strictly(&mut slow).await;
    assert!(seen > 0);
    assert_eq!(code, Some(4001), "after {seen} whole status changes");
    producer.abort();
}
