//! The Rust side of `bench/compare.py` and `bench/compare.js`: the same work
//! (verify a hex HMAC-SHA256 signature, parse, read the status, decide) on
//! the same input files, timed the same way, printed as the same JSON.
//!
//!     cargo build --release --example bench_work
//!     target/release/examples/bench_work [--inputs bench/inputs] [--batches 30] [--min-batch-ms 20]
//!
//! Timing: after a warm-up, the iteration count is doubled until one batch
//! lasts at least `--min-batch-ms`; then `--batches` batches are timed and the
//! per-iteration time of each batch gives the median, p10, p90, min and max.
//!
//! `bench_work sign SECRET` signs for `bench/coldstart.py`, with the crate's
//! own [`sign_hex`]: each line of stdin is a body as a JSON string, each line
//! of stdout its signature.

use gu1_webhook::decide;
use gu1_webhook::local::sign_hex;
use gu1_webhook::parse::{Delivery, parse_delivery};
use gu1_webhook::verify::Verifier;
use std::hint::black_box;
use std::time::{Duration, Instant};

const SECRET: &str = "bench-secret-0123456789abcdef";
const INPUTS: [(&str, &str); 2] = [
    ("approved", "approved.json"),
    ("large_64k", "large-64k.json"),
];

fn work(verifier: &Verifier, body: &[u8], header: &[u8]) -> usize {
    if verifier.verify(body, [header]).is_err() {
        panic!("signature refused");
    }
    let Ok(Delivery::Session(event)) = parse_delivery(body) else {
        panic!("not a session event");
    };
    decide::verdict(None, event.status) as usize + event.session_id.as_str().len()
}

fn time_batch(verifier: &Verifier, body: &[u8], header: &[u8], iters: u64) -> Duration {
    let started = Instant::now();
    let mut sink = 0usize;
    for _ in 0..iters {
        sink = sink.wrapping_add(work(verifier, black_box(body), black_box(header)));
    }
    black_box(sink);
    started.elapsed()
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let rank = p * (sorted.len() - 1) as f64;
    let (lo, hi) = (rank.floor() as usize, rank.ceil() as usize);
    sorted[lo] + (sorted[hi] - sorted[lo]) * (rank - lo as f64)
}

fn main() {
    if std::env::args().nth(1).as_deref() == Some("sign") {
        let secret = std::env::args().nth(2).expect("bench_work sign SECRET");
        for line in std::io::stdin().lines() {
            let body: String = serde_json::from_str(&line.expect("stdin")).expect("a JSON string");
            println!("{}", sign_hex(secret.as_bytes(), body.as_bytes()));
        }
        return;
    }
    let mut inputs = String::from("bench/inputs");
    let mut batches: usize = 30;
    let mut min_batch_ms: u64 = 20;
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args
            .next()
            .unwrap_or_else(|| panic!("{flag} needs a value"));
        match flag.as_str() {
            "--inputs" => inputs = value,
            "--batches" => batches = value.parse().expect("--batches N"),
            "--min-batch-ms" => min_batch_ms = value.parse().expect("--min-batch-ms N"),
            _ => panic!("unknown option {flag}"),
        }
    }
    let verifier = Verifier::new([SECRET]).expect("secret");
    let mut results = serde_json::Map::new();
    for (name, file) in INPUTS {
        let body = std::fs::read(format!("{inputs}/{file}")).expect("input file");
        let header = sign_hex(SECRET.as_bytes(), &body);
        let header = header.as_bytes();
        // Warm-up, then calibrate the batch length.
        let warm_until = Instant::now() + Duration::from_millis(200);
        while Instant::now() < warm_until {
            time_batch(&verifier, &body, header, 100);
        }
        let mut iters = 1u64;
        while time_batch(&verifier, &body, header, iters) < Duration::from_millis(min_batch_ms) {
            iters *= 2;
        }
        let mut per_iter: Vec<f64> = (0..batches)
            .map(|_| time_batch(&verifier, &body, header, iters).as_nanos() as f64 / iters as f64)
            .collect();
        per_iter.sort_by(f64::total_cmp);
        results.insert(
            name.into(),
            serde_json::json!({
                "bytes": body.len(),
                "median_ns": percentile(&per_iter, 0.5),
                "p10_ns": percentile(&per_iter, 0.1),
                "p90_ns": percentile(&per_iter, 0.9),
                "min_ns": per_iter[0],
                "max_ns": per_iter[per_iter.len() - 1],
                "batches": batches,
                "iters_per_batch": iters,
            }),
        );
    }
    let out = serde_json::json!({
        "language": "rust",
        "runtime": format!("gu1-webhook {} (release)", env!("CARGO_PKG_VERSION")),
        "work": "verify_hex_parse_decide",
        "results": results,
    });
    println!("{out}");
}
