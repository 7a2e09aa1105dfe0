//! The co-stream part of a report: the workers' negotiation counts and
//! histograms merged, its summary and Markdown lines, and its SLO checks
//! (`--max-signal-p99-ms`, `--require-signals-complete`).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use crate::hist::{self, Percentiles, new_hist};
use crate::plan::{CostreamCounts, WorkerReport};
use crate::worker::add_costream;

/// The negotiations of a run.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct CostreamSummary {
    /// Pairs planned.
    pub pairs: u64,
    /// Pairs whose co-stream went live before the traffic start.
    pub live: u64,
    /// Pairs whose negotiation completed (every signal answered, both
    /// `end_of_candidates` in).
    pub negotiated: u64,
    /// Signals each party sends.
    pub signals_per_party: u64,
    /// Signals the live pairs were to send (2 × per party × live).
    pub expected: u64,
    /// `signal` requests written.
    pub sent: u64,
    /// Acked by the gateway.
    pub acked: u64,
    /// Refused, by code.
    pub refused: BTreeMap<String, u64>,
    /// Signal events received by the other party.
    pub received: u64,
    /// Acked but never received.
    pub lost: u64,
    /// Received out of order or twice (`seq` or embedded index not above
    /// the last one).
    pub reordered: u64,
    /// `seq` numbers skipped.
    pub gaps: u64,
    /// Events of another session, sender or payload.
    pub misrouted: u64,
    /// Mean SDP size sent, bytes.
    pub sdp_bytes_mean: f64,
    /// Mean candidate size sent, bytes.
    pub candidate_bytes_mean: f64,
    /// Relay latency of a signal (send → the other party's receipt).
    pub latency: Percentiles,
    /// Connect → co-stream live, per pair.
    pub setup: Percentiles,
    /// First offer sent → both parties' last signal received, per pair.
    pub negotiation: Percentiles,
    /// First errors.
    pub errors: Vec<String>,
}

impl CostreamSummary {
    /// Merges the workers' negotiations; `None` when the scenario has none.
    pub fn build(
        workers: &[WorkerReport],
        c: Option<&crate::scenario::Costream>,
    ) -> anyhow::Result<Option<CostreamSummary>> {
        let Some(c) = c else { return Ok(None) };
        let mut all = CostreamCounts::default();
        let (mut latency, mut setup, mut negotiation) = (new_hist(), new_hist(), new_hist());
        for w in workers {
            let k = &w.costream;
            add_costream(&mut all, k);
            for (h, s) in [
                (&mut latency, &k.latency_hist),
                (&mut setup, &k.setup_hist),
                (&mut negotiation, &k.negotiation_hist),
            ] {
                if !s.is_empty() {
                    hist::merge_encoded(h, [s.as_str()])?;
                }
            }
        }
        let per_party = u64::from(c.signals_per_party());
        let mean = |bytes: u64, n: u64| if n == 0 { 0.0 } else { bytes as f64 / n as f64 };
        let candidates = 2 * u64::from(c.candidates) * all.live;
        Ok(Some(CostreamSummary {
            pairs: all.pairs,
            live: all.live,
            negotiated: all.negotiated,
            signals_per_party: per_party,
            expected: 2 * per_party * all.live,
            sent: all.sent,
            acked: all.acked,
            refused: all.refused,
            received: all.received,
            lost: all.lost,
            reordered: all.reordered,
            gaps: all.gaps,
            misrouted: all.misrouted,
            sdp_bytes_mean: mean(all.sdp_bytes, 2 * all.live),
            candidate_bytes_mean: mean(all.candidate_bytes, candidates),
            latency: Percentiles::of(&latency),
            setup: Percentiles::of(&setup),
            negotiation: Percentiles::of(&negotiation),
            errors: all.errors,
        }))
    }

    /// Violations of the co-stream SLO flags.
    pub fn violations(&self, max_p99_ms: Option<f64>, complete: bool) -> Vec<String> {
        let mut v = vec![];
        if let Some(max) = max_p99_ms {
            if self.latency.count == 0 {
                v.push(format!("signal p99 ≤ {max} ms: no signal received"));
            } else if self.latency.p99_ms > max {
                v.push(format!(
                    "signal relay p99 {:.1} ms > {max} ms",
                    self.latency.p99_ms
                ));
            }
        }
        if complete
            && (self.live < self.pairs
                || self.negotiated < self.pairs
                || self.sent < self.expected
                || self.acked < self.sent
                || self.received < self.acked
                || self.lost + self.reordered + self.gaps + self.misrouted > 0)
        {
            v.push(format!(
                "every signal delivered once, in order: {} of {} pairs live, {} negotiated; {} expected, {} sent, {} acked, refused {:?}, {} received, {} lost, {} reordered, {} gaps, {} misrouted",
                self.live,
                self.pairs,
                self.negotiated,
                self.expected,
                self.sent,
                self.acked,
                self.refused,
                self.received,
                self.lost,
                self.reordered,
                self.gaps,
                self.misrouted
            ));
        }
        v
    }

    /// The summary's lines.
    pub fn write_summary(&self, o: &mut String) {
        let _ = writeln!(
            o,
            "co-stream: {} of {} pairs live, {} negotiated; setup p50 {:.0} p99 {:.0} max {:.0} ms",
            self.live,
            self.pairs,
            self.negotiated,
            self.setup.p50_ms,
            self.setup.p99_ms,
            self.setup.max_ms
        );
        let _ = writeln!(
            o,
            "signals: {} expected, {} sent, {} acked, refused {:?}; {} received, {} lost, {} reordered, {} gaps, {} misrouted; SDP {:.0} bytes, candidate {:.0} bytes",
            self.expected,
            self.sent,
            self.acked,
            self.refused,
            self.received,
            self.lost,
            self.reordered,
            self.gaps,
            self.misrouted,
            self.sdp_bytes_mean,
            self.candidate_bytes_mean
        );
        let l = &self.latency;
        let _ = writeln!(
            o,
            "signal relay latency: p50 {:.1} p90 {:.1} p99 {:.1} p99.9 {:.1} max {:.1} ms (n={})",
            l.p50_ms, l.p90_ms, l.p99_ms, l.p999_ms, l.max_ms, l.count
        );
        let n = &self.negotiation;
        let _ = writeln!(
            o,
            "negotiation (offer sent → both sides' last signal in): p50 {:.1} p99 {:.1} max {:.1} ms (n={})",
            n.p50_ms, n.p99_ms, n.max_ms, n.count
        );
        for e in &self.errors {
            let _ = writeln!(o, "  co-stream error: {e}");
        }
    }

    /// The Markdown section.
    pub fn write_markdown(&self, o: &mut String) {
        let _ = writeln!(
            o,
            "## Co-stream signalling (send → the other party's receipt)\n\n| what | p50 | p90 | p99 | p99.9 | max | samples |\n|---|---|---|---|---|---|---|"
        );
        for (name, p) in [
            ("signal relay", &self.latency),
            ("negotiation", &self.negotiation),
            ("setup to live", &self.setup),
        ] {
            let _ = writeln!(
                o,
                "| {name} | {:.1} ms | {:.1} ms | {:.1} ms | {:.1} ms | {:.1} ms | {} |",
                p.p50_ms, p.p90_ms, p.p99_ms, p.p999_ms, p.max_ms, p.count
            );
        }
        let _ = writeln!(o);
    }
}
