//! Faults that need no Redis: hostile cookie headers, oversized documents, and the fallback to
//! plain hashing when a store fails. Redis faults are in `tests/redis.rs`.

// Test code is std code; the workspace core/alloc path lints target the library.
#![allow(clippy::std_instead_of_core, clippy::std_instead_of_alloc)]

use std::time::{Duration, Instant};

use gb_sticky::conformance::doc;
use gb_sticky::{
    BoxFuture, CookieCodec, CookieStickyBucketService, IdentifierAttribute,
    InMemoryStickyBucketService, StickyAssignmentsDocument, StickyBucketService,
    StickyBucketServiceSync, StickyError, StickyErrorKind, load_docs, save_changed,
};

fn pair(n: &str, v: &str) -> IdentifierAttribute {
    (n.to_string(), v.to_string())
}

fn set_cookie_pair(codec: &CookieCodec, d: &StickyAssignmentsDocument) -> String {
    let sc = codec.encode_set_cookie(d).expect("encodes");
    sc.split(';').next().expect("has a pair").to_string()
}

#[test]
fn cookie_garbage_mismatch_and_oversize_are_skipped() {
    let codec = CookieCodec::new();
    let good = doc("id", "u1", &[("exp__0", "1")]);
    let other = doc("id", "u2", &[("exp__0", "2")]);
    // A cookie named for `deviceId||d1` holding `id||u2`'s document.
    let mismatched_value = codec.encode_value(&other).expect("encodes");
    let mismatched = format!("{}={mismatched_value}", codec.cookie_name("deviceId", "d1"));
    let ten_mib = "x".repeat(10 * 1024 * 1024);
    let header = [
        format!("{}=%7Bnot%20json", codec.cookie_name("anonymousId", "a1")),
        format!("{}=%FF%FE", codec.cookie_name("company", "c1")),
        format!("{}={ten_mib}", codec.cookie_name("org", "o1")),
        mismatched,
        "gbStickyBuckets__=".to_string(),
        "gbStickyBuckets__id%7C%7Cu1".to_string(),
        ";;;==;".to_string(),
        set_cookie_pair(&codec, &good),
        // A later cookie with the same name does not override the first.
        format!("{}={mismatched_value}", codec.cookie_name("id", "u1")),
    ]
    .join("; ");
    let started = Instant::now();
    let store = CookieStickyBucketService::from_cookie_header(codec, Some(&header));
    let got = store
        .get_all_assignments_sync(&[
            pair("id", "u1"),
            pair("anonymousId", "a1"),
            pair("company", "c1"),
            pair("org", "o1"),
            pair("deviceId", "d1"),
        ])
        .expect("lookup never fails");
    assert_eq!(got, vec![good]);
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn cookie_too_many_cookies_is_bounded() {
    let codec = CookieCodec::new();
    let header = (0..10_000)
        .map(|i| set_cookie_pair(&codec, &doc("id", &format!("u{i}"), &[("e__0", "1")])))
        .collect::<Vec<_>>()
        .join("; ");
    let docs = codec.decode_cookie_header(&header);
    assert_eq!(docs.len(), gb_sticky::cookie::MAX_STICKY_COOKIES);
}

#[test]
fn cookie_save_refuses_oversized_docs_but_keeps_the_rest() {
    let store = CookieStickyBucketService::from_cookie_header(CookieCodec::new(), None);
    let mut big = doc("id", "big", &[]);
    for i in 0..400 {
        big.assignments
            .insert(format!("experiment-number-{i}__0"), "variation".to_string());
    }
    let small = doc("id", "small", &[("e__0", "1")]);
    let err = store
        .save_assignments_sync(vec![big, small.clone()])
        .expect_err("oversized doc is refused");
    assert_eq!(err.kind(), StickyErrorKind::TooLarge);
    let headers = store.take_set_cookie_headers();
    assert_eq!(headers.len(), 1);
    assert!(headers.iter().all(|h| h.len() < 4096 + 200));
    let got = store
        .get_all_assignments_sync(&[pair("id", "big"), pair("id", "small")])
        .expect("lookup");
    assert_eq!(got, vec![small]);
}

#[test]
fn memory_ten_mib_doc_round_trips_quickly() {
    // In-process memory is the caller's own: a big doc is kept as is (no parsing involved).
    let store = InMemoryStickyBucketService::new();
    let mut d = doc("id", "big", &[]);
    for i in 0..200_000 {
        d.assignments
            .insert(format!("experiment-{i:08}__0"), "v".repeat(32));
    }
    let started = Instant::now();
    store.save_assignments_sync(vec![d.clone()]).expect("save");
    let got = store
        .get_all_assignments_sync(&[pair("id", "big")])
        .expect("lookup");
    assert_eq!(got.len(), 1);
    assert!(started.elapsed() < Duration::from_secs(5));
}

/// A store that always fails or hangs, to show the caller-side fallback.
#[derive(Debug)]
struct Broken {
    hang: bool,
}

impl StickyBucketService for Broken {
    fn get_all_assignments<'a>(
        &'a self,
        _attributes: &'a [IdentifierAttribute],
    ) -> BoxFuture<'a, Result<Vec<StickyAssignmentsDocument>, StickyError>> {
        let hang = self.hang;
        Box::pin(async move {
            if hang {
                std::future::pending::<()>().await;
            }
            Err(StickyError::backend("connection refused"))
        })
    }

    fn save_assignments(
        &self,
        _docs: Vec<StickyAssignmentsDocument>,
    ) -> BoxFuture<'_, Result<(), StickyError>> {
        Box::pin(async { Err(StickyError::backend("connection refused")) })
    }
}

#[tokio::test]
async fn caller_falls_back_to_plain_hashing() {
    let attrs = [pair("id", "1")];
    // An error: evaluate with empty docs.
    let err = load_docs(&Broken { hang: false }, &attrs)
        .await
        .expect_err("fails");
    assert_eq!(err.kind(), StickyErrorKind::Backend);
    let mut docs = load_docs(&Broken { hang: false }, &attrs)
        .await
        .unwrap_or_default();
    assert!(docs.is_empty());
    // ... which is plain hashing: the same variation as evaluating without sticky bucketing,
    // and the new assignment is still offered for saving.
    let fs = gb_core::FeatureSet::from_value(&serde_json::json!({"features": {"f": {
        "defaultValue": 0,
        "rules": [{"key": "exp", "variations": [0, 1, 2], "meta": [{"key": "a"}, {"key": "b"}, {"key": "c"}],
                   "weights": [0.34, 0.33, 0.33], "coverage": 1, "hashVersion": 2}]
    }}}));
    let user_attrs = serde_json::json!({"id": "1"});
    let user_attrs = user_attrs.as_object().expect("object");
    let user = gb_core::User::new(user_attrs);
    assert_eq!(fs.sticky_bucket_attributes(&user), attrs.to_vec());
    let plain = fs.eval_feature("f", &user).to_json();
    let sticky = fs
        .eval_feature_with("f", &user, Some(&mut docs), &mut ())
        .to_json();
    assert_eq!(plain["value"], sticky["value"]);
    assert_eq!(
        plain["experimentResult"]["key"],
        sticky["experimentResult"]["key"]
    );
    assert_eq!(docs.take_changed().len(), 1);
    // A custom store without its own timeout: the caller bounds it.
    let r = tokio::time::timeout(
        Duration::from_millis(100),
        load_docs(&Broken { hang: true }, &attrs),
    )
    .await;
    assert!(r.is_err());
    // Nothing changed: save is a no-op even on a broken store.
    let mut docs = gb_sticky::StickyBucketDocs::new();
    save_changed(&Broken { hang: false }, &mut docs)
        .await
        .expect("nothing to save");
    // Empty attribute list: no call at all.
    assert!(load_docs(&Broken { hang: false }, &[]).await.is_ok());
}
