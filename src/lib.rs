//! Receiver for Gu1's biometric-session webhooks, built to run as an AWS
//! Lambda behind API Gateway.
//!
//! The domain is one module, [`session`]: a session's id, status, identity,
//! fields, the event that brings them and the record the table keeps. A
//! delivery then takes one path, one module per step:
//!
//! 1. [`verify`]: HMAC-SHA256 of the raw body against every configured secret;
//! 2. [`parse`]: the envelope into a [`session::SessionEvent`], once;
//! 3. [`decide`]: the pure rules: statuses only move up, identity is
//!    write-once, who publishes;
//! 4. [`store`]: one conditional DynamoDB write enforces those rules;
//! 5. [`publish`]: the outcome message (and a reversal's review notice),
//!    and the SQS queues they go to;
//! 6. [`respond`]: the HTTP answer, never `2xx` before the state is durable.
//!
//! [`delivery`] strings the steps together; [`outbox`] is steps 4 and 5 as
//! one protocol (the publish lease that makes an outcome go out once), which
//! every writer uses. [`serve`] (local HTTP) and the Lambda runtime (in
//! `main.rs`) are two transports for the same handler. Steps 1 to 3 are free
//! of AWS types and I/O.
//!
//! Two more commands share that protocol: the [`sweep`]er publishes outcomes
//! that a failure left pending, and [`reconcile`] reads what Gu1 never
//! delivered from its API ([`gu1_api`]) and applies it as a delivery would.
//!
//! Around them: [`cli`] parses the command line, [`config`] reads each
//! command's configuration once and builds the AWS clients, [`limits`]
//! holds every limit and timeout, [`app`] builds each command from them
//! (for `main` and the tests alike; in Lambda it also opens the receiver's
//! connections during INIT),
//! [`secrets`] keeps the webhook secrets (and re-reads them on rotation),
//! [`clock`] is the one clock, [`logs`] the JSON log lines (with the keys
//! Powertools users search by), [`metrics`] are EMF log lines. `local`
//! (feature `test-util`) holds the demo's and the tests' helpers.

pub mod app;
pub mod cli;
pub mod clock;
pub mod config;
pub mod decide;
pub mod delivery;
pub mod gu1_api;
pub mod limits;
#[cfg(any(test, feature = "test-util"))]
pub mod local;
pub mod logs;
pub mod metrics;
pub mod operate;
pub mod outbox;
pub mod parse;
pub mod publish;
pub mod reconcile;
pub mod respond;
pub mod secrets;
pub mod serve;
pub mod session;
pub mod store;
pub mod sweep;
pub mod verify;

pub use delivery::Receiver;

/// An error and its causes on one line (an SDK error's context included),
/// for logs and reports.
pub fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
