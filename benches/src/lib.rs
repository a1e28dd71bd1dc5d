//! Shared helpers for the benchmarks: the workload from `../shared/bench/workload.json` and
//! synthetic payloads of any size made from it.
//!
//! ```
//! use serde_json::json;
//!
//! let base = json!({"features": {"a": {"defaultValue": 1}, "b": {"defaultValue": 2}}});
//! let big = benches::scaled_payload(&base, 5);
//! assert_eq!(big["features"].as_object().unwrap().len(), 5);
//! assert!(big["features"].get("a~1").is_some());
//! ```
#![allow(clippy::unwrap_used, reason = "benchmark setup")]

use std::path::PathBuf;

use serde_json::{Map, Value};

/// The shared workload: `{payload, users}`.
#[derive(Debug)]
pub struct Workload {
    /// The features endpoint payload (200 features).
    pub payload: Value,
    /// 1000 attribute sets.
    pub users: Vec<Map<String, Value>>,
}

/// Where the workload is read from: `GB_BENCH_WORKLOAD`, else `../shared/bench/workload.json`.
pub fn workload_path() -> PathBuf {
    if let Ok(p) = std::env::var("GB_BENCH_WORKLOAD") {
        return PathBuf::from(p);
    }
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/bench/workload.json")
}

/// Loads the workload.
pub fn load_workload() -> Workload {
    let p = workload_path();
    let text = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    let v: Value = serde_json::from_str(&text).unwrap();
    let users = v["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u.as_object().unwrap().clone())
        .collect();
    Workload {
        payload: v["payload"].clone(),
        users,
    }
}

/// One pass of the unit of work through gb-core: every feature in `keys` for every user.
/// Returns how many were on (so the work cannot be optimised away).
pub fn core_pass(fs: &gb_core::FeatureSet, users: &[Map<String, Value>], keys: &[String]) -> usize {
    let mut on = 0usize;
    for attrs in users {
        let user = gb_core::User::new(attrs);
        for k in keys {
            on += usize::from(fs.eval_feature(k, &user).on());
        }
    }
    on
}

/// A payload with `n` features, made by repeating the workload's features under new keys
/// (prerequisite references are renamed along, so every copy is self-contained).
pub fn scaled_payload(base: &Value, n: usize) -> Value {
    let feats = base["features"].as_object().unwrap();
    let keys: Vec<&String> = feats.keys().collect();
    let mut out = Map::new();
    let mut i = 0;
    while out.len() < n {
        let copy = i / keys.len();
        let k = keys[i % keys.len()];
        let mut def = feats[k].clone();
        if copy > 0 {
            rename_parents(&mut def, copy);
        }
        let key = if copy == 0 {
            k.clone()
        } else {
            format!("{k}~{copy}")
        };
        out.insert(key, def);
        i += 1;
    }
    let mut p = base.clone();
    p["features"] = Value::Object(out);
    p
}

fn rename_parents(def: &mut Value, copy: usize) {
    if let Some(rules) = def.get_mut("rules").and_then(Value::as_array_mut) {
        for r in rules {
            if let Some(pcs) = r.get_mut("parentConditions").and_then(Value::as_array_mut) {
                for pc in pcs {
                    if let Some(Value::String(id)) = pc.get_mut("id") {
                        *id = format!("{id}~{copy}");
                    }
                }
            }
        }
    }
}
