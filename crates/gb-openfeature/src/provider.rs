//! [`GrowthBookProvider`]: the `open_feature::provider::FeatureProvider` implementation.

use alloc::string::String;
use core::fmt;
use core::time::Duration;

use async_trait::async_trait;
use gb_sdk::serde_json::{Map, Value};
use gb_sdk::{GrowthBook, Status};
use open_feature::provider::{
    FeatureProvider, ProviderMetadata, ProviderStatus, ResolutionDetails,
};
use open_feature::{EvaluationContext, EvaluationResult, StructValue};

use crate::context::context_to_attributes;
use crate::resolve::{Mismatch, resolution, to_bool, to_float, to_int, to_string, to_struct};

/// The provider name reported in OpenFeature metadata and hook contexts.
pub const PROVIDER_NAME: &str = "GrowthBook";

/// The attribute the targeting key is stored under by default (as GrowthBook's other
/// OpenFeature providers do).
pub const DEFAULT_TARGETING_KEY_ATTRIBUTE: &str = "id";

/// How long [`FeatureProvider::initialize`] waits for the first features by default.
pub const DEFAULT_INIT_TIMEOUT: Duration = Duration::from_secs(5);

/// An OpenFeature provider backed by a [`GrowthBook`] client.
///
/// Every `resolve_*` call evaluates the feature's full rules (targeting, rollouts,
/// experiments, prerequisites) for the evaluation context, synchronously on the client's
/// current features: no network call. With a sticky-bucket service or remote evaluation
/// configured on the client, the user's documents or features are loaded first
/// ([`gb_sdk::UserContext::prepare`]); otherwise that step does nothing.
///
/// Dropping the provider (replacing it, or `OpenFeature::shutdown`) [`close`s](GrowthBook::close)
/// the client unless [`close_on_drop(false)`](Self::close_on_drop) was set.
pub struct GrowthBookProvider {
    client: GrowthBook,
    metadata: ProviderMetadata,
    targeting_key_attribute: String,
    init_timeout: Duration,
    close_on_drop: bool,
}

impl fmt::Debug for GrowthBookProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GrowthBookProvider")
            .field("client", &self.client)
            .field("targeting_key_attribute", &self.targeting_key_attribute)
            .field("init_timeout", &self.init_timeout)
            .field("close_on_drop", &self.close_on_drop)
            .finish_non_exhaustive()
    }
}

impl GrowthBookProvider {
    /// A provider for `client` (its clones share its features, callbacks and status).
    pub fn new(client: GrowthBook) -> Self {
        Self {
            client,
            metadata: ProviderMetadata::new(PROVIDER_NAME),
            targeting_key_attribute: DEFAULT_TARGETING_KEY_ATTRIBUTE.into(),
            init_timeout: DEFAULT_INIT_TIMEOUT,
            close_on_drop: true,
        }
    }

    /// The attribute the context's targeting key becomes (default `id`).
    #[must_use]
    pub fn targeting_key_attribute(mut self, name: impl Into<String>) -> Self {
        self.targeting_key_attribute = name.into();
        self
    }

    /// How long `set_provider` waits for the client's first features (default 5 s; zero: not
    /// at all). Evaluations before they load fail with `PROVIDER_NOT_READY`.
    #[must_use]
    pub fn init_timeout(mut self, timeout: Duration) -> Self {
        self.init_timeout = timeout;
        self
    }

    /// Whether dropping the provider closes the client (default `true`). Turn it off when the
    /// client is also used outside OpenFeature.
    #[must_use]
    pub fn close_on_drop(mut self, close: bool) -> Self {
        self.close_on_drop = close;
        self
    }

    /// The GrowthBook client.
    pub fn client(&self) -> &GrowthBook {
        &self.client
    }

    /// The GrowthBook attributes an evaluation context maps to (see
    /// [`context_to_attributes`]).
    pub fn attributes(&self, context: &EvaluationContext) -> Map<String, Value> {
        context_to_attributes(context, &self.targeting_key_attribute)
    }

    async fn resolve<T: Default>(
        &self,
        flag_key: &str,
        context: &EvaluationContext,
        convert: fn(&Value) -> Result<T, Mismatch>,
    ) -> EvaluationResult<ResolutionDetails<T>> {
        let attributes = self.attributes(context);
        // Outside a tokio runtime nothing can be loaded: evaluate without sticky buckets.
        let user = match self.client.user(attributes.clone()).prepare().await {
            Ok(user) => user,
            Err(_) => self.client.user(attributes),
        };
        resolution(flag_key, &user.eval_feature(flag_key), convert)
    }
}

impl Drop for GrowthBookProvider {
    fn drop(&mut self) {
        if self.close_on_drop {
            self.client.close();
        }
    }
}

/// The OpenFeature status of a client status.
pub fn provider_status(status: Status) -> ProviderStatus {
    match status {
        Status::Ready => ProviderStatus::Ready,
        Status::Stale => ProviderStatus::STALE,
        Status::Error => ProviderStatus::Error,
        _ => ProviderStatus::NotReady,
    }
}

#[async_trait]
impl FeatureProvider for GrowthBookProvider {
    /// Waits at most the [`init_timeout`](GrowthBookProvider::init_timeout) for the client's
    /// first features (not at all outside a tokio runtime). The context needs no handling
    /// here: the OpenFeature client merges the global context into every evaluation's.
    async fn initialize(&mut self, _context: &EvaluationContext) {
        if self.init_timeout.is_zero()
            || self.client.is_ready()
            || tokio::runtime::Handle::try_current().is_err()
        {
            return;
        }
        if !self.client.ready(self.init_timeout).await {
            tracing::warn!(
                status = ?self.client.status(),
                "GrowthBook features not loaded within the OpenFeature init timeout; \
                 evaluations return PROVIDER_NOT_READY until they are"
            );
        }
    }

    fn status(&self) -> ProviderStatus {
        provider_status(self.client.status())
    }

    fn metadata(&self) -> &ProviderMetadata {
        &self.metadata
    }

    async fn resolve_bool_value(
        &self,
        flag_key: &str,
        context: &EvaluationContext,
    ) -> EvaluationResult<ResolutionDetails<bool>> {
        self.resolve(flag_key, context, to_bool).await
    }

    async fn resolve_int_value(
        &self,
        flag_key: &str,
        context: &EvaluationContext,
    ) -> EvaluationResult<ResolutionDetails<i64>> {
        self.resolve(flag_key, context, to_int).await
    }

    async fn resolve_float_value(
        &self,
        flag_key: &str,
        context: &EvaluationContext,
    ) -> EvaluationResult<ResolutionDetails<f64>> {
        self.resolve(flag_key, context, to_float).await
    }

    async fn resolve_string_value(
        &self,
        flag_key: &str,
        context: &EvaluationContext,
    ) -> EvaluationResult<ResolutionDetails<String>> {
        self.resolve(flag_key, context, to_string).await
    }

    async fn resolve_struct_value(
        &self,
        flag_key: &str,
        context: &EvaluationContext,
    ) -> EvaluationResult<ResolutionDetails<StructValue>> {
        self.resolve(flag_key, context, to_struct).await
    }
}
