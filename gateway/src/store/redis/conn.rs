//! Connections to the three Redis topologies behind one type: a single
//! server (or the master Sentinel names), through a reconnecting
//! `ConnectionManager`; or a Cluster, through the cluster client.

use std::time::Duration;

use redis::aio::{ConnectionLike, ConnectionManager, ConnectionManagerConfig};
use redis::cluster::ClusterClientBuilder;
use redis::cluster_async::ClusterConnection;
use redis::{Cmd, Pipeline, PushInfo, RedisFuture, RedisResult, Value};
use tokio::sync::mpsc::UnboundedSender;

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

impl RedisConn {
    /// Connects; with `push`, pub/sub messages go there (RESP3) and
    /// subscriptions are restored after a reconnect.
    pub async fn connect(
        topology: &Topology,
        push: Option<UnboundedSender<PushInfo>>,
    ) -> RedisResult<RedisConn> {
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

    async fn single(
        client: redis::Client,
        push: Option<UnboundedSender<PushInfo>>,
    ) -> RedisResult<RedisConn> {
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
