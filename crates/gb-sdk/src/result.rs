//! Owned evaluation results: they outlive the snapshot they were computed from.

use alloc::string::String;

use gb_core::{BanditInfo, FeatureSource, gb_condition::is_truthy};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

/// Whether a result came from loaded features.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Reason {
    /// Evaluated on loaded features (fresh or stale: see [`crate::Status`]).
    Evaluated,
    /// No features were loaded yet: the value is the caller's default. Evaluation never waits
    /// for the network.
    NotReady,
}

/// The result of running an experiment (owned; the spec's `Result` object).
#[derive(Debug, Clone, PartialEq)]
pub struct ExperimentResult {
    /// The variation's `meta.key`, or its index as text.
    pub key: String,
    /// The feature the experiment belongs to (`None` for inline experiments).
    pub feature_id: Option<String>,
    /// Whether the user is in the experiment.
    pub in_experiment: bool,
    /// Whether the variation came from hashing (not forced). Only these are tracked.
    pub hash_used: bool,
    /// The variation index (0 when not in the experiment).
    pub variation_id: usize,
    /// The variation's value.
    pub value: Value,
    /// The attribute hashed on.
    pub hash_attribute: String,
    /// That attribute's value (`""` when missing).
    pub hash_value: Value,
    /// Whether a stored sticky bucket decided the variation.
    pub sticky_bucket_used: bool,
    /// The variation's `meta.name`.
    pub name: Option<String>,
    /// The hash, when the user was bucketed.
    pub bucket: Option<f64>,
    /// The variation is a passthrough (holdout).
    pub passthrough: bool,
    /// Contextual-bandit fields: `(leafId, variationWeights, banditVersion)`.
    pub bandit: Option<(Value, Value, Option<Value>)>,
}

impl ExperimentResult {
    pub(crate) fn from_core(r: &gb_core::ExperimentResult<'_>) -> Self {
        Self {
            key: r.key.into(),
            feature_id: r.feature_id.map(String::from),
            in_experiment: r.in_experiment,
            hash_used: r.hash_used,
            variation_id: r.variation_id,
            value: r.value.clone(),
            hash_attribute: r.hash_attribute.into(),
            hash_value: r.hash_value.clone(),
            sticky_bucket_used: r.sticky_bucket_used,
            name: r.name.map(String::from),
            bucket: r.bucket,
            passthrough: r.passthrough,
            bandit: r.bandit.map(|b| {
                (
                    b.leaf_id.clone(),
                    b.variation_weights.clone(),
                    b.bandit_version.cloned(),
                )
            }),
        }
    }

    /// The variation's value as `T`, or `None` if it does not deserialize.
    pub fn value_as<T: DeserializeOwned>(&self) -> Option<T> {
        T::deserialize(&self.value).ok()
    }

    /// The spec's JSON shape (identical to the reference SDKs' `Result` object).
    pub fn to_json(&self) -> Value {
        gb_core::ExperimentResult {
            key: &self.key,
            feature_id: self.feature_id.as_deref(),
            in_experiment: self.in_experiment,
            hash_used: self.hash_used,
            variation_id: self.variation_id,
            value: &self.value,
            hash_attribute: &self.hash_attribute,
            hash_value: &self.hash_value,
            sticky_bucket_used: self.sticky_bucket_used,
            name: self.name.as_deref(),
            bucket: self.bucket,
            passthrough: self.passthrough,
            bandit: self
                .bandit
                .as_ref()
                .map(|(leaf, weights, version)| BanditInfo {
                    leaf_id: leaf,
                    variation_weights: weights,
                    bandit_version: version.as_ref(),
                }),
        }
        .to_json()
    }
}

/// The result of evaluating a feature (owned; the spec's `FeatureResult` object).
#[derive(Debug, Clone, PartialEq)]
pub struct FeatureResult {
    /// The value (`null` for unknown features, failed prerequisites and before features load).
    pub value: Value,
    /// Why the feature has this value.
    pub source: FeatureSource,
    /// The id of the rule that applied, or `""`.
    pub rule_id: String,
    /// The experiment as JSON, when `source` is `Experiment`.
    pub experiment: Option<Value>,
    /// The experiment's result, when `source` is `Experiment`.
    pub experiment_result: Option<ExperimentResult>,
    /// Whether features were loaded when this was evaluated.
    pub reason: Reason,
}

impl FeatureResult {
    pub(crate) fn from_core(r: &gb_core::FeatureResult<'_>, reason: Reason) -> Self {
        Self {
            value: r.value.clone(),
            source: r.source,
            rule_id: r.rule_id.into(),
            experiment: r.experiment_json().map(|e| e.to_value()),
            experiment_result: r
                .experiment_result
                .as_ref()
                .map(ExperimentResult::from_core),
            reason,
        }
    }

    /// Whether the value is truthy (JavaScript `!!value`).
    pub fn on(&self) -> bool {
        is_truthy(&self.value)
    }

    /// `!on()`.
    pub fn off(&self) -> bool {
        !self.on()
    }

    /// The value as `T`, or `None` if it is `null` or does not deserialize.
    pub fn value_as<T: DeserializeOwned>(&self) -> Option<T> {
        if self.value.is_null() {
            return None;
        }
        T::deserialize(&self.value).ok()
    }

    /// The spec's JSON shape (`value`, `on`, `off`, `source`, `ruleId`, `experiment`,
    /// `experimentResult`).
    pub fn to_json(&self) -> Value {
        let mut m = Map::new();
        m.insert("value".into(), self.value.clone());
        m.insert("on".into(), Value::Bool(self.on()));
        m.insert("off".into(), Value::Bool(self.off()));
        m.insert("source".into(), self.source.as_str().into());
        m.insert("ruleId".into(), self.rule_id.clone().into());
        if let Some(e) = &self.experiment {
            m.insert("experiment".into(), e.clone());
        }
        if let Some(r) = &self.experiment_result {
            m.insert("experimentResult".into(), r.to_json());
        }
        Value::Object(m)
    }
}
