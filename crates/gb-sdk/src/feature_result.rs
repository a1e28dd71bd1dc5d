//! [`FeatureResult`]: a feature's full result. It shares (never copies) the snapshot and the
//! user it was computed from, so building one costs two reference counts and one small
//! allocation, whatever the size of the value or the experiment.

use alloc::boxed::Box;
use alloc::string::String;
use alloc::sync::Arc;
use core::fmt;

use gb_core::FeatureSource;
use gb_core::gb_condition::is_truthy;
use serde::de::DeserializeOwned;
use serde_json::Value;
use yoke::{Yoke, Yokeable};

use crate::detail::EvaluationReason;
use crate::inputs::EvalCart;
use crate::result::{ExperimentResult, Reason};

/// A gb-core result borrowed from an [`EvalCart`].
#[derive(Yokeable, Clone)]
pub(crate) struct Held<'a>(pub(crate) gb_core::FeatureResult<'a>);

/// A gb-core result together with the shared snapshot and user it borrows from.
pub(crate) type SharedResult = Yoke<Held<'static>, Arc<EvalCart>>;

#[derive(Clone)]
enum Repr {
    /// Borrowing from the snapshot and the user, both kept alive.
    Shared(SharedResult),
    /// Copied out (results handed to feature-usage callbacks).
    Owned(Box<Owned>),
}

#[derive(Clone)]
struct Owned {
    value: Value,
    source: FeatureSource,
    rule_id: String,
    experiment: Option<Value>,
    experiment_result: Option<ExperimentResult>,
}

/// The result of evaluating a feature: the spec's `FeatureResult` object.
///
/// Cheap to build and to clone: it keeps the snapshot it was evaluated on alive (an `Arc`)
/// and borrows the value, rule and experiment from it. The experiment's JSON and the owned
/// [`ExperimentResult`] are built only when asked for.
#[derive(Clone)]
pub struct FeatureResult {
    repr: Repr,
    reason: Reason,
}

impl FeatureResult {
    pub(crate) fn shared(inner: SharedResult, reason: Reason) -> Self {
        Self {
            repr: Repr::Shared(inner),
            reason,
        }
    }

    pub(crate) fn from_core(r: &gb_core::FeatureResult<'_>, reason: Reason) -> Self {
        Self {
            repr: Repr::Owned(Box::new(Owned {
                value: r.value.clone(),
                source: r.source,
                rule_id: r.rule_id.into(),
                experiment: r.experiment_json().map(|e| e.to_value()),
                experiment_result: r
                    .experiment_result
                    .as_ref()
                    .map(ExperimentResult::from_core),
            })),
            reason,
        }
    }

    fn core(&self) -> Option<&gb_core::FeatureResult<'_>> {
        match &self.repr {
            Repr::Shared(y) => Some(&y.get().0),
            Repr::Owned(_) => None,
        }
    }

    /// The value (`null` for unknown features, failed prerequisites and before features load).
    pub fn value(&self) -> &Value {
        match &self.repr {
            Repr::Shared(y) => y.get().0.value,
            Repr::Owned(o) => &o.value,
        }
    }

    /// Why the feature has this value, in GrowthBook's terms.
    pub fn source(&self) -> FeatureSource {
        match &self.repr {
            Repr::Shared(y) => y.get().0.source,
            Repr::Owned(o) => o.source,
        }
    }

    /// The id of the rule that applied, or `""`.
    pub fn rule_id(&self) -> &str {
        match &self.repr {
            Repr::Shared(y) => y.get().0.rule_id,
            Repr::Owned(o) => &o.rule_id,
        }
    }

    /// Whether features were loaded when this was evaluated.
    pub fn reason(&self) -> Reason {
        self.reason
    }

    /// Why, as a typed reason (see [`EvaluationReason`]).
    pub fn evaluation_reason(&self) -> EvaluationReason {
        EvaluationReason::of(self.source(), self.reason)
    }

    /// The experiment as JSON (built on demand), when `source` is `Experiment`.
    pub fn experiment(&self) -> Option<Value> {
        match &self.repr {
            Repr::Shared(y) => y.get().0.experiment_json().map(|e| e.to_value()),
            Repr::Owned(o) => o.experiment.clone(),
        }
    }

    /// The experiment's key, when `source` is `Experiment`.
    pub fn experiment_key(&self) -> Option<&str> {
        match &self.repr {
            Repr::Shared(y) => y.get().0.experiment.map(gb_core::Experiment::key),
            Repr::Owned(o) => o
                .experiment
                .as_ref()
                .and_then(|e| e.get("key"))
                .and_then(Value::as_str),
        }
    }

    /// The key of the variation the user got (`meta.key` or its index as text), when
    /// `source` is `Experiment`.
    pub fn variation_key(&self) -> Option<&str> {
        match &self.repr {
            Repr::Shared(y) => y.get().0.experiment_result.as_ref().map(|r| r.key),
            Repr::Owned(o) => o.experiment_result.as_ref().map(|r| r.key.as_str()),
        }
    }

    /// The experiment's result (built on demand), when `source` is `Experiment`.
    pub fn experiment_result(&self) -> Option<ExperimentResult> {
        match &self.repr {
            Repr::Shared(y) => y
                .get()
                .0
                .experiment_result
                .as_ref()
                .map(ExperimentResult::from_core),
            Repr::Owned(o) => o.experiment_result.clone(),
        }
    }

    /// The variation the user got, when `source` is `Experiment` and the user is in it.
    pub fn variation_id(&self) -> Option<usize> {
        let (inside, id) = match &self.repr {
            Repr::Shared(y) => y
                .get()
                .0
                .experiment_result
                .as_ref()
                .map(|r| (r.in_experiment, r.variation_id))?,
            Repr::Owned(o) => o
                .experiment_result
                .as_ref()
                .map(|r| (r.in_experiment, r.variation_id))?,
        };
        inside.then_some(id)
    }

    /// Whether the value is truthy (JavaScript `!!value`).
    pub fn on(&self) -> bool {
        is_truthy(self.value())
    }

    /// `!on()`.
    pub fn off(&self) -> bool {
        !self.on()
    }

    /// The value as `T`, or `None` if it is `null` or does not deserialize.
    pub fn value_as<T: DeserializeOwned>(&self) -> Option<T> {
        let v = self.value();
        if v.is_null() {
            return None;
        }
        T::deserialize(v).ok()
    }

    /// The spec's JSON shape (`value`, `on`, `off`, `source`, `ruleId`, `experiment`,
    /// `experimentResult`).
    pub fn to_json(&self) -> Value {
        if let Some(core) = self.core() {
            return core.to_json();
        }
        let mut m = serde_json::Map::new();
        m.insert("value".into(), self.value().clone());
        m.insert("on".into(), Value::Bool(self.on()));
        m.insert("off".into(), Value::Bool(self.off()));
        m.insert("source".into(), self.source().as_str().into());
        m.insert("ruleId".into(), self.rule_id().into());
        if let Some(e) = self.experiment() {
            m.insert("experiment".into(), e);
        }
        if let Some(r) = self.experiment_result() {
            m.insert("experimentResult".into(), r.to_json());
        }
        Value::Object(m)
    }
}

impl PartialEq for FeatureResult {
    fn eq(&self, other: &Self) -> bool {
        self.reason == other.reason && self.to_json() == other.to_json()
    }
}

impl fmt::Debug for FeatureResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FeatureResult")
            .field("value", self.value())
            .field("source", &self.source())
            .field("rule_id", &self.rule_id())
            .field("experiment_key", &self.experiment_key())
            .field("variation_id", &self.variation_id())
            .field("reason", &self.reason)
            .finish()
    }
}
