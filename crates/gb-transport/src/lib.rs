// The README's example uses the whole crate; with fewer features, a short summary stands in.
#![cfg_attr(feature = "sse", doc = include_str!("../README.md"))]
#![cfg_attr(
    not(feature = "sse"),
    doc = "GrowthBook payload transport and decryption (see README.md for the full crate)."
)]
//!
//! # Example (offline)
//!
//! Decrypting a payload fetched by other means needs only the `decrypt` feature:
//!
//! ```
//! # #[cfg(feature = "decrypt")] {
//! use gb_transport::{DecryptionKey, Payload};
//!
//! let body = serde_json::json!({
//!     "features": {},
//!     "encryptedFeatures": "m5ylFM6ndyOJA2OPadubkw==.Uu7ViqgKEt/dWvCyhI46q088PkAEJbnXKf3KPZjf9IEQQ+A8fojNoxw4wIbPX3aj",
//! });
//! let key = DecryptionKey::new("Zvwv/+uhpFDznZ6SX28Yjg==");
//! let payload = Payload::from_value(body, Some(&key)).expect("decrypts");
//! assert_eq!(payload.value()["features"]["feature"]["defaultValue"], true);
//!
//! // A wrong key refuses the payload as a whole, and the error never shows the key.
//! let body = serde_json::json!({"features": {}, "encryptedFeatures": "m5ylFM6ndyOJA2OPadubkw==.Uu7ViqgKEt/dWvCyhI46q088PkAEJbnXKf3KPZjf9IEQQ+A8fojNoxw4wIbPX3aj"});
//! let wrong = DecryptionKey::new("Zvwv/+uhpFDznZ6SX39Yjg==");
//! let err = Payload::from_value(body, Some(&wrong)).unwrap_err();
//! assert!(err.decrypt_error().is_some());
//! assert!(!err.to_string().contains("Zvwv"));
//! # }
//! ```

extern crate alloc;

use alloc::boxed::Box;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::fmt;
use core::future::Future;
use core::pin::Pin;

use serde_json::{Map, Value};

pub mod error;
pub mod sse;

#[cfg(feature = "decrypt")]
pub mod decrypt;
#[cfg(feature = "decrypt")]
pub mod payload;
#[cfg(feature = "decrypt")]
mod source;

#[cfg(feature = "http")]
pub mod backoff;
#[cfg(feature = "http")]
pub mod cache;
#[cfg(feature = "http")]
pub mod connect;
#[cfg(feature = "http")]
pub mod http;
#[cfg(feature = "http")]
pub mod proxy;
#[cfg(feature = "http")]
pub mod tls;
#[cfg(feature = "http")]
mod tunnel;

#[cfg(feature = "sse")]
pub mod stream;

pub use error::{DecryptError, ErrorKind, ProxyFailure, TlsFailure, TransportError};

#[cfg(feature = "decrypt")]
pub use decrypt::{DecryptionKey, decrypt, decrypt as decrypt_str, encrypt};
#[cfg(feature = "decrypt")]
pub use payload::{Payload, decrypt_payload, encrypt_payload};
#[cfg(feature = "decrypt")]
pub use source::{FeatureSource, Fetched};

#[cfg(feature = "http")]
pub use backoff::BackoffConfig;
#[cfg(feature = "redis")]
pub use cache::RedisFeatureCache;
#[cfg(feature = "http")]
pub use cache::{CacheEntry, CacheError, FeatureCache, FileFeatureCache, MemoryFeatureCache};
#[cfg(feature = "http")]
pub use connect::{Dial, NetworkConfig};
#[cfg(feature = "http")]
pub use http::{ClientKey, HttpConfig, HyperClient, HyperTransport, http_client, https_client};
#[cfg(feature = "http")]
pub use proxy::ProxyConfig;
#[cfg(feature = "http")]
pub use tls::TlsConfig;

#[cfg(feature = "sse")]
pub use stream::{
    PollMode, RefreshTrigger, SseMode, StreamConfig, StreamHandle, StreamState, StreamStatus,
    Update, UpdateSource,
};

/// A boxed, `Send` future: the return type of the object-safe [`Transport`] methods.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Options for one features fetch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchRequest {
    /// Send `If-None-Match` with the cached ETag (and reuse the cached body on a 304).
    /// Default `true`.
    pub use_etag: bool,
}

impl Default for FetchRequest {
    fn default() -> Self {
        Self { use_etag: true }
    }
}

/// A raw features response: the body text as served, not yet parsed, validated or decrypted.
#[derive(Debug, Clone, PartialEq)]
pub struct FetchResponse {
    /// The body exactly as served (the cached body when [`not_modified`](Self::not_modified)).
    /// It is parsed once, above this trait, and stored as is by the feature caches.
    pub body: Arc<str>,
    /// The `ETag` the server sent, if any.
    pub etag: Option<String>,
    /// Whether the response carried `x-sse-support: enabled`.
    pub sse_supported: bool,
    /// Whether the server answered 304 and `body` is the cached one.
    pub not_modified: bool,
}

/// Options for opening the event stream.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SubscribeRequest {
    /// Sent as `Last-Event-ID` when reconnecting.
    pub last_event_id: Option<String>,
}

/// A remote-evaluation request: `POST {api_host}/api/eval/{client_key}`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RemoteEvalRequest {
    /// The user's attributes.
    pub attributes: Map<String, Value>,
    /// Forced variations, experiment key → variation index.
    pub forced_variations: Map<String, Value>,
    /// Forced feature values, as `(feature key, value)` pairs.
    pub forced_features: Vec<(String, Value)>,
    /// The current URL (may be empty).
    pub url: String,
}

impl RemoteEvalRequest {
    /// The JSON body: `{attributes, forcedVariations, forcedFeatures: [[key, value], ...], url}`.
    pub fn to_json(&self) -> Value {
        let forced: Vec<Value> = self
            .forced_features
            .iter()
            .map(|(k, v)| Value::Array(alloc::vec![Value::String(k.clone()), v.clone()]))
            .collect();
        let mut body = Map::new();
        body.insert("attributes".into(), Value::Object(self.attributes.clone()));
        body.insert(
            "forcedVariations".into(),
            Value::Object(self.forced_variations.clone()),
        );
        body.insert("forcedFeatures".into(), Value::Array(forced));
        body.insert("url".into(), Value::String(self.url.clone()));
        Value::Object(body)
    }
}

/// An open event stream: raw bytes as they arrive. Dropping it closes the connection.
pub trait ByteStream: Send + fmt::Debug {
    /// The next chunk; `None` on a clean end of stream.
    fn next_chunk(&mut self) -> BoxFuture<'_, Option<Result<Vec<u8>, TransportError>>>;
}

/// How payloads reach the SDK. Object-safe: use it as `Arc<dyn Transport>`.
///
/// `HyperTransport` (feature `http`) is the default; plug in your own for tests, another
/// HTTP client or a corporate proxy. Validation, decryption, SSE parsing, backoff and refetching
/// are done above this trait (by [`FeatureSource`] and its stream), so an implementation only
/// moves bytes and reports status codes as [`TransportError::status_code`].
pub trait Transport: Send + Sync + fmt::Debug {
    /// `GET {api_host}/api/features/{client_key}`, with ETag handling if supported.
    fn fetch_features(
        &self,
        request: FetchRequest,
    ) -> BoxFuture<'_, Result<FetchResponse, TransportError>>;

    /// Opens `GET {streaming_host}/sub/{client_key}`. The default says "unsupported".
    fn subscribe(
        &self,
        request: SubscribeRequest,
    ) -> BoxFuture<'_, Result<Box<dyn ByteStream>, TransportError>> {
        let _ = request;
        Box::pin(async {
            Err(TransportError::new(
                ErrorKind::Config,
                "streaming is not supported by this transport",
            ))
        })
    }

    /// `POST {api_host}/api/eval/{client_key}`; returns the JSON body. The default says
    /// "unsupported".
    fn remote_eval(
        &self,
        request: RemoteEvalRequest,
    ) -> BoxFuture<'_, Result<Value, TransportError>> {
        let _ = request;
        Box::pin(async {
            Err(TransportError::new(
                ErrorKind::Config,
                "remote evaluation is not supported by this transport",
            ))
        })
    }
}
