//! The pooled hyper client every request of the workspace goes through, the one-shot
//! [`post`], and the response helpers (status, bounded and gzip-aware body reading, typed
//! errors) that [`HyperTransport`](super::HyperTransport) shares.

use alloc::vec::Vec;
use core::time::Duration;
use std::io::Read as _;

use bytes::Bytes;
use http::header::{self, HeaderMap, HeaderValue};
use http::{Method, Request, Uri};
use http_body_util::{BodyExt as _, Full};
use hyper::body::Incoming;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioTimer};

use crate::connect::{Connector, NetworkConfig};
use crate::error::{ErrorKind, TransportError};

/// The `User-Agent` of every request.
pub(crate) const USER_AGENT: &str = concat!("growthbook-rs/", env!("CARGO_PKG_VERSION"));

/// The pooled HTTP/1 client with rustls that every GrowthBook request here goes through.
pub type HyperClient = Client<Connector, Full<Bytes>>;

/// Builds a [`HyperClient`] with the default [`NetworkConfig`]: the webpki roots, the proxy
/// from the environment, TCP.
///
/// # Errors
/// As [`http_client`].
pub fn https_client(connect_timeout: Duration) -> Result<HyperClient, TransportError> {
    http_client(&NetworkConfig::default(), connect_timeout)
}

/// Builds a [`HyperClient`]: rustls with the crypto provider passed explicitly (so another
/// crate enabling a second provider cannot make TLS panic) and `network`'s roots, its proxy and
/// dialer, HTTP and HTTPS, TCP_NODELAY, connecting (TCP, tunnel and TLS) within
/// `connect_timeout`, and idle connections kept 30 s.
///
/// # Errors
/// [`ErrorKind::Config`] for an unusable TLS or proxy configuration.
pub fn http_client(
    network: &NetworkConfig,
    connect_timeout: Duration,
) -> Result<HyperClient, TransportError> {
    let connector = Connector::new(network, connect_timeout)?;
    Ok(Client::builder(TokioExecutor::new())
        .pool_timer(TokioTimer::new())
        .pool_idle_timeout(Duration::from_secs(30))
        .build(connector))
}

/// Sends `POST uri` with `body` on `client` (the one HTTP implementation of the workspace:
/// gb-sdk's tracking plugin posts its events through it). Sets `Content-Type`, `Accept:
/// application/json`, `Accept-Encoding: gzip` and the `User-Agent`; the whole exchange is
/// bounded by `timeout`, and the reply body (read so the connection can be reused, and
/// returned) by `max_reply_bytes`, before and after gzip decoding.
///
/// # Errors
/// [`ErrorKind::Timeout`] past `timeout`; [`ErrorKind::Connect`] and the connector's typed
/// errors; [`ErrorKind::Status`] for a non-2xx status (with its `Retry-After`);
/// [`ErrorKind::TooLarge`] for a reply over the cap.
pub async fn post(
    client: &HyperClient,
    uri: &Uri,
    content_type: &'static str,
    body: Bytes,
    timeout: Duration,
    max_reply_bytes: usize,
) -> Result<Vec<u8>, TransportError> {
    let mut request = Request::builder()
        .method(Method::POST)
        .uri(uri.clone())
        .body(Full::new(body))
        .map_err(|e| {
            TransportError::new(ErrorKind::Config, "cannot build request").with_source(e)
        })?;
    let headers = request.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::ACCEPT, HeaderValue::from_static("application/json"));
    headers.insert(header::ACCEPT_ENCODING, HeaderValue::from_static("gzip"));
    headers.insert(header::USER_AGENT, HeaderValue::from_static(USER_AGENT));
    let exchange = async {
        let response = client.request(request).await.map_err(client_error)?;
        check_status(&response)?;
        read_body(response.into_parts(), max_reply_bytes).await
    };
    tokio::time::timeout(timeout, exchange)
        .await
        .unwrap_or_else(|_| {
            Err(TransportError::new(
                ErrorKind::Timeout,
                alloc::format!("no complete response within {timeout:?}"),
            ))
        })
}

pub(crate) fn header_is(headers: &HeaderMap, name: &str, expected: &str) -> bool {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case(expected))
}

pub(crate) fn not_json() -> TransportError {
    TransportError::new(ErrorKind::NotJson, "body is not valid JSON")
}

pub(crate) fn check_status(response: &http::Response<Incoming>) -> Result<(), TransportError> {
    let status = response.status();
    if status.is_success() {
        return Ok(());
    }
    let mut err = TransportError::status_code(status.as_u16());
    let retry_after = response
        .headers()
        .get(header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if let Some(secs) = retry_after {
        err = err.with_retry_after(Duration::from_secs(secs));
    }
    Err(err)
}

pub(crate) fn client_error(err: hyper_util::client::legacy::Error) -> TransportError {
    // The connector's own typed error (TLS, proxy, connect, timeout), if it failed.
    let mut source: Option<&(dyn core::error::Error + 'static)> = Some(&err);
    while let Some(current) = source {
        if let Some(typed) = current.downcast_ref::<TransportError>() {
            return typed.clone();
        }
        source = current.source();
    }
    let timed_out = crate::connect::timed_out(&err);
    let kind = if timed_out {
        ErrorKind::Timeout
    } else if err.is_connect() {
        ErrorKind::Connect
    } else {
        ErrorKind::Body
    };
    TransportError::from_kind(kind).with_source(err)
}

pub(crate) fn body_error(err: hyper::Error) -> TransportError {
    let kind = if err.is_timeout() {
        ErrorKind::Timeout
    } else {
        ErrorKind::Body
    };
    TransportError::from_kind(kind).with_source(err)
}

fn too_large(cap: usize) -> TransportError {
    TransportError::new(
        ErrorKind::TooLarge,
        alloc::format!("body exceeds {cap} bytes"),
    )
}

/// Reads a body under `cap`, refusing early on `Content-Length`, then gunzips (also capped).
pub(crate) async fn read_body(
    (parts, mut body): (http::response::Parts, Incoming),
    cap: usize,
) -> Result<Vec<u8>, TransportError> {
    let declared = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|len| len > cap as u64) {
        return Err(too_large(cap));
    }
    // Trust the declared length for pre-allocation only up to 1 MiB.
    let mut bytes = Vec::with_capacity(declared.map_or(0, |len| len.min(1 << 20) as usize));
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(body_error)?;
        if let Ok(data) = frame.into_data() {
            if bytes.len() + data.len() > cap {
                return Err(too_large(cap));
            }
            bytes.extend_from_slice(&data);
        }
    }
    let encoding = parts
        .headers
        .get(header::CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.trim().to_ascii_lowercase());
    match encoding.as_deref() {
        None | Some("" | "identity") => Ok(bytes),
        Some("gzip" | "x-gzip") => gunzip(&bytes, cap),
        Some(_) => Err(TransportError::new(
            ErrorKind::NotJson,
            "unsupported content encoding",
        )),
    }
}

fn gunzip(compressed: &[u8], cap: usize) -> Result<Vec<u8>, TransportError> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(compressed)
        .take(cap as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|e| TransportError::new(ErrorKind::NotJson, "corrupt gzip body").with_source(e))?;
    if out.len() > cap {
        return Err(too_large(cap));
    }
    Ok(out)
}
