//! [`Attributes`]: a user's targeting attributes, built without hand-made JSON maps.

use alloc::string::String;
use core::fmt;

use serde::Serialize;
use serde_json::{Map, Value};

/// A user's attributes (a JSON object), for [`GrowthBook::user`](crate::GrowthBook::user).
///
/// Build them with [`insert`](Self::insert), from a `serde_json` map or object value, or
/// from any `#[derive(Serialize)]` struct with [`from_serialize`](Self::from_serialize):
///
/// ```
/// use gb_sdk::Attributes;
///
/// #[derive(serde::Serialize)]
/// struct Customer<'a> { id: &'a str, country: &'a str, beta: bool }
///
/// let built = Attributes::new().insert("id", "123").insert("country", "NL").insert("beta", true);
/// let derived = Attributes::from_serialize(&Customer { id: "123", country: "NL", beta: true });
/// assert_eq!(derived.as_ref(), Ok(&built));
///
/// let json = Attributes::try_from(serde_json::json!({"id": "123", "country": "NL", "beta": true}));
/// assert_eq!(json, Ok(built));
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Attributes(Map<String, Value>);

impl Attributes {
    /// No attributes.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds (or replaces) an attribute: `Attributes::new().insert("id", "123")`.
    #[must_use]
    pub fn insert(mut self, name: impl Into<String>, value: impl Into<Value>) -> Self {
        self.0.insert(name.into(), value.into());
        self
    }

    /// Adds (or replaces) an attribute in place.
    pub fn set(&mut self, name: impl Into<String>, value: impl Into<Value>) {
        self.0.insert(name.into(), value.into());
    }

    /// The attributes of any value that serializes to a JSON object (a struct or map).
    ///
    /// # Errors
    /// [`AttributesError`] if it does not serialize, or not to an object.
    pub fn from_serialize<T: Serialize + ?Sized>(value: &T) -> Result<Self, AttributesError> {
        match serde_json::to_value(value) {
            Ok(v) => Self::try_from(v),
            Err(e) => Err(AttributesError::Serialize(e.to_string())),
        }
    }

    /// The attribute `name`.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.0.get(name)
    }

    /// How many attributes there are.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The attributes as a JSON map.
    pub fn as_map(&self) -> &Map<String, Value> {
        &self.0
    }

    /// The JSON map.
    pub fn into_map(self) -> Map<String, Value> {
        self.0
    }
}

impl From<Map<String, Value>> for Attributes {
    fn from(m: Map<String, Value>) -> Self {
        Self(m)
    }
}

impl From<&Map<String, Value>> for Attributes {
    fn from(m: &Map<String, Value>) -> Self {
        Self(m.clone())
    }
}

impl From<Attributes> for Map<String, Value> {
    fn from(a: Attributes) -> Self {
        a.0
    }
}

impl From<Attributes> for Value {
    fn from(a: Attributes) -> Self {
        Value::Object(a.0)
    }
}

impl TryFrom<Value> for Attributes {
    type Error = AttributesError;

    fn try_from(v: Value) -> Result<Self, AttributesError> {
        match v {
            Value::Object(m) => Ok(Self(m)),
            other => Err(AttributesError::NotAnObject(
                gb_core::gb_condition::json_kind(&other),
            )),
        }
    }
}

impl<K: Into<String>, V: Into<Value>> FromIterator<(K, V)> for Attributes {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        Self(
            iter.into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        )
    }
}

impl<K: Into<String>, V: Into<Value>> Extend<(K, V)> for Attributes {
    fn extend<I: IntoIterator<Item = (K, V)>>(&mut self, iter: I) {
        self.0
            .extend(iter.into_iter().map(|(k, v)| (k.into(), v.into())));
    }
}

/// Why a value cannot be a user's attributes.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AttributesError {
    /// It serializes to JSON that is not an object (here: which type it is).
    NotAnObject(&'static str),
    /// It does not serialize to JSON (serde's message: a map with non-string keys, a
    /// `Serialize` implementation that fails).
    Serialize(String),
}

impl fmt::Display for AttributesError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotAnObject(t) => write!(f, "attributes must be a JSON object, not {t}"),
            Self::Serialize(e) => write!(f, "attributes do not serialize to JSON: {e}"),
        }
    }
}

impl core::error::Error for AttributesError {}
