//! Loads and compiles a payload of N features (default 1000) repeatedly and prints the best time.
#![allow(missing_docs, clippy::unwrap_used, reason = "example")]

use std::time::Instant;

use benches::{load_workload, scaled_payload};
use gb_core::FeatureSet;

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1000);
    let w = load_workload();
    let text = serde_json::to_string(&scaled_payload(&w.payload, n)).unwrap();
    let mut best = f64::MAX;
    for _ in 0..20 {
        let t = Instant::now();
        let fs = FeatureSet::from_json_str(&text).unwrap();
        best = best.min(t.elapsed().as_secs_f64() * 1e3);
        assert_eq!(fs.len(), n);
    }
    let mut parse_only = f64::MAX;
    for _ in 0..20 {
        let t = Instant::now();
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        parse_only = parse_only.min(t.elapsed().as_secs_f64() * 1e3);
        drop(v);
    }
    println!("  of which JSON parsing alone: {parse_only:.2} ms");
    println!(
        "{n} features ({} bytes): best {best:.2} ms to parse and compile",
        text.len()
    );
}
