//! [`UserContext`]: evaluation for one user (or one request).

use alloc::collections::VecDeque;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::fmt;
use core::time::Duration;
use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use gb_core::{Experiment, StickyBucketDocs, User};
use gb_transport::RemoteEvalRequest;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use tokio::time::Instant;

use crate::client::{Shared, Snapshot};
use crate::deferred::{Deferred, DeferredTrackingCall};
use crate::detail::{FeatureDetail, detail_of, typed};
use crate::error::Error;
use crate::eval_all::{AllResults, AllShared, HeldAll};
use crate::feature_result::{FeatureResult, Held, SharedResult};
use crate::inputs::{EvalCart, Overrides, UserInputs};
use crate::result::{ExperimentResult, Reason};
use crate::tracking::Collector;

/// One user's evaluation context: attributes, URL, forced variations and features, and (once
/// [`prepare`](Self::prepare)d) sticky-bucket documents or remotely evaluated features.
///
/// Evaluations take `&self`, are synchronous, and never wait for the network. A context is
/// cheap to build per request and may be shared across threads (`Send + Sync`).
pub struct UserContext {
    shared: Arc<Shared>,
    /// Attributes, URL and forced values; shared with the results that borrow them.
    inputs: Arc<UserInputs>,
    /// The last cart results borrowed from (snapshot + inputs), reused while both are current.
    cart: arc_swap::ArcSwapOption<EvalCart>,
    sticky: Option<Mutex<StickyBucketDocs>>,
    /// Whether the documents came from [`with_sticky_docs`](Self::with_sticky_docs): their
    /// changes are kept for [`take_sticky_changes`](Self::take_sticky_changes) instead of
    /// being queued for the client's sticky-bucket service.
    sticky_local: bool,
    remote: Option<Arc<Snapshot>>,
    deferred: Option<Mutex<Deferred>>,
}

impl fmt::Debug for UserContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UserContext")
            .field("attributes", &self.inputs.attributes)
            .field("url", &self.inputs.overrides.url)
            .field(
                "forced_variations",
                &self.inputs.overrides.forced_variations,
            )
            .field("forced_features", &self.inputs.overrides.forced_features)
            .field("sticky", &self.sticky.is_some())
            .field("remote", &self.remote.is_some())
            .field("deferred", &self.deferred.is_some())
            .finish_non_exhaustive()
    }
}

impl UserContext {
    pub(crate) fn new(shared: Arc<Shared>, attributes: Map<String, Value>) -> Self {
        let config = &shared.config;
        let mut attributes = if config.attributes.is_empty() {
            attributes
        } else {
            let mut merged = config.attributes.clone();
            merged.extend(attributes);
            merged
        };
        shared.callbacks.add_attributes(&mut attributes);
        Self {
            inputs: Arc::new(UserInputs {
                attributes,
                overrides: config.overrides(),
                qa_mode: config.qa_mode,
                enabled: config.enabled,
            }),
            cart: arc_swap::ArcSwapOption::empty(),
            sticky: None,
            sticky_local: false,
            remote: None,
            deferred: None,
            shared,
        }
    }

    /// Sets the URL (URL targeting, query-string forced variations).
    #[must_use]
    pub fn with_url(mut self, url: impl Into<String>) -> Self {
        self.overrides_mut().url = url.into();
        self
    }

    /// Adds forced variations (experiment key → variation index) over the client's.
    #[must_use]
    pub fn with_forced_variations(mut self, forced: Map<String, Value>) -> Self {
        self.overrides_mut().forced_variations.extend(forced);
        self
    }

    /// Adds forced feature values over the client's.
    #[must_use]
    pub fn with_forced_features(mut self, forced: Map<String, Value>) -> Self {
        self.overrides_mut().forced_features.extend(forced);
        self
    }

    /// Replaces the attributes (the Python `set_attributes`); the builder's default attributes
    /// stay underneath, as in [`GrowthBook::user`](crate::GrowthBook::user). Sticky-bucket
    /// documents loaded by [`prepare`](Self::prepare) and remote features are dropped:
    /// `prepare` again if you use them (documents given with
    /// [`with_sticky_docs`](Self::with_sticky_docs) are kept).
    pub fn set_attributes(&mut self, attributes: Map<String, Value>) {
        let mut merged = self.shared.config.attributes.clone();
        merged.extend(attributes);
        self.shared.callbacks.add_attributes(&mut merged);
        Arc::make_mut(&mut self.inputs).attributes = merged;
        if !self.sticky_local {
            self.sticky = None;
        }
        self.remote = None;
    }

    /// Per-request sticky-bucket documents (e.g. decoded from the request's cookies with
    /// [`CookieCodec::decode_cookie_header`](gb_sticky::CookieCodec::decode_cookie_header)):
    /// evaluations use them instead of the client's sticky-bucket service, and the documents
    /// they change are kept for [`take_sticky_changes`](Self::take_sticky_changes) (write
    /// them back, e.g. as `Set-Cookie` headers) instead of being saved by the client.
    #[must_use]
    pub fn with_sticky_docs(
        mut self,
        docs: impl IntoIterator<Item = gb_sticky::StickyAssignmentsDocument>,
    ) -> Self {
        self.sticky = Some(Mutex::new(StickyBucketDocs::from_docs(docs)));
        self.sticky_local = true;
        self
    }

    /// The sticky-bucket documents changed by evaluations since the last call (only with
    /// [`with_sticky_docs`](Self::with_sticky_docs); otherwise the client saves them itself
    /// and this is empty).
    pub fn take_sticky_changes(&self) -> Vec<gb_sticky::StickyAssignmentsDocument> {
        match (&self.sticky, self.sticky_local) {
            (Some(docs), true) => docs
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .take_changed(),
            _ => Vec::new(),
        }
    }

    /// The attributes.
    pub fn attributes(&self) -> &Map<String, Value> {
        &self.inputs.attributes
    }

    /// The URL.
    pub fn url(&self) -> &str {
        &self.inputs.overrides.url
    }

    fn overrides_mut(&mut self) -> &mut Overrides {
        Arc::make_mut(&mut Arc::make_mut(&mut self.inputs).overrides)
    }

    /// The sticky-bucket documents held (after [`prepare`](Self::prepare)), including
    /// assignments made since.
    pub fn sticky_bucket_docs(&self) -> Option<StickyBucketDocs> {
        self.sticky
            .as_ref()
            .map(|m| m.lock().unwrap_or_else(PoisonError::into_inner).clone())
    }

    /// Whether evaluations use loaded features (for remote evaluation: this user's).
    pub fn is_ready(&self) -> bool {
        if self.shared.config.remote_eval {
            self.remote.is_some()
        } else {
            self.shared.snapshot.load().loaded
        }
    }

    /// Does the async work a user may need, in one call: with remote evaluation, fetches this
    /// user's evaluated features; with a sticky-bucket service, loads the user's documents
    /// (every identifier attribute at once, bounded by the builder's sticky timeout), unless
    /// documents were given with [`with_sticky_docs`](Self::with_sticky_docs).
    ///
    /// A store or server failure is not an error: it is logged and the user is evaluated
    /// without sticky bucketing (plain hashing, nothing saved), or, for remote evaluation,
    /// with defaults ([`Reason::NotReady`]).
    ///
    /// # Errors
    /// [`Error::NoRuntime`] when polled outside a tokio runtime (use
    /// [`prepare_blocking`](Self::prepare_blocking) there).
    pub async fn prepare(mut self) -> Result<Self, Error> {
        let span = tracing::info_span!("growthbook.prepare");
        tracing::Instrument::instrument(self.load(), span).await?;
        Ok(self)
    }

    /// [`prepare`](Self::prepare) in place.
    pub(crate) async fn load(&mut self) -> Result<(), Error> {
        if tokio::runtime::Handle::try_current().is_err() {
            return Err(Error::NoRuntime);
        }
        let shared = &*self.shared;
        if shared.config.remote_eval {
            self.remote = self.remote_features().await;
        }
        if let (Some(service), false) = (shared.sticky.clone(), self.sticky_local) {
            let wanted = {
                self.snapshot()
                    .features
                    .sticky_bucket_attributes(&self.core_user())
            };
            let load = gb_sticky::load_docs(&*service, &wanted);
            self.sticky = match tokio::time::timeout(shared.config.sticky_timeout, load).await {
                Ok(Ok(docs)) => Some(Mutex::new(docs)),
                Ok(Err(e)) => {
                    tracing::warn!(error = %e, "sticky-bucket load failed; plain hashing for this user");
                    None
                }
                Err(_) => {
                    tracing::warn!("sticky-bucket load timed out; plain hashing for this user");
                    None
                }
            };
        }
        Ok(())
    }

    /// [`prepare`](Self::prepare) for programs without an async runtime: runs it on the
    /// runtime of a client built with
    /// [`build_blocking`](crate::GrowthBookBuilder::build_blocking), else on a temporary
    /// current-thread runtime.
    ///
    /// # Errors
    /// [`Error::InsideRuntime`] when called on a thread that runs a tokio runtime (use
    /// `prepare().await` there); [`Error::Runtime`] if a temporary runtime cannot start.
    pub fn prepare_blocking(self) -> Result<Self, Error> {
        if tokio::runtime::Handle::try_current().is_ok() {
            return Err(Error::InsideRuntime);
        }
        if let Some(handle) = self.shared.blocking.clone() {
            return handle.block_on(self.prepare());
        }
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| Error::Runtime(Arc::new(e)))?
            .block_on(self.prepare())
    }

    async fn remote_features(&self) -> Option<Arc<Snapshot>> {
        let shared = &*self.shared;
        let source = shared.source.as_ref()?;
        let cache_key = shared.remote_cache.key_for(self);
        if let Some(hit) = cache_key
            .as_deref()
            .and_then(|k| shared.remote_cache.get(k))
        {
            return Some(hit);
        }
        let o = &*self.inputs.overrides;
        let request = RemoteEvalRequest {
            attributes: self.inputs.attributes.clone(),
            forced_variations: o.forced_variations.clone(),
            forced_features: o
                .forced_features
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            url: o.url.clone(),
        };
        match source.remote_eval(request).await {
            Ok(payload) => {
                let features = gb_core::FeatureSet::from_value(payload.value());
                let snap = Arc::new(Snapshot::loaded(features, 1));
                if let Some(k) = cache_key {
                    shared.remote_cache.put(k, Arc::clone(&snap));
                }
                Some(snap)
            }
            Err(e) => {
                shared.record_error(Error::Transport(e));
                None
            }
        }
    }

    pub(crate) fn core_user(&self) -> User<'_> {
        self.inputs.user()
    }

    /// The snapshot and inputs, shared, for results that outlive this call.
    fn cart(&self) -> Arc<EvalCart> {
        {
            let current = self.snapshot();
            let cached = self.cart.load();
            if let Some(c) = &*cached
                && core::ptr::eq(&*c.snap, &*current)
                && Arc::ptr_eq(&c.inputs, &self.inputs)
            {
                return Arc::clone(c);
            }
        }
        let snap = match &self.remote {
            Some(s) => Arc::clone(s),
            None => self.shared.snapshot.load_full(),
        };
        let cart = Arc::new(EvalCart {
            snap,
            inputs: Arc::clone(&self.inputs),
        });
        self.cart.store(Some(Arc::clone(&cart)));
        cart
    }

    /// Whether an evaluation has nothing to observe and nothing to lock.
    fn is_plain(&self) -> bool {
        self.sticky.is_none() && self.deferred.is_none() && !self.shared.callbacks.any()
    }

    /// Evaluates on the current snapshot: `call` runs the evaluation (with the user's sticky
    /// documents locked, if any), `finish` reads its result; then changed documents are queued
    /// and callbacks run, with no lock held.
    pub(crate) fn evaluate<'s, R, T>(
        &self,
        user: &User<'s>,
        reason: Reason,
        call: impl FnOnce(&User<'s>, Option<&mut StickyBucketDocs>, &mut Collector<'s>) -> R,
        finish: impl FnOnce(R, Reason) -> T,
    ) -> T {
        let shared = &*self.shared;
        shared.touch();
        let mut collector = Collector::new(&shared.callbacks);
        collector.track |= self.deferred.is_some();
        let (out, changed) = match &self.sticky {
            None => {
                let r = call(user, None, &mut collector);
                (finish(r, reason), None)
            }
            Some(docs) => {
                let mut docs = docs.lock().unwrap_or_else(PoisonError::into_inner);
                let r = call(user, Some(&mut docs), &mut collector);
                // Per-request documents keep their changes for `take_sticky_changes`.
                let changed =
                    (!self.sticky_local && docs.has_changes()).then(|| docs.take_changed());
                (finish(r, reason), changed)
            }
        };
        if let Some(changed) = changed {
            shared.save_sticky(changed);
        }
        if !collector.is_empty() {
            self.dispatch(collector, reason);
        }
        out
    }

    fn dispatch(&self, collector: Collector<'_>, reason: Reason) {
        let callbacks = &self.shared.callbacks;
        for (exp, r) in &collector.viewed {
            if let Some(deferred) = &self.deferred {
                // Held back, deduplicated per context (as a per-request JS instance does).
                if r.hash_used {
                    deferred
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .push(DeferredTrackingCall {
                            experiment: exp.as_json().to_value(),
                            result: ExperimentResult::from_core(r),
                        });
                }
                continue;
            }
            if self.shared.dedup.first_time(exp, r) {
                callbacks.experiment_viewed(exp, &ExperimentResult::from_core(r), self);
            }
        }
        for (key, r) in &collector.used {
            callbacks.feature_usage(key, &FeatureResult::from_core(r, reason), self);
        }
    }

    /// The features this user is evaluated on: their remote evaluation, else the client's
    /// current snapshot (an `arc-swap` guard: no lock, no reference-count contention).
    fn snapshot(&self) -> Snap<'_> {
        match &self.remote {
            Some(s) => Snap::Remote(s),
            None => Snap::Shared(self.shared.snapshot.load()),
        }
    }

    fn with_feature<T>(
        &self,
        key: &str,
        finish: impl FnOnce(&gb_core::FeatureResult<'_>, Reason) -> T,
    ) -> T {
        let snap = self.snapshot();
        if self.is_plain() {
            // The hot path: nothing to observe, nothing to lock.
            self.shared.touch();
            let r = snap.features.eval_feature(key, &self.core_user());
            return finish(&r, snap.reason());
        }
        self.evaluate(
            &self.core_user(),
            snap.reason(),
            |user, docs, obs| snap.features.eval_feature_with(key, user, docs, obs),
            |r, reason| finish(&r, reason),
        )
    }

    /// Whether the feature is on (its value is truthy). `false` for unknown features and
    /// before features load.
    pub fn is_on(&self, key: &str) -> bool {
        self.with_feature(key, |r, _| r.on())
    }

    /// `!is_on(key)`.
    pub fn is_off(&self, key: &str) -> bool {
        !self.is_on(key)
    }

    /// The feature's value as `T`; `default` when the feature is unknown, its value is
    /// `null`, it does not deserialize as `T`, or features are not loaded yet.
    pub fn feature_value<T: DeserializeOwned + 'static>(&self, key: &str, default: T) -> T {
        self.with_feature(key, |r, _| {
            if r.value.is_null() {
                None
            } else {
                typed(r.value)
            }
        })
        .unwrap_or(default)
    }

    /// The full result: value, source, rule, experiment and its result.
    ///
    /// The result shares the snapshot and this context's inputs (reference counts, no deep
    /// copy of values or experiments).
    pub fn eval_feature(&self, key: &str) -> FeatureResult {
        let cart = self.cart();
        let reason = cart.snap.reason();
        let plain = self.is_plain();
        let inner = SharedResult::attach_to_cart(cart, |c| {
            let user = c.inputs.user();
            let features = &c.snap.features;
            Held(if plain {
                self.shared.touch();
                features.eval_feature(key, &user)
            } else {
                self.evaluate(
                    &user,
                    reason,
                    |user, docs, obs| features.eval_feature_with(key, user, docs, obs),
                    |r, _| r,
                )
            })
        });
        FeatureResult::shared(inner, reason)
    }

    /// Every feature in one pass, keyed by feature (see [`AllResults`]): the same results as
    /// [`eval_feature`](Self::eval_feature) on each key, sharing the per-user work.
    pub fn eval_all(&self) -> AllResults {
        let cart = self.cart();
        let reason = cart.snap.reason();
        let plain = self.is_plain();
        let inner = AllShared::attach_to_cart(cart, |c| {
            let user = c.inputs.user();
            let features = &c.snap.features;
            let mut out = Vec::with_capacity(features.len());
            if plain {
                self.shared.touch();
                features.eval_all_with(&user, None, &mut (), |k, r| out.push((k, r)));
                return HeldAll(out);
            }
            HeldAll(self.evaluate(
                &user,
                reason,
                |user, docs, obs| {
                    features.eval_all_with(user, docs, obs, |k, r| out.push((k, r)));
                    out
                },
                |out, _| out,
            ))
        });
        AllResults::new(inner, reason)
    }

    /// The feature's value as `T` with why it has it: the feature's value, or `default` with
    /// the reason it applies ([`EvaluationReason::TypeMismatch`](crate::EvaluationReason),
    /// `UnknownFeature`, `NotReady`, ...).
    pub fn feature_detail<T: DeserializeOwned + 'static>(
        &self,
        key: &str,
        default: T,
    ) -> FeatureDetail<T> {
        self.with_feature(key, |r, reason| detail_of(r, reason, default))
    }

    /// Runs an inline experiment (see [`Experiment::from_json`]).
    pub fn run(&self, experiment: &Experiment) -> ExperimentResult {
        let snap = self.snapshot();
        self.evaluate(
            &self.core_user(),
            snap.reason(),
            |user, docs, obs| snap.features.run_with(experiment, user, docs, obs),
            |r, _| ExperimentResult::from_core(&r),
        )
    }

    /// Logs a custom event for this user: every plugin's
    /// [`on_event`](crate::Plugin::on_event) receives it (the tracking plugin sends it to the
    /// ingestor). Runs the hooks on this thread; never waits for the network.
    pub fn log_event(&self, name: &str, properties: Map<String, Value>) {
        self.shared.callbacks.event(name, &properties, self);
    }

    /// Deferred tracking: experiment exposures of this context are held (each once, at most
    /// [`DEFERRED_TRACKING_CAPACITY`](crate::DEFERRED_TRACKING_CAPACITY)) instead of being
    /// passed to the experiment-viewed callback and plugins. Hand them to a browser with
    /// [`deferred_tracking_calls`](Self::deferred_tracking_calls), or fire them with
    /// [`fire_deferred_tracking_calls`](Self::fire_deferred_tracking_calls).
    #[must_use]
    pub fn with_deferred_tracking(mut self) -> Self {
        self.deferred = Some(Mutex::default());
        self
    }

    fn deferred_store(&self) -> Option<std::sync::MutexGuard<'_, Deferred>> {
        self.deferred
            .as_ref()
            .map(|d| d.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// The exposures held so far (empty unless [`with_deferred_tracking`](Self::with_deferred_tracking)).
    pub fn deferred_tracking_calls(&self) -> Vec<DeferredTrackingCall> {
        self.deferred_store()
            .map(|d| d.calls().to_vec())
            .unwrap_or_default()
    }

    /// Takes the exposures held so far, leaving none.
    pub fn take_deferred_tracking_calls(&self) -> Vec<DeferredTrackingCall> {
        self.deferred_store()
            .map(|mut d| d.take())
            .unwrap_or_default()
    }

    /// Replaces the exposures held (no effect without deferred tracking).
    pub fn set_deferred_tracking_calls(&self, calls: Vec<DeferredTrackingCall>) {
        if let Some(mut d) = self.deferred_store() {
            d.replace(calls);
        }
    }

    /// How many distinct exposures did not fit in the deferred store.
    pub fn deferred_tracking_overflow(&self) -> u64 {
        self.deferred_store().map_or(0, |d| d.overflow)
    }

    /// Fires the held exposures through the experiment-viewed callback and plugins (with the
    /// client's deduplication), then forgets them.
    pub fn fire_deferred_tracking_calls(&self) {
        let calls = self.take_deferred_tracking_calls();
        let shared = &*self.shared;
        for call in calls {
            let r = &call.result;
            let experiment = call.parsed_experiment();
            if shared.dedup.first_time_of(
                &r.hash_attribute,
                &r.hash_value,
                experiment.key(),
                r.variation_id,
            ) {
                shared.callbacks.experiment_viewed(&experiment, r, self);
            }
        }
    }
}

/// A snapshot borrowed for one evaluation.
enum Snap<'a> {
    Remote(&'a Snapshot),
    Shared(arc_swap::Guard<Arc<Snapshot>>),
}

impl core::ops::Deref for Snap<'_> {
    type Target = Snapshot;

    fn deref(&self) -> &Snapshot {
        match self {
            Snap::Remote(s) => s,
            Snap::Shared(g) => g,
        }
    }
}

const REMOTE_CACHE_CAPACITY: usize = 1000;

/// The per-client cache of remote evaluations, keyed by the `cache_key_attributes` (plus URL
/// and forced values). Bounded; entries expire after the cache TTL.
#[derive(Debug)]
pub(crate) struct RemoteCache {
    attributes: Option<Vec<String>>,
    ttl: Duration,
    entries: Mutex<RemoteEntries>,
}

/// Cached remote evaluations by key, and the keys oldest first.
type RemoteEntries = (HashMap<String, (Arc<Snapshot>, Instant)>, VecDeque<String>);

impl RemoteCache {
    pub(crate) fn new(attributes: Option<Vec<String>>, ttl: Duration) -> Self {
        Self {
            attributes,
            ttl,
            entries: Mutex::default(),
        }
    }

    fn key_for(&self, user: &UserContext) -> Option<String> {
        let names = self.attributes.as_ref()?;
        let picked: Vec<Value> = names
            .iter()
            .map(|n| user.attributes().get(n).cloned().unwrap_or(Value::Null))
            .collect();
        let o = &*user.inputs.overrides;
        Some(
            Value::Array(vec![
                Value::Array(picked),
                Value::String(o.url.clone()),
                Value::Object(o.forced_variations.clone()),
                Value::Object(o.forced_features.clone()),
            ])
            .to_string(),
        )
    }

    fn get(&self, key: &str) -> Option<Arc<Snapshot>> {
        let entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        let (snap, at) = entries.0.get(key)?;
        (at.elapsed() < self.ttl).then(|| Arc::clone(snap))
    }

    fn put(&self, key: String, snap: Arc<Snapshot>) {
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        let (map, order) = &mut *entries;
        if map.insert(key.clone(), (snap, Instant::now())).is_none() {
            order.push_back(key);
        }
        while order.len() > REMOTE_CACHE_CAPACITY {
            if let Some(old) = order.pop_front() {
                map.remove(&old);
            }
        }
    }
}
