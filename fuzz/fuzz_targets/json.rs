//! gb-core's JSON reader against serde_json: any text nested less than the depth limit reads
//! to the same value (key order included) or fails in both; deeper text never fails for its
//! depth alone and reads to a value that serializes and reads back the same.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::Value;

/// Deepest bracket nesting outside strings.
fn nesting(text: &str) -> usize {
    let (mut depth, mut max, mut in_str, mut escaped) = (0usize, 0usize, false, false);
    for c in text.bytes() {
        if in_str {
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_str = false,
                _ => {}
            }
            continue;
        }
        match c {
            b'"' => in_str = true,
            b'[' | b'{' => {
                depth += 1;
                max = max.max(depth);
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    max
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let ours = gb_core::json::parse(text);
    if nesting(text) < gb_core::limits::MAX_JSON_DEPTH {
        match (&ours, serde_json::from_str::<Value>(text)) {
            (Ok(a), Ok(b)) => {
                assert_eq!(a, &b);
                assert_eq!(
                    serde_json::to_string(a).unwrap(),
                    serde_json::to_string(&b).unwrap()
                );
            }
            (Err(_), Err(_)) => {}
            (a, b) => panic!("ours {a:?}, serde_json {b:?}"),
        }
    } else if let Ok(v) = &ours {
        let again = serde_json::to_string(v).unwrap();
        assert_eq!(gb_core::json::parse(&again).as_ref(), Ok(v));
    }
});
