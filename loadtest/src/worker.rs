//! A worker process: runs its share of viewers and senders from a
//! [`WorkerPlan`], prints progress lines and one final report as JSON on
//! stdout.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::Context;
use tokio::sync::{Semaphore, watch};
use tokio::time::Instant;

use crate::costream;
use crate::hist::{self, new_hist};
use crate::plan::{
    CostreamCounts, Progress, RoomCounts, Second, WorkerLine, WorkerPlan, WorkerReport,
};
use crate::sender::{self, Kind, add_counts};
use crate::viewer::{self, Rng, ViewerStats};

/// Seconds viewers keep reading after the traffic phase, for the last ticks.
pub const DRAIN_S: f64 = 1.5;

/// Latency histograms per worker.
const LATENCY_SHARDS: usize = 32;

/// Ack latency histograms per worker and kind (comments, likes).
const ACK_SHARDS: usize = 8;

/// State shared by a worker's tasks.
pub struct Ctx {
    /// The plan.
    pub plan: WorkerPlan,
    /// Resolved target addresses.
    pub addrs: Vec<SocketAddr>,
    /// Handshakes in flight.
    pub handshakes: Semaphore,
    /// `Instant` of the plan's start.
    pub start: Instant,
    /// Unix µs of the traffic start.
    pub traffic_start_us: u64,
    /// Viewers that joined at least once.
    pub connected: AtomicU64,
    /// Failed attempts.
    pub failed: AtomicU64,
    /// Viewers joined now.
    pub open: AtomicU64,
    /// Frames received.
    pub frames: AtomicU64,
    /// Bytes received.
    pub bytes: AtomicU64,
    /// Marked comments received.
    pub comments: AtomicU64,
    /// Successful reconnects.
    pub reconnects: AtomicU64,
    /// Comments acked.
    pub acked: AtomicU64,
    /// Comment latency, sharded by viewer to keep lock contention low (a
    /// histogram per viewer would cost ~180 KiB each).
    pub latency: Vec<std::sync::Mutex<hist::Hist>>,
    /// Comment request → `ack` time, sharded by sender.
    pub comment_acks: Vec<std::sync::Mutex<hist::Hist>>,
    /// Like request → `ack` time, sharded by liker.
    pub like_acks: Vec<std::sync::Mutex<hist::Hist>>,
    /// Grab request → its answer time, sharded by grabber.
    pub grab_acks: Vec<std::sync::Mutex<hist::Hist>>,
    /// Co-stream pairs live.
    pub pairs_live: AtomicU64,
}

impl Ctx {
    /// When the traffic phase begins.
    pub fn traffic_start(&self) -> Instant {
        self.start + Duration::from_secs(self.plan.ramp_s)
    }

    /// When the traffic phase ends.
    pub fn traffic_end(&self) -> Instant {
        self.traffic_start() + Duration::from_secs(self.plan.duration_s)
    }

    /// True once the ramp window is over.
    pub fn past_ramp(&self) -> bool {
        Instant::now() >= self.traffic_start()
    }

    /// Second of the series a unix-µs time falls in.
    pub fn second_of(&self, unix_us: u64) -> i64 {
        (unix_us as i64 - self.traffic_start_us as i64).div_euclid(1_000_000)
    }

    /// Delay until this viewer's next deliberate reconnect, if churning:
    /// exponential with the per-viewer rate, counted from the traffic start.
    pub fn churn_delay(&self, rng: &mut Rng) -> Option<Duration> {
        let viewers: usize = self.plan.rooms.iter().map(|r| r.viewers).sum();
        if self.plan.churn_per_s <= 0.0 || viewers == 0 {
            return None;
        }
        let rate = self.plan.churn_per_s / viewers as f64;
        let wait = -(1.0 - rng.unit()).ln() / rate;
        let now = Instant::now();
        let from = self.traffic_start().max(now);
        let at = from + Duration::from_secs_f64(wait.min(1e6));
        (at < self.traffic_end()).then(|| at - now)
    }
}

fn unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

fn emit(line: &WorkerLine) {
    if let Ok(s) = serde_json::to_string(line) {
        println!("{s}");
    }
}

/// Runs a worker to completion and prints its report.
pub async fn run(plan: WorkerPlan) -> anyhow::Result<()> {
    let mut addrs = vec![];
    for t in &plan.targets {
        addrs.push(
            crate::conn::resolve(t)
                .await
                .with_context(|| format!("target {t}"))?,
        );
    }
    let now_ms = unix_ms();
    let start = Instant::now()
        .checked_sub(Duration::from_millis(
            now_ms.saturating_sub(plan.start_unix_ms),
        ))
        .unwrap_or_else(Instant::now)
        + Duration::from_millis(plan.start_unix_ms.saturating_sub(now_ms));
    let ctx = Arc::new(Ctx {
        handshakes: Semaphore::new(plan.connect_concurrency.max(1)),
        traffic_start_us: (plan.start_unix_ms + plan.ramp_s * 1000) * 1000,
        plan,
        addrs,
        start,
        connected: AtomicU64::new(0),
        failed: AtomicU64::new(0),
        open: AtomicU64::new(0),
        frames: AtomicU64::new(0),
        bytes: AtomicU64::new(0),
        comments: AtomicU64::new(0),
        reconnects: AtomicU64::new(0),
        acked: AtomicU64::new(0),
        latency: shards(LATENCY_SHARDS),
        comment_acks: shards(ACK_SHARDS),
        like_acks: shards(ACK_SHARDS),
        grab_acks: shards(ACK_SHARDS),
        pairs_live: AtomicU64::new(0),
    });
    tokio::time::sleep_until(ctx.start).await;
    let (stop_tx, stop_rx) = watch::channel(false);

    let mut senders = vec![];
    for (k, s) in ctx.plan.senders.iter().enumerate() {
        let g = ctx.plan.first_index + k;
        senders.push(tokio::spawn(sender::run(
            ctx.clone(),
            g,
            s.clone(),
            Kind::Comment,
        )));
    }
    let mut likers = vec![];
    for (k, s) in ctx.plan.likers.iter().enumerate() {
        let g = ctx.plan.first_index + 7919 + k;
        likers.push(tokio::spawn(sender::run(
            ctx.clone(),
            g,
            s.clone(),
            Kind::Like,
        )));
    }
    let mut grabbers = vec![];
    for (k, s) in ctx.plan.grabbers.iter().enumerate() {
        let g = ctx.plan.first_index + 15_485 + k;
        grabbers.push(tokio::spawn(sender::run(
            ctx.clone(),
            g,
            s.clone(),
            Kind::Grab,
        )));
    }

    let pairs: Vec<_> = ctx
        .plan
        .pairs
        .iter()
        .map(|p| tokio::spawn(costream::run(ctx.clone(), p.clone())))
        .collect();

    let series_task = tokio::spawn(sample_series(ctx.clone(), stop_rx.clone()));

    // Ramp: one viewer every 1/ramp seconds, rooms interleaved.
    let mut viewers = vec![];
    let order = interleave(&ctx.plan.rooms.iter().map(|r| r.viewers).collect::<Vec<_>>());
    let mut tick = tokio::time::interval(Duration::from_secs_f64(
        1.0 / ctx.plan.ramp_per_s.max(0.001),
    ));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    for (i, room) in order.into_iter().enumerate() {
        tick.tick().await;
        let g = ctx.plan.first_index + ctx.plan.senders.len() + i;
        let room = ctx.plan.rooms[room].room.clone();
        viewers.push(tokio::spawn(viewer::run(
            ctx.clone(),
            g,
            room,
            stop_rx.clone(),
        )));
    }

    tokio::time::sleep_until(ctx.traffic_end() + Duration::from_secs_f64(DRAIN_S)).await;
    let _ = stop_tx.send(true);

    let mut report = WorkerReport {
        worker: ctx.plan.worker,
        planned: viewers.len() as u64,
        ..WorkerReport::default()
    };
    let mut latency = new_hist();
    let mut connect = new_hist();
    let mut rejoin = new_hist();
    let mut per_second: BTreeMap<i64, hist::Hist> = BTreeMap::new();
    let room_of: Vec<String> =
        interleave(&ctx.plan.rooms.iter().map(|r| r.viewers).collect::<Vec<_>>())
            .into_iter()
            .map(|r| ctx.plan.rooms[r].room.clone())
            .collect();
    for (v, room) in viewers.into_iter().zip(room_of) {
        let st: ViewerStats = v.await.context("viewer task")?;
        fold_viewer(&mut report, &st, &room);
        if let Some(c) = st.connect_us {
            connect.saturating_record(c.max(1));
        }
        for r in &st.rejoin {
            rejoin.saturating_record((*r).max(1));
        }
        for &(t, lat) in &st.samples {
            per_second
                .entry(t)
                .or_insert_with(new_hist)
                .saturating_record(lat);
        }
    }
    for s in senders {
        add_counts(&mut report.comments_sent, &s.await.context("sender task")?);
    }
    for s in likers {
        add_counts(&mut report.likes_sent, &s.await.context("liker task")?);
    }
    for s in grabbers {
        add_counts(&mut report.grabs_sent, &s.await.context("grabber task")?);
    }
    report.costream = fold_pairs(pairs).await?;
    for shard in &ctx.latency {
        if let Ok(h) = shard.lock() {
            latency.add(&*h).context("merge latency")?;
        }
    }
    report.comment_ack_hist = hist::encode(&merge_shards(&ctx.comment_acks)?)?;
    report.like_ack_hist = hist::encode(&merge_shards(&ctx.like_acks)?)?;
    report.grab_ack_hist = hist::encode(&merge_shards(&ctx.grab_acks)?)?;
    let mut series = series_task.await.context("series task")?;
    for s in &mut series {
        if let Some(h) = per_second.get(&s.t) {
            s.latency = Some(hist::encode(h)?);
        }
    }
    report.series = series;
    report.latency_hist = hist::encode(&latency)?;
    report.connect_hist = hist::encode(&connect)?;
    report.rejoin_hist = hist::encode(&rejoin)?;
    report.frames = ctx.frames.load(Ordering::Relaxed);
    report.bytes = ctx.bytes.load(Ordering::Relaxed);
    emit(&WorkerLine::Report(Box::new(report)));
    Ok(())
}

/// Awaits the co-stream pairs and adds up what they measured.
async fn fold_pairs(
    pairs: Vec<tokio::task::JoinHandle<costream::PairStats>>,
) -> anyhow::Result<CostreamCounts> {
    let mut all = CostreamCounts::default();
    let (mut latency, mut setup, mut negotiation) = (new_hist(), new_hist(), new_hist());
    for p in pairs {
        let st = p.await.context("co-stream pair task")?;
        add_costream(&mut all, &st.counts);
        for &l in &st.latencies {
            latency.saturating_record(l);
        }
        if let Some(s) = st.setup_us {
            setup.saturating_record(s.max(1));
        }
        if let Some(n) = st.negotiation_us {
            negotiation.saturating_record(n.max(1));
        }
    }
    all.latency_hist = hist::encode(&latency)?;
    all.setup_hist = hist::encode(&setup)?;
    all.negotiation_hist = hist::encode(&negotiation)?;
    Ok(all)
}

/// Adds the counts of `b` into `a` (not the histograms), keeping the first
/// few errors.
pub fn add_costream(a: &mut CostreamCounts, b: &CostreamCounts) {
    a.pairs += b.pairs;
    a.live += b.live;
    a.negotiated += b.negotiated;
    for e in &b.errors {
        if a.errors.len() < 8 {
            a.errors.push(e.clone());
        }
    }
    a.sent += b.sent;
    a.acked += b.acked;
    crate::sender::merge_map(&mut a.refused, &b.refused);
    a.received += b.received;
    a.lost += b.lost;
    a.reordered += b.reordered;
    a.gaps += b.gaps;
    a.misrouted += b.misrouted;
    a.sdp_bytes += b.sdp_bytes;
    a.candidate_bytes += b.candidate_bytes;
}

fn shards(n: usize) -> Vec<std::sync::Mutex<hist::Hist>> {
    (0..n).map(|_| std::sync::Mutex::new(new_hist())).collect()
}

fn merge_shards(shards: &[std::sync::Mutex<hist::Hist>]) -> anyhow::Result<hist::Hist> {
    let mut all = new_hist();
    for shard in shards {
        if let Ok(h) = shard.lock() {
            all.add(&*h).context("merge histograms")?;
        }
    }
    Ok(all)
}

fn fold_viewer(r: &mut WorkerReport, st: &ViewerStats, room: &str) {
    let rc: &mut RoomCounts = r.rooms.entry(room.to_string()).or_default();
    if st.joined {
        r.connected += 1;
        rc.viewers += 1;
    } else {
        r.never_joined += 1;
    }
    rc.received += st.comments;
    r.comments += st.comments;
    r.shelf_replies += st.shelf.0;
    r.shelf_bytes += st.shelf.1;
    r.failed += st.failed;
    if let Some(e) = &st.error
        && r.errors.len() < 5
        && !r.errors.contains(e)
    {
        r.errors.push(e.clone());
    }
    r.reconnects += st.rejoin.len() as u64;
    r.recovered += st.recovered;
    r.not_recovered += st.not_recovered;
    r.churned += st.churned;
    for c in &st.closes {
        let key = c.map_or_else(|| "none".to_string(), |c| c.to_string());
        *r.closes.entry(key).or_default() += 1;
    }
    r.high_batches += st.high_batches;
    r.high_gaps += st.chain.gaps;
    r.high_missing += st.chain.missing;
    r.epoch_changes += st.chain.epoch_changes;
}

/// Room index of each viewer in connect order: rooms interleaved in
/// proportion to their sizes, so every room fills during the whole ramp.
pub fn interleave(sizes: &[usize]) -> Vec<usize> {
    // Viewer j of room k sits at (j + 0.5) / size_k of the ramp.
    let mut keyed: Vec<(f64, usize)> = sizes
        .iter()
        .enumerate()
        .flat_map(|(k, &s)| (0..s).map(move |j| ((j as f64 + 0.5) / s as f64, k)))
        .collect();
    keyed.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    keyed.into_iter().map(|(_, k)| k).collect()
}

async fn sample_series(ctx: Arc<Ctx>, mut stop: watch::Receiver<bool>) -> Vec<Second> {
    let mut out = vec![];
    // Align to whole seconds of the traffic clock.
    let next_us = |now: u64| {
        let t0 = ctx.traffic_start_us as i64;
        let s = (now as i64 - t0).div_euclid(1_000_000) + 1;
        (t0 + s * 1_000_000) as u64
    };
    let mut last = (0u64, 0u64, 0u64);
    loop {
        let now = crate::conn::now_micros();
        let wake = next_us(now);
        let sleep = Duration::from_micros(wake.saturating_sub(now));
        let stopped = tokio::select! {
            _ = stop.changed() => true,
            _ = tokio::time::sleep(sleep) => false,
        };
        let cur = (
            ctx.frames.load(Ordering::Relaxed),
            ctx.bytes.load(Ordering::Relaxed),
            ctx.comments.load(Ordering::Relaxed),
        );
        let open = ctx.open.load(Ordering::Relaxed);
        out.push(Second {
            t: ctx.second_of(wake) - 1,
            frames: cur.0 - last.0,
            bytes: cur.1 - last.1,
            comments: cur.2 - last.2,
            open,
            latency: None,
        });
        last = cur;
        emit(&WorkerLine::Progress(Progress {
            worker: ctx.plan.worker,
            connected: ctx.connected.load(Ordering::Relaxed),
            failed: ctx.failed.load(Ordering::Relaxed),
            open,
            frames: cur.0,
            comments: cur.2,
            reconnects: ctx.reconnects.load(Ordering::Relaxed),
            acked: ctx.acked.load(Ordering::Relaxed),
            pairs_live: ctx.pairs_live.load(Ordering::Relaxed),
        }));
        if stopped {
            break;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interleave_keeps_sizes_and_mixes() {
        let order = interleave(&[6, 3, 1]);
        assert_eq!(order.len(), 10);
        for (k, n) in [(0, 6), (1, 3), (2, 1)] {
            assert_eq!(order.iter().filter(|&&r| r == k).count(), n);
        }
        assert!(order[..4].contains(&1));
    }
}
