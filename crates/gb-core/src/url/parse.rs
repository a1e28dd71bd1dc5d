//! The WHATWG URL parser and serializer, as far as URL targeting and redirects read a URL
//! (`new URL(input, base)` in Node 20): schemes, special and relative URLs, backslashes in
//! special URLs, user info, hosts (`host.rs`), default ports, dot segments, and the
//! percent-encoding of paths, queries and fragments (`percent.rs`). Every serialized
//! component is ASCII, so `href` indexes are UTF-16 indexes too.
//!
//! Not covered: `file:` URLs' drive letters and host quirks (read as a special scheme
//! without a default port), and the trailing-space rule of opaque paths.

use alloc::string::String;

use gb_condition::scan;

use super::host;
use super::percent::{self, Set};

/// A parsed URL: its serialized components.
#[derive(Debug, Clone)]
pub(crate) struct Url {
    /// The scheme, lower-cased, without `:`.
    pub(crate) scheme: String,
    /// `user:pass@`, `user@` or empty, percent-encoded.
    userinfo: String,
    /// The serialized host and `:port` unless the port is absent or the scheme's default
    /// (the `host` getter), or `None` (an opaque-path URL such as `mailto:x`).
    host: Option<String>,
    /// The serialized path (`/a/b`), or an opaque path.
    pub(crate) path: String,
    /// The query without `?` (`Some("")` for a bare `?`).
    pub(crate) query: Option<String>,
    /// The fragment without `#` (`Some("")` for a bare `#`).
    pub(crate) fragment: Option<String>,
}

fn is_special(scheme: &str) -> bool {
    matches!(scheme, "http" | "https" | "ws" | "wss" | "ftp" | "file")
}

fn default_port(scheme: &str) -> Option<u16> {
    match scheme {
        "http" | "ws" => Some(80),
        "https" | "wss" => Some(443),
        "ftp" => Some(21),
        _ => None,
    }
}

impl Url {
    /// `https://<host>/`: the base URL targeting resolves against.
    pub(crate) fn base(host: &str) -> Url {
        Url {
            scheme: String::from("https"),
            userinfo: String::new(),
            host: Some(String::from(host)),
            path: String::from("/"),
            query: None,
            fragment: None,
        }
    }

    /// `new URL(input, base)`, or `None` where it throws. `base` is special (`https`).
    pub(crate) fn parse(input: &str, base: Option<&Url>) -> Option<Url> {
        let trimmed = input.trim_matches(|c: char| c <= ' ');
        let cleaned: String;
        let s = if scan::contains_any(trimmed, b"\t\n\r") {
            cleaned = trimmed
                .chars()
                .filter(|c| !matches!(c, '\t' | '\n' | '\r'))
                .collect();
            cleaned.as_str()
        } else {
            trimmed
        };
        match scheme_of(s) {
            Some((scheme, rest)) => {
                if scheme == "file" {
                    file(rest)
                } else if is_special(&scheme) {
                    match base {
                        Some(b) if b.scheme == scheme => relative(rest, b),
                        _ => authority_and_rest(scheme, skip_slashes(rest, true)),
                    }
                } else if let Some(after) = rest.strip_prefix("//") {
                    authority_and_rest(scheme, after)
                } else if rest.starts_with('/') {
                    let mut url = Url::empty(scheme, None);
                    url.path_query_fragment(rest, false);
                    Some(url)
                } else {
                    let mut url = Url::empty(scheme, None);
                    let (p, q, f) = split_query_fragment(rest);
                    percent::encode_into(&mut url.path, p, Set::C0Control);
                    url.set_query_fragment(q, f, false);
                    Some(url)
                }
            }
            None => relative(s, base?),
        }
    }

    fn empty(scheme: String, host: Option<String>) -> Url {
        Url {
            scheme,
            userinfo: String::new(),
            host,
            path: String::new(),
            query: None,
            fragment: None,
        }
    }

    fn special(&self) -> bool {
        is_special(&self.scheme)
    }

    /// The path state from the start of `rest` (a leading `/` or `\` is the path's own), then
    /// the query and fragment states.
    fn path_query_fragment(&mut self, rest: &str, relative_to_base: bool) {
        let special = self.special();
        let (p, q, f) = split_query_fragment(rest);
        if !special && p.is_empty() {
            self.path.clear();
            self.set_query_fragment(q, f, special);
            return;
        }
        // The path is built in place: each segment is encoded after a `/`, then dropped
        // again if it is a dot segment. Dropping the last segment is cutting at its `/`.
        let mut path = core::mem::take(&mut self.path);
        if relative_to_base {
            // The base's path, shortened by its last segment.
            shorten(&mut path);
        } else {
            path.clear();
        }
        let is_slash = |c: u8| c == b'/' || (special && c == b'\\');
        let body = match p.as_bytes().first() {
            Some(&c) if is_slash(c) => &p[1..],
            _ => p,
        };
        let bytes = body.as_bytes();
        let mut start = 0;
        loop {
            let end = (start..bytes.len())
                .find(|&i| is_slash(bytes[i]))
                .unwrap_or(bytes.len());
            let last = end == bytes.len();
            let seg_start = path.len();
            path.push('/');
            percent::encode_into(&mut path, &body[start..end], Set::Path);
            let seg = &path[seg_start + 1..];
            if is_double_dot(seg) {
                path.truncate(seg_start);
                shorten(&mut path);
                if last {
                    path.push('/');
                }
            } else if is_single_dot(seg) {
                path.truncate(seg_start);
                if last {
                    path.push('/');
                }
            }
            if last {
                break;
            }
            start = end + 1;
        }
        self.path = path;
        self.set_query_fragment(q, f, special);
    }

    fn set_query_fragment(&mut self, q: Option<&str>, f: Option<&str>, special: bool) {
        self.query = q.map(|q| {
            let mut out = String::new();
            let set = if special {
                Set::SpecialQuery
            } else {
                Set::Query
            };
            percent::encode_into(&mut out, q, set);
            out
        });
        self.set_fragment(f);
    }

    fn set_fragment(&mut self, f: Option<&str>) {
        self.fragment = f.map(|f| {
            let mut out = String::new();
            percent::encode_into(&mut out, f, Set::Fragment);
            out
        });
    }

    /// The `host` getter: the host and a non-default port.
    pub(crate) fn host_and_port(&self) -> &str {
        self.host.as_deref().unwrap_or("")
    }

    /// The `hash` getter: `#` and the fragment, or empty for no or an empty fragment.
    pub(crate) fn hash(&self) -> String {
        match self.fragment.as_deref() {
            Some(f) if !f.is_empty() => {
                let mut h = String::from("#");
                h.push_str(f);
                h
            }
            _ => String::new(),
        }
    }

    /// The `href` getter.
    pub(crate) fn href(&self) -> String {
        let mut h = self.scheme.clone();
        h.push(':');
        if self.host.is_some() {
            h.push_str("//");
            h.push_str(&self.userinfo);
            h.push_str(self.host_and_port());
        }
        h.push_str(&self.path);
        if let Some(q) = &self.query {
            h.push('?');
            h.push_str(q);
        }
        if let Some(f) = &self.fragment {
            h.push('#');
            h.push_str(f);
        }
        h
    }

    /// The length of the `origin` getter's text: `scheme://host[:port]` for special schemes
    /// but `file`, `"null"` for the others.
    pub(crate) fn origin_len(&self) -> usize {
        if self.special() && self.scheme != "file" {
            self.scheme.len() + 3 + self.host_and_port().len()
        } else {
            4
        }
    }

    /// The query as `URLSearchParams` reads it: `(name, value)` pairs, still encoded.
    pub(crate) fn query_pairs(&self) -> impl Iterator<Item = (&str, &str)> {
        let q = self.query.as_deref().unwrap_or("");
        super::form::pairs(q)
    }
}

/// A scheme (`alpha *(alnum / + / - / .)` then `:`), lower-cased, and what follows it.
fn scheme_of(s: &str) -> Option<(String, &str)> {
    let b = s.as_bytes();
    if !b.first()?.is_ascii_alphabetic() {
        return None;
    }
    let end = b
        .iter()
        .position(|&c| !(c.is_ascii_alphanumeric() || matches!(c, b'+' | b'-' | b'.')))?;
    if b[end] != b':' {
        return None;
    }
    Some((s[..end].to_ascii_lowercase(), &s[end + 1..]))
}

fn skip_slashes(s: &str, special: bool) -> &str {
    let n = s
        .bytes()
        .take_while(|&c| c == b'/' || (special && c == b'\\'))
        .count();
    &s[n..]
}

/// The authority state (user info, host, port), then the path, query and fragment.
fn authority_and_rest(scheme: String, s: &str) -> Option<Url> {
    let special = is_special(&scheme);
    let end = s
        .bytes()
        .position(|c| matches!(c, b'/' | b'?' | b'#') || (special && c == b'\\'))
        .unwrap_or(s.len());
    let (authority, rest) = s.split_at(end);
    let (userinfo, hostport) = match scan::rfind(authority, b'@') {
        Some(i) => {
            if i + 1 == authority.len() {
                return None;
            }
            (Some(&authority[..i]), &authority[i + 1..])
        }
        None => (None, authority),
    };
    let mut url = Url::empty(scheme, None);
    if let Some(info) = userinfo {
        let (user, pass) = scan::split_once(info, b':').unwrap_or((info, ""));
        let mut out = String::new();
        percent::encode_into(&mut out, user, Set::Userinfo);
        if !pass.is_empty() {
            out.push(':');
            percent::encode_into(&mut out, pass, Set::Userinfo);
        }
        if !out.is_empty() {
            out.push('@');
        }
        url.userinfo = out;
    }
    // The first `:` outside brackets starts the port.
    let mut in_brackets = false;
    let colon = hostport.bytes().position(|c| {
        match c {
            b'[' => in_brackets = true,
            b']' => in_brackets = false,
            b':' if !in_brackets => return true,
            _ => {}
        }
        false
    });
    let (host, port) = match colon {
        Some(i) => (&hostport[..i], Some(&hostport[i + 1..])),
        None => (hostport, None),
    };
    // `file:` URLs, whose host may be empty, are read by `file`.
    url.host = Some(if host.is_empty() {
        if special {
            return None;
        }
        String::new()
    } else if special {
        host::parse_special(host)?
    } else {
        host::parse_opaque(host)?
    });
    if let Some(p) = port.filter(|p| !p.is_empty()) {
        if !p.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let digits = p.trim_start_matches('0');
        if digits.len() > 5 {
            return None;
        }
        let n: u32 = digits.parse().unwrap_or(0);
        let n = u16::try_from(n).ok()?;
        if Some(n) != default_port(&url.scheme)
            && let Some(h) = url.host.as_mut()
        {
            h.push(':');
            h.push_str(itoa::Buffer::new().format(n));
        }
    }
    url.path_query_fragment(rest, false);
    Some(url)
}

/// The relative state: `s` against `base` (special).
fn relative(s: &str, base: &Url) -> Option<Url> {
    if two_slashes(s) {
        return authority_and_rest(base.scheme.clone(), skip_slashes(s, true));
    }
    let b = s.as_bytes();
    let mut url = Url {
        fragment: None,
        ..base.clone()
    };
    match b.first() {
        None => {}
        Some(b'?') => {
            let (_, q, f) = split_query_fragment(s);
            url.set_query_fragment(q, f, true);
        }
        Some(b'#') => url.set_fragment(Some(&s[1..])),
        Some(&c) => url.path_query_fragment(s, !(c == b'/' || c == b'\\')),
    }
    Some(url)
}

/// Whether `s` starts with two of `/` and `\\` (a special URL's authority follows).
fn two_slashes(s: &str) -> bool {
    let slash = |c: Option<&u8>| matches!(c, Some(b'/' | b'\\'));
    slash(s.as_bytes().first()) && slash(s.as_bytes().get(1))
}

/// A `file:` URL: `file://host/path` or `file:path`, the host `localhost` read as empty.
fn file(rest: &str) -> Option<Url> {
    let mut url = Url::empty(String::from("file"), Some(String::new()));
    let mut path = rest;
    if two_slashes(rest) {
        let after = &rest[2..];
        let end = after
            .bytes()
            .position(|c| matches!(c, b'/' | b'\\' | b'?' | b'#'))
            .unwrap_or(after.len());
        let host = &after[..end];
        if !host.is_empty() {
            let h = host::parse_special(host)?;
            url.host = Some(if h == "localhost" { String::new() } else { h });
        }
        path = &after[end..];
    }
    url.path_query_fragment(path, false);
    Some(url)
}

/// `(path, query, fragment)`: the query from the first `?` before any `#`, the fragment
/// from the first `#`.
fn split_query_fragment(s: &str) -> (&str, Option<&str>, Option<&str>) {
    let (before, fragment) = match scan::split_once(s, b'#') {
        Some((a, f)) => (a, Some(f)),
        None => (s, None),
    };
    match scan::split_once(before, b'?') {
        Some((p, q)) => (p, Some(q), fragment),
        None => (before, None, fragment),
    }
}

/// Removes a serialized path's last segment (`/a/b` becomes `/a`, `/` becomes empty).
fn shorten(path: &mut String) {
    if let Some(i) = scan::rfind(path, b'/') {
        path.truncate(i);
    }
}

fn is_single_dot(s: &str) -> bool {
    s == "." || s.eq_ignore_ascii_case("%2e")
}

fn is_double_dot(s: &str) -> bool {
    matches!(s, "..")
        || s.eq_ignore_ascii_case(".%2e")
        || s.eq_ignore_ascii_case("%2e.")
        || s.eq_ignore_ascii_case("%2e%2e")
}
