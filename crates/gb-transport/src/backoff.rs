//! Exponential backoff with subtractive jitter, a floor, a healthy-reset and an extended
//! regime for authorization failures. Pure: it computes delays, the caller sleeps.

use core::hash::{BuildHasher as _, Hasher as _};
use core::time::Duration;
use std::collections::hash_map::RandomState;

/// Backoff settings for reconnects and retries.
///
/// The delay before attempt *n* (from 0) is `min(base · multiplier^n, max)`, reduced by a random
/// fraction up to `jitter` (so in `[(1 − jitter)·d, d]`), and never below `floor`. `base` is
/// `initial`, or the server's `retry:` value clamped to `[floor, max]`.
#[derive(Debug, Clone, PartialEq)]
pub struct BackoffConfig {
    /// First delay. Default 1 s.
    pub initial: Duration,
    /// Largest delay. Default 30 s.
    pub max: Duration,
    /// Growth factor per attempt. Default 2.0.
    pub multiplier: f64,
    /// Fraction of the delay that may be removed at random, in `[0, 1]`. Default 0.5.
    pub jitter: f64,
    /// Smallest delay and smallest gap between two connection attempts. Default 500 ms.
    pub floor: Duration,
    /// A stream that stayed up this long resets the backoff. Default 30 s: the GrowthBook
    /// proxy ends every stream after 60 s, measured from its side, so a one-minute threshold
    /// would never be met by its routine closes and the delay would creep up to `max`.
    pub healthy_reset: Duration,
    /// Delay after a 401 or 403 (jittered, never a permanent stop). Default 5 min.
    pub auth_delay: Duration,
    /// Largest `Retry-After` honoured after a 429 or 503. Default 10 min.
    pub max_retry_after: Duration,
}

impl Default for BackoffConfig {
    fn default() -> Self {
        Self {
            initial: Duration::from_secs(1),
            max: Duration::from_secs(30),
            multiplier: 2.0,
            jitter: 0.5,
            floor: Duration::from_millis(500),
            healthy_reset: Duration::from_secs(30),
            auth_delay: Duration::from_secs(300),
            max_retry_after: Duration::from_secs(600),
        }
    }
}

/// Backoff state: the attempt counter and a small jitter generator.
#[derive(Debug, Clone)]
pub struct Backoff {
    config: BackoffConfig,
    attempt: u32,
    rng: u64,
}

impl Backoff {
    /// A fresh backoff (attempt 0).
    pub fn new(config: BackoffConfig) -> Self {
        let seed = RandomState::new().build_hasher().finish() | 1;
        Self {
            config,
            attempt: 0,
            rng: seed,
        }
    }

    /// The settings.
    pub fn config(&self) -> &BackoffConfig {
        &self.config
    }

    /// How many delays were handed out since the last reset.
    pub fn attempt(&self) -> u32 {
        self.attempt
    }

    /// Back to the first delay (after a healthy period or a success).
    pub fn reset(&mut self) {
        self.attempt = 0;
    }

    /// Clamps a server-sent `retry:` value to `[floor, max]`.
    pub fn clamp_retry(&self, retry: Duration) -> Duration {
        retry.clamp(self.config.floor, self.config.max.max(self.config.floor))
    }

    /// The next delay, starting from `base` (e.g. the server's `retry:`) or `initial`.
    pub fn next_delay(&mut self, base: Option<Duration>) -> Duration {
        let base = base.map_or(self.config.initial, |b| self.clamp_retry(b));
        let factor = self
            .config
            .multiplier
            .max(1.0)
            .powi(self.attempt.min(64) as i32);
        let max = self.config.max.as_secs_f64().max(base.as_secs_f64());
        let nominal = (base.as_secs_f64() * factor).min(max);
        self.attempt = self.attempt.saturating_add(1);
        self.jittered(nominal)
    }

    /// The delay after a 401/403: the long `auth_delay`, jittered. Also advances the counter.
    pub fn auth_delay(&mut self) -> Duration {
        self.attempt = self.attempt.saturating_add(1);
        let nominal = self.config.auth_delay.as_secs_f64();
        self.jittered(nominal)
    }

    /// The delay after an error: `auth_delay` for 401/403, at least the server's `Retry-After`
    /// (capped at `max_retry_after`), otherwise [`next_delay`](Self::next_delay).
    pub fn delay_after_error(
        &mut self,
        err: &crate::error::TransportError,
        base: Option<Duration>,
    ) -> Duration {
        if err.is_auth() {
            return self.auth_delay();
        }
        let delay = self.next_delay(base);
        match err.retry_after() {
            Some(after) => delay.max(after.min(self.config.max_retry_after)),
            None => delay,
        }
    }

    fn jittered(&mut self, nominal_secs: f64) -> Duration {
        let jitter = self.config.jitter.clamp(0.0, 1.0);
        let secs = nominal_secs * (1.0 - jitter * self.unit());
        let secs = if secs.is_finite() { secs.max(0.0) } else { 0.0 };
        Duration::from_secs_f64(secs.min(1e9)).max(self.config.floor)
    }

    /// A uniform number in `[0, 1)` (xorshift64*; quality is ample for jitter).
    fn unit(&mut self) -> f64 {
        let mut x = self.rng;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.rng = x;
        (x.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedule_doubles_caps_and_resets() {
        let mut b = Backoff::new(BackoffConfig::default());
        let expected = [1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0, 30.0];
        for nominal in expected {
            let d = b.next_delay(None).as_secs_f64();
            assert!(
                d <= nominal + 1e-9 && d >= (nominal * 0.5).max(0.5) - 1e-9,
                "{d} vs {nominal}"
            );
        }
        b.reset();
        assert!(b.next_delay(None) <= Duration::from_secs(1));
    }

    #[test]
    fn retry_is_clamped() {
        let mut b = Backoff::new(BackoffConfig {
            jitter: 0.0,
            ..BackoffConfig::default()
        });
        assert_eq!(
            b.next_delay(Some(Duration::ZERO)),
            Duration::from_millis(500)
        );
        b.reset();
        assert_eq!(
            b.next_delay(Some(Duration::from_secs(999_999))),
            Duration::from_secs(30)
        );
    }

    #[test]
    fn auth_is_long_and_repeatable() {
        let mut b = Backoff::new(BackoffConfig::default());
        for _ in 0..3 {
            let d = b.auth_delay();
            assert!(d >= Duration::from_secs(150) && d <= Duration::from_secs(300));
        }
    }
}
