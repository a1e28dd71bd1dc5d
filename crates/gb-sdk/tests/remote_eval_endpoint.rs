//! The remote-evaluation endpoint as a `tower::Service`: the JavaScript SDK's wire format,
//! clear 4xx answers, a bounded body, and no panic on any body.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test")]

extern crate alloc;

use alloc::sync::Arc;
use core::sync::atomic::{AtomicUsize, Ordering};

use bytes::Bytes;
use gb_sdk::serde_json::{Value, json};
use gb_sdk::{GrowthBook, RemoteEvalEndpoint, RemoteEvalService};
use http::{Method, Request, Response};
use http_body_util::{BodyExt as _, Full};
use tower_service::Service as _;

fn payload() -> Value {
    json!({
        "dateUpdated": "2026-01-02T03:04:05.000Z",
        "features": {
            "banner": {"defaultValue": "off", "rules": [
                {"id": "r1", "condition": {"country": "NZ"}, "force": "kiwi"}]},
            "hero": {"defaultValue": "classic", "rules": [
                {"id": "r2", "key": "hero-test", "variations": ["classic", "video"],
                 "hashAttribute": "id", "hashVersion": 2, "seed": "hero"}]},
            "limit": {"defaultValue": 0},
            "gated": {"defaultValue": true, "rules": [
                {"parentConditions": [{"id": "limit", "condition": {"value": 5}, "gate": true}]}]}
        }
    })
}

async fn call(
    svc: &mut RemoteEvalService,
    method: Method,
    path: &str,
    body: Vec<u8>,
) -> (u16, Value) {
    let req = Request::builder()
        .method(method)
        .uri(path)
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body)))
        .unwrap();
    let resp: Response<Full<Bytes>> = svc.call(req).await.unwrap();
    let status = resp.status().as_u16();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    let json = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes).expect("every answer is JSON")
    };
    (status, json)
}

fn service(client: &GrowthBook) -> RemoteEvalService {
    RemoteEvalEndpoint::new(client.clone()).into()
}

#[tokio::test]
async fn evaluates_like_the_client_and_hands_exposures_to_the_caller() {
    let viewed = Arc::new(AtomicUsize::new(0));
    let seen = Arc::clone(&viewed);
    let client = GrowthBook::builder()
        .payload(payload())
        .on_experiment_viewed(move |_, _, _| {
            seen.fetch_add(1, Ordering::Relaxed);
        })
        .build()
        .unwrap();
    let mut svc = service(&client);
    for (id, country) in [("1", "NZ"), ("2", "US"), ("user-3", "FR"), ("4", "NZ")] {
        let body = json!({"attributes": {"id": id, "country": country}, "url": "", "forcedVariations": {}, "forcedFeatures": []});
        let (status, out) = call(
            &mut svc,
            Method::POST,
            "/api/eval/sdk-x",
            body.to_string().into_bytes(),
        )
        .await;
        assert_eq!(status, 200, "{out}");
        assert_eq!(out["dateUpdated"], "2026-01-02T03:04:05.000Z");
        let user = client.user(
            json!({"id": id, "country": country})
                .as_object()
                .unwrap()
                .clone(),
        );
        for key in ["banner", "hero", "limit", "gated"] {
            let expected = user.eval_feature(key);
            assert_eq!(
                out["features"][key]["defaultValue"],
                *expected.value(),
                "{key} for {id}"
            );
        }
        // The experiment's exposure travels in `tracks`, for the calling SDK to fire.
        let track = &out["features"]["hero"]["rules"][0]["tracks"][0];
        assert_eq!(track["experiment"]["key"], "hero-test");
        assert_eq!(track["result"]["hashUsed"], true);
        assert_eq!(
            out["features"]["hero"]["rules"][0]["force"],
            out["features"]["hero"]["defaultValue"]
        );
        // Off and falsy values are kept (`0`, not a missing feature that reads as null).
        assert_eq!(out["features"]["limit"], json!({"defaultValue": 0}));
    }
    // The four direct evaluations above tracked; the endpoint's evaluations did not.
    assert_eq!(viewed.load(Ordering::Relaxed), 4);
}

#[tokio::test]
async fn forced_values_and_url_apply() {
    let client = GrowthBook::builder().payload(payload()).build().unwrap();
    let mut svc = service(&client);
    let body = json!({
        "attributes": {"id": "1"},
        "forcedVariations": {"hero-test": 1},
        "forcedFeatures": [["limit", 5]],
        "url": "https://example.com/?x=1"
    });
    let (status, out) = call(
        &mut svc,
        Method::POST,
        "/api/eval/k",
        body.to_string().into_bytes(),
    )
    .await;
    assert_eq!(status, 200, "{out}");
    assert_eq!(out["features"]["hero"]["defaultValue"], "video");
    // A forced variation is not tracked (no hash used), as in local evaluation.
    assert!(out["features"]["hero"].get("rules").is_none(), "{out}");
    assert_eq!(out["features"]["limit"]["defaultValue"], 5);
    assert_eq!(out["features"]["gated"]["defaultValue"], true);
}

#[tokio::test]
async fn clear_answers_for_bad_requests() {
    let client = GrowthBook::builder().payload(payload()).build().unwrap();
    let mut svc: RemoteEvalService = RemoteEvalEndpoint::new(client.clone())
        .client_keys(["sdk-a"])
        .into();
    let ok = b"{}".to_vec();
    assert_eq!(
        call(&mut svc, Method::POST, "/api/eval/sdk-a", ok.clone())
            .await
            .0,
        200
    );
    let (s, e) = call(&mut svc, Method::POST, "/api/eval/sdk-b", ok.clone()).await;
    assert_eq!((s, e["status"].as_u64()), (404, Some(404)));
    assert_eq!(
        call(&mut svc, Method::POST, "/api/features/sdk-a", ok.clone())
            .await
            .0,
        404
    );
    assert_eq!(
        call(&mut svc, Method::POST, "/api/eval/", ok.clone())
            .await
            .0,
        404
    );
    assert_eq!(
        call(&mut svc, Method::GET, "/api/eval/sdk-a", Vec::new())
            .await
            .0,
        405
    );
    assert_eq!(
        call(&mut svc, Method::OPTIONS, "/api/eval/sdk-a", Vec::new())
            .await
            .0,
        204
    );
    let (s, e) = call(
        &mut svc,
        Method::POST,
        "/api/eval/sdk-a",
        b"{\"attributes\": []}".to_vec(),
    )
    .await;
    assert_eq!(s, 400);
    assert_eq!(e["error"], "`attributes` must be an object");
    assert_eq!(
        call(&mut svc, Method::POST, "/api/eval/sdk-a", b"nope".to_vec())
            .await
            .0,
        400
    );

    // No features yet: 503, not an empty evaluation.
    let empty = GrowthBook::builder().build().unwrap();
    assert_eq!(
        call(&mut service(&empty), Method::POST, "/api/eval/k", ok)
            .await
            .0,
        503
    );
}

#[tokio::test]
async fn the_body_is_bounded() {
    let client = GrowthBook::builder().payload(payload()).build().unwrap();
    let big = json!({"attributes": {"id": "1", "pad": "x".repeat(100_000)}})
        .to_string()
        .into_bytes();
    // The default limit (64 KiB) refuses it, before evaluating anything...
    let (status, err) = call(
        &mut service(&client),
        Method::POST,
        "/api/eval/k",
        big.clone(),
    )
    .await;
    assert_eq!(status, 413, "{err}");
    // ...without a Content-Length too (the body is cut off while read).
    let endpoint = RemoteEvalEndpoint::new(client.clone());
    let streamed = Request::builder()
        .method(Method::POST)
        .uri("/api/eval/k")
        .body(futures_chunks(big.clone()))
        .unwrap();
    assert_eq!(endpoint.respond(streamed).await.status().as_u16(), 413);
    // A larger limit accepts the same body.
    let mut roomy: RemoteEvalService = RemoteEvalEndpoint::new(client).max_body(1 << 20).into();
    assert_eq!(
        call(&mut roomy, Method::POST, "/api/eval/k", big).await.0,
        200
    );
}

/// A body of 1 KiB frames with no size hint (a chunked upload).
fn futures_chunks(bytes: Vec<u8>) -> Chunks {
    Chunks(bytes.chunks(1024).map(Bytes::copy_from_slice).collect())
}

struct Chunks(alloc::collections::VecDeque<Bytes>);

impl hyper::body::Body for Chunks {
    type Data = Bytes;
    type Error = std::io::Error;
    fn poll_frame(
        mut self: core::pin::Pin<&mut Self>,
        _: &mut core::task::Context<'_>,
    ) -> core::task::Poll<Option<Result<hyper::body::Frame<Bytes>, std::io::Error>>> {
        core::task::Poll::Ready(self.0.pop_front().map(|b| Ok(hyper::body::Frame::data(b))))
    }
}

#[tokio::test]
async fn no_body_makes_it_panic() {
    let client = GrowthBook::builder().payload(payload()).build().unwrap();
    let mut svc = service(&client);
    let mut hostile: Vec<Vec<u8>> = [
        &b""[..],
        b"null",
        b"0",
        b"\"x\"",
        b"[]",
        b"{",
        b"}",
        b"\xff\xfe\xfd",
        b"{\"attributes\":",
        b"{\"attributes\":null,\"forcedFeatures\":{\"a\":1}}",
        b"{\"forcedFeatures\":[[]]}",
        b"{\"forcedFeatures\":[[\"a\",1,2]]}",
        b"{\"forcedFeatures\":[null]}",
        b"{\"forcedVariations\":{\"hero-test\":-1}}",
        b"{\"forcedVariations\":{\"hero-test\":1e300}}",
        b"{\"forcedVariations\":{\"hero-test\":\"1\"}}",
        b"{\"url\":\"http://[::1\"}",
        b"{\"url\":\"?hero-test=999999999999999999999\"}",
        b"{\"attributes\":{\"id\":{\"$gt\":1},\"country\":[[[[[]]]]]}}",
        b"{\"attributes\":{\"id\":1e400}}",
        b"{\"a\":1,\"a\":2}",
        b"{\"attributes\":{\"\\ud800\":\"\\udfff\"}}",
    ]
    .iter()
    .map(|b| b.to_vec())
    .collect();
    hostile.push("[".repeat(60_000).into_bytes());
    hostile.push(format!("{}{}", "{\"attributes\":".repeat(5_000), "1").into_bytes());
    // Seeded random bytes and random mutations of a valid body (bounded count).
    let valid = br#"{"attributes":{"id":"1","country":"NZ"},"forcedVariations":{"hero-test":1},"forcedFeatures":[["limit",5]],"url":"https://x/?hero-test=1"}"#;
    let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for i in 0..1500 {
        let mut body = if i % 2 == 0 {
            valid.to_vec()
        } else {
            Vec::new()
        };
        let edits = next() % 8 + 1;
        for _ in 0..edits {
            let pos = if body.is_empty() {
                0
            } else {
                (next() as usize) % body.len()
            };
            match next() % 3 {
                0 if !body.is_empty() => drop(body.remove(pos)),
                1 if !body.is_empty() => body[pos] = next() as u8,
                _ => body.insert(pos, b"{}[]\",:0e-\\u"[(next() % 12) as usize]),
            }
        }
        hostile.push(body);
    }
    let mut ok = 0;
    for body in hostile {
        let (status, out) = call(&mut svc, Method::POST, "/api/eval/k", body).await;
        assert!(
            status == 200 || status == 400 || status == 413,
            "{status} {out}"
        );
        if status == 200 {
            ok += 1;
            assert!(out["features"].is_object());
        } else {
            assert!(out["error"].is_string());
        }
    }
    assert!(ok > 0);
}
