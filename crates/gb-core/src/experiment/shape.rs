//! The JSON of an experiment's definition as results show it (the reference `Experiment`
//! object), kept compactly and rebuilt on demand.

use alloc::boxed::Box;
use alloc::string::String;
use alloc::sync::Arc;

use serde::ser::{Serialize, Serializer};
use serde_json::{Map, Value};

use crate::values::compact;

use super::Experiment;

/// The JSON of an experiment's definition as results show it, stored compactly and shared by
/// every experiment built from one rule (a contextual bandit builds one per leaf).
#[derive(Debug)]
pub(crate) struct Shape {
    /// The definition without its `variations` array, as compact JSON text.
    text: Box<str>,
    /// Where `variations` stands among the definition's keys (`None`: not an array).
    variations_at: Option<usize>,
}

impl Shape {
    /// Splits `variations` out of a definition: the shape, and the variations if an array.
    pub(crate) fn split(v: Value) -> (Map<String, Value>, Option<Arc<[Value]>>, Shape) {
        match v {
            Value::Object(mut m) => {
                let at = m.keys().position(|k| k == "variations");
                let variations = match m.get("variations") {
                    Some(Value::Array(_)) => match m.shift_remove("variations") {
                        Some(Value::Array(a)) => {
                            Some(a.into_iter().map(|v| compact(v, 0)).collect())
                        }
                        _ => None,
                    },
                    _ => None,
                };
                let at = at.filter(|_| variations.is_some());
                let shape = Shape::new(&m, at);
                (m, variations, shape)
            }
            other => {
                let mut text = String::new();
                let _ = gb_condition::write_serde_json(&mut text, &other);
                let shape = Shape {
                    text: text.into(),
                    variations_at: None,
                };
                (Map::new(), None, shape)
            }
        }
    }

    /// The shape of `m` (which holds no `variations`), with them going at `variations_at`.
    pub(crate) fn new(m: &Map<String, Value>, variations_at: Option<usize>) -> Shape {
        // serde_json's text, which the JSON reader reads back as the same values.
        let mut text = String::with_capacity(128); // as serde_json::to_string starts
        let _ = gb_condition::write_serde_json_object(&mut text, m);
        Shape {
            text: text.into(),
            variations_at,
        }
    }
}

/// An experiment as the reference SDK shows it in results (its `Experiment` object), built
/// on demand from the compiled experiment: the snapshot does not keep a JSON tree per
/// experiment. Serialize it, or turn it into a `Value` with [`ExperimentJson::to_value`].
#[derive(Clone, Copy, Debug)]
pub struct ExperimentJson<'a> {
    pub(super) exp: &'a Experiment,
    pub(super) contextual_bandit: bool,
}

impl ExperimentJson<'_> {
    /// The experiment as a JSON value.
    pub fn to_value(&self) -> Value {
        let e = self.exp;
        let v: Value = crate::json::parse(&e.shape.text).unwrap_or(Value::Null);
        let Value::Object(rest) = v else {
            return v;
        };
        let at = e.shape.variations_at;
        let n = rest.len();
        let variations = || Value::Array(e.variations.to_vec());
        let mut m = Map::new();
        for (i, (k, v)) in rest.into_iter().enumerate() {
            if at == Some(i) {
                m.insert("variations".into(), variations());
            }
            m.insert(k, v);
        }
        if at.is_some_and(|a| a >= n) {
            m.insert("variations".into(), variations());
        }
        if let Some(b) = &e.bandit {
            if e.weights_from_bandit {
                m.insert("weights".into(), b.variation_weights.clone());
            }
            if self.contextual_bandit {
                let mut cb = Map::new();
                cb.insert("leafId".into(), b.leaf_id.clone());
                cb.insert("variationWeights".into(), b.variation_weights.clone());
                if let Some(bv) = &b.bandit_version {
                    cb.insert("banditVersion".into(), bv.clone());
                }
                m.insert("contextualBandit".into(), Value::Object(cb));
            }
        }
        Value::Object(m)
    }
}

impl Serialize for ExperimentJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.to_value().serialize(s)
    }
}

impl PartialEq<Value> for ExperimentJson<'_> {
    fn eq(&self, other: &Value) -> bool {
        self.to_value() == *other
    }
}
