//! The default transport against a fault-injecting loopback server: every failure is a typed
//! error within the configured timeout and never a payload.
#![allow(clippy::unwrap_used)]

extern crate alloc;

mod common;

use alloc::sync::Arc;
use core::time::Duration;
use std::io::Write as _;

use common::{Hit, bounded, json_response, payload, reply, serve, status};
use gb_transport::{
    DecryptionKey, ErrorKind, FeatureSource, HttpConfig, HyperTransport, RemoteEvalRequest,
    Transport as _, TransportError,
};
use hyper::Response;
use serde_json::{Value, json};
use tokio::time::Instant;

const TIMEOUT: Duration = Duration::from_millis(400);
const CAP: usize = 256 * 1024;

fn config(url: &str) -> HttpConfig {
    let mut config = HttpConfig::new("sdk-test-1234").api_host(url);
    config.request_timeout = TIMEOUT;
    config.connect_timeout = Duration::from_millis(300);
    config.max_body_bytes = CAP;
    config.headers.push(("x-custom".into(), "yes".into()));
    config
}

fn source(url: &str) -> FeatureSource {
    FeatureSource::new(Arc::new(HyperTransport::new(config(url)).unwrap()))
}

/// Fetches through a server playing `response`, checks the time bound, returns the error.
async fn fetch_error(
    response: impl Fn(Hit) -> Response<common::Body> + Send + Sync + 'static,
) -> TransportError {
    let server = serve(move |hit| reply(response(hit))).await;
    let started = Instant::now();
    let result = source(&server.url()).fetch().await;
    let elapsed = started.elapsed();
    assert!(
        elapsed < TIMEOUT + Duration::from_millis(300),
        "took {elapsed:?}"
    );
    match result {
        Ok(fetched) => panic!("a fault yielded a payload: {fetched:?}"),
        Err(err) => err,
    }
}

#[tokio::test]
async fn status_codes_are_typed_errors() {
    bounded(20, async {
        for code in [500u16, 502, 503, 429, 401, 403, 404, 400] {
            let err = fetch_error(move |_| {
                let mut r = status(code, format!(r#"{{"status":{code},"error":"x"}}"#));
                if code == 429 {
                    r.headers_mut().insert("retry-after", "7".parse().unwrap());
                }
                r
            })
            .await;
            assert_eq!(err.kind(), ErrorKind::Status, "{code}");
            assert_eq!(err.status(), Some(code));
            assert_eq!(err.is_auth(), code == 401 || code == 403);
            if code == 429 {
                assert_eq!(err.retry_after(), Some(Duration::from_secs(7)));
            }
        }
    })
    .await;
}

#[tokio::test]
async fn bad_bodies_are_typed_errors() {
    bounded(20, async {
        let cases: Vec<(&str, &'static str, ErrorKind)> = vec![
            (
                "html",
                "<html><body>502 Bad Gateway</body></html>",
                ErrorKind::NotJson,
            ),
            ("empty object", "{}", ErrorKind::InvalidPayload),
            (
                "error object",
                r#"{"status":500}"#,
                ErrorKind::InvalidPayload,
            ),
            (
                "features not an object",
                r#"{"features":[]}"#,
                ErrorKind::InvalidPayload,
            ),
            ("array", "[]", ErrorKind::InvalidPayload),
            (
                "truncated",
                r#"{"features":{"a":{"defaultValue":tr"#,
                ErrorKind::NotJson,
            ),
            ("empty", "", ErrorKind::NotJson),
        ];
        for (name, body, kind) in cases {
            let err = fetch_error(move |_| status(200, body)).await;
            assert_eq!(err.kind(), kind, "{name}: {err}");
        }
    })
    .await;
}

#[tokio::test]
async fn bodies_over_the_cap_are_refused() {
    bounded(20, async {
        // Declared length over the cap.
        let err = fetch_error(|_| status(200, vec![b' '; CAP + 1])).await;
        assert_eq!(err.kind(), ErrorKind::TooLarge);
        // Chunked, no length: refused while reading.
        let err = fetch_error(|_| common::sse(vec![common::Step::Flood(4 * CAP)])).await;
        assert_eq!(err.kind(), ErrorKind::TooLarge);
        // A small gzip body that expands past the cap.
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        gz.write_all(&vec![b' '; 4 * CAP]).unwrap();
        let bomb = gz.finish().unwrap();
        assert!(bomb.len() < CAP);
        let err = fetch_error(move |_| {
            let mut r = status(200, bomb.clone());
            r.headers_mut()
                .insert("content-encoding", "gzip".parse().unwrap());
            r
        })
        .await;
        assert_eq!(err.kind(), ErrorKind::TooLarge);
    })
    .await;
}

#[tokio::test]
async fn a_server_that_never_answers_times_out() {
    bounded(10, async {
        let addr = common::silent_server().await;
        let started = Instant::now();
        let err = source(&format!("http://{addr}")).fetch().await.unwrap_err();
        let elapsed = started.elapsed();
        assert!(err.is_timeout(), "{err}");
        assert!(
            elapsed >= TIMEOUT && elapsed < TIMEOUT + Duration::from_millis(300),
            "{elapsed:?}"
        );

        // Headers, then a body that stalls.
        let server = serve(|_| {
            reply(common::sse(vec![
                common::Step::Send("{\"features\":".into()),
                common::Step::Sleep(Duration::from_secs(5)),
            ]))
        })
        .await;
        let started = Instant::now();
        let err = source(&server.url()).fetch().await.unwrap_err();
        assert!(err.is_timeout(), "{err}");
        assert!(started.elapsed() < TIMEOUT + Duration::from_millis(300));
    })
    .await;
}

#[tokio::test]
async fn connection_refused_is_a_connect_error() {
    bounded(10, async {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        drop(listener);
        let err = source(&format!("http://{addr}")).fetch().await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Connect, "{err}");
    })
    .await;
}

#[tokio::test]
async fn etag_304_reuses_the_body_and_headers_are_sent() {
    bounded(10, async {
        let server = serve(|hit| {
            if hit.header("if-none-match").as_deref() == Some("\"v1\"") {
                return reply(status(304, ""));
            }
            let mut r = json_response(&payload(1));
            r.headers_mut().insert("etag", "\"v1\"".parse().unwrap());
            reply(r)
        })
        .await;
        let source = source(&server.url());
        let first = source.fetch().await.unwrap();
        assert!(!first.not_modified);
        assert!(first.sse_supported);
        assert_eq!(first.etag.as_deref(), Some("\"v1\""));
        let second = source.fetch().await.unwrap();
        assert!(second.not_modified, "the second fetch must be a 304");
        assert_eq!(second.payload, first.payload);
        assert!(
            second.sse_supported,
            "the SSE flag is kept from the cached response"
        );

        let hits = server.hits_to("/api/features/");
        assert_eq!(hits.len(), 2);
        assert_eq!(hits[0].path, "/api/features/sdk-test-1234");
        assert_eq!(hits[0].header("if-none-match"), None);
        assert_eq!(hits[1].header("if-none-match").as_deref(), Some("\"v1\""));
        for hit in &hits {
            assert!(
                hit.header("user-agent")
                    .unwrap()
                    .starts_with("growthbook-rs/")
            );
            assert_eq!(hit.header("x-custom").as_deref(), Some("yes"));
            assert_eq!(hit.header("accept-encoding").as_deref(), Some("gzip"));
        }
    })
    .await;
}

#[tokio::test]
async fn a_304_without_a_cached_body_is_an_error() {
    bounded(10, async {
        let err = fetch_error(|_| status(304, "")).await;
        assert_eq!(err.status(), Some(304));
    })
    .await;
}

#[tokio::test]
async fn gzip_bodies_are_decoded() {
    bounded(10, async {
        let server = serve(|hit| {
            assert_eq!(hit.header("accept-encoding").as_deref(), Some("gzip"));
            let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            gz.write_all(&serde_json::to_vec(&payload(3)).unwrap())
                .unwrap();
            let mut r = status(200, gz.finish().unwrap());
            r.headers_mut()
                .insert("content-encoding", "gzip".parse().unwrap());
            reply(r)
        })
        .await;
        let fetched = source(&server.url()).fetch().await.unwrap();
        assert_eq!(common::version_of(fetched.payload.value()), Some(3));
        assert!(!fetched.sse_supported);
    })
    .await;
}

#[tokio::test]
async fn encrypted_payloads_decrypt_and_a_wrong_key_yields_no_payload() {
    bounded(10, async {
        let key = "Zvwv/+uhpFDznZ6SX28Yjg==";
        let body = json!({
            "features": {},
            "encryptedFeatures": common::encrypt(&payload(5)["features"].to_string(), key, [3; 16]),
        });
        let server = serve(move |_| reply(json_response(&body))).await;
        let good = source(&server.url()).with_decryption_key(DecryptionKey::new(key));
        let fetched = good.fetch().await.unwrap();
        assert_eq!(common::version_of(fetched.payload.value()), Some(5));

        let wrong = source(&server.url())
            .with_decryption_key(DecryptionKey::new("Zvwv/+uhpFDznZ6SX39Yjg=="));
        let err = wrong.fetch().await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Decrypt);
        assert!(!format!("{err} {err:?} {wrong:?}").contains("Zvwv"));

        let none = source(&server.url()).fetch().await.unwrap_err();
        assert_eq!(
            none.kind(),
            ErrorKind::Decrypt,
            "encrypted payload without a key"
        );
    })
    .await;
}

#[tokio::test]
async fn remote_eval_posts_the_context() {
    bounded(10, async {
        let server = serve(|hit| {
            assert_eq!(hit.method, "POST");
            assert_eq!(
                hit.header("content-type").as_deref(),
                Some("application/json")
            );
            let body: Value = serde_json::from_slice(&hit.body).unwrap();
            assert_eq!(body["attributes"]["id"], "u1");
            assert_eq!(body["forcedVariations"]["exp"], 1);
            assert_eq!(body["forcedFeatures"], json!([["f", true]]));
            assert_eq!(body["url"], "https://example.com/");
            reply(json_response(&payload(9)))
        })
        .await;
        let mut request = RemoteEvalRequest::default();
        request.attributes.insert("id".into(), json!("u1"));
        request.forced_variations.insert("exp".into(), json!(1));
        request.forced_features.push(("f".into(), json!(true)));
        request.url = "https://example.com/".into();
        let evaluated = source(&server.url()).remote_eval(request).await.unwrap();
        assert_eq!(common::version_of(evaluated.value()), Some(9));
        assert_eq!(
            server.hits_to("/api/eval/")[0].path,
            "/api/eval/sdk-test-1234"
        );

        // The raw trait call works too, and errors are typed.
        let server = serve(|_| reply(status(500, "oops"))).await;
        let transport = HyperTransport::new(config(&server.url())).unwrap();
        let err = transport
            .remote_eval(RemoteEvalRequest::default())
            .await
            .unwrap_err();
        assert_eq!(err.status(), Some(500));
    })
    .await;
}
