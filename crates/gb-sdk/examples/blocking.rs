//! A program without an async runtime: the client runs its refresh on a runtime it owns.
//!
//! `GB_CLIENT_KEY=sdk-... cargo run -p gb-sdk --example blocking`
use core::time::Duration;

use gb_sdk::GrowthBook;

fn main() -> gb_sdk::Result<()> {
    let client = GrowthBook::builder()
        .client_key(std::env::var("GB_CLIENT_KEY").unwrap_or_else(|_| "sdk-demo".into()))
        .build_blocking()?;
    let loaded = client.ready_blocking(Duration::from_secs(3));
    println!(
        "loaded: {loaded}; dark-mode on: {}",
        client.is_on("dark-mode")
    );
    client.close();
    Ok(())
}
