//! Prometheus metrics of a node, exported as text at `/metrics`.

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use crate::hub::fanout::Delivered;

/// Labels of per-type counters.
pub type Labels = Vec<(&'static str, &'static str)>;

/// Every metric of a node.
pub struct Metrics {
    registry: Registry,
    /// Open WebSocket connections.
    pub connections: Gauge,
    /// Rooms with a hub on this node.
    pub rooms: Gauge,
    /// Client requests by type.
    pub requests: Family<Labels, Counter>,
    /// Rejections by error code.
    pub rejections: Family<Labels, Counter>,
    /// Closes by close code.
    pub closes: Family<Labels, Counter>,
    /// Frames queued to sessions.
    pub frames_queued: Counter,
    /// Room frames the hub wrote straight to a session's socket.
    pub frames_written_direct: Counter,
    /// Low-priority frames dropped for full session queues.
    pub low_dropped: Counter,
    /// Offsets skipped because the log lost them before a hub saw them.
    pub gap_skipped: Counter,
    /// Times the bus connection dropped.
    pub bus_disconnects: Counter,
    /// Events a hub fetched from the log because the bus had not brought
    /// them a tick after they were known to exist (0 on a healthy node).
    pub gap_filled: Counter,
    /// Resumes by where their replay came from (`hub` memory or the `log`).
    pub resumes: Family<Labels, Counter>,
    /// Join snapshots by where they came from (`hub` memory or the `store`).
    pub snapshots: Family<Labels, Counter>,
    /// Store calls that appended a batch of comments.
    pub append_batches: Counter,
    /// Comments those batches logged.
    pub appended_comments: Counter,
    /// Room hub tasks that panicked (each was replaced; its sessions closed with 4003).
    pub hub_panics: Counter,
    /// Messages dropped because a bounded queue was full, by `queue`.
    pub queue_full: Family<Labels, Counter>,
    /// Times the store was found emptied (lost its data epoch).
    pub store_resets: Counter,
    /// Webhook jobs this node queued (one per event and endpoint).
    pub webhooks_queued: Counter,
    /// Webhook attempts this node made, by `outcome`.
    pub webhook_attempts: Family<Labels, Counter>,
    /// 1 while the node drains (not ready, closing its sessions), else 0.
    pub draining: Gauge,
    /// Round trip of the store's `PING`, once per presence interval.
    pub store_ping_seconds: Histogram,
    /// Store pings that failed or took over a second.
    pub store_ping_errors: Counter,
    /// Per tick that fans out events: how long the oldest of them waited
    /// between its timestamp and its fan-out (bus, reorder, gap fills).
    pub hub_lag_seconds: Histogram,
}

/// Buckets of the latency histograms, in seconds: 0.5 ms to 10 s.
const LATENCY_BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    /// Registers every metric.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("gateway");
        let m = Metrics {
            connections: Gauge::default(),
            rooms: Gauge::default(),
            requests: Family::default(),
            rejections: Family::default(),
            closes: Family::default(),
            frames_queued: Counter::default(),
            frames_written_direct: Counter::default(),
            low_dropped: Counter::default(),
            gap_skipped: Counter::default(),
            bus_disconnects: Counter::default(),
            gap_filled: Counter::default(),
            resumes: Family::default(),
            snapshots: Family::default(),
            append_batches: Counter::default(),
            appended_comments: Counter::default(),
            hub_panics: Counter::default(),
            queue_full: Family::default(),
            store_resets: Counter::default(),
            webhooks_queued: Counter::default(),
            webhook_attempts: Family::default(),
            draining: Gauge::default(),
            store_ping_seconds: Histogram::new(LATENCY_BUCKETS),
            store_ping_errors: Counter::default(),
            hub_lag_seconds: Histogram::new(LATENCY_BUCKETS),
            registry: Registry::default(),
        };
        // name, help => field: the field's value is shared with the registry.
        macro_rules! register {
            ($($name:literal, $help:literal => $field:ident;)*) => {
                $(registry.register($name, $help, m.$field.clone());)*
            };
        }
        register! {
            "connections", "Open WebSocket connections" => connections;
            "rooms", "Rooms with local viewers" => rooms;
            "requests", "Client requests by type" => requests;
            "rejections", "Rejected requests by code" => rejections;
            "closes", "Connections closed by close code" => closes;
            "frames_queued", "Frames queued to sessions" => frames_queued;
            "frames_written_direct", "Room frames written by the hub straight to the socket (also in frames_queued)" => frames_written_direct;
            "low_dropped", "Low-priority frames dropped for full queues" => low_dropped;
            "gap_skipped", "Room offsets skipped because the log lost them" => gap_skipped;
            "bus_disconnects", "Times the bus connection dropped" => bus_disconnects;
            "gap_filled", "Events fetched from the log because the bus had not brought them a tick after they were known to exist" => gap_filled;
            "resumes", "Resumes by where the replay came from (hub memory or the log)" => resumes;
            "snapshots", "Join snapshots by where they came from (hub memory or the store)" => snapshots;
            "append_batches", "Store calls that appended one tick's comments of a room" => append_batches;
            "appended_comments", "Comments logged by those batches" => appended_comments;
            "hub_panics", "Room hub tasks that panicked and were replaced" => hub_panics;
            "queue_full", "Messages dropped because a bounded queue was full" => queue_full;
            "store_resets", "Times the store was found to have lost its data" => store_resets;
            "webhooks_queued", "Webhook jobs queued (one per event and endpoint)" => webhooks_queued;
            "webhook_attempts", "Webhook attempts by outcome (delivered, retry, dead)" => webhook_attempts;
            "draining", "1 while the node drains after SIGTERM (not ready, closing its sessions)" => draining;
            "store_ping_seconds", "Round trip of the store's PING, once per presence interval" => store_ping_seconds;
            "store_ping_errors", "Store pings that failed or took over a second" => store_ping_errors;
            "hub_lag_seconds", "Per fan-out tick with events: age of its oldest event (timestamp to fan-out)" => hub_lag_seconds;
        }
        m.create_known_labels();
        Metrics { registry, ..m }
    }

    /// Creates the labelled counters whose label values are known up front
    /// (every rejection code, every snapshot and resume source), so
    /// `/metrics` shows them at zero before their first event and a
    /// dashboard's rate() has a series from the start.
    fn create_known_labels(&self) {
        for code in protocol::ErrorCode::ALL {
            let _ = self
                .rejections
                .get_or_create(&vec![("code", code.as_str())]);
        }
        for source in ["hub", "store"] {
            let _ = self.snapshots.get_or_create(&vec![("source", source)]);
        }
        for source in ["hub", "log"] {
            let _ = self.resumes.get_or_create(&vec![("source", source)]);
        }
        for outcome in ["delivered", "retry", "dead"] {
            let _ = self
                .webhook_attempts
                .get_or_create(&vec![("outcome", outcome)]);
        }
    }

    /// Counts one tick's delivery.
    pub fn record_delivery(&self, d: &Delivered) {
        self.frames_queued.inc_by(d.queued);
        self.frames_written_direct.inc_by(d.written);
        self.low_dropped.inc_by(d.dropped_low);
    }

    /// The text exposition format.
    pub fn render(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = encode(&mut out, &self.registry);
        out
    }
}
