//! A GrowthBook API stand-in on 127.0.0.1 for the integration tests: features (with ETag),
//! server-sent events, remote evaluation, and switchable faults.
#![allow(dead_code, unreachable_pub, clippy::unwrap_used, reason = "test")]

extern crate alloc;

use alloc::sync::Arc;
use core::convert::Infallible;
use core::net::SocketAddr;
use core::pin::Pin;
use core::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use core::task::{Context, Poll};
use core::time::Duration;
use std::sync::Mutex;

use bytes::Bytes;
use gb_sdk::serde_json::{Value, json};
use gb_sdk::{BackoffConfig, serde_json};
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt as _, Full};
use hyper::body::{Body, Frame, Incoming};
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::TcpSocket;
use tokio::sync::{broadcast, mpsc};
use tokio::task::{JoinHandle, JoinSet};

pub mod ingestor;

pub const KEY: &str = "sdk-test";

type Reply = Response<BoxBody<Bytes, Infallible>>;

/// What `GET /api/features/...` answers.
#[derive(Debug, Clone, PartialEq)]
pub enum Mode {
    /// The current payload (304 when `If-None-Match` matches).
    Good,
    /// This status with a JSON error body.
    Status(u16),
    /// 200 with an HTML page.
    Html,
    /// 200 with this JSON (e.g. `{}`).
    Json(Value),
    /// This status with `Retry-After: <seconds>`.
    RetryAfter(u16, u64),
}

/// The server's state, shared with the test.
#[derive(Debug)]
pub struct State {
    payload: Mutex<Value>,
    etag: AtomicU64,
    pub mode: Mutex<Mode>,
    pub fetches: AtomicUsize,
    pub not_modified: AtomicUsize,
    pub subscribes: AtomicUsize,
    pub evals: AtomicUsize,
    events: broadcast::Sender<String>,
}

impl State {
    /// Serves `payload` from now on (new ETag).
    pub fn set_payload(&self, payload: Value) {
        *self.payload.lock().unwrap() = payload;
        self.etag.fetch_add(1, Ordering::SeqCst);
    }

    pub fn set_mode(&self, mode: Mode) {
        *self.mode.lock().unwrap() = mode;
    }

    /// Sends a `features` event with `payload` to every open stream; returns how many got it.
    pub fn push_features(&self, payload: &Value) -> usize {
        self.set_payload(payload.clone());
        let frame = format!("event: features\ndata: {payload}\n\n");
        self.events.send(frame).unwrap_or(0)
    }

    pub fn fetches(&self) -> usize {
        self.fetches.load(Ordering::SeqCst)
    }

    /// Sends a `features-updated` beacon (data `""`) to every open stream.
    pub fn push_beacon(&self) -> usize {
        self.events
            .send("event: features-updated\ndata: \n\n".to_owned())
            .unwrap_or(0)
    }

    /// Ends every open stream cleanly (the clients reconnect and refetch).
    pub fn close_streams(&self) -> usize {
        self.events.send(CLOSE.to_owned()).unwrap_or(0)
    }

    /// The body a `200` serves now, byte for byte.
    pub fn served_body(&self) -> String {
        self.payload.lock().unwrap().to_string()
    }
}

/// The broadcast frame that ends a stream instead of being sent.
const CLOSE: &str = "\u{0}close";

/// `payload(value)` with a `dateUpdated`.
pub fn dated(value: &str, date: &str) -> Value {
    let mut p = payload(value);
    p["dateUpdated"] = date.into();
    p
}

/// The current time as the API writes `dateUpdated` (`2024-05-01T12:00:00.123Z`).
pub fn iso_now() -> String {
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    let secs = since.as_secs();
    let (days, rest) = (secs / 86_400, secs % 86_400);
    // Howard Hinnant's civil_from_days.
    let z = days as i64 + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60,
        since.subsec_millis()
    )
}

/// A running server; dropping it (or [`stop`](Self::stop)) closes the port and every
/// connection.
#[derive(Debug)]
pub struct Server {
    pub addr: SocketAddr,
    pub state: Arc<State>,
    task: JoinHandle<()>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Server {
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops accepting and drops every open connection.
    pub async fn stop(self) {
        self.task.abort();
        let mut s = self;
        let _ = (&mut s.task).await;
    }
}

/// A simple payload: `flag` is `value`.
pub fn payload(value: &str) -> Value {
    json!({"features": {"flag": {"defaultValue": value}}})
}

/// An unused port on 127.0.0.1 (nothing listens there until a server is started on it).
pub fn free_addr() -> SocketAddr {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap()
}

/// Fast backoff for tests (every mode honours the 401/403 delay, so it is short here too).
pub fn fast_backoff() -> BackoffConfig {
    BackoffConfig {
        initial: Duration::from_millis(50),
        max: Duration::from_millis(200),
        floor: Duration::from_millis(20),
        auth_delay: Duration::from_millis(100),
        ..BackoffConfig::default()
    }
}

/// The test client builder pointed at `url`.
pub fn builder(url: &str) -> gb_sdk::GrowthBookBuilder {
    gb_sdk::GrowthBook::builder()
        .api_host(url)
        .client_key(KEY)
        .backoff(fast_backoff())
        .connect_timeout(Duration::from_millis(500))
        .request_timeout(Duration::from_secs(1))
}

/// Starts a server on a random port serving `initial`.
pub async fn start(initial: Value) -> Server {
    start_on("127.0.0.1:0".parse().unwrap(), initial).await
}

/// Starts a server on `addr` serving `initial`.
pub async fn start_on(addr: SocketAddr, initial: Value) -> Server {
    let socket = TcpSocket::new_v4().unwrap();
    socket.set_reuseaddr(true).unwrap();
    socket.bind(addr).unwrap();
    let listener = socket.listen(64).unwrap();
    let addr = listener.local_addr().unwrap();
    let (events, _) = broadcast::channel(64);
    let state = Arc::new(State {
        payload: Mutex::new(initial),
        etag: AtomicU64::new(1),
        mode: Mutex::new(Mode::Good),
        fetches: AtomicUsize::new(0),
        not_modified: AtomicUsize::new(0),
        subscribes: AtomicUsize::new(0),
        evals: AtomicUsize::new(0),
        events,
    });
    let shared = Arc::clone(&state);
    let task = serve(listener, move |req| {
        let state = Arc::clone(&shared);
        async move { handle(&state, req).await }
    });
    Server { addr, state, task }
}

/// Serves HTTP/1 on `listener` with `handler` until the returned task is aborted (which
/// aborts every connection too).
pub fn serve<F, Fut, B>(listener: tokio::net::TcpListener, handler: F) -> JoinHandle<()>
where
    F: Fn(Request<Incoming>) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Response<B>> + Send + 'static,
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn core::error::Error + Send + Sync>>,
{
    tokio::spawn(async move {
        // Dropped with the task: aborts every connection.
        let mut connections = JoinSet::new();
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let handler = handler.clone();
            connections.spawn(async move {
                let service = service_fn(move |req| {
                    let handler = handler.clone();
                    async move { Ok::<_, Infallible>(handler(req).await) }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    })
}

/// A JSON object's map (tests build attributes with `json!`).
pub fn attrs(v: Value) -> serde_json::Map<String, Value> {
    v.as_object().cloned().unwrap()
}

/// A payload with `exp` (experiment `exp-1`, two variations keyed "0" and "1", everyone
/// included) and `plain` (7).
pub fn experiment_payload() -> Value {
    json!({"features": {
        "exp": {"defaultValue": "control", "rules": [{
            "key": "exp-1", "variations": ["control", "treatment"],
            "meta": [{"key": "0"}, {"key": "1"}], "weights": [0.5, 0.5], "coverage": 1.0
        }]},
        "plain": {"defaultValue": 7}
    }})
}

/// [`experiment_payload`] plus `extra` features.
pub fn experiment_payload_with(extra: Value) -> Value {
    let mut p = experiment_payload();
    let features = p["features"].as_object_mut().unwrap();
    features.extend(attrs(extra));
    p
}

fn full(status: u16, content_type: &str, body: impl Into<Bytes>) -> Reply {
    Response::builder()
        .status(status)
        .header("content-type", content_type)
        .body(Full::new(body.into()).boxed())
        .unwrap()
}

async fn handle(state: &State, req: Request<Incoming>) -> Reply {
    let path = req.uri().path().to_owned();
    if path == format!("/api/features/{KEY}") {
        state.fetches.fetch_add(1, Ordering::SeqCst);
        let mode = state.mode.lock().unwrap().clone();
        return match mode {
            Mode::Good => {
                let etag = format!("\"v{}\"", state.etag.load(Ordering::SeqCst));
                let matches = req
                    .headers()
                    .get("if-none-match")
                    .is_some_and(|v| v.as_bytes() == etag.as_bytes());
                if matches {
                    state.not_modified.fetch_add(1, Ordering::SeqCst);
                    return Response::builder()
                        .status(304)
                        .header("etag", etag)
                        .body(Full::new(Bytes::new()).boxed())
                        .unwrap();
                }
                let body = state.payload.lock().unwrap().to_string();
                Response::builder()
                    .status(200)
                    .header("content-type", "application/json")
                    .header("etag", etag)
                    .header("x-sse-support", "enabled")
                    .body(Full::new(Bytes::from(body)).boxed())
                    .unwrap()
            }
            Mode::Status(code) => full(code, "application/json", r#"{"status":"error"}"#),
            Mode::Html => full(200, "text/html", "<html>maintenance</html>"),
            Mode::Json(v) => full(200, "application/json", v.to_string()),
            Mode::RetryAfter(code, secs) => Response::builder()
                .status(code)
                .header("content-type", "application/json")
                .header("retry-after", secs.to_string())
                .body(Full::new(Bytes::from_static(br#"{"status":"busy"}"#)).boxed())
                .unwrap(),
        };
    }
    if path == format!("/sub/{KEY}") {
        state.subscribes.fetch_add(1, Ordering::SeqCst);
        let mut events = state.events.subscribe();
        let (tx, rx) = mpsc::unbounded_channel::<Bytes>();
        tokio::spawn(async move {
            let _ = tx.send(Bytes::from_static(b": hello\n\n"));
            while let Ok(frame) = events.recv().await {
                if frame == CLOSE || tx.send(Bytes::from(frame)).is_err() {
                    break;
                }
            }
        });
        return Response::builder()
            .status(200)
            .header("content-type", "text/event-stream")
            .body(ChannelBody(rx).boxed())
            .unwrap();
    }
    if path == format!("/api/eval/{KEY}") {
        state.evals.fetch_add(1, Ordering::SeqCst);
        let body = req.into_body().collect().await.unwrap().to_bytes();
        let ctx: Value = serde_json::from_slice(&body).unwrap_or_default();
        let id = ctx["attributes"]["id"].as_str().unwrap_or("nobody");
        let reply = json!({"features": {
            "greeting": {"defaultValue": format!("hello {id}")},
            "url": {"defaultValue": ctx["url"].clone()},
            "forced": {"defaultValue": ctx["forcedFeatures"].clone()},
        }});
        return full(200, "application/json", reply.to_string());
    }
    full(404, "text/plain", "not found")
}

/// A streamed body fed by a channel.
struct ChannelBody(mpsc::UnboundedReceiver<Bytes>);

impl Body for ChannelBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        self.0.poll_recv(cx).map(|b| b.map(|b| Ok(Frame::data(b))))
    }
}

/// Polls `check` every 10 ms until it holds or `limit` passes; returns whether it held.
pub async fn eventually(limit: Duration, mut check: impl FnMut() -> bool) -> bool {
    let start = tokio::time::Instant::now();
    while start.elapsed() < limit {
        if check() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    check()
}
