//! Sticky bucketing with cookies: each request brings its documents in the `Cookie` header,
//! and the documents its evaluations change go back as `Set-Cookie` headers. No client-wide
//! store: `UserContext::with_sticky_docs` and `take_sticky_changes` carry them per request.
//! `cargo run -p gb-sdk --example cookies`
extern crate alloc;

use gb_sdk::GrowthBook;
use gb_sdk::serde_json::{Map, Value, json};
use gb_sdk::sticky::CookieCodec;

/// The experiment, with `weights`; sticky bucketing on `id`.
pub(crate) fn payload(weights: [f64; 2]) -> Value {
    json!({"features": {"checkout": {"defaultValue": "old", "rules": [{
        "key": "checkout-exp", "variations": ["old", "new"], "hashAttribute": "id",
        "meta": [{"key": "0"}, {"key": "1"}], "weights": weights,
        "bucketVersion": 1
    }]}}})
}

/// What a web handler does: evaluate for the request's user with the documents in its
/// `Cookie` header; return the value and the `Set-Cookie` headers to send back.
pub(crate) fn handle_request(
    client: &GrowthBook,
    codec: &CookieCodec,
    user_id: &str,
    cookie_header: Option<&str>,
) -> (String, Vec<String>) {
    let mut attributes = Map::new();
    attributes.insert("id".into(), user_id.into());
    let docs = cookie_header
        .map(|h| codec.decode_cookie_header(h))
        .unwrap_or_default();
    let user = client.user(attributes).with_sticky_docs(docs);
    let value = user.feature_value("checkout", String::new());
    let set_cookies = user
        .take_sticky_changes()
        .iter()
        .filter_map(|doc| match codec.encode_set_cookie(doc) {
            Ok(header) => Some(header),
            Err(e) => {
                eprintln!("cannot store a sticky-bucket cookie: {e}");
                None
            }
        })
        .collect();
    (value, set_cookies)
}

/// `Set-Cookie` values as the browser sends them back: `name=value; name=value`.
pub(crate) fn cookie_header(set_cookies: &[String]) -> String {
    set_cookies
        .iter()
        .filter_map(|c| c.split(';').next())
        .collect::<Vec<_>>()
        .join("; ")
}

/// Two visits of one user, with a weight change between them.
pub(crate) fn main() -> gb_sdk::Result<()> {
    let codec = CookieCodec::new();
    let client = GrowthBook::builder().payload(payload([0.5, 0.5])).build()?;
    // First visit: no cookie; the user is bucketed and gets a cookie.
    let (first, set_cookies) = handle_request(&client, &codec, "user-7", None);
    // The weights change: everyone new gets "new" ...
    client.set_payload(&payload([0.0, 1.0]))?;
    // ... but the returning user keeps their variation, through the cookie alone.
    let cookie = cookie_header(&set_cookies);
    let (later, _) = handle_request(&client, &codec, "user-7", Some(&cookie));
    println!("first: {first}, after the weight change: {later} (cookie: {cookie})");
    Ok(())
}
