//! The GrowthBook tracking plugin: ships "Experiment Viewed", "Feature Evaluated" and custom
//! events to GrowthBook's ingestor, as the JS SDK's `growthbookTrackingPlugin` does.
//!
//! * Wire format: `POST {ingestor_host}/track?client_key={key}`, a JSON array of event
//!   payloads, `Content-Type: text/plain`, `Accept: application/json`.
//! * Hooks run on the evaluating thread and only deduplicate, build the event and `try_send` it
//!   into a queue bounded in events and bytes: a full queue drops the event (counted), an
//!   event over its own size limit is dropped (counted as oversized), nothing ever waits for the
//!   network. A worker thread with its own small runtime batches and posts.

use alloc::boxed::Box;
use alloc::collections::VecDeque;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::fmt;
use core::hash::{BuildHasher, Hash, Hasher};
use core::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use core::time::Duration;
use std::collections::HashMap;
use std::collections::hash_map::RandomState;
use std::sync::{Condvar, Mutex, PoisonError};
use std::time::Instant;

use bytes::Bytes;
use gb_core::{Experiment, FeatureSource, is_truthy};
use gb_transport::{BoxFuture, ErrorKind, HyperClient, NetworkConfig, TransportError};
use http::header::{self, HeaderValue};
use http::{Method, Request, Uri};
use http_body_util::{BodyExt as _, Full, Limited};
use serde_json::{Map, Value};
use tokio::sync::{Notify, mpsc};

use crate::error::{Error, Result};
use crate::event_size::{MAX_EVENT_DEPTH, event_bytes};
use crate::feature_result::FeatureResult;
use crate::js_string::js_string;
use crate::result::{ExperimentResult, Reason};
use crate::tracking::{Plugin, guarded};
use crate::user::UserContext;

/// The event name of an experiment exposure (the JS SDK's `EVENT_EXPERIMENT_VIEWED`).
pub const EVENT_EXPERIMENT_VIEWED: &str = "Experiment Viewed";
/// The event name of a feature evaluation (the JS SDK's `EVENT_FEATURE_EVALUATED`).
pub const EVENT_FEATURE_EVALUATED: &str = "Feature Evaluated";
/// The default ingestor (the JS SDK's).
pub const DEFAULT_INGESTOR_HOST: &str = "https://us-east-1.gb-ingest.com";

/// The `sdk_language` of every event payload.
const SDK_LANGUAGE: &str = "rust";
/// What is escaped in the `client_key` query value: all but RFC 3986 unreserved characters
/// (so ordinary `sdk-...` keys are sent as they are, as the JS SDK sends them).
const QUERY_VALUE: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');
/// The most response-body bytes read from the ingestor (the body is discarded).
const MAX_REPLY_BYTES: usize = 64 * 1024;

/// One event, as the tracking plugin queues it.
#[derive(Debug, Clone, PartialEq)]
pub struct TrackedEvent {
    /// `"Experiment Viewed"`, `"Feature Evaluated"`, or a custom name.
    pub name: String,
    /// The event's properties.
    pub properties: Map<String, Value>,
    /// The user's attributes.
    pub attributes: Map<String, Value>,
    /// The user's URL.
    pub url: String,
}

/// Attributes promoted to top-level payload fields (and left out of `context_json`).
const PROMOTED: [&str; 12] = [
    "user_id",
    "device_id",
    "anonymous_id",
    "id",
    "page_id",
    "session_id",
    "utmCampaign",
    "utmContent",
    "utmMedium",
    "utmSource",
    "utmTerm",
    "pageTitle",
];

/// A string attribute as the ingestor wants it; numbers are stringified (ids often are numbers).
fn id_string(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) => Some(s.clone()),
        n @ Value::Number(_) => Some(js_string(n).into_owned()),
        _ => None,
    }
}

impl TrackedEvent {
    /// The ingestor's event payload (the JS SDK's `EventPayload`): `event_name`,
    /// `properties_json`, `user_id`, `device_id` (`device_id`, else `anonymous_id`, else `id`),
    /// `page_id`, `session_id`, the `utm_*` and `page_title` fields when present, `sdk_language`
    /// (`"rust"`), `sdk_version`, `url`, and `context_json` (the other attributes).
    pub fn to_payload(&self) -> Value {
        let attrs = &self.attributes;
        let get = |k: &str| attrs.get(k);
        let nullable = |v: Option<String>| v.map_or(Value::Null, Value::String);
        let device = ["device_id", "anonymous_id", "id"]
            .into_iter()
            .filter_map(get)
            .find(|v| is_truthy(v));
        let mut m = Map::new();
        m.insert("event_name".into(), self.name.clone().into());
        m.insert(
            "properties_json".into(),
            Value::Object(self.properties.clone()),
        );
        m.insert("user_id".into(), nullable(id_string(get("user_id"))));
        m.insert("device_id".into(), nullable(id_string(device)));
        m.insert("page_id".into(), nullable(id_string(get("page_id"))));
        m.insert("session_id".into(), nullable(id_string(get("session_id"))));
        for (field, attr) in [
            ("utm_campaign", "utmCampaign"),
            ("utm_content", "utmContent"),
            ("utm_medium", "utmMedium"),
            ("utm_source", "utmSource"),
            ("utm_term", "utmTerm"),
            ("page_title", "pageTitle"),
        ] {
            if let Some(s) = get(attr).and_then(Value::as_str).filter(|s| !s.is_empty()) {
                m.insert(field.into(), s.into());
            }
        }
        m.insert("sdk_language".into(), SDK_LANGUAGE.into());
        m.insert("sdk_version".into(), env!("CARGO_PKG_VERSION").into());
        m.insert("url".into(), self.url.clone().into());
        let context: Map<String, Value> = attrs
            .iter()
            .filter(|(k, _)| !PROMOTED.contains(&k.as_str()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        m.insert("context_json".into(), Value::Object(context));
        Value::Object(m)
    }
}

/// Where the tracking plugin sends its batches. The default is [`HttpEventSink`]; another
/// (a message queue, a test double) can be plugged in with
/// [`TrackingPluginBuilder::sink`].
pub trait EventSink: Send + Sync + fmt::Debug {
    /// Sends one batch of event payloads (see [`TrackedEvent::to_payload`]). An error makes
    /// the plugin retry the batch once.
    fn send<'a>(
        &'a self,
        events: &'a [Value],
    ) -> BoxFuture<'a, core::result::Result<(), TransportError>>;
}

/// The default [`EventSink`]: `POST {ingestor_host}/track?client_key={key}` with a JSON array
/// body and `Content-Type: text/plain`, on hyper + rustls (no OpenSSL). Any 2xx is success.
pub struct HttpEventSink {
    client: HyperClient,
    uri: Uri,
    request_timeout: Duration,
}

impl fmt::Debug for HttpEventSink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The URI holds the client key: show the host only.
        f.debug_struct("HttpEventSink")
            .field("host", &self.uri.authority().map(|a| a.as_str()))
            .field("request_timeout", &self.request_timeout)
            .finish_non_exhaustive()
    }
}

fn config_error(message: &str) -> Error {
    Error::Config(message.into())
}

impl HttpEventSink {
    /// A sink for `ingestor_host` and `client_key`.
    ///
    /// # Errors
    /// [`Error::Config`] if the host and key do not form a URL, or TLS cannot be set up.
    pub fn new(
        ingestor_host: &str,
        client_key: &str,
        connect_timeout: Duration,
        request_timeout: Duration,
    ) -> Result<Self> {
        Self::with_network(
            ingestor_host,
            client_key,
            &NetworkConfig::default(),
            connect_timeout,
            request_timeout,
        )
    }

    /// A sink for `ingestor_host` and `client_key` with these trust, proxy and dialer
    /// settings.
    ///
    /// # Errors
    /// [`Error::Config`] if the host and key do not form a URL, or TLS or the proxy cannot be
    /// set up.
    pub fn with_network(
        ingestor_host: &str,
        client_key: &str,
        network: &NetworkConfig,
        connect_timeout: Duration,
        request_timeout: Duration,
    ) -> Result<Self> {
        let key = percent_encoding::utf8_percent_encode(client_key, QUERY_VALUE);
        let url = format!(
            "{}/track?client_key={key}",
            ingestor_host.trim_end_matches('/')
        );
        let uri = url
            .parse::<Uri>()
            .map_err(|_| config_error("the ingestor host does not form a valid URL"))?;
        let client = gb_transport::http::http_client(network, connect_timeout)
            .map_err(|e| config_error(&e.to_string()))?;
        Ok(Self {
            client,
            uri,
            request_timeout,
        })
    }

    async fn post(&self, body: Bytes) -> core::result::Result<(), TransportError> {
        let mut request = Request::builder()
            .method(Method::POST)
            .uri(self.uri.clone())
            .body(Full::new(body))
            .map_err(|e| TransportError::new(ErrorKind::Config, "bad request").with_source(e))?;
        let headers = request.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"));
        headers.insert(header::ACCEPT, HeaderValue::from_static("application/json"));
        headers.insert(
            header::USER_AGENT,
            HeaderValue::from_static(concat!("growthbook-rs/", env!("CARGO_PKG_VERSION"))),
        );
        let exchange = async {
            let response = self.client.request(request).await.map_err(|e| {
                TransportError::new(ErrorKind::Connect, "ingestor unreachable").with_source(e)
            })?;
            let status = response.status();
            // Read (and discard) a bounded body so the connection can be reused.
            let _ = Limited::new(response.into_body(), MAX_REPLY_BYTES)
                .collect()
                .await;
            if status.is_success() {
                Ok(())
            } else {
                Err(TransportError::status_code(status.as_u16()))
            }
        };
        tokio::time::timeout(self.request_timeout, exchange)
            .await
            .unwrap_or_else(|_| {
                Err(TransportError::new(
                    ErrorKind::Timeout,
                    "the ingestor did not answer in time",
                ))
            })
    }
}

impl EventSink for HttpEventSink {
    fn send<'a>(
        &'a self,
        events: &'a [Value],
    ) -> BoxFuture<'a, core::result::Result<(), TransportError>> {
        Box::pin(async move {
            let body = serde_json::to_vec(events).map_err(|e| {
                TransportError::new(ErrorKind::InvalidPayload, "cannot serialize events")
                    .with_source(e)
            })?;
            self.post(Bytes::from(body)).await
        })
    }
}

/// Counters of the tracking plugin (see [`GrowthBookTrackingPlugin::stats`]).
///
/// Every event accepted into the queue ends up `sent` or `failed` (or is still pending); an
/// event that found the queue full, or the plugin closed, is `dropped`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct TrackingStats {
    /// Events accepted into the queue.
    pub accepted: u64,
    /// Events the ingestor acknowledged.
    pub sent: u64,
    /// Events whose batch failed twice (or was still unsent when a close timed out).
    pub failed: u64,
    /// Events dropped because the queue was full (in events or bytes) or the plugin closed.
    pub dropped: u64,
    /// Events dropped because they alone were larger than the per-event limit (or nested too
    /// deeply to send).
    pub oversized: u64,
    /// Events skipped as duplicates of a recent one.
    pub deduplicated: u64,
    /// Events rejected by the event filter.
    pub filtered: u64,
    /// Batches the ingestor acknowledged.
    pub batches: u64,
    /// Batches retried after a first failure.
    pub retries: u64,
}

impl TrackingStats {
    /// Accepted events neither sent nor failed yet (queued or in flight).
    pub fn pending(&self) -> u64 {
        self.accepted.saturating_sub(self.sent + self.failed)
    }
}

#[derive(Debug, Default)]
struct Counters {
    accepted: AtomicU64,
    sent: AtomicU64,
    failed: AtomicU64,
    dropped: AtomicU64,
    oversized: AtomicU64,
    deduplicated: AtomicU64,
    filtered: AtomicU64,
    batches: AtomicU64,
    retries: AtomicU64,
}

fn bump(counter: &AtomicU64, n: u64) {
    counter.fetch_add(n, Ordering::Relaxed);
}

/// What the worker has done, for the threads that wait on it.
#[derive(Debug, Default)]
struct Progress {
    /// The last flush request the worker completed.
    flushed: u64,
    /// The worker has ended (after its final flush).
    finished: bool,
}

/// State shared by the plugin and its worker.
#[derive(Debug, Default)]
struct Core {
    counters: Counters,
    progress: Mutex<Progress>,
    changed: Condvar,
    flush_requested: AtomicU64,
    flush_signal: Notify,
    close_signal: Notify,
    close_deadline: Mutex<Option<Instant>>,
    /// Approximate JSON bytes of the events queued or in the worker's batch.
    queued_bytes: AtomicUsize,
}

impl Core {
    fn update(&self, f: impl FnOnce(&mut Progress)) {
        f(&mut self.progress.lock().unwrap_or_else(PoisonError::into_inner));
        self.changed.notify_all();
    }

    /// Blocks until `done` holds, at most `timeout`; returns whether it holds.
    fn wait(&self, timeout: Duration, done: impl Fn(&Progress) -> bool) -> bool {
        let guard = self.progress.lock().unwrap_or_else(PoisonError::into_inner);
        let (guard, _) = self
            .changed
            .wait_timeout_while(guard, timeout, |p| !done(p))
            .unwrap_or_else(PoisonError::into_inner);
        done(&guard)
    }

    /// Like [`wait`](Self::wait) without blocking a runtime thread (polls every 5 ms).
    async fn wait_async(&self, timeout: Duration, done: impl Fn(&Progress) -> bool) -> bool {
        let start = Instant::now();
        loop {
            if done(&self.progress.lock().unwrap_or_else(PoisonError::into_inner)) {
                return true;
            }
            if start.elapsed() >= timeout {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
}

const LRU_SHARDS: usize = 16;

/// A bounded LRU of recently seen event digests (64-bit SipHash, random key), sharded.
#[derive(Debug)]
struct RecentEvents {
    hasher: RandomState,
    per_shard: usize,
    shards: Vec<Mutex<LruShard>>,
}

#[derive(Debug, Default)]
struct LruShard {
    /// Digest → the stamp of its latest use.
    stamps: HashMap<u64, u64>,
    /// Uses, oldest first; entries whose stamp is no longer current are stale.
    order: VecDeque<(u64, u64)>,
    clock: u64,
}

impl RecentEvents {
    fn new(capacity: usize) -> Self {
        let shards = if capacity == 0 { 0 } else { LRU_SHARDS };
        Self {
            hasher: RandomState::new(),
            per_shard: capacity.div_ceil(LRU_SHARDS).max(1),
            shards: (0..shards).map(|_| Mutex::default()).collect(),
        }
    }

    fn hasher(&self) -> impl Hasher {
        self.hasher.build_hasher()
    }

    /// Records `digest`; `true` if it was seen recently (a duplicate).
    fn seen(&self, digest: u64) -> bool {
        if self.shards.is_empty() {
            return false;
        }
        // The low bits pick the shard.
        let shard = &self.shards[(digest as usize) % LRU_SHARDS];
        let mut s = shard.lock().unwrap_or_else(PoisonError::into_inner);
        s.clock += 1;
        let stamp = s.clock;
        let hit = s.stamps.insert(digest, stamp).is_some();
        s.order.push_back((digest, stamp));
        if !hit && s.stamps.len() > self.per_shard {
            while let Some((d, st)) = s.order.pop_front() {
                if s.stamps.get(&d) == Some(&st) {
                    s.stamps.remove(&d);
                    break;
                }
            }
        }
        if s.order.len() > 2 * self.per_shard + 8 {
            let LruShard { stamps, order, .. } = &mut *s;
            order.retain(|(d, st)| stamps.get(d) == Some(st));
        }
        hit
    }

    /// Entries held.
    fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|s| {
                s.lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .stamps
                    .len()
            })
            .sum()
    }
}

/// Hashes a JSON value (structure and order included, like `JSON.stringify` equality), down
/// to [`MAX_EVENT_DEPTH`] levels (deeper events are never sent).
fn hash_json(v: &Value, h: &mut impl Hasher) {
    hash_json_at(v, h, 0);
}

fn hash_json_at(v: &Value, h: &mut impl Hasher, depth: usize) {
    if depth > MAX_EVENT_DEPTH {
        return 6u8.hash(h);
    }
    match v {
        Value::Null => 0u8.hash(h),
        Value::Bool(b) => (1u8, b).hash(h),
        Value::Number(n) => (2u8, n.as_f64().map(f64::to_bits)).hash(h),
        Value::String(s) => (3u8, s).hash(h),
        Value::Array(a) => {
            (4u8, a.len()).hash(h);
            a.iter().for_each(|x| hash_json_at(x, h, depth + 1));
        }
        Value::Object(m) => {
            (5u8, m.len()).hash(h);
            for (k, x) in m {
                k.hash(h);
                hash_json_at(x, h, depth + 1);
            }
        }
    }
}

/// The worker's share of a close timeout: a little less, so it has ended (and said so) by the
/// time the caller stops waiting.
fn close_budget(timeout: Duration) -> Duration {
    timeout.saturating_sub((timeout / 10).min(Duration::from_millis(50)))
}

/// A per-event extra callback.
type EventCallback = Arc<dyn Fn(&TrackedEvent) + Send + Sync>;
/// An event filter: `false` skips the event.
type EventFilter = Arc<dyn Fn(&TrackedEvent) -> bool + Send + Sync>;

/// Options of [`GrowthBookTrackingPlugin`]; get one with [`GrowthBookTrackingPlugin::builder`].
#[must_use]
pub struct TrackingPluginBuilder {
    client_key: String,
    ingestor_host: String,
    batch_size: usize,
    flush_interval: Duration,
    queue_capacity: usize,
    queue_bytes: usize,
    max_event_bytes: usize,
    dedup_capacity: usize,
    dedup_key_attributes: Vec<String>,
    experiment_viewed: bool,
    feature_evaluated: bool,
    custom_events: bool,
    retry_backoff: Duration,
    connect_timeout: Duration,
    request_timeout: Duration,
    close_timeout: Duration,
    callback: Option<EventCallback>,
    filter: Option<EventFilter>,
    sink: Option<Arc<dyn EventSink>>,
    network: NetworkConfig,
}

impl fmt::Debug for TrackingPluginBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TrackingPluginBuilder")
            .field("ingestor_host", &self.ingestor_host)
            .field("batch_size", &self.batch_size)
            .field("flush_interval", &self.flush_interval)
            .field("queue_capacity", &self.queue_capacity)
            .field("dedup_capacity", &self.dedup_capacity)
            .finish_non_exhaustive()
    }
}

/// The default number of events per batch.
pub const DEFAULT_TRACKING_BATCH_SIZE: usize = 100;
/// The default flush interval (from the first unsent event).
pub const DEFAULT_TRACKING_FLUSH_INTERVAL: Duration = Duration::from_secs(1);
/// The default queue capacity, in events.
pub const DEFAULT_TRACKING_QUEUE_CAPACITY: usize = 10_000;
/// The default bound of the queue in bytes (approximate JSON size of the queued events).
pub const DEFAULT_TRACKING_QUEUE_BYTES: usize = 8 << 20;
/// The default largest event (approximate JSON size); larger ones are dropped and counted in
/// [`TrackingStats::oversized`].
pub const DEFAULT_TRACKING_MAX_EVENT_BYTES: usize = 256 << 10;
/// The default capacity of the recent-events deduplication LRU.
pub const DEFAULT_TRACKING_DEDUP_CAPACITY: usize = 10_000;

impl TrackingPluginBuilder {
    /// The ingestor (default [`DEFAULT_INGESTOR_HOST`]).
    pub fn ingestor_host(mut self, host: impl Into<String>) -> Self {
        self.ingestor_host = host.into();
        self
    }

    /// Events per batch: a batch is posted once it has this many (default 100, at least 1).
    pub fn batch_size(mut self, size: usize) -> Self {
        self.batch_size = size.max(1);
        self
    }

    /// A batch is posted at most this long after its first event (default 1 s).
    pub fn flush_interval(mut self, interval: Duration) -> Self {
        self.flush_interval = interval;
        self
    }

    /// Events the queue holds before new ones are dropped (default 10 000, at least 1).
    pub fn queue_capacity(mut self, capacity: usize) -> Self {
        self.queue_capacity = capacity.max(1);
        self
    }

    /// Bytes the queue holds (the approximate JSON size of the events queued and being sent)
    /// before new events are dropped (default 8 MiB, at least 1). With a hung ingestor the
    /// queue stops here, whatever the size of each event; in memory an event takes a few
    /// times its JSON size.
    pub fn queue_bytes(mut self, bytes: usize) -> Self {
        self.queue_bytes = bytes.max(1);
        self
    }

    /// The largest event sent (approximate JSON size of its properties, attributes and URL;
    /// default 256 KiB); a larger one is dropped and counted in [`TrackingStats::oversized`].
    pub fn max_event_bytes(mut self, bytes: usize) -> Self {
        self.max_event_bytes = bytes;
        self
    }

    /// Recent "Experiment Viewed" / "Feature Evaluated" events remembered to skip identical
    /// ones (default 10 000; 0 turns deduplication off). Custom events are never deduplicated.
    pub fn dedup_capacity(mut self, capacity: usize) -> Self {
        self.dedup_capacity = capacity;
        self
    }

    /// The attributes that identify a user in the dedup key (the JS `dedupeKeyAttributes`).
    /// Default: none for "Experiment Viewed" (its properties hold the hash value), all
    /// attributes for "Feature Evaluated".
    pub fn dedup_key_attributes(mut self, attributes: Vec<String>) -> Self {
        self.dedup_key_attributes = attributes;
        self
    }

    /// Send "Experiment Viewed" events (default true).
    pub fn track_experiment_viewed(mut self, on: bool) -> Self {
        self.experiment_viewed = on;
        self
    }

    /// Send "Feature Evaluated" events (default true).
    pub fn track_feature_evaluated(mut self, on: bool) -> Self {
        self.feature_evaluated = on;
        self
    }

    /// Send events logged with [`UserContext::log_event`] (default true).
    pub fn track_custom_events(mut self, on: bool) -> Self {
        self.custom_events = on;
        self
    }

    /// The pause before a failed batch is retried, once (default 1 s).
    pub fn retry_backoff(mut self, backoff: Duration) -> Self {
        self.retry_backoff = backoff;
        self
    }

    /// TCP + TLS connect timeout of the default sink (default 5 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// The longest one post may take, any sink (default 10 s).
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// The final flush's budget when the client closes or the plugin is dropped (default 5 s).
    pub fn close_timeout(mut self, timeout: Duration) -> Self {
        self.close_timeout = timeout;
        self
    }

    /// An extra callback for every event about to be queued (the Python
    /// `additional_callback`; not called for duplicates, filtered events, or while the queue is
    /// full). It runs on the evaluating thread; a panic in it is caught and logged.
    pub fn additional_callback(
        mut self,
        callback: impl Fn(&TrackedEvent) + Send + Sync + 'static,
    ) -> Self {
        self.callback = Some(Arc::new(callback));
        self
    }

    /// A filter: events for which it returns `false` are not sent (the JS `eventFilter`).
    pub fn event_filter(
        mut self,
        filter: impl Fn(&TrackedEvent) -> bool + Send + Sync + 'static,
    ) -> Self {
        self.filter = Some(Arc::new(filter));
        self
    }

    /// Trust, proxy and dialer for the built-in [`HttpEventSink`] (default: the webpki roots,
    /// the proxy from the environment, TCP).
    pub fn network(mut self, network: NetworkConfig) -> Self {
        self.network = network;
        self
    }

    /// Sends batches with `sink` instead of the built-in [`HttpEventSink`].
    pub fn sink(mut self, sink: Arc<dyn EventSink>) -> Self {
        self.sink = Some(sink);
        self
    }

    /// Starts the plugin's worker thread. Add the plugin with
    /// [`GrowthBookBuilder::plugin`](crate::GrowthBookBuilder::plugin). Needs no tokio
    /// runtime: the worker has its own.
    ///
    /// # Errors
    /// [`Error::Config`] for an unusable ingestor host or client key, or if the worker
    /// thread cannot start.
    pub fn build(self) -> Result<Arc<GrowthBookTrackingPlugin>> {
        if self.client_key.is_empty() && self.sink.is_none() {
            return Err(config_error(
                "the tracking plugin needs a client key (or a custom sink)",
            ));
        }
        let sink = match self.sink {
            Some(s) => s,
            None => Arc::new(HttpEventSink::with_network(
                &self.ingestor_host,
                &self.client_key,
                &self.network,
                self.connect_timeout,
                self.request_timeout,
            )?),
        };
        let (tx, rx) = mpsc::channel(self.queue_capacity);
        let core = Arc::new(Core::default());
        let worker = Worker {
            core: Arc::clone(&core),
            events: rx,
            sink,
            batch_size: self.batch_size,
            flush_interval: self.flush_interval,
            retry_backoff: self.retry_backoff,
            request_timeout: self.request_timeout,
            close_timeout: self.close_timeout,
        };
        std::thread::Builder::new()
            .name("growthbook-tracking".into())
            .spawn(move || worker.run_thread())
            .map_err(|e| Error::Config(format!("cannot start the tracking worker: {e}")))?;
        Ok(Arc::new(GrowthBookTrackingPlugin {
            tx,
            core,
            closed: AtomicBool::new(false),
            recent: RecentEvents::new(self.dedup_capacity),
            queue_bytes: self.queue_bytes,
            max_event_bytes: self.max_event_bytes,
            dedup_key_attributes: self.dedup_key_attributes,
            experiment_viewed: self.experiment_viewed,
            feature_evaluated: self.feature_evaluated,
            custom_events: self.custom_events,
            close_timeout: self.close_timeout,
            callback: self.callback,
            filter: self.filter,
        }))
    }
}

/// The GrowthBook tracking plugin (the JS `growthbookTrackingPlugin`, the Python
/// `GrowthBookTrackingPlugin`). See the [crate documentation](crate#event-tracking).
pub struct GrowthBookTrackingPlugin {
    tx: mpsc::Sender<Queued>,
    core: Arc<Core>,
    closed: AtomicBool,
    recent: RecentEvents,
    queue_bytes: usize,
    max_event_bytes: usize,
    dedup_key_attributes: Vec<String>,
    experiment_viewed: bool,
    feature_evaluated: bool,
    custom_events: bool,
    close_timeout: Duration,
    callback: Option<EventCallback>,
    filter: Option<EventFilter>,
}

impl fmt::Debug for GrowthBookTrackingPlugin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GrowthBookTrackingPlugin")
            .field("stats", &self.stats())
            .field("closed", &self.closed.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

impl GrowthBookTrackingPlugin {
    /// A builder with every option at its default, for the SDK `client_key`.
    pub fn builder(client_key: impl Into<String>) -> TrackingPluginBuilder {
        TrackingPluginBuilder {
            client_key: client_key.into(),
            ingestor_host: DEFAULT_INGESTOR_HOST.into(),
            batch_size: DEFAULT_TRACKING_BATCH_SIZE,
            flush_interval: DEFAULT_TRACKING_FLUSH_INTERVAL,
            queue_capacity: DEFAULT_TRACKING_QUEUE_CAPACITY,
            queue_bytes: DEFAULT_TRACKING_QUEUE_BYTES,
            max_event_bytes: DEFAULT_TRACKING_MAX_EVENT_BYTES,
            dedup_capacity: DEFAULT_TRACKING_DEDUP_CAPACITY,
            dedup_key_attributes: Vec::new(),
            experiment_viewed: true,
            feature_evaluated: true,
            custom_events: true,
            retry_backoff: Duration::from_secs(1),
            connect_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(10),
            close_timeout: Duration::from_secs(5),
            callback: None,
            filter: None,
            sink: None,
            network: NetworkConfig::default(),
        }
    }

    /// The counters so far.
    pub fn stats(&self) -> TrackingStats {
        let c = &self.core.counters;
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        TrackingStats {
            accepted: get(&c.accepted),
            sent: get(&c.sent),
            failed: get(&c.failed),
            dropped: get(&c.dropped),
            oversized: get(&c.oversized),
            deduplicated: get(&c.deduplicated),
            filtered: get(&c.filtered),
            batches: get(&c.batches),
            retries: get(&c.retries),
        }
    }

    /// Entries in the deduplication LRU (bounded by its capacity).
    pub fn dedup_len(&self) -> usize {
        self.recent.len()
    }

    /// Posts everything queued now and waits for it, at most `timeout` (blocks this thread);
    /// returns whether the flush completed (sent or failed) in time.
    pub fn flush(&self, timeout: Duration) -> bool {
        let wanted = self.request_flush();
        self.core
            .wait(timeout, |p| p.flushed >= wanted || p.finished)
    }

    /// [`flush`](Self::flush) for async code (does not block the runtime thread).
    pub async fn flush_async(&self, timeout: Duration) -> bool {
        let wanted = self.request_flush();
        self.core
            .wait_async(timeout, |p| p.flushed >= wanted || p.finished)
            .await
    }

    fn request_flush(&self) -> u64 {
        let wanted = self.core.flush_requested.fetch_add(1, Ordering::AcqRel) + 1;
        self.core.flush_signal.notify_one();
        wanted
    }

    /// Stops accepting events, posts everything queued (within `timeout`), and ends the
    /// worker; waits for that, at most `timeout` (blocks this thread). Returns whether the
    /// worker finished in time. Events still unsent at the deadline count as failed.
    /// Idempotent.
    pub fn close(&self, timeout: Duration) -> bool {
        self.begin_close(timeout);
        self.core.wait(timeout, |p| p.finished)
    }

    /// [`close`](Self::close) for async code (does not block the runtime thread).
    pub async fn close_async(&self, timeout: Duration) -> bool {
        self.begin_close(timeout);
        self.core.wait_async(timeout, |p| p.finished).await
    }

    /// Whether the worker has ended (after a close, or if it could not start).
    pub fn is_finished(&self) -> bool {
        self.core
            .progress
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .finished
    }

    fn begin_close(&self, timeout: Duration) {
        if self.closed.swap(true, Ordering::AcqRel) {
            return;
        }
        *self
            .core
            .close_deadline
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(Instant::now() + close_budget(timeout));
        self.core.close_signal.notify_one();
    }

    /// Whether `(name, properties, identity)` was seen recently.
    fn duplicate(
        &self,
        name: &str,
        properties: &Map<String, Value>,
        attributes: &Map<String, Value>,
    ) -> bool {
        let mut h = self.recent.hasher();
        name.hash(&mut h);
        for (k, v) in properties {
            k.hash(&mut h);
            hash_json(v, &mut h);
        }
        if self.dedup_key_attributes.is_empty() {
            if name == EVENT_FEATURE_EVALUATED {
                for (k, v) in attributes {
                    k.hash(&mut h);
                    hash_json(v, &mut h);
                }
            }
        } else {
            for k in &self.dedup_key_attributes {
                k.hash(&mut h);
                hash_json(attributes.get(k).unwrap_or(&Value::Null), &mut h);
            }
        }
        self.recent.seen(h.finish())
    }

    /// Filters, deduplicates (built-in events) and queues an event; never blocks.
    fn track(&self, name: &str, properties: Map<String, Value>, user: &UserContext, dedup: bool) {
        let counters = &self.core.counters;
        if dedup && self.duplicate(name, &properties, user.attributes()) {
            bump(&counters.deduplicated, 1);
            return;
        }
        // Full or closed: drop before copying anything (cheap under a flood).
        if self.closed.load(Ordering::Acquire) || self.tx.capacity() == 0 {
            self.dropped();
            return;
        }
        // Measured before anything is copied: an oversized event costs at most its limit.
        let text = name.len() + user.url().len();
        let Some(bytes) = event_bytes(
            &[&properties, user.attributes()],
            text,
            self.max_event_bytes,
        ) else {
            let n = counters.oversized.fetch_add(1, Ordering::Relaxed) + 1;
            if n.is_power_of_two() {
                tracing::warn!(
                    oversized = n,
                    limit = self.max_event_bytes,
                    "growthbook tracking event larger than its limit (or nested too deeply); dropped"
                );
            }
            return;
        };
        let queued = &self.core.queued_bytes;
        if queued.fetch_add(bytes, Ordering::AcqRel) + bytes > self.queue_bytes {
            queued.fetch_sub(bytes, Ordering::AcqRel);
            self.dropped();
            return;
        }
        let event = TrackedEvent {
            name: name.into(),
            properties,
            attributes: user.attributes().clone(),
            url: user.url().into(),
        };
        if let Some(filter) = &self.filter {
            let mut keep = true;
            guarded("tracking event_filter", || keep = filter(&event));
            if !keep {
                queued.fetch_sub(bytes, Ordering::AcqRel);
                bump(&counters.filtered, 1);
                return;
            }
        }
        if let Some(cb) = &self.callback {
            guarded("tracking additional_callback", || cb(&event));
        }
        match self.tx.try_send(Queued { event, bytes }) {
            Ok(()) => bump(&counters.accepted, 1),
            Err(_) => {
                queued.fetch_sub(bytes, Ordering::AcqRel);
                self.dropped();
            }
        }
    }

    /// Counts a dropped event; logs once per power of two, so a flood does not flood the logs.
    fn dropped(&self) {
        let dropped = self.core.counters.dropped.fetch_add(1, Ordering::Relaxed) + 1;
        if dropped.is_power_of_two() {
            tracing::warn!(
                dropped,
                "growthbook tracking queue full or closed; events dropped"
            );
        }
    }
}

impl Plugin for GrowthBookTrackingPlugin {
    fn name(&self) -> &str {
        "growthbook-tracking"
    }

    fn on_experiment_viewed(
        &self,
        experiment: &Experiment,
        result: &ExperimentResult,
        user: &UserContext,
    ) {
        if !self.experiment_viewed {
            return;
        }
        let mut p = Map::new();
        p.insert("experimentId".into(), experiment.key().into());
        p.insert("variationId".into(), result.key.clone().into());
        p.insert("hashAttribute".into(), result.hash_attribute.clone().into());
        p.insert("hashValue".into(), result.hash_value.clone());
        self.track(EVENT_EXPERIMENT_VIEWED, p, user, true);
    }

    fn wants_feature_usage(&self) -> bool {
        self.feature_evaluated
    }

    fn on_feature_usage(&self, key: &str, result: &FeatureResult, user: &UserContext) {
        // Before features load every value is the caller's default: nothing to report.
        if !self.feature_evaluated || result.reason() == Reason::NotReady {
            return;
        }
        let rule_id = if result.source() == FeatureSource::DefaultValue {
            "$default"
        } else {
            result.rule_id()
        };
        let variation = result.variation_key().unwrap_or_default();
        let mut p = Map::new();
        p.insert("feature".into(), key.into());
        p.insert("source".into(), result.source().as_str().into());
        p.insert("value".into(), result.value().clone());
        p.insert("ruleId".into(), rule_id.into());
        p.insert("variationId".into(), variation.into());
        self.track(EVENT_FEATURE_EVALUATED, p, user, true);
    }

    fn on_event(&self, name: &str, properties: &Map<String, Value>, user: &UserContext) {
        if self.custom_events {
            self.track(name, properties.clone(), user, false);
        }
    }

    /// Starts the final flush (bounded by the close timeout) without waiting for it; call
    /// [`GrowthBookTrackingPlugin::close`] to wait. A plugin shared by several clients stops
    /// with the first one closed.
    fn on_close(&self) {
        self.begin_close(self.close_timeout);
    }
}

/// An event in the queue, with its size (released once its batch is sent or failed).
struct Queued {
    event: TrackedEvent,
    bytes: usize,
}

/// The worker: batches queued events and posts them, one batch at a time.
struct Worker {
    core: Arc<Core>,
    events: mpsc::Receiver<Queued>,
    sink: Arc<dyn EventSink>,
    batch_size: usize,
    flush_interval: Duration,
    retry_backoff: Duration,
    request_timeout: Duration,
    close_timeout: Duration,
}

impl Worker {
    fn run_thread(self) {
        let core = Arc::clone(&self.core);
        match tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        {
            Ok(rt) => rt.block_on(self.run()),
            Err(e) => {
                tracing::error!(error = %e, "cannot start the growthbook tracking runtime; events will be dropped");
                drop(self);
            }
        }
        core.update(|p| p.finished = true);
    }

    async fn run(mut self) {
        let mut batch: Vec<Queued> = Vec::with_capacity(self.batch_size);
        let mut due: Option<tokio::time::Instant> = None;
        let core = Arc::clone(&self.core);
        loop {
            let sleep_until =
                due.unwrap_or_else(|| tokio::time::Instant::now() + Duration::from_secs(3600));
            tokio::select! {
                biased;
                () = core.close_signal.notified() => break,
                () = core.flush_signal.notified() => {
                    let wanted = core.flush_requested.load(Ordering::Acquire);
                    self.drain(&mut batch);
                    due = None;
                    if self.post_unless_closed(&mut batch).await {
                        break;
                    }
                    core.update(|p| p.flushed = p.flushed.max(wanted));
                }
                event = self.events.recv() => match event {
                    Some(e) => {
                        if batch.is_empty() {
                            due = Some(tokio::time::Instant::now() + self.flush_interval);
                        }
                        batch.push(e);
                        if batch.len() >= self.batch_size {
                            due = None;
                            if self.post_unless_closed(&mut batch).await {
                                break;
                            }
                        }
                    }
                    // Every sender is gone: the plugin was dropped.
                    None => break,
                },
                () = tokio::time::sleep_until(sleep_until), if due.is_some() => {
                    due = None;
                    if self.post_unless_closed(&mut batch).await {
                        break;
                    }
                }
            }
        }
        // Final flush: no new events, post what is queued before the deadline.
        self.events.close();
        let deadline = core
            .close_deadline
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .unwrap_or_else(|| Instant::now() + close_budget(self.close_timeout));
        let budget = deadline.saturating_duration_since(Instant::now());
        let _ = tokio::time::timeout(budget, async {
            self.drain(&mut batch);
            self.post_all(&mut batch).await;
        })
        .await;
        // Whatever is still unsent now is lost: count it as failed.
        let c = &core.counters;
        let unsent = c
            .accepted
            .load(Ordering::Relaxed)
            .saturating_sub(c.sent.load(Ordering::Relaxed) + c.failed.load(Ordering::Relaxed));
        bump(&c.failed, unsent);
        core.update(|p| p.flushed = core.flush_requested.load(Ordering::Acquire));
    }

    /// Moves every queued event into `batch`.
    fn drain(&mut self, batch: &mut Vec<Queued>) {
        while let Ok(e) = self.events.try_recv() {
            batch.push(e);
        }
    }

    /// [`post_all`](Self::post_all), abandoned if a close is requested meanwhile (what is
    /// unsent stays in `batch` for the final flush); returns whether a close was requested.
    async fn post_unless_closed(&self, batch: &mut Vec<Queued>) -> bool {
        tokio::select! {
            biased;
            () = self.core.close_signal.notified() => true,
            () = self.post_all(batch) => false,
        }
    }

    /// Posts `batch` in chunks of the batch size, removing each chunk once it is sent or
    /// failed (so an abandoned call leaves the rest in place).
    async fn post_all(&self, batch: &mut Vec<Queued>) {
        while !batch.is_empty() {
            let n = batch.len().min(self.batch_size);
            self.post(&batch[..n]).await;
            let bytes: usize = batch.drain(..n).map(|q| q.bytes).sum();
            self.core.queued_bytes.fetch_sub(bytes, Ordering::AcqRel);
        }
    }

    /// Posts one batch; on failure waits the backoff and retries once.
    async fn post(&self, batch: &[Queued]) {
        if batch.is_empty() {
            return;
        }
        let n = batch.len() as u64;
        let payloads: Vec<Value> = batch.iter().map(|q| q.event.to_payload()).collect();
        let c = &self.core.counters;
        for attempt in 0..2 {
            let outcome =
                tokio::time::timeout(self.request_timeout, self.sink.send(&payloads)).await;
            match outcome {
                Ok(Ok(())) => {
                    bump(&c.sent, n);
                    bump(&c.batches, 1);
                    return;
                }
                Ok(Err(e)) => {
                    tracing::warn!(error = %e, attempt, "growthbook tracking post failed")
                }
                Err(_) => tracing::warn!(attempt, "growthbook tracking post timed out"),
            }
            if attempt == 0 {
                bump(&c.retries, 1);
                tokio::time::sleep(self.retry_backoff).await;
            }
        }
        bump(&c.failed, n);
    }
}
