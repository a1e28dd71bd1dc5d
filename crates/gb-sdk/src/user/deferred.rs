//! Deferred tracking on a context: exposures held for a browser, or fired later.

use crate::deferred::{Deferred, DeferredTrackingCall};
use alloc::vec::Vec;
use std::sync::{Mutex, PoisonError};

use super::UserContext;

impl UserContext {
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
                shared.hooks.experiment_viewed(&experiment, r, self);
            }
        }
    }
}
