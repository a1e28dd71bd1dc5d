//! Translating JavaScript (non-`u`) pattern syntax into `regex-syntax` syntax.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use super::RegexError;

/// JavaScript's `\s`: WhiteSpace and LineTerminator, spelled out so that no Unicode property
/// table is needed.
const JS_SPACE: &str = "\\t\\n\\x{B}\\x{C}\\r \\x{A0}\\x{1680}\\x{2000}-\\x{200A}\\x{2028}\\x{2029}\\x{202F}\\x{205F}\\x{3000}\\x{FEFF}";

/// Translates a JavaScript (non-`u`) pattern into `regex-syntax` syntax.
///
/// With `ci` (the `i` flag) the characters of [`FOLD_ALONE`] become placeholders too; see
/// [`to_units`], which rewrites the haystack the same way.
pub(super) fn translate(js: &str, ci: bool) -> Result<String, RegexError> {
    let chars: Vec<char> = js.chars().collect();
    let mut out = String::with_capacity(js.len() + 8);
    let mut in_class = false;
    let mut class_start = false;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let at_class_start = class_start;
        class_start = false;
        match c {
            '\\' => {
                let Some(&n) = chars.get(i + 1) else {
                    return Err(RegexError::Invalid("\\ at end of pattern".into()));
                };
                i += 2;
                match n {
                    'd' => out.push_str(if in_class { "0-9" } else { "[0-9]" }),
                    'D' => out.push_str("[^0-9]"),
                    'w' => out.push_str(if in_class {
                        "0-9A-Za-z_"
                    } else {
                        "[0-9A-Za-z_]"
                    }),
                    'W' => out.push_str("[^0-9A-Za-z_]"),
                    's' if in_class => out.push_str(JS_SPACE),
                    's' => {
                        out.push('[');
                        out.push_str(JS_SPACE);
                        out.push(']');
                    }
                    'S' => {
                        out.push_str("[^");
                        out.push_str(JS_SPACE);
                        out.push(']');
                    }
                    't' | 'n' | 'r' | 'f' | 'v' => {
                        out.push('\\');
                        out.push(n);
                    }
                    'b' if in_class => out.push_str("\\x{8}"),
                    'b' => out.push_str("(?-u:\\b)"),
                    'B' => out.push_str("(?-u:\\B)"),
                    '1'..='9' if !in_class => {
                        return Err(RegexError::Unsupported("backreference".into()));
                    }
                    'k' if chars.get(i) == Some(&'<') => {
                        return Err(RegexError::Unsupported("named backreference".into()));
                    }
                    '0' if !chars.get(i).is_some_and(char::is_ascii_digit) => {
                        out.push_str("\\x{0}");
                    }
                    'c' if chars.get(i).is_some_and(char::is_ascii_alphabetic) => {
                        let l = chars[i] as u32 % 32;
                        out.push_str(&format!("\\x{{{l:x}}}"));
                        i += 1;
                    }
                    'x' if hex_run(&chars, i, 2).is_some() => {
                        let v = hex_run(&chars, i, 2).unwrap_or(0);
                        push_code_point(&mut out, v, ci);
                        i += 2;
                    }
                    // One UTF-16 unit: a surrogate is its placeholder (see `unit_char`).
                    'u' if hex_run(&chars, i, 4).is_some() => {
                        let v = hex_run(&chars, i, 4).unwrap_or(0);
                        i += 4;
                        push_code_point(&mut out, v, ci);
                    }
                    c if c.is_ascii_alphanumeric() => {
                        // JavaScript treats other escaped letters/digits as the letter itself.
                        out.push(c);
                    }
                    c if is_unit_mapped(c, ci) => push_units(&mut out, c, ci),
                    c => push_literal(&mut out, c),
                }
                continue;
            }
            '[' if !in_class => {
                in_class = true;
                class_start = true;
                if chars.get(i + 1) == Some(&'^') {
                    if chars.get(i + 2) == Some(&']') {
                        // `[^]` matches any character.
                        out.push_str("[\\x{0}-\\x{10FFFF}]");
                        in_class = false;
                        i += 3;
                        continue;
                    }
                    out.push_str("[^");
                    i += 2;
                    continue;
                }
                if chars.get(i + 1) == Some(&']') {
                    // `[]` matches nothing.
                    out.push_str("[^\\x{0}-\\x{10FFFF}]");
                    in_class = false;
                    i += 2;
                    continue;
                }
                out.push('[');
            }
            ']' if in_class && !at_class_start => {
                in_class = false;
                out.push(']');
            }
            '[' | '&' | '~' if in_class => {
                out.push('\\');
                out.push(c);
            }
            '-' if in_class => out.push('-'),
            '.' if !in_class => out.push_str("[^\\n\\r\\x{2028}\\x{2029}]"),
            '(' if !in_class && chars.get(i + 1) == Some(&'?') => {
                let rest: String = chars[i + 2..].iter().take(3).collect();
                if rest.starts_with('=')
                    || rest.starts_with('!')
                    || rest.starts_with("<=")
                    || rest.starts_with("<!")
                {
                    return Err(RegexError::Unsupported("lookaround".into()));
                }
                if rest.starts_with(':') || rest.starts_with('<') {
                    out.push_str("(?");
                    i += 2;
                    continue;
                }
                return Err(RegexError::Invalid("unknown group syntax".into()));
            }
            '{' if !in_class => {
                if let Some(len) = quantifier_len(&chars[i..]) {
                    out.extend(&chars[i..i + len]);
                    i += len;
                    continue;
                }
                out.push_str("\\{");
            }
            '}' if !in_class => out.push_str("\\}"),
            c if is_unit_mapped(c, ci) => push_units(&mut out, c, ci),
            c => out.push(c),
        }
        i += 1;
    }
    if in_class {
        return Err(RegexError::Invalid("unterminated character class".into()));
    }
    Ok(out)
}

fn hex_run(chars: &[char], at: usize, n: usize) -> Option<u32> {
    let s = chars.get(at..at + n)?;
    let mut v = 0u32;
    for c in s {
        v = v * 16 + c.to_digit(16)?;
    }
    Some(v)
}

fn push_code_point(out: &mut String, v: u32, ci: bool) {
    match char::from_u32(v) {
        Some(c) if is_unit_mapped(c, ci) => push_units(out, c, ci),
        Some(_) => out.push_str(&format!("\\x{{{v:x}}}")),
        // A lone surrogate escape: one unit.
        None => out.push_str(&format!("\\x{{{:x}}}", unit_char(v as u16) as u32)),
    }
}

// JavaScript patterns without the `u` flag match UTF-16 code units, and `i` compares
// `Canonicalize(ch)` (upper case, kept only if it is one unit and does not turn non-ASCII
// into ASCII). The engine matches code points with Unicode simple case folding, so pattern
// and haystack are rewritten where the two differ:
// - a character outside the BMP is its two surrogates, each a placeholder code point in
//   plane 15 (`.`, `[^a]` and `\S` then match half of it, and `^..$` all of it, as in JS);
// - with `i`, the characters whose Unicode fold partners JS does not accept (Kelvin sign,
//   long s, sharp s, Angstrom sign, ...) become placeholders that fold with nothing.
// Placeholders never meet real text: every astral character of a rewritten haystack is one.

/// First placeholder: surrogate `0xD800 + n` is `PLACEHOLDERS + n`.
const PLACEHOLDERS: u32 = 0xF_0000;

/// BMP characters that, under JS `i`, match only themselves although Unicode folds them
/// together with others.
const FOLD_ALONE: &[char] = &[
    '\u{17f}', '\u{390}', '\u{3b0}', '\u{df}', '\u{1e9e}', '\u{1fd3}', '\u{1fe3}', '\u{212a}',
    '\u{212b}', '\u{fb05}', '\u{fb06}',
];

fn unit_char(u: u16) -> char {
    char::from_u32(PLACEHOLDERS + u32::from(u) - 0xD800).unwrap_or('\u{fffd}')
}

fn is_unit_mapped(c: char, ci: bool) -> bool {
    c.len_utf16() == 2 || (ci && FOLD_ALONE.contains(&c))
}

/// The placeholder(s) standing for `c` (which `is_unit_mapped`).
fn push_units(out: &mut String, c: char, ci: bool) {
    if ci && let Some(i) = FOLD_ALONE.iter().position(|&f| f == c) {
        // After the 2048 surrogate placeholders.
        let p = char::from_u32(PLACEHOLDERS + 0x800 + i as u32).unwrap_or('\u{fffd}');
        out.push_str(&format!("\\x{{{:x}}}", p as u32));
        return;
    }
    let mut buf = [0u16; 2];
    for u in c.encode_utf16(&mut buf) {
        out.push_str(&format!("\\x{{{:x}}}", unit_char(*u) as u32));
    }
}

/// Whether `haystack` must be rewritten by [`to_units`] before matching.
pub(super) fn needs_units(haystack: &str, ci: bool) -> bool {
    haystack.bytes().any(|b| b >= 0xF0)
        || (ci && !haystack.is_ascii() && haystack.chars().any(|c| FOLD_ALONE.contains(&c)))
}

/// The haystack with every character `is_unit_mapped` replaced by its placeholder(s).
pub(super) fn to_units(haystack: &str, ci: bool) -> String {
    let mut out = String::with_capacity(haystack.len() + 8);
    for c in haystack.chars() {
        if !is_unit_mapped(c, ci) {
            out.push(c);
        } else if ci && let Some(i) = FOLD_ALONE.iter().position(|&f| f == c) {
            out.push(char::from_u32(PLACEHOLDERS + 0x800 + i as u32).unwrap_or('\u{fffd}'));
        } else {
            let mut buf = [0u16; 2];
            for u in c.encode_utf16(&mut buf) {
                out.push(unit_char(*u));
            }
        }
    }
    out
}

fn push_literal(out: &mut String, c: char) {
    if c.is_ascii_punctuation()
        && !matches!(
            c,
            '/' | '<' | '>' | '\'' | '"' | '!' | '@' | '%' | ',' | ':' | ';' | '=' | '_' | '`'
        )
    {
        out.push('\\');
    }
    out.push(c);
}

/// Length of a `{n}`, `{n,}` or `{n,m}` quantifier at the start of `s`, if it is one.
fn quantifier_len(s: &[char]) -> Option<usize> {
    let mut i = 1;
    let d0 = i;
    while s.get(i).is_some_and(char::is_ascii_digit) {
        i += 1;
    }
    if i == d0 {
        return None;
    }
    if s.get(i) == Some(&',') {
        i += 1;
        while s.get(i).is_some_and(char::is_ascii_digit) {
            i += 1;
        }
    }
    (s.get(i) == Some(&'}')).then_some(i + 1)
}
