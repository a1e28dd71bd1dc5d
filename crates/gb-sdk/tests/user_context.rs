//! `UserContext` end to end: blocking preparation with a sticky-bucket service, per-request
//! sticky documents (cookies), default attributes, no-runtime errors, and error chains.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test"
)]

extern crate alloc;

use alloc::sync::Arc;
use core::error::Error as _;
use core::time::Duration;
use std::time::Instant;

use gb_sdk::gb_core::ParseError;
use gb_sdk::serde_json::{Map, Value, json};
use gb_sdk::sticky::{CookieCodec, InMemoryStickyBucketService};
use gb_sdk::{Error, GrowthBook};

#[path = "../examples/cookies.rs"]
mod cookies;

fn attrs(v: Value) -> Map<String, Value> {
    v.as_object().cloned().unwrap_or_default()
}

/// Users whose variation changes when the weights go from 50/50 to 0/100: those in "old".
fn old_variation_user(client: &GrowthBook) -> String {
    (0..200)
        .map(|i| format!("user-{i}"))
        .find(|id| {
            client
                .user(attrs(json!({ "id": id })))
                .feature_value("checkout", String::new())
                == "old"
        })
        .expect("some user gets the old variation at 50/50")
}

#[test]
fn blocking_client_keeps_a_sticky_variation_across_a_weight_change() {
    let store = Arc::new(InMemoryStickyBucketService::new());
    let client = GrowthBook::builder()
        .payload(cookies::payload([0.5, 0.5]))
        .sticky_bucket_service(store.clone())
        .build_blocking()
        .unwrap();
    let id = old_variation_user(&client);
    let user = client
        .user(attrs(json!({ "id": id })))
        .prepare_blocking()
        .unwrap();
    assert_eq!(user.feature_value("checkout", String::new()), "old");
    // The background writer saves the document; wait for it (bounded).
    let deadline = Instant::now() + Duration::from_secs(5);
    while store.is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(
        store.len(),
        1,
        "the blocking client saved the user's document"
    );

    client.set_payload(&cookies::payload([0.0, 1.0])).unwrap();
    let plain = client.user(attrs(json!({ "id": id })));
    assert_eq!(plain.feature_value("checkout", String::new()), "new");
    let prepared = client
        .user(attrs(json!({ "id": id })))
        .prepare_blocking()
        .unwrap();
    assert_eq!(prepared.feature_value("checkout", String::new()), "old");
}

#[test]
fn cookie_round_trip_through_the_sdk() {
    let codec = CookieCodec::new();
    let client = GrowthBook::builder()
        .payload(cookies::payload([0.5, 0.5]))
        .build()
        .unwrap();
    let id = old_variation_user(&client);
    let (first, set_cookies) = cookies::handle_request(&client, &codec, &id, None);
    assert_eq!(first, "old");
    assert_eq!(set_cookies.len(), 1, "{set_cookies:?}");

    client.set_payload(&cookies::payload([0.0, 1.0])).unwrap();
    let (fresh, _) = cookies::handle_request(&client, &codec, &id, None);
    assert_eq!(fresh, "new", "without the cookie the user is hashed afresh");
    let cookie = cookies::cookie_header(&set_cookies);
    let (kept, again) = cookies::handle_request(&client, &codec, &id, Some(&cookie));
    assert_eq!(kept, "old", "the cookie keeps the variation");
    assert!(
        again.is_empty(),
        "nothing changed, nothing to set: {again:?}"
    );
    cookies::main().unwrap();
}

/// A context pins the snapshot current when it was made (so evaluations skip the shared load
/// while it stays current); it must still see every later update, through every accessor,
/// and keep seeing the newest one across several updates and after `set_attributes`.
#[test]
fn a_context_made_before_updates_evaluates_on_each_update() {
    let payload = |v: i64| json!({"features": {"f": {"defaultValue": v}}});
    let client = GrowthBook::builder().payload(payload(1)).build().unwrap();
    let mut user = client.user(attrs(json!({"id": "a"})));
    assert_eq!(user.feature_value("f", 0_i64), 1);
    let held = user.eval_feature("f");
    for v in 2..=4 {
        client.set_payload(&payload(v)).unwrap();
        assert_eq!(user.feature_value("f", 0_i64), v);
        assert_eq!(user.eval_feature("f").value(), &json!(v));
        assert_eq!(user.feature_detail("f", 0_i64).value, v);
        assert_eq!(
            user.eval_all().get("f").map(|r| r.value().clone()),
            Some(json!(v))
        );
    }
    // A result taken before the updates keeps the snapshot it was evaluated on.
    assert_eq!(held.value(), &json!(1));
    user.set_attributes(attrs(json!({"id": "b"})));
    assert_eq!(user.feature_value("f", 0_i64), 4);
    client.set_payload(&payload(5)).unwrap();
    assert_eq!(user.feature_value("f", 0_i64), 5);
}

#[test]
fn set_attributes_keeps_the_default_attributes() {
    let client = GrowthBook::builder()
        .payload(json!({"features": {}}))
        .attributes(attrs(json!({"country": "NL", "id": "default"})))
        .build()
        .unwrap();
    let mut user = client.user(attrs(json!({"id": "a"})));
    assert_eq!(user.attributes()["country"], "NL");
    user.set_attributes(attrs(json!({"id": "b"})));
    assert_eq!(user.attributes()["country"], "NL");
    assert_eq!(user.attributes()["id"], "b");
}

#[test]
fn prepare_outside_a_runtime_is_an_error_not_a_panic() {
    let client = GrowthBook::builder()
        .payload(cookies::payload([0.5, 0.5]))
        .build()
        .unwrap();
    let mut fut = core::pin::pin!(client.user(Map::new()).prepare());
    let mut cx = core::task::Context::from_waker(core::task::Waker::noop());
    match fut.as_mut().poll(&mut cx) {
        core::task::Poll::Ready(Err(Error::NoRuntime)) => {}
        other => panic!("expected NoRuntime, got {:?}", other.map(|r| r.map(|_| ()))),
    }
}

#[tokio::test]
async fn prepare_blocking_inside_a_runtime_is_an_error() {
    let client = GrowthBook::builder()
        .payload(cookies::payload([0.5, 0.5]))
        .build()
        .unwrap();
    assert!(matches!(
        client.user(Map::new()).prepare_blocking(),
        Err(Error::InsideRuntime)
    ));
    assert!(client.user(Map::new()).prepare().await.is_ok());
}

/// Prints `e` as `anyhow` does with `{:#}`: every level, joined by ": ".
fn chain(e: &(dyn core::error::Error + 'static)) -> Vec<String> {
    let mut out = vec![e.to_string()];
    let mut next = e.source();
    while let Some(s) = next {
        out.push(s.to_string());
        next = s.source();
    }
    out
}

#[test]
fn an_error_chain_repeats_no_text() {
    let dir = std::env::temp_dir().join(format!("gb-sdk-chain-{}", std::process::id()));
    let missing = dir.join("missing.json");
    let err = GrowthBook::builder()
        .payload_file(&missing)
        .build()
        .unwrap_err();
    let levels = chain(&err);
    assert_eq!(levels.len(), 2, "{levels:?}");
    let io = err.source().unwrap().downcast_ref::<std::io::Error>();
    assert_eq!(
        io.map(std::io::Error::kind),
        Some(std::io::ErrorKind::NotFound)
    );

    let bad = GrowthBook::builder()
        .payload_json("{not json")
        .build()
        .unwrap_err();
    let levels_bad = chain(&bad);
    assert!(bad.source().unwrap().is::<ParseError>());

    for levels in [levels, levels_bad] {
        for (i, outer) in levels.iter().enumerate() {
            for inner in &levels[i + 1..] {
                assert!(
                    !outer.contains(inner.as_str()),
                    "{outer:?} repeats {inner:?}"
                );
            }
        }
    }
}
