//! The remote-evaluation request body: parsed from untrusted bytes into a
//! [`RemoteEvalRequest`](gb_transport::RemoteEvalRequest) (the type the client side sends).

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use gb_transport::RemoteEvalRequest;
use serde_json::{Map, Value};

/// Why a remote-evaluation request was refused (an HTTP 4xx).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum BadRequest {
    /// The path is not `/api/eval/{clientKey}` (404).
    NotFound,
    /// The client key is not one this endpoint serves (404, as the GrowthBook API answers).
    UnknownClientKey,
    /// The method is not `POST` (405).
    MethodNotAllowed,
    /// The body is larger than the endpoint's limit (413).
    TooLarge {
        /// The limit, in bytes.
        limit: usize,
    },
    /// The body could not be read (400).
    Unreadable,
    /// The body is not JSON, or JSON nested too deeply (400).
    NotJson,
    /// The body is JSON but not a JSON object (400).
    NotAnObject,
    /// A field has the wrong type (400).
    Field {
        /// The field: `attributes`, `forcedVariations`, `forcedFeatures` or `url`.
        field: &'static str,
        /// What it must be.
        expected: &'static str,
    },
}

impl BadRequest {
    /// The HTTP status code for this refusal.
    pub fn status(&self) -> u16 {
        match self {
            Self::NotFound | Self::UnknownClientKey => 404,
            Self::MethodNotAllowed => 405,
            Self::TooLarge { .. } => 413,
            Self::Unreadable | Self::NotJson | Self::NotAnObject | Self::Field { .. } => 400,
        }
    }
}

impl fmt::Display for BadRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotFound => {
                f.write_str("not found: remote evaluation is POST /api/eval/{clientKey}")
            }
            Self::UnknownClientKey => f.write_str("unknown client key"),
            Self::MethodNotAllowed => f.write_str("method not allowed: use POST"),
            Self::TooLarge { limit } => write!(f, "request body larger than {limit} bytes"),
            Self::Unreadable => f.write_str("request body could not be read"),
            Self::NotJson => f.write_str("request body is not JSON (or is nested too deeply)"),
            Self::NotAnObject => f.write_str("request body is not a JSON object"),
            Self::Field { field, expected } => write!(f, "`{field}` must be {expected}"),
        }
    }
}

impl core::error::Error for BadRequest {}

/// Parses a remote-evaluation request body. Every field is optional (`null` counts as absent);
/// `forcedFeatures` is the JavaScript SDK's list of `[key, value]` pairs (an object of
/// `key: value` is accepted too). Unknown fields are ignored.
///
/// # Errors
/// A [`BadRequest`] naming what is wrong. Never panics, whatever the bytes: serde_json bounds
/// the nesting depth (128), so a deeply nested body is [`BadRequest::NotJson`].
pub fn parse_request(body: &[u8]) -> Result<RemoteEvalRequest, BadRequest> {
    let value: Value = serde_json::from_slice(body).map_err(|_| BadRequest::NotJson)?;
    let Value::Object(mut map) = value else {
        return Err(BadRequest::NotAnObject);
    };
    let mut take = |field: &'static str| match map.remove(field) {
        None | Some(Value::Null) => None,
        Some(v) => Some(v),
    };
    let object = |field: &'static str, v: Option<Value>| match v {
        None => Ok(Map::new()),
        Some(Value::Object(m)) => Ok(m),
        Some(_) => Err(BadRequest::Field {
            field,
            expected: "an object",
        }),
    };
    let attributes = object("attributes", take("attributes"))?;
    let forced_variations = object("forcedVariations", take("forcedVariations"))?;
    let forced_features = forced_features(take("forcedFeatures"))?;
    let url = match take("url") {
        None => String::new(),
        Some(Value::String(s)) => s,
        Some(_) => {
            return Err(BadRequest::Field {
                field: "url",
                expected: "a string",
            });
        }
    };
    Ok(RemoteEvalRequest {
        attributes,
        forced_variations,
        forced_features,
        url,
    })
}

fn forced_features(v: Option<Value>) -> Result<Vec<(String, Value)>, BadRequest> {
    let bad = BadRequest::Field {
        field: "forcedFeatures",
        expected: "a list of [key, value] pairs",
    };
    match v {
        None => Ok(Vec::new()),
        Some(Value::Object(m)) => Ok(m.into_iter().collect()),
        Some(Value::Array(pairs)) => pairs
            .into_iter()
            .map(|pair| match pair {
                Value::Array(kv) if kv.len() == 2 => {
                    let mut kv = kv.into_iter();
                    match (kv.next(), kv.next()) {
                        (Some(Value::String(k)), Some(v)) => Ok((k, v)),
                        _ => Err(bad.clone()),
                    }
                }
                _ => Err(bad.clone()),
            })
            .collect(),
        Some(_) => Err(bad),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "test")]

    use super::*;

    #[test]
    fn parses_the_js_sdk_body() {
        let r = parse_request(
            br#"{"attributes":{"id":"1"},"forcedVariations":{"e":1},"forcedFeatures":[["f",true]],"url":"https://x/"}"#,
        )
        .unwrap();
        assert_eq!(r.attributes["id"], "1");
        assert_eq!(r.forced_variations["e"], 1);
        assert_eq!(r.forced_features, vec![("f".into(), Value::Bool(true))]);
        assert_eq!(r.url, "https://x/");
        // Round trip with the client side's encoder: one wire format.
        let again = parse_request(r.to_json().to_string().as_bytes()).unwrap();
        assert_eq!(again, r);
    }

    #[test]
    fn every_field_is_optional() {
        let r = parse_request(b"{}").unwrap();
        assert!(r.attributes.is_empty() && r.forced_features.is_empty() && r.url.is_empty());
        assert!(parse_request(br#"{"attributes":null,"url":null}"#).is_ok());
    }

    #[test]
    fn wrong_shapes_are_named() {
        let field = |body: &[u8]| match parse_request(body) {
            Err(BadRequest::Field { field, .. }) => field,
            other => panic!("{other:?}"),
        };
        assert_eq!(field(br#"{"attributes":[]}"#), "attributes");
        assert_eq!(field(br#"{"forcedVariations":1}"#), "forcedVariations");
        assert_eq!(field(br#"{"forcedFeatures":[["a"]]}"#), "forcedFeatures");
        assert_eq!(field(br#"{"forcedFeatures":[[1,2]]}"#), "forcedFeatures");
        assert_eq!(field(br#"{"url":5}"#), "url");
        assert_eq!(parse_request(b"[]"), Err(BadRequest::NotAnObject));
        assert_eq!(parse_request(b"{"), Err(BadRequest::NotJson));
        assert_eq!(parse_request(&[0xff, 0xfe]), Err(BadRequest::NotJson));
        let deep = "[".repeat(100_000);
        assert_eq!(parse_request(deep.as_bytes()), Err(BadRequest::NotJson));
    }
}
