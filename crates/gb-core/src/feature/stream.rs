//! Loading payload text feature by feature: each feature is parsed into a JSON tree of its
//! own, compiled and dropped before the next is read, so loading never holds the whole
//! payload's tree (which costs 10-14 times the text).
//!
//! Two passes over the text: the first keeps `savedGroups` and `contextualBandits` (which
//! compiling a feature needs, wherever they stand in the text) and skips the rest; the second
//! compiles `features` as they are read and keeps `experiments`. Anything the one-tree loader
//! would treat differently (invalid JSON, a repeated top-level or feature key, `features` not
//! an object) makes [`load`] return
//! `None`, and the caller loads through the tree.

use alloc::string::String;

use serde_json::{Map, Value};

use super::{FeatureSet, Loader};
use crate::depth::MAX_JSON_DEPTH;
use crate::json::Reader;

/// Loads `text` feature by feature, or `None` when the one-tree loader must do it.
pub(super) fn load(text: &str) -> Option<FeatureSet> {
    let head = pass(text, None)?;
    if head.features > 1 || head.experiments > 1 {
        return None;
    }
    let mut loader = Loader::new(head.saved_groups.as_ref().unwrap_or(&Value::Null));
    let bandits = head.bandits.as_ref().and_then(Value::as_object);
    let body = pass(text, Some((&mut loader, bandits)))?;
    Some(loader.finish(body.experiment_list))
}

/// What compiling features needs: the loader and the payload's contextual bandits.
type Compile<'l, 'b> = (&'l mut Loader, Option<&'b Map<String, Value>>);

/// One pass over the payload object: without a loader (the first pass) it keeps the sections
/// compiling a feature needs and counts the streamed keys; with one (the second) it compiles
/// `features` as they are read and keeps `experiments`. Every part is cut at the depth limit
/// as it would be in the whole tree (the top-level sections stand one level down).
fn pass(text: &str, mut compile: Option<Compile<'_, '_>>) -> Option<Found> {
    let mut r = Reader::new(text);
    if !r.object_start() {
        return None;
    }
    let mut found = Found::default();
    let mut first = true;
    while let Some(k) = r.next_key(first).ok()? {
        first = false;
        let section = MAX_JSON_DEPTH - 1;
        match (k.as_str(), &mut compile) {
            ("features", Some((loader, bandits))) => features(&mut r, loader, *bandits)?,
            ("experiments", Some(_)) => found.experiment_list = Some(r.value(section).ok()?),
            // A repeated key: the last one counts, as in a parsed tree.
            ("savedGroups", None) => found.saved_groups = Some(r.value(section).ok()?),
            ("contextualBandits", None) => found.bandits = Some(r.value(section).ok()?),
            (k, compile) => {
                if compile.is_none() {
                    found.features += u32::from(k == "features");
                    found.experiments += u32::from(k == "experiments");
                }
                r.skip().ok()?;
            }
        }
    }
    r.end().ok()?;
    Some(found)
}

#[derive(Default)]
struct Found {
    saved_groups: Option<Value>,
    bandits: Option<Value>,
    experiment_list: Option<Value>,
    features: u32,
    experiments: u32,
}

/// The `features` object, compiled one feature at a time (each definition stands two levels
/// down); `None` if it is not an object or a key repeats (the tree decides those).
fn features(
    r: &mut Reader<'_>,
    loader: &mut Loader,
    bandits: Option<&Map<String, Value>>,
) -> Option<()> {
    if !r.object_start() {
        return None;
    }
    let mut first = true;
    while let Some(key) = r.next_key(first).ok()? {
        first = false;
        let def = r.value(MAX_JSON_DEPTH - 2).ok()?;
        if !loader.feature(&key, def, bandits) {
            return None;
        }
    }
    (!loader.keys_repeated()).then_some(())
}
