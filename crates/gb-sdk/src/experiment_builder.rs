//! [`ExperimentBuilder`]: a typed inline experiment, checked when it is built.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use gb_core::Experiment;
use serde::Serialize;
use serde_json::{Map, Value, json};

/// Builds an inline [`Experiment`] (for [`UserContext::run`](crate::UserContext::run)) from
/// typed parts, and reports every invalid part at [`build`](Self::build) instead of silently
/// including nobody.
///
/// ```
/// use gb_sdk::{Attributes, ExperimentBuilder, GrowthBook};
///
/// #[derive(serde::Serialize)]
/// struct Layout { columns: u8 }
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let experiment = ExperimentBuilder::new("grid-layout")
///     .variation(Layout { columns: 2 })
///     .variation(Layout { columns: 3 })
///     .weights([0.5, 0.5])
///     .coverage(0.8)
///     .condition(serde_json::json!({"country": "NL"}))
///     .hash_attribute("id")
///     .build()?;
/// let copy = experiment.clone();
///
/// let client = GrowthBook::builder().payload(serde_json::json!({"features": {}})).build()?;
/// let user = client.user(Attributes::new().insert("id", "u1").insert("country", "NL"));
/// let result = user.run(&copy);
/// assert!(result.value_as::<serde_json::Value>().is_some());
///
/// let typo = ExperimentBuilder::new("grid-layout").variation(1).weights([0.5, 0.5]).build();
/// assert!(typo.is_err()); // one variation, and weights that do not match
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct ExperimentBuilder {
    def: Map<String, Value>,
    variations: Vec<Value>,
    weights: Option<Vec<f64>>,
    problems: Vec<String>,
}

impl ExperimentBuilder {
    /// An experiment with key `key` (also the hashing seed unless [`seed`](Self::seed) is set).
    pub fn new(key: impl Into<String>) -> Self {
        let key = key.into();
        let mut problems = Vec::new();
        if key.is_empty() {
            problems.push("the key is empty".into());
        }
        let mut def = Map::new();
        def.insert("key".into(), key.into());
        Self {
            def,
            variations: Vec::new(),
            weights: None,
            problems,
        }
    }

    /// Adds a variation: any value that serializes to JSON.
    pub fn variation(mut self, value: impl Serialize) -> Self {
        match serde_json::to_value(value) {
            Ok(v) => self.variations.push(v),
            Err(e) => {
                let n = self.variations.len();
                self.problems
                    .push(format!("variation {n} does not serialize: {e}"));
                self.variations.push(Value::Null);
            }
        }
        self
    }

    /// Adds several variations.
    pub fn variations<T: Serialize>(self, values: impl IntoIterator<Item = T>) -> Self {
        values.into_iter().fold(self, Self::variation)
    }

    /// How traffic splits between the variations (one weight each, summing to 1). Default:
    /// equal.
    pub fn weights(mut self, weights: impl IntoIterator<Item = f64>) -> Self {
        self.weights = Some(weights.into_iter().collect());
        self
    }

    /// The share of users included, from 0 to 1. Default 1.
    pub fn coverage(mut self, coverage: f64) -> Self {
        if !(0.0..=1.0).contains(&coverage) {
            self.problems
                .push(format!("coverage {coverage} is not between 0 and 1"));
        }
        self.def.insert("coverage".into(), json!(coverage));
        self
    }

    /// A targeting condition (GrowthBook's condition language, a JSON object).
    pub fn condition(mut self, condition: Value) -> Self {
        if !condition.is_object() {
            self.problems.push("the condition is not an object".into());
        }
        self.def.insert("condition".into(), condition);
        self
    }

    /// The attribute hashed to assign variations. Default `id`.
    pub fn hash_attribute(mut self, attribute: impl Into<String>) -> Self {
        self.def
            .insert("hashAttribute".into(), Value::String(attribute.into()));
        self
    }

    /// The attribute hashed when the hash attribute is missing.
    pub fn fallback_attribute(mut self, attribute: impl Into<String>) -> Self {
        self.def
            .insert("fallbackAttribute".into(), Value::String(attribute.into()));
        self
    }

    /// The hashing algorithm: 1 or 2. Default 1.
    pub fn hash_version(mut self, version: u8) -> Self {
        if !matches!(version, 1 | 2) {
            self.problems
                .push(format!("hash version {version} is not 1 or 2"));
        }
        self.def.insert("hashVersion".into(), json!(version));
        self
    }

    /// The hashing seed. Default: the key.
    pub fn seed(mut self, seed: impl Into<String>) -> Self {
        self.def.insert("seed".into(), Value::String(seed.into()));
        self
    }

    /// A namespace: only users hashing into `[start, end)` of namespace `id` are included
    /// (mutually exclusive experiments share a namespace with disjoint ranges).
    pub fn namespace(mut self, id: impl Into<String>, start: f64, end: f64) -> Self {
        if !(0.0 <= start && start <= end && end <= 1.0) {
            self.problems.push(format!(
                "namespace range [{start}, {end}) is not within [0, 1]"
            ));
        }
        self.def
            .insert("namespace".into(), json!([id.into(), start, end]));
        self
    }

    /// A filter: only users whose hash of `attribute` (seeded by `seed`, hash version 2)
    /// falls in one of `ranges` are included. Filters add up (all must pass).
    pub fn filter(
        mut self,
        attribute: impl Into<String>,
        seed: impl Into<String>,
        ranges: impl IntoIterator<Item = (f64, f64)>,
    ) -> Self {
        let ranges: Vec<Value> = ranges
            .into_iter()
            .map(|(a, b)| {
                if !(0.0 <= a && a <= b && b <= 1.0) {
                    self.problems
                        .push(format!("filter range [{a}, {b}) is not within [0, 1]"));
                }
                json!([a, b])
            })
            .collect();
        let filter = json!({
            "attribute": attribute.into(),
            "seed": seed.into(),
            "ranges": ranges,
            "hashVersion": 2,
        });
        match self.def.get_mut("filters") {
            Some(Value::Array(list)) => list.push(filter),
            _ => {
                self.def.insert("filters".into(), json!([filter]));
            }
        }
        self
    }

    /// The experiment as the reference SDK's JSON definition (what `build` compiles).
    pub fn to_json(&self) -> Value {
        let mut def = self.def.clone();
        def.insert("variations".into(), Value::Array(self.variations.clone()));
        if let Some(w) = &self.weights {
            def.insert("weights".into(), json!(w));
        }
        Value::Object(def)
    }

    /// The experiment, or every problem found.
    ///
    /// # Errors
    /// [`ExperimentError`] listing each invalid part: fewer than two variations, weights
    /// that are negative, not one per variation or not summing to 1, coverage or ranges
    /// outside `[0, 1]`, a hash version other than 1 or 2, a non-object condition, a
    /// variation that does not serialize.
    pub fn build(&self) -> Result<Experiment, ExperimentError> {
        let mut problems = self.problems.clone();
        let n = self.variations.len();
        if n < 2 {
            problems.push(format!("{n} variation(s): an experiment needs at least 2"));
        }
        if let Some(w) = &self.weights {
            if w.len() != n {
                problems.push(format!("{} weights for {n} variations", w.len()));
            }
            if w.iter().any(|x| !x.is_finite() || *x < 0.0) {
                problems.push("a weight is negative or not finite".into());
            }
            let sum: f64 = w.iter().sum();
            // The reference SDK falls back to equal weights outside this band.
            if !(0.99..=1.01).contains(&sum) {
                problems.push(format!("the weights sum to {sum}, not 1"));
            }
        }
        let experiment = Experiment::from_json(&self.to_json());
        if let Some(why) = experiment.invalid_reason() {
            problems.push(why.into());
        }
        if problems.is_empty() {
            Ok(experiment)
        } else {
            Err(ExperimentError {
                key: self
                    .def
                    .get("key")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .into(),
                problems,
            })
        }
    }
}

/// Why an [`ExperimentBuilder`] could not build its experiment: every problem found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExperimentError {
    /// The experiment's key.
    pub key: String,
    /// Each problem, in words.
    pub problems: Vec<String>,
}

impl fmt::Display for ExperimentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "experiment `{}` is invalid: {}",
            self.key,
            self.problems.join("; ")
        )
    }
}

impl core::error::Error for ExperimentError {}
