//! The conformance suite against the in-memory and cookie stores (async and sync), and against a
//! user-style custom adapter. Redis runs it in `tests/redis.rs`.

// Test code is std code; the workspace core/alloc path lints target the library.
#![allow(clippy::std_instead_of_core, clippy::std_instead_of_alloc)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use gb_sticky::conformance::{check_service, check_service_sync};
use gb_sticky::{
    BoxFuture, CookieCodec, CookieStickyBucketService, IdentifierAttribute,
    InMemoryStickyBucketService, StickyAssignmentsDocument, StickyBucketService, StickyError,
    attribute_key,
};

#[tokio::test]
async fn memory_async() {
    let store = InMemoryStickyBucketService::new();
    check_service(&store).await;
    // Through a trait object too.
    let dyn_store: Arc<dyn StickyBucketService> = Arc::new(InMemoryStickyBucketService::new());
    check_service(dyn_store.as_ref()).await;
    assert_eq!(format!("{dyn_store:?}"), "dyn StickyBucketService");
}

#[test]
fn memory_sync() {
    check_service_sync(&InMemoryStickyBucketService::new());
}

#[test]
fn memory_small_capacity_holds_the_suite() {
    // The suite documents that it needs room for 60 documents.
    check_service_sync(&InMemoryStickyBucketService::with_capacity(60));
}

#[tokio::test]
async fn cookie_async() {
    let store = CookieStickyBucketService::from_cookie_header(CookieCodec::new(), None);
    check_service(&store).await;
    assert!(!store.take_set_cookie_headers().is_empty());
}

#[test]
fn cookie_sync() {
    let store = CookieStickyBucketService::from_cookie_header(CookieCodec::new(), Some("a=b; c=d"));
    check_service_sync(&store);
}

#[test]
fn cookie_across_requests() {
    // Request 1 runs the suite; its Set-Cookie values become request 2's Cookie header, over
    // which the suite runs again (it writes under fresh names, and must still find its own).
    let codec = CookieCodec::new().prefix("gbsb_");
    let first = CookieStickyBucketService::from_cookie_header(codec.clone(), None);
    check_service_sync(&first);
    let set_cookies = first.take_set_cookie_headers();
    assert_eq!(
        set_cookies.len(),
        32,
        "one cookie per distinct key written by the suite"
    );
    assert!(first.take_set_cookie_headers().is_empty(), "taken once");
    let header = set_cookies
        .iter()
        .filter_map(|sc| sc.split(';').next())
        .collect::<Vec<_>>()
        .join("; ");
    let docs = codec.decode_cookie_header(&header);
    // Only the 64 first sticky cookies of a header are read; the suite wrote fewer distinct keys.
    assert_eq!(
        docs.len(),
        set_cookies.len().min(gb_sticky::cookie::MAX_STICKY_COOKIES)
    );
    let second = CookieStickyBucketService::from_cookie_header(codec, Some(&header));
    check_service_sync(&second);
}

/// What a user's own adapter looks like: an async store over some map (here a `HashMap` behind
/// a mutex, standing in for a database client).
#[derive(Debug, Default)]
struct MyStore {
    map: Mutex<HashMap<String, String>>,
}

impl StickyBucketService for MyStore {
    fn get_all_assignments<'a>(
        &'a self,
        attributes: &'a [IdentifierAttribute],
    ) -> BoxFuture<'a, Result<Vec<StickyAssignmentsDocument>, StickyError>> {
        Box::pin(async move {
            let map = self
                .map
                .lock()
                .map_err(|e| StickyError::backend(e.to_string()))?;
            let mut out: Vec<StickyAssignmentsDocument> = Vec::new();
            for (n, v) in attributes {
                let Some(json) = map.get(&attribute_key(n, v)) else {
                    continue;
                };
                let Ok(doc) = serde_json::from_str::<StickyAssignmentsDocument>(json) else {
                    continue;
                };
                if doc.attribute_name == *n && doc.attribute_value == *v && !out.contains(&doc) {
                    out.push(doc);
                }
            }
            Ok(out)
        })
    }

    fn save_assignments(
        &self,
        docs: Vec<StickyAssignmentsDocument>,
    ) -> BoxFuture<'_, Result<(), StickyError>> {
        Box::pin(async move {
            let mut map = self
                .map
                .lock()
                .map_err(|e| StickyError::backend(e.to_string()))?;
            for d in docs {
                let json = serde_json::to_string(&d).map_err(StickyError::backend)?;
                map.insert(d.key(), json);
            }
            Ok(())
        })
    }
}

#[tokio::test]
async fn custom_adapter() {
    check_service(&MyStore::default()).await;
}

/// A broken adapter must fail the suite (the suite is not vacuous).
#[derive(Debug, Default)]
struct LeakyStore(InMemoryStickyBucketService);

impl gb_sticky::StickyBucketServiceSync for LeakyStore {
    fn get_all_assignments_sync(
        &self,
        attributes: &[IdentifierAttribute],
    ) -> Result<Vec<StickyAssignmentsDocument>, StickyError> {
        // Returns every stored document, requested or not.
        let _ = attributes;
        Ok(self.0.snapshot())
    }

    fn save_assignments_sync(
        &self,
        docs: Vec<StickyAssignmentsDocument>,
    ) -> Result<(), StickyError> {
        gb_sticky::StickyBucketServiceSync::save_assignments_sync(&self.0, docs)
    }
}

#[test]
fn suite_rejects_a_leaky_store() {
    let r = std::panic::catch_unwind(|| check_service_sync(&LeakyStore::default()));
    let msg = r
        .err()
        .and_then(|p| p.downcast::<String>().ok())
        .map(|s| *s);
    assert!(
        msg.as_deref()
            .is_some_and(|m| m.contains("was not requested")),
        "{msg:?}"
    );
}
