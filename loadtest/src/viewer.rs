//! One simulated viewer: joins, reads the room stream (latency of marked
//! comments, the high-lane chain), reconnects with resume after a
//! reconnectable close or a lost connection, and churns on purpose.

use std::net::Ipv4Addr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use protocol::{Codec, EventKind, Lane, Resume, ServerFrame};
use tokio::sync::watch;
use tokio_tungstenite::tungstenite::Message;

use crate::chain::Chain;
use crate::conn::{self, Dial, Ws};
use crate::wire::Inbound;
use crate::worker::Ctx;

/// Samples a viewer keeps for the per-second latency series.
const MAX_SAMPLES: usize = 200_000;

/// What one viewer measured.
#[derive(Debug, Default)]
pub struct ViewerStats {
    /// Joined at least once.
    pub joined: bool,
    /// Connect-to-joined time of the first join (µs).
    pub connect_us: Option<u64>,
    /// Disconnect → joined again, per reconnect (µs).
    pub rejoin: Vec<u64>,
    /// Resumes answered `recovered: true` / `false`.
    pub recovered: u64,
    /// Resumes answered `recovered: false`.
    pub not_recovered: u64,
    /// Deliberate reconnects.
    pub churned: u64,
    /// Failed connection attempts.
    pub failed: u64,
    /// First error message.
    pub error: Option<String>,
    /// Close codes seen (`None`: lost without a close frame).
    pub closes: Vec<Option<u16>>,
    /// High-lane batches received.
    pub high_batches: u64,
    /// The high-lane chain.
    pub chain: Chain,
    /// Marked comments received.
    pub comments: u64,
    /// `shelf` replies received, and their bytes.
    pub shelf: (u64, u64),
    /// Which of the worker's latency histograms this viewer records into.
    pub shard: usize,
    /// (second since traffic start, µs) for the latency series, sampled viewers only.
    pub samples: Vec<(i64, u64)>,
}

/// Why a read loop ended.
enum End {
    Stop,
    Churn,
    Closed(Option<u16>),
}

/// Runs one viewer until `stop` flips; `g` is its global index.
pub async fn run(
    ctx: Arc<Ctx>,
    g: usize,
    room: String,
    mut stop: watch::Receiver<bool>,
) -> ViewerStats {
    let mut st = ViewerStats {
        shard: g,
        ..ViewerStats::default()
    };
    let plan = &ctx.plan;
    let n_targets = plan.targets.len();
    let mut target = match plan.placement {
        crate::scenario::Placement::Spread => g % n_targets,
        crate::scenario::Placement::Node(i) => i,
    };
    let source = Ipv4Addr::new(
        127,
        0,
        0,
        2 + (g % usize::from(plan.source_ips.max(1))) as u8,
    );
    let codec = if g % 100 < usize::from(plan.binary_percent) {
        Codec::Binary
    } else {
        plan.codec.codec()
    };
    let sampled = g.is_multiple_of(16);
    let token = plan
        .viewer_token_secret
        .as_deref()
        .map(|secret| crate::token::mint(secret, &format!("lt-viewer-{g}")));
    let mut rng = Rng((g as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let mut lost_at: Option<Instant> = None;
    let mut backoff = Duration::from_millis(250);
    loop {
        if *stop.borrow() {
            break;
        }
        let resume = (!st.chain.epoch.is_empty()).then(|| Resume {
            epoch: st.chain.epoch.clone(),
            offset: st.chain.last,
        });
        let resuming = resume.is_some();
        let dial = Dial {
            url: &plan.targets[target],
            addr: ctx.addrs[target],
            source,
            codec,
            token: token.as_deref(),
            wire: plan.wire,
        };
        let t0 = Instant::now();
        let permit = ctx.handshakes.acquire().await;
        let res = conn::connect_and_join(&dial, &room, resume).await;
        drop(permit);
        let ws = match res {
            Ok((mut ws, joined)) => {
                if plan.shelf_on_join {
                    let shelf = protocol::ClientFrame {
                        id: Some(protocol::RequestId("s".into())),
                        request: protocol::Request::Shelf(Default::default()),
                    };
                    if let Ok(m) = conn::encode(codec, &shelf) {
                        let _ = ws.send(plan.wire.wrap(m)).await;
                    }
                }
                if resuming {
                    match joined.recovered {
                        Some(true) => st.recovered += 1,
                        _ => st.not_recovered += 1,
                    }
                }
                st.chain.joined(&joined.epoch, joined.offset);
                if !st.joined {
                    st.joined = true;
                    st.connect_us = Some(t0.elapsed().as_micros() as u64);
                    ctx.connected.fetch_add(1, Ordering::Relaxed);
                }
                if let Some(at) = lost_at.take() {
                    st.rejoin.push(at.elapsed().as_micros() as u64);
                    ctx.reconnects.fetch_add(1, Ordering::Relaxed);
                }
                backoff = Duration::from_millis(250);
                ws
            }
            Err(e) => {
                st.failed += 1;
                ctx.failed.fetch_add(1, Ordering::Relaxed);
                if st.error.is_none() {
                    st.error = Some(format!("{:#}", e));
                }
                if !st.joined && ctx.past_ramp() {
                    // Never got in during the ramp: give up, it is counted.
                    break;
                }
                // Next node, after a jittered backoff.
                target = (target + 1) % n_targets;
                let wait = backoff.mul_f64(0.5 + rng.unit());
                backoff = (backoff * 2).min(Duration::from_secs(5));
                tokio::select! {
                    _ = stop.changed() => break,
                    _ = tokio::time::sleep(wait) => continue,
                }
            }
        };
        ctx.open.fetch_add(1, Ordering::Relaxed);
        let churn_in = ctx.churn_delay(&mut rng);
        let end = read_loop(&ctx, ws, codec, &mut st, sampled, churn_in, &mut stop).await;
        ctx.open.fetch_sub(1, Ordering::Relaxed);
        match end {
            End::Stop => break,
            End::Churn => {
                st.churned += 1;
                lost_at = Some(Instant::now());
            }
            End::Closed(code) => {
                st.closes.push(code);
                let again = match code {
                    None => true,
                    Some(c) => (4000..4100).contains(&c),
                };
                if !again {
                    break;
                }
                lost_at = Some(Instant::now());
                target = (target + 1) % n_targets;
                // Spread the reconnects of a dropped node over half a second.
                let wait = Duration::from_millis(500).mul_f64(rng.unit());
                tokio::select! {
                    _ = stop.changed() => break,
                    _ = tokio::time::sleep(wait) => {}
                }
            }
        }
    }
    st
}

async fn read_loop(
    ctx: &Ctx,
    mut ws: Ws,
    codec: Codec,
    st: &mut ViewerStats,
    sampled: bool,
    churn_in: Option<Duration>,
    stop: &mut watch::Receiver<bool>,
) -> End {
    let churn = async {
        match churn_in {
            Some(d) => tokio::time::sleep(d).await,
            None => std::future::pending().await,
        }
    };
    tokio::pin!(churn);
    loop {
        let msg = tokio::select! {
            _ = stop.changed() => return End::Stop,
            _ = &mut churn => return End::Churn,
            msg = ws.next() => msg,
        };
        let msg = match msg {
            Some(Ok(m)) => m,
            Some(Err(_)) | None => return End::Closed(None),
        };
        let data: &[u8] = match &msg {
            Message::Text(t) => t.as_bytes(),
            Message::Binary(b) => b,
            Message::Close(c) => return End::Closed(c.as_ref().map(|c| u16::from(c.code))),
            _ => continue,
        };
        ctx.bytes.fetch_add(data.len() as u64, Ordering::Relaxed);
        let data = match ctx.plan.wire.inbound(data) {
            Inbound::Frame(f) => f,
            Inbound::Reply(pong) => {
                if ws.send(pong).await.is_err() {
                    return End::Closed(None);
                }
                continue;
            }
            Inbound::Skip => continue,
        };
        ctx.frames.fetch_add(1, Ordering::Relaxed);
        if is_shelf(data) {
            st.shelf.0 += 1;
            st.shelf.1 += data.len() as u64;
            continue;
        }
        let now = conn::now_micros();
        let mut sent = Vec::new();
        if codec == Codec::Json
            && let Some(upto) = conn::json_low_upto(data)
        {
            conn::marks(data, |t| sent.push(t));
            st.record(ctx, now, &sent, sampled);
            st.chain.low(upto);
            continue;
        }
        let Ok(ServerFrame::Batch(b)) = codec.decode_server(data) else {
            continue;
        };
        match b.lane {
            Lane::High => {
                st.high_batches += 1;
                st.chain.high(&b.epoch, b.since, b.upto);
            }
            Lane::Low => {
                for e in &b.events {
                    if let EventKind::Comment(c) = &e.kind {
                        conn::marks(c.text.as_bytes(), |t| sent.push(t));
                    }
                }
                st.record(ctx, now, &sent, sampled);
                st.chain.low(b.upto);
            }
        }
    }
}

impl ViewerStats {
    /// Records the latency of comments sent at `sent` (µs) and received `now`.
    fn record(&mut self, ctx: &Ctx, now: u64, sent: &[u64], sampled: bool) {
        if sent.is_empty() {
            return;
        }
        if let Ok(mut h) = ctx.latency[self.shard % ctx.latency.len()].lock() {
            for &t in sent {
                h.saturating_record(now.saturating_sub(t).max(1));
            }
        }
        if sampled {
            for &t in sent {
                if self.samples.len() < MAX_SAMPLES {
                    self.samples
                        .push((ctx.second_of(now), now.saturating_sub(t).max(1)));
                }
            }
        }
        self.comments += sent.len() as u64;
        ctx.comments.fetch_add(sent.len() as u64, Ordering::Relaxed);
    }
}

/// A tiny xorshift generator: jitter and churn times need no quality.
pub struct Rng(pub u64);

impl Rng {
    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        let mut x = self.0.max(1);
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        (x >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Whether a frame is a `shelf` reply: JSON starts with its `type`; a
/// postcard server frame with index 7.
fn is_shelf(data: &[u8]) -> bool {
    data.starts_with(br#"{"type":"shelf""#) || data.first() == Some(&7)
}
