//! The client's configuration: refresh strategy, defaults, and the per-client evaluation
//! settings. The bottom layer of gb-sdk: it imports no other module.

use alloc::string::String;
use core::time::Duration;

use serde_json::{Map, Value};

/// The default API host.
pub const DEFAULT_API_HOST: &str = "https://cdn.growthbook.io";
/// The default cache TTL: features older than this are revalidated in the background.
pub const DEFAULT_CACHE_TTL: Duration = Duration::from_secs(60);
/// The default capacity of the experiment-viewed deduplication set.
pub const DEFAULT_DEDUP_CAPACITY: usize = 10_000;
/// The default budget for loading a user's sticky-bucket documents.
pub const DEFAULT_STICKY_TIMEOUT: Duration = Duration::from_millis(100);
/// The capacity of the sticky-bucket writer's queue.
pub(crate) const STICKY_QUEUE: usize = 1024;

/// How the client keeps its features up to date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum RefreshStrategy {
    /// Fetch once; afterwards, once the features are older than the cache TTL, the next
    /// evaluation triggers one background revalidation (stale-while-revalidate). Evaluations
    /// never wait for it.
    #[default]
    None,
    /// Fetch every interval (conditionally, with `If-None-Match`).
    Polling(Duration),
    /// Server-sent events: updates are applied as they are published; while the stream is
    /// down, reconnect attempts with backoff double as fetches.
    Streaming,
}

/// Per-client evaluation settings.
#[derive(Debug, Clone, Default)]
pub(crate) struct EvalConfig {
    pub(crate) attributes: Map<String, Value>,
    pub(crate) url: String,
    pub(crate) forced_variations: Map<String, Value>,
    pub(crate) forced_features: Map<String, Value>,
    pub(crate) qa_mode: bool,
    pub(crate) enabled: bool,
    pub(crate) remote_eval: bool,
    pub(crate) sticky_timeout: Duration,
    /// `url` and the forced values, made once and shared by every new user context.
    pub(crate) shared_overrides: std::sync::OnceLock<alloc::sync::Arc<crate::inputs::Overrides>>,
}

impl EvalConfig {
    /// The client's URL and forced values, shared (built at the first call).
    pub(crate) fn overrides(&self) -> alloc::sync::Arc<crate::inputs::Overrides> {
        alloc::sync::Arc::clone(self.shared_overrides.get_or_init(|| {
            alloc::sync::Arc::new(crate::inputs::Overrides {
                url: self.url.clone(),
                forced_variations: self.forced_variations.clone(),
                forced_features: self.forced_features.clone(),
            })
        }))
    }
}
