//! [`EventSink`] and the default [`HttpEventSink`], which posts through gb-transport's
//! HTTP client.

use alloc::boxed::Box;
use core::fmt;
use core::time::Duration;

use bytes::Bytes;
use gb_transport::{BoxFuture, ErrorKind, HyperClient, NetworkConfig, TransportError};
use http::Uri;
use serde_json::Value;

use crate::error::{Error, Result};

/// What is escaped in the `client_key` query value: all but RFC 3986 unreserved characters
/// (so ordinary `sdk-...` keys are sent as they are, as the JS SDK sends them).
pub(super) const QUERY_VALUE: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');
/// The most response-body bytes read from the ingestor (the body is discarded).
pub(super) const MAX_REPLY_BYTES: usize = 64 * 1024;

/// Where the tracking plugin sends its batches. The default is [`HttpEventSink`]; another
/// (a message queue, a test double) can be plugged in with
/// [`TrackingPluginBuilder::sink`].
pub trait EventSink: Send + Sync + fmt::Debug {
    /// Sends one batch of event payloads (see [`TrackedEvent::to_payload`]). An error makes
    /// the plugin retry the batch once.
    fn send<'a>(
        &'a self,
        events: &'a [Value],
    ) -> BoxFuture<'a, core::result::Result<(), TransportError>>;
}

/// The default [`EventSink`]: `POST {ingestor_host}/track?client_key={key}` with a JSON array
/// body and `Content-Type: text/plain`, on hyper + rustls (no OpenSSL). Any 2xx is success.
pub struct HttpEventSink {
    pub(super) client: HyperClient,
    pub(super) uri: Uri,
    pub(super) request_timeout: Duration,
}

impl fmt::Debug for HttpEventSink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The URI holds the client key: show the host only.
        f.debug_struct("HttpEventSink")
            .field("host", &self.uri.authority().map(|a| a.as_str()))
            .field("request_timeout", &self.request_timeout)
            .finish_non_exhaustive()
    }
}

pub(super) fn config_error(message: &str) -> Error {
    Error::Config(message.into())
}

impl HttpEventSink {
    /// A sink for `ingestor_host` and `client_key`.
    ///
    /// # Errors
    /// [`Error::Config`] if the host and key do not form a URL, or TLS cannot be set up.
    pub fn new(
        ingestor_host: &str,
        client_key: &str,
        connect_timeout: Duration,
        request_timeout: Duration,
    ) -> Result<Self> {
        Self::with_network(
            ingestor_host,
            client_key,
            &NetworkConfig::default(),
            connect_timeout,
            request_timeout,
        )
    }

    /// A sink for `ingestor_host` and `client_key` with these trust, proxy and dialer
    /// settings.
    ///
    /// # Errors
    /// [`Error::Config`] if the host and key do not form a URL, or TLS or the proxy cannot be
    /// set up.
    pub fn with_network(
        ingestor_host: &str,
        client_key: &str,
        network: &NetworkConfig,
        connect_timeout: Duration,
        request_timeout: Duration,
    ) -> Result<Self> {
        let key = percent_encoding::utf8_percent_encode(client_key, QUERY_VALUE);
        let url = format!(
            "{}/track?client_key={key}",
            ingestor_host.trim_end_matches('/')
        );
        let uri = url
            .parse::<Uri>()
            .map_err(|_| config_error("the ingestor host does not form a valid URL"))?;
        let client = gb_transport::http::http_client(network, connect_timeout)
            .map_err(|e| config_error(&e.to_string()))?;
        Ok(Self {
            client,
            uri,
            request_timeout,
        })
    }

    async fn post(&self, body: Bytes) -> core::result::Result<(), TransportError> {
        // The reply is read (bounded) so the connection can be reused, then discarded.
        gb_transport::http::post(
            &self.client,
            &self.uri,
            "text/plain",
            body,
            self.request_timeout,
            MAX_REPLY_BYTES,
        )
        .await
        .map(drop)
    }
}

impl EventSink for HttpEventSink {
    fn send<'a>(
        &'a self,
        events: &'a [Value],
    ) -> BoxFuture<'a, core::result::Result<(), TransportError>> {
        Box::pin(async move {
            let body = serde_json::to_vec(events).map_err(|e| {
                TransportError::new(ErrorKind::InvalidPayload, "cannot serialize events")
                    .with_source(e)
            })?;
            self.post(Bytes::from(body)).await
        })
    }
}
