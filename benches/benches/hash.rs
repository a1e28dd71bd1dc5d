//! Hashing and variation choice.
#![allow(missing_docs, reason = "benchmark")]

use core::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use gb_core::{bucket::bucket_ranges, bucket::choose_variation, hash::HashVersion, hash::hash};

fn hashing(c: &mut Criterion) {
    let id = "f5057fee-4c3e-f459-02dd-21250b729601";
    c.bench_function("hash_v1", |b| {
        b.iter(|| hash(black_box("exp-checkout"), black_box(id), HashVersion::V1))
    });
    c.bench_function("hash_v2", |b| {
        b.iter(|| hash(black_box("exp-checkout"), black_box(id), HashVersion::V2))
    });
    let ranges = bucket_ranges(3, 0.9, Some(&[0.34, 0.33, 0.33]));
    c.bench_function("hash_v2_and_choose_variation", |b| {
        b.iter(|| {
            let n = hash(black_box("exp-checkout"), black_box(id), HashVersion::V2).unwrap_or(0.0);
            choose_variation(n, &ranges)
        })
    });
}

criterion_group!(benches, hashing);
criterion_main!(benches);
