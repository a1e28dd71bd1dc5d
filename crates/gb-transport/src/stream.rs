//! The stream manager: a spawned task that keeps a [`Payload`] up to date over SSE (or polling),
//! with backoff, idle detection and a refetch after every reconnect.
//!
//! Start it with [`FeatureSource::stream`]. The task:
//!
//! 1. fetches the payload, retrying with backoff until it gets a good one (a cold start during
//!    an outage recovers on its own);
//! 2. opens `/sub/{client_key}` if the features response said `x-sse-support: enabled`
//!    ([`SseMode::Auto`], the default), or always / never ([`SseMode::Always`], [`SseMode::Never`]);
//!    without SSE it polls every [`StreamConfig::poll_interval`];
//! 3. after each (re)connect, refetches (with `If-None-Match`) so updates published while the
//!    stream was down are not lost; sends `Last-Event-ID` on reconnect; while the stream cannot
//!    be opened (other than 401/403), each failed attempt also refetches, so a broken stream
//!    endpoint degrades to polling at the backoff rate;
//! 4. applies `features` events (a full payload, maybe encrypted) and refetches on
//!    `features-updated`; pings and unknown events are ignored; a bad `features` event
//!    (not JSON, not a payload, undecryptable) drops the connection and reconnects with backoff;
//! 5. reconnects after a clean close without counting an error, after the server's `retry:`
//!    clamped to `[floor, max]`; errors back off exponentially with jitter ([`BackoffConfig`]);
//!    401/403 wait [`BackoffConfig::auth_delay`] and retry (never a permanent stop); the backoff
//!    resets once a stream stayed up [`BackoffConfig::healthy_reset`]; two connects are never
//!    closer than [`BackoffConfig::floor`]; a stream silent for [`StreamConfig::idle_timeout`]
//!    is dropped and reopened.
//!
//! Only good payloads are published, never one older (by `dateUpdated`) than the current one;
//! the last good one stays in the watch channel whatever happens. Dropping or closing the [`StreamHandle`] aborts the task, which drops its connection.

use alloc::string::String;
use core::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::{Instant, sleep, timeout};

use crate::backoff::{Backoff, BackoffConfig};
use crate::error::{ErrorKind, TransportError};
use crate::payload::Payload;
use crate::source::FeatureSource;
use crate::sse::{DEFAULT_MAX_EVENT_BYTES, SseParser};
use crate::{ByteStream, SubscribeRequest};

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

/// Settings for the stream manager.
#[derive(Debug, Clone, PartialEq)]
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
    /// Cap on one SSE line and on one event's data. Default 16 MiB.
    pub max_event_bytes: usize,
}

impl Default for StreamConfig {
    fn default() -> Self {
        Self {
            backoff: BackoffConfig::default(),
            idle_timeout: Duration::from_secs(90),
            sse: SseMode::Auto,
            poll_interval: Duration::from_secs(60),
            max_event_bytes: DEFAULT_MAX_EVENT_BYTES,
        }
    }
}

/// What the manager is doing.
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
    /// `features-updated` events received (each triggers a refetch; a remote-evaluation
    /// client can also watch this to drop its per-user cache).
    pub beacons: u64,
    /// The most recent error.
    pub last_error: Option<TransportError>,
}

/// The running manager. Dropping it (or [`close`](Self::close)) stops the task and its
/// connection.
#[derive(Debug)]
pub struct StreamHandle {
    task: JoinHandle<()>,
    payload: watch::Receiver<Option<Payload>>,
    status: watch::Receiver<StreamStatus>,
}

impl StreamHandle {
    /// A receiver of the last good payload (`None` until the first one arrives).
    pub fn payload(&self) -> watch::Receiver<Option<Payload>> {
        self.payload.clone()
    }

    /// The last good payload, if any.
    pub fn latest(&self) -> Option<Payload> {
        self.payload.borrow().clone()
    }

    /// A receiver of the manager's status.
    pub fn status(&self) -> watch::Receiver<StreamStatus> {
        self.status.clone()
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
    /// Starts the stream manager on the current tokio runtime.
    ///
    /// # Errors
    /// [`ErrorKind::Config`] when called outside a tokio runtime.
    pub fn stream(&self, config: StreamConfig) -> Result<StreamHandle, TransportError> {
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| {
            TransportError::new(ErrorKind::Config, "stream() needs a tokio runtime")
        })?;
        let (payload_tx, payload) = watch::channel(None);
        let (status_tx, status) = watch::channel(StreamStatus::default());
        let manager = Manager {
            source: self.clone(),
            backoff: Backoff::new(config.backoff.clone()),
            config,
            payload_tx,
            status_tx,
            sse_supported: false,
            last_event_id: None,
            server_retry: None,
            last_connect: None,
            last_fetch: None,
        };
        let task = runtime.spawn(manager.run());
        Ok(StreamHandle {
            task,
            payload,
            status,
        })
    }
}

struct Manager {
    source: FeatureSource,
    config: StreamConfig,
    backoff: Backoff,
    payload_tx: watch::Sender<Option<Payload>>,
    status_tx: watch::Sender<StreamStatus>,
    sse_supported: bool,
    last_event_id: Option<String>,
    server_retry: Option<Duration>,
    last_connect: Option<Instant>,
    last_fetch: Option<Instant>,
}

impl Manager {
    async fn run(mut self) {
        loop {
            match self.refetch().await {
                Ok(()) => break,
                Err(err) => {
                    let delay = self.backoff.delay_after_error(&err, None);
                    self.record_error(err);
                    self.wait(delay).await;
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
            } else {
                self.poll_once().await;
            }
        }
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

    fn publish(&self, payload: Payload) {
        let changed = self.payload_tx.send_if_modified(|current| {
            if current.as_ref() == Some(&payload) {
                return false;
            }
            if current
                .as_ref()
                .is_some_and(|current| payload.is_older_than(current))
            {
                // E.g. a CDN-cached body fetched after a fresher SSE event: never roll back.
                tracing::debug!("ignored a payload older than the current one");
                return false;
            }
            *current = Some(payload);
            true
        });
        if changed {
            self.status_tx.send_modify(|s| s.updates += 1);
        }
    }

    /// Fetches and publishes; never closer than `floor` to the previous fetch.
    async fn refetch(&mut self) -> Result<(), TransportError> {
        if let Some(last) = self.last_fetch {
            let gap = self.config.backoff.floor.saturating_sub(last.elapsed());
            if !gap.is_zero() {
                sleep(gap).await;
            }
        }
        self.last_fetch = Some(Instant::now());
        let fetched = self.source.fetch().await?;
        self.sse_supported = fetched.sse_supported;
        self.publish(fetched.payload);
        Ok(())
    }

    async fn poll_once(&mut self) {
        self.set_state(StreamState::Polling);
        sleep(self.config.poll_interval).await;
        while let Err(err) = self.refetch().await {
            let delay = self.backoff.delay_after_error(&err, None);
            // Retry sooner than the next poll, except after a 401/403 (the long auth delay).
            let delay = if err.is_auth() {
                delay
            } else {
                delay.min(self.config.poll_interval)
            };
            self.record_error(err);
            self.wait(delay).await;
        }
        self.backoff.reset();
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
                if !auth && let Err(err) = self.refetch().await {
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
        if !first && let Err(err) = self.refetch().await {
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
                        let value = serde_json::from_str(&event.data).map_err(|_| {
                            TransportError::new(ErrorKind::Protocol, "`features` event is not JSON")
                        })?;
                        let payload = Payload::from_value(value, self.source.decryption_key())?;
                        tracing::debug!("applied a `features` event");
                        self.publish(payload);
                    }
                    "features-updated" => {
                        self.status_tx.send_modify(|s| s.beacons += 1);
                        if let Err(err) = self.refetch().await {
                            self.record_error(err);
                        }
                    }
                    other => tracing::trace!(event = other, "ignored SSE event"),
                }
            }
        }
    }
}
