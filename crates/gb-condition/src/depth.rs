//! How deeply a JSON value nests, measured without recursion.
//!
//! Values built in code (not parsed from text, which serde_json and the payload loader cut
//! off) can nest arbitrarily deep; anything that recurses over them must check first.

use alloc::vec::Vec;

use serde_json::Value;

/// How deeply conditions may nest (logic operators, `$not`, `$elemMatch`, ...).
pub const MAX_DEPTH: usize = 64;

/// How many condition groups may reference each other in a chain.
pub(crate) const MAX_GROUP_CHAIN: usize = 32;

/// Whether `v` nests more than `max` containers deep (`1` and `"a"` nest 0 deep, `[]` and
/// `{"a": 1}` 1 deep). Iterative: safe on values nested millions deep, and it stops looking
/// as soon as the answer is known.
pub fn nests_deeper_than(v: &Value, max: usize) -> bool {
    let mut stack: Vec<(&Value, usize)> = Vec::new();
    let mut cur = Some((v, 0usize));
    while let Some((v, d)) = cur.take().or_else(|| stack.pop()) {
        let children: &mut dyn Iterator<Item = &Value> = match v {
            Value::Array(a) => &mut a.iter(),
            Value::Object(m) => &mut m.values(),
            _ => continue,
        };
        if d + 1 > max {
            return true;
        }
        for c in children {
            if matches!(c, Value::Array(_) | Value::Object(_)) {
                stack.push((c, d + 1));
            }
        }
    }
    false
}

/// The key of the marker the payload loader puts where it cut a container nested too deeply
/// (`{"$gbTooDeep": 1}`).
pub(crate) const CUT_MARKER: &str = "$gbTooDeep";

/// Whether a cut marker is anywhere in `v`: a condition holding one is disabled (the cut
/// part could otherwise turn, say, `$and: [...]` into a loose `$and: {}` that passes).
/// Iterative, linear in `v`.
pub(crate) fn holds_cut_marker(v: &Value) -> bool {
    let mut stack: Vec<&Value> = Vec::from([v]);
    while let Some(v) = stack.pop() {
        match v {
            Value::Array(a) => stack.extend(a.iter().filter(|c| is_container(c))),
            Value::Object(m) => {
                if m.contains_key(CUT_MARKER) {
                    return true;
                }
                stack.extend(m.values().filter(|c| is_container(c)));
            }
            _ => {}
        }
    }
    false
}

fn is_container(v: &Value) -> bool {
    matches!(v, Value::Array(_) | Value::Object(_))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn counts_containers() {
        assert!(!nests_deeper_than(&json!(1), 0));
        assert!(nests_deeper_than(&json!([]), 0));
        assert!(!nests_deeper_than(&json!([]), 1));
        assert!(!nests_deeper_than(&json!({"a": [1, {"b": 2}]}), 3));
        assert!(nests_deeper_than(&json!({"a": [1, {"b": {}}]}), 3));
        assert!(!nests_deeper_than(&json!([[], [[]], 1]), 3));
    }

    #[test]
    fn finds_a_cut_marker_anywhere() {
        assert!(holds_cut_marker(&json!({"$and": {"$gbTooDeep": 1}})));
        assert!(holds_cut_marker(
            &json!({"a": {"$in": [[{"$gbTooDeep": 1}]]}})
        ));
        assert!(!holds_cut_marker(
            &json!({"a": "$gbTooDeep", "b": [1, {"c": 2}]})
        ));
    }
}
