//! A compiled payload stays a small multiple of its JSON size: contextual-bandit leaves share
//! the rule's variations instead of copying them (10 rules x 300 contexts with two 100 KiB
//! variations took 1.9 GB before), plain features cost little more than their text, and
//! loading never holds much more than the snapshot and one feature's JSON tree.
//! Heap bytes are counted by a global allocator; everything runs in one test so no other test
//! thread allocates meanwhile.
#![allow(clippy::unwrap_used, reason = "test")]

use benches::{
    CountingAlloc, bandit_payload, load_workload, measure_load, plain_payload, scaled_payload,
};

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

fn check(name: &str, payload: serde_json::Value, max_resident: f64, max_peak: f64) {
    let text = serde_json::to_string(&payload).unwrap();
    drop(payload);
    let (fs, m) = measure_load(&text);
    assert!(!fs.is_empty());
    let resident = m.resident as f64 / m.json_bytes as f64;
    let peak = m.peak as f64 / m.json_bytes as f64;
    eprintln!(
        "{name}: {} JSON bytes, resident {:.2}x, peak {:.2}x",
        m.json_bytes, resident, peak
    );
    assert!(
        resident <= max_resident,
        "{name}: resident {resident:.2}x the JSON size (bound {max_resident}x)"
    );
    assert!(
        peak <= max_peak,
        "{name}: peak {peak:.2}x the JSON size while loading (bound {max_peak}x)"
    );
}

#[test]
fn compiled_payloads_stay_a_small_multiple_of_their_json() {
    // Issue 17 asks for at most 3x resident. Peak while loading: the text is compiled feature
    // by feature (it was 10-14x when the whole payload was first parsed into one tree).
    // Before issue 17: 797x resident. Now about 2.1x resident, 4.5x peak.
    check(
        "bandit 10 rules x 300 contexts x 2 x 100 KiB",
        bandit_payload(10, 300, 100 * 1024),
        3.0,
        8.0,
    );
    // Before: 4.2x resident, 16x peak. Now about 2.6x resident, 5.4x peak.
    check("100,000 plain features", plain_payload(100_000), 3.0, 8.0);
    // Before: 13x resident, 14.7x peak. Now about 2.4x resident, 3.2x peak.
    let w = load_workload();
    check(
        "workload scaled to 20,000 features",
        scaled_payload(&w.payload, 20_000),
        3.0,
        8.0,
    );
}
