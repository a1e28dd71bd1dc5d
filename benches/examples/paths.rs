//! One evaluation path over the shared workload (1000 users x 200 features, twice), for
//! counting instructions per evaluation with callgrind, which a busy shared machine does not
//! disturb the way it disturbs criterion's timings:
//!
//! ```text
//! cargo build --release -p benches --example paths
//! for p in none core core-clone sdk-feature-value sdk-eval-feature core-on sdk-is-on; do
//!   valgrind --tool=callgrind --callgrind-out-file=/tmp/cg.$p target/release/examples/paths $p
//! done
//! ```
//!
//! Subtract `none` (loading only) and divide by 400,000 evaluations. Instruction counts are
//! not time (allocation-heavy code runs at a higher rate): the criterion bench `sdk` gives the
//! figures; this shows where a path's extra instructions are (`callgrind_annotate`).
#![allow(missing_docs, clippy::unwrap_used, reason = "example")]

use core::hint::black_box;

use serde_json::Value;

fn main() {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!(
            "usage: paths none|core|core-clone|core-on|sdk-feature-value|sdk-eval-feature|sdk-is-on"
        );
        std::process::exit(2);
    };
    let benches::SdkWorkload {
        workload: w,
        features: fs,
        keys,
        client,
    } = benches::sdk_workload();
    let users: Vec<_> = w.users.iter().map(|a| client.user(a.clone())).collect();
    let mut n = 0usize;
    for _ in 0..2 {
        for (attrs, user) in w.users.iter().zip(&users) {
            let core_user = gb_core::User::new(attrs);
            for k in &keys {
                n += match path.as_str() {
                    "none" => 0,
                    "core" => black_box(&fs.eval_feature(k, &core_user)).rule_id.len(),
                    "core-clone" => {
                        usize::from(fs.eval_feature(k, &core_user).value.clone().is_null())
                    }
                    "core-on" => usize::from(fs.eval_feature(k, &core_user).on()),
                    "sdk-feature-value" => {
                        usize::from(user.feature_value::<Value>(k, Value::Null).is_null())
                    }
                    "sdk-eval-feature" => black_box(&user.eval_feature(k)).rule_id().len(),
                    "sdk-is-on" => usize::from(user.is_on(k)),
                    other => {
                        eprintln!("unknown path {other}");
                        std::process::exit(2);
                    }
                };
            }
        }
    }
    black_box(n);
}
