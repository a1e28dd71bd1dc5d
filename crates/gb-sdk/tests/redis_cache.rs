//! Two clients sharing a `RedisFeatureCache`: the second is served from Redis, so the server
//! sees one fetch; on one server and on a Redis Cluster. Uses `GB_REDIS_URL` /
//! `GB_REDIS_CLUSTER_URLS`, else starts its own `redis-server`(s) (gb-redis's test support, as
//! gb-sticky's tests do); without them the test prints `SKIPPED: ...` and passes, except under
//! `CI=true`, where it fails.
#![allow(clippy::unwrap_used, reason = "test")]

extern crate alloc;

mod common;

use alloc::sync::Arc;
use core::time::Duration;

use common::{builder, payload, start};
use gb_redis::Target;
use gb_sdk::{FeatureCache as _, RedisFeatureCache, Status};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_clients_share_one_fetch_through_redis() {
    let Some((url, _server)) = gb_redis::testing::redis_url("redis feature cache") else {
        return;
    };
    share_one_fetch(Target::single(url)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_clients_share_one_fetch_through_a_redis_cluster() {
    let Some((urls, _cluster)) = gb_redis::testing::cluster_urls("redis cluster feature cache")
    else {
        return;
    };
    share_one_fetch(Target::cluster(urls)).await;
}

async fn share_one_fetch(target: Target) {
    let server = start(payload("shared")).await;
    // A prefix of its own, so runs never see each other's entries.
    let prefix = format!("gb-sdk-test:{}:{}:", std::process::id(), server.addr.port());
    let cache = || async {
        Arc::new(
            RedisFeatureCache::connect_to(&target)
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
