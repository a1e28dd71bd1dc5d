//! Evaluation results, shaped exactly as the GrowthBook spec shows them.

use alloc::string::String;
use serde::ser::{Serialize, SerializeMap, Serializer};

use gb_condition::is_truthy;
use serde_json::Value;

use crate::experiment::{Experiment, ExperimentJson};

/// Why a feature has the value it has.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FeatureSource {
    /// The feature is not in the payload.
    UnknownFeature,
    /// No rule applied: the feature's default value.
    DefaultValue,
    /// A force (or rollout) rule applied.
    Force,
    /// A forced feature value set by the caller.
    Override,
    /// The user is in an experiment rule.
    Experiment,
    /// A gating prerequisite failed.
    Prerequisite,
    /// Prerequisites form a cycle.
    CyclicPrerequisite,
    /// The evaluation needed more than [`MAX_EVALUATION_WORK`](crate::limits::MAX_EVALUATION_WORK)
    /// steps (a hostile prerequisite graph): it failed closed with a `null` value.
    EvaluationLimit,
}

impl FeatureSource {
    /// The spec's name (`"defaultValue"`, `"force"`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            FeatureSource::UnknownFeature => "unknownFeature",
            FeatureSource::DefaultValue => "defaultValue",
            FeatureSource::Force => "force",
            FeatureSource::Override => "override",
            FeatureSource::Experiment => "experiment",
            FeatureSource::Prerequisite => "prerequisite",
            FeatureSource::CyclicPrerequisite => "cyclicPrerequisite",
            FeatureSource::EvaluationLimit => "evaluationLimit",
        }
    }
}

/// The result of evaluating a feature. Borrows from the payload and the user.
#[derive(Clone, Debug)]
pub struct FeatureResult<'a> {
    /// The value (`null` for unknown features, failed prerequisites and cycles).
    pub value: &'a Value,
    /// Why.
    pub source: FeatureSource,
    /// The id of the rule that applied, or `""`.
    pub rule_id: &'a str,
    /// The experiment, when `source` is `Experiment`.
    pub experiment: Option<&'a Experiment>,
    /// The experiment's result, when `source` is `Experiment`.
    pub experiment_result: Option<ExperimentResult<'a>>,
}

impl<'a> FeatureResult<'a> {
    /// Whether the value is truthy (JavaScript `!!value`).
    #[inline]
    pub fn on(&self) -> bool {
        is_truthy(self.value)
    }

    /// `!on()`.
    pub fn off(&self) -> bool {
        !self.on()
    }

    /// The experiment as the spec shows it (without bandit metadata unless it was hashed).
    pub fn experiment_json(&self) -> Option<ExperimentJson<'a>> {
        let e = self.experiment?;
        let hashed = self
            .experiment_result
            .as_ref()
            .is_some_and(|r| r.hash_used && r.in_experiment);
        Some(e.json_shown(hashed))
    }

    /// The result as a JSON value (the spec's `FeatureResult` object).
    pub fn to_json(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }
}

impl Serialize for FeatureResult<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("value", self.value)?;
        m.serialize_entry("on", &self.on())?;
        m.serialize_entry("off", &self.off())?;
        m.serialize_entry("source", self.source.as_str())?;
        m.serialize_entry("ruleId", self.rule_id)?;
        if let Some(e) = self.experiment_json() {
            m.serialize_entry("experiment", &e)?;
        }
        if let Some(r) = &self.experiment_result {
            m.serialize_entry("experimentResult", r)?;
        }
        m.end()
    }
}

/// The result of running an experiment. Borrows from the experiment and the user.
#[derive(Clone, Debug)]
pub struct ExperimentResult<'a> {
    /// The variation's `meta.key`, or its index as text.
    pub key: &'a str,
    /// The feature the experiment belongs to (`None` for inline experiments).
    pub feature_id: Option<&'a str>,
    /// Whether the user is in the experiment.
    pub in_experiment: bool,
    /// Whether the variation came from hashing (not forced).
    pub hash_used: bool,
    /// The variation index (0 when not in the experiment).
    pub variation_id: usize,
    /// The variation's value.
    pub value: &'a Value,
    /// The attribute hashed on.
    pub hash_attribute: &'a str,
    /// That attribute's value (`""` when missing), in its JSON type.
    pub hash_value: &'a Value,
    /// Whether a stored sticky bucket decided the variation.
    pub sticky_bucket_used: bool,
    /// The variation's `meta.name`.
    pub name: Option<&'a str>,
    /// The hash (set when the user was bucketed).
    pub bucket: Option<f64>,
    /// The variation is a passthrough (holdout).
    pub passthrough: bool,
    /// Contextual-bandit leaf, weights and version, when hashed into a bandit.
    pub bandit: Option<BanditInfo<'a>>,
}

/// Contextual-bandit fields of an experiment result.
#[derive(Clone, Copy, Debug)]
pub struct BanditInfo<'a> {
    /// The leaf that matched (`-1` for the fallback).
    pub leaf_id: &'a Value,
    /// The weights used.
    pub variation_weights: &'a Value,
    /// The bandit definition's version, if it has one.
    pub bandit_version: Option<&'a Value>,
}

impl ExperimentResult<'_> {
    /// The result as a JSON value (the spec's `Result` object).
    pub fn to_json(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }
}

impl Serialize for ExperimentResult<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("key", self.key)?;
        m.serialize_entry("featureId", &self.feature_id)?;
        m.serialize_entry("inExperiment", &self.in_experiment)?;
        m.serialize_entry("hashUsed", &self.hash_used)?;
        m.serialize_entry("variationId", &self.variation_id)?;
        m.serialize_entry("value", self.value)?;
        m.serialize_entry("hashAttribute", self.hash_attribute)?;
        m.serialize_entry("hashValue", self.hash_value)?;
        m.serialize_entry("stickyBucketUsed", &self.sticky_bucket_used)?;
        if let Some(n) = self.name {
            m.serialize_entry("name", n)?;
        }
        if let Some(b) = self.bucket {
            m.serialize_entry("bucket", &b)?;
        }
        if self.passthrough {
            m.serialize_entry("passthrough", &true)?;
        }
        if let Some(b) = &self.bandit {
            m.serialize_entry("leafId", b.leaf_id)?;
            m.serialize_entry("variationWeights", b.variation_weights)?;
            if let Some(v) = b.bandit_version {
                m.serialize_entry("banditVersion", v)?;
            }
        }
        m.end()
    }
}

/// A redirect chosen by [`FeatureSet::url_redirect`](crate::FeatureSet::url_redirect).
#[derive(Debug, Clone)]
pub struct UrlRedirect<'a> {
    /// The experiment result that chose the redirect.
    pub result: ExperimentResult<'a>,
    /// The variation's `urlRedirect`.
    pub url_redirect: &'a str,
    /// The redirect with the current URL's query string merged in when the experiment has
    /// `persistQueryString`.
    pub url_with_params: String,
}
