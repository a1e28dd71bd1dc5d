//! One runner per `cases.json` section.

use gb_condition::eval_condition;
use gb_core::{
    Experiment, FeatureSet, StickyAssignmentsDocument, StickyBucketDocs, User,
    bucket::bucket_ranges, bucket::choose_variation, bucket::equal_weights, bucket::in_namespace,
    bucket::query_string_override, hash::HashVersion, hash::hash,
};
use serde_json::{Map, Value, json};

use crate::SectionReport;

/// Every section this harness runs, in table order.
pub const SECTIONS: &[&str] = &[
    "evalCondition",
    "hash",
    "getBucketRange",
    "feature",
    "run",
    "chooseVariation",
    "getQueryStringOverride",
    "inNamespace",
    "getEqualWeights",
    "stickyBucket",
    "urlRedirect",
    "contextualBandit",
    "decrypt",
];

/// Runs one section of the loaded suite.
pub fn run_section(cases: &Value, section: &str) -> SectionReport {
    let mut r = SectionReport::default();
    let Some(list) = cases.get(section).and_then(Value::as_array) else {
        r.failures
            .push(format!("section {section} missing from cases.json"));
        return r;
    };
    for case in list {
        let c = case.as_array().map(Vec::as_slice).unwrap_or(&[]);
        if !cfg!(feature = "regex") && uses_regex(case) {
            r.skipped += 1;
            continue;
        }
        match section {
            "evalCondition" => {
                let groups = c.get(4).cloned().unwrap_or(Value::Null);
                let got = eval_condition(&c[2], &c[1], &groups);
                r.check(name(c), got == c[3].as_bool().unwrap(), || {
                    format!("got {got}")
                });
            }
            "hash" => {
                let v = match c[2].as_f64() {
                    Some(1.0) => HashVersion::V1,
                    Some(2.0) => HashVersion::V2,
                    _ => HashVersion::Unknown,
                };
                let got = hash(c[0].as_str().unwrap(), c[1].as_str().unwrap(), v);
                let want = c[3].as_f64();
                r.check(&format!("{}/{}/{}", c[0], c[1], c[2]), got == want, || {
                    format!("got {got:?}, want {want:?}")
                });
            }
            "getBucketRange" => {
                let args = c[1].as_array().unwrap();
                let n = args[0].as_u64().unwrap() as usize;
                let cov = args[1].as_f64().unwrap();
                let w: Option<Vec<f64>> = args[2]
                    .as_array()
                    .map(|a| a.iter().map(|x| x.as_f64().unwrap()).collect());
                let got = bucket_ranges(n, cov, w.as_deref());
                let want: Vec<(f64, f64)> = c[2]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|p| (p[0].as_f64().unwrap(), p[1].as_f64().unwrap()))
                    .collect();
                let fl = |x: f64| (x * 1e8).floor();
                let ok = got.len() == want.len()
                    && got
                        .iter()
                        .zip(&want)
                        .all(|(a, b)| fl(a.0) == fl(b.0) && fl(a.1) == fl(b.1));
                r.check(name(c), ok, || format!("got {got:?}"));
            }
            "feature" | "contextualBandit" => {
                let (fs, attrs, extra) = context(&c[1]);
                let user = user(&attrs, &extra);
                let got = fs.eval_feature(c[2].as_str().unwrap(), &user).to_json();
                r.check(name(c), got == c[3], || {
                    format!("\n   got  {got}\n   want {}", c[3])
                });
            }
            "run" => {
                let (fs, attrs, extra) = context(&c[1]);
                let user = user(&attrs, &extra);
                let exp = Experiment::from_json(&c[2]);
                let res = fs.run(&exp, &user);
                let got = json!([res.value, res.in_experiment, res.hash_used]);
                let want = json!([c[3], c[4], c[5]]);
                r.check(name(c), got == want, || format!("got {got}, want {want}"));
            }
            "chooseVariation" => {
                let ranges: Vec<(f64, f64)> = c[2]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|p| (p[0].as_f64().unwrap(), p[1].as_f64().unwrap()))
                    .collect();
                let got =
                    choose_variation(c[1].as_f64().unwrap(), &ranges).map_or(-1, |i| i as i64);
                r.check(name(c), got == c[3].as_i64().unwrap(), || {
                    format!("got {got}")
                });
            }
            "getQueryStringOverride" => {
                let got = query_string_override(
                    c[1].as_str().unwrap(),
                    c[2].as_str().unwrap(),
                    c[3].as_u64().unwrap() as usize,
                );
                let want = c[4].as_u64().map(|x| x as usize);
                r.check(name(c), got == want, || format!("got {got:?}"));
            }
            "inNamespace" => {
                let ns = c[2].as_array().unwrap();
                let got = in_namespace(
                    c[1].as_str().unwrap(),
                    ns[0].as_str().unwrap(),
                    ns[1].as_f64().unwrap(),
                    ns[2].as_f64().unwrap(),
                );
                r.check(name(c), got == c[3].as_bool().unwrap(), || {
                    format!("got {got}")
                });
            }
            "getEqualWeights" => {
                let got = equal_weights(c[0].as_i64().unwrap().max(0) as usize);
                let want: Vec<f64> = c[1]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|x| x.as_f64().unwrap())
                    .collect();
                let fl = |x: f64| (x * 1e8).floor();
                let ok =
                    got.len() == want.len() && got.iter().zip(&want).all(|(a, b)| fl(*a) == fl(*b));
                r.check(&format!("getEqualWeights({})", c[0]), ok, || {
                    format!("got {got:?}")
                });
            }
            "stickyBucket" => {
                let (fs, attrs, extra) = context(&c[1]);
                let user = user(&attrs, &extra);
                let (got_result, got_docs) = sticky_case(&fs, &user, &c[2], c[3].as_str().unwrap());
                let ok = got_result == c[4] && got_docs == c[5];
                r.check(name(c), ok, || {
                    format!(
                        "\n   got  {got_result}\n   want {}\n   docs {got_docs}\n   want {}",
                        c[4], c[5]
                    )
                });
            }
            "urlRedirect" => {
                let (fs, attrs, extra) = context(&c[1]);
                let user = user(&attrs, &extra);
                let got: Vec<Value> = fs
                    .url_redirect(&user)
                    .map(|r| {
                        json!({"inExperiment": r.result.in_experiment, "urlRedirect": r.url_redirect, "urlWithParams": r.url_with_params})
                    })
                    .into_iter()
                    .collect();
                let got = Value::Array(got);
                r.check(name(c), got == c[2], || format!("got {got}, want {}", c[2]));
            }
            "decrypt" => {
                let got =
                    gb_transport::decrypt::decrypt(c[1].as_str().unwrap(), c[2].as_str().unwrap())
                        .ok();
                let want = c[3].as_str().map(String::from);
                r.check(name(c), got == want, || {
                    format!("got {got:?}, want {want:?}")
                });
            }
            other => r.failures.push(format!("no runner for section {other}")),
        }
    }
    r
}

/// Whether a case uses a regex operator (`$regex`, `$regexi`) or regex URL targeting.
fn uses_regex(case: &Value) -> bool {
    match case {
        Value::Object(m) => {
            m.keys().any(|k| k == "$regex" || k == "$regexi")
                || m.get("type").and_then(Value::as_str) == Some("regex")
                || m.values().any(uses_regex)
        }
        Value::Array(a) => a.iter().any(uses_regex),
        _ => false,
    }
}

fn name(c: &[Value]) -> &str {
    c.first().and_then(Value::as_str).unwrap_or("?")
}

/// Per-user settings from a spec context.
struct Extra {
    url: String,
    forced_variations: Option<Map<String, Value>>,
    forced_features: Option<Map<String, Value>>,
    qa_mode: bool,
    enabled: bool,
}

fn context(ctx: &Value) -> (FeatureSet, Map<String, Value>, Extra) {
    let payload = json!({
        "features": ctx.get("features").cloned().unwrap_or(json!({})),
        "savedGroups": ctx.get("savedGroups").cloned().unwrap_or(Value::Null),
        "contextualBandits": ctx.get("contextualBandits").cloned().unwrap_or(Value::Null),
        "experiments": ctx.get("experiments").cloned().unwrap_or(Value::Null),
    });
    let fs = FeatureSet::from_value(&payload);
    let attrs = ctx
        .get("attributes")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let extra = Extra {
        url: ctx
            .get("url")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string(),
        forced_variations: ctx
            .get("forcedVariations")
            .and_then(Value::as_object)
            .cloned(),
        forced_features: ctx
            .get("forcedFeatures")
            .and_then(Value::as_object)
            .cloned(),
        qa_mode: ctx.get("qaMode").and_then(Value::as_bool).unwrap_or(false),
        enabled: ctx.get("enabled").and_then(Value::as_bool).unwrap_or(true),
    };
    (fs, attrs, extra)
}

fn user<'a>(attrs: &'a Map<String, Value>, e: &'a Extra) -> User<'a> {
    let mut u = User::new(attrs)
        .with_url(&e.url)
        .with_qa_mode(e.qa_mode)
        .with_enabled(e.enabled);
    if let Some(fv) = &e.forced_variations {
        u = u.with_forced_variations(fv);
    }
    if let Some(ff) = &e.forced_features {
        u = u.with_forced_features(ff);
    }
    u
}

/// Evaluates a sticky-bucket case: the stored documents for the user's identifier attributes
/// are loaded, the feature evaluated, and every document held afterwards returned.
pub(crate) fn sticky_case(
    fs: &FeatureSet,
    user: &User<'_>,
    stored: &Value,
    key: &str,
) -> (Value, Value) {
    let stored: Vec<StickyAssignmentsDocument> = serde_json::from_value(stored.clone()).unwrap();
    let wanted: Vec<String> = fs
        .sticky_bucket_attributes(user)
        .iter()
        .map(|(a, v)| gb_core::sticky::attribute_key(a, v))
        .collect();
    let mut docs =
        StickyBucketDocs::from_docs(stored.into_iter().filter(|d| wanted.contains(&d.key())));
    let res = fs.eval_feature_with(key, user, Some(&mut docs), &mut ());
    let got_result = res
        .experiment_result
        .as_ref()
        .map_or(Value::Null, |r| r.to_json());
    let mut all = Map::new();
    for d in docs.docs() {
        all.insert(d.key(), serde_json::to_value(d).unwrap());
    }
    (got_result, Value::Object(all))
}
