//! Live updates over server-sent events; prints a flag whenever it changes, for 60 s.
//!
//! `GB_API_HOST=http://localhost:3100 GB_CLIENT_KEY=sdk-... cargo run -p gb-sdk --example streaming`
use core::time::Duration;

use gb_sdk::{GrowthBook, RefreshStrategy};

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> gb_sdk::Result<()> {
    let mut builder = GrowthBook::builder()
        .client_key(std::env::var("GB_CLIENT_KEY").unwrap_or_else(|_| "sdk-demo".into()))
        .refresh(RefreshStrategy::Streaming);
    if let Ok(host) = std::env::var("GB_API_HOST") {
        builder = builder.api_host(host);
    }
    let client = builder.build()?;
    client.ready(Duration::from_secs(3)).await;
    let user = client.user(gb_sdk::Attributes::new());
    let mut last = None;
    for _ in 0..60 {
        let value = user.eval_feature("banner-text").value().clone();
        if last.as_ref() != Some(&value) {
            println!("version {}: banner-text = {value}", client.version());
            last = Some(value);
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    client.close();
    Ok(())
}
