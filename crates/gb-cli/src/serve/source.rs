//! The payload file: read, validated, stamped, optionally encrypted; one [`Version`] per good
//! content.

use alloc::sync::Arc;
use core::hash::{BuildHasher as _, Hash as _, Hasher as _};
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use bytes::Bytes;
use gb_sdk::gb_core::FeatureSet;
use gb_sdk::transport::{Payload, encrypt_payload};
use serde_json::Value;

/// The largest payload file served (a GrowthBook payload is rarely above a few MiB).
const MAX_FILE_BYTES: u64 = 64 * 1024 * 1024;

/// One good version of the file.
#[derive(Debug)]
pub(super) struct Version {
    /// 1 for the file at start, then one more per good change.
    pub(super) number: u64,
    /// The plain payload (what remote evaluation and `GrowthBook::payload` use).
    pub(super) plain: Arc<Value>,
    /// The body of `GET /api/features/{key}` and of the SSE `features` event (encrypted with
    /// `--encrypt`).
    pub(super) body: Bytes,
    /// Its `ETag` (quoted).
    pub(super) etag: String,
}

/// What the last read found: compared with each new read so a version is built (or a failure
/// reported) once per content.
#[derive(Debug, PartialEq)]
enum Seen {
    Bytes(Vec<u8>),
    Unreadable(String),
}

/// The file being served.
#[derive(Debug)]
pub(super) struct PayloadFile {
    path: PathBuf,
    encrypt: Option<String>,
    last: Option<Seen>,
}

impl PayloadFile {
    pub(super) fn new(path: PathBuf, encrypt: Option<String>) -> Self {
        Self {
            path,
            encrypt,
            last: None,
        }
    }

    pub(super) fn path(&self) -> &Path {
        &self.path
    }

    /// Reads and builds version `number`.
    pub(super) fn load(&mut self, number: u64) -> Result<Version, String> {
        self.reload(number)
            .unwrap_or_else(|| Err("unchanged".into()))
    }

    /// Reads the file again: `None` if it is what the last read found, else the new version
    /// or why it cannot be served.
    pub(super) fn reload(&mut self, number: u64) -> Option<Result<Version, String>> {
        let seen = match read_bounded(&self.path) {
            Ok(bytes) => Seen::Bytes(bytes),
            Err(why) => Seen::Unreadable(why),
        };
        if self.last.as_ref() == Some(&seen) {
            return None;
        }
        let result = match &seen {
            Seen::Bytes(bytes) => build(bytes, self.encrypt.as_deref(), number),
            Seen::Unreadable(why) => Err(why.clone()),
        };
        self.last = Some(seen);
        Some(result)
    }
}

fn read_bounded(path: &Path) -> Result<Vec<u8>, String> {
    let file = std::fs::File::open(path).map_err(|e| format!("cannot read it: {e}"))?;
    let mut bytes = Vec::new();
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot read it: {e}"))?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(format!("larger than {MAX_FILE_BYTES} bytes"));
    }
    Ok(bytes)
}

/// Validates the file's bytes as a payload (or a `{payload, users}` workload) and builds the
/// version served.
fn build(bytes: &[u8], encrypt: Option<&str>, number: u64) -> Result<Version, String> {
    let value: Value =
        serde_json::from_slice(bytes).map_err(|e| format!("not valid JSON ({e})"))?;
    let value = match value {
        Value::Object(mut m) if !m.contains_key("features") && m.contains_key("payload") => {
            m.remove("payload").unwrap_or(Value::Null)
        }
        v => v,
    };
    let payload = Payload::from_value(value, None).map_err(|e| e.to_string())?;
    let Value::Object(mut plain) = payload.value().clone() else {
        return Err("not a JSON object".into());
    };
    let warnings = FeatureSet::from_value(payload.value()).warnings().len();
    if warnings > 0 {
        eprintln!("gb serve: {warnings} payload warnings (`gb lint --payload FILE` lists them)");
    }
    plain.insert("dateUpdated".into(), Value::String(iso_now()));
    let plain = Value::Object(plain);
    let served = match encrypt {
        Some(key) => encrypt_payload(&plain, key, random_iv)
            .map_err(|e| format!("cannot encrypt with --encrypt: {e}"))?,
        None => plain.clone(),
    };
    let body = Bytes::from(served.to_string());
    let mut h = std::hash::DefaultHasher::new();
    body.hash(&mut h);
    Ok(Version {
        number,
        etag: format!("\"{number}-{:016x}\"", h.finish()),
        plain: Arc::new(plain),
        body,
    })
}

/// 16 unpredictable bytes for an AES-CBC IV: two hashers keyed by the standard library's
/// per-process random keys (`RandomState`), over the time and a counter. Good enough for a
/// development server, and no random-number crate.
fn random_iv() -> [u8; 16] {
    static COUNTER: core::sync::atomic::AtomicU64 = core::sync::atomic::AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, core::sync::atomic::Ordering::Relaxed);
    let now = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default()
        .as_nanos();
    let mut iv = [0u8; 16];
    for (i, chunk) in iv.chunks_mut(8).enumerate() {
        let h = std::collections::hash_map::RandomState::new().hash_one((n, now, i));
        chunk.copy_from_slice(&h.to_le_bytes());
    }
    iv
}

/// The current time as the GrowthBook API writes `dateUpdated`: `2026-01-31T12:34:56.789Z`.
fn iso_now() -> String {
    let since = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default();
    let secs = since.as_secs();
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        since.subsec_millis()
    )
}

/// The proleptic Gregorian date of a day count since 1970-01-01 (Howard Hinnant's
/// `civil_from_days`, for non-negative days).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + u64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "test")]

    use super::*;

    #[test]
    fn dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(19_723), (2024, 1, 1));
        assert_eq!(civil_from_days(19_782), (2024, 2, 29));
        let now = iso_now();
        assert_eq!(now.len(), 24, "{now}");
        // gb-transport reads it back (it orders versions by it).
        let p = Payload::from_value(
            serde_json::json!({"features": {}, "dateUpdated": now}),
            None,
        )
        .unwrap();
        assert!(p.date_updated_unix().is_some());
    }

    #[test]
    fn bad_files_are_refused_with_a_reason() {
        assert!(build(b"{", None, 2).unwrap_err().contains("not valid JSON"));
        assert!(build(b"[]", None, 2).is_err());
        assert!(build(br#"{"features": 1}"#, None, 2).is_err());
        let ok = build(br#"{"payload": {"features": {}}, "users": []}"#, None, 2).unwrap();
        assert_eq!(ok.number, 2);
    }

    #[test]
    fn encrypted_versions_decrypt_to_the_plain_one() {
        let key = "Zvwv/+uhpFDznZ6SX28Yjg==";
        let v = build(br#"{"features": {"f": {"defaultValue": 1}}}"#, Some(key), 1).unwrap();
        let served: Value = serde_json::from_slice(&v.body).unwrap();
        assert_eq!(served["features"], serde_json::json!({}));
        let key = gb_sdk::transport::DecryptionKey::new(key);
        let back = Payload::from_value(served, Some(&key)).unwrap();
        assert_eq!(back.value(), &*v.plain);
        assert_ne!(random_iv(), random_iv());
    }
}
