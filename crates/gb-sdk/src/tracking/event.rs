//! [`TrackedEvent`]: one event as the tracking plugin queues it, and its ingestor payload.

use alloc::string::String;

use gb_core::gb_condition::is_truthy;
use serde_json::{Map, Value};

use crate::js_string::js_string;

/// The `sdk_language` of every event payload.
pub(super) const SDK_LANGUAGE: &str = "rust";

/// One event, as the tracking plugin queues it.
#[derive(Debug, Clone, PartialEq)]
pub struct TrackedEvent {
    /// `"Experiment Viewed"`, `"Feature Evaluated"`, or a custom name.
    pub name: String,
    /// The event's properties.
    pub properties: Map<String, Value>,
    /// The user's attributes.
    pub attributes: Map<String, Value>,
    /// The user's URL.
    pub url: String,
}

/// Attributes promoted to top-level payload fields (and left out of `context_json`).
pub(super) const PROMOTED: [&str; 12] = [
    "user_id",
    "device_id",
    "anonymous_id",
    "id",
    "page_id",
    "session_id",
    "utmCampaign",
    "utmContent",
    "utmMedium",
    "utmSource",
    "utmTerm",
    "pageTitle",
];

/// A string attribute as the ingestor wants it; numbers are stringified (ids often are numbers).
pub(super) fn id_string(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) => Some(s.clone()),
        n @ Value::Number(_) => Some(js_string(n).into_owned()),
        _ => None,
    }
}

impl TrackedEvent {
    /// The ingestor's event payload (the JS SDK's `EventPayload`): `event_name`,
    /// `properties_json`, `user_id`, `device_id` (`device_id`, else `anonymous_id`, else `id`),
    /// `page_id`, `session_id`, the `utm_*` and `page_title` fields when present, `sdk_language`
    /// (`"rust"`), `sdk_version`, `url`, and `context_json` (the other attributes).
    pub fn to_payload(&self) -> Value {
        let attrs = &self.attributes;
        let get = |k: &str| attrs.get(k);
        let nullable = |v: Option<String>| v.map_or(Value::Null, Value::String);
        let device = ["device_id", "anonymous_id", "id"]
            .into_iter()
            .filter_map(get)
            .find(|v| is_truthy(v));
        let mut m = Map::new();
        m.insert("event_name".into(), self.name.clone().into());
        m.insert(
            "properties_json".into(),
            Value::Object(self.properties.clone()),
        );
        m.insert("user_id".into(), nullable(id_string(get("user_id"))));
        m.insert("device_id".into(), nullable(id_string(device)));
        m.insert("page_id".into(), nullable(id_string(get("page_id"))));
        m.insert("session_id".into(), nullable(id_string(get("session_id"))));
        for (field, attr) in [
            ("utm_campaign", "utmCampaign"),
            ("utm_content", "utmContent"),
            ("utm_medium", "utmMedium"),
            ("utm_source", "utmSource"),
            ("utm_term", "utmTerm"),
            ("page_title", "pageTitle"),
        ] {
            if let Some(s) = get(attr).and_then(Value::as_str).filter(|s| !s.is_empty()) {
                m.insert(field.into(), s.into());
            }
        }
        m.insert("sdk_language".into(), SDK_LANGUAGE.into());
        m.insert("sdk_version".into(), env!("CARGO_PKG_VERSION").into());
        m.insert("url".into(), self.url.clone().into());
        let context: Map<String, Value> = attrs
            .iter()
            .filter(|(k, _)| !PROMOTED.contains(&k.as_str()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        m.insert("context_json".into(), Value::Object(context));
        Value::Object(m)
    }
}
