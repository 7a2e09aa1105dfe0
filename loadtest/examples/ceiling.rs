//! The "ceiling" peer (docs/benchmarks.md, target c): what this machine can
//! fan out at all. It serves the protocol subset `loadtest` uses — `hello`,
//! `join` → `joined`, `comment` → `ack` (any other request → empty `ack`),
//! one low-lane batch per room per 100 ms tick carrying at most 20 comments
//! per second of elapsed time (the gateway's cap: 2 per tick on time, more
//! in a late tick), high-lane `switches` batches — plus the admin calls of
//! the coordinator on the next port, and nothing else: no auth, store,
//! limits, totals or moderation.
//!
//! The write side is as thin as it gets:
//! - the WebSocket handshake is done by hand (request read up to CRLFCRLF,
//!   at most 8 KiB; `Sec-WebSocket-Accept`; `live.json.v1` echoed);
//! - every tick, each room's frames (WebSocket headers + JSON) are encoded
//!   ONCE into one `Bytes`; a walk over the room's member list (chunks of
//!   [`CHUNK`] sockets, spread over the runtime's threads) writes it straight
//!   into each socket with a non-blocking `try_write`: one syscall per
//!   socket per tick, no per-socket task wake-up, no copy. The next tick
//!   waits for the walk: under overload ticks stretch (and carry more
//!   comments each) instead of queueing;
//! - only what the kernel does not take is queued, per socket, for its
//!   writer task (which waits for writability); past [`MAX_PENDING`] bytes
//!   queued a socket misses whole ticks — dropped and counted, never buffered;
//! - replies (`hello`, `joined`, `ack`, pong, close) take the same path;
//! - a small reader per socket decodes masked client frames by hand (text,
//!   close, ping; at most 8 KiB; no fragments).
//!
//! ```text
//! cargo build --release -p loadtest --example ceiling
//! $CARGO_TARGET_DIR/release/examples/ceiling 18094   # ws :18094/ws, admin :18095
//! ```
#![allow(missing_docs)]

use std::collections::{HashMap, VecDeque};
use std::io::ErrorKind::WouldBlock;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use anyhow::{bail, ensure};
use axum::Json;
use axum::extract::{Path, State};
use axum::routing::{patch, post};
use bytes::{Buf, BufMut, Bytes, BytesMut};
use protocol::{
    Ack, Batch, Codec, Comment, EventKind, Lane, Request, Role, RoomEvent, ServerFrame, Switches,
};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;

const TICK: Duration = Duration::from_millis(100);
/// Comments per second each viewer gets at most (the gateway's cap).
const CAP_PER_S: f64 = 20.0;
/// Sockets one walk task writes to.
const CHUNK: usize = 2048;
/// Bytes queued per socket (what the kernel did not take) before ticks drop.
const MAX_PENDING: usize = 64 * 1024;
/// Largest upgrade request and largest client frame.
const MAX_REQUEST: usize = 8192;
const MAX_FRAME: usize = 8192;

static CONNS: AtomicU64 = AtomicU64::new(0);
static DROPPED: AtomicU64 = AtomicU64::new(0);

/// One socket, shared by its reader, its writer task and the tick walks.
struct Conn {
    stream: TcpStream,
    out: Mutex<Out>,
    wake: Notify,
}

#[derive(Default)]
struct Out {
    pending: VecDeque<Bytes>,
    bytes: usize,
    dead: bool,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Conn {
    /// Writes `frame` now if nothing is queued, else queues it (or drops it
    /// past the bound). Whatever the kernel does not take goes to the writer.
    fn send(&self, frame: &Bytes) {
        let mut o = lock(&self.out);
        let rest = if o.dead {
            return;
        } else if !o.pending.is_empty() {
            if o.bytes + frame.len() > MAX_PENDING {
                DROPPED.fetch_add(1, Relaxed);
                return;
            }
            frame.clone()
        } else {
            match self.stream.try_write(frame) {
                Ok(n) if n == frame.len() => return,
                Ok(n) => frame.slice(n..),
                Err(e) if e.kind() == WouldBlock => frame.clone(),
                Err(_) => {
                    o.dead = true;
                    return;
                }
            }
        };
        let wake = o.pending.is_empty();
        o.bytes += rest.len();
        o.pending.push_back(rest);
        drop(o);
        if wake {
            self.wake.notify_one();
        }
    }

    /// The writer task: drains the queue whenever the socket is writable.
    async fn writer(self: Arc<Self>) {
        loop {
            self.wake.notified().await;
            loop {
                {
                    let mut o = lock(&self.out);
                    if o.dead {
                        return;
                    }
                    let Some(front) = o.pending.front_mut() else {
                        break;
                    };
                    match self.stream.try_write(front) {
                        Ok(n) => {
                            front.advance(n);
                            if front.is_empty() {
                                o.pending.pop_front();
                            }
                            o.bytes -= n;
                            continue;
                        }
                        Err(e) if e.kind() == WouldBlock => {}
                        Err(_) => {
                            o.dead = true;
                            return;
                        }
                    }
                }
                tokio::select! {
                    r = self.stream.writable() => if r.is_err() { return },
                    () = self.wake.notified() => {} // close()
                }
            }
        }
    }

    fn close(&self) {
        lock(&self.out).dead = true;
        self.wake.notify_one();
    }
}

/// Appends a server frame: FIN + opcode, unmasked length, payload.
fn put_frame(buf: &mut BytesMut, opcode: u8, payload: &[u8]) {
    buf.put_u8(0x80 | opcode);
    match payload.len() {
        n if n < 126 => buf.put_u8(n as u8),
        n if n < 65536 => {
            buf.put_u8(126);
            buf.put_u16(n as u16);
        }
        n => {
            buf.put_u8(127);
            buf.put_u64(n as u64);
        }
    }
    buf.put_slice(payload);
}

fn frame(opcode: u8, payload: &[u8]) -> Bytes {
    let mut buf = BytesMut::with_capacity(payload.len() + 10);
    put_frame(&mut buf, opcode, payload);
    buf.freeze()
}

fn reply(v: &Value) -> Bytes {
    frame(1, &serde_json::to_vec(v).unwrap_or_default())
}

/// Several server frames, encoded once, back to back in one `Bytes`.
fn frames(frames: &[ServerFrame]) -> Bytes {
    let mut buf = BytesMut::new();
    for f in frames {
        put_frame(&mut buf, 1, &Codec::Json.encode_server(f));
    }
    buf.freeze()
}

#[derive(Default)]
struct Room {
    members: HashMap<u64, Arc<Conn>>,
    snapshot: Option<Arc<[Arc<Conn>]>>,
    head: u64,
    high_upto: u64,
    last_upto: u64,
    pending: Vec<RoomEvent>,
    high: Vec<RoomEvent>,
    not_sharing: bool,
    /// Comments the low lane may carry now: +20/s of elapsed time.
    credit: f64,
}

type Rooms = Arc<Mutex<HashMap<String, Room>>>;

fn room<'a>(map: &'a mut HashMap<String, Room>, id: &str) -> &'a mut Room {
    map.entry(id.to_string()).or_default()
}

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

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// Reads the upgrade request and answers 101; returns the token and any
/// bytes read past the request.
async fn handshake(stream: &mut TcpStream) -> anyhow::Result<(Option<String>, BytesMut)> {
    let mut buf = BytesMut::with_capacity(1024);
    let end = loop {
        if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break p + 4;
        }
        ensure!(buf.len() < MAX_REQUEST, "request too large");
        ensure!(stream.read_buf(&mut buf).await? > 0, "closed in handshake");
    };
    let head = std::str::from_utf8(&buf[..end])?;
    let mut lines = head.split("\r\n");
    let target = lines.next().and_then(|l| l.split(' ').nth(1)).unwrap_or("");
    let query = target.split_once('?').map_or("", |(_, q)| q);
    let token = query.split('&').find_map(|kv| kv.strip_prefix("token="));
    let (mut accept, mut proto) = (None, "");
    for (name, value) in lines.filter_map(|l| l.split_once(':')) {
        let value = value.trim();
        if name.eq_ignore_ascii_case("sec-websocket-key") {
            accept = Some(derive_accept_key(value.as_bytes()));
        } else if name.eq_ignore_ascii_case("sec-websocket-protocol")
            && value
                .split(',')
                .any(|p| p.trim() == Codec::JSON_SUBPROTOCOL)
        {
            proto = "Sec-WebSocket-Protocol: live.json.v1\r\n";
        }
    }
    let Some(accept) = accept else {
        let bad = b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n";
        stream.write_all(bad).await?;
        bail!("not a WebSocket upgrade");
    };
    let resp = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Accept: {accept}\r\n{proto}\r\n"
    );
    let token = token.map(str::to_string);
    stream.write_all(resp.as_bytes()).await?;
    Ok((token, buf.split_off(end)))
}

/// One client frame: opcode and unmasked payload; `None`: need more bytes.
fn client_frame(buf: &mut BytesMut) -> anyhow::Result<Option<(u8, BytesMut)>> {
    if buf.len() < 2 {
        return Ok(None);
    }
    ensure!(buf[0] & 0x80 != 0, "fragmented frames are not supported");
    ensure!(buf[1] & 0x80 != 0, "client frame not masked");
    let (len, at) = match buf[1] & 0x7f {
        126 if buf.len() >= 4 => (usize::from(u16::from_be_bytes([buf[2], buf[3]])), 4),
        126 => return Ok(None),
        127 => bail!("frame too large"),
        n => (usize::from(n), 2),
    };
    ensure!(len <= MAX_FRAME, "frame too large");
    if buf.len() < at + 4 + len {
        return Ok(None);
    }
    let opcode = buf[0] & 0x0f;
    let mask = [buf[at], buf[at + 1], buf[at + 2], buf[at + 3]];
    buf.advance(at + 4);
    let mut payload = buf.split_to(len);
    for (i, b) in payload.iter_mut().enumerate() {
        *b ^= mask[i % 4];
    }
    Ok(Some((opcode, payload)))
}

fn leave(rooms: &Rooms, id: Option<&str>, key: u64) {
    if let Some(id) = id {
        let mut map = lock(rooms);
        let r = room(&mut map, id);
        r.members.remove(&key);
        r.snapshot = None;
    }
}

async fn session(mut stream: TcpStream, rooms: Rooms, key: u64) -> anyhow::Result<()> {
    let (user, mut buf) = handshake(&mut stream).await?;
    let conn = Arc::new(Conn {
        stream,
        out: Mutex::default(),
        wake: Notify::new(),
    });
    tokio::spawn(conn.clone().writer());
    CONNS.fetch_add(1, Relaxed);
    #[rustfmt::skip]
    conn.send(&reply(&json!({"type": "hello", "session": key.to_string(), "user": user,
        "heartbeat_ms": 25_000, "idle_timeout_ms": 60_000, "max_frame_bytes": MAX_FRAME,
        "max_comment_chars": 100})));
    let mut joined: Option<String> = None;
    let r: anyhow::Result<()> = async {
        loop {
            while let Some((opcode, payload)) = client_frame(&mut buf)? {
                match opcode {
                    1 => {}
                    8 => {
                        conn.send(&frame(8, &payload[..payload.len().min(2)]));
                        return Ok(());
                    }
                    9 => {
                        conn.send(&frame(10, &payload));
                        continue;
                    }
                    _ => continue,
                }
                let Ok(f) = Codec::Json.decode_client(&payload) else {
                    continue;
                };
                let mut event = None;
                match (f.request, joined.as_deref()) {
                    (Request::Join(j), old) => {
                        leave(&rooms, old, key);
                        let mut map = lock(&rooms);
                        let r = room(&mut map, &j.room);
                        r.members.insert(key, conn.clone());
                        r.snapshot = None;
                        #[rustfmt::skip]
                        let reply = reply(&json!({"type": "joined", "id": f.id.map(|i| i.0),
                            "room": {"id": &j.room, "title": "", "anchor": "a", "status": 101,
                                "planned_start": 0, "planned_end": 99_999_999_999_999u64,
                                "live_started_at": 0, "switches": switches(!r.not_sharing)},
                            "role": if user.is_some() { "viewer" } else { "anonymous" },
                            "epoch": "ceiling", "offset": r.head,
                            "totals": {"likes": 0, "comments": 0, "viewers": 0,
                                "online": r.members.len()},
                            "recent": [], "recovered": null, "missed": []}));
                        // Under the lock: no tick frame of the room precedes it.
                        conn.send(&reply);
                        joined = Some(j.room);
                        continue;
                    }
                    (Request::Comment(c), Some(id)) => {
                        let who = user.clone().unwrap_or_default();
                        let mut map = lock(&rooms);
                        let r = room(&mut map, id);
                        r.head += 1;
                        let (nick, text, role) = (who.clone(), c.text, Role::Viewer);
                        let kind = EventKind::Comment(Comment {
                            user: who,
                            nick,
                            text,
                            role,
                        });
                        let ev = RoomEvent {
                            offset: r.head,
                            ts: now_ms(),
                            kind,
                        };
                        r.pending.push(ev.clone());
                        event = Some(ev);
                    }
                    _ => {}
                }
                let (id, status) = (f.id, None);
                conn.send(&frames(&[ServerFrame::Ack(Ack { id, event, status })]));
            }
            buf.reserve(1024);
            conn.stream.readable().await?;
            match conn.stream.try_read_buf(&mut buf) {
                Ok(0) => return Ok(()),
                Ok(_) => {}
                Err(e) if e.kind() == WouldBlock => {}
                Err(e) => return Err(e.into()),
            }
        }
    }
    .await;
    leave(&rooms, joined.as_deref(), key);
    CONNS.fetch_sub(1, Relaxed);
    conn.close();
    r
}

/// One tick: each room's frames are encoded once, into one `Bytes`, then
/// written to its members. The next tick waits for this one's walks, so the
/// frames of a socket stay in order; a late tick carries what the elapsed
/// time allows.
async fn tick(rooms: &Rooms, elapsed: Duration) {
    let mut walks = vec![];
    for (id, r) in lock(rooms).iter_mut() {
        // A token bucket that holds one tick's worth (of this tick's time) + 1.
        let secs = elapsed.as_secs_f64().min(1.0);
        let size = CAP_PER_S * secs.max(TICK.as_secs_f64()) + 1.0;
        r.credit = (r.credit + CAP_PER_S * secs).min(size);
        let upto = r.head;
        if upto == r.last_upto {
            continue;
        }
        let batch = |lane, since, events| {
            ServerFrame::Batch(Batch {
                room: id.clone(),
                epoch: "ceiling".into(),
                lane,
                since,
                upto,
                events,
                totals: None,
            })
        };
        let mut out = vec![];
        if !r.high.is_empty() {
            out.push(batch(Lane::High, r.high_upto, std::mem::take(&mut r.high)));
            r.high_upto = upto;
        }
        if !r.pending.is_empty() {
            let budget = r.credit.floor() as usize;
            let pick = r.pending.split_off(r.pending.len().saturating_sub(budget));
            r.credit -= pick.len() as f64;
            r.pending.clear();
            out.push(batch(Lane::Low, r.last_upto, pick));
        }
        r.last_upto = upto;
        let members = r
            .snapshot
            .get_or_insert_with(|| r.members.values().cloned().collect());
        walks.push((members.clone(), frames(&out)));
    }
    let mut tasks = vec![];
    for (members, bytes) in walks {
        for start in (0..members.len()).step_by(CHUNK) {
            let (members, bytes) = (members.clone(), bytes.clone());
            tasks.push(tokio::spawn(async move {
                let end = (start + CHUNK).min(members.len());
                for (i, c) in members[start..end].iter().enumerate() {
                    c.send(&bytes);
                    if i % 256 == 255 {
                        tokio::task::yield_now().await; // readers and accepts go on
                    }
                }
            }));
        }
    }
    for t in tasks {
        let _ = t.await;
    }
}

async fn admin(port: u16, rooms: Rooms) -> anyhow::Result<()> {
    async fn create(State(rooms): State<Rooms>, Json(v): Json<Value>) -> Json<Value> {
        let id = v["id"].as_str().unwrap_or_default().to_string();
        room(&mut lock(&rooms), &id);
        Json(json!({"id": id}))
    }
    async fn live(Path(id): Path<String>) -> Json<Value> {
        Json(json!({"id": id, "status": 101}))
    }
    async fn token(Json(v): Json<Value>) -> Json<Value> {
        Json(json!({"token": v["user"].as_str().unwrap_or("x")}))
    }
    type Probe = (State<Rooms>, Path<String>, Json<Value>);
    async fn probe((State(rooms), Path(id), Json(v)): Probe) -> Json<Value> {
        let sharing = v["switches"]["sharing"].as_bool().unwrap_or(true);
        let mut map = lock(&rooms);
        let r = room(&mut map, &id);
        r.head += 1;
        r.not_sharing = !sharing;
        let kind = EventKind::Switches(switches(sharing));
        r.high.push(RoomEvent {
            offset: r.head,
            ts: now_ms(),
            kind,
        });
        Json(json!({"id": id}))
    }
    let app = axum::Router::new()
        .route("/api/rooms", post(create))
        .route("/api/rooms/{id}/live", post(live))
        .route("/api/rooms/{id}", patch(probe))
        .route("/api/tokens", post(token))
        .with_state(rooms);
    axum::serve(TcpListener::bind(("127.0.0.1", port)).await?, app).await?;
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let port: u16 = std::env::args()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(18094);
    let rooms: Rooms = Arc::default();
    let listener = TcpListener::bind(("127.0.0.1", port)).await?;
    tokio::spawn(admin(port + 1, rooms.clone()));
    let r = rooms.clone();
    tokio::spawn(async move {
        let mut t = tokio::time::interval(TICK);
        t.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let (mut last, mut at) = ((0, 0), std::time::Instant::now());
        for i in 0u64.. {
            t.tick().await;
            let now = std::time::Instant::now();
            tick(&r, now - at).await;
            at = now;
            let now = (CONNS.load(Relaxed), DROPPED.load(Relaxed));
            if i % 50 == 0 && now != last {
                eprintln!(
                    "ceiling: {} connections, {} tick frames dropped",
                    now.0, now.1
                );
                last = now;
            }
        }
    });
    let admin = port + 1;
    println!("ceiling on ws://127.0.0.1:{port}/ws, admin on http://127.0.0.1:{admin}");
    for key in 0u64.. {
        match listener.accept().await {
            Ok((stream, _)) => {
                let _ = stream.set_nodelay(true);
                tokio::spawn(session(stream, rooms.clone(), key));
            }
            // Out of descriptors, say: back off instead of spinning.
            Err(e) => {
                eprintln!("ceiling: accept: {e}");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
    Ok(())
}
