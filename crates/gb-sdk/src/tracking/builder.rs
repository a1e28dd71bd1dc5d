//! [`TrackingPluginBuilder`]: the plugin's options and their defaults.

use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::fmt;
use core::sync::atomic::AtomicBool;
use core::time::Duration;

use gb_transport::NetworkConfig;
use tokio::sync::mpsc;

use crate::error::{Error, Result};
use crate::seen::SeenSet;

use super::event::TrackedEvent;
use super::plugin::GrowthBookTrackingPlugin;
use super::sink::{EventSink, HttpEventSink, config_error};
use super::worker::{Core, Worker};

/// A per-event extra callback.
pub(super) type EventCallback = Arc<dyn Fn(&TrackedEvent) + Send + Sync>;
/// An event filter: `false` skips the event.
pub(super) type EventFilter = Arc<dyn Fn(&TrackedEvent) -> bool + Send + Sync>;

/// Options of [`GrowthBookTrackingPlugin`]; get one with [`GrowthBookTrackingPlugin::builder`].
#[must_use]
pub struct TrackingPluginBuilder {
    pub(super) client_key: String,
    pub(super) ingestor_host: String,
    pub(super) batch_size: usize,
    pub(super) flush_interval: Duration,
    pub(super) queue_capacity: usize,
    pub(super) queue_bytes: usize,
    pub(super) max_event_bytes: usize,
    pub(super) dedup_capacity: usize,
    pub(super) dedup_key_attributes: Vec<String>,
    pub(super) experiment_viewed: bool,
    pub(super) feature_evaluated: bool,
    pub(super) custom_events: bool,
    pub(super) retry_backoff: Duration,
    pub(super) connect_timeout: Duration,
    pub(super) request_timeout: Duration,
    pub(super) close_timeout: Duration,
    pub(super) callback: Option<EventCallback>,
    pub(super) filter: Option<EventFilter>,
    pub(super) sink: Option<Arc<dyn EventSink>>,
    pub(super) network: NetworkConfig,
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
            recent: SeenSet::new(self.dedup_capacity, true),
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
