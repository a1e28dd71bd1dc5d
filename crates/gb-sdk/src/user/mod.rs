//! [`UserContext`]: evaluation for one user (or one request).

use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::fmt;
use std::sync::{Mutex, OnceLock, PoisonError};

use gb_core::{Experiment, StickyBucketDocs, User};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::collector::Collector;
use crate::deferred::{Deferred, DeferredTrackingCall};
use crate::detail::{FeatureDetail, detail_of, value_or};
use crate::eval_all::{AllResults, AllShared, HeldAll};
use crate::feature_result::{FeatureResult, Held, SharedResult};
use crate::inputs::{EvalCart, Overrides, UserInputs};
use crate::result::{ExperimentResult, Reason};
use crate::snapshot::Snapshot;
use crate::state::Shared;

mod deferred;
mod prepare;

/// What a user context reports to: the client's callbacks and plugins. A trait, so this layer
/// does not depend on the plugin API above it (which names [`UserContext`]); `Callbacks` in
/// `plugin.rs` implements it.
pub(crate) trait Hooks: Send + Sync + fmt::Debug {
    /// Whether any callback or plugin is set.
    fn any(&self) -> bool;
    /// Whether experiment-viewed events are wanted.
    fn wants_tracking(&self) -> bool;
    /// Whether feature-usage events are wanted.
    fn wants_usage(&self) -> bool;
    /// A user was bucketed into an experiment (already deduplicated).
    fn experiment_viewed(&self, exp: &Experiment, result: &ExperimentResult, user: &UserContext);
    /// A feature was evaluated.
    fn feature_usage(&self, key: &str, result: &FeatureResult, user: &UserContext);
    /// A custom event was logged.
    fn event(&self, name: &str, properties: &Map<String, Value>, user: &UserContext);
    /// Plugins add attributes to a new context.
    fn add_attributes(&self, attributes: &mut Map<String, Value>);
    /// A payload was installed (its snapshot version).
    fn features_updated(&self, version: u64);
    /// The client is shutting down gracefully: plugins finish their work within `timeout`.
    fn shutdown(&self, timeout: core::time::Duration) -> gb_transport::BoxFuture<'_, ()>;
    /// The client is closing.
    fn close(&self);
}

/// The shared state with the hooks a user context reports to: what every [`UserContext`] and
/// the client handle hold (behind an `Arc`). Derefs to [`Shared`].
#[derive(Debug)]
pub(crate) struct Core {
    shared: Shared,
    pub(crate) hooks: Box<dyn Hooks>,
    /// [`Hooks::any`], [`Hooks::wants_tracking`], [`Hooks::wants_usage`], read once.
    any_hooks: bool,
    wants_tracking: bool,
    wants_usage: bool,
}

impl Core {
    pub(crate) fn new(shared: Shared, hooks: Box<dyn Hooks>) -> Self {
        Self {
            any_hooks: hooks.any(),
            wants_tracking: hooks.wants_tracking(),
            wants_usage: hooks.wants_usage(),
            shared,
            hooks,
        }
    }

    /// Installs a compiled payload and tells the plugins.
    pub(crate) fn install(
        &self,
        features: gb_core::FeatureSet,
        payload: Option<Arc<Value>>,
        fresh: bool,
    ) -> u64 {
        let version = self.shared.install(features, payload, fresh);
        self.hooks.features_updated(version);
        version
    }
}

impl core::ops::Deref for Core {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.shared
    }
}

/// One user's evaluation context: attributes, URL, forced variations and features, and (once
/// [`prepare`](Self::prepare)d) sticky-bucket documents or remotely evaluated features.
///
/// Evaluations take `&self`, are synchronous, and never wait for the network. A context is
/// cheap to build per request and may be shared across threads (`Send + Sync`).
///
/// Every evaluation uses the client's current features. A context holds the features that
/// were current when it was made, so that while no update arrives an evaluation reads them
/// without touching shared state; after an update each evaluation loads the current ones, as
/// it would otherwise, and the old features are freed when the context is dropped or its
/// attributes are set. Build a context per request (or call
/// [`set_attributes`](Self::set_attributes)) rather than keeping one for the life of the
/// process.
pub struct UserContext {
    shared: Arc<Core>,
    /// The client's snapshot when this context was made. While it is still the current one
    /// (one atomic load compares versions), evaluations use it without touching `arc-swap`'s
    /// protection (two locked atomic operations per call). After an update, evaluations load
    /// the current snapshot each call, as they would without it.
    pinned: Arc<Snapshot>,
    /// Attributes, URL and forced values; shared with the results that borrow them.
    inputs: Arc<UserInputs>,
    /// What results borrow from (the held snapshot + inputs), made on first use and reset
    /// by the `&mut self` methods that change either.
    cart: OnceLock<Arc<EvalCart>>,
    sticky: Option<Mutex<StickyBucketDocs>>,
    /// Whether the documents came from [`with_sticky_docs`](Self::with_sticky_docs): their
    /// changes are kept for [`take_sticky_changes`](Self::take_sticky_changes) instead of
    /// being queued for the client's sticky-bucket service.
    sticky_local: bool,
    remote: Option<Arc<Snapshot>>,
    deferred: Option<Mutex<Deferred>>,
    /// Whether experiment exposures are handed to the caller in the result (remote
    /// evaluation), so the client's experiment-viewed callback and plugins never see them.
    exposures_returned: bool,
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
    pub(crate) fn new(shared: Arc<Core>, attributes: Map<String, Value>) -> Self {
        let config = &shared.config;
        let mut attributes = if config.attributes.is_empty() {
            attributes
        } else {
            let mut merged = config.attributes.clone();
            merged.extend(attributes);
            merged
        };
        shared.hooks.add_attributes(&mut attributes);
        Self {
            pinned: shared.snapshot.load_full(),
            inputs: Arc::new(UserInputs {
                attributes,
                overrides: config.overrides(),
                qa_mode: config.qa_mode,
                enabled: config.enabled,
            }),
            cart: OnceLock::new(),
            sticky: None,
            sticky_local: false,
            remote: None,
            deferred: None,
            exposures_returned: false,
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
        // First, so the inputs below are not copied for a cart that still shares them.
        self.repin();
        let mut merged = self.shared.config.attributes.clone();
        merged.extend(attributes);
        self.shared.hooks.add_attributes(&mut merged);
        Arc::make_mut(&mut self.inputs).attributes = merged;
        if !self.sticky_local {
            self.sticky = None;
        }
        self.remote = None;
    }

    /// Pins the client's current snapshot (a context held across updates stops loading it
    /// per call, and frees the one it held).
    fn repin(&mut self) {
        if !self.shared.is_current(&self.pinned) {
            self.pinned = self.shared.snapshot.load_full();
        }
        self.cart = OnceLock::new();
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
        self.cart = OnceLock::new();
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
            self.snapshot().loaded
        }
    }

    #[inline]
    pub(crate) fn core_user(&self) -> User<'_> {
        self.inputs.user()
    }

    /// The snapshot and inputs, shared, for results that outlive this call. The pair for the
    /// snapshot this context holds (its remote evaluation, or the pinned snapshot while it is
    /// current) is made once and reused: one `Acquire` load and a reference count per call.
    /// After an update a context that outlived it pairs the current snapshot per call.
    fn cart(&self) -> Arc<EvalCart> {
        let held = self.held();
        if let Some(snap) = held {
            let cart = self.cart.get_or_init(|| {
                Arc::new(EvalCart {
                    snap: Arc::clone(snap),
                    inputs: Arc::clone(&self.inputs),
                })
            });
            // `&mut self` methods reset the cell when they change either side; the check
            // keeps a stale pair from ever being used.
            if Arc::ptr_eq(&cart.snap, snap) && Arc::ptr_eq(&cart.inputs, &self.inputs) {
                return Arc::clone(cart);
            }
        }
        Arc::new(EvalCart {
            snap: match held {
                Some(s) => Arc::clone(s),
                None => self.shared.snapshot.load_full(),
            },
            inputs: Arc::clone(&self.inputs),
        })
    }

    /// Exposures of this context go back to the caller inside the results (the remote-eval
    /// endpoint's `tracks`): the experiment-viewed callback and plugins are not called.
    pub(crate) fn with_exposures_returned(mut self) -> Self {
        self.exposures_returned = true;
        self
    }

    /// Whether an evaluation has nothing to observe and nothing to lock.
    #[inline]
    fn is_plain(&self) -> bool {
        self.sticky.is_none() && self.deferred.is_none() && !self.shared.any_hooks
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
        let mut collector = Collector::new(
            shared.wants_tracking && !self.exposures_returned,
            shared.wants_usage,
        );
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
        let callbacks = &self.shared.hooks;
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
    /// current snapshot: the pinned one while it is current, else an `arc-swap` guard (no
    /// lock, no reference-count contention).
    #[inline]
    fn snapshot(&self) -> Snap<'_> {
        match self.held() {
            Some(s) => Snap::Held(s),
            None => Snap::Shared(self.shared.snapshot.load()),
        }
    }

    /// The snapshot this context holds and may use without loading: its remote evaluation,
    /// or the pinned snapshot while it is still current.
    #[inline]
    fn held(&self) -> Option<&Arc<Snapshot>> {
        match &self.remote {
            Some(s) => Some(s),
            None if self.shared.is_current(&self.pinned) => Some(&self.pinned),
            None => None,
        }
    }

    #[inline(always)]
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
    ///
    /// For `T = serde_json::Value` the value is cloned from the snapshot (no deserializer);
    /// that clone (one allocation per string, array and object in it) is most of its cost over
    /// the evaluation. To read a value without copying it, borrow it from a shared result:
    /// `user.eval_feature(key).value()` (see [`FeatureResult`]).
    pub fn feature_value<T: DeserializeOwned + 'static>(&self, key: &str, default: T) -> T {
        self.with_feature(key, move |r, _| value_or(r.value, default))
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
        self.shared.hooks.event(name, &properties, self);
    }
}

/// A snapshot borrowed for one evaluation.
enum Snap<'a> {
    /// The context's remote evaluation, or its pinned snapshot while that is current.
    Held(&'a Snapshot),
    Shared(arc_swap::Guard<Arc<Snapshot>>),
}

impl core::ops::Deref for Snap<'_> {
    type Target = Snapshot;

    fn deref(&self) -> &Snapshot {
        match self {
            Snap::Held(s) => s,
            Snap::Shared(g) => g,
        }
    }
}
