//! A Redis store (feature `redis`), on the `redis` crate's tokio [`ConnectionManager`].
//!
//! * Key `<key_prefix><attributeName>||<attributeValue>`, value the document's JSON (the JS
//!   SDK's `RedisStickyBucketService` layout, whose prefix is empty).
//! * A lookup is one `MGET` for every requested pair; a save is one pipeline of `SET`s (with
//!   `EX` when a TTL is configured).
//! * One multiplexed connection, shared by clones and concurrent calls, reconnected in the
//!   background after a failure.
//! * Every operation is bounded by [`RedisOptions::timeout`]; on timeout or a connection error
//!   the call fails and the caller evaluates with plain hashing.
//! * The store is untrusted input: a value that is not UTF-8 JSON of a document, a document
//!   whose `attributeName`/`attributeValue` differ from the pair it was fetched for, and a value
//!   over [`RedisOptions::max_doc_bytes`] are skipped with a `tracing` warning; the rest of the
//!   lookup is returned.
//!
//! Requires a tokio runtime with the time driver enabled.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;
use core::future::Future;
use core::time::Duration;

use ::redis::aio::ConnectionManager;
use ::redis::{Client, RedisError};
use gb_core::StickyAssignmentsDocument;

use crate::error::{StickyError, StickyErrorKind};
use crate::service::{
    BoxFuture, IdentifierAttribute, StickyBucketService, dedup_attributes, doc_matches,
};

/// The default bound on one lookup or save, connection attempts included.
pub const DEFAULT_REDIS_TIMEOUT: Duration = Duration::from_secs(1);

/// The default size limit of one stored document's JSON: 1 MiB.
pub const DEFAULT_MAX_DOC_BYTES: usize = 1024 * 1024;

/// Settings of a [`RedisStickyBucketService`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RedisOptions {
    key_prefix: String,
    ttl: Option<Duration>,
    timeout: Duration,
    max_doc_bytes: usize,
}

impl Default for RedisOptions {
    fn default() -> Self {
        Self {
            key_prefix: String::new(),
            ttl: None,
            timeout: DEFAULT_REDIS_TIMEOUT,
            max_doc_bytes: DEFAULT_MAX_DOC_BYTES,
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
}

/// A sticky-bucket store in Redis. Cheap to clone (clones share the connection).
#[derive(Clone)]
pub struct RedisStickyBucketService {
    conn: ConnectionManager,
    options: RedisOptions,
}

impl fmt::Debug for RedisStickyBucketService {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisStickyBucketService")
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

fn backend(message: &'static str, e: RedisError) -> StickyError {
    // The connection's own response/connect timeouts report as Redis errors.
    let kind = if e.is_timeout() {
        StickyErrorKind::Timeout
    } else {
        StickyErrorKind::Backend
    };
    StickyError::with_source(kind, message, e)
}

/// Runs `fut` within `limit`, mapping a timeout to [`StickyErrorKind::Timeout`].
async fn bounded<T>(
    limit: Duration,
    what: &'static str,
    fut: impl Future<Output = Result<T, StickyError>>,
) -> Result<T, StickyError> {
    match tokio::time::timeout(limit, fut).await {
        Ok(r) => r,
        Err(elapsed) => Err(StickyError::with_source(
            StickyErrorKind::Timeout,
            what,
            elapsed,
        )),
    }
}

impl RedisStickyBucketService {
    /// Connects to `url` (e.g. `redis://127.0.0.1:6379/`), waiting at most the configured
    /// timeout for the first connection.
    pub async fn connect(url: &str, options: RedisOptions) -> Result<Self, StickyError> {
        let conn = gb_redis::connect(url, options.timeout).await.map_err(|e| {
            let kind = match &e {
                gb_redis::ConnectError::InvalidUrl(_) => StickyErrorKind::InvalidConfig,
                e if e.is_timeout() => StickyErrorKind::Timeout,
                _ => StickyErrorKind::Backend,
            };
            StickyError::with_source(kind, "connecting to Redis", e)
        })?;
        Ok(Self { conn, options })
    }

    /// A store that connects on first use (construction never waits or fails on the server;
    /// lookups fail until it is reachable). Must be called within a tokio runtime.
    pub fn new_lazy(client: Client, options: RedisOptions) -> Result<Self, StickyError> {
        let conn = gb_redis::connect_lazy(client, options.timeout)
            .map_err(|e| backend("creating the Redis connection manager", e))?;
        Ok(Self { conn, options })
    }

    /// A store on a connection manager you configured yourself (TLS, auth, cluster-free
    /// setups). Its own timeouts apply in addition to [`RedisOptions::timeout`].
    pub fn from_connection_manager(conn: ConnectionManager, options: RedisOptions) -> Self {
        Self { conn, options }
    }

    /// The settings in use.
    pub fn options(&self) -> &RedisOptions {
        &self.options
    }

    /// The Redis key of the document for `(attribute_name, attribute_value)`.
    pub fn key(&self, attribute_name: &str, attribute_value: &str) -> String {
        let mut k = self.options.key_prefix.clone();
        k.push_str(&gb_core::attribute_key(attribute_name, attribute_value));
        k
    }

    async fn lookup(
        &self,
        attributes: &[IdentifierAttribute],
    ) -> Result<Vec<StickyAssignmentsDocument>, StickyError> {
        let wanted = dedup_attributes(attributes);
        if wanted.is_empty() {
            return Ok(Vec::new());
        }
        let keys: Vec<String> = wanted.iter().map(|(n, v)| self.key(n, v)).collect();
        let mut conn = self.conn.clone();
        let values: Vec<Option<Vec<u8>>> = bounded(self.options.timeout, "Redis MGET", async {
            ::redis::cmd("MGET")
                .arg(&keys)
                .query_async(&mut conn)
                .await
                .map_err(|e| backend("Redis MGET", e))
        })
        .await?;
        let mut out = Vec::with_capacity(wanted.len());
        for ((name, value), raw) in wanted.into_iter().zip(values) {
            let Some(raw) = raw else { continue };
            if let Some(doc) = self.decode(name, value, &raw) {
                out.push(doc);
            }
        }
        Ok(out)
    }

    fn decode(&self, name: &str, value: &str, raw: &[u8]) -> Option<StickyAssignmentsDocument> {
        if raw.len() > self.options.max_doc_bytes {
            tracing::warn!(
                attribute_name = %name,
                bytes = raw.len(),
                limit = self.options.max_doc_bytes,
                "sticky-bucket document over the size limit; ignored"
            );
            return None;
        }
        let doc: StickyAssignmentsDocument = match serde_json::from_slice(raw) {
            Ok(doc) => doc,
            Err(e) => {
                tracing::warn!(
                    attribute_name = %name,
                    error = %e,
                    "sticky-bucket document is not valid JSON of a document; ignored"
                );
                return None;
            }
        };
        if !doc_matches(&doc, name, value) {
            tracing::warn!(
                attribute_name = %name,
                "sticky-bucket document content does not match its key; ignored"
            );
            return None;
        }
        Some(doc)
    }

    async fn store(&self, docs: Vec<StickyAssignmentsDocument>) -> Result<(), StickyError> {
        let mut first_err = None;
        let mut pipe = ::redis::pipe();
        let mut n = 0usize;
        let ttl = self.options.ttl.map(|t| t.as_secs().max(1));
        for doc in &docs {
            let json = match serde_json::to_string(doc) {
                Ok(j) => j,
                Err(e) => {
                    first_err.get_or_insert(StickyError::with_source(
                        StickyErrorKind::Encode,
                        "serializing a document",
                        e,
                    ));
                    continue;
                }
            };
            if json.len() > self.options.max_doc_bytes {
                tracing::warn!(
                    attribute_name = %doc.attribute_name,
                    bytes = json.len(),
                    "sticky-bucket document over the size limit; not saved"
                );
                first_err.get_or_insert(StickyError::new(
                    StickyErrorKind::TooLarge,
                    format!(
                        "document for `{}` is {} bytes, over the {} byte limit",
                        doc.attribute_name,
                        json.len(),
                        self.options.max_doc_bytes
                    ),
                ));
                continue;
            }
            let key = self.key(&doc.attribute_name, &doc.attribute_value);
            let cmd = pipe.cmd("SET").arg(key).arg(json);
            if let Some(secs) = ttl {
                cmd.arg("EX").arg(secs);
            }
            cmd.ignore();
            n += 1;
        }
        if n > 0 {
            let mut conn = self.conn.clone();
            bounded(self.options.timeout, "Redis SET pipeline", async {
                pipe.query_async::<()>(&mut conn)
                    .await
                    .map_err(|e| backend("Redis SET pipeline", e))
            })
            .await?;
        }
        first_err.map_or(Ok(()), Err)
    }
}

impl StickyBucketService for RedisStickyBucketService {
    fn get_all_assignments<'a>(
        &'a self,
        attributes: &'a [IdentifierAttribute],
    ) -> BoxFuture<'a, Result<Vec<StickyAssignmentsDocument>, StickyError>> {
        Box::pin(self.lookup(attributes))
    }

    /// Saves in one pipeline. Documents over the size limit are not saved and the call returns
    /// [`StickyErrorKind::TooLarge`] after saving the others.
    fn save_assignments(
        &self,
        docs: Vec<StickyAssignmentsDocument>,
    ) -> BoxFuture<'_, Result<(), StickyError>> {
        Box::pin(self.store(docs))
    }
}
