//! [`RedisOptions`]: the settings of the Redis sticky-bucket store, and their defaults.

use core::time::Duration;

/// The default bound on one lookup or save, connection attempts included.
pub const DEFAULT_REDIS_TIMEOUT: Duration = Duration::from_secs(1);

/// The default size limit of one stored document's JSON: 1 MiB.
pub const DEFAULT_MAX_DOC_BYTES: usize = 1024 * 1024;

/// The default bound of the write queue kept while Redis is unreachable: 10 000 documents.
pub const DEFAULT_PENDING_DOCS: usize = 10_000;

/// The default byte bound (keys + JSON) of that queue: 16 MiB.
pub const DEFAULT_PENDING_BYTES: usize = 16 * 1024 * 1024;

/// Settings of a [`RedisStickyBucketService`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RedisOptions {
    pub(super) key_prefix: String,
    pub(super) ttl: Option<Duration>,
    pub(super) timeout: Duration,
    pub(super) max_doc_bytes: usize,
    pub(super) replica_acks: u32,
    pub(super) probe_interval: Duration,
    pub(super) pending_docs: usize,
    pub(super) pending_bytes: usize,
}

impl Default for RedisOptions {
    fn default() -> Self {
        Self {
            key_prefix: String::new(),
            ttl: None,
            timeout: DEFAULT_REDIS_TIMEOUT,
            max_doc_bytes: DEFAULT_MAX_DOC_BYTES,
            replica_acks: 0,
            probe_interval: gb_redis::DEFAULT_PROBE_INTERVAL,
            pending_docs: DEFAULT_PENDING_DOCS,
            pending_bytes: DEFAULT_PENDING_BYTES,
        }
    }
}

impl RedisOptions {
    /// Defaults: no key prefix (JS-compatible), no TTL, [`DEFAULT_REDIS_TIMEOUT`],
    /// [`DEFAULT_MAX_DOC_BYTES`].
    pub fn new() -> Self {
        Self::default()
    }

    /// Prepends `prefix` to every key, e.g. `"gb:sticky:"`.
    pub fn key_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.key_prefix = prefix.into();
        self
    }

    /// Expires documents `ttl` after their last save (whole seconds, at least 1), or never with
    /// `None`.
    pub fn ttl(mut self, ttl: Option<Duration>) -> Self {
        self.ttl = ttl;
        self
    }

    /// Bounds every lookup and save (at least 1 ms).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout.max(Duration::from_millis(1));
        self
    }

    /// The largest document JSON, in bytes, that is read or written.
    pub fn max_doc_bytes(mut self, bytes: usize) -> Self {
        self.max_doc_bytes = bytes;
        self
    }

    /// After each save, waits (`WAIT`, at most half the timeout) until `replicas` replicas
    /// hold the write; fewer counts as a failed save (queued for replay). With 1 on a cluster
    /// with replicas, an acknowledged save survives its master's failover. 0 (the default)
    /// does not wait.
    pub fn replica_acks(mut self, replicas: u32) -> Self {
        self.replica_acks = replicas;
        self
    }

    /// How often the circuit breaker probes Redis while open (default 200 ms).
    pub fn probe_interval(mut self, interval: Duration) -> Self {
        self.probe_interval = interval;
        self
    }

    /// Bounds the queue of saves waiting for Redis: at most `docs` documents and `bytes`
    /// bytes of keys and JSON.
    pub fn pending_limits(mut self, docs: usize, bytes: usize) -> Self {
        self.pending_docs = docs;
        self.pending_bytes = bytes;
        self
    }

    /// The key prefix.
    pub fn get_key_prefix(&self) -> &str {
        &self.key_prefix
    }

    /// The TTL, if any.
    pub fn get_ttl(&self) -> Option<Duration> {
        self.ttl
    }

    /// The operation timeout.
    pub fn get_timeout(&self) -> Duration {
        self.timeout
    }

    /// The document size limit.
    pub fn get_max_doc_bytes(&self) -> usize {
        self.max_doc_bytes
    }

    /// The replicas each save waits for.
    pub fn get_replica_acks(&self) -> u32 {
        self.replica_acks
    }

    /// The breaker's probe interval.
    pub fn get_probe_interval(&self) -> Duration {
        self.probe_interval
    }

    /// The write-queue limits: `(documents, bytes)`.
    pub fn get_pending_limits(&self) -> (usize, usize) {
        (self.pending_docs, self.pending_bytes)
    }
}
