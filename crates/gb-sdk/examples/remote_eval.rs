//! Remote evaluation through a self-hosted GrowthBook proxy: the payload never reaches this
//! process; each user's features are evaluated by the proxy.
//!
//! `GB_API_HOST=http://localhost:3300 GB_CLIENT_KEY=sdk-... cargo run -p gb-sdk --example remote_eval`
use gb_sdk::GrowthBook;

#[tokio::main(flavor = "current_thread")]
async fn main() -> gb_sdk::Result<()> {
    let client = GrowthBook::builder()
        .api_host(std::env::var("GB_API_HOST").unwrap_or_else(|_| "http://localhost:3300".into()))
        .client_key(std::env::var("GB_CLIENT_KEY").unwrap_or_else(|_| "sdk-demo".into()))
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
        "ready: {}, pricing: {}",
        user.is_ready(),
        user.eval_feature("pricing").to_json()
    );
    Ok(())
}
