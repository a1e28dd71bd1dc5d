//! Remote evaluation: the payload never reaches this process; each user's features are
//! evaluated by the server (`gb serve`, a GrowthBook proxy, or a Rust server mounting
//! `gb_sdk::RemoteEvalService`).
//!
//! Against a local API (no account needed), in two terminals:
//! `cargo run -p gb-cli -- serve --payload examples/payload.json` and
//! `cargo run -p gb-sdk --example remote_eval`. For a GrowthBook proxy set
//! `GB_API_HOST=http://localhost:3300` and `GB_CLIENT_KEY=sdk-...`.
use gb_sdk::GrowthBook;

#[tokio::main(flavor = "current_thread")]
async fn main() -> gb_sdk::Result<()> {
    let client = GrowthBook::builder()
        .api_host(std::env::var("GB_API_HOST").unwrap_or_else(|_| "http://127.0.0.1:3100".into()))
        .client_key(std::env::var("GB_CLIENT_KEY").unwrap_or_else(|_| "sdk-dev".into()))
        .remote_eval(true)
        .cache_key_attributes(vec!["id".into()])
        .build()?;
    let user = client
        .user(
            gb_sdk::Attributes::new()
                .insert("id", "123")
                .insert("country", "NZ"),
        )
        .with_url("https://example.com/pricing")
        .prepare()
        .await?;
    println!(
        "ready: {}, pricing-page: {}",
        user.is_ready(),
        user.eval_feature("pricing-page").to_json()
    );
    Ok(())
}
