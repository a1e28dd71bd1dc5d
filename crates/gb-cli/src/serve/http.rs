//! One HTTP/1.1 connection: routing to the features, SSE and remote-evaluation handlers.

use alloc::sync::Arc;
use core::convert::Infallible;

use bytes::Bytes;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Empty, Full};
use hyper::body::Incoming;
use hyper::header::{self, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

use super::State;
use super::sse;

/// A response body: a whole payload, or an event stream.
pub(super) type Body = BoxBody<Bytes, Infallible>;

/// Serves requests on `stream` until the client closes it.
pub(super) async fn connection(stream: TcpStream, state: Arc<State>) {
    let service = hyper::service::service_fn(move |req| {
        let state = Arc::clone(&state);
        async move { Ok::<_, Infallible>(route(req, &state).await) }
    });
    // A failed connection (reset, bad request line) concerns that client only.
    let _ = hyper::server::conn::http1::Builder::new()
        .serve_connection(TokioIo::new(stream), service)
        .await;
}

async fn route(req: Request<Incoming>, state: &State) -> Response<Body> {
    let path = req.uri().path().to_owned();
    if gb_sdk::RemoteEvalEndpoint::handles(&path) {
        return state.endpoint.respond(req).await.map(BodyExt::boxed);
    }
    let key = |prefix: &str| {
        path.strip_prefix(prefix)
            .filter(|k| !k.is_empty() && !k.contains('/'))
            .is_some()
    };
    let get = req.method() == Method::GET || req.method() == Method::HEAD;
    if key("/api/features/") && get {
        return features(&req, state);
    }
    if key("/sub/") && req.method() == Method::GET {
        return sse::subscribe(state);
    }
    if key("/api/features/") || key("/sub/") {
        return error(StatusCode::METHOD_NOT_ALLOWED, "method not allowed");
    }
    error(
        StatusCode::NOT_FOUND,
        "not found: gb serve answers GET /api/features/{key}, GET /sub/{key} and POST /api/eval/{key}",
    )
}

/// `GET /api/features/{key}`: the current version, `304` when the client has it.
fn features(req: &Request<Incoming>, state: &State) -> Response<Body> {
    let version = Arc::clone(&state.current.borrow());
    let etag = HeaderValue::from_str(&version.etag).unwrap_or(HeaderValue::from_static("\"\""));
    let matches = req
        .headers()
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|tag| {
            let tag = tag.trim();
            tag == "*" || tag.trim_start_matches("W/") == version.etag
        });
    let (status, body) = if matches {
        (StatusCode::NOT_MODIFIED, Empty::new().boxed())
    } else if req.method() == Method::HEAD {
        (StatusCode::OK, Empty::new().boxed())
    } else {
        (StatusCode::OK, Full::new(version.body.clone()).boxed())
    };
    let mut r = Response::new(body);
    *r.status_mut() = status;
    let h = r.headers_mut();
    h.insert(header::ETAG, etag);
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    // Revalidate every time: the file may change at any moment.
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    sse::advertise(h);
    r
}

fn error(status: StatusCode, message: &str) -> Response<Body> {
    let body = serde_json::json!({"status": status.as_u16(), "error": message}).to_string();
    let mut r = Response::new(Full::new(Bytes::from(body)).boxed());
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}
