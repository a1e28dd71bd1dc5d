//! JSON text to [`serde_json::Value`], read by gb-core itself: the payload loader's reader.
//!
//! It gives the value serde_json's `from_str::<Value>` gives for the same text (the same
//! grammar, objects keeping a repeated key's first position and last value, integers that fit
//! `u64` / `i64` as integers and other numbers as the nearest `f64`, read by
//! [`gb_condition::decimal`]), with two differences a payload loader needs:
//! - containers nested deeper than the caller's limit are replaced by the marker
//!   `{"$gbTooDeep":1}` while reading (they are still checked to be JSON), so depth never fails
//!   a payload and recursion stays bounded by the limit;
//! - the keys of an object can be read one at a time (`Reader::object_start`,
//!   `Reader::next_key`), so the loader compiles a feature as soon as it is read.
//!
//! It exists for size: serde_json's deserializer, its error formatting and the visitor
//! machinery are about a tenth of a wasm build of gb-core (see the README's size table), and
//! serde_json's number parser is only reachable through its deserializer.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use serde_json::{Map, Number, Value};

use crate::depth::{MAX_JSON_DEPTH, too_deep_marker};

/// Parses `text` (one JSON value, whitespace around it) as payload text is parsed: containers
/// nested deeper than [`MAX_JSON_DEPTH`] are replaced by `{"$gbTooDeep":1}`.
///
/// ```
/// let v = gb_core::json::parse(r#" {"a": [1, 2.5, "x"], "a": true} "#).unwrap();
/// assert_eq!(v, serde_json::json!({"a": true}));
/// assert!(gb_core::json::parse("[1,]").is_err());
/// ```
pub fn parse(text: &str) -> Result<Value, JsonError> {
    let mut r = Reader::new(text);
    let v = r.value(MAX_JSON_DEPTH)?;
    r.end()?;
    Ok(v)
}

/// Text that is not JSON: what was wrong and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonError {
    kind: JsonErrorKind,
    line: usize,
    column: usize,
}

impl JsonError {
    /// What was wrong.
    pub fn kind(&self) -> JsonErrorKind {
        self.kind
    }

    /// The line of the offending byte, from 1.
    pub fn line(&self) -> usize {
        self.line
    }

    /// The offending byte's column in its line, from 1 (counted in bytes).
    pub fn column(&self) -> usize {
        self.column
    }
}

/// The ways text fails to be JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum JsonErrorKind {
    /// The text ends inside a value.
    Eof,
    /// Something other than a value stands where one is expected.
    ExpectedValue,
    /// An object key is not followed by `:`.
    ExpectedColon,
    /// A value in an array or object is not followed by `,` or the closing bracket.
    ExpectedCommaOrEnd,
    /// An object key is not a string (or a `,` before `}`).
    KeyMustBeString,
    /// A number does not follow JSON's grammar.
    InvalidNumber,
    /// A number's magnitude is past `f64::MAX`.
    NumberOutOfRange,
    /// A string holds an unknown escape or a `\u` escape that is not four hex digits.
    InvalidEscape,
    /// A string holds a control character (below U+0020) unescaped.
    ControlCharacter,
    /// A `\u` escape names half of a surrogate pair without the other half.
    LoneSurrogate,
    /// Something other than whitespace follows the value.
    TrailingCharacters,
}

impl JsonErrorKind {
    fn message(self) -> &'static str {
        match self {
            JsonErrorKind::Eof => "EOF while parsing a value",
            JsonErrorKind::ExpectedValue => "expected value",
            JsonErrorKind::ExpectedColon => "expected `:`",
            JsonErrorKind::ExpectedCommaOrEnd => "expected `,` or a closing bracket",
            JsonErrorKind::KeyMustBeString => "key must be a string",
            JsonErrorKind::InvalidNumber => "invalid number",
            JsonErrorKind::NumberOutOfRange => "number out of range",
            JsonErrorKind::InvalidEscape => "invalid escape",
            JsonErrorKind::ControlCharacter => {
                "control character (\\u0000-\\u001F) found in string"
            }
            JsonErrorKind::LoneSurrogate => "lone surrogate in hex escape",
            JsonErrorKind::TrailingCharacters => "trailing characters",
        }
    }
}

impl fmt::Display for JsonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} at line {} column {}",
            self.kind.message(),
            self.line,
            self.column
        )
    }
}

impl core::error::Error for JsonError {}

/// A position in JSON text, read forward.
pub(crate) struct Reader<'a> {
    text: &'a str,
    pos: usize,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(text: &'a str) -> Self {
        Reader { text, pos: 0 }
    }

    fn bytes(&self) -> &'a [u8] {
        self.text.as_bytes()
    }

    fn err(&self, kind: JsonErrorKind) -> JsonError {
        let before = &self.bytes()[..self.pos.min(self.text.len())];
        let line_start = before
            .iter()
            .rposition(|&c| c == b'\n')
            .map_or(0, |i| i + 1);
        JsonError {
            kind,
            line: 1 + before.iter().filter(|&&c| c == b'\n').count(),
            column: before.len() - line_start + 1,
        }
    }

    /// The next byte past whitespace, not consumed.
    fn peek(&mut self) -> Option<u8> {
        while let Some(&c) = self.bytes().get(self.pos) {
            if !matches!(c, b' ' | b'\t' | b'\n' | b'\r') {
                return Some(c);
            }
            self.pos += 1;
        }
        None
    }

    /// The next byte past whitespace, consumed; EOF is an error.
    fn next(&mut self) -> Result<u8, JsonError> {
        let c = self.peek().ok_or_else(|| self.err(JsonErrorKind::Eof))?;
        self.pos += 1;
        Ok(c)
    }

    /// Only whitespace is left.
    pub(crate) fn end(&mut self) -> Result<(), JsonError> {
        match self.peek() {
            None => Ok(()),
            Some(_) => Err(self.err(JsonErrorKind::TrailingCharacters)),
        }
    }

    /// Consumes `{` if it is next (`true`); otherwise leaves the text as it is.
    pub(crate) fn object_start(&mut self) -> bool {
        let open = self.peek() == Some(b'{');
        self.pos += usize::from(open);
        open
    }

    /// In an object opened by [`Reader::object_start`], the next key and its `:` (the caller
    /// then reads or skips the value), or `None` past the closing `}`. `first` is whether no
    /// key of this object was read yet.
    pub(crate) fn next_key(&mut self, first: bool) -> Result<Option<String>, JsonError> {
        if !self.key_start(first)? {
            return Ok(None);
        }
        let key = self.string()?;
        self.colon()?;
        Ok(Some(key))
    }

    /// Past the separator and the opening quote of an object's next key (`true`), or past the
    /// closing `}` (`false`).
    fn key_start(&mut self, first: bool) -> Result<bool, JsonError> {
        let c = match (first, self.next()?) {
            (_, b'}') => return Ok(false),
            (false, b',') => self.next()?,
            (false, _) => return Err(self.back(JsonErrorKind::ExpectedCommaOrEnd)),
            (true, c) => c,
        };
        if c != b'"' {
            return Err(self.back(JsonErrorKind::KeyMustBeString));
        }
        Ok(true)
    }

    fn colon(&mut self) -> Result<(), JsonError> {
        if self.next()? != b':' {
            return Err(self.back(JsonErrorKind::ExpectedColon));
        }
        Ok(())
    }

    /// The error for the byte just consumed.
    fn back(&mut self, kind: JsonErrorKind) -> JsonError {
        self.pos -= 1;
        self.err(kind)
    }

    /// One value; containers nested `levels_left` levels below it are replaced by the marker
    /// (recursion is bounded by `levels_left`: the cut parts are skipped without recursion).
    pub(crate) fn value(&mut self, levels_left: usize) -> Result<Value, JsonError> {
        let c = self.peek().ok_or_else(|| self.err(JsonErrorKind::Eof))?;
        match c {
            b'{' | b'[' if levels_left == 0 => {
                self.skip()?;
                Ok(too_deep_marker())
            }
            b'{' => {
                self.pos += 1;
                let mut m = Map::new();
                let mut first = true;
                while let Some(k) = self.next_key(first)? {
                    first = false;
                    let v = self.value(levels_left - 1)?;
                    m.insert(k, v);
                }
                Ok(Value::Object(m))
            }
            b'[' => {
                self.pos += 1;
                let mut a = Vec::new();
                if self.peek() == Some(b']') {
                    self.pos += 1;
                    return Ok(Value::Array(a));
                }
                loop {
                    a.push(self.value(levels_left - 1)?);
                    match self.next()? {
                        b',' => {}
                        b']' => return Ok(Value::Array(a)),
                        _ => return Err(self.back(JsonErrorKind::ExpectedCommaOrEnd)),
                    }
                }
            }
            _ => self.scalar(),
        }
    }

    /// A string, number, `true`, `false` or `null` (whitespace before it already skipped).
    fn scalar(&mut self) -> Result<Value, JsonError> {
        let c = self.next()?;
        match c {
            b'"' => self.string().map(Value::String),
            b'-' | b'0'..=b'9' => {
                self.pos -= 1;
                self.number()
            }
            b't' => self.word(b"rue").map(|()| Value::Bool(true)),
            b'f' => self.word(b"alse").map(|()| Value::Bool(false)),
            b'n' => self.word(b"ull").map(|()| Value::Null),
            _ => Err(self.back(JsonErrorKind::ExpectedValue)),
        }
    }

    /// The rest of `true`, `false` or `null` after its first letter.
    fn word(&mut self, rest: &[u8]) -> Result<(), JsonError> {
        for &want in rest {
            match self.bytes().get(self.pos) {
                None => return Err(self.err(JsonErrorKind::Eof)),
                Some(&c) if c == want => self.pos += 1,
                Some(_) => return Err(self.err(JsonErrorKind::ExpectedValue)),
            }
        }
        Ok(())
    }

    /// Skips one value of any depth, checking it is JSON, without recursion: a stack of the
    /// brackets left to close.
    pub(crate) fn skip(&mut self) -> Result<(), JsonError> {
        let mut open: Vec<u8> = Vec::new();
        loop {
            // A value is expected.
            let c = self.next()?;
            match c {
                b'{' if self.key_start(true)? => {
                    self.skip_key()?;
                    open.push(b'}');
                    continue;
                }
                b'[' if self.peek() != Some(b']') => {
                    open.push(b']');
                    continue;
                }
                b'{' => {}
                b'[' => self.pos += 1,
                b'"' => self.string_to(None)?,
                b'-' | b'0'..=b'9' => {
                    self.pos -= 1;
                    self.number()?;
                }
                b't' => self.word(b"rue")?,
                b'f' => self.word(b"alse")?,
                b'n' => self.word(b"ull")?,
                _ => return Err(self.back(JsonErrorKind::ExpectedValue)),
            }
            // A value ended: close what it ends, up to a `,` that asks for another.
            loop {
                let Some(&close) = open.last() else {
                    return Ok(());
                };
                if close == b'}' {
                    if self.key_start(false)? {
                        self.skip_key()?;
                        break;
                    }
                    open.pop();
                } else {
                    match self.next()? {
                        b',' => break,
                        b']' => {
                            open.pop();
                        }
                        _ => return Err(self.back(JsonErrorKind::ExpectedCommaOrEnd)),
                    }
                }
            }
        }
    }

    /// The rest of a key whose opening quote was consumed, and its `:`, unread.
    fn skip_key(&mut self) -> Result<(), JsonError> {
        self.string_to(None)?;
        self.colon()
    }

    /// A number (JSON's grammar), its value as serde_json reads it ([`number_value`]).
    fn number(&mut self) -> Result<Value, JsonError> {
        let b = self.bytes();
        let start = self.pos;
        let mut i = start + usize::from(b.get(start) == Some(&b'-'));
        let digits = |i: usize| {
            b[i.min(b.len())..]
                .iter()
                .take_while(|c| c.is_ascii_digit())
                .count()
        };
        let int = digits(i);
        if int == 0 {
            self.pos = i;
            return Err(self.err(JsonErrorKind::InvalidNumber));
        }
        // A leading 0 is the whole integer part (a digit after it is left as trailing text).
        i += if b[i] == b'0' { 1 } else { int };
        if b.get(i) == Some(&b'.') {
            let frac = digits(i + 1);
            if frac == 0 {
                self.pos = i + 1;
                return Err(self.err(JsonErrorKind::InvalidNumber));
            }
            i += 1 + frac;
        }
        if matches!(b.get(i), Some(b'e' | b'E')) {
            i += 1;
            i += usize::from(matches!(b.get(i), Some(b'+' | b'-')));
            let exp = digits(i);
            if exp == 0 {
                self.pos = i;
                return Err(self.err(JsonErrorKind::InvalidNumber));
            }
            i += exp;
        }
        self.pos = i;
        number_value(&self.text[start..i])
            .map(Value::Number)
            .ok_or_else(|| {
                self.pos = start;
                self.err(JsonErrorKind::NumberOutOfRange)
            })
    }

    /// The rest of a string whose opening quote was consumed.
    fn string(&mut self) -> Result<String, JsonError> {
        let b = self.bytes();
        let start = self.pos;
        let n = plain_run(&b[start..]);
        if b.get(start + n) == Some(&b'"') {
            // No escape: one copy of the right size.
            self.pos = start + n + 1;
            return Ok(String::from(&self.text[start..start + n]));
        }
        let mut out = String::new();
        self.string_to(Some(&mut out))?;
        Ok(out)
    }

    /// Reads the rest of a string whose opening quote was consumed, into `out` if given.
    fn string_to(&mut self, mut out: Option<&mut String>) -> Result<(), JsonError> {
        let b = self.bytes();
        loop {
            let n = plain_run(&b[self.pos..]);
            if let Some(o) = out.as_deref_mut() {
                o.push_str(&self.text[self.pos..self.pos + n]);
            }
            self.pos += n;
            let Some(&c) = b.get(self.pos) else {
                return Err(self.err(JsonErrorKind::Eof));
            };
            self.pos += 1;
            match c {
                b'"' => return Ok(()),
                b'\\' => {
                    let e = *b
                        .get(self.pos)
                        .ok_or_else(|| self.err(JsonErrorKind::Eof))?;
                    self.pos += 1;
                    let ch = match e {
                        b'"' => '"',
                        b'\\' => '\\',
                        b'/' => '/',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'n' => '\n',
                        b'r' => '\r',
                        b't' => '\t',
                        b'u' => self.unicode_escape()?,
                        _ => return Err(self.back(JsonErrorKind::InvalidEscape)),
                    };
                    if let Some(o) = out.as_deref_mut() {
                        o.push(ch);
                    }
                }
                _ => return Err(self.back(JsonErrorKind::ControlCharacter)),
            }
        }
    }

    /// The character of a `\u` escape whose `\u` was consumed (a surrogate pair spans two).
    fn unicode_escape(&mut self) -> Result<char, JsonError> {
        let hi = self.hex4()?;
        let code = match hi {
            0xD800..=0xDBFF => {
                if self.bytes().get(self.pos..self.pos + 2) != Some(b"\\u") {
                    return Err(self.err(JsonErrorKind::LoneSurrogate));
                }
                self.pos += 2;
                let lo = self.hex4()?;
                if !(0xDC00..=0xDFFF).contains(&lo) {
                    return Err(self.err(JsonErrorKind::LoneSurrogate));
                }
                0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
            }
            0xDC00..=0xDFFF => return Err(self.err(JsonErrorKind::LoneSurrogate)),
            c => c,
        };
        char::from_u32(code).ok_or_else(|| self.err(JsonErrorKind::InvalidEscape))
    }

    fn hex4(&mut self) -> Result<u32, JsonError> {
        let mut v = 0;
        for _ in 0..4 {
            let Some(&c) = self.bytes().get(self.pos) else {
                return Err(self.err(JsonErrorKind::Eof));
            };
            let d = (c as char)
                .to_digit(16)
                .ok_or_else(|| self.err(JsonErrorKind::InvalidEscape))?;
            v = v * 16 + d;
            self.pos += 1;
        }
        Ok(v)
    }
}

/// How many bytes of `b` stand before the first quote, backslash or control character.
fn plain_run(b: &[u8]) -> usize {
    b.iter()
        .position(|&c| c == b'"' || c == b'\\' || c < 0x20)
        .unwrap_or(b.len())
}

/// The value serde_json gives a number whose text is JSON's grammar, or `None` for a magnitude
/// past `f64::MAX` (which serde_json refuses too). An integer (no point, no exponent) that
/// fits `u64`, or `i64` if negative, is that integer; anything else, `-0` included, is the
/// nearest `f64` ([`gb_condition::decimal::parse`]).
fn number_value(t: &str) -> Option<Number> {
    let (neg, digits) = match t.strip_prefix("-") {
        Some(rest) => (true, rest),
        None => (false, t),
    };
    if digits.bytes().all(|c| c.is_ascii_digit()) {
        let m = digits.bytes().try_fold(0u64, |m, c| {
            m.checked_mul(10)?.checked_add(u64::from(c - b'0'))
        });
        match (m, neg) {
            (Some(m), false) => return Some(Number::from(m)),
            // -m fits i64 for 0 < m <= 2^63 (serde_json gives "-0" as a float, as here).
            (Some(m @ 1..=0x8000_0000_0000_0000), true) => {
                return Some(Number::from(0i64.wrapping_sub_unsigned(m)));
            }
            _ => {}
        }
    }
    // `from_f64` refuses an infinity.
    Number::from_f64(gb_condition::decimal::parse(t)?)
}
