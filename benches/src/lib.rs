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

use core::alloc::{GlobalAlloc, Layout};
use core::sync::atomic::{AtomicUsize, Ordering};
use std::alloc::System;
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

/// The workload with what the gb-sdk comparisons start from: its features compiled by gb-core,
/// their keys, and a gb-sdk client on the same payload.
#[derive(Debug)]
pub struct SdkWorkload {
    /// The workload.
    pub workload: Workload,
    /// Its payload compiled by gb-core.
    pub features: gb_core::FeatureSet,
    /// The feature keys, in table order.
    pub keys: Vec<String>,
    /// A gb-sdk client with the payload installed (no network).
    pub client: gb_sdk::GrowthBook,
}

/// Loads the workload, compiles it and builds a gb-sdk client on it.
pub fn sdk_workload() -> SdkWorkload {
    let workload = load_workload();
    let features = gb_core::FeatureSet::from_value(&workload.payload);
    let keys = features.keys().map(String::from).collect();
    let client = gb_sdk::GrowthBook::builder()
        .payload(workload.payload.clone())
        .build()
        .unwrap();
    SdkWorkload {
        workload,
        features,
        keys,
        client,
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

/// A payload of `n` plain features (a default value and no rules), with booleans, numbers and
/// strings in turn.
pub fn plain_payload(n: usize) -> Value {
    let mut feats = Map::new();
    for i in 0..n {
        let v = match i % 3 {
            0 => Value::Bool(i % 2 == 0),
            1 => Value::from(i),
            _ => Value::from(format!("value-{i}")),
        };
        let mut def = Map::new();
        def.insert("defaultValue".into(), v);
        feats.insert(format!("feature-{i:06}"), Value::Object(def));
    }
    serde_json::json!({ "features": feats })
}

/// A payload of `rules` features, each with one contextual-bandit rule whose bandit has
/// `contexts` leaves (a condition and weights each) and two variations of `variation_bytes`
/// bytes of text each.
pub fn bandit_payload(rules: usize, contexts: usize, variation_bytes: usize) -> Value {
    let mut feats = Map::new();
    let mut bandits = Map::new();
    for r in 0..rules {
        let variations: Vec<Value> = (0..2)
            .map(|v| {
                let unit = format!("r{r}v{v}-");
                Value::from(
                    unit.repeat(variation_bytes / unit.len() + 1)[..variation_bytes].to_string(),
                )
            })
            .collect();
        feats.insert(
            format!("bandit-{r}"),
            serde_json::json!({"defaultValue": "off", "rules": [{
                "key": format!("bandit-exp-{r}"),
                "seed": format!("bandit-exp-{r}"),
                "hashAttribute": "id",
                "hashVersion": 2,
                "coverage": 1,
                "contextualVariations": variations,
                "weights": [0.5, 0.5],
                "meta": [{"key": "0", "name": "Control"}, {"key": "1", "name": "Treatment"}],
                "contextualBanditRef": format!("cb-{r}"),
            }]}),
        );
        let leaves: Vec<Value> = (0..contexts)
            .map(|c| {
                serde_json::json!({
                    "leafId": c,
                    "condition": {"country": format!("C{c}"), "plan": {"$in": ["pro", "team"]}},
                    "weights": [(c % 10) as f64 / 10.0, 1.0 - (c % 10) as f64 / 10.0],
                })
            })
            .collect();
        bandits.insert(
            format!("cb-{r}"),
            serde_json::json!({"banditVersion": 3, "contexts": leaves}),
        );
    }
    serde_json::json!({"features": feats, "contextualBandits": bandits})
}

/// A global allocator that forwards to the system allocator and counts the bytes live now and
/// at their peak, for the memory example and tests (install it with `#[global_allocator]`).
#[derive(Debug)]
pub struct CountingAlloc;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

impl CountingAlloc {
    /// Bytes allocated and not yet freed.
    pub fn live() -> usize {
        LIVE.load(Ordering::SeqCst)
    }

    /// The highest `live()` since the last `reset_peak()`.
    pub fn peak() -> usize {
        PEAK.load(Ordering::SeqCst)
    }

    /// Starts a new peak measurement from the bytes live now.
    pub fn reset_peak() {
        PEAK.store(LIVE.load(Ordering::SeqCst), Ordering::SeqCst);
    }

    fn grow(n: usize) {
        let now = LIVE.fetch_add(n, Ordering::Relaxed) + n;
        PEAK.fetch_max(now, Ordering::Relaxed);
    }

    fn shrink(n: usize) {
        LIVE.fetch_sub(n, Ordering::Relaxed);
    }
}

#[allow(unsafe_code, reason = "a counting global allocator")]
// SAFETY: every call forwards to the system allocator with the caller's arguments; only the
// byte counters are added.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: same contract as the caller's.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            Self::grow(layout.size());
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: same contract as the caller's.
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            Self::grow(layout.size());
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) };
        Self::shrink(layout.size());
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: same contract as the caller's.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            if new_size >= layout.size() {
                Self::grow(new_size - layout.size());
            } else {
                Self::shrink(layout.size() - new_size);
            }
        }
        p
    }
}

/// What loading a payload cost, in bytes of heap.
#[derive(Debug, Clone, Copy)]
pub struct LoadMemory {
    /// The payload's JSON text.
    pub json_bytes: usize,
    /// Heap held by the compiled snapshot after loading.
    pub resident: usize,
    /// The highest heap use while loading, above what was live before it.
    pub peak: usize,
}

/// Loads `text` with `FeatureSet::from_json_str` and measures it. Only meaningful in a binary
/// whose global allocator is [`CountingAlloc`]; the snapshot is returned so the caller decides
/// when it is dropped.
pub fn measure_load(text: &str) -> (gb_core::FeatureSet, LoadMemory) {
    let before = CountingAlloc::live();
    CountingAlloc::reset_peak();
    let fs = gb_core::FeatureSet::from_json_str(text).unwrap();
    let mem = LoadMemory {
        json_bytes: text.len(),
        resident: CountingAlloc::live().saturating_sub(before),
        peak: CountingAlloc::peak().saturating_sub(before),
    };
    (fs, mem)
}
