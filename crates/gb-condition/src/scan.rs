//! Searches for ASCII delimiters in a `str`, byte by byte, and a lossy UTF-8 decoder: what
//! URL parsing, attribute paths and version strings need, without `core`'s generic pattern
//! machinery (`CharSearcher`, `memchr`, `SplitInternal`, the two-way substring searcher) or
//! `String::from_utf8_lossy`'s `Utf8Chunks`, each of which a size-first build (wasm,
//! firmware) would otherwise link once per pattern type.
//!
//! Every delimiter is an ASCII byte (`< 0x80`). UTF-8 never uses such a byte inside a
//! multi-byte sequence, so a byte search finds exactly what `str::find` with the same `char`
//! finds, and every index it returns is a char boundary. A delimiter past ASCII is never found
//! (it could only match inside a character), so no call can split a character or panic.

use alloc::string::String;
use alloc::vec::Vec;

/// The byte index of the first `d` in `s` (`s.find(d as char)`).
pub fn find(s: &str, d: u8) -> Option<usize> {
    find_either(s, d, d)
}

/// The byte index of the first `a` or `b` in `s`: the one search loop of this module.
fn find_either(s: &str, a: u8, b: u8) -> Option<usize> {
    // A byte past ASCII is never a delimiter here: inside UTF-8 it could split a character.
    let (a, b) = match (a.is_ascii(), b.is_ascii()) {
        (true, true) => (a, b),
        (true, false) => (a, a),
        (false, true) => (b, b),
        (false, false) => return None,
    };
    s.bytes().position(|c| c == a || c == b)
}

/// The byte index of the last `d` in `s` (`s.rfind(d as char)`).
pub fn rfind(s: &str, d: u8) -> Option<usize> {
    if !d.is_ascii() {
        return None;
    }
    s.bytes().rposition(|b| b == d)
}

/// Whether `s` holds any of the ASCII bytes in `set` (`s.contains([..])` for those chars).
pub fn contains_any(s: &str, set: &[u8]) -> bool {
    s.bytes().any(|b| b.is_ascii() && set.contains(&b))
}

/// The parts of `s` before and after its first `d` (`s.split_once(d as char)`).
pub fn split_once(s: &str, d: u8) -> Option<(&str, &str)> {
    let mut parts = split(s, d);
    let head = parts.next()?;
    Some((head, parts.rest?))
}

/// The part of `s` before its first `d`, or all of `s` (`s.split(d as char).next()`).
pub fn before(s: &str, d: u8) -> &str {
    split(s, d).next().unwrap_or(s)
}

/// The parts of `s` between `d`s (`s.split(d as char)`): one more part than there are `d`s.
pub fn split(s: &str, d: u8) -> Split<'_> {
    split_either(s, d, d)
}

/// The parts of `s` between any of `a` and `b` (`s.split([a as char, b as char])`).
pub fn split_either(s: &str, a: u8, b: u8) -> Split<'_> {
    Split {
        rest: Some(s),
        a,
        b,
    }
}

/// The iterator of [`split`] and [`split_either`].
#[derive(Debug, Clone)]
pub struct Split<'a> {
    /// What is left to split; `None` once the last part was returned.
    rest: Option<&'a str>,
    a: u8,
    b: u8,
}

impl<'a> Iterator for Split<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        let s = self.rest?;
        match find_either(s, self.a, self.b) {
            Some(i) => {
                let (head, tail) = s.split_at(i);
                self.rest = Some(tail.get(1..).unwrap_or_default());
                Some(head)
            }
            None => {
                self.rest = None;
                Some(s)
            }
        }
    }
}

impl core::iter::FusedIterator for Split<'_> {}

/// `String::from_utf8_lossy(&bytes).into_owned()`, without a copy when `bytes` is valid:
/// each maximal subpart of an ill-formed sequence becomes one U+FFFD (as `core`, and the
/// WHATWG Encoding Standard's UTF-8 decoder, substitute), told by `Utf8Error::error_len`.
pub fn from_utf8_lossy(bytes: Vec<u8>) -> String {
    let bytes = match String::from_utf8(bytes) {
        Ok(s) => return s,
        Err(e) => e.into_bytes(),
    };
    let mut out = String::with_capacity(bytes.len() + 2);
    let mut rest = &bytes[..];
    loop {
        match core::str::from_utf8(rest) {
            Ok(s) => {
                out.push_str(s);
                return out;
            }
            Err(e) => {
                let (good, bad) = rest.split_at(e.valid_up_to());
                // `good` is valid UTF-8 (checked above); `from_utf8` only re-reads it.
                out.push_str(core::str::from_utf8(good).unwrap_or_default());
                out.push('\u{fffd}');
                match e.error_len() {
                    Some(n) => rest = bad.get(n..).unwrap_or_default(),
                    // A sequence cut off by the end: one U+FFFD for all of it.
                    None => return out,
                }
            }
        }
    }
}
