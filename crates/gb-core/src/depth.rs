//! Payloads built in code nest as deep as their builder likes; the loader cuts them at
//! [`MAX_JSON_DEPTH`], as it cuts payload text, without recursing over
//! the over-deep parts (copying, compiling or dropping them would overflow the stack).

use alloc::vec::Vec;

use serde_json::{Map, Value};

/// How deeply a payload's JSON may nest before the over-deep parts are cut off.
pub const MAX_JSON_DEPTH: usize = 100;

/// What replaces a container nested too deeply (a condition holding it is disabled).
pub(crate) fn too_deep_marker() -> Value {
    let mut m = Map::new();
    m.insert("$gbTooDeep".into(), Value::from(1));
    Value::Object(m)
}

/// A copy of `v` with every container deeper than `max` replaced by the marker. Recurses at
/// most `max` levels.
pub(crate) fn clone_cut(v: &Value, max: usize) -> Value {
    clone_at(v, max, 0)
}

/// A copy of a value of a loaded payload (already within [`MAX_JSON_DEPTH`], so nothing is
/// cut): the loader's one way to copy JSON, so a size-first build links no derived `Clone`
/// of `Value` and its map as well.
pub(crate) fn copy(v: &Value) -> Value {
    clone_at(v, MAX_JSON_DEPTH, 0)
}

fn clone_at(v: &Value, max: usize, depth: usize) -> Value {
    match v {
        Value::Array(_) | Value::Object(_) if depth >= max => too_deep_marker(),
        Value::Array(a) => Value::Array(a.iter().map(|e| clone_at(e, max, depth + 1)).collect()),
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, e)| (k.clone(), clone_at(e, max, depth + 1)))
                .collect(),
        ),
        Value::Null => Value::Null,
        Value::Bool(b) => Value::Bool(*b),
        Value::Number(n) => Value::Number(n.clone()),
        Value::String(s) => Value::String(s.clone()),
    }
}

/// Replaces, in place, every container deeper than `max` with the marker; the parts cut off
/// are dropped without recursion. Does nothing (one cheap check) when `v` is shallow enough.
pub(crate) fn cut_in_place(v: &mut Value, max: usize) {
    if !gb_condition::nests_deeper_than(v, max) {
        return;
    }
    let mut cut = Vec::new();
    let mut stack: Vec<(&mut Value, usize)> = Vec::new();
    stack.push((v, 0));
    while let Some((v, depth)) = stack.pop() {
        let is_container = matches!(v, Value::Array(_) | Value::Object(_));
        if is_container && depth >= max {
            cut.push(core::mem::replace(v, too_deep_marker()));
            continue;
        }
        match v {
            Value::Array(a) => stack.extend(a.iter_mut().map(|e| (e, depth + 1))),
            Value::Object(m) => stack.extend(m.values_mut().map(|e| (e, depth + 1))),
            _ => {}
        }
    }
    for c in cut {
        drop_flat(c);
    }
}

/// Drops a value of any depth without recursion.
pub(crate) fn drop_flat(v: Value) {
    let mut stack = Vec::new();
    stack.push(v);
    while let Some(v) = stack.pop() {
        match v {
            Value::Array(a) => stack.extend(a),
            Value::Object(m) => stack.extend(m.into_iter().map(|(_, e)| e)),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn nested(depth: usize) -> Value {
        let mut v = json!(1);
        for _ in 0..depth {
            let mut m = Map::new();
            m.insert("a".into(), v);
            v = Value::Object(m);
        }
        v
    }

    #[test]
    fn cuts_copies_and_drops_deep_values_without_recursion() {
        let deep = nested(200_000);
        let copy = clone_cut(&deep, 3);
        assert_eq!(copy, json!({"a": {"a": {"a": {"$gbTooDeep": 1}}}}));
        let mut cut = deep;
        cut_in_place(&mut cut, 3);
        assert_eq!(cut, copy);
        let mut shallow = json!({"a": [1, 2]});
        cut_in_place(&mut shallow, 3);
        assert_eq!(shallow, json!({"a": [1, 2]}));
        drop_flat(nested(200_000));
    }
}
