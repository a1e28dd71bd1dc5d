//! JavaScript without the `u` flag matches UTF-16 code units; the engine matches UTF-8. A
//! character outside the BMP is two units: both in the pattern and in the haystack, each
//! surrogate is spelled as a placeholder code point in plane 15 (`.`, `[^a]` and `\S` then
//! match half of it, and `^..$` all of it, as in JavaScript). Placeholders never meet real
//! text: every character outside the BMP of a rewritten haystack is one.

use alloc::string::String;

/// First placeholder: surrogate `0xD800 + n` is `PLACEHOLDERS + n`.
const PLACEHOLDERS: u32 = 0xF_0000;

/// The placeholder code point of surrogate `u`.
pub(super) fn placeholder(u: u16) -> u32 {
    PLACEHOLDERS + u32::from(u) - 0xD800
}

/// Whether `haystack` must be rewritten by [`to_units`] before matching.
pub(super) fn needs_units(haystack: &str) -> bool {
    haystack.bytes().any(|b| b >= 0xF0)
}

/// The haystack with every character outside the BMP replaced by its two placeholders.
pub(super) fn to_units(haystack: &str) -> String {
    let mut out = String::with_capacity(haystack.len() + 8);
    for c in haystack.chars() {
        if c.len_utf16() == 1 {
            out.push(c);
            continue;
        }
        let mut buf = [0u16; 2];
        for u in c.encode_utf16(&mut buf) {
            out.push(char::from_u32(placeholder(*u)).unwrap_or('\u{fffd}'));
        }
    }
    out
}
