//! Connections to the three Redis topologies behind one type: a single
//! server (or the master Sentinel names), through a reconnecting
//! `ConnectionManager`; or a Cluster, through the cluster client.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use redis::aio::{ConnectionLike, ConnectionManager, ConnectionManagerConfig};
use redis::cluster::ClusterClientBuilder;
use redis::cluster_async::ClusterConnection;
use redis::{Cmd, Pipeline, PushInfo, RedisFuture, RedisResult, Value};
use tokio::sync::mpsc;

/// Where the Redis backend lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Topology {
    /// One server: `redis://host:port`.
    Single(String),
    /// Sentinels and the master name they watch.
    Sentinel {
        /// Sentinel URLs.
        sentinels: Vec<String>,
        /// Master name.
        master: String,
    },
    /// Cluster seed nodes.
    Cluster(Vec<String>),
}

impl Topology {
    /// Whether pub/sub is sharded (`SPUBLISH`/`SSUBSCRIBE`).
    pub fn sharded(&self) -> bool {
        matches!(self, Topology::Cluster(_))
    }
}

/// A cloneable connection to any topology.
#[derive(Clone)]
pub enum RedisConn {
    /// Single server or Sentinel master.
    Single(ConnectionManager),
    /// Cluster.
    Cluster(ClusterConnection),
}

fn with_resp3(url: &str) -> String {
    if url.contains("protocol=") {
        url.to_string()
    } else if url.contains('?') {
        format!("{url}&protocol=resp3")
    } else {
        format!("{url}/?protocol=resp3")
    }
}

/// Pub/sub messages the subscriber connection may queue for the bus's
/// receive loop. Past it a message is dropped and counted
/// (`gateway_queue_full_total{queue="bus_push"}`): a room hub fetches the
/// events from the log; a targeted (personal) event is lost.
pub const PUSH_QUEUE: usize = 100_000;

/// The subscriber's push channel: bounded, never blocking the connection.
#[derive(Clone)]
pub struct BoundedPush {
    tx: mpsc::Sender<PushInfo>,
    /// A disconnection notice that found the queue full (the receive loop
    /// restores the subscriptions when it sees this).
    pub missed_disconnect: Arc<AtomicBool>,
    /// Counts dropped messages.
    pub dropped: prometheus_client::metrics::counter::Counter,
}

impl BoundedPush {
    /// A channel of [`PUSH_QUEUE`] messages and its receiving end.
    pub fn new(
        dropped: prometheus_client::metrics::counter::Counter,
    ) -> (BoundedPush, mpsc::Receiver<PushInfo>) {
        Self::with_capacity(PUSH_QUEUE, dropped)
    }

    fn with_capacity(
        capacity: usize,
        dropped: prometheus_client::metrics::counter::Counter,
    ) -> (BoundedPush, mpsc::Receiver<PushInfo>) {
        let (tx, rx) = mpsc::channel(capacity);
        let push = BoundedPush {
            tx,
            missed_disconnect: Arc::new(AtomicBool::new(false)),
            dropped,
        };
        (push, rx)
    }
}

impl redis::aio::AsyncPushSender for BoundedPush {
    fn send(&self, info: PushInfo) -> Result<(), redis::aio::SendError> {
        match self.tx.try_send(info) {
            Ok(()) => Ok(()),
            Err(mpsc::error::TrySendError::Full(info)) => {
                if info.kind == redis::PushKind::Disconnection {
                    self.missed_disconnect.store(true, Ordering::Release);
                }
                self.dropped.inc();
                Ok(())
            }
            Err(mpsc::error::TrySendError::Closed(_)) => Err(redis::aio::SendError),
        }
    }
}

impl RedisConn {
    /// Connects; with `push`, pub/sub messages go there (RESP3) and
    /// subscriptions are restored after a reconnect.
    pub async fn connect(topology: &Topology, push: Option<BoundedPush>) -> RedisResult<RedisConn> {
        match topology {
            Topology::Single(url) => {
                Self::single(redis::Client::open(with_resp3(url))?, push).await
            }
            Topology::Sentinel { sentinels, master } => {
                let mut sentinel = redis::sentinel::Sentinel::build(sentinels.clone())?;
                let client = sentinel.async_master_for(master, None).await?;
                let info = client.get_connection_info().clone();
                let client = redis::Client::open(with_resp3(&format!("redis://{}", info.addr())))?;
                Self::single(client, push).await
            }
            Topology::Cluster(seeds) => {
                let mut b = ClusterClientBuilder::new(seeds.clone())
                    .use_protocol(redis::ProtocolVersion::RESP3)
                    .connection_timeout(Duration::from_secs(2))
                    .response_timeout(Duration::from_secs(2));
                if let Some(tx) = push {
                    b = b.push_sender(tx);
                }
                Ok(RedisConn::Cluster(b.build()?.get_async_connection().await?))
            }
        }
    }

    async fn single(client: redis::Client, push: Option<BoundedPush>) -> RedisResult<RedisConn> {
        let mut config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(1)))
            .set_response_timeout(Some(Duration::from_secs(1)))
            .set_max_delay(Duration::from_secs(1));
        match push {
            Some(tx) => config = config.set_push_sender(tx).set_automatic_resubscription(),
            // Requests wait on the store: during an outage, refuse them with
            // `unavailable` quickly instead of retrying for seconds.
            None => config = config.set_number_of_retries(1),
        }
        Ok(RedisConn::Single(
            ConnectionManager::new_with_config(client, config).await?,
        ))
    }

    /// Subscribes to a channel (sharded on a Cluster).
    pub async fn subscribe(&mut self, channel: &str) -> RedisResult<()> {
        match self {
            RedisConn::Single(c) => c.subscribe(channel).await,
            RedisConn::Cluster(c) => c.ssubscribe(channel).await,
        }
    }

    /// Unsubscribes from a channel.
    pub async fn unsubscribe(&mut self, channel: &str) -> RedisResult<()> {
        match self {
            RedisConn::Single(c) => c.unsubscribe(channel).await,
            RedisConn::Cluster(c) => c.sunsubscribe(channel).await,
        }
    }
}

impl ConnectionLike for RedisConn {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        match self {
            RedisConn::Single(c) => c.req_packed_command(cmd),
            RedisConn::Cluster(c) => c.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        match self {
            RedisConn::Single(c) => c.req_packed_commands(pipeline, offset, count),
            RedisConn::Cluster(c) => c.req_packed_commands(pipeline, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            RedisConn::Single(c) => c.get_db(),
            RedisConn::Cluster(c) => c.get_db(),
        }
    }
}

#[cfg(test)]
mod tests {
    use redis::aio::AsyncPushSender;
    use redis::{PushInfo, PushKind};

    use super::BoundedPush;

    fn push(kind: PushKind) -> PushInfo {
        PushInfo { kind, data: vec![] }
    }

    #[test]
    fn a_full_push_queue_drops_and_counts_and_remembers_a_disconnection() {
        let dropped = prometheus_client::metrics::counter::Counter::default();
        let (tx, mut rx) = BoundedPush::with_capacity(2, dropped.clone());
        for _ in 0..2 {
            assert!(tx.send(push(PushKind::Message)).is_ok());
        }
        // Full: dropped, counted, and the connection is not told to stop.
        assert!(tx.send(push(PushKind::Message)).is_ok());
        assert!(tx.send(push(PushKind::Disconnection)).is_ok());
        assert_eq!(dropped.get(), 2);
        assert!(
            tx.missed_disconnect
                .load(std::sync::atomic::Ordering::Acquire)
        );
        assert!(rx.try_recv().is_ok());
        assert!(tx.send(push(PushKind::Message)).is_ok());
        assert_eq!(dropped.get(), 2);
    }
}
