//! The extension API: the tracking and feature-usage callbacks and [`Plugin`], and
//! `Callbacks`, which implements the user layer's `Hooks` over them.

use alloc::boxed::Box;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::fmt;
use core::panic::AssertUnwindSafe;
use core::time::Duration;
use std::panic::catch_unwind;

use gb_core::Experiment;
use gb_transport::BoxFuture;
use serde_json::{Map, Value};

use crate::client::GrowthBook;
use crate::feature_result::FeatureResult;
use crate::result::ExperimentResult;
use crate::user::{Hooks, UserContext};

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

    /// The client is shutting down gracefully ([`GrowthBook::shutdown`]): finish pending
    /// work (flush queued events) within `timeout`. The default does nothing. Called before
    /// [`on_close`](Self::on_close).
    fn on_shutdown(&self, timeout: Duration) -> BoxFuture<'_, ()> {
        let _ = timeout;
        Box::pin(async {})
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

impl Hooks for Callbacks {
    fn any(&self) -> bool {
        self.tracking.is_some() || self.usage.is_some() || !self.plugins.is_empty()
    }

    fn wants_tracking(&self) -> bool {
        self.tracking.is_some() || !self.plugins.is_empty()
    }

    fn wants_usage(&self) -> bool {
        self.usage.is_some() || self.plugins.iter().any(|p| p.wants_feature_usage())
    }

    fn event(&self, name: &str, properties: &Map<String, Value>, user: &UserContext) {
        for p in &self.plugins {
            guarded(p.name(), || p.on_event(name, properties, user));
        }
    }

    fn add_attributes(&self, attributes: &mut Map<String, Value>) {
        for p in &self.plugins {
            guarded(p.name(), || p.add_attributes(attributes));
        }
    }

    fn experiment_viewed(&self, exp: &Experiment, result: &ExperimentResult, user: &UserContext) {
        if let Some(cb) = &self.tracking {
            guarded("on_experiment_viewed", || cb(exp, result, user));
        }
        for p in &self.plugins {
            guarded(p.name(), || p.on_experiment_viewed(exp, result, user));
        }
    }

    fn feature_usage(&self, key: &str, result: &FeatureResult, user: &UserContext) {
        if let Some(cb) = &self.usage {
            guarded("on_feature_usage", || cb(key, result, user));
        }
        for p in self.plugins.iter().filter(|p| p.wants_feature_usage()) {
            guarded(p.name(), || p.on_feature_usage(key, result, user));
        }
    }

    fn features_updated(&self, version: u64) {
        self.each_plugin(|p| p.on_features_updated(version));
    }

    fn shutdown(&self, timeout: Duration) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            let deadline = tokio::time::Instant::now() + timeout;
            for p in &self.plugins {
                let left = deadline.saturating_duration_since(tokio::time::Instant::now());
                // On its own task, so that a panicking hook is contained (and aborted when late).
                let plugin = Arc::clone(p);
                let mut task = tokio::spawn(async move { plugin.on_shutdown(left).await });
                match tokio::time::timeout(left, &mut task).await {
                    Ok(Ok(())) => {}
                    Ok(Err(_)) => tracing::error!(
                        callback = p.name(),
                        "a GrowthBook plugin panicked in on_shutdown; the panic was contained"
                    ),
                    Err(_) => {
                        task.abort();
                        tracing::warn!(
                            callback = p.name(),
                            "a GrowthBook plugin did not shut down in time"
                        );
                    }
                }
            }
        })
    }

    fn close(&self) {
        self.each_plugin(|p| p.on_close());
    }
}

impl Callbacks {
    /// Runs `f` on every plugin, containing panics.
    pub(crate) fn each_plugin(&self, f: impl Fn(&dyn Plugin)) {
        for p in &self.plugins {
            guarded(p.name(), || f(&**p));
        }
    }
}
