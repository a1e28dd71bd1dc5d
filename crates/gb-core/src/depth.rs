//! Payloads built in code nest as deep as their builder likes; the loader cuts them at
//! [`MAX_JSON_DEPTH`], as it cuts payload text, without recursing over
//! the over-deep parts (copying, compiling or dropping them would overflow the stack).

use alloc::string::String;
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

fn clone_at(v: &Value, max: usize, depth: usize) -> Value {
    match v {
        Value::Array(_) | Value::Object(_) if depth >= max => too_deep_marker(),
        Value::Array(a) => Value::Array(a.iter().map(|e| clone_at(e, max, depth + 1)).collect()),
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, e)| (k.clone(), clone_at(e, max, depth + 1)))
                .collect(),
        ),
        other => other.clone(),
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

/// Whether serde_json failed on `text` with `e` because the text nests deeper than its
/// recursion limit (128), told from the error's position rather than its message: serde_json
/// stops on the opening bracket of the 128th nested container, where a value is expected, and
/// every other syntax error stands at a shallower depth or where no value is expected.
pub(crate) fn over_serde_depth(text: &str, e: &serde_json::Error) -> bool {
    const SERDE_LIMIT: usize = 128;
    if !e.is_syntax() {
        return false;
    }
    let b = text.as_bytes();
    // serde_json's position: 1-based line, column counted in bytes, past the peeked byte.
    let line_start = match e.line() {
        0 | 1 => Some(0),
        l => b
            .iter()
            .enumerate()
            .filter(|&(_, &c)| c == b'\n')
            .nth(l - 2)
            .map(|(i, _)| i + 1),
    };
    let Some(end) = line_start.and_then(|s| s.checked_add(e.column())) else {
        return false;
    };
    if end == 0 || end > b.len() || !matches!(b[end - 1], b'[' | b'{') {
        return false;
    }
    // The prefix before that bracket is valid JSON: count the containers it leaves open and
    // whether the bracket stands where a value goes.
    let mut open: Vec<u8> = Vec::new();
    let mut last = 0u8;
    let mut in_str = false;
    let mut i = 0;
    while i < end - 1 {
        let c = b[i];
        i += 1;
        if in_str {
            match c {
                b'\\' => i += 1,
                b'"' => {
                    in_str = false;
                    last = c;
                }
                _ => {}
            }
            continue;
        }
        match c {
            b'"' => in_str = true,
            b'[' | b'{' => open.push(c),
            b']' | b'}' => {
                open.pop();
            }
            b' ' | b'\t' | b'\n' | b'\r' => continue,
            _ => {}
        }
        last = c;
    }
    let value_expected = match last {
        b'[' | b':' => true,
        b',' => open.last() == Some(&b'['),
        _ => false,
    };
    open.len() + 1 == SERDE_LIMIT && value_expected
}

/// Replaces every JSON container nested deeper than `max` with `{"$gbTooDeep":1}`, without
/// recursion, so that a hostile payload can still load with the deep part disabled.
pub(crate) fn cut_deep_json(text: &str, max: usize) -> String {
    let b = text.as_bytes();
    let mut out = String::with_capacity(text.len().min(1 << 20));
    let mut depth = 0usize;
    let mut i = 0;
    let mut last = 0;
    let mut in_str = false;
    while i < b.len() {
        let c = b[i];
        if in_str {
            if c == b'\\' {
                i += 2;
                continue;
            }
            if c == b'"' {
                in_str = false;
            }
            i += 1;
            continue;
        }
        match c {
            b'"' => in_str = true,
            b'{' | b'[' => {
                depth += 1;
                if depth > max {
                    // Skip this whole container.
                    out.push_str(&text[last..i]);
                    out.push_str("{\"$gbTooDeep\":1}");
                    let mut d = 0usize;
                    let mut s = false;
                    while i < b.len() {
                        let c2 = b[i];
                        if s {
                            if c2 == b'\\' {
                                i += 1;
                            } else if c2 == b'"' {
                                s = false;
                            }
                        } else if c2 == b'"' {
                            s = true;
                        } else if c2 == b'{' || c2 == b'[' {
                            d += 1;
                        } else if c2 == b'}' || c2 == b']' {
                            d -= 1;
                            if d == 0 {
                                break;
                            }
                        }
                        i += 1;
                    }
                    i += 1;
                    last = i.min(b.len());
                    depth -= 1;
                    continue;
                }
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    if last < b.len() {
        out.push_str(&text[last..]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The typed check agrees with serde_json's own message on every shape of error near its
    /// recursion limit (containers opened where a value, a key or a separator is expected,
    /// brackets inside strings, several lines).
    #[test]
    fn over_serde_depth_agrees_with_serde_json() {
        use alloc::format;
        use alloc::string::ToString;
        let deep = |n: usize, open: &str| open.repeat(n);
        let mut texts = Vec::new();
        for n in [1, 100, 126, 127, 128, 129, 200] {
            texts.push(deep(n, "["));
            texts.push(format!("{}]", deep(n, "[")));
            texts.push(deep(n, "{\"a\":"));
            texts.push(format!("{}{{\"a\":1}}", deep(n, "[")));
            texts.push(deep(n, "[1,"));
            texts.push(deep(n, "{\"a\":1,\"b\":"));
            texts.push(deep(n, "[\n  \"[[{\\\"\",\n"));
            texts.push(format!("{}{{[", deep(n, "[")));
            texts.push(format!("{}{{\"k\"[", deep(n, "[")));
            texts.push(format!("{}1[", deep(n, "[")));
            texts.push(format!("{}{{\"a\":1,[", deep(n, "[")));
            texts.push(format!("{}{{}}[", deep(n, "[")));
            texts.push(format!("[]{}", deep(n, "[")));
            texts.push(format!("{}x", deep(n, "[")));
        }
        let mut limits = 0;
        for t in &texts {
            let Err(e) = serde_json::from_str::<Value>(t) else {
                continue;
            };
            let by_message = e.to_string().contains("recursion limit");
            limits += usize::from(by_message);
            assert_eq!(over_serde_depth(t, &e), by_message, "{t:?}: {e}");
        }
        assert!(limits >= 20, "{limits}");
    }

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
