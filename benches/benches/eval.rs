//! Per-evaluation cost on the shared workload (every user x every feature), and how it
//! scales with the number of features in the payload.
#![allow(missing_docs, clippy::unwrap_used, reason = "benchmark")]

use core::hint::black_box;

use benches::{core_pass, load_workload, scaled_payload};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use gb_core::FeatureSet;

fn workload(c: &mut Criterion) {
    let w = load_workload();
    let fs = FeatureSet::from_value(&w.payload);
    let keys: Vec<String> = fs.keys().map(String::from).collect();
    let mut g = c.benchmark_group("eval");
    g.throughput(Throughput::Elements((keys.len() * w.users.len()) as u64));
    g.sample_size(20);
    g.bench_function("workload_all_users_x_all_features", |b| {
        b.iter(|| black_box(core_pass(&fs, &w.users, &keys)))
    });
    g.finish();
}

fn scaling(c: &mut Criterion) {
    let w = load_workload();
    let users = &w.users[..100];
    let mut g = c.benchmark_group("eval_scaling");
    g.sample_size(20);
    for n in [10usize, 200, 10_000] {
        let fs = FeatureSet::from_value(&scaled_payload(&w.payload, n));
        // The same 10 features are evaluated whatever the payload size.
        let mut keys: Vec<String> = w.payload["features"]
            .as_object()
            .unwrap()
            .keys()
            .take(10)
            .cloned()
            .collect();
        keys.sort();
        g.throughput(Throughput::Elements((keys.len() * users.len()) as u64));
        g.bench_function(format!("features_{n}"), |b| {
            b.iter(|| black_box(core_pass(&fs, users, &keys)))
        });
    }
    g.finish();
}

criterion_group!(benches, workload, scaling);
criterion_main!(benches);
