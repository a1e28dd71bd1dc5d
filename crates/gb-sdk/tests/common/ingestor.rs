//! A GrowthBook ingestor stand-in on 127.0.0.1: records `POST /track` batches, or answers
//! 500, or hangs (accepts and never answers).

use alloc::sync::Arc;
use core::net::SocketAddr;
use core::sync::atomic::{AtomicU8, AtomicUsize, Ordering};
use std::sync::Mutex;

use bytes::Bytes;
use gb_sdk::serde_json::{self, Value};
use http_body_util::{BodyExt as _, Full};
use hyper::body::Incoming;
use hyper::{Request, Response};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// Answer 204 and record the batch.
pub const OK: u8 = 0;
/// Never answer.
pub const HANG: u8 = 1;
/// Answer 500.
pub const FAIL: u8 = 2;

/// One request the ingestor received.
#[derive(Debug, Clone)]
pub struct Received {
    pub method: String,
    pub path: String,
    pub query: String,
    pub content_type: String,
    pub body: Value,
}

#[derive(Debug, Default)]
pub struct IngestState {
    pub mode: AtomicU8,
    /// Requests to fail with 500 before answering per `mode`.
    pub fail_first: AtomicUsize,
    pub requests: AtomicUsize,
    pub received: Mutex<Vec<Received>>,
}

impl IngestState {
    /// Every event of every recorded batch.
    pub fn events(&self) -> Vec<Value> {
        self.received
            .lock()
            .unwrap()
            .iter()
            .flat_map(|r| r.body.as_array().cloned().unwrap_or_default())
            .collect()
    }

    pub fn batches(&self) -> usize {
        self.received.lock().unwrap().len()
    }
}

#[derive(Debug)]
pub struct Ingestor {
    pub addr: SocketAddr,
    pub state: Arc<IngestState>,
    task: JoinHandle<()>,
}

impl Drop for Ingestor {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Ingestor {
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

pub async fn start(mode: u8) -> Ingestor {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let state = Arc::new(IngestState::default());
    state.mode.store(mode, Ordering::SeqCst);
    let shared = Arc::clone(&state);
    let task = super::serve(listener, move |req| {
        let state = Arc::clone(&shared);
        async move { handle(&state, req).await }
    });
    Ingestor { addr, state, task }
}

async fn handle(state: &IngestState, req: Request<Incoming>) -> Response<Full<Bytes>> {
    state.requests.fetch_add(1, Ordering::SeqCst);
    let reply = |code: u16| {
        Response::builder()
            .status(code)
            .body(Full::new(Bytes::new()))
            .unwrap()
    };
    if state.mode.load(Ordering::SeqCst) == HANG {
        core::future::pending::<()>().await;
    }
    let failing = state
        .fail_first
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok();
    if failing || state.mode.load(Ordering::SeqCst) == FAIL {
        return reply(500);
    }
    let method = req.method().to_string();
    let path = req.uri().path().to_owned();
    let query = req.uri().query().unwrap_or("").to_owned();
    let content_type = req
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let body = req.into_body().collect().await.unwrap().to_bytes();
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    state.received.lock().unwrap().push(Received {
        method,
        path,
        query,
        content_type,
        body,
    });
    reply(204)
}
