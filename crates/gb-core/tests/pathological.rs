//! Hostile payloads (issue 17), rebuilt at ten times the depth or size the issue reports:
//! each loads and evaluates in under 50 ms per evaluation and under 200 MB, or is refused with
//! a warning while the rest of the payload works. Memory is measured with a counting global
//! allocator (peak live bytes), time per evaluation with a clock. The margins are generous:
//! without the bounds these take hours (2^63 evaluations) or overflow the stack.
#![allow(clippy::unwrap_used, reason = "tests unwrap")]

mod attacks;
mod peak;

use core::sync::atomic::Ordering;
use core::time::Duration;
use std::time::Instant;

use peak::{LIVE, PEAK, SERIAL};

use gb_core::{FeatureResult, FeatureSet, FeatureSource, Observer, User};
use serde_json::{Map, Value, json};

/// 50 ms per evaluation, measured on optimized code (`cargo test --release`); unoptimized
/// test builds run about ten times slower and get five times the margin.
const MAX_EVAL: Duration = Duration::from_millis(if cfg!(debug_assertions) { 250 } else { 50 });
const MAX_BYTES: usize = 200 << 20;

/// Runs `f`, asserting the peak memory above what was live before stays under 200 MB.
fn bounded<T>(what: &str, f: impl FnOnce() -> T) -> T {
    let base = LIVE.load(Ordering::SeqCst);
    PEAK.store(base, Ordering::SeqCst);
    let out = f();
    let peak = PEAK.load(Ordering::SeqCst) - base;
    println!("{what}: peak {:.1} MB", peak as f64 / 1e6);
    assert!(peak < MAX_BYTES, "{what}: {peak} bytes at peak");
    out
}

/// Evaluates `key` three times, asserting the fastest takes under 50 ms: the unbounded
/// versions of these payloads take seconds to years, and the minimum of three keeps a busy
/// machine (CI runs test binaries side by side) from failing a bounded one.
fn eval<'a>(fs: &'a FeatureSet, key: &str, user: &User<'a>) -> FeatureResult<'a> {
    let mut fastest = Duration::MAX;
    let mut last = None;
    for _ in 0..3 {
        let t = Instant::now();
        let r = fs.eval_feature(key, user);
        let took = t.elapsed();
        println!("{key}: {took:?} ({})", r.source.as_str());
        fastest = fastest.min(took);
        last = Some(r);
    }
    assert!(
        fastest < MAX_EVAL,
        "evaluating {key} took {fastest:?} at best"
    );
    last.unwrap()
}

fn attrs(v: Value) -> Map<String, Value> {
    v.as_object().unwrap().clone()
}

fn load(payload: &Value) -> FeatureSet {
    let t = Instant::now();
    let fs = FeatureSet::from_value(payload);
    println!("loaded in {:?}", t.elapsed());
    fs
}

#[derive(Default)]
struct CountUsage(usize);

impl Observer<'_> for CountUsage {
    fn on_feature_usage(&mut self, _: &str, _: &FeatureResult<'_>) {
        self.0 += 1;
    }
}

#[test]
fn a_prerequisite_dag_as_deep_as_allowed_is_linear() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    // Depth 64 is the most a chain may have; each level doubles the work without memory.
    let fs = load(&attacks::prerequisite_dag(
        gb_core::limits::MAX_PREREQUISITE_DEPTH,
    ));
    let a = attrs(json!({"id": "u1"}));
    let user = User::new(&a);
    bounded("prerequisite DAG, depth 64", || {
        let r = eval(&fs, "f0", &user);
        assert_eq!((r.value, r.source), (&json!(true), FeatureSource::Force));
        let mut usage = CountUsage::default();
        fs.eval_feature_with("f0", &user, None, &mut usage);
        assert_eq!(usage.0, 64, "one usage report per feature");
    });
}

#[test]
fn a_prerequisite_dag_ten_times_deeper_is_refused_with_a_warning() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let fs = load(&attacks::prerequisite_dag(400));
    assert!(
        fs.warnings()
            .iter()
            .any(|w| w.to_string().contains("chain 399 deep")),
        "{:?}",
        fs.warnings()
    );
    let a = attrs(json!({"id": "u1"}));
    let user = User::new(&a);
    bounded("prerequisite DAG, depth 400", || {
        let r = eval(&fs, "f0", &user);
        assert_eq!(
            (r.value, r.source),
            (&Value::Null, FeatureSource::CyclicPrerequisite)
        );
        assert_eq!(eval(&fs, "plain", &user).value, &json!("works"));
    });
}

#[test]
fn experiment_prerequisites_are_remembered_too() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let fs = load(&attacks::experiment_prerequisite_dag(
        gb_core::limits::MAX_PREREQUISITE_DEPTH,
    ));
    let a = attrs(json!({"id": "u1"}));
    let user = User::new(&a);
    bounded("experiment prerequisite DAG, depth 64", || {
        let r = eval(&fs, "f0", &user);
        assert_eq!(
            (r.value, r.source),
            (&json!(false), FeatureSource::DefaultValue)
        );
    });
}

#[test]
fn the_work_budget_stops_what_memory_cannot() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    // A cycle in the graph makes results path-dependent: they are not remembered, and only the
    // budget stops 2^60 evaluations.
    let fs = load(&attacks::prerequisite_dag_with_dead_cycle(60));
    assert!(
        fs.warnings()
            .iter()
            .any(|w| w.to_string().contains("form a cycle")),
        "{:?}",
        fs.warnings()
    );
    let a = attrs(json!({"id": "u1"}));
    let user = User::new(&a);
    bounded("prerequisite DAG with a cycle, depth 60", || {
        let r = eval(&fs, "f0", &user);
        assert_eq!(
            (r.value, r.source),
            (&Value::Null, FeatureSource::EvaluationLimit)
        );
        assert_eq!(r.source.as_str(), "evaluationLimit");
        assert_eq!(eval(&fs, "plain", &user).value, &json!("works"));
        // Near the bottom the work fits the budget: the value is exact.
        let r = eval(&fs, "f50", &user);
        assert_eq!((r.value, r.source), (&json!(true), FeatureSource::Force));
    });
}

#[test]
fn a_saved_group_dag_as_deep_as_allowed_is_linear() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let fs = load(&attacks::saved_group_dag(32));
    assert!(fs.warnings().is_empty(), "{:?}", fs.warnings());
    let us = attrs(json!({"id": "u1", "country": "US"}));
    let fr = attrs(json!({"id": "u2", "country": "FR"}));
    bounded("saved-group DAG, depth 32", || {
        assert_eq!(eval(&fs, "grouped", &User::new(&us)).value, &json!(true));
        assert_eq!(eval(&fs, "grouped", &User::new(&fr)).value, &json!(false));
    });
}

#[test]
fn a_saved_group_dag_ten_times_deeper_is_refused_with_a_warning() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let fs = load(&attacks::saved_group_dag(310));
    assert!(
        fs.warnings()
            .iter()
            .any(|w| w.to_string().contains("\"g0\"") && w.to_string().contains("310 groups deep")),
        "{:?}",
        fs.warnings()
    );
    let us = attrs(json!({"id": "u1", "country": "US"}));
    bounded("saved-group DAG, depth 310", || {
        let user = User::new(&us);
        assert_eq!(eval(&fs, "grouped", &user).value, &json!(false));
        assert_eq!(eval(&fs, "plain", &user).value, &json!("works"));
    });
}

#[test]
fn set_operators_with_large_operands_are_not_quadratic() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    // Ten times the 10,000 x 10,000.
    let n = 100_000;
    let fs = load(&attacks::large_sets(n));
    let a = attacks::large_set_attributes(n);
    let user = User::new(&a);
    bounded("$all and $in, 100,000 x 100,000", || {
        assert_eq!(eval(&fs, "all", &user).value, &json!(true));
        // 100,000 zeros against 100,000 nonzero numbers.
        assert_eq!(eval(&fs, "in", &user).value, &json!(false));
    });
    let mut missing = a.clone();
    missing["tags"].as_array_mut().unwrap().pop();
    assert_eq!(eval(&fs, "all", &User::new(&missing)).value, &json!(false));
}

#[test]
fn deep_literals_built_in_code_are_refused_without_overflowing() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    // Ten times the 10,000 levels.
    let depth = 100_000;
    bounded("deep literal, 100,000 levels", || {
        let literal = attacks::nested_object(depth);
        let mut cond = json!({"profile": null});
        cond["profile"] = literal;
        let mut w = Vec::new();
        let c = gb_condition::Condition::compile_with_warnings(&cond, &mut w);
        assert!(!c.is_valid());
        assert!(
            w.iter().any(|w| w.to_string().contains("nests deeper")),
            "{w:?}"
        );
        attacks::drop_flat(cond);

        let payload = attacks::deep_literal_payload(depth);
        let fs = FeatureSet::from_value(&payload);
        let owned = FeatureSet::from_owned_value(attacks::deep_literal_payload(depth));
        attacks::drop_flat(payload);
        for fs in [&fs, &owned] {
            assert!(
                fs.warnings()
                    .iter()
                    .any(|w| w.to_string().contains("\"deep\"")),
                "{:?}",
                fs.warnings()
            );
            let a = attrs(json!({"id": "u1", "profile": {"a": 1}}));
            let user = User::new(&a);
            let r = eval(fs, "deep", &user);
            assert_eq!(r.source, FeatureSource::DefaultValue);
            assert_eq!(eval(fs, "plain", &user).value, &json!("works"));
        }
        // A deep attribute: `String(value)` and sticky keys stop at the depth limit.
        let mut deep_attrs = Map::new();
        deep_attrs.insert("id".into(), attacks::nested_array(depth));
        deep_attrs.insert("profile".into(), attacks::nested_array(depth));
        {
            let user = User::new(&deep_attrs);
            assert_eq!(eval(&fs, "deep", &user).source, FeatureSource::DefaultValue);
            // Compared as `String(value)`, and hashed into a sticky-bucket key.
            let targeted = FeatureSet::from_value(&json!({"features": {
                "t": {"defaultValue": 0, "rules": [{"condition": {"profile": "a"}, "force": 1}]},
                "e": {"defaultValue": 0, "rules": [{"key": "e", "variations": [0, 1]}]}
            }}));
            assert_eq!(
                eval(&targeted, "t", &user).source,
                FeatureSource::DefaultValue
            );
            let mut docs = gb_core::StickyBucketDocs::new();
            let r = targeted.eval_feature_with("e", &user, Some(&mut docs), &mut ());
            assert_eq!(r.source, FeatureSource::Experiment);
        }
        attacks::drop_flat(Value::Object(deep_attrs));
    });
}
