//! The stream manager against a faulty SSE server: clean-close storms, garbage, huge lines,
//! hot close loops, auth errors, idle streams, missed updates and cancellation.
#![allow(clippy::unwrap_used)]

extern crate alloc;

mod common;

use alloc::sync::Arc;
use core::sync::atomic::{AtomicU64, Ordering};
use core::time::Duration;

use common::{
    Body, Hit, Reply, Server, Step, bounded, features_event, json_response, payload, reply, serve,
};
use gb_transport::{
    BackoffConfig, ErrorKind, FeatureSource, HttpConfig, HyperTransport, SseMode, StreamConfig,
    StreamHandle,
};
use hyper::Response;
use tokio::sync::{mpsc, watch};
use tokio::time::{Instant, sleep};

const MS: fn(u64) -> Duration = Duration::from_millis;

fn fast_backoff() -> BackoffConfig {
    BackoffConfig {
        initial: MS(40),
        max: MS(160),
        multiplier: 2.0,
        jitter: 0.5,
        floor: MS(20),
        healthy_reset: Duration::from_secs(30),
        auth_delay: MS(300),
        max_retry_after: MS(500),
    }
}

fn stream_config() -> StreamConfig {
    StreamConfig {
        backoff: fast_backoff(),
        idle_timeout: Duration::from_secs(5),
        sse: SseMode::Auto,
        poll_interval: MS(50),
        max_event_bytes: 1024 * 1024,
        ..StreamConfig::default()
    }
}

fn start(server: &Server, config: StreamConfig) -> StreamHandle {
    let mut http = HttpConfig::new("sdk-stream-1").api_host(server.url());
    http.request_timeout = MS(800);
    let source = FeatureSource::new(Arc::new(HyperTransport::new(http).unwrap()));
    source.stream(config).unwrap()
}

/// Starts a stream with the test settings, waits for `version`, returns the connects so far.
async fn start_until(server: &Server, version: u64) -> (StreamHandle, Vec<Hit>) {
    let handle = start(server, stream_config());
    wait_for_version(&mut handle.updates(), version).await;
    (handle, server.hits_to("/sub/"))
}

/// Waits until the published payload has `version`.
async fn wait_for_version(rx: &mut watch::Receiver<Option<gb_transport::Update>>, version: u64) {
    loop {
        if rx
            .borrow_and_update()
            .as_ref()
            .and_then(|p| common::version_of(p.value()))
            == Some(version)
        {
            return;
        }
        rx.changed().await.unwrap();
    }
}

/// Every published version, in order.
type Versions = Arc<std::sync::Mutex<Vec<u64>>>;

/// Records every published version (`u64::MAX` marks a withdrawn or foreign payload).
fn watch_versions(handle: &StreamHandle) -> Versions {
    let seen: Arc<std::sync::Mutex<Vec<u64>>> = Arc::default();
    let mut rx = handle.updates();
    let log = Arc::clone(&seen);
    tokio::spawn(async move {
        while rx.changed().await.is_ok() {
            let version = rx
                .borrow_and_update()
                .as_ref()
                .and_then(|p| common::version_of(p.value()));
            log.lock().unwrap().push(version.unwrap_or(u64::MAX));
        }
    });
    seen
}

/// Published versions only move forward, are all good payloads, and end at `last`.
async fn assert_versions(seen: &std::sync::Mutex<Vec<u64>>, last: u64) {
    // Let the recording task catch up with the last change.
    sleep(MS(50)).await;
    let seen = seen.lock().unwrap().clone();
    assert!(
        seen.windows(2).all(|w| w[0] < w[1]),
        "versions only move forward: {seen:?}"
    );
    assert_eq!(seen.last(), Some(&last), "{seen:?}");
}

/// Gaps between consecutive stream connects must respect the floor and the backoff schedule
/// (attempt k waits at least `(1 - jitter) · min(initial · 2^k, max)`, and at least `floor`).
fn assert_schedule(hits: &[Hit], config: &BackoffConfig, first_attempt: u32) {
    for (k, pair) in hits.windows(2).enumerate() {
        let gap = pair[1].at - pair[0].at;
        let attempt = first_attempt + k as u32;
        let nominal = config.initial.as_secs_f64() * 2f64.powi(attempt as i32);
        let min = (nominal.min(config.max.as_secs_f64()) * (1.0 - config.jitter))
            .max(config.floor.as_secs_f64());
        assert!(
            gap.as_secs_f64() >= min - 0.003,
            "connect {} came {gap:?} after the previous one; the schedule allows no less than {min}s",
            k + 2
        );
    }
}

/// A server whose `/api/features/` answers `payload(version)` with `x-sse-support: enabled`
/// and whose `/sub/` requests are answered by `stream(hit, version)`.
async fn sse_server(
    initial: u64,
    stream: impl Fn(&Hit, &Arc<AtomicU64>) -> Reply + Send + Sync + 'static,
) -> Server {
    let version = Arc::new(AtomicU64::new(initial));
    serve(move |hit| {
        if hit.path.starts_with("/api/features/") {
            return reply(json_response(&payload(version.load(Ordering::SeqCst))));
        }
        stream(&hit, &version)
    })
    .await
}

/// Keep the stream open with a ping every 50 ms.
fn hold() -> Step {
    Step::HoldOpen {
        interval: MS(50),
        closed: None,
    }
}

/// A stream that sends `payload(version)` as a `features` event, then stays open.
fn event_then_hold(version: u64) -> Response<Body> {
    common::sse(vec![Step::Send(features_event(version, version)), hold()])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_clean_closes_keep_the_last_good_payload_and_apply_the_next() {
    bounded(20, async {
        let server = sse_server(0, move |hit, v| {
            let n = hit.nth as u64;
            if n <= 20 {
                v.store(n, Ordering::SeqCst);
                reply(common::sse(vec![Step::Send(features_event(n, n))]))
            } else {
                reply(common::sse(vec![Step::HoldOpen {
                    interval: MS(100),
                    closed: None,
                }]))
            }
        })
        .await;
        let handle = start(&server, stream_config());
        let seen = watch_versions(&handle);
        let mut rx = handle.updates();
        wait_for_version(&mut rx, 20).await;
        sleep(MS(50)).await;

        let status = handle.status().borrow().clone();
        assert_eq!(
            status.errors, 0,
            "clean closes are not errors: {:?}",
            status.last_error
        );
        assert!(status.clean_closes >= 20);
        assert_versions(&seen, 20).await;
        let connects = server.hits_to("/sub/");
        assert!(connects.len() >= 20);
        assert_schedule(&connects, &fast_backoff(), 0);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn immediate_close_loop_never_exceeds_the_backoff_schedule() {
    bounded(20, async {
        let server = sse_server(1, |_, _| reply(common::sse(Vec::new()))).await;
        let config = StreamConfig {
            backoff: BackoffConfig {
                max: MS(300),
                ..fast_backoff()
            },
            ..stream_config()
        };
        let handle = start(&server, config.clone());
        let window = MS(1500);
        sleep(window).await;
        drop(handle);

        let connects = server.hits_to("/sub/");
        // Shortest legal schedule (jitter 0.5, floor 20 ms): 20, 40, 80, 150, 150, ... ms, so at
        // most 1 + 3 + (1500 - 140) / 150 = 13 connects in 1.5 s. A hot loop would make thousands.
        assert!(
            connects.len() >= 4,
            "it keeps reconnecting: {}",
            connects.len()
        );
        assert!(
            connects.len() <= 13,
            "{} connects in {window:?}",
            connects.len()
        );
        assert_schedule(&connects, &config.backoff, 0);
        // Each connect after the first is followed by a catch-up fetch, nothing more.
        assert!(server.hits_to("/api/features/").len() <= connects.len());
    })
    .await;
}

/// A server whose first stream plays `first` and whose later streams send v2 and stay open.
async fn bad_then_good(first: Vec<Step>, config: StreamConfig) -> (Server, StreamHandle, Versions) {
    let server = sse_server(0, move |hit, v| {
        // The API agrees with what the streams announce.
        if hit.nth == 1 {
            v.store(1, Ordering::SeqCst);
            reply(common::sse(first.clone()))
        } else {
            v.store(2, Ordering::SeqCst);
            reply(event_then_hold(2))
        }
    })
    .await;
    let handle = start(&server, config);
    let seen = watch_versions(&handle);
    (server, handle, seen)
}

/// After [`bad_then_good`]: v2 arrives over exactly 2 connects, the first stream ended with an
/// error of `kind`, and the published payload only ever moved forward.
async fn recovers_with_v2(
    server: &Server,
    handle: &StreamHandle,
    seen: &Versions,
    kind: ErrorKind,
) {
    wait_for_version(&mut handle.updates(), 2).await;
    assert_eq!(
        server.hits_to("/sub/").len(),
        2,
        "the bad stream is dropped once"
    );
    let status = handle.status().borrow().clone();
    assert_eq!(status.last_error.map(|e| e.kind()), Some(kind));
    assert_versions(seen, 2).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_events_are_ignored_and_a_bad_features_event_reconnects() {
    bounded(20, async {
        let first = vec![
            Step::Send("retry: abc\n: a comment\n\ndata: \n\n".into()),
            Step::Send("event: unknown\ndata: {not json at all\n\n".into()),
            Step::Send("\u{0}\u{1}garbage line without colon\n\nid: x\0y\n\n".into()),
            Step::Send("event: features\n\n".into()),
            Step::Send(features_event(1, 1)),
            Step::Sleep(MS(300)),
            Step::Send("event: features\ndata: {\"features\": tru\n\n".into()),
            hold(),
        ];
        let (server, handle, seen) = bad_then_good(first, stream_config()).await;
        wait_for_version(&mut handle.updates(), 1).await;
        sleep(MS(150)).await;
        let connects = server.hits_to("/sub/").len();
        assert_eq!(connects, 1, "unknown events and pings must not reconnect");
        recovers_with_v2(&server, &handle, &seen, ErrorKind::Protocol).await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ten_mib_line_is_refused_and_the_next_good_event_applies() {
    bounded(20, async {
        // Stream 1: v1, then a 10 MiB `data:` line with no newline (the cap here is 1 MiB).
        let first = vec![
            Step::Send(features_event(1, 1)),
            Step::Send("event: features\ndata: ".into()),
            Step::Flood(10 * 1024 * 1024),
            hold(),
        ];
        let (server, handle, seen) = bad_then_good(first, stream_config()).await;
        // The line is refused at the cap (TooLarge), v1 stays until v2 arrives on stream 2.
        // The parser's unit tests show it never buffers more than the cap.
        recovers_with_v2(&server, &handle, &seen, ErrorKind::TooLarge).await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_update_published_while_the_stream_was_down_is_picked_up() {
    bounded(20, async {
        let server = sse_server(1, move |hit, v| {
            let v = Arc::clone(v);
            let steps = if hit.nth == 1 {
                // Stream 1 delivers v1, then goes down; v2 is published while it is down, and
                // stream 2 never mentions it (the proxy's one-event history was lost).
                vec![
                    Step::Send("retry: 50\n\n".into()),
                    Step::Send(features_event(41, 1)),
                    Step::Do(Arc::new(move || v.store(2, Ordering::SeqCst))),
                ]
            } else {
                vec![hold()]
            };
            reply(common::sse(steps))
        })
        .await;
        let (_handle, connects) = start_until(&server, 2).await;
        assert_eq!(connects.len(), 2);
        assert_eq!(connects[0].header("last-event-id"), None);
        // The proxy's ids end with a space; HTTP trims header values.
        assert_eq!(
            connects[1]
                .header("last-event-id")
                .as_deref()
                .map(str::trim),
            Some("41")
        );
        assert_eq!(
            connects[1].header("accept").as_deref(),
            Some("text/event-stream")
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stale_refetch_never_rolls_back_a_fresher_event() {
    bounded(20, async {
        // The API (think CDN cache) stays at v0 while stream 1 announces v1 and then ends.
        let server = sse_server(0, move |hit, _| match hit.nth {
            1 => reply(common::sse(vec![Step::Send(features_event(1, 1))])),
            _ => reply(common::sse(vec![hold()])),
        })
        .await;
        let handle = start(&server, stream_config());
        let seen = watch_versions(&handle);
        let started = Instant::now();
        // Wait for the reconnect and its catch-up fetch (initial fetch + 1).
        while server.hits_to("/api/features/").len() < 2
            && started.elapsed() < Duration::from_secs(5)
        {
            sleep(MS(10)).await;
        }
        assert_eq!(server.hits_to("/api/features/").len(), 2);
        assert_versions(&seen, 1).await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broken_stream_endpoint_degrades_to_backed_off_polling() {
    bounded(20, async {
        let server = sse_server(1, |hit, v| {
            if hit.nth == 3 {
                v.store(2, Ordering::SeqCst);
            }
            reply(common::status(404, "no streaming here"))
        })
        .await;
        let (handle, connects) = start_until(&server, 2).await;
        assert!(connects.len() >= 3);
        assert_schedule(&connects, &fast_backoff(), 0);
        assert!(handle.status().borrow().errors >= 3);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auth_errors_back_off_long_but_never_stop() {
    bounded(20, async {
        let server = sse_server(1, move |hit, _| match hit.nth {
            1 => reply(common::status(401, "unauthorized")),
            2 => reply(common::status(403, "forbidden")),
            3 => reply(common::status(503, "unavailable")),
            _ => reply(event_then_hold(2)),
        })
        .await;
        let (handle, connects) = start_until(&server, 2).await;
        assert_eq!(connects.len(), 4);
        // 401 and 403 wait at least half the 300 ms auth delay; 503 is an ordinary error.
        assert!(connects[1].at - connects[0].at >= MS(148));
        assert!(connects[2].at - connects[1].at >= MS(148));
        assert!(connects[3].at - connects[2].at < MS(300));
        assert_eq!(handle.status().borrow().errors, 3);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_stream_is_dropped_and_reopened() {
    bounded(20, async {
        let first = vec![Step::Send(features_event(1, 1)), Step::Sleep(MS(10_000))];
        let config = StreamConfig {
            idle_timeout: MS(250),
            ..stream_config()
        };
        let (server, handle, seen) = bad_then_good(first, config).await;
        recovers_with_v2(&server, &handle, &seen, ErrorKind::Timeout).await;
        let connects = server.hits_to("/sub/");
        assert!(connects[1].at - connects[0].at >= MS(250));
        // Pings keep the second stream alive well past the idle timeout.
        sleep(MS(600)).await;
        assert_eq!(server.hits_to("/sub/").len(), 2);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retry_field_is_honoured_but_clamped() {
    bounded(20, async {
        let server = sse_server(0, move |hit, _| match hit.nth {
            1 => reply(common::sse(vec![Step::Send("retry: 999999999\n\n".into())])),
            2 => reply(common::sse(vec![Step::Send("retry: 0\n\n".into())])),
            _ => reply(common::sse(vec![hold()])),
        })
        .await;
        let handle = start(&server, stream_config());
        let started = Instant::now();
        while server.hits_to("/sub/").len() < 3 && started.elapsed() < Duration::from_secs(5) {
            sleep(MS(20)).await;
        }
        let connects = server.hits_to("/sub/");
        assert_eq!(
            connects.len(),
            3,
            "an absurd retry: must be clamped to the 160 ms max"
        );
        assert!(connects[1].at - connects[0].at <= MS(160 + 250));
        assert!(
            connects[2].at - connects[1].at >= MS(20),
            "retry: 0 is raised to the floor"
        );
        drop(handle);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_or_closing_the_handle_ends_the_connection_within_a_second() {
    bounded(20, async {
        let (closed_tx, mut closed_rx) = mpsc::unbounded_channel();
        let server = sse_server(1, move |_, _| {
            reply(common::sse(vec![Step::HoldOpen {
                interval: MS(50),
                closed: Some(closed_tx.clone()),
            }]))
        })
        .await;
        for close in [false, true] {
            let handle = start(&server, stream_config());
            let mut status = handle.status();
            while status.borrow_and_update().state != gb_transport::StreamState::Streaming {
                status.changed().await.unwrap();
            }
            let stopped = Instant::now();
            if close {
                handle.close().await;
            } else {
                drop(handle);
            }
            let closed_at = tokio::time::timeout(Duration::from_secs(1), closed_rx.recv())
                .await
                .expect("the server saw the connection close within a second")
                .unwrap();
            assert!(closed_at - stopped < Duration::from_secs(1));
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_sse_support_it_polls_and_faults_never_replace_the_payload() {
    bounded(20, async {
        let served = Arc::new(AtomicU64::new(0));
        let s = Arc::clone(&served);
        let server = serve(move |hit| {
            assert!(
                !hit.path.starts_with("/sub/"),
                "no x-sse-support: no stream"
            );
            let n = s.fetch_add(1, Ordering::SeqCst);
            let body = |v| serde_json::to_vec(&payload(v)).unwrap();
            let r = match n {
                0 => common::status(503, "cold start outage"),
                1 => common::status(200, body(1)),
                2 => common::status(500, r#"{"status":500}"#),
                3 => common::status(200, "{}"),
                4 => common::status(200, "<html>oops</html>"),
                5 => common::status(200, r#"{"features":{"v":"#),
                6 => common::status(401, "{}"),
                _ => common::status(200, body(2)),
            };
            reply(r)
        })
        .await;
        let config = StreamConfig {
            backoff: BackoffConfig {
                auth_delay: MS(40),
                ..fast_backoff()
            },
            ..stream_config()
        };
        let handle = start(&server, config);
        let seen = watch_versions(&handle);
        let mut rx = handle.updates();
        wait_for_version(&mut rx, 2).await;
        assert_versions(&seen, 2).await;
        let status = handle.status().borrow().clone();
        assert_eq!(status.errors, 6);
        assert_eq!(status.connects, 0);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sse_mode_always_streams_without_the_header() {
    bounded(20, async {
        let server = serve(|hit| {
            if hit.path.starts_with("/api/features/") {
                return reply(common::status(
                    200,
                    serde_json::to_vec(&payload(1)).unwrap(),
                ));
            }
            reply(common::sse(vec![
                Step::Send("event: features-updated\ndata: \n\n".into()),
                Step::HoldOpen {
                    interval: MS(50),
                    closed: None,
                },
            ]))
        })
        .await;
        let handle = start(
            &server,
            StreamConfig {
                sse: SseMode::Always,
                ..stream_config()
            },
        );
        let started = Instant::now();
        // Initial fetch, then a refetch for the `features-updated` beacon.
        while server.hits_to("/api/features/").len() < 2
            && started.elapsed() < Duration::from_secs(5)
        {
            sleep(MS(20)).await;
        }
        assert_eq!(server.hits_to("/sub/").len(), 1);
        assert_eq!(server.hits_to("/api/features/").len(), 2);
        assert_eq!(handle.status().borrow().beacons, 1);
        drop(handle);
    })
    .await;
}

/// Every published version, in order, after `settle` once `last` showed up.
async fn versions_until(seen: &Versions, last: u64) -> Vec<u64> {
    let started = Instant::now();
    while seen.lock().unwrap().last() != Some(&last) && started.elapsed() < Duration::from_secs(5) {
        sleep(MS(10)).await;
    }
    sleep(MS(100)).await;
    seen.lock().unwrap().clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_future_dated_event_never_holds_back_the_next_one() {
    bounded(20, async {
        let future = serde_json::json!({"features": {"v": {"defaultValue": 50}}, "dateUpdated": "2099-01-01T00:00:00.000Z"});
        let future_event = format!("event: features\ndata: {future}\n\n");
        let server = sse_server(1, move |hit, _| match hit.nth {
            1 => reply(common::sse(vec![
                Step::Send(future_event.clone()),
                Step::Send(features_event(2, 2)),
                Step::Send(features_event(3, 3)),
                hold(),
            ])),
            _ => reply(common::sse(vec![hold()])),
        })
        .await;
        let handle = start(&server, stream_config());
        wait_for_version(&mut handle.updates(), 3).await;
        sleep(MS(100)).await;
        let status = handle.status().borrow().clone();
        // 1 (fetch), 50 (future-dated), 2 and 3: all applied, none refused.
        assert_eq!((status.updates, status.refused_older), (4, 0), "{status:?}");
        assert_eq!(common::version_of(handle.latest().unwrap().value()), Some(3));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refetch_after_a_reconnect_is_refused_once_then_wins() {
    bounded(20, async {
        // The API stays at v1 (its truth, or a CDN that keeps it) while stream 1 announces v2.
        // The first reconnect's refetch is refused (no rollback), the second one is applied:
        // the server keeps the last word and the client is never stuck on v2.
        let server = sse_server(1, move |hit, _| match hit.nth {
            1 => reply(common::sse(vec![Step::Send(features_event(2, 2))])),
            2 => reply(common::sse(Vec::new())),
            _ => reply(common::sse(vec![hold()])),
        })
        .await;
        let handle = start(&server, stream_config());
        let seen = watch_versions(&handle);
        let started = Instant::now();
        while server.hits_to("/sub/").len() < 3 && started.elapsed() < Duration::from_secs(5) {
            sleep(MS(10)).await;
        }
        let versions = versions_until(&seen, 1).await;
        assert_eq!(versions.last(), Some(&1), "{versions:?}");
        let status = handle.status().borrow().clone();
        // 1 (fetch), 2 (event), 1 (the second reconnect's refetch); one refusal in between.
        assert_eq!((status.updates, status.refused_older), (3, 1), "{status:?}");
    })
    .await;
}
