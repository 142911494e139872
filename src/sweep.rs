//! The sweeper: publishes terminal outcomes that no delivery managed to
//! publish (SQS was down, or the process died between the write and the send).
//!
//! It reads only the sparse [`crate::store::UNPUBLISHED_INDEX`], never the
//! table, and publishes each outcome through the same lease protocol as a
//! delivery ([`Outbox::claim_and_publish`]), so a sweeper racing a
//! redelivery or another sweeper never sends twice.

use crate::clock::{millis, now_ms};
use crate::limits::{DELIVERY_DEADLINE, SWEEP_MAX_PAGES};
use crate::outbox::{Outbox, PublishError, Published};
use crate::session::WriteToken;
use crate::store::StoreError;
use serde::Serialize;
use std::time::Duration;

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
    outbox: Outbox,
    grace: Duration,
    page_size: i32,
}

impl Sweeper {
    pub fn new(outbox: Outbox, grace: Duration, page_size: i32) -> Self {
        Self {
            outbox,
            grace,
            page_size,
        }
    }

    /// One run: publishes every outcome unpublished for longer than the
    /// grace period, at most [`SWEEP_MAX_PAGES`] pages of them.
    pub async fn run(&self) -> Result<SweepReport, StoreError> {
        let cutoff = now_ms().saturating_sub(millis(self.grace));
        let mut report = SweepReport::default();
        let mut start = None;
        for _ in 0..SWEEP_MAX_PAGES {
            let page = self
                .outbox
                .store()
                .unpublished(cutoff, self.page_size, start)
                .await?;
            for session in &page.sessions {
                let writer = WriteToken::unique();
                // Bounded like a delivery, so that the lease outlasts it.
                let claimed = tokio::time::timeout(
                    DELIVERY_DEADLINE,
                    self.outbox.claim_and_publish(session, &writer),
                )
                .await
                .unwrap_or(Err(PublishError::Timeout));
                match claimed {
                    Ok(Published::Sent) => report.published += 1,
                    Ok(Published::NotOurs) => report.skipped += 1,
                    Err(err) => {
                        report.failed += 1;
                        self.outbox.give_back(session, &writer).await;
                        tracing::warn!(session_id = %session, error = %crate::error_chain(&err), "sweeper could not publish");
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
}
