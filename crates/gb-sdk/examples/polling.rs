//! Polling a GrowthBook API every 30 s, with a file cache for restarts during outages.
//!
//! `GB_CLIENT_KEY=sdk-... cargo run -p gb-sdk --example polling`
use core::time::Duration;

use gb_sdk::{GrowthBook, RefreshStrategy};

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> gb_sdk::Result<()> {
    let key = std::env::var("GB_CLIENT_KEY").unwrap_or_else(|_| "sdk-demo".into());
    let client = GrowthBook::builder()
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
