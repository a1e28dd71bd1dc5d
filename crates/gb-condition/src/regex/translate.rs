//! Translating JavaScript (non-`u`) pattern syntax into `regex-syntax` syntax.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use super::RegexError;

/// JavaScript's `\s`: WhiteSpace and LineTerminator, spelled out so that no Unicode property
/// table is needed.
const JS_SPACE: &str = "\\t\\n\\x{B}\\x{C}\\r \\x{A0}\\x{1680}\\x{2000}-\\x{200A}\\x{2028}\\x{2029}\\x{202F}\\x{205F}\\x{3000}\\x{FEFF}";

/// Translates a JavaScript (non-`u`) pattern into `regex-syntax` syntax.
pub(super) fn translate(js: &str) -> Result<String, RegexError> {
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
                        push_code_point(&mut out, v)?;
                        i += 2;
                    }
                    'u' if hex_run(&chars, i, 4).is_some() => {
                        let mut v = hex_run(&chars, i, 4).unwrap_or(0);
                        i += 4;
                        let low =
                            hex_run(&chars, i + 2, 4).filter(|lo| (0xDC00..0xE000).contains(lo));
                        if let Some(lo) = low
                            && (0xD800..0xDC00).contains(&v)
                            && chars.get(i) == Some(&'\\')
                            && chars.get(i + 1) == Some(&'u')
                        {
                            v = 0x10000 + ((v - 0xD800) << 10) + (lo - 0xDC00);
                            i += 6;
                        }
                        push_code_point(&mut out, v)?;
                    }
                    c if c.is_ascii_alphanumeric() => {
                        // JavaScript treats other escaped letters/digits as the letter itself.
                        out.push(c);
                    }
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

fn push_code_point(out: &mut String, v: u32) -> Result<(), RegexError> {
    if char::from_u32(v).is_none() {
        return Err(RegexError::Unsupported("lone surrogate".into()));
    }
    out.push_str(&format!("\\x{{{v:x}}}"));
    Ok(())
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
