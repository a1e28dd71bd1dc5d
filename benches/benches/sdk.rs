//! Per-evaluation cost through the gb-sdk client (`client.user(...)` contexts) on the shared
//! workload, next to the same evaluations on gb-core directly, in the same run.
#![allow(missing_docs, clippy::unwrap_used, reason = "benchmark")]

extern crate alloc;

use alloc::sync::Arc;
use core::hint::black_box;
use core::time::Duration;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;

use benches::{SdkWorkload, core_pass, sdk_workload};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use gb_sdk::{GrowthBook, GrowthBookTrackingPlugin, Plugin};
use serde_json::Value;

fn sdk_vs_core(c: &mut Criterion) {
    let SdkWorkload {
        workload: w,
        features: fs,
        keys,
        client,
    } = sdk_workload();
    let tracked = GrowthBook::builder()
        .payload(w.payload.clone())
        .on_experiment_viewed(|_, r, _| {
            black_box(r.variation_id);
        })
        .build()
        .unwrap();
    let ingestor = healthy_ingestor();
    let plugin = GrowthBookTrackingPlugin::builder("sdk-bench")
        .ingestor_host(ingestor)
        .build()
        .unwrap();
    let with_plugin = GrowthBook::builder()
        .payload(w.payload.clone())
        .plugin(Arc::clone(&plugin) as Arc<dyn Plugin>)
        .build()
        .unwrap();
    let plugin_users: Vec<_> = w.users.iter().map(|a| with_plugin.user(a)).collect();
    let users: Vec<_> = w.users.iter().map(|a| client.user(a.clone())).collect();
    let tracked_users: Vec<_> = w.users.iter().map(|a| tracked.user(a.clone())).collect();

    let mut g = c.benchmark_group("sdk");
    g.throughput(Throughput::Elements((keys.len() * w.users.len()) as u64));
    g.sample_size(20);
    g.bench_function("gb_core_eval_feature_on", |b| {
        b.iter(|| black_box(core_pass(&fs, &w.users, &keys)))
    });
    g.bench_function("sdk_user_is_on", |b| {
        b.iter(|| {
            let mut on = 0usize;
            for user in &users {
                for k in &keys {
                    on += usize::from(user.is_on(k));
                }
            }
            black_box(on)
        })
    });
    g.bench_function("gb_core_eval_feature_full", |b| {
        b.iter(|| {
            let mut n = 0usize;
            for attrs in &w.users {
                let user = gb_core::User::new(attrs);
                for k in &keys {
                    let r = fs.eval_feature(k, &user);
                    n += black_box(&r).rule_id.len();
                }
            }
            black_box(n)
        })
    });
    g.bench_function("sdk_user_eval_feature", |b| {
        b.iter(|| {
            let mut n = 0usize;
            for user in &users {
                for k in &keys {
                    let r = user.eval_feature(k);
                    n += black_box(&r).rule_id().len();
                }
            }
            black_box(n)
        })
    });
    g.bench_function("sdk_user_eval_all", |b| {
        b.iter(|| {
            let mut n = 0usize;
            for user in &users {
                n += black_box(user.eval_all()).len();
            }
            black_box(n)
        })
    });
    // The floor of `feature_value::<Value>`: gb-core's evaluation plus the clone (and drop) of
    // the owned value it must return.
    g.bench_function("gb_core_eval_feature_then_clone_value", |b| {
        b.iter(|| {
            let mut n = 0usize;
            for attrs in &w.users {
                let user = gb_core::User::new(attrs);
                for k in &keys {
                    let r = fs.eval_feature(k, &user);
                    n += usize::from(r.value.clone().is_null());
                }
            }
            black_box(n)
        })
    });
    g.bench_function("sdk_user_feature_value", |b| {
        b.iter(|| {
            let mut n = 0usize;
            for user in &users {
                for k in &keys {
                    n += usize::from(user.feature_value::<Value>(k, Value::Null).is_null());
                }
            }
            black_box(n)
        })
    });
    g.bench_function("sdk_user_is_on_with_tracking_callback", |b| {
        b.iter(|| {
            let mut on = 0usize;
            for user in &tracked_users {
                for k in &keys {
                    on += usize::from(user.is_on(k));
                }
            }
            black_box(on)
        })
    });
    g.bench_function("sdk_new_user_context_per_user_then_is_on", |b| {
        b.iter(|| {
            let mut on = 0usize;
            for attrs in &w.users {
                let user = client.user(attrs);
                for k in &keys {
                    on += usize::from(user.is_on(k));
                }
            }
            black_box(on)
        })
    });
    // Last: its plugin's worker keeps posting the queued events for a while after.
    g.bench_function("sdk_user_is_on_with_tracking_plugin", |b| {
        b.iter(|| {
            let mut on = 0usize;
            for user in &plugin_users {
                for k in &keys {
                    on += usize::from(user.is_on(k));
                }
            }
            black_box(on)
        })
    });
    g.finish();
    plugin.close(Duration::from_secs(2));
    eprintln!("tracking plugin: {:?}", plugin.stats());
}

/// A healthy ingestor on 127.0.0.1: answers every request `200` at once (HTTP/1.1 keep-alive,
/// one thread per connection). Lives as long as the bench process.
fn healthy_ingestor() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for conn in listener.incoming().flatten() {
            std::thread::spawn(move || {
                let mut reader = BufReader::new(conn.try_clone().unwrap());
                let mut conn = conn;
                loop {
                    let mut len = 0usize;
                    let mut line = String::new();
                    loop {
                        line.clear();
                        if reader.read_line(&mut line).unwrap_or(0) == 0 {
                            return;
                        }
                        let l = line.trim_end().to_ascii_lowercase();
                        if l.is_empty() {
                            break;
                        }
                        if let Some(v) = l.strip_prefix("content-length:") {
                            len = v.trim().parse().unwrap_or(0);
                        }
                    }
                    let mut body = vec![0; len];
                    if reader.read_exact(&mut body).is_err()
                        || conn
                            .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n")
                            .is_err()
                    {
                        return;
                    }
                }
            });
        }
    });
    format!("http://{addr}")
}

criterion_group!(benches, sdk_vs_core);
criterion_main!(benches);
