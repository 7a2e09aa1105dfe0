//! Settings of a gateway node. Each setting comes from, in order of
//! precedence: its `--flag`, its `GATEWAY_*` environment variable, the TOML
//! file named by `--config`, and its default. README.md lists them all.

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use protocol::Limits;

/// Declares every setting once: the clap flags, the TOML file shape, the
/// effective settings and their defaults.
macro_rules! settings {
    ($( $(#[doc = $doc:literal])* $name:ident : $ty:ty = $default:expr, $env:literal; )*) => {
        /// Flags of `gateway serve`.
        #[derive(Debug, Clone, Default, clap::Args)]
        pub struct ServeArgs {
            /// TOML file with any of the settings below (snake_case keys).
            #[arg(long, env = "GATEWAY_CONFIG")]
            pub config: Option<std::path::PathBuf>,
            $(
                $(#[doc = $doc])*
                #[arg(long, env = $env, help = help_line(&[$($doc),*], &default_of::<$ty>($default)))]
                pub $name: Option<$ty>,
            )*
        }

        #[derive(Debug, Default, serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        struct FileSettings { $( $name: Option<$ty>, )* }

        /// Effective settings of a node.
        #[derive(Debug, Clone)]
        pub struct Settings { $( $(#[doc = $doc])* pub $name: $ty, )* }

        impl Default for Settings {
            fn default() -> Self {
                Settings { $( $name: $default, )* }
            }
        }

        impl Settings {
            /// Every setting's TOML key, environment variable, doc and
            /// default (a TOML value), in declaration order.
            pub fn describe() -> Vec<SettingInfo> {
                let d = Settings::default();
                vec![ $( SettingInfo {
                    key: stringify!($name),
                    env: $env,
                    doc: doc_text(&[$($doc),*]),
                    default: toml_value(&d.$name),
                }, )* ]
            }

            fn merge(args: ServeArgs, file: FileSettings) -> Settings {
                let d = Settings::default();
                Settings { $( $name: args.$name.or(file.$name).unwrap_or(d.$name), )* }
            }
        }
    };
}

/// One setting as documented: `gateway config-defaults` prints these as a
/// TOML file, and README.md's table is generated from that.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettingInfo {
    /// TOML key (the flag is `--` and the key with `-` for `_`).
    pub key: &'static str,
    /// Environment variable.
    pub env: &'static str,
    /// What it does (its doc comment, on one line).
    pub doc: String,
    /// Its default as a TOML value, e.g. `524288` or `"gw"`.
    pub default: String,
}

/// A value as TOML writes it on the right of `key = `.
fn toml_value<T: serde::Serialize>(value: &T) -> String {
    toml::Value::try_from(value).map_or_else(|e| format!("<{e}>"), |v| v.to_string())
}

/// Pins a default expression to the setting's type.
fn default_of<T: serde::Serialize>(value: T) -> String {
    toml_value(&value)
}

/// A doc comment's lines joined into one line.
fn doc_text(lines: &[&str]) -> String {
    lines.iter().map(|l| l.trim()).collect::<Vec<_>>().join(" ")
}

/// A flag's help: its doc and its default.
fn help_line(doc: &[&str], default: &str) -> String {
    format!("{} [default: {default}]", doc_text(doc))
}

impl Settings {
    /// Every default as a TOML file, each key under its doc and variable.
    pub fn defaults_toml() -> String {
        let mut out = String::from(
            "# Every setting of `gateway serve` at its default; each also has a\n\
             # --flag (the key with - for _) and an environment variable.\n",
        );
        for s in Settings::describe() {
            out.push_str(&format!(
                "\n# {}\n# {}\n{} = {}\n",
                s.doc, s.env, s.key, s.default
            ));
        }
        out
    }
}

settings! {
    /// Address of the WebSocket, admin, metrics and health listener.
    listen: SocketAddr = SocketAddr::from(([127, 0, 0, 1], 8080)), "GATEWAY_LISTEN";
    /// Bearer key of the admin API (empty: a random key is generated into `secrets_file`).
    admin_key: String = String::new(), "GATEWAY_ADMIN_KEY";
    /// HS256 secret of viewer tokens (empty: a random secret is generated into `secrets_file`).
    token_secret: String = String::new(), "GATEWAY_TOKEN_SECRET";
    /// Lottery signing key: hex 32-byte Ed25519 seed, the same on every node (empty: generated into `secrets_file`).
    lottery_key: String = String::new(), "GATEWAY_LOTTERY_KEY";
    /// Redis server URL, e.g. redis://127.0.0.1:6379 (empty: in-process backend).
    redis: String = String::new(), "GATEWAY_REDIS";
    /// Redis Sentinel URLs, comma-separated (with --redis-sentinel-master).
    redis_sentinel: String = String::new(), "GATEWAY_REDIS_SENTINEL";
    /// Master name watched by the Sentinels.
    redis_sentinel_master: String = "mymaster".to_string(), "GATEWAY_REDIS_SENTINEL_MASTER";
    /// Redis Cluster seed URLs, comma-separated (sharded pub/sub, Redis 7+).
    redis_cluster: String = String::new(), "GATEWAY_REDIS_CLUSTER";
    /// Prefix of every Redis key and channel (several deployments may share a Redis).
    redis_prefix: String = "gw".to_string(), "GATEWAY_REDIS_PREFIX";
    /// Name of this node in logs and metrics (empty: random).
    node_id: String = String::new(), "GATEWAY_NODE_ID";
    /// Fan-out tick: events of one tick go out as one frame per lane.
    tick_ms: u64 = 100, "GATEWAY_TICK_MS";
    /// A room's fan-out tick grows by `tick_ms` for every this many viewers
    /// online in it (cluster-wide), up to `max_tick_ms` (0: never grows).
    tick_grow_viewers: u64 = 100_000, "GATEWAY_TICK_GROW_VIEWERS";
    /// The longest tick a growing room gets (about one frame per viewer per second).
    max_tick_ms: u64 = 1000, "GATEWAY_MAX_TICK_MS";
    /// Comments each viewer receives per second at most (the sender always gets its own).
    comment_cap: u32 = 20, "GATEWAY_COMMENT_CAP";
    /// Recent comments in a join snapshot.
    recent_comments: usize = 20, "GATEWAY_RECENT_COMMENTS";
    /// Events kept per room for resume (older offsets answer "not recovered").
    log_capacity: usize = 1024, "GATEWAY_LOG_CAPACITY";
    /// Bytes queued per session before low-priority frames drop and, past that, a slow-consumer close.
    outbox_bytes: usize = 512 * 1024, "GATEWAY_OUTBOX_BYTES";
    /// Interval of server WebSocket pings.
    heartbeat_ms: u64 = 25_000, "GATEWAY_HEARTBEAT_MS";
    /// Close a connection that sent nothing (not even a pong) for this long.
    idle_timeout_ms: u64 = 60_000, "GATEWAY_IDLE_TIMEOUT_MS";
    /// Close a connection whose socket accepts no bytes for this long.
    write_timeout_ms: u64 = 10_000, "GATEWAY_WRITE_TIMEOUT_MS";
    /// How long an abnormal room (anchor dropped) may be resumed before it ends.
    abnormal_timeout_ms: u64 = 15 * 60 * 1000, "GATEWAY_ABNORMAL_TIMEOUT_MS";
    /// Longest live; the room ends when it is reached.
    max_live_ms: u64 = 12 * 3600 * 1000, "GATEWAY_MAX_LIVE_MS";
    /// How often a node refreshes its presence (online, anchors) per room; a
    /// node silent for 3 intervals no longer counts.
    presence_interval_ms: u64 = 1000, "GATEWAY_PRESENCE_INTERVAL_MS";
    /// How often room timers (abnormal timeout, live cap) are checked.
    timer_interval_ms: u64 = 1000, "GATEWAY_TIMER_INTERVAL_MS";
    /// Grace period for sessions to close on shutdown.
    shutdown_grace_ms: u64 = 10_000, "GATEWAY_SHUTDOWN_GRACE_MS";
    /// Malformed frames a connection may send before it is closed (4102).
    malformed_budget: u32 = 10, "GATEWAY_MALFORMED_BUDGET";
    /// Requests per second per connection (sustained).
    request_rate: u32 = 20, "GATEWAY_REQUEST_RATE";
    /// Requests per connection in a burst.
    request_burst: u32 = 40, "GATEWAY_REQUEST_BURST";
    /// Comments per second per user in a room, over every node (sustained; 0: no limit).
    comment_rate: u32 = 2, "GATEWAY_COMMENT_RATE";
    /// Comments per user in a burst.
    comment_burst: u32 = 5, "GATEWAY_COMMENT_BURST";
    /// New WebSocket connections per second per client IP (0: no limit; off by
    /// default because carrier NAT puts many viewers behind one address).
    ip_connect_rate: u32 = 0, "GATEWAY_IP_CONNECT_RATE";
    /// New WebSocket connections per client IP in a burst.
    ip_connect_burst: u32 = 100, "GATEWAY_IP_CONNECT_BURST";
    /// Open WebSocket connections per client IP on a node (0: unlimited).
    ip_max_connections: usize = 0, "GATEWAY_IP_MAX_CONNECTIONS";
    /// Audit entries kept per room (and for the global word list).
    audit_capacity: usize = 1000, "GATEWAY_AUDIT_CAPACITY";
    /// Largest client frame in bytes.
    max_frame_bytes: usize = 8 * 1024, "GATEWAY_MAX_FRAME_BYTES";
    /// Longest comment in characters.
    max_comment_chars: usize = 100, "GATEWAY_MAX_COMMENT_CHARS";
    /// WebSocket read buffer kept per connection, in bytes (tungstenite's default is 128 KiB); one socket read still takes up to 16 KiB, into a buffer per thread.
    ws_read_buffer: usize = 128, "GATEWAY_WS_READ_BUFFER";
    /// Threads that write one tick's frames of a large room (8,192 local
    /// viewers or more), each a part of its sockets (0: one per core, at
    /// most 8; 1: the room hub's own thread only).
    delivery_threads: usize = 0, "GATEWAY_DELIVERY_THREADS";
    /// SO_SNDBUF of accepted sockets in bytes (0: the kernel's autotuning).
    socket_send_buffer: usize = 0, "GATEWAY_SOCKET_SEND_BUFFER";
    /// Most concurrent WebSocket connections (0: unlimited).
    max_connections: usize = 0, "GATEWAY_MAX_CONNECTIONS";
    /// Rooms live at once over the deployment (started and not yet ended:
    /// live, paused or abnormal); a start past it is refused `live_limit` (0: unlimited).
    max_live_rooms: u64 = 50, "GATEWAY_MAX_LIVE_ROOMS";
    /// Lives started per UTC day over the deployment; a start past it is
    /// refused `live_limit` (0: unlimited).
    max_lives_per_day: u64 = 50, "GATEWAY_MAX_LIVES_PER_DAY";
    /// How long a notice shows to viewers, in ms.
    notice_show_ms: u64 = 20_000, "GATEWAY_NOTICE_SHOW_MS";
    /// An interval between two consecutive notice pushes shorter than this
    /// (ms) is short: two short ones of the last three make the next wait.
    notice_short_interval_ms: u64 = 5_000, "GATEWAY_NOTICE_SHORT_INTERVAL_MS";
    /// How long after the last push the next notice waits when the spacing
    /// rule applies, in ms.
    notice_spacing_wait_ms: u64 = 60_000, "GATEWAY_NOTICE_SPACING_WAIT_MS";
    /// Interval of the dashboard's curve points, in ms (at most 360 points
    /// per live).
    dashboard_curve_ms: u64 = 120_000, "GATEWAY_DASHBOARD_CURVE_MS";
    /// Close a connection that has not sent a complete request head for this
    /// long (the first request's, or the next one's on a kept-alive connection).
    header_read_timeout_ms: u64 = 10_000, "GATEWAY_HEADER_READ_TIMEOUT_MS";
    /// Listen backlog: connections the kernel holds for the accept loop
    /// (it caps this at net.core.somaxconn); a burst past it has its SYNs
    /// dropped and retried by the clients after 1, 3, 7 s.
    listen_backlog: u32 = 4096, "GATEWAY_LISTEN_BACKLOG";
    /// Most accepted connections not yet upgraded to WebSocket (0: unlimited);
    /// past it the oldest is closed at once if idle and 1 s old, else the new one.
    max_pending_connections: usize = 10_000, "GATEWAY_MAX_PENDING_CONNECTIONS";
    /// Origins allowed to open `/ws`, comma-separated, e.g.
    /// https://shop.example (empty: any; requests without Origin always pass).
    allowed_origins: String = String::new(), "GATEWAY_ALLOWED_ORIGINS";
    /// Longest lifetime a viewer token may have left (`exp` - now), in seconds.
    token_max_ttl_s: u64 = 7 * 24 * 3600, "GATEWAY_TOKEN_MAX_TTL_S";
    /// Required `iss` of viewer tokens (empty: not checked).
    token_issuer: String = String::new(), "GATEWAY_TOKEN_ISSUER";
    /// Required `aud` of viewer tokens (empty: not checked, any `aud` passes).
    token_audience: String = String::new(), "GATEWAY_TOKEN_AUDIENCE";
    /// File (mode 0600) that `gateway serve` writes the secrets it generates
    /// into; they are never printed.
    secrets_file: std::path::PathBuf = "gateway-secrets.env".into(), "GATEWAY_SECRETS_FILE";
    /// Webhook endpoint from the settings (id `settings`), e.g.
    /// https://shop.example/hooks (empty: none; more through the admin API).
    webhook_url: String = String::new(), "GATEWAY_WEBHOOK_URL";
    /// Signing secret of `webhook_url`: `whsec_` and the base64 of 24 to 64 bytes.
    webhook_secret: String = String::new(), "GATEWAY_WEBHOOK_SECRET";
    /// Event types `webhook_url` receives, comma-separated; `live.*` matches a
    /// prefix (empty: every type).
    webhook_events: String = String::new(), "GATEWAY_WEBHOOK_EVENTS";
    /// A webhook request with no complete answer within this long is a failed attempt.
    webhook_timeout_ms: u64 = 15_000, "GATEWAY_WEBHOOK_TIMEOUT_MS";
    /// Pauses before the 2nd, 3rd, ... attempt of a webhook, in ms,
    /// comma-separated, each with ±20% jitter; after the last one fails
    /// the delivery is a dead letter.
    webhook_retry_ms: String = "5000,300000,1800000,7200000,18000000,36000000,86400000".to_string(), "GATEWAY_WEBHOOK_RETRY_MS";
    /// How long a node's claim on a webhook attempt lasts: a node that dies
    /// mid-delivery has its attempts taken over after this (more than
    /// `webhook_timeout_ms`).
    webhook_claim_ms: u64 = 30_000, "GATEWAY_WEBHOOK_CLAIM_MS";
    /// How often a node looks for due webhook attempts (its own events wake it at once).
    webhook_poll_ms: u64 = 500, "GATEWAY_WEBHOOK_POLL_MS";
    /// Webhook requests a node has in flight at once.
    webhook_concurrency: usize = 16, "GATEWAY_WEBHOOK_CONCURRENCY";
    /// Reminder pushes (`POST /api/rooms/{id}/reminders/push`) per app per
    /// UTC day over the deployment (0: unlimited).
    reminder_push_quota: u32 = 1, "GATEWAY_REMINDER_PUSH_QUOTA";
    /// Log format: "text" or "json".
    log_format: String = "text".to_string(), "GATEWAY_LOG_FORMAT";
    /// Most goods on one room's shelf; the 201st is refused `shelf_full`.
    max_goods: usize = 200, "GATEWAY_MAX_GOODS";
    /// Seconds a pushed goods card shows when `card_push` names no duration.
    card_show_s: u64 = 60, "GATEWAY_CARD_SHOW_S";
    /// Seconds a grab's reservation is held until the merchant confirms it;
    /// then it expires and its units go back to the quota.
    reservation_hold_s: u64 = 900, "GATEWAY_RESERVATION_HOLD_S";
    /// Seconds the answer of a grab or coupon idempotency key is kept.
    idempotency_ttl_s: u64 = 86_400, "GATEWAY_IDEMPOTENCY_TTL_S";
    /// How often (ms) a node publishes changed stock and coupon counts, flushes
    /// goods clicks and sweeps expired reservations.
    commerce_interval_ms: u64 = 1000, "GATEWAY_COMMERCE_INTERVAL_MS";
    /// drand HTTP endpoints a draw fetches its beacon round from, tried in
    /// order, comma-separated (empty: no beacon; draws are then keyed-VRF
    /// only, which the key holder can grind; for offline tests).
    beacon_endpoints: String = "https://api.drand.sh,https://api2.drand.sh,https://api3.drand.sh,https://drand.cloudflare.com".to_string(), "GATEWAY_BEACON_ENDPOINTS";
    /// drand chain hash (hex) of the beacon, the chain's id in the HTTP API (default: quicknet).
    beacon_chain_hash: String = lottery::beacon::QUICKNET_CHAIN_HASH_HEX.to_string(), "GATEWAY_BEACON_CHAIN_HASH";
    /// The beacon chain's BLS public key (hex, 96-byte G2; scheme bls-unchained-g1-rfc9380; default: quicknet's).
    beacon_public_key: String = lottery::beacon::QUICKNET_PUBLIC_KEY_HEX.to_string(), "GATEWAY_BEACON_PUBLIC_KEY";
    /// Time of the beacon chain's round 1, unix seconds (default: quicknet's).
    beacon_genesis_s: u64 = lottery::beacon::QUICKNET_GENESIS_S, "GATEWAY_BEACON_GENESIS_S";
    /// Seconds between the beacon chain's rounds (default: quicknet's).
    beacon_period_s: u32 = lottery::beacon::QUICKNET_PERIOD_S, "GATEWAY_BEACON_PERIOD_S";
    /// How long (ms) after its round's time a draw keeps trying to fetch the
    /// round before the lottery ends abnormal with `beacon_unavailable`
    /// (1..=25000, below the 30 s takeover of a stalled draw).
    beacon_deadline_ms: u64 = 20_000, "GATEWAY_BEACON_DEADLINE_MS";
    /// How long a co-stream invitation, or an accepted application not yet
    /// confirmed by both, waits before it expires, in ms.
    costream_pending_ms: u64 = 30_000, "GATEWAY_COSTREAM_PENDING_MS";
    /// Most co-stream applicants a room holds; the next is refused `applicants_full`.
    costream_max_applicants: usize = 100, "GATEWAY_COSTREAM_MAX_APPLICANTS";
    /// Largest SDP a `signal` carries, in bytes (a `signal` frame may be
    /// twice this, over `max_frame_bytes`).
    costream_max_sdp_bytes: usize = 16_384, "GATEWAY_COSTREAM_MAX_SDP_BYTES";
    /// Largest ICE candidate a `signal` carries, in bytes.
    costream_max_candidate_bytes: usize = 1024, "GATEWAY_COSTREAM_MAX_CANDIDATE_BYTES";
    /// Signalling messages (every kind) one party may relay per second in one
    /// co-stream session; the burst is the same number.
    costream_signal_rate: u32 = 50, "GATEWAY_COSTREAM_SIGNAL_RATE";
    /// How long a co-stream party may be disconnected, in ms, and come back
    /// to the same session; then the co-stream ends (`guest_left`, `anchor_left`).
    costream_grace_ms: u64 = 15_000, "GATEWAY_COSTREAM_GRACE_MS";
    /// On SIGTERM, how long the node answers `/readyz` 503 before it closes any session, so that load balancers take it out first.
    drain_delay_ms: u64 = 5000, "GATEWAY_DRAIN_DELAY_MS";
    /// Then the window over which it closes its sessions with 4000, evenly spread (0: all at once).
    drain_window_ms: u64 = 20_000, "GATEWAY_DRAIN_WINDOW_MS";
}

impl Settings {
    /// Resolves flags and env (already in `args`) over the optional file.
    pub fn load(args: ServeArgs) -> anyhow::Result<Settings> {
        let file = match &args.config {
            Some(path) => read_file(path)?,
            None => FileSettings::default(),
        };
        let s = Settings::merge(args, file);
        s.validate()?;
        Ok(s)
    }

    fn validate(&self) -> anyhow::Result<()> {
        anyhow::ensure!(self.tick_ms >= 1, "tick_ms must be at least 1");
        anyhow::ensure!(
            self.max_tick_ms >= self.tick_ms,
            "max_tick_ms must be at least tick_ms"
        );
        anyhow::ensure!(self.log_capacity >= 1, "log_capacity must be at least 1");
        anyhow::ensure!(self.request_rate >= 1, "request_rate must be at least 1");
        anyhow::ensure!(
            self.ws_read_buffer >= 32,
            "ws_read_buffer must be at least 32"
        );
        anyhow::ensure!(
            self.header_read_timeout_ms >= 1,
            "header_read_timeout_ms must be at least 1"
        );
        anyhow::ensure!(
            !self.secrets_file.as_os_str().is_empty(),
            "secrets_file must not be empty"
        );
        anyhow::ensure!(
            self.token_max_ttl_s >= 1,
            "token_max_ttl_s must be at least 1"
        );
        crate::webhook::check_settings(self)?;
        crate::lotteries::beacon::BeaconClient::from_settings(self)?;
        anyhow::ensure!(
            matches!(self.log_format.as_str(), "text" | "json"),
            "log_format must be text or json"
        );
        Ok(())
    }

    /// The Redis topology, if one is configured.
    pub fn topology(&self) -> Option<crate::store::redis::Topology> {
        use crate::store::redis::Topology;
        let list = |s: &str| -> Vec<String> {
            s.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(String::from)
                .collect()
        };
        if !self.redis_cluster.is_empty() {
            Some(Topology::Cluster(list(&self.redis_cluster)))
        } else if !self.redis_sentinel.is_empty() {
            Some(Topology::Sentinel {
                sentinels: list(&self.redis_sentinel),
                master: self.redis_sentinel_master.clone(),
            })
        } else if !self.redis.is_empty() {
            Some(Topology::Single(self.redis.clone()))
        } else {
            None
        }
    }

    /// How long a node's presence counts without a refresh, ms.
    pub fn presence_ttl_ms(&self) -> i64 {
        3 * self.presence_interval_ms as i64
    }

    /// The fan-out tick.
    pub fn tick(&self) -> Duration {
        Duration::from_millis(self.tick_ms)
    }

    /// The fan-out tick of a room with `online` viewers: `tick_ms` plus one
    /// `tick_ms` for every `tick_grow_viewers` of them, at most
    /// `max_tick_ms` (never below `tick_ms`). A viewer of a room of 1,000,000
    /// gets one frame per lane a second at the defaults, not ten: the
    /// node's cost is viewers × frames, and the frames carry the same events.
    pub fn room_tick_ms(&self, online: u64) -> u64 {
        if self.tick_grow_viewers == 0 {
            return self.tick_ms;
        }
        let grown = self
            .tick_ms
            .saturating_mul(1 + online / self.tick_grow_viewers);
        grown.min(self.max_tick_ms).max(self.tick_ms)
    }

    /// What a viewer token must satisfy beyond its signature.
    pub fn token_policy(&self) -> crate::auth::token::TokenPolicy {
        crate::auth::token::TokenPolicy {
            max_ttl_s: self.token_max_ttl_s,
            issuer: self.token_issuer.clone(),
            audience: self.token_audience.clone(),
        }
    }

    /// Limits applied to client frames.
    pub fn limits(&self) -> Limits {
        Limits {
            max_frame_bytes: self.max_frame_bytes,
            max_comment_chars: self.max_comment_chars,
            ..Limits::default()
        }
    }
}

fn read_file(path: &Path) -> anyhow::Result<FileSettings> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| anyhow::anyhow!("reading {}: {e}", path.display()))?;
    toml::from_str(&text).map_err(|e| anyhow::anyhow!("parsing {}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_room_tick_grows_with_its_viewers_up_to_the_cap() {
        let s = Settings::default();
        assert_eq!(
            (s.tick_ms, s.tick_grow_viewers, s.max_tick_ms),
            (100, 100_000, 1000)
        );
        assert_eq!(s.room_tick_ms(0), 100);
        assert_eq!(s.room_tick_ms(99_999), 100);
        assert_eq!(s.room_tick_ms(100_000), 200);
        assert_eq!(s.room_tick_ms(450_000), 500);
        assert_eq!(s.room_tick_ms(900_000), 1000);
        assert_eq!(s.room_tick_ms(1_000_000), 1000);
        assert_eq!(s.room_tick_ms(u64::MAX), 1000);
        let off = Settings {
            tick_grow_viewers: 0,
            ..Settings::default()
        };
        assert_eq!(off.room_tick_ms(5_000_000), 100);
    }

    #[test]
    fn flags_win_over_file_and_file_over_defaults() {
        let dir = std::env::temp_dir().join(format!("gw-config-{}", std::process::id()));
        std::fs::write(&dir, "tick_ms = 50\ncomment_cap = 7\n").unwrap();
        let args = ServeArgs {
            config: Some(dir.clone()),
            tick_ms: Some(20),
            ..ServeArgs::default()
        };
        let s = Settings::load(args).unwrap();
        std::fs::remove_file(dir).ok();
        assert_eq!(s.tick_ms, 20);
        assert_eq!(s.comment_cap, 7);
        assert_eq!(s.recent_comments, 20);
    }

    #[test]
    fn unknown_file_keys_are_refused() {
        let dir = std::env::temp_dir().join(format!("gw-config-bad-{}", std::process::id()));
        std::fs::write(&dir, "tick = 50\n").unwrap();
        let args = ServeArgs {
            config: Some(dir.clone()),
            ..ServeArgs::default()
        };
        let err = Settings::load(args).unwrap_err().to_string();
        std::fs::remove_file(dir).ok();
        assert!(err.contains("unknown field"), "{err}");
    }
}
