//! What compiling one payload carries along: its warnings, and the conditions compiled so
//! far, so that a condition repeated across rules is compiled and stored once.

use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;

use gb_condition::Condition;
use hashbrown::HashMap;
use serde_json::{Map, Value};

/// How deeply a payload's JSON may nest before the over-deep parts are cut off.
pub const MAX_JSON_DEPTH: usize = 100;

/// The state of one payload's compilation.
#[derive(Default)]
pub(crate) struct Loader {
    /// Problems found so far, in the order found.
    pub(crate) warnings: Vec<String>,
    /// Condition JSON text → the compiled condition and the warnings compiling it gave.
    conditions: HashMap<String, (Arc<Condition>, Vec<String>)>,
    always: Option<Arc<Condition>>,
}

impl Loader {
    /// Records a warning.
    pub(crate) fn push(&mut self, warning: String) {
        self.warnings.push(warning);
    }

    /// Compiles a condition, or shares the one compiled from the same JSON text earlier in
    /// this payload (its warnings are reported again, once per use).
    pub(crate) fn condition(&mut self, v: &Value) -> Arc<Condition> {
        let Ok(text) = serde_json::to_string(v) else {
            return Arc::new(Condition::compile_with_warnings(v, &mut self.warnings));
        };
        if let Some((c, w)) = self.conditions.get(&text) {
            self.warnings.extend(w.iter().cloned());
            return c.clone();
        }
        let mut w = Vec::new();
        let c = Arc::new(Condition::compile_with_warnings(v, &mut w));
        self.warnings.extend(w.iter().cloned());
        self.conditions.insert(text, (c.clone(), w));
        c
    }

    /// The condition every attribute set passes, shared.
    pub(crate) fn always(&mut self) -> Arc<Condition> {
        self.always
            .get_or_insert_with(|| Arc::new(Condition::always()))
            .clone()
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
