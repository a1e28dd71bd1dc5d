//! The tower layer: every request gets a prepared `Arc<UserContext>` in its extensions.
#![allow(clippy::unwrap_used, reason = "test")]

extern crate alloc;

use alloc::sync::Arc;
use core::convert::Infallible;
use core::future::{Ready, ready};
use core::task::{Context, Poll};

use gb_sdk::serde_json::json;
use gb_sdk::{GrowthBook, GrowthBookLayer, RequestContext, UserContext};
use http::{Request, Response};
use tower_layer::Layer as _;
use tower_service::Service;

/// A handler that answers with the flag's value for the request's user.
#[derive(Debug, Clone)]
struct Handler;

impl Service<Request<String>> for Handler {
    type Response = Response<String>;
    type Error = Infallible;
    type Future = Ready<Result<Response<String>, Infallible>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request<String>) -> Self::Future {
        let user = req.extensions().get::<Arc<UserContext>>().unwrap();
        let body = format!(
            "{} {}",
            user.feature_value("greeting", String::from("?")),
            user.attributes()["id"]
        );
        ready(Ok(Response::new(body)))
    }
}

#[tokio::test]
async fn the_layer_puts_a_user_context_in_the_extensions() {
    let client = GrowthBook::builder()
        .payload(
            json!({"features": {"greeting": {"defaultValue": "hello", "rules": [
                {"condition": {"browser": "firefox"}, "force": "hallo"}
            ]}}}),
        )
        .build()
        .unwrap();
    let layer = GrowthBookLayer::new(client, RequestContext::new().cookie("uid", "id"));
    let mut service = layer.layer(Handler);
    for (ua, uid, expected) in [
        ("Mozilla/5.0 Firefox/125.0", "u1", "hallo \"u1\""),
        ("Mozilla/5.0 Chrome/124.0", "u2", "hello \"u2\""),
    ] {
        let req = Request::builder()
            .uri("/")
            .header("user-agent", ua)
            .header("cookie", format!("uid={uid}"))
            .body(String::new())
            .unwrap();
        core::future::poll_fn(|cx| service.poll_ready(cx))
            .await
            .unwrap();
        let response = service.call(req).await.unwrap();
        assert_eq!(response.body(), expected);
    }
}
