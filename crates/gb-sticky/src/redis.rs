//! A Redis store (feature `redis`) on a single server or a Redis Cluster, through gb-redis's
//! shared connection setup ([`gb_redis::Redis`]: connection, circuit breaker, timeout).
//!
//! * Key `<key_prefix><attributeName>||<attributeValue>`, value the document's JSON (the JS
//!   SDK's `RedisStickyBucketService` layout, whose prefix is empty). Keys are not hash-tagged:
//!   a user's documents are keyed by different attributes (`id`, `deviceId`, ...), so no tag
//!   could keep them together without one tag for everyone (one hot slot); instead requests are
//!   grouped by hash slot.
//! * A lookup is one `MGET` per hash slot of the requested pairs (one `MGET` in all on a single
//!   server); a save is one pipeline of `SET`s (with `EX` when a TTL is configured) per slot,
//!   followed by `WAIT` when [`RedisOptions::replica_acks`] is set. A cluster rejects a `MGET`
//!   or pipeline spanning slots, so the grouping is what makes the store work on a cluster.
//! * One multiplexed connection (per node on a cluster), shared by clones and concurrent calls,
//!   reconnected in the background after a failure.
//! * Every operation is bounded by [`RedisOptions::timeout`]. A timeout or connection error
//!   opens the circuit breaker: from then on lookups fail at once
//!   ([`StickyErrorKind::Unavailable`]) and the caller evaluates with plain hashing, until a
//!   background probe (every [`RedisOptions::probe_interval`]) finds Redis back.
//! * No write is silently lost: a save that meets the outage is queued (bounded by
//!   [`RedisOptions::pending_limits`]; the latest document per key, in save order) and returns
//!   [`StickyErrorKind::Unavailable`]; the queue is written, in order and before anything else,
//!   by the first call after Redis is back. A save that does not fit the queue returns
//!   [`StickyErrorKind::Dropped`] and is counted in
//!   [`dropped_docs`](RedisStickyBucketService::dropped_docs).
//! * The store is untrusted input: a value that is not UTF-8 JSON of a document, a document
//!   whose `attributeName`/`attributeValue` differ from the pair it was fetched for, and a value
//!   over [`RedisOptions::max_doc_bytes`] are skipped with a `tracing` warning; the rest of the
//!   lookup is returned.
//!
//! Requires a tokio runtime with the time driver enabled.

mod options;
mod pending;

use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::fmt;
use core::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use core::time::Duration;

use ::redis::Client;
use ::redis::aio::ConnectionManager;
use gb_core::StickyAssignmentsDocument;
use gb_redis::{CircuitBreaker, Failure, Redis, Target};

pub use self::options::{
    DEFAULT_MAX_DOC_BYTES, DEFAULT_PENDING_BYTES, DEFAULT_PENDING_DOCS, DEFAULT_REDIS_TIMEOUT,
    RedisOptions,
};
use self::pending::Pending;

use crate::error::{StickyError, StickyErrorKind};
use crate::service::{
    BoxFuture, IdentifierAttribute, StickyBucketService, dedup_attributes, doc_matches,
};

/// A sticky-bucket store in Redis (single server or cluster). Cheap to clone (clones share the
/// connection, the circuit breaker and the write queue).
#[derive(Clone)]
pub struct RedisStickyBucketService {
    redis: Redis,
    options: RedisOptions,
    writes: Arc<Writes>,
}

/// The write side: the queue behind an async lock that also orders saves.
struct Writes {
    queue: tokio::sync::Mutex<Pending>,
    queued: AtomicUsize,
    dropped: AtomicU64,
}

impl fmt::Debug for RedisStickyBucketService {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisStickyBucketService")
            .field("conn", self.redis.conn())
            .field("options", &self.options)
            .field("pending", &self.pending_docs())
            .finish_non_exhaustive()
    }
}

/// Maps a guarded call's failure to the store's error.
fn failure(message: &'static str, f: Failure) -> StickyError {
    let kind = match &f {
        Failure::Open => StickyErrorKind::Unavailable,
        f if f.is_timeout() => StickyErrorKind::Timeout,
        _ => StickyErrorKind::Backend,
    };
    StickyError::with_source(kind, message, f)
}

fn connect_error(e: gb_redis::ConnectError) -> StickyError {
    let kind = match &e {
        gb_redis::ConnectError::InvalidUrl(_) => StickyErrorKind::InvalidConfig,
        e if e.is_timeout() => StickyErrorKind::Timeout,
        _ => StickyErrorKind::Backend,
    };
    StickyError::with_source(kind, "connecting to Redis", e)
}

/// Why a batch of writes was not acknowledged.
enum WriteFailure {
    /// Redis unreachable, or fewer replicas than asked acknowledged: worth replaying.
    Outage(Failure),
    /// Redis answered with an error: replaying would fail the same way.
    Rejected(Failure),
}

impl RedisStickyBucketService {
    /// Connects to one server at `url` (e.g. `redis://127.0.0.1:6379/`), waiting at most the
    /// configured timeout for the first connection.
    pub async fn connect(url: &str, options: RedisOptions) -> Result<Self, StickyError> {
        Self::connect_to(&Target::single(url), options).await
    }

    /// Connects to a Redis Cluster through any of its nodes (`redis://127.0.0.1:7000`),
    /// waiting at most the configured timeout.
    pub async fn connect_cluster<I, S>(nodes: I, options: RedisOptions) -> Result<Self, StickyError>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Self::connect_to(&Target::cluster(nodes), options).await
    }

    /// Connects to a single server or a cluster.
    pub async fn connect_to(target: &Target, options: RedisOptions) -> Result<Self, StickyError> {
        let conn = gb_redis::connect_to(target, options.timeout)
            .await
            .map_err(connect_error)?;
        let breaker = CircuitBreaker::new(options.probe_interval);
        Ok(Self::from_redis(
            Redis::new(conn, options.timeout).with_breaker(breaker),
            options,
        ))
    }

    /// A store that connects on first use (construction never waits or fails on the server;
    /// lookups fail until it is reachable). Must be called within a tokio runtime.
    pub fn new_lazy(client: Client, options: RedisOptions) -> Result<Self, StickyError> {
        let conn = gb_redis::connect_lazy(client, options.timeout).map_err(|e| {
            StickyError::with_source(
                StickyErrorKind::Backend,
                "creating the Redis connection manager",
                e,
            )
        })?;
        let breaker = CircuitBreaker::new(options.probe_interval);
        Ok(Self::from_redis(
            Redis::new(conn, options.timeout).with_breaker(breaker),
            options,
        ))
    }

    /// A store on a connection manager you configured yourself (TLS, auth). Its own timeouts
    /// apply in addition to [`RedisOptions::timeout`].
    pub fn from_connection_manager(conn: ConnectionManager, options: RedisOptions) -> Self {
        let breaker = CircuitBreaker::new(options.probe_interval);
        Self::from_redis(
            Redis::new(conn, options.timeout).with_breaker(breaker),
            options,
        )
    }

    /// A store on a guarded connection you built with gb-redis (e.g. one shared, breaker
    /// included, with a `RedisFeatureCache`). Its timeout and breaker are used as they are.
    pub fn from_redis(redis: Redis, options: RedisOptions) -> Self {
        let writes = Writes {
            queue: tokio::sync::Mutex::new(Pending::new(
                options.pending_docs,
                options.pending_bytes,
            )),
            queued: AtomicUsize::new(0),
            dropped: AtomicU64::new(0),
        };
        Self {
            redis,
            options,
            writes: Arc::new(writes),
        }
    }

    /// The settings in use.
    pub fn options(&self) -> &RedisOptions {
        &self.options
    }

    /// The guarded connection (connection, breaker, timeout).
    pub fn redis(&self) -> &Redis {
        &self.redis
    }

    /// Documents queued while Redis was unreachable, not yet written.
    pub fn pending_docs(&self) -> usize {
        self.writes.queued.load(Ordering::Acquire)
    }

    /// Documents dropped because the write queue was full.
    pub fn dropped_docs(&self) -> u64 {
        self.writes.dropped.load(Ordering::Relaxed)
    }

    /// Writes the queued documents now, in order; returns how many were written. Every call
    /// does this first anyway once Redis is back; this is for shutdown and tests.
    ///
    /// # Errors
    /// The failure if Redis is still unreachable (the queue is kept).
    pub async fn flush_pending(&self) -> Result<usize, StickyError> {
        let mut queue = self.writes.queue.lock().await;
        self.flush_locked(&mut queue)
            .await
            .map_err(|(kind, f)| StickyError::with_source(kind, "writing queued documents", f))
    }

    /// The Redis key of the document for `(attribute_name, attribute_value)`.
    pub fn key(&self, attribute_name: &str, attribute_value: &str) -> String {
        let mut k = self.options.key_prefix.clone();
        k.push_str(&gb_core::sticky::attribute_key(
            attribute_name,
            attribute_value,
        ));
        k
    }

    /// Writes the queue. On an outage the queue is kept (`Unavailable`); if Redis rejects the
    /// writes (an error answer, which a replay would meet again) they are dropped, counted and
    /// reported (`Dropped`), so that one bad batch cannot block every later save.
    async fn flush_locked(&self, queue: &mut Pending) -> Result<usize, (StickyErrorKind, Failure)> {
        if queue.is_empty() {
            return Ok(0);
        }
        let entries = queue.snapshot();
        let result = self.write(&entries).await;
        if let Err(WriteFailure::Outage(f)) = result {
            return Err((StickyErrorKind::Unavailable, f));
        }
        queue.clear();
        self.writes.queued.store(0, Ordering::Release);
        match result {
            Ok(()) => {
                tracing::info!(
                    docs = entries.len(),
                    "queued sticky-bucket documents written"
                );
                Ok(entries.len())
            }
            Err(WriteFailure::Outage(f) | WriteFailure::Rejected(f)) => {
                self.writes
                    .dropped
                    .fetch_add(entries.len() as u64, Ordering::Relaxed);
                tracing::error!(docs = entries.len(), error = %f, "queued sticky-bucket documents rejected by Redis; dropped");
                Err((StickyErrorKind::Dropped, f))
            }
        }
    }

    async fn lookup(
        &self,
        attributes: &[IdentifierAttribute],
    ) -> Result<Vec<StickyAssignmentsDocument>, StickyError> {
        let wanted = dedup_attributes(attributes);
        if wanted.is_empty() {
            return Ok(Vec::new());
        }
        // Read our own queued writes: they go out first once Redis is back.
        if self.pending_docs() > 0 && !self.redis.breaker().is_open() {
            self.flush_pending().await?;
        }
        let keys: Vec<String> = wanted.iter().map(|(n, v)| self.key(n, v)).collect();
        let groups = self.redis.conn().group_by_slot(&keys);
        let values = self
            .redis
            .run(|mut conn| async move {
                let mut values: Vec<Option<Vec<u8>>> = alloc::vec![None; keys.len()];
                for group in groups {
                    let mut cmd = ::redis::cmd("MGET");
                    for &i in &group {
                        cmd.arg(keys.get(i).map_or("", String::as_str));
                    }
                    let got: Vec<Option<Vec<u8>>> = cmd.query_async(&mut conn).await?;
                    for (i, v) in group.into_iter().zip(got) {
                        if let Some(slot) = values.get_mut(i) {
                            *slot = v;
                        }
                    }
                }
                Ok(values)
            })
            .await
            .map_err(|f| failure("Redis MGET", f))?;
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

    /// Writes `(key, json)` pairs: one pipeline per hash slot, each `SET` (with `EX` for a
    /// TTL) and, with replica acks, a `WAIT` checked against the count asked for.
    async fn write(&self, entries: &[(String, String)]) -> Result<(), WriteFailure> {
        let keys: Vec<&str> = entries.iter().map(|(k, _)| k.as_str()).collect();
        let groups = self.redis.conn().group_by_slot(&keys);
        let ttl = self.options.ttl.map(|t| t.as_secs().max(1));
        let acks = self.options.replica_acks;
        let wait_ms = u64::try_from((self.options.timeout / 2).as_millis())
            .unwrap_or(u64::MAX)
            .max(1);
        let short = self
            .redis
            .run(|mut conn| async move {
                let mut short = None;
                for group in groups {
                    let mut pipe = ::redis::pipe();
                    for &i in &group {
                        let Some((key, json)) = entries.get(i) else {
                            continue;
                        };
                        let cmd = pipe.cmd("SET").arg(key).arg(json);
                        if let Some(secs) = ttl {
                            cmd.arg("EX").arg(secs);
                        }
                        cmd.ignore();
                    }
                    if acks == 0 {
                        pipe.query_async::<()>(&mut conn).await?;
                    } else {
                        pipe.cmd("WAIT").arg(acks).arg(wait_ms);
                        let (got,): (u32,) = pipe.query_async(&mut conn).await?;
                        if got < acks {
                            short.get_or_insert(got);
                        }
                    }
                }
                Ok(short)
            })
            .await
            .map_err(|f| {
                if f.is_outage() {
                    WriteFailure::Outage(f)
                } else {
                    WriteFailure::Rejected(f)
                }
            })?;
        match short {
            None => Ok(()),
            Some(got) => {
                tracing::warn!(
                    acks = got,
                    wanted = acks,
                    "sticky-bucket save not replicated"
                );
                Err(WriteFailure::Outage(Failure::Timeout(
                    Duration::from_millis(wait_ms),
                )))
            }
        }
    }

    async fn store(&self, docs: Vec<StickyAssignmentsDocument>) -> Result<(), StickyError> {
        let mut first_err = None;
        let mut entries = Vec::with_capacity(docs.len());
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
            entries.push((self.key(&doc.attribute_name, &doc.attribute_value), json));
        }
        if entries.is_empty() {
            return first_err.map_or(Ok(()), Err);
        }
        // One save at a time, after the queue: saves reach Redis in the order they were made.
        let mut queue = self.writes.queue.lock().await;
        let outage = if !queue.is_empty() && self.redis.breaker().is_open() {
            // Still down: do not even try (the breaker answers at once and starts a probe).
            Some(Failure::Open)
        } else {
            match self.flush_locked(&mut queue).await {
                Err((StickyErrorKind::Unavailable, f)) => Some(f),
                // Rejected queued writes were dropped, counted and logged; this save goes on.
                Err(_) | Ok(_) => match self.write(&entries).await {
                    Ok(()) => None,
                    Err(WriteFailure::Outage(f)) => Some(f),
                    Err(WriteFailure::Rejected(f)) => {
                        return Err(failure("Redis SET pipeline", f));
                    }
                },
            }
        };
        if let Some(f) = outage {
            if matches!(f, Failure::Open) {
                // Let the breaker start its probe.
                let _ = self.redis.run(|_| async { Ok(()) }).await;
            }
            let mut dropped = 0usize;
            let n = entries.len();
            for (key, json) in entries {
                if !queue.push(key, json) {
                    dropped += 1;
                }
            }
            self.writes.queued.store(queue.len(), Ordering::Release);
            if dropped > 0 {
                self.writes
                    .dropped
                    .fetch_add(dropped as u64, Ordering::Relaxed);
                tracing::error!(dropped, "sticky-bucket write queue full; documents dropped");
                return Err(StickyError::with_source(
                    StickyErrorKind::Dropped,
                    format!("{dropped} of {n} documents dropped: the write queue is full"),
                    f,
                ));
            }
            return Err(StickyError::with_source(
                StickyErrorKind::Unavailable,
                format!("Redis unreachable: {n} documents queued, written when it is back"),
                f,
            ));
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

    /// Saves in one pipeline per hash slot. Documents over the size limit are not saved and the
    /// call returns [`StickyErrorKind::TooLarge`] after saving the others. While Redis is
    /// unreachable the documents are queued ([`StickyErrorKind::Unavailable`]) or, if the queue
    /// is full, dropped ([`StickyErrorKind::Dropped`]).
    fn save_assignments(
        &self,
        docs: Vec<StickyAssignmentsDocument>,
    ) -> BoxFuture<'_, Result<(), StickyError>> {
        Box::pin(self.store(docs))
    }
}
