//! Receiver for Gu1's biometric-session webhooks, built to run as an AWS
//! Lambda behind API Gateway.
//!
//! A delivery takes one path, one module per step:
//!
//! 1. [`verify`]: HMAC-SHA256 of the raw body against every configured secret;
//! 2. [`parse`]: the envelope into domain types ([`parse::SessionEvent`]);
//! 3. [`decide`]: the pure rules: statuses only move up, who publishes;
//! 4. [`store`]: one conditional DynamoDB write enforces those rules;
//! 5. [`publish`]: a terminal outcome goes to SQS, once per session;
//! 6. [`respond`]: the HTTP answer, never `2xx` before the state is durable.
//!
//! [`delivery`] strings the steps together; [`serve`] (local HTTP) and the
//! Lambda runtime (in `main.rs`) are two transports for the same handler.
//! [`sweep`] publishes outcomes that a failure left pending. Steps 1 to 3 are
//! free of AWS types and I/O. [`config`] is read once at start-up,
//! [`secrets`] keeps the webhook secrets (and re-reads them on rotation), [`metrics`]
//! are EMF log lines, and [`local`] creates the table and queue on a local
//! emulator for the demo and the tests.

pub mod config;
pub mod decide;
pub mod delivery;
#[cfg(feature = "test-faults")]
pub mod faults;
pub mod local;
pub mod metrics;
pub mod parse;
pub mod publish;
pub mod respond;
pub mod secrets;
pub mod serve;
pub mod store;
pub mod sweep;
pub mod verify;

pub use delivery::Receiver;
