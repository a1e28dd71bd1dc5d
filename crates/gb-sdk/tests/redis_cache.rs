//! Two clients sharing a `RedisFeatureCache`: the second is served from Redis, so the server
//! sees one fetch. Needs `GB_REDIS_URL` (`source .ci/redis.sh start`); without it the test
//! prints `SKIPPED: ...` and passes, except under `CI=true`, where it fails.
#![allow(clippy::unwrap_used, reason = "test")]

extern crate alloc;

mod common;

use alloc::sync::Arc;
use core::time::Duration;

use common::{builder, payload, start};
use gb_sdk::{FeatureCache as _, RedisFeatureCache, Status};

fn redis_url() -> Option<String> {
    match std::env::var("GB_REDIS_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "GB_REDIS_URL must be set under CI=true (source .ci/redis.sh start)"
            );
            println!("SKIPPED: GB_REDIS_URL is not set (source .ci/redis.sh start)");
            None
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_clients_share_one_fetch_through_redis() {
    let Some(url) = redis_url() else { return };
    let server = start(payload("shared")).await;
    // A prefix of its own, so runs never see each other's entries.
    let prefix = format!("gb-sdk-test:{}:{}:", std::process::id(), server.addr.port());
    let cache = || async {
        Arc::new(
            RedisFeatureCache::connect(&url)
                .await
                .unwrap()
                .with_prefix(prefix.clone())
                .with_expiry(Duration::from_secs(60)),
        )
    };
    let first = builder(&server.url())
        .feature_cache(cache().await)
        .build()
        .unwrap();
    assert!(first.ready(Duration::from_secs(5)).await);
    assert_eq!(server.state.fetches(), 1);
    // The entry is written right after the features are applied.
    let key = format!("{}|{}", server.url(), common::KEY);
    let probe = cache().await;
    let mut stored = false;
    for _ in 0..200 {
        if probe.get(&key).await.unwrap().is_some() {
            stored = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(
        stored,
        "the first client stored its fetch under `<api_host>|<client_key>`"
    );

    // Another process (here: another client with its own connection) starts within the TTL.
    let second = builder(&server.url())
        .feature_cache(cache().await)
        .build()
        .unwrap();
    assert!(second.ready(Duration::from_secs(5)).await);
    assert_eq!(second.feature_value("flag", String::new()), "shared");
    assert_eq!(second.status(), Status::Ready);
    assert_eq!(
        server.state.fetches(),
        1,
        "the second client was served by Redis"
    );
    first.close();
    second.close();
}
