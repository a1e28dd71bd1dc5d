//! The state shared by the client handles and the background tasks: the current snapshot, the
//! client's status, the sticky-bucket writer queue, the remote-evaluation cache. Knows nothing
//! of users, plugins or the client handle (they sit above it).

use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use core::time::Duration;
use std::sync::{Mutex, PoisonError};
use std::time::SystemTime;

use arc_swap::ArcSwap;
use gb_core::FeatureSet;
use gb_sticky::{StickyAssignmentsDocument, StickyBucketService};
use gb_transport::{FeatureSource, RefreshTrigger};
use tokio::sync::{mpsc, watch};

use crate::config::EvalConfig;
use crate::dedup::Dedup;
use crate::error::Error;
use crate::remote::RemoteCache;
use crate::snapshot::Snapshot;
use crate::sticky_writer::WriterMsg;

/// The health of the client's features, for readiness probes and dashboards.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Status {
    /// No features loaded yet, and no failure so far (evaluations return defaults).
    NotReady,
    /// Features are loaded and the last refresh succeeded.
    Ready,
    /// Features are loaded, but they are older than the cache TTL, came from a stale cache, or
    /// the last refresh failed (they are kept: see [`GrowthBook::last_error`](crate::GrowthBook::last_error)).
    Stale,
    /// No features could be loaded: the last attempt failed (evaluations return defaults).
    Error,
}

#[derive(Debug)]
pub(crate) struct Health {
    pub(crate) status: Status,
    pub(crate) last_error: Option<Error>,
    pub(crate) updated_at: Option<SystemTime>,
}

/// State shared by the client handles and the background tasks.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) snapshot: ArcSwap<Snapshot>,
    pub(crate) config: EvalConfig,
    pub(crate) dedup: Dedup,
    pub(crate) health: Mutex<Health>,
    pub(crate) ready: watch::Sender<bool>,
    /// The status, for [`GrowthBook::status_changes`](crate::GrowthBook::status_changes)
    /// (kept equal to `health.status`).
    pub(crate) status_tx: watch::Sender<Status>,
    /// Set when the features outlived the cache TTL (stale-while-revalidate).
    pub(crate) stale: AtomicBool,
    pub(crate) refresh_requested: AtomicBool,
    /// Asks the engine for a revalidation (stale-while-revalidate).
    pub(crate) demand: RefreshTrigger,
    pub(crate) sticky: Option<Arc<dyn StickyBucketService>>,
    /// The runtime a blocking client owns, for [`UserContext::prepare_blocking`](crate::UserContext::prepare_blocking).
    pub(crate) blocking: Option<tokio::runtime::Handle>,
    pub(crate) writer: Option<mpsc::Sender<WriterMsg>>,
    pub(crate) dropped_writes: AtomicU64,
    pub(crate) source: Option<FeatureSource>,
    pub(crate) closed: AtomicBool,
    /// The version of the snapshot in [`snapshot`](Self::snapshot), stored (`Release`) after
    /// it: a user context whose pinned snapshot has this version uses it without loading.
    pub(crate) current_version: AtomicU64,
    /// Serializes [`install`](Self::install)s, so `current_version` always names the stored
    /// snapshot once an install returns.
    installing: Mutex<()>,
    pub(crate) remote_cache: RemoteCache,
}

/// What [`Shared::new`] needs; everything else starts empty.
#[derive(Debug)]
pub(crate) struct SharedOptions {
    pub(crate) config: EvalConfig,
    /// A local payload, compiled, and its JSON: the client starts ready with it.
    pub(crate) local: Option<(FeatureSet, Option<Arc<serde_json::Value>>)>,
    pub(crate) dedup_capacity: usize,
    pub(crate) sticky: Option<Arc<dyn StickyBucketService>>,
    pub(crate) writer: Option<mpsc::Sender<WriterMsg>>,
    pub(crate) blocking: Option<tokio::runtime::Handle>,
    pub(crate) source: Option<FeatureSource>,
    pub(crate) cache_key_attributes: Option<Vec<String>>,
    pub(crate) cache_ttl: Duration,
}

impl Shared {
    /// The state of a new client: loaded and ready with a local payload; otherwise empty, and
    /// ready at once only under remote evaluation (each user is ready once prepared).
    pub(crate) fn new(o: SharedOptions) -> Self {
        let remote_eval = o.config.remote_eval;
        let (snapshot, versions, status) = match o.local {
            Some((fs, json)) => (Snapshot::loaded(fs, 1).with_payload(json), 1, Status::Ready),
            None if remote_eval => (Snapshot::default(), 0, Status::Ready),
            None => (Snapshot::default(), 0, Status::NotReady),
        };
        let loaded = snapshot.loaded;
        Self {
            snapshot: ArcSwap::from_pointee(snapshot),
            config: o.config,
            dedup: Dedup::new(o.dedup_capacity),
            health: Mutex::new(Health {
                status,
                last_error: None,
                updated_at: loaded.then(SystemTime::now),
            }),
            ready: watch::Sender::new(loaded || remote_eval),
            status_tx: watch::Sender::new(status),
            stale: AtomicBool::new(false),
            refresh_requested: AtomicBool::new(false),
            demand: RefreshTrigger::new(),
            sticky: o.sticky,
            blocking: o.blocking,
            writer: o.writer,
            dropped_writes: AtomicU64::new(0),
            source: o.source,
            closed: AtomicBool::new(false),
            current_version: AtomicU64::new(versions),
            installing: Mutex::new(()),
            remote_cache: RemoteCache::new(o.cache_key_attributes, o.cache_ttl),
        }
    }

    /// Whether `snap` is the current snapshot: one `Acquire` load, no reference count touched.
    #[inline]
    pub(crate) fn is_current(&self, snap: &Snapshot) -> bool {
        self.current_version.load(Ordering::Acquire) == snap.version
    }

    /// Swaps in a new compiled payload; returns its version (the caller tells the plugins).
    pub(crate) fn install(
        &self,
        features: FeatureSet,
        payload: Option<Arc<serde_json::Value>>,
        fresh: bool,
    ) -> u64 {
        for w in features.warnings() {
            tracing::warn!(warning = %w, "growthbook payload warning");
        }
        let version = {
            let _serial = self
                .installing
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            let version = self.current_version.load(Ordering::Relaxed) + 1;
            self.snapshot.store(Arc::new(
                Snapshot::loaded(features, version).with_payload(payload),
            ));
            self.current_version.store(version, Ordering::Release);
            version
        };
        {
            let mut h = self.health.lock().unwrap_or_else(PoisonError::into_inner);
            h.status = if fresh { Status::Ready } else { Status::Stale };
            h.updated_at = Some(SystemTime::now());
            self.publish(h.status);
        }
        if fresh {
            self.stale.store(false, Ordering::Relaxed);
        }
        self.ready.send_replace(true);
        tracing::debug!(version, "growthbook features updated");
        version
    }

    /// The server confirmed the current features (e.g. a 304).
    pub(crate) fn mark_fresh(&self) {
        self.stale.store(false, Ordering::Relaxed);
        let mut h = self.health.lock().unwrap_or_else(PoisonError::into_inner);
        if self.snapshot.load().loaded {
            h.status = Status::Ready;
        }
        h.updated_at = Some(SystemTime::now());
        self.publish(h.status);
    }

    /// The features outlived the cache TTL: the next evaluation asks for one revalidation.
    pub(crate) fn mark_stale(&self) {
        self.refresh_requested.store(false, Ordering::Release);
        self.stale.store(true, Ordering::Relaxed);
        let mut h = self.health.lock().unwrap_or_else(PoisonError::into_inner);
        if h.status == Status::Ready {
            h.status = Status::Stale;
        }
        self.publish(h.status);
    }

    /// A refresh failed: the last good features are kept.
    pub(crate) fn record_error(&self, err: Error) {
        tracing::warn!(error = %err, "growthbook refresh failed; keeping the last good features");
        let loaded = self.snapshot.load().loaded;
        let mut h = self.health.lock().unwrap_or_else(PoisonError::into_inner);
        // With remote evaluation a failure concerns one user (who gets defaults), not the client.
        if !self.config.remote_eval {
            h.status = if loaded { Status::Stale } else { Status::Error };
        }
        h.last_error = Some(err);
        self.publish(h.status);
    }

    /// Tells status watchers (only when the status changed). Called with `health` locked, so
    /// watchers see the changes in order.
    fn publish(&self, status: Status) {
        self.status_tx.send_if_modified(|s| {
            let changed = *s != status;
            *s = status;
            changed
        });
    }

    /// Called on every evaluation: asks for a background revalidation once the features are
    /// stale. One relaxed load when they are not.
    #[inline]
    pub(crate) fn touch(&self) {
        if self.stale.load(Ordering::Relaxed)
            && !self.refresh_requested.swap(true, Ordering::AcqRel)
        {
            self.demand.request();
        }
    }

    /// Queues changed sticky-bucket documents for the writer task (never blocks).
    pub(crate) fn save_sticky(&self, docs: Vec<StickyAssignmentsDocument>) {
        let Some(writer) = &self.writer else { return };
        if writer.try_send(WriterMsg::Save(docs)).is_err() {
            self.dropped_writes.fetch_add(1, Ordering::Relaxed);
            tracing::warn!("sticky-bucket write queue full or closed; a save was dropped");
        }
    }
}
