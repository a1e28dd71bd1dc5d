//! The payload engine: a spawned task that keeps a [`Payload`] up to date over SSE, by polling
//! or by stale-while-revalidate, with one backoff policy for every mode, the feature caches, and
//! a refetch after every reconnect. It is the only payload updater of the workspace: the SDK
//! (`gb-sdk`) and the `gb` command both run it.
//!
//! Start it with [`FeatureSource::stream`]. The task:
//!
//! 1. reads the feature caches ([`StreamConfig::caches`]) and publishes the newest usable entry;
//!    unless that entry is fresh (younger than [`StreamConfig::ttl`]) and the mode never
//!    streams, it then fetches the payload, retrying with backoff until it gets a good one (a
//!    cold start during an outage recovers on its own);
//! 2. opens `/sub/{client_key}` if the features response said `x-sse-support: enabled`
//!    ([`SseMode::Auto`], the default), or always / never ([`SseMode::Always`],
//!    [`SseMode::Never`]); without SSE it polls every [`StreamConfig::poll_interval`]
//!    ([`PollMode::Interval`]) or, with [`PollMode::OnDemand`], revalidates once the payload is
//!    older than the TTL and a refresh is requested ([`RefreshTrigger`]); a revalidation takes
//!    a fresher shared-cache entry (another process fetched) instead of fetching;
//! 3. after each (re)connect, refetches (with `If-None-Match`) so updates published while the
//!    stream was down are not lost; sends `Last-Event-ID` on reconnect; while the stream cannot
//!    be opened (other than 401/403), each failed attempt also refetches, so a broken stream
//!    endpoint degrades to polling at the backoff rate;
//! 4. applies `features` events (a full payload, maybe encrypted) and refetches on
//!    `features-updated`; pings and unknown events are ignored; a bad `features` event
//!    (not JSON, not a payload, undecryptable) drops the connection and reconnects with backoff;
//! 5. backs off the same way in every mode ([`BackoffConfig`]): errors back off exponentially
//!    with jitter up to a cap, at least the server's `Retry-After` (capped), 401/403 wait
//!    [`BackoffConfig::auth_delay`] and retry (never a permanent stop), and a success (or a
//!    stream that stayed up [`BackoffConfig::healthy_reset`]) resets the backoff. Streams
//!    reconnect after a clean close without counting an error, after the server's `retry:`
//!    clamped to `[floor, max]`; two connects are never closer than [`BackoffConfig::floor`];
//!    a stream silent for [`StreamConfig::idle_timeout`] is dropped and reopened. A polling
//!    error is retried sooner than the next poll, unless the server asked for longer
//!    (`Retry-After`, 401/403).
//!
//! Bodies are parsed, validated and decrypted off the async worker threads
//! ([`FeatureSource::parse`]). Only good payloads are published, each as an [`Update`] with the
//! body as served, its ETag and where it came from; every fetched or pushed one is written to
//! the caches exactly as served (an encrypted payload stays encrypted). The last good one stays
//! in the watch channel whatever happens. Dropping or closing the [`StreamHandle`] aborts the
//! task, which drops its connection.
//!
//! # `dateUpdated`: refusing rollbacks without ever freezing
//!
//! A CDN may serve a stale body for a moment after a fresher SSE event, so a payload older (by
//! `dateUpdated`) than the *floor* is refused. The floor is the newest `dateUpdated` among the
//! applied payloads that were **not dated in the future** beyond [`StreamConfig::clock_skew`]
//! (default 5 min) of the local clock. A payload dated further ahead (`2099-01-01…`, a server
//! with a wrong clock) is applied, but never becomes the floor, so the next correctly dated
//! update (pushed, announced with `features-updated`, polled or refetched after a reconnect)
//! applies too. A refetch after a reconnect is authoritative: if it is refused as older than
//! the floor (the CDN case), the floor drops to its date, so the server's answer is applied at
//! the next refetch instead of being refused forever. Payloads without a parseable
//! `dateUpdated` are never refused for their date.
//!
//! Measured against: the JS SDK 1.8.0 (`onNewFeatureData`) compares `dateUpdated` only for
//! equality, to skip a refresh, and never refuses an older payload (no rollback protection, no
//! freeze); the Go SDK (`UpdateFromApiResponse`) ignores any response older than its current
//! data, so one future-dated payload freezes it until the server's clock passes that date.
//! This engine keeps Go's protection and JS's liveness.

use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::time::Duration;
use std::time::{SystemTime, UNIX_EPOCH};

use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;
use tokio::time::{Instant, sleep, sleep_until, timeout};

use crate::backoff::{Backoff, BackoffConfig};
use crate::cache::{CacheEntry, FeatureCache};
use crate::error::{ErrorKind, TransportError};
use crate::payload::Payload;
use crate::source::FeatureSource;
use crate::sse::{DEFAULT_MAX_EVENT_BYTES, SseParser};
use crate::{ByteStream, SubscribeRequest};

/// How long one cache read or write may take before it is abandoned.
const CACHE_BUDGET: Duration = Duration::from_secs(2);

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
pub struct RefreshTrigger(Arc<Notify>);

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

/// The running engine. Dropping it (or [`close`](Self::close)) stops the task and its
/// connection.
#[derive(Debug)]
pub struct StreamHandle {
    task: JoinHandle<()>,
    updates: watch::Receiver<Option<Update>>,
    status: watch::Receiver<StreamStatus>,
    refresh: RefreshTrigger,
}

impl StreamHandle {
    /// A receiver of the last accepted update (`None` until the first one arrives).
    pub fn updates(&self) -> watch::Receiver<Option<Update>> {
        self.updates.clone()
    }

    /// The last good payload, if any.
    pub fn latest(&self) -> Option<Payload> {
        self.updates.borrow().as_ref().map(|u| u.payload.clone())
    }

    /// A receiver of the engine's status.
    pub fn status(&self) -> watch::Receiver<StreamStatus> {
        self.status.clone()
    }

    /// Requests a revalidation ([`PollMode::OnDemand`]).
    pub fn request_refresh(&self) {
        self.refresh.request();
    }

    /// Whether the task has ended (only after [`close`](Self::close) or a runtime shutdown).
    pub fn is_finished(&self) -> bool {
        self.task.is_finished()
    }

    /// Stops the task without waiting (it is dropped at its next suspension point).
    pub fn stop(&self) {
        self.task.abort();
    }

    /// Stops the task and waits until it (and its connection) is gone.
    pub async fn close(mut self) {
        self.task.abort();
        // The task is aborted; awaiting it only waits until it has been dropped.
        let _ = (&mut self.task).await;
    }
}

impl Drop for StreamHandle {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FeatureSource {
    /// Starts the engine on the current tokio runtime.
    ///
    /// # Errors
    /// [`ErrorKind::Config`] when called outside a tokio runtime.
    pub fn stream(&self, config: StreamConfig) -> Result<StreamHandle, TransportError> {
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| {
            TransportError::new(ErrorKind::Config, "stream() needs a tokio runtime")
        })?;
        let (updates_tx, updates) = watch::channel(None);
        let (status_tx, status) = watch::channel(StreamStatus::default());
        let refresh = config.refresh.clone();
        let manager = Manager {
            source: self.clone(),
            backoff: Backoff::new(config.backoff.clone()),
            config,
            updates_tx,
            status_tx,
            sse_supported: false,
            last_event_id: None,
            server_retry: None,
            last_connect: None,
            last_fetch: None,
            floor: None,
            fetched_at: None,
            fresh_until: None,
        };
        let task = runtime.spawn(manager.run());
        Ok(StreamHandle {
            task,
            updates,
            status,
            refresh,
        })
    }
}

/// Why a payload is offered to [`Manager::accept`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Offer {
    /// Subject to the `dateUpdated` floor.
    Normal,
    /// The refetch after a reconnect: authoritative (see the module docs).
    Reconnect,
}

struct Manager {
    source: FeatureSource,
    config: StreamConfig,
    backoff: Backoff,
    updates_tx: watch::Sender<Option<Update>>,
    status_tx: watch::Sender<StreamStatus>,
    sse_supported: bool,
    last_event_id: Option<String>,
    server_retry: Option<Duration>,
    last_connect: Option<Instant>,
    last_fetch: Option<Instant>,
    /// The rollback floor: the newest plausible `dateUpdated` applied (since the epoch).
    floor: Option<Duration>,
    /// When the server last vouched for the published payload.
    fetched_at: Option<SystemTime>,
    /// When the published payload stops being fresh.
    fresh_until: Option<Instant>,
}

fn unix_now() -> Duration {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
}

impl Manager {
    async fn run(mut self) {
        self.load_caches().await;
        let cached_is_enough = self.is_fresh() && self.config.sse == SseMode::Never;
        if !cached_is_enough {
            loop {
                match self.refetch(Offer::Normal).await {
                    Ok(()) => break,
                    Err(err) => {
                        let delay = self.backoff.delay_after_error(&err, None);
                        self.record_error(err);
                        self.wait(delay).await;
                    }
                }
            }
        }
        self.backoff.reset();
        loop {
            let use_sse = match self.config.sse {
                SseMode::Auto => self.sse_supported,
                SseMode::Always => true,
                SseMode::Never => false,
            };
            if use_sse {
                self.stream_once().await;
            } else if self.config.poll_mode == PollMode::OnDemand {
                self.on_demand_once().await;
            } else {
                self.poll_once().await;
            }
        }
    }

    fn is_fresh(&self) -> bool {
        self.fresh_until.is_some_and(|t| Instant::now() < t)
    }

    fn set_state(&self, state: StreamState) {
        self.status_tx.send_modify(|s| s.state = state);
    }

    fn record_error(&self, err: TransportError) {
        tracing::warn!(error = %err, "growthbook transport error; keeping the last good payload");
        self.status_tx.send_modify(|s| {
            s.errors += 1;
            s.last_error = Some(err);
        });
    }

    async fn wait(&self, delay: Duration) {
        self.set_state(StreamState::Waiting);
        tracing::debug!(?delay, "waiting before the next attempt");
        sleep(delay).await;
    }

    fn vouched(&mut self, fetched_at: SystemTime) {
        let age = SystemTime::now()
            .duration_since(fetched_at)
            .unwrap_or_default();
        self.fetched_at = Some(fetched_at);
        self.fresh_until = Some(Instant::now() + self.config.ttl.saturating_sub(age));
    }

    /// Offers a good payload. Returns whether it is now the published one (new or confirmed).
    fn accept(&mut self, update: Update, offer: Offer) -> bool {
        let same =
            self.updates_tx.borrow().as_ref().is_some_and(|current| {
                current.raw == update.raw || current.payload == update.payload
            });
        if same {
            self.vouched(update.fetched_at);
            if update.fresh {
                self.status_tx.send_modify(|s| s.confirmations += 1);
            }
            return true;
        }
        let date = update.payload.date_updated_unix();
        if let (Some(date), Some(floor)) = (date, self.floor)
            && date < floor
        {
            self.status_tx.send_modify(|s| s.refused_older += 1);
            if offer == Offer::Reconnect {
                // The server keeps the last word: its answer wins at the next refetch.
                tracing::debug!("refused a refetch older than the current payload; floor lowered");
                self.floor = Some(date);
            } else {
                // E.g. a CDN-cached body fetched after a fresher SSE event: never roll back.
                tracing::debug!("ignored a payload older than the current one");
            }
            return false;
        }
        if let Some(date) = date {
            if date <= unix_now() + self.config.clock_skew {
                self.floor = Some(self.floor.map_or(date, |f| f.max(date)));
            } else {
                tracing::warn!(
                    date_updated = update.payload.date_updated().unwrap_or_default(),
                    "applied a payload dated in the future; it does not hold back later updates"
                );
            }
        }
        self.vouched(update.fetched_at);
        self.updates_tx.send_replace(Some(update));
        self.status_tx.send_modify(|s| s.updates += 1);
        true
    }

    /// Writes the published payload to every cache, as served, stamped `fetched_at`.
    async fn write_caches(&self) {
        if self.config.caches.is_empty() {
            return;
        }
        let Some(entry) = self.updates_tx.borrow().as_ref().map(|u| CacheEntry {
            body: Arc::clone(&u.raw),
            etag: u.etag.clone(),
            fetched_at: self.fetched_at.unwrap_or(u.fetched_at),
        }) else {
            return;
        };
        for cache in &self.config.caches {
            match timeout(
                CACHE_BUDGET,
                cache.set(&self.config.cache_key, entry.clone()),
            )
            .await
            {
                Ok(Ok(())) => {}
                Ok(Err(e)) => tracing::warn!(error = %e, "feature cache write failed"),
                Err(_) => tracing::warn!("feature cache write timed out"),
            }
        }
    }

    /// Applies the newest usable cache entry if it is newer than what the server last
    /// vouched for. Returns whether the payload is now fresh thanks to it.
    async fn load_caches(&mut self) -> bool {
        let mut best: Option<CacheEntry> = None;
        for cache in &self.config.caches {
            match timeout(CACHE_BUDGET, cache.get(&self.config.cache_key)).await {
                Ok(Ok(Some(entry))) => {
                    if best
                        .as_ref()
                        .is_none_or(|b| entry.fetched_at > b.fetched_at)
                    {
                        best = Some(entry);
                    }
                }
                Ok(Ok(None)) => {}
                Ok(Err(e)) => tracing::warn!(error = %e, "feature cache read failed"),
                Err(_) => tracing::warn!("feature cache read timed out"),
            }
        }
        let Some(entry) = best else { return false };
        if self.fetched_at.is_some_and(|t| entry.fetched_at <= t) {
            return false;
        }
        let payload = match self.source.parse(Arc::clone(&entry.body)).await {
            Ok(p) => p,
            Err(e) => {
                tracing::warn!(error = %e, "ignored an unusable feature cache entry");
                return false;
            }
        };
        let fresh = entry.age() < self.config.ttl;
        let update = Update {
            payload,
            raw: entry.body,
            etag: entry.etag,
            source: UpdateSource::Cache,
            fetched_at: entry.fetched_at,
            fresh,
        };
        self.accept(update, Offer::Normal);
        tracing::debug!(fresh, "features loaded from a feature cache");
        self.is_fresh()
    }

    /// Fetches and offers the payload; never closer than `floor` to the previous fetch.
    async fn refetch(&mut self, offer: Offer) -> Result<(), TransportError> {
        if let Some(last) = self.last_fetch {
            let gap = self.config.backoff.floor.saturating_sub(last.elapsed());
            if !gap.is_zero() {
                sleep(gap).await;
            }
        }
        self.last_fetch = Some(Instant::now());
        let fetched = self.source.fetch().await?;
        self.sse_supported = fetched.sse_supported;
        let update = Update {
            payload: fetched.payload,
            raw: fetched.raw,
            etag: fetched.etag,
            source: UpdateSource::Fetch,
            fetched_at: SystemTime::now(),
            fresh: true,
        };
        if self.accept(update, offer) {
            self.write_caches().await;
        }
        Ok(())
    }

    /// A revalidation: a fresher shared-cache entry (another process fetched) saves the fetch.
    async fn revalidate(&mut self) -> Result<(), TransportError> {
        if !self.config.caches.is_empty() && self.load_caches().await {
            return Ok(());
        }
        self.refetch(Offer::Normal).await
    }

    /// The delay after a failed revalidation when not streaming: retried sooner than the next
    /// poll, unless the server asked for longer (401/403, `Retry-After`).
    fn poll_delay(&mut self, err: &TransportError) -> Duration {
        let delay = self.backoff.delay_after_error(err, None);
        if err.is_auth() || err.retry_after().is_some() {
            delay
        } else {
            delay.min(self.config.poll_interval.max(self.config.backoff.floor))
        }
    }

    async fn poll_once(&mut self) {
        self.set_state(StreamState::Polling);
        sleep(self.config.poll_interval).await;
        while let Err(err) = self.revalidate().await {
            let delay = self.poll_delay(&err);
            self.record_error(err);
            self.wait(delay).await;
        }
        self.backoff.reset();
    }

    async fn on_demand_once(&mut self) {
        if let Some(until) = self.fresh_until {
            sleep_until(until).await;
        }
        self.set_state(StreamState::Idle);
        self.config.refresh.0.notified().await;
        self.set_state(StreamState::Polling);
        match self.revalidate().await {
            Ok(()) => self.backoff.reset(),
            Err(err) => {
                let delay = self.backoff.delay_after_error(&err, None);
                self.record_error(err);
                self.wait(delay).await;
            }
        }
    }

    async fn stream_once(&mut self) {
        if let Some(last) = self.last_connect {
            let gap = self.config.backoff.floor.saturating_sub(last.elapsed());
            if !gap.is_zero() {
                sleep(gap).await;
            }
        }
        self.last_connect = Some(Instant::now());
        self.status_tx.send_modify(|s| {
            s.connects += 1;
            s.state = StreamState::Connecting;
        });
        let request = SubscribeRequest {
            last_event_id: self.last_event_id.clone(),
        };
        let first = self.status_tx.borrow().connects == 1;
        let mut stream = match self.source.transport().subscribe(request).await {
            Ok(stream) => stream,
            Err(err) => {
                let delay = self.backoff.delay_after_error(&err, self.server_retry);
                let auth = err.is_auth();
                self.record_error(err);
                // While the stream cannot open, each attempt doubles as a (backed-off) poll.
                if !auth && let Err(err) = self.refetch(Offer::Normal).await {
                    self.record_error(err);
                }
                self.wait(delay).await;
                return;
            }
        };
        let connected = Instant::now();
        self.set_state(StreamState::Streaming);
        tracing::debug!("event stream open");
        // Catch up on anything published while the stream was down (the first connect follows
        // the initial fetch, so there is nothing to catch up on).
        if !first && let Err(err) = self.refetch(Offer::Reconnect).await {
            self.record_error(err);
        }
        let outcome = self.read(&mut *stream).await;
        drop(stream);
        if connected.elapsed() >= self.config.backoff.healthy_reset {
            self.backoff.reset();
        }
        let delay = match outcome {
            Ok(()) => {
                tracing::debug!("event stream closed by the server");
                self.status_tx.send_modify(|s| s.clean_closes += 1);
                self.backoff.next_delay(self.server_retry)
            }
            Err(err) => {
                let delay = self.backoff.delay_after_error(&err, self.server_retry);
                self.record_error(err);
                delay
            }
        };
        self.wait(delay).await;
    }

    /// Reads events until a clean end (`Ok`) or an error.
    async fn read(&mut self, stream: &mut dyn ByteStream) -> Result<(), TransportError> {
        let max = self.config.max_event_bytes;
        let mut parser = SseParser::new(max, max);
        loop {
            let chunk = match timeout(self.config.idle_timeout, stream.next_chunk()).await {
                Err(_) => {
                    return Err(TransportError::new(
                        ErrorKind::Timeout,
                        "event stream went idle",
                    ));
                }
                Ok(None) => return Ok(()),
                Ok(Some(chunk)) => chunk?,
            };
            let events = parser.feed(&chunk)?;
            if let Some(retry) = parser.retry() {
                self.server_retry = Some(retry);
            }
            for event in events {
                if event.id.is_some() {
                    self.last_event_id = event.id;
                }
                match event.event.as_str() {
                    "features" => {
                        let raw: Arc<str> = event.data.into();
                        let payload = self.source.parse(Arc::clone(&raw)).await.map_err(|e| {
                            if e.kind() == ErrorKind::NotJson {
                                TransportError::new(
                                    ErrorKind::Protocol,
                                    "`features` event is not JSON",
                                )
                            } else {
                                e
                            }
                        })?;
                        let update = Update {
                            payload,
                            raw,
                            etag: None,
                            source: UpdateSource::Event,
                            fetched_at: SystemTime::now(),
                            fresh: true,
                        };
                        tracing::debug!("applied a `features` event");
                        if self.accept(update, Offer::Normal) {
                            self.write_caches().await;
                        }
                    }
                    "features-updated" => {
                        self.status_tx.send_modify(|s| s.beacons += 1);
                        if let Err(err) = self.refetch(Offer::Normal).await {
                            self.record_error(err);
                        }
                    }
                    other => tracing::trace!(event = other, "ignored SSE event"),
                }
            }
        }
    }
}
