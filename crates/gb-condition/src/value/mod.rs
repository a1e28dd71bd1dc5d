//! JavaScript value semantics over `serde_json` values: `ToString`, `ToNumber`, truthiness,
//! strict equality and relational comparison, exactly as the reference SDK's `mongrule.ts`
//! relies on them. Their text (`String(value)`, `JSON.stringify`) is in [`text`].

use alloc::string::String;
use core::cmp::Ordering;

use serde_json::{Map, Value};

use crate::decimal;

mod text;

pub(crate) use text::{StackStr, array_index_key, js_json_eq, with_js_string};
pub use text::{
    write_js_json, write_js_number, write_js_string, write_serde_json, write_serde_json_object,
};

/// A borrowed view of an attribute value as JavaScript sees it.
///
/// A missing attribute is `Null` (the reference `getPath` returns `null`), and the `length`
/// of an array is a number that does not exist in the JSON.
#[derive(Clone, Copy, Debug)]
pub(crate) enum V<'a> {
    Null,
    Bool(bool),
    Num(f64),
    Str(&'a str),
    Arr(&'a [Value]),
    Obj(&'a Map<String, Value>),
}

/// JavaScript truthiness of a JSON value (`!!value`: `[]` and `{}` are truthy; `0`, `""` and
/// `null` are not). The one implementation every crate of the workspace uses.
#[inline]
pub fn is_truthy(v: &Value) -> bool {
    V::of(v).truthy()
}

impl<'a> V<'a> {
    pub(crate) fn of(v: &'a Value) -> V<'a> {
        match v {
            Value::Null => V::Null,
            Value::Bool(b) => V::Bool(*b),
            Value::Number(n) => V::Num(n.as_f64().unwrap_or(f64::NAN)),
            Value::String(s) => V::Str(s),
            Value::Array(a) => V::Arr(a),
            Value::Object(o) => V::Obj(o),
        }
    }

    /// JavaScript truthiness (`!!value`).
    pub(crate) fn truthy(self) -> bool {
        match self {
            V::Null => false,
            V::Bool(b) => b,
            V::Num(n) => n != 0.0 && !n.is_nan(),
            V::Str(s) => !s.is_empty(),
            V::Arr(_) | V::Obj(_) => true,
        }
    }

    /// `ToNumber(ToPrimitive(value))`, i.e. `value * 1`.
    pub(crate) fn to_number(self) -> f64 {
        match self {
            V::Null => 0.0,
            V::Bool(b) => f64::from(u8::from(b)),
            V::Num(n) => n,
            V::Str(s) => string_to_number(s),
            V::Arr(a) => match a {
                [] => 0.0,
                [one] => V::of(one).array_element_number(),
                _ => f64::NAN,
            },
            V::Obj(_) => f64::NAN,
        }
    }

    /// `ToNumber` of a one-element array: `[x] * 1` is `String(x) * 1`.
    fn array_element_number(self) -> f64 {
        match self {
            V::Null => 0.0,
            V::Str(s) => string_to_number(s),
            V::Num(n) => n,
            _ => with_js_string(self, string_to_number),
        }
    }

    /// The JavaScript `typeof`-like name used by `$type`.
    pub(crate) fn type_name(self) -> &'static str {
        match self {
            V::Null => "null",
            V::Bool(_) => "boolean",
            V::Num(_) => "number",
            V::Str(_) => "string",
            V::Arr(_) => "array",
            V::Obj(_) => "object",
        }
    }
}

/// Looks `key` up in an attribute map. Small maps (the usual attribute set) are scanned
/// linearly, which beats hashing the key with the map's hasher.
#[inline]
pub fn attr_get<'a>(m: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    if m.len() <= 16 {
        m.iter()
            .find(|(k, _)| k.len() == key.len() && k.as_str() == key)
            .map(|(_, v)| v)
    } else {
        m.get(key)
    }
}

/// A primitive condition operand, prepared at compile time.
#[derive(Clone, Debug)]
pub(crate) enum Prim {
    Null,
    Bool(bool),
    Num(f64),
    Str(String),
    /// An array or object: never `===` to anything, and compared relationally through its
    /// `ToPrimitive` string.
    Composite(String),
}

impl Prim {
    pub(crate) fn of(v: &Value) -> Prim {
        match v {
            Value::Null => Prim::Null,
            Value::Bool(b) => Prim::Bool(*b),
            Value::Number(n) => Prim::Num(n.as_f64().unwrap_or(f64::NAN)),
            Value::String(s) => Prim::Str(s.clone()),
            other => Prim::Composite(with_js_string(V::of(other), |s| String::from(s))),
        }
    }

    /// Strict equality `actual === self` (composites are never equal: reference identity).
    pub(crate) fn strict_eq(&self, actual: V<'_>) -> bool {
        match (self, actual) {
            (Prim::Null, V::Null) => true,
            (Prim::Bool(a), V::Bool(b)) => *a == b,
            (Prim::Num(a), V::Num(b)) => *a == b,
            (Prim::Str(a), V::Str(b)) => a == b,
            _ => false,
        }
    }

    /// JavaScript relational comparison `actual <op> self`; `None` means "undefined"
    /// (a NaN was involved), which makes every relational operator false.
    pub(crate) fn compare_from(&self, actual: V<'_>) -> Option<Ordering> {
        // Both strings (after ToPrimitive): UTF-16 code unit order.
        let rhs_str = match self {
            Prim::Str(s) | Prim::Composite(s) => Some(s.as_str()),
            _ => None,
        };
        if let Some(r) = rhs_str {
            match actual {
                V::Str(l) => return Some(utf16_cmp(l, r)),
                V::Arr(_) | V::Obj(_) => {
                    return with_js_string(actual, |l| Some(utf16_cmp(l, r)));
                }
                _ => {}
            }
        }
        let r = match self {
            Prim::Null => 0.0,
            Prim::Bool(b) => f64::from(u8::from(*b)),
            Prim::Num(n) => *n,
            Prim::Str(s) | Prim::Composite(s) => string_to_number(s),
        };
        let l = match actual {
            V::Arr(_) | V::Obj(_) => with_js_string(actual, string_to_number),
            other => other.to_number(),
        };
        l.partial_cmp(&r)
    }
}

/// Compares two strings by UTF-16 code units, as JavaScript's `<` does.
pub(crate) fn utf16_cmp(a: &str, b: &str) -> Ordering {
    if a.is_ascii() && b.is_ascii() {
        return a.as_bytes().cmp(b.as_bytes());
    }
    a.encode_utf16().cmp(b.encode_utf16())
}

/// JavaScript `StringToNumber`: whitespace-trimmed decimal, hex/octal/binary literals,
/// `Infinity`; anything else is NaN and the empty string is 0.
pub(crate) fn string_to_number(s: &str) -> f64 {
    let t = s.trim_matches(is_js_whitespace);
    if t.is_empty() {
        return 0.0;
    }
    let b = t.as_bytes();
    if b.len() > 2 && b[0] == b'0' {
        let radix = match b[1] {
            b'x' | b'X' => 16,
            b'o' | b'O' => 8,
            b'b' | b'B' => 2,
            _ => 0,
        };
        if radix != 0 {
            let mut acc = 0.0f64;
            for &c in &b[2..] {
                match (c as char).to_digit(radix) {
                    Some(d) => acc = acc * f64::from(radix) + f64::from(d),
                    None => return f64::NAN,
                }
            }
            return acc;
        }
    }
    let (sign, body) = match b[0] {
        b'+' => (1.0, &t[1..]),
        b'-' => (-1.0, &t[1..]),
        _ => (1.0, t),
    };
    if body == "Infinity" {
        return sign * f64::INFINITY;
    }
    // The StrUnsignedDecimalLiteral grammar: `decimal::parse`'s, less the sign taken above
    // ("--5" is NaN). Past f64::MAX it is an infinity, as in JS.
    if body.starts_with('-') {
        return f64::NAN;
    }
    sign * decimal::parse(body).unwrap_or(f64::NAN)
}

/// JavaScript's `StrWhiteSpaceChar` (WhiteSpace and LineTerminator): what `Number(s)`,
/// `parseInt(s)` and `String.prototype.trim` skip.
pub fn is_js_whitespace(c: char) -> bool {
    matches!(
        c,
        '\u{9}' | '\u{a}' | '\u{b}' | '\u{c}' | '\u{d}' | ' ' | '\u{a0}' | '\u{1680}' | '\u{2000}'
            ..='\u{200a}'
                | '\u{2028}'
                | '\u{2029}'
                | '\u{202f}'
                | '\u{205f}'
                | '\u{3000}'
                | '\u{feff}'
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::format;
    use alloc::string::ToString;
    use alloc::vec::Vec;

    fn js(x: f64) -> String {
        let mut s = String::new();
        write_js_number(&mut s, x).expect("format");
        s
    }

    #[test]
    fn numbers_format_like_javascript() {
        assert_eq!(js(123.0), "123");
        assert_eq!(js(-0.0), "0");
        assert_eq!(js(0.1), "0.1");
        assert_eq!(js(1.5), "1.5");
        assert_eq!(js(1e21), "1e+21");
        assert_eq!(js(1e20), "100000000000000000000");
        assert_eq!(js(1.5e-7), "1.5e-7");
        assert_eq!(js(0.000001), "0.000001");
        assert_eq!(js(-2.5), "-2.5");
        assert_eq!(js(123456789012345680000.0), "123456789012345680000");
        assert_eq!(js(f64::NAN), "NaN");
        assert_eq!(js(f64::INFINITY), "Infinity");
    }

    /// The digits and exponent read from zmij are core's shortest round-trip `{:e}` digits
    /// (the formatter this used before) for doubles across the whole range, except on exact
    /// ties between two shortest candidates, where JS picks the even one and core rounds half
    /// up (`String(1690060720831323.25)` is `"1690060720831323.2"` in Node).
    #[test]
    fn number_digits_match_core_shortest() {
        use core::fmt::Write;
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        let mut checked = 0;
        for i in 0..200_000u32 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            // Random bit patterns, and short decimals (where ties between digits matter).
            let x = if i % 2 == 0 {
                f64::from_bits(state)
            } else {
                (state % 1_000_000) as f64 / 10f64.powi((state >> 40) as i32 % 12)
            };
            if !x.is_finite() || x == 0.0 {
                continue;
            }
            let mut sci = String::new();
            write!(sci, "{:e}", x.abs()).expect("format");
            let (mant, exp) = sci.split_once('e').expect("exponent");
            let want: String = mant.chars().filter(char::is_ascii_digit).collect();
            let mut buf = zmij::Buffer::new();
            let (got, e) = text::digits_and_exponent(buf.format_finite(x.abs()));
            let exp: i32 = exp.parse().expect("exp");
            if got.as_str() != want {
                let (g, w) = (got.as_str().as_bytes(), want.as_bytes());
                let tie = g.len() == w.len()
                    && g[..g.len() - 1] == w[..w.len() - 1]
                    && g[g.len() - 1] + 1 == w[w.len() - 1]
                    && g[g.len() - 1] % 2 == 0;
                assert!(tie, "{x:e}: {} vs {want}", got.as_str());
            }
            assert_eq!(e, exp, "{x:e}");
            checked += 1;
        }
        assert!(checked > 150_000);
        assert_eq!(js(5e-324), "5e-324");
        assert_eq!(js(1.7976931348623157e308), "1.7976931348623157e+308");
        assert_eq!(js(0.1 + 0.2), "0.30000000000000004");
        assert_eq!(js(1e-7), "1e-7");
        assert_eq!(js(123.456e-10), "1.23456e-8");
        assert_eq!(js(1.5e300), "1.5e+300");
        // 1690060720831323.25 exactly, half-way between ...323.2 and ...323.3.
        assert_eq!(
            js(f64::from_bits(0x4318_0467_b3a7_ed6d)),
            "1690060720831323.2"
        );
    }

    #[test]
    fn strings_convert_to_numbers_like_javascript() {
        assert_eq!(string_to_number(" 12 "), 12.0);
        assert_eq!(string_to_number(""), 0.0);
        assert_eq!(string_to_number("0x10"), 16.0);
        assert_eq!(string_to_number("1e3"), 1000.0);
        assert_eq!(string_to_number(".5"), 0.5);
        assert_eq!(string_to_number("-Infinity"), f64::NEG_INFINITY);
        assert!(string_to_number("12abc").is_nan());
        assert!(string_to_number("inf").is_nan());
        assert!(string_to_number("-0x10").is_nan());
    }

    /// Every JS decimal literal reads as core's correctly rounded `parse::<f64>` reads it
    /// (JS `Number(s)`), whatever its spelling; a second sign is NaN.
    #[test]
    fn decimal_literals_parse_like_core() {
        let fixed = [
            "0",
            "00",
            "007",
            "0.5",
            ".5",
            "00.5",
            "5.",
            "5.e3",
            ".5e-3",
            "1e400",
            "1e-400",
            "2.4703282292062328e-324",
            "2.4703282292062327e-324",
            "1.7976931348623158e308",
            "1.7976931348623159e308",
            "9007199254740993",
            "18446744073709551616",
            "123456789012345678901234567890",
            "0.000000000000000000000000000000000001e36",
            "4.9406564584124654e-324",
            "1E5",
            "1e+5",
            "000000000000000000000000000001.5",
        ];
        let mut cases: Vec<String> = fixed.iter().map(|s| s.to_string()).collect();
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for _ in 0..20_000 {
            let r = next();
            let mut s = String::new();
            for _ in 0..(r % 4) {
                s.push('0');
            }
            for _ in 0..((r >> 8) % 20) {
                s.push(char::from(b'0' + (next() % 10) as u8));
            }
            if r >> 16 & 1 == 1 {
                s.push('.');
                for _ in 0..((r >> 20) % 25) {
                    s.push(char::from(b'0' + (next() % 10) as u8));
                }
            }
            if r >> 17 & 1 == 1 {
                s.push('e');
                s.push_str(["", "+", "-"][(r >> 30) as usize % 3]);
                s.push_str(&((r >> 40) % 340).to_string());
            }
            cases.push(s);
        }
        // Long literals take the heap path.
        cases.push(format!(".{}1e200", "0".repeat(300)));
        cases.push(format!("{}.", "9".repeat(400)));
        for s in [
            "--5", "+-5", "-+5", "-", "+", ".", "e5", "5e", "1.2.3", "0x", "-0x1",
        ] {
            assert!(string_to_number(s).is_nan(), "{s}");
        }
        for s in cases.iter().filter(|s| !s.is_empty()) {
            let got = string_to_number(s);
            match s.parse::<f64>() {
                Ok(want) => assert_eq!(got.to_bits(), want.to_bits(), "{s}"),
                Err(_) => assert!(got.is_nan(), "{s}"),
            }
        }
    }

    #[test]
    fn utf16_order_differs_from_utf8_for_astral_chars() {
        // U+FF61 (one unit 0xFF61) sorts after U+1F600 (surrogates 0xD83D...) in UTF-16.
        assert_eq!(utf16_cmp("\u{ff61}", "\u{1f600}"), Ordering::Greater);
        assert_eq!("\u{ff61}".cmp("\u{1f600}"), Ordering::Less);
        assert_eq!("a".to_string().as_str().cmp("b"), Ordering::Less);
    }
}
