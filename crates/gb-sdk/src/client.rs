//! [`GrowthBook`]: the client handle over the shared state (`user::Core`): its background
//! tasks, status and evaluation with the default attributes.

use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::fmt;
use core::sync::atomic::Ordering;
use core::time::Duration;
use std::sync::{Mutex, PoisonError};
use std::time::SystemTime;

use gb_core::{Experiment, FeatureSet};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::error::{Error, Result};
use crate::feature_result::FeatureResult;
use crate::result::ExperimentResult;
use crate::state::Status;
use crate::sticky_writer::WriterMsg;
use crate::user::{Core, UserContext};

/// The runtime a blocking client owns (see [`GrowthBookBuilder::build_blocking`](crate::GrowthBookBuilder::build_blocking)).
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
    pub(crate) shared: Arc<Core>,
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
        self.shared.hooks.close();
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
    pub(crate) fn shared(&self) -> &Core {
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
    pub fn status_changes(&self) -> tokio::sync::watch::Receiver<Status> {
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
        let features = FeatureSet::from_value(payload);
        Ok(self
            .shared()
            .install(features, Some(Arc::new(payload.clone())), true))
    }

    /// The payload the current features were compiled from, as served (after decryption):
    /// `features`, `savedGroups`, `experiments`, `dateUpdated`, ... Hand it to a client SDK
    /// (JavaScript `initSync({payload})`, React `GrowthBookProvider`) so a browser starts with
    /// the same features as this server, without a request of its own. `None` before features
    /// load and for remote evaluation (which has no shared payload). Shared, not copied.
    pub fn payload(&self) -> Option<Arc<Value>> {
        self.shared().snapshot.load().payload.clone()
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

    /// Shuts down gracefully within `timeout` in all: flushes sticky-bucket saves, lets every
    /// plugin finish ([`Plugin::on_shutdown`](crate::Plugin::on_shutdown): the tracking plugin
    /// posts its queued events), then [`close`](Self::close)s. The one call a server makes
    /// on exit.
    pub async fn shutdown(&self, timeout: Duration) {
        let deadline = tokio::time::Instant::now() + timeout;
        let _ = tokio::time::timeout(timeout, self.flush()).await;
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        self.shared().hooks.shutdown(left).await;
        self.close();
    }

    /// [`shutdown`](Self::shutdown) for programs without an async runtime: runs it on the
    /// runtime of a client built with
    /// [`build_blocking`](crate::GrowthBookBuilder::build_blocking), else on a temporary
    /// current-thread runtime.
    ///
    /// # Errors
    /// [`Error::InsideRuntime`] when called on a thread that runs a tokio runtime (use
    /// `shutdown(timeout).await` there); [`Error::Runtime`] if a temporary runtime cannot
    /// start (the client is closed anyway).
    pub fn shutdown_blocking(&self, timeout: Duration) -> Result<()> {
        if tokio::runtime::Handle::try_current().is_ok() {
            return Err(Error::InsideRuntime);
        }
        if let Some(handle) = self.shared().blocking.clone() {
            handle.block_on(self.shutdown(timeout));
            return Ok(());
        }
        match tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        {
            Ok(rt) => {
                rt.block_on(self.shutdown(timeout));
                Ok(())
            }
            Err(e) => {
                self.close();
                Err(Error::Runtime(Arc::new(e)))
            }
        }
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
