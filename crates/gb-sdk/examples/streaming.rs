//! Live updates over server-sent events: prints a flag whenever it changes, for 60 s
//! (`GB_SECONDS` to change).
//!
//! Against a local API (no account needed), in two terminals:
//! `cargo run -p gb-cli -- serve --payload examples/payload.json` and
//! `cargo run -p gb-sdk --example streaming`, then edit `checkout-button`'s `defaultValue` in
//! the file. For GrowthBook itself set `GB_API_HOST` and `GB_CLIENT_KEY=sdk-...`.
use core::time::Duration;

use gb_sdk::{GrowthBook, RefreshStrategy};

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> gb_sdk::Result<()> {
    let host = std::env::var("GB_API_HOST").unwrap_or_else(|_| "http://127.0.0.1:3100".into());
    let seconds: u64 = std::env::var("GB_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(60);
    let client = GrowthBook::builder()
        .api_host(host)
        .client_key(std::env::var("GB_CLIENT_KEY").unwrap_or_else(|_| "sdk-dev".into()))
        .refresh(RefreshStrategy::Streaming)
        .build()?;
    client.ready(Duration::from_secs(3)).await;
    let user = client.user(gb_sdk::Attributes::new());
    let mut last = None;
    // Ten checks a second for `seconds` seconds.
    for _ in 0..seconds * 10 {
        let value = user.eval_feature("checkout-button").value().clone();
        if last.as_ref() != Some(&value) {
            println!("version {}: checkout-button = {value}", client.version());
            last = Some(value);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    client.close();
    Ok(())
}
