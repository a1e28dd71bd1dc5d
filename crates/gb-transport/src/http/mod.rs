//! [`HyperTransport`]: the default [`Transport`] on hyper 1, hyper-util, tokio and rustls (no
//! OpenSSL). Trust, proxy and the connector hook are set by [`HttpConfig::network`] (see
//! [`crate::connect`]).
//!
//! * `GET {api_host}/api/features/{client_key}` with `User-Agent`, `Accept-Encoding: gzip`,
//!   custom headers and `If-None-Match`; a 304 reuses the cached body.
//! * `GET {streaming_host}/sub/{client_key}` with `Accept: text/event-stream` and
//!   `Last-Event-ID`.
//! * `POST {api_host}/api/eval/{client_key}` with a JSON body.
//!
//! Every request is bounded by [`HttpConfig::connect_timeout`] (TCP + TLS) and
//! [`HttpConfig::request_timeout`] (whole exchange, body included; for the stream: up to the
//! response headers). Bodies are capped at [`HttpConfig::max_body_bytes`], before and after
//! gzip decoding.

use alloc::borrow::ToOwned as _;
use alloc::boxed::Box;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::fmt;
use core::future::Future;
use core::time::Duration;
use std::sync::{Mutex, PoisonError};

use bytes::Bytes;
use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use http::{Method, Request, StatusCode, Uri};
use http_body_util::{BodyExt as _, Full};
use hyper::body::Incoming;
use serde_json::Value;

use crate::connect::NetworkConfig;
use crate::error::{ErrorKind, TransportError};

mod client;

use crate::{
    BoxFuture, ByteStream, FetchRequest, FetchResponse, RemoteEvalRequest, SubscribeRequest,
    Transport,
};
pub use client::{HyperClient, http_client, https_client, post};
use client::{body_error, check_status, client_error, header_is, not_json, read_body};

/// The default API host.
pub const DEFAULT_API_HOST: &str = "https://cdn.growthbook.io";
/// Default TCP + TLS connect timeout: 5 s.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Default timeout for a whole request (headers and body): 10 s.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// Default cap on a response body, compressed or decompressed: 50 MiB.
pub const DEFAULT_MAX_BODY_BYTES: usize = 50 * 1024 * 1024;

/// An SDK client key (`sdk-...`). `Debug` shows only its last 4 characters.
#[derive(Clone, PartialEq, Eq)]
pub struct ClientKey(String);

impl ClientKey {
    /// Wraps a client key.
    pub fn new(key: impl Into<String>) -> Self {
        Self(key.into())
    }

    /// The full key (for building URLs; do not log it).
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// `…` plus the last 4 characters: safe for logs.
    pub fn redacted(&self) -> String {
        let tail: String = {
            let chars: Vec<char> = self.0.chars().collect();
            chars[chars.len().saturating_sub(4)..].iter().collect()
        };
        alloc::format!("…{tail}")
    }
}

impl fmt::Debug for ClientKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ClientKey({})", self.redacted())
    }
}

/// Settings for [`HyperTransport`]. `Debug` shows header names only (values may be secrets).
#[derive(Clone)]
pub struct HttpConfig {
    /// API host, e.g. `https://cdn.growthbook.io` (the default); a trailing `/` is ignored.
    pub api_host: String,
    /// Streaming host; `None` uses `api_host`.
    pub streaming_host: Option<String>,
    /// The SDK client key.
    pub client_key: ClientKey,
    /// Extra headers sent with every request (e.g. a proxy's auth header).
    pub headers: Vec<(String, String)>,
    /// The `User-Agent`. Default `growthbook-rs/<version>`.
    pub user_agent: String,
    /// TCP + TLS connect timeout. Default [`DEFAULT_CONNECT_TIMEOUT`] (5 s).
    pub connect_timeout: Duration,
    /// Whole-request timeout. Default [`DEFAULT_REQUEST_TIMEOUT`] (10 s).
    pub request_timeout: Duration,
    /// Body size cap. Default [`DEFAULT_MAX_BODY_BYTES`] (50 MiB).
    pub max_body_bytes: usize,
    /// Trust (roots, private CAs), proxy (default: the environment) and the connector hook.
    pub network: NetworkConfig,
}

impl HttpConfig {
    /// Defaults for `client_key` against `https://cdn.growthbook.io`.
    pub fn new(client_key: impl Into<String>) -> Self {
        Self {
            api_host: DEFAULT_API_HOST.to_owned(),
            streaming_host: None,
            client_key: ClientKey::new(client_key),
            headers: Vec::new(),
            user_agent: client::USER_AGENT.into(),
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            network: NetworkConfig::default(),
        }
    }

    /// Sets the API host.
    #[must_use]
    pub fn api_host(mut self, host: impl Into<String>) -> Self {
        self.api_host = host.into();
        self
    }
}

impl fmt::Debug for HttpConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let header_names: Vec<&str> = self.headers.iter().map(|(name, _)| name.as_str()).collect();
        f.debug_struct("HttpConfig")
            .field("api_host", &self.api_host)
            .field("streaming_host", &self.streaming_host)
            .field("client_key", &self.client_key)
            .field("headers", &header_names)
            .field("user_agent", &self.user_agent)
            .field("connect_timeout", &self.connect_timeout)
            .field("request_timeout", &self.request_timeout)
            .field("max_body_bytes", &self.max_body_bytes)
            .field("network", &self.network)
            .finish()
    }
}

#[derive(Debug)]
struct Cached {
    etag: String,
    body: Arc<str>,
    sse_supported: bool,
}

/// The default transport (hyper 1 + rustls). Cheap to share behind an `Arc`.
pub struct HyperTransport {
    client: HyperClient,
    config: HttpConfig,
    headers: HeaderMap,
    features_uri: Uri,
    stream_uri: Uri,
    eval_uri: Uri,
    cache: Mutex<Option<Cached>>,
}

impl fmt::Debug for HyperTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HyperTransport")
            .field("api_host", &self.config.api_host)
            .field("client_key", &self.config.client_key)
            .finish_non_exhaustive()
    }
}

fn config_error(message: &str) -> TransportError {
    TransportError::new(ErrorKind::Config, message)
}

fn endpoint(host: &str, path: &str, key: &ClientKey) -> Result<Uri, TransportError> {
    let url = alloc::format!("{}/{path}/{}", host.trim_end_matches('/'), key.expose());
    url.parse::<Uri>()
        .map_err(|_| config_error("host or client key does not form a valid URL"))
}

impl HyperTransport {
    /// Builds the transport (TLS setup, URLs, headers). Needs no runtime until used; requests
    /// must run inside a tokio runtime.
    ///
    /// # Errors
    /// [`ErrorKind::Config`] for an unusable host, client key, header or TLS setup.
    pub fn new(config: HttpConfig) -> Result<Self, TransportError> {
        let features_uri = endpoint(&config.api_host, "api/features", &config.client_key)?;
        let eval_uri = endpoint(&config.api_host, "api/eval", &config.client_key)?;
        let stream_host = config.streaming_host.as_deref().unwrap_or(&config.api_host);
        let stream_uri = endpoint(stream_host, "sub", &config.client_key)?;

        let mut headers = HeaderMap::new();
        let agent = HeaderValue::from_str(&config.user_agent)
            .map_err(|_| config_error("invalid User-Agent"))?;
        headers.insert(header::USER_AGENT, agent);
        for (name, value) in &config.headers {
            let name = HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| config_error("invalid custom header name"))?;
            let value = HeaderValue::from_str(value)
                .map_err(|_| config_error("invalid custom header value"))?;
            headers.append(name, value);
        }

        let client = http_client(&config.network, config.connect_timeout)?;
        Ok(Self {
            client,
            config,
            headers,
            features_uri,
            stream_uri,
            eval_uri,
            cache: Mutex::new(None),
        })
    }

    /// The settings this transport was built with.
    pub fn config(&self) -> &HttpConfig {
        &self.config
    }

    fn request(
        &self,
        method: Method,
        uri: &Uri,
        body: Bytes,
    ) -> Result<Request<Full<Bytes>>, TransportError> {
        let mut request = Request::builder()
            .method(method)
            .uri(uri.clone())
            .body(Full::new(body))
            .map_err(|e| config_error("cannot build request").with_source(e))?;
        request.headers_mut().extend(self.headers.clone());
        Ok(request)
    }

    /// Runs `work` under the request timeout.
    async fn timed<T>(
        &self,
        work: impl Future<Output = Result<T, TransportError>>,
    ) -> Result<T, TransportError> {
        let limit = self.config.request_timeout;
        tokio::time::timeout(limit, work).await.unwrap_or_else(|_| {
            Err(TransportError::new(
                ErrorKind::Timeout,
                alloc::format!("no complete response within {limit:?}"),
            ))
        })
    }

    async fn fetch(&self, req: FetchRequest) -> Result<FetchResponse, TransportError> {
        let mut request = self.request(Method::GET, &self.features_uri, Bytes::new())?;
        let headers = request.headers_mut();
        headers.insert(header::ACCEPT, HeaderValue::from_static("application/json"));
        headers.insert(header::ACCEPT_ENCODING, HeaderValue::from_static("gzip"));
        let cached_etag = if req.use_etag {
            self.cached(|c| c.etag.clone())
        } else {
            None
        };
        if let Some(etag) = cached_etag
            .as_deref()
            .and_then(|e| HeaderValue::from_str(e).ok())
        {
            headers.insert(header::IF_NONE_MATCH, etag);
        }
        self.timed(async {
            let response = self.client.request(request).await.map_err(client_error)?;
            let status = response.status();
            let sse_header = header_is(response.headers(), "x-sse-support", "enabled");
            tracing::debug!(
                client = %self.config.client_key.redacted(),
                status = status.as_u16(),
                "features response"
            );
            if status == StatusCode::NOT_MODIFIED {
                return self
                    .cached(|c| FetchResponse {
                        body: Arc::clone(&c.body),
                        etag: Some(c.etag.clone()),
                        sse_supported: sse_header || c.sse_supported,
                        not_modified: true,
                    })
                    .ok_or_else(|| {
                        TransportError::new(ErrorKind::Status, "304 without a cached body")
                            .with_status(304)
                    });
            }
            check_status(&response)?;
            let etag = response
                .headers()
                .get(header::ETAG)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            let bytes = read_body(response.into_parts(), self.config.max_body_bytes).await?;
            // The body as served: validated (and decrypted) above this trait, parsed once.
            let body: Arc<str> = String::from_utf8(bytes).map_err(|_| not_json())?.into();
            let mut cache = self.cache.lock().unwrap_or_else(PoisonError::into_inner);
            *cache = etag.clone().map(|etag| Cached {
                etag,
                body: Arc::clone(&body),
                sse_supported: sse_header,
            });
            drop(cache);
            Ok(FetchResponse {
                body,
                etag,
                sse_supported: sse_header,
                not_modified: false,
            })
        })
        .await
    }

    fn cached<T>(&self, f: impl FnOnce(&Cached) -> T) -> Option<T> {
        self.cache
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
            .map(f)
    }

    async fn open(&self, req: SubscribeRequest) -> Result<Box<dyn ByteStream>, TransportError> {
        let mut request = self.request(Method::GET, &self.stream_uri, Bytes::new())?;
        let headers = request.headers_mut();
        headers.insert(
            header::ACCEPT,
            HeaderValue::from_static("text/event-stream"),
        );
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        if let Some(id) = req
            .last_event_id
            .as_deref()
            .and_then(|id| HeaderValue::from_str(id).ok())
        {
            headers.insert(HeaderName::from_static("last-event-id"), id);
        }
        let response = self
            .timed(async { self.client.request(request).await.map_err(client_error) })
            .await?;
        tracing::debug!(
            client = %self.config.client_key.redacted(),
            status = response.status().as_u16(),
            "stream response"
        );
        check_status(&response)?;
        Ok(Box::new(HyperByteStream {
            body: response.into_body(),
        }))
    }

    async fn eval(&self, req: RemoteEvalRequest) -> Result<Value, TransportError> {
        let body = serde_json::to_vec(&req.to_json())
            .map_err(|e| config_error("cannot encode request").with_source(e))?;
        let mut request = self.request(Method::POST, &self.eval_uri, Bytes::from(body))?;
        let headers = request.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        headers.insert(header::ACCEPT, HeaderValue::from_static("application/json"));
        headers.insert(header::ACCEPT_ENCODING, HeaderValue::from_static("gzip"));
        self.timed(async {
            let response = self.client.request(request).await.map_err(client_error)?;
            check_status(&response)?;
            let bytes = read_body(response.into_parts(), self.config.max_body_bytes).await?;
            serde_json::from_slice(&bytes).map_err(|_| not_json())
        })
        .await
    }
}

impl Transport for HyperTransport {
    fn fetch_features(
        &self,
        request: FetchRequest,
    ) -> BoxFuture<'_, Result<FetchResponse, TransportError>> {
        Box::pin(self.fetch(request))
    }

    fn subscribe(
        &self,
        request: SubscribeRequest,
    ) -> BoxFuture<'_, Result<Box<dyn ByteStream>, TransportError>> {
        Box::pin(self.open(request))
    }

    fn remote_eval(
        &self,
        request: RemoteEvalRequest,
    ) -> BoxFuture<'_, Result<Value, TransportError>> {
        Box::pin(self.eval(request))
    }
}

/// The body of an open event stream.
#[derive(Debug)]
struct HyperByteStream {
    body: Incoming,
}

impl ByteStream for HyperByteStream {
    fn next_chunk(&mut self) -> BoxFuture<'_, Option<Result<Vec<u8>, TransportError>>> {
        Box::pin(async {
            loop {
                match self.body.frame().await? {
                    Err(e) => return Some(Err(body_error(e))),
                    Ok(frame) => {
                        if let Ok(data) = frame.into_data()
                            && !data.is_empty()
                        {
                            return Some(Ok(Vec::from(data)));
                        }
                    }
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_key_is_redacted() {
        let key = ClientKey::new("sdk-abcdefghijkl");
        assert_eq!(format!("{key:?}"), "ClientKey(…ijkl)");
        let mut config = HttpConfig::new("sdk-abcdefghijkl");
        config
            .headers
            .push(("authorization".into(), "Bearer s3cret".into()));
        let shown = format!("{config:?}");
        assert!(
            !shown.contains("abcdefgh") && !shown.contains("s3cret"),
            "{shown}"
        );
        let transport = HyperTransport::new(HttpConfig::new("sdk-abcdefghijkl")).expect("builds");
        assert!(!format!("{transport:?}").contains("abcdefgh"));
    }

    #[test]
    fn bad_config_is_typed() {
        let mut config = HttpConfig::new("sdk-x");
        config.headers.push(("bad header".into(), "v".into()));
        let err = HyperTransport::new(config).expect_err("bad header name");
        assert_eq!(err.kind(), ErrorKind::Config);
        let err = HyperTransport::new(HttpConfig::new("sdk x")).expect_err("space in key");
        assert_eq!(err.kind(), ErrorKind::Config);
    }
}
