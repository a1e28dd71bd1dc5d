//! The WHATWG URL Standard's percent-encode sets, as Node 20's `URL` applies them, and one
//! UTF-8 percent-encoder.

use alloc::string::String;

/// Which code points a URL component percent-encodes (beyond C0 controls and non-ASCII,
/// which every set encodes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Set {
    /// Opaque hosts and opaque paths.
    C0Control,
    /// Fragments: space `"` `<` `>` `` ` ``.
    Fragment,
    /// Queries of non-special URLs: space `"` `#` `<` `>`.
    Query,
    /// Queries of special URLs: the query set and `'`.
    SpecialQuery,
    /// Path segments: the query set and `?` `` ` `` `{` `}` (Node 20 leaves `^` and `|`).
    Path,
    /// Usernames and passwords: the path set and `/` `:` `;` `=` `@` `[` `\` `]` `^` `|`.
    Userinfo,
}

impl Set {
    fn contains(self, b: u8) -> bool {
        if !(0x20..=0x7e).contains(&b) {
            return true;
        }
        let query = matches!(b, b' ' | b'"' | b'#' | b'<' | b'>');
        let path = query || matches!(b, b'?' | b'`' | b'{' | b'}');
        match self {
            Set::C0Control => false,
            Set::Fragment => matches!(b, b' ' | b'"' | b'<' | b'>' | b'`'),
            Set::Query => query,
            Set::SpecialQuery => query || b == b'\'',
            Set::Path => path,
            Set::Userinfo => {
                path || matches!(
                    b,
                    b'/' | b':' | b';' | b'=' | b'@' | b'[' | b'\\' | b']' | b'^' | b'|'
                )
            }
        }
    }
}

/// Appends `s` to `out`, each byte of `set` as `%XX` (upper-case hex). `%` itself is kept.
pub(crate) fn encode_into(out: &mut String, s: &str, set: Set) {
    for &b in s.as_bytes() {
        if set.contains(b) {
            push_escape(out, b);
        } else {
            out.push(char::from(b));
        }
    }
}

/// Appends `%XX` for the byte `b`.
pub(crate) fn push_escape(out: &mut String, b: u8) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    out.push('%');
    out.push(char::from(HEX[usize::from(b >> 4)]));
    out.push(char::from(HEX[usize::from(b & 15)]));
}

/// The value of an ASCII hex digit.
pub(crate) fn hex(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// Percent-decodes `s` to bytes: `%XX` is a byte, a `%` without two hex digits stays; with
/// `plus_is_space` (`application/x-www-form-urlencoded`) a `+` is a space.
pub(crate) fn decode(s: &str, plus_is_space: bool) -> alloc::vec::Vec<u8> {
    let b = s.as_bytes();
    let mut out = alloc::vec::Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match (
            b[i],
            b.get(i + 1).copied().and_then(hex),
            b.get(i + 2).copied().and_then(hex),
        ) {
            (b'%', Some(h), Some(l)) => {
                out.push(h * 16 + l);
                i += 3;
            }
            (c, _, _) => {
                out.push(if plus_is_space && c == b'+' { b' ' } else { c });
                i += 1;
            }
        }
    }
    out
}
