//! The `stickyBucket` cases of the GrowthBook spec (`cases.json`), with the documents going
//! through each store: seed the store with the case's existing docs, fetch the user's docs
//! through it, evaluate with `gb_core`, save what changed through it, then read the user's docs
//! back through it and compare with the case's expected docs.
//!
//! `cases.json` is read from `GB_SPEC_CASES`, else `<manifest>/../../../shared/spec-tests/`;
//! missing, the test says SKIPPED (fails under `CI=true`). Redis: see `common` (feature `redis`).

// Test code is std code; the workspace core/alloc path lints target the library.
#![allow(clippy::std_instead_of_core, clippy::std_instead_of_alloc)]

#[cfg(feature = "redis")]
#[allow(dead_code)] // this file uses only part of it
mod common;

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::PathBuf;
use std::sync::Mutex;

use gb_core::{FeatureSet, User};
use gb_sticky::{
    CookieCodec, CookieStickyBucketService, IdentifierAttribute, InMemoryStickyBucketService,
    StickyAssignmentsDocument, StickyBucketDocs, StickyBucketService, StickyBucketServiceSync,
    StickyError, load_docs, save_changed,
};
use serde_json::{Map, Value, json};

/// One `stickyBucket` case.
#[derive(Debug)]
struct Case {
    name: String,
    context: Value,
    existing: Vec<StickyAssignmentsDocument>,
    feature_key: String,
    expected_result: Value,
    expected_docs: BTreeMap<String, StickyAssignmentsDocument>,
}

fn cases_path() -> PathBuf {
    if let Ok(p) = std::env::var("GB_SPEC_CASES") {
        return PathBuf::from(p);
    }
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/spec-tests/cases.json")
}

fn load_cases() -> Option<Vec<Case>> {
    let path = cases_path();
    let Ok(text) = std::fs::read_to_string(&path) else {
        let ci = std::env::var("CI").is_ok_and(|v| v == "true");
        assert!(
            !ci,
            "CI=true but {} is missing (set GB_SPEC_CASES)",
            path.display()
        );
        let _ = writeln!(std::io::stderr(), "SKIPPED: {} not found", path.display());
        return None;
    };
    let all: Value = serde_json::from_str(&text).expect("cases.json is JSON");
    let cases = all["stickyBucket"]
        .as_array()
        .expect("stickyBucket section");
    Some(
        cases
            .iter()
            .map(|c| Case {
                name: c[0].as_str().expect("name").to_string(),
                context: c[1].clone(),
                existing: serde_json::from_value(c[2].clone()).expect("existing docs"),
                feature_key: c[3].as_str().expect("feature key").to_string(),
                expected_result: c[4].clone(),
                expected_docs: serde_json::from_value(c[5].clone()).expect("expected docs"),
            })
            .collect(),
    )
}

impl Case {
    /// The payload of the case's context, compiled.
    fn feature_set(&self) -> FeatureSet {
        let ctx = &self.context;
        let part = |k: &str| ctx.get(k).cloned().unwrap_or(Value::Null);
        FeatureSet::from_value(&json!({
            "features": part("features"),
            "savedGroups": part("savedGroups"),
            "contextualBandits": part("contextualBandits"),
            "experiments": part("experiments"),
        }))
    }

    fn attributes(&self) -> Map<String, Value> {
        self.context["attributes"]
            .as_object()
            .cloned()
            .unwrap_or_default()
    }
}

/// Evaluates the case's feature with `docs`: the experiment result as JSON, `null` if none.
fn evaluate(fs: &FeatureSet, user: &User<'_>, key: &str, docs: &mut StickyBucketDocs) -> Value {
    let res = fs.eval_feature_with(key, user, Some(docs), &mut ());
    res.experiment_result
        .as_ref()
        .map_or(Value::Null, |r| r.to_json())
}

fn by_key(docs: Vec<StickyAssignmentsDocument>) -> BTreeMap<String, StickyAssignmentsDocument> {
    docs.into_iter().map(|d| (d.key(), d)).collect()
}

/// Fetch → evaluate → save through `store`, then read back; returns the failures.
async fn run_case<S: StickyBucketService + ?Sized>(case: &Case, store: &S) -> Vec<String> {
    let mut failures = Vec::new();
    let fs = case.feature_set();
    let attributes = case.attributes();
    let user = User::new(&attributes);
    // The identifier attributes the payload uses, with this user's values.
    let attrs = fs.sticky_bucket_attributes(&user);
    store
        .save_assignments(case.existing.clone())
        .await
        .expect("seed");
    let mut docs = load_docs(store, &attrs).await.expect("fetch");
    // The store returns exactly the seeded docs of this user's identifier attributes.
    let want: BTreeMap<String, StickyAssignmentsDocument> = by_key(
        case.existing
            .iter()
            .filter(|d| {
                attrs
                    .iter()
                    .any(|(n, v)| d.attribute_name == *n && d.attribute_value == *v)
            })
            .cloned()
            .collect(),
    );
    let got: BTreeMap<String, StickyAssignmentsDocument> = by_key(docs.docs().cloned().collect());
    if got != want {
        failures.push(format!("fetched {got:?}, seeded {want:?}"));
    }

    let result = evaluate(&fs, &user, &case.feature_key, &mut docs);
    if result != case.expected_result {
        failures.push(format!(
            "result {result}, expected {}",
            case.expected_result
        ));
    }
    save_changed(store, &mut docs).await.expect("save");

    let saved = by_key(store.get_all_assignments(&attrs).await.expect("read back"));
    if saved != case.expected_docs {
        failures.push(format!(
            "stored docs {saved:?}, expected {:?}",
            case.expected_docs
        ));
    }
    failures
}

fn report(adapter: &str, results: Vec<(String, Vec<String>)>) {
    let total = results.len();
    let failed: Vec<_> = results.iter().filter(|(_, f)| !f.is_empty()).collect();
    for (name, f) in &failed {
        let _ = writeln!(
            std::io::stderr(),
            "FAIL [{adapter}] {name}: {}",
            f.join("; ")
        );
    }
    let _ = writeln!(
        std::io::stderr(),
        "stickyBucket through {adapter}: {}/{total} passed",
        total - failed.len()
    );
    assert!(
        failed.is_empty(),
        "{adapter}: {} of {total} cases failed",
        failed.len()
    );
    assert_eq!(total, 13, "the spec has 13 stickyBucket cases");
}

#[tokio::test]
async fn spec_through_memory() {
    let Some(cases) = load_cases() else { return };
    let mut results = Vec::new();
    for case in &cases {
        let store = InMemoryStickyBucketService::new();
        let f = run_case(case, &store).await;
        results.push((case.name.clone(), f));
    }
    report("memory", results);
}

/// A browser's cookie jar: every store call is one request carrying the jar's cookies, whose
/// `Set-Cookie` response headers are applied back to the jar.
#[derive(Debug, Default)]
struct Browser {
    codec: CookieCodec,
    jar: Mutex<BTreeMap<String, String>>,
}

impl Browser {
    fn request(&self) -> CookieStickyBucketService {
        let jar = self.jar.lock().expect("jar");
        let header = jar
            .iter()
            .map(|(n, v)| format!("{n}={v}"))
            .collect::<Vec<_>>()
            .join("; ");
        CookieStickyBucketService::from_cookie_header(self.codec.clone(), Some(&header))
    }
}

impl StickyBucketServiceSync for Browser {
    fn get_all_assignments_sync(
        &self,
        attributes: &[IdentifierAttribute],
    ) -> Result<Vec<StickyAssignmentsDocument>, StickyError> {
        self.request().get_all_assignments_sync(attributes)
    }

    fn save_assignments_sync(
        &self,
        docs: Vec<StickyAssignmentsDocument>,
    ) -> Result<(), StickyError> {
        let request = self.request();
        request.save_assignments_sync(docs)?;
        let mut jar = self.jar.lock().expect("jar");
        for set_cookie in request.take_set_cookie_headers() {
            let pair = set_cookie.split(';').next().unwrap_or_default();
            if let Some((n, v)) = pair.split_once('=') {
                jar.insert(n.to_string(), v.to_string());
            }
        }
        Ok(())
    }
}

#[tokio::test]
async fn spec_through_cookies() {
    let Some(cases) = load_cases() else { return };
    let mut results = Vec::new();
    for case in &cases {
        let f = run_case(case, &Browser::default()).await;
        results.push((case.name.clone(), f));
    }
    report("cookies", results);
}

#[cfg(feature = "redis")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spec_through_redis() {
    let Some(cases) = load_cases() else { return };
    let Some((url, _server)) = common::redis_url("stickyBucket spec through Redis") else {
        return;
    };
    let mut results = Vec::new();
    for case in &cases {
        // A fresh key prefix per case isolates it in a shared server.
        let options =
            gb_sticky::RedisOptions::new().key_prefix(gb_sticky::conformance::unique_prefix());
        let store = gb_sticky::RedisStickyBucketService::connect(&url, options)
            .await
            .expect("connects");
        let f = run_case(case, &store).await;
        results.push((case.name.clone(), f));
    }
    report("redis", results);
}
