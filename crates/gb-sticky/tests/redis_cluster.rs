//! The Redis store on a real Redis Cluster on 127.0.0.1: the conformance suite, lookups and
//! saves spanning many hash slots, a master killed mid-test (no acknowledged save lost after
//! the failover), and the bounded write queue.
//!
//! The shared cluster is `GB_REDIS_CLUSTER_URLS` (`.ci/redis-cluster.sh` exports it), else one
//! of the test's own (needs `redis-server` and `redis-cli`); the failover test always starts its
//! own. Without them these tests print `SKIPPED: ...` and pass, except under `CI=true`.

// Test code is std code; the workspace core/alloc path lints target the library.
#![allow(clippy::std_instead_of_core, clippy::std_instead_of_alloc)]

mod common;

use std::time::{Duration, Instant};

use gb_sticky::conformance::{check_service, doc, unique_prefix};
use gb_sticky::{
    IdentifierAttribute, RedisOptions, RedisStickyBucketService, StickyBucketService,
    StickyErrorKind,
};

fn pair(n: &str, v: &str) -> IdentifierAttribute {
    (n.to_string(), v.to_string())
}

async fn cluster_store(urls: &[String], options: RedisOptions) -> RedisStickyBucketService {
    RedisStickyBucketService::connect_cluster(urls.iter().cloned(), options)
        .await
        .expect("connects to the cluster")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conformance_on_a_cluster() {
    let Some((urls, _cluster)) = common::cluster_urls("redis cluster conformance") else {
        return;
    };
    let store = cluster_store(&urls, RedisOptions::new().timeout(Duration::from_secs(2))).await;
    assert!(store.redis().conn().is_cluster());
    check_service(&store).await;
    let prefixed = cluster_store(
        &urls,
        RedisOptions::new()
            .key_prefix("gbtest:sticky:")
            .timeout(Duration::from_secs(2)),
    )
    .await;
    check_service(&prefixed).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_lookup_and_one_save_span_many_slots() {
    let Some((urls, _cluster)) = common::cluster_urls("redis cluster many slots") else {
        return;
    };
    let store = cluster_store(&urls, RedisOptions::new().timeout(Duration::from_secs(2))).await;
    let name = format!("{}id", unique_prefix());
    // 64 keys land in (almost surely) 60+ different slots on all three masters: a plain MGET
    // or pipeline of them fails with CROSSSLOT on a cluster.
    let docs: Vec<_> = (0..64)
        .map(|i| doc(&name, &format!("u{i}"), &[("exp__0", "1")]))
        .collect();
    let keys: Vec<String> = (0..64)
        .map(|i| store.key(&name, &format!("u{i}")))
        .collect();
    assert!(store.redis().conn().group_by_slot(&keys).len() > 30);
    store
        .save_assignments(docs.clone())
        .await
        .expect("save across slots");
    let attrs: Vec<_> = (0..64).map(|i| pair(&name, &format!("u{i}"))).collect();
    let mut got = store
        .get_all_assignments(&attrs)
        .await
        .expect("lookup across slots");
    got.sort_by(|a, b| a.attribute_value.cmp(&b.attribute_value));
    let mut want = docs;
    want.sort_by(|a, b| a.attribute_value.cmp(&b.attribute_value));
    assert_eq!(got, want);
}

/// Saves keep coming while one master is SIGKILLed; one of its two replicas takes over (two,
/// so that the new master still has a replica to acknowledge to). With `replica_acks(1)` a
/// save is acknowledged (`Ok`) only once a replica holds it, so after the failover every
/// acknowledged save is there. Saves made during the outage are queued
/// (`Unavailable`) and replayed; none is dropped. The test asserts exactly that.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn master_killed_mid_test_loses_no_acknowledged_write() {
    let Some(mut cluster) = common::own_cluster("redis cluster failover", 3, 2) else {
        return;
    };
    let urls = cluster.urls();
    let store = cluster_store(
        &urls,
        RedisOptions::new()
            .timeout(Duration::from_millis(800))
            .replica_acks(1),
    )
    .await;
    let name = format!("{}id", unique_prefix());
    let victim = cluster
        .masters_seen_by(cluster.ports()[0])
        .first()
        .copied()
        .expect("a master");

    let (mut acked, mut queued, mut other) = (Vec::new(), Vec::new(), Vec::new());
    let started = Instant::now();
    for i in 0..240u32 {
        if i == 60 {
            assert!(cluster.kill(victim), "killed master {victim}");
        }
        let d = doc(&name, &format!("u{i}"), &[("exp__0", &(i % 2).to_string())]);
        match store.save_assignments(vec![d.clone()]).await {
            Ok(()) => acked.push(d),
            Err(e) if e.kind() == StickyErrorKind::Unavailable => queued.push(d),
            Err(e) => other.push((d, e.to_string())),
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(started.elapsed() < Duration::from_secs(60), "bounded");
    }
    assert!(other.is_empty(), "no save dropped or rejected: {other:?}");
    assert_eq!(store.dropped_docs(), 0);
    assert!(acked.len() >= 60, "saves before the kill were acknowledged");

    // Wait (bounded) for the failover and the replay of the queue.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let healthy = cluster.ports().iter().filter(|&&p| p != victim).all(|&p| {
            common::cli(p, &["cluster", "info"]).is_some_and(|s| s.contains("cluster_state:ok"))
        });
        let flushed = store.flush_pending().await;
        if healthy && flushed.is_ok() && store.pending_docs() == 0 {
            break;
        }
        eprintln!(
            "healthy {healthy} flushed {flushed:?} open {}",
            store.redis().breaker().is_open()
        );
        assert!(Instant::now() < deadline, "no failover within 30 s");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    let all: Vec<_> = acked.iter().chain(&queued).cloned().collect();
    let attrs: Vec<_> = all
        .iter()
        .map(|d| pair(&d.attribute_name, &d.attribute_value))
        .collect();
    let mut got = None;
    for _ in 0..50 {
        if let Ok(docs) = store.get_all_assignments(&attrs).await {
            got = Some(docs);
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let got = got.expect("lookups work after the failover");
    let lost: Vec<_> = all.iter().filter(|d| !got.contains(d)).collect();
    assert!(
        lost.is_empty(),
        "{} of {} acknowledged ({}) or queued ({}) saves lost: {lost:?}",
        lost.len(),
        all.len(),
        acked.len(),
        queued.len()
    );
    println!(
        "failover: {} saves acknowledged, {} queued and replayed, 0 lost, breaker opened {} time(s)",
        acked.len(),
        queued.len(),
        store.redis().breaker().times_opened()
    );
}
