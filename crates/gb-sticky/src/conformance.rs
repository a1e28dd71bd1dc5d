//! A conformance suite for [`StickyBucketService`] implementations (feature `test-util`).
//!
//! Every adapter in this crate runs it, and so can yours:
//!
//! ```
//! # use gb_sticky::InMemoryStickyBucketService;
//! // In an async test (any runtime):
//! # let fut = async {
//! let store = InMemoryStickyBucketService::new();
//! gb_sticky::conformance::check_service(&store).await;
//! # };
//! // For a StickyBucketServiceSync, no runtime is needed:
//! gb_sticky::conformance::check_service_sync(&InMemoryStickyBucketService::new());
//! ```
//!
//! The checks panic (like `assert!`) with a message naming the broken rule. They write at most
//! 60 documents, all under attribute names starting with a fresh `gbconf<unique>_` prefix, so
//! they can run against a shared store (e.g. a real Redis) next to other data; nothing is
//! deleted afterwards. A bounded store needs room for 60 documents.

use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU64, Ordering};

use gb_core::StickyAssignmentsDocument;

use crate::service::{IdentifierAttribute, StickyBucketService, StickyBucketServiceSync};

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// A fresh attribute-name prefix, unique per call within a process and (by time and process id)
/// across processes sharing a store.
pub fn unique_prefix() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("gbconf{}x{nanos}x{n}_", std::process::id())
}

/// A document with the given assignments.
pub fn doc(name: &str, value: &str, assignments: &[(&str, &str)]) -> StickyAssignmentsDocument {
    StickyAssignmentsDocument {
        attribute_name: name.to_string(),
        attribute_value: value.to_string(),
        assignments: assignments
            .iter()
            .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
            .collect(),
    }
}

fn pair(name: &str, value: &str) -> IdentifierAttribute {
    (name.to_string(), value.to_string())
}

fn by_key(
    docs: Vec<StickyAssignmentsDocument>,
) -> BTreeMap<(String, String), StickyAssignmentsDocument> {
    docs.into_iter()
        .map(|d| ((d.attribute_name.clone(), d.attribute_value.clone()), d))
        .collect()
}

async fn get<S: StickyBucketService + ?Sized>(
    svc: &S,
    rule: &str,
    attributes: &[IdentifierAttribute],
) -> Vec<StickyAssignmentsDocument> {
    let docs = match svc.get_all_assignments(attributes).await {
        Ok(docs) => docs,
        Err(e) => panic!("conformance: {rule}: lookup failed: {e}"),
    };
    for d in &docs {
        assert!(
            attributes
                .iter()
                .any(|(n, v)| d.attribute_name == *n && d.attribute_value == *v),
            "conformance: {rule}: returned a document for ({:?}, {:?}), which was not requested",
            d.attribute_name,
            d.attribute_value
        );
    }
    let unique = by_key(docs.clone());
    assert_eq!(
        unique.len(),
        docs.len(),
        "conformance: {rule}: returned more than one document for one attribute pair"
    );
    docs
}

async fn save<S: StickyBucketService + ?Sized>(
    svc: &S,
    rule: &str,
    docs: Vec<StickyAssignmentsDocument>,
) {
    if let Err(e) = svc.save_assignments(docs).await {
        panic!("conformance: {rule}: save failed: {e}");
    }
}

fn assert_same(
    rule: &str,
    got: Vec<StickyAssignmentsDocument>,
    want: &[StickyAssignmentsDocument],
) {
    let got = by_key(got);
    let want = by_key(want.to_vec());
    assert_eq!(
        got, want,
        "conformance: {rule}: lookup returned other documents than expected"
    );
}

/// Runs every check against `svc`; panics on the first failure.
pub async fn check_service<S: StickyBucketService + ?Sized>(svc: &S) {
    let p = unique_prefix();
    let id = format!("{p}id");
    let dev = format!("{p}deviceId");

    // Empty request, and nothing stored yet.
    let got = get(svc, "empty request", &[]).await;
    assert!(
        got.is_empty(),
        "conformance: empty request: returned documents"
    );
    let got = get(
        svc,
        "unknown attributes",
        &[pair(&id, "u1"), pair(&dev, "d1")],
    )
    .await;
    assert!(
        got.is_empty(),
        "conformance: unknown attributes: returned documents"
    );

    // Saving nothing is fine.
    save(svc, "empty save", Vec::new()).await;

    // Save, then one lookup for all pairs (plus an unknown one) returns exactly what was saved.
    let a = doc(&id, "u1", &[("exp1__0", "1"), ("exp2__3", "control")]);
    let b = doc(&dev, "d1", &[("exp1__0", "0")]);
    let empty = doc(&id, "u-empty", &[]);
    save(svc, "save", vec![a.clone(), b.clone(), empty.clone()]).await;
    let got = get(
        svc,
        "round trip",
        &[
            pair(&id, "u1"),
            pair(&dev, "d1"),
            pair(&id, "u-empty"),
            pair(&id, "nobody"),
        ],
    )
    .await;
    assert_same("round trip", got, &[a.clone(), b.clone(), empty.clone()]);

    // Only requested documents come back.
    let got = get(svc, "subset", &[pair(&dev, "d1")]).await;
    assert_same("subset", got, core::slice::from_ref(&b));
    // The attribute name is part of the key.
    let got = get(svc, "name is part of the key", &[pair(&dev, "u1")]).await;
    assert!(
        got.is_empty(),
        "conformance: name is part of the key: `deviceId=u1` found `id=u1`"
    );

    // A repeated pair yields one document.
    let got = get(svc, "repeated pair", &[pair(&id, "u1"), pair(&id, "u1")]).await;
    assert_same("repeated pair", got, core::slice::from_ref(&a));

    // Saving replaces the whole document (no merge of assignments).
    let a2 = doc(&id, "u1", &[("exp3__0", "2")]);
    save(svc, "overwrite", vec![a2.clone()]).await;
    let got = get(svc, "overwrite", &[pair(&id, "u1"), pair(&dev, "d1")]).await;
    assert_same("overwrite", got, &[a2, b]);

    // Values that need escaping in URLs, cookies, JSON or keys.
    let odd_values = [
        "with space",
        "semi;colon=equals,comma",
        "quote\"back\\slash",
        "percent%20not-decoded",
        "unicodé ✓ 日本",
        "{\"json\":true}",
        "",
        "   ",
    ];
    let odd: Vec<StickyAssignmentsDocument> = odd_values
        .iter()
        .enumerate()
        .map(|(i, v)| doc(&id, v, &[("odd__0", &i.to_string())]))
        .collect();
    save(svc, "odd values", odd.clone()).await;
    let attrs: Vec<IdentifierAttribute> = odd_values.iter().map(|v| pair(&id, v)).collect();
    let got = get(svc, "odd values", &attrs).await;
    assert_same("odd values", got, &odd);

    // `name||value` is ambiguous when a part contains `||`: ("x||a", "b") and ("x", "a||b")
    // share a key. A lookup may miss, but must never return the other pair's document.
    let split_name = format!("{id}||a");
    let left = doc(&split_name, "b", &[("amb__0", "left")]);
    save(svc, "ambiguous key", vec![left.clone()]).await;
    let got = get(svc, "ambiguous key", &[pair(&id, "a||b")]).await;
    assert!(
        got.is_empty(),
        "conformance: ambiguous key: returned another pair's document"
    );
    let right = doc(&id, "a||b", &[("amb__0", "right")]);
    save(svc, "ambiguous key", vec![right.clone()]).await;
    let got = get(
        svc,
        "ambiguous key",
        &[pair(&split_name, "b"), pair(&id, "a||b")],
    )
    .await;
    assert!(
        got.contains(&right),
        "conformance: ambiguous key: the last saved document is missing"
    );

    // Many pairs in one lookup.
    let many: Vec<StickyAssignmentsDocument> = (0..20)
        .map(|i| {
            doc(
                &format!("{p}attr{}", i % 4),
                &format!("v{i}"),
                &[("many__1", "1")],
            )
        })
        .collect();
    save(svc, "many", many.clone()).await;
    let mut attrs: Vec<IdentifierAttribute> = many
        .iter()
        .map(|d| (d.attribute_name.clone(), d.attribute_value.clone()))
        .collect();
    attrs.extend((0..20).map(|i| pair(&format!("{p}attr{}", i % 4), &format!("missing{i}"))));
    let got = get(svc, "many", &attrs).await;
    assert_same("many", got, &many);
}

/// Runs [`check_service`] against a [`StickyBucketServiceSync`], without any async runtime
/// (its async methods complete at once).
pub fn check_service_sync<S: StickyBucketServiceSync + ?Sized>(svc: &S) {
    crate::service::now_or_never(check_service(svc));
}
