//! The "ceiling" peer (docs/benchmarks.md, target c): the least a Rust
//! server can do for the protocol subset `loadtest` uses — `hello`, `join` →
//! `joined`, `comment` → `ack`, one low-lane batch per room per 100 ms tick
//! with at most 2 comments (the gateway's 20/s cap), high-lane `switches`
//! batches — with no auth, no store, no limits and no per-session queue
//! accounting. Each tick's frame is encoded once and fanned out through a
//! `broadcast` channel. The admin calls the coordinator makes are served on
//! the next port.
//!
//! ```text
//! cargo run --release -p loadtest --example ceiling -- 18094   # ws :18094, admin :18095
//! ```
// The handshake callback's error type is tungstenite's, not ours.
#![allow(missing_docs, clippy::result_large_err)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Json;
use axum::extract::{Path, State};
use axum::routing::{patch, post};
use futures_util::{SinkExt, StreamExt};
use protocol::{
    Ack, Batch, Codec, Comment, EventKind, Hello, Joined, Lane, Request, Role, RoomEvent, RoomInfo,
    RoomStatus, ServerFrame, Switches, Totals,
};
use serde_json::{Value, json};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::broadcast;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::handshake::server::{Request as HsRequest, Response};
use tokio_tungstenite::tungstenite::http::HeaderValue;

const TICK: Duration = Duration::from_millis(100);
const PER_TICK: usize = 2;

struct Room {
    tx: broadcast::Sender<Message>,
    head: u64,
    high_upto: u64,
    last_upto: u64,
    pending: Vec<RoomEvent>,
    high: Vec<RoomEvent>,
    sharing: bool,
    online: u64,
}

type Rooms = Arc<Mutex<HashMap<String, Room>>>;

fn switches(sharing: bool) -> Switches {
    Switches {
        comments: true,
        likes: true,
        anonymous_watch: true,
        sharing,
        replay: false,
        customer_service: false,
    }
}

fn with_room<T>(rooms: &Rooms, id: &str, f: impl FnOnce(&mut Room) -> T) -> Option<T> {
    let mut map = rooms.lock().ok()?;
    let room = map.entry(id.to_string()).or_insert_with(|| Room {
        tx: broadcast::channel(64).0,
        head: 0,
        high_upto: 0,
        last_upto: 0,
        pending: vec![],
        high: vec![],
        sharing: true,
        online: 0,
    });
    Some(f(room))
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

fn text(frame: &ServerFrame) -> Message {
    let b = Codec::Json.encode_server(frame);
    Message::Text(String::from_utf8(b.to_vec()).unwrap_or_default().into())
}

async fn session(stream: TcpStream, rooms: Rooms, n: u64) -> anyhow::Result<()> {
    let mut user = None;
    let callback = |req: &HsRequest, mut resp: Response| {
        if let Some(q) = req.uri().query() {
            user = q.strip_prefix("token=").map(str::to_string);
        }
        resp.headers_mut().insert(
            "Sec-WebSocket-Protocol",
            HeaderValue::from_static(Codec::JSON_SUBPROTOCOL),
        );
        Ok(resp)
    };
    let mut ws = tokio_tungstenite::accept_hdr_async(stream, callback).await?;
    ws.send(text(&ServerFrame::Hello(Hello {
        session: n.to_string(),
        user: user.clone(),
        heartbeat_ms: 25_000,
        idle_timeout_ms: 60_000,
        max_frame_bytes: 8192,
        max_comment_chars: 100,
    })))
    .await?;
    let mut rx: Option<broadcast::Receiver<Message>> = None;
    let mut room_id = String::new();
    loop {
        let incoming = tokio::select! {
            m = ws.next() => m,
            f = async { match rx.as_mut() { Some(r) => r.recv().await, None => std::future::pending().await } } => {
                match f {
                    Ok(m) => ws.send(m).await?,
                    Err(broadcast::error::RecvError::Lagged(_)) => {}
                    Err(broadcast::error::RecvError::Closed) => break,
                }
                continue;
            }
        };
        let Some(Ok(msg)) = incoming else { break };
        let Message::Text(t) = msg else { continue };
        let Ok(frame) = Codec::Json.decode_client(t.as_bytes()) else {
            continue;
        };
        match frame.request {
            Request::Join(j) => {
                room_id = j.room.clone();
                let joined = with_room(&rooms, &j.room, |r| {
                    r.online += 1;
                    rx = Some(r.tx.subscribe());
                    Joined {
                        id: frame.id.clone(),
                        room: RoomInfo {
                            id: j.room.clone(),
                            title: String::new(),
                            anchor: "a".into(),
                            status: RoomStatus::Live,
                            planned_start: 0,
                            planned_end: 99_999_999_999_999,
                            live_started_at: Some(0),
                            switches: switches(r.sharing),
                        },
                        role: if user.is_some() {
                            Role::Viewer
                        } else {
                            Role::Anonymous
                        },
                        epoch: "ceiling".into(),
                        offset: r.head,
                        totals: Totals {
                            online: r.online,
                            ..Totals::default()
                        },
                        recent: vec![],
                        recovered: None,
                        missed: vec![],
                    }
                });
                if let Some(j) = joined {
                    ws.send(text(&ServerFrame::Joined(j))).await?;
                }
            }
            Request::Comment(c) => {
                let who = user.clone().unwrap_or_default();
                let ev = with_room(&rooms, &room_id, |r| {
                    r.head += 1;
                    let ev = RoomEvent {
                        offset: r.head,
                        ts: now_ms(),
                        kind: EventKind::Comment(Comment {
                            user: who.clone(),
                            nick: who,
                            text: c.text,
                            role: Role::Viewer,
                        }),
                    };
                    r.pending.push(ev.clone());
                    ev
                });
                let ack = Ack {
                    id: frame.id,
                    event: ev,
                    status: None,
                };
                ws.send(text(&ServerFrame::Ack(ack))).await?;
            }
            _ => {
                let ack = Ack {
                    id: frame.id,
                    event: None,
                    status: None,
                };
                ws.send(text(&ServerFrame::Ack(ack))).await?;
            }
        }
    }
    if !room_id.is_empty() {
        with_room(&rooms, &room_id, |r| r.online = r.online.saturating_sub(1));
    }
    Ok(())
}

fn tick(rooms: &Rooms) {
    let Ok(mut map) = rooms.lock() else { return };
    for (id, r) in map.iter_mut() {
        let upto = r.head;
        if upto == r.last_upto {
            continue;
        }
        let batch = |lane, since, events| {
            text(&ServerFrame::Batch(Batch {
                room: id.clone(),
                epoch: "ceiling".into(),
                lane,
                since,
                upto,
                events,
                totals: None,
            }))
        };
        if !r.high.is_empty() {
            let _ =
                r.tx.send(batch(Lane::High, r.high_upto, std::mem::take(&mut r.high)));
            r.high_upto = upto;
        }
        if !r.pending.is_empty() {
            let keep = r.pending.len().saturating_sub(PER_TICK);
            let pick = r.pending.split_off(keep);
            r.pending.clear();
            let _ = r.tx.send(batch(Lane::Low, r.last_upto, pick));
        }
        r.last_upto = upto;
    }
}

async fn admin(port: u16, rooms: Rooms) -> anyhow::Result<()> {
    async fn create(State(rooms): State<Rooms>, Json(v): Json<Value>) -> Json<Value> {
        let id = v["id"].as_str().unwrap_or_default().to_string();
        with_room(&rooms, &id, |_| ());
        Json(json!({"id": id}))
    }
    async fn live(Path(id): Path<String>) -> Json<Value> {
        Json(json!({"id": id, "status": 101}))
    }
    async fn token(Json(v): Json<Value>) -> Json<Value> {
        Json(json!({"token": v["user"].as_str().unwrap_or("x")}))
    }
    async fn probe(
        State(rooms): State<Rooms>,
        Path(id): Path<String>,
        Json(v): Json<Value>,
    ) -> Json<Value> {
        let sharing = v["switches"]["sharing"].as_bool().unwrap_or(true);
        with_room(&rooms, &id, |r| {
            r.head += 1;
            r.sharing = sharing;
            r.high.push(RoomEvent {
                offset: r.head,
                ts: now_ms(),
                kind: EventKind::Switches(switches(sharing)),
            });
        });
        Json(json!({"id": id}))
    }
    let app = axum::Router::new()
        .route("/api/rooms", post(create))
        .route("/api/rooms/{id}/live", post(live))
        .route("/api/rooms/{id}", patch(probe))
        .route("/api/tokens", post(token))
        .with_state(rooms);
    let l = TcpListener::bind(("127.0.0.1", port)).await?;
    axum::serve(l, app).await?;
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let port: u16 = std::env::args()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(18094);
    let rooms: Rooms = Arc::default();
    tokio::spawn(admin(port + 1, rooms.clone()));
    let r = rooms.clone();
    tokio::spawn(async move {
        let mut t = tokio::time::interval(TICK);
        loop {
            t.tick().await;
            tick(&r);
        }
    });
    let listener = TcpListener::bind(("127.0.0.1", port)).await?;
    println!(
        "ceiling on ws://127.0.0.1:{port}/ws, admin on http://127.0.0.1:{}",
        port + 1
    );
    let mut n = 0;
    loop {
        let (stream, _) = listener.accept().await?;
        let _ = stream.set_nodelay(true);
        n += 1;
        tokio::spawn(session(stream, rooms.clone(), n));
    }
}
