//! Comparing answers as a JavaScript consumer sees them: numbers by value (`1.0` is `1`,
//! `-0` is `0`), objects as maps (key order is not observable through property access).

use serde_json::Value;

/// Whether two JSON values are the same JavaScript value after `JSON.parse`.
pub(crate) fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same(p, q))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}

/// Whether the reference threw for this pair (JS throws where Rust fails closed; such
/// pairs are counted, not compared).
pub(crate) fn js_threw(js: &Value) -> bool {
    js.get("threw").is_some()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn numbers_compare_by_value_and_objects_by_key() {
        assert!(same(&json!(1.0), &json!(1)));
        assert!(same(&json!(-0.0), &json!(0)));
        assert!(same(&json!({"b": 1, "1": 2}), &json!({"1": 2, "b": 1})));
        assert!(!same(&json!([1, 2]), &json!([2, 1])));
        assert!(!same(&json!("1"), &json!(1)));
    }
}
