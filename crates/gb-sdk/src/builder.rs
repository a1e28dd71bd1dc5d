//! [`GrowthBookBuilder`]: every option of the client.

use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::fmt;
use core::sync::atomic::{AtomicBool, AtomicU64};
use core::time::Duration;
use std::path::PathBuf;
use std::sync::Mutex;

use arc_swap::ArcSwap;
use gb_core::{Experiment, FeatureSet};
use gb_sticky::StickyBucketService;
use gb_transport::cache::{FeatureCache, FileFeatureCache};
use gb_transport::{
    BackoffConfig, DecryptionKey, Dial, FeatureSource, HttpConfig, HyperTransport, NetworkConfig,
    Payload, PollMode, ProxyConfig, RefreshTrigger, SseMode, StreamConfig, TlsConfig, Transport,
};
use serde_json::{Map, Value};
use tokio::sync::{mpsc, watch};

use crate::client::{
    EvalConfig, GrowthBook, Health, Inner, OwnedRuntime, Shared, Snapshot, Status,
};
use crate::error::{Error, Result};
use crate::feature_result::FeatureResult;
use crate::result::ExperimentResult;
use crate::sticky_writer::sticky_writer;
use crate::tracking::{Callbacks, Dedup, Plugin};
use crate::updates::apply_updates;
use crate::user::UserContext;

/// The default API host.
pub const DEFAULT_API_HOST: &str = "https://cdn.growthbook.io";
/// The default cache TTL: features older than this are revalidated in the background.
pub const DEFAULT_CACHE_TTL: Duration = Duration::from_secs(60);
/// The default capacity of the experiment-viewed deduplication set.
pub const DEFAULT_DEDUP_CAPACITY: usize = 10_000;
/// The default budget for loading a user's sticky-bucket documents.
pub const DEFAULT_STICKY_TIMEOUT: Duration = Duration::from_millis(100);
const STICKY_QUEUE: usize = 1024;

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

    fn validate(&self) -> Result<()> {
        let config = |m: &str| Err(Error::Config(m.into()));
        if self.eval.remote_eval {
            if self.decryption_key.is_some() {
                return config("encryption is not available for remote evaluation");
            }
            if self.client_key.is_none() && self.transport.is_none() {
                return config("remote evaluation needs a client key");
            }
            if self.transport.is_none() && is_growthbook_cloud(&self.api_host) {
                return config("cannot use remote evaluation on GrowthBook Cloud");
            }
        } else if self.cache_key_attributes.is_some() {
            return config("cache_key_attributes are only used for remote evaluation");
        }
        if self.refresh != RefreshStrategy::None
            && self.client_key.is_none()
            && self.transport.is_none()
        {
            return config("a refresh strategy needs a client key or a transport");
        }
        if let RefreshStrategy::Polling(d) = self.refresh
            && d.is_zero()
        {
            return config("the polling interval must not be zero");
        }
        Ok(())
    }

    fn local_payload(&self) -> Result<Option<FeatureSet>> {
        let parse = |text: &str| {
            FeatureSet::from_json_str(text).map_err(|e| Error::payload("not valid JSON", e))
        };
        let value = match &self.payload {
            None => return Ok(None),
            Some(LocalPayload::Value(v)) => v.clone(),
            Some(LocalPayload::Text(t)) => return parse(t).map(Some),
            Some(LocalPayload::Bytes(b)) => {
                let t = core::str::from_utf8(b).map_err(|e| Error::payload("not UTF-8", e))?;
                return parse(t).map(Some);
            }
            Some(LocalPayload::File(p)) => {
                let t = std::fs::read_to_string(p)
                    .map_err(|e| Error::payload(format!("cannot read {}", p.display()), e))?;
                serde_json::from_str(&t)
                    .map_err(|e| Error::payload(format!("{} is not valid JSON", p.display()), e))?
            }
        };
        // A local payload may be encrypted too.
        let key = self.decryption_key.clone().map(DecryptionKey::new);
        let payload = Payload::from_value(value, key.as_ref())?;
        Ok(Some(FeatureSet::from_value(payload.value())))
    }

    /// The payload engine's settings for this client: the refresh strategy as an engine mode,
    /// the backoff, the cache TTL, the caches and their key.
    fn engine_config(&self, refresh: RefreshTrigger) -> StreamConfig {
        let defaults = StreamConfig::default();
        let (sse, poll_mode, poll_interval) = match self.refresh {
            RefreshStrategy::Streaming => {
                (SseMode::Always, PollMode::Interval, defaults.poll_interval)
            }
            RefreshStrategy::Polling(every) => (SseMode::Never, PollMode::Interval, every),
            RefreshStrategy::None => (SseMode::Never, PollMode::OnDemand, defaults.poll_interval),
        };
        StreamConfig {
            backoff: self.backoff.clone(),
            sse,
            poll_mode,
            poll_interval,
            ttl: self.cache_ttl,
            caches: self.caches.clone(),
            cache_key: format!(
                "{}|{}",
                self.api_host.trim_end_matches('/'),
                self.client_key.as_deref().unwrap_or("custom-transport")
            ),
            refresh,
            ..defaults
        }
    }

    fn transport_for(&self) -> Result<Option<Arc<dyn Transport>>> {
        if let Some(t) = &self.transport {
            return Ok(Some(Arc::clone(t)));
        }
        let Some(key) = &self.client_key else {
            return Ok(None);
        };
        let mut http = HttpConfig::new(key.clone()).api_host(self.api_host.clone());
        http.streaming_host.clone_from(&self.streaming_host);
        http.headers.clone_from(&self.headers);
        http.network = self.network.clone();
        if let Some(t) = self.connect_timeout {
            http.connect_timeout = t;
        }
        if let Some(t) = self.request_timeout {
            http.request_timeout = t;
        }
        Ok(Some(Arc::new(HyperTransport::new(http)?)))
    }

    /// Builds the client and starts its background tasks on the current tokio runtime.
    ///
    /// Returns at once: features load in the background (see [`GrowthBook::ready`]); a local
    /// payload is usable immediately.
    ///
    /// # Errors
    /// [`Error::Config`] for conflicting options, [`Error::Payload`] for a bad local payload,
    /// [`Error::NoRuntime`] if background work is needed and no tokio runtime is running.
    pub fn build(self) -> Result<GrowthBook> {
        let handle = tokio::runtime::Handle::try_current().ok();
        self.build_on(handle, None)
    }

    /// Builds the client, then waits at most `timeout` for features (see
    /// [`GrowthBook::ready`]). Returns the client either way; check
    /// [`GrowthBook::is_ready`] / [`GrowthBook::status`].
    ///
    /// # Errors
    /// As for [`build`](Self::build).
    pub async fn init(self, timeout: Duration) -> Result<GrowthBook> {
        let client = self.build()?;
        client.ready(timeout).await;
        Ok(client)
    }

    /// Builds the client for a program without a tokio runtime: background work runs on a
    /// small runtime the client owns (one worker thread), stopped by
    /// [`GrowthBook::close`] or drop. Use [`GrowthBook::ready_blocking`] to wait for features.
    ///
    /// # Errors
    /// As for [`build`](Self::build), or [`Error::Runtime`] if the runtime cannot start.
    pub fn build_blocking(self) -> Result<GrowthBook> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("growthbook")
            .enable_all()
            .build()
            .map_err(|e| Error::Runtime(Arc::new(e)))?;
        let handle = rt.handle().clone();
        self.build_on(Some(handle), Some(rt))
    }

    fn build_on(
        self,
        handle: Option<tokio::runtime::Handle>,
        runtime: Option<tokio::runtime::Runtime>,
    ) -> Result<GrowthBook> {
        self.validate()?;
        let local = self.local_payload()?;
        let transport = self.transport_for()?;
        let needs_runtime =
            (transport.is_some() && !self.eval.remote_eval) || self.sticky.is_some();
        if needs_runtime && handle.is_none() {
            return Err(Error::NoRuntime);
        }
        let key = self.decryption_key.clone().map(DecryptionKey::new);
        let source = transport.as_ref().map(|t| {
            let s = FeatureSource::new(Arc::clone(t));
            match &key {
                Some(k) => s.with_decryption_key(k.clone()),
                None => s,
            }
        });

        let (snapshot, versions, status) = match local {
            Some(fs) => (Snapshot::loaded(fs, 1), 1, Status::Ready),
            None if self.eval.remote_eval => (Snapshot::default(), 0, Status::Ready),
            None => (Snapshot::default(), 0, Status::NotReady),
        };
        let loaded = snapshot.loaded;
        let (writer_tx, writer_rx) = match &self.sticky {
            Some(_) => {
                let (tx, rx) = mpsc::channel(STICKY_QUEUE);
                (Some(tx), Some(rx))
            }
            None => (None, None),
        };
        let shared = Arc::new(Shared {
            snapshot: ArcSwap::from_pointee(snapshot),
            config: self.eval.clone(),
            callbacks: self.callbacks.clone(),
            dedup: Dedup::new(self.dedup_capacity),
            health: Mutex::new(Health {
                status,
                last_error: None,
                updated_at: loaded.then(std::time::SystemTime::now),
            }),
            // Remote evaluation has no shared payload: each user is ready once prepared.
            ready: watch::Sender::new(loaded || self.eval.remote_eval),
            status_tx: watch::Sender::new(status),
            stale: AtomicBool::new(false),
            refresh_requested: AtomicBool::new(false),
            demand: RefreshTrigger::new(),
            sticky: self.sticky.clone(),
            blocking: runtime.as_ref().map(|rt| rt.handle().clone()),
            writer: writer_tx,
            dropped_writes: AtomicU64::new(0),
            source: source.clone(),
            closed: AtomicBool::new(false),
            versions: AtomicU64::new(versions),
            remote_cache: crate::user::RemoteCache::new(
                self.cache_key_attributes.clone(),
                self.cache_ttl,
            ),
        });

        let mut tasks = Vec::new();
        if let Some(h) = &handle {
            if let (Some(rx), Some(service)) = (writer_rx, self.sticky.clone()) {
                tasks.push(h.spawn(sticky_writer(service, rx)));
            }
            if let (Some(source), false) = (source, self.eval.remote_eval) {
                let config = self.engine_config(shared.demand.clone());
                // `stream` spawns the engine on the runtime of the handle entered here.
                let _entered = h.enter();
                match source.stream(config) {
                    Ok(engine) => tasks.push(h.spawn(apply_updates(Arc::clone(&shared), engine))),
                    Err(e) => shared.record_error(Error::Transport(e)),
                }
            }
        }
        let client = GrowthBook {
            inner: Arc::new(Inner {
                tasks: Mutex::new(tasks),
                handle,
                runtime: Mutex::new(OwnedRuntime(runtime)),
                default_user: UserContext::new(Arc::clone(&shared), Map::new()),
                shared,
            }),
        };
        client
            .shared()
            .callbacks
            .each_plugin(|p| p.on_init(&client));
        Ok(client)
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
