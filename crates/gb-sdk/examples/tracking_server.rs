//! A small hyper server using the request context and the tracking plugin.
//!
//! It binds 127.0.0.1, starts a stand-in ingestor beside it, serves a few requests from an
//! internal client (different browsers, cookies and query strings), closes the plugin (which
//! flushes the events) and exits; non-zero if anything is off, so CI can run it:
//!
//! ```text
//! cargo run -p gb-sdk --example tracking_server [-- --requests 12]
//! ```
//!
//! Requests with `?defer=1` use deferred tracking: their exposures come back in the response
//! (for a browser SDK to fire) instead of going to the ingestor.

extern crate alloc;

use alloc::sync::Arc;
use core::convert::Infallible;
use core::net::SocketAddr;
use core::sync::atomic::{AtomicUsize, Ordering};
use core::time::Duration;

use bytes::Bytes;
use gb_sdk::serde_json::{self, Map, Value, json};
use gb_sdk::{GrowthBook, GrowthBookTrackingPlugin, Plugin, RequestContext};
use http_body_util::{BodyExt as _, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::TcpListener;

type Reply = Response<Full<Bytes>>;

/// Serves `handler` on a fresh 127.0.0.1 port; returns the address.
async fn serve<F, Fut>(handler: F) -> std::io::Result<SocketAddr>
where
    F: Fn(Request<Incoming>) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Reply> + Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let handler = handler.clone();
            tokio::spawn(async move {
                let service = service_fn(move |req| {
                    let handler = handler.clone();
                    async move { Ok::<_, Infallible>(handler(req).await) }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    Ok(addr)
}

fn reply(status: u16, body: String) -> Reply {
    let mut r = Response::new(Full::new(Bytes::from(body)));
    *r.status_mut() = hyper::StatusCode::from_u16(status).unwrap_or_default();
    r
}

#[derive(Clone)]
struct App {
    client: GrowthBook,
    context: Arc<RequestContext>,
}

async fn page(app: App, req: Request<Incoming>) -> Reply {
    let defer = req.uri().query().is_some_and(|q| q.contains("defer=1"));
    let mut user = app.context.user(&app.client, &req);
    if defer {
        user = user.with_deferred_tracking();
    }
    let banner = user.feature_value("banner", String::from("none"));
    let mut props = Map::new();
    props.insert("path".into(), req.uri().path().into());
    user.log_event("Page View", props);
    let deferred: Vec<Value> = user
        .take_deferred_tracking_calls()
        .iter()
        .map(|c| c.to_json())
        .collect();
    let body = json!({
        "banner": banner,
        "browser": user.attributes().get("browser"),
        "deferredTrackingCalls": deferred,
    });
    reply(200, body.to_string())
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<(), Box<dyn core::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let requests: usize = args
        .iter()
        .position(|a| a == "--requests")
        .and_then(|i| args.get(i + 1))
        .and_then(|n| n.parse().ok())
        .unwrap_or(8);

    // A stand-in for GrowthBook's ingestor: counts the events it receives.
    let received = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&received);
    let ingestor = serve(move |req: Request<Incoming>| {
        let counter = Arc::clone(&counter);
        async move {
            let ok = req.uri().path() == "/track"
                && req
                    .headers()
                    .get("content-type")
                    .is_some_and(|v| v == "text/plain");
            let body = req.into_body().collect().await.map(|b| b.to_bytes());
            let events: Vec<Value> = body
                .ok()
                .and_then(|b| serde_json::from_slice(&b).ok())
                .unwrap_or_default();
            counter.fetch_add(events.len(), Ordering::SeqCst);
            reply(if ok { 204 } else { 400 }, String::new())
        }
    })
    .await?;

    let tracking = GrowthBookTrackingPlugin::builder("sdk-example")
        .ingestor_host(format!("http://{ingestor}"))
        .flush_interval(Duration::from_millis(200))
        .build()?;
    let client = GrowthBook::builder()
        .payload(
            json!({"features": {"banner": {"defaultValue": "none", "rules": [{
                "key": "banner-test", "variations": ["blue", "green"], "coverage": 1.0
            }]}}}),
        )
        .plugin(Arc::clone(&tracking) as Arc<dyn Plugin>)
        .build()?;
    let app = App {
        client: client.clone(),
        context: Arc::new(RequestContext::new().cookie("gb_uid", "id")),
    };
    let addr = serve(move |req| page(app.clone(), req)).await?;
    println!("serving on http://{addr}, ingestor on http://{ingestor}");

    // The internal client: a few browsers, users and query strings.
    let http = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
    let agents = [
        "Mozilla/5.0 (Macintosh) AppleWebKit/537.36 Chrome/124.0 Safari/537.36",
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4) Version/17.4 Mobile/15E148 Safari/604.1",
        "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
    ];
    let mut deferred_seen = 0;
    for i in 0..requests {
        let query = match i % 4 {
            0 => "?utm_source=example",
            1 => "?banner-test=1",
            2 => "?defer=1",
            _ => "",
        };
        let req = Request::builder()
            .uri(format!("http://{addr}/page/{i}{query}"))
            .header("user-agent", agents[i % agents.len()])
            .header("cookie", format!("gb_uid=user-{i}"))
            .body(Full::new(Bytes::new()))?;
        let response = http.request(req).await?;
        let status = response.status();
        let body = response.into_body().collect().await?.to_bytes();
        let body: Value = serde_json::from_slice(&body)?;
        println!("GET /page/{i}{query} -> {status} {body}");
        if !status.is_success() {
            return Err(format!("request {i} failed: {status}").into());
        }
        if i % 4 == 1 && body["banner"] != "green" {
            return Err("the query-string forced variation was not applied".into());
        }
        deferred_seen += body["deferredTrackingCalls"].as_array().map_or(0, Vec::len);
    }

    // Flush and stop the tracking worker (bounded), then the client.
    let flushed = tracking.close_async(Duration::from_secs(5)).await;
    client.close();
    let stats = tracking.stats();
    let events = received.load(Ordering::SeqCst);
    println!("tracking: flushed={flushed} ingestor received {events} events; {stats:?}");
    println!("deferred exposures handed back: {deferred_seen}");
    let deferred_requests = (0..requests).filter(|i| i % 4 == 2).count();
    if !flushed
        || stats.failed > 0
        || events as u64 != stats.sent
        || events == 0
        || deferred_seen != deferred_requests
    {
        return Err("tracking self-test failed".into());
    }
    println!("self-test passed");
    Ok(())
}
