//! JavaScript value semantics over `serde_json` values: `ToString`, `ToNumber`, truthiness,
//! strict equality and relational comparison, exactly as the reference SDK's `mongrule.ts`
//! relies on them.

use alloc::string::String;
use core::cmp::Ordering;
use core::fmt::{self, Write};

use serde_json::{Map, Value};

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
    if !is_decimal_literal(body.as_bytes()) {
        return f64::NAN;
    }
    match body.parse::<f64>() {
        Ok(v) => sign * v,
        Err(_) => f64::NAN,
    }
}

/// `digits [. digits] [e [+-] digits]` or `. digits [...]` (the StrUnsignedDecimalLiteral grammar).
fn is_decimal_literal(b: &[u8]) -> bool {
    let mut i = 0;
    let int_start = i;
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
    }
    let int_digits = i - int_start;
    let mut frac_digits = 0;
    if i < b.len() && b[i] == b'.' {
        i += 1;
        let s = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        frac_digits = i - s;
    }
    if int_digits + frac_digits == 0 {
        return false;
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        i += 1;
        if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
            i += 1;
        }
        let s = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == s {
            return false;
        }
    }
    i == b.len()
}

fn is_js_whitespace(c: char) -> bool {
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

/// A small stack buffer for formatting numbers without allocating.
pub(crate) struct StackStr {
    buf: [u8; 128],
    len: usize,
}

impl StackStr {
    pub(crate) fn new() -> Self {
        StackStr {
            buf: [0; 128],
            len: 0,
        }
    }

    pub(crate) fn as_str(&self) -> &str {
        // Only whole UTF-8 strings are ever written (see `write_str`).
        core::str::from_utf8(&self.buf[..self.len]).unwrap_or("")
    }
}

impl Write for StackStr {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let end = self.len + s.len();
        if end > self.buf.len() {
            return Err(fmt::Error);
        }
        self.buf[self.len..end].copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

/// Writes a number the way JavaScript's `Number.prototype.toString()` does
/// (`1e21`, `1.5e-7`, `123`, `0.1`, `-0` as `0`).
pub fn write_js_number<W: Write>(w: &mut W, x: f64) -> fmt::Result {
    if x.is_nan() {
        return w.write_str("NaN");
    }
    if x == 0.0 {
        return w.write_str("0");
    }
    if x.is_infinite() {
        return w.write_str(if x > 0.0 { "Infinity" } else { "-Infinity" });
    }
    if x.abs() < 1e15 && (x as i64) as f64 == x {
        // Exactly representable as an integer: the common case.
        return write!(w, "{}", x as i64);
    }
    if x < 0.0 {
        w.write_str("-")?;
    }
    // Shortest round-trip digits and exponent from `{:e}`: "d.ddde±x".
    let mut sci = StackStr::new();
    write!(sci, "{:e}", x.abs())?;
    let s = sci.as_str();
    let (mant, exp) = s.split_once('e').unwrap_or((s, "0"));
    let e: i32 = exp.parse().unwrap_or(0);
    let mut digits = StackStr::new();
    for c in mant.chars().filter(char::is_ascii_digit) {
        digits.write_char(c)?;
    }
    let d = digits.as_str();
    let k = i32::try_from(d.len()).unwrap_or(i32::MAX);
    let n = e + 1;
    if k <= n && n <= 21 {
        w.write_str(d)?;
        for _ in 0..(n - k) {
            w.write_char('0')?;
        }
        Ok(())
    } else if 0 < n && n <= 21 {
        let (a, b) = d.split_at(usize::try_from(n).unwrap_or(0));
        w.write_str(a)?;
        w.write_char('.')?;
        w.write_str(b)
    } else if -6 < n && n <= 0 {
        w.write_str("0.")?;
        for _ in 0..(-n) {
            w.write_char('0')?;
        }
        w.write_str(d)
    } else {
        let (first, rest) = d.split_at(1);
        w.write_str(first)?;
        if !rest.is_empty() {
            w.write_char('.')?;
            w.write_str(rest)?;
        }
        let sign = if n - 1 < 0 { '-' } else { '+' };
        write!(w, "e{}{}", sign, (n - 1).abs())
    }
}

/// Writes `String(value)` (JavaScript `ToString`) of a JSON value into `w`: strings as they
/// are, numbers as JavaScript prints them, `[1,2]` as `1,2`, objects as `[object Object]`.
pub fn write_js_string<W: Write>(w: &mut W, v: &Value) -> fmt::Result {
    write_js_view(w, V::of(v))
}

pub(crate) fn write_js_view<W: Write>(w: &mut W, v: V<'_>) -> fmt::Result {
    write_js_view_at(w, v, 0)
}

/// Arrays nested deeper than this (attributes built in code can nest arbitrarily) are not
/// written out: the text stops there (an error), so `String(value)` never recurses unbounded.
const MAX_JS_STRING_DEPTH: usize = 100;

fn write_js_view_at<W: Write>(w: &mut W, v: V<'_>, depth: usize) -> fmt::Result {
    match v {
        V::Null => w.write_str("null"),
        V::Bool(b) => w.write_str(if b { "true" } else { "false" }),
        V::Num(n) => write_js_number(w, n),
        V::Str(s) => w.write_str(s),
        V::Obj(_) => w.write_str("[object Object]"),
        V::Arr(_) if depth >= MAX_JS_STRING_DEPTH => Err(fmt::Error),
        V::Arr(a) => write_js_array(w, a, depth + 1),
    }
}

fn write_js_array<W: Write>(w: &mut W, a: &[Value], depth: usize) -> fmt::Result {
    for (i, e) in a.iter().enumerate() {
        if i > 0 {
            w.write_char(',')?;
        }
        match e {
            // `[null].join()` is the empty string.
            Value::Null => {}
            other => write_js_view_at(w, V::of(other), depth)?,
        }
    }
    Ok(())
}

/// Calls `f` with `String(value)`, allocating only for long numbers, arrays and objects.
pub(crate) fn with_js_string<R>(v: V<'_>, f: impl FnOnce(&str) -> R) -> R {
    match v {
        V::Str(s) => f(s),
        V::Null => f("null"),
        V::Bool(b) => f(if b { "true" } else { "false" }),
        V::Obj(_) => f("[object Object]"),
        V::Num(n) => {
            let mut buf = StackStr::new();
            if write_js_number(&mut buf, n).is_ok() {
                f(buf.as_str())
            } else {
                let mut s = String::new();
                let _ = write_js_number(&mut s, n);
                f(&s)
            }
        }
        V::Arr(_) => {
            let mut s = String::new();
            let _ = write_js_view(&mut s, v);
            f(&s)
        }
    }
}

/// Writes `JSON.stringify(value)` as JavaScript produces it for a parsed JSON value: numbers
/// as `String(number)` (`1.0` is `1`, `-0` is `0`), strings escaped as JS escapes them, and
/// object keys in JavaScript property order: integer-like keys (`"0"` to `"4294967294"`,
/// canonical form) first in ascending numeric order, then the other keys in insertion order.
pub fn write_js_json<W: Write>(w: &mut W, v: &Value) -> fmt::Result {
    match v {
        Value::Null => w.write_str("null"),
        Value::Bool(b) => w.write_str(if *b { "true" } else { "false" }),
        Value::Number(n) => write_js_number(w, n.as_f64().unwrap_or(f64::NAN)),
        Value::String(s) => write_json_str(w, s),
        Value::Array(a) => write_js_json_array(w, a),
        Value::Object(m) => write_js_json_map(w, m),
    }
}

fn write_js_json_array<W: Write>(w: &mut W, a: &[Value]) -> fmt::Result {
    w.write_char('[')?;
    for (i, e) in a.iter().enumerate() {
        if i > 0 {
            w.write_char(',')?;
        }
        write_js_json(w, e)?;
    }
    w.write_char(']')
}

/// A JavaScript array index key: canonical decimal `0..=4294967294` (`"01"`, `"-1"`, `"1.0"`
/// and `"4294967295"` are ordinary keys).
pub(crate) fn array_index_key(k: &str) -> Option<u32> {
    let b = k.as_bytes();
    if b.is_empty() || b.len() > 10 || (b.len() > 1 && b[0] == b'0') {
        return None;
    }
    if !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let n: u64 = k.parse().ok()?;
    u32::try_from(n).ok().filter(|&i| i != u32::MAX)
}

/// A string literal as `JSON.stringify` writes it.
fn write_json_str<W: Write>(w: &mut W, s: &str) -> fmt::Result {
    w.write_char('"')?;
    let mut start = 0;
    for (i, c) in s.char_indices() {
        let esc: Option<&str> = match c {
            '"' => Some("\\\""),
            '\\' => Some("\\\\"),
            '\u{8}' => Some("\\b"),
            '\u{c}' => Some("\\f"),
            '\n' => Some("\\n"),
            '\r' => Some("\\r"),
            '\t' => Some("\\t"),
            c if (c as u32) < 0x20 => None,
            _ => continue,
        };
        w.write_str(&s[start..i])?;
        match esc {
            Some(e) => w.write_str(e)?,
            None => write!(w, "\\u{:04x}", c as u32)?,
        }
        start = i + c.len_utf8();
    }
    w.write_str(&s[start..])?;
    w.write_char('"')
}

/// A writer that checks what is written against an expected text, without allocating.
struct TextEq<'e> {
    rest: &'e str,
    ok: bool,
}

impl Write for TextEq<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        match self.rest.strip_prefix(s) {
            Some(r) => {
                self.rest = r;
                Ok(())
            }
            None => {
                self.ok = false;
                Err(fmt::Error)
            }
        }
    }
}

/// `JSON.stringify(value) === text`, where `text` is a condition's `JSON.stringify` computed
/// at compile time.
pub(crate) fn js_json_eq(v: V<'_>, text: &str) -> bool {
    let mut t = TextEq {
        rest: text,
        ok: true,
    };
    let r = match v {
        V::Null => t.write_str("null"),
        V::Bool(b) => t.write_str(if b { "true" } else { "false" }),
        V::Num(n) => write_js_number(&mut t, n),
        V::Str(s) => write_json_str(&mut t, s),
        V::Arr(a) => write_js_json_array(&mut t, a),
        V::Obj(m) => write_js_json_map(&mut t, m),
    };
    r.is_ok() && t.ok && t.rest.is_empty()
}

fn write_js_json_map<W: Write>(w: &mut W, m: &Map<String, Value>) -> fmt::Result {
    w.write_char('{')?;
    let mut first = true;
    let mut entry = |w: &mut W, k: &str, v: &Value| -> fmt::Result {
        if !first {
            w.write_char(',')?;
        }
        first = false;
        write_json_str(w, k)?;
        w.write_char(':')?;
        write_js_json(w, v)
    };
    if m.keys().any(|k| array_index_key(k).is_some()) {
        // Only objects with integer-like keys pay for the reordering.
        let mut ints: alloc::vec::Vec<(u32, &str, &Value)> = m
            .iter()
            .filter_map(|(k, v)| array_index_key(k).map(|i| (i, k.as_str(), v)))
            .collect();
        ints.sort_unstable_by_key(|e| e.0);
        for (_, k, v) in ints {
            entry(w, k, v)?;
        }
        for (k, v) in m.iter().filter(|(k, _)| array_index_key(k).is_none()) {
            entry(w, k, v)?;
        }
    } else {
        for (k, v) in m {
            entry(w, k, v)?;
        }
    }
    w.write_char('}')
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

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

    #[test]
    fn utf16_order_differs_from_utf8_for_astral_chars() {
        // U+FF61 (one unit 0xFF61) sorts after U+1F600 (surrogates 0xD83D...) in UTF-16.
        assert_eq!(utf16_cmp("\u{ff61}", "\u{1f600}"), Ordering::Greater);
        assert_eq!("\u{ff61}".cmp("\u{1f600}"), Ordering::Less);
        assert_eq!("a".to_string().as_str().cmp("b"), Ordering::Less);
    }
}
