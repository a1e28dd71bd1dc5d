//! A fault-injecting HTTP/1 server on 127.0.0.1 (random port) for the integration tests.
#![allow(dead_code, unreachable_pub, clippy::unwrap_used)]

use alloc::sync::Arc;
use core::convert::Infallible;
use core::future::Future;
use core::net::SocketAddr;
use core::pin::Pin;
use core::task::{Context, Poll};
use core::time::Duration;
use std::sync::Mutex;

use bytes::Bytes;
use http_body_util::BodyExt as _;
use http_body_util::combinators::BoxBody;
use hyper::body::{Frame, Incoming};
use hyper::header::HeaderMap;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio::time::Instant;

pub type Body = BoxBody<Bytes, Infallible>;
pub type Reply = Pin<Box<dyn Future<Output = Response<Body>> + Send>>;
pub type Handler = Arc<dyn Fn(Hit) -> Reply + Send + Sync>;

/// One request the server received.
#[derive(Debug, Clone)]
pub struct Hit {
    pub at: Instant,
    pub method: String,
    pub path: String,
    pub headers: HeaderMap,
    pub body: Bytes,
    /// 1-based index of this request among requests to the same path.
    pub nth: usize,
}

impl Hit {
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    }
}

/// A running test server; requests are logged in `hits`.
pub struct Server {
    pub addr: SocketAddr,
    pub hits: Arc<Mutex<Vec<Hit>>>,
}

impl Server {
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn hits_to(&self, prefix: &str) -> Vec<Hit> {
        self.hits
            .lock()
            .unwrap()
            .iter()
            .filter(|h| h.path.starts_with(prefix))
            .cloned()
            .collect()
    }
}

/// Serves every connection with `handler` (which sees each request and its per-path index).
pub async fn serve(handler: impl Fn(Hit) -> Reply + Send + Sync + 'static) -> Server {
    let handler: Handler = Arc::new(handler);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let hits: Arc<Mutex<Vec<Hit>>> = Arc::default();
    let log = Arc::clone(&hits);
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let handler = Arc::clone(&handler);
            let log = Arc::clone(&log);
            tokio::spawn(async move {
                let service = service_fn(move |req: Request<Incoming>| {
                    let handler = Arc::clone(&handler);
                    let log = Arc::clone(&log);
                    async move {
                        let at = Instant::now();
                        let (parts, body) = req.into_parts();
                        let body = body
                            .collect()
                            .await
                            .map(|b| b.to_bytes())
                            .unwrap_or_default();
                        let path = parts.uri.path().to_owned();
                        let hit = {
                            let mut log = log.lock().unwrap();
                            let nth = log.iter().filter(|h| h.path == path).count() + 1;
                            let hit = Hit {
                                at,
                                method: parts.method.to_string(),
                                path,
                                headers: parts.headers,
                                body,
                                nth,
                            };
                            log.push(hit.clone());
                            hit
                        };
                        Ok::<_, Infallible>(handler(hit).await)
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    Server { addr, hits }
}

/// A server that accepts TCP connections and never answers.
pub async fn silent_server() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((stream, _)) = listener.accept().await {
            held.push(stream);
        }
    });
    addr
}

pub fn boxed(bytes: impl Into<Bytes>) -> Body {
    http_body_util::Full::new(bytes.into()).boxed()
}

pub fn reply(response: Response<Body>) -> Reply {
    Box::pin(async move { response })
}

pub fn status(code: u16, body: impl Into<Bytes>) -> Response<Body> {
    Response::builder().status(code).body(boxed(body)).unwrap()
}

pub fn json_response(value: &Value) -> Response<Body> {
    Response::builder()
        .status(200)
        .header("content-type", "application/json")
        .header("x-sse-support", "enabled")
        .body(boxed(serde_json::to_vec(value).unwrap()))
        .unwrap()
}

/// The payload used by the stream tests: feature `v` has default value `version`.
pub fn payload(version: u64) -> Value {
    json!({"features": {"v": {"defaultValue": version}}, "dateUpdated": format!("2026-01-01T00:00:{version:02}Z")})
}

/// The version in a payload made by [`payload`].
pub fn version_of(value: &Value) -> Option<u64> {
    value["features"]["v"]["defaultValue"].as_u64()
}

/// An SSE `features` event carrying [`payload`] (split over several `data:` lines).
pub fn features_event(id: u64, version: u64) -> String {
    let text = serde_json::to_string_pretty(&payload(version)).unwrap();
    let data: String = text.lines().map(|l| format!("data: {l}\n")).collect();
    format!("id: {id} \nevent: features\n{data}\n")
}

/// A body fed by a channel: ends cleanly when the sender is dropped.
pub struct ChanBody(pub mpsc::Receiver<Bytes>);

impl hyper::body::Body for ChanBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        self.0
            .poll_recv(cx)
            .map(|chunk| chunk.map(|b| Ok(Frame::data(b))))
    }
}

/// What an SSE connection does, in order. After the last step the stream ends cleanly.
#[derive(Clone)]
pub enum Step {
    Send(String),
    Sleep(Duration),
    /// `n` bytes of `a` with no newline, in 64 KiB chunks.
    Flood(usize),
    /// Send a ping every `interval` until the client goes away; then notify `closed`.
    HoldOpen {
        interval: Duration,
        closed: Option<mpsc::UnboundedSender<Instant>>,
    },
    /// Run a side effect (e.g. publish an update while the stream is down).
    Do(Arc<dyn Fn() + Send + Sync>),
}

/// A 200 `text/event-stream` response that plays `steps`.
pub fn sse(steps: Vec<Step>) -> Response<Body> {
    let (tx, rx) = mpsc::channel::<Bytes>(4);
    tokio::spawn(async move {
        for step in steps {
            match step {
                Step::Send(text) => {
                    if tx.send(Bytes::from(text)).await.is_err() {
                        return;
                    }
                }
                Step::Sleep(d) => tokio::time::sleep(d).await,
                Step::Flood(mut n) => {
                    let chunk = Bytes::from(vec![b'a'; 64 * 1024]);
                    while n > 0 {
                        let take = n.min(chunk.len());
                        if tx.send(chunk.slice(..take)).await.is_err() {
                            return;
                        }
                        n -= take;
                    }
                }
                Step::HoldOpen { interval, closed } => {
                    loop {
                        tokio::select! {
                            () = tx.closed() => break,
                            () = tokio::time::sleep(interval) => {
                                if tx.send(Bytes::from_static(b"data: \n\n")).await.is_err() {
                                    break;
                                }
                            }
                        }
                    }
                    if let Some(closed) = closed {
                        let _ = closed.send(Instant::now());
                    }
                    return;
                }
                Step::Do(f) => f(),
            }
        }
    });
    Response::builder()
        .status(200)
        .header("content-type", "text/event-stream")
        .header("cache-control", "no-cache")
        .body(ChanBody(rx).boxed())
        .unwrap()
}

/// Encrypts `plain` like the GrowthBook server (AES-128-CBC, PKCS#7, `base64(iv).base64(ct)`).
pub fn encrypt(plain: &str, key_b64: &str, iv: [u8; 16]) -> String {
    gb_transport::decrypt::encrypt(plain, key_b64, iv).unwrap()
}

/// Runs `f` under a hard deadline so no test can hang.
pub async fn bounded<T>(secs: u64, f: impl Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(secs), f)
        .await
        .expect("test exceeded its time bound")
}
