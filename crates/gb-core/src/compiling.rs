//! What compiling one payload carries along: its warnings, its regex budget, and the
//! conditions compiled so far (a condition repeated across rules is compiled and stored once).

use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::ops::{Deref, DerefMut};

use gb_condition::{Condition, JsRegex, RegexBudget, RegexError, SavedGroups};
use hashbrown::HashMap;
use serde_json::{Map, Value};

use crate::MAX_JSON_DEPTH;

/// The warnings of one payload's compilation and the regex budget all its conditions share.
///
/// It reads as the warnings list (`w.push(..)`); conditions and patterns are compiled
/// through it so that every regex of the payload is charged to one [`RegexBudget`].
#[derive(Debug, Default)]
pub(crate) struct Compiling {
    pub(crate) warnings: Vec<String>,
    pub(crate) regex_budget: RegexBudget,
    /// Condition JSON text → the compiled condition and the warnings compiling it gave.
    conditions: HashMap<String, (Arc<Condition>, Vec<String>)>,
    always: Option<Arc<Condition>>,
}

impl Compiling {
    /// Compiles a condition, charging its regexes to the payload's budget, or shares the one
    /// compiled from the same JSON text earlier in this payload (its warnings are reported
    /// again, once per use; its regexes are not charged twice).
    pub(crate) fn condition(&mut self, c: &Value) -> Arc<Condition> {
        let Ok(text) = serde_json::to_string(c) else {
            return Arc::new(Condition::compile_with_budget(
                c,
                &mut self.warnings,
                &mut self.regex_budget,
            ));
        };
        if let Some((cond, w)) = self.conditions.get(&text) {
            self.warnings.extend(w.iter().cloned());
            return cond.clone();
        }
        let mut w = Vec::new();
        let cond = Arc::new(Condition::compile_with_budget(
            c,
            &mut w,
            &mut self.regex_budget,
        ));
        self.warnings.extend(w.iter().cloned());
        self.conditions.insert(text, (cond.clone(), w));
        cond
    }

    /// The condition every attribute set passes, shared.
    pub(crate) fn always(&mut self) -> Arc<Condition> {
        self.always
            .get_or_insert_with(|| Arc::new(Condition::always()))
            .clone()
    }

    /// Compiles the saved groups, charging their regexes to the payload's budget.
    pub(crate) fn saved_groups(&mut self, v: &Value) -> SavedGroups {
        SavedGroups::compile_with_budget(v, &mut self.warnings, &mut self.regex_budget)
    }

    /// Compiles a JavaScript pattern, charging it to the payload's budget.
    pub(crate) fn regex(&mut self, js: &str) -> Result<JsRegex, RegexError> {
        JsRegex::with_budget(js, false, &mut self.regex_budget)
    }
}

impl Deref for Compiling {
    type Target = Vec<String>;
    fn deref(&self) -> &Vec<String> {
        &self.warnings
    }
}

impl DerefMut for Compiling {
    fn deref_mut(&mut self) -> &mut Vec<String> {
        &mut self.warnings
    }
}

/// `v` with every array and object holding exactly its elements (a parser grows them by
/// doubling), down to [`MAX_JSON_DEPTH`] levels.
pub(crate) fn compact(v: Value, depth: usize) -> Value {
    if depth >= MAX_JSON_DEPTH {
        return v;
    }
    match v {
        Value::Array(a) => {
            let mut out: Vec<Value> = a.into_iter().map(|x| compact(x, depth + 1)).collect();
            out.shrink_to_fit();
            Value::Array(out)
        }
        Value::Object(m) => {
            let mut out = Map::with_capacity(m.len());
            for (k, x) in m {
                out.insert(k, compact(x, depth + 1));
            }
            Value::Object(out)
        }
        other => other,
    }
}
