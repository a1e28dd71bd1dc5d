//! JavaScript's `i` flag without `u`: two UTF-16 units match when their `Canonicalize` agree
//! (ECMAScript 22.2.2.7.3): the unit's `toUpperCase`, kept only if it is one unit and does not
//! turn a non-ASCII unit into an ASCII one. `core`'s case tables give `toUpperCase`; two small
//! tables below give the inverse, so no case-folding table of a regex crate is needed.

use alloc::vec::Vec;

/// `Canonicalize(ch)` of one UTF-16 unit (surrogates are themselves).
pub(super) fn canonicalize(u: u16) -> u16 {
    let Some(c) = char::from_u32(u32::from(u)) else {
        return u;
    };
    let mut upper = c.to_uppercase();
    match (upper.next(), upper.next()) {
        (Some(x), None) => match u16::try_from(u32::from(x)) {
            Ok(x) if u < 128 || x >= 128 => x,
            _ => u,
        },
        _ => u,
    }
}

/// The one-unit lower case of `u`, if it has one.
fn lower(u: u16) -> Option<u16> {
    match crate::lower::lower_char(char::from_u32(u32::from(u))?) {
        (x, None) => u16::try_from(u32::from(x)).ok(),
        _ => None,
    }
}

/// Units `u` whose canonical form `k` is neither `u` nor `lower(k)`: with `k` and `lower(k)`
/// they are every unit that can share `u`'s canonical form (checked over every unit by the
/// tests).
const EXTRA: [u16; 25] = [
    0xb5, 0x1c5, 0x1c8, 0x1cb, 0x1f2, 0x345, 0x3c2, 0x3d0, 0x3d1, 0x3d5, 0x3d6, 0x3f0, 0x3f1,
    0x3f5, 0x1c80, 0x1c81, 0x1c82, 0x1c83, 0x1c84, 0x1c85, 0x1c86, 0x1c87, 0x1c88, 0x1e9b, 0x1fbe,
];

/// Ranges holding every unit that shares its canonical form with another unit (checked by
/// the tests); a unit outside them matches only itself under `i`.
const ACTIVE: [(u16, u16); 23] = [
    (0x0041, 0x007A),
    (0x00B5, 0x029E),
    (0x0345, 0x0345),
    (0x0370, 0x0586),
    (0x10A0, 0x10FF),
    (0x13A0, 0x13FD),
    (0x1C80, 0x1CBF),
    (0x1D79, 0x1D7D),
    (0x1D8E, 0x1D8E),
    (0x1E00, 0x1F7D),
    (0x1FB0, 0x1FFB),
    (0x2132, 0x2132),
    (0x214E, 0x214E),
    (0x2160, 0x2184),
    (0x24B6, 0x24E9),
    (0x2C00, 0x2D2D),
    (0xA640, 0xA66D),
    (0xA680, 0xA69B),
    (0xA722, 0xA7DC),
    (0xA7F5, 0xA7F6),
    (0xAB53, 0xAB53),
    (0xAB70, 0xABBF),
    (0xFF21, 0xFF5A),
];

/// Calls `f` with every unit whose canonical form is `u`'s (including `u`).
fn equivalents(u: u16, f: &mut impl FnMut(u16)) {
    let k = canonicalize(u);
    let candidates = [Some(k), lower(k).filter(|&l| l != k)];
    for c in candidates.into_iter().flatten().chain(EXTRA) {
        if canonicalize(c) == k {
            f(c);
        }
    }
}

/// Adds to the unit ranges `set` every unit that matches one of them under `i`, and returns
/// how many units it looked at: only those of [`ACTIVE`] (about 2,600 at most per range).
pub(super) fn close_over_case(set: &mut Vec<(u16, u16)>) -> usize {
    let mut added = Vec::new();
    let mut work = 0;
    for &(lo, hi) in set.iter() {
        for &(alo, ahi) in &ACTIVE {
            let (from, to) = (lo.max(alo), hi.min(ahi));
            if from > to {
                continue;
            }
            work += usize::from(to - from) + 1;
            for u in from..=to {
                equivalents(u, &mut |e| added.push((e, e)));
            }
        }
    }
    set.extend(added);
    work
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The tables are what `core`'s case data (the one `canonicalize` uses) says they are.
    #[test]
    fn tables_cover_every_unit() {
        let canon: Vec<u16> = (0..=u16::MAX).map(canonicalize).collect();
        let mut count = alloc::vec![0u32; 1 << 16];
        for &k in &canon {
            count[usize::from(k)] += 1;
        }
        for u in 0..=u16::MAX {
            let k = canon[usize::from(u)];
            // Canonical forms are canonical.
            assert_eq!(canonicalize(k), k, "{u:x}");
            if u != k && lower(k) != Some(u) {
                assert!(EXTRA.contains(&u), "{u:x} missing from EXTRA");
            }
            let shared = count[usize::from(k)] > 1;
            if shared {
                assert!(
                    ACTIVE.iter().any(|&(a, b)| (a..=b).contains(&u)),
                    "{u:x} missing from ACTIVE"
                );
            }
            // `equivalents` finds exactly the units with the same canonical form.
            let mut found = 0;
            equivalents(u, &mut |e| {
                assert_eq!(canon[usize::from(e)], k);
                found += 1;
            });
            assert_eq!(found, count[usize::from(k)], "{u:x}");
        }
    }

    #[test]
    fn javascript_canonicalize() {
        let c = |ch: char| char::from_u32(u32::from(canonicalize(ch as u16))).unwrap_or('?');
        assert_eq!(c('a'), 'A');
        assert_eq!(c('ſ'), 'ſ'); // would become ASCII 'S'
        assert_eq!(c('ß'), 'ß'); // "SS" is two units
        assert_eq!(c('\u{212a}'), '\u{212a}'); // Kelvin sign is upper case already
        assert_eq!(c('ς'), 'Σ');
        assert_eq!(c('ǅ'), 'Ǆ');
        assert_eq!(c('ı'), 'ı');
    }
}
