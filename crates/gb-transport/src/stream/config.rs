//! What the payload engine takes ([`StreamConfig`], its modes, the [`RefreshTrigger`]) and
//! what it publishes ([`Update`], [`StreamStatus`]).

use crate::backoff::BackoffConfig;
use crate::cache::FeatureCache;
use crate::error::TransportError;
use crate::payload::Payload;
use crate::sse::DEFAULT_MAX_EVENT_BYTES;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::time::Duration;
use std::time::SystemTime;
use tokio::sync::Notify;

/// The default clock-skew allowance for `dateUpdated`: 5 minutes.
pub const DEFAULT_CLOCK_SKEW: Duration = Duration::from_secs(300);

/// When to use server-sent events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SseMode {
    /// Only if the features response carries `x-sse-support: enabled` (the default).
    #[default]
    Auto,
    /// Always stream, whatever the header says.
    Always,
    /// Never stream; poll instead.
    Never,
}

/// How the engine revalidates when it does not stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PollMode {
    /// Every [`StreamConfig::poll_interval`] (the default).
    #[default]
    Interval,
    /// Stale-while-revalidate: once the payload is older than [`StreamConfig::ttl`], the
    /// engine reports [`StreamState::Idle`] and revalidates when a refresh is requested
    /// ([`RefreshTrigger::request`]); it never fetches on its own.
    OnDemand,
}

/// Asks a [`PollMode::OnDemand`] engine for a revalidation. Cheap to clone; any clone works.
#[derive(Debug, Clone, Default)]
pub struct RefreshTrigger(pub(super) Arc<Notify>);

impl RefreshTrigger {
    /// A new trigger.
    pub fn new() -> Self {
        Self::default()
    }

    /// Requests one revalidation (requests made before the engine waits for one are merged
    /// into one).
    pub fn request(&self) {
        self.0.notify_one();
    }
}

/// Settings for the engine.
#[derive(Debug, Clone)]
pub struct StreamConfig {
    /// Reconnect and retry backoff. Defaults: 1 s doubling to 30 s, jitter 50 %, floor 500 ms,
    /// reset after 30 s healthy, 5 min after 401/403.
    pub backoff: BackoffConfig,
    /// A stream with no bytes for this long is dropped and reopened. Default 90 s (3 × the
    /// 30 s ping of the GrowthBook proxy).
    pub idle_timeout: Duration,
    /// Whether to stream. Default [`SseMode::Auto`].
    pub sse: SseMode,
    /// Polling interval when not streaming. Default 60 s.
    pub poll_interval: Duration,
    /// How to revalidate when not streaming. Default [`PollMode::Interval`].
    pub poll_mode: PollMode,
    /// Cap on one SSE line and on one event's data. Default 16 MiB.
    pub max_event_bytes: usize,
    /// How long a fetched payload counts as fresh (a cache entry younger than this saves a
    /// fetch; [`PollMode::OnDemand`] revalidates after it). Default 60 s.
    pub ttl: Duration,
    /// How far in the future a `dateUpdated` may be and still set the rollback floor (see the
    /// module docs). Default [`DEFAULT_CLOCK_SKEW`] (5 min).
    pub clock_skew: Duration,
    /// Feature caches: read at start and on revalidation (newest entry wins), written with
    /// every payload fetched or pushed, exactly as served. Default none.
    pub caches: Vec<Arc<dyn FeatureCache>>,
    /// The key entries are stored under (the SDK uses `<api_host>|<client_key>`).
    pub cache_key: String,
    /// Revalidation requests for [`PollMode::OnDemand`].
    pub refresh: RefreshTrigger,
}

impl Default for StreamConfig {
    fn default() -> Self {
        Self {
            backoff: BackoffConfig::default(),
            idle_timeout: Duration::from_secs(90),
            sse: SseMode::Auto,
            poll_interval: Duration::from_secs(60),
            poll_mode: PollMode::Interval,
            max_event_bytes: DEFAULT_MAX_EVENT_BYTES,
            ttl: Duration::from_secs(60),
            clock_skew: DEFAULT_CLOCK_SKEW,
            caches: Vec::new(),
            cache_key: String::new(),
            refresh: RefreshTrigger::default(),
        }
    }
}

/// What the engine is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StreamState {
    /// Fetching the first good payload.
    #[default]
    Starting,
    /// Opening the event stream.
    Connecting,
    /// The event stream is open.
    Streaming,
    /// Polling (no SSE).
    Polling,
    /// Waiting before the next attempt.
    Waiting,
    /// [`PollMode::OnDemand`]: the payload is older than the TTL; waiting for a refresh request.
    Idle,
}

/// Counters and the last error, for health checks and tests.
#[derive(Debug, Clone, Default)]
pub struct StreamStatus {
    /// Current activity.
    pub state: StreamState,
    /// Stream connection attempts so far.
    pub connects: u64,
    /// Errors so far (fetch, connect, stream); clean closes are not errors.
    pub errors: u64,
    /// Streams the server ended cleanly.
    pub clean_closes: u64,
    /// Good payloads that changed the published one.
    pub updates: u64,
    /// Revalidations that confirmed the published payload (a 304, the same body again, or a
    /// fresh cache entry with it).
    pub confirmations: u64,
    /// Payloads refused as older than the `dateUpdated` floor.
    pub refused_older: u64,
    /// `features-updated` events received (each triggers a refetch; a remote-evaluation
    /// client can also watch this to drop its per-user cache).
    pub beacons: u64,
    /// The most recent error.
    pub last_error: Option<TransportError>,
}

/// Where a published payload came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum UpdateSource {
    /// A features fetch (initial, poll, revalidation, refetch after a reconnect or a
    /// `features-updated` event).
    Fetch,
    /// A `features` event on the stream.
    Event,
    /// A feature cache entry.
    Cache,
}

/// One accepted payload, as published by the engine.
#[derive(Debug, Clone)]
pub struct Update {
    /// The validated, decrypted payload.
    pub payload: Payload,
    /// The body exactly as served (still encrypted if the server encrypted it).
    pub raw: Arc<str>,
    /// The body's `ETag`, if any.
    pub etag: Option<String>,
    /// Where it came from.
    pub source: UpdateSource,
    /// When the server served it (for a cache entry: when it was fetched).
    pub fetched_at: SystemTime,
    /// Whether it is younger than the TTL (false only for an old cache entry).
    pub fresh: bool,
}

impl Update {
    /// The whole decrypted payload.
    pub fn value(&self) -> &serde_json::Value {
        self.payload.value()
    }
}
