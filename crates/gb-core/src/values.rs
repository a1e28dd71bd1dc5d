//! The JSON values a compiled payload returns (feature defaults and forced values), stored
//! once each: `null`, `true` and `false` are not stored at all, and a value repeated across
//! features and rules (same JSON text) is kept once. Features and rules refer to them by a
//! 4-byte [`ValueId`] instead of a boxed 72-byte `serde_json::Value` each.

use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;

use serde_json::{Map, Value};

use crate::depth::MAX_JSON_DEPTH;
use gb_condition::str_index::StrIndex;

/// A value of [`Values`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ValueId(u32);

impl ValueId {
    pub(crate) const NULL: ValueId = ValueId(0);
    const TRUE: ValueId = ValueId(1);
    const FALSE: ValueId = ValueId(2);
    const FIRST_STORED: u32 = 3;
}

static NULL: Value = Value::Null;
static TRUE: Value = Value::Bool(true);
static FALSE: Value = Value::Bool(false);

/// The stored values of one compiled payload.
#[derive(Debug, Default)]
pub(crate) struct Values {
    list: Box<[Value]>,
}

impl Values {
    /// The value `id` stands for (`null` for an id of another payload).
    #[inline]
    pub(crate) fn get(&self, id: ValueId) -> &Value {
        match id {
            ValueId::NULL => &NULL,
            ValueId::TRUE => &TRUE,
            ValueId::FALSE => &FALSE,
            ValueId(n) => self
                .list
                .get((n - ValueId::FIRST_STORED) as usize)
                .unwrap_or(&NULL),
        }
    }
}

/// Collects the values while a payload compiles.
#[derive(Debug, Default)]
pub(crate) struct Interner {
    list: Vec<Value>,
    /// The JSON text of every value of `list`, one after the other, and where each ends.
    texts: String,
    ends: Vec<usize>,
    /// Positions in `list`, found by the hash of their text.
    seen: StrIndex,
}

impl Interner {
    /// Stores `v` (or finds it stored already: same JSON text).
    pub(crate) fn add(&mut self, v: Value) -> ValueId {
        match v {
            Value::Null => return ValueId::NULL,
            Value::Bool(true) => return ValueId::TRUE,
            Value::Bool(false) => return ValueId::FALSE,
            _ => {}
        }
        let Ok(i) = u32::try_from(self.list.len()) else {
            return ValueId::NULL;
        };
        if i >= u32::MAX - ValueId::FIRST_STORED {
            return ValueId::NULL;
        }
        let start = self.texts.len();
        // serde_json's text: values it tells apart (`1` and `1.0`, `0.0` and `-0.0`) stay apart.
        let _ = gb_condition::write_serde_json(&mut self.texts, &v);
        let (texts, ends) = (&self.texts, &self.ends);
        let text_of = |j: u32| {
            let j = j as usize;
            let from = if j == 0 { 0 } else { *ends.get(j - 1)? };
            texts.get(from..*ends.get(j)?)
        };
        if let Err(j) = self.seen.insert(&texts[start..], i, &text_of) {
            self.texts.truncate(start);
            return ValueId(j + ValueId::FIRST_STORED);
        }
        self.ends.push(self.texts.len());
        self.list.push(compact(v, 0));
        ValueId(i + ValueId::FIRST_STORED)
    }

    /// The values, exactly sized.
    pub(crate) fn finish(self) -> Values {
        Values {
            list: self.list.into_boxed_slice(),
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;
    use serde_json::json;

    #[test]
    fn equal_text_is_stored_once_and_nothing_else_is_merged() {
        let mut i = Interner::default();
        let vals = [
            json!(1),
            json!(1.0),
            json!(-0.0),
            json!(0.0),
            json!(u64::MAX),
            json!(u64::MAX as f64),
            json!(i64::MIN),
            json!(i64::MIN as f64),
            json!({"a": 1, "b": 2}),
            json!({"b": 2, "a": 1}),
            json!("x"),
            json!(["x"]),
        ];
        let ids: Vec<ValueId> = vals.iter().map(|v| i.add(v.clone())).collect();
        for (a, x) in ids.iter().enumerate() {
            for (b, y) in ids.iter().enumerate() {
                assert_eq!(a == b, x == y, "{} vs {}", vals[a], vals[b]);
            }
        }
        assert_eq!(i.add(json!({"a": 1, "b": 2})), ids[8]);
        assert_eq!(i.add(json!("x")), ids[10]);
        assert_eq!(i.add(json!(null)), ValueId::NULL);
        let values = i.finish();
        for (v, id) in vals.iter().zip(&ids) {
            assert_eq!(values.get(*id).to_string(), v.to_string());
        }
        assert_eq!(values.get(ValueId(99)), &Value::Null);
        assert_eq!(values.list.len(), vals.len());
    }
}
