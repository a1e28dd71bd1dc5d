//! gb-core's JSON reader (`gb_core::json`) against serde_json, which it replaces in the
//! loader: the same value (key order included) or an error for the same texts, and the
//! loader's depth cut instead of serde_json's recursion limit.

#![allow(clippy::unwrap_used, clippy::panic, reason = "test")]

use gb_core::json::{self, JsonErrorKind};
use serde_json::Value;

/// Both accept `text` with the same value, in the same key order, or both refuse it.
fn agree(text: &str) {
    let ours = json::parse(text);
    let theirs = serde_json::from_str::<Value>(text);
    match (&ours, &theirs) {
        (Ok(a), Ok(b)) => {
            assert_eq!(a, b, "{text:?}");
            assert_eq!(
                serde_json::to_string(a).unwrap(),
                serde_json::to_string(b).unwrap(),
                "key order of {text:?}"
            );
        }
        (Err(_), Err(_)) => {}
        _ => panic!("{text:?}: ours {ours:?}, serde_json {theirs:?}"),
    }
}

#[test]
fn reads_what_serde_json_reads_and_refuses_what_it_refuses() {
    let texts = [
        "",
        " ",
        "null",
        "true",
        "false",
        "nul",
        "tru",
        "falsey",
        "nullx",
        "0",
        "-0",
        "-0.0",
        "01",
        "-01",
        "1.",
        ".5",
        "1.5",
        "1e5",
        "1E+5",
        "1e-5",
        "1e",
        "1e+",
        "-",
        "+1",
        "00",
        "0.0e0",
        "123456789012345678901234567890",
        "-9223372036854775808",
        "-9223372036854775809",
        "18446744073709551615",
        "18446744073709551616",
        "1e308",
        "1e309",
        "-1e309",
        "2.2250738585072011e-308",
        "4.9e-324",
        "1e-400",
        "0.1000000000000000055511151231257827021181583404541015625",
        "\"\"",
        "\"a\"",
        "\"a",
        "\"\\\"\"",
        "\"\\\\\"",
        "\"\\/\"",
        "\"\\b\\f\\n\\r\\t\"",
        "\"\\x\"",
        "\"\\u0041\"",
        "\"\\u00e9\\u4e2d\"",
        "\"\\ud83d\\ude00\"",
        "\"\\ud83d\"",
        "\"\\ude00\"",
        "\"\\ud83d\\u0041\"",
        "\"\\ud83dx\"",
        "\"\\u12\"",
        "\"\\u12g4\"",
        "\"tab\there\"",
        "\"nl\nhere\"",
        "\"é中😀\"",
        "\"\u{7f}\"",
        "[]",
        "[ ]",
        "[1]",
        "[1,]",
        "[,1]",
        "[1 2]",
        "[1,,2]",
        "[",
        "]",
        "[[]]",
        "[[],[{}]]",
        "{}",
        "{ }",
        "{\"a\":1}",
        "{\"a\" : 1 }",
        "{\"a\":1,}",
        "{,}",
        "{\"a\"}",
        "{\"a\":}",
        "{a:1}",
        "{1:1}",
        "{\"a\":1 \"b\":2}",
        "{\"a\":1,\"b\":2,\"a\":3}",
        "{\"b\":1,\"a\":2}",
        "{\"a\":{\"b\":[1,{\"c\":null}]}}",
        "{\"a\":1}}",
        "[1]]",
        "1 2",
        " 1 ",
        "\t\n\r 1\t\n\r ",
        "\u{a0}1",
        "1\u{a0}",
        "[1}",
        "{\"a\":1]",
        "{\"\\u0000\":1}",
        "\"\\u0000\"",
        "[1e5,-0,0.5,\"x\",true,null]",
    ];
    for t in texts {
        agree(t);
    }
}

/// A small deterministic generator of near-JSON: valid documents with one byte changed,
/// dropped or repeated, over an alphabet that reaches every branch of the grammar.
#[test]
fn agrees_with_serde_json_on_generated_near_json() {
    const PIECES: &[&str] = &[
        "{",
        "}",
        "[",
        "]",
        ",",
        ":",
        "\"k\"",
        "\"a\\n\"",
        "\"\\u00e9\"",
        "\"\\ud800\\udc00\"",
        "\"\\ud800\"",
        "1",
        "-0",
        "0.5",
        "1e3",
        "-2E-2",
        "1.",
        "true",
        "false",
        "null",
        " ",
        "\n",
        "\"",
        "\\",
        "x",
        "01",
    ];
    let mut next = xorshift(0x9e37_79b9_7f4a_7c15u64);
    let mut accepted = 0;
    for _ in 0..100_000 {
        let n = 1 + (next() % 12) as usize;
        let mut t = String::new();
        for _ in 0..n {
            t.push_str(PIECES[(next() % PIECES.len() as u64) as usize]);
        }
        agree(&t);
        accepted += usize::from(serde_json::from_str::<Value>(&t).is_ok());
    }
    // The generator reaches valid documents too, not only errors.
    assert!(accepted > 1_000, "{accepted}");
}

/// The example payload and users read as serde_json reads them (nothing in them is cut).
#[test]
fn agrees_on_the_workload_payload() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples");
    for name in ["payload.json", "users.json"] {
        let text = std::fs::read_to_string(root.join(name)).unwrap();
        agree(&text);
    }
}

fn nested_text(depth: usize, leaf: &str) -> String {
    let mut t = "{\"a\":".repeat(depth);
    t.push_str(leaf);
    t.push_str(&"}".repeat(depth));
    t
}

/// The value of `depth` nested objects around the container `leaf` (which stands at depth
/// `depth`), with every container at depth `max` or deeper cut.
fn nested_cut(depth: usize, max: usize, leaf: Value) -> Value {
    let mut v = if depth >= max {
        serde_json::json!({"$gbTooDeep": 1})
    } else {
        leaf
    };
    for _ in 0..depth.min(max) {
        v = serde_json::json!({ "a": v });
    }
    v
}

#[test]
fn cuts_containers_past_the_depth_limit_instead_of_failing() {
    let max = gb_core::limits::MAX_JSON_DEPTH;
    for depth in [1, max - 1, max, max + 1, 127, 128, 129, 100_000] {
        let text = nested_text(depth, "[1]");
        let v = json::parse(&text).unwrap_or_else(|e| panic!("{depth}: {e}"));
        assert_eq!(v, nested_cut(depth, max, serde_json::json!([1])), "{depth}");
        if depth < 100 {
            agree(&text);
        }
    }
}

#[test]
fn the_cut_part_must_still_be_json() {
    for bad in ["[1,]", "{\"a\"}", "[1 2]", "\"\\x\"", "[", "{\"a\":1"] {
        let text = nested_text(150, bad);
        assert!(json::parse(&text).is_err(), "{bad}");
    }
    // Brackets inside strings in the cut part are text, not nesting.
    let text = nested_text(150, "[\"]]}}\"]");
    assert!(json::parse(&text).is_ok());
}

#[test]
fn errors_say_what_and_where() {
    let e = json::parse("{\"a\": 1,\n  \"b\": tru }").unwrap_err();
    assert_eq!(e.kind(), JsonErrorKind::ExpectedValue);
    assert_eq!((e.line(), e.column()), (2, 11));
    assert_eq!(e.to_string(), "expected value at line 2 column 11");
    let cases = [
        ("", JsonErrorKind::Eof),
        ("[1,", JsonErrorKind::Eof),
        ("{\"a\" 1}", JsonErrorKind::ExpectedColon),
        ("[1 2]", JsonErrorKind::ExpectedCommaOrEnd),
        ("{\"a\":1,}", JsonErrorKind::KeyMustBeString),
        ("-x", JsonErrorKind::InvalidNumber),
        ("1e999", JsonErrorKind::NumberOutOfRange),
        ("\"\\q\"", JsonErrorKind::InvalidEscape),
        ("\"a\u{1}\"", JsonErrorKind::ControlCharacter),
        ("\"\\udc00\"", JsonErrorKind::LoneSurrogate),
        ("1 1", JsonErrorKind::TrailingCharacters),
    ];
    for (text, kind) in cases {
        assert_eq!(json::parse(text).unwrap_err().kind(), kind, "{text:?}");
    }
}

/// A payload whose text is not JSON fails to load with the reader's error, and loading the
/// text gives the snapshot loading serde_json's tree gives.
#[test]
fn the_loader_reports_the_readers_error() {
    let e = gb_core::FeatureSet::from_json_str("{\"features\": {\"a\": {]}}").unwrap_err();
    assert_eq!(
        e.json_error().map(|j| j.kind()),
        Some(JsonErrorKind::KeyMustBeString)
    );
    assert!(
        e.to_string()
            .starts_with("invalid GrowthBook payload: key must be a string")
    );
    let e = gb_core::FeatureSet::from_json_str("[1]").unwrap_err();
    assert_eq!(e.json_error(), None);
}

/// Numbers of every length and point position (the reader's own fast paths and serde_json's
/// parser behind them) read to the same value and the same text.
#[test]
fn numbers_agree_with_serde_json() {
    let mut next = xorshift(0x2545_f491_4f6c_dd1du64);
    for _ in 0..200_000 {
        let len = 1 + (next() % 22) as usize;
        let mut t = String::new();
        if next().is_multiple_of(2) {
            t.push('-');
        }
        let lead = (next() % 10) as u8;
        t.push(char::from(b'0' + lead));
        let point = if len > 1 && !next().is_multiple_of(3) {
            1 + (next() % (len as u64 - 1)) as usize
        } else {
            usize::MAX
        };
        for i in 1..len {
            if i == point {
                t.push('.');
            }
            // Leading zeros (only "0" alone) are not JSON; other digits often zero.
            let d = if lead == 0 && point == usize::MAX {
                0
            } else {
                next() % 10
            };
            t.push(char::from(b'0' + d as u8));
        }
        if next().is_multiple_of(4) {
            t.push_str(&format!("e{}", next() % 40));
        }
        agree(&t);
    }
}

/// The numbers at the edges of serde_json's integer and float readings: negative zeros,
/// integers just past `u64` / `i64`, the largest double and the first text past it, the
/// smallest subnormal, huge and tiny exponents, digits past the slow path's buffer.
#[test]
fn edge_numbers_agree_with_serde_json() {
    let long = [
        format!("0.{}", "1".repeat(800)),
        format!("9007199254740993{}", "0".repeat(790)),
        format!("9007199254740993.{}1", "0".repeat(900)),
        format!("1{}", "0".repeat(309)),
        format!("-1{}", "0".repeat(308)),
        format!("[1e{}]", "9".repeat(40)),
        format!("[-1e-{}]", "9".repeat(40)),
    ];
    let short = [
        "0",
        "-0",
        "-0.0",
        "-0e5",
        "-00",
        "0e999",
        "-0e-999",
        "00",
        "0.0e0",
        "1e-400",
        "-1e-400",
        "1e400",
        "-1e400",
        "18446744073709551615",
        "18446744073709551616",
        "-18446744073709551615",
        "-18446744073709551616",
        "9223372036854775807",
        "9223372036854775808",
        "-9223372036854775808",
        "-9223372036854775809",
        "1.7976931348623157e308",
        "1.7976931348623158e308",
        "1.7976931348623159e308",
        "-1.7976931348623159e308",
        "4.9406564584124654e-324",
        "2.4703282292062328e-324",
        "2.4703282292062327e-324",
        "2.2250738585072011e-308",
        "1e23",
        "9007199254740993",
        "0.30000000000000004",
        "123456789012345678901234567890",
        "1E+2",
        "1e-2",
        "5e-324",
    ];
    for t in long.iter().map(String::as_str).chain(short) {
        agree(t);
        agree(&format!("[{t}]"));
    }
}

/// A deterministic xorshift64 generator.
fn xorshift(mut seed: u64) -> impl FnMut() -> u64 {
    move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    }
}
