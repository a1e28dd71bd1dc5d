//! Condition evaluation on realistic targeting rules, compiled once.
#![allow(missing_docs, clippy::unwrap_used, reason = "benchmark")]

use core::hint::black_box;

use benches::load_workload;
use criterion::{Criterion, criterion_group, criterion_main};
use gb_condition::{Condition, SavedGroups};
use serde_json::json;

fn conditions(c: &mut Criterion) {
    let w = load_workload();
    let groups = SavedGroups::compile(&w.payload["savedGroups"]);
    let cases = [
        ("in", json!({"country": {"$in": ["US", "CA", "GB", "DE"]}})),
        (
            "and_or_not",
            json!({"$and": [{"loggedIn": true}, {"$or": [{"plan": "pro"}, {"age": {"$gte": 30}}]}, {"$not": {"browser": "edge"}}]}),
        ),
        (
            "version",
            json!({"version": {"$vgte": "2.0.0", "$vlt": "5.0.0"}}),
        ),
        (
            "regex",
            json!({"email": {"$regex": "^user[0-9]+@example\\.com$"}}),
        ),
        (
            "elem_match",
            json!({"tags": {"$elemMatch": {"$in": ["beta", "vip"]}}}),
        ),
        ("in_group", json!({"id": {"$inGroup": "grp_beta_testers"}})),
    ];
    let mut g = c.benchmark_group("condition");
    for (name, cond) in cases {
        let compiled = Condition::compile(&cond);
        g.bench_function(name, |b| {
            b.iter(|| {
                let mut n = 0usize;
                for u in &w.users[..100] {
                    n += usize::from(compiled.matches_map(black_box(u), &groups));
                }
                n
            })
        });
    }
    g.finish();
}

criterion_group!(benches, conditions);
criterion_main!(benches);
