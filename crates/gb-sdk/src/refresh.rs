//! The background tasks: keeping the snapshot fresh (cache, fetch, poll or stream) and writing
//! sticky-bucket documents.

use alloc::boxed::Box;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::Ordering;
use core::time::Duration;
use std::sync::{Mutex, PoisonError};
use std::time::SystemTime;

use gb_core::FeatureSet;
use gb_sticky::StickyBucketService;
use gb_transport::backoff::Backoff;
use gb_transport::sse::{DEFAULT_MAX_EVENT_BYTES, SseParser};
use gb_transport::{
    BackoffConfig, BoxFuture, ByteStream, DecryptionKey, FeatureSource, FetchRequest,
    FetchResponse, Payload, RemoteEvalRequest, SseMode, StreamConfig, StreamState,
    SubscribeRequest, Transport, TransportError,
};
use serde_json::Value;
use tokio::sync::mpsc;
use tokio::time::{Instant, sleep, sleep_until, timeout};

use crate::builder::RefreshStrategy;
use crate::cache::{CacheEntry, FeatureCache};
use crate::client::{Shared, WriterMsg};
use crate::error::Error;

/// How long one cache read or write may take before it is abandoned.
const CACHE_BUDGET: Duration = Duration::from_secs(2);

/// Keeps one client's snapshot fresh.
pub(crate) struct Refresher {
    pub(crate) shared: Arc<Shared>,
    pub(crate) transport: Arc<dyn Transport>,
    pub(crate) key: Option<DecryptionKey>,
    pub(crate) caches: Vec<Arc<dyn FeatureCache>>,
    pub(crate) cache_key: String,
    pub(crate) strategy: RefreshStrategy,
    pub(crate) ttl: Duration,
    pub(crate) backoff: BackoffConfig,
}

/// What the refresher last applied.
#[derive(Default)]
struct Applied {
    /// The raw body, to skip recompiling an identical payload.
    body: Option<Value>,
    /// When the server (or a shared cache) last vouched for it.
    fetched_at: Option<SystemTime>,
    /// When it stops being fresh (monotonic).
    fresh_until: Option<Instant>,
}

impl Refresher {
    pub(crate) async fn run(self) {
        let mut applied = Applied::default();
        self.load_from_caches(&mut applied, true).await;
        match self.strategy {
            RefreshStrategy::Streaming => self.stream(applied).await,
            RefreshStrategy::None | RefreshStrategy::Polling(_) => self.fetch_loop(applied).await,
        }
    }

    fn is_fresh(&self, applied: &Applied) -> bool {
        applied.fresh_until.is_some_and(|t| Instant::now() < t)
    }

    /// Validates, decrypts, compiles and installs a raw body; identical bodies only refresh
    /// the freshness.
    fn apply(
        &self,
        applied: &mut Applied,
        body: Value,
        fetched_at: SystemTime,
    ) -> Result<(), TransportError> {
        let age = SystemTime::now()
            .duration_since(fetched_at)
            .unwrap_or_default();
        let fresh = age < self.ttl;
        if applied.body.as_ref() == Some(&body) {
            if fresh {
                self.shared.mark_fresh();
            }
        } else {
            let payload = Payload::from_value(body.clone(), self.key.as_ref())?;
            self.shared
                .install(FeatureSet::from_value(payload.value()), fresh);
            applied.body = Some(body);
        }
        applied.fetched_at = Some(fetched_at);
        applied.fresh_until = Some(Instant::now() + self.ttl.saturating_sub(age));
        Ok(())
    }

    /// Applies the newest usable cache entry that is newer than what is applied. Returns
    /// whether the features are now fresh.
    async fn load_from_caches(&self, applied: &mut Applied, startup: bool) -> bool {
        let mut best: Option<CacheEntry> = None;
        for cache in &self.caches {
            match timeout(CACHE_BUDGET, cache.get(&self.cache_key)).await {
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
        if applied.fetched_at.is_some_and(|t| entry.fetched_at <= t) {
            return false;
        }
        match self.apply(applied, entry.body, entry.fetched_at) {
            Ok(()) => {
                tracing::debug!(startup, "features loaded from the feature cache");
                self.is_fresh(applied)
            }
            Err(e) => {
                tracing::warn!(error = %e, "ignored an unusable feature cache entry");
                false
            }
        }
    }

    async fn write_caches(&self, body: &Value, fetched_at: SystemTime) {
        for cache in &self.caches {
            let entry = CacheEntry {
                body: body.clone(),
                fetched_at,
            };
            match timeout(CACHE_BUDGET, cache.set(&self.cache_key, entry)).await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => tracing::warn!(error = %e, "feature cache write failed"),
                Err(_) => tracing::warn!("feature cache write timed out"),
            }
        }
    }

    /// One conditional fetch; a bad body keeps the current features.
    async fn fetch_once(&self, applied: &mut Applied) -> Result<(), TransportError> {
        let response = self
            .transport
            .fetch_features(FetchRequest::default())
            .await?;
        let now = SystemTime::now();
        if response.not_modified && applied.body.is_some() {
            self.shared.mark_fresh();
            applied.fetched_at = Some(now);
            applied.fresh_until = Some(Instant::now() + self.ttl);
        } else {
            self.apply(applied, response.body, now)?;
        }
        if let Some(body) = applied.body.clone() {
            self.write_caches(&body, now).await;
        }
        Ok(())
    }

    /// Revalidates: a fresher shared-cache entry (another process fetched) saves the fetch.
    async fn revalidate(&self, applied: &mut Applied) -> Result<(), TransportError> {
        if self.load_from_caches(applied, false).await {
            return Ok(());
        }
        self.fetch_once(applied).await
    }

    async fn fetch_loop(self, mut applied: Applied) {
        let mut backoff = Backoff::new(self.backoff.clone());
        // First load: retry with backoff until good features arrive (or a cache has them).
        if !self.is_fresh(&applied) {
            while let Err(e) = self.revalidate(&mut applied).await {
                let delay = backoff.delay_after_error(&e, None);
                self.shared.record_error(Error::Transport(e));
                sleep(delay).await;
            }
            backoff.reset();
        }
        loop {
            match self.strategy {
                RefreshStrategy::Polling(interval) => sleep(interval).await,
                _ => {
                    if let Some(t) = applied.fresh_until {
                        sleep_until(t).await;
                    }
                    self.shared.mark_stale();
                    // Stale-while-revalidate: wait for an evaluation to ask for fresh features.
                    self.shared.demand.notified().await;
                }
            }
            match self.revalidate(&mut applied).await {
                Ok(()) => backoff.reset(),
                Err(e) => {
                    let delay = backoff.delay_after_error(&e, None);
                    self.shared.record_error(Error::Transport(e));
                    // Features stay stale; wait before the next attempt.
                    applied.fresh_until = Some(Instant::now() + delay);
                    if let RefreshStrategy::None = self.strategy {
                        sleep(delay).await;
                    }
                }
            }
            self.shared
                .refresh_requested
                .store(false, Ordering::Release);
        }
    }

    async fn stream(self, mut applied: Applied) {
        // With caches, record raw bodies (as served, still encrypted) to store them.
        let raw: Arc<Mutex<Option<Value>>> = Arc::default();
        let transport: Arc<dyn Transport> = if self.caches.is_empty() {
            Arc::clone(&self.transport)
        } else {
            Arc::new(Tap {
                inner: Arc::clone(&self.transport),
                raw: Arc::clone(&raw),
            })
        };
        let mut source = FeatureSource::new(transport);
        if let Some(k) = &self.key {
            source = source.with_decryption_key(k.clone());
        }
        let config = StreamConfig {
            backoff: self.backoff.clone(),
            sse: SseMode::Always,
            ..StreamConfig::default()
        };
        let handle = match source.stream(config) {
            Ok(h) => h,
            Err(e) => {
                self.shared.record_error(Error::Transport(e));
                return;
            }
        };
        let mut payloads = handle.payload();
        let mut status = handle.status();
        let mut errors = 0u64;
        loop {
            tokio::select! {
                changed = payloads.changed() => {
                    if changed.is_err() { break; }
                    let latest = payloads.borrow_and_update().clone();
                    if let Some(p) = latest {
                        self.apply_streamed(&mut applied, &p, &raw).await;
                    }
                }
                changed = status.changed() => {
                    if changed.is_err() { break; }
                    let s = status.borrow_and_update().clone();
                    if s.errors > errors {
                        errors = s.errors;
                        if let Some(e) = s.last_error {
                            self.shared.record_error(Error::Transport(e));
                        }
                    } else if s.state == StreamState::Streaming {
                        // Reconnected (and refetched): the features are current again.
                        self.shared.mark_fresh();
                    }
                }
            }
        }
        drop(handle);
    }

    async fn apply_streamed(&self, applied: &mut Applied, p: &Payload, raw: &Mutex<Option<Value>>) {
        let now = SystemTime::now();
        self.shared.install(FeatureSet::from_value(p.value()), true);
        applied.fetched_at = Some(now);
        let body = raw.lock().unwrap_or_else(PoisonError::into_inner).take();
        // Store the raw body only if it is the one just applied.
        if let Some(body) = body
            && Payload::from_value(body.clone(), self.key.as_ref()).is_ok_and(|v| v == *p)
        {
            self.write_caches(&body, now).await;
        }
    }
}

/// A transport wrapper that remembers the last raw payload body (fetched or streamed), so the
/// streaming client can cache payloads as the server sent them.
#[derive(Debug)]
struct Tap {
    inner: Arc<dyn Transport>,
    raw: Arc<Mutex<Option<Value>>>,
}

impl Transport for Tap {
    fn fetch_features(
        &self,
        request: FetchRequest,
    ) -> BoxFuture<'_, Result<FetchResponse, TransportError>> {
        Box::pin(async move {
            let response = self.inner.fetch_features(request).await?;
            *self.raw.lock().unwrap_or_else(PoisonError::into_inner) = Some(response.body.clone());
            Ok(response)
        })
    }

    fn subscribe(
        &self,
        request: SubscribeRequest,
    ) -> BoxFuture<'_, Result<Box<dyn ByteStream>, TransportError>> {
        Box::pin(async move {
            let inner = self.inner.subscribe(request).await?;
            let tapped: Box<dyn ByteStream> = Box::new(TapStream {
                inner,
                parser: SseParser::new(DEFAULT_MAX_EVENT_BYTES, DEFAULT_MAX_EVENT_BYTES),
                raw: Arc::clone(&self.raw),
            });
            Ok(tapped)
        })
    }

    fn remote_eval(
        &self,
        request: RemoteEvalRequest,
    ) -> BoxFuture<'_, Result<Value, TransportError>> {
        self.inner.remote_eval(request)
    }
}

#[derive(Debug)]
struct TapStream {
    inner: Box<dyn ByteStream>,
    parser: SseParser,
    raw: Arc<Mutex<Option<Value>>>,
}

impl ByteStream for TapStream {
    fn next_chunk(&mut self) -> BoxFuture<'_, Option<Result<Vec<u8>, TransportError>>> {
        Box::pin(async move {
            let chunk = self.inner.next_chunk().await;
            if let Some(Ok(bytes)) = &chunk
                && let Ok(events) = self.parser.feed(bytes)
            {
                for event in events.iter().filter(|e| e.event == "features") {
                    if let Ok(v) = serde_json::from_str::<Value>(&event.data) {
                        *self.raw.lock().unwrap_or_else(PoisonError::into_inner) = Some(v);
                    }
                }
            }
            chunk
        })
    }
}

/// Writes changed sticky-bucket documents in the background, in order; evaluation never waits.
pub(crate) async fn sticky_writer(
    service: Arc<dyn StickyBucketService>,
    mut rx: mpsc::Receiver<WriterMsg>,
) {
    while let Some(msg) = rx.recv().await {
        match msg {
            WriterMsg::Save(docs) => {
                let n = docs.len();
                match timeout(Duration::from_secs(5), service.save_assignments(docs)).await {
                    Ok(Ok(())) => tracing::trace!(docs = n, "sticky-bucket documents saved"),
                    Ok(Err(e)) => tracing::warn!(error = %e, "sticky-bucket save failed"),
                    Err(_) => tracing::warn!("sticky-bucket save timed out"),
                }
            }
            WriterMsg::Flush(done) => {
                let _ = done.send(());
            }
        }
    }
}
