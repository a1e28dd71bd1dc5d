//! The shared client: the snapshot evaluations read, its status, and the tasks that refresh it.

use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::fmt;
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use core::time::Duration;
use std::sync::{Mutex, PoisonError};
use std::time::SystemTime;

use arc_swap::ArcSwap;
use gb_core::{Experiment, FeatureSet};
use gb_sticky::{StickyAssignmentsDocument, StickyBucketService};
use gb_transport::{FeatureSource, RefreshTrigger};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinHandle;

use crate::error::{Error, Result};
use crate::feature_result::FeatureResult;
use crate::result::ExperimentResult;
use crate::sticky_writer::WriterMsg;
use crate::tracking::{Callbacks, Dedup};
use crate::user::UserContext;

/// One compiled payload. Immutable: a refresh builds a new one and swaps it in.
#[derive(Debug, Default)]
pub(crate) struct Snapshot {
    pub(crate) features: FeatureSet,
    /// Increases by one with every payload applied (0: nothing loaded yet).
    pub(crate) version: u64,
    /// Whether this holds loaded features (false only for the empty initial snapshot).
    pub(crate) loaded: bool,
}

impl Snapshot {
    pub(crate) fn reason(&self) -> crate::result::Reason {
        if self.loaded {
            crate::result::Reason::Evaluated
        } else {
            crate::result::Reason::NotReady
        }
    }

    pub(crate) fn loaded(features: FeatureSet, version: u64) -> Self {
        Self {
            features,
            version,
            loaded: true,
        }
    }
}

/// The health of the client's features, for readiness probes and dashboards.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Status {
    /// No features loaded yet, and no failure so far (evaluations return defaults).
    NotReady,
    /// Features are loaded and the last refresh succeeded.
    Ready,
    /// Features are loaded, but they are older than the cache TTL, came from a stale cache, or
    /// the last refresh failed (they are kept: see [`GrowthBook::last_error`]).
    Stale,
    /// No features could be loaded: the last attempt failed (evaluations return defaults).
    Error,
}

#[derive(Debug)]
pub(crate) struct Health {
    pub(crate) status: Status,
    pub(crate) last_error: Option<Error>,
    pub(crate) updated_at: Option<SystemTime>,
}

/// Per-client evaluation settings.
#[derive(Debug, Clone, Default)]
pub(crate) struct EvalConfig {
    pub(crate) attributes: Map<String, Value>,
    pub(crate) url: String,
    pub(crate) forced_variations: Map<String, Value>,
    pub(crate) forced_features: Map<String, Value>,
    pub(crate) qa_mode: bool,
    pub(crate) enabled: bool,
    pub(crate) remote_eval: bool,
    pub(crate) sticky_timeout: Duration,
    /// `url` and the forced values, made once and shared by every new user context.
    pub(crate) shared_overrides: std::sync::OnceLock<Arc<crate::inputs::Overrides>>,
}

impl EvalConfig {
    /// The client's URL and forced values, shared (built at the first call).
    pub(crate) fn overrides(&self) -> Arc<crate::inputs::Overrides> {
        Arc::clone(
            self.shared_overrides
                .get_or_init(|| Arc::new(crate::inputs::Overrides::from_config(self))),
        )
    }
}

/// State shared by the client handles and the background tasks.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) snapshot: ArcSwap<Snapshot>,
    pub(crate) config: EvalConfig,
    pub(crate) callbacks: Callbacks,
    pub(crate) dedup: Dedup,
    pub(crate) health: Mutex<Health>,
    pub(crate) ready: watch::Sender<bool>,
    /// The status, for [`GrowthBook::status_changes`] (kept equal to `health.status`).
    pub(crate) status_tx: watch::Sender<Status>,
    /// Set when the features outlived the cache TTL (stale-while-revalidate).
    pub(crate) stale: AtomicBool,
    pub(crate) refresh_requested: AtomicBool,
    /// Asks the engine for a revalidation (stale-while-revalidate).
    pub(crate) demand: RefreshTrigger,
    pub(crate) sticky: Option<Arc<dyn StickyBucketService>>,
    /// The runtime a blocking client owns, for [`UserContext::prepare_blocking`].
    pub(crate) blocking: Option<tokio::runtime::Handle>,
    pub(crate) writer: Option<mpsc::Sender<WriterMsg>>,
    pub(crate) dropped_writes: AtomicU64,
    pub(crate) source: Option<FeatureSource>,
    pub(crate) closed: AtomicBool,
    /// The last snapshot version handed out.
    pub(crate) versions: AtomicU64,
    pub(crate) remote_cache: crate::user::RemoteCache,
}

impl Shared {
    /// Swaps in a new compiled payload.
    pub(crate) fn install(&self, features: FeatureSet, fresh: bool) -> u64 {
        for w in features.warnings() {
            tracing::warn!(warning = %w, "growthbook payload warning");
        }
        let version = self.versions.fetch_add(1, Ordering::AcqRel) + 1;
        self.snapshot
            .store(Arc::new(Snapshot::loaded(features, version)));
        {
            let mut h = self.health.lock().unwrap_or_else(PoisonError::into_inner);
            h.status = if fresh { Status::Ready } else { Status::Stale };
            h.updated_at = Some(SystemTime::now());
            self.publish(h.status);
        }
        if fresh {
            self.stale.store(false, Ordering::Relaxed);
        }
        self.ready.send_replace(true);
        tracing::debug!(version, "growthbook features updated");
        self.callbacks
            .each_plugin(|p| p.on_features_updated(version));
        version
    }

    /// The server confirmed the current features (e.g. a 304).
    pub(crate) fn mark_fresh(&self) {
        self.stale.store(false, Ordering::Relaxed);
        let mut h = self.health.lock().unwrap_or_else(PoisonError::into_inner);
        if self.snapshot.load().loaded {
            h.status = Status::Ready;
        }
        h.updated_at = Some(SystemTime::now());
        self.publish(h.status);
    }

    /// The features outlived the cache TTL: the next evaluation asks for one revalidation.
    pub(crate) fn mark_stale(&self) {
        self.refresh_requested.store(false, Ordering::Release);
        self.stale.store(true, Ordering::Relaxed);
        let mut h = self.health.lock().unwrap_or_else(PoisonError::into_inner);
        if h.status == Status::Ready {
            h.status = Status::Stale;
        }
        self.publish(h.status);
    }

    /// A refresh failed: the last good features are kept.
    pub(crate) fn record_error(&self, err: Error) {
        tracing::warn!(error = %err, "growthbook refresh failed; keeping the last good features");
        let loaded = self.snapshot.load().loaded;
        let mut h = self.health.lock().unwrap_or_else(PoisonError::into_inner);
        // With remote evaluation a failure concerns one user (who gets defaults), not the client.
        if !self.config.remote_eval {
            h.status = if loaded { Status::Stale } else { Status::Error };
        }
        h.last_error = Some(err);
        self.publish(h.status);
    }

    /// Tells status watchers (only when the status changed). Called with `health` locked, so
    /// watchers see the changes in order.
    fn publish(&self, status: Status) {
        self.status_tx.send_if_modified(|s| {
            let changed = *s != status;
            *s = status;
            changed
        });
    }

    /// Called on every evaluation: asks for a background revalidation once the features are
    /// stale. One relaxed load when they are not.
    #[inline]
    pub(crate) fn touch(&self) {
        if self.stale.load(Ordering::Relaxed)
            && !self.refresh_requested.swap(true, Ordering::AcqRel)
        {
            self.demand.request();
        }
    }

    /// Queues changed sticky-bucket documents for the writer task (never blocks).
    pub(crate) fn save_sticky(&self, docs: Vec<StickyAssignmentsDocument>) {
        let Some(writer) = &self.writer else { return };
        if writer.try_send(WriterMsg::Save(docs)).is_err() {
            self.dropped_writes.fetch_add(1, Ordering::Relaxed);
            tracing::warn!("sticky-bucket write queue full or closed; a save was dropped");
        }
    }
}

/// The runtime a blocking client owns (see [`GrowthBookBuilder::build_blocking`]).
#[derive(Debug)]
pub(crate) struct OwnedRuntime(pub(crate) Option<tokio::runtime::Runtime>);

impl Drop for OwnedRuntime {
    fn drop(&mut self) {
        if let Some(rt) = self.0.take() {
            // Never blocks, so it is safe anywhere (even inside another runtime).
            rt.shutdown_background();
        }
    }
}

#[derive(Debug)]
pub(crate) struct Inner {
    pub(crate) shared: Arc<Shared>,
    pub(crate) tasks: Mutex<Vec<JoinHandle<()>>>,
    pub(crate) handle: Option<tokio::runtime::Handle>,
    pub(crate) runtime: Mutex<OwnedRuntime>,
    /// The context of the client's own evaluation methods (the default attributes).
    pub(crate) default_user: UserContext,
}

impl Inner {
    fn close(&self) {
        if self.shared.closed.swap(true, Ordering::AcqRel) {
            return;
        }
        for t in self
            .tasks
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
        {
            t.abort();
        }
        self.shared.callbacks.each_plugin(|p| p.on_close());
        // Drop the owned runtime (if any): its threads end once the aborted tasks are dropped.
        drop(core::mem::replace(
            &mut *self.runtime.lock().unwrap_or_else(PoisonError::into_inner),
            OwnedRuntime(None),
        ));
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.close();
    }
}

/// The GrowthBook client: build one per process and share it (`Clone` is an `Arc` clone).
///
/// Evaluations are synchronous and lock-free: they read an immutable compiled snapshot that
/// background refreshes swap atomically, and never touch the network. Evaluate for a user with
/// [`GrowthBook::user`]; the methods on the client itself evaluate with the builder's default
/// attributes (the single-user style of the Python `GrowthBook(attributes=...)` object).
///
/// The client stops its background tasks on [`close`](Self::close) or when its last clone is
/// dropped ([`UserContext`]s do not keep them running; they keep evaluating on the last
/// features).
#[derive(Clone)]
pub struct GrowthBook {
    pub(crate) inner: Arc<Inner>,
}

impl fmt::Debug for GrowthBook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GrowthBook")
            .field("status", &self.status())
            .field("version", &self.version())
            .finish_non_exhaustive()
    }
}

impl GrowthBook {
    pub(crate) fn shared(&self) -> &Shared {
        &self.inner.shared
    }

    /// A context for one user: evaluate with its `is_on`, `feature_value`, `eval_feature`
    /// and `run`. The builder's default attributes are merged under `attributes`.
    ///
    /// Cheap (no I/O). With a sticky-bucket service or remote evaluation, call
    /// [`UserContext::prepare`] once to load the user's documents or features.
    ///
    /// `attributes` is anything that converts into [`Attributes`](crate::Attributes): a built
    /// `Attributes`, a `serde_json` map, or (through `Attributes::from_serialize`) your own
    /// struct.
    pub fn user(&self, attributes: impl Into<crate::Attributes>) -> UserContext {
        UserContext::new(Arc::clone(&self.inner.shared), attributes.into().into_map())
    }

    /// Like [`user`](Self::user), from any JSON value (a non-object gives no attributes).
    pub fn user_from_json(&self, attributes: Value) -> UserContext {
        match attributes {
            Value::Object(m) => self.user(m),
            _ => self.user(Map::new()),
        }
    }

    fn default_user(&self) -> &UserContext {
        &self.inner.default_user
    }

    /// Whether the feature is on for the default attributes.
    pub fn is_on(&self, key: &str) -> bool {
        self.default_user().is_on(key)
    }

    /// Whether the feature is off for the default attributes.
    pub fn is_off(&self, key: &str) -> bool {
        !self.is_on(key)
    }

    /// The feature's value for the default attributes, or `default`.
    pub fn feature_value<T: DeserializeOwned + 'static>(&self, key: &str, default: T) -> T {
        self.default_user().feature_value(key, default)
    }

    /// The full result for the default attributes.
    pub fn eval_feature(&self, key: &str) -> FeatureResult {
        self.default_user().eval_feature(key)
    }

    /// Runs an inline experiment for the default attributes.
    pub fn run(&self, experiment: &Experiment) -> ExperimentResult {
        self.default_user().run(experiment)
    }

    /// Logs a custom event for the default attributes (see [`UserContext::log_event`]).
    pub fn log_event(&self, name: &str, properties: Map<String, Value>) {
        self.default_user().log_event(name, properties);
    }

    /// Waits until features are loaded, at most `timeout`; returns whether they are.
    ///
    /// Never needed for correctness: before features load, evaluations return defaults with
    /// [`Reason::NotReady`](crate::Reason::NotReady).
    pub async fn ready(&self, timeout: Duration) -> bool {
        let mut rx = self.shared().ready.subscribe();
        matches!(
            tokio::time::timeout(timeout, rx.wait_for(|r| *r)).await,
            Ok(Ok(_))
        )
    }

    /// [`ready`](Self::ready) for programs without an async runtime (a client built with
    /// [`build_blocking`](crate::GrowthBookBuilder::build_blocking)). Returns `false` at once if
    /// called from inside a tokio runtime (use `ready().await` there).
    pub fn ready_blocking(&self, timeout: Duration) -> bool {
        if self.is_ready() {
            return true;
        }
        if tokio::runtime::Handle::try_current().is_ok() {
            tracing::warn!("ready_blocking() called inside a tokio runtime; use ready().await");
            return false;
        }
        match &self.inner.handle {
            Some(h) => h.block_on(self.ready(timeout)),
            None => false,
        }
    }

    /// Whether features are loaded.
    pub fn is_ready(&self) -> bool {
        *self.shared().ready.borrow()
    }

    /// The health of the features.
    pub fn status(&self) -> Status {
        self.shared()
            .health
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .status
    }

    /// A channel that holds the status and wakes on each change (`changed().await`, or
    /// `has_changed()` without a runtime): for readiness probes and alerts.
    ///
    /// ```
    /// # fn main() -> gb_sdk::Result<()> {
    /// let client = gb_sdk::GrowthBook::builder()
    ///     .payload(serde_json::json!({"features": {}}))
    ///     .build()?;
    /// let status = client.status_changes();
    /// assert_eq!(*status.borrow(), gb_sdk::Status::Ready);
    /// # Ok(())
    /// # }
    /// ```
    pub fn status_changes(&self) -> watch::Receiver<Status> {
        self.shared().status_tx.subscribe()
    }

    /// The most recent refresh failure (kept until the next one; a later success does not clear
    /// it, [`status`](Self::status) tells whether it still matters).
    pub fn last_error(&self) -> Option<Error> {
        self.shared()
            .health
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .last_error
            .clone()
    }

    /// When features were last loaded or confirmed by the server (or a cache).
    pub fn updated_at(&self) -> Option<SystemTime> {
        self.shared()
            .health
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .updated_at
    }

    /// The snapshot version: 0 before any features load, then one more per payload applied.
    pub fn version(&self) -> u64 {
        self.shared().snapshot.load().version
    }

    /// The feature keys of the current snapshot.
    pub fn feature_keys(&self) -> Vec<String> {
        self.shared()
            .snapshot
            .load()
            .features
            .keys()
            .map(String::from)
            .collect()
    }

    /// Replaces the features with a payload (`{"features": ..., "savedGroups": ...}`),
    /// e.g. one received by other means. Encrypted payloads are not accepted here.
    ///
    /// # Errors
    /// [`Error::Payload`] if `payload` is not an object with a `features` object; the current
    /// features are kept.
    pub fn set_payload(&self, payload: &Value) -> Result<u64> {
        if !payload.get("features").is_some_and(Value::is_object) {
            return Err(Error::Payload {
                what: "no `features` object".into(),
                source: None,
            });
        }
        Ok(self.shared().install(FeatureSet::from_value(payload), true))
    }

    /// How many sticky-bucket saves were dropped because the write queue was full.
    pub fn dropped_sticky_writes(&self) -> u64 {
        self.shared().dropped_writes.load(Ordering::Relaxed)
    }

    /// How many experiment-viewed keys the deduplication set holds (bounded by the builder's
    /// `dedup_capacity`).
    pub fn tracked_keys(&self) -> usize {
        self.shared().dedup.len()
    }

    /// Waits until every sticky-bucket save queued so far is written (for tests and shutdown).
    pub async fn flush(&self) {
        let Some(writer) = &self.shared().writer else {
            return;
        };
        let (tx, rx) = oneshot::channel();
        if writer.send(WriterMsg::Flush(tx)).await.is_ok() {
            let _ = rx.await;
        }
    }

    /// Stops every background task (refresh, stream, sticky writer) at once. Evaluations keep
    /// working on the last features. Idempotent; dropping the last clone does the same.
    pub fn close(&self) {
        self.inner.close();
    }

    /// Flushes sticky-bucket saves (at most `timeout`), then [`close`](Self::close)s.
    pub async fn shutdown(&self, timeout: Duration) {
        let _ = tokio::time::timeout(timeout, self.flush()).await;
        self.close();
    }

    /// Whether [`close`](Self::close) was called.
    pub fn is_closed(&self) -> bool {
        self.shared().closed.load(Ordering::Acquire)
    }

    /// Whether every background task has ended (they end within a second of `close`).
    pub fn tasks_finished(&self) -> bool {
        self.inner
            .tasks
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .all(JoinHandle::is_finished)
    }
}
