//! Bucket ranges, variation choice, namespaces, equal weights and query-string overrides.

use alloc::vec::Vec;

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
pub fn query_string_override(id: &str, url: &str, num_variations: usize) -> Option<usize> {
    let search = url.split('?').nth(1)?;
    if search.is_empty() {
        return None;
    }
    let search = match search.find('#') {
        Some(i) => &search[..i],
        None => search,
    };
    let value = search.split('&').find_map(|kv| {
        let mut it = kv.splitn(2, '=');
        let k = it.next().unwrap_or("");
        (k == id).then(|| it.next())
    })?;
    let n = parse_int(value?)?;
    (n >= 0 && (n as u64) < num_variations as u64).then_some(n as usize)
}

/// JavaScript `parseInt(s)` for radix 10 (and `0x` hex), as far as integers in range go.
fn parse_int(s: &str) -> Option<i64> {
    let t = s.trim_start_matches([' ', '\t', '\n', '\r', '\u{b}', '\u{c}']);
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
    let end = t.find(|c: char| !c.is_digit(radix)).unwrap_or(t.len());
    if end == 0 {
        return None;
    }
    let digits = &t[..end.min(18)];
    let v = i64::from_str_radix(digits, radix).ok()?;
    Some(if neg { -v } else { v })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_int_like_javascript() {
        assert_eq!(parse_int("2.054"), Some(2));
        assert_eq!(parse_int(" 1"), Some(1));
        assert_eq!(parse_int("abc"), None);
        assert_eq!(parse_int("-1"), Some(-1));
        assert_eq!(parse_int("0x1"), Some(1));
    }
}
