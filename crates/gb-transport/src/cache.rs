//! Feature caches shared beyond one client: the [`FeatureCache`] trait, an in-process
//! [`MemoryFeatureCache`], an atomically written [`FileFeatureCache`] and, with the `redis`
//! feature, `RedisFeatureCache`.
//!
//! A cache holds the payload **exactly as the server sent it** (the raw body text, with its
//! ETag): an encrypted payload stays encrypted at rest, and is parsed, decrypted and validated
//! each time it is loaded. An entry that fails validation is ignored, never applied. The stream
//! manager ([`FeatureSource::stream`](crate::FeatureSource::stream)) reads and writes them.
//!
//! An entry is stored as one line of JSON metadata (`{"key", "fetchedAtMs", "etag"}`), a
//! newline, then the body byte for byte.

use alloc::boxed::Box;
use alloc::string::String;
use alloc::sync::Arc;
use core::fmt;
use core::time::Duration;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value};

use crate::BoxFuture;

/// A cache read or write that failed (the client logs it and goes on without the cache): a
/// message, and the cause (an `io::Error`, a Redis error) as [`source`](core::error::Error::source).
#[derive(Debug, Clone)]
pub struct CacheError {
    message: String,
    source: Option<Arc<dyn core::error::Error + Send + Sync>>,
}

impl CacheError {
    /// An error with this message.
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            source: None,
        }
    }

    /// An error with this message, caused by `source`.
    pub fn with_source(
        message: impl Into<String>,
        source: impl core::error::Error + Send + Sync + 'static,
    ) -> Self {
        Self {
            message: message.into(),
            source: Some(Arc::new(source)),
        }
    }

    /// The message.
    pub fn message(&self) -> &str {
        &self.message
    }
}

/// Equal when the messages are (the causes are not compared).
impl PartialEq for CacheError {
    fn eq(&self, other: &Self) -> bool {
        self.message == other.message
    }
}

impl Eq for CacheError {}

impl fmt::Display for CacheError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "feature cache: {}", self.message)
    }
}

impl core::error::Error for CacheError {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn core::error::Error + 'static))
    }
}

/// The result of a cache operation.
pub type Result<T, E = CacheError> = core::result::Result<T, E>;

/// One cached payload: the body as served, its ETag and when it was fetched.
#[derive(Debug, Clone, PartialEq)]
pub struct CacheEntry {
    /// The features response body exactly as served (still encrypted if the server encrypted
    /// it).
    pub body: Arc<str>,
    /// The body's `ETag`, if the server sent one (none for a payload pushed over SSE).
    pub etag: Option<String>,
    /// When the body was fetched (or last revalidated) from the server.
    pub fetched_at: SystemTime,
}

impl CacheEntry {
    /// An entry fetched now, without an ETag.
    pub fn now(body: impl Into<Arc<str>>) -> Self {
        Self {
            body: body.into(),
            etag: None,
            fetched_at: SystemTime::now(),
        }
    }

    /// The entry's age (zero if its time is in the future).
    pub fn age(&self) -> Duration {
        SystemTime::now()
            .duration_since(self.fetched_at)
            .unwrap_or_default()
    }

    /// Serializes the entry with its cache key: a metadata line
    /// `{"key", "fetchedAtMs", "etag"}`, `\n`, then the body as served.
    pub fn to_text(&self, key: &str) -> String {
        let ms = self
            .fetched_at
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
        let mut m = Map::new();
        m.insert("key".into(), key.into());
        m.insert("fetchedAtMs".into(), ms.into());
        m.insert(
            "etag".into(),
            self.etag.clone().map_or(Value::Null, Value::from),
        );
        let mut text = Value::Object(m).to_string();
        text.push('\n');
        text.push_str(&self.body);
        text
    }

    /// Parses what [`to_text`](Self::to_text) wrote; `None` if it is malformed or was stored
    /// under another key (another client key or host). The body itself is checked when it is
    /// loaded.
    pub fn from_text(text: &str, key: &str) -> Option<Self> {
        let (meta, body) = text.split_once('\n')?;
        let meta: Value = serde_json::from_str(meta).ok()?;
        if meta.get("key")?.as_str()? != key {
            return None;
        }
        let ms = meta.get("fetchedAtMs")?.as_u64()?;
        let etag = meta.get("etag").and_then(Value::as_str).map(String::from);
        Some(Self {
            body: body.into(),
            etag,
            fetched_at: UNIX_EPOCH + Duration::from_millis(ms),
        })
    }
}

/// A cache of payloads shared by clients (in one process, or across processes).
///
/// Object-safe: pass it as `Arc<dyn FeatureCache>`. The client reads it before fetching (a
/// fresh enough entry saves the fetch) and writes every payload it fetches. Errors are logged
/// and otherwise ignored: a cache never stops the client from fetching.
///
/// A client stores its payload under the key `<api_host>|<client_key>` (the host without a
/// trailing `/`), so clients of the same project share entries.
pub trait FeatureCache: Send + Sync + fmt::Debug {
    /// The entry under `key`, if any.
    fn get<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<CacheEntry>>>;

    /// Stores `entry` under `key`.
    fn set<'a>(&'a self, key: &'a str, entry: CacheEntry) -> BoxFuture<'a, Result<()>>;
}

/// An in-process cache: clients built with the same `Arc<MemoryFeatureCache>` share fetches.
#[derive(Debug, Default)]
pub struct MemoryFeatureCache {
    entries: Mutex<HashMap<String, CacheEntry>>,
}

impl MemoryFeatureCache {
    /// An empty cache.
    pub fn new() -> Self {
        Self::default()
    }
}

impl FeatureCache for MemoryFeatureCache {
    fn get<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<CacheEntry>>> {
        let entry = self
            .entries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(key)
            .cloned();
        Box::pin(async move { Ok(entry) })
    }

    fn set<'a>(&'a self, key: &'a str, entry: CacheEntry) -> BoxFuture<'a, Result<()>> {
        self.entries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(key.into(), entry);
        Box::pin(async { Ok(()) })
    }
}

/// A cache in one file, so a restart during an outage still has flags.
///
/// Writes are atomic: a temporary file in the same directory is written, synced and renamed
/// over the target, so a crash mid-write leaves the previous file intact. A file that is empty,
/// truncated, malformed or written for another client key is ignored. The file holds the
/// payload as served (encrypted payloads stay encrypted).
#[derive(Debug, Clone)]
pub struct FileFeatureCache {
    path: Arc<PathBuf>,
}

impl FileFeatureCache {
    /// A cache in the file at `path` (its directory must exist).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self {
            path: Arc::new(path.into()),
        }
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn read(path: &Path, key: &str) -> Result<Option<CacheEntry>> {
        match std::fs::read_to_string(path) {
            Ok(text) => {
                let entry = CacheEntry::from_text(&text, key);
                if entry.is_none() {
                    tracing::warn!(path = %path.display(), "ignored an unusable feature cache file");
                }
                Ok(entry)
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(CacheError::with_source(
                format!("reading {}", path.display()),
                e,
            )),
        }
    }

    fn write(path: &Path, text: &str) -> Result<()> {
        use std::io::Write as _;
        let io =
            |e: std::io::Error| CacheError::with_source(format!("writing {}", path.display()), e);
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("cache");
        let nonce = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let tmp = path.with_file_name(format!(".{name}.{}.{nonce}.tmp", std::process::id()));
        let result = (|| {
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(text.as_bytes())?;
            f.sync_all()?;
            std::fs::rename(&tmp, path)
        })();
        if result.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        result.map_err(io)
    }
}

/// Runs blocking file I/O off the async worker threads.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| CacheError::with_source("file task failed", e))?
}

impl FeatureCache for FileFeatureCache {
    fn get<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<CacheEntry>>> {
        let path = Arc::clone(&self.path);
        let key = String::from(key);
        Box::pin(blocking(move || Self::read(&path, &key)))
    }

    fn set<'a>(&'a self, key: &'a str, entry: CacheEntry) -> BoxFuture<'a, Result<()>> {
        let path = Arc::clone(&self.path);
        let text = entry.to_text(key);
        Box::pin(blocking(move || Self::write(&path, &text)))
    }
}

#[cfg(feature = "redis")]
pub use self::redis_cache::RedisFeatureCache;

#[cfg(feature = "redis")]
mod redis_cache {
    use alloc::string::String;
    use core::fmt;
    use core::time::Duration;

    use gb_redis::redis::AsyncCommands as _;
    use gb_redis::redis::aio::ConnectionManager;
    use gb_redis::{Failure, Redis, Target};

    use super::{CacheEntry, CacheError, FeatureCache, Result};
    use crate::BoxFuture;

    /// The default per-command timeout.
    const DEFAULT_TIMEOUT: Duration = Duration::from_millis(500);

    /// A [`FeatureCache`] in Redis (one server or a Redis Cluster): processes that share it
    /// share one fetch per TTL.
    ///
    /// Keys are `<prefix><cache key>` (one key per command, so any cluster slot will do);
    /// entries expire after [`with_expiry`](Self::with_expiry) (default 24 h) so an abandoned
    /// client key does not stay forever. Every command is bounded by a timeout (default
    /// 500 ms) and goes through gb-redis's circuit breaker: once Redis timed out or refused,
    /// reads and writes fail at once (the caller fetches from the network as without a cache)
    /// until a background probe finds it back.
    #[derive(Clone)]
    pub struct RedisFeatureCache {
        redis: Redis,
        prefix: String,
        expiry: Duration,
    }

    impl fmt::Debug for RedisFeatureCache {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.debug_struct("RedisFeatureCache")
                .field("conn", self.redis.conn())
                .field("prefix", &self.prefix)
                .field("expiry", &self.expiry)
                .field("timeout", &self.redis.timeout())
                .finish_non_exhaustive()
        }
    }

    impl RedisFeatureCache {
        /// Connects to `url` (`redis://host:port/db`) through gb-redis's shared setup (the
        /// same as gb-sticky's store), waiting at most 5 s.
        ///
        /// # Errors
        /// [`CacheError`] if the URL is invalid or the server cannot be reached.
        pub async fn connect(url: &str) -> Result<Self> {
            Self::connect_to(&Target::single(url)).await
        }

        /// Connects to a Redis Cluster through any of its nodes, waiting at most 5 s.
        ///
        /// # Errors
        /// [`CacheError`] if a URL is invalid or no node can be reached.
        pub async fn connect_cluster<I, S>(nodes: I) -> Result<Self>
        where
            I: IntoIterator<Item = S>,
            S: Into<String>,
        {
            Self::connect_to(&Target::cluster(nodes)).await
        }

        /// Connects to a single server or a cluster, waiting at most 5 s.
        ///
        /// # Errors
        /// [`CacheError`] if a URL is invalid or Redis cannot be reached.
        pub async fn connect_to(target: &Target) -> Result<Self> {
            let conn = gb_redis::connect_to(target, Duration::from_secs(5))
                .await
                .map_err(|e| CacheError::with_source("connecting to Redis", e))?;
            Ok(Self::from_redis(Redis::new(conn, DEFAULT_TIMEOUT)))
        }

        /// Uses an existing connection manager.
        pub fn from_connection(conn: ConnectionManager) -> Self {
            Self::from_redis(Redis::new(conn, DEFAULT_TIMEOUT))
        }

        /// Uses a guarded connection built with gb-redis (e.g. the one, breaker included, of a
        /// gb-sticky Redis store); its timeout is the per-command timeout.
        pub fn from_redis(redis: Redis) -> Self {
            Self {
                redis,
                prefix: "gb-sdk:features:".into(),
                expiry: Duration::from_secs(24 * 3600),
            }
        }

        /// The guarded connection (connection, breaker, timeout).
        pub fn redis(&self) -> &Redis {
            &self.redis
        }

        /// Sets the key prefix (default `gb-sdk:features:`).
        #[must_use]
        pub fn with_prefix(mut self, prefix: impl Into<String>) -> Self {
            self.prefix = prefix.into();
            self
        }

        /// Sets how long entries live in Redis (default 24 h).
        #[must_use]
        pub fn with_expiry(mut self, expiry: Duration) -> Self {
            self.expiry = expiry;
            self
        }

        /// Sets the per-command timeout (default 500 ms); the breaker stays the same.
        #[must_use]
        pub fn with_timeout(mut self, timeout: Duration) -> Self {
            self.redis = Redis::new(self.redis.conn().clone(), timeout)
                .with_breaker(self.redis.breaker().clone());
            self
        }
    }

    fn cache_error(f: Failure) -> CacheError {
        CacheError::with_source("Redis", f)
    }

    impl FeatureCache for RedisFeatureCache {
        fn get<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<CacheEntry>>> {
            Box::pin(async move {
                let full = format!("{}{key}", self.prefix);
                let text: Option<String> = self
                    .redis
                    .run(|mut conn| async move { conn.get(&full).await })
                    .await
                    .map_err(cache_error)?;
                Ok(text.and_then(|t| CacheEntry::from_text(&t, key)))
            })
        }

        fn set<'a>(&'a self, key: &'a str, entry: CacheEntry) -> BoxFuture<'a, Result<()>> {
            Box::pin(async move {
                let full = format!("{}{key}", self.prefix);
                let text = entry.to_text(key);
                let secs = self.expiry.as_secs().max(1);
                self.redis
                    .run(|mut conn| async move { conn.set_ex::<_, _, ()>(&full, text, secs).await })
                    .await
                    .map_err(cache_error)
            })
        }
    }
}
