//! The CPU work of one delivery, without the network: verify → parse →
//! decide → build the `UpdateItem` → (terminal) build the SQS message.
//!
//! Inputs are `bench/inputs/approved.json` (Gu1's approved example, byte for
//! byte) and `bench/inputs/large-64k.json` (the same envelope with a 64 KiB
//! `decision`); BENCHMARKS.md says how they were made.
//!
//! Full run:   cargo bench --bench delivery
//! Smoke run:  cargo bench --bench delivery -- --quick
//!         or  DELIVERY_BENCH_SMOKE=1 cargo bench --bench delivery
//!             (10 samples, 0.1 s warm-up, 0.3 s measurement per benchmark)
//! `scripts/bench` runs it and reads the medians from
//! `$CARGO_TARGET_DIR/criterion/*/*/new/estimates.json`.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use gu1_webhook::decide;
use gu1_webhook::local::record_after_apply;
use gu1_webhook::local::sign_hex;
use gu1_webhook::parse::{Delivery, parse_delivery};
use gu1_webhook::publish;
use gu1_webhook::session::WriteToken;
use gu1_webhook::store;
use gu1_webhook::verify::Verifier;
use std::hint::black_box;
use std::time::Duration;

const APPROVED: &[u8] = include_bytes!("../bench/inputs/approved.json");
const LARGE: &[u8] = include_bytes!("../bench/inputs/large-64k.json");

/// The secret that signs every body; with 3 secrets it is configured last,
/// so that the verifier has to try the two others first.
const SECRET: &str = "bench-secret-0123456789abcdef";
const OTHER_SECRETS: [&str; 2] = ["old-secret-aaaaaaaaaaaaaaaa", "kyc-secret-bbbbbbbbbbbbbbbb"];
/// A fixed clock, so that every iteration does the same work.
const NOW_MS: u64 = 1_781_190_600_000;
const LEASE_MS: u64 = 30_000;

fn verifier(secrets: usize) -> Verifier {
    let list: Vec<&str> = OTHER_SECRETS
        .iter()
        .copied()
        .take(secrets - 1)
        .chain([SECRET])
        .collect();
    let v = Verifier::new(list).expect("secrets");
    assert_eq!(v.secret_count(), secrets);
    v
}

/// Everything the handler computes for one delivery, except I/O. Returns a
/// number that depends on all of it, so that nothing is optimised away.
fn delivery_work(verifier: &Verifier, body: &[u8], header: &[u8]) -> usize {
    verifier.verify(body, [header]).expect("signature");
    let Ok(Delivery::Session(event)) = parse_delivery(body) else {
        panic!("not a session event");
    };
    // A new session: the conditional write applies.
    let verdict = decide::verdict(None, event.status);
    let writer = WriteToken::unique();
    let update = store::apply_update(
        &event,
        Some("wh-bench-1"),
        &writer,
        (NOW_MS, NOW_MS + LEASE_MS),
        None,
    );
    let mut out = update.expression().len() + verdict.as_str().len();
    let record = record_after_apply(&event, &writer, NOW_MS + LEASE_MS);
    if decide::outcome_duty(&record, &writer, NOW_MS) == decide::OutcomeDuty::Publish {
        let message = publish::outcome(&record).expect("terminal");
        let json = serde_json::to_string(&message).expect("message");
        out += json.len() + message.deduplication_id().len() + message.group_id().len();
    }
    out
}

/// The same subset of the work as `bench/compare.py` and `bench/compare.js`:
/// verify a hex signature, parse, read the status, decide.
fn compare_work(verifier: &Verifier, body: &[u8], header: &[u8]) -> usize {
    verifier.verify(body, [header]).expect("signature");
    let Ok(Delivery::Session(event)) = parse_delivery(body) else {
        panic!("not a session event");
    };
    decide::verdict(None, event.status) as usize + event.session_id.as_str().len()
}

fn inputs() -> [(&'static str, &'static [u8]); 2] {
    [("approved", APPROVED), ("large_64k", LARGE)]
}

fn per_delivery(c: &mut Criterion) {
    let mut group = c.benchmark_group("delivery");
    for (name, body) in inputs() {
        let header = sign_hex(SECRET.as_bytes(), body);
        group.throughput(Throughput::Bytes(body.len() as u64));
        for secrets in [1, 3] {
            let v = verifier(secrets);
            assert!(delivery_work(&v, body, header.as_bytes()) > 0);
            group.bench_with_input(
                BenchmarkId::new(name, format!("{secrets}_secrets")),
                &(v, header.as_bytes()),
                |b, (v, header)| b.iter(|| delivery_work(v, black_box(body), black_box(header))),
            );
        }
    }
    group.finish();
}

fn compare_subset(c: &mut Criterion) {
    let mut group = c.benchmark_group("compare");
    let v = verifier(1);
    for (name, body) in inputs() {
        let header = sign_hex(SECRET.as_bytes(), body);
        group.throughput(Throughput::Bytes(body.len() as u64));
        group.bench_function(BenchmarkId::new("verify_parse_decide", name), |b| {
            b.iter(|| compare_work(&v, black_box(body), black_box(header.as_bytes())))
        });
    }
    group.finish();
}

/// Each step alone on the approved body, one secret: where the time goes.
fn steps(c: &mut Criterion) {
    let mut group = c.benchmark_group("steps");
    let v = verifier(1);
    let body = APPROVED;
    let header = sign_hex(SECRET.as_bytes(), body);
    let Ok(Delivery::Session(event)) = parse_delivery(body) else {
        panic!("not a session event");
    };
    let writer = WriteToken::unique();
    let record = record_after_apply(&event, &writer, NOW_MS + LEASE_MS);
    group.bench_function("verify", |b| {
        b.iter(|| v.verify(black_box(body), [black_box(header.as_bytes())]))
    });
    group.bench_function("parse", |b| b.iter(|| parse_delivery(black_box(body))));
    group.bench_function("decide", |b| {
        b.iter(|| {
            let verdict = decide::verdict(black_box(None), black_box(event.status));
            (
                verdict,
                decide::outcome_duty(black_box(&record), &writer, NOW_MS),
            )
        })
    });
    group.bench_function("apply_update", |b| {
        b.iter(|| {
            store::apply_update(
                black_box(&event),
                Some("wh-bench-1"),
                &writer,
                (NOW_MS, NOW_MS + LEASE_MS),
                None,
            )
            .expression()
        })
    });
    group.bench_function("outcome_message", |b| {
        b.iter(|| {
            let record = record_after_apply(black_box(&event), &writer, NOW_MS + LEASE_MS);
            let message = publish::outcome(&record).expect("terminal");
            serde_json::to_string(&message).expect("message")
        })
    });
    group.finish();
}

/// Verification cost by header form: every form decodes to the same 32 bytes
/// once, so the cost must not depend on which form Gu1 uses.
fn header_forms(c: &mut Criterion) {
    let mut group = c.benchmark_group("verify_header_form");
    let v = verifier(1);
    let body = APPROVED;
    let hex = sign_hex(SECRET.as_bytes(), body);
    let tag: Vec<u8> = (0..32)
        .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap())
        .collect();
    let forms = [
        ("hex", hex.clone()),
        ("hex_upper", hex.to_uppercase()),
        ("sha256_hex", format!("sha256={hex}")),
        ("base64", STANDARD.encode(&tag)),
        ("base64_nopad", STANDARD_NO_PAD.encode(&tag)),
    ];
    for (name, header) in &forms {
        assert_eq!(v.verify(body, [header.as_bytes()]), Ok(()), "{name}");
        group.bench_with_input(BenchmarkId::from_parameter(name), header, |b, header| {
            b.iter(|| v.verify(black_box(body), [black_box(header.as_bytes())]))
        });
    }
    group.finish();
}

/// The per-delivery work again, measured in thread CPU time instead of wall
/// time (see [`cpu_time`]): the figure the 10 µs bar is checked against.
fn per_delivery_cpu(c: &mut Criterion<cpu_time::CpuTime>) {
    let mut group = c.benchmark_group("delivery_cpu");
    for (name, body) in inputs() {
        let header = sign_hex(SECRET.as_bytes(), body);
        for secrets in [1, 3] {
            let v = verifier(secrets);
            group.bench_with_input(
                BenchmarkId::new(name, format!("{secrets}_secrets")),
                &(v, header.as_bytes()),
                |b, (v, header)| b.iter(|| delivery_work(v, black_box(body), black_box(header))),
            );
        }
    }
    group.finish();
}

/// Full runs: 50 samples, 1 s warm-up, 2 s measurement per benchmark (about
/// 50 s in all). `DELIVERY_BENCH_SMOKE=1` shrinks that for CI; command-line
/// flags (`--quick`, `--sample-size`, ...) still win.
fn config() -> Criterion {
    settings(Criterion::default())
}

fn cpu_config() -> Criterion<cpu_time::CpuTime> {
    settings(Criterion::default().with_measurement(cpu_time::CpuTime))
}

fn settings<M: criterion::measurement::Measurement>(c: Criterion<M>) -> Criterion<M> {
    let smoke = std::env::var_os("DELIVERY_BENCH_SMOKE").is_some_and(|v| v != "0");
    let c = if smoke {
        c.sample_size(10)
            .warm_up_time(Duration::from_millis(100))
            .measurement_time(Duration::from_millis(300))
    } else {
        c.sample_size(50)
            .warm_up_time(Duration::from_secs(1))
            .measurement_time(Duration::from_secs(2))
    };
    c.without_plots()
}

criterion_group! {
    name = benches;
    config = config();
    targets = per_delivery, compare_subset, steps, header_forms
}
criterion_group! {
    name = cpu_benches;
    config = cpu_config();
    targets = per_delivery_cpu
}
criterion_main!(benches, cpu_benches);

/// Thread CPU time (`CLOCK_THREAD_CPUTIME_ID`) as a criterion measurement:
/// what one delivery costs in CPU, whatever else the machine is running.
/// Wall-clock medians of a shared 2-core machine swell with its load; this
/// one does not (a preempted thread does not accumulate CPU time).
mod cpu_time {
    use criterion::Throughput;
    use criterion::measurement::{Measurement, ValueFormatter};

    fn now_ns() -> u64 {
        let mut ts = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: `ts` is a valid, writable timespec; the clock id is valid on Linux.
        let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
        assert_eq!(rc, 0, "clock_gettime(CLOCK_THREAD_CPUTIME_ID)");
        ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
    }

    pub struct CpuTime;

    impl Measurement for CpuTime {
        type Intermediate = u64;
        type Value = u64;
        fn start(&self) -> u64 {
            now_ns()
        }
        fn end(&self, started: u64) -> u64 {
            now_ns().saturating_sub(started)
        }
        fn add(&self, a: &u64, b: &u64) -> u64 {
            a + b
        }
        fn zero(&self) -> u64 {
            0
        }
        fn to_f64(&self, value: &u64) -> f64 {
            *value as f64
        }
        fn formatter(&self) -> &dyn ValueFormatter {
            &Nanos
        }
    }

    struct Nanos;

    impl ValueFormatter for Nanos {
        fn scale_values(&self, typical: f64, values: &mut [f64]) -> &'static str {
            let (factor, unit) = if typical < 1e3 {
                (1.0, "ns (cpu)")
            } else if typical < 1e6 {
                (1e-3, "µs (cpu)")
            } else {
                (1e-6, "ms (cpu)")
            };
            values.iter_mut().for_each(|v| *v *= factor);
            unit
        }
        fn scale_throughputs(
            &self,
            _typical: f64,
            throughput: &Throughput,
            values: &mut [f64],
        ) -> &'static str {
            match throughput {
                Throughput::Bytes(bytes) | Throughput::BytesDecimal(bytes) => {
                    values
                        .iter_mut()
                        .for_each(|v| *v = *bytes as f64 * 1e3 / *v);
                    "MB/s (cpu)"
                }
                _ => {
                    values.iter_mut().for_each(|v| *v = 1e9 / *v);
                    "elem/s (cpu)"
                }
            }
        }
        fn scale_for_machines(&self, _values: &mut [f64]) -> &'static str {
            "ns"
        }
    }
}
