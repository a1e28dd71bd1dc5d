//! URL targeting (`urlPatterns`) and URL redirects, as the reference SDK evaluates them.

use alloc::borrow::Cow;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;

use gb_condition::scan;
use gb_condition::{Condition, JsRegex, RegexError, Root, SavedGroups};
use serde_json::Value;

use crate::compiling::Compiling;
use crate::warning::{Detail, WarningKind};

/// One `urlPatterns` entry.
#[derive(Debug, Clone)]
pub(crate) struct UrlTarget {
    include: bool,
    kind: TargetKind,
}

#[derive(Debug, Clone)]
enum TargetKind {
    Simple(String),
    /// Shared, so a cloned experiment keeps the compiled regex.
    Regex(Option<Arc<JsRegex>>),
    /// A regex this build cannot run (no engine, over a size limit or the payload's budget):
    /// no URL is targeted, so an exclusion is never skipped.
    Unavailable,
    Unknown,
}

impl UrlTarget {
    pub(crate) fn parse(v: &Value, w: &mut Compiling) -> Option<UrlTarget> {
        let pattern = v.get("pattern")?.as_str()?;
        let kind = match v.get("type").and_then(Value::as_str) {
            Some("simple") => TargetKind::Simple(pattern.into()),
            Some("regex") => match w.regex(pattern) {
                Ok(r) => TargetKind::Regex(Some(Arc::new(r))),
                // The reference SDK treats an invalid or unsupported pattern as no match.
                Err(RegexError::Invalid(_) | RegexError::Unsupported(_)) => TargetKind::Regex(None),
                Err(e) => {
                    w.warn(
                        WarningKind::UrlPattern,
                        Detail::UrlPattern(pattern.into(), e),
                    );
                    TargetKind::Unavailable
                }
            },
            _ => TargetKind::Unknown,
        };
        Some(UrlTarget {
            include: !matches!(v.get("include"), Some(Value::Bool(false))),
            kind,
        })
    }
}

/// The deprecated `url` regex (compiled as a condition on `u`): does it match the URL, or
/// the URL's path?
pub(crate) fn url_matches(c: &Condition, url: &str) -> bool {
    if url.is_empty() {
        return false;
    }
    let no_scheme = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .unwrap_or(url);
    let path_only: String = match scan::find(no_scheme, b'/') {
        Some(i) => no_scheme[i..].into(),
        None => no_scheme.into(),
    };
    let groups = SavedGroups::new();
    [String::from(url), path_only]
        .into_iter()
        .any(|u| c.matches_root(Root::Single("u", &Value::String(u)), &groups))
}

/// The reference `isURLTargeted`.
pub(crate) fn is_url_targeted(url: &str, targets: &[UrlTarget]) -> bool {
    if targets.is_empty() {
        return false;
    }
    if targets
        .iter()
        .any(|t| matches!(t.kind, TargetKind::Unavailable))
    {
        return false;
    }
    let mut has_include = false;
    let mut included = false;
    for t in targets {
        let m = eval_target(url, &t.kind);
        if !t.include {
            if m {
                return false;
            }
        } else {
            has_include = true;
            if m {
                included = true;
            }
        }
    }
    included || !has_include
}

fn eval_target(url: &str, kind: &TargetKind) -> bool {
    let actual = Url::parse(url, "_");
    match kind {
        TargetKind::Regex(Some(r)) => {
            let href = actual.href();
            r.is_match(&href) || r.is_match(&href[actual.origin_len()..])
        }
        TargetKind::Simple(p) => eval_simple(&actual, p),
        _ => false,
    }
}

fn eval_simple(actual: &Url<'_>, pattern: &str) -> bool {
    // A host without a protocol gets `https://`; `*` is the wildcard.
    let mut pat = String::new();
    let dot = scan::find(pattern, b'.');
    let head_ok = dot.is_some_and(|i| !scan::contains_any(&pattern[..i], b":/?"));
    if head_ok {
        pat.push_str("https://");
    }
    pat.push_str(pattern);
    let expected = Url::parse(&pat, "*");
    if !glob_match(&actual.host, &expected.host) || !path_match(actual.path, expected.path) {
        return false;
    }
    if !expected.fragment.is_empty() && !glob_match(actual.fragment, expected.fragment) {
        return false;
    }
    // JS compares `URLSearchParams` entries: names and values decoded (`+` is a space,
    // `%XX` a byte, the bytes UTF-8), `actual.searchParams.get(k) || ""`.
    expected.query_pairs().all(|(k, v)| {
        let k = form_decode(k);
        let a = actual
            .query_pairs()
            .find(|(ak, _)| form_decode(ak) == k)
            .map(|(_, av)| form_decode(av));
        glob_match(a.as_deref().unwrap_or(""), &form_decode(v))
    })
}

fn path_match(actual: &str, pattern: &str) -> bool {
    let p = pattern.strip_prefix("/").unwrap_or(pattern);
    let p = p.strip_suffix("/").unwrap_or(p);
    let a1 = actual.strip_prefix("/").unwrap_or(actual);
    [actual, a1]
        .iter()
        .any(|a| glob_match(a, p) || a.strip_suffix("/").is_some_and(|b| glob_match(b, p)))
}

/// Case-insensitive match where `*` in `pattern` matches any run of characters.
fn glob_match(text: &str, pattern: &str) -> bool {
    let lower = |c| {
        let (a, b) = gb_condition::lower::lower_char(c);
        core::iter::once(a).chain(b)
    };
    let t: Vec<char> = text.chars().flat_map(lower).collect();
    let p: Vec<char> = pattern.chars().flat_map(lower).collect();
    let (mut ti, mut pi) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while ti < t.len() {
        if pi < p.len() && p[pi] != '*' && p[pi] == t[ti] {
            ti += 1;
            pi += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == '*' {
        pi += 1;
    }
    pi == p.len()
}

/// A URL split into the parts targeting looks at.
#[derive(Debug)]
pub(crate) struct Url<'a> {
    scheme: &'a str,
    host: String,
    path: &'a str,
    query: &'a str,
    fragment: &'a str,
}

impl<'a> Url<'a> {
    /// Parses `s`, resolving a relative URL against `https://<default_host>`.
    pub(crate) fn parse(s: &'a str, default_host: &str) -> Url<'a> {
        let (s, fragment) = scan::split_once(s, b'#').unwrap_or((s, ""));
        let (s, query) = scan::split_once(s, b'?').unwrap_or((s, ""));
        // A byte window, not `str::find`: that links core's two-way substring searcher (2.7 KB of
        // wasm) for this one three-byte needle.
        let (scheme, host, path) = match s.as_bytes().windows(3).position(|w| w == b"://") {
            Some(i)
                if s[..i]
                    .bytes()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'-' | b'.')) =>
            {
                let rest = &s[i + 3..];
                let (auth, path) = match scan::find(rest, b'/') {
                    Some(j) => (&rest[..j], &rest[j..]),
                    None => (rest, ""),
                };
                let auth = scan::rfind(auth, b'@').map_or(auth, |j| &auth[j + 1..]);
                let scheme = &s[..i];
                let default_port = match scheme {
                    "http" => ":80",
                    "https" => ":443",
                    _ => "",
                };
                let host = auth
                    .strip_suffix(default_port)
                    .filter(|_| !default_port.is_empty())
                    .unwrap_or(auth);
                (scheme, gb_condition::lower::to_lowercase(host), path)
            }
            _ => ("https", String::from(default_host), s),
        };
        Url {
            scheme,
            host,
            path,
            query,
            fragment,
        }
    }

    fn path_or_root(&self) -> &str {
        if self.path.is_empty() { "/" } else { self.path }
    }

    pub(crate) fn href(&self) -> String {
        let mut h = String::new();
        h.push_str(self.scheme);
        h.push_str("://");
        h.push_str(&self.host);
        h.push_str(self.path_or_root());
        if !self.query.is_empty() {
            h.push('?');
            h.push_str(self.query);
        }
        if !self.fragment.is_empty() {
            h.push('#');
            h.push_str(self.fragment);
        }
        h
    }

    fn origin_len(&self) -> usize {
        self.scheme.len() + 3 + self.host.len()
    }

    fn query_pairs(&self) -> impl Iterator<Item = (&'a str, &'a str)> + 'a {
        let q = self.query;
        scan::split(q, b'&')
            .filter(|kv| !kv.is_empty())
            .map(|kv| scan::split_once(kv, b'=').unwrap_or((kv, "")))
    }
}

/// The reference `mergeQueryStrings`: the current URL's query parameters that the redirect
/// URL does not set are appended to it through `URLSearchParams`, which then re-serializes
/// the whole query (`application/x-www-form-urlencoded`: a space is `+`).
pub fn merge_query_strings(old_url: &str, new_url: &str) -> String {
    let old = Url::parse(old_url, "_");
    let new = Url::parse(new_url, "_");
    let mut pairs: Vec<(Cow<'_, str>, Cow<'_, str>)> = new
        .query_pairs()
        .map(|(k, v)| (form_decode(k), form_decode(v)))
        .collect();
    let mut changed = false;
    for (k, v) in old.query_pairs() {
        let k = form_decode(k);
        if pairs.iter().any(|(nk, _)| *nk == k) {
            continue;
        }
        pairs.push((k, form_decode(v)));
        changed = true;
    }
    let q = if changed {
        let mut q = String::new();
        for (i, (k, v)) in pairs.iter().enumerate() {
            if i > 0 {
                q.push('&');
            }
            form_encode(&mut q, k);
            q.push('=');
            form_encode(&mut q, v);
        }
        q
    } else {
        String::from(new.query)
    };
    let merged = Url {
        scheme: new.scheme,
        host: new.host.clone(),
        path: new.path,
        query: &q,
        fragment: new.fragment,
    };
    merged.href()
}

/// The `application/x-www-form-urlencoded` parser's decoding of one name or value, as
/// `URLSearchParams` does it: `+` is a space, `%XX` a byte (a `%` without two hex digits
/// stays), and the bytes are UTF-8 with U+FFFD for invalid sequences.
pub(crate) fn form_decode(s: &str) -> Cow<'_, str> {
    if !scan::contains_any(s, b"%+") {
        return Cow::Borrowed(s);
    }
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() && hex(b[i + 1]).is_some() && hex(b[i + 2]).is_some() => {
                out.push(hex(b[i + 1]).unwrap_or(0) * 16 + hex(b[i + 2]).unwrap_or(0));
                i += 2;
            }
            c => out.push(c),
        }
        i += 1;
    }
    Cow::Owned(scan::from_utf8_lossy(out))
}

fn hex(c: u8) -> Option<u8> {
    (c as char).to_digit(16).and_then(|d| u8::try_from(d).ok())
}

/// The `application/x-www-form-urlencoded` serializer: `*-._` and ASCII alphanumerics as
/// they are, a space as `+`, every other byte as `%XX`.
fn form_encode(out: &mut String, s: &str) {
    for &b in s.as_bytes() {
        match b {
            b'*' | b'-' | b'.' | b'_' | b'0'..=b'9' | b'A'..=b'Z' | b'a'..=b'z' => {
                out.push(char::from(b));
            }
            b' ' => out.push('+'),
            _ => {
                const HEX: &[u8; 16] = b"0123456789ABCDEF";
                out.push('%');
                out.push(char::from(HEX[usize::from(b >> 4)]));
                out.push(char::from(HEX[usize::from(b & 15)]));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn simple_targets() {
        let t = [UrlTarget {
            include: true,
            kind: TargetKind::Simple("http://www.example.com/home".into()),
        }];
        assert!(is_url_targeted("http://www.example.com/home", &t));
        assert!(is_url_targeted("http://www.example.com/home/?x=1", &t));
        assert!(!is_url_targeted("http://www.example.com/", &t));
        let w = [UrlTarget {
            include: true,
            kind: TargetKind::Simple("example.com/*/edit".into()),
        }];
        assert!(is_url_targeted("https://example.com/posts/edit", &w));
    }

    /// JS `URLSearchParams` decodes names and values: `?q=a%20b` and `?q=a+b` both hold
    /// `"a b"`, and `%C3%A9` is `é` (checked with Node 20's `URL`).
    #[test]
    fn query_values_are_decoded_as_url_search_params() {
        let t = |p: &str| {
            [UrlTarget {
                include: true,
                kind: TargetKind::Simple(p.into()),
            }]
        };
        assert!(is_url_targeted(
            "https://a.com/x?q=a%20b",
            &t("https://a.com/x?q=a+b")
        ));
        assert!(is_url_targeted(
            "https://a.com/x?q=a+b",
            &t("https://a.com/x?q=a b")
        ));
        assert!(is_url_targeted(
            "https://a.com/x?q=%C3%A9",
            &t("https://a.com/x?q=é")
        ));
        assert!(is_url_targeted(
            "https://a.com/x?%71=1",
            &t("https://a.com/x?q=1")
        ));
        assert!(!is_url_targeted(
            "https://a.com/x?q=a%2Bb",
            &t("https://a.com/x?q=a+b")
        ));
        assert_eq!(form_decode("%zz%4"), "%zz%4");
        assert_eq!(form_decode("%FF"), "\u{fffd}");
    }

    /// `searchParams.set` re-serializes the query: `a b` becomes `a+b`, `é` `%C3%A9`.
    #[test]
    fn merged_queries_are_reserialized() {
        assert_eq!(
            merge_query_strings("https://a.com/x?t=a%20b&u=é", "https://a.com/y?c=1"),
            "https://a.com/y?c=1&t=a+b&u=%C3%A9"
        );
        assert_eq!(
            merge_query_strings("https://a.com/x?c=2", "https://a.com/y?c=a%20b"),
            "https://a.com/y?c=a%20b"
        );
    }

    #[test]
    fn merges_queries() {
        assert_eq!(
            merge_query_strings("http://a.com/x?color=blue&t=o", "http://a.com/y?color=red"),
            "http://a.com/y?color=red&t=o"
        );
    }
}
