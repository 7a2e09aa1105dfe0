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
mod client;
mod ops;

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Parser;
use hdrhistogram::Histogram;
use protocol::Codec;
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::http::Uri;

use client::{Counters, ViewerReport};

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

fn ms(micros: u64) -> String {
    format!("{:.1} ms", micros as f64 / 1000.0)
}

/// What the comment phase measured.
#[derive(Default)]
struct SendPhase {
    sent: u64,
    refused: u64,
    window: Duration,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Arc::new(Args::parse());
    let uri: Uri = args.url.parse().context("--url")?;
    let host = uri.host().context("--url has no host")?;
    let port = uri.port_u16().unwrap_or(80);
    let server = tokio::net::lookup_host((host, port))
        .await?
        .next()
        .context("--url host does not resolve")?;
    let mut token = args.token.clone();
    if let Some(key) = &args.admin_key {
        let minted = ops::admin_setup(&args, server, key).await?;
        token.get_or_insert(minted);
    }
    let pid = args.gateway_pid;
    let rss0 = pid.and_then(ops::rss_kib);
    if let Some(r) = rss0 {
        println!("gateway RSS before: {r} KiB");
    }

    let counters = Arc::new(Counters::default());
    let (stop_tx, stop_rx) = watch::channel(false);
    let viewers = spawn_viewers(&args, server, &counters, &stop_rx).await;
    let joined = counters.joined.load(Ordering::Relaxed);
    let report_rss = |label: &str| {
        if let (Some(p), Some(before)) = (pid, rss0)
            && let Some(now) = ops::rss_kib(p)
        {
            let delta = now.saturating_sub(before);
            let per = delta as f64 * 1024.0 / joined.max(1) as f64;
            println!(
                "gateway RSS {label}: {now} KiB, delta {delta} KiB, {per:.0} bytes ({:.2} KiB) per connection",
                per / 1024.0
            );
        }
    };
    report_rss("after all joined");
    if args.hold > 0 {
        tokio::time::sleep(Duration::from_secs(args.hold)).await;
        report_rss(&format!("after holding {}s", args.hold));
    }

    let phase = if args.comments_per_sec > 0.0 {
        let token = token.context("comments need --token or --admin-key")?;
        send_comments(&args, server, &token, &counters).await?
    } else {
        SendPhase::default()
    };

    let _ = stop_tx.send(true);
    let mut total = client::new_hist();
    let (mut comments, mut frames, mut bytes, mut got) = (0u64, 0u64, 0u64, 0usize);
    for v in viewers {
        let r = v.await?;
        if let Some(h) = &r.hist {
            total.add(h).context("merging histograms")?;
        }
        comments += r.comments;
        frames += r.frames;
        bytes += r.bytes;
        got += usize::from(r.comments > 0);
    }
    if args.comments_per_sec > 0.0 {
        let secs = phase.window.as_secs_f64();
        println!("comments sent: {} ({} refused)", phase.sent, phase.refused);
        println!(
            "deliveries: {comments} comments to viewers ({:.0}/s, {:.1}/s per viewer), {frames} frames ({:.0}/s), {:.1} MB while sending",
            comments as f64 / secs,
            comments as f64 / secs / joined.max(1) as f64,
            frames as f64 / secs,
            bytes as f64 / 1e6
        );
        println!("viewers that received comments: {got} of {joined}");
        print_latency(&total);
    }
    Ok(())
}

/// Opens every viewer (at most `connect_concurrency` at once) and returns
/// once each has joined or failed.
async fn spawn_viewers(
    args: &Arc<Args>,
    server: SocketAddr,
    counters: &Arc<Counters>,
    stop: &watch::Receiver<bool>,
) -> Vec<JoinHandle<ViewerReport>> {
    let ips = match args.source_ips {
        0 => args.viewers.div_ceil(20_000).clamp(1, 250) as u8,
        k => k,
    };
    let gate = Arc::new(Semaphore::new(args.connect_concurrency.max(1)));
    let started = Instant::now();
    let mut viewers = Vec::with_capacity(args.viewers);
    for i in 0..args.viewers {
        let (args, counters, gate, stop) =
            (args.clone(), counters.clone(), gate.clone(), stop.clone());
        let source = Ipv4Addr::new(127, 0, 0, 2 + (i % usize::from(ips)) as u8);
        let codec = if (i as u32 % 100) < args.binary_percent {
            Codec::Binary
        } else {
            Codec::Json
        };
        viewers.push(tokio::spawn(async move {
            let permit = gate.acquire_owned().await;
            let ws = client::connect(&args, server, source, codec, None).await;
            drop(permit);
            match ws {
                Ok(ws) => {
                    counters.joined.fetch_add(1, Ordering::Relaxed);
                    client::read_loop(ws, stop, &counters).await
                }
                Err(e) => {
                    if counters.failed.fetch_add(1, Ordering::Relaxed) < 5 {
                        eprintln!("viewer {i}: {e:#}");
                    }
                    ViewerReport::default()
                }
            }
        }));
    }
    loop {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let j = counters.joined.load(Ordering::Relaxed);
        let f = counters.failed.load(Ordering::Relaxed);
        if j + f >= args.viewers {
            println!(
                "all joined: {j} of {} viewers in {:.1}s ({f} failed) from {ips} source address(es)",
                args.viewers,
                started.elapsed().as_secs_f64()
            );
            return viewers;
        }
        println!(
            "  {j} joined, {f} failed, {:.1}s",
            started.elapsed().as_secs_f64()
        );
    }
}

/// Runs the senders for `--duration` seconds, with the CPU time of the
/// gateway and of this process over the same window.
async fn send_comments(
    args: &Args,
    server: SocketAddr,
    token: &str,
    counters: &Counters,
) -> anyhow::Result<SendPhase> {
    let n = match args.senders {
        0 => (args.comments_per_sec / 10.0).ceil().max(1.0) as usize,
        n => n,
    };
    let rate = args.comments_per_sec / n as f64;
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut senders = Vec::new();
    for k in 0..n {
        let ws =
            client::connect(args, server, Ipv4Addr::LOCALHOST, Codec::Json, Some(token)).await?;
        let offset = Duration::from_secs_f64(k as f64 / args.comments_per_sec);
        senders.push(tokio::spawn(client::sender(
            ws,
            rate,
            offset,
            stop_rx.clone(),
        )));
    }
    let gateway = args.gateway_pid.map(|p| p.to_string());
    let me = std::process::id().to_string();
    let cpu = || {
        (
            gateway.as_deref().and_then(ops::cpu_ticks),
            ops::cpu_ticks(&me),
        )
    };
    let cpu0 = cpu();
    counters.measuring.store(true, Ordering::Relaxed);
    let t0 = Instant::now();
    println!(
        "sending {:.0} comments/s from {n} senders for {}s",
        args.comments_per_sec, args.duration
    );
    tokio::time::sleep(Duration::from_secs(args.duration)).await;
    let _ = stop_tx.send(true);
    let mut phase = SendPhase::default();
    for s in senders {
        let (sent, refused) = s.await?;
        phase.sent += sent;
        phase.refused += refused;
    }
    // Let the last tick reach everyone.
    tokio::time::sleep(Duration::from_millis(500)).await;
    phase.window = t0.elapsed();
    counters.measuring.store(false, Ordering::Relaxed);
    let cpu1 = cpu();
    let secs = phase.window.as_secs_f64();
    // /proc counts in USER_HZ ticks (100 per second): ticks/s = percent.
    if let (Some(a), Some(b)) = (cpu0.0, cpu1.0) {
        println!("gateway CPU: {:.0}% of one core", (b - a) as f64 / secs);
    }
    if let (Some(a), Some(b)) = (cpu0.1, cpu1.1) {
        println!(
            "client CPU: {:.0}% of one core (viewers + senders)",
            (b - a) as f64 / secs
        );
    }
    Ok(phase)
}

fn print_latency(h: &Histogram<u32>) {
    if h.is_empty() {
        println!("no marked comment reached a viewer");
        return;
    }
    println!(
        "comment→viewer latency: p50 {} p90 {} p99 {} p99.9 {} max {} (n={})",
        ms(h.value_at_quantile(0.5)),
        ms(h.value_at_quantile(0.9)),
        ms(h.value_at_quantile(0.99)),
        ms(h.value_at_quantile(0.999)),
        ms(h.max()),
        h.len()
    );
}
