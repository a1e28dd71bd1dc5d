//! [`ProxyConfig`]: which HTTP proxy the client goes through, and for which hosts it does not.
//!
//! By default the client honours `HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY` and `NO_PROXY` (and
//! their lowercase forms; the uppercase form wins, as in curl, Go and hyper-util), read when the
//! client is built. [`ProxyConfig::none`] opts out; [`ProxyConfig::url`] names a proxy
//! explicitly, with [`basic_auth`](ProxyConfig::basic_auth) credentials if it needs them.
//!
//! Every request through a proxy goes through an HTTP `CONNECT` tunnel (hyper-util's
//! `Tunnel`), `https` and `http` destinations alike: TLS runs end to end through the tunnel,
//! and the proxy never sees request paths or headers (the client key is in the path).
//! `NO_PROXY` follows curl's rules (hyper-util's `Matcher`): comma-separated host names that
//! also match their subdomains, IP addresses, CIDR ranges, and `*` for everything.
//!
//! Proxies from the environment never apply to loopback destinations (`localhost`,
//! `127.0.0.0/8`, `::1`), as in Go: a corporate proxy cannot reach this machine's loopback, and
//! local test servers keep working whatever the environment says. An explicit
//! [`ProxyConfig::url`] applies to every destination not in its `no_proxy` list.
//!
//! When `REQUEST_METHOD` is set (a CGI program), the uppercase `HTTP_PROXY` is ignored: a client
//! can set it through a `Proxy:` request header ("httpoxy"); `http_proxy` still applies.

use alloc::borrow::ToOwned as _;
use alloc::string::String;
use core::fmt;

use base64::Engine as _;
use http::{HeaderValue, Uri};
use hyper_util::client::proxy::matcher::Matcher;

use crate::error::{ErrorKind, TransportError};

/// Where the client's proxy settings come from. The default reads the environment.
///
/// ```
/// use gb_transport::proxy::ProxyConfig;
///
/// // An explicit proxy with credentials, bypassed for internal hosts.
/// let proxy = ProxyConfig::url("http://proxy.corp:3128")
///     .basic_auth("svc-growthbook", "s3cret")
///     .no_proxy("localhost, .internal, 10.0.0.0/8");
/// assert!(!format!("{proxy:?}").contains("s3cret"));
///
/// // The environment, read from a map instead of the process (useful in tests).
/// let env = ProxyConfig::from_env_with(|name| {
///     (name == "https_proxy").then(|| "http://127.0.0.1:3128".to_owned())
/// });
/// assert!(env.is_enabled());
///
/// // No proxy, whatever the environment says.
/// assert!(!ProxyConfig::none().is_enabled());
/// ```
#[derive(Clone, Default)]
pub struct ProxyConfig {
    mode: Mode,
}

#[derive(Clone, Default)]
enum Mode {
    /// Read the process environment when the client is built.
    #[default]
    Env,
    /// Never use a proxy.
    Off,
    /// Resolved settings.
    Rules(Rules),
}

#[derive(Clone, Default)]
struct Rules {
    http: Option<Setting>,
    https: Option<Setting>,
    no_proxy: String,
    auth: Option<(String, String)>,
    /// Loopback destinations connect directly (settings from the environment).
    bypass_loopback: bool,
}

/// A proxy URL and where it came from (for error messages).
#[derive(Clone)]
struct Setting {
    url: String,
    from: &'static str,
}

const ENV_HTTPS: [&str; 2] = ["HTTPS_PROXY", "https_proxy"];
const ENV_ALL: [&str; 2] = ["ALL_PROXY", "all_proxy"];
const ENV_NO: [&str; 2] = ["NO_PROXY", "no_proxy"];

impl ProxyConfig {
    /// The process environment, read when the client is built (the default).
    pub fn from_env() -> Self {
        Self { mode: Mode::Env }
    }

    /// The environment as `get` reports it (`get("HTTPS_PROXY")`, `get("no_proxy")`, ...),
    /// read now. Empty values count as unset.
    pub fn from_env_with(get: impl Fn(&str) -> Option<String>) -> Self {
        let lookup = |names: &[&'static str]| {
            names.iter().find_map(|&name| {
                get(name)
                    .filter(|v| !v.trim().is_empty())
                    .map(|url| Setting { url, from: name })
            })
        };
        let cgi = get("REQUEST_METHOD").is_some_and(|v| !v.is_empty());
        let http_names: &[&'static str] = if cgi {
            &["http_proxy"]
        } else {
            &["HTTP_PROXY", "http_proxy"]
        };
        let all = lookup(&ENV_ALL);
        let rules = Rules {
            http: lookup(http_names).or_else(|| all.clone()),
            https: lookup(&ENV_HTTPS).or(all),
            no_proxy: lookup(&ENV_NO).map(|s| s.url).unwrap_or_default(),
            auth: None,
            bypass_loopback: true,
        };
        Self {
            mode: Mode::Rules(rules),
        }
    }

    /// Never use a proxy, whatever the environment says.
    pub fn none() -> Self {
        Self { mode: Mode::Off }
    }

    /// Every request goes through the proxy at `url` (`http://host:port`; credentials may be
    /// given as `http://user:password@host:port`, percent-encoded, or with
    /// [`basic_auth`](Self::basic_auth)). The environment is not read.
    pub fn url(url: impl Into<String>) -> Self {
        let setting = Setting {
            url: url.into(),
            from: "ProxyConfig::url",
        };
        Self {
            mode: Mode::Rules(Rules {
                http: Some(setting.clone()),
                https: Some(setting),
                ..Rules::default()
            }),
        }
    }

    /// Hosts that bypass the proxy, in `NO_PROXY` syntax (replaces any list from the
    /// environment). Reads the environment first if this config still defers to it.
    #[must_use]
    pub fn no_proxy(self, list: impl Into<String>) -> Self {
        let mut rules = self.into_rules();
        rules.no_proxy = list.into();
        Self {
            mode: Mode::Rules(rules),
        }
    }

    /// Sends `Proxy-Authorization: Basic …` with these credentials on every `CONNECT` (instead
    /// of any credentials in the URL). Reads the environment first if this config still defers
    /// to it.
    #[must_use]
    pub fn basic_auth(self, user: impl Into<String>, password: impl Into<String>) -> Self {
        let mut rules = self.into_rules();
        rules.auth = Some((user.into(), password.into()));
        Self {
            mode: Mode::Rules(rules),
        }
    }

    /// Whether any request may go through a proxy (reads the environment if this config
    /// defers to it).
    pub fn is_enabled(&self) -> bool {
        match &self.mode {
            Mode::Off => false,
            Mode::Env => Self::process_env().is_enabled(),
            Mode::Rules(rules) => rules.http.is_some() || rules.https.is_some(),
        }
    }

    fn process_env() -> Self {
        Self::from_env_with(|name| std::env::var(name).ok())
    }

    fn into_rules(self) -> Rules {
        match self.mode {
            Mode::Off => Rules::default(),
            Mode::Env => Self::process_env().into_rules(),
            Mode::Rules(rules) => rules,
        }
    }

    /// The routes to use, or `None` for direct connections only.
    ///
    /// # Errors
    /// [`ErrorKind::Config`] for a proxy URL that is not `http://host[:port]` (https and SOCKS
    /// proxies are not supported), or credentials that cannot be a header.
    pub(crate) fn routes(&self) -> Result<Option<ProxyRoutes>, TransportError> {
        let rules = match &self.mode {
            Mode::Off => return Ok(None),
            Mode::Env => Self::process_env().into_rules(),
            Mode::Rules(rules) => rules.clone(),
        };
        if rules.http.is_none() && rules.https.is_none() {
            return Ok(None);
        }
        let mut builder = Matcher::builder().no(rules.no_proxy.clone());
        if let Some(setting) = &rules.http {
            builder = builder.http(checked(setting)?);
        }
        if let Some(setting) = &rules.https {
            builder = builder.https(checked(setting)?);
        }
        let auth = rules
            .auth
            .as_ref()
            .map(|(user, password)| basic_auth_header(user, password))
            .transpose()?;
        Ok(Some(ProxyRoutes {
            matcher: builder.build(),
            auth,
            bypass_loopback: rules.bypass_loopback,
        }))
    }
}

/// Checks that a proxy URL is one hyper-util's matcher will take and the tunnel can use.
fn checked(setting: &Setting) -> Result<String, TransportError> {
    let bad = |why: &str| {
        TransportError::new(
            ErrorKind::Config,
            alloc::format!(
                "proxy URL from {} {why}; use ProxyConfig::none() to ignore the environment",
                setting.from
            ),
        )
    };
    let uri: Uri = setting
        .url
        .trim()
        .parse()
        .map_err(|_| bad("is not a valid URL"))?;
    match uri.scheme_str() {
        None | Some("http") => {}
        Some(_) => {
            return Err(bad(
                "must be http://host:port (https and SOCKS proxies are not supported)",
            ));
        }
    }
    let host = uri
        .authority()
        .map(|a| a.as_str().rsplit('@').next().unwrap_or(""));
    if host.is_none_or(str::is_empty) {
        return Err(bad("has no host"));
    }
    Ok(setting.url.trim().to_owned())
}

fn basic_auth_header(user: &str, password: &str) -> Result<HeaderValue, TransportError> {
    let encoded =
        base64::engine::general_purpose::STANDARD.encode(alloc::format!("{user}:{password}"));
    let mut value = HeaderValue::from_str(&alloc::format!("Basic {encoded}"))
        .map_err(|_| TransportError::new(ErrorKind::Config, "invalid proxy credentials"))?;
    value.set_sensitive(true);
    Ok(value)
}

impl fmt::Debug for ProxyConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.mode {
            Mode::Env => f.write_str("ProxyConfig(from environment)"),
            Mode::Off => f.write_str("ProxyConfig(none)"),
            Mode::Rules(rules) => f
                .debug_struct("ProxyConfig")
                .field("http", &rules.http.as_ref().map(|s| redact(&s.url)))
                .field("https", &rules.https.as_ref().map(|s| redact(&s.url)))
                .field("no_proxy", &rules.no_proxy)
                .field("basic_auth", &rules.auth.is_some())
                .finish(),
        }
    }
}

/// A proxy URL without its credentials.
fn redact(url: &str) -> String {
    match url.split_once('@') {
        Some((before, after)) => match before.split_once("://") {
            Some((scheme, _)) => alloc::format!("{scheme}://***@{after}"),
            None => alloc::format!("***@{after}"),
        },
        None => url.to_owned(),
    }
}

/// Resolved proxy rules: which proxy (if any) a destination goes through.
pub(crate) struct ProxyRoutes {
    matcher: Matcher,
    auth: Option<HeaderValue>,
    bypass_loopback: bool,
}

/// The proxy for one destination.
pub(crate) struct Route {
    /// `http://proxy:port/`.
    pub(crate) proxy: Uri,
    /// The `Proxy-Authorization` value, if any.
    pub(crate) auth: Option<HeaderValue>,
}

impl ProxyRoutes {
    /// The proxy `dst` goes through, or `None` to connect directly.
    pub(crate) fn route(&self, dst: &Uri) -> Option<Route> {
        if self.bypass_loopback && dst.host().is_some_and(is_loopback) {
            return None;
        }
        let intercept = self.matcher.intercept(dst)?;
        let auth = self
            .auth
            .clone()
            .or_else(|| intercept.basic_auth().cloned());
        Some(Route {
            proxy: intercept.uri().clone(),
            auth,
        })
    }
}

/// `localhost` (and its subdomains), `127.0.0.0/8` and `::1`.
fn is_loopback(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if let Ok(ip) = host.parse::<core::net::IpAddr>() {
        return ip.is_loopback();
    }
    let host = host.trim_end_matches('.');
    host.eq_ignore_ascii_case("localhost")
        || host
            .len()
            .checked_sub(".localhost".len())
            .and_then(|at| host.get(at..))
            .is_some_and(|tail| tail.eq_ignore_ascii_case(".localhost"))
}

impl fmt::Debug for ProxyRoutes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProxyRoutes")
            .field("matcher", &self.matcher)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        }
    }

    fn route(config: &ProxyConfig, dst: &str) -> Option<String> {
        let routes = config.routes().expect("valid")?;
        routes
            .route(&dst.parse().expect("uri"))
            .map(|r| r.proxy.to_string())
    }

    #[test]
    fn environment_is_read_through_the_getter() {
        let config = ProxyConfig::from_env_with(env(&[
            ("HTTPS_PROXY", "http://upper:1"),
            ("https_proxy", "http://lower:2"),
            ("http_proxy", "lower-http:3"),
            ("no_proxy", "internal.corp, 10.0.0.0/8"),
        ]));
        assert_eq!(
            route(&config, "https://cdn.growthbook.io/x").as_deref(),
            Some("http://upper:1/")
        );
        assert_eq!(
            route(&config, "http://cdn.growthbook.io/x").as_deref(),
            Some("http://lower-http:3/")
        );
        assert_eq!(route(&config, "https://gb.internal.corp/x"), None);
        assert_eq!(route(&config, "https://10.1.2.3/x"), None);
    }

    #[test]
    fn all_proxy_fills_in_and_empty_values_are_unset() {
        let config =
            ProxyConfig::from_env_with(env(&[("HTTPS_PROXY", " "), ("ALL_PROXY", "http://all:9")]));
        assert_eq!(
            route(&config, "https://a.example/").as_deref(),
            Some("http://all:9/")
        );
        assert_eq!(
            route(&config, "http://a.example/").as_deref(),
            Some("http://all:9/")
        );
        assert!(!ProxyConfig::from_env_with(env(&[])).is_enabled());
        assert!(
            ProxyConfig::from_env_with(env(&[]))
                .routes()
                .expect("ok")
                .is_none()
        );
    }

    #[test]
    fn cgi_ignores_uppercase_http_proxy() {
        let config = ProxyConfig::from_env_with(env(&[
            ("REQUEST_METHOD", "GET"),
            ("HTTP_PROXY", "http://injected:1"),
        ]));
        assert_eq!(route(&config, "http://a.example/"), None);
        let config = ProxyConfig::from_env_with(env(&[
            ("REQUEST_METHOD", "GET"),
            ("http_proxy", "http://admin-set:1"),
        ]));
        assert_eq!(
            route(&config, "http://a.example/").as_deref(),
            Some("http://admin-set:1/")
        );
    }

    #[test]
    fn unsupported_urls_are_typed_config_errors_naming_the_variable() {
        for url in ["socks5://p:1", "https://p:1", "http://", "not a url"] {
            let config = ProxyConfig::from_env_with(env(&[("HTTPS_PROXY", url)]));
            let err = config.routes().expect_err(url);
            assert_eq!(err.kind(), ErrorKind::Config);
            assert!(err.to_string().contains("HTTPS_PROXY"), "{err}");
        }
    }

    #[test]
    fn credentials_become_a_basic_header_and_never_show() {
        let config = ProxyConfig::url("http://user:p%40ss@proxy:8080");
        let routes = config.routes().expect("ok").expect("enabled");
        let r = routes
            .route(&"https://a.example/".parse().expect("uri"))
            .expect("routed");
        assert_eq!(r.proxy.to_string(), "http://proxy:8080/");
        // base64("user:p@ss")
        assert_eq!(r.auth.expect("auth"), "Basic dXNlcjpwQHNz");
        assert!(!format!("{config:?}").contains("p%40ss"));

        let config = ProxyConfig::url("http://proxy:8080").basic_auth("Aladdin", "open sesame");
        let routes = config.routes().expect("ok").expect("enabled");
        let r = routes
            .route(&"https://a.example/".parse().expect("uri"))
            .expect("routed");
        assert_eq!(r.auth.expect("auth"), "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
        assert!(!format!("{config:?}").contains("open sesame"));
    }

    #[test]
    fn loopback_bypasses_environment_proxies_only() {
        let config = ProxyConfig::from_env_with(env(&[("HTTPS_PROXY", "http://p:1")]));
        for dst in [
            "https://127.0.0.1:8/",
            "https://[::1]:8/",
            "https://localhost/",
            "https://a.localhost/",
        ] {
            assert_eq!(route(&config, dst), None, "{dst}");
        }
        assert!(route(&config, "https://127.example/").is_some());
        assert!(route(&config, "https://notlocalhost/").is_some());
        let explicit = ProxyConfig::url("http://p:1");
        assert!(route(&explicit, "https://127.0.0.1:8/").is_some());
    }

    #[test]
    fn none_and_no_proxy_star_bypass_everything() {
        assert!(ProxyConfig::none().routes().expect("ok").is_none());
        let config = ProxyConfig::url("http://proxy:1").no_proxy("*");
        assert_eq!(route(&config, "https://a.example/"), None);
    }
}
