//! Preparing a context: loading its sticky-bucket documents or its remotely evaluated
//! features (async, or blocking on a runtime).

use crate::error::Error;
use crate::snapshot::Snapshot;
use alloc::sync::Arc;
use gb_transport::RemoteEvalRequest;
use std::sync::Mutex;

use super::UserContext;

impl UserContext {
    /// Does the async work a user may need, in one call: with remote evaluation, fetches this
    /// user's evaluated features; with a sticky-bucket service, loads the user's documents
    /// (every identifier attribute at once, bounded by the builder's sticky timeout), unless
    /// documents were given with [`with_sticky_docs`](Self::with_sticky_docs).
    ///
    /// A store or server failure is not an error: it is logged and the user is evaluated
    /// without sticky bucketing (plain hashing, nothing saved), or, for remote evaluation,
    /// with defaults ([`Reason::NotReady`](crate::Reason::NotReady)).
    ///
    /// # Errors
    /// [`Error::NoRuntime`] when polled outside a tokio runtime (use
    /// [`prepare_blocking`](Self::prepare_blocking) there).
    pub async fn prepare(mut self) -> Result<Self, Error> {
        let span = tracing::info_span!("growthbook.prepare");
        tracing::Instrument::instrument(self.load(), span).await?;
        Ok(self)
    }

    /// [`prepare`](Self::prepare) in place.
    pub(crate) async fn load(&mut self) -> Result<(), Error> {
        if tokio::runtime::Handle::try_current().is_err() {
            return Err(Error::NoRuntime);
        }
        self.repin();
        let shared = &*self.shared;
        if shared.config.remote_eval {
            self.remote = self.remote_features().await;
        }
        if let (Some(service), false) = (shared.sticky.clone(), self.sticky_local) {
            let wanted = {
                self.snapshot()
                    .features
                    .sticky_bucket_attributes(&self.core_user())
            };
            let load = gb_sticky::load_docs(&*service, &wanted);
            self.sticky = match tokio::time::timeout(shared.config.sticky_timeout, load).await {
                Ok(Ok(docs)) => Some(Mutex::new(docs)),
                Ok(Err(e)) => {
                    tracing::warn!(error = %e, "sticky-bucket load failed; plain hashing for this user");
                    None
                }
                Err(_) => {
                    tracing::warn!("sticky-bucket load timed out; plain hashing for this user");
                    None
                }
            };
        }
        Ok(())
    }

    /// [`prepare`](Self::prepare) for programs without an async runtime: runs it on the
    /// runtime of a client built with
    /// [`build_blocking`](crate::GrowthBookBuilder::build_blocking), else on a temporary
    /// current-thread runtime.
    ///
    /// # Errors
    /// [`Error::InsideRuntime`] when called on a thread that runs a tokio runtime (use
    /// `prepare().await` there); [`Error::Runtime`] if a temporary runtime cannot start.
    pub fn prepare_blocking(self) -> Result<Self, Error> {
        if tokio::runtime::Handle::try_current().is_ok() {
            return Err(Error::InsideRuntime);
        }
        if let Some(handle) = self.shared.blocking.clone() {
            return handle.block_on(self.prepare());
        }
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| Error::Runtime(Arc::new(e)))?
            .block_on(self.prepare())
    }

    async fn remote_features(&self) -> Option<Arc<Snapshot>> {
        let shared = &*self.shared;
        let source = shared.source.as_ref()?;
        let cache_key = shared.remote_cache.key_for(
            &self.inputs.attributes,
            &self.inputs.overrides.url,
            &self.inputs.overrides.forced_variations,
            &self.inputs.overrides.forced_features,
        );
        if let Some(hit) = cache_key
            .as_deref()
            .and_then(|k| shared.remote_cache.get(k))
        {
            return Some(hit);
        }
        let request = RemoteEvalRequest {
            attributes: self.inputs.attributes.clone(),
            forced_variations: self.inputs.overrides.forced_variations.clone(),
            forced_features: self
                .inputs
                .overrides
                .forced_features
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            url: self.inputs.overrides.url.clone(),
        };
        match source.remote_eval(request).await {
            Ok(payload) => {
                let features = gb_core::FeatureSet::from_value(payload.value());
                let snap = Arc::new(Snapshot::loaded(features, 1));
                if let Some(k) = cache_key {
                    shared.remote_cache.put(k, Arc::clone(&snap));
                }
                Some(snap)
            }
            Err(e) => {
                shared.record_error(Error::Transport(e));
                None
            }
        }
    }
}
