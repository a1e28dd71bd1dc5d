//! Payload load + compile time (JSON text to an evaluable snapshot).
#![allow(missing_docs, clippy::unwrap_used, reason = "benchmark")]

use core::hint::black_box;

use benches::{load_workload, scaled_payload};
use criterion::{Criterion, criterion_group, criterion_main};
use gb_core::FeatureSet;

fn load(c: &mut Criterion) {
    let w = load_workload();
    let mut g = c.benchmark_group("load");
    g.sample_size(20);
    for n in [200usize, 1000] {
        let text = serde_json::to_string(&scaled_payload(&w.payload, n)).unwrap();
        g.bench_function(format!("parse_and_compile_{n}_features"), |b| {
            // The old snapshot is dropped when the next one replaces it, not while loading.
            b.iter_with_large_drop(|| FeatureSet::from_json_str(black_box(&text)).unwrap())
        });
    }
    g.finish();
}

criterion_group!(benches, load);
criterion_main!(benches);
