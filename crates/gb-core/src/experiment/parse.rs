//! Parsers for the fields of experiments and rules (filters, prerequisites, ranges), each
//! collecting what is wrong with its field.

use alloc::string::{String, ToString};
use alloc::vec::Vec;

use gb_condition::is_truthy;
use serde_json::{Map, Value};

use crate::bucket::Range;
use crate::compiling::Compiling;
use crate::hash::{HashVersion, Seed};

use super::{Filter, ParentCondition};

pub(crate) struct P {
    pub(crate) errors: Vec<String>,
}

impl P {
    pub(crate) fn err(&mut self, s: &str) {
        self.errors.push(s.to_string());
    }

    /// Everything wrong, in one sentence (`"a; b"`).
    pub(crate) fn why(&self) -> String {
        let mut why = String::new();
        for (i, e) in self.errors.iter().enumerate() {
            if i > 0 {
                why.push_str("; ");
            }
            why.push_str(e);
        }
        why
    }

    pub(crate) fn opt_str(&mut self, m: &Map<String, Value>, k: &str) -> Option<String> {
        match m.get(k) {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) if s.is_empty() => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(Value::Bool(false)) => None,
            Some(_) => {
                self.err(&[k, " must be a string"].concat());
                None
            }
        }
    }

    pub(crate) fn numbers(&mut self, v: &Value, what: &str) -> Option<Vec<f64>> {
        let r = v
            .as_array()
            .and_then(|a| a.iter().map(Value::as_f64).collect::<Option<Vec<_>>>());
        if r.is_none() {
            self.err(&[what, " must be an array of numbers"].concat());
        }
        r
    }

    pub(crate) fn ranges(&mut self, v: &Value) -> Option<Vec<Range>> {
        let r = v.as_array().and_then(|a| {
            a.iter()
                .map(|r| match r.as_array().map(Vec::as_slice) {
                    Some([a, b]) => Some((a.as_f64()?, b.as_f64()?)),
                    _ => None,
                })
                .collect::<Option<Vec<_>>>()
        });
        if r.is_none() {
            self.err("ranges must be an array of [start, end] pairs");
        }
        r
    }

    pub(crate) fn filters(&mut self, v: &Value) -> Option<Vec<Filter>> {
        let Some(a) = v.as_array() else {
            self.err("filters must be an array");
            return None;
        };
        let mut out = Vec::with_capacity(a.len());
        for f in a {
            let Some(fm) = f.as_object() else {
                self.err("a filter must be an object");
                return None;
            };
            let ranges = self.ranges(fm.get("ranges").unwrap_or(&Value::Null))?;
            out.push(Filter {
                attribute: self.opt_str(fm, "attribute"),
                seed: match fm.get("seed") {
                    Some(Value::String(s)) => Seed::new(s),
                    _ => {
                        self.err("a filter needs a string seed");
                        return None;
                    }
                },
                hash_version: HashVersion::from_json(fm.get("hashVersion"), HashVersion::V2),
                ranges,
            });
        }
        Some(out)
    }

    pub(crate) fn parents(
        &mut self,
        v: &Value,
        warnings: &mut Compiling,
    ) -> Option<Vec<ParentCondition>> {
        let Some(a) = v.as_array() else {
            self.err("parentConditions must be an array");
            return None;
        };
        let mut out = Vec::with_capacity(a.len());
        for pc in a {
            // JS reads `parentCondition.id`, `.condition` and `.gate`: of null that throws (the
            // rule is disabled here instead); of any other non-object they are undefined.
            if pc.is_null() {
                self.err("a parent condition must not be null");
                return None;
            }
            let field = |k: &str| pc.as_object().and_then(|m| m.get(k));
            // JS looks the parent up as `features[parentCondition.id]`, which converts the
            // id with `String(id)`: a missing id is the feature "undefined", 5 is "5".
            let id = match field("id") {
                Some(Value::String(id)) => id.clone(),
                None => String::from("undefined"),
                Some(other) => {
                    let mut text = String::new();
                    if gb_condition::write_js_string(&mut text, other).is_err() {
                        self.err("a parent condition's id is nested too deeply");
                        return None;
                    }
                    text
                }
            };
            // `parentCondition.condition || {}`.
            let condition = match field("condition") {
                Some(c) if is_truthy(c) => warnings.condition(c),
                _ => warnings.always(),
            };
            out.push(ParentCondition {
                id,
                condition,
                gate: field("gate").is_some_and(is_truthy),
            });
        }
        Some(out)
    }
}

/// Parses `parentConditions` of a feature rule.
pub(crate) fn parse_parents(
    v: &Value,
    warnings: &mut Compiling,
) -> Result<Vec<ParentCondition>, String> {
    let mut p = P { errors: Vec::new() };
    p.parents(v, warnings).ok_or_else(|| p.why())
}

/// Parses `filters` of a feature rule.
pub(crate) fn parse_filters(v: &Value) -> Result<Vec<Filter>, String> {
    let mut p = P { errors: Vec::new() };
    p.filters(v).ok_or_else(|| p.why())
}
