//! [`RequestContext`]: a user context from an `http::Request` (hyper, axum, actix-web 4 via
//! `http` 1, tonic, ...): URL, user agent, UTM parameters, chosen cookies, headers and query
//! parameters, and a user-supplied mapping.

use alloc::borrow::Cow;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::fmt;

use http::header::{self, HeaderMap, HeaderName};
use http::{Extensions, Method, Uri};
use serde_json::{Map, Value};

use crate::client::GrowthBook;
use crate::user::UserContext;

/// A read-only view of a request, for [`RequestContext::map`] closures.
#[derive(Debug, Clone, Copy)]
pub struct RequestInfo<'a> {
    method: &'a Method,
    uri: &'a Uri,
    headers: &'a HeaderMap,
    extensions: &'a Extensions,
}

impl<'a> RequestInfo<'a> {
    /// A view of `request`.
    pub fn from_request<B>(request: &'a http::Request<B>) -> Self {
        Self {
            method: request.method(),
            uri: request.uri(),
            headers: request.headers(),
            extensions: request.extensions(),
        }
    }

    /// A view of a request's parts (e.g. in an extractor that only has the parts).
    pub fn from_parts(parts: &'a http::request::Parts) -> Self {
        Self {
            method: &parts.method,
            uri: &parts.uri,
            headers: &parts.headers,
            extensions: &parts.extensions,
        }
    }

    /// The method.
    pub fn method(&self) -> &'a Method {
        self.method
    }

    /// The request target.
    pub fn uri(&self) -> &'a Uri {
        self.uri
    }

    /// The headers.
    pub fn headers(&self) -> &'a HeaderMap {
        self.headers
    }

    /// The extensions (e.g. an authenticated user put there by earlier middleware).
    pub fn extensions(&self) -> &'a Extensions {
        self.extensions
    }

    /// A header's value, if present and valid UTF-8 (the first, if repeated).
    pub fn header(&self, name: &str) -> Option<&'a str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// A cookie's value (percent-decoded, surrounding quotes removed), from any `Cookie`
    /// header.
    pub fn cookie(&self, name: &str) -> Option<String> {
        self.headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .filter_map(|pair| pair.trim().split_once('='))
            .find(|(n, _)| n.trim() == name)
            .map(|(_, v)| {
                let v = v.trim();
                let v = v
                    .strip_prefix('"')
                    .and_then(|x| x.strip_suffix('"'))
                    .unwrap_or(v);
                percent_decode(v, false)
            })
    }

    /// A query-string parameter (percent-decoded, `+` as space); the first, if repeated.
    pub fn query_param(&self, name: &str) -> Option<String> {
        self.uri
            .query()?
            .split('&')
            .map(|pair| pair.split_once('=').unwrap_or((pair, "")))
            .find(|(n, _)| percent_decode(n, true) == name)
            .map(|(_, v)| percent_decode(v, true))
    }

    /// The user agent.
    pub fn user_agent(&self) -> Option<&'a str> {
        self.header("user-agent")
    }
}

fn percent_decode(s: &str, plus_is_space: bool) -> String {
    let s: Cow<'_, str> = if plus_is_space && s.contains('+') {
        Cow::Owned(s.replace('+', " "))
    } else {
        Cow::Borrowed(s)
    };
    percent_encoding::percent_decode_str(&s)
        .decode_utf8_lossy()
        .into_owned()
}

/// The browser and device type of a user agent, as the JS SDK's auto-attributes plugin names
/// them: `browser` is `edge`, `chrome`, `firefox`, `safari` or `unknown` (checked in that
/// order); `deviceType` is `mobile` when the agent contains `Mobi`, else `desktop`.
pub fn browser_and_device(user_agent: &str) -> (&'static str, &'static str) {
    let browser = if user_agent.contains("Edg") {
        "edge"
    } else if user_agent.contains("Chrome") {
        "chrome"
    } else if user_agent.contains("Firefox") {
        "firefox"
    } else if user_agent.contains("Safari") {
        "safari"
    } else {
        "unknown"
    };
    let device = if user_agent.contains("Mobi") {
        "mobile"
    } else {
        "desktop"
    };
    (browser, device)
}

/// A user-supplied mapping from a request to attributes.
type Mapper = Arc<dyn Fn(&RequestInfo<'_>, &mut Map<String, Value>) + Send + Sync>;

/// Builds user contexts (attributes and URL) from HTTP requests. Build one at startup and
/// share it; [`user`](Self::user) is cheap (no I/O).
///
/// Attributes produced, each only when its source is present:
///
/// | attribute | from |
/// |---|---|
/// | `url`, `path`, `host` | the request URL ([`url_attributes`](Self::url_attributes)) |
/// | `userAgent`, `browser`, `deviceType` | `User-Agent` ([`user_agent`](Self::user_agent); see [`browser_and_device`]) |
/// | `utmSource`, `utmMedium`, `utmCampaign`, `utmTerm`, `utmContent` | `utm_*` query parameters ([`utm`](Self::utm)) |
/// | any | [`cookie`](Self::cookie), [`header`](Self::header), [`query_param`](Self::query_param) mappings, then [`map`](Self::map) |
///
/// The context's URL is the full request URL, so query-string forced variations
/// (`?my-experiment=1`) and URL targeting work.
#[derive(Clone)]
pub struct RequestContext {
    cookies: Vec<(String, String)>,
    headers: Vec<(HeaderName, String)>,
    query: Vec<(String, String)>,
    user_agent: bool,
    utm: bool,
    url_attributes: bool,
    trust_forwarded: bool,
    default_scheme: String,
    mappers: Vec<Mapper>,
}

impl fmt::Debug for RequestContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequestContext")
            .field("cookies", &self.cookies)
            .field("headers", &self.headers)
            .field("query", &self.query)
            .field("user_agent", &self.user_agent)
            .field("utm", &self.utm)
            .field("url_attributes", &self.url_attributes)
            .field("trust_forwarded", &self.trust_forwarded)
            .field("default_scheme", &self.default_scheme)
            .field("mappers", &self.mappers.len())
            .finish()
    }
}

impl Default for RequestContext {
    fn default() -> Self {
        Self::new()
    }
}

const UTM: [(&str, &str); 5] = [
    ("utm_source", "utmSource"),
    ("utm_medium", "utmMedium"),
    ("utm_campaign", "utmCampaign"),
    ("utm_term", "utmTerm"),
    ("utm_content", "utmContent"),
];

impl RequestContext {
    /// URL attributes, user agent and UTM parameters on; no cookie, header or query mapping;
    /// forwarded headers not trusted; scheme `http` when the request does not say.
    pub fn new() -> Self {
        Self {
            cookies: Vec::new(),
            headers: Vec::new(),
            query: Vec::new(),
            user_agent: true,
            utm: true,
            url_attributes: true,
            trust_forwarded: false,
            default_scheme: "http".into(),
            mappers: Vec::new(),
        }
    }

    /// Maps the cookie `cookie` to the attribute `attribute` (a string).
    #[must_use]
    pub fn cookie(mut self, cookie: impl Into<String>, attribute: impl Into<String>) -> Self {
        self.cookies.push((cookie.into(), attribute.into()));
        self
    }

    /// Maps the header `header` to the attribute `attribute` (a string). An invalid header
    /// name is ignored (with a warning).
    #[must_use]
    pub fn header(mut self, header: &str, attribute: impl Into<String>) -> Self {
        match HeaderName::from_bytes(header.as_bytes()) {
            Ok(name) => self.headers.push((name, attribute.into())),
            Err(_) => tracing::warn!(header, "invalid header name in RequestContext::header"),
        }
        self
    }

    /// Maps the query parameter `param` to the attribute `attribute` (a string).
    #[must_use]
    pub fn query_param(mut self, param: impl Into<String>, attribute: impl Into<String>) -> Self {
        self.query.push((param.into(), attribute.into()));
        self
    }

    /// Whether to set `userAgent`, `browser` and `deviceType` (default true).
    #[must_use]
    pub fn user_agent(mut self, on: bool) -> Self {
        self.user_agent = on;
        self
    }

    /// Whether to set `utmSource` ... `utmContent` from `utm_*` parameters (default true).
    #[must_use]
    pub fn utm(mut self, on: bool) -> Self {
        self.utm = on;
        self
    }

    /// Whether to set the `url`, `path` and `host` attributes (default true). The context's
    /// URL is set either way.
    #[must_use]
    pub fn url_attributes(mut self, on: bool) -> Self {
        self.url_attributes = on;
        self
    }

    /// Whether to take the scheme and host from `X-Forwarded-Proto` / `X-Forwarded-Host`
    /// (default false: only behind a proxy that sets them).
    #[must_use]
    pub fn trust_forwarded_headers(mut self, on: bool) -> Self {
        self.trust_forwarded = on;
        self
    }

    /// The scheme when the request does not carry one (default `http`).
    #[must_use]
    pub fn default_scheme(mut self, scheme: impl Into<String>) -> Self {
        self.default_scheme = scheme.into();
        self
    }

    /// A mapping of your own, run after the built-in ones (so it may override them): e.g. a
    /// user id from an authenticated session in the request's extensions.
    #[must_use]
    pub fn map(
        mut self,
        f: impl Fn(&RequestInfo<'_>, &mut Map<String, Value>) + Send + Sync + 'static,
    ) -> Self {
        self.mappers.push(Arc::new(f));
        self
    }

    /// The request's full URL: `scheme://host/path?query` (just the path and query when the
    /// host is unknown).
    pub fn url<B>(&self, request: &http::Request<B>) -> String {
        self.url_of(&RequestInfo::from_request(request))
    }

    /// The attributes of `request`.
    pub fn attributes<B>(&self, request: &http::Request<B>) -> Map<String, Value> {
        self.attributes_of(&RequestInfo::from_request(request))
    }

    /// A user context for `request`: its attributes and URL. Add your own attributes with
    /// [`user_with`](Self::user_with).
    pub fn user<B>(&self, client: &GrowthBook, request: &http::Request<B>) -> UserContext {
        self.user_of(client, &RequestInfo::from_request(request), Map::new())
    }

    /// Like [`user`](Self::user), with `extra` attributes over the request's.
    pub fn user_with<B>(
        &self,
        client: &GrowthBook,
        request: &http::Request<B>,
        extra: Map<String, Value>,
    ) -> UserContext {
        self.user_of(client, &RequestInfo::from_request(request), extra)
    }

    /// [`user_with`](Self::user_with) from a view (e.g. of request parts).
    pub fn user_of(
        &self,
        client: &GrowthBook,
        request: &RequestInfo<'_>,
        extra: Map<String, Value>,
    ) -> UserContext {
        let mut attributes = self.attributes_of(request);
        attributes.extend(extra);
        client.user(attributes).with_url(self.url_of(request))
    }

    fn host<'a>(&self, r: &RequestInfo<'a>) -> Option<&'a str> {
        let forwarded = self
            .trust_forwarded
            .then(|| r.header("x-forwarded-host"))
            .flatten()
            .and_then(|v| v.split(',').next())
            .map(str::trim);
        forwarded
            .or_else(|| r.uri.authority().map(http::uri::Authority::as_str))
            .or_else(|| r.header("host"))
            .filter(|h| !h.is_empty())
    }

    /// [`url`](Self::url) from a view.
    pub fn url_of(&self, r: &RequestInfo<'_>) -> String {
        let path = r.uri.path_and_query().map_or("/", |p| p.as_str());
        let Some(host) = self.host(r) else {
            return path.into();
        };
        let forwarded = self
            .trust_forwarded
            .then(|| r.header("x-forwarded-proto"))
            .flatten()
            .and_then(|v| v.split(',').next())
            .map(str::trim);
        let scheme = forwarded
            .or_else(|| r.uri.scheme_str())
            .unwrap_or(&self.default_scheme);
        format!("{scheme}://{host}{path}")
    }

    /// [`attributes`](Self::attributes) from a view.
    pub fn attributes_of(&self, r: &RequestInfo<'_>) -> Map<String, Value> {
        let mut a = Map::new();
        if self.url_attributes {
            a.insert("url".into(), self.url_of(r).into());
            a.insert("path".into(), r.uri.path().into());
            if let Some(host) = self.host(r) {
                a.insert("host".into(), host.into());
            }
        }
        if self.user_agent
            && let Some(ua) = r.user_agent()
        {
            let (browser, device) = browser_and_device(ua);
            a.insert("userAgent".into(), ua.into());
            a.insert("browser".into(), browser.into());
            a.insert("deviceType".into(), device.into());
        }
        if self.utm {
            for (param, attribute) in UTM {
                if let Some(v) = r.query_param(param) {
                    a.insert(attribute.into(), v.into());
                }
            }
        }
        for (param, attribute) in &self.query {
            if let Some(v) = r.query_param(param) {
                a.insert(attribute.clone(), v.into());
            }
        }
        for (name, attribute) in &self.headers {
            if let Some(v) = r.headers.get(name).and_then(|v| v.to_str().ok()) {
                a.insert(attribute.clone(), v.into());
            }
        }
        for (cookie, attribute) in &self.cookies {
            if let Some(v) = r.cookie(cookie) {
                a.insert(attribute.clone(), v.into());
            }
        }
        for f in &self.mappers {
            crate::plugin::guarded("RequestContext::map", || f(r, &mut a));
        }
        a
    }
}
