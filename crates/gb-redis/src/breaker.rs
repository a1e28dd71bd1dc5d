//! A circuit breaker: after an outage (a timeout, a refused or dropped connection) calls fail
//! at once instead of each waiting for its own timeout, while one background probe at a time,
//! at most every probe interval, checks whether the server is back.

use alloc::sync::Arc;
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use core::time::Duration;
use std::sync::{Mutex, PoisonError};
use std::time::Instant;

/// The default time between probes while the breaker is open.
pub const DEFAULT_PROBE_INTERVAL: Duration = Duration::from_millis(200);

/// What a caller may do now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Admission {
    /// Closed: send the request.
    Closed,
    /// Open: fail at once. With `probe`, this caller was chosen to start the one probe (and
    /// must report it with [`CircuitBreaker::probe_finished`]).
    Open {
        /// Whether this caller starts the probe.
        probe: bool,
    },
}

#[derive(Debug)]
struct Probe {
    last: Option<Instant>,
    running: bool,
}

#[derive(Debug)]
struct Inner {
    open: AtomicBool,
    opened: AtomicU64,
    probe_interval: Duration,
    probe: Mutex<Probe>,
}

/// A circuit breaker shared by clones (one per connection: every store on that connection
/// sees the same state).
///
/// Closed → (an outage is recorded) → open → (a probe succeeds) → closed. While open,
/// [`admit`](Self::admit) answers without waiting and hands out at most one probe per
/// interval; a success recorded by any caller closes it too.
#[derive(Clone, Debug)]
pub struct CircuitBreaker {
    inner: Arc<Inner>,
}

impl Default for CircuitBreaker {
    fn default() -> Self {
        Self::new(DEFAULT_PROBE_INTERVAL)
    }
}

impl CircuitBreaker {
    /// A closed breaker probing every `probe_interval` (at least 1 ms) while open.
    pub fn new(probe_interval: Duration) -> Self {
        Self {
            inner: Arc::new(Inner {
                open: AtomicBool::new(false),
                opened: AtomicU64::new(0),
                probe_interval: probe_interval.max(Duration::from_millis(1)),
                probe: Mutex::new(Probe {
                    last: None,
                    running: false,
                }),
            }),
        }
    }

    /// The time between probes.
    pub fn probe_interval(&self) -> Duration {
        self.inner.probe_interval
    }

    /// Whether calls currently fail fast.
    pub fn is_open(&self) -> bool {
        self.inner.open.load(Ordering::Acquire)
    }

    /// How many times the breaker has opened.
    pub fn times_opened(&self) -> u64 {
        self.inner.opened.load(Ordering::Relaxed)
    }

    /// Decides a call: closed, or open (possibly with this caller starting the probe).
    pub fn admit(&self) -> Admission {
        if !self.is_open() {
            return Admission::Closed;
        }
        let mut p = self
            .inner
            .probe
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let due = p
            .last
            .is_none_or(|t| t.elapsed() >= self.inner.probe_interval);
        let probe = due && !p.running;
        if probe {
            p.running = true;
            p.last = Some(Instant::now());
        }
        Admission::Open { probe }
    }

    /// Records a request that reached the server: closes the breaker.
    pub fn record_success(&self) {
        self.inner.open.store(false, Ordering::Release);
    }

    /// Records an outage (timeout, refused or dropped connection): opens the breaker; the first
    /// probe is due one interval later.
    pub fn record_outage(&self) {
        let mut p = self
            .inner
            .probe
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if !self.inner.open.swap(true, Ordering::AcqRel) {
            self.inner.opened.fetch_add(1, Ordering::Relaxed);
            p.last = Some(Instant::now());
        }
    }

    /// Reports the probe a caller started: success closes the breaker.
    pub fn probe_finished(&self, ok: bool) {
        let mut p = self
            .inner
            .probe
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        p.running = false;
        p.last = Some(Instant::now());
        if ok {
            self.inner.open.store(false, Ordering::Release);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opens_on_outage_hands_out_one_probe_per_interval_and_closes_on_success() {
        let b = CircuitBreaker::new(Duration::from_millis(30));
        assert_eq!(b.admit(), Admission::Closed);
        b.record_outage();
        b.record_outage();
        assert_eq!(
            b.times_opened(),
            1,
            "a second outage while open is the same opening"
        );
        assert_eq!(b.admit(), Admission::Open { probe: false }, "not due yet");
        std::thread::sleep(Duration::from_millis(40));
        assert_eq!(b.admit(), Admission::Open { probe: true });
        assert_eq!(
            b.admit(),
            Admission::Open { probe: false },
            "one probe at a time"
        );
        b.probe_finished(false);
        assert_eq!(
            b.admit(),
            Admission::Open { probe: false },
            "next one an interval later"
        );
        std::thread::sleep(Duration::from_millis(40));
        assert_eq!(b.admit(), Admission::Open { probe: true });
        b.probe_finished(true);
        assert_eq!(b.admit(), Admission::Closed);
        b.record_outage();
        assert_eq!(b.times_opened(), 2);
        b.record_success();
        assert!(!b.is_open());
    }
}
