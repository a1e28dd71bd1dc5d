//! Callbacks, plugins, and the bounded deduplication of experiment-viewed events.

use alloc::collections::VecDeque;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::fmt;
use core::fmt::Write as _;
use core::hash::BuildHasher;
use core::panic::AssertUnwindSafe;
use std::collections::HashSet;
use std::collections::hash_map::RandomState;
use std::panic::catch_unwind;
use std::sync::{Mutex, PoisonError};

use gb_core::{Experiment, Observer};
use serde_json::{Map, Value};

use crate::client::GrowthBook;
use crate::feature_result::FeatureResult;
use crate::js_string::js_string;
use crate::result::ExperimentResult;
use crate::user::UserContext;

/// The experiment-viewed (tracking) callback: the experiment, the user's result, the user.
pub type TrackingCallback = Arc<dyn Fn(&Experiment, &ExperimentResult, &UserContext) + Send + Sync>;

/// The feature-usage callback: the feature key, its result, the user.
pub type FeatureUsageCallback = Arc<dyn Fn(&str, &FeatureResult, &UserContext) + Send + Sync>;

/// A plugin: hooks into the client's life and events. Every method has an empty default.
///
/// Hooks run on the evaluating thread after evaluation, with no lock held; a panicking hook
/// is caught and logged.
pub trait Plugin: Send + Sync + fmt::Debug {
    /// A short name, for logs.
    fn name(&self) -> &str;

    /// Called once when the client is built.
    fn on_init(&self, client: &GrowthBook) {
        let _ = client;
    }

    /// A new payload was applied (its snapshot version).
    fn on_features_updated(&self, version: u64) {
        let _ = version;
    }

    /// A user was bucketed into an experiment by hashing (deduplicated per user).
    fn on_experiment_viewed(
        &self,
        experiment: &Experiment,
        result: &ExperimentResult,
        user: &UserContext,
    ) {
        let _ = (experiment, result, user);
    }

    /// A feature was evaluated.
    fn on_feature_usage(&self, key: &str, result: &FeatureResult, user: &UserContext) {
        let _ = (key, result, user);
    }

    /// Whether [`on_feature_usage`](Self::on_feature_usage) is wanted (default `true`). A
    /// plugin that ignores feature usage returns `false`, so evaluations need not report it.
    fn wants_feature_usage(&self) -> bool {
        true
    }

    /// An event was logged with [`UserContext::log_event`] (or [`GrowthBook::log_event`]).
    /// Built-in events are not passed here: they arrive as
    /// [`on_experiment_viewed`](Self::on_experiment_viewed) and
    /// [`on_feature_usage`](Self::on_feature_usage).
    fn on_event(&self, name: &str, properties: &Map<String, Value>, user: &UserContext) {
        let _ = (name, properties, user);
    }

    /// Adds attributes to a new user context (and to [`UserContext::set_attributes`]). Called
    /// on the user's attributes; by convention, attributes already present win (insert with
    /// `entry(..).or_insert(..)`).
    fn add_attributes(&self, attributes: &mut Map<String, Value>) {
        let _ = attributes;
    }

    /// The client is closing.
    fn on_close(&self) {}
}

/// Runs `f`, containing a panic: it is logged and swallowed.
pub(crate) fn guarded(what: &str, f: impl FnOnce()) {
    if catch_unwind(AssertUnwindSafe(f)).is_err() {
        tracing::error!(
            callback = what,
            "a GrowthBook callback panicked; the panic was contained"
        );
    }
}

/// The callbacks and plugins of a client.
#[derive(Default, Clone)]
pub(crate) struct Callbacks {
    pub(crate) tracking: Option<TrackingCallback>,
    pub(crate) usage: Option<FeatureUsageCallback>,
    pub(crate) plugins: Vec<Arc<dyn Plugin>>,
}

impl fmt::Debug for Callbacks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Callbacks")
            .field("tracking", &self.tracking.is_some())
            .field("usage", &self.usage.is_some())
            .field("plugins", &self.plugins)
            .finish()
    }
}

impl Callbacks {
    /// Whether any callback or plugin is set.
    pub(crate) fn any(&self) -> bool {
        self.tracking.is_some() || self.usage.is_some() || !self.plugins.is_empty()
    }

    /// Whether experiment-viewed events are wanted.
    pub(crate) fn wants_tracking(&self) -> bool {
        self.tracking.is_some() || !self.plugins.is_empty()
    }

    /// Whether feature-usage events are wanted.
    pub(crate) fn wants_usage(&self) -> bool {
        self.usage.is_some() || self.plugins.iter().any(|p| p.wants_feature_usage())
    }

    /// Passes a logged event to every plugin.
    pub(crate) fn event(&self, name: &str, properties: &Map<String, Value>, user: &UserContext) {
        for p in &self.plugins {
            guarded(p.name(), || p.on_event(name, properties, user));
        }
    }

    /// Lets every plugin add attributes.
    pub(crate) fn add_attributes(&self, attributes: &mut Map<String, Value>) {
        for p in &self.plugins {
            guarded(p.name(), || p.add_attributes(attributes));
        }
    }

    pub(crate) fn experiment_viewed(
        &self,
        exp: &Experiment,
        result: &ExperimentResult,
        user: &UserContext,
    ) {
        if let Some(cb) = &self.tracking {
            guarded("on_experiment_viewed", || cb(exp, result, user));
        }
        for p in &self.plugins {
            guarded(p.name(), || p.on_experiment_viewed(exp, result, user));
        }
    }

    pub(crate) fn feature_usage(&self, key: &str, result: &FeatureResult, user: &UserContext) {
        if let Some(cb) = &self.usage {
            guarded("on_feature_usage", || cb(key, result, user));
        }
        for p in self.plugins.iter().filter(|p| p.wants_feature_usage()) {
            guarded(p.name(), || p.on_feature_usage(key, result, user));
        }
    }

    pub(crate) fn each_plugin(&self, f: impl Fn(&dyn Plugin)) {
        for p in &self.plugins {
            guarded(p.name(), || f(&**p));
        }
    }
}

/// Collects what an evaluation reports, so that callbacks run after it, with no lock held.
pub(crate) struct Collector<'a> {
    pub(crate) track: bool,
    pub(crate) usage: bool,
    pub(crate) viewed: Vec<(&'a Experiment, gb_core::ExperimentResult<'a>)>,
    pub(crate) used: Vec<(String, gb_core::FeatureResult<'a>)>,
}

impl Collector<'_> {
    pub(crate) fn new(callbacks: &Callbacks) -> Self {
        Self {
            track: callbacks.wants_tracking(),
            usage: callbacks.wants_usage(),
            viewed: Vec::new(),
            used: Vec::new(),
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.viewed.is_empty() && self.used.is_empty()
    }
}

impl<'a> Observer<'a> for Collector<'a> {
    fn on_experiment_viewed(
        &mut self,
        experiment: &'a Experiment,
        result: &gb_core::ExperimentResult<'a>,
    ) {
        if self.track {
            self.viewed.push((experiment, result.clone()));
        }
    }

    fn on_feature_usage(&mut self, key: &str, result: &gb_core::FeatureResult<'a>) {
        if self.usage {
            self.used.push((key.into(), result.clone()));
        }
    }
}

const SHARDS: usize = 16;

/// A bounded "seen" set of tracking keys (`hashAttribute`, `hashValue`, experiment key,
/// variation id: the JS SDK's key), sharded to keep contention low. Keys are stored as 64-bit SipHash digests with a
/// random key (no flooding, fixed memory); the oldest entries are evicted first.
pub(crate) struct Dedup {
    hasher: RandomState,
    per_shard: usize,
    shards: Vec<Mutex<Shard>>,
}

#[derive(Default)]
struct Shard {
    set: HashSet<u64>,
    order: VecDeque<u64>,
}

impl fmt::Debug for Dedup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Dedup")
            .field("capacity", &(self.per_shard * SHARDS))
            .finish_non_exhaustive()
    }
}

impl Dedup {
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            hasher: RandomState::new(),
            per_shard: capacity.div_ceil(SHARDS).max(1),
            shards: (0..SHARDS).map(|_| Mutex::default()).collect(),
        }
    }

    /// Records the assignment; `true` if it was not seen before (so it should be tracked).
    pub(crate) fn first_time(&self, exp: &Experiment, r: &gb_core::ExperimentResult<'_>) -> bool {
        self.first_time_of(r.hash_attribute, r.hash_value, exp.key(), r.variation_id)
    }

    /// [`first_time`](Self::first_time) from the parts of the key.
    pub(crate) fn first_time_of(
        &self,
        hash_attribute: &str,
        hash_value: &Value,
        experiment_key: &str,
        variation_id: usize,
    ) -> bool {
        // The JS SDK's `getExperimentDedupeKey`: `hashAttribute + hashValue + key +
        // variationId`, one string concatenation (so `String(1.0)` is `"1"`).
        let mut key = String::with_capacity(hash_attribute.len() + experiment_key.len() + 24);
        key.push_str(hash_attribute);
        key.push_str(&js_string(hash_value));
        key.push_str(experiment_key);
        let _ = write!(key, "{variation_id}");
        let digest = self.hasher.hash_one(&key);
        // The low bits pick the shard; usize is at least 16 bits wide.
        let shard = &self.shards[(digest as usize) % SHARDS];
        let mut s = shard.lock().unwrap_or_else(PoisonError::into_inner);
        if !s.set.insert(digest) {
            return false;
        }
        s.order.push_back(digest);
        if s.order.len() > self.per_shard
            && let Some(old) = s.order.pop_front()
        {
            s.set.remove(&old);
        }
        true
    }

    /// Entries held (for tests and health checks).
    pub(crate) fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.lock().unwrap_or_else(PoisonError::into_inner).set.len())
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// JS `getExperimentDedupeKey` is `hashAttribute + hashValue + experiment.key +
    /// variationId`: `String(1.0)` is `"1"`, so a hash value of `1.0` and one of `1` (or
    /// `"1"`) are the same exposure; the concatenation also joins `"id1" + "e"` and
    /// `"id" + "1e"`.
    #[test]
    fn dedup_key_is_the_js_string_concatenation() {
        let d = Dedup::new(100);
        assert!(d.first_time_of("id", &json!(1.0), "exp", 0));
        assert!(!d.first_time_of("id", &json!(1), "exp", 0));
        assert!(!d.first_time_of("id", &json!("1"), "exp", 0));
        assert!(d.first_time_of("id", &json!(1), "exp", 1));
        assert!(!d.first_time_of("id1", &json!(""), "exp", 1));
        assert!(d.first_time_of("id", &json!([1, 2]), "e", 0));
        assert!(!d.first_time_of("id", &json!("1,2"), "e", 0));
    }
}
