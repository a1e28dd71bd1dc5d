//! Per-evaluation cost on the shared workload (every user x every feature), and how it
//! scales with the number of features in the payload.
#![allow(missing_docs, clippy::unwrap_used, reason = "benchmark")]

use core::hint::black_box;

use benches::{load_workload, scaled_payload};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use gb_core::{FeatureSet, User};

fn workload(c: &mut Criterion) {
    let w = load_workload();
    let fs = FeatureSet::from_value(&w.payload);
    let keys: Vec<String> = fs.keys().map(String::from).collect();
    let mut g = c.benchmark_group("eval");
    g.throughput(Throughput::Elements((keys.len() * w.users.len()) as u64));
    g.sample_size(20);
    g.bench_function("workload_all_users_x_all_features", |b| {
        b.iter(|| {
            let mut on = 0usize;
            for attrs in &w.users {
                let user = User::new(attrs);
                for k in &keys {
                    on += usize::from(fs.eval_feature(k, &user).on());
                }
            }
            black_box(on)
        })
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
            b.iter(|| {
                let mut on = 0usize;
                for attrs in users {
                    let user = User::new(attrs);
                    for k in &keys {
                        on += usize::from(fs.eval_feature(k, &user).on());
                    }
                }
                black_box(on)
            })
        });
    }
    g.finish();
}

criterion_group!(benches, workload, scaling);
criterion_main!(benches);
