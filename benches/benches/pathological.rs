//! The hostile payloads of issue 17 at ten times the size (or as deep as allowed),
//! built by the same code as `crates/gb-core/tests/pathological.rs`: one evaluation each.
#![allow(missing_docs, clippy::unwrap_used, reason = "benchmark")]

#[path = "../../crates/gb-core/tests/attacks/mod.rs"]
mod attacks;

use core::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use gb_core::{FeatureSet, User};
use serde_json::{Map, Value, json};

fn bench_eval(
    c: &mut Criterion,
    name: &str,
    payload: &Value,
    key: &str,
    attrs: &Map<String, Value>,
) {
    let fs = FeatureSet::from_value(payload);
    let user = User::new(attrs);
    c.bench_function(name, |b| {
        b.iter(|| black_box(fs.eval_feature(key, &user).source))
    });
}

fn pathological(c: &mut Criterion) {
    let plain = json!({"id": "u1", "country": "US"});
    let plain = plain.as_object().unwrap();
    bench_eval(
        c,
        "prerequisite_dag_depth_64",
        &attacks::prerequisite_dag(64),
        "f0",
        plain,
    );
    bench_eval(
        c,
        "prerequisite_dag_depth_400_refused",
        &attacks::prerequisite_dag(400),
        "f0",
        plain,
    );
    bench_eval(
        c,
        "prerequisite_dag_with_cycle_budget",
        &attacks::prerequisite_dag_with_dead_cycle(60),
        "f0",
        plain,
    );
    bench_eval(
        c,
        "saved_group_dag_depth_32",
        &attacks::saved_group_dag(32),
        "grouped",
        plain,
    );
    bench_eval(
        c,
        "saved_group_dag_depth_310_refused",
        &attacks::saved_group_dag(310),
        "grouped",
        plain,
    );
    let sets = attacks::large_sets(100_000);
    let set_attrs = attacks::large_set_attributes(100_000);
    bench_eval(c, "all_100k_x_100k", &sets, "all", &set_attrs);
    bench_eval(c, "in_100k_zeros_x_100k", &sets, "in", &set_attrs);
    c.bench_function("load_deep_literal_100k_levels", |b| {
        b.iter_batched(
            || attacks::deep_literal_payload(100_000),
            |p| {
                let fs = FeatureSet::from_owned_value(p);
                black_box(fs.len())
            },
            criterion::BatchSize::LargeInput,
        )
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20);
    targets = pathological
}
criterion_main!(benches);
