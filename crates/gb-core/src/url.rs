//! URL targeting (`urlPatterns`) and URL redirects, as the reference SDK evaluates them.

use alloc::string::String;
use alloc::vec::Vec;

use gb_condition::{JsRegex, RegexError};
use serde_json::Value;

use crate::compiling::Compiling;

/// One `urlPatterns` entry.
#[derive(Debug)]
pub(crate) struct UrlTarget {
    include: bool,
    kind: TargetKind,
}

#[derive(Debug)]
enum TargetKind {
    Simple(String),
    Regex(Option<JsRegex>),
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
                Ok(r) => TargetKind::Regex(Some(r)),
                // The reference SDK treats an invalid or unsupported pattern as no match.
                Err(RegexError::Invalid(_) | RegexError::Unsupported(_)) => TargetKind::Regex(None),
                Err(e) => {
                    w.push(alloc::format!(
                        "urlPatterns regex {pattern:?} {e}; the experiment targets no URL"
                    ));
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
    let dot = pattern.find('.');
    let head_ok = dot.is_some_and(|i| !pattern[..i].contains([':', '/', '?']));
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
    expected.query_pairs().all(|(k, v)| {
        let a = actual
            .query_pairs()
            .find(|(ak, _)| *ak == k)
            .map_or("", |(_, av)| av);
        glob_match(a, v)
    })
}

fn path_match(actual: &str, pattern: &str) -> bool {
    let p = pattern.strip_prefix('/').unwrap_or(pattern);
    let p = p.strip_suffix('/').unwrap_or(p);
    let a1 = actual.strip_prefix('/').unwrap_or(actual);
    [actual, a1]
        .iter()
        .any(|a| glob_match(a, p) || a.strip_suffix('/').is_some_and(|b| glob_match(b, p)))
}

/// Case-insensitive match where `*` in `pattern` matches any run of characters.
fn glob_match(text: &str, pattern: &str) -> bool {
    let t: Vec<char> = text.chars().flat_map(char::to_lowercase).collect();
    let p: Vec<char> = pattern.chars().flat_map(char::to_lowercase).collect();
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
        let (s, fragment) = match s.find('#') {
            Some(i) => (&s[..i], &s[i + 1..]),
            None => (s, ""),
        };
        let (s, query) = match s.find('?') {
            Some(i) => (&s[..i], &s[i + 1..]),
            None => (s, ""),
        };
        let (scheme, host, path) = match s.find("://") {
            Some(i)
                if s[..i]
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c)) =>
            {
                let rest = &s[i + 3..];
                let (auth, path) = match rest.find('/') {
                    Some(j) => (&rest[..j], &rest[j..]),
                    None => (rest, ""),
                };
                let auth = auth.rsplit('@').next().unwrap_or(auth);
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
                (scheme, host.to_lowercase(), path)
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
        q.split('&')
            .filter(|kv| !kv.is_empty())
            .map(|kv| kv.split_once('=').unwrap_or((kv, "")))
    }
}

/// The reference `mergeQueryStrings`: the current URL's query parameters that the redirect
/// URL does not set are appended to it.
pub fn merge_query_strings(old_url: &str, new_url: &str) -> String {
    let old = Url::parse(old_url, "_");
    let new = Url::parse(new_url, "_");
    let mut q = String::from(new.query);
    for (k, v) in old.query_pairs() {
        if new.query_pairs().any(|(nk, _)| nk == k)
            || q.split('&').any(|kv| kv.split('=').next() == Some(k))
        {
            continue;
        }
        if !q.is_empty() {
            q.push('&');
        }
        q.push_str(k);
        q.push('=');
        q.push_str(v);
    }
    let merged = Url {
        scheme: new.scheme,
        host: new.host.clone(),
        path: new.path,
        query: &q,
        fragment: new.fragment,
    };
    merged.href()
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

    #[test]
    fn merges_queries() {
        assert_eq!(
            merge_query_strings("http://a.com/x?color=blue&t=o", "http://a.com/y?color=red"),
            "http://a.com/y?color=red&t=o"
        );
    }
}
