//! Version strings padded for comparison (`$veq`, `$vgt`, ...), as the reference SDK's
//! `paddedVersionString` builds them.

use alloc::string::String;
use core::fmt::{self, Write};

use crate::value::{StackStr, V, utf16_cmp, write_js_number};

/// Writes the padded form of `input`: numbers are stringified, any other non-string (and the
/// empty string) becomes `"0"`, a leading `v` and `+build` are dropped, parts split on `.`/`-`,
/// `~` is appended to a three-part version, and numeric parts are left-padded to width 5.
fn write_padded(w: &mut Out<'_>, input: &str) -> fmt::Result {
    let s = input.strip_prefix("v").unwrap_or(input);
    let s = crate::scan::before(s, b'+');
    let mut parts = 0usize;
    for (i, part) in crate::scan::split_either(s, b'.', b'-').enumerate() {
        if i > 0 {
            w.write_str("-")?;
        }
        if !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()) {
            for _ in part.len()..5 {
                w.write_str(" ")?;
            }
        }
        w.write_str(part)?;
        parts += 1;
    }
    if parts == 3 {
        w.write_str("-~")?;
    }
    Ok(())
}

/// Where [`write_padded`] writes: the stack buffer, or a `String` for a version too long for
/// it. One enum, not a generic writer, so a size-first build has one copy of `write_padded`.
enum Out<'a> {
    Stack(&'a mut StackStr),
    Heap(&'a mut String),
}

impl Write for Out<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        match self {
            Out::Stack(b) => b.write_str(s),
            Out::Heap(h) => {
                h.push_str(s);
                Ok(())
            }
        }
    }
}

/// The padded version string of an attribute value.
pub(crate) fn with_padded<R>(v: V<'_>, f: impl FnOnce(&str) -> R) -> R {
    let mut num = StackStr::new();
    let input: &str = match v {
        V::Str(s) if !s.is_empty() => s,
        V::Num(n) if write_js_number(&mut num, n).is_ok() => num.as_str(),
        _ => "0",
    };
    let mut buf = StackStr::new();
    if write_padded(&mut Out::Stack(&mut buf), input).is_ok() {
        f(buf.as_str())
    } else {
        let mut s = String::new();
        let _ = write_padded(&mut Out::Heap(&mut s), input);
        f(&s)
    }
}

/// The padded version string of a condition operand (computed once, at compile time).
pub(crate) fn padded_owned(v: V<'_>) -> String {
    with_padded(v, |s| String::from(s))
}

/// Compares two padded version strings the way JavaScript compares strings.
pub(crate) fn cmp_padded(a: &str, b: &str) -> core::cmp::Ordering {
    utf16_cmp(a, b)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> String {
        padded_owned(V::Str(s))
    }

    #[test]
    fn pads_like_the_reference() {
        assert_eq!(p("1.2.3"), "    1-    2-    3-~");
        assert_eq!(p("v1.2.3-rc.1+build123"), "    1-    2-    3-rc-    1");
        assert_eq!(p(""), "    0");
        assert_eq!(padded_owned(V::Null), "    0");
        assert_eq!(padded_owned(V::Num(2.0)), "    2");
        assert!(p("1.0.0") > p("1.0.0-beta"));
        assert_eq!(p("1-2-3"), p("1.2.3"));
    }
}
