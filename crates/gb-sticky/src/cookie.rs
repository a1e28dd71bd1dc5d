//! Sticky buckets in browser cookies, for web servers, with no web-framework dependency.
//!
//! One cookie per document, in the format of the JS SDK's `ExpressCookieStickyBucketService`:
//! name `encodeURIComponent("<prefix><attributeName>||<attributeValue>")`, value
//! `encodeURIComponent(JSON.stringify(doc))`. Both are percent-encoded, hence URL- and
//! cookie-safe.
//!
//! * [`CookieCodec`] turns a request's `Cookie` header into documents and a document into a
//!   `Set-Cookie` header value.
//! * [`CookieStickyBucketService`] is a per-request store built from the `Cookie` header: lookups
//!   read it, saves queue `Set-Cookie` values to add to the response
//!   ([`CookieStickyBucketService::take_set_cookie_headers`]).
//!
//! Cookies are user-controlled input: values that are not percent-encoded UTF-8 JSON of a
//! document, documents whose attribute name/value differ from the cookie name, and cookies
//! larger than the size limit are skipped with a `tracing` warning.

use alloc::collections::BTreeMap;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt::Write as _;
use core::time::Duration;
use std::sync::{Mutex, MutexGuard, PoisonError};

use gb_core::StickyAssignmentsDocument;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};

use crate::error::{StickyError, StickyErrorKind};
use crate::service::{IdentifierAttribute, StickyBucketServiceSync, dedup_attributes, doc_matches};

/// The cookie-name prefix the JS SDK uses.
pub const DEFAULT_COOKIE_PREFIX: &str = "gbStickyBuckets__";

/// The largest `name=value` accepted, read or written: RFC 6265 §6.1 asks browsers to support
/// at least 4096 bytes per cookie, and most store no more.
pub const MAX_COOKIE_BYTES: usize = 4096;

/// The default `Max-Age`: 180 days, as in the JS SDK.
pub const DEFAULT_COOKIE_MAX_AGE: Duration = Duration::from_secs(180 * 24 * 3600);

/// At most this many sticky-bucket cookies are decoded from one `Cookie` header; the rest are
/// ignored (bounds the work an oversized header can cause).
pub const MAX_STICKY_COOKIES: usize = 64;

/// `encodeURIComponent`: everything but `A-Z a-z 0-9 - _ . ! ~ * ' ( )`.
const VALUE_SET: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'!')
    .remove(b'~')
    .remove(b'*')
    .remove(b'\'')
    .remove(b'(')
    .remove(b')');

/// Like [`VALUE_SET`] but also encoding `(` and `)`, which RFC 6265 forbids in cookie names.
const NAME_SET: &AsciiSet = &VALUE_SET.add(b'(').add(b')');

/// The `SameSite` cookie attribute.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SameSite {
    /// `SameSite=Strict`.
    Strict,
    /// `SameSite=Lax` (the default).
    Lax,
    /// `SameSite=None` (browsers then require `Secure`).
    None,
}

/// Encodes and decodes sticky-bucket cookies. Cheap to clone; build one at startup.
///
/// Defaults: prefix [`DEFAULT_COOKIE_PREFIX`], `Path=/`, `Max-Age` 180 days, `SameSite=Lax`,
/// neither `Secure` nor `HttpOnly` (so a browser-side GrowthBook SDK can share the cookies; set
/// them if it does not), no `Domain`, limit [`MAX_COOKIE_BYTES`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CookieCodec {
    prefix: String,
    path: Option<String>,
    domain: Option<String>,
    max_age: Option<Duration>,
    secure: bool,
    http_only: bool,
    same_site: Option<SameSite>,
    max_cookie_bytes: usize,
}

impl Default for CookieCodec {
    fn default() -> Self {
        Self {
            prefix: DEFAULT_COOKIE_PREFIX.to_string(),
            path: Some("/".to_string()),
            domain: None,
            max_age: Some(DEFAULT_COOKIE_MAX_AGE),
            secure: false,
            http_only: false,
            same_site: Some(SameSite::Lax),
            max_cookie_bytes: MAX_COOKIE_BYTES,
        }
    }
}

impl CookieCodec {
    /// A codec with the defaults listed on the type.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the cookie-name prefix.
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// Sets (or, with `None`, omits) the `Path` attribute.
    pub fn path(mut self, path: Option<String>) -> Self {
        self.path = path;
        self
    }

    /// Sets (or omits) the `Domain` attribute.
    pub fn domain(mut self, domain: Option<String>) -> Self {
        self.domain = domain;
        self
    }

    /// Sets (or, with `None`, omits: a session cookie) `Max-Age`, in whole seconds.
    pub fn max_age(mut self, max_age: Option<Duration>) -> Self {
        self.max_age = max_age;
        self
    }

    /// Adds or omits `Secure`.
    pub fn secure(mut self, secure: bool) -> Self {
        self.secure = secure;
        self
    }

    /// Adds or omits `HttpOnly`.
    pub fn http_only(mut self, http_only: bool) -> Self {
        self.http_only = http_only;
        self
    }

    /// Sets or omits `SameSite`.
    pub fn same_site(mut self, same_site: Option<SameSite>) -> Self {
        self.same_site = same_site;
        self
    }

    /// Sets the largest encoded `name=value` read or written (clamped to [`MAX_COOKIE_BYTES`]).
    pub fn max_cookie_bytes(mut self, bytes: usize) -> Self {
        self.max_cookie_bytes = bytes.min(MAX_COOKIE_BYTES);
        self
    }

    /// The encoded cookie name of the document for `(attribute_name, attribute_value)`.
    pub fn cookie_name(&self, attribute_name: &str, attribute_value: &str) -> String {
        let raw = format!("{}{attribute_name}||{attribute_value}", self.prefix);
        utf8_percent_encode(&raw, NAME_SET).to_string()
    }

    /// The encoded cookie value of `doc` (`encodeURIComponent` of its JSON).
    pub fn encode_value(&self, doc: &StickyAssignmentsDocument) -> Result<String, StickyError> {
        let json = serde_json::to_string(doc).map_err(|e| {
            StickyError::with_source(StickyErrorKind::Encode, "serializing a document", e)
        })?;
        Ok(utf8_percent_encode(&json, VALUE_SET).to_string())
    }

    /// The `Set-Cookie` header value storing `doc`.
    ///
    /// Fails with [`StickyErrorKind::TooLarge`] if `name=value` exceeds the size limit (the
    /// document would be dropped or truncated by browsers), and with
    /// [`StickyErrorKind::InvalidConfig`] if `Path`/`Domain` contain characters that would end
    /// or split the header.
    pub fn encode_set_cookie(
        &self,
        doc: &StickyAssignmentsDocument,
    ) -> Result<String, StickyError> {
        Ok(self.encode_set_cookie_named(doc)?.1)
    }

    /// `(cookie name, Set-Cookie value)` for `doc`.
    fn encode_set_cookie_named(
        &self,
        doc: &StickyAssignmentsDocument,
    ) -> Result<(String, String), StickyError> {
        let name = self.cookie_name(&doc.attribute_name, &doc.attribute_value);
        let value = self.encode_value(doc)?;
        let size = name.len() + 1 + value.len();
        if size > self.max_cookie_bytes {
            return Err(StickyError::new(
                StickyErrorKind::TooLarge,
                format!(
                    "cookie for `{}` would be {size} bytes, over the {} byte limit",
                    doc.attribute_name, self.max_cookie_bytes
                ),
            ));
        }
        let mut out = String::with_capacity(size + 96);
        out.push_str(&name);
        out.push('=');
        out.push_str(&value);
        if let Some(path) = &self.path {
            check_attribute("Path", path)?;
            out.push_str("; Path=");
            out.push_str(path);
        }
        if let Some(domain) = &self.domain {
            check_attribute("Domain", domain)?;
            out.push_str("; Domain=");
            out.push_str(domain);
        }
        if let Some(max_age) = self.max_age {
            // Writing to a String cannot fail.
            let _ = write!(out, "; Max-Age={}", max_age.as_secs());
        }
        match self.same_site {
            Some(SameSite::Strict) => out.push_str("; SameSite=Strict"),
            Some(SameSite::Lax) => out.push_str("; SameSite=Lax"),
            Some(SameSite::None) => out.push_str("; SameSite=None"),
            None => {}
        }
        if self.secure {
            out.push_str("; Secure");
        }
        if self.http_only {
            out.push_str("; HttpOnly");
        }
        Ok((name, out))
    }

    /// Every valid sticky-bucket document in a request's `Cookie` header value, in header order;
    /// cookies of other names are ignored, invalid sticky-bucket cookies skipped with a warning.
    /// Of several cookies with the same name the first wins (RFC 6265 puts the most specific
    /// path first). Never fails.
    pub fn decode_cookie_header(&self, header: &str) -> Vec<StickyAssignmentsDocument> {
        let mut out: Vec<StickyAssignmentsDocument> = Vec::new();
        let mut seen = 0usize;
        for pair in header.split(';') {
            let Some((raw_name, raw_value)) = pair.split_once('=') else {
                continue;
            };
            let Ok(name) = percent_decode_str(raw_name.trim()).decode_utf8() else {
                continue;
            };
            let Some(key) = name.strip_prefix(self.prefix.as_str()) else {
                continue;
            };
            seen += 1;
            if seen > MAX_STICKY_COOKIES {
                tracing::warn!(
                    limit = MAX_STICKY_COOKIES,
                    "too many sticky-bucket cookies; the rest are ignored"
                );
                break;
            }
            if let Some(doc) = self.decode_one(key, raw_name.trim(), raw_value.trim())
                && !out.iter().any(|d| d.key() == doc.key())
            {
                out.push(doc);
            }
        }
        out
    }

    fn decode_one(
        &self,
        key: &str,
        raw_name: &str,
        raw_value: &str,
    ) -> Option<StickyAssignmentsDocument> {
        if raw_name.len() + 1 + raw_value.len() > self.max_cookie_bytes {
            tracing::warn!(
                bytes = raw_value.len(),
                "sticky-bucket cookie over the size limit; ignored"
            );
            return None;
        }
        let unquoted = raw_value
            .strip_prefix('"')
            .and_then(|v| v.strip_suffix('"'))
            .unwrap_or(raw_value);
        let Ok(json) = percent_decode_str(unquoted).decode_utf8() else {
            tracing::warn!("sticky-bucket cookie is not UTF-8; ignored");
            return None;
        };
        let doc: StickyAssignmentsDocument = match serde_json::from_str(&json) {
            Ok(doc) => doc,
            Err(e) => {
                tracing::warn!(error = %e, "sticky-bucket cookie is not a document; ignored");
                return None;
            }
        };
        if doc.key() != key {
            tracing::warn!("sticky-bucket cookie content does not match its name; ignored");
            return None;
        }
        Some(doc)
    }
}

/// Rejects attribute values that would break the header (`;`, controls, whitespace).
fn check_attribute(what: &'static str, value: &str) -> Result<(), StickyError> {
    if value.is_empty()
        || value
            .chars()
            .any(|c| c == ';' || c == ',' || c.is_control() || c.is_whitespace())
    {
        return Err(StickyError::new(
            StickyErrorKind::InvalidConfig,
            format!(
                "cookie {what} attribute `{value}` is empty or has `;`, `,`, whitespace or control characters"
            ),
        ));
    }
    Ok(())
}

/// A per-request cookie store: build it from the request's `Cookie` header, evaluate, then add
/// [`take_set_cookie_headers`](Self::take_set_cookie_headers) to the response.
///
/// Lookups see the request's cookies plus what was saved on this instance since. It implements
/// [`StickyBucketServiceSync`] (and through it the async trait).
#[derive(Debug)]
pub struct CookieStickyBucketService {
    codec: CookieCodec,
    state: Mutex<CookieState>,
}

#[derive(Debug, Default)]
struct CookieState {
    /// Documents by `attribute_key`.
    docs: BTreeMap<String, StickyAssignmentsDocument>,
    /// Pending `Set-Cookie` values by cookie name (a later save of the same doc replaces it).
    outgoing: BTreeMap<String, String>,
}

impl CookieStickyBucketService {
    /// A store over the documents in `cookie_header` (the request's `Cookie` header value, or
    /// `None`/empty when it has none).
    pub fn from_cookie_header(codec: CookieCodec, cookie_header: Option<&str>) -> Self {
        let docs = cookie_header
            .map(|h| codec.decode_cookie_header(h))
            .unwrap_or_default();
        let state = CookieState {
            docs: docs.into_iter().map(|d| (d.key(), d)).collect(),
            outgoing: BTreeMap::new(),
        };
        Self {
            codec,
            state: Mutex::new(state),
        }
    }

    /// The codec in use.
    pub fn codec(&self) -> &CookieCodec {
        &self.codec
    }

    /// The `Set-Cookie` header values for every document saved since the last call, one per
    /// cookie, in cookie-name order. Add each as its own `Set-Cookie` header.
    pub fn take_set_cookie_headers(&self) -> Vec<String> {
        let mut g = self.lock();
        core::mem::take(&mut g.outgoing).into_values().collect()
    }

    fn lock(&self) -> MutexGuard<'_, CookieState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl StickyBucketServiceSync for CookieStickyBucketService {
    fn get_all_assignments_sync(
        &self,
        attributes: &[IdentifierAttribute],
    ) -> Result<Vec<StickyAssignmentsDocument>, StickyError> {
        let g = self.lock();
        Ok(dedup_attributes(attributes)
            .into_iter()
            .filter_map(|(n, v)| {
                g.docs
                    .get(&gb_core::sticky::attribute_key(n, v))
                    .filter(|d| doc_matches(d, n, v))
                    .cloned()
            })
            .collect())
    }

    /// Queues a `Set-Cookie` per document. A document too large for a cookie is not stored and
    /// the call returns [`StickyErrorKind::TooLarge`] after storing the others.
    fn save_assignments_sync(
        &self,
        docs: Vec<StickyAssignmentsDocument>,
    ) -> Result<(), StickyError> {
        let mut first_err = None;
        let mut g = self.lock();
        for doc in docs {
            match self.codec.encode_set_cookie_named(&doc) {
                Ok((name, set_cookie)) => {
                    g.outgoing.insert(name, set_cookie);
                    g.docs.insert(doc.key(), doc);
                }
                Err(e) => {
                    tracing::warn!(error = %e, "sticky-bucket document not saved to a cookie");
                    first_err.get_or_insert(e);
                }
            }
        }
        first_err.map_or(Ok(()), Err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    fn doc(n: &str, v: &str, exp: &str) -> StickyAssignmentsDocument {
        StickyAssignmentsDocument {
            attribute_name: n.to_string(),
            attribute_value: v.to_string(),
            assignments: [(exp.to_string(), "1".to_string())].into(),
        }
    }

    #[test]
    fn matches_js_encoding() -> Result<(), StickyError> {
        let c = CookieCodec::new();
        let d = doc("id", "123", "exp__0");
        assert_eq!(c.cookie_name("id", "123"), "gbStickyBuckets__id%7C%7C123");
        assert_eq!(
            c.encode_value(&d)?,
            "%7B%22attributeName%22%3A%22id%22%2C%22attributeValue%22%3A%22123%22%2C%22assignments%22%3A%7B%22exp__0%22%3A%221%22%7D%7D"
        );
        let sc = c.encode_set_cookie(&d)?;
        assert!(sc.starts_with("gbStickyBuckets__id%7C%7C123=%7B"), "{sc}");
        assert!(
            sc.ends_with("; Path=/; Max-Age=15552000; SameSite=Lax"),
            "{sc}"
        );
        Ok(())
    }

    #[test]
    fn round_trips_through_header() -> Result<(), StickyError> {
        let c = CookieCodec::new()
            .secure(true)
            .http_only(true)
            .domain(Some("example.com".into()));
        let a = doc("id", "a b;c=d\"é(x)", "e__1");
        let b = doc("deviceId", "x||y", "e__2");
        let mut header = String::from("other=1; ");
        for d in [&a, &b] {
            let sc = c.encode_set_cookie(d)?;
            assert!(sc.ends_with("; Secure; HttpOnly"));
            let pair = sc.split(';').next().unwrap_or_default();
            assert!(
                pair.bytes()
                    .all(|b| b.is_ascii_graphic() && b != b'"' && b != b',')
            );
            header.push_str(pair);
            header.push_str("; ");
        }
        header.push_str("gbStickyBuckets__junk=%7Bnot json; gbStickyBuckets__id%7C%7Cz=");
        assert_eq!(c.decode_cookie_header(&header), vec![a, b]);
        Ok(())
    }

    #[test]
    fn rejects_bad_attributes_and_oversize() {
        let d = doc("id", "1", "e__0");
        let bad = CookieCodec::new().path(Some("/; Secure".into()));
        let e = bad.encode_set_cookie(&d).err().map(|e| e.kind());
        assert_eq!(e, Some(StickyErrorKind::InvalidConfig));
        let big = doc("id", &"x".repeat(5000), "e__0");
        let e = CookieCodec::new()
            .encode_set_cookie(&big)
            .err()
            .map(|e| e.kind());
        assert_eq!(e, Some(StickyErrorKind::TooLarge));
        let small = CookieCodec::new().max_cookie_bytes(100);
        let e = small
            .encode_set_cookie(&doc("id", &"y".repeat(60), "e"))
            .err()
            .map(|e| e.kind());
        assert_eq!(e, Some(StickyErrorKind::TooLarge));
    }
}
