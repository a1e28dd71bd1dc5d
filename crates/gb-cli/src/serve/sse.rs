//! `GET /sub/{key}`: server-sent events, one `features` event per version.

use alloc::sync::Arc;
use core::convert::Infallible;
use core::pin::Pin;
use core::task::{Context, Poll};
use core::time::Duration;

use bytes::Bytes;
use http_body_util::BodyExt as _;
use hyper::body::Frame;
use hyper::header::{self, HeaderMap, HeaderValue};
use hyper::{Response, StatusCode};
use tokio::sync::mpsc;

use super::State;
use super::http::Body;
use super::source::Version;

/// Events queued per subscriber before the sender waits for the client to read.
const QUEUE: usize = 4;

/// A comment line every this often keeps idle connections (and proxies) alive.
const PING: Duration = Duration::from_secs(30);

/// The headers that tell SDKs this server streams (`x-sse-support: enabled`).
pub(super) fn advertise(h: &mut HeaderMap) {
    h.insert("x-sse-support", HeaderValue::from_static("enabled"));
    h.insert(
        header::ACCESS_CONTROL_EXPOSE_HEADERS,
        HeaderValue::from_static("x-sse-support"),
    );
    h.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
}

/// Opens an event stream: the current version at once, then every new one.
pub(super) fn subscribe(state: &State) -> Response<Body> {
    let (tx, rx) = mpsc::channel(QUEUE);
    let mut versions = state.current.clone();
    tokio::spawn(async move {
        let first = Arc::clone(&versions.borrow_and_update());
        if tx.send(event(&first)).await.is_err() {
            return;
        }
        loop {
            let next = tokio::select! {
                changed = versions.changed() => match changed {
                    Ok(()) => event(&versions.borrow_and_update()),
                    Err(_) => return,
                },
                () = tokio::time::sleep(PING) => Bytes::from_static(b": ping\n\n"),
            };
            // The client went away: its body (and the receiver) were dropped.
            if tx.send(next).await.is_err() {
                return;
            }
        }
    });
    let mut r = Response::new(EventBody(rx).boxed());
    *r.status_mut() = StatusCode::OK;
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    advertise(h);
    r
}

/// `id: N`, `event: features`, `data: <payload on one line>`.
fn event(version: &Version) -> Bytes {
    let mut out = Vec::with_capacity(version.body.len() + 48);
    out.extend_from_slice(format!("id: {}\nevent: features\ndata: ", version.number).as_bytes());
    out.extend_from_slice(&version.body);
    out.extend_from_slice(b"\n\n");
    Bytes::from(out)
}

/// The response body of an event stream: whatever the subscriber task sends.
struct EventBody(mpsc::Receiver<Bytes>);

impl hyper::body::Body for EventBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        self.0.poll_recv(cx).map(|o| o.map(|b| Ok(Frame::data(b))))
    }
}
