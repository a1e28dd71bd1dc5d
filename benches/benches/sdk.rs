//! Per-evaluation cost through the gb-sdk client (`client.user(...)` contexts) on the shared
//! workload, next to the same evaluations on gb-core directly, in the same run.
#![allow(missing_docs, clippy::unwrap_used, reason = "benchmark")]

use core::hint::black_box;

use benches::{core_pass, load_workload};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use gb_core::FeatureSet;
use gb_sdk::GrowthBook;
use serde_json::Value;

fn sdk_vs_core(c: &mut Criterion) {
    let w = load_workload();
    let fs = FeatureSet::from_value(&w.payload);
    let keys: Vec<String> = fs.keys().map(String::from).collect();
    let client = GrowthBook::builder()
        .payload(w.payload.clone())
        .build()
        .unwrap();
    let tracked = GrowthBook::builder()
        .payload(w.payload.clone())
        .on_experiment_viewed(|_, r, _| {
            black_box(r.variation_id);
        })
        .build()
        .unwrap();
    let users: Vec<_> = w.users.iter().map(|a| client.user(a.clone())).collect();
    let tracked_users: Vec<_> = w.users.iter().map(|a| tracked.user(a.clone())).collect();

    let mut g = c.benchmark_group("sdk");
    g.throughput(Throughput::Elements((keys.len() * w.users.len()) as u64));
    g.sample_size(20);
    g.bench_function("gb_core_eval_feature_on", |b| {
        b.iter(|| black_box(core_pass(&fs, &w.users, &keys)))
    });
    g.bench_function("sdk_user_is_on", |b| {
        b.iter(|| {
            let mut on = 0usize;
            for user in &users {
                for k in &keys {
                    on += usize::from(user.is_on(k));
                }
            }
            black_box(on)
        })
    });
    g.bench_function("sdk_user_feature_value", |b| {
        b.iter(|| {
            let mut n = 0usize;
            for user in &users {
                for k in &keys {
                    n += usize::from(user.feature_value::<Value>(k, Value::Null).is_null());
                }
            }
            black_box(n)
        })
    });
    g.bench_function("sdk_user_is_on_with_tracking_callback", |b| {
        b.iter(|| {
            let mut on = 0usize;
            for user in &tracked_users {
                for k in &keys {
                    on += usize::from(user.is_on(k));
                }
            }
            black_box(on)
        })
    });
    g.bench_function("sdk_new_user_context_per_user_then_is_on", |b| {
        b.iter(|| {
            let mut on = 0usize;
            for attrs in &w.users {
                let user = client.user(attrs.clone());
                for k in &keys {
                    on += usize::from(user.is_on(k));
                }
            }
            black_box(on)
        })
    });
    g.finish();
}

criterion_group!(benches, sdk_vs_core);
criterion_main!(benches);
