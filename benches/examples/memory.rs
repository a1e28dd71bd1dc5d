//! Heap cost of a compiled payload: bytes resident after loading and the peak while loading,
//! per feature and as a multiple of the payload's JSON size, counted by a global allocator.
//!
//! `cargo run --release -p benches --example memory`
#![allow(missing_docs, clippy::unwrap_used, reason = "example")]

use benches::{
    CountingAlloc, bandit_payload, load_workload, measure_load, plain_payload, scaled_payload,
};

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

fn main() {
    let files: Vec<String> = std::env::args().skip(1).collect();
    if !files.is_empty() {
        for f in files {
            let text = std::fs::read_to_string(&f).unwrap();
            let (fs, m) = measure_load(&text);
            println!(
                "{f}: {} features, JSON {} B, resident {} B ({:.2}x), peak {} B, {} B per feature",
                fs.len(),
                m.json_bytes,
                m.resident,
                m.resident as f64 / m.json_bytes as f64,
                m.peak,
                m.resident / fs.len().max(1)
            );
        }
        return;
    }
    let w = load_workload();
    let cases = [
        ("workload (200 features)", w.payload.clone()),
        (
            "workload x100 (20,000 features)",
            scaled_payload(&w.payload, 20_000),
        ),
        ("100,000 plain features", plain_payload(100_000)),
        (
            "bandit: 10 rules x 300 contexts, 2 x 100 KiB",
            bandit_payload(10, 300, 100 * 1024),
        ),
    ];
    drop(w);
    println!(
        "| payload | JSON bytes | resident | peak during load | resident / JSON | peak / JSON | resident per feature |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|");
    for (name, payload) in cases {
        let text = serde_json::to_string(&payload).unwrap();
        drop(payload);
        let (fs, m) = measure_load(&text);
        println!(
            "| {name} | {} | {} | {} | {:.2}x | {:.2}x | {} B |",
            mb(m.json_bytes),
            mb(m.resident),
            mb(m.peak),
            m.resident as f64 / m.json_bytes as f64,
            m.peak as f64 / m.json_bytes as f64,
            m.resident / fs.len().max(1),
        );
        drop(fs);
    }
}

fn mb(n: usize) -> String {
    format!("{:.2} MB", n as f64 / 1e6)
}
