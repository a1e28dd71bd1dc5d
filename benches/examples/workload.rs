//! Evaluates every feature for every user of the shared workload a few times and prints the
//! cost per evaluation (a quick check; the criterion bench is the measurement).
#![allow(missing_docs, clippy::unwrap_used, reason = "example")]

use std::time::Instant;

use benches::load_workload;
use gb_core::FeatureSet;

fn main() {
    let w = load_workload();
    let fs = FeatureSet::from_value(&w.payload);
    let keys: Vec<String> = fs.keys().map(String::from).collect();
    let passes: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(10);
    let mut best = f64::MAX;
    let mut on = 0usize;
    for _ in 0..passes {
        let t = Instant::now();
        on += benches::core_pass(&fs, &w.users, &keys);
        let ns = t.elapsed().as_nanos() as f64 / (keys.len() * w.users.len()) as f64;
        best = best.min(ns);
    }
    println!(
        "{} evaluations per pass, best {best:.1} ns per evaluation ({on} on)",
        keys.len() * w.users.len()
    );
}
