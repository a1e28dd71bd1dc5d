//! URL targeting: an inline experiment with `urlPatterns` run on a few URLs (`FeatureSet::run`
//! parses the user's URL and each `simple` pattern as Node's `new URL` does, then matches).
#![allow(missing_docs, clippy::unwrap_used, reason = "benchmark")]

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use gb_core::{Experiment, FeatureSet, User};
use serde_json::json;

const URLS: &[&str] = &[
    "https://www.example.com/products/shoes?color=red&size=42#reviews",
    "https://example.com/checkout/",
    "http://blog.example.com/2026/12/a-post?utm_source=news",
    "https://other.test/",
];

fn url_targeting(c: &mut Criterion) {
    let fs = FeatureSet::new();
    let exp = Experiment::from_json(&json!({
        "key": "e", "variations": [0, 1],
        "urlPatterns": [
            {"type": "simple", "pattern": "*.example.com/products/*", "include": true},
            {"type": "simple", "pattern": "example.com/checkout", "include": true},
            {"type": "regex", "pattern": "utm_source=", "include": true},
            {"type": "simple", "pattern": "https://example.com/?preview=*", "include": false},
        ],
    }));
    let attrs = json!({"id": "user-1"});
    let users: Vec<User<'_>> = URLS
        .iter()
        .map(|u| User::new(attrs.as_object().unwrap()).with_url(u))
        .collect();
    let mut g = c.benchmark_group("url");
    g.throughput(Throughput::Elements(users.len() as u64));
    g.bench_function("run_with_url_patterns", |b| {
        b.iter(|| {
            users
                .iter()
                .filter(|u| fs.run(&exp, u).in_experiment)
                .count()
        })
    });
    g.finish();
}

criterion_group!(benches, url_targeting);
criterion_main!(benches);
