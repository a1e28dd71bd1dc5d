//! Bucket ranges, variation choice, namespaces, equal weights and query-string overrides.

use alloc::string::String;
use alloc::vec::Vec;

use gb_condition::scan;

/// A half-open bucket range `[start, end)`.
pub type Range = (f64, f64);

/// `n` equal weights summing to 1 (empty for `n <= 0`).
pub fn equal_weights(n: usize) -> Vec<f64> {
    if n == 0 {
        return Vec::new();
    }
    let w = 1.0 / n as f64;
    alloc::vec![w; n]
}

/// The reference `getBucketRanges`: coverage clamped to `[0, 1]`; weights that are missing,
/// of the wrong length or not summing to about 1 are replaced by equal weights.
pub fn bucket_ranges(num_variations: usize, coverage: f64, weights: Option<&[f64]>) -> Vec<Range> {
    let coverage = coverage.clamp(0.0, 1.0);
    let equal;
    let weights = match weights {
        Some(w) if w.len() == num_variations && weights_sum_ok(w) => w,
        _ => {
            equal = equal_weights(num_variations);
            &equal[..]
        }
    };
    let mut cumulative = 0.0;
    weights
        .iter()
        .map(|w| {
            let start = cumulative;
            cumulative += w;
            (start, start + coverage * w)
        })
        .collect()
}

fn weights_sum_ok(w: &[f64]) -> bool {
    let total = w.iter().fold(0.0, |acc, x| x + acc);
    (0.99..=1.01).contains(&total)
}

/// Whether `n` falls in `[start, end)`.
#[inline]
pub fn in_range(n: f64, r: Range) -> bool {
    n >= r.0 && n < r.1
}

/// The index of the first range containing `n`, or `None` (the reference's `-1`).
pub fn choose_variation(n: f64, ranges: &[Range]) -> Option<usize> {
    ranges.iter().position(|r| in_range(n, *r))
}

/// The legacy namespace check: hash v1 of the value with seed `"__" + id`.
pub fn in_namespace(hash_value: &str, id: &str, start: f64, end: f64) -> bool {
    let n = crate::hash::namespace_hash(|h| h.update(hash_value), id);
    n >= start && n < end
}

/// The reference `getQueryStringOverride`: `?<id>=<n>` in `url` forces variation `n` when
/// `0 <= n < num_variations`. Keys are compared without URL decoding; the value is read with
/// JavaScript `parseInt`.
///
/// The reference drops the fragment with `search.replace(/#.*/, "")`, and `.` stops at a line
/// terminator: only the first `#` up to the next `\n`, `\r`, U+2028 or U+2029 goes, and what
/// follows is still searched (`"?f=1#x\n&e=1"` forces `e`).
pub fn query_string_override(id: &str, url: &str, num_variations: usize) -> Option<usize> {
    let search = scan::split(url, b'?').nth(1)?;
    if search.is_empty() {
        return None;
    }
    let joined;
    let search = match scan::find(search, b'#') {
        None => search,
        Some(hash) => match search[hash..]
            .char_indices()
            .find(|&(_, c)| is_line_terminator(c))
        {
            None => &search[..hash],
            Some((end, _)) => {
                joined = String::from(&search[..hash]) + &search[hash + end..];
                joined.as_str()
            }
        },
    };
    let value = scan::split(search, b'&').find_map(|kv| match scan::split_once(kv, b'=') {
        Some((k, v)) => (k == id).then_some(Some(v)),
        None => (kv == id).then_some(None),
    })?;
    let n = parse_int(value?)?;
    (n >= 0 && (n as u64) < num_variations as u64).then_some(n as usize)
}

/// What JavaScript's `.` in a regular expression does not match.
fn is_line_terminator(c: char) -> bool {
    matches!(c, '\n' | '\r' | '\u{2028}' | '\u{2029}')
}

/// JavaScript `parseInt(s)` for radix 10 (and `0x` hex), as far as integers in range go.
/// Leading JS whitespace (U+00A0, U+FEFF, U+2028, U+3000, ...) is skipped, and leading zeros
/// never count towards the digits read: `"000000000000000000001"` is 1.
fn parse_int(s: &str) -> Option<i64> {
    let t = s.trim_start_matches(gb_condition::is_js_whitespace);
    let (neg, t) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let (radix, t) = if t.starts_with("0x") || t.starts_with("0X") {
        (16, &t[2..])
    } else {
        (10, t)
    };
    // Digits are ASCII: a byte that is not one ends the number, as the char would.
    let end = t
        .bytes()
        .position(|b| !char::from(b).is_digit(radix))
        .unwrap_or(t.len());
    if end == 0 {
        return None;
    }
    // Past 15 significant digits the number is far above any variation count; 15 keep it
    // inside i64 in either radix.
    let zeros = t.bytes().take_while(|&b| b == b'0').count();
    let digits = &t[zeros.min(end)..end];
    let v = i64::from_str_radix(&digits[..digits.len().min(15)], radix).unwrap_or(0);
    Some(if neg { -v } else { v })
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::String;

    #[test]
    fn parse_int_like_javascript() {
        assert_eq!(parse_int("2.054"), Some(2));
        assert_eq!(parse_int(" 1"), Some(1));
        assert_eq!(parse_int("abc"), None);
        assert_eq!(parse_int("-1"), Some(-1));
        assert_eq!(parse_int("0x1"), Some(1));
    }

    /// What the reference's `getQueryStringOverride` returned for these (Node 20,
    /// `@growthbook/growthbook` 1.8.0, `dist/cjs/util.js`, three variations). `cargo xtask diff`
    /// generates such URLs against the real SDK; these pin the cases that once differed.
    #[test]
    fn query_string_overrides_as_the_reference_reads_them() {
        let cases: &[(&str, Option<usize>)] = &[
            ("?e=1", Some(1)),
            ("?e=\u{a0}1", Some(1)),
            ("?e=\u{2028}1", Some(1)),
            ("?e=\u{feff}1", Some(1)),
            ("?e=\u{3000}1", Some(1)),
            ("?e=\u{200b}1", None),
            ("?e= \t\n1", Some(1)),
            ("?e=000000000000000000001", Some(1)),
            ("?e=0x0000000000000000000001", Some(1)),
            ("?e=0x1", Some(1)),
            ("?e=-0", Some(0)),
            ("?e=+1", Some(1)),
            ("?e=#x\n&e=1", None),
            ("?f=1#x\n&e=1", Some(1)),
            ("?f=1#x\u{2028}&e=1", Some(1)),
            ("?e=1?e=2", Some(1)),
        ];
        for (search, want) in cases {
            let url = String::from("http://x/p") + search;
            assert_eq!(query_string_override("e", &url, 3), *want, "{url:?}");
        }
    }
}
