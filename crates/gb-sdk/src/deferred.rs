//! Deferred tracking: a context that holds its experiment exposures back, so a server can hand
//! them to a browser (whose SDK fires them), or fire them later.

use alloc::string::String;
use alloc::vec::Vec;
use std::collections::HashSet;

use gb_core::Experiment;
use serde_json::{Map, Value};

use crate::js_string::js_string;
use crate::result::ExperimentResult;

/// The most exposures one deferred-tracking context holds; later distinct ones are counted in
/// [`UserContext::deferred_tracking_overflow`](crate::UserContext::deferred_tracking_overflow)
/// and dropped.
pub const DEFERRED_TRACKING_CAPACITY: usize = 1000;

/// One experiment exposure held back by a deferred-tracking context (the JS SDK's
/// `TrackingData`).
#[derive(Debug, Clone, PartialEq)]
pub struct DeferredTrackingCall {
    /// The experiment, as the reference SDK's JSON object.
    pub experiment: Value,
    /// The user's result.
    pub result: ExperimentResult,
}

impl DeferredTrackingCall {
    /// `{"experiment": ..., "result": ...}`: the JS SDK's `TrackingData`, ready to forward to
    /// a browser's `setDeferredTrackingCalls`.
    pub fn to_json(&self) -> Value {
        let mut m = Map::new();
        m.insert("experiment".into(), self.experiment.clone());
        m.insert("result".into(), self.result.to_json());
        Value::Object(m)
    }

    /// The experiment key.
    pub fn experiment_key(&self) -> &str {
        self.experiment
            .get("key")
            .and_then(Value::as_str)
            .unwrap_or("")
    }

    /// The JS SDK's dedup key: hash attribute, hash value, experiment key, variation id.
    fn key(&self) -> String {
        let value = js_string(&self.result.hash_value);
        format!(
            "{}\u{1f}{value}\u{1f}{}\u{1f}{}",
            self.result.hash_attribute,
            self.experiment_key(),
            self.result.variation_id
        )
    }

    /// The experiment, parsed again (to pass to callbacks).
    pub(crate) fn parsed_experiment(&self) -> Experiment {
        Experiment::from_json(&self.experiment)
    }
}

/// The exposures a context holds, each once, in order; bounded.
#[derive(Debug, Default)]
pub(crate) struct Deferred {
    calls: Vec<DeferredTrackingCall>,
    keys: HashSet<String>,
    pub(crate) overflow: u64,
}

impl Deferred {
    pub(crate) fn push(&mut self, call: DeferredTrackingCall) {
        let key = call.key();
        if self.keys.contains(&key) {
            return;
        }
        if self.calls.len() >= DEFERRED_TRACKING_CAPACITY {
            self.overflow += 1;
            return;
        }
        self.keys.insert(key);
        self.calls.push(call);
    }

    pub(crate) fn calls(&self) -> &[DeferredTrackingCall] {
        &self.calls
    }

    pub(crate) fn take(&mut self) -> Vec<DeferredTrackingCall> {
        self.keys.clear();
        core::mem::take(&mut self.calls)
    }

    pub(crate) fn replace(&mut self, calls: Vec<DeferredTrackingCall>) {
        self.take();
        for c in calls {
            self.push(c);
        }
    }
}
