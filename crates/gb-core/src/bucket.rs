//! Bucket ranges, variation choice, namespaces, equal weights and query-string overrides.

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
pub fn query_string_override(id: &str, url: &str, num_variations: usize) -> Option<usize> {
    let search = scan::split(url, b'?').nth(1)?;
    if search.is_empty() {
        return None;
    }
    let search = scan::before(search, b'#');
    let value = scan::split(search, b'&').find_map(|kv| match scan::split_once(kv, b'=') {
        Some((k, v)) => (k == id).then_some(Some(v)),
        None => (kv == id).then_some(None),
    })?;
    let n = parse_int(value?)?;
    (n >= 0 && (n as u64) < num_variations as u64).then_some(n as usize)
}

/// JavaScript `parseInt(s)` for radix 10 (and `0x` hex), as far as integers in range go.
fn parse_int(s: &str) -> Option<i64> {
    let blank = s
        .bytes()
        .take_while(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c))
        .count();
    let t = &s[blank..];
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
    let digits = &t[..end.min(18)];
    let v = i64::from_str_radix(digits, radix).ok()?;
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

    /// The overrides as they were read with `str` patterns before `gb_condition::scan`.
    fn query_string_override_with_patterns(id: &str, url: &str, n: usize) -> Option<usize> {
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
        // `parse_int` as it was, with `str` patterns.
        let t = value?.trim_start_matches([' ', '\t', '\n', '\r', '\u{b}', '\u{c}']);
        let (neg, t) = t
            .strip_prefix('-')
            .map_or((false, t.strip_prefix('+').unwrap_or(t)), |t| (true, t));
        let (radix, t) = t
            .strip_prefix("0x")
            .or_else(|| t.strip_prefix("0X"))
            .map_or((10, t), |t| (16, t));
        let end = t.find(|c: char| !c.is_digit(radix)).unwrap_or(t.len());
        let digits = t.get(..end.min(18)).filter(|d| !d.is_empty())?;
        let v = i64::from_str_radix(digits, radix).ok()?;
        let v = if neg { -v } else { v };
        (v >= 0 && (v as u64) < n as u64).then_some(v as usize)
    }

    /// Generated URLs of query-string pieces: the byte-level reading gives what the `str`
    /// patterns gave.
    #[test]
    fn query_string_override_matches_the_pattern_reading() {
        const PIECES: &[&str] = &[
            "?",
            "#",
            "&",
            "=",
            "e",
            "e1",
            "x",
            "0",
            "1",
            "2",
            "-",
            "+",
            "0x",
            "f",
            " ",
            "\t",
            "\u{b}",
            "\u{a0}",
            "é",
            "€",
            "😀",
            "٣",
            "https://a.com/p",
            "?e=1",
            "&e=2",
            "?x=0x3",
            "&x= -0",
            "?=",
            "&e",
            "?e1=+4",
        ];
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = |n: usize| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % n as u64) as usize
        };
        let mut url = String::new();
        let mut hits = 0;
        for _ in 0..100_000 {
            url.clear();
            for _ in 0..next(16) {
                url.push_str(PIECES[next(PIECES.len())]);
            }
            let id = ["e", "e1", "", "x"][next(4)];
            let n = next(20);
            let want = query_string_override_with_patterns(id, &url, n);
            assert_eq!(
                query_string_override(id, &url, n),
                want,
                "{id:?} {url:?} {n}"
            );
            hits += usize::from(want.is_some());
        }
        assert!(hits > 1_000, "{hits}");
    }
}
