//! Decimal text to the nearest `f64`, correctly rounded (ties to even), small in code.
//!
//! [`parse`] reads `-?digits[.digits][(e|E)[+-]digits]`, where the mantissa may also be
//! spelled as JavaScript allows (`.5`, `5.`, `007`), and gives the `f64` nearest to the exact
//! decimal value, as core's `str::parse::<f64>` does, bit for bit. It is what JSON numbers
//! (gb-core's reader) and JavaScript's `Number(string)` are read with.
//!
//! It exists for size: core's parser carries a 20 KB table of powers of five (Eisel-Lemire)
//! and serde_json's is about 12 KB of wasm and only reachable through its deserializer. This
//! one is Clinger's fast path (a mantissa of at most 2^53 and a power of ten up to 10^22,
//! both exact, so one rounding) and otherwise the "simple decimal conversion": the digits in
//! a fixed buffer, shifted by powers of two until the value lies in [1/2, 1), then 53 bits
//! taken and rounded half to even. The buffer holds [`MAX_DIGITS`] significant digits and
//! remembers whether a non-zero digit was dropped, which decides only exact halfway cases: a
//! halfway point between two doubles has at most 767 significant digits. It first runs with
//! 40 digits (a shift then costs at most 60 digit steps, about 2 µs for `1e300` in a release
//! build against 40 ns for serde_json's parser) and again with all of them only when those
//! cannot decide the rounding (a value within 10^-20 below a half, see `FIRST_DIGITS`).
//!
//! No allocation, no panic, time linear in the text: exponents of any length saturate
//! (`1e999999999999` is infinity, `1e-999999999999` is zero), and every shift costs at most
//! [`MAX_DIGITS`] steps, for at most about 70 shifts (60 bits each).

/// Significant digits the slow path keeps (a non-zero digit past them sets the `trunc` flag).
pub const MAX_DIGITS: usize = 800;

/// The `f64` nearest to the decimal number `text` (ties to even), or `None` if `text` is not
/// `-?D*[.D*][(e|E)[+-]D+]` with at least one mantissa digit (`D` an ASCII digit). A magnitude
/// past `f64::MAX` gives an infinity, one below half the least subnormal a zero (signed).
///
/// ```
/// use gb_condition::decimal::parse;
/// assert_eq!(parse("0.1"), Some(0.1));
/// assert_eq!(parse("-.5e1"), Some(-5.0));
/// assert_eq!(parse("1e400"), Some(f64::INFINITY));
/// assert_eq!(parse("1e"), None);
/// ```
#[must_use]
pub fn parse(text: &str) -> Option<f64> {
    let t = text.as_bytes();
    let (neg, t) = match t.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, t),
    };
    let n = Scan::new(t)?;
    let x = n.fast().unwrap_or_else(|| slow(t, &n));
    Some(if neg { -x } else { x })
}

/// The shape of an unsigned decimal text, read in one pass.
struct Scan {
    /// The first 19 significant digits as an integer.
    mantissa: u64,
    /// Significant digits (from the first non-zero one), all of them.
    digits: usize,
    /// Significant digits before the point.
    int_digits: usize,
    /// Digits after the point, leading zeros included.
    frac_len: usize,
    /// The exponent, saturated to +-`EXP_CAP`.
    exp: i64,
    /// Where the mantissa ends (the exponent, if any, is not re-read).
    end: usize,
}

/// Past this an exponent is as good as infinite: the digits of any text shorter than
/// `isize::MAX` cannot bring it back into range, and sums stay far from `i64`'s limits.
const EXP_CAP: i64 = 1 << 59;

impl Scan {
    fn new(t: &[u8]) -> Option<Self> {
        let mut s = Scan {
            mantissa: 0,
            digits: 0,
            int_digits: 0,
            frac_len: 0,
            exp: 0,
            end: t.len(),
        };
        let mut any = false;
        let mut point = false;
        for (i, &c) in t.iter().enumerate() {
            match c {
                b'0'..=b'9' => {
                    any = true;
                    s.frac_len += usize::from(point);
                    if s.digits > 0 || c != b'0' {
                        if s.digits < 19 {
                            s.mantissa = s.mantissa * 10 + u64::from(c - b'0');
                        }
                        s.digits += 1;
                        s.int_digits += usize::from(!point);
                    }
                }
                b'.' if !point => point = true,
                b'e' | b'E' => {
                    s.end = i;
                    break;
                }
                _ => return None,
            }
        }
        if !any {
            return None;
        }
        if let Some(e) = t.get(s.end + 1..) {
            let (neg, e) = match e.split_first() {
                Some((b'-', rest)) => (true, rest),
                Some((b'+', rest)) => (false, rest),
                _ => (false, e),
            };
            if e.is_empty() || !e.iter().all(u8::is_ascii_digit) {
                return None;
            }
            let e = e
                .iter()
                .fold(0i64, |e, &c| (e * 10 + i64::from(c - b'0')).min(EXP_CAP));
            s.exp = if neg { -e } else { e };
        }
        Some(s)
    }

    /// Clinger's fast path: the value when both the mantissa and the power of ten are exact.
    fn fast(&self) -> Option<f64> {
        const POW10: [f64; 23] = [
            1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
            1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
        ];
        if self.digits == 0 {
            return Some(0.0);
        }
        if self.digits > 19 || self.mantissa > 1 << 53 {
            return None;
        }
        // The value is mantissa * 10^e.
        let e = self.exp.saturating_sub(self.frac_len as i64);
        let m = self.mantissa as f64;
        if e < 0 {
            Some(m / *POW10.get(usize::try_from(-e).ok()?)?)
        } else {
            Some(m * *POW10.get(usize::try_from(e).ok()?)?)
        }
    }
}

/// The slow path: the significant digits in a fixed buffer, 0.d1d2d3... x 10^dp.
struct Decimal {
    /// ASCII-free digit values 0..=9; room for a left shift's new digits past `MAX_DIGITS`.
    d: [u8; MAX_DIGITS + 20],
    /// Digits in use (at most `MAX_DIGITS`; no trailing zero).
    nd: usize,
    /// The decimal point's position.
    dp: i64,
    /// A non-zero digit was dropped.
    trunc: bool,
    /// Digits kept: `MAX_DIGITS`, or `FIRST_DIGITS` on the first try.
    cap: usize,
}

/// Digits kept on the first try. Every dropped digit lowers the value by less than 10^-39 of
/// itself, and there are fewer than 200 drops (one per shift), so the 54-bit integer the
/// result is rounded from is low by less than 2^54 * 200 * 10^-39 < 10^-20: only a fraction
/// of 0.4999... (4 and 19 nines) could be a truncated half or more, and needs every digit.
const FIRST_DIGITS: usize = 40;

/// The largest shift in one step: a carry times 10 plus a digit stays below 2^64.
const MAX_SHIFT: u32 = 60;

/// How far to shift a value of `n` integer digits to bring it toward [1/2, 1): 2^k <= 10^n
/// (past the table, 2^60 < 10^19).
const POW_TAB: [u8; 19] = [
    1, 3, 6, 9, 13, 16, 19, 23, 26, 29, 33, 36, 39, 43, 46, 49, 53, 56, 59,
];

/// The slow path: first with `FIRST_DIGITS` digits, then, if that is too close to call, with
/// all of them.
fn slow(t: &[u8], n: &Scan) -> f64 {
    slow_with(t, n, FIRST_DIGITS).unwrap_or_else(|| slow_with(t, n, MAX_DIGITS).unwrap_or(0.0))
}

/// The value, or `None` if `cap` digits do not decide its rounding.
fn slow_with(t: &[u8], n: &Scan, cap: usize) -> Option<f64> {
    let mut d = Decimal {
        d: [0; MAX_DIGITS + 20],
        nd: 0,
        dp: n.int_digits as i64,
        trunc: false,
        cap,
    };
    let mut point = false;
    for &c in t.get(..n.end).unwrap_or_default() {
        match c {
            b'.' => point = true,
            // A zero before the first significant digit: after the point it lowers dp.
            b'0' if d.nd == 0 => d.dp -= i64::from(point),
            _ => d.push(c - b'0'),
        }
    }
    d.dp = d.dp.saturating_add(n.exp);
    d.trim();
    d.into_f64()
}

impl Decimal {
    fn push(&mut self, v: u8) {
        if self.nd < self.cap {
            if let Some(slot) = self.d.get_mut(self.nd) {
                *slot = v;
            }
            self.nd += 1;
        } else if v != 0 {
            self.trunc = true;
        }
    }

    fn digit(&self, i: usize) -> u64 {
        u64::from(self.d.get(i).copied().unwrap_or(0))
    }

    fn trim(&mut self) {
        while self.nd > 0 && self.digit(self.nd - 1) == 0 {
            self.nd -= 1;
        }
        if self.nd == 0 {
            self.dp = 0;
        }
    }

    /// Multiplies by 2^k (k <= `MAX_SHIFT`).
    fn shift_left(&mut self, k: u32) {
        // New integer digits: at most ceil(k log10 2) <= 19 (1233 / 4096 > log10 2).
        let grow = ((k as usize * 1233) >> 12) + 1;
        let mut w = self.nd + grow;
        let mut n: u64 = 0;
        for r in (0..self.nd).rev() {
            n += self.digit(r) << k;
            w -= 1;
            self.set(w, (n % 10) as u8);
            n /= 10;
        }
        while n > 0 {
            w = w.wrapping_sub(1);
            self.set(w, (n % 10) as u8);
            n /= 10;
        }
        // Digits now sit in w..nd + grow; w is the count of leading zeros not written.
        let len = self.nd + grow - w;
        self.d.copy_within(w..w + len, 0);
        self.dp += (grow - w) as i64;
        if len > self.cap {
            self.trunc |= self.d[self.cap..len].iter().any(|&v| v != 0);
            self.nd = self.cap;
        } else {
            self.nd = len;
        }
        self.trim();
    }

    /// Divides by 2^k (k <= `MAX_SHIFT`).
    fn shift_right(&mut self, k: u32) {
        let mut r = 0;
        let mut n: u64 = 0;
        // Read digits until the quotient has one.
        while n >> k == 0 {
            if r >= self.nd {
                if n == 0 {
                    self.nd = 0;
                    self.dp = 0;
                    return;
                }
                while n >> k == 0 {
                    n *= 10;
                    r += 1;
                }
                break;
            }
            n = n * 10 + self.digit(r);
            r += 1;
        }
        self.dp -= r as i64 - 1;
        let mask = (1u64 << k) - 1;
        let mut w = 0;
        while r < self.nd {
            let q = n >> k;
            n &= mask;
            self.set(w, q as u8);
            w += 1;
            n = n * 10 + self.digit(r);
            r += 1;
        }
        while n > 0 {
            let q = n >> k;
            n &= mask;
            if w < self.cap {
                self.set(w, q as u8);
                w += 1;
            } else if q > 0 {
                self.trunc = true;
            }
            n *= 10;
        }
        self.nd = w;
        self.trim();
    }

    fn set(&mut self, i: usize, v: u8) {
        if let Some(slot) = self.d.get_mut(i) {
            *slot = v;
        }
    }

    /// Multiplies by 2^k, k of either sign.
    fn shift(&mut self, mut k: i64) {
        while k > 0 {
            let s = k.min(i64::from(MAX_SHIFT));
            self.shift_left(s as u32);
            k -= s;
        }
        while k < 0 {
            let s = (-k).min(i64::from(MAX_SHIFT));
            self.shift_right(s as u32);
            k += s;
        }
    }

    /// The integer part, rounded half to even (the caller has at most 54 bits there).
    fn rounded_integer(&self) -> u64 {
        // Below 1/10 it rounds to zero.
        let Ok(dp) = usize::try_from(self.dp) else {
            return 0;
        };
        if dp > 20 {
            return u64::MAX;
        }
        let mut n = 0u64;
        for i in 0..dp {
            n = n * 10 + if i < self.nd { self.digit(i) } else { 0 };
        }
        let up = dp < self.nd
            && match self.digit(dp) {
                // Exactly halfway (no trailing zero is kept): to even, unless digits were lost.
                5 if dp + 1 == self.nd => self.trunc || n % 2 == 1,
                v => v >= 5,
            };
        n + u64::from(up)
    }

    /// Whether the fraction is 0.4999... (4 and 19 nines) or more but below 1/2: a value that
    /// lost digits may then be a half or more (see `FIRST_DIGITS`).
    fn near_half(&self) -> bool {
        let Ok(dp) = usize::try_from(self.dp) else {
            return false;
        };
        self.digit(dp) == 4 && (dp + 1..dp + 20).all(|i| i < self.nd && self.digit(i) == 9)
    }

    /// The nearest `f64`, or `None` if digits were dropped from a value too near a half.
    fn into_f64(mut self) -> Option<f64> {
        const BIAS: i64 = -1023;
        const MANT_BITS: u32 = 52;
        if self.nd == 0 || self.dp < -330 {
            return Some(0.0);
        }
        if self.dp > 310 {
            return Some(f64::INFINITY);
        }
        let mut exp: i64 = 0;
        while self.dp > 0 {
            let k = POW_TAB.get(self.dp as usize).copied().unwrap_or(60);
            self.shift(-i64::from(k));
            exp += i64::from(k);
        }
        while self.nd > 0 && (self.dp < 0 || (self.dp == 0 && self.digit(0) < 5)) {
            let k = POW_TAB
                .get(self.dp.unsigned_abs() as usize)
                .copied()
                .unwrap_or(60);
            self.shift(i64::from(k));
            exp -= i64::from(k);
        }
        // In [1/2, 1); a double's significand is in [1, 2).
        exp -= 1;
        if exp < BIAS + 1 {
            let k = BIAS + 1 - exp;
            self.shift(-k);
            exp += k;
        }
        if exp - BIAS >= 0x7FF {
            return Some(f64::INFINITY);
        }
        self.shift(i64::from(MANT_BITS + 1));
        if self.trunc && self.cap < MAX_DIGITS && self.near_half() {
            return None;
        }
        let mut mant = self.rounded_integer();
        if mant == 2 << MANT_BITS {
            mant >>= 1;
            exp += 1;
            if exp - BIAS >= 0x7FF {
                return Some(f64::INFINITY);
            }
        }
        if mant & (1 << MANT_BITS) == 0 {
            // Subnormal (or zero).
            exp = BIAS;
        }
        let bits = (mant & ((1 << MANT_BITS) - 1)) | (((exp - BIAS) as u64 & 0x7FF) << MANT_BITS);
        Some(f64::from_bits(bits))
    }
}

#[cfg(test)]
mod tests {
    use super::{FIRST_DIGITS, MAX_DIGITS, Scan, parse, slow_with};
    use alloc::format;

    /// Just below the half between 2^53 and 2^53 + 2, past the 40th digit: the first try
    /// cannot decide it and leaves it to all the digits; further away it decides.
    #[test]
    fn the_first_try_defers_only_near_a_half() {
        let below = format!("9007199254740992.{}", "9".repeat(30));
        let far = "9007199254740992.9999999";
        for (t, defers) in [(below.as_str(), true), (far, false)] {
            let n = Scan::new(t.as_bytes()).expect("decimal");
            let first = slow_with(t.as_bytes(), &n, FIRST_DIGITS);
            assert_eq!(first.is_none(), defers, "{t}");
            let all = slow_with(t.as_bytes(), &n, MAX_DIGITS).expect("all digits decide");
            assert_eq!(all, 9007199254740992.0, "{t}");
            assert_eq!(parse(t), Some(all));
        }
    }

    #[test]
    fn grammar() {
        for bad in [
            "", "-", ".", "-.", "e5", "1e", "1e+", "1.2.3", "1x", "+1", "1e5.0", " 1",
        ] {
            assert_eq!(parse(bad), None, "{bad:?}");
        }
        for (t, v) in [
            ("0", 0.0f64),
            ("-0", -0.0),
            ("5.", 5.0),
            (".5", 0.5),
            ("007", 7.0),
            ("1E2", 100.0),
            ("1e+2", 100.0),
            ("25e-1", 2.5),
        ] {
            assert_eq!(parse(t).map(f64::to_bits), Some(v.to_bits()), "{t:?}");
        }
    }
}
