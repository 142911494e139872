//! The sweeper: publishes terminal outcomes that no delivery managed to
//! publish (SQS was down, or the process died between the write and the send).
//!
//! It reads only the sparse [`crate::store::UNPUBLISHED_INDEX`], never the
//! table, and publishes each outcome through the same lease protocol as a
//! delivery ([`Publisher::claim_and_publish`]), so a sweeper racing a
//! redelivery or another sweeper never sends twice.

use crate::clock::{millis, now_ms};
use crate::config::DELIVERY_DEADLINE;
use crate::publish::{PublishError, Published, Publisher};
use crate::session::WriteToken;
use crate::store::StoreError;
use serde::Serialize;
use std::time::Duration;

/// At most this many pages per run, so that one run ends in bounded time.
pub const MAX_PAGES: usize = 40;

/// What one sweep did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct SweepReport {
    /// Outcomes this run put on the queue.
    pub published: u64,
    /// Outcomes another publisher held or had already published.
    pub skipped: u64,
    /// Outcomes whose publication failed; they stay pending for the next run.
    pub failed: u64,
}

/// The sweeper command, built once ([`crate::app::sweeper`]) and run on
/// each schedule.
#[derive(Debug, Clone)]
pub struct Sweeper {
    publisher: Publisher,
    grace: Duration,
    page_size: i32,
}

impl Sweeper {
    pub fn new(publisher: Publisher, grace: Duration, page_size: i32) -> Self {
        Self {
            publisher,
            grace,
            page_size,
        }
    }

    /// One run: see [`sweep`].
    pub async fn run(&self) -> Result<SweepReport, StoreError> {
        sweep(&self.publisher, self.grace, self.page_size).await
    }
}

/// Publishes every outcome unpublished for longer than `grace`.
pub async fn sweep(
    publisher: &Publisher,
    grace: Duration,
    page_size: i32,
) -> Result<SweepReport, StoreError> {
    let cutoff = now_ms().saturating_sub(millis(grace));
    let mut report = SweepReport::default();
    let mut start = None;
    for _ in 0..MAX_PAGES {
        let page = publisher
            .store()
            .unpublished(cutoff, page_size, start)
            .await?;
        for session in &page.sessions {
            let writer = WriteToken::random();
            // Bounded like a delivery, so that the lease outlasts it.
            let claimed = tokio::time::timeout(
                DELIVERY_DEADLINE,
                publisher.claim_and_publish(session, &writer),
            )
            .await
            .unwrap_or(Err(PublishError::Timeout));
            match claimed {
                Ok(Published::Sent) => report.published += 1,
                Ok(Published::NotOurs) => report.skipped += 1,
                Err(err) => {
                    report.failed += 1;
                    tracing::warn!(session_id = %session, error = %err, "sweeper could not publish");
                }
            }
        }
        start = page.next;
        if start.is_none() {
            break;
        }
    }
    crate::metrics::sweep_found(report.published + report.failed);
    tracing::info!(
        published = report.published,
        skipped = report.skipped,
        failed = report.failed,
        "sweep"
    );
    Ok(report)
}
