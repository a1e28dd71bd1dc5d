//! The worker thread: batches queued events and posts them, one batch at a time; and the
//! state it shares with the plugin (counters, progress, flush and close signals).

use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use core::time::Duration;
use std::sync::{Condvar, Mutex, PoisonError};
use std::time::Instant;

use serde_json::Value;
use tokio::sync::{Notify, mpsc};

use super::event::TrackedEvent;
use super::sink::EventSink;
use super::stats::{Counters, bump};

/// What the worker has done, for the threads that wait on it.
#[derive(Debug, Default)]
pub(super) struct Progress {
    /// The last flush request the worker completed.
    pub(super) flushed: u64,
    /// The worker has ended (after its final flush).
    pub(super) finished: bool,
}

/// State shared by the plugin and its worker.
#[derive(Debug, Default)]
pub(super) struct Core {
    pub(super) counters: Counters,
    pub(super) progress: Mutex<Progress>,
    pub(super) changed: Condvar,
    pub(super) flush_requested: AtomicU64,
    pub(super) flush_signal: Notify,
    pub(super) close_signal: Notify,
    pub(super) close_deadline: Mutex<Option<Instant>>,
    /// Approximate JSON bytes of the events queued or in the worker's batch.
    pub(super) queued_bytes: AtomicUsize,
}

impl Core {
    pub(super) fn update(&self, f: impl FnOnce(&mut Progress)) {
        f(&mut self.progress.lock().unwrap_or_else(PoisonError::into_inner));
        self.changed.notify_all();
    }

    /// Blocks until `done` holds, at most `timeout`; returns whether it holds.
    pub(super) fn wait(&self, timeout: Duration, done: impl Fn(&Progress) -> bool) -> bool {
        let guard = self.progress.lock().unwrap_or_else(PoisonError::into_inner);
        let (guard, _) = self
            .changed
            .wait_timeout_while(guard, timeout, |p| !done(p))
            .unwrap_or_else(PoisonError::into_inner);
        done(&guard)
    }

    /// Like [`wait`](Self::wait) without blocking a runtime thread (polls every 5 ms).
    pub(super) async fn wait_async(
        &self,
        timeout: Duration,
        done: impl Fn(&Progress) -> bool,
    ) -> bool {
        let start = Instant::now();
        loop {
            if done(&self.progress.lock().unwrap_or_else(PoisonError::into_inner)) {
                return true;
            }
            if start.elapsed() >= timeout {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
}

/// The worker's share of a close timeout: a little less, so it has ended (and said so) by the
/// time the caller stops waiting.
pub(super) fn close_budget(timeout: Duration) -> Duration {
    timeout.saturating_sub((timeout / 10).min(Duration::from_millis(50)))
}

/// An event in the queue, with its size (released once its batch is sent or failed).
pub(super) struct Queued {
    pub(super) event: TrackedEvent,
    pub(super) bytes: usize,
}

/// The worker: batches queued events and posts them, one batch at a time.
pub(super) struct Worker {
    pub(super) core: Arc<Core>,
    pub(super) events: mpsc::Receiver<Queued>,
    pub(super) sink: Arc<dyn EventSink>,
    pub(super) batch_size: usize,
    pub(super) flush_interval: Duration,
    pub(super) retry_backoff: Duration,
    pub(super) request_timeout: Duration,
    pub(super) close_timeout: Duration,
}

impl Worker {
    pub(super) fn run_thread(self) {
        let core = Arc::clone(&self.core);
        match tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        {
            Ok(rt) => rt.block_on(self.run()),
            Err(e) => {
                tracing::error!(error = %e, "cannot start the growthbook tracking runtime; events will be dropped");
                drop(self);
            }
        }
        core.update(|p| p.finished = true);
    }

    pub(super) async fn run(mut self) {
        let mut batch: Vec<Queued> = Vec::with_capacity(self.batch_size);
        let mut due: Option<tokio::time::Instant> = None;
        let core = Arc::clone(&self.core);
        loop {
            let sleep_until =
                due.unwrap_or_else(|| tokio::time::Instant::now() + Duration::from_secs(3600));
            tokio::select! {
                biased;
                () = core.close_signal.notified() => break,
                () = core.flush_signal.notified() => {
                    let wanted = core.flush_requested.load(Ordering::Acquire);
                    self.drain(&mut batch);
                    due = None;
                    if self.post_unless_closed(&mut batch).await {
                        break;
                    }
                    core.update(|p| p.flushed = p.flushed.max(wanted));
                }
                event = self.events.recv() => match event {
                    Some(e) => {
                        if batch.is_empty() {
                            due = Some(tokio::time::Instant::now() + self.flush_interval);
                        }
                        batch.push(e);
                        if batch.len() >= self.batch_size {
                            due = None;
                            if self.post_unless_closed(&mut batch).await {
                                break;
                            }
                        }
                    }
                    // Every sender is gone: the plugin was dropped.
                    None => break,
                },
                () = tokio::time::sleep_until(sleep_until), if due.is_some() => {
                    due = None;
                    if self.post_unless_closed(&mut batch).await {
                        break;
                    }
                }
            }
        }
        // Final flush: no new events, post what is queued before the deadline.
        self.events.close();
        let deadline = core
            .close_deadline
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .unwrap_or_else(|| Instant::now() + close_budget(self.close_timeout));
        let budget = deadline.saturating_duration_since(Instant::now());
        let _ = tokio::time::timeout(budget, async {
            self.drain(&mut batch);
            self.post_all(&mut batch).await;
        })
        .await;
        // Whatever is still unsent now is lost: count it as failed.
        let c = &core.counters;
        let unsent = c
            .accepted
            .load(Ordering::Relaxed)
            .saturating_sub(c.sent.load(Ordering::Relaxed) + c.failed.load(Ordering::Relaxed));
        bump(&c.failed, unsent);
        core.update(|p| p.flushed = core.flush_requested.load(Ordering::Acquire));
    }

    /// Moves every queued event into `batch`.
    pub(super) fn drain(&mut self, batch: &mut Vec<Queued>) {
        while let Ok(e) = self.events.try_recv() {
            batch.push(e);
        }
    }

    /// [`post_all`](Self::post_all), abandoned if a close is requested meanwhile (what is
    /// unsent stays in `batch` for the final flush); returns whether a close was requested.
    pub(super) async fn post_unless_closed(&self, batch: &mut Vec<Queued>) -> bool {
        tokio::select! {
            biased;
            () = self.core.close_signal.notified() => true,
            () = self.post_all(batch) => false,
        }
    }

    /// Posts `batch` in chunks of the batch size, removing each chunk once it is sent or
    /// failed (so an abandoned call leaves the rest in place).
    pub(super) async fn post_all(&self, batch: &mut Vec<Queued>) {
        while !batch.is_empty() {
            let n = batch.len().min(self.batch_size);
            self.post(&batch[..n]).await;
            let bytes: usize = batch.drain(..n).map(|q| q.bytes).sum();
            self.core.queued_bytes.fetch_sub(bytes, Ordering::AcqRel);
        }
    }

    /// Posts one batch; on failure waits the backoff and retries once.
    pub(super) async fn post(&self, batch: &[Queued]) {
        if batch.is_empty() {
            return;
        }
        let n = batch.len() as u64;
        let payloads: Vec<Value> = batch.iter().map(|q| q.event.to_payload()).collect();
        let c = &self.core.counters;
        for attempt in 0..2 {
            let outcome =
                tokio::time::timeout(self.request_timeout, self.sink.send(&payloads)).await;
            match outcome {
                Ok(Ok(())) => {
                    bump(&c.sent, n);
                    bump(&c.batches, 1);
                    return;
                }
                Ok(Err(e)) => {
                    tracing::warn!(error = %e, attempt, "growthbook tracking post failed")
                }
                Err(_) => tracing::warn!(attempt, "growthbook tracking post timed out"),
            }
            if attempt == 0 {
                bump(&c.retries, 1);
                tokio::time::sleep(self.retry_backoff).await;
            }
        }
        bump(&c.failed, n);
    }
}
