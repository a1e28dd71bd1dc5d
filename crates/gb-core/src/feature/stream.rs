//! Loading payload text feature by feature: each feature is parsed into a JSON tree of its
//! own, compiled and dropped before the next is read, so loading never holds the whole
//! payload's tree (which costs 10-14 times the text).
//!
//! Two passes over the text: the first keeps `savedGroups` and `contextualBandits` (which
//! compiling a feature needs, wherever they stand in the text) and skips the rest; the second
//! compiles `features` as they are read and keeps `experiments`. Anything the one-tree loader
//! would treat differently (invalid JSON, nesting past serde_json's limit, a repeated
//! top-level or feature key, `features` not an object) makes [`load`] return
//! `None`, and the caller loads through the tree.

use alloc::string::String;
use core::fmt;

use serde::de::{DeserializeSeed, Deserializer, Error as _, IgnoredAny, MapAccess, Visitor};
use serde_json::{Map, Value};

use super::{FeatureSet, Loader};
use crate::depth::{MAX_JSON_DEPTH, cut_in_place};

/// Loads `text` feature by feature, or `None` when the one-tree loader must do it.
pub(super) fn load(text: &str) -> Option<FeatureSet> {
    let mut head = pass(text, None)?;
    if head.features > 1 || head.experiments > 1 {
        return None;
    }
    // Every part is cut at the depth limit as it would be in the whole tree (the top-level
    // sections stand one level down, features two).
    for v in [&mut head.saved_groups, &mut head.bandits]
        .into_iter()
        .flatten()
    {
        cut_in_place(v, MAX_JSON_DEPTH - 1);
    }
    let mut loader = Loader::new(head.saved_groups.as_ref().unwrap_or(&Value::Null));
    let bandits = head.bandits.as_ref().and_then(Value::as_object);
    let mut body = pass(text, Some((&mut loader, bandits)))?;
    if let Some(e) = &mut body.experiment_list {
        cut_in_place(e, MAX_JSON_DEPTH - 1);
    }
    Some(loader.finish(body.experiment_list))
}

/// What compiling features needs: the loader and the payload's contextual bandits.
type Compile<'l, 'b> = (&'l mut Loader, Option<&'b Map<String, Value>>);

/// One pass over the payload object: without a loader (the first pass) it keeps the sections
/// compiling a feature needs and counts the streamed keys; with one (the second) it compiles
/// `features` as they are read and keeps `experiments`.
fn pass(text: &str, compile: Option<Compile<'_, '_>>) -> Option<Found> {
    let mut de = serde_json::Deserializer::from_str(text);
    let found = de.deserialize_map(Pass { compile }).ok()?;
    de.end().ok()?;
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

struct Pass<'l, 'b> {
    compile: Option<Compile<'l, 'b>>,
}

impl<'de> Visitor<'de> for Pass<'_, '_> {
    type Value = Found;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a payload object")
    }

    fn visit_map<A: MapAccess<'de>>(mut self, mut map: A) -> Result<Found, A::Error> {
        let mut found = Found::default();
        while let Some(k) = map.next_key::<String>()? {
            match (k.as_str(), &mut self.compile) {
                ("features", Some((loader, bandits))) => map.next_value_seed(Features {
                    loader,
                    bandits: *bandits,
                })?,
                ("experiments", Some(_)) => found.experiment_list = Some(map.next_value()?),
                // A repeated key: the last one counts, as in a parsed tree.
                ("savedGroups", None) => found.saved_groups = Some(map.next_value()?),
                ("contextualBandits", None) => found.bandits = Some(map.next_value()?),
                (k, compile) => {
                    if compile.is_none() {
                        found.features += u32::from(k == "features");
                        found.experiments += u32::from(k == "experiments");
                    }
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(found)
    }
}

/// The `features` object, compiled one feature at a time.
struct Features<'p, 'l, 'b> {
    loader: &'p mut &'l mut Loader,
    bandits: Option<&'b Map<String, Value>>,
}

impl<'de> DeserializeSeed<'de> for Features<'_, '_, '_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Features<'_, '_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object of features")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<String>()? {
            let mut def: Value = map.next_value()?;
            cut_in_place(&mut def, MAX_JSON_DEPTH - 2);
            if !self.loader.feature(&key, def, self.bandits) {
                return Err(A::Error::custom("a feature key is repeated"));
            }
        }
        if self.loader.keys_repeated() {
            return Err(A::Error::custom("a feature key is repeated"));
        }
        Ok(())
    }
}
