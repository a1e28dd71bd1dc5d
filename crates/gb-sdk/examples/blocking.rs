//! A program without an async runtime: the client runs its refresh on a runtime it owns.
//!
//! Against a local API (no account needed), in two terminals:
//! `cargo run -p gb-cli -- serve --payload examples/payload.json` and
//! `cargo run -p gb-sdk --example blocking`. For GrowthBook itself set `GB_API_HOST` and
//! `GB_CLIENT_KEY=sdk-...`.
use core::time::Duration;

use gb_sdk::GrowthBook;
use gb_sdk::serde_json::json;

fn main() -> gb_sdk::Result<()> {
    let client = GrowthBook::builder()
        .api_host(std::env::var("GB_API_HOST").unwrap_or_else(|_| "http://127.0.0.1:3100".into()))
        .client_key(std::env::var("GB_CLIENT_KEY").unwrap_or_else(|_| "sdk-dev".into()))
        .build_blocking()?;
    let loaded = client.ready_blocking(Duration::from_secs(3));
    let staff = client.user(
        json!({"id": "1", "employee": true})
            .as_object()
            .cloned()
            .unwrap_or_default(),
    );
    println!(
        "loaded: {loaded}; dark-mode on: {} (for staff: {})",
        client.is_on("dark-mode"),
        staff.is_on("dark-mode")
    );
    client.close();
    Ok(())
}
