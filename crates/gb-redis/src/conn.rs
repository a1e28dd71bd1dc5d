//! One connection type for a single server or a Redis Cluster, and where a store's keys go.

use alloc::string::String;
use alloc::vec::Vec;
use core::time::Duration;
use std::collections::HashMap;

use redis::aio::{ConnectionLike, ConnectionManager};
use redis::cluster::ClusterClient;
use redis::cluster_async::ClusterConnection;
use redis::cluster_routing::Slot;
use redis::{Cmd, Pipeline, RedisFuture, Value};

use crate::ConnectError;

/// Where the Redis data lives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// One server (or a proxy in front of several): `redis://host:port/db`.
    Single(String),
    /// A Redis Cluster, given by one or more of its nodes (`redis://host:port`); the rest of
    /// the topology is discovered from them.
    Cluster(Vec<String>),
}

impl Target {
    /// One server.
    pub fn single(url: impl Into<String>) -> Self {
        Self::Single(url.into())
    }

    /// A cluster from seed node URLs.
    pub fn cluster<I, S>(nodes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Self::Cluster(nodes.into_iter().map(Into::into).collect())
    }
}

/// A multiplexed connection to a single server ([`ConnectionManager`]) or to a Redis Cluster
/// ([`ClusterConnection`]). Cheap to clone; clones share the connection(s). Both reconnect in
/// the background after a failure; the cluster one also follows `MOVED`/`ASK` redirections and
/// failovers.
#[derive(Clone)]
pub enum RedisConn {
    /// A single server.
    Single(ConnectionManager),
    /// A Redis Cluster.
    Cluster(ClusterConnection),
}

impl core::fmt::Debug for RedisConn {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            Self::Single(_) => "RedisConn::Single",
            Self::Cluster(_) => "RedisConn::Cluster",
        })
    }
}

impl ConnectionLike for RedisConn {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        match self {
            Self::Single(c) => c.req_packed_command(cmd),
            Self::Cluster(c) => c.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        cmd: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        match self {
            Self::Single(c) => c.req_packed_commands(cmd, offset, count),
            Self::Cluster(c) => c.req_packed_commands(cmd, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            Self::Single(c) => c.get_db(),
            Self::Cluster(c) => c.get_db(),
        }
    }
}

impl From<ConnectionManager> for RedisConn {
    fn from(c: ConnectionManager) -> Self {
        Self::Single(c)
    }
}

impl From<ClusterConnection> for RedisConn {
    fn from(c: ClusterConnection) -> Self {
        Self::Cluster(c)
    }
}

impl RedisConn {
    /// Whether this is a cluster connection.
    pub fn is_cluster(&self) -> bool {
        matches!(self, Self::Cluster(_))
    }

    /// Splits `keys` (by index, order kept within each group) into groups that one multi-key
    /// command (`MGET`) or one pipeline can carry: a single group on a single server, one group
    /// per hash slot on a cluster (a cluster rejects a pipeline or `MGET` that spans slots).
    /// Groups come in the order of their first key.
    pub fn group_by_slot<K: AsRef<[u8]>>(&self, keys: &[K]) -> Vec<Vec<usize>> {
        if keys.is_empty() {
            return Vec::new();
        }
        if !self.is_cluster() {
            return alloc::vec![(0..keys.len()).collect()];
        }
        let mut groups: Vec<Vec<usize>> = Vec::new();
        let mut by_slot: HashMap<Slot, usize> = HashMap::new();
        for (i, k) in keys.iter().enumerate() {
            let g = *by_slot.entry(Slot::for_key(k)).or_insert_with(|| {
                groups.push(Vec::new());
                groups.len() - 1
            });
            if let Some(group) = groups.get_mut(g) {
                group.push(i);
            }
        }
        groups
    }
}

/// Connects to `target`, waiting at most `timeout` (a single server through [`crate::connect`];
/// a cluster reads its slot map from the first seed node that answers). Per-node connect and
/// response timeouts are `timeout`; the cluster client retries a redirected or failed request
/// up to 3 times (50 ms up to `timeout` apart), bounded overall by `timeout`.
///
/// # Errors
/// [`ConnectError`] for a bad URL, a timeout or a refused connection.
pub async fn connect_to(target: &Target, timeout: Duration) -> Result<RedisConn, ConnectError> {
    match target {
        Target::Single(url) => crate::connect(url, timeout).await.map(RedisConn::Single),
        Target::Cluster(nodes) => {
            let millis = u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX);
            let client = ClusterClient::builder(nodes.iter().map(String::as_str))
                .connection_timeout(timeout)
                .response_timeout(timeout)
                .retries(3)
                .min_retry_wait(50)
                .max_retry_wait(millis.max(50))
                .build()
                .map_err(ConnectError::InvalidUrl)?;
            tokio::time::timeout(timeout, client.get_async_connection())
                .await
                .map_err(|_| ConnectError::Timeout(timeout))?
                .map(RedisConn::Cluster)
                .map_err(ConnectError::Connect)
        }
    }
}
