//! `gb_condition::write_serde_json` writes `serde_json::to_string`'s text byte for byte (gb-core
//! keys its value and condition stores and keeps experiment definitions by that text), and
//! gb-core's JSON reader reads that text back as the same value.
#![allow(clippy::unwrap_used, reason = "test")]

use serde_json::{Map, Number, Value};

fn ours(v: &Value) -> String {
    let mut s = String::new();
    gb_condition::write_serde_json(&mut s, v).unwrap();
    s
}

/// The text is serde_json's, and reads back (through gb-core's reader) as the same value
/// with the same text (`-0.0` stays `-0.0`, `1.0` a float).
fn agree(v: &Value) {
    let text = ours(v);
    assert_eq!(text, serde_json::to_string(v).unwrap(), "{v:?}");
    if let Value::Object(m) = v {
        let mut o = String::new();
        gb_condition::write_serde_json_object(&mut o, m).unwrap();
        assert_eq!(o, text);
    }
    let back = gb_core::json::parse(&text).unwrap_or_else(|e| panic!("{text}: {e}"));
    assert_eq!(&back, v, "{text}");
    assert_eq!(ours(&back), text);
}

/// `v` and every value inside it.
fn agree_everywhere(v: &Value, count: &mut usize) {
    agree(v);
    *count += 1;
    match v {
        Value::Array(a) => a.iter().for_each(|e| agree_everywhere(e, count)),
        Value::Object(m) => m.values().for_each(|e| agree_everywhere(e, count)),
        _ => {}
    }
}

#[test]
fn example_payloads_and_spec_cases() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples");
    let mut count = 0;
    for name in ["payload.json", "users.json"] {
        let text = std::fs::read_to_string(root.join(name)).unwrap();
        agree_everywhere(&serde_json::from_str(&text).unwrap(), &mut count);
    }
    agree_everywhere(
        &spec_tests::load_cases().unwrap_or_else(|e| panic!("{e}")),
        &mut count,
    );
    assert!(count > 10_000, "{count}");
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

const SPECIAL_FLOATS: &[f64] = &[
    0.0,
    -0.0,
    1.0,
    -1.0,
    0.1,
    1e21,
    1e-7,
    1e15,
    1e16,
    1e17,
    123_456_789_012_345_680.0,
    5e-324,
    -5e-324,
    f64::MIN_POSITIVE,
    f64::MAX,
    f64::MIN,
    f64::EPSILON,
    9_007_199_254_740_993.0,
    18_446_744_073_709_551_615.0,
    -9_223_372_036_854_775_808.0,
    0.000_001,
    1.5e300,
];

const SPECIAL_INTS: &[i64] = &[0, 1, -1, i64::MIN, i64::MAX, 9_007_199_254_740_993];

fn number(next: &mut impl FnMut() -> u64) -> Value {
    let r = next();
    Value::Number(match r % 7 {
        0 => Number::from(u64::MAX - next() % 3),
        1 => Number::from(next() >> (next() % 64)),
        2 => Number::from(SPECIAL_INTS[(next() % SPECIAL_INTS.len() as u64) as usize]),
        3 => Number::from((next() | 1 << 63).cast_signed() >> (next() % 64)),
        4 => Number::from_f64(SPECIAL_FLOATS[(next() % SPECIAL_FLOATS.len() as u64) as usize])
            .unwrap(),
        5 => {
            // Any finite bit pattern.
            let f = f64::from_bits(next());
            Number::from_f64(if f.is_finite() { f } else { 0.5 }).unwrap()
        }
        _ => {
            // Short decimals and integers held as floats.
            let f = (next() % 2_000_001) as f64 / [1.0, 10.0, 100.0, 1e6][(r >> 8) as usize % 4];
            Number::from_f64(if r & 1 == 0 { f } else { -f }).unwrap()
        }
    })
}

const PIECES: &[&str] = &[
    "a", "key", " ", "\"", "\\", "/", "\\u0041", "é", "€", "😀", "\u{2028}", "\u{2029}", "\u{7f}",
    "\u{80}", "\u{feff}", "0", "10", "2", "-1", "$", "{", "]", ":", ",", "null",
];

fn string(next: &mut impl FnMut() -> u64) -> String {
    let mut s = String::new();
    for _ in 0..next() % 8 {
        let r = next();
        if r.is_multiple_of(3) {
            // Every control character, and the one after them.
            s.push(char::from((r >> 8) as u8 % 0x21));
        } else {
            s.push_str(PIECES[((r >> 8) % PIECES.len() as u64) as usize]);
        }
    }
    s
}

fn value(next: &mut impl FnMut() -> u64, depth: usize) -> Value {
    let kinds = if depth >= 4 { 5 } else { 7 };
    match next() % kinds {
        0 => Value::Null,
        1 => Value::Bool(next() & 1 == 0),
        2 | 3 => number(next),
        4 => Value::String(string(next)),
        5 => Value::Array((0..next() % 5).map(|_| value(next, depth + 1)).collect()),
        _ => {
            let mut m = Map::new();
            for _ in 0..next() % 5 {
                m.insert(string(next), value(next, depth + 1));
            }
            Value::Object(m)
        }
    }
}

#[test]
fn generated_values() {
    let mut next = xorshift(0x243f_6a88_85a3_08d3);
    let mut floats = 0;
    for _ in 0..120_000 {
        let v = value(&mut next, 0);
        floats += usize::from(v.as_f64().is_some() && v.is_f64());
        agree(&v);
    }
    assert!(floats > 5_000, "{floats}");
}

#[test]
fn every_special_number_and_character() {
    for &f in SPECIAL_FLOATS {
        agree(&Value::Number(Number::from_f64(f).unwrap()));
    }
    for &i in SPECIAL_INTS {
        agree(&Value::from(i));
    }
    agree(&Value::from(u64::MAX));
    let all: String = (0..0x80u8)
        .map(char::from)
        .chain(['\u{2028}', '😀'])
        .collect();
    agree(&Value::String(all.clone()));
    let mut m = Map::new();
    for k in ["b", "10", "a", "2", &all] {
        m.insert(k.into(), Value::from(1));
    }
    agree(&Value::Object(m));
}
