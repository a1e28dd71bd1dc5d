//! How deeply a JSON value nests, measured without recursion.
//!
//! Values built in code (not parsed from text, which serde_json and the payload loader cut
//! off) can nest arbitrarily deep; anything that recurses over them must check first.

use alloc::vec::Vec;

use serde_json::Value;

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
}
