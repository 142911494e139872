//! Property tests of the pure steps: the decision rules (`decide`) replayed
//! over any delivery order, the signature check (`verify`) and the envelope
//! parser (`parse`). No I/O; fixed seeds, so a run is reproducible.

mod decide;
mod parse;
mod verify;

use proptest::test_runner::{Config, RngSeed};

/// `cases` cases from a fixed seed, no regression files.
fn config(cases: u32, seed: u64) -> Config {
    Config {
        cases,
        rng_seed: RngSeed::Fixed(seed),
        failure_persistence: None,
        ..Config::default()
    }
}
