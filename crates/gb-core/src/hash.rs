//! GrowthBook hashing: 32-bit FNV-1a over UTF-16 code units, versions 1 and 2.

use core::fmt::{self, Write};

use serde_json::Value;

const FNV_OFFSET: u32 = 0x811c_9dc5;
const FNV_PRIME: u32 = 0x0100_0193;

/// A streaming 32-bit FNV-1a hasher fed with UTF-16 code units (JavaScript `charCodeAt`).
#[derive(Clone, Copy, Debug)]
pub struct Fnv1a32(u32);

impl Default for Fnv1a32 {
    fn default() -> Self {
        Fnv1a32(FNV_OFFSET)
    }
}

impl Fnv1a32 {
    /// A hasher in its initial state.
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds the UTF-16 code units of `s`.
    #[inline]
    pub fn update(&mut self, s: &str) {
        let mut h = self.0;
        if s.is_ascii() {
            for &b in s.as_bytes() {
                h = (h ^ u32::from(b)).wrapping_mul(FNV_PRIME);
            }
        } else {
            for u in s.encode_utf16() {
                h = (h ^ u32::from(u)).wrapping_mul(FNV_PRIME);
            }
        }
        self.0 = h;
    }

    /// The hash of everything fed so far.
    pub fn finish(self) -> u32 {
        self.0
    }
}

impl Write for Fnv1a32 {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.update(s);
        Ok(())
    }
}

/// `fnv1a32(s)` in one call.
pub fn fnv1a32(s: &str) -> u32 {
    let mut h = Fnv1a32::new();
    h.update(s);
    h.finish()
}

/// Which hashing algorithm an experiment, rollout or filter uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HashVersion {
    /// The original algorithm: `(fnv(value + seed) % 1000) / 1000`.
    V1,
    /// The unbiased algorithm: `(fnv(String(fnv(seed + value))) % 10000) / 10000`.
    V2,
    /// Any other version: no hash (the user is excluded).
    Unknown,
}

impl HashVersion {
    /// Reads a payload's `hashVersion`; a falsy value (missing, `null`, `0`) means `default`.
    pub fn from_json(v: Option<&Value>, default: HashVersion) -> HashVersion {
        match v {
            None | Some(Value::Null) | Some(Value::Bool(false)) => default,
            Some(Value::Number(n)) => match n.as_f64() {
                Some(0.0) => default,
                Some(1.0) => HashVersion::V1,
                Some(2.0) => HashVersion::V2,
                _ => HashVersion::Unknown,
            },
            Some(Value::String(s)) if s.is_empty() => default,
            Some(_) => HashVersion::Unknown,
        }
    }
}

/// The reference `hash(seed, value, version)` for a string value; `None` for an unknown
/// version.
pub fn hash(seed: &str, value: &str, version: HashVersion) -> Option<f64> {
    hash_with(seed, version, |h| h.update(value))
}

/// Hashes a JSON attribute value as JavaScript's string concatenation would print it.
pub(crate) fn hash_value(seed: &str, value: &Value, version: HashVersion) -> Option<f64> {
    hash_with(seed, version, |h| feed_value(h, value))
}

#[inline]
fn hash_with(seed: &str, version: HashVersion, feed: impl Fn(&mut Fnv1a32)) -> Option<f64> {
    match version {
        HashVersion::V2 => {
            let mut h = Fnv1a32::new();
            h.update(seed);
            feed(&mut h);
            Some(v2_finish(h.finish()))
        }
        HashVersion::V1 => {
            let mut h = Fnv1a32::new();
            feed(&mut h);
            h.update(seed);
            Some(f64::from(h.finish() % 1_000) / 1_000.0)
        }
        HashVersion::Unknown => None,
    }
}

/// Hash v1 of `value + "__" + id` (the legacy namespace hash), without building the seed.
#[inline]
pub(crate) fn namespace_hash(feed: impl FnOnce(&mut Fnv1a32), id: &str) -> f64 {
    let mut h = Fnv1a32::new();
    feed(&mut h);
    h.update("__");
    h.update(id);
    f64::from(h.finish() % 1_000) / 1_000.0
}

/// Whether a JSON hash value falls in a legacy namespace.
pub(crate) fn in_namespace_value(value: &Value, id: &str, start: f64, end: f64) -> bool {
    let n = namespace_hash(|h| feed_value(h, value), id);
    n >= start && n < end
}

/// The second round of hash v2: FNV of the decimal digits of the first round.
#[inline]
fn v2_finish(inner: u32) -> f64 {
    let mut buf = [0u8; 10];
    let mut i = buf.len();
    let mut x = inner;
    loop {
        i -= 1;
        buf[i] = b'0' + (x % 10) as u8;
        x /= 10;
        if x == 0 {
            break;
        }
    }
    let mut h = FNV_OFFSET;
    for &b in &buf[i..] {
        h = (h ^ u32::from(b)).wrapping_mul(FNV_PRIME);
    }
    f64::from(h % 10_000) / 10_000.0
}

/// A hash seed with the FNV state after it precomputed (hash v2 hashes `seed + value`, so
/// the seed's part of the work is done once, when the payload loads).
#[derive(Clone, Debug)]
pub(crate) struct Seed {
    text: alloc::boxed::Box<str>,
    after_seed: u32,
}

impl Seed {
    pub(crate) fn new(text: &str) -> Seed {
        Seed {
            text: text.into(),
            after_seed: fnv1a32(text),
        }
    }

    /// The reference `hash(seed, String(value), version)`.
    #[inline]
    pub(crate) fn hash(&self, value: &Value, version: HashVersion) -> Option<f64> {
        match version {
            HashVersion::V2 => {
                let mut h = Fnv1a32(self.after_seed);
                feed_value(&mut h, value);
                Some(v2_finish(h.finish()))
            }
            _ => hash_value(&self.text, value, version),
        }
    }
}

#[inline]
fn feed_value(h: &mut Fnv1a32, value: &Value) {
    match value {
        Value::String(s) => h.update(s),
        other => {
            let _ = gb_condition::write_js_string(h, other);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv_matches_reference_vectors() {
        assert_eq!(fnv1a32(""), 0x811c_9dc5);
        assert_eq!(fnv1a32("a"), 0xe40c_292c);
        assert_eq!(hash("", "a", HashVersion::V1), Some(0.22));
    }

    #[test]
    fn hashes_utf16_code_units() {
        // Astral characters are two code units in JavaScript.
        let mut h = Fnv1a32::new();
        h.update("😀");
        let mut expect = FNV_OFFSET;
        for u in [0xd83du32, 0xde00] {
            expect = (expect ^ u).wrapping_mul(FNV_PRIME);
        }
        assert_eq!(h.finish(), expect);
    }
}
