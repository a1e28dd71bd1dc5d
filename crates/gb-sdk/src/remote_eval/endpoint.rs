//! [`RemoteEvalEndpoint`]: HTTP in, HTTP out, over any body type.

use alloc::boxed::Box;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;

use bytes::Bytes;
use http::{HeaderValue, Method, Request, Response, StatusCode, header};
use http_body_util::{BodyExt as _, Full, LengthLimitError, Limited};
use hyper::body::Body;
use serde_json::{Value, json};

use super::evaluate::evaluated_payload_bytes;
use super::wire::{BadRequest, parse_request};
use crate::client::GrowthBook;

/// The default request-body limit: 64 KiB (a user's attributes, forced values and URL).
pub const DEFAULT_MAX_BODY: usize = 64 * 1024;

/// The path prefix of the endpoint: `POST /api/eval/{clientKey}`.
const PREFIX: &str = "/api/eval/";

/// The GrowthBook remote-evaluation endpoint over one [`GrowthBook`] client: see the
/// [module docs](crate::remote_eval). Cheap to clone.
///
/// Every answer is JSON. `200` with the evaluated payload; `204` for a CORS preflight; `400`
/// for a body that is not a request, `404` for another path or an unknown client key, `405`
/// for another method, `413` for a body over the limit, `503` while the client has no
/// features; errors are `{"status": code, "error": "..."}` as the GrowthBook API writes them.
/// No body, however hostile, makes it panic, and it never reads more than the limit.
#[derive(Debug, Clone)]
pub struct RemoteEvalEndpoint {
    client: GrowthBook,
    max_body: usize,
    client_keys: Option<Arc<[String]>>,
}

impl RemoteEvalEndpoint {
    /// An endpoint evaluating on `client`'s features, for any client key, with bodies up to
    /// [`DEFAULT_MAX_BODY`].
    pub fn new(client: GrowthBook) -> Self {
        Self {
            client,
            max_body: DEFAULT_MAX_BODY,
            client_keys: None,
        }
    }

    /// The largest request body read, in bytes (larger bodies get `413`).
    #[must_use]
    pub fn max_body(mut self, bytes: usize) -> Self {
        self.max_body = bytes;
        self
    }

    /// Serves only these client keys (others get `404`). By default any key is served.
    #[must_use]
    pub fn client_keys<S: Into<String>>(mut self, keys: impl IntoIterator<Item = S>) -> Self {
        let keys: Vec<String> = keys.into_iter().map(Into::into).collect();
        self.client_keys = Some(keys.into());
        self
    }

    /// The client whose features are evaluated.
    pub fn client(&self) -> &GrowthBook {
        &self.client
    }

    /// Whether `path` is this endpoint's (`/api/eval/...`): for routing in front of it.
    pub fn handles(path: &str) -> bool {
        path.starts_with(PREFIX)
    }

    /// Answers one HTTP request. Reads at most the body limit (a `Content-Length` above it is
    /// refused before reading anything).
    pub async fn respond<B>(&self, request: Request<B>) -> Response<Full<Bytes>>
    where
        B: Body,
        B::Error: Into<Box<dyn core::error::Error + Send + Sync>>,
    {
        let (parts, body) = request.into_parts();
        if let Err(e) = self.check_head(&parts.method, parts.uri.path()) {
            return error_response(&e);
        }
        if parts.method == Method::OPTIONS {
            return preflight();
        }
        let declared = parts
            .headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|n| n > self.max_body as u64) {
            return error_response(&BadRequest::TooLarge {
                limit: self.max_body,
            });
        }
        let bytes = match Limited::new(body, self.max_body).collect().await {
            Ok(collected) => collected.to_bytes(),
            Err(e) if e.downcast_ref::<LengthLimitError>().is_some() => {
                return error_response(&BadRequest::TooLarge {
                    limit: self.max_body,
                });
            }
            Err(_) => return error_response(&BadRequest::Unreadable),
        };
        self.respond_to(&parts.method, parts.uri.path(), &bytes)
    }

    /// Answers a request already read: `method`, `path` and the whole `body`. For HTTP stacks
    /// that buffer bodies themselves (apply your own size limit first).
    pub fn respond_to(&self, method: &Method, path: &str, body: &[u8]) -> Response<Full<Bytes>> {
        if let Err(e) = self.check_head(method, path) {
            return error_response(&e);
        }
        if method == Method::OPTIONS {
            return preflight();
        }
        if body.len() > self.max_body {
            return error_response(&BadRequest::TooLarge {
                limit: self.max_body,
            });
        }
        let request = match parse_request(body) {
            Ok(r) => r,
            Err(e) => return error_response(&e),
        };
        match evaluated_payload_bytes(&self.client, &request) {
            Some(body) => bytes_response(StatusCode::OK, body),
            None => {
                let mut r = json_response(
                    StatusCode::SERVICE_UNAVAILABLE,
                    &json!({"status": 503, "error": "features are not loaded yet"}),
                );
                r.headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
                r
            }
        }
    }

    fn check_head(&self, method: &Method, path: &str) -> Result<(), BadRequest> {
        let key = path.strip_prefix(PREFIX).ok_or(BadRequest::NotFound)?;
        if key.is_empty() || key.contains('/') {
            return Err(BadRequest::NotFound);
        }
        if let Some(keys) = &self.client_keys
            && !keys.iter().any(|k| k == key)
        {
            return Err(BadRequest::UnknownClientKey);
        }
        if method != Method::POST && method != Method::OPTIONS {
            return Err(BadRequest::MethodNotAllowed);
        }
        Ok(())
    }
}

fn with_common_headers(mut r: Response<Full<Bytes>>) -> Response<Full<Bytes>> {
    let h = r.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    r
}

fn json_response(status: StatusCode, body: &Value) -> Response<Full<Bytes>> {
    bytes_response(status, body.to_string().into_bytes())
}

fn bytes_response(status: StatusCode, body: Vec<u8>) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from(body)));
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    with_common_headers(r)
}

fn error_response(e: &BadRequest) -> Response<Full<Bytes>> {
    let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::BAD_REQUEST);
    let mut r = json_response(
        status,
        &json!({"status": status.as_u16(), "error": e.to_string()}),
    );
    if status == StatusCode::METHOD_NOT_ALLOWED {
        r.headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("POST, OPTIONS"));
    }
    r
}

/// A CORS preflight answer: a browser SDK posts JSON from another origin.
fn preflight() -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::new()));
    *r.status_mut() = StatusCode::NO_CONTENT;
    let h = r.headers_mut();
    h.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static("POST, OPTIONS"),
    );
    h.insert(
        header::ACCESS_CONTROL_ALLOW_HEADERS,
        HeaderValue::from_static("content-type"),
    );
    h.insert(
        header::ACCESS_CONTROL_MAX_AGE,
        HeaderValue::from_static("86400"),
    );
    with_common_headers(r)
}
