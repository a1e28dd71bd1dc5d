//! Load: 8 threads evaluate continuously while the payload is swapped every 10 ms. No panic,
//! no deadlock, and every result comes from one whole snapshot.
#![allow(clippy::unwrap_used, reason = "test")]

extern crate alloc;

use alloc::sync::Arc;
use core::sync::atomic::{AtomicBool, Ordering};
use core::time::Duration;
use std::time::Instant;

use gb_sdk::GrowthBook;
use gb_sdk::serde_json::{Value, json};

/// Version `k`: `p` is `k`, and `x` is `k` only if the `p` it sees (a prerequisite) is `k` too,
/// so a result mixing two payloads shows as `-1`. `g` needs the saved group of version `k`.
fn payload(k: u64) -> Value {
    json!({
        "features": {
            "p": {"defaultValue": k},
            "x": {"defaultValue": -1, "rules": [{
                "parentConditions": [{"id": "p", "condition": {"value": k}}],
                "force": k
            }]},
            "g": {"defaultValue": -1, "rules": [{
                "condition": {"id": {"$inGroup": "members"}},
                "force": k
            }]},
            "exp": {"defaultValue": 0, "rules": [{"key": "e", "variations": [k, k]}]}
        },
        "savedGroups": {"members": [format!("user-{k}"), "user-all"]}
    })
}

#[test]
fn eight_threads_while_swapping_every_10ms() {
    let client = GrowthBook::builder()
        .payload(payload(0))
        .on_experiment_viewed(|_, r, _| {
            // Now and then (panic messages are slow to print).
            if r.variation_id == 1 && r.hash_value.as_str().is_some_and(|v| v.ends_with("01")) {
                panic!("a panicking callback must not disturb anything");
            }
        })
        .build()
        .unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut workers = Vec::new();
    for t in 0..8 {
        let client = client.clone();
        let stop = Arc::clone(&stop);
        workers.push(std::thread::spawn(move || {
            let mut evaluations = 0u64;
            let mut last = 0i64;
            let mut i = 0u64;
            while !stop.load(Ordering::Relaxed)
                && Instant::now() < deadline
                && evaluations < 5_000_000
            {
                let id = if i.is_multiple_of(2) {
                    "user-all".to_string()
                } else {
                    format!("u{t}-{i}")
                };
                let user = client.user(json!({"id": id}).as_object().cloned().unwrap());
                let x = user.feature_value("x", -2i64);
                assert!(x >= 0, "x from a torn snapshot: {x}");
                assert!(x >= last, "versions never go back: {x} after {last}");
                last = x;
                if i.is_multiple_of(2) {
                    assert!(
                        user.feature_value("g", -2i64) >= x,
                        "group from the same or a later payload"
                    );
                }
                let e = user.eval_feature("exp");
                assert_eq!(
                    *e.value(),
                    e.experiment_result()
                        .as_ref()
                        .map_or(json!(0), |r| r.value.clone())
                );
                evaluations += 3;
                i += 1;
            }
            evaluations
        }));
    }
    let swaps = 100u64;
    for k in 1..=swaps {
        std::thread::sleep(Duration::from_millis(10));
        client.set_payload(&payload(k)).unwrap();
    }
    stop.store(true, Ordering::Relaxed);
    let mut total = 0;
    for w in workers {
        total += w.join().expect("no worker panicked");
    }
    assert!(Instant::now() < deadline, "finished in time (no deadlock)");
    assert!(total > 1000, "threads made progress: {total}");
    assert_eq!(client.version(), swaps + 1);
    assert_eq!(
        client
            .user(gb_sdk::Attributes::new())
            .feature_value("x", -2i64),
        swaps as i64
    );
    eprintln!("{total} evaluations during {swaps} swaps");
}
