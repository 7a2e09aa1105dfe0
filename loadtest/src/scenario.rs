//! Scenario files: what an SRE writes in TOML (targets, rooms, viewers,
//! rates, churn, actions), their validation, the loopback guard, and the
//! room-size distribution.

use std::net::{IpAddr, ToSocketAddrs};

use anyhow::{Context, bail, ensure};
use serde::{Deserialize, Serialize};

use crate::wire::Wire;

/// Hard ceilings: every run is bounded in time and count.
pub const MAX_DURATION_S: u64 = 3600;
/// Most viewers one scenario may open.
pub const MAX_VIEWERS: usize = 1_000_000;

/// A load scenario, as read from TOML.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Scenario name, used in report titles and file names.
    #[serde(default = "default_name")]
    pub name: String,
    /// WebSocket URLs of the gateway nodes (`ws://127.0.0.1:8080/ws`).
    pub targets: Vec<String>,
    /// Admin API of the cluster; default: the first target's host as `http://`.
    #[serde(default)]
    pub admin_url: Option<String>,
    /// Admin bearer key (or `LOADTEST_ADMIN_KEY`); without it rooms must exist
    /// and no senders or likers can be signed in.
    #[serde(default)]
    pub admin_key: Option<String>,
    /// Rooms and how viewers spread over them.
    #[serde(default)]
    pub rooms: Rooms,
    /// Viewer connections in total.
    pub viewers: usize,
    /// New viewer connections per second, over all workers.
    #[serde(default = "default_ramp")]
    pub ramp_per_s: f64,
    /// Seconds of traffic after the ramp (comments, likes, churn).
    pub duration_s: u64,
    /// Comments per second in total (each carries its send time).
    #[serde(default)]
    pub comment_rate: f64,
    /// Comment sender connections (each its own user); 0: one per comment/s.
    #[serde(default)]
    pub senders: usize,
    /// Like requests per second in total.
    #[serde(default)]
    pub like_rate: f64,
    /// Taps per like request (`{"type":"like","count":N}`, 1..=100, the
    /// protocol's `max_like_count`): like taps per second are
    /// `like_rate` × `like_count`.
    #[serde(default = "one_tap")]
    pub like_count: u32,
    /// Like connections (each its own user); 0: one per 10 like requests/s.
    /// The gateway allows 20 requests/s per connection by default.
    #[serde(default)]
    pub likers: usize,
    /// Grab requests per second in total, at one item (`lt-goods`) in the
    /// first room, which the coordinator puts on the shelf with
    /// `grab_quota` units (one per order). Accepted and refused grabs both
    /// count as answered.
    #[serde(default)]
    pub grab_rate: f64,
    /// Grab connections (each its own user); 0: one per 15 grabs/s.
    #[serde(default)]
    pub grabbers: usize,
    /// Units of the grab item.
    #[serde(default = "default_grab_quota")]
    pub grab_quota: u32,
    /// Percent of grabs that resend an earlier key of the same connection
    /// (a retry; answered from the key).
    #[serde(default)]
    pub grab_retry_percent: u32,
    /// Each viewer asks for the room's goods shelf (`{"type":"shelf"}`)
    /// right after each join; the report counts the replies and their bytes.
    #[serde(default)]
    pub shelf_on_join: bool,
    /// Goods items the coordinator puts on the first room's shelf before
    /// the viewers connect (`lt-item-<n>`), for `shelf_on_join`; 0..=200.
    #[serde(default)]
    pub shelf_goods: u32,
    /// The measured window (process CPU and the `--on-window-*` hooks)
    /// starts with the ramp instead of the traffic: for a join storm.
    #[serde(default)]
    pub measure_ramp: bool,
    /// Viewers per second that drop their connection and reconnect with resume.
    #[serde(default)]
    pub churn_per_s: f64,
    /// Codec of the viewers.
    #[serde(default)]
    pub codec: CodecChoice,
    /// Percent of the viewers (every `100 / p`-th by index) that speak
    /// postcard while the rest speak `codec` (which must then be `json`);
    /// 0: all speak `codec`.
    #[serde(default)]
    pub binary_percent: u8,
    /// Viewers sign in: each worker mints an HS256 token per viewer
    /// (`lt-viewer-<index>`) with this secret, the gateway's
    /// `token_secret` (or `LOADTEST_VIEWER_TOKEN_SECRET`); absent: the
    /// viewers are anonymous.
    #[serde(default)]
    pub viewer_token_secret: Option<String>,
    /// Framing of every connection: `gateway` (default, the gateway's own
    /// WebSocket protocol) or `socketio` (the comparison peer in
    /// `benches/peers/socketio`: the same JSON frames as Socket.IO v4 `frame`
    /// events, dialed at `/socket.io/?EIO=4&transport=websocket` on the
    /// targets' host:port; JSON codec only).
    #[serde(default)]
    pub wire: Wire,
    /// Targets the viewers connect to first: `spread` round-robin, or the
    /// index of one node (the others take reconnects).
    #[serde(default)]
    pub placement: Placement,
    /// Source addresses 127.0.0.2.. (0: one per 20,000 connections, at least 2).
    #[serde(default)]
    pub source_ips: u8,
    /// Connections per worker process (the per-process file limit is ~20,000).
    #[serde(default = "default_per_worker")]
    pub per_worker: usize,
    /// Handshakes in flight per worker.
    #[serde(default = "default_concurrency")]
    pub connect_concurrency: usize,
    /// Timed actions (anchor pause/resume, switch toggles, node kills).
    #[serde(default)]
    pub actions: Vec<Action>,
    /// High-lane probes: admin switch toggles per second (0: none), so the
    /// high lane carries traffic whose loss the since/upto chain can detect.
    #[serde(default)]
    pub high_probe_per_s: f64,
    /// Local gateway pids to sample for RSS and CPU.
    #[serde(default)]
    pub gateway_pids: Vec<u32>,
    /// Co-stream negotiations (连麦 signalling): absent, none.
    #[serde(default)]
    pub costream: Option<Costream>,
}

/// Co-stream negotiations: `pairs` rooms, each with an anchor and a
/// real-name guest on two different nodes, that go live during the ramp
/// and, all at once when the traffic starts, run one WebRTC signalling
/// exchange through the gateway's `signal` relay (offer, answer, trickled
/// candidates, end of candidates each way).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Costream {
    /// Rooms, one negotiation each (`<prefix>-0`, ...; anchor
    /// `lt-cs-anchor-<k>`, guest `lt-cs-guest-<k>`).
    pub pairs: usize,
    /// Prefix of the co-stream rooms' ids.
    #[serde(default = "default_costream_prefix")]
    pub prefix: String,
    /// ICE candidates each party trickles after its SDP.
    #[serde(default = "default_candidates")]
    pub candidates: u32,
    /// Size of the offer's and the answer's SDP, in bytes.
    #[serde(default = "default_sdp_bytes")]
    pub sdp_bytes: usize,
    /// Size of each candidate line, in bytes.
    #[serde(default = "default_candidate_bytes")]
    pub candidate_bytes: usize,
    /// Milliseconds between two messages of one party (20: 50 per second,
    /// the gateway's default `costream_signal_rate`).
    #[serde(default = "default_pace_ms")]
    pub pace_ms: u64,
    /// Seconds added to the ramp for connecting the pairs and taking
    /// every co-stream live before the negotiations start.
    #[serde(default = "default_setup_s")]
    pub setup_s: u64,
}

/// Most signalling messages one party sends in a negotiation: the burst of
/// the gateway's default `costream_signal_rate` (50).
pub const MAX_SIGNALS_PER_PARTY: u32 = 50;

fn default_costream_prefix() -> String {
    "cs".into()
}
fn default_candidates() -> u32 {
    10
}
fn default_sdp_bytes() -> usize {
    4096
}
fn default_candidate_bytes() -> usize {
    200
}
fn default_pace_ms() -> u64 {
    20
}
fn default_setup_s() -> u64 {
    10
}

impl Costream {
    /// Signalling messages each party sends: its SDP, its candidates and
    /// one `end_of_candidates`.
    pub fn signals_per_party(&self) -> u32 {
        self.candidates + 2
    }

    /// Room id of pair `k`.
    pub fn room_id(&self, k: usize) -> String {
        format!("{}-{k}", self.prefix)
    }

    /// Anchor user of pair `k`.
    pub fn anchor(k: usize) -> String {
        format!("lt-cs-anchor-{k}")
    }

    /// Guest user of pair `k`.
    pub fn guest(k: usize) -> String {
        format!("lt-cs-guest-{k}")
    }

    /// Checks the section's bounds.
    pub fn validate(&self) -> anyhow::Result<()> {
        ensure!(
            (1..=10_000).contains(&self.pairs),
            "costream.pairs: 1..=10000"
        );
        ensure!(
            self.signals_per_party() <= MAX_SIGNALS_PER_PARTY,
            "costream.candidates: at most {} (a party's SDP, candidates and end_of_candidates stay within the gateway's signal burst of {MAX_SIGNALS_PER_PARTY})",
            MAX_SIGNALS_PER_PARTY - 2
        );
        ensure!(
            (512..=16_000).contains(&self.sdp_bytes),
            "costream.sdp_bytes: 512..=16000 (the gateway's costream_max_sdp_bytes is 16384)"
        );
        ensure!(
            (64..=1000).contains(&self.candidate_bytes),
            "costream.candidate_bytes: 64..=1000 (the gateway's costream_max_candidate_bytes is 1024)"
        );
        ensure!(self.pace_ms <= 1000, "costream.pace_ms: 0..=1000");
        ensure!(
            (1..=120).contains(&self.setup_s),
            "costream.setup_s: 1..=120"
        );
        ensure!(
            !self.prefix.is_empty() && self.prefix.len() <= 32,
            "costream.prefix: 1 to 32 characters"
        );
        Ok(())
    }
}

fn one_tap() -> u32 {
    1
}

fn default_grab_quota() -> u32 {
    1000
}
fn default_name() -> String {
    "scenario".into()
}
fn default_ramp() -> f64 {
    2000.0
}
fn default_per_worker() -> usize {
    18_000
}
fn default_concurrency() -> usize {
    256
}

/// Room layout.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rooms {
    /// Prefix of room ids: `<prefix>-0`, `<prefix>-1`…
    #[serde(default = "default_prefix")]
    pub prefix: String,
    /// Number of rooms (1: one hot room).
    #[serde(default = "one")]
    pub count: usize,
    /// Zipf exponent of room sizes: room k gets viewers ∝ 1/(k+1)^s.
    #[serde(default = "default_zipf")]
    pub zipf_s: f64,
    /// Create and start the rooms through the admin API.
    #[serde(default = "yes")]
    pub create: bool,
}

impl Default for Rooms {
    fn default() -> Self {
        Rooms {
            prefix: default_prefix(),
            count: 1,
            zipf_s: default_zipf(),
            create: true,
        }
    }
}

fn default_prefix() -> String {
    "load".into()
}
fn one() -> usize {
    1
}
fn default_zipf() -> f64 {
    1.0
}
fn yes() -> bool {
    true
}

/// Viewer codec.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CodecChoice {
    /// `live.json.v1`.
    #[default]
    Json,
    /// `live.postcard.v1`.
    Binary,
}

impl CodecChoice {
    /// The protocol crate's codec.
    pub fn codec(self) -> protocol::Codec {
        match self {
            CodecChoice::Json => protocol::Codec::Json,
            CodecChoice::Binary => protocol::Codec::Binary,
        }
    }
}

/// Where viewers connect first.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Placement {
    /// Round-robin over the targets.
    #[default]
    Spread,
    /// All on one target (index); reconnects go to the next one.
    Node(usize),
}

/// A timed action run by the coordinator.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Action {
    /// Seconds after the traffic phase started.
    pub at_s: f64,
    /// What to do.
    pub action: ActionKind,
    /// Room index (for live actions); default 0.
    #[serde(default)]
    pub room: usize,
    /// Node index (for kills): the pid at that index of the gateway pids.
    #[serde(default)]
    pub node: usize,
}

/// Actions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionKind {
    /// Anchor pause (admin `POST /api/rooms/{id}/live`).
    Pause,
    /// Anchor resume.
    Resume,
    /// SIGKILL a local gateway.
    Kill,
    /// SIGTERM a local gateway (it drains with close 4000).
    Term,
}

impl Scenario {
    /// Parses and validates a scenario.
    pub fn parse(text: &str) -> anyhow::Result<Scenario> {
        let s: Scenario = toml::from_str(text).context("scenario TOML")?;
        s.validate()?;
        Ok(s)
    }

    /// Checks bounds and consistency (not the loopback guard: see [`guard_targets`]).
    pub fn validate(&self) -> anyhow::Result<()> {
        ensure!(!self.targets.is_empty(), "targets: at least one URL");
        for t in &self.targets {
            ensure!(
                t.starts_with("ws://") || t.starts_with("wss://"),
                "target {t}: not a ws:// URL"
            );
        }
        ensure!(
            self.viewers <= MAX_VIEWERS,
            "viewers: at most {MAX_VIEWERS}"
        );
        ensure!(
            self.duration_s >= 1 && self.duration_s <= MAX_DURATION_S,
            "duration_s: 1..={MAX_DURATION_S}"
        );
        ensure!(self.ramp_per_s > 0.0, "ramp_per_s must be positive");
        ensure!(self.rooms.count >= 1, "rooms.count: at least 1");
        ensure!(self.rooms.count <= 100_000, "rooms.count: at most 100000");
        ensure!(
            self.comment_rate >= 0.0 && self.comment_rate <= 100_000.0,
            "comment_rate: 0..=100000"
        );
        ensure!(
            self.like_rate >= 0.0 && self.like_rate <= 100_000.0,
            "like_rate: 0..=100000"
        );
        let max_taps = protocol::Limits::default().max_like_count;
        ensure!(
            (1..=max_taps).contains(&self.like_count),
            "like_count: 1..={max_taps} taps per like request"
        );
        ensure!(self.binary_percent <= 100, "binary_percent: 0..=100");
        ensure!(
            self.binary_percent == 0
                || (self.codec == CodecChoice::Json && self.wire == Wire::Gateway),
            "binary_percent mixes postcard into JSON viewers: needs codec = \"json\" and wire = \"gateway\""
        );
        ensure!(self.churn_per_s >= 0.0, "churn_per_s must not be negative");
        ensure!(
            (1..=19_000).contains(&self.per_worker),
            "per_worker: 1..=19000"
        );
        ensure!(
            self.wire == Wire::Gateway || self.codec == CodecChoice::Json,
            "wire = \"socketio\" carries JSON frames only: set codec = \"json\" (or leave codec out)"
        );
        if let Placement::Node(i) = self.placement {
            ensure!(
                i < self.targets.len(),
                "placement: node {i} is not a target"
            );
        }
        for a in &self.actions {
            ensure!(a.at_s >= 0.0, "action at_s must not be negative");
            ensure!(
                a.room < self.rooms.count,
                "action room {} out of range",
                a.room
            );
        }
        ensure!(
            self.grab_rate >= 0.0 && self.grab_rate <= 200_000.0,
            "grab_rate: 0..=200000"
        );
        ensure!(self.grab_retry_percent <= 50, "grab_retry_percent: 0..=50");
        ensure!(self.shelf_goods <= 200, "shelf_goods: 0..=200");
        if let Some(c) = &self.costream {
            c.validate()?;
            ensure!(
                self.admin_key.is_some(),
                "costream needs admin_key (to create the rooms and mint the parties' tokens)"
            );
            ensure!(
                self.wire == Wire::Gateway,
                "costream needs wire = \"gateway\""
            );
        }
        if self.comment_rate > 0.0 || self.like_rate > 0.0 || self.grab_rate > 0.0 {
            ensure!(
                self.admin_key.is_some(),
                "comments and likes need admin_key (to mint sender tokens)"
            );
        }
        Ok(())
    }

    /// Sender connections used.
    pub fn sender_count(&self) -> usize {
        if self.comment_rate <= 0.0 {
            0
        } else if self.senders > 0 {
            self.senders
        } else {
            self.comment_rate.ceil().max(1.0) as usize
        }
    }

    /// Liker connections used (default: each at most 10 like requests/s).
    pub fn liker_count(&self) -> usize {
        if self.like_rate <= 0.0 {
            0
        } else if self.likers > 0 {
            self.likers
        } else {
            (self.like_rate / 10.0).ceil().max(1.0) as usize
        }
    }

    /// Grab connections used (default: each at most 15 grabs/s).
    pub fn grabber_count(&self) -> usize {
        if self.grab_rate <= 0.0 {
            0
        } else if self.grabbers > 0 {
            self.grabbers
        } else {
            (self.grab_rate / 15.0).ceil().max(1.0) as usize
        }
    }

    /// Like taps per second in total.
    pub fn like_taps_per_s(&self) -> f64 {
        self.like_rate * f64::from(self.like_count)
    }

    /// Parses a scenario with `key=value` overrides applied first (`--set`):
    /// `key` is a top-level key or a dotted path (`rooms.count`), `value` is
    /// TOML (`10`, `1.5`, `"x"`, `["ws://…"]`), or else taken as a string.
    pub fn parse_with(text: &str, overrides: &[String]) -> anyhow::Result<Scenario> {
        let mut table: toml::Table = toml::from_str(text).context("scenario TOML")?;
        for o in overrides {
            let (key, value) = o
                .split_once('=')
                .with_context(|| format!("--set {o}: expected KEY=VALUE"))?;
            let value: toml::Value = toml::from_str::<toml::Table>(&format!("v = {value}"))
                .ok()
                .and_then(|mut t| t.remove("v"))
                .unwrap_or_else(|| toml::Value::String(value.to_string()));
            let mut path: Vec<&str> = key.trim().split('.').collect();
            let last = path.pop().filter(|k| !k.is_empty());
            let last = last.with_context(|| format!("--set {o}: empty key"))?;
            let mut at = &mut table;
            for part in path {
                at = at
                    .entry(part)
                    .or_insert_with(|| toml::Value::Table(toml::Table::new()))
                    .as_table_mut()
                    .with_context(|| format!("--set {o}: {part} is not a table"))?;
            }
            at.insert(last.to_string(), value);
        }
        let s: Scenario = table.try_into().context("scenario")?;
        s.validate()?;
        Ok(s)
    }

    /// Admin API base URL.
    pub fn admin_base(&self) -> anyhow::Result<String> {
        if let Some(a) = &self.admin_url {
            return Ok(a.trim_end_matches('/').to_string());
        }
        let first = self.targets.first().context("no targets")?;
        let (host, port) = host_port(first)?;
        Ok(format!("http://{host}:{port}"))
    }

    /// Room id of index `k`.
    pub fn room_id(&self, k: usize) -> String {
        format!("{}-{k}", self.rooms.prefix)
    }

    /// Source addresses used.
    pub fn source_ip_count(&self) -> u8 {
        match self.source_ips {
            0 => (self.viewers + self.sender_count() + 2 * self.pair_count())
                .div_ceil(20_000)
                .clamp(2, 200) as u8,
            k => k,
        }
    }

    /// Co-stream pairs (0 without a `costream` section).
    pub fn pair_count(&self) -> usize {
        self.costream.as_ref().map_or(0, |c| c.pairs)
    }

    /// Seconds the ramp is given before the traffic phase starts (the
    /// co-stream setup's `setup_s` included).
    pub fn ramp_s(&self) -> u64 {
        (self.viewers as f64 / self.ramp_per_s).ceil() as u64
            + 2
            + self.costream.as_ref().map_or(0, |c| c.setup_s)
    }
}

/// Host and port of a `ws://`/`http://` URL.
pub fn host_port(url: &str) -> anyhow::Result<(String, u16)> {
    let (scheme, rest) = url.split_once("://").context("URL without scheme")?;
    let authority = rest.split(['/', '?']).next().unwrap_or_default();
    let default_port = match scheme {
        "wss" | "https" => 443,
        _ => 80,
    };
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) if !h.ends_with(']') || authority.starts_with('[') => {
            (h.to_string(), p.parse().context("port")?)
        }
        _ => (authority.to_string(), default_port),
    };
    ensure!(!host.is_empty(), "URL {url}: no host");
    Ok((host.trim_matches(['[', ']']).to_string(), port))
}

/// Refuses any URL whose host resolves outside 127.0.0.0/8, unless allowed.
pub fn guard_targets<'a>(
    urls: impl IntoIterator<Item = &'a str>,
    allow_remote: bool,
) -> anyhow::Result<()> {
    if allow_remote {
        return Ok(());
    }
    for url in urls {
        let (host, port) = host_port(url)?;
        let addrs: Vec<IpAddr> = (host.as_str(), port)
            .to_socket_addrs()
            .with_context(|| format!("resolving {host}"))?
            .map(|a| a.ip())
            .collect();
        ensure!(!addrs.is_empty(), "{host} does not resolve");
        for ip in addrs {
            let local = match ip {
                IpAddr::V4(v4) => v4.octets()[0] == 127,
                IpAddr::V6(_) => false,
            };
            if !local {
                bail!(
                    "target {url} resolves to {ip}, outside 127.0.0.0/8: refusing without --allow-remote"
                );
            }
        }
    }
    Ok(())
}

/// Viewers per room: Zipf-like (room k ∝ 1/(k+1)^s), summing to `viewers`,
/// every room at least one viewer while viewers last.
pub fn room_sizes(viewers: usize, rooms: usize, s: f64) -> Vec<usize> {
    if rooms == 0 {
        return vec![];
    }
    let weights: Vec<f64> = (0..rooms).map(|k| 1.0 / ((k + 1) as f64).powf(s)).collect();
    let total: f64 = weights.iter().sum();
    let mut sizes: Vec<usize> = weights
        .iter()
        .map(|w| (w / total * viewers as f64).floor() as usize)
        .collect();
    // Hand out the rounding remainder to the largest rooms first.
    let mut left = viewers - sizes.iter().sum::<usize>();
    let mut k = 0;
    while left > 0 {
        sizes[k % rooms] += 1;
        left -= 1;
        k += 1;
    }
    sizes
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const MINIMAL: &str = r#"
        targets = ["ws://127.0.0.1:8080/ws"]
        viewers = 100
        duration_s = 5
    "#;

    #[test]
    fn parses_minimal_with_defaults() {
        let s = Scenario::parse(MINIMAL).unwrap();
        assert_eq!(s.rooms.count, 1);
        assert_eq!(s.codec, CodecChoice::Json);
        assert_eq!(s.wire, Wire::Gateway);
        assert_eq!(s.placement, Placement::Spread);
        assert_eq!(s.per_worker, 18_000);
        assert_eq!(s.sender_count(), 0);
        assert_eq!(s.admin_base().unwrap(), "http://127.0.0.1:8080");
    }

    #[test]
    fn parses_full() {
        let s = Scenario::parse(
            r#"
            name = "zipf"
            targets = ["ws://127.0.0.1:8080/ws", "ws://127.0.0.1:8081/ws"]
            admin_key = "k"
            viewers = 1000
            ramp_per_s = 500
            duration_s = 30
            comment_rate = 200
            like_rate = 50
            churn_per_s = 5
            codec = "binary"
            placement = { node = 1 }
            high_probe_per_s = 1
            [rooms]
            count = 10
            zipf_s = 1.2
            [[actions]]
            at_s = 5
            action = "pause"
            [[actions]]
            at_s = 6
            action = "kill"
            node = 1
            "#,
        )
        .unwrap();
        assert_eq!(s.codec.codec(), protocol::Codec::Binary);
        assert_eq!(s.placement, Placement::Node(1));
        assert_eq!(s.sender_count(), 200);
        assert_eq!(s.liker_count(), 5);
        assert_eq!(s.actions[1].action, ActionKind::Kill);
        assert_eq!(s.room_id(3), "load-3");
    }

    #[test]
    fn rejects_bad_scenarios() {
        let bad = [
            "targets = []\nviewers = 1\nduration_s = 1",
            "targets = [\"http://x\"]\nviewers = 1\nduration_s = 1",
            "targets = [\"ws://127.0.0.1/ws\"]\nviewers = 1\nduration_s = 0",
            "targets = [\"ws://127.0.0.1/ws\"]\nviewers = 1\nduration_s = 99999",
            "targets = [\"ws://127.0.0.1/ws\"]\nviewers = 1\nduration_s = 1\ncomment_rate = 5",
            "targets = [\"ws://127.0.0.1/ws\"]\nviewers = 1\nduration_s = 1\nbogus = 1",
            "targets = [\"ws://127.0.0.1/ws\"]\nviewers = 1\nduration_s = 1\nplacement = { node = 3 }",
            "targets = [\"ws://127.0.0.1/ws\"]\nviewers = 1\nduration_s = 1\nwire = \"socketio\"\ncodec = \"binary\"",
            "targets = [\"ws://127.0.0.1/ws\"]\nviewers = 1\nduration_s = 1\nwire = \"socket.io\"",
        ];
        for b in bad {
            assert!(Scenario::parse(b).is_err(), "accepted: {b}");
        }
    }

    #[test]
    fn like_taps_and_likers() {
        let s = Scenario::parse(&format!(
            "{MINIMAL}\nadmin_key = \"k\"\nlike_rate = 1000\nlike_count = 100\nlikers = 200"
        ))
        .unwrap();
        assert_eq!(s.liker_count(), 200);
        assert!((s.like_taps_per_s() - 100_000.0).abs() < 1e-9);
        let d = Scenario::parse(&format!("{MINIMAL}\nadmin_key = \"k\"\nlike_rate = 50")).unwrap();
        assert_eq!((d.like_count, d.liker_count()), (1, 5));
        for bad in ["like_count = 0", "like_count = 101", "binary_percent = 101"] {
            assert!(
                Scenario::parse(&format!("{MINIMAL}\n{bad}")).is_err(),
                "{bad}"
            );
        }
        let mixed = Scenario::parse(&format!("{MINIMAL}\nbinary_percent = 10")).unwrap();
        assert_eq!(mixed.binary_percent, 10);
        let e = Scenario::parse(&format!(
            "{MINIMAL}\nbinary_percent = 10\ncodec = \"binary\""
        ));
        assert!(e.is_err());
    }

    #[test]
    fn overrides_apply_before_validation() {
        let set = |kv: &[&str]| kv.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let s = Scenario::parse_with(
            MINIMAL,
            &set(&[
                "duration_s=10",
                "viewers = 7",
                "rooms.count=3",
                "rooms.prefix=hot",
                "name=\"x y\"",
                "targets=[\"ws://127.0.0.1:9/ws\"]",
            ]),
        )
        .unwrap();
        assert_eq!((s.duration_s, s.viewers, s.rooms.count), (10, 7, 3));
        assert_eq!((s.rooms.prefix.as_str(), s.name.as_str()), ("hot", "x y"));
        assert_eq!(s.targets, vec!["ws://127.0.0.1:9/ws".to_string()]);
        assert!(Scenario::parse_with(MINIMAL, &set(&["duration_s=0"])).is_err());
        assert!(Scenario::parse_with(MINIMAL, &set(&["bogus=1"])).is_err());
        assert!(Scenario::parse_with(MINIMAL, &set(&["novalue"])).is_err());
        assert!(Scenario::parse_with(MINIMAL, &set(&["viewers.x=1"])).is_err());
    }

    #[test]
    fn costream_section() {
        let s = Scenario::parse(&format!(
            "{MINIMAL}\nadmin_key = \"k\"\n[costream]\npairs = 500\npace_ms = 10"
        ))
        .unwrap();
        let c = s.costream.as_ref().unwrap();
        assert_eq!(
            (c.candidates, c.sdp_bytes, c.candidate_bytes),
            (10, 4096, 200)
        );
        assert_eq!((c.signals_per_party(), c.setup_s), (12, 10));
        assert_eq!(c.room_id(7), "cs-7");
        assert_eq!(s.pair_count(), 500);
        assert_eq!(s.ramp_s(), 1 + 2 + 10);
        for bad in [
            "pairs = 0",
            "pairs = 10001",
            "pairs = 1\ncandidates = 49",
            "pairs = 1\nsdp_bytes = 16001",
            "pairs = 1\ncandidate_bytes = 1001",
            "pairs = 1\npace_ms = 1001",
            "pairs = 1\nsetup_s = 0",
            "pairs = 1\nbogus = 1",
        ] {
            let text = format!("{MINIMAL}\nadmin_key = \"k\"\n[costream]\n{bad}");
            assert!(Scenario::parse(&text).is_err(), "accepted: {bad}");
        }
        let no_key = format!("{MINIMAL}\n[costream]\npairs = 1");
        assert!(Scenario::parse(&no_key).is_err());
        let max = format!("{MINIMAL}\nadmin_key = \"k\"\n[costream]\npairs = 1\ncandidates = 48");
        assert!(Scenario::parse(&max).is_ok());
    }

    #[test]
    fn wire_choice() {
        let s = Scenario::parse(&format!("{MINIMAL}\nwire = \"socketio\"")).unwrap();
        assert_eq!(s.wire, Wire::Socketio);
        let e = Scenario::parse(&format!(
            "{MINIMAL}\nwire = \"socketio\"\ncodec = \"binary\""
        ))
        .unwrap_err();
        assert!(format!("{e:#}").contains("JSON frames only"), "{e:#}");
        let s = Scenario::parse(&format!(
            "{MINIMAL}\nwire = \"gateway\"\ncodec = \"binary\""
        ))
        .unwrap();
        assert_eq!((s.wire, s.codec), (Wire::Gateway, CodecChoice::Binary));
    }

    #[test]
    fn loopback_guard() {
        assert!(guard_targets(["ws://127.0.0.1:8080/ws"], false).is_ok());
        assert!(guard_targets(["ws://127.3.4.5:1/ws"], false).is_ok());
        assert!(guard_targets(["ws://localhost:8080/ws"], false).is_ok());
        assert!(guard_targets(["ws://10.0.0.1:8080/ws"], false).is_err());
        assert!(guard_targets(["http://192.168.1.1"], false).is_err());
        assert!(guard_targets(["ws://[::1]:8080/ws"], false).is_err());
        assert!(guard_targets(["ws://10.0.0.1:8080/ws"], true).is_ok());
    }

    #[test]
    fn host_port_parsing() {
        assert_eq!(
            host_port("ws://127.0.0.1:9/ws?x=1").unwrap(),
            ("127.0.0.1".into(), 9)
        );
        assert_eq!(host_port("http://h").unwrap(), ("h".into(), 80));
    }

    #[test]
    fn zipf_sizes_sum_and_decrease() {
        let s = room_sizes(10_000, 50, 1.0);
        assert_eq!(s.iter().sum::<usize>(), 10_000);
        assert!(s.windows(2).all(|w| w[0] >= w[1]));
        assert!(s[0] > 10 * s[49]);
        assert_eq!(room_sizes(7, 1, 1.0), vec![7]);
    }
}
