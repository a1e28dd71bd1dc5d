//! `application/x-www-form-urlencoded`, as `URLSearchParams` reads and writes a query.

use alloc::borrow::Cow;
use alloc::string::String;

use gb_condition::scan;

use super::percent;

/// The query's `(name, value)` pairs, still encoded: split on `&`, empty pairs skipped, a
/// pair without `=` has an empty value.
pub(crate) fn pairs(query: &str) -> impl Iterator<Item = (&str, &str)> {
    scan::split(query, b'&')
        .filter(|kv| !kv.is_empty())
        .map(|kv| scan::split_once(kv, b'=').unwrap_or((kv, "")))
}

/// One name or value decoded as `URLSearchParams` does it: `+` is a space, `%XX` a byte (a
/// `%` without two hex digits stays), and the bytes are UTF-8 with U+FFFD for invalid
/// sequences.
pub(crate) fn decode(s: &str) -> Cow<'_, str> {
    if !scan::contains_any(s, b"%+") {
        return Cow::Borrowed(s);
    }
    Cow::Owned(scan::from_utf8_lossy(percent::decode(s, true)))
}

/// The serializer: `*-._` and ASCII alphanumerics as they are, a space as `+`, every other
/// byte as `%XX`.
pub(crate) fn encode(out: &mut String, s: &str) {
    for &b in s.as_bytes() {
        match b {
            b'*' | b'-' | b'.' | b'_' | b'0'..=b'9' | b'A'..=b'Z' | b'a'..=b'z' => {
                out.push(char::from(b));
            }
            b' ' => out.push('+'),
            _ => percent::push_escape(out, b),
        }
    }
}
