//! [`GrowthBookTrackingPlugin`]: the hooks (dedup, build, `try_send`), flush and close.

use alloc::boxed::Box;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::fmt;
use core::hash::{Hash, Hasher};
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use core::time::Duration;
use std::sync::PoisonError;
use std::time::Instant;

use gb_core::{Experiment, FeatureSource};
use gb_transport::BoxFuture;
use gb_transport::NetworkConfig;
use serde_json::{Map, Value};
use tokio::sync::mpsc;

use crate::event_size::{MAX_EVENT_DEPTH, event_bytes};
use crate::feature_result::FeatureResult;
use crate::plugin::{Plugin, guarded};
use crate::result::{ExperimentResult, Reason};
use crate::seen::SeenSet;
use crate::user::UserContext;

use super::builder::{
    DEFAULT_TRACKING_BATCH_SIZE, DEFAULT_TRACKING_DEDUP_CAPACITY, DEFAULT_TRACKING_FLUSH_INTERVAL,
    DEFAULT_TRACKING_MAX_EVENT_BYTES, DEFAULT_TRACKING_QUEUE_BYTES,
    DEFAULT_TRACKING_QUEUE_CAPACITY, EventCallback, EventFilter, TrackingPluginBuilder,
};
use super::event::TrackedEvent;
use super::stats::{TrackingStats, bump};
use super::worker::{Core, Queued, close_budget};
use super::{DEFAULT_INGESTOR_HOST, EVENT_EXPERIMENT_VIEWED, EVENT_FEATURE_EVALUATED};

/// Hashes a JSON value (structure and order included, like `JSON.stringify` equality), down
/// to [`MAX_EVENT_DEPTH`] levels (deeper events are never sent).
pub(super) fn hash_json(v: &Value, h: &mut impl Hasher) {
    hash_json_at(v, h, 0);
}

pub(super) fn hash_json_at(v: &Value, h: &mut impl Hasher, depth: usize) {
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

/// The GrowthBook tracking plugin (the JS `growthbookTrackingPlugin`, the Python
/// `GrowthBookTrackingPlugin`). See the [crate documentation](crate#event-tracking).
pub struct GrowthBookTrackingPlugin {
    pub(super) tx: mpsc::Sender<Queued>,
    pub(super) core: Arc<Core>,
    pub(super) closed: AtomicBool,
    pub(super) recent: SeenSet,
    pub(super) queue_bytes: usize,
    pub(super) max_event_bytes: usize,
    pub(super) dedup_key_attributes: Vec<String>,
    pub(super) experiment_viewed: bool,
    pub(super) feature_evaluated: bool,
    pub(super) custom_events: bool,
    pub(super) close_timeout: Duration,
    pub(super) callback: Option<EventCallback>,
    pub(super) filter: Option<EventFilter>,
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

    pub(super) fn request_flush(&self) -> u64 {
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

    pub(super) fn begin_close(&self, timeout: Duration) {
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
    pub(super) fn duplicate(
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
        !self.recent.first_sight(h.finish())
    }

    /// Filters, deduplicates (built-in events) and queues an event; never blocks.
    pub(super) fn track(
        &self,
        name: &str,
        properties: Map<String, Value>,
        user: &UserContext,
        dedup: bool,
    ) {
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
    pub(super) fn dropped(&self) {
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
    fn on_shutdown(&self, timeout: Duration) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            self.close_async(timeout).await;
        })
    }

    fn on_close(&self) {
        self.begin_close(self.close_timeout);
    }
}
