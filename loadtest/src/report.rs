//! The merged result of a run: built from worker reports, checked against
//! SLO flags, and written as a stdout summary, JSON and Markdown.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use crate::coordinator::Collected;
use crate::costream_report::CostreamSummary;
use crate::hist::{self, Percentiles, new_hist};
use crate::plan::SendCounts;
use crate::procstat::ProcWatch;
use crate::sender::{add_counts, merge_map};

/// Everything a run measured.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Report {
    /// Scenario name.
    pub scenario: String,
    /// Scenario as run.
    pub scenario_toml: String,
    /// Worker processes (and how many did not report).
    pub workers: usize,
    /// Workers that never reported.
    pub missing_workers: usize,
    /// Connections.
    pub connections: Connections,
    /// Comment send → viewer receive.
    pub latency: Percentiles,
    /// High-lane loss from the since/upto chain.
    pub high_lane: HighLane,
    /// Comments sent, acked and received.
    pub low_lane: LowLane,
    /// Likes sent and acked (requests; `taps_*` count the taps they carried).
    pub likes: SendCounts,
    /// Like request → its `ack`.
    #[serde(default)]
    pub like_ack_latency: Percentiles,
    /// Grabs sent and answered (`acked`: accepted; `units`: reserved by
    /// first answers; `retries`: resent keys answered).
    #[serde(default)]
    pub grabs: SendCounts,
    /// Grab request → its answer, accepted or refused.
    #[serde(default)]
    pub grab_ack_latency: Percentiles,
    /// Grabs answered per second of traffic (`duration_s`).
    #[serde(default)]
    pub grabs_answered_per_s: f64,
    /// `shelf` replies received by viewers (`shelf_on_join`), and their bytes.
    #[serde(default)]
    pub shelf: (u64, u64),
    /// Growth of the gateways' resident memory (Σ RSS at the end of the
    /// traffic window − first sample, the first taken before any viewer
    /// connected) per joined viewer, KiB; only for scenarios without senders
    /// and likers.
    #[serde(default)]
    pub gateway_rss_per_viewer_kib: Option<f64>,
    /// Reconnects and resumes.
    pub reconnects: Reconnects,
    /// Receive throughput over the traffic window.
    pub throughput: Throughput,
    /// Gateway and worker processes.
    pub processes: Vec<ProcWatch>,
    /// Whole-machine CPU over the traffic window: compare with the
    /// gateway's and workers' to see how much co-tenants took.
    pub machine_cpu: Option<crate::procstat::MachineCpu>,
    /// Co-stream negotiations (scenarios with a `costream` section).
    #[serde(default)]
    pub costream: Option<CostreamSummary>,
    /// Per-second series.
    pub series: Vec<Point>,
    /// Actions and probes as they happened.
    pub log: Vec<String>,
    /// SLO violations (empty: all met or none set).
    pub violations: Vec<String>,
}

/// Connection outcome.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Connections {
    /// Viewers planned.
    pub planned: u64,
    /// Viewers that joined at least once.
    pub connected: u64,
    /// Viewers that never joined.
    pub never_joined: u64,
    /// Failed attempts, reconnects included.
    pub failed_attempts: u64,
    /// Connect + handshake + join time of first joins.
    pub connect_time: Percentiles,
    /// First error messages.
    pub errors: Vec<String>,
}

/// High-lane loss.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct HighLane {
    /// High batches received by viewers.
    pub batches: u64,
    /// Gaps (a batch whose since is above the last high upto).
    pub gaps: u64,
    /// Offsets inside the gaps.
    pub missing_offsets: u64,
    /// gaps / (batches + gaps): the fraction of high batches lost.
    pub loss: f64,
    /// Batches of another epoch (log reset).
    pub epoch_changes: u64,
    /// Admin probes (switch toggles) that succeeded.
    pub probes: u64,
}

/// Comments.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct LowLane {
    /// Sender counts.
    pub comments: SendCounts,
    /// Comments sent that got neither an `ack` nor an `error`.
    #[serde(default)]
    pub unanswered: u64,
    /// Comment request → its `ack` (the sender's view of the append path).
    #[serde(default)]
    pub ack_latency: Percentiles,
    /// Marked comments received by viewers.
    pub received: u64,
    /// Σ over rooms of comments sent to the room × its viewers.
    pub expected: u64,
    /// received / expected: the low-lane delivery ratio (sampling is expected).
    pub delivery_ratio: f64,
}

/// Reconnects.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Reconnects {
    /// Reconnects that joined again.
    pub count: u64,
    /// Resumes answered `recovered: true`.
    pub recovered: u64,
    /// Resumes answered `recovered: false`.
    pub not_recovered: u64,
    /// Deliberate (churn) reconnects.
    pub churned: u64,
    /// Disconnect → joined again.
    pub time_to_rejoin: Percentiles,
    /// Reconnects that joined again within 10 s of the disconnect.
    pub within_10s: u64,
    /// Closes by code (`none`: no close frame).
    pub closes: BTreeMap<String, u64>,
}

/// Receive rates over the traffic window.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Throughput {
    /// Seconds of the traffic window.
    pub window_s: f64,
    /// Frames received per second.
    pub frames_per_s: f64,
    /// Bytes received per second.
    pub bytes_per_s: f64,
    /// Marked comments delivered to viewers per second.
    pub deliveries_per_s: f64,
    /// Frames over the whole run.
    pub frames_total: u64,
    /// Bytes over the whole run.
    pub bytes_total: u64,
}

/// One second of the run.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Point {
    /// Seconds since the traffic start.
    pub t: i64,
    /// Frames/s.
    pub frames: u64,
    /// Bytes/s.
    pub bytes: u64,
    /// Comment deliveries/s.
    pub deliveries: u64,
    /// Viewers joined.
    pub open: u64,
    /// Latency of sampled viewers this second.
    pub latency: Percentiles,
}

/// SLO thresholds.
#[derive(Debug, Clone, Copy, Default)]
pub struct Slo {
    /// p99 comment latency ceiling, ms.
    pub max_p99_ms: Option<f64>,
    /// High-lane loss ceiling (fraction).
    pub max_loss: Option<f64>,
    /// Every comment sent must be acked (no refusal, no missing reply).
    pub all_acked: bool,
    /// p99 co-stream signal relay latency ceiling, ms.
    pub max_signal_p99_ms: Option<f64>,
    /// Every co-stream pair live and negotiated, every signal accepted and
    /// delivered once, in order.
    pub signals_complete: bool,
}

impl Report {
    /// Merges what the coordinator collected.
    pub fn build(c: Collected, slo: Slo) -> anyhow::Result<Report> {
        let s = &c.scenario;
        let mut conn = Connections::default();
        let (mut latency, mut connect, mut rejoin) = (new_hist(), new_hist(), new_hist());
        let (mut comment_acks, mut like_acks, mut grab_acks) = (new_hist(), new_hist(), new_hist());
        let mut grabs = SendCounts::default();
        let mut shelf = (0u64, 0u64);
        let mut high = HighLane {
            probes: c.probes,
            ..HighLane::default()
        };
        let mut low = LowLane::default();
        let mut likes = SendCounts::default();
        let mut rec = Reconnects::default();
        let mut thr = Throughput::default();
        let mut rooms: BTreeMap<String, u64> = BTreeMap::new();
        let mut series: BTreeMap<i64, (Point, hist::Hist)> = BTreeMap::new();
        for w in &c.workers {
            conn.planned += w.planned;
            conn.connected += w.connected;
            conn.never_joined += w.never_joined;
            conn.failed_attempts += w.failed;
            for e in &w.errors {
                if conn.errors.len() < 8 {
                    conn.errors.push(format!("worker {}: {e}", w.worker));
                }
            }
            hist::merge_encoded(&mut latency, [w.latency_hist.as_str()])?;
            hist::merge_encoded(&mut connect, [w.connect_hist.as_str()])?;
            hist::merge_encoded(&mut rejoin, [w.rejoin_hist.as_str()])?;
            // Workers of older builds do not send the ack histograms.
            if !w.comment_ack_hist.is_empty() {
                hist::merge_encoded(&mut comment_acks, [w.comment_ack_hist.as_str()])?;
            }
            if !w.like_ack_hist.is_empty() {
                hist::merge_encoded(&mut like_acks, [w.like_ack_hist.as_str()])?;
            }
            if !w.grab_ack_hist.is_empty() {
                hist::merge_encoded(&mut grab_acks, [w.grab_ack_hist.as_str()])?;
            }
            add_counts(&mut grabs, &w.grabs_sent);
            shelf.0 += w.shelf_replies;
            shelf.1 += w.shelf_bytes;
            high.batches += w.high_batches;
            high.gaps += w.high_gaps;
            high.missing_offsets += w.high_missing;
            high.epoch_changes += w.epoch_changes;
            add_counts(&mut low.comments, &w.comments_sent);
            add_counts(&mut likes, &w.likes_sent);
            low.received += w.comments;
            for (room, rc) in &w.rooms {
                *rooms.entry(room.clone()).or_default() += rc.viewers;
            }
            rec.count += w.reconnects;
            rec.recovered += w.recovered;
            rec.not_recovered += w.not_recovered;
            rec.churned += w.churned;
            merge_map(&mut rec.closes, &w.closes);
            thr.frames_total += w.frames;
            thr.bytes_total += w.bytes;
            for sec in &w.series {
                let e = series.entry(sec.t).or_insert_with(|| {
                    (
                        Point {
                            t: sec.t,
                            ..Point::default()
                        },
                        new_hist(),
                    )
                });
                e.0.frames += sec.frames;
                e.0.bytes += sec.bytes;
                e.0.deliveries += sec.comments;
                e.0.open += sec.open;
                if let Some(h) = &sec.latency {
                    hist::merge_encoded(&mut e.1, [h.as_str()])?;
                }
            }
        }
        low.expected = rooms
            .iter()
            .map(|(room, viewers)| low.comments.per_room.get(room).copied().unwrap_or(0) * viewers)
            .sum();
        low.delivery_ratio = ratio(low.received, low.expected);
        low.ack_latency = Percentiles::of(&comment_acks);
        let answered = low.comments.acked + low.comments.refused.values().sum::<u64>();
        low.unanswered = low.comments.sent.saturating_sub(answered);
        let gateways: Vec<&ProcWatch> = c.procs.iter().filter(|p| p.role == "gateway").collect();
        // Senders and likers hold connections too but are not counted in
        // `connected`: the figure is only given without them.
        let only_viewers = s.sender_count() == 0 && s.liker_count() == 0;
        let gateway_rss_per_viewer_kib =
            (only_viewers && !gateways.is_empty() && conn.connected > 0).then(|| {
                let growth: u64 = gateways
                    .iter()
                    .map(|p| {
                        p.rss_traffic_end_kib
                            .unwrap_or(p.rss_peak_kib)
                            .saturating_sub(p.rss_first_kib)
                    })
                    .sum();
                growth as f64 / conn.connected as f64
            });
        high.loss = ratio(high.gaps, high.batches + high.gaps);
        conn.connect_time = Percentiles::of(&connect);
        rec.time_to_rejoin = Percentiles::of(&rejoin);
        rec.within_10s = rejoin.count_between(0, 10_000_000);
        let series: Vec<Point> = series
            .into_values()
            .map(|(mut p, h)| {
                p.latency = Percentiles::of(&h);
                p
            })
            .collect();
        // The traffic window: seconds 0 .. duration (+ the drain's last second).
        let window: Vec<&Point> = series
            .iter()
            .filter(|p| p.t >= 0 && p.t < s.duration_s as i64 + 2)
            .collect();
        thr.window_s = window.len() as f64;
        if thr.window_s > 0.0 {
            thr.frames_per_s = window.iter().map(|p| p.frames).sum::<u64>() as f64 / thr.window_s;
            thr.bytes_per_s = window.iter().map(|p| p.bytes).sum::<u64>() as f64 / thr.window_s;
            thr.deliveries_per_s =
                window.iter().map(|p| p.deliveries).sum::<u64>() as f64 / thr.window_s;
        }
        let latency = Percentiles::of(&latency);
        let mut violations = vec![];
        if let Some(max) = slo.max_p99_ms {
            if latency.count == 0 {
                violations.push(format!("p99 ≤ {max} ms: no latency sample"));
            } else if latency.p99_ms > max {
                violations.push(format!("p99 {:.1} ms > {max} ms", latency.p99_ms));
            }
        }
        if let Some(max) = slo.max_loss
            && high.loss > max
        {
            violations.push(format!(
                "high-lane loss {:.6} > {max} ({} gaps, {} offsets)",
                high.loss, high.gaps, high.missing_offsets
            ));
        }
        if slo.all_acked {
            let lo = &low.comments;
            if lo.acked < lo.sent {
                violations.push(format!(
                    "every comment acked: {} of {} (refused {:?}, {} unanswered)",
                    lo.acked, lo.sent, lo.refused, low.unanswered
                ));
            }
        }
        let costream = CostreamSummary::build(&c.workers, s.costream.as_ref())?;
        if let Some(cs) = &costream {
            violations.extend(cs.violations(slo.max_signal_p99_ms, slo.signals_complete));
        } else if slo.max_signal_p99_ms.is_some() || slo.signals_complete {
            violations.push("co-stream SLO set, but the scenario has no costream section".into());
        }
        if c.missing_workers > 0 {
            violations.push(format!("{} worker(s) did not report", c.missing_workers));
        }
        Ok(Report {
            scenario: s.name.clone(),
            scenario_toml: toml::to_string(s).unwrap_or_default(),
            workers: c.workers.len() + c.missing_workers,
            missing_workers: c.missing_workers,
            connections: conn,
            latency,
            high_lane: high,
            low_lane: low,
            likes,
            like_ack_latency: Percentiles::of(&like_acks),
            grabs_answered_per_s: (grabs.acked + grabs.refused.values().sum::<u64>()) as f64
                / s.duration_s.max(1) as f64,
            grabs,
            grab_ack_latency: Percentiles::of(&grab_acks),
            shelf,
            gateway_rss_per_viewer_kib,
            reconnects: rec,
            throughput: thr,
            processes: c.procs,
            machine_cpu: c.machine_cpu,
            costream,
            series,
            log: c.log,
            violations,
        })
    }

    /// The human summary printed at the end of a run.
    pub fn summary(&self) -> String {
        let mut o = String::new();
        let c = &self.connections;
        let l = &self.latency;
        let _ = writeln!(
            o,
            "scenario {} ({} worker process(es))",
            self.scenario, self.workers
        );
        let _ = writeln!(
            o,
            "connections: {} of {} joined, {} never joined, {} failed attempts; connect p50 {:.1} ms p99 {:.1} ms max {:.1} ms",
            c.connected,
            c.planned,
            c.never_joined,
            c.failed_attempts,
            c.connect_time.p50_ms,
            c.connect_time.p99_ms,
            c.connect_time.max_ms
        );
        for e in &c.errors {
            let _ = writeln!(o, "  error: {e}");
        }
        let _ = writeln!(
            o,
            "latency comment→viewer: p50 {:.1} p90 {:.1} p99 {:.1} p99.9 {:.1} max {:.1} ms (n={})",
            l.p50_ms, l.p90_ms, l.p99_ms, l.p999_ms, l.max_ms, l.count
        );
        let h = &self.high_lane;
        let _ = writeln!(
            o,
            "high lane: {} batches, {} gaps, {} missing offsets, loss {:.6}, {} epoch changes, {} probes",
            h.batches, h.gaps, h.missing_offsets, h.loss, h.epoch_changes, h.probes
        );
        let lo = &self.low_lane;
        let _ = writeln!(
            o,
            "comments: {} sent, {} acked, refused {:?}; {} received by viewers of {} possible: low-lane delivery ratio {:.4}",
            lo.comments.sent,
            lo.comments.acked,
            lo.comments.refused,
            lo.received,
            lo.expected,
            lo.delivery_ratio
        );
        if lo.comments.sent > 0 {
            let a = &lo.ack_latency;
            let _ = writeln!(
                o,
                "comment ack latency: p50 {:.1} p90 {:.1} p99 {:.1} p99.9 {:.1} max {:.1} ms (n={}); {} unanswered",
                a.p50_ms, a.p90_ms, a.p99_ms, a.p999_ms, a.max_ms, a.count, lo.unanswered
            );
        }
        if self.likes.sent > 0 {
            let li = &self.likes;
            let a = &self.like_ack_latency;
            let _ = writeln!(
                o,
                "likes: {} requests sent, {} acked, refused {:?}; {} taps sent, {} acked; ack p50 {:.1} p99 {:.1} max {:.1} ms",
                li.sent,
                li.acked,
                li.refused,
                li.taps_sent,
                li.taps_acked,
                a.p50_ms,
                a.p99_ms,
                a.max_ms
            );
        }
        if self.shelf.0 > 0 {
            let _ = writeln!(
                o,
                "shelf replies: {} received, {} bytes ({:.0} bytes each)",
                self.shelf.0,
                self.shelf.1,
                self.shelf.1 as f64 / self.shelf.0 as f64
            );
        }
        if self.grabs.sent > 0 {
            let g = &self.grabs;
            let a = &self.grab_ack_latency;
            let answered = g.acked + g.refused.values().sum::<u64>();
            let _ = writeln!(
                o,
                "grabs: {} sent, {} answered ({:.0} per second of traffic): {} accepted ({} units reserved), refused {:?}; {} retried keys answered; answer p50 {:.1} p99 {:.1} p99.9 {:.1} max {:.1} ms",
                g.sent,
                answered,
                self.grabs_answered_per_s,
                g.acked,
                g.units,
                g.refused,
                g.retries,
                a.p50_ms,
                a.p99_ms,
                a.p999_ms,
                a.max_ms
            );
        }
        if let Some(cs) = &self.costream {
            cs.write_summary(&mut o);
        }
        let r = &self.reconnects;
        let _ = writeln!(
            o,
            "reconnects: {} ({} recovered, {} not recovered, {} churned); rejoin p50 {:.0} p99 {:.0} max {:.0} ms; closes {:?}",
            r.count,
            r.recovered,
            r.not_recovered,
            r.churned,
            r.time_to_rejoin.p50_ms,
            r.time_to_rejoin.p99_ms,
            r.time_to_rejoin.max_ms,
            r.closes
        );
        let t = &self.throughput;
        let _ = writeln!(
            o,
            "throughput over {:.0} s: {:.0} frames/s, {:.2} MB/s, {:.0} comment deliveries/s",
            t.window_s,
            t.frames_per_s,
            t.bytes_per_s / 1e6,
            t.deliveries_per_s
        );
        for p in &self.processes {
            let _ = writeln!(
                o,
                "{} pid {}: RSS {} → {} KiB (peak {}), CPU {:.0}% of a core over the run, {} over the traffic window{}",
                p.role,
                p.pid,
                p.rss_first_kib,
                p.rss_last_kib,
                p.rss_peak_kib,
                p.cpu_pct,
                p.cpu_pct_traffic
                    .map_or("-".to_string(), |c| format!("{c:.0}%")),
                if p.exited { " (exited)" } else { "" }
            );
        }
        if let Some(r) = self.gateway_rss_per_viewer_kib {
            let _ = writeln!(
                o,
                "gateway RSS growth (end of traffic − first sample) per joined viewer: {r:.2} KiB"
            );
        }
        if let Some(m) = &self.machine_cpu {
            let ours: f64 = self
                .processes
                .iter()
                .filter_map(|p| p.cpu_pct_traffic)
                .sum();
            let _ = writeln!(
                o,
                "machine CPU busy over the traffic window: {:.0}% (of {}%); gateways + workers {:.0}%, everything else {:.0}%",
                m.busy_pct,
                m.cores * 100,
                ours,
                (m.busy_pct - ours).max(0.0)
            );
        }
        for e in &self.log {
            let _ = writeln!(o, "action {e}");
        }
        if self.violations.is_empty() {
            let _ = writeln!(o, "SLO: met (or none set)");
        } else {
            for v in &self.violations {
                let _ = writeln!(o, "SLO VIOLATED: {v}");
            }
        }
        o
    }

    /// The Markdown report.
    pub fn markdown(&self) -> String {
        let mut o = String::new();
        let _ = writeln!(o, "# Load test: {}\n", self.scenario);
        let _ = writeln!(o, "```text\n{}```\n", self.summary());
        let _ = writeln!(o, "## Latency (comment send → viewer receive)\n");
        let _ = writeln!(
            o,
            "| p50 | p90 | p99 | p99.9 | max | samples |\n|---|---|---|---|---|---|"
        );
        let l = &self.latency;
        let _ = writeln!(
            o,
            "| {:.1} ms | {:.1} ms | {:.1} ms | {:.1} ms | {:.1} ms | {} |\n",
            l.p50_ms, l.p90_ms, l.p99_ms, l.p999_ms, l.max_ms, l.count
        );
        if let Some(cs) = &self.costream {
            cs.write_markdown(&mut o);
        }
        let _ = writeln!(
            o,
            "## Processes\n\n| role | pid | RSS first | RSS peak | RSS last | CPU run (% of a core) | CPU traffic window |\n|---|---|---|---|---|---|---|"
        );
        for p in &self.processes {
            let _ = writeln!(
                o,
                "| {} | {} | {} KiB | {} KiB | {} KiB | {:.0} | {} |",
                p.role,
                p.pid,
                p.rss_first_kib,
                p.rss_peak_kib,
                p.rss_last_kib,
                p.cpu_pct,
                p.cpu_pct_traffic
                    .map_or("-".to_string(), |c| format!("{c:.0}"))
            );
        }
        let _ = writeln!(
            o,
            "\n## Per second\n\n| t (s) | open | frames/s | MB/s | deliveries/s | p50 ms | p99 ms |\n|---|---|---|---|---|---|---|"
        );
        for p in &self.series {
            let _ = writeln!(
                o,
                "| {} | {} | {} | {:.2} | {} | {:.1} | {:.1} |",
                p.t,
                p.open,
                p.frames,
                p.bytes as f64 / 1e6,
                p.deliveries,
                p.latency.p50_ms,
                p.latency.p99_ms
            );
        }
        let _ = writeln!(o, "\n## Scenario\n\n```toml\n{}```", self.scenario_toml);
        o
    }
}

fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 { 0.0 } else { a as f64 / b as f64 }
}
