//! The WHATWG host parser, as far as Node 20's `URL` goes for the hosts targeting meets:
//! domains (percent-decoded, lower-cased, non-ASCII labels to Punycode), IPv4 addresses in
//! every form the standard reads (`0x7f.1` is `127.0.0.1`), IPv6 addresses (compressed) and
//! the opaque hosts of non-special schemes.
//!
//! Not the whole of UTS #46: a non-ASCII label is lower-cased (`gb_condition::lower`) and
//! Punycode-encoded, without Unicode normalization or the IDNA validity checks, and an
//! `xn--` label is not checked to decode (Node rejects `xn--a.com`).

use alloc::string::String;
use alloc::vec::Vec;

use super::percent::{self, Set};

/// Parses the host of a special URL (`http`, `https`, ...), or `None` where `URL` throws.
pub(crate) fn parse_special(input: &str) -> Option<String> {
    if let Some(inner) = input.strip_prefix('[') {
        return ipv6(inner.strip_suffix(']')?);
    }
    let domain = if input.bytes().all(|b| b.is_ascii() && b != b'%') {
        input.to_ascii_lowercase()
    } else {
        to_ascii(&gb_condition::scan::from_utf8_lossy(percent::decode(
            input, false,
        )))?
    };
    if domain.is_empty() || domain.bytes().any(forbidden_in_domain) {
        return None;
    }
    if ends_in_number(&domain) {
        return ipv4(&domain);
    }
    Some(domain)
}

/// Parses the host of a non-special URL: an IPv6 address or an opaque host, kept as written
/// (not lower-cased) with C0 controls and non-ASCII percent-encoded.
pub(crate) fn parse_opaque(input: &str) -> Option<String> {
    if let Some(inner) = input.strip_prefix('[') {
        return ipv6(inner.strip_suffix(']')?);
    }
    if input.bytes().any(|b| b != b'%' && forbidden_in_host(b)) {
        return None;
    }
    let mut out = String::new();
    percent::encode_into(&mut out, input, Set::C0Control);
    Some(out)
}

fn forbidden_in_host(b: u8) -> bool {
    matches!(
        b,
        0 | b'\t'
            | b'\n'
            | b'\r'
            | b' '
            | b'#'
            | b'/'
            | b':'
            | b'<'
            | b'>'
            | b'?'
            | b'@'
            | b'['
            | b'\\'
            | b']'
            | b'^'
            | b'|'
    )
}

fn forbidden_in_domain(b: u8) -> bool {
    forbidden_in_host(b) || b < 0x20 || b == b'%' || b == 0x7f
}

/// The longest non-ASCII label encoded (UTF-8 bytes). Punycode's time grows with the label's
/// length times its distinct code points, so a longer label (DNS allows 63 bytes) targets
/// nothing rather than costing time quadratic in the URL.
const MAX_LABEL_BYTES: usize = 1024;

/// Lower-cases the domain; labels with non-ASCII become `xn--` Punycode. The ideographic
/// and full-width full stops separate labels, as UTS #46 maps them.
fn to_ascii(domain: &str) -> Option<String> {
    let mut out = String::with_capacity(domain.len());
    let mut label = String::new();
    let mut chars = domain.chars();
    loop {
        let c = chars.next();
        match c {
            Some('.' | '\u{3002}' | '\u{ff0e}' | '\u{ff61}') | None => {
                if label.is_ascii() {
                    out.push_str(&label);
                } else if label.len() > MAX_LABEL_BYTES {
                    return None;
                } else {
                    out.push_str("xn--");
                    punycode(&label, &mut out)?;
                }
                label.clear();
                if c.is_none() {
                    return Some(out);
                }
                out.push('.');
            }
            // UTS #46 drops U+FEFF and maps or disallows the other JS whitespace (U+00A0 and
            // U+3000 become a space, which no domain may hold).
            Some('\u{feff}') => {}
            Some(c) if !c.is_ascii() && gb_condition::is_js_whitespace(c) => return None,
            Some(c) => {
                let (a, b) = gb_condition::lower::lower_char(c);
                label.push(a);
                label.extend(b);
            }
        }
    }
}

/// RFC 3492 Punycode of one label (its non-ASCII code points), appended to `out`.
fn punycode(label: &str, out: &mut String) -> Option<()> {
    const BASE: u32 = 36;
    let digit = |d: u32| {
        char::from(if d < 26 {
            b'a' + d as u8
        } else {
            b'0' + (d - 26) as u8
        })
    };
    let input: Vec<u32> = label.chars().map(u32::from).collect();
    let basic = input.iter().filter(|&&c| c < 0x80).count() as u32;
    for &c in input.iter().filter(|&&c| c < 0x80) {
        out.push(char::from_u32(c)?);
    }
    if basic > 0 {
        out.push('-');
    }
    let (mut n, mut delta, mut bias, mut h) = (0x80u32, 0u32, 72u32, basic);
    let total = input.len() as u32;
    while h < total {
        let m = input.iter().copied().filter(|&c| c >= n).min()?;
        delta = delta.checked_add((m - n).checked_mul(h + 1)?)?;
        n = m;
        for &c in &input {
            if c < n {
                delta = delta.checked_add(1)?;
            }
            if c == n {
                let mut q = delta;
                let mut k = BASE;
                loop {
                    let t = if k <= bias {
                        1
                    } else if k >= bias + 26 {
                        26
                    } else {
                        k - bias
                    };
                    if q < t {
                        break;
                    }
                    out.push(digit(t + (q - t) % (BASE - t)));
                    q = (q - t) / (BASE - t);
                    k += BASE;
                }
                out.push(digit(q));
                bias = adapt(delta, h + 1, h == basic);
                delta = 0;
                h += 1;
            }
        }
        delta += 1;
        n += 1;
    }
    Some(())
}

fn adapt(delta: u32, points: u32, first: bool) -> u32 {
    let mut delta = if first { delta / 700 } else { delta / 2 };
    delta += delta / points;
    let mut k = 0;
    while delta > 455 {
        delta /= 35;
        k += 36;
    }
    k + 36 * delta / (delta + 38)
}

/// The last label (one trailing empty label aside) is a number: all digits, or what the IPv4
/// number parser reads (`0x` and hex digits).
fn ends_in_number(domain: &str) -> bool {
    let domain = domain
        .strip_suffix('.')
        .filter(|d| !d.is_empty())
        .unwrap_or(domain);
    let last = match gb_condition::scan::rfind(domain, b'.') {
        Some(i) => &domain[i + 1..],
        None => domain,
    };
    (!last.is_empty() && last.bytes().all(|b| b.is_ascii_digit())) || ipv4_number(last).is_some()
}

/// The IPv4 parser: up to four parts, each decimal, `0x` hex or `0` octal; the last fills
/// the remaining bytes. `None` where it fails.
fn ipv4(domain: &str) -> Option<String> {
    let mut parts: Vec<&str> = gb_condition::scan::split(domain, b'.').collect();
    if parts.last() == Some(&"") && parts.len() > 1 {
        parts.pop();
    }
    if parts.len() > 4 {
        return None;
    }
    let mut numbers = Vec::with_capacity(4);
    for p in &parts {
        numbers.push(ipv4_number(p)?);
    }
    let (last, init) = numbers.split_last()?;
    if init.iter().any(|&n| n > 255) || *last >= 256u64.pow(5 - numbers.len() as u32) {
        return None;
    }
    let mut addr = *last;
    for (i, &n) in init.iter().enumerate() {
        addr += n << (8 * (3 - i));
    }
    let mut out = String::new();
    for i in (0..4).rev() {
        out.push_str(itoa::Buffer::new().format((addr >> (8 * i)) & 255));
        if i > 0 {
            out.push('.');
        }
    }
    Some(out)
}

fn ipv4_number(p: &str) -> Option<u64> {
    if p.is_empty() {
        return None;
    }
    let (radix, digits) = if let Some(h) = p.strip_prefix("0x").or_else(|| p.strip_prefix("0X")) {
        (16, h)
    } else if p.len() > 1 && p.starts_with('0') {
        (8, &p[1..])
    } else {
        (10, p)
    };
    if digits.is_empty() {
        return Some(0);
    }
    let mut n: u64 = 0;
    for b in digits.bytes() {
        let d = u64::from(char::from(b).to_digit(radix)?);
        // Past 2^40 the address fails anyway; saturate so a long part cannot overflow.
        n = (n * u64::from(radix) + d).min(1 << 40);
    }
    Some(n)
}

/// The IPv6 parser and serializer: eight pieces, `::` for the first longest run of two or
/// more zero pieces, lower-case hex, `[` `]` around.
fn ipv6(input: &str) -> Option<String> {
    let b = input.as_bytes();
    let mut pieces = [0u16; 8];
    let (mut piece, mut compress, mut i) = (0usize, None, 0usize);
    if b.first() == Some(&b':') {
        if b.get(1) != Some(&b':') {
            return None;
        }
        i = 2;
        piece = 1;
        compress = Some(1);
    }
    while i < b.len() {
        if piece == 8 {
            return None;
        }
        if b[i] == b':' {
            if compress.is_some() {
                return None;
            }
            i += 1;
            piece += 1;
            compress = Some(piece);
            continue;
        }
        let (mut value, mut len) = (0u16, 0);
        while len < 4 && i < b.len() {
            let Some(d) = percent::hex(b[i]) else { break };
            value = value * 16 + u16::from(d);
            i += 1;
            len += 1;
        }
        if i < b.len() && b[i] == b'.' {
            if len == 0 {
                return None;
            }
            i -= len;
            if piece > 6 {
                return None;
            }
            let mut seen = 0;
            while i < b.len() {
                let mut v4: Option<u16> = None;
                if seen > 0 {
                    if b[i] == b'.' && seen < 4 {
                        i += 1;
                    } else {
                        return None;
                    }
                }
                if !b.get(i).is_some_and(u8::is_ascii_digit) {
                    return None;
                }
                while let Some(&d) = b.get(i).filter(|d| d.is_ascii_digit()) {
                    let n = u16::from(d - b'0');
                    v4 = match v4 {
                        None => Some(n),
                        Some(0) => return None,
                        Some(v) => Some(v * 10 + n),
                    };
                    if v4 > Some(255) {
                        return None;
                    }
                    i += 1;
                }
                pieces[piece] = pieces[piece] * 0x100 + v4.unwrap_or(0);
                seen += 1;
                if seen == 2 || seen == 4 {
                    piece += 1;
                }
            }
            if seen != 4 {
                return None;
            }
            break;
        } else if i < b.len() && b[i] == b':' {
            i += 1;
            if i == b.len() {
                return None;
            }
        } else if i < b.len() {
            return None;
        }
        pieces[piece] = value;
        piece += 1;
    }
    match compress {
        Some(c) => {
            let mut swaps = piece - c;
            let mut p = 7;
            while p != 0 && swaps > 0 {
                pieces.swap(p, c + swaps - 1);
                p -= 1;
                swaps -= 1;
            }
        }
        None if piece != 8 => return None,
        None => {}
    }
    Some(serialize_ipv6(&pieces))
}

fn serialize_ipv6(pieces: &[u16; 8]) -> String {
    // The first longest run of two or more zero pieces.
    let (mut best, mut best_len, mut i) = (None, 1, 0);
    while i < 8 {
        let run = pieces[i..].iter().take_while(|&&p| p == 0).count();
        if run > best_len {
            best = Some(i);
            best_len = run;
        }
        i += run.max(1);
    }
    let mut out = String::from("[");
    let mut ignore0 = false;
    for (i, &p) in pieces.iter().enumerate() {
        if ignore0 && p == 0 {
            continue;
        }
        ignore0 = false;
        if best == Some(i) {
            out.push_str(if i == 0 { "::" } else { ":" });
            ignore0 = true;
            continue;
        }
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut started = false;
        for shift in [12, 8, 4, 0] {
            let d = (p >> shift) & 15;
            if d != 0 || started || shift == 0 {
                out.push(char::from(HEX[usize::from(d)]));
                started = true;
            }
        }
        if i != 7 {
            out.push(':');
        }
    }
    out.push(']');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A non-ASCII label past `MAX_LABEL_BYTES` fails instead of being encoded: 100,000
    /// distinct code points would take on the order of 10^10 steps.
    #[test]
    fn a_huge_non_ascii_label_is_refused() {
        let label: String = (0x4e00u32..0x4e00 + 100_000)
            .filter_map(char::from_u32)
            .collect();
        assert!(parse_special(&label).is_none());
        let small: String = label.chars().take(300).collect();
        assert!(parse_special(&small).is_some_and(|h| h.starts_with("xn--")));
    }

    #[test]
    fn punycode_matches_rfc_3492() {
        let mut out = String::new();
        punycode("bücher", &mut out);
        assert_eq!(out, "bcher-kva");
    }
}
