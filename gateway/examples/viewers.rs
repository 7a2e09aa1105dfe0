//! Load client: many WebSocket viewers in one room, optionally fed comments
//! by signed-in senders, with comment→viewer latency and gateway RSS.
//!
//! ```text
//! ulimit -n 20000
//! cargo run --release -p gateway --example viewers -- \
//!     --url ws://127.0.0.1:18090/ws --room load --viewers 15000 \
//!     --admin-key k --gateway-pid $(pgrep -n gateway) --hold 10
//! # latency: add --comments-per-sec 100 --duration 30
//! ```
//!
//! Viewers join anonymously from 127.0.0.2..127.0.0.(1+k) and keep reading
//! (tungstenite answers pings while the stream is polled). Senders put
//! `#t=<unix micros>#` in each comment; every viewer records the receive
//! delay of each such comment in its own histogram, merged at the end.
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, bail};
use clap::Parser;
use futures_util::{SinkExt, StreamExt};
use hdrhistogram::Histogram;
use protocol::{ClientFrame, Codec, Join, PostComment, Request, RequestId, ServerFrame};
use tokio::net::{TcpSocket, TcpStream};
use tokio::sync::{Semaphore, watch};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::{HeaderValue, Uri};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

type Ws = WebSocketStream<TcpStream>;

/// Simulated viewers (and comment senders) against one gateway.
#[derive(Parser, Debug, Clone)]
struct Args {
    /// WebSocket endpoint of the gateway.
    #[arg(long, default_value = "ws://127.0.0.1:18090/ws")]
    url: String,
    /// Room every viewer joins.
    #[arg(long, default_value = "load")]
    room: String,
    /// Viewer connections.
    #[arg(long, default_value_t = 1000)]
    viewers: usize,
    /// Source addresses 127.0.0.2..127.0.0.(1+k) (0: one per 20,000 viewers).
    #[arg(long, default_value_t = 0)]
    source_ips: u8,
    /// Connections being opened at once.
    #[arg(long, default_value_t = 256)]
    connect_concurrency: usize,
    /// Percent of viewers that speak postcard instead of JSON.
    #[arg(long, default_value_t = 10)]
    binary_percent: u32,
    /// Seconds to hold the viewers after all joined (RSS mode).
    #[arg(long, default_value_t = 0)]
    hold: u64,
    /// Gateway pid, to print its VmRSS and CPU time.
    #[arg(long)]
    gateway_pid: Option<u32>,
    /// Comments per second across all senders (0: no senders).
    #[arg(long, default_value_t = 0.0)]
    comments_per_sec: f64,
    /// Seconds of comments.
    #[arg(long, default_value_t = 30)]
    duration: u64,
    /// Sender connections (0: one per 10 comments/s; the gateway allows 20 requests/s each).
    #[arg(long, default_value_t = 0)]
    senders: usize,
    /// Token of the signed-in sender (else minted through the admin API).
    #[arg(long)]
    token: Option<String>,
    /// Admin API base URL (default: derived from --url).
    #[arg(long)]
    admin_url: Option<String>,
    /// Admin key: creates and starts the room, mints the sender token.
    #[arg(long)]
    admin_key: Option<String>,
    /// WebSocket read buffer of each client connection.
    #[arg(long, default_value_t = 4096)]
    client_read_buffer: usize,
}

/// What one viewer saw.
#[derive(Default)]
struct ViewerReport {
    hist: Option<Histogram<u32>>,
    comments: u64,
    frames: u64,
    bytes: u64,
}

#[derive(Default)]
struct Counters {
    joined: AtomicUsize,
    failed: AtomicUsize,
}

fn now_micros() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as u64)
}

fn new_hist() -> Histogram<u32> {
    // 10 µs .. 120 s at 2 significant figures: ~9 KiB per viewer.
    Histogram::new_with_bounds(10, 120_000_000, 2).unwrap_or_else(|_| Histogram::new(2).expect("histogram"))
}

/// The gateway's resident set in KiB, from /proc/<pid>/status.
fn rss_kib(pid: u32) -> Option<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = s.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// utime + stime of a process in clock ticks (USER_HZ, 100 on Linux).
fn cpu_ticks(pid: &str) -> Option<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &s[s.rfind(')')? + 1..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    Some(f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?)
}

fn encode(codec: Codec, frame: &ClientFrame) -> anyhow::Result<Message> {
    let bytes = codec.encode_client(frame);
    Ok(match codec {
        Codec::Json => Message::Text(String::from_utf8(bytes.to_vec())?.into()),
        Codec::Binary => Message::Binary(bytes),
    })
}

fn decode(codec: Codec, msg: &Message) -> Option<ServerFrame> {
    match msg {
        Message::Text(t) => codec.decode_server(t.as_bytes()).ok(),
        Message::Binary(b) => codec.decode_server(b).ok(),
        _ => None,
    }
}

/// Send times (unix µs) of the marked comments in a frame, without decoding it.
fn marks(data: &[u8], mut f: impl FnMut(u64)) {
    let mut i = 0;
    while let Some(p) = data[i..].windows(3).position(|w| w == b"#t=") {
        let start = i + p + 3;
        let digits = data[start..].iter().take_while(|b| b.is_ascii_digit()).count();
        if let Some(v) = std::str::from_utf8(&data[start..start + digits])
            .ok()
            .and_then(|s| s.parse().ok())
        {
            f(v);
        }
        i = start + digits;
    }
}

/// Opens one connection from `source` and joins `room`; returns after `joined`.
async fn connect(
    args: &Args,
    server: SocketAddr,
    source: Ipv4Addr,
    codec: Codec,
    token: Option<&str>,
) -> anyhow::Result<Ws> {
    let sock = TcpSocket::new_v4()?;
    sock.bind(SocketAddr::new(IpAddr::V4(source), 0))
        .with_context(|| format!("bind {source}"))?;
    let stream = sock.connect(server).await.context("connect")?;
    let url = match token {
        Some(t) => format!("{}?token={t}", args.url),
        None => args.url.clone(),
    };
    let mut req = url.into_client_request()?;
    req.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        HeaderValue::from_static(codec.subprotocol()),
    );
    let config = WebSocketConfig::default()
        .read_buffer_size(args.client_read_buffer)
        .write_buffer_size(0);
    let (mut ws, _) = tokio_tungstenite::client_async_with_config(req, stream, Some(config))
        .await
        .context("handshake")?;
    let join = ClientFrame {
        id: Some(RequestId("join".into())),
        request: Request::Join(Join {
            room: args.room.clone(),
            resume: None,
        }),
    };
    ws.send(encode(codec, &join)?).await?;
    loop {
        let msg = tokio::time::timeout(Duration::from_secs(30), ws.next())
            .await
            .context("no join reply")?
            .context("closed before joining")??;
        match decode(codec, &msg) {
            Some(ServerFrame::Joined(_)) => return Ok(ws),
            Some(ServerFrame::Error(e)) => bail!("join refused: {:?} {}", e.code, e.message),
            _ => {}
        }
    }
}

/// Reads until told to stop, recording the delay of every marked comment.
async fn read_loop(mut ws: Ws, mut stop: watch::Receiver<bool>) -> ViewerReport {
    let mut r = ViewerReport::default();
    loop {
        let msg = tokio::select! {
            _ = stop.changed() => break,
            msg = ws.next() => msg,
        };
        let data: &[u8] = match &msg {
            Some(Ok(Message::Text(t))) => t.as_bytes(),
            Some(Ok(Message::Binary(b))) => b,
            Some(Ok(_)) => continue,
            Some(Err(_)) | None => break,
        };
        r.frames += 1;
        r.bytes += data.len() as u64;
        let now = now_micros();
        marks(data, |sent| {
            r.comments += 1;
            let h = r.hist.get_or_insert_with(new_hist);
            h.saturating_record(now.saturating_sub(sent).max(10));
        });
    }
    r
}

/// Sends `rate` marked comments per second until stopped; returns (sent, refused).
async fn sender(
    mut ws: Ws,
    rate: f64,
    phase: Duration,
    mut stop: watch::Receiver<bool>,
) -> (u64, u64) {
    let mut tick = tokio::time::interval_at(
        tokio::time::Instant::now() + phase,
        Duration::from_secs_f64(1.0 / rate),
    );
    let (mut sent, mut refused, mut n) = (0u64, 0u64, 0u64);
    loop {
        tokio::select! {
            _ = stop.changed() => break,
            _ = tick.tick() => {
                n += 1;
                let text = format!("#t={}# 主播好 nice stream {n}", now_micros());
                let frame = ClientFrame {
                    id: Some(RequestId(n.to_string())),
                    request: Request::Comment(PostComment { text }),
                };
                let Ok(msg) = encode(Codec::Json, &frame) else { break };
                if ws.send(msg).await.is_err() {
                    break;
                }
                sent += 1;
            }
            msg = ws.next() => match msg {
                Some(Ok(m)) => {
                    if let Some(ServerFrame::Error(_)) = decode(Codec::Json, &m) {
                        refused += 1;
                    }
                }
                _ => break,
            }
        }
    }
    (sent, refused)
}

/// Creates and starts the room and returns a sender token (admin API).
async fn admin_setup(args: &Args, server: SocketAddr, key: &str) -> anyhow::Result<String> {
    let base = args
        .admin_url
        .clone()
        .unwrap_or_else(|| format!("http://{server}"));
    let http = reqwest::Client::new();
    let post = |path: &str, body: serde_json::Value| {
        http.post(format!("{base}{path}"))
            .bearer_auth(key)
            .json(&body)
            .send()
    };
    let room = serde_json::json!({"id": args.room, "title": "load test", "anchor": "anchor",
        "planned_start": 0, "planned_end": 99_999_999_999_999i64});
    let r = post("/api/rooms", room).await?;
    println!("create room {}: {}", args.room, r.status());
    let path = format!("/api/rooms/{}/live", args.room);
    let r = post(&path, serde_json::json!({"action": "start"})).await?;
    println!("start live: {}", r.status());
    let r = post("/api/tokens", serde_json::json!({"user": "sender", "name": "sender"})).await?;
    let body: serde_json::Value = r.error_for_status()?.json().await?;
    body["token"]
        .as_str()
        .map(str::to_string)
        .context("no token in /api/tokens reply")
}

fn pct(v: u64) -> String {
    format!("{:.1} ms", v as f64 / 1000.0)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let uri: Uri = args.url.parse().context("--url")?;
    let host = uri.host().context("--url has no host")?;
    let port = uri.port_u16().unwrap_or(80);
    let server = tokio::net::lookup_host((host, port))
        .await?
        .next()
        .context("--url host does not resolve")?;
    let mut token = args.token.clone();
    if let Some(key) = &args.admin_key {
        let minted = admin_setup(&args, server, key).await?;
        token.get_or_insert(minted);
    }
    let ips = match args.source_ips {
        0 => args.viewers.div_ceil(20_000).clamp(1, 250) as u8,
        k => k,
    };
    let pid = args.gateway_pid;
    let rss0 = pid.and_then(rss_kib);
    if let Some(r) = rss0 {
        println!("gateway RSS before: {r} KiB");
    }

    // Viewers.
    let counters = Arc::new(Counters::default());
    let (stop_tx, stop_rx) = watch::channel(false);
    let gate = Arc::new(Semaphore::new(args.connect_concurrency.max(1)));
    let shared = Arc::new(args.clone());
    let started = Instant::now();
    let mut viewers = Vec::with_capacity(args.viewers);
    for i in 0..args.viewers {
        let (args, counters, gate, stop) = (shared.clone(), counters.clone(), gate.clone(), stop_rx.clone());
        let source = Ipv4Addr::new(127, 0, 0, 2 + (i % usize::from(ips)) as u8);
        let codec = if (i as u32 % 100) < args.binary_percent { Codec::Binary } else { Codec::Json };
        viewers.push(tokio::spawn(async move {
            let permit = gate.acquire_owned().await;
            let ws = connect(&args, server, source, codec, None).await;
            drop(permit);
            let r = match ws {
                Ok(ws) => {
                    counters.joined.fetch_add(1, Ordering::Relaxed);
                    read_loop(ws, stop).await
                }
                Err(e) => {
                    if counters.failed.fetch_add(1, Ordering::Relaxed) < 5 {
                        eprintln!("viewer {i}: {e:#}");
                    }
                    ViewerReport::default()
                }
            };
            r
        }));
    }
    loop {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let (j, f) = (counters.joined.load(Ordering::Relaxed), counters.failed.load(Ordering::Relaxed));
        if j + f >= args.viewers {
            break;
        }
        println!("  {j} joined, {f} failed, {:.1}s", started.elapsed().as_secs_f64());
    }
    let joined = counters.joined.load(Ordering::Relaxed);
    println!(
        "all joined: {joined} of {} viewers in {:.1}s ({} failed) from {ips} source address(es)",
        args.viewers,
        started.elapsed().as_secs_f64(),
        counters.failed.load(Ordering::Relaxed)
    );
    let report_rss = |label: &str| {
        if let (Some(p), Some(before)) = (pid, rss0)
            && let Some(now) = rss_kib(p)
        {
            let delta = now.saturating_sub(before);
            let per = delta as f64 * 1024.0 / joined.max(1) as f64;
            println!("gateway RSS {label}: {now} KiB, delta {delta} KiB, {per:.0} bytes ({:.2} KiB) per connection", per / 1024.0);
        }
    };
    report_rss("after all joined");
    if args.hold > 0 {
        tokio::time::sleep(Duration::from_secs(args.hold)).await;
        report_rss(&format!("after holding {}s", args.hold));
    }

    // Senders.
    let mut sent = (0, 0);
    let mut window = Duration::ZERO;
    if args.comments_per_sec > 0.0 {
        let token = token.context("comments need --token or --admin-key")?;
        let n = match args.senders {
            0 => (args.comments_per_sec / 10.0).ceil().max(1.0) as usize,
            n => n,
        };
        let rate = args.comments_per_sec / n as f64;
        let (sstop_tx, sstop_rx) = watch::channel(false);
        let mut senders = Vec::new();
        for k in 0..n {
            let ws = connect(&args, server, Ipv4Addr::LOCALHOST, Codec::Json, Some(&token)).await?;
            let phase = Duration::from_secs_f64(k as f64 / (rate * n as f64));
            senders.push(tokio::spawn(sender(ws, rate, phase, sstop_rx.clone())));
        }
        let me = std::process::id().to_string();
        let cpu0 = (pid.and_then(|p| cpu_ticks(&p.to_string())), cpu_ticks(&me));
        let t0 = Instant::now();
        println!("sending {:.0} comments/s from {n} senders for {}s", args.comments_per_sec, args.duration);
        tokio::time::sleep(Duration::from_secs(args.duration)).await;
        let _ = sstop_tx.send(true);
        for s in senders {
            let (a, b) = s.await?;
            sent = (sent.0 + a, sent.1 + b);
        }
        // Let the last tick reach everyone.
        tokio::time::sleep(Duration::from_millis(500)).await;
        window = t0.elapsed();
        let cpu1 = (pid.and_then(|p| cpu_ticks(&p.to_string())), cpu_ticks(&me));
        let secs = window.as_secs_f64();
        if let (Some(a), Some(b)) = (cpu0.0, cpu1.0) {
            println!("gateway CPU: {:.0}% of one core", (b - a) as f64 / secs);
        }
        if let (Some(a), Some(b)) = (cpu0.1, cpu1.1) {
            println!("client CPU: {:.0}% of one core (viewers + senders)", (b - a) as f64 / secs);
        }
    }

    let _ = stop_tx.send(true);
    let mut total = new_hist();
    let (mut comments, mut frames, mut bytes, mut alive) = (0u64, 0u64, 0u64, 0usize);
    for v in viewers {
        let r = v.await?;
        if let Some(h) = &r.hist {
            total.add(h).context("merging histograms")?;
        }
        comments += r.comments;
        frames += r.frames;
        bytes += r.bytes;
        alive += usize::from(r.frames > 0);
    }
    if args.comments_per_sec > 0.0 {
        let secs = window.as_secs_f64();
        println!("comments sent: {} ({} refused)", sent.0, sent.1);
        println!(
            "deliveries: {comments} comments to viewers ({:.0}/s, {:.1}/s per viewer), {frames} frames ({:.0}/s), {:.1} MB",
            comments as f64 / secs,
            comments as f64 / secs / joined.max(1) as f64,
            frames as f64 / secs,
            bytes as f64 / 1e6
        );
        println!("viewers that received frames: {alive} of {joined}");
        if total.len() > 0 {
            println!(
                "comment→viewer latency: p50 {} p90 {} p99 {} p99.9 {} max {} (n={})",
                pct(total.value_at_quantile(0.5)),
                pct(total.value_at_quantile(0.9)),
                pct(total.value_at_quantile(0.99)),
                pct(total.value_at_quantile(0.999)),
                pct(total.max()),
                total.len()
            );
        }
    }
    Ok(())
}
