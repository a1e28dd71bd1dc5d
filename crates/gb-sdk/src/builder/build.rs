//! Building a client: options validated, the local payload compiled, the transport and the
//! engine configured, `Shared::new`, the background tasks started.

use crate::client::{GrowthBook, Inner, OwnedRuntime};
use crate::config::{RefreshStrategy, STICKY_QUEUE};
use crate::error::{Error, Result};
use crate::state::{Shared, SharedOptions};
use crate::sticky_writer::sticky_writer;
use crate::updates::apply_updates;
use crate::user::{Core, UserContext};
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::time::Duration;
use gb_core::FeatureSet;
use gb_transport::{
    DecryptionKey, FeatureSource, HttpConfig, HyperTransport, Payload, PollMode, RefreshTrigger,
    SseMode, StreamConfig, Transport,
};
use serde_json::Map;
use std::sync::Mutex;
use tokio::sync::mpsc;

use super::{GrowthBookBuilder, LocalPayload, is_growthbook_cloud};

impl GrowthBookBuilder {
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

        let (writer_tx, writer_rx) = match &self.sticky {
            Some(_) => {
                let (tx, rx) = mpsc::channel(STICKY_QUEUE);
                (Some(tx), Some(rx))
            }
            None => (None, None),
        };
        let state = Shared::new(SharedOptions {
            config: self.eval.clone(),
            local,
            dedup_capacity: self.dedup_capacity,
            sticky: self.sticky.clone(),
            writer: writer_tx,
            blocking: runtime.as_ref().map(|rt| rt.handle().clone()),
            source: source.clone(),
            cache_key_attributes: self.cache_key_attributes.clone(),
            cache_ttl: self.cache_ttl,
        });
        let shared = Arc::new(Core::new(state, Box::new(self.callbacks.clone())));

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
        self.callbacks.each_plugin(|p| p.on_init(&client));
        Ok(client)
    }
}
