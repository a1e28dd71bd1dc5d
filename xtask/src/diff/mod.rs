//! `cargo xtask diff`: the differential fuzzer against the JavaScript SDK 1.8.0.
//!
//! Each batch is one random payload (features, rules, saved groups, bandits) and a set of
//! random users, generated from a seed; every (user, feature) pair is evaluated by the
//! reference SDK in a long-lived `node` process and by `gb-core`, and the full
//! `FeatureResult`s (and sticky-bucket documents) are compared. On a difference the case is
//! shrunk and printed as a ready regression test, and the command fails.
//!
//! ```text
//! cargo xtask diff [--seconds N] [--seed S] [--pairs P] [--from-batch B] [--features F] [--users U]
//! ```

mod compare;
mod grammar;
mod node;
mod rust;
mod shrink;
mod urls;

use core::time::Duration;
use std::path::Path;
use std::process::ExitCode;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

use compare::{js_threw, same};
use grammar::Gen;

#[derive(Debug)]
struct Options {
    seconds: u64,
    seed: u64,
    pairs: Option<u64>,
    from_batch: u64,
    features: usize,
    users: usize,
}

fn parse(args: &[String]) -> Result<Options, String> {
    let fresh = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(1);
    let mut o = Options {
        seconds: 60,
        seed: fresh % 1_000_000_000,
        pairs: None,
        from_batch: 0,
        features: 24,
        users: 40,
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut val = |name: &str| -> Result<u64, String> {
            it.next()
                .and_then(|v| v.parse().ok())
                .ok_or(format!("{name} needs a number"))
        };
        match a.as_str() {
            "--seconds" => o.seconds = val("--seconds")?,
            "--seed" => o.seed = val("--seed")?,
            "--pairs" => o.pairs = Some(val("--pairs")?),
            "--from-batch" => o.from_batch = val("--from-batch")?,
            "--features" => o.features = val("--features")?.clamp(1, 200) as usize,
            "--users" => o.users = val("--users")?.clamp(1, 1000) as usize,
            other => return Err(format!("unknown option {other}")),
        }
    }
    Ok(o)
}

/// The seed of batch `i` of a run (so one batch can be regenerated alone).
fn batch_seed(seed: u64, i: u64) -> u64 {
    seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ i.wrapping_mul(0xD1B5_4A32_D192_ED03)
}

/// Builds batch `i` of the run with seed `seed`.
/// URL-targeting cases per batch (`urls.rs`).
const URL_CASES: usize = 10;

fn batch(o: &Options, i: u64) -> Value {
    let mut g = Gen::new(batch_seed(o.seed, i), o.features);
    let (payload, features) = g.payload();
    let sticky = g.rng.pct(30);
    let users: Vec<Value> = (0..o.users).map(|_| g.user(sticky)).collect();
    let url_cases = urls::cases(&mut g.rng, URL_CASES);
    json!({"payload": payload, "features": features, "users": users, "urlCases": url_cases})
}

/// The first differing (user, feature) pair of a batch, if any, and how many pairs the
/// reference threw on.
fn first_difference(js: &Value, rs: &Value) -> (Option<(usize, usize)>, u64) {
    let mut threw = 0;
    let empty = Vec::new();
    let jr = js["results"].as_array().unwrap_or(&empty);
    let rr = rs["results"].as_array().unwrap_or(&empty);
    if jr.len() != rr.len() {
        return (Some((0, 0)), threw);
    }
    for (u, (jrow, rrow)) in jr.iter().zip(rr).enumerate() {
        let (Some(jrow), Some(rrow)) = (jrow.as_array(), rrow.as_array()) else {
            return (Some((u, 0)), threw);
        };
        let mut user_threw = false;
        for (f, (j, r)) in jrow.iter().zip(rrow).enumerate() {
            if user_threw && !js["docs"][u].is_null() {
                // With sticky buckets a throw stops the JS SDK half-way through a user's
                // document updates: the user's later pairs are not comparable.
                threw += 1;
                continue;
            }
            if js_threw(j) {
                threw += 1;
                user_threw = true;
                continue;
            }
            if !same(j, r) {
                return (Some((u, f)), threw);
            }
        }
        // A throw leaves the JS documents half-updated: not comparable.
        if !user_threw && !same(&js["docs"][u], &rs["docs"][u]) {
            return (Some((u, jrow.len().saturating_sub(1))), threw);
        }
    }
    (None, threw)
}

/// Runs the fuzzer.
pub(crate) fn main(root: &Path, args: &[String]) -> ExitCode {
    let o = match parse(args) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("error: {e}");
            eprintln!(
                "usage: cargo xtask diff [--seconds N] [--seed S] [--pairs P] [--from-batch B] [--features F] [--users U]"
            );
            return ExitCode::FAILURE;
        }
    };
    if let Err(e) = node::install(root) {
        eprintln!("error: {e}");
        return ExitCode::FAILURE;
    }
    let mut js = match node::Node::start(root) {
        Ok(n) => n,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!(
        "diff: seed {} ({} features x {} users per batch, {} s{})",
        o.seed,
        o.features + 1,
        o.users,
        o.seconds,
        o.pairs
            .map(|p| format!(", up to {p} pairs"))
            .unwrap_or_default()
    );
    let start = Instant::now();
    let deadline = start + Duration::from_secs(o.seconds);
    let mut last_report = start;
    let (mut pairs, mut threw, mut batches) = (0u64, 0u64, o.from_batch);
    let mut url_cases = 0u64;
    while Instant::now() < deadline && o.pairs.is_none_or(|p| pairs < p) {
        let b = batch(&o, batches);
        let jv = match js.eval(&b) {
            Ok(v) => v,
            Err(e) => {
                eprintln!("error: batch {batches}: {e}");
                return ExitCode::FAILURE;
            }
        };
        let rv = rust::eval(&b);
        let (diff, t) = first_difference(&jv, &rv);
        threw += t;
        if let Some((u, f)) = diff {
            println!(
                "DIFFERENCE in batch {batches} of seed {} (user {u}, feature {f}); reproduce with \
                 cargo xtask diff --seed {} --from-batch {batches}",
                o.seed, o.seed
            );
            println!("JS SDK 1.8.0: {}", jv["results"][u][f]);
            println!("gb-core:      {}", rv["results"][u][f]);
            shrink::report(&mut js, &b, u, f, o.seed, batches);
            return ExitCode::FAILURE;
        }
        if let Some(i) = urls::first_difference(&jv["urls"], &rv["urls"]) {
            println!(
                "DIFFERENCE in URL case {i} of batch {batches} of seed {}; reproduce with \
                 cargo xtask diff --seed {} --from-batch {batches}",
                o.seed, o.seed
            );
            urls::report(&b["urlCases"][i], &jv["urls"][i], o.seed, batches);
            return ExitCode::FAILURE;
        }
        batches += 1;
        pairs += (o.users * (o.features + 1)) as u64;
        url_cases += URL_CASES as u64;
        if last_report.elapsed() >= Duration::from_secs(30) {
            last_report = Instant::now();
            let secs = start.elapsed().as_secs_f64();
            println!(
                "diff: {pairs} pairs in {batches} batches, {secs:.0} s ({:.0} pairs/s), no difference",
                pairs as f64 / secs
            );
        }
    }
    println!(
        "diff: seed {}: {pairs} (user, feature) pairs and {url_cases} URL-targeting cases in \
         {batches} batches, {:.1} s: no difference ({threw} pairs where the JS SDK threw were not \
         compared)",
        o.seed,
        start.elapsed().as_secs_f64()
    );
    ExitCode::SUCCESS
}
