//! `RequestContext` on real `http::Request` values: user agents, query strings (UTM, forced
//! variations, URL targeting), cookies, headers, forwarded headers and custom mappings.
#![allow(clippy::unwrap_used, reason = "test")]

use gb_sdk::serde_json::{Map, Value, json};
use gb_sdk::{GrowthBook, RequestContext, RequestInfo, browser_and_device};
use http::Request;

fn request(uri: &str, headers: &[(&str, &str)]) -> Request<()> {
    let mut b = Request::builder().uri(uri);
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    b.body(()).unwrap()
}

fn client() -> GrowthBook {
    GrowthBook::builder()
        .payload(json!({"features": {
            "exp": {"defaultValue": "control", "rules": [{
                "key": "exp-1", "variations": ["control", "treatment"], "coverage": 1.0
            }]},
            "mobile-only": {"defaultValue": false, "rules": [{"condition": {"deviceType": "mobile"}, "force": true}]},
            "beta-path": {"defaultValue": false, "rules": [{"condition": {"path": {"$regex": "^/beta"}}, "force": true}]},
            "by-url": {"defaultValue": false, "rules": [{"condition": {"url": {"$regex": "campaign=spring"}}, "force": true}]},
            "eu": {"defaultValue": false, "rules": [{"condition": {"country": "NZ", "id": "abc 123"}, "force": true}]}
        }}))
        .build()
        .unwrap()
}

const CHROME_MAC: &str = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36";
const SAFARI_IPHONE: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1";
const FIREFOX_LINUX: &str =
    "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0";
const EDGE_ANDROID: &str = "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36 EdgA/124.0.0.0";
const CHROME_ANDROID: &str = "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36";
const CURL: &str = "curl/8.5.0";

#[test]
fn user_agents_give_browser_and_device_type() {
    for (ua, browser, device) in [
        (CHROME_MAC, "chrome", "desktop"),
        (SAFARI_IPHONE, "safari", "mobile"),
        (FIREFOX_LINUX, "firefox", "desktop"),
        (EDGE_ANDROID, "edge", "mobile"),
        (CHROME_ANDROID, "chrome", "mobile"),
        (CURL, "unknown", "desktop"),
    ] {
        assert_eq!(browser_and_device(ua), (browser, device), "{ua}");
        let req = request("/", &[("host", "example.com"), ("user-agent", ua)]);
        let a = RequestContext::new().attributes(&req);
        assert_eq!(a["userAgent"], ua);
        assert_eq!(a["browser"], browser);
        assert_eq!(a["deviceType"], device);
    }
    let client = client();
    let ctx = RequestContext::new();
    let phone = request("/", &[("user-agent", SAFARI_IPHONE)]);
    let desktop = request("/", &[("user-agent", CHROME_MAC)]);
    assert!(ctx.user(&client, &phone).is_on("mobile-only"));
    assert!(!ctx.user(&client, &desktop).is_on("mobile-only"));
    // No user agent: no attributes for it. Turned off: none either.
    let a = ctx.attributes(&request("/", &[]));
    assert!(a.get("browser").is_none());
    let a = RequestContext::new().user_agent(false).attributes(&phone);
    assert!(a.get("deviceType").is_none());
}

#[test]
fn url_query_strings_and_targeting() {
    let client = client();
    let ctx = RequestContext::new();
    let req = request(
        "/beta/page?utm_source=news%20letter&utm_campaign=spring+sale&x=1",
        &[("host", "shop.example:8080")],
    );
    let a = ctx.attributes(&req);
    assert_eq!(
        a["url"],
        "http://shop.example:8080/beta/page?utm_source=news%20letter&utm_campaign=spring+sale&x=1"
    );
    assert_eq!(a["path"], "/beta/page");
    assert_eq!(a["host"], "shop.example:8080");
    assert_eq!(a["utmSource"], "news letter");
    assert_eq!(a["utmCampaign"], "spring sale");
    assert!(a.get("utmMedium").is_none());
    let user = ctx.user(&client, &req);
    assert_eq!(user.url(), a["url"]);
    assert!(user.is_on("beta-path"));
    assert!(user.is_on("by-url"));
    assert!(!ctx.user(&client, &request("/home", &[])).is_on("beta-path"));

    // Query-string forced variations come through the URL.
    for v in ["0", "1"] {
        let req = request(&format!("/p?exp-1={v}"), &[("host", "a.test")]);
        let expected = if v == "0" { "control" } else { "treatment" };
        let user = ctx.user(&client, &req);
        assert_eq!(user.feature_value("exp", String::new()), expected);
        assert_eq!(user.eval_feature("exp").source().as_str(), "experiment");
    }

    // An absolute-form URI (HTTP/2, proxies) carries its own scheme and host.
    let abs = request("https://cdn.example/x?y=2", &[("host", "ignored.example")]);
    assert_eq!(ctx.url(&abs), "https://cdn.example/x?y=2");
    // No host at all: the path and query only.
    assert_eq!(ctx.url(&request("/only?q=1", &[])), "/only?q=1");
    // Forwarded headers only when trusted.
    let proxied = request(
        "/x",
        &[
            ("host", "10.0.0.5"),
            ("x-forwarded-proto", "https"),
            ("x-forwarded-host", "www.example, proxy.internal"),
        ],
    );
    assert_eq!(ctx.url(&proxied), "http://10.0.0.5/x");
    let trusting = RequestContext::new().trust_forwarded_headers(true);
    assert_eq!(trusting.url(&proxied), "https://www.example/x");
    let https = RequestContext::new().default_scheme("https");
    assert_eq!(
        https.url(&request("/x", &[("host", "a.test")])),
        "https://a.test/x"
    );
    // URL attributes can be turned off (the context URL is still set).
    let quiet = RequestContext::new().url_attributes(false).utm(false);
    let a = quiet.attributes(&req);
    assert!(a.get("url").is_none() && a.get("utmSource").is_none());
    assert!(!quiet.user(&client, &req).is_on("by-url"));
    assert_eq!(quiet.user(&client, &req).url(), ctx.url(&req));
}

#[test]
fn cookies_headers_and_query_params_map_to_attributes() {
    let client = client();
    let ctx = RequestContext::new()
        .cookie("gb_uid", "id")
        .cookie("plan", "plan")
        .header("x-country", "country")
        .header("bad header name", "never")
        .query_param("ref", "referrer");
    let req = request(
        "/?ref=friend%21",
        &[
            ("cookie", "theme=dark; gb_uid=abc%20123"),
            ("cookie", "plan=\"pro\""),
            ("x-country", "NZ"),
        ],
    );
    let a = ctx.attributes(&req);
    assert_eq!(a["id"], "abc 123");
    assert_eq!(a["plan"], "pro");
    assert_eq!(a["country"], "NZ");
    assert_eq!(a["referrer"], "friend!");
    assert!(a.get("theme").is_none() && a.get("never").is_none());
    assert!(ctx.user(&client, &req).is_on("eu"));
    // Missing cookies and headers add nothing.
    let a = ctx.attributes(&request("/", &[("cookie", "other=1")]));
    assert!(a.get("id").is_none() && a.get("country").is_none());
    // The request view.
    let info = RequestInfo::from_request(&req);
    assert_eq!(info.cookie("theme").as_deref(), Some("dark"));
    assert_eq!(info.cookie("missing"), None);
    assert_eq!(info.query_param("ref").as_deref(), Some("friend!"));
    assert_eq!(info.header("x-country"), Some("NZ"));
}

/// An authenticated user, as earlier middleware would put it in the extensions.
#[derive(Debug, Clone)]
struct Session {
    user_id: u64,
}

#[test]
fn a_custom_mapping_and_extra_attributes() {
    let client = client();
    let ctx = RequestContext::new()
        .cookie("gb_uid", "id")
        .map(|req, attrs| {
            if let Some(s) = req.extensions().get::<Session>() {
                attrs.insert("id".into(), s.user_id.to_string().into());
                attrs.insert("loggedIn".into(), true.into());
            }
            if req.method() == http::Method::POST {
                attrs.insert("posting".into(), true.into());
            }
        });
    let mut req = request("/", &[("cookie", "gb_uid=anon-1")]);
    assert_eq!(ctx.attributes(&req)["id"], "anon-1");
    req.extensions_mut().insert(Session { user_id: 42 });
    *req.method_mut() = http::Method::POST;
    let a = ctx.attributes(&req);
    assert_eq!(a["id"], "42");
    assert_eq!(a["loggedIn"], true);
    assert_eq!(a["posting"], true);
    // Extra attributes win over the request's.
    let mut extra = Map::new();
    extra.insert("id".into(), Value::from("explicit"));
    let user = ctx.user_with(&client, &req, extra);
    assert_eq!(user.attributes()["id"], "explicit");
    // From request parts (an extractor's view).
    let (parts, ()) = req.into_parts();
    let user = ctx.user_of(&client, &RequestInfo::from_parts(&parts), Map::new());
    assert_eq!(user.attributes()["id"], "42");
    // A panicking mapping is contained.
    let panicky = RequestContext::new().map(|_, _| panic!("mapping bug"));
    let a = panicky.attributes(&request("/", &[]));
    assert_eq!(a["path"], "/");
}
