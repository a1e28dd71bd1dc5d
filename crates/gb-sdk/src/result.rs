//! Owned evaluation results: they outlive the snapshot they were computed from.

use alloc::string::String;

use gb_core::BanditInfo;
use serde::de::DeserializeOwned;
use serde_json::Value;

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
