//! [`TrackingStats`]: the plugin's counters.

use core::sync::atomic::{AtomicU64, Ordering};

/// Counters of the tracking plugin (see [`GrowthBookTrackingPlugin::stats`]).
///
/// Every event accepted into the queue ends up `sent` or `failed` (or is still pending); an
/// event that found the queue full, or the plugin closed, is `dropped`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct TrackingStats {
    /// Events accepted into the queue.
    pub accepted: u64,
    /// Events the ingestor acknowledged.
    pub sent: u64,
    /// Events whose batch failed twice (or was still unsent when a close timed out).
    pub failed: u64,
    /// Events dropped because the queue was full (in events or bytes) or the plugin closed.
    pub dropped: u64,
    /// Events dropped because they alone were larger than the per-event limit (or nested too
    /// deeply to send).
    pub oversized: u64,
    /// Events skipped as duplicates of a recent one.
    pub deduplicated: u64,
    /// Events rejected by the event filter.
    pub filtered: u64,
    /// Batches the ingestor acknowledged.
    pub batches: u64,
    /// Batches retried after a first failure.
    pub retries: u64,
}

impl TrackingStats {
    /// Accepted events neither sent nor failed yet (queued or in flight).
    pub fn pending(&self) -> u64 {
        self.accepted.saturating_sub(self.sent + self.failed)
    }
}

#[derive(Debug, Default)]
pub(super) struct Counters {
    pub(super) accepted: AtomicU64,
    pub(super) sent: AtomicU64,
    pub(super) failed: AtomicU64,
    pub(super) dropped: AtomicU64,
    pub(super) oversized: AtomicU64,
    pub(super) deduplicated: AtomicU64,
    pub(super) filtered: AtomicU64,
    pub(super) batches: AtomicU64,
    pub(super) retries: AtomicU64,
}

pub(super) fn bump(counter: &AtomicU64, n: u64) {
    counter.fetch_add(n, Ordering::Relaxed);
}
