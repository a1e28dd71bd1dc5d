//! URL targeting (`urlPatterns`) and URL redirects, as the reference SDK evaluates them:
//! URLs are read as Node 20's `URL` reads them (`parse.rs`), so a pattern and a URL compare
//! in the same normalized, percent-encoded form.

mod form;
mod host;
mod parse;
mod percent;

use alloc::borrow::Cow;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;

use gb_condition::scan;
use gb_condition::{Condition, JsRegex, RegexError, Root, SavedGroups};
use serde_json::Value;

use crate::compiling::Compiling;
use crate::warning::{Detail, WarningKind};

use parse::Url;

/// One `urlPatterns` entry.
#[derive(Debug, Clone)]
pub(crate) struct UrlTarget {
    include: bool,
    kind: TargetKind,
}

#[derive(Debug, Clone)]
enum TargetKind {
    /// A `simple` pattern, parsed when a URL is evaluated (only the entry points that run
    /// experiments do), so a build that only evaluates features links no URL parser.
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
    // `new URL(url, "https://_")`, once for every target (each would throw alike).
    let actual = Url::parse(url, Some(&Url::base("_")));
    let mut has_include = false;
    let mut included = false;
    for t in targets {
        let m = eval_target(actual.as_ref(), &t.kind);
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

fn eval_target(actual: Option<&Url>, kind: &TargetKind) -> bool {
    let Some(actual) = actual else {
        return false;
    };
    match kind {
        TargetKind::Regex(Some(r)) => {
            let href = actual.href();
            let tail = href.get(actual.origin_len()..).unwrap_or("");
            r.is_match(&href) || r.is_match(tail)
        }
        // `None` where the reference's `new URL(pattern)` throws: nothing is targeted.
        TargetKind::Simple(p) => Expected::parse(p).is_some_and(|e| e.matches(actual)),
        _ => false,
    }
}

/// A `simple` pattern as the reference reads it: `new URL(pattern', "https://_____")` where
/// `pattern'` has `https://` before a leading host and `_____` for each `*`; its parts with
/// `_____` back as the glob's `*`.
#[derive(Debug)]
struct Expected {
    host: String,
    path: String,
    /// The `hash` getter's text (`#` and the fragment, or empty), compared only when not
    /// empty.
    hash: String,
    /// `searchParams`, decoded.
    params: Vec<(String, String)>,
}

impl Expected {
    fn parse(pattern: &str) -> Option<Expected> {
        // `pattern.replace(/^([^:/?]*)\./i, "https://$1.")`: a first `.` with none of `:/?`
        // before it.
        let mut pat = String::new();
        let dot = scan::find(pattern, b'.');
        if dot.is_some_and(|i| !scan::contains_any(&pattern[..i], b":/?")) {
            pat.push_str("https://");
        }
        for c in pattern.chars() {
            if c == '*' {
                pat.push_str(WILD);
            } else {
                pat.push(c);
            }
        }
        let url = Url::parse(&pat, Some(&Url::base(WILD)))?;
        let glob = |s: &str| {
            if s.contains(WILD) {
                s.replace(WILD, "*")
            } else {
                String::from(s)
            }
        };
        Some(Expected {
            host: glob(url.host_and_port()),
            path: glob(&url.path),
            hash: glob(&url.hash()),
            params: url
                .query_pairs()
                .map(|(k, v)| (glob(&form::decode(k)), glob(&form::decode(v))))
                .collect(),
        })
    }

    fn matches(&self, actual: &Url) -> bool {
        if !glob_match(actual.host_and_port(), &self.host) || !path_match(&actual.path, &self.path)
        {
            return false;
        }
        if !self.hash.is_empty() && !glob_match(&actual.hash(), &self.hash) {
            return false;
        }
        // `actual.searchParams.get(k) || ""`: the first pair of that name.
        self.params.iter().all(|(k, v)| {
            let a = actual
                .query_pairs()
                .find(|(ak, _)| form::decode(ak) == k.as_str())
                .map(|(_, av)| form::decode(av));
            glob_match(a.as_deref().unwrap_or(""), v)
        })
    }
}

/// The reference's wildcard inside a pattern while it is parsed as a URL.
const WILD: &str = "_____";

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
    if text.is_ascii() && pattern.is_ascii() {
        // Hosts, paths and hashes are ASCII once serialized: compare bytes, no allocation.
        return glob_units(
            text.as_bytes(),
            pattern.as_bytes(),
            |a, b| a.eq_ignore_ascii_case(&b),
            b'*',
        );
    }
    let lower = |c| {
        let (a, b) = gb_condition::lower::lower_char(c);
        core::iter::once(a).chain(b)
    };
    let t: Vec<char> = text.chars().flat_map(lower).collect();
    let p: Vec<char> = pattern.chars().flat_map(lower).collect();
    glob_units(&t, &p, |a, b| a == b, '*')
}

/// The glob over units (bytes or chars): `star` in `p` matches any run; on a mismatch the last
/// star takes one more unit (time at most `t.len() * p.len()`).
fn glob_units<U: Copy + PartialEq>(t: &[U], p: &[U], eq: impl Fn(U, U) -> bool, star: U) -> bool {
    let (mut ti, mut pi) = (0, 0);
    let (mut last_star, mut mark) = (None, 0);
    while ti < t.len() {
        if pi < p.len() && p[pi] != star && eq(p[pi], t[ti]) {
            ti += 1;
            pi += 1;
        } else if pi < p.len() && p[pi] == star {
            last_star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = last_star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == star {
        pi += 1;
    }
    pi == p.len()
}

/// The reference `mergeQueryStrings`: the current URL's query parameters that the redirect
/// URL does not set are appended to it through `URLSearchParams`, which then re-serializes
/// the whole query (`application/x-www-form-urlencoded`: a space is `+`). Either URL failing
/// to parse on its own (no base) returns the redirect URL as given.
pub fn merge_query_strings(old_url: &str, new_url: &str) -> String {
    let (Some(old), Some(mut new)) = (Url::parse(old_url, None), Url::parse(new_url, None)) else {
        return String::from(new_url);
    };
    let mut pairs: Vec<(Cow<'_, str>, Cow<'_, str>)> = new
        .query_pairs()
        .map(|(k, v)| (form::decode(k), form::decode(v)))
        .collect();
    let mut changed = false;
    for (k, v) in old.query_pairs() {
        let k = form::decode(k);
        if pairs.iter().any(|(nk, _)| *nk == k) {
            continue;
        }
        pairs.push((k, form::decode(v)));
        changed = true;
    }
    if !changed {
        return new.href();
    }
    let mut q = String::new();
    for (i, (k, v)) in pairs.iter().enumerate() {
        if i > 0 {
            q.push('&');
        }
        form::encode(&mut q, k);
        q.push('=');
        form::encode(&mut q, v);
    }
    new.query = Some(q);
    new.href()
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
        assert_eq!(form::decode("%zz%4"), "%zz%4");
        assert_eq!(form::decode("%FF"), "\u{fffd}");
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

    /// What the reference's `mergeQueryStrings` returned (Node 20, `@growthbook/growthbook`
    /// 1.8.0, `dist/cjs/util.js`): both URLs are parsed without a base, so a relative one
    /// leaves the redirect as given, and the result is the normalized `href`.
    #[test]
    fn merged_urls_as_the_reference_serializes_them() {
        let cases = [
            ("/x?a=1", "https://a.com/y", "https://a.com/y"),
            ("https://a.com/x?a=1", "/y", "/y"),
            (
                "https://A.com/x?a=1",
                "HTTPS://B.COM/./y/../z?b=%zz#f",
                "https://b.com/z?b=%25zz&a=1#f",
            ),
            (
                "https://a.com/x?a=1&a=2",
                "https://b.com/y?é=1",
                "https://b.com/y?%C3%A9=1&a=1",
            ),
            (
                "https://a.com/x",
                "https://b.com/y?q= x#é",
                "https://b.com/y?q=%20x#%C3%A9",
            ),
        ];
        for (old, new, want) in cases {
            assert_eq!(merge_query_strings(old, new), want, "{old} {new}");
        }
    }

    #[test]
    fn merges_queries() {
        assert_eq!(
            merge_query_strings("http://a.com/x?color=blue&t=o", "http://a.com/y?color=red"),
            "http://a.com/y?color=red&t=o"
        );
    }

    /// `new URL(input, "https://_").href` as Node 20 printed it.
    #[test]
    fn parses_as_node_does() {
        let cases = [
            (
                "https://a.com/^`{}|\"<>x?^`{}|\"<>'x#^`{}|\"<>x",
                "https://a.com/^%60%7B%7D|%22%3C%3Ex?^`{}|%22%3C%3E%27x#^%60{}|%22%3C%3Ex",
            ),
            ("foo://A.com/^`{}|x?'#`", "foo://A.com/^%60%7B%7D|x?'#%60"),
            ("https://u@s:p@a.com/", "https://u%40s:p@a.com/"),
            ("https://@a.com/", "https://a.com/"),
            ("https://a.com:0080/", "https://a.com:80/"),
            ("https://0x7f.1/", "https://127.0.0.1/"),
            ("https://1.2.3/", "https://1.2.0.3/"),
            ("https://[::1:0:0:1]/", "https://[::1:0:0:1]/"),
            ("https://[0:0:0:0:0:0:0:1]", "https://[::1]/"),
            ("mailto:A B?x y#z", "mailto:A B?x%20y#z"),
            ("https://a.com/a/%2e%2E/b/./c/..", "https://a.com/b/"),
            ("https://a.com/a/..", "https://a.com/"),
            ("https://ExÄmple.COM/", "https://xn--exmple-cua.com/"),
            ("https://a.com/%zz", "https://a.com/%zz"),
            ("https://a.b./", "https://a.b./"),
            ("http://a.com:80", "http://a.com/"),
            ("https://a%41.com", "https://aa.com/"),
            ("https://a*b.com/", "https://a*b.com/"),
            ("file:///a", "file:///a"),
            ("file://host/a", "file://host/a"),
            ("https:a", "https://_/a"),
            ("https:/a", "https://_/a"),
            ("http:a", "http://a/"),
            ("\\\\a.com\\b", "https://a.com/b"),
            ("https://a.com\\b\\..\\c", "https://a.com/c"),
            ("https://ß.com/", "https://xn--zca.com/"),
            ("https://straße.de", "https://xn--strae-oqa.de/"),
            ("https://a.com/ä", "https://a.com/%C3%A4"),
            ("https://%E4%BD%A0.com", "https://xn--6qq.com/"),
        ];
        let base = Url::base("_");
        for (input, want) in cases {
            let url = Url::parse(input, Some(&base));
            assert_eq!(url.map(|u| u.href()).as_deref(), Some(want), "{input:?}");
        }
    }

    /// Where Node's `new URL` throws.
    #[test]
    fn fails_where_node_throws() {
        let base = Url::base("_");
        for input in [
            "https://a.com@/",
            "http://:80/",
            "https://a b.com/",
            "https://x.com:65536/",
            "https://x.com:8a/",
            "https://[::1/",
            "https://[1:2:3:4:5:6:7:8:9]/",
            "https://256.1/",
            "https://1.2.3.4.5/",
            "https://\u{2028}/",
        ] {
            assert!(Url::parse(input, Some(&base)).is_none(), "{input:?}");
        }
        assert!(Url::parse("/relative", None).is_none());
    }
}
