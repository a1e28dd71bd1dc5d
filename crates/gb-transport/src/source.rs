//! [`FeatureSource`]: a transport plus the decryption key, yielding validated payloads.

use alloc::string::String;
use alloc::sync::Arc;

use crate::decrypt::DecryptionKey;
use crate::payload::Payload;
use crate::{FetchRequest, RemoteEvalRequest, Transport, TransportError};

/// A validated fetch result.
#[derive(Debug, Clone)]
pub struct Fetched {
    /// The validated, decrypted payload.
    pub payload: Payload,
    /// The body exactly as served (still encrypted if the server encrypted it).
    pub raw: Arc<str>,
    /// Whether the server advertised `x-sse-support: enabled`.
    pub sse_supported: bool,
    /// Whether this came from a 304 (the cached body, revalidated).
    pub not_modified: bool,
    /// The `ETag` of the body, if any.
    pub etag: Option<String>,
}

/// Fetches, validates and decrypts payloads through any [`Transport`]; starts the stream.
///
/// Cheap to clone. Every method yields a [`Payload`] only if the body is a good payload: a
/// status error, a timeout, a non-JSON body, `{}` or a decryption failure is an error, so
/// the caller keeps its last good payload.
#[derive(Debug, Clone)]
pub struct FeatureSource {
    transport: Arc<dyn Transport>,
    key: Option<DecryptionKey>,
}

impl FeatureSource {
    /// A source over `transport`, without decryption.
    pub fn new(transport: Arc<dyn Transport>) -> Self {
        Self {
            transport,
            key: None,
        }
    }

    /// Sets the key used for the `encrypted*` sections.
    #[must_use]
    pub fn with_decryption_key(mut self, key: DecryptionKey) -> Self {
        self.key = Some(key);
        self
    }

    /// The underlying transport.
    pub fn transport(&self) -> &Arc<dyn Transport> {
        &self.transport
    }

    /// The decryption key, if any.
    pub fn decryption_key(&self) -> Option<&DecryptionKey> {
        self.key.as_ref()
    }

    /// Fetches the features payload (conditionally, with the cached ETag) and validates it.
    ///
    /// # Errors
    /// The transport's error, or [`ErrorKind::InvalidPayload`](crate::ErrorKind::InvalidPayload)
    /// / [`ErrorKind::Decrypt`](crate::ErrorKind::Decrypt) for a body that is not a good payload.
    pub async fn fetch(&self) -> Result<Fetched, TransportError> {
        let response = self
            .transport
            .fetch_features(FetchRequest::default())
            .await?;
        let payload = self.parse(Arc::clone(&response.body)).await?;
        Ok(Fetched {
            payload,
            raw: response.body,
            sse_supported: response.sse_supported,
            not_modified: response.not_modified,
            etag: response.etag,
        })
    }

    /// Parses, validates and decrypts a body as served, off the async worker threads when
    /// called inside a tokio runtime (a large payload never stalls other tasks), inline
    /// otherwise.
    ///
    /// # Errors
    /// As for [`Payload::from_text`].
    pub async fn parse(&self, raw: Arc<str>) -> Result<Payload, TransportError> {
        let key = self.key.clone();
        let parse = move || Payload::from_text(&raw, key.as_ref());
        #[cfg(feature = "http")]
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            return runtime.spawn_blocking(parse).await.map_err(|e| {
                TransportError::new(crate::ErrorKind::InvalidPayload, "payload parsing failed")
                    .with_source(e)
            })?;
        }
        parse()
    }

    /// Remote evaluation: posts the user's context and validates the evaluated payload.
    ///
    /// # Errors
    /// As for [`fetch`](Self::fetch).
    pub async fn remote_eval(&self, request: RemoteEvalRequest) -> Result<Payload, TransportError> {
        let body = self.transport.remote_eval(request).await?;
        Payload::from_value(body, self.key.as_ref())
    }
}
