//! Typed details: [`FeatureDetail`] and [`EvaluationReason`].

use alloc::string::String;

use gb_core::FeatureSource;

use crate::result::{ExperimentResult, Reason};

/// Why a feature has the value it has, typed (the OpenFeature provider maps from it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum EvaluationReason {
    /// A force or rollout rule matched the user (GrowthBook source `force`).
    TargetingMatch,
    /// The user was assigned a variation of an experiment rule (source `experiment`).
    Split,
    /// No rule applied: the feature's default value (source `defaultValue`).
    Default,
    /// A forced value set by the caller (builder, context or test client; source `override`).
    /// Applies before features load too.
    Override,
    /// A gating prerequisite failed (source `prerequisite`): the value is `null`.
    Prerequisite,
    /// The feature is not in the loaded payload: the caller's default applies.
    UnknownFeature,
    /// The value does not deserialize as the requested type: the caller's default applies.
    TypeMismatch,
    /// No features were loaded yet: the caller's default applies. Evaluation never waits.
    NotReady,
    /// The evaluation failed closed: the caller's default applies.
    Error(EvaluationError),
}

/// Why an evaluation failed closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum EvaluationError {
    /// The feature's prerequisites form a cycle (or a chain deeper than
    /// [`gb_core::limits::MAX_PREREQUISITE_DEPTH`]).
    CyclicPrerequisite,
    /// The evaluation needed more than [`gb_core::limits::MAX_EVALUATION_WORK`] steps.
    EvaluationLimit,
}

impl EvaluationReason {
    /// The reason for a result with GrowthBook `source`, evaluated on loaded features or not.
    pub fn of(source: FeatureSource, reason: Reason) -> Self {
        match source {
            FeatureSource::Override => Self::Override,
            _ if reason == Reason::NotReady => Self::NotReady,
            FeatureSource::UnknownFeature => Self::UnknownFeature,
            FeatureSource::DefaultValue => Self::Default,
            FeatureSource::Force => Self::TargetingMatch,
            FeatureSource::Experiment => Self::Split,
            FeatureSource::Prerequisite => Self::Prerequisite,
            FeatureSource::CyclicPrerequisite => Self::Error(EvaluationError::CyclicPrerequisite),
            _ => Self::Error(EvaluationError::EvaluationLimit),
        }
    }

    /// Whether the caller's default was returned because of this reason (not a value the
    /// features chose).
    pub fn is_default_fallback(self) -> bool {
        matches!(
            self,
            Self::UnknownFeature | Self::TypeMismatch | Self::NotReady | Self::Error(_)
        )
    }
}

/// A typed feature value with why it has it: what
/// [`UserContext::feature_detail`](crate::UserContext::feature_detail) returns.
#[derive(Debug, Clone, PartialEq)]
pub struct FeatureDetail<T> {
    /// The value as `T`: the feature's, or the caller's default (see [`reason`](Self::reason)).
    pub value: T,
    /// Why, typed.
    pub reason: EvaluationReason,
    /// GrowthBook's source of the feature's value.
    pub source: FeatureSource,
    /// The id of the rule that applied, or `""`.
    pub rule_id: String,
    /// The experiment's result, when the value came from an experiment rule.
    pub experiment_result: Option<ExperimentResult>,
}

impl<T> FeatureDetail<T> {
    /// The variation the user got, when the value came from an experiment they are in.
    pub fn variation_id(&self) -> Option<usize> {
        self.experiment_result
            .as_ref()
            .filter(|r| r.in_experiment)
            .map(|r| r.variation_id)
    }
}

/// `v` as `T` (`None` if it does not deserialize). A `serde_json::Value` is cloned directly,
/// which is several times cheaper than deserializing it from itself.
pub(crate) fn typed<T: serde::de::DeserializeOwned + 'static>(v: &serde_json::Value) -> Option<T> {
    let mut out: Option<T> = None;
    if let Some(slot) =
        (&mut out as &mut dyn core::any::Any).downcast_mut::<Option<serde_json::Value>>()
    {
        *slot = Some(v.clone());
        return out;
    }
    T::deserialize(v).ok()
}

/// `v` as `T`, or `default` when `v` is `null` or does not deserialize as `T`. For
/// `T = serde_json::Value` the copy is built in `default`'s place ([`clone_into`]): no
/// deserializer, and no temporary moved after it.
#[inline]
pub(crate) fn value_or<T: serde::de::DeserializeOwned + 'static>(
    v: &serde_json::Value,
    mut default: T,
) -> T {
    if v.is_null() {
        return default;
    }
    if let Some(slot) =
        (&mut default as &mut dyn core::any::Any).downcast_mut::<serde_json::Value>()
    {
        clone_into(slot, v);
        return default;
    }
    T::deserialize(v).unwrap_or(default)
}

/// Overwrites `dst` with a copy of `src`, building the copy where it lands: the variant is
/// written empty, then filled (`push_str`, `clone_from`). `*dst = src.clone()` builds the copy
/// in a temporary and then moves it; the move reads back, 16 bytes at a time, what the clone
/// has just stored 8 bytes at a time, a store-forwarding stall that cost
/// `feature_value::<Value>` about 4 ns a call (perf). Inlined for the same reason: called,
/// the copy landed in the callee's frame and was moved again. A `null` `dst` (the usual
/// default) is not passed to the drop glue.
#[inline(always)]
fn clone_into(dst: &mut serde_json::Value, src: &serde_json::Value) {
    use serde_json::Value;
    if !dst.is_null() {
        *dst = Value::Null;
    }
    // `dst` is null: overwriting it frees nothing.
    let put = |dst: &mut Value, empty: Value| core::mem::forget(core::mem::replace(dst, empty));
    match src {
        Value::Null => {}
        Value::Bool(b) => put(dst, Value::Bool(*b)),
        Value::Number(n) => put(dst, Value::Number(n.clone())),
        Value::String(s) => {
            put(dst, Value::String(String::with_capacity(s.len())));
            if let Value::String(d) = dst {
                d.push_str(s);
            }
        }
        Value::Array(a) => {
            put(dst, Value::Array(Vec::with_capacity(a.len())));
            if let Value::Array(d) = dst {
                d.clone_from(a);
            }
        }
        Value::Object(m) => {
            put(dst, Value::Object(serde_json::Map::new()));
            if let Value::Object(d) = dst {
                d.clone_from(m);
            }
        }
    }
}

/// The detail of a borrowed result: `T` from the value, else `default` with the reason why.
pub(crate) fn detail_of<T: serde::de::DeserializeOwned + 'static>(
    r: &gb_core::FeatureResult<'_>,
    reason: Reason,
    default: T,
) -> FeatureDetail<T> {
    let mut why = EvaluationReason::of(r.source, reason);
    let value = if why.is_default_fallback() || r.value.is_null() {
        default
    } else {
        match typed(r.value) {
            Some(v) => v,
            None => {
                why = EvaluationReason::TypeMismatch;
                default
            }
        }
    };
    FeatureDetail {
        value,
        reason: why,
        source: r.source,
        rule_id: r.rule_id.into(),
        experiment_result: r
            .experiment_result
            .as_ref()
            .map(ExperimentResult::from_core),
    }
}
