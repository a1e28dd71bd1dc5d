//! The features payload envelope: validation and decryption of its encrypted sections.
//!
//! A payload is *good* only if it is a JSON object whose `features` is an object after
//! decryption. Anything else (`{}`, `{"status":500}`, an array, a payload whose encrypted
//! section fails) is refused as a whole, so a caller never replaces a good payload with it.

use alloc::boxed::Box;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::fmt;

use serde_json::{Map, Value};

use crate::decrypt::{DecryptError, DecryptionKey, decrypt, encrypt};
use crate::error::{ErrorKind, TransportError};

/// The encrypted sections of a payload: `(encrypted key, plain key, whether it must be an object)`.
///
/// `experiments` is an array; the other sections are objects.
pub const ENCRYPTED_SECTIONS: [(&str, &str, bool); 4] = [
    ("encryptedFeatures", "features", true),
    ("encryptedSavedGroups", "savedGroups", true),
    ("encryptedExperiments", "experiments", false),
    ("encryptedContextualBandits", "contextualBandits", true),
];

/// Whether `payload` has at least one `encrypted*` section.
pub fn is_encrypted(payload: &Value) -> bool {
    ENCRYPTED_SECTIONS
        .iter()
        .any(|(enc, _, _)| payload.get(enc).is_some())
}

/// Decrypts every `encrypted*` section of `payload` into its plain key and removes the encrypted
/// key: `encryptedFeatures` → `features`, `encryptedSavedGroups` → `savedGroups`,
/// `encryptedExperiments` → `experiments`, `encryptedContextualBandits` → `contextualBandits`.
///
/// A payload with no encrypted section is returned unchanged. The key is only used if needed.
///
/// # Errors
/// Fails as a whole if any section fails ([`DecryptError::Section`] names it), if a section
/// decrypts to JSON of the wrong type, or if `payload` is not an object
/// ([`DecryptError::InvalidJson`]).
pub fn decrypt_payload(payload: Value, key: &str) -> Result<Value, DecryptError> {
    let Value::Object(mut map) = payload else {
        return Err(DecryptError::InvalidJson);
    };
    decrypt_sections(&mut map, Some(key))?;
    Ok(Value::Object(map))
}

/// Encrypts a plain payload as the GrowthBook API serves it to an SDK with a decryption key:
/// the inverse of [`decrypt_payload`]. Each plain section present (`features`, `savedGroups`,
/// `experiments`, `contextualBandits`) becomes its `encrypted*` string under a fresh IV from
/// `iv`; `features` stays as `{}` (as the API sends it) and `experiments` as `[]`; every other
/// key is kept.
///
/// # Errors
/// [`DecryptError::InvalidKey`] for a bad key; [`DecryptError::InvalidJson`] if `payload` is
/// not an object.
pub fn encrypt_payload(
    payload: &Value,
    key: &str,
    mut iv: impl FnMut() -> [u8; 16],
) -> Result<Value, DecryptError> {
    let Value::Object(plain) = payload else {
        return Err(DecryptError::InvalidJson);
    };
    let mut map = plain.clone();
    for (enc_key, plain_key, _) in ENCRYPTED_SECTIONS {
        let Some(section) = map.remove(plain_key) else {
            continue;
        };
        let text = serde_json::to_string(&section).map_err(|_| DecryptError::InvalidJson)?;
        map.insert(enc_key.into(), Value::String(encrypt(&text, key, iv())?));
        match plain_key {
            "features" => drop(map.insert(plain_key.into(), Value::Object(Map::new()))),
            "experiments" => drop(map.insert(plain_key.into(), Value::Array(Vec::new()))),
            _ => {}
        }
    }
    Ok(Value::Object(map))
}

fn decrypt_sections(map: &mut Map<String, Value>, key: Option<&str>) -> Result<(), DecryptError> {
    for (enc_key, plain_key, object) in ENCRYPTED_SECTIONS {
        let Some(encrypted) = map.remove(enc_key) else {
            continue;
        };
        let wrap = |source| DecryptError::Section {
            section: enc_key,
            source: Box::new(source),
        };
        let key = key.ok_or(DecryptError::MissingKey)?;
        let Value::String(encrypted) = encrypted else {
            return Err(wrap(DecryptError::InvalidFormat));
        };
        let plain = decrypt(&encrypted, key).map_err(wrap)?;
        let value: Value =
            serde_json::from_str(&plain).map_err(|_| wrap(DecryptError::InvalidJson))?;
        let right_type = if object {
            value.is_object()
        } else {
            value.is_array()
        };
        if !right_type {
            return Err(wrap(DecryptError::InvalidJson));
        }
        map.insert(String::from(plain_key), value);
    }
    Ok(())
}

/// A validated, decrypted features payload. Cheap to clone (shared, immutable).
#[derive(Clone, PartialEq)]
pub struct Payload(Arc<Value>);

impl Payload {
    /// Validates (and, with a key, decrypts) a raw payload.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidPayload`] if `raw` is not an object with a `features` object after
    /// decryption; [`ErrorKind::Decrypt`] if a section fails to decrypt or a key is missing.
    pub fn from_value(raw: Value, key: Option<&DecryptionKey>) -> Result<Self, TransportError> {
        let Value::Object(mut map) = raw else {
            return Err(TransportError::new(
                ErrorKind::InvalidPayload,
                "body is not a JSON object",
            ));
        };
        decrypt_sections(&mut map, key.map(DecryptionKey::as_str))?;
        if !map.get("features").is_some_and(Value::is_object) {
            return Err(TransportError::new(
                ErrorKind::InvalidPayload,
                "payload has no `features` object",
            ));
        }
        Ok(Self(Arc::new(Value::Object(map))))
    }

    /// Parses, validates (and, with a key, decrypts) a body as served.
    ///
    /// # Errors
    /// [`ErrorKind::NotJson`] if `raw` is not JSON; otherwise as [`from_value`](Self::from_value).
    pub fn from_text(raw: &str, key: Option<&DecryptionKey>) -> Result<Self, TransportError> {
        let value: Value = serde_json::from_str(raw)
            .map_err(|_| TransportError::new(ErrorKind::NotJson, "body is not valid JSON"))?;
        Self::from_value(value, key)
    }

    /// The whole decrypted payload (`features`, `experiments`, `savedGroups`, ...).
    pub fn value(&self) -> &Value {
        &self.0
    }

    /// The shared payload, for storing without a deep copy.
    pub fn shared(&self) -> Arc<Value> {
        Arc::clone(&self.0)
    }

    /// The `features` object (always present in a validated payload).
    pub fn features(&self) -> Option<&Map<String, Value>> {
        self.0.get("features").and_then(Value::as_object)
    }

    /// The `dateUpdated` string, if the server sent one.
    pub fn date_updated(&self) -> Option<&str> {
        self.0.get("dateUpdated").and_then(Value::as_str)
    }

    /// `dateUpdated` as time since the Unix epoch, if it is a UTC ISO-8601 string
    /// (`2024-05-01T12:00:00.000Z`).
    pub fn date_updated_unix(&self) -> Option<core::time::Duration> {
        let (seconds, nanos) = self.date_updated().and_then(iso_unix)?;
        Some(core::time::Duration::new(seconds, nanos))
    }

    /// Whether this payload is strictly older than `other` by `dateUpdated`.
    ///
    /// `false` unless both carry a UTC ISO-8601 `dateUpdated` (`2024-05-01T12:00:00.000Z`, the
    /// server's `toISOString()` form). A CDN may serve a stale body for a while after a fresh
    /// SSE event; this lets a caller refuse to roll back.
    pub fn is_older_than(&self, other: &Self) -> bool {
        match (
            self.date_updated().and_then(iso_unix),
            other.date_updated().and_then(iso_unix),
        ) {
            (Some(mine), Some(theirs)) => mine < theirs,
            _ => false,
        }
    }
}

/// `YYYY-MM-DDTHH:MM:SS[.fraction]Z` as (seconds since the Unix epoch, nanoseconds); `None`
/// for any other shape, a date before 1970 or an out-of-range field.
fn iso_unix(text: &str) -> Option<(u64, u32)> {
    let text = text.strip_suffix('Z')?;
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let bytes = whole.as_bytes();
    let shape = b"0000-00-00T00:00:00";
    if bytes.len() != shape.len() {
        return None;
    }
    // The six numeric fields, in order: year, month, day, hour, minute, second.
    let mut fields = [0u64; 6];
    let mut field = 0;
    for (i, (&b, &s)) in bytes.iter().zip(shape).enumerate() {
        if s == b'0' {
            if !b.is_ascii_digit() {
                return None;
            }
            fields[field] = fields[field] * 10 + u64::from(b - b'0');
            if shape.get(i + 1).is_none_or(|&next| next != b'0') {
                field += 1;
            }
        } else if b != s {
            return None;
        }
    }
    let [year, month, day, hour, minute, second] = fields;
    if !(1970..=9999).contains(&year)
        || !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    if fraction.len() > 9 || !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut nanos = 0u32;
    for i in 0..9 {
        let digit = fraction
            .as_bytes()
            .get(i)
            .map_or(0, |b| u32::from(b - b'0'));
        nanos = nanos * 10 + digit;
    }
    let days = days_from_civil(year, month, day);
    Some((days * 86_400 + hour * 3600 + minute * 60 + second, nanos))
}

/// Days from 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's `days_from_civil`),
/// for years from 1970.
fn days_from_civil(year: u64, month: u64, day: u64) -> u64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y / 400;
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    (era * 146_097 + doe).saturating_sub(719_468)
}

impl fmt::Debug for Payload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Payload")
            .field("features", &self.features().map_or(0, Map::len))
            .field("date_updated", &self.date_updated())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn empty_object_is_refused() {
        let err = Payload::from_value(json!({}), None).expect_err("{} is not a payload");
        assert_eq!(err.kind(), ErrorKind::InvalidPayload);
        let err = Payload::from_value(json!({"status": 500}), None).expect_err("no features");
        assert_eq!(err.kind(), ErrorKind::InvalidPayload);
        let err = Payload::from_value(json!([1]), None).expect_err("array");
        assert_eq!(err.kind(), ErrorKind::InvalidPayload);
    }

    #[test]
    fn older_by_date_updated() {
        let at = |d: &str| Payload::from_value(json!({"features": {}, "dateUpdated": d}), None);
        let a = at("2024-05-01T12:00:00.5Z").expect("valid");
        let b = at("2024-05-01T12:00:00.123Z").expect("valid");
        let c = at("2024-05-01T12:00:01Z").expect("valid");
        assert!(b.is_older_than(&a) && a.is_older_than(&c) && !c.is_older_than(&a));
        assert!(!a.is_older_than(&a));
        let unknown = at("yesterday").expect("valid");
        assert!(!unknown.is_older_than(&c) && !c.is_older_than(&unknown));
        let none = Payload::from_value(json!({"features": {}}), None).expect("valid");
        assert!(!none.is_older_than(&c));
    }

    #[test]
    fn date_updated_in_unix_time() {
        let at = |d: &str| {
            Payload::from_value(json!({"features": {}, "dateUpdated": d}), None)
                .expect("valid")
                .date_updated_unix()
        };
        assert_eq!(at("1970-01-01T00:00:00Z"), Some(core::time::Duration::ZERO));
        assert_eq!(
            at("2024-05-01T12:00:00.250Z"),
            Some(core::time::Duration::new(1_714_564_800, 250_000_000))
        );
        assert_eq!(
            at("2099-01-01T00:00:00.000Z"),
            Some(core::time::Duration::from_secs(4_070_908_800))
        );
        assert_eq!(at("2024-13-01T00:00:00Z"), None);
        assert_eq!(at("2024-05-01 12:00:00Z"), None);
        assert_eq!(at("1969-12-31T23:59:59Z"), None);
    }

    #[test]
    fn encrypted_without_key_is_refused() {
        let err = Payload::from_value(json!({"features": {}, "encryptedFeatures": "a.b"}), None)
            .expect_err("no key");
        assert_eq!(err.kind(), ErrorKind::Decrypt);
    }
}
