//! The engine and its feature caches: the newest usable entry at start, every accepted payload
//! written back as served.

use crate::cache::CacheEntry;
use alloc::sync::Arc;
use tokio::time::timeout;

use super::{CACHE_BUDGET, Manager, Offer, Update, UpdateSource};

impl Manager {
    /// Writes the published payload to every cache, as served, stamped `fetched_at`.
    pub(super) async fn write_caches(&self) {
        if self.config.caches.is_empty() {
            return;
        }
        let Some(entry) = self.updates_tx.borrow().as_ref().map(|u| CacheEntry {
            body: Arc::clone(&u.raw),
            etag: u.etag.clone(),
            fetched_at: self.fetched_at.unwrap_or(u.fetched_at),
        }) else {
            return;
        };
        for cache in &self.config.caches {
            match timeout(
                CACHE_BUDGET,
                cache.set(&self.config.cache_key, entry.clone()),
            )
            .await
            {
                Ok(Ok(())) => {}
                Ok(Err(e)) => tracing::warn!(error = %e, "feature cache write failed"),
                Err(_) => tracing::warn!("feature cache write timed out"),
            }
        }
    }

    /// Applies the newest usable cache entry if it is newer than what the server last
    /// vouched for. Returns whether the payload is now fresh thanks to it.
    pub(super) async fn load_caches(&mut self) -> bool {
        let mut best: Option<CacheEntry> = None;
        for cache in &self.config.caches {
            match timeout(CACHE_BUDGET, cache.get(&self.config.cache_key)).await {
                Ok(Ok(Some(entry))) => {
                    if best
                        .as_ref()
                        .is_none_or(|b| entry.fetched_at > b.fetched_at)
                    {
                        best = Some(entry);
                    }
                }
                Ok(Ok(None)) => {}
                Ok(Err(e)) => tracing::warn!(error = %e, "feature cache read failed"),
                Err(_) => tracing::warn!("feature cache read timed out"),
            }
        }
        let Some(entry) = best else { return false };
        if self.fetched_at.is_some_and(|t| entry.fetched_at <= t) {
            return false;
        }
        let payload = match self.source.parse(Arc::clone(&entry.body)).await {
            Ok(p) => p,
            Err(e) => {
                tracing::warn!(error = %e, "ignored an unusable feature cache entry");
                return false;
            }
        };
        let fresh = entry.age() < self.config.ttl;
        let update = Update {
            payload,
            raw: entry.body,
            etag: entry.etag,
            source: UpdateSource::Cache,
            fetched_at: entry.fetched_at,
            fresh,
        };
        self.accept(update, Offer::Normal);
        tracing::debug!(fresh, "features loaded from a feature cache");
        self.is_fresh()
    }
}
