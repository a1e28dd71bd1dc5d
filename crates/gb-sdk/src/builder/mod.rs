//! [`GrowthBookBuilder`]: every option of the client. Building (validation, the transport,
//! the engine configuration, the state and the tasks) is in `build.rs`.

mod build;

use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::fmt;
use core::time::Duration;
use std::path::PathBuf;

use gb_core::Experiment;
use gb_sticky::StickyBucketService;
use gb_transport::cache::{FeatureCache, FileFeatureCache};
use gb_transport::{BackoffConfig, Dial, NetworkConfig, ProxyConfig, TlsConfig, Transport};
use serde_json::{Map, Value};

use crate::client::GrowthBook;
use crate::config::{
    DEFAULT_API_HOST, DEFAULT_CACHE_TTL, DEFAULT_DEDUP_CAPACITY, DEFAULT_STICKY_TIMEOUT,
    EvalConfig, RefreshStrategy,
};
use crate::feature_result::FeatureResult;
use crate::plugin::{Callbacks, Plugin};
use crate::result::ExperimentResult;
use crate::user::UserContext;

/// Where a local payload comes from.
#[derive(Debug, Clone)]
enum LocalPayload {
    Value(Value),
    Text(String),
    Bytes(Vec<u8>),
    File(PathBuf),
}

/// Builds a [`GrowthBook`] client. Get one with [`GrowthBook::builder`].
#[must_use]
pub struct GrowthBookBuilder {
    api_host: String,
    streaming_host: Option<String>,
    client_key: Option<String>,
    decryption_key: Option<String>,
    payload: Option<LocalPayload>,
    eval: EvalConfig,
    refresh: RefreshStrategy,
    cache_ttl: Duration,
    connect_timeout: Option<Duration>,
    request_timeout: Option<Duration>,
    headers: Vec<(String, String)>,
    network: NetworkConfig,
    transport: Option<Arc<dyn Transport>>,
    caches: Vec<Arc<dyn FeatureCache>>,
    sticky: Option<Arc<dyn StickyBucketService>>,
    cache_key_attributes: Option<Vec<String>>,
    callbacks: Callbacks,
    dedup_capacity: usize,
    backoff: BackoffConfig,
}

impl Default for GrowthBookBuilder {
    fn default() -> Self {
        Self {
            api_host: DEFAULT_API_HOST.into(),
            streaming_host: None,
            client_key: None,
            decryption_key: None,
            payload: None,
            eval: EvalConfig {
                enabled: true,
                sticky_timeout: DEFAULT_STICKY_TIMEOUT,
                ..EvalConfig::default()
            },
            refresh: RefreshStrategy::None,
            cache_ttl: DEFAULT_CACHE_TTL,
            connect_timeout: None,
            request_timeout: None,
            headers: Vec::new(),
            network: NetworkConfig::default(),
            transport: None,
            caches: Vec::new(),
            sticky: None,
            cache_key_attributes: None,
            callbacks: Callbacks::default(),
            dedup_capacity: DEFAULT_DEDUP_CAPACITY,
            backoff: BackoffConfig::default(),
        }
    }
}

impl fmt::Debug for GrowthBookBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GrowthBookBuilder")
            .field("api_host", &self.api_host)
            .field("client_key", &self.client_key.as_ref().map(|_| "***"))
            .field(
                "decryption_key",
                &self.decryption_key.as_ref().map(|_| "***"),
            )
            .field("refresh", &self.refresh)
            .field("cache_ttl", &self.cache_ttl)
            .field("remote_eval", &self.eval.remote_eval)
            .field("callbacks", &self.callbacks)
            .finish_non_exhaustive()
    }
}

impl GrowthBookBuilder {
    /// The API host (default `https://cdn.growthbook.io`).
    pub fn api_host(mut self, host: impl Into<String>) -> Self {
        self.api_host = host.into();
        self
    }

    /// A separate host for the event stream (default: the API host).
    pub fn streaming_host(mut self, host: impl Into<String>) -> Self {
        self.streaming_host = Some(host.into());
        self
    }

    /// The SDK client key (`sdk-...`). Without one (and without a custom transport) the client
    /// only uses a local payload.
    pub fn client_key(mut self, key: impl Into<String>) -> Self {
        self.client_key = Some(key.into());
        self
    }

    /// The key that decrypts encrypted payloads.
    pub fn decryption_key(mut self, key: impl Into<String>) -> Self {
        self.decryption_key = Some(key.into());
        self
    }

    /// A local payload (`{"features": ..., "savedGroups": ..., "experiments": ...}`), used at
    /// once, with no server needed.
    pub fn payload(mut self, payload: Value) -> Self {
        self.payload = Some(LocalPayload::Value(payload));
        self
    }

    /// A local payload as JSON text.
    pub fn payload_json(mut self, json: impl Into<String>) -> Self {
        self.payload = Some(LocalPayload::Text(json.into()));
        self
    }

    /// A local payload as JSON bytes.
    pub fn payload_bytes(mut self, bytes: impl Into<Vec<u8>>) -> Self {
        self.payload = Some(LocalPayload::Bytes(bytes.into()));
        self
    }

    /// A local payload read from a JSON file when the client is built.
    pub fn payload_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.payload = Some(LocalPayload::File(path.into()));
        self
    }

    /// Default attributes: used by the client's own evaluation methods, and merged under every
    /// [`GrowthBook::user`]'s attributes.
    pub fn attributes(mut self, attributes: Map<String, Value>) -> Self {
        self.eval.attributes = attributes;
        self
    }

    /// The default URL (for URL targeting and query-string forced variations).
    pub fn url(mut self, url: impl Into<String>) -> Self {
        self.eval.url = url.into();
        self
    }

    /// When false, no one is put in an experiment (features still evaluate). Default true.
    pub fn enabled(mut self, enabled: bool) -> Self {
        self.eval.enabled = enabled;
        self
    }

    /// QA mode: no one is put in an experiment by hashing (forced variations still apply).
    pub fn qa_mode(mut self, qa_mode: bool) -> Self {
        self.eval.qa_mode = qa_mode;
        self
    }

    /// Forced variations for every user (experiment key → variation index).
    pub fn forced_variations(mut self, forced: Map<String, Value>) -> Self {
        self.eval.forced_variations = forced;
        self
    }

    /// Forced feature values for every user (feature key → value; source `override`).
    pub fn forced_features(mut self, forced: Map<String, Value>) -> Self {
        self.eval.forced_features = forced;
        self
    }

    /// How features are kept up to date (default [`RefreshStrategy::None`]: fetch once, then
    /// revalidate in the background when stale).
    pub fn refresh(mut self, strategy: RefreshStrategy) -> Self {
        self.refresh = strategy;
        self
    }

    /// How long fetched features count as fresh (default 60 s). Older features are still
    /// served while a revalidation runs; a shared cache entry younger than this saves a fetch.
    pub fn cache_ttl(mut self, ttl: Duration) -> Self {
        self.cache_ttl = ttl;
        self
    }

    /// TCP + TLS connect timeout (default 5 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = Some(timeout);
        self
    }

    /// Whole-request timeout (default 10 s).
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = Some(timeout);
        self
    }

    /// An extra header for every request (e.g. a proxy's authorization).
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Which certificates to trust (default: the webpki roots). Add a private CA with
    /// [`TlsConfig::with_root_pem`]; a failed handshake is a typed
    /// [`ErrorKind::Tls`](gb_transport::ErrorKind::Tls) error and keeps the last good features.
    pub fn tls(mut self, tls: TlsConfig) -> Self {
        self.network.tls = tls;
        self
    }

    /// Which HTTP proxy to tunnel through (default: `HTTPS_PROXY` / `HTTP_PROXY` /
    /// `NO_PROXY` from the environment; [`ProxyConfig::none`] opts out).
    pub fn proxy(mut self, proxy: ProxyConfig) -> Self {
        self.network.proxy = proxy;
        self
    }

    /// A connector hook that opens the byte stream in place of TCP (proxy tunnel and TLS still
    /// run on top of it).
    pub fn dialer(mut self, dialer: Arc<dyn Dial>) -> Self {
        self.network.dialer = Some(dialer);
        self
    }

    /// Reconnect and retry backoff (defaults: 1 s doubling to 30 s, jitter 50 %).
    pub fn backoff(mut self, backoff: BackoffConfig) -> Self {
        self.backoff = backoff;
        self
    }

    /// A custom transport instead of the built-in hyper one (tests, another HTTP client, a
    /// proxy). The host, key, timeouts, headers, TLS, proxy and dialer options do not apply
    /// to it.
    pub fn transport(mut self, transport: Arc<dyn Transport>) -> Self {
        self.transport = Some(transport);
        self
    }

    /// A shared feature cache, read before fetching and written after. Several may be added
    /// (read in order; all written).
    pub fn feature_cache(mut self, cache: Arc<dyn FeatureCache>) -> Self {
        self.caches.push(cache);
        self
    }

    /// A [`FileFeatureCache`] at `path`: a restart during an outage still has flags.
    pub fn file_cache(self, path: impl Into<PathBuf>) -> Self {
        self.feature_cache(Arc::new(FileFeatureCache::new(path)))
    }

    /// A sticky-bucket service; users then need [`UserContext::prepare`] to load their
    /// documents.
    pub fn sticky_bucket_service(mut self, service: Arc<dyn StickyBucketService>) -> Self {
        self.sticky = Some(service);
        self
    }

    /// The budget for loading one user's sticky-bucket documents (default 100 ms); past it
    /// the user is evaluated without sticky bucketing.
    pub fn sticky_bucket_timeout(mut self, timeout: Duration) -> Self {
        self.eval.sticky_timeout = timeout;
        self
    }

    /// Remote evaluation: each user's features are evaluated by your GrowthBook proxy
    /// (`POST /api/eval/{client_key}`) in [`UserContext::prepare`]. Needs a client key, no
    /// decryption key, and a self-hosted API host (as the JS SDK enforces).
    pub fn remote_eval(mut self, remote_eval: bool) -> Self {
        self.eval.remote_eval = remote_eval;
        self
    }

    /// For remote evaluation: the attributes whose values key the per-user result cache
    /// (users equal on these share one remote evaluation for a cache TTL).
    pub fn cache_key_attributes(mut self, attributes: Vec<String>) -> Self {
        self.cache_key_attributes = Some(attributes);
        self
    }

    /// The experiment-viewed callback. It fires only for hashed assignments, once per
    /// user, experiment and variation (see [`dedup_capacity`](Self::dedup_capacity)), after
    /// evaluation with no lock held; a panic in it is caught and logged.
    pub fn on_experiment_viewed(
        mut self,
        callback: impl Fn(&Experiment, &ExperimentResult, &UserContext) + Send + Sync + 'static,
    ) -> Self {
        self.callbacks.tracking = Some(Arc::new(callback));
        self
    }

    /// The feature-usage callback, called for every feature evaluated (prerequisites
    /// included). A panic in it is caught and logged.
    pub fn on_feature_usage(
        mut self,
        callback: impl Fn(&str, &FeatureResult, &UserContext) + Send + Sync + 'static,
    ) -> Self {
        self.callbacks.usage = Some(Arc::new(callback));
        self
    }

    /// Adds a plugin.
    pub fn plugin(mut self, plugin: Arc<dyn Plugin>) -> Self {
        self.callbacks.plugins.push(plugin);
        self
    }

    /// How many experiment-viewed keys are remembered for deduplication (default 10 000; the
    /// oldest are forgotten first, so memory stays bounded).
    pub fn dedup_capacity(mut self, capacity: usize) -> Self {
        self.dedup_capacity = capacity;
        self
    }
}

impl GrowthBook {
    /// A builder with every option at its default.
    pub fn builder() -> GrowthBookBuilder {
        GrowthBookBuilder::default()
    }
}

/// Whether `host` is GrowthBook Cloud (`*.growthbook.io`), where remote evaluation is refused.
fn is_growthbook_cloud(host: &str) -> bool {
    let rest = host.split_once("://").map_or(host, |(_, r)| r);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let hostname = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let hostname = hostname.split(':').next().unwrap_or("");
    hostname.to_ascii_lowercase().ends_with("growthbook.io")
}

#[cfg(test)]
mod tests {
    use super::is_growthbook_cloud;

    #[test]
    fn cloud_hosts() {
        assert!(is_growthbook_cloud("https://cdn.growthbook.io"));
        assert!(is_growthbook_cloud("https://CDN.GrowthBook.io:443/x"));
        assert!(!is_growthbook_cloud("http://127.0.0.1:3100"));
        assert!(!is_growthbook_cloud("https://growthbook.example.com"));
    }
}
