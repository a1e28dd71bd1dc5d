//! Reading what the user hands in: payload files, attributes, user lists and sticky-bucket
//! documents, each with an error that names the input and what is wrong with it.

use core::fmt;
use std::path::Path;

use gb_core::{FeatureSet, StickyAssignmentsDocument, StickyBucketDocs};
use gb_transport::{DecryptionKey, Payload};
use serde_json::{Map, Value};

/// A failure the user can fix: printed as `gb: <message>`, exit code 1.
#[derive(Debug)]
pub(crate) struct CliError(pub(crate) String);

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// `CliError(format!(...))`.
macro_rules! err {
    ($($arg:tt)*) => {
        $crate::input::CliError(format!($($arg)*))
    };
}
pub(crate) use err;

/// A compiled payload plus what the output needs from its JSON.
#[derive(Debug)]
pub(crate) struct Loaded {
    /// The compiled features.
    pub(crate) set: FeatureSet,
    /// The feature keys in payload order.
    pub(crate) keys: Vec<String>,
    /// The (decrypted) payload JSON, for showing rule definitions in `explain`.
    pub(crate) json: Value,
}

fn read(path: &Path, what: &str) -> Result<String, CliError> {
    std::fs::read_to_string(path)
        .map_err(|e| err!("cannot read {what} file {}: {e}", path.display()))
}

/// Reads a JSON file; `what` names it in errors ("payload", "users", ...).
pub(crate) fn read_json(path: &Path, what: &str) -> Result<Value, CliError> {
    let text = read(path, what)?;
    serde_json::from_str(&text)
        .map_err(|e| err!("{what} file {} is not valid JSON: {e}", path.display()))
}

/// Loads a payload file: a GrowthBook payload (decrypted with `key` if it has encrypted
/// sections), or a workload file `{payload, users}` whose `payload` is one.
///
/// The text is parsed by gb-core's loader ([`FeatureSet::parse_json`]), so JSON nested too
/// deeply has its deep part cut off (with a warning) instead of failing.
pub(crate) fn load_payload(path: &Path, key: Option<&str>) -> Result<Loaded, CliError> {
    let text = read(path, "payload")?;
    let shown = path.display();
    let mut json = FeatureSet::parse_json(&text)
        .map_err(|e| err!("payload file {shown} is not valid JSON: {e}"))?;
    if !json.is_object() {
        return Err(err!("payload file {shown} is not a JSON object"));
    }
    if json.get("features").is_none() && json.get("payload").is_some_and(Value::is_object) {
        json = json["payload"].take();
    }
    if gb_transport::payload::is_encrypted(&json) {
        let Some(key) = key else {
            return Err(err!(
                "payload file {shown} is encrypted: pass --decryption-key"
            ));
        };
        let key = DecryptionKey::new(key);
        json = Payload::from_value(json, Some(&key))
            .map_err(|e| err!("cannot decrypt payload file {shown}: {e}"))?
            .value()
            .clone();
    }
    let Some(features) = json.get("features").and_then(Value::as_object) else {
        return Err(err!(
            "payload file {shown} has no \"features\" object (is it a GrowthBook payload?)"
        ));
    };
    let keys = features.keys().cloned().collect();
    Ok(Loaded {
        set: FeatureSet::from_owned_value(json.clone()),
        keys,
        json,
    })
}

/// Parses `--attributes`: inline JSON, or `@FILE` to read it from a file. Absent means `{}`.
pub(crate) fn attributes(arg: Option<&str>) -> Result<Map<String, Value>, CliError> {
    let Some(arg) = arg else {
        return Ok(Map::new());
    };
    let value = match arg.strip_prefix('@') {
        Some(file) => read_json(Path::new(file), "attributes")?,
        None => serde_json::from_str(arg)
            .map_err(|e| err!("--attributes is not valid JSON: {e} (use '@FILE' for a file)"))?,
    };
    match value {
        Value::Object(m) => Ok(m),
        other => Err(err!(
            "--attributes must be a JSON object, not {}",
            short(&other, 40)
        )),
    }
}

/// Reads a users file: a JSON array of attribute objects, or a workload file `{users: [...]}`.
pub(crate) fn users(path: &Path) -> Result<Vec<Map<String, Value>>, CliError> {
    let mut json = read_json(path, "users")?;
    if let Some(inner) = json.get_mut("users") {
        json = inner.take();
    }
    let Value::Array(list) = json else {
        return Err(err!(
            "users file {} must be a JSON array of attribute objects",
            path.display()
        ));
    };
    list.into_iter()
        .enumerate()
        .map(|(i, u)| match u {
            Value::Object(m) => Ok(m),
            other => Err(err!(
                "users file {}: user {i} is {}, not an attribute object",
                path.display(),
                short(&other, 40)
            )),
        })
        .collect()
}

/// Reads `--sticky-docs`: a JSON array of `{attributeName, attributeValue, assignments}`.
pub(crate) fn sticky_docs(path: Option<&Path>) -> Result<Option<StickyBucketDocs>, CliError> {
    let Some(path) = path else { return Ok(None) };
    let json = read_json(path, "sticky-docs")?;
    let docs: Vec<StickyAssignmentsDocument> = serde_json::from_value(json).map_err(|e| {
        err!(
            "sticky-docs file {} must be an array of {{attributeName, attributeValue, assignments}}: {e}",
            path.display()
        )
    })?;
    Ok(Some(StickyBucketDocs::from_docs(docs)))
}

/// A JSON value on one line, cut to `max` characters with `…`.
pub(crate) fn short(v: &Value, max: usize) -> String {
    let s = v.to_string();
    if s.chars().count() <= max {
        return s;
    }
    let mut cut: String = s.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}
