//! A gateway node: WebSocket sessions, room hubs with tick batching, the
//! single request path, room lifecycle and timers, the admin API, metrics.
//!
//! [`start`] runs a node on a listener and returns a handle that shuts it
//! down gracefully; the `gateway` binary and the integration tests both use it.

pub mod auth;
pub mod bus;
pub mod clock;
pub mod commerce;
pub mod config;
mod console;
pub mod costream;
pub mod dashboard;
pub mod hub;
pub mod lotteries;
pub mod metrics;
pub mod moderation;
pub mod notice;
pub mod reminder;
pub mod room;
pub mod secrets;
pub mod service;
pub mod session;
pub mod store;
pub mod timers;
pub mod webhook;

mod http;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::task::JoinHandle;

pub use config::{ServeArgs, Settings};
pub use secrets::fill_generated;
pub use service::Node;

use auth::TokenKeys;
use bus::{Bus, MemoryBus, RedisBus};
use metrics::Metrics;
use service::Stores;
use store::redis::RedisConn;
use store::{MemoryStore, RedisStore};

/// A running node.
pub struct Running {
    /// The node's shared state.
    pub node: Arc<Node>,
    /// Where it listens.
    pub addr: SocketAddr,
    /// The admin API key in use.
    pub admin_key: String,
    server: JoinHandle<()>,
    timers: JoinHandle<()>,
    commerce: JoinHandle<()>,
    presence: JoinHandle<()>,
    webhooks: JoinHandle<()>,
    dashboard: JoinHandle<()>,
}

/// The store and bus the settings ask for: in-process, or Redis.
async fn backend(
    settings: &Settings,
    metrics: &Arc<Metrics>,
) -> anyhow::Result<(Stores, Arc<dyn Bus>)> {
    let (log, recent) = (settings.log_capacity, settings.recent_comments);
    Ok(match settings.topology() {
        None => (
            Stores::of(Arc::new(MemoryStore::new(log, recent))),
            Arc::new(MemoryBus::new()),
        ),
        Some(t) => {
            let conn = RedisConn::connect(&t, None).await?;
            let prefix = &settings.redis_prefix;
            let bus = RedisBus::connect(&t, prefix, metrics.clone()).await?;
            tracing::info!(topology = ?t, "Redis backend");
            (
                Stores::of(Arc::new(RedisStore::new(conn, prefix, log, recent))),
                Arc::new(bus),
            )
        }
    })
}

/// Starts a node on `settings.listen`: embedded (in-process store and bus)
/// unless a Redis topology is configured.
pub async fn start(mut settings: Settings) -> anyhow::Result<Running> {
    fill_generated(&mut settings);
    webhook::check_settings(&settings)?;
    let metrics = Arc::new(Metrics::new());
    let (stores, bus) = backend(&settings, &metrics).await?;
    let keys = TokenKeys::with_policy(settings.token_secret.as_bytes(), settings.token_policy());
    let listener = listen(settings.listen, settings.listen_backlog)
        .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", settings.listen))?;
    let addr = listener.local_addr()?;
    let admin_key = settings.admin_key.clone();
    let lottery_key =
        lotteries::Lotteries::parse_key(&settings.lottery_key).map_err(anyhow::Error::msg)?;
    lotteries::beacon::BeaconClient::from_settings(&settings)?;
    // The word filter's process-wide tables (hundreds of ms in a debug
    // build) are built before the first comment, not by it.
    tokio::task::spawn_blocking(wordfilter::warm_up).await?;
    let node = Node::new(settings, stores, bus, keys, metrics, lottery_key);
    // Targeted events for this node's users arrive on its own channel.
    node.bus
        .subscribe_node(&node.settings.node_id)
        .await
        .map_err(|e| anyhow::anyhow!("bus: {e}"))?;
    node.install_settings_endpoint()
        .await
        .map_err(|e| anyhow::anyhow!("webhooks: {e}"))?;
    node.claim_store_epoch()
        .await
        .map_err(|e| anyhow::anyhow!("store: {e}"))?;
    let expires = clock::now_ms() + node.settings.presence_ttl_ms();
    node.store
        .set_node_alive(&node.settings.node_id, expires)
        .await
        .map_err(|e| anyhow::anyhow!("store: {e}"))?;
    let app = http::router(http::AppState {
        node: node.clone(),
        admin_key: admin_key.clone().into(),
    });
    let server = tokio::spawn(http::serve(listener, app, node.clone()));
    let timers = tokio::spawn(timers::run(node.clone()));
    let commerce = tokio::spawn(commerce::run(node.clone()));
    let webhooks = tokio::spawn(webhook::run(node.clone()));
    let presence = tokio::spawn(timers::presence(node.clone()));
    let dashboard = tokio::spawn(dashboard::run(node.clone()));
    tracing::info!(%addr, node = %node.settings.node_id, "gateway listening");
    Ok(Running {
        node,
        addr,
        admin_key,
        server,
        timers,
        commerce,
        presence,
        webhooks,
        dashboard,
    })
}

impl Running {
    /// The paced drain (lame duck): not-ready at once, then after
    /// `drain_delay_ms` every session closes with 4000, spread over
    /// `drain_window_ms`. Follow it with [`Running::shutdown`].
    pub async fn drain(&self) {
        self.node.drain().await;
    }

    /// Stops accepting, closes every session with 4000 and waits for them
    /// within the grace period.
    pub async fn shutdown(self) {
        self.node.begin_shutdown();
        let grace = Duration::from_millis(self.node.settings.shutdown_grace_ms);
        let deadline = tokio::time::Instant::now() + grace;
        while self.node.metrics.connections.get() > 0 && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let left = self.node.metrics.connections.get();
        if left > 0 {
            tracing::warn!(left, "grace period over with sessions still open");
        }
        let _ = tokio::time::timeout(Duration::from_secs(1), self.server).await;
        self.timers.abort();
        self.commerce.abort();
        self.presence.abort();
        self.webhooks.abort();
        self.dashboard.abort();
        tracing::info!("gateway stopped");
    }
}

/// Binds `addr` (with `SO_REUSEADDR`, as `TcpListener::bind` does) and
/// listens with `backlog`.
fn listen(addr: std::net::SocketAddr, backlog: u32) -> std::io::Result<TcpListener> {
    let socket = if addr.is_ipv4() {
        tokio::net::TcpSocket::new_v4()?
    } else {
        tokio::net::TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(backlog.max(1))
}
