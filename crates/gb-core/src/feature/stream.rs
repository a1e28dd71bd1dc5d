//! Loading payload text feature by feature: each feature is parsed into a JSON tree of its
//! own, compiled and dropped before the next is read, so loading never holds the whole
//! payload's tree (which costs 10-14 times the text).
//!
//! Two passes over the text: the first keeps `savedGroups` and `contextualBandits` (which
//! compiling a feature needs, wherever they stand in the text) and skips the rest; the second
//! compiles `features` as they are read and keeps `experiments`. Anything the one-tree loader
//! would treat differently (invalid JSON, nesting past serde_json's limit, a repeated
//! top-level or feature key, `features` neither an object nor `null`) makes [`load`] return
//! `None`, and the caller loads through the tree.

use alloc::string::String;
use core::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, Error as _, IgnoredAny, MapAccess, Visitor};
use serde_json::{Map, Value};

use super::{FeatureSet, Loader};
use crate::depth::{MAX_JSON_DEPTH, cut_in_place};

/// Loads `text` feature by feature, or `None` when the one-tree loader must do it.
pub(super) fn load(text: &str) -> Option<FeatureSet> {
    let head = Head::default();
    let mut de = serde_json::Deserializer::from_str(text);
    let mut head = de.deserialize_map(head).ok()?;
    de.end().ok()?;
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
    let body = Body(Features {
        loader: &mut loader,
        bandits: head.bandits.as_ref().and_then(Value::as_object),
    });
    let mut de = serde_json::Deserializer::from_str(text);
    let mut experiments = de.deserialize_map(body).ok()?;
    de.end().ok()?;
    if let Some(e) = &mut experiments {
        cut_in_place(e, MAX_JSON_DEPTH - 1);
    }
    Some(loader.finish(experiments))
}

/// The top-level keys the loader reads.
enum Key {
    Features,
    Experiments,
    SavedGroups,
    Bandits,
    Other,
}

impl<'de> de::Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Key, D::Error> {
        d.deserialize_str(KeyVisitor)
    }
}

struct KeyVisitor;

impl Visitor<'_> for KeyVisitor {
    type Value = Key;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a key")
    }

    fn visit_str<E: de::Error>(self, k: &str) -> Result<Key, E> {
        Ok(match k {
            "features" => Key::Features,
            "experiments" => Key::Experiments,
            "savedGroups" => Key::SavedGroups,
            "contextualBandits" => Key::Bandits,
            _ => Key::Other,
        })
    }
}

/// First pass: what compiling a feature needs, and how often the streamed keys occur.
#[derive(Default)]
struct Head {
    saved_groups: Option<Value>,
    bandits: Option<Value>,
    features: u32,
    experiments: u32,
}

impl<'de> Visitor<'de> for Head {
    type Value = Head;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a payload object")
    }

    fn visit_map<A: MapAccess<'de>>(mut self, mut map: A) -> Result<Head, A::Error> {
        while let Some(k) = map.next_key::<Key>()? {
            match k {
                // A repeated key: the last one counts, as in a parsed tree.
                Key::SavedGroups => self.saved_groups = Some(map.next_value()?),
                Key::Bandits => self.bandits = Some(map.next_value()?),
                Key::Features | Key::Experiments | Key::Other => {
                    match k {
                        Key::Features => self.features += 1,
                        Key::Experiments => self.experiments += 1,
                        _ => {}
                    }
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(self)
    }
}

/// Second pass: compiles `features` as they are read; returns `experiments`.
struct Body<'l, 'b>(Features<'l, 'b>);

impl<'de> Visitor<'de> for Body<'_, '_> {
    type Value = Option<Value>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a payload object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Option<Value>, A::Error> {
        let mut experiments = None;
        while let Some(k) = map.next_key::<Key>()? {
            match k {
                Key::Features => map.next_value_seed(Features {
                    loader: &mut *self.0.loader,
                    bandits: self.0.bandits,
                })?,
                Key::Experiments => experiments = Some(map.next_value()?),
                Key::SavedGroups | Key::Bandits | Key::Other => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(experiments)
    }
}

/// The `features` object, compiled one feature at a time.
struct Features<'l, 'b> {
    loader: &'l mut Loader,
    bandits: Option<&'b Map<String, Value>>,
}

impl<'de> DeserializeSeed<'de> for Features<'_, '_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Features<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object of features")
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<String>()? {
            let mut def: Value = map.next_value()?;
            cut_in_place(&mut def, MAX_JSON_DEPTH - 2);
            if !self.loader.feature(&key, def, self.bandits) {
                return Err(A::Error::custom("a feature key is repeated"));
            }
        }
        Ok(())
    }
}
