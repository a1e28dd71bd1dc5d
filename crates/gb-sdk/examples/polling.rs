//! Polling a GrowthBook API every 30 s, with a file cache for restarts during outages.
//!
//! Against a local API (no account needed), in two terminals:
//! `cargo run -p gb-cli -- serve --payload examples/payload.json` and
//! `cargo run -p gb-sdk --example polling`. For GrowthBook itself set `GB_API_HOST` and
//! `GB_CLIENT_KEY=sdk-...`.
use core::time::Duration;

use gb_sdk::{GrowthBook, RefreshStrategy};

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> gb_sdk::Result<()> {
    let host = std::env::var("GB_API_HOST").unwrap_or_else(|_| "http://127.0.0.1:3100".into());
    let key = std::env::var("GB_CLIENT_KEY").unwrap_or_else(|_| "sdk-dev".into());
    let client = GrowthBook::builder()
        .api_host(host)
        .client_key(key)
        .refresh(RefreshStrategy::Polling(Duration::from_secs(30)))
        .file_cache(std::env::temp_dir().join("growthbook-example-cache.json"))
        .request_timeout(Duration::from_secs(5))
        .build()?;
    let loaded = client.ready(Duration::from_secs(3)).await;
    println!(
        "loaded: {loaded}, status: {:?}, last error: {:?}",
        client.status(),
        client.last_error()
    );
    println!("features: {:?}", client.feature_keys());
    client.close();
    Ok(())
}
