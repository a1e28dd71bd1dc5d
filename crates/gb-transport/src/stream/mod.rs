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
use core::time::Duration;
use std::time::{SystemTime, UNIX_EPOCH};

use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::{Instant, sleep, sleep_until};

use crate::backoff::Backoff;
use crate::error::{ErrorKind, TransportError};
use crate::payload::Payload;
use crate::source::FeatureSource;

mod caches;
mod config;
mod push;

pub use config::{
    DEFAULT_CLOCK_SKEW, PollMode, RefreshTrigger, SseMode, StreamConfig, StreamState, StreamStatus,
    Update, UpdateSource,
};

/// How long one cache read or write may take before it is abandoned.
const CACHE_BUDGET: Duration = Duration::from_secs(2);

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
}
