//! The text of JavaScript values: `String(value)` (numbers as JS prints them) and
//! `JSON.stringify`, written without allocating where possible, and compared with JSON text;
//! and, by the same writer, `serde_json::to_string`'s text of a value.

use alloc::string::String;
use core::fmt::{self, Write};

use serde_json::{Map, Number, Value};

use super::V;

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
pub fn write_js_number<W: Write + ?Sized>(w: &mut W, x: f64) -> fmt::Result {
    let mut buf = StackStr::new();
    let _ = js_number_into(&mut buf, x);
    w.write_str(buf.as_str())
}

/// `String(x)` into an empty stack buffer: one body for every writer, which then copies the
/// text (at most 25 bytes: it always fits).
fn js_number_into(w: &mut StackStr, x: f64) -> fmt::Result {
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
        return w.write_str(itoa::Buffer::new().format(x as i64));
    }
    if x < 0.0 {
        w.write_str("-")?;
    }
    // Shortest round-trip digits (as JS picks them: the closest of the shortest) and the
    // decimal exponent, read back from zmij's text ("123.45", "0.00012", "1.5e-7", ...).
    let mut buf = zmij::Buffer::new();
    let (digits, e) = digits_and_exponent(buf.format_finite(x.abs()));
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
        w.write_str(if n - 1 < 0 { "e-" } else { "e+" })?;
        w.write_str(itoa::Buffer::new().format((n - 1).unsigned_abs()))
    }
}

/// The significant digits of a positive decimal numeral ("123.45", "0.00012", "1.5e-7", as
/// zmij writes them) without leading or trailing zeros, and the exponent `e` such that the
/// value is `d.ddd × 10^e`.
pub(super) fn digits_and_exponent(s: &str) -> (StackStr, i32) {
    let (mant, exp) = s.split_once(['e', 'E']).unwrap_or((s, "0"));
    let mut e: i32 = exp.parse().unwrap_or(0);
    let mut digits = StackStr::new();
    let mut int_digits = 0i32;
    let mut seen_point = false;
    for b in mant.bytes() {
        match b {
            b'.' => seen_point = true,
            // A leading zero: after the point it moves the exponent down.
            b'0' if digits.len == 0 && seen_point => e -= 1,
            b'0' if digits.len == 0 => {}
            b'0'..=b'9' => {
                if !seen_point {
                    int_digits += 1;
                }
                // At most 17 significant digits: always fits.
                let _ = digits.write_char(char::from(b));
            }
            _ => {}
        }
    }
    while digits.len > 1 && digits.buf[digits.len - 1] == b'0' {
        digits.len -= 1;
    }
    (digits, e + int_digits - 1)
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

/// Calls `f` with `String(value)`, allocating only for arrays.
pub(crate) fn with_js_string<R>(v: V<'_>, f: impl FnOnce(&str) -> R) -> R {
    match v {
        V::Str(s) => f(s),
        V::Null => f("null"),
        V::Bool(b) => f(if b { "true" } else { "false" }),
        V::Obj(_) => f("[object Object]"),
        V::Num(n) => {
            // A JS number's text is at most 25 bytes: it always fits the stack buffer.
            let mut buf = StackStr::new();
            let _ = js_number_into(&mut buf, n);
            f(buf.as_str())
        }
        V::Arr(_) => {
            let mut s = String::new();
            let _ = write_js_view(&mut s, v);
            f(&s)
        }
    }
}

/// Which JSON text a writer produces: `JSON.stringify`'s or `serde_json::to_string`'s. They
/// escape strings alike and differ in numbers and key order.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Dialect {
    /// `JSON.stringify`: numbers as `String(number)`, integer-like keys first.
    Js,
    /// `serde_json::to_string`: integers as they are, floats as serde_json writes them
    /// (`1.0`, `-0.0`, `1e21`), keys in map order.
    Serde,
}

/// Writes `JSON.stringify(value)` as JavaScript produces it for a parsed JSON value: numbers
/// as `String(number)` (`1.0` is `1`, `-0` is `0`), strings escaped as JS escapes them, and
/// object keys in JavaScript property order: integer-like keys (`"0"` to `"4294967294"`,
/// canonical form) first in ascending numeric order, then the other keys in insertion order.
pub fn write_js_json<W: Write>(w: &mut W, v: &Value) -> fmt::Result {
    write_json(w, v, Dialect::Js)
}

/// Writes the text `serde_json::to_string(value)` gives, byte for byte, without serde's
/// serializer: integers as they are (`1`, `18446744073709551615`), floats as serde_json
/// writes them (`1.0`, `-0.0`, `1e21`), keys in map order, strings escaped as
/// `JSON.stringify` escapes them (which serde_json does alike), no whitespace. Values that
/// serde_json tells apart (`1` and `1.0`, `0.0` and `-0.0`) get different texts.
pub fn write_serde_json<W: Write>(w: &mut W, v: &Value) -> fmt::Result {
    write_json(w, v, Dialect::Serde)
}

/// [`write_serde_json`] of an object.
pub fn write_serde_json_object<W: Write>(w: &mut W, m: &Map<String, Value>) -> fmt::Result {
    write_json_map(w, m, Dialect::Serde)
}

fn write_json(w: &mut dyn Write, v: &Value, d: Dialect) -> fmt::Result {
    match v {
        Value::Null => w.write_str("null"),
        Value::Bool(b) => w.write_str(if *b { "true" } else { "false" }),
        Value::Number(n) if d == Dialect::Serde => write_serde_number(w, n),
        Value::Number(n) => write_js_number(w, n.as_f64().unwrap_or(f64::NAN)),
        Value::String(s) => write_json_str(w, s),
        Value::Array(a) => write_json_array(w, a, d),
        Value::Object(m) => write_json_map(w, m, d),
    }
}

/// A number as serde_json writes it: its integer, or its float's shortest round-trip text
/// from `zmij` (always with a `.` or an exponent), `null` for a non-finite float.
fn write_serde_number(w: &mut dyn Write, n: &Number) -> fmt::Result {
    if let Some(u) = n.as_u64() {
        w.write_str(itoa::Buffer::new().format(u))
    } else if let Some(i) = n.as_i64() {
        w.write_str(itoa::Buffer::new().format(i))
    } else {
        match n.as_f64() {
            Some(f) if f.is_finite() => w.write_str(zmij::Buffer::new().format_finite(f)),
            _ => w.write_str("null"),
        }
    }
}

fn write_json_array(w: &mut dyn Write, a: &[Value], d: Dialect) -> fmt::Result {
    w.write_char('[')?;
    for (i, e) in a.iter().enumerate() {
        if i > 0 {
            w.write_char(',')?;
        }
        write_json(w, e, d)?;
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
fn write_json_str(w: &mut dyn Write, s: &str) -> fmt::Result {
    w.write_char('"')?;
    let mut start = 0;
    // Only ASCII bytes are escaped: every cut is at a character boundary.
    for (i, &b) in s.as_bytes().iter().enumerate() {
        if b >= 0x20 && b != b'"' && b != b'\\' {
            continue;
        }
        w.write_str(s.get(start..i).unwrap_or_default())?;
        let esc = match b {
            0x08 => 'b',
            0x0c => 'f',
            b'\n' => 'n',
            b'\r' => 'r',
            b'\t' => 't',
            b'"' | b'\\' => char::from(b),
            _ => 'u',
        };
        w.write_char('\\')?;
        w.write_char(esc)?;
        if esc == 'u' {
            // A control character: `\u00XX`, lowercase hex as `JSON.stringify` writes.
            const HEX: &[u8; 16] = b"0123456789abcdef";
            w.write_str("00")?;
            w.write_char(char::from(HEX[usize::from(b >> 4)]))?;
            w.write_char(char::from(HEX[usize::from(b & 15)]))?;
        }
        start = i + 1;
    }
    w.write_str(s.get(start..).unwrap_or_default())?;
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
        V::Arr(a) => write_json_array(&mut t, a, Dialect::Js),
        V::Obj(m) => write_json_map(&mut t, m, Dialect::Js),
    };
    r.is_ok() && t.ok && t.rest.is_empty()
}

fn write_json_map(w: &mut dyn Write, m: &Map<String, Value>, d: Dialect) -> fmt::Result {
    w.write_char('{')?;
    let mut first = true;
    let mut entry = |w: &mut dyn Write, k: &str, v: &Value| -> fmt::Result {
        if !first {
            w.write_char(',')?;
        }
        first = false;
        write_json_str(w, k)?;
        w.write_char(':')?;
        write_json(w, v, d)
    };
    if d == Dialect::Js && m.keys().any(|k| array_index_key(k).is_some()) {
        // Only JS text of objects with integer-like keys pays for the reordering.
        let mut ints: alloc::vec::Vec<(u32, &str, &Value)> = m
            .iter()
            .filter_map(|(k, v)| array_index_key(k).map(|i| (i, k.as_str(), v)))
            .collect();
        crate::sort::sort_unstable_by(&mut ints, |a, b| a.0 < b.0);
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
