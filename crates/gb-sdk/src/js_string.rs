//! JavaScript's `String(value)` for the values the SDK turns into keys (hash values in
//! tracking deduplication keys, ids in ingestor events): one conversion, gb-condition's.

use alloc::borrow::Cow;
use alloc::string::String;

use gb_core::gb_condition::write_js_string;
use serde_json::Value;

/// `String(value)` as the JS SDK computes it: strings as they are, `1.0` as `"1"`, `1e21` as
/// `"1e+21"`, arrays joined with commas. Borrows for strings.
pub(crate) fn js_string(v: &Value) -> Cow<'_, str> {
    match v {
        Value::String(s) => Cow::Borrowed(s),
        other => {
            let mut s = String::new();
            // Only arrays nested past gb-condition's depth limit fail; their text so far is
            // still a stable key.
            let _ = write_js_string(&mut s, other);
            Cow::Owned(s)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::js_string;
    use serde_json::json;

    #[test]
    fn numbers_print_as_javascript_does() {
        assert_eq!(js_string(&json!(1.0)), "1");
        assert_eq!(js_string(&json!(1)), "1");
        assert_eq!(js_string(&json!(0.5)), "0.5");
        assert_eq!(js_string(&json!(1e21)), "1e+21");
        assert_eq!(js_string(&json!("1.0")), "1.0");
        assert_eq!(js_string(&json!([1.0, "a"])), "1,a");
    }
}
