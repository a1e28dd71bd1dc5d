//! How many bytes a tracking event takes, measured without recursion: the tracking queue is
//! bounded in bytes, and attributes built in code may be huge or nested arbitrarily deep.

use alloc::vec::Vec;

use serde_json::{Map, Value};

/// Containers nested deeper than this make an event unsendable (serializing it would recurse
/// that deep).
pub(crate) const MAX_EVENT_DEPTH: usize = 128;

/// The approximate JSON size of `parts` together, or `None` once it passes `limit` bytes or
/// nests deeper than [`MAX_EVENT_DEPTH`]. Stops as soon as the answer is known: the cost is at
/// most proportional to `limit`.
pub(crate) fn event_bytes(
    parts: &[&Map<String, Value>],
    text: usize,
    limit: usize,
) -> Option<usize> {
    let mut total = text;
    let mut stack: Vec<(&Value, usize)> = Vec::new();
    for m in parts {
        total += 2;
        for (k, v) in *m {
            total += k.len() + 4;
            stack.push((v, 1));
        }
    }
    while let Some((v, depth)) = stack.pop() {
        if total > limit || depth > MAX_EVENT_DEPTH {
            return None;
        }
        total += match v {
            Value::Null | Value::Bool(_) => 5,
            Value::Number(_) => 8,
            Value::String(s) => s.len() + 2,
            Value::Array(a) => {
                stack.extend(a.iter().map(|e| (e, depth + 1)));
                2 + a.len()
            }
            Value::Object(m) => {
                for (k, e) in m {
                    total += k.len() + 4;
                    stack.push((e, depth + 1));
                }
                2
            }
        };
    }
    (total <= limit).then_some(total)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "test")]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn sizes_and_limits() {
        let a = json!({"id": "user-1", "tags": ["a", "b"], "n": 1});
        let m = a.as_object().unwrap();
        let n = event_bytes(&[m], 10, 1000).unwrap();
        let text = serde_json::to_string(&a).unwrap().len() + 10;
        assert!(n >= text && n < 2 * text, "{n} vs {text}");
        assert_eq!(event_bytes(&[m], 10, n - 1), None);
        let mut deep = json!(1);
        for _ in 0..200_000 {
            deep = Value::Array(alloc::vec![deep]);
        }
        let mut d = Map::new();
        d.insert("x".into(), deep);
        assert_eq!(event_bytes(&[&d], 0, usize::MAX), None);
        // Dropping a deep value recurses: take it apart first.
        let mut stack = alloc::vec![Value::Object(d)];
        while let Some(v) = stack.pop() {
            match v {
                Value::Array(a) => stack.extend(a),
                Value::Object(m) => stack.extend(m.into_iter().map(|(_, v)| v)),
                _ => {}
            }
        }
    }
}
