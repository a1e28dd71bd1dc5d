//! `gb eval`: values and sources as a table, as spec-shaped JSON, or in batch for many users.

use core::time::Duration;
use std::io::Write;
use std::time::Instant;

use gb_core::{FeatureResult, FeatureSet, StickyBucketDocs, User};

use crate::input::{self, Loaded, short};
use crate::{EvalArgs, Outcome};

/// Runs `gb eval`.
pub(crate) fn run(a: &EvalArgs, out: &mut impl Write) -> Outcome {
    let loaded = input::load_payload(&a.ctx.payload, a.ctx.decryption_key.as_deref())?;
    let keys = chosen_features(&loaded, &a.features);
    let mut sticky = input::sticky_docs(a.ctx.sticky_docs.as_deref())?;
    let url = a.ctx.url.as_deref().unwrap_or("");
    if let Some(path) = &a.users {
        let users = input::users(path)?;
        return batch(&loaded.set, &keys, &users, url, sticky.as_ref(), out);
    }
    let attrs = input::attributes(a.ctx.attributes.as_deref())?;
    let user = User::new(&attrs).with_url(url);
    let results: Vec<FeatureResult<'_>> = keys
        .iter()
        .map(|k| evaluate(&loaded.set, k, &user, sticky.as_mut()))
        .collect();
    if a.json {
        write_object(out, &keys, &results)?;
        writeln!(out)?;
    } else if a.jsonl {
        for (key, r) in keys.iter().zip(&results) {
            write!(out, "{{\"feature\":")?;
            serde_json::to_writer(&mut *out, key).map_err(std::io::Error::from)?;
            write!(out, ",\"result\":")?;
            serde_json::to_writer(&mut *out, r).map_err(std::io::Error::from)?;
            writeln!(out, "}}")?;
        }
    } else {
        write_table(out, &keys, &results)?;
        if let Some(docs) = sticky.as_mut().filter(|d| d.has_changes()) {
            writeln!(out, "\nsticky buckets to save:")?;
            for doc in docs.take_changed() {
                let line = serde_json::to_string(&doc).unwrap_or_default();
                writeln!(out, "  {line}")?;
            }
        }
    }
    Ok(())
}

/// The features to evaluate: the named ones (warning about unknown names) or all of them.
pub(crate) fn chosen_features<'k>(loaded: &'k Loaded, named: &'k [String]) -> Vec<&'k str> {
    for w in loaded.set.warnings() {
        eprintln!("gb: warning: {w}");
    }
    if named.is_empty() {
        return loaded.keys.iter().map(String::as_str).collect();
    }
    for k in named.iter().filter(|k| !loaded.set.contains(k)) {
        eprintln!("gb: warning: feature {k:?} is not in the payload (source unknownFeature)");
    }
    named.iter().map(String::as_str).collect()
}

/// One evaluation, with sticky bucketing when documents were given.
pub(crate) fn evaluate<'a>(
    fs: &'a FeatureSet,
    key: &str,
    user: &User<'a>,
    sticky: Option<&mut StickyBucketDocs>,
) -> FeatureResult<'a> {
    fs.eval_feature_with(key, user, sticky, &mut ())
}

/// `{"key": FeatureResult, ...}` on one line, without building a JSON tree.
fn write_object(
    out: &mut impl Write,
    keys: &[&str],
    results: &[FeatureResult<'_>],
) -> std::io::Result<()> {
    out.write_all(b"{")?;
    for (i, (key, r)) in keys.iter().zip(results).enumerate() {
        if i > 0 {
            out.write_all(b",")?;
        }
        serde_json::to_writer(&mut *out, key)?;
        out.write_all(b":")?;
        serde_json::to_writer(&mut *out, r)?;
    }
    out.write_all(b"}")
}

/// Evaluates every feature for every user and prints one JSON line per user, in order.
fn batch(
    fs: &FeatureSet,
    keys: &[&str],
    users: &[serde_json::Map<String, serde_json::Value>],
    url: &str,
    sticky: Option<&StickyBucketDocs>,
    out: &mut impl Write,
) -> Outcome {
    let start = Instant::now();
    let mut evaluating = Duration::ZERO;
    let mut results = Vec::with_capacity(keys.len());
    for (i, attrs) in users.iter().enumerate() {
        let user = User::new(attrs).with_url(url);
        let mut docs = sticky.cloned();
        let t = Instant::now();
        results.clear();
        results.extend(keys.iter().map(|k| evaluate(fs, k, &user, docs.as_mut())));
        evaluating += t.elapsed();
        write!(out, "{{\"user\":{i},\"results\":")?;
        write_object(out, keys, &results)?;
        out.write_all(b"}\n")?;
    }
    out.flush()?;
    let n = keys.len() * users.len();
    let per_eval = evaluating.as_nanos() / n.max(1) as u128;
    eprintln!(
        "gb: {n} evaluations ({} features x {} users) in {:.1?}: evaluating {:.1?} ({per_eval} ns each), the rest writing JSON",
        keys.len(),
        users.len(),
        start.elapsed(),
        evaluating,
    );
    Ok(())
}

/// The human table: feature, value, source, rule, and the experiment assignment if any.
fn write_table(
    out: &mut impl Write,
    keys: &[&str],
    results: &[FeatureResult<'_>],
) -> std::io::Result<()> {
    let rows: Vec<[String; 5]> = keys
        .iter()
        .zip(results)
        .map(|(key, r)| {
            [
                (*key).to_owned(),
                short(r.value, 40),
                r.source.as_str().to_owned(),
                r.rule_id.to_owned(),
                experiment_note(r),
            ]
        })
        .collect();
    let header = ["FEATURE", "VALUE", "SOURCE", "RULE", ""].map(String::from);
    let mut widths = [0usize; 4];
    for row in core::iter::once(&header).chain(&rows) {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    for row in core::iter::once(&header).chain(&rows) {
        let mut line = String::new();
        for (w, cell) in widths.iter().zip(row) {
            line.push_str(cell);
            line.extend(core::iter::repeat_n(' ', w - cell.chars().count() + 2));
        }
        line.push_str(&row[4]);
        writeln!(out, "{}", line.trim_end())?;
    }
    Ok(())
}

/// `experiment checkout-test: variation 1 "Treatment", bucket 0.4213` for experiment results.
pub(crate) fn experiment_note(r: &FeatureResult<'_>) -> String {
    let (Some(exp), Some(er)) = (r.experiment, &r.experiment_result) else {
        return String::new();
    };
    let mut s = format!("experiment {}: variation {}", exp.key(), er.variation_id);
    if let Some(name) = er.name {
        s.push_str(&format!(" {name:?}"));
    }
    if let Some(b) = er.bucket {
        s.push_str(&format!(", bucket {b}"));
    }
    if er.sticky_bucket_used {
        s.push_str(", from sticky bucket");
    }
    s
}
