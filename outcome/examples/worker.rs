//! An onboarding worker: an SQS-triggered Lambda function on the outcomes
//! queue, built on `gu1_outcome::batch::run` (FIFO order per person, partial
//! batch failures), idempotent on `session_id` since SQS delivers at least
//! once. It keeps the sessions it handled in memory; a real worker keeps
//! them with its work, say a conditional write keyed by the session id.
use gu1_outcome::{Outcome, Status, batch};
use std::collections::HashSet;
use std::sync::{LazyLock, Mutex};

static DONE: LazyLock<Mutex<HashSet<String>>> = LazyLock::new(Default::default);

async fn onboard(outcome: Outcome) -> Result<(), String> {
    if DONE.lock().unwrap().contains(&outcome.session_id) {
        return Ok(()); // a copy of an outcome already handled
    }
    match outcome.status {
        Status::Approved => { /* open the account of outcome.external_id */ }
        _ => { /* ask for another try, or close the case */ }
    }
    // Returning Err instead: this record and the rest of its group come back.
    DONE.lock().unwrap().insert(outcome.session_id);
    Ok(())
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    batch::run(onboard).await
}
