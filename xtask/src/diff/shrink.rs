//! Shrinking a differing case and printing it as a ready regression test.

use core::time::Duration;
use std::time::Instant;

use serde_json::{Value, json};

use super::node::Node;
use super::{first_difference, rust};

/// At most this many candidate cases are tried, and for at most this long.
const MAX_TRIES: usize = 4000;
const MAX_TIME: Duration = Duration::from_secs(40);

fn differs(js: &mut Node, case: &Value) -> bool {
    match js.eval(case) {
        Ok(jv) => first_difference(&jv, &rust::eval(case)).0.is_some(),
        Err(_) => false,
    }
}

/// One step into a JSON value.
#[derive(Clone, Debug)]
enum Seg {
    Key(String),
    Index(usize),
}

fn get_mut<'a>(v: &'a mut Value, path: &[Seg]) -> Option<&'a mut Value> {
    path.iter().try_fold(v, |cur, s| match s {
        Seg::Key(k) => cur.get_mut(k.as_str()),
        Seg::Index(i) => cur.get_mut(*i),
    })
}

/// Every path in `v`, parents before children.
fn paths(v: &Value, prefix: &mut Vec<Seg>, out: &mut Vec<Vec<Seg>>) {
    match v {
        Value::Object(m) => {
            for (k, c) in m {
                prefix.push(Seg::Key(k.clone()));
                out.push(prefix.clone());
                paths(c, prefix, out);
                prefix.pop();
            }
        }
        Value::Array(a) => {
            for (i, c) in a.iter().enumerate() {
                prefix.push(Seg::Index(i));
                out.push(prefix.clone());
                paths(c, prefix, out);
                prefix.pop();
            }
        }
        _ => {}
    }
}

/// The candidates for simplifying the value at `path`: removal, then simpler values.
fn candidates(case: &Value, path: &[Seg]) -> Vec<Value> {
    let mut out = Vec::new();
    let (parent_path, last) = path.split_at(path.len() - 1);
    let mut removed = case.clone();
    if let Some(parent) = get_mut(&mut removed, parent_path) {
        match (&last[0], parent) {
            (Seg::Key(k), Value::Object(m)) => {
                m.shift_remove(k);
            }
            (Seg::Index(i), Value::Array(a)) if *i < a.len() => {
                a.remove(*i);
            }
            _ => {}
        }
        out.push(removed);
    }
    let mut at = case.clone();
    if let Some(v) = get_mut(&mut at, path) {
        // Only simplifications that keep the value's type: a shrunk case stays in the
        // grammar the fuzzer generates from.
        let simpler: Vec<Value> = match v {
            Value::String(s) if s.chars().count() > 1 => {
                vec![json!(s.chars().take(1).collect::<String>())]
            }
            _ => vec![],
        };
        for s in simpler {
            let mut c = case.clone();
            if let Some(slot) = get_mut(&mut c, path) {
                *slot = s;
            }
            out.push(c);
        }
    }
    out
}

/// Greedy shrinking: keep any removal or simplification that still differs.
fn shrink(js: &mut Node, mut case: Value) -> Value {
    let start = Instant::now();
    let mut tries = 0;
    'outer: loop {
        let mut all = Vec::new();
        paths(&case, &mut Vec::new(), &mut all);
        for p in all {
            // The batch's own skeleton stays.
            if p.len() < 2 || matches!(&p[..], [Seg::Key(k), Seg::Index(_)] if k == "features") {
                continue;
            }
            for c in candidates(&case, &p) {
                tries += 1;
                if tries > MAX_TRIES || start.elapsed() > MAX_TIME {
                    break 'outer;
                }
                if differs(js, &c) {
                    case = c;
                    continue 'outer;
                }
            }
        }
        break;
    }
    case
}

/// Reduces the batch to the differing pair, shrinks it and prints a regression test.
pub(crate) fn report(js: &mut Node, batch: &Value, user: usize, feature: usize, seed: u64, b: u64) {
    let features = batch["features"].as_array().cloned().unwrap_or_default();
    let one_user = batch["users"][user].clone();
    let single = json!({
        "payload": batch["payload"],
        "features": [features.get(feature).cloned().unwrap_or(Value::Null)],
        "users": [one_user.clone()],
    });
    // Earlier evaluations can matter (sticky documents): keep the prefix if needed.
    let prefix = json!({
        "payload": batch["payload"],
        "features": features[..=feature.min(features.len().saturating_sub(1))],
        "users": [one_user],
    });
    let start = if differs(js, &single) {
        single
    } else if differs(js, &prefix) {
        prefix
    } else {
        println!("(the difference did not reproduce on the single pair; full batch follows)");
        batch.clone()
    };
    let small = shrink(js, start);
    let jv = js.eval(&small).unwrap_or(Value::Null);
    let rv = rust::eval(&small);
    let (pos, _) = first_difference(&jv, &rv);
    let (u, f) = pos.unwrap_or((0, 0));
    println!(
        "shrunk case: {}",
        serde_json::to_string(&small).unwrap_or_default()
    );
    println!("JS SDK 1.8.0: {}", jv["results"][u][f]);
    println!("gb-core:      {}", rv["results"][u][f]);
    if jv["docs"][u] != Value::Null || rv["docs"][u] != Value::Null {
        println!("JS sticky docs:      {}", jv["docs"][u]);
        println!("gb-core sticky docs: {}", rv["docs"][u]);
    }
    println!("\n--- regression test (put it in the crate that owns the behaviour) ---");
    println!("{}", regression_test(&small, u, f, &jv, seed, b));
}

fn regression_test(case: &Value, u: usize, f: usize, jv: &Value, seed: u64, b: u64) -> String {
    let user = &case["users"][u];
    let attrs = match &user["attributes"] {
        Value::Null => json!({}),
        a => a.clone(),
    };
    let feature = case["features"][f].as_str().unwrap_or("");
    let mut user_expr = String::from("gb_core::User::new(attrs.as_object().unwrap())");
    if let Some(url) = user["url"].as_str() {
        user_expr.push_str(&format!(".with_url({url:?})"));
    }
    if user["qaMode"] == json!(true) {
        user_expr.push_str(".with_qa_mode(true)");
    }
    if user["enabled"] == json!(false) {
        user_expr.push_str(".with_enabled(false)");
    }
    let mut setup = String::new();
    for (field, method) in [
        ("forcedVariations", "with_forced_variations"),
        ("forcedFeatures", "with_forced_features"),
    ] {
        if user[field].is_object() {
            setup.push_str(&format!(
                "    let {method} = serde_json::json!({});\n",
                user[field]
            ));
            user_expr.push_str(&format!(".{method}({method}.as_object().unwrap())"));
        }
    }
    format!(
        "/// Found by `cargo xtask diff --seed {seed}` (batch {b}); expected value from the JS SDK 1.8.0.\n\
         #[test]\n\
         fn js_parity_seed_{seed}_batch_{b}() {{\n\
         \x20   let fs = gb_core::FeatureSet::from_json_str(r##\"{payload}\"##).unwrap();\n\
         \x20   let attrs = serde_json::json!({attrs});\n\
         {setup}\
         \x20   let user = {user_expr};\n\
         \x20   let got = fs.eval_feature({feature:?}, &user).to_json();\n\
         \x20   let want = serde_json::json!({want});\n\
         \x20   assert_eq!(got, want);\n\
         }}",
        payload = case["payload"],
        attrs = attrs,
        want = jv["results"][u][f],
    )
}
