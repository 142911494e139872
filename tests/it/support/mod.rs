//! Spawn-the-app test support: one moto server per test binary (started on a
//! free loopback port, stopped when the binary exits), and per test a fresh
//! table, a fresh queue and the receiver served over real HTTP with the real
//! SDK clients.
//!
//! | module | what it holds |
//! |---|---|
//! | `moto` | the moto server and the SDK configuration that reaches it |
//! | `endpoints` | loopback endpoints: a free port, one that is down, one that hangs |
//! | `stack` | a test's own table and queue ([`Stack`]), and reading items |
//! | `app` | the receiver in process ([`TestApp`]), counting its AWS calls |
//! | `client` | an HTTP client speaking as Gu1 ([`WebhookClient`]) |
//! | `seed` | the example events of Gu1's page |
//! | `binary` | the real binary: its environment, `serve`, `reconcile` |
//! | `gu1` | a fake of Gu1's REST API |
//! | `proxy` | a proxy in front of moto that fails one service at a time |
#![allow(dead_code)]

mod app;
pub mod binary;
mod client;
mod endpoints;
pub mod gu1;
mod moto;
pub mod proxy;
pub mod runtime_api;
pub mod seed;
mod stack;

pub use app::{Options, TestApp};
pub use client::{Answer, WebhookClient};
pub use endpoints::{closed, free_port, hang};
pub use gu1_webhook::local::patient;
pub use moto::{Moto, moto, sdk};
pub use serde_json::{Value, json};
pub use stack::{Item, Stack, number, text};

use std::sync::atomic::{AtomicU64, Ordering};

/// The secrets every test app accepts; deliveries are signed with the first.
pub const SECRET: &str = "test-secret-one";
pub const SECOND_SECRET: &str = "test-secret-two";

/// A small deterministic shuffle (xorshift), so a failure replays exactly.
pub fn shuffle<T>(items: &mut [T], mut seed: u64) {
    for i in (1..items.len()).rev() {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        items.swap(i, (seed % (i as u64 + 1)) as usize);
    }
}

/// The committed `events/` files (API Gateway events), in file-name order.
pub fn event_files() -> Vec<std::path::PathBuf> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("events");
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .expect("events/")
        .map(|entry| entry.expect("an entry").path())
        .filter(|path| path.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    files
}

/// A unique name per call, so tests sharing a moto server never collide.
pub fn unique(prefix: &str) -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    format!(
        "{prefix}-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}
