//! Evaluating a boolean feature allocates nothing: the result borrows from the snapshot and
//! the user, conditions are precompiled, and hashing streams.
#![allow(
    clippy::unwrap_used,
    unsafe_code,
    reason = "a counting global allocator for the test"
)]

use core::alloc::{GlobalAlloc, Layout};
use core::sync::atomic::{AtomicUsize, Ordering};
use std::alloc::System;

use gb_core::{FeatureSet, User};
use serde_json::json;

struct Counting;

static ALLOCS: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards to the system allocator, only counting calls.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

#[test]
fn boolean_features_evaluate_without_allocating() {
    let fs = FeatureSet::from_value(&json!({"features": {
        "plain": {"defaultValue": true},
        "targeted": {"defaultValue": false, "rules": [
            {"condition": {"country": {"$in": ["US", "CA"]}, "version": {"$vgte": "2.0.0"}, "email": {"$regex": "@example\\.com$"}}, "force": true}
        ]},
        "rollout": {"defaultValue": false, "rules": [{"force": true, "coverage": 0.5, "hashVersion": 2}]},
        "experiment": {"defaultValue": false, "rules": [{"key": "e", "variations": [false, true], "meta": [{"key": "off"}, {"key": "on"}], "hashVersion": 2}]},
        "v1": {"defaultValue": false, "rules": [{"key": "e1", "variations": [false, true], "namespace": ["ns", 0, 1]}]},
        "prereq": {"defaultValue": false, "rules": [{"parentConditions": [{"id": "targeted", "condition": {"value": true}}], "force": true}]}
    }}));
    let attrs =
        json!({"id": "user-123", "country": "US", "version": "2.3.1", "email": "a@example.com"});
    let attrs = attrs.as_object().unwrap();
    let user = User::new(attrs);
    let keys = [
        "plain",
        "targeted",
        "rollout",
        "experiment",
        "v1",
        "prereq",
        "missing",
    ];
    // Warm up (lazy statics, if any).
    for k in keys {
        let _ = fs.eval_feature(k, &user).on();
    }
    let before = ALLOCS.load(Ordering::SeqCst);
    let mut on = 0;
    for k in keys {
        on += usize::from(fs.eval_feature(k, &user).on());
    }
    let after = ALLOCS.load(Ordering::SeqCst);
    assert_eq!(after - before, 0, "allocations while evaluating");
    assert!(on >= 3);
}
