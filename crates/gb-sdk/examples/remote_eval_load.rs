//! Load generator for the remote-evaluation endpoint (README: "Serving other SDKs").
//!
//! `cargo run --release -p gb-sdk --example remote_eval_load -- [WORKLOAD] [SECONDS]`
//!
//! WORKLOAD defaults to `../shared/bench/workload.json` (200 features, 1000 users). Measures,
//! for `SECONDS` (default 5) each:
//! 1. the endpoint in process (`RemoteEvalEndpoint::respond_to`: parse the body, evaluate every
//!    feature, write the JSON answer) on 2 threads;
//! 2. the endpoint over HTTP/1.1 on 127.0.0.1: a hyper server and 16 keep-alive client
//!    connections sharing one 2-worker tokio runtime (load generator and server on the same
//!    2 cores).
extern crate alloc;

use alloc::sync::Arc;
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use core::time::Duration;
use std::time::Instant;

use bytes::Bytes;
use gb_sdk::serde_json::{self, Value};
use gb_sdk::{GrowthBook, RemoteEvalEndpoint};
use http::{Method, Request};
use http_body_util::{BodyExt as _, Full};
use hyper_util::rt::TokioIo;

fn main() -> Result<(), Box<dyn core::error::Error>> {
    let mut args = std::env::args().skip(1);
    let path = args
        .next()
        .unwrap_or_else(|| "../shared/bench/workload.json".into());
    let seconds: u64 = args.next().and_then(|s| s.parse().ok()).unwrap_or(5);
    let workload: Value = serde_json::from_str(&std::fs::read_to_string(&path)?)?;
    let client = GrowthBook::builder()
        .payload(workload["payload"].clone())
        .build()?;
    let features = client.feature_keys().len();
    let bodies: Arc<Vec<Bytes>> = Arc::new(
        workload["users"]
            .as_array()
            .ok_or("no users")?
            .iter()
            .map(|u| Bytes::from(serde_json::json!({"attributes": u, "forcedVariations": {}, "forcedFeatures": [], "url": ""}).to_string()))
            .collect(),
    );
    let endpoint = RemoteEvalEndpoint::new(client);
    println!(
        "{features} features, {} users, {seconds} s per measurement",
        bodies.len()
    );

    // 1. In process, 2 threads.
    let cpu_before = cpu_seconds();
    let count = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let threads: Vec<_> = (0..2)
        .map(|t| {
            let (endpoint, bodies, count, stop) = (
                endpoint.clone(),
                Arc::clone(&bodies),
                Arc::clone(&count),
                Arc::clone(&stop),
            );
            std::thread::spawn(move || {
                let mut i = t;
                while !stop.load(Ordering::Relaxed) {
                    let r = endpoint.respond_to(
                        &Method::POST,
                        "/api/eval/sdk-load",
                        &bodies[i % bodies.len()],
                    );
                    assert_eq!(r.status(), 200);
                    count.fetch_add(1, Ordering::Relaxed);
                    i += 2;
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_secs(seconds));
    stop.store(true, Ordering::Relaxed);
    for t in threads {
        t.join().map_err(|_| "a load thread panicked")?;
    }
    let n = count.load(Ordering::Relaxed);
    println!(
        "in process, 2 threads: {:.0} requests/s ({:.1} µs per request per core)",
        n as f64 / seconds as f64,
        2.0 * seconds as f64 * 1e6 / n as f64
    );
    if let (Some(a), Some(b)) = (cpu_before, cpu_seconds()) {
        // CPU time, not wall time: what a request costs when the machine is shared.
        println!(
            "  CPU time: {:.1} µs per request, i.e. {:.0} requests/s per fully available core",
            (b - a) * 1e6 / n as f64,
            n as f64 / (b - a)
        );
    }

    // 2. Over HTTP on 127.0.0.1.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let n = rt.block_on(http_load(endpoint, bodies, seconds))?;
    println!(
        "HTTP/1.1 on 127.0.0.1, server and 16 client connections on 2 workers: {:.0} requests/s",
        n as f64 / seconds as f64
    );
    Ok(())
}

/// This process's user + system CPU time so far (Linux `/proc/self/stat`, 100 ticks/s).
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / 100.0)
}

async fn http_load(
    endpoint: RemoteEvalEndpoint,
    bodies: Arc<Vec<Bytes>>,
    seconds: u64,
) -> Result<u64, Box<dyn core::error::Error>> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let endpoint = endpoint.clone();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |req| {
                    let endpoint = endpoint.clone();
                    async move { Ok::<_, core::convert::Infallible>(endpoint.respond(req).await) }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    let count = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let mut tasks = Vec::new();
    for c in 0..16 {
        let (bodies, count) = (Arc::clone(&bodies), Arc::clone(&count));
        tasks.push(tokio::spawn(async move {
            let stream = tokio::net::TcpStream::connect(addr).await?;
            let (mut send, conn) =
                hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
            tokio::spawn(conn);
            let mut i = c;
            while Instant::now() < deadline {
                let req = Request::post("/api/eval/sdk-load")
                    .header("content-type", "application/json")
                    .body(Full::new(bodies[i % bodies.len()].clone()))?;
                let resp = send.send_request(req).await?;
                assert_eq!(resp.status(), 200);
                resp.into_body().collect().await?;
                count.fetch_add(1, Ordering::Relaxed);
                i += 16;
            }
            Ok::<_, Box<dyn core::error::Error + Send + Sync>>(())
        }));
    }
    for t in tasks {
        t.await?.map_err(|e| e.to_string())?;
    }
    Ok(count.load(Ordering::Relaxed))
}
